#!/usr/bin/env bash
# Kill -9 loop: rsyslog forwards a numbered stream to picket while picket is SIGKILLed at
# random moments and restarted on the same port, ROUNDS times per mode; after every kill
# `picket verify` must pass. At the end the stream is drained and every stored number counted:
#
#   relp  rsyslog omrelp -> picket --relp. picket acknowledges a message only after its batch
#         is flushed, and omrelp resends what it did not hear acknowledged: nothing may be
#         missing; duplicates (stored, but the ack died with picket) are counted.
#   tcp   rsyslog omfwd (TCP, octet-counted) with a disk-assisted action queue -> picket --tcp.
#         A TCP ack only says the kernel got the bytes: what picket had read but not flushed,
#         and what sat in its socket buffer, dies with it. The missing numbers are counted, and
#         their runs (one per kill, where they went) are listed.
#
#   bench/kill9.sh                         # both modes, 20 rounds each, about 3 minutes
#   ROUNDS=5 MODES=relp bench/kill9.sh
#
# Environment: ROUNDS (20), MODES ("relp tcp"), RATE (messages/s the feeder sends to rsyslog,
# 5000), MIN_UP / MAX_UP (picket runs a random time in [MIN_UP, MAX_UP] ms before each kill,
# 300 / 2500), SEED (random seed, 1), PICKET_BIN (a built binary instead of
# target/release/picket), WORK (a new temp dir), KEEP (1: keep the work dir).
# Everything listens on 127.0.0.1 high ports; each process is stopped by its pid.
# Exits non-zero when a verify failed or, over RELP, a number is missing.
set -euo pipefail

ROUNDS=${ROUNDS:-20}
MODES=${MODES:-relp tcp}
RATE=${RATE:-5000}
MIN_UP=${MIN_UP:-300}
MAX_UP=${MAX_UP:-2500}
SEED=${SEED:-1}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d -t picket-kill9.XXXXXX)}
mkdir -p "$WORK"
RANDOM=$SEED

if [ -z "${PICKET_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p picket)
    PICKET_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/picket"
fi
# A private copy: a rebuild during the run changes nothing.
cp "$PICKET_BIN" "$WORK/picket"
PICKET="$WORK/picket"
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || { echo "rsyslogd missing: apt-get install rsyslog rsyslog-relp" >&2; exit 2; }

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ "$KEEP" != 1 ]; then rm -rf "$WORK"; else echo "work dir kept: $WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# sock.py: the query socket, for stats and for reading every stored number.
cat >"$WORK/sock.py" <<'EOF'
import json, re, socket, sys

def ask(path, req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall((json.dumps(req) + "\n").encode())
    f = s.makefile("rb")
    for line in f:
        v = json.loads(line)
        yield v
        if "end" in v or "error" in v:
            break
    s.close()

def stats(path):
    return next(ask(path, {"op": "stats"}))["stats"]

if sys.argv[1] == "stats":
    s = stats(sys.argv[2])
    r = s["received"]
    print(r["relp"] + r["tcp"], s["stored"], s.get("relp_acked", 0))
elif sys.argv[1] == "count":
    # Every stored number: how many once, twice, missing of 0..sent-1, and the runs missing.
    path, sent = sys.argv[2], int(sys.argv[3])
    seen = {}
    cursor = None
    while True:
        req = {"op": "events", "limit": 50000, "text": "kill9-seq="}
        if cursor:
            req["cursor"] = cursor
        n = 0
        end = None
        for v in ask(path, req):
            if "end" in v or "error" in v:
                end = v
                break
            n += 1
            m = re.search(r"kill9-seq=(\d+)", v["event"]["original"])
            if m:
                k = int(m.group(1))
                seen[k] = seen.get(k, 0) + 1
        if end is None or "error" in end:
            sys.exit(f"query failed: {end}")
        cursor = end.get("cursor")
        if n < 50000 or not cursor:
            break
    missing = [k for k in range(sent) if k not in seen]
    runs = []
    for k in missing:
        if runs and runs[-1][1] == k - 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    dups = sum(c - 1 for c in seen.values())
    extra = sum(1 for k in seen if k >= sent)
    print(f"sent {sent} stored_numbers {len(seen)} duplicates {dups} missing {len(missing)} "
          f"missing_runs {len(runs)} unknown {extra}")
    if runs:
        sizes = sorted(b - a + 1 for a, b in runs)
        print("missing runs (first-last: size): " +
              ", ".join(f"{a}-{b}: {b - a + 1}" for a, b in runs[:40]) +
              (" ..." if len(runs) > 40 else ""))
        print(f"run sizes: min {sizes[0]} median {sizes[len(sizes) // 2]} max {sizes[-1]}")
EOF

# feeder.py: sends numbered lines to rsyslog's imtcp at RATE until the stop file exists,
# then writes how many it sent.
cat >"$WORK/feeder.py" <<'EOF'
import os, socket, sys, time
port, rate, stop, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port))
i, chunk, t0 = 0, max(1, rate // 100), time.monotonic()
while not os.path.exists(stop):
    lines = b"".join(
        b"<38>Dec  2 04:00:00 gw sshd[%d]: Failed password for root from 198.51.100.%d port %d ssh2 kill9-seq=%d\n"
        % (k, k % 250, k % 65536, k) for k in range(i, i + chunk))
    s.sendall(lines)
    i += chunk
    wait = t0 + i / rate - time.monotonic()
    if wait > 0:
        time.sleep(wait)
s.close()
open(out, "w").write(str(i))
EOF

start_picket() { # mode dir port round
    local args=(--no-udp)
    if [ "$1" = relp ]; then args+=(--no-tcp --relp "127.0.0.1:$3"); else args+=(--tcp "127.0.0.1:$3"); fi
    RUST_LOG=info "$PICKET" --data "$2/data" serve "${args[@]}" 2>"$2/picket.$4.log" &
    PICKET_PID=$!
    pids+=("$PICKET_PID")
    for _ in $(seq 300); do
        grep -q "picket is running" "$2/picket.$4.log" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "picket did not start:" >&2
    cat "$2/picket.$4.log" >&2
    exit 1
}

status=0
for mode in $MODES; do
    dir="$WORK/$mode"
    mkdir -p "$dir/work"
    port=$(free_port)
    in_port=$(free_port)
    if [ "$mode" = relp ]; then
        out="module(load=\"omrelp\")
ruleset(name=\"fwd\") {
  action(type=\"omrelp\" name=\"fwd\" target=\"127.0.0.1\" port=\"$port\"
         queue.type=\"LinkedList\" queue.size=\"1000000\" queue.timeoutShutdown=\"20000\"
         action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")
}"
    else
        out="ruleset(name=\"fwd\") {
  action(type=\"omfwd\" name=\"fwd\" target=\"127.0.0.1\" port=\"$port\" protocol=\"tcp\"
         TCP_Framing=\"octet-counted\"
         queue.type=\"LinkedList\" queue.filename=\"fwd\" queue.size=\"1000000\"
         queue.maxDiskSpace=\"1g\" queue.saveOnShutdown=\"on\" queue.timeoutShutdown=\"20000\"
         action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")
}"
    fi
    cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" net.enableDNS="off")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$in_port" ruleset="fwd")
$out
EOF
    start_picket "$mode" "$dir" "$port" 0
    "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/rsyslog.out" 2>&1 &
    rs_pid=$!
    pids+=("$rs_pid")
    for _ in $(seq 200); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $in_port))" 2>/dev/null && break
        sleep 0.05
    done
    rm -f "$dir/stop"
    python3 "$WORK/feeder.py" "$in_port" "$RATE" "$dir/stop" "$dir/sent" &
    feeder=$!
    pids+=("$feeder")
    echo "== $mode: $ROUNDS kills, feeder at $RATE msg/s"
    printf '%-5s %-8s %-10s %-10s %-10s %s\n' round up_ms received stored acked verify
    verify_failed=0
    for round in $(seq 1 "$ROUNDS"); do
        up=$((MIN_UP + RANDOM % (MAX_UP - MIN_UP + 1)))
        sleep "$(awk "BEGIN{print $up/1000}")"
        read -r rcv st ack < <(python3 "$WORK/sock.py" stats "$dir/data/picket.sock" || echo "? ? ?")
        kill -9 "$PICKET_PID"
        wait "$PICKET_PID" 2>/dev/null || true
        if v=$("$PICKET" --data "$dir/data" verify 2>&1); then ok="ok (${v%% in *})"; else
            ok="FAILED: $v"; verify_failed=$((verify_failed + 1)); fi
        printf '%-5s %-8s %-10s %-10s %-10s %s\n' "$round" "$up" "$rcv" "$st" "$ack" "$ok"
        start_picket "$mode" "$dir" "$port" "$round"
    done
    touch "$dir/stop"
    wait "$feeder"
    sent=$(cat "$dir/sent")
    # Drain: rsyslog resends and forwards its queue; done when nothing arrives for 10 s.
    last=-1
    quiet=0
    while [ "$quiet" -lt 20 ]; do
        read -r rcv st ack < <(python3 "$WORK/sock.py" stats "$dir/data/picket.sock")
        if [ "$rcv" = "$last" ] && [ "$st" = "$rcv" ] && [ "$rcv" -gt 0 ]; then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
        last=$rcv
        sleep 0.5
    done
    result=$(python3 "$WORK/sock.py" count "$dir/data/picket.sock" "$sent")
    kill -TERM "$rs_pid"
    wait "$rs_pid" 2>/dev/null || true
    kill -TERM "$PICKET_PID"
    wait "$PICKET_PID" 2>/dev/null || true
    final=$("$PICKET" --data "$dir/data" verify 2>&1) || { final="FAILED: $final"; verify_failed=$((verify_failed + 1)); }
    echo "$result"
    echo "verify failures after kills: $verify_failed; final verify: ${final%%; chain*}"
    missing=$(sed -n 's/.* missing \([0-9]*\) .*/\1/p' <<<"$result" | head -1)
    if [ "$verify_failed" -gt 0 ] || { [ "$mode" = relp ] && [ "${missing:-1}" != 0 ]; }; then
        status=1
    fi
done
exit "$status"
