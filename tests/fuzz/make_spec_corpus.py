#!/usr/bin/env python3
"""Write the seed corpus of fuzz_spec (tests/fuzz/corpus/spec/).

Each seed is a service description: the examples (examples/*.yaml) and the
malformed corpus of tests/it/orch/bad/, with every program replaced by
/bin/true (a program that exists: the fuzzer reaches past that check), and
a few descriptions that stress the limits (16 VNF types, 16 replicas, 8
hops, 16 chains, anchors and aliases, flow and block styles). Run again
after changing it (the files are committed):
    python3 tests/fuzz/make_spec_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_spec.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import glob, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
D = os.path.join(HERE, "corpus", "spec")
sys.path.insert(0, HERE)
import seedfiles  # noqa: E402


def prog(text):
    return re.sub(r"program: *[^,}\n]+", "program: /bin/true", text)


seeds = {}
for f in sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml"))):
    seeds["example-" + os.path.basename(f)] = prog(open(f).read())
for f in sorted(glob.glob(os.path.join(ROOT, "tests", "it", "orch", "bad", "*.yaml"))):
    seeds["bad-" + os.path.basename(f)] = prog(open(f).read())

# The limits, each at its edge.
vnfs = "".join("  v%d: {program: /bin/true, replicas: 16, ports: [a, b]}\n" % i
               for i in range(16))
ports = "".join("  p%d: {memif: %d}\n" % (i, i) for i in range(16))
chains = "".join("  c%d:\n    from: p%d\n    to: p%d\n    match: udp dport %d\n"
                 "    return-match: ip saddr 10.%d.0.0/16\n    vnfs: [v%d]\n"
                 % (i, i, (i + 1) % 16, 1000 + i, i, i) for i in range(16))
seeds["limits.yaml"] = "name: limits\nruntime: process\nports:\n%svnfs:\n%schains:\n%s" % (
    ports, vnfs, chains)
seeds["hops8.yaml"] = ("name: hops\nports: {a: {memif: 0}, b: {interface: veth0}}\nvnfs:\n"
                       + "".join("  h%d: {program: /bin/true, config: &c%d \"set burst 32\"}\n"
                                 % (i, i) for i in range(8))
                       + "chains:\n  t:\n    from: a\n    to: b\n    steering: tos-bitmap\n"
                       "    vnfs: [h0, h1, h2, h3, h4, h5, h6, h7]\n")
seeds["flow-style.yaml"] = ('{name: f, mode: busy, switch-cpu: 1, policy: {restart: never, '
                            'probe-interval: 1s, probe-timeout: 10s}, ports: {x: {memif: 7}, '
                            'y: {memif: 8}}, vnfs: {n: {program: /bin/true, cpu: 250m, '
                            'memory: 1G, files: {a.rules: "counter drop\\n"}}}, chains: '
                            '{k: {from: x, to: y, to-mac: "02:00:00:00:00:01", '
                            'from-mac: "02:00:00:00:00:02", vnfs: [n]}}}\n')
# Control bytes in keys and values must not reach the one-line error.
seeds["control-bytes.yaml"] = 'name: "a\\nb"\npolicy: {"counter drop\\n": 1}\n'
seeds["anchors.yaml"] = """name: anchors
ports:
  lan: &p {memif: 0}
  wan: {memif: 1}
vnfs:
  a: &v
    program: /bin/true
    config: |
      set burst 64
  b: *v
chains:
  c: {from: lan, to: wan, vnfs: [a, b]}
"""

seedfiles.write(D, seeds)
