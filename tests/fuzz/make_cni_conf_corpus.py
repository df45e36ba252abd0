#!/usr/bin/env python3
"""Write the seed corpus of fuzz_cni_conf (tests/fuzz/corpus/cni_conf/).

Each seed is a network configuration for nfchain-cni: the ones docs/CNI.md
and tests/it/cni.sh use (one and two ports, IPAM, a chained one with a
prevResult, every version), each key at its limits, and refusals (every
code the parser gives). Run again after changing it (the files are
committed):
    python3 tests/fuzz/make_cni_conf_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_cni_conf.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "corpus", "cni_conf")
sys.path.insert(0, HERE)
import seedfiles  # noqa: E402

base = {"cniVersion": "1.0.0", "name": "vnfnet", "type": "nfchain-cni",
        "switch_ctl": "/run/nfchain/node/switch.ctl",
        "memif_socket": "/run/nfchain/node/memif.sock"}
ipam = {"type": "host-local", "subnet": "10.77.0.0/24", "dataDir": "/var/lib/cni/m"}
prev = {"cniVersion": "1.0.0",
        "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:ff"},
                       {"name": "eth0", "mac": "0a:58:0a:4e:00:02", "sandbox": "/run/netns/p"}],
        "ips": [{"address": "10.78.0.2/24", "gateway": "10.78.0.1", "interface": 1}],
        "routes": [{"dst": "0.0.0.0/0"}], "dns": {"nameservers": ["10.78.0.1"]}}


def w(**kv):
    d = dict(base)
    for k, v in kv.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return json.dumps(d)


seeds = {
    "minimal": w(),
    "ipam": w(ipam=ipam),
    "two-ports": w(ports=["in", "out"], port_file_dir="/run/nfchain/pods", ipam=ipam),
    "chained": w(prevResult=prev, dns={"nameservers": ["10.0.0.53"]}),
    "limits": w(id_min=0, id_max=65535, state_dir="/" + "s" * 199, name="n" * 63,
                ports=["p" * 15, "q" * 15]),
    "runtime-keys": w(args={"cni": {"x": 1}}, runtimeConfig={"mac": "x"},
                      capabilities={"mac": True}, ipMasq=False, ipam={}),
    "bad-version": w(cniVersion="1.1.0"),
    "bad-key": w(bridge="br0"),
    "bad-type": w(id_min="5"),
    "bad-range": w(id_min=9, id_max=8),
    "bad-path": w(memif_socket="/a b,c"),
    "bad-ports": w(ports=["a", "a"]),
    "bad-ipam": w(ipam={"subnet": "10.0.0.0/8"}),
    "bad-missing": w(switch_ctl=None),
    "not-json": '{"cniVersion": "1.0.0", "name": ',
    "not-object": '["nfchain-cni"]',
    "trailing": w() + " {}",
    "empty": "",
}
for v in ("0.3.0", "0.3.1", "0.4.0"):
    seeds["version-" + v] = w(cniVersion=v, ipam=ipam)

seedfiles.write(D, seeds)
