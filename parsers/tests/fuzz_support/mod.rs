//! Property checks shared by the fuzz targets (`fuzz/fuzz_targets/*.rs` include this file with
//! `#[path]`) and by `tests/fuzz_regressions.rs`, so a regression file is held to exactly what
//! the fuzzer checked. Std only: the JSON is read by the small strict reader at the bottom
//! (the fuzz targets also cross-check it against serde_json).
//!
//! Every check panics with a message naming the property that failed.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::IpAddr;

use picket_parsers::{
    Dataset, Details, Event, FAMILIES, Header, ParseContext, Timestamp, Transport, civil_from_days,
    days_from_civil, parse_header, parse_header_general, write_event,
};

/// 2026-11-23T00:00:00Z, the reference the crate's own tests use.
pub const REFERENCE: i64 = 1_795_392_000;

/// The context every check parses with.
pub fn ctx() -> ParseContext {
    ParseContext::new(REFERENCE)
}

/// Other contexts the header is parsed with (no panic, slices still inside): epoch, far
/// future, extreme zone offsets.
pub fn other_contexts() -> [ParseContext; 4] {
    [
        ParseContext::new(0),
        ParseContext::new(253_402_300_799), // 9999-12-31T23:59:59Z
        ParseContext::new(REFERENCE).with_offset(14 * 3600),
        ParseContext::new(REFERENCE).with_offset(-12 * 3600),
    ]
}

/// True when `part` lies inside `whole` (by address; an empty `part` may sit at either end).
pub fn inside(whole: &[u8], part: &[u8]) -> bool {
    let start = whole.as_ptr() as usize;
    let end = start + whole.len();
    let p = part.as_ptr() as usize;
    p >= start && p.checked_add(part.len()).is_some_and(|e| e <= end)
}

thread_local! {
    /// Whether an empty `message` must point into the input too. On: the fuzzers once found
    /// lex::split_word returning a `'static` empty slice (fixed); the switch stays so a future
    /// finding of the same kind can be tolerated while it is fixed.
    pub static STRICT_EMPTY_MESSAGE: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// True when `s` is the header's empty message and the known finding above is tolerated.
fn tolerated_empty_message(h: &Header<'_>, s: &[u8]) -> bool {
    s.is_empty()
        && h.message.is_empty()
        && s.as_ptr() == h.message.as_ptr()
        && !STRICT_EMPTY_MESSAGE.with(|c| c.get())
}

fn assert_inside(whole: &[u8], part: &[u8], what: &str) {
    assert!(
        inside(whole, part),
        "property (a) failed: {what} {part:?} is not a slice of the input {whole:?}"
    );
}

/// (a) and (e) for a header: every slice field, the message included, points into `input`.
pub fn check_header(input: &[u8], h: &Header<'_>) {
    for (what, s) in [
        ("header.hostname", h.hostname),
        ("header.appname", h.appname),
        ("header.procid", h.procid),
        ("header.msgid", h.msgid),
        ("header.structured_data", h.structured_data),
        ("header.message", Some(h.message)),
        ("header.program()", h.program()),
    ] {
        if let Some(s) = s
            && !tolerated_empty_message(h, s)
        {
            assert_inside(input, s, what);
        }
    }
    assert!(
        h.pri.is_none_or(|p| p <= 191),
        "header.pri {:?} out of range",
        h.pri
    );
}

/// (a) for details: every slice field points into `input`.
pub fn check_details(input: &[u8], d: &Details<'_>) {
    let transport = match d.transport {
        Some(Transport::Other(t)) => Some(t),
        _ => None,
    };
    for (what, s) in [
        ("source.domain", d.source.domain),
        ("destination.domain", d.destination.domain),
        ("network.transport (Other)", transport),
        ("rule.id", d.rule.id),
        ("rule.name", d.rule.name),
        ("rule.category", d.rule.category),
        ("user", d.user),
        ("service", d.service),
        ("code", d.code),
    ] {
        if let Some(s) = s {
            assert_inside(input, s, what);
        }
    }
}

/// All checks on an event built from `input`: (a) slices inside, (b) `original` is the input,
/// (c) the JSON; returns the JSON written.
pub fn check_event(input: &[u8], ev: &Event<'_>) -> Vec<u8> {
    assert!(
        ev.original.as_ptr() == input.as_ptr() && ev.original.len() == input.len(),
        "property (b) failed: event.original is not exactly the input"
    );
    check_header(input, &ev.header);
    check_details(input, &ev.details);
    for s in ev.borrowed_fields() {
        if !tolerated_empty_message(&ev.header, s) {
            assert_inside(input, s, "Event::borrowed_fields() item");
        }
    }
    let mut out = Vec::new();
    write_event(&mut out, ev);
    check_json(&out, ev);
    check_appends(&out, ev);
    out
}

/// (f) `write_event` writes into the spare capacity of the buffer it is given: appended after
/// bytes already there, with stale bytes in that capacity (0xff, which the JSON never holds:
/// bytes that are not UTF-8 are written as `\xNN`), it appends exactly what it writes into an
/// empty buffer and leaves the bytes before alone. Catches a byte counted as written but not
/// written, or a write past the room it reserved.
pub fn check_appends(json: &[u8], ev: &Event<'_>) {
    let before = b"{\"x\":1}\n";
    // More than the writer reserves (16 bytes a line byte and 2 KiB; its second pass, for
    // lines past that, is tested in its unit tests), so that it writes into the stale bytes.
    let spare = 32 * ev.original.len() + json.len() + 8192;
    let mut buf = Vec::with_capacity(before.len() + spare);
    buf.resize(buf.capacity(), 0xff);
    buf.truncate(0);
    buf.extend_from_slice(before);
    write_event(&mut buf, ev);
    assert!(
        buf.starts_with(before) && &buf[before.len()..] == json,
        "property (f) failed: appended JSON differs from the JSON alone: {:?}",
        String::from_utf8_lossy(&buf)
    );
}

/// The text a JSON string written by `json::write_str` must decode to: valid UTF-8 as is,
/// each byte that is not UTF-8 as the four characters `\xNN`.
pub fn expected_text(b: &[u8]) -> String {
    let mut s = String::new();
    for chunk in b.utf8_chunks() {
        s.push_str(chunk.valid());
        for byte in chunk.invalid() {
            let _ = write!(s, "\\x{byte:02x}");
        }
    }
    s
}

/// (c): the JSON is one object, has no raw control bytes, no duplicate keys, no empty nested
/// objects, and every field decodes to what the event holds.
pub fn check_json(out: &[u8], ev: &Event<'_>) {
    if let Some(pos) = out.iter().position(|&b| b < 0x20 || b == 0x7f) {
        panic!(
            "property (c) failed: raw control byte {:#04x} at {pos} in JSON {:?}",
            out[pos],
            String::from_utf8_lossy(out)
        );
    }
    let text = match std::str::from_utf8(out) {
        Ok(t) => t,
        Err(e) => panic!("property (c) failed: JSON is not UTF-8 ({e}): {out:?}"),
    };
    if let Some(c) = text.chars().find(|c| ('\u{80}'..='\u{9f}').contains(c)) {
        panic!("property (c) failed: raw C1 control {c:?} in JSON {text:?}");
    }
    let value = match minijson::parse(text) {
        Ok(v) => v,
        Err(e) => panic!("property (c) failed: JSON does not parse ({e}): {text}"),
    };
    let Value::Obj(_) = value else {
        panic!("property (c) failed: JSON is not an object: {text}");
    };
    value.check_shape(true);

    let h = &ev.header;
    let d = &ev.details;
    let strings: [(&[&str], Option<&[u8]>); 18] = [
        (&["event", "original"], Some(ev.original)),
        (&["event", "dataset"], Some(ev.dataset.as_str().as_bytes())),
        (
            &["event", "action"],
            d.action.map(|a| a.as_str().as_bytes()),
        ),
        (&["event", "code"], d.code),
        (&["message"], Some(h.message)),
        (&["host", "hostname"], h.hostname),
        (&["process", "name"], h.appname),
        (&["source", "domain"], d.source.domain),
        (&["destination", "domain"], d.destination.domain),
        (&["network", "transport"], d.transport.map(|t| t.name())),
        (&["rule", "id"], d.rule.id),
        (&["rule", "name"], d.rule.name),
        (&["rule", "category"], d.rule.category),
        (&["user", "name"], d.user),
        (&["service", "name"], d.service),
        (&["log", "syslog", "procid"], h.procid),
        (&["log", "syslog", "msgid"], h.msgid),
        (&["log", "syslog", "structured_data"], h.structured_data),
    ];
    for (path, want) in strings {
        let got = value.get(path);
        match (want, got) {
            (None, None) => {}
            (Some(w), Some(Value::Str(g))) => {
                let w = expected_text(w);
                assert!(
                    *g == w,
                    "property (c) failed: JSON {path:?} decodes to {g:?}, expected {w:?}"
                );
                if path == ["event", "original"] && std::str::from_utf8(ev.original).is_ok() {
                    assert!(
                        g.as_bytes() == ev.original,
                        "property (c) failed: event.original is not the UTF-8 input"
                    );
                }
            }
            _ => panic!("property (c) failed: JSON {path:?} is {got:?}, expected {want:?}"),
        }
    }
    let numbers: [(&[&str], Option<u64>); 8] = [
        (&["process", "pid"], h.pid().map(u64::from)),
        (&["source", "port"], d.source.port.map(u64::from)),
        (&["destination", "port"], d.destination.port.map(u64::from)),
        (&["event", "repeat_count"], h.repeat.map(u64::from)),
        (
            &["log", "syslog", "facility", "code"],
            h.facility().map(u64::from),
        ),
        (
            &["log", "syslog", "severity", "code"],
            h.severity().map(u64::from),
        ),
        (&["log", "syslog", "version"], h.version.map(u64::from)),
        (&["log", "syslog", "sequence"], h.sequence.map(u64::from)),
    ];
    for (path, want) in numbers {
        let got = value.get(path);
        let ok = match (want, got) {
            (None, None) => true,
            (Some(w), Some(Value::Num(g))) => *g == w.to_string(),
            _ => false,
        };
        assert!(
            ok,
            "property (c) failed: JSON {path:?} is {got:?}, expected {want:?}"
        );
    }
    for (path, want) in [
        (&["source", "ip"][..], d.source.ip),
        (&["destination", "ip"][..], d.destination.ip),
    ] {
        let got = value.get(path);
        let ok = match (want, got) {
            (None, None) => true,
            (Some(w), Some(Value::Str(g))) => g.parse::<IpAddr>().ok() == Some(w),
            _ => false,
        };
        assert!(
            ok,
            "property (c) failed: JSON {path:?} is {got:?}, expected {want:?}"
        );
    }
    let stamp = h.timestamp.or(ev.received);
    match (stamp, value.get(&["@timestamp"])) {
        (None, None) => {}
        (Some(t), Some(Value::Str(g))) => check_rfc3339(g, t),
        (want, got) => panic!("property (c) failed: @timestamp is {got:?}, expected {want:?}"),
    }
}

/// The stamp reads back as the same instant (when its year fits in four digits).
fn check_rfc3339(s: &str, t: Timestamp) {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> i64 {
        let d = b
            .get(r.clone())
            .unwrap_or_else(|| panic!("@timestamp {s:?} too short"));
        assert!(
            d.iter().all(u8::is_ascii_digit),
            "@timestamp {s:?} has a non-digit at {r:?}"
        );
        d.iter().fold(0, |a, &c| a * 10 + i64::from(c - b'0'))
    };
    assert!(
        b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':',
        "property (c) failed: @timestamp {s:?} is not RFC 3339"
    );
    assert!(
        s.ends_with('Z'),
        "property (c) failed: @timestamp {s:?} does not end in Z"
    );
    let (y, mo, d, hh, mm, ss) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    );
    let frac = &b[19..b.len() - 1];
    let nanos = if frac.is_empty() {
        0
    } else {
        assert!(
            frac[0] == b'.' && matches!(frac.len() - 1, 3 | 6 | 9),
            "property (c) failed: @timestamp {s:?} has a bad fraction"
        );
        num(20..19 + frac.len()) * 10i64.pow(9 - (frac.len() as u32 - 1))
    };
    assert!((1..=12).contains(&mo) && (1..=31).contains(&d) && hh < 24 && mm < 60 && ss < 60);
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + hh * 3600 + mm * 60 + ss;
    let (true_year, _, _) = civil_from_days(t.secs.div_euclid(86_400));
    if (0..=9999).contains(&true_year) {
        assert!(
            secs == t.secs && nanos == i64::from(t.nanos % 1_000_000_000),
            "property (c) failed: @timestamp {s:?} is not {t:?}"
        );
    }
}

/// (g) The header reader's fast step for the common line changes nothing: `parse_header`
/// gives the very fields (the same slices of the input) that the general reader alone gives.
fn check_fast_step(input: &[u8], h: &Header<'_>, c: &ParseContext) {
    let general = parse_header_general(input, c);
    let at = |s: Option<&[u8]>| s.map(|s| (s.as_ptr() as usize, s.len()));
    let slices = |h: &Header<'_>| {
        [
            at(h.hostname),
            at(h.appname),
            at(h.procid),
            at(h.msgid),
            at(h.structured_data),
            at(Some(h.message)),
        ]
    };
    assert!(
        *h == general && slices(h) == slices(&general),
        "property (g) failed: the fast step read {h:?}, the general reader {general:?}"
    );
}

/// The header target: header::parse with every context, (a)/(e), (d), (g), and the JSON of the
/// header alone.
pub fn check_header_input(input: &[u8]) {
    let h = parse_header(input, &ctx());
    check_header(input, &h);
    check_fast_step(input, &h, &ctx());
    let again = parse_header(input, &ctx());
    assert!(
        format!("{h:?}") == format!("{again:?}"),
        "property (d) failed: header::parse is not deterministic"
    );
    for c in other_contexts() {
        let other = parse_header(input, &c);
        check_header(input, &other);
        check_fast_step(input, &other, &c);
        assert!(
            other.message == h.message
                && other.hostname == h.hostname
                && other.appname == h.appname,
            "the context changed more than the timestamp: {h:?} vs {other:?}"
        );
    }
    let ev = Event {
        original: input,
        header: h,
        dataset: Dataset::Syslog,
        details: Details::default(),
        received: None,
        truncated: false,
    };
    check_event(input, &ev);
}

/// A line [`check_line`] parses before the input, into the event it then parses the input
/// into: a Snort alert with a signature, classification, priority, ports and a protocol.
const PRIMER: &[u8] = b"<33>1 2003-10-11T22:14:15.003Z ids snort 1234 - - [1:1390:5] SHELLCODE x86 inc ebx NOOP [Classification: Executable code was detected] [Priority: 1]: {TCP} 192.0.2.7:1025 -> 10.0.0.5:80";

/// The `line` target: parse_line, (a)–(d), and agreement with header::parse and the registry.
pub fn check_line(input: &[u8]) -> Vec<u8> {
    let ev = picket_parsers::parse_line(input, &ctx());
    let out = check_event(input, &ev);
    let again = picket_parsers::parse_line(input, &ctx());
    assert!(
        format!("{ev:?}") == format!("{again:?}"),
        "property (d) failed: parse_line is not deterministic"
    );
    let mut out2 = Vec::new();
    write_event(&mut out2, &again);
    assert!(
        out == out2,
        "property (d) failed: write_event is not deterministic"
    );
    // Into an event that held another line (one with details of every kind a family sets):
    // nothing of that line may be left.
    let mut reused = picket_parsers::parse_line(PRIMER, &ctx());
    assert!(reused.dataset == picket_parsers::Dataset::Snort && reused.details.priority.is_some());
    reused.truncated = true;
    picket_parsers::parse_line_into(input, &ctx(), &mut reused);
    assert!(
        reused == ev,
        "parse_line_into into a used event differs from parse_line"
    );
    let h = parse_header(input, &ctx());
    assert!(
        ev.header == h,
        "parse_line's header differs from header::parse"
    );
    if ev.details != Details::default() {
        let fam = FAMILIES
            .iter()
            .find(|f| f.dataset == ev.dataset)
            .unwrap_or_else(|| panic!("dataset {:?} has details but no family", ev.dataset));
        assert!(
            (fam.parse)(&ev.header) == Some(ev.details),
            "classify's details differ from the {:?} parser's own",
            ev.dataset
        );
    }
    out
}

/// A family target: the family's parser on `Header::bare(input)` and on the parsed header;
/// (a), (c), (d) on each.
pub fn check_family(
    input: &[u8],
    dataset: Dataset,
    parse: for<'a> fn(&Header<'a>) -> Option<Details<'a>>,
) -> Vec<Vec<u8>> {
    let mut jsons = Vec::new();
    for h in [Header::bare(input), parse_header(input, &ctx())] {
        let first = parse(&h);
        let second = parse(&h);
        assert!(
            format!("{first:?}") == format!("{second:?}"),
            "property (d) failed: {dataset:?} parser is not deterministic"
        );
        if let Some(d) = first {
            check_details(input, &d);
            let ev = Event {
                original: input,
                header: h,
                dataset,
                details: d,
                received: None,
                truncated: false,
            };
            jsons.push(check_event(input, &ev));
        }
    }
    jsons
}

/// Every check there is, for the regression test: the line, the header, and every family.
pub fn check_all(input: &[u8]) {
    check_line(input);
    check_header_input(input);
    for f in FAMILIES.iter() {
        check_family(input, f.dataset, f.parse);
    }
}

pub use minijson::Value;

/// A strict RFC 8259 reader, just enough to check what json.rs writes.
pub mod minijson {
    /// A JSON value; objects keep their keys in order (duplicates are rejected by the reader).
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        /// The number as written.
        Num(String),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
    }

    impl Value {
        /// The value at a path of object keys.
        pub fn get(&self, path: &[&str]) -> Option<&Value> {
            let mut v = self;
            for k in path {
                let Value::Obj(members) = v else { return None };
                v = &members.iter().find(|(key, _)| key == k)?.1;
            }
            Some(v)
        }

        /// No nested object is empty (json.rs removes those again).
        pub fn check_shape(&self, top: bool) {
            match self {
                Value::Obj(m) => {
                    assert!(
                        top || !m.is_empty(),
                        "property (c) failed: empty nested object"
                    );
                    for (_, v) in m {
                        v.check_shape(false);
                    }
                }
                Value::Arr(a) => a.iter().for_each(|v| v.check_shape(false)),
                _ => {}
            }
        }
    }

    /// Parses exactly one value with nothing but whitespace around it.
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut r = Reader {
            b: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        r.ws();
        let v = r.value()?;
        r.ws();
        if r.pos != r.b.len() {
            return Err(format!("trailing bytes at {}", r.pos));
        }
        Ok(v)
    }

    struct Reader<'a> {
        b: &'a [u8],
        pos: usize,
        depth: usize,
    }

    impl Reader<'_> {
        fn peek(&self) -> Option<u8> {
            self.b.get(self.pos).copied()
        }

        fn err<T>(&self, what: &str) -> Result<T, String> {
            Err(format!("{what} at byte {}", self.pos))
        }

        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.pos += 1;
            }
        }

        fn lit(&mut self, word: &str, v: Value) -> Result<Value, String> {
            if self.b[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                Ok(v)
            } else {
                self.err("bad literal")
            }
        }

        fn value(&mut self) -> Result<Value, String> {
            match self.peek() {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => self.string().map(Value::Str),
                Some(b't') => self.lit("true", Value::Bool(true)),
                Some(b'f') => self.lit("false", Value::Bool(false)),
                Some(b'n') => self.lit("null", Value::Null),
                Some(b'-' | b'0'..=b'9') => self.number(),
                _ => self.err("expected a value"),
            }
        }

        fn enter(&mut self) -> Result<(), String> {
            self.depth += 1;
            if self.depth > 64 {
                return self.err("too deep");
            }
            self.pos += 1;
            self.ws();
            Ok(())
        }

        fn object(&mut self) -> Result<Value, String> {
            self.enter()?;
            let mut members: Vec<(String, Value)> = Vec::new();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                self.depth -= 1;
                return Ok(Value::Obj(members));
            }
            loop {
                if self.peek() != Some(b'"') {
                    return self.err("expected a key");
                }
                let k = self.string()?;
                if members.iter().any(|(key, _)| *key == k) {
                    return self.err(&format!("duplicate key {k:?}"));
                }
                self.ws();
                if self.peek() != Some(b':') {
                    return self.err("expected ':'");
                }
                self.pos += 1;
                self.ws();
                let v = self.value()?;
                members.push((k, v));
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.ws();
                    }
                    Some(b'}') => {
                        self.pos += 1;
                        self.depth -= 1;
                        return Ok(Value::Obj(members));
                    }
                    _ => return self.err("expected ',' or '}'"),
                }
            }
        }

        fn array(&mut self) -> Result<Value, String> {
            self.enter()?;
            let mut items = Vec::new();
            if self.peek() == Some(b']') {
                self.pos += 1;
                self.depth -= 1;
                return Ok(Value::Arr(items));
            }
            loop {
                items.push(self.value()?);
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.ws();
                    }
                    Some(b']') => {
                        self.pos += 1;
                        self.depth -= 1;
                        return Ok(Value::Arr(items));
                    }
                    _ => return self.err("expected ',' or ']'"),
                }
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            self.pos - start
        }

        fn number(&mut self) -> Result<Value, String> {
            let start = self.pos;
            if self.peek() == Some(b'-') {
                self.pos += 1;
            }
            match self.peek() {
                Some(b'0') => self.pos += 1,
                Some(b'1'..=b'9') => {
                    self.digits();
                }
                _ => return self.err("bad number"),
            }
            if self.peek() == Some(b'.') {
                self.pos += 1;
                if self.digits() == 0 {
                    return self.err("bad fraction");
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                if self.digits() == 0 {
                    return self.err("bad exponent");
                }
            }
            let s = std::str::from_utf8(&self.b[start..self.pos]).map_err(|e| e.to_string())?;
            Ok(Value::Num(s.to_owned()))
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let h = self
                .b
                .get(self.pos..self.pos + 4)
                .ok_or("short \\u escape")?;
            let s = std::str::from_utf8(h).map_err(|e| e.to_string())?;
            if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
                return self.err("bad \\u escape");
            }
            self.pos += 4;
            u32::from_str_radix(s, 16).map_err(|e| e.to_string())
        }

        fn string(&mut self) -> Result<String, String> {
            self.pos += 1; // the opening quote
            let mut out = String::new();
            loop {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c != b'"' && c != b'\\' && c >= 0x20)
                {
                    self.pos += 1;
                }
                let run =
                    std::str::from_utf8(&self.b[start..self.pos]).map_err(|e| e.to_string())?;
                out.push_str(run);
                match self.peek() {
                    Some(b'"') => {
                        self.pos += 1;
                        return Ok(out);
                    }
                    Some(b'\\') => {
                        self.pos += 1;
                        let e = self.peek().ok_or("escape at end")?;
                        self.pos += 1;
                        match e {
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            b'/' => out.push('/'),
                            b'b' => out.push('\u{8}'),
                            b'f' => out.push('\u{c}'),
                            b'n' => out.push('\n'),
                            b'r' => out.push('\r'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let mut c = self.hex4()?;
                                if (0xD800..0xDC00).contains(&c) {
                                    if !self.b[self.pos..].starts_with(b"\\u") {
                                        return self.err("lone high surrogate");
                                    }
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return self.err("bad low surrogate");
                                    }
                                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                                }
                                out.push(char::from_u32(c).ok_or("lone low surrogate")?);
                            }
                            _ => return self.err("bad escape"),
                        }
                    }
                    Some(_) => return self.err("raw control character in string"),
                    None => return self.err("unterminated string"),
                }
            }
        }
    }
}
