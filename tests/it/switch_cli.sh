# switch_cli.sh - nfswitch and nfchain command lines: bad input gets one
# clear sentence on stderr and a non-zero exit; --check validates without
# opening anything; ports are added and removed at runtime through the
# control socket; the control socket refuses bad requests.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

# expect_err STATUS "description" command...: exit STATUS, exactly one
# line on stderr, nothing on stdout.
expect_err() {
	local want=$1 d=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ ! -s "$T/out" ]; then
		ok "$d: exit $rc, '$(cat "$T/err")'"
	else
		not_ok "$d: exit $rc (want $want), $lines stderr lines: $(head -3 "$T/err" | tr '\n' '|')"
	fi
}

S="$BIN/nfswitch"
expect_err 2 "nfswitch unknown option" "$S" --bogus
expect_err 2 "nfswitch --burst 0" "$S" --burst 0 -p "memif:$T/a.sock"
expect_err 2 "nfswitch --burst 257" "$S" --burst 257 -p "memif:$T/a.sock"
expect_err 2 "nfswitch --burst 12x" "$S" --burst 12x -p "memif:$T/a.sock"
expect_err 2 "nfswitch --mode sometimes" "$S" --mode sometimes
expect_err 2 "nfswitch --fdb-age 0" "$S" --fdb-age 0
expect_err 2 "nfswitch stray argument" "$S" -p "memif:$T/a.sock" extra
expect_err 2 "nfswitch unknown port type" "$S" -c "$T/ctl" -p "vhost:/tmp/x"
expect_err 2 "nfswitch port spec without type" "$S" -c "$T/ctl" -p "/tmp/x.sock"
expect_err 2 "nfswitch memif without path" "$S" -c "$T/ctl" -p "memif:"
expect_err 2 "nfswitch memif rsize out of range" "$S" -c "$T/ctl" -p "memif:$T/a.sock,rsize=20"
expect_err 2 "nfswitch memif unknown option" "$S" -c "$T/ctl" -p "memif:$T/a.sock,color=red"
expect_err 2 "nfswitch memif role=master" "$S" -c "$T/ctl" -p "memif:$T/a.sock,role=master"
expect_err 2 "nfswitch pcap with nothing" "$S" -c "$T/ctl" -p "pcap:"
expect_err 1 "nfswitch afpacket on a missing interface" "$S" -c "$T/ctl" -p "afpacket:nosuch0"
expect_err 1 "nfswitch pcap input missing" "$S" -c "$T/ctl" -p "pcap:$T/missing.pcap"
expect_err 2 "nfswitch --check with a bad spec" "$S" --check -p "memif:$T/a.sock,id=x"
check_eq "nfswitch --check with good specs" "configuration OK" \
	"$("$S" --check -p "memif:$T/a.sock,id=1" -p "memif:$T/a.sock,id=2,rsize=12" 2>&1)"
check "nfswitch --check created nothing" test ! -e "$T/a.sock"
expect_err 2 "nfswitch --check: a missing interface" "$S" --check -p "afpacket:nosuch0"
expect_err 2 "nfswitch --check: a missing pcap input" "$S" --check -p "pcap:$T/none.pcap"
check "nfswitch --help exits 0 and documents --port" sh -c "'$S' --help | grep -q -- '--port SPEC'"

C="$BIN/nfchain"
expect_err 2 "nfchain without a command" "$C"
expect_err 2 "nfchain unknown command" "$C" frobnicate
expect_err 2 "nfchain switch without subcommand" "$C" switch
expect_err 2 "nfchain switch unknown subcommand" "$C" switch --ctl "$T/ctl" dance
expect_err 2 "nfchain switch del-port without argument" "$C" switch --ctl "$T/ctl" del-port
expect_err 1 "nfchain switch with no daemon" "$C" switch --ctl "$T/none.ctl" ports

# A running switch, changed at runtime.
"$S" -q -c "$T/ctl" -p "memif:$T/sw.sock,id=0" >"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/ctl" || not_ok "nfswitch starts"
expect_err 1 "a second nfswitch on the same control socket" "$S" -c "$T/ctl" -p "memif:$T/other.sock"
check "nfchain switch add-port" "$C" switch --ctl "$T/ctl" add-port "memif:$T/sw.sock,id=7" vnf7
check "the new port is listed" sh -c "'$C' switch --ctl '$T/ctl' ports | grep -q vnf7"
expect_err 1 "add-port with a name in use" "$C" switch --ctl "$T/ctl" add-port "memif:$T/sw.sock,id=8" vnf7
expect_err 1 "add-port with the same spec twice" "$C" switch --ctl "$T/ctl" add-port "memif:$T/sw.sock,id=7"
expect_err 1 "add-port with a bad spec" "$C" switch --ctl "$T/ctl" add-port "memif:$T/sw.sock,rsize=3"
# Traffic through the runtime port.
"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0" --rx "memif:$T/sw.sock,id=7" --count 5000 \
	--rate 20k --json --expect-zero-loss >"$T/gen.json" 2>"$T/gen.err"
check_eq "5000 frames into port 0 arrive on the runtime port vnf7" 0 $?
check "nfchain switch del-port" "$C" switch --ctl "$T/ctl" del-port vnf7
check "the port is gone" sh -c "! '$C' switch --ctl '$T/ctl' ports | grep -q vnf7"
check "its socket id is free again (add it back)" "$C" switch --ctl "$T/ctl" add-port "memif:$T/sw.sock,id=7" vnf7
expect_err 1 "del-port of an unknown port" "$C" switch --ctl "$T/ctl" del-port nosuch
"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=0" --rate 100 --duration 20 >/dev/null 2>&1 &
G=$!
cleanup "kill $G"
sleep 1
check "fdb lists the sender's address on port 0" \
	sh -c "'$C' switch --ctl '$T/ctl' fdb | grep -q '02:00:00:00:00:01 .*id=0'"
check "flush-fdb empties the table" sh -c "'$C' switch --ctl '$T/ctl' flush-fdb | grep -q 'flushed 1 entries'"
kill "$G"; wait "$G" 2>/dev/null
check "stats prints the MAC table line" sh -c "'$C' switch --ctl '$T/ctl' stats | grep -q 'MAC table 0/65536'"

# The control socket itself: raw requests.
raw() { python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode())
print(s.makefile().read().strip())' "$T/ctl" "$1"; }
check "control socket: unknown request -> ok:false with a sentence" \
	sh -c "[ \"\$(echo '$(raw $'dance\n')')\" != '' ] && echo '$(raw $'dance\n')' | grep -q '\"ok\": *false'"
check "control socket: empty request -> ok:false" sh -c "echo '$(raw $'\n')' | grep -q 'empty request'"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"x" * 10000)
s.shutdown(socket.SHUT_WR); print(s.makefile().read())' "$T/ctl" >"$T/long.out" 2>&1
check "control socket: a 10 kB request is refused with a sentence" grep -q 'request longer than 4095 bytes' "$T/long.out"
check "... and the switch lives on" kill -0 "$SW"
# A request is refused, never cut, past 128 words: cut at 32 words, this
# rule once lost its "output 1" and went in with another action.
long_rule() { printf 'rule-add id %s udp dport 9 action' "$1"; for ((i = 0; i < $2; i++)); do
	printf ' count'; done; printf ' output 0'; }
check "control socket: a request of 129 words is refused with a sentence" \
	sh -c "echo '$(raw "$(long_rule 7 120)"$'\n')' | grep -q 'request of more than 128 words'"
check "control socket: one of 128 words is taken whole (its last words too)" \
	sh -c "echo '$(raw "$(long_rule 8 119)"$'\n')' | grep -q '\"ok\": *true' &&
	       '$C' switch --ctl '$T/ctl' steering | grep -q '^rule id 8 .* count output 0$'"
check "... rule 7 is not there" sh -c "! '$C' switch --ctl '$T/ctl' steering | grep -q '^rule id 7'"
check_eq "nfchain switch add-group with 64 members and options (69 arguments)" \
	"group big added (64 members)" \
	"$("$C" switch --ctl "$T/ctl" add-group big $(for i in $(seq 64); do printf '0 '; done) track hold 4)"
check "... its line keeps all 64 and the options" \
	sh -c "'$C' switch --ctl '$T/ctl' steering | grep -q '^group big\( 0\)\{64\} track hold 4$'"
exit 0
