#!/usr/bin/env bash
# bench/afxdp.sh - nfswitch's uplink on a veth: the AF_XDP port (copy mode,
# native XDP on veth) against the AF_PACKET port, the same veth, the same
# run, alternated.
#
#   nf-gen (CPU 0, in namespace NS: afpacket on the veth's peer, memif on
#   the switch's socket) <-> nfswitch (CPU 1: memif port + the uplink)
#
#   out: nf-gen --tx memif -> nfswitch -> uplink -> veth -> nf-gen --rx
#        afpacket (the peer)
#   in:  nf-gen --tx afpacket (the peer) -> veth -> uplink -> nfswitch ->
#        nf-gen --rx memif
#
# The peer side is AF_PACKET in both cases: only the switch's uplink port
# changes. Offered load: as fast as possible; the figure is what arrives
# (Mpps). For each repeat and size, the two uplinks run back to back in
# both directions (the order alternates between repeats); reported: the
# median of each, and the median of the paired ratios afxdp/afpacket (the
# machine is shared and noisy: the paired ratios are the figures to
# quote).
#
#   bench/afxdp.sh [-t SECONDS] [-r REPEAT] [-s "60 1514"] [-o FILE.json]
set -u
cd "$(dirname "$0")/.."
DUR=4 REPEAT=5 SIZES="60 1514" OUT=build/bench/afxdp.json
while getopts "t:r:s:o:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; s) SIZES=$OPTARG ;; o) OUT=$OPTARG ;;
	*) echo "usage: bench/afxdp.sh [-t SECONDS] [-r REPEAT] [-s SIZES] [-o FILE]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
[ -x "$BIN/nfswitch" ] || { echo "bench: build first (make)" >&2; exit 1; }
. bench/lib.sh
pids=()
SW=
bench_workdir afxdp SW
NS=afxbench$$ H=afxbh$$
mkdir -p "$(dirname "$OUT")"
bench_at_exit() { ip netns del "$NS" 2>/dev/null; ip link del "$H" 2>/dev/null; }
veth_ns "$NS" "$H" p0 || exit 1

# trial UPLINK DIR SIZE: one trial, prints the received Mpps.
trial() {
	local up=$1 dir=$2 size=$3 spec
	[ "$up" = afxdp ] && spec="afxdp:$H,mode=copy,fallback=none" || spec="afpacket:$H"
	taskset -c 1 "$BIN/nfswitch" -q -c "$W/sw.ctl" -p "$spec" -p "memif:$W/sw.sock,id=0" \
		>"$W/sw.log" 2>&1 &
	SW=$!
	bench_wait "$W/sw.ctl" || { cat "$W/sw.log" >&2; exit 1; }
	# the switch learns the peer's MAC from the first frames: unicast after
	if [ "$dir" = out ]; then
		ip netns exec "$NS" taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/sw.sock,id=0" \
			--rx afpacket:p0 --size "$size" --duration "$DUR" --drain 500ms \
			--json >"$W/t.json" 2>"$W/t.err"
	else
		ip netns exec "$NS" taskset -c 0 "$BIN/nf-gen" --tx afpacket:p0 \
			--rx "memif:$W/sw.sock,id=0" --size "$size" --duration "$DUR" \
			--drain 500ms --json >"$W/t.json" 2>"$W/t.err"
	fi
	kill "$SW"; wait "$SW" 2>/dev/null; SW=
	bench_mpps "$W/t.json" | cut -d' ' -f1
}

declare -A R
echo "bench/afxdp.sh: ${DUR}s per trial, $REPEAT repeats, sizes $SIZES (bytes without FCS)"
for rep in $(seq "$REPEAT"); do
	order="afxdp afpacket"
	[ $((rep % 2)) = 0 ] && order="afpacket afxdp"
	for s in $SIZES; do
		for dir in out in; do
			for up in $order; do
				v=$(trial "$up" "$dir" "$s")
				R[$up,$dir,$s]="${R[$up,$dir,$s]:-} $v"
				printf '  repeat %d  size %4d  %-3s  %-8s %8s Mpps\n' "$rep" "$s" "$dir" "$up" "$v"
			done
		done
	done
done

python3 - "$OUT" "$DUR" "$REPEAT" "bench/afxdp.sh -t $DUR -r $REPEAT -s \"$SIZES\"" <<EOF
import json, statistics, sys, platform
R = {}
$(for k in "${!R[@]}"; do echo "R['$k'] = [float(x) for x in '${R[$k]}'.split()]"; done)
sizes = sorted({int(k.split(',')[2]) for k in R})
out = {'command': sys.argv[4], 'duration_s': int(sys.argv[2]),
       'repeat': int(sys.argv[3]), 'kernel': platform.release(), 'results': {}}
print()
print('%-40s' % 'median rate, Mpps' + ''.join('%10s' % ('%dB' % (s + 4)) for s in sizes))
for d, what in (('out', 'memif -> switch -> uplink -> veth'), ('in', 'veth -> uplink -> switch -> memif')):
    print(what)
    for up in ('afxdp', 'afpacket'):
        print('%-40s' % ('  ' + up) + ''.join('%10.3f' % statistics.median(R['%s,%s,%d' % (up, d, s)]) for s in sizes))
    rs = []
    for s in sizes:
        a, b = R['afxdp,%s,%d' % (d, s)], R['afpacket,%s,%d' % (d, s)]
        pairs = [x / y for x, y in zip(a, b) if y > 0]
        rs.append(statistics.median(pairs) if pairs else float('inf'))
        out['results']['%s,%d' % (d, s + 4)] = {
            'afxdp': a, 'afpacket': b, 'median_afxdp': statistics.median(a),
            'median_afpacket': statistics.median(b), 'paired_ratios': pairs,
            'median_ratio': rs[-1]}
    print('%-40s' % '  afxdp/afpacket, median of paired' + ''.join('%9.2fx' % r for r in rs))
json.dump(out, open(sys.argv[1], 'w'), indent=1)
print('\nresults: ' + sys.argv[1])
EOF
