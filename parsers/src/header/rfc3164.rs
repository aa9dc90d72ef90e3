//! RFC 3164 ("BSD") headers as real senders write them: `[SEQ: ][STAMP][:] [HOST] [TAG[[PID]][:]] MSG`.
//!
//! The stamp may be BSD or ISO, the host and the tag may each be missing, the tag may lack its
//! pid or its colon, and Cisco devices put sequence numbers (`123:`) and a second stamp before
//! a `%FAC-SEV-MNEMONIC:` message. A token is taken for a host only after a stamp, because
//! without one a host cannot be told from the first word of the message.

use super::{Header, timestamp};
use crate::context::ParseContext;
use crate::lex::{find, position, skip_spaces, split_word, to_u32};

/// What one header token turned out to be.
enum Token<'a> {
    /// `%SEC-6-IPACCESSLOGP:`: the message starts here.
    Mnemonic,
    /// `123:`: a Cisco sequence number.
    Sequence(u32),
    /// `prog[pid]:`, `prog:` or `prog[pid]`.
    Tag(&'a [u8], Option<&'a [u8]>),
    /// A lone `:` between host and message.
    Colon,
    /// Anything else.
    Word,
}

fn is_mnemonic(tok: &[u8]) -> bool {
    tok.len() > 3
        && tok.first() == Some(&b'%')
        && tok.get(1).is_some_and(u8::is_ascii_uppercase)
        && position(tok, b'-').is_some()
}

/// A placeholder a user put where the host was before sharing a line (`<redacted>`, `<IP>`):
/// no host name holds `<` or `>`, so such a word names no host.
fn is_placeholder(tok: &[u8]) -> bool {
    // The first byte first: the fast step asks this of every host word.
    tok.first() == Some(&b'<') && tok.len() >= 2 && tok.last() == Some(&b'>')
}

fn classify(tok: &[u8]) -> Token<'_> {
    if tok.is_empty() {
        return Token::Word;
    }
    if tok == b":" {
        return Token::Colon;
    }
    if is_mnemonic(tok) {
        return Token::Mnemonic;
    }
    let (body, had_colon) = match tok.strip_suffix(b":") {
        Some(b) => (b, true),
        None => (tok, false),
    };
    if had_colon && let Some(n) = to_u32(body) {
        return Token::Sequence(n);
    }
    if let Some(inner) = body.strip_suffix(b"]") {
        if let Some(open) = position(inner, b'[')
            && let (Some(app), Some(pid)) = (inner.get(..open), inner.get(open + 1..))
            && !app.is_empty()
            && position(pid, b'[').is_none()
        {
            return Token::Tag(app, (!pid.is_empty()).then_some(pid));
        }
        return Token::Word;
    }
    if had_colon && !body.is_empty() && !body.iter().any(|b| matches!(b, b':' | b'[')) {
        return Token::Tag(body, None);
    }
    Token::Word
}

/// A tag written without pid or colon (`linux ftpd refused connect …`): accepted only for a
/// lower-case program-like word, so that a message's first word is not taken for a program.
fn is_bare_tag(tok: &[u8]) -> bool {
    tok.first().is_some_and(u8::is_ascii_lowercase)
        && tok.len() <= 48
        && tok
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && tok != b"last"
        && tok != b"message"
        // sysklogd's own `exiting on signal 15`, logged without a tag.
        && tok != b"exiting"
}

/// A log level written as a tag (`Info:`, `Warn:`): dovecot's and some daemons' own files.
fn is_level(tok: &[u8]) -> bool {
    matches!(
        tok,
        b"Info:" | b"Warn:" | b"Warning:" | b"Error:" | b"Fatal:" | b"Panic:" | b"Debug:"
    )
}

/// `[4663]:` or `[4663]`: a tag reduced to its pid (some senders drop the program name).
fn bare_pid(tok: &[u8]) -> Option<&[u8]> {
    let body = tok.strip_suffix(b":").unwrap_or(tok);
    let pid = body.strip_prefix(b"[")?.strip_suffix(b"]")?;
    to_u32(pid).map(|_| pid)
}

/// A host name a forum or relay wrapped: `[host]`, `[b]host[/b]` (BBCode), when a tag follows.
fn wrapped_host(tok: &[u8]) -> Option<&[u8]> {
    if let Some(inner) = tok
        .strip_prefix(b"[b]")
        .and_then(|t| t.strip_suffix(b"[/b]"))
    {
        return Some(inner).filter(|h| !h.is_empty());
    }
    let inner = tok.strip_prefix(b"[")?.strip_suffix(b"]")?;
    (!inner.is_empty()
        && inner
            .iter()
            .all(|b| crate::lex::is_host_char(*b) || *b == b':'))
    .then_some(inner)
}

/// `[sshd]` or `[sshd]:` where a host would be: a tag in brackets, as some relays write it.
fn bracketed_tag(tok: &[u8]) -> Option<&[u8]> {
    let body = tok.strip_suffix(b":").unwrap_or(tok);
    let inner = body.strip_prefix(b"[")?.strip_suffix(b"]")?;
    is_bare_tag(inner).then_some(inner)
}

/// `user.info`, `local7.warning`: the facility and severity some senders (Ubiquiti, some
/// relays) print between the host and the tag.
fn is_facility_severity(tok: &[u8]) -> bool {
    const FACILITIES: [&[u8]; 24] = [
        b"kern",
        b"user",
        b"mail",
        b"daemon",
        b"auth",
        b"syslog",
        b"lpr",
        b"news",
        b"uucp",
        b"cron",
        b"authpriv",
        b"ftp",
        b"ntp",
        b"security",
        b"console",
        b"local0",
        b"local1",
        b"local2",
        b"local3",
        b"local4",
        b"local5",
        b"local6",
        b"local7",
        b"clock",
    ];
    const SEVERITIES: [&[u8]; 10] = [
        b"emerg", b"alert", b"crit", b"err", b"error", b"warn", b"warning", b"notice", b"info",
        b"debug",
    ];
    // Every pair is 7 to 32 bytes and ends in a severity's last letter; a tag (`sshd[1]:`)
    // fails that at once, without a scan for the dot.
    if !(7..=32).contains(&tok.len())
        || !matches!(tok.last(), Some(b'g' | b't' | b'r' | b'n' | b'e' | b'o'))
    {
        return false;
    }
    // `auth.info`, and AIX's `auth|security:info` (facilities joined by `|`, then `:`).
    let Some(dot) = position(tok, b'.').or_else(|| position(tok, b':')) else {
        return false;
    };
    let (Some(fac), Some(sev)) = (tok.get(..dot), tok.get(dot + 1..)) else {
        return false;
    };
    fac.split(|b| *b == b'|').all(|f| FACILITIES.contains(&f)) && SEVERITIES.contains(&sev)
}

/// True when what follows a `word:` token is Cisco's in-message prefix (a sequence number,
/// a stamp or the `%FAC-SEV-MNEMONIC:`), which makes that word the device's host name
/// (`dev01: %ASA-4-106023: …`, `host-01: May 6 16:13:09.123 UTC: %DOT1X-…`).
fn cisco_follows(rest: &[u8]) -> bool {
    let rest = skip_spaces(rest);
    let (tok, _) = split_word(rest);
    is_mnemonic(tok)
        || matches!(classify(tok), Token::Sequence(_))
        || timestamp::bsd_exact(rest).is_ok()
}

/// True when `word:` is an upper-case netfilter log prefix followed by the packet fields
/// (`DENY: IN=eth0 …`), not a tag (`kernel: IN=eth0 …` keeps its tag).
fn is_log_prefix(word: &[u8], rest: &[u8]) -> bool {
    !word.iter().any(u8::is_ascii_lowercase) && skip_spaces(rest).starts_with(b"IN=")
}

/// PortSentry's keywords, which open its messages and are not program names.
fn is_portsentry_keyword(app: &[u8]) -> bool {
    app == b"attackalert" || app == b"adminalert"
}

/// Strips Solaris' message id (`[ID 800047 auth.info] `) from the start of a message.
fn strip_solaris_id(m: &[u8]) -> &[u8] {
    let Some(inner) = m.strip_prefix(b"[ID ") else {
        return m;
    };
    let Some(close) = crate::lex::find_byte(b']', inner) else {
        return m;
    };
    let (id, rest) = split_word(inner.get(..close).unwrap_or_default());
    let facility = skip_spaces(rest);
    if to_u32(id).is_some() && is_facility_severity(facility) {
        skip_spaces(inner.get(close + 1..).unwrap_or_default())
    } else {
        m
    }
}

/// daemontools' and s6's TAI64N label (`@400000004c91b044077a9e94`, multilog files): the rest
/// after it. Its time is not decoded (it is TAI, not UTC, and such lines come from files).
fn tai64n(i: &[u8]) -> Option<&[u8]> {
    let label = i.strip_prefix(b"@4")?;
    let hex = label.get(..23)?;
    let rest = label.get(23..)?;
    (hex.iter().all(u8::is_ascii_hexdigit) && matches!(rest.first(), None | Some(b' ')))
        .then_some(rest)
}

/// Skips a `:` and the spaces that follow a stamp.
fn after_stamp(i: &[u8]) -> &[u8] {
    let i = i.strip_prefix(b":").unwrap_or(i);
    skip_spaces(i)
}

/// Cisco sequence numbers and an in-message stamp (`000123: *Mar  1 00:01:02.345 UTC:`)
/// that some devices put between the syslog header and the `%` mnemonic.
fn cisco_prefix<'a>(mut i: &'a [u8], h: &mut Header<'a>, ctx: &ParseContext) -> &'a [u8] {
    loop {
        let (tok, rest) = split_word(i);
        match classify(tok) {
            Token::Sequence(n) => {
                h.sequence.get_or_insert(n);
                i = skip_spaces(rest);
            }
            _ => break,
        }
    }
    if let Ok((rest, t)) = timestamp::bsd_exact(i) {
        if h.timestamp.is_none() {
            h.timestamp = Some(ctx.resolve(&t));
        }
        i = after_stamp(rest);
    }
    i
}

/// Parses the part after PRI as an RFC 3164 header into `h` (which holds the PRI and nothing
/// else); never fails (what is not header is message). Filling the caller's header in place
/// saves copying it on every line.
pub fn parse_into<'a>(i: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>) {
    h.message = i;
    parse_fields(i, ctx, h, true);
    h.message = strip_solaris_id(h.message);
}

/// [`parse_into`] without its fast step for the common line (`host_and_tag`): the reference
/// that step is tested against.
pub fn parse_into_general<'a>(i: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>) {
    h.message = i;
    parse_fields(i, ctx, h, false);
    h.message = strip_solaris_id(h.message);
}

/// The common well-formed rest of a line after its stamp, `host tag[pid]: ` or `host tag: `,
/// read without the token classifier: `true` when `rest` has that shape, with `h` holding
/// exactly what the general reader below would put there; `false`, with `h` untouched, leaves
/// the line to it.
///
/// Each test is the condition under which the general reader takes the same branch, so that
/// the two cannot disagree; [`parse_into_general`] skips this step, and a property test and
/// the `header` fuzz target compare the two.
#[inline]
fn host_and_tag<'a>(rest: &'a [u8], h: &mut Header<'a>) -> bool {
    // The host: a token `classify` calls a word (no `%` first, no `:` or `]` last, so no
    // mnemonic, sequence, tag or level word), that no bracket reader takes (no `[` first) and
    // that is not pflog's `rule`.
    let (host, after) = split_word(rest);
    match (host.first(), host.last()) {
        (Some(b'%' | b'['), _) | (_, Some(b':' | b']')) | (None, _) => return false,
        _ => {}
    }
    if host == b"rule" {
        return false;
    }
    let rest = skip_spaces(after);
    let (tok, after) = split_word(rest);
    // The tag, as `classify` reads it when it ends in `]` or `:` (so it is no facility and
    // severity pair) and does not open with `[` (a bare pid) or `%` (a mnemonic).
    let (app, pid) = match tok {
        [b'[' | b'%', ..] | [] => return false,
        [body @ .., b']', b':'] | [body @ .., b']'] => {
            // `app[digits]`: the first `[` opens the pid, which holds no other `[`.
            let Some(open) = position(body, b'[') else {
                return false;
            };
            let (Some(app), Some(pid)) = (body.get(..open), body.get(open + 1..)) else {
                return false;
            };
            if !timestamp::digits_at(rest, open + 1, pid.len()) {
                return false;
            }
            (app, Some(pid))
        }
        [body @ .., b':'] => {
            // `app:`: not a lone `:`, not all digits (a sequence number), no `:` or `[`
            // inside, and no netfilter prefix (`DENY: IN=…`).
            if body.is_empty()
                || to_u32(body).is_some()
                || body.iter().any(|b| matches!(b, b':' | b'['))
                || is_log_prefix(body, after)
            {
                return false;
            }
            (body, None)
        }
        _ => return false,
    };
    h.hostname = Some(host);
    if is_placeholder(host) {
        h.hostname = None;
    }
    h.appname = Some(app);
    h.procid = pid;
    h.message = skip_spaces(after);
    true
}

#[inline(always)]
fn parse_fields<'a>(i: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>, fast: bool) {
    let mut rest = skip_spaces(i);
    // Cisco's empty sequence field: `<190>: Jan  6 …`, `<182>: host-1: 115649616: …`.
    if let Some(r) = rest.strip_prefix(b": ") {
        rest = skip_spaces(r);
    }
    // The plain BSD and ISO stamps first, read without nom's result type: a line that opens
    // with one has no sequence or record number (a year's digits run into its `-`).
    let common = timestamp::common(rest);
    // A Cisco sequence number (`123:`) starts with a digit; most lines start with a month.
    if common.is_none() && rest.first().is_some_and(u8::is_ascii_digit) {
        let (tok, after) = split_word(rest);
        if let Token::Sequence(n) = classify(tok) {
            h.sequence = Some(n);
            rest = skip_spaces(after);
        } else if tok.iter().all(u8::is_ascii_digit) && timestamp::any(skip_spaces(after)).is_ok() {
            // A file's record number before the stamp (WIPFW: `0000000060 2006.12.07 …`).
            rest = skip_spaces(after);
        }
    }
    // The common stamp is read where its reader left it: turned into a `Result` first, its 64
    // bytes were copied with 16-byte loads of what had just been stored 4 bytes at a time (a
    // store-forwarding stall on most lines).
    let had_stamp = if let Some((r, t)) = &common {
        h.timestamp = Some(ctx.resolve(t));
        rest = after_stamp(r);
        true
    } else if let Ok((r, t)) = timestamp::any(rest) {
        h.timestamp = Some(ctx.resolve(&t));
        rest = after_stamp(r);
        true
    } else if let Some(r) = tai64n(rest) {
        rest = skip_spaces(r);
        true
    } else {
        false
    };
    if rest.first() == Some(&b'l') && rest.starts_with(b"last message repeated ") {
        h.message = rest;
        return;
    }
    if fast && had_stamp && host_and_tag(rest, h) {
        return;
    }
    let (mut tok, mut after) = split_word(rest);
    // dovecot's own log file: `Jun 23 15:04:05 Info: imap-login: …`, a level where a host
    // would be; the process follows it.
    if had_stamp
        && is_level(tok)
        && matches!(classify(split_word(skip_spaces(after)).0), Token::Tag(..))
    {
        rest = skip_spaces(after);
        (tok, after) = split_word(rest);
    }
    match classify(tok) {
        Token::Mnemonic => {
            h.message = rest;
            return;
        }
        Token::Sequence(_) => {
            h.message = cisco_prefix(rest, h, ctx);
            return;
        }
        Token::Tag(app, None) if cisco_follows(after) => {
            // `<IP>:`: a host name blanked out before the line was shared.
            if !is_placeholder(app) {
                h.hostname = Some(app);
            }
            h.message = cisco_prefix(skip_spaces(after), h, ctx);
            return;
        }
        Token::Tag(app, None) if is_log_prefix(app, after) || is_portsentry_keyword(app) => {
            h.message = rest;
            return;
        }
        Token::Tag(app, pid) => {
            h.appname = Some(app);
            h.procid = pid;
            h.message = skip_spaces(after);
            return;
        }
        Token::Colon => {
            h.message = skip_spaces(after);
            return;
        }
        Token::Word if had_stamp && !tok.is_empty() => {
            // tcpdump's pflog output copied as it is: `Jan 30 20:43:54.026177 rule 4/(match)
            // block in …`; `rule` opens the message, it is no host.
            if tok == b"rule" && find(split_word(skip_spaces(after)).0, b"(match)").is_some() {
                h.message = rest;
                return;
            }
            if let Some(pid) = bare_pid(tok) {
                h.procid = Some(pid);
                h.message = skip_spaces(after);
                return;
            }
            // `[host] sshd[1]:`: brackets around a host, told from a bracketed tag by the tag
            // that follows.
            if let Some(host) = wrapped_host(tok)
                && matches!(classify(split_word(skip_spaces(after)).0), Token::Tag(..))
            {
                h.hostname = Some(host);
                return parse_after_host(skip_spaces(after), ctx, h);
            }
            if let Some(app) = bracketed_tag(tok) {
                h.appname = Some(app);
                h.message = skip_spaces(after);
                return;
            }
            // `<redacted>`: the host blanked out; the tag still follows.
            h.hostname = (!is_placeholder(tok)).then_some(tok);
        }
        Token::Word => {
            h.message = rest;
            return;
        }
    }
    parse_after_host(skip_spaces(after), ctx, h);
}

/// After the host: the tag, a Cisco prefix, or the message.
fn parse_after_host<'a>(mut rest: &'a [u8], ctx: &ParseContext, h: &mut Header<'a>) {
    let (mut tok, mut after) = split_word(rest);
    if is_facility_severity(tok) {
        rest = skip_spaces(after);
        (tok, after) = split_word(rest);
    }
    if let Some(pid) = bare_pid(tok) {
        h.procid = Some(pid);
        h.message = skip_spaces(after);
        return;
    }
    match classify(tok) {
        Token::Mnemonic => h.message = rest,
        Token::Sequence(_) => h.message = cisco_prefix(rest, h, ctx),
        Token::Tag(app, None) if is_log_prefix(app, after) => h.message = rest,
        Token::Tag(app, pid) => {
            h.appname = Some(app);
            h.procid = pid;
            h.message = skip_spaces(after);
        }
        Token::Colon => h.message = skip_spaces(after),
        Token::Word if is_bare_tag(tok) && !after.is_empty() => {
            h.appname = Some(tok);
            h.message = skip_spaces(after);
        }
        Token::Word => h.message = rest,
    }
}
