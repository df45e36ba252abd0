/* steer.h - nfswitch's service-chaining plane: match-action rules, replica
 * groups, SRv6 SIDs and the ToS-bitmap mode (docs/DESIGN.md "Steering").
 *
 * The configuration is a list of text lines (the canonical state, listed by
 * the `steering` request and replaced whole by `steer-load FILE`):
 *
 *   group NAME MEMBER...       replicas; MEMBER = PORT[/RETURN][@MAC[/RMAC]]
 *                              (MAC: into PORT, and into RETURN too unless
 *                              RMAC, "-" for none, says otherwise), or
 *                              "-" for a removed member (positions stay:
 *                              member i is replica i of the hash table)
 *   sid ADDR BEHAVIOUR ARGS    an SRv6 SID of this switch (RFC 8986):
 *       End | End.X PORT MAC | End.DX4 PORT MAC | End.DX6 PORT MAC |
 *       End.DT4 | End.DT6 |
 *       End.AD group NAME [reverse] [inner ipv4|ipv6] |
 *       End.AS group NAME [reverse] [inner ipv4|ipv6] segs SID,... [src ADDR]
 *   rule [id N] [priority P] MATCH... action ACTION...
 *       MATCH: in-port PORT, ether saddr|daddr MAC, ether type T, vlan id V,
 *              and every match of the firewall's rule language (docs/RULES.md:
 *              ip/ip6 saddr/daddr, meta l4proto, tcp/udp ports, ip dscp...)
 *       ACTION: output PORT | group NAME | drop | l2 | set-dst-mac MAC |
 *               mirror PORT | srv6-encap [red] [l2] [src ADDR] SID,... |
 *               srv6-decap | set-tos VALUE[/MASK] | count
 *   srv6-source ADDR           outer source of srv6-encap without src
 *   tos INGRESS EGRESS LAYER0 [LAYER1 ... LAYER7]   the ToS-bitmap mode
 *                              (FlowFall): LAYERi a group name or "-"
 *
 * A change builds a new generation (struct st_gen) from the lines, beside
 * the one in use, then the switch swaps one pointer between bursts: every
 * frame sees one whole configuration. Counters, proxy caches and the
 * groups' hash tables (whose history makes removal minimal) are carried
 * from the old generation to the new by name / id.
 */
#ifndef NFSW_STEER_H
#define NFSW_STEER_H

#include "hold.h"
#include "nf_cls.h"
#include "nf_csum.h"
#include "nf_hash.h"
#include "nf_io.h"
#include "nf_rule.h"
#include "nf_srv6.h"
#include "nf_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__) || defined(__SSE4_2__)
#include <immintrin.h>
#endif

struct sw;
struct json_object;

#define ST_LINES_MAX	100000
#define ST_GROUPS_MAX	256
#define ST_SIDS_MAX	4096
#define ST_RECIRC_MAX	4	/* rewrites of one frame in one pass */
#define ST_NAME_MAX	32

/* Steering drops, counted per reason (on top of nf_srv6's reasons). */
#define ST_DROPS(_)							\
	_(RULE,        "steer-rule-drop",   "a rule said drop")		\
	_(GROUP_EMPTY, "steer-group-empty", "no member of the group is up") \
	_(RECIRC,      "steer-recirculation", "more rewrites than ST_RECIRC_MAX") \
	_(PARSE,       "steer-unparsable",  "a frame to steer did not parse") \
	_(TOS_PORT,    "steer-tos-no-layer", "ToS mode: a frame from a layer port that is not in its path") \
	_(HOLD_FULL,   "steer-hold-full",   "a group with no member: its hold queue is full") \
	_(HOLD_BIG,    "steer-hold-big",    "a group with no member: frame longer than a hold slot")

enum st_drop {
#define ST_DROP_ENUM(e, n, d) ST_DROP_##e,
	ST_DROPS(ST_DROP_ENUM)
#undef ST_DROP_ENUM
	ST_DROP_MAX
};

struct st_count {
	uint64_t packets, bytes;
};

struct st_member {
	int32_t port;		/* -1: removed */
	int32_t peer;		/* return port of a proxy / ToS layer, -1 */
	bool draining;		/* "~MEMBER": only the flows the track table gives it */
	bool has_mac[2];	/* [0] frames into port, [1] into peer */
	uint8_t mac[2][6];	/* their destination MAC */
};

struct st_group {
	char name[ST_NAME_MAX];
	unsigned n;			/* members (positions) */
	struct st_member m[NF_HASH_MEMBERS_MAX];
	uint64_t up;			/* members with a port */
	struct nf_hash_group *tab;
	struct st_count *mcount;	/* [NF_HASH_MEMBERS_MAX] frames sent */
	unsigned hold_cap;		/* `hold N`: 0 none */
	unsigned ndraining;		/* members written ~MEMBER */
	bool track_on;			/* `track` */
	struct st_track *track;		/* `track`: recent flows' members, carried by name */
	struct st_hold *hold;		/* carried by name (hold.h) */
};

enum st_beh {
	ST_END, ST_END_X, ST_END_DX4, ST_END_DX6, ST_END_DT4, ST_END_DT6,
	ST_END_AD, ST_END_AS, ST_BEH_MAX
};

struct st_sid {
	uint8_t addr[16];
	uint8_t beh;			/* enum st_beh */
	uint8_t inner;			/* proxies: NF_IPPROTO_IPIP / _IPV6 */
	bool reverse;			/* proxies: in by RETURN, back by PORT */
	int32_t port;			/* End.X / End.DX */
	uint8_t mac[6];
	int group;			/* proxies */
	struct nf_srv6_proxy *px;	/* End.AD: carried across generations */
	struct nf_srv6_encap *as;	/* End.AS: the way back */
	struct st_count *count;		/* carried: [1] */
	char text[96];
};

/* A group's track table (`group ... track`): the member each recent flow
 * was sent to, by its flow hash, direct-mapped. A draining member
 * (~MEMBER) keeps the flows whose entry names it; every other frame goes
 * by the consistent hash without it. Written when pick() decides; a flow
 * cache entry of the group holds only while its bucket has its flow's
 * hash, so the table is what it would be with every frame through pick(). */
#define ST_TRACK_SIZE	16384u
struct st_track {
	uint32_t hash[ST_TRACK_SIZE];
	uint8_t member[ST_TRACK_SIZE];	/* member + 1; 0: empty */
	struct st_count kept;		/* frames kept on a draining member */
};

/* Actions of a rule, applied in this order. */
enum st_term { ST_T_L2 = 0, ST_T_OUTPUT, ST_T_GROUP, ST_T_DROP, ST_T_RECIRC };

struct st_rule {
	uint32_t id, prio, order;
	/* switch matches (checked after the classifier's candidate) */
	int32_t in_port;		/* -1 any */
	bool has_smac, has_dmac, has_type, has_vlan;
	uint8_t smac[6], dmac[6];
	uint16_t type, vlan;
	/* actions */
	bool decap, set_dmac, set_tos;
	bool narrow;			/* it or a rule before it reads a source
					 * address, a port, TCP flags, ICMP or ct
					 * state: its frames get no wide entry */
	uint8_t dmac_new[6];
	uint8_t tos_val, tos_mask;	/* set-tos: tos = tos & ~mask | val */
	int32_t mirror;			/* -1 none */
	struct nf_srv6_encap *encap;	/* NULL none */
	uint8_t term;			/* enum st_term */
	int32_t out;			/* port (OUTPUT) or group (GROUP) */
	struct st_count *count;		/* carried by id: [1] */
	const char *text;		/* the line, in the generation's strings */
};

/* Per port: what frames arriving on it are (proxy returns, ToS ports). */
enum st_role { ST_R_NONE = 0, ST_R_PROXY_RET, ST_R_TOS_IN, ST_R_TOS_OUT, ST_R_TOS_LAYER };

struct st_port_role {
	uint8_t role;
	uint8_t layer;			/* ToS layer of a layer port */
	bool ret;			/* ToS layer port: member's RETURN side */
	uint16_t member;
	uint16_t sid;			/* proxy return: the SID */
};

struct st_tos {
	bool on;
	int32_t in, out;
	int layer[8];			/* group index or -1 */
};

/* The rule cache: a frame's whole view for the rules -> the first rule
 * that matches it (UINT32_MAX: none). Direct-mapped, per generation (a
 * new configuration starts empty). */
#define ST_CACHE_SIZE	4096u

struct st_centry {
	struct nf_cls_ckey c;		/* classifier fields, in-port in w[5] */
	uint64_t l2[2];			/* dst MAC + EtherType, src MAC + VLAN */
	uint32_t rule;
	uint32_t used;
};

/* The flow cache (DESIGN "Steering", flow cache): what st_frame() did to
 * an untagged IPv4 TCP/UDP frame, replayed for the next frames with the
 * same header bytes. Key: the frame's first 48 bytes under a mask (MACs,
 * EtherType, version/IHL, ToS, flags/fragment offset, TTL, protocol,
 * addresses, ports, TCP data offset and flags: everything a rule, a SID
 * or a group hash reads; not the lengths, identification, checksums or
 * sequence numbers), and the in-port. Action: the output frame is hdr[0,
 * a) followed by the input from byte b (the IP packet, or the whole frame
 * for an L2 encapsulation), the outer IPv6 payload length set; counters
 * get the entry's frames at flush (the rule's, SIDs', members', each with
 * its own length delta); valid while every End.AD cache slot the frame
 * read or wrote still has the content it had (its update count).
 * An SRv6 frame that arrives (untagged IPv6, an SRH right after the fixed
 * header, an IPv4 TCP/UDP packet inside: a SID's frames from another
 * node) gets an entry of its own kind (ST_FK_S6*): its in-port has
 * ST_FLOW_IN6 set (the IPv4 path never finds it), its set is chosen by
 * the outer source and the inner flow (st_flow_slot6()), and its key goes
 * on past byte 48 (struct st_fx, beside the table): the rest of the
 * destination, the whole SRH, the inner IPv4 header and ports under the
 * IPv4 key's mask. A pass no flow decided (End, End.X, End.DX4, End.AD
 * with one replica) gets a wide one: without the flow label and the inner
 * source and ports, in the set of the outer addresses (st_flow_wslot6()). */
#define ST_FLOW_SIZE	4096u
#define ST_FLOW_HDR	NF_HDR_ROOM	/* eth + IPv6 + SRH with 8 SIDs, 6 x 32 */
#define ST_FLOW_CNT	8
#define ST_FLOW_DEP	4
#define ST_FLOW_IN6	0x8000u		/* st_flow.in of an SRv6 entry */
#define ST_FX_END	192u		/* an SRv6 key ends before this byte */
#define ST_FX_CHUNKS	5		/* its bytes 48.., 32 at a time */

/* What a flow cache entry does to a frame of its flow. */
enum st_fkind {
	ST_FK_SAME,		/* nothing: the frame goes as it came */
	ST_FK_MAC,		/* a new Ethernet header (a == b == 14) */
	ST_FK_DX4,		/* and the IPv4 TTL - 1, the checksum updated
				 * (End.DX4) */
	ST_FK_SPLIT,		/* two pieces: hdr[0, a), the frame from b */
	ST_FK_S6,		/* an SRv6 frame that arrived, new outer
				 * headers as long as the old (End, End.X:
				 * a == b), in place: the entry's bytes 0..63
				 * over the frame's, all but the flow label and
				 * the payload length */
	ST_FK_S6DEC,		/* decapsulated (End.AD in), in place: the new
				 * Ethernet header over the SRH's last 14
				 * bytes, the frame from there */
	ST_FK_S6DX4,		/* and the inner IPv4 TTL - 1 (End.DX4) */
};

/* The rest of an SRv6 entry's key (g->flow[i]'s is fx[i], st_flow.fx):
 * frame bytes 48..end - 1 in @n 32-byte chunks under @m, chunk j at
 * @off[j]: 48 + 32j, the last one at end - 32 (overlapping the one
 * before: nothing past the key is read). */
struct st_fx {
	uint8_t k[ST_FX_CHUNKS][32], m[ST_FX_CHUNKS][32];
	uint8_t off[ST_FX_CHUNKS];
	uint8_t n;
} __attribute__((aligned(64)));

struct st_flow {
	uint8_t k[48];			/* frame bytes 0..47 & the mask */
	uint8_t m0[32], m1[32];		/* its mask (st_flow_mask[wide][tcp]):
					 * bytes 0..31 and 16..47 */
	uint8_t kind;			/* enum st_fkind: the rewrite */
	uint16_t in;			/* in-port + 1; 0: empty */
	uint16_t out;			/* port or ST_OUT_L2 */
	uint16_t lmin;			/* frame length the parse needs, >= 48 */
	uint8_t a, b, ncnt, ndep;
	uint32_t pend;			/* frames not yet in the counters */
	uint32_t used;			/* st_gen.bursts of the last hit */
	uint64_t pend_bytes;		/* their input bytes */
	struct st_count *cnt[ST_FLOW_CNT];
	int32_t delta[ST_FLOW_CNT];	/* counted length - input length */
	const uint32_t *dep[ST_FLOW_DEP];	/* End.AD slots' update counts */
	uint32_t ver[ST_FLOW_DEP];
	struct nf_hdr th;		/* a != b: hdr[0, a) for the transmit */
	const struct st_fx *fx;		/* ST_FK_S6*: the rest of the key */
	uint8_t hdr[ST_FLOW_HDR];
} __attribute__((aligned(64)));		/* 512 bytes: an index is a shift */

struct st_gen {
	unsigned nlines;
	char **lines;			/* the configuration, owned */
	struct st_group group[ST_GROUPS_MAX];
	unsigned ngroups;
	struct st_sid *sid;
	unsigned nsids;
	uint32_t *sid_hash;		/* open addressing: index + 1, 0 empty */
	uint32_t sid_mask;
	struct st_rule *rule;		/* in classification order */
	unsigned nrules;
	struct nf_ruleset rs;		/* their nf_rule matches, same order */
	struct nf_cls *cls;
	struct st_centry *rcache;	/* ST_CACHE_SIZE entries */
	uint64_t cache_misses;
	struct st_flow *flow;		/* ST_FLOW_SIZE entries, then
					 * ST_FLOW_SIZE struct st_fx, or NULL */
	struct st_flow **memo;		/* [SW_PORTS_MAX]: the entry of each
					 * port's last run, its next burst's
					 * first try (st_flow_memo(); after
					 * the st_fx), NULL when its flows
					 * take turns */
	uint32_t bursts;		/* steered bursts: the flow cache's clock */
	bool wide;			/* wide entries possible: the first rule
					 * is not narrow */
	bool narrow;			/* the last rule is: a frame no rule
					 * matched gets no wide entry */
	uint64_t flow_hits, flow_fills, flow_wide_fills, flow_srv6_fills;
	struct st_port_role *role;	/* [SW_PORTS_MAX] or NULL */
	struct st_tos tos;
	uint8_t src6[16];		/* srv6-source */
	uint32_t next_id;
	uint64_t drops[ST_DROP_MAX];
	uint64_t srv6_drops[NF_SRV6_DROP_MAX];
	bool active;			/* anything to do per frame */
	bool holding;			/* a group's hold queue has frames */
	bool releasing;			/* sw_hold_release() at work */
	int hold_gi;			/* st_frame() said ST_OUT_HOLD: this group */
};

/* Build a generation from @lines (copied). @old (may be NULL) gives the
 * counters and caches to carry (swapped, on success only) and the hash
 * tables to derive from (read). 0, or -errno with
 * nf_last_error() naming the line ("line 3: ..."). */
int st_build(struct sw *sw, char *const *lines, unsigned n, const struct st_gen *old,
	     struct st_gen **out);
/* Free a generation. What a newer one carried from it is not freed:
 * st_build swapped those pointers with fresh ones once the new generation
 * was complete (a failed build leaves @old untouched). */
void st_free(struct st_gen *g);
/* The control requests listed in steer_ctl.c. -ENOENT without an error
 * sentence: not a steering request. */
int st_ctl(struct sw *sw, int argc, char **argv, struct json_object *reply);
const char *st_drop_name(enum st_drop d);
/* The words @w[0..@n) of a group line ("group NAME MEMBER... [track]
 * [hold N]"): where its members end (the options follow, in either
 * order); *@hold the index of hold's N (0: none), *@track whether track is
 * there. One reading for the parser and the member edits (steer_ctl.c). */
unsigned st_group_members_end(char *const *w, unsigned n, unsigned *hold, bool *track);

/* The per-frame work (fwd.c): the frame *data (*len bytes) from port @in.
 * Returns an output port, ST_OUT_L2 (switch it by MAC learning, as without
 * steering) or ST_OUT_DROP (counted). A rewritten frame is in @buf or
 * @buf2 (@cap bytes each) and *data, *len say so. *mirror: a port to get
 * a copy of the frame as it leaves, or -1. */
#define ST_OUT_L2	0xfff0		/* normal MAC learning switching */
#define ST_OUT_DROP	0xfff1
#define ST_OUT_HOLD	0xfff2		/* into g->group[g->hold_gi]'s hold queue */
/* Move the flow cache's pending frames into the counters (before they
 * are read or carried to a new generation). */
void st_flow_flush(struct st_gen *g);

/* The flow cache's key masks, [wide][TCP]: bytes 0..47 of a frame. A
 * wide one leaves out the IPv4 source address and the ports. */
/* An End entry's first chunk: [0] the frame's bits it keeps (the flow
 * label, the payload length), [1] the entry's */
extern const uint8_t st_s6_keep[2][32];
extern const uint8_t st_flow_mask[2][2][48];

/* An entry's key and mask in registers (a run compares many frames). */
struct st_fkey {
#ifdef __AVX2__
	__m256i m0, m1, k0, k1;		/* bytes 0..31 and 16..47 */
#else
	uint64_t m[6], k[6];
#endif
};

static inline void st_fkey_load(const struct st_flow *f, struct st_fkey *x)
{
#ifdef __AVX2__
	x->m0 = _mm256_loadu_si256((const __m256i *)(const void *)f->m0);
	x->m1 = _mm256_loadu_si256((const __m256i *)(const void *)f->m1);
	x->k0 = _mm256_loadu_si256((const __m256i *)(const void *)f->k);
	x->k1 = _mm256_loadu_si256((const __m256i *)(const void *)(f->k + 16));
#else
	memcpy(x->m, f->m0, 32);
	memcpy(&x->m[4], f->m1 + 16, 16);
	memcpy(x->k, f->k, 48);
#endif
}

/* One 32-byte chunk of an SRv6 key (struct st_fx) in registers. */
#ifdef __AVX2__
typedef __m256i st_fxc;
#else
typedef struct { uint64_t w[4]; } st_fxc;
#endif

static inline st_fxc st_fxc_load(const uint8_t *p)
{
#ifdef __AVX2__
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
#else
	st_fxc c;

	memcpy(c.w, p, 32);
	return c;
#endif
}

/* @d | ((frame bytes at @p & @m) ^ @k): 0 while they match. */
static inline st_fxc st_fxc_diff(st_fxc d, const uint8_t *p, st_fxc m, st_fxc k)
{
	const st_fxc v = st_fxc_load(p);
#ifdef __AVX2__
	return _mm256_or_si256(d, _mm256_xor_si256(_mm256_and_si256(v, m), k));
#else
	unsigned w;

	for (w = 0; w < 4; w++)
		d.w[w] |= (v.w[w] & m.w[w]) ^ k.w[w];
	return d;
#endif
}

/* @d | (frame bytes at @p ^ @k): a chunk under a mask of ones. */
static inline st_fxc st_fxc_diff1(st_fxc d, const uint8_t *p, st_fxc k)
{
	const st_fxc v = st_fxc_load(p);
#ifdef __AVX2__
	return _mm256_or_si256(d, _mm256_xor_si256(v, k));
#else
	unsigned w;

	for (w = 0; w < 4; w++)
		d.w[w] |= v.w[w] ^ k.w[w];
	return d;
#endif
}

static inline void st_fxc_store(uint8_t *p, st_fxc c)
{
#ifdef __AVX2__
	_mm256_storeu_si256((__m256i *)(void *)p, c);
#else
	memcpy(p, c.w, 32);
#endif
}

/* (frame bytes at @p & @m) | @w: a chunk of new headers that keeps some
 * of the frame's bits */
static inline st_fxc st_fxc_merge(const uint8_t *p, st_fxc m, st_fxc w)
{
	const st_fxc v = st_fxc_load(p);
#ifdef __AVX2__
	return _mm256_or_si256(_mm256_and_si256(v, m), w);
#else
	unsigned i;
	st_fxc c;

	for (i = 0; i < 4; i++)
		c.w[i] = (v.w[i] & m.w[i]) | w.w[i];
	return c;
#endif
}

static inline st_fxc st_fxc_none(void)
{
#ifdef __AVX2__
	return _mm256_setzero_si256();
#else
	return (st_fxc){ { 0, 0, 0, 0 } };
#endif
}

static inline bool st_fxc_zero(st_fxc d)
{
#ifdef __AVX2__
	return _mm256_testz_si256(d, d);
#else
	return (d.w[0] | d.w[1] | d.w[2] | d.w[3]) == 0;
#endif
}

/* Frame @e's bytes 0..47 under the mask ^ the key, as a chunk (an SRv6
 * key's compare goes on with it): 0 while they match. */
static inline st_fxc st_fkey_diff(const struct st_fkey *x, const uint8_t *e)
{
#ifdef __AVX2__
	const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)e);
	const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(e + 16));

	return _mm256_or_si256(_mm256_xor_si256(_mm256_and_si256(a, x->m0), x->k0),
			       _mm256_xor_si256(_mm256_and_si256(b, x->m1), x->k1));
#else
	uint64_t d = 0, v;
	unsigned j;

	for (j = 0; j < 6; j++) {
		memcpy(&v, e + 8 * j, 8);
		d |= (v & x->m[j]) ^ x->k[j];
	}
	return (st_fxc){ { d, 0, 0, 0 } };
#endif
}

/* Frame bytes 0..47 under the mask equal the key: two loads, one test. */
static inline bool st_fkey_eq(const struct st_fkey *x, const uint8_t *e)
{
	return st_fxc_zero(st_fkey_diff(x, e));
}

static inline bool st_flow_key_eq(const struct st_flow *f, const uint8_t *e)
{
	struct st_fkey x;

	st_fkey_load(f, &x);
	return st_fkey_eq(&x, e);
}

/* Frame @pk (@l bytes, its input) becomes entry @f's output: hdr[0, a)
 * followed by its bytes from b, two pieces that the transmit writes
 * (NF_PKT_F_HDR); nothing is copied here. @a and @b: the entry's, in
 * registers (a store through @pk may alias the entry's bytes). */
static inline void st_flow_split(const struct st_flow *f, uint32_t a, uint32_t b,
				 struct nf_pkt *pk, uint8_t *e, uint32_t l)
{
	pk->data = e + b;
	pk->len = l - b + a;
	pk->hdr = &f->th;
	pk->flags = NF_PKT_F_HDR;
}

/* The other way of the entry's set: 2-way set associative, so that two
 * flows whose hashes collide both stay (the birthday bound of a
 * direct-mapped table would churn a few flows in a hundred). */
static inline struct st_flow *st_flow_pair(struct st_flow *tab, struct st_flow *f)
{
	return &tab[(size_t)(f - tab) ^ 1];
}

/* The set of frame @e from port @in in table @tab (g->flow): its first
 * way. */
static inline struct st_flow *st_flow_slot(struct st_flow *tab, const uint8_t *e, uint16_t in)
{
	uint64_t a;
	uint32_t ports;

	memcpy(&a, e + 26, 8);
	memcpy(&ports, e + 34, 4);
#ifdef __SSE4_2__
	/* CRC32C of the addresses and the ports, seeded with the in-port:
	 * two instructions, and every bit of them moves the low ones */
	return &tab[_mm_crc32_u32((uint32_t)_mm_crc32_u64(in, a), ports) & (ST_FLOW_SIZE - 1)];
#else
	/* two products: the bits that vary between flows (host bytes of
	 * the addresses, port bytes) never cancel each other */
	a = a * 0x9e3779b97f4a7c15ull ^ ((uint64_t)in << 32 | ports) * 0xc2b2ae3d27d4eb4full;
	return &tab[a >> 52];		/* ST_FLOW_SIZE = 2^12 */
#endif
}

/* The set of the wide entry frame @e from port @in may have: by what a
 * wide key keeps of what varies between flows, the destination address,
 * the MACs (a host pair per flow on a LAN: in the set of the destination
 * alone, 100 of them churned its two ways and never hit), the ToS, the
 * TTL and the protocol, and the in-port. Never the source address, the
 * ports nor a byte that changes per packet (the IPv4 header checksum:
 * bytes 24-25 are masked off). */
static inline struct st_flow *st_flow_wslot(struct st_flow *tab, const uint8_t *e, uint16_t in)
{
	uint64_t a, b, c;
	uint32_t t, d;

	memcpy(&a, e, 8);		/* destination MAC, source MAC 0-1 */
	memcpy(&b, e + 8, 8);		/* source MAC 2-5, EtherType, IHL, ToS */
	memcpy(&t, e + 22, 4);		/* TTL, protocol (and the checksum) */
	memcpy(&d, e + 30, 4);
	c = (uint64_t)d << 32 | (t & 0xffffu);
#ifdef __SSE4_2__
	return &tab[_mm_crc32_u64(_mm_crc32_u64(_mm_crc32_u64(in, a), b), c) &
		    (ST_FLOW_SIZE - 1)];
#else
	c |= (uint64_t)in << 16;
	return &tab[(a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full ^
		     c * 0x165667b19e3779f9ull) >> 52];	/* ST_FLOW_SIZE = 2^12 */
#endif
}

/* The entry of set @f (two ways) whose key frame @e from @in has, or
 * NULL. */
static inline struct st_flow *st_flow_find(struct st_flow *tab, struct st_flow *f,
					   const uint8_t *e, uint16_t in)
{
	if (nf_likely(f->in == in + 1u && st_flow_key_eq(f, e)))
		return f;
	f = st_flow_pair(tab, f);
	if (f->in == in + 1u && st_flow_key_eq(f, e))
		return f;
	return NULL;
}

/* Frame @e (@l bytes, at least 18) is its IPv4 packet and no padding:
 * the total length is @l - 14. Compared in 16 bits (a frame is less than
 * 64 KiB): one load, one subtraction, one compare. */
static inline bool st_ip_whole(const uint8_t *e, uint32_t l)
{
	uint16_t v;

	memcpy(&v, e + 16, 2);
	return __builtin_bswap16(v) == (uint16_t)(l - 14);
}

/* Frame @e (@l bytes) of a run is the entry's flow (key @x, at least
 * @lmin bytes; checked first, so nothing past a short frame is read) and
 * has no padding. */
static inline bool st_run_match(const struct st_fkey *x, uint32_t lmin, const uint8_t *e,
				uint32_t l)
{
	return l >= lmin && st_fkey_eq(x, e) && st_ip_whole(e, l);
}

/* Frame @pk (@e, @l bytes) of entry @f's flow gets its rewrite (in place,
 * or two pieces: *@hdr set) and is counted. */
static inline void st_flow_apply(struct st_flow *f, bool *hdr, struct nf_pkt *pk, uint8_t *e,
				 uint32_t l)
{
	if (f->kind == ST_FK_SPLIT) {
		st_flow_split(f, f->a, f->b, pk, e, l);
		*hdr = true;
	} else if (f->kind != ST_FK_SAME) {
		memcpy(e, f->hdr, 14);
		if (f->kind == ST_FK_DX4)
			nf_ipv4_ttl_dec(e + 14);
	}
	f->pend++;
	f->pend_bytes += l;
}

/* The wide entry frame @e from @in matches, or NULL: the second probe,
 * out of line (the first one's state stays in registers). */
__attribute__((noinline)) struct st_flow *st_flow_wfind(struct st_flow *tab, const uint8_t *e,
							uint16_t in);

/* st_flow_hit() for an IPv6 frame: an SRv6 entry's answer, or -1. Out
 * of line: the IPv4 path pays nothing for it. It sets *@gate so that the
 * burst's next IPv6 frame comes here first (no IPv4 probe) and probes
 * first the set of the kind that hit: ST_GATE_ALL, the wide one;
 * ST_GATE_S6, the flow's own. */
__attribute__((noinline)) int st_flow_hit6(struct st_flow *tab, uint32_t clock, uint32_t *gate,
					   struct st_flow **last, uint16_t in, struct nf_pkt *pk);

/* Frame @e (at least 14 bytes) is untagged IPv6. */
static inline bool st_eth_ipv6(const uint8_t *e)
{
	return ((unsigned)e[12] << 8 | e[13]) == NF_ETH_P_IPV6;
}

/* A burst's gate for st_flow_hit() (its first test, the frame's length
 * against it): ST_GATE_NARROW, the shortest frame a key covers; ST_GATE_ALL
 * (every frame takes the branch) when there is no table (--flow-cache
 * off: no test of it per frame) or while the frames before were wide
 * hits: the wide set is then probed first (hosts on a LAN, a MAC pair
 * each, taking turns to one destination: no runs, every frame a lookup,
 * and a miss in the flow's own set each time). A per-flow IPv4 hit pays
 * nothing for either. In the branch an IPv6 frame goes to st_flow_hit6()
 * at once; ST_GATE_S6 (every frame takes the branch too) is its mark
 * that the last SRv6 hit was a per-flow entry (an IPv4 frame after it
 * probes the wide set once, as after a wide hit, then the gate is
 * ST_GATE_NARROW again). */
#define ST_GATE_NARROW	48u
#define ST_GATE_ALL	UINT32_MAX
#define ST_GATE_S6	(UINT32_MAX - 1)

/* The flow cache's answer for frame @pk from port @in: a port or
 * ST_OUT_L2, the frame rewritten in place or made two pieces
 * (st_flow_split(): *@hdr set; the caller makes it one, nf_pkt_flatten(),
 * for anything but nf_tx_burst_hdr()), or -1: the frame goes to
 * st_frame(), unchanged. *@last: the entry, for st_flow_run() (the frames
 * of the same flow that follow). @tab may be NULL if *@gate is ST_GATE_ALL. */
static inline int st_flow_hit(struct st_flow *tab, uint32_t clock, bool wide, uint32_t *gate,
			      struct st_flow **last, bool *hdr, uint16_t in, struct nf_pkt *pk)
{
	uint8_t *e = pk->data;
	const uint32_t l = pk->len;
	struct st_flow *f;
	unsigned j;

	if (nf_unlikely(l < *gate)) {
		if (l < ST_GATE_NARROW || tab == NULL)
			return -1;
		if (st_eth_ipv6(e))	/* no IPv4 entry to probe */
			return st_flow_hit6(tab, clock, gate, last, in, pk);
		/* wide first: st_flow_wfind() inline (its call spilled five
		 * registers a frame; the narrow miss below keeps the call) */
		f = st_flow_find(tab, st_flow_wslot(tab, e, in), e, in);
		if (f != NULL)
			goto hit;
		*gate = ST_GATE_NARROW;	/* (a miss probes the wide set twice) */
	}
	f = st_flow_find(tab, st_flow_slot(tab, e, in), e, in);
	if (f == NULL) {	/* an SRv6 frame's entry is no wide IPv4 one */
		if (st_eth_ipv6(e))
			return st_flow_hit6(tab, clock, gate, last, in, pk);
		if (!wide || (f = st_flow_wfind(tab, e, in)) == NULL)
			return -1;
		*gate = ST_GATE_ALL;
	}
hit:
	if (!st_ip_whole(e, l) || l < f->lmin)
		return -1;
	for (j = 0; nf_unlikely(j < f->ndep); j++)
		if (*f->dep[j] != f->ver[j])
			return -1;
	f->used = clock;		/* a hit: flow_fill() keeps it */
	*last = f;
	st_flow_apply(f, hdr, pk, e, l);
	return f->out;
}

/* Entry @f, port @in's last run's, may answer the port's next burst: it is
 * still an entry of that port (not refilled for another one) and no
 * End.AD slot it depends on changed. Then st_flow_run() from the burst's
 * first frame checks each frame as for a run after a hit: one key test,
 * no set's hash nor probe (an SRv6 frame's first frame pays three). Any
 * entry whose key matches a frame replays its pass (a narrow or a wide
 * one alike), so this one is as good as the one a probe would find. */
static inline bool st_flow_memo(const struct st_flow *f, uint16_t in)
{
	unsigned j;

	if ((f->in & ~ST_FLOW_IN6) != in + 1u)
		return false;
	for (j = 0; nf_unlikely(j < f->ndep); j++)
		if (*f->dep[j] != f->ver[j])
			return false;
	return true;
}

/* After a hit on @f by an earlier frame of the burst: frame @pk is the
 * same flow, st_run_match()'s test with the key read from @f in place
 * (made an st_fkey first, the compiler keeps it in registers: one
 * instruction more a frame for trains of two, bench/steer.sh -T 2). */
static inline bool st_flow_match(const struct st_flow *f, const struct nf_pkt *pk)
{
	const uint8_t *e = pk->data;
	const uint32_t l = pk->len;

	return l >= f->lmin && st_flow_key_eq(f, e) && st_ip_whole(e, l);
}

/* The same, and if so frame @pk gets the hit's rewrite and is counted: a
 * flow's next frame without st_flow_run()'s fixed cost (the key into
 * registers, the call), for the runs too short to repay it (packet trains
 * of two). */
static inline bool st_flow_next(struct st_flow *f, bool *hdr, struct nf_pkt *pk)
{
	if (f->kind >= ST_FK_S6 || !st_flow_match(f, pk))	/* S6: st_flow_run() */
		return false;
	st_flow_apply(f, hdr, pk, pk->data, pk->len);
	return true;
}

/* Frames i, i+1, ... of a run (st_flow_run()) that match key @x: each
 * gets the entry's Ethernet header @h (NULL: none) and, with @ttl, its
 * IPv4 TTL decremented. Constant @h-ness and @ttl make one loop each.
 * Returns the first frame that does not match; *@bytes: what they had. */
static inline __attribute__((always_inline)) uint16_t
st_run_inplace(const struct st_fkey *x, uint32_t lmin, const uint8_t *h, bool ttl,
	       struct nf_pkt *pk, uint16_t i, uint16_t n, uint64_t *bytes)
{
	uint64_t h0 = 0, h1 = 0, b = 0;

	if (h != NULL) {
		memcpy(&h0, h, 8);
		memcpy(&h1, h + 6, 8);
	}
	struct nf_pkt *p = pk + i, *const end = pk + n;

	for (; p < end; p++) {		/* one induction variable */
		uint8_t *e = p->data;
		const uint64_t l = p->len;	/* added to b as it is */

		if (!st_run_match(x, lmin, e, (uint32_t)l))
			break;
		if (h != NULL) {
			memcpy(e, &h0, 8);
			memcpy(e + 6, &h1, 8);
		}
		if (ttl)
			nf_ipv4_ttl_dec(e + 14);
		b += l;
	}
	*bytes = b;
	return (uint16_t)(p - pk);
}

/* Frame @e (at least the key's end long) has SRv6 entry @x's key bytes
 * past 48. */
static inline bool st_fx_eq(const struct st_fx *x, const uint8_t *e)
{
	const unsigned n = x->n;
	st_fxc d = st_fxc_none();
	unsigned j;

#pragma GCC unroll 5
	for (j = 0; j < ST_FX_CHUNKS && j < n; j++)	/* unrolled: no loop state */
		d = st_fxc_diff(d, e + x->off[j], st_fxc_load(x->m[j]), st_fxc_load(x->k[j]));
	return st_fxc_zero(d);
}

/* SRv6 frame @e (@l bytes, its SRH ending at @h) has no padding and its
 * inner IPv4 packet whole: the outer payload length and the inner total
 * length are what the frame holds (16-bit compares, as st_ip_whole()).
 * For an entry of kind @kind: End and End.X (ST_FK_S6) do not read the
 * inner packet (the pass leaves it as it is, whatever its length), so
 * the outer length alone. */
static inline bool st_s6_lens(const uint8_t *e, uint32_t l, uint32_t h, unsigned kind)
{
	uint16_t p, t;

	memcpy(&p, e + 18, 2);
	if (__builtin_bswap16(p) != (uint16_t)(l - 54))
		return false;
	if (kind == ST_FK_S6)
		return true;
	memcpy(&t, e + h + 2, 2);
	return __builtin_bswap16(t) == (uint16_t)(l - h);
}

/* SRv6 frame @pk (@e, @l bytes, its SRH ending at @h; its lengths
 * checked: st_s6_lens()) becomes what entry @f (kind @kind) replays. End,
 * End.X (ST_FK_S6): the entry's new bytes 0..63 (Ethernet header, hop
 * limit, destination, Segments Left; what follows is the frame's, the
 * key's) over the frame's, all but its flow label (which a wide key
 * leaves out) and payload length (st_s6_keep[0]). Or decapsulated in
 * place, the entry's Ethernet header (@h0, @h1: its bytes 0-7 and 6-13)
 * written over the SRH's last 14 bytes and, for End.DX4, the inner TTL -
 * 1. Either way a frame of one piece (the transmit copies it once, as
 * any). */
static inline void st_s6_apply(const struct st_flow *f, unsigned kind, uint64_t h0, uint64_t h1,
			       struct nf_pkt *pk, uint8_t *e, uint32_t l, uint32_t h)
{
	if (kind == ST_FK_S6) {
		st_fxc_store(e, st_fxc_merge(e, st_fxc_load(st_s6_keep[0]),
					     st_fxc_merge(f->hdr, st_fxc_load(st_s6_keep[1]),
							  st_fxc_none())));
		st_fxc_store(e + 32, st_fxc_load(f->hdr + 32));
		return;
	}
	if (kind == ST_FK_S6DX4)
		nf_ipv4_ttl_dec(e + h);
	e += h - 14;
	memcpy(e, &h0, 8);
	memcpy(e + 6, &h1, 8);
	pk->data = e;
	pk->len = l - h + 14;
	pk->slot = NULL;
	pk->buf = NF_BUF_NONE;
}

/* The chunks of an SRv6 key past byte 48 for SRH end @h (the key ends at
 * h + 34): chunk @j's offset (the last one at the end - 32), and whether
 * it is all SRv6 headers and the inner IPv4 header's first two bytes,
 * under a mask of ones (nothing to mask). */
#define ST_FX_NC(h)		(((h) + 34 - 48 + 31) / 32)
#define ST_FX_OFF(h, j)		NF_MIN(48u + 32 * (j), (h) + 2)
#define ST_FX_FULL(h, j)	(ST_FX_OFF(h, j) + 32 <= (h) + 2)

/* Frames i, i+1, ... of a run (st_flow_run()) of SRv6 entry @f (key @x,
 * SRH end @h, kind @kind: constants, a loop for each, the key's chunks
 * and the new headers in registers): the frames that match get the
 * entry's rewrite. Returns the first frame that does not match; *@bytes:
 * what they had. */
static inline __attribute__((always_inline)) uint16_t
st_run_s6(const struct st_fkey *x, const struct st_flow *f, const uint32_t h, const unsigned kind,
	  struct nf_pkt *pk, uint16_t i, uint16_t n, uint64_t *bytes)
{
	const struct st_fx *fx = f->fx;
	const uint32_t lmin = f->lmin;
	uint64_t h0, h1;
	st_fxc m[ST_FX_CHUNKS], k[ST_FX_CHUNKS];
	st_fxc w0 = st_fxc_none(), w1 = w0, keep = w0;
	struct nf_pkt *p = pk + i, *const end = pk + n;
	uint64_t b = 0;
	unsigned j;

	memcpy(&h0, f->hdr, 8);
	memcpy(&h1, f->hdr + 6, 8);
#pragma GCC unroll 5
	for (j = 0; j < ST_FX_NC(h); j++) {
		k[j] = st_fxc_load(fx->k[j]);
		m[j] = ST_FX_FULL(h, j) ? st_fxc_none() : st_fxc_load(fx->m[j]);
	}
	if (kind == ST_FK_S6) {		/* as st_s6_apply() */
		keep = st_fxc_load(st_s6_keep[0]);
		w0 = st_fxc_merge(f->hdr, st_fxc_load(st_s6_keep[1]), st_fxc_none());
		w1 = st_fxc_load(f->hdr + 32);
	}
	for (; p < end; p++) {
		uint8_t *e = p->data;
		const uint32_t l = p->len;
		st_fxc d;

		if (l < lmin)
			break;
		d = st_fkey_diff(x, e);		/* one test for the whole key */
#pragma GCC unroll 5
		for (j = 0; j < ST_FX_NC(h); j++)
			d = ST_FX_FULL(h, j) ? st_fxc_diff1(d, e + ST_FX_OFF(h, j), k[j]) :
				st_fxc_diff(d, e + ST_FX_OFF(h, j), m[j], k[j]);
		if (!st_fxc_zero(d) || !st_s6_lens(e, l, h, kind))
			break;
		if (kind == ST_FK_S6) {
			st_fxc_store(e, st_fxc_merge(e, keep, w0));
			st_fxc_store(e + 32, w1);
		} else {
			st_s6_apply(f, kind, h0, h1, p, e, l, h);
		}
		b += l;
	}
	*bytes = b;
	return (uint16_t)(p - pk);
}

/* After a hit on @f by frame @i - 1: frames i, i+1, ... of the burst with
 * the same key (a run of one flow) get the same rewrite (in place, or two
 * pieces as st_flow_hit() makes them), with one key compare and one length
 * check each (the End.AD slots were checked for frame i - 1 and nothing
 * changed them since); their output port is frame i - 1's (the caller
 * records it where needed). Returns the index of the first frame not
 * done. */
static inline uint16_t st_flow_run(struct st_flow *f, struct nf_pkt *pk, uint16_t i,
				   uint16_t n)
{
	const uint16_t start = i;
	const uint32_t lmin = f->lmin;
	uint64_t bytes = 0;
	struct st_fkey x;

	st_fkey_load(f, &x);
	switch (f->kind) {
	case ST_FK_SAME:
		i = st_run_inplace(&x, lmin, NULL, false, pk, i, n, &bytes);
		break;
	case ST_FK_MAC:
		i = st_run_inplace(&x, lmin, f->hdr, false, pk, i, n, &bytes);
		break;
	case ST_FK_DX4:
		i = st_run_inplace(&x, lmin, f->hdr, true, pk, i, n, &bytes);
		break;
	case ST_FK_SPLIT: {
		const uint32_t a = f->a, b = f->b;
		struct nf_pkt *p = pk + i, *const end = pk + n;

		for (; p < end; p++) {	/* one induction variable */
			uint8_t *e = p->data;
			const uint32_t l = p->len;

			if (!st_run_match(&x, lmin, e, l))
				break;
			st_flow_split(f, a, b, p, e, l);
			bytes += l;
		}
		i = (uint16_t)(p - pk);
		break;
	}
	default:		/* ST_FK_S6*: SRv6 frames that arrived */
		/* a loop for each SRH length (1..6 SIDs: flow_shape6()) and
		 * kind */
#define S6(h, k)	(((h) - 78) / 16 * 3 + (k) - ST_FK_S6)
#define S6RUN(h, k)	case S6(h, k): i = st_run_s6(&x, f, h, k, pk, i, n, &bytes); break
#define S6H(h)		S6RUN(h, ST_FK_S6); S6RUN(h, ST_FK_S6DEC); S6RUN(h, ST_FK_S6DX4)
		switch (f->b >= 78 ? S6(f->b, f->kind) : -1) {
		S6H(78); S6H(94); S6H(110); S6H(126); S6H(142); S6H(158);
		default:	/* no such entry (flow_shape6()): no frame done */
			break;
		}
#undef S6H
#undef S6RUN
#undef S6
		break;
	}
	f->pend += (uint32_t)(i - start);
	f->pend_bytes += bytes;
	return i;
}
int st_frame(struct sw *sw, struct st_gen *g, uint16_t in, const uint8_t **data,
	     uint32_t *len, uint8_t *buf, uint8_t *buf2, uint32_t cap, int *mirror);

#endif
