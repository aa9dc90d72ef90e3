#!/usr/bin/env python3
"""Peak RSS of `picket serve` under TCP load, by the size of the store it already holds.

  python3 bench/rss_by_store_size.py BIN DATA ROUNDS

Starts BIN serve on DATA (TCP 127.0.0.1:18779, UDP off, [sensor] enabled = $SENSOR or false,
more config lines in $EXTRA separated by a literal \\n), sends /tmp/mixed.log (make it with
`gen_corpus 2000000 /tmp/mixed.log 1 mixed`) ROUNDS times over one connection, and prints after
each round the stored count and the process's RSS and peak RSS from `stats` (memory.*).
Run it again on the same DATA to see a restarted server on a bigger store.

Each round also prints the server's CPU time per message (user + system from /proc/PID/stat,
which does not depend on how busy the machine is, unlike msg/s), its anonymous and
file-backed resident memory (/proc/PID/smaps_rollup) and the rounds' wall time. $WRAP (words)
is put in front of BIN, e.g. WRAP="env MALLOC_ARENA_MAX=2" or WRAP="taskset -c 1". $PAUSE
(seconds) waits that long after each round and prints the RSS again: a quiet writer hands
freed heap back (stats memory.heap_trims), a busy one does not.
"""
import json, os, socket, subprocess, sys, time, tempfile
PAUSE = float(os.environ.get("PAUSE", "0"))
BIN = sys.argv[1]; DATA = sys.argv[2]; ROUNDS = int(sys.argv[3]); FILE = "/tmp/mixed.log"
cfg = os.path.join(os.path.dirname(DATA), "picket.toml")
open(cfg, "w").write("[sensor]\nenabled = " + os.environ.get("SENSOR", "false") + "\n" + os.environ.get("EXTRA", "").replace("\\n", "\n") + "\n")
def stats(sock):
    u = socket.socket(socket.AF_UNIX); u.connect(sock); f = u.makefile("rw")
    f.write('{"op":"stats"}\n'); f.flush(); v = json.loads(f.readline()); u.close(); return v["stats"]
TICK = os.sysconf("SC_CLK_TCK")
def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK
def mem(pid):
    m = {}
    for l in open(f"/proc/{pid}/smaps_rollup"):
        k, _, v = l.partition(":")
        if v.strip().endswith("kB"): m[k] = int(v.split()[0]) / 1024
    return m
def serve():
    p = subprocess.Popen(os.environ.get("WRAP", "").split() + [BIN, "--data", DATA, "--config", cfg, "serve", "--no-udp", "--tcp", "127.0.0.1:18779"], stderr=subprocess.DEVNULL)
    sock = os.path.join(DATA, "picket.sock")
    while not os.path.exists(sock): time.sleep(0.05)
    time.sleep(0.5); return p, sock
p, sock = serve()
s0 = stats(sock); base = s0["stored"]
print(f"opened: store {s0['store']['events']:,} events, {s0['store']['bytes_on_disk']/1e9:.2f} GB; rss {s0['memory']['rss_bytes']/2**20:.0f} MiB", flush=True)
data = open(FILE, "rb").read(); n = data.count(b"\n")
for r in range(ROUNDS):
    t = time.time(); c0 = cpu_s(p.pid)
    c = socket.create_connection(("127.0.0.1", 18779)); c.sendall(data); c.close()
    while stats(sock)["stored"] < base + (r + 1) * n: time.sleep(0.2)
    s = stats(sock); cpu = cpu_s(p.pid) - c0; m = mem(p.pid)
    print(f"round {r}: {n/(time.time()-t):,.0f} msg/s; {cpu*1e6/n:.2f} CPU us/msg; store {s['store']['events']:,}; rss {s['memory']['rss_bytes']/2**20:.0f} MiB (anon {m.get('Anonymous', 0):.0f}, file {m.get('Rss', 0) - m.get('Anonymous', 0):.0f}), peak {s['memory']['peak_rss_bytes']/2**20:.0f} MiB; heap trims {s['memory'].get('heap_trims', '-')}, last {s['memory'].get('last_trim_us', '-')} us", flush=True)
    if PAUSE > 0:
        time.sleep(PAUSE); s = stats(sock)
        print(f"  after {PAUSE:g} s quiet: rss {s['memory']['rss_bytes']/2**20:.0f} MiB; heap trims {s['memory'].get('heap_trims', '-')}, last {s['memory'].get('last_trim_us', '-')} us", flush=True)
time.sleep(float(os.environ.get("HOLD", "0")))  # time to attach gdb or heaptrack
p.terminate(); p.wait()
