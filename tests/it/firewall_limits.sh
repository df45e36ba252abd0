# firewall_limits.sh - nf-firewall with a full connection table: new
# connections are refused and counted (conntrack-full), the connections
# in the table keep passing; after their timeout they leave and new ones
# get in. pcap ports: the frames and their order are exact.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
export ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}

# 20 UDP flows (source ports 5000..5019), a first packet each, then a
# second packet each: a table of 16 holds the first 16.
python3 - "$T" <<'EOF'
import os, struct, sys
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "tests", "tools"))
from pkt import *
T = sys.argv[1]
C, S = ip4("10.1.0.2"), ip4("10.2.0.2")
def f(sp):
    return eth(v4(C, S, 17, udp(C, S, b"data", sp, 9)), 0x0800, mac("02:00:00:00:01:01"),
               mac("02:00:00:00:01:02"))
frames = [f(5000 + i) for i in range(20)] + [f(5000 + i) for i in range(20)]
with open(T + "/in.pcap", "wb") as fp:
    fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for fr in frames:
        fp.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
open(T + "/want.hex", "w").write("".join(fr.hex() + "\n" for fr in frames[:16] + frames[20:36]))
EOF
printf 'ct state established accept\nct state new udp dport 9 accept\n' >"$T/rules"
cat >"$T/f.conf" <<EOF
port a pcap:$T/in.pcap,$T/back.pcap
port b pcap:,$T/out.pcap
rules $T/rules
set policy drop
set sessions 16
set udp-timeout 1
EOF
"$BIN/nf-firewall" -q -c "$T/f.conf" --ctl "$T/f.ctl" \
	>"$T/f.log" 2>&1 &
FW=$!
cleanup "kill $FW 2>/dev/null; wait $FW"
wait_for "$T/f.ctl" 10 || not_ok "nf-firewall starts"
for i in $(seq 50); do
	n=$("$BIN/nfchain" vnf "$T/f.ctl" --json stats 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["stages"]["pre"]["in"])' 2>/dev/null)
	[ "${n:-0}" = 40 ] && break
	sleep 0.1
done
"$BIN/nfchain" vnf "$T/f.ctl" --json stats >"$T/stats.json"
st() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/stats.json" "$1"; }
# Inserted, and in the table or expired since: with udp-timeout 1 a slow
# (sanitised, loaded) run can read the stats after the expiry took them.
check_eq "16 connections entered the table of 16 (inserted; in it or expired since)" "16 16" \
	"$(st '"%d %d" % (d["firewall"]["ct_inserted"], d["firewall"]["ct_entries"] + d["firewall"]["ct_expired"])')"
check_eq "the 4 others were refused twice each, counted as conntrack-full" 8 \
	"$(st 'd["drops"].get("conntrack-full", 0)')"
check_eq "... and in the table's own counter" 8 "$(st 'd["firewall"]["ct_full"]')"
python3 - "$T/out.pcap" >"$T/out.hex" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(); o = 24
while o < len(d):
    n = struct.unpack('<IIII', d[o:o + 16])[2]; print(d[o + 16:o + 16 + n].hex()); o += 16 + n
EOF
check_eq "the 16 connections passed both times, exactly, the others not at all" \
	"$(cat "$T/want.hex")" "$(cat "$T/out.hex")"
# After the UDP timeout (1 s) the expiry frees the table.
for i in $(seq 40); do
	c=$("$BIN/nfchain" vnf "$T/f.ctl" --json stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["firewall"]["ct_entries"])')
	[ "$c" = 0 ] && break
	sleep 0.1
done
check_eq "after the timeout the table is empty again (expired in the background)" 0 "$c"
exit 0
