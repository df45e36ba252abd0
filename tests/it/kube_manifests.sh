# kube_manifests.sh - the Kubernetes files of deploy/kubernetes/ are valid.
# tests/run: once
#
# No cluster here, so: Debian's kubectl (kubernetes-client 1.20, unpacked
# from its package: Google's kubectl may own /usr/bin/kubectl) reads every
# manifest as it would to send it (`label --local`: YAML to JSON, no
# server); validate.py checks the JSON against the Kubernetes API's types
# (python3-kubernetes's models: unknown fields, types, required fields), the
# CRD against the structural-schema rules, each ServiceChain against the
# CRD's schema. Then: the example ServiceChains are what gen.py makes of
# examples/*.yaml, their spec passes the real parser (`nfchain up -n`: the
# steering equals the YAML file's), bad descriptions of tests/it/orch/bad/
# are refused by the schema (a fixed list: those a schema can say), and the
# CRD covers exactly the keys of keys[] in src/nfchain/spec.c.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/kube/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$ROOT/deploy/kubernetes
PY=/usr/bin/python3	# Debian's, with python3-yaml, -jsonschema, -kubernetes
KDIR=${KUBECTL_DIR:-/var/lib/nfchain/kubernetes-client}
KUBECTL=$KDIR/usr/bin/kubectl

# Debian's kubectl: unpacked once into KDIR (scripts/deps does it too).
if [ ! -x "$KUBECTL" ]; then
	mkdir -p "$T/deb" && (cd "$T/deb" && apt-get download -q kubernetes-client >/dev/null 2>&1) &&
		mkdir -p "$KDIR" && dpkg -x "$T"/deb/kubernetes-client_*.deb "$KDIR"
fi
check "Debian's kubectl 1.20 is unpacked" sh -c "'$KUBECTL' version --client | grep -q 'v1.20'"

# A kubeconfig that points nowhere: nothing may need a server.
kube_offline_config "$T/kubeconfig"
export KUBECONFIG=$T/kubeconfig
tojson() {	# FILE OUT: kubectl's reading of FILE, as JSON
	"$KUBECTL" label --local -f "$1" nfchain.io/none- -o json </dev/null >"$2" 2>"$2.err"
}

check "gen.py: crd.yaml and examples/ are up to date" $PY "$D/gen.py" --check

mkdir -p "$T/j"
n=0
for f in "$D"/*.yaml "$D"/examples/*.yaml; do
	b=$(basename "$(dirname "$f")")-$(basename "$f" .yaml)
	check "kubectl reads $(basename "$f")" tojson "$f" "$T/j/$b.json"
	n=$((n + 1))
done
check "all $n manifests and examples are valid (API types, CRD schema)" \
	$PY "$D/validate.py" "$T"/j/*.json
$PY "$D/validate.py" "$T"/j/*.json | tail -1
nobj=$($PY "$D/validate.py" "$T"/j/*.json | sed -n 's/ objects OK//p')
check "at least 20 objects checked ($nobj)" test "${nobj:-0}" -ge 20

# Controls: the validator does refuse what the API server would.
{ cat "$D/etcd.yaml"; echo ---; cat "$D/node.yaml"; } |
	sed 's/hostNetwork: true/hostNetwork: "yes"/; s/  replicas: 3/  replica: 3/' >"$T/broken.yaml"
tojson "$T/broken.yaml" "$T/broken.json"
$PY "$D/validate.py" "$T/broken.json" >"$T/broken.out"
check "control: an unknown field of a StatefulSet is refused" \
	grep -q 'StatefulSet/etcd: spec.replica: unknown field' "$T/broken.out"
check "control: a string for a boolean is refused" \
	grep -q 'DaemonSet/nfchain-node: spec.template.spec.hostNetwork: expected true or false' "$T/broken.out"
$PY -c 'import sys, yaml, json
d = yaml.safe_load(sys.stdin)
s = d["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
s["additionalProperties"] = False	# what the API server refuses beside properties
del s["properties"]["runtime"]["type"]
json.dump(d, sys.stdout)' <"$D/crd.yaml" >"$T/badcrd.json"
$PY "$D/validate.py" "$T/badcrd.json" >"$T/badcrd.out"
check "control: additionalProperties beside properties is refused in a CRD" \
	grep -q 'openAPIV3Schema.properties.spec: additionalProperties and properties are mutually exclusive' "$T/badcrd.out"
check "control: a schema node without a type is refused" \
	grep -q 'properties.runtime: no type' "$T/badcrd.out"

# The examples: generated from examples/*.yaml, and the real parser agrees.
# Their specs go to $T/examples/, beside a link to docs/ (dashboard.plots is
# relative to the file).
mkdir -p "$T/examples" && ln -s "$ROOT/docs" "$T/docs"
for f in "$ROOT"/examples/*.yaml; do
	b=$(basename "$f" .yaml)
	$PY -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["spec"]))' "$T/j/examples-$b.json" >"$T/examples/$b.json"
	# The API server keeps JSON objects, not their order: kubectl gives the
	# keys sorted, so VNF types get their memif ids in name order. Compare
	# with the YAML file read with sorted keys (the first line, which names
	# the file, aside).
	$PY -c 'import json, sys, yaml
print(json.dumps(yaml.load(open(sys.argv[1]), Loader=yaml.BaseLoader), sort_keys=True))' "$f" >"$T/examples/$b.sorted.json"
	(cd "$T/examples" && "$BIN/nfchain" up -n "$b.sorted.json") >"$T/$b.yaml.out" 2>&1
	sed '1s|^[^:]*: ||' "$T/$b.yaml.out" >"$T/$b.yaml.steer"
	(cd "$T/examples" && "$BIN/nfchain" up -n "$b.json") >"$T/$b.json.out" 2>&1
	rc=$?
	sed '1s|^[^:]*: ||' "$T/$b.json.out" >"$T/$b.json.steer"
	check_eq "$b: nfchain up -n takes the ServiceChain's spec (JSON) too" 0 "$rc"
	check "$b: the same steering as the YAML file's ($(wc -l <"$T/$b.yaml.steer") lines)" \
		cmp -s "$T/$b.yaml.steer" "$T/$b.json.steer"
done

# Bad descriptions the schema refuses, and where.
refused="bad-name:spec.name config-list:spec.vnfs.r.config cpu:spec.vnfs.r.cpu
	http-host:spec.http http:spec.http mac:spec.chains.c.to-mac
	memory-unit:spec.vnfs.r.memory mode:spec.mode no-name:spec no-ports:spec
	no-program:spec.vnfs.r port-id-range:spec.ports.lan.memif probe:spec.policy.probe-interval
	replicas-range:spec.vnfs.r.replicas replicas-word:spec.vnfs.r.replicas
	restart:spec.policy.restart runtime:spec.runtime scale-busy:spec.vnfs.fw.scale.target-busy
	scale-key:spec.vnfs.fw.scale scale-max:spec.vnfs.fw.scale.max
	scale-queue:spec.vnfs.fw.scale.target-queue scale-rate:spec.vnfs.fw.scale.target-pps
	slo-loss:spec.chains.web.slo.max-loss switch-metrics:spec.switch-metrics
	tenant-key:spec.tenants.a tenant-no-match:spec.tenants.a tos-hops:spec.chains.c.vnfs
	unknown-key:spec vnf-ports-same:spec.vnfs.r.ports vnf-ports:spec.vnfs.r.ports
	empty:spec top-list:spec"
for e in $refused; do
	b=${e%%:*} path=${e#*:}
	$PY "$D/gen.py" --cr "$ROOT/tests/it/orch/bad/$b.yaml" >"$T/bad-$b.json"
	$PY "$D/validate.py" --crd "$D/crd.yaml" "$T/bad-$b.json" >"$T/bad-$b.out"
	rc=$?
	check_eq "bad $b.yaml: the CRD's schema refuses it" 1 "$rc"
	check "bad $b.yaml: at $path ($(cut -d: -f3- "$T/bad-$b.out" | head -1 | cut -c1-70))" \
		grep -q "ServiceChain/[^:]*: $path: " "$T/bad-$b.out"
done
# A bad steering value (no file in bad/ has one): the enum refuses it.
sed 's/steering: srv6/steering: mpls/' "$ROOT/examples/router-nat-fw.yaml" >"$T/steer.yaml"
$PY "$D/gen.py" --cr "$T/steer.yaml" >"$T/steer.json"
$PY "$D/validate.py" --crd "$D/crd.yaml" "$T/steer.json" >"$T/steer.out"
check "steering: mpls is refused by the enum" \
	grep -q "spec.chains.web.steering: 'mpls' is not one of \['srv6', 'tos-bitmap'\]" "$T/steer.out"
# The rest need the parser (references between keys, ranges of '20s', map
# keys): chain-sync runs it before anything reaches etcd.
total=$(ls "$ROOT"/tests/it/orch/bad/*.yaml | wc -l)
echo "# the schema refuses $(echo $refused | wc -w) of $total bad files; the parser all"

# The CRD has every key of spec.c's table, with the same integer ranges.
$PY - "$ROOT/src/nfchain/spec.c" "$D" >"$T/keys.out" 2>&1 <<'EOF'
import re, sys
sys.path.insert(0, sys.argv[2])
import gen
src = open(sys.argv[1]).read()
table = src[src.index("keys[] = {"):]
table = table[:table.index("};")]
where = {"S_TOP": gen.SPEC, "S_POLICY": gen.SPEC["properties"]["policy"],
	 "S_PORT": gen.PORT, "S_VNF": gen.VNF, "S_CHAIN": gen.CHAIN, "S_TENANT": gen.TENANT,
	 "S_PORTAL": gen.SPEC["properties"]["portal"], "S_DASH": gen.SPEC["properties"]["dashboard"],
	 "S_SCALE": gen.SCALE, "S_SLO": gen.SLO, "S_PLACE": gen.PLACEMENT}
# the cluster section is written by the node agent, never by a user
agent_only = {("S_TOP", "cluster"), ("S_CLUSTER",), ("S_CNODE",)}
macros = dict(re.findall(r"#define (NC_\w+)\s+(\d+)", open(sys.argv[1].replace(".c", ".h")).read()))
bad = 0
seen = set()
for sect, key, kt, lo, hi, req in re.findall(
		r'\{ (S_\w+), "([\w-]+)", (K_\w+), ([^,]+), ([^,]+), [^,]+, (true|false) \}', table):
	if (sect, key) in agent_only or (sect,) in agent_only:
		continue
	if sect not in where:
		print("section %s: add it to gen.py" % sect); bad += 1; continue
	s = where[sect]
	seen.add((sect, key))
	p = s["properties"].get(key)
	if p is None:
		print("%s %s: not in the CRD" % (sect, key)); bad += 1; continue
	if (req == "true") != (key in s.get("required", [])):
		print("%s %s: required differs" % (sect, key)); bad += 1
	if kt == "K_UINT":
		ev = lambda x: int(eval(re.sub(r"NC_\w+", lambda m: macros[m.group(0)], x)))
		if p.get("minimum") != ev(lo) or p.get("maximum") != ev(hi):
			print("%s %s: range %s..%s, CRD %s..%s" % (sect, key, lo, hi, p.get("minimum"), p.get("maximum"))); bad += 1
extra = [(k, x) for k, s in where.items() for x in s["properties"] if (k, x) not in seen]
print("spec.c: %d keys, all in the CRD; ahead of spec.c: %s" % (len(seen), ", ".join("%s.%s" % e for e in extra)))
sys.exit(1 if bad else 0)
EOF
rc=$?
cat "$T/keys.out"
check_eq "the CRD has every key of spec.c's keys[] (required, integer ranges)" 0 "$rc"

# chain-sync.sh and the YAML of every file: shell syntax.
check "chain-sync.sh parses (bash -n)" bash -n "$D/chain-sync.sh"

[ $_failed -eq 0 ]
