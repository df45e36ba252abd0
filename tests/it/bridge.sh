# bridge.sh - nf-bridge, the VLAN-aware learning bridge VNF, on AF_PACKET
# ports towards four namespaces:
#   p1, p2: access VLAN 10    p3: access VLAN 20    t: trunk 10,20
# Crafted frames (EtherType 0x88b5) are sent from one namespace and
# captured in all the others, tags included; the test checks flooding
# within a VLAN only, learning (a reply goes to one port), tag push towards
# the trunk and strip towards access ports (exact bytes), the drops
# (tagged on an access port, untagged on the trunk, VLAN not allowed),
# ageing, the MAC table dump and the counters.
. "$(dirname "$0")/../lib.sh"
L2="$(cd "$(dirname "$0")/../tools" && pwd)/l2.py"

declare -A NS
for p in p1 p2 p3 t; do
	netns nsname "$p"
	NS[$p]=$nsname
	ip link add "nfb$p$$" type veth peer name h0 netns "${NS[$p]}"
	cleanup "ip link del nfb$p$$"
	sysctl -qw "net.ipv6.conf.nfb$p$$.disable_ipv6=1"
	ip netns exec "${NS[$p]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "${NS[$p]}" link set h0 up
	ip link set "nfb$p$$" up
done
cat >"$T/b.conf" <<EOF
port p1 afpacket:nfbp1$$
port p2 afpacket:nfbp2$$
port p3 afpacket:nfbp3$$
port t afpacket:nfbt$$
vlan p1 access 10
vlan p2 access 10
vlan p3 access 20
vlan t trunk 10,20
set fdb-age 10
EOF
check_eq "the configuration checks" "configuration OK" "$("$BIN/nf-bridge" -n -c "$T/b.conf" 2>&1)"
"$BIN/nf-bridge" -q -c "$T/b.conf" --ctl "$T/b.ctl" >"$T/b.log" 2>&1 &
BR=$!
cleanup "kill $BR; wait $BR"
wait_for "$T/b.ctl" 5 || not_ok "nf-bridge starts"

A=02000000000a B=02000000000b C=02000000000c BC=ffffffffffff
frame() { printf '%s%s%s%s' "$1" "$2" "$3" "$(printf '%02x' "$4")0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"; }
untagged() { frame "$1" "$2" 88b5 "$3"; }		# dst src seq
tagged() { frame "$1" "$2" "8100$(printf '%04x' "$3")88b5" "$4"; }	# dst src vid seq

# One sniffer a namespace for the whole test: cap.P gets every frame P
# receives, a hex line each. (One a send, four python3 starts and a 2 s
# capture each time, made a send take 4.5 s on a loaded machine.)
declare -A SEEN
for p in p1 p2 p3 t; do
	spawn ip netns exec "${NS[$p]}" python3 "$L2" sniff h0 0 0x88b5 >"$T/cap.$p" 2>"$T/cap.$p.err"
	SEEN[$p]=0
done
for p in p1 p2 p3 t; do
	for i in $(seq 500); do grep -q ready "$T/cap.$p.err" 2>/dev/null && break; sleep 0.02; done
	grep -q ready "$T/cap.$p.err" || not_ok "the sniffer in $p starts"
done
# send FROM FRAME...: send, wait 0.5 s (a frame crosses the bridge in
# well under a millisecond), then got.P is what P received since the last
# send's collection: a frame later than that shows in the next send's.
send() {
	local from=$1 p; shift
	ip netns exec "${NS[$from]}" python3 "$L2" send h0 "$@"
	sleep 0.5
	for p in p1 p2 p3 t; do
		tail -n +$((SEEN[$p] + 1)) "$T/cap.$p" >"$T/got.$p"
		SEEN[$p]=$((SEEN[$p] + $(wc -l <"$T/got.$p")))
	done
}
got() { tr '\n' ' ' <"$T/got.$1" | sed 's/ $//'; }
# fdb_has TEXT MAC/VLAN=PORT...: the bridge's MAC table holds each entry.
fdb_has() {
	local text=$1; shift
	"$BIN/nfchain" vnf "$T/b.ctl" --json fdb >"$T/fdb.json"
	python3 - "$T/fdb.json" "$@" <<'EOF' && ok "$text" || not_ok "$text"
import json, sys
d = json.load(open(sys.argv[1]))
f = {"%s/%d" % (e["mac"], e["vlan"]): e["port"] for e in d["fdb"]}
for want in sys.argv[2:]:
    k, port = want.split("=")
    assert f.get(k) == port, (want, d)
EOF
}

# 1. Unknown unicast from p1 (VLAN 10): p2 untagged, t tagged 10, not p3.
f=$(untagged $B $A 1)
send p1 "$f"
check_eq "unknown unicast floods to p2, untagged" "$f" "$(got p2)"
check_eq "... and to the trunk, tagged with VLAN 10 (exact bytes)" "$(tagged $B $A 10 1)" "$(got t)"
check_eq "... and not to VLAN 20" "" "$(got p3)"
check_eq "... and not back to p1" "" "$(got p1)"

# 2. B answers from p2: A was learned on p1: unicast there only.
f=$(untagged $A $B 2)
send p2 "$f"
b_spoke=${EPOCHREALTIME/./}	# microseconds; B speaks no more
check_eq "the reply goes to p1 only (A learned)" "$f|||" "$(got p1)|$(got p3)|$(got t)|"
# 3. A to B again: B learned on p2 now.
f=$(untagged $B $A 3)
send p1 "$f"
check_eq "A to B now goes to p2 only" "$f|||" "$(got p2)|$(got p3)|$(got t)|"
# The table's VLAN 10 now, while B is young (fdb-age 10 s).
fdb_has "MAC table: A and B on VLAN 10 (p1, p2)" 02:00:00:00:00:0a/10=p1 02:00:00:00:00:0b/10=p2

# 4. Broadcast tagged 20 from the trunk: only p3, untagged (exact bytes).
send t "$(tagged $BC $C 20 4)"
check_eq "tagged broadcast in VLAN 20 reaches p3, tag stripped" "$(untagged $BC $C 4)" "$(got p3)"
check_eq "... and not VLAN 10's ports" "|" "$(got p1)|$(got p2)"
# 5. C (learned on the trunk, VLAN 20) from p3: unicast back, tagged 20.
send p3 "$(untagged $C $A 5)"
check_eq "p3 to C goes to the trunk tagged 20" "$(tagged $C $A 20 5)" "$(got t)"

fdb_has "MAC table: C on VLAN 20 (t), A on VLAN 20 (p3), A still on VLAN 10 (p1)" \
	02:00:00:00:00:0c/20=t 02:00:00:00:00:0a/20=p3 02:00:00:00:00:0a/10=p1

# 6. Drops.
send p1 "$(tagged $B $A 10 6)"
check_eq "a tagged frame on an access port is dropped" "||" "$(got p2)|$(got p3)|$(got t)"
send t "$(untagged $BC $C 7)"
check_eq "an untagged frame on the trunk is dropped" "||" "$(got p1)|$(got p2)|$(got p3)"
send t "$(tagged $BC $C 30 8)"
check_eq "VLAN 30 on the trunk (not allowed) is dropped" "||" "$(got p1)|$(got p2)|$(got p3)"

"$BIN/nfchain" vnf "$T/b.ctl" --json stats >"$T/stats.json"
python3 - "$T/stats.json" <<'EOF' && ok "drop counters: 1 tagged-on-access, 1 untagged-on-trunk, 1 vlan-not-allowed" || not_ok "drop counters"
import json, sys
d = json.load(open(sys.argv[1]))["drops"]
assert d.get("tagged-on-access-port") == 1, d
assert d.get("untagged-on-trunk-port") == 1, d
assert d.get("vlan-not-allowed") == 1, d
EOF

# 7. Ageing (fdb-age 10 s): 11.5 s after B last spoke, it is forgotten: A to
# B floods.
left=$((11500000 - (${EPOCHREALTIME/./} - b_spoke)))
[ "$left" -gt 0 ] && sleep "$(printf '%d.%06d' $((left / 1000000)) $((left % 1000000)))"
f=$(untagged $B $A 9)
send p1 "$f"
check_eq "after ageing, A to B floods again" "$f|$(tagged $B $A 10 9)" "$(got p2)|$(got t)"
exit 0
