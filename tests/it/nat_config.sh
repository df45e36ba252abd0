# nat_config.sh - nf-nat's configuration: every directive and key refused
# with file, line and the reason or allowed range (one line on stderr, exit
# status 2); the cross-checks (two ports, a pool or a static entry, static
# addresses outside the pool); -n says "configuration OK"; at run time the
# runtime keys change, the others are refused; the nat requests answer.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
N="$BIN/nf-nat"
PORTS="port a pcap:,$T/a.pcap;port b pcap:,$T/b.pcap"
SIDES="$PORTS;inside a;outside b"

# Cases: NAME | WANTED SUBSTRING OF THE MESSAGE | FILE (";" = new line).
# A wanted text starting with ":" is prefixed with NAME.conf.
while IFS='|' read -r name want text; do
	[ -z "$name" ] && continue
	case $want in :*) want="$name.conf$want" ;; esac
	printf '%s\n' "$text" | tr ';' '\n' >"$T/$name.conf"
	"$N" -n -c "$T/$name.conf" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$want" "$T/err" &&
		[ ! -s "$T/out" ]; then
		ok "$name: $(cat "$T/err")"
	else
		not_ok "$name: exit $rc, wanted '$want': $(head -2 "$T/err" | tr '\n' '|')"
	fi
done <<EOF
inside-no-port|:3: inside x: no port 'x' (declare it first: port NAME SPEC)|$PORTS;inside x
inside-twice|:4: inside b: the inside port is already a|$PORTS;inside a;inside b
next-hop-mac|:3: inside a next-hop ff:ff:ff:ff:ff:ff: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address|$PORTS;inside a next-hop ff:ff:ff:ff:ff:ff
next-hop-word|:3: inside a via 02:00:00:00:00:01: expected: inside PORT [next-hop MAC]|$PORTS;inside a via 02:00:00:00:00:01
next-hop-missing|:3: inside a next-hop: expected: inside PORT [next-hop MAC]|$PORTS;inside a next-hop
outside-args|:3: outside: usage: outside PORT [next-hop MAC]|$PORTS;outside
pool-address|:3: pool 10.2.0.300: '10.2.0.300' is not an IPv4 address|$PORTS;pool 10.2.0.300
pool-ipv6|:3: pool fd00::1: 'fd00::1' is not an IPv4 address|$PORTS;pool fd00::1
pool-backwards|:3: pool 10.2.0.5-10.2.0.1: 10.2.0.5-10.2.0.1: the last address is below the first|$PORTS;pool 10.2.0.5-10.2.0.1
pool-port-zero|:3: pool 10.2.0.1 ports 0-100: ports 0-100: expected LO-HI within 1..65535, LO <= HI|$PORTS;pool 10.2.0.1 ports 0-100
pool-port-high|:3: pool 10.2.0.1 ports 1024-65536: ports 1024-65536: expected LO-HI within 1..65535, LO <= HI|$PORTS;pool 10.2.0.1 ports 1024-65536
pool-ports-backwards|:3: pool 10.2.0.1 ports 2000-1000: ports 2000-1000: expected LO-HI within 1..65535, LO <= HI|$PORTS;pool 10.2.0.1 ports 2000-1000
pool-ports-word|:3: pool 10.2.0.1 port 1000-2000: expected: pool FIRST[-LAST] [ports LO-HI]|$PORTS;pool 10.2.0.1 port 1000-2000
pool-ports-nodash|:3: pool 10.2.0.1 ports 1000: expected: pool FIRST[-LAST] [ports LO-HI]|$PORTS;pool 10.2.0.1 ports 1000
pool-twice|:4: pool 10.2.0.0/30: 10.2.0.1 is already in the pool|$PORTS;pool 10.2.0.1;pool 10.2.0.0/30
pool-hostbits|:3: pool 10.2.0.1/24: 10.2.0.1/24 has host bits set (did you mean 10.2.0.0/24?)|$PORTS;pool 10.2.0.1/24
pool-too-big|:3: pool 10.0.0.0/16: at most 1024 pool addresses in all|$PORTS;pool 10.0.0.0/16
static-sizes|:3: static 10.1.0.0/24 10.2.0.0/25: 10.1.0.0/24 and 10.2.0.0/25 are not of the same size|$PORTS;static 10.1.0.0/24 10.2.0.0/25
static-overlap-in|:4: static 10.1.0.1 10.2.0.2: inside 10.1.0.1 overlaps the static entry of line 3|$PORTS;static 10.1.0.0/30 10.2.0.8/30;static 10.1.0.1 10.2.0.2
static-overlap-ext|:4: static 10.1.0.9 10.2.0.9: external 10.2.0.9 overlaps the static entry of line 3|$PORTS;static 10.1.0.0/30 10.2.0.8/30;static 10.1.0.9 10.2.0.9
static-range|:3: static 10.1.0.1-10.1.0.3 10.2.0.1-10.2.0.3: expected two addresses, or two prefixes|$PORTS;static 10.1.0.1-10.1.0.3 10.2.0.1-10.2.0.3
static-args|:3: static 10.1.0.1: usage: static INSIDE EXTERNAL (addresses or prefixes)|$PORTS;static 10.1.0.1
static-in-pool|: line 6: static external address 10.2.0.1 is in the pool|$SIDES;pool 10.2.0.1;static 10.1.0.1 10.2.0.1
same-port|: the inside and outside ports must differ|$PORTS;inside a;outside a;pool 10.2.0.1
no-outside|: no outside port (add: outside PORT)|$PORTS;inside a;pool 10.2.0.1
no-inside|: no inside port (add: inside PORT)|$PORTS;outside b;pool 10.2.0.1
nothing|: nothing to translate: add a pool or a static entry|$SIDES
three-ports|: nf-nat has two ports, inside and outside (3 declared)|$SIDES;port c pcap:,$T/c.pcap;pool 10.2.0.1
sessions-low|:5: set sessions 10: expected 16..16777216|$SIDES;set sessions 10
sessions-high|:5: set sessions 16777217: expected 16..16777216|$SIDES;set sessions 16777217
filtering|:5: set filtering open: expected endpoint-independent or address-dependent|$SIDES;set filtering open
udp-zero|:5: set udp 0: expected 1..1073741824|$SIDES;set udp 0
tcp-word|:5: set tcp-established 2h: expected 1..1073741824|$SIDES;set tcp-established 2h
hairpin|:5: set hairpin maybe: expected on or off|$SIDES;set hairpin maybe
unknown-key|:5: set timeout 5: unknown key (known: burst mode pool sessions filtering|$SIDES;set timeout 5
unknown-directive|:5: masquerade: unknown directive (known: set, port, metrics, inside, outside, pool, static)|$SIDES;masquerade
EOF

printf '%s\n' "$SIDES;# the pool" "pool 10.2.0.0/28 ports 1024-65535" "pool 192.0.2.1-192.0.2.3" \
	"static 10.1.0.0/24 10.9.0.0/24   # 1:1" "set filtering endpoint-independent" \
	"set udp 120" "set sessions 16" | tr ';' '\n' >"$T/good.conf"
check_eq "-n: a good file checks" "configuration OK" "$("$N" -n -c "$T/good.conf" 2>&1)"
check "-n: no port was opened (no output file)" test ! -e "$T/a.pcap"
check "--help: the directives, keys with RFC minimums, requests" sh -c \
	"'$N' --help | grep -q 'pool FIRST\[-LAST\]|PREFIX \[ports LO-HI\]' &&
	 '$N' --help | grep -q 'tcp-established .*RFC 5382: >= 7440' &&
	 '$N' --help | grep -q '^  sessions \[MAX\]' && '$N' --help | grep -q '^  mappings \[MAX\]'"

# At run time (pcap ports: nothing comes in).
"$N" -q -c "$T/good.conf" --ctl "$T/n.ctl" >"$T/n.log" 2>&1 &
NP=$!
cleanup "kill $NP; wait $NP"
wait_for "$T/n.ctl" 10 || not_ok "nf-nat starts: $(head -3 "$T/n.log" | tr '\n' '|')"
V() { "$BIN/nfchain" vnf "$T/n.ctl" "$@"; }
Vq() { V "$@" >/dev/null; }
rt_refused() {
	local d=$1 want=$2; shift 2
	V "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$want" "$T/err"; then ok "$d: $(cat "$T/err")"
	else not_ok "$d: exit $rc: $(cat "$T/err")"; fi
}
rt_refused "runtime: sessions is not a runtime key" "this key cannot change while running" \
	conf set sessions 100
rt_refused "runtime: no pool change" "not a runtime change" conf pool 10.3.0.1
rt_refused "runtime: no static change" "not a runtime change" conf static 10.1.1.1 10.3.0.1
rt_refused "runtime: a bad value" "expected 1..1073741824" conf set udp 0
rt_refused "runtime: sessions MAX checked" "sessions [MAX]: MAX 1..16777216" sessions 0
check "runtime: udp is a runtime key" Vq conf set udp 300
check "runtime: filtering is a runtime key" Vq conf set filtering address-dependent
check_eq "runtime: the stats show the table size and no session" "16 0 0" \
	"$(V --json stats | python3 -c 'import json,sys; d=json.load(sys.stdin)["nat"]
print(d["sessions_max"], d["sessions"], d["mappings"])')"
check_eq "runtime: sessions and mappings dumps, empty" "[] []" \
	"$(V --json sessions | python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"])') $(V --json mappings | python3 -c 'import json,sys; print(json.load(sys.stdin)["mappings"])')"
check "nf-nat is still running" kill -0 "$NP"
kill "$NP"
wait "$NP"
check_eq "nf-nat exits 0 on SIGTERM" 0 "$?"
exit 0
