# router_runtime.sh - nf-router over memif: forwarding exact bytes, and
# routes added and removed at runtime (through the control socket, as
# `nfchain vnf CTL conf route ...`) while traffic flows: the traffic to
# prefixes that did not change loses nothing.
#
#   nf-gen --tx memif:a (server) -> nf-router port a -> route lookup ->
#   nf-router port b -> nf-gen --rx memif:b (server)
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

R="$BIN/nf-router"
C="$BIN/nfchain"
cat >"$T/r.conf" <<EOF
# two memif ports, the router is a client of nf-gen's sockets
port a memif:$T/a.sock mac 02:00:00:00:01:01
port b memif:$T/b.sock mac 02:00:00:00:01:02
address a 10.1.0.1/24
address b 10.2.0.1/24
address a fd00:1::1/64
address b fd00:2::1/64
neighbor b 10.2.0.2 02:00:00:00:0b:02
neighbor b 10.2.0.3 02:00:00:00:0b:03
neighbor b fd00:2::2 02:00:00:00:0b:02
route 10.20.0.0/16 via 10.2.0.2
route fd00:20::/48 via fd00:2::2
EOF
check_eq "the configuration checks" "configuration OK" "$("$R" -n -c "$T/r.conf" 2>&1)"

# Sender and receiver first (memif servers), then the router.
"$BIN/nf-gen" --tx "memif:$T/a.sock,role=server,rsize=12" \
	--rx "memif:$T/b.sock,role=server,rsize=12" --dst-mac 02:00:00:00:01:01 \
	--src-ip 10.1.0.2 --dst-ip 10.20.1.2 --flows 4 --rate 20k --duration 12 \
	--drain 1s --wait 10s --json >"$T/gen.json" 2>"$T/gen.err" &
GEN=$!
cleanup "kill $GEN"
wait_for "$T/b.sock" 5 || not_ok "nf-gen serves its sockets"
"$R" -q -c "$T/r.conf" --ctl "$T/r.ctl" >"$T/r.log" 2>&1 &
RT=$!
cleanup "kill $RT; wait $RT"
wait_for "$T/r.ctl" 5 || not_ok "nf-router starts"

# Runtime changes, 2 s after traffic began: 300 prefixes added and removed
# again (v4 and v6), a default route that comes and goes, a reject route, a
# more specific route elsewhere in 10/8. One `nfchain vnf --batch` each
# half (a request a line, a connection each); a few as single commands.
sleep 2
fail=0 n=0
for i in $(seq 0 149); do
	echo "conf route 172.16.$i.0/24 via 10.2.0.3"
	echo "conf route fd00:99:$i::/48 via fd00:2::2"
	if [ $((i % 10)) = 0 ]; then
		echo "conf route 0.0.0.0/0 via 10.2.0.3"
		echo "conf route 10.30.0.0/16 reject"
		echo "# a more specific route elsewhere in 10/8"
		echo "conf route 10.21.0.0/24 via 10.2.0.3"
		echo "conf route-del 0.0.0.0/0"
		echo
		echo "conf route-del 10.30.0.0/16"
		echo "conf route-del 10.21.0.0/24"
	fi
done >"$T/add.batch"
n=$(grep -c '^conf' "$T/add.batch")
"$C" vnf "$T/r.ctl" --batch "$T/add.batch" >"$T/add.out" || fail=1
"$C" vnf "$T/r.ctl" conf route 0.0.0.0/0 via 10.2.0.3 >/dev/null || fail=1
"$C" vnf "$T/r.ctl" conf route-del 0.0.0.0/0 >/dev/null || fail=1
n=$((n + 2))
routes_mid=$("$C" vnf "$T/r.ctl" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["router"]["routes4"])')
for i in $(seq 0 149); do
	echo "conf route-del 172.16.$i.0/24"
	echo "conf route-del fd00:99:$i::/48"
done | "$C" vnf "$T/r.ctl" --json --batch - >"$T/del.out" || fail=1
n=$((n + 300))
check_eq "--batch: one reply a request (JSON with --json, one a line)" \
	"$(grep -c '^conf' "$T/add.batch") 300" \
	"$(grep -c '"ok": true' "$T/add.out") $(grep -c '^{ *"ok": *true' "$T/del.out")"
check_eq "$n route changes applied while traffic flowed" 0 "$fail"
check "the 150 IPv4 routes were in the table meanwhile ($routes_mid routes)" test "$routes_mid" -ge 150
wait "$GEN"
check "nf-gen finished" test -s "$T/gen.json"
sent=$(jget "$T/gen.json" tx.packets)
check "traffic flowed during the changes (> 150000 frames)" test "$sent" -gt 150000
check_eq "traffic to 10.20.0.0/16 (unchanged): every frame forwarded" "$sent" \
	"$(jget "$T/gen.json" rx.packets)"
check_eq "nothing lost" 0 "$(jget "$T/gen.json" rx.lost)"
"$C" vnf "$T/r.ctl" --json stats >"$T/stats.json"
python3 - "$T/stats.json" "$sent" <<'EOF' && ok "router counters: every frame through the three stages, no drop" || not_ok "router counters"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
st = d["stages"]
assert st["pre"]["in"] == n and st["post"]["out"] == n, st
assert not d["drops"], d["drops"]
assert d["router"]["routes4"] < 150, d["router"]
EOF
# --batch's errors: the first failing line stops the batch, named (the
# first line ends in CRLF: taken as it is).
printf 'conf route 10.40.0.0/16 via 10.2.0.3\r\n\nconf route 10.41.0.0/16 via 10.9.9.9 bogus\nconf route 10.42.0.0/16 via 10.2.0.3\n' >"$T/bad.batch"
"$C" vnf "$T/r.ctl" --batch "$T/bad.batch" >/dev/null 2>"$T/bad.err"
check_eq "--batch: a bad line stops it, exit 1, the error names FILE:LINE" "1 yes" \
	"$? $(grep -q "^nfchain: $T/bad.batch:3: " "$T/bad.err" && echo yes)"
check_eq "... the lines before it applied, none after" "10.40.0.0/16" \
	"$("$C" vnf "$T/r.ctl" --json routes | python3 -c 'import json,sys; print(" ".join(r["prefix"] for r in json.load(sys.stdin)["routes"] if r["prefix"].startswith("10.4")))')"
python3 -c 'print("conf route " + "x" * 5000)' | "$C" vnf "$T/r.ctl" --batch - 2>"$T/long.err"
check_eq "--batch: a line over 4095 bytes is refused, exit 1" "1 yes" \
	"$? $(grep -q '<stdin>:1: request too long' "$T/long.err" && echo yes)"
"$C" vnf "$T/r.ctl" --batch "$T/none.batch" 2>"$T/none.err"
check_eq "--batch: a missing file, exit 1" "1 yes" "$? $(grep -q 'none.batch: No such file' "$T/none.err" && echo yes)"
"$C" vnf "$T/r.ctl" --batch a b 2>/dev/null
check_eq "--batch with two files: a usage error, exit 2" 2 "$?"
kill "$RT"; wait "$RT" 2>/dev/null

# Exact bytes: one IPv4 and one IPv6 frame through the router, captured
# on a pcap port: TTL/hop limit one less, IPv4 checksum updated (RFC
# 1624), MACs rewritten, nothing else touched.
python3 - "$T" <<'EOF'
import struct, sys
T = sys.argv[1]
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def v4(ttl):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0x10, 20 + 12, 0x1234, 0x4000, ttl, 17, 0,
                    bytes([10, 1, 0, 2]), bytes([10, 20, 1, 2]))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + struct.pack('!HHHH', 7, 9, 12, 0) + b'abcd'
def v6(hl):
    src = bytes.fromhex('fd000001000000000000000000000002')
    dst = bytes.fromhex('fd000020000000000000000000000005')
    return struct.pack('!IHBB', 0x60000000, 12, 17, hl) + src + dst + struct.pack('!HHHH', 7, 9, 12, 0) + b'efgh'
eth = lambda d, s, t, p: bytes.fromhex(d) + bytes.fromhex(s) + struct.pack('!H', t) + p
inp = [eth('020000000101', '02000000aa01', 0x800, v4(64)), eth('020000000101', '02000000aa01', 0x86dd, v6(64))]
exp = [eth('020000000b02', '020000000102', 0x800, v4(63)), eth('020000000b02', '020000000102', 0x86dd, v6(63))]
def pcap(name, frames):
    with open(name, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack('<IIII', 0, 0, len(fr), len(fr)) + fr)
pcap(T + '/in.pcap', inp)
open(T + '/expected.hex', 'w').write('\n'.join(x.hex() for x in exp) + '\n')
EOF
sed -e "s|^port a .*|port a pcap:$T/in.pcap mac 02:00:00:00:01:01|" \
    -e "s|^port b .*|port b pcap:,$T/out.pcap mac 02:00:00:00:01:02|" "$T/r.conf" >"$T/p.conf"
timeout -s INT 2 "$R" -q -c "$T/p.conf" --ctl "$T/p.ctl" >/dev/null 2>&1
tshark -r "$T/out.pcap" -T fields -e frame.protocols 2>/dev/null | head -2 >/dev/null
python3 - "$T/out.pcap" >"$T/got.hex" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
o = 24
while o < len(d):
    incl = struct.unpack('<IIII', d[o:o + 16])[2]
    print(d[o + 16:o + 16 + incl].hex()); o += 16 + incl
EOF
check_eq "IPv4 and IPv6 frames forwarded byte for byte as expected" \
	"$(cat "$T/expected.hex")" "$(cat "$T/got.hex")"
exit 0
