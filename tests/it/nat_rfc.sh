# nat_rfc.sh - nf-nat conformance: RFC 4787 / 5382 / 5508 requirements,
# one check per requirement, exact frames out (tests/it/nat_rfc.py).
#
#     IN (h1) ---veth--- (r1) R: nf-nat (r2) ---veth--- (h2) OUT
#
# The hosts are raw sockets held by nat_rfc.py; it starts nf-nat in R with
# each configuration it needs (pool, port range, static) in turn.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

for n in h1 r h2; do netns _ns "$n"; done
python3 "$(dirname "$0")/nat_rfc.py" --bin "$BIN/nf-nat" --h1 "${NS_PREFIX}h1" \
	--r "${NS_PREFIX}r" --h2 "${NS_PREFIX}h2" --tmp "$T"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "nat_rfc.py exited with status $rc"
exit 0
