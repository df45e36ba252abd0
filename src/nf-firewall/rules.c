/* rules.c - nf-firewall's rule sets (loading, listing) and the
 * connection-table listing, both off the per-packet path. */
#include "firewall.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fw_gen_free(struct fw_gen *g)
{
	if (g == NULL)
		return;
	nf_cls_free(g->cls);
	nf_ruleset_free(&g->rs);
	free(g->count);
	free(g->cache);
	free(g->fc);
	free(g);
}

int fw_gen_load(struct nf_vnf *v, const char *path, struct fw_gen **out)
{
	const char *names[NF_VNF_PORTS_MAX];
	struct nf_rule_opts o = { .ports = names, .nports = v->nports };
	struct fw_gen *g;
	uint64_t t0, t1;
	unsigned i;
	int ret;

	for (i = 0; i < v->nports; i++)
		names[i] = v->port[i].name;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	nf_ruleset_init(&g->rs);
	nf_clear_error();
	nf_strlcpy(g->file, path, sizeof(g->file));
	t0 = mono_ns();
	ret = nf_rule_parse_file(&g->rs, &o, path);
	if (ret < 0)
		goto fail;
	t1 = mono_ns();
	ret = nf_cls_build(&g->rs, &g->cls);
	if (ret < 0)
		goto fail;
	g->count = calloc(g->rs.n ? g->rs.n : 1, sizeof(*g->count));
	if (g->count == NULL) {
		ret = -ENOMEM;
		nf_set_error("no memory for the counters of %u rules", g->rs.n);
		goto fail;
	}
	g->cache = aligned_alloc(64, FW_CACHE_SIZE * sizeof(*g->cache));
	if (g->cache == NULL) {
		ret = -ENOMEM;
		nf_set_error("no memory for the verdict cache");
		goto fail;
	}
	memset(g->cache, 0, FW_CACHE_SIZE * sizeof(*g->cache));
	g->fc = aligned_alloc(64, FW_FC_SETS * FW_FC_WAYS * sizeof(*g->fc));
	if (g->fc == NULL) {
		ret = -ENOMEM;
		nf_set_error("no memory for the flow cache");
		goto fail;
	}
	g->fc_port[0] = g->fc;
	g->fc_port[1] = g->fc + FW_FC_SETS / 2 * FW_FC_WAYS;
	fw_fc_clear(g);
	g->fc_policy = fw.set.policy;
	g->parse_ns = t1 - t0;
	g->build_ns = mono_ns() - t1;
	g->loaded = time(NULL);
	*out = g;
	return 0;
fail:
	if (ret == -ENOMEM && nf_last_error()[0] == '\0')
		nf_set_error("%s: out of memory", path);
	fw_gen_free(g);
	return ret;
}

void fw_fc_clear(struct fw_gen *g)
{
	if (g != NULL)
		memset(g->fc, 0, FW_FC_SETS * FW_FC_WAYS * sizeof(*g->fc));
}

static struct json_object *u64j(uint64_t x)
{
	return json_object_new_uint64(x);
}

static struct json_object *count_json(const struct fw_count *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", u64j(c->packets));
	json_object_object_add(o, "bytes", u64j(c->bytes));
	return o;
}

void fw_gen_json(struct nf_vnf *v, const struct fw_gen *g, struct json_object *reply)
{
	const char *names[NF_VNF_PORTS_MAX];
	struct nf_rule_opts o = { .ports = names, .nports = v->nports };
	struct json_object *a = json_object_new_array(), *p;
	char buf[NF_RULE_LINE_MAX];
	uint32_t i;

	for (i = 0; i < v->nports; i++)
		names[i] = v->port[i].name;
	if (g != NULL) {
		struct nf_cls_stats cs;
		struct json_object *c = json_object_new_object();

		json_object_object_add(reply, "generation", json_object_new_int((int)g->id));
		json_object_object_add(reply, "file", json_object_new_string(g->file));
		json_object_object_add(reply, "loaded", u64j((uint64_t)g->loaded));
		json_object_object_add(reply, "parse_ms",
				       json_object_new_double((double)g->parse_ns / 1e6));
		json_object_object_add(reply, "build_ms",
				       json_object_new_double((double)g->build_ns / 1e6));
		nf_cls_get_stats(g->cls, &cs);
		json_object_object_add(c, "nodes", u64j(cs.nodes));
		json_object_object_add(c, "leaves", u64j(cs.leaves));
		json_object_object_add(c, "depth_max", u64j(cs.depth_max));
		json_object_object_add(c, "leaf_max", u64j(cs.leaf_max));
		json_object_object_add(c, "bytes", u64j(cs.bytes));
		json_object_object_add(c, "cache_misses", u64j(g->cache_misses));
		json_object_object_add(c, "flow_cache_hits", u64j(g->fc_hits));
		json_object_object_add(c, "flow_cache_fills", u64j(g->fc_fills));
		json_object_object_add(reply, "classifier", c);
		for (i = 0; i < g->rs.n; i++) {
			struct json_object *r = json_object_new_object();

			nf_rule_format(&g->rs, &o, i, buf, sizeof(buf));
			json_object_object_add(r, "index", json_object_new_int((int)i));
			json_object_object_add(r, "line", json_object_new_int((int)g->rs.rules[i].line));
			json_object_object_add(r, "rule", json_object_new_string(buf));
			json_object_object_add(r, "packets", u64j(g->count[i].packets));
			json_object_object_add(r, "bytes", u64j(g->count[i].bytes));
			json_object_array_add(a, r);
		}
	}
	json_object_object_add(reply, "rules", a);
	p = count_json(&fw.policy);
	json_object_object_add(p, "verdict",
			       json_object_new_string(fw.set.policy ? "drop" : "accept"));
	json_object_object_add(reply, "policy", p);
}

static void tuple_str(const struct nf_ct_tuple *t, char *buf, size_t n)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = t->family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, t->src, s, sizeof(s));
	inet_ntop(af, t->dst, d, sizeof(d));
	if (t->proto == NF_IPPROTO_ICMP || t->proto == NF_IPPROTO_ICMPV6)
		snprintf(buf, n, "src=%s dst=%s id=%u", s, d, ntohs(t->sport));
	else if (t->sport || t->dport)
		snprintf(buf, n, "src=%s dst=%s sport=%u dport=%u", s, d, ntohs(t->sport),
			 ntohs(t->dport));
	else
		snprintf(buf, n, "src=%s dst=%s", s, d);
}

struct ct_dump {
	struct json_object *a;
	uint32_t max, n;
	uint64_t now;
};

static int ct_one(void *arg, uint32_t idx, const struct nf_ct_entry *e)
{
	struct ct_dump *d = arg;
	struct json_object *o;
	char buf[160];

	(void)idx;
	if (d->n >= d->max)
		return 1;
	o = json_object_new_object();
	json_object_object_add(o, "proto", json_object_new_int(e->t[0].proto));
	if (e->t[0].proto == NF_IPPROTO_TCP)
		json_object_object_add(o, "state",
				       json_object_new_string(nf_ct_tcp_name(e->tcp_state)));
	json_object_object_add(o, "ttl", u64j(nf_ct_ttl(fw.ct, e, d->now)));
	tuple_str(&e->t[0], buf, sizeof(buf));
	json_object_object_add(o, "orig", json_object_new_string(buf));
	tuple_str(&e->t[1], buf, sizeof(buf));
	json_object_object_add(o, "reply", json_object_new_string(buf));
	json_object_object_add(o, "packets_orig", u64j(e->packets[0]));
	json_object_object_add(o, "packets_reply", u64j(e->packets[1]));
	json_object_object_add(o, "bytes_orig", u64j(e->bytes[0]));
	json_object_object_add(o, "bytes_reply", u64j(e->bytes[1]));
	json_object_object_add(o, "assured", json_object_new_boolean(e->flags & NF_CT_F_ASSURED));
	json_object_array_add(d->a, o);
	d->n++;
	return 0;
}

void fw_ct_json(struct nf_vnf *v, uint32_t max, struct json_object *reply)
{
	struct ct_dump d = { .a = json_object_new_array(), .max = max, .now = v->now_ns };
	struct nf_ct_stats s = { 0 };

	if (fw.ct != NULL) {
		nf_ct_foreach(fw.ct, ct_one, &d);
		nf_ct_get_stats(fw.ct, &s);
	}
	json_object_object_add(reply, "conntrack", d.a);
	json_object_object_add(reply, "count", u64j(s.count));
	json_object_object_add(reply, "shown", u64j(d.n));
}
