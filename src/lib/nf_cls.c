/* nf_cls.c - packet classification over a parsed rule set (see nf_cls.h).
 *
 * First version: the classifier holds its own copy of the rules and scans
 * them in order (the decision tree comes next).
 */
#include "nf_cls.h"
#include "nf_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ keys */

static inline uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline nf_u128 rd128(const uint8_t *p)
{
	return (nf_u128)((uint64_t)rd32(p) << 32 | rd32(p + 4)) << 64 |
	       ((uint64_t)rd32(p + 8) << 32 | rd32(p + 12));
}

void nf_cls_key_of(const uint8_t *f, const struct nf_hdrs *h, struct nf_cls_key *k)
{
	const uint8_t *ip = f + h->l3_off;

	k->src = k->dst = 0;
	k->sport = k->dport = 0;
	k->family = 0;
	k->proto = k->nexthdr = k->dscp = k->tcp_flags = 0;
	k->l4 = false;
	if (h->ethertype == NF_ETH_P_IPV4 && h->l3_len) {
		k->family = 4;
		k->src = rd32(ip + 12);
		k->dst = rd32(ip + 16);
		k->dscp = ip[1] >> 2;
	} else if (h->ethertype == NF_ETH_P_IPV6 && h->l3_len) {
		k->family = 6;
		k->src = rd128(ip + 8);
		k->dst = rd128(ip + 24);
		k->dscp = (uint8_t)((ip[0] & 0x0f) << 2 | ip[1] >> 6);
		k->nexthdr = ip[6];
	} else {
		return;
	}
	k->proto = h->l4_proto;
	if (!(h->flags & NF_HDR_FRAG_LATER) &&
	    h->l4_len >= (h->l4_proto == NF_IPPROTO_TCP ? 14 : 4)) {
		const uint8_t *t = f + h->l4_off;

		k->l4 = true;
		k->sport = (uint16_t)rd16(t);
		k->dport = (uint16_t)rd16(t + 2);
		if (h->l4_proto == NF_IPPROTO_TCP)
			k->tcp_flags = t[13];
	}
}

/* ------------------------------------------------------------ one rule */

#define NF_CLS_L4_FIELDS ((1u << NF_RF_SPORT) | (1u << NF_RF_DPORT) | \
			  (1u << NF_RF_ICMP_TYPE) | (1u << NF_RF_ICMP_CODE) | \
			  NF_RM_TCP_FLAGS)

static inline nf_u128 key_field(const struct nf_cls_key *k, unsigned f)
{
	switch (f) {
	case NF_RF_SRC: return k->src;
	case NF_RF_DST: return k->dst;
	case NF_RF_SPORT: return k->sport;
	case NF_RF_DPORT: return k->dport;
	case NF_RF_PROTO: return k->proto;
	case NF_RF_NEXTHDR: return k->nexthdr;
	case NF_RF_ICMP_TYPE: return k->sport >> 8;
	case NF_RF_ICMP_CODE: return k->sport & 0xff;
	default: return k->dscp;
	}
}

/* Is @x in the sorted disjoint ranges @v[0..n)? */
static inline bool in_ranges(const struct nf_range *v, uint32_t n, nf_u128 x)
{
	uint32_t lo = 0, hi = n;

	if (n <= 4) {
		for (lo = 0; lo < n; lo++)
			if (x <= v[lo].hi)
				return x >= v[lo].lo;
		return false;
	}
	while (lo < hi) {		/* first range with hi >= x */
		uint32_t m = (lo + hi) / 2;

		if (v[m].hi < x)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < n && x >= v[lo].lo;
}

/* Does rule @r (its ranges in @ranges) match @k? */
static inline bool rule_match(const struct nf_rule *r, const struct nf_range *ranges,
			      const struct nf_cls_key *k)
{
	uint32_t has = r->has, f;

	if (r->family && r->family != k->family)
		return false;
	if ((has & NF_CLS_L4_FIELDS) && !k->l4)
		return false;
	for (f = 0; f < NF_RF_MAX; f++)
		if ((has >> f & 1) &&
		    !in_ranges(ranges + r->f[f].off, r->f[f].n, key_field(k, f)))
			return false;
	if ((has & NF_RM_IIF) && !(k->iif < 64 && (r->iif >> k->iif & 1)))
		return false;
	if ((has & NF_RM_OIF) && !(k->oif < 64 && (r->oif >> k->oif & 1)))
		return false;
	if ((has & NF_RM_CT) && !(r->ct & k->ct))
		return false;
	if ((has & NF_RM_TCP_FLAGS) && !(r->tcp_flags[k->tcp_flags >> 3] >> (k->tcp_flags & 7) & 1))
		return false;
	return true;
}

uint32_t nf_cls_match_linear(const struct nf_ruleset *rs, const struct nf_cls_key *k,
			     uint32_t from)
{
	uint32_t i;

	for (i = from; i < rs->n; i++)
		if (rule_match(&rs->rules[i], rs->ranges, k))
			return i;
	return UINT32_MAX;
}

/* ------------------------------------------------------------ classifier */

struct nf_cls {
	struct nf_ruleset rs;		/* own copy */
	struct nf_cls_stats st;
};

int nf_cls_build(const struct nf_ruleset *rs, struct nf_cls **out)
{
	struct nf_cls *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		goto nomem;
	c->rs.n = c->rs.cap = rs->n;
	c->rs.nranges = c->rs.rcap = rs->nranges;
	c->rs.rules = malloc((rs->n ? rs->n : 1) * sizeof(*rs->rules));
	c->rs.ranges = malloc((rs->nranges ? rs->nranges : 1) * sizeof(*rs->ranges));
	if (!c->rs.rules || !c->rs.ranges)
		goto nomem;
	if (rs->n)
		memcpy(c->rs.rules, rs->rules, rs->n * sizeof(*rs->rules));
	if (rs->nranges)
		memcpy(c->rs.ranges, rs->ranges, rs->nranges * sizeof(*rs->ranges));
	c->st.rules = rs->n;
	c->st.leaves = 1;
	c->st.leaf_max = rs->n;
	c->st.bytes = sizeof(*c) + rs->n * sizeof(*rs->rules) +
		      rs->nranges * sizeof(*rs->ranges);
	*out = c;
	return 0;
nomem:
	nf_cls_free(c);
	nf_set_error("classifier: out of memory");
	return -ENOMEM;
}

void nf_cls_free(struct nf_cls *c)
{
	if (!c)
		return;
	free(c->rs.rules);
	free(c->rs.ranges);
	free(c);
}

void nf_cls_get_stats(const struct nf_cls *c, struct nf_cls_stats *s)
{
	*s = c->st;
}

uint32_t nf_cls_match(const struct nf_cls *c, const struct nf_cls_key *k, uint32_t from)
{
	return nf_cls_match_linear(&c->rs, k, from);
}
