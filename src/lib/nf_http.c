/* nf_http.c - an embedded HTTP server over libmicrohttpd, external epoll. */
#define _GNU_SOURCE
#include "nf_http.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_MAX_CONNS		32
#define HTTP_CONN_MEM		(32 * 1024)
#define HTTP_RUN_MAX		64	/* MHD_run() calls a service at most */

struct nf_http {
	struct MHD_Daemon *d;
	nf_http_handler handler;
	void *arg;
	size_t max_body;
	int epfd;
	unsigned port;
};

/* One request: made by the URI callback (which sees the raw URI, query
 * string included), freed when the request completes. */
struct http_rq {
	char *uri;
	char *body;
	size_t len, cap;
	bool too_big;
};

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
};

static int parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(addr, ':');
	char host[64];
	size_t hl;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || nf_parse_u64(colon + 1, 0, 65535, 0, &port) < 0)
		goto bad;
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl == 0) {			/* ":9100": every address, v4 and v6 */
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		goto bad;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return 0;
bad:
	nf_set_error("bad HTTP address '%s' (expected IPV4:PORT, [IPV6]:PORT or :PORT, port 0-65535)",
		     addr);
	return -EINVAL;
}

int nf_http_check_addr(const char *addr)
{
	struct sockaddr_storage ss;

	return parse_addr(addr, &ss);
}

int nf_http_printf(struct nf_http_resp *rs, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	for (;;) {
		room = rs->cap > rs->len ? rs->cap - rs->len : 0;
		va_start(ap, fmt);
		n = vsnprintf(rs->body ? rs->body + rs->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			rs->len += (size_t)n;
			return 0;
		}
		size_t cap = rs->cap ? rs->cap : 4096;
		while (cap < rs->len + (size_t)n + 1)
			cap *= 2;
		char *nb = realloc(rs->body, cap);
		if (nb == NULL)
			return -ENOMEM;
		rs->body = nb;
		rs->cap = cap;
	}
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	return v ? v : "";
}

/* Answer with a plain-text sentence (errors found before the handler). */
static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status,
				   const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
					"GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Add the handler's "Name: value\r\n" lines; a malformed one is skipped. */
static void add_headers(struct MHD_Response *r, const char *hdrs)
{
	char line[1024];
	const char *p = hdrs, *eol, *colon;
	size_t n;

	while (*p) {
		eol = strstr(p, "\r\n");
		n = eol ? (size_t)(eol - p) : strlen(p);
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			colon = strchr(line, ':');
			if (colon != NULL && colon != line) {
				line[colon - line] = '\0';
				colon++;
				while (*colon == ' ')
					colon++;
				MHD_add_response_header(r, line, colon);
			}
		}
		p += n;
		if (eol)
			p += 2;
	}
}

static void peer_name(struct MHD_Connection *c, char *buf, size_t n)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	buf[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  buf, (socklen_t)n);
	else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, &a6->s6_addr[12], buf, (socklen_t)n);
		else
			inet_ntop(AF_INET6, a6, buf, (socklen_t)n);
	}
}

static enum MHD_Result dispatch(struct nf_http *h, struct MHD_Connection *c,
				const char *url, const char *method,
				struct http_rq *q)
{
	struct nf_http_resp rs = { .status = 200 };
	struct MHD_Response *r;
	enum MHD_Result ret;
	char peer[INET6_ADDRSTRLEN];
	const char *qs = q->uri ? strchr(q->uri, '?') : NULL;
	int err;

	/* The path reaches handlers unescaped: an escaped NUL would cut it
	 * short ("/x.png%00.txt" read as "/x.png"). Refused. */
	if (q->uri != NULL) {
		const char *e = qs ? qs : q->uri + strlen(q->uri), *x;

		for (x = q->uri; (x = strstr(x, "%00")) != NULL && x < e; x++)
			return answer_text(c, MHD_HTTP_BAD_REQUEST,
					   "bad request: an escaped NUL in the path\n");
	}
	peer_name(c, peer, sizeof(peer));
	struct nf_http_req rq = {
		.method = strcmp(method, "HEAD") == 0 ? "GET" : method,
		.path = url,
		.query = qs ? qs + 1 : "",
		.body = q->body ? q->body : "",
		.body_len = q->len,
		.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
		.cookie = header(c, MHD_HTTP_HEADER_COOKIE),
		.origin = header(c, "Origin"),
		.peer = peer,
	};
	strcpy(rs.content_type, "text/plain; charset=utf-8");
	nf_clear_error();
	err = h->handler(&rq, &rs, h->arg);
	if (err < 0) {
		char msg[512];

		free(rs.body);
		snprintf(msg, sizeof(msg), "%s\n", *nf_last_error() ?
			 nf_last_error() : "internal error");
		return answer_text(c, 500, msg);
	}
	if (rs.status < 100 || rs.status > 599)
		rs.status = 500;
	r = MHD_create_response_from_buffer(rs.len, rs.body ? rs.body : (void *)"",
					    rs.body ? MHD_RESPMEM_MUST_FREE :
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(rs.body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs.content_type);
	add_headers(r, rs.headers);
	ret = MHD_queue_response(c, (unsigned)rs.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct nf_http *h = cls;
	struct http_rq *q = *con_cls;
	const char *cl;
	uint64_t clen;
	size_t i;

	(void)version;
	if (q == NULL)			/* the URI callback could not allocate */
		return MHD_NO;
	if (q->body == NULL && !q->too_big) {	/* first call: headers only */
		for (i = 0; i < NF_ARRAY_SIZE(methods); i++)
			if (strcmp(method, methods[i]) == 0)
				break;
		if (i == NF_ARRAY_SIZE(methods))
			return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n");
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (nf_parse_u64(cl, 0, UINT64_MAX, 0, &clen) < 0 ||
				   clen > h->max_body))
			return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request body too large\n");
		q->cap = 1;
		q->body = calloc(1, 1);
		if (q->body == NULL)
			return MHD_NO;
		return MHD_YES;
	}
	if (*upload_size > 0) {		/* a piece of the body */
		if (q->too_big || q->len + *upload_size > h->max_body) {
			q->too_big = true;
			*upload_size = 0;
			return MHD_YES;
		}
		if (q->len + *upload_size + 1 > q->cap) {
			size_t cap = q->cap;
			while (cap < q->len + *upload_size + 1)
				cap *= 2;
			char *nb = realloc(q->body, cap);
			if (nb == NULL)
				return MHD_NO;
			q->body = nb;
			q->cap = cap;
		}
		memcpy(q->body + q->len, upload, *upload_size);
		q->len += *upload_size;
		q->body[q->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->too_big)		/* a chunked body that grew too large */
		return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
				   "request body too large\n");
	return dispatch(h, c, url, method, q);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_rq *q = calloc(1, sizeof(*q));

	(void)cls;
	(void)c;
	if (q != NULL)
		q->uri = strdup(uri);
	return q;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct http_rq *q = *con_cls;

	(void)cls;
	(void)c;
	(void)why;
	if (q != NULL) {
		free(q->uri);
		free(q->body);
		free(q);
	}
	*con_cls = NULL;
}

int nf_http_open(const char *addr, size_t max_body, unsigned idle_s,
		 nf_http_handler handler, void *arg, struct nf_http **out)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	struct nf_http *h;
	unsigned flags = MHD_USE_EPOLL;
	uint16_t port;
	int ret;

	ret = parse_addr(addr, &ss);
	if (ret < 0)
		return ret;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->handler = handler;
	h->arg = arg;
	h->max_body = max_body;
	if (ss.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		if (IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
			flags |= MHD_USE_DUAL_STACK;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	errno = 0;
	h->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
		MHD_OPTION_CONNECTION_TIMEOUT, idle_s ? idle_s : NF_HTTP_IDLE_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEM,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)h,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, (void *)h,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)64,
		MHD_OPTION_END);
	if (h->d == NULL) {
		ret = errno == EADDRINUSE ? -EADDRINUSE : -(errno ? errno : EINVAL);
		nf_set_error("cannot listen for HTTP on %s: %s", addr,
			     errno ? strerror(errno) : "libmicrohttpd refused");
		goto fail;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL) {
		ret = -EINVAL;
		nf_set_error("libmicrohttpd gave no epoll descriptor");
		goto fail;
	}
	h->epfd = di->epoll_fd;
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : port;
	*out = h;
	return 0;
fail:
	nf_http_close(h);
	return ret;
}

int nf_http_fd(const struct nf_http *h)
{
	return h->epfd;
}

/* MHD_run() reads a connection's socket a slice at a time (the epoll is
 * edge-triggered): while it says it has more to do now (a timeout of 0),
 * run it again, or a 30 kB request waits for seconds of wakeups. Bounded,
 * so that a flood of clients cannot hold the caller's loop. */
int nf_http_service(struct nf_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	int i;

	for (i = 0; i < HTTP_RUN_MAX; i++) {
		if (MHD_run(h->d) != MHD_YES)
			return -EIO;
		if (MHD_get_timeout(h->d, &ms) != MHD_YES || ms > 0)
			break;
	}
	return 0;
}

unsigned nf_http_port(const struct nf_http *h)
{
	return h->port;
}

void nf_http_close(struct nf_http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	free(h);
}
