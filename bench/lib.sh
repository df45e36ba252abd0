# bench/lib.sh - pieces the benchmark scripts share (sourced after the
# script set W (work dir), BIN, pids=() and, for bench_loop / bench_report,
# DUR REPEAT SIZES FLOWS SCENARIOS OUT).

# bench_workdir NAME PIDVAR: a scratch directory in $W (/tmp/nfchain-NAME.*),
# removed at exit, after the process whose PID the variable PIDVAR holds
# (if any) is stopped; bench_at_exit, if the script defines it, runs
# first (to keep an output). Ctrl-C exits 130 through the same path.
bench_workdir() {
	W=$(mktemp -d "/tmp/nfchain-$1.XXXXXX")
	printf -v "$2" '%s' ""
	trap "p=\${$2:-}; [ -n \"\$p\" ] && kill \$p 2>/dev/null; wait 2>/dev/null;
	      declare -F bench_at_exit >/dev/null && bench_at_exit; rm -rf \"\$W\"" EXIT
	trap 'exit 130' INT TERM
}

# bench_mpps FILE: "forwarded offered" in Mpps from an nf-gen --json report.
bench_mpps() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["rate"]; print("%.3f %.3f" % (r["rx_pps"]/1e6, r["tx_pps"]/1e6))' "$1"
}

# bench_wait PATH: wait up to 5 s for a control socket.
bench_wait() {
	local i
	for i in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	echo "bench: $1 did not appear" >&2
	return 1
}

# bench_switch MODE BURST: nfswitch with memif ports 0-3 on $W/sw.sock,
# control $W/sw.ctl, pinned to SWITCH_CPU (default 1).
bench_switch() {
	taskset -c "${SWITCH_CPU:-1}" "$BIN/nfswitch" -q --mode "$1" -b "$2" -c "$W/sw.ctl" \
		-p "memif:$W/sw.sock,id=0" -p "memif:$W/sw.sock,id=1" \
		-p "memif:$W/sw.sock,id=2" -p "memif:$W/sw.sock,id=3" &
	pids+=($!)
	bench_wait "$W/sw.ctl"
}

# kernel_router NS SRC DST: the Linux side of a forwarding comparison.
# Namespace NS with veths SRC (host side) -- r0 (NS, 10.1.0.1/16) and DST
# -- r1 (NS, 10.2.0.1/24), IPv4 forwarding on, rp_filter off, a static
# neighbour 10.2.0.2 at DST's MAC, RPS moving r0's receive work to CPU 1
# (the kernel gets the second core as our programs do). Sets R0MAC (r0's
# MAC: the generator sends to it). The caller deletes NS, SRC and DST.
kernel_router() { kernel_chain "$2" "$3" "$1"; }

# kernel_chain SRC DST NS1 [NS2 ...]: kernel_router with a chain of
# namespace routers: SRC -- r0 (NS1, 10.1.0.1/16), NSi r1 (10.100.i.1/24)
# -- r0 (NSi+1, 10.100.i.2/24), ..., NSn r1 (10.2.0.1/24) -- DST. Static
# routes both ways (10.2.0.0/24 forward, 10.1.0.0/16 back) and permanent
# neighbours for every next hop, the two generator addresses included
# (10.1.0.2 at SRC's MAC, 10.2.0.2 at DST's): no ARP during a trial.
# RPS sends NS1 r0's and NSn r1's receive work to CPU 1; the rest of the
# chain runs in that softirq (veth to veth stays on the CPU). Sets R0MAC
# (NS1 r0) and R1MAC (NSn r1). The caller deletes the namespaces, SRC
# and DST.
kernel_chain() {
	local src=$1 dst=$2 d i n ns next
	shift 2
	n=$#
	local nss=("$@")
	for ns in "${nss[@]}"; do
		ip netns add "$ns"
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link add "$src" type veth peer name r0 netns "${nss[0]}"
	for ((i = 0; i < n - 1; i++)); do
		ip -n "${nss[i]}" link add r1 type veth peer name r0 netns "${nss[i + 1]}"
	done
	ip link add "$dst" type veth peer name r1 netns "${nss[n - 1]}"
	for d in "$src" "$dst"; do
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
		ip link set "$d" up
	done
	for ((i = 0; i < n; i++)); do
		ns=${nss[i]}
		ip -n "$ns" link set r0 up
		ip -n "$ns" link set r1 up
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.r0.rp_filter=0 net.ipv4.conf.r1.rp_filter=0
		if [ "$i" -eq 0 ]; then
			ip -n "$ns" addr add 10.1.0.1/16 dev r0
			ip -n "$ns" neigh add 10.1.0.2 lladdr "$(cat "/sys/class/net/$src/address")" \
				dev r0 nud permanent
		else
			ip -n "$ns" addr add "10.100.$i.2/24" dev r0
			ip -n "$ns" route add 10.1.0.0/16 via "10.100.$i.1"
			ip -n "$ns" neigh add "10.100.$i.1" dev r0 nud permanent lladdr \
				"$(ip netns exec "${nss[i - 1]}" cat /sys/class/net/r1/address)"
		fi
		if [ "$i" -eq $((n - 1)) ]; then
			ip -n "$ns" addr add 10.2.0.1/24 dev r1
			ip -n "$ns" neigh add 10.2.0.2 lladdr "$(cat "/sys/class/net/$dst/address")" \
				dev r1 nud permanent
		else
			next=${nss[i + 1]}
			ip -n "$ns" addr add "10.100.$((i + 1)).1/24" dev r1
			ip -n "$ns" route add 10.2.0.0/24 via "10.100.$((i + 1)).2"
			ip -n "$ns" neigh add "10.100.$((i + 1)).2" dev r1 nud permanent lladdr \
				"$(ip netns exec "$next" cat /sys/class/net/r0/address)"
		fi
	done
	ip netns exec "${nss[0]}" sh -c 'echo 2 > /sys/class/net/r0/queues/rx-0/rps_cpus'
	ip netns exec "${nss[n - 1]}" sh -c 'echo 2 > /sys/class/net/r1/queues/rx-0/rps_cpus'
	R0MAC=$(ip netns exec "${nss[0]}" cat /sys/class/net/r0/address)
	R1MAC=$(ip netns exec "${nss[n - 1]}" cat /sys/class/net/r1/address)
}

# kernel_bridge NS SRC DST: a Linux bridge br0 in NS between veths SRC --
# s1 and DST -- d1, the kernel's way to switch (bench/switch.sh (b)):
# a plain bridge (this kernel has br_netfilter built in, which would
# route every bridged frame through iptables: 0.16 vs 0.28 Mpps),
# RPS moving s1's and d1's receive work to CPU 1 (else all of it runs on
# CPU 0 inside the generator's sendto()), and static FDB entries for
# SRC's and DST's MACs: frames are forwarded, not flooded. The caller
# deletes NS, SRC and DST.
kernel_bridge() {
	local ns=$1 src=$2 dst=$3 d
	ip netns add "$ns"
	ip link add "$src" type veth peer name s1 netns "$ns"
	ip link add "$dst" type veth peer name d1 netns "$ns"
	ip -n "$ns" link add br0 type bridge ageing_time 100000
	ip -n "$ns" link set s1 master br0
	ip -n "$ns" link set d1 master br0
	for d in s1 d1 br0 lo; do ip -n "$ns" link set "$d" up; done
	for d in "$src" "$dst"; do
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
		ip link set "$d" up
	done
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0
	ip netns exec "$ns" sh -c 'echo 2 > /sys/class/net/s1/queues/rx-0/rps_cpus;
		echo 2 > /sys/class/net/d1/queues/rx-0/rps_cpus'
	ip netns exec "$ns" bridge fdb add "$(cat "/sys/class/net/$dst/address")" dev d1 master static
	ip netns exec "$ns" bridge fdb add "$(cat "/sys/class/net/$src/address")" dev s1 master static
}

# bench_ceiling PREFIX: scenario (c), the feed's ceiling: nf-gen over a
# bare veth pair PREFIXc0 -- PREFIXc1 (RPS on the receiver as in (k)),
# no forwarding. Defines run_c SIZE FLOWS (pauses $pids meanwhile). Uses
# GEN_SRC / GEN_DST when set. The caller deletes PREFIXc0.
bench_ceiling() {
	CEIL=$1
	ip link add "${CEIL}c0" type veth peer name "${CEIL}c1"
	for d in "${CEIL}c0" "${CEIL}c1"; do
		sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"
		ip link set "$d" up
	done
	echo 2 >"/sys/class/net/${CEIL}c1/queues/rx-0/rps_cpus"
	run_c() {
		[ ${#pids[@]} -gt 0 ] && kill -STOP "${pids[@]}"
		taskset -c 0 "$BIN/nf-gen" --tx "afpacket:${CEIL}c0" --rx "afpacket:${CEIL}c1" \
			--dst-mac 02:00:00:00:0c:01 --src-ip "${GEN_SRC:-10.1.0.2}" \
			--dst-ip "${GEN_DST:-10.2.0.2}" --size "$1" --flows "$2" --duration "$DUR" \
			--drain 300ms --json >"$W/c.json" 2>/dev/null
		[ ${#pids[@]} -gt 0 ] && kill -CONT "${pids[@]}"
		bench_mpps "$W/c.json"
	}
}

# bench_loop: every scenario of SCENARIOS (run_X SIZE FLOWS prints
# "forwarded offered") for every size and flow count, interleaved, REPEAT
# times; results in the associative arrays R and O (key "X,SIZE,FLOWS").
bench_loop() {
	declare -gA R O
	local rep s f sc v o
	for rep in $(seq "$REPEAT"); do
		for s in $SIZES; do
			for f in $FLOWS; do
				for sc in $SCENARIOS; do
					read -r v o < <("run_$sc" "$s" "$f")
					R[$sc,$s,$f]="${R[$sc,$s,$f]:-} $v"
					O[$sc,$s,$f]="${O[$sc,$s,$f]:-} $o"
					printf '  repeat %d size %4d flows %6d (%s) %8s Mpps forwarded, %8s offered\n' \
						"$rep" "$s" "$f" "$sc" "$v" "$o"
				done
			done
		done
	done
}

# bench_report NAME_R NAME_K: medians of R, the paired ratios (r)/(k) and
# (r)/(c) per size and flow count; JSON into OUT with the given names.
bench_report() {
	local k
	{
		for k in "${!R[@]}"; do
			echo "R['$k'] = [float(x) for x in '${R[$k]}'.split()]"
			echo "O['$k'] = [float(x) for x in '${O[$k]}'.split()]"
		done
	} >"$W/report.py"
	python3 - "$OUT" "$1" "$2" "$W/report.py" <<'EOF'
import json, statistics, sys
R, O = {}, {}
exec(open(sys.argv[4]).read())
nr, nk = sys.argv[2], sys.argv[3]
keys = sorted({tuple(map(int, k.split(',')[1:])) for k in R})
sc = sorted({k.split(',')[0] for k in R})
out = {'results': {}, 'ratio_r_k': {}, 'ratio_r_c': {}}
def med_ratio(a, b):
    p = [x / y for x, y in zip(a, b) if y > 0]
    return (statistics.median(p) if p else float('inf')), p
print()
print('%-24s %10s %10s %10s %14s %14s' % ('size (RFC 2544), flows', '(r) Mpps', '(k) Mpps',
                                           '(c) Mpps', '(r)/(k) paired', '(r)/(c) paired'))
for s, f in keys:
    g = {x: R.get('%s,%d,%d' % (x, s, f), []) for x in 'rkc'}
    rk, pk = med_ratio(g['r'], g['k'])
    rc, pc = med_ratio(g['r'], g['c'])
    med = {x: (statistics.median(v) if v else 0.0) for x, v in g.items()}
    print('%-24s %10.3f %10.3f %10.3f %13.2fx %13.2fx' % ('%4d B, %6d flows' % (s + 4, f),
          med['r'], med['k'], med['c'], rk, rc))
    key = '%d,%d' % (s + 4, f)
    out['results'][key] = {nr: g['r'], nk: g['k'], 'feed_ceiling': g['c'],
                           'offered': {x: O.get('%s,%d,%d' % (x, s, f), []) for x in sc}}
    out['ratio_r_k'][key] = {'median_of_paired': rk, 'paired': pk}
    out['ratio_r_c'][key] = {'median_of_paired': rc, 'paired': pc}
json.dump(out, open(sys.argv[1], 'w'), indent=1)
print('results: ' + sys.argv[1])
EOF
}

# veth_ns NS HOST PEER: namespace NS with a veth HOST (here) -- PEER (in NS),
# both up, IPv6 off (no neighbour discovery in the measured traffic). The
# caller deletes NS and HOST.
veth_ns() {
	ip netns add "$1" &&
	ip link add "$2" type veth peer name "$3" netns "$1" &&
	sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" &&
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
	ip link set "$2" up &&
	ip -n "$1" link set "$3" up
}

# bench_tr_opts NAME DUR REPEAT ARGS...: the options -t SECONDS -r REPEAT
# (positive integers; defaults DUR and REPEAT) into DUR and REPEAT; BIN
# defaults to build/release/bin, which must be built.
bench_tr_opts() {
	local name=$1 o OPTIND=1
	DUR=$2 REPEAT=$3
	shift 3
	while getopts "t:r:" o; do
		case $o in
		t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;;
		*) echo "usage: bench/$name [-t SECONDS] [-r REPEAT]" >&2; exit 2 ;;
		esac
	done
	[[ "$DUR$REPEAT" =~ ^[0-9]+$ && "$DUR" -gt 0 && "$REPEAT" -gt 0 ]] ||
		{ echo "bench/$name: -t and -r take positive integers" >&2; exit 2; }
	BIN=${BIN:-$PWD/build/release/bin}
	[ -x "$BIN/nf-firewall" ] || { echo "bench: build first (make)" >&2; exit 1; }
}
