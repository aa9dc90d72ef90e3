#!/usr/bin/env python3
"""Latency from a message's arrival at picket to its delivery to a `tail` subscriber.

Usage: bench/tail_latency.py [N]   (needs target/release/picket; starts its own server on
loopback in a temporary directory and stops it). Sends N messages (default 500) one at a
time over TCP, 5 ms apart, each carrying its send time, and prints the median, p95 and max of
(time the tail line arrived - time the message was sent), in milliseconds.
"""
import json, os, signal, socket, statistics, subprocess, sys, tempfile, time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "release", "picket")
with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "data")
    probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
    server = subprocess.Popen([binary, "--data", data, "serve", "--no-udp", "--tcp", f"127.0.0.1:{port}"],
                              stderr=subprocess.DEVNULL)
    try:
        sock_path = os.path.join(data, "picket.sock")
        deadline = time.time() + 20
        while not os.path.exists(sock_path):
            if time.time() > deadline:
                sys.exit("picket did not start")
            time.sleep(0.05)
        tail = socket.socket(socket.AF_UNIX); tail.connect(sock_path)
        reader = tail.makefile("r")
        tail.sendall(b'{"op":"tail"}\n')
        time.sleep(0.2)
        sender = socket.create_connection(("127.0.0.1", port))
        lat = []
        for i in range(n):
            sent = time.perf_counter_ns()
            sender.sendall(f"<13>Nov  8 15:26:31 h app[1]: probe {i} {sent}\n".encode())
            line = json.loads(reader.readline())
            got = time.perf_counter_ns()
            lat.append((got - int(line["message"].split()[-1])) / 1e6)
            time.sleep(0.005)
        lat.sort()
        print(f"tail latency over {n} messages: median {statistics.median(lat):.2f} ms, "
              f"p95 {lat[int(len(lat) * 0.95) - 1]:.2f} ms, max {lat[-1]:.2f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
