//! The error reply every op can give: a stable code and a message for people, sent as one
//! JSON line (docs/protocol.md lists the codes).

/// An error reply: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError {
    /// Stable, machine-readable code.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

impl ReplyError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> ReplyError {
        ReplyError {
            code,
            message: message.into(),
        }
    }

    /// The reply line (with its newline).
    pub fn to_line(&self) -> Vec<u8> {
        let v = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut out = serde_json::to_vec(&v).unwrap_or_default();
        out.push(b'\n');
        out
    }
}
