# switch_seg6.sh - nfswitch's SRv6 steering against the Linux kernel's seg6,
# nfswitch on AF_PACKET ports (veths) in namespaces this test builds:
#
#   H (10.1.0.1) --- L ===p1=== [SW: nfswitch] ===p2=== Y (10.9.0.2, 10.8.0.2)
#                    |  \                 ===p3=== M ---------- Y (10.6.0.2)
#                    |   `---------------------------'  (M - L link)
#   L: Linux head end (encap seg6 mode encap) and End.DX4 (nh4 10.1.0.1)
#   M: Linux End (fc00:b::e) and End.DX4 (fc00:b::d4, nh4 10.6.0.2)
#   R: Linux End on fc00:a::1 alone, the reference for nfswitch's End (fed
#      through q0 in SW, which is no switch port)
#   P: fc00:a::1 a Linux address (SRH processing for a local address), the
#      reference for nfswitch's ICMPv6 errors (fed through q1, no port)
#   nfswitch: sid fc00:a::1 End, sid fc00:a::d4 End.DX4 towards Y;
#      rules: fc00:b::/32 to M; from Y, srv6-encap [red] towards L / M
#
# a. Linux encapsulates (2 segments: nfswitch End + End.DX4; 1 segment:
#    End.DX4; nfswitch End then Linux End.DX4 in M): a real UDP socket in Y
#    gets each datagram; nfswitch's End output (captured in M) is exactly the
#    input with hop limit - 1, SL - 1, DA = next segment, and equals Linux's
#    own End (R) on the same frame; End.DX4's output (captured in Y) is the
#    inner packet, TTL - 1.
# b. nfswitch encapsulates (H.Encaps and .Red, 1 and 2 segments): Linux's
#    End.DX4 in L (and Linux End in M first) delivers to a UDP socket in H;
#    the frames on the wire are compared with what the policy must build.
# c. tshark dissects every frame nfswitch sent (captured on the veths)
#    with the SL / segments / DA configured, and no expert info.
# Malformed SRHs (SL beyond the list, last entry or TLVs against hdr ext
# len, an SRH running past the packet) and a hop limit of 1 sent to the
# SIDs are dropped and counted by reason; nothing leaves the switch but
# the ICMPv6 errors, back to L (docs/STEERING.md "ICMPv6 errors"): the
# Parameter Problem for SL beyond the list is byte for byte Linux's (P);
# the Time Exceeded is Linux's but for the quote (Linux quotes the packet
# after End's update, RFC 8986 and nfswitch before).
# The Python half is switch_seg6.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
DIR=$(cd "$(dirname "$0")" && pwd)
command -v tshark >/dev/null || apt-get install -y tshark >/dev/null 2>&1
check "tshark is installed" test -x "$(command -v tshark)"
check "srv6_tool is built" test -x "$TOOLS/srv6_tool"

netns SW sw && netns H h && netns L l && netns Y y && netns M m && netns R r && netns P p || {
	not_ok "namespaces"; exit 1; }
mac() { printf '02:00:00:00:5e:%02x' "$1"; }
link() {	# link NS1 IF1 MAC1 NS2 IF2 MAC2
	ip link add "$2" netns "$1" address "$3" type veth peer name "$5" \
		netns "$4" address "$6" || return 1
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}
setup() {
	local x
	seg6_ns "$SW" "$H" "$L" "$Y" "$M" "$R" "$P" || return 1
	ip netns exec "$SW" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	link "$L" l1 "$(mac 0x11)" "$SW" p1 "$(mac 0xf1)" &&
	link "$Y" y0 "$(mac 0x21)" "$SW" p2 "$(mac 0xf2)" &&
	link "$M" m0 "$(mac 0x31)" "$SW" p3 "$(mac 0xf3)" &&
	link "$R" r0 "$(mac 0x41)" "$SW" q0 "$(mac 0xf4)" &&
	link "$P" p0 "$(mac 0xee)" "$SW" q1 "$(mac 0xf5)" &&
	link "$H" h0 "$(mac 0x01)" "$L" l0 "$(mac 0x02)" &&
	link "$M" m1 "$(mac 0x32)" "$Y" y1 "$(mac 0x22)" &&
	link "$M" m2 "$(mac 0x33)" "$L" l2 "$(mac 0x12)" || return 1
	# user-space switch: no checksums left to "the hardware"
	for x in "$L:l1" "$L:l0" "$H:h0" "$Y:y0" "$Y:y1" "$M:m0" "$M:m1" "$M:m2" \
		"$L:l2" "$R:r0" "$P:p0" "$SW:p1" "$SW:p2" "$SW:p3" "$SW:q0" "$SW:q1"; do
		ip netns exec "${x%%:*}" ethtool -K "${x#*:}" tx off gro off >/dev/null 2>&1
	done
	for x in "$L:l1" "$L:l2" "$M:m0" "$R:r0" "$P:p0"; do
		ip netns exec "${x%%:*}" sysctl -qw "net.ipv6.conf.${x#*:}.seg6_enabled=1"
	done
	# H: a host behind L
	ip -n "$H" addr add 10.1.0.1/24 dev h0
	ip -n "$H" route add default via 10.1.0.254
	# L: head end towards nfswitch (fc00:1::2 stands for the switch), and
	# End.DX4 for what comes back
	ip -n "$L" addr add 10.1.0.254/24 dev l0
	ip -n "$L" -6 addr add fc00:1::1/64 dev l1 nodad
	ip -n "$L" -6 addr add fc00:3::1/64 dev l2 nodad
	ip -n "$L" -6 neigh add fc00:1::2 lladdr "$(mac 0xee)" dev l1
	ip -n "$L" -6 route add fc00:a::/32 via fc00:1::2 dev l1
	ip -n "$L" route add 10.9.0.0/24 encap seg6 mode encap segs fc00:a::1,fc00:a::d4 dev l1
	ip -n "$L" route add 10.8.0.0/24 encap seg6 mode encap segs fc00:a::d4 dev l1
	ip -n "$L" route add 10.6.0.0/24 encap seg6 mode encap segs fc00:a::1,fc00:b::d4 dev l1
	ip -n "$L" neigh add 10.1.0.1 lladdr "$(mac 0x01)" dev l0
	ip -n "$L" -6 route add fc00:c::d4/128 encap seg6local action End.DX4 \
		nh4 10.1.0.1 dev l0
	# Y: the far host; its way back is a next hop the switch's rules steer
	ip -n "$Y" addr add 10.9.0.2/24 dev y0
	ip -n "$Y" addr add 10.8.0.2/24 dev y0
	ip -n "$Y" addr add 10.6.0.2/24 dev y1
	ip -n "$Y" route add 10.1.0.0/24 via 10.9.0.1 dev y0
	ip -n "$Y" neigh add 10.9.0.1 lladdr "$(mac 0xef)" dev y0
	# M: Linux End and End.DX4 behind nfswitch
	ip -n "$M" -6 addr add fc00:2::2/64 dev m0 nodad
	ip -n "$M" -6 addr add fc00:3::2/64 dev m2 nodad
	ip -n "$M" addr add 10.6.0.1/24 dev m1
	ip -n "$M" neigh add 10.6.0.2 lladdr "$(mac 0x22)" dev m1
	ip -n "$M" -6 neigh add fc00:3::1 lladdr "$(mac 0x12)" dev m2
	ip -n "$M" -6 route add fc00:c::/32 via fc00:3::1 dev m2
	ip -n "$M" -6 route add fc00:b::e/128 encap seg6local action End dev m0
	ip -n "$M" -6 route add fc00:b::d4/128 encap seg6local action End.DX4 \
		nh4 10.6.0.2 dev m1
	# R: Linux End alone, its output back through r0
	ip -n "$R" -6 addr add fc00:9::1/64 dev r0 nodad
	ip -n "$R" -6 neigh add fc00:9::2 lladdr "$(mac 0xf4)" dev r0
	ip -n "$R" -6 route add fc00:b::/32 via fc00:9::2 dev r0
	ip -n "$R" -6 route add fc00:a::1/128 encap seg6local action End dev r0
	# P: fc00:a::1 its own address, as nfswitch's SID's stand-in on the
	# MAC L sends to (0xee); the errors go back to L's l1 from fc00:a::1,
	# with no flow label (nfswitch's have none); the next segment is
	# forwarded (where Linux looks at the hop limit)
	ip netns exec "$P" sysctl -qw net.ipv6.auto_flowlabels=0
	ip -n "$P" -6 addr add fc00:a::1/128 dev p0 nodad
	ip -n "$P" -6 route add fc00:1::/64 dev p0 src fc00:a::1
	ip -n "$P" -6 neigh add fc00:1::1 lladdr "$(mac 0x11)" dev p0
	ip -n "$P" -6 route add fc00:a::/32 via fc00:1::1 dev p0
}
check "namespaces: Linux seg6 head end, End, End.DX4 around nfswitch" setup

# One Y-side rule per encapsulation case (UDP destination port 7001..7004).
cat >"$T/steer" <<EOF
srv6-source fc00:2::1
sid fc00:a::1 End
sid fc00:a::d4 End.DX4 afpacket:p2 $(mac 0x21)
rule ip6 daddr fc00:b::/32 action set-dst-mac $(mac 0x31) output afpacket:p3
rule in-port afpacket:p2 udp dport 7001 action srv6-encap fc00:c::d4 set-dst-mac $(mac 0x11) output afpacket:p1
rule in-port afpacket:p2 udp dport 7002 action srv6-encap red fc00:c::d4 set-dst-mac $(mac 0x11) output afpacket:p1
rule in-port afpacket:p2 udp dport 7003 action srv6-encap fc00:b::e,fc00:c::d4 set-dst-mac $(mac 0x31) output afpacket:p3
rule in-port afpacket:p2 udp dport 7004 action srv6-encap red fc00:b::e,fc00:c::d4 set-dst-mac $(mac 0x31) output afpacket:p3
EOF
spawn ip netns exec "$SW" "$BIN/nfswitch" -q -m intr -c "$T/ctl" -S "$T/steer" \
	-p afpacket:p1 -p afpacket:p2 -p afpacket:p3
SWPID=$SPAWNED
wait_for "$T/ctl" 10 || { not_ok "nfswitch starts with the steering file"; exit 1; }
"$BIN/nfchain" switch --ctl "$T/ctl" --json sids >"$T/sids0.json" 2>&1
check "nfswitch loaded the steering file (2 SIDs)" \
	python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["sids"]) == 2' \
	"$T/sids0.json"

BIN="$BIN" T="$T" python3 "$DIR/switch_seg6.py" --sw "$SW" --h "$H" --l "$L" --y "$Y" --m "$M" \
	--ctl "$T/ctl" --tool "$TOOLS/srv6_tool" --dir "$T"
rc=$?
[ "$rc" = 0 ] || not_ok "switch_seg6.py exited with $rc"

# c. tshark over what nfswitch sent (written by the Python half)
OPTS=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)
if [ -s "$T/ours.pcap" ]; then
	tshark -r "$T/ours.pcap" "${OPTS[@]}" -T fields -E aggregator=';' \
		-e ipv6.routing.segleft -e ipv6.routing.srh.last_entry \
		-e ipv6.routing.srh.addr -e ipv6.dst -e ip.dst -e ip.ttl \
		-e ip.checksum.status -e udp.checksum.status -e udp.dstport \
		>"$T/fields" 2>"$T/tshark.err"
	check_eq "tshark dissects nfswitch's frames: SL, last entry, segments, DA, inner" \
		"$(cat "$T/expect.fields")" "$(cat "$T/fields")"
	check "tshark dissected at least 7 frames of nfswitch" \
		test "$(wc -l <"$T/fields")" -ge 7
	# control: frame 1 has an SRH of one segment: its inner IPv4 checksum
	tshark_expert "$T/ours.pcap" $((24 + 16 + 14 + 40 + 24 + 10)) "${OPTS[@]}"
else
	not_ok "nfswitch's frames were captured for tshark"
fi

# ... and over nfswitch's ICMPv6 errors: type, code, pointer, checksum
if [ -s "$T/errors.pcap" ]; then
	tshark -r "$T/errors.pcap" -T fields -e icmpv6.type -e icmpv6.code \
		-e icmpv6.pointer -e icmpv6.checksum.status >"$T/errors.got" 2>"$T/tshark.err"
	check_eq "tshark dissects nfswitch's 4 ICMPv6 errors: type, code, pointer, good checksum" \
		"$(cat "$T/errors.fields")" "$(cat "$T/errors.got")"
else
	not_ok "nfswitch's ICMPv6 errors were captured for tshark"
fi

"$BIN/nfchain" switch --ctl "$T/ctl" --json steer-stats >"$T/stats.json" 2>&1
check_eq "nfswitch dropped only the 5 malformed frames and the one of hop limit 1 (by reason)" \
	'{"srv6-bad-srh": 1, "srv6-bad-tlv": 1, "srv6-hop-limit": 1, "srv6-sl-beyond": 2, "steer-unparsable": 1}' \
	"$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["steer_drops"], sort_keys=True))' "$T/stats.json")"
stop_clean nfswitch "$SWPID"
exit 0
