# router_linux.sh - differential test: nf-router against Linux forwarding.
#
# Two identical topologies, each three network namespaces:
#
#     H1 (h1) ---veth--- (r1) R (r2) ---veth--- (h2) H2
#                  10.1.0.0/24            10.2.0.0/24
#                  fd01::/64              fd02::/64, MTU 1400
#
#   a: R is Linux (ip_forward, IPv6 forwarding, the addresses, routes and
#      static neighbours below);
#   b: R runs nf-router on afpacket:r1 and afpacket:r2, configured with
#      the same addresses, routes and static neighbours; the kernel of R
#      itself has IPv6 disabled, no addresses, no forwarding.
# The router ports have the same MAC addresses in both topologies (so are
# the IPv6 link-local addresses derived from them), and so have the hosts:
# no MAC normalisation is needed. The hosts have no IP stack (IPv6
# disabled, no addresses, no forwarding): they are raw AF_PACKET sockets
# held by tests/it/router_diff.py, which sends each crafted frame from H1
# into both routers and compares what came back to H1 and what reached H2.
# Every neighbour the routers need is static (permanent), so neither
# router ever sends ARP or neighbour solicitations except for the probes
# that ask for it (destinations on H2's network that nobody answers for).
#
# The packet list, the normalisations and the remaining, explained
# differences are in router_diff.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

MAC_H1=02:00:00:00:01:02; MAC_R1=02:00:00:00:01:01
MAC_H2=02:00:00:00:02:02; MAC_R2=02:00:00:00:02:01

# Namespaces (netns registers the cleanup; not in $(...): that would lose it).
for n in h1a ra h2a h1b rb h2b; do netns _ns "$n"; done
H1A=${NS_PREFIX}h1a RA=${NS_PREFIX}ra H2A=${NS_PREFIX}h2a
H1B=${NS_PREFIX}h1b RB=${NS_PREFIX}rb H2B=${NS_PREFIX}h2b

# Hosts: no IPv6 (no DAD, MLD, RS), no IPv4 forwarding, no addresses.
for ns in "$H1A" "$H2A" "$H1B" "$H2B" "$RB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
done
# Linux router: forwarding; no DAD (the addresses are usable at once and
# nothing is sent for them); no automatic flow labels on what it sends
# itself (they are a keyed hash: random); no reverse-path filter; ICMP
# rate limits left at their defaults (each ICMP-causing probe has its own
# source address, so the per-destination limits never bite).
ip netns exec "$RA" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv6.conf.default.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
	net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.accept_ra=0 \
	net.ipv6.conf.default.router_solicitations=0 net.ipv6.auto_flowlabels=0 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.all.accept_source_route=0 net.ipv4.conf.default.accept_source_route=0

for topo in "$H1A:$RA:$H2A" "$H1B:$RB:$H2B"; do
	IFS=: read -r h1 r h2 <<<"$topo"
	ip -n "$r" link add r1 address "$MAC_R1" type veth peer name h1 address "$MAC_H1" netns "$h1"
	ip -n "$r" link add r2 address "$MAC_R2" mtu 1400 type veth \
		peer name h2 address "$MAC_H2" mtu 1400 netns "$h2"
	for x in "$h1:h1" "$h2:h2" "$r:r1" "$r:r2"; do
		IFS=: read -r ns dev <<<"$x"
		# What is sent is sent as built: no checksum or segmentation
		# left to "the hardware", no GRO on receive.
		ip netns exec "$ns" ethtool -K "$dev" tx off gro off >/dev/null 2>&1
		ip -n "$ns" link set "$dev" up
	done
done

# Static neighbours: the hosts, and the source address of every probe
# (router_diff.py gives each ICMP-causing probe its own source).
{
	echo "lan 10.1.0.2 $MAC_H1"; echo "lan fd01::2 $MAC_H1"; echo "lan fe80::2 $MAC_H1"
	echo "wan 10.2.0.2 $MAC_H2"; echo "wan fd02::2 $MAC_H2"
	for i in $(seq 10 199); do
		echo "lan 10.1.0.$i $MAC_H1"; echo "lan fd01::$i $MAC_H1"; echo "lan fe80::$i $MAC_H1"
	done
} >"$T/neigh"

# a: Linux.
{
	echo "addr add 10.1.0.1/24 dev r1"
	echo "addr add fd01::1/64 dev r1 nodad"
	echo "addr add 10.2.0.1/24 dev r2"
	echo "addr add fd02::1/64 dev r2 nodad"
	echo "route add 10.3.0.0/16 via 10.2.0.2"
	echo "route add fd03::/64 via fd02::2"
	echo "route add 10.4.0.0/16 via 10.1.0.10"
	echo "route add fd04::/64 via fd01::10"
	echo "route add unreachable 10.9.0.0/16"
	echo "route add unreachable fd09::/64"
	echo "route add blackhole 10.8.0.0/16"
	echo "route add blackhole fd08::/64"
	while read -r port ip mac; do
		dev=r1; [ "$port" = wan ] && dev=r2
		echo "neigh replace $ip lladdr $mac dev $dev nud permanent"
	done <"$T/neigh"
} >"$T/linux.batch"
if ! ip -n "$RA" -batch "$T/linux.batch" >"$T/linux.err" 2>&1; then
	not_ok "Linux router configured: $(head -3 "$T/linux.err" | tr '\n' '|')"
	exit 1
fi

# b: nf-router, same addresses, routes and neighbours.
{
	echo "port lan afpacket:r1 mac $MAC_R1"
	echo "port wan afpacket:r2 mac $MAC_R2 mtu 1400"
	echo "address lan 10.1.0.1/24"
	echo "address lan fd01::1/64"
	echo "address wan 10.2.0.1/24"
	echo "address wan fd02::1/64"
	echo "route 10.3.0.0/16 via 10.2.0.2"
	echo "route fd03::/64 via fd02::2"
	echo "route 10.4.0.0/16 via 10.1.0.10"
	echo "route fd04::/64 via fd01::10"
	echo "route 10.9.0.0/16 reject"
	echo "route fd09::/64 reject"
	echo "route 10.8.0.0/16 blackhole"
	echo "route fd08::/64 blackhole"
	sed 's/^/neighbor /' "$T/neigh"
} >"$T/router.conf"
ip netns exec "$RB" "$BIN/nf-router" -q -c "$T/router.conf" --ctl "$T/rb.ctl" \
	>"$T/router.log" 2>&1 &
RPID=$!
cleanup "kill $RPID; wait $RPID"
if ! wait_for "$T/rb.ctl" 10; then
	not_ok "nf-router starts: $(head -3 "$T/router.log" | tr '\n' '|')"
	exit 1
fi

python3 "$(dirname "$0")/router_diff.py" --h1a "$H1A" --h2a "$H2A" --h1b "$H1B" \
	--h2b "$H2B" --ctl "$T/rb.ctl" --out "$T"
rc=$?	# 1: it printed its "not ok" lines; anything else unexpected
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "router_diff.py exited with status $rc"
# What nf-router counted, for the log (router_diff.py checked each probe's
# drop reason through the same control socket).
"$BIN/nfchain" vnf "$T/rb.ctl" stats 2>&1 | sed 's/^/# /'

kill "$RPID"
wait "$RPID"
check_eq "nf-router exits cleanly on SIGTERM" 0 "$?"
[ -s "$T/router.log" ] && sed 's/^/# nf-router: /' "$T/router.log" | head -20
exit 0
