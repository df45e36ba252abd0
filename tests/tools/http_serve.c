/* http_serve.c - an nf_http server for tests/it/http.sh.
 *
 *   http_serve ADDR MAX_BODY [IDLE_S]
 *
 * Prints "port N" once it listens, then serves from a single-threaded poll
 * loop (as the daemons do) until SIGINT/SIGTERM:
 *   GET  /hello      200 "hello\n"
 *   ANY  /echo       200 "METHOD PATH?QUERY peer=P ct=T cookie=C origin=O len=N\nBODY"
 *   GET  /big        200, 100000 bytes of 'x' built with nf_http_printf
 *   GET  /fail       the handler fails: 500 with its sentence
 *   GET  /hdr        200 with the extra header "X-Test: yes"
 *   anything else    404 from the handler
 */
#include "nf_http.h"
#include "nf_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int handler(const struct nf_http_req *rq, struct nf_http_resp *rs,
		   void *arg)
{
	int i;

	(void)arg;
	if (strcmp(rq->path, "/hello") == 0 && strcmp(rq->method, "GET") == 0)
		return nf_http_printf(rs, "hello\n");
	if (strcmp(rq->path, "/echo") == 0)
		return nf_http_printf(rs, "%s %s?%s peer=%s ct=%s cookie=%s origin=%s len=%zu\n%s",
				      rq->method, rq->path, rq->query, rq->peer,
				      rq->content_type, rq->cookie, rq->origin,
				      rq->body_len, rq->body);
	if (strcmp(rq->path, "/big") == 0) {
		for (i = 0; i < 1000; i++)
			if (nf_http_printf(rs, "%0100d", 0) < 0)
				return -ENOMEM;
		memset(rs->body, 'x', rs->len);
		return 0;
	}
	if (strcmp(rq->path, "/fail") == 0) {
		nf_set_error("the test handler failed on purpose");
		return -EIO;
	}
	if (strcmp(rq->path, "/hdr") == 0) {
		strcpy(rs->headers, "X-Test: yes\r\nX-Other: two\r\n");
		strcpy(rs->content_type, "application/json");
		return nf_http_printf(rs, "{}\n");
	}
	rs->status = 404;
	return nf_http_printf(rs, "no such page: %s\n", rq->path);
}

int main(int argc, char **argv)
{
	struct nf_http *h;
	struct pollfd pf;
	uint64_t max_body, idle_s = 0;
	int ret;

	if (argc < 3 || argc > 4 || nf_parse_u64(argv[2], 0, 1 << 30, 0, &max_body) < 0 ||
	    (argc == 4 && nf_parse_u64(argv[3], 1, 3600, 0, &idle_s) < 0)) {
		fprintf(stderr, "usage: http_serve ADDR MAX_BODY [IDLE_S]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = nf_http_open(argv[1], (size_t)max_body, (unsigned)idle_s, handler, NULL, &h);
	if (ret < 0) {
		fprintf(stderr, "http_serve: %s\n", nf_last_error());
		return 1;
	}
	printf("port %u\n", nf_http_port(h));
	fflush(stdout);
	pf.fd = nf_http_fd(h);
	pf.events = POLLIN;
	while (!stop) {
		poll(&pf, 1, 100);
		if (nf_http_service(h) < 0) {
			fprintf(stderr, "http_serve: service failed\n");
			break;
		}
	}
	nf_http_close(h);
	return 0;
}
