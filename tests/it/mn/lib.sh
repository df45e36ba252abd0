# mn/lib.sh - the 3-node SRv6 underlay on one machine (sourced; needs bash,
# iproute2, root). Used by tests/it/multinode_srv6.sh and bench/multinode.sh.
#
#   mn-n1 --up0-- n1 [mn-r1] r2 --- r1 [mn-r2] n3 --up0-- mn-n3
#   mn-n2 --up0-- n2 [mn-r1]
#
# Node N (mn-nN): uplink up0 fd00:ff:N::2/64, SID locator fc00:0:N::/48,
# SRv6 source fc00:0:N::1. Routers (mn-r1, mn-r2): IPv6 forwarding;
# r1-r2: fd00:ff:12::1 / ::2. How the routers reach the locators:
#
# MN_ROUTING=static (the default): a static route per locator toward its
# node, and a permanent neighbour for each node's up0 (nfswitch owns up0
# through AF_XDP: nobody answers Neighbor Solicitations there).
#
# MN_ROUTING=bird: the node's kernel shares the uplink (nfchain node
# --kernel afpacket:kern1): a veth pair kern0 (the kernel's side, up0's
# MAC, fd00:ff:N::2/64; up0 has no IPv6) and kern1 (the switch's side).
# BIRD 2 runs in every router and node namespace (config, control socket,
# pid file and log in $MN_RUN/rR or nN: bird.conf, bird.ctl, bird.pid,
# bird.log), OSPFv3 area 0 on every underlay link (point-to-point, hello
# 1 s, dead 3 s); a node announces its locator (a static unreachable
# route, an external LSA), the routers put what they learn in their
# kernel table (proto bird). A node's announcement reaches the routers
# once its switch forwards between up0 and kern1: mn_routes_ready
# [SECONDS] waits until both routers have a route to every locator.
#
# Management: mn-mgmt holds bridge br0; every node has mgmt0 10.99.0.N/24,
# etcd namespaces mn-e1..mn-e3 have mgmt0 10.99.0.11..13, and the root
# namespace has mn-mgmt0 10.99.0.254 (a controller can run there).
#
# MACs are fixed (a test can write them into steering files before the
# switches run): MN_UPMAC_N (node N's up0), MN_RMAC_N (the router's side
# facing node N); mn_topo_up exports them and mn_topo_print shows them.
#
# mn_switch N PORTS [ARGS...]: nfswitch in mn-nN with PORTS memif ports
# (ids 0..PORTS-1, indices 0..PORTS-1) on $MN_RUN/nN/sw.sock, control
# socket $MN_RUN/nN/sw.ctl, then the AF_XDP port on up0 added under the
# name `uplink` (a -p spec is named by its spec; add-port names it).
# MN_UPLINK: options for the AF_XDP spec (mode=copy,rsize=13).
# mn_uplink_rules N: the steering lines that send every other locator's
# SIDs out of the uplink to the router's MAC.
#
# MN (default "mn") prefixes every name; MN_RUN (default $T/mn) holds the
# per-node run directories; MN_HOST=0: no link from the root namespace.
# mn_topo_down kills what runs in the namespaces and deletes them, also
# what a crashed run left (mn_topo_up calls it first).

MN=${MN:-mn}
MN_RUN=${MN_RUN:-${T:-/tmp}/$MN}
MN_NODES="1 2 3"
MN_ROUTING=${MN_ROUTING:-static}
MN_DEAD_S=3	# OSPF dead interval (MN_ROUTING=bird)

mn_upmac() { printf '02:6d:6e:00:%02x:02' "$1"; }
mn_rmac() { printf '02:6d:6e:00:%02x:01' "$1"; }
# mn_lladdr MAC: the EUI-64 link-local address Linux gives an interface
mn_lladdr() {
	local m
	IFS=: read -r -a m <<<"$1"
	printf 'fe80::%x:%x:%x:%x\n' $(((0x${m[0]} ^ 2) << 8 | 0x${m[1]})) \
		$((0x${m[2]} << 8 | 0xff)) $((0xfe00 | 0x${m[3]})) $((0x${m[4]} << 8 | 0x${m[5]}))
}
# the router a node hangs off (its interface there is named nN)
mn_router_of() { [ "$1" = 3 ] && echo 2 || echo 1; }

mn_topo_down() {
	local ns p
	for ns in $(ip netns list 2>/dev/null | awk -v p="^$MN-" '$1 ~ p { print $1 }'); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	# give killed switches a moment to detach their XDP programs
	for ns in $(ip netns list 2>/dev/null | awk -v p="^$MN-" '$1 ~ p { print $1 }'); do
		for p in $(seq 20); do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.1
		done
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	ip link del "$MN-mgmt0" 2>/dev/null
	rm -rf "$MN_RUN"
	return 0
}

# _mn_ns NS: a namespace with loopback up, no DAD, IPv6 on.
_mn_ns() {
	ip netns add "$1" && ip -n "$1" link set lo up &&
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0
}

# _mn_veth NS_A IF_A MAC_A NS_B IF_B MAC_B: a veth pair, both ends up.
_mn_veth() {
	ip link add "$2" netns "$1" address "$3" type veth \
		peer name "$5" netns "$4" address "$6" &&
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

# _mn_mgmt NS IP: NS's mgmt0 on the management bridge with IP/24.
_mn_mgmt() {
	local port=${1#"$MN"-}
	ip link add mgmt0 netns "$1" type veth peer name "$port" netns "$MN-mgmt" &&
	ip -n "$MN-mgmt" link set "$port" master br0 up &&
	ip -n "$1" addr add "$2/24" dev mgmt0 && ip -n "$1" link set mgmt0 up
}

# _mn_bird rR|nN ROUTER_ID: BIRD in that namespace, its files in
# $MN_RUN/rR|nN. A router runs OSPF on all its links (nN, rR) and
# exports what it learns to its kernel; a node runs it on kern0 and
# exports its locator only (its switch, not its kernel, forwards SIDs).
_mn_bird() {
	local d=$MN_RUN/$1 ifs=\"kern0\" ospf_export='where source = RTS_STATIC'
	mkdir -p "$d" || return 1
	{
		printf 'router id %s;\nlog "%s" all;\n' "$2" "$d/bird.log"
		echo 'protocol device { scan time 2; }'
		case $1 in
		r*)
			ifs='"n*", "r*"' ospf_export=none
			echo 'protocol kernel { ipv6 { import none; export all; }; }'
			;;
		n*)
			echo "protocol static { ipv6; route fc00:0:${1#n}::/48 unreachable; }"
			;;
		esac
		echo "protocol ospf v3 {
	debug { states, events };
	ipv6 { import all; export $ospf_export; };
	area 0 {
		interface $ifs { type ptp; hello 1; dead $MN_DEAD_S; retransmit 2; };
	};
}"
	} >"$d/bird.conf"
	ip netns exec "$MN-$1" bird -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid"
}

# mn_birdc rR|nN CMD...: birdc on that namespace's BIRD.
mn_birdc() { local d=$MN_RUN/$1; shift; birdc -s "$d/bird.ctl" "$@"; }

# mn_routes_ready [SECONDS]: until both routers have a kernel route to
# every locator (default 20 s); 1 if they do not by then.
mn_routes_ready() {
	local i r n miss
	for ((i = 0; i < ${1:-20} * 10; i++)); do
		miss=0
		for r in 1 2; do
			for n in $MN_NODES; do
				[ -n "$(ip -n "$MN-r$r" -6 route show "fc00:0:$n::/48")" ] || miss=1
			done
		done
		[ "$miss" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

mn_topo_up() {
	local n r e
	case $MN_ROUTING in
	static | bird) ;;
	*) echo "mn_topo_up: MN_ROUTING=$MN_ROUTING: static or bird" >&2; return 1 ;;
	esac
	mn_topo_down
	mkdir -p "$MN_RUN" || return 1
	for n in $MN_NODES; do
		_mn_ns "$MN-n$n" || return 1
		mkdir -p "$MN_RUN/n$n" || return 1
	done
	for r in 1 2; do
		_mn_ns "$MN-r$r" &&
		ip netns exec "$MN-r$r" sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
	done
	for n in $MN_NODES; do
		r=$(mn_router_of "$n")
		_mn_veth "$MN-n$n" up0 "$(mn_upmac "$n")" "$MN-r$r" "n$n" "$(mn_rmac "$n")" &&
		ip -n "$MN-r$r" addr add "fd00:ff:$n::1/64" dev "n$n" nodad || return 1
		eval "export MN_UPMAC_$n=$(mn_upmac "$n") MN_RMAC_$n=$(mn_rmac "$n")"
		if [ "$MN_ROUTING" = bird ]; then
			# up0 is the switch's alone: its kernel side would send
			# MLD and solicitations with kern0's link-local address
			ip netns exec "$MN-n$n" sysctl -qw net.ipv6.conf.up0.disable_ipv6=1 &&
			_mn_veth "$MN-n$n" kern0 "$(mn_upmac "$n")" "$MN-n$n" kern1 \
				"$(printf '02:6d:6e:00:%02x:03' "$n")" &&
			ip netns exec "$MN-n$n" sysctl -qw net.ipv6.conf.kern1.disable_ipv6=1 &&
			ip -n "$MN-n$n" addr add "fd00:ff:$n::2/64" dev kern0 nodad || return 1
			continue
		fi
		ip -n "$MN-n$n" addr add "fd00:ff:$n::2/64" dev up0 nodad &&
		ip -n "$MN-r$r" neigh replace "fd00:ff:$n::2" lladdr "$(mn_upmac "$n")" \
			dev "n$n" nud permanent &&
		ip -n "$MN-r$r" route add "fc00:0:$n::/48" via "fd00:ff:$n::2" || return 1
	done
	_mn_veth "$MN-r1" r2 02:6d:6e:00:12:01 "$MN-r2" r1 02:6d:6e:00:12:02 &&
	ip -n "$MN-r1" addr add fd00:ff:12::1/64 dev r2 nodad &&
	ip -n "$MN-r2" addr add fd00:ff:12::2/64 dev r1 nodad || return 1
	if [ "$MN_ROUTING" = bird ]; then
		for r in 1 2; do _mn_bird "r$r" "10.255.1.$r" || return 1; done
		for n in $MN_NODES; do _mn_bird "n$n" "10.255.0.$n" || return 1; done
	else
		ip -n "$MN-r1" route add fc00:0:3::/48 via fd00:ff:12::2 &&
		ip -n "$MN-r2" route add fc00:0:1::/48 via fd00:ff:12::1 &&
		ip -n "$MN-r2" route add fc00:0:2::/48 via fd00:ff:12::1 || return 1
	fi

	_mn_ns "$MN-mgmt" &&
	ip -n "$MN-mgmt" link add br0 type bridge &&
	ip -n "$MN-mgmt" link set br0 up || return 1
	for n in $MN_NODES; do
		_mn_mgmt "$MN-n$n" "10.99.0.$n" || return 1
	done
	for e in 1 2 3; do
		_mn_ns "$MN-e$e" && _mn_mgmt "$MN-e$e" "10.99.0.1$e" || return 1
	done
	[ "${MN_HOST:-1}" = 1 ] || return 0
	ip link add "$MN-mgmt0" type veth peer name host netns "$MN-mgmt" &&
	ip -n "$MN-mgmt" link set host master br0 up &&
	ip addr add 10.99.0.254/24 dev "$MN-mgmt0" && ip link set "$MN-mgmt0" up
}

mn_topo_print() {
	local n
	for n in $MN_NODES; do
		printf '%s-n%s: up0 %s fd00:ff:%s::2, router %s-r%s side %s, locator fc00:0:%s::/48, mgmt 10.99.0.%s\n' \
			"$MN" "$n" "$(mn_upmac "$n")" "$n" "$MN" "$(mn_router_of "$n")" \
			"$(mn_rmac "$n")" "$n" "$n"
	done
	echo "etcd namespaces $MN-e1..$MN-e3: 10.99.0.11..13; root namespace: $MN-mgmt0 10.99.0.254"
	[ "$MN_ROUTING" = static ] ||
		echo "routing: OSPFv3 (BIRD), the nodes' addresses on kern0 (the switch's side kern1)"
}

mn_uplink_rules() {
	local m
	for m in $MN_NODES; do
		[ "$m" = "$1" ] && continue
		echo "rule id $((9000 + m)) priority 200 ip6 daddr fc00:0:$m::/48 action set-dst-mac $(mn_rmac "$1") output uplink"
	done
}

mn_ctl() { local n=$1; shift; "$BIN/nfchain" switch --ctl "$MN_RUN/n$n/sw.ctl" "$@"; }

# mn_switch N PORTS [NFSWITCH ARGS...]: sets MN_SWPID (the switch's pid,
# the `ip netns exec` process: it execs nfswitch).
mn_switch() {
	local n=$1 ports=$2 i args=()
	shift 2
	for ((i = 0; i < ports; i++)); do
		args+=(-p "memif:$MN_RUN/n$n/sw.sock,id=$i")
	done
	ip netns exec "$MN-n$n" "$BIN/nfswitch" -q -c "$MN_RUN/n$n/sw.ctl" "${args[@]}" "$@" \
		>"$MN_RUN/n$n/sw.log" 2>&1 &
	MN_SWPID=$!
	for i in $(seq 100); do
		mn_ctl "$n" ports >/dev/null 2>&1 && break
		sleep 0.1
	done
	mn_ctl "$n" add-port "afxdp:up0${MN_UPLINK:+,$MN_UPLINK}" uplink >/dev/null
}

# mn_memif_up N COUNT [SECONDS]: wait until COUNT of node N's memif ports
# are connected (a VNF's control socket appears before its ports are up).
mn_memif_up() {
	local i up
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		up=$(mn_ctl "$1" --json ports | python3 -c '
import json, sys
print(sum(1 for p in json.load(sys.stdin)["ports"] if p["type"] == "memif" and p.get("up")))')
		[ "$up" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# mn_steering N: the lines every node's steering ends with: its SRv6
# source, the other locators out of the uplink, and a drop for whatever
# else comes in from the uplink (the router's NDP and MLD, a SID that is
# not here).
mn_steering() {
	echo "srv6-source fc00:0:$1::1"
	mn_uplink_rules "$1"
	echo "rule id 9100 priority 300 in-port uplink action drop"
}

# mn_vnf_confs DIR MODE RT_LAN RT_WAN NAT_IN NAT_OUT FW_IN FW_OUT [LINE]: the
# chain's VNF configurations (examples/router-nat-fw.yaml's router, NAT
# and firewall) in DIR/router.conf, nat.conf, fw.conf, fw.rules, their
# ports the memif specs given; MODE is the VNFs' poll mode, LINE one more
# line for each (`set burst 64`). The router's
# sides have the MACs MN_RT_LAN and MN_RT_WAN (group router's @MAC/RMAC).
MN_RT_LAN=02:00:00:00:c5:11 MN_RT_WAN=02:00:00:00:c5:12
mn_vnf_confs() {
	local d=$1 mode=$2
	printf '%s\n' "port lan $3 mac $MN_RT_LAN" "port wan $4 mac $MN_RT_WAN" \
		"address lan 10.1.0.1/16" "address wan 10.2.0.1/24" \
		"route 203.0.113.0/24 via 10.2.0.254" \
		"neighbor wan 10.2.0.254 02:00:00:00:c5:fe" "set mode $mode" "${9:-}" >"$d/router.conf"
	printf '%s\n' "port in $5" "port out $6" "inside in" "outside out" \
		"pool 198.51.100.1 ports 1024-65535" "set mode $mode" "${9:-}" >"$d/nat.conf"
	printf '%s\n' 'ct state established,related accept' 'ct state invalid drop' \
		'iifname fin udp dport 1024 accept' 'counter drop' >"$d/fw.rules"
	printf '%s\n' "port fin $7" "port fout $8" "rules $d/fw.rules" "set policy drop" \
		"set mode $mode" "${9:-}" >"$d/fw.conf"
}

# mn_drops: where frames were lost: each node switch's ports with drops
# (by reason; the uplink's XDP ring counters), each router interface with
# kernel drops. One line per place, none when nothing was lost.
mn_drops() {
	local n r
	for n in $MN_NODES; do
		mn_ctl "$n" --json ports 2>/dev/null | python3 -c '
import json, re, sys
for p in json.load(sys.stdin)["ports"]:
    d = {k: v for k, v in p["drops"].items() if v}
    d.update({k: int(v) for k, v in re.findall(r"(rx_dropped|rx_ring_full|fill_empty)=(\d+)", p["detail"]) if int(v)})
    if d:
        print("n%s %s: %s" % (sys.argv[1], p["name"].split("/")[-1], " ".join("%s=%d" % x for x in sorted(d.items()))))' "$n"
	done
	for r in 1 2; do
		ip -n "$MN-r$r" -s -j link 2>/dev/null | python3 -c '
import json, sys
for l in json.load(sys.stdin):
    s = l.get("stats64", {})
    d = {"rx_dropped": s.get("rx", {}).get("dropped", 0), "tx_dropped": s.get("tx", {}).get("dropped", 0)}
    d = {k: v for k, v in d.items() if v}
    if d:
        print("r%s %s: %s" % (sys.argv[1], l["ifname"], " ".join("%s=%d" % x for x in sorted(d.items()))))' "$r"
	done
}
