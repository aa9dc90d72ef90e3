#!/usr/bin/env bash
# Hostile and broken senders against picket (issue 14, item 4), on loopback only, each bounded
# in time, while an honest sender sends numbered lines; picket's memory and the honest
# sender's rate are measured in each phase.
#
#   bench/hostile.sh                              # about 3 minutes
#   PHASE_SECS=10 CONNS=1000 bench/hostile.sh     # shorter
#   PICKET_BIN=/path/to/picket bench/hostile.sh   # another build (else target/release/picket)
#
# A release picket runs with the configuration below (TCP and TLS on 127.0.0.1, a self-signed
# certificate made with openssl), then these phases, one after the other, each PHASE_SECS
# (20) s, the last all of them at once:
#
#   baseline  the honest sender alone
#   idle      CONNS (5000) TCP connections that send nothing
#   loris     LORIS (500) TCP connections that each send one byte a second of a message that
#             never ends (slow loris)
#   tls-idle  TLS_IDLE (500) TLS connections that finish the handshake, then send nothing
#   tls       TLS_GARBAGE (200) clients that send 512 random bytes instead of a ClientHello,
#             TLS_STALL (200) that send half of a real ClientHello (Python's ssl) and stall
#             (the tls clients watch for 2 s + PHASE_SECS)
#   frames    FRAME_ROUNDS (50) rounds over the phase on one connection, each a 4 x
#             max_message line, the same octet-counted, two absurd octet counts (a bad frame
#             costs that frame, not the connection), and five nasty lines: ANSI escapes
#             (clear screen, colours, a window title), C0 controls and DEL, C1 controls in
#             UTF-8 and raw, invalid UTF-8, a NUL
#   query     QFLOOD (1000) query-socket connections at once, QBIG (20) requests of 1 MiB,
#             QLORIS (10) clients that trickle a request a byte a second, QNOREAD (20)
#             clients that ask for every event (or a tail) and never read
#   all       every phase above at once
#
# The honest sender: one TCP connection, numbered LF-framed lines of about 150 bytes, paced
# to HONEST_RATE (20000) messages/s for the whole phase, 320 lines per write. After each phase
# the script counts its lines with `picket query events --text TAG --json` (every number
# 0..sent-1 must be there, once), and reads `picket stats` before and after the phase: the
# table shows how each counter moved. RSS: /proc/PID/status VmRSS every 0.2 s (the peak in
# the phase) and VmHWM at the end. Clients print what they saw (how many the server closed,
# after how long; how many were told busy or too_long).
#
# The memory bound the script checks is derived from the configuration (worst cases, KiB):
#   RSS at start + cache_mb + queue_mb + batch_events x max_message (one write batch)
#   + 4096 x max_message (the live tail's ring) + max_connections x (64 KiB read buffer +
#   max_message partial message + 32 KiB of TLS record buffers) + query max_connections x
#   (16 KiB request + 4 KiB read chunk).
# The incident sensor is on (its default) but has almost nothing to hold here: only lines
# without a source address are sent, so it is no term of the bound (`store.incidents` in the
# final stats says how many candidates it kept).
#
# Then the terminal check: `picket query events --text nasty` on a pty (util-linux script),
# the same piped (JSON lines), and `picket tail` on a pty while nasty lines arrive: none may
# contain a control byte (C0 but LF/CR/TAB, DEL, C1) or invalid UTF-8 from the network.
#
# Environment: PHASE_SECS, CONNS, LORIS, TLS_IDLE, TLS_GARBAGE, TLS_STALL, FRAME_ROUNDS,
# QFLOOD, QBIG, QLORIS, QNOREAD, HONEST_RATE (above; 0: as fast as it can), PHASES (which,
# default "baseline idle loris tls-idle tls frames query all"), PORT (TCP port, TLS is PORT+1;
# 25514), PICKET_BIN, WORK (a new temp dir), KEEP (1: keep the store). Needs python3, openssl, util-linux script
# (.ci/packages); raises `ulimit -n` to 20000 for the clients and for picket.
set -euo pipefail

PHASE_SECS=${PHASE_SECS:-20}
CONNS=${CONNS:-5000}
LORIS=${LORIS:-500}
TLS_IDLE=${TLS_IDLE:-500}
TLS_GARBAGE=${TLS_GARBAGE:-200}
TLS_STALL=${TLS_STALL:-200}
FRAME_ROUNDS=${FRAME_ROUNDS:-50}
QFLOOD=${QFLOOD:-1000}
QBIG=${QBIG:-20}
QLORIS=${QLORIS:-10}
QNOREAD=${QNOREAD:-20}
HONEST_RATE=${HONEST_RATE:-20000}
PHASES=${PHASES:-baseline idle loris tls-idle tls frames query all}
PORT=${PORT:-25514}
KEEP=${KEEP:-0}

# The configuration picket runs with; the memory bound is derived from it.
MAX_MESSAGE=8192
MAX_CONNECTIONS=5600
IDLE_SECS=10
QUEUE_MB=16
CACHE_MB=16
BATCH_EVENTS=5000
Q_MAX_CONNECTIONS=64
Q_MAX_STREAMS=8
Q_IDLE_SECS=10
Q_WRITE_SECS=5
HANDSHAKE_SECS=10 # serve/tls.rs HANDSHAKE_TIMEOUT, not configurable

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d -t picket-hostile.XXXXXX)}
mkdir -p "$WORK"
log() { printf '%s\n' "$*" >&2; }
die() {
    log "hostile.sh: $*"
    exit 1
}
for p in python3 openssl script; do
    command -v "$p" >/dev/null || die "$p is missing (see .ci/packages)"
done
ulimit -n 20000 || die "cannot raise the open-file limit to 20000 (needed for $CONNS connections)"

if [ -z "${PICKET_BIN:-}" ]; then
    log "building picket (release)"
    (cd "$ROOT" && nice cargo build --release -q -p picket --bin picket)
    PICKET_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/picket
fi
# A private copy: a rebuild during the run changes nothing.
cp "$PICKET_BIN" "$WORK/picket"
PICKET=$WORK/picket
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

# ---- the clients (Python 3, standard library only) -------------------------------------------
PY=$WORK/hostile.py
cat >"$PY" <<'EOF'
# Hostile and broken clients for bench/hostile.sh, and the honest sender. Each subcommand runs
# for a bounded time and prints one line of "key=value" results on stdout.
import os, random, select, socket, ssl, sys, time

def kv(**k):
    print(" ".join("%s=%s" % (a, b) for a, b in k.items()), flush=True)

def connect(host, port, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setblocking(False)
    return s

def closed_by_peer(s):
    """True when the peer closed (EOF or reset); reads and drops anything it sent."""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return True
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    except OSError:
        return True

def watch(socks, secs, tick=None):
    """Watches sockets for SECS; returns ({index: seconds until the peer closed it}, {index:
    socket still open}). TICK, if given, is called once a second for each socket still open
    (the trickle)."""
    t0 = time.monotonic()
    closed = {}
    live = dict(enumerate(socks))
    next_tick = t0 + 1.0
    while time.monotonic() - t0 < secs and live:
        p = select.poll()  # poll, not select: there may be more than 1024 descriptors
        by_fd = {}
        for i, s in live.items():
            p.register(s.fileno(), select.POLLIN)
            by_fd[s.fileno()] = i
        for fd, _ in p.poll(200):
            i = by_fd[fd]
            if closed_by_peer(live[i]):
                closed[i] = time.monotonic() - t0
                live.pop(i).close()
        if tick and time.monotonic() >= next_tick:
            next_tick += 1.0
            for i, s in list(live.items()):
                try:
                    tick(i, s)
                except OSError:
                    closed[i] = time.monotonic() - t0
                    live.pop(i).close()
    return closed, live

def summary(closed, n):
    times = sorted(closed.values())
    med = times[len(times) // 2] if times else 0
    mx = times[-1] if times else 0
    return dict(closed_by_server=len(closed), median_close_s="%.1f" % med, max_close_s="%.1f" % mx)

def trickle(socks, payload, secs):
    """watch() the sockets for SECS while each sends the next byte of PAYLOAD once a second
    (slow loris); returns watch()'s (closed, live) and the bytes sent in all."""
    pos = {}
    def tick(i, s):
        p = pos.get(i, 0)
        s.send(payload[p:p + 1])
        pos[i] = p + 1
    closed, live = watch(socks, float(secs), tick)
    return closed, live, sum(pos.values())

def open_many(host, port, n):
    socks, failed = [], 0
    for _ in range(n):
        try:
            socks.append(connect(host, port))
        except OSError:
            failed += 1
    return socks, failed

def cmd_honest(host, port, tag, rate, secs):
    """Numbered lines over one TCP connection, paced to RATE messages/s for SECS seconds (64 KiB
    writes); prints how many were sent and the rate reached."""
    rate, secs = float(rate), float(secs)
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n = 0
    t0 = time.monotonic()
    batch = 320
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        due = int((now - t0) * rate) if rate > 0 else n + batch
        if n >= due:
            time.sleep(min(0.005, batch / rate if rate > 0 else 0))
            continue
        k = min(batch, due - n)
        s.sendall(b"".join(b"<13>Dec  2 12:00:00 honest app[1]: %s seq %09d padding to a usual line length ....................................................\n" % (tag.encode(), n + i) for i in range(k)))
        n += k
    secs_taken = time.monotonic() - t0
    s.close()
    kv(sent=n, secs="%.2f" % secs_taken, rate="%.0f" % (n / secs_taken))

def cmd_idle(host, port, n, secs):
    """N connections that send nothing, held for SECS."""
    t0 = time.monotonic()
    socks, failed = open_many(host, port, int(n))
    opened = time.monotonic() - t0
    closed, live = watch(socks, float(secs) - opened)
    kv(opened=len(socks), connect_failed=failed, open_s="%.1f" % opened, still_open=len(live), **summary(closed, len(socks)))
    for s in live.values():
        s.close()

def cmd_loris(host, port, n, secs):
    """N connections that each send one byte a second of a message that never ends."""
    socks, failed = open_many(host, port, int(n))
    msg = b"<13>Dec  2 12:00:00 loris app: " + b"x" * 100000
    closed, live, sent = trickle(socks, msg, secs)
    kv(opened=len(socks), connect_failed=failed, still_open=len(live), bytes_sent=sent, **summary(closed, len(socks)))
    for s in live.values():
        s.close()

def client_hello():
    """The first flight of a real TLS client (a ClientHello), from Python's ssl module."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def cmd_tls(host, port, n_garbage, n_stall, secs):
    """N_GARBAGE connections that send random bytes instead of a ClientHello, and N_STALL that
    send half a ClientHello and then nothing."""
    rnd = random.Random(14)
    hello = client_hello()
    garbage, gf = open_many(host, port, int(n_garbage))
    for s in garbage:
        try:
            s.send(bytes(rnd.getrandbits(8) for _ in range(512)))
        except OSError:
            pass
    stall, sf = open_many(host, port, int(n_stall))
    for s in stall:
        try:
            s.send(hello[: len(hello) // 2])
        except OSError:
            pass
    cg, lg = watch(garbage, 2.0)
    cs, ls = watch(stall, float(secs))
    g = summary(cg, len(garbage))
    st = summary(cs, len(stall))
    kv(garbage=len(garbage), garbage_closed=g["closed_by_server"], garbage_max_close_s=g["max_close_s"],
       stall=len(stall), stall_closed=st["closed_by_server"], stall_median_close_s=st["median_close_s"],
       stall_max_close_s=st["max_close_s"], connect_failed=gf + sf)
    for s in list(lg.values()) + list(ls.values()):
        s.close()

def cmd_tlsidle(host, port, n, secs):
    """N TLS connections that finish the handshake (Python's ssl, the certificate not checked)
    and then send nothing, held for SECS."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t0 = time.monotonic()
    socks, failed = [], 0
    for _ in range(int(n)):
        try:
            raw = socket.create_connection((host, int(port)), timeout=15)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.setblocking(False)
            socks.append(s)
        except OSError:
            failed += 1
    opened = time.monotonic() - t0
    closed, live = watch(socks, float(secs) - opened)
    kv(opened=len(socks), connect_failed=failed, open_s="%.1f" % opened, still_open=len(live), **summary(closed, len(socks)))
    for s in live.values():
        s.close()

def cmd_frames(host, port, max_message, rounds, secs="0"):
    """Broken and nasty frames, ROUNDS times over SECS on one connection (a bad frame costs
    that frame, not the connection): oversize (LF and octet-counted), two absurd octet counts,
    and the nasty lines. Prints how many of each were sent, so the script can check the
    counters."""
    max_message, rounds = int(max_message), int(rounds)
    sent = dict(oversize=0, bad_count=0, nasty=0)
    big = b"<13>Dec  2 12:00:00 big app: " + b"A" * (4 * max_message)
    s = socket.create_connection((host, port))
    for _ in range(rounds):
        s.sendall(big + b"\n")
        s.sendall(b"%d %s" % (len(big), big))
        sent["oversize"] += 2
        s.sendall(b"99999999999 <13>absurd count\n<13>after absurd\n")
        s.sendall(b"88888888888 <13>absurd again 17 <13>counted after")
        sent["bad_count"] += 2
        s.sendall(nasty_frames("frames"))
        sent["nasty"] += len(NASTY)
        time.sleep(float(secs) / rounds)
    s.close()
    kv(**sent)

def cmd_qflood(path, n, secs):
    """N query-socket connections at once, held for SECS: those over the limit are told busy."""
    socks, failed, busy = [], 0, 0
    for _ in range(int(n)):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            failed += 1
    time.sleep(1.0)
    for s in socks:
        try:
            if b'"busy"' in s.recv(4096):
                busy += 1
        except OSError:
            pass
    closed, live = watch(socks, float(secs) - 1.0)
    kv(opened=len(socks), connect_failed=failed, told_busy=busy, still_open=len(live), **summary(closed, len(socks)))
    for s in live.values():
        s.close()

def cmd_qloris(path, n, secs):
    """N query clients that each send one byte a second of a request that never ends."""
    socks = []
    for _ in range(int(n)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            pass
    req = b'{"op":"stats"' + b" " * 100000
    closed, live, _ = trickle(socks, req, secs)
    kv(opened=len(socks), still_open=len(live), **summary(closed, len(socks)))
    for s in live.values():
        s.close()

def cmd_qbig(path, n):
    """N clients that each send a 1 MiB request line: each must be told too_long."""
    too_long = 0
    for _ in range(int(n)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path)
            s.sendall(b'{"op":"events","text":"' + b"z" * (1 << 20) + b'"}\n')
            got = s.recv(4096)
            too_long += b"too_long" in got
        except OSError:
            pass
        s.close()
    kv(sent=n, told_too_long=too_long)

def cmd_qnoread(path, n, secs):
    """N clients that ask for every event, or a live tail, and never read the reply."""
    socks = []
    for i in range(int(n)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            s.connect(path)
            s.sendall(b'{"op":"events"}\n' if i % 2 == 0 else b'{"op":"tail"}\n')
            socks.append(s)
        except OSError:
            pass
    time.sleep(float(secs))
    # Now drain each: a connection the server gave up on ends (EOF) instead of streaming on.
    dropped = 0
    for s in socks:
        s.settimeout(0.5)
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    dropped += 1
                    break
        except OSError:
            pass
        s.close()
    kv(clients=len(socks), dropped_by_server=dropped)

NASTY = [
    b"ansi \x1b[2J\x1b[31mred\x1b[0m \x1b]0;title\x07 end",
    b"controls \x01\x02\x07\x08\x0b\x0c\x0e\x1f\x7f end",
    "c1 \u009b31m and \u0085 end".encode(),
    b"raw c1 \x9b31m invalid \xff\xfe\xc3\x28 \xed\xa0\x80 end",
    b"nul\x00 after the nul",
]

def nasty_frames(tag):
    out = b""
    for body in NASTY:
        m = b"<13>Dec  2 12:00:00 nasty app: " + tag.encode() + b" " + body
        out += b"%d %s" % (len(m), m)
    return out

def cmd_nasty(host, port, tag, until_file="", secs="0"):
    """The nasty lines (ANSI escapes, C0 and C1 controls, DEL, invalid UTF-8, NUL), octet-counted;
    with UNTIL_FILE, again every 0.2 s until that file exists (for a tail that subscribes late)."""
    t0 = time.monotonic()
    n = 0
    while True:
        s = socket.create_connection((host, port))
        s.sendall(nasty_frames(tag))
        s.close()
        n += 1
        if not until_file or os.path.exists(until_file) or time.monotonic() - t0 > float(secs):
            break
        time.sleep(0.2)
    kv(rounds=n, lines=n * len(NASTY))

def cmd_controls(path):
    """What in a command's output a terminal would act on: invalid UTF-8, C0 controls but LF,
    CR and TAB, DEL, C1 controls."""
    b = open(path, "rb").read()
    try:
        t = b.decode("utf-8")
        bad = sum(1 for c in t if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7f <= ord(c) <= 0x9f)
        kv(bytes=len(b), utf8="yes", controls=bad)
    except UnicodeDecodeError:
        kv(bytes=len(b), utf8="no", controls="-")

def cmd_count(tag, sent):
    """Reads `picket query events --json` lines on stdin: how many of the honest lines 0..SENT-1
    of TAG are there, how many are missing, how many twice."""
    import json
    sent = int(sent)
    seen = {}
    needle = tag + " seq "
    for line in sys.stdin:
        v = json.loads(line)
        o = v.get("event", {}).get("original", "")
        at = o.find(needle)
        if at >= 0:
            n = int(o[at + len(needle):].split()[0])
            seen[n] = seen.get(n, 0) + 1
    missing = sum(1 for i in range(sent) if i not in seen)
    kv(stored=len(seen), missing=missing, twice=sum(1 for c in seen.values() if c > 1))

def cmd_stats(path):
    """The counters of a `picket stats --json` line, flattened (a.b=N); a counter this build
    does not have is absent."""
    import json
    s = json.loads(open(path).readline())["stats"]
    flat = {}
    def walk(p, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(p + "." + k if p else k, x)
        elif isinstance(v, (int, float)):
            flat[p] = v
    walk("", s)
    print(" ".join("%s=%s" % kv_ for kv_ in flat.items()))

def parse_kv(path):
    try:
        line = open(path).read().split("\n")[0]
    except OSError:
        return None
    return dict(x.split("=", 1) for x in line.split())

def cmd_row(name, d, t0, t1, rss_log, max_message):
    """One row of the table for the phase in directory D, and its checks (to D/checks)."""
    t0, t1 = float(t0), float(t1)
    before, after = parse_kv(d + "/before.stats"), parse_kv(d + "/after.stats")
    def delta(k):
        if k not in after:
            return "-"
        return str(int(float(after[k])) - int(float(before.get(k, 0))))
    peak = 0
    for line in open(rss_log):
        t, kb = line.split()
        if t0 <= float(t) <= t1:
            peak = max(peak, int(kb))
    h, c = parse_kv(d + "/honest.out"), parse_kv(d + "/count.out")
    saw, checks = [], []
    def check(ok, what):
        checks.append(("ok  " if ok else "FAIL") + " " + name + ": " + what)
    counters = {k: delta(k) for k in ["idle_closed", "dropped.connection_limit", "dropped.tls_handshake",
                                      "truncated", "dropped.bad_frame", "query.refused", "query.timeouts",
                                      "query.too_long"]}
    check(c is not None and c["missing"] == "0" and c["twice"] == "0" and int(c["stored"]) == int(h["sent"]),
          "honest lines stored %s of %s, missing %s, twice %s" % (c and c["stored"], h["sent"], c and c["missing"], c and c["twice"]))
    num = lambda k: int(counters[k]) if counters[k] != "-" else None
    x = parse_kv(d + "/idle.out")
    if x:
        saw.append("idle: %s open, %s closed by server (median %s s)" % (x["opened"], x["closed_by_server"], x["median_close_s"]))
    y = parse_kv(d + "/loris.out")
    if y:
        saw.append("loris: %s, %s closed by server (median %s s), %s open at the end" % (y["opened"], y["closed_by_server"], y["median_close_s"], y["still_open"]))
        check(y["still_open"] == "0", "every slow loris closed within the phase (%s still open)" % y["still_open"])
    ti = parse_kv(d + "/tlsidle.out")
    if ti:
        saw.append("tls idle: %s of %s handshakes done, %s closed by server (median %s s)" % (
            ti["opened"], int(ti["opened"]) + int(ti["connect_failed"]), ti["closed_by_server"], ti["median_close_s"]))
    closed = sum(int(z["closed_by_server"]) for z in (x, y, ti) if z)
    if x or y or ti:
        ic = num("idle_closed")
        check(ic is not None and ic >= closed - int(num("dropped.connection_limit") or 0),
              "idle_closed %s counts the %d connections the server closed (less those refused)" % (counters["idle_closed"], closed))
    z = parse_kv(d + "/tls.out")
    if z:
        saw.append("tls: garbage %s, closed %s (max %s s); stalled %s, closed %s (median %s s)" % (
            z["garbage"], z["garbage_closed"], z["garbage_max_close_s"], z["stall"], z["stall_closed"], z["stall_median_close_s"]))
        check(num("dropped.tls_handshake") is not None and num("dropped.tls_handshake") + num("dropped.connection_limit") >= int(z["garbage"]) + int(z["stall"]) and z["stall_closed"] == z["stall"],
              "tls_handshake %s (+ connection_limit) counts %s garbage + %s stalled" % (counters["dropped.tls_handshake"], z["garbage"], z["stall"]))
    f = parse_kv(d + "/frames.out")
    if f:
        saw.append("frames: %s oversize, %s absurd counts, %s nasty lines" % (f["oversize"], f["bad_count"], f["nasty"]))
        check(num("truncated") == int(f["oversize"]) and num("dropped.bad_frame") == int(f["bad_count"]),
              "truncated %s = %s oversize, bad_frame %s = %s absurd counts" % (counters["truncated"], f["oversize"], counters["dropped.bad_frame"], f["bad_count"]))
    q = parse_kv(d + "/qflood.out")
    if q:
        saw.append("query flood: %s, %s told busy" % (q["opened"], q["told_busy"]))
        check(num("query.refused") is not None and num("query.refused") >= int(q["told_busy"]),
              "query.refused %s counts the %s told busy" % (counters["query.refused"], q["told_busy"]))
    b = parse_kv(d + "/qbig.out")
    if b:
        saw.append("1 MiB requests: %s of %s told too_long" % (b["told_too_long"], b["sent"]))
        tl = num("query.too_long")
        check(tl is not None and tl == int(b["told_too_long"]),
              "query.too_long %s counts the %s told too_long" % (counters["query.too_long"], b["told_too_long"]))
    ql = parse_kv(d + "/qloris.out")
    if ql:
        saw.append("query slow loris: %s, %s closed by server (median %s s)" % (ql["opened"], ql["closed_by_server"], ql["median_close_s"]))
        check(ql["still_open"] == "0", "every query slow loris closed within the phase (%s still open)" % ql["still_open"])
    r = parse_kv(d + "/qnoread.out")
    if r:
        saw.append("never reading: %s of %s dropped" % (r["dropped_by_server"], r["clients"]))
    cells = [name, h["sent"], h["rate"], "%s (missing %s)" % (c["stored"], c["missing"]) if c else "?",
             "%.1f" % (peak / 1024)] + list(counters.values()) + ["; ".join(saw) or "-"]
    print("| " + " | ".join(cells) + " |")
    with open(d + "/checks", "w") as out:
        out.write("\n".join(checks) + "\n")

if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
EOF

# ---- the server -------------------------------------------------------------------------------
TLS_PORT=$((PORT + 1))
DATA=$WORK/data
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
cat >"$WORK/picket.toml" <<EOF
max_message = $MAX_MESSAGE
[udp]
listen = []
[tcp]
listen = ["127.0.0.1:$PORT"]
max_connections = $MAX_CONNECTIONS
idle_timeout_secs = $IDLE_SECS
[tls]
listen = "127.0.0.1:$TLS_PORT"
cert = "$WORK/cert.pem"
key = "$WORK/key.pem"
[writer]
queue_mb = $QUEUE_MB
batch_events = $BATCH_EVENTS
[store]
cache_mb = $CACHE_MB
[query]
max_connections = $Q_MAX_CONNECTIONS
max_streams = $Q_MAX_STREAMS
idle_timeout_secs = $Q_IDLE_SECS
write_timeout_secs = $Q_WRITE_SECS
EOF
"$PICKET" --config "$WORK/picket.toml" --data "$DATA" serve 2>"$WORK/stderr" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; kill $SAMPLER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "listening on tls" "$WORK/stderr" 2>/dev/null && [ -S "$DATA/picket.sock" ] && break
    kill -0 "$PID" 2>/dev/null || die "picket did not start: $(cat "$WORK/stderr")"
    sleep 0.1
done
sleep 1
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
START_KB=$(status_kb "$PID" VmRSS)
MAX_KB_MSG=$(((MAX_MESSAGE + 1023) / 1024))
BOUND_KB=$((START_KB + CACHE_MB * 1024 + QUEUE_MB * 1024 + BATCH_EVENTS * MAX_KB_MSG +
    4096 * MAX_KB_MSG + MAX_CONNECTIONS * (64 + MAX_KB_MSG + 32) + Q_MAX_CONNECTIONS * (16 + 4)))
# VmRSS every 0.2 s, with the time, for the per-phase peaks.
(
    while kill -0 "$PID" 2>/dev/null; do
        echo "$EPOCHREALTIME $(status_kb "$PID" VmRSS)"
        sleep 0.2
    done
) >"$WORK/rss.log" 2>/dev/null &
SAMPLER=$!

stats_to() { "$PICKET" --data "$DATA" stats --json | head -1 >"$1.json" && python3 "$PY" stats "$1.json" >"$1.stats"; }
H=127.0.0.1

# ---- the phases -------------------------------------------------------------------------------
# attack NAME DIR: starts the hostile clients of one phase in the background (pids in JOBS).
attack() {
    local name=$1 d=$2
    case $name in
    idle) python3 "$PY" idle $H "$PORT" "$CONNS" "$PHASE_SECS" >"$d/idle.out" &
        JOBS+=($!) ;;
    loris) python3 "$PY" loris $H "$PORT" "$LORIS" "$PHASE_SECS" >"$d/loris.out" &
        JOBS+=($!) ;;
    tls-idle) python3 "$PY" tlsidle $H "$TLS_PORT" "$TLS_IDLE" "$PHASE_SECS" >"$d/tlsidle.out" &
        JOBS+=($!) ;;
    tls) python3 "$PY" tls $H "$TLS_PORT" "$TLS_GARBAGE" "$TLS_STALL" "$PHASE_SECS" >"$d/tls.out" &
        JOBS+=($!) ;;
    frames) python3 "$PY" frames $H "$PORT" "$MAX_MESSAGE" "$FRAME_ROUNDS" "$PHASE_SECS" >"$d/frames.out" &
        JOBS+=($!) ;;
    query)
        python3 "$PY" qnoread "$DATA/picket.sock" "$QNOREAD" "$PHASE_SECS" >"$d/qnoread.out" &
        JOBS+=($!)
        python3 "$PY" qbig "$DATA/picket.sock" "$QBIG" >"$d/qbig.out" &
        JOBS+=($!)
        python3 "$PY" qloris "$DATA/picket.sock" "$QLORIS" "$PHASE_SECS" >"$d/qloris.out" &
        JOBS+=($!)
        sleep 1 # the readers, the big requests and the trickles hold their slots before the flood
        python3 "$PY" qflood "$DATA/picket.sock" "$QFLOOD" $((PHASE_SECS - 1)) >"$d/qflood.out" &
        JOBS+=($!)
        ;;
    esac
}

TABLE=$WORK/table.md
{
    echo "| phase | honest sent | honest msg/s | honest stored | peak RSS MB | idle_closed | connection_limit | tls_handshake | truncated | bad_frame | query.refused | query.timeouts | query.too_long | what the hostile clients saw |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
} >"$TABLE"
: >"$WORK/checks"
for name in $PHASES; do
    d=$WORK/phase-$name
    mkdir -p "$d"
    log "-- phase $name (${PHASE_SECS}s)"
    stats_to "$d/before"
    since=$(date -u -d "@$(($(date +%s) - 1))" +%Y-%m-%dT%H:%M:%SZ)
    t0=$EPOCHREALTIME
    python3 "$PY" honest $H "$PORT" "hon-$name" "$HONEST_RATE" "$PHASE_SECS" >"$d/honest.out" &
    JOBS=($!)
    sleep 0.3 # the honest sender holds its connection before a flood takes the rest
    if [ "$name" = all ]; then
        attack frames "$d" # one connection for the whole phase, opened before the floods
        sleep 0.3
        for a in idle loris tls-idle tls query; do attack "$a" "$d"; done
    else
        attack "$name" "$d"
    fi
    wait "${JOBS[@]}"
    sent=$(sed -E 's/.*sent=([0-9]+).*/\1/' "$d/honest.out")
    # Until every honest line is stored (at most 60 s).
    for _ in $(seq 60); do
        "$PICKET" --data "$DATA" query events --since "$since" --text "hon-$name seq" --limit 100000000 --json |
            python3 "$PY" count "hon-$name" "$sent" >"$d/count.out" || true
        grep -q "missing=0 " "$d/count.out" && break
        sleep 1
    done
    stats_to "$d/after"
    t1=$EPOCHREALTIME
    python3 "$PY" row "$name" "$d" "$t0" "$t1" "$WORK/rss.log" "$MAX_MESSAGE" | tee -a "$TABLE" >&2
    cat "$d/checks" >>"$WORK/checks"
done

# ---- what a terminal gets ---------------------------------------------------------------------
log "-- terminal check"
python3 "$PY" nasty $H "$PORT" nasty >/dev/null
sleep 2
script -qec "$PICKET --data $DATA query events --text nasty --limit 100000" /dev/null </dev/null >"$WORK/term-events.out"
"$PICKET" --data "$DATA" query events --text nasty --limit 100000 >"$WORK/json-events.out"
rm -f "$WORK/tail.done"
script -qec "$PICKET --data $DATA tail --text tailcheck --limit 5" /dev/null </dev/null >"$WORK/term-tail.out" &
tail_pid=$!
python3 "$PY" nasty $H "$PORT" tailcheck "$WORK/tail.done" 30 >/dev/null &
nasty_pid=$!
wait "$tail_pid" || true
touch "$WORK/tail.done"
wait "$nasty_pid"
TERM_TABLE=$WORK/terminal.md
{
    echo "| output | bytes | rows with nasty lines | UTF-8 | control bytes |"
    echo "| --- | ---: | ---: | --- | ---: |"
    for f in term-events json-events term-tail; do
        python3 "$PY" controls "$WORK/$f.out" >"$WORK/$f.controls"
        rows=$(grep -c "nasty" "$WORK/$f.out" || true)
        # shellcheck disable=SC2046
        set -- $(sed -E 's/bytes=([^ ]*) utf8=([^ ]*) controls=([^ ]*)/\1 \2 \3/' "$WORK/$f.controls")
        case $f in
        term-events) what='`picket query events --text nasty` on a pty' ;;
        json-events) what='`picket query events --text nasty` piped (JSON lines)' ;;
        term-tail) what='`picket tail --text tailcheck --limit 5` on a pty' ;;
        esac
        echo "| $what | $1 | $rows | $2 | $3 |"
        if [ "$2" = yes ] && [ "$3" = 0 ] && [ "$rows" -gt 0 ]; then
            echo "ok   terminal: $what: no control byte, valid UTF-8" >>"$WORK/checks"
        else
            echo "FAIL terminal: $what: utf8=$2 controls=$3 rows=$rows" >>"$WORK/checks"
        fi
    done
} >"$TERM_TABLE"

# ---- the end ----------------------------------------------------------------------------------
HWM_KB=$(status_kb "$PID" VmHWM)
stats_to "$WORK/final"
kill -TERM "$PID"
wait "$PID" || true
trap - EXIT
kill "$SAMPLER" 2>/dev/null || true
if "$PICKET" --data "$DATA" verify >"$WORK/verify.out" 2>&1; then ok="ok  "; else ok=FAIL; fi
verified=$(head -1 "$WORK/verify.out")
echo "$ok verify after the stop: $verified" >>"$WORK/checks"
if [ "$HWM_KB" -lt "$BOUND_KB" ]; then ok="ok  "; else ok=FAIL; fi
echo "$ok memory: VmHWM $((HWM_KB / 1024)) MB < bound $((BOUND_KB / 1024)) MB" >>"$WORK/checks"

echo
echo "picket $COMMIT ($PICKET_BIN), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load before the stop: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "config: max_message $MAX_MESSAGE, tcp.max_connections $MAX_CONNECTIONS, tcp.idle_timeout_secs $IDLE_SECS, writer.queue_mb $QUEUE_MB, writer.batch_events $BATCH_EVENTS, store.cache_mb $CACHE_MB, query.max_connections $Q_MAX_CONNECTIONS, query.max_streams $Q_MAX_STREAMS, query.idle_timeout_secs $Q_IDLE_SECS, query.write_timeout_secs $Q_WRITE_SECS; TLS handshake timeout ${HANDSHAKE_SECS} s"
if [ "$HONEST_RATE" = 0 ]; then pace="as fast as it can"; else pace="paced to $HONEST_RATE msg/s"; fi
echo "phases of ${PHASE_SECS} s; honest sender $pace; RSS at start $((START_KB / 1024)) MB; bound $((BOUND_KB / 1024)) MB; VmHWM at the end $((HWM_KB / 1024)) MB; incidents kept: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["store"]["incidents"])' "$WORK/final.json")"
echo "verify after the stop: $verified"
sum() { sed -E "s/.*$1=([0-9]+).*/\\1/" "${@:2}" | awk '{s += $1} END {print s}'; }
echo "honest lines sent in all phases: $(sum sent "$WORK"/phase-*/honest.out), stored: $(sum stored "$WORK"/phase-*/count.out), missing: $(sum missing "$WORK"/phase-*/count.out)"
echo
cat "$TABLE"
echo
cat "$TERM_TABLE"
echo
cat "$WORK/checks"
if [ "$KEEP" != 1 ]; then rm -rf "$DATA"; fi
log "(work dir: $WORK)"
! grep -q '^FAIL' "$WORK/checks"
