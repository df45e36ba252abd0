/* main.c - nf-firewall: configuration, the stages, control requests.
 *
 *   port NAME SPEC        exactly two ports (the framework's directive)
 *   rules FILE            the rule file (docs/RULES.md); relative names
 *                         start at the configuration file's directory
 *   set KEY VALUE         policy, stateful, conntrack sizes and timeouts
 *
 * See firewall.h for the stages and docs/DESIGN.md "nf-firewall".
 */
#define _GNU_SOURCE
#include "firewall.h"
#include "nf_util.h"

#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fw fw;

static const char *const fw_drop_names[] = {
#define FW_DROP_NAME(e, n) n,
	FW_DROPS(FW_DROP_NAME)
#undef FW_DROP_NAME
};

static const char *const policy_names[] = { "accept", "drop", NULL };

#define TO_MAX NF_CT_TIMEOUT_MAX
#define TCP_TO(state, key, def, what)						\
	{ key, NF_CONF_U64, 1, TO_MAX, def, NULL,				\
	  offsetof(struct fw_settings, to_tcp) + NF_CT_TCP_##state * sizeof(uint64_t), \
	  "idle timeout of a TCP connection in " what ", s", true }

/* Defaults: Linux 6.x's (net.netfilter.nf_conntrack_*_timeout*). */
static const struct nf_conf_key fw_keys[] = {
	{ "policy", NF_CONF_ENUM, 0, 0, 0, policy_names, offsetof(struct fw_settings, policy),
	  "verdict for packets no rule decided (nft chain policy)", true },
	{ "stateful", NF_CONF_BOOL, 0, 1, 1, NULL, offsetof(struct fw_settings, stateful),
	  "track connections (ct state matches); off: every packet is untracked", false },
	{ "sessions", NF_CONF_U64, NF_CT_MAX_MIN, NF_CT_MAX_MAX, 262144, NULL,
	  offsetof(struct fw_settings, sessions), "connection table entries", false },
	{ "tcp-loose", NF_CONF_BOOL, 0, 1, 1, NULL, offsetof(struct fw_settings, tcp_loose),
	  "a TCP packet without SYN may start a connection (Linux's nf_conntrack_tcp_loose)",
	  true },
	TCP_TO(SYN_SENT, "tcp-syn-sent-timeout", 120, "SYN_SENT"),
	TCP_TO(SYN_RECV, "tcp-syn-recv-timeout", 60, "SYN_RECV"),
	TCP_TO(ESTABLISHED, "tcp-established-timeout", 432000, "ESTABLISHED"),
	TCP_TO(FIN_WAIT, "tcp-fin-wait-timeout", 120, "FIN_WAIT"),
	TCP_TO(CLOSE_WAIT, "tcp-close-wait-timeout", 60, "CLOSE_WAIT"),
	TCP_TO(LAST_ACK, "tcp-last-ack-timeout", 30, "LAST_ACK"),
	TCP_TO(TIME_WAIT, "tcp-time-wait-timeout", 120, "TIME_WAIT"),
	TCP_TO(CLOSE, "tcp-close-timeout", 10, "CLOSE"),
	{ "udp-timeout", NF_CONF_U64, 1, TO_MAX, 30, NULL, offsetof(struct fw_settings, to_udp),
	  "idle timeout of a UDP flow seen one way, s", true },
	{ "udp-stream-timeout", NF_CONF_U64, 1, TO_MAX, 120, NULL,
	  offsetof(struct fw_settings, to_udp_stream),
	  "idle timeout of a UDP flow seen both ways, s", true },
	{ "icmp-timeout", NF_CONF_U64, 1, TO_MAX, 30, NULL, offsetof(struct fw_settings, to_icmp),
	  "idle timeout of an ICMP / ICMPv6 query, s", true },
	{ "generic-timeout", NF_CONF_U64, 1, TO_MAX, 600, NULL,
	  offsetof(struct fw_settings, to_generic), "idle timeout of other protocols, s", true },
};

/* ---- configuration ---- */

static int resolve(const char *name, char *out, size_t n)
{
	int len;

	if (name[0] == '/' || fw.conf_dir[0] == '\0')
		len = snprintf(out, n, "%s", name);
	else
		len = snprintf(out, n, "%s/%s", fw.conf_dir, name);
	if (len < 0 || (size_t)len >= n) {
		nf_set_error("file name too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int dir_rules(struct nf_conf *c, int argc, char **argv, void *arg)
{
	(void)argc;
	(void)arg;
	if (fw.rules_file[0] != '\0') {
		nf_set_error("a second rules file (one rule set: put every rule in one file)");
		return -EINVAL;
	}
	if (fw.conf_dir[0] == '\0' && c->file != NULL && strchr(c->file, '/') != NULL) {
		char tmp[PATH_MAX];

		nf_strlcpy(tmp, c->file, sizeof(tmp));
		nf_strlcpy(fw.conf_dir, dirname(tmp), sizeof(fw.conf_dir));
	}
	return resolve(argv[1], fw.rules_file, sizeof(fw.rules_file));
}

static const struct nf_conf_dir fw_dirs[] = {
	{ "rules", 1, 1, dir_rules, "rules FILE", false },
};

static void ct_conf(struct nf_ct_conf *c)
{
	unsigned s;

	nf_ct_conf_default(c, (uint32_t)fw.set.sessions);
	c->tcp_loose = fw.set.tcp_loose;
	for (s = NF_CT_TCP_SYN_SENT; s < NF_CT_TCP_MAX; s++)
		if (s != NF_CT_TCP_SYN_SENT2)
			c->to.tcp[s] = (uint32_t)fw.set.to_tcp[s];
	c->to.tcp[NF_CT_TCP_SYN_SENT2] = (uint32_t)fw.set.to_tcp[NF_CT_TCP_SYN_SENT];
	c->to.udp = (uint32_t)fw.set.to_udp;
	c->to.udp_stream = (uint32_t)fw.set.to_udp_stream;
	c->to.icmp = (uint32_t)fw.set.to_icmp;
	c->to.generic = (uint32_t)fw.set.to_generic;
}

static int fw_validate(struct nf_vnf *v)
{
	if (v->nports != 2) {
		nf_set_error("nf-firewall needs exactly two ports (it has %u)", v->nports);
		return -EINVAL;
	}
	if (fw.rules_file[0] == '\0')
		return 0;		/* no rules: the policy decides */
	/* The rules are checked here, so -n checks them too. */
	return fw_gen_load(v, fw.rules_file, &fw.gen);
}

static int fw_start(struct nf_vnf *v)
{
	struct nf_ct_conf c;

	(void)v;
	if (fw.gen != NULL)
		fw.gen->id = ++fw.next_id;
	if (!fw.set.stateful)
		return 0;
	ct_conf(&c);
	fw.applied = fw.set;
	return nf_ct_create(&c, &fw.ct);
}

static void fw_stop(struct nf_vnf *v)
{
	(void)v;
	nf_ct_destroy(fw.ct);
	fw.ct = NULL;
	fw_gen_free(fw.gen);
	fw.gen = NULL;
}

/* ---- the stages ---- */

/* Frames of the current burst with a port for a verdict (post's count). */
static uint16_t burst_out;

/* IPv4 header checksums; non-IP frames leave by the other port at once. */
static uint16_t fw_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		       const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint16_t i, pending = 0, nonip = 0;

	for (i = 0; i < n; i++) {
		if (verdict[i] != NF_V_PENDING)
			continue;
		if (h[i].ethertype == NF_ETH_P_IPV4) {
			/* Linux's ip_rcv drops a bad header checksum before
			 * netfilter sees the packet. */
			const struct nf_ipv4 *ip = (const void *)(pkts[i].data + h[i].l3_off);

			if (nf_unlikely(!(h[i].flags & NF_HDR_IP_OPTS ? nf_ipv4_csum_ok_slow(ip,
					(unsigned)(ip->ver_ihl & 15) * 4) : nf_ipv4_csum20_ok(ip)))) {
				nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_BAD_CSUM));
				continue;
			}
		} else if (h[i].ethertype != NF_ETH_P_IPV6) {
			verdict[i] = (uint16_t)(in ^ 1);
			fw.passed_other++;
			nonip++;
			continue;
		}
		pending++;
	}
	burst_out = nonip;
	return pending;
}

/* nft's ct state of a packet: nf_ct says ESTABLISHED for every packet of
 * an entry; Linux's ctinfo is NEW until the first reply. */
static inline uint8_t ct_bits(enum nf_ct_state st, const struct nf_ct_pkt *p)
{
	switch (st) {
	case NF_CT_NEW:
		return NF_RULE_CT_NEW;
	case NF_CT_ESTABLISHED:
		if (p->dir == NF_CT_ORIG &&
		    !(nf_ct_entry(fw.ct, p->idx)->flags & NF_CT_F_SEEN_REPLY))
			return NF_RULE_CT_NEW;
		return NF_RULE_CT_ESTABLISHED;
	case NF_CT_RELATED:
		return NF_RULE_CT_RELATED;
	case NF_CT_INVALID:
		return NF_RULE_CT_INVALID;
	default:
		return NF_RULE_CT_UNTRACKED;
	}
}

/* The deciding rule for the frame, or NULL (the policy decides); every
 * matching rule on the way counts (nft: only those with `counter`). The
 * verdict cache answers a key seen before; a miss builds the classifier's
 * key and walks the trees. */
static inline const struct nf_rule *classify(struct fw_gen *g, const uint8_t *f,
					     const struct nf_hdrs *h, uint8_t ct, unsigned in,
					     unsigned out)
{
	struct nf_cls_key k;
	struct nf_cls_ckey ck;
	struct fw_centry *e;
	uint32_t r, bytes = h->l3_len;
	bool crossed = false;

	nf_cls_ckey_of(f, h, (uint64_t)ct << 8 | (uint64_t)in << 16 | (uint64_t)out << 24, &ck,
		       true);
	e = &g->cache[nf_cls_ckey_hash(&ck) & (FW_CACHE_SIZE - 1)];
	/* An empty entry never equals a key: w[4] of a key has its family. */
	if (nf_likely(nf_cls_ckey_eq(&e->k, &ck))) {
		r = e->rule;
		if (r == FW_CACHE_NONE)
			return NULL;
		g->count[r].packets++;
		g->count[r].bytes += bytes;
		return &g->rs.rules[r];
	}
	g->cache_misses++;
	nf_cls_key_of(f, h, &k);
	k.iif = (uint8_t)in;
	k.oif = (uint8_t)out;
	k.ct = ct;
	for (r = nf_cls_match(g->cls, &k, 0); r != UINT32_MAX; r = nf_cls_match(g->cls, &k, r + 1)) {
		const struct nf_rule *rule = &g->rs.rules[r];

		g->count[r].packets++;
		g->count[r].bytes += bytes;
		if (rule->verdict != NF_RULE_CONTINUE)
			break;
		crossed = true;
	}
	if (!crossed) {
		e->k = ck;
		e->rule = r == UINT32_MAX ? FW_CACHE_NONE : r;
	}
	return r == UINT32_MAX ? NULL : &g->rs.rules[r];
}

static uint16_t fw_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			   const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct fw_gen *g = fw.gen;
	const unsigned out = in ^ 1;
	uint16_t i, pending = 0;

	for (i = 0; i < n; i++) {
		const uint8_t *f = pkts[i].data;
		struct nf_ct_pkt p;
		enum nf_ct_state st = NF_CT_UNTRACKED;
		const struct nf_rule *rule = NULL;
		unsigned action;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (fw.ct != NULL)
			st = nf_ct_in(fw.ct, f, &h[i], v->now_ns, &p);
		if (g != NULL)
			rule = classify(g, f, &h[i], fw.ct != NULL ? ct_bits(st, &p) :
					NF_RULE_CT_UNTRACKED, in, out);
		if (rule != NULL) {
			action = rule->verdict;
		} else {
			fw.policy.packets++;
			fw.policy.bytes += h[i].l3_len;
			action = fw.set.policy ? NF_RULE_DROP : NF_RULE_ACCEPT;
		}
		switch (action) {
		case NF_RULE_ACCEPT:
			if (st == NF_CT_NEW) {
				int ret = nf_ct_confirm(fw.ct, &p, NULL, v->now_ns);

				if (ret == -ENOSPC) {
					nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_CT_FULL));
					fw.dropped++;
					continue;
				}
				/* -EINVAL: a TCP packet that cannot start a
				 * connection (loose off): Linux lets it through
				 * untracked when a rule accepts it. */
			}
			verdict[i] = (uint16_t)out;
			pending++;
			break;
		case NF_RULE_REJECT:
			fw_reject(v, in, f, &h[i], rule->reject, rule->reject_code);
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_REJECT));
			fw.rejected++;
			break;
		default:
			nf_vnf_drop(v, verdict, i,
				    nf_vnf_reason(rule != NULL ? FW_DROP_RULE : FW_DROP_POLICY));
			fw.dropped++;
			break;
		}
	}
	fw.accepted += pending;
	burst_out += pending;
	return pending;
}

static uint16_t fw_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	(void)v;
	(void)in;
	(void)pkts;
	(void)h;
	(void)verdict;
	(void)n;
	return burst_out;
}

static void fw_tick(struct nf_vnf *v, uint64_t now)
{
	(void)v;
	if (fw.ct == NULL)
		return;
	if (memcmp(&fw.applied, &fw.set, sizeof(fw.set)) != 0) {
		struct nf_ct_conf c;

		ct_conf(&c);
		nf_ct_set_conf(fw.ct, &c);
		fw.applied = fw.set;
	}
	nf_ct_expire(fw.ct, now, NULL, NULL);
}

/* ---- control ---- */

/* A rule set loaded on a thread of its own while the VNF goes on
 * forwarding with the old one (parsing and building 10,000 rules takes
 * about 0.1 s: stopping the data path for it would overflow the rings). */
struct load_job {
	struct nf_vnf *v;
	char path[PATH_MAX];
	struct fw_gen *g;
	int ret;
	char err[256];
	_Atomic bool done;
};

static void *load_thread(void *arg)
{
	struct load_job *j = arg;

	j->ret = fw_gen_load(j->v, j->path, &j->g);
	if (j->ret < 0)
		nf_strlcpy(j->err, nf_last_error(), sizeof(j->err));
	atomic_store(&j->done, true);
	return NULL;
}

static bool load_done(void *arg)
{
	return atomic_load(&((struct load_job *)arg)->done);
}

static int req_load(struct nf_vnf *v, int argc, char **argv, struct json_object *reply)
{
	static struct load_job j;	/* one load at a time: requests are serial */
	struct fw_gen *old;
	pthread_t t;
	int ret;

	memset(&j, 0, sizeof(j));
	j.v = v;
	if (argc == 2)
		ret = resolve(argv[1], j.path, sizeof(j.path));
	else if (fw.gen != NULL || fw.rules_file[0] != '\0')
		ret = resolve(fw.gen != NULL ? fw.gen->file : fw.rules_file, j.path, sizeof(j.path));
	else {
		nf_set_error("load-rules FILE: no rules file configured to reload");
		return -EINVAL;
	}
	if (ret < 0)
		return ret;
	{
		/* Not pinned to the data path's CPU (--cpu, taskset): any CPU. */
		pthread_attr_t at;
		cpu_set_t all;
		unsigned c;

		CPU_ZERO(&all);
		for (c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &all);
		pthread_attr_init(&at);
		pthread_attr_setaffinity_np(&at, sizeof(all), &all);
		ret = pthread_create(&t, &at, load_thread, &j);
		pthread_attr_destroy(&at);
	}
	if (ret != 0) {		/* no thread: load here, forwarding waits */
		load_thread(&j);
	} else {
		nf_vnf_forward_until(v, load_done, &j);
		pthread_join(t, NULL);
	}
	if (j.ret < 0) {
		fw.load_errors++;
		nf_set_error("%s", j.err);
		return j.ret;
	}
	j.g->id = ++fw.next_id;
	old = fw.gen;
	fw.gen = j.g;		/* the next packet uses the new rules */
	fw.loads++;
	fw_gen_free(old);
	json_object_object_add(reply, "generation", json_object_new_int((int)j.g->id));
	json_object_object_add(reply, "rules", json_object_new_int((int)j.g->rs.n));
	json_object_object_add(reply, "parse_ms", json_object_new_double((double)j.g->parse_ns / 1e6));
	json_object_object_add(reply, "build_ms", json_object_new_double((double)j.g->build_ns / 1e6));
	return 0;
}

static int fw_ctl(struct nf_vnf *v, int argc, char **argv, struct json_object *reply)
{
	if (strcmp(argv[0], "rules") == 0 && argc == 1) {
		fw_gen_json(v, fw.gen, reply);
		return 0;
	}
	if (strcmp(argv[0], "load-rules") == 0 && argc <= 2)
		return req_load(v, argc, argv, reply);
	if (strcmp(argv[0], "conntrack") == 0 && argc <= 2) {
		uint64_t max = 1000;

		if (argc == 2 && nf_parse_u64(argv[1], 1, NF_CT_MAX_MAX, 0, &max) < 0) {
			nf_set_error("conntrack [MAX]: MAX 1..%u", NF_CT_MAX_MAX);
			return -EINVAL;
		}
		fw_ct_json(v, (uint32_t)max, reply);
		return 0;
	}
	if (strcmp(argv[0], "conntrack-flush") == 0 && argc == 1) {
		struct nf_ct_stats s = { 0 };

		if (fw.ct != NULL) {
			nf_ct_get_stats(fw.ct, &s);
			nf_ct_flush(fw.ct);
		}
		json_object_object_add(reply, "flushed", json_object_new_uint64(s.count));
		return 0;
	}
	return -ENOENT;
}

static void fw_stats(struct nf_vnf *v, struct json_object *reply)
{
	struct json_object *o = json_object_new_object();

	(void)v;
#define U(name, x) json_object_object_add(o, name, json_object_new_uint64(x))
	U("rules", fw.gen != NULL ? fw.gen->rs.n : 0);
	U("generation", fw.gen != NULL ? fw.gen->id : 0);
	U("accepted", fw.accepted);
	U("dropped", fw.dropped);
	U("rejected", fw.rejected);
	U("reject_sent", fw.reject_sent);
	U("policy_packets", fw.policy.packets);
	U("passed_non_ip", fw.passed_other);
	U("loads", fw.loads);
	U("load_errors", fw.load_errors);
	if (fw.ct != NULL) {
		struct nf_ct_stats s;

		nf_ct_get_stats(fw.ct, &s);
		U("ct_entries", s.count);
		U("ct_max", s.max);
		U("ct_inserted", s.inserted);
		U("ct_deleted", s.deleted);
		U("ct_expired", s.expired);
		U("ct_full", s.full);
		U("ct_invalid", s.invalid);
	}
#undef U
	json_object_object_add(reply, "firewall", o);
}

static const struct nf_vnf_ops firewall_ops = {
	.name = "nf-firewall",
	.summary = "A stateful firewall VNF between two ports (a bump in the wire): rules\n"
		   "in nftables syntax (docs/RULES.md), classified by a decision tree,\n"
		   "connection tracking as Linux's, reject answers as Linux makes them.",
	.requests =
	"  rules                  the rule set with per-rule packet and byte counters\n"
	"  load-rules [FILE]      parse FILE (default: the current file again) and\n"
	"                         replace the rule set atomically; connections stay\n"
	"  conntrack [MAX]        the connection table (at most MAX entries, default 1000)\n"
	"  conntrack-flush        forget every connection\n",
	.example =
		"  port lan memif:/run/nfchain/sw.sock,id=1\n"
		"  port wan memif:/run/nfchain/sw.sock,id=2\n"
		"  rules fw.rules\n"
		"  set policy drop\n"
		"\n"
		"fw.rules:\n"
		"  ct state established,related accept\n"
		"  ct state invalid drop\n"
		"  iifname lan tcp dport { 22, 80, 443 } accept\n"
		"  iifname lan udp dport 53 accept\n"
		"  iifname lan icmp type echo-request accept\n"
		"  tcp dport 113 reject with tcp reset\n"
		"  counter drop\n",
	.dirs = fw_dirs,
	.ndirs = NF_ARRAY_SIZE(fw_dirs),
	.keys = fw_keys,
	.nkeys = NF_ARRAY_SIZE(fw_keys),
	.settings = &fw.set,
	.drops = fw_drop_names,
	.ndrops = FW_DROP_MAX,
	.validate = fw_validate,
	.start = fw_start,
	.stop = fw_stop,
	.pre = fw_pre,
	.process = fw_process,
	.post = fw_post,
	.tick = fw_tick,
	.ctl = fw_ctl,
	.stats = fw_stats,
};

int main(int argc, char **argv)
{
	return nf_vnf_main(argc, argv, &firewall_ops, &fw);
}
