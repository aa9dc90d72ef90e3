#!/usr/bin/env bash
# Receiver load benchmark: picket against rsyslog and syslog-ng, all driven over loopback by
# syslog-ng's `loggen` (UDP and TCP), in one run; then 5,000 idle TCP connections held open
# against each, to see what a connection costs in memory.
#
#   bench/load.sh                                   # the whole run, about 5 minutes
#   UDP_SECS=5 TCP_SECS=5 RECEIVERS=picket bench/load.sh
#   SEARCH=1 bench/load.sh                          # stepped-rate search, 30-40 minutes
#
# SEARCH=1 runs, instead of the fixed rows, a stepped-rate search for each receiver's lossless
# maximum: for each transport of SEARCH_TRANSPORTS ("udp tcp") and each receiver, steps of
# STEP_SECS (20) s from START_RATE (100000; tcp: TCP_START_RATE, 300000) msg/s, times FACTOR (1.5) while nothing is lost
# (divided by it while something is, down to MIN_RATE), then REFINE (1) bisection step(s)
# between the last lossless and the first lossy rate (geometric mean), MAX_STEPS (12) at most.
# udp: loggen --rate RATE, one socket; lossless = stored equals sent. tcp: bulk.py paced to
# RATE over TCP_CONNS connections; TCP loses nothing, so lossless there means kept up: stored
# equals sent, the sender reached 97% of RATE (a slow receiver holds it back), and the
# receiver had worked off its backlog within 1 s of the end. picket's count in a step is its
# final log line ("stored N"), checked against `picket verify` as in the fixed rows. Each
# step's CPU µs/msg is the receiver's CPU time / stored; the summary gives it at the lossless
# maximum. The load average before and after goes with the tables (the machine may be shared).
#
# Every receiver runs with its own config, pid file and work dir under a new temp dir, listens
# on 127.0.0.1 high ports only, is pinned to CPU $RECV_CPU and is stopped by its pid; the
# sender is pinned to CPU $SEND_CPU. picket parses and stores every message in its sled store
# (a private copy of the binary, so a rebuild during the run changes nothing); rsyslog
# (imudp/imtcp -> omfile, defaults otherwise) and syslog-ng (network() -> file(), flow control)
# write a plain file.
#
# Transports (TRANSPORTS):
#   udp       loggen, one socket, --rate $UDP_RATE for $UDP_SECS s.
#   tcp       loggen, $TCP_CONNS connections, as fast as it can for $TCP_SECS s. loggen does one
#             send() per message and fills its CPU at a few hundred thousand messages/s, so a
#             receiver that keeps up is measured at loggen's speed: a lower bound.
#   tcp-bulk  the same messages (loggen's format, $SIZE bytes, LF-framed) from a small Python
#             sender writing 64 KiB at a time over $TCP_CONNS connections for $TCP_SECS s: the
#             sender is then no longer the limit and the receiver's own ceiling shows.
#
# Columns: sent = the sender's own count; stored = picket's final log line ("stored N",
# checked against `picket verify`), or the lines in the output file that carry "seq: " (every
# sent message does, the daemons' own lines do not); lost = sent - stored; msgs/s = stored /
# seconds from the start of the send until the receiver first paused (0.4 s without CPU time)
# after the sender stopped: it had worked off its backlog, so a receiver that lags behind is
# not flattered, while picket's last partial batch, which waits for the 1 s flush interval,
# is not held against it; CPU µs/msg = the receiver process's user+system CPU from the start
# until it had been idle for 2 s (everything stored) / stored; peak MB = VmHWM just before
# the stop.
# A second table gives the conditions of each row: the sender's own rate, how busy each CPU
# was (/proc/stat; the receiver's CPU also does kernel work that is not charged to it), how
# often the receiver's threads went to sleep (voluntary context switches per second: each one
# is a wake-up that a loopback sender pays for in its own send() on this VM), UDP
# datagrams the kernel dropped for want of socket buffer (RcvbufErrors of /proc/net/snmp),
# picket's queue-full drops, and the CPU that other processes on the machine used meanwhile
# (above a few % the row is disturbed: run again). All three receivers get an 8 MiB UDP
# receive buffer (4 MiB asked, doubled by the kernel; net.core.rmem_max is 4 MiB here).
#
# Environment: UDP_RATE (100000), UDP_SECS (20), TCP_SECS (20), TCP_CONNS (4), TCP_RATE (per
# loggen connection, 1000000: more than it reaches), SIZE (message bytes with the LF, 200),
# CONNS (idle connections, 5000), RECV_CPU (1), SEND_CPU (0), RECEIVERS ("picket rsyslog
# syslog-ng"), TRANSPORTS ("tcp tcp-bulk udp"), CONN_RECEIVERS (receivers of the connection
# test, default RECEIVERS), PORT (first port minus one, 15514), CACHE (where syslog-ng-core is
# unpacked, /tmp/picket-load-cache), WORK (a new temp dir), KEEP (1: keep stores and output
# files), PICKET_BIN (a built binary instead of building target/release/picket), BUSY_PATTERN
# and BUSY_WAIT (before each row, wait up to BUSY_WAIT s, default 1200, while
# `pgrep -f BUSY_PATTERN` finds another benchmark).
#
# Installs rsyslog from Debian when missing, and unpacks syslog-ng-core (which conflicts with
# rsyslog as a package, and ships loggen) with `apt-get download` + `dpkg -x` into $CACHE,
# installing only the libraries it needs; syslog-ng-core itself is never installed.
set -euo pipefail

UDP_RATE=${UDP_RATE:-100000}
UDP_SECS=${UDP_SECS:-20}
TCP_SECS=${TCP_SECS:-20}
TCP_CONNS=${TCP_CONNS:-4}
TCP_RATE=${TCP_RATE:-1000000}
SIZE=${SIZE:-200}
CONNS=${CONNS:-5000}
RECV_CPU=${RECV_CPU:-1}
SEND_CPU=${SEND_CPU:-0}
RECEIVERS=${RECEIVERS:-picket rsyslog syslog-ng}
TRANSPORTS=${TRANSPORTS:-tcp tcp-bulk udp}
CONN_RECEIVERS=${CONN_RECEIVERS:-$RECEIVERS}
PORT=${PORT:-15514}
CACHE=${CACHE:-/tmp/picket-load-cache}
KEEP=${KEEP:-0}
BUSY_PATTERN=${BUSY_PATTERN:-lognormalizer|--bench|criterion}
BUSY_WAIT=${BUSY_WAIT:-1200}
SEARCH=${SEARCH:-0}
SEARCH_TRANSPORTS=${SEARCH_TRANSPORTS:-udp tcp}
STEP_SECS=${STEP_SECS:-20}
START_RATE=${START_RATE:-100000}
TCP_START_RATE=${TCP_START_RATE:-300000}
FACTOR=${FACTOR:-1.5}
REFINE=${REFINE:-1}
MAX_STEPS=${MAX_STEPS:-12}
MIN_RATE=${MIN_RATE:-10000}
MAX_RATE=${MAX_RATE:-4000000}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d -t picket-load.XXXXXX)}
mkdir -p "$WORK"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
CLK_TCK=$(getconf CLK_TCK)
QUIET_SECS=2 # the receiver is stopped once its CPU time has not grown for this long
GAP_SECS=0.4 # a pause this long after the sender stopped: it had worked off its backlog

log() { printf '%s\n' "$*" >&2; }
die() {
    log "load.sh: $*"
    exit 1
}

apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
        $SUDO apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    }
}

# ---- tools ------------------------------------------------------------------------------------
command -v taskset >/dev/null || apt_install util-linux
command -v ss >/dev/null || apt_install iproute2
command -v python3 >/dev/null || apt_install python3
[ -x /usr/sbin/rsyslogd ] || {
    log "installing rsyslog"
    apt_install rsyslog
}
SNG=$CACHE/root
SNG_LIB=$SNG/usr/lib/syslog-ng
if LD_LIBRARY_PATH=$SNG_LIB ldd "$SNG/usr/sbin/syslog-ng" "$SNG/usr/bin/loggen" 2>/dev/null | grep -q 'not found' ||
    [ ! -x "$SNG/usr/bin/loggen" ]; then
    # The libraries syslog-ng-core needs that a plain Debian 12 lacks (none conflicts).
    log "installing syslog-ng's libraries: libivykis0 libnet1 libpcre3"
    apt_install libivykis0 libnet1 libpcre3
fi
log "unpacking syslog-ng-core into $CACHE if needed (not installing it)"
"$ROOT/.ci/syslog-ng" "$CACHE" >/dev/null || die ".ci/syslog-ng failed"

log "== building picket (release)"
if [ -n "${PICKET_BIN:-}" ]; then
    PICKET_LABEL="binary $PICKET_BIN"
    cp "$PICKET_BIN" "$WORK/picket"
else
    (cd "$ROOT" && cargo build --release -q -p picket)
    PICKET_LABEL="commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    if ! git -C "$ROOT" diff --quiet HEAD -- receiver parsers store Cargo.lock 2>/dev/null; then
        PICKET_LABEL="$PICKET_LABEL + uncommitted changes in $(git -C "$ROOT" diff --name-only HEAD -- receiver parsers store Cargo.lock | tr '\n' ' ')"
    fi
    cp "${CARGO_TARGET_DIR:-$ROOT/target}/release/picket" "$WORK/picket"
fi
PICKET=$WORK/picket

ulimit -n 20000 || die "cannot raise the open-file limit to 20000 (needed for $CONNS connections)"

# ---- measuring helpers ------------------------------------------------------------------------
cpu_ticks() { # user+system clock ticks of a process (all its threads)
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
status_kb() { # a VmXXX field of /proc/PID/status, in KiB
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}
cpu_stat() { # "busy iowait total" ticks of one CPU, from /proc/stat
    awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9, $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}
cpu_busy() { # BEFORE AFTER SECONDS [io]: "busy%" (and iowait) of a CPU between two cpu_stat samples
    awk -v a="$1" -v b="$2" -v secs="$3" -v hz="$CLK_TCK" -v io="${4:-}" 'BEGIN {
        split(a, x, " "); split(b, y, " "); t = secs * hz; if (t <= 0) t = 1
        printf "%.0f%%", 100 * (y[1] - x[1]) / t
        if (io != "") printf " (iowait %.0f%%)", 100 * (y[2] - x[2]) / t
    }'
}
# CPU ticks (user+system, own and reaped children) of every user-space process except this
# script and its children (the receiver and the sender): what others did meanwhile.
others_ticks() {
    local f
    for f in /proc/[0-9]*/stat; do
        sed 's/^\([0-9]*\) (.*) /\1 /' "$f" 2>/dev/null || true
    done | awk -v self="$$" '$1 != self && $3 != self && $3 != 2 && $1 != 2 {s += $13 + $14 + $15 + $16} END {print s + 0}'
}
sleeps() { # voluntary context switches of all threads of a process: how often it waited
    cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "voluntary_ctxt_switches:" {s += $2} END {print s + 0}'
}
udp_rcvbuf_errors() {
    awk '$1 == "Udp:" && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp
}
wait_listening() { # PID PROTO PORT: until the port is bound, or fail if the process died
    local pid=$1 proto=$2 port=$3
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [ -n "$(ss -Hln"${proto:0:1}" "sport = :$port" 2>/dev/null)" ]; then return 0; fi
        sleep 0.1
    done
    return 1
}
# Waits until the process has used no CPU for QUIET_SECS (at most 300 s), then prints the time
# (EPOCHREALTIME) at which it first went idle: its last CPU use before the first pause of
# GAP_SECS. A receiver that still has a backlog does not pause; picket's last partial batch
# does wait for its flush interval (1 s) and is stored after such a pause: that is latency,
# not throughput, and is not counted in the time.
wait_idle() {
    local pid=$1 last last_busy now t first=
    last=$(cpu_ticks "$pid")
    last_busy=$EPOCHREALTIME
    for _ in $(seq 1500); do
        sleep 0.2
        now=$EPOCHREALTIME
        t=$(cpu_ticks "$pid")
        if [ "$t" -gt "$last" ]; then
            last=$t
            last_busy=$now
        elif awk -v a="$now" -v b="$last_busy" -v q="$QUIET_SECS" 'BEGIN {exit !(a - b >= q)}'; then
            break
        elif [ -z "$first" ] && awk -v a="$now" -v b="$last_busy" -v q="$GAP_SECS" 'BEGIN {exit !(a - b >= q)}'; then
            first=$last_busy
        fi
    done
    echo "${first:-$last_busy}"
}
stop_pid() { # SIGTERM, then wait for the exit (SIGKILL after 120 s)
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for 120 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
busy_cpus_pct() { # how busy all CPUs together are over one second, in % of one CPU
    local a b
    a=$(awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    sleep 1
    b=$(awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    echo $(((b - a) * 100 / CLK_TCK))
}
# Before each row: wait while another benchmark runs (BUSY_PATTERN) or the machine is busier
# than 10% of one CPU with nothing of ours running, for BUSY_WAIT s at most.
wait_for_quiet_machine() {
    local waited=0 why
    while :; do
        why=
        if pgrep -f "$BUSY_PATTERN" >/dev/null; then
            why="another benchmark is running (pgrep -f '$BUSY_PATTERN')"
        elif [ "$(busy_cpus_pct)" -gt 10 ]; then
            why="the machine is busy ($(busy_cpus_pct)% of a CPU)"
        fi
        [ -z "$why" ] && return
        if [ "$waited" -ge "$BUSY_WAIT" ]; then
            log "$why after ${BUSY_WAIT}s: measuring anyway"
            return
        fi
        log "$why: waiting"
        sleep 30
        waited=$((waited + 30))
    done
}

# ---- receivers --------------------------------------------------------------------------------
# start_receiver NAME PROTO PORT DIR MAXCONN: starts it pinned to RECV_CPU and sets RPID.
# Output goes to DIR (picket: DIR/data; the others: DIR/out.log); stderr to DIR/stderr.
start_receiver() {
    local name=$1 proto=$2 port=$3 dir=$4 maxconn=$5
    mkdir -p "$dir"
    case $name in
    picket)
        local off=--no-udp
        [ "$proto" = udp ] && off=--no-tcp
        # The same 4 MiB receive buffer as the others get (as root, picket would go past
        # rmem_max to its default 32 MiB: SO_RCVBUFFORCE).
        printf '[udp]\nreceive_buffer = 4194304\n' >"$dir/picket.toml"
        taskset -c "$RECV_CPU" "$PICKET" --config "$dir/picket.toml" --data "$dir/data" serve \
            "--$proto" "127.0.0.1:$port" "$off" --max-connections "$maxconn" \
            2>"$dir/stderr" &
        RPID=$!
        ;;
    rsyslog)
        local input
        if [ "$proto" = udp ]; then
            input="module(load=\"imudp\")
input(type=\"imudp\" address=\"127.0.0.1\" port=\"$port\" rcvBufSize=\"4m\")"
        else
            input="module(load=\"imtcp\" maxSessions=\"$maxconn\")
input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$port\")"
        fi
        cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir")
$input
*.* action(type="omfile" file="$dir/out.log")
EOF
        taskset -c "$RECV_CPU" /usr/sbin/rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" \
            2>"$dir/stderr" &
        RPID=$!
        ;;
    syslog-ng)
        local src
        if [ "$proto" = udp ]; then
            src="network(ip(\"127.0.0.1\") port($port) transport(\"udp\") so-rcvbuf(4194304) log-iw-size(100000))"
        else
            src="network(ip(\"127.0.0.1\") port($port) transport(\"tcp\") max-connections($maxconn) log-iw-size(100000))"
        fi
        cat >"$dir/syslog-ng.conf" <<EOF
@version: 3.38
options { stats-freq(0); log-fifo-size(100000); };
source s_in { $src; };
destination d_out { file("$dir/out.log"); };
log { source(s_in); destination(d_out); flags(flow-control); };
EOF
        LD_LIBRARY_PATH=$SNG_LIB taskset -c "$RECV_CPU" "$SNG/usr/sbin/syslog-ng" -F --no-caps \
            -f "$dir/syslog-ng.conf" -p "$dir/syslog-ng.pid" -R "$dir/syslog-ng.persist" \
            -c "$dir/syslog-ng.ctl" --module-path="$SNG_LIB/3.38" 2>"$dir/stderr" &
        RPID=$!
        ;;
    *) die "unknown receiver $name" ;;
    esac
    wait_listening "$RPID" "$proto" "$port" || {
        cat "$dir/stderr" >&2
        die "$name did not start listening on $proto $port"
    }
}

# count_stored NAME DIR: after the stop; sets STORED and QDROPS (picket's queue-full drops).
count_stored() {
    local name=$1 dir=$2 line verified
    QDROPS=-
    if [ "$name" = picket ]; then
        line=$(grep 'stopped; received' "$dir/stderr" | tail -1) ||
            die "picket left no final line in $dir/stderr"
        STORED=$(sed -E 's/.*, stored ([0-9]+),.*/\1/' <<<"$line")
        QDROPS=$(sed -E 's/.*dropped \(queue full\) ([0-9]+).*/\1/' <<<"$line")
        verified=$("$PICKET" --data "$dir/data" verify 2>&1 | sed -nE 's/^all ([0-9]+) events.*/\1/p')
        [ "$verified" = "$STORED" ] ||
            die "picket says it stored $STORED but verify finds ${verified:-nothing} in $dir/data"
    else
        STORED=$(grep -c -F 'seq: ' "$dir/out.log" || true)
    fi
}

# ---- senders ----------------------------------------------------------------------------------
cat >"$WORK/bulk.py" <<'EOF'
# TCP sender without a per-message syscall: loggen's message format, SIZE bytes with the LF,
# 320 messages (64,000 bytes) per sendall, CONNS connections (threads), for SECS seconds.
# An optional sixth argument paces it: at most RATE messages/s over all connections.
import socket, sys, threading, time
host, port, conns, secs, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rate = float(sys.argv[6]) / conns if len(sys.argv) > 6 else 0.0
stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
runid = int(time.time())
PER, CHUNKS = 320, 64

def chunk(thread, first):
    out = []
    for seq in range(first, first + PER):
        head = "<38>%s localhost prg%05d[1234]: seq: %010d, thread: %04d, runid: %d, stamp: %s " % (
            stamp, thread, seq, thread, runid, stamp)
        pad = max(size - 1 - len(head), 0)
        out.append(head + ("PADD" * (pad // 4 + 1))[:pad] + "\n")
    return "".join(out).encode()

counts = [0] * conns
start = threading.Barrier(conns + 1)

def run(i):
    chunks = [chunk(i, k * PER) for k in range(CHUNKS)]
    s = socket.create_connection((host, port))
    start.wait()
    deadline = time.monotonic() + secs
    n = k = 0
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        s.sendall(chunks[k])
        n += PER
        k = (k + 1) % CHUNKS
        if rate > 0:
            ahead = t0 + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    counts[i] = n
    s.close()

threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
for t in threads:
    t.start()
start.wait()
t0 = time.monotonic()
for t in threads:
    t.join()
secs = time.monotonic() - t0
print("average rate = %.2f msg/sec, count=%d, time=%.3f" % (sum(counts) / secs, sum(counts), secs))
EOF

cat >"$WORK/conns.py" <<'EOF'
# Opens N TCP connections, sends one message on each, keeps them open until CLOSE exists.
import os, socket, sys, time
host, port, n, ready, close = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks = []
for i in range(n):
    s = socket.create_connection((host, port))
    s.sendall(b"<13>Nov 23 12:00:00 loadhost conntest[%d]: seq: %d idle connection\n" % (os.getpid(), i))
    socks.append(s)
open(ready, "w").close()
while not os.path.exists(close):
    time.sleep(0.1)
for s in socks:
    s.close()
EOF

# send TRANSPORT PORT OUT: drives the receiver; the last line of OUT has "count=N".
send() {
    local transport=$1 port=$2 out=$3
    case $transport in
    udp)
        LD_LIBRARY_PATH=$SNG_LIB SYSLOGNG_PREFIX=$SNG/usr taskset -c "$SEND_CPU" "$SNG/usr/bin/loggen" \
            --inet --dgram --rate "$UDP_RATE" --interval "$UDP_SECS" --size "$SIZE" 127.0.0.1 "$port" >"$out" 2>&1
        ;;
    tcp)
        LD_LIBRARY_PATH=$SNG_LIB SYSLOGNG_PREFIX=$SNG/usr taskset -c "$SEND_CPU" "$SNG/usr/bin/loggen" \
            --inet --stream --rate "$TCP_RATE" --interval "$TCP_SECS" --active-connections "$TCP_CONNS" \
            --size "$SIZE" 127.0.0.1 "$port" >"$out" 2>&1
        ;;
    tcp-bulk)
        taskset -c "$SEND_CPU" python3 "$WORK/bulk.py" 127.0.0.1 "$port" "$TCP_CONNS" "$TCP_SECS" "$SIZE" >"$out" 2>&1
        ;;
    *) die "unknown transport $transport" ;;
    esac
}

# ---- stepped-rate search (SEARCH=1) -----------------------------------------------------------
# step NAME PROTO RATE: one STEP_SECS step at RATE msg/s (udp: loggen --rate, one socket; tcp:
# bulk.py paced to RATE over TCP_CONNS connections). Sets STEP to "sent stored cpu_us
# sender_rate kernel_drops queue_drops recv_busy others_pct backlog_s".
step() {
    local name=$1 proto=$2 rate=$3 dir out
    wait_for_quiet_machine
    port=$((port + 1))
    dir=$WORK/search-$name-$proto-$rate
    rm -rf "$dir"
    start_receiver "$name" "$proto" "$port" "$dir" 1000
    sleep 1
    local drops0 others0 cpu0 rc0 t0 t_sent t_done cpu1 rc1 drops1 others1 sent
    drops0=$(udp_rcvbuf_errors)
    others0=$(others_ticks)
    cpu0=$(cpu_ticks "$RPID")
    rc0=$(cpu_stat "$RECV_CPU")
    t0=$EPOCHREALTIME
    if [ "$proto" = udp ]; then
        LD_LIBRARY_PATH=$SNG_LIB SYSLOGNG_PREFIX=$SNG/usr taskset -c "$SEND_CPU" "$SNG/usr/bin/loggen" \
            --inet --dgram --rate "$rate" --interval "$STEP_SECS" --size "$SIZE" 127.0.0.1 "$port" >"$dir/sender.out" 2>&1 || true
    else
        taskset -c "$SEND_CPU" python3 "$WORK/bulk.py" 127.0.0.1 "$port" "$TCP_CONNS" "$STEP_SECS" "$SIZE" "$rate" \
            >"$dir/sender.out" 2>&1 || true
    fi
    t_sent=$EPOCHREALTIME
    t_done=$(wait_idle "$RPID")
    rc1=$(cpu_stat "$RECV_CPU")
    cpu1=$(cpu_ticks "$RPID")
    drops1=$(udp_rcvbuf_errors)
    others1=$(others_ticks)
    stop_pid "$RPID"
    sent=$(sed -nE 's/^average rate = .*count=([0-9]+),.*/\1/p' "$dir/sender.out" | tail -1)
    [ -n "$sent" ] || {
        cat "$dir/sender.out" >&2
        die "the sender printed no count for $name $proto at $rate/s"
    }
    count_stored "$name" "$dir"
    [ "$KEEP" = 1 ] || rm -rf "$dir/data" "$dir/out.log"
    STEP=$(awk -v sent="$sent" -v st="$STORED" -v c0="$cpu0" -v c1="$cpu1" -v hz="$CLK_TCK" -v t0="$t0" -v ts="$t_sent" \
        -v t1="$t_done" -v kd="$((drops1 - drops0))" -v qd="$QDROPS" -v o0="$others0" -v o1="$others1" \
        -v rb="$(cpu_busy "$rc0" "$rc1" "$(awk -v a="$t_done" -v b="$t0" 'BEGIN {print a - b}')")" 'BEGIN {
            printf "%d %d %.2f %.0f %d %s %s %.0f %.1f\n", sent, st, (st > 0 ? (c1 - c0) / hz * 1e6 / st : 0),
                sent / (ts - t0), kd, qd, rb, 100 * (o1 - o0) / hz / (t1 - t0), t1 - ts
        }')
}

# passes PROTO RATE SENT STORED SENDER_RATE BACKLOG: zero loss, and (tcp, where nothing is lost
# but a slow receiver holds the sender back) the sender reached 97% of the rate and the
# receiver had worked off its backlog within 1 s of the end.
passes() {
    awk -v p="$1" -v r="$2" -v sent="$3" -v st="$4" -v sr="$5" -v bl="$6" 'BEGIN {
        ok = sent > 0 && sent == st
        if (p == "tcp") ok = ok && sr >= 0.97 * r && bl <= 1.0
        exit !ok
    }'
}

run_search() {
    port=$PORT
    local STABLE=$WORK/search.md SSUM=$WORK/search-summary.md name proto rate lo hi r
    {
        echo "| receiver | transport | rate asked | sent | stored | lost | sender's rate | CPU µs/msg | CPU $RECV_CPU busy | kernel UDP drops | picket queue drops | backlog s | other processes' CPU | lossless |"
        echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    } >"$STABLE"
    {
        echo "| receiver | transport | lossless maximum msg/s | CPU µs/msg there | first rate with loss (or not kept up) |"
        echo "| --- | --- | ---: | ---: | ---: |"
    } >"$SSUM"
    for proto in $SEARCH_TRANSPORTS; do
        for name in $RECEIVERS; do
            lo=0 lo_cpu=- hi=0
            rate=$START_RATE
            [ "$proto" = tcp ] && rate=$TCP_START_RATE
            # Up by FACTOR while lossless (down by it while not, to find a first lossless rate),
            # then REFINE bisection steps between the last lossless and the first lossy rate.
            for _ in $(seq "$MAX_STEPS"); do
                step "$name" "$proto" "$rate"
                read -r sent st cpu sr kd qd rb oth bl <<<"$STEP"
                ok=no
                passes "$proto" "$rate" "$sent" "$st" "$sr" "$bl" && ok=yes
                printf '| %s | %s | %d | %d | %d | %d | %.0f | %s | %s | %s | %s | %s | %s%% | %s |\n' \
                    "$name" "$proto" "$rate" "$sent" "$st" "$((sent - st))" "$sr" "$cpu" "$rb" \
                    "$([ "$proto" = udp ] && echo "$kd" || echo -)" "$qd" "$bl" "$oth" "$ok" | tee -a "$STABLE" >&2
                if [ "$ok" = yes ]; then
                    lo=$rate lo_cpu=$cpu
                else
                    hi=$rate
                fi
                if [ "$hi" -eq 0 ]; then
                    [ "$rate" -ge "$MAX_RATE" ] && break
                    rate=$(awk -v r="$rate" -v f="$FACTOR" 'BEGIN {printf "%d", r * f}')
                elif [ "$lo" -eq 0 ]; then
                    [ "$rate" -le "$MIN_RATE" ] && break
                    rate=$(awk -v r="$rate" -v f="$FACTOR" 'BEGIN {printf "%d", r / f}')
                    hi=0
                else
                    refine=${refine:-$REFINE}
                    [ "$refine" -le 0 ] && break
                    refine=$((refine - 1))
                    rate=$(awk -v a="$lo" -v b="$hi" 'BEGIN {printf "%d", sqrt(a * b)}')
                    [ "$rate" -le "$lo" ] && break
                fi
            done
            unset refine
            echo "| $name | $proto | $lo | $lo_cpu | $([ "$hi" -gt 0 ] && echo "$hi" || echo "none up to $rate") |" | tee -a "$SSUM" >&2
        done
    done
    echo
    cat "$WORK/machine.txt"
    echo "search: ${STEP_SECS}s per step from $START_RATE/s (tcp $TCP_START_RATE/s), x$FACTOR per step, $REFINE refining step(s); load average before: $LOAD0"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$STABLE"
    echo
    cat "$SSUM"
}

# ---- the run ----------------------------------------------------------------------------------
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
    echo "picket: $PICKET_LABEL"
    echo "rsyslog: $(/usr/sbin/rsyslogd -v | head -1 | awk '{print $2}'), syslog-ng and loggen: $(LD_LIBRARY_PATH=$SNG_LIB "$SNG/usr/sbin/syslog-ng" -V 2>/dev/null | sed -n 's/^Installer-Version: //p')"
    echo "udp: loggen --rate $UDP_RATE for ${UDP_SECS}s; tcp: loggen, $TCP_CONNS connections, as fast as it can for ${TCP_SECS}s; tcp-bulk: 64 KiB writes, $TCP_CONNS connections, ${TCP_SECS}s; $SIZE-byte messages; receiver on CPU $RECV_CPU, sender on CPU $SEND_CPU"
} | tee "$WORK/machine.txt" >&2

if [ "$SEARCH" = 1 ]; then
    log "== stepped-rate search (work dir $WORK)"
    run_search
    log "(work dir: $WORK)"
    exit 0
fi

log "== measuring (work dir $WORK)"
TABLE=$WORK/results.md
COND=$WORK/conditions.md
{
    echo "| receiver | transport | sent | stored | lost | msgs/s | CPU µs/msg | peak MB |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$TABLE"
{
    echo "| receiver | transport | sender's rate | sender's s | CPU $SEND_CPU busy (sender) | CPU $RECV_CPU busy (receiver) | receiver process CPU | receiver sleeps/s | kernel UDP drops | picket queue drops | other processes' CPU |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$COND"

port=$PORT
for transport in $TRANSPORTS; do
    proto=${transport%-bulk}
    for name in $RECEIVERS; do
        for attempt in 1 2 3; do
            wait_for_quiet_machine
            port=$((port + 1))
            dir=$WORK/$name-$transport
            rm -rf "$dir"
            start_receiver "$name" "$proto" "$port" "$dir" 1000
            sleep 1
            log "-- $name $transport (port $port)"
            drops0=$(udp_rcvbuf_errors)
            others0=$(others_ticks)
            cpu0=$(cpu_ticks "$RPID")
            sleeps0=$(sleeps "$RPID")
            send_cpu0=$(cpu_stat "$SEND_CPU")
            recv_cpu0=$(cpu_stat "$RECV_CPU")
            t0=$EPOCHREALTIME
            send_rc=0
            send "$transport" "$port" "$dir/sender.out" || send_rc=$?
            t_sent=$EPOCHREALTIME
            send_cpu1=$(cpu_stat "$SEND_CPU")
            t_done=$(wait_idle "$RPID")
            recv_cpu1=$(cpu_stat "$RECV_CPU")
            sleeps1=$(sleeps "$RPID")
            cpu1=$(cpu_ticks "$RPID")
            hwm=$(status_kb "$RPID" VmHWM)
            drops1=$(udp_rcvbuf_errors)
            others1=$(others_ticks)
            stop_pid "$RPID"
            sent=$(sed -nE 's/^average rate = .*count=([0-9]+),.*/\1/p' "$dir/sender.out" | tail -1)
            [ -n "$sent" ] || {
                cat "$dir/sender.out" >&2
                die "the sender (exit $send_rc) printed no count for $name $transport"
            }
            count_stored "$name" "$dir"
            others_pct=$(awk -v o0="$others0" -v o1="$others1" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t_done" \
                'BEGIN {printf "%.0f", 100 * (o1 - o0) / hz / (t1 - t0)}')
            if [ "$others_pct" -gt 10 ] && [ "$attempt" -lt 3 ]; then
                log "other processes used ${others_pct}% of a CPU meanwhile: measuring $name $transport again"
                [ "$KEEP" = 1 ] || rm -rf "$dir/data" "$dir/out.log"
                continue
            fi
            kdrops=-
            [ "$proto" = udp ] && kdrops=$((drops1 - drops0))
            awk -v n="$name" -v p="$transport" -v sent="$sent" -v st="$STORED" -v t0="$t0" -v t1="$t_done" \
                -v c0="$cpu0" -v c1="$cpu1" -v hz="$CLK_TCK" -v hwm="$hwm" 'BEGIN {
                    cpu = st > 0 ? (c1 - c0) / hz * 1e6 / st : 0
                    printf "| %s | %s | %d | %d | %d | %.0f | %.2f | %.0f |\n",
                        n, p, sent, st, sent - st, st / (t1 - t0), cpu, hwm / 1024
                }' | tee -a "$TABLE" >&2
            awk -v n="$name" -v p="$transport" -v sent="$sent" -v t0="$t0" -v ts="$t_sent" -v t1="$t_done" \
                -v sb="$(cpu_busy "$send_cpu0" "$send_cpu1" "$(awk -v a="$t_sent" -v b="$t0" 'BEGIN {print a - b}')")" \
                -v rb="$(cpu_busy "$recv_cpu0" "$recv_cpu1" "$(awk -v a="$t_done" -v b="$t0" 'BEGIN {print a - b}')" io)" \
                -v c0="$cpu0" -v c1="$cpu1" -v o0="$others0" -v o1="$others1" -v hz="$CLK_TCK" \
                -v kd="$kdrops" -v qd="$QDROPS" -v z0="$sleeps0" -v z1="$sleeps1" 'BEGIN {
                    printf "| %s | %s | %.0f/s | %.1f | %s | %s | %.0f%% | %.0f | %s | %s | %.1f%% |\n",
                        n, p, sent / (ts - t0), ts - t0, sb, rb, 100 * (c1 - c0) / hz / (t1 - t0), (z1 - z0) / (t1 - t0), kd, qd,
                        100 * (o1 - o0) / hz / (t1 - t0)
                }' >>"$COND"
            [ "$KEEP" = 1 ] || rm -rf "$dir/data" "$dir/out.log"
            break
        done
    done
done

# ---- idle connections: memory per connection --------------------------------------------------
CTABLE=$WORK/connections.md
{
    echo "| receiver | connections | RSS before MB | RSS with them open MB | RSS after closing MB | KiB per connection | stored |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$CTABLE"
for name in $CONN_RECEIVERS; do
    wait_for_quiet_machine
    port=$((port + 1))
    dir=$WORK/$name-conns
    start_receiver "$name" tcp "$port" "$dir" $((CONNS + 1000))
    sleep 2
    log "-- $name: $CONNS idle connections (port $port)"
    rss0=$(status_kb "$RPID" VmRSS)
    rm -f "$dir/ready" "$dir/close"
    taskset -c "$SEND_CPU" python3 "$WORK/conns.py" 127.0.0.1 "$port" "$CONNS" "$dir/ready" "$dir/close" &
    cpid=$!
    for _ in $(seq 600); do
        [ -e "$dir/ready" ] && break
        kill -0 "$cpid" 2>/dev/null || die "the connection script failed"
        sleep 0.1
    done
    sleep 3 # every message reaches the receiver's store
    rss1=$(status_kb "$RPID" VmRSS)
    touch "$dir/close"
    wait "$cpid"
    sleep 3
    rss2=$(status_kb "$RPID" VmRSS)
    stop_pid "$RPID"
    count_stored "$name" "$dir"
    awk -v n="$name" -v c="$CONNS" -v a="$rss0" -v b="$rss1" -v d="$rss2" -v st="$STORED" 'BEGIN {
        printf "| %s | %d | %.1f | %.1f | %.1f | %.1f | %d |\n", n, c, a / 1024, b / 1024, d / 1024, (b - a) / c, st
    }' | tee -a "$CTABLE" >&2
    [ "$KEEP" = 1 ] || rm -rf "$dir/data" "$dir/out.log"
done

echo
cat "$WORK/machine.txt"
echo
cat "$TABLE"
echo
cat "$COND"
echo
cat "$CTABLE"
log "(work dir: $WORK)"
