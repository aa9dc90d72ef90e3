//! Abuse contacts in the receiver: the `[whois]` settings, the cache in the store's `contacts`
//! tree (an answer younger than `cache_ttl` is used without asking whois again), and the JSON
//! both `picket whois` and the query op `contact` show. The lookup itself is picket-whois's
//! blocking `lookup`, run off the writer (a blocking thread of the server, or the CLI).

use std::net::IpAddr;
use std::time::Duration;

use picket_store::{Store, StoreError};
use picket_whois::{Contact, WhoisConfig};
use serde::Deserialize;

use crate::error::Error;

/// How long a cached contact is used before whois is asked again. Registries reassign a
/// network rarely (months, not days), while a source that comes back is noticed again
/// within days: a week lets the second notice go to the same desk without a new query
/// (and spares the registries' per-client query limits), and picks up a reassignment
/// within a week.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(7 * 86_400);

/// `[whois]` in the configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhoisSection {
    /// First server asked: host, host:port, IP literal or whois://host:port.
    pub root: Option<String>,
    /// Longest time one server may take (`10s`).
    pub timeout: Option<String>,
    /// How long a looked-up contact is reused (`7d`).
    pub cache_ttl: Option<String>,
}

/// `[whois]` as the receiver runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoisSettings {
    /// The lookup's settings.
    pub lookup: WhoisConfig,
    /// How long a cached contact is fresh.
    pub cache_ttl: Duration,
}

impl Default for WhoisSettings {
    fn default() -> Self {
        WhoisSettings {
            lookup: WhoisConfig::default(),
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }
}

/// Reads `[whois]` (absent: the defaults).
pub fn settings(section: Option<&WhoisSection>) -> Result<WhoisSettings, Error> {
    let mut s = WhoisSettings::default();
    let Some(w) = section else { return Ok(s) };
    let bad = |key: &str, e: String| Error::config_key(format!("whois.{key}"), e);
    if let Some(r) = &w.root {
        picket_whois::Server::parse(r).map_err(|e| bad("root", format!("{r:?}: {e}")))?;
        s.lookup.root = r.clone();
    }
    if let Some(t) = &w.timeout {
        let d = crate::values::parse_duration(t).map_err(|e| bad("timeout", e))?;
        if d.is_zero() {
            return Err(bad("timeout", "must be more than 0".into()));
        }
        s.lookup.timeout = d;
    }
    if let Some(t) = &w.cache_ttl {
        s.cache_ttl = crate::values::parse_duration(t).map_err(|e| bad("cache_ttl", e))?;
    }
    Ok(s)
}

/// The cache key of an address (IPv4-mapped IPv6 folded to IPv4, as everywhere in picket).
pub fn key(ip: IpAddr) -> Vec<u8> {
    ip.to_canonical().to_string().into_bytes()
}

/// A contact from the cache.
#[derive(Debug, Clone)]
pub struct Cached {
    /// What was found.
    pub contact: Contact,
    /// When, ns since the epoch.
    pub stored_at_ns: u64,
    /// Younger than the cache TTL.
    pub fresh: bool,
}

/// The cached contact of `ip`, if any (an unreadable entry counts as none).
pub fn cached(
    store: &Store,
    ip: IpAddr,
    ttl: Duration,
    now_ns: u64,
) -> Result<Option<Cached>, StoreError> {
    let Some((bytes, at)) = store.contact(&key(ip))? else {
        return Ok(None);
    };
    let ttl_ns = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
    Ok(Contact::from_json(&bytes).map(|contact| Cached {
        contact,
        stored_at_ns: at,
        fresh: now_ns.saturating_sub(at) < ttl_ns,
    }))
}

/// What a contact request comes to.
#[derive(Debug)]
pub enum Answer {
    /// A contact, from the cache or just looked up.
    Found {
        /// The contact.
        contact: Contact,
        /// When it was looked up, ns since the epoch.
        stored_at_ns: u64,
        /// From the cache.
        cached: bool,
        /// Younger than the cache TTL.
        fresh: bool,
    },
    /// `lookup` was false and nothing is cached.
    NotCached,
    /// The lookup failed.
    Failed(picket_whois::WhoisError),
}

impl Answer {
    /// The reply line's object, as the `contact` op sends it.
    pub fn to_json(&self, ip: IpAddr) -> serde_json::Value {
        match self {
            Answer::Found {
                contact,
                stored_at_ns,
                cached,
                fresh,
            } => to_json(contact, *stored_at_ns, *cached, *fresh),
            Answer::NotCached => serde_json::json!({"error": {"code": "not_found",
                "message": format!("no cached contact for {ip} (look it up to fill the cache)")}}),
            Answer::Failed(e) => error_json(e),
        }
    }
}

/// The contact of `ip` for a process that holds the store itself (the CLI while serve is
/// stopped; serve goes through its writer instead): the cache while fresh (or whatever is
/// cached, without `lookup`), else a lookup (blocking) whose answer is cached and flushed.
/// Without a store it only looks up.
pub fn find(
    store: Option<&Store>,
    ip: IpAddr,
    settings: &WhoisSettings,
    lookup: bool,
    now_ns: u64,
) -> Result<Answer, StoreError> {
    let ip = ip.to_canonical();
    if let Some(s) = store
        && let Some(c) = cached(s, ip, settings.cache_ttl, now_ns)?
        && (c.fresh || !lookup)
    {
        return Ok(Answer::Found {
            contact: c.contact,
            stored_at_ns: c.stored_at_ns,
            cached: true,
            fresh: c.fresh,
        });
    }
    if !lookup {
        return Ok(Answer::NotCached);
    }
    let contact = match picket_whois::lookup(ip, &settings.lookup) {
        Ok(c) => c,
        Err(e) => return Ok(Answer::Failed(e)),
    };
    if let Some(s) = store {
        s.put_contact(&key(ip), &contact.to_json(), now_ns)?;
        s.logbook_append(&lookup_action(
            &picket_store::os_user(),
            ip,
            &contact,
            now_ns,
        ))?;
        s.flush()?;
    }
    Ok(Answer::Found {
        contact,
        stored_at_ns: now_ns,
        cached: false,
        fresh: true,
    })
}

/// The logbook entry of a whois lookup of `ip` by `who`: what it found and where.
pub fn lookup_action(
    who: &str,
    ip: IpAddr,
    c: &Contact,
    at_ns: u64,
) -> picket_store::LogbookAction {
    let servers: Vec<&str> = c.chain.iter().map(|h| h.server.as_str()).collect();
    let detail = format!(
        "abuse {}{} via {}",
        c.abuse.as_deref().unwrap_or("(none)"),
        if c.fallback {
            " (a guess: RFC 2142)"
        } else {
            ""
        },
        servers.join(" -> ")
    );
    picket_store::LogbookAction {
        at_ns,
        who: who.into(),
        incident: ip.to_string(),
        kind: picket_store::logbook_kind::LOOKUP.into(),
        detail,
    }
}

/// A cache write the query socket hands to the writer (the store's one writer).
pub struct ContactWrite {
    /// The cache key.
    pub key: Vec<u8>,
    /// The contact's stable form.
    pub bytes: Vec<u8>,
    /// When it was found.
    pub stored_at_ns: u64,
    /// The lookup's logbook entry (stored with the contact).
    pub logged: picket_store::LogbookAction,
    /// Whether the store took it.
    pub reply: tokio::sync::oneshot::Sender<bool>,
}

/// The reply object of the `contact` op (and of `picket whois --json`).
pub fn to_json(c: &Contact, stored_at_ns: u64, cached: bool, fresh: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("security".into(), c.security().into());
        m.insert("cached".into(), cached.into());
        m.insert("fresh".into(), fresh.into());
        m.insert(
            "stored_at".into(),
            crate::clock::rfc3339(stored_at_ns).into(),
        );
    }
    serde_json::json!({ "contact": v })
}

/// The error object of a failed lookup: the code, the message and the servers asked.
pub fn error_json(e: &picket_whois::WhoisError) -> serde_json::Value {
    serde_json::json!({"error": {
        "code": "lookup_failed",
        "message": e.to_string(),
        "chain": e.chain(),
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_the_file() {
        let d = settings(None).unwrap();
        assert_eq!(d.lookup.root, "whois.iana.org:43");
        assert_eq!(d.cache_ttl, DEFAULT_CACHE_TTL);
        let s = settings(Some(&WhoisSection {
            root: Some("whois://127.0.0.1:4343".into()),
            timeout: Some("3s".into()),
            cache_ttl: Some("1d".into()),
        }))
        .unwrap();
        assert_eq!(s.lookup.timeout, Duration::from_secs(3));
        assert_eq!(s.cache_ttl, Duration::from_secs(86_400));
        for bad in [
            WhoisSection {
                root: Some("http://x".into()),
                ..WhoisSection::default()
            },
            WhoisSection {
                timeout: Some("0s".into()),
                ..WhoisSection::default()
            },
            WhoisSection {
                cache_ttl: Some("soon".into()),
                ..WhoisSection::default()
            },
        ] {
            assert!(settings(Some(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mapped_addresses_share_a_key() {
        let a: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(key(a), key(b));
    }
}
