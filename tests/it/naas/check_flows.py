#!/usr/bin/env python3
"""check_flows.py WATCH.json: prints one line of figures
  MOVES BADMOVES BOTH TIMELINE
MOVES: flows that changed replica; BADMOVES: of those, moves that no
change of the group explains (a move must go to a replica that was not in
the group when the flow was last seen on its old one - it was added - or
away from a replica no longer in the group - it was drained); BOTH:
samples where one flow counted packets on two replicas of the group at
once while the group had not changed for two samples; TIMELINE: the configured replica counts over time,
repeats collapsed (1-3-1)."""
import json, sys

d = json.load(open(sys.argv[1]))
s = d["samples"]
where = {}          # sport -> (replica, sample index)
moves = bad = both = 0
for i, x in enumerate(s):
    for sport, reps in x["flows"].items():
        reps = sorted(set(reps))
        if len(reps) > 1:
            steady = i >= 2 and set(x["up"]) == set(s[i - 1]["up"]) == set(s[i - 2]["up"])
            if steady and all(r in x["up"] for r in reps):
                both += 1
            rep = [r for r in reps if r != where.get(sport, (None,))[0]][0]
        else:
            rep = reps[0]
        if sport in where and where[sport][0] != rep:
            old, j = where[sport]
            moves += 1
            added = rep not in s[j]["up"]
            drained = old not in x["up"]
            if not (added or drained):
                bad += 1
                print("# flow %s moved %s -> %s at %.1f s, group %s" % (sport, old, rep, x["t"], x["up"]),
                      file=sys.stderr)
        where[sport] = (rep, i)
tl = []
for x in s:
    if not tl or tl[-1] != x["replicas"]:
        tl.append(x["replicas"])
print(moves, bad, both, "-".join(map(str, tl)))
