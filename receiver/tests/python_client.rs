//! A downstream script written only from docs/protocol.md, in Python with the standard library:
//! it asks for stored events, then follows the live stream.
// A test fails by panicking: unwrap, expect and indexing are how it says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{Picket, wait_stored};

const SCRIPT: &str = r#"
import json, socket, sys
path = sys.argv[1]

def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s, s.makefile("rw")

s, f = connect()
f.write(json.dumps({"op": "events", "dataset": "sshd", "order": "newest", "limit": 5}) + "\n"); f.flush()
stored = []
for line in f:
    msg = json.loads(line)
    if msg.get("end"):
        break
    stored.append(msg["source"]["ip"])
print("stored", len(stored), stored[0])

t, g = connect()
g.write(json.dumps({"op": "tail", "action": "login-failed"}) + "\n"); g.flush()
print("ready", flush=True)
for line in g:
    msg = json.loads(line)
    if "lagged" in msg:
        continue
    print("live", msg["source"]["ip"], msg["user"]["name"], flush=True)
    break
"#;

#[test]
fn a_python_script_written_from_the_protocol_doc_works() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Picket::start(&data, &["--no-udp", "--tcp", "127.0.0.1:0"]);
    let mut c = TcpStream::connect(server.tcp()).unwrap();
    for i in 0..10 {
        writeln!(c, "<38>Nov  8 15:26:31 gw sshd[{i}]: Failed password for root from 198.51.100.{i} port 22 ssh2").unwrap();
    }
    wait_stored(&server.socket(), 10);
    let mut py = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(server.socket())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed");
    let mut out = std::io::BufReader::new(py.stdout.take().unwrap());
    let mut line = String::new();
    use std::io::BufRead;
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "stored 5 198.51.100.9");
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    // "ready" means the script sent its tail request, not that the server has taken it: the
    // protocol has no acknowledgement, so the line is sent again until the script reports it
    // (it stops at the first). After 20 s the script is killed, so the test fails, not hangs.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        let pid = py.id();
        std::thread::spawn(move || {
            for _ in 0..100 {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let _ = writeln!(
                    c,
                    "<38>Nov  8 15:26:31 gw sshd[77]: Failed password for admin from 203.0.113.5 port 22 ssh2"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = Command::new("kill").arg(pid.to_string()).status();
        })
    };
    line.clear();
    out.read_line(&mut line).unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = sender.join();
    assert_eq!(line.trim(), "live 203.0.113.5 admin");
    assert!(py.wait().unwrap().success());
    let (st, _, log) = server.stop();
    assert!(st.success(), "{log}");
}
