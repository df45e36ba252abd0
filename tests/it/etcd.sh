#!/usr/bin/env bash
# etcd.sh - nf_etcd, the etcd v3 client, against a real 3-member etcd
# cluster on 127.0.0.1 (ports 23790-23796), through tests/tools/etcd_cli.c;
# what it writes and reads is cross-checked with etcdctl. Kv, put-if,
# leases, watch, losing the member in use (requests and a running watch
# go on), compaction, no member at all, bad endpoint lists.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/etcd/lib.sh"
san_to_files

CLI=$TOOLS/etcd_cli
export ETCDCTL_API=3
etcd_cluster_start "$T/etcd" 3 23790 >/dev/null
check "a 3-member cluster starts and is healthy" [ -n "${ETCD_ENDPOINTS:-}" ]
[ -n "${ETCD_ENDPOINTS:-}" ] || exit 1
EP=$ETCD_ENDPOINTS
E0=$(etcd_endpoint 0) E1=$(etcd_endpoint 1) E2=$(etcd_endpoint 2)
cli() { "$CLI" -e "$EP" "$@"; }
ctl() { etcdctl --endpoints="$E1" "$@"; }
# ctl_rev ARGS...: the revision etcdctl's write got (-w json).
ctl_rev() { ctl -w json "$@" | grep -oE '"revision":[0-9]+' | head -1 | cut -d: -f2; }
check_eq "etcdctl sees 3 members" 3 "$(ctl member list | wc -l)"

# ---- put / get, exact values, cross-checked with etcdctl
out=$(cli put k1 "hello world")
rev=${out#rev }
check_eq "put: the store's revision, as etcdctl reads it" "$rev" \
	"$(ctl get k1 -w json | grep -oE '"mod_revision":[0-9]+' | cut -d: -f2)"
check_eq "etcdctl reads the value put" "hello world" "$(ctl get k1 --print-value-only)"
r2=$(ctl_rev put k2 "from etcdctl")
check_eq "get: a value etcdctl wrote, with its revisions" \
	"k2 from\x20etcdctl len=12 create=$r2 mod=$r2 ver=1 lease=0
rev $r2 count 1" "$(cli get k2)"
check_eq "get: a missing key: count 0" "rev $r2 count 0" "$(cli get nope)"
printf 'a\0b\377\001' >"$T/bin"
cli put bin - <"$T/bin" >/dev/null
check_eq "a value with a NUL and binary bytes: exact" 'bin a\x00b\xff\x01 len=5' \
	"$(cli get bin | head -1 | cut -d' ' -f1-3)"
ctl get bin --print-value-only | head -c 5 >"$T/bin.ctl"
check "... etcdctl reads the same 5 bytes" cmp -s "$T/bin" "$T/bin.ctl"
head -c 102400 /dev/urandom >"$T/big"
cli put big - <"$T/big" >/dev/null
cli get big --raw >"$T/big.got"
check "a 100 KB random value reads back the same" cmp -s "$T/big" "$T/big.got"
ctl get big --print-value-only | head -c 102400 >"$T/big.ctl"
check "... and etcdctl reads it the same" cmp -s "$T/big" "$T/big.ctl"

# ---- prefixes
for k in p/c p/a p0 p/b p/a/x po; do ctl put "$k" "v$k" >/dev/null; done
check_eq "get --prefix p/: its 4 keys, sorted, none of p0 or po" "p/a p/a/x p/b p/c" \
	"$(cli get p/ --prefix | head -4 | cut -d' ' -f1 | xargs)"
check_eq "... the values" "vp/a vp/a/x vp/b vp/c" \
	"$(cli get p/ --prefix | head -4 | cut -d' ' -f2 | xargs)"
check_eq "del --prefix p/: 4 deleted" "deleted 4" "$(cli del p/ --prefix)"
check_eq "... etcdctl: only p0 and po left of p*" "p0 po" \
	"$(ctl get p --prefix --keys-only | grep . | xargs)"
check_eq "del of a missing key: 0" "deleted 0" "$(cli del p/a)"

# ---- put-if (one transaction)
mod=$(ctl get k1 -w json | grep -oE '"mod_revision":[0-9]+' | cut -d: -f2)
check_eq "put-if at the key's mod revision: ok" ok "$(cli put-if k1 second "$mod")"
check_eq "... etcdctl reads the new value" second "$(ctl get k1 --print-value-only)"
out=$(cli put-if k1 third "$mod"); rc=$?
check_eq "put-if at an old mod revision: -ECANCELED (exit 1)" "canceled 1" "$out $rc"
check_eq "... the value is unchanged" second "$(ctl get k1 --print-value-only)"
check_eq "put-if 0 on a new key: ok" ok "$(cli put-if fresh v1 0)"
out=$(cli put-if fresh v2 0); rc=$?
check_eq "put-if 0 on an existing key: canceled" "canceled 1" "$out $rc"

# ---- leases: one kept alive, one left to expire (TTL 2), one revoked
L1=$(cli lease-grant 2 | cut -d' ' -f2)
L2=$(cli lease-grant 2 | cut -d' ' -f2)
L3=$(cli lease-grant 30 | cut -d' ' -f2)
cli put lk1 v --lease "$L1" >/dev/null
cli put lk2 v --lease "$L2" >/dev/null
cli put lk3 v --lease "$L3" >/dev/null
check_eq "a key's lease, as etcdctl reads it" "$L1" \
	"$(ctl get lk1 -w json | grep -oE '"lease":[0-9]+' | cut -d: -f2)"
check "get shows the lease" grep -q "lease=$L1\$" <(cli get lk1)
check_eq "revoke" revoked "$(cli revoke "$L3")"
check_eq "... its key is gone" "" "$(ctl get lk3)"
out=$(cli revoke 12345 2>&1); rc=$?
check "revoke of an unknown lease: exit 1, etcd's sentence" \
	grep -q "lease not found" <<<"$out $rc"
ka=0
for _ in $(seq 8); do
	cli keepalive "$L1" >/dev/null && ka=$((ka + 1))
	sleep 0.5
done
check_eq "8 keepalives over 4 s of a TTL 2 lease" 8 "$ka"
check_eq "... its key is still there" v "$(ctl get lk1 --print-value-only)"
check_eq "the lease not kept alive: its key is gone" "" "$(ctl get lk2 --print-value-only)"
out=$(cli keepalive "$L2"); rc=$?
check_eq "keepalive of an expired lease: -ENOENT (exit 1)" "expired 1" "$out $rc"
cli revoke "$L1" >/dev/null

# ---- watch: puts and deletes, in order, with their revisions
# wait_line FILE LINE: until FILE has LINE (10 s)
wait_line() { for _ in $(seq 200); do grep -qx "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
"$CLI" -e "$EP" watch w/ -c 3 -t 15 >"$T/w1" 2>"$T/w1.err" &
W=$!
cleanup "kill $W"
wait_line "$T/w1" watching
r1=$(ctl_rev put w/a 1)
ctl put x 1 >/dev/null
r2=$(ctl_rev put w/b "2 2")
r3=$(ctl_rev del w/a)
wait $W
check_eq "watch: put, put, delete under w/ (not x), then its end" "watching
put w/a 1 len=1 create=$r1 mod=$r1 ver=1 lease=0
put w/b 2\x202 len=3 create=$r2 mod=$r2 ver=1 lease=0
delete w/a mod=$r3
end events 3 reconnects 0" "$(cat "$T/w1")"
check_eq "watch from a past revision replays them" "$(sed -n 2,5p "$T/w1")" \
	"$(cli watch w/ "$r1" -c 3 | sed -n 2,5p)"
# One revision, several events: a revoked lease deletes its three keys at
# once (a regression: the watch used to keep only the first of them).
L4=$(cli lease-grant 30 | cut -d' ' -f2)
for k in 1 2 3; do cli put m/$k v --lease "$L4" >/dev/null; done
"$CLI" -e "$EP" watch m/ -c 3 -t 15 >"$T/w3" 2>"$T/w3.err" &
W=$!
cleanup "kill $W"
wait_line "$T/w3" watching
cli revoke "$L4" >/dev/null
wait $W
check_eq "watch: a lease revoked deletes its 3 keys in one revision: 3 events" \
	"delete m/1|delete m/2|delete m/3|end events 3 reconnects 0" \
	"$(sed -n '2,$p' "$T/w3" | sed 's/ mod=[0-9]*//' | paste -sd'|')"

# ---- the member in use dies: requests fail over, the watch goes on
"$CLI" -e "$EP" watch f/ -c 4 -t 20 >"$T/w2" 2>"$T/w2.err" &
W=$!
cleanup "kill $W"
wait_line "$T/w2" watching
etcdctl --endpoints="$E2" put f/1 one >/dev/null
for _ in $(seq 100); do grep -q '^put f/1 ' "$T/w2" && break; sleep 0.05; done
etcd_member_kill 0
# etcdctl does not retry a write lost in the election (member 0 led)
check "members 1 and 2 elect a leader" etcd_wait_healthy 1 2
etcdctl --endpoints="$E2" put f/2 two >/dev/null
etcdctl --endpoints="$E1" put f/3 three >/dev/null
out=$("$CLI" -s -e "$EP" put f/4 four 2>"$T/stats")
check "put with member 0 (the first endpoint) dead: succeeds" grep -q '^rev ' <<<"$out"
check_eq "... after one failover, one request, one write" \
	"stats writes 1 requests 1 failovers 1" "$(cat "$T/stats")"
check_eq "get with member 0 dead: the value" "f/4 four" "$(cli get f/4 | head -1 | cut -d' ' -f1-2)"
wait $W
check_eq "the watch running on member 0 delivers f/1..f/4 exactly once, in order" \
	"f/1 f/2 f/3 f/4" "$(grep '^put ' "$T/w2" | cut -d' ' -f2 | xargs)"
rc=$(sed -n 's/^end events 4 reconnects \([0-9]*\)$/\1/p' "$T/w2")
check "... after reconnecting (${rc:-none})" [ "${rc:-0}" -ge 1 ]
check "member 0 restarts on its data and is healthy" etcd_member_start 0
check_eq "... and has f/4" four "$(etcdctl --endpoints="$E0" get f/4 --print-value-only)"

# ---- compaction: a watch from before it gets -ESTALE
ctl put c/1 a >/dev/null
rc2=$(ctl_rev put c/2 b)
ctl compact "$rc2" >/dev/null
out=$(cli watch c/ $((rc2 - 1)) -c 1 -t 5 2>&1); rc=$?
check_eq "watch from a compacted revision: exit 1" 1 "$rc"
check "... saying it was compacted (-ESTALE)" grep -q "compacted" <<<"$out"
check_eq "watch from the compaction revision: its event" "put c/2 b" \
	"$(cli watch c/ "$rc2" -c 1 -t 5 | sed -n 2p | cut -d' ' -f1-3)"

# ---- a listener that never answers, then no member at all
python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 23796)); s.listen(8); print("up", flush=True); time.sleep(60)' >"$T/hole" &
HOLE=$!
cleanup "kill $HOLE"
wait_line "$T/hole" up
start=$(date +%s%N)
out=$("$CLI" -T 500 -e http://127.0.0.1:23796,"$E1" -s get k2 2>&1)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a silent member is given up after the timeout: the next answers" grep -q '^k2 ' <<<"$out"
check "... within the 500 ms timeout plus slack (${ms} ms)" [ "$ms" -lt 3000 ]
check "... counted as a failover" grep -q 'failovers 1$' <<<"$out"
start=$(date +%s%N)
out=$("$CLI" -T 500 -e http://127.0.0.1:23796 watch k -t 1 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "watch on a silent member only: exit 1, no endpoint answered" 1 "$rc"
check "... within the timeout (${ms} ms)" [ "$ms" -lt 3000 ]
etcd_cluster_stop
start=$(date +%s%N)
out=$("$CLI" -T 1000 -e "$EP" get k1 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "every member down: exit 1" 1 "$rc"
check "... 'no etcd endpoint answered'" grep -q "no etcd endpoint answered" <<<"$out"
check "... at once (refused, ${ms} ms)" [ "$ms" -lt 3000 ]
out=$("$CLI" -T 1000 -e "$EP" watch w/ -t 1 2>&1); rc=$?
check_eq "... a watch too: exit 1" 1 "$rc"

# ---- bad endpoint lists: -EINVAL with a sentence
for bad in "" foo "http://" "http://:1" "http://h:0" "http://h:65536" "http://h:x" \
	"http://a:1,,http://b:1" "http://a:1," "ftp://h:1" "http://h:1/path" "http://h 1"; do
	out=$("$CLI" -e "$bad" get k 2>&1); rc=$?
	check "bad endpoints '$bad': exit 1, Invalid argument" \
		grep -q "Invalid argument: .*endpoint" <<<"$out $rc"
done

check "no sanitizer report" no_san
exit $_failed
