# firewall_linux.sh - differential test: nf-firewall against nftables with
# connection tracking.
#
# Two identical topologies, each three network namespaces:
#
#     H1 (h1) ---veth--- (r1) R (r2) ---veth--- (h2) H2
#           10.1.0.0/24, fd01::/64      10.2.0.0/24, fd02::/64
#
#   a: R is Linux: it routes (static neighbours for the hosts), and the
#      rule set is a forward chain of `table inet t`: every line of the
#      rule file goes in as `nft add rule inet t c LINE`;
#   b: R runs nf-firewall on afpacket:r1 and afpacket:r2 with the same rule
#      file (ports named r1 and r2: iifname means the same); it is
#      transparent, the kernel of R does nothing.
# Rule sets (fw_diff.py): stateful, cache (the flow cache's invalidation
# cases), stateless.
# The hosts are raw sockets held by tests/it/fw_diff.py, which sends each
# step of a sequence into both and compares the outcomes (pass, drop, the
# reject's answer). Both run the same connection-tracking settings: TCP
# window tracking off (Linux: nf_conntrack_tcp_be_liberal=1; nf_ct does
# not track windows), mid-stream pickup on (tcp_loose, the default), and
# timeouts shortened for the timeout steps: UDP 2 s, UDP stream 3 s,
# ICMP 2 s.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

MAC_H1=02:00:00:00:01:02; MAC_R1=02:00:00:00:01:01
MAC_H2=02:00:00:00:02:02; MAC_R2=02:00:00:00:02:01

command -v nft >/dev/null || { not_ok "nft is installed (scripts/deps)"; exit 1; }
for n in h1a ra h2a h1b rb h2b; do netns _ns "$n"; done
H1A=${NS_PREFIX}h1a RA=${NS_PREFIX}ra H2A=${NS_PREFIX}h2a
H1B=${NS_PREFIX}h1b RB=${NS_PREFIX}rb H2B=${NS_PREFIX}h2b

for ns in "$H1A" "$H2A" "$H1B" "$H2B" "$RB"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
done
ip netns exec "$RA" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv6.conf.default.forwarding=1 net.ipv6.conf.all.accept_dad=0 \
	net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.accept_ra=0 \
	net.ipv6.conf.default.router_solicitations=0 net.ipv6.auto_flowlabels=0 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

for topo in "$H1A:$RA:$H2A" "$H1B:$RB:$H2B"; do
	IFS=: read -r h1 r h2 <<<"$topo"
	ip -n "$r" link add r1 address "$MAC_R1" type veth peer name h1 address "$MAC_H1" netns "$h1"
	ip -n "$r" link add r2 address "$MAC_R2" type veth peer name h2 address "$MAC_H2" netns "$h2"
	for x in "$h1:h1" "$h2:h2" "$r:r1" "$r:r2"; do
		IFS=: read -r ns dev <<<"$x"
		ip netns exec "$ns" ethtool -K "$dev" tx off gro off >/dev/null 2>&1
		ip -n "$ns" link set "$dev" up
	done
done
ip -n "$RA" -batch - <<EOF
addr add 10.1.0.1/24 dev r1
addr add fd01::1/64 dev r1 nodad
addr add 10.2.0.1/24 dev r2
addr add fd02::1/64 dev r2 nodad
neigh replace 10.1.0.2 lladdr $MAC_H1 dev r1 nud permanent
neigh replace fd01::2 lladdr $MAC_H1 dev r1 nud permanent
neigh replace 10.2.0.2 lladdr $MAC_H2 dev r2 nud permanent
neigh replace fd02::2 lladdr $MAC_H2 dev r2 nud permanent
EOF

# run_set NAME: the rule file and policy from fw_diff.py, into both.
run_set() {
	local set=$1 policy
	python3 -c "
import sys; sys.path.insert(0, '$(dirname "$0")')
import fw_diff
rules, policy, _ = fw_diff.RULESETS['$set']
open('$T/$set.rules', 'w').write(rules)
print(policy)" >"$T/$set.policy" || { not_ok "$set: rule set from fw_diff.py"; return; }
	policy=$(cat "$T/$set.policy")

	# a: nftables.
	{
		echo "flush ruleset"
		echo "table inet t {"
		echo "  chain c { type filter hook forward priority 0; policy $policy; }"
		echo "}"
		grep -v '^#' "$T/$set.rules" | grep -v '^$' | sed 's/^/add rule inet t c /'
	} >"$T/$set.nft"
	if ! ip netns exec "$RA" nft -f "$T/$set.nft" 2>"$T/$set.nft.err"; then
		not_ok "$set: nft accepts the rule set: $(head -3 "$T/$set.nft.err" | tr '\n' '|')"
		return
	fi
	# The conntrack sysctls exist once the rules pulled conntrack in.
	ip netns exec "$RA" sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1 \
		net.netfilter.nf_conntrack_tcp_loose=1 \
		net.netfilter.nf_conntrack_udp_timeout=2 \
		net.netfilter.nf_conntrack_udp_timeout_stream=3 \
		net.netfilter.nf_conntrack_icmp_timeout=2 \
		net.netfilter.nf_conntrack_icmpv6_timeout=2 ||
		not_ok "$set: conntrack sysctls in the Linux namespace"

	# b: nf-firewall.
	cat >"$T/$set.conf" <<EOF
port r1 afpacket:r1 mac $MAC_R1
port r2 afpacket:r2 mac $MAC_R2
rules $T/$set.rules
set policy $policy
set tcp-loose on
set udp-timeout 2
set udp-stream-timeout 3
set icmp-timeout 2
EOF
	# LINUX_ONLY=1: check the test's expectations against Linux alone.
	local fw=
	[ -n "${LINUX_ONLY:-}" ] || {
		ip netns exec "$RB" "$BIN/nf-firewall" -q -c "$T/$set.conf" --ctl "$T/$set.ctl" \
			>"$T/$set.log" 2>&1 &
		fw=$!
	}
	if [ -n "$fw" ] && ! wait_for "$T/$set.ctl" 10; then
		not_ok "$set: nf-firewall starts: $(head -3 "$T/$set.log" | tr '\n' '|')"
		kill "$fw" 2>/dev/null
		return
	fi
	python3 "$(dirname "$0")/fw_diff.py" --h1a "$H1A" --h2a "$H2A" --h1b "$H1B" \
		--h2b "$H2B" --ctl "$T/$set.ctl" --ruleset "$set"
	local rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "$set: fw_diff.py exited with status $rc"
	[ -n "$fw" ] || return
	kill "$fw"
	wait "$fw"
	check_eq "$set: nf-firewall exits cleanly on SIGTERM" 0 "$?"
	[ -s "$T/$set.log" ] && sed 's/^/# nf-firewall: /' "$T/$set.log" | head -20
}

run_set stateful
run_set cache
run_set stateless
exit 0
