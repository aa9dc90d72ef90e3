//! Abuse notices end to end against a real `picket serve` fed over TCP and an SMTP relay this
//! test runs on loopback (real SMTP: EHLO, STARTTLS with an rcgen certificate, AUTH PLAIN,
//! MAIL, RCPT, DATA), recording what arrives: a dry run sends nothing; `report --due --send`
//! sends one message per due candidate and none for noise, stale or own-network sources;
//! after a kill -9 of serve and a restart, nothing again; a second notice once the source
//! comes back, quoting the first; replies filed and classified; the monthly table; and the
//! X-ARF output valid against the published schema (python3-jsonschema).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, DnType, KeyPair};
use serde_json::Value;
use support::{Picket, wait_stats};

/// A message the relay accepted: envelope recipients and the data.
#[derive(Clone, Debug)]
struct Arrived {
    rcpt: Vec<String>,
    data: String,
}

/// What the relay received; `stall`, when set, makes it take the next message and never
/// answer it (a relay or a link that dies between DATA and the 250).
#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Arrived>>>,
    stall: Arc<std::sync::atomic::AtomicBool>,
}

impl Inbox {
    fn lock(&self) -> std::sync::LockResult<std::sync::MutexGuard<'_, Vec<Arrived>>> {
        self.got.lock()
    }
}

fn line(s: &mut impl Read) -> Option<String> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(1) => {
                out.push(b[0]);
                if b[0] == b'\n' {
                    return Some(String::from_utf8_lossy(&out).trim_end().to_string());
                }
            }
            _ => return None,
        }
    }
}

enum Step {
    StartTls,
    Done,
}

/// One SMTP session phase (before or after STARTTLS).
fn session(s: &mut (impl Read + Write), tls: bool, inbox: &Inbox) -> Step {
    let mut authed = false;
    let mut rcpt = Vec::new();
    while let Some(l) = line(s) {
        let up = l.to_ascii_uppercase();
        let reply: String = if up.starts_with("EHLO") {
            let mut r = "250-relay.test\r\n".to_string();
            if !tls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250-AUTH PLAIN LOGIN\r\n250 8BITMIME");
            r
        } else if up == "STARTTLS" {
            s.write_all(b"220 go ahead\r\n").unwrap();
            return Step::StartTls;
        } else if let Some(token) = l.strip_prefix("AUTH PLAIN ") {
            let want = picket_notice::base64(b"\0picket\0s3cret");
            if tls && token == want {
                authed = true;
                "235 ok".into()
            } else {
                "535 no".into()
            }
        } else if up.starts_with("MAIL FROM:") {
            if authed {
                "250 ok".into()
            } else {
                "530 authenticate first".into()
            }
        } else if let Some(r) = l.strip_prefix("RCPT TO:") {
            rcpt.push(r.trim_matches(['<', '>']).to_string());
            "250 ok".into()
        } else if up == "DATA" {
            s.write_all(b"354 go\r\n").unwrap();
            let mut data = String::new();
            while let Some(d) = line(s) {
                if d == "." {
                    break;
                }
                data.push_str(d.strip_prefix('.').unwrap_or(&d));
                data.push('\n');
            }
            let n = {
                let mut ib = inbox.lock().unwrap();
                ib.push(Arrived {
                    rcpt: std::mem::take(&mut rcpt),
                    data,
                });
                ib.len()
            };
            if inbox.stall.swap(false, std::sync::atomic::Ordering::SeqCst) {
                // Hold the connection open, answer nothing.
                while line(s).is_some() {}
                return Step::Done;
            }
            format!("250 queued as {n}")
        } else if up == "QUIT" {
            let _ = s.write_all(b"221 bye\r\n");
            return Step::Done;
        } else {
            "502 not here".into()
        };
        if s.write_all(format!("{reply}\r\n").as_bytes()).is_err() {
            return Step::Done;
        }
    }
    Step::Done
}

/// The relay: STARTTLS with `cert`/`key`, AUTH PLAIN picket/s3cret required.
fn relay(cert: &Path, key: &Path) -> (u16, Inbox) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Inbox::default();
    let ib = inbox.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut tcp) = conn else { continue };
            let (cfg, ib) = (cfg.clone(), ib.clone());
            std::thread::spawn(move || {
                tcp.write_all(b"220 relay.test ESMTP\r\n").unwrap();
                if let Step::StartTls = session(&mut tcp, false, &ib) {
                    let conn = rustls::ServerConnection::new(cfg).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    session(&mut tls, true, &ib);
                }
            });
        }
    });
    (port, inbox)
}

fn picket(data: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn picket_stdin(data: &Path, config: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A BSD syslog stamp of now minus `ago` seconds, in UTC.
fn stamp(ago: u64) -> String {
    let o = Command::new("date")
        .args(["-u", "-d", &format!("{ago} seconds ago"), "+%b %e %H:%M:%S"])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

fn drop_line(at: &str, src: &str, dport: u16) -> String {
    format!(
        "<4>{at} fw kernel: iptables DROP_INPUT: IN=eth0 OUT= MAC=90:10:35:5a:1e:3a:90:10:9e:ec:2c:71:08:00 SRC={src} DST=198.51.100.20 LEN=52 TOS=0x00 PREC=0x00 TTL=115 ID=15743 DF PROTO=TCP SPT=17805 DPT={dport} WINDOW=8192 RES=0x00 SYN URGP=0"
    )
}

/// Fresh attacks (a port scan, an SSH brute force), a stale scan of 30 days ago, noise, and
/// an own-network scanner.
fn traffic() -> Vec<String> {
    let now = stamp(5);
    let old = stamp(30 * 86_400);
    let mut l = Vec::new();
    l.extend((0..20).map(|i| drop_line(&now, "203.0.113.50", 1000 + i)));
    l.extend((0..8).map(|i| format!(
        "<38>{now} belka sshd[31602]: Failed password for invalid user admin from 194.117.26.69 port {} ssh2",
        50273 + i)));
    l.extend((0..20).map(|i| drop_line(&old, "203.0.113.99", 3000 + i)));
    l.push(drop_line(&now, "198.51.100.201", 80));
    l.push(drop_line(&now, "198.51.100.202", 25));
    l.extend((0..20).map(|i| drop_line(&now, "10.1.2.3", 2000 + i)));
    l
}

fn feed(srv: &Picket, lines: &[String]) {
    let mut c = TcpStream::connect(srv.tcp()).unwrap();
    for l in lines {
        writeln!(c, "{l}").unwrap();
    }
}

fn incident(data: &Path, config: &Path, ip: &str) -> Value {
    let o = picket(data, config, &["incidents", "--json", "--show", ip]);
    assert!(o.status.success(), "{}", err(&o));
    serde_json::from_str::<Value>(out(&o).lines().next().unwrap()).unwrap()["incident"].clone()
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A header field of a message, unfolded (picket-notice's reader).
fn header(msg: &str, name: &str) -> String {
    picket_notice::Part::parse(msg.as_bytes())
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
        .to_string()
}

#[test]
fn due_notices_go_out_once_and_replies_are_filed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The relay's certificate for 127.0.0.1, self-signed: it is its own CA here.
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "relay.test");
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("relay.pem"), dir.path().join("relay.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (port, inbox) = relay(&cert_path, &key_path);
    let config = dir.path().join("picket.toml");
    std::fs::write(
        &config,
        format!(
            "[sensor]\nown_networks = [\"10.0.0.0/8\"]\n\n[report]\nfrom = \"Abuse desk <abuse@example.org>\"\ncc = [\"noc@example.org\"]\nsmtp = \"127.0.0.1:{port}\"\nsmtp_ca = {:?}\nuser = \"picket\"\npassword = \"s3cret\"\nsignature = \"Example abuse desk\"\n",
            cert_path.display().to_string()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let serve_args = ["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"];
    let srv = Picket::start(&data, &serve_args);
    let lines = traffic();
    feed(&srv, &lines);
    wait_stats(&srv.socket(), Duration::from_secs(20), |s| {
        s["stored"] == lines.len()
    });
    wait_until("the candidates", || {
        let o = picket(&data, &config, &["incidents", "--json"]);
        out(&o).matches("\"source\"").count() >= 3
    });

    // A dry run drafts the two due notices and sends nothing.
    let to = ["--to", "abuse@isp.example"];
    let dry = picket(&data, &config, &[&["report", "--due"][..], &to].concat());
    assert!(dry.status.success(), "{}", err(&dry));
    let drafts = out(&dry);
    assert_eq!(drafts.matches("### notice").count(), 2, "{drafts}");
    assert!(drafts.contains("203.0.113.50") && drafts.contains("194.117.26.69"));
    assert!(!drafts.contains("203.0.113.99"), "stale: no notice");
    assert_eq!(incident(&data, &config, "203.0.113.99")["stale"], true);
    assert!(!drafts.contains("198.51.100.201") && !drafts.contains("198.51.100.202"));
    assert!(!drafts.contains("10.1.2.3"), "own network: no notice");
    assert!(err(&dry).contains("dry run"), "{}", err(&dry));
    assert!(inbox.lock().unwrap().is_empty());

    // Sent: one message per due candidate, through STARTTLS and AUTH.
    let sent = picket(
        &data,
        &config,
        &[&["report", "--due", "--send"][..], &to].concat(),
    );
    assert!(sent.status.success(), "{}\n{}", out(&sent), err(&sent));
    let arrived = inbox.lock().unwrap().clone();
    assert_eq!(arrived.len(), 2, "{arrived:#?}");
    for a in &arrived {
        assert_eq!(a.rcpt, ["abuse@isp.example", "noc@example.org"]);
        assert_eq!(header(&a.data, "To"), "abuse@isp.example");
        assert_eq!(header(&a.data, "Cc"), "noc@example.org");
        let subject = header(&a.data, "Subject");
        assert!(subject.contains("[PKT-"), "{subject}");
        assert!(a.data.contains("Example abuse desk"));
        assert!(a.data.contains("All times are UTC"));
        for l in a.data.lines() {
            assert!(l.len() < 998);
        }
    }
    let scan_msg = arrived
        .iter()
        .find(|a| header(&a.data, "Subject").contains("203.0.113.50"))
        .unwrap()
        .clone();
    let brute_msg = arrived
        .iter()
        .find(|a| header(&a.data, "Subject").contains("194.117.26.69"))
        .unwrap()
        .clone();
    let scan = incident(&data, &config, "203.0.113.50");
    assert_eq!(scan["state"], "reported");
    assert_eq!(scan["notices"], 1);
    let h = scan["history"].as_array().unwrap().last().unwrap().clone();
    assert!(
        h["note"].as_str().unwrap().starts_with("notice PKT-"),
        "{h}"
    );
    assert_eq!(scan["reports"][0]["state"], "sent");

    // kill -9, restart: nothing is sent again.
    let (_, _) = srv.kill();
    let srv = Picket::start(&data, &serve_args);
    let again = picket(
        &data,
        &config,
        &[&["report", "--due", "--send"][..], &to].concat(),
    );
    assert!(again.status.success(), "{}", err(&again));
    assert_eq!(inbox.lock().unwrap().len(), 2, "{}", err(&again));

    // The scanner comes back after its notice: a second notice, quoting the first.
    std::thread::sleep(Duration::from_secs(2));
    let back: Vec<String> = (0..20)
        .map(|i| drop_line(&stamp(0), "203.0.113.50", 4000 + i))
        .collect();
    feed(&srv, &back);
    wait_until("the scanner to be repeated", || {
        incident(&data, &config, "203.0.113.50")["state"] == "repeated"
    });
    let second = picket(
        &data,
        &config,
        &[&["report", "--due", "--send"][..], &to].concat(),
    );
    assert!(second.status.success(), "{}", err(&second));
    let arrived = inbox.lock().unwrap().clone();
    assert_eq!(arrived.len(), 3, "{}", err(&second));
    let msg = &arrived[2].data;
    let subject = header(msg, "Subject");
    assert!(subject.starts_with("[second notice]"), "{subject}");
    let first_id = scan["reports"][0]["report_id"].as_str().unwrap();
    assert!(msg.contains(first_id), "{msg}");
    let subject = subject.as_str();
    assert!(!subject.contains(first_id));

    // Replies: a person's (In-Reply-To), an auto-reply (report id in the subject), a bounce.
    let mid = header(&scan_msg.data, "Message-ID");
    let person = format!(
        "From: Bob <bob@isp.example>\nSubject: Re: your report\nIn-Reply-To: {mid}\nMessage-ID: <r1@isp.example>\n\nWe disconnected the customer.\n"
    );
    let o = picket_stdin(&data, &config, &["followup"], &person);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("filed person under"), "{}", out(&o));
    let auto = format!(
        "From: abuse@isp.example\nAuto-Submitted: auto-replied\nSubject: [Ticket#4711] {}\n\nThanks, we got it.\n",
        header(&scan_msg.data, "Subject")
    );
    let o = picket_stdin(&data, &config, &["followup"], &auto);
    assert!(
        out(&o).contains("filed automated"),
        "{}{}",
        out(&o),
        err(&o)
    );
    let brute_mid = header(&brute_msg.data, "Message-ID");
    let dsn = format!(
        "From: MAILER-DAEMON@relay.test\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSorry.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.test\n\nFinal-Recipient: rfc822; abuse@isp.example\nAction: failed\nStatus: 5.1.1\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: {brute_mid}\n--b--\n"
    );
    let o = picket_stdin(&data, &config, &["followup"], &dsn);
    assert!(out(&o).contains("filed bounce"), "{}{}", out(&o), err(&o));
    let o = picket_stdin(&data, &config, &["followup"], &person);
    assert!(out(&o).contains("already filed"), "{}", out(&o));
    let o = picket_stdin(
        &data,
        &config,
        &["followup"],
        "From: x@y\nSubject: hello\n\nhi\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let scan = incident(&data, &config, "203.0.113.50");
    let kinds: Vec<&str> = scan["reports"][0]["followups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["person", "automated"]);

    // The monthly table.
    let o = picket(&data, &config, &["stats", "--reports", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let month: Value = serde_json::from_str(out(&o).lines().next().unwrap()).unwrap();
    assert_eq!(
        (
            &month["sent"],
            &month["repeat"],
            &month["automated"],
            &month["personal"],
            &month["bounces"],
            &month["no_answer"]
        ),
        (
            &Value::from(3),
            &Value::from(1),
            &Value::from(1),
            &Value::from(1),
            &Value::from(1),
            &Value::from(1)
        ),
        "{}",
        out(&o)
    );

    // The logbook has each action on the scanner, and who did it.
    let o = picket(&data, &config, &["logbook", "203.0.113.50", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let entries: Vec<Value> = out(&o)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("entry").is_some())
        .map(|v| v["entry"].clone())
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["draft", "send", "mark", "followup"] {
        assert!(actions.contains(&a), "{a} missing: {actions:?}");
    }
    let sent = entries
        .iter()
        .find(|e| {
            e["detail"]
                .as_str()
                .unwrap()
                .contains("accepted by the relay")
        })
        .unwrap();
    assert!(
        sent["detail"].as_str().unwrap().contains(first_id),
        "{sent}"
    );

    // X-ARF, valid against the published schema.
    for ip in ["203.0.113.50", "194.117.26.69"] {
        let o = picket(
            &data,
            &config,
            &[
                "report",
                ip,
                "--to",
                "abuse@isp.example",
                "--format",
                "xarf",
            ],
        );
        assert!(o.status.success(), "{}", err(&o));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xarf_schema.py");
        let mut v = Command::new("python3")
            .arg("-W")
            .arg("ignore")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        v.stdin.take().unwrap().write_all(&o.stdout).unwrap();
        let r = v.wait_with_output().unwrap();
        assert!(
            r.status.success(),
            "{}: {}",
            String::from_utf8_lossy(&r.stdout),
            out(&o)
        );
    }
    // Serve stopped: the event chain and the logbook verify.
    let (status, _, _) = srv.stop();
    assert!(status.success());
    let v = picket(&data, &config, &["verify"]);
    assert!(v.status.success(), "{}{}", out(&v), err(&v));
}

/// The relay takes a message and dies before its 250; the sender is killed (-9) while it
/// waits. The notice stays unconfirmed: the next run says so and sends nothing, until the
/// operator asks with --resend. Then the same with serve stopped (--offline), and an
/// operator's template.
#[test]
fn an_unconfirmed_notice_is_not_sent_again_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "relay.test");
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("relay.pem"), dir.path().join("relay.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (port, inbox) = relay(&cert_path, &key_path);
    let template = dir.path().join("notice.txt");
    std::fs::write(
        &template,
        "Subject: {{#repeat}}Again: {{/repeat}}Scan from {{source}} ({{report_id}})\n\nDear {{contact}},\n{{what}} from {{source}}, {{first_seen}} to {{last_seen}} ({{zone}}).\n{{evidence}}\n{{signature}}\n",
    )
    .unwrap();
    let config = dir.path().join("picket.toml");
    std::fs::write(
        &config,
        format!(
            "[report]\nfrom = \"abuse@example.org\"\nsmtp = \"127.0.0.1:{port}\"\nsmtp_ca = {:?}\nuser = \"picket\"\npassword = \"s3cret\"\ntemplate = {:?}\ntime_zone = \"+01:00\"\nper_contact_per_hour = 1\n",
            cert_path.display().to_string(),
            template.display().to_string()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let now = stamp(5);
    let lines: Vec<String> = (0..20)
        .map(|i| drop_line(&now, "203.0.113.50", 1000 + i))
        .collect();
    feed(&srv, &lines);
    wait_until("the scan", || {
        let o = picket(&data, &config, &["incidents", "--json"]);
        out(&o).contains("203.0.113.50")
    });
    let args = [
        "report",
        "203.0.113.50",
        "--to",
        "abuse@isp.example",
        "--send",
    ];
    inbox.stall.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut child = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data")
        .arg(&data)
        .arg("--config")
        .arg(&config)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the message at the relay", || {
        inbox.lock().unwrap().len() == 1
    });
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let msg = inbox.lock().unwrap()[0].data.clone();
    assert!(
        header(&msg, "Subject").starts_with("Scan from 203.0.113.50 (PKT-"),
        "{msg}"
    );
    assert!(msg.contains("Dear abuse@isp.example,"), "{msg}");
    assert!(
        msg.contains("(UTC+01:00)") && msg.contains("+0100"),
        "{msg}"
    );
    // The next run: unconfirmed, not sent again.
    let again = picket(&data, &config, &args);
    assert_eq!(again.status.code(), Some(1), "{}", err(&again));
    assert!(err(&again).contains("unconfirmed"), "{}", err(&again));
    let due = picket(
        &data,
        &config,
        &["report", "--due", "--send", "--to", "abuse@isp.example"],
    );
    assert_eq!(due.status.code(), Some(1), "{}", err(&due));
    assert_eq!(inbox.lock().unwrap().len(), 1);
    let inc = incident(&data, &config, "203.0.113.50");
    assert_eq!(inc["state"], "new", "not marked: the relay never confirmed");
    assert_eq!(inc["reports"][0]["state"], "intent");
    // The operator checked the relay's log and asks again.
    let resend = picket(&data, &config, &[&args[..], &["--resend"]].concat());
    assert!(resend.status.success(), "{}", err(&resend));
    assert_eq!(inbox.lock().unwrap().len(), 2);
    let inc = incident(&data, &config, "203.0.113.50");
    assert_eq!(inc["state"], "reported");
    assert_eq!(inc["reports"][0]["state"], "sent");
    // Back again, but the contact had its one notice this hour: it waits.
    std::thread::sleep(Duration::from_secs(2));
    let back: Vec<String> = (0..20)
        .map(|i| drop_line(&stamp(0), "203.0.113.50", 4000 + i))
        .collect();
    feed(&srv, &back);
    wait_until("the scanner to be repeated", || {
        incident(&data, &config, "203.0.113.50")["state"] == "repeated"
    });
    let due = picket(
        &data,
        &config,
        &["report", "--due", "--send", "--to", "abuse@isp.example"],
    );
    assert!(due.status.success(), "{}", err(&due));
    assert!(
        err(&due).contains("per_contact_per_hour = 1"),
        "{}",
        err(&due)
    );
    assert_eq!(inbox.lock().unwrap().len(), 2);
    let (status, _, _) = srv.stop();
    assert!(status.success());

    // Serve stopped: the same commands with --offline.
    let o = picket(
        &data,
        &config,
        &["stats", "--reports", "--offline", "--json"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("\"sent\":1"), "{}", out(&o));
    let o = picket(
        &data,
        &config,
        &[
            "report",
            "203.0.113.50",
            "--offline",
            "--to",
            "abuse@isp.example",
            "--format",
            "text",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).starts_with("Dear abuse@isp.example,"),
        "{}",
        out(&o)
    );
    let o = picket(
        &data,
        &config,
        &["report", "203.0.113.50", "--format", "text"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("picket.sock") || err(&o).contains("server"),
        "{}",
        err(&o)
    );
}

/// A whois server on loopback answering every query with `reply` (RFC 3912), counting queries.
fn registry(reply: String) -> (String, Arc<Mutex<u32>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let asked = Arc::new(Mutex::new(0));
    let n = asked.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut q = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(&c), &mut q);
            *n.lock().unwrap() += 1;
            let _ = c.write_all(reply.as_bytes());
        }
    });
    (addr, asked)
}

/// The contact comes from a whois chain on loopback (IANA -> ARIN -> a RIPE-style server with
/// an abuse-c role): To: is its abuse mailbox and the body names the network; the contact is
/// cached, so a second run (and --no-lookup) asks nobody.
#[test]
fn the_abuse_contact_comes_from_whois() {
    let ripe = "% Abuse contact for '203.0.113.0 - 203.0.113.255' is 'abuse@example-isp.fr'\n\ninetnum:        203.0.113.0 - 203.0.113.255\nnetname:        EXAMPLE-NET\ncountry:        FR\norg:            ORG-EX1-RIPE\nabuse-c:        AR41-RIPE\nsource:         RIPE # Filtered\n\norganisation:   ORG-EX1-RIPE\norg-name:       Example ISP SAS\nabuse-c:        AR41-RIPE\n\nrole:           Abuse contact role\nabuse-mailbox:  abuse@example-isp.fr\nnic-hdl:        AR41-RIPE\nsource:         RIPE # Filtered\n".to_string();
    let (ripe_addr, ripe_asked) = registry(ripe);
    let (arin_addr, _) = registry(format!(
        "NetRange:       203.0.0.0 - 203.255.255.255\nNetName:        RIPE-CBLK\nNetType:        Allocated to RIPE NCC\nOrgName:        RIPE Network Coordination Centre\nReferralServer:  whois://{ripe_addr}\nOrgAbuseEmail:  abuse@ripe.net\n"
    ));
    let (iana_addr, _) = registry(format!(
        "% IANA WHOIS server\n\nrefer:        {arin_addr}\n\ninetnum:      203.0.0.0 - 203.255.255.255\nwhois:        {arin_addr}\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("picket.toml");
    std::fs::write(
        &config,
        format!("[report]\nfrom = \"abuse@example.org\"\n\n[whois]\nroot = \"{iana_addr}\"\n"),
    )
    .unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let srv = Picket::start(
        &data,
        &["--config", &cfg, "--no-udp", "--tcp", "127.0.0.1:0"],
    );
    let now = stamp(5);
    let lines: Vec<String> = (0..20)
        .map(|i| drop_line(&now, "203.0.113.50", 1000 + i))
        .collect();
    feed(&srv, &lines);
    wait_until("the scan", || {
        out(&picket(&data, &config, &["incidents", "--json"])).contains("203.0.113.50")
    });
    // Nothing cached yet: --no-lookup has no contact and says so.
    let o = picket(&data, &config, &["report", "203.0.113.50", "--no-lookup"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(err(&o).contains("no abuse contact"), "{}", err(&o));
    assert_eq!(*ripe_asked.lock().unwrap(), 0);
    let o = picket(&data, &config, &["report", "--due"]);
    assert!(o.status.success(), "{}", err(&o));
    let msg = out(&o);
    assert_eq!(header(&msg, "To"), "abuse@example-isp.fr", "{msg}");
    assert!(
        msg.contains("(EXAMPLE-NET, 203.0.113.0 - 203.0.113.255)"),
        "{msg}"
    );
    assert_eq!(*ripe_asked.lock().unwrap(), 1);
    // Cached: the next drafts ask nobody.
    let o = picket(
        &data,
        &config,
        &["report", "203.0.113.50", "--no-lookup", "--format", "text"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let o = picket(
        &data,
        &config,
        &["report", "203.0.113.50", "--format", "text"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(*ripe_asked.lock().unwrap(), 1);
    drop(srv);
}
