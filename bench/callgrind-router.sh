#!/usr/bin/env bash
# bench/callgrind-router.sh - instructions per packet in nf-router, counted
# by valgrind's callgrind: collection only inside the framework's burst
# function (receive, parse, pre / process / post, transmit), for frames
# nf-gen sends through the router over memif (nf-gen serves both sockets,
# the router is their client: no switch in the count).
# Reported per frame forwarded: the router's three stages, with the
# framework's parse, and all of it (memif receive and transmit included),
# with the split by function. The router runs in interrupt mode so that
# idle polls (after the last frame) do not count.
#
#   bench/callgrind-router.sh [-n FRAMES] [-s SIZE] [-f FLOWS] [-6]
set -u
cd "$(dirname "$0")/.."
N=200000 SIZE=60 FLOWS=1 V6=
while getopts "n:s:f:6" o; do
	case $o in
	n) N=$OPTARG ;; s) SIZE=$OPTARG ;; f) FLOWS=$OPTARG ;; 6) V6=-6 ;;
	*) echo "usage: bench/callgrind-router.sh [-n FRAMES] [-s SIZE] [-f FLOWS] [-6]" >&2; exit 2 ;;
	esac
done
BIN=$PWD/build/release/bin
W=$(mktemp -d /tmp/nfchain-cgr.XXXXXX)
RT=
trap '[ -n "$RT" ] && kill $RT 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$W/cg.out" "$KEEP"; rm -rf "$W"' EXIT
cat >"$W/r.conf" <<CONF
set mode intr
port a memif:$W/a.sock mac 02:00:00:00:01:01
port b memif:$W/b.sock mac 02:00:00:00:01:02
address a 10.1.0.1/24
address b 10.2.0.1/24
address a fd00:1::1/64
address b fd00:2::1/64
neighbor b 10.2.0.2 02:00:00:00:0b:02
neighbor b fd00:2::2 02:00:00:00:0b:02
route 10.20.0.0/16 via 10.2.0.2
route fd00:20::/48 via fd00:2::2
CONF
if [ -n "$V6" ]; then IPS="--src-ip fd00:1::2 --dst-ip fd00:20::5"; else IPS="--src-ip 10.1.0.2 --dst-ip 10.20.1.2"; fi
SZ=$SIZE
[ -n "$V6" ] && [ "$SIZE" -lt 80 ] && SZ=80
# shellcheck disable=SC2086
"$BIN/nf-gen" --tx "memif:$W/a.sock,role=server" --rx "memif:$W/b.sock,role=server" \
	--dst-mac 02:00:00:00:01:01 $V6 $IPS --size "$SZ" --flows "$FLOWS" --count "$N" \
	--drain 10s --wait 60s --json >"$W/gen.json" 2>"$W/gen.err" &
GEN=$!
for i in $(seq 100); do [ -S "$W/b.sock" ] && break; sleep 0.05; done
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --collect-atstart=no \
	--toggle-collect=vnf_burst "$BIN/nf-router" -q -c "$W/r.conf" --ctl "$W/r.ctl" \
	>"$W/r.log" 2>&1 &
RT=$!
wait "$GEN"
"$BIN/nfchain" vnf "$W/r.ctl" --json stats >"$W/stats.json"
kill -INT "$RT"; wait "$RT"; RT=
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stages"]["post"]["out"])' "$W/stats.json")
bursts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bursts"])' "$W/stats.json")
FNS="vnf_burst cli_rx_burst nf_parse rt_pre rt_process rt_post cli_tx_burst"
# shellcheck disable=SC2086
read -r tot rx parse pre proc post tx < <(python3 bench/cg_incl.py "$W/cg.out" "$n" $FNS)
python3 - "$SZ" "$FLOWS" "${V6:-4}" "$n" "$bursts" "$tot" "$rx" "$parse" "$pre" "$proc" "$post" "$tx" <<'PY'
import sys
size, flows, fam = sys.argv[1:4]
n, bursts = int(sys.argv[4]), int(sys.argv[5])
tot, rx, parse, pre, proc, post, tx = map(float, sys.argv[6:13])
stages = pre + proc + post
print("IPv%s, %s-byte frames, %s flows: %d frames forwarded in %d bursts" %
      (fam.strip("-"), size, flows, n, bursts))
print("instructions per packet")
print("  %6.1f  router stages: pre + process + post" % stages)
print("  %6.1f  router stages + parse" % (stages + parse))
print("  %6.1f  all of nf-router's burst: receive, parse, stages, framework, transmit" % tot)
for fn, v, what in (("cli_rx_burst", rx, "receive (memif client, release of the previous burst)"),
                    ("nf_parse", parse, "parse (framework)"),
                    ("rt_pre", pre, "pre: RFC 1812 checks, header checksum"),
                    ("rt_process", proc, "process: route lookup, TTL check"),
                    ("rt_post", post, "post: next hop, MTU, TTL decrement, MAC rewrite"),
                    ("cli_tx_burst", tx, "transmit (memif client, buffer swap)")):
    print("    %-13s %6.1f  %s" % (fn, v, what))
print("    %-13s %6.1f  %s" % ("(framework)", tot - (rx + parse + stages + tx),
                               "burst loop, L2 filter, verdicts, counters, grouping by port"))
PY
