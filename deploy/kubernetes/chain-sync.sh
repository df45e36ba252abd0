#!/bin/bash
# chain-sync.sh - copy ServiceChain objects into etcd for `nfchain controller`.
#
# Runs as a sidecar of the controller Deployment (controller.yaml). Level
# triggered: every change kubectl's watch reports, and every RESYNC seconds,
# it lists all ServiceChains and makes /nfchain/specs/ match them:
#   * a ServiceChain's spec (JSON, which is YAML) is checked by the real
#     parser (`nfchain up -n`, what the CRD's schema cannot say: references
#     between keys, ranges of '20s', VNF configurations) and, if good,
#     written to PREFIX/specs/NAME (NAME: spec.name) when it differs;
#   * what it wrote before and whose ServiceChain is gone is deleted;
#     keys written by `nfchain cluster apply` are never touched (the sync
#     records its own under PREFIX/k8s/NAME = NAMESPACE/OBJECT);
#   * the outcome goes to the object's annotation nfchain.io/synced ("ok"
#     or the parser's sentence): `kubectl get sc` shows it.
# Two ServiceChains with one spec.name: the first (namespace/name order)
# wins, the other is annotated as a conflict; so is one whose key exists
# and is not the sync's.
#
# Environment: ETCD_ENDPOINTS (required), NFCHAIN_PREFIX (/nfchain),
# RESYNC (60), NFCHAIN (nfchain), KUBECTL (kubectl), ETCDCTL (etcdctl),
# TMPDIR (/tmp).
set -u
: "${ETCD_ENDPOINTS:?set ETCD_ENDPOINTS}"
PREFIX=${NFCHAIN_PREFIX:-/nfchain}
RESYNC=${RESYNC:-60}
NFCHAIN=${NFCHAIN:-nfchain}
KUBECTL=${KUBECTL:-kubectl}
ETCDCTL=${ETCDCTL:-etcdctl}
# read -t 0 would not wait: a pass after another, without end
case $RESYNC in
''|*[!0-9]*|0) echo "chain-sync: RESYNC=$RESYNC: expected a whole number of seconds, 1 or more" >&2
	exit 2 ;;
esac
W=$(mktemp -d "${TMPDIR:-/tmp}/chain-sync.XXXXXX") || exit 1
mkdir "$W/synced"
watch=
trap '[ -n "$watch" ] && kill $watch 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 0' INT TERM
export ETCDCTL_API=3

log() { echo "chain-sync: $*" >&2; }
etcd() { "$ETCDCTL" --endpoints="$ETCD_ENDPOINTS" "$@"; }
note() {	# NAMESPACE OBJECT TEXT: the annotation, when it differs from the last pass's
	[ "$(cat "$W/synced.old/$1.$2" 2>/dev/null)" = "$3" ] ||
		"$KUBECTL" -n "$1" annotate --overwrite servicechain "$2" "nfchain.io/synced=$3" \
			>/dev/null 2>&1 || { log "$1/$2: cannot annotate"; return 1; }
	# remembered only once it is set: else the next pass tries again
	echo "$3" >"$W/synced/$1.$2"
}

sync_once() {
	# One line per object: namespace, object name, spec.name, the spec as
	# JSON on one line (newlines inside strings are escaped).
	"$KUBECTL" get servicechains -A -o \
		'jsonpath={range .items[*]}{.metadata.namespace}{"\t"}{.metadata.name}{"\t"}{.spec.name}{"\t"}{.spec}{"\n"}{end}' \
		>"$W/list" 2>"$W/err" || { log "kubectl: $(cat "$W/err")"; return 1; }
	etcd get --prefix "$PREFIX/k8s/" >"$W/owned" 2>"$W/err" ||
		{ log "etcd: $(cat "$W/err")"; return 1; }
	sort -o "$W/list" "$W/list"
	: >"$W/seen"
	# Only the objects of this pass are remembered: one deleted and
	# created again has no annotation.
	rm -rf "$W/synced.old" && mv "$W/synced" "$W/synced.old" && mkdir "$W/synced"
	while IFS="$(printf '\t')" read -r ns obj name spec; do
		if grep -qxF "$name" "$W/seen"; then
			note "$ns" "$obj" "conflict: another ServiceChain has spec.name $name"
			continue
		fi
		echo "$name" >>"$W/seen"
		printf '%s\n' "$spec" >"$W/spec.json"
		if msg=$("$NFCHAIN" up -n "$W/spec.json" 2>&1 >/dev/null); then
			cur=$(etcd get --print-value-only "$PREFIX/specs/$name")
			msg=ok
			if [ -n "$cur" ] && ! grep -qxF "$PREFIX/k8s/$name" "$W/owned"; then
				msg="conflict: $PREFIX/specs/$name was not written by chain-sync"
			elif [ "$cur" != "$spec" ]; then
				# the claim first: a key of ours is never left unclaimed
				etcd put "$PREFIX/k8s/$name" "$ns/$obj" >/dev/null &&
					etcd put "$PREFIX/specs/$name" <"$W/spec.json" >/dev/null &&
					log "$ns/$obj: wrote $PREFIX/specs/$name"
			fi
		else
			# The parser names the scratch file: say the object instead.
			msg=$(printf '%s' "$msg" | sed "s|$W/spec.json|$ns/$obj|g; s/^nfchain: //" | head -1)
			log "$ns/$obj: refused: $msg"
		fi
		note "$ns" "$obj" "$msg"
	done <"$W/list"
	# Keys of ours whose ServiceChain is gone. etcdctl get prints key, value.
	sed -n "s|^$PREFIX/k8s/||p" "$W/owned" | while read -r name; do
		grep -qxF "$name" "$W/seen" && continue
		etcd del "$PREFIX/specs/$name" >/dev/null && etcd del "$PREFIX/k8s/$name" >/dev/null &&
			log "deleted $PREFIX/specs/$name (its ServiceChain is gone)"
	done
}

# The watch only says that something changed; each line starts a full pass
# (a burst of lines, one pass). It ends now and then (the API server closes
# watches): start it again.
while :; do
	exec 3< <("$KUBECTL" get servicechains -A --watch -o name 2>/dev/null)
	watch=$!
	sync_once
	while read -t "$RESYNC" -r -u 3 _ || [ $? -gt 128 ]; do
		sleep 1
		while read -t 0.1 -r -u 3 _; do :; done
		sync_once
	done
	kill $watch 2>/dev/null
	exec 3<&-
	sleep 2
done
