#!/usr/bin/env bash
# gen_memif.sh - nf-gen end to end: one nf-gen as memif server sending, one
# as memif client receiving (IPv4, IPv6, 9000-byte chained frames, flows,
# rate limit, interrupt mode: its CPU against busy polling, and asleep
# once its peer left, died or never came), one process sending and
# receiving, --flow-stats (lossless, crafted loss, nfswitch dropping two
# flows), SIGINT, the sink's loss/duplicate/reorder accounting on crafted
# pcap input, --train (packet trains: the frames in order, --flow-stats
# with them), --tos and the checksums of written frames (exact bytes, and
# tshark), and the command line's usage errors (exit 2, one line on
# stderr).
. "$(dirname "$0")/../lib.sh"

GEN=$BIN/nf-gen
N=100000

# pcap_edit IN OUT EXPR: OUT gets the frames that the Python expression
# EXPR makes of f, the list of IN's frames (bytes, Ethernet header first).
PKT_PY=$(cd "$(dirname "$0")/../tools" && pwd)
pcap_edit() {
	PYTHONPATH=$PKT_PY python3 -c 'import sys
from pkt import rpcap, wpcap
f = rpcap(sys.argv[1])
wpcap(sys.argv[2], eval(sys.argv[3]))' "$@"
}

# CPU seconds (user + system) of one nf-gen's run, from its own --json
# (cpu_s: getrusage over duration_s). Not the shell's `time`: that adds
# every child the shell reaps meanwhile, and pair()'s busy-polling sender
# leaves as soon as the receiver disconnects, often before the receiver
# has finished exiting (ASan's leak check runs after the port closed): a
# receiver that slept then "used" the sender's second of CPU.
cpu() {
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["cpu_s"]
print("%.3f" % (c["user"] + c["system"]))' "$1"
}

# Run a sender (server) and a receiver (client) over memif.
#   pair NAME "sender args" "receiver args"
# Leaves $T/NAME.tx.json, $T/NAME.rx.json and exit codes in tx_rc, rx_rc.
pair() {
	local name=$1 targs=$2 rargs=$3 sock=$T/$1.sock pid
	# shellcheck disable=SC2086
	"$GEN" --tx "memif:$sock,role=server" --json $targs \
		>"$T/$name.tx.json" 2>"$T/$name.tx.err" &
	pid=$!
	cleanup "kill $pid"
	wait_for "$sock" 5 || { not_ok "$name: sender socket $sock appeared"; return; }
	# shellcheck disable=SC2086
	"$GEN" --rx "memif:$sock" --json --duration 30 $rargs \
		>"$T/$name.rx.json" 2>"$T/$name.rx.err"
	rx_rc=$?
	wait "$pid"
	tx_rc=$?
}

# --- two processes, IPv4, 60 bytes -----------------------------------
pair v4 "--count $N" "--count $N --expect-zero-loss"
check_eq "v4: sender exits 0" 0 "$tx_rc"
check_eq "v4: receiver exits 0 (--expect-zero-loss)" 0 "$rx_rc"
check_eq "v4: tx.packets" $N "$(jget "$T/v4.tx.json" tx.packets)"
check_eq "v4: tx.bytes" $((N * 60)) "$(jget "$T/v4.tx.json" tx.bytes)"
check_eq "v4: rx.packets exact" $N "$(jget "$T/v4.rx.json" rx.packets)"
check_eq "v4: rx.bytes exact" $((N * 60)) "$(jget "$T/v4.rx.json" rx.bytes)"
check_eq "v4: rx.lost" 0 "$(jget "$T/v4.rx.json" rx.lost)"
check_eq "v4: rx.reordered" 0 "$(jget "$T/v4.rx.json" rx.reordered)"
check_eq "v4: rx.duplicated" 0 "$(jget "$T/v4.rx.json" rx.duplicated)"
check_eq "v4: rx.other" 0 "$(jget "$T/v4.rx.json" rx.other)"
check_eq "v4: highest sequence number is N-1" $((N - 1)) "$(jget "$T/v4.rx.json" rx.highest_seq)"
check_eq "v4: one latency sample per frame" $N "$(jget "$T/v4.rx.json" latency_ns.samples)"
check "v4: latency min <= p50 <= p99 <= p999 <= max, min > 0" python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))["latency_ns"]
assert 0 < l["min"] <= l["p50"] <= l["p99"] <= l["p999"] <= l["max"], l
assert l["min"] <= l["avg"] <= l["max"], l' "$T/v4.rx.json"
check "v4: latency histogram: buckets in order, counts add up to the samples, min and max inside" \
	python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))["latency_ns"]; h = l["histogram"]
assert sum(c for _, _, c in h) == l["samples"], h
assert all(a[0] + a[1] <= b[0] for a, b in zip(h, h[1:])), h
assert all(w >= 1 and c > 0 for _, w, c in h), h
assert h[0][0] <= l["min"] < h[0][0] + h[0][1] and h[-1][0] <= l["max"] < h[-1][0] + h[-1][1], (l["min"], l["max"], h[0], h[-1])' "$T/v4.rx.json"
check "v4: rate.tx_pps and rate.rx_pps are positive" python3 -c '
import json, sys
for f, k in ((sys.argv[1], "tx_pps"), (sys.argv[2], "rx_pps")):
    assert json.load(open(f))["rate"][k] > 0' "$T/v4.tx.json" "$T/v4.rx.json"
check "v4: duration_s is positive" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["duration_s"] > 0' "$T/v4.rx.json"
check_eq "v4: sender port counted N frames" $N "$(jget "$T/v4.tx.json" ports.tx.tx_packets)"
check_eq "v4: sender built every frame in place" $N "$(jget "$T/v4.tx.json" tx.built_in_place)"
check_eq "v4: receiver port has no rx-runt drops" 0 "$(jget "$T/v4.rx.json" ports.rx.drops.rx-runt)"
check_eq "v4: receiver port has no rx-bad-desc drops" 0 "$(jget "$T/v4.rx.json" ports.rx.drops.rx-bad-desc)"
check "v4: nothing on stderr" test ! -s "$T/v4.rx.err" -a ! -s "$T/v4.tx.err"

# --- IPv6, flows ------------------------------------------------------
pair v6 "-6 --size 128 --flows 16 --count $N" "--count $N"
check_eq "v6: both exit 0" "0 0" "$tx_rc $rx_rc"
check_eq "v6: rx.packets exact" $N "$(jget "$T/v6.rx.json" rx.packets)"
check_eq "v6: rx.bytes exact" $((N * 128)) "$(jget "$T/v6.rx.json" rx.bytes)"
check_eq "v6: lost/reordered/duplicated/other all 0" "0 0 0 0" \
	"$(for k in lost reordered duplicated other; do jget "$T/v6.rx.json" rx.$k; done | xargs)"
check_eq "v6: tx.ipv6" true "$(jget "$T/v6.tx.json" tx.ipv6)"

# --- 9000-byte frames (chained memif descriptors) ----------------------
J=5000
pair jumbo "--size 9000 --count $J" "--count $J"
check_eq "9000: both exit 0" "0 0" "$tx_rc $rx_rc"
check_eq "9000: rx.packets exact" $J "$(jget "$T/jumbo.rx.json" rx.packets)"
check_eq "9000: rx.bytes exact" $((J * 9000)) "$(jget "$T/jumbo.rx.json" rx.bytes)"
check_eq "9000: rx.lost" 0 "$(jget "$T/jumbo.rx.json" rx.lost)"
check_eq "9000: rx.other (no truncated frames)" 0 "$(jget "$T/jumbo.rx.json" rx.other)"
check_eq "9000: built in a local buffer and copied (2048-byte memif buffers)" \
	$J "$(jget "$T/jumbo.tx.json" tx.built_copied)"
check_eq "9000 IPv6 over one process: zero loss" 0 \
	"$("$GEN" --tx "memif:$T/j6.sock,role=server" --rx "memif:$T/j6.sock" -6 \
		--size 9000 --count 3000 --json --expect-zero-loss >"$T/j6.json"; echo $?)"
check_eq "9000 IPv6 over one process: rx.bytes" $((3000 * 9000)) "$(jget "$T/j6.json" rx.bytes)"

# --- rate limit and interrupt mode --------------------------------------
pair rate "--rate 20k --count 20000" "--count 20000"
check_eq "rate: both exit 0" "0 0" "$tx_rc $rx_rc"
check_eq "rate: rx.packets exact" 20000 "$(jget "$T/rate.rx.json" rx.packets)"
# Upper bound tight; the lower one leaves room for a loaded machine that
# deschedules the sender for longer than the bucket's 10 ms depth.
check "rate: 20k pps (14k..21k)" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["rate"]["tx_pps"]
assert 14000 < r < 21000, r' "$T/rate.tx.json"
# The --intr receiver sleeps in poll() between frames: over a second of
# 2 kpps it uses a small part of a CPU (a busy-polling one uses all it gets).
pair intr "--rate 2k --count 2000" "--count 2000 --intr --expect-zero-loss"
check_eq "intr: both exit 0, zero loss" "0 0" "$tx_rc $rx_rc"
check_eq "intr: rx.packets exact" 2000 "$(jget "$T/intr.rx.json" rx.packets)"
check "intr: the receiver was woken by the port" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["ports"]["rx"]["rx_wakeups"] > 0' "$T/intr.rx.json"
# The same second with a busy-polling receiver, measured right after:
# compared with it, not with a fixed figure (other work on the machine
# takes CPU from both alike).
pair busy "--rate 2k --count 2000" "--count 2000 --expect-zero-loss"
check "intr: the receiver used under a third of the CPU a busy-polling one used (intr $(cpu "$T/intr.rx.json") s in $(jget "$T/intr.rx.json" duration_s) s, busy $(cpu "$T/busy.rx.json") s in $(jget "$T/busy.rx.json" duration_s) s)" \
	python3 -c 'import json, sys
i, b = (json.load(open(f)) for f in sys.argv[1:])
cpu = lambda d: d["cpu_s"]["user"] + d["cpu_s"]["system"]
assert i["duration_s"] > 0.5 and cpu(i) < cpu(b) / 3' "$T/intr.rx.json" "$T/busy.rx.json"
for f in intr.rx busy.rx busy.tx; do
	check "cpu_s ($f) is one thread's: user + system <= duration_s" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert 0 <= d["cpu_s"]["user"] + d["cpu_s"]["system"] <= d["duration_s"] + 0.002, d' "$T/$f.json"
done

# What would keep an --intr receiver from sleeping: a descriptor that stays
# readable after its peer went away (the ring's eventfd, the control
# socket's hangup in the library's epoll set). Whether its sender left,
# was killed mid-stream (no disconnect message, frames left in the ring)
# or never came, as client or as server, the receiver sleeps through its
# 2 s: under 0.2 s of CPU (a receiver that spins uses all it is given).
sleeps() {	# sleeps WHAT FILE
	check "$1: the --intr receiver slept (CPU $(cpu "$2") s in $(jget "$2" duration_s) s)" \
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["duration_s"] >= 2 and d["cpu_s"]["user"] + d["cpu_s"]["system"] < 0.2, d' "$2"
}
spawn "$GEN" --tx "memif:$T/il.sock,role=server" --rate 1k --count 300 --json >"$T/il.tx.json" 2>&1
wait_for "$T/il.sock" 5
"$GEN" --rx "memif:$T/il.sock" --intr --duration 2 --json >"$T/il.json" 2>"$T/il.err"
check_eq "sender left: exit 0, 300 frames, the sender's disconnect seen" "0 300 1" \
	"$? $(jget "$T/il.json" rx.packets) $(jget "$T/il.json" ports.rx.disconnects.peer-disconnect)"
sleeps "sender left" "$T/il.json"
# sender_killed ID WHAT rx|tx: the sender is SIGKILLed after 0.5 s of
# traffic; rx or tx names the memif server's side.
sender_killed() {
	local sock=$T/$1.sock rs= ts= kpid rpid
	if [ "$3" = rx ]; then rs=,role=server; else ts=,role=server; fi
	if [ "$3" = tx ]; then
		"$GEN" --tx "memif:$sock$ts" --rate 2k >/dev/null 2>&1 &
		kpid=$!
		wait_for "$sock" 5
	fi
	spawn "$GEN" --rx "memif:$sock$rs" --intr --duration 2 --json >"$T/$1.json" 2>"$T/$1.err"
	rpid=$SPAWNED
	if [ "$3" = rx ]; then
		wait_for "$sock" 5
		"$GEN" --tx "memif:$sock$ts" --rate 2k >/dev/null 2>&1 &
		kpid=$!
	fi
	cleanup "kill -9 $kpid"
	sleep 0.5
	{ kill -9 "$kpid"; wait "$kpid"; } 2>/dev/null
	wait "$rpid"
	check_eq "$2: exit 0, the sender's control socket closed" "0 1" \
		"$? $(jget "$T/$1.json" ports.rx.disconnects.peer-closed)"
	sleeps "$2" "$T/$1.json"
}
sender_killed ik "sender (server) killed" tx
sender_killed is "sender (client) killed, receiver a server" rx
"$GEN" --rx "memif:$T/nobody-rx.sock" --intr --wait 0 --duration 2 --json >"$T/in.json" 2>"$T/in.err"
check_eq "no sender ever: exit 0, 0 frames" "0 0" "$? $(jget "$T/in.json" rx.packets)"
sleeps "no sender ever" "$T/in.json"

# --- one process sends and receives ------------------------------------
"$GEN" --tx "memif:$T/one.sock,role=server" --rx "memif:$T/one.sock" \
	--count $N --flows 100 --json --expect-zero-loss >"$T/one.json" 2>"$T/one.err"
check_eq "one process: exit 0" 0 $?
check_eq "one process: rx.packets = tx.packets" "$N $N" \
	"$(jget "$T/one.json" tx.packets) $(jget "$T/one.json" rx.packets)"
check_eq "one process: rx.lost" 0 "$(jget "$T/one.json" rx.lost)"
check_eq "one process: lost counted from what was sent" sent "$(jget "$T/one.json" rx.lost_basis)"

"$GEN" --tx "pcap:,$T/a.pcap" --count 20 --json >"$T/a.json" 2>"$T/a.err"
check_eq "pcap: 20 frames written" "0 20" "$? $(jget "$T/a.json" tx.packets)"
# The same spec for --tx and --rx is one port used both ways (pcap: reads
# a.pcap, writes c.pcap).
P="pcap:$T/a.pcap,$T/c.pcap"
"$GEN" --tx "$P" --rx "$P" --count 20 --json --expect-zero-loss >"$T/c.json" 2>"$T/c.err"
rc=$?
check_eq "same spec both ways: exit 0, one port named txrx, 20 out, 20 in" \
	"0 txrx txrx 20 20 0" "$rc $(for k in tx.port rx.port ports.txrx.tx_packets \
		ports.txrx.rx_packets rx.lost; do jget "$T/c.json" $k; done | xargs)"

# --- --flow-stats: frames sent and received per flow ----------------------
# Flow i is sequence numbers i, i + N, i + 2N... (N = --flows), with source
# address SRC-IP + i (skipping DST-IP) and source port SPORT + i.
# A path that loses nothing, at the largest flow count: 200000 frames over
# 65536 flows are 4 frames for flows 0..3391 (200000 - 3 x 65536 = 3392)
# and 3 for the others; every one comes back.
"$GEN" --tx "memif:$T/fs.sock,role=server" --rx "memif:$T/fs.sock" --count 200000 \
	--flows 65536 --flow-stats --json --expect-zero-loss >"$T/fs.json" 2>"$T/fs.err"
check_eq "flow-stats, lossless: exit 0" 0 $?
check "flow-stats, lossless: 65536 flows, each sent (4 or 3) == received, addresses and ports as --flows defines them, flows_with_loss 0" \
	python3 - "$T/fs.json" <<'EOF'
import ipaddress, json, sys
d = json.load(open(sys.argv[1]))
f = d["flows"]
assert d["flows_with_loss"] == 0, d["flows_with_loss"]
assert len(f) == 65536, len(f)
base = int(ipaddress.ip_address("10.0.0.1"))
for i, x in enumerate(f):
    src = str(ipaddress.ip_address(base + i + (i >= 1)))    # 10.0.0.2 skipped
    want = {"flow": i, "src": src, "sport": (1024 + i) % 65536,
            "sent": 4 if i < 3392 else 3, "received": 4 if i < 3392 else 3}
    assert x == want, (x, want)
assert sum(x["received"] for x in f) == d["rx"]["packets"] == 200000
EOF
# 9000-byte frames: the copy path, where a full ring refuses the tail of
# a burst and its sequence numbers (and flows) go out again. Bursts of 256
# such frames (1280 descriptors) overflow the 1024-slot ring every time.
"$GEN" --tx "memif:$T/fs.sock,role=server" --rx "memif:$T/fs.sock" --count 3000 --size 9000 \
	--burst 256 --flows 7 --flow-stats --json --expect-zero-loss >"$T/fs9.json" 2>"$T/fs9.err"
check_eq "flow-stats, 9000-byte frames, tails refused by a full ring and sent again: exit 0, every flow sent == received" \
	"0 retried 0 429:429 429:429 429:429 429:429 428:428 428:428 428:428" \
	"$? $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("retried" if d["ports"]["tx"]["drops"]["tx-ring-full"] > 0 else "no-retry", d["flows_with_loss"],
      *("%d:%d" % (x["sent"], x["received"]) for x in d["flows"]))' "$T/fs9.json")"
"$GEN" --tx "memif:$T/fs.sock,role=server" --rx "memif:$T/fs.sock" --count 1000 \
	--flows 16 --flow-stats >"$T/fs.txt" 2>&1
check_eq "flow-stats, lossless: the summary says so" "flows: 16, none with loss" \
	"$(grep '^flows:' "$T/fs.txt")"
check_eq "no --flow-stats: no flows in --json" "False False" "$(python3 -c '
import json, sys; d = json.load(open(sys.argv[1])); print("flows" in d, "flows_with_loss" in d)' "$T/one.json")"

# Loss on chosen flows, crafted: 160 frames of 16 flows (10 each) with
# flow 6 (sport 1030) and flow 10 (10.0.0.12) taken out whole, one frame
# of flow 3 (#35) lost, #21 (flow 5) duplicated, #40/#41 (flows 8, 9)
# swapped: a gap, a late frame and a duplicate, each counted once.
"$GEN" --tx "pcap:,$T/fl.pcap" --count 160 --flows 16 >/dev/null 2>&1
pcap_edit "$T/fl.pcap" "$T/fl2.pcap" '[x for i in [*range(40), 41, 40, *range(42, 160)]
	for x in [f[i]] * (1 + (i == 21))
	if i != 35 and x[34:36] != (1030).to_bytes(2, "big") and x[26:30] != bytes([10, 0, 0, 12])]'
P="pcap:$T/fl2.pcap,$T/fl3.pcap"
"$GEN" --tx "$P" --rx "$P" --count 160 --flows 16 --flow-stats --json >"$T/fl.json" 2>"$T/fl.err"
check_eq "flow-stats, crafted loss: exit 0; lost 21, reordered 1, duplicated 1" "0 21 1 1" \
	"$? $(for k in lost reordered duplicated; do jget "$T/fl.json" rx.$k; done | xargs)"
check_eq "flow-stats, crafted loss: flows_with_loss" 3 "$(jget "$T/fl.json" flows_with_loss)"
check_eq "flow-stats, crafted loss: received per flow (10 sent each)" \
	"10 10 10 9 10 10 0 10 10 10 0 10 10 10 10 10" \
	"$(python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["flows"]
assert all(x["sent"] == 10 for x in f), f
print(*(x["received"] for x in f))' "$T/fl.json")"
"$GEN" --tx "$P" --rx "$P" --count 160 --flows 16 --flow-stats >"$T/fl.txt" 2>&1
check_eq "flow-stats, crafted loss: the summary names the flows" \
	"flows: 16, 3 with loss: flow 3 10.0.0.5:1027 lost 1 of 10, flow 6 10.0.0.8:1030 lost 10 of 10, flow 10 10.0.0.12:1034 lost 10 of 10" \
	"$(grep '^flows:' "$T/fl.txt")"
# More than 8 flows with loss, IPv6: the summary names 8.
"$GEN" --tx "pcap:,$T/f6.pcap" --count 24 --flows 12 -6 >/dev/null 2>&1
pcap_edit "$T/f6.pcap" "$T/f62.pcap" '[x for x in f if x[54:56] < (1026).to_bytes(2, "big")]'	# flows 0, 1
P="pcap:$T/f62.pcap,$T/f63.pcap"
"$GEN" --tx "$P" --rx "$P" --count 24 --flows 12 -6 --flow-stats >"$T/f6.txt" 2>&1
check_eq "flow-stats, 10 of 12 IPv6 flows lost: 8 named, the rest counted" \
	"flows: 12, 10 with loss: flow 2 [fd00::4]:1026 lost 2 of 2, flow 3 [fd00::5]:1027 lost 2 of 2, flow 4 [fd00::6]:1028 lost 2 of 2, flow 5 [fd00::7]:1029 lost 2 of 2, flow 6 [fd00::8]:1030 lost 2 of 2, flow 7 [fd00::9]:1031 lost 2 of 2, flow 8 [fd00::a]:1032 lost 2 of 2, flow 9 [fd00::b]:1033 lost 2 of 2, and 2 more (--json lists every flow)" \
	"$(grep '^flows:' "$T/f6.txt")"

# --train N: N frames of a flow in a row, then the next flow's N; flow of
# sequence number s = (s / N) modulo --flows, for the sender and the sink.
"$GEN" --tx "pcap:,$T/tr.pcap" --count 11 --flows 3 --train 2 >/dev/null 2>&1
check_eq "--train 2, 3 flows, 11 frames: the source address and port of each, in order" \
	"1:1024 1:1024 3:1025 3:1025 4:1026 4:1026 1:1024 1:1024 3:1025 3:1025 4:1026" \
	"$(PYTHONPATH=$PKT_PY python3 -c 'import sys
from pkt import rpcap
print(*("%d:%d" % (x[29], int.from_bytes(x[34:36], "big")) for x in rpcap(sys.argv[1])))' "$T/tr.pcap")"
# --mac-flows: flow i's MACs are SRC-MAC + i and DST-MAC + i in their last
# three bytes (a carry into the fourth byte, the wrap at 2^24 that leaves
# the first three alone), its addresses and ports as without it.
"$GEN" --tx "pcap:,$T/mf.pcap" --count 5 --flows 4 --mac-flows --src-mac 02:aa:bb:00:00:fe \
	--dst-mac 0a:00:00:ff:ff:fe >/dev/null 2>&1
check_eq "--mac-flows, 4 flows, 5 frames: destination, source MAC, source address and port of each" \
	"0a:00:00:ff:ff:fe,02:aa:bb:00:00:fe,1:1024 0a:00:00:ff:ff:ff,02:aa:bb:00:00:ff,3:1025 0a:00:00:00:00:00,02:aa:bb:00:01:00,4:1026 0a:00:00:00:00:01,02:aa:bb:00:01:01,5:1027 0a:00:00:ff:ff:fe,02:aa:bb:00:00:fe,1:1024" \
	"$(PYTHONPATH=$PKT_PY python3 -c 'import sys
from pkt import rpcap
print(*("%s,%s,%d:%d" % (x[0:6].hex(":"), x[6:12].hex(":"), x[29], int.from_bytes(x[34:36], "big"))
        for x in rpcap(sys.argv[1])))' "$T/mf.pcap")"
"$GEN" --tx "pcap:,$T/mf0.pcap" --count 3 --flows 3 >/dev/null 2>&1
check_eq "without --mac-flows every flow has the two MACs" \
	"02:00:00:00:00:02,02:00:00:00:00:01 02:00:00:00:00:02,02:00:00:00:00:01 02:00:00:00:00:02,02:00:00:00:00:01" \
	"$(PYTHONPATH=$PKT_PY python3 -c 'import sys
from pkt import rpcap
print(*("%s,%s" % (x[0:6].hex(":"), x[6:12].hex(":")) for x in rpcap(sys.argv[1])))' "$T/mf0.pcap")"
# 1003 frames in trains of 5 over 7 flows: 200 whole trains (28 or 29 a
# flow: flows 0..3 get the 4 left over) and 3 frames of train 200, flow 4.
"$GEN" --tx "memif:$T/fs.sock,role=server" --rx "memif:$T/fs.sock" --count 1003 \
	--flows 7 --train 5 --flow-stats --json --expect-zero-loss >"$T/tr.json" 2>"$T/tr.err"
check_eq "flow-stats, --train 5: exit 0, sent == received per flow (145 x 4, 143, 140 x 2), tx.train 5" \
	"0 5 0 145:145 145:145 145:145 145:145 143:143 140:140 140:140" \
	"$? $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["tx"]["train"], d["flows_with_loss"], *("%d:%d" % (x["sent"], x["received"]) for x in d["flows"]))' "$T/tr.json")"
# The copy path's retries (a full ring refuses a burst's tail) resume
# inside a train: 1000 trains of 3, 143 for flows 0..5, 142 for flow 6.
"$GEN" --tx "memif:$T/fs.sock,role=server" --rx "memif:$T/fs.sock" --count 3000 --size 9000 \
	--burst 256 --flows 7 --train 3 --flow-stats --json --expect-zero-loss >"$T/tr9.json" 2>"$T/tr9.err"
check_eq "flow-stats, --train 3, 9000-byte frames, tails sent again: exit 0, every flow sent == received" \
	"0 retried 0 429:429 429:429 429:429 429:429 429:429 429:429 426:426" \
	"$? $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("retried" if d["ports"]["tx"]["drops"]["tx-ring-full"] > 0 else "no-retry", d["flows_with_loss"],
      *("%d:%d" % (x["sent"], x["received"]) for x in d["flows"]))' "$T/tr9.json")"
# Crafted: 32 frames, trains of 4 over 4 flows; #5 (flow 1) lost, train 5
# (#20..#23, flow 1) lost whole (the sink resumes at #24, flow 2, mid
# count), #15 (flow 3) and #16 (flow 0) swapped across a train's end.
"$GEN" --tx "pcap:,$T/tr1.pcap" --count 32 --flows 4 --train 4 >/dev/null 2>&1
pcap_edit "$T/tr1.pcap" "$T/tr2.pcap" '[f[i] for i in [*range(15), 16, 15, *range(17, 32)] if i != 5 and not 20 <= i < 24]'
P="pcap:$T/tr2.pcap,$T/tr3.pcap"
"$GEN" --tx "$P" --rx "$P" --count 32 --flows 4 --train 4 --flow-stats --json >"$T/tr1.json" 2>"$T/tr1.err"
check_eq "flow-stats, --train 4, crafted loss: exit 0, lost 5, reordered 1; received per flow (8 sent each)" \
	"0 5 1 8:8 8:3 8:8 8:8" \
	"$? $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["rx"]["lost"], d["rx"]["reordered"], *("%d:%d" % (x["sent"], x["received"]) for x in d["flows"]))' "$T/tr1.json")"

# Through nfswitch, two flows dropped by steering rules (by source port,
# by source address), the rest output to nf-gen's receive port: exactly
# those two flows lose frames, all of them. A slow rate and a 4096-slot
# receive ring leave the sink 200 ms of slack on a busy machine.
cat >"$T/fs.steer" <<'EOF'
rule id 1 udp sport 1030 action drop
rule id 2 ip saddr 10.0.0.12 action drop
rule id 3 action output 1
EOF
spawn taskset -c 1 "$BIN/nfswitch" -q -c "$T/fsw.ctl" -S "$T/fs.steer" \
	-p "memif:$T/fsw.sock,id=0" -p "memif:$T/fsw.sock,id=1"
FSW=$SPAWNED
if wait_for "$T/fsw.ctl" 10; then
	taskset -c 0 "$GEN" --tx "memif:$T/fsw.sock,id=0" --rx "memif:$T/fsw.sock,id=1,rsize=12" \
		--count 16000 --rate 20k --flows 16 --flow-stats --drain 500ms --wait 10s \
		--json >"$T/fsw.json" 2>"$T/fsw.err"
	check_eq "flow-stats through nfswitch: exit 0, 16000 sent, 2000 lost" "0 16000 2000" \
		"$? $(jget "$T/fsw.json" tx.packets) $(jget "$T/fsw.json" rx.lost)"
	"$BIN/nfchain" switch --ctl "$T/fsw.ctl" --json rules >"$T/fsw.rules"
	"$BIN/nfchain" switch --ctl "$T/fsw.ctl" --json ports >"$T/fsw.ports"
	check_eq "flow-stats through nfswitch: the drop rules took 1000 frames each, 14000 output" \
		"1000 1000 14000" "$(python3 -c 'import json, sys
print(*(r["packets"] for r in sorted(json.load(open(sys.argv[1]))["rules"], key=lambda r: r["id"])))' \
		"$T/fsw.rules")"
	check_eq "flow-stats through nfswitch: flows 6 (sport 1030) and 10 (10.0.0.12) lost all 1000, every other flow none (switch tx-ring-full drops: $(python3 -c 'import json, sys
print(sum(p["drops"]["tx-ring-full"] for p in json.load(open(sys.argv[1]))["ports"]))' "$T/fsw.ports"))" \
		"2 6:10.0.0.8:1030:1000:0 10:10.0.0.12:1034:1000:0" "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
f = d["flows"]
assert len(f) == 16 and all(x["sent"] == 1000 for x in f), f
assert all(x["received"] == 1000 for x in f if x["flow"] not in (6, 10)), f
print(d["flows_with_loss"], *("%d:%s:%d:%d:%d" % (x["flow"], x["src"], x["sport"], x["sent"],
      x["received"]) for x in f if x["received"] != x["sent"]))' "$T/fsw.json")"
else
	not_ok "nfswitch with the drop rules starts"
fi
kill "$FSW" 2>/dev/null
wait "$FSW" 2>/dev/null

# --- SIGINT ends the run with a report ---------------------------------
"$GEN" --tx "memif:$T/int.sock,role=server" --rx "memif:$T/int.sock" --json \
	--rate 100k >"$T/int.json" 2>"$T/int.err" &
pid=$!
cleanup "kill $pid"
sleep 1
kill -INT $pid
wait $pid
check_eq "SIGINT: exit 0" 0 $?
check "SIGINT: report printed, frames sent, none lost after the drain" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tx"]["packets"] > 0 and d["rx"]["lost"] == 0, d["rx"]' "$T/int.json"

"$GEN" --rx "memif:$T/lone.sock,role=server" --wait 0 --json >"$T/term.json" 2>"$T/term.err" &
pid=$!
cleanup "kill $pid"
sleep 0.5
kill -TERM $pid
wait $pid
check_eq "SIGTERM on an idle receiver: exit 0 with a report of 0 frames" "0 0" \
	"$? $(jget "$T/term.json" rx.packets)"

# --- the sink on crafted input: loss, duplicates, reordering -------------
# Edit the 20 frames written above: drop #5, duplicate #8, swap #12/#13.
pcap_edit "$T/a.pcap" "$T/b.pcap" 'f[:5] + f[6:9] + [f[8]] + f[9:12] + [f[13], f[12]] + f[14:]'
"$GEN" --rx "pcap:$T/b.pcap" --json --expect-zero-loss >"$T/b.json" 2>"$T/b.err"
check_eq "crafted: --expect-zero-loss exits 3" 3 $?
check_eq "crafted: packets lost reordered duplicated" "20 1 1 1" \
	"$(for k in packets lost reordered duplicated; do jget "$T/b.json" rx.$k; done | xargs)"
"$GEN" --rx "pcap:$T/a.pcap" --json --expect-zero-loss >"$T/a2.json" 2>&1
check_eq "clean pcap input: exit 0, 20 frames, 0 lost" "0 20 0" \
	"$? $(jget "$T/a2.json" rx.packets) $(jget "$T/a2.json" rx.lost)"

# --- --tos: the ToS byte (IPv6: traffic class) of every frame ------------
# Exact header bytes from the pcap, the IPv4 header checksum recomputed
# here (RFC 1071) and compared; the flows make every header differ.
tos_check() {	# tos_check TOS ARGS...: 12 frames of 3 flows
	local tos=$1
	shift
	"$GEN" --tx "pcap:,$T/tos.pcap" --count 12 --flows 3 --tos "$tos" "$@" \
		--json >"$T/tos.json" 2>"$T/tos.err" || return 1
	[ "$(jget "$T/tos.json" tx.tos)" = $((tos)) ] || return 1
	PYTHONPATH=$PKT_PY python3 - "$T/tos.pcap" $((tos)) <<'PY'
import sys
from pkt import csum, rpcap
f, tos = rpcap(sys.argv[1]), int(sys.argv[2])
assert len(f) == 12, len(f)
for n, x in enumerate(f):
    src = 1 if n % 3 == 0 else 2 + n % 3          # 10.0.0.1, .3, .4 (skips .2)
    if x[12:14] == b"\x08\x00":
        exp = bytearray([0x45, tos]) + (len(x) - 14).to_bytes(2, "big") + \
            bytes([0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 2])
        exp[10:12] = csum(bytes(exp)).to_bytes(2, "big")
        assert x[14:34] == exp, (n, x[14:34].hex(), exp.hex())
        assert csum(x[14:34]) == 0, n
    else:
        assert x[12:14] == b"\x86\xdd", n
        exp = bytes([0x60 | tos >> 4, (tos & 15) << 4, 0, 0])
        assert x[14:18] == exp, (n, x[14:18].hex(), exp.hex())
PY
}
for tos in 0xb8 0xff 1 0; do
	check "--tos $tos: every IPv4 frame carries it, header bytes and checksum exact" tos_check $tos
	check "--tos $tos -6: every IPv6 frame's traffic class is it, flow label 0" tos_check $tos -6
done

# --- checksums as tshark sees them --------------------------------------
if command -v tshark >/dev/null; then
	for args in "" "-6 --size 100 --flows 7" "--size 1500 --flows 3" "-6 --size 9000" \
		"--tos 0xb8 --flows 5" "-6 --tos 0xb9 --flows 5"; do
		# shellcheck disable=SC2086
		"$GEN" --tx "pcap:,$T/out.pcap" --count 10 $args >/dev/null 2>&1
		out=$(tshark -r "$T/out.pcap" -V -o ip.check_checksum:TRUE \
			-o udp.check_checksum:TRUE 2>/dev/null)
		check_eq "tshark [$args]: 10 UDP checksums good" 10 \
			"$(grep -c 'Checksum Status: Good' <<<"$out")"
		check_eq "tshark [$args]: no incorrect or bad checksum" 0 \
			"$(grep -cE 'incorrect|Bad checksum|Status: Bad' <<<"$out")"
		check_eq "tshark [$args]: expert info has no warning or error" "" \
			"$(tshark -r "$T/out.pcap" -q -z expert 2>/dev/null | grep -iE 'warn|error')"
	done
	check_eq "tshark: IPv4 header checksums good" 10 "$("$GEN" --tx "pcap:,$T/o4.pcap" \
		--count 10 --flows 10 >/dev/null 2>&1; tshark -r "$T/o4.pcap" -V \
		-o ip.check_checksum:TRUE 2>/dev/null | grep -c 'Header checksum status: Good')"
	check_eq "tshark: --tos 0xb8: DSCP EF (46), ECN 0, header checksums good" \
		"$(printf '46,0,1 %.0s' $(seq 10) | xargs)" "$("$GEN" --tx "pcap:,$T/o4.pcap" \
		--count 10 --flows 10 --tos 0xb8 >/dev/null 2>&1; tshark -r "$T/o4.pcap" \
		-o ip.check_checksum:TRUE -T fields -e ip.dsfield.dscp -e ip.dsfield.ecn \
		-e ip.checksum.status -E separator=, 2>/dev/null | xargs)"
	check_eq "tshark: -6 --tos 0xb9: traffic class DSCP EF, ECN 1" \
		"$(printf '46,1 %.0s' $(seq 10) | xargs)" "$("$GEN" --tx "pcap:,$T/o6.pcap" \
		--count 10 --flows 10 -6 --tos 0xb9 >/dev/null 2>&1; tshark -r "$T/o6.pcap" \
		-T fields -e ipv6.tclass.dscp -e ipv6.tclass.ecn -E separator=, 2>/dev/null | xargs)"
	"$GEN" --tx "pcap:,$T/tl.pcap" --count 8 --flows 4 --tos 1,3,7 >/dev/null 2>&1
	check_eq "--tos 1,3,7: flow i carries value i mod 3 (tenants), every frame of it" \
		"10.0.0.1,0x01 10.0.0.3,0x03 10.0.0.4,0x07 10.0.0.5,0x01 10.0.0.1,0x01 10.0.0.3,0x03 10.0.0.4,0x07 10.0.0.5,0x01" \
		"$(tshark -r "$T/tl.pcap" -T fields -e ip.src -e ip.dsfield -E separator=, 2>/dev/null | xargs)"
	check_eq "--tos 1,3,7: good IPv4 header checksums" "good good good good good good good good" \
		"$(tshark -r "$T/tl.pcap" -o ip.check_checksum:TRUE -T fields -e ip.checksum.status 2>/dev/null | sed 's/^1$/good/' | xargs)"
	"$GEN" --tx "pcap:,$T/f.pcap" --count 4 --flows 4 --sport 65535 >/dev/null 2>&1
	check_eq "flows: source addresses skip the destination, ports wrap" \
		"10.0.0.1,65535 10.0.0.3,0 10.0.0.4,1 10.0.0.5,2" \
		"$(tshark -r "$T/f.pcap" -T fields -e ip.src -e udp.srcport -E separator=, \
			2>/dev/null | xargs)"
	"$GEN" --tx "pcap:,$T/f6.pcap" --count 1 -6 >/dev/null 2>&1
	check_eq "-6 without --size sends 80-byte frames fd00::1 -> fd00::2" \
		"80 fd00::1 fd00::2" "$(tshark -r "$T/f6.pcap" -T fields -e frame.len \
			-e ipv6.src -e ipv6.dst 2>/dev/null | xargs)"
else
	not_ok "tshark is not installed (apt-get install tshark)"
fi

# --- port that never comes up --------------------------------------------
"$GEN" --tx "memif:$T/nobody.sock" --count 1 --wait 300ms >/dev/null 2>"$T/w.err"
check_eq "--wait: a port that does not come up exits 1" 1 $?
check "--wait: one line naming the port" test "$(wc -l <"$T/w.err")" = 1 -a \
	"$(grep -c "nobody.sock" "$T/w.err")" = 1

# --- usage errors: exit 2 and exactly one line on stderr -----------------
usage() {	# usage "what" args...
	local what=$1 rc lines
	shift
	"$GEN" "$@" >"$T/u.out" 2>"$T/u.err"
	rc=$?
	lines=$(wc -l <"$T/u.err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && [ ! -s "$T/u.out" ] &&
	   grep -q '^nf-gen: ' "$T/u.err"; then
		ok "usage error: $what ($(cat "$T/u.err"))"
	else
		not_ok "usage error: $what (exit $rc, $lines lines: $(head -3 "$T/u.err"))"
	fi
}
usage "unknown option" --tx "memif:$T/u.sock" --colour red
usage "unknown short option" -Z --tx "memif:$T/u.sock"
usage "--size 59" --tx "memif:$T/u.sock" --size 59
usage "--size 9001" --tx "memif:$T/u.sock" --size 9001
usage "--rate abc" --tx "memif:$T/u.sock" --rate abc
usage "unknown port type foo:bar" --tx foo:bar
usage "--ipv6 --size 60" --tx "memif:$T/u.sock" --ipv6 --size 60
usage "nothing to do"
usage "--count with a suffix typo" --tx "memif:$T/u.sock" --count 10x
usage "--burst 0" --tx "memif:$T/u.sock" --burst 0
usage "--duration nonsense" --tx "memif:$T/u.sock" --duration soon
usage "generator option without --tx" --rx "memif:$T/u.sock" --flows 4
usage "--train 0" --tx "memif:$T/u.sock" --train 0
usage "--train 65537" --tx "memif:$T/u.sock" --train 65537
usage "--train without --tx" --rx "memif:$T/u.sock" --train 4
usage "--mac-flows without --tx" --rx "memif:$T/u.sock" --mac-flows
check_eq "--mac-flows without --tx: the sentence" \
	"nf-gen: --mac-flows only applies when sending (--tx)" "$(cat "$T/u.err")"
usage "--intr while sending" --tx "memif:$T/u.sock" --intr
usage "IPv6 address without -6" --tx "memif:$T/u.sock" --dst-ip fd00::9
usage "bad memif option" --tx "memif:$T/u.sock,colour=red"
usage "unbounded pcap output" --tx "pcap:,$T/u.pcap"
usage "missing value" --tx
usage "--tos 256" --tx "pcap:,$T/u.pcap" --count 1 --tos 256
check_eq "--tos 256: the sentence gives the range" \
	"nf-gen: --tos 256 is out of range: 0 to 255 (the ToS byte)" "$(cat "$T/u.err")"
usage "--tos 0x100" --tx "pcap:,$T/u.pcap" --count 1 --tos 0x100
usage "--tos with 9 values" --tx "pcap:,$T/u.pcap" --count 1 --tos 1,2,3,4,5,6,7,8,9
usage "--tos 1,x" --tx "pcap:,$T/u.pcap" --count 1 --tos 1,x
usage "--tos -1" --tx "pcap:,$T/u.pcap" --count 1 --tos -1
usage "--tos ef (a DSCP name, not a number)" --tx "pcap:,$T/u.pcap" --count 1 --tos ef
usage "--tos without --tx" --rx "pcap:$T/a.pcap" --tos 4
usage "--flow-stats without --rx" --tx "memif:$T/u.sock" --flow-stats
usage "--flow-stats without --tx" --rx "memif:$T/u.sock" --flow-stats
usage "--flow-stats with 65537 flows" --tx "memif:$T/u.sock" --rx "memif:$T/u2.sock" \
	--flows 65537 --flow-stats
check_eq "--flow-stats with 65537 flows: the sentence gives the limit" \
	"nf-gen: --flow-stats counts at most 65536 flows (--flows 65537)" "$(cat "$T/u.err")"

"$GEN" --help >"$T/help" 2>&1
check_eq "--help exits 0" 0 $?
check "--help documents every option and has examples" bash -c '
for o in --tx --rx --size --ipv6 --flows --rate --count --duration --burst \
	--src-mac --dst-mac --mac-flows --src-ip --dst-ip --sport --dport --tos --drain --idle \
	--wait --intr --progress --json --flow-stats --expect-zero-loss --version EXAMPLES \
	"EXIT STATUS" CLOCK_MONOTONIC; do
	grep -q -- "$o" "$1" || { echo "# missing $o"; exit 1; }
done' _ "$T/help"
check "--version" bash -c '"$1" --version | grep -q "^nf-gen (nfchain) "' _ "$GEN"

exit $_failed
