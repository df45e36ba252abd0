# firewall_malformed.sh - malformed frames into nf-firewall (stateful, with
# rules that reject each way: the reject code reads the headers too):
# every truncation of frames that reach each code path, lying lengths and
# random corruption (tests/it/fw_malformed.py). The firewall must count
# them and go on: no crash, no read out of bounds (the ASan flavour runs
# the ASan+UBSan build), every frame accounted for, and a valid frame sent
# after all of them passed unchanged.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

python3 "$(dirname "$0")/fw_malformed.py" "$T" || { not_ok "fw_malformed.py writes the frames"; exit 1; }
N=$(cat "$T/n")
cat >"$T/rules" <<EOF
ct state invalid counter
udp dport 9 reject
tcp dport 80 tcp flags syn reject with tcp reset
tcp dport 80 reject with icmpx type admin-prohibited
icmp type echo-request reject with icmp type host-unreachable
icmpv6 type echo-request reject with icmpv6 type no-route
ct state related accept
udp dport 10 accept
meta l4proto icmpv6 drop
counter accept
EOF
cat >"$T/f.conf" <<EOF
port a pcap:$T/in.pcap,$T/back.pcap
port b pcap:,$T/out.pcap
rules $T/rules
set policy drop
EOF
"$BIN/nf-firewall" -q -c "$T/f.conf" --ctl "$T/f.ctl" >"$T/f.log" 2>&1 &
FW=$!
cleanup "kill $FW 2>/dev/null; wait $FW"
wait_for "$T/f.ctl" 10 || not_ok "nf-firewall starts"
for i in $(seq 100); do
	in=$("$BIN/nfchain" vnf "$T/f.ctl" --json stats 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin)["ports"][0]; print(d["rx_packets"] + sum(d["drops"].values()))' 2>/dev/null)
	[ "${in:-0}" = "$N" ] && break
	sleep 0.1
done
"$BIN/nfchain" vnf "$T/f.ctl" --json stats >"$T/stats.json"
check "nf-firewall is alive after $N malformed and valid frames" kill -0 "$FW"
kill -INT "$FW"; wait "$FW"; rc=$?
check_eq "it exits cleanly on SIGINT (ASan found nothing)" 0 "$rc"
grep -E "ERROR|runtime error" "$T/f.log" | head -3
python3 - "$T/stats.json" "$N" <<'EOF' && ok "all $N frames accounted for (passed, dropped by reason, rejected)" || not_ok "frame accounting"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
p = d["ports"][0]
rx = p["rx_packets"] + sum(p["drops"].values())
assert rx == n, (rx, n, p)
fw = d["firewall"]
done = d["stages"]["pre"]["in"] + p["drops"].get("rx-runt", 0)
assert done == n, (done, n)
assert fw["rejected"] > 0 and fw["reject_sent"] > 0 and fw["accepted"] > 0, fw
assert all(d["drops"].get(r, 0) > 0 for r in ("ipv4-truncated", "ipv6-truncated", "ipv4-bad-checksum", "l4-truncated")), d["drops"]
print("   ", sorted(d["drops"].items()), {k: fw[k] for k in ("accepted", "dropped", "rejected", "reject_sent", "ct_invalid")})
EOF
python3 - "$T/out.pcap" >"$T/out.hex" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(); o = 24
while o < len(d):
    n = struct.unpack('<IIII', d[o:o + 16])[2]; print(d[o + 16:o + 16 + n].hex()); o += 16 + n
EOF
check_eq "the valid frame sent last passes unchanged" "$(cat "$T/good.hex")" "$(tail -1 "$T/out.hex")"
python3 - "$T/back.pcap" <<'EOF' && ok "reject answers went back out of the input port: ICMP, ICMPv6 and TCP RST" || not_ok "reject answers"
import struct, sys
d = open(sys.argv[1], 'rb').read(); o = 24; kinds = set()
while o < len(d):
    n = struct.unpack('<IIII', d[o:o + 16])[2]; f = d[o + 16:o + 16 + n]; o += 16 + n
    if f[12:14] == b'\x08\x00':
        kinds.add({1: 'icmp', 6: 'rst'}.get(f[23], f[23]))
    elif f[12:14] == b'\x86\xdd':
        kinds.add({58: 'icmp6'}.get(f[20], f[20]))
assert {'icmp', 'icmp6', 'rst'} <= kinds, kinds
EOF
exit 0
