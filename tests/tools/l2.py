#!/usr/bin/env python3
"""l2.py - send and capture raw Ethernet frames on an interface (for tests).

  l2.py send IFACE HEX [HEX...]          send each frame (hex string)
  l2.py sniff IFACE SECONDS [ETHERTYPE]  print received frames as hex, one per
                                         line, VLAN tags put back where the
                                         kernel took them out (PACKET_AUXDATA);
                                         ETHERTYPE filters on the inner type;
                                         SECONDS 0: until killed
Prints "ready" on stderr once the capture socket is open.
"""
import socket, struct, sys, time

SOL_PACKET, PACKET_AUXDATA = 263, 8
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 1 << 4, 1 << 6

def send(iface, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for h in frames:
        s.send(bytes.fromhex(h))

def sniff(iface, secs, etype=None):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.settimeout(0.1)
    print("ready", file=sys.stderr, flush=True)
    end = time.time() + secs if secs > 0 else float('inf')
    while time.time() < end:
        try:
            data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        for lvl, typ, d in anc:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(d) >= 20:
                st, _, _, _, _, tci, tpid = struct.unpack('IIIHHHH', d[:20])
                if st & TP_STATUS_VLAN_VALID:
                    tpid = tpid if st & TP_STATUS_VLAN_TPID_VALID else 0x8100
                    data = data[:12] + struct.pack('!HH', tpid, tci) + data[12:]
        inner = data[12:14] if data[12:14] not in (b'\x81\x00', b'\x88\xa8') else data[16:18]
        if etype is None or inner == struct.pack('!H', etype):
            print(data.hex(), flush=True)

if __name__ == '__main__':
    if sys.argv[1] == 'send':
        send(sys.argv[2], sys.argv[3:])
    else:
        sniff(sys.argv[2], float(sys.argv[3]), int(sys.argv[4], 0) if len(sys.argv) > 4 else None)
