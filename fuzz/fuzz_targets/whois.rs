//! Fuzz target for the whois reply reader: no panic on any reply, every string it returns is
//! a slice of the reply (or a registry host it knows), no abuse address it returns is a
//! placeholder, and a referral's target is what the client will parse or refuse, not crash on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket_whois::{Server, is_placeholder, parse_reply};

/// True when `part` lies inside `whole`.
fn inside(whole: &str, part: &str) -> bool {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = parse_reply(&text);
    for s in [r.domain, r.netname, r.range, r.country, r.org].into_iter().flatten() {
        assert!(inside(&text, s) || s == "JP", "{s:?} is not from the reply");
    }
    if let Some(a) = r.abuse {
        assert!(inside(&text, a.address));
        assert!(!is_placeholder(a.address), "placeholder {:?} used", a.address);
    }
    if let Some(f) = r.referral {
        assert!(inside(&text, f.key) && inside(&text, f.value));
        assert!(inside(&text, f.target) || f.target.starts_with("whois."));
        let _ = Server::parse(f.target).map(|s| s.query("192.0.2.1".parse().unwrap()));
    }
});
