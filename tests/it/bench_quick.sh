# bench_quick.sh - bench/rfc2544 --quick on nf-router and its baseline,
# Linux forwarding in a namespace (kernel-fwd): 64-byte frames, one flow,
# 0.5 s trials, a 5 % search resolution; about 30 s.
#
# Checked for both scenarios, from the JSON the run writes: the NDR search
# converged (its last interval is within the resolution), the throughput is
# above zero and at most the forwarding rate, the PDR is at least the NDR,
# the confirmation trial at the reported throughput lost no frame (the
# tool searches again below a confirmation that failed, up to three
# times: each is in the JSON, lower than the one before; the last one
# must lose nothing), every search trial
# agrees with its verdict and the bounds (the NDR passed, nothing passed
# between it and the lowest failure, which is the interval's top, no
# rate above the forwarding rate was tried), the
# latency figures are ordered and their histogram adds up; the JSON has
# the fields the plots and docs/BENCHMARKS.md use; the plots are valid
# PNG files (and SVG when redrawn with --replot --svg); nothing is left
# behind (namespaces, veths, processes, the scratch directory). Then the
# command line's errors and the VM scenario's skip reason.
#
# A benchmark runner (its figures mean nothing under ASan; the programs it
# drives are tested in both flavours elsewhere): one flavour.
# tests/run: once
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v gnuplot >/dev/null || { not_ok "gnuplot is installed (scripts/deps)"; exit 1; }

run_bg "$T/out" "$T/err" "$ROOT/bench/rfc2544" --quick --scenario router --bin "$BIN" \
	--json "$T/q.json" --plots "$T/plots"
check_eq "bench/rfc2544 --quick --scenario router exits 0" 0 "$rc"
[ "$rc" = 0 ] || tail -5 "$T/err"
cat "$T/out"

check "the JSON has the settings, both scenarios and the router goal" python3 - "$T/q.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["settings"]
assert s["quick"] and s["trial_s"] == 0.5 and s["resolution"] == 0.05, s
assert s["sizes"] == [64] and s["flows"] == [1] and s["directions"] == ["uni"], s
got = sorted(r["scenario"] for r in d["results"])
assert got == ["kernel-fwd", "router"], got
for r in d["results"]:
    for k in ("kind", "baselines", "size", "flows", "direction", "forwarding_rate", "ndr",
              "pdr", "confirm", "latency", "trials"):
        assert k in r, (r["scenario"], k)
    assert r["size"] == 64 and r["flows"] == 1 and r["direction"] == "uni"
g = d["goals"]
assert len(g) == 1 and g[0]["ours"] == "router" and g[0]["baseline"] == "kernel-fwd", g
assert g[0]["met"] == (g[0]["ratio_ndr"] >= 8), g
EOF

for sc in router kernel-fwd; do
	check "$sc: the NDR search converged (interval within the resolution)" python3 - "$T/q.json" "$sc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = next(x for x in d["results"] if x["scenario"] == sys.argv[2])
n = r["ndr"]
print("    ndr", n)
assert n["converged"], n
assert n["lo"] <= n["hi"] and n["hi"] - n["lo"] <= d["settings"]["resolution"] * n["hi"], n
assert n["pps"] == n["lo"] > 0, n
EOF
	check "$sc: throughput <= forwarding rate, PDR >= NDR" python3 - "$T/q.json" "$sc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = next(x for x in d["results"] if x["scenario"] == sys.argv[2])
fr, ndr, pdr = r["forwarding_rate"]["pps"], r["ndr"]["pps"], r["pdr"]["pps"]
print("    fr %.0f ndr %.0f pdr %.0f pps" % (fr, ndr, pdr))
assert 0 < ndr <= fr, (ndr, fr)
assert pdr >= ndr, (pdr, ndr)
assert fr == max(r["forwarding_rate"]["trials_pps"])
EOF
	check "$sc: the confirmation trial at the throughput lost 0 frames" python3 - "$T/q.json" "$sc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = next(x for x in d["results"] if x["scenario"] == sys.argv[2])
c = r["confirm"]
print("    confirm", c)
assert c["pps"] == r["ndr"]["pps"], c
assert c["pass"] and c["lost"] == 0 and c["sent"] > 0, c
t = [x for x in r["trials"] if x["phase"] == "confirm"]
assert t[-1]["lost"] == 0 and t[-1]["rate_pps"] == r["ndr"]["pps"], t
assert t[-1]["sent"] == t[-1]["frames"] == int(r["ndr"]["pps"] * d["settings"]["trial_s"]), t
assert (t[-1]["port"] == "afpacket" or t[-1]["backpressure"] == 0 or
        c["offered_ratio"] >= d["settings"]["min_offered"]), c
assert len(t) == c["re_searched"] + 1 and c["re_searched"] <= 3, t
# A confirmation that failed became the upper bound of the next search;
# it failed by the tool's criterion: frames lost, or (memif) the switch's
# back-pressure held the generator under min_offered of the rate (a CI
# run: 94% offered, nothing lost, then confirmed 6% lower).
mo = d["settings"]["min_offered"]
for x, nxt in zip(t, t[1:]):
    assert not x["pass"] and nxt["rate_pps"] < x["rate_pps"], (x, nxt)
    assert x["lost"] > 0 or (x["port"] == "memif" and x["backpressure"] > 0 and
                             x["offered_ratio"] < mo), x
EOF
	check "$sc: every NDR trial agrees with its verdict and the result's bounds" \
		python3 - "$T/q.json" "$sc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = next(x for x in d["results"] if x["scenario"] == sys.argv[2])
mo = d["settings"]["min_offered"]
ts = [t for t in r["trials"] if t["phase"] == "ndr"]
assert ts, r["trials"]
lo, hi = r["ndr"]["lo"], r["ndr"]["hi"]
for t in ts:
    ok = (t["lost"] == 0 and t["sent"] == t["frames"] > 0 and
          (t["port"] == "afpacket" or t["backpressure"] == 0 or t["offered_ratio"] >= mo))
    assert t["port"] == ("afpacket" if sys.argv[2].startswith("kernel-") else "memif"), t
    assert t["pass"] == ok, t
    got = min(t["rate_pps"], t["tx_pps"])                 # the rate the DUT got
    assert t["pass"] or t["rate_pps"] >= hi, (t, hi)      # hi: the lowest failure
    assert not (t["pass"] and lo < got < hi), (t, lo, hi)
    assert t["rate_pps"] <= r["forwarding_rate"]["trials_pps"][0], t
assert any(t["pass"] and min(t["rate_pps"], t["tx_pps"]) == lo for t in ts)
void = [t["rate_pps"] for t in ts if t["pass"] and t["rate_pps"] > hi]
if void:
    print("    passes above a failure (host noise), not counted:", void)
EOF
	check "$sc: latency at half the throughput: min <= p50 <= p99 <= p99.9 <= max, histogram adds up" \
		python3 - "$T/q.json" "$sc" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = next(x for x in d["results"] if x["scenario"] == sys.argv[2])
l = r["latency"]
print("    latency ns: min %d p50 %d p99 %d p99.9 %d max %d at %.0f pps" % (
    l["min"], l["p50"], l["p99"], l["p999"], l["max"], l["at_pps"]))
assert abs(l["at_pps"] - 0.5 * r["ndr"]["pps"]) < 1, l["at_pps"]
assert 0 < l["min"] <= l["p50"] <= l["p99"] <= l["p999"] <= l["max"], l
assert sum(c for _, _, c in l["histogram"]) == l["samples"] > 0
EOF
done

for f in fig57-1fl-uni fig58-64B-1fl-uni fig59-64B-1fl-uni latency-64B-1fl-uni; do
	check "plot $f.png is a PNG image" python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR", b[:16]
w, h = struct.unpack(">II", b[16:24])
assert w >= 400 and h >= 300 and len(b) > 5000 and b[-8:-4] == b"IEND", (w, h, len(b))' \
		"$T/plots/$f.png"
done
"$ROOT/bench/rfc2544" --replot "$T/q.json" --plots "$T/svg" --svg >"$T/replot.out" 2>&1
check_eq "--replot --svg exits 0" 0 "$?"
check "--replot prints the same table" diff <(grep -E '^(router|kernel-fwd) ' "$T/out") \
	<(grep -E '^(router|kernel-fwd) ' "$T/replot.out")
check "the SVG plots are SVG documents with the data drawn" python3 -c '
import sys, xml.etree.ElementTree as ET
for f in sys.argv[1:]:
    root = ET.parse(f).getroot()
    assert root.tag.endswith("svg"), (f, root.tag)
    assert len(list(root.iter())) > 50, f' "$T"/svg/fig57-1fl-uni.svg "$T"/svg/fig58-64B-1fl-uni.svg \
	"$T"/svg/fig59-64B-1fl-uni.svg "$T"/svg/latency-64B-1fl-uni.svg

W=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"]["workdir"])' "$T/q.json")
tag=r$((pid % 100000))
check_eq "no namespace left behind" "" "$(ip netns list | grep "nfrfc$tag-")"
check_eq "no veth left behind" "" "$(ip -o link | grep -E ": ${tag}k[0-9]+[ab]@")"
check_eq "no process left behind" "" "$(pgrep -af "$W")"
check "the scratch directory is gone" test ! -e "$W"

"$ROOT/bench/rfc2544" --scenario nosuch >/dev/null 2>"$T/e1"
check_eq "an unknown scenario is a usage error (2)" 2 "$?"
check "... named in one sentence" grep -q "unknown scenario 'nosuch'" "$T/e1"
"$ROOT/bench/rfc2544" --resolution 2 >/dev/null 2>"$T/e2"
check_eq "a resolution out of range is a usage error (2)" 2 "$?"
"$ROOT/bench/rfc2544" --list >"$T/list"
check "--list says why the VM scenario is skipped or that it runs" \
	grep -qE '^vm +ref .*(skipped: .+|runs here)' "$T/list"
