/* router.h - nf-router internals shared by its files.
 *
 * nf-router is an IPv4/IPv6 router VNF on the framework (nf_vnf.h):
 *   pre      ARP and neighbour discovery, the RFC 1812 / RFC 4443 sanity
 *            checks (martian addresses, header checksum), traffic for the
 *            router itself (echo, errors for other protocols);
 *   process  longest-prefix match (nf_lpm4 / nf_lpm6), TTL / hop limit;
 *   post     next-hop resolution (neighbour table, frames queued while a
 *            resolution runs), MTU (fragment IPv4, else ICMP), MAC rewrite.
 * ICMP and ICMPv6 errors go through one token bucket (icmp-rate/s, burst
 * icmp-burst) like Linux's icmp_msgs_per_sec / icmp_msgs_burst.
 */
#ifndef NF_ROUTER_H
#define NF_ROUTER_H

#include "nf_addr.h"
#include "nf_lpm4.h"
#include "nf_lpm6.h"
#include "nf_vnf.h"

#include <stdbool.h>
#include <stdint.h>

#define RT_ADDRS_MAX	64		/* interface addresses */
#define RT_NH_MAX	65536		/* next hops */

/* The router's drop reasons: one list gives the enum and the names. */
#define RT_DROPS(_)							\
	_(BAD_CSUM,      "ipv4-bad-checksum")				\
	_(MARTIAN_SRC,   "martian-source")				\
	_(MARTIAN_DST,   "martian-destination")				\
	_(BCAST,         "directed-broadcast")				\
	_(MCAST,         "multicast-not-routed")			\
	_(LINKLOCAL,     "link-local-not-routed")			\
	_(SRCROUTE,      "source-route-option")				\
	_(TTL,           "ttl-exceeded")				\
	_(NO_ROUTE,      "no-route")					\
	_(REJECT,        "reject-route")				\
	_(BLACKHOLE,     "blackhole-route")				\
	_(MTU,           "mtu-exceeded")				\
	_(NEIGH_FAIL,    "neighbour-unresolved")			\
	_(NEIGH_QFULL,   "resolution-queue-full")			\
	_(LOCAL_FRAG,    "local-fragment")				\
	_(ARP,           "arp-ignored")					\
	_(ND,            "nd-ignored")					\
	_(ICMP_LIMIT,    "icmp-rate-limited")				\
	_(NOT_IP,        "not-ip")					\
	_(VLAN,          "vlan-tagged")

enum rt_drop {
#define RT_DROP_ENUM(e, n) RT_DROP_##e,
	RT_DROPS(RT_DROP_ENUM)
#undef RT_DROP_ENUM
	RT_DROP_MAX
};

/* What a route leads to. The router's own addresses and the broadcast
 * addresses of its networks are host routes too (NH_LOCAL, NH_BCAST), so
 * one lookup classifies every destination. */
enum nh_kind { NH_GATEWAY, NH_CONNECTED, NH_REJECT, NH_BLACKHOLE, NH_LOCAL, NH_BCAST };

struct rt_nh {
	uint8_t kind;
	uint8_t port;
	uint16_t refs;
	struct nf_ip gw;		/* NH_GATEWAY */
};

struct rt_addr {
	uint8_t port;
	struct nf_prefix pfx;		/* the connected network */
	struct nf_ip ip;		/* the router's address in it */
};

/* Neighbour states. */
enum { NB_FREE, NB_INCOMPLETE, NB_REACHABLE, NB_STALE, NB_FAILED, NB_STATIC };

struct neigh {
	struct nf_ip ip;
	uint8_t port;
	uint8_t state;
	uint8_t mac[6];
	uint8_t probes;
	uint16_t qlen;			/* frames waiting */
	int32_t qhead, qtail;		/* slab indices, -1 none */
	uint64_t updated_ns, next_ns;	/* last confirmation, next probe */
};

/* Settings (keys). */
struct rt_settings {
	uint64_t icmp_rate, icmp_burst;
	uint64_t neigh_max, neigh_queue, neigh_queue_total;
	uint64_t neigh_reachable_ms, neigh_retrans_ms, neigh_probes;
	uint64_t ttl;			/* of frames the router originates */
};

struct router {
	struct rt_settings set;
	struct nf_lpm4 *fib4;
	struct nf_lpm6 *fib6;
	struct rt_nh nh[RT_NH_MAX];
	uint32_t nnh;			/* high-water mark */
	struct rt_addr addr[RT_ADDRS_MAX];
	unsigned naddr;
	/* Neighbours: open addressing on (family, address). */
	struct neigh *nb;
	uint32_t nb_mask, nb_count;
	/* Frames queued during resolution: a slab of buffers. */
	uint8_t *qbuf;
	uint32_t *qlen_of, *qnext, *qport_of;
	int32_t qfree;
	uint32_t qused;
	/* ICMP token bucket. */
	struct nf_tbucket icmp_tb;	/* icmp-rate, icmp-burst */
	uint64_t icmp_sent, arp_replies, nd_replies, echo_replies, probes_sent;
	uint64_t fragments_made, local_delivered;
	uint16_t ip_id;
	/* Routes configured before the tables exist (config time). */
	char (*pending_routes)[160];
	unsigned npending;
};

extern struct router *rt;

/* neigh.c */
int neigh_init(struct router *r);
void neigh_free(struct router *r);
struct neigh *neigh_lookup(struct router *r, const struct nf_ip *ip);
struct neigh *neigh_get(struct router *r, const struct nf_ip *ip, uint8_t port);
int neigh_set_static(struct router *r, const struct nf_ip *ip, uint8_t port,
		     const uint8_t mac[6]);
void neigh_learn(struct nf_vnf *v, const struct nf_ip *ip, uint8_t port,
		 const uint8_t mac[6], bool create);
int neigh_queue(struct nf_vnf *v, struct neigh *n, const uint8_t *frame, uint32_t len);
void neigh_tick(struct nf_vnf *v, uint64_t now);
void neigh_probe(struct nf_vnf *v, struct neigh *n);
void neigh_restart(struct neigh *n);
void neigh_json(struct nf_vnf *v, struct json_object *a);

/* icmp.c */
bool icmp_allow(struct nf_vnf *v);
void icmp4_error(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		 const struct nf_hdrs *h, uint8_t type, uint8_t code, uint32_t info);
void icmp6_error(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		 const struct nf_hdrs *h, uint8_t type, uint8_t code, uint32_t info);
void icmp4_redirect(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		    const struct nf_hdrs *h, uint32_t gw);
void icmp6_redirect(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		    const struct nf_hdrs *h, const uint8_t target[16]);
void local4(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h);
void local6(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h);
void arp_send_request(struct nf_vnf *v, unsigned port, uint32_t target);
void nd_send_solicit(struct nf_vnf *v, unsigned port, const uint8_t target[16]);
void arp_input(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h);
void nd_input(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h);

/* addresses (main.c) */
const struct rt_addr *addr_local(const struct nf_ip *ip);
const struct rt_addr *addr_on_port(unsigned port, uint8_t family);
const struct rt_addr *addr_for(unsigned port, const struct nf_ip *dst);
/* Is @ip on one of @port's networks (a neighbour there)? IPv6 link-local
 * addresses are on every port. */
bool addr_onlink(unsigned port, const struct nf_ip *ip);
/* The IPv6 link-local address of @port, or NULL. */
const struct rt_addr *addr_linklocal(unsigned port);

static inline bool rt_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}
bool addr_is_bcast4(uint32_t dst);

/* fwd.c */
uint16_t rt_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
uint16_t rt_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		    const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
uint16_t rt_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
/* Send an IPv4 frame (MACs set) bigger than @mtu as fragments on @port. */
void rt_fragment4(struct nf_vnf *v, unsigned port, uint8_t *frame,
		  const struct nf_hdrs *h, uint32_t mtu);
/* Send @frame (an IP packet behind an Ethernet header, MACs unset) towards
 * @dst: route, resolve, queue or send. Used for frames the router makes.
 * An IPv6 link-local @dst is on port @in (the port of the frame answered). */
void rt_output(struct nf_vnf *v, uint8_t *frame, uint32_t len, const struct nf_ip *dst,
	       unsigned in);

static inline uint16_t rt_reason(enum rt_drop d)
{
	return nf_vnf_reason(d);
}

#endif
