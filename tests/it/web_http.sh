# web_http.sh - the agent's dashboard and tenant portal over HTTP, with
# curl: every bad request gets its exact status (malformed forms, a
# missing or wrong CSRF token, a foreign Origin, oversized bodies, unknown
# tenants, expired sessions, wrong methods, path traversal), injection in
# every field is never reflected raw, a tenant reaches only its own data,
# a service change is one live steering change that leaves the other
# tenant's rules as they were; the agent stays up throughout (SAN build:
# no report).
# tests/run: asan
. "$(dirname "$0")/../lib.sh"

C="$BIN/nfchain"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export NFCHAIN_RUN_DIR=$T/run
san_to_files
PORT=$((18000 + $$ % 1000))
U=http://127.0.0.1:$PORT
sed -e "s/^runtime: runc/runtime: process/" -e "s/^name: vcpe-portal/name: webhttp/" \
	-e "s|^http: .*|http: 127.0.0.1:$PORT|" -e "s|session-timeout: .*|session-timeout: 3s|" \
	-e "s|plots: .*|plots: $ROOT/docs/img/rfc2544|" \
	"$ROOT/examples/vcpe-portal.yaml" >"$T/p.yaml"
cleanup "'$C' down --name webhttp"
check "up with http: 127.0.0.1:$PORT" "$C" up -d "$T/p.yaml"

# code METHOD PATH [curl args]: the status code
quiet() { "$@" >/dev/null; }
code() { local m=$1 p=$2; shift 2; curl -s -o "$T/body" -D "$T/hdr" -X "$m" "$@" "$U$p" -w '%{http_code}'; }
form() { code POST "$@" -H 'Content-Type: application/x-www-form-urlencoded'; }
hdr() { grep -i "^$1:" "$T/hdr" | tr -d '\r' | sed 's/^[^:]*: //'; }

check_eq "GET /portal: the sign-in form" 200 "$(code GET /portal)"
check_eq "every page: Content-Security-Policy default-src 'self'" "default-src 'self'" \
	"$(hdr Content-Security-Policy)"
check "the sign-in form has tenant and password fields" grep -q 'name="password"' "$T/body"

# --- sign-in: no user enumeration
check_eq "wrong password: 401" 401 "$(form /portal/login --data 'tenant=alpha&password=nope')"
cp "$T/body" "$T/wrongpw"
check_eq "unknown tenant: 401" 401 "$(form /portal/login --data 'tenant=zed&password=nope')"
check "unknown tenant and wrong password: the same page, word for word" cmp -s "$T/body" "$T/wrongpw"
check "... one generic sentence" grep -q "Sign-in failed: wrong tenant name or password." "$T/body"
inj='<script>alert(1)</script>'
check_eq "an injection as tenant name: 401" 401 \
	"$(form /portal/login --data-urlencode "tenant=$inj" --data 'password=x')"
check "... not reflected" sh -c "! grep -qF '<script>alert' '$T/body'"
check_eq "malformed form (bad %XX): 400" 400 "$(form /portal/login --data 'tenant=alpha&password=%zz')"
check_eq "malformed form (no password): 400" 400 "$(form /portal/login --data 'tenant=alpha')"
check_eq "malformed form (a pair without '='): 400" 400 "$(form /portal/login --data 'tenant=alpha&password')"
check_eq "not a form (text/plain): 400" 400 \
	"$(code POST /portal/login -H 'Content-Type: text/plain' --data 'tenant=alpha&password=x')"
check_eq "a NUL in the form: 400" 400 "$(form /portal/login --data 'tenant=alpha&password=a%00b')"
head -c 9000 /dev/zero | tr '\0' a >"$T/big"
check_eq "oversized body (9000 bytes): 413" 413 "$(form /portal/login --data-binary @"$T/big")"
check_eq "GET /portal/login: 405" 405 "$(code GET /portal/login)"
check_eq "... with Allow: POST" POST "$(hdr Allow)"
check_eq "DELETE /portal: 405" 405 "$(code DELETE /portal)"
check_eq "PUT /: 405" 405 "$(code PUT /)"
check_eq "unknown path: 404" 404 "$(code GET /nosuch)"
check_eq "/metrics is still the agent's (nf_metrics): 200" 200 "$(code GET /metrics)"
check_eq "a foreign Origin on sign-in: 403" 403 \
	"$(form /portal/login --data 'tenant=alpha&password=alpha-pass' -H 'Origin: http://evil.example')"

# --- alpha signs in
check_eq "alpha signs in: 303 to /portal" 303 "$(form /portal/login --data 'tenant=alpha&password=alpha-pass')"
ck=$(hdr Set-Cookie)
check "the cookie: 128-bit token, HttpOnly, SameSite=Strict, Path=/" \
	python3 -c 'import re,sys; sys.exit(not re.fullmatch(r"nc_session=[0-9a-f]{32}; HttpOnly; SameSite=Strict; Path=/", sys.argv[1]))' "$ck"
CK=(-H "Cookie: ${ck%%;*}")
check_eq "GET /portal signed in: 200" 200 "$(code GET /portal "${CK[@]}")"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/body" | head -1)
check_eq "the page has a 128-bit CSRF token" 32 "${#csrf}"
check "alpha's page names alpha" grep -q '<b id="name">alpha</b>' "$T/body"
check "nothing of bravo on alpha's page" sh -c "! grep -qE 'bravo|10\\.2\\.0' '$T/body'"
check_eq "GET /portal/api/me: 200" 200 "$(code GET /portal/api/me "${CK[@]}")"
check_eq "... alpha's own state" "alpha vcpe ['fw'] ['fw', 'nat']" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tenant"], d["chain"], d["services"], d["allowed"])' "$T/body")"
check_eq "?tenant=bravo changes nothing: still alpha" alpha \
	"$(code GET '/portal/api/me?tenant=bravo' "${CK[@]}" >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenant"])' "$T/body")"
check_eq "/portal/api/bravo: 404" 404 "$(code GET /portal/api/bravo "${CK[@]}")"
check_eq "/portal/bravo: 404" 404 "$(code GET /portal/bravo "${CK[@]}")"
check_eq "a tenant's session does not open the dashboard's API: 401" 401 "$(code GET /api/status "${CK[@]}")"

# --- changing services: CSRF, origin, what may be picked
steer() { "$C" switch --ctl "$T/run/webhttp/switch.ctl" steering; }
steer >"$T/steer0"
check_eq "POST services without a session: 401" 401 "$(form /portal/services --data "csrf=$csrf&svc=fw")"
check_eq "POST services without a CSRF token: 403" 403 "$(form /portal/services "${CK[@]}" --data 'svc=fw&svc=nat')"
check_eq "POST services with a wrong CSRF token: 403" 403 \
	"$(form /portal/services "${CK[@]}" --data 'csrf=00000000000000000000000000000000&svc=fw')"
check_eq "POST services from a foreign Origin: 403" 403 \
	"$(form /portal/services "${CK[@]}" -H 'Origin: http://evil.example' --data "csrf=$csrf&svc=fw")"
check_eq "a service alpha may not pick (mon): 403" 403 "$(form /portal/services "${CK[@]}" --data "csrf=$csrf&svc=mon")"
check_eq "a service not in the chain: 400" 400 "$(form /portal/services "${CK[@]}" --data "csrf=$csrf&svc=nosuch")"
check_eq "an injection as a service: 400" 400 \
	"$(form /portal/services "${CK[@]}" --data "csrf=$csrf" --data-urlencode "svc=$inj")"
check "... not reflected" sh -c "! grep -qF '<script>alert' '$T/body'"
check_eq "the refused requests changed no steering" "$(cat "$T/steer0")" "$(steer)"
check_eq "alpha adds NAT: 303" 303 \
	"$(form /portal/services "${CK[@]}" -H "Origin: $U" --data "csrf=$csrf&svc=fw&svc=nat&tenant=bravo")"
check_eq "alpha's rules now set ToS 3 (fw, nat)" \
	"rule id 1001 in-port lan ip saddr 10.1.0.0/24 action set-tos 3/7
rule id 1002 in-port wan ip daddr 10.1.0.0/24 action set-tos 3/7" "$(steer | grep 'id 100[12]')"
check_eq "bravo's rules did not change (a tenant field in the form names nothing)" \
	"$(grep 'id 100[34]' "$T/steer0")" "$(steer | grep 'id 100[34]')"
check_eq "the change is an event of kind tenant" "tenant alpha services now fw, nat (portal)" \
	"$("$C" status --json --name webhttp | python3 -c 'import json,sys; e=[x for x in json.load(sys.stdin)["events"] if x["kind"]=="tenant"][-1]; print(e["kind"], e["subject"], e["text"])')"

# --- the dashboard: operator only
check_eq "GET / without the operator: 303 to /login" 303 "$(code GET /)"
check_eq "... Location /login" /login "$(hdr Location)"
check_eq "/api/status without the operator: 401" 401 "$(code GET /api/status)"
check_eq "a plot without the operator: 401" 401 "$(code GET /plots/fig57-1fl-uni.png)"
check_eq "operator, wrong password: 401" 401 "$(form /login --data 'password=nope')"
check_eq "operator signs in: 303" 303 "$(form /login --data 'password=operator-pass')"
ok=$(hdr Set-Cookie)
OK=(-H "Cookie: ${ok%%;*}")
check_eq "GET / as the operator: 200" 200 "$(code GET / "${OK[@]}")"
check "the dashboard draws the chain (SVG) with every replica" \
	sh -c "grep -q 'id=\"svg-vcpe\"' '$T/body' && grep -q 'id=\"dot-fw-1\"' '$T/body' && grep -q 'id=\"r-nat-0\"' '$T/body'"
check "the dashboard lists the recent event" grep -q "services now fw, nat (portal)" "$T/body"
check "the dashboard shows the benchmark plots" grep -q 'src="/plots/fig57-1fl-uni.png"' "$T/body"
check_eq "a plot: 200" 200 "$(code GET /plots/fig57-1fl-uni.png "${OK[@]}")"
check "... the file's exact bytes, image/png" sh -c "cmp -s '$T/body' '$ROOT/docs/img/rfc2544/fig57-1fl-uni.png' && grep -qi '^content-type: image/png' '$T/hdr'"
for p in /plots/../../../etc/passwd /plots/..%2f..%2fetc%2fpasswd /plots/%2e%2e/web.c /plots/.hidden.png \
	/plots/nosuch.png /plots/fig57-1fl-uni.txt; do
	check_eq "path traversal / no such plot $p: 404" 404 "$(code GET "$p" "${OK[@]}" --path-as-is)"
done
check_eq "/api/status as the operator: 200 JSON" webhttp \
	"$(code GET /api/status "${OK[@]}" >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$T/body")"
check_eq "the operator's session is not a tenant's: /portal/api/me 401" 401 "$(code GET /portal/api/me "${OK[@]}")"

# --- expiry, sign-out
form /portal/login --data 'tenant=alpha&password=alpha-pass' >/dev/null
ck=$(hdr Set-Cookie)
CK=(-H "Cookie: ${ck%%;*}")
check_eq "alpha's session is alive" 200 "$(code GET /portal/api/me "${CK[@]}")"
sleep 3.5
check_eq "after 3 s idle (session-timeout) /portal/api/me: 401" 401 "$(code GET /portal/api/me "${CK[@]}")"
check_eq "... /portal: the sign-in form again" 200 "$(code GET /portal "${CK[@]}")"
check "... (the form, not alpha's page)" sh -c "grep -q 'id=\"signin\"' '$T/body' && ! grep -q alpha '$T/body'"
check_eq "... and a POST with it: 401" 401 "$(form /portal/services "${CK[@]}" --data "csrf=$csrf&svc=fw")"
form /portal/login --data 'tenant=bravo&password=bravo-pass' >/dev/null
bk=$(hdr Set-Cookie)
BK=(-H "Cookie: ${bk%%;*}")
code GET /portal "${BK[@]}" >/dev/null
bcsrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$T/body" | head -1)
check_eq "bravo signs out: 303" 303 "$(form /portal/logout "${BK[@]}" --data "csrf=$bcsrf")"
check "... its cookie is cleared" sh -c "grep -qi '^set-cookie: nc_session=;.*Max-Age=0' '$T/hdr'"
check_eq "... the session is gone: 401" 401 "$(code GET /portal/api/me "${BK[@]}")"

# --- apply: tenants reordered (bravo first): alpha's session must not
# become bravo's (sessions hold the tenant's name and password hash)
form /portal/login --data 'tenant=alpha&password=alpha-pass' >/dev/null
ck=$(hdr Set-Cookie)
CK=(-H "Cookie: ${ck%%;*}")
python3 - "$T/p.yaml" "$T/p2.yaml" <<'EOF2'
import sys
s = open(sys.argv[1]).read()
a, b, p = s.index("  alpha:"), s.index("  bravo:"), s.index("policy:")
open(sys.argv[2], "w").write(s[:a] + s[b:p] + s[a:b] + s[p:])
EOF2
check "apply: the same tenants, bravo first" quiet "$C" apply --name webhttp "$T/p2.yaml"
check_eq "alpha's session after the apply: 401, not bravo's data" 401 "$(code GET /portal/api/me "${CK[@]}")"
check "... nothing of bravo in the answer" sh -c "! grep -q bravo '$T/body'"
check_eq "alpha signs in again: 303" 303 "$(form /portal/login --data 'tenant=alpha&password=alpha-pass')"
ck=$(hdr Set-Cookie)
check_eq "... and sees alpha (now tenant 2 in the file)" alpha \
	"$(code GET /portal/api/me -H "Cookie: ${ck%%;*}" >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tenant"])' "$T/body")"

# --- rate limit: five failures in a minute from one address
for i in 1 2 3 4 5; do form /portal/login --data 'tenant=bravo&password=nope' >/dev/null; done
check_eq "after 5 failed sign-ins: 429 even with the right password" 429 \
	"$(form /portal/login --data 'tenant=bravo&password=bravo-pass')"
check_eq "... with Retry-After" 60 "$(hdr Retry-After)"

check "the agent still answers" quiet "$C" status --name webhttp
check "down" "$C" down --name webhttp
check "no sanitizer report" no_san
exit $_failed
