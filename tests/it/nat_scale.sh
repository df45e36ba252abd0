# nat_scale.sh - nf-nat holds 1,000,000 sessions (the default table size):
# nf-gen sends 1,000,000 UDP flows (--flows 1000000: each frame a new
# inside host and port) over memif through nf-nat, then the same million
# again. The first round creates one session and one mapping per flow; the
# second finds every one of them (no session created, none refused);
# every frame of both rounds comes out translated. Then the per-packet
# path allocated nothing: the process's resident memory did not grow in
# the second round by more than noise (1 MiB).
#
#   nf-gen (memif server a, b) --a--> nf-nat inside | outside --b--> nf-gen
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
GEN="$BIN/nf-gen"
N=1000000
# The rate keeps nf-nat (ASan build too) ahead: no frame waits long enough
# for a ring to fill.
RATE=${NAT_SCALE_RATE:-250k}

cat >"$T/nat.conf" <<EOF
port in memif:$T/a.sock
port out memif:$T/b.sock,rsize=12
inside in
outside out
pool 10.128.0.0/27
set mode intr
EOF
round() {	# NAME: one round of N flows, nf-gen's JSON in $T/NAME.json
	"$GEN" --tx "memif:$T/a.sock,role=server" --rx "memif:$T/b.sock,role=server,rsize=12" \
		--src-ip 10.1.0.2 --dst-ip 198.51.100.7 --flows $N --count $N --rate "$RATE" \
		--wait 60s --drain 2s --json >"$T/$1.json" 2>"$T/$1.err" &
	GP=$!
	wait_for "$T/b.sock" 10
	if [ -z "${NP:-}" ]; then
		"$BIN/nf-nat" -q -c "$T/nat.conf" --ctl "$T/n.ctl" >"$T/n.log" 2>&1 &
		NP=$!
		cleanup "kill $NP; wait $NP"
		wait_for "$T/n.ctl" 10 || not_ok "nf-nat starts: $(head -3 "$T/n.log" | tr '\n' '|')"
	fi
	wait "$GP"
}
S() {	# the nat counters KEY...
	"$BIN/nfchain" vnf "$T/n.ctl" --json stats | python3 -c 'import json,sys
d=json.load(sys.stdin); n=d["nat"]; n.update(d["nat_refused"])
print(" ".join(str(n[k]) for k in sys.argv[1:]))' "$@"
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$NP/status"; }

round first
check_eq "round 1: nf-gen sent and received $N frames" "$N $N" \
	"$(jget "$T/first.json" tx.packets) $(jget "$T/first.json" rx.packets)"
check_eq "round 1: 1000000 sessions and mappings in a table of 1000000, none refused" \
	"1000000 1000000 1000000 1000000 0 0" \
	"$(S sessions sessions_max mappings created session-table-full no-free-port)"
rss1=$(rss)
round second
check_eq "round 2: nf-gen sent and received $N frames" "$N $N" \
	"$(jget "$T/second.json" tx.packets) $(jget "$T/second.json" rx.packets)"
check_eq "round 2: every frame found its session (created still 1000000, translated_out 2000000)" \
	"1000000 1000000 2000000" "$(S sessions created translated_out)"
rss2=$(rss)
check "round 2 allocated nothing: resident memory ${rss1} KiB -> ${rss2} KiB" \
	test $((rss2 - rss1)) -lt 1024
"$BIN/nfchain" vnf "$T/n.ctl" --json sessions 3 >"$T/s.json"
check_eq "sessions 3: three outbound UDP sessions to 198.51.100.7, from a pool address" \
	"3 True" "$(python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))["sessions"]
print(len(s), all(x["protocol"] == "udp" and x["direction"] == "outbound" and
                  x["remote"].startswith("198.51.100.7:") and x["state"] == "UNREPLIED" and
                  x["outside"].startswith("10.128.0.") and x["packets_out"] == 2 for x in s))' \
	"$T/s.json" 2>&1)"
kill "$NP"
wait "$NP"
check_eq "nf-nat exits 0 on SIGTERM" 0 "$?"
exit 0
