# nat_limits.sh - nf-nat when the session table or the port pool runs out
# one check per requirement, exact frames out (tests/it/nat_limits.py).
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

for n in h1 r h2; do netns _ns "$n"; done
python3 "$(dirname "$0")/nat_limits.py" --bin "$BIN/nf-nat" --h1 "${NS_PREFIX}h1" \
	--r "${NS_PREFIX}r" --h2 "${NS_PREFIX}h2" --tmp "$T"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "nat_limits.py exited with status $rc"
exit 0
