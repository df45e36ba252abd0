# naas_scale.sh - autoscaling on measured load (docs/ORCHESTRATOR.md,
# "Autoscaling"): a firewall type with scale {min 1, max 3, target-pps
# 3000} under a load ramp from nf-gen, 2k / 8k / 2k frames/s: it scales out
# to 3 and back in to 1; no established flow changes replica except those
# of a replica added or drained (a replica scaled in keeps its flows for
# `drain`, takes no new one, then hands the rest off); nothing is lost;
# every decision is an event with its reason. Then a load that max replicas cannot carry is
# reported once, as a status and one event, and once when it ends.
. "$(dirname "$0")/../lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/naas/lib.sh"
naas_init naasscale
cat >"$T/scale.yaml" <<'YAML'
name: naasscale
runtime: process
ports:
  lan: {memif: 0}
  wan: {memif: 1}
vnfs:
  fw:
    program: nf-firewall
    ports: [fin, fout]
    files:
      fw.rules: |
        ct state established,related accept
        iifname fin udp dport 1024 accept
        counter drop
    config: |
      rules fw.rules
      set policy drop
    scale: {min: 1, max: 3, target-pps: 3000, cooldown: 1s, drain: 1s}
chains:
  web:
    from: lan
    to: wan
    match: ip daddr 203.0.113.0/24
    to-mac: 02:00:00:00:c5:02
    vnfs: [fw]
    slo: {max-loss: 0.1%}
YAML
st() { "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
gen() {	# gen SECONDS RATE NAME: 100 flows lan -> wan, JSON in $T/gen-NAME.json
	"$G" --tx "memif:$S,id=0,rsize=12" --rx "memif:$S,id=1,rsize=12" --src-ip 10.1.0.2 \
		--dst-ip 203.0.113.2 --flows 100 --rate "$2" --duration "$1" --drain 500ms --json \
		>"$T/gen-$3.json" 2>"$T/gen-$3.err"
}

check "up -d: 1 replica (scale.min)" "$C" up -d "$T/scale.yaml"
check_eq "status: fw has 1 replica up" 1 "$(st "sum(r['state'] == 'up' for r in d['replicas'])")"
check_eq "status --json: the scaling entry" "fw 1 1 3 3000 ok" \
	"$(st "' '.join(str(x[k]) for x in d['scaling'] if 'vnf' in x for k in ('vnf', 'replicas', 'min', 'max', 'target_pps', 'slo'))")"

python3 "$ROOT/tests/it/naas/watch.py" "$R/agent.ctl" "$T/watch.json" "$T/stop" &
watch=$!
cleanup "touch $T/stop; wait $watch"
gen 3 2k low1
gen 5 8k high
gen 6 2k low2
touch "$T/stop"
wait $watch
lost=0 sent=0 got=0
for p in low1 high low2; do
	lost=$((lost + $(jget "$T/gen-$p.json" rx.lost)))
	sent=$((sent + $(jget "$T/gen-$p.json" tx.packets)))
	got=$((got + $(jget "$T/gen-$p.json" rx.packets)))
done
read moves bad both kept newdrain timeline < <(python3 "$ROOT/tests/it/naas/check_flows.py" "$T/watch.json")
echo "# ramp 2k/8k/2k: replicas over time $timeline; $moves flow moves ($bad unexplained), $sent frames sent, $got received"
check_eq "ramp: frames sent in the three phases all arrived" "$sent" "$got"
check_eq "ramp: 0 lost while scaling out and in" 0 "$lost"
check "ramp: the replica count went 1 -> 2 or 3 -> 1 (no flapping: $timeline)" \
	sh -c "echo '$timeline' | grep -Eqx '1-(2-)?3-(2-)?1|1-2-1'"
check "ramp: flows moved (to the new replicas, back from drained ones): $moves" test "$moves" -gt 0
check_eq "ramp: no flow changed replica except to a replica added or from one drained" 0 "$bad"
check_eq "ramp: no flow on two replicas at once while the group stood still" 0 "$both"
echo "# draining replicas carried their flows in $kept (flow, 100 ms sample) pairs"
check "ramp: a draining replica kept carrying its flows" test "$kept" -gt 0
check_eq "ramp: no flow came to a replica while it drained" 0 "$newdrain"
ev() { python3 -c "import json,sys; d=json.load(open('$T/watch.json'))
print(len([e for e in d['events'] if $1]))"; }
check "events: a scale out with its reason and figures" \
	test "$(ev "e['kind'] == 'autoscale' and e['text'].startswith('scale out 1 -> ') and 'per replica, target 3000' in e['text']")" -ge 1
check "events: scale in with its reason" \
	test "$(ev "e['kind'] == 'autoscale' and e['text'].startswith('scale in ') and 'below 70% of the target' in e['text']")" -ge 1
check "events: nf-gen's flows never end: after drain (1 s) the rest is handed off" \
	test "$(ev "e['kind'] == 'drain' and 'ms: hands them to the other replicas' in e['text']")" -ge 1
check_eq "events: every replica scaled in was drained first, then removed" \
	"$(ev "e['kind'] == 'autoscale' and e['text'].startswith('scale in ')")" \
	"$(ev "e['kind'] == 'drain' and e['text'].startswith('drained after ')")"
check_eq "slo max-loss 0.1%: met through the whole ramp (no slo event for the chain)" "0 ok" \
	"$(st "str(len([e for e in d['events'] if e['kind'] == 'slo' and e['subject'] == 'web'])) + ' ' + [x['slo'] for x in d['scaling'] if x.get('chain') == 'web'][0]")"
lat=$(st "[x['latency_p99_us'] for x in d['scaling'] if x.get('chain') == 'web'][0]")
echo "# chain web: latency p99 $lat us (probe round trips, last 100 samples)"
check "status: the chain's latency p99 is measured" test "$lat" -gt 0
check "status: the last decision in the table" sh -c "'$C' status | grep -q '^autoscale  fw       scale in 2 -> 1: '"
check_eq "status: back to 1 replica" "1 fw.0" \
	"$(st "str(d['scaling'][0]['replicas']) + ' ' + ' '.join('%s.%d' % (r['vnf'], r['replica']) for r in d['replicas'])")"

# A target that cannot be met: max 1 (apply), 6k frames/s against 3000.
sed 's/scale: {min: 1, max: 3,/scale: {min: 1, max: 1,/' "$T/scale.yaml" >"$T/max1.yaml"
check "apply: max 1" "$C" apply "$T/max1.yaml"
gen 3 6k over &
genpid=$!
for i in $(seq 50); do [ "$(st "d['scaling'][0]['slo']")" != ok ] && break; sleep 0.1; done
check "not met: status says how much is offered and what max carries" \
	sh -c "'$C' status | grep -Eq '^scale fw: 1 replicas \(1\.\.1\), [0-9]+ pps, busy [0-9.]+: not met: [0-9]+ pps offered, max 1 replicas carry ~3000$'"
wait $genpid
check_eq "not met: nothing lost (one replica carries 6k)" 0 "$(jget "$T/gen-over.json" rx.lost)"
for i in $(seq 50); do [ "$(st "d['scaling'][0]['slo']")" = ok ] && break; sleep 0.1; done
check_eq "not met: exactly one event when it started, one when it ended" \
	"slo:not met slo:met again" \
	"$(st "' '.join(e['kind'] + ':' + e['text'].split(':')[0] for e in d['events'] if e['kind'] == 'slo' and e['subject'] == 'fw')")"
check_eq "not met: still 1 replica (max)" 1 "$(st "d['scaling'][0]['replicas']")"

# Loss: frames the firewall drops (UDP to port 9: its last rule) never
# leave the chain: the chain's max-loss is not met, said once each way.
seq0=$(st "d['events'][-1]['seq']")
"$G" --tx "memif:$S,id=0" --rx "memif:$S,id=1" --src-ip 10.1.0.2 --dst-ip 203.0.113.2 \
	--dport 9 --rate 1k --duration 3 --json >"$T/gen-loss.json" 2>/dev/null &
genpid=$!
for i in $(seq 50); do [ "$(st "[x['slo'] for x in d['scaling'] if x.get('chain') == 'web'][0]")" != ok ] && break; sleep 0.1; done
check "loss: the chain's status says how much of what went in was lost" \
	sh -c "'$C' status | grep -Eq '^slo of chain web: not met: loss [0-9.]+% \([0-9]+ of the [0-9]+ frames of a second\), target 0\.1%$'"
wait $genpid
for i in $(seq 50); do [ "$(st "[x['slo'] for x in d['scaling'] if x.get('chain') == 'web'][0]")" = ok ] && break; sleep 0.1; done
check_eq "loss: one event when it started, one when it ended" "slo:not met slo:met again" \
	"$(st "' '.join(e['kind'] + ':' + e['text'].split(':')[0] for e in d['events'] if e['kind'] == 'slo' and e['subject'] == 'web' and e['seq'] > $seq0)")"
check "down" "$C" down --name naasscale
check "no sanitizer report" no_san
