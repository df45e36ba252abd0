# cni.sh - nfchain-cni, the CNI plugin, run as a runtime runs it (CNI_*
# environment variables, the network configuration on stdin, the result on
# stdout) against network namespaces, with a real nfswitch and Debian's
# host-local IPAM and bridge plugins: two pods get memif ports and
# addresses, frames cross the switch between them (exact counts), CHECK
# passes, and after a switch restart reports the lost port until ADD again
# re-adds it; DEL removes ports, records and leases, and succeeds for what
# was never added, twice, and with the switch gone; 10 concurrent ADDs get
# 10 distinct ids; two ports and a pod's port file (a valid VNF
# configuration); chaining after the bridge plugin (prevResult); bad
# configurations and environments get the spec's error result with the
# right code and sentence, never a crash.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
NS_PREFIX="cni$$"
CNIP=/usr/lib/cni
P="$BIN/nfchain-cni"
S="$BIN/nfswitch"
C="$BIN/nfchain"
R=$(mktemp -d /tmp/cni-run.XXXXXX)
cleanup "rm -rf $R"
CTL=$R/sw.ctl
SOCK=$R/memif.sock
san_to_files
[ -x "$CNIP/host-local" ] || not_ok "Debian's containernetworking-plugins are installed ($CNIP)"

# The network configuration: mkconf FILE [KEY=JSON | KEY=-]... over the
# base (KEY=- removes a key).
mkconf() {
	python3 - "$@" <<EOF
import json, sys
d = {"cniVersion": "1.0.0", "name": "cninet", "type": "nfchain-cni",
     "switch_ctl": "$CTL", "memif_socket": "$SOCK", "state_dir": "$R/state",
     "ipam": {"type": "host-local", "subnet": "10.77.0.0/24", "dataDir": "$R/ipam"}}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    if v == "-": d.pop(k, None)
    else: d[k] = json.loads(v)
json.dump(d, open(sys.argv[1], "w"))
EOF
}
# cni CMD CID IFNAME NETNS CONF [VAR=VALUE...]: run the plugin; an empty
# CID, IFNAME or NETNS leaves that variable unset. $rc its exit status,
# $T/out its stdout, $T/err its stderr.
cni() {
	local cmd=$1 cid=$2 ifn=$3 ns=$4 conf=$5 e=()
	shift 5
	[ -n "$cmd" ] && e+=("CNI_COMMAND=$cmd")
	[ -n "$cid" ] && e+=("CNI_CONTAINERID=$cid")
	[ -n "$ifn" ] && e+=("CNI_IFNAME=$ifn")
	[ -n "$ns" ] && e+=("CNI_NETNS=$ns")
	env -u CNI_COMMAND -u CNI_CONTAINERID -u CNI_IFNAME -u CNI_NETNS -u CNI_ARGS \
		CNI_PATH="$CNIP" "${e[@]}" "$@" "$P" <"$conf" >"$T/out" 2>"$T/err"
	rc=$?
}
# py EXPR [FILE]: a Python expression over d, the JSON of FILE ($T/out).
py() { python3 -c 'import json, sys, ipaddress
d = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "${2:-$T/out}"; }
# expect_error "what" CODE MSG: the last run failed with this error result.
expect_error() {
	local got
	got=$(py '"%s|%s|%s" % (d["cniVersion"], d["code"], d["msg"])' 2>/dev/null)
	if [ "$rc" = 1 ] && [ "$got" = "${4:-1.0.0}|$2|$3" ]; then
		ok "$1: error $2 '$3'"
	else
		not_ok "$1: want exit 1, error $2 '$3'; got exit $rc, '$got' $(head -c 300 "$T/out")"
	fi
}
# ports_named PATTERN: the switch's port names matching PATTERN, sorted.
ports_named() {
	"$C" switch --ctl "$CTL" ports | awk -v p="$1" 'NR > 1 && $2 ~ p { print $2 }' | sort | tr '\n' ' '
}
start_switch() {
	"$S" -q -m intr -c "$CTL" >>"$R/switch.log" 2>&1 &
	SW=$!
	cleanup "kill $SW 2>/dev/null; wait $SW 2>/dev/null"
	local i
	for ((i = 0; i < 200; i++)); do
		"$C" switch --ctl "$CTL" ports >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	not_ok "nfswitch answers on $CTL"
}
# port_field NAME FIELD: a field of the switch's port NAME (ports --json).
port_field() {
	python3 - "$CTL" "$1" "$2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"ports\n")
b = b""
while True:
    x = s.recv(65536)
    if not x: break
    b += x
for p in json.loads(b)["ports"]:
    if p["name"] == sys.argv[2]: print(p[sys.argv[3]])
EOF
}
wait_port_up() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(port_field "$1" up)" = True ] && return 0
		sleep 0.05
	done
	return 1
}

start_switch
mkconf "$R/net.json"
netns NSA a && netns NSB b || not_ok "namespaces"

# --- VERSION ---
echo '{"cniVersion": "0.4.0"}' >"$R/v.json"
cni VERSION "" "" "" "$R/v.json"
check_eq "VERSION: the versions supported, in the asked version" \
	"0 0.4.0 0.3.0 0.3.1 0.4.0 1.0.0" "$rc $(py '" ".join([d["cniVersion"]] + d["supportedVersions"])')"

check "--help lists every key" sh -c "'$P' --help | grep -c '^  [a-zA-Z_]* *\(string\|path\|name\|integer\|boolean\|object\|array\) ' | grep -qx 17"
"$P" extra >"$T/out" 2>"$T/err"
check_eq "an argument: exit 2, one line on stderr, nothing on stdout" "2 1 0" \
	"$? $(wc -l <"$T/err") $(wc -c <"$T/out")"

# --- the older versions: the result in the configuration's version ---
for v in 0.3.0 0.3.1 0.4.0; do
	mkconf "$R/v.json" cniVersion="\"$v\"" \
		ipam="{\"type\": \"host-local\", \"subnet\": \"10.79.0.0/24\", \"dataDir\": \"$R/ipamv\"}"
	cni ADD "podv$v" net1 "/run/netns/$NSA" "$R/v.json"
	check_eq "ADD with cniVersion $v: the result in $v (host-local's ips with their version field)" \
		"0 $v net1/data 4 0" \
		"$rc $(py '" ".join(map(str, [d["cniVersion"], d["interfaces"][0]["name"], d["ips"][0]["version"], d["ips"][0]["interface"]]))')"
	if [ $v = 0.4.0 ]; then
		cni CHECK "podv$v" net1 "/run/netns/$NSA" "$R/v.json"
		check_eq "CHECK with cniVersion 0.4.0: exit 0" 0 "$rc"
	fi
	cni DEL "podv$v" net1 "/run/netns/$NSA" "$R/v.json"
	check_eq "DEL with cniVersion $v: exit 0, port gone" "0 " "$rc $(ports_named '^cni-podv')"
done

# --- ADD two pods ---
cni ADD poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
cp "$T/out" "$R/a.json"
check_eq "ADD pod a: exit 0, nothing on stderr" "0 " "$rc $(cat "$T/err")"
cni ADD podb0000000000002 net1 "/run/netns/$NSB" "$R/net.json"
cp "$T/out" "$R/b.json"
check_eq "ADD pod b: exit 0" 0 "$rc"
# The result as the spec says: cniVersion; one interface (name, mac,
# sandbox, socketPath) with our memif block; an address from host-local on it.
python3 - "$R/a.json" "/run/netns/$NSA" "$R/b.json" "/run/netns/$NSB" "$SOCK" <<'EOF'
import ipaddress, json, sys
def check(what, want, got):
    print(("ok - %s" % what) if want == got else
          ("not ok - %s (expected %r, got %r)" % (what, want, got)))
sock = sys.argv[5]
for x, f, ns in (("a", sys.argv[1], sys.argv[2]), ("b", sys.argv[3], sys.argv[4])):
    d = json.load(open(f))
    i = d["interfaces"]
    check("pod %s: the result's version, interface, sandbox, socket" % x,
          ["1.0.0", 1, "net1/data", ns, sock, "client"],
          [d["cniVersion"], len(i), i[0]["name"], i[0]["sandbox"], i[0]["socketPath"], i[0]["memif"]["role"]])
    m = i[0]["memif"]["id"]
    check("pod %s: the MAC is 02:6e:63:00 and the memif id" % x,
          "02:6e:63:00:%02x:%02x" % (m >> 8, m & 255), i[0]["mac"])
    ip = d["ips"]
    check("pod %s: one address from host-local in 10.77.0.0/24 on interface 0, gateway 10.77.0.1" % x,
          [1, True, "/24", 0, "10.77.0.1", []],
          [len(ip), ipaddress.ip_interface(ip[0]["address"]) in ipaddress.ip_network("10.77.0.0/24"),
           ip[0]["address"][-3:], ip[0]["interface"], ip[0]["gateway"], d["routes"]])
EOF
IDA=$(py 'd["interfaces"][0]["memif"]["id"]' "$R/a.json")
IDB=$(py 'd["interfaces"][0]["memif"]["id"]' "$R/b.json")
MACA=$(py 'd["interfaces"][0]["mac"]' "$R/a.json")
MACB=$(py 'd["interfaces"][0]["mac"]' "$R/b.json")
IPA=$(py 'd["ips"][0]["address"].split("/")[0]' "$R/a.json")
IPB=$(py 'd["ips"][0]["address"].split("/")[0]' "$R/b.json")
check_eq "distinct memif ids (the first of the default range 4096..), distinct addresses" \
	"4096 4097 10.77.0.2 10.77.0.3" "$IDA $IDB $IPA $IPB"
check_eq "the switch has both ports, named cni-CID12-IFNAME" \
	"cni-poda00000000-net1 cni-podb00000000-net1 " "$(ports_named '^cni-')"
check_eq "the switch's port spec is the memif socket and id" "memif:$SOCK,id=$IDB" \
	"$(port_field cni-podb00000000-net1 spec)"
check "host-local recorded the leases" test -e "$R/ipam/cninet/$IPA" -a -e "$R/ipam/cninet/$IPB"

# --- traffic: each pod's side is an nf-gen memif client in its namespace ---
ip netns exec "$NSB" "$BIN/nf-gen" --rx "memif:$SOCK,id=$IDB" --count 5000 --wait 20s --intr \
	--duration 40 --json >"$T/rx.json" 2>"$T/rx.err" &
RX=$!
cleanup "kill $RX 2>/dev/null"
check "pod b's memif port comes up on the switch" wait_port_up cni-podb00000000-net1
ip netns exec "$NSA" "$BIN/nf-gen" --tx "memif:$SOCK,id=$IDA" --count 5000 --rate 5k \
	--src-mac "$MACA" --dst-mac "$MACB" --src-ip "$IPA" --dst-ip "$IPB" --wait 20s \
	--json >"$T/tx.json" 2>"$T/tx.err"
check_eq "pod a sent 5000 frames" "0 5000" "$? $(jget "$T/tx.json" tx.packets)"
wait $RX
check_eq "pod b received exactly 5000, none lost" "0 5000 0" \
	"$? $(jget "$T/rx.json" rx.packets) $(jget "$T/rx.json" rx.lost)"
check_eq "the switch counted 5000 in on a's port, 5000 out on b's" "5000 5000" \
	"$(port_field cni-poda00000000-net1 rx_packets) $(port_field cni-podb00000000-net1 tx_packets)"

# --- CHECK ---
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "CHECK pod a: exit 0, no output" "0 " "$rc $(cat "$T/out")"
# As a runtime does: the cached result as prevResult.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["prevResult"] = json.load(open(sys.argv[2]))
json.dump(d, open(sys.argv[3], "w"))' "$R/net.json" "$R/a.json" "$R/check-a.json"
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/check-a.json"
check_eq "CHECK with the ADD result as prevResult: exit 0" 0 "$rc"
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/check-a.json" CNI_CONTAINERID=podb0000000000002
expect_error "CHECK pod b with pod a's result as prevResult" 102 "prevResult lacks interface net1/data (mac $MACB)"
cni CHECK podz net1 "/run/netns/$NSA" "$R/net.json"
expect_error "CHECK of a container never added" 3 "container podz has no interface net1 on network cninet"
mkconf "$R/v031.json" cniVersion='"0.3.1"'
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/v031.json"
expect_error "CHECK with cniVersion 0.3.1" 1 "CHECK needs cniVersion 0.4.0 or later, not 0.3.1" 0.3.1

# --- a repeated ADD: the same result, nothing new ---
cni ADD poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "ADD pod a again: exit 0, the same result" "0 True" \
	"$rc $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])))' "$T/out" "$R/a.json")"
check_eq "... and no new port or lease" "cni-poda00000000-net1 cni-podb00000000-net1  2" \
	"$(ports_named '^cni-') $(ls "$R/ipam/cninet" | grep -c '^10\.')"

# --- the switch restarts: CHECK reports the lost port; ADD again re-adds
# it, and the pod's memif client (connected all along) reconnects ---
ip netns exec "$NSB" "$BIN/nf-gen" --rx "memif:$SOCK,id=$IDB" --count 1000 --wait 30s --intr \
	--duration 60 --json >"$T/rx2.json" 2>"$T/rx2.err" &
RX2=$!
cleanup "kill $RX2 2>/dev/null"
check "pod b's receiver is connected before the restart" wait_port_up cni-podb00000000-net1
kill "$SW"; wait "$SW" 2>/dev/null
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "CHECK with the switch stopped: error 11 (try again later)" "1 11" "$rc $(py 'd["code"]')"
start_switch
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
expect_error "CHECK after the switch restarted (a new plugin process reads the records)" 102 \
	"the switch has no port cni-poda00000000-net1 (memif id $IDA): it restarted? ADD again re-adds it"
cni ADD poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "recovery: ADD again gives the recorded result (same id, same address)" "0 True" \
	"$rc $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])))' "$T/out" "$R/a.json")"
check_eq "... and the port is back with the same spec" "memif:$SOCK,id=$IDA" \
	"$(port_field cni-poda00000000-net1 spec)"
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "CHECK passes again" 0 "$rc"
cni ADD podb0000000000002 net1 "/run/netns/$NSB" "$R/net.json"
check_eq "the same recovery for pod b: its port is back" "0 cni-poda00000000-net1 cni-podb00000000-net1 " \
	"$rc $(ports_named '^cni-')"
check "pod b's memif client reconnected by itself" wait_port_up cni-podb00000000-net1
ip netns exec "$NSA" "$BIN/nf-gen" --tx "memif:$SOCK,id=$IDA" --count 1000 --rate 5k \
	--src-mac "$MACA" --dst-mac "$MACB" --wait 20s --json >"$T/tx2.json" 2>"$T/tx2.err"
wait $RX2
check_eq "after the recovery: 1000 frames from pod a, all 1000 at pod b's receiver that lived through the restart" \
	"0 1000 1000 0" "$? $(jget "$T/tx2.json" tx.packets) $(jget "$T/rx2.json" rx.packets) $(jget "$T/rx2.json" rx.lost)"

# --- DEL ---
cni DEL poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "DEL pod a: exit 0, no output" "0 " "$rc $(cat "$T/out")"
check_eq "its port is gone, b's stays" "cni-podb00000000-net1 " "$(ports_named '^cni-')"
check "its lease is gone, b's stays" test ! -e "$R/ipam/cninet/$IPA" -a -e "$R/ipam/cninet/$IPB"
check "its record is gone" test ! -e "$R/state/cninet/poda0000000000001@net1"
cni DEL poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "DEL pod a twice: exit 0" 0 "$rc"
cni DEL nosuchcontainer eth7 "" "$R/net.json"
check_eq "DEL of a container never added (no CNI_NETNS): exit 0, no output" "0 " "$rc $(cat "$T/out")"
cni CHECK poda0000000000001 net1 "/run/netns/$NSA" "$R/net.json"
check_eq "CHECK after DEL: error 3" "1 3" "$rc $(py 'd["code"]')"

# --- 10 concurrent ADDs, then 10 concurrent DELs ---
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	cni_one() {
		env CNI_COMMAND=ADD CNI_CONTAINERID=conc$1 CNI_IFNAME=net1 CNI_NETNS="/run/netns/$NSA" \
			CNI_PATH="$CNIP" "$P" <"$R/net.json" >"$R/conc$1.json" 2>"$R/conc$1.err"
		echo $? >"$R/conc$1.rc"
	}
	cni_one $i &
	pids+=($!)
done
wait "${pids[@]}"
check_eq "10 concurrent ADDs: all exit 0" "0000000000" "$(cat "$R"/conc?.rc | tr -d '\n')"
check_eq "10 distinct memif ids, 10 distinct addresses, none of b's" "10 10 False False" \
	"$(python3 -c 'import json, sys
r = [json.load(open(f)) for f in sys.argv[3:]]
ids = {x["interfaces"][0]["memif"]["id"] for x in r}
ips = {x["ips"][0]["address"] for x in r}
print(len(ids), len(ips), int(sys.argv[1]) in ids, sys.argv[2] + "/24" in ips)' "$IDB" "$IPB" "$R"/conc?.json)"
check_eq "the switch has the 10 ports" 10 "$(ports_named '^cni-conc' | wc -w)"
check_eq "10 records, each a JSON object with its id" 10 \
	"$(python3 -c 'import json, glob, sys
n = 0
for f in glob.glob(sys.argv[1] + "/conc*@net1"):
    d = json.load(open(f)); n += d["ports"][0]["id"] >= 4096 and "result" in d
print(n)' "$R/state/cninet")"
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	env CNI_COMMAND=DEL CNI_CONTAINERID=conc$i CNI_IFNAME=net1 CNI_PATH="$CNIP" "$P" \
		<"$R/net.json" >/dev/null 2>&1 &
	pids+=($!)
done
rcs=""
for p in "${pids[@]}"; do wait "$p"; rcs+=$?; done
check_eq "10 concurrent DELs: all exit 0" "0000000000" "$rcs"
check_eq "... no conc port, record or lease left" "0 0 1" \
	"$(ports_named '^cni-conc' | wc -w) $(ls "$R/state/cninet" | grep -c conc) $(ls "$R/ipam/cninet" | grep -c '^10\.')"

# --- a damaged record: ADD of it refused, other ADDs go on, DEL removes it ---
echo '{"network": "cninet", "ports": [' >"$R/state/cninet/podj@net1"
cni ADD podj net1 "/run/netns/$NSA" "$R/net.json"
check_eq "ADD over a damaged record: error 5" "1 5" "$rc $(py 'd["code"]')"

# --- two ports and the pod's port file ---
mkconf "$R/two.json" ports='["in", "out"]' port_file_dir="\"$R/pods\""
cni ADD podc0000000000003 net2 "/run/netns/$NSA" "$R/two.json"
check_eq "ADD with two ports: interfaces net2/in, net2/out, ids 4096 4098" "0 net2/in net2/out 4096 4098" \
	"$rc $(py '" ".join(str(x) for i in d["interfaces"] for x in (i["name"],)) + " " + " ".join(str(i["memif"]["id"]) for i in d["interfaces"])')"
check_eq "... two switch ports" "cni-podc00000000-net2-in cni-podc00000000-net2-out " \
	"$(ports_named '^cni-podc')"
IPC=$(py 'd["ips"][0]["address"]')
printf '# nfchain-cni: network cninet, container podc0000000000003, interface net2\n# address %s\nport in memif:%s,id=4096 mac 02:6e:63:00:10:00\nport out memif:%s,id=4098 mac 02:6e:63:00:10:02\n' \
	"$IPC" "$SOCK" "$SOCK" >"$T/want.conf"
check "the pod's port file holds its VNF port lines" diff "$T/want.conf" "$R/pods/podc0000000000003/net2.conf"
check_eq "a VNF takes the port file as its configuration" "configuration OK" \
	"$("$BIN/nf-bridge" -n -c "$R/pods/podc0000000000003/net2.conf" 2>&1)"
cni DEL podj net1 "" "$R/net.json"
check_eq "DEL of the damaged record: exit 0, the record is gone" "0 no" \
	"$rc $(test -e "$R/state/cninet/podj@net1" && echo yes || echo no)"
cni DEL podc0000000000003 net2 "" "$R/two.json"
check_eq "DEL: both ports and the port file gone" "0  0" \
	"$rc $(ports_named '^cni-podc') $(ls "$R/pods" | wc -l)"

# --- chaining: the bridge plugin gives the pod a kernel interface for
# control traffic, then nfchain-cni its memif port (prevResult) ---
BR="cnibr$$"
FWD=$(sysctl -n net.ipv4.ip_forward)
cleanup "ip link del $BR; sysctl -qw net.ipv4.ip_forward=$FWD"
python3 - "$R" "$CTL" "$SOCK" "$BR" <<'EOF'
import json, sys
r, ctl, sock, br = sys.argv[1:]
conflist = {"cniVersion": "1.0.0", "name": "cnichain", "plugins": [
    {"type": "bridge", "bridge": br, "isGateway": False, "ipMasq": False,
     "ipam": {"type": "host-local", "subnet": "10.78.0.0/24", "dataDir": r + "/ipam"}},
    {"type": "nfchain-cni", "switch_ctl": ctl, "memif_socket": sock, "state_dir": r + "/state"}]}
json.dump(conflist, open(r + "/chain.conflist", "w"), indent=2)
EOF
# chain CMD CID NETNS: run the conflist's plugins as a runtime does (ADD in
# order, each with the previous result; DEL in reverse order; CHECK in
# order with the final result). $rc: the first failure's status.
chain() {
	python3 - "$1" "$2" "$3" "$R/chain.conflist" "$CNIP" "$(dirname "$P")" "$R/chain-result.json" <<'EOF'
import json, os, subprocess, sys
cmd, cid, ns, path, cnip, mine, cache = sys.argv[1:]
cl = json.load(open(path))
env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid, CNI_NETNS=ns,
           CNI_IFNAME="eth0", CNI_PATH=cnip)
plugins = cl["plugins"] if cmd != "DEL" else list(reversed(cl["plugins"]))
prev = json.load(open(cache)) if cmd != "ADD" and os.path.exists(cache) else None
for p in plugins:
    conf = dict(p, cniVersion=cl["cniVersion"], name=cl["name"])
    if prev is not None:
        conf["prevResult"] = prev
    exe = os.path.join(mine if p["type"] == "nfchain-cni" else cnip, p["type"])
    r = subprocess.run([exe], input=json.dumps(conf).encode(), env=env, capture_output=True)
    if r.returncode != 0:
        sys.stdout.write(p["type"] + ": " + r.stdout.decode()); sys.exit(1)
    if cmd == "ADD":
        prev = json.loads(r.stdout)
if cmd == "ADD":
    json.dump(prev, open(cache, "w"))
    print(json.dumps(prev))
EOF
	rc=$?
}
chain ADD podd0000000000004 "/run/netns/$NSB" >"$T/out"
check_eq "chain ADD (bridge, then nfchain-cni): exit 0" 0 "$rc"
check_eq "the final result: bridge's interfaces, then our memif port; bridge's address on the pod's eth0" \
	"$BR eth0 eth0/data True 2 /run/netns/$NSB" \
	"$(py '" ".join(map(str, [d["interfaces"][0]["name"], d["interfaces"][2]["name"], d["interfaces"][3]["name"], d["interfaces"][3]["memif"]["id"] > 0, d["ips"][0]["interface"], d["interfaces"][3]["sandbox"]]))')"
check_eq "the pod's namespace has eth0 with bridge's address (control traffic)" \
	"$(py 'd["ips"][0]["address"]')" \
	"$(ip -n "$NSB" -4 -o addr show dev eth0 | awk '{ print $4 }')"
check_eq "and nfswitch has its memif port" "cni-podd00000000-eth0 " "$(ports_named '^cni-podd')"
chain CHECK podd0000000000004 "/run/netns/$NSB" >"$T/out"
check_eq "chain CHECK with the cached result: exit 0" 0 "$rc$(cat "$T/out")"
chain DEL podd0000000000004 "/run/netns/$NSB" >"$T/out"
check_eq "chain DEL: exit 0, the port and the pod's eth0 are gone" "0  no eth0" \
	"$rc $(ports_named '^cni-podd') $(ip -n "$NSB" link show eth0 >/dev/null 2>&1 || echo no eth0)"

# --- bad configurations and environments: the error result, never a crash ---
# One Python run: each case is a configuration (the base with keys changed
# or removed, or a raw text) and an environment; the plugin must exit 1
# with exactly this error result (cniVersion, code, msg).
python3 - "$P" "$R/net.json" "/run/netns/$NSA" "$CNIP" "$R" "$NS_PREFIX" "$IDB" "$SOCK" <<'EOF'
import json, os, subprocess, sys
P, basef, ns, cnip, R, nsp, idb, sock = sys.argv[1:]
base = json.load(open(basef))
def w(**kv):
    d = dict(base)
    for k, v in kv.items():
        if v is None: d.pop(k, None)
        else: d[k] = v
    return json.dumps(d)
B = json.dumps(base)
# Our environment (the sanitizers' options) without its CNI_ variables.
env0 = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
env0.update({"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "podx", "CNI_IFNAME": "net1",
        "CNI_NETNS": ns, "CNI_PATH": cnip})
cases = [
    ("empty stdin", "", {}, 6, "stdin holds no network configuration"),
    ("invalid JSON", '{"cniVersion":', {}, 6, "the network configuration is not JSON: unexpected end at byte 14"),
    ("JSON, not an object", "[1, 2]", {}, 6, "the network configuration is a JSON array, not an object"),
    ("text after the object", "{} x", {}, 6, "the network configuration has text after its JSON object (byte 3)"),
    ("unsupported cniVersion", w(cniVersion="2.0.0"), {}, 1, "cniVersion '2.0.0' is not supported"),
    ("cniVersion a number", w(cniVersion=1), {}, 7, "cniVersion: a string is expected, not int"),
    ("no cniVersion", w(cniVersion=None), {}, 7, "cniVersion: missing"),
    ("missing switch_ctl", w(switch_ctl=None), {}, 7, "switch_ctl: missing (the node's nfswitch control socket (nfswitch -c))"),
    ("missing name", w(name=None), {}, 7, "name: missing (the network's name: [A-Za-z0-9_.-])"),
    ("unknown key", w(bridge="br0"), {}, 2, "unknown key 'bridge' (nfchain-cni --help lists them)"),
    ("id_min a string", w(id_min="5"), {}, 7, "id_min: an integer is expected, not string"),
    ("id_max out of range", w(id_max=70000), {}, 7, "id_max: '70000' is not from 0 to 65535"),
    ("id_max below id_min", w(id_min=20, id_max=10), {}, 7, "id_max: 10 is below id_min 20"),
    ("three ports", w(ports=["a", "b", "c"]), {}, 7, "ports: 3 names, 1 or 2 are expected"),
    ("ports not an array", w(ports="a"), {}, 7, "ports: an array of names is expected, not string"),
    ("a port named twice", w(ports=["a", "a"]), {}, 7, "ports: 'a' is named twice"),
    ("a port name with a blank", w(ports=["a", "b c"]), {}, 7, "ports[1]: a name of 1..15 bytes of A-Z a-z 0-9 _ . - is expected"),
    ("a relative memif socket", w(memif_socket="x.sock"), {}, 7, "memif_socket: 'x.sock' is not an absolute path without blanks or commas"),
    ("a memif socket with a comma", w(memif_socket="/tmp/a,id=3"), {}, 7, "memif_socket: '/tmp/a,id=3' is not an absolute path without blanks or commas"),
    ("a network name with a slash", w(name="../x"), {}, 7, "name: '../x' has a byte other than A-Z a-z 0-9 _ . -"),
    ("ipam without type", w(ipam={"subnet": "10.0.0.0/8"}), {}, 7, "ipam.type: missing (the IPAM plugin's name)"),
    ("ipam an array", w(ipam=[]), {}, 7, "ipam: an object is expected, not array"),
    ("prevResult a string", w(prevResult="x"), {}, 7, "prevResult: an object is expected, not string"),
    ("no CNI_COMMAND", B, {"CNI_COMMAND": None}, 4, "CNI_COMMAND is not set (ADD, DEL, CHECK or VERSION)"),
    ("unknown CNI_COMMAND", B, {"CNI_COMMAND": "FROB"}, 4, "unknown CNI_COMMAND 'FROB' (ADD, DEL, CHECK or VERSION)"),
    ("ADD without CNI_CONTAINERID", B, {"CNI_CONTAINERID": None}, 4, "CNI_CONTAINERID is not set"),
    ("ADD without CNI_NETNS", B, {"CNI_NETNS": None}, 4, "CNI_NETNS is not set"),
    ("DEL without CNI_IFNAME", B, {"CNI_COMMAND": "DEL", "CNI_IFNAME": None}, 4, "CNI_IFNAME is not set"),
    ("CNI_IFNAME with a slash", B, {"CNI_IFNAME": "a/b"}, 4, "CNI_IFNAME 'a/b' is not 1..15 bytes of A-Z a-z 0-9 _ . -"),
    ("CNI_ARGS not K=V", B, {"CNI_ARGS": "IgnoreUnknown=1;junk"}, 4, "CNI_ARGS 'IgnoreUnknown=1;junk' is not K=V pairs separated by ';'"),
    ("ADD with a CNI_NETNS that does not exist", B, {"CNI_NETNS": "/run/netns/%snone" % nsp}, 3, "CNI_NETNS /run/netns/%snone: No such file or directory" % nsp),
    ("an IPAM plugin not in CNI_PATH", w(ipam={"type": "nosuch"}), {}, 103, "IPAM plugin 'nosuch' not found in CNI_PATH (%s)" % cnip),
    ("IPAM without CNI_PATH", B, {"CNI_PATH": None}, 4, "CNI_PATH is not set: the IPAM plugin 'host-local' cannot be found"),
    ("host-local refuses its configuration: its error passed on", w(ipam={"type": "host-local", "subnet": "nonsense", "dataDir": R + "/ipam"}), {}, 999, "IPAM plugin host-local: invalid CIDR address: nonsense"),
    ("switch_ctl where no switch answers", w(switch_ctl=R + "/none.ctl"), {}, 11, "the switch does not answer on %s/none.ctl: No such file or directory" % R),
    ("no free memif id", w(id_min=int(idb), id_max=int(idb)), {}, 101, "no free memif id from %s to %s on %s" % (idb, idb, sock)),
]
for what, text, env, code, msg in cases:
    e = dict(env0)
    for k, v in env.items():
        if v is None: e.pop(k, None)
        else: e[k] = v
    r = subprocess.run([P], input=text.encode(), env=e, capture_output=True)
    try:
        d = json.loads(r.stdout)
        got = (r.returncode, d["cniVersion"], d["code"], d["msg"])
    except Exception as x:
        got = (r.returncode, "no error result: %r %r" % (r.stdout[:200], r.stderr[:200]))
    if got == (1, "1.0.0", code, msg):
        print("ok - %s: error %d '%s'" % (what, code, msg))
    else:
        print("not ok - %s: want exit 1, error %d '%s'; got %r" % (what, code, msg, got))
EOF
check_eq "the failed ADDs left no port, record or lease of podx" " 0 0" \
	"$(ports_named '^cni-podx') $(ls "$R/state/cninet" | grep -c podx) $(grep -rl podx "$R/ipam" | wc -l)"
check "the sanitizers found nothing" no_san

# --- the switch gone: DEL still succeeds and releases the lease ---
kill "$SW"; wait "$SW" 2>/dev/null
cni DEL podb0000000000002 net1 "/run/netns/$NSB" "$R/net.json"
check_eq "DEL pod b with the switch gone: exit 0" 0 "$rc"
check "its lease and record are gone" test ! -e "$R/ipam/cninet/$IPB" -a ! -e "$R/state/cninet/podb0000000000002@net1"
check_eq "nothing left in the state directory but its lock" "lock" "$(ls "$R/state")"
check "the sanitizers found nothing" no_san
exit $_failed
