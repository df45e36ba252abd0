# chain_srv6.sh - the issue's service chain, steered by SRv6 in one nfswitch:
#
#   client (namespace C, 10.1.0.2-5) --afpacket--> nfswitch
#     rule: srv6-encap R,N,F,E
#     R  End.AD, group rt  (1 member: nf-router, lan in / wan back)
#     N  End.AD, group nat (nf-nat, inside in / outside back)
#     F  End.AD, group fw  (TWO nf-firewall replicas, stateful, policy drop)
#     E  End.DX4 to the server's port
#   --afpacket--> server (namespace S, 203.0.113.2)
#   and back: rule srv6-encap F',N',R',E' (proxies with `reverse`: in by
#   the member's RETURN port, back by its PORT; E' End.DX4 to the client).
#
# The VNFs are memif clients of the switch (ports 2..9); client and server
# are raw sockets on veths (tests/tools/pkt.py). 100 UDP flows cross the
# chain both ways; every datagram must arrive translated by the NAT,
# every reply untranslated, each flow's packets must visit the same
# firewall replica both ways (the firewalls' conntrack: one entry per flow,
# one packet each way, and policy drop would kill a reply that reached the
# other replica). Then `del-member fw 1`: the same flows again, and exactly
# the flows of replica 1 change replica (counted, printed); replica 0's
# flows keep their conntrack entries there. The Python half: chain_srv6.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
DIR=$(cd "$(dirname "$0")" && pwd)

netns SW sw && netns C c && netns S s || { not_ok "namespaces"; exit 1; }
CMAC=02:00:00:00:c5:01 SMAC=02:00:00:00:c5:02
RT_LAN=02:00:00:00:c5:11 RT_WAN=02:00:00:00:c5:12
setup() {
	local x
	for x in "$SW" "$C" "$S"; do
		ip netns exec "$x" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip link add pc netns "$SW" type veth peer name c0 netns "$C" address "$CMAC" &&
	ip link add ps netns "$SW" type veth peer name s0 netns "$S" address "$SMAC" || return 1
	for x in "$SW:pc" "$SW:ps" "$C:c0" "$S:s0"; do
		ip -n "${x%%:*}" link set "${x#*:}" up || return 1
	done
}
check "namespaces: client and server on veths into the switch's namespace" setup

SOCK=$T/sw.sock
M() { echo "memif:$SOCK,id=$1"; }
# nfswitch ports: 0 afpacket:pc (client), 1 afpacket:ps (server), then
# memif ids 0..7 as ports 2..9: router lan/wan, nat in/out, fw0 in/out,
# fw1 in/out (steering names them by index: shorter than their memif specs).
cat >"$T/steer" <<EOF
# proxies: member PORT/RETURN, the router's with @MAC/RMAC (an L3 hop:
# forward frames go into its lan port with the lan MAC, the reverse
# proxies send into its wan port with the wan MAC)
group rt 2/3@$RT_LAN/$RT_WAN
group nat 4/5
group fw 6/7 8/9
srv6-source fc00:e::100
sid fc00:e::1 End.AD group rt
sid fc00:e::2 End.AD group nat
sid fc00:e::3 End.AD group fw
sid fc00:e::4 End.DX4 1 $SMAC
sid fc00:e::11 End.AD group rt reverse
sid fc00:e::12 End.AD group nat reverse
sid fc00:e::13 End.AD group fw reverse
sid fc00:e::14 End.DX4 0 $CMAC
rule id 1 in-port 0 ip daddr 203.0.113.0/24 action srv6-encap fc00:e::1,fc00:e::2,fc00:e::3,fc00:e::4
rule id 2 in-port 1 ip daddr 198.51.100.0/24 action srv6-encap fc00:e::13,fc00:e::12,fc00:e::11,fc00:e::14
EOF
spawn ip netns exec "$SW" "$BIN/nfswitch" -q -m intr -c "$T/sw.ctl" -S "$T/steer" \
	-p afpacket:pc -p afpacket:ps $(for i in 0 1 2 3 4 5 6 7; do echo "-p $(M $i)"; done)
SWPID=$SPAWNED
wait_for "$T/sw.ctl" 10 || { not_ok "nfswitch starts with the chain's steering"; exit 1; }

cat >"$T/router.conf" <<EOF
port lan $(M 0) mac $RT_LAN
port wan $(M 1) mac $RT_WAN
address lan 10.1.0.1/24
address wan 10.2.0.1/24
route 203.0.113.0/24 via 10.2.0.254
neighbor wan 10.2.0.254 02:00:00:00:c5:fe
neighbor lan 10.1.0.2 $CMAC
neighbor lan 10.1.0.3 $CMAC
neighbor lan 10.1.0.4 $CMAC
neighbor lan 10.1.0.5 $CMAC
set mode intr
EOF
cat >"$T/nat.conf" <<EOF
port in $(M 2)
port out $(M 3)
inside in
outside out
pool 198.51.100.1 ports 1024-65535
set mode intr
EOF
printf '%s\n' 'ct state established,related accept' 'ct state invalid drop' \
	'iifname fin udp dport 7000 accept' 'counter drop' >"$T/fw.rules"
for r in 0 1; do
	cat >"$T/fw$r.conf" <<EOF
port fin $(M $((4 + 2 * r)))
port fout $(M $((5 + 2 * r)))
rules $T/fw.rules
set policy drop
set mode intr
EOF
done
spawn "$BIN/nf-router" -q -c "$T/router.conf" --ctl "$T/router.ctl"; VNF=("nf-router $SPAWNED")
spawn "$BIN/nf-nat" -q -c "$T/nat.conf" --ctl "$T/nat.ctl"; VNF+=("nf-nat $SPAWNED")
spawn "$BIN/nf-firewall" -q -c "$T/fw0.conf" --ctl "$T/fw0.ctl"; VNF+=("nf-firewall-0 $SPAWNED")
spawn "$BIN/nf-firewall" -q -c "$T/fw1.conf" --ctl "$T/fw1.ctl"; VNF+=("nf-firewall-1 $SPAWNED")
started=1
for c in router nat fw0 fw1; do wait_for "$T/$c.ctl" 10 || started=0; done
check "nf-router, nf-nat and two nf-firewall replicas start" test "$started" = 1
# every memif port of the switch connected
up=0
for i in $(seq 50); do
	up=$("$BIN/nfchain" switch --ctl "$T/sw.ctl" --json ports | python3 -c '
import json, sys
print(sum(1 for p in json.load(sys.stdin)["ports"] if p["name"].startswith("memif") and p.get("up")))')
	[ "$up" = 8 ] && break
	sleep 0.1
done
check_eq "the 8 VNF ports are connected to nfswitch" 8 "$up"

BIN="$BIN" T="$T" python3 "$DIR/chain_srv6.py" --c "$C" --s "$S" --sw-ctl "$T/sw.ctl" \
	--nfchain "$BIN/nfchain" --cmac "$CMAC" --smac "$SMAC"
rc=$?
[ "$rc" = 0 ] || not_ok "chain_srv6.py exited with $rc"
for v in "${VNF[@]}"; do stop_clean ${v% *} "${v#* }"; done
stop_clean nfswitch "$SWPID"
exit 0
