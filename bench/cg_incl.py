#!/usr/bin/env python3
"""cg_incl.py CALLGRIND_OUT DIVISOR FUNCTION... - the inclusive instruction
count of each FUNCTION in a callgrind output file, divided by DIVISOR
(frames, lookups), on one line in the order given.

callgrind_annotate lists the parts of a function inlined from headers on
lines of their own: the largest line of a name is the whole function. A
function that never ran counts 0. Used by the bench/callgrind-*.sh
scripts and bench/ct.sh, bench/cls.sh."""
import re
import subprocess
import sys


def inclusive(path, fns):
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    best = dict.fromkeys(fns, 0)
    for line in ann.splitlines():
        for fn in fns:
            m = re.match(r"\s*([\d,]+)\s.*:%s( \[.*)?$" % re.escape(fn), line)
            if m:
                best[fn] = max(best[fn], int(m.group(1).replace(",", "")))
    return best


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: cg_incl.py CALLGRIND_OUT DIVISOR FUNCTION...")
    div = max(float(sys.argv[2]), 1.0)
    got = inclusive(sys.argv[1], sys.argv[3:])
    print(" ".join("%.1f" % (got[fn] / div) for fn in sys.argv[3:]))
