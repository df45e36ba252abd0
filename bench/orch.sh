#!/usr/bin/env bash
# bench/orch.sh - the orchestrator's two figures (docs/BENCHMARKS.md):
#
#  (1) time from `nfchain up` to the first packet forwarded, for the
#      3-VNF chain of examples/router-nat-fw.yaml (router -> NAT -> two
#      firewall replicas), runtime process and runtime runc, REPEAT times
#      each: `up -d` returns once every replica answers its health probe;
#      then one nf-gen frame is sent through the chain and received. The
#      generator's own start-up is timed alone against the running chain
#      and reported beside it.
#  (2) forwarding rate of a firewall chain (stateful nf-firewall, 100
#      flows, 64-byte frames offered as fast as nf-gen can) with 1 and 2
#      replicas, interleaved REPEAT times: medians and the paired ratio.
#      nf-gen on CPU 0; nfswitch (switch-cpu 1) and the replicas share the
#      machine (mode yield).
#
#   bench/orch.sh [-t SECONDS] [-r REPEAT]     (defaults: 3 s, 5)
set -u
cd "$(dirname "$0")/.."
DUR=3 REPEAT=5
while getopts "t:r:" o; do
	case $o in
	t) DUR=$OPTARG ;; r) REPEAT=$OPTARG ;;
	*) echo "usage: bench/orch.sh [-t SECONDS] [-r REPEAT]" >&2; exit 2 ;;
	esac
done
BIN=${BIN:-$PWD/build/release/bin}
[ -x "$BIN/nfchain" ] || { echo "bench: build first (make)" >&2; exit 1; }
. bench/lib.sh
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d := d[k] for k in sys.argv[2].split(".")]; print(d)' "$1" "$2"; }
bench_at_exit() { NFCHAIN_RUN_DIR=$W/run "$BIN/nfchain" down --name rnf >/dev/null 2>&1
	NFCHAIN_RUN_DIR=$W/run "$BIN/nfchain" down --name fwb >/dev/null 2>&1; }
bench_workdir orch none
export NFCHAIN_RUN_DIR=$W/run
C=$BIN/nfchain
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

echo "(1) nfchain up -> first packet through router -> NAT -> firewall x2 (ms, $REPEAT runs each)"
printf '%-8s %10s %14s %12s\n' runtime "up -d" "first packet" "nf-gen alone"
for rt in process runc; do
	sed "s/^runtime: runc/runtime: $rt/" examples/router-nat-fw.yaml >"$W/rnf.yaml"
	ups=() firsts=() gens=()
	for i in $(seq "$REPEAT"); do
		t0=$(date +%s%N)
		"$C" up -d "$W/rnf.yaml" >/dev/null || { echo "bench: up failed" >&2; exit 1; }
		ups+=($(ms "$t0"))
		"$BIN/nf-gen" --tx "memif:$W/run/rnf/memif.sock,id=0" --rx "memif:$W/run/rnf/memif.sock,id=1" \
			--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --count 1 --drain 2s --json >"$W/g.json" 2>/dev/null
		firsts+=($(ms "$t0"))
		[ "$(jget "$W/g.json" rx.packets 2>/dev/null)" = 1 ] || { echo "bench: the first packet did not arrive" >&2; exit 1; }
		t1=$(date +%s%N)
		"$BIN/nf-gen" --tx "memif:$W/run/rnf/memif.sock,id=0" --rx "memif:$W/run/rnf/memif.sock,id=1" \
			--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --count 1 --drain 2s >/dev/null 2>&1
		gens+=($(ms "$t1"))
		"$C" down >/dev/null
	done
	printf '%-8s %10s %14s %12s   (medians; runs: up %s, first %s)\n' "$rt" "$(median "${ups[@]}")" \
		"$(median "${firsts[@]}")" "$(median "${gens[@]}")" "${ups[*]}" "${firsts[*]}"
done

echo
echo "(2) stateful firewall chain, 1 vs 2 replicas: Mpps forwarded (64 B, 100 flows, $DUR s x $REPEAT)"
fwfile() {
	cat <<EOF2
name: fwb
runtime: process
mode: yield
switch-cpu: 1
ports:
  lan: {memif: 0}
  wan: {memif: 1}
vnfs:
  fw:
    program: nf-firewall
    ports: [fin, fout]
    replicas: $1
    files:
      fw.rules: |
        ct state established,related accept
        ct state invalid drop
        iifname fin udp dport 1024 accept
        counter drop
    config: |
      rules fw.rules
      set policy drop
chains:
  f:
    from: lan
    to: wan
    to-mac: 02:00:00:00:c5:02
    vnfs: [fw]
EOF2
}
one=() two=() ratio=()
for i in $(seq "$REPEAT"); do
	for n in 1 2; do
		fwfile "$n" >"$W/fw$n.yaml"
		"$C" up -d "$W/fw$n.yaml" >/dev/null || { echo "bench: up failed" >&2; exit 1; }
		taskset -c 0 "$BIN/nf-gen" --tx "memif:$W/run/fwb/memif.sock,id=0" \
			--rx "memif:$W/run/fwb/memif.sock,id=1" --src-ip 10.1.0.2 --dst-ip 203.0.113.2 \
			--flows 100 --duration "$DUR" --json >"$W/fw$n.json" 2>/dev/null
		"$C" down >/dev/null
		set -- $(bench_mpps "$W/fw$n.json")
		[ "$n" = 1 ] && one+=("$1") || two+=("$1")
	done
	ratio+=($(python3 -c "print(round(${two[-1]} / ${one[-1]}, 2))"))
	echo "  run $i: 1 replica ${one[-1]} Mpps, 2 replicas ${two[-1]} Mpps"
done
echo "median: 1 replica $(median "${one[@]}") Mpps, 2 replicas $(median "${two[@]}") Mpps, paired ratio 2/1 $(median "${ratio[@]}")x"
