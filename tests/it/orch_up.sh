# orch_up.sh - nfchain end to end: up, traffic, status, logs, scale, apply,
# self-healing (kill -9 and a stuck replica), down; nothing left behind.
#
# The deployment is examples/router-nat-fw.yaml (router -> NAT -> two
# firewall replicas, steered by SRv6 in nfswitch) with the runtime RUNTIME
# (process by default; the runc run is tests/it/orch_runc.sh), fed by
# nf-gen on its memif ports.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
G="$BIN/nf-gen"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNTIME=${RUNTIME:-process}
export NFCHAIN_RUN_DIR=$T/run
san_to_files	# daemons' reports: their logs go with down
R=$T/run/rnf
S=$R/memif.sock
sed "s/^runtime: runc/runtime: $RUNTIME/" "$ROOT/examples/router-nat-fw.yaml" >"$T/rnf.yaml"
cleanup "'$C' down --name rnf"

# jq-less JSON: stat FIELD-EXPRESSION over `nfchain status --json`
st() { "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); r={'%s.%d'%(x['vnf'],x['replica']): x for x in d['replicas']}; print($1)"; }
gen() {	# gen SECONDS RATE [nf-gen options]: 100 flows lan -> wan, JSON in $T/gen.json
	local s=$1 r=$2
	shift 2
	# 4096-slot rings: a 2-core machine running other tests can stall
	# a process for longer than 1024 frames last
	"$G" --tx "memif:$S,id=0,rsize=12" --rx "memif:$S,id=1,rsize=12" --src-ip 10.1.0.2 --dst-ip 203.0.113.2 \
		--flows 100 --rate "$r" --duration "$s" --drain 500ms --json "$@" >"$T/gen.json" 2>"$T/gen.err"
}
# The VNF's own process: the status pid (runc's, with RUNTIME=runc: the
# container's process is its child, as runc state says).
vnf_pid() {
	if [ "$RUNTIME" = runc ]; then
		runc --root /run/nfchain/runc state "nfc-rnf-${1%.*}-${1#*.}" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
	else
		st "r['$1']['pid']"
	fi
}
# timed_kill SIG VNF.I PID: send SIG to PID (the VNF's process), then ask the agent for its
# status every 5 ms (one socket request, no process started); prints the
# milliseconds until the replica left its group (state not "up") and until
# it was up again with another pid (-1: not within 5 s).
timed_kill() {
	python3 - "$R/agent.ctl" "$@" <<'PY'
import json, os, signal, socket, sys, time
ctl, sig, name, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def rep():
    s = socket.socket(socket.AF_UNIX)
    s.connect(ctl)
    s.sendall(b"status\n")
    b = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        b += c
    s.close()
    for r in json.loads(b)["replicas"]:
        if "%s.%d" % (r["vnf"], r["replica"]) == name:
            return r
old = rep()["pid"]
t0 = time.monotonic()
os.kill(pid, getattr(signal, "SIG" + sig))
left = back = -1
while time.monotonic() - t0 < 5:
    r = rep()
    ms = int((time.monotonic() - t0) * 1000)
    if left < 0 and r["state"] != "up":
        left = ms
    if left >= 0 and r["state"] == "up" and r["pid"] != old:
        back = ms
        break
    time.sleep(0.005)
print(left, back)
PY
}
NETNS0=$(ip netns list | sort | xargs)	# named namespaces before (others' tests)
none_left() {
	[ "$(ip netns list | sort | xargs)" = "$NETNS0" ] &&
	! pgrep -f "$T/run" >/dev/null && [ ! -e "$R" ] &&
	{ [ "$RUNTIME" != runc ] || ! runc --root /run/nfchain/runc list -q 2>/dev/null | grep -q "^nfc-rnf-"; } &&
	[ -z "$(find /sys/fs/cgroup -name 'nfchain-nfc-rnf-*' -type d 2>/dev/null)" ]
}

t0=$(date +%s%N)
"$C" up -d "$T/rnf.yaml" >"$T/up.out" 2>&1
rc=$?
t1=$(date +%s%N)
check_eq "up -d: exit 0 once every replica is up" 0 "$rc"
check "up -d says so" grep -q "rnf is up: 4 replicas" "$T/up.out"
echo "# up -d took $(( (t1 - t0) / 1000000 )) ms ($RUNTIME)"
check_eq "status: 4 replicas up" "4" "$(st "sum(x['state'] == 'up' for x in d['replicas'])")"
check_eq "status: the runtime" "$RUNTIME" "$(st "d['runtime']")"
check "a second up of the same deployment is refused" sh -c "! '$C' up -d '$T/rnf.yaml' 2>/dev/null"

if [ "$RUNTIME" = runc ]; then
	# What the description asked of the router's container (cpu 0.5,
	# memory 128M), and what every replica's container is.
	rp=$(vnf_pid router.0)
	check_eq "runc: the router's memory limit is 128M" 134217728 "$(cg_value "$rp" memory memory.limit_in_bytes)"
	check_eq "runc: the router's CPU quota is half a core" "50000 100000" \
		"$(cg_value "$rp" cpu cpu.cfs_quota_us) $(cg_value "$rp" cpu cpu.cfs_period_us)"
	for k in mnt pid ipc uts net; do
		check "runc: the router has its own $k namespace" \
			test "$(readlink /proc/$rp/ns/$k)" != "$(readlink /proc/self/ns/$k)"
	done
	check_eq "runc: no capabilities (CapEff 0), no new privileges (1), a seccomp filter (2)" "0000000000000000 1 2" \
		"$(awk '$1 == "CapEff:" || $1 == "Seccomp:" || $1 == "NoNewPrivs:" { printf "%s ", $2 }' /proc/$rp/status | xargs)"
	check "runc: its root file system is read-only" \
		sh -c "awk '\$5 == \"/\" { print \$6 }' /proc/$rp/mountinfo | grep -q '^ro'"
fi
gen 2 10k
check_eq "traffic: 100 flows through router, NAT and firewalls, nothing lost" 0 "$(jget "$T/gen.json" rx.lost)"
check_eq "traffic: every frame arrived" "$(jget "$T/gen.json" tx.packets)" "$(jget "$T/gen.json" rx.packets)"
check "traffic: both firewall replicas carried flows" \
	test "$(st "min(r['fw.0']['rx_packets'], r['fw.1']['rx_packets'])")" -gt 1000
check "logs fw: both replicas' logs" sh -c "'$C' logs fw | grep -c '^==> fw\.[01] <==' | grep -qx 2"
check "logs switch" sh -c "'$C' logs switch >/dev/null"
check_eq "logs of an unknown VNF: exit 1" 1 "$("$C" logs nosuch >/dev/null 2>&1; echo $?)"

# scale: fw 2 -> 3 -> 2; the others keep running (same pids).
pids0=$(st "[r[k]['pid'] for k in ('router.0', 'nat.0', 'fw.0', 'fw.1')]")
check "scale fw 3" "$C" scale fw 3
for i in $(seq 40); do [ "$(st "r.get('fw.2', {}).get('state')")" = up ] && break; sleep 0.05; done
check_eq "scale fw 3: fw.2 is up" up "$(st "r['fw.2']['state']")"
check_eq "scale fw 3: the other replicas kept running" "$pids0" \
	"$(st "[r[k]['pid'] for k in ('router.0', 'nat.0', 'fw.0', 'fw.1')]")"
gen 2 10k
check_eq "scale fw 3: nothing lost" 0 "$(jget "$T/gen.json" rx.lost)"
check "scale fw 3: the new replica carries flows" test "$(st "r['fw.2']['rx_packets']")" -gt 0
check "scale fw 2" "$C" scale fw 2
check_eq "scale fw 2: fw.2 is gone" "False" "$(st "'fw.2' in r")"
check_eq "status events: fw.2 started, came up, scaled away and was removed, in that order" \
	"scale:fw start:fw.2 up:fw.2 scale:fw remove:fw.2" \
	"$(st "' '.join(e['kind'] + ':' + e['subject'] for e in d['events'] if e['subject'] in ('fw', 'fw.2'))")"
check_eq "status events: numbered in order, with times" "True" \
	"$(st "all(x['seq'] + 1 == y['seq'] and x['time_ms'] <= y['time_ms'] for x, y in zip(d['events'], d['events'][1:]))")"
check "scale fw 2: its switch ports are gone" sh -c "! '$C' switch --ctl '$R/switch.ctl' ports | grep -q 'fw\.2\.'"
check_eq "scale of an unknown VNF: exit 1" 1 "$("$C" scale nosuch 2 >/dev/null 2>&1; echo $?)"
check_eq "scale beyond 16: exit 1" 1 "$("$C" scale fw 17 >/dev/null 2>&1; echo $?)"

# apply: a second chain (its own firewall type and ports) comes and goes
# while the first carries traffic: the first loses nothing, keeps its pids.
cp "$T/rnf.yaml" "$T/rnf2.yaml"
python3 - "$T/rnf2.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("  wan: {memif: 1}         # and leaves here\n",
              "  wan: {memif: 1}         # and leaves here\n  dmzin: {memif: 2}\n  dmzout: {memif: 3}\n")
s = s.replace("chains:\n", """  fwdmz:
    program: nf-firewall
    ports: [fin, fout]
    config: |
      set policy accept
      set stateful off
chains:
  dmz:
    from: dmzin
    to: dmzout
    match: ip daddr 192.0.2.0/24
    to-mac: 02:00:00:00:c5:03
    vnfs: [fwdmz]
""")
open(p, "w").write(s)
PY
gen 3 5k &
genpid=$!
sleep 1
check "apply: a file with a second chain" "$C" apply "$T/rnf2.yaml"
wait $genpid
check_eq "apply: the chain that did not change lost nothing meanwhile" 0 "$(jget "$T/gen.json" rx.lost)"
check_eq "apply: ... and kept its replicas" "$pids0" \
	"$(st "[r[k]['pid'] for k in ('router.0', 'nat.0', 'fw.0', 'fw.1')]")"
for i in $(seq 100); do [ "$(st "r.get('fwdmz.0', {}).get('state')")" = up ] && break; sleep 0.1; done
"$G" --tx "memif:$S,id=2" --rx "memif:$S,id=3" --src-ip 10.5.0.2 --dst-ip 192.0.2.9 \
	--flows 10 --count 1000 --rate 10k --json >"$T/dmz.json" 2>/dev/null
check_eq "apply: the new chain carries its traffic" 1000 "$(jget "$T/dmz.json" rx.packets)"
check "apply: a broken file is refused with its reason, nothing changes" \
	sh -c "printf 'name: rnf\nports: 3\n' >'$T/bad.yaml'; '$C' apply '$T/bad.yaml' 2>&1 | grep -q 'bad.yaml:2: ports: expected a mapping'"
check "apply: a different runtime is refused" \
	sh -c "sed 's/^runtime: .*/runtime: $( [ "$RUNTIME" = runc ] && echo process || echo runc)/' '$T/rnf.yaml' >'$T/rt.yaml'; '$C' apply '$T/rt.yaml' 2>&1 | grep -q 'cannot change'"
check "apply: back to the first file" "$C" apply "$T/rnf.yaml"
check_eq "apply: the second chain's replica is gone" "False" "$(st "'fwdmz.0' in r")"
check "apply: its ports are gone from the switch" sh -c "! '$C' switch --ctl '$R/switch.ctl' ports | grep -q 'dmz'"

# Healing: kill -9 of fw.1 under load.
fw1=$(vnf_pid fw.1)
gen 4 5k --flow-stats &
genpid=$!
sleep 1.5
# fw.1's flows: its connections (the NAT keeps the source ports: a flow's
# sport is the same on both sides of it).
"$C" vnf "$R/fw.1/ctl/vnf.ctl" --json conntrack 1000 >"$T/ct1.json"
# kill -9, then the agent's status every 5 ms: out of the group, back in.
read left back < <(timed_kill KILL fw.1 "$fw1")
wait $genpid
echo "# fw.1 killed: out of its group after $left ms, restarted and back after $back ms"
check "kill -9 fw.1: out of its group within 1 s" test "$left" -lt 1000
check "kill -9 fw.1: restarted and back in its group within 2 s" test "$back" -lt 2000
check_eq "kill -9 fw.1: one restart counted" 1 "$(st "r['fw.1']['restarts']")"
python3 - "$T/gen.json" "$T/ct1.json" "$T/heal.txt" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
mine = {int(re.search(r"sport=(\d+)", c["orig"]).group(1))
        for c in json.load(open(sys.argv[2]))["conntrack"]}
flows = d.get("flows", [])
lost = {f["sport"]: f["sent"] - f["received"] for f in flows}
others = sum(v for k, v in lost.items() if k not in mine)
worst = max([v for k, v in lost.items() if k in mine] or [0])
open(sys.argv[3], "w").write("%d %d %d %d %d\n" % (len(flows), len(mine), others, worst,
                                                 sum(1 for k in mine if lost.get(k))))
PY
read nflows nmine others worst nlossy <"$T/heal.txt"
echo "# kill -9: fw.1 had $nmine of $nflows flows, $nlossy of them lost frames, at most $worst each (50 frames/s per flow); the other flows lost $others"
check_eq "kill -9: per-flow counts for 100 flows" 100 "$nflows"
check "kill -9: fw.1 had flows (from its connection table)" test "$nmine" -gt 10
check_eq "kill -9: the flows of the other replica lost 0 frames" 0 "$others"
check "kill -9: fw.1's flows lost less than 1 s of frames each (50)" test "$worst" -lt 50

# A stuck replica (SIGSTOP): out of its group within 1 s, restarted.
fw0=$(vnf_pid fw.0)
read left back < <(timed_kill STOP fw.0 "$fw0")
echo "# fw.0 stopped: out of its group after $left ms, restarted and back after $back ms"
check "SIGSTOP fw.0: out of its group within 1 s" test "$left" -lt 1000
check_eq "SIGSTOP fw.0: restarted and up" up "$(st "r['fw.0']['state']")"
check "SIGSTOP fw.0: the stopped process is gone" sh -c "! kill -0 $fw0 2>/dev/null"
# The data path: every replica answers the agent's probe frames (sent in
# by its first port, back from its second), with a round trip.
check_eq "data-path probes: every replica's come back" "[True, True, True, True]" \
	"$(st "[r[k]['probes_back'] > 0 and r[k]['probe_rtt_us'] > 0 for k in ('router.0', 'nat.0', 'fw.0', 'fw.1')]")"
# A data path that stops while the control socket answers: the switch
# loses fw.1's input port. The probes stop coming back and nothing is
# received: the agent restarts fw.1 (and gives the switch its port again).
r0=$(st "r['fw.1']['restarts']")
"$C" switch --ctl "$R/switch.ctl" del-port fw.1.fin >/dev/null
for i in $(seq 100); do [ "$(st "r['fw.1']['restarts']")" != "$r0" ] && break; sleep 0.05; done
check "a silent data path: fw.1 restarted" test "$(st "r['fw.1']['restarts']")" -gt "$r0"
check "a silent data path: the reason is the probes" \
	sh -c "'$C' status --json | grep -q 'its data path does not answer probes'"
for i in $(seq 100); do [ "$(st "r['fw.1']['state']")" = up ] && break; sleep 0.05; done
check_eq "a silent data path: fw.1 up again" up "$(st "r['fw.1']['state']")"
check "a silent data path: its switch port is back" \
	sh -c "'$C' switch --ctl '$R/switch.ctl' ports | grep -q 'fw\.1\.fin'"
gen 1 10k
check_eq "after healing: nothing lost" 0 "$(jget "$T/gen.json" rx.lost)"

check "down" "$C" down
check "down: no process, socket, run directory, container, cgroup or namespace left" none_left

# kill -9 of the agent itself: down cleans up what it left.
"$C" up -d "$T/rnf.yaml" >/dev/null 2>&1
agent=$(pgrep -f "nfchain up -d $T/rnf.yaml" | head -1)
kill -9 "$agent"
sleep 0.3
check "down after the agent was killed" "$C" down --name rnf
check "down after the agent was killed: nothing left" none_left
check "no sanitizer report from nfchain, nfswitch or a VNF" no_san
