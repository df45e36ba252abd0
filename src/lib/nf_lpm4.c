/* nf_lpm4.c - IPv4 longest-prefix match: DIR-24-8 with depth-tagged
 * entries and a hash table of the configured rules.
 *
 * Tables. tbl24[a >> 8] answers for the /24 of address a. Its entry holds
 * the depth and next hop of the longest route of depth <= 24 covering that
 * /24, or (EXT) the index of a tbl8 group: 256 entries, one per address of
 * the /24, each holding the longest route covering that address. A group
 * exists exactly while its /24 holds a route longer than /24; its entries
 * that no such route covers repeat what the tbl24 entry said. The /0
 * route is not in the tables (it would be 16M entries to write): lookups
 * return it when the entry says "no route".
 *
 * Invariant: every entry carries the depth of the route it came from, and
 * that route is the longest one covering the entry's addresses (ties are
 * impossible: two routes of one depth covering one address are the same).
 *   add d/nh  writes the entries in its range whose depth is <= d (an
 *             entry with a longer route stays; depth == d is this very
 *             route being replaced);
 *   del d     writes the entries in its range whose depth is == d (exactly
 *             the ones it owned) with the next-shorter covering route,
 *             found by probing the rule hash for each shorter depth that
 *             has rules (at most 31 probes).
 * A group counts its entries deeper than /24; when a delete brings that to
 * 0 all 256 entries are equal and the group folds back into tbl24. The
 * only allocation an update can need (one group, for depth > 24) is made
 * before anything is written, so a failed update changes nothing and
 * every successful one leaves the tables exactly as if they had been
 * built from scratch with the current rule set.
 *
 * Rules: open addressing, linear probing, backward-shift deletion, one
 * uint64_t per slot: prefix << 32 | depth << 24 | nh; UINT64_MAX is a free
 * slot (depth 255). Kept at most 7/8 full.
 *
 * Memory: tbl24 64 MiB + 1 KiB and 2 bytes per tbl8 group (allocated by
 * doubling) + 8 bytes per rule slot (2^ceil(log2(max_rules * 8/7))).
 * For the synthetic 1,000,000-route table of scripts/gen-routes (45 routes
 * longer than /24): 64 MiB + 64 KiB of groups + 16 MiB of rules = 80 MiB
 * allocated, 71 MiB touched (tbl24 pages of unused space stay unbacked).
 *
 * Measured (bench/lpm.sh, docs/BENCHMARKS.md; shared 2-vCPU EPYC VM,
 * medians, the range over four runs of one afternoon): loading 1,000,000
 * routes 0.17-0.20 s; random addresses 63-75 M lookups/s scalar, 79-95 M/s
 * with nf_lpm4_lookup_bulk() on blocks of 64; addresses inside routes 62-87
 * and 78-106 M/s; a delete or add of a random route 0.28-0.32 us, a /8
 * 43-54 us, a /4 0.73-0.84 ms. A lookup is one cache and TLB miss (tbl24 is 64 MiB of 4 KiB
 * pages); the bulk call's prefetch pass and AVX2 gathers keep more of them
 * in flight than the scalar loop's out-of-order window does.
 */
#include "nf_lpm4.h"
#include "nf_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY		UINT64_MAX
#define NO_GROUP	UINT32_MAX
#define GROUPS_MAX	(1u << 24)	/* group indices are 24-bit */

static inline uint32_t mask_of(uint8_t depth)
{
	return depth ? 0xffffffffu << (32 - depth) : 0;
}

static inline uint32_t entry(uint8_t depth, uint32_t nh)
{
	return (uint32_t)depth << 24 | nh;
}

static inline uint8_t depth_of(uint32_t e)
{
	return (uint8_t)((e & NF_LPM4_DEPTH) >> 24);
}

static const char *ip_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
	return buf;
}

/* ---- the rule store ---- */

static inline uint64_t rule_key(uint32_t prefix, uint8_t depth)
{
	return (uint64_t)prefix << 8 | depth;
}

static inline uint32_t rule_slot(const struct nf_lpm4 *l, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & l->rules_mask;
}

/* Slot holding @key, or the free slot where it would go. */
static uint32_t rule_find(const struct nf_lpm4 *l, uint32_t prefix,
			  uint8_t depth)
{
	uint64_t key = rule_key(prefix, depth);
	uint32_t i = rule_slot(l, key);

	while (l->rules[i] != EMPTY && l->rules[i] >> 24 != key)
		i = (i + 1) & l->rules_mask;
	return i;
}

static void rule_remove(struct nf_lpm4 *l, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & l->rules_mask;
		if (l->rules[j] == EMPTY)
			break;
		home = rule_slot(l, l->rules[j] >> 24);
		/* Move j into the hole unless its home lies cyclically in
		 * (i, j]. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			l->rules[i] = l->rules[j];
			i = j;
		}
	}
	l->rules[i] = EMPTY;
}

/* The longest rule strictly shorter than @depth covering @prefix, as a
 * table entry (0: none; the default route is not in the tables). */
static uint32_t covering(const struct nf_lpm4 *l, uint32_t prefix,
			 uint8_t depth)
{
	uint8_t d;

	for (d = depth - 1; d >= 1; d--) {
		uint32_t i;

		if (l->per_depth[d] == 0)
			continue;
		i = rule_find(l, prefix & mask_of(d), d);
		if (l->rules[i] != EMPTY)
			return entry(d, (uint32_t)l->rules[i] & NF_LPM4_VAL);
	}
	return 0;
}

/* ---- tbl8 groups ---- */

/* Make sure one group can be taken without allocating. */
static int group_reserve(struct nf_lpm4 *l)
{
	uint32_t cap;
	void *p;

	if (l->free_head != NO_GROUP || l->groups_top < l->groups_cap)
		return 0;
	if (l->groups_cap >= GROUPS_MAX) {
		nf_set_error("IPv4 route table: all %u tbl8 groups are in use",
			     GROUPS_MAX);
		return -ENOSPC;
	}
	cap = l->groups_cap ? l->groups_cap * 2 : 64;
	if (cap > GROUPS_MAX)
		cap = GROUPS_MAX;
	p = realloc(l->tbl8, (size_t)cap * 256 * sizeof(uint32_t));
	if (p == NULL)
		goto nomem;
	l->tbl8 = p;
	p = realloc(l->g_long, (size_t)cap * sizeof(uint16_t));
	if (p == NULL)
		goto nomem;
	l->g_long = p;
	l->groups_cap = cap;
	return 0;
nomem:
	nf_set_error("IPv4 route table: out of memory for %u tbl8 groups", cap);
	return -ENOMEM;
}

static uint32_t group_take(struct nf_lpm4 *l)
{
	uint32_t g;

	if (l->free_head != NO_GROUP) {
		g = l->free_head;
		l->free_head = l->tbl8[(size_t)g << 8];
	} else {
		g = l->groups_top++;
	}
	l->groups++;
	return g;
}

static void group_put(struct nf_lpm4 *l, uint32_t g)
{
	l->tbl8[(size_t)g << 8] = l->free_head;
	l->free_head = g;
	l->groups--;
}

/* ---- the API ---- */

int nf_lpm4_create(struct nf_lpm4 **out, uint32_t max_rules)
{
	struct nf_lpm4 *l;
	uint32_t size = 64;

	*out = NULL;
	if (max_rules < 1 || max_rules > NF_LPM_RULES_MAX) {
		nf_set_error("IPv4 route table of %u rules is out of range "
			     "(1..%u)", max_rules, NF_LPM_RULES_MAX);
		return -EINVAL;
	}
	while ((uint64_t)size * 7 / 8 < max_rules)
		size <<= 1;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		goto nomem;
	l->tbl24 = calloc((size_t)1 << 24, sizeof(uint32_t));
	l->rules = malloc((size_t)size * sizeof(uint64_t));
	if (l->tbl24 == NULL || l->rules == NULL)
		goto nomem;
	memset(l->rules, 0xff, (size_t)size * sizeof(uint64_t));
	l->rules_mask = size - 1;
	l->max_rules = max_rules;
	l->dflt = NF_LPM_MISS;
	l->free_head = NO_GROUP;
	*out = l;
	return 0;
nomem:
	nf_lpm4_free(l);
	nf_set_error("IPv4 route table of %u rules: out of memory", max_rules);
	return -ENOMEM;
}

void nf_lpm4_free(struct nf_lpm4 *l)
{
	if (l == NULL)
		return;
	free(l->tbl24);
	free(l->tbl8);
	free(l->g_long);
	free(l->rules);
	free(l);
}

static int check_args(uint32_t prefix, uint8_t depth, const char *what)
{
	char a[16], b[16];

	if (depth > 32) {
		nf_set_error("cannot %s IPv4 route %s/%u: depth out of range "
			     "(0..32)", what, ip_str(prefix, a), depth);
		return -EINVAL;
	}
	if (prefix & ~mask_of(depth)) {
		nf_set_error("cannot %s IPv4 route %s/%u: host bits set "
			     "(the prefix is %s/%u)", what, ip_str(prefix, a),
			     depth, ip_str(prefix & mask_of(depth), b), depth);
		return -EINVAL;
	}
	return 0;
}

/* Write @e into the entries of tbl24[first .. first+n-1] (and of their
 * groups) whose depth is <= @depth. */
static void fill24(struct nf_lpm4 *l, uint32_t first, uint32_t n,
		   uint8_t depth, uint32_t e)
{
	uint32_t i, j;

	for (i = first; i < first + n; i++) {
		uint32_t t = l->tbl24[i];

		if (t & NF_LPM4_EXT) {
			uint32_t *g = &l->tbl8[(size_t)(t & NF_LPM4_VAL) << 8];

			for (j = 0; j < 256; j++)
				if (depth_of(g[j]) <= depth)
					g[j] = e;
		} else if (depth_of(t) <= depth) {
			l->tbl24[i] = e;
		}
	}
}

int nf_lpm4_add(struct nf_lpm4 *l, uint32_t prefix, uint8_t depth,
		uint32_t nh)
{
	char a[16];
	uint32_t slot, e;
	int ret;

	ret = check_args(prefix, depth, "add");
	if (ret < 0)
		return ret;
	if (nh > NF_LPM_NH_MAX) {
		nf_set_error("cannot add IPv4 route %s/%u: next hop %u is out "
			     "of range (0..%u)", ip_str(prefix, a), depth, nh,
			     NF_LPM_NH_MAX);
		return -EINVAL;
	}
	slot = rule_find(l, prefix, depth);
	if (l->rules[slot] == EMPTY) {
		if (l->count >= l->max_rules) {
			nf_set_error("cannot add IPv4 route %s/%u: the table is "
				     "full (%u rules)", ip_str(prefix, a), depth,
				     l->max_rules);
			return -ENOSPC;
		}
		if (depth > 24 && !(l->tbl24[prefix >> 8] & NF_LPM4_EXT)) {
			ret = group_reserve(l);
			if (ret < 0)
				return ret;
		}
		l->count++;
		l->per_depth[depth]++;
	}
	l->rules[slot] = (uint64_t)prefix << 32 | (uint64_t)depth << 24 | nh;

	if (depth == 0) {
		l->dflt = nh;
		return 0;
	}
	e = entry(depth, nh);
	if (depth <= 24) {
		fill24(l, prefix >> 8, 1u << (24 - depth), depth, e);
	} else {
		uint32_t *t = &l->tbl24[prefix >> 8], *g, j, first, n;
		uint32_t gi;

		if (!(*t & NF_LPM4_EXT)) {
			/* A new group repeats the /24's entry, then takes
			 * its place. */
			gi = group_take(l);
			g = &l->tbl8[(size_t)gi << 8];
			for (j = 0; j < 256; j++)
				g[j] = *t;
			l->g_long[gi] = 0;
			*t = NF_LPM4_EXT | gi;
		}
		gi = *t & NF_LPM4_VAL;
		g = &l->tbl8[(size_t)gi << 8];
		first = prefix & 0xff;
		n = 1u << (32 - depth);
		for (j = first; j < first + n; j++) {
			uint8_t old = depth_of(g[j]);

			if (old <= depth) {
				l->g_long[gi] += old <= 24;
				g[j] = e;
			}
		}
	}
	return 0;
}

int nf_lpm4_del(struct nf_lpm4 *l, uint32_t prefix, uint8_t depth)
{
	char a[16];
	uint32_t slot, rep, i, j;
	int ret;

	ret = check_args(prefix, depth, "delete");
	if (ret < 0)
		return ret;
	slot = rule_find(l, prefix, depth);
	if (l->rules[slot] == EMPTY) {
		nf_set_error("cannot delete IPv4 route %s/%u: no such route",
			     ip_str(prefix, a), depth);
		return -ENOENT;
	}
	rule_remove(l, slot);
	l->count--;
	l->per_depth[depth]--;
	if (depth == 0) {
		l->dflt = NF_LPM_MISS;
		return 0;
	}
	rep = covering(l, prefix, depth);
	if (depth <= 24) {
		uint32_t first = prefix >> 8, n = 1u << (24 - depth);

		for (i = first; i < first + n; i++) {
			uint32_t t = l->tbl24[i];

			if (t & NF_LPM4_EXT) {
				uint32_t *g = &l->tbl8[(size_t)(t & NF_LPM4_VAL) << 8];

				for (j = 0; j < 256; j++)
					if (depth_of(g[j]) == depth)
						g[j] = rep;
			} else if (depth_of(t) == depth) {
				l->tbl24[i] = rep;
			}
		}
	} else {
		uint32_t *t = &l->tbl24[prefix >> 8];
		uint32_t gi = *t & NF_LPM4_VAL, *g = &l->tbl8[(size_t)gi << 8];
		uint32_t first = prefix & 0xff, n = 1u << (32 - depth);

		for (j = first; j < first + n; j++) {
			if (depth_of(g[j]) == depth) {
				l->g_long[gi] -= depth_of(rep) <= 24;
				g[j] = rep;
			}
		}
		if (l->g_long[gi] == 0) {
			/* Only the /24's own route is left: all 256 equal. */
			*t = g[0];
			group_put(l, gi);
		}
	}
	return 0;
}

int nf_lpm4_get(const struct nf_lpm4 *l, uint32_t prefix, uint8_t depth,
		uint32_t *nh)
{
	char a[16];
	uint32_t slot;
	int ret;

	ret = check_args(prefix, depth, "find");
	if (ret < 0)
		return ret;
	slot = rule_find(l, prefix, depth);
	if (l->rules[slot] == EMPTY) {
		nf_set_error("IPv4 route %s/%u: no such route",
			     ip_str(prefix, a), depth);
		return -ENOENT;
	}
	*nh = (uint32_t)l->rules[slot] & NF_LPM4_VAL;
	return 0;
}

uint32_t nf_lpm4_count(const struct nf_lpm4 *l)
{
	return l->count;
}

int nf_lpm4_foreach(const struct nf_lpm4 *l,
		    int (*cb)(uint32_t prefix, uint8_t depth, uint32_t nh,
			      void *arg),
		    void *arg)
{
	uint32_t i;
	int ret;

	for (i = 0; i <= l->rules_mask; i++) {
		uint64_t r = l->rules[i];

		if (r == EMPTY)
			continue;
		ret = cb((uint32_t)(r >> 32), (uint8_t)(r >> 24),
			 (uint32_t)r & NF_LPM4_VAL, arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

void nf_lpm4_stats(const struct nf_lpm4 *l, struct nf_lpm_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rules = l->count;
	st->max_rules = l->max_rules;
	st->groups = l->groups;
	st->groups_cap = l->groups_cap;
	st->tbl_bytes = ((size_t)1 << 24) * sizeof(uint32_t);
	st->group_bytes = (size_t)l->groups_cap *
			  (256 * sizeof(uint32_t) + sizeof(uint16_t));
	st->rule_bytes = ((size_t)l->rules_mask + 1) * sizeof(uint64_t);
	st->total_bytes = st->tbl_bytes + st->group_bytes + st->rule_bytes +
			  sizeof(*l);
}

/* Bulk lookups go by blocks of up to 64 addresses: first a prefetch of
 * every tbl24 entry of the block, so that their cache misses overlap,
 * then the reads, 8 at a time with an AVX2 gather when the build has it
 * (falling back to the scalar loop from the first group of 8 that has a
 * tbl8 step). */
#define BULK_BLOCK 64

#ifdef __AVX2__
#include <immintrin.h>

/* Entries of ips[k..m-1] by 8; returns where the scalar loop goes on. */
static unsigned bulk_avx2(const struct nf_lpm4 *l, const uint32_t *ips,
			  uint32_t *nhs, unsigned k, unsigned m)
{
	const __m256i dmask = _mm256_set1_epi32((int)NF_LPM4_DEPTH);
	const __m256i vmask = _mm256_set1_epi32(NF_LPM4_VAL);
	const __m256i dflt = _mm256_set1_epi32((int)l->dflt);
	const __m256i zero = _mm256_setzero_si256();

	for (; k + 8 <= m; k += 8) {
		__m256i ip = _mm256_loadu_si256((const __m256i *)(ips + k));
		__m256i e = _mm256_i32gather_epi32((const int *)l->tbl24,
						   _mm256_srli_epi32(ip, 8), 4);
		__m256i none, r;

		/* EXT is the sign bit. */
		if (nf_unlikely(_mm256_movemask_ps(_mm256_castsi256_ps(e))))
			break;
		none = _mm256_cmpeq_epi32(_mm256_and_si256(e, dmask), zero);
		r = _mm256_blendv_epi8(_mm256_and_si256(e, vmask), dflt, none);
		_mm256_storeu_si256((__m256i *)(nhs + k), r);
	}
	return k;
}
#endif

void nf_lpm4_lookup_bulk(const struct nf_lpm4 *l, const uint32_t *ips,
			 uint32_t *nhs, unsigned n)
{
	const uint32_t *tbl24 = l->tbl24, *tbl8 = l->tbl8;
	uint32_t dflt = l->dflt;
	unsigned i, k, m;

	for (i = 0; i < n; i += m) {
		m = NF_MIN(n - i, BULK_BLOCK);
		for (k = 0; k < m; k++)
			__builtin_prefetch(&tbl24[ips[i + k] >> 8]);
		k = 0;
#ifdef __AVX2__
		k = bulk_avx2(l, ips + i, nhs + i, 0, m);
#endif
		for (; k < m; k++) {
			uint32_t ip = ips[i + k], e = tbl24[ip >> 8];

			if (nf_unlikely(e & NF_LPM4_EXT))
				e = tbl8[(size_t)(e & NF_LPM4_VAL) << 8 |
					 (ip & 0xff)];
			nhs[i + k] = (e & NF_LPM4_DEPTH) ? (e & NF_LPM4_VAL) : dflt;
		}
	}
}
