//! Reading the replies an abuse desk gets: an RFC 5322 header reader (unfolding, RFC 2047
//! encoded words), a MIME walk (multipart bodies, nested messages), and the classification
//! of a reply as a bounce (an RFC 3464 delivery status notification), an automated answer
//! (RFC 3834 `Auto-Submitted`, `X-Autoreply`, `Precedence`, ticket systems), or a person's.
//! The input is bytes from anyone: nothing here panics, and every size is bounded.

use crate::sha256::hex;

/// At most this many header fields are read from one header block.
pub const MAX_FIELDS: usize = 500;
/// MIME parts nest at most this deep.
pub const MAX_DEPTH: usize = 8;
/// At most this many MIME parts are read from one message.
pub const MAX_PARTS: usize = 200;

/// One header field, unfolded; the value decoded from RFC 2047 where it has encoded words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name as written.
    pub name: String,
    /// The value, unfolded, trimmed.
    pub value: String,
}

/// A message or MIME part: its header fields and its body bytes.
#[derive(Debug, Clone, Default)]
pub struct Part<'a> {
    /// The header fields, in order.
    pub fields: Vec<Field>,
    /// The body (after the blank line).
    pub body: &'a [u8],
}

/// A `Content-Type`: `type/subtype` lower-cased, and its parameters (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentType {
    /// `text/plain`, `multipart/report`, …
    pub mime: String,
    /// Parameters.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Reads a `Content-Type` value; plain text when it has none.
    pub fn parse(v: Option<&str>) -> ContentType {
        let Some(v) = v else {
            return ContentType {
                mime: "text/plain".into(),
                params: Vec::new(),
            };
        };
        let mut it = split_params(v).into_iter();
        let mime = it.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = it
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                Some((k.trim().to_ascii_lowercase(), v.replace("\\\"", "\"")))
            })
            .collect();
        ContentType { mime, params }
    }

    /// A parameter by (lower-case) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits at `;` outside quotes.
fn split_params(v: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in v.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(v.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(v.get(start..).unwrap_or_default());
    out
}

/// Where the header block ends: the index of the body's first byte (after the blank line),
/// and the header block's length. A message without a blank line is all header.
fn split_header(b: &[u8]) -> (usize, usize) {
    if b.starts_with(b"\r\n") {
        return (2, 0);
    }
    if b.starts_with(b"\n") {
        return (1, 0);
    }
    let mut i = 0;
    while let Some(p) = memchr_nl(b.get(i..).unwrap_or_default()) {
        let nl = i + p;
        let next = b.get(nl + 1..).unwrap_or_default();
        if next.starts_with(b"\r\n") {
            return (nl + 3, nl + 1);
        }
        if next.starts_with(b"\n") {
            return (nl + 2, nl + 1);
        }
        i = nl + 1;
    }
    (b.len(), b.len())
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|c| *c == b'\n')
}

impl<'a> Part<'a> {
    /// Reads a message or part. Lenient: lines that are not fields are skipped.
    pub fn parse(b: &'a [u8]) -> Part<'a> {
        let (body_at, head_len) = split_header(b);
        let head = b.get(..head_len).unwrap_or_default();
        let mut fields: Vec<Field> = Vec::new();
        for raw in head.split(|c| *c == b'\n') {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            if matches!(line.first(), Some(b' ' | b'\t')) {
                if let Some(f) = fields.last_mut() {
                    f.value.push(' ');
                    f.value.push_str(String::from_utf8_lossy(line).trim());
                }
                continue;
            }
            if fields.len() >= MAX_FIELDS {
                break;
            }
            let Some(colon) = line.iter().position(|c| *c == b':') else {
                continue;
            };
            let name = line.get(..colon).unwrap_or_default();
            if name.is_empty() || name.iter().any(|c| !(33..127).contains(c)) {
                continue;
            }
            fields.push(Field {
                name: String::from_utf8_lossy(name).into_owned(),
                value: String::from_utf8_lossy(line.get(colon + 1..).unwrap_or_default())
                    .trim()
                    .to_string(),
            });
        }
        for f in &mut fields {
            if f.value.contains("=?") {
                f.value = decode_words(&f.value);
            }
        }
        Part {
            fields,
            body: b.get(body_at..).unwrap_or_default(),
        }
    }

    /// The first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }

    /// True when a field named `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Its `Content-Type`.
    pub fn content_type(&self) -> ContentType {
        ContentType::parse(self.get("content-type"))
    }

    /// The parts of a multipart body (empty for any other).
    pub fn parts(&self) -> Vec<Part<'a>> {
        let ct = self.content_type();
        if !ct.mime.starts_with("multipart/") {
            return Vec::new();
        }
        let Some(boundary) = ct.param("boundary").filter(|b| !b.is_empty()) else {
            return Vec::new();
        };
        let delim = format!("--{boundary}");
        let delim = delim.as_bytes();
        let mut out = Vec::new();
        let body = self.body;
        let mut starts = Vec::new();
        let mut i = 0;
        // Delimiter lines: at a line start, `--boundary`, then `--` (the end) or a line end.
        while i <= body.len() {
            let line_end =
                memchr_nl(body.get(i..).unwrap_or_default()).map_or(body.len(), |p| i + p);
            let line = body.get(i..line_end).unwrap_or_default();
            if let Some(rest) = line.strip_prefix(delim) {
                let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
                let closing = rest.starts_with(b"--");
                starts.push((i, line_end + 1, closing));
                if closing || starts.len() > MAX_PARTS {
                    break;
                }
            }
            if line_end >= body.len() {
                break;
            }
            i = line_end + 1;
        }
        for w in starts.windows(2) {
            if let [(_, from, closing), (to, _, _)] = w
                && !closing
            {
                let mut end = *to;
                // The line break before a delimiter belongs to it.
                if end > 0 && body.get(end - 1) == Some(&b'\n') {
                    end -= 1;
                }
                if end > 0 && body.get(end - 1) == Some(&b'\r') {
                    end -= 1;
                }
                if let Some(p) = body.get(*from..end.max(*from)) {
                    out.push(Part::parse(p));
                }
            }
        }
        out
    }
}

/// Every part of `m` (itself first), depth first, message/rfc822 parts opened too, at most
/// [`MAX_PARTS`] deep in all and [`MAX_DEPTH`] levels.
pub fn walk<'a>(m: &Part<'a>) -> Vec<Part<'a>> {
    let mut out = Vec::new();
    walk_into(m.clone(), 0, &mut out);
    out
}

fn walk_into<'a>(p: Part<'a>, depth: usize, out: &mut Vec<Part<'a>>) {
    if out.len() >= MAX_PARTS {
        return;
    }
    let ct = p.content_type();
    let children = if depth >= MAX_DEPTH {
        Vec::new()
    } else if ct.mime == "message/rfc822" || ct.mime == "text/rfc822-headers" {
        vec![Part::parse(p.body)]
    } else {
        p.parts()
    };
    out.push(p);
    for c in children {
        walk_into(c, depth + 1, out);
    }
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`) in a header value;
/// whitespace between two encoded words goes, as the RFC says. Unknown charsets are read as
/// UTF-8 (lossily); a word that does not decode stays as written.
pub fn decode_words(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, at) = rest.split_at(start);
        let decoded = decode_one(at);
        match decoded {
            Some((text, used)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = at.get(used..).unwrap_or_default();
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = at.get(2..).unwrap_or_default();
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One encoded word at the start of `s`: its text and how many bytes it took.
fn decode_one(s: &str) -> Option<(String, usize)> {
    let inner = s.get(2..)?;
    let q1 = inner.find('?')?;
    let charset = inner.get(..q1)?.to_ascii_lowercase();
    let enc = inner.get(q1 + 1..q1 + 2)?.to_ascii_lowercase();
    if inner.get(q1 + 2..q1 + 3)? != "?" {
        return None;
    }
    let data_start = q1 + 3;
    let end = inner.get(data_start..)?.find("?=")? + data_start;
    let data = inner.get(data_start..end)?;
    let bytes = match enc.as_str() {
        "b" => unbase64(data)?,
        "q" => unq(data),
        _ => return None,
    };
    let text = if charset.starts_with("iso-8859-1") || charset == "latin1" {
        bytes.iter().map(|b| char::from(*b)).collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some((text, 2 + end + 2))
}

fn unbase64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn unq(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => out.push(b' '),
            b'=' => {
                let h = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'='),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The message ids (`<…>`, without the brackets) in a field value such as `References`.
pub fn message_ids(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(a) = rest.find('<') {
        let after = rest.get(a + 1..).unwrap_or_default();
        let Some(b) = after.find('>') else { break };
        let id = after.get(..b).unwrap_or_default().trim();
        if !id.is_empty() && out.len() < 100 {
            out.push(id.to_string());
        }
        rest = after.get(b + 1..).unwrap_or_default();
    }
    out
}

/// The first report id (`PKT-` and 12 hex digits, any case) in `text`, upper-cased.
pub fn find_report_id(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 16 <= b.len() {
        let w = b.get(i..i + 16)?;
        if w.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"PKT-"))
            && w.get(4..)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
            && !b.get(i + 16).is_some_and(u8::is_ascii_hexdigit)
        {
            return Some(String::from_utf8_lossy(w).to_ascii_uppercase());
        }
        i += 1;
    }
    None
}

/// What kind of reply a message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A delivery status notification: the notice did not arrive (or was delayed).
    Bounce {
        /// The DSN's `Action` (`failed`, `delayed`, …), if it has one.
        action: Option<String>,
        /// Its `Status` (`5.1.1`).
        status: Option<String>,
        /// The recipient it names.
        recipient: Option<String>,
    },
    /// Sent by a machine: an auto-reply, a ticket system's receipt, a list.
    Automated {
        /// Which sign said so (`Auto-Submitted: auto-replied`, `RT ticket`, …).
        why: String,
    },
    /// Written by a person.
    Person,
}

impl Kind {
    /// `bounce`, `automated` or `person`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Bounce { .. } => "bounce",
            Kind::Automated { .. } => "automated",
            Kind::Person => "person",
        }
    }
}

/// A reply as read: who, what, what it answers, and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `From:`.
    pub from: String,
    /// `Subject:` (decoded).
    pub subject: String,
    /// Its `Message-ID`.
    pub message_id: Option<String>,
    /// `Date:` as Unix ns, when it has a readable one.
    pub date: Option<i64>,
    /// Message ids it refers to: `In-Reply-To`, then `References` (last first), then for a
    /// bounce the returned message's own `Message-ID`.
    pub refers_to: Vec<String>,
    /// A report id found in the subject (or in a returned message's subject).
    pub report_id: Option<String>,
    /// Its kind.
    pub kind: Kind,
    /// A short fingerprint of the whole message (so the same reply filed twice is noticed).
    pub digest: String,
}

/// Ticket systems that answer abuse mail, by the fields they add.
const TICKET_FIELDS: &[(&str, &str)] = &[
    ("rt-ticket", "RT ticket"),
    ("x-rt-loop-prevention", "RT ticket"),
    ("x-rt-ticket", "RT ticket"),
    ("x-otrs-loop", "OTRS ticket"),
    ("x-otrs-ticketnumber", "OTRS ticket"),
    ("x-zammad-ticket-number", "Zammad ticket"),
    ("x-zammad-ticket-id", "Zammad ticket"),
    ("x-jira-fingerprint", "Jira ticket"),
    ("x-freshdesk-ticket-id", "Freshdesk ticket"),
    ("x-zendesk-from-account-id", "Zendesk ticket"),
    ("x-abusehq-ticket", "AbuseHQ ticket"),
    ("x-autoreply", "X-Autoreply"),
    ("x-autorespond", "X-Autorespond"),
    ("x-autoresponder", "X-Autoresponder"),
];

/// Subject openings of machine answers.
const AUTO_SUBJECTS: &[&str] = &[
    "auto:",
    "autoreply",
    "auto-reply",
    "auto reply",
    "automatic reply",
    "automatische antwort",
    "out of office",
    "out of the office",
    "abwesenheitsnotiz",
    "réponse automatique",
    "[ticket#",
    "ticket received",
    "your ticket",
    "we have received your",
];

/// Reads and classifies a reply.
pub fn read_reply(raw: &[u8]) -> Reply {
    let top = Part::parse(raw);
    let parts = walk(&top);
    let mut refers_to = Vec::new();
    if let Some(v) = top.get("in-reply-to") {
        refers_to.extend(message_ids(v));
    }
    if let Some(v) = top.get("references") {
        refers_to.extend(message_ids(v).into_iter().rev());
    }
    let subject = top.get("subject").unwrap_or_default().to_string();
    let mut report_id = find_report_id(&subject);
    let kind = classify(&top, &parts);
    if matches!(kind, Kind::Bounce { .. }) {
        // The returned message (or its header) names our Message-ID and subject.
        for p in parts.iter().skip(1) {
            if let Some(id) = p.get("message-id") {
                refers_to.extend(message_ids(id));
            }
            if report_id.is_none() {
                report_id = p.get("subject").and_then(find_report_id);
            }
        }
    }
    refers_to.dedup();
    Reply {
        from: top.get("from").unwrap_or_default().to_string(),
        subject,
        message_id: top
            .get("message-id")
            .and_then(|v| message_ids(v).into_iter().next()),
        date: top.get("date").and_then(crate::time::parse_rfc5322),
        refers_to,
        report_id,
        kind,
        digest: hex(crate::sha256::sha256(raw).get(..8).unwrap_or_default()),
    }
}

/// Bounce, automated, or a person: the signs, strongest first.
fn classify(top: &Part<'_>, parts: &[Part<'_>]) -> Kind {
    // RFC 3464: multipart/report; report-type=delivery-status, with a message/delivery-status part.
    let ct = top.content_type();
    let dsn_part = parts.iter().find(|p| {
        let m = p.content_type().mime;
        m == "message/delivery-status" || m == "message/global-delivery-status"
    });
    let is_report = ct.mime == "multipart/report"
        && ct
            .param("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if is_report || dsn_part.is_some() {
        let (action, status, recipient) = dsn_part.map(dsn_fields).unwrap_or_default();
        return Kind::Bounce {
            action,
            status,
            recipient,
        };
    }
    let from = top.get("from").unwrap_or_default().to_ascii_lowercase();
    let subject = top.get("subject").unwrap_or_default().to_ascii_lowercase();
    let daemon = from.contains("mailer-daemon") || from.contains("postmaster@");
    if daemon
        && [
            "undeliver",
            "delivery status",
            "failure",
            "returned mail",
            "delivery fail",
        ]
        .iter()
        .any(|s| subject.contains(s))
    {
        return Kind::Bounce {
            action: Some("failed".into()),
            status: None,
            recipient: None,
        };
    }
    // RFC 3834: anything but "no" is automatic.
    if let Some(a) = top.get("auto-submitted")
        && !a.trim().eq_ignore_ascii_case("no")
        && !a.trim().is_empty()
    {
        return Kind::Automated {
            why: format!("Auto-Submitted: {}", a.trim()),
        };
    }
    if let Some(p) = top.get("precedence") {
        let p = p.trim().to_ascii_lowercase();
        if matches!(p.as_str(), "auto_reply" | "bulk" | "junk" | "list") {
            return Kind::Automated {
                why: format!("Precedence: {p}"),
            };
        }
    }
    for (field, why) in TICKET_FIELDS {
        if top.has(field) {
            return Kind::Automated {
                why: (*why).to_string(),
            };
        }
    }
    if top
        .get("x-mailer")
        .is_some_and(|m| m.to_ascii_lowercase().contains("request tracker"))
    {
        return Kind::Automated {
            why: "RT ticket".into(),
        };
    }
    if let Some(s) = AUTO_SUBJECTS.iter().find(|s| subject.contains(*s)) {
        return Kind::Automated {
            why: format!("subject \"{s}\""),
        };
    }
    // RT's subject tag: `[rt.example.net #12345]`.
    if subject.contains(" #") && subject.contains('[') && is_rt_tag(&subject) {
        return Kind::Automated {
            why: "RT ticket".into(),
        };
    }
    Kind::Person
}

/// True when `s` has `[… #digits]`.
fn is_rt_tag(s: &str) -> bool {
    s.split('[').skip(1).any(|t| {
        t.split_once(']')
            .and_then(|(inner, _)| inner.rsplit_once(" #"))
            .is_some_and(|(q, n)| {
                !q.trim().is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
            })
    })
}

/// `Action`, `Status` and `Final-Recipient` of the first recipient group of a DSN body.
fn dsn_fields(p: &Part<'_>) -> (Option<String>, Option<String>, Option<String>) {
    // The body is groups of fields separated by blank lines: read them all as one header.
    let text = String::from_utf8_lossy(p.body)
        .replace("\r\n", "\n")
        .replace("\n\n", "\n");
    let mut with_blank = text.into_bytes();
    with_blank.extend_from_slice(b"\n\n");
    let f = Part::parse(&with_blank);
    let strip = |v: &str| v.split_once(';').map_or(v, |(_, a)| a).trim().to_string();
    (
        f.get("action").map(|v| v.trim().to_ascii_lowercase()),
        f.get("status").map(|v| v.trim().to_string()),
        f.get("final-recipient")
            .or_else(|| f.get("original-recipient"))
            .map(strip),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_unfolding_and_words() {
        let m = Part::parse(
            b"Subject: =?UTF-8?B?UmU6IGFidXNl?=\r\n =?ISO-8859-1?Q?_r=E9ponse?= [PKT-0123456789AB]\r\nX-A: one\r\n\ttwo\r\n\r\nbody",
        );
        assert_eq!(
            m.get("subject"),
            Some("Re: abuse réponse [PKT-0123456789AB]")
        );
        assert_eq!(m.get("x-a"), Some("one two"));
        assert_eq!(m.body, b"body");
        assert_eq!(
            find_report_id(m.get("subject").unwrap()).as_deref(),
            Some("PKT-0123456789AB")
        );
        assert_eq!(find_report_id("pkt-0123456789abc"), None);
        assert_eq!(
            message_ids("<a@b> (c) <d@e>"),
            vec!["a@b".to_string(), "d@e".to_string()]
        );
    }

    #[test]
    fn kinds() {
        let person = b"From: Bob <bob@isp.example>\nSubject: Re: Abuse report [PKT-0123456789AB]\nIn-Reply-To: <pkt-0123456789ab@example.org>\n\nWe disconnected the customer.\n";
        let r = read_reply(person);
        assert_eq!(r.kind, Kind::Person);
        assert_eq!(
            r.refers_to,
            vec!["pkt-0123456789ab@example.org".to_string()]
        );
        let auto =
            b"From: abuse@isp.example\nAuto-Submitted: auto-replied\nSubject: Re: x\n\nthanks\n";
        assert!(matches!(read_reply(auto).kind, Kind::Automated { .. }));
        let rt =
            b"From: abuse@isp.example\nSubject: [rt.isp.example #4711] AutoReply: x\n\nthanks\n";
        assert!(matches!(read_reply(rt).kind, Kind::Automated { .. }));
        let dsn = b"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"B1\"\n\n--B1\nContent-Type: text/plain\n\nsorry\n--B1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; abuse@isp.example\nAction: failed\nStatus: 5.1.1\n--B1\nContent-Type: text/rfc822-headers\n\nMessage-ID: <pkt-0123456789ab@example.org>\nSubject: Abuse report [PKT-0123456789AB]\n--B1--\n";
        let r = read_reply(dsn);
        assert_eq!(
            r.kind,
            Kind::Bounce {
                action: Some("failed".into()),
                status: Some("5.1.1".into()),
                recipient: Some("abuse@isp.example".into())
            }
        );
        assert_eq!(
            r.refers_to,
            vec!["pkt-0123456789ab@example.org".to_string()]
        );
        assert_eq!(r.report_id.as_deref(), Some("PKT-0123456789AB"));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for b in [
            &b""[..],
            b"\n",
            b":",
            b"Subject: =?",
            b"Subject: =?utf-8?B?",
            b"Subject: =?utf-8?Q?=",
            b"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n",
            b"Content-Type: multipart/mixed; boundary=x\n\n--x\n--x\n--x--",
            b"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n",
        ] {
            let _ = read_reply(b);
        }
    }
}
