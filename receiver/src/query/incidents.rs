//! The incident ops of the query socket: `incidents` (a filtered, sorted, paged list of the
//! stored candidates), `incident` (one, with its history and evidence lines), and the JSON
//! both give. Candidates are read from the store (the writer stores every change with its
//! batch), so these ops never wait on the writer.

use std::net::IpAddr;

use picket_sensor::{Candidate, CandidateSummary, Class, State};

use crate::sense::{decode_stored, summary_stored};
use picket_store::Store;
use serde_json::{Value, json};

use super::reply::ReplyError;

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Highest score first (then source).
    #[default]
    Score,
    /// Latest activity first (then source).
    LastSeen,
}

/// The filters of `incidents` (and `picket incidents`, `picket blocklist`).
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only this state.
    pub state: Option<State>,
    /// Only this class.
    pub class: Option<Class>,
    /// Score at least this.
    pub min_score: Option<u32>,
    /// Sources inside this block.
    pub source: Option<picket_store::Cidr>,
    /// Last seen at or after (Unix ns).
    pub since_ns: Option<u64>,
    /// First seen before (Unix ns).
    pub until_ns: Option<u64>,
    /// Order.
    pub sort: Sort,
    /// At most this many.
    pub limit: Option<usize>,
    /// Resume after this cursor (from an earlier reply's end line).
    pub after: Option<String>,
}

impl IncidentFilter {
    /// True when the candidate passes every filter but the cursor.
    pub fn matches(&self, c: &CandidateSummary) -> bool {
        let last = u64::try_from(c.last_seen).unwrap_or(0);
        let first = u64::try_from(c.first_seen).unwrap_or(0);
        c.published
            && self.state.is_none_or(|s| s == c.state)
            && self.class.is_none_or(|k| k == c.class)
            && self.min_score.is_none_or(|m| c.score >= m)
            && self.source.is_none_or(|b| b.contains(c.key.addr()))
            && self.since_ns.is_none_or(|t| last >= t)
            && self.until_ns.is_none_or(|t| first < t)
    }

    fn sort_value(&self, c: &CandidateSummary) -> i64 {
        match self.sort {
            Sort::Score => i64::from(c.score),
            Sort::LastSeen => c.last_seen,
        }
    }
}

/// Every stored candidate that passes `f`, in its order, after its cursor; and the cursor for
/// the rest when the limit cut the list.
///
/// Filtering and sorting read only each record's summary; only the candidates the reply
/// holds are decoded whole (over 100,000 stored candidates the whole decode was most of the
/// op's time).
pub fn list(
    store: &Store,
    f: &IncidentFilter,
) -> Result<(Vec<Candidate>, Option<String>), ReplyError> {
    type Sorted = (std::cmp::Reverse<i64>, String);
    let mut all: Vec<(Sorted, CandidateSummary, Vec<u8>)> = Vec::new();
    for item in store.incidents() {
        let (_, v) = item.map_err(internal)?;
        match summary_stored(&v) {
            Ok(s) if f.matches(&s) => {
                all.push((
                    (std::cmp::Reverse(f.sort_value(&s)), s.key.to_string()),
                    s,
                    v,
                ));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("skipping an unreadable stored candidate: {e}"),
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(cur) = &f.after {
        let (v, k) = cur
            .split_once('|')
            .and_then(|(v, k)| Some((v.parse::<i64>().ok()?, k.to_string())))
            .ok_or_else(|| ReplyError {
                code: "bad_filter",
                message: format!("{cur:?} is not an incidents cursor"),
            })?;
        let at = (std::cmp::Reverse(v), k);
        all.retain(|c| c.0 > at);
    }
    let mut cursor = None;
    if let Some(n) = f.limit
        && all.len() > n
    {
        all.truncate(n);
        cursor = all
            .last()
            .map(|(_, s, _)| format!("{}|{}", f.sort_value(s), s.key));
    }
    let mut out = Vec::with_capacity(all.len());
    for (_, _, v) in all {
        match decode_stored(&v) {
            Ok((_, c)) => out.push(c),
            Err(e) => tracing::warn!("skipping an unreadable stored candidate: {e}"),
        }
    }
    Ok((out, cursor))
}

/// One stored candidate by source (an address, or the prefix it is grouped under).
pub fn one(store: &Store, source: &str) -> Result<Option<Candidate>, ReplyError> {
    if let Some(v) = store.incident(source.as_bytes()).map_err(internal)? {
        return Ok(decode_stored(&v).ok().map(|(_, c)| c));
    }
    // An address inside a grouped prefix: look for the candidate that holds it.
    if let Ok(ip) = source.parse::<IpAddr>() {
        for item in store.incidents() {
            let (_, v) = item.map_err(internal)?;
            if let Ok(s) = summary_stored(&v)
                && s.key.cidr().contains(ip)
            {
                return Ok(decode_stored(&v).ok().map(|(_, c)| c));
            }
        }
    }
    Ok(None)
}

fn internal(e: picket_store::StoreError) -> ReplyError {
    let code = match e {
        picket_store::StoreError::NeedsRecovery => "unavailable",
        _ => "internal",
    };
    ReplyError {
        code,
        message: e.to_string(),
    }
}

fn time(ns: i64) -> String {
    crate::clock::rfc3339(u64::try_from(ns).unwrap_or(0))
}

/// What the JSON of a candidate needs beyond the candidate: the time now and the sensor's
/// settings that judge it (staleness, the names of the noise rules).
#[derive(Debug, Clone)]
pub struct View {
    /// Now, Unix ns.
    pub now: i64,
    /// `report_horizon`, ns.
    pub horizon_ns: i64,
    /// `huge_volume`.
    pub huge_volume: u64,
    /// The noise rules' names, by index.
    pub noise_names: Vec<String>,
}

impl View {
    /// The view under `cfg`, now.
    pub fn of(cfg: &picket_sensor::SensorConfig) -> View {
        View {
            now: i64::try_from(crate::clock::now_ns()).unwrap_or(i64::MAX),
            horizon_ns: i64::try_from(cfg.report_horizon.as_nanos()).unwrap_or(i64::MAX),
            huge_volume: cfg.huge_volume,
            noise_names: cfg.noise.iter().map(|r| r.name.clone()).collect(),
        }
    }
}

impl Default for View {
    fn default() -> Self {
        View::of(&picket_sensor::SensorConfig::default())
    }
}

/// A candidate as JSON under the default settings; `full` adds its history and evidence.
pub fn to_json(c: &Candidate, full: bool) -> Value {
    to_json_with(c, full, &View::default())
}

/// A candidate as JSON; `full` adds its history and evidence lines.
pub fn to_json_with(c: &Candidate, full: bool, view: &View) -> Value {
    let (sigs, _) = c.signatures();
    let top = sigs.first().map(|(s, _)| crate::text::safe_text(s));
    let (reporters, _) = c.reporters();
    let mut v = json!({
        "source": c.key().to_string(),
        "class": c.class().as_str(),
        "score": c.score(),
        "state": c.state().as_str(),
        "events": c.events(),
        "ports": c.distinct_ports().count(),
        "hosts": c.distinct_hosts().count(),
        "first_seen": time(c.first_seen()),
        "last_seen": time(c.last_seen()),
        "top_signature": top,
        "datasets": c.datasets().iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "reporters": reporters.iter().map(|r| crate::text::safe_text(r)).collect::<Vec<_>>(),
        "notices": c.notices(),
        "blocks": c.blocks(),
        "block_until": c.block().map(|b| time(b.until)),
        "stale": c.is_stale(view.now, view.horizon_ns, view.huge_volume),
        "names": c.names().iter().map(|n| crate::text::safe_text(n)).collect::<Vec<_>>(),
        "noise": c.noise().iter().map(|t| json!({
            "rule": view.noise_names.get(usize::from(t.rule)).map_or("?", String::as_str),
            "events": t.events,
            "over_volume": t.over_volume,
        })).collect::<Vec<_>>(),
    });
    if full && let Some(m) = v.as_object_mut() {
        m.insert(
            "signatures".into(),
            sigs.iter()
                .map(|(s, n)| json!({"name": crate::text::safe_text(s), "count": n}))
                .collect(),
        );
        m.insert(
            "actions".into(),
            c.actions()
                .iter()
                .map(|(a, n)| json!({"action": a.map(|a| a.as_str()), "count": n}))
                .collect(),
        );
        m.insert("port_list".into(), c.ports().unwrap_or_default().into());
        m.insert(
            "history".into(),
            c.history()
                .iter()
                .map(|h| {
                    json!({"at": time(h.at), "from": h.from.as_str(), "to": h.to.as_str(),
                           "who": crate::text::safe_text(h.who.as_bytes()), "note": crate::text::safe_text(h.note.as_bytes())})
                })
                .collect(),
        );
        m.insert(
            "evidence".into(),
            c.evidence()
                .lines()
                .iter()
                .map(|e| json!({"at": time(e.time), "line": crate::text::safe_text(&e.line)}))
                .collect(),
        );
    }
    v
}
