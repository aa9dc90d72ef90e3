#!/usr/bin/env python3
"""Ingest with and without hostile query clients: does a query client slow ingest?

  python3 bench/query_isolation.py [--bin target/release/picket] [--messages 1000000] [--rounds 3]
                                   [--clients 500]

Each round starts a fresh `picket serve` (TCP on loopback, UDP off, its own temp data dir),
first loads --messages messages, then sends --messages more over 4 connections as fast as
Python can write 64 KiB chunks, and times the second load from the first byte until `stats`
(asked over one connection opened before the hostile clients) reports every message stored. Rounds alternate between the plain case and the hostile case:
--clients query clients that each ask for every event (`{"op":"events"}`) and never read a
byte (their scans fill their channel and wait on the write), plus a burst of 520
fire-and-forget requests (connect, send `{"op":"events","text":"nomatch"}`, close) every
second during the load. It prints msg/s per round and the median per case, and the time
SIGTERM took at the end of each round.

The hostile clients run in a process of their own (not the sender's). The sender, the
clients and picket share the machine: pin picket apart with PICKET_CPU=1
(taskset) for steadier figures, and compare medians, not single rounds.
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, threading, time

def ask(sock, req):
    u = socket.socket(socket.AF_UNIX); u.settimeout(30); u.connect(sock)
    u.sendall((json.dumps(req) + "\n").encode())
    f = u.makefile()
    line = f.readline()
    u.close()
    return json.loads(line) if line else {}

class Stats:
    """One query connection kept open for `stats`, opened before the hostile clients come
    (as a monitoring tool would keep it), so that it measures ingest, not admission."""
    def __init__(self, sock):
        self.u = socket.socket(socket.AF_UNIX); self.u.settimeout(30); self.u.connect(sock)
        self.f = self.u.makefile("rw")
    def stored(self):
        self.f.write('{"op":"stats"}\n'); self.f.flush()
        v = json.loads(self.f.readline()); self.f.readline()  # the stats line, then the end line
        return v["stats"]["stored"]
    def close(self):
        self.u.close()

def stored(sock):
    try:
        return ask(sock, {"op": "stats"}).get("stats", {}).get("stored", -1)
    except OSError:
        return -1

def cpu_secs(pid):
    """User + system CPU seconds of a process and all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def send(port, start, n, conns=4):
    per = n // conns
    def one(k):
        s = socket.create_connection(("127.0.0.1", port))
        buf = []
        size = 0
        for i in range(start + k * per, start + (k + 1) * per):
            line = f"<38>Dec  2 10:00:00 gw sshd[1]: Failed password for root from 198.51.{(i // 250) % 250}.{i % 250} port 22 ssh2 seq {i:09d}\n"
            buf.append(line); size += len(line)
            if size >= 65536:
                s.sendall("".join(buf).encode()); buf = []; size = 0
        if buf:
            s.sendall("".join(buf).encode())
        s.close()
    ts = [threading.Thread(target=one, args=(k,)) for k in range(conns)]
    [t.start() for t in ts]; [t.join() for t in ts]
    return per * conns

def round_(binary, n, hostile, clients):
    d = tempfile.mkdtemp(prefix="picket-qi-")
    data = os.path.join(d, "data")
    port = 17000 + os.getpid() % 1000
    cmd = [binary, "--data", data, "serve", "--no-udp", "--tcp", f"127.0.0.1:{port}"]
    if os.environ.get("PICKET_CPU"):
        cmd = ["taskset", "-c", os.environ["PICKET_CPU"]] + cmd
    p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    sock = os.path.join(data, "picket.sock")
    while not os.path.exists(sock):
        time.sleep(0.05)
    time.sleep(0.3)
    base = send(port, 0, n)
    while stored(sock) < base:
        time.sleep(0.1)
    mon = Stats(sock)
    hostile_proc = None
    if hostile:
        # In a process of its own, so that its connects do not take the sender's time.
        hostile_proc = subprocess.Popen([sys.executable, __file__, "--hostile", sock, str(clients)],
                                        stdout=subprocess.PIPE, text=True)
        held = int(hostile_proc.stdout.readline() or 0)
    else:
        held = 0
    cpu0 = cpu_secs(p.pid)
    t0 = time.time()
    sent = send(port, base, n)
    sent_at = time.time() - t0
    while mon.stored() < base + sent:
        time.sleep(0.02)
    took = time.time() - t0
    mon.close()
    cpu = cpu_secs(p.pid) - cpu0
    print(f"    sender done after {sent_at:.2f} s, all stored after {took:.2f} s; picket CPU {cpu * 1e6 / sent:.2f} us/msg", flush=True)
    if hostile_proc:
        hostile_proc.kill(); hostile_proc.wait()
    t1 = time.time(); p.terminate(); p.wait(); stop_s = time.time() - t1
    subprocess.run(["rm", "-rf", d])
    return sent / took, stop_s, held

def hostile_clients(sock, clients):
    """Holds `clients` connections that asked for every event and never read, prints how many
    it holds, then sends a burst of 520 fire-and-forget requests every second until killed."""
    held = []
    for _ in range(clients):
        try:
            u = socket.socket(socket.AF_UNIX); u.connect(sock)
            u.sendall(b'{"op":"events"}\n'); held.append(u)
        except OSError:
            pass
    print(len(held), flush=True)
    while True:
        for _ in range(520):
            try:
                u = socket.socket(socket.AF_UNIX); u.connect(sock)
                u.sendall(b'{"op":"events","text":"nomatch"}\n'); u.close()
            except OSError:
                pass
        time.sleep(1)

def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--hostile":
        return hostile_clients(sys.argv[2], int(sys.argv[3]))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/picket")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=500)
    a = ap.parse_args()
    res = {False: [], True: []}
    for r in range(a.rounds):
        for hostile in (False, True):
            rate, stop_s, held = round_(a.bin, a.messages, hostile, a.clients)
            res[hostile].append(rate)
            print(f"round {r} {'hostile' if hostile else 'plain  '}: {rate:,.0f} msg/s, SIGTERM took {stop_s:.2f} s"
                  + (f", {held} non-reading clients held + 520-request bursts every second" if hostile else ""), flush=True)
    for hostile in (False, True):
        print(f"median {'hostile' if hostile else 'plain'}: {statistics.median(res[hostile]):,.0f} msg/s")
    print(f"ratio hostile/plain (medians): {statistics.median(res[True]) / statistics.median(res[False]):.3f}")

if __name__ == "__main__":
    sys.exit(main())
