#!/usr/bin/env bash
# bench/naas.sh - network as a service (issue 10; docs/BENCHMARKS.md):
#
#  (1) cold start: a chain whose VNF types have scale.min 0 runs no
#      replica; one frame is sent; the time from its transmission to its
#      delivery (nf-gen's latency of that frame: the switch holds it, the
#      agent starts the replicas, the switch releases it through them) and
#      the switch's own hold time (first frame held -> released), REPEAT
#      times after the chain went back to zero (idle 500 ms): a 1-VNF and
#      a 3-VNF chain (nf-firewall), runtimes process and runc (root):
#      min / median / p90 / max.
#  (2) scale-out reaction to a load step: a fresh deployment, fw with
#      scale {min 1, max 2, target-pps 3000}, idle, then 6000 frames/s
#      (100 flows) at once: the time from the step to the decision (the
#      autoscale event), to the new replica up, and to the new replica
#      carrying traffic (its receive counter moving), REPEAT times.
#
#   bench/naas.sh [-r REPEAT] [-R RUNTIMES]     (defaults: 10, "process runc")
set -u
cd "$(dirname "$0")/.."
REPEAT=10 RUNTIMES="process runc"
while getopts "r:R:" o; do
	case $o in
	r) REPEAT=$OPTARG ;; R) RUNTIMES=$OPTARG ;;
	*) echo "usage: bench/naas.sh [-r REPEAT] [-R RUNTIMES]" >&2; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
[ -x "$BIN/nfchain" ] || { echo "bench: build first (make)" >&2; exit 1; }
. bench/lib.sh
bench_at_exit() { NFCHAIN_RUN_DIR=$W/run "$BIN/nfchain" down --name naasb >/dev/null 2>&1; }
bench_workdir naas none
export NFCHAIN_RUN_DIR=$W/run
C=$BIN/nfchain
S=$W/run/naasb/memif.sock
stats() { python3 -c 'import statistics as s,sys
v = sorted(float(x) for x in sys.argv[1:])
p90 = v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
print("%7.1f %7.1f %7.1f %7.1f" % (v[0], s.median(v), p90, v[-1]))' "$@"; }
st() { "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
yaml() {	# yaml RUNTIME "VNF..." SCALE
	local v
	printf 'name: naasb\nruntime: %s\nports:\n  lan: {memif: 0}\n  wan: {memif: 1}\nvnfs:\n' "$1"
	for v in $2; do
		printf '  %s:\n    program: nf-firewall\n    ports: [fin, fout]\n' "$v"
		printf '    config: |\n      set policy accept\n    scale: %s\n' "$3"
	done
	printf 'chains:\n  web:\n    from: lan\n    to: wan\n    to-mac: 02:00:00:00:c5:02\n'
	printf '    vnfs: [%s]\n' "$(echo $2 | tr ' ' ,)"
}

echo "(1) cold start: first frame to delivery, ms ($REPEAT runs each; min median p90 max)"
printf '%-8s %-6s %31s   %31s\n' runtime chain "delivered (nf-gen)" "held (switch)"
for rt in $RUNTIMES; do
	for vnfs in "fw" "a b c"; do
		yaml "$rt" "$vnfs" "{min: 0, max: 1, target-pps: 100k, idle: 500ms}" >"$W/z.yaml"
		"$C" up -d "$W/z.yaml" >/dev/null || { echo "bench: up failed" >&2; exit 1; }
		lat=() held=()
		for i in $(seq "$REPEAT"); do
			"$BIN/nf-gen" --tx "memif:$S,id=0" --rx "memif:$S,id=1" --src-ip 10.1.0.2 \
				--dst-ip 203.0.113.2 --count 1 --drain 5s --json >"$W/g.json" 2>/dev/null
			python3 -c "import json,sys; d=json.load(open('$W/g.json')); sys.exit(d['rx']['packets'] != 1)" ||
				{ echo "bench: the first frame was not delivered" >&2; exit 1; }
			lat+=($(python3 -c "import json; print(json.load(open('$W/g.json'))['latency_ns']['max'] / 1e6)"))
			first=${vnfs%% *}
			held+=($("$C" switch --ctl "$W/run/naasb/switch.ctl" --json groups | python3 -c "import json,sys
print([g for g in json.load(sys.stdin)['groups'] if g['name'] == '$first'][0]['hold']['last_us'] / 1000)"))
			for k in $(seq 200); do [ "$(st "len(d['replicas'])")" = 0 ] && break; sleep 0.05; done
		done
		"$C" down >/dev/null
		printf '%-8s %-6s %31s   %31s\n' "$rt" "$(echo $vnfs | wc -w)-VNF" "$(stats "${lat[@]}")" "$(stats "${held[@]}")"
		echo "#   runs: ${lat[*]}"
	done
done

echo "(2) scale-out reaction to a load step 0 -> 6000 frames/s (target 3000 per replica), ms"
printf '%-8s %31s   %31s   %31s\n' runtime "decision (event)" "fw.1 up" "fw.1 carries traffic"
for rt in $RUNTIMES; do
	yaml "$rt" "fw" "{min: 1, max: 2, target-pps: 3000, cooldown: 1s}" >"$W/s.yaml"
	dec=() up=() carry=()
	for i in $(seq "$REPEAT"); do
		"$C" up -d "$W/s.yaml" >/dev/null || { echo "bench: up failed" >&2; exit 1; }
		sleep 1
		read d u c < <(python3 - "$W/run/naasb/agent.ctl" "$BIN/nf-gen" "$S" <<'PY'
import json, socket, subprocess, sys, time
ctl, gen, sock = sys.argv[1:4]
def status():
    s = socket.socket(socket.AF_UNIX)
    s.connect(ctl)
    s.sendall(b"status\n")
    b = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        b += c
    s.close()
    return json.loads(b)
t0w = time.time()
t0 = time.monotonic()
g = subprocess.Popen([gen, "--tx", "memif:%s,id=0" % sock, "--rx", "memif:%s,id=1" % sock,
                      "--src-ip", "10.1.0.2", "--dst-ip", "203.0.113.2", "--flows", "100",
                      "--rate", "6k", "--duration", "6"], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
up = carry = -1
while time.monotonic() - t0 < 5 and carry < 0:
    d = status()
    ms = (time.monotonic() - t0) * 1000
    for r in d["replicas"]:
        if r["vnf"] == "fw" and r["replica"] == 1:
            if up < 0 and r["state"] == "up":
                up = ms
            if up >= 0 and r["rx_packets"] > 0:
                carry = ms
    time.sleep(0.01)
dec = [e["time_ms"] - t0w * 1000 for e in d["events"] if e["kind"] == "autoscale"]
g.kill()
g.wait()
print("%.0f %.0f %.0f" % (dec[0] if dec else -1, up, carry))
PY
)
		"$C" down >/dev/null
		dec+=("$d") up+=("$u") carry+=("$c")
	done
	printf '%-8s %31s   %31s   %31s\n' "$rt" "$(stats "${dec[@]}")" "$(stats "${up[@]}")" "$(stats "${carry[@]}")"
	echo "#   runs (carries traffic): ${carry[*]}"
done
