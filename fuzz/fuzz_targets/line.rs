//! `parse_line` + `json::write_event`: properties (a)–(d) and (f) of fuzz_support, the header
//! and the family registry agree with parse_line, and serde_json reads the JSON the same way.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let json = common::props::check_line(data);
    common::check_with_serde(data, &json);
});
