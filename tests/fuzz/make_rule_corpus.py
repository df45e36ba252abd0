#!/usr/bin/env python3
"""Write the seed corpus of fuzz_rule (tests/fuzz/corpus/rule/).

Each seed is a rule file: the rule sets of tests/it/fw_diff.py, one file
per construct of the language (every match, operator, statement), files
of refused lines (each refusal of nf_rule.h), and small ACL-like sets that
give the classifier several trees to build. Port names the harness knows:
r1, r2, eth0, eth1, wan. Run again after changing it (the files are
committed):
    python3 tests/fuzz/make_rule_corpus.py [DIR]
DIR (default the corpus directory) is emptied first; tests/it/fuzz_rule.sh
writes into a scratch DIR to check the committed seeds are current.
"""
import os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seedfiles  # noqa: E402

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "rule")

STATEFUL = """\
ct state established,related accept
ct state invalid drop
iifname "r1" tcp dport 80 accept
iifname "r1" udp dport 53 accept
iifname "r1" icmp type echo-request accept
iifname "r1" icmpv6 type echo-request accept
iifname "r1" meta l4proto tcp ct state new tcp dport 8080 accept
counter drop
"""

STATELESS = """\
ip saddr 10.1.0.0/24 tcp dport 1000-2000 accept
tcp flags & (syn|ack) == syn tcp dport 22 drop
tcp dport 23 reject with tcp reset
udp dport 7 reject with icmp type host-unreachable
udp dport 8 reject
ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited
udp sport { 53, 123 } accept
ip daddr != 10.2.0.0/24 ip protocol udp drop
icmp type { echo-request, echo-reply } accept
icmp type destination-unreachable drop
ip dscp ef accept
ip6 dscp cs1 drop
tcp sport 1-1023 tcp flags & (fin|syn|rst|ack) == ack accept
counter
meta l4proto udp udp dport 100-200 drop
"""

CONSTRUCTS = [
    "tcp dport 22 accept",
    "udp sport 1000-2000 drop",
    "th dport { 80, 443, 8000-8080, 81 } accept",
    "tcp dport != 22 accept",
    "tcp dport != { 0-10, 65535, 20 } accept",
    "tcp dport < 1024 accept\ntcp dport <= 1024 accept\ntcp dport > 1024 accept\n"
    "tcp dport >= 1024 accept",
    "tcp dport == 0x50 accept",
    "tcp dport 1-100 tcp dport 50-200 accept",
    "ip saddr 10.1.2.3/8 accept\nip daddr 192.168.1.1 accept\nip daddr 10.0.0.1-10.0.0.9 accept",
    "ip saddr != 10.0.0.0/8 accept\nip saddr 0.0.0.0/0 accept",
    "ip saddr { 10.0.0.0/24, 10.0.1.0/24, 1.2.3.4 } accept",
    "ip6 saddr fd00::1/64 accept\nip6 daddr { ::1, ::5-::9 } accept\nip6 daddr != ::/1 accept",
    "meta l4proto { tcp, udp } th dport 53 accept",
    "ip protocol gre accept\nmeta l4proto != 0-5 counter\nip6 nexthdr esp accept",
    "icmp type echo-request accept\nicmp code port-unreachable accept",
    "icmpv6 type { echo-request, nd-neighbor-solicit-nd-neighbor-advert } accept",
    "icmpv6 type destination-unreachable icmpv6 code != 4 accept",
    "ip dscp { af11-af13, ef } accept\nip6 dscp cs1 drop\nip dscp > 40 accept",
    "meta nfproto ipv6 accept\nmeta nfproto ipv4 meta l4proto != { 6, 17 } counter reject with icmp 7",
    'iifname "r1" oifname wan accept\niifname "eth*" accept\n'
    'meta iifname != { "r1", r2 } accept',
    "ct state established,related accept\nct state { new, untracked } accept\n"
    "ct state != established accept\nct state ! established,related accept",
    "tcp flags syn,ack accept\ntcp flags == syn accept\ntcp flags != syn accept\n"
    "tcp flags ! syn accept",
    "tcp flags syn / syn,ack accept\ntcp flags & (syn|ack) == syn accept\n"
    "tcp flags & (syn|ack) != syn accept",
    "tcp flags { syn, syn|ack } accept\ntcp flags != { syn, syn|ack } accept\n"
    "tcp flags & 0 == 0 accept",
    "counter\ncounter drop comment \"the end\"\nreject\n"
    "reject with icmp type host-unreachable\nreject with icmpx type no-route",
    "reject with tcp reset\nreject with icmp admin-prohibited",
    "# a comment line\n\n   \ntcp dport 22 accept # trailing\r\n",
    'iifname { r1, wan } oifname != "eth*" counter accept comment "a # in the text"',
    "meta nfproto ipv4 meta l4proto 6 ip saddr 10.0.0.0/8 th dport 22 tcp flags & (syn|ack) == syn"
    " ct state { new } counter reject with tcp reset",
]

REFUSED = [
    "tcp dport 70000 accept", "tcp dport 22 tcp dport 23 accept",
    "tcp dport > 65535 accept", "ip saddr != 0.0.0.0/0 accept",
    "tcp dport ssh accept", "ip saddr example.com accept", "tcp dport 010 accept",
    "tcp dport 22", "accept tcp dport 22", "counter counter accept", "accept counter",
    "accept drop", "meta nfproto ipv4 icmpv6 type echo-request accept",
    "ip6 saddr ::1 icmp type echo-request accept", "ip saddr 1.2.3.4 ip6 daddr ::1 accept",
    "meta l4proto { tcp, udp } tcp dport 22 accept",
    "meta l4proto != udp reject with tcp reset", 'iifname "eth9" accept',
    "tcp dport 22; accept", "ct state == established,related accept",
    "tcp dport 2000-1000 accept", "tcp dport < { 1, 2 } accept",
    "ip saddr < 10.0.0.0/8 accept", "ip saddr 10.0.0.0/33 accept", "ip ttl 3 accept",
    "log accept", "tcp dport = 22 accept", 'accept comment "x', 'accept comment "x" drop',
    "accept comment \"" + "x" * 128 + "\"", "tcp flags < syn accept",
    "reject with icmpx 4", "th dport { } accept",
]


def acl(n, seed):
    r = random.Random(seed)
    out = []
    for _ in range(n):
        s = "10.%d.%d.0/%d" % (r.randrange(4), r.randrange(256), r.choice((16, 24, 28, 32)))
        d = "172.16.%d.%d" % (r.randrange(4), r.randrange(256))
        p = r.choice((22, 53, 80, 443, 1000))
        k = r.randrange(10)
        if k < 7:
            out.append("ip saddr %s ip daddr %s %s dport %d-%d %s" % (
                s, d, r.choice(("tcp", "udp")), p, p + r.randrange(50),
                r.choice(("accept", "drop"))))
        elif k < 8:
            out.append("ip daddr %s tcp dport %d accept" % (d, p))
        elif k < 9:
            out.append("ip saddr %s drop" % s)
        else:
            out.append("ip6 saddr fd%02x::/%d th dport != %d counter" % (
                r.randrange(256), r.choice((16, 32, 64)), p))
    return "\n".join(out) + "\n"


def main():
    seeds = [("fw-stateful", STATEFUL), ("fw-stateless", STATELESS),
             ("fw-both", STATEFUL + STATELESS)]
    seeds += [("construct-%02d" % i, t + "\n") for i, t in enumerate(CONSTRUCTS)]
    seeds += [("refused-%02d" % i, "tcp dport 1 accept\n" + t + "\n")
              for i, t in enumerate(REFUSED)]
    seeds += [("acl-%d" % n, acl(n, n)) for n in (10, 40, 120)]
    seedfiles.write(D, dict(seeds))


if __name__ == "__main__":
    main()
