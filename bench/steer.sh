#!/usr/bin/env bash
# bench/steer.sh - the cost of steering in nfswitch (docs/STEERING.md):
# instructions per packet by valgrind's callgrind (collection only in
# sw_forward(), as bench/callgrind.sh; this machine has no hardware
# counters) and Mpps by wall clock, each scenario against the no-steering
# baseline.
#
# nf-gen sends IPv4/UDP (10.0.0.1 -> 10.0.0.2, one flow) into memif port 0
# and receives on port 1; port 2 is a memif port no one connects (a proxy
# member's other side). Scenarios (one nfswitch each):
#   base     no steering: MAC learning, the sink's MAC static on port 1
#   rules100 100 rules, the frames match the last one (output 1)
#   rules5k  5000 rules, the same
#   group    a rule to a group of 4 members (all port 1): nf_hash flow hash
#            and Maglev pick
#   track    the same group with `track` (what an autoscaled VNF type
#            gets): the flow's bucket written, the flow cache's entries
#            checked against it
#   encap    srv6-encap (H.Encaps, 3 SIDs) output 1
#   end      srv6-encap A,B,C (recirculated), SID A End, then a rule for B:
#            encap + one End hop in one pass (end - encap = the End hop:
#            parse, SID lookup, End, rule lookup)
#   adin     srv6-encap A,B,C, SID A End.AD: the inner packet to member
#            1/2 (adin - encap = End.AD's way in)
#   adin2    adin with two replicas (1/2 and 1/3; port 3, a fourth memif
#            port no one connects, the second one's return): the group
#            hashes each flow, so its entries are per flow
#   dx4      srv6-encap E (recirculated), SID E End.DX4 to port 1: the end
#            of a chain (decapsulation, the inner TTL - 1, a MAC)
#   adout    the proxy's way back: port 0 is member 2/0's RETURN; its
#            IPv4 frames get the cached SRv6 headers (the cache primed by
#            one frame from a pcap port) and go on by a rule for B
#   NAME-100f  NAME with 100 flows that take turns frame by frame (no two
#            frames of one flow in a row), against base-100f; with -T
#            TRAIN, TRAIN frames of a flow in a row (nf-gen --train)
#   NAME-100m  NAME-100f with a host pair per flow (nf-gen --mac-flows):
#            no two frames in a row have the same MACs, so plain
#            forwarding (base-100m: the 100 destination MACs static on
#            port 1) looks each frame up in the MAC table, as steering
#            looks each one up in the flow cache; against base-100m
#            (in-*-100m: against in-base-100m)
#   base-big no steering, 156-byte frames: the size encap, end and adout
#            send (60 + the 96 bytes of IPv6 + SRH), for the share of
#            their cost that is the longer frame's transmit
# Frames that arrive with an SRH (a node in the middle or at the end of a
# chain across nodes; issue 8): a front nfswitch (CPU 0, beside nf-gen,
# not measured) encapsulates nf-gen's frames (srv6-encap fc00::a,fc00::b,
# fc00::c; in-dx4: fc00::e) and sends them on a memif client port into the
# measured switch's port 0:
#   in-base  no steering: the 156-byte SRv6 frames switched to port 1
#   in-end   SID fc00::a End, then a rule for fc00::b to port 1: a transit
#            hop (the frame leaves as long as it came)
#   in-adin  SID fc00::a End.AD: the inner packet to member 1/2
#   in-adin2 the same with two replicas (1/2, 1/3): per-flow SRv6 entries
#   in-dx4   SID fc00::e End.DX4 to port 1 (a 124-byte frame in, 60 out)
# (instructions only: the front shares CPU 0 with nf-gen and sets the
# rate; its frames beyond what the switch under callgrind takes are lost,
# so these count fewer frames than N)
# The flow cache (DESIGN "Steering") answers every frame but each flow's
# first. Per packet: all of sw_forward minus empty polls (their cost from
# an idle run); the work per frame (the receive loop and forward():
# steering, switching, transmit; no empty poll in it: the ratio that
# counts); st_frame() alone (the full steering, for the frames the cache
# did not answer) and the inclusive cost of the library calls that ran. Mpps: REPEAT rounds, each scenario
# right after a baseline run; the ratio scenario/base within each round,
# then the median (the machine is shared: paired ratios are the figures).
# KEEP=DIR: the callgrind files (per instruction, --dump-instr=yes) are
# kept in DIR, for bench/cg_instr.py.
#
#   [BIN=DIR] bench/steer.sh [-n FRAMES] [-t SECONDS] [-r REPEAT] [-T TRAIN] [-S "SCENARIOS"]
set -u
cd "$(dirname "$0")/.."
N=200000 DUR=3 REPEAT=5 TRAIN=1
SCEN="base rules100 rules5k group encap end adin adout base-100f group-100f adin-100f encap-100f"
while getopts "n:t:r:T:S:" o; do
	case $o in
	n) N=$OPTARG ;; t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;; T) TRAIN=$OPTARG ;;
	S) SCEN=$OPTARG ;;
	*) echo "usage: bench/steer.sh [-n FRAMES] [-t SECONDS] [-r REPEAT] [-T TRAIN] [-S SCENARIOS]" >&2
	   exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
[ -x "$BIN/nfswitch" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "bench: valgrind missing (scripts/deps)" >&2; exit 1; }
. bench/lib.sh
bench_at_exit() {
	[ -n "${FRONT:-}" ] && kill "$FRONT" 2>/dev/null
	[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$W"/*.cg "$KEEP"/ 2>/dev/null
	return 0
}
bench_workdir steer SW
M() { echo "memif:$W/sw.sock,id=$1"; }
FNS="sw_forward forward srv_rx_run st_frame nf_parse nf_cls_match nf_hash_flow nf_hash_pick nf_srv6_encaps nf_srv6_end nf_srv6_proxy_in nf_srv6_proxy_out"

# The steering lines of scenario $1 on stdout.
conf() {
	local i
	case $(sname "$1") in
	base-big) ;;
	rules100|rules5k)
		local n=$([ "$1" = rules100 ] && echo 100 || echo 5000)
		for i in $(seq 1 $((n - 1))); do
			echo "rule id $i udp dport $((2000 + i)) action drop"
		done
		echo "rule id $n ip daddr 10.0.0.2 action output 1" ;;
	group|track)
		echo "group g 1 1 1 1$([ "$(sname "$1")" = track ] && echo " track")"
		echo "rule id 1 ip daddr 10.0.0.2 action group g" ;;
	encap)
		echo "rule id 1 ip daddr 10.0.0.2 action srv6-encap fc00::a,fc00::b,fc00::c output 1" ;;
	end)
		echo "sid fc00::a End"
		echo "rule id 1 ip daddr 10.0.0.2 action srv6-encap fc00::a,fc00::b,fc00::c"
		echo "rule id 2 ip6 daddr fc00::b action output 1" ;;
	dx4)
		echo "sid fc00::e End.DX4 1 02:00:00:00:00:02"
		echo "rule id 1 ip daddr 10.0.0.2 action srv6-encap fc00::e" ;;
	adin|adin2)
		echo "group vnf 1/2$([ "$(sname "$1")" = adin2 ] && echo " 1/3")"
		echo "sid fc00::a End.AD group vnf"
		echo "rule id 1 ip daddr 10.0.0.2 action srv6-encap fc00::a,fc00::b,fc00::c" ;;
	adout)
		echo "group vnf 2/0"
		echo "sid fc00::a End.AD group vnf"
		echo "rule id 2 ip6 daddr fc00::b action output 1" ;;
	in-end)
		echo "sid fc00::a End"
		echo "rule id 2 ip6 daddr fc00::b action output 1" ;;
	in-adin)
		echo "group vnf 1/2"
		echo "sid fc00::a End.AD group vnf" ;;
	in-adin2)
		echo "group vnf 1/2 1/3"
		echo "sid fc00::a End.AD group vnf" ;;
	in-dx4)
		echo "sid fc00::e End.DX4 1 02:00:00:00:00:02" ;;
	esac
}

# front SCENARIO: for in-*, the front switch that encapsulates nf-gen's
# frames into the measured switch's port 0 (started after it).
FRONT=
front() {
	local sids=fc00::a,fc00::b,fc00::c
	[ "${1#in-}" = "$1" ] && return 0
	[ "$(sname "$1")" = in-dx4 ] && sids=fc00::e
	echo "rule id 1 ip daddr 10.0.0.2 action srv6-encap $sids output 1" >"$W/front.conf"
	rm -f "$W/front.ctl"
	taskset -c 0 "$BIN/nfswitch" -q --mode intr -c "$W/front.ctl" -S "$W/front.conf" \
		-p "memif:$W/front.sock,id=0" -p "memif:$W/sw.sock,id=0,role=client" \
		>"$W/front.log" 2>&1 &
	FRONT=$!
	bench_wait "$W/front.ctl" || exit 1
}

# start SCENARIO [valgrind]: nfswitch with the scenario's steering.
start() {
	local pre=()
	[ -n "${2:-}" ] && pre=(valgrind --tool=callgrind --callgrind-out-file="$W/$1.cg"
		--collect-atstart=no --toggle-collect=sw_forward ${KEEP:+--dump-instr=yes})
	rm -f "$W/ctl"
	conf "$1" >"$W/$1.conf"
	local p3=()	# a second replica's return port
	case $(sname "$1") in *adin2) p3=(-p "$(M 3)") ;; esac
	taskset -c 1 "${pre[@]}" "$BIN/nfswitch" -q -c "$W/ctl" -S "$W/$1.conf" \
		-p "$(M 0)" -p "$(M 1)" -p "$(M 2)" "${p3[@]}" >"$W/$1.log" 2>&1 &
	SW=$!
	for i in $(seq 300); do [ -S "$W/ctl" ] && break; sleep 0.1; done
	[ -S "$W/ctl" ] || { echo "bench: nfswitch ($1) did not start: $(cat "$W/$1.log")" >&2; exit 1; }
	sw() { "$BIN/nfchain" switch --ctl "$W/ctl" "$@"; }
	case $(sname "$1") in base|base-big|in-base) sw add-mac 02:00:00:00:00:02 1 >/dev/null ;; esac
	case $1 in base-100m|in-base-100m) for i in $(seq 3 101); do
		sw add-mac "$(printf '02:00:00:00:00:%02x' "$i")" 1 >/dev/null
	done ;; esac
	[ "$(sname "$1")" = adout ] && prime
	front "$1"
	return 0
}
stop() {	# name: the switch's stats into $W/name.json
	"$BIN/nfchain" switch --ctl "$W/ctl" --json stats >"$W/$1.json"
	[ -n "$FRONT" ] && { kill -INT "$FRONT"; wait "$FRONT"; FRONT=; }
	kill -INT "$SW"; wait "$SW"; SW=
}
# One SRv6 frame to End.AD fc00::a from a pcap port: the proxy caches its
# headers for member 0, the headers adout's frames get back.
prime() {
	BIN=$BIN T=$W ROOT=$PWD python3 -c '
import sys; sys.path.insert(0, "tests/it")
from steer_lib import encap, u4, wpcap
wpcap(sys.argv[1], [encap(u4(1024, 1024, src="10.0.0.1", dst="10.0.0.2"), ["fc00::a", "fc00::b", "fc00::c"])])' "$W/prime.pcap"
	"$BIN/nfchain" switch --ctl "$W/ctl" add-port "pcap:$W/prime.pcap" prime >/dev/null
	sleep 0.5
	"$BIN/nfchain" switch --ctl "$W/ctl" del-port prime >/dev/null
	[ "$("$BIN/nfchain" switch --ctl "$W/ctl" --json sids | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["sids"][0]["packets"])')" = 1 ] ||
		{ echo "bench: the End.AD cache was not primed" >&2; exit 1; }
}
# sname SCENARIO: its name without -100f or -100m (its steering lines)
sname() { local x=${1%-100f}; echo "${x%-100m}"; }
flows() {	# scenario: nf-gen's flow and size options (NAME-100f: 100 flows, one after the other)
	[ "$(sname "$1")" != "$1" ] && echo "--flows 100 --train $TRAIN"
	[ "${1%-100m}" != "$1" ] && echo "--mac-flows"
	[ "$1" = base-big ] && echo "--size 156"
}
gen() {	# out.json, then nf-gen's arguments (into the front switch if one runs)
	local out=$1 tx
	shift
	tx=$([ -n "$FRONT" ] && echo "memif:$W/front.sock,id=0" || M 0)
	taskset -c 0 "$BIN/nf-gen" --tx "$tx" --rx "$(M 1)" --wait 60s --json "$@" \
		>"$out" 2>"$out.err"
}

# ---- instructions per packet
start idle valgrind
sleep 3
stop idle
for s in $SCEN; do
	start "$s" valgrind
	gen "$W/$s.gen" --count "$N" --drain 5s $(flows "$s")
	stop "$s"
	python3 bench/cg_incl.py "$W/$s.cg" 1 $FNS >"$W/$s.incl"
done
python3 bench/cg_incl.py "$W/idle.cg" 1 sw_forward >"$W/idle.incl"

# ---- Mpps, paired with a baseline run in each round
mpps() {	# gen json: frames received on port 1 (any kind) per second
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
print("%.4f" % (r["ports"]["rx"]["rx_packets"] / r["duration_s"] / 1e6))' "$1"
}
for r in $(seq "$REPEAT"); do
	for s in $SCEN; do
		# in-*: instructions only (the front switch shares CPU 0 with
		# nf-gen on this 2-core machine: it, not the switch, sets the rate)
		case $(sname "$s") in base|base-big|in-*) continue ;; esac
		b=base
		[ "${s%-100m}" != "$s" ] && b=base-100m	# its MACs on port 1
		for x in $b "$s"; do
			start "$x"
			gen "$W/m.json" --duration "$DUR" $(flows "$s")
			stop "m_$x"
			echo "$r $s $x $(mpps "$W/m.json")" >>"$W/mpps"
		done
	done
done

python3 - "$W" "$N" "$FNS" "$SCEN" "$TRAIN" <<'PY'
import json, os, statistics, sys
w, n, fns, scen = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
train = int(sys.argv[5])
idle = json.load(open(w + "/idle.json"))
per_empty = float(open(w + "/idle.incl").read()) / max(idle["polls"], 1)
print("nf-gen: %d frames of 60 bytes, one flow (-100f: 100 flows, %s), memif port 0 -> "
      "nfswitch -> port 1" % (n, "taking turns frame by frame" if train == 1 else
                               "in trains of %d frames" % train))
print("empty poll: %.1f instructions" % per_empty)
rows = {}
for s in scen:
    st = json.load(open("%s/%s.json" % (w, s)))
    fwd = sum(p["tx_packets"] for p in st["ports"])
    inc = dict(zip(fns, map(float, open("%s/%s.incl" % (w, s)).read().split())))
    empty = st["polls"] - st["bursts"]
    rows[s] = ((inc["sw_forward"] - empty * per_empty) / max(fwd, 1), fwd, inc)
base = rows["base"][0] if "base" in rows else None
# work per frame: the receive loop and forward() (steering, switching,
# transmit), no poll that found nothing: the figure for the ratio
work = {s: (r[2]["forward"] + r[2]["srv_rx_run"]) / max(r[1], 1) for s, r in rows.items()}
def base_of(s):
    if s.startswith("in-"):
        return "in-base-100m" if s.endswith("-100m") and "in-base-100m" in rows else "in-base"
    for k in ("-100f", "-100m"):
        if s.endswith(k) and "base" + k in rows:
            return "base" + k
    return "base"
print("%-10s %8s %8s %9s %8s %9s %7s  %s" % (
    "scenario", "frames", "instr/pk", "vs base", "work/pk", "vs base", "steer",
    "library calls per packet (inclusive)"))
for s in scen:
    per, fwd, inc = rows[s]
    b = base_of(s)
    lib = ", ".join("%s %.0f" % (f, inc[f] / fwd) for f in fns[5:] if inc[f] > 0)
    print("%-10s %8d %8.1f %9s %8.1f %9s %7.1f  %s" % (
        s, fwd, per, "%.2fx" % (per / rows[b][0]) if b in rows else "-", work[s],
        "%.2fx" % (work[s] / work[b]) if b in work else "-", inc["st_frame"] / max(fwd, 1), lib))
if "base-big" in work:
    print("\nagainst frames of the size that leaves (base-big, %.1f work/pk): %s" % (
        work["base-big"], ", ".join("%s %.2fx" % (s, work[s] / work["base-big"])
                                   for s in scen if s in ("encap", "end", "adout"))))
mp = {}
for line in open(w + "/mpps") if os.path.exists(w + "/mpps") else []:
    r, s, x, v = line.split()
    mp.setdefault((s, r), {})[x] = float(v)
print("\nMpps (64-byte frames), median of %d rounds; ratio = scenario / base within "
      "each round, median" % len({r for _, r in mp}))
for s in scen:
    b = "base-100m" if s.endswith("-100m") else "base"	# the Mpps loop's
    if s == b:
        continue
    pairs = [d for (x, r), d in mp.items() if x == s and b in d and s in d]
    if not pairs:
        continue
    print("%-9s %6.2f Mpps (%s %.2f)  ratio %.2f  [%s]" % (
        s, statistics.median(d[s] for d in pairs), b, statistics.median(d[b] for d in pairs),
        statistics.median(d[s] / d[b] for d in pairs),
        " ".join("%.2f" % (d[s] / d[b]) for d in pairs)))
PY
