//! `picket evidence IP -o FILE`: an incident's evidence bundle (docs/evidence-bundle.md),
//! from the store in `--data` while serve is stopped: the candidate, its stored lines exactly
//! as received with their Merkle inclusion proofs and the chain entries of their batches, its
//! logbook entries and the heads. Writing one is itself logged (action `evidence`, with the
//! file's BLAKE3 hash). `picket verify --bundle FILE` checks a bundle without any store.

use std::path::{Path, PathBuf};

use clap::Args;
use picket_store::{
    Bundle, Cidr, LogbookAction, Query, file_hash, format_heads, hex, logbook_kind, os_user,
};

use super::incidents::open_store;
use crate::error::Error;
use crate::text::{safe_str, safe_text};

/// Examples for `picket evidence --help`.
pub const EXAMPLES: &str = "\
Examples:
  picket --data /var/lib/picket evidence 203.0.113.50 -o 203.0.113.50.bundle
  picket verify --bundle 203.0.113.50.bundle      (anywhere: no store needed)
Exit status: 0 when written, 1 when there is no such candidate.";

/// Options of `picket evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The candidate: its address, or the prefix it is grouped under.
    #[arg(value_name = "IP")]
    pub source: String,
    /// The bundle file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// At most this many lines, the oldest first.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub limit: usize,
}

/// Runs `picket evidence`; `Ok(false)` when there is no candidate for the source.
pub fn run(data: &Path, args: &EvidenceArgs) -> Result<bool, Error> {
    let store = open_store(data)?;
    let store_err = |source| Error::Store {
        dir: data.to_path_buf(),
        source,
    };
    let candidate =
        crate::query::incidents::one(&store, &args.source).map_err(|e| Error::Usage(e.message))?;
    let Some(candidate) = candidate else {
        eprintln!(
            "picket: no candidate for {} (see `picket incidents --offline`)",
            safe_text(args.source.as_bytes())
        );
        return Ok(false);
    };
    let key = candidate.key().to_string();
    let cidr: Cidr = key.parse().map_err(|_| {
        Error::Usage(format!(
            "{} is known by name only: its lines cannot be found by address",
            safe_text(key.as_bytes())
        ))
    })?;
    let q = Query {
        source: Some(cidr),
        limit: Some(args.limit),
        ..Query::default()
    };
    let mut keys = Vec::new();
    for s in store.scan(&q) {
        keys.push(s.map_err(store_err)?.key);
    }
    let ev = store.evidence(&keys).map_err(store_err)?;
    let logbook: Vec<_> = store
        .logbook(None)
        .map_err(store_err)?
        .into_iter()
        .filter(|e| crate::query::logbook::matches(&key, &e.action.incident))
        .collect();
    let bundle = Bundle {
        candidate: serde_json::to_string(&crate::query::incidents::to_json(&candidate, true))
            .unwrap_or_default(),
        heads: format_heads(&store.heads()),
        chain: ev.chain,
        lines: ev.lines,
        whole: ev.whole,
        logbook,
    };
    let bytes = bundle.to_bytes();
    std::fs::write(&args.output, &bytes).map_err(|source| Error::File {
        op: "write",
        path: args.output.clone(),
        source,
    })?;
    let digest = hex(&file_hash(&bytes));
    store
        .logbook_append(&LogbookAction::now(
            &os_user(),
            &key,
            logbook_kind::EVIDENCE,
            &format!(
                "bundle {} ({} lines, {} bytes, blake3 {digest})",
                args.output.display(),
                bundle.lines.len(),
                bytes.len()
            ),
        ))
        .map_err(store_err)?;
    store.flush().map_err(store_err)?;
    super::say!(
        "{}: {} lines in {} batches ({} shipped whole), {} logbook entries, {} bytes; blake3 {digest}",
        safe_str(&args.output.display().to_string()),
        bundle.lines.len(),
        bundle.chain.len(),
        bundle.whole.len(),
        bundle.logbook.len(),
        bytes.len()
    );
    Ok(true)
}

/// `picket verify --bundle FILE`: checks a bundle alone and prints what it proves.
pub fn verify_bundle(file: &Path) -> Result<bool, Error> {
    let bytes = std::fs::read(file).map_err(|source| Error::File {
        op: "read",
        path: file.to_path_buf(),
        source,
    })?;
    let bundle = match Bundle::from_bytes(&bytes) {
        Ok(b) => b,
        Err(e) => {
            super::say!("verify FAILED: {e}");
            return Ok(false);
        }
    };
    let source = serde_json::from_str::<serde_json::Value>(&bundle.candidate)
        .ok()
        .and_then(|v| v.get("source").and_then(|s| s.as_str().map(str::to_string)))
        .unwrap_or_default();
    let report = bundle.verify();
    for (i, l) in report.lines.iter().enumerate() {
        super::say!(
            "line {}: batch {}, received {} from {}: {}",
            i + 1,
            l.batch,
            crate::clock::rfc3339(l.received_ns),
            l.host
                .as_deref()
                .map_or_else(|| "(no host)".to_string(), safe_text),
            safe_text(&l.raw)
        );
    }
    for e in &bundle.logbook {
        let a = &e.action;
        super::say!(
            "logbook #{} {} {} {} {}: {}",
            e.seq,
            crate::clock::rfc3339(a.at_ns),
            safe_str(&a.who),
            safe_str(&a.kind),
            safe_str(&a.incident),
            safe_str(&a.detail)
        );
    }
    match report.problem {
        None => {
            super::say!(
                "bundle of {}: all {} lines are committed by their {} batches' chain entries, \
                 and the {} logbook entries are intact; heads when written: {}",
                safe_str(&source),
                report.lines.len(),
                report.batches,
                report.logbook,
                safe_str(&bundle.heads)
            );
            Ok(true)
        }
        Some(p) => {
            super::say!("verify FAILED: {}", safe_str(&p));
            Ok(false)
        }
    }
}
