//! `dump_events [--whole] PATH...`: parses every line of each file (LF-terminated, a trailing
//! CR dropped, as `picket parse` reads them) and prints one JSON event per line, with a fixed
//! reference time. With `--whole`, each file is one input (fuzz corpora). Used to check that a
//! change to the parsers leaves their output byte-identical: run it before and after and compare.

use std::io::Write;
use std::process::ExitCode;

use picket_parsers::{ParseContext, parse_line, write_event};

fn main() -> ExitCode {
    let mut whole = false;
    let mut paths = Vec::new();
    for a in std::env::args().skip(1) {
        if a == "--whole" {
            whole = true;
        } else {
            paths.push(a);
        }
    }
    let ctx = ParseContext::new(1_795_392_000);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = Vec::new();
    for p in &paths {
        let data = match std::fs::read(p) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("dump_events: {p}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let inputs: Vec<&[u8]> = if whole {
            vec![&data[..]]
        } else {
            data.split(|b| *b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .collect()
        };
        for line in inputs {
            buf.clear();
            write_event(&mut buf, &parse_line(line, &ctx));
            buf.push(b'\n');
            if out.write_all(&buf).is_err() {
                return ExitCode::FAILURE;
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
