/* nf_hash.h - symmetric flow hashing and consistent replica selection for
 * the switch's groups (replicas of one VNF type).
 *
 *   hash = nf_hash_flow(frame, &hdrs, seed);	  per packet
 *   member = nf_hash_pick(group, hash);	  per packet, O(1)
 *
 * nf_hash_flow() is symmetric: both directions of a connection (A:a -> B:b
 * and B:b -> A:a) give the same value, so a NAT or a stateful firewall
 * replica sees both. ICMP errors hash as the flow they quote, SRv6 (any
 * IPv4/IPv6 inside IPv6) as the inner flow. See nf_hash.c for the key of
 * every kind of frame and the choices made (fragments, non-IP).
 *
 * A group is a Maglev lookup table (Eisenbud et al., NSDI 2016) of a prime
 * number of entries, each naming one of up to NF_HASH_MEMBERS_MAX members
 * (indices 0..63, the caller's numbering of its replicas). Tables change
 * minimally: when members go down exactly their flows move (each to a
 * remaining member), when members come up only flows that go to them move.
 * Tables are built off the packet path into a second group and published
 * by the caller's pointer swap:
 *
 *   nf_hash_group_build(spare, live, new_up);	 control thread
 *   atomic_store(&group, spare);		 readers see old or new
 *   ... once no reader holds the old one, it becomes the spare.
 */
#ifndef NF_HASH_H
#define NF_HASH_H

#include "nf_parse.h"

#include <stdint.h>

#define NF_HASH_MEMBERS_MAX	64
#define NF_HASH_NONE		255u	/* nf_hash_pick(): no member is up */
#define NF_HASH_SIZE_DEFAULT	65537u	/* prime; 1024 entries a member at 64 */
#define NF_HASH_SIZE_MIN	67u	/* the smallest prime above MEMBERS_MAX */
#define NF_HASH_SIZE_MAX	16777213u /* the largest prime below 2^24 */

/* The symmetric hash of the flow of @frame, whose headers nf_parse()
 * parsed into @h successfully (NF_PERR_OK; any other result and the
 * behaviour is undefined). Reads only bytes nf_parse() proved to be in
 * the frame ([0, 14) and the IP packet [l3_off, l3_off + l3_len)) and
 * checks everything past the headers it recorded (quoted and inner
 * packets) before reading it. @seed diversifies the function (two
 * switches, or two groups, with different seeds split flows differently).
 * Pure: no state, no allocation. Cost: nf_hash.c's file comment. */
uint32_t nf_hash_flow(const uint8_t *frame, const struct nf_hdrs *h,
		      uint32_t seed);

/* A replica group's lookup table. Read-only for callers except through
 * the functions below; allocated by nf_hash_group_new(). */
struct nf_hash_group {
	uint32_t size;		/* table entries, prime */
	uint32_t seed;		/* of the members' permutations */
	uint64_t up;		/* bit i: member i is up (owns entries) */
	uint32_t count[NF_HASH_MEMBERS_MAX];	/* entries member i owns */
	uint8_t table[];	/* size entries: a member, or NF_HASH_NONE */
};

/* The member that serves @hash in @g: an index whose bit is set in
 * g->up, or NF_HASH_NONE when no member is up. The entry is chosen by
 * the high bits of @hash (multiply-shift, no division): with @g in a
 * register, 5 instructions (load size, zero-extend, multiply, shift, byte
 * load; bench/hash.sh counts 7 in a noinline wrapper with its call and
 * return). One cache line of the table per packet (64 KiB at 65537). */
static inline unsigned nf_hash_pick(const struct nf_hash_group *g,
				    uint32_t hash)
{
	return g->table[(uint32_t)(((uint64_t)hash * g->size) >> 32)];
}

/* Allocate a group of @size entries (a prime in [NF_HASH_SIZE_MIN,
 * NF_HASH_SIZE_MAX]; NF_HASH_SIZE_DEFAULT unless memory is tight: one
 * byte per entry) whose members' permutations derive from @seed, with no
 * member up (every pick is NF_HASH_NONE). Returns 0 and *@out, -EINVAL
 * (@size not such a prime) or -ENOMEM, with nf_set_error(). */
int nf_hash_group_new(uint32_t size, uint32_t seed, struct nf_hash_group **out);

/* Free a group from nf_hash_group_new(); NULL is ignored. */
void nf_hash_group_free(struct nf_hash_group *g);

/* Make @dst the table for the members in @up (bit i: member i is up),
 * changed minimally from @src (which may be @dst itself: in place, for a
 * caller that does not publish by pointer swap), in this order:
 *   1. members up in @src and not in @up are removed: their entries, and
 *      no others, are refilled from the members that stay, the one with
 *      the fewest entries first, each in its own permutation's order;
 *   2. members in @up and not up in @src are added one by one, lowest
 *      index first: each takes entries, in its permutation's order, from
 *      the members with the most entries until it has floor(size / n)
 *      of them (n: members up with it), no other entry changes.
 * So a flow changes member only if its old member went down or its new
 * member came up. With @src NULL, or no member up in @src, @dst is the
 * plain Maglev table of @up (members taking entries round robin in their
 * permutations' order). Balance: the counts of the members up differ by
 * at most 2 after any sequence of builds (1 after a plain build).
 * @src and @dst must have the same size and seed (-EINVAL otherwise).
 * Allocates nothing; O(size) time plus O(size) for each member added or
 * the removal (milliseconds at 65537 entries). Returns 0 or -EINVAL. */
int nf_hash_group_build(struct nf_hash_group *dst,
			const struct nf_hash_group *src, uint64_t up);

#endif
