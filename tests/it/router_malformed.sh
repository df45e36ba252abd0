# router_malformed.sh - malformed frames into nf-router: every truncation
# of a set of valid frames (IPv4/IPv6 UDP, TCP and ICMP to the router,
# IPv4 options, IPv6 extension headers, ARP, neighbour solicitations),
# length fields that lie, and random corruption of the headers. The
# router must count them and go on: no crash, no read out of bounds (the
# ASan flavour of this test runs the ASan+UBSan build), every frame seen
# by the first stage, the parse drops counted by reason, and a valid frame
# sent after all of them still forwarded exactly.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

python3 - "$T" <<'EOF'
import random, struct, sys
T = sys.argv[1]
rnd = random.Random(1)
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def v4(dst, proto, payload, opts=b'', ttl=64, frag=0x4000):
    ihl = 5 + len(opts) // 4
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload), 7, frag, ttl, proto, 0,
                    bytes([10, 1, 0, 2]), bytes(dst)) + opts
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
def v6(dst, nxt, payload, hl=64):
    return struct.pack('!IHBB', 0x60000000, len(payload), nxt, hl) + \
        bytes.fromhex('fd000001000000000000000000000002') + bytes(dst) + payload
RM = bytes.fromhex('020000000101')
def eth(t, p, dst=RM): return dst + bytes.fromhex('02000000aa01') + struct.pack('!H', t) + p
udp = struct.pack('!HHHH', 7, 9, 12, 0) + b'abcd'
tcp = struct.pack('!HHIIBBHHH', 1000, 80, 1, 0, 0x50, 0x02, 1024, 0, 0)
ping = bytearray(b'\x08\x00\x00\x00\x00\x01\x00\x01pingping'); ping[2:4] = struct.pack('!H', csum(bytes(ping)))
D20 = [10, 20, 1, 2]; RTR = [10, 1, 0, 1]
R6 = bytes.fromhex('fd000001000000000000000000000001'); D6 = bytes.fromhex('fd000020000000000000000000000005')
ext = bytes([60, 0, 1, 4, 0, 0, 0, 0]) + bytes([17, 0, 0, 0, 0, 0, 0, 1])   # hop-by-hop, fragment
arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x800, 6, 4, 1, bytes.fromhex('02000000aa01'), bytes([10, 1, 0, 2]), b'\0' * 6, bytes(RTR))
ns = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + R6 + bytes([1, 1]) + bytes.fromhex('02000000aa01')
valid = [
    eth(0x800, v4(D20, 17, udp)), eth(0x800, v4(RTR, 6, tcp)), eth(0x800, v4(RTR, 1, bytes(ping))),
    eth(0x800, v4(D20, 17, udp, opts=bytes([1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0]))),
    eth(0x800, v4(D20, 17, udp, frag=0x2000)), eth(0x800, v4(D20, 17, udp, frag=0x0003)),
    eth(0x86dd, v6(D6, 17, udp)), eth(0x86dd, v6(D6, 0, ext + udp)), eth(0x86dd, v6(R6, 58, ns, hl=255)),
    eth(0x806, arp, dst=b'\xff' * 6), eth(0x800, v4(D20, 17, udp, ttl=1)),
]
frames = []
for f in valid:                              # every truncation
    for n in range(0, len(f) + 1):
        frames.append(f[:n])
for f in valid:                              # lengths that lie, corruption
    for _ in range(150):
        g = bytearray(f)
        k = rnd.choice(['len', 'flip', 'flip', 'tail'])
        if k == 'len' and g[12:14] == b'\x08\x00':
            g[16:18] = struct.pack('!H', rnd.choice([0, 1, 19, 20, 21, len(g), 0xffff]))
        elif k == 'len' and g[12:14] == b'\x86\xdd':
            g[18:20] = struct.pack('!H', rnd.choice([0, 1, 7, 8, 9, 0xffff]))
        elif k == 'tail':
            g = g[:rnd.randrange(14, len(g) + 1)] + bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))
        else:
            for _ in range(rnd.randrange(1, 6)):
                i = rnd.randrange(12, min(len(g), 80))
                g[i] = rnd.randrange(256)
        frames.append(bytes(g))
good = eth(0x800, v4(D20, 17, udp))
frames.append(good)
with open(T + '/in.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for fr in frames:
        f.write(struct.pack('<IIII', 0, 0, len(fr), len(fr)) + fr)
open(T + '/n', 'w').write(str(len(frames)))
exp = bytes.fromhex('020000000b02020000000102') + good[12:22] + bytes([63]) + good[23:24] + \
    struct.pack('!H', (struct.unpack('!H', good[24:26])[0] + 0x100) % 0xffff) + good[26:]
open(T + '/good.hex', 'w').write(exp.hex() + '\n')
EOF
N=$(cat "$T/n")
cat >"$T/r.conf" <<EOF
port a pcap:$T/in.pcap,$T/back.pcap mac 02:00:00:00:01:01
port b pcap:,$T/out.pcap mac 02:00:00:00:01:02
address a 10.1.0.1/24
address b 10.2.0.1/24
address a fd00:1::1/64
address b fd00:2::1/64
neighbor a 10.1.0.2 02:00:00:00:aa:01
neighbor a fd00:1::2 02:00:00:00:aa:01
neighbor b 10.2.0.2 02:00:00:00:0b:02
neighbor b fd00:2::2 02:00:00:00:0b:02
route 10.20.0.0/16 via 10.2.0.2
route fd00:20::/48 via fd00:2::2
set icmp-rate 1000000
set icmp-burst 100000
EOF
"$BIN/nf-router" -q -c "$T/r.conf" --ctl "$T/r.ctl" >"$T/r.log" 2>&1 &
RT=$!
cleanup "kill $RT; wait $RT"
wait_for "$T/r.ctl" 10 || not_ok "nf-router starts"
# until port a has taken every frame in (received, or dropped as a runt)
for i in $(seq 100); do
	in=$("$BIN/nfchain" vnf "$T/r.ctl" --json stats 2>/dev/null |
		jq '.ports[0] | .rx_packets + ([.drops[]] | add // 0)' 2>/dev/null)
	[ "${in:-0}" = "$N" ] && break
	sleep 0.1
done
"$BIN/nfchain" vnf "$T/r.ctl" --json stats >"$T/stats.json"
check "nf-router is alive after $N malformed and valid frames" kill -0 "$RT"
kill -INT "$RT"; wait "$RT"; rc=$?
check_eq "it exits cleanly on SIGINT (ASan found nothing)" 0 "$rc"
grep -E "ERROR|runtime error" "$T/r.log" | head -3
python3 - "$T/stats.json" "$N" <<'EOF' && ok "all $N frames counted; parse drops by reason (truncations, lying lengths)" || not_ok "frame accounting"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
rx = d["ports"][0]["rx_packets"] + sum(d["ports"][0]["drops"].values())
assert rx == n, (rx, n, d["ports"][0])
pre = d["stages"]["pre"]["in"]
runts = d["ports"][0]["drops"].get("rx-runt", 0)
assert pre + runts == n, (pre, runts, n)
dr = d["drops"]
assert dr.get("ipv4-truncated", 0) > 0 and dr.get("ipv4-bad-length", 0) > 0, dr
assert dr.get("ipv6-truncated", 0) > 0 and dr.get("ipv6-bad-length", 0) > 0, dr
assert dr.get("ipv4-bad-checksum", 0) > 0 and dr.get("l4-truncated", 0) > 0, dr
print("   ", sorted(dr.items()))
EOF
python3 - "$T/out.pcap" >"$T/out.hex" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(); o = 24
while o < len(d):
    n = struct.unpack('<IIII', d[o:o + 16])[2]; print(d[o + 16:o + 16 + n].hex()); o += 16 + n
EOF
check_eq "the valid frame sent last is forwarded exactly" "$(cat "$T/good.hex")" "$(tail -1 "$T/out.hex")"
exit 0
