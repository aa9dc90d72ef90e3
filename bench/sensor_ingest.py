#!/usr/bin/env python3
"""What the incident sensor costs on TCP ingest: the same load with the sensor on and off.

  python3 bench/sensor_ingest.py [--bin target/release/picket] [--messages 2000000] [--rounds 3]
                                 [--sources N [--per-second N] [--varied] | --corpus FILE]

Each round starts a fresh `picket serve` (TCP on loopback, UDP off, its own temp data dir,
`[sensor] enabled = true` or `false`), sends --messages netfilter DROP lines over 4
connections as fast as Python writes 64 KiB chunks, and times from the first byte until
`stats` (one connection kept open) reports every message stored. The traffic is scan-heavy:
--sources sources (default 50,000), each hitting 1-40 ports of 1-20 hosts; above
`max_active` (20,000) the book evicts and restores candidates all the time. --per-second
(default 2,000) is how many lines share one second of event time: 2,000 is an import of old
logs, whose stamps run far ahead of the wall clock; live ingest at N msg/s stamps N lines a
second (the sender's clock), so `--per-second 400000` is live traffic at about that rate. Rounds alternate on/off; it prints msg/s, picket's CPU
microseconds per message and peak RSS per round, and the medians.

Pin picket with PICKET_CPU=1 (taskset) for steadier figures; more `[sensor]` keys in
PICKET_SENSOR_CONFIG (lines separated by a literal \\n), e.g. 'evicted_cache_mb = 512'.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, threading, time

def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def peak_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmHWM:"):
                return int(l.split()[1]) / 1024
    return 0

SOURCES = 50000
PER_SECOND = 2000

VARIED = False

def line(i):
    src = i * 7919 % SOURCES
    a, b = src // 250, src % 250
    port = 1 + (i * 31 + src) % 40
    host = 1 + (i // 40 + src) % 20
    spt, ip_id = 17805, 15743
    if VARIED:
        # As `fold_loop varied`: a real scanner's lines differ (source port, IP id), and its
        # ports and hosts run through all 40 and 20.
        k = (i // SOURCES) * 7 + src
        port, host = 1 + k % 40, 1 + k // 40 % 20
        spt, ip_id = 1024 + (i * 7) % 60000, i % 65536
    sec = (i // PER_SECOND) % 3600
    return (f"<4>Jan  8 {sec // 3600 + 3:02}:{sec // 60 % 60:02}:{sec % 60:02} fw kernel: DROP IN=eth0 OUT= "
            f"SRC=198.{18 + a // 250}.{a % 250}.{b} DST=192.0.2.{host} LEN=52 TOS=0x00 PREC=0x00 TTL=115 "
            f"ID={ip_id} DF PROTO=TCP SPT={spt} DPT={port} WINDOW=8192 RES=0x00 SYN URGP=0\n")

CORPUS = None

def payload(n, conns):
    per = n // conns
    out = []
    for k in range(conns):
        chunks, buf, size = [], [], 0
        for i in range(k * per, (k + 1) * per):
            l = CORPUS[i % len(CORPUS)] if CORPUS else line(i)
            buf.append(l); size += len(l)
            if size >= 65536:
                chunks.append("".join(buf).encode("utf-8", "surrogateescape")); buf = []; size = 0
        if buf:
            chunks.append("".join(buf).encode("utf-8", "surrogateescape"))
        out.append(chunks)
    return out, per * conns

class Stats:
    def __init__(self, sock):
        self.u = socket.socket(socket.AF_UNIX); self.u.settimeout(60); self.u.connect(sock)
        self.f = self.u.makefile("rw")
    def stored(self):
        self.f.write('{"op":"stats"}\n'); self.f.flush()
        v = json.loads(self.f.readline()); self.f.readline()
        return v["stats"]["stored"]

def round_(binary, chunks, total, sensor):
    d = tempfile.mkdtemp(prefix="picket-si-")
    data = os.path.join(d, "data")
    cfg = os.path.join(d, "picket.toml")
    with open(cfg, "w") as f:
        f.write(f"[sensor]\nenabled = {'true' if sensor else 'false'}\n")
        f.write(os.environ.get("PICKET_SENSOR_CONFIG", "").replace("\\n", "\n") + "\n")
    port = 18000 + os.getpid() % 1000
    cmd = [binary, "--data", data, "--config", cfg, "serve", "--no-udp", "--tcp", f"127.0.0.1:{port}"]
    if os.environ.get("PICKET_CPU"):
        cmd = ["taskset", "-c", os.environ["PICKET_CPU"]] + cmd
    p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    sock = os.path.join(data, "picket.sock")
    while not os.path.exists(sock):
        time.sleep(0.05)
    time.sleep(0.3)
    mon = Stats(sock)
    cpu0 = cpu_secs(p.pid)
    t0 = time.time()
    def one(cs):
        s = socket.create_connection(("127.0.0.1", port))
        for c in cs:
            s.sendall(c)
        s.close()
    ts = [threading.Thread(target=one, args=(cs,)) for cs in chunks]
    [t.start() for t in ts]; [t.join() for t in ts]
    while mon.stored() < total:
        time.sleep(0.02)
    took = time.time() - t0
    cpu = cpu_secs(p.pid) - cpu0
    rss = peak_mb(p.pid)
    op = ""
    if sensor:
        # The book settles and writes its candidates when ingest goes quiet (a large flush
        # takes seconds): time the op once the stored count has held for 3 s.
        cands, since, deadline = -1, time.time(), time.time() + 300
        while time.time() < deadline:
            mon.f.write('{"op":"stats"}\n'); mon.f.flush()
            n = json.loads(mon.f.readline())["stats"]["store"].get("incidents"); mon.f.readline()
            if n != cands:
                cands, since = n, time.time()
            elif n and time.time() - since >= 3:
                break
            time.sleep(0.5)
        t1 = time.time()
        mon.f.write('{"op":"incidents","limit":100}\n'); mon.f.flush()
        while "end" not in json.loads(mon.f.readline()):
            pass
        op = f"; incidents op (limit 100) over {cands:,} candidates: {time.time() - t1:.2f} s"
    p.terminate(); p.wait()
    subprocess.run(["rm", "-rf", d])
    return total / took, cpu * 1e6 / total, rss, op

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/picket")
    ap.add_argument("--messages", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sources", type=int, default=50000,
                    help="distinct sources (default 50,000: more than [sensor] max_active, so the book evicts and restores all the time)")
    ap.add_argument("--per-second", type=int, default=2000,
                    help="lines per second of event time (default 2,000, as an import of old logs; "
                    "live ingest at N msg/s stamps N lines a second)")
    ap.add_argument("--varied", action="store_true",
                    help="make each source's lines differ as a real scanner's do (source port, IP id, "
                    "all 40 ports and 20 hosts); without it a source repeats a few identical lines")
    ap.add_argument("--sensor", choices=["both", "on", "off"], default="both",
                    help="run only the sensor-on or sensor-off rounds (default: both, alternating)")
    ap.add_argument("--corpus", help="send the lines of this file (cycled up to --messages, "
                    "connection k taking the k-th quarter) instead of the generated DROP lines, "
                    "e.g. the mixed corpus of `gen_corpus`")
    a = ap.parse_args()
    global SOURCES, CORPUS, PER_SECOND, VARIED
    SOURCES = a.sources
    VARIED = a.varied
    PER_SECOND = max(1, a.per_second)
    if a.corpus:
        with open(a.corpus, encoding="utf-8", errors="surrogateescape") as f:
            CORPUS = [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]
    chunks, total = payload(a.messages, 4)
    res = {True: [], False: []}
    for r in range(a.rounds):
        for sensor in {"both": (False, True), "on": (True,), "off": (False,)}[a.sensor]:
            rate, us, rss, op = round_(a.bin, chunks, total, sensor)
            res[sensor].append((rate, us))
            print(f"round {r} sensor {'on ' if sensor else 'off'}: {rate:,.0f} msg/s, {us:.2f} CPU us/msg, peak {rss:.0f} MB{op}", flush=True)
    for s in (False, True):
        if not res[s]:
            continue
        print(f"median sensor {'on' if s else 'off'}: {statistics.median(x[0] for x in res[s]):,.0f} msg/s, "
              f"{statistics.median(x[1] for x in res[s]):.2f} CPU us/msg")
    if res[True] and res[False]:
        on = statistics.median(x[0] for x in res[True]); off = statistics.median(x[0] for x in res[False])
        print(f"throughput on/off (medians): {on / off:.3f}")

if __name__ == "__main__":
    sys.exit(main())
