# srv6_tshark.sh - Wireshark's view of the frames nf_srv6 writes: srv6_tool
# (tests/tools/srv6_tool.c) dumps the output of every behaviour (H.Encaps,
# .Red, .L2, .L2.Red with 1, 2, 3 and 16 segments, IPv4 and IPv6, tagged or
# not; every End / End.X along each list; End.DX4/DX6/DT4/DT6; the ICMPv6
# time exceeded and parameter problem; End.AD and End.AS in and out) into a pcap, with what each
# frame must carry. tshark must dissect the SRH with the SL, last entry,
# segments and DA we set, every IPv4/UDP/ICMPv6 checksum must be good, and
# tshark's expert info must hold no warning or error; a copy with one
# checksum broken shows the expert check is live.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
DIR=$(cd "$(dirname "$0")" && pwd)
TOOL=$TOOLS/srv6_tool
check "srv6_tool is built" test -x "$TOOL"
command -v tshark >/dev/null || apt-get install -y tshark >/dev/null 2>&1
check "tshark is installed" test -x "$(command -v tshark)"
[ -x "$TOOL" ] && command -v tshark >/dev/null || exit 1

"$TOOL" pcap "$T/srv6.pcap" >"$T/manifest"
check "srv6_tool wrote every behaviour's output" test "$(wc -l <"$T/manifest")" -ge 250
OPTS=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)
tshark -r "$T/srv6.pcap" "${OPTS[@]}" -T fields -E aggregator=';' \
	-e frame.number -e ipv6.routing.segleft -e ipv6.routing.srh.last_entry \
	-e ipv6.routing.srh.addr -e ipv6.dst -e ip.checksum.status \
	-e udp.checksum.status -e icmpv6.checksum.status -e frame.protocols \
	>"$T/fields" 2>/dev/null
python3 "$DIR/srv6_tshark.py" "$T/manifest" "$T/fields"

# control: the first frame's inner IPv4 checksum broken (pcap header 24,
# record header 16, Ethernet 14, IPv6 40, SRH of one segment 24, +10)
tshark_expert "$T/srv6.pcap" $((24 + 16 + 14 + 40 + 24 + 10)) "${OPTS[@]}"
exit 0
