#!/usr/bin/env bash
# RELP throughput: the same sender, rsyslog's omrelp, against picket --relp and against
# rsyslog's own imrelp (writing a file), in one run.
#
#   bench/relp.sh                        # 200,000 messages per receiver, under a minute
#   N=50000 WINDOW=1024 bench/relp.sh
#
# The sender is an rsyslogd whose only input is imtcp, fed N numbered lines by a small Python
# writer as fast as it goes, and whose only output is omrelp (windowSize $WINDOW) to the
# receiver; it is pinned to CPU $SEND_CPU, the receiver to $RECV_CPU. msgs/s = N / seconds
# from the first byte fed until the receiver holds all N (picket: `stored` in its stats;
# rsyslog: lines in its output file). What each receiver promises differs: picket
# acknowledges a message after its batch is in the sled store and flushed (fsync); imrelp
# acknowledges once the message is in rsyslog's in-memory main queue, before omfile writes
# it (omfile does not fsync). CPU s = the receiver process's user+system time over the run.
#
# Environment: N (200000), WINDOW (omrelp windowSize, 128 = librelp's default), RECEIVERS
# ("picket rsyslog"), RECV_CPU (1), SEND_CPU (0), PICKET_BIN (a built binary instead of
# target/release/picket), WORK (a new temp dir), KEEP (1: keep it).
set -euo pipefail

N=${N:-200000}
WINDOW=${WINDOW:-128}
RECEIVERS=${RECEIVERS:-picket rsyslog}
RECV_CPU=${RECV_CPU:-1}
SEND_CPU=${SEND_CPU:-0}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d -t picket-relp-bench.XXXXXX)}
mkdir -p "$WORK"
if [ -z "${PICKET_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p picket)
    PICKET_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/picket"
fi
cp "$PICKET_BIN" "$WORK/picket-bin"
PICKET="$WORK/picket-bin"
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
CLK_TCK=$(getconf CLK_TCK)

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ "$KEEP" != 1 ]; then rm -rf "$WORK"; else echo "work dir kept: $WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 400); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $1))" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_secs() { awk -v t="$CLK_TCK" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
picket_stored() {
    python3 - "$1" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"op":"stats"}\n')
print(json.loads(s.makefile().readline())["stats"]["stored"])
EOF
}

cat >"$WORK/feed.py" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
for start in range(0, n, 1000):
    s.sendall(b"".join(
        b"<38>Dec  2 04:00:00 gw sshd[%d]: Failed password for root from 198.51.100.%d port %d ssh2 bench-seq=%d\n"
        % (k, k % 250, k % 65536, k) for k in range(start, min(n, start + 1000))))
s.close()
EOF

printf '%-8s %-8s %-7s %-10s %-9s %s\n' receiver messages window seconds msgs/s "CPU s"
for r in $RECEIVERS; do
    dir="$WORK/$r"
    mkdir -p "$dir/work" "$dir/sender"
    port=$(free_port)
    if [ "$r" = picket ]; then
        RUST_LOG=info taskset -c "$RECV_CPU" "$PICKET" --data "$dir/data" serve --no-udp --no-tcp \
            --relp "127.0.0.1:$port" 2>"$dir/picket.log" &
        recv=$!
    else
        cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" net.enableDNS="off")
module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port="$port")
template(name="raw" type="string" string="%msg%\n")
action(type="omfile" file="$dir/out.log" template="raw")
EOF
        taskset -c "$RECV_CPU" "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" \
            >"$dir/rsyslog.out" 2>&1 &
        recv=$!
    fi
    pids+=("$recv")
    wait_port "$port" || { echo "$r did not listen" >&2; exit 1; }
    in_port=$(free_port)
    cat >"$dir/sender/rsyslog.conf" <<EOF
global(workDirectory="$dir/sender" net.enableDNS="off")
module(load="imtcp")
module(load="omrelp")
input(type="imtcp" address="127.0.0.1" port="$in_port" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omrelp" target="127.0.0.1" port="$port" windowSize="$WINDOW"
         queue.type="LinkedList" queue.size="2000000" action.resumeRetryCount="-1")
}
EOF
    taskset -c "$SEND_CPU" "$RSYSLOGD" -n -f "$dir/sender/rsyslog.conf" -i "$dir/sender/pid" \
        >"$dir/sender/out" 2>&1 &
    sender=$!
    pids+=("$sender")
    wait_port "$in_port" || { echo "sender did not listen" >&2; exit 1; }
    cpu0=$(cpu_secs "$recv")
    t0=$(date +%s.%N)
    taskset -c "$SEND_CPU" python3 "$WORK/feed.py" "$in_port" "$N"
    deadline=$(( $(date +%s) + 600 ))
    while :; do
        if [ "$r" = picket ]; then got=$(picket_stored "$dir/data/picket.sock"); else
            got=$(grep -c 'bench-seq=' "$dir/out.log" 2>/dev/null || echo 0); fi
        [ "$got" -ge "$N" ] && break
        [ "$(date +%s)" -lt "$deadline" ] || { echo "$r: only $got of $N after 600 s" >&2; break; }
        sleep 0.05
    done
    t1=$(date +%s.%N)
    cpu1=$(cpu_secs "$recv")
    secs=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")
    printf '%-8s %-8s %-7s %-10s %-9s %s\n' "$r" "$got" "$WINDOW" "$secs" \
        "$(awk "BEGIN{printf \"%d\", $got / ($t1 - $t0)}")" "$(awk "BEGIN{printf \"%.2f\", $cpu1 - $cpu0}")"
    kill -TERM "$sender"; wait "$sender" 2>/dev/null || true
    kill -TERM "$recv"; wait "$recv" 2>/dev/null || true
    if [ "$r" = picket ]; then "$PICKET" --data "$dir/data" verify | sed 's/; chain.*//'; fi
done
