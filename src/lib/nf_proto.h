/* nf_proto.h - wire formats of the protocols the VNFs speak: Ethernet,
 * 802.1Q, ARP, IPv4, IPv6 (and its extension headers), ICMP, ICMPv6, UDP,
 * TCP. All fields are in network byte order; structs are packed and may
 * sit at any alignment (read them through these types, or memcpy).
 */
#ifndef NF_PROTO_H
#define NF_PROTO_H

#include <stdint.h>

#define NF_ETH_ALEN		6
#define NF_ETH_HLEN		14
#define NF_VLAN_HLEN		4
#define NF_ETH_P_IPV4		0x0800
#define NF_ETH_P_ARP		0x0806
#define NF_ETH_P_VLAN		0x8100
#define NF_ETH_P_QINQ		0x88a8
#define NF_ETH_P_IPV6		0x86dd
/* nfchain's data-path health probe, on the IEEE 802 local experimental
 * EtherType 1: after the Ethernet header the magic "NFCP", then the
 * sender's own bytes. A VNF sends it on from its other port with the MACs
 * swapped (nf_vnf.c), through its receive and transmit paths but no stage;
 * nfswitch switches it by MAC learning, never by its steering. */
#define NF_ETH_P_NFPROBE	0x88b5
#define NF_PROBE_MAGIC		"NFCP"

/* A frame nfswitch copies to a capture sink (nfchain capture, its
 * capture-start request): this header, then the first @caplen bytes of
 * the frame as the switch saw it. Host byte order: the switch and the
 * capture tool run on one machine. */
#define NF_CAP_MAGIC		0x5043464eu	/* "NFCP" read as bytes */
#define NF_CAP_RX		0	/* received by the switch on the port */
#define NF_CAP_TX		1	/* sent by the switch to the port */
struct nf_cap_hdr {
	uint32_t magic;		/* NF_CAP_MAGIC */
	uint32_t len;		/* the frame's length (without FCS) */
	uint64_t t_ns;		/* CLOCK_REALTIME when the switch received
				 * (rx) or forwarded (tx) the frame's burst */
	uint32_t id;		/* the capture (capture-start's reply) */
	uint16_t port;		/* the switch port's index */
	uint8_t dir;		/* NF_CAP_RX or NF_CAP_TX */
	uint8_t pad;
};

#define NF_IPPROTO_HOPOPTS	0
#define NF_IPPROTO_ICMP		1
#define NF_IPPROTO_TCP		6
#define NF_IPPROTO_UDP		17
#define NF_IPPROTO_ROUTING	43
#define NF_IPPROTO_FRAGMENT	44
#define NF_IPPROTO_ESP		50
#define NF_IPPROTO_AH		51
#define NF_IPPROTO_ICMPV6	58
#define NF_IPPROTO_NONE		59
#define NF_IPPROTO_DSTOPTS	60

struct nf_eth {
	uint8_t dst[NF_ETH_ALEN];
	uint8_t src[NF_ETH_ALEN];
	uint16_t type;
} __attribute__((packed));

struct nf_vlan {
	uint16_t tci;		/* PCP(3) DEI(1) VID(12) */
	uint16_t type;		/* the encapsulated EtherType */
} __attribute__((packed));

#define NF_ARP_HRD_ETHER	1
#define NF_ARP_OP_REQUEST	1
#define NF_ARP_OP_REPLY		2

struct nf_arp {			/* Ethernet/IPv4 only */
	uint16_t hrd;
	uint16_t pro;
	uint8_t hln;
	uint8_t pln;
	uint16_t op;
	uint8_t sha[NF_ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[NF_ETH_ALEN];
	uint8_t tpa[4];
} __attribute__((packed));

#define NF_IPV4_DF		0x4000
#define NF_IPV4_MF		0x2000
#define NF_IPV4_OFFMASK		0x1fff

struct nf_ipv4 {
	uint8_t ver_ihl;	/* version 4, IHL in 32-bit words */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;	/* flags | fragment offset (8-byte units) */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t saddr;
	uint32_t daddr;
} __attribute__((packed));

struct nf_ipv6 {
	uint32_t ver_tc_flow;	/* version 6, traffic class, flow label */
	uint16_t payload_len;
	uint8_t next;
	uint8_t hop_limit;
	uint8_t saddr[16];
	uint8_t daddr[16];
} __attribute__((packed));

struct nf_ip6_ext {		/* hop-by-hop, routing, destination options */
	uint8_t next;
	uint8_t len;		/* in 8-octet units, not counting the first 8 */
} __attribute__((packed));

struct nf_ip6_frag {
	uint8_t next;
	uint8_t reserved;
	uint16_t off_m;		/* offset(13) res(2) M(1) */
	uint32_t id;
} __attribute__((packed));

#define NF_ICMP_ECHOREPLY	0
#define NF_ICMP_DEST_UNREACH	3
#define NF_ICMP_REDIRECT	5
#define NF_ICMP_ECHO		8
#define NF_ICMP_TIME_EXCEEDED	11
#define NF_ICMP_PARAMPROB	12
#define NF_ICMP_NET_UNREACH	0	/* codes of DEST_UNREACH */
#define NF_ICMP_HOST_UNREACH	1
#define NF_ICMP_PORT_UNREACH	3
#define NF_ICMP_FRAG_NEEDED	4

struct nf_icmp {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	union {
		struct { uint16_t id, seq; } echo;
		struct { uint16_t unused, mtu; } frag;
		uint32_t gateway;
		uint32_t rest;
	};
} __attribute__((packed));

#define NF_ICMP6_DST_UNREACH	1
#define NF_ICMP6_PKT_TOOBIG	2
#define NF_ICMP6_TIME_EXCEED	3
#define NF_ICMP6_PARAMPROB	4
#define NF_ICMP6_ECHO_REQUEST	128
#define NF_ICMP6_ECHO_REPLY	129
#define NF_ND_ROUTER_SOLICIT	133
#define NF_ND_ROUTER_ADVERT	134
#define NF_ND_NEIGHBOR_SOLICIT	135
#define NF_ND_NEIGHBOR_ADVERT	136
#define NF_ND_OPT_SRC_LLADDR	1
#define NF_ND_OPT_TGT_LLADDR	2
#define NF_ND_NA_ROUTER		0x80000000u
#define NF_ND_NA_SOLICITED	0x40000000u
#define NF_ND_NA_OVERRIDE	0x20000000u

struct nf_icmp6 {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	union {
		struct { uint16_t id, seq; } echo;
		uint32_t mtu;		/* packet too big */
		uint32_t pointer;	/* parameter problem */
		uint32_t flags;		/* neighbour advertisement */
		uint32_t rest;
	};
} __attribute__((packed));

struct nf_nd {			/* NS/NA body after struct nf_icmp6 */
	uint8_t target[16];
} __attribute__((packed));

struct nf_udp {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
} __attribute__((packed));

#define NF_TCP_FIN	0x01
#define NF_TCP_SYN	0x02
#define NF_TCP_RST	0x04
#define NF_TCP_PSH	0x08
#define NF_TCP_ACK	0x10
#define NF_TCP_URG	0x20

struct nf_tcp {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;		/* data offset in the high 4 bits */
	uint8_t flags;
	uint16_t win;
	uint16_t csum;
	uint16_t urg;
} __attribute__((packed));

_Static_assert(sizeof(struct nf_eth) == 14, "eth");
_Static_assert(sizeof(struct nf_arp) == 28, "arp");
_Static_assert(sizeof(struct nf_ipv4) == 20, "ipv4");
_Static_assert(sizeof(struct nf_ipv6) == 40, "ipv6");
_Static_assert(sizeof(struct nf_ip6_frag) == 8, "ip6 frag");
_Static_assert(sizeof(struct nf_icmp) == 8, "icmp");
_Static_assert(sizeof(struct nf_icmp6) == 8, "icmp6");
_Static_assert(sizeof(struct nf_udp) == 8, "udp");
_Static_assert(sizeof(struct nf_tcp) == 20, "tcp");

#endif
