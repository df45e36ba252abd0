#!/usr/bin/env python3
"""fw_rules.py N [--stateful] - an ACL-like rule set of N rules for the
firewall benchmarks (bench/firewall.sh, bench/callgrind-firewall.sh).

N - 1 rules that the benchmark's traffic (UDP from 10.1.0.0/16 to
10.2.0.2 port 1024, nf-gen's defaults) does not match, of the shapes a
real ACL has: host and prefix sources, destination prefixes, port ranges
and sets, TCP and UDP, some IPv6; then `udp dport 1024 accept` last. Every
packet therefore walks the whole list in a linear classifier (nftables),
the worst case. --stateful puts `ct state established,related accept`
first (the benchmark's flows are one way: their packets stay NEW, as in
Linux, and go on down the list). Deterministic (seeded)."""
import random
import sys


def rules(n, stateful):
    rnd = random.Random(2544)
    out = ["ct state established,related accept"] if stateful else []
    while len(out) < n - 1:
        k = rnd.randrange(6)
        a, b, c = rnd.randrange(16, 32), rnd.randrange(256), rnd.randrange(256)
        p = rnd.randrange(1, 60000)
        if k == 0:
            out.append("ip saddr 172.%d.%d.%d tcp dport %d drop" % (a, b, c, p))
        elif k == 1:
            out.append("ip saddr 172.%d.%d.0/24 ip daddr 192.168.%d.0/24 udp dport %d-%d drop"
                       % (a, b, c, p, p + rnd.randrange(1, 500)))
        elif k == 2:
            out.append("ip daddr 198.%d.%d.%d/32 tcp dport { %d, %d, %d } accept"
                       % (a, b, c, p, p + 7, p + 99))
        elif k == 3:
            out.append("ip saddr 10.%d.%d.0/24 udp sport %d drop" % (100 + a, b, p))
        elif k == 4:
            out.append("ip6 saddr 2001:db8:%x:%x::/64 tcp dport %d accept" % (a, b, p))
        else:
            out.append("ip saddr 100.%d.%d.%d udp dport %d reject" % (64 + a, b, c, p))
    out.append("udp dport 1024 accept")
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 2:
        sys.exit("usage: fw_rules.py N [--stateful]  (N >= 2)")
    print("\n".join(rules(int(sys.argv[1]), "--stateful" in sys.argv[2:])))
