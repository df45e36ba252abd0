# box.sh - one VNF replica as an OCI container run by runc
# (src/nfchain/box.c, `nfchain container run|rm`):
#
#   nf-gen --memif id 2--> nfswitch --id 0--> nf-router (container) --id 1-->
#   nfswitch --id 3--> nf-gen          (switch rules: in-port 2 -> 0, 1 -> 3)
#
# Every frame arrives (exact counts); the router's control socket answers
# through the bound directory; from the host, through /proc/PID of the
# contained process: its own mount, PID, IPC, UTS and network namespaces,
# no capabilities, seccomp filter mode, no new privileges, a read-only
# root, the cgroup limits asked for, a root file system holding only the
# program, its libraries (those ldd names) and the configuration. A probe
# (tests/tools/box_probe.c) run the same way shows what the filter and the
# read-only root refuse. nf-firewall runs contained too (its rules file
# copied in with --file, its reload thread). Then: SIGTERM stops a
# container cleanly (ASan's leak check runs inside), kill -9 of the VNF
# ends runc, kill -9 of runc and of the run command leaves a running
# container that `nfchain container rm` removes, and failures half-way (no
# such program, not an ELF program, a cpuset runc cannot apply, a
# configuration the VNF refuses, an id in use) leave nothing behind: no
# runc state, processes, namespaces, cgroups, bundle or socket.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

if ! command -v runc >/dev/null; then
	not_ok "runc is installed (scripts/deps installs it; apt-get install runc)"
	exit 1
fi
C=$BIN/nfchain
RR=/run/nfchain/runc	# NC_BOX_RUNC_ROOT
CPU=$(( $(nproc) > 1 ? 1 : 0 ))
ID=nfbox$$
# ASan / UBSan options for the VNF inside; not LSAN_OPTIONS, whose
# suppressions file is a host path.
SAN_ENV=()
[ -n "${ASAN_OPTIONS:-}" ] && SAN_ENV+=(--env "ASAN_OPTIONS=$ASAN_OPTIONS")
[ -n "${UBSAN_OPTIONS:-}" ] && SAN_ENV+=(--env "UBSAN_OPTIONS=$UBSAN_OPTIONS")

# left ID DIR: what is left of container ID with bundle DIR, one per line.
left() {
	runc --root "$RR" list -q 2>/dev/null | grep -x -- "$1" | sed 's/^/runc: /'
	[ -e "$RR/$1" ] && echo "runc state: $RR/$1"
	find /sys/fs/cgroup -maxdepth 8 -type d -name "nfchain-$1" 2>/dev/null | sed 's/^/cgroup: /'
	[ -e "$2" ] && echo "bundle: $2"
	pgrep -f -- "--bundle $2 $1" | sed 's/^/runc process: /'
}
# ns_of PID: its mnt, pid, ipc, uts and net namespaces, one per line.
ns_of() { for n in mnt pid ipc uts net; do readlink "/proc/$1/ns/$n"; done; }
# ns_left FILE: processes still in the five namespaces listed in FILE
# (all five: a namespace number alone may be reused at once).
ns_left() {
	local p want
	want=$(paste -sd ' ' "$1")
	for p in /proc/[0-9]*; do
		[ "$(ns_of "${p#/proc/}" 2>/dev/null | paste -sd ' ')" = "$want" ] &&
			echo "process ${p#/proc/} in the container's namespaces"
	done
}
quiet() { "$@" >/dev/null; }
# gone PID: no such process (or a zombie nobody reaped yet).
gone() { [ ! -d "/proc/$1" ] || awk '$1 == "State:" { exit $2 != "Z" }' "/proc/$1/status"; }
# state_pid ID: the contained process, once runc says "running" (5 s).
state_pid() {
	local i j
	for i in $(seq 100); do
		j=$(runc --root "$RR" state "$1" 2>/dev/null) &&
			python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["status"] == "running"
print(d["pid"])' "$j" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# ports_up CTL: both of a VNF's ports up (5 s).
ports_up() {
	local i
	for i in $(seq 100); do
		"$C" vnf "$1" --json stats 2>/dev/null | python3 -c 'import json, sys
p = json.load(sys.stdin)["ports"]
assert len(p) == 2 and all(x["up"] for x in p)' 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# run_bg NAME ID PROG CONF [OPTION...]: `nfchain container run` in the
# background, bundle $T/bNAME holding the control directory (the VNF's
# socket: $T/bNAME/ctl/v.ctl); its pid in $RUN, the VNF's in $PID.
# (Not in "$(...)": see spawn in tests/lib.sh.)
run_bg() {
	local name=$1 id=$2 prog=$3 conf=$4
	shift 4
	"$C" container run "$@" "${SAN_ENV[@]}" "$id" "$T/b$name" "$prog" "$conf" "$T/sw.sock" - \
		-- -q -c /etc/nfchain/vnf.conf --ctl /run/nfchain/ctl/v.ctl \
		>"$T/$name.out" 2>"$T/$name.err" &
	RUN=$!
	cleanup "kill $RUN; wait $RUN; '$C' container rm $id '$T/b$name'"
	PID=$(state_pid "$id")
}
# gen COUNT NAME: frames through the switch's ports 2 -> 3, JSON in
# $T/NAME.json. A long drain: a contained VNF on a busy machine may be
# throttled by its CPU quota for a while; late is not lost. On loss, the
# switch's ports are printed.
gen() {
	"$BIN/nf-gen" --tx "memif:$T/sw.sock,id=2" --rx "memif:$T/sw.sock,id=3" \
		--dst-mac 02:00:00:00:01:01 --src-ip 10.1.0.2 --dst-ip 10.20.1.2 --flows 4 \
		--count "$1" --rate 20k --drain 2s --json >"$T/$2.json" 2>"$T/$2.err"
	[ "$(jget "$T/$2.json" rx.lost)" = 0 ] || "$C" switch --ctl "$T/sw.ctl" ports
}

# --- usage errors, and failures before anything runs --------------------
"$C" container run a b >/dev/null 2>"$T/u.err"
check_eq "container run with too few arguments: exit 2" 2 $?
"$C" container run 'bad/id' "$T/x" "$BIN/nf-router" /dev/null /dev/null - >/dev/null 2>"$T/u.err"
check_eq "a bad container id: exit 1" "1 1" "$? $(grep -c 'container id' "$T/u.err")"
"$C" container run --mem 1Mi "${ID}u" "$T/x" "$BIN/nf-router" /dev/null /dev/null - \
	>/dev/null 2>"$T/u.err"
check_eq "a memory limit below 4 MiB: exit 1" "1 1" "$? $(grep -c 'memory limit' "$T/u.err")"
check_eq "container rm of nothing: exit 0 (idempotent)" 0 \
	"$("$C" container rm "${ID}none" "$T/none" >/dev/null 2>&1; echo $?)"
mkdir "$T/notbundle" && echo keep >"$T/notbundle/data"
"$C" container rm "${ID}nb" "$T/notbundle" 2>"$T/nb.err"
check_eq "container rm refuses a directory that is not a bundle (exit 1, file kept)" \
	"1 keep" "$? $(cat "$T/notbundle/data")"

# --- the switch ---------------------------------------------------------
"$BIN/nfswitch" -q -c "$T/sw.ctl" $(for i in 0 1 2 3; do echo "-p memif:$T/sw.sock,id=$i"; done) \
	>"$T/sw.log" 2>&1 &
SW=$!
cleanup "kill $SW; wait $SW"
wait_for "$T/sw.ctl" || not_ok "nfswitch starts"
"$C" switch --ctl "$T/sw.ctl" add-rule in-port 2 action output 0 >/dev/null &&
"$C" switch --ctl "$T/sw.ctl" add-rule in-port 1 action output 3 >/dev/null
check_eq "switch rules: generator -> VNF in, VNF out -> generator" 0 $?

"$C" container run "${ID}p" "$T/bp" "$BIN/no-such-program" /dev/null "$T/sw.sock" - \
	>/dev/null 2>"$T/p.err"
check_eq "no such program: exit 1 with a sentence" "1 1" "$? $(grep -c 'no-such-program' "$T/p.err")"
check_eq "... and nothing is left" "" "$(left "${ID}p" "$T/bp")"
printf '#!/bin/sh\necho hi\n' >"$T/script" && chmod +x "$T/script"
echo "# nothing" >"$T/empty.conf"
"$C" container run "${ID}s" "$T/bs" "$T/script" "$T/empty.conf" "$T/sw.sock" - >/dev/null 2>"$T/s.err"
check_eq "a program that is not an ELF file: exit 1" "1 1" "$? $(grep -c 'not a 64-bit ELF' "$T/s.err")"
check_eq "... and nothing is left" "" "$(left "${ID}s" "$T/bs")"
"$C" container run "${ID}k" "$T/bk" "$BIN/nf-router" "$T/empty.conf" "$T/none.sock" - \
	>/dev/null 2>"$T/k.err"
check_eq "a memif socket that does not exist: exit 1" "1 1" "$? $(grep -c 'not a socket' "$T/k.err")"

"$C" container run --cpus 4000 "${ID}c" "$T/bc" "$TOOLS/box_probe" "$T/empty.conf" "$T/sw.sock" - \
	>/dev/null 2>"$T/c.err"
check_eq "runc fails half-way (a cpuset of CPU 4000): exit 1, runc's sentence" "1 1" \
	"$? $(grep -c 'cpuset.cpus' "$T/c.err")"
check_eq "... and nothing is left" "" "$(left "${ID}c" "$T/bc")"

# --- nf-router in a container ------------------------------------------
cat >"$T/r.conf" <<EOF
port lan memif:/run/nfchain/sw.sock,id=0 mac 02:00:00:00:01:01
port wan memif:/run/nfchain/sw.sock,id=1 mac 02:00:00:00:01:02
address lan 10.1.0.1/24
address wan 10.2.0.1/24
neighbor wan 10.2.0.2 02:00:00:00:0b:02
route 10.20.0.0/16 via 10.2.0.2
set mode intr
EOF
A=${ID}a
mkdir "$T/ctlA"
"$C" container run --cpu-milli 500 --mem 256Mi --cpus "$CPU" "${SAN_ENV[@]}" \
	"$A" "$T/bA" "$BIN/nf-router" "$T/r.conf" "$T/sw.sock" "$T/ctlA" \
	-- -q -c /etc/nfchain/vnf.conf --ctl /run/nfchain/ctl/r.ctl --cpu "$CPU" \
	>"$T/a.out" 2>"$T/a.err" &
RUNA=$!
cleanup "kill $RUNA; wait $RUNA; '$C' container rm $A '$T/bA'"
PA=$(state_pid "$A")
check "runc runs container $A (pid ${PA:-none})" test -n "$PA"
wait_for "$T/ctlA/r.ctl" 5
check "the router's control socket appears in the bound directory" test -S "$T/ctlA/r.ctl"
check "both router ports connect to the switch through the bound socket" ports_up "$T/ctlA/r.ctl"

gen 10000 g1
check_eq "10000 frames through the contained router: all arrive" "10000 10000 0" \
	"$(jget "$T/g1.json" tx.packets) $(jget "$T/g1.json" rx.packets) $(jget "$T/g1.json" rx.lost)"
"$C" vnf "$T/ctlA/r.ctl" --json stats >"$T/a.stats"
check_eq "nfchain vnf CTL stats through the bound directory: 10000 frames in and out" \
	"10000 10000" "$(python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))["stages"]
print(st["pre"]["in"], st["post"]["out"])' "$T/a.stats")"
check "a runtime route change through the control socket" \
	quiet "$C" vnf "$T/ctlA/r.ctl" conf route 10.30.0.0/16 via 10.2.0.2

if [ -n "$PA" ]; then
	ns_of "$PA" >"$T/nsA"
	for n in mnt pid ipc uts net; do
		check "$n namespace: the container's own" \
			test "$(readlink "/proc/$PA/ns/$n")" != "$(readlink "/proc/$$/ns/$n")"
	done
	check_eq "user namespace: the host's (none asked for; root inside has no capabilities)" \
		"$(readlink /proc/$$/ns/user)" "$(readlink "/proc/$PA/ns/user")"
	check_eq "the VNF is PID 1 of its PID namespace" 1 \
		"$(awk '/^NSpid:/ { print $NF }' "/proc/$PA/status")"
	for k in CapInh CapPrm CapEff CapBnd CapAmb; do
		check_eq "$k: no capability" 0000000000000000 \
			"$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$PA/status")"
	done
	check_eq "Seccomp: 2 (filter), one filter" "2 1" \
		"$(awk '$1 == "Seccomp:" || $1 == "Seccomp_filters:" { printf "%s ", $2 }' \
		"/proc/$PA/status" | sed 's/ $//')"
	check_eq "NoNewPrivs: 1" 1 "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$PA/status")"
	check_eq "uid 0 inside (no user namespace, no capabilities)" 0 \
		"$(awk '$1 == "Uid:" { print $3 }' "/proc/$PA/status")"
	check_eq "/ is mounted read-only" ro \
		"$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$PA/mountinfo")"
	check_eq "the mounts: /, /proc, /dev, the socket (ro) and the control directory (rw)" \
		"/ ro|/dev rw|/proc rw|/run/nfchain/ctl rw|/run/nfchain/sw.sock ro" \
		"$(awk '$5 == "/" || $5 == "/dev" || $5 == "/proc" || $5 ~ /^\/run\// {
			split($6, o, ","); print $5, o[1] }' "/proc/$PA/mountinfo" | sort -u |
			paste -sd '|')"
	check_eq "memory cgroup: memory.limit_in_bytes is 256 MiB" 268435456 \
		"$(cg_value "$PA" memory memory.limit_in_bytes)"
	[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] &&
		check_eq "memory cgroup: no swap beyond it" 268435456 \
			"$(cg_value "$PA" memory memory.memsw.limit_in_bytes)"
	check_eq "cpu cgroup: 500 thousandths of a core (quota / period)" "50000 100000" \
		"$(cg_value "$PA" cpu cpu.cfs_quota_us) $(cg_value "$PA" cpu cpu.cfs_period_us)"
	check_eq "cpuset cgroup: CPU $CPU" "$CPU" "$(cg_value "$PA" cpuset cpuset.cpus)"
	check_eq "pids cgroup: at most 64 tasks" 64 "$(cg_value "$PA" pids pids.max)"
	check_eq "the VNF runs pinned to CPU $CPU (--cpu inside the cpuset)" "$CPU" \
		"$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$PA/status")"

	# What the container sees: the program, its libraries (as ldd finds
	# them), the configuration, the socket and the control socket.
	{
		echo "r /bin/nf-router"
		echo "r /etc/nfchain/vnf.conf"
		echo "s /run/nfchain/sw.sock"
		echo "s /run/nfchain/ctl/r.ctl"
		ldd "$BIN/nf-router" | awk '$2 == "=>" { n = split($1, a, "/"); print "r /lib/" a[n] }
			$1 ~ /^\// { print "r " $1 }'
	} | sort >"$T/want"
	# stat(1) sees what is mounted on a path (find's type may be the
	# directory entry's: the mount point under the socket)
	(cd "/proc/$PA/root" && { find . -xdev ! -type d; find ./run ! -type d; } | sort -u |
		while read -r f; do echo "$(stat -c %F "$f" | cut -c1) ${f#.}"; done) |
		sort >"$T/got"
	check_eq "the root file system holds only the program, its libraries, the config, the sockets" \
		"" "$(diff "$T/want" "$T/got")"
	check_eq "the host's files are not there (/etc/passwd, /usr)" "" \
		"$(ls -d "/proc/$PA/root/etc/passwd" "/proc/$PA/root/usr" 2>/dev/null)"
	(grep '^r ' "$T/want"; echo "r /run/nfchain/sw.sock") | sort >"$T/want.bundle"
	(cd "$T/bA/rootfs" && find . -type f -printf 'r %p\n' | sed 's| \./| /|' | sort) \
		>"$T/got.bundle"
	check_eq "the bundle's rootfs: the same files and the socket's mount point" "" \
		"$(diff "$T/want.bundle" "$T/got.bundle")"
fi

# SIGTERM to the run command: forwarded to the VNF, which exits 0 (in
# the ASan build after the leak check, which needs ptrace inside).
kill -TERM "$RUNA"
wait "$RUNA"
check_eq "SIGTERM: the VNF exits 0 and so does container run" 0 $?
check_eq "... nothing is left (runc, cgroups, bundle, processes)" "" "$(left "$A" "$T/bA")"
check_eq "... no namespace of it is left" "" "$(ns_left "$T/nsA")"
check_eq "... the VNF removed its control socket" "" "$(ls "$T/ctlA")"
check "... and its process is gone" gone "${PA:-0}"

# --- kill -9 of the VNF: runc ends, the run command cleans up -----------
B=${ID}b
run_bg B "$B" "$BIN/nf-router" "$T/r.conf" --mem 256Mi
RUNB=$RUN PB=$PID
check "container $B runs (pid ${PB:-none}); its control directory is in the bundle" \
	ports_up "$T/bB/ctl/v.ctl"
[ -n "$PB" ] && ns_of "$PB" >"$T/nsB"
kill -9 "${PB:-0}"
wait "$RUNB"
check_eq "kill -9 of the VNF: runc and container run exit 137" 137 $?
check_eq "... nothing is left, the stale control socket neither" "" "$(left "$B" "$T/bB")"
check_eq "... no namespace of it is left" "" "$(ns_left "$T/nsB")"

# --- the orchestrator dies: kill -9 of the run command and of runc -------
D=${ID}d
run_bg D "$D" "$BIN/nf-router" "$T/r.conf"
RUND=$RUN PD=$PID
check "container $D runs (pid ${PD:-none})" ports_up "$T/bD/ctl/v.ctl"
[ -n "$PD" ] && ns_of "$PD" >"$T/nsD"
kill -9 "$RUND" $(pgrep -f -- "--bundle $T/bD $D")
wait "$RUND" 2>/dev/null
check "... the VNF outlives them" kill -0 "${PD:-0}"
"$C" container rm "$D" "$T/bD"
check_eq "container rm: exit 0" 0 $?
check_eq "... nothing is left" "" "$(left "$D" "$T/bD")"
check "... the VNF is gone" gone "${PD:-0}"
check_eq "... no namespace of it is left" "" "$(ns_left "$T/nsD")"
check_eq "container rm again: exit 0" 0 "$("$C" container rm "$D" "$T/bD"; echo $?)"

# --- a configuration the VNF refuses: it exits at once -----------------
echo "port lan nosuchtype:x" >"$T/bad.conf"
E=${ID}e
"$C" container run "${SAN_ENV[@]}" "$E" "$T/bE" "$BIN/nf-router" "$T/bad.conf" "$T/sw.sock" - \
	-- -q -c /etc/nfchain/vnf.conf >"$T/e.out" 2>"$T/e.err"
check_eq "a configuration the VNF refuses: container run exits with its status 2" 2 $?
check "... the VNF's sentence is on stderr" grep -q 'nosuchtype' "$T/e.err"
check_eq "... nothing is left" "" "$(left "$E" "$T/bE")"

# --- an id in use is refused, and the running container is untouched ----
F=${ID}f
run_bg F "$F" "$BIN/nf-router" "$T/r.conf"
RUNF=$RUN PF=$PID
"$C" container run "$F" "$T/bF2" "$BIN/nf-router" "$T/r.conf" "$T/sw.sock" - >/dev/null 2>"$T/f2.err"
check_eq "a second container with the same id: exit 1 (exists)" "1 1" \
	"$? $(grep -c 'exists' "$T/f2.err")"
check "... the first one still runs" kill -0 "${PF:-0}"
check_eq "... no second bundle" "" "$(ls -d "$T/bF2" 2>/dev/null)"
kill -TERM "$RUNF"
wait "$RUNF"
check_eq "... which then stops cleanly" "0 " "$? $(left "$F" "$T/bF")"

# --- what the filter and the read-only root refuse ----------------------
"$C" container run "${SAN_ENV[@]}" "${ID}q" "$T/bQ" "$TOOLS/box_probe" "$T/r.conf" \
	"$T/sw.sock" - >"$T/probe.out" 2>"$T/probe.err"
check_eq "the probe ran in a container and exited 0" 0 $?
check_eq "the probe: what may and may not be done inside" \
	"pid 1|socket-unix ok|memfd_create ok|socket-inet EPERM|socket-netlink EPERM|unshare-user EPERM|clone-newuser EPERM|clone3 ENOSYS|mount EPERM|sethostname EPERM|keyctl EPERM|bpf EPERM|io_uring_setup EPERM|write-root EROFS|write-conf EACCES|write-proc-sys EROFS|write-ctl ok|unlink-ctl ok" \
	"$(paste -sd '|' "$T/probe.out")"
check_eq "... nothing is left" "" "$(left "${ID}q" "$T/bQ")"

# --- nf-firewall in a container: a rules file, the reload thread ---------
printf '%s\n' 'ct state established,related accept' 'ct state invalid drop' \
	'iifname fin udp dport 1024 accept' 'counter drop' >"$T/fw.rules"
cat >"$T/fw.conf" <<EOF
port fin memif:/run/nfchain/sw.sock,id=0
port fout memif:/run/nfchain/sw.sock,id=1
rules fw.rules
set policy drop
set sessions 4096
set mode intr
EOF
G=${ID}g
run_bg G "$G" "$BIN/nf-firewall" "$T/fw.conf" --mem 256Mi --cpu-milli 1000 --file "$T/fw.rules"
RUNG=$RUN
check "container $G (nf-firewall) runs" ports_up "$T/bG/ctl/v.ctl"
check "the rules file copied with --file is read-only inside: load-rules (the builder thread)" \
	quiet "$C" vnf "$T/bG/ctl/v.ctl" load-rules
gen 10000 g2
check_eq "10000 frames through the contained firewall: all arrive" "10000 0" \
	"$(jget "$T/g2.json" rx.packets) $(jget "$T/g2.json" rx.lost)"
check_eq "the firewall tracked the 4 flows" 4 "$("$C" vnf "$T/bG/ctl/v.ctl" --json conntrack |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["count"])')"
kill -TERM "$RUNG"
wait "$RUNG"
check_eq "SIGTERM: nf-firewall exits 0" 0 $?
check_eq "... nothing is left" "" "$(left "$G" "$T/bG")"
exit 0
