# nat_linux.sh - differential test: nf-nat against Linux's nft masquerade.
# Two topologies, IN -- R -- OUT, R being Linux (routing + `oifname "r2"
# masquerade`) in one and nf-nat in the other; the same packet sequences
# through both (UDP, TCP, ICMP echo, ICMP errors from outside, refusals),
# compared frame by frame. The sequences, normalisations and explained
# differences are in tests/it/nat_diff.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

command -v nft >/dev/null || { not_ok "nft is installed (scripts/deps)"; exit 1; }
for n in h1a ra h2a h1b rb h2b; do netns _ns "$n"; done
P=$NS_PREFIX
python3 "$(dirname "$0")/nat_diff.py" --bin "$BIN/nf-nat" --tmp "$T" \
	--ns "${P}h1a,${P}ra,${P}h2a,${P}h1b,${P}rb,${P}h2b"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || not_ok "nat_diff.py exited with status $rc"
exit 0
