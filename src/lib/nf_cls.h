/* nf_cls.h - packet classification over a parsed rule set (nf_rule.h)
 * whose cost does not grow with the number of rules.
 *
 * nf_cls_build() turns a rule set into an immutable decision tree per
 * family (HyperSplit: each node cuts one field's range in two where it
 * best separates the rules; a leaf holds at most a handful of rules, in
 * rule order, each verified on every field). A lookup walks the tree
 * (a few dozen comparisons) and checks the leaf's rules; the result is
 * exactly that of the first-match linear scan over the rules
 * (nf_cls_match_linear(), the reference the tests compare against).
 *
 * The built classifier is read-only: the data path reads one while the
 * control path builds the next, then swaps a pointer (atomic rule-set
 * replacement). Building allocates; matching never does.
 */
#ifndef NF_CLS_H
#define NF_CLS_H

#include "nf_parse.h"
#include "nf_rule.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What a rule can look at, taken from one packet. */
struct nf_cls_key {
	nf_u128 src, dst;	/* as nf_range: IPv4 host order (< 2^32),
				 * IPv6 big-endian; 0 for other frames */
	uint16_t sport, dport;	/* transport bytes 0-1 and 2-3, host order */
	uint8_t family;		/* 4 or 6 (others match nothing but family-0
				 * rules without IP matches) */
	uint8_t proto;		/* meta l4proto: IPv4 protocol / last next hdr */
	uint8_t nexthdr;	/* IPv6 header's own next-header field */
	uint8_t dscp;
	uint8_t tcp_flags;	/* TCP only */
	uint8_t ct;		/* one NF_RULE_CT_* bit (caller sets it) */
	uint8_t iif, oif;	/* port numbers (caller sets them) */
	bool l4;		/* the transport header is there (first
				 * fragment and long enough for the fields
				 * the rules read: 4 bytes, TCP 14) */
};

/* Fill @k from the parsed frame (@h from nf_parse()); iif, oif and ct
 * are left for the caller. */
void nf_cls_key_of(const uint8_t *f, const struct nf_hdrs *h, struct nf_cls_key *k);

struct nf_cls;

struct nf_cls_stats {
	uint32_t rules;
	uint32_t trees;		/* over the three key families */
	uint32_t nodes, leaves;
	uint32_t depth_max;	/* longest root-to-leaf path */
	uint32_t leaf_max;	/* most rules in one leaf */
	size_t bytes;		/* held by the classifier */
	size_t build_peak;	/* most held while building: what the bound limits */
};

/* Build the classifier of @rs (which may be freed afterwards: the
 * classifier keeps its own copy of what it needs). 0, -ENOMEM, or -E2BIG
 * (the tree would pass its memory bound; nf_last_error() says). */
int nf_cls_build(const struct nf_ruleset *rs, struct nf_cls **out);

/* The memory bound of nf_cls_build(): rules, trees and leaves together.
 * Rules that overlap on different fields are copied into many leaves
 * (cross products); past this the build stops with -E2BIG. */
#define NF_CLS_BYTES_MAX	((size_t)256 << 20)
/* nf_cls_build() with another bound (tests, tools). */
int nf_cls_build_max(const struct nf_ruleset *rs, size_t max_bytes, struct nf_cls **out);
void nf_cls_free(struct nf_cls *c);
void nf_cls_get_stats(const struct nf_cls *c, struct nf_cls_stats *s);

/* Index of the first rule >= @from that matches @k, or UINT32_MAX.
 * Callers walk non-terminal (counter-only) rules by calling again with
 * from = result + 1. */
uint32_t nf_cls_match(const struct nf_cls *c, const struct nf_cls_key *k, uint32_t from);

/* The same by scanning @rs rule by rule: the reference. */
uint32_t nf_cls_match_linear(const struct nf_ruleset *rs, const struct nf_cls_key *k,
			     uint32_t from);

/* A key for an exact-match cache in front of nf_cls_match() (nf-firewall's
 * verdict cache, nfswitch's rule cache): every field nf_cls_key_of() takes,
 * read straight from the frame into six words (raw bytes: equal keys here
 * mean equal classifier keys, which is all a cache needs). w[5] bits 0-7
 * and 32 are the TCP flags and "transport header there"; the caller's
 * @meta (ct state, ports: what its rules also read) fills the other bits.
 * A key of an IPv4/IPv6 frame is never all zeros (w[4] holds the family):
 * a zeroed cache entry matches nothing IP. @ip_only: the caller has made
 * sure the frame is IPv4 or IPv6 (saves the tests). */
struct nf_cls_ckey {
	uint64_t w[6];
};

static inline void nf_cls_ckey_of(const uint8_t *f, const struct nf_hdrs *h, uint64_t meta,
				  struct nf_cls_ckey *c, bool ip_only)
{
	const uint8_t *ip = f + h->l3_off;
	uint64_t w4 = 0;

	c->w[1] = c->w[3] = 0;
	if (ip_only) {		/* the caller knows: IPv4 or IPv6 */
		if (h->ethertype == NF_ETH_P_IPV4)
			goto v4;
		goto v6;
	}
	c->w[0] = c->w[2] = 0;
	if (h->ethertype == NF_ETH_P_IPV4 && h->l3_len) {
v4:;
		uint32_t a, b;

		memcpy(&a, ip + 12, 4);
		memcpy(&b, ip + 16, 4);
		c->w[0] = a;
		c->w[2] = b;
		w4 = 4ull << 32 | (uint64_t)(ip[1] >> 2) << 56;
	} else if (h->ethertype == NF_ETH_P_IPV6 && h->l3_len) {
v6:
		memcpy(&c->w[0], ip + 8, 16);
		memcpy(&c->w[2], ip + 24, 16);
		w4 = 6ull << 32 | (uint64_t)ip[6] << 48 |
		     (uint64_t)((ip[0] & 0x0f) << 2 | ip[1] >> 6) << 56;
	} else {
		c->w[4] = 0;
		c->w[5] = meta;
		return;
	}
	w4 |= (uint64_t)h->l4_proto << 40;
	if (!(h->flags & NF_HDR_FRAG_LATER) &&
	    h->l4_len >= (h->l4_proto == NF_IPPROTO_TCP ? 14 : 4)) {
		const uint8_t *t = f + h->l4_off;
		uint32_t ports;

		memcpy(&ports, t, 4);
		w4 |= ports;
		meta |= 1ull << 32;
		if (h->l4_proto == NF_IPPROTO_TCP)
			meta |= t[13];
	}
	c->w[4] = w4;
	c->w[5] = meta;
}

static inline uint32_t nf_cls_ckey_hash(const struct nf_cls_ckey *c)
{
	uint64_t x = c->w[0] * 0x9e3779b97f4a7c15ull ^ c->w[1] * 0xc2b2ae3d27d4eb4full ^
		     c->w[2] * 0x165667b19e3779f9ull ^ c->w[3] * 0xd6e8feb86659fd93ull ^
		     c->w[4] * 0xff51afd7ed558ccdull ^ c->w[5] * 0xc4ceb9fe1a85ec53ull;

	return (uint32_t)(x >> 32 ^ x);
}

static inline bool nf_cls_ckey_eq(const struct nf_cls_ckey *a, const struct nf_cls_ckey *b)
{
	return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) |
		(a->w[3] ^ b->w[3]) | (a->w[4] ^ b->w[4]) | (a->w[5] ^ b->w[5])) == 0;
}

#endif
