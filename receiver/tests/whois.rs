//! `picket whois` and the query op `contact` against whois servers this test starts on
//! loopback: one tiny TCP server per registry, answering a canned reply in that registry's
//! shape (IANA, ARIN, RIPE, APNIC, KRNIC) and recording the queries it was sent. Nothing
//! here reaches the internet.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Picket, ask};

/// A whois server on loopback: answers every query with its reply and closes (RFC 3912).
struct Registry {
    addr: String,
    queries: Arc<Mutex<Vec<String>>>,
}

impl Registry {
    fn start(reply: &str) -> Registry {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let (q, reply) = (queries.clone(), reply.to_string());
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let mut line = String::new();
                let _ = BufReader::new(&c).read_line(&mut line);
                q.lock().unwrap().push(line);
                let _ = c.write_all(reply.as_bytes());
            }
        });
        Registry { addr, queries }
    }

    fn asked(&self) -> usize {
        self.queries.lock().unwrap().len()
    }
}

/// IANA's reply, referring (as IANA writes it) to `to`.
fn iana(to: &str) -> String {
    format!(
        "% IANA WHOIS server\n% for more information on IANA, visit http://www.iana.org\n% This query returned 1 object\n\nrefer:        {to}\n\ninetnum:      193.0.0.0 - 193.255.255.255\norganisation: RIPE NCC\nstatus:       ALLOCATED\n\nwhois:        {to}\n\nchanged:      1993-05\nsource:       IANA\n"
    )
}

/// ARIN's `n +` reply for space it handed to the RIPE NCC, its ReferralServer at `to`.
fn arin(to: &str) -> String {
    format!(
        "#\n# ARIN WHOIS data and services are subject to the Terms of Use\n#\n\nNetRange:       193.0.0.0 - 193.255.255.255\nCIDR:           193.0.0.0/8\nNetName:        RIPE-CBLK2\nNetType:        Allocated to RIPE NCC\nOrganization:   RIPE Network Coordination Centre (RIPE)\n\nOrgName:        RIPE Network Coordination Centre\nOrgId:          RIPE\nCountry:        NL\n\nReferralServer:  whois://{to}\n\nOrgAbuseHandle: ABUSE3850-ARIN\nOrgAbuseEmail:  abuse@ripe.net\n"
    )
}

/// RIPE's filtered reply: the network, its organisation and its abuse-c role.
const RIPE: &str = "\
% This is the RIPE Database query service.
% The objects are in RPSL format.
%
% Note: this output has been filtered.
%       To receive output for a database update, use the \"-B\" flag.

% Information related to '193.51.0.0 - 193.51.255.255'

% Abuse contact for '193.51.0.0 - 193.51.255.255' is 'abuse@example-isp.fr'

inetnum:        193.51.0.0 - 193.51.255.255
netname:        EXAMPLE-NET
country:        FR
org:            ORG-EX1-RIPE
admin-c:        EX123-RIPE
tech-c:         EX123-RIPE
abuse-c:        AR41-RIPE
status:         ASSIGNED PA
source:         RIPE # Filtered

organisation:   ORG-EX1-RIPE
org-name:       Example ISP SAS
org-type:       LIR
abuse-c:        AR41-RIPE
source:         RIPE # Filtered

role:           Abuse contact role
abuse-mailbox:  abuse@example-isp.fr
nic-hdl:        AR41-RIPE
source:         RIPE # Filtered

% This query was served by the RIPE Database Query Service version 1.109 (SHETLAND)
";

/// `picket [--config CFG] --data DATA ARGS…`.
fn picket(cfg: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--config")
        .arg(cfg)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn config(dir: &Path, whois: &str) -> std::path::PathBuf {
    let p = dir.join("picket.toml");
    std::fs::write(&p, format!("[whois]\n{whois}\n")).unwrap();
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn iana_arin_ripe_chain_through_the_server_then_the_cache() {
    let ripe = Registry::start(RIPE);
    let arin_r = Registry::start(&arin(&ripe.addr));
    let iana_r = Registry::start(&iana(&arin_r.addr));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &format!("root = \"{}\"", iana_r.addr));
    let data = dir.path().join("data");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
    cmd.arg("--config").arg(&cfg);
    let p = Picket::start_with(cmd, &data, &[]);

    let o = picket(&cfg, &data, &["whois", "193.51.7.9"]);
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("abuse:    abuse@example-isp.fr (abuse-c role object)"),
        "{out}"
    );
    assert!(out.contains("network:  EXAMPLE-NET"), "{out}");
    assert!(
        out.contains("range:    193.51.0.0 - 193.51.255.255"),
        "{out}"
    );
    assert!(out.contains("country:  FR"), "{out}");
    assert!(out.contains("org:      Example ISP SAS"), "{out}");
    assert!(out.contains("answer:   looked up "), "{out}");
    // The chain as followed, with the line that made each referral.
    let chain = format!(
        "chain:\n  1. {}  (root)\n  2. {}  (refer: {})\n  3. {}  (ReferralServer: whois://{})\n",
        iana_r.addr, arin_r.addr, arin_r.addr, ripe.addr, ripe.addr
    );
    assert!(out.contains(&chain), "{out}\nwanted\n{chain}");
    assert_eq!(ripe.queries.lock().unwrap()[0], "193.51.7.9\r\n");
    assert_eq!((iana_r.asked(), arin_r.asked(), ripe.asked()), (1, 1, 1));

    // Cached: --no-lookup answers without a query, and so does a lookup within cache_ttl.
    let o = picket(&cfg, &data, &["whois", "193.51.7.9", "--no-lookup"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("abuse:    abuse@example-isp.fr"), "{out}");
    assert!(out.contains("answer:   cached "), "{out}");
    assert!(out.contains(&chain), "{out}");
    let o = picket(&cfg, &data, &["whois", "193.51.7.9", "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["contact"]["abuse"], "abuse@example-isp.fr");
    assert_eq!(v["contact"]["found_by"], "abuse_c");
    assert_eq!(v["contact"]["fallback"], false);
    assert_eq!(v["contact"]["cached"], true);
    assert_eq!(v["contact"]["chain"].as_array().unwrap().len(), 3);
    assert_eq!((iana_r.asked(), arin_r.asked(), ripe.asked()), (1, 1, 1));

    // The op itself: nothing cached for another address, and lookup false asks nobody.
    let r = ask(
        &p.socket(),
        r#"{"op":"contact","ip":"193.51.7.10","lookup":false}"#,
    );
    assert_eq!(r[0]["error"]["code"], "not_found", "{r:?}");
    let r = ask(&p.socket(), r#"{"op":"contact","ip":"193.51.0.0/16"}"#);
    assert_eq!(r[0]["error"]["code"], "bad_filter", "{r:?}");
    assert_eq!(iana_r.asked(), 1);
    let o = picket(&cfg, &data, &["whois", "193.51.7.10", "--no-lookup"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no cached contact"),
        "{o:?}"
    );

    // Serve stopped: the cache is in the store, and --offline reads it.
    let (st, _, log) = p.stop();
    assert!(st.success(), "{log}");
    let o = picket(
        &cfg,
        &data,
        &["whois", "193.51.7.9", "--offline", "--no-lookup"],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("abuse:    abuse@example-isp.fr"), "{out}");
    assert!(out.contains("answer:   cached "), "{out}");
}

#[test]
fn apnic_refers_korean_space_to_krnic() {
    let krnic = Registry::start(
        "query : 175.112.10.20\n\n# ENGLISH\n\nKRNIC is not an ISP but a National Internet Registry similar to APNIC.\n\n[ Network Information ]\nIPv4 Address       : 175.112.0.0 - 175.127.255.255 (/12)\nOrganization Name  : SK Broadband Co Ltd\nService Name       : broadNnet\nAddress            : Toegye-ro 24, Jung-gu, Seoul\n\n[ Technical Contact Information ]\nName               : IP Manager\nPhone              : +82-2-6266-6000\nE-Mail             : ip-adm@example-skb.co.kr\n\n[ Network Abuse Contact Information ]\nName               : Abuse Manager\nPhone              : +82-2-6266-6000\nE-Mail             : abuse@example-skb.co.kr\n",
    );
    let apnic = Registry::start(
        "% [whois.apnic.net]\n% Whois data copyright terms    http://www.apnic.net/db/dbcopyright.html\n\n% Information related to '175.112.0.0 - 175.127.255.255'\n\n% Abuse contact for '175.112.0.0 - 175.127.255.255' is 'irt@nic.or.kr'\n\ninetnum:        175.112.0.0 - 175.127.255.255\nnetname:        broadNnet\ndescr:          SK Broadband Co Ltd\ncountry:        KR\nstatus:         ALLOCATED PORTABLE\nmnt-by:         MNT-KRNIC-AP\nmnt-irt:        IRT-KRNIC-KR\nsource:         APNIC\n\nirt:            IRT-KRNIC-KR\ne-mail:         irt@nic.or.kr\nabuse-mailbox:  irt@nic.or.kr\nsource:         APNIC\n",
    );
    // APNIC names KRNIC by its host name: connect_to sends that name to the loopback server.
    let cfg = picket_whois::WhoisConfig {
        root: apnic.addr.clone(),
        connect_to: vec![("whois.kisa.or.kr".into(), krnic.addr.clone())],
        ..picket_whois::WhoisConfig::default()
    };
    let c = picket_whois::lookup("175.112.10.20".parse().unwrap(), &cfg).unwrap();
    assert_eq!(c.abuse.as_deref(), Some("abuse@example-skb.co.kr"));
    assert_eq!(c.found_by, Some(picket_whois::How::NetworkContact));
    assert_eq!(c.org.as_deref(), Some("SK Broadband Co Ltd"));
    assert_eq!(c.chain[1].server, "whois.kisa.or.kr");
    assert_eq!(c.chain[1].reason, "mnt-irt: IRT-KRNIC-KR");
    assert_eq!(krnic.queries.lock().unwrap()[0], "175.112.10.20\r\n");
}

#[test]
fn loops_hop_caps_placeholders_and_silence_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("none"); // no store: lookups are not cached

    // Two servers referring to each other: refused at the second visit, chain shown.
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let a_addr = a.local_addr().unwrap().to_string();
    let b = Registry::start(&format!("ReferralServer: whois://{a_addr}\n"));
    let to_b = iana(&b.addr);
    std::thread::spawn(move || {
        for c in a.incoming() {
            let mut c = c.unwrap();
            let _ = BufReader::new(&c).read_line(&mut String::new());
            let _ = c.write_all(to_b.as_bytes());
        }
    });
    let cfg = config(dir.path(), &format!("root = \"whois://{a_addr}\""));
    let o = picket(&cfg, &data, &["whois", "192.0.2.1", "--offline"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("referral loop: {a_addr} was already asked")),
        "{err}"
    );
    let out = stdout(&o);
    assert!(
        out.contains(&format!("  2. {}  (refer: {})", b.addr, b.addr)),
        "{out}"
    );

    // Seven servers in a row: more than the default cap of six.
    let mut next = Registry::start(RIPE);
    let mut all = vec![];
    for _ in 0..6 {
        let r = Registry::start(&iana(&next.addr));
        all.push(next);
        next = r;
    }
    let cfg = config(dir.path(), &format!("root = \"{}\"", next.addr));
    let o = picket(&cfg, &data, &["whois", "193.51.7.9", "--offline"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("more than 6 servers"), "{err}");
    assert_eq!(all[0].asked(), 0, "the seventh server is never asked");
    assert!(stdout(&o).contains("  6. "), "{}", stdout(&o));

    // Only placeholders: the RFC 2142 guess, marked, from the network's own mail domain.
    // The reply's text goes to the terminal escaped.
    let hidden = Registry::start(
        "% Information related to '198.51.100.0 - 198.51.100.255'\n\n% Abuse contact for '198.51.100.0 - 198.51.100.255' is 'DATA REDACTED'\n\ninetnum:        198.51.100.0 - 198.51.100.255\nnetname:        HIDDEN\u{1b}[31mNET\ncountry:        DE\nabuse-c:        HR1-RIPE\nnotify:         noc@example-hosting.net\nsource:         RIPE\n\nrole:           Hidden role\nabuse-mailbox:  REDACTED FOR PRIVACY\nnic-hdl:        HR1-RIPE\nsource:         RIPE\n",
    );
    let cfg = config(dir.path(), &format!("root = \"{}\"", hidden.addr));
    let o = picket(&cfg, &data, &["whois", "198.51.100.9", "--offline"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{o:?}");
    assert!(
        out.contains("abuse:    abuse@example-hosting.net (RFC 2142 fallback (no abuse mailbox registered): check before sending)"),
        "{out}"
    );
    assert!(
        out.contains("also:     security@example-hosting.net"),
        "{out}"
    );
    assert!(out.contains("network:  HIDDEN\\x1b[31mNET"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(!out.contains("REDACTED"), "{out}");
    let o = picket(
        &cfg,
        &data,
        &["whois", "198.51.100.9", "--offline", "--json"],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["contact"]["fallback"], true);
    assert_eq!(v["contact"]["found_by"], "rfc2142");

    // A server that takes the connection and never answers: the timeout, then an error.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "root = \"{}\"\ntimeout = \"1s\"",
            silent.local_addr().unwrap()
        ),
    );
    let t = Instant::now();
    let o = picket(&cfg, &data, &["whois", "192.0.2.1", "--offline"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no answer within 1s"),
        "{o:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    drop(silent);
}
