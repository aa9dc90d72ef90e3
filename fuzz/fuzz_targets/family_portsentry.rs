//! `portsentry` parser on `Header::bare(input)` and on the parsed header of the input: slices stay
//! inside the input, the parser is deterministic, the JSON of the result is sound.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use picket_parsers::families::portsentry;

fuzz_target!(|data: &[u8]| {
    for json in common::props::check_family(data, portsentry::FAMILY.dataset, portsentry::parse) {
        common::check_with_serde(data, &json);
    }
});
