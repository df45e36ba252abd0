# vnf_config.sh - the VNF configuration format and command line: strict
# validation with file, line, directive and the allowed range; check-only
# mode; one sentence and exit status 2 for every kind of mistake; runtime
# requests refused when they are not runtime changes. nf-router and
# nf-bridge share the framework, both are exercised.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
R="$BIN/nf-router"
B="$BIN/nf-bridge"

# bad NAME EXPECTED-SUBSTRING FILE-CONTENT [PROGRAM]: -n exits 2 with one
# line on stderr that contains the substring.
bad() {
	local name=$1 want=$2 prog=${4:-$R}
	case $want in :*) want="$name.conf$want" ;; esac
	printf '%s\n' "$3" >"$T/$name.conf"
	"$prog" -n -c "$T/$name.conf" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$T/err"; then
		ok "$name: $(cat "$T/err")"
	else
		not_ok "$name: exit $rc, $lines lines, wanted '$want': $(head -2 "$T/err" | tr '\n' '|')"
	fi
}
P="port a pcap:,$T/o.pcap"
bad unknown-directive ":2: colour: unknown directive (known: set, port, metrics, address, route, route-del, neighbor)" "$P
colour blue"
bad unknown-key ":2: set icmp-speed 5: unknown key (known: burst mode pool icmp-rate" "$P
set icmp-speed 5"
bad key-range ":2: set icmp-rate 5000000: expected 0..1000000" "$P
set icmp-rate 5000000"
bad key-enum ":2: set mode sometimes: expected busy or intr" "$P
set mode sometimes"
bad key-not-number ":2: set burst 12x: expected 1..256" "$P
set burst 12x"
bad port-spec ":1: port a vhost:/x: unknown port type 'vhost'" "port a vhost:/x"
bad port-option ":1: port a pcap:,$T/o.pcap speed 10: unknown port option 'speed' (mac, mtu)" "$P speed 10"
bad port-mtu ":1: port a pcap:,$T/o.pcap mtu 20: mtu 20: expected 68..9198" "$P mtu 20"
bad port-twice ":2: port a pcap:,$T/o2.pcap: port name 'a' is too long or already used" "$P
port a pcap:,$T/o2.pcap"
bad no-port ": no port (add: port NAME SPEC)" "set burst 64"
bad address-port ":2: address z 10.0.0.1/24: no port 'z'" "$P
address z 10.0.0.1/24"
bad address-len ":2: address a 10.0.0.1/32: the prefix length must leave room for hosts" "$P
address a 10.0.0.1/32"
bad address-bad ":2: address a 10.0.0.300/24: '10.0.0.300' is not an IPv4 or IPv6 address" "$P
address a 10.0.0.300/24"
bad route-hostbits ":3: route 10.1.2.3/16 via 10.0.0.2: 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)" "$P
address a 10.0.0.1/24
route 10.1.2.3/16 via 10.0.0.2"
bad route-gateway "line 3: gateway 10.9.9.9 is not on a connected network" "$P
address a 10.0.0.1/24
route 10.1.0.0/16 via 10.9.9.9"
bad route-family ":3: route 10.1.0.0/16 via fd00::1: gateway fd00::1 is not of the prefix's family" "$P
address a 10.0.0.1/24
route 10.1.0.0/16 via fd00::1"
bad route-syntax ":2: route 10.1.0.0/16 to 10.0.0.2: expected: route PREFIX via ADDRESS | dev PORT | reject | blackhole" "$P
route 10.1.0.0/16 to 10.0.0.2"
bad route-args ":2: route: usage: route PREFIX via ADDRESS | dev PORT | reject | blackhole" "$P
route"
bad neighbor-mac ":2: neighbor a 10.0.0.2 ff:ff:ff:ff:ff:ff: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address" "$P
neighbor a 10.0.0.2 ff:ff:ff:ff:ff:ff"
bad too-many-words ":2: a b c d e f g h i j k l m n o p q r s t u v w x: too many words" "$P
a b c d e f g h i j k l m n o p q r s t u v w x y z"
bad bridge-vlan ":2: vlan a access 5000: VLAN '5000': expected 1..4094" "$P
vlan a access 5000" "$B"
bad bridge-router-directive ":2: route: unknown directive (known: set, port, metrics, vlan)" "$P
route 10.0.0.0/8 dev a" "$B"
printf 'port a pcap:,%s\n# a comment\n\n   set icmp-rate 10   # trailing comment\naddress a 10.0.0.1/24\nroute 0.0.0.0/0 via 10.0.0.254\n' "$T/o.pcap" >"$T/good.conf"
check_eq "a good file with comments and blank lines checks" "configuration OK" "$("$R" -n -c "$T/good.conf" 2>&1)"
check "check-only mode created no output file" test ! -e "$T/o.pcap"

# The command line.
cl() {
	local d=$1 want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$want" "$T/err"; then
		ok "$d: $(cat "$T/err")"
	else
		not_ok "$d: exit $rc: $(head -2 "$T/err" | tr '\n' '|')"
	fi
}
cl "no -c" "a configuration file is needed" "$R"
cl "unknown option" "unknown option '--frobnicate'" "$R" --frobnicate
cl "missing value" "option '-c' needs a value" "$R" -c
cl "stray argument" "unexpected argument 'extra'" "$R" -c "$T/good.conf" extra
cl "bad --cpu" "--cpu 99999: expected 0..1023" "$R" -c "$T/good.conf" --cpu 99999
cl "missing file" "cannot open $T/none.conf" "$R" -c "$T/none.conf"
check "--help lists the directives and keys with ranges" sh -c \
	"'$R' --help | grep -q 'icmp-rate .*0..1000000, default 1000' && '$R' --help | grep -q 'route PREFIX via'"

# Runtime requests: refused unless runtime-capable.
printf 'port a memif:%s/a.sock,role=server mac 02:00:00:00:01:01\naddress a 10.0.0.1/24\n' "$T" >"$T/run.conf"
"$R" -q -c "$T/run.conf" --ctl "$T/r.ctl" >"$T/r.log" 2>&1 &
RT=$!
cleanup "kill $RT; wait $RT"
wait_for "$T/r.ctl" 5 || not_ok "nf-router starts"
rt_err() {
	local d=$1 want=$2; shift 2
	"$BIN/nfchain" vnf "$T/r.ctl" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$want" "$T/err"; then ok "$d: $(cat "$T/err")"
	else not_ok "$d: exit $rc: $(cat "$T/err")"; fi
}
rt_err "runtime: a port cannot be added" "not a runtime change" conf port b pcap:,x.pcap
rt_err "runtime: an address cannot be added" "not a runtime change" conf address a 10.5.0.1/24
rt_err "runtime: pool is not a runtime key" "this key cannot change while running" conf set pool 4096
rt_err "runtime: a bad route" "has host bits set" conf route 10.1.1.1/16 via 10.0.0.2
rt_err "runtime: deleting a missing route" "no route to 10.44.0.0/16" conf route-del 10.44.0.0/16
rt_err "runtime: an unknown request" "unknown request 'dance'" dance
check "runtime: icmp-rate is a runtime key" "$BIN/nfchain" vnf "$T/r.ctl" conf set icmp-rate 5
check "runtime: a good route" "$BIN/nfchain" vnf "$T/r.ctl" conf route 10.1.0.0/16 via 10.0.0.2
check "runtime: and it is listed" sh -c "'$BIN/nfchain' vnf '$T/r.ctl' routes | grep -q '10.1.0.0/16'"
check "runtime: route-del" "$BIN/nfchain" vnf "$T/r.ctl" conf route-del 10.1.0.0/16
check "stats as tables: the port line" sh -c \
	"'$BIN/nfchain' vnf '$T/r.ctl' stats | grep -Eq '^a +(up|down) +02:00:00:00:01:01 +1500 +0 +0  -$'"
check "stats as tables: the stages and the router's counters" sh -c \
	"'$BIN/nfchain' vnf '$T/r.ctl' stats | grep -Eq '^process +0 +0$' &&
	 '$BIN/nfchain' vnf '$T/r.ctl' stats | grep -Eq '^  routes4 +[0-9]+$'"
check "stats --json is JSON with the stages" sh -c \
	"'$BIN/nfchain' vnf '$T/r.ctl' --json stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"stages\"][\"post\"][\"in\"] == 0'"
check "--help lists the router's own requests" sh -c "'$R' --help | grep -q '^  neighbors '"
check "nf-router is still running" kill -0 "$RT"
exit 0
