# firewall_config.sh - nf-firewall's configuration and command line: every
# mistake in the configuration or in its rule file gives one sentence
# (file:line) and exit status 2; -n checks the rules too.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
F="$BIN/nf-firewall"

# bad NAME EXPECTED-SUBSTRING CONF [RULES]: -n exits 2 with one line on
# stderr that contains the substring.
bad() {
	local name=$1 want=$2
	printf '%s\n' "$3" >"$T/$name.conf"
	[ $# -ge 4 ] && printf '%s\n' "$4" >"$T/$name.rules"
	"$F" -n -c "$T/$name.conf" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$T/err"; then
		ok "$name: $(cat "$T/err")"
	else
		not_ok "$name: exit $rc, $lines lines, wanted '$want': $(head -2 "$T/err" | tr '\n' '|')"
	fi
}
P="port a pcap:,$T/a.pcap
port b pcap:,$T/b.pcap"

bad one-port "needs exactly two ports (it has 1)" "port a pcap:,$T/a.pcap"
bad three-ports "needs exactly two ports (it has 3)" "$P
port c pcap:,$T/c.pcap"
bad policy-value "set policy reject: expected accept or drop" "$P
set policy reject"
bad sessions-range "set sessions 8: expected 16..16777216" "$P
set sessions 8"
bad timeout-range "set udp-timeout 0: expected 1..2000000" "$P
set udp-timeout 0"
bad stateful-bool "set stateful maybe: expected on or off" "$P
set stateful maybe"
bad rules-missing "no-such.rules" "$P
rules no-such.rules"
bad rules-twice "a second rules file" "$P
rules x.rules
rules y.rules"
bad rules-args "rules: usage: rules FILE" "$P
rules"
bad rule-port "rule-port.rules:2: 'iifname \"c\"'" "$P
rules rule-port.rules" "tcp dport 22 accept
iifname \"c\" drop"
bad rule-range "rule-range.rules:1: 'tcp dport 70000'" "$P
rules rule-range.rules" "tcp dport 70000 accept"
bad rule-verb "rule-verb.rules:3:" "$P
rules rule-verb.rules" "# a comment

tcp dport 22 allow"

# Good configurations.
printf '%s\nrules good.rules\nset policy drop\nset udp-timeout 5\n' "$P" >"$T/good.conf"
printf 'ct state established,related accept\niifname a tcp dport { 22, 80 } accept\nudp dport 53 reject\ncounter drop\n' >"$T/good.rules"
check_eq "-n: a good configuration with rules" "configuration OK" "$("$F" -n -c "$T/good.conf" 2>&1)"
printf '%s\nset stateful off\n' "$P" >"$T/norules.conf"
check_eq "-n: no rules at all (the policy decides)" "configuration OK" \
	"$("$F" -n -c "$T/norules.conf" 2>&1)"
mkdir -p "$T/sub"
printf 'port a pcap:,%s/a.pcap\nport b pcap:,%s/b.pcap\nrules r\n' "$T" "$T" >"$T/sub/rel.conf"
echo "counter accept" >"$T/sub/r"
check_eq "a relative rules file is found beside the configuration" "configuration OK" \
	"$(cd / && "$F" -n -c "$T/sub/rel.conf" 2>&1)"
"$F" --help >"$T/help" 2>&1
check_eq "--help exits 0" 0 "$?"
check "--help lists the keys and the control requests" \
	grep -q "load-rules" "$T/help"
check "--help lists the rules directive" grep -q "rules FILE" "$T/help"
"$F" -c "$T/good.conf" --bogus >"$T/out" 2>&1
check_eq "an unknown option exits 2" 2 "$?"
exit 0
