#!/usr/bin/env bash
# bench/callgrind-afxdp.sh - instructions per packet of the uplink port's
# own receive and transmit code in nfswitch, AF_XDP (nf_afxdp.c) against
# AF_PACKET (nf_afpacket.c), counted by valgrind's callgrind (user space
# only: the kernel's work, the larger part, is not in these figures).
#
# For each uplink: nfswitch under callgrind with a memif port and the
# uplink on a veth (peer in a namespace); collection on only inside the
# port's rx_burst and tx_burst functions. N frames go out (nf-gen on memif
# -> switch -> uplink -> nf-gen on AF_PACKET at the peer), then N come in
# (the other way). Transmit: every call carries frames, so the figure is
# the inclusive count / frames sent. Receive: the switch polls the uplink
# also when nothing waits. The cost of an empty call comes from a run of
# the idle switch (inclusive count / calls); the receive figure is the
# marginal cost per frame: (inclusive - calls x empty call) / frames.
#
#   bench/callgrind-afxdp.sh [-n FRAMES] [-s SIZE]
set -u
cd "$(dirname "$0")/.."
N=100000 SIZE=60
while getopts "n:s:" o; do
	case $o in
	n) N=$OPTARG ;; s) SIZE=$OPTARG ;;
	*) echo "usage: bench/callgrind-afxdp.sh [-n FRAMES] [-s SIZE]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
command -v valgrind >/dev/null || { echo "bench: valgrind missing (scripts/deps)" >&2; exit 1; }
. bench/lib.sh
SW=
bench_workdir cg-afxdp SW
NS=afxcg$$ H=afxcg$$
bench_at_exit() { ip netns del "$NS" 2>/dev/null; ip link del "$H" 2>/dev/null; }
veth_ns "$NS" "$H" p0 || exit 1

run() {	# name spec rx_fn tx_fn idle|load
	valgrind --tool=callgrind --callgrind-out-file="$W/$1-$5.cg" --collect-atstart=no \
		--toggle-collect="$3" --toggle-collect="$4" "$BIN/nfswitch" -q \
		-c "$W/ctl" -p "$2" -p "memif:$W/sw.sock,id=0" >"$W/$1.log" 2>&1 &
	SW=$!
	for i in $(seq 300); do "$BIN/nfchain" switch --ctl "$W/ctl" ports >/dev/null 2>&1 && break; sleep 0.1; done
	if [ "$5" = idle ]; then
		sleep 3
	else
		ip netns exec "$NS" "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" --rx afpacket:p0 \
			--count "$N" --size "$SIZE" --drain 2s --wait 30s --json \
			>"$W/$1-out.json" 2>/dev/null
		ip netns exec "$NS" "$BIN/nf-gen" --tx afpacket:p0 --rx "memif:$W/sw.sock,id=0" \
			--count "$N" --size "$SIZE" --drain 2s --wait 30s --json \
			>"$W/$1-in.json" 2>/dev/null
	fi
	"$BIN/nfchain" switch --ctl "$W/ctl" --json ports >"$W/$1-$5.ports"
	kill -INT "$SW"; wait "$SW"; SW=
}
for m in idle load; do
	run afxdp "afxdp:$H,mode=copy,fallback=none" afx_rx_burst afx_tx_burst $m
	run afpacket "afpacket:$H" afp_rx_burst afp_tx_burst $m
done

python3 - "$W" "$N" "$SIZE" <<'PY'
import json, re, subprocess, sys
w, n, size = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def cost(cg, fn):
    """inclusive instructions of fn and its number of calls"""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                         capture_output=True, text=True).stdout
    incl = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*\b%s\b" % re.escape(fn), line)
        if m:
            incl = int(m.group(1).replace(",", ""))
            break
    # call counts: "cfn=(id) name" (or "cfn=(id)" once named), then "calls=N ..."
    names, calls, cur = {}, 0, None
    for line in open(cg):
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2).strip()
            if line.startswith("cfn="):
                cur = names.get(m.group(1))
            continue
        m = re.match(r"calls=(\d+)", line)
        if m and cur == fn:
            calls += int(m.group(1))
    return incl, calls
print("frames %d each way, %s bytes, offered as fast as nf-gen can; instructions in the port's own" % (n, size))
print("burst functions (user space; system calls and the kernel's work not counted)")
print("%-10s %12s %12s %14s %12s %10s %10s" % ("uplink", "tx / frame", "rx / frame", "empty rx call", "rx calls", "sent", "received"))
for up, rx, tx in (("afxdp", "afx_rx_burst", "afx_tx_burst"), ("afpacket", "afp_rx_burst", "afp_tx_burst")):
    ports = json.load(open("%s/%s-load.ports" % (w, up)))["ports"]
    p = [x for x in ports if x["type"] in ("afxdp", "afpacket")][0]
    ti, _ = cost("%s/%s-load.cg" % (w, up), tx)
    ri, rc = cost("%s/%s-load.cg" % (w, up), rx)
    ii, ic = cost("%s/%s-idle.cg" % (w, up), rx)
    empty = ii / ic if ic else 0.0
    print("%-10s %12.1f %12.1f %14.1f %12d %10d %10d" % (up, ti / max(p["tx_packets"], 1),
          (ri - rc * empty) / max(p["rx_packets"], 1), empty, rc, p["tx_packets"], p["rx_packets"]))
PY
