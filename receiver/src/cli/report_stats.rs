//! `picket stats --reports`: the abuse desk's monthly table, from the `notices` records: per
//! month, notices sent, repeat notices, automated answers, personal answers, bounces, and
//! notices with no answer; then the contacts that never answered a person's word.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::client::text;
use super::incidents::Origin;
use super::report::Backend;
use crate::error::Error;

#[derive(Default)]
struct Month {
    sent: u64,
    repeats: u64,
    automated: u64,
    personal: u64,
    bounces: u64,
    unanswered: u64,
}

/// Runs `picket stats --reports`.
pub fn run(data: &Path, origin: &Origin) -> Result<bool, Error> {
    let backend = Backend::open(data, origin, None, Default::default())?;
    let mut req = Map::new();
    req.insert("op".into(), "notices".into());
    let notices = backend.ask_ok(&req)?;
    let mut months: BTreeMap<String, Month> = BTreeMap::new();
    // Contact -> (notices sent, answered by a person).
    let mut contacts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for n in notices.iter().filter(|n| n["state"] == "sent") {
        let at = n["done_ns"]
            .as_u64()
            .or(n["intent_ns"].as_u64())
            .unwrap_or(0);
        let m = months
            .entry(picket_notice::month(i64::try_from(at).unwrap_or(0)))
            .or_default();
        m.sent += 1;
        if n["ordinal"].as_u64().unwrap_or(1) > 1 {
            m.repeats += 1;
        }
        let replies = n["followups"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let has = |k: &str| replies.iter().any(|f| f["kind"] == k);
        if has("automated") {
            m.automated += 1;
        }
        if has("person") {
            m.personal += 1;
        }
        if has("bounce") {
            m.bounces += 1;
        }
        if replies.is_empty() {
            m.unanswered += 1;
        }
        let c = contacts
            .entry(text(&n["contact"]).to_ascii_lowercase())
            .or_default();
        c.0 += 1;
        if has("person") {
            c.1 += 1;
        }
    }
    let silent: Vec<(&String, u64)> = contacts
        .iter()
        .filter(|(_, (_, answered))| *answered == 0)
        .map(|(c, (sent, _))| (c, *sent))
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let r = if origin.json || !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        (|| {
            for (month, m) in &months {
                writeln!(
                    out,
                    "{}",
                    json!({"month": month, "sent": m.sent, "repeat": m.repeats,
                           "automated": m.automated, "personal": m.personal,
                           "bounces": m.bounces, "no_answer": m.unanswered})
                )?;
            }
            let list: Vec<Value> = silent
                .iter()
                .map(
                    |(c, n)| json!({"contact": crate::text::safe_text(c.as_bytes()), "notices": n}),
                )
                .collect();
            writeln!(out, "{}", json!({"never_answered": list}))?;
            writeln!(out, "{}", json!({"end": true, "count": months.len()}))
        })()
    } else {
        (|| {
            writeln!(
                out,
                "{:<8} {:>6} {:>7} {:>10} {:>9} {:>8} {:>10}",
                "MONTH", "SENT", "REPEAT", "AUTOMATED", "PERSONAL", "BOUNCED", "NO ANSWER"
            )?;
            for (month, m) in &months {
                writeln!(
                    out,
                    "{month:<8} {:>6} {:>7} {:>10} {:>9} {:>8} {:>10}",
                    m.sent, m.repeats, m.automated, m.personal, m.bounces, m.unanswered
                )?;
            }
            if !silent.is_empty() {
                writeln!(out, "\ncontacts that never answered (a person):")?;
                for (c, n) in &silent {
                    writeln!(
                        out,
                        "  {:<40} {n} notices",
                        crate::text::safe_text(c.as_bytes())
                    )?;
                }
            }
            Ok(())
        })()
    };
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Error::Stdout(e)),
    }
}
