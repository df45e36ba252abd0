# switch_afxdp.sh - nfswitch's AF_XDP port (nf_afxdp.c) on a veth whose
# peer is in a namespace this test creates:
#  - bad specs are refused with one sentence (unknown key, queue out of
#    range, no interface, missing name);
#  - the port opens (native XDP on veth, copy mode) and says so in the
#    switch's `ports` reply; libxdp's program is on the interface; a
#    second afxdp port on the same interface is refused;
#  - exact bytes out: frames of every size 60..1514 (and one 2000-byte
#    frame, over the MTU: counted tx-too-big) from a pcap port through the
#    switch and the AF_XDP port, captured by tcpdump in the namespace, byte
#    for byte; the same frames through an AF_PACKET port give the same
#    capture;
#  - exact bytes in: the same sizes sent by a raw socket in the namespace
#    reach the switch's pcap output byte for byte;
#  - xdp=skb (generic mode) carries the same frames byte for byte;
#  - nf-gen itself on an afxdp port (frames built in place, tx_get/tx_put)
#    sends to and receives from the namespace: exact counts;
#  - nf-gen on memif <-> the switch <-> nf-gen on AF_PACKET in the
#    namespace, both ways: exact counts, zero loss; the switch in intr mode
#    (the XSK's descriptor wakes it);
#  - after kill -9 the XDP program stays, the next switch opens the port
#    again (reusing it), carries traffic, and removes it on exit;
#  - fallback: mode=zerocopy, which veth refuses, opens as AF_PACKET and
#    says why; with fallback=none the switch exits 1 with the reason.
#  - MTU 3000: UMEM frames of 4096 bytes carry frames up to 3014 bytes
#    byte for byte, one over the MTU is counted tx-too-big.
. "$(dirname "$0")/../lib.sh"

netns B afxb
H="afx$$"
ip link add "$H" type veth peer name b0 netns "$B"
cleanup "ip link del $H"
sysctl -qw "net.ipv6.conf.$H.disable_ipv6=1"
ip netns exec "$B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set "$H" up
ip -n "$B" link set b0 up
CTL="$T/ctl"
sw() { "$BIN/nfchain" switch --ctl "$CTL" "$@"; }
# sw_ready: the switch answers on its control socket (a socket file left by
# a killed switch does not count), up to 15 s.
sw_ready() {
	local i
	for i in $(seq 150); do sw ports >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

# gen_out NAME N: nf-gen on the switch's memif port sends N frames to
# nf-gen on AF_PACKET in the namespace; its report in $T/NAME.json.
gen_out() {
	local sink
	ip netns exec "$B" "$BIN/nf-gen" --rx afpacket:b0 --count "$2" --idle 3s \
		--json >"$T/$1.json" 2>"$T/$1.err" &
	sink=$!
	sleep 0.5
	"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0" --count "$2" --rate 10k \
		--drain 1s --json >"$T/$1-src.json" 2>"$T/$1-src.err"
	wait "$sink"
}

# --- specs ---------------------------------------------------------------
spec_err() {	# description expected-sentence spec
	local out rc
	out=$("$BIN/nfswitch" -n -p "$3" 2>&1); rc=$?
	check_eq "spec refused, $1 (exit status 2)" 2 "$rc"
	check_eq "spec refused, $1: the sentence" "nfswitch: $2 (see nfswitch --help)" "$out"
}
spec_err "unknown key" "unknown option 'bogus' for a afxdp port (known: queue, mode, xdp, fallback, rsize, frame_size)" "afxdp:$H,bogus=1"
spec_err "queue out of range" "queue=1: interface '$H' has 1 receive queue (0..0)" "afxdp:$H,queue=1"
spec_err "no such interface" "no network interface named 'afxnosuch'" "afxdp:afxnosuch"
spec_err "missing interface" "afxdp port needs exactly one interface name (afxdp:IFNAME[,queue=N,mode=auto|copy|zerocopy,xdp=auto|native|skb,fallback=afpacket|none,rsize=LOG2,frame_size=2048|4096])" "afxdp:"
spec_err "bad mode" "mode=fast: expected auto or copy or zerocopy" "afxdp:$H,mode=fast"
check_eq "a good spec passes --check" "configuration OK" \
	"$("$BIN/nfswitch" -n -p "afxdp:$H,queue=0,mode=copy,xdp=native,rsize=12" 2>&1)"

# --- frames: every size 60..1514, one 2000-byte frame, in a pcap ----------
# mkframes OUT SIZE...: pcap of frames of these sizes to an unknown unicast
# MAC (flooded), EtherType 0x88b5, seeded pseudo-random payload.
mkframes() {
	python3 - "$@" <<'EOF2'
import random, struct, sys
r = random.Random(8)
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
for n in map(int, sys.argv[2:]):
    f = bytes.fromhex("0200000000bb0200000000aa88b5") + bytes(r.randrange(256) for _ in range(n - 14))
    out.write(struct.pack("<IIII", 0, 0, n, n) + f)
EOF2
}
mkframes "$T/in.pcap" $(seq 60 1514) 2000
# pcap_frames FILE: one hex line per frame of EtherType 0x88b5
cat >"$T/frames.py" <<'EOF2'
import struct, sys
d = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", d[:4])[0]
e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
o = 24
while o + 16 <= len(d):
    cap = struct.unpack(e + "I", d[o + 8:o + 12])[0]
    f = d[o + 16:o + 16 + cap]
    o += 16 + cap
    if f[12:14] == b"\x88\xb5":
        print(f.hex())
EOF2
frames() { python3 "$T/frames.py" "$1"; }
frames "$T/in.pcap" >"$T/all_in.txt"
head -1455 "$T/all_in.txt" >"$T/want_out.txt"

# capture_out NAME PORTSPEC: start a switch with PORTSPEC and a pcap port
# reading in.pcap (added once tcpdump listens in the namespace); the
# frames seen on b0 go to $T/NAME.pcap.
# capture_out NAME PORTSPEC [INPUT COUNT]: the same with another input
# (COUNT frames expected).
capture_out() {
	local name=$1 spec=$2 in=${3:-$T/in.pcap} count=${4:-1455} i
	"$BIN/nfswitch" -q -c "$CTL" -p "$spec" >"$T/sw-$name.log" 2>&1 &
	SW=$!
	cleanup "kill $SW"
	sw_ready || not_ok "nfswitch starts ($name)"
	ip netns exec "$B" timeout 30 tcpdump -B 32768 -U -n -i b0 -s 0 -c "$count" -w "$T/$name.pcap" \
		ether proto 0x88b5 2>"$T/tcpdump-$name.err" &
	TD=$!
	for i in $(seq 100); do grep -q "listening on" "$T/tcpdump-$name.err" && break; sleep 0.1; done
	sw add-port "pcap:$in" inject >/dev/null
	wait "$TD"
}

# --- the AF_XDP port, exact bytes out ------------------------------------
capture_out xdp "afxdp:$H,mode=copy,rsize=12"
check "the XDP program is on the interface (libxdp's xsk_def_prog)" \
	bash -c "ip link show $H | grep -q 'prog/xdp.*xsk_def_prog'"
frames "$T/xdp.pcap" >"$T/got_xdp.txt"
check_eq "pcap -> nfswitch -> afxdp -> tcpdump in the namespace: 1455 frames, 60..1514 bytes" \
	1455 "$(wc -l <"$T/got_xdp.txt")"
check "every frame arrives byte for byte, in order" cmp -s "$T/want_out.txt" "$T/got_xdp.txt"
sw --json ports >"$T/ports1.json"
python3 - "$T/ports1.json" "$H" <<'EOF2' && ok "ports reply: type afxdp, native XDP, copy mode, counters (1455 sent, the 2000-byte frame tx-too-big)" || not_ok "ports reply of the afxdp port"
import json, sys
d = json.load(open(sys.argv[1]))
p = [x for x in d["ports"] if x["type"] == "afxdp"][0]
assert p["up"], p
assert " xdp=native bind=copy " in p["detail"], p["detail"]
assert p["detail"].startswith("ifname=%s queue=0 " % sys.argv[2]), p["detail"]
assert p["tx_packets"] == 1455, p
assert p["tx_bytes"] == sum(range(60, 1515)), p
assert p["drops"]["tx-too-big"] == 1, p["drops"]
EOF2

out=$(sw add-port "afxdp:$H,rsize=11" second 2>&1); rc=$?
echo "# $out"
check_eq "a second afxdp port on the same interface is refused (one per program)" \
	"1 nfchain: interface '$H' already has an afxdp port in this program (one afxdp port per interface)" "$rc $out"

# --- exact bytes in: a raw socket in the namespace -> afxdp -> pcap OUT ---
sw add-port "pcap:,$T/out.pcap" capture >/dev/null
ip netns exec "$B" python3 - "$T/in.pcap" <<'EOF2'
import socket, struct, sys, time
d = open(sys.argv[1], "rb").read(); o = 24
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("b0", 0))
i = 0
while o + 16 <= len(d):
    n = struct.unpack("<I", d[o + 8:o + 12])[0]
    f = d[o + 16:o + 16 + n]; o += 16 + n
    if n > 1514: break
    # other MACs: the switch learned aa on the pcap port
    s.send(bytes.fromhex("0200000000dd0200000000cc") + f[12:])
    i += 1
    if i % 64 == 0: time.sleep(0.002)
EOF2
sed 's/^0200000000bb0200000000aa/0200000000dd0200000000cc/' "$T/want_out.txt" >"$T/want_in.txt"
for i in $(seq 100); do
	[ "$(frames "$T/out.pcap" 2>/dev/null | wc -l)" -ge 1455 ] && break; sleep 0.1
done
sw del-port capture >/dev/null
frames "$T/out.pcap" >"$T/got_in.txt"
check_eq "raw socket in the namespace -> afxdp -> nfswitch -> pcap: 1455 frames" \
	1455 "$(wc -l <"$T/got_in.txt")"
check "every frame received byte for byte, in order" cmp -s "$T/want_in.txt" "$T/got_in.txt"
kill "$SW"; wait "$SW"
check_eq "nfswitch exits cleanly (status 0) and closes the port" 0 "$?"
check "closing the port removed the XDP program" \
	bash -c "! ip link show $H | grep -q prog/xdp"

# --- generic (skb) mode ------------------------------------------------------
capture_out skb "afxdp:$H,xdp=skb,mode=copy"
sw --json ports >"$T/ports-skb.json"
kill "$SW"; wait "$SW"
frames "$T/skb.pcap" >"$T/got_skb.txt"
check "xdp=skb: the port attaches in generic mode (ports detail)" \
	grep -q '"detail": *"ifname=[^"]* xdp=skb bind=copy ' "$T/ports-skb.json"
check "xdp=skb: the same 1455 frames, byte for byte" cmp -s "$T/want_out.txt" "$T/got_skb.txt"

# --- nf-gen on an afxdp port (frames built in place: tx_get / tx_put) ------
N=5000
ip netns exec "$B" "$BIN/nf-gen" --rx afpacket:b0 --count "$N" --idle 3s --json \
	>"$T/gsink.json" 2>"$T/gsink.err" &
SINK=$!
sleep 0.5
"$BIN/nf-gen" --tx "afxdp:$H,mode=copy" --count "$N" --rate 10k --size 1514 --json \
	>"$T/gsrc.json" 2>"$T/gsrc.err"
wait "$SINK"
check_eq "nf-gen --tx afxdp -> nf-gen in the namespace: $N frames of 1514 bytes" \
	"$N $((N * 1514)) 0" "$(jget "$T/gsink.json" rx.packets) $(jget "$T/gsink.json" rx.bytes) $(jget "$T/gsink.json" rx.lost)"
"$BIN/nf-gen" --rx "afxdp:$H,mode=copy,rsize=13" --count "$N" --idle 3s --json \
	>"$T/gsink2.json" 2>"$T/gsink2.err" &
SINK=$!
sleep 1
ip netns exec "$B" "$BIN/nf-gen" --tx afpacket:b0 --count "$N" --rate 10k --json \
	>"$T/gsrc2.json" 2>"$T/gsrc2.err"
wait "$SINK"
check_eq "nf-gen in the namespace -> nf-gen --rx afxdp: $N frames, none lost" \
	"$N 0" "$(jget "$T/gsink2.json" rx.packets) $(jget "$T/gsink2.json" rx.lost)"

# --- the kernel's answer: the same frames through AF_PACKET --------------
capture_out afp "afpacket:$H"
kill "$SW"; wait "$SW"
frames "$T/afp.pcap" >"$T/got_afp.txt"
check "the same frames through an afpacket port give the same capture" \
	cmp -s "$T/got_afp.txt" "$T/got_xdp.txt"

# --- nf-gen both ways, the switch in intr mode ----------------------------
"$BIN/nfswitch" -q -m intr -c "$CTL" -p "afxdp:$H,mode=copy,rsize=13" \
	-p "memif:$T/sw.sock,id=0" >"$T/sw-gen.log" 2>&1 &
SW=$!
cleanup "kill -9 $SW"
sw_ready || not_ok "nfswitch starts"
N=20000
gen_out sink1 "$N"
check_eq "nf-gen memif -> nfswitch -> afxdp -> nf-gen in the namespace: $N frames" \
	"$N" "$(jget "$T/sink1.json" rx.packets)"
check_eq "nothing lost on the way out" 0 "$(jget "$T/sink1.json" rx.lost)"
"$BIN/nf-gen" --rx "memif:$T/sw.sock,id=0" --count "$N" --idle 3s --json \
	>"$T/sink2.json" 2>"$T/sink2.err" &
SINK=$!
sleep 0.5
ip netns exec "$B" "$BIN/nf-gen" --tx afpacket:b0 --count "$N" --rate 10k \
	--src-mac 02:00:00:00:0b:01 --json >"$T/src2.json" 2>"$T/src2.err"
wait "$SINK"
check_eq "nf-gen in the namespace -> afxdp -> nfswitch -> memif: $N frames" \
	"$N" "$(jget "$T/sink2.json" rx.packets)"
check_eq "nothing lost on the way in" 0 "$(jget "$T/sink2.json" rx.lost)"
sw --json ports >"$T/ports2.json"
python3 - "$T/ports2.json" "$N" <<'EOF2' && ok "switch counters: the afxdp port carried both directions, no drops" || not_ok "switch counters of the afxdp port"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
p = [x for x in d["ports"] if x["type"] == "afxdp"][0]
assert p["rx_packets"] >= n and p["tx_packets"] >= n, p
for x in d["ports"]:
    bad = {k: v for k, v in x["drops"].items() if v and k not in ("no-port",)}
    assert not bad, (x["name"], bad)
EOF2

# --- kill -9, then the next switch ---------------------------------------
kill -9 "$SW"; wait "$SW" 2>/dev/null
check "after kill -9 the XDP program stays on the interface" \
	bash -c "ip link show $H | grep -q 'prog/xdp.*xsk_def_prog'"
"$BIN/nfswitch" -q -c "$CTL" -p "afxdp:$H,mode=copy" \
	-p "memif:$T/sw.sock,id=0" >"$T/sw-k9.log" 2>&1 &
SW=$!
cleanup "kill $SW"
sw_ready || not_ok "nfswitch starts again"
sw --json ports >"$T/ports3.json"
check "the next switch opens the port with AF_XDP again, reusing the program" \
	python3 -c 'import json, sys
p = [x for x in json.load(open(sys.argv[1]))["ports"] if x["type"] == "afxdp"][0]
assert p["up"] and "bind=copy" in p["detail"] and "reused_leftover_prog=" in p["detail"], p' "$T/ports3.json"
M=2000
gen_out sink3 "$M"
check_eq "and carries traffic: $M frames" "$M" "$(jget "$T/sink3.json" rx.packets)"
kill "$SW"; wait "$SW"
check_eq "that switch exits cleanly (status 0)" 0 "$?"
check "its close removes the leftover program" \
	bash -c "! ip link show $H | grep -q prog/xdp"

# --- fallback --------------------------------------------------------------
"$BIN/nfswitch" -q -c "$CTL" -p "afxdp:$H,mode=zerocopy" \
	-p "memif:$T/sw.sock,id=0" >"$T/sw-fb.log" 2>&1 &
SW=$!
cleanup "kill $SW"
sw_ready || not_ok "nfswitch starts with the fallback"
sw --json ports >"$T/ports4.json"
python3 - "$T/ports4.json" "$H" <<'EOF2' && ok "mode=zerocopy on veth: the port falls back to AF_PACKET and says why" || not_ok "the fallback port's detail"
import json, sys
p = [x for x in json.load(open(sys.argv[1]))["ports"] if x["type"] == "afxdp"][0]
want = ("afxdp fell back to afpacket: no AF_XDP socket on '%s' queue 0 "
        "(native zerocopy: Operation not supported, skb zerocopy: " % sys.argv[2])
assert p["up"] and p["detail"].startswith(want), p["detail"]
assert "; ifname=%s ifindex=" % sys.argv[2] in p["detail"], p["detail"]
EOF2
check "no XDP program is left on the interface" \
	bash -c "! ip link show $H | grep -q prog/xdp"
gen_out sink4 "$M"
check_eq "the fallen-back port carries traffic: $M frames" "$M" "$(jget "$T/sink4.json" rx.packets)"
kill "$SW"; wait "$SW"
check_eq "the switch with the fallen-back port exits cleanly (status 0)" 0 "$?"

out=$("$BIN/nfswitch" -q -c "$CTL" -p "afxdp:$H,mode=zerocopy,fallback=none" 2>&1); rc=$?
check_eq "fallback=none: nfswitch exits with status 1" 1 "$rc"
echo "# $out"
check "fallback=none: one sentence with the reason" \
	bash -c '[ "$(printf "%s\n" "$1" | wc -l)" = 1 ] && [[ "$1" == *"no AF_XDP socket on '"'$H'"' queue 0 (native zerocopy: Operation not supported"* ]]' _ "$out"
# --- jumbo frames: MTU 3000, UMEM frames of 4096 bytes --------------------
ip link set "$H" mtu 3000
ip -n "$B" link set b0 mtu 3000
mkframes "$T/jumbo-in.pcap" 1515 2048 3014 3015
capture_out jumbo "afxdp:$H,mode=copy" "$T/jumbo-in.pcap" 3
frames "$T/jumbo-in.pcap" >"$T/all_jumbo.txt"
head -3 "$T/all_jumbo.txt" >"$T/want_jumbo.txt"
frames "$T/jumbo.pcap" >"$T/got_jumbo.txt"
check "MTU 3000: frames of 1515, 2048 and 3014 bytes arrive byte for byte" \
	cmp -s "$T/want_jumbo.txt" "$T/got_jumbo.txt"
sw --json ports >"$T/ports5.json"
kill "$SW"; wait "$SW"
check_eq "the switch exits cleanly (status 0)" 0 "$?"
check "MTU 3000: 4096-byte UMEM frames, the 3015-byte frame counted tx-too-big" \
	python3 -c 'import json, sys
p = [x for x in json.load(open(sys.argv[1]))["ports"] if x["type"] == "afxdp"][0]
assert " frame=4096 mtu=3000 " in p["detail"], p["detail"]
assert p["tx_packets"] == 3 and p["drops"]["tx-too-big"] == 1, p' "$T/ports5.json"
exit 0
