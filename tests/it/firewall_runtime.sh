# firewall_runtime.sh - nf-firewall at runtime: atomic rule-set
# replacement (load-rules) that keeps established connections, a broken
# rule file that changes nothing, per-rule counters (rules), the
# connection table (conntrack, conntrack-flush), reloads under traffic
# without a lost packet. The steps and checks are in fw_runtime.py.
#
#     H1 (h1) ---veth--- (r1) FW (r2) ---veth--- (h2) H2
#
# FW runs nf-firewall on afpacket:r1 and afpacket:r2.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

MAC_R1=02:00:00:00:01:01 MAC_R2=02:00:00:00:02:01
for n in h1 fw h2; do netns _ns "$n"; done
H1=${NS_PREFIX}h1 FW=${NS_PREFIX}fw H2=${NS_PREFIX}h2
for ns in "$H1" "$FW" "$H2"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=0
done
ip -n "$FW" link add r1 address "$MAC_R1" type veth peer name h1 netns "$H1"
ip -n "$FW" link add r2 address "$MAC_R2" type veth peer name h2 netns "$H2"
for x in "$H1:h1" "$H2:h2" "$FW:r1" "$FW:r2"; do
	IFS=: read -r ns dev <<<"$x"
	ip netns exec "$ns" ethtool -K "$dev" tx off gro off >/dev/null 2>&1
	ip -n "$ns" link set "$dev" up
done

printf 'ct state established,related accept\nct state invalid drop\niifname r1 tcp dport 80 accept\niifname r1 udp dport 9 accept\ncounter drop\n' >"$T/a.rules"
cat >"$T/fw.conf" <<EOF
port r1 afpacket:r1
port r2 afpacket:r2
rules a.rules
set policy drop
EOF
ip netns exec "$FW" "$BIN/nf-firewall" -n -c "$T/fw.conf" >"$T/check.out" 2>&1
check_eq "nf-firewall -n checks the configuration and its rules" "configuration OK" \
	"$(cat "$T/check.out")"
spawn ip netns exec "$FW" "$BIN/nf-firewall" -q -c "$T/fw.conf" --ctl "$T/fw.ctl"
if ! wait_for "$T/fw.ctl" 10; then
	not_ok "nf-firewall starts"
	exit 1
fi
python3 "$(dirname "$0")/fw_runtime.py" --h1 "$H1" --h2 "$H2" --ctl "$T/fw.ctl" --dir "$T"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "fw_runtime.py exited with status $rc"
exit 0
