#!/usr/bin/env bash
# prometheus.sh - every daemon's /metrics scraped by a real Prometheus
# (Debian's prometheus package), on 127.0.0.1 only:
#
#   nf-gen --memif--> nfswitch --metrics            (job sw)
#   nf-gen --memif--> nf-firewall --metrics         (job fw; nf-gen is the client)
#   nfchain up -d: router -> nat -> fw x2, runtime process, with
#     http: (the agent's endpoint, job agent) and switch-metrics: (job dsw)
#
# nf-gen sends known counts; the query API must return exactly them. A
# killed replica's restarts_total becomes 1. promtool lints every
# endpoint's text; bad requests on the metrics ports are refused.
# One flavour: the endpoints' code runs under ASan in http.sh and the
# daemons' own tests; this checks what a real Prometheus reads (CI time).
# tests/run: once
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
G="$BIN/nf-gen"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export NFCHAIN_RUN_DIR=$T/run
san_to_files

# free_port: a TCP port of 127.0.0.1 free now, below the ephemeral range
# (where the kernel picks the local ports of other programs' connections).
# Another program may still take it before our daemon binds it: each
# start below tries up to 5 ports.
free_port() {
	python3 -c 'import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    p = random.randrange(10000, lo)
    try:
        socket.socket().bind(("127.0.0.1", p))
        print(p)
        break
    except OSError:
        pass'
}
# serving PID URL: wait up to 10 s until URL answers; false if PID exited.
serving() {
	local i
	for i in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 1
		curl -s -m 2 -o /dev/null "$2" && return 0
		sleep 0.05
	done
	return 1
}

# --- a standalone switch and firewall, traffic with known counts ---------
for _ in 1 2 3 4 5; do
	P_SW=$(free_port)
	"$BIN/nfswitch" -q --mode intr -c "$T/sw.ctl" -p "memif:$T/sw.sock,id=0" \
		-p "memif:$T/sw.sock,id=1" --metrics "127.0.0.1:$P_SW" 2>"$T/sw.err" &
	SW=$!
	serving "$SW" "http://127.0.0.1:$P_SW/metrics" && break
	wait "$SW"
done
cleanup "kill $SW; wait $SW"
printf 'iifname fin udp dport 1024 accept\ncounter drop\n' >"$T/fw.rules"
fw_conf() {	# fw_conf PORT
	cat >"$T/fw.conf" <<EOF
port fin memif:$T/fw.sock,id=0,role=server
port fout memif:$T/fw.sock,id=1,role=server
rules fw.rules
set policy drop
set mode intr
metrics 127.0.0.1:$1
EOF
}
fw_conf 9100
# Bad addresses: refused with a sentence, exit status 2.
"$BIN/nfswitch" --metrics 1.2.3:80 -c "$T/x.ctl" 2>"$T/e1"
check_eq "nfswitch --metrics 1.2.3:80: exit 2" 2 $?
check_eq "... with a sentence" \
	"nfswitch: --metrics: bad HTTP address '1.2.3:80' (expected IPV4:PORT, [IPV6]:PORT or :PORT, port 0-65535) (see nfswitch --help)" \
	"$(head -1 "$T/e1")"
(cd "$T" && "$BIN/nf-firewall" -n -c fw.conf --metrics :70000) 2>"$T/e2"
check_eq "nf-firewall --metrics :70000: exit 2" 2 $?
check "... with a sentence" grep -q "bad HTTP address ':70000'" "$T/e2"
sed 's/^metrics .*/metrics localhost:9100/' "$T/fw.conf" >"$T/fw-bad.conf"
(cd "$T" && "$BIN/nf-firewall" -n -c fw-bad.conf) 2>"$T/e3"
check_eq "the metrics directive with a host name: exit 2" 2 $?
check_eq "... the file, line and a sentence" \
	"nf-firewall: fw-bad.conf:6: metrics localhost:9100: expected IPV4:PORT, [IPV6]:PORT or :PORT (port 0-65535)" \
	"$(cat "$T/e3")"
# The firewall's endpoint comes from its configuration's metrics directive.
for _ in 1 2 3 4 5; do
	P_FW=$(free_port)
	fw_conf "$P_FW"
	(cd "$T" && exec "$BIN/nf-firewall" -q -c fw.conf --ctl "$T/fw.ctl" 2>"$T/fw.err") &
	FW=$!
	serving "$FW" "http://127.0.0.1:$P_FW/metrics" && break
	wait "$FW"
done
cleanup "kill $FW; wait $FW"
if ! kill -0 "$SW" || ! kill -0 "$FW"; then
	not_ok "nfswitch and nf-firewall start: $(cat "$T/sw.err" "$T/fw.err")"
	exit 1
fi

# nf-gen keeps its ports connected (--hold) so the peers' port counters
# stay (a memif port's counters restart with its next connection).
gen_bg() {	# gen_bg OUT nf-gen-options...: runs until its report is written
	local out=$1; shift
	"$G" "$@" --json --hold 600s >"$out" 2>"$out.err" &
	cleanup "kill $!"
	for _ in $(seq 600); do
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
check "nf-gen: 1000 frames through nfswitch" gen_bg "$T/g_sw.json" \
	--tx "memif:$T/sw.sock,id=0" --rx "memif:$T/sw.sock,id=1" --count 1000 --rate 20k
check "... received" [ "$(jget "$T/g_sw.json" rx.packets)" -ge 1 ]
check "nf-gen: 700 accepted frames through nf-firewall" gen_bg "$T/g_fw.json" \
	--tx "memif:$T/fw.sock,id=0" --rx "memif:$T/fw.sock,id=1" --count 700 --rate 20k
check "... received" [ "$(jget "$T/g_fw.json" rx.packets)" -ge 1 ]

# --- an orchestrated deployment with the agent's endpoint ------------------
# Interrupt mode and a generous probe timeout: the machine may be loaded
# (a replica restarted by a late probe would change the counts).
for try in 1 2 3; do
	P_AG=$(free_port)
	P_DSW=$(free_port)
	sed -e "s/^runtime: runc/runtime: process\nmode: intr\nhttp: 127.0.0.1:$P_AG\nswitch-metrics: 127.0.0.1:$P_DSW/" \
		-e "s/^  probe-interval: .*/  probe-interval: 500ms/" -e "s/^  probe-timeout: .*/  probe-timeout: 5s/" \
		"$ROOT/examples/router-nat-fw.yaml" >"$T/rnf.yaml"
	"$C" up -d "$T/rnf.yaml" 2>"$T/up.err" && break
	if [ "$try" = 3 ]; then
		not_ok "nfchain up -d with http: and switch-metrics: $(cat "$T/up.err")"
		exit 1
	fi
	"$C" down --name rnf >/dev/null 2>&1
done
cleanup "'$C' down --name rnf"
ok "nfchain up -d with http: and switch-metrics:"
sed "s/^http: .*/http: 127.0.0.1:$(free_port)/" "$T/rnf.yaml" >"$T/rnf2.yaml"
"$C" apply "$T/rnf2.yaml" >/dev/null 2>"$T/apply.err"
check_eq "apply with another http address: refused" 1 $?
check "... with a sentence" grep -q "http and switch-metrics cannot change in a running deployment" \
	"$T/apply.err"
S=$T/run/rnf/memif.sock
check "nf-gen: 2000 frames through the chain (100 flows)" gen_bg "$T/g_ch.json" \
	--tx "memif:$S,id=0,rsize=12" --rx "memif:$S,id=1,rsize=12" --src-ip 10.1.0.2 \
	--dst-ip 203.0.113.2 --flows 100 --rate 5k --count 2000 --drain 1s
# A loaded machine may lose some in the chain: the counters must agree
# with what nf-gen saw arrive.
RX=$(jget "$T/g_ch.json" rx.packets)
check "... most of them received ($RX)" [ "$RX" -ge 1000 ]

# --- the text itself: promtool's lint, bad requests ------------------------
head -c 70000 /dev/zero >"$T/70k"	# the agent takes bodies up to 64 KiB (forms)
for ep in "sw $P_SW" "fw $P_FW" "agent $P_AG" "dsw $P_DSW"; do
	read -r name port <<<"$ep"
	curl -s -m 10 -D "$T/$name.h" "http://127.0.0.1:$port/metrics" >"$T/$name.prom"
	check "$name: GET /metrics answers the 0.0.4 text format" \
		grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/$name.h"
	promtool check metrics <"$T/$name.prom" >"$T/$name.lint" 2>&1
	check_eq "$name: promtool check metrics: exit 0" 0 $?
	check_eq "$name: promtool check metrics: no complaint" "" "$(cat "$T/$name.lint")"
	check_eq "$name: an unknown path: 404" 404 \
		"$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")"
	check_eq "$name: POST /metrics: 405" 405 \
		"$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")"
	check_eq "$name: a 70000-byte body (over the limit): 413" 413 \
		"$(curl -s -m 10 -o /dev/null -w '%{http_code}' --data-binary @"$T/70k" "http://127.0.0.1:$port/metrics")"
done
check "the switch's text has its ports' drops by reason" \
	grep -q '^nfswitch_port_drops_total{port="memif:.*,reason="tx-ring-full"} 0$' "$T/sw.prom"
check "the firewall's text has its rule counters" \
	grep -q '^nfchain_firewall_rule_packets_total{rule="0"} 700$' "$T/fw.prom"

# The other VNFs' own families (one at a time): promtool's
# lint, and a value known from the configuration.
printf 'port a memif:%s/v.sock,id=0,role=server\nport b memif:%s/v.sock,id=1,role=server\n' \
	"$T" "$T" >"$T/ports.conf"
vnf_text() {	# vnf_text PROGRAM EXTRA-CONFIG: its /metrics text in $T/vnf.prom
	local pid port
	{ cat "$T/ports.conf"; printf '%b' "$2"; } >"$T/vnf.conf"
	rm -f "$T/vnf.prom"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		"$BIN/$1" -q -c "$T/vnf.conf" --ctl "$T/vnf.ctl" --metrics "127.0.0.1:$port" &
		pid=$!
		serving "$pid" "http://127.0.0.1:$port/metrics" && break
		wait "$pid"
	done
	curl -s -m 10 "http://127.0.0.1:$port/metrics" >"$T/vnf.prom"
	"$C" vnf "$T/vnf.ctl" --json stats >"$T/vnf.json"
	kill -INT "$pid"; wait "$pid"
	check_eq "$1: exits cleanly" 0 $?
	check_eq "$1: promtool check metrics: no complaint" "" "$(promtool check metrics <"$T/vnf.prom" 2>&1)"
}
vnf_text nf-router 'address a 10.0.0.1/24\nroute 10.9.0.0/16 via 10.0.0.2\nroute 10.8.0.0/16 via 10.0.0.3\n'
check "nf-router: its info and route families" \
	grep -qx 'nfchain_vnf_info{vnf="nf-router"} 1' "$T/vnf.prom"
check_eq "nf-router: the routes gauges are the stats reply's numbers" \
	"nfchain_router_routes4 $(jget "$T/vnf.json" router.routes4) nfchain_router_routes6 $(jget "$T/vnf.json" router.routes6)" \
	"$(grep -E '^nfchain_router_routes[46] ' "$T/vnf.prom" | xargs)"
vnf_text nf-bridge ''
check "nf-bridge: an empty MAC table" grep -qx 'nfchain_bridge_fdb_entries 0' "$T/vnf.prom"
vnf_text nf-nat 'inside a\noutside b\npool 198.51.100.1 ports 1024-65535\nset sessions 5000\n'
check "nf-nat: sessions_max from 'set sessions 5000'" \
	grep -qx 'nfchain_nat_sessions_max 5000' "$T/vnf.prom"
check "nf-nat: no session yet" grep -qx 'nfchain_nat_sessions 0' "$T/vnf.prom"

# --- a real Prometheus -----------------------------------------------------
mkdir -p "$T/prom"
cat >"$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sw
    static_configs: [{targets: ['127.0.0.1:$P_SW']}]
  - job_name: fw
    static_configs: [{targets: ['127.0.0.1:$P_FW']}]
  - job_name: agent
    static_configs: [{targets: ['127.0.0.1:$P_AG']}]
  - job_name: dsw
    static_configs: [{targets: ['127.0.0.1:$P_DSW']}]
EOF
check "promtool check config" promtool check config "$T/prom/prometheus.yml"
for _ in 1 2 3 4 5; do
	P_PROM=$(free_port)
	prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
		--web.listen-address="127.0.0.1:$P_PROM" --log.level=warn >"$T/prom/log" 2>&1 &
	PROM=$!
	serving "$PROM" "http://127.0.0.1:$P_PROM/-/ready" && break
	wait "$PROM"
done
cleanup "kill $PROM; wait $PROM"
API=http://127.0.0.1:$P_PROM/api/v1

# targets_up: how many targets Prometheus reports "up".
targets_up() {
	curl -s -m 5 "$API/targets" | python3 -c 'import json,sys
try: d = json.load(sys.stdin)
except Exception: print(0); sys.exit()
print(sum(1 for t in d["data"]["activeTargets"] if t["health"] == "up"))'
}
for _ in $(seq 120); do [ "$(targets_up)" = 4 ] && break; sleep 0.5; done
check_eq "Prometheus: all 4 targets up" 4 "$(targets_up)"

# q EXPR: the query's values, "labels=value" sorted, one per line.
q() {
	curl -s -m 5 --data-urlencode "query=$1" "$API/query" | python3 -c 'import json,sys
d = json.load(sys.stdin)
out = []
for r in d["data"]["result"]:
    m = {k: v for k, v in r["metric"].items() if k not in ("__name__", "instance", "job")}
    out.append(",".join("%s=%s" % kv for kv in sorted(m.items())) + "=" + r["value"][1])
print("\n".join(sorted(out)))'
}
# check_q DESC EXPR EXPECTED: polls (scrapes come every second) up to 30 s.
check_q() {
	local got i
	for i in $(seq 60); do
		got=$(q "$2")
		[ "$got" = "$3" ] && break
		sleep 0.5
	done
	check_eq "$1" "$3" "$got"
}
check_q "sw: the input port's rx_packets_total is what nf-gen sent" \
	"nfswitch_port_rx_packets_total{job=\"sw\",port=\"memif:$T/sw.sock,id=0\"}" \
	"port=memif:$T/sw.sock,id=0=1000"
SWRX=$(jget "$T/g_sw.json" rx.packets)
check_q "sw: the output port's tx_packets_total and tx_bytes_total: what nf-gen received" \
	"sum(nfswitch_port_tx_packets_total{job=\"sw\",port=\"memif:$T/sw.sock,id=1\"}) * 100000 + sum(nfswitch_port_tx_bytes_total{job=\"sw\",port=\"memif:$T/sw.sock,id=1\"})" \
	"=$((SWRX * 100000 + SWRX * 60))"
check_q "sw: drops: what did not arrive (tx-ring-full, if any)" \
	"sum(nfswitch_port_drops_total{job=\"sw\"})" "=$((1000 - SWRX))"
check_q "fw: rx per port" "nfchain_vnf_port_rx_packets_total{job=\"fw\"}" \
	"port=fin=700
port=fout=0"
check_q "fw: tx on fout: what nf-gen received" \
	"nfchain_vnf_port_tx_packets_total{job=\"fw\",port=\"fout\"}" "port=fout=$(jget "$T/g_fw.json" rx.packets)"
check_q "fw: every stage passed the 700" "nfchain_vnf_stage_out_packets_total{job=\"fw\"}" \
	"stage=post=700
stage=pre=700
stage=process=700"
check_q "fw: rule 0 (accept) counted 700, rule 1 (drop) 0" \
	"nfchain_firewall_rule_packets_total{job=\"fw\"}" "rule=0=700
rule=1=0"
check_q "agent: nfchain_replica_up is 1 for each replica" "nfchain_replica_up" \
	"replica=0,vnf=fw=1
replica=0,vnf=nat=1
replica=0,vnf=router=1
replica=1,vnf=fw=1"
check_q "agent: the firewall replicas sent on what arrived, between them" \
	"sum(nfchain_replica_tx_packets_total{vnf=\"fw\"})" "=$RX"
check_q "agent: and both had a share (flows hashed over two replicas)" \
	"count(nfchain_replica_tx_packets_total{vnf=\"fw\"} > 0)" "=2"
check_q "agent: replicas desired per VNF" "nfchain_vnf_replicas_desired" "vnf=fw=2
vnf=nat=1
vnf=router=1"
check_q "agent: probes answered through every replica" \
	"count(nfchain_replica_probes_answered_total > 0)" "=4"
check_q "agent: the probe round-trip histogram counts every probe answered" \
	"nfchain_vnf_probe_rtt_seconds_count{vnf=\"router\"} - on(vnf) sum by (vnf) (nfchain_replica_probes_answered_total{vnf=\"router\"})" \
	"vnf=router=0"
check_q "agent: its median is a positive number of seconds, below 1 s" \
	"count(0 < histogram_quantile(0.5, nfchain_vnf_probe_rtt_seconds_bucket{vnf=\"fw\"}) < 1)" "=1"
check_q "dsw: the deployment switch's lan port got the 2000 frames" \
	"nfswitch_port_rx_packets_total{job=\"dsw\",port=\"lan\"}" "port=lan=2000"
check_q "dsw: the steering rule counted them" "sum(nfswitch_rule_packets_total{job=\"dsw\"})" "=2000"
check_q "dsw: the wan port sent what nf-gen received" \
	"nfswitch_port_tx_packets_total{job=\"dsw\",port=\"wan\"}" "port=wan=$RX"

# Kill replica fw.1: the agent restarts it; restarts_total becomes 1.
pid=$("$C" status --json | python3 -c 'import json,sys
print([r["pid"] for r in json.load(sys.stdin)["replicas"] if r["vnf"] == "fw" and r["replica"] == 1][0])')
kill -9 "$pid"
check_q "agent: the killed replica's restarts_total becomes 1" \
	"nfchain_replica_restarts_total{vnf=\"fw\"}" "replica=0,vnf=fw=0
replica=1,vnf=fw=1"
check_q "agent: it is up again" "nfchain_replica_up{vnf=\"fw\",replica=\"1\"}" "replica=1,vnf=fw=1"
check_q "agent: one down and one restart event" \
	"nfchain_events_total{kind=~\"down|restart\"}" "kind=down=1
kind=restart=1"

check "nfchain down" "$C" down --name rnf
check "Prometheus saw the agent's target go down" \
	sh -c "for i in \$(seq 60); do curl -s '$API/targets' | grep -q '\"health\":\"down\"' && exit 0; sleep 0.5; done; exit 1"
stop_clean "nf-firewall" "$FW"
stop_clean "nfswitch" "$SW"
check "no sanitizer report" no_san
exit $_failed
