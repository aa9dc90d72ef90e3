//! The one message type from listener to writer to live subscribers: the bytes a sender
//! framed and when they arrived. Cloning it shares the bytes.

/// One message as received, before parsing.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message bytes (framing and trailing LF/CR/NUL removed).
    pub bytes: bytes::Bytes,
    /// Receive time, Unix nanoseconds.
    pub received_ns: u64,
}
