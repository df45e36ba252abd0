/* cluster.c - the controller, the node agent and `nfchain cluster`
 * (cluster.h, docs/CLUSTER.md).
 *
 * Every program keeps a mirror of the keys it needs (one range read, then
 * a watch from the revision after it) and works from the mirror: the
 * controller recomputes the placement of every description when a node or
 * a description changes and writes only the placements that differ; a
 * node agent composes its part of each deployment placed on it (the
 * description, then a `cluster` section: this node, the nodes' locators,
 * the placement) and runs it with `nfchain up -d` / `apply` / `down` as
 * child processes, so that its loop never blocks and its lease stays
 * alive. Nothing is kept anywhere else: a restarted controller or agent
 * reads the same state and writes nothing new.
 */
#define _GNU_SOURCE
#include "cluster.h"
#include "agent.h"
#include "nf_ctl.h"
#include "nf_etcd.h"
#include "nf_util.h"
#include "place.h"
#include "spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEF_PREFIX	"/nfchain"
#define DEF_ETCD	"http://127.0.0.1:2379"
#define BUCKETS		16384

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	return nf_now_ns() / 1000000;
}

/* --- a mirror of the keys under a prefix --- */

struct ent {
	struct ent *next;
	char *key;		/* relative to the prefix: "nodes/n1" */
	char *val;
	size_t len;
	int64_t mod;
	uint64_t gen;		/* mirror->changes when it last changed */
	void *aux;		/* the controller's parsed description */
	void (*aux_free)(void *);
};

struct mirror {
	struct nf_etcd *e;
	char prefix[128];	/* "/nfchain/" */
	struct ent *b[BUCKETS];
	size_t n;
	struct nf_etcd_watch *w;
	uint64_t changes;
};

static unsigned hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % BUCKETS;
}

static struct ent *m_get(struct mirror *m, const char *key)
{
	struct ent *e;

	for (e = m->b[hash_str(key)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void ent_free(struct ent *e)
{
	if (e->aux && e->aux_free)
		e->aux_free(e->aux);
	free(e->key);
	free(e->val);
	free(e);
}

static int m_set(struct mirror *m, const char *key, const char *val, size_t len, int64_t mod)
{
	struct ent *e = m_get(m, key);
	char *v = malloc(len + 1);

	if (v == NULL)
		return -ENOMEM;
	memcpy(v, val, len);
	v[len] = '\0';
	if (e == NULL) {
		unsigned h = hash_str(key);

		e = calloc(1, sizeof(*e));
		if (e == NULL || (e->key = strdup(key)) == NULL) {
			free(e);
			free(v);
			return -ENOMEM;
		}
		e->next = m->b[h];
		m->b[h] = e;
		m->n++;
	}
	free(e->val);
	e->val = v;
	e->len = len;
	e->mod = mod;
	e->gen = ++m->changes;
	return 0;
}

static void m_del(struct mirror *m, const char *key)
{
	struct ent **pp;

	for (pp = &m->b[hash_str(key)]; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			struct ent *e = *pp;

			*pp = e->next;
			ent_free(e);
			m->n--;
			m->changes++;
			return;
		}
}

static void m_clear(struct mirror *m)
{
	unsigned i;

	for (i = 0; i < BUCKETS; i++)
		while (m->b[i]) {
			struct ent *e = m->b[i];

			m->b[i] = e->next;
			ent_free(e);
		}
	m->n = 0;
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp((*(struct ent *const *)a)->key, (*(struct ent *const *)b)->key);
}

/* The entries under @sub ("nodes/"), sorted; *out malloc'd. */
static size_t m_list(struct mirror *m, const char *sub, struct ent ***out)
{
	size_t n = 0, len = strlen(sub);
	struct ent *e;
	unsigned i;

	*out = malloc((m->n + 1) * sizeof(**out));
	if (*out == NULL)
		return 0;
	for (i = 0; i < BUCKETS; i++)
		for (e = m->b[i]; e; e = e->next)
			if (strncmp(e->key, sub, len) == 0)
				(*out)[n++] = e;
	qsort(*out, n, sizeof(**out), cmp_ent);
	return n;
}

/* Read everything under the prefix, then watch from the next revision. */
static int m_load(struct mirror *m)
{
	struct nf_etcd_kvs kvs;
	size_t i, plen = strlen(m->prefix);
	int ret;

	if (m->w) {
		nf_etcd_watch_stop(m->w);
		m->w = NULL;
	}
	m_clear(m);
	ret = nf_etcd_get(m->e, m->prefix, true, &kvs);
	if (ret < 0)
		return ret;
	for (i = 0; i < kvs.n && ret == 0; i++)
		ret = m_set(m, kvs.kv[i].key + plen, kvs.kv[i].val, kvs.kv[i].len,
			    kvs.kv[i].mod_rev);
	if (ret == 0)
		ret = nf_etcd_watch_start(m->e, m->prefix, kvs.rev + 1, &m->w);
	nf_etcd_kvs_free(&kvs);
	m->changes++;
	return ret;
}

/* Does @key start with one of @subs (NULL: any)? */
static bool m_wanted(const char *key, const char *const *subs)
{
	for (; subs && *subs; subs++)
		if (strncmp(key, *subs, strlen(*subs)) == 0)
			return true;
	return subs == NULL;
}

/* Apply what the watch saw. Returns the number of changes to keys under
 * @subs (NULL: all), or -errno. */
static int m_update(struct mirror *m, const char *const *subs)
{
	int wanted = 0;
	struct nf_etcd_event *ev;
	size_t n, i, plen = strlen(m->prefix);
	int ret;

	if (m->w == NULL)
		return -ENOTCONN;
	ret = nf_etcd_watch_read(m->w, &ev, &n);
	if (ret == -ESTALE) {	/* compacted past us: read it all again */
		ret = m_load(m);
		return ret < 0 ? ret : 1;
	}
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		const struct nf_etcd_kv *kv = &ev[i].kv;

		if (strncmp(kv->key, m->prefix, plen) != 0)
			continue;
		if (ev[i].type == NF_ETCD_PUT)
			m_set(m, kv->key + plen, kv->val, kv->len, kv->mod_rev);
		else
			m_del(m, kv->key + plen);
		wanted += m_wanted(kv->key + plen, subs);
	}
	nf_etcd_events_free(ev, n);
	return wanted;
}

/* @timeout_ms per request and member: a node agent's must stay well under
 * its lease; the controller's and the commands' cover a range read of
 * every key of a large cluster. */
static int m_open(struct mirror *m, const char *endpoints, const char *prefix,
		  unsigned timeout_ms)
{
	int ret;

	memset(m, 0, sizeof(*m));
	snprintf(m->prefix, sizeof(m->prefix), "%s/", prefix);
	ret = nf_etcd_open(endpoints, timeout_ms, &m->e);
	if (ret < 0)
		return ret;
	return m_load(m);
}

static void m_close(struct mirror *m)
{
	if (m->w)
		nf_etcd_watch_stop(m->w);
	m_clear(m);
	if (m->e)
		nf_etcd_close(m->e);
}

/* m_open, then @then(@arg) if given; while etcd does not answer (starting,
 * a lost quorum) again every second, until it does or a signal stops us.
 * A bad endpoint list (-EINVAL) is not waited for. */
static int m_open_wait(struct mirror *m, const char *who, const char *etcd, const char *prefix,
		       unsigned timeout_ms, int (*then)(void *), void *arg)
{
	int ret;

	for (;;) {
		ret = m_open(m, etcd, prefix, timeout_ms);
		if (ret == 0 && then)
			ret = then(arg);
		if (ret == 0)
			return 0;
		fprintf(stderr, "%s: etcd at %s: %s%s\n", who, etcd,
			nf_last_error()[0] ? nf_last_error() : strerror(-ret),
			ret == -EINVAL || stop ? "" : "; again in 1 s");
		m_close(m);
		if (ret == -EINVAL || stop)
			return ret;
		sleep(1);
	}
}

static int m_put(struct mirror *m, const char *key, const char *val, int64_t lease)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", m->prefix, key);
	return nf_etcd_put(m->e, full, val, strlen(val), lease, NULL);
}

static int m_delkey(struct mirror *m, const char *key, bool prefix)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", m->prefix, key);
	return nf_etcd_del(m->e, full, prefix, NULL);
}

/* Writes gathered into transactions of up to NF_ETCD_TXN_MAX keys: one
 * request and one revision each (a pass that moves a thousand chains
 * would otherwise wait for a thousand commits, one after the other). */
struct batch {
	struct mirror *m;
	char *key[NF_ETCD_TXN_MAX], *val[NF_ETCD_TXN_MAX];
	size_t n;
	uint64_t keys, txns;
	int err;
};

static int b_flush(struct batch *b)
{
	size_t i;
	int ret = 0;

	if (b->n) {
		ret = nf_etcd_put_many(b->m->e, (const char *const *)b->key,
				       (const char *const *)b->val, b->n);
		if (ret == 0) {
			b->keys += b->n;
			b->txns++;
			/* seen as written at once: a pass before the watch brings
			 * them back must not write them again */
			for (i = 0; i < b->n; i++)
				m_set(b->m, b->key[i] + strlen(b->m->prefix), b->val[i],
				      strlen(b->val[i]), 0);
		} else {
			b->err = ret;
		}
	}
	for (i = 0; i < b->n; i++) {
		free(b->key[i]);
		free(b->val[i]);
	}
	b->n = 0;
	return ret;
}

static int b_put(struct batch *b, const char *key, const char *val)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", b->m->prefix, key);
	b->key[b->n] = strdup(full);
	b->val[b->n] = strdup(val);
	if (b->key[b->n] == NULL || b->val[b->n] == NULL) {
		free(b->key[b->n]);
		free(b->val[b->n]);
		return -ENOMEM;
	}
	if (++b->n == NF_ETCD_TXN_MAX)
		return b_flush(b);
	return 0;
}

/* --- small helpers --- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* A node's registration (nodes/NAME) as a placement node. */
static int pnode_of(const struct ent *e, struct nc_pnode *n)
{
	struct json_object *o = json_tokener_parse(e->val), *l;
	size_t i;

	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", e->key + strlen("nodes/"));
	if (o == NULL)
		return -EINVAL;
	n->cpu_milli = (uint64_t)json_object_get_int64(json_object_object_get(o, "cpu"));
	n->memory = (uint64_t)json_object_get_int64(json_object_object_get(o, "memory"));
	if (json_object_object_get_ex(o, "labels", &l) && json_object_is_type(l, json_type_array))
		for (i = 0; i < json_object_array_length(l) && n->nlabel < NC_PLABEL_MAX; i++)
			snprintf(n->label[n->nlabel++], sizeof(n->label[0]), "%s",
				 json_object_get_string(json_object_array_get_idx(l, i)));
	n->alive = true;
	json_object_put(o);
	return 0;
}

/* Load description text @text as nfchain up would a file. */
static int spec_from_text(const char *name, const char *text, size_t len, struct nc_spec **s,
			  char *err, size_t errlen)
{
	char path[64];
	int fd, ret;

	fd = memfd_create("spec", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = nc_spec_load(path, s, err, errlen);
	close(fd);
	if (ret < 0 && strncmp(err, path, strlen(path)) == 0) {
		/* name the key, not the memfd */
		char tmp[600];

		snprintf(tmp, sizeof(tmp), "specs/%s%.500s", name, err + strlen(path));
		nf_strlcpy(err, tmp, errlen);
	}
	return ret;
}

/* --- the controller --- */

struct cspec {
	int64_t mod;
	bool ok;
	char err[400];
	struct nc_pspec p;
	int out[NC_VNF_MAX];
	int xout[NC_XPORT_MAX];
};

struct ctl_run {
	struct mirror m;
	uint64_t writes, placements, recomputes, txns;
	bool verbose;
};

static void placement_json(const struct cspec *c, const struct nc_pnode *n, const char *err,
			   char *out, size_t len)
{
	struct json_object *o = json_object_new_object(), *p = json_object_new_object();
	unsigned v;

	json_object_object_add(o, "spec-rev", json_object_new_int64(c->mod));
	for (v = 0; v < c->p.nvnf; v++)
		if (c->out[v] >= 0)
			json_object_object_add(p, c->p.vnf[v].name,
					       json_object_new_string(n[c->out[v]].name));
	for (v = 0; v < c->p.nport; v++)
		if (c->xout[v] >= 0)
			json_object_object_add(p, c->p.port[v].name,
					       json_object_new_string(n[c->xout[v]].name));
	json_object_object_add(o, "place", p);
	json_object_object_add(o, "error", json_object_new_string(err));
	snprintf(out, len, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int controller_pass(struct ctl_run *r)
{
	uint64_t t0 = now_ms(), w0 = r->writes, x0 = r->txns;
	struct ent **nodes = NULL, **specs = NULL, **pls = NULL;
	struct batch b = { .m = &r->m };
	size_t nn, ns, np, i;
	struct nc_pnode *pn = NULL;
	char *errs = NULL;
	unsigned v;
	int ret = 0;

	r->recomputes++;
	nn = m_list(&r->m, "nodes/", &nodes);
	ns = m_list(&r->m, "specs/", &specs);
	np = m_list(&r->m, "placement/", &pls);
	pn = calloc(nn + 1, sizeof(*pn));
	errs = calloc(ns + 1, 400);
	if (nodes == NULL || specs == NULL || pls == NULL || pn == NULL || errs == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nn; i++)
		if (pnode_of(nodes[i], &pn[i]) < 0)
			pn[i].alive = false;	/* unreadable: not a node to use */
	/* Parse what changed; pass 1: keep what still fits. */
	for (i = 0; i < ns; i++) {
		struct ent *e = specs[i];
		const char *name = e->key + strlen("specs/");
		struct cspec *c = e->aux;
		char pkey[128];
		struct ent *pe;
		int cur[NC_VNF_MAX];

		if (c == NULL || c->mod != e->mod) {
			struct nc_spec *s = NULL;

			if (c == NULL) {
				c = calloc(1, sizeof(*c));
				if (c == NULL) {
					ret = -ENOMEM;
					goto out;
				}
				e->aux = c;
				e->aux_free = free;
			}
			c->mod = e->mod;
			c->ok = spec_from_text(name, e->val, e->len, &s, c->err,
					       sizeof(c->err)) == 0;
			if (c->ok && s->cluster) {
				c->ok = false;
				snprintf(c->err, sizeof(c->err), "specs/%s: has a cluster section: "
					 "the controller writes it", name);
			}
			if (c->ok)
				nc_pspec_of(s, &c->p);
			nc_spec_free(s);
		}
		if (!c->ok)
			continue;
		for (v = 0; v < NC_VNF_MAX; v++)
			cur[v] = -1;
		snprintf(pkey, sizeof(pkey), "placement/%s", name);
		pe = m_get(&r->m, pkey);
		if (pe) {
			struct json_object *o = json_tokener_parse(pe->val), *p;

			if (o && json_object_object_get_ex(o, "place", &p))
				for (v = 0; v < c->p.nvnf; v++)
					cur[v] = nc_place_node(pn, (unsigned)nn,
							    jstr(p, c->p.vnf[v].name));
			json_object_put(o);
		}
		nc_place_keep(pn, (unsigned)nn, &c->p, cur, c->out);
	}
	/* pass 2: place the rest; write what differs */
	for (i = 0; i < ns; i++) {
		struct ent *e = specs[i];
		const char *name = e->key + strlen("specs/");
		struct cspec *c = e->aux;
		char *err = errs + i * 400, key[128], val[4096];
		struct ent *pe;

		if (c->ok && nc_place_new(pn, (unsigned)nn, &c->p, c->out, err, 400) == 0)
			err[0] = '\0';
		if (!c->ok)
			snprintf(err, 400, "%s", c->err);
		if (c->ok) {
			nc_place_ports(pn, (unsigned)nn, &c->p, c->out, c->xout);
		} else {	/* a refused description is placed nowhere */
			memset(c->out, 0xff, sizeof(c->out));
			memset(c->xout, 0xff, sizeof(c->xout));
		}
		placement_json(c, pn, err, val, sizeof(val));
		snprintf(key, sizeof(key), "placement/%s", name);
		pe = m_get(&r->m, key);
		if (pe && strcmp(pe->val, val) == 0)
			continue;
		if (r->verbose)
			fprintf(stderr, "nfchain controller: %s %s\n", key, val);
		if (b_put(&b, key, val) < 0)
			ret = -EIO;
	}
	if (b_flush(&b) < 0 || b.err)
		ret = -EIO;
	if (ret < 0)
		fprintf(stderr, "nfchain controller: writing placements: %s\n", nf_last_error());
	r->writes += b.keys;
	r->placements += b.keys;
	r->txns += b.txns;
	/* placements of descriptions that are gone */
	for (i = 0; i < np; i++) {
		char skey[128];

		snprintf(skey, sizeof(skey), "specs/%s", pls[i]->key + strlen("placement/"));
		if (m_get(&r->m, skey) == NULL && m_delkey(&r->m, pls[i]->key, false) == 0) {
			r->writes++;
			r->txns++;
		}
	}
out:
	if (r->verbose || now_ms() - t0 >= 1000)
		fprintf(stderr, "nfchain controller: pass %" PRIu64 ": %zu nodes, %zu descriptions, "
			"%" PRIu64 " keys written in %" PRIu64 " requests, %" PRIu64 " ms\n",
			r->recomputes, nn, ns, r->writes - w0, r->txns - x0, now_ms() - t0);
	free(nodes);
	free(specs);
	free(pls);
	free(pn);
	free(errs);
	return ret;
}

static void controller_usage(FILE *f)
{
	fprintf(f,
"usage: nfchain controller [--etcd URLS] [--prefix P] [-v]\n"
"\n"
"Place the VNF types of every description in etcd (P/specs/NAME) on the\n"
"nodes whose agents are registered (P/nodes/NODE), within their labels,\n"
"pins, anti-affinity and capacity, and write the placement\n"
"(P/placement/NAME). Runs until SIGINT or SIGTERM; keeps no state of its\n"
"own (a restart reads the same placement back and writes nothing).\n"
"\n"
"  --etcd URLS    etcd's client URLs, comma-separated (default " DEF_ETCD ")\n"
"  --prefix P     the keys' prefix (default " DEF_PREFIX ")\n"
"  -v             log every placement written\n"
"\n"
"docs/CLUSTER.md\n");
}

/* What the placement depends on: the controller's own writes and the
 * nodes' reports do not start a pass. */
static const char *const ctl_subs[] = { "nodes/", "specs/", NULL };

int nc_cmd_controller(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "etcd", required_argument, NULL, 'e' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *etcd = DEF_ETCD, *prefix = DEF_PREFIX;
	static struct ctl_run r;
	uint64_t dirty_at = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'e': etcd = optarg; break;
		case 'p': prefix = optarg; break;
		case 'v': r.verbose = true; break;
		case 'h': controller_usage(stdout); return 0;
		default: controller_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		controller_usage(stderr);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = m_open_wait(&r.m, "nfchain controller", etcd, prefix, 10000, NULL, NULL);
	if (ret < 0)
		return ret == -EINVAL ? 2 : 1;
	fprintf(stderr, "nfchain controller: watching %s on %s\n", r.m.prefix, etcd);
	dirty_at = now_ms();
	while (!stop) {
		struct pollfd pfd = { .fd = nf_etcd_watch_fd(r.m.w), .events = POLLIN };

		poll(&pfd, 1, 100);
		ret = m_update(&r.m, ctl_subs);
		if (ret < 0) {
			fprintf(stderr, "nfchain controller: watch: %s; reading again\n",
				strerror(-ret));
			sleep(1);
			if (m_load(&r.m) == 0)
				dirty_at = now_ms();
			continue;
		}
		if (ret > 0 && !dirty_at)
			dirty_at = now_ms();
		/* a burst of changes (a node going, many descriptions) is one pass */
		if (dirty_at && now_ms() - dirty_at >= 50) {
			dirty_at = 0;
			if (controller_pass(&r) < 0)
				dirty_at = now_ms() + 1000;	/* again in a while */
		}
	}
	fprintf(stderr, "nfchain controller: stopped: %" PRIu64 " passes, %" PRIu64
		" placements written in %" PRIu64 " requests\n", r.recomputes, r.placements, r.txns);
	m_close(&r.m);
	return 0;
}

/* --- the node agent --- */

#define DEP_MAX 64

enum dop { OP_NONE, OP_UP, OP_APPLY, OP_DOWN };

struct dep {
	bool used, running;
	char name[NC_NAME_MAX + 1];
	char *applied;		/* the file text running */
	int64_t rev;		/* its spec revision */
	pid_t pid;		/* nfchain up/apply/down running */
	enum dop op;
	char *want;		/* the text the child applies */
	int64_t want_rev;
	uint64_t retry_at;
	char state[256];	/* reported */
	char reported[1024];
	uint64_t reported_at;
};

struct node_run {
	struct mirror m;
	char name[NC_NODE_NAME + 1];
	char reg[1024];		/* our nodes/NAME value */
	char run[200], state_dir[256], self[PATH_MAX];
	unsigned ttl;
	int64_t lease;
	uint64_t ka_at;
	struct dep dep[DEP_MAX];
	unsigned nsim;		/* simulated nodes (no processes) */
};

static int node_register(void *arg)
{
	struct node_run *n = arg;
	char key[128];
	unsigned i;
	int ret;

	ret = nf_etcd_lease_grant(n->m.e, n->ttl, &n->lease);
	if (ret < 0)
		return ret;
	if (n->nsim == 0) {
		snprintf(key, sizeof(key), "nodes/%s", n->name);
		return m_put(&n->m, key, n->reg, n->lease);
	}
	for (i = 0; i < n->nsim && ret == 0; i++) {	/* one lease for them all */
		snprintf(key, sizeof(key), "nodes/%s-%04u", n->name, i);
		ret = m_put(&n->m, key, n->reg, n->lease);
	}
	return ret;
}

/* This node's file for deployment @name, or NULL if it has no part in it
 * (or its placement is not for the description's revision, or a node it
 * names has not registered). */
static char *node_compose(struct node_run *n, const char *name, const char *self,
			  int64_t *rev)
{
	char key[128], *buf = NULL;
	struct json_object *pl = NULL, *place, *names = json_object_new_object();
	struct ent *se, *pe;
	size_t len = 0;
	FILE *f = NULL;
	bool mine = false;

	snprintf(key, sizeof(key), "specs/%s", name);
	se = m_get(&n->m, key);
	snprintf(key, sizeof(key), "placement/%s", name);
	pe = m_get(&n->m, key);
	if (se == NULL || pe == NULL || (pl = json_tokener_parse(pe->val)) == NULL)
		goto out;
	if (json_object_get_int64(json_object_object_get(pl, "spec-rev")) != se->mod ||
	    jstr(pl, "error")[0] || !json_object_object_get_ex(pl, "place", &place))
		goto out;
	json_object_object_foreach(place, k0, v0) {
		(void)k0;
		mine |= strcmp(json_object_get_string(v0), self) == 0;
		json_object_object_add(names, json_object_get_string(v0), NULL);
	}
	if (!mine)
		goto out;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		goto out;
	fprintf(f, "%s%s# written by nfchain node %s\ncluster:\n  node: %s\n  nodes:\n", se->val,
		se->len && se->val[se->len - 1] != '\n' ? "\n" : "", self, self);
	json_object_object_foreach(names, nn, unused) {
		struct json_object *o;
		struct ent *ne;

		(void)unused;
		snprintf(key, sizeof(key), "nodes/%s", nn);
		ne = m_get(&n->m, key);
		if (ne == NULL || (o = json_tokener_parse(ne->val)) == NULL) {
			fclose(f);
			free(buf);
			buf = NULL;
			f = NULL;
			goto out;
		}
		fprintf(f, "    %s: {locator: \"%s\", uplink: \"%s\", gateway: \"%s\"", nn,
			jstr(o, "locator"), jstr(o, "uplink"), jstr(o, "gateway"));
		if (jstr(o, "kernel")[0])
			fprintf(f, ", kernel: \"%s\"", jstr(o, "kernel"));
		fprintf(f, "}\n");
		json_object_put(o);
	}
	fprintf(f, "  place:\n");
	json_object_object_foreach(place, k, v)
		fprintf(f, "    %s: %s\n", k, json_object_get_string(v));
	fclose(f);
	*rev = se->mod;
out:
	json_object_put(pl);
	json_object_put(names);
	return buf;
}

static struct dep *dep_find(struct node_run *n, const char *name, bool add)
{
	unsigned i;

	for (i = 0; i < DEP_MAX; i++)
		if (n->dep[i].used && strcmp(n->dep[i].name, name) == 0)
			return &n->dep[i];
	for (i = 0; add && i < DEP_MAX; i++)
		if (!n->dep[i].used) {
			memset(&n->dep[i], 0, sizeof(n->dep[i]));
			n->dep[i].used = true;
			snprintf(n->dep[i].name, sizeof(n->dep[i].name), "%s", name);
			return &n->dep[i];
		}
	return NULL;
}

/* nfchain up/apply/down for @d, as a child: the loop goes on. */
static void dep_spawn(struct node_run *n, struct dep *d, enum dop op)
{
	char file[400], *argv[10];
	pid_t pid;
	int i = 0, fd;

	snprintf(file, sizeof(file), "%s/%s.yaml", n->state_dir, d->name);
	if (op != OP_DOWN) {
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, d->want, strlen(d->want)) != (ssize_t)strlen(d->want)) {
			snprintf(d->state, sizeof(d->state), "failed: %.150s: %s", file, strerror(errno));
			if (fd >= 0)
				close(fd);
			d->retry_at = now_ms() + 2000;
			return;
		}
		close(fd);
	}
	argv[i++] = "nfchain";
	argv[i++] = op == OP_UP ? "up" : op == OP_APPLY ? "apply" : "down";
	if (op == OP_UP)
		argv[i++] = "-d";
	argv[i++] = "--run-dir";
	argv[i++] = n->run;
	if (op != OP_UP) {
		argv[i++] = "--name";
		argv[i++] = d->name;
	}
	if (op != OP_DOWN)
		argv[i++] = file;
	argv[i] = NULL;
	pid = fork();
	if (pid == 0) {
		char log[450];

		setpgid(0, 0);	/* not killed with the agent's group */
		snprintf(log, sizeof(log), "%s/%s.log", n->state_dir, d->name);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(n->self, argv);
		_exit(127);
	}
	if (pid < 0) {
		d->retry_at = now_ms() + 2000;
		return;
	}
	d->pid = pid;
	d->op = op;
	snprintf(d->state, sizeof(d->state), "%s", op == OP_DOWN ? "stopping" : "starting");
	fprintf(stderr, "nfchain node %s: %s %s (rev %" PRId64 ")\n", n->name, argv[1], d->name,
		d->want_rev);
}

static bool dep_exists(struct node_run *n, const char *name)
{
	char ctl[400];

	snprintf(ctl, sizeof(ctl), "%s/%s/agent.ctl", n->run, name);
	return access(ctl, F_OK) == 0;
}

static void node_reconcile(struct node_run *n)
{
	bool seen[DEP_MAX] = { false };
	struct ent **pls = NULL;
	size_t np, i;
	unsigned k;

	np = m_list(&n->m, "placement/", &pls);
	/* what should run here */
	for (i = 0; i < np; i++) {
		const char *name = pls[i]->key + strlen("placement/");
		int64_t rev = 0;
		char *text = node_compose(n, name, n->name, &rev);
		struct dep *d;

		if (text == NULL)
			continue;
		d = dep_find(n, name, true);
		if (d == NULL) {
			free(text);
			continue;
		}
		seen[d - n->dep] = true;
		if (d->applied && strcmp(d->applied, text) == 0) {
			free(text);
			continue;
		}
		free(d->want);
		d->want = text;
		d->want_rev = rev;
	}
	/* what should not: node_act takes it down */
	for (k = 0; k < DEP_MAX; k++)
		if (n->dep[k].used && !seen[k]) {
			free(n->dep[k].want);
			n->dep[k].want = NULL;
		}
	free(pls);
}

/* Start the children the state asks for, one per deployment at a time. */
static void node_act(struct node_run *n)
{
	uint64_t now = now_ms();
	unsigned k;

	for (k = 0; k < DEP_MAX; k++) {
		struct dep *d = &n->dep[k];

		if (!d->used || d->pid || now < d->retry_at)
			continue;
		if (d->want && (!d->applied || strcmp(d->applied, d->want) != 0))
			dep_spawn(n, d, d->running || dep_exists(n, d->name) ? OP_APPLY : OP_UP);
		else if (!d->want && (d->running || dep_exists(n, d->name)))
			dep_spawn(n, d, OP_DOWN);
		else if (!d->want && !d->running) {
			char key[256];

			snprintf(key, sizeof(key), "status/%s/%s", n->name, d->name);
			m_delkey(&n->m, key, false);
			free(d->applied);
			d->used = false;
		}
	}
}

static void node_reap(struct node_run *n)
{
	int st;
	pid_t pid;
	unsigned k;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (k = 0; k < DEP_MAX; k++) {
			struct dep *d = &n->dep[k];
			bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;

			if (!d->used || d->pid != pid)
				continue;
			d->pid = 0;
			if (d->op == OP_DOWN) {
				d->running = false;
				free(d->applied);
				d->applied = NULL;
				snprintf(d->state, sizeof(d->state), "down");
			} else if (ok) {
				d->running = true;
				free(d->applied);
				d->applied = d->want ? strdup(d->want) : NULL;
				d->rev = d->want_rev;
				snprintf(d->state, sizeof(d->state), "up");
			} else {
				snprintf(d->state, sizeof(d->state), "failed: nfchain %s exited %d "
					 "(see %.150s/%s.log)", d->op == OP_UP ? "up" : "apply",
					 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
					 n->state_dir, d->name);
				d->retry_at = now_ms() + 2000;
				/* a failed up may have left a half deployment: down cleans */
				if (d->op == OP_UP)
					d->running = dep_exists(n, d->name);
			}
			d->op = OP_NONE;
		}
}

/* status/NODE/NAME: the state, the replicas up, their counters; written
 * when the state changes, the counters at most every 5 s. */
static void node_report(struct node_run *n)
{
	uint64_t now = now_ms();
	unsigned k;

	for (k = 0; k < DEP_MAX; k++) {
		struct dep *d = &n->dep[k];
		struct json_object *o, *r = NULL, *reps;
		char ctl[400], key[256], *out = NULL, head[512];
		int64_t rx = 0, tx = 0, drops = 0;
		int up = 0, all = 0;
		size_t i;

		if (!d->used || !d->state[0])
			continue;
		if (d->running) {
			snprintf(ctl, sizeof(ctl), "%s/%s/agent.ctl", n->run, d->name);
			if (nf_ctl_request(ctl, "status", 1000, &out) == 0)
				r = json_tokener_parse(out);
			free(out);
		}
		if (r && json_object_object_get_ex(r, "replicas", &reps))
			for (i = 0; i < json_object_array_length(reps); i++) {
				struct json_object *x = json_object_array_get_idx(reps, i);

				all++;
				up += strcmp(jstr(x, "state"), "up") == 0;
				rx += json_object_get_int64(json_object_object_get(x, "rx_packets"));
				tx += json_object_get_int64(json_object_object_get(x, "tx_packets"));
				drops += json_object_get_int64(json_object_object_get(x, "drops"));
			}
		json_object_put(r);
		snprintf(head, sizeof(head), "{\"state\":\"%s\",\"spec-rev\":%" PRId64
			 ",\"replicas\":%d,\"up\":%d", d->state, d->rev, all, up);
		if (strncmp(d->reported, head, strlen(head)) == 0 && now - d->reported_at < 5000)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "state", json_object_new_string(d->state));
		json_object_object_add(o, "spec-rev", json_object_new_int64(d->rev));
		json_object_object_add(o, "replicas", json_object_new_int(all));
		json_object_object_add(o, "up", json_object_new_int(up));
		json_object_object_add(o, "rx_packets", json_object_new_int64(rx));
		json_object_object_add(o, "tx_packets", json_object_new_int64(tx));
		json_object_object_add(o, "drops", json_object_new_int64(drops));
		snprintf(head, sizeof(head), "%s", json_object_to_json_string_ext(o,
			 JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		if (strcmp(head, d->reported) == 0) {
			d->reported_at = now;
			continue;
		}
		snprintf(key, sizeof(key), "status/%s/%s", n->name, d->name);
		if (m_put(&n->m, key, head, 0) == 0) {
			snprintf(d->reported, sizeof(d->reported), "%s", head);
			d->reported_at = now;
		}
	}
}

/* Simulated nodes: every placement naming one of them is "up" at once
 * (one status write per node and revision), no process runs. Only the
 * placements changed since the last call are read. */
static uint64_t sim_writes, sim_seen;

static void sim_react(struct node_run *n)
{
	struct ent **pls = NULL;
	uint64_t upto = n->m.changes;
	struct batch b = { .m = &n->m };
	size_t np, i;

	np = m_list(&n->m, "placement/", &pls);
	for (i = 0; i < np; i++) {
		if (pls[i]->gen <= sim_seen)
			continue;
		const char *name = pls[i]->key + strlen("placement/");
		struct json_object *pl = json_tokener_parse(pls[i]->val), *place;
		int64_t rev = pl ? json_object_get_int64(json_object_object_get(pl, "spec-rev")) : 0;

		if (pl && !jstr(pl, "error")[0] && json_object_object_get_ex(pl, "place", &place)) {
			json_object_object_foreach(place, k, v) {
				const char *node = json_object_get_string(v);
				char key[256], val[128];
				struct ent *st;

				(void)k;
				if (strncmp(node, n->name, strlen(n->name)) != 0 ||
				    node[strlen(n->name)] != '-')
					continue;
				snprintf(key, sizeof(key), "status/%s/%s", node, name);
				snprintf(val, sizeof(val), "{\"state\":\"up\",\"spec-rev\":%" PRId64 "}",
					 rev);
				st = m_get(&n->m, key);
				if (st && strcmp(st->val, val) == 0)
					continue;
				if (b_put(&b, key, val) == 0)
					m_set(&n->m, key, val, strlen(val), 0);	/* once */
			}
		}
		json_object_put(pl);
	}
	free(pls);
	b_flush(&b);
	sim_writes += b.keys;
	sim_seen = upto;
}

/* What a node agent acts on (not the other nodes' reports). */
static const char *const node_subs[] = { "nodes/", "specs/", "placement/", NULL };

static void node_usage(FILE *f)
{
	fprintf(f,
"usage: nfchain node --name NODE --locator PREFIX --uplink SPEC --gateway MAC\n"
"                    [--etcd URLS] [--prefix P] [--labels L,...] [--cpu N]\n"
"                    [--memory SIZE] [--kernel SPEC] [--ttl S] [--run-dir DIR]\n"
"                    [--state-dir DIR]\n"
"       nfchain node --simulate N --name PREFIX [--etcd URLS] ...\n"
"\n"
"The node agent: registers this node in etcd (P/nodes/NODE, under a lease\n"
"of --ttl seconds kept alive every ttl/3) and runs the part of every\n"
"deployment the controller placed here: nfswitch with the uplink, the\n"
"local replicas, the SIDs and the routes to the other nodes' locators\n"
"(nfchain up -d / apply / down on a file it writes to --state-dir).\n"
"It reports each part in P/status/NODE/NAME. Stopping the agent leaves\n"
"the deployments running: an agent started again takes them over; if none\n"
"comes back within the lease, the controller places them elsewhere.\n"
"\n"
"  --name NODE        this node (a-z, 0-9, '-', '.'; at most 63)\n"
"  --locator PREFIX   its SIDs' IPv6 prefix, /16../96 (fc00:0:1::/48)\n"
"  --uplink SPEC      the switch port to the underlay (afxdp:IF, afpacket:IF)\n"
"  --gateway MAC      the underlay router's MAC on the uplink\n"
"  --kernel SPEC      a switch port to this node's kernel (afpacket:IF, the\n"
"                     end of a veth pair whose other end has the uplink's\n"
"                     MAC): what the underlay sends that is not a SID (NDP,\n"
"                     OSPF, BGP) goes there and back, so a routing daemon\n"
"                     on the node can announce the locator\n"
"  --labels L,...     what it offers placement (edge,core)\n"
"  --cpu N            CPUs for replicas (default: the online CPUs)\n"
"  --memory SIZE      memory for replicas (default 4G)\n"
"  --ttl S            lease seconds, 2..60 (default 3)\n"
"  --run-dir DIR      deployments' run directory (default /run/nfchain)\n"
"  --state-dir DIR    its files and logs (default RUN/cluster-NODE)\n"
"  --simulate N       N simulated nodes PREFIX-0000...: same registration,\n"
"                     every placement reported up at once, no process\n"
"                     (the controller's scale test, bench/cluster_scale.sh)\n"
"  --etcd, --prefix   as nfchain controller\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || d <= 0)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': d *= 1024; end++; break;
	case 'M': d *= 1048576; end++; break;
	case 'G': d *= 1073741824; end++; break;
	case 'T': d *= 1099511627776.0; end++; break;
	default: break;
	}
	if (*end)
		return -EINVAL;
	*out = (uint64_t)d;
	return 0;
}

int nc_cmd_node(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "etcd", required_argument, NULL, 'e' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "labels", required_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "locator", required_argument, NULL, 'L' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "ttl", required_argument, NULL, 't' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "simulate", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *etcd = DEF_ETCD, *prefix = DEF_PREFIX, *labels = "", *locator = NULL;
	const char *uplink = NULL, *gateway = NULL, *state_dir = NULL, *kernel = "";
	static struct node_run n;
	uint64_t cpu = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN) * 1000, mem = 4ull << 30, u;
	struct json_object *reg, *la;
	uint8_t mac[6], loc[16];
	bool dirty = true;
	char *tok, *save, lab[300];
	int c, ret;
	ssize_t len;

	n.ttl = 3;
	snprintf(n.run, sizeof(n.run), "%s", getenv("NFCHAIN_RUN_DIR") ?
		 getenv("NFCHAIN_RUN_DIR") : "/run/nfchain");
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'e': etcd = optarg; break;
		case 'p': prefix = optarg; break;
		case 'n': snprintf(n.name, sizeof(n.name), "%s", optarg);
			if (!nc_node_name_ok(optarg))
				goto bad_name;
			break;
		case 'l': labels = optarg; break;
		case 'c':
			if (nf_parse_u64(optarg, 1, 4096, 0, &u) < 0) {
				fprintf(stderr, "nfchain node: --cpu: 1..4096\n");
				return 2;
			}
			cpu = u * 1000;
			break;
		case 'm':
			if (parse_size(optarg, &mem) < 0) {
				fprintf(stderr, "nfchain node: --memory: a size (4G, 512M)\n");
				return 2;
			}
			break;
		case 'L': locator = optarg; break;
		case 'u': uplink = optarg; break;
		case 'g': gateway = optarg; break;
		case 'k': kernel = optarg; break;
		case 't':
			if (nf_parse_u64(optarg, 2, 60, 0, &u) < 0) {
				fprintf(stderr, "nfchain node: --ttl: 2..60 seconds\n");
				return 2;
			}
			n.ttl = (unsigned)u;
			break;
		case 'r': snprintf(n.run, sizeof(n.run), "%s", optarg); break;
		case 's': state_dir = optarg; break;
		case 'S':
			if (nf_parse_u64(optarg, 1, 100000, 0, &u) < 0) {
				fprintf(stderr, "nfchain node: --simulate: 1..100000 nodes\n");
				return 2;
			}
			n.nsim = (unsigned)u;
			break;
		case 'h': node_usage(stdout); return 0;
		default: node_usage(stderr); return 2;
		}
	}
	if (optind != argc || !n.name[0]) {
		fprintf(stderr, "nfchain node: %s\n", optind != argc ? "unexpected argument" :
			"--name is needed");
		return 2;
	}
	if (n.nsim == 0 && (!locator || !uplink || !gateway)) {
		fprintf(stderr, "nfchain node: --locator, --uplink and --gateway are needed\n");
		return 2;
	}
	if (locator) {
		char a[64], *sl;
		uint64_t pl;

		snprintf(a, sizeof(a), "%s", locator);
		sl = strchr(a, '/');
		if (sl)
			*sl++ = '\0';
		if (!sl || inet_pton(AF_INET6, a, loc) != 1 ||
		    nf_parse_u64(sl, 16, 96, 0, &pl) < 0) {
			fprintf(stderr, "nfchain node: --locator: '%s' is not an IPv6 prefix "
				"/16../96\n", locator);
			return 2;
		}
	}
	if (gateway && nf_parse_mac(gateway, mac) < 0) {
		fprintf(stderr, "nfchain node: --gateway: '%s' is not a MAC address\n", gateway);
		return 2;
	}
	reg = json_object_new_object();
	la = json_object_new_array();
	snprintf(lab, sizeof(lab), "%s", labels);
	for (tok = strtok_r(lab, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(la, json_object_new_string(tok));
	json_object_object_add(reg, "labels", la);
	json_object_object_add(reg, "cpu", json_object_new_int64((int64_t)cpu));
	json_object_object_add(reg, "memory", json_object_new_int64((int64_t)mem));
	json_object_object_add(reg, "locator", json_object_new_string(locator ? locator : ""));
	json_object_object_add(reg, "uplink", json_object_new_string(uplink ? uplink : ""));
	json_object_object_add(reg, "gateway", json_object_new_string(gateway ? gateway : ""));
	if (kernel[0])
		json_object_object_add(reg, "kernel", json_object_new_string(kernel));
	snprintf(n.reg, sizeof(n.reg), "%s", json_object_to_json_string_ext(reg,
		 JSON_C_TO_STRING_PLAIN));
	json_object_put(reg);
	if (state_dir)
		snprintf(n.state_dir, sizeof(n.state_dir), "%s", state_dir);
	else
		snprintf(n.state_dir, sizeof(n.state_dir), "%.180s/cluster-%s", n.run, n.name);
	len = readlink("/proc/self/exe", n.self, sizeof(n.self) - 1);
	if (len <= 0)
		return 1;
	n.self[len] = '\0';
	snprintf(lab, sizeof(lab), "%.250s/x", n.state_dir);
	if (n.nsim == 0 && nf_mkdir_parent(lab) < 0) {
		fprintf(stderr, "nfchain node: %s: %s\n", n.state_dir, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = m_open_wait(&n.m, "nfchain node", etcd, prefix, n.nsim ? 10000 : 1000,
			  node_register, &n);
	if (ret < 0)
		return ret == -EINVAL ? 2 : 1;
	n.ka_at = now_ms();
	fprintf(stderr, "nfchain node %s: registered (lease %" PRId64 ", %us)\n", n.name,
		n.lease, n.ttl);
	while (!stop) {
		struct pollfd pfd = { .fd = nf_etcd_watch_fd(n.m.w), .events = POLLIN };
		uint64_t now;

		poll(&pfd, 1, 100);
		now = now_ms();
		if (now - n.ka_at >= n.ttl * 1000 / 3) {
			n.ka_at = now;
			ret = nf_etcd_lease_keepalive(n.m.e, n.lease);
			if (ret == -ENOENT) {	/* expired: the controller saw us go */
				fprintf(stderr, "nfchain node %s: lease expired; registering again\n",
					n.name);
				node_register(&n);
			}
		}
		ret = m_update(&n.m, node_subs);
		if (ret < 0) {
			sleep(1);
			if (m_load(&n.m) == 0)
				dirty = true;
			continue;
		}
		dirty |= ret > 0;
		if (n.nsim) {
			if (dirty)
				sim_react(&n);
			dirty = false;
			continue;
		}
		if (dirty)
			node_reconcile(&n);
		dirty = false;
		node_reap(&n);
		node_act(&n);
		node_report(&n);
	}
	/* The deployments stay; the lease runs out unless an agent comes back. */
	if (n.nsim)
		fprintf(stderr, "nfchain node: %u simulated nodes: %" PRIu64 " status writes\n",
			n.nsim, sim_writes);
	m_close(&n.m);
	return 0;
bad_name:
	fprintf(stderr, "nfchain node: --name: '%s' is not a node name (a-z, 0-9, '-', '.')\n",
		optarg);
	return 2;
}

/* --- nfchain cluster --- */

static void cluster_usage(FILE *f)
{
	fprintf(f,
"usage: nfchain cluster [--etcd URLS] [--prefix P] COMMAND\n"
"\n"
"  apply FILE [--copies N]   store the description FILE (checked first) as\n"
"                            P/specs/NAME; --copies N: N copies NAME-00001...\n"
"                            (the controller's scale test)\n"
"  delete NAME               remove a description (its nodes stop their parts)\n"
"  status [--json]           nodes, placements and what each node reports\n"
"  wait [--timeout S]        until every description is placed and every node\n"
"                            of each placement reports it up at its revision;\n"
"                            prints the time it took and the etcd revisions\n"
"                            (writes) it saw\n");
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	char buf[65536];
	size_t n;
	FILE *m;

	if (f == NULL)
		return -errno;
	m = open_memstream(out, len);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	return 0;
}

/* A copy of description @text named @name: the top-level name line. */
static char *renamed(const char *text, const char *name)
{
	const char *p = text;
	char *out = NULL;
	size_t len;
	FILE *m;

	while (p && strncmp(p, "name:", 5) != 0) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (p == NULL)
		return NULL;
	m = open_memstream(&out, &len);
	fwrite(text, 1, (size_t)(p - text), m);
	fprintf(m, "name: %s", name);
	p = strchr(p, '\n');
	fputs(p ? p : "\n", m);
	fclose(m);
	return out;
}

static int cluster_apply(struct nf_etcd *e, const char *prefix, const char *file,
			 unsigned copies)
{
	struct nc_spec *s;
	char err[600], key[256], name[64];
	char *text = NULL;
	size_t len;
	unsigned i;
	int ret;

	if (nc_spec_load(file, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "nfchain: %s\n", err);
		return 1;
	}
	if (s->cluster) {
		fprintf(stderr, "nfchain: %s: the cluster section is the node agent's; leave it "
			"out\n", file);
		nc_spec_free(s);
		return 1;
	}
	snprintf(name, sizeof(name), "%s", s->name);
	nc_spec_free(s);
	ret = read_file(file, &text, &len);
	if (ret < 0) {
		fprintf(stderr, "nfchain: %s: %s\n", file, strerror(-ret));
		return 1;
	}
	if (copies == 0) {
		snprintf(key, sizeof(key), "%s/specs/%s", prefix, name);
		ret = nf_etcd_put(e, key, text, len, 0, NULL);
		if (ret == 0)
			printf("nfchain: %s stored as %s\n", name, key);
	}
	if (copies && strlen(name) > NC_NAME_MAX - 6) {
		fprintf(stderr, "nfchain: --copies: name %s is too long for -NNNNN\n", name);
		free(text);
		return 1;
	}
	/* copies: NF_ETCD_TXN_MAX per transaction */
	for (i = 1; i <= copies && ret == 0; i += NF_ETCD_TXN_MAX) {
		char *keys[NF_ETCD_TXN_MAX], *vals[NF_ETCD_TXN_MAX], cname[80];
		unsigned j, n = 0;

		for (j = i; j <= copies && j < i + NF_ETCD_TXN_MAX; j++, n++) {
			snprintf(cname, sizeof(cname), "%s-%05u", name, j);
			vals[n] = renamed(text, cname);
			snprintf(key, sizeof(key), "%s/specs/%s", prefix, cname);
			keys[n] = strdup(key);
			if (vals[n] == NULL || keys[n] == NULL) {
				free(keys[n]);
				free(vals[n]);
				ret = -EINVAL;
				break;
			}
		}
		if (ret == 0)
			ret = nf_etcd_put_many(e, (const char *const *)keys,
					       (const char *const *)vals, n);
		for (j = 0; j < n; j++) {
			free(keys[j]);
			free(vals[j]);
		}
	}
	if (copies && ret == 0)
		printf("nfchain: %u copies of %s stored\n", copies, name);
	free(text);
	if (ret < 0 && ret != -EINVAL)
		fprintf(stderr, "nfchain: etcd: %s\n", nf_last_error());
	return ret < 0;
}

/* How many descriptions are placed, and converged (every node named by a
 * placement reports it up at the description's revision). */
static void cluster_count(struct mirror *m, size_t *specs, size_t *placed, size_t *conv,
			  size_t *errors, bool tell)
{
	struct ent **ss = NULL;
	size_t n, i, told = 0;

	*specs = *placed = *conv = *errors = 0;
	n = m_list(m, "specs/", &ss);
	*specs = n;
	for (i = 0; i < n; i++) {
		const char *name = ss[i]->key + strlen("specs/");
		struct json_object *pl, *place;
		char key[256];
		struct ent *pe;
		bool ok = true;

		snprintf(key, sizeof(key), "placement/%s", name);
		pe = m_get(m, key);
		if (pe == NULL || (pl = json_tokener_parse(pe->val)) == NULL)
			continue;
		if (json_object_get_int64(json_object_object_get(pl, "spec-rev")) != ss[i]->mod) {
			json_object_put(pl);
			continue;
		}
		if (jstr(pl, "error")[0]) {
			(*errors)++;
			json_object_put(pl);
			continue;
		}
		(*placed)++;
		if (json_object_object_get_ex(pl, "place", &place)) {
			json_object_object_foreach(place, k, v) {
				struct json_object *st;
				struct ent *se;

				(void)k;
				snprintf(key, sizeof(key), "status/%s/%s", json_object_get_string(v),
					 name);
				se = m_get(m, key);
				st = se ? json_tokener_parse(se->val) : NULL;
				if (!(st && strcmp(jstr(st, "state"), "up") == 0 &&
				      json_object_get_int64(json_object_object_get(st, "spec-rev")) ==
				      ss[i]->mod)) {
					if (tell && ok && told++ < 10)
						fprintf(stderr, "nfchain: %s: node %s reports %s\n", name,
							json_object_get_string(v), se ? se->val : "nothing");
					ok = false;
				}
				json_object_put(st);
			}
		}
		*conv += ok;
		json_object_put(pl);
	}
	if (told > 10)
		fprintf(stderr, "nfchain: ... and %zu more not up\n", told - 10);
	free(ss);
}

static int cluster_status(struct mirror *m, bool json)
{
	struct ent **es = NULL;
	size_t n, i;

	if (json) {
		struct json_object *o = json_object_new_object();

		n = m_list(m, "", &es);
		for (i = 0; i < n; i++) {
			struct json_object *v = json_tokener_parse(es[i]->val);

			json_object_object_add(o, es[i]->key, v ? v :
					       json_object_new_string(es[i]->val));
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
		free(es);
		return 0;
	}
	printf("%-20s %-8s %s\n", "NODE", "CPU", "LABELS / LOCATOR");
	n = m_list(m, "nodes/", &es);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(es[i]->val);

		printf("%-20s %-8.1f %s %s\n", es[i]->key + 6,
		       o ? json_object_get_int64(json_object_object_get(o, "cpu")) / 1000.0 : 0,
		       o ? json_object_to_json_string_ext(json_object_object_get(o, "labels"),
							  JSON_C_TO_STRING_PLAIN) : "?",
		       o ? jstr(o, "locator") : "");
		json_object_put(o);
	}
	free(es);
	printf("\n%-20s %s\n", "DEPLOYMENT", "PLACEMENT");
	n = m_list(m, "placement/", &es);
	for (i = 0; i < n; i++)
		printf("%-20s %s\n", es[i]->key + 10, es[i]->val);
	free(es);
	printf("\n%-32s %s\n", "NODE/DEPLOYMENT", "STATUS");
	n = m_list(m, "status/", &es);
	for (i = 0; i < n; i++)
		printf("%-32s %s\n", es[i]->key + 7, es[i]->val);
	free(es);
	return 0;
}

int nc_cmd_cluster(int argc, char **argv)
{
	const char *etcd = DEF_ETCD, *prefix = DEF_PREFIX, *cmd;
	static struct mirror m;
	int i = 1, ret = 0;

	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cluster_usage(stdout);
			return 0;
		}
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--etcd") == 0)
			etcd = argv[i + 1];
		else if (strcmp(argv[i], "--prefix") == 0)
			prefix = argv[i + 1];
		else
			goto usage;
	}
	if (i >= argc)
		goto usage;
	cmd = argv[i++];
	if (strcmp(cmd, "apply") == 0) {
		struct nf_etcd *e;
		uint64_t copies = 0;

		if (i + 1 == argc - 2 && strcmp(argv[i + 1], "--copies") == 0) {
			if (nf_parse_u64(argv[i + 2], 1, 99999, 0, &copies) < 0) {
				fprintf(stderr, "nfchain: --copies: 1..99999\n");
				return 2;
			}
		} else if (i + 1 != argc) {
			goto usage;
		}
		if (nf_etcd_open(etcd, 5000, &e) < 0) {
			fprintf(stderr, "nfchain: --etcd: %s\n", nf_last_error());
			return 2;
		}
		ret = cluster_apply(e, prefix, argv[i], (unsigned)copies);
		nf_etcd_close(e);
		return ret;
	}
	if (strcmp(cmd, "delete") == 0) {
		struct nf_etcd *e;
		char key[256];
		int64_t nd = 0;

		if (i + 1 != argc)
			goto usage;
		if (nf_etcd_open(etcd, 2000, &e) < 0) {
			fprintf(stderr, "nfchain: --etcd: %s\n", nf_last_error());
			return 2;
		}
		snprintf(key, sizeof(key), "%s/specs/%s", prefix, argv[i]);
		ret = nf_etcd_del(e, key, false, &nd);
		nf_etcd_close(e);
		if (ret < 0 || nd == 0) {
			fprintf(stderr, "nfchain: %s: %s\n", key, ret < 0 ? nf_last_error() :
				"no such description");
			return 1;
		}
		printf("nfchain: %s deleted\n", argv[i]);
		return 0;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "wait") == 0) {
		bool json = false;
		uint64_t timeout = 60, t0 = now_ms();

		for (; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0 && cmd[0] == 's')
				json = true;
			else if (strcmp(argv[i], "--timeout") == 0 && cmd[0] == 'w' && i + 1 < argc &&
				 nf_parse_u64(argv[i + 1], 1, 86400, 0, &timeout) == 0)
				i++;
			else
				goto usage;
		}
		ret = m_open(&m, etcd, prefix, 10000);
		if (ret < 0) {
			fprintf(stderr, "nfchain: etcd at %s: %s\n", etcd, nf_last_error());
			m_close(&m);
			return 1;
		}
		if (cmd[0] == 's') {
			ret = cluster_status(&m, json);
		} else {
			size_t ns, np, nc, ne;
			int64_t rev0 = 0, rev1 = 0;
			struct nf_etcd_kvs kvs;

			if (nf_etcd_get(m.e, "/", false, &kvs) == 0) {
				rev0 = kvs.rev;
				nf_etcd_kvs_free(&kvs);
			}
			for (;;) {
				struct pollfd pfd = { .fd = nf_etcd_watch_fd(m.w), .events = POLLIN };

				bool late = now_ms() - t0 > timeout * 1000 || stop;

				cluster_count(&m, &ns, &np, &nc, &ne, late);
				if (ns && nc == ns)
					break;
				if (late) {
					fprintf(stderr, "nfchain: not converged after %" PRIu64 " s: %zu "
						"descriptions, %zu placed, %zu up, %zu unplaceable\n",
						timeout, ns, np, nc, ne);
					ret = 1;
					break;
				}
				poll(&pfd, 1, 200);
				if (m_update(&m, NULL) < 0)
					m_load(&m);
			}
			if (nf_etcd_get(m.e, "/", false, &kvs) == 0) {
				rev1 = kvs.rev;
				nf_etcd_kvs_free(&kvs);
			}
			if (ret == 0)
				printf("converged: %zu descriptions placed and up in %.3f s; etcd "
				       "revision %" PRId64 " -> %" PRId64 "\n", ns,
				       (now_ms() - t0) / 1000.0, rev0, rev1);
		}
		m_close(&m);
		return ret;
	}
usage:
	cluster_usage(stderr);
	return 2;
}
