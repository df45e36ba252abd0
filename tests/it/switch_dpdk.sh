# switch_dpdk.sh - interoperability with DPDK's memif PMD (dpdk-testpmd from
# Debian's dpdk-dev, DPDK 22.11):
#  1. testpmd as a memif CLIENT on an nfswitch port, forwarding with macswap,
#     exchanges N frames (200,000) each way with nf-gen on another port: zero
#     loss, and testpmd's own counters agree.
#  2. nf-gen as a memif CLIENT talks directly to testpmd as a memif SERVER
#     (macswap): N frames out and back, zero loss.
#  3. The switch's counters (nfchain switch ports --json) match.
#  4. testpmd as a client with 160-byte buffers: frames the switch
#     encapsulates from its flow cache (two pieces) are written into
#     them exactly or chained, and come back exact to the byte.
# testpmd runs with --no-huge -m 1024 (this machine has no hugepages).
# Three programs share two cores (testpmd busy-polls one core): the switch
# runs in interrupt mode and every ring has 8192 slots (rsize=13, as many as
# nf-gen's 16384-buffer pool holds for one client port), 328 ms at the
# test's rate: a CI run once lost 95 frames with 4096-slot rings (an 84 ms
# stall of the switch's virtual CPU), and on 2026-12-02 a machine lost
# 200-650 frames in 5 of 16 runs at 50k frames/s (a ring full behind
# nf-gen or testpmd: stalls of more than 164 ms); none in 6 at 25k.
. "$(dirname "$0")/../lib.sh"

N=${DPDK_FRAMES:-200000}	# 8 s each way at RATE (CI time)
RATE=${DPDK_RATE:-25k}
command -v dpdk-testpmd >/dev/null || { not_ok "dpdk-testpmd is installed (scripts/deps)"; exit 1; }

# Start testpmd; arguments: file-prefix, vdev args, log file. Its pid is
# in $TP (not "$(testpmd ...)": the cleanup registered in a command
# substitution's subshell would be lost).
testpmd() {
	local pfx=$1 vdev=$2 log=$3
	# Non-interactive testpmd quits when stdin ends: give it a fifo that
	# stays open (read-write) until cleanup.
	mkfifo "$T/$pfx.in"
	stdbuf -oL dpdk-testpmd --lcores=0@0,1@1 --no-huge -m 1024 --no-pci \
		--file-prefix="$pfx" --vdev="net_memif0,$vdev,socket-abstract=no" -- \
		--total-num-mbufs=65536 --forward-mode=macswap -a \
		--stats-period 1 >"$log" 2>&1 <>"$T/$pfx.in" &
	TP=$!
	cleanup "kill $TP; wait $TP; rm -rf /var/run/dpdk/$pfx"
}
# testpmd's RX or TX packet count: the largest its statistics printed
# (the memif PMD resets its counters when the peer disconnects, so the
# final "Forward statistics" of a server read 0; nf-gen --hold keeps the
# connection 2.5 s after the last frame, which leaves time for a print).
tp_count() { grep -oP "$2-packets: +\K[0-9]+" "$1" | sort -n | tail -1; }
stop_testpmd() { kill -INT "$1"; for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; }

# ---- 1. testpmd client on an nfswitch port ----
"$BIN/nfswitch" -q --mode intr -c "$T/ctl" -p "memif:$T/sw.sock,id=0" -p "memif:$T/sw.sock,id=1" \
	>"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/sw.sock" || not_ok "nfswitch creates its memif socket"
testpmd nft1 "role=client,id=1,socket=$T/sw.sock,rsize=13" "$T/tp1.log"

# Wait until testpmd forwards ("Logical Core 1 ... forwards packets on"); before
# that its receive ring has no buffers and frames would be dropped.
wait_testpmd() {
	for i in $(seq 200); do grep -q 'forwards packets on' "$1" && return 0; sleep 0.05; done
	return 1
}
wait_testpmd "$T/tp1.log" || not_ok "testpmd starts forwarding"
# testpmd says it forwards before its memif client has connected (its
# region, 2 x 8192 buffers, takes a moment): wait for the switch to see it.
for i in $(seq 100); do
	"$BIN/nfchain" switch --ctl "$T/ctl" --json ports >"$T/ports0.json"
	grep -q 'peer=\\"DPDK 22.11' "$T/ports0.json" && break
	sleep 0.1
done
check "testpmd (DPDK 22.11 memif PMD, client) connects to nfswitch" \
	"$BIN/nfchain" switch --ctl "$T/ctl" ports
check "nfswitch sees DPDK as the peer of port 1" grep -q 'peer=\\"DPDK 22.11' "$T/ports0.json"

"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0,rsize=13" --rx "memif:$T/sw.sock,id=0,rsize=13" \
	--count "$N" --rate "$RATE" --drain 2s --json --expect-zero-loss >"$T/gen1.json" 2>"$T/gen1.err"
rc=$?
check_eq "nf-gen -> nfswitch -> testpmd macswap -> nfswitch -> nf-gen exits 0 (zero loss)" 0 "$rc"
check_eq "nf-gen sent $N frames" "$N" "$(jget "$T/gen1.json" tx.packets)"
check_eq "nf-gen received $N frames back" "$N" "$(jget "$T/gen1.json" rx.packets)"
check_eq "nothing lost" 0 "$(jget "$T/gen1.json" rx.lost)"
check_eq "nothing reordered" 0 "$(jget "$T/gen1.json" rx.reordered)"
stop_testpmd "$TP"
check_eq "testpmd received $N frames" "$N" "$(tp_count "$T/tp1.log" RX)"
check_eq "testpmd transmitted $N frames" "$N" "$(tp_count "$T/tp1.log" TX)"
"$BIN/nfchain" switch --ctl "$T/ctl" --json ports >"$T/ports1.json"
python3 - "$T/ports1.json" "$N" <<'EOF' && ok "switch counters: each port received and sent $N, no drops" || not_ok "switch counters match"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
for p in d["ports"]:
    assert p["rx_packets"] == n and p["tx_packets"] == n, p
    assert sum(v for k, v in p["drops"].items()) == 0, p["drops"]
EOF
kill "$SW"; wait "$SW" 2>/dev/null

# ---- 2. nf-gen client, testpmd server ----
testpmd nft2 "role=server,id=0,socket=$T/tp.sock,rsize=13" "$T/tp2.log"
wait_for "$T/tp.sock" 10 || not_ok "testpmd creates its server socket"
wait_testpmd "$T/tp2.log" || not_ok "testpmd (server) starts forwarding"
"$BIN/nf-gen" --tx "memif:$T/tp.sock,rsize=13" --rx "memif:$T/tp.sock,rsize=13" \
	--count "$N" --rate "$RATE" --drain 2s --hold 2500ms --wait 10s --json \
	--expect-zero-loss >"$T/gen2.json" 2>"$T/gen2.err"
rc=$?
check_eq "nf-gen (client) <-> testpmd (server, macswap) exits 0 (zero loss)" 0 "$rc"
check_eq "nf-gen received $N frames from testpmd" "$N" "$(jget "$T/gen2.json" rx.packets)"
check_eq "nothing lost" 0 "$(jget "$T/gen2.json" rx.lost)"
stop_testpmd "$TP"
check_eq "testpmd (server) received $N frames" "$N" "$(tp_count "$T/tp2.log" RX)"
check_eq "testpmd (server) transmitted $N frames" "$N" "$(tp_count "$T/tp2.log" TX)"
[ -s "$T/gen2.err" ] && sed 's/^/    nf-gen: /' "$T/gen2.err" | head -5

# ---- 4. two-piece frames into buffers smaller than NF_HDR_ROOM ----
# A flow cache hit that encapsulates leaves as two pieces, the flow's
# header and the frame's own bytes (NF_PKT_F_HDR), joined by the memif
# transmit. testpmd's buffers here are 160 bytes (bsize=160, less than the
# 192 that nf_pkt_copy() writes in whole moves), so the fast loop leaves
# each to the slow path: made one piece, written exactly (up to 160 bytes)
# or chained over several buffers (srv_tx_chain_hdr()). testpmd sends each
# back (macswap) in chains of its own, which the switch's receive joins,
# and a rule sends them to a pcap port: the exact bytes of steer_lib's
# encap() with the MACs swapped, in order. One flow, input frames of 48 to
# 1400 bytes (encapsulated: 128 to 1480, 160 and 161 among them), four of
# each size: the first frame fills the flow cache, the other 27 hit; the
# first that comes back fills an SRv6 entry, the other 27 hit it.
export ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export BIN T
printf '%s\n' "srv6-source fd00::5" "rule id 2 in-port 0 action output 1" \
	"rule id 1 udp dport 9 action srv6-encap fc00::a,fc00::b output 0" >"$T/steer4.conf"
"$BIN/nfswitch" -q --mode intr -c "$T/ctl4" -p "memif:$T/sw4.sock,id=0" -p "pcap:,$T/out4.pcap" \
	-S "$T/steer4.conf" >"$T/sw4.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/sw4.sock" || not_ok "nfswitch (part 4) creates its memif socket"
testpmd nft4 "role=client,id=0,socket=$T/sw4.sock,bsize=160" "$T/tp4.log"
wait_testpmd "$T/tp4.log" || not_ok "testpmd (bsize=160) starts forwarding"
for i in $(seq 100); do
	"$BIN/nfchain" switch --ctl "$T/ctl4" --json ports >"$T/ports4.json"
	[ "$(jq -r '.ports[] | select(.index == 0) | .up' "$T/ports4.json")" = true ] && break
	sleep 0.1
done
python3 - "$T" <<'EOF' || not_ok "the input and expected frames are written"
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "it"))
from steer_lib import encap, u4, wpcap
fr, want = [], []
for n in (48, 60, 80, 81, 100, 1000, 1400):
    for k in range(4):
        f = u4(4000, 9, data=bytes((n + k + j) & 255 for j in range(n - 42)))
        e = encap(f, ["fc00::a", "fc00::b"], "fd00::5")
        fr.append(f)
        want.append(e[6:12] + e[0:6] + e[12:])
wpcap(sys.argv[1] + "/in4.pcap", fr)
wpcap(sys.argv[1] + "/want4.pcap", want)
EOF
"$BIN/nfchain" switch --ctl "$T/ctl4" add-port "pcap:$T/in4.pcap" inj >/dev/null
for i in $(seq 100); do
	"$BIN/nfchain" switch --ctl "$T/ctl4" --json ports >"$T/ports4.json"
	[ "$(jq '.ports[] | select(.index == 1) | .tx_packets' "$T/ports4.json")" = 28 ] && break
	sleep 0.1
done
"$BIN/nfchain" switch --ctl "$T/ctl4" --json steer-stats >"$T/stats4.json"
kill -KILL "$TP"		# its counters are not read: no orderly exit (3 s)
kill "$SW"; wait "$SW"
check_eq "nfswitch (part 4) exits cleanly" 0 "$?"
check_eq "27 of the 28 frames were flow cache hits (sent in two pieces), and 27 of the 28 that came back (SRv6 frames that arrive: an entry of their own)" "54 2 1" \
	"$(jq -r '"\(.flow_cache_hits) \(.flow_cache_fills) \(.flow_cache_srv6_fills)"' "$T/stats4.json")"
check_eq "memif port 0 (testpmd, 160-byte buffers) received 28, sent 28, no drop" "28 28 0" \
	"$(jq -r '.ports[] | select(.index == 0) | "\(.rx_packets) \(.tx_packets) \([.drops[]] | add)"' \
		"$T/ports4.json")"
python3 - "$T" <<'EOF' || not_ok "the frame comparison ran"
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "it"))
from steer_lib import rpcap, same_frames
same_frames("encapsulated frames of 128-1480 bytes through 160-byte buffers and back: "
            "exact bytes, in order", rpcap(sys.argv[1] + "/want4.pcap"),
            rpcap(sys.argv[1] + "/out4.pcap"))	# prints its ok / not ok
EOF
exit 0
