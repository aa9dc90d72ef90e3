//! Fuzz target for the DNS answer decoder: no panic on any datagram, and every address it
//! returns is of the kind asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_dns::{RecordType, answer};

fuzz_target!(|data: &[u8]| {
    let id = data.first().map_or(0, |b| u16::from(*b)) << 8 | data.get(1).map_or(0, |b| u16::from(*b));
    for kind in [RecordType::A, RecordType::Aaaa] {
        if let Ok(addrs) = answer(data, id, b"host.example", kind) {
            for (a, _) in addrs {
                assert_eq!(a.is_ipv4(), kind == RecordType::A);
            }
        }
    }
});
