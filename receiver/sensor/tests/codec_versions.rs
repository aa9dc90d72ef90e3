//! Test-only: records written by older versions of the codec still decode. The fixtures in
//! `tests/fixtures/` are version-1 records written by the sensor before name keys (commit
//! 21f3be7's parent) and version-2 records written before the summary moved to the front
//! (commit 42d94fe): six sshd failures from 194.117.26.69, marked reported by carol, keyed by
//! the address and by its /24.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use picket_parsers::{ParseContext, parse_line};
use picket_sensor::{
    Candidate, CandidateSummary, DecodeError, EventRef, IncidentBook, SensorConfig, SourceKey,
    State, decode_candidate, decode_summary, encode_candidate,
};

fn hex(text: &str) -> Vec<u8> {
    let t = text.trim();
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
        .collect()
}

/// The same candidate made by today's book (what the fixture's writer did).
fn made_now(group: u8) -> Candidate {
    let cfg = SensorConfig {
        group_v4: group,
        ..SensorConfig::default()
    };
    let mut book = IncidentBook::new(cfg);
    let ctx = ParseContext::new(1_700_000_000);
    let mut ch = Vec::new();
    for i in 0..6u32 {
        let l = format!(
            "Feb 25 14:34:{:02} belka sshd[31602]: Failed password for root from 194.117.26.69 port {} ssh2",
            i * 7,
            50273 + i
        );
        let e = parse_line(l.as_bytes(), &ctx);
        let mut r = [0u8; 12];
        r[11] = i as u8;
        book.fold(&e, 0, EventRef(r), &mut ch);
    }
    book.settle(&mut ch);
    let k = book.candidates().next().unwrap().key();
    book.mark(
        &k,
        State::Reported,
        "notice",
        "carol",
        1_700_000_000_000_000_000,
        &mut ch,
    )
    .unwrap();
    book.get(&k).unwrap().clone()
}

#[test]
fn version_1_records_decode() {
    for (file, group, key) in [
        (
            include_str!("fixtures/candidate_v1_address.hex"),
            32,
            "194.117.26.69",
        ),
        (
            include_str!("fixtures/candidate_v1_prefix.hex"),
            24,
            "194.117.26.0/24",
        ),
    ] {
        let bytes = hex(file);
        assert_eq!(bytes[3], 1, "a version-1 record");
        let c = decode_candidate(&bytes).unwrap();
        assert_eq!(c.key(), key.parse::<SourceKey>().unwrap());
        assert!(c.names().is_empty());
        assert_eq!(c.events(), 6);
        assert_eq!(c.state(), State::Reported);
        assert_eq!(c, made_now(group));
        // Written again as the current version, it reads back the same.
        let mut now = Vec::new();
        encode_candidate(&c, &mut now);
        assert_eq!(now[3], 3);
        assert_eq!(decode_candidate(&now).unwrap(), c);
        // Every cut of a version-1 record is an error, not a panic.
        for cut in 0..bytes.len() {
            assert!(decode_candidate(&bytes[..cut]).is_err());
        }
    }
}

#[test]
fn a_name_key_in_a_version_1_record_is_refused() {
    let mut bytes = hex(include_str!("fixtures/candidate_v1_address.hex"));
    // Address family 0 (a name) did not exist in version 1.
    bytes[4] = 0;
    assert_eq!(
        decode_candidate(&bytes),
        Err(DecodeError::Invalid("address family"))
    );
    let mut bytes = hex(include_str!("fixtures/candidate_v1_address.hex"));
    bytes[3] = 4;
    assert_eq!(decode_candidate(&bytes), Err(DecodeError::Version(4)));
}

#[test]
fn version_2_records_decode_and_summarise() {
    for (file, group, key) in [
        (
            include_str!("fixtures/candidate_v2_address.hex"),
            32,
            "194.117.26.69",
        ),
        (
            include_str!("fixtures/candidate_v2_prefix.hex"),
            24,
            "194.117.26.0/24",
        ),
    ] {
        let bytes = hex(file);
        assert_eq!(bytes[3], 2, "a version-2 record");
        let c = decode_candidate(&bytes).unwrap();
        assert_eq!(c.key(), key.parse::<SourceKey>().unwrap());
        assert_eq!(c, made_now(group));
        // The summary of an old record comes from a whole decode, and agrees with the new one.
        let s = decode_summary(&bytes).unwrap();
        assert_eq!(s, CandidateSummary::of(&c));
        assert_eq!(s.state, State::Reported);
        let mut now = Vec::new();
        encode_candidate(&c, &mut now);
        assert_eq!(decode_summary(&now).unwrap(), s);
        for cut in 0..bytes.len() {
            assert!(decode_candidate(&bytes[..cut]).is_err());
            assert!(decode_summary(&bytes[..cut]).is_err());
        }
    }
}
