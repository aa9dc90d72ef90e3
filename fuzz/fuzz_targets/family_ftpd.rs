//! `ftpd` parser on `Header::bare(input)` and on the parsed header of the input: slices stay
//! inside the input, the parser is deterministic, the JSON of the result is sound.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use picket_parsers::{Dataset, FAMILIES};

fuzz_target!(|data: &[u8]| {
    let family = FAMILIES
        .iter()
        .find(|f| f.dataset == Dataset::Ftpd)
        .expect("the family is registered");
    for json in common::props::check_family(data, family.dataset, family.parse) {
        common::check_with_serde(data, &json);
    }
});
