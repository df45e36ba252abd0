# tests/it/etcd/lib.sh - an etcd cluster for the tests (sourced after
# tests/lib.sh, whose `cleanup` it uses).
#
#   etcd_cluster_start DIR N BASEPORT
#	N members e0..eN-1: client port BASEPORT+2*I, peer BASEPORT+2*I+1,
#	data in DIR/eI.data, log in DIR/eI.log; waits until every member is
#	healthy, sets ETCD_DIR and ETCD_ENDPOINTS ("http://IP:PORT,...") and
#	prints the endpoints. Call it plainly, not in $(...): the stop it
#	registers with `cleanup` would be lost in the subshell.
#	ETCD_IPS="10.99.0.11 10.99.0.12 ..."  member I binds to the Ith address
#	(default 127.0.0.1 for all); ETCD_NS="ns1 ns2 ..." member I runs in
#	the Ith network namespace (default: this one).
#   etcd_member_kill I [SIGNAL]   SIGKILL (or SIGNAL) member I, wait for it
#   etcd_wait_healthy I...        until members I... answer a quorum read
#				  (a leader is elected)
#   etcd_member_start I           start member I again (its data kept), wait
#				  until it is healthy
#   etcd_endpoint I               member I's client URL
#   etcd_cluster_stop [DIR]       kill every member
#
# Everything is kept in files under ETCD_DIR (eI.pid, eI.cmd), so the
# functions also work from a subshell once ETCD_DIR is set.

ETCD_WAIT_S=${ETCD_WAIT_S:-20}

_etcd_word() {	# _etcd_word I LIST DEFAULT: the Ith word of LIST, or DEFAULT
	local a
	read -r -a a <<<"$2"
	echo "${a[$1]:-$3}"
}

etcd_endpoint() {
	cat "$ETCD_DIR/e$1.url"
}

# _etcd_ctl I ARGS...: etcdctl against member I, from its namespace.
_etcd_ctl() {
	local i=$1 ns
	shift
	ns=$(cat "$ETCD_DIR/e$i.ns")
	${ns:+ip netns exec "$ns"} env ETCDCTL_API=3 etcdctl --dial-timeout=1s \
		--command-timeout=2s --endpoints="$(etcd_endpoint "$i")" "$@"
}

etcd_wait_healthy() {	# etcd_wait_healthy I...
	local i t end=$((SECONDS + ETCD_WAIT_S))
	for i in "$@"; do
		until _etcd_ctl "$i" endpoint health >/dev/null 2>&1; do
			if [ $SECONDS -ge $end ]; then
				echo "etcd member e$i not healthy after ${ETCD_WAIT_S}s; log:" >&2
				tail -5 "$ETCD_DIR/e$i.log" >&2
				return 1
			fi
			t=$(cat "$ETCD_DIR/e$i.pid")
			if ! kill -0 "$t" 2>/dev/null; then
				echo "etcd member e$i died; log:" >&2
				tail -5 "$ETCD_DIR/e$i.log" >&2
				return 1
			fi
			sleep 0.1
		done
	done
}

_etcd_spawn() {	# _etcd_spawn I: start member I from its eI.cmd
	local i=$1 ns
	ns=$(cat "$ETCD_DIR/e$i.ns")
	# shellcheck disable=SC2046
	${ns:+ip netns exec "$ns"} $(cat "$ETCD_DIR/e$i.cmd") >>"$ETCD_DIR/e$i.log" 2>&1 &
	echo $! >"$ETCD_DIR/e$i.pid"
	# no "Killed" notice from bash when a test kills it on purpose
	disown $!
}

etcd_cluster_start() {
	local dir=$1 n=$2 base=$3 i ip ns cluster="" eps=""
	mkdir -p "$dir" || return 1
	ETCD_DIR=$dir
	echo "$n" >"$dir/n"
	cleanup "etcd_cluster_stop $dir"
	for ((i = 0; i < n; i++)); do
		ip=$(_etcd_word "$i" "${ETCD_IPS:-}" 127.0.0.1)
		cluster+="${cluster:+,}e$i=http://$ip:$((base + 2 * i + 1))"
		eps+="${eps:+,}http://$ip:$((base + 2 * i))"
	done
	for ((i = 0; i < n; i++)); do
		ip=$(_etcd_word "$i" "${ETCD_IPS:-}" 127.0.0.1)
		ns=$(_etcd_word "$i" "${ETCD_NS:-}" "")
		echo "$ns" >"$dir/e$i.ns"
		echo "http://$ip:$((base + 2 * i))" >"$dir/e$i.url"
		# fast elections: members die on purpose in these tests
		echo "etcd --name e$i --data-dir $dir/e$i.data
			--listen-client-urls http://$ip:$((base + 2 * i))
			--advertise-client-urls http://$ip:$((base + 2 * i))
			--listen-peer-urls http://$ip:$((base + 2 * i + 1))
			--initial-advertise-peer-urls http://$ip:$((base + 2 * i + 1))
			--initial-cluster $cluster --initial-cluster-state new
			--initial-cluster-token nfchain-$base
			--heartbeat-interval 50 --election-timeout 500" >"$dir/e$i.cmd"
		_etcd_spawn "$i"
	done
	etcd_wait_healthy $(seq 0 $((n - 1))) || return 1
	ETCD_ENDPOINTS=$eps
	echo "$eps"
}

etcd_member_kill() {
	local pid
	pid=$(cat "$ETCD_DIR/e$1.pid")
	kill "-${2:-KILL}" "$pid" 2>/dev/null
	# not our child when started from a subshell: poll instead of wait
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	return 0
}

etcd_member_start() {
	_etcd_spawn "$1"
	etcd_wait_healthy "$1"
}

etcd_cluster_stop() {
	local dir=${1:-$ETCD_DIR} i pid
	[ -f "$dir/n" ] || return 0
	for ((i = 0; i < $(cat "$dir/n"); i++)); do
		pid=$(cat "$dir/e$i.pid" 2>/dev/null) || continue
		# not SIGTERM: a leader asked to stop tries to hand its
		# leadership over to members that are stopping too, for seconds
		kill -KILL "$pid" 2>/dev/null
	done
	for ((i = 0; i < $(cat "$dir/n"); i++)); do
		pid=$(cat "$dir/e$i.pid" 2>/dev/null) || continue
		while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
		rm -f "$dir/e$i.pid"
	done
	return 0
}
