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
#include "nf_metrics.h"
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

/* nft's ct state of an ESTABLISHED packet going @dir of an entry whose
 * flags have @seen (NF_CT_F_SEEN_REPLY or 0): nf_ct says ESTABLISHED for
 * every packet of an entry; Linux's ctinfo is NEW until the first reply. */
static inline uint8_t est_bits(unsigned dir, unsigned seen)
{
	return dir == NF_CT_ORIG && !seen ? NF_RULE_CT_NEW : NF_RULE_CT_ESTABLISHED;
}

/* nft's ct state of a packet. */
static inline uint8_t ct_bits(enum nf_ct_state st, const struct nf_ct_pkt *p)
{
	switch (st) {
	case NF_CT_NEW:
		return NF_RULE_CT_NEW;
	case NF_CT_ESTABLISHED:
		if (p->dir != NF_CT_ORIG)
			return NF_RULE_CT_ESTABLISHED;
		return est_bits(p->dir, nf_ct_entry(fw.ct, p->idx)->flags & NF_CT_F_SEEN_REPLY);
	case NF_CT_RELATED:
		return NF_RULE_CT_RELATED;
	case NF_CT_INVALID:
		return NF_RULE_CT_INVALID;
	default:
		return NF_RULE_CT_UNTRACKED;
	}
}

/* Count a packet of @bytes for rule @r (or FW_CACHE_NONE: nothing). */
static inline void count_rule(struct fw_gen *g, uint32_t r, uint32_t bytes)
{
	if (r == FW_CACHE_NONE)
		return;
	g->count[r].packets++;
	g->count[r].bytes += bytes;
}

/* The index of the deciding rule for the frame, or FW_CACHE_NONE (the
 * policy decides); every matching rule on the way counts (nft: only those
 * with `counter`). The verdict cache answers a key seen before; a miss
 * builds the classifier's key and walks the trees. *@same: every frame
 * with this key gets this decision and these counts (no counter-only
 * rule was crossed: those count every packet that crosses them). */
static inline uint32_t classify(struct fw_gen *g, const uint8_t *f, const struct nf_hdrs *h,
				uint8_t ct, unsigned in, unsigned out, bool *same)
{
	struct nf_cls_key k;
	struct nf_cls_ckey ck;
	struct fw_centry *e;
	uint32_t r, bytes = h->l3_len;

	nf_cls_ckey_of(f, h, (uint64_t)ct << 8 | (uint64_t)in << 16 | (uint64_t)out << 24, &ck,
		       true);
	e = &g->cache[nf_cls_ckey_hash(&ck) & (FW_CACHE_SIZE - 1)];
	*same = true;
	/* An empty entry never equals a key: w[4] of a key has its family. */
	if (nf_likely(nf_cls_ckey_eq(&e->k, &ck))) {
		count_rule(g, e->rule, bytes);
		return e->rule;
	}
	g->cache_misses++;
	nf_cls_key_of(f, h, &k);
	k.iif = (uint8_t)in;
	k.oif = (uint8_t)out;
	k.ct = ct;
	for (r = nf_cls_match(g->cls, &k, 0); r != UINT32_MAX; r = nf_cls_match(g->cls, &k, r + 1)) {
		count_rule(g, r, bytes);
		if (g->rs.rules[r].verdict != NF_RULE_CONTINUE)
			break;
		*same = false;
	}
	if (r == UINT32_MAX)
		r = FW_CACHE_NONE;
	if (*same) {
		e->k = ck;
		e->rule = r;
	}
	return r;
}

/* ---- the flow cache (firewall.h) ----
 *
 * A hit stands for all of the slow path's work on the packet:
 *   conntrack  (stateful) nf_ct_refresh() on the slot's entry and
 *              direction does to the table exactly what nf_ct_in() would
 *              do (and says so), or refuses (-EAGAIN: a state change,
 *              expiry, RST, FIN, a bad length...) and the packet goes the
 *              slow way. Its contract holds: a slot is filled from
 *              nf_ct_in()'s answer, the slots naming an entry are cleared
 *              before nf_ct_expire() frees it (fc_forget) and all of them
 *              when the table is flushed; nothing else frees entries here;
 *   verdict    a rule reads the packet's addresses, protocol, transport
 *              bytes 0-3, TCP flags, DSCP, whether the transport header is
 *              there (always, in this shape), the input and output port
 *              and the ct state: all but the ct state are in the key, and
 *              the ct state is UNTRACKED (stateless) or est_bits() of the
 *              direction (in the slot) and the entry's SEEN_REPLY, checked
 *              against the slot's (when they differ the slow path decides
 *              with the refreshed state). The rule is the one classify()
 *              found with *same set: what every packet of the key gets. The
 *              cache belongs to the rule set (a replacement starts empty);
 *              a slot holds the policy's verdict, so a change of the
 *              policy (a runtime key) empties it; timeouts and tcp-loose,
 *              the other runtime keys, are nf_ct's (nf_ct_refresh() reads
 *              the timeouts).
 * Counters: the deciding rule (or the policy) counts the packet as
 * classify() would. */

/* The policy's verdict (a runtime key). */
static inline unsigned policy_action(void)
{
	return fw.set.policy ? NF_RULE_DROP : NF_RULE_ACCEPT;
}

/* A slot's key: the IPv4 header bytes 12-19 (addresses); the first four
 * transport bytes (ports) as in the frame and the protocol (never 0 in a
 * slot: TCP or UDP, so 0 is an empty slot), which with the addresses
 * choose the set (flow); that and what a rule may read of the packet
 * beyond it, the TCP flags and the DSCP (rest: the whole TOS byte, one
 * shift cheaper; its ECN bits make the key stricter than it needs to be,
 * so a CE-marked packet misses). The input port is not in it: each port
 * has half of the sets (fc_port()). */
struct fc_key {
	uint64_t addrs, flow, rest;
};

/* The key of the IPv4 packet @ip (no options: the transport header at
 * 20). */
static inline struct fc_key fc_key(const uint8_t *ip)
{
	const uint64_t fl = ip[9] == NF_IPPROTO_TCP ? ip[20 + 13] : 0;
	struct fc_key k;
	uint32_t ports;

	memcpy(&k.addrs, ip + 12, 8);
	memcpy(&ports, ip + 20, 4);
	k.flow = ports | (uint64_t)ip[9] << 32;
	k.rest = k.flow | fl << 40 | (uint64_t)ip[1] << 48;
	return k;
}

/* The sets of input port @in (0 or 1: the firewall has two ports). */
static inline struct fw_fslot *fc_port(const struct fw_gen *g, unsigned in)
{
	return g->fc_port[in];
}

/* The set of a flow among a port's sets @pfc: a CRC32C of the addresses
 * @addrs started from the ports (the low half of @flow; the protocol seldom
 * tells flows apart, and the compare sees it). The per-packet bytes are not
 * in the hash, so that fc_forget() finds every slot of an entry from its
 * tuples (and a TCP connection's ACK and PSH/ACK take the two ways of one
 * set). */
static inline struct fw_fslot *fc_set(struct fw_fslot *pfc, uint64_t addrs, uint64_t flow)
{
#if defined(__SSE4_2__)
	uint64_t x = __builtin_ia32_crc32di((uint32_t)flow, addrs);
#else
	uint64_t x = (addrs ^ (uint32_t)flow) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
#endif
	return &pfc[(x & (FW_FC_SETS / 2 - 1)) * FW_FC_WAYS];
}

/* The frames the flow cache takes: untagged IPv4 without options or
 * fragmentation and with a complete transport header (IP at 14, L4 at
 * 34); it holds TCP and UDP. */
static inline bool fc_shape(const struct nf_hdrs *h)
{
	return h->flags == NF_HDR_L4 && h->ethertype == NF_ETH_P_IPV4;
}

/* A slot hit within this many ms is not given to another flow: many flows
 * sharing sets would otherwise take turns evicting each other and all
 * miss (and pay for the fill). */
#define FC_KEEP_MS	1000

/* Remember that rule @r decided the frame @f (fc_shape(), TCP or UDP) that
 * arrived on @in, direction @dir of entry @idx (stateful): in the slot of
 * its key, else an empty one, else the one hit least recently if that was
 * FC_KEEP_MS before @ms. */
static void fc_fill(struct fw_gen *g, const uint8_t *f, unsigned in, uint32_t idx,
		    unsigned dir, uint32_t r, uint32_t ms)
{
	const struct fc_key k = fc_key(f + NF_ETH_HLEN);
	struct fw_fslot *set = fc_set(fc_port(g, in), k.addrs, k.flow), *s = NULL;
	unsigned w;

	for (w = 0; w < FW_FC_WAYS; w++) {
		if (set[w].addrs == k.addrs && set[w].rest == k.rest) {
			s = &set[w];
			break;
		}
		if (s == NULL || (s->rest != 0 && (set[w].rest == 0 ||
						   (int32_t)(set[w].used - s->used) < 0)))
			s = &set[w];
	}
	if (s->rest != 0 && (s->addrs != k.addrs || s->rest != k.rest) &&
	    (int32_t)(ms - s->used) < FC_KEEP_MS)
		return;
	if (fw.ct != NULL && nf_ct_ref_get(fw.ct, idx, dir, &s->ref) != 0) {
		s->rest = 0;		/* an entry no direction can be kept for */
		return;
	}
	s->addrs = k.addrs;
	s->rest = k.rest;
	s->e = fw.ct != NULL ? nf_ct_entry(fw.ct, idx) : NULL;
	s->rule = r == FW_CACHE_NONE ? NULL : &g->rs.rules[r];
	s->count = r == FW_CACHE_NONE ? &fw.policy : &g->count[r];
	s->used = ms;
	s->seen = s->e != NULL ? s->e->flags & NF_CT_F_SEEN_REPLY : 0;
	s->act = (uint8_t)(s->rule != NULL ? s->rule->verdict : policy_action());
	g->fc_fills++;
}

/* nf_ct_expire()'s callback: entry @idx (@e) goes; clear the slots that
 * name it (its two tuples as they arrive on either port). */
static void fc_forget(void *arg, uint32_t idx, struct nf_ct_entry *e)
{
	struct fw_gen *g = arg;
	unsigned d, in, w;

	if (e->t[NF_CT_ORIG].family != 4)
		return;			/* only IPv4 is cached */
	for (d = 0; d < 2; d++) {
		/* The key of the tuple's packets: fc_key() of its header. */
		const struct nf_ct_tuple *t = &e->t[d];
		uint8_t ip[20 + 14] = { 0 };
		struct fc_key k;

		ip[9] = t->proto;
		memcpy(ip + 12, t->src, 4);
		memcpy(ip + 16, t->dst, 4);
		memcpy(ip + 20, &t->sport, 2);
		memcpy(ip + 22, &t->dport, 2);
		k = fc_key(ip);
		for (in = 0; in < 2; in++) {
			struct fw_fslot *set = fc_set(fc_port(g, in), k.addrs, k.flow);

			for (w = 0; w < FW_FC_WAYS; w++)
				if (set[w].rest != 0 && set[w].ref.idx == idx)
					set[w].rest = 0;
		}
	}
}

/* The slot that decides the frame @f (fc_shape()) among the sets @pfc of
 * its input port, its connection (@stateful) refreshed in fw.ct at @now;
 * or NULL: the slow path, and *@refreshed is the slot when nf_ct_refresh()
 * took the packet but its ct state is not the slot's. */
static inline __attribute__((always_inline)) struct fw_fslot *fc_hit(struct fw_fslot *pfc, bool stateful, const uint8_t *f,
				      const struct nf_hdrs *h, uint32_t ms,
				      struct fw_fslot **refreshed)
{
	const struct fc_key k = fc_key(f + NF_ETH_HLEN);
	struct fw_fslot *s = fc_set(pfc, k.addrs, k.flow);
	unsigned w;

	for (w = 0; s->addrs != k.addrs || s->rest != k.rest; w++, s++)
		if (w == FW_FC_WAYS - 1)
			return NULL;
	if (!stateful)
		return s;
	if (nf_unlikely(nf_ct_refresh_ref(fw.ct, &s->ref, f + h->l4_off, h, ms) != 0))
		return NULL;
	if (nf_unlikely((s->e->flags & NF_CT_F_SEEN_REPLY) != s->seen)) {
		*refreshed = s;
		return NULL;
	}
	return s;
}

/* ---- the stage ---- */

/* The verdict @action of @rule (NULL: the policy) for the frame @f that
 * arrived on @in, in state @st (@p: NEW is confirmed on accept). Returns 1
 * if it leaves by the other port. Inline in slow(); apply_hit() is the
 * flow cache's (drop and reject are rare there). */
static inline __attribute__((always_inline)) unsigned
apply(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
      uint16_t *verdict, uint16_t i, const struct nf_rule *rule, unsigned action,
      enum nf_ct_state st, struct nf_ct_pkt *p)
{
	switch (action) {
	case NF_RULE_ACCEPT:
		if (st == NF_CT_NEW && nf_ct_confirm(fw.ct, p, NULL, v->now_ns) == -ENOSPC) {
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_CT_FULL));
			fw.dropped++;
			return 0;
		}
		/* Confirm's -EINVAL: a TCP packet that cannot start a
		 * connection (loose off): Linux lets it through untracked when
		 * a rule accepts it. */
		verdict[i] = (uint16_t)(in ^ 1);
		return 1;
	case NF_RULE_REJECT:
		fw_reject(v, in, f, h, rule->reject, rule->reject_code);
		nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_REJECT));
		fw.rejected++;
		return 0;
	default:
		nf_vnf_drop(v, verdict, i, nf_vnf_reason(rule != NULL ? FW_DROP_RULE : FW_DROP_POLICY));
		fw.dropped++;
		return 0;
	}
}

static __attribute__((noinline)) unsigned
apply_hit(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
	  uint16_t *verdict, uint16_t i, const struct nf_rule *rule, unsigned action,
	  enum nf_ct_state st)
{
	return apply(v, in, f, h, verdict, i, rule, action, st, NULL);
}

/* An IP frame the flow cache did not decide: the header checksum (IPv4
 * not of the flow cache's shape), conntrack (unless @refreshed, the slot
 * whose nf_ct_refresh() took the packet, says the state), the rules, the
 * verdict. A TCP / UDP packet of the flow cache's shape fills it when
 * every packet of its key gets its decision: stateless, or an ESTABLISHED
 * packet (whose next ones nf_ct_refresh() may take). Returns 1 if the
 * frame leaves by the other port. */
static __attribute__((noinline)) unsigned slow(struct nf_vnf *v, unsigned in, const uint8_t *f,
					       const struct nf_hdrs *h, uint16_t *verdict,
					       uint16_t i, const struct fw_fslot *refreshed,
					       uint32_t ms)
{
	struct fw_gen *g = fw.gen;
	struct nf_ct_pkt p;		/* read when st says nf_ct filled it */
	enum nf_ct_state st = NF_CT_UNTRACKED;
	uint8_t ct = NF_RULE_CT_UNTRACKED;
	const struct nf_rule *rule = NULL;
	uint32_t r;
	bool same;

	if (h->ethertype == NF_ETH_P_IPV4 && !fc_shape(h)) {
		const struct nf_ipv4 *ip = (const void *)(f + h->l3_off);

		if (!nf_ipv4_csum_ok(ip, (unsigned)(ip->ver_ihl & 15) * 4)) {
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_BAD_CSUM));
			return 0;
		}
	}
	if (refreshed != NULL) {
		st = NF_CT_ESTABLISHED;
		p.idx = refreshed->ref.idx;
		p.dir = refreshed->ref.dir;
		ct = ct_bits(st, &p);
	} else if (fw.ct != NULL) {
		st = nf_ct_in(fw.ct, f, h, v->now_ns, &p);
		ct = ct_bits(st, &p);
	}
	if (g != NULL) {
		r = classify(g, f, h, ct, in, in ^ 1, &same);
		if (same && (fw.ct == NULL || st == NF_CT_ESTABLISHED) && fc_shape(h) &&
		    (h->l4_proto == NF_IPPROTO_TCP || h->l4_proto == NF_IPPROTO_UDP))
			fc_fill(g, f, in, fw.ct != NULL ? p.idx : 0, fw.ct != NULL ? p.dir : 0, r,
				ms);
		if (r != FW_CACHE_NONE)
			rule = &g->rs.rules[r];
	}
	if (rule == NULL) {
		fw.policy.packets++;
		fw.policy.bytes += h->l3_len;
	}
	return apply(v, in, f, h, verdict, i, rule, rule != NULL ? rule->verdict : policy_action(),
		     st, &p);
}

/* The firewall's one stage (pre and post do nothing per packet): per
 * frame, in order, as DESIGN "nf-firewall" says:
 *   - non-IP frames take the other port;
 *   - IPv4 with a bad header checksum is dropped (Linux's ip_rcv drops it
 *     before netfilter sees the packet);
 *   - a flow cache hit decides the frame (conntrack refreshed, the rule
 *     counted);
 *   - else slow(): conntrack, the rules, the verdict.
 * One pass keeps Linux's sequential meaning inside a burst (the second
 * packet of a new connection sees the entry the first one made) and reads
 * each frame's headers once. Written once, compiled three times by
 * fw_process() (the constants @cached: @pfc is the input port's flow
 * cache sets, and @stateful fold away). */
static inline __attribute__((always_inline)) uint16_t
burst(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts, const struct nf_hdrs *h,
      uint16_t *verdict, uint16_t n, bool cached, struct fw_fslot *pfc, bool stateful)
{
	const uint16_t out = (uint16_t)(in ^ 1);
	const enum nf_ct_state hit_st = stateful ? NF_CT_ESTABLISHED : NF_CT_UNTRACKED;
	const uint64_t now = v->now_ns;
	const uint32_t ms = nf_ct_ms(now);	/* nf_ct's clock, once a burst */
	uint16_t i, pending = 0, nonip = 0, hits = 0;

	/* pkts[i].data is read again after fc_hit() rather than kept: that
	 * saves a register across nf_ct_refresh() on the hit path. */
	for (i = 0; i < n; i++) {
		struct fw_fslot *s, *refreshed = NULL;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_likely(fc_shape(&h[i]))) {
			const uint8_t *f = pkts[i].data;

			if (nf_unlikely(!nf_ipv4_csum20_ok((const void *)(f + NF_ETH_HLEN)))) {
				nf_vnf_drop(v, verdict, i, nf_vnf_reason(FW_DROP_BAD_CSUM));
				continue;
			}
			if (cached &&
			    (s = fc_hit(pfc, stateful, f, &h[i], ms, &refreshed)) != NULL) {
				struct fw_count *c = s->count;

				c->bytes += h[i].l3_len;
				s->used = ms;		/* (apart: no vector add) */
				c->packets++;
				hits++;
				if (nf_likely(s->act == NF_RULE_ACCEPT)) {
					verdict[i] = out;
					pending++;
				} else {
					pending += apply_hit(v, in, pkts[i].data, &h[i], verdict, i,
							     s->rule, s->act, hit_st);
				}
				continue;
			}
		} else if (h[i].ethertype != NF_ETH_P_IPV4 && h[i].ethertype != NF_ETH_P_IPV6) {
			verdict[i] = out;
			fw.passed_other++;
			nonip++;
			continue;
		}
		pending += slow(v, in, pkts[i].data, &h[i], verdict, i, refreshed, ms);
	}
	if (cached)
		fw.gen->fc_hits += hits;
	fw.accepted += pending;
	burst_out = (uint16_t)(pending + nonip);
	return pending;
}

static uint16_t fw_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			   const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct fw_gen *g = fw.gen;

	if (g == NULL)		/* no rules: no flow cache, the policy decides */
		return burst(v, in, pkts, h, verdict, n, false, NULL, fw.ct != NULL);
	if (nf_unlikely(g->fc_policy != fw.set.policy)) {
		fw_fc_clear(g);		/* its slots hold the old policy's verdict */
		g->fc_policy = fw.set.policy;
	}
	if (fw.ct != NULL)
		return burst(v, in, pkts, h, verdict, n, true, fc_port(g, in), true);
	return burst(v, in, pkts, h, verdict, n, true, fc_port(g, in), false);
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
	/* The flow cache's slots go with their entries. */
	if (fw.gen != NULL)
		nf_ct_expire(fw.ct, now, fc_forget, fw.gen);
	else
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
			fw_fc_clear(fw.gen);	/* every entry it names is gone */
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

static const struct nf_metrics_col fw_rule_cols[] = {
	{ "nfchain_firewall_rule_packets_total", "counter", "packets",
	  "Packets that matched the rule (label: its index in the 'rules' reply)." },
	{ "nfchain_firewall_rule_bytes_total", "counter", "bytes",
	  "Bytes of the packets that matched the rule." },
};

static const struct nf_metrics_col fw_cols[] = {
	{ "nfchain_firewall_rules", "gauge", "rules", "Rules loaded." },
	{ "nfchain_firewall_accepted_packets_total", "counter", "accepted",
	  "Packets accepted (by a rule, the state table or the policy)." },
	{ "nfchain_firewall_dropped_packets_total", "counter", "dropped", "Packets dropped." },
	{ "nfchain_firewall_rejected_packets_total", "counter", "rejected",
	  "Packets rejected (an ICMP error or TCP reset answered)." },
	{ "nfchain_firewall_policy_packets_total", "counter", "policy_packets",
	  "Packets no rule decided (the chain policy applied)." },
	{ "nfchain_firewall_conntrack_entries", "gauge", "ct_entries",
	  "Connection tracking entries in use." },
	{ "nfchain_firewall_conntrack_max", "gauge", "ct_max",
	  "Connection tracking table size." },
};

/* GET /metrics: per-rule counters from the 'rules' reply (the totals come
 * from the stats reply's "firewall" object, fw_cols). */
static void fw_metrics(struct nf_vnf *v, struct nf_metrics *m, struct json_object *stats)
{
	struct json_object *r = json_object_new_object();

	(void)stats;
	if (r == NULL)
		return;
	fw_gen_json(v, fw.gen, r);
	nf_metrics_json_table(m, json_object_object_get(r, "rules"), "rule", "index",
			      fw_rule_cols, NF_ARRAY_SIZE(fw_rule_cols));
	json_object_put(r);
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
	.process = fw_process,
	.post = fw_post,
	.tick = fw_tick,
	.ctl = fw_ctl,
	.stats = fw_stats,
	.metrics = fw_metrics,
	.metrics_key = "firewall",
	.metrics_cols = fw_cols,
	.nmetrics_cols = NF_ARRAY_SIZE(fw_cols),
};

int main(int argc, char **argv)
{
	return nf_vnf_main(argc, argv, &firewall_ops, &fw);
}
