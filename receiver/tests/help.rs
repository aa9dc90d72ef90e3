//! The help a user reads: every subcommand's `--help` has examples, lists its values in full
//! (no "..."), and shows the global options apart; `picket completions bash|zsh|fish` and
//! `picket man` come from the same clap definitions and know every subcommand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

fn picket(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "picket {args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// The subcommands `picket --help` lists (without `help`).
fn subcommands() -> Vec<String> {
    let top = picket(&["--help"]);
    let list = top
        .split("Commands:\n")
        .nth(1)
        .expect("picket --help lists its commands");
    list.lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

#[test]
fn every_subcommand_has_examples_full_value_lists_and_global_options_apart() {
    let subs = subcommands();
    assert!(subs.len() >= 13, "{subs:?}");
    let mut pages: Vec<(String, String)> = subs
        .iter()
        .map(|s| (s.clone(), picket(&[s, "--help"])))
        .collect();
    pages.push((
        "query events".into(),
        picket(&["query", "events", "--help"]),
    ));
    for (sub, help) in &pages {
        assert!(
            help.contains("\nExamples:\n  picket "),
            "`picket {sub} --help` has no examples:\n{help}"
        );
        for line in help.lines() {
            // `[FILE]...` in a usage line is clap's "repeatable", not a cut list.
            let cleaned = line.replace("]...", "]").replace(">...", ">");
            assert!(
                !cleaned.contains("..."),
                "`picket {sub} --help` cuts a list short: {line}"
            );
        }
        let global = help
            .split("\nGlobal options:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`picket {sub} --help` shows no global options:\n{help}"));
        assert!(global.contains("--data <DIR>") && global.contains("--config <FILE>"));
        let own = help.split("\nGlobal options:\n").next().unwrap();
        assert!(
            !own.contains("--config <FILE>"),
            "{sub}: --config among its own options"
        );
    }
    // Value lists are the real ones.
    let tail = picket(&["tail", "--help"]);
    for v in [
        "log_in_vain",
        "cisco_acl",
        "login-succeeded",
        "service-fail",
    ] {
        assert!(tail.contains(v), "tail --help lacks {v}");
    }
}

#[test]
fn completions_and_the_manual_come_from_the_same_definitions() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let script = picket(&["completions", shell]);
        for s in &subs {
            assert!(script.contains(s.as_str()), "{shell} completion lacks {s}");
        }
        assert!(
            script.contains("max-age"),
            "{shell} completion lacks vacuum's --max-age"
        );
    }
    // The bash script is valid bash, where bash exists.
    if let Ok(mut bash) = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn() {
        let script = picket(&["completions", "bash"]);
        bash.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(
            bash.wait().unwrap().success(),
            "bash -n rejects the completion script"
        );
    }
    let page = picket(&["man"]);
    assert!(page.contains(".TH picket 1"), "{page}");
    for s in &subs {
        assert!(
            page.contains(&format!(".SH \"PICKET {}\"", s.to_uppercase())),
            "the manual has no section for {s}"
        );
    }
    assert!(
        page.contains("picket vacuum \\-\\-max\\-age 180d"),
        "the manual lacks the examples"
    );
    assert!(page.contains("GLOBAL OPTIONS"));
}
