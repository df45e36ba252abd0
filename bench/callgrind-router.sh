#!/usr/bin/env bash
# bench/callgrind-router.sh - instructions per packet in nf-router, counted
# by valgrind's callgrind: collection only inside the framework's burst
# function (receive, parse, pre / process / post, transmit), for frames
# nf-gen sends through the router over memif (nf-gen serves both sockets,
# the router is their client: no switch in the count).
# Reported: all of it / frames forwarded, and the split by function.
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
python3 - "$W/cg.out" "$W/stats.json" "$SZ" "$FLOWS" "${V6:-4}" <<'PY'
import json, re, subprocess, sys
cg, st, size, flows, fam = sys.argv[1:6]
d = json.load(open(st))
n = d["stages"]["post"]["out"]
ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg],
                     capture_output=True, text=True).stdout
def incl(fn):
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*\b%s\b" % re.escape(fn), line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0
tot = incl("vnf_burst")
print("IPv%s, %s-byte frames, %s flows: %d frames forwarded in %d bursts" %
      (fam.strip("-"), size, flows, n, d["bursts"]))
print("instructions per packet in nf-router (rx, parse, the three stages, tx): %.1f" % (tot / n))
for fn, what in (("cli_rx_burst", "receive (memif client)"), ("nf_parse", "parse"),
                 ("rt_pre", "pre: checks"), ("rt_process", "process: route lookup, TTL check"),
                 ("rt_post", "post: MTU, TTL, next hop, MACs"),
                 ("cli_tx_burst", "transmit (buffer swap)")):
    c = incl(fn)
    if c:
        print("  %-14s %6.1f  %s" % (fn, c / n, what))
PY
