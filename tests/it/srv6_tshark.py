"""srv6_tshark.py MANIFEST FIELDS - check tshark's dissection of the frames
srv6_tool wrote (tests/it/srv6_tshark.sh) against what each behaviour must
have set. MANIFEST: "N name SL LAST ENTRIES DA" per frame ("-" when the
frame has no SRH / is not IPv6), worked out by srv6_tool from the segment
list, not by parsing. FIELDS: tshark -T fields output (tab-separated,
';' between occurrences) of frame.number, ipv6.routing.segleft,
ipv6.routing.srh.last_entry, ipv6.routing.srh.addr, ipv6.dst,
ip.checksum.status, udp.checksum.status, icmpv6.checksum.status,
frame.protocols. Prints ok/not ok lines."""
import sys

man = [l.split() for l in open(sys.argv[1]) if l.strip()]
rows = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    rows[int(f[0])] = [x.split(";") if x else [] for x in f[1:]]

bad = []
for n, name, sl, last, entries, da in man:
    n = int(n)
    r = rows.get(n)
    if r is None:
        bad.append("%d %s: not in tshark's output" % (n, name))
        continue
    segleft, lastent, addrs, dst, ipck, udpck, icmpck, protos = r
    protos = protos[0].split(":") if protos else []
    l3 = [p for p in protos if p not in ("eth", "ethertype", "vlan")]
    if "udp" not in protos:
        bad.append("%d %s: inner UDP not dissected (%s)" % (n, name, protos))
    for what, st in (("ip", ipck), ("udp", udpck), ("icmpv6", icmpck)):
        if any(s != "1" for s in st):
            bad.append("%d %s: %s checksum status %s" % (n, name, what, st))
    if da != "-" and (not dst or dst[0] != da):
        bad.append("%d %s: DA %s, expected %s" % (n, name, dst[:1], da))
    if da == "-" and l3[:1] != ["ip"]:
        bad.append("%d %s: expected IPv4 after Ethernet, got %s" % (n, name, protos))
    quoted = "icmpv6" in protos		# the time exceeded quotes an SRH
    if sl == "-":
        if segleft and not quoted:
            bad.append("%d %s: an SRH where none belongs" % (n, name))
        continue
    if segleft[:1] != [sl] or lastent[:1] != [last]:
        bad.append("%d %s: SL %s last %s, expected %s %s" % (n, name, segleft, lastent, sl, last))
    if len(addrs) != int(entries):
        bad.append("%d %s: %d segments, expected %s" % (n, name, len(addrs), entries))
    # the DA is Segment List[SL], except in a reduced SRH before the first
    # End (SL = last + 1: the first SID is only in the DA)
    if int(sl) <= int(last) and addrs[int(sl)] != da:
        bad.append("%d %s: Segment List[SL] %s, DA %s" % (n, name, addrs[int(sl)], da))

for b in bad[:20]:
    print("not ok - tshark: " + b)
print(("ok" if not bad else "not ok") +
      " - tshark dissects all %d frames as written: SL, last entry, segments, DA, checksums" % len(man))
