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
 *               srv6-decap | count
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

#include "nf_cls.h"
#include "nf_hash.h"
#include "nf_rule.h"
#include "nf_srv6.h"

#include <stdbool.h>
#include <stdint.h>

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
	_(TOS_PORT,    "steer-tos-no-layer", "ToS mode: a frame from a layer port that is not in its path")

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
	bool decap, set_dmac;
	uint8_t dmac_new[6];
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
	struct st_port_role *role;	/* [SW_PORTS_MAX] or NULL */
	struct st_tos tos;
	uint8_t src6[16];		/* srv6-source */
	uint32_t next_id;
	uint64_t drops[ST_DROP_MAX];
	uint64_t srv6_drops[NF_SRV6_DROP_MAX];
	bool active;			/* anything to do per frame */
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

/* The per-frame work (fwd.c): the frame *data (*len bytes) from port @in.
 * Returns an output port, ST_OUT_L2 (switch it by MAC learning, as without
 * steering) or ST_OUT_DROP (counted). A rewritten frame is in @buf or
 * @buf2 (@cap bytes each) and *data, *len say so. *mirror: a port to get
 * a copy of the frame as it leaves, or -1. */
#define ST_OUT_L2	0xfff0		/* normal MAC learning switching */
#define ST_OUT_DROP	0xfff1
int st_frame(struct sw *sw, struct st_gen *g, uint16_t in, const uint8_t **data,
	     uint32_t *len, uint8_t *buf, uint8_t *buf2, uint32_t cap, int *mirror);

#endif
