/* nf_rule.h - the firewall's rule language: a subset of nftables rule
 * syntax (what follows `nft add rule inet t c`), parsed into structs.
 *
 * One rule per line; '#' starts a comment; blank lines are ignored. A rule
 * is matches, then statements, then an optional comment:
 *
 *   iifname NAME | oifname NAME             (also meta iifname/oifname;
 *        NAME: a port name, "quoted" or not, "pre*" matches a prefix;
 *        != and { a, b } sets)
 *   meta nfproto ipv4|ipv6
 *   meta l4proto P | ip protocol P | ip6 nexthdr P
 *        P: tcp, udp, icmp, icmpv6, gre, esp, ... or 0..255
 *   ip saddr|daddr A    ip6 saddr|daddr A
 *        A: ADDR, ADDR/LEN (host bits are cleared, as nft does), ADDR-ADDR
 *   tcp|udp|th sport|dport PORT    PORT: N, N-M
 *   icmp type|code T    icmpv6 type|code T   (names as nft: echo-request...)
 *   ip dscp D | ip6 dscp D   (cs0..cs7, af11..af43, ef, va, df, be, lephb, 0..63)
 *   tcp flags F         ct state S      (bitmask matches, nft's meanings:
 *        `tcp flags syn,ack`       flags & (syn|ack) != 0   (any of)
 *        `tcp flags == syn`        flags == syn             (exactly)
 *        `tcp flags != syn`        flags != syn
 *        `tcp flags ! syn`         flags & syn == 0
 *        `tcp flags syn / syn,ack` flags & (syn|ack) == syn
 *        `tcp flags & (syn|ack) == syn`  the same; also != and { sets }
 *        `tcp flags { syn, syn|ack }`    flags is one of the values)
 *   Every value match takes ==, !=, anonymous sets { a, b-c, d/16 }
 *   (!= { ... }: none of them), and <, >, <=, >= on a single value.
 *
 *   statements: [counter] [accept | drop | reject [with R]] [comment "TEXT"]
 *        R: tcp reset | icmp [type] C | icmpv6 [type] C | icmpx [type] C
 *        A rule with only `counter` counts and goes on (non-terminal).
 *
 * Meaning: exactly nft's in the inet family, with nft's implicit
 * dependencies made explicit in the struct: `ip ...`, `icmp ...`,
 * `ip dscp`, `reject with icmp` make the rule IPv4-only (family 4), the
 * ip6 / icmpv6 ones IPv6-only; `tcp ...`, `udp ...`, `icmp type` and
 * `reject with tcp reset` restrict the L4 protocol (f[NF_RF_PROTO]).
 * `th` has no protocol dependency: like nft, it reads the first four
 * bytes of whatever transport header there is (ICMP: type, code and the
 * checksum). A port, ICMP or flags match needs the transport header
 * (not a later fragment): nft breaks off such a rule, `!=` included.
 *
 * Refused although nft takes it (we are a subset): service and host names,
 * numbers with leading zeros (nft reads 010 as 8), a rule that can never
 * match (`tcp dport 22 tcp dport 23`, `tcp dport > 65535`,
 * `ip saddr != 0.0.0.0/0`), a rule without counter or verdict, matches
 * after a statement, two counters, icmpv6 in an IPv4 rule (nft matches
 * protocol 58 inside IPv4 there), a set, range or != on the L4 protocol
 * together with a tcp/udp/icmp header match or tcp reset, port names that
 * are not the caller's, `;`. Every refusal is one sentence:
 *   "rules.conf:12: 'tcp dport 70000': port out of range 0..65535".
 */
#ifndef NF_RULE_H
#define NF_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 nf_u128;

/* An inclusive range of values of one field. Addresses are integers:
 * IPv4 in host order (0 .. 2^32-1), IPv6 the 16 bytes read big-endian. */
struct nf_range {
	nf_u128 lo, hi;
};

/* The value fields; each is a sorted list of disjoint, non-adjacent
 * ranges in the rule set's range pool. */
enum nf_rule_field {
	NF_RF_SRC,		/* ip/ip6 saddr (the rule's family says which) */
	NF_RF_DST,
	NF_RF_SPORT,		/* transport bytes 0-1 (tcp/udp/th sport) */
	NF_RF_DPORT,		/* transport bytes 2-3 */
	NF_RF_PROTO,		/* meta l4proto (implied ones included) */
	NF_RF_NEXTHDR,		/* ip6 nexthdr: the IPv6 header's own field */
	NF_RF_ICMP_TYPE,	/* transport byte 0, under proto icmp/icmpv6 */
	NF_RF_ICMP_CODE,	/* transport byte 1 */
	NF_RF_DSCP,		/* ip dscp / ip6 dscp */
	NF_RF_MAX
};

/* Bits of nf_rule.has: a value field i is present as 1 << i; the others: */
#define NF_RM_IIF	(1u << 12)
#define NF_RM_OIF	(1u << 13)
#define NF_RM_CT	(1u << 14)
#define NF_RM_TCP_FLAGS	(1u << 15)

/* Conntrack states as nft numbers them (ct state); a packet has one. */
#define NF_RULE_CT_INVALID	0x01
#define NF_RULE_CT_ESTABLISHED	0x02
#define NF_RULE_CT_RELATED	0x04
#define NF_RULE_CT_NEW		0x08
#define NF_RULE_CT_UNTRACKED	0x40

enum nf_rule_verdict {
	NF_RULE_CONTINUE = 0,	/* counter only: count and go on */
	NF_RULE_ACCEPT,
	NF_RULE_DROP,
	NF_RULE_REJECT,
};

/* How to reject (nft's NFT_REJECT_* with its code). The default `reject`
 * is ICMPX port-unreachable: ICMP port unreachable to IPv4, ICMPv6 port
 * unreachable (code 4) to IPv6. */
enum nf_rule_reject {
	NF_REJECT_ICMPX = 0,	/* code: NF_ICMPX_* */
	NF_REJECT_ICMP,		/* code: ICMP destination-unreachable code */
	NF_REJECT_ICMPV6,	/* code: ICMPv6 destination-unreachable code */
	NF_REJECT_TCP_RST,
};
#define NF_ICMPX_NO_ROUTE		0
#define NF_ICMPX_PORT_UNREACH		1
#define NF_ICMPX_HOST_UNREACH		2
#define NF_ICMPX_ADMIN_PROHIBITED	3

/* At most this many ports (iifname/oifname resolve to a bit mask). */
#define NF_RULE_PORTS_MAX	64
/* Longest line, longest comment (nft: 128 bytes with the NUL). */
#define NF_RULE_LINE_MAX	4096
#define NF_RULE_COMMENT_MAX	127

struct nf_rule_set {
	uint32_t off;		/* first range in nf_ruleset.ranges */
	uint32_t n;		/* 0: no match on this field */
};

struct nf_rule {
	uint32_t line;		/* source line (1-based), 0 if none */
	uint32_t has;		/* which matches: 1 << NF_RF_*, NF_RM_* */
	uint8_t family;		/* 0: IPv4 and IPv6; 4; 6 */
	uint8_t verdict;	/* enum nf_rule_verdict */
	uint8_t reject;		/* enum nf_rule_reject (verdict REJECT) */
	uint8_t reject_code;
	bool counter;		/* count packets and bytes */
	uint8_t ct;		/* NF_RM_CT: the NF_RULE_CT_* states that match */
	uint16_t comment;	/* length of the comment, 0: none */
	uint32_t comment_off;	/* in nf_ruleset.strings */
	uint64_t iif, oif;	/* NF_RM_IIF/OIF: bit i = port i matches */
	uint8_t tcp_flags[32];	/* NF_RM_TCP_FLAGS: bit f = flags byte f matches */
	struct nf_rule_set f[NF_RF_MAX];
};

struct nf_ruleset {
	struct nf_rule *rules;
	uint32_t n, cap;
	struct nf_range *ranges;
	uint32_t nranges, rcap;
	char *strings;		/* comments, NUL-terminated */
	uint32_t slen, scap;
};

/* How to parse. */
struct nf_rule_opts {
	const char *file;		/* name in messages (NULL: "rule") */
	const char *const *ports;	/* port names; index = port number */
	unsigned nports;		/* 0 .. NF_RULE_PORTS_MAX */
};

void nf_ruleset_init(struct nf_ruleset *rs);
void nf_ruleset_free(struct nf_ruleset *rs);	/* and init again */

/* Parse one line (@lineno for messages) and append its rule; blank and
 * comment lines append nothing. Returns 0, or -EINVAL with the sentence
 * in nf_last_error() (nothing appended), or -ENOMEM. */
int nf_rule_parse(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		  const char *line, uint32_t lineno);
/* Every line of @text ('\n'-separated). Stops at the first error. */
int nf_rule_parse_text(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		       const char *text);
/* Every line of the file @path (also the name in messages unless o->file
 * is set). Stops at the first error: -EINVAL, -ENOMEM, -errno of fopen. */
int nf_rule_parse_file(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		       const char *path);

/* The ranges of field @f of @r (NULL when absent; *n their number). */
static inline const struct nf_range *nf_rule_ranges(const struct nf_ruleset *rs,
						    const struct nf_rule *r,
						    enum nf_rule_field f, uint32_t *n)
{
	*n = r->f[f].n;
	return r->f[f].n ? rs->ranges + r->f[f].off : NULL;
}

static inline const char *nf_rule_comment(const struct nf_ruleset *rs,
					  const struct nf_rule *r)
{
	return r->comment ? rs->strings + r->comment_off : "";
}

/* Write rule @i back as nft syntax that parses to the same struct
 * (dependencies spelled out: `meta nfproto ipv4 meta l4proto 6 ...`).
 * Port names from @o. Returns the length (truncated at @n like snprintf). */
int nf_rule_format(const struct nf_ruleset *rs, const struct nf_rule_opts *o,
		   uint32_t i, char *buf, size_t n);

/* Do rule @i of @a and rule @j of @b match the same packets with the same
 * statements (line numbers and pool offsets aside)? */
bool nf_rule_same(const struct nf_ruleset *a, uint32_t i,
		  const struct nf_ruleset *b, uint32_t j);

/* Names, for listings. */
const char *nf_rule_verdict_name(enum nf_rule_verdict v);

#endif
