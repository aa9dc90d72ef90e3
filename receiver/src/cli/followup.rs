//! `picket followup < message.eml`: files an abuse desk's reply under the notice it answers
//! (by `In-Reply-To`/`References`, the `Message-ID` recorded when the notice went out, else
//! the report id in the subject; for a bounce, the returned message's own id) and says what
//! it is: a bounce (RFC 3464), an automated answer (RFC 3834, ticket systems), or a person's.
//! The reply then shows in the candidate's history (`picket incidents --show IP`).

use std::io::{Read, Write};
use std::path::Path;

use clap::Args;
use serde_json::{Map, Value, json};

use super::client::text;
use super::incidents::{Origin, Reply};
use super::report::Backend;
use crate::error::Error;

/// Examples for `picket followup --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket followup < reply.eml
  formail -s picket followup < abuse-replies.mbox     (one message at a time)
  # in ~/.procmailrc or a .forward:  | picket --data /var/lib/picket followup
Exit status: 0 when filed (or filed before), 1 when it answers no notice of ours.";

/// Options of `picket followup`.
#[derive(Debug, Args)]
pub struct FollowupArgs {
    /// Where the store is.
    #[command(flatten)]
    pub origin: Origin,
}

/// Most bytes read of one message.
const MAX_MESSAGE: u64 = 10 << 20;

/// Runs `picket followup`.
pub fn run(
    data: &Path,
    args: &FollowupArgs,
    sensor: Option<picket_sensor::SensorConfig>,
) -> Result<bool, Error> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_MESSAGE)
        .read_to_end(&mut raw)
        .map_err(Error::Stdin)?;
    let reply = picket_notice::read_reply(&raw);
    let backend = Backend::open(data, &args.origin, sensor, Default::default())?;
    let mut req = Map::new();
    req.insert("op".into(), "notices".into());
    let notices = backend.ask_ok(&req)?;
    let by_id = |id: &str| {
        notices
            .iter()
            .find(|n| text(&n["message_id"]).eq_ignore_ascii_case(id))
    };
    let notice = reply.refers_to.iter().find_map(|id| by_id(id)).or_else(|| {
        reply
            .report_id
            .as_ref()
            .and_then(|r| notices.iter().find(|n| text(&n["report_id"]) == *r))
    });
    let Some(notice) = notice else {
        eprintln!(
            "picket: this message answers no notice of ours (no known Message-ID in In-Reply-To or References, no PKT-… report id in the subject); from {}, subject {}",
            crate::text::safe_text(reply.from.as_bytes()),
            crate::text::safe_text(reply.subject.as_bytes())
        );
        return Ok(false);
    };
    let detail = match &reply.kind {
        picket_notice::Kind::Bounce {
            action,
            status,
            recipient,
        } => [action, status, recipient]
            .iter()
            .filter_map(|v| v.as_deref())
            .collect::<Vec<_>>()
            .join(" "),
        picket_notice::Kind::Automated { why } => why.clone(),
        picket_notice::Kind::Person => String::new(),
    };
    let record = json!({
        "report_id": notice["report_id"],
        "source": notice["source"],
        "at_ns": crate::clock::now_ns(),
        "date_ns": reply.date.and_then(|d| u64::try_from(d).ok()),
        "kind": reply.kind.as_str(),
        "detail": crate::text::safe_text(detail.as_bytes()),
        "from": crate::text::safe_text(reply.from.as_bytes()),
        "subject": crate::text::safe_text(reply.subject.as_bytes()),
        "message_id": reply.message_id.as_deref().map(|m| crate::text::safe_text(m.as_bytes())),
        "digest": reply.digest,
        "who": "",
    });
    let mut req = Map::new();
    req.insert("op".into(), "followup".into());
    req.insert("record".into(), record);
    let filed = match backend.ask(&req)? {
        Reply::Lines(items, _) => items.into_iter().next().unwrap_or(Value::Null),
        Reply::Error(code, message) => {
            super::incidents::report_error(&code, &message);
            return Ok(false);
        }
    };
    let line = format!(
        "{} {} under {} ({}){}",
        if filed.get("duplicate") == Some(&Value::Bool(true)) {
            "already filed:"
        } else {
            "filed"
        },
        reply.kind.as_str(),
        text(&notice["report_id"]),
        text(&notice["source"]),
        if detail.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::text::safe_text(detail.as_bytes()))
        }
    );
    let _ = writeln!(std::io::stdout().lock(), "{line}");
    Ok(true)
}
