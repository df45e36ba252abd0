# switch_hold.sh - a steering group's hold queue through nfswitch (pcap
# ports, exact bytes; docs/STEERING.md "group ... hold N"): frames for a
# group with no member are held in order, past N counted steer-hold-full,
# longer than a slot steer-hold-big; a load that gives the group a member
# releases them in arrival order, unchanged; released frames that the new
# steering encapsulates and sends to another group with no member are held
# there and leave, encapsulated, when it gets one. The Python half:
# switch_hold.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
py_half switch_hold
exit 0
