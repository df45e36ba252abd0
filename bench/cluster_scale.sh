#!/usr/bin/env bash
# bench/cluster_scale.sh - the controller at scale: C chains on N simulated
# nodes, with a real three-member etcd cluster (issue 8, docs/CLUSTER.md).
#
#   bench/cluster_scale.sh [-n NODES] [-c CHAINS] [-g NGROUP] [-k KILL]
#
# The nodes are `nfchain node --simulate`: G processes of N/G nodes each,
# every node registered under its process's lease, every placement naming
# one of them reported up at once (no replica runs). The chains are copies
# of examples/router-nat-fw.yaml (3 VNF types: 3 nodes per chain).
# Phases, each timed until `nfchain cluster wait` sees every chain placed
# and reported up by every node of its placement:
#   1. place: C descriptions stored (nfchain cluster apply --copies C)
#   2. node loss: K of the G processes killed (their nodes' leases run
#      out, 3 s): the chains on those nodes are placed again
# etcd's revision counts every write made to it, by anyone: writes per
# change = revisions / chains changed. Defaults: 1000 nodes, 10000 chains.
set -eu
cd "$(dirname "$0")/.."
NODES=1000 CHAINS=10000 NGROUP=10 KILL=1
while getopts "n:c:g:k:h" o; do
	case $o in
	n) NODES=$OPTARG ;;
	c) CHAINS=$OPTARG ;;
	g) NGROUP=$OPTARG ;;
	k) KILL=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
T=$(mktemp -d /dev/shm/nfchain-cscale.XXXXXX)	# etcd on tmpfs: the writes, not the disk
cleanup() { :; }	# tests/it/etcd/lib.sh registers its stop: finish() does it
. tests/it/etcd/lib.sh
pids=()
finish() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	etcd_cluster_stop "$T/etcd" >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap finish EXIT
etcd_cluster_start "$T/etcd" 3 23820 >/dev/null
EPS=$ETCD_ENDPOINTS
rev() { ETCDCTL_API=3 etcdctl --endpoints="$EPS" endpoint status -w json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])'; }
# keys written (puts and deletes, those in transactions included), from
# etcd's own counters on member 0 (every member applies every write)
keys() { curl -s "$(etcd_endpoint 0)/metrics" | awk '/^etcd_mvcc_(put|delete)_total /{n += $2} END{print n}'; }
CL() { "$BIN/nfchain" cluster --etcd "$EPS" "$@"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

"$BIN/nfchain" controller --etcd "$EPS" >"$T/controller.log" 2>&1 &
pids+=($!)
per=$((NODES / NGROUP))
gpids=()
for ((g = 0; g < NGROUP; g++)); do
	"$BIN/nfchain" node --simulate "$per" --name "g$g" --cpu 64 --memory 256G --ttl 3 \
		--etcd "$EPS" >"$T/sim$g.log" 2>&1 &
	pids+=($!)
	gpids+=($!)
done
sleep 2
sed 's/^runtime: runc/runtime: process/' examples/router-nat-fw.yaml >"$T/rnf.yaml"
r0=$(rev)
k0=$(keys)
t0=$(ms)
CL apply "$T/rnf.yaml" --copies "$CHAINS" >/dev/null
t1=$(ms)
CL wait --timeout 60 >"$T/wait1" || { cat "$T/wait1" "$T/controller.log" | tail; exit 1; }
t2=$(ms)
r1=$(rev)
k1=$(keys)
w1=$((k1 - k0))
echo "place: $CHAINS chains on $NODES simulated nodes: stored in $((t1 - t0)) ms, placed and" \
	"reported up $((t2 - t0)) ms after the first write; $w1 keys written" \
	"($(awk "BEGIN{printf \"%.2f\", $w1 / $CHAINS}") per chain: description, placement, reports)" \
	"in $((r1 - r0)) etcd requests (revisions)"

# Phase 2: K groups (K*N/G nodes) die.
dead=0
for ((g = 1; g < KILL; g++)); do dead="$dead|$g"; done
moved_before=$(ETCDCTL_API=3 etcdctl --endpoints="$EPS" get --prefix /nfchain/placement/ \
	--print-value-only | grep -cE "\"g($dead)-" || true)
r2=$(rev)
k2=$(keys)
t3=$(ms)
for ((g = 0; g < KILL; g++)); do kill -9 "${gpids[$g]}"; done
# until no placement names a dead node and everything is up again
sleep 0.5
for i in $(seq 600); do
	n=$(ETCDCTL_API=3 etcdctl --endpoints="$EPS" get --prefix /nfchain/placement/ \
		--print-value-only | grep -cE "\"g($dead)-" || true)
	[ "$n" = 0 ] && break
	sleep 0.2
done
t4=$(ms)
CL wait --timeout 60 >"$T/wait2" || { cat "$T/wait2"; exit 1; }
t5=$(ms)
r3=$(rev)
k3=$(keys)
w2=$((k3 - k2))
echo "node loss: $((KILL * per)) nodes killed (lease 3 s), $moved_before chains had a VNF" \
	"there: re-placed $((t4 - t3)) ms after the kill, all up again after $((t5 - t3)) ms;" \
	"$w2 keys written ($(awk "BEGIN{printf \"%.2f\", $w2 / ($moved_before ? $moved_before : 1)}")" \
	"per chain moved; the dead nodes' $((KILL * per)) registrations included) in $((r3 - r2)) requests"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
echo "controller passes of 1 s or more, and its total:"
grep -h "pass" "$T/controller.log" | tail -12 || true
