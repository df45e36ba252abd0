# switch_afpacket.sh - nfswitch host ports (AF_PACKET, TPACKET_V3) carry
# traffic to and from veths in network namespaces this test creates:
#  - two Linux hosts (namespaces a and b) talk through the switch: ARP,
#    ping and a TCP transfer whose bytes are compared;
#  - 802.1Q-tagged frames (raw socket in a; this kernel has no VLAN
#    devices) reach b with their tag, as tshark in b decodes them, and the
#    switch learns per VLAN;
#  - nf-gen on a memif port sends to nf-gen on an AF_PACKET socket inside
#    namespace b, and back the other way: exact counts, zero loss;
#  - the switch's counters agree.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

netns A a; netns B b
HA="nfa$$"; HB="nfb$$"
ip link add "$HA" type veth peer name a0 netns "$A"
ip link add "$HB" type veth peer name b0 netns "$B"
cleanup "ip link del $HA"; cleanup "ip link del $HB"
for h in "$HA" "$HB"; do
	sysctl -qw "net.ipv6.conf.$h.disable_ipv6=1"
	ip link set "$h" up
done
# The hosts: addresses, and no transmit checksum offload (a user-space
# switch forwards frames as they are; a veth would hand it TCP segments
# with checksums left to "the hardware").
for n in "$A:a0:1" "$B:b0:2"; do
	IFS=: read -r ns dev i <<<"$n"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" addr add "10.9.0.$i/24" dev "$dev"
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1
done

"$BIN/nfswitch" -q -c "$T/ctl" -p "afpacket:$HA" -p "afpacket:$HB" \
	-p "memif:$T/sw.sock,id=0" >"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/sw.sock" || not_ok "nfswitch starts"

check "Linux host a pings host b through nfswitch (ARP + ICMP)" \
	ip netns exec "$A" ping -c 3 -i 0.2 -W 2 -q 10.9.0.2
ip netns exec "$B" timeout 15 tshark -l -n -i b0 -c 5 -f "vlan 100" \
	-T fields -e vlan.id -e eth.src -e eth.type -e vlan.etype >"$T/vlan.txt" 2>"$T/tshark.err" &
TS=$!
for i in $(seq 100); do grep -q "Capturing on" "$T/tshark.err" && break; sleep 0.1; done
ip netns exec "$A" python3 -c '
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("a0", 0))
for i in range(5):
    f = b"\xff" * 6 + bytes.fromhex("02000000aa0a") + struct.pack("!HHH", 0x8100, 100, 0x88b5)
    s.send(f + bytes([i]) * 46)
'
wait "$TS"
check_eq "5 tagged frames cross the switch with VLAN 100 intact (tshark in b)" \
	"$(printf '100\t02:00:00:00:aa:0a\t0x8100\t0x88b5\n%.0s' 1 2 3 4 5)" "$(cat "$T/vlan.txt")"
"$BIN/nfchain" switch --ctl "$T/ctl" --json fdb >"$T/fdb.json"
python3 - "$T/fdb.json" <<'EOF' && ok "switch learned the tagged source on VLAN 100, the hosts on VLAN 0" || not_ok "switch learns per VLAN"
import json, sys
f = json.load(open(sys.argv[1]))["fdb"]
assert {"mac": "02:00:00:00:aa:0a", "vlan": 100} in [{"mac": e["mac"], "vlan": e["vlan"]} for e in f], f
assert sum(1 for e in f if e["vlan"] == 0) >= 2, f
EOF

# TCP: 2 MB of random bytes from a to b.
head -c 2000000 /dev/urandom >"$T/blob"
ip netns exec "$B" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.9.0.2", 5001)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); out = open(sys.argv[1], "wb")
while True:
    b = c.recv(65536)
    if not b: break
    out.write(b)
' "$T/recv" &
SRV=$!
sleep 0.3
ip netns exec "$A" python3 -c '
import socket, sys
s = socket.create_connection(("10.9.0.2", 5001), timeout=20)
s.sendall(open(sys.argv[1], "rb").read()); s.close()
' "$T/blob"
wait "$SRV"
check "TCP transfer of 2 MB through nfswitch arrives byte for byte" cmp -s "$T/blob" "$T/recv"

# nf-gen: memif -> switch -> AF_PACKET (b0, inside namespace b).
N=20000
ip netns exec "$B" "$BIN/nf-gen" --rx afpacket:b0 --count "$N" --idle 3s --json \
	>"$T/sink1.json" 2>"$T/sink1.err" &
SINK=$!
sleep 0.5
"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0" --count "$N" --rate 20k --drain 1s \
	--json >"$T/src1.json" 2>"$T/src1.err"
wait "$SINK"
check_eq "memif -> nfswitch -> AF_PACKET -> nf-gen in namespace b: $N frames" \
	"$N" "$(jget "$T/sink1.json" rx.packets)"
check_eq "nothing lost on the way out" 0 "$(jget "$T/sink1.json" rx.lost)"

# nf-gen: AF_PACKET (a0, namespace a) -> switch -> memif.
"$BIN/nf-gen" --rx "memif:$T/sw.sock,id=0" --count "$N" --idle 3s --json \
	>"$T/sink2.json" 2>"$T/sink2.err" &
SINK=$!
sleep 0.5
ip netns exec "$A" "$BIN/nf-gen" --tx afpacket:a0 --count "$N" --rate 20k \
	--src-mac 02:00:00:00:0a:01 --json >"$T/src2.json" 2>"$T/src2.err"
wait "$SINK"
check_eq "AF_PACKET in namespace a -> nfswitch -> memif: $N frames" \
	"$N" "$(jget "$T/sink2.json" rx.packets)"
check_eq "nothing lost on the way in" 0 "$(jget "$T/sink2.json" rx.lost)"

"$BIN/nfchain" switch --ctl "$T/ctl" --json ports >"$T/ports.json"
python3 - "$T/ports.json" "$N" "$HA" "$HB" <<'EOF' && ok "switch counters: host ports carried the nf-gen frames, no drops" || not_ok "switch counters of the host ports"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
p = {x["name"]: x for x in d["ports"]}
a, b = p["afpacket:" + sys.argv[3]], p["afpacket:" + sys.argv[4]]
assert a["rx_packets"] >= n, a
assert b["tx_packets"] >= n, b
for x in d["ports"]:
    bad = {k: v for k, v in x["drops"].items() if v and k not in ("no-port",)}
    assert not bad, (x["name"], bad)
EOF
exit 0
