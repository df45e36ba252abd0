#!/usr/bin/env bash
# bench/firewall.sh - nf-firewall against nftables, in one run:
#
#   (f) nf-gen -> memif -> nf-firewall -> memif -> nf-gen (the firewall's
#       two ports are memif servers: no switch in between)
#   (k) the same nf-gen -> AF_PACKET -> veth -> Linux forwarding with an
#       nftables forward chain holding the same rules -> veth -> AF_PACKET
#       -> nf-gen (RPS gives the kernel the second core)
#
# Rule sets from bench/fw_rules.py: N ACL-like rules the traffic does not
# match, then the one that accepts it (every packet walks all of them in a
# linear classifier); N = 100 and 10000. Modes: stateless (nf-firewall
# `set stateful off`; the nft chain has no ct rule, so Linux's conntrack
# is not even loaded in the namespace) and stateful (a
# `ct state established,related accept` rule first: conntrack on both).
# 64-byte frames, 100 flows, offered as fast as possible, counted at the
# receiver. Scenarios interleaved, REPEAT times; medians and the paired
# ratio (f)/(k).
#
#   bench/firewall.sh [-t SECONDS] [-r REPEAT] [-n "100 10000"] [-m "stateless stateful"]
set -u
cd "$(dirname "$0")/.."
DUR=3 REPEAT=3 RULES="100 10000" MODES="stateless stateful" FLOWS=100 SIZE=60
OUT=build/bench/firewall.json
while getopts "t:r:n:m:f:o:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; n) RULES=$OPTARG ;; m) MODES=$OPTARG ;;
	f) FLOWS=$OPTARG ;; o) OUT=$OPTARG ;;
	*) echo "usage: bench/firewall.sh [-t S] [-r N] [-n RULES] [-m MODES] [-f FLOWS] [-o FILE]" >&2
	   exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
[ -x "$BIN/nf-firewall" ] || { echo "bench: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/nfchain-fbench.XXXXXX)
mkdir -p "$(dirname "$OUT")"
NS=nff$$
FW=
cleanup() {
	[ -n "$FW" ] && kill "$FW" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del nffs0 2>/dev/null; ip link del nffd0 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. bench/lib.sh

for n in $RULES; do
	python3 bench/fw_rules.py "$n" >"$W/stateless-$n.rules"
	python3 bench/fw_rules.py "$n" --stateful >"$W/stateful-$n.rules"
done

# --- (f): nf-firewall, started per rule set ---
start_f() {	# mode rules
	cat >"$W/f.conf" <<EOF
port a memif:$W/a.sock,role=server
port b memif:$W/b.sock,role=server
rules $W/$1-$2.rules
set policy drop
set stateful $([ "$1" = stateful ] && echo on || echo off)
set burst 64
EOF
	taskset -c 1 "$BIN/nf-firewall" -q -c "$W/f.conf" --ctl "$W/f.ctl" &
	FW=$!
	bench_wait "$W/f.ctl"
}
stop_f() { kill "$FW"; wait "$FW" 2>/dev/null; FW=; rm -f "$W/f.ctl"; }
run_f() {	# mode rules
	start_f "$1" "$2"
	taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/a.sock" --rx "memif:$W/b.sock" --burst 64 \
		--src-ip 10.1.0.2 --dst-ip 10.2.0.2 --size "$SIZE" --flows "$FLOWS" \
		--duration "$DUR" --drain 300ms --json >"$W/f.json" 2>/dev/null
	"$BIN/nfchain" vnf "$W/f.ctl" --json stats >"$W/f-stats-$1-$2.json"
	stop_f
	bench_mpps "$W/f.json"
}

# --- (k): Linux forwarding + nftables in a namespace ---
kernel_router "$NS" nffs0 nffd0
run_k() {	# mode rules
	{
		echo "flush ruleset"
		echo "table inet t {"
		echo "  chain c { type filter hook forward priority 0; policy drop; }"
		echo "}"
		sed 's/^/add rule inet t c /' "$W/$1-$2.rules"
	} >"$W/k.nft"
	ip netns exec "$NS" nft -f "$W/k.nft" || { echo "0 0"; return; }
	taskset -c 0 "$BIN/nf-gen" --tx afpacket:nffs0 --rx afpacket:nffd0 \
		--dst-mac "$R0MAC" --src-ip 10.1.0.2 --dst-ip 10.2.0.2 \
		--size "$SIZE" --flows "$FLOWS" --duration "$DUR" --drain 300ms --json \
		>"$W/k.json" 2>/dev/null
	ip netns exec "$NS" nft flush ruleset
	bench_mpps "$W/k.json"
}

declare -A R O
echo "bench/firewall.sh: ${DUR}s trials, $REPEAT repeats, rules $RULES, modes $MODES," \
	"$((SIZE + 4))-byte frames, $FLOWS flows; nf-firewall on CPU 1, nf-gen on CPU 0"
for rep in $(seq "$REPEAT"); do
	for m in $MODES; do
		for n in $RULES; do
			for sc in f k; do
				read -r v o < <(run_$sc "$m" "$n")
				R[$sc,$m,$n]="${R[$sc,$m,$n]:-} $v"
				O[$sc,$m,$n]="${O[$sc,$m,$n]:-} $o"
				printf '  repeat %d %-9s %5d rules (%s) %8s Mpps forwarded, %8s offered\n' \
					"$rep" "$m" "$n" "$sc" "$v" "$o"
			done
		done
	done
done
cp "$W"/f-stats-*.json "$(dirname "$OUT")/" 2>/dev/null

python3 - "$OUT" <<EOF
import json, statistics, sys
R = {}
$(for k in "${!R[@]}"; do echo "R['$k'] = [float(x) for x in '${R[$k]}'.split()]"; done)
keys = sorted({tuple(k.split(',')[1:]) for k in R}, key=lambda x: (x[0], int(x[1])))
out = {'results': {}}
print()
print('%-20s %12s %12s %16s' % ('mode, rules', '(f) Mpps', '(k) Mpps', '(f)/(k) paired'))
for m, n in keys:
    f, k = R['f,%s,%s' % (m, n)], R['k,%s,%s' % (m, n)]
    pairs = [a / b for a, b in zip(f, k) if b > 0]
    rat = statistics.median(pairs) if pairs else float('inf')
    print('%-20s %12.3f %12.3f %15.1fx' % ('%s, %s' % (m, n), statistics.median(f),
                                           statistics.median(k), rat))
    out['results']['%s,%s' % (m, n)] = {'nf_firewall': f, 'nftables': k,
                                        'ratio_median_of_paired': rat, 'paired': pairs}
for m in sorted({k[0] for k in keys}):
    ns = sorted(int(k[1]) for k in keys if k[0] == m)
    if len(ns) >= 2:
        lo, hi = ns[0], ns[-1]
        a = statistics.median(R['f,%s,%d' % (m, lo)])
        b = statistics.median(R['f,%s,%d' % (m, hi)])
        print('%s: nf-firewall %d rules / %d rules: %.2fx the rate' % (m, hi, lo, b / a if a else 0))
json.dump(out, open(sys.argv[1], 'w'), indent=1)
print('results: ' + sys.argv[1])
EOF
