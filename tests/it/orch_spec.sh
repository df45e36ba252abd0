# orch_spec.sh - service descriptions nfchain refuses, and those it takes.
#
# Every file in tests/it/orch/bad/ starts with "# expect: MESSAGE": `nfchain
# up -d FILE` must print exactly "nfchain: MESSAGE" (file, line, key, reason),
# exit 1 and start nothing (no run directory, no process). Then failures
# found only once things run (a host interface that does not exist) must
# tear down what had started. Every example in examples/ passes `up -n`.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
none_running() { ! pgrep -f "$1" >/dev/null; }
quiet() { "$@" >/dev/null; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export NFCHAIN_RUN_DIR=$T/run
san_to_files	# daemons' reports: their logs go with down
n=0
for f in "$ROOT"/tests/it/orch/bad/*.yaml; do
	b=$(basename "$f")
	exp="nfchain: $(sed -n '1s/^# expect: //p' "$f")"
	got=$(cd "$(dirname "$f")" && "$C" up -d "$b" 2>&1)
	rc=$?
	check_eq "bad file $b: the error names file, line, key and reason" "$exp" "$got"
	check_eq "bad file $b: exit status 1" 1 "$rc"
	check "bad file $b: nothing started (no run directory)" test ! -e "$T/run/x"
	n=$((n + 1))
done
check "the corpus has at least 40 malformed files ($n)" test "$n" -ge 40
check "no nfswitch or VNF process was started by the corpus" \
	none_running "$T/run"

# A file nfswitch refuses once it runs: the interface does not exist.
cat >"$T/noif.yaml" <<EOF2
name: noif
runtime: process
ports:
  lan: {memif: 0}
  wan: {interface: nfcnosuch0}
vnfs:
  r: {program: nf-bridge, ports: [a, b]}
EOF2
got=$("$C" up -d "$T/noif.yaml" 2>&1)
rc=$?
check_eq "a missing host interface: up fails" 1 "$rc"
check "a missing host interface: the reason is the switch's" \
	sh -c "echo '$got' | grep -q 'port wan: .*nfcnosuch0'"
check "a missing host interface: the run directory is gone" test ! -e "$T/run/noif"
check "a missing host interface: no process left" none_running "$T/run/noif"

# A replica that never comes up: its program exits at once.
cat >"$T/dies.sh" <<'EOF2'
#!/bin/sh
# a VNF that passes the configuration check (-n) and dies when it runs
for a in "$@"; do [ "$a" = -n ] && exit 0; done
exit 3
EOF2
chmod +x "$T/dies.sh"
cat >"$T/dies.yaml" <<EOF2
name: dies
runtime: process
ports:
  lan: {memif: 0}
vnfs:
  d: {program: $T/dies.sh}
EOF2
got=$("$C" up -d --timeout 1500 "$T/dies.yaml" 2>&1)
rc=$?
check_eq "a replica that never comes up: up fails" 1 "$rc"
check "a replica that never comes up: the message says so" \
	sh -c "echo '$got' | grep -q 'not every replica was up within 1500 ms'"
check "a replica that never comes up: the run directory is gone" test ! -e "$T/run/dies"
check "a replica that never comes up: no process left" none_running "$T/run/dies"

# The same with runc: the program is a script, not an ELF file, so its
# container cannot be made; the switch and the replicas made before it go.
cat >"$T/diesc.yaml" <<EOF2
name: diesc
runtime: runc
ports:
  lan: {memif: 0}
vnfs:
  ok: {program: nf-bridge, ports: [a, b], replicas: 2}
  z: {program: $T/dies.sh}
EOF2
got=$("$C" up -d --timeout 3000 "$T/diesc.yaml" 2>&1)
check_eq "runc, a replica whose container cannot be made: up fails" 1 "$?"
check "runc, a replica whose container cannot be made: the reason" \
	sh -c "echo '$got' | grep -q 'replica z.0 did not start'"
check "runc, failure half-way: no run directory, process, container or cgroup left" \
	sh -c "[ ! -e '$T/run/diesc' ] && ! runc --root /run/nfchain/runc list -q | grep -q nfc-diesc- &&
	       [ -z \"\$(find /sys/fs/cgroup -name 'nfchain-nfc-diesc-*' -type d)\" ]"
check "runc, failure half-way: no process left" none_running "$T/run/diesc"

# Tenants: their own rules, after their chain's (plan.c). An srv6 chain:
# a priority-50 classifier with the chosen VNFs' SIDs only, both ways.
H=$(sed -n "s/^    password: '\(\$6\$flowfallA\$[^']*\)'/\1/p" "$ROOT/examples/vcpe-portal.yaml")
cat >"$T/tenants.yaml" <<EOF2
name: ten
runtime: process
ports:
  lan: {memif: 0}
  wan: {memif: 1}
vnfs:
  fw: {program: nf-bridge, ports: [a, b]}
  nat: {program: nf-bridge, ports: [a, b]}
  mon: {program: nf-bridge, ports: [a, b]}
chains:
  c:
    from: lan
    to: wan
    match: ip daddr 203.0.113.0/24
    return-match: ip saddr 203.0.113.0/24
    vnfs: [fw, nat, mon]
tenants:
  one:
    password: '$H'
    chain: c
    match: ip saddr 10.1.0.0/24
    return-match: ip daddr 10.1.0.0/24
    services: [fw, mon]
  two:
    password: '$H'
    chain: c
    match: ip saddr 10.2.0.0/24
    services: []
EOF2
check_eq "srv6 tenants: each its own segment list, the chosen VNFs only" \
"# tenant one
rule id 1001 priority 50 in-port lan ip saddr 10.1.0.0/24 action srv6-encap fd00:6e63:1::1,fd00:6e63:1::3,fd00:6e63:1::ff
rule id 1002 priority 50 in-port wan ip daddr 10.1.0.0/24 action srv6-encap fd00:6e63:1::103,fd00:6e63:1::101,fd00:6e63:1::1ff
# tenant two
rule id 1003 priority 50 in-port lan ip saddr 10.2.0.0/24 action srv6-encap fd00:6e63:1::ff" \
	"$("$C" up -n "$T/tenants.yaml" | sed -n '/^# tenant one/,$p')"
check_eq "tos-bitmap tenants (examples/vcpe-portal.yaml): set-tos on the ingress and the egress" \
"rule id 1001 in-port lan ip saddr 10.1.0.0/24 action set-tos 1/7
rule id 1002 in-port wan ip daddr 10.1.0.0/24 action set-tos 1/7
rule id 1003 in-port lan ip saddr 10.2.0.0/24 action set-tos 5/7
rule id 1004 in-port wan ip daddr 10.2.0.0/24 action set-tos 5/7" \
	"$("$C" up -n "$ROOT/examples/vcpe-portal.yaml" | grep '^rule id 100')"

for f in "$ROOT"/examples/*.yaml; do
	check "example $(basename "$f") passes nfchain up -n" quiet "$C" up -n "$f"
done
check_eq "usage error: up without a file exits 2" 2 "$("$C" up >/dev/null 2>&1; echo $?)"
check_eq "status with nothing running exits 1" 1 "$("$C" status >/dev/null 2>&1; echo $?)"
check "no sanitizer report from nfchain, nfswitch or a VNF" no_san
check "up --help: the usage, exit 0" sh -c "'$C' up --help | grep -q '^usage: nfchain up'"
check_eq "up with an unknown option exits 2" 2 "$("$C" up --frobnicate x.yaml >/dev/null 2>&1; echo $?)"
check_eq "scale without its arguments exits 2" 2 "$("$C" scale --name x >/dev/null 2>&1; echo $?)"
