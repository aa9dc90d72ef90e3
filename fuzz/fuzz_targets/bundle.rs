//! Fuzz target for the evidence bundle reader (picket-store's `Bundle::from_bytes`), the
//! decoder of files a third party hands to `picket verify --bundle`: no panic on any input,
//! verifying what it read does not panic either, and what it read writes out and reads back
//! the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_store::Bundle;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::from_bytes(data) {
        let _ = b.verify();
        let again = Bundle::from_bytes(&b.to_bytes()).expect("a written bundle reads back");
        assert_eq!(again, b);
    }
});
