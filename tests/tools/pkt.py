"""pkt.py - packet builders, a frame summary, raw sockets in namespaces and
a control-socket client, for the Python halves of the integration tests.

Builders return bytes with every checksum right (unless asked otherwise):
    eth(payload, etype, dst, src)
    v4(src, dst, proto, payload, ttl=64, ...), v6(src, dst, nh, payload, ...)
    udp(src, dst, data, sport, dport), tcp(src, dst, sport, dport, flags, ...)
    icmp4(type, code, rest, data), icmp6(src, dst, type, code, rest, data)
Addresses are packed (ip4("10.0.0.1"), ip6("fd00::1")). Pcap files:
wpcap(path, frames), rpcap(path) -> frames.
"""
import ctypes, json, os, select, socket, struct, time

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 1, 2, 4, 8, 16, 32
FLAG_NAMES = ((TCP_FIN, "F"), (TCP_SYN, "S"), (TCP_RST, "R"), (TCP_PSH, "P"),
              (TCP_ACK, "A"), (TCP_URG, "U"))


def ip4(s):
    return socket.inet_pton(socket.AF_INET, s)


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def astr(b):
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, b)


def mac(s):
    return bytes.fromhex(s.replace(":", ""))

# ------------------------------------------------------------ pcap files


def wpcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)


def rpcap(path):
    """The frames of a pcap file ([] when it does not exist)."""
    try:
        d = open(path, "rb").read()
    except FileNotFoundError:
        return []
    o, out = 24, []
    while o + 16 <= len(d):
        n = struct.unpack("<IIII", d[o:o + 16])[2]
        if o + 16 + n > len(d):
            break
        out.append(d[o + 16:o + 16 + n])
        o += 16 + n
    return out

# ------------------------------------------------------------ checksums


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def pseudo(src, dst, proto, n):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, n)
    return src + dst + struct.pack("!IxxxB", n, proto)

# ------------------------------------------------------------ builders


def eth(payload, etype, dst, src):
    return dst + src + struct.pack("!H", etype) + payload


def v4(src, dst, proto, payload, ttl=64, ident=0x1234, df=False, tos=0, opts=b"",
       bad_csum=False, mf=False, off=0):
    hl = 20 + len(opts)
    fo = (0x4000 if df else 0) | (0x2000 if mf else 0) | off
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl // 4, tos, hl + len(payload), ident, fo,
                    ttl, proto, 0, src, dst) + opts
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def v6(src, dst, nh, payload, hlim=64, tc=0, flow=0):
    return struct.pack("!IHBB16s16s", 6 << 28 | tc << 20 | flow, len(payload), nh, hlim,
                       src, dst) + payload


def ip(src, dst, proto, payload, **kw):
    """v4 or v6 by the address length (IPv6: proto is the next header)."""
    if len(src) == 4:
        return v4(src, dst, proto, payload, **kw), 0x0800
    kw = {k: v for k, v in kw.items() if k in ("hlim", "tc", "flow")}
    return v6(src, dst, proto, payload, **kw), 0x86dd


def udp(src, dst, data, sport, dport, zero_csum=False):
    n = 8 + len(data)
    h = struct.pack("!HHHH", sport, dport, n, 0) + data
    if zero_csum:
        return h
    c = csum(pseudo(src, dst, 17, n) + h)
    return h[:6] + struct.pack("!H", c or 0xffff) + h[8:]


def tcp(src, dst, sport, dport, flags, seq=1000, ack=0, data=b"", win=64240):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                    5 << 4, flags, win, 0, 0) + data
    c = csum(pseudo(src, dst, 6, len(h)) + h)
    return h[:16] + struct.pack("!H", c) + h[18:]


def icmp4(typ, code, rest, data=b""):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def icmp6(src, dst, typ, code, rest, data=b""):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    c = csum(pseudo(src, dst, 58, len(h)) + h)
    return h[:2] + struct.pack("!H", c) + h[4:]

# ------------------------------------------------------------ reading frames


def summary(f):
    """A short, comparable description of an IP frame: 'TCP 10.0.0.2:4000 >
    10.0.1.2:80 SA', 'ICMP 10.0.1.2 > 10.0.0.2 3/3 [UDP 10.0.0.2:5 > ...]'."""
    et = struct.unpack("!H", f[12:14])[0]
    o = 14
    if et == 0x0800:
        hl = (f[o] & 15) * 4
        proto, src, dst = f[o + 9], f[o + 12:o + 16], f[o + 16:o + 20]
        l4 = f[o + hl:o + struct.unpack("!H", f[o + 2:o + 4])[0]]
    elif et == 0x86dd:
        proto, src, dst = f[o + 6], f[o + 8:o + 24], f[o + 24:o + 40]
        l4 = f[o + 40:o + 40 + struct.unpack("!H", f[o + 4:o + 6])[0]]
    else:
        return "ethertype 0x%04x" % et
    return _l4(proto, src, dst, l4)


def _l4(proto, src, dst, l4):
    a, b = astr(src), astr(dst)
    if proto in (6, 17) and len(l4) >= 4:
        sp, dp = struct.unpack("!HH", l4[:4])
        s = "%s %s:%d > %s:%d" % ("TCP" if proto == 6 else "UDP", a, sp, b, dp)
        if proto == 6 and len(l4) >= 14:
            s += " " + "".join(n for bit, n in FLAG_NAMES if l4[13] & bit)
        return s
    if proto in (1, 58) and len(l4) >= 4:
        s = "%s %s > %s %d/%d" % ("ICMP" if proto == 1 else "ICMPv6", a, b, l4[0], l4[1])
        err = (l4[0] in (3, 4, 5, 11, 12)) if proto == 1 else (l4[0] < 128)
        if err and len(l4) > 8:
            q = l4[8:]
            if proto == 1 and len(q) >= 20:
                hl = (q[0] & 15) * 4
                s += " [%s]" % _l4(q[9], q[12:16], q[16:20], q[hl:])
            elif proto == 58 and len(q) >= 40:
                s += " [%s]" % _l4(q[6], q[8:24], q[24:40], q[40:])
        return s
    return "proto %d %s > %s" % (proto, a, b)

# ------------------------------------------------------------ sockets


def socket_in(ns, ifname):
    """A raw packet socket on @ifname inside namespace @ns."""
    me = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.bind((ifname, 0))
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    finally:
        libc.setns(me, CLONE_NEWNET)
        os.close(fd)
        os.close(me)
    return s


def unicast(frames):
    """The (name, bytes) frames sent to one station: not to a group address
    (the hosts' and routers' own multicast, MLD reports, that no test step
    causes)."""
    return [(n, f) for n, f in frames if not f[0] & 1]


SETTLE = 0.02		# seconds drain() waits on after @until said "done"


def drain(socks, secs, until=None):
    """Frames received on the sockets (name -> socket) within @secs, as a
    list of (name, bytes); our own transmissions are left out. With
    @until (a function of that list), it ends SETTLE seconds after
    @until first returns true, so that a step whose answer has come does
    not wait out the window (a stray frame after that lands in the next
    step's capture, where it shows as "other")."""
    got = []
    end = time.monotonic() + secs
    while True:
        if until is not None and until(got):
            end = min(end, time.monotonic() + SETTLE)
            until = None
        left = end - time.monotonic()
        r, _, _ = select.select(list(socks.values()), [], [], max(left, 0))
        for name, s in socks.items():
            if s not in r:
                continue
            while True:
                try:
                    data, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] != socket.PACKET_OUTGOING:
                    got.append((name, data))
        if left <= 0:
            return got


def ctl(path, req):
    """One request on a VNF's control socket; the JSON reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(req.encode() + b"\n")
    buf = b""
    while True:			# the server closes after its reply
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return json.loads(buf)
