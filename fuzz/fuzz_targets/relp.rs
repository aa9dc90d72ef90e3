//! Fuzz target for the RELP frame decoder: no panic, no data longer than the maximum, the
//! buffer never grows past the maximum plus a header and one read, and the frames (and the
//! error that ends the stream) do not depend on how the stream was cut into reads.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use picket_framing::relp::{RelpDecoder, RelpError, RelpFrame, encode};

const MAX: usize = 64;
/// The longest header the decoder may hold besides the data.
const HEADER: usize = 53;

fn decode(data: &[u8], step: usize) -> (Vec<RelpFrame>, Option<RelpError>) {
    let mut d = RelpDecoder::new(MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    assert!(f.data.len() <= MAX, "data of {} bytes", f.data.len());
                    out.push(f);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        assert!(
            buf.len() <= MAX + HEADER + 1 + step,
            "buffer grew to {}",
            buf.len()
        );
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let whole = decode(data, data.len().max(1));
    for step in [1, 2, 3, 7, 64] {
        assert_eq!(decode(data, step), whole, "frames depend on read size {step}");
    }
    // What the server encodes decodes back to the same frame.
    for f in &whole.0 {
        if f.truncated {
            continue;
        }
        let name = match &f.command {
            picket_framing::relp::Command::Other(n) => n.clone(),
            c => format!("{c:?}").to_lowercase(),
        };
        let mut out = BytesMut::new();
        encode(f.txnr, &name, &f.data, &mut out);
        let (again, err) = decode(&out, out.len());
        assert_eq!(err, None);
        assert_eq!(again.first(), Some(f));
    }
});
