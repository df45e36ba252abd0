#!/usr/bin/env python3
"""check_flows.py WATCH.json: prints one line of figures
  MOVES BADMOVES BOTH KEPT NEWDRAIN TIMELINE
MOVES: flows that changed replica; BADMOVES: of those, moves that no
change of the group explains: a move must go to a replica that joined
the group, or leave one that left it, since the flow was last seen on its
old replica or within SETTLE samples (1 s) before the move - a busy
replica still works through the frames in its ring); BOTH: samples where
one flow counted packets on two replicas of the group at once while the
group had not changed for SETTLE samples; KEPT: (flow, sample) pairs in
which a draining replica still carried one of its flows; NEWDRAIN: flows
that came to a replica while it drained (none should: it takes no new
flow); TIMELINE: the configured
replica counts over time, repeats collapsed (1-3-1)."""
import json, sys

SETTLE = 10         # samples (100 ms each): a replica's backlog is gone after 1 s

d = json.load(open(sys.argv[1]))
s = d["samples"]
where = {}          # sport -> (replica, sample index)
moves = bad = both = kept = newdrain = 0
for i, x in enumerate(s):
    for sport, reps in x["flows"].items():
        reps = sorted(set(reps))
        for r in reps:
            if r in x["running"] and r not in x["up"]:     # draining
                kept += 1
                if where.get(sport, (None,))[0] != r:
                    newdrain += 1
                    print("# flow %s came to draining %s at %.1f s" % (sport, r, x["t"]),
                          file=sys.stderr)
        if len(reps) > 1:
            steady = i >= SETTLE and all(set(s[k]["up"]) == set(x["up"]) for k in range(i - SETTLE, i))
            if steady and all(r in x["up"] for r in reps):
                both += 1
            rep = [r for r in reps if r != where.get(sport, (None,))[0]][0]
        else:
            rep = reps[0]
        if sport in where and where[sport][0] != rep:
            old, j = where[sport]
            moves += 1
            # the new replica joined, or the old one left, since the flow
            # was last seen on the old one or within the last SETTLE samples
            # (a busy replica still works through its ring's backlog)
            since = range(max(0, min(j, i - SETTLE)), i + 1)
            added = any(rep not in s[k]["up"] for k in since)
            drained = any(old not in s[k]["up"] for k in since)
            if not (added or drained):
                bad += 1
                print("# flow %s moved %s -> %s at %.1f s, group %s" % (sport, old, rep, x["t"], x["up"]),
                      file=sys.stderr)
        where[sport] = (rep, i)
tl = []
for x in s:
    if not tl or tl[-1] != x["replicas"]:
        tl.append(x["replicas"])
print(moves, bad, both, kept, newdrain, "-".join(map(str, tl)))
