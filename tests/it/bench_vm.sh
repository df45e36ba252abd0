# bench_vm.sh - bench/rfc2544's VM-based VNF (QEMU + virtio-net + a guest
# Linux forwarding with iptables). This host has no usable KVM nor
# vhost-net, so by default the scenario is skipped with the reason; with
# --vm-accel tcg the same runner boots the guest in software emulation and
# the quick search runs through it: this checks the runner itself (guest
# built from the host's Debian kernel, busybox, iproute2, iptables-legacy
# with the 100 rules of kernel-iptables; taps; readiness; teardown). The
# emulated rates are not a baseline.
#
# A benchmark runner (its figures mean nothing under ASan; the programs it
# drives are tested in both flavours elsewhere): one flavour.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

"$ROOT/bench/rfc2544" --quick --scenario vm --bin "$BIN" --json "$T/auto.json" >"$T/auto.out" 2>"$T/auto.err"
check_eq "vm without KVM: exit 0" 0 "$?"
check "vm without KVM: skipped, the reason in the JSON" python3 - "$T/auto.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("    skipped:", d["skipped"])
assert d["results"] == [] and [s["scenario"] for s in d["skipped"]] == ["vm"], d
assert "hardware virtualization" in d["skipped"][0]["reason"] or "vhost-net" in d["skipped"][0]["reason"]
PY
check "vm without KVM: the reason printed" grep -q "vm skipped: " "$T/auto.err"

run_bg "$T/out" "$T/err" "$ROOT/bench/rfc2544" --quick --scenario vm --vm-accel tcg --bin "$BIN" \
	--json "$T/q.json"
check_eq "vm --vm-accel tcg: exit 0" 0 "$rc"
[ "$rc" = 0 ] || tail -5 "$T/err"
grep "vm guest up" "$T/err"
# kernel-iptables' rules (bench/fw_rules.py, 100 of them; the IPv4 ones),
# as the guest must list them: its FORWARD policy and one line each.
want=$(python3 - "$ROOT/bench/rfc2544" <<'PY'
import importlib.machinery, sys
m = importlib.machinery.SourceFileLoader("rfc2544", sys.argv[1]).load_module()
v4, _ = m.iptables_rules(m.fw_rules(100, False))
print(1 + sum(l.startswith("-A FORWARD") for l in v4.splitlines()))
PY
)
check "the guest came up with kernel-iptables' rules loaded ($want FORWARD lines)" \
	grep -qE "vm guest up in [0-9.]+ s \(tcg\): $want FORWARD lines" "$T/err"
check "vm: the search converged, the throughput confirmed with 0 lost" python3 - "$T/q.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["settings"]["vm_accel"] == "tcg"
r = next(x for x in d["results"] if x["scenario"] == "vm")
n, c, fr = r["ndr"], r["confirm"], r["forwarding_rate"]["pps"]
print("    vm (tcg) ndr %.0f pps, fr %.0f pps, confirm %s" % (n["pps"], fr, c))
assert n["converged"] and 0 < n["pps"] <= fr, (n, fr)
assert c["pass"] and c["lost"] == 0 and c["sent"] == int(n["pps"] * d["settings"]["trial_s"]), c
t = [x for x in r["trials"] if x["phase"] == "confirm"][-1]
assert t["port"] == "afpacket" and t["received"] == t["sent"], t
PY
W=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"]["workdir"])' "$T/q.json")
tag=r$((pid % 100000))
check_eq "no tap left behind" "" "$(ip -o link | grep -E ": ${tag}v[0-9]+[ab]:")"
check_eq "no QEMU left behind" "" "$(pgrep -af "$W")"
check "the scratch directory (guest image) is gone" test ! -e "$W"
