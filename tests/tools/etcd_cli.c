/* etcd_cli.c - a small command line over nf_etcd, for tests/it/etcd.sh.
 *
 *   etcd_cli [-e ENDPOINTS] [-T TIMEOUT_MS] [-s] COMMAND ...
 *     get KEY [--prefix] [--raw]   one line per kv (see print_kv), then
 *                                  "rev N count N"; --raw: the value bytes only
 *     put KEY VAL|- [--lease ID]   "rev N" (-: the value is read from stdin)
 *     put-if KEY VAL MODREV        "ok", or "canceled" (exit 1)
 *     del KEY [--prefix]           "deleted N"
 *     lease-grant TTL              "lease ID"
 *     keepalive ID                 "alive", or "expired" (exit 1)
 *     revoke ID                    "revoked"
 *     watch PREFIX [REV] [-c COUNT] [-t SECS]
 *                                  "watching" once the stream is up, then one
 *                                  line per event, then "end events N
 *                                  reconnects N" at COUNT events or SECS
 *     stats                        the counters (of this process: after -s)
 *   -s: "stats writes N requests N failovers N" on stderr at the end.
 *
 * Keys and values are printed with every byte outside '!'..'~' and '\'
 * as \xHH, so a line splits on blanks. Exit 0, or 1 with a sentence.
 */
#include "nf_etcd.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_esc(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < '!' || c > '~' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void print_kv(const struct nf_etcd_kv *kv)
{
	print_esc(kv->key, strlen(kv->key));
	putchar(' ');
	print_esc(kv->val, kv->len);
	printf(" len=%zu create=%" PRId64 " mod=%" PRId64 " ver=%" PRId64 " lease=%" PRId64 "\n",
	       kv->len, kv->create_rev, kv->mod_rev, kv->version, kv->lease);
}

static int fail(const char *what, int rc)
{
	const char *why = nf_last_error();

	fprintf(stderr, "etcd_cli: %s: %s%s%s\n", what, strerror(-rc),
		*why ? ": " : "", why);
	return 1;
}

static int num(const char *s, int64_t min, int64_t *out)
{
	uint64_t v;

	if (nf_parse_u64(s, (uint64_t)min, INT64_MAX, 0, &v) < 0) {
		fprintf(stderr, "etcd_cli: '%s' is not a number >= %" PRId64 "\n", s, min);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 4096, n;

	*len = 0;
	*buf = malloc(cap);
	while (*buf) {
		n = fread(*buf + *len, 1, cap - *len, stdin);
		*len += n;
		if (n == 0)
			return ferror(stdin) ? -EIO : 0;
		if (*len == cap) {
			char *p = realloc(*buf, cap *= 2);

			if (p == NULL)
				break;
			*buf = p;
		}
	}
	free(*buf);
	return -ENOMEM;
}

static int cmd_watch(struct nf_etcd *e, int argc, char **argv)
{
	struct nf_etcd_watch *w;
	struct nf_etcd_event *ev;
	int64_t rev = 0, count = -1, secs = 10, got = 0;
	uint64_t end;
	size_t i, n;
	int rc, a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "-c") == 0 && a + 1 < argc) {
			if (num(argv[++a], 1, &count) < 0)
				return 1;
		} else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc) {
			if (num(argv[++a], 1, &secs) < 0)
				return 1;
		} else if (a == 1 && argv[a][0] != '-') {
			if (num(argv[a], 0, &rev) < 0)
				return 1;
		} else {
			fprintf(stderr, "etcd_cli: watch PREFIX [REV] [-c COUNT] [-t SECS]\n");
			return 1;
		}
	}
	rc = nf_etcd_watch_start(e, argv[0], rev, &w);
	if (rc < 0)
		return fail("watch", rc);
	printf("watching\n");
	fflush(stdout);
	end = nf_now_ns() + (uint64_t)secs * 1000000000ull;
	while (!stop && got != count && nf_now_ns() < end) {
		struct pollfd pfd = { .fd = nf_etcd_watch_fd(w), .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		rc = nf_etcd_watch_read(w, &ev, &n);
		for (i = 0; i < n; i++) {
			if (ev[i].type == NF_ETCD_DELETE) {
				printf("delete ");
				print_esc(ev[i].kv.key, strlen(ev[i].kv.key));
				printf(" mod=%" PRId64 "\n", ev[i].kv.mod_rev);
			} else {
				printf("put ");
				print_kv(&ev[i].kv);
			}
			got++;
		}
		fflush(stdout);
		nf_etcd_events_free(ev, n);
		if (rc < 0)
			break;
	}
	printf("end events %" PRId64 " reconnects %" PRIu64 "\n", got, nf_etcd_watch_reconnects(w));
	nf_etcd_watch_stop(w);
	return rc < 0 ? fail("watch", rc) : 0;
}

static int run(struct nf_etcd *e, int argc, char **argv)
{
	const char *cmd = argv[0];
	bool prefix = false, raw = false;
	int64_t id, n, rev;
	int rc, a;

	for (a = 1; a < argc && strcmp(cmd, "watch") != 0; a++) {
		if (strcmp(argv[a], "--prefix") == 0)
			prefix = true;
		else if (strcmp(argv[a], "--raw") == 0)
			raw = true;
	}
	if (strcmp(cmd, "get") == 0 && argc >= 2) {
		struct nf_etcd_kvs kvs;
		size_t i;

		rc = nf_etcd_get(e, argv[1], prefix, &kvs);
		if (rc < 0)
			return fail("get", rc);
		for (i = 0; i < kvs.n; i++) {
			if (raw)
				fwrite(kvs.kv[i].val, 1, kvs.kv[i].len, stdout);
			else
				print_kv(&kvs.kv[i]);
		}
		if (!raw)
			printf("rev %" PRId64 " count %zu\n", kvs.rev, kvs.n);
		nf_etcd_kvs_free(&kvs);
		return 0;
	}
	if (strcmp(cmd, "put") == 0 && argc >= 3) {
		char *val = argv[2];
		size_t len = strlen(val);

		id = 0;
		if (argc == 5 && strcmp(argv[3], "--lease") == 0) {
			if (num(argv[4], 1, &id) < 0)
				return 1;
		} else if (argc != 3) {
			goto usage;
		}
		if (strcmp(val, "-") == 0 && (rc = read_stdin(&val, &len)) < 0)
			return fail("reading the value from stdin", rc);
		rc = nf_etcd_put(e, argv[1], val, len, id, &rev);
		if (val != argv[2])
			free(val);
		if (rc < 0)
			return fail("put", rc);
		printf("rev %" PRId64 "\n", rev);
		return 0;
	}
	if (strcmp(cmd, "put-if") == 0 && argc == 4) {
		if (num(argv[3], 0, &rev) < 0)
			return 1;
		rc = nf_etcd_put_if(e, argv[1], argv[2], strlen(argv[2]), rev, 0);
		if (rc == -ECANCELED) {
			printf("canceled\n");
			return 1;
		}
		if (rc < 0)
			return fail("put-if", rc);
		printf("ok\n");
		return 0;
	}
	if (strcmp(cmd, "del") == 0 && argc >= 2) {
		rc = nf_etcd_del(e, argv[1], prefix, &n);
		if (rc < 0)
			return fail("del", rc);
		printf("deleted %" PRId64 "\n", n);
		return 0;
	}
	if (strcmp(cmd, "lease-grant") == 0 && argc == 2) {
		if (num(argv[1], 1, &n) < 0)
			return 1;
		rc = nf_etcd_lease_grant(e, (unsigned)NF_MIN(n, 1 << 30), &id);
		if (rc < 0)
			return fail("lease-grant", rc);
		printf("lease %" PRId64 "\n", id);
		return 0;
	}
	if (strcmp(cmd, "keepalive") == 0 && argc == 2) {
		if (num(argv[1], 1, &id) < 0)
			return 1;
		rc = nf_etcd_lease_keepalive(e, id);
		if (rc == -ENOENT) {
			printf("expired\n");
			return 1;
		}
		if (rc < 0)
			return fail("keepalive", rc);
		printf("alive\n");
		return 0;
	}
	if (strcmp(cmd, "revoke") == 0 && argc == 2) {
		if (num(argv[1], 1, &id) < 0)
			return 1;
		rc = nf_etcd_lease_revoke(e, id);
		if (rc < 0)
			return fail("revoke", rc);
		printf("revoked\n");
		return 0;
	}
	if (strcmp(cmd, "watch") == 0 && argc >= 2)
		return cmd_watch(e, argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0 && argc == 1)
		return 0;
usage:
	fprintf(stderr, "etcd_cli: bad command line: see tests/tools/etcd_cli.c\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *eps = "http://127.0.0.1:2379";
	struct nf_etcd_stats st;
	struct nf_etcd *e;
	int64_t tmo = 2000;
	bool stats = false;
	int a, rc;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "-e") == 0 && a + 1 < argc) {
			eps = argv[++a];
		} else if (strcmp(argv[a], "-T") == 0 && a + 1 < argc) {
			if (num(argv[++a], 1, &tmo) < 0)
				return 1;
		} else if (strcmp(argv[a], "-s") == 0) {
			stats = true;
		} else {
			fprintf(stderr, "etcd_cli: unknown option '%s'\n", argv[a]);
			return 1;
		}
	}
	if (a == argc) {
		fprintf(stderr, "etcd_cli: no command: see tests/tools/etcd_cli.c\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = nf_etcd_open(eps, (unsigned)NF_MIN(tmo, 3600000), &e);
	if (rc < 0)
		return fail("endpoints", rc);
	rc = run(e, argc - a, argv + a);
	nf_etcd_stats(e, &st);
	if (stats || strcmp(argv[a], "stats") == 0)
		fprintf(strcmp(argv[a], "stats") == 0 ? stdout : stderr,
			"stats writes %" PRIu64 " requests %" PRIu64 " failovers %" PRIu64 "\n",
			st.writes, st.requests, st.failovers);
	nf_etcd_close(e);
	return rc;
}
