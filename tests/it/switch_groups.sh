# switch_groups.sh - consistent, symmetric replica selection through
# nfswitch, measured (docs/STEERING.md "group"): a group of 4 members on
# pcap ports, 1000 crafted flows (UDP and TCP over IPv4, UDP over IPv6)
# both ways; each flow's member recorded; both directions of every flow on
# the same member; `del-member g 2` moves exactly member 2's flows (count
# printed, 0 others); `set-member` it back moves only flows to it; every
# member within 20% of the fair share. The Python half: switch_groups.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
py_half switch_groups
exit 0
