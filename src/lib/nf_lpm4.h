/* nf_lpm4.h - IPv4 longest-prefix match for the nf-router VNF (DIR-24-8).
 *
 * Structure (the design, its invariants and measured costs are in
 * nf_lpm4.c):
 *   tbl24   2^24 32-bit entries, one per /24: 64 MiB (calloc: a page is
 *           only backed once a route writes it).
 *   tbl8    groups of 256 32-bit entries (1 KiB) for the /24s that hold a
 *           route longer than /24, taken on demand and returned when the
 *           last such route goes; the group array grows by doubling.
 *   rules   the configured routes in an open-addressing hash table, 8 bytes
 *           a slot, at most 7/8 full (16 MiB for 1,000,000 rules): exact
 *           get, replace, delete, foreach, and "what covers this prefix"
 *           after a delete.
 * An entry is  EXT(1) | spare(1) | depth(6) | next hop or group(24);
 * depth 0 means "no route". The /0 default route lives outside the tables.
 * A lookup is one load from tbl24, a second one from a tbl8 group for
 * /24s that have longer routes, and a conditional move for the default.
 * 1,000,000 BGP-like routes: 80 MiB allocated, 71 MiB resident, loaded
 * in ~0.2 s; 63-75 M random lookups/s scalar, 79-95 M/s bulk (one core).
 *
 * Addresses and prefixes are uint32_t in HOST byte order (10.1.2.0 is
 * 0x0a010200). Next hops are 0 .. NF_LPM_NH_MAX (2^24 - 1).
 *
 * Not thread-safe: one thread does the lookups and the updates (between
 * bursts), no locking. A failed update changes nothing; a successful one
 * leaves the tables exactly as a fresh load of the new rule set would
 * answer, never a mixture.
 */
#ifndef NF_LPM4_H
#define NF_LPM4_H

#include <stddef.h>
#include <stdint.h>
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

/* Private: read by the inline lookups below, written by nf_lpm4.c only. */
#define NF_LPM4_EXT	0x80000000u	/* the entry points to a tbl8 group */
#define NF_LPM4_DEPTH	0x3f000000u	/* depth of the route, 0: none */
#define NF_LPM4_VAL	0x00ffffffu	/* next hop, or group index when EXT */

struct nf_lpm4 {
	uint32_t *tbl24;	/* 1 << 24 entries */
	uint32_t *tbl8;		/* groups_cap * 256 entries */
	uint32_t dflt;		/* next hop of 0.0.0.0/0, or NF_LPM_MISS */
	/* --- the rest is only used by updates --- */
	uint16_t *g_long;	/* per group: entries with depth > 24 */
	uint32_t groups, groups_cap, groups_top, free_head;
	uint64_t *rules;	/* hash slots, see nf_lpm4.c */
	uint32_t rules_mask, count, max_rules;
	uint32_t per_depth[33];	/* rules of each depth */
};

/* Create an empty table for up to @max_rules routes (1 .. NF_LPM_RULES_MAX;
 * the default route counts as one). Allocates tbl24 (64 MiB, zeroed
 * lazily by the kernel) and the rule hash. Returns 0 and *out, or -EINVAL
 * (max_rules out of range) or -ENOMEM, with a sentence (nf_last_error). */
int nf_lpm4_create(struct nf_lpm4 **out, uint32_t max_rules);

/* Free a table and everything in it. NULL is fine. */
void nf_lpm4_free(struct nf_lpm4 *l);

/* Add the route @prefix/@depth -> @nh, or replace the next hop of that
 * route when it exists. @depth 0..32 (0 is the default route); @prefix
 * must have no bits set past @depth; @nh 0..NF_LPM_NH_MAX.
 * Cost: 2^(24-depth) tbl24 entries for depth <= 24 (a /8 rewrites 65536,
 * plus 256 per tbl8 group in its range), 2^(32-depth) tbl8 entries and
 * perhaps one new group (256 entries) for depth > 24; O(1) for /0.
 * Returns 0, or (with a sentence, and nothing changed):
 *   -EINVAL  depth > 32, host bits set, nh > NF_LPM_NH_MAX
 *   -ENOSPC  max_rules routes are already configured, or the 2^24 tbl8
 *            groups are all in use
 *   -ENOMEM  growing the tbl8 group array failed */
int nf_lpm4_add(struct nf_lpm4 *l, uint32_t prefix, uint8_t depth,
		uint32_t nh);

/* Delete the route @prefix/@depth. The addresses it covered go back to the
 * next-shorter route that covers them (or to no route). A tbl8 group whose
 * last route longer than /24 goes is returned. Never allocates.
 * Returns 0, or -EINVAL (depth > 32, host bits set) or -ENOENT (no such
 * route), with a sentence. */
int nf_lpm4_del(struct nf_lpm4 *l, uint32_t prefix, uint8_t depth);

/* The next hop of exactly the route @prefix/@depth (not a longest match).
 * Returns 0 and *nh, or -EINVAL (bad depth, host bits set) or -ENOENT,
 * with a sentence; *nh is untouched on failure. */
int nf_lpm4_get(const struct nf_lpm4 *l, uint32_t prefix, uint8_t depth,
		uint32_t *nh);

/* Number of routes configured (the default route included). */
uint32_t nf_lpm4_count(const struct nf_lpm4 *l);

/* Call @cb once for every route, in no particular order, until it returns
 * non-zero. @cb must not change the table. Returns 0 when every route was
 * visited, or @cb's non-zero value. */
int nf_lpm4_foreach(const struct nf_lpm4 *l,
		    int (*cb)(uint32_t prefix, uint8_t depth, uint32_t nh,
			      void *arg),
		    void *arg);

/* Fill @st with the current sizes (bytes allocated, not pages touched). */
void nf_lpm4_stats(const struct nf_lpm4 *l, struct nf_lpm_stats *st);

/* Longest-prefix match for @ip (host order). Returns 0 and the next hop in
 * *nh, or -ENOENT with *nh = NF_LPM_MISS. Never allocates, never fails
 * otherwise, sets no error sentence. Branch-free but for the tbl8 step,
 * so that independent lookups overlap their cache misses. */
static inline int nf_lpm4_lookup(const struct nf_lpm4 *l, uint32_t ip,
				 uint32_t *nh)
{
	uint32_t e = l->tbl24[ip >> 8], r;

	if (__builtin_expect(!!(e & NF_LPM4_EXT), 0))
		e = l->tbl8[(size_t)(e & NF_LPM4_VAL) << 8 | (ip & 0xff)];
	r = (e & NF_LPM4_DEPTH) ? (e & NF_LPM4_VAL) : l->dflt;
	*nh = r;
	return r == NF_LPM_MISS ? -ENOENT : 0;
}

/* Look up @n addresses: nhs[i] = next hop of ips[i], or NF_LPM_MISS.
 * Prefetches the tbl24 entries of a block of up to 64 addresses before
 * reading them (8 at a time with an AVX2 gather when built for AVX2), so
 * that the cache misses of random addresses overlap. Any @n, 0 included. */
void nf_lpm4_lookup_bulk(const struct nf_lpm4 *l, const uint32_t *ips,
			 uint32_t *nhs, unsigned n);

#endif
