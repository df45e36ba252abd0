# naas_queue.sh - queue occupancy as a load measure (docs/ORCHESTRATOR.md,
# "Autoscaling"): a VNF's stats give each memif port's receive backlog
# (rx_queue: the most frames a receive found waiting in ~100 ms; rx_ring:
# the ring's slots); the agent takes each replica's fullest ring, and a
# type with scale.target-queue scales out when it runs fuller than the
# target. Here the firewall replica is made slow (SIGSTOP 150 ms, SIGCONT
# 50 ms, over and over) under a steady 2k frames/s: its ring backs up, the
# type goes to 2 replicas with the reason in the event; once it runs
# freely again it goes back to 1. Nothing is lost (the ring has room).
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/naas/lib.sh"
naas_init naasq
cat >"$T/q.yaml" <<'YAML'
name: naasq
runtime: process
ports:
  lan: {memif: 0}
  wan: {memif: 1}
vnfs:
  fw:
    program: nf-firewall
    ports: [fin, fout]
    config: |
      set policy accept
    scale: {min: 1, max: 2, target-queue: 0.1, cooldown: 1s, drain: 1s}
chains:
  web:
    from: lan
    to: wan
    match: ip daddr 203.0.113.0/24
    to-mac: 02:00:00:00:c5:02
    vnfs: [fw]
YAML
st() { "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); r={'%s.%d'%(x['vnf'],x['replica']): x for x in d['replicas']}; print($1)"; }

check "up -d" "$C" up -d "$T/q.yaml"
vs() { "$C" vnf "$R/fw.0/ctl/vnf.ctl" --json stats | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# Idle, a port's backlog is 0, or 1 where the agent's probe (one frame
# each 100 ms, into the first port) fell in the last ~100 ms window: the
# gauge counts every frame found waiting, probes too (it read 1 in 3 of 8
# runs with an exact 0 expected).
check_eq "idle: the VNF's stats give each port's receive backlog and ring (0 or 1 of 1024)" "ok 1024 ok 1024" \
	"$(vs "' '.join('%s %d' % ('ok' if p['rx_queue'] <= 1 else p['rx_queue'], p['rx_ring']) for p in d['ports'])")"
pid=$(st "r['fw.0']['pid']")

"$G" --tx "memif:$S,id=0,rsize=12" --rx "memif:$S,id=1,rsize=12" --src-ip 10.1.0.2 \
	--dst-ip 203.0.113.2 --flows 100 --rate 2k --duration 9 --drain 500ms --json \
	>"$T/gen.json" 2>"$T/gen.err" &
gen=$!
cleanup "kill $gen"
sleep 1
# A slow replica: stopped three quarters of the time for 3 s.
( end=$((SECONDS + 3)); while [ $SECONDS -lt $end ]; do
	kill -STOP "$pid"; sleep 0.15; kill -CONT "$pid"; sleep 0.05
done; kill -CONT "$pid" ) &
slow=$!
cleanup "kill $slow; kill -CONT $pid"
qmax=0 nmax=0
for _ in $(seq 40); do
	read -r q n < <(st "int(r['fw.0']['queue'] * 1000), sum(x['state'] == 'up' for x in d['replicas'])" 2>/dev/null | tr -d '(),')
	[ "${q:-0}" -gt "$qmax" ] && qmax=$q
	[ "${n:-0}" -gt "$nmax" ] && nmax=$n
	sleep 0.1
done
wait $slow
echo "# the slow replica's fullest receive ring: $qmax/1000; replicas up: at most $nmax"
check "while slow: its receive ring ran fuller than the target (0.1): $qmax/1000" test "$qmax" -gt 100
check_eq "while slow: the type scaled out to 2 replicas" 2 "$nmax"
wait $gen
check_eq "nothing lost (the ring had room)" "0 $(jget "$T/gen.json" tx.packets)" \
	"$(jget "$T/gen.json" rx.lost) $(jget "$T/gen.json" rx.packets)"
check "the decision is an autoscale event with the ring's fill and the target" \
	sh -c "'$C' status --json | python3 -c \"import json,sys; d=json.load(sys.stdin); e=[x['text'] for x in d['events'] if x['kind'] == 'autoscale']; print(e); assert any(t.startswith('scale out 1 -> 2: ') and 'receive ring' in t and '(target 10%)' in t for t in e)\""
ups() { for _ in $(seq 100); do [ "$(st "sum(x['state'] == 'up' for x in d['replicas'])")" = "$1" ] && return 0; sleep 0.1; done; return 1; }
check "running freely again: back to 1 replica" ups 1
check "... scaled in by an event too" \
	sh -c "'$C' status --json | python3 -c \"import json,sys; d=json.load(sys.stdin); assert any(x['kind'] == 'autoscale' and x['text'].startswith('scale in 2 -> 1') for x in d['events'])\""
check "down" "$C" down --name naasq
no_san
