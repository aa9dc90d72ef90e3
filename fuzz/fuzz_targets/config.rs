//! Fuzz target for the config loader (`picket::fuzzing::check_config`: the TOML text parsed
//! into the config and checked as `picket serve` and `picket report` check it at start, the
//! error located in the file as picket prints it): no panic (overflow included, with
//! `--debug-assertions`), no stack overflow on deep nesting, the same text gives the same
//! answer twice, a refused file gets a message, and a line it names is a line of the file.
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
    let Err(message) = first else {
        return;
    };
    assert!(
        !message.trim().is_empty(),
        "a refused config with no message"
    );
    // `picket.toml:LINE: config key …`: the line where the key is set.
    if let Some(line) = message
        .strip_prefix("picket.toml:")
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(n, _)| n.parse::<usize>().ok())
    {
        assert!(
            (1..=text.lines().count()).contains(&line),
            "line {line} of a {}-line file: {message}",
            text.lines().count()
        );
    }
});
