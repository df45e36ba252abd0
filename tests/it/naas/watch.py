#!/usr/bin/env python3
"""watch.py AGENT_CTL OUT STOPFILE: every 100 ms until STOPFILE exists, the
agent's status and the conntrack table of every replica that runs (up or
draining), asked on their control sockets (one request each, no process
started). Writes OUT (JSON): samples of {t, up: [replicas in their group],
running: [all], replicas: configured count, flows: {sport: replica whose
entry for that flow counted more packets since the last sample}}, and the
events at the end."""
import json, os, socket, sys, time

ctl, out, stop = sys.argv[1:4]


def ask(path, line):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    b = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        b += c
    s.close()
    return json.loads(b)


samples, last = [], {}
t0 = time.monotonic()
while not os.path.exists(stop):
    try:
        d = ask(ctl, "status")
    except (OSError, ValueError):
        time.sleep(0.1)
        continue
    up, running, flows = [], [], {}
    for r in d["replicas"]:
        name = "%s.%d" % (r["vnf"], r["replica"])
        if r["state"] == "up":
            up.append(name)
        if r["state"] not in ("up", "draining"):
            continue
        running.append(name)
        try:
            ct = ask(r["ctl"] + "/ctl/vnf.ctl", "conntrack 1000")["conntrack"]
        except (OSError, ValueError, KeyError):
            continue
        for c in ct:
            sport = int(c["orig"].split("sport=")[1].split()[0])
            k = (name, sport)
            if c["packets_orig"] > last.get(k, 0):
                flows.setdefault(sport, []).append(name)
            last[k] = c["packets_orig"]
    sc = [x for x in d.get("scaling", []) if "vnf" in x]
    samples.append({"t": round(time.monotonic() - t0, 3), "up": up, "running": running,
                    "replicas": sc[0]["replicas"] if sc else -1, "flows": flows})
    time.sleep(0.1)
json.dump({"samples": samples, "events": ask(ctl, "status")["events"]}, open(out, "w"))
