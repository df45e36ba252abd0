# switch_flowcache.sh - the steering flow cache is exact: one traffic mix
# (runs and interleaved flows, every field the key keeps or leaves out,
# every frame it must refuse, every kind of entry, two chains through one
# End.AD proxy, a runtime change) through nfswitch with --flow-cache on and
# off gives the same bytes on every port and the same counters; the cache
# answers most frames when on and none when off. A second configuration
# whose rules read only destinations: wide entries (one for every flow to
# a destination) change nothing either, a few serve 100 flows, and the
# hops that depend on the flow (a group's hash, an encapsulation's flow
# label) stay per flow; a rule on a port ends them. The Python half:
# switch_flowcache.py.
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
py_half switch_flowcache
exit 0
