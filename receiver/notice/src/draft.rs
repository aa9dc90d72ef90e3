//! Drafting a notice: from what the sensor knows of a candidate (an [`Incident`]) and the
//! operator's settings ([`Sender`]) to an RFC 5322 message, its plain body, or an X-ARF v4
//! report. Pure: the caller gives the time now, the contact and the earlier notices.

use serde_json::{Value as Json, json};

use crate::sha256::{base64, hex, sha256};
use crate::template::{Template, TemplateError, Value};
use crate::time;

/// The longest line a message may have, less its CRLF (RFC 5322 section 2.1.1).
pub const MAX_LINE: usize = 998;

/// Evidence lines are cut into pieces of at most this many bytes: well under [`MAX_LINE`],
/// with room for the indentation and the continuation mark.
pub const FOLD_AT: usize = 900;

/// Evidence lines a notice quotes at most (the sensor keeps the first and the latest few).
pub const MAX_EVIDENCE: usize = 10;

/// What the sensor knows of the source being reported.
#[derive(Debug, Clone, Default)]
pub struct Incident {
    /// The source: an address, a prefix, or a host name.
    pub source: String,
    /// The class (`port-scan`, `sweep`, `repeated-attempts`, `ids-exploit`, `single-probe`).
    pub class: String,
    /// Score.
    pub score: u64,
    /// Events counted.
    pub events: u64,
    /// Distinct destination ports.
    pub ports: u64,
    /// The ports themselves, when known exactly.
    pub port_list: Vec<u16>,
    /// Distinct destination hosts.
    pub hosts: u64,
    /// The logs that saw it.
    pub datasets: Vec<String>,
    /// Top signatures with their counts.
    pub signatures: Vec<(String, u64)>,
    /// First seen, Unix ns.
    pub first_seen: i64,
    /// Last seen, Unix ns.
    pub last_seen: i64,
    /// Evidence: (time, line as printable text), first and latest.
    pub evidence: Vec<(i64, String)>,
}

/// An earlier notice about the same source (for a second or third notice).
#[derive(Debug, Clone)]
pub struct Earlier {
    /// When it was sent, Unix ns.
    pub at: i64,
    /// Its report id.
    pub report_id: String,
    /// Whom it went to.
    pub contact: String,
}

/// The operator's side: who writes, from where, how.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    /// `From:` (an address, optionally with a display name: `Abuse desk <abuse@example.org>`).
    pub from: String,
    /// `Cc:` addresses.
    pub cc: Vec<String>,
    /// The signature under the body.
    pub signature: String,
    /// The organisation named in X-ARF reports (default: the domain of `from`).
    pub organisation: Option<String>,
    /// Zone offset the body writes times in, seconds east of UTC.
    pub offset_secs: i32,
}

/// One notice to draft.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The source and what it did.
    pub incident: &'a Incident,
    /// The abuse contact (`To:`).
    pub contact: &'a str,
    /// The network's name and range, from whois (may be empty).
    pub network: &'a str,
    /// 1 for the first notice, 2 for the second, …
    pub ordinal: u32,
    /// The earlier notices, oldest first.
    pub earlier: &'a [Earlier],
    /// Now (the `Date:`), Unix ns.
    pub now: i64,
}

/// A drafted notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The report id (`PKT-` and 12 hex digits), in the subject and `X-Picket-Report-Id`.
    pub report_id: String,
    /// The `Message-ID` without its angle brackets.
    pub message_id: String,
    /// `From:`.
    pub from: String,
    /// `To:`.
    pub to: String,
    /// `Cc:`.
    pub cc: Vec<String>,
    /// `Subject:`.
    pub subject: String,
    /// `Date:`.
    pub date: String,
    /// The plain body, LF line ends, every line under [`MAX_LINE`] bytes.
    pub body: String,
}

/// The report id of notice number `ordinal` about `source`, whose activity started at
/// `first_seen`: the same inputs give the same id, so a notice recorded before a crash is
/// recognised after it, and no two notices share one.
pub fn report_id(source: &str, ordinal: u32, first_seen: i64) -> String {
    let d = sha256(format!("picket-notice\0{source}\0{ordinal}\0{first_seen}").as_bytes());
    format!(
        "PKT-{}",
        hex(d.get(..6).unwrap_or_default()).to_ascii_uppercase()
    )
}

/// The address part of `From:`-style text (`Name <a@b>` or `a@b`).
pub fn address_of(s: &str) -> &str {
    match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => s.get(a + 1..b).unwrap_or(s).trim(),
        _ => s.trim(),
    }
}

/// The domain of an address (`example.org` of `abuse@example.org`), `localhost` without one.
pub fn domain_of(s: &str) -> &str {
    address_of(s)
        .rsplit_once('@')
        .map_or("localhost", |(_, d)| d)
}

/// "a port scan", "a sweep …": the class in words.
pub fn class_words(class: &str) -> &'static str {
    match class {
        "port-scan" => "a port scan (many ports on few hosts)",
        "sweep" => "a sweep (one service probed on many hosts)",
        "repeated-attempts" => "repeated failed logins or refused connections to one service",
        "ids-exploit" => "an exploit attempt flagged by our intrusion detection",
        "single-probe" => "a probe of our network",
        _ => "suspicious traffic",
    }
}

fn ordinal_word(n: u32) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        n => format!("{n}th"),
    }
}

/// Cuts `line` into pieces of at most `FOLD_AT` bytes (at character boundaries), the first
/// indented by `indent`, the rest marked as continuations.
pub fn fold_evidence(line: &str, indent: &str, out: &mut String) {
    let mut rest = line;
    let mut first = true;
    while first || !rest.is_empty() {
        let mut cut = rest.len().min(FOLD_AT);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        out.push_str(if first { indent } else { "    + " });
        out.push_str(piece);
        out.push('\n');
        rest = tail;
        first = false;
    }
}

/// Makes network text safe for a message: printable ASCII stays, anything else becomes
/// `\xNN` (the sensor sends it so already; this holds for any caller).
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn ports_text(i: &Incident) -> String {
    if !i.port_list.is_empty() && i.port_list.len() <= 10 {
        let list: Vec<String> = i.port_list.iter().map(u16::to_string).collect();
        format!("{} ({})", i.ports, list.join(", "))
    } else {
        i.ports.to_string()
    }
}

/// The template's values for `r`.
fn values(r: &Request<'_>, s: &Sender, id: &str) -> Vec<(&'static str, Value)> {
    let i = r.incident;
    let off = s.offset_secs;
    let mut evidence = String::new();
    for (t, line) in i.evidence.iter().take(MAX_EVIDENCE) {
        let line = printable(line);
        fold_evidence(
            &format!("{}  {line}", time::local(*t, off)),
            "  ",
            &mut evidence,
        );
    }
    if evidence.ends_with('\n') {
        evidence.pop();
    }
    let signatures = i
        .signatures
        .iter()
        .take(5)
        .map(|(n, c)| {
            let mut l = String::new();
            fold_evidence(&format!("{c:>7}  {}", printable(n)), "  ", &mut l);
            l.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let earlier = r
        .earlier
        .iter()
        .map(|e| {
            format!(
                "  - {} to {}, reference {}",
                time::local(e.at, off),
                printable(&e.contact),
                e.report_id
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let t = |v: String| Value::Text(v);
    vec![
        ("source", t(printable(&i.source))),
        ("report_id", t(id.to_string())),
        ("what", t(class_words(&i.class).into())),
        ("class", t(printable(&i.class))),
        ("score", t(i.score.to_string())),
        ("events", t(i.events.to_string())),
        ("ports", t(ports_text(i))),
        ("hosts", t(i.hosts.to_string())),
        ("datasets", t(printable(&i.datasets.join(", ")))),
        ("first_seen", t(time::local(i.first_seen, off))),
        ("last_seen", t(time::local(i.last_seen, off))),
        ("zone", t(time::zone_name(off))),
        ("signatures", t(signatures)),
        ("evidence", t(evidence)),
        ("ordinal", t(r.ordinal.to_string())),
        ("ordinal_word", t(ordinal_word(r.ordinal))),
        ("repeat", Value::Flag(r.ordinal > 1)),
        ("earlier", t(earlier)),
        ("contact", t(printable(r.contact))),
        ("network", t(printable(r.network))),
        ("signature", t(s.signature.trim_end().to_string())),
    ]
}

/// Drafts the notice `r` with `template`.
pub fn draft(r: &Request<'_>, s: &Sender, template: &Template) -> Result<Draft, TemplateError> {
    let id = report_id(&r.incident.source, r.ordinal, r.incident.first_seen);
    let (subject, body) = template.render(&values(r, s, &id))?;
    // Whatever the template wrote, no body line reaches the limit.
    let mut folded = String::with_capacity(body.len());
    for line in body.lines() {
        if line.len() > FOLD_AT {
            fold_evidence(line, "", &mut folded);
        } else {
            folded.push_str(line);
            folded.push('\n');
        }
    }
    Ok(Draft {
        message_id: format!("{}@{}", id.to_ascii_lowercase(), domain_of(&s.from)),
        report_id: id,
        from: s.from.clone(),
        to: r.contact.to_string(),
        cc: s.cc.clone(),
        subject,
        date: time::rfc5322(r.now, s.offset_secs),
        body: folded,
    })
}

/// Folds a header field under 78 columns where it can (at spaces), with `eol` between lines.
fn header(out: &mut String, name: &str, value: &str, eol: &str) {
    let mut line_len = name.len() + 2;
    out.push_str(name);
    out.push_str(": ");
    for (n, word) in value.split(' ').enumerate() {
        if n > 0 {
            if line_len + 1 + word.len() > 78 {
                out.push_str(eol);
                out.push(' ');
                line_len = 1;
            } else {
                out.push(' ');
                line_len += 1;
            }
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push_str(eol);
}

/// An RFC 2047 encoded word when `s` is not plain ASCII.
fn encode_word(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_string();
    }
    format!("=?UTF-8?B?{}?=", base64(s.as_bytes()))
}

impl Draft {
    /// The message: header and body, with `eol` line ends (`"\r\n"` on the wire, `"\n"` in a
    /// file). 8-bit UTF-8 text; every line under [`MAX_LINE`] bytes.
    pub fn message(&self, eol: &str) -> String {
        let mut m = String::new();
        header(&mut m, "From", &self.from, eol);
        header(&mut m, "To", &self.to, eol);
        if !self.cc.is_empty() {
            header(&mut m, "Cc", &self.cc.join(", "), eol);
        }
        header(&mut m, "Subject", &encode_word(&self.subject), eol);
        header(&mut m, "Date", &self.date, eol);
        header(&mut m, "Message-ID", &format!("<{}>", self.message_id), eol);
        header(&mut m, "X-Picket-Report-Id", &self.report_id, eol);
        header(&mut m, "MIME-Version", "1.0", eol);
        header(&mut m, "Content-Type", "text/plain; charset=utf-8", eol);
        header(&mut m, "Content-Transfer-Encoding", "8bit", eol);
        m.push_str(eol);
        for line in self.body.lines() {
            m.push_str(line);
            m.push_str(eol);
        }
        m
    }
}

/// The X-ARF v4 type for a class: `port_scan`, `login_attack`, or `vuln_scanning` for an
/// IDS exploit alert.
pub fn xarf_type(class: &str) -> &'static str {
    match class {
        "repeated-attempts" => "login_attack",
        "ids-exploit" => "vuln_scanning",
        _ => "port_scan",
    }
}

/// An X-ARF v4 report (the `xarf-core` schema with its `connection` types) of notice `r`.
pub fn xarf(r: &Request<'_>, s: &Sender) -> Json {
    let i = r.incident;
    let id = report_id(&i.source, r.ordinal, i.first_seen);
    let d = sha256(id.as_bytes());
    let h = hex(&d);
    // A UUID (version 4 layout) derived from the report id, as the schema wants a UUID.
    let uuid = format!(
        "{}-{}-4{}-{}{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(13..16).unwrap_or_default(),
        ["8", "9", "a", "b"]
            .get(usize::from(d.get(8).copied().unwrap_or(0) & 3))
            .copied()
            .unwrap_or("8"),
        h.get(17..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    );
    let domain = domain_of(&s.from).to_string();
    let org = s.organisation.clone().unwrap_or_else(|| domain.clone());
    let me = json!({
        "org": org,
        "contact": address_of(&s.from),
        "domain": domain,
    });
    let evidence: Vec<Json> = i
        .evidence
        .iter()
        .take(MAX_EVIDENCE)
        .map(|(t, line)| {
            let bytes = printable(line).into_bytes();
            json!({
                "content_type": "text/plain",
                "description": format!("log line received {}", time::rfc3339(*t)),
                "payload": base64(&bytes),
                "hash": format!("sha256:{}", hex(&sha256(&bytes))),
                "size": bytes.len(),
            })
        })
        .collect();
    let ids = i.datasets.iter().any(|d| d == "snort");
    let mut description = format!(
        "{} from {}: {} events, {} ports, {} hosts, {} to {}",
        class_words(&i.class),
        printable(&i.source),
        i.events,
        i.ports,
        i.hosts,
        time::rfc3339(i.first_seen),
        time::rfc3339(i.last_seen)
    );
    description.truncate(1000);
    let mut v = json!({
        "xarf_version": "4.0.0",
        "report_id": uuid,
        "timestamp": time::rfc3339(i.first_seen),
        "reporter": me.clone(),
        "sender": me,
        "source_identifier": printable(&i.source),
        "category": "connection",
        "type": xarf_type(&i.class),
        "protocol": "tcp",
        "first_seen": time::rfc3339(i.first_seen),
        "last_seen": time::rfc3339(i.last_seen),
        "evidence_source": if ids { "ids_detection" } else { "firewall_logs" },
        "evidence": evidence,
        "description": description,
        "tags": [format!("picket:{}", id.to_ascii_lowercase()), format!("class:{}", i.class)],
    });
    if let Some(m) = v.as_object_mut() {
        if let [port] = i.port_list.as_slice()
            && *port > 0
        {
            m.insert("destination_port".into(), json!(port));
        }
        if xarf_type(&i.class) == "vuln_scanning" {
            m.insert("scan_type".into(), json!("vulnerability_scan"));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::DEFAULT_TEMPLATE;

    fn incident() -> Incident {
        Incident {
            source: "203.0.113.50".into(),
            class: "port-scan".into(),
            score: 40,
            events: 120,
            ports: 3,
            port_list: vec![22, 23, 80],
            hosts: 1,
            datasets: vec!["iptables".into()],
            signatures: vec![],
            first_seen: 1_796_183_308_000_000_000,
            last_seen: 1_796_183_608_000_000_000,
            evidence: vec![
                (
                    1_796_183_308_000_000_000,
                    "kernel: IN=eth0 SRC=203.0.113.50".into(),
                ),
                (1_796_183_608_000_000_000, "x".repeat(3000)),
            ],
        }
    }

    fn sender() -> Sender {
        Sender {
            from: "Abuse desk <abuse@example.org>".into(),
            cc: vec!["noc@example.org".into()],
            signature: "-- \nExample abuse desk".into(),
            organisation: None,
            offset_secs: 3600,
        }
    }

    #[test]
    fn a_first_notice() {
        let i = incident();
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let r = Request {
            incident: &i,
            contact: "abuse@isp.example",
            network: "ISP-NET 203.0.113.0/24",
            ordinal: 1,
            earlier: &[],
            now: 1_796_190_000_000_000_000,
        };
        let d = draft(&r, &sender(), &t).unwrap();
        assert!(d.subject.contains("203.0.113.50"), "{}", d.subject);
        assert!(d.subject.contains(&d.report_id));
        assert!(!d.subject.contains("notice]"));
        assert!(d.body.contains("2026-12-02 04:48:28 +0100"), "{}", d.body);
        assert!(d.body.contains("All times are UTC+01:00"));
        assert!(d.body.contains("3 (22, 23, 80)"));
        assert!(d.body.contains("Example abuse desk"));
        let m = d.message("\r\n");
        assert!(m.starts_with("From: Abuse desk <abuse@example.org>\r\nTo: abuse@isp.example\r\nCc: noc@example.org\r\n"));
        assert!(m.contains(&format!(
            "Message-ID: <{}@example.org>\r\n",
            d.report_id.to_ascii_lowercase()
        )));
        assert!(m.contains("Date: Wed, 02 Dec 2026 06:40:00 +0100\r\n"));
        for l in m.split("\r\n") {
            assert!(l.len() < MAX_LINE, "{} bytes", l.len());
        }
        assert!(m.contains("    + xxx"), "the long line is folded");
    }

    #[test]
    fn a_second_notice_quotes_the_first() {
        let i = incident();
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        let first = report_id(&i.source, 1, i.first_seen);
        let earlier = [Earlier {
            at: 1_796_190_000_000_000_000,
            report_id: first.clone(),
            contact: "abuse@isp.example".into(),
        }];
        let r = Request {
            incident: &i,
            contact: "abuse@isp.example",
            network: "",
            ordinal: 2,
            earlier: &earlier,
            now: 1_796_290_000_000_000_000,
        };
        let d = draft(&r, &sender(), &t).unwrap();
        assert!(d.subject.starts_with("[second notice]"), "{}", d.subject);
        assert!(d.body.contains("this is our second notice"));
        assert!(d.body.contains(&first));
        assert_ne!(d.report_id, first);
    }

    #[test]
    fn report_ids_are_stable_and_distinct() {
        assert_eq!(report_id("a", 1, 5), report_id("a", 1, 5));
        assert_ne!(report_id("a", 1, 5), report_id("a", 2, 5));
        assert_ne!(report_id("a", 1, 5), report_id("b", 1, 5));
        assert_eq!(report_id("a", 1, 5).len(), 16);
    }

    #[test]
    fn xarf_has_what_the_schema_requires() {
        let i = incident();
        let r = Request {
            incident: &i,
            contact: "abuse@isp.example",
            network: "",
            ordinal: 1,
            earlier: &[],
            now: 0,
        };
        let v = xarf(&r, &sender());
        assert_eq!(v["category"], "connection");
        assert_eq!(v["type"], "port_scan");
        assert_eq!(v["report_id"].as_str().unwrap().len(), 36);
        assert!(
            v["evidence"][0]["hash"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
    }
}
