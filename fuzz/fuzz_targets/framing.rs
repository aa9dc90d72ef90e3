//! Fuzz target for the RFC 6587 stream decoder: no panic, no frame longer than the maximum,
//! the buffer never grows past the maximum plus one read, and the frames do not depend on how
//! the stream was cut into reads (one byte at a time, odd pieces, all at once).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use picket_framing::FrameDecoder;

const MAX: usize = 64;

fn decode(data: &[u8], step: usize) -> (Vec<(Vec<u8>, bool)>, bool) {
    let mut d = FrameDecoder::new(MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    assert!(f.bytes.len() <= MAX, "frame of {} bytes", f.bytes.len());
                    out.push((f.bytes.to_vec(), f.truncated));
                }
                Ok(None) => break,
                Err(_) => return (out, true),
            }
            assert!(buf.len() <= MAX + 1 + step, "buffer grew to {}", buf.len());
        }
        assert!(buf.len() <= MAX + 1 + step, "buffer grew to {}", buf.len());
    }
    if let Some(f) = d.finish(&mut buf) {
        out.push((f.bytes.to_vec(), f.truncated));
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let whole = decode(data, data.len().max(1));
    for step in [1, 2, 3, 7, 64] {
        assert_eq!(decode(data, step), whole, "frames depend on read size {step}");
    }
});
