# switch_hostile.sh - hostile memif peers cannot crash, corrupt or stall
# nfswitch, and other ports keep forwarding.
#
# While nf-gen sends a steady stream from port 0 to port 1 (its frames are
# unknown-unicast, so the switch floods them to port 2 as well), the
# memif_hostile tool attacks port 2 with every case it knows: malformed
# control messages, unsealed memory shrunk after handover, rings and
# descriptors outside its memory, impossible ring indices, a ring that
# never drains, punched-out memory, death mid-burst, floods of messages and
# connections. Checks: every attack was answered by a disconnect (or
# survived where legal), the switch is still running, nf-gen lost nothing,
# and the switch counted the disconnects by reason. Under the ASan build
# any memory error aborts the switch, which fails the "still running" check.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

"$BIN/nfswitch" -q --stall-ms 1000 -c "$T/ctl" -p "memif:$T/sw.sock,id=0" \
	-p "memif:$T/sw.sock,id=1" -p "memif:$T/sw.sock,id=2" >"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/sw.sock" || not_ok "nfswitch starts"

"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0,rsize=12" --rx "memif:$T/sw.sock,id=1,rsize=12" \
	--rate 20k --drain 2s --json >"$T/gen.json" 2>"$T/gen.err" &
GEN=$!
cleanup "kill $GEN"
sleep 1

"$TOOLS/memif_hostile" "$T/sw.sock" 2 all >"$T/hostile.out" 2>&1
rc=$?
sed 's/^/    /' "$T/hostile.out"
check_eq "every hostile case was answered as it should be" 0 "$rc"
check "nfswitch is still running after the attacks" kill -0 "$SW"

kill -INT "$GEN"
wait "$GEN"
check "nf-gen on the other ports finished" test -s "$T/gen.json"
sent=$(jget "$T/gen.json" tx.packets)
check "nf-gen sent frames during the whole attack (> 200000)" test "$sent" -gt 200000
check_eq "port 0 -> port 1: every frame arrived" "$sent" "$(jget "$T/gen.json" rx.packets)"
check_eq "port 0 -> port 1: nothing lost" 0 "$(jget "$T/gen.json" rx.lost)"
check_eq "port 0 -> port 1: nothing reordered or duplicated" 0 \
	"$(( $(jget "$T/gen.json" rx.reordered) + $(jget "$T/gen.json" rx.duplicated) ))"

"$BIN/nfchain" switch --ctl "$T/ctl" --json ports >"$T/ports.json"
check "the switch still answers its control socket" test -s "$T/ports.json"
python3 - "$T/ports.json" <<'EOF' | sed 's/^/    /'
import json, sys
for p in json.load(open(sys.argv[1]))["ports"]:
    d = {k: v for k, v in p["disconnects"].items() if v}
    print(p["name"].split(",")[-1], "rx", p["rx_packets"], "tx", p["tx_packets"], "disconnects", d)
EOF
for reason in bad-message bad-region bad-ring bad-descriptor bad-ring-index stalled peer-closed peer-disconnect; do
	python3 - "$T/ports.json" "$reason" <<'EOF' && ok "port 2 disconnects counted: $reason" || not_ok "port 2 disconnects counted: $reason"
import json, sys
p = [x for x in json.load(open(sys.argv[1]))["ports"] if x["name"].endswith("id=2")][0]
assert p["disconnects"][sys.argv[2]] >= 1, p["disconnects"]
EOF
done
python3 - "$T/ports.json" <<'EOF' && ok "ports 0 and 1 never disconnected" || not_ok "ports 0 and 1 never disconnected"
import json, sys
for p in json.load(open(sys.argv[1]))["ports"]:
    if p["name"].endswith("id=2"):
        continue
    assert p["connects"] == 1, p
    assert sum(p["disconnects"].values()) <= 1, p   # nf-gen's own goodbye
EOF
exit 0
