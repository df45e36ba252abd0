/* firewall.h - nf-firewall internals shared by its files.
 *
 * nf-firewall sits between two ports as a bump in the wire: a frame that
 * passes leaves by the other port unchanged (no TTL decrement, no MAC
 * rewrite). Non-IP frames (ARP...) pass. IPv4 and IPv6 go through:
 *   pre      none;
 *   process  per frame, in order: non-IP frames are passed to the other
 *            port; IPv4 with a bad header checksum is dropped; a flow
 *            cache hit (below) decides a steady TCP / UDP packet at once;
 *            else the connection tracker (nf_ct) gives the packet's ct
 *            state (stateful mode), the classifier (nf_cls) finds the
 *            first matching rule (counter-only rules are counted on the
 *            way), the verdict is applied: accept (a NEW packet's
 *            connection is entered, as Linux confirms it when the packet
 *            leaves), drop, or reject (the answer is sent back out of the
 *            input port, see reject.c); no rule: policy;
 *   post     nothing per packet (the output port is the verdict).
 * Doing it all per packet in one pass keeps Linux's sequential meaning
 * inside a burst: the second packet of a new connection sees the entry
 * the first one made.
 */
#ifndef NF_FIREWALL_H
#define NF_FIREWALL_H

#include "nf_cls.h"
#include "nf_ct.h"
#include "nf_rule.h"
#include "nf_vnf.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* The firewall's drop reasons: one list makes the enum and the names. */
#define FW_DROPS(_)							\
	_(BAD_CSUM,      "ipv4-bad-checksum")				\
	_(RULE,          "rule-drop")					\
	_(POLICY,        "policy-drop")					\
	_(REJECT,        "rejected")					\
	_(CT_FULL,       "conntrack-full")

enum fw_drop {
#define FW_DROP_ENUM(e, n) FW_DROP_##e,
	FW_DROPS(FW_DROP_ENUM)
#undef FW_DROP_ENUM
	FW_DROP_MAX
};

/* Packet and byte counters (bytes: the IP packet, as nft counts). */
struct fw_count {
	uint64_t packets, bytes;
};

/* The verdict cache of a rule set (an exact-match microflow cache, as Open
 * vSwitch's): everything a rule can look at, packed into six words, ->
 * the deciding rule. Direct-mapped; a collision replaces the entry. Only
 * decisions reached without a counter-only rule on the way are cached
 * (those must count every rule they cross). */
#define FW_CACHE_SIZE	4096u		/* entries, a power of two */
#define FW_CACHE_NONE	UINT32_MAX	/* cached: no rule, the policy */

struct fw_centry {
	struct nf_cls_ckey k;
	uint32_t rule;			/* index, or FW_CACHE_NONE */
	uint32_t pad[3];		/* 64 bytes an entry */
};

/* The flow cache of a rule set (DESIGN "nf-firewall"): the steady
 * packets of a TCP / UDP flow (untagged IPv4, no options, not a fragment)
 * skip the connection lookup and the verdict cache. Two-way sets chosen
 * by the frame's addresses, ports, protocol and input port; a slot's key
 * adds the per-packet bytes a rule can read (TCP flags, DSCP) and its
 * value is the deciding rule and, stateful, a reference to the nf_ct
 * entry and direction (for nf_ct_refresh_ref(), inline) and the ct state
 * the rules saw. */
#define FW_FC_SETS	2048u		/* sets of FW_FC_WAYS slots, a power of two */
#define FW_FC_WAYS	2

struct fw_fslot {
	uint64_t addrs;			/* key: IPv4 header bytes 12-19 */
	uint64_t rest;			/* key: see fc_rest(); 0: empty */
	const struct nf_ct_entry *e;	/* nf_ct_entry(idx) (the table never
					 * moves); NULL: stateless */
	const struct nf_rule *rule;	/* the deciding rule; NULL: the policy */
	struct fw_count *count;		/* its counters (fw.policy for the policy) */
	struct nf_ct_ref ref;		/* the nf_ct entry, its life, direction */
	uint32_t used;			/* ms (now_ns / 10^6) of the last hit */
	uint8_t seen;			/* e->flags & NF_CT_F_SEEN_REPLY the rules saw */
	uint8_t act;			/* rule->verdict, or the policy's */
	uint8_t pad[6];			/* 64 bytes a slot */
};

/* One loaded rule set: the rules, their classifier, their counters.
 * Replaced as a whole (atomic replacement): packets see the old one or
 * the new one, never a mix. */
struct fw_gen {
	struct nf_ruleset rs;
	struct nf_cls *cls;
	struct fw_count *count;		/* one per rule */
	struct fw_centry *cache;	/* FW_CACHE_SIZE entries */
	uint64_t cache_misses;		/* classifier walks (hits: the rest) */
	struct fw_fslot *fc;		/* FW_FC_SETS x FW_FC_WAYS slots */
	struct fw_fslot *fc_port[2];	/* the halves of fc: port 0's, port 1's
					 * (a loaded pointer: the compiler keeps
					 * one register for it, not two) */
	uint64_t fc_hits, fc_fills;	/* packets the flow cache decided, slots filled */
	uint64_t fc_policy;		/* the policy its slots hold (fw_settings) */
	unsigned id;			/* 1, 2, ... */
	char file[PATH_MAX];
	int64_t loaded;			/* time(NULL) of the load */
	uint64_t parse_ns, build_ns;	/* how long loading took */
};

struct fw_settings {
	uint64_t policy;		/* 0 accept, 1 drop */
	uint64_t stateful, sessions, tcp_loose;
	uint64_t to_tcp[NF_CT_TCP_MAX];
	uint64_t to_udp, to_udp_stream, to_icmp, to_generic;
};

struct fw {
	struct fw_settings set;
	struct fw_settings applied;	/* what nf_ct was last given */
	char rules_file[PATH_MAX];	/* as resolved ("rules" directive) */
	char conf_dir[PATH_MAX];	/* relative rule files start here */
	struct fw_gen *gen;		/* in use; NULL: no rules (policy) */
	unsigned next_id;
	struct nf_ct *ct;
	struct fw_count policy;		/* packets no rule decided */
	uint64_t accepted, dropped, rejected, passed_other;
	uint64_t reject_sent;		/* answers sent */
	uint64_t loads, load_errors;
};

extern struct fw fw;

/* reject.c: send @f's rejection (nf_rule's NF_REJECT_* @kind and @code)
 * back out of port @in, as Linux's nft reject makes it; nothing for the
 * packets Linux does not answer. */
void fw_reject(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
	       uint8_t kind, uint8_t code);

/* rules.c: load @path into a new generation (parse + build; ports named
 * as @v's). 0 or -errno with nf_last_error() saying why (file:line). */
int fw_gen_load(struct nf_vnf *v, const char *path, struct fw_gen **out);
/* Empty @g's flow cache (after nf_ct_flush(): its entries are gone). */
void fw_fc_clear(struct fw_gen *g);
void fw_gen_free(struct fw_gen *g);
/* The `rules` control request: every rule with its counters. */
struct json_object;
void fw_gen_json(struct nf_vnf *v, const struct fw_gen *g, struct json_object *reply);
/* The `conntrack` control request: up to @max entries. */
void fw_ct_json(struct nf_vnf *v, uint32_t max, struct json_object *reply);

#endif
