/* nf_lpm6.c - IPv6 longest-prefix match: a 24-bit first level, then groups
 * of NF_LPM6_STRIDE bits, leaf-pushed, with a hash table of the rules.
 *
 * Tables. tbl24[top 24 bits] and, below an entry marked EXT, a group of
 * 2^S entries (S = NF_LPM6_STRIDE) for the next S bits, and so on: level L
 * (L >= 1) covers the bits [b, b+S) with b = 24 + S*(L-1). Every non-EXT
 * entry holds the longest route covering all of its addresses (leaf
 * pushing). A group exists exactly while some route longer than its base
 * b lies below it.
 *
 * Depths. An entry carries a depth code so that updates know which entries
 * a route owns. In tbl24 it is the depth itself (1..24, 0: no route). In a
 * group of base b it is d - b for a route of depth d in (b, b+S], and 0 for
 * "inherited": covered by no route deeper than b, so holding the longest
 * route of depth <= b covering the whole group. That route is the same for
 * every inherited entry of the group (it covers the group entirely); the
 * group keeps it (g_inh, with its depth in g_inhd) so that entries can be
 * made inherited again, and counts its other entries (g_own: EXT or owned
 * by a deeper route) so that it can be returned when none is left.
 *
 *   add d/nh  walks (creating groups, each a copy of the entry it
 *             replaces) to the level holding depth d, writes the entries of
 *             its range whose depth is <= d, and for EXT entries in the
 *             range makes it the inherited route of the group below if
 *             that one's inherited depth is <= d, recursively ("cover");
 *   del d     writes the entries of its range whose depth is == d with the
 *             next-shorter covering route (hash probes for each shorter
 *             depth that has rules), "uncovers" the groups below whose
 *             inherited depth is d, then folds back up every group of the
 *             path left with no entry of its own.
 * Groups an add will create are reserved before anything is written, so a
 * failed add changes nothing.
 *
 * Rules: open addressing, linear probing, backward-shift deletion, 24-byte
 * slots, kept at most 7/8 full.
 *
 * Why 4-bit groups. Measured with bench/lpm.sh on the 200,000-route table
 * of scripts/gen-routes (its /48s are spread over many /32s and /40s; a
 * real table may share deep groups better), medians on the shared VM:
 *   S = 8 (DPDK)  197,075 groups 190 MiB, a /48 is 4 loads:
 *                 ~50 M/s bulk, ~15 M/s scalar for addresses in routes
 *   S = 4         449,667 groups  29 MiB, a /48 is 7 loads:
 *                 ~30 M/s bulk, ~7.5 M/s scalar; loads 2x faster
 * Lookups of in-table addresses are bound by dependent cache misses (one
 * per level; bulk lookups overlap ~30 of them), so the rate goes with the
 * number of levels; memory goes with the group size, since most deep
 * groups hold one or two routes. 6x less memory won over 1.6x the rate;
 * NF_LPM6_STRIDE 8 remains a one-line change (the unit test passes with
 * both).
 *
 * Memory: tbl24 64 MiB (allocated, mostly never touched) + (2^S * 4 + 7)
 * bytes per group, allocated by doubling + 24 bytes per rule slot.
 * 200,000 routes: 29 MiB of groups in use (35.5 allocated), 6 MiB of
 * rules, < 1 MiB of tbl24 touched.
 *
 * Update costs (same table): load 0.11-0.12 s; delete or add of a random
 * route 0.8-1.2 us; a /12 over the full table 3-11 ms and 2000::/3 16-32
 * ms (every group below must learn its new inherited route).
 */
#include "nf_lpm6.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#define S		NF_LPM6_STRIDE
#define GSIZE		(1u << S)		/* entries per group */
#define EMPTY_DEPTH	0xff
#define NO_GROUP	UINT32_MAX
#define GROUPS_MAX	(1u << 24)
#define LEVELS_MAX	((128 - 24 + S - 1) / S)

_Static_assert(S == 4 || S == 8, "NF_LPM6_STRIDE must divide 40 and keep "
	       "group << STRIDE within 32 bits");

struct nf_lpm6_rule {
	uint64_t hi, lo;	/* the prefix, host order */
	uint32_t nh;
	uint8_t depth;		/* EMPTY_DEPTH: free slot */
};

/* A 128-bit address or prefix as two host-order halves. */
struct a128 {
	uint64_t hi, lo;
};

static inline struct a128 a_load(const uint8_t *p)
{
	struct a128 a = { nf_lpm6_be64(p), nf_lpm6_be64(p + 8) };

	return a;
}

static inline void a_store(struct a128 a, uint8_t *p)
{
	uint64_t h = __builtin_bswap64(a.hi), l = __builtin_bswap64(a.lo);

	memcpy(p, &h, 8);
	memcpy(p + 8, &l, 8);
}

static inline struct a128 a_mask(struct a128 a, unsigned depth)
{
	if (depth == 0) {
		a.hi = a.lo = 0;
	} else if (depth <= 64) {
		a.hi &= ~0ull << (64 - depth);
		a.lo = 0;
	} else if (depth < 128) {
		a.lo &= ~0ull << (128 - depth);
	}
	return a;
}

/* The S bits of @a starting at bit @b (b >= 24; S divides 40, so a field
 * never straddles the two halves). */
static inline uint32_t a_bits(struct a128 a, unsigned b)
{
	if (b < 64)
		return (uint32_t)(a.hi >> (64 - b - S)) & (GSIZE - 1);
	return (uint32_t)(a.lo >> (128 - b - S)) & (GSIZE - 1);
}

static inline uint32_t code_of(uint32_t e)
{
	return (e & NF_LPM6_CODE) >> 24;
}

static inline uint32_t *grp(const struct nf_lpm6 *l, uint32_t g)
{
	return &l->tbl8[(size_t)g << S];
}

static const char *ip_str(struct a128 a, char *buf)
{
	uint8_t b[16];

	a_store(a, b);
	inet_ntop(AF_INET6, b, buf, INET6_ADDRSTRLEN);
	return buf;
}

/* ---- the rule store ---- */

static inline uint32_t rule_slot(const struct nf_lpm6 *l, struct a128 a,
				 uint8_t depth)
{
	uint64_t x = a.hi ^ ((a.lo * 0xC2B2AE3D27D4EB4Full) >> 7 |
			     (a.lo * 0xC2B2AE3D27D4EB4Full) << 57) ^ depth;

	return (uint32_t)((x * 0x9E3779B97F4A7C15ull) >> 32) & l->rules_mask;
}

static uint32_t rule_find(const struct nf_lpm6 *l, struct a128 a,
			  uint8_t depth)
{
	uint32_t i = rule_slot(l, a, depth);

	for (;;) {
		const struct nf_lpm6_rule *r = &l->rules[i];

		if (r->depth == EMPTY_DEPTH ||
		    (r->depth == depth && r->hi == a.hi && r->lo == a.lo))
			return i;
		i = (i + 1) & l->rules_mask;
	}
}

static void rule_remove(struct nf_lpm6 *l, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		struct nf_lpm6_rule *r;
		struct a128 a;
		uint32_t home;

		j = (j + 1) & l->rules_mask;
		r = &l->rules[j];
		if (r->depth == EMPTY_DEPTH)
			break;
		a.hi = r->hi;
		a.lo = r->lo;
		home = rule_slot(l, a, r->depth);
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			l->rules[i] = *r;
			i = j;
		}
	}
	l->rules[i].depth = EMPTY_DEPTH;
}

/* The longest rule strictly shorter than @depth covering @a, but not the
 * default route: its depth in *rd (0: none) and its entry value
 * (VALID | nh, 0: none). */
static uint32_t covering(const struct nf_lpm6 *l, struct a128 a,
			 unsigned depth, unsigned *rd)
{
	unsigned d;

	for (d = depth - 1; d >= 1; d--) {
		uint32_t i;

		if (l->per_depth[d] == 0)
			continue;
		i = rule_find(l, a_mask(a, d), (uint8_t)d);
		if (l->rules[i].depth != EMPTY_DEPTH) {
			*rd = d;
			return NF_LPM6_VALID | l->rules[i].nh;
		}
	}
	*rd = 0;
	return 0;
}

/* ---- groups ---- */

/* Make sure @need groups can be taken without allocating. */
static int group_reserve(struct nf_lpm6 *l, uint32_t need)
{
	uint32_t cap = l->groups_cap;
	void *p;

	if (l->groups_cap - l->groups >= need)
		return 0;
	if ((uint64_t)l->groups + need > GROUPS_MAX) {
		nf_set_error("IPv6 route table: all %u groups are in use",
			     GROUPS_MAX);
		return -ENOSPC;
	}
	while (cap - l->groups < need)
		cap = cap ? NF_MIN(cap * 2, GROUPS_MAX) : 64;
	/* Grow each array in turn; a failure leaves the larger ones in
	 * place and groups_cap as it was, which is harmless. */
	p = realloc(l->tbl8, (size_t)cap * GSIZE * sizeof(uint32_t));
	if (p == NULL)
		goto nomem;
	l->tbl8 = p;
	p = realloc(l->g_inh, (size_t)cap * sizeof(uint32_t));
	if (p == NULL)
		goto nomem;
	l->g_inh = p;
	p = realloc(l->g_inhd, (size_t)cap);
	if (p == NULL)
		goto nomem;
	l->g_inhd = p;
	p = realloc(l->g_own, (size_t)cap * sizeof(uint16_t));
	if (p == NULL)
		goto nomem;
	l->g_own = p;
	l->groups_cap = cap;
	return 0;
nomem:
	nf_set_error("IPv6 route table: out of memory for %u groups", cap);
	return -ENOMEM;
}

/* A new group whose entries all inherit @inh (VALID | nh, or 0) of depth
 * @inhd. */
static uint32_t group_new(struct nf_lpm6 *l, uint32_t inh, unsigned inhd)
{
	uint32_t g, *t, j;

	if (l->free_head != NO_GROUP) {
		g = l->free_head;
		l->free_head = grp(l, g)[0];
	} else {
		g = l->groups_top++;
	}
	l->groups++;
	t = grp(l, g);
	for (j = 0; j < GSIZE; j++)
		t[j] = inh;
	l->g_inh[g] = inh;
	l->g_inhd[g] = (uint8_t)inhd;
	l->g_own[g] = 0;
	return g;
}

static void group_put(struct nf_lpm6 *l, uint32_t g)
{
	grp(l, g)[0] = l->free_head;
	l->free_head = g;
	l->groups--;
}

/* A route of depth @d (value @v), no deeper than group @g's base, now
 * covers it: it becomes the inherited route unless a deeper one already
 * is, here and in the groups below. */
static void cover(struct nf_lpm6 *l, uint32_t g, unsigned d, uint32_t v)
{
	uint32_t *t = grp(l, g), j;

	if (l->g_inhd[g] > d)
		return;
	l->g_inhd[g] = (uint8_t)d;
	l->g_inh[g] = v;
	for (j = 0; j < GSIZE; j++) {
		if (t[j] & NF_LPM6_EXT)
			cover(l, t[j] & NF_LPM6_VAL, d, v);
		else if (code_of(t[j]) == 0)
			t[j] = v;
	}
}

/* The route of depth @d that group @g may inherit is gone; the route of
 * depth @rd (value @rv; 0, 0: none) takes its place. */
static void uncover(struct nf_lpm6 *l, uint32_t g, unsigned d, unsigned rd,
		    uint32_t rv)
{
	uint32_t *t = grp(l, g), j;

	if (l->g_inhd[g] != d)
		return;
	l->g_inhd[g] = (uint8_t)rd;
	l->g_inh[g] = rv;
	for (j = 0; j < GSIZE; j++) {
		if (t[j] & NF_LPM6_EXT)
			uncover(l, t[j] & NF_LPM6_VAL, d, rd, rv);
		else if (code_of(t[j]) == 0)
			t[j] = rv;
	}
}

/* ---- the API ---- */

int nf_lpm6_create(struct nf_lpm6 **out, uint32_t max_rules)
{
	struct nf_lpm6 *l;
	uint32_t size = 64, i;

	*out = NULL;
	if (max_rules < 1 || max_rules > NF_LPM_RULES_MAX) {
		nf_set_error("IPv6 route table of %u rules is out of range "
			     "(1..%u)", max_rules, NF_LPM_RULES_MAX);
		return -EINVAL;
	}
	while ((uint64_t)size * 7 / 8 < max_rules)
		size <<= 1;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		goto nomem;
	l->tbl24 = calloc((size_t)1 << 24, sizeof(uint32_t));
	l->rules = malloc((size_t)size * sizeof(*l->rules));
	if (l->tbl24 == NULL || l->rules == NULL)
		goto nomem;
	for (i = 0; i < size; i++)
		l->rules[i].depth = EMPTY_DEPTH;
	l->rules_mask = size - 1;
	l->max_rules = max_rules;
	l->dflt = NF_LPM_MISS;
	l->free_head = NO_GROUP;
	*out = l;
	return 0;
nomem:
	nf_lpm6_free(l);
	nf_set_error("IPv6 route table of %u rules: out of memory", max_rules);
	return -ENOMEM;
}

void nf_lpm6_free(struct nf_lpm6 *l)
{
	if (l == NULL)
		return;
	free(l->tbl24);
	free(l->tbl8);
	free(l->g_inh);
	free(l->g_inhd);
	free(l->g_own);
	free(l->rules);
	free(l);
}

static int check_args(struct a128 a, unsigned depth, const char *what)
{
	char s1[INET6_ADDRSTRLEN], s2[INET6_ADDRSTRLEN];
	struct a128 m;

	if (depth > 128) {
		nf_set_error("cannot %s IPv6 route %s/%u: depth out of range "
			     "(0..128)", what, ip_str(a, s1), depth);
		return -EINVAL;
	}
	m = a_mask(a, depth);
	if (m.hi != a.hi || m.lo != a.lo) {
		nf_set_error("cannot %s IPv6 route %s/%u: host bits set "
			     "(the prefix is %s/%u)", what, ip_str(a, s1), depth,
			     ip_str(m, s2), depth);
		return -EINVAL;
	}
	return 0;
}

/* How many groups adding a route of @depth at @a would create. */
static uint32_t groups_needed(const struct nf_lpm6 *l, struct a128 a,
			      unsigned depth)
{
	uint32_t e, levels, have = 0;
	unsigned b = 24;

	if (depth <= 24)
		return 0;
	levels = (depth - 24 + S - 1) / S;
	e = l->tbl24[a.hi >> 40];
	while (have < levels && (e & NF_LPM6_EXT)) {
		have++;
		if (have < levels)
			e = grp(l, e & NF_LPM6_VAL)[a_bits(a, b)];
		b += S;
	}
	return levels - have;
}

int nf_lpm6_add(struct nf_lpm6 *l, const uint8_t prefix[16], uint8_t depth,
		uint32_t nh)
{
	char s[INET6_ADDRSTRLEN];
	struct a128 a = a_load(prefix);
	struct nf_lpm6_rule *r;
	uint32_t slot, v = NF_LPM6_VALID | nh, i, j, g, *t;
	unsigned b;
	int ret;

	ret = check_args(a, depth, "add");
	if (ret < 0)
		return ret;
	if (nh > NF_LPM_NH_MAX) {
		nf_set_error("cannot add IPv6 route %s/%u: next hop %u is out "
			     "of range (0..%u)", ip_str(a, s), depth, nh,
			     NF_LPM_NH_MAX);
		return -EINVAL;
	}
	slot = rule_find(l, a, depth);
	r = &l->rules[slot];
	if (r->depth == EMPTY_DEPTH) {
		if (l->count >= l->max_rules) {
			nf_set_error("cannot add IPv6 route %s/%u: the table is "
				     "full (%u rules)", ip_str(a, s), depth,
				     l->max_rules);
			return -ENOSPC;
		}
		ret = group_reserve(l, groups_needed(l, a, depth));
		if (ret < 0)
			return ret;
		l->count++;
		l->per_depth[depth]++;
		r->hi = a.hi;
		r->lo = a.lo;
		r->depth = depth;
	}
	r->nh = nh;

	if (depth == 0) {
		l->dflt = nh;
		return 0;
	}
	if (depth <= 24) {
		uint32_t first = (uint32_t)(a.hi >> 40), n = 1u << (24 - depth);

		for (i = first; i < first + n; i++) {
			uint32_t e = l->tbl24[i];

			if (e & NF_LPM6_EXT)
				cover(l, e & NF_LPM6_VAL, depth, v);
			else if (code_of(e) <= depth)
				l->tbl24[i] = v | (uint32_t)depth << 24;
		}
		return 0;
	}
	/* Walk down to the group holding @depth, creating what is missing:
	 * a new group is a copy of the entry it replaces. */
	t = &l->tbl24[a.hi >> 40];
	if (!(*t & NF_LPM6_EXT))
		*t = NF_LPM6_EXT |
		     group_new(l, *t & (NF_LPM6_VALID | NF_LPM6_VAL), code_of(*t));
	g = *t & NF_LPM6_VAL;
	for (b = 24; depth > b + S; b += S) {
		t = &grp(l, g)[a_bits(a, b)];
		if (!(*t & NF_LPM6_EXT)) {
			uint32_t c = code_of(*t);

			if (c == 0)
				l->g_own[g]++;
			*t = NF_LPM6_EXT |
			     group_new(l, *t & (NF_LPM6_VALID | NF_LPM6_VAL),
				       c ? b + c : l->g_inhd[g]);
		}
		g = *t & NF_LPM6_VAL;
	}
	{
		uint32_t rel = depth - b, first = a_bits(a, b);
		uint32_t n = 1u << (b + S - depth);

		t = grp(l, g);
		for (j = first; j < first + n; j++) {
			uint32_t e = t[j];

			if (e & NF_LPM6_EXT) {
				cover(l, e & NF_LPM6_VAL, depth, v);
			} else if (code_of(e) <= rel) {
				if (code_of(e) == 0)
					l->g_own[g]++;
				t[j] = v | rel << 24;
			}
		}
	}
	return 0;
}

int nf_lpm6_del(struct nf_lpm6 *l, const uint8_t prefix[16], uint8_t depth)
{
	char s[INET6_ADDRSTRLEN];
	struct a128 a = a_load(prefix);
	uint32_t slot, rv, i, j, g, *t;
	uint32_t path_g[LEVELS_MAX], path_j[LEVELS_MAX];
	unsigned rd, b, lv = 0;
	int ret;

	ret = check_args(a, depth, "delete");
	if (ret < 0)
		return ret;
	slot = rule_find(l, a, depth);
	if (l->rules[slot].depth == EMPTY_DEPTH) {
		nf_set_error("cannot delete IPv6 route %s/%u: no such route",
			     ip_str(a, s), depth);
		return -ENOENT;
	}
	rule_remove(l, slot);
	l->count--;
	l->per_depth[depth]--;
	if (depth == 0) {
		l->dflt = NF_LPM_MISS;
		return 0;
	}
	rv = covering(l, a, depth, &rd);
	if (depth <= 24) {
		uint32_t first = (uint32_t)(a.hi >> 40), n = 1u << (24 - depth);

		for (i = first; i < first + n; i++) {
			uint32_t e = l->tbl24[i];

			if (e & NF_LPM6_EXT)
				uncover(l, e & NF_LPM6_VAL, depth, rd, rv);
			else if (code_of(e) == depth)
				l->tbl24[i] = rv | rd << 24;
		}
		return 0;
	}
	/* The route exists, so does every group down to its level. */
	g = l->tbl24[a.hi >> 40] & NF_LPM6_VAL;
	for (b = 24; depth > b + S; b += S) {
		path_g[lv] = g;
		path_j[lv] = a_bits(a, b);
		lv++;
		g = grp(l, g)[a_bits(a, b)] & NF_LPM6_VAL;
	}
	{
		uint32_t rel = depth - b, first = a_bits(a, b);
		uint32_t n = 1u << (b + S - depth);

		t = grp(l, g);
		for (j = first; j < first + n; j++) {
			uint32_t e = t[j];

			if (e & NF_LPM6_EXT) {
				uncover(l, e & NF_LPM6_VAL, depth, rd, rv);
			} else if (code_of(e) == rel) {
				if (rd > b) {
					t[j] = rv | (rd - b) << 24;
				} else {
					t[j] = l->g_inh[g];
					l->g_own[g]--;
				}
			}
		}
	}
	/* Fold back up the groups left with nothing of their own: the
	 * parent's entry takes the group's inherited route. */
	while (l->g_own[g] == 0) {
		uint32_t inh = l->g_inh[g], inhd = l->g_inhd[g];

		if (lv == 0) {
			l->tbl24[a.hi >> 40] = inh | inhd << 24;
			group_put(l, g);
			break;
		}
		lv--;
		b -= S;
		t = &grp(l, path_g[lv])[path_j[lv]];
		if (inhd > b) {
			*t = inh | (inhd - b) << 24;
		} else {
			*t = l->g_inh[path_g[lv]];
			l->g_own[path_g[lv]]--;
		}
		group_put(l, g);
		g = path_g[lv];
	}
	return 0;
}

int nf_lpm6_get(const struct nf_lpm6 *l, const uint8_t prefix[16],
		uint8_t depth, uint32_t *nh)
{
	char s[INET6_ADDRSTRLEN];
	struct a128 a = a_load(prefix);
	uint32_t slot;
	int ret;

	ret = check_args(a, depth, "find");
	if (ret < 0)
		return ret;
	slot = rule_find(l, a, depth);
	if (l->rules[slot].depth == EMPTY_DEPTH) {
		nf_set_error("IPv6 route %s/%u: no such route", ip_str(a, s),
			     depth);
		return -ENOENT;
	}
	*nh = l->rules[slot].nh;
	return 0;
}

uint32_t nf_lpm6_count(const struct nf_lpm6 *l)
{
	return l->count;
}

int nf_lpm6_foreach(const struct nf_lpm6 *l,
		    int (*cb)(const uint8_t prefix[16], uint8_t depth,
			      uint32_t nh, void *arg),
		    void *arg)
{
	uint8_t p[16];
	uint32_t i;
	int ret;

	for (i = 0; i <= l->rules_mask; i++) {
		const struct nf_lpm6_rule *r = &l->rules[i];
		struct a128 a = { r->hi, r->lo };

		if (r->depth == EMPTY_DEPTH)
			continue;
		a_store(a, p);
		ret = cb(p, r->depth, r->nh, arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

void nf_lpm6_stats(const struct nf_lpm6 *l, struct nf_lpm_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rules = l->count;
	st->max_rules = l->max_rules;
	st->groups = l->groups;
	st->groups_cap = l->groups_cap;
	st->tbl_bytes = ((size_t)1 << 24) * sizeof(uint32_t);
	st->group_bytes = (size_t)l->groups_cap *
			  (GSIZE * sizeof(uint32_t) + sizeof(uint32_t) +
			   sizeof(uint8_t) + sizeof(uint16_t));
	st->rule_bytes = ((size_t)l->rules_mask + 1) * sizeof(*l->rules);
	st->total_bytes = st->tbl_bytes + st->group_bytes + st->rule_bytes +
			  sizeof(*l);
}

#define BULK_BLOCK 64

/* One block: every address's tbl24 entry is prefetched, then each level
 * is read for the addresses still going down while the next one's entry
 * is prefetched. */
static void bulk_block(const struct nf_lpm6 *l, const uint8_t *ips,
		       uint32_t *nhs, unsigned m)
{
	const uint32_t *tbl24 = l->tbl24, *tbl8 = l->tbl8;
	unsigned __int128 a[BULK_BLOCK];
	uint32_t idx[BULK_BLOCK], dflt = l->dflt;
	uint8_t live[BULK_BLOCK];
	unsigned k, q, nl = 0, nn;

	for (k = 0; k < m; k++) {
		uint64_t hi = nf_lpm6_be64(ips + 16 * k);

		idx[k] = (uint32_t)(hi >> 40);
		__builtin_prefetch(&tbl24[idx[k]]);
		a[k] = ((unsigned __int128)hi << 64 |
			nf_lpm6_be64(ips + 16 * k + 8)) << 24;
	}
	for (k = 0; k < m; k++) {
		uint32_t e = tbl24[idx[k]];

		if (e & NF_LPM6_EXT) {
			idx[k] = (e & NF_LPM6_VAL) << S |
				 (uint32_t)(a[k] >> (128 - S));
			a[k] <<= S;
			__builtin_prefetch(&tbl8[idx[k]]);
			live[nl++] = (uint8_t)k;
		} else {
			nhs[k] = (e & NF_LPM6_VALID) ? (e & NF_LPM6_VAL) : dflt;
		}
	}
	while (nl > 0) {
		for (nn = 0, q = 0; q < nl; q++) {
			uint32_t e;

			k = live[q];
			e = tbl8[idx[k]];
			if (e & NF_LPM6_EXT) {
				idx[k] = (e & NF_LPM6_VAL) << S |
					 (uint32_t)(a[k] >> (128 - S));
				a[k] <<= S;
				__builtin_prefetch(&tbl8[idx[k]]);
				live[nn++] = (uint8_t)k;
			} else {
				nhs[k] = (e & NF_LPM6_VALID) ?
					 (e & NF_LPM6_VAL) : dflt;
			}
		}
		nl = nn;
	}
}

void nf_lpm6_lookup_bulk(const struct nf_lpm6 *l, const uint8_t *ips,
			 uint32_t *nhs, unsigned n)
{
	unsigned i, m;

	for (i = 0; i < n; i += m) {
		m = NF_MIN(n - i, BULK_BLOCK);
		bulk_block(l, ips + 16 * (size_t)i, nhs + i, m);
	}
}
