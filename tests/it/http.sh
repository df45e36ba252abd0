#!/usr/bin/env bash
# http.sh - nf_http, the embedded HTTP server (libmicrohttpd, serviced from
# the caller's loop): answers, limits and hostile clients, on 127.0.0.1.
# The server is tests/tools/http_serve.c (its pages are listed there).
# tests/run: asan
. "$(dirname "$0")/../lib.sh"
san_to_files

# idle timeout 3 s (the daemons' default is 10 s: NF_HTTP_IDLE_S)
"$TOOLS/http_serve" 127.0.0.1:0 1000 3 >"$T/serve.out" 2>"$T/serve.err" &
SRV=$!
cleanup "kill $SRV"
for _ in $(seq 100); do grep -q '^port ' "$T/serve.out" && break; sleep 0.05; done
P=$(awk '/^port/ { print $2 }' "$T/serve.out")
check "http_serve listens on a port chosen by the kernel (:0)" [ -n "$P" ] && [ "$P" -gt 0 ]
U=http://127.0.0.1:$P

# curl_code ARGS...: the status code, the body in $T/body.
curl_code() { curl -s -m 10 -o "$T/body" -w '%{http_code}' "$@"; }

check_eq "GET /hello: 200" 200 "$(curl_code "$U/hello")"
check_eq "GET /hello: the handler's body" hello "$(cat "$T/body")"
curl -s -m 10 -I "$U/hello" -o "$T/head" -w '%{http_code} %{size_download}' >"$T/head.code"
check_eq "HEAD /hello: 200 and no body" "200 0" "$(cat "$T/head.code")"
check "HEAD /hello: Content-Length of the GET body (6)" grep -qi '^Content-Length: 6' "$T/head"
check_eq "GET /nope: 404 from the handler" 404 "$(curl_code "$U/nope")"
check_eq "404 body names the path" "no such page: /nope" "$(cat "$T/body")"
check_eq "an escaped NUL in the path (/hello%00.txt): 400, not /hello" 400 \
	"$(curl_code "$U/hello%00.txt")"
check_eq "... %00 in the query is the handler's business: 200" 200 "$(curl_code "$U/hello?a=%00")"
check_eq "a failing handler: 500" 500 "$(curl_code "$U/fail")"
check_eq "500 body: the handler's sentence" "the test handler failed on purpose" "$(cat "$T/body")"
check_eq "TRACE: 405" 405 "$(curl_code -X TRACE "$U/hello")"
check_eq "an unknown method: 405" 405 "$(curl_code -X FROB "$U/hello")"

code=$(curl_code -X POST -H 'Cookie: s=abc' -H 'Origin: http://127.0.0.1' \
	-H 'Content-Type: text/plain' --data-binary 'a=1&b=2' "$U/echo?x=1&y=%20z")
check_eq "POST /echo: 200" 200 "$code"
check_eq "POST /echo: method, path, raw query, peer, headers, body" \
	"POST /echo?x=1&y=%20z peer=127.0.0.1 ct=text/plain cookie=s=abc origin=http://127.0.0.1 len=7
a=1&b=2" "$(cat "$T/body")"
head -c 1000 /dev/zero | tr '\0' b >"$T/b1000"
code=$(curl_code -X POST --data-binary @"$T/b1000" "$U/echo")
check_eq "a body of exactly max_body (1000) bytes is accepted" 200 "$code"
check "... and handed over whole" grep -q 'len=1000$' "$T/body"
head -c 1001 /dev/zero | tr '\0' b >"$T/b1001"
check_eq "a body of max_body+1 bytes (Content-Length): 413" 413 \
	"$(curl_code -X POST --data-binary @"$T/b1001" "$U/echo")"
check_eq "a chunked body over max_body: 413" 413 \
	"$(curl_code -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T/b1001" "$U/echo")"
check_eq "a chunked body under max_body: 200" 200 \
	"$(curl_code -X POST -H 'Transfer-Encoding: chunked' --data-binary 'abc' "$U/echo")"
check "... with its 3 bytes" grep -q 'len=3$' "$T/body"

curl -s -m 10 -D "$T/hdr.h" -o "$T/body" "$U/hdr"
check "the handler's extra headers are sent" grep -q '^X-Test: yes' "$T/hdr.h"
check "... every one of them" grep -q '^X-Other: two' "$T/hdr.h"
check "the handler's content type is sent" grep -qi '^Content-Type: application/json' "$T/hdr.h"
check_eq "a 100000-byte body built with nf_http_printf" 100000 \
	"$(curl -s -m 10 "$U/big" | tr -d x | wc -c | awk '{ print 100000 - $1 }')"

# Raw-socket clients: hostile and concurrent ones.
python3 - "$P" >"$T/raw.out" 2>&1 <<'EOF'
import socket, sys, threading, time
port = int(sys.argv[1])

def ask(data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and b"Content-Length: 0" not in out:
                head, _, body = out.partition(b"\r\n\r\n")
                for l in head.split(b"\r\n"):
                    if l.lower().startswith(b"content-length:") and len(body) >= int(l.split(b":")[1]):
                        s.close()
                        return out
    except socket.timeout:
        pass
    s.close()
    return out

def status(r):
    return r.split(b"\r\n", 1)[0].decode(errors="replace")

# A client that connects and sends nothing, and one that sends half a
# request line: neither stalls the loop.
idle = socket.create_connection(("127.0.0.1", port))
half = socket.create_connection(("127.0.0.1", port))
half.sendall(b"GET /hel")
t0 = time.monotonic()
r = ask(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
print("idle-answered", status(r), "fast" if time.monotonic() - t0 < 2 else "slow")

# Malformed requests, all at once (a client that never finishes its
# request line is only dropped by the timeout): a 4xx/5xx answer or a
# close, never the handler.
bad = [
    ("garbage", b"\x00\xff\xfe garbage \x01\r\n\r\n"),
    ("no-version", b"GET\r\n\r\n"),
    ("one-word", b"hello\r\n\r\n"),
    ("bad-version", b"GET /hello HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("bad-header", b"GET /hello HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"),
    ("bad-clen", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
    ("binary", bytes(range(256)) * 4),
]
answers = {}
def try_bad(name, req):
    try:
        answers[name] = status(ask(req, 15))
    except Exception as e:
        answers[name] = "exception " + repr(e)
ts = [threading.Thread(target=try_bad, args=b) for b in bad]
for t in ts: t.start()
for t in ts: t.join()
for name, _ in bad:
    a = answers[name]
    ok = a == "" or a.startswith("HTTP/1.1 4") or a.startswith("HTTP/1.1 5")
    print(name, "refused" if ok else "ANSWERED", a)
# A 30 kB request line (under the 32 kB connection memory) is read in
# one service, not in a slice per wakeup of the loop (seconds).
t0 = time.monotonic()
r = ask(b"GET /hello?" + b"a" * 30000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print("big-request", status(r), "fast" if time.monotonic() - t0 < 1 else
      "in %.1f s" % (time.monotonic() - t0))
t0 = time.monotonic()
r = ask(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
print("long-line", status(r)[:12], "fast" if time.monotonic() - t0 < 1 else
      "in %.1f s" % (time.monotonic() - t0))
r = ask(b"GET /hello HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 60000 + b"\r\n\r\n")
print("long-header", status(r)[:12])

# 64 clients at once (twice the connection limit): every one answered.
res = []
def one():
    try:
        res.append(status(ask(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 30)))
    except Exception as e:
        res.append(repr(e))
ts = [threading.Thread(target=one) for _ in range(64)]
for t in ts: t.start()
for t in ts: t.join()
print("concurrent", sum(1 for x in res if x == "HTTP/1.1 200 OK"), "of", len(res))

# Keep-alive: two requests on one connection.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
buf = b""
t0 = time.monotonic()
while buf.count(b"hello\n") < 2 and time.monotonic() - t0 < 10:
    b = s.recv(4096)
    if not b: break
    buf += b
print("keepalive", buf.count(b"HTTP/1.1 200 OK"))
s.close()

# A silent client is dropped by the server's idle timeout (3 s), not
# before; the one silent since the start is long gone.
def dropped_after(s):
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        gone = s.recv(1) == b""
    except ConnectionResetError:
        gone = True
    except socket.timeout:
        gone = False
    return gone, time.monotonic() - t0
late = socket.create_connection(("127.0.0.1", port))
gone, secs = dropped_after(late)
print("idle-dropped", gone, "in-time" if 2.5 <= secs < 6 else "at %.1f s" % secs)
gone, secs = dropped_after(idle)
print("first-idle-dropped", gone, "in-time" if secs < 6 else "at %.1f s" % secs)
half.close()
EOF
cat "$T/raw.out"
check_eq "a silent and a half-sent client do not stall the loop" \
	"idle-answered HTTP/1.1 200 OK fast" "$(grep '^idle-answered' "$T/raw.out")"
for n in garbage no-version one-word bad-version binary; do
	check "malformed request ($n): refused (4xx/5xx or closed), no handler" \
		grep -q "^$n refused" "$T/raw.out"
done
# Each line: what is checked | the line of raw.out expected (its first
# word names it).
while IFS='|' read -r what want; do
	check_eq "$what" "$want" "$(grep "^${want%% *} " "$T/raw.out")"
done <<'LIST'
a header line without a colon: 400|bad-header refused HTTP/1.1 400 Bad Request
a negative Content-Length: 400|bad-clen refused HTTP/1.1 400 Bad Request
HTTP/9.9: 505|bad-version refused HTTP/1.1 505 HTTP Version Not Supported
a 30 kB request line: answered within a second|big-request HTTP/1.1 200 OK fast
a 100 kB request line: 414 within a second|long-line HTTP/1.1 414 fast
a 60 kB header: 431|long-header HTTP/1.1 431
64 concurrent clients (limit 32): all answered 200|concurrent 64 of 64
keep-alive: two requests on one connection|keepalive 2
a silent client is dropped after the idle timeout (3 s), not before|idle-dropped True in-time
... and the one silent from the start|first-idle-dropped True in-time
LIST
check_eq "still serving after all that" 200 "$(curl_code "$U/hello")"
check "the server is alive" kill -0 "$SRV"
stop_clean "http_serve" "$SRV"

# Listening: bad addresses refused with a sentence; a busy port.
"$TOOLS/http_serve" 1.2.3:80 10 >/dev/null 2>"$T/bad.err"
check_eq "a bad address: exit 1" 1 "$?"
check "... with a sentence" grep -q "bad HTTP address '1.2.3:80'" "$T/bad.err"
"$TOOLS/http_serve" 127.0.0.1:70000 10 >/dev/null 2>"$T/bad.err"
check "a port above 65535 refused" grep -q "bad HTTP address" "$T/bad.err"
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(20)' >"$T/busy" &
BUSY=$!
cleanup "kill $BUSY"
for _ in $(seq 100); do [ -s "$T/busy" ] && break; sleep 0.05; done
"$TOOLS/http_serve" "127.0.0.1:$(cat "$T/busy")" 10 >/dev/null 2>"$T/busy.err"
check "a port in use: a sentence" grep -q "cannot listen for HTTP on 127.0.0.1:$(cat "$T/busy"): Address already in use" "$T/busy.err"
"$TOOLS/http_serve" "[::1]:0" 10 >"$T/v6.out" 2>&1 &
V6=$!
cleanup "kill $V6"
for _ in $(seq 100); do grep -q '^port ' "$T/v6.out" && break; sleep 0.05; done
check_eq "IPv6 [::1]: GET /hello" 200 "$(curl_code "http://[::1]:$(awk '/^port/ { print $2 }' "$T/v6.out")/echo")"
check "... the peer is ::1" grep -q 'peer=::1 ' "$T/body"
stop_clean "http_serve on [::1]" "$V6"
check "no sanitizer report" no_san
exit $_failed
