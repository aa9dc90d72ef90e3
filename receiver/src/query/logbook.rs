//! The `logbook` op (and `picket logbook --offline`): the logbook's entries as JSON lines,
//! all or one incident's, then an end line with the logbook's head.

use picket_store::{Cidr, LogbookEntry, Store, hex};
use serde_json::{Value, json};

use super::protocol::ReplyError;

/// True when an entry about `incident` belongs to what `asked` names: the same key, or an
/// address inside the other's prefix (a candidate grouped by /24 and one of its addresses).
pub fn matches(asked: &str, incident: &str) -> bool {
    if asked == incident {
        return true;
    }
    let (Ok(a), Ok(b)) = (asked.parse::<Cidr>(), incident.parse::<Cidr>()) else {
        return false;
    };
    let inside = |outer: &Cidr, inner: &Cidr| {
        let (lo, hi) = outer.range16();
        let (ilo, ihi) = inner.range16();
        lo <= ilo && ihi <= hi
    };
    inside(&a, &b) || inside(&b, &a)
}

/// One entry as a reply line's object.
pub fn to_json(e: &LogbookEntry) -> Value {
    json!({
        "seq": e.seq,
        "at": crate::clock::rfc3339(e.action.at_ns),
        "who": e.action.who,
        "incident": e.action.incident,
        "action": e.action.kind,
        "detail": e.action.detail,
        "prev": hex(&e.prev),
        "hash": hex(&e.hash),
    })
}

/// The reply: `{"entry":{...}}` per entry, oldest first, and the end line with the count and
/// the logbook's head.
pub fn reply(store: &Store, source: Option<&str>) -> Result<(Vec<Value>, Value), ReplyError> {
    let entries = store
        .logbook(None)
        .map_err(|e| ReplyError::new("unavailable", format!("cannot read the logbook: {e}")))?;
    let items: Vec<Value> = entries
        .iter()
        .filter(|e| source.is_none_or(|s| matches(s, &e.action.incident)))
        .map(|e| json!({"entry": to_json(e)}))
        .collect();
    let (n, h) = store.logbook_head();
    let mut end = json!({"end": true, "count": items.len()});
    if n > 0
        && let Some(m) = end.as_object_mut()
    {
        m.insert("head".into(), format!("logbook:{n}:{}", hex(&h)).into());
    }
    Ok((items, end))
}

/// The reply as bytes, for the socket.
pub fn lines(store: &Store, source: Option<&str>) -> Vec<u8> {
    match reply(store, source) {
        Ok((items, end)) => {
            let mut out = Vec::new();
            for v in items.iter().chain(std::iter::once(&end)) {
                let _ = serde_json::to_writer(&mut out, v);
                out.push(b'\n');
            }
            out
        }
        Err(e) => e.to_line(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_matches_its_prefix_and_back() {
        assert!(matches("198.51.100.7", "198.51.100.7"));
        assert!(matches("198.51.100.7", "198.51.100.0/24"));
        assert!(matches("198.51.100.0/24", "198.51.100.9"));
        assert!(!matches("198.51.100.7", "198.51.100.8"));
        assert!(!matches("host.example", "198.51.100.8"));
    }
}
