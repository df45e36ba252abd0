/* main.c - nf-nat: configuration, tables, control requests, timers.
 *
 *   inside PORT [next-hop MAC]     the private side
 *   outside PORT [next-hop MAC]    the public side; with a next hop, frames
 *                                  leaving by the port get dst MAC := it,
 *                                  src MAC := the port's (else MACs are
 *                                  left alone: a bump in the wire)
 *   pool FIRST[-LAST] [ports LO-HI]  external addresses (or a PREFIX), the
 *                                  port range (default 1024-65535)
 *   static INSIDE EXTERNAL         1:1 NAT of an address, or of a prefix
 *                                  onto one of the same length (no state)
 *
 * Defaults and their reasons (keys):
 *   filtering address-dependent: RFC 4787 REQ-8 recommends endpoint-
 *     independent filtering where application transparency matters most
 *     and address-dependent where security does. A NAT in front of
 *     subscribers guards hosts that did not ask to be reached, so the
 *     stricter one is the default; with endpoint-independent mapping
 *     (always), hole punching still works, and "set filtering
 *     endpoint-independent" is there for the rest.
 *   tcp-established 7440 s, tcp-transitory 240 s (RFC 5382 REQ-5),
 *   udp 300 s (RFC 4787 REQ-5: at least 120, 300 recommended),
 *   icmp 60 s (RFC 5508 REQ-2), hairpin on (REQ-9), inbound-refresh on.
 * Shorter timeouts are accepted (tests use them); --help says the RFCs'
 * minimums.
 */
#include "nat.h"
#include "nf_metrics.h"
#include "nf_addr.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nat *nat;

static const char *const nat_drop_names[] = {
#define NAT_DROP_NAME(e, n) n,
	NAT_DROPS(NAT_DROP_NAME)
#undef NAT_DROP_NAME
};

static const char *const filtering_names[] = { "endpoint-independent", "address-dependent",
					       NULL };

static const struct nf_conf_key nat_keys[] = {
	{ "sessions", NF_CONF_U64, 16, 1u << 24, 1000000, NULL,
	  offsetof(struct nat_settings, sessions), "session table entries", false },
	{ "filtering", NF_CONF_ENUM, 0, 0, 1, filtering_names,
	  offsetof(struct nat_settings, filtering),
	  "inbound packets to a mapping: from anywhere, or only from addresses the "
	  "inside endpoint sent to (RFC 4787 REQ-8)", true },
	{ "tcp-established", NF_CONF_U64, 1, 1u << 30, 7440, NULL,
	  offsetof(struct nat_settings, to_est),
	  "idle timeout of an established TCP session, s (RFC 5382: >= 7440)", true },
	{ "tcp-transitory", NF_CONF_U64, 1, 1u << 30, 240, NULL,
	  offsetof(struct nat_settings, to_trans),
	  "idle timeout of an opening or closing TCP session, s (RFC 5382: >= 240)", true },
	{ "udp", NF_CONF_U64, 1, 1u << 30, 300, NULL,
	  offsetof(struct nat_settings, to_udp),
	  "idle timeout of a UDP session, s (RFC 4787 REQ-5: >= 120)", true },
	{ "icmp", NF_CONF_U64, 1, 1u << 30, 60, NULL,
	  offsetof(struct nat_settings, to_icmp),
	  "idle timeout of an ICMP query session, s (RFC 5508 REQ-2: >= 60)", true },
	{ "hairpin", NF_CONF_BOOL, 0, 1, 1, NULL,
	  offsetof(struct nat_settings, hairpin),
	  "inside to inside through a mapping (RFC 4787 REQ-9)", true },
	{ "inbound-refresh", NF_CONF_BOOL, 0, 1, 1, NULL,
	  offsetof(struct nat_settings, inbound_refresh),
	  "packets from outside refresh a session's timer (RFC 4787 REQ-6)", true },
};

/* ------------------------------------------------------------ directives */

static int side_dir(struct nf_vnf *v, int argc, char **argv, int which)
{
	int port = nf_vnf_port_find(v, argv[1]);
	int *slot = which ? &nat->outside : &nat->inside;

	if (port < 0) {
		nf_set_error("no port '%s' (declare it first: port NAME SPEC)", argv[1]);
		return -EINVAL;
	}
	if (*slot >= 0) {
		nf_set_error("the %s port is already %s", which ? "outside" : "inside",
			     v->port[*slot].name);
		return -EEXIST;
	}
	if (argc == 4) {
		if (strcmp(argv[2], "next-hop") != 0) {
			nf_set_error("expected: %s PORT [next-hop MAC]", argv[0]);
			return -EINVAL;
		}
		if (nf_parse_mac(argv[3], nat->nh_mac[which]) < 0 || (nat->nh_mac[which][0] & 1)) {
			nf_set_error("'%s' is not a unicast MAC address", argv[3]);
			return -EINVAL;
		}
		nat->nh_set[which] = true;
	} else if (argc != 2) {
		nf_set_error("expected: %s PORT [next-hop MAC]", argv[0]);
		return -EINVAL;
	}
	*slot = port;
	return 0;
}

static int dir_inside(struct nf_conf *c, int argc, char **argv, void *arg)
{
	(void)c;
	return side_dir(arg, argc, argv, 0);
}

static int dir_outside(struct nf_conf *c, int argc, char **argv, void *arg)
{
	(void)c;
	return side_dir(arg, argc, argv, 1);
}

static int parse_v4(const char *s, uint32_t *a)
{
	struct nf_ip ip;

	if (nf_ip_parse(s, &ip) < 0 || ip.family != 4) {
		nf_set_error("'%s' is not an IPv4 address", s);
		return -EINVAL;
	}
	*a = ip.v4;
	return 0;
}

/* "A", "A-B" or "A/LEN": first address and count (host order). */
static int parse_range(const char *s, uint32_t *first, uint32_t *count)
{
	char buf[64];
	char *dash;
	uint32_t last;

	if (strlen(s) >= sizeof(buf)) {
		nf_set_error("'%s' is not an address range", s);
		return -EINVAL;
	}
	nf_strlcpy(buf, s, sizeof(buf));
	if (strchr(buf, '/') != NULL) {
		struct nf_prefix p;

		if (nf_prefix_parse(buf, false, &p, NULL) < 0)
			return -EINVAL;
		if (p.addr.family != 4 || p.len < 8) {
			nf_set_error("'%s': expected an IPv4 prefix of length 8..32", s);
			return -EINVAL;
		}
		*first = p.addr.v4;
		*count = (uint32_t)(1ull << (32 - p.len));
		return 0;
	}
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (parse_v4(buf, first) < 0 || (dash != NULL && parse_v4(dash, &last) < 0))
		return -EINVAL;
	if (dash == NULL)
		last = *first;
	if (last < *first) {
		nf_set_error("%s: the last address is below the first", s);
		return -EINVAL;
	}
	*count = last - *first + 1;
	return 0;
}

static int dir_pool(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nat *n = nat;
	uint32_t first, count, k;
	uint64_t lo = 1024, hi = 65535;

	(void)arg;
	if (parse_range(argv[1], &first, &count) < 0)
		return -EINVAL;
	if (argc == 4) {
		char buf[32], *dash;

		nf_strlcpy(buf, argv[3], sizeof(buf));
		dash = strchr(buf, '-');
		if (strcmp(argv[2], "ports") != 0 || dash == NULL) {
			nf_set_error("expected: pool FIRST[-LAST] [ports LO-HI]");
			return -EINVAL;
		}
		*dash++ = '\0';
		if (nf_parse_u64(buf, 1, 65535, 0, &lo) < 0 ||
		    nf_parse_u64(dash, 1, 65535, 0, &hi) < 0 || lo > hi) {
			nf_set_error("ports %s: expected LO-HI within 1..65535, LO <= HI", argv[3]);
			return -EINVAL;
		}
	} else if (argc != 2) {
		nf_set_error("expected: pool FIRST[-LAST] [ports LO-HI]");
		return -EINVAL;
	}
	if (count > NAT_POOL_MAX - n->npool) {
		nf_set_error("at most %d pool addresses in all", NAT_POOL_MAX);
		return -ENOSPC;
	}
	for (k = 0; k < count; k++) {
		const uint32_t a = htonl(first + k);

		if (nat_pool_find(n, a) >= 0) {
			char b[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &a, b, sizeof(b));
			nf_set_error("%s is already in the pool", b);
			return -EEXIST;
		}
		n->pool[n->npool].addr = a;
		n->pool[n->npool].lo = (uint16_t)lo;
		n->pool[n->npool].hi = (uint16_t)hi;
		n->npool++;
	}
	if (n->pool_line == 0)
		n->pool_line = c->line;
	return 0;
}

static int dir_static(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nat *n = nat;
	struct nat_static s;
	uint32_t total = 0, ce;
	unsigned i;
	void *p;

	(void)argc;
	(void)arg;
	if (parse_range(argv[1], &s.in, &s.n) < 0 || parse_range(argv[2], &s.ext, &ce) < 0)
		return -EINVAL;
	if ((strchr(argv[1], '-') != NULL) || (strchr(argv[2], '-') != NULL)) {
		nf_set_error("expected two addresses, or two prefixes");
		return -EINVAL;
	}
	if (ce != s.n) {
		nf_set_error("%s and %s are not of the same size", argv[1], argv[2]);
		return -EINVAL;
	}
	for (i = 0; i < n->nst; i++) {
		const struct nat_static *o = &n->st[i];

		total += o->n;
		if (s.in < o->in + o->n && o->in < s.in + s.n) {
			nf_set_error("inside %s overlaps the static entry of line %u", argv[1],
				     o->line);
			return -EEXIST;
		}
		if (s.ext < o->ext + o->n && o->ext < s.ext + s.n) {
			nf_set_error("external %s overlaps the static entry of line %u",
				     argv[2], o->line);
			return -EEXIST;
		}
	}
	if (s.n > NAT_STATIC_MAX - total) {
		nf_set_error("at most %u static addresses in all", NAT_STATIC_MAX);
		return -ENOSPC;
	}
	p = realloc(n->st, (n->nst + 1) * sizeof(*n->st));
	if (p == NULL)
		return -ENOMEM;
	n->st = p;
	s.line = c->line;
	n->st[n->nst++] = s;
	return 0;
}

static const struct nf_conf_dir nat_dirs[] = {
	{ "inside", 1, 3, dir_inside, "inside PORT [next-hop MAC]", false },
	{ "outside", 1, 3, dir_outside, "outside PORT [next-hop MAC]", false },
	{ "pool", 1, 3, dir_pool, "pool FIRST[-LAST]|PREFIX [ports LO-HI]", false },
	{ "static", 2, 2, dir_static, "static INSIDE EXTERNAL (addresses or prefixes)", false },
};

/* ----------------------------------------------------------- lifecycle */

static int nat_validate(struct nf_vnf *v)
{
	struct nat *n = nat;
	unsigned i, k;

	if (n->inside < 0 || n->outside < 0) {
		nf_set_error("no %s port (add: %s PORT)", n->inside < 0 ? "inside" : "outside",
			     n->inside < 0 ? "inside" : "outside");
		return -EINVAL;
	}
	if (n->inside == n->outside) {
		nf_set_error("the inside and outside ports must differ");
		return -EINVAL;
	}
	if (v->nports != 2) {
		nf_set_error("nf-nat has two ports, inside and outside (%u declared)", v->nports);
		return -EINVAL;
	}
	if (n->npool == 0 && n->nst == 0) {
		nf_set_error("nothing to translate: add a pool or a static entry");
		return -EINVAL;
	}
	for (i = 0; i < n->nst; i++)
		for (k = 0; k < n->st[i].n; k++)
			if (nat_pool_find(n, htonl(n->st[i].ext + k)) >= 0) {
				nf_set_error("line %u: static external address %u.%u.%u.%u is in "
					     "the pool", n->st[i].line,
					     (n->st[i].ext + k) >> 24,
					     (n->st[i].ext + k) >> 16 & 255,
					     (n->st[i].ext + k) >> 8 & 255, (n->st[i].ext + k) & 255);
				return -EINVAL;
			}
	return 0;
}

static void ct_conf_of(const struct nat_settings *s, struct nf_ct_conf *c)
{
	unsigned k;

	nf_ct_conf_default(c, (uint32_t)s->sessions);
	for (k = NF_CT_TCP_SYN_SENT; k < NF_CT_TCP_MAX; k++)
		c->to.tcp[k] = (uint32_t)s->to_trans;
	c->to.tcp[NF_CT_TCP_ESTABLISHED] = (uint32_t)s->to_est;
	c->to.tcp_unack = (uint32_t)s->to_est;
	c->to.udp = c->to.udp_stream = (uint32_t)s->to_udp;
	c->to.icmp = (uint32_t)s->to_icmp;
	c->tcp_loose = true;
}

static int nat_start(struct nf_vnf *v)
{
	struct nat *n = nat;
	struct nf_ct_conf cc;
	unsigned k;
	int ret;

	for (k = 0; k < 2; k++) {		/* the MACs post writes */
		const int port = k ? n->outside : n->inside;

		n->l2_set[port] = n->nh_set[k];
		memcpy(n->l2_hdr[port], n->nh_mac[k], 6);
		memcpy(n->l2_hdr[port] + 6, v->port[port].mac, 6);
	}
	ct_conf_of(&n->set, &cc);
	ret = nf_ct_create(&cc, &n->ct);
	if (ret < 0)
		return ret;
	ret = nat_tables_init(n);
	if (ret == 0)
		ret = nat_frag_init(n);
	nat_fc_init();
	n->applied = n->set;
	n->start_ns = nf_now_ns();
	return ret;
}

static void nat_stop(struct nf_vnf *v)
{
	(void)v;
	if (nat->ct != NULL)
		nf_ct_destroy(nat->ct);
	nat->ct = NULL;
	nat_tables_free(nat);
	nat_frag_free(nat);
	free(nat->st);
	nat->st = NULL;
}

void nat_apply(struct nat *n)
{
	struct nf_ct_conf cc;

	ct_conf_of(&n->set, &cc);
	nf_ct_set_conf(n->ct, &cc);
	n->applied = n->set;
}

static void nat_tick(struct nf_vnf *v, uint64_t now)
{
	struct nat *n = nat;

	(void)v;
	if (memcmp(&n->applied, &n->set, sizeof(n->set)) != 0)
		nat_apply(n);
	nf_ct_expire(n->ct, now, nat_session_gone, n);
}

/* ------------------------------------------------------------- control */

static const char *const proto_names[NAT_P_MAX] = { "tcp", "udp", "icmp" };

static json_object *endpoint(const uint8_t *a, uint16_t port_be)
{
	char b[40];

	snprintf(b, sizeof(b), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], ntohs(port_be));
	return json_object_new_string(b);
}

struct dump {
	struct json_object *a;
	unsigned max, n;
	uint64_t now;
};

static int session_json(void *arg, uint32_t idx, const struct nf_ct_entry *e)
{
	struct dump *d = arg;
	const struct nf_ct_tuple *o = &e->t[NF_CT_ORIG], *r = &e->t[NF_CT_REPLY];
	const bool inb = e->user & NAT_U_INBOUND, icmp = o->proto == NF_IPPROTO_ICMP;
	const unsigned ps = nat_proto_slot(o->proto);
	struct json_object *j;
	char st[32];

	(void)idx;
	if (d->n++ >= d->max)
		return 1;
	j = json_object_new_object();
	json_object_object_add(j, "protocol", json_object_new_string(
		ps < NAT_P_MAX ? proto_names[ps] : "other"));
	if (!inb) {
		json_object_object_add(j, "inside", endpoint(o->src, o->sport));
		json_object_object_add(j, "outside", endpoint(r->dst, icmp ? r->sport : r->dport));
		json_object_object_add(j, "remote", endpoint(o->dst, o->dport));
	} else {
		json_object_object_add(j, "inside", endpoint(r->src, r->sport));
		json_object_object_add(j, "outside", endpoint(o->dst, icmp ? o->sport : o->dport));
		json_object_object_add(j, "remote", endpoint(o->src, o->sport));
	}
	json_object_object_add(j, "direction", json_object_new_string(
		(e->user & NAT_U_HAIRPIN) ? "hairpin" : inb ? "inbound" : "outbound"));
	if (o->proto == NF_IPPROTO_TCP)
		snprintf(st, sizeof(st), "%s", nf_ct_tcp_name((enum nf_ct_tcp)e->tcp_state));
	else
		snprintf(st, sizeof(st), "%s", (e->flags & NF_CT_F_SEEN_REPLY) ? "REPLIED" :
			 "UNREPLIED");
	json_object_object_add(j, "state", json_object_new_string(st));
	json_object_object_add(j, "seconds", json_object_new_uint64(
		nf_ct_ttl(nat->ct, e, d->now)));
	json_object_object_add(j, "packets_out", json_object_new_uint64(e->packets[inb]));
	json_object_object_add(j, "packets_in", json_object_new_uint64(e->packets[!inb]));
	json_object_array_add(d->a, j);
	return 0;
}

static int max_arg(int argc, char **argv, unsigned *max)
{
	uint64_t m;

	*max = 100000;
	if (argc < 2)
		return 0;
	if (nf_parse_u64(argv[1], 1, 1u << 24, 0, &m) < 0) {
		nf_set_error("%s [MAX]: MAX 1..%u", argv[0], 1u << 24);
		return -EINVAL;
	}
	*max = (unsigned)m;
	return 0;
}

static int nat_ctl(struct nf_vnf *v, int argc, char **argv, struct json_object *reply)
{
	struct nat *n = nat;
	struct dump d = { NULL, 0, 0, v->now_ns };
	uint32_t i;

	if (strcmp(argv[0], "sessions") == 0 && argc <= 2) {
		if (max_arg(argc, argv, &d.max) < 0)
			return -EINVAL;
		d.now = nf_now_ns();
		d.a = json_object_new_array();
		nf_ct_foreach(n->ct, session_json, &d);
		json_object_object_add(reply, "sessions", d.a);
		return 0;
	}
	if (strcmp(argv[0], "mappings") == 0 && argc <= 2) {
		if (max_arg(argc, argv, &d.max) < 0)
			return -EINVAL;
		d.a = json_object_new_array();
		for (i = 0; i < n->map_hw && d.n < d.max; i++) {
			const struct nat_map *m = &n->map[i];
			struct json_object *j;

			if (!m->used)
				continue;
			d.n++;
			j = json_object_new_object();
			json_object_object_add(j, "protocol",
					       json_object_new_string(proto_names[m->proto]));
			json_object_object_add(j, "inside", endpoint((const uint8_t *)&m->in_addr,
								     m->in_port));
			json_object_object_add(j, "outside", endpoint(
				(const uint8_t *)&n->pool[m->ext].addr, m->ext_port));
			json_object_object_add(j, "sessions", json_object_new_uint64(m->refs));
			json_object_array_add(d.a, j);
		}
		json_object_object_add(reply, "mappings", d.a);
		return 0;
	}
	return -ENOENT;
}

static void nat_stats(struct nf_vnf *v, struct json_object *reply)
{
	struct nat *n = nat;
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	struct nf_ct_stats cs;
	static const enum nat_drop refused[] = {
		NAT_DROP_SESSIONS_FULL, NAT_DROP_NO_PORT, NAT_DROP_CLASH, NAT_DROP_NO_MAPPING,
		NAT_DROP_FILTERED, NAT_DROP_NOT_POOL, NAT_DROP_HAIRPIN_OFF,
		NAT_DROP_UNSUPPORTED,
	};
	unsigned k;

	nf_ct_get_stats(n->ct, &cs);
#define U(name, val) json_object_object_add(o, name, json_object_new_uint64(val))
	U("sessions", cs.count);
	U("sessions_max", cs.max);
	U("mappings", n->map_count);
	U("filters", n->filt.count);
	U("created", n->created);
	U("expired", n->expired);
	U("mappings_created", n->map_created);
	U("mappings_expired", n->map_expired);
	U("translated_out", n->xlat_out);
	U("translated_in", n->xlat_in);
	U("hairpinned", n->hairpinned);
	U("icmp_errors_out", n->icmp_err_out);
	U("icmp_errors_in", n->icmp_err_in);
	U("static_out", n->static_out);
	U("static_in", n->static_in);
	U("fragments", n->frag_xlat);
	U("passed_ipv6", n->passed_ipv6);
	U("passed_other", n->passed_other);
	U("arp_replies", n->arp_replies);
	U("ct_memory_bytes", cs.bytes);
#undef U
	for (k = 0; k < NF_ARRAY_SIZE(refused); k++)
		json_object_object_add(r, nat_drop_names[refused[k]], json_object_new_uint64(
			v->drops[nat_reason(refused[k])]));
	json_object_object_add(reply, "nat", o);
	json_object_object_add(reply, "nat_refused", r);
}

static const struct nf_metrics_col nat_cols[] = {
	{ "nfchain_nat_sessions", "gauge", "sessions", "Sessions in use." },
	{ "nfchain_nat_sessions_max", "gauge", "sessions_max", "Session table size." },
	{ "nfchain_nat_mappings", "gauge", "mappings", "Endpoint mappings in use." },
	{ "nfchain_nat_sessions_created_total", "counter", "created", "Sessions created." },
	{ "nfchain_nat_sessions_expired_total", "counter", "expired", "Sessions expired." },
	{ "nfchain_nat_translated_out_packets_total", "counter", "translated_out",
	  "Packets translated inside to outside." },
	{ "nfchain_nat_translated_in_packets_total", "counter", "translated_in",
	  "Packets translated outside to inside." },
	{ "nfchain_nat_hairpinned_packets_total", "counter", "hairpinned",
	  "Packets hairpinned between two inside hosts." },
};


static struct nat the_nat = { .inside = -1, .outside = -1 };

static const struct nf_vnf_ops nat_ops = {
	.name = "nf-nat",
	.summary = "A NAPT44 VNF (RFC 4787, 5382, 5508): endpoint-independent mappings,\n"
		   "paired pooling, port preservation and parity, address-dependent or\n"
		   "endpoint-independent filtering, hairpinning, ICMP query and error\n"
		   "translation, static 1:1 NAT; transparent at L2 (a bump in the wire).\n"
		   "IPv6 and non-IP frames pass through unchanged.",
	.requests =
	"  sessions [MAX]         the sessions: inside, outside, remote, protocol,\n"
	"                         direction, state, seconds left (default MAX 100000)\n"
	"  mappings [MAX]         the mappings: protocol, inside, outside, sessions\n",
	.example =
		"  port in memif:/run/nfchain/sw.sock,id=1\n"
		"  port out memif:/run/nfchain/sw.sock,id=2\n"
		"  inside in\n"
		"  outside out\n"
		"  pool 192.0.2.1-192.0.2.16 ports 1024-65535\n"
		"  static 10.0.0.5 198.51.100.5\n"
		"  set filtering endpoint-independent\n",
	.dirs = nat_dirs,
	.ndirs = NF_ARRAY_SIZE(nat_dirs),
	.keys = nat_keys,
	.nkeys = NF_ARRAY_SIZE(nat_keys),
	.settings = &the_nat.set,
	.drops = nat_drop_names,
	.ndrops = NAT_DROP_MAX,
	.l3 = false,
	.validate = nat_validate,
	.start = nat_start,
	.stop = nat_stop,
	.pre = nat_pre,
	.process = nat_process,
	.post = nat_post,
	.tick = nat_tick,
	.ctl = nat_ctl,
	.stats = nat_stats,
	.metrics_key = "nat",
	.metrics_cols = nat_cols,
	.nmetrics_cols = NF_ARRAY_SIZE(nat_cols),
};

int main(int argc, char **argv)
{
	nat = &the_nat;
	return nf_vnf_main(argc, argv, &nat_ops, nat);
}
