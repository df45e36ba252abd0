# orch_runc.sh - tests/it/orch_up.sh with every replica a runc container
# (runtime: runc): the same checks, and no container left at the end.
# tests/run: asan
RUNTIME=runc
. "$(dirname "$0")/orch_up.sh"
