//! The `verify` report, the same whether `picket verify` reads the store itself or asks the
//! running server (op `verify`, over the store as of the request while ingest goes on): the
//! lines a user reads and whether everything verified.

use picket_store::{Store, StoreError, format_heads, hex, parse_heads};

/// What a verify found.
pub struct Report {
    /// Everything verified (and every expected head is held).
    pub ok: bool,
    /// The lines to print, in order.
    pub lines: Vec<String>,
}

/// Checks the event chain, the logbook and the heads recorded earlier (`events:N:HEX`,
/// `logbook:N:HEX`, or both joined by a comma). `Err(text)` for a head that does not parse.
pub fn report(
    store: &Store,
    expect_heads: &[String],
) -> Result<Result<Report, StoreError>, String> {
    let mut expected = Vec::new();
    for h in expect_heads {
        expected.extend(parse_heads(h)?);
    }
    Ok(run(store, &expected))
}

fn run(store: &Store, expected: &[picket_store::Head]) -> Result<Report, StoreError> {
    let report = store.verify()?;
    let mut ok = true;
    let mut lines = Vec::new();
    match &report.problem {
        None => lines.push(format!(
            "all {} events in {} batches verify; chain head {}",
            report.events,
            report.batches,
            hex(&report.head)
        )),
        Some(p) => {
            ok = false;
            lines.push(format!("verify FAILED: {p}"));
            lines.push(format!(
                "({} events in {} batches verified before it)",
                report.events, report.batches
            ));
        }
    }
    let lb = &report.logbook;
    match &lb.problem {
        None => lines.push(format!(
            "all {} logbook entries verify; logbook head {}",
            lb.entries,
            hex(&lb.head.1)
        )),
        Some(p) => {
            ok = false;
            lines.push(format!(
                "verify FAILED: {}",
                crate::text::safe_str(&p.to_string())
            ));
            lines.push(format!(
                "({} logbook entries verified before it)",
                lb.entries
            ));
        }
    }
    for h in expected {
        match store.check_head(h)? {
            None => lines.push(format!("expected head {h} is in the store")),
            Some(why) => {
                ok = false;
                lines.push(format!("verify FAILED: {why}"));
            }
        }
    }
    let heads = store.heads();
    if !heads.is_empty() {
        lines.push(format!("heads {}", format_heads(&heads)));
    }
    Ok(Report { ok, lines })
}
