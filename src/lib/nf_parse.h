/* nf_parse.h - bounds-checked parsing of a frame's headers, the VNFs'
 * pre-processing stage.
 *
 * nf_parse() walks Ethernet, up to two VLAN tags, then ARP, IPv4 (with its
 * options) or IPv6 (with its extension headers), then the first bytes of
 * ICMP, ICMPv6, UDP or TCP, and records offsets. Every header is checked
 * to lie inside the frame *before* any of its bytes is read, and every
 * length field is checked against what the frame really holds ("lengths
 * that lie"). On success the caller may read each recorded header at its
 * offset without further checks. A failure returns a drop reason; the
 * frame must then be dropped and counted under nf_parse_err_name(reason).
 *
 * What is *not* checked here (policy, left to the VNF): IPv4 header
 * checksum (nf_ipv4_csum_ok()), addresses, TTL, L4 checksums.
 */
#ifndef NF_PARSE_H
#define NF_PARSE_H

#include "nf_proto.h"

#include <stdbool.h>
#include <stdint.h>

/* Why a frame does not parse: enum and names from one list. */
#define NF_PARSE_ERRS(_)						\
	_(OK,            "ok",                "")				\
	_(ETH_RUNT,      "eth-runt",          "shorter than an Ethernet header") \
	_(VLAN_TRUNC,    "vlan-truncated",    "802.1Q tag cut short")	\
	_(VLAN_DEPTH,    "vlan-too-deep",     "more than two VLAN tags")	\
	_(ARP_TRUNC,     "arp-truncated",     "ARP shorter than 28 bytes")	\
	_(ARP_FORMAT,    "arp-format",        "ARP not Ethernet/IPv4")	\
	_(IP4_TRUNC,     "ipv4-truncated",    "IPv4 header cut short")	\
	_(IP4_VERSION,   "ipv4-version",      "IPv4 version field not 4")	\
	_(IP4_IHL,       "ipv4-bad-ihl",      "IPv4 header length < 20 or past the frame") \
	_(IP4_TOTLEN,    "ipv4-bad-length",   "IPv4 total length < header or > frame") \
	_(IP4_OPTS,      "ipv4-bad-options",  "malformed IPv4 options")	\
	_(IP6_TRUNC,     "ipv6-truncated",    "IPv6 header cut short")	\
	_(IP6_VERSION,   "ipv6-version",      "IPv6 version field not 6")	\
	_(IP6_PLEN,      "ipv6-bad-length",   "IPv6 payload length > frame") \
	_(IP6_EXT_TRUNC, "ipv6-ext-truncated", "extension header past the payload") \
	_(IP6_EXT_CHAIN, "ipv6-ext-chain",    "more than 8 extension headers") \
	_(L4_TRUNC,      "l4-truncated",      "L4 header past the IP payload") \
	_(TCP_DOFF,      "tcp-bad-offset",    "TCP data offset < 5 or past the payload")

enum nf_parse_err {
#define NF_PERR_ENUM(e, n, d) NF_PERR_##e,
	NF_PARSE_ERRS(NF_PERR_ENUM)
#undef NF_PERR_ENUM
	NF_PERR_MAX
};

/* Frame properties found while parsing. */
#define NF_HDR_VLAN	0x01	/* at least one 802.1Q/802.1ad tag */
#define NF_HDR_IP_OPTS	0x02	/* IPv4 options present (IHL > 5) */
#define NF_HDR_FRAG	0x04	/* an IP fragment (IPv4 MF or offset, IPv6 frag header) */
#define NF_HDR_FRAG_LATER 0x08	/* ... and not the first one: no L4 header */
#define NF_HDR_IP6_EXT	0x10	/* IPv6 extension headers present */
#define NF_HDR_L4	0x20	/* l4_off points at a complete L4 header */

struct nf_hdrs {
	uint16_t ethertype;	/* after the tags, host order */
	uint16_t vlan;		/* VID of the outer tag, 0 if none */
	uint16_t l3_off;	/* offset of ARP / IPv4 / IPv6 */
	uint16_t l3_len;	/* IPv4 total length; IPv6: 40 + payload length;
				 * ARP: 28. Bytes of the frame past l3_off +
				 * l3_len are padding (Ethernet minimum) */
	uint16_t l4_off;	/* offset of the L4 header (valid with NF_HDR_L4),
				 * else of the first byte after the IP headers */
	uint16_t l4_len;	/* bytes from l4_off to the end of the IP packet */
	uint8_t l4_proto;	/* IPv4 protocol; IPv6: last next-header */
	uint8_t flags;		/* NF_HDR_* */
	uint16_t ip6_frag_off;	/* offset of the IPv6 fragment header, 0 none */
};

/* Parse the frame @p of @len bytes. Returns NF_PERR_OK (0) and fills @h,
 * or a drop reason (@h partly filled: l3_off is valid once the link layer
 * parsed). EtherTypes other than ARP/IPv4/IPv6 parse OK with l3_len 0. */
enum nf_parse_err nf_parse(const uint8_t *p, uint32_t len, struct nf_hdrs *h);

const char *nf_parse_err_name(enum nf_parse_err e);

bool nf_ipv4_csum_ok_slow(const struct nf_ipv4 *ip, unsigned ihl_bytes);

/* Verify the checksum of a 20-byte IPv4 header (no options). */
static inline bool nf_ipv4_csum20_ok(const struct nf_ipv4 *ip)
{
#if defined(__x86_64__)
	/* Linux's ip_fast_csum: five 32-bit words with an add-with-carry
	 * chain, folded to 16 bits: 11 instructions. */
	uint32_t sum, t;

	__asm__("movl (%2), %0\n\t"
		"addl 4(%2), %0\n\t"
		"adcl 8(%2), %0\n\t"
		"adcl 12(%2), %0\n\t"
		"adcl 16(%2), %0\n\t"
		"adcl $0, %0\n\t"
		"movl %0, %1\n\t"
		"shrl $16, %0\n\t"
		"addw %w1, %w0\n\t"
		"adcw $0, %w0"
		: "=&r"(sum), "=&r"(t)
		: "r"(ip), "m"(*(const char (*)[20])ip)
		: "cc");
	return (uint16_t)sum == 0xffff;
#else
	uint32_t w[5];
	uint64_t s;

	__builtin_memcpy(w, ip, 20);
	s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return s == 0xffff;
#endif
}

/* Verify an IPv4 header checksum (@ihl_bytes from nf_ipv4). */
static inline bool nf_ipv4_csum_ok(const struct nf_ipv4 *ip, unsigned ihl_bytes)
{
	if (__builtin_expect(ihl_bytes == 20, 1))
		return nf_ipv4_csum20_ok(ip);
	return nf_ipv4_csum_ok_slow(ip, ihl_bytes);
}

#endif
