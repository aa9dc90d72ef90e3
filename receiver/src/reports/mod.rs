//! Abuse notices on the receiver's side: the records kept in the store's `notices` tree (a
//! notice's intent before its DATA, its confirmation after the relay's 250, the replies filed
//! under it), the one function that applies a record to a store (the writer calls it while
//! serve runs, the clients with `--data` while it is stopped), the SMTP client, and
//! `[report]`.
//!
//! Why a notice is never sent twice: the record of the intent is written and flushed before
//! the DATA command, and its key is the report id, which the candidate and the notice number
//! fix. A second run finds the record and does not send. A record that stays `intent` (picket
//! died, or the connection broke, between DATA and the relay's answer) may or may not have
//! reached the relay; it is reported as unconfirmed and never sent again unless the operator
//! says so (`picket report IP --send --resend`), because a duplicate notice costs the
//! sender's reputation with the abuse desk, and a missing one is visible and fixable.

pub mod config;
pub mod smtp;

use picket_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::query::protocol::ReplyError;

/// A notice as the store keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NoticeRecord {
    /// `PKT-…`.
    pub report_id: String,
    /// The `Message-ID`, without brackets.
    pub message_id: String,
    /// The candidate's source.
    pub source: String,
    /// To whom.
    pub contact: String,
    /// 1 for the first notice about the source, 2 for the second, …
    pub ordinal: u32,
    /// `intent` (recorded before DATA), `sent` (the relay said 250), `failed` (the relay
    /// refused the message).
    pub state: String,
    /// When the intent was recorded, Unix ns.
    pub intent_ns: u64,
    /// When the relay accepted (or refused) it.
    #[serde(default)]
    pub done_ns: Option<u64>,
    /// The relay's last answer.
    #[serde(default)]
    pub smtp_reply: Option<String>,
    /// The subject.
    pub subject: String,
    /// Who sent it (the OS user).
    #[serde(default)]
    pub who: String,
    /// Set on an intent that replaces an unconfirmed or failed one, by the operator's word.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resend: bool,
}

/// A reply filed under a notice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FollowupRecord {
    /// The notice it answers.
    pub report_id: String,
    /// The candidate's source.
    pub source: String,
    /// When it was filed, Unix ns.
    pub at_ns: u64,
    /// Its `Date:`, when readable.
    #[serde(default)]
    pub date_ns: Option<u64>,
    /// `automated`, `bounce` or `person`.
    pub kind: String,
    /// Why (the sign that made it automated, the DSN status of a bounce).
    #[serde(default)]
    pub detail: String,
    /// `From:` (terminal-safe text).
    pub from: String,
    /// `Subject:` (terminal-safe text).
    pub subject: String,
    /// Its `Message-ID`.
    #[serde(default)]
    pub message_id: Option<String>,
    /// A fingerprint of the message (the same reply filed twice is kept once).
    pub digest: String,
    /// Who filed it.
    #[serde(default)]
    pub who: String,
}

/// The store key of a notice.
pub fn notice_key(report_id: &str) -> Vec<u8> {
    format!("n/{report_id}").into_bytes()
}

fn followup_key(f: &FollowupRecord) -> Vec<u8> {
    format!("f/{}/{}", f.report_id, f.digest).into_bytes()
}

fn store_err(e: picket_store::StoreError) -> ReplyError {
    let code = match e {
        picket_store::StoreError::NeedsRecovery => "unavailable",
        _ => "internal",
    };
    ReplyError::new(code, format!("the notice was not recorded: {e}"))
}

fn conflict(m: String) -> ReplyError {
    ReplyError::new("conflict", m)
}

/// Appends an action on `incident` to the logbook and makes it durable.
fn log(
    store: &Store,
    who: &str,
    incident: &str,
    kind: &str,
    detail: String,
) -> Result<(), ReplyError> {
    let action = picket_store::LogbookAction::now(who, incident, kind, &detail);
    store
        .logbook_append(&action)
        .and_then(|_| store.flush())
        .map(|_| ())
        .map_err(|e| ReplyError::new("unavailable", format!("the logbook was not written: {e}")))
}

/// What the logbook says of a notice.
fn about(rec: &NoticeRecord) -> String {
    format!(
        "notice {} (number {}) to {}",
        rec.report_id,
        rec.ordinal,
        crate::text::safe_text(rec.contact.as_bytes())
    )
}

/// Applies a notice record: a draft (logged only), a new intent (refused when the report id
/// has a record, unless it is a `resend` of an unconfirmed or failed one), or the outcome of
/// an intent. Each is appended to the logbook (`draft`, `send`). Durable when it returns; a
/// logbook that cannot be written fails the intent, so nothing is sent unlogged.
pub fn apply_notice(store: &Store, mut rec: NoticeRecord, who: &str) -> Result<Value, ReplyError> {
    use picket_store::logbook_kind as kind;
    if rec.state == "draft" {
        rec.who = who.to_string();
        log(
            store,
            who,
            &rec.source,
            kind::DRAFT,
            format!(
                "{}: {}",
                about(&rec),
                crate::text::safe_text(rec.subject.as_bytes())
            ),
        )?;
        return Ok(json!({ "notice": rec }));
    }
    let key = notice_key(&rec.report_id);
    let old = store
        .notice(&key)
        .map_err(store_err)?
        .and_then(|v| serde_json::from_slice::<NoticeRecord>(&v).ok());
    match rec.state.as_str() {
        "intent" => {
            rec.who = who.to_string();
            let bytes = serde_json::to_vec(&rec).unwrap_or_default();
            match &old {
                None => {
                    if !store.put_notice_new(&key, &bytes).map_err(store_err)? {
                        return Err(conflict(format!(
                            "notice {} was recorded by another run a moment ago",
                            rec.report_id
                        )));
                    }
                }
                Some(o) if rec.resend && o.state != "sent" => {
                    store.put_notice(&key, &bytes).map_err(store_err)?;
                }
                Some(o) => {
                    return Err(conflict(format!(
                        "notice {} to {} is {} already (recorded {})",
                        o.report_id,
                        crate::text::safe_text(o.contact.as_bytes()),
                        o.state,
                        crate::clock::rfc3339(o.intent_ns)
                    )));
                }
            }
            log(
                store,
                who,
                &rec.source,
                kind::SEND,
                format!(
                    "{}: handed to the relay{} (unconfirmed until its answer), Message-ID <{}>",
                    about(&rec),
                    if rec.resend {
                        " again, by the operator's word"
                    } else {
                        ""
                    },
                    crate::text::safe_text(rec.message_id.as_bytes())
                ),
            )?;
        }
        "sent" | "failed" => {
            let Some(o) = old.filter(|o| o.state == "intent") else {
                return Err(conflict(format!(
                    "notice {} has no intent to confirm",
                    rec.report_id
                )));
            };
            rec.who = o.who;
            rec.intent_ns = o.intent_ns;
            let bytes = serde_json::to_vec(&rec).unwrap_or_default();
            store.put_notice(&key, &bytes).map_err(store_err)?;
            let reply =
                crate::text::safe_text(rec.smtp_reply.clone().unwrap_or_default().as_bytes());
            let what = if rec.state == "sent" {
                format!("accepted by the relay: {reply}")
            } else {
                format!("refused by the relay: {reply}")
            };
            log(
                store,
                who,
                &rec.source,
                kind::SEND,
                format!("{}: {what}", about(&rec)),
            )?;
        }
        other => {
            return Err(ReplyError::new(
                "bad_filter",
                format!("a notice's state is draft, intent, sent or failed, not {other:?}"),
            ));
        }
    }
    Ok(json!({ "notice": rec }))
}

/// Files a reply under its notice (which must exist); the same reply twice is kept once.
pub fn apply_followup(
    store: &Store,
    mut rec: FollowupRecord,
    who: &str,
) -> Result<Value, ReplyError> {
    if store
        .notice(&notice_key(&rec.report_id))
        .map_err(store_err)?
        .is_none()
    {
        return Err(ReplyError::new(
            "not_found",
            format!(
                "no notice {}",
                crate::text::safe_text(rec.report_id.as_bytes())
            ),
        ));
    }
    rec.who = who.to_string();
    let bytes = serde_json::to_vec(&rec).unwrap_or_default();
    let new = store
        .put_notice_new(&followup_key(&rec), &bytes)
        .map_err(store_err)?;
    if new {
        let detail = if rec.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", rec.detail)
        };
        log(
            store,
            who,
            &rec.source,
            picket_store::logbook_kind::FOLLOWUP,
            format!(
                "{} reply{detail} to notice {} from {}: {}",
                rec.kind, rec.report_id, rec.from, rec.subject
            ),
        )?;
    }
    Ok(json!({ "followup": rec, "duplicate": !new }))
}

/// Adds the candidate's notices and their replies to its `incident` JSON, as `reports`.
pub fn attach(store: &Store, incident: &mut Value) {
    let source = incident["source"].as_str().unwrap_or_default().to_string();
    let mine: Vec<Value> = list(store, None)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n["source"].as_str() == Some(source.as_str()))
        .collect();
    if let Some(m) = incident.as_object_mut() {
        m.insert("reports".into(), mine.into());
    }
}

/// Every notice (with its replies under `followups`), oldest first; only those of sources
/// inside `source` when given.
pub fn list(store: &Store, source: Option<picket_store::Cidr>) -> Result<Vec<Value>, ReplyError> {
    let mut notices: Vec<NoticeRecord> = store
        .notices_with_prefix(b"n/")
        .map_err(store_err)?
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
        .filter(|n: &NoticeRecord| {
            source.is_none_or(|c| {
                n.source
                    .split('/')
                    .next()
                    .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                    .is_some_and(|ip| c.contains(ip))
            })
        })
        .collect();
    notices.sort_by(|a, b| (a.intent_ns, &a.report_id).cmp(&(b.intent_ns, &b.report_id)));
    let mut out = Vec::with_capacity(notices.len());
    for n in notices {
        let mut replies: Vec<FollowupRecord> = store
            .notices_with_prefix(format!("f/{}/", n.report_id).as_bytes())
            .map_err(store_err)?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect();
        replies.sort_by_key(|f| f.at_ns);
        let mut v = serde_json::to_value(&n).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "intent_at".into(),
                crate::clock::rfc3339(n.intent_ns).into(),
            );
            if let Some(d) = n.done_ns {
                m.insert("done_at".into(), crate::clock::rfc3339(d).into());
            }
            m.insert(
                "followups".into(),
                replies
                    .iter()
                    .map(|f| {
                        let mut fv = serde_json::to_value(f).unwrap_or(Value::Null);
                        if let Some(fm) = fv.as_object_mut() {
                            fm.insert("at".into(), crate::clock::rfc3339(f.at_ns).into());
                        }
                        fv
                    })
                    .collect(),
            );
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: &str) -> NoticeRecord {
        NoticeRecord {
            report_id: "PKT-0123456789AB".into(),
            message_id: "pkt-0123456789ab@example.org".into(),
            source: "203.0.113.50".into(),
            contact: "abuse@isp.example".into(),
            ordinal: 1,
            state: state.into(),
            intent_ns: 5,
            done_ns: None,
            smtp_reply: None,
            subject: "s".into(),
            who: String::new(),
            resend: false,
        }
    }

    #[test]
    fn an_intent_is_recorded_once_and_confirmed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &picket_store::StoreConfig::default()).unwrap();
        assert_eq!(
            apply_notice(&store, rec("sent"), "alice").unwrap_err().code,
            "conflict",
            "nothing to confirm"
        );
        apply_notice(&store, rec("intent"), "alice").unwrap();
        assert_eq!(
            apply_notice(&store, rec("intent"), "bob").unwrap_err().code,
            "conflict",
            "a second run does not send it again"
        );
        let mut again = rec("intent");
        again.resend = true;
        apply_notice(&store, again.clone(), "alice").unwrap();
        let v = apply_notice(&store, rec("sent"), "bob").unwrap();
        assert_eq!(v["notice"]["state"], "sent");
        assert_eq!(
            v["notice"]["who"], "alice",
            "who sent it, not who confirmed"
        );
        assert_eq!(
            apply_notice(&store, again, "alice").unwrap_err().code,
            "conflict",
            "never resent once the relay accepted it"
        );
        let listed = list(&store, Some("203.0.113.0/24".parse().unwrap())).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(
            list(&store, Some("198.51.100.0/24".parse().unwrap()))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_reply_is_filed_once_under_an_existing_notice() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &picket_store::StoreConfig::default()).unwrap();
        let f = FollowupRecord {
            report_id: "PKT-0123456789AB".into(),
            source: "203.0.113.50".into(),
            at_ns: 9,
            date_ns: None,
            kind: "person".into(),
            detail: String::new(),
            from: "bob@isp.example".into(),
            subject: "Re".into(),
            message_id: None,
            digest: "00ff".into(),
            who: String::new(),
        };
        assert_eq!(
            apply_followup(&store, f.clone(), "alice").unwrap_err().code,
            "not_found"
        );
        apply_notice(&store, rec("intent"), "alice").unwrap();
        assert_eq!(
            apply_followup(&store, f.clone(), "alice").unwrap()["duplicate"],
            false
        );
        assert_eq!(
            apply_followup(&store, f, "alice").unwrap()["duplicate"],
            true
        );
        let listed = list(&store, None).unwrap();
        assert_eq!(listed[0]["followups"].as_array().unwrap().len(), 1);
    }
}
