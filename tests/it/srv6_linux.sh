# srv6_linux.sh - nf_srv6 against the Linux kernel's seg6, in namespaces:
#
#   h1 --- r1 (encap seg6 mode encap segs fc00::e,fc00::d4 for 10.2/24,
#            |  segs fc00::f,fc00::d4 for 10.3/24)
#            +--- e (seg6local End, fc00::e and fc00::f)
#            |      --- d (seg6local End.DX4, fc00::d4, nh4 10.2.0.2) --- y
#            +--- x (sink for fc00::f)
#
# A probe from h1 crosses Linux's H.Encaps, End and End.DX4. Linux's
# encapsulation (captured untouched in x) is fed to srv6_tool (our
# nf_srv6) and sent into e: our SRH parser accepts it, our End on it
# equals Linux's End (captured in d), our End.DX4 on that equals Linux's
# End.DX4 (captured in y), byte for byte. Then frames our
# H.Encaps / H.Encaps.Red build (1, 2, 3 segments) are sent into Linux's
# End and End.DX4 and the inner packet must come out of y as expected.
# The Python half is srv6_linux.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
DIR=$(cd "$(dirname "$0")" && pwd)
TOOL=$TOOLS/srv6_tool
check "srv6_tool is built" test -x "$TOOL"
[ -x "$TOOL" ] || exit 1

netns H1 h1 && netns R1 r1 && netns E e && netns D d && netns Y y && netns X x || {
	not_ok "namespaces"; exit 1; }
mac() { printf '02:00:00:00:00:%02x' "$1"; }
link() {	# link NS1 IF1 MAC1 NS2 IF2 MAC2
	ip link add "$2" netns "$1" address "$3" type veth peer name "$5" \
		netns "$4" address "$6"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}
setup() {
	seg6_ns "$H1" "$R1" "$E" "$D" "$Y" "$X" || return 1
	link "$H1" h1a "$(mac 1)" "$R1" r1a "$(mac 2)"
	link "$R1" r1b "$(mac 3)" "$E" ea "$(mac 4)"
	link "$E" eb "$(mac 5)" "$D" da "$(mac 6)"
	link "$D" db "$(mac 7)" "$Y" ya "$(mac 8)"
	link "$R1" r1c "$(mac 9)" "$X" xa "$(mac 10)"
	ip -n "$H1" addr add 10.1.0.1/24 dev h1a
	ip -n "$H1" route add default via 10.1.0.254
	ip -n "$R1" addr add 10.1.0.254/24 dev r1a
	ip -n "$R1" -6 addr add fc00:12::1/64 dev r1b nodad
	ip -n "$R1" -6 neigh add fc00:12::2 lladdr "$(mac 4)" dev r1b
	ip -n "$R1" -6 route add fc00::e/128 via fc00:12::2 dev r1b
	ip -n "$R1" route add 10.2.0.0/24 encap seg6 mode encap \
		segs fc00::e,fc00::d4 dev r1b
	# a second policy whose first segment leads to x, a sink: its capture
	# is Linux's encapsulation untouched (seg6local End in e rewrites the
	# SRH in place, under the eyes of a packet socket there)
	ip -n "$R1" -6 addr add fc00:19::1/64 dev r1c nodad
	ip -n "$R1" -6 neigh add fc00:19::2 lladdr "$(mac 10)" dev r1c
	ip -n "$R1" -6 route add fc00::f/128 via fc00:19::2 dev r1c
	ip -n "$R1" route add 10.3.0.0/24 encap seg6 mode encap \
		segs fc00::f,fc00::d4 dev r1c
	ip -n "$E" -6 route add fc00::f/128 encap seg6local action End dev ea
	ip -n "$E" -6 addr add fc00:12::2/64 dev ea nodad
	ip -n "$E" -6 addr add fc00:23::1/64 dev eb nodad
	ip -n "$E" -6 neigh add fc00:23::2 lladdr "$(mac 6)" dev eb
	ip -n "$E" -6 route add fc00::e/128 encap seg6local action End dev ea
	ip -n "$E" -6 route add fc00::d4/128 via fc00:23::2 dev eb
	ip -n "$D" -6 addr add fc00:23::2/64 dev da nodad
	ip -n "$D" addr add 10.2.0.1/24 dev db
	ip -n "$D" neigh add 10.2.0.2 lladdr "$(mac 8)" dev db
	# End.DX4's nh4 is a connected address: Linux resolves the packet's
	# own destination on db, so the second policy's 10.3.0.2 needs one too
	ip -n "$D" neigh add 10.3.0.2 lladdr "$(mac 8)" dev db
	ip -n "$D" -6 route add fc00::d4/128 encap seg6local action End.DX4 \
		nh4 10.2.0.2 dev db
	ip -n "$Y" addr add 10.2.0.2/24 dev ya
	# the per-device switch seg6local needs on the receiving side
	ip netns exec "$E" sysctl -qw net.ipv6.conf.ea.seg6_enabled=1
	ip netns exec "$D" sysctl -qw net.ipv6.conf.da.seg6_enabled=1
}
check "namespaces with Linux seg6 head end, End and End.DX4" setup
python3 "$DIR/srv6_linux.py" "$TOOL" "$H1" "$R1" "$E" "$D" "$Y" "$X"
rc=$?
[ "$rc" = 0 ] || not_ok "srv6_linux.py exited with $rc"
exit 0
