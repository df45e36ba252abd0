# switch_icmp.sh - the ICMPv6 errors of nfswitch's SRv6 SIDs (pcap ports,
# exact bytes; docs/STEERING.md "ICMPv6 errors"): each drop RFC 8754 and
# RFC 8986 answer (hop limit, SL beyond the list, last entry past hdr ext
# len, SL not 0 at End.DX/DT, SL 0 or the wrong upper layer, no SRH, an
# unknown routing type with segments left) sends its Time Exceeded or
# Parameter Problem back out of the port the frame came in by, built as
# the test builds it; the drops RFC 4443 2.4 (e) or the RFCs leave
# unanswered send none; --icmp-rate / --icmp-burst limit them. The
# comparison with Linux's own errors is in switch_seg6. The Python half:
# switch_icmp.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
py_half switch_icmp
exit 0
