/* main.c - nf-router: configuration, the routing tables, control requests.
 *
 *   address PORT ADDRESS/LEN           an interface address: installs the
 *                                      connected route, the address as a
 *                                      local host route and (IPv4) the
 *                                      subnet broadcast address
 *   route PREFIX via ADDRESS           via a gateway on a connected network
 *   route PREFIX dev PORT              directly attached
 *   route PREFIX reject|blackhole      ICMP unreachable / silent drop
 *   route-del PREFIX                   (runtime)
 *   neighbor PORT ADDRESS MAC          a static ARP / ND entry
 *
 * Routes in the file are checked for syntax where they stand and applied
 * after the whole file is read (addresses may come later); -n checks both.
 * At runtime (nfchain vnf CTL conf route ...), they apply at once, between
 * two bursts: traffic to other prefixes is not disturbed.
 */
#include "router.h"
#include "nf_metrics.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct router *rt;

static const char *const rt_drop_names[] = {
#define RT_DROP_NAME(e, n) n,
	RT_DROPS(RT_DROP_NAME)
#undef RT_DROP_NAME
};

#define ROUTES_MAX_DEF	(1u << 21)

/* Settings: one table of keys with ranges. */
static const struct nf_conf_key rt_keys[] = {
	{ "icmp-rate", NF_CONF_U64, 0, 1000000, 1000, NULL,
	  offsetof(struct rt_settings, icmp_rate), "ICMP errors per second", true },
	{ "icmp-burst", NF_CONF_U64, 1, 100000, 50, NULL,
	  offsetof(struct rt_settings, icmp_burst), "ICMP errors in a burst", true },
	{ "neigh-max", NF_CONF_U64, 16, 1u << 20, 4096, NULL,
	  offsetof(struct rt_settings, neigh_max), "neighbour entries", false },
	{ "neigh-queue", NF_CONF_U64, 1, 4096, 16, NULL,
	  offsetof(struct rt_settings, neigh_queue), "frames waiting per neighbour", true },
	{ "neigh-queue-total", NF_CONF_U64, 16, 65536, 1024, NULL,
	  offsetof(struct rt_settings, neigh_queue_total), "frames waiting in all", false },
	{ "neigh-reachable-ms", NF_CONF_U64, 100, 3600000, 30000, NULL,
	  offsetof(struct rt_settings, neigh_reachable_ms), "reachable time", true },
	{ "neigh-retrans-ms", NF_CONF_U64, 10, 60000, 1000, NULL,
	  offsetof(struct rt_settings, neigh_retrans_ms), "time between probes", true },
	{ "neigh-probes", NF_CONF_U64, 1, 100, 3, NULL,
	  offsetof(struct rt_settings, neigh_probes), "probes before giving up", true },
	{ "ttl", NF_CONF_U64, 1, 255, 64, NULL,
	  offsetof(struct rt_settings, ttl), "TTL of packets the router sends", true },
};

/* ---------------------------------------------------------- addresses */

const struct rt_addr *addr_local(const struct nf_ip *ip)
{
	unsigned i;

	for (i = 0; i < rt->naddr; i++)
		if (nf_ip_eq(&rt->addr[i].ip, ip))
			return &rt->addr[i];
	return NULL;
}

const struct rt_addr *addr_on_port(unsigned port, uint8_t family)
{
	unsigned i;

	for (i = 0; i < rt->naddr; i++)
		if (rt->addr[i].port == port && rt->addr[i].ip.family == family &&
		    !(family == 6 && rt->addr[i].ip.v6[0] == 0xfe))
			return &rt->addr[i];
	for (i = 0; i < rt->naddr; i++)		/* a link-local one */
		if (rt->addr[i].port == port && rt->addr[i].ip.family == family)
			return &rt->addr[i];
	return NULL;
}

const struct rt_addr *addr_for(unsigned port, const struct nf_ip *dst)
{
	unsigned i;

	for (i = 0; i < rt->naddr; i++)
		if (rt->addr[i].port == port && nf_prefix_has(&rt->addr[i].pfx, dst))
			return &rt->addr[i];
	return addr_on_port(port, dst->family);
}

bool addr_onlink(unsigned port, const struct nf_ip *ip)
{
	unsigned i;

	if (ip->family == 6 && rt_ll6(ip->v6))
		return true;
	for (i = 0; i < rt->naddr; i++)
		if (rt->addr[i].port == port && nf_prefix_has(&rt->addr[i].pfx, ip))
			return true;
	return false;
}

const struct rt_addr *addr_linklocal(unsigned port)
{
	unsigned i;

	for (i = 0; i < rt->naddr; i++)
		if (rt->addr[i].port == port && rt->addr[i].ip.family == 6 &&
		    rt_ll6(rt->addr[i].ip.v6))
			return &rt->addr[i];
	return NULL;
}

/* ---------------------------------------------------------- next hops */

static int nh_get(const struct rt_nh *want)
{
	struct router *r = rt;
	uint32_t i, free_slot = UINT32_MAX;

	for (i = 0; i < r->nnh; i++) {
		struct rt_nh *h = &r->nh[i];

		if (h->refs == 0) {
			if (free_slot == UINT32_MAX)
				free_slot = i;
			continue;
		}
		if (h->kind == want->kind && h->port == want->port &&
		    (want->kind != NH_GATEWAY || nf_ip_eq(&h->gw, &want->gw))) {
			if (h->refs == UINT16_MAX)
				continue;
			h->refs++;
			return (int)i;
		}
	}
	if (free_slot == UINT32_MAX) {
		if (r->nnh == RT_NH_MAX) {
			nf_set_error("too many next hops (%d)", RT_NH_MAX);
			return -ENOSPC;
		}
		free_slot = r->nnh++;
	}
	r->nh[free_slot] = *want;
	r->nh[free_slot].refs = 1;
	return (int)free_slot;
}

static void nh_put(uint32_t idx)
{
	if (idx < rt->nnh && rt->nh[idx].refs > 0)
		rt->nh[idx].refs--;
}

/* Install @pfx -> @nh, replacing a route to the same prefix. */
static int route_install(const struct nf_prefix *pfx, const struct rt_nh *nh)
{
	struct router *r = rt;
	uint32_t old;
	int idx, ret, had;

	idx = nh_get(nh);
	if (idx < 0)
		return idx;
	if (pfx->addr.family == 4) {
		had = nf_lpm4_get(r->fib4, pfx->addr.v4, pfx->len, &old) == 0;
		ret = nf_lpm4_add(r->fib4, pfx->addr.v4, pfx->len, (uint32_t)idx);
	} else {
		had = nf_lpm6_get(r->fib6, pfx->addr.v6, pfx->len, &old) == 0;
		ret = nf_lpm6_add(r->fib6, pfx->addr.v6, pfx->len, (uint32_t)idx);
	}
	if (ret < 0) {
		nh_put((uint32_t)idx);
		return ret;
	}
	if (had)
		nh_put(old);
	return 0;
}

static int route_remove(const struct nf_prefix *pfx)
{
	struct router *r = rt;
	uint32_t old;
	int ret;

	if (pfx->addr.family == 4) {
		if (nf_lpm4_get(r->fib4, pfx->addr.v4, pfx->len, &old) < 0)
			goto missing;
		ret = nf_lpm4_del(r->fib4, pfx->addr.v4, pfx->len);
	} else {
		if (nf_lpm6_get(r->fib6, pfx->addr.v6, pfx->len, &old) < 0)
			goto missing;
		ret = nf_lpm6_del(r->fib6, pfx->addr.v6, pfx->len);
	}
	if (ret == 0)
		nh_put(old);
	return ret;
missing:
	{
		char b[64];

		nf_set_error("no route to %s", nf_prefix_str(pfx, b, sizeof(b)));
	}
	return -ENOENT;
}

/* Parse "PREFIX via ADDR | dev PORT | reject | blackhole" from argv[1..].
 * With @apply, install it (the tables exist). */
static int route_parse(struct nf_vnf *v, int argc, char **argv, bool apply)
{
	struct nf_prefix pfx;
	struct rt_nh nh;
	int ret, port;

	memset(&nh, 0, sizeof(nh));
	ret = nf_prefix_parse(argv[1], false, &pfx, NULL);
	if (ret < 0)
		return ret;
	if (argc == 3 && (strcmp(argv[2], "reject") == 0 || strcmp(argv[2], "blackhole") == 0)) {
		nh.kind = argv[2][0] == 'r' ? NH_REJECT : NH_BLACKHOLE;
	} else if (argc == 4 && strcmp(argv[2], "dev") == 0) {
		port = nf_vnf_port_find(v, argv[3]);
		if (port < 0) {
			nf_set_error("no port '%s'", argv[3]);
			return -EINVAL;
		}
		nh.kind = NH_CONNECTED;
		nh.port = (uint8_t)port;
	} else if (argc == 4 && strcmp(argv[2], "via") == 0) {
		unsigned i;

		if (nf_ip_parse(argv[3], &nh.gw) < 0) {
			nf_set_error("'%s' is not an address", argv[3]);
			return -EINVAL;
		}
		if (nh.gw.family != pfx.addr.family) {
			nf_set_error("gateway %s is not of the prefix's family", argv[3]);
			return -EINVAL;
		}
		nh.kind = NH_GATEWAY;
		if (!apply)
			return 0;	/* the gateway's network may come later */
		for (i = 0; i < rt->naddr; i++)
			if (nf_prefix_has(&rt->addr[i].pfx, &nh.gw))
				break;
		if (i == rt->naddr) {
			nf_set_error("gateway %s is not on a connected network", argv[3]);
			return -ENETUNREACH;
		}
		nh.port = rt->addr[i].port;
	} else {
		nf_set_error("expected: route PREFIX via ADDRESS | dev PORT | reject | blackhole");
		return -EINVAL;
	}
	return apply ? route_install(&pfx, &nh) : 0;
}

static int dir_address(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	struct rt_addr *a;
	int port;

	(void)c;
	(void)argc;
	port = nf_vnf_port_find(v, argv[1]);
	if (port < 0) {
		nf_set_error("no port '%s' (declare it first: port NAME SPEC)", argv[1]);
		return -EINVAL;
	}
	if (rt->naddr == RT_ADDRS_MAX) {
		nf_set_error("at most %d addresses", RT_ADDRS_MAX);
		return -ENOSPC;
	}
	a = &rt->addr[rt->naddr];
	if (nf_prefix_parse(argv[2], true, &a->pfx, &a->ip) < 0)
		return -EINVAL;
	if ((a->ip.family == 4 && (a->pfx.len > 30 || a->pfx.len < 1)) ||
	    (a->ip.family == 6 && (a->pfx.len > 127 || a->pfx.len < 1))) {
		nf_set_error("the prefix length must leave room for hosts");
		return -EINVAL;
	}
	if (addr_local(&a->ip) != NULL) {
		nf_set_error("%s is already configured", argv[2]);
		return -EEXIST;
	}
	a->port = (uint8_t)port;
	rt->naddr++;
	return 0;
}

/* Config time: keep a checked line (with its number) for validate() and
 * start(), which apply it once every address is known. */
static int keep_line(struct nf_conf *c, int argc, char **argv)
{
	size_t used;
	int i;

	if (rt->npending % 1024 == 0) {
		void *p = realloc(rt->pending_routes, (rt->npending + 1024) *
				  sizeof(*rt->pending_routes));

		if (p == NULL)
			return -ENOMEM;
		rt->pending_routes = p;
	}
	used = (size_t)snprintf(rt->pending_routes[rt->npending], 160, "%u", c->line);
	for (i = 0; i < argc && used < 160; i++)
		used += (size_t)snprintf(rt->pending_routes[rt->npending] + used, 160 - used,
					 " %s", argv[i]);
	rt->npending++;
	return 0;
}

static int dir_route(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	int ret;

	ret = route_parse(v, argc, argv, v->running);
	if (ret < 0 || v->running)
		return ret;
	return keep_line(c, argc, argv);
}

static int dir_route_del(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	struct nf_prefix pfx;

	(void)c;
	(void)argc;
	if (nf_prefix_parse(argv[1], false, &pfx, NULL) < 0)
		return -EINVAL;
	if (!v->running) {
		nf_set_error("route-del is a runtime request");
		return -EINVAL;
	}
	return route_remove(&pfx);
}

static int dir_neighbor(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	struct nf_ip ip;
	uint8_t mac[6];
	int port;

	(void)argc;
	port = nf_vnf_port_find(v, argv[1]);
	if (port < 0) {
		nf_set_error("no port '%s'", argv[1]);
		return -EINVAL;
	}
	if (nf_ip_parse(argv[2], &ip) < 0) {
		nf_set_error("'%s' is not an address", argv[2]);
		return -EINVAL;
	}
	if (nf_parse_mac(argv[3], mac) < 0 || (mac[0] & 1)) {
		nf_set_error("'%s' is not a unicast MAC address", argv[3]);
		return -EINVAL;
	}
	if (rt->nb != NULL)			/* running: the table exists */
		return neigh_set_static(rt, &ip, (uint8_t)port, mac);
	return keep_line(c, argc, argv);	/* applied in start() */
}

static const struct nf_conf_dir rt_dirs[] = {
	{ "address", 2, 2, dir_address, "address PORT ADDRESS/LENGTH", false },
	{ "route", 2, 3, dir_route,
	  "route PREFIX via ADDRESS | dev PORT | reject | blackhole", true },
	{ "route-del", 1, 1, dir_route_del, "route-del PREFIX", true },
	{ "neighbor", 3, 3, dir_neighbor, "neighbor PORT ADDRESS MAC", true },
};

/* IPv6 link-local address of a port: fe80::/64 + modified EUI-64. */
static void add_linklocal(struct nf_vnf *v, unsigned port)
{
	struct rt_addr *a;
	const uint8_t *m = v->port[port].mac;

	if (rt->naddr == RT_ADDRS_MAX)
		return;
	a = &rt->addr[rt->naddr++];
	memset(a, 0, sizeof(*a));
	a->port = (uint8_t)port;
	a->ip.family = 6;
	a->ip.v6[0] = 0xfe;
	a->ip.v6[1] = 0x80;
	a->ip.v6[8] = m[0] ^ 0x02;
	a->ip.v6[9] = m[1];
	a->ip.v6[10] = m[2];
	a->ip.v6[11] = 0xff;
	a->ip.v6[12] = 0xfe;
	a->ip.v6[13] = m[3];
	a->ip.v6[14] = m[4];
	a->ip.v6[15] = m[5];
	a->pfx.addr = a->ip;
	memset(a->pfx.addr.v6 + 8, 0, 8);
	a->pfx.len = 64;
}

/* Build the tables: connected and local routes, then the file's routes. */
static int rt_validate(struct nf_vnf *v)
{
	struct router *r = rt;
	unsigned i, naddr = r->naddr;
	uint64_t t0 = nf_now_ns();
	int ret;

	ret = nf_lpm4_create(&r->fib4, ROUTES_MAX_DEF);
	if (ret == 0)
		ret = nf_lpm6_create(&r->fib6, ROUTES_MAX_DEF / 4);
	if (ret < 0)
		return ret;
	for (i = 0; i < v->nports; i++)
		add_linklocal(v, i);
	for (i = 0; i < naddr; i++) {
		const struct rt_addr *a = &r->addr[i];
		struct rt_nh nh = { .kind = NH_CONNECTED, .port = a->port };
		struct nf_prefix host = { .addr = a->ip, .len = a->ip.family == 4 ? 32 : 128 };

		if ((ret = route_install(&a->pfx, &nh)) < 0)
			return ret;
		nh.kind = NH_LOCAL;
		if ((ret = route_install(&host, &nh)) < 0)
			return ret;
		if (a->ip.family == 4) {
			host.addr.v4 = a->pfx.addr.v4 | ~nf_mask4(a->pfx.len);
			nh.kind = NH_BCAST;
			if ((ret = route_install(&host, &nh)) < 0)
				return ret;
		}
	}
	for (i = naddr; i < r->naddr; i++) {	/* link-local: local only */
		struct rt_nh nh = { .kind = NH_LOCAL, .port = r->addr[i].port };
		struct nf_prefix host = { .addr = r->addr[i].ip, .len = 128 };

		if ((ret = route_install(&host, &nh)) < 0)
			return ret;
	}
	{
		/* 255.255.255.255: the limited broadcast is not routed. */
		struct rt_nh nh = { .kind = NH_BCAST };
		struct nf_prefix lb = { .addr = { .family = 4, .v4 = 0xffffffffu }, .len = 32 };

		if ((ret = route_install(&lb, &nh)) < 0)
			return ret;
	}
	v->running = true;			/* so that route_parse applies */
	for (i = 0; i < r->npending; i++) {
		char copy[160], *line = copy, *argv[8], *save = NULL, *tok;
		int argc = 0;
		unsigned lineno;

		nf_strlcpy(copy, r->pending_routes[i], sizeof(copy));
		lineno = (unsigned)strtoul(line, &line, 10);

		for (tok = strtok_r(line, " ", &save); tok && argc < 8;
		     tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
		if (strcmp(argv[0], "neighbor") == 0)
			continue;		/* start() */
		ret = route_parse(v, argc, argv, true);
		if (ret < 0) {
			char msg[256];

			nf_strlcpy(msg, nf_last_error(), sizeof(msg));
			nf_set_error("line %u: %s", lineno, msg);
			v->running = false;
			return ret;
		}
	}
	v->running = false;
	if (r->npending > 10000)
		fprintf(stderr, "%s: %u routes loaded in %.2f s\n", v->ops->name,
			r->npending, (double)(nf_now_ns() - t0) / 1e9);
	return 0;
}

static int rt_start(struct nf_vnf *v)
{
	struct router *r = rt;
	unsigned i;
	int ret;

	ret = neigh_init(r);
	if (ret < 0)
		return ret;
	for (i = 0; i < r->npending; i++) {
		char *line = r->pending_routes[i], *argv[8], *save = NULL, *tok;
		int argc = 0;

		(void)strtoul(line, &line, 10);
		for (tok = strtok_r(line, " ", &save); tok && argc < 8;
		     tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
		if (strcmp(argv[0], "neighbor") != 0 || argc != 4)
			continue;
		ret = dir_neighbor(&v->conf, argc, argv, v);
		if (ret < 0)
			return ret;
	}
	free(r->pending_routes);
	r->pending_routes = NULL;
	srand((unsigned)time(NULL));
	r->ip_id = (uint16_t)rand();
	r->icmp_tb.tokens = (double)r->set.icmp_burst;
	r->icmp_tb.last_ns = nf_now_ns();
	return 0;
}

static void rt_stop(struct nf_vnf *v)
{
	(void)v;
	neigh_free(rt);
	nf_lpm4_free(rt->fib4);
	nf_lpm6_free(rt->fib6);
}

static void rt_tick(struct nf_vnf *v, uint64_t now)
{
	neigh_tick(v, now);
}

struct route_dump {
	struct nf_vnf *v;
	struct json_object *a;
	unsigned max, n;
};

static void route_json(struct route_dump *d, const struct nf_prefix *p, uint32_t nhi)
{
	static const char *const kinds[] = { "via", "dev", "reject", "blackhole", "local",
					     "broadcast" };
	const struct rt_nh *nh = &rt->nh[nhi];
	struct json_object *o = json_object_new_object();
	char b[64];

	json_object_object_add(o, "prefix", json_object_new_string(nf_prefix_str(p, b,
										 sizeof(b))));
	json_object_object_add(o, "type", json_object_new_string(kinds[nh->kind]));
	if (nh->kind == NH_GATEWAY)
		json_object_object_add(o, "via", json_object_new_string(nf_ip_str(&nh->gw, b,
										  sizeof(b))));
	if (nh->kind != NH_REJECT && nh->kind != NH_BLACKHOLE && nh->kind != NH_BCAST)
		json_object_object_add(o, "port", json_object_new_string(
			d->v->port[nh->port].name));
	json_object_array_add(d->a, o);
}

static int dump4(uint32_t prefix, uint8_t depth, uint32_t nh, void *arg)
{
	struct route_dump *d = arg;
	struct nf_prefix p = { .addr = { .family = 4, .v4 = prefix }, .len = depth };

	if (d->n++ >= d->max)
		return 1;
	route_json(d, &p, nh);
	return 0;
}

static int dump6(const uint8_t *prefix, uint8_t depth, uint32_t nh, void *arg)
{
	struct route_dump *d = arg;
	struct nf_prefix p = { .addr = { .family = 6 }, .len = depth };

	if (d->n++ >= d->max)
		return 1;
	memcpy(p.addr.v6, prefix, 16);
	route_json(d, &p, nh);
	return 0;
}

static int rt_ctl(struct nf_vnf *v, int argc, char **argv, struct json_object *reply)
{
	if (strcmp(argv[0], "routes") == 0 && argc <= 2) {
		struct route_dump d = { v, json_object_new_array(), 100000, 0 };
		uint64_t max;

		if (argc == 2) {
			if (nf_parse_u64(argv[1], 1, 10000000, 0, &max) < 0) {
				nf_set_error("routes [MAX]: MAX 1..10000000");
				json_object_put(d.a);
				return -EINVAL;
			}
			d.max = (unsigned)max;
		}
		nf_lpm4_foreach(rt->fib4, dump4, &d);
		nf_lpm6_foreach(rt->fib6, dump6, &d);
		json_object_object_add(reply, "routes", d.a);
		return 0;
	}
	if (strcmp(argv[0], "neighbors") == 0 && argc == 1) {
		struct json_object *a = json_object_new_array();

		neigh_json(v, a);
		json_object_object_add(reply, "neighbors", a);
		return 0;
	}
	return -ENOENT;
}

static void rt_stats(struct nf_vnf *v, struct json_object *reply)
{
	struct json_object *o = json_object_new_object();

	(void)v;
	json_object_object_add(o, "routes4", json_object_new_uint64(nf_lpm4_count(rt->fib4)));
	json_object_object_add(o, "routes6", json_object_new_uint64(nf_lpm6_count(rt->fib6)));
	json_object_object_add(o, "neighbors", json_object_new_uint64(rt->nb_count));
	json_object_object_add(o, "queued", json_object_new_uint64(rt->qused));
	json_object_object_add(o, "icmp_sent", json_object_new_uint64(rt->icmp_sent));
	json_object_object_add(o, "echo_replies", json_object_new_uint64(rt->echo_replies));
	json_object_object_add(o, "arp_replies", json_object_new_uint64(rt->arp_replies));
	json_object_object_add(o, "nd_replies", json_object_new_uint64(rt->nd_replies));
	json_object_object_add(o, "probes_sent", json_object_new_uint64(rt->probes_sent));
	json_object_object_add(o, "fragments_made", json_object_new_uint64(rt->fragments_made));
	json_object_object_add(o, "local_delivered", json_object_new_uint64(rt->local_delivered));
	json_object_object_add(reply, "router", o);
}

static const struct nf_metrics_col rt_cols[] = {
	{ "nfchain_router_routes4", "gauge", "routes4", "IPv4 routes." },
	{ "nfchain_router_routes6", "gauge", "routes6", "IPv6 routes." },
	{ "nfchain_router_neighbors", "gauge", "neighbors", "Neighbour table entries." },
	{ "nfchain_router_queued_packets", "gauge", "queued",
	  "Packets waiting for a neighbour's address." },
	{ "nfchain_router_icmp_sent_total", "counter", "icmp_sent", "ICMP errors sent." },
	{ "nfchain_router_fragments_made_total", "counter", "fragments_made",
	  "Fragments made of packets larger than the output MTU." },
	{ "nfchain_router_local_delivered_total", "counter", "local_delivered",
	  "Packets addressed to the router itself." },
};


static struct router the_router;

static const struct nf_vnf_ops router_ops = {
	.name = "nf-router",
	.summary = "An IPv4/IPv6 router VNF: longest-prefix match, ARP and neighbour\n"
		   "discovery, ICMP errors, the RFC 1812 checks, routes changed at runtime.",
	.requests =
	"  routes [MAX]           the routes (IPv4 then IPv6, at most MAX, default 100000)\n"
	"  neighbors              the neighbour table: address, port, MAC, state, queue\n",
	.example =
		"  port lan memif:/run/nfchain/sw.sock,id=1\n"
		"  port wan afpacket:veth1 mtu 1500\n"
		"  address lan 10.0.1.1/24\n"
		"  address lan fd00:1::1/64\n"
		"  address wan 192.0.2.1/30\n"
		"  route 0.0.0.0/0 via 192.0.2.2\n"
		"  route 10.9.0.0/16 reject\n"
		"  set icmp-rate 100\n",
	.dirs = rt_dirs,
	.ndirs = NF_ARRAY_SIZE(rt_dirs),
	.keys = rt_keys,
	.nkeys = NF_ARRAY_SIZE(rt_keys),
	.settings = &the_router.set,
	.drops = rt_drop_names,
	.ndrops = RT_DROP_MAX,
	.l3 = true,
	.validate = rt_validate,
	.start = rt_start,
	.stop = rt_stop,
	.pre = rt_pre,
	.process = rt_process,
	.post = rt_post,
	.tick = rt_tick,
	.ctl = rt_ctl,
	.stats = rt_stats,
	.metrics_key = "router",
	.metrics_cols = rt_cols,
	.nmetrics_cols = NF_ARRAY_SIZE(rt_cols),
};

int main(int argc, char **argv)
{
	rt = &the_router;
	return nf_vnf_main(argc, argv, &router_ops, rt);
}
