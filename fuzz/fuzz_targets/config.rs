//! Fuzz target for the config loader (`picket::fuzzing::check_config`: the TOML text parsed
//! into the config and checked as `picket serve` and `picket report` check it at start): no
//! panic (overflow included, with `--debug-assertions`), no stack overflow on deep nesting,
//! the same text gives the same answer twice, and a refused file gets a message to print.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picket::fuzzing::check_config;

fuzz_target!(|data: &[u8]| {
    // picket reads the file with read_to_string: text that is not UTF-8 never gets here.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = check_config(text).map_err(|e| e.to_string());
    let again = check_config(text).map_err(|e| e.to_string());
    assert_eq!(first, again, "the same config is checked differently");
    if let Err(message) = first {
        assert!(
            !message.trim().is_empty(),
            "a refused config with no message"
        );
    }
});
