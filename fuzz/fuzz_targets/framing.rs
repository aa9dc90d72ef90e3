//! Fuzz target for the RFC 6587 stream decoder: no panic, no frame longer than the maximum,
//! the buffer never grows past the maximum plus one read plus an undecided header, and the
//! frames (resynced ones too) do not depend on how the stream was cut into reads (one byte at
//! a time, odd pieces, all at once).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use picket_framing::FrameDecoder;

const MAX: usize = 64;

/// A header the decoder cannot yet tell after a damaged count: ten digits, a space, `<`.
const UNDECIDED: usize = 12;

type Frames = Vec<(Vec<u8>, bool, bool)>;

fn decode(data: &[u8], step: usize) -> Frames {
    let mut d = FrameDecoder::new(MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(f) = d.decode(&mut buf) {
            assert!(f.bytes.len() <= MAX, "frame of {} bytes", f.bytes.len());
            out.push((f.bytes.to_vec(), f.truncated, f.resynced));
        }
        let bound = MAX + UNDECIDED + step;
        assert!(buf.len() <= bound, "buffer grew to {}", buf.len());
    }
    if let Some(f) = d.finish(&mut buf) {
        out.push((f.bytes.to_vec(), f.truncated, f.resynced));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let whole = decode(data, data.len().max(1));
    for step in [1, 2, 3, 7, 64] {
        assert_eq!(decode(data, step), whole, "frames depend on read size {step}");
    }
});
