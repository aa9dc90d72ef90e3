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
    ip: Option<String>,
    lookup: Option<bool>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub enum Request {
    /// Stored events matching the filters.
    Events(Query),
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
    /// The abuse contact of an address: cached, or looked up over whois when `lookup`.
    Contact {
        /// The address.
        ip: std::net::IpAddr,
        /// Ask whois when the cache has nothing fresh.
        lookup: bool,
    },
    /// The logbook: every entry, or those about one incident.
    Logbook(Option<String>),
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
    // Event cursors are for events and tail; incidents and watch have cursors of their own.
    if let Some(c) = raw.cursor.as_ref().filter(|_| raw.op == "events") {
        q.after = Some(c.parse::<Cursor>().map_err(bad)?);
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
        "events" => Ok(Request::Events(q)),
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
            "op \"report\" comes with notices, which this build does not have",
        )),
        other => Err(ReplyError::new(
            "unknown_op",
            format!(
                "unknown op {other:?} (events, tail, stats, incidents, incident, mark, watch, targets, contact, logbook)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_errors() {
        let now = 1_795_392_000_000_000_000;
        let r = parse(br#"{"op":"events","source":"198.51.100.0/24","dataset":"sshd","order":"newest","limit":5,"since":"2h"}"#, now).unwrap();
        match r {
            Request::Events(q) => {
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
            parse(br#"{"op":"events","since":"yesterday"}"#, now)
                .unwrap_err()
                .code,
            "bad_filter"
        );
    }
}
