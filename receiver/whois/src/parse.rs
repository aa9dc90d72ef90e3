//! Reading one whois reply. RFC 3912 fixes no format, so each registry's shape is read as it
//! is written: RPSL objects (RIPE, APNIC, AFRINIC, LACNIC, IANA: `key: value`, objects split
//! by blank lines, `%` comments), ARIN's `Key: value` blocks (one `# start` … `# end` section
//! per network when several match, least specific first), KRNIC's `Key   : value` lines under
//! `[ Title ]` headers, and JPNIC's `a. [Key]   value` lines. Pure code over borrowed text:
//! every string in a [`Reply`] is a slice of the input (or a registry's host name), and no
//! input makes it panic (fuzz target `whois`).

/// What one reply says about an address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply<'a> {
    /// Where the registry sends the question on, when it does not hold the network itself.
    pub referral: Option<Referral<'a>>,
    /// The abuse mailbox the reply names (never a placeholder or a registry's catch-all).
    pub abuse: Option<Found<'a>>,
    /// A domain of the network's own mail addresses: where the RFC 2142 `abuse@` fallback goes.
    pub domain: Option<&'a str>,
    /// The network's name (`netname`, `NetName`).
    pub netname: Option<&'a str>,
    /// The network's range as the registry writes it (`inetnum`, `NetRange`, `inet6num`, CIDR).
    pub range: Option<&'a str>,
    /// The network's country code.
    pub country: Option<&'a str>,
    /// The organisation holding the network.
    pub org: Option<&'a str>,
}

/// A referral: the next server, and the line that named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Referral<'a> {
    /// The next server: a host, host:port, an IP literal or a `whois://host:port` URL.
    pub target: &'a str,
    /// The key of the line that referred (`refer`, `ReferralServer`, `NetType`, `mnt-irt`).
    pub key: &'a str,
    /// That line's value, as written.
    pub value: &'a str,
}

/// How an abuse address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The network's (or its organisation's) `abuse-c:` role object, its `abuse-mailbox:`
    /// (LACNIC: the person's `e-mail:`).
    AbuseC,
    /// The registry's comment `% Abuse contact for '…' is '…'` (RIPE, APNIC, AFRINIC).
    AbuseComment,
    /// An `abuse-mailbox:` attribute (an APNIC `irt` object, say).
    AbuseMailbox,
    /// ARIN's `RAbuseEmail:` (the network's abuse POC) or `OrgAbuseEmail:`.
    ArinAbuse,
    /// A national registry's network contact (KRNIC's abuse or technical contact `E-Mail`).
    NetworkContact,
    /// No mailbox registered: `abuse@` the network's mail domain (RFC 2142), a guess.
    Rfc2142,
}

impl How {
    /// Words for a person: how the address was found.
    pub fn describe(self) -> &'static str {
        match self {
            How::AbuseC => "abuse-c role object",
            How::AbuseComment => "registry's abuse contact comment",
            How::AbuseMailbox => "abuse-mailbox attribute",
            How::ArinAbuse => "ARIN abuse POC",
            How::NetworkContact => "network contact (no abuse mailbox registered)",
            How::Rfc2142 => "RFC 2142 fallback (no abuse mailbox registered)",
        }
    }
}

/// An abuse address and how it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    /// The address.
    pub address: &'a str,
    /// How.
    pub how: How,
}

/// One object: consecutive attribute lines, with the `[ Title ]` above it (KRNIC) and the
/// section it is in (ARIN `# start`, RPSL `% Information related to`).
#[derive(Debug, Default)]
struct Obj<'a> {
    attrs: Vec<(&'a str, &'a str)>,
    title: &'a str,
    section: usize,
}

impl<'a> Obj<'a> {
    /// The first value of `key` (ASCII case ignored).
    fn get(&self, key: &str) -> Option<&'a str> {
        self.values(key).next()
    }

    fn values<'b>(&'b self, key: &'b str) -> impl Iterator<Item = &'a str> + 'b {
        self.attrs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    /// The object's class: its first key.
    fn class(&self) -> &'a str {
        self.attrs.first().map_or("", |(k, _)| k)
    }
}

/// The reply cut into objects and comments.
struct Doc<'a> {
    objs: Vec<Obj<'a>>,
    comments: Vec<&'a str>,
}

/// Longest key taken as one (longer: a sentence with a colon in it).
const MAX_KEY: usize = 40;

/// A `key: value` line (KRNIC pads keys before the colon; JPNIC writes `a. [Key]  value`).
fn attr(line: &str) -> Option<(&str, &str)> {
    if line.starts_with([' ', '\t', '+']) {
        return None; // an RPSL continuation line
    }
    let body = jpnic_body(line);
    if let Some(rest) = body.strip_prefix('[') {
        let (k, v) = rest.split_once(']')?;
        let v = v.trim();
        return (!k.is_empty() && k.len() <= MAX_KEY && !v.is_empty()).then_some((k.trim(), v));
    }
    let (k, v) = line.split_once(':')?;
    let k = k.trim_end();
    if k.is_empty() || k.len() > MAX_KEY || k.contains(['\t', '%', '#']) {
        return None;
    }
    Some((k, v.trim()))
}

/// JPNIC's `a. [Key]` lines without the `a. ` label.
fn jpnic_body(line: &str) -> &str {
    let mut chars = line.char_indices();
    match (chars.next(), chars.next(), chars.next()) {
        (Some((_, c)), Some((_, '.')), Some((i, ' '))) if c.is_ascii_lowercase() => {
            line.get(i + 1..).map_or(line, str::trim_start)
        }
        _ => line,
    }
}

/// Ends the object being read.
fn close<'a>(cur: &mut Obj<'a>, objs: &mut Vec<Obj<'a>>) {
    if !cur.attrs.is_empty() {
        objs.push(std::mem::take(cur));
    }
}

fn doc(text: &str) -> Doc<'_> {
    let mut objs: Vec<Obj<'_>> = Vec::new();
    let mut comments = Vec::new();
    let mut cur = Obj::default();
    let mut section = 0usize;
    let mut title = "";
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let t = line.trim();
        if t.is_empty() {
            close(&mut cur, &mut objs);
            continue;
        }
        if line.starts_with(['%', '#']) {
            close(&mut cur, &mut objs);
            if line.starts_with("% Information related to") || t == "# start" {
                section += 1;
            }
            comments.push(line);
            continue;
        }
        // `[ Network Information ]` (KRNIC): a title for the lines below it.
        if t.starts_with('[') && t.ends_with(']') && !t.contains("] ") {
            close(&mut cur, &mut objs);
            title = t;
            continue;
        }
        if let Some((k, v)) = attr(line) {
            if cur.attrs.is_empty() && v.is_empty() {
                continue; // a heading (`Network Information:`), not an object's class
            }
            if cur.attrs.is_empty() {
                cur.title = title;
                cur.section = section;
            }
            cur.attrs.push((k, v));
        }
    }
    close(&mut cur, &mut objs);
    Doc { objs, comments }
}

/// Keys whose object is the network itself.
const NET_KEYS: [&str; 6] = [
    "inetnum",
    "inet6num",
    "NetRange",
    "IPv4 Address",
    "IPv6 Address",
    "Network Number",
];

/// Registry domains: their addresses belong to the registry, never to the network.
const REGISTRY_DOMAINS: [&str; 12] = [
    "iana.org",
    "arin.net",
    "ripe.net",
    "apnic.net",
    "lacnic.net",
    "afrinic.net",
    "nic.or.kr",
    "kisa.or.kr",
    "krnic.net",
    "nic.ad.jp",
    "twnic.net.tw",
    "registro.br",
];

/// Words registries put where they withhold an address.
const PLACEHOLDER_WORDS: [&str; 6] = [
    "REDACTED",
    "NOT DISCLOSED",
    "PLEASE QUERY",
    "NOT AVAILABLE",
    "WITHHELD",
    "PRIVACY",
];

/// True when `value` is a registry's placeholder rather than an address someone reads.
pub fn is_placeholder(value: &str) -> bool {
    let Some(address) = mail_address(value) else {
        return true;
    };
    // The words count around the address, not inside it (abuse@privacy-host.example is one).
    let around = value.replacen(address, " ", 1).to_ascii_uppercase();
    PLACEHOLDER_WORDS.iter().any(|w| around.contains(w)) || is_registry(address)
}

/// True when the address is at a registry's domain (or a subdomain of one).
fn is_registry(address: &str) -> bool {
    let Some((_, domain)) = address.rsplit_once('@') else {
        return true;
    };
    REGISTRY_DOMAINS.iter().any(|r| {
        domain.eq_ignore_ascii_case(r)
            || (domain.len() > r.len()
                && domain
                    .get(domain.len() - r.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(r))
                && domain
                    .get(..domain.len() - r.len())
                    .is_some_and(|h| h.ends_with('.')))
    })
}

/// The first mail address in a value (`abuse@example.net # comment`, `<abuse@x.example>`).
pub fn mail_address(value: &str) -> Option<&str> {
    let tok = value
        .split([' ', '\t', ',', ';'])
        .find(|t| t.contains('@'))?;
    let tok = tok.trim_matches(|c: char| "<>()[]'\"".contains(c) || c == '.');
    let (local, domain) = tok.rsplit_once('@')?;
    let ok_local = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"@<>()[]\\\",;:".contains(&b));
    let ok_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.contains("..")
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    (ok_local && ok_domain).then_some(tok)
}

/// A usable address in `value`: a real address, not a placeholder.
fn usable(value: &str) -> Option<&str> {
    (!is_placeholder(value))
        .then(|| mail_address(value))
        .flatten()
}

/// Reads one reply.
pub fn parse_reply(text: &str) -> Reply<'_> {
    let d = doc(text);
    let net = network(&d);
    let section = net.map(|n| n.section);
    let mut r = Reply {
        referral: referral(&d, net),
        ..Reply::default()
    };
    if let Some(n) = net {
        r.range = NET_KEYS.iter().find_map(|k| n.get(k));
        r.netname = n
            .get("netname")
            .or_else(|| n.get("NetName"))
            .or_else(|| n.get("Service Name"))
            .or_else(|| n.get("Network Name"));
        if n.class().eq_ignore_ascii_case("Network Number") {
            r.country = Some("JP");
        }
    }
    // Country and organisation: the network's own first, then its section's.
    let net_first = || net.into_iter().chain(in_section(&d, section));
    if r.country.is_none() {
        r.country = net_first().find_map(|o| o.get("country"));
    }
    r.org = organisation(&d, net).or_else(|| {
        [
            "org-name",
            "OrgName",
            "CustName",
            "owner",
            "Organization Name",
            "Organization",
        ]
        .iter()
        .find_map(|k| net_first().find_map(|o| o.get(k)))
    });
    if r.org.is_none() {
        r.org = net.and_then(|n| n.get("descr"));
    }
    r.abuse = abuse(&d, net, section);
    r.domain = net_first()
        .flat_map(|o| o.attrs.iter())
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            (k.contains("mail") || k == "notify") && !k.contains("abuse")
        })
        .find_map(|(_, v)| usable(v))
        .and_then(|a| a.rsplit_once('@').map(|(_, d)| d));
    r
}

/// The objects of the network's section (all of them when there is no network).
fn in_section<'d, 'a>(d: &'d Doc<'a>, section: Option<usize>) -> impl Iterator<Item = &'d Obj<'a>> {
    d.objs
        .iter()
        .filter(move |o| section.is_none_or(|s| o.section == s))
}

/// The network object: ARIN lists networks least specific first (take the last), RPSL and
/// KRNIC most specific first (take the first).
fn network<'d, 'a>(d: &'d Doc<'a>) -> Option<&'d Obj<'a>> {
    let is_net = |o: &&Obj<'a>| NET_KEYS.iter().any(|k| o.class().eq_ignore_ascii_case(k));
    let arin = d
        .objs
        .iter()
        .any(|o| o.class().eq_ignore_ascii_case("NetRange"));
    if arin {
        d.objs.iter().rfind(is_net)
    } else {
        d.objs.iter().find(is_net)
    }
}

/// The organisation's name: RPSL `org:` resolved to its `organisation` object.
fn organisation<'a>(d: &Doc<'a>, net: Option<&Obj<'a>>) -> Option<&'a str> {
    let handle = net?.get("org")?;
    d.objs
        .iter()
        .find(|o| {
            o.class().eq_ignore_ascii_case("organisation")
                && o.get("organisation")
                    .is_some_and(|h| h.eq_ignore_ascii_case(handle))
        })
        .and_then(|o| o.get("org-name"))
}

/// The abuse address, in the order of trust: the network's abuse-c role, the registry's
/// comment, an abuse-mailbox, ARIN's abuse POC, a national registry's contact.
fn abuse<'a>(d: &Doc<'a>, net: Option<&Obj<'a>>, section: Option<usize>) -> Option<Found<'a>> {
    let found = |address, how| Some(Found { address, how });
    // abuse-c on the network, else on its organisation.
    let org_obj = net.and_then(|n| n.get("org")).and_then(|h| {
        d.objs.iter().find(|o| {
            o.class().eq_ignore_ascii_case("organisation")
                && o.get("organisation")
                    .is_some_and(|x| x.eq_ignore_ascii_case(h))
        })
    });
    for handle in net
        .into_iter()
        .chain(org_obj)
        .filter_map(|o| o.get("abuse-c"))
    {
        let role = d.objs.iter().find(|o| {
            ["nic-hdl", "nic-hdl-br"]
                .iter()
                .any(|k| o.get(k).is_some_and(|h| h.eq_ignore_ascii_case(handle)))
        });
        // A role's `e-mail:` is for the registry's business; only a contact with no
        // abuse-mailbox at all (LACNIC's persons) is written to at its e-mail.
        if let Some(a) = role.and_then(|o| match o.get("abuse-mailbox") {
            Some(_) => o.values("abuse-mailbox").find_map(usable),
            None => o.values("e-mail").find_map(usable),
        }) {
            return found(a, How::AbuseC);
        }
    }
    for c in &d.comments {
        if let Some(rest) = c.strip_prefix("% Abuse contact for ")
            && let Some((_, addr)) = rest.split_once("' is '")
            && let Some(a) = usable(addr.trim_end().trim_end_matches('\''))
        {
            return found(a, How::AbuseComment);
        }
    }
    if let Some(a) = d
        .objs
        .iter()
        .flat_map(|o| o.values("abuse-mailbox"))
        .find_map(usable)
    {
        return found(a, How::AbuseMailbox);
    }
    // ARIN: the network's own abuse POC, else its organisation's; a reassignment to a
    // customer usually has neither, and then the network it was carved from (the section
    // before) answers for it.
    let top = section.unwrap_or(0);
    for s in (0..=top).rev() {
        for key in ["RAbuseEmail", "OrgAbuseEmail"] {
            if let Some(a) = in_section(d, Some(s))
                .flat_map(|o| o.values(key))
                .find_map(usable)
            {
                return found(a, How::ArinAbuse);
            }
        }
    }
    // KRNIC: an abuse section's E-Mail, else the technical contact's.
    for want in ["Abuse", "Contact"] {
        if let Some(a) = d
            .objs
            .iter()
            .filter(|o| o.title.contains(want))
            .flat_map(|o| o.values("E-Mail"))
            .find_map(usable)
        {
            return found(a, How::NetworkContact);
        }
    }
    None
}

/// National registries under APNIC: what marks their space in APNIC's reply, and their server.
const NIRS: [(&str, &str, &str); 9] = [
    ("mnt-irt", "IRT-KRNIC-KR", "whois.kisa.or.kr"),
    ("mnt-by", "MNT-KRNIC-AP", "whois.kisa.or.kr"),
    ("netname", "KRNIC-KR", "whois.kisa.or.kr"),
    ("mnt-irt", "IRT-JPNIC-JP", "whois.nic.ad.jp"),
    ("mnt-by", "MAINT-JPNIC", "whois.nic.ad.jp"),
    ("netname", "JPNIC-NET-JP", "whois.nic.ad.jp"),
    ("mnt-irt", "IRT-TWNIC-AP", "whois.twnic.net.tw"),
    ("mnt-by", "MAINT-TW-TWNIC", "whois.twnic.net.tw"),
    ("netname", "TWNIC-TW", "whois.twnic.net.tw"),
];

/// Regional registries as ARIN's `NetType` names them.
const RIRS: [(&str, &str); 5] = [
    ("RIPE", "whois.ripe.net"),
    ("APNIC", "whois.apnic.net"),
    ("LACNIC", "whois.lacnic.net"),
    ("AFRINIC", "whois.afrinic.net"),
    ("ARIN", "whois.arin.net"),
];

/// Where the reply sends the question on, if anywhere.
fn referral<'a>(d: &Doc<'a>, net: Option<&Obj<'a>>) -> Option<Referral<'a>> {
    let line = |key, value, target| Some(Referral { target, key, value });
    // IANA: `refer:` (and `whois:` in the same object).
    for key in ["refer", "whois"] {
        if let Some((k, v)) = d
            .objs
            .iter()
            .flat_map(|o| o.attrs.iter())
            .find(|(k, v)| k.eq_ignore_ascii_case(key) && !v.is_empty())
        {
            return line(k, v, v);
        }
    }
    // ARIN: the most specific network's ReferralServer (rwhois is another protocol: the
    // reply's own data is used instead), else its NetType.
    let arin: Vec<&Obj<'a>> = d
        .objs
        .iter()
        .filter(|o| o.get("ReferralServer").is_some() || o.get("NetType").is_some())
        .collect();
    if let Some((k, v)) = arin
        .iter()
        .rev()
        .flat_map(|o| o.attrs.iter())
        .find(|(k, _)| k.eq_ignore_ascii_case("ReferralServer"))
    {
        let lower = v.to_ascii_lowercase();
        if !lower.starts_with("rwhois:") && !v.is_empty() {
            return line(k, v, v);
        }
    }
    if let Some((k, v)) = arin
        .iter()
        .rev()
        .flat_map(|o| o.attrs.iter())
        .find(|(k, _)| k.eq_ignore_ascii_case("NetType"))
    {
        let upper = v.to_ascii_uppercase();
        if upper.contains("ALLOCATED TO") || upper.contains("TRANSFERRED TO") {
            let to = upper
                .rsplit_once(" TO ")
                .map_or(upper.as_str(), |(_, to)| to);
            if let Some((_, host)) = RIRS.iter().find(|(name, _)| to.contains(name)) {
                return line(k, v, host);
            }
        }
    }
    // APNIC: space a national registry holds.
    let n = net?;
    let from_apnic = n
        .get("source")
        .is_some_and(|s| s.to_ascii_uppercase().starts_with("APNIC"));
    if !from_apnic {
        return None;
    }
    for (key, mark, host) in NIRS {
        for (k, v) in n.attrs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)) {
            let hit = if key == "netname" {
                v.to_ascii_uppercase().starts_with(mark)
            } else {
                v.eq_ignore_ascii_case(mark)
            };
            if hit {
                return line(k, v, host);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IANA's answer for an address ARIN administers (whois.iana.org, as served).
    pub const IANA_ARIN: &str = "\
% IANA WHOIS server
% for more information on IANA, visit http://www.iana.org
% This query returned 1 object

refer:        whois.arin.net

inetnum:      23.0.0.0 - 23.255.255.255
organisation: ARIN
status:       ALLOCATED

whois:        whois.arin.net

changed:      2010-11
source:       IANA
";

    /// ARIN's `n + 193.0.6.139`: space transferred to the RIPE NCC.
    pub const ARIN_TO_RIPE: &str = "\
#
# ARIN WHOIS data and services are subject to the Terms of Use
# available at: https://www.arin.net/resources/registry/whois/tou/
#

NetRange:       193.0.0.0 - 193.255.255.255
CIDR:           193.0.0.0/8
NetName:        RIPE-CBLK2
NetHandle:      NET-193-0-0-0-1
Parent:          ()
NetType:        Allocated to RIPE NCC
OriginAS:
Organization:   RIPE Network Coordination Centre (RIPE)
RegDate:        1993-05-01
Updated:        2009-05-18
Comment:        These addresses have been further assigned to users in
Comment:        the RIPE NCC region. Contact information can be found in
Comment:        the RIPE database at http://www.ripe.net/whois
Ref:            https://rdap.arin.net/registry/ip/193.0.0.0

ResourceLink:  https://apps.db.ripe.net/db-web-ui/query
ResourceLink:  whois://whois.ripe.net

OrgName:        RIPE Network Coordination Centre
OrgId:          RIPE
Address:        P.O. Box 10096
City:           Amsterdam
Country:        NL
RegDate:
Updated:        2013-07-29

ReferralServer:  whois://whois.ripe.net

OrgAbuseHandle: ABUSE3850-ARIN
OrgAbuseName:   Abuse Contact
OrgAbusePhone:  +31205354444
OrgAbuseEmail:  abuse@ripe.net
";

    /// RIPE's answer with the network's `abuse-c` role object (filtered output).
    pub const RIPE: &str = "\
% This is the RIPE Database query service.
% The objects are in RPSL format.
%
% The RIPE Database is subject to Terms and Conditions.
% See https://apps.db.ripe.net/docs/HTML-Terms-And-Conditions

% Note: this output has been filtered.
%       To receive output for a database update, use the \"-B\" flag.

% Information related to '193.51.0.0 - 193.51.255.255'

% Abuse contact for '193.51.0.0 - 193.51.255.255' is 'cert@example-isp.fr'

inetnum:        193.51.0.0 - 193.51.255.255
netname:        EXAMPLE-NET
descr:          Example network operations
country:        FR
org:            ORG-EX1-RIPE
admin-c:        EX123-RIPE
tech-c:         EX123-RIPE
abuse-c:        AR41-RIPE
status:         ASSIGNED PA
mnt-by:         EXAMPLE-MNT
created:        2003-04-09T10:48:00Z
last-modified:  2021-03-02T09:11:20Z
source:         RIPE # Filtered

organisation:   ORG-EX1-RIPE
org-name:       Example ISP SAS
org-type:       LIR
address:        1 rue de l'Exemple
address:        75000 Paris
country:        FR
abuse-c:        AR41-RIPE
mnt-ref:        EXAMPLE-MNT
mnt-by:         RIPE-NCC-HM-MNT
source:         RIPE # Filtered

role:           Abuse contact role
address:        1 rue de l'Exemple
abuse-mailbox:  abuse@example-isp.fr
nic-hdl:        AR41-RIPE
mnt-by:         EXAMPLE-MNT
source:         RIPE # Filtered

% Information related to '193.51.0.0/16AS64500'

route:          193.51.0.0/16
origin:         AS64500
mnt-by:         EXAMPLE-MNT
source:         RIPE # Filtered

% This query was served by the RIPE Database Query Service version 1.109 (SHETLAND)
";

    /// APNIC's answer for Korean space: the registry's own IRT, and the marks of KRNIC.
    pub const APNIC_KR: &str = "\
% [whois.apnic.net]
% Whois data copyright terms    http://www.apnic.net/db/dbcopyright.html

% Information related to '175.112.0.0 - 175.127.255.255'

% Abuse contact for '175.112.0.0 - 175.127.255.255' is 'irt@nic.or.kr'

inetnum:        175.112.0.0 - 175.127.255.255
netname:        broadNnet
descr:          SK Broadband Co Ltd
admin-c:        IM670-AP
tech-c:         IM670-AP
country:        KR
status:         ALLOCATED PORTABLE
mnt-by:         MNT-KRNIC-AP
mnt-irt:        IRT-KRNIC-KR
last-modified:  2017-02-03T00:38:20Z
source:         APNIC

irt:            IRT-KRNIC-KR
address:        Jeollanam-do Naju-si Jinheung-gil
e-mail:         irt@nic.or.kr
abuse-mailbox:  irt@nic.or.kr
admin-c:        IM574-AP
tech-c:         IM574-AP
auth:           # Filtered
mnt-by:         MNT-KRNIC-AP
last-modified:  2021-06-15T05:01:20Z
source:         APNIC

% This query was served by the APNIC Whois Service version 1.88.25 (WHOIS-JP3)
";

    /// KRNIC (whois.kisa.or.kr): a Korean part, then the same in English.
    pub const KRNIC: &str = "\
query : 175.112.10.20


# KOREAN(UTF8)

조회하신 IPv4주소는 한국인터넷진흥원으로부터 아래의 관리대행자에게 할당되었으며, 할당 정보는 다음과 같습니다.

[ 네트워크 할당 정보 ]
IPv4주소           : 175.112.0.0 - 175.127.255.255 (/12)
기관명             : 에스케이브로드밴드주식회사
서비스명           : broadNnet
주소               : 서울특별시 중구 퇴계로 24
우편번호           : 04637
할당일자           : 20090623

이름               : IP주소 담당자
전화번호           : +82-2-6266-6000
전자우편           : ip-adm@example-skb.co.kr


# ENGLISH

KRNIC is not an ISP but a National Internet Registry similar to APNIC.

[ Network Information ]
IPv4 Address       : 175.112.0.0 - 175.127.255.255 (/12)
Organization Name  : SK Broadband Co Ltd
Service Name       : broadNnet
Address            : Toegye-ro 24, Jung-gu, Seoul
Zip Code           : 04637
Registration Date  : 20090623

[ Technical Contact Information ]
Name               : IP Manager
Phone              : +82-2-6266-6000
E-Mail             : ip-adm@example-skb.co.kr

[ Network Abuse Contact Information ]
Name               : Abuse Manager
Phone              : +82-2-6266-6000
E-Mail             : abuse@example-skb.co.kr
";

    /// ARIN for a network of its own: the abuse POC, no referral.
    pub const ARIN_OWN: &str = "\
NetRange:       8.8.8.0 - 8.8.8.255
CIDR:           8.8.8.0/24
NetName:        GOGL
NetHandle:      NET-8-8-8-0-2
Parent:         NET8 (NET-8-0-0-0-0)
NetType:        Direct Allocation
Organization:   Google LLC (GOGL)
RegDate:        2014-03-14
Updated:        2014-03-14

OrgName:        Google LLC
OrgId:          GOGL
City:           Mountain View
StateProv:      CA
Country:        US

OrgAbuseHandle: ABUSE5250-ARIN
OrgAbuseName:   Abuse
OrgAbusePhone:  +1-650-253-0000
OrgAbuseEmail:  network-abuse@google.com

OrgTechHandle: ZG39-ARIN
OrgTechEmail:  arin-contact@google.com
";

    /// LACNIC: the abuse-c handle resolves to a person with an `e-mail:`.
    pub const LACNIC: &str = "\
% Joint Whois - whois.lacnic.net
%  This server accepts single ASN, IPv4 or IPv6 queries

% LACNIC resource: whois.lacnic.net


% Copyright LACNIC lacnic.net
%  The use of the data below is only permitted as described in
%  full by the Use Policy of LACNIC

inetnum:     200.160.0.0/20
status:      allocated
aut-num:     N/A
owner:       Example Telecom Ltda
ownerid:     005.506.560/0001-36
responsible: Example Responsible
country:     BR
owner-c:     EXT
tech-c:      EXT
abuse-c:     EXA
inetrev:     200.160.0.0/20
created:     19980706
changed:     20170725

nic-hdl-br:  EXA
person:      Example Abuse Desk
e-mail:      abuse@example-telecom.com.br
created:     20020717
changed:     20200820

nic-hdl-br:  EXT
person:      Example Tech
e-mail:      noc@example-telecom.com.br
created:     20020717
changed:     20200820
";

    #[test]
    fn iana_refers_with_refer() {
        let r = parse_reply(IANA_ARIN);
        let f = r.referral.unwrap();
        assert_eq!((f.target, f.key), ("whois.arin.net", "refer"));
    }

    #[test]
    fn arin_refers_to_ripe_and_its_own_abuse_address_is_never_used() {
        let r = parse_reply(ARIN_TO_RIPE);
        let f = r.referral.unwrap();
        assert_eq!(f.target, "whois://whois.ripe.net");
        assert_eq!(f.key, "ReferralServer");
        assert_eq!(r.abuse, None, "abuse@ripe.net is the registry's");
        // Without the ReferralServer line, NetType says the same.
        let no_server = ARIN_TO_RIPE.replace("ReferralServer:  whois://whois.ripe.net\n", "");
        let f = parse_reply(&no_server).referral.unwrap();
        assert_eq!(
            (f.target, f.value),
            ("whois.ripe.net", "Allocated to RIPE NCC")
        );
        let erx = no_server.replace(
            "Allocated to RIPE NCC",
            "Early Registrations, Transferred to APNIC",
        );
        assert_eq!(
            parse_reply(&erx).referral.unwrap().target,
            "whois.apnic.net"
        );
    }

    #[test]
    fn ripe_abuse_c_role_and_the_network() {
        let r = parse_reply(RIPE);
        assert_eq!(r.referral, None);
        let a = r.abuse.unwrap();
        assert_eq!((a.address, a.how), ("abuse@example-isp.fr", How::AbuseC));
        assert_eq!(r.netname, Some("EXAMPLE-NET"));
        assert_eq!(r.range, Some("193.51.0.0 - 193.51.255.255"));
        assert_eq!(r.country, Some("FR"));
        assert_eq!(r.org, Some("Example ISP SAS"));
        // Without the role object, the registry's comment.
        let no_role = RIPE.replace("abuse-mailbox:  abuse@example-isp.fr\n", "");
        let a = parse_reply(&no_role).abuse.unwrap();
        assert_eq!(
            (a.address, a.how),
            ("cert@example-isp.fr", How::AbuseComment)
        );
    }

    #[test]
    fn apnic_refers_korean_space_to_krnic_and_krnic_names_the_abuse_desk() {
        let r = parse_reply(APNIC_KR);
        let f = r.referral.unwrap();
        assert_eq!(f.target, "whois.kisa.or.kr");
        assert_eq!(r.abuse, None, "irt@nic.or.kr is KRNIC's catch-all");
        let k = parse_reply(KRNIC);
        assert_eq!(k.referral, None);
        let a = k.abuse.unwrap();
        assert_eq!(
            (a.address, a.how),
            ("abuse@example-skb.co.kr", How::NetworkContact)
        );
        assert_eq!(k.netname, Some("broadNnet"));
        assert_eq!(k.org, Some("SK Broadband Co Ltd"));
        assert_eq!(k.range, Some("175.112.0.0 - 175.127.255.255 (/12)"));
        // Without an abuse section, the technical contact.
        let cut = KRNIC.split("[ Network Abuse").next().unwrap();
        assert_eq!(
            parse_reply(cut).abuse.unwrap().address,
            "ip-adm@example-skb.co.kr"
        );
    }

    #[test]
    fn arin_abuse_poc_and_the_most_specific_network() {
        let r = parse_reply(ARIN_OWN);
        assert_eq!(r.referral, None, "Direct Allocation refers nowhere");
        let a = r.abuse.unwrap();
        assert_eq!(
            (a.address, a.how),
            ("network-abuse@google.com", How::ArinAbuse)
        );
        assert_eq!(r.netname, Some("GOGL"));
        assert_eq!(r.country, Some("US"));
        assert_eq!(r.org, Some("Google LLC"));
        // Two networks: the reassignment (last) is the one that counts.
        let two = format!(
            "# start\n\n{ARIN_OWN}\n# end\n\n# start\n\nNetRange:       8.8.8.0 - 8.8.8.127\nNetName:        CUST-NET\nNetType:        Reassigned\n\nCustName:       Example Customer\nCountry:        CA\n\nRAbuseHandle:   CA1-ARIN\nRAbuseEmail:    abuse@customer.example\n\n# end\n"
        );
        let r = parse_reply(&two);
        assert_eq!(r.netname, Some("CUST-NET"));
        assert_eq!(r.abuse.unwrap().address, "abuse@customer.example");
        assert_eq!(r.country, Some("CA"));
        assert_eq!(r.org, Some("Example Customer"));
        // A customer without POCs: the provider's abuse desk answers for it.
        let bare = two.replace(
            "RAbuseHandle:   CA1-ARIN\nRAbuseEmail:    abuse@customer.example\n",
            "",
        );
        let r = parse_reply(&bare);
        assert_eq!(r.netname, Some("CUST-NET"));
        assert_eq!(r.abuse.unwrap().address, "network-abuse@google.com");
    }

    #[test]
    fn lacnic_abuse_c_is_a_person_with_an_email() {
        let r = parse_reply(LACNIC);
        assert_eq!(r.referral, None);
        let a = r.abuse.unwrap();
        assert_eq!(
            (a.address, a.how),
            ("abuse@example-telecom.com.br", How::AbuseC)
        );
        assert_eq!(r.org, Some("Example Telecom Ltda"));
        assert_eq!(r.range, Some("200.160.0.0/20"));
        assert_eq!(r.country, Some("BR"));
    }

    #[test]
    fn placeholders_are_never_used_and_the_domain_is_kept_for_the_fallback() {
        let redacted = "\
inetnum:        198.51.100.0 - 198.51.100.255
netname:        HIDDEN-NET
country:        DE
abuse-c:        HR1-RIPE
source:         RIPE

role:           Hidden role
abuse-mailbox:  DATA REDACTED
e-mail:         noc@hidden-net.example
nic-hdl:        HR1-RIPE
";
        let r = parse_reply(redacted);
        assert_eq!(r.abuse, None);
        assert_eq!(r.domain, Some("hidden-net.example"));
        let arin = "NetRange: 198.51.100.0 - 198.51.100.255\nNetName: X\n\nOrgAbuseEmail: REDACTED\nOrgTechEmail: hostmaster@arin.net\n";
        let r = parse_reply(arin);
        assert_eq!((r.abuse, r.domain), (None, None));
        for v in [
            "REDACTED FOR PRIVACY",
            "NOT DISCLOSED",
            "search-apnic-not-arin@apnic.net",
            "removed@lacnic.net",
            "hostmaster@nic.or.kr",
            "abusepoc@afrinic.net",
            "no address here",
            "[email protected]",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        assert!(!is_placeholder("abuse@example.net"));
        assert!(!is_placeholder("abuse@privacy-host.example"));
        assert!(is_placeholder("abuse@example.net (REDACTED)"));
        assert!(!is_placeholder("abuse@notripe.net"));
        assert_eq!(
            mail_address("<abuse@example.net>, see remarks"),
            Some("abuse@example.net")
        );
    }

    #[test]
    fn jpnic_english_output() {
        let jp = "\
[ JPNIC database provides information regarding IP address and ASN. Its use   ]
[ is restricted to network administration purposes.                          ]

Network Information:
a. [Network Number]             192.41.192.0/24
b. [Network Name]               JPNICNET
g. [Organization]               Japan Network Information Center
m. [Administrative Contact]     HH11825JP
n. [Technical Contact]          MO5920JP
p. [Nameserver]                 ns1.nic.ad.jp
[Assigned Date]                 1994/01/31
";
        let r = parse_reply(jp);
        assert_eq!(r.range, Some("192.41.192.0/24"));
        assert_eq!(r.netname, Some("JPNICNET"));
        assert_eq!(r.org, Some("Japan Network Information Center"));
        assert_eq!(r.country, Some("JP"));
        assert_eq!(r.referral, None);
    }

    #[test]
    fn junk_gives_nothing() {
        for s in [
            "",
            "\n\n",
            ":",
            "[",
            "a. [",
            "%",
            "refer:",
            "\u{0}:\u{0}",
            "é: x",
        ] {
            let r = parse_reply(s);
            assert_eq!(r.abuse, None, "{s:?}");
        }
    }
}
