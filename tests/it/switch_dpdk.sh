# switch_dpdk.sh - interoperability with DPDK's memif PMD (dpdk-testpmd from
# Debian's dpdk-dev, DPDK 22.11):
#  1. testpmd as a memif CLIENT on an nfswitch port, forwarding with macswap,
#     exchanges 1,000,000 frames each way with nf-gen on another port: zero
#     loss, and testpmd's own counters agree.
#  2. nf-gen as a memif CLIENT talks directly to testpmd as a memif SERVER
#     (macswap): 1,000,000 frames out and back, zero loss.
#  3. The switch's counters (nfchain switch ports --json) match.
# testpmd runs with --no-huge -m 1024 (this machine has no hugepages).
# Three programs share two cores (testpmd busy-polls one core): the switch
# runs in interrupt mode and every ring has 8192 slots (rsize=13, as many as
# nf-gen's 16384-buffer pool holds for one client port), 164 ms at the
# test's rate: a CI run once lost 95 frames with 4096-slot rings (an 84 ms
# stall of the switch's virtual CPU).
. "$(dirname "$0")/../lib.sh"

N=${DPDK_FRAMES:-400000}	# 8 s each way at RATE (1M: 20 s; CI time)
RATE=${DPDK_RATE:-50k}
command -v dpdk-testpmd >/dev/null || { not_ok "dpdk-testpmd is installed (scripts/deps)"; exit 1; }

# Start testpmd; arguments: file-prefix, vdev args, log file.
testpmd() {
	local pfx=$1 vdev=$2 log=$3
	# Non-interactive testpmd quits when stdin ends: give it a fifo that
	# stays open (read-write) until cleanup.
	mkfifo "$T/$pfx.in"
	stdbuf -oL dpdk-testpmd --lcores=0@0,1@1 --no-huge -m 1024 --no-pci \
		--file-prefix="$pfx" --vdev="net_memif0,$vdev,socket-abstract=no" -- \
		--total-num-mbufs=65536 --forward-mode=macswap -a \
		--stats-period 1 >"$log" 2>&1 <>"$T/$pfx.in" &
	local pid=$!
	cleanup "kill $pid; wait $pid; rm -rf /var/run/dpdk/$pfx"
	echo $pid
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
TP=$(testpmd nft1 "role=client,id=1,socket=$T/sw.sock,rsize=13" "$T/tp1.log")

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
TP=$(testpmd nft2 "role=server,id=0,socket=$T/tp.sock,rsize=13" "$T/tp2.log")
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
exit 0
