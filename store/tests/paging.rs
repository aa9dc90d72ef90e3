//! Paging is the unpaged answer cut in pieces: for random events and every filter, pages of
//! `limit` k resumed by cursors return exactly what one scan without a limit returns, and
//! that is exactly the events a brute-force filter over everything keeps.
// Test code: a failed expectation panics, which is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;

use picket_parsers::{Action, Dataset, ParseContext, parse_line};
use picket_store::{Batch, Cidr, EventKey, Order, Query, Store, StoreConfig};
use proptest::prelude::*;

const BASE: u64 = 1_795_392_000_000_000_000;
const HOSTS: [&str; 3] = ["gw", "fw", "h3"];
const WORDS: [&str; 3] = ["alpha", "beta", "gamma"];

fn ip(n: u8) -> IpAddr {
    if n % 4 == 3 {
        format!("2001:db8::{:x}", n).parse().unwrap()
    } else {
        format!("198.51.{}.{}", n % 2, n).parse().unwrap()
    }
}

fn line(kind: u8, src: u8, host: usize, word: usize, i: usize) -> String {
    let (h, w, s) = (HOSTS[host], WORDS[word], ip(src));
    match kind {
        0 => format!(
            "<38>Nov  8 15:26:31 {h} sshd[{i}]: Failed password for root from {s} port 22 ssh2 {w}"
        ),
        1 => format!("Nov  8 15:26:31 {h} in.telnetd[{i}]: refused connect from {s} {w}"),
        2 => format!(
            "Nov  8 15:26:31 {h} sshd[{i}]: Accepted password for u from {s} port 22 ssh2 {w}"
        ),
        _ => format!("Nov  8 15:26:31 {h} CRON[{i}]: (root) CMD (true) {w}"),
    }
}

#[derive(Clone, Debug)]
struct Ev {
    kind: u8,
    src: u8,
    host: usize,
    word: usize,
    gap: u64,
}

fn ev() -> impl Strategy<Value = Ev> {
    (0u8..4, 0u8..8, 0usize..3, 0usize..3, 0u64..3).prop_map(|(kind, src, host, word, gap)| Ev {
        kind,
        src,
        host,
        word,
        gap,
    })
}

#[derive(Clone, Debug)]
struct Filters {
    since: Option<u64>,
    until: Option<u64>,
    source: Option<(u8, u8)>,
    dataset: Option<Dataset>,
    action: Option<Action>,
    text: Option<usize>,
    host: Option<usize>,
    order: Order,
    limit: usize,
}

fn filters() -> impl Strategy<Value = Filters> {
    (
        (
            proptest::option::of(0u64..200),
            proptest::option::of(0u64..200),
            proptest::option::of((0u8..8, prop_oneof![Just(0u8), Just(1), Just(2), Just(8)])),
            proptest::option::of(prop_oneof![
                Just(Dataset::Sshd),
                Just(Dataset::Tcpd),
                Just(Dataset::Syslog)
            ]),
        ),
        (
            proptest::option::of(prop_oneof![
                Just(Action::LoginFailed),
                Just(Action::LoginSucceeded),
                Just(Action::ConnectionRefused)
            ]),
            proptest::option::of(0usize..3),
            proptest::option::of(0usize..3),
            prop_oneof![Just(Order::OldestFirst), Just(Order::NewestFirst)],
            1usize..6,
        ),
    )
        .prop_map(
            |((since, until, source, dataset), (action, text, host, order, limit))| Filters {
                since,
                until,
                source,
                dataset,
                action,
                text,
                host,
                order,
                limit,
            },
        )
}

fn query(f: &Filters) -> Query {
    Query {
        since_ns: f.since.map(|s| BASE + s * 1000),
        until_ns: f.until.map(|s| BASE + s * 1000),
        // (address, host bits cleared): one address, or its /31, /30 or a /24-ish block.
        source: f.source.map(|(n, bits)| {
            let a = ip(n);
            let prefix = if a.is_ipv4() { 32 - bits } else { 128 - bits };
            Cidr { addr: a, prefix }
        }),
        dataset: f.dataset,
        action: f.action,
        text: f.text.map(|w| WORDS[w].as_bytes().to_vec()),
        host: f.host.map(|h| HOSTS[h].as_bytes().to_vec()),
        order: f.order,
        ..Query::default()
    }
}

fn keys(store: &Store, q: &Query) -> Vec<EventKey> {
    store.scan(q).map(|s| s.unwrap().key).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn paged_answers_are_the_unpaged_answer(
        evs in proptest::collection::vec(ev(), 1..160),
        per in 1usize..40,
        run in 3usize..40,
        fs in proptest::collection::vec(filters(), 12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreConfig {
            index_run_entries: run,
            flush_every_ms: None,
            ..StoreConfig::default()
        }).unwrap();
        let ctx = ParseContext::new((BASE / 1_000_000_000) as i64);
        let mut batch = Batch::new();
        let mut t = 0u64;
        for (i, e) in evs.iter().enumerate() {
            t += e.gap; // gaps of 0 give equal receive times (keys by sequence)
            let l = line(e.kind, e.src, e.host, e.word, i);
            batch.push(&parse_line(l.as_bytes(), &ctx), BASE + t * 1000);
            if batch.len() == per {
                store.append(&batch).unwrap();
                batch.clear();
            }
        }
        store.append(&batch).unwrap();
        let everything: Vec<_> = store.scan(&Query::default()).map(Result::unwrap).collect();
        prop_assert_eq!(everything.len(), evs.len());
        for f in &fs {
            let q = query(f);
            let whole = keys(&store, &q);
            // Brute force: the same filters over every event, in the scan's order.
            let mut want: Vec<EventKey> = everything
                .iter()
                .filter(|s| {
                    let ev = s.event().unwrap();
                    q.since_ns.is_none_or(|a| s.key.time_ns >= a)
                        && q.until_ns.is_none_or(|b| s.key.time_ns < b)
                        && q.matches(&ev)
                        // text and host checked here too, independently of Query::matches
                        && f.text.is_none_or(|w| String::from_utf8_lossy(ev.original).contains(WORDS[w]))
                        && f.host.is_none_or(|h| ev.header.hostname == Some(HOSTS[h].as_bytes()))
                })
                .map(|s| s.key)
                .collect();
            if q.order == Order::NewestFirst {
                want.reverse();
            }
            if q.source.is_some_and(|c| !c.is_single()) {
                // A block is ordered by index run, then address, then time: compare as sets.
                let mut a = whole.clone();
                a.sort();
                let mut b = want.clone();
                b.sort();
                prop_assert_eq!(a, b, "{:?}", f);
            } else {
                prop_assert_eq!(&whole, &want, "{:?}", f);
            }
            // Pages of `limit`, resumed by text cursors.
            let mut paged = Vec::new();
            let mut pq = Query { limit: Some(f.limit), ..q.clone() };
            loop {
                let page: Vec<_> = store.scan(&pq).map(Result::unwrap).collect();
                prop_assert!(page.len() <= f.limit);
                let Some(last) = page.last() else { break };
                pq.after = Some(last.cursor.to_string().parse().unwrap());
                paged.extend(page.iter().map(|s| s.key));
            }
            prop_assert_eq!(&paged, &whole, "{:?}", f);
        }
    }
}
