# naas_zero.sh - scale from zero (docs/ORCHESTRATOR.md, "Scale from zero";
# docs/STEERING.md, `group ... hold N`): VNF types with scale.min 0 run no
# replica until traffic for them arrives. The switch holds the first
# frames in a bounded queue (counted drops past it), the agent starts the
# replica (every type at zero of the chain at once), the held frames are
# released in order; after `idle` without traffic the type is back at zero.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/naas/lib.sh"
naas_init naaszero
cat >"$T/zero.yaml" <<'YAML'
name: naaszero
runtime: process
ports:
  lan: {memif: 0}
  wan: {memif: 1}
  lan3: {memif: 2}
  wan3: {memif: 3}
vnfs:
  fw: &fw
    program: nf-firewall
    ports: [fin, fout]
    config: |
      set policy accept
    scale: {min: 0, max: 2, target-pps: 3000, idle: 1s, hold: 16}
  a: *fw
  b: *fw
  c: *fw
chains:
  one:
    from: lan
    to: wan
    match: ip daddr 203.0.113.0/24
    to-mac: 02:00:00:00:c5:02
    vnfs: [fw]
  three:
    from: lan3
    to: wan3
    match: ip daddr 198.51.100.0/24
    to-mac: 02:00:00:00:c5:03
    vnfs: [a, b, c]
YAML
st() { "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
sws() { "$C" switch --ctl "$R/switch.ctl" --json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
hold() { sws groups "[g['hold'] for g in d['groups'] if g['name'] == '$1'][0]['$2']"; }
gen() {	# gen NAME TX RX DST [nf-gen options]
	local n=$1 tx=$2 rx=$3 dst=$4
	shift 4
	"$G" --tx "memif:$S,id=$tx" --rx "memif:$S,id=$rx" --src-ip 10.1.0.2 --dst-ip "$dst" \
		--drain 2s --json "$@" >"$T/gen-$n.json" 2>"$T/gen-$n.err"
}
zero() {	# wait until every type is at zero again (idle 1 s, then the drain)
	for i in $(seq 100); do [ "$(st "len(d['replicas'])")" = 0 ] && return 0; sleep 0.1; done
	return 1
}

check "up -d: no replica (scale.min 0)" "$C" up -d "$T/zero.yaml"
check_eq "status: 0 replicas" 0 "$(st "len(d['replicas'])")"
check "the group holds, with no member" grep -qx "group fw - track hold 16" "$R/steering"

# One chain, one VNF: 10 frames at 1000/s from nothing.
gen one 0 1 203.0.113.2 --count 10 --rate 1k
check_eq "cold start: 10 frames sent, 10 delivered" "10 10" \
	"$(jget "$T/gen-one.json" tx.packets) $(jget "$T/gen-one.json" rx.packets)"
check_eq "cold start: none lost, none reordered" "0 0" \
	"$(jget "$T/gen-one.json" rx.lost) $(jget "$T/gen-one.json" rx.reordered)"
first=$(python3 -c "import json; print(round(json.load(open('$T/gen-one.json'))['latency_ns']['max'] / 1e6, 1))")
echo "# cold start, 1 VNF (process): the first frame was delivered after $first ms; switch's hold $(( $(hold fw last_us) / 1000 )) ms"
check_eq "the switch held 10 and released 10, in one episode" "10 10 1 0" \
	"$(hold fw held) $(hold fw released) $(hold fw episodes) $(hold fw queued)"
check "event: cold start with its reason" \
	sh -c "'$C' status | grep -q '^cold-start fw       cold start 0 -> 1: the switch holds frames for it$'"
# Traffic while the last replica drains to zero (a new flow: not one the
# draining replica keeps): held, and the type starts again once drained.
python3 - "$R/agent.ctl" <<'PY'
import json, socket, sys, time
def status():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"status\n")
    b = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        b += c
    return json.loads(b)
t0 = time.monotonic()
while time.monotonic() - t0 < 10:
    if any(r["state"] == "draining" for r in status()["replicas"]):
        break
    time.sleep(0.005)
PY
"$G" --tx "memif:$S,id=0" --rx "memif:$S,id=1" --src-ip 10.7.0.2 --dst-ip 203.0.113.2 \
	--count 5 --rate 1k --drain 3s --json >"$T/gen-redrain.json" 2>/dev/null
check_eq "frames while draining to zero: 5 of 5 delivered, in order" "5 0" \
	"$(jget "$T/gen-redrain.json" rx.packets) $(jget "$T/gen-redrain.json" rx.reordered)"
check "... by a replica started again: a second cold start" \
	test "$(st "len([e for e in d['events'] if e['kind'] == 'cold-start' and e['subject'] == 'fw'])")" = 2
check "idle 1 s: back to zero" zero
check "events: idle with the time without traffic, once per episode (2)" \
	test "$(st "len([e for e in d['events'] if e['kind'] == 'idle' and e['subject'] == 'fw' and e['text'].startswith('idle 1 -> 0: no traffic for ')])")" = 2
check "at zero: the group holds again" grep -qx "group fw - track hold 16" "$R/steering"

# Past the bound: 40 frames in 0.4 ms, 16 held, 24 counted drops.
gen full 0 1 203.0.113.2 --count 40 --rate 100k
check_eq "hold 16: the first 16 of 40 delivered, in order" "16 0" \
	"$(jget "$T/gen-full.json" rx.packets) $(jget "$T/gen-full.json" rx.reordered)"
check_eq "hold 16: 24 counted drops (the group's hold.full)" 24 "$(hold fw full)"
check "idle: back to zero" zero

# A bigger bound (apply: the ring with the new capacity, counters kept),
# and frames that keep coming while the held ones are released: 2000/s
# for 1 s from zero, every frame delivered, in order.
sed 's/hold: 16}/hold: 2048}/' "$T/zero.yaml" >"$T/zero2.yaml"
check "apply: hold 2048" "$C" apply "$T/zero2.yaml"
check_eq "apply: the counters went on, the capacity is new" "2048 31 2048" \
	"$(hold fw capacity) $(hold fw released) $(hold a capacity)"
gen stream 0 1 203.0.113.2 --count 2000 --rate 2k
check_eq "release while more frames arrive: 2000 of 2000 delivered, 0 reordered" "2000 0 0" \
	"$(jget "$T/gen-stream.json" rx.packets) $(jget "$T/gen-stream.json" rx.lost) $(jget "$T/gen-stream.json" rx.reordered)"
echo "# held while fw.0 started: $(( $(hold fw held) - 31 - 24 )) frames"
check "zero again" zero

# Three VNFs at zero: the first frame starts all three at once.
gen three 2 3 198.51.100.7 --count 10 --rate 1k
check_eq "3-VNF chain from zero: 10 delivered, 0 reordered" "10 0" \
	"$(jget "$T/gen-three.json" rx.packets) $(jget "$T/gen-three.json" rx.reordered)"
first3=$(python3 -c "import json; print(round(json.load(open('$T/gen-three.json'))['latency_ns']['max'] / 1e6, 1))")
echo "# cold start, 3 VNFs (process): the first frame was delivered after $first3 ms"
check_eq "3-VNF chain: one cold start per type" "a b c" \
	"$(st "' '.join(sorted(e['subject'] for e in d['events'] if e['kind'] == 'cold-start' and e['subject'] in 'abc'))")"
check "down" "$C" down --name naaszero
check "no sanitizer report" no_san
