/* spec.c - read and check a service description file (YAML).
 *
 * libyaml loads the document (node tree with line numbers); every mapping
 * is checked against keys[] below: one table with each key's section,
 * type, range and whether it is required. Then the references between
 * sections (a chain's ports and VNFs) and the rules that span keys.
 * The first problem stops the load: "FILE:LINE: KEY: reason".
 */
#include "spec.h"
#include "nf_http.h"
#include "nf_rule.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

const char *const nc_mode_names[] = { "busy", "intr", "yield", NULL };
static const char *const runtime_names[] = { "runc", "process", NULL };
static const char *const steer_names[] = { "srv6", "tos-bitmap", NULL };
static const char *const restart_names[] = { "always", "on-failure", "never", NULL };

enum sect { S_TOP, S_POLICY, S_PORT, S_VNF, S_CHAIN, S_TENANT, S_PORTAL, S_DASH, S_SCALE,
	    S_SLO, S_PLACE, S_CLUSTER, S_CNODE };

enum ktype {
	K_NAME,		/* [a-z][a-z0-9_-]*, min..max characters */
	K_STR,		/* any one-line string, min..max characters */
	K_ENUM,		/* one of names[] */
	K_UINT,		/* min..max */
	K_MS,		/* duration: 200ms, 1s, 1.5s, or milliseconds; min..max ms */
	K_SIZE,		/* bytes: 64M, 1G, 512k or bytes; min..max */
	K_CPU,		/* cores: 0.5, 2, 500m; min..max thousandths */
	K_MAC,		/* unicast or broadcast MAC */
	K_NAMES,	/* a sequence of names, min..max of them */
	K_TEXT,		/* a (multi-line) string */
	K_FILES,	/* a mapping file name -> text */
	K_ADDR,		/* an HTTP address to listen on: IPV4:PORT, [IPV6]:PORT, :PORT */
	K_MAP,		/* a mapping of named entries (a section) */
	K_RATE,		/* frames/s: 3000, 20k, 1.5M; min..max */
	K_FRAC,		/* a fraction: 0.7; min..max thousandths */
	K_PCT,		/* a percentage: 0.1%; min..max parts per million */
	K_US,		/* duration: 500us, 2ms, 1s, or milliseconds; min..max us */
};

struct nc_key {
	enum sect sect;
	const char *key;
	enum ktype type;
	uint64_t min, max;
	const char *const *names;
	bool required;
};

static const struct nc_key keys[] = {
	{ S_TOP, "name", K_NAME, 1, NC_NAME_MAX, NULL, true },
	{ S_TOP, "runtime", K_ENUM, 0, 0, runtime_names, false },
	{ S_TOP, "mode", K_ENUM, 0, 0, nc_mode_names, false },
	{ S_TOP, "switch-cpu", K_UINT, 0, 1023, NULL, false },
	{ S_TOP, "http", K_ADDR, 0, 0, NULL, false },
	{ S_TOP, "switch-metrics", K_ADDR, 0, 0, NULL, false },
	{ S_TOP, "policy", K_MAP, 0, 0, NULL, false },
	{ S_TOP, "ports", K_MAP, 1, NC_XPORT_MAX, NULL, true },
	{ S_TOP, "vnfs", K_MAP, 1, NC_VNF_MAX, NULL, true },
	{ S_TOP, "chains", K_MAP, 0, NC_CHAIN_MAX, NULL, false },
	{ S_TOP, "tenants", K_MAP, 0, NC_TENANT_MAX, NULL, false },
	{ S_TOP, "portal", K_MAP, 0, 0, NULL, false },
	{ S_TOP, "dashboard", K_MAP, 0, 0, NULL, false },
	{ S_TOP, "cluster", K_MAP, 0, 0, NULL, false },
	{ S_CLUSTER, "node", K_STR, 1, NC_NODE_NAME, NULL, true },
	{ S_CLUSTER, "nodes", K_MAP, 1, NC_NODE_MAX, NULL, true },
	{ S_CLUSTER, "place", K_MAP, 0, NC_VNF_MAX + NC_XPORT_MAX, NULL, false },
	{ S_CNODE, "locator", K_STR, 1, 60, NULL, true },
	{ S_CNODE, "uplink", K_STR, 1, 63, NULL, true },
	{ S_CNODE, "gateway", K_MAC, 0, 0, NULL, true },
	{ S_CNODE, "kernel", K_STR, 1, 63, NULL, false },
	{ S_PORTAL, "session-timeout", K_MS, 1000, 86400000, NULL, false },
	{ S_DASH, "password", K_STR, 1, NC_HASH_MAX - 1, NULL, false },
	{ S_DASH, "plots", K_STR, 1, 200, NULL, false },
	{ S_TENANT, "password", K_STR, 1, NC_HASH_MAX - 1, NULL, true },
	{ S_TENANT, "chain", K_NAME, 1, NC_NAME_MAX, NULL, true },
	{ S_TENANT, "match", K_STR, 1, 400, NULL, true },
	{ S_TENANT, "return-match", K_STR, 1, 400, NULL, false },
	{ S_TENANT, "services", K_NAMES, 0, NC_HOPS_MAX, NULL, true },
	{ S_TENANT, "allowed", K_NAMES, 0, NC_HOPS_MAX, NULL, false },
	{ S_POLICY, "restart", K_ENUM, 0, 0, restart_names, false },
	{ S_POLICY, "probe-interval", K_MS, 10, 10000, NULL, false },
	{ S_POLICY, "probe-timeout", K_MS, 10, 10000, NULL, false },
	{ S_PORT, "memif", K_UINT, 0, 999, NULL, false },
	{ S_PORT, "interface", K_STR, 1, 15, NULL, false },
	{ S_PORT, "node", K_STR, 1, NC_NODE_NAME, NULL, false },
	{ S_VNF, "program", K_STR, 1, 200, NULL, true },
	{ S_VNF, "ports", K_NAMES, 2, 2, NULL, false },
	{ S_VNF, "config", K_TEXT, 0, 1 << 20, NULL, false },
	{ S_VNF, "files", K_FILES, 0, NC_FILE_MAX, NULL, false },
	{ S_VNF, "replicas", K_UINT, 0, NC_REPLICA_MAX, NULL, false },
	{ S_VNF, "cpu", K_CPU, 10, 64000, NULL, false },
	{ S_VNF, "memory", K_SIZE, 16ull << 20, 64ull << 30, NULL, false },
	{ S_VNF, "scale", K_MAP, 0, 0, NULL, false },
	{ S_VNF, "placement", K_MAP, 0, 0, NULL, false },
	{ S_PLACE, "node", K_STR, 1, NC_NODE_NAME, NULL, false },
	{ S_PLACE, "labels", K_NAMES, 1, NC_LABEL_MAX, NULL, false },
	{ S_PLACE, "anti-affinity", K_NAMES, 1, NC_VNF_MAX, NULL, false },
	{ S_SCALE, "min", K_UINT, 0, NC_REPLICA_MAX, NULL, false },
	{ S_SCALE, "max", K_UINT, 1, NC_REPLICA_MAX, NULL, true },
	{ S_SCALE, "target-pps", K_RATE, 1, 1000000000, NULL, false },
	{ S_SCALE, "target-busy", K_FRAC, 50, 1000, NULL, false },
	{ S_SCALE, "target-queue", K_FRAC, 10, 1000, NULL, false },
	{ S_SCALE, "cooldown", K_MS, 100, 3600000, NULL, false },
	{ S_SCALE, "idle", K_MS, 100, 86400000, NULL, false },
	{ S_SCALE, "hold", K_UINT, 1, 4096, NULL, false },
	{ S_SCALE, "drain", K_MS, 0, 3600000, NULL, false },
	{ S_CHAIN, "from", K_NAME, 1, NC_NAME_MAX, NULL, true },
	{ S_CHAIN, "to", K_NAME, 1, NC_NAME_MAX, NULL, true },
	{ S_CHAIN, "steering", K_ENUM, 0, 0, steer_names, false },
	{ S_CHAIN, "match", K_STR, 0, 400, NULL, false },
	{ S_CHAIN, "return-match", K_STR, 0, 400, NULL, false },
	{ S_CHAIN, "to-mac", K_MAC, 0, 0, NULL, false },
	{ S_CHAIN, "from-mac", K_MAC, 0, 0, NULL, false },
	{ S_CHAIN, "vnfs", K_NAMES, 1, NC_HOPS_MAX, NULL, true },
	{ S_CHAIN, "slo", K_MAP, 0, 0, NULL, false },
	{ S_SLO, "latency-p99", K_US, 1, 10000000, NULL, false },
	{ S_SLO, "min-throughput", K_RATE, 1, 1000000000, NULL, false },
	{ S_SLO, "max-loss", K_PCT, 0, 1000000, NULL, false },
};

struct ld {
	yaml_document_t doc;
	struct nc_spec *s;
	char *err;
	size_t errlen;
	char path[160];		/* the key being read, for messages */
};

/* A value converted by its key's type. */
struct val {
	uint64_t u;
	const char *str;
	yaml_node_t *node;
	uint8_t mac[6];
};

static int __attribute__((format(printf, 4, 5)))
fail(struct ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	used = (size_t)snprintf(l->err, l->errlen, "%s:%lu: %s: ", l->s->file,
				n ? (unsigned long)n->start_mark.line + 1 : 1ul, key);
	if (used < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + used, l->errlen - used, fmt, ap);
		va_end(ap);
	}
	/* One line: what the file said is quoted, its control bytes are not. */
	for (used = 0; l->err[used]; used++)
		if ((unsigned char)l->err[used] < 0x20 || l->err[used] == 0x7f)
			l->err[used] = '?';
	return -EINVAL;
}

static bool good_name(const char *s)
{
	if (!islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' &&
		    *s != '-')
			return false;
	return true;
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int parse_scaled(const char *v, const char *const *suf, const uint64_t *mul,
			uint64_t *out)
{
	char *end;
	double d;
	unsigned i;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno || d < 0 || !isfinite(d))
		return -EINVAL;
	for (i = 0; suf[i]; i++) {
		if (strcmp(end, suf[i]) == 0) {
			d *= (double)mul[i];
			if (d > 1.8e19)
				return -ERANGE;
			*out = (uint64_t)(d + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

static int convert(struct ld *l, const struct nc_key *k, yaml_node_t *n, struct val *v)
{
	static const char *const ms_suf[] = { "", "ms", "s", NULL };
	static const uint64_t ms_mul[] = { 1, 1, 1000 };
	static const char *const sz_suf[] = { "", "k", "K", "M", "G", NULL };
	static const uint64_t sz_mul[] = { 1, 1ull << 10, 1ull << 10, 1ull << 20, 1ull << 30 };
	static const char *const cpu_suf[] = { "", "m", NULL };
	static const uint64_t cpu_mul[] = { 1000, 1 };
	static const char *const rate_suf[] = { "", "k", "M", "G", NULL };
	static const uint64_t rate_mul[] = { 1, 1000, 1000000, 1000000000 };
	static const char *const frac_suf[] = { "", NULL };
	static const uint64_t frac_mul[] = { 1000 };
	static const char *const pct_suf[] = { "%", NULL };
	static const uint64_t pct_mul[] = { 10000 };
	static const char *const us_suf[] = { "", "us", "ms", "s", NULL };
	static const uint64_t us_mul[] = { 1000, 1, 1000, 1000000 };
	const char *s = scalar(n);
	unsigned i;
	int ret;

	v->node = n;
	switch (k->type) {
	case K_MAP:
	case K_FILES:
		if (n->type != YAML_MAPPING_NODE)
			return fail(l, n, l->path, "expected a mapping (key: value lines)");
		return 0;
	case K_NAMES:
		if (n->type != YAML_SEQUENCE_NODE)
			return fail(l, n, l->path, "expected a list ([a, b])");
		return 0;
	default:
		break;
	}
	if (s == NULL)
		return fail(l, n, l->path, "expected a single value, not a %s",
			    n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	v->str = s;
	switch (k->type) {
	case K_NAME:
		if (!good_name(s) || strlen(s) < k->min || strlen(s) > k->max)
			return fail(l, n, l->path, "'%s' is not a name (a lower-case letter, then "
				    "letters, digits, '-' or '_'; at most %u characters)", s,
				    (unsigned)k->max);
		return 0;
	case K_STR:
		if (strlen(s) < k->min || strlen(s) > k->max || strchr(s, '\n'))
			return fail(l, n, l->path, "expected one line of %u to %u characters",
				    (unsigned)k->min, (unsigned)k->max);
		return 0;
	case K_TEXT:
		if (strlen(s) > k->max)
			return fail(l, n, l->path, "longer than %u bytes", (unsigned)k->max);
		return 0;
	case K_ENUM:
		for (i = 0; k->names[i]; i++)
			if (strcmp(s, k->names[i]) == 0) {
				v->u = i;
				return 0;
			}
		{
			char list[128] = "";
			size_t used = 0;

			for (i = 0; k->names[i] && used < sizeof(list); i++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
							 i ? ", " : "", k->names[i]);
			return fail(l, n, l->path, "'%s' is not one of %s", s, list);
		}
	case K_UINT:
		if (nf_parse_u64(s, k->min, k->max, 0, &v->u) < 0)
			return fail(l, n, l->path, "'%s' is not a number from %" PRIu64 " to %" PRIu64,
				    s, k->min, k->max);
		return 0;
	case K_MS:
		ret = parse_scaled(s, ms_suf, ms_mul, &v->u);
		if (ret < 0)
			return fail(l, n, l->path, "'%s' is not a duration (500ms, 2s)", s);
		if (v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "%s is out of range: %" PRIu64 "ms to %" PRIu64 "ms",
				    s, k->min, k->max);
		return 0;
	case K_SIZE:
		ret = parse_scaled(s, sz_suf, sz_mul, &v->u);
		if (ret < 0)
			return fail(l, n, l->path, "'%s' is not a size (256M, 1G)", s);
		if (v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "%s is out of range: %" PRIu64 "M to %" PRIu64 "G",
				    s, k->min >> 20, k->max >> 30);
		return 0;
	case K_CPU:
		ret = parse_scaled(s, cpu_suf, cpu_mul, &v->u);
		if (ret < 0)
			return fail(l, n, l->path, "'%s' is not a CPU share (0.5, 2, 250m)", s);
		if (v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "%s is out of range: 0.01 to %" PRIu64 " CPUs", s,
				    k->max / 1000);
		return 0;
	case K_RATE:
		ret = parse_scaled(s, rate_suf, rate_mul, &v->u);
		if (ret < 0)
			return fail(l, n, l->path, "'%s' is not a rate in frames/s (3000, 20k, 1.5M)", s);
		if (v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "%s is out of range: %" PRIu64 " to %" PRIu64
				    " frames/s", s, k->min, k->max);
		return 0;
	case K_FRAC:
		ret = parse_scaled(s, frac_suf, frac_mul, &v->u);
		if (ret < 0 || v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "'%s' is not a fraction from %.2f to %.2f", s,
				    k->min / 1000.0, k->max / 1000.0);
		return 0;
	case K_PCT:
		ret = parse_scaled(s, pct_suf, pct_mul, &v->u);
		if (ret < 0 || v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "'%s' is not a percentage from 0%% to 100%% "
				    "(0.1%%)", s);
		return 0;
	case K_US:
		ret = parse_scaled(s, us_suf, us_mul, &v->u);
		if (ret < 0)
			return fail(l, n, l->path, "'%s' is not a duration (500us, 2ms, 1s)", s);
		if (v->u < k->min || v->u > k->max)
			return fail(l, n, l->path, "%s is out of range: %" PRIu64 "us to %" PRIu64 "s",
				    s, k->min, k->max / 1000000);
		return 0;
	case K_MAC:
		if (nf_parse_mac(s, v->mac) < 0)
			return fail(l, n, l->path, "'%s' is not a MAC address", s);
		return 0;
	case K_ADDR:
		if (strlen(s) >= NC_ADDR_MAX || nf_http_check_addr(s) < 0)
			return fail(l, n, l->path, "'%s' is not an address to listen on "
				    "(IPV4:PORT, [IPV6]:PORT or :PORT, port 0-65535)", s);
		return 0;
	default:
		return 0;
	}
}

typedef int (*sect_fn)(struct ld *l, const struct nc_key *k, const struct val *v, void *obj);

/* Check the mapping @m of section @sect key by key, then the required keys. */
static int read_map(struct ld *l, yaml_node_t *m, enum sect sect, const char *where,
		    sect_fn fn, void *obj)
{
	bool seen[sizeof(keys) / sizeof(keys[0])] = { false };
	yaml_node_pair_t *p;
	unsigned i;
	int ret;

	if (m->type != YAML_MAPPING_NODE)
		return fail(l, m, where[0] ? where : "(top)", "expected a mapping (key: value lines)");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		const char *key = kn ? scalar(kn) : NULL;
		const struct nc_key *k = NULL;
		struct val v = { 0 };

		if (key == NULL)
			return fail(l, kn, where[0] ? where : "(top)", "a key must be a plain word");
		snprintf(l->path, sizeof(l->path), "%s%s%s", where, where[0] ? "." : "", key);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (keys[i].sect == sect && strcmp(keys[i].key, key) == 0)
				k = &keys[i];
		if (k == NULL) {
			char list[256] = "";
			size_t used = 0;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && used < sizeof(list); i++)
				if (keys[i].sect == sect)
					used += (size_t)snprintf(list + used, sizeof(list) - used,
								 "%s%s", used ? ", " : "",
								 keys[i].key);
			return fail(l, kn, l->path, "unknown key (expected %s)", list);
		}
		if (seen[k - keys])
			return fail(l, kn, l->path, "given twice");
		seen[k - keys] = true;
		ret = convert(l, k, vn, &v);
		if (ret < 0)
			return ret;
		ret = fn(l, k, &v, obj);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].sect == sect && keys[i].required && !seen[i])
			return fail(l, m, where[0] ? where : "(top)", "'%s' is missing (required)",
				    keys[i].key);
	return 0;
}

/* The entries of a named section (ports, vnfs, chains): NAME: {mapping}. */
typedef int (*entry_fn)(struct ld *l, const char *name, yaml_node_t *kn, yaml_node_t *vn);

static int read_entries(struct ld *l, const struct nc_key *k, yaml_node_t *m, entry_fn fn)
{
	char where[64];
	yaml_node_pair_t *p;
	unsigned n = 0;
	int ret;

	snprintf(where, sizeof(where), "%s", k->key);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++, n++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		const char *name = kn ? scalar(kn) : NULL;
		char path[96];

		snprintf(path, sizeof(path), "%s.%s", where, name ? name : "?");
		if (name == NULL || !good_name(name) || strlen(name) > NC_NAME_MAX)
			return fail(l, kn, path, "'%s' is not a name (a lower-case letter, then "
				    "letters, digits, '-' or '_'; at most %u characters)",
				    name ? name : "?", NC_NAME_MAX);
		if (n >= k->max)
			return fail(l, kn, path, "too many %s: at most %u", where, (unsigned)k->max);
		ret = fn(l, name, kn, vn);
		if (ret < 0)
			return ret;
	}
	if (n < k->min)
		return fail(l, m, where, "at least %u entry needed", (unsigned)k->min);
	return 0;
}

static int names_list(struct ld *l, const struct nc_key *k, const struct val *v,
		      char (*out)[NC_NAME_MAX + 1], unsigned *count, yaml_node_t **nodes)
{
	yaml_node_item_t *it;
	unsigned n = 0;

	for (it = v->node->data.sequence.items.start; it < v->node->data.sequence.items.top;
	     it++, n++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		const char *s = e ? scalar(e) : NULL;

		if (n >= k->max)
			return fail(l, v->node, l->path, "at most %u entries", (unsigned)k->max);
		if (s == NULL || !good_name(s) || strlen(s) > NC_NAME_MAX)
			return fail(l, e ? e : v->node, l->path, "'%s' is not a name",
				    s ? s : "(not a word)");
		snprintf(out[n], NC_NAME_MAX + 1, "%s", s);
		if (nodes)
			nodes[n] = e;
	}
	if (n < k->min)
		return fail(l, v->node, l->path, "at least %u entries", (unsigned)k->min);
	*count = n;
	return 0;
}

/* A classifier (match, return-match): the rule language's matches. */
static int check_match(struct ld *l, const struct val *v)
{
	struct nf_ruleset rs;
	struct nf_rule_opts ro = { .file = "match" };
	char line[600];
	int ret;

	snprintf(line, sizeof(line), "%s accept", v->str);
	nf_ruleset_init(&rs);
	ret = nf_rule_parse(&rs, &ro, line, 1);
	nf_ruleset_free(&rs);
	if (ret < 0)
		return fail(l, v->node, l->path, "%s", nf_last_error());
	return 0;
}

/* A crypt(3) hash: "$id$...", one crypt() accepts. */
static int check_hash(struct ld *l, const struct val *v)
{
	struct crypt_data cd;
	const char *h;

	memset(&cd, 0, sizeof(cd));
	h = v->str[0] == '$' ? crypt_r("x", v->str, &cd) : NULL;
	/* crypt() takes the setting (method, salt) and ignores what follows:
	 * the hash given must have the length of the one it makes. */
	if (h == NULL || h[0] == '*' || strncmp(h, v->str, 3) != 0 ||
	    strlen(h) != strlen(v->str) || strrchr(h, '$') - h != strrchr(v->str, '$') - v->str)
		return fail(l, v->node, l->path, "not a crypt(3) password hash (make one with "
			    "'mkpasswd -m yescrypt' or 'openssl passwd -6')");
	return 0;
}

/* --- policy --- */

static int set_policy(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_spec *s = obj;

	(void)l;
	if (strcmp(k->key, "restart") == 0)
		s->restart = (enum nc_restart)v->u;
	else if (strcmp(k->key, "probe-interval") == 0)
		s->probe_interval_ms = (unsigned)v->u;
	else
		s->probe_timeout_ms = (unsigned)v->u;
	return 0;
}

/* --- ports --- */

static int set_port(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_xport *x = obj;

	if (strcmp(k->key, "node") == 0) {
		if (!nc_node_name_ok(v->str))
			return fail(l, v->node, l->path, "'%s' is not a node name", v->str);
		snprintf(x->pin, sizeof(x->pin), "%s", v->str);
		return 0;
	}
	if (x->is_memif || x->ifname[0])
		return fail(l, v->node, l->path, "a port is either memif or interface, not both");
	if (strcmp(k->key, "memif") == 0) {
		x->is_memif = true;
		x->memif_id = (unsigned)v->u;
	} else {
		if (strchr(v->str, '/') || strchr(v->str, ' '))
			return fail(l, v->node, l->path, "'%s' is not an interface name", v->str);
		snprintf(x->ifname, sizeof(x->ifname), "%s", v->str);
	}
	return 0;
}

static int add_port(struct ld *l, const char *name, yaml_node_t *kn, yaml_node_t *vn)
{
	struct nc_spec *s = l->s;
	struct nc_xport *x = &s->xport[s->nxport];
	char where[64];
	unsigned i;
	int ret;

	snprintf(where, sizeof(where), "ports.%s", name);
	for (i = 0; i < s->nxport; i++)
		if (strcmp(s->xport[i].name, name) == 0)
			return fail(l, kn, where, "given twice");
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->node = -1;
	x->line = (int)kn->start_mark.line + 1;
	ret = read_map(l, vn, S_PORT, where, set_port, x);
	if (ret < 0)
		return ret;
	if (!x->is_memif && !x->ifname[0])
		return fail(l, vn, where, "needs 'memif: ID' or 'interface: NAME'");
	for (i = 0; i < s->nxport; i++) {
		if (x->is_memif && s->xport[i].is_memif && s->xport[i].memif_id == x->memif_id)
			return fail(l, vn, where, "memif id %u is also port %s's", x->memif_id,
				    s->xport[i].name);
		if (!x->is_memif && strcmp(s->xport[i].ifname, x->ifname) == 0)
			return fail(l, vn, where, "interface %s is also port %s's", x->ifname,
				    s->xport[i].name);
	}
	s->nxport++;
	return 0;
}

/* --- vnfs --- */

static int set_scale(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_scale *c = obj;

	(void)l;
	if (strcmp(k->key, "min") == 0)
		c->min = (unsigned)v->u;
	else if (strcmp(k->key, "max") == 0)
		c->max = (unsigned)v->u;
	else if (strcmp(k->key, "target-pps") == 0)
		c->target_pps = v->u;
	else if (strcmp(k->key, "target-busy") == 0)
		c->target_busy = (unsigned)v->u;
	else if (strcmp(k->key, "target-queue") == 0)
		c->target_queue = (unsigned)v->u;
	else if (strcmp(k->key, "cooldown") == 0)
		c->cooldown_ms = (unsigned)v->u;
	else if (strcmp(k->key, "idle") == 0)
		c->idle_ms = (unsigned)v->u;
	else if (strcmp(k->key, "drain") == 0)
		c->drain_ms = (unsigned)v->u;
	else
		c->hold = (unsigned)v->u;
	return 0;
}

static int set_place(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_vnf *f = obj;

	if (strcmp(k->key, "node") == 0) {
		if (!nc_node_name_ok(v->str))
			return fail(l, v->node, l->path, "'%s' is not a node name", v->str);
		snprintf(f->pin, sizeof(f->pin), "%s", v->str);
		return 0;
	}
	if (strcmp(k->key, "labels") == 0)
		return names_list(l, k, v, f->label, &f->nlabel, NULL);
	/* anti-affinity: the names are checked once every type is known */
	return names_list(l, k, v, f->anti_name, &f->nanti, NULL);
}

static int set_vnf(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_vnf *f = obj;
	unsigned n;
	int ret;

	if (strcmp(k->key, "program") == 0) {
		char path[PATH_MAX], self[PATH_MAX];
		ssize_t len;

		if (strchr(v->str, '/') == NULL) {
			/* A bare name: the program next to nfchain itself. */
			len = readlink("/proc/self/exe", self, sizeof(self) - 1);
			if (len < 0)
				return fail(l, v->node, l->path, "cannot find nfchain's directory");
			self[len] = '\0';
			snprintf(path, sizeof(path), "%s/%s", dirname(self), v->str);
		} else if (v->str[0] == '/') {
			snprintf(path, sizeof(path), "%s", v->str);
		} else {
			snprintf(path, sizeof(path), "%s/%s", l->s->dir, v->str);
		}
		if (access(path, X_OK) < 0)
			return fail(l, v->node, l->path, "%s: %s", path,
				    errno == ENOENT ? "no such program" : strerror(errno));
		if (strlen(path) >= sizeof(f->program))
			return fail(l, v->node, l->path, "path too long");
		memcpy(f->program, path, strlen(path) + 1);
	} else if (strcmp(k->key, "ports") == 0) {
		ret = names_list(l, k, v, f->port, &n, NULL);
		if (ret < 0)
			return ret;
		if (strcmp(f->port[0], f->port[1]) == 0)
			return fail(l, v->node, l->path, "the two ports need two names");
	} else if (strcmp(k->key, "config") == 0) {
		if (strstr(v->str, "\nport ") || strncmp(v->str, "port ", 5) == 0)
			return fail(l, v->node, l->path, "no 'port' lines: nfchain writes them (the "
				    "ports are named by 'ports')");
		f->config_line = (int)v->node->start_mark.line + 1 +
			(v->node->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
			 v->node->data.scalar.style == YAML_FOLDED_SCALAR_STYLE);
		f->config = strdup(v->str);
		if (f->config == NULL)
			return -ENOMEM;
	} else if (strcmp(k->key, "files") == 0) {
		yaml_node_pair_t *p;

		for (p = v->node->data.mapping.pairs.start; p < v->node->data.mapping.pairs.top;
		     p++) {
			yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
			const char *name = kn ? scalar(kn) : NULL, *text = vn ? scalar(vn) : NULL;
			struct nc_file *fl = &f->file[f->nfiles];

			if (f->nfiles >= k->max)
				return fail(l, kn, l->path, "at most %u files", (unsigned)k->max);
			if (name == NULL || !*name || strlen(name) >= sizeof(fl->name) ||
			    strchr(name, '/') || name[0] == '.' || strcmp(name, "vnf.conf") == 0)
				return fail(l, kn, l->path, "'%s' is not a plain file name (no '/', "
					    "no leading '.', not vnf.conf)", name ? name : "?");
			if (text == NULL)
				return fail(l, vn ? vn : kn, l->path, "file %s: expected its text", name);
			for (n = 0; n < f->nfiles; n++)
				if (strcmp(f->file[n].name, name) == 0)
					return fail(l, kn, l->path, "file %s given twice", name);
			snprintf(fl->name, sizeof(fl->name), "%s", name);
			fl->text = strdup(text);
			if (fl->text == NULL)
				return -ENOMEM;
			f->nfiles++;
		}
	} else if (strcmp(k->key, "replicas") == 0) {
		f->replicas = (unsigned)v->u;
		f->replicas_set = true;
	} else if (strcmp(k->key, "scale") == 0) {
		char where[sizeof(l->path)];
		struct nc_scale *c = &f->scale;

		snprintf(where, sizeof(where), "%s", l->path);
		c->on = true;
		c->min = 1;
		c->cooldown_ms = 3000;
		c->idle_ms = 30000;
		c->hold = 256;
		c->drain_ms = 5000;
		ret = read_map(l, v->node, S_SCALE, where, set_scale, c);
		if (ret < 0)
			return ret;
		if (c->min > c->max)
			return fail(l, v->node, where, "min %u is more than max %u", c->min, c->max);
		if (!c->target_pps && !c->target_busy && !c->target_queue)
			return fail(l, v->node, where, "needs target-pps, target-busy or "
				    "target-queue (what a replica should carry)");
	} else if (strcmp(k->key, "placement") == 0) {
		char where[sizeof(l->path)];

		snprintf(where, sizeof(where), "%s", l->path);
		return read_map(l, v->node, S_PLACE, where, set_place, f);
	} else if (strcmp(k->key, "cpu") == 0) {
		f->cpu_milli = (unsigned)v->u;
	} else {
		f->memory = v->u;
	}
	return 0;
}

static int add_vnf(struct ld *l, const char *name, yaml_node_t *kn, yaml_node_t *vn)
{
	struct nc_spec *s = l->s;
	struct nc_vnf *f = &s->vnf[s->nvnf];
	char where[64];
	int ret;

	snprintf(where, sizeof(where), "vnfs.%s", name);
	if (nc_spec_vnf(s, name) >= 0)
		return fail(l, kn, where, "given twice");
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->port[0], sizeof(f->port[0]), "in");
	snprintf(f->port[1], sizeof(f->port[1]), "out");
	f->replicas = 1;
	f->node = -1;
	f->line = (int)kn->start_mark.line + 1;
	s->nvnf++;		/* so that nc_spec_free frees what it holds */
	ret = read_map(l, vn, S_VNF, where, set_vnf, f);
	if (ret < 0 || !f->scale.on)
		return ret;
	/* Autoscaled: replicas is where it starts, min unless given. */
	if (!f->replicas_set)
		f->replicas = f->scale.min;
	else if (f->replicas < f->scale.min || f->replicas > f->scale.max)
		return fail(l, vn, where, "replicas %u is not within scale.min %u and "
			    "scale.max %u", f->replicas, f->scale.min, f->scale.max);
	return 0;
}

/* --- chains --- */

static int set_slo(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_slo *o = obj;

	(void)l;
	if (strcmp(k->key, "latency-p99") == 0)
		o->latency_us = v->u;
	else if (strcmp(k->key, "min-throughput") == 0)
		o->min_pps = v->u;
	else
		o->max_loss_ppm = v->u;
	return 0;
}

struct chain_ld {
	struct nc_chain *c;
	yaml_node_t *from, *to, *match, *rmatch, *vnfs, *hop[NC_HOPS_MAX];
	char hops[NC_HOPS_MAX][NC_NAME_MAX + 1];
};

static int set_chain(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct chain_ld *cl = obj;
	struct nc_chain *c = cl->c;

	if (strcmp(k->key, "from") == 0 || strcmp(k->key, "to") == 0) {
		int x;

		for (x = 0; x < (int)l->s->nxport; x++)
			if (strcmp(l->s->xport[x].name, v->str) == 0)
				break;
		if (x == (int)l->s->nxport)
			return fail(l, v->node, l->path, "no port '%s' in ports", v->str);
		*(k->key[0] == 'f' ? &c->from : &c->to) = x;
	} else if (strcmp(k->key, "steering") == 0) {
		c->steering = (enum nc_steer)v->u;
	} else if (strcmp(k->key, "match") == 0 || strcmp(k->key, "return-match") == 0) {
		int ret = check_match(l, v);

		if (ret < 0)
			return ret;
		snprintf(k->key[0] == 'm' ? c->match : c->return_match, sizeof(c->match), "%s",
			 v->str);
		*(k->key[0] == 'm' ? &cl->match : &cl->rmatch) = v->node;
	} else if (strcmp(k->key, "to-mac") == 0) {
		memcpy(c->to_mac, v->mac, 6);
	} else if (strcmp(k->key, "from-mac") == 0) {
		memcpy(c->from_mac, v->mac, 6);
	} else if (strcmp(k->key, "slo") == 0) {
		char where[sizeof(l->path)];

		snprintf(where, sizeof(where), "%s", l->path);
		c->slo.on = true;
		c->slo.max_loss_ppm = UINT64_MAX;
		return read_map(l, v->node, S_SLO, where, set_slo, &c->slo);
	} else {
		cl->vnfs = v->node;
		return names_list(l, k, v, cl->hops, &c->nvnf, cl->hop);
	}
	if (strcmp(k->key, "from") == 0)
		cl->from = v->node;
	if (strcmp(k->key, "to") == 0)
		cl->to = v->node;
	return 0;
}

static int add_chain(struct ld *l, const char *name, yaml_node_t *kn, yaml_node_t *vn)
{
	struct nc_spec *s = l->s;
	struct nc_chain *c = &s->chain[s->nchain];
	struct chain_ld cl = { .c = c };
	char where[64];
	unsigned i, j;
	int ret;

	snprintf(where, sizeof(where), "chains.%s", name);
	for (i = 0; i < s->nchain; i++)
		if (strcmp(s->chain[i].name, name) == 0)
			return fail(l, kn, where, "given twice");
	snprintf(c->name, sizeof(c->name), "%s", name);
	memset(c->to_mac, 0xff, 6);
	memset(c->from_mac, 0xff, 6);
	c->line = (int)kn->start_mark.line + 1;
	ret = read_map(l, vn, S_CHAIN, where, set_chain, &cl);
	if (ret < 0)
		return ret;
	if (c->from == c->to)
		return fail(l, cl.to, where, "from and to are the same port");
	for (i = 0; i < c->nvnf; i++) {
		c->vnf[i] = nc_spec_vnf(s, cl.hops[i]);
		if (c->vnf[i] < 0)
			return fail(l, cl.hop[i], where, "no VNF '%s' in vnfs", cl.hops[i]);
		for (j = 0; j < i; j++)
			if (c->vnf[j] == c->vnf[i])
				return fail(l, cl.hop[i], where, "VNF %s is in the chain twice",
					    cl.hops[i]);
	}
	if (c->steering == NC_ST_TOS && (c->match[0] || c->return_match[0]))
		return fail(l, cl.match ? cl.match : cl.rmatch, where,
			    "tos-bitmap steering has no classifier: the ToS byte of each "
			    "packet selects the VNFs (drop match and return-match)");
	/* One chain per VNF type: an SRv6 proxy (End.AD) caches one chain's
	 * headers per replica; the ToS mode's layers belong to its chain. */
	for (i = 0; i < s->nchain; i++) {
		struct nc_chain *o = &s->chain[i];
		unsigned a, b;

		for (a = 0; a < c->nvnf; a++)
			for (b = 0; b < o->nvnf; b++)
				if (c->vnf[a] == o->vnf[b])
					return fail(l, cl.hop[a], where, "VNF %s is already in chain %s "
						    "(a VNF type serves one chain; declare another "
						    "type with the same program)",
						    s->vnf[c->vnf[a]].name, o->name);
		if (c->steering == NC_ST_TOS && o->steering == NC_ST_TOS)
			return fail(l, kn, where, "only one tos-bitmap chain (chain %s is one)",
				    o->name);
		if (c->steering == NC_ST_TOS || o->steering == NC_ST_TOS) {
			if (c->from == o->from || c->from == o->to || c->to == o->from ||
			    c->to == o->to)
				return fail(l, kn, where, "shares a port with chain %s, and the "
					    "ToS mode takes its ports whole", o->name);
		}
	}
	s->nchain++;
	return 0;
}

/* --- portal, dashboard --- */

static int set_portal(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_spec *s = obj;

	(void)l;
	(void)k;
	s->session_timeout_ms = (unsigned)v->u;
	return 0;
}

static int set_dash(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_spec *s = obj;
	int ret;

	if (strcmp(k->key, "password") == 0) {
		ret = check_hash(l, v);
		if (ret < 0)
			return ret;
		snprintf(s->dash_password, sizeof(s->dash_password), "%s", v->str);
	} else if (v->str[0] == '/') {
		snprintf(s->plots, sizeof(s->plots), "%s", v->str);
	} else {
		snprintf(s->plots, sizeof(s->plots), "%.120s/%.120s", s->dir, v->str);
	}
	return 0;
}

/* --- tenants --- */

struct tenant_ld {
	struct nc_tenant *t;
	yaml_node_t *chain, *svc, *alw, *svc_n[NC_HOPS_MAX], *alw_n[NC_HOPS_MAX];
	char chain_name[NC_NAME_MAX + 1];
	char svc_names[NC_HOPS_MAX][NC_NAME_MAX + 1], alw_names[NC_HOPS_MAX][NC_NAME_MAX + 1];
	unsigned nsvc, nalw;
	bool has_alw;
};

static int set_tenant(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct tenant_ld *tl = obj;
	struct nc_tenant *t = tl->t;
	int ret;

	if (strcmp(k->key, "password") == 0) {
		ret = check_hash(l, v);
		if (ret < 0)
			return ret;
		snprintf(t->password, sizeof(t->password), "%s", v->str);
	} else if (strcmp(k->key, "chain") == 0) {
		tl->chain = v->node;
		snprintf(tl->chain_name, sizeof(tl->chain_name), "%s", v->str);
	} else if (strcmp(k->key, "match") == 0 || strcmp(k->key, "return-match") == 0) {
		ret = check_match(l, v);
		if (ret < 0)
			return ret;
		snprintf(k->key[0] == 'm' ? t->match : t->return_match, sizeof(t->match), "%s",
			 v->str);
	} else if (strcmp(k->key, "services") == 0) {
		tl->svc = v->node;
		return names_list(l, k, v, tl->svc_names, &tl->nsvc, tl->svc_n);
	} else {
		tl->alw = v->node;
		tl->has_alw = true;
		return names_list(l, k, v, tl->alw_names, &tl->nalw, tl->alw_n);
	}
	return 0;
}

/* The VNFs @names of chain @c as a bitmap of chain positions. */
static int chain_bits(struct ld *l, const struct nc_chain *c, const char *where,
		      char (*names)[NC_NAME_MAX + 1], unsigned n, yaml_node_t **nodes,
		      uint8_t *out)
{
	unsigned i, j;

	*out = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < c->nvnf; j++)
			if (strcmp(l->s->vnf[c->vnf[j]].name, names[i]) == 0)
				break;
		if (j == c->nvnf)
			return fail(l, nodes[i], where, "no VNF '%s' in chain %s", names[i],
				    c->name);
		if (*out & 1u << j)
			return fail(l, nodes[i], where, "VNF %s given twice", names[i]);
		*out |= (uint8_t)(1u << j);
	}
	return 0;
}

static int add_tenant(struct ld *l, const char *name, yaml_node_t *kn, yaml_node_t *vn)
{
	struct nc_spec *s = l->s;
	struct nc_tenant *t = &s->tenant[s->ntenant];
	struct tenant_ld tl = { .t = t };
	char where[64], w2[80];
	const struct nc_chain *c;
	unsigned i;
	int ret;

	snprintf(where, sizeof(where), "tenants.%s", name);
	if (nc_spec_tenant(s, name) >= 0)
		return fail(l, kn, where, "given twice");
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->line = (int)kn->start_mark.line + 1;
	ret = read_map(l, vn, S_TENANT, where, set_tenant, &tl);
	if (ret < 0)
		return ret;
	for (i = 0; i < s->nchain; i++)
		if (strcmp(s->chain[i].name, tl.chain_name) == 0)
			break;
	if (i == s->nchain)
		return fail(l, tl.chain, where, "no chain '%s' in chains", tl.chain_name);
	t->chain = (int)i;
	c = &s->chain[i];
	if (t->return_match[0] && c->steering == NC_ST_SRV6 && !c->return_match[0])
		return fail(l, tl.chain, where, "return-match needs chain %s to have one (its "
			    "way back through the VNFs)", c->name);
	snprintf(w2, sizeof(w2), "%s.services", where);
	ret = chain_bits(l, c, w2, tl.svc_names, tl.nsvc, tl.svc_n, &t->services);
	if (ret < 0)
		return ret;
	t->allowed = (uint8_t)((1u << c->nvnf) - 1);
	if (tl.has_alw) {
		snprintf(w2, sizeof(w2), "%s.allowed", where);
		ret = chain_bits(l, c, w2, tl.alw_names, tl.nalw, tl.alw_n, &t->allowed);
		if (ret < 0)
			return ret;
	}
	snprintf(w2, sizeof(w2), "%s.services", where);
	if (t->services & ~t->allowed)
		return fail(l, tl.svc, w2, "services a tenant may not pick (not in allowed)");
	s->ntenant++;
	return 0;
}

/* --- top --- */

static int set_top(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_spec *s = obj;

	if (strcmp(k->key, "name") == 0)
		snprintf(s->name, sizeof(s->name), "%s", v->str);
	else if (strcmp(k->key, "runtime") == 0)
		s->runtime = (enum nc_runtime)v->u;
	else if (strcmp(k->key, "mode") == 0)
		s->mode = (unsigned)v->u;
	else if (strcmp(k->key, "switch-cpu") == 0)
		s->switch_cpu = (int)v->u;
	else if (strcmp(k->key, "http") == 0)
		snprintf(s->http, sizeof(s->http), "%s", v->str);
	else if (strcmp(k->key, "switch-metrics") == 0)
		snprintf(s->switch_metrics, sizeof(s->switch_metrics), "%s", v->str);
	else if (strcmp(k->key, "policy") == 0)
		return read_map(l, v->node, S_POLICY, "policy", set_policy, s);
	else if (strcmp(k->key, "portal") == 0)
		return read_map(l, v->node, S_PORTAL, "portal", set_portal, s);
	else if (strcmp(k->key, "dashboard") == 0)
		return read_map(l, v->node, S_DASH, "dashboard", set_dash, s);
	/* ports, vnfs and chains are read after the rest, in that order */
	return 0;
}

static yaml_node_t *top_get(struct ld *l, yaml_node_t *root, const char *key)
{
	yaml_node_pair_t *p;

	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);

		if (kn && scalar(kn) && strcmp(scalar(kn), key) == 0)
			return yaml_document_get_node(&l->doc, p->value);
	}
	return NULL;
}

static const struct nc_key *key_of(enum sect sect, const char *key)
{
	unsigned i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].sect == sect && strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* --- cluster: one node's part of a deployment (docs/CLUSTER.md) --- */

bool nc_node_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > NC_NODE_NAME || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

static int node_idx(const struct nc_spec *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->nnode; i++)
		if (strcmp(s->node[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* "fc00:0:1::/48": room for a chain number and a function after it. */
static int parse_locator(const char *str, uint8_t a[16], unsigned *plen)
{
	char buf[64], *slash;
	uint64_t n;
	unsigned i;

	snprintf(buf, sizeof(buf), "%s", str);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1 || nf_parse_u64(slash + 1, 16, 96, 0, &n) < 0)
		return -EINVAL;
	*plen = (unsigned)n;
	for (i = *plen; i < 128; i++)	/* no host bits */
		if (a[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

static int set_cnode(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct nc_node *n = obj;

	if (strcmp(k->key, "locator") == 0) {
		if (parse_locator(v->str, n->locator, &n->plen) < 0)
			return fail(l, v->node, l->path, "'%s' is not an IPv6 prefix of length 16 "
				    "to 96 without host bits (fc00:0:1::/48)", v->str);
	} else if (strcmp(k->key, "uplink") == 0) {
		if (strchr(v->str, ' '))
			return fail(l, v->node, l->path, "'%s' is not a port spec (afxdp:IF, "
				    "afpacket:IF)", v->str);
		snprintf(n->uplink, sizeof(n->uplink), "%s", v->str);
	} else if (strcmp(k->key, "kernel") == 0) {
		if (strchr(v->str, ' '))
			return fail(l, v->node, l->path, "'%s' is not a port spec (afpacket:IF)",
				    v->str);
		snprintf(n->kernel, sizeof(n->kernel), "%s", v->str);
	} else {
		memcpy(n->gateway, v->mac, 6);
	}
	return 0;
}

struct cluster_ld {
	char self[NC_NODE_NAME + 1];
	yaml_node_t *self_n, *place;
};

static int set_cluster(struct ld *l, const struct nc_key *k, const struct val *v, void *obj)
{
	struct cluster_ld *cl = obj;
	struct nc_spec *s = l->s;
	yaml_node_pair_t *p;
	int ret;

	if (strcmp(k->key, "node") == 0) {
		if (!nc_node_name_ok(v->str))
			return fail(l, v->node, l->path, "'%s' is not a node name", v->str);
		snprintf(cl->self, sizeof(cl->self), "%s", v->str);
		cl->self_n = v->node;
		return 0;
	}
	if (strcmp(k->key, "place") == 0) {
		cl->place = v->node;	/* read once the nodes are known */
		return 0;
	}
	for (p = v->node->data.mapping.pairs.start; p < v->node->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		const char *name = kn ? scalar(kn) : NULL;
		struct nc_node *n = &s->node[s->nnode];
		char where[96];

		snprintf(where, sizeof(where), "cluster.nodes.%s", name ? name : "?");
		if (name == NULL || !nc_node_name_ok(name))
			return fail(l, kn, where, "'%s' is not a node name (a-z, 0-9, '-', '.', at "
				    "most %u characters)", name ? name : "?", NC_NODE_NAME);
		if (node_idx(s, name) >= 0)
			return fail(l, kn, where, "given twice");
		if (s->nnode >= NC_NODE_MAX)
			return fail(l, kn, where, "too many nodes: at most %u", NC_NODE_MAX);
		snprintf(n->name, sizeof(n->name), "%s", name);
		ret = read_map(l, vn, S_CNODE, where, set_cnode, n);
		if (ret < 0)
			return ret;
		s->nnode++;
	}
	return 0;
}

/* Where each VNF type and port is: cluster.place, else its own pin. */
static int read_place(struct ld *l, struct cluster_ld *cl)
{
	struct nc_spec *s = l->s;
	yaml_node_pair_t *p;
	unsigned i, j;

	for (i = 0; i < s->nvnf; i++)
		s->vnf[i].node = s->vnf[i].pin[0] ? node_idx(s, s->vnf[i].pin) : -1;
	for (i = 0; i < s->nxport; i++)
		s->xport[i].node = s->xport[i].pin[0] ? node_idx(s, s->xport[i].pin) : -1;
	for (p = cl->place ? cl->place->data.mapping.pairs.start : NULL;
	     cl->place && p < cl->place->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		const char *name = kn ? scalar(kn) : NULL, *node = vn ? scalar(vn) : NULL;
		char where[96];
		int v = name ? nc_spec_vnf(s, name) : -1, x = -1, n;

		snprintf(where, sizeof(where), "cluster.place.%s", name ? name : "?");
		for (j = 0; name && j < s->nxport; j++)
			if (strcmp(s->xport[j].name, name) == 0)
				x = (int)j;
		if (v < 0 && x < 0)
			return fail(l, kn, where, "no VNF or port '%s'", name ? name : "?");
		n = node ? node_idx(s, node) : -1;
		if (n < 0)
			return fail(l, vn ? vn : kn, where, "'%s' is not in cluster.nodes",
				    node ? node : "(not a word)");
		if (v >= 0)
			s->vnf[v].node = n;
		else
			s->xport[x].node = n;
	}
	return 0;
}

/* This node's view: what is elsewhere is remote (SIDs on that node's
 * locator, no replica or port here); the uplink is a port. */
static int finish_cluster(struct ld *l, yaml_node_t *cn)
{
	struct nc_spec *s = l->s;
	unsigned c, j, i;

	for (c = 0; c < s->nchain; c++) {
		struct nc_chain *ch = &s->chain[c];
		int first = -1;

		for (j = 0; j < ch->nvnf + 2; j++) {
			int n = j < ch->nvnf ? s->vnf[ch->vnf[j]].node :
				s->xport[j == ch->nvnf ? ch->from : ch->to].node;
			const char *what = j < ch->nvnf ? s->vnf[ch->vnf[j]].name :
				s->xport[j == ch->nvnf ? ch->from : ch->to].name;

			if (n < 0)
				return fail(l, cn, "cluster.place", "%s (chain %s) is on no node: "
					    "place it (cluster.place.%s) or pin it (node)", what,
					    ch->name, what);
			if (ch->steering == NC_ST_TOS && first >= 0 && n != first)
				return fail(l, cn, "cluster.place", "chain %s is tos-bitmap: its "
					    "VNFs and ports must be on one node (srv6 crosses nodes)",
					    ch->name);
			first = n;
		}
	}
	for (i = 0; i < s->nvnf; i++) {
		struct nc_vnf *f = &s->vnf[i];

		f->remote = f->node >= 0 && f->node != s->self;
		if (f->remote) {
			f->replicas = 0;	/* its replicas run on its node */
			f->scale.on = false;
		}
	}
	for (i = 0; i < s->nxport; i++) {
		s->xport[i].remote = s->xport[i].node >= 0 && s->xport[i].node != s->self;
		if (strcmp(s->xport[i].name, NC_UPLINK) == 0 ||
		    strcmp(s->xport[i].name, NC_KERNEL) == 0)
			return fail(l, cn, "ports", "'%s' is a name the cluster's ports take",
				    s->xport[i].name);
	}
	if (s->nnode > 1) {
		struct nc_xport *x = &s->xport[s->nxport++];

		memcpy(x->name, NC_UPLINK, sizeof(NC_UPLINK));
		memcpy(x->spec, s->node[s->self].uplink, sizeof(x->spec));
		x->node = s->self;
		if (s->node[s->self].kernel[0]) {
			x = &s->xport[s->nxport++];
			memcpy(x->name, NC_KERNEL, sizeof(NC_KERNEL));
			memcpy(x->spec, s->node[s->self].kernel, sizeof(x->spec));
			x->node = s->self;
		}
	}
	return 0;
}

static int read_cluster(struct ld *l, yaml_node_t *cn)
{
	struct nc_spec *s = l->s;
	struct cluster_ld cl = { .self = "" };
	int ret;

	ret = read_map(l, cn, S_CLUSTER, "cluster", set_cluster, &cl);
	if (ret < 0)
		return ret;
	s->cluster = true;
	s->self = node_idx(s, cl.self);
	if (s->self < 0)
		return fail(l, cl.self_n, "cluster.node", "'%s' is not in cluster.nodes", cl.self);
	ret = read_place(l, &cl);
	if (ret < 0)
		return ret;
	return finish_cluster(l, cn);
}

/* placement.anti-affinity names VNF types of the file. */
static int resolve_anti(struct ld *l, yaml_node_t *root)
{
	struct nc_spec *s = l->s;
	unsigned i, j;

	for (i = 0; i < s->nvnf; i++)
		for (j = 0; j < s->vnf[i].nanti; j++) {
			int v = nc_spec_vnf(s, s->vnf[i].anti_name[j]);
			char key[64];

			snprintf(key, sizeof(key), "vnfs.%s.placement.anti-affinity", s->vnf[i].name);
			if (v < 0 || v == (int)i)
				return fail(l, top_get(l, root, "vnfs"), key, "'%s' is %s",
					    s->vnf[i].anti_name[j],
					    v < 0 ? "not a VNF of vnfs" : "the type itself");
			s->vnf[i].anti |= 1u << v;
		}
	return 0;
}

int nc_spec_load(const char *path, struct nc_spec **out, char *err, size_t errlen)
{
	static const entry_fn fns[] = { add_port, add_vnf, add_chain, add_tenant };
	static const char *const order[] = { "ports", "vnfs", "chains", "tenants" };
	struct ld l = { .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_node_t *root;
	bool have_doc = false;
	char tmp[256];
	FILE *f = NULL;
	unsigned i;
	int ret;

	*out = NULL;
	l.s = calloc(1, sizeof(*l.s));
	if (l.s == NULL)
		return -ENOMEM;
	snprintf(l.s->file, sizeof(l.s->file), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(l.s->dir, sizeof(l.s->dir), "%s", dirname(tmp));
	l.s->switch_cpu = -1;
	l.s->mode = 1;		/* intr: a small machine shares its cores */
	l.s->probe_interval_ms = 100;
	l.s->probe_timeout_ms = 400;
	l.s->session_timeout_ms = 15 * 60 * 1000;
	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!yaml_parser_initialize(&parser)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		snprintf(err, errlen, "%s:%lu: not YAML: %s%s%s", path,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "syntax error",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		ret = -EINVAL;
		goto fail;
	}
	yaml_parser_delete(&parser);
	have_doc = true;
	root = yaml_document_get_root_node(&l.doc);
	if (root == NULL) {
		snprintf(err, errlen, "%s:1: the file is empty", path);
		ret = -EINVAL;
		goto fail;
	}
	ret = read_map(&l, root, S_TOP, "", set_top, l.s);
	if (ret < 0)
		goto fail;
	for (i = 0; i < 4; i++) {
		yaml_node_t *m = top_get(&l, root, order[i]);

		if (m) {
			ret = read_entries(&l, key_of(S_TOP, order[i]), m, fns[i]);
			if (ret < 0)
				goto fail;
		}
	}
	ret = resolve_anti(&l, root);
	if (ret < 0)
		goto fail;
	if (top_get(&l, root, "cluster")) {
		ret = read_cluster(&l, top_get(&l, root, "cluster"));
		if (ret < 0)
			goto fail;
	}
	if (l.s->probe_timeout_ms > l.s->probe_interval_ms * 10) {
		ret = fail(&l, top_get(&l, root, "policy"), "policy.probe-timeout",
			   "%ums is more than ten probe intervals", l.s->probe_timeout_ms);
		goto fail;
	}
	yaml_document_delete(&l.doc);
	fclose(f);
	*out = l.s;
	return 0;
fail:
	if (have_doc)
		yaml_document_delete(&l.doc);
	if (f)
		fclose(f);
	nc_spec_free(l.s);
	return ret;
}

void nc_spec_free(struct nc_spec *s)
{
	unsigned i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nvnf; i++) {
		free(s->vnf[i].config);
		for (j = 0; j < s->vnf[i].nfiles; j++)
			free(s->vnf[i].file[j].text);
	}
	free(s);
}

int nc_spec_vnf(const struct nc_spec *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->nvnf; i++)
		if (strcmp(s->vnf[i].name, name) == 0)
			return (int)i;
	return -1;
}

int nc_spec_tenant(const struct nc_spec *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->ntenant; i++)
		if (strcmp(s->tenant[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool same_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool nc_vnf_same(const struct nc_vnf *a, const struct nc_vnf *b)
{
	unsigned i;

	if (strcmp(a->program, b->program) || strcmp(a->port[0], b->port[0]) ||
	    strcmp(a->port[1], b->port[1]) || !same_str(a->config, b->config) ||
	    a->nfiles != b->nfiles || a->cpu_milli != b->cpu_milli || a->memory != b->memory)
		return false;
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->file[i].name, b->file[i].name) ||
		    !same_str(a->file[i].text, b->file[i].text))
			return false;
	return true;
}
