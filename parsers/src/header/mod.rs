//! Syslog headers: PRI, then RFC 5424 or RFC 3164 in all the variants senders produce, then
//! the repeat wrappers (`last message repeated N times`, `message repeated N times: [ … ]`).
//!
//! Header parsing never fails: whatever cannot be read as header stays in the message, so a
//! line of garbage is still a [`Header`] whose message is the whole line.

pub mod rfc3164;
pub mod rfc5424;
pub mod timestamp;

use nom::IResult;

use crate::context::ParseContext;
use crate::lex::{Input, rposition, skip_spaces, to_u32, trim_end};
use crate::time::Timestamp;

/// The syslog header fields of one line, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// PRI value (facility * 8 + severity), if the line had `<N>`.
    pub pri: Option<u8>,
    /// RFC 5424 version, if the line was RFC 5424.
    pub version: Option<u8>,
    /// The sender's stamp, with year and zone settled.
    pub timestamp: Option<Timestamp>,
    /// The reporting host (HOSTNAME).
    pub hostname: Option<&'a [u8]>,
    /// The program (TAG or APP-NAME).
    pub appname: Option<&'a [u8]>,
    /// The process id as written (`[pid]` or PROCID).
    pub procid: Option<&'a [u8]>,
    /// RFC 5424 MSGID.
    pub msgid: Option<&'a [u8]>,
    /// RFC 5424 structured data, brackets included.
    pub structured_data: Option<&'a [u8]>,
    /// Cisco sequence number.
    pub sequence: Option<u32>,
    /// How many times the message was repeated, from a repeat wrapper.
    pub repeat: Option<u32>,
    /// The message after the header (for a repeat wrapper, the repeated message).
    pub message: &'a [u8],
}

impl<'a> Header<'a> {
    /// A header with nothing but a message.
    pub fn bare(message: &'a [u8]) -> Header<'a> {
        Header {
            pri: None,
            version: None,
            timestamp: None,
            hostname: None,
            appname: None,
            procid: None,
            msgid: None,
            structured_data: None,
            sequence: None,
            repeat: None,
            message,
        }
    }

    /// Syslog facility code (PRI / 8).
    pub fn facility(&self) -> Option<u8> {
        self.pri.map(|p| p >> 3)
    }

    /// Syslog severity code (PRI % 8).
    pub fn severity(&self) -> Option<u8> {
        self.pri.map(|p| p & 7)
    }

    /// The process id, when PROCID is numeric.
    pub fn pid(&self) -> Option<u32> {
        self.procid.and_then(to_u32)
    }

    /// The program name without a leading path (`/usr/sbin/sshd` → `sshd`) or the PAM module
    /// old Linux PAM appends (`sshd(pam_unix)` → `sshd`).
    pub fn program(&self) -> Option<&'a [u8]> {
        let app = self.appname?;
        let app = match app.strip_suffix(b")").and_then(|a| rposition(a, b'(')) {
            Some(open) if open > 0 => app.get(..open)?,
            _ => app,
        };
        match rposition(app, b'/') {
            Some(n) => app.get(n + 1..).filter(|p| !p.is_empty()),
            None => Some(app),
        }
    }
}

/// `<N>` with N in 0..=191.
pub fn pri(i: Input<'_>) -> IResult<Input<'_>, u8> {
    let error = || nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Verify));
    // Read by hand: every line starts here, and nom's combinators cost a third of a header.
    let Some(rest) = i.strip_prefix(b"<") else {
        return Err(error());
    };
    let mut n = 0u32;
    for (k, b) in rest.iter().enumerate().take(4) {
        match b {
            b'0'..=b'9' if k < 3 => n = n * 10 + u32::from(b - b'0'),
            b'>' if k > 0 && n <= 191 => {
                return Ok((rest.get(k + 1..).unwrap_or_default(), n as u8));
            }
            _ => break,
        }
    }
    Err(error())
}

/// Unwraps `last message repeated N times` and `message repeated N times: [ inner ]`.
fn unwrap_repeat(h: &mut Header<'_>) {
    let m = h.message;
    // Both wrappers open with a lower-case `l` or `m`: one byte settles most lines.
    if !matches!(m.first(), Some(b'l' | b'm')) {
        return;
    }
    if let Some(rest) = m.strip_prefix(b"last message repeated ") {
        if let Some(n) = count_times(rest).map(|(n, _)| n) {
            h.repeat = Some(n);
        }
    } else if let Some(rest) = m.strip_prefix(b"message repeated ")
        && let Some((n, rest)) = count_times(rest)
    {
        h.repeat = Some(n);
        if let Some(inner) = rest.strip_prefix(b": [") {
            let inner = skip_spaces(inner);
            let inner = trim_end(inner);
            h.message = inner.strip_suffix(b"]").unwrap_or(inner);
        }
    }
}

fn count_times(i: &[u8]) -> Option<(u32, &[u8])> {
    let end = i.iter().position(|b| !b.is_ascii_digit())?;
    let n = to_u32(i.get(..end)?)?;
    let rest = i.get(end..)?.strip_prefix(b" time")?;
    let rest = rest.strip_prefix(b"s").unwrap_or(rest);
    Some((n, rest))
}

/// Parses the header of one line (without its line terminator; trailing CR, LF, NUL and spaces
/// are ignored).
pub fn parse<'a>(line: &'a [u8], ctx: &ParseContext) -> Header<'a> {
    let mut h = Header::bare(line);
    parse_into(line, ctx, &mut h);
    h
}

/// [`parse`] into a header the caller owns (an [`crate::Event`]'s), which saves a copy per
/// line; whatever `h` held is overwritten.
pub fn parse_into<'a>(line: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>) {
    let line = trim_end(line);
    let (rest, pri) = match pri(line) {
        Ok((rest, p)) => (rest, Some(p)),
        Err(_) => (line, None),
    };
    *h = Header::bare(rest);
    h.pri = pri;
    if !rfc5424::parse_into(rest, ctx, h) {
        rfc3164::parse_into(rest, ctx, h);
    }
    h.message = trim_end(h.message);
    unwrap_repeat(h);
}

/// [`parse`] without the RFC 3164 reader's fast step for the common line: the reference that
/// step is tested against (property tests, the `header` fuzz target).
#[doc(hidden)]
pub fn parse_general<'a>(line: &'a [u8], ctx: &ParseContext) -> Header<'a> {
    let line = trim_end(line);
    let (rest, pri) = match pri(line) {
        Ok((rest, p)) => (rest, Some(p)),
        Err(_) => (line, None),
    };
    let mut h = Header::bare(rest);
    h.pri = pri;
    if !rfc5424::parse_into(rest, ctx, &mut h) {
        rfc3164::parse_into_general(rest, ctx, &mut h);
    }
    h.message = trim_end(h.message);
    unwrap_repeat(&mut h);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        // 2026-11-23T00:00:00Z
        ParseContext::new(1_795_392_000)
    }

    fn s(b: Option<&[u8]>) -> Option<&str> {
        b.map(|b| std::str::from_utf8(b).unwrap())
    }

    struct Want<'w> {
        line: &'w str,
        pri: Option<u8>,
        host: Option<&'w str>,
        app: Option<&'w str>,
        pid: Option<&'w str>,
        msg: &'w str,
        stamp: Option<&'w str>,
    }

    fn check(w: Want<'_>) {
        let h = parse(w.line.as_bytes(), &ctx());
        assert_eq!(h.pri, w.pri, "pri of {:?}", w.line);
        assert_eq!(s(h.hostname), w.host, "host of {:?}", w.line);
        assert_eq!(s(h.appname), w.app, "app of {:?}", w.line);
        assert_eq!(s(h.procid), w.pid, "pid of {:?}", w.line);
        assert_eq!(
            std::str::from_utf8(h.message).unwrap(),
            w.msg,
            "msg of {:?}",
            w.line
        );
        let stamp = h.timestamp.map(|t| {
            let mut out = Vec::new();
            t.write_rfc3339(&mut out);
            String::from_utf8(out).unwrap()
        });
        assert_eq!(stamp.as_deref(), w.stamp, "stamp of {:?}", w.line);
    }

    #[test]
    fn rfc3164_variants() {
        let cases = [
            // ossec-docs' WIPFW sample: the file's record number, a dotted date, two spaces.
            Want {
                line: "0000000060 2006.12.07 08:49:58.002  ipfw: 1000 Deny TCP 75.126.23.220:80 192.168.47.1:9839 in via eth2",
                pri: None,
                host: None,
                app: Some("ipfw"),
                pid: None,
                msg: "1000 Deny TCP 75.126.23.220:80 192.168.47.1:9839 in via eth2",
                stamp: Some("2006-12-07T08:49:58.002Z"),
            },
            Want {
                line: "<38>Nov  8 15:26:31 linux ftpd[3689]: refused connect from x.example",
                pri: Some(38),
                host: Some("linux"),
                app: Some("ftpd"),
                pid: Some("3689"),
                msg: "refused connect from x.example",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "Nov  8 15:26:31 linux ftpd[3689]: hello",
                pri: None,
                host: Some("linux"),
                app: Some("ftpd"),
                pid: Some("3689"),
                msg: "hello",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<38>Nov  8 15:26:31 ftpd[3689]: hello",
                pri: Some(38),
                host: None,
                app: Some("ftpd"),
                pid: Some("3689"),
                msg: "hello",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<38>Nov  8 15:26:31 linux ftpd: hello",
                pri: Some(38),
                host: Some("linux"),
                app: Some("ftpd"),
                pid: None,
                msg: "hello",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<38>Nov  8 15:26:31 linux ftpd hello there",
                pri: Some(38),
                host: Some("linux"),
                app: Some("ftpd"),
                pid: None,
                msg: "hello there",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<38>Nov  8 15:26:31 linux ftpd[12] hello",
                pri: Some(38),
                host: Some("linux"),
                app: Some("ftpd"),
                pid: Some("12"),
                msg: "hello",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<38>Nov 08 15:26:31   linux   ftpd[12]:   hello  ",
                pri: Some(38),
                host: Some("linux"),
                app: Some("ftpd"),
                pid: Some("12"),
                msg: "hello",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "Dec 31 23:59:59 gw kernel: x",
                pri: None,
                host: Some("gw"),
                app: Some("kernel"),
                pid: None,
                msg: "x",
                stamp: Some("2025-12-31T23:59:59Z"),
            },
            Want {
                line: "<13>Nov  8 2001 15:26:31 host prog: m",
                pri: Some(13),
                host: Some("host"),
                app: Some("prog"),
                pid: None,
                msg: "m",
                stamp: Some("2001-11-08T15:26:31Z"),
            },
            Want {
                line: "2001-11-08T15:26:31.123456+01:00 host prog[1]: msg",
                pri: None,
                host: Some("host"),
                app: Some("prog"),
                pid: Some("1"),
                msg: "msg",
                stamp: Some("2001-11-08T14:26:31.123456Z"),
            },
            Want {
                line: "<189>123: *Mar  1 00:01:02.345 UTC: %SEC-6-IPACCESSLOGP: list 101",
                pri: Some(189),
                host: None,
                app: None,
                pid: None,
                msg: "%SEC-6-IPACCESSLOGP: list 101",
                stamp: Some("2026-03-01T00:01:02.345Z"),
            },
            Want {
                line: "<189>Mar  1 00:01:02 10.0.0.1 123: 000120: *Mar  1 00:01:02.345: %SEC-6-X: y",
                pri: Some(189),
                host: Some("10.0.0.1"),
                app: None,
                pid: None,
                msg: "%SEC-6-X: y",
                stamp: Some("2026-03-01T00:01:02Z"),
            },
            Want {
                line: "<166>Jan 01 2020 10:00:00: %ASA-4-106023: Deny",
                pri: Some(166),
                host: None,
                app: None,
                pid: None,
                msg: "%ASA-4-106023: Deny",
                stamp: Some("2020-01-01T10:00:00Z"),
            },
            Want {
                line: "<166>Jan 01 2020 10:00:00 fw01 : %ASA-4-106023: Deny",
                pri: Some(166),
                host: Some("fw01"),
                app: None,
                pid: None,
                msg: "%ASA-4-106023: Deny",
                stamp: Some("2020-01-01T10:00:00Z"),
            },
            Want {
                line: "<166>Jan 01 10:00:00 fw01 %ASA-4-106023: Deny",
                pri: Some(166),
                host: Some("fw01"),
                app: None,
                pid: None,
                msg: "%ASA-4-106023: Deny",
                stamp: Some("2026-01-01T10:00:00Z"),
            },
            Want {
                line: "refused connect from x",
                pri: None,
                host: None,
                app: None,
                pid: None,
                msg: "refused connect from x",
                stamp: None,
            },
            Want {
                line: "<38>ftpd[3689]: refused",
                pri: Some(38),
                host: None,
                app: Some("ftpd"),
                pid: Some("3689"),
                msg: "refused",
                stamp: None,
            },
            Want {
                line: "<999>junk",
                pri: None,
                host: None,
                app: None,
                pid: None,
                msg: "<999>junk",
                stamp: None,
            },
            Want {
                line: "Nov  8 15:26:31 host last message repeated 3 times",
                pri: None,
                host: Some("host"),
                app: None,
                pid: None,
                msg: "last message repeated 3 times",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "Nov  8 15:26:31 host sshd[5]: message repeated 2 times: [ Failed password for root from 1.2.3.4 port 5 ssh2]",
                pri: None,
                host: Some("host"),
                app: Some("sshd"),
                pid: Some("5"),
                msg: "Failed password for root from 1.2.3.4 port 5 ssh2",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "Nov  8 15:26:31 2001:db8::1 sshd[5]: x",
                pri: None,
                host: Some("2001:db8::1"),
                app: Some("sshd"),
                pid: Some("5"),
                msg: "x",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            Want {
                line: "<4>Nov  8 15:26:31 host postfix/smtpd[77]: connect from unknown[1.2.3.4]",
                pri: Some(4),
                host: Some("host"),
                app: Some("postfix/smtpd"),
                pid: Some("77"),
                msg: "connect from unknown[1.2.3.4]",
                stamp: Some("2026-11-08T15:26:31Z"),
            },
            // Cisco host fields before the in-message prefix (Elastic cisco_ios/cisco_asa tests).
            Want {
                line: "<189>387448: host-01: May 6 16:13:09.123 UTC+1: %DOT1X-5-FAIL: Authentication failed",
                pri: Some(189),
                host: Some("host-01"),
                app: None,
                pid: None,
                msg: "%DOT1X-5-FAIL: Authentication failed",
                stamp: Some("2026-05-06T15:13:09.123Z"),
            },
            Want {
                line: "<182>: host-1: 84526125: Jan 23 14:53:33.953 CET: %FMANFP-6-IPV6ACCESSLOGP: x",
                pri: Some(182),
                host: Some("host-1"),
                app: None,
                pid: None,
                msg: "%FMANFP-6-IPV6ACCESSLOGP: x",
                stamp: Some("2026-01-23T14:53:33.953Z"),
            },
            Want {
                line: "May  5 17:51:17 dev01: %FTD-6-302013: Built inbound TCP connection",
                pri: None,
                host: Some("dev01"),
                app: None,
                pid: None,
                msg: "%FTD-6-302013: Built inbound TCP connection",
                stamp: Some("2026-05-05T17:51:17Z"),
            },
            Want {
                line: "<165>7433: ASR920: 007439: 2y10w: %SYS-5-CONFIG_I: Configured",
                pri: Some(165),
                host: Some("ASR920"),
                app: None,
                pid: None,
                msg: "2y10w: %SYS-5-CONFIG_I: Configured",
                stamp: None,
            },
            // A netfilter prefix and PortSentry's keyword are not tags; a bracketed tag is one.
            Want {
                line: "Jan  8 03:37:09 DENY: IN=eth0 OUT= SRC=192.168.2.71",
                pri: None,
                host: None,
                app: None,
                pid: None,
                msg: "DENY: IN=eth0 OUT= SRC=192.168.2.71",
                stamp: Some("2026-01-08T03:37:09Z"),
            },
            Want {
                line: "attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: 11",
                pri: None,
                host: None,
                app: None,
                pid: None,
                msg: "attackalert: Connect from host: 127.0.0.1/127.0.0.1 to TCP port: 11",
                stamp: None,
            },
            Want {
                line: "Mar  3 00:17:22 [sshd]: User root from 211.188.220.49 not allowed",
                pri: None,
                host: None,
                app: Some("sshd"),
                pid: None,
                msg: "User root from 211.188.220.49 not allowed",
                stamp: Some("2026-03-03T00:17:22Z"),
            },
            // Facility.severity after the host (Ubiquiti), Solaris message ids after the tag.
            Want {
                line: "May  5 20:46:45 My-Office-Gateway user.info kernel: TTL=126 ID=15317",
                pri: None,
                host: Some("My-Office-Gateway"),
                app: Some("kernel"),
                pid: None,
                msg: "TTL=126 ID=15317",
                stamp: Some("2026-05-05T20:46:45Z"),
            },
            // sysklogd's own message has no tag (ossec-docs' kernel samples).
            Want {
                line: "Jun  1 22:20:06 secserv exiting on signal 15",
                pri: None,
                host: Some("secserv"),
                app: None,
                pid: None,
                msg: "exiting on signal 15",
                stamp: Some("2026-06-01T22:20:06Z"),
            },
            // AIX writes facilities joined by `|` and the level after `:` (ossec-docs' sample).
            Want {
                line: "Oct 11 08:05:46 hostname auth|security:info sshd[323808]: Accepted publickey for usr1 from 2.3.4.5 port 37909 ssh2",
                pri: None,
                host: Some("hostname"),
                app: Some("sshd"),
                pid: Some("323808"),
                msg: "Accepted publickey for usr1 from 2.3.4.5 port 37909 ssh2",
                stamp: Some("2026-10-11T08:05:46Z"),
            },
            Want {
                line: "Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed keyboard-interactive",
                pri: None,
                host: Some("dusky"),
                app: Some("sshd"),
                pid: Some("20878"),
                msg: "Failed keyboard-interactive",
                stamp: Some("2026-03-29T05:59:23Z"),
            },
        ];
        for c in cases {
            check(c);
        }
    }

    #[test]
    fn rfc5424_variants() {
        let cases = [
            Want {
                line: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
                pri: Some(34),
                host: Some("mymachine.example.com"),
                app: Some("su"),
                pid: None,
                msg: "'su root' failed",
                stamp: Some("2003-10-11T22:14:15.003Z"),
            },
            Want {
                line: "<165>1 2003-10-11T22:14:15.003Z host evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\\]\"] \u{feff}An application event",
                pri: Some(165),
                host: Some("host"),
                app: Some("evntslog"),
                pid: Some("42"),
                msg: "An application event",
                stamp: Some("2003-10-11T22:14:15.003Z"),
            },
            Want {
                line: "<13>1 - - - - - -",
                pri: Some(13),
                host: None,
                app: None,
                pid: None,
                msg: "",
                stamp: None,
            },
            Want {
                line: "<13>1 2003-10-11T22:14:15Z h a p m",
                pri: Some(13),
                host: Some("h"),
                app: Some("a"),
                pid: Some("p"),
                msg: "",
                stamp: Some("2003-10-11T22:14:15Z"),
            },
            Want {
                line: "<86>1 2026-11-23T10:00:00+01:00 gw sshd 411 - - Failed password for root from 2001:db8::7 port 50022 ssh2",
                pri: Some(86),
                host: Some("gw"),
                app: Some("sshd"),
                pid: Some("411"),
                msg: "Failed password for root from 2001:db8::7 port 50022 ssh2",
                stamp: Some("2026-11-23T09:00:00Z"),
            },
        ];
        for c in cases {
            check(c);
        }
        let h = parse(
            b"<165>1 2003-10-11T22:14:15.003Z h a - - [x@1 k=\"v\"][y@2] m",
            &ctx(),
        );
        assert_eq!(h.structured_data, Some(&b"[x@1 k=\"v\"][y@2]"[..]));
        assert_eq!(h.version, Some(1));
    }

    #[test]
    fn repeat_counts() {
        let h = parse(
            b"Nov  8 15:26:31 host last message repeated 3 times",
            &ctx(),
        );
        assert_eq!(h.repeat, Some(3));
        let h = parse(
            b"Nov  8 15:26:31 host sshd[5]: message repeated 2 times: [ x]",
            &ctx(),
        );
        assert_eq!((h.repeat, h.message), (Some(2), &b"x"[..]));
    }

    /// A host a user replaced by a placeholder before sharing the line names no host, through
    /// the fast step and the general reader alike (firewalld/firewalld#1436, a real paste).
    #[test]
    fn a_placeholder_host_names_no_host() {
        let line = "Dec 20 11:01:41 <redacted> kernel: rpfilter_DROP: IN=eth0 OUT= MAC=33:33:00:00:00:02:34:40:b5:ab:f2:b8:86:dd SRC=fe80:0000:0000:0000:3640:b5ff:feab:f2b8 DST=ff02:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=255 FLOWLBL=148171 PROTO=ICMPv6 TYPE=133 CODE=0";
        for h in [
            parse(line.as_bytes(), &ctx()),
            parse_general(line.as_bytes(), &ctx()),
        ] {
            assert_eq!(h.hostname, None);
            assert_eq!(s(h.appname), Some("kernel"));
            assert!(h.message.starts_with(b"rpfilter_DROP: IN=eth0"));
        }
        // The general reader's own path (a word, then a tag it reads itself) too.
        let h = parse_general(b"Dec 20 11:01:41 <host> sshd[9]: x", &ctx());
        assert_eq!((h.hostname, s(h.appname)), (None, Some("sshd")));
    }

    /// The header's fields as (address, length) pairs besides their values: the fast step
    /// must hand back the very slices the general reader does.
    fn shape<'a>(h: &Header<'a>) -> (Header<'a>, [(usize, usize); 6]) {
        let at = |s: Option<&[u8]>| s.map_or((0, 0), |s| (s.as_ptr() as usize, s.len()));
        (
            *h,
            [
                at(h.hostname),
                at(h.appname),
                at(h.procid),
                at(h.msgid),
                at(h.structured_data),
                at(Some(h.message)),
            ],
        )
    }

    /// `parse` (with the fast step for the common line) against `parse_general` (without),
    /// under the given references (Unix seconds; zone-less stamps an hour east of UTC).
    fn agree(line: &[u8], references: &[i64]) {
        for &reference in references {
            let ctx = ParseContext::new(reference).with_offset(3600);
            let fast = parse(line, &ctx);
            let general = parse_general(line, &ctx);
            assert_eq!(
                shape(&fast),
                shape(&general),
                "fast and general headers differ for {:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    /// Every line of the test corpora.
    fn corpus_lines() -> Vec<Vec<u8>> {
        crate::testing::corpus_lines()
    }

    /// Every line of the test corpora, cut short at each of its first 64 bytes, and with
    /// bytes the fast step looks for written over and into its first 36.
    #[test]
    fn the_fast_step_agrees_with_the_general_reader_on_the_corpora() {
        let references = [1_795_392_000, 0];
        for line in corpus_lines() {
            agree(&line, &references);
            for cut in 0..line.len().min(64) {
                agree(&line[..cut], &references);
            }
            for at in 0..line.len().min(36) {
                for b in [b' ', b':', b'[', b']', b'%', b'5'] {
                    let mut over = line.clone();
                    over[at] = b;
                    agree(&over, &references);
                }
                for b in [b' ', b':', b']'] {
                    let mut into = line.clone();
                    into.insert(at, b);
                    agree(&into, &references);
                }
            }
        }
    }

    /// Header-like lines built from the tokens the fast step tells apart.
    fn headerish() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let pieces = prop::sample::select(vec![
            &b"<38>"[..],
            b"<13>1 ",
            b"Nov  8 15:26:31 ",
            b"Nov 08 15:26:31:",
            b"nov  8 15:26:31 ",
            b"Nov  8 2001 15:26:31 ",
            b"2001-11-08T15:26:31.1+01:00 ",
            b"2026-11-08 15:26:31Z ",
            b"2026-13-08T15:26:31 ",
            b"host ",
            b"Host ",
            b"2001:db8::1 ",
            b"[host] ",
            b"rule ",
            b"sshd[411]: ",
            b"sshd[411] ",
            b"sshd[]: ",
            b"sshd[4[1]: ",
            b"[411]: ",
            b"postfix/smtpd[77]: ",
            b"kernel: ",
            b"DENY: ",
            b"IN=eth0 ",
            b"123: ",
            b"1234567890: ",
            b"9999999999: ",
            b": ",
            b":",
            b"%ASA-4-106023: ",
            b"Info: ",
            b"user.info ",
            b"last message repeated 3 times",
            b"message repeated 2 times: [ x]",
            b"[ID 800047 auth.info] ",
            b"attackalert: ",
            b"msg",
            b" ",
            b"  ",
            b"\t",
            b"[",
            b"]",
            b"\xff",
        ]);
        prop::collection::vec(pieces, 0..10).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 10_000, ..proptest::prelude::ProptestConfig::default() })]

        #[test]
        fn the_fast_step_agrees_with_the_general_reader(line in headerish()) {
            agree(&line, &[1_795_392_000, 0, 1_767_225_600, 4_102_444_800]);
        }
    }
}
