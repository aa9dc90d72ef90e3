#!/usr/bin/env python3
"""A firewall bouncer as a downstream tool would write one: follows picket's `watch` stream
from its saved cursor, keeps the set of blocked sources (a `block` adds, an `unblock`
removes), and saves cursor and set after every change (atomically), so it can be killed at
any moment and resume where it was.

    bouncer.py SOCKET STATE_FILE
"""
import json, os, socket, sys

sock_path, state_path = sys.argv[1], sys.argv[2]
state = {"cursor": None, "blocked": []}
if os.path.exists(state_path):
    with open(state_path) as f:
        state = json.load(f)
blocked = set(state["blocked"])
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
req = {"op": "watch"}
if state["cursor"] is not None:
    req["cursor"] = str(state["cursor"])
s.sendall((json.dumps(req) + "\n").encode())
for line in s.makefile():
    change = json.loads(line)
    if "error" in change:
        sys.exit("picket: " + change["error"]["message"])
    if "change" not in change:
        continue
    if change["kind"] == "block":
        blocked.add(change["source"])
    elif change["kind"] == "unblock":
        blocked.discard(change["source"])
    state = {"cursor": change["change"], "blocked": sorted(blocked)}
    tmp = state_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, state_path)
    print(change["change"], change["kind"], change["source"], flush=True)
