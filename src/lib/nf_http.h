/* nf_http.h - a small embedded HTTP server serviced from a daemon's loop.
 *
 * Built on libmicrohttpd in its external-epoll mode: no thread of its own.
 * The daemon adds nf_http_fd() to its epoll set (or poll array) and calls
 * nf_http_service() when it is readable and at least once a second (idle
 * connections are timed out there); nothing blocks, so a handler reads the
 * daemon's state without locks. A request is handed to the handler once
 * its whole body has arrived; a HEAD request is handed over as "GET" and
 * answered without the body. Limits: 32 connections, 10 s of silence per
 * connection, 32 KiB of request line and headers, @max_body of body.
 */
#ifndef NF_HTTP_H
#define NF_HTTP_H

#include <stddef.h>

struct nf_http;

struct nf_http_req {
	const char *method;		/* "GET", "POST", ... (HEAD comes as "GET") */
	const char *path;		/* "/metrics" (no query string) */
	const char *query;		/* raw query string after '?', "" if none */
	const char *body;		/* request body (POST), NUL-terminated; "" if none */
	size_t body_len;
	const char *content_type;	/* "" if none */
	const char *cookie;		/* the Cookie header, "" if none */
	const char *origin;		/* the Origin header, "" if none */
	const char *peer;		/* "127.0.0.1" */
};

struct nf_http_resp {
	int status;			/* default 200 */
	char content_type[64];		/* default "text/plain; charset=utf-8" */
	char headers[1024];		/* extra header lines, "Name: value\r\n"... */
	char *body;			/* malloc'd by the handler (nf_http frees it), or NULL */
	size_t len;
	size_t cap;			/* bytes allocated at body (nf_http_printf) */
};

/* Fill @rs for @rq. Return 0, or a negative errno: then nf_http answers
 * 500 (the handler's nf_set_error() sentence as body). */
typedef int (*nf_http_handler)(const struct nf_http_req *rq,
			       struct nf_http_resp *rs, void *arg);

/* Listen on @addr ("127.0.0.1:9100", "[::1]:9100", ":9100" = all).
 * Bodies over @max_body bytes get 413 without calling @h; unknown methods
 * (other than GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS) 405; a request
 * line or headers that do not parse 400. A connection silent for
 * @idle_s seconds (0: NF_HTTP_IDLE_S) is closed. Returns 0, -EINVAL (a
 * bad address), -EADDRINUSE or -errno; nf_set_error() says which. */
#define NF_HTTP_IDLE_S	10
int nf_http_open(const char *addr, size_t max_body, unsigned idle_s,
		 nf_http_handler h, void *arg, struct nf_http **out);
/* Readable when work waits (add to epoll/poll). */
int nf_http_fd(const struct nf_http *h);
/* Serve what waits, never blocks; 0 or -errno. */
int nf_http_service(struct nf_http *h);
/* The port actually bound (for ":0"). */
unsigned nf_http_port(const struct nf_http *h);
void nf_http_close(struct nf_http *h);

/* A growable text buffer for building bodies: appends to rs->body
 * (always NUL-terminated; rs->len excludes the NUL). 0 or -ENOMEM. */
int nf_http_printf(struct nf_http_resp *rs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse "HOST:PORT" ("127.0.0.1:9100", "[::1]:9100", ":9100") as
 * nf_http_open() does, without listening: 0 or -EINVAL with a sentence.
 * For configuration checks (a `--metrics` option, a YAML key). */
int nf_http_check_addr(const char *addr);

#endif
