# naas_hold.sh - nfswitch's hold queue alone (docs/STEERING.md, `group ...
# hold N`; src/nfswitch/hold.c), hostile cases: the bound (exact counted
# drops), one notification per episode, a reload while frames are held
# (kept, in order), frames longer than a slot, a group that goes away
# while it holds (counted), the release in arrival order.
. "$(dirname "$0")/../lib.sh"

SW="$BIN/nfswitch"
C="$BIN/nfchain"
G="$BIN/nf-gen"
san_to_files
K=$T/sw.sock
CTL=$T/sw.ctl
python3 - "$T/notify.sock" "$T/notify.txt" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(256)
    with open(sys.argv[2], "a") as f:
        f.write(m.decode())
PY
listener=$!
cleanup "kill $listener"
wait_for "$T/notify.sock"
spawn "$SW" -q -c "$CTL" -m intr -p "memif:$K,id=0" -p "memif:$K,id=1" -p "memif:$K,id=2" \
	--notify "$T/notify.sock"
wait_for "$CTL"
sw() { "$C" switch --ctl "$CTL" "$@"; }
hold() { "$C" switch --ctl "$CTL" --json groups | python3 -c "import json,sys
g = [g for g in json.load(sys.stdin)['groups'] if g['name'] == 'g'][0]['hold']
print(' '.join(str(g[k]) for k in '$1'.split()))"; }
drops() { "$C" switch --ctl "$CTL" --json steer-stats | python3 -c "import json,sys
print(json.load(sys.stdin)['steer_drops'].get('$1', 0))"; }
steering() { printf '%s\n' "$@" >"$T/steer.txt"; sw load-steering "$T/steer.txt" >/dev/null; }
wait_held() {	# wait_held N: the ring holds N frames
	for i in $(seq 100); do [ "$(hold queued)" = "$1" ] && return 0; sleep 0.05; done
	return 1
}

check "a group with no member, hold 4" steering "group g - hold 4" "rule id 1 in-port 0 action group g"
check "hold 0 is refused with its range" sh -c "printf 'group h - hold 0\n' >'$T/bad.txt'; '$C' switch --ctl '$CTL' load-steering '$T/bad.txt' 2>&1 | grep -q \"hold '0': expected 1..4096 frames\""
# the receiver first (it stops after 4 frames), then 10 frames in
"$G" --rx "memif:$K,id=1" --count 4 --duration 30 --json >"$T/gen.json" 2>"$T/gen.err" &
gen=$!
for i in $(seq 100); do sw ports | grep -q 'id=1 .* up ' && break; sleep 0.05; done
"$G" --tx "memif:$K,id=0" --count 10 --rate 10k >/dev/null 2>&1
check "10 frames: 4 held" wait_held 4
check_eq "10 frames: 6 counted drops (hold.full, steer-hold-full)" "6 6" "$(hold full) $(drops steer-hold-full)"
check_eq "one notification for the episode" "hold g" "$(cat "$T/notify.txt")"
check "a reload while frames are held: still no member, hold 8" steering "group g - hold 8" "rule id 1 in-port 0 action group g"
check_eq "... the held frames are kept (their ring with them)" "4 4 1" "$(hold 'queued capacity episodes')"
check "a member: set-member g 0 1" sw set-member g 0 1
wait $gen
check_eq "released: the 4 held frames arrived (the first 4 sent), in order, none twice" "4 3 0 0" \
	"$(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.highest_seq) $(jget "$T/gen.json" rx.reordered) $(jget "$T/gen.json" rx.duplicated)"
check_eq "hold counters: 4 held, 4 released, 0 queued" "4 4 0" "$(hold 'held released queued')"
check "last_us: the episode took time" test "$(hold last_us)" -gt 0

# Frames longer than a slot (2048 bytes): counted, not held.
check "no member again (hold 4)" steering "group g - hold 4" "rule id 1 in-port 0 action group g"
"$G" --tx "memif:$K,id=0" --count 3 --size 3000 --rate 10k >/dev/null 2>&1
for i in $(seq 40); do [ "$(hold too_big)" = 3 ] && break; sleep 0.05; done
check_eq "3 frames of 3000 bytes: 3 counted too big, none held" "3 0" "$(hold 'too_big queued')"
check_eq "... as steer-hold-big" 3 "$(drops steer-hold-big)"

# A group that goes away while it holds: its frames are counted.
"$G" --tx "memif:$K,id=0" --count 2 --rate 10k >/dev/null 2>&1
check "2 frames held" wait_held 2
check_eq "a second episode, a second notification" "hold g hold g" "$(xargs <"$T/notify.txt")"
check "the group and its rule go" steering "group other - hold 1"
check_eq "the 2 held frames are counted (steer-group-empty)" 2 "$(drops steer-group-empty)"

# A draining member (~) keeps the flows the track table gives it; new
# flows go to the others; "-" then moves the rest.
mc() { "$C" switch --ctl "$CTL" --json groups | python3 -c "import json,sys
g = [g for g in json.load(sys.stdin)['groups'] if g['name'] == 't'][0]
print(' '.join(str(m['packets']) for m in g['members']), g.get('track_kept', '-'))"; }
flows() {	# flows SRC: 64 flows, one frame each, from SRC
	"$G" --tx "memif:$K,id=0" --src-ip "$1" --flows 64 --count 64 --rate 10k >/dev/null 2>&1
}
wait_sum() {	# wait_sum N: the members counted N frames in all
	for i in $(seq 100); do
		[ "$(mc | awk '{ print $1 + $2 }')" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
check "'~' without track is refused" sh -c "printf 'group t 1 ~2\n' >'$T/bad.txt'; '$C' switch --ctl '$CTL' load-steering '$T/bad.txt' 2>&1 | grep -q \"draining member '~2' needs 'track' on the group\""
check "a tracked group of 2 members" steering "group t 1 2 track" "rule id 1 in-port 0 action group t"
flows 10.1.0.1
check "64 flows counted" wait_sum 64
read m0 m1 kept < <(mc)
echo "# 64 flows: member 0 $m0, member 1 $m1"
check "both members took flows" test "$m0" -gt 0 -a "$m1" -gt 0
check "member 1 drains: ~2" steering "group t 1 ~2 track" "rule id 1 in-port 0 action group t"
check_eq "groups: member 1 is draining, not up" "False True" "$("$C" switch --ctl "$CTL" --json groups | python3 -c "import json,sys
m = [g for g in json.load(sys.stdin)['groups'] if g['name'] == 't'][0]['members'][1]
print(m['up'], m.get('draining'))")"
flows 10.1.0.1
check "the same 64 flows again" wait_sum 128
check_eq "draining: each flow stays on its member (member 1 keeps its $m1)" "$((2 * m0)) $((2 * m1)) $m1" "$(mc)"
flows 10.9.0.1
check "64 new flows" wait_sum 192
check_eq "draining: no new flow goes to the draining member" "$((2 * m0 + 64)) $((2 * m1)) $m1" "$(mc)"
check "then '-': member 1 is gone" steering "group t 1 - track" "rule id 1 in-port 0 action group t"
flows 10.1.0.1
check "the first 64 flows once more" wait_sum 256
check_eq "removed: its flows moved to member 0, the others stayed" "$((3 * m0 + 64 + m1)) $((2 * m1)) $m1" "$(mc)"
check "nfswitch still runs" kill -0 "$SPAWNED"
check "no sanitizer report" no_san
