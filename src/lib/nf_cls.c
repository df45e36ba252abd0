/* nf_cls.c - packet classification over a parsed rule set (see nf_cls.h).
 *
 * The classifier keeps its own copy of the rules and one HyperSplit tree
 * per key family (IPv4: rules of family 0 and 4; IPv6: 0 and 6; other
 * frames: family 0). A node cuts one of five dimensions (source, destination,
 * transport bytes 0-1 and 2-3, L4 protocol) at a threshold: a key goes left
 * when its value is <= the threshold. A rule is in every leaf whose region
 * its projection meets (a rule's projection on a dimension is the ranges of
 * the field, its ICMP types for the transport bytes 0-1, or the whole
 * domain), so every rule that matches a key is in the key's leaf, in rule
 * order; the leaf checks its rules fully (rule_match(), the same function
 * as the linear scan). The other fields (interfaces, ct state, tcp flags,
 * DSCP, ICMP code, IPv6 next header) are checked in the leaf only.
 *
 * Building: at each node and for each dimension, every threshold between
 * the rules' clipped projections is scored by the larger child plus the
 * rules copied into both (HyperSplit's point choice, with replication in
 * the cost); the best dimension is cut. A node of at most NF_CLS_LEAF_MAX
 * rules, or whose rules no threshold separates, is a leaf.
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

/* ------------------------------------------------------------ the tree */

#define NF_CLS_DIMS	5		/* SRC, DST, SPORT, DPORT, PROTO */
#define NF_CLS_LEAF_MAX	4
#define NF_CLS_DEPTH_MAX 96
#define LEAF_BIT	0x80000000u
/* Trees per family: rules are grouped by the dimensions on which they are
 * wide (cover half the domain or more), as EffiCuts does, so that rules
 * wide on the source and narrow on the destination do not share a tree
 * with the opposite kind (their cross product). Small groups join the
 * group of the fewest wide dimensions that includes theirs; the group of
 * rules wide everywhere takes the rest. */
#define NF_CLS_TREES_MAX 4

static const uint8_t dim_field[NF_CLS_DIMS] = {
	NF_RF_SRC, NF_RF_DST, NF_RF_SPORT, NF_RF_DPORT, NF_RF_PROTO
};

struct cnode {
	nf_u128 thr;			/* key <= thr: kid[0], else kid[1] */
	uint32_t kid[2];		/* node index, or leaf index | LEAF_BIT */
	uint32_t dim;
};

struct cleaf {
	uint32_t off, n;		/* entries refs[off .. off+n), by rule */
};

/* A rule in a leaf: its hull on the cut dimensions, clipped to the leaf
 * (IPv6 addresses: their upper 64 bits), checked before the rule itself
 * is read. An exact entry is the rule (single ranges on those dimensions
 * only, exact addresses): no further check but the transport header. */
#define LE_EXACT	0x01
#define LE_L4		0x02		/* needs the transport header */

struct lent {
	uint64_t s[2], d[2];
	uint32_t rule;
	uint16_t sp[2], dp[2];
	uint8_t pr[2];
	uint8_t flags;
};

/* Three levels of binary nodes in one cache line (non-IPv6 trees, whose
 * values fit 32 bits): sub-node i (0..6, Eytzinger order: children 2i+1,
 * 2i+2) cuts dimension dims >> 3i & 7 at thr[i]; kid[i - 7] follows. A
 * leaf higher up fills its sub-tree with "always left" cuts. One cache
 * miss per three levels instead of three. */
struct pnode {
	uint32_t thr[7];
	uint32_t dims;
	uint32_t kid[8];
};

struct ctree {
	struct pnode *pn;		/* packed form (non-IPv6), NULL: binary */
	uint32_t npn, pncap;
	struct cnode *nodes;
	uint32_t nnodes, ncap;
	struct cleaf *leaves;
	uint32_t nleaves, lcap;
	struct lent *refs;
	uint32_t nrefs, rcap;
	uint32_t root;
	uint32_t first;			/* its lowest rule index */
};

struct nf_cls {
	struct nf_rule *rules;		/* copy, ranges rebased to ours */
	struct nf_range *ranges;
	uint32_t nrules;
	struct ctree t[3][NF_CLS_TREES_MAX];	/* non-IP, IPv4, IPv6 */
	uint32_t nt[3];			/* trees per family, by first rule */
	struct nf_cls_stats st;
};

/* Build state. */
struct proj {
	uint32_t off, n;		/* in bctx.pr */
};

struct bctx {
	struct nf_cls *c;
	struct ctree *t;
	struct proj *pj;		/* nrules * NF_CLS_DIMS */
	struct nf_range *pr;
	uint32_t npr, prcap;
	nf_u128 dom[NF_CLS_DIMS];	/* the family's domain per dimension */
	nf_u128 *lo, *hi;		/* scratch, one per rule */
	size_t bytes, max_bytes;
	int err;
};

static int pack(struct ctree *t, uint32_t id, uint32_t *out);

static int grow(void **p, uint32_t *cap, uint32_t need, size_t size)
{
	uint64_t c = *cap ? *cap : 64;
	void *v;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > UINT32_MAX / 2)
		return -E2BIG;
	v = realloc(*p, c * size);
	if (!v)
		return -ENOMEM;
	*p = v;
	*cap = (uint32_t)c;
	return 0;
}

static int pr_push(struct bctx *b, nf_u128 lo, nf_u128 hi)
{
	int ret = grow((void **)&b->pr, &b->prcap, b->npr + 1, sizeof(*b->pr));

	if (ret)
		return ret;
	b->pr[b->npr].lo = lo;
	b->pr[b->npr].hi = hi;
	b->npr++;
	return 0;
}

/* The projections of every rule on every dimension (over-approximations
 * are fine: the leaf checks the rule fully). */
static int project(struct bctx *b)
{
	const struct nf_cls *c = b->c;
	uint32_t i, d, j;
	int ret;

	for (i = 0; i < c->nrules; i++) {
		const struct nf_rule *r = &c->rules[i];

		for (d = 0; d < NF_CLS_DIMS; d++) {
			struct proj *p = &b->pj[i * NF_CLS_DIMS + d];
			unsigned f = dim_field[d];

			p->off = b->npr;
			if (r->has >> f & 1) {
				for (j = 0; j < r->f[f].n; j++) {
					ret = pr_push(b, c->ranges[r->f[f].off + j].lo,
						      c->ranges[r->f[f].off + j].hi);
					if (ret)
						return ret;
				}
			} else if (f == NF_RF_SPORT && (r->has >> NF_RF_ICMP_TYPE & 1)) {
				const struct nf_range *v = c->ranges + r->f[NF_RF_ICMP_TYPE].off;

				for (j = 0; j < r->f[NF_RF_ICMP_TYPE].n; j++) {
					ret = pr_push(b, v[j].lo << 8, v[j].hi << 8 | 0xff);
					if (ret)
						return ret;
				}
			} else {
				ret = pr_push(b, 0, ~(nf_u128)0);
				if (ret)
					return ret;
			}
			p->n = b->npr - p->off;
		}
	}
	return 0;
}

/* Rule @i's projection on @d clipped to [rlo, rhi]: its lowest and
 * highest point there. False when it does not meet the interval. */
static bool clip(const struct bctx *b, uint32_t i, unsigned d, nf_u128 rlo, nf_u128 rhi,
		 nf_u128 *mn, nf_u128 *mx)
{
	const struct proj *p = &b->pj[i * NF_CLS_DIMS + d];
	const struct nf_range *v = b->pr + p->off;
	uint32_t j, k;

	for (j = 0; j < p->n && v[j].hi < rlo; j++)
		;
	if (j == p->n || v[j].lo > rhi)
		return false;
	for (k = p->n; k > j + 1 && v[k - 1].lo > rhi; k--)
		;
	*mn = NF_MAX(v[j].lo, rlo);
	*mx = NF_MIN(v[k - 1].hi, rhi);
	return true;
}

/* Does rule @i's projection on @d cover all of [rlo, rhi]? */
static bool covers(const struct bctx *b, uint32_t i, unsigned d, nf_u128 rlo, nf_u128 rhi)
{
	const struct proj *p = &b->pj[i * NF_CLS_DIMS + d];
	const struct nf_range *v = b->pr + p->off;
	uint32_t j;

	for (j = 0; j < p->n && v[j].hi < rlo; j++)
		;
	return j < p->n && v[j].lo <= rlo && v[j].hi >= rhi;
}

static int u128_cmp(const void *x, const void *y)
{
	nf_u128 a = *(const nf_u128 *)x, b = *(const nf_u128 *)y;

	return a < b ? -1 : a > b;
}

/* The best threshold on @d for rules @R[0..n) in region [rlo, rhi]: its
 * cost (UINT64_MAX: no threshold separates them). */
static uint64_t best_cut(struct bctx *b, const uint32_t *R, uint32_t n, unsigned d,
			 nf_u128 rlo, nf_u128 rhi, nf_u128 *thr, uint32_t *nl_out,
			 uint32_t *nr_out)
{
	uint32_t i, ia = 0, ib = 0, ca, cb;
	uint64_t best = UINT64_MAX;

	if (rlo == rhi)
		return best;
	for (i = 0; i < n; i++)
		clip(b, R[i], d, rlo, rhi, &b->lo[i], &b->hi[i]);
	qsort(b->lo, n, sizeof(*b->lo), u128_cmp);
	qsort(b->hi, n, sizeof(*b->hi), u128_cmp);
	/* candidates, ascending: lo - 1 for each lo > rlo, hi for each
	 * hi < rhi; ia, ib count the los and his <= the candidate */
	ca = cb = 0;
	for (;;) {
		nf_u128 t;
		uint32_t nl, nr;
		uint64_t cost;

		while (ca < n && b->lo[ca] == rlo)
			ca++;
		if (cb < n && b->hi[cb] == rhi)
			cb = n;
		if (ca >= n && cb >= n)
			break;
		if (ca < n && (cb >= n || b->lo[ca] - 1 <= b->hi[cb]))
			t = b->lo[ca] - 1;
		else
			t = b->hi[cb];
		while (ca < n && b->lo[ca] - 1 <= t)
			ca++;
		while (cb < n && b->hi[cb] <= t)
			cb++;
		while (ia < n && b->lo[ia] <= t)
			ia++;
		while (ib < n && b->hi[ib] <= t)
			ib++;
		nl = ia;		/* lo <= t: meets the left side */
		nr = n - ib;		/* hi > t: meets the right side */
		if (nl == n && nr == n)
			continue;
		cost = (uint64_t)NF_MAX(nl, nr) + (nl + nr - n);
		if (cost < best) {
			best = cost;
			*thr = t;
			*nl_out = nl;
			*nr_out = nr;
		}
	}
	return best;
}

static int account(struct bctx *b, size_t more)
{
	b->bytes += more;
	if (b->bytes > b->c->st.build_peak)
		b->c->st.build_peak = b->bytes;
	if (b->bytes > b->max_bytes) {
		nf_set_error("classifier: the decision tree of %u rules passes its memory "
			     "bound of %zu bytes (rules that overlap on different fields are "
			     "copied into many leaves; split the rule set or use fewer "
			     "crossing wildcards)", b->c->nrules, b->max_bytes);
		return -E2BIG;
	}
	return 0;
}

/* Is every field of rule @i on the cut dimensions one range (exact box)? */
static bool box_exact(const struct nf_rule *r, bool v6)
{
	uint32_t f, cut = 0;

	for (f = 0; f < NF_CLS_DIMS; f++)
		cut |= 1u << dim_field[f];
	if ((r->has & ~cut) || (v6 && (r->has & (1u << NF_RF_SRC | 1u << NF_RF_DST))))
		return false;
	for (f = 0; f < NF_RF_MAX; f++)
		if ((r->has >> f & 1) && r->f[f].n != 1)
			return false;
	return true;
}

static int make_leaf(struct bctx *b, const uint32_t *R, uint32_t n, const nf_u128 *rlo,
		     const nf_u128 *rhi, uint32_t *id)
{
	struct ctree *t = b->t;
	bool v6 = rhi[0] > UINT32_MAX;
	uint32_t i;
	int ret;

	ret = account(b, sizeof(struct cleaf) + n * sizeof(struct lent));
	if (ret)
		return ret;
	ret = grow((void **)&t->leaves, &t->lcap, t->nleaves + 1, sizeof(*t->leaves));
	if (!ret)
		ret = grow((void **)&t->refs, &t->rcap, t->nrefs + n, sizeof(*t->refs));
	if (ret)
		return ret;
	t->leaves[t->nleaves].off = t->nrefs;
	t->leaves[t->nleaves].n = n;
	for (i = 0; i < n; i++) {
		struct lent *e = &t->refs[t->nrefs + i];
		const struct nf_rule *r = &b->c->rules[R[i]];
		nf_u128 mn[NF_CLS_DIMS], mx[NF_CLS_DIMS];
		unsigned d;

		for (d = 0; d < NF_CLS_DIMS; d++)
			if (!clip(b, R[i], d, rlo[d], rhi[d], &mn[d], &mx[d]))
				mn[d] = mx[d] = 0;	/* cannot happen */
		e->rule = R[i];
		e->s[0] = (uint64_t)(v6 ? mn[0] >> 64 : mn[0]);
		e->s[1] = (uint64_t)(v6 ? mx[0] >> 64 : mx[0]);
		e->d[0] = (uint64_t)(v6 ? mn[1] >> 64 : mn[1]);
		e->d[1] = (uint64_t)(v6 ? mx[1] >> 64 : mx[1]);
		e->sp[0] = (uint16_t)mn[2];
		e->sp[1] = (uint16_t)mx[2];
		e->dp[0] = (uint16_t)mn[3];
		e->dp[1] = (uint16_t)mx[3];
		e->pr[0] = (uint8_t)mn[4];
		e->pr[1] = (uint8_t)mx[4];
		e->flags = (box_exact(r, v6) ? LE_EXACT : 0) |
			   ((r->has & NF_CLS_L4_FIELDS) ? LE_L4 : 0);
	}
	t->nrefs += n;
	*id = t->nleaves++ | LEAF_BIT;
	if (n > b->c->st.leaf_max)
		b->c->st.leaf_max = n;
	b->c->st.leaves++;
	return 0;
}

static int build_node(struct bctx *b, const uint32_t *R, uint32_t n, nf_u128 *rlo,
		      nf_u128 *rhi, uint32_t depth, uint32_t *id)
{
	struct ctree *t = b->t;
	uint64_t best = UINT64_MAX, cost;
	uint32_t d, bd = 0, nl = 0, nr = 0, l = 0, r = 0, i, me, kid, np = 0;
	uint32_t *P;
	nf_u128 thr = 0, th = 0, save;
	uint32_t *L = NULL, *Rt = NULL;
	int ret;

	if (depth > b->c->st.depth_max)
		b->c->st.depth_max = depth;
	if (n <= NF_CLS_LEAF_MAX || depth >= NF_CLS_DEPTH_MAX)
		return make_leaf(b, R, n, rlo, rhi, id);
	/* Rules that cover the whole region stay in every leaf below: only
	 * the others (P) can be separated, and they decide. */
	P = malloc(n * sizeof(*P));
	if (!P)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		for (d = 0; d < NF_CLS_DIMS; d++)
			if (!covers(b, R[i], d, rlo[d], rhi[d]))
				break;
		if (d < NF_CLS_DIMS)
			P[np++] = R[i];
	}
	if (np > NF_CLS_LEAF_MAX)
		for (d = 0; d < NF_CLS_DIMS; d++) {
			cost = best_cut(b, P, np, d, rlo[d], rhi[d], &th, &l, &r);
			if (cost < best) {
				best = cost;
				bd = d;
				thr = th;
				nl = l;
				nr = r;
			}
		}
	free(P);
	/* a cut that copies more than half of the rules into both children
	 * is not worth it (the cross products would grow without bound) */
	if (best == UINT64_MAX || (uint64_t)(nl + nr) * 2 > (uint64_t)np * 3)
		return make_leaf(b, R, n, rlo, rhi, id);
	ret = account(b, sizeof(struct cnode));
	if (ret)
		return ret;
	ret = grow((void **)&t->nodes, &t->ncap, t->nnodes + 1, sizeof(*t->nodes));
	if (ret)
		return ret;
	me = t->nnodes++;
	t->nodes[me].thr = thr;
	t->nodes[me].dim = bd;
	nl = nr = n;
	L = malloc((nl ? nl : 1) * sizeof(*L));
	Rt = malloc((nr ? nr : 1) * sizeof(*Rt));
	if (!L || !Rt) {
		ret = -ENOMEM;
		goto out;
	}
	l = r = 0;
	for (i = 0; i < n; i++) {
		nf_u128 mn, mx;

		if (!clip(b, R[i], bd, rlo[bd], rhi[bd], &mn, &mx))
			continue;
		if (mn <= thr)
			L[l++] = R[i];
		if (mx > thr)
			Rt[r++] = R[i];
	}
	save = rhi[bd];
	rhi[bd] = thr;
	ret = build_node(b, L, l, rlo, rhi, depth + 1, &kid);
	rhi[bd] = save;
	if (ret)
		goto out;
	b->t->nodes[me].kid[0] = kid;
	free(L);
	L = NULL;
	save = rlo[bd];
	rlo[bd] = thr + 1;
	ret = build_node(b, Rt, r, rlo, rhi, depth + 1, &kid);
	rlo[bd] = save;
	if (ret)
		goto out;
	b->t->nodes[me].kid[1] = kid;
	*id = me;
	b->c->st.nodes++;
out:
	free(L);
	free(Rt);
	return ret;
}

/* Rule @i's dimensions where its projection covers half the domain. */
static unsigned wide_mask(const struct bctx *b, uint32_t i, const nf_u128 *dom)
{
	unsigned d, m = 0;

	for (d = 0; d < NF_CLS_DIMS; d++) {
		const struct proj *p = &b->pj[i * NF_CLS_DIMS + d];
		nf_u128 size = 0;
		uint32_t j;

		for (j = 0; j < p->n; j++) {
			nf_u128 lo = b->pr[p->off + j].lo, hi = NF_MIN(b->pr[p->off + j].hi, dom[d]);

			if (lo <= hi)
				size += hi - lo;	/* (+1 each: no overflow at 2^128) */
		}
		if (size >= dom[d] / 2)
			m |= 1u << d;
	}
	return m;
}

/* The trees of key family @fam (0, 4, 6) into c->t[slot]. */
static int build_family(struct bctx *b, unsigned fam, unsigned slot)
{
	struct nf_cls *c = b->c;
	nf_u128 rlo[NF_CLS_DIMS] = { 0 }, rhi[NF_CLS_DIMS];
	uint32_t count[1u << NF_CLS_DIMS] = { 0 }, *R = NULL, *G = NULL, n = 0, i, g, k;
	unsigned keep[NF_CLS_TREES_MAX], nkeep = 0, m, full = (1u << NF_CLS_DIMS) - 1;
	uint8_t *mask = NULL, target[1u << NF_CLS_DIMS];
	int ret = -ENOMEM;

	rhi[0] = rhi[1] = fam == 6 ? ~(nf_u128)0 : fam == 4 ? (nf_u128)UINT32_MAX : 0;
	rhi[2] = rhi[3] = 65535;
	rhi[4] = 255;
	R = malloc((c->nrules ? c->nrules : 1) * sizeof(*R));
	G = malloc((c->nrules ? c->nrules : 1) * sizeof(*G));
	mask = malloc(c->nrules ? c->nrules : 1);
	if (!R || !G || !mask)
		goto out;
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].family == 0 || c->rules[i].family == fam) {
			mask[n] = (uint8_t)wide_mask(b, i, rhi);
			count[mask[n]]++;
			R[n++] = i;
		}
	/* Largest groups first: a group joins a kept one that differs from
	 * it on one dimension at most (EffiCuts' merge), else gets a tree of
	 * its own if it is large enough (a 64th of the rules, 16 at least);
	 * the rest join the kept group of fewest wide dimensions that
	 * includes theirs, else the group wide everywhere. */
	for (m = 0; m <= full; m++)
		target[m] = 0xff;
	for (;;) {
		unsigned bm = 0xff;

		for (m = 0; m <= full; m++)
			if (target[m] == 0xff && count[m] &&
			    (bm == 0xff || count[m] > count[bm]))
				bm = m;
		if (bm == 0xff)
			break;
		for (k = 0; k < nkeep; k++)
			if (__builtin_popcount(bm ^ keep[k]) <= 1) {
				target[bm] = (uint8_t)keep[k];
				break;
			}
		if (k < nkeep)
			continue;
		if (nkeep < NF_CLS_TREES_MAX - 1 && (!nkeep || count[bm] >= n / 64 + 16)) {
			keep[nkeep++] = bm;
			target[bm] = (uint8_t)bm;
			continue;
		}
		target[bm] = (uint8_t)full;
		for (k = 0; k < nkeep; k++)
			if ((keep[k] & bm) == bm &&
			    __builtin_popcount(keep[k]) < __builtin_popcount(target[bm]))
				target[bm] = (uint8_t)keep[k];
	}
	c->nt[slot] = 0;
	for (g = 0; g <= full; g++) {
		struct ctree *t;
		uint32_t ng = 0;

		for (i = 0; i < n; i++)
			if (target[mask[i]] == g)
				G[ng++] = R[i];
		if (!ng && !(g == full && c->nt[slot] == 0))
			continue;
		t = &c->t[slot][c->nt[slot]++];
		t->first = ng ? G[0] : UINT32_MAX;
		b->t = t;
		ret = build_node(b, G, ng, rlo, rhi, 0, &t->root);
		if (!ret && fam != 6) {
			uint32_t root;

			ret = pack(t, t->root, &root);
			if (!ret)
				ret = account(b, t->npn * sizeof(*t->pn));
			if (!ret)	/* the binary nodes go */
				b->bytes -= (size_t)t->nnodes * sizeof(*t->nodes);
			t->root = root;
			free(t->nodes);
			t->nodes = NULL;
			t->nnodes = t->ncap = 0;
		}
		if (ret)
			goto out;
	}
	/* by first rule: a lookup stops at the first tree that cannot win */
	for (i = 1; i < c->nt[slot]; i++)
		for (k = i; k > 0 && c->t[slot][k - 1].first > c->t[slot][k].first; k--) {
			struct ctree x = c->t[slot][k];

			c->t[slot][k] = c->t[slot][k - 1];
			c->t[slot][k - 1] = x;
		}
	ret = 0;
out:
	free(R);
	free(G);
	free(mask);
	return ret;
}

/* Sub-node @pos of packed node @pi from binary node @id. */
static int pack_fill(struct ctree *t, uint32_t pi, unsigned pos, uint32_t id)
{
	uint32_t kid;
	int ret;

	if (pos >= 7) {
		ret = pack(t, id, &kid);
		if (ret)
			return ret;
		t->pn[pi].kid[pos - 7] = kid;
		return 0;
	}
	if (id & LEAF_BIT) {
		t->pn[pi].thr[pos] = UINT32_MAX;	/* never right */
		ret = pack_fill(t, pi, 2 * pos + 1, id);
		return ret ? ret : pack_fill(t, pi, 2 * pos + 2, id);
	}
	t->pn[pi].thr[pos] = (uint32_t)t->nodes[id].thr;
	t->pn[pi].dims |= t->nodes[id].dim << (3 * pos);
	ret = pack_fill(t, pi, 2 * pos + 1, t->nodes[id].kid[0]);
	return ret ? ret : pack_fill(t, pi, 2 * pos + 2, t->nodes[id].kid[1]);
}

static int pack(struct ctree *t, uint32_t id, uint32_t *out)
{
	uint32_t pi;
	int ret;

	if (id & LEAF_BIT) {
		*out = id;
		return 0;
	}
	ret = grow((void **)&t->pn, &t->pncap, t->npn + 1, sizeof(*t->pn));
	if (ret)
		return ret;
	pi = t->npn++;
	memset(&t->pn[pi], 0, sizeof(t->pn[pi]));
	ret = pack_fill(t, pi, 0, id);
	*out = pi;
	return ret;
}

static void tree_free(struct ctree *t)
{
	free(t->pn);
	free(t->nodes);
	free(t->leaves);
	free(t->refs);
}

int nf_cls_build_max(const struct nf_ruleset *rs, size_t max_bytes, struct nf_cls **out)
{
	struct bctx b = { 0 };
	struct nf_cls *c = calloc(1, sizeof(*c));
	uint32_t i, f;
	int ret = -ENOMEM;

	*out = NULL;
	if (!c)
		goto fail;
	b.c = c;
	b.max_bytes = max_bytes;
	c->nrules = rs->n;
	c->rules = malloc((rs->n ? rs->n : 1) * sizeof(*c->rules));
	c->ranges = malloc((rs->nranges ? rs->nranges : 1) * sizeof(*c->ranges));
	b.pj = malloc((rs->n ? rs->n : 1) * NF_CLS_DIMS * sizeof(*b.pj));
	b.lo = malloc((rs->n ? rs->n : 1) * sizeof(*b.lo));
	b.hi = malloc((rs->n ? rs->n : 1) * sizeof(*b.hi));
	if (!c->rules || !c->ranges || !b.pj || !b.lo || !b.hi)
		goto fail;
	/* our own compact copy: ranges of each rule contiguous */
	{
		uint32_t off = 0;

		for (i = 0; i < rs->n; i++) {
			struct nf_rule *r = &c->rules[i];

			*r = rs->rules[i];
			r->comment = 0;
			r->comment_off = 0;
			for (f = 0; f < NF_RF_MAX; f++) {
				if (r->f[f].n)
					memcpy(c->ranges + off, rs->ranges + r->f[f].off,
					       r->f[f].n * sizeof(*c->ranges));
				r->f[f].off = off;
				off += r->f[f].n;
			}
		}
	}
	ret = account(&b, sizeof(*c) + rs->n * sizeof(*c->rules) +
		      rs->nranges * sizeof(*c->ranges));
	if (ret)
		goto fail;
	ret = project(&b);
	if (ret)
		goto fail;
	for (i = 0; i < 3; i++) {
		ret = build_family(&b, i == 0 ? 0 : i == 1 ? 4 : 6, i);
		if (ret)
			goto fail;
		c->st.trees += c->nt[i];
	}
	c->st.rules = rs->n;
	c->st.bytes = b.bytes;
	*out = c;
	ret = 0;
	goto done;
fail:
	if (ret == -ENOMEM)
		nf_set_error("classifier: out of memory");
	else if (ret == -E2BIG && !nf_last_error()[0])
		nf_set_error("classifier: the decision tree is too large");
	nf_cls_free(c);
done:
	free(b.pj);
	free(b.pr);
	free(b.lo);
	free(b.hi);
	return ret;
}

int nf_cls_build(const struct nf_ruleset *rs, struct nf_cls **out)
{
	return nf_cls_build_max(rs, NF_CLS_BYTES_MAX, out);
}

void nf_cls_free(struct nf_cls *c)
{
	unsigned i, k;

	if (!c)
		return;
	for (i = 0; i < 3; i++)
		for (k = 0; k < NF_CLS_TREES_MAX; k++)
			tree_free(&c->t[i][k]);
	free(c->rules);
	free(c->ranges);
	free(c);
}

void nf_cls_get_stats(const struct nf_cls *c, struct nf_cls_stats *s)
{
	*s = c->st;
}

uint32_t nf_cls_match(const struct nf_cls *c, const struct nf_cls_key *k, uint32_t from)
{
	unsigned slot = k->family == 4 ? 1 : k->family == 6 ? 2 : 0, j;
	unsigned nt = c->nt[slot];
	uint32_t best = UINT32_MAX, at[NF_CLS_TREES_MAX];
	nf_u128 v[NF_CLS_DIMS];
	uint32_t w[NF_CLS_DIMS];
	uint64_t ks = (uint64_t)(slot == 2 ? k->src >> 64 : k->src);
	uint64_t kd = (uint64_t)(slot == 2 ? k->dst >> 64 : k->dst);

	v[0] = k->src;
	v[1] = k->dst;
	v[2] = k->sport;
	v[3] = k->dport;
	v[4] = k->proto;
	w[0] = (uint32_t)k->src;
	w[1] = (uint32_t)k->dst;
	w[2] = k->sport;
	w[3] = k->dport;
	w[4] = k->proto;
	/* walk the trees side by side: their cache misses overlap */
	for (j = 0; j < nt; j++)
		at[j] = c->t[slot][j].root;
	if (slot != 2) {
		for (;;) {
			unsigned busy = 0;

			for (j = 0; j < nt; j++) {
				const struct pnode *x;
				unsigned i, d;

				if (at[j] & LEAF_BIT)
					continue;
				busy = 1;
				x = &c->t[slot][j].pn[at[j]];
				d = x->dims;
				i = 1 + (w[d & 7] > x->thr[0]);
				i = 2 * i + 1 + (w[d >> (3 * i) & 7] > x->thr[i]);
				i = 2 * i + 1 + (w[d >> (3 * i) & 7] > x->thr[i]);
				at[j] = x->kid[i - 7];
			}
			if (!busy)
				break;
		}
	} else {
		for (j = 0; j < nt; j++)
			while (!(at[j] & LEAF_BIT)) {
				const struct cnode *x = &c->t[slot][j].nodes[at[j]];

				at[j] = x->kid[v[x->dim] > x->thr];
			}
	}
	for (j = 0; j < nt; j++) {
		const struct ctree *t = &c->t[slot][j];
		const struct cleaf *lf;
		const struct lent *e, *end;
		uint32_t n = at[j];

		if (t->first >= best)
			break;
		lf = &t->leaves[n & ~LEAF_BIT];
		for (e = t->refs + lf->off, end = e + lf->n; e < end && e->rule < best; e++) {
			if (e->rule < from ||
			    ks < e->s[0] || ks > e->s[1] || kd < e->d[0] || kd > e->d[1] ||
			    k->dport < e->dp[0] || k->dport > e->dp[1] ||
			    k->sport < e->sp[0] || k->sport > e->sp[1] ||
			    k->proto < e->pr[0] || k->proto > e->pr[1])
				continue;
			if ((e->flags & LE_EXACT) ? (!(e->flags & LE_L4) || k->l4)
			    : rule_match(&c->rules[e->rule], c->ranges, k)) {
				best = e->rule;
				break;
			}
		}
	}
	return best;
}
