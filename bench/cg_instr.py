#!/usr/bin/env python3
"""cg_instr.py CALLGRIND_OUT BINARY FUNCTION DIVISOR [MIN] - the instructions
of FUNCTION in BINARY that ran at least MIN times per DIVISOR (frames;
default 0.3), each with its count per frame, in address order, then their
sum: where a per-frame path spends its instructions. The callgrind output
needs --dump-instr=yes (bench/steer.sh with KEEP=DIR keeps such files).

    KEEP=/tmp/cg bench/steer.sh -n 100000 -r 0 -S group-100f
    bench/cg_instr.py /tmp/cg/group-100f.cg build/release/bin/nfswitch steer 100000"""
import collections
import re
import subprocess
import sys


def self_costs(path, want):
    """Self cost by instruction address of function @want (calls excluded)."""
    cost = collections.Counter()
    names, cur, last, call = {}, None, 0, False
    for line in open(path):
        m = re.match(r'^fn=\((\d+)\)(?: (.*))?$', line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            cur = names.get(m.group(1))
            continue
        m = re.match(r'^cfn=\((\d+)\)(?: (.*))?$', line)
        if m and m.group(2):
            names[m.group(1)] = m.group(2)
        if line.startswith('calls='):
            call = True
            continue
        m = re.match(r'^(0x[0-9a-f]+|[+-]\d+|\*)\s+\S+\s+(\d+)', line)
        if not m:
            continue
        a = m.group(1)
        last = int(a, 16) if a.startswith('0x') else last + int(a) if a[0] in '+-' else last
        if call:		# the line after calls= is the call's inclusive cost
            call = False
        elif cur == want:
            cost[last] += int(m.group(2))
    return cost


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    path, binary, fn, div = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    low = float(sys.argv[5]) if len(sys.argv) == 6 else 0.3
    cost = self_costs(path, fn)
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary],
                         capture_output=True, text=True, check=True).stdout
    body = asm.split("<%s>:\n" % fn, 1)
    if len(body) != 2:
        sys.exit("cg_instr.py: no function %s in %s" % (fn, binary))
    total = 0.0
    for line in body[1].split("\n\n", 1)[0].splitlines():
        addr = int(line.split(":", 1)[0], 16)
        per = cost.get(addr, 0) / div
        if per >= low:
            total += per
            print("%6.2f %s" % (per, line.strip()))
    print("%.1f instructions per frame in %s (those that ran >= %g times a frame)" % (total, fn, low))


main()
