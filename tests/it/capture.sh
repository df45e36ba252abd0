# capture.sh - nfchain capture: frames passing nfswitch ports into pcap
# files while traffic flows (nfswitch's cap.c, nfchain's capture.c):
#  - under load (nf-gen, 2 flows, 20k frames/s), a filter choosing one
#    flow: tshark reads exactly that flow's frames, no malformed frame, no
#    expert error; the sequence numbers are every one nf-gen sent of that
#    flow, in order; nf-gen lost nothing;
#  - the same frame captured received on port 0 and sent to port 1 has the
#    same bytes; the decoded fields and lengths are what nf-gen sent;
#    timestamps are the time of the capture; rx and tx directions;
#  - snaplen truncation (caplen < len), -c COUNT exact, -w - into tshark;
#    a dead capture's leftover port removed by the next capture; --pcapng
#    (an interface per port, each frame's direction);
#  - a bad filter (libpcap's message) and an unknown port: exit 1, nothing
#    left on the switch; usage errors: exit 2;
#  - the tool killed with -9: the switch removes its port and capture and
#    keeps forwarding; a sink that never reads its ring: forwarding is not
#    slowed, capture_dropped counts, the sink is disconnected and removed;
#  - a deployment (nfchain up -d, runtime process): a firewall replica's
#    ports captured by name (--name D fw.0: fw.0.fin, fw.0.fout), a VNF
#    type (fw: every replica's).
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
G="$BIN/nf-gen"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
san_to_files
S=$T/sw.sock
CTL=$T/ctl

"$BIN/nfswitch" -q -c "$CTL" --stall-ms 3000 -p "memif:$S,id=0" -p "memif:$S,id=1" \
	>"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$CTL" 5 || not_ok "nfswitch starts"

# sw_json REQUEST EXPR: EXPR (Python, over the reply d) of a switch request
sw_json() {
	"$C" switch --ctl "$CTL" --json $1 | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"
}
# wait_until EXPR: until `sw_json` of EXPR prints True (10 s)
wait_until() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(sw_json "$1" "$2")" = True ] && return 0
		sleep 0.05
	done
	return 1
}
# gen COUNT RATE [options]: nf-gen from port 0 to port 1, 2 flows
# (UDP source ports 1024 and 1025, sequence numbers alternate)
gen() {
	local n=$1 r=$2
	shift 2
	"$G" --tx "memif:$S,id=0,rsize=12" --rx "memif:$S,id=1,rsize=12" --flows 2 \
		--count "$n" --rate "$r" --drain 1s --json "$@" >"$T/gen.json" 2>"$T/gen.err"
}
# cap NAME ARGS...: nfchain capture in the background ($CAP: its pid),
# stderr in $T/NAME.err; returns once its captures are on the switch
cap() {
	local name=$1
	shift
	"$C" capture --ctl "$CTL" "$@" 2>"$T/$name.err" &
	CAP=$!
	wait_until captures "len(d['captures']) > 0"
}
# stop_cap: SIGINT, wait; its exit status in $CAP_RC
stop_cap() { kill -INT "$CAP"; wait "$CAP"; CAP_RC=$?; }
# pcap_py FILE EXPR: EXPR over the records of a pcap file (nanosecond or
# microsecond): r = [(t_s, caplen, len, bytes)]
pcap_py() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", b[:4])[0]
assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
div = 1e9 if magic == 0xa1b23c4d else 1e6
r, o = [], 24
while o < len(b):
    s, f, cl, ln = struct.unpack("<IIII", b[o:o + 16])
    r.append((s + f / div, cl, ln, b[o + 16:o + 16 + cl]))
    o += 16 + cl
seq = lambda p: struct.unpack(">Q", p[44:52])[0]
print(eval(sys.argv[2]))
EOF
}
ports_n() { sw_json ports "len(d['ports'])"; }

# --- under load: one flow of two, by a filter run in the switch ---
cap load -f 'udp src port 1025' -w "$T/load.pcap" 0
check_eq "one capture on the switch, its sink port added" "1 3" \
	"$(sw_json captures "len(d['captures'])") $(ports_n)"
gen 60000 20k --size 100
stop_cap
check_eq "capture exits 0 on SIGINT" 0 "$CAP_RC"
check_eq "nf-gen: 60000 sent, 60000 received, none lost (the capture did not slow it)" \
	"60000 60000 0" "$(jget "$T/gen.json" tx.packets) $(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.lost)"
check_eq "tshark reads exactly the 30000 frames of the filtered flow" 30000 \
	"$(tshark -r "$T/load.pcap" 2>/dev/null | wc -l)"
check_eq "every frame is UDP 10.0.0.3:1025 -> 10.0.0.2:1024, 100 bytes" 30000 \
	"$(tshark -r "$T/load.pcap" -Y 'ip.src == 10.0.0.3 && udp.srcport == 1025 && udp.dstport == 1024 && frame.len == 100 && frame.cap_len == 100 && eth.src == 02:00:00:00:00:01 && eth.dst == 02:00:00:00:00:02' 2>/dev/null | wc -l)"
check_eq "no malformed frame" 0 "$(tshark -r "$T/load.pcap" -Y '_ws.malformed || _ws.expert.severity >= 4194304' 2>/dev/null | wc -l)"
OPTS=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)
tshark_expert "$T/load.pcap" $((24 + 16 + 14 + 10)) "${OPTS[@]}"
check_eq "the sequence numbers are flow 1's, all of them, in order (1, 3, ... 59999)" True \
	"$(pcap_py "$T/load.pcap" "[seq(x[3]) for x in r] == list(range(1, 60000, 2))")"
check_eq "the tool's counters: written, captured, dropped, filtered out" \
	"nfchain capture: 30000 frames written; the switch captured 30000, dropped 0 (this program's ring was full), filtered out 30000" \
	"$(tail -1 "$T/load.err")"
check_eq "after the capture: no capture, its port removed, its socket gone" "0 2 no" \
	"$(sw_json captures "len(d['captures'])") $(ports_n) $(ls "$T"/cap-*.sock >/dev/null 2>&1 && echo yes || echo no)"

# --- two ports into one file: received on 0 and sent to 1, same bytes ---
T0=$(date +%s)
cap both -w "$T/both.pcap" 0 1
gen 2000 20k --size 333
stop_cap
check_eq "two ports, both directions: each frame twice (4000)" 4000 \
	"$(pcap_py "$T/both.pcap" "len(r)")"
check_eq "each frame's two copies (rx on 0, tx to 1) have the same 333 bytes, every sequence number" True \
	"$(pcap_py "$T/both.pcap" "(lambda c: sorted(c) == list(range(2000)) and all(len(v) == 2 and v[0] == v[1] and len(v[0]) == 333 for v in c.values()))(__import__('functools').reduce(lambda c, x: c.setdefault(seq(x[3]), []).append(x[3]) or c, r, {})) and all(x[2] == 333 for x in r)")"
check_eq "timestamps: when the switch handled the frames, in order" True \
	"$(pcap_py "$T/both.pcap" "all(r[i][0] <= r[i + 1][0] for i in range(len(r) - 1)) and $T0 - 1 <= r[0][0] <= $(date +%s) + 1")"

# --- directions: --rx on 1 (nf-gen's receiving port sends nothing), --tx ---
cap rx1 --rx -w "$T/rx1.pcap" 1
gen 1000 20k
stop_cap
check_eq "--rx on the receiving port: no frame" "0" "$(pcap_py "$T/rx1.pcap" "len(r)")"
cap tx1 --tx -w "$T/tx1.pcap" 1
gen 1000 20k
stop_cap
check_eq "--tx on the receiving port: the 1000 frames the switch sent it" "1000" \
	"$(pcap_py "$T/tx1.pcap" "len(r)")"

# --- snaplen, -c COUNT while traffic flows, -w - into tshark ---
# (-d 30: a bound, should the traffic be over before COUNT frames)
gen 40000 20k --size 200 &
GEN=$!
"$C" capture --ctl "$CTL" -s 64 -c 500 -d 30 -w "$T/snap.pcap" 0 2>"$T/snap.err"
check_eq "-s 64 -c 500: exit 0" 0 "$?"
wait "$GEN"
check_eq "nf-gen: no frame lost meanwhile" 0 "$(jget "$T/gen.json" rx.lost)"
check_eq "-c 500: exactly 500 frames, each cut to 64 bytes of 200" "500" \
	"$(tshark -r "$T/snap.pcap" -Y 'frame.cap_len == 64 && frame.len == 200' 2>/dev/null | wc -l)"
check_eq "... and tshark says so (200 bytes on wire, 64 bytes captured), none malformed" "500 0" \
	"$(tshark -r "$T/snap.pcap" -V 2>/dev/null | grep -c '200 bytes on wire (1600 bits), 64 bytes captured') $(tshark -r "$T/snap.pcap" -Y _ws.malformed 2>/dev/null | wc -l)"
# what a capture killed between adding its port and starting leaves: a
# plain port _cap.PID, PID gone; the next capture removes it
"$C" switch --ctl "$CTL" add-port "memif:$T/stale.sock,id=0" _cap.2147483646 >/dev/null
# 8 s of traffic: the capture attaches while it runs, even where
# starting takes seconds (an ASan build on a loaded machine once
# missed the whole 2 s of 40000 frames)
gen 160000 20k &
GEN=$!
check_eq "-w - into tshark -r -: 300 frames" 300 \
	"$("$C" capture --ctl "$CTL" -c 300 -d 30 -w - 0 2>/dev/null | tshark -r - 2>/dev/null | wc -l)"
wait "$GEN"
check_eq "... and the stale port of a dead capture (_cap.2147483646) was removed" 2 "$(ports_n)"
gen 40000 20k &
GEN=$!
"$C" capture --ctl "$CTL" --pcapng -c 400 -d 30 -w "$T/ng.pcapng" 0 1 2>/dev/null
check_eq "--pcapng -c 400, two ports: exit 0" 0 "$?"
wait "$GEN"
check_eq "... tshark: each frame on its port's interface, inbound on 0, outbound on 1" \
	"400 0 0" "$(tshark -r "$T/ng.pcapng" -T fields -e frame.interface_name \
		-e frame.packet_flags_direction 2>/dev/null | awk -v a="memif:$S,id=0" -v b="memif:$S,id=1" '
		{ n++ } ($1 == a && $2 != "0x00000001") || ($1 == b && $2 != "0x00000002") { bad++ }
		$1 != a && $1 != b { other++ } END { print n, bad + 0, other + 0 }')"
check_eq "... no expert error or warning" "" \
	"$(tshark -r "$T/ng.pcapng" -q -z expert 2>/dev/null | grep -E '^(Errors|Warns) \(')"

# --- errors ---
"$C" capture --ctl "$CTL" -f 'udp prt 53' -w "$T/x.pcap" 0 2>"$T/bad.err"
check_eq "a bad filter: exit 1" 1 "$?"
check_eq "... with libpcap's message" \
	"nfchain capture: bad filter 'udp prt 53': can't parse filter expression: syntax error" "$(cat "$T/bad.err")"
"$C" capture --ctl "$CTL" -w "$T/x.pcap" 0 nosuch 2>"$T/unk.err"
check_eq "an unknown port: exit 1, one sentence" \
	"1 nfchain capture: no port, VNF replica or VNF type 'nosuch' on the switch (nfchain switch ports lists its ports)" \
	"$? $(cat "$T/unk.err")"
check_eq "... and nothing was added to the switch" "2 0" \
	"$(ports_n) $(sw_json captures "len(d['captures'])")"
"$C" capture --ctl "$CTL" 0 2>/dev/null
check_eq "no -w: usage error, exit 2" 2 "$?"
"$C" capture --ctl "$CTL" -c 0 -w x 0 2>/dev/null
check_eq "-c 0: usage error, exit 2" 2 "$?"
check "--help" sh -c "'$C' capture --help | grep -q 'usage: nfchain capture'"

# --- the tool killed with -9 ---
cap k9 -w "$T/k9.pcap" 0
SINK=$(sw_json captures "d['captures'][0]['sink']")
{ kill -9 "$CAP"; wait "$CAP"; } 2>/dev/null
check "killed -9: the switch removes its capture and port ($SINK)" \
	wait_until ports "len(d['ports']) == 2 and '$SINK' not in [p['name'] for p in d['ports']]"
check_eq "... no capture left, the socket file gone" "0 no" \
	"$(sw_json captures "len(d['captures'])") $(ls "$T"/cap-*.sock >/dev/null 2>&1 && echo yes || echo no)"
gen 20000 20k
check_eq "... and the switch forwards: 20000 of 20000" 20000 "$(jget "$T/gen.json" rx.packets)"

# --- a sink that never reads: forwarding goes on, the copies are dropped ---
"$C" switch --ctl "$CTL" add-port "memif:$T/h.sock,id=0" hsink >/dev/null
"$TOOLS/memif_hostile" "$T/h.sock" 0 stalled-ring >"$T/hostile.out" 2>&1 &
HP=$!
cleanup "kill $HP"
wait_until ports "[p['up'] for p in d['ports'] if p['name'] == 'hsink'] == [True]" ||
	not_ok "the stalling client connects"
"$C" switch --ctl "$CTL" start-capture 0 hsink rx filter udp prt 53 2>"$T/bad2.err"
check_eq "the switch refuses a bad filter itself (libpcap's message)" \
	"1 nfchain: bad filter 'udp prt 53': can't parse filter expression: syntax error" \
	"$? $(cat "$T/bad2.err")"
"$C" switch --ctl "$CTL" start-capture 0 1 2>"$T/bad3.err"
check_eq "... and a sink that is not a connected memif server" \
	"1 nfchain: sink '1' is not a memif server port with its client connected" \
	"$? $(cat "$T/bad3.err")"
"$C" switch --ctl "$CTL" start-capture 0 hsink rx >/dev/null
check_eq "nfchain switch captures: the capture, its counters" \
	"id  port                         sink             dir  snaplen         seen     captured      dropped     filtered  filter" \
	"$("$C" switch --ctl "$CTL" captures | head -1)"
gen 40000 20k &
GEN=$!
check "the stalled sink: capture_dropped counts" \
	wait_until captures "[c['capture_dropped'] > 1000 for c in d['captures']] == [True]"
wait "$GEN"
check_eq "... nf-gen: 40000 of 40000, none lost" "40000 0" \
	"$(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.lost)"
wait "$HP"
check_eq "... the sink was disconnected for stalling (memif_hostile)" 0 "$?"
check "... and its port and capture removed" \
	wait_until ports "len(d['ports']) == 2"
check_eq "... no capture left" 0 "$(sw_json captures "len(d['captures'])")"

# --- a deployment: a firewall replica by name ---
export NFCHAIN_RUN_DIR=$T/run
sed "s/^runtime: runc/runtime: process/" "$ROOT/examples/router-nat-fw.yaml" >"$T/rnf.yaml"
cleanup "'$C' down --name rnf"
check "nfchain up -d router-nat-fw (runtime process)" "$C" up -d "$T/rnf.yaml"
R=$T/run/rnf
"$G" --tx "memif:$R/memif.sock,id=0,rsize=12" --rx "memif:$R/memif.sock,id=1,rsize=12" \
	--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --flows 100 --rate 5k --count 15000 \
	--drain 1s --json >"$T/gen.json" 2>"$T/gen.err" &
GEN=$!
# not the agent's health probes (EtherType 0x88b5), which also pass there
"$C" capture --name rnf -c 200 -f 'not ether proto 0x88b5' -w "$T/fw0.pcap" fw.0 2>"$T/fw0.err"
check_eq "capture --name rnf fw.0 -c 200 -f 'not ether proto 0x88b5': exit 0" 0 "$?"
check_eq "... fw.0's two ports" "nfchain capture: capturing fw.0.fin fw.0.fout into $T/fw0.pcap" \
	"$(head -1 "$T/fw0.err")"
check_eq "... 200 frames of the chain's traffic (to 203.0.113.2), none malformed" "200 200 0" \
	"$(tshark -r "$T/fw0.pcap" 2>/dev/null | wc -l) $(tshark -r "$T/fw0.pcap" -Y 'ip.dst == 203.0.113.2' 2>/dev/null | wc -l) $(tshark -r "$T/fw0.pcap" -Y '_ws.malformed' 2>/dev/null | wc -l)"
"$C" capture --name rnf --rx -c 100 -w "$T/fw.pcap" fw 2>"$T/fw.err"
check_eq "capture --name rnf --rx fw: every replica's ports" \
	"nfchain capture: capturing fw.0.fin fw.0.fout fw.1.fin fw.1.fout rx into $T/fw.pcap" \
	"$(head -1 "$T/fw.err")"
wait "$GEN"
# (5k frames/s: the CI's other tests share the two cores with the chain's
# four replicas, the switch, the generator and the captures)
check_eq "... nf-gen: 15000 through the chain, none lost" "15000 0" \
	"$(jget "$T/gen.json" rx.packets) $(jget "$T/gen.json" rx.lost)"
check_eq "... the deployment's switch: no capture or capture port left" "0 0" \
	"$("$C" switch --ctl "$R/switch.ctl" --json captures | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["captures"]))') $("$C" switch --ctl "$R/switch.ctl" --json ports | python3 -c 'import json,sys; print(sum(p["name"].startswith("_cap") for p in json.load(sys.stdin)["ports"]))')"
check "nfchain down" "$C" down --name rnf

check "no sanitizer report" no_san
exit $_failed
