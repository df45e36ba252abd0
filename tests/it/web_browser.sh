# web_browser.sh - the portal and the dashboard end to end in headless
# Chromium (tests/it/web_browser.py, selenium): an orchestrated vCPE
# (examples/vcpe-portal.yaml, runtime process) with two tenants by source
# prefix; sign in as alpha, add NAT, see the counters move, check with
# nf-gen and the replicas' and switch's counters that alpha's traffic now
# crosses NAT and bravo's did not change; alpha cannot reach bravo's data;
# sign-out; an expired session returns to sign-in; the operator's
# dashboard. SCREENSHOTS=1 writes docs/img/portal.png and dashboard.png.
# One flavour: a browser's round trips through the same web.c that
# web_http.sh and test_web check under ASan in the other (CI time).
# tests/run: once
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
export ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export NFCHAIN_RUN_DIR=$T/run BIN T
san_to_files
PORT=$((19000 + $$ % 1000))
sed -e "s/^runtime: runc/runtime: process/" -e "s/^name: vcpe-portal/name: webbrowser/" \
	-e "s|^http: .*|http: 127.0.0.1:$PORT|" -e "s|session-timeout: .*|session-timeout: 6s|" \
	-e "s|plots: .*|plots: $ROOT/docs/img/rfc2544|" \
	"$ROOT/examples/vcpe-portal.yaml" >"$T/p.yaml"
cleanup "'$C' down --name webbrowser"
check "up (two tenants, http: 127.0.0.1:$PORT)" "$C" up -d "$T/p.yaml"
# Debian's selenium (python3-selenium), not another python's
timeout 240 /usr/bin/python3 "$ROOT/tests/it/web_browser.py" "http://127.0.0.1:$PORT" \
	"$T/run" webbrowser || not_ok "web_browser.py ran to its end"
check "the agent still answers" sh -c "'$C' status --name webbrowser >/dev/null"
check "down" "$C" down --name webbrowser
check "no sanitizer report" no_san
exit $_failed
