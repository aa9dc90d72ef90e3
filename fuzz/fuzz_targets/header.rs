//! `header::parse`: every slice (the message included) lies inside the input, the result does not
//! depend on anything but the input, other contexts change only the stamp, the JSON is sound,
//! and the fast step for the common line reads what the general reader reads.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::props::check_header_input(data);
});
