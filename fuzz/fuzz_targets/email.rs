//! Fuzz target for picket-notice's reply reader (header fields, RFC 2047 words, MIME walk,
//! DSN fields, classification): no panic on any message, and what it returns holds: the
//! walk stays within its bounds, a report id it finds has the report-id shape, and the
//! message ids it gives are non-empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_notice::{MAX_PARTS, Part, find_report_id, read_reply, walk};

fuzz_target!(|data: &[u8]| {
    let r = read_reply(data);
    if let Some(id) = &r.report_id {
        assert_eq!(id.len(), 16);
        assert!(id.starts_with("PKT-"));
    }
    assert!(r.refers_to.iter().all(|m| !m.is_empty()));
    let top = Part::parse(data);
    assert!(walk(&top).len() <= MAX_PARTS);
    let _ = find_report_id(&String::from_utf8_lossy(data));
});
