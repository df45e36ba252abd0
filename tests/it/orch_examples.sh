# orch_examples.sh - every deployment in examples/ runs and carries traffic
# as it says: nfchain up -d, nf-gen on its memif ports, exact frame counts
# at the generator and at every replica, nfchain down, nothing left.
# RUNTIME=process (default) or runc.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
G="$BIN/nf-gen"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNTIME=${RUNTIME:-process}
export NFCHAIN_RUN_DIR=$T/run
san_to_files	# daemons' reports: their logs go with down

# The counters in status come from the last health probe (every 100 ms):
# read them 0.5 s after the traffic.
st() { sleep 0.5; "$C" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); r={'%s.%d'%(x['vnf'],x['replica']): x for x in d['replicas']}; print($1)"; }
upx() {	# upx EXAMPLE: up -d with the test's runtime
	sed "s/^runtime: runc/runtime: $RUNTIME/" "$ROOT/examples/$1.yaml" >"$T/$1.yaml"
	cleanup "'$C' down --name $1"
	check "$1: up" "$C" up -d "$T/$1.yaml"
}
downx() {
	check "$1: down" "$C" down
	check "$1: nothing left" none_left "$T/run/$1"
}
none_left() { [ ! -e "$1" ] && ! pgrep -f "$1" >/dev/null; }
send() {	# send NAME COUNT [nf-gen options]: 100 flows lan -> wan, 10k frames/s
	local n=$1 c=$2
	shift 2
	"$G" --tx "memif:$T/run/$n/memif.sock,id=0" --rx "memif:$T/run/$n/memif.sock,id=1" \
		--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --flows 100 --count "$c" --rate 10k \
		--drain 500ms --json "$@" >"$T/gen.json" 2>/dev/null
	jget "$T/gen.json" rx.packets
}

# A single router.
upx router
check_eq "router: 5000 frames through the router" 5000 "$(send router 5000)"
check_eq "router: the router received and sent 5000" "5000 5000" \
	"$(st "'%d %d' % (r['router.0']['rx_packets'], r['router.0']['tx_packets'])")"
downx router

# router -> NAT -> two firewall replicas.
upx router-nat-fw
check_eq "router-nat-fw: 5000 frames through the chain" 5000 "$(send rnf 5000)"
check_eq "router-nat-fw: router and NAT received and sent each frame" "5000 5000 5000 5000" \
	"$(st "'%d %d %d %d' % (r['router.0']['rx_packets'], r['router.0']['tx_packets'], r['nat.0']['rx_packets'], r['nat.0']['tx_packets'])")"
check_eq "router-nat-fw: the firewall replicas shared them" 5000 \
	"$(st "r['fw.0']['rx_packets'] + r['fw.1']['rx_packets']")"
check "router-nat-fw: both replicas had flows" test "$(st "min(r['fw.0']['rx_packets'], r['fw.1']['rx_packets'])")" -gt 500
downx rnf

# A chain of six routers.
upx routers6
check_eq "routers6: 5000 frames through six routers" 5000 "$(send routers6 5000 --rate 5k)"
check_eq "routers6: each router forwarded 5000" "[5000, 5000, 5000, 5000, 5000, 5000]" \
	"$(st "[r['r%d.0' % i]['tx_packets'] for i in range(1, 7)]")"
downx routers6

# The vCPE: each tenant's ToS bits choose the layers (fw, nat, mon).
upx vcpe
prev="0 0 0"
for tos in 0x01 0x03 0x07 0x00 0x05; do
	got=$("$G" --tx "memif:$T/run/vcpe/memif.sock,id=0" --rx "memif:$T/run/vcpe/memif.sock,id=1" \
		--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --flows 20 --count 1000 --rate 10k \
		--tos "$tos" --drain 500ms --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["rx"]["packets"])')
	check_eq "vcpe: tenant ToS $tos: 1000 frames out of the wan port" 1000 "$got"
	now=$(st "'%d %d %d' % (r['fw.0']['rx_packets'] + r['fw.1']['rx_packets'], r['nat.0']['rx_packets'], r['mon.0']['rx_packets'])")
	exp=$(python3 -c "
t = $tos; p = [int(x) for x in '$prev'.split()]
print(' '.join(str(p[i] + (1000 if t >> i & 1 else 0)) for i in range(3)))")
	check_eq "vcpe: tenant ToS $tos: visited exactly the layers of its bits (fw nat mon)" "$exp" "$now"
	prev=$now
done
# All four tenants at once from one generator: flow i is tenant i mod 4
# (ToS 0x01, 0x03, 0x07, 0x00), 250 frames each.
got=$("$G" --tx "memif:$T/run/vcpe/memif.sock,id=0" --rx "memif:$T/run/vcpe/memif.sock,id=1" \
	--src-ip 10.1.0.2 --dst-ip 203.0.113.2 --flows 40 --count 1000 --rate 10k \
	--tos 0x01,0x03,0x07,0x00 --drain 500ms --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["rx"]["packets"])')
check_eq "vcpe: four tenants at once: 1000 frames out" 1000 "$got"
now=$(st "'%d %d %d' % (r['fw.0']['rx_packets'] + r['fw.1']['rx_packets'], r['nat.0']['rx_packets'], r['mon.0']['rx_packets'])")
exp=$(python3 -c "p = [int(x) for x in '$prev'.split()]; print(p[0] + 750, p[1] + 500, p[2] + 250)")
check_eq "vcpe: four tenants at once: fw saw 3 tenants, nat 2, mon 1 (750 500 250 more)" "$exp" "$now"
downx vcpe
check "no sanitizer report from nfchain, nfswitch or a VNF" no_san
