//! The query protocol: one JSON request per line, replies as JSON lines (see docs/protocol.md).
//! This file turns a request line into a checked [`Request`] or an error reply.

use picket_parsers::{Action, Dataset};
use picket_store::{Cidr, Cursor, Order, Query};
use serde::Deserialize;

pub use super::reply::ReplyError;

/// Longest request line accepted, in bytes.
pub const MAX_REQUEST: usize = 16 * 1024;

/// A request as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    op: String,
    source: Option<String>,
    dataset: Option<String>,
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    host: Option<String>,
    text: Option<String>,
    order: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    state: Option<String>,
    class: Option<String>,
    min_score: Option<u32>,
    sort: Option<String>,
    note: Option<String>,
    min_sources: Option<u64>,
    record: Option<serde_json::Value>,
    max_age: Option<String>,
    expect_head: Option<Vec<String>>,
    max_size: Option<String>,
    reference: Option<i64>,
    offset: Option<i32>,
    fingerprint: Option<String>,
    name: Option<String>,
    force: Option<bool>,
    ip: Option<String>,
    lookup: Option<bool>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub enum Request {
    /// Stored events matching the filters, and the tag of those filters that every cursor
    /// of the reply carries.
    Events(Query, String),
    /// Live events matching the filters.
    Tail(Query),
    /// Server counters.
    Stats,
    /// Stored candidates matching the filters.
    Incidents(super::incidents::IncidentFilter),
    /// One candidate by source.
    Incident(String),
    /// Set a candidate's state.
    Mark {
        /// The source.
        source: String,
        /// The state.
        state: picket_sensor::State,
        /// Why.
        note: String,
    },
    /// Candidate changes after a change number, then live.
    Watch(Option<u64>),
    /// Targets hit by at least this many distinct sources (the view by destination).
    Targets(u64),
    /// Record a notice's intent or outcome.
    Notice(crate::reports::NoticeRecord),
    /// File a reply under its notice.
    Followup(crate::reports::FollowupRecord),
    /// The notices (and their replies), of sources inside the block when given.
    Notices(Option<Cidr>),
    /// The abuse contact of an address: cached, or looked up over whois when `lookup`.
    Contact {
        /// The address.
        ip: std::net::IpAddr,
        /// Ask whois when the cache has nothing fresh.
        lookup: bool,
    },
    /// The logbook: every entry, or those about one incident.
    Logbook(Option<String>),
    /// Re-check the evidence chain and the logbook as of now, while ingest goes on, and the
    /// heads recorded earlier that are given.
    Verify(Vec<String>),
    /// Apply retention now.
    Vacuum(picket_store::Retention),
    /// Store the raw lines that follow on the connection, through the writer.
    Import {
        /// Unix seconds year-less stamps are read against (the file's modification time).
        reference: i64,
        /// Zone of stamps that name none, seconds east of UTC.
        offset: i32,
        /// The file's fingerprint (`picket import` sends one): a file imported before is
        /// refused unless `force`.
        fingerprint: Option<String>,
        /// The file's name, for the note kept of the import.
        name: String,
        /// Import even a file imported before.
        force: bool,
    },
}

/// The tag of an events request's filters and order (FNV-1a, 8 hex digits): what a cursor
/// must carry to resume that query. Time bounds are left out: paging on with the same
/// `since` is the same query.
fn filter_tag(raw: &Raw) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for part in [
        raw.source.as_deref(),
        raw.dataset.as_deref(),
        raw.action.as_deref(),
        raw.host.as_deref(),
        raw.text.as_deref(),
        Some(raw.order.as_deref().unwrap_or("oldest")),
    ] {
        for b in part.unwrap_or("\u{0}").bytes().chain([0xff]) {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    format!("{h:08x}")
}

/// Parses one request line.
pub fn parse(line: &[u8], now_ns: u64) -> Result<Request, ReplyError> {
    let raw: Raw = serde_json::from_slice(line)
        .map_err(|e| ReplyError::new("bad_request", format!("not a request: {e}")))?;
    let bad = |m: String| ReplyError::new("bad_filter", m);
    let mut q = Query::default();
    if let Some(s) = &raw.source {
        q.source = Some(s.parse::<Cidr>().map_err(bad)?);
    }
    if let Some(d) = &raw.dataset {
        q.dataset =
            Some(Dataset::from_name(d).ok_or_else(|| bad(format!("unknown dataset {d:?}")))?);
    }
    if let Some(a) = &raw.action {
        q.action = Some(Action::from_name(a).ok_or_else(|| bad(format!("unknown action {a:?}")))?);
    }
    if let Some(t) = &raw.since {
        q.since_ns = Some(crate::values::parse_time(t, now_ns).map_err(bad)?);
    }
    if let Some(t) = &raw.until {
        q.until_ns = Some(crate::values::parse_time(t, now_ns).map_err(bad)?);
    }
    q.order = match raw.order.as_deref() {
        None | Some("oldest") => Order::OldestFirst,
        Some("newest") => Order::NewestFirst,
        Some(o) => return Err(bad(format!("order is \"oldest\" or \"newest\", not {o:?}"))),
    };
    q.limit = raw.limit;
    // An events cursor carries the tag of the filters it was made under: a cursor from one
    // query given to another would silently skip or repeat events, so it is refused.
    let tag = filter_tag(&raw);
    if let Some(c) = raw.cursor.as_ref().filter(|_| raw.op == "events") {
        let (key, given) = c.rsplit_once('.').unwrap_or((c, ""));
        if given != tag {
            return Err(bad(
                "this cursor belongs to another query (other filters or order): \
                 ask again without the cursor"
                    .into(),
            ));
        }
        q.after = Some(key.parse::<Cursor>().map_err(bad)?);
    }
    q.host = raw.host.map(String::into_bytes);
    q.text = raw.text.map(String::into_bytes);
    let state = match &raw.state {
        Some(v) => Some(picket_sensor::State::from_name(v).ok_or_else(|| {
            bad(format!(
                "state is new, reported, repeated, blocked or closed, not {v:?}"
            ))
        })?),
        None => None,
    };
    match raw.op.as_str() {
        "events" => Ok(Request::Events(q, tag)),
        "tail" => Ok(Request::Tail(q)),
        "stats" => Ok(Request::Stats),
        "incidents" => {
            let class = match &raw.class {
                Some(v) => Some(
                    picket_sensor::Class::from_name(v)
                        .ok_or_else(|| bad(format!("unknown class {v:?}")))?,
                ),
                None => None,
            };
            let sort = match raw.sort.as_deref() {
                None | Some("score") => super::incidents::Sort::Score,
                Some("last_seen") => super::incidents::Sort::LastSeen,
                Some(o) => {
                    return Err(bad(format!(
                        "sort is \"score\" or \"last_seen\", not {o:?}"
                    )));
                }
            };
            Ok(Request::Incidents(super::incidents::IncidentFilter {
                state,
                class,
                min_score: raw.min_score,
                source: q.source,
                since_ns: q.since_ns,
                until_ns: q.until_ns,
                sort,
                limit: raw.limit,
                after: raw.cursor,
            }))
        }
        "incident" => match raw.source {
            Some(s) => Ok(Request::Incident(s)),
            None => Err(bad("incident needs a source".into())),
        },
        "mark" => match (raw.source, state) {
            (Some(source), Some(state)) => Ok(Request::Mark {
                source,
                state,
                note: raw.note.unwrap_or_default(),
            }),
            _ => Err(bad("mark needs a source and a state".into())),
        },
        "watch" => match raw.cursor.as_deref() {
            None => Ok(Request::Watch(None)),
            Some(c) => c
                .parse::<u64>()
                .map(|n| Request::Watch(Some(n)))
                .map_err(|_| bad(format!("a watch cursor is a change number, not {c:?}"))),
        },
        "targets" => Ok(Request::Targets(raw.min_sources.unwrap_or(10))),
        "notice" => record(raw.record, "notice").map(Request::Notice),
        "followup" => record(raw.record, "followup").map(Request::Followup),
        "notices" => Ok(Request::Notices(q.source)),
        "verify" => Ok(Request::Verify(raw.expect_head.unwrap_or_default())),
        "vacuum" => {
            let max_age = match &raw.max_age {
                Some(v) => Some(crate::values::parse_duration(v).map_err(bad)?),
                None => None,
            };
            let max_bytes = match &raw.max_size {
                Some(v) => Some(crate::values::parse_size(v).map_err(bad)?),
                None => None,
            };
            if max_age.is_none() && max_bytes.is_none() {
                return Err(bad("vacuum needs max_age, max_size or both".into()));
            }
            Ok(Request::Vacuum(picket_store::Retention {
                max_age,
                max_bytes,
            }))
        }
        "import" => Ok(Request::Import {
            reference: raw
                .reference
                .unwrap_or_else(|| i64::try_from(now_ns / 1_000_000_000).unwrap_or(0)),
            offset: raw.offset.unwrap_or(0),
            fingerprint: raw.fingerprint.filter(|f| !f.is_empty() && f.len() <= 64),
            name: raw.name.unwrap_or_default(),
            force: raw.force.unwrap_or(false),
        }),
        "contact" => match raw.ip.as_deref().map(str::parse::<std::net::IpAddr>) {
            Some(Ok(ip)) => Ok(Request::Contact {
                ip: ip.to_canonical(),
                lookup: raw.lookup.unwrap_or(true),
            }),
            Some(Err(_)) => Err(bad(format!(
                "contact needs one address, not {:?}",
                raw.ip.unwrap_or_default()
            ))),
            None => Err(bad("contact needs an ip".into())),
        },
        "logbook" => Ok(Request::Logbook(raw.source)),
        "report" => Err(ReplyError::new(
            "not_available",
            "notices are drafted and sent by the client (`picket report`); the socket keeps their records: ops notice, notices, followup",
        )),
        other => Err(ReplyError::new(
            "unknown_op",
            format!(
                "unknown op {other:?} (events, tail, stats, incidents, incident, mark, watch, targets, contact, logbook, notice, notices, followup, verify, vacuum, import)"
            ),
        )),
    }
}

/// The `record` of a `notice` or `followup` request, checked.
fn record<T: serde::de::DeserializeOwned>(
    v: Option<serde_json::Value>,
    op: &str,
) -> Result<T, ReplyError> {
    let v = v.ok_or_else(|| ReplyError::new("bad_request", format!("{op} needs a record")))?;
    serde_json::from_value(v)
        .map_err(|e| ReplyError::new("bad_request", format!("not a {op} record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_errors() {
        let now = 1_795_392_000_000_000_000;
        let r = parse(br#"{"op":"events","source":"198.51.100.0/24","dataset":"sshd","order":"newest","limit":5,"since":"2h"}"#, now).unwrap();
        match r {
            Request::Events(q, _) => {
                assert_eq!(q.limit, Some(5));
                assert_eq!(q.order, Order::NewestFirst);
                assert_eq!(q.since_ns, Some(now - 7200 * 1_000_000_000));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse(b"{", now).unwrap_err().code, "bad_request");
        assert_eq!(
            parse(br#"{"op":"nope"}"#, now).unwrap_err().code,
            "unknown_op"
        );
        assert_eq!(
            parse(br#"{"op":"events","dataset":"nope"}"#, now)
                .unwrap_err()
                .code,
            "bad_filter"
        );
        assert_eq!(
            parse(br#"{"op":"events","source":"1.2.3.4/99"}"#, now)
                .unwrap_err()
                .code,
            "bad_filter"
        );
        assert_eq!(
            parse(br#"{"op":"events","bogus":1}"#, now)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert!(parse(br#"{"op":"events","since":"2026-11-23T00:00:00Z"}"#, now).is_ok());
        // A cursor is good for the query it came from only.
        let Request::Events(_, tag) = parse(br#"{"op":"events","dataset":"sshd"}"#, now).unwrap()
        else {
            panic!()
        };
        let cursor = format!("18ed5342015e80fa00000000.{tag}");
        let same = format!(r#"{{"op":"events","dataset":"sshd","limit":5,"cursor":"{cursor}"}}"#);
        assert!(parse(same.as_bytes(), now).is_ok());
        for other in [
            format!(r#"{{"op":"events","dataset":"tcpd","cursor":"{cursor}"}}"#),
            format!(r#"{{"op":"events","dataset":"sshd","order":"newest","cursor":"{cursor}"}}"#),
            r#"{"op":"events","dataset":"sshd","cursor":"18ed5342015e80fa00000000"}"#.to_string(),
        ] {
            let e = parse(other.as_bytes(), now).unwrap_err();
            assert!(e.message.contains("another query"), "{other}: {e:?}");
        }
        match parse(br#"{"op":"contact","ip":"::ffff:192.0.2.1"}"#, now).unwrap() {
            Request::Contact { ip, lookup } => {
                assert_eq!(ip.to_string(), "192.0.2.1");
                assert!(lookup);
            }
            other => panic!("{other:?}"),
        }
        for bad in [
            &br#"{"op":"contact"}"#[..],
            br#"{"op":"contact","ip":"192.0.2.0/24"}"#,
        ] {
            assert_eq!(parse(bad, now).unwrap_err().code, "bad_filter");
        }
        assert_eq!(
            parse(br#"{"op":"notice"}"#, now).unwrap_err().code,
            "bad_request"
        );
        assert_eq!(
            parse(br#"{"op":"notice","record":{"report_id":"x"}}"#, now)
                .unwrap_err()
                .code,
            "bad_request"
        );
        assert!(matches!(
            parse(br#"{"op":"notices","source":"203.0.113.0/24"}"#, now),
            Ok(Request::Notices(Some(_)))
        ));
        assert_eq!(
            parse(br#"{"op":"report"}"#, now).unwrap_err().code,
            "not_available"
        );
        assert_eq!(
            parse(br#"{"op":"events","since":"yesterday"}"#, now)
                .unwrap_err()
                .code,
            "bad_filter"
        );
    }
}
