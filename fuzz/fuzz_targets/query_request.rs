//! Fuzz target for the query socket's request decoder (`picket::fuzzing::parse_request`, the
//! function that turns one request line into a `Request` or an error reply): no panic; the
//! same line decodes the same way twice; an error is a documented code whose reply is one
//! JSON line; a request that decodes still decodes to the same thing after its JSON is
//! re-encoded (keys reordered, whitespace and escapes normalised); and a `notice` or
//! `followup` record re-encodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket::fuzzing::{ReplyError, Request, parse_request};

/// A fixed clock (2026-11-24T00:00:00Z), so relative times (`2h`) decode the same each time.
const NOW_NS: u64 = 1_795_392_000_000_000_000;

/// The codes `parse_request` gives (docs/protocol.md lists them).
const CODES: [&str; 4] = ["bad_request", "bad_filter", "unknown_op", "not_available"];

/// The reply an error becomes is one JSON line holding the same code and message.
fn check_error(line: &[u8], e: &ReplyError) {
    assert!(
        CODES.contains(&e.code),
        "undocumented code {:?} for {:?}",
        e.code,
        String::from_utf8_lossy(line)
    );
    assert!(!e.message.is_empty(), "empty message for code {}", e.code);
    let reply = e.to_line();
    assert_eq!(reply.iter().filter(|b| **b == b'\n').count(), 1);
    assert_eq!(reply.last(), Some(&b'\n'));
    let v: serde_json::Value = match serde_json::from_slice(&reply) {
        Ok(v) => v,
        Err(err) => panic!("error reply is not JSON ({err}): {reply:?}"),
    };
    assert_eq!(v["error"]["code"].as_str(), Some(e.code));
    assert_eq!(v["error"]["message"].as_str(), Some(e.message.as_str()));
}

/// A record the server stores comes back equal from its JSON.
fn check_record<T>(r: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let v = match serde_json::to_value(r) {
        Ok(v) => v,
        Err(e) => panic!("record does not encode ({e}): {r:?}"),
    };
    match serde_json::from_value::<T>(v) {
        Ok(back) => assert_eq!(&back, r, "record changes when re-encoded"),
        Err(e) => panic!("encoded record does not decode ({e}): {r:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let first = parse_request(data, NOW_NS);
    let again = parse_request(data, NOW_NS);
    assert_eq!(
        format!("{first:?}"),
        format!("{again:?}"),
        "the same line decodes differently"
    );
    let request = match first {
        Err(e) => {
            check_error(data, &e);
            return;
        }
        Ok(r) => r,
    };
    match &request {
        Request::Notice(r) => check_record(r),
        Request::Followup(r) => check_record(r),
        _ => {}
    }
    // A request that decoded is a JSON object without duplicate keys: serde_json's own value
    // holds all of it, and re-encoded it must mean the same.
    let value: serde_json::Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(e) => panic!("a request decoded but is not JSON to serde_json ({e})"),
    };
    let reencoded = match serde_json::to_vec(&value) {
        Ok(b) => b,
        Err(e) => panic!("JSON does not re-encode ({e})"),
    };
    match parse_request(&reencoded, NOW_NS) {
        Ok(back) => assert_eq!(
            format!("{back:?}"),
            format!("{request:?}"),
            "re-encoded request {} decodes differently",
            String::from_utf8_lossy(&reencoded)
        ),
        Err(e) => panic!(
            "re-encoded request {} fails: {e:?}",
            String::from_utf8_lossy(&reencoded)
        ),
    }
});
