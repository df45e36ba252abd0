/* nat.h - nf-nat internals shared by its files.
 *
 * nf-nat is a NAPT44 VNF (RFC 4787, 5382, 5508) between an inside and an
 * outside port, transparent at L2 (a bump in the wire) unless a port has
 * a next-hop MAC. On the framework (nf_vnf.h):
 *   pre      untagged IPv4 with a good header checksum goes on; ARP for a
 *            pool address on the outside port is answered (proxy ARP);
 *            IPv6 and non-IP frames pass to the other port unchanged;
 *            later fragments are translated from the first one's state
 *   process  the connection tracker (nf_ct) classifies the packet: an
 *            established session gives the translation; a new one gets
 *            its mapping (endpoint-independent, paired pooling, port
 *            preservation and parity), filtering, hairpinning; ICMP
 *            errors are translated here (outer, quoted packet, checksums)
 *   post     addresses and ports rewritten with RFC 1624 checksum updates,
 *            MACs rewritten when the output port has a next hop.
 *
 * Tables, all allocated at start:
 *   sessions   nf_ct entries: ORIG = the tuple of the first packet (the
 *              inside one for outbound sessions), REPLY = the translated
 *              inverse; e->user = mapping index | NAT_U_* flags
 *   mappings   (proto, inside address, inside port) -> (external address,
 *              external port), reference-counted by sessions; an index
 *              by inside endpoint and one by external endpoint
 *   filters    (mapping, remote address) -> sessions: has the inside
 *              endpoint sent to that address (address-dependent filtering)
 *   ports      one bitmap of 65536 bits per (pool address, protocol)
 *   static     1:1 address pairs, both directions, no per-flow state
 */
#ifndef NF_NAT_H
#define NF_NAT_H

#include "nf_csum.h"
#include "nf_ct.h"
#include "nf_vnf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define NAT_POOL_MAX	1024		/* external addresses */
#define NAT_STATIC_MAX	(1u << 20)	/* 1:1 address pairs */

/* The NAT's drop reasons: one list gives the enum and the names. */
#define NAT_DROPS(_)							\
	_(BAD_CSUM,      "ipv4-bad-checksum")				\
	_(VLAN,          "vlan-tagged")					\
	_(UNSUPPORTED,   "unsupported-protocol")			\
	_(NOT_POOL,      "not-for-pool")				\
	_(NO_MAPPING,    "no-mapping")					\
	_(FILTERED,      "filtered")					\
	_(SESSIONS_FULL, "session-table-full")				\
	_(NO_PORT,       "no-free-port")				\
	_(CLASH,         "tuple-clash")					\
	_(INVALID,       "invalid-state")				\
	_(WRONG_SIDE,    "wrong-side")					\
	_(HAIRPIN_OFF,   "hairpin-off")					\
	_(ICMP_NO_SESS,  "icmp-error-no-session")			\
	_(ICMP_BAD,      "icmp-error-malformed")			\
	_(ICMP_CSUM,     "icmp-error-bad-checksum")			\
	_(FRAG_NO_STATE, "fragment-no-state")				\
	_(ARP,           "arp-ignored")

enum nat_drop {
#define NAT_DROP_ENUM(e, n) NAT_DROP_##e,
	NAT_DROPS(NAT_DROP_ENUM)
#undef NAT_DROP_ENUM
	NAT_DROP_MAX
};

static inline uint16_t nat_reason(enum nat_drop d)
{
	return nf_vnf_reason(d);
}

/* Protocol slots of mappings and port bitmaps. */
enum { NAT_P_TCP, NAT_P_UDP, NAT_P_ICMP, NAT_P_MAX };

/* e->user of a session: the mapping it holds and how it began. */
#define NAT_U_MAP	0x00ffffffu
#define NAT_U_INBOUND	0x01000000u	/* first packet came from outside */
#define NAT_U_HAIRPIN	0x02000000u	/* inside to inside via the pool */

/* pkt->user between the stages: the session's direction, or "pass". */
#define NAT_K_DIR	0x1u		/* NF_CT_ORIG / NF_CT_REPLY */
#define NAT_K_PASS	0x2u		/* leave as it is (done or not IPv4) */
#define NAT_K_FRAG	0x4u		/* a first fragment: remember it */
#define NAT_K_DONE	0x8u		/* translated already: MACs only */
#define NAT_K_FAST	0x10u		/* the flow cache did it all (fwd.c) */

struct nat_map {
	uint32_t in_addr;		/* network order */
	uint16_t in_port;		/* network order (ICMP: identifier) */
	uint16_t ext_port;		/* network order */
	uint16_t ext;			/* pool index */
	uint8_t proto;			/* NAT_P_* */
	uint8_t used;
	uint32_t refs;			/* sessions */
};

/* An open-addressing hash table of 64-bit keys (bit 63 set: 0 is empty)
 * with a 32-bit value and a 32-bit count; linear probing, deletion by
 * backward shift (no tombstones). Constant time on average at a load of
 * at most 1/2 (sized so at start). */
struct nat_slot {
	uint64_t key;
	uint32_t val, refs;
};

struct nat_htab {
	struct nat_slot *s;
	uint32_t mask, count;
};

struct nat_pool_addr {
	uint32_t addr;			/* network order */
	uint16_t lo, hi;		/* port range, host order */
	uint64_t *bm[NAT_P_MAX];	/* 65536 bits each: port in use */
	uint32_t used[NAT_P_MAX];
};

struct nat_static {			/* a "static" line, before start */
	uint32_t in, ext, n;		/* host order; n addresses */
	unsigned line;
};

struct nat_settings {
	uint64_t sessions, filtering;
	uint64_t to_est, to_trans, to_udp, to_icmp;
	uint64_t hairpin, inbound_refresh;
};

struct nat {
	struct nat_settings set;
	struct nat_settings applied;	/* what nf_ct was last given */
	int inside, outside;		/* port indices, -1 unset */
	bool nh_set[2];			/* [0] inside, [1] outside */
	uint8_t nh_mac[2][6];
	/* by port index: a next hop is set; the MACs then written (dst, src) */
	bool l2_set[NF_VNF_PORTS_MAX];
	uint8_t l2_hdr[NF_VNF_PORTS_MAX][12];
	struct nf_ct *ct;
	/* pool */
	struct nat_pool_addr pool[NAT_POOL_MAX];
	unsigned npool;
	unsigned pool_line;		/* first pool line, for messages */
	/* mappings */
	struct nat_map *map;
	uint32_t nmap_max, map_count, map_free;	/* free: a list through refs */
	uint32_t map_hw;			/* slots ever used */
	struct nat_htab by_in, by_ext, filt;
	/* static 1:1 */
	struct nat_static *st;
	unsigned nst;
	struct nat_htab st_out, st_in;	/* inside -> external, external -> inside */
	/* fragments: the translation of the first fragment */
	struct nat_frag *frag;
	/* counters */
	uint64_t created, expired, map_created, map_expired;
	uint64_t xlat_out, xlat_in, hairpinned, icmp_err_out, icmp_err_in;
	uint64_t static_out, static_in, passed_ipv6, passed_other, arp_replies;
	uint64_t frag_xlat;
	uint64_t start_ns;
};

extern struct nat *nat;

/* main.c: give nf_ct the timeouts of the runtime keys (a "conf set" is
 * applied before the next burst is processed). */
void nat_apply(struct nat *n);

/* map.c: hash tables, pool, mappings, filters, static pairs */
int nat_htab_init(struct nat_htab *t, uint32_t entries);
void nat_htab_free(struct nat_htab *t);
struct nat_slot *nat_htab_find(const struct nat_htab *t, uint64_t key);
/* Insert @key (absent) with @val; NULL when full. */
struct nat_slot *nat_htab_add(struct nat_htab *t, uint64_t key, uint32_t val);
void nat_htab_del(struct nat_htab *t, struct nat_slot *s);

int nat_tables_init(struct nat *n);
void nat_tables_free(struct nat *n);
/* Pool index of @addr (network order), or -1. */
int nat_pool_find(const struct nat *n, uint32_t addr);
/* The mapping of (proto, inside address, port), or UINT32_MAX. */
uint32_t nat_map_find_in(struct nat *n, unsigned proto, uint32_t addr, uint16_t port);
uint32_t nat_map_find_ext(struct nat *n, unsigned proto, unsigned ext, uint16_t port);
/* Make a mapping (new: refs 0): paired pool address, port preserved if
 * free, else one of the same parity and range. An index or -ENOSPC (no
 * port: *no_port set) / -ENOMEM (table full). */
int nat_map_new(struct nat *n, unsigned proto, uint32_t addr, uint16_t port, bool *no_port);
void nat_map_put(struct nat *n, uint32_t idx);	/* drop a reference */
/* Give a fresh mapping another port (same rules); the old one stays taken
 * and is returned (host order) for nat_port_release(), or -ENOSPC. */
int nat_map_move(struct nat *n, uint32_t idx);
void nat_port_release(struct nat *n, unsigned ext, unsigned proto, unsigned port);
/* Reference (mapping, remote) in the filter table; release it. */
void nat_filt_get(struct nat *n, uint32_t map, uint32_t remote);
void nat_filt_put(struct nat *n, uint32_t map, uint32_t remote);
bool nat_filt_has(const struct nat *n, uint32_t map, uint32_t remote);
/* Static 1:1: the other address (network order) or 0. */
uint32_t nat_static_out(const struct nat *n, uint32_t inside);
uint32_t nat_static_in(const struct nat *n, uint32_t ext);
static inline unsigned nat_proto_slot(uint8_t ipproto)
{
	return ipproto == NF_IPPROTO_TCP ? NAT_P_TCP : ipproto == NF_IPPROTO_UDP ? NAT_P_UDP :
		ipproto == NF_IPPROTO_ICMP ? NAT_P_ICMP : NAT_P_MAX;
}
extern const uint8_t nat_ipproto[NAT_P_MAX];

/* fwd.c */
uint16_t nat_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
uint16_t nat_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		     const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
uint16_t nat_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		  const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
/* nf_ct_expire's callback: release the session's mapping and filter. */
void nat_session_gone(void *arg, uint32_t idx, struct nf_ct_entry *e);
/* Empty the flow cache and make its memory resident (at start: the
 * per-packet path then touches no new page). */
void nat_fc_init(void);

/* icmp.c: ICMP errors, proxy ARP, static NAT, fragments */
/* Translate the ICMP error @f (an IPv4 ICMP error, L4 present) arriving
 * on @in. Returns the output port, or -1 after counting a drop. */
int nat_icmp_error(struct nf_vnf *v, unsigned in, uint8_t *f, const struct nf_hdrs *h,
		   uint16_t *verdict, uint16_t i);
bool nat_icmp_is_error(uint8_t type);
void nat_arp_input(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
		   uint16_t *verdict, uint16_t i);
/* Static 1:1 translation of a frame arriving on @in, if an entry applies:
 * true (verdict set). */
bool nat_static_try(struct nf_vnf *v, unsigned in, uint8_t *f, const struct nf_hdrs *h,
		    uint16_t *verdict, uint16_t i);
int nat_frag_init(struct nat *n);
void nat_frag_free(struct nat *n);
/* A first fragment was translated (its IPv4 header before and after) and
 * leaves by @port: remember it for the later ones. */
void nat_frag_note(const uint8_t *ip_before, const uint8_t *ip_after, unsigned port,
		   uint64_t now);
/* A later fragment: translated as its first fragment was; the output
 * port, or -1 if no first fragment was seen (the caller drops it). */
int nat_frag_xlat(uint8_t *ip, const struct nf_hdrs *h, uint64_t now);

/* One's complement adjustment of checksum field @c by the sum @d of the
 * complemented old words and the new ones (RFC 1624 eqn. 3). */
static inline uint16_t nat_csum_adj(uint16_t c, uint64_t d)
{
	uint64_t s = (uint16_t)~c + d;
	uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32);

	lo += hi;			/* 64 -> 32 bits, end-around carry */
	lo += lo < hi;
	/* 32 -> 16: the high half of lo + (lo rotated by 16) is the sum of
	 * both halves with its end-around carry (Linux's csum_fold) */
	return (uint16_t)~((lo + (lo >> 16 | lo << 16)) >> 16);
}

/* Rewrite the IPv4 packet of frame @f to source @ns, destination @nd and,
 * when the L4 header is there, ports @nsp, @ndp (TCP, UDP) or identifier
 * @nsp (ICMP query); all network order. The IPv4, TCP, UDP and ICMP
 * checksums are updated incrementally (RFC 1624); a UDP checksum of 0 (none)
 * stays 0, and an updated one that comes out 0 is sent as 0xffff. */
static inline void nat_rewrite4(uint8_t *f, const struct nf_hdrs *h, uint32_t ns, uint32_t nd,
				uint16_t nsp, uint16_t ndp)
{
	uint8_t *ip = f + h->l3_off, *l4 = f + h->l4_off;
	const uint16_t np16[2] = { nsp, ndp };
	uint32_t os, od, op, np;
	uint64_t d;
	uint16_t c, oid;

	memcpy(&os, ip + 12, 4);
	memcpy(&od, ip + 16, 4);
	d = (uint64_t)(uint32_t)~os + (uint32_t)~od + ns + nd;
	memcpy(ip + 12, &ns, 4);
	memcpy(ip + 16, &nd, 4);
	memcpy(&c, ip + 10, 2);
	c = nat_csum_adj(c, d);
	memcpy(ip + 10, &c, 2);
	if (!(h->flags & NF_HDR_L4))
		return;
	switch (h->l4_proto) {
	case NF_IPPROTO_TCP:
		memcpy(&op, l4, 4);
		memcpy(&np, np16, 4);
		memcpy(l4, &np, 4);
		memcpy(&c, l4 + 16, 2);
		c = nat_csum_adj(c, d + (uint32_t)~op + np);
		memcpy(l4 + 16, &c, 2);
		break;
	case NF_IPPROTO_UDP:
		memcpy(&op, l4, 4);
		memcpy(&np, np16, 4);
		memcpy(l4, &np, 4);
		memcpy(&c, l4 + 6, 2);
		if (c != 0) {
			c = nat_csum_adj(c, d + (uint32_t)~op + np);
			memcpy(l4 + 6, c ? &c : &(const uint16_t){ 0xffff }, 2);
		}
		break;
	case NF_IPPROTO_ICMP:
		memcpy(&oid, l4 + 4, 2);
		memcpy(l4 + 4, &nsp, 2);
		memcpy(&c, l4 + 2, 2);
		c = nat_csum_adj(c, (uint16_t)~oid + (uint64_t)nsp);
		memcpy(l4 + 2, &c, 2);
		break;
	}
}

#endif
