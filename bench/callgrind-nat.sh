#!/usr/bin/env bash
# bench/callgrind-nat.sh - instructions per packet in nf-nat, counted by
# valgrind's callgrind: collection only inside the framework's burst
# function (receive, parse, pre / process / post, transmit), for frames
# nf-gen sends through nf-nat over memif (nf-gen serves both sockets,
# nf-nat is their client: no switch in the count). Outbound UDP, FLOWS
# flows (inside hosts 10.1.0.2 + i), N frames: the first frame of each
# flow makes its session and mapping, the rest find it (N >> FLOWS gives
# the established path; the split shows the process stage with nf_ct).
# Reported per frame forwarded: nf-nat's three stages, with the
# framework's parse, and all of it, with the split by function. nf-nat
# runs in interrupt mode so that idle polls do not count.
#
#   [BIN=DIR] bench/callgrind-nat.sh [-n FRAMES] [-s SIZE] [-f FLOWS]   (BIN: default build/release/bin)
set -u
cd "$(dirname "$0")/.."
N=200000 SIZE=60 FLOWS=1
while getopts "n:s:f:" o; do
	case $o in
	n) N=$OPTARG ;; s) SIZE=$OPTARG ;; f) FLOWS=$OPTARG ;;
	*) echo "usage: bench/callgrind-nat.sh [-n FRAMES] [-s SIZE] [-f FLOWS]" >&2; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
. bench/lib.sh
bench_workdir cgn NP
bench_at_exit() { [ -z "${KEEP:-}" ] || cp "$W/cg.out" "$KEEP"; }
cat >"$W/n.conf" <<CONF
set mode intr
set sessions 262144
port in memif:$W/a.sock mac 02:00:00:00:01:01
port out memif:$W/b.sock mac 02:00:00:00:01:02
inside in
outside out next-hop 02:00:00:00:0b:02
pool 10.2.0.11-10.2.0.14
CONF
"$BIN/nf-gen" --tx "memif:$W/a.sock,role=server" --rx "memif:$W/b.sock,role=server" \
	--dst-mac 02:00:00:00:01:01 --src-ip 10.1.0.2 --dst-ip 10.2.0.2 --size "$SIZE" \
	--flows "$FLOWS" --count "$N" --drain 10s --wait 60s --json >"$W/gen.json" 2>"$W/gen.err" &
GEN=$!
for i in $(seq 100); do [ -S "$W/b.sock" ] && break; sleep 0.05; done
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" --collect-atstart=no \
	--toggle-collect=vnf_burst "$BIN/nf-nat" -q -c "$W/n.conf" --ctl "$W/n.ctl" \
	>"$W/n.log" 2>&1 &
NP=$!
wait "$GEN"
"$BIN/nfchain" vnf "$W/n.ctl" --json stats >"$W/stats.json"
kill -INT "$NP"; wait "$NP"; NP=
read -r n bursts created < <(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print(d["stages"]["post"]["out"], d["bursts"], d["nat"]["created"])' "$W/stats.json")
FNS="vnf_burst cli_rx_burst nf_parse nat_pre nat_process fc_run nf_ct_in nat_post cli_tx_burst"
# shellcheck disable=SC2086
read -r tot rx parse pre proc run ct post tx < <(python3 bench/cg_incl.py "$W/cg.out" "$n" $FNS)
python3 - "$SIZE" "$FLOWS" "$n" "$bursts" "$created" "$tot" "$rx" "$parse" "$pre" "$proc" \
	"$run" "$ct" "$post" "$tx" <<'PY'
import sys
size, flows = sys.argv[1:3]
n, bursts, created = map(int, sys.argv[3:6])
tot, rx, parse, pre, proc, run, ct, post, tx = map(float, sys.argv[6:15])
stages = pre + proc + post
print("IPv4 UDP, %s-byte frames, %s flows: %d frames translated in %d bursts, %d sessions "
      "made" % (size, flows, n, bursts, created))
print("instructions per packet")
print("  %6.1f  nf-nat stages: pre + process + post" % stages)
print("  %6.1f  nf-nat stages + parse" % (stages + parse))
print("  %6.1f  all of nf-nat's burst: receive, parse, stages, framework, transmit" % tot)
for fn, v, what in (("cli_rx_burst", rx, "receive (memif client)"),
                    ("nf_parse", parse, "parse (framework)"),
                    ("nat_pre", pre, "pre: IPv4 header checksum, the common case inline"),
                    ("nat_process", proc, "process: session lookup, new sessions"),
                    ("  fc_run", run, "  of which the flow cache's hits that start a burst "
                     "(nf_ct refresh inline)"),
                    ("  nf_ct_in", ct, "  of which the connection tracker (lookup, state)"),
                    ("nat_post", post, "post: address / port rewrite, checksums, MACs"),
                    ("cli_tx_burst", tx, "transmit (memif client)")):
    print("    %-13s %6.1f  %s" % (fn, v, what))
print("    %-13s %6.1f  %s" % ("(framework)", tot - rx - parse - stages - tx,
                               "burst loop, verdicts, counters, grouping by port"))
PY
