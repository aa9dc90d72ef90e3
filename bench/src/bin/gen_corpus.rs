//! `gen_corpus LINES OUT [SEED] [mixed|security]`: writes LINES lines of the mixed benchmark
//! corpus (or the security-only one: tcpd, Snort, PortSentry, xinetd, log_in_vain) to OUT
//! (`-` for standard output), one per line. The same LINES, SEED and kind give the same file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: gen_corpus LINES OUT [SEED] [mixed|security]   (OUT may be - for stdout; SEED defaults to 1)"
        );
        ExitCode::from(2)
    };
    let (Some(n), Some(path)) = (args.first(), args.get(1)) else {
        return usage();
    };
    let Ok(n) = n.replace('_', "").parse::<usize>() else {
        return usage();
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(s)) => s,
        Some(Err(_)) => return usage(),
    };
    let security = match args.get(3).map(String::as_str) {
        None | Some("mixed") => false,
        Some("security") => true,
        Some(_) => return usage(),
    };
    let result = (|| -> io::Result<()> {
        let sink: Box<dyn Write> = if path == "-" {
            Box::new(io::stdout().lock())
        } else {
            Box::new(File::create(path)?)
        };
        let mut out = BufWriter::with_capacity(1 << 20, sink);
        if security {
            picket_bench::write_security_corpus(&mut out, n, seed)?;
        } else {
            picket_bench::write_corpus(&mut out, n, seed)?;
        }
        out.flush()
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_corpus: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
