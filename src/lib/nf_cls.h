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

#endif
