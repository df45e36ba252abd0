/* nf_lpm6.h - IPv6 longest-prefix match for the nf-router VNF.
 *
 * Structure (design, invariants and measured costs in nf_lpm6.c): a
 * multibit trie, leaf-pushed, like DPDK's rte_lpm6 but with narrower
 * groups below the first level:
 *   tbl24   2^24 32-bit entries for the first 24 bits: 64 MiB of address
 *           space, calloc'd; only the pages routes touch get backed (all
 *           routes live in 2000::/3, 1/8 of it; a full table backs < 1 MiB).
 *   groups  NF_LPM6_STRIDE (4) bits each: 16 entries (64 bytes), taken on
 *           demand below an entry that has longer routes under it and
 *           returned when the last of them goes; the group array grows by
 *           doubling. A /48 is tbl24 + 6 groups.
 *   rules   the configured routes in an open-addressing hash table (24
 *           bytes a slot, at most 7/8 full): exact get, replace, delete,
 *           foreach, and "what covers this prefix" after a delete.
 * An entry is  EXT(1) | VALID(1) | depth code(6) | next hop or group(24).
 * The ::/0 default route lives outside the tables.
 * For 200,000 BGP-like routes: ~450,000 groups, 29 MiB (+6 MiB of rules).
 * With NF_LPM6_STRIDE 8 (DPDK's layout, 1 KiB groups) the same table
 * takes 190 MiB but a /48 is 3 levels shorter: ~1.6x the bulk lookup
 * rate of addresses inside routes. See nf_lpm6.c.
 *
 * Addresses and prefixes are 16-byte arrays in network byte order. Next
 * hops are 0 .. NF_LPM_NH_MAX (2^24 - 1), as for IPv4.
 *
 * Not thread-safe: one thread does the lookups and the updates (between
 * bursts), no locking. A failed update changes nothing; a successful one
 * leaves the tables exactly as a fresh load of the new rule set would
 * answer, never a mixture.
 */
#ifndef NF_LPM6_H
#define NF_LPM6_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#ifndef NF_LPM_COMMON
#define NF_LPM_COMMON
/* What nf_lpm{4,6}_lookup_bulk() stores for an address without a route,
 * and what nf_lpm{4,6}_lookup() stores in *nh when it returns -ENOENT. */
#define NF_LPM_MISS	UINT32_MAX
/* The largest next hop a route may carry (next hops are 24-bit). */
#define NF_LPM_NH_MAX	((1u << 24) - 1)
/* The largest max_rules of nf_lpm{4,6}_create(). */
#define NF_LPM_RULES_MAX (1u << 26)

/* Sizes, for reports (nf_lpm4_stats(), nf_lpm6_stats()). */
struct nf_lpm_stats {
	uint32_t rules;		/* configured routes, the default included */
	uint32_t max_rules;
	uint32_t groups;	/* tbl8 groups in use */
	uint32_t groups_cap;	/* tbl8 groups allocated (used + free) */
	size_t tbl_bytes;	/* the first-level table */
	size_t group_bytes;	/* the allocated groups and their metadata */
	size_t rule_bytes;	/* the rule hash table */
	size_t total_bytes;	/* all of the above and the handle */
};
#endif

/* Private: read by the inline lookup below, written by nf_lpm6.c only. */
#define NF_LPM6_STRIDE	4		/* bits per group level: 4 or 8 */
#define NF_LPM6_EXT	0x80000000u	/* the entry points to a group */
#define NF_LPM6_VALID	0x40000000u	/* the entry has a route */
#define NF_LPM6_CODE	0x3f000000u	/* depth code, see nf_lpm6.c */
#define NF_LPM6_VAL	0x00ffffffu	/* next hop, or group index when EXT */

struct nf_lpm6_rule;

struct nf_lpm6 {
	uint32_t *tbl24;	/* 1 << 24 entries */
	uint32_t *tbl8;		/* groups_cap << NF_LPM6_STRIDE entries */
	uint32_t dflt;		/* next hop of ::/0, or NF_LPM_MISS */
	/* --- the rest is only used by updates --- */
	uint32_t *g_inh;	/* per group: the entry it inherits */
	uint8_t *g_inhd;	/* per group: depth of that route */
	uint16_t *g_own;	/* per group: entries not inherited */
	uint32_t groups, groups_cap, groups_top, free_head;
	struct nf_lpm6_rule *rules;
	uint32_t rules_mask, count, max_rules;
	uint32_t per_depth[129];	/* rules of each depth */
};

/* Create an empty table for up to @max_rules routes (1 .. NF_LPM_RULES_MAX;
 * the default route counts as one). Allocates tbl24 (64 MiB, zeroed
 * lazily by the kernel) and the rule hash. Returns 0 and *out, or -EINVAL
 * (max_rules out of range) or -ENOMEM, with a sentence (nf_last_error). */
int nf_lpm6_create(struct nf_lpm6 **out, uint32_t max_rules);

/* Free a table and everything in it. NULL is fine. */
void nf_lpm6_free(struct nf_lpm6 *l);

/* Add the route @prefix/@depth -> @nh, or replace the next hop of that
 * route when it exists. @depth 0..128 (0 is the default route); @prefix
 * must have no bits set past @depth; @nh 0..NF_LPM_NH_MAX.
 * Cost: a walk down one group per NF_LPM6_STRIDE bits past 24 (creating
 * the missing ones, 16 entries each), then the route's entries in its
 * last level (2^(24-depth) tbl24 entries for depth <= 24, at most 16 in a
 * group), plus every group below those entries whose inherited route is
 * no deeper than this one (leaf pushing): ~1 us for a /48, 3-11 ms for a
 * /12 over a full table, 16-32 ms for 2000::/3. O(1) for /0.
 * Returns 0, or (with a sentence, and nothing changed):
 *   -EINVAL  depth > 128, host bits set, nh > NF_LPM_NH_MAX
 *   -ENOSPC  max_rules routes are already configured, or the 2^24
 *            groups are all in use
 *   -ENOMEM  growing the group array failed */
int nf_lpm6_add(struct nf_lpm6 *l, const uint8_t prefix[16], uint8_t depth,
		uint32_t nh);

/* Delete the route @prefix/@depth. The addresses it covered go back to the
 * next-shorter route that covers them (or to no route); groups left
 * without routes of their own are returned. Never allocates.
 * Returns 0, or -EINVAL (depth > 128, host bits set) or -ENOENT (no such
 * route), with a sentence. */
int nf_lpm6_del(struct nf_lpm6 *l, const uint8_t prefix[16], uint8_t depth);

/* The next hop of exactly the route @prefix/@depth (not a longest match).
 * Returns 0 and *nh, or -EINVAL (bad depth, host bits set) or -ENOENT,
 * with a sentence; *nh is untouched on failure. */
int nf_lpm6_get(const struct nf_lpm6 *l, const uint8_t prefix[16],
		uint8_t depth, uint32_t *nh);

/* Number of routes configured (the default route included). */
uint32_t nf_lpm6_count(const struct nf_lpm6 *l);

/* Call @cb once for every route, in no particular order, until it returns
 * non-zero. @cb must not change the table. Returns 0 when every route was
 * visited, or @cb's non-zero value. */
int nf_lpm6_foreach(const struct nf_lpm6 *l,
		    int (*cb)(const uint8_t prefix[16], uint8_t depth,
			      uint32_t nh, void *arg),
		    void *arg);

/* Fill @st with the current sizes (bytes allocated, not pages touched). */
void nf_lpm6_stats(const struct nf_lpm6 *l, struct nf_lpm_stats *st);

static inline uint64_t nf_lpm6_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap64(v);
}

/* Longest-prefix match for @ip. Returns 0 and the next hop in *nh, or
 * -ENOENT with *nh = NF_LPM_MISS. Never allocates, never fails otherwise,
 * sets no error sentence. One load per level: tbl24, then one group per
 * NF_LPM6_STRIDE bits while the entry points further down. */
static inline int nf_lpm6_lookup(const struct nf_lpm6 *l, const uint8_t ip[16],
				 uint32_t *nh)
{
	uint64_t hi = nf_lpm6_be64(ip);
	uint32_t e = l->tbl24[hi >> 40], r;

	if (e & NF_LPM6_EXT) {
		unsigned __int128 a = ((unsigned __int128)hi << 64 |
				       nf_lpm6_be64(ip + 8)) << 24;

		do {
			e = l->tbl8[(size_t)(e & NF_LPM6_VAL) << NF_LPM6_STRIDE |
				    (uint32_t)(a >> (128 - NF_LPM6_STRIDE))];
			a <<= NF_LPM6_STRIDE;
		} while (e & NF_LPM6_EXT);
	}
	r = (e & NF_LPM6_VALID) ? (e & NF_LPM6_VAL) : l->dflt;
	*nh = r;
	return r == NF_LPM_MISS ? -ENOENT : 0;
}

/* Look up @n addresses: @ips holds them back to back (16 bytes each, the
 * i-th at ips + 16 * i); nhs[i] = its next hop, or NF_LPM_MISS. Walks a
 * block of up to 64 addresses one level at a time, prefetching every
 * address's next entry before reading any, so that their cache misses
 * overlap: ~4x the scalar rate for addresses inside deep routes. Any @n,
 * 0 included. */
void nf_lpm6_lookup_bulk(const struct nf_lpm6 *l, const uint8_t *ips,
			 uint32_t *nhs, unsigned n);

#endif
