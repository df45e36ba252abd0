/* nf_parse.c - bounds-checked header parsing (see nf_parse.h).
 *
 * Design. nf_parse() is a short straight-line fast path for the two frame
 * shapes that make up nearly all traffic: untagged IPv4 without options and
 * not a fragment, and untagged IPv6 without extension headers, each
 * carrying UDP, TCP or ICMP(v6). It only *accepts*: any frame it does not
 * fully recognise goes to parse_slow(), the general parser, which gives the
 * complete answer (including the precise drop reason). Correctness thus
 * rests on parse_slow() alone, and the fast path must agree with it on
 * every frame it accepts; tests/unit/test_parse.c and
 * tests/fuzz/fuzz_parse.c check exactly that: they build this file a
 * second time with NF_PARSE_SLOW_ONLY defined (and renamed) and compare
 * both parsers on every frame.
 *
 * Bounds discipline (both paths): an offset is only dereferenced after a
 * check that the bytes lie in [0, len), and every check is written as
 * "what is needed <= what is left", with what is left computed from a
 * larger value already proved (no overflow, no underflow). After the IP
 * header, "what is left" is the IP packet (l3_off + l3_len), not the
 * frame, so Ethernet padding is never parsed as headers. Fields are loaded
 * with memcpy() (ld16) or as single bytes: no unaligned access.
 *
 * Decisions the header leaves open:
 *  - Link-layer failures (ETH_RUNT, VLAN_*) leave l3_off 0: a valid l3_off
 *    is always >= 14. A VID 0 tag (priority tag) gives NF_HDR_VLAN, vlan 0.
 *    The third tag of VLAN_DEPTH is not read (its TPID alone says it).
 *  - ARP: l4_off = l3_off + 28, l4_len 0. Other EtherTypes: l3_len 0,
 *    l4_off = l3_off, l4_len 0, l4_proto 0.
 *  - IPv4: the evil/reserved flag bit is ignored; options are checked for
 *    framing only (EOL, NOP, length >= 2 within the option area), not for
 *    their contents (record-route pointers etc.). L4 headers recognised:
 *    ICMP (1), TCP, UDP. With IPv6: ICMPv6 (58), TCP, UDP.
 *  - IPv6: payload length 0 with a hop-by-hop header next (a jumbogram,
 *    RFC 2675, not supported) is NF_PERR_IP6_PLEN. So is an IPv6 packet
 *    that would end past frame offset 65535 (40 + payload length does not
 *    fit the 16-bit l3_len/l4_off; only possible in frames > 65535 bytes).
 *    (An IPv4 packet may end past 65535: its offsets still fit.)
 *    Extension headers walked: hop-by-hop (accepted anywhere in the chain,
 *    although RFC 8200 allows it only first), routing, destination
 *    options, fragment, AH; every one counts towards the limit of 8. Other
 *    next-header values (including mobility, HIP, shim6) end the chain as
 *    the upper layer. ESP and NONE end it with l4_proto 50 / 59, no L4.
 *    A fragment header with offset != 0 ends the walk (FRAG_LATER,
 *    l4_proto = its next header); an atomic fragment (offset 0, M clear)
 *    is not NF_HDR_FRAG. With several fragment headers (legal, absurd),
 *    ip6_frag_off is the one that makes the packet a fragment: the one
 *    with an offset, which ended the walk, else the first with M set,
 *    else the first.
 *  - On an error, @h holds what was parsed before it (l3_off, ethertype,
 *    flags so far); nothing else is promised.
 *  - Not checked: the UDP length field, L4 checksums (policy, see header).
 *
 * Cost, counted with valgrind --tool=callgrind (Ir per nf_parse() call,
 * its ret included, the caller's call not) on a driver parsing one frame
 * 100000 times, x86-64, -O2 -march=x86-64-v3:
 *					gcc 12	clang 14
 *	untagged IPv4/UDP, 60 bytes	25	26
 *	untagged IPv4/TCP, doff 5	40	40
 *	untagged IPv6/UDP		31	30
 *	802.1Q IPv4/UDP (slow path)	94	111
 *	IPv6 HBH+routing+frag+UDP	187	204
 * The IPv4/UDP path (objdump of the gcc build) is 16 instructions of
 * checks, branches included: len >= 42 (2); EtherType, version/IHL (4:
 * compares with memory operands); total length in [28, len - 14] (6:
 * movbe, zero-extend, two lea, cmp, jb); MF, fragment offset and protocol
 * in one masked 32-bit compare (4). Then 7 to write the 16 bytes of
 * nf_hdrs (4 stores of 32 bits, 3 ALU) and 2 to return 0. No stack frame; the slow path is a
 * tail call. The ~20-instruction budget is out of reach without dropping
 * a check: the result alone costs 9.
 */
#include "nf_parse.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

/* A 16-bit field as stored (network order). */
static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* A 16-bit field in host order. */
static inline uint16_t rd16(const uint8_t *p)
{
	return ntohs(ld16(p));
}

/* Minimum L4 header length of the protocols parsed after IPv4 / IPv6,
 * 0 for protocols not parsed. */
static inline uint32_t l4_min(uint8_t proto, int v6)
{
	switch (proto) {
	case NF_IPPROTO_UDP:
		return sizeof(struct nf_udp);
	case NF_IPPROTO_TCP:
		return sizeof(struct nf_tcp);
	case NF_IPPROTO_ICMP:
		return v6 ? 0 : sizeof(struct nf_icmp);
	case NF_IPPROTO_ICMPV6:
		return v6 ? sizeof(struct nf_icmp6) : 0;
	}
	return 0;
}

/* The L4 header at h->l4_off, h->l4_len bytes of IP payload. */
static enum nf_parse_err parse_l4(const uint8_t *p, struct nf_hdrs *h, int v6)
{
	uint32_t need = l4_min(h->l4_proto, v6);

	if (need == 0)
		return NF_PERR_OK;
	if (h->l4_len < need)
		return NF_PERR_L4_TRUNC;
	if (h->l4_proto == NF_IPPROTO_TCP) {
		uint32_t doff = (uint32_t)(p[h->l4_off + 12] >> 4) * 4;

		if (doff < sizeof(struct nf_tcp) || doff > h->l4_len)
			return NF_PERR_TCP_DOFF;
	}
	h->flags |= NF_HDR_L4;
	return NF_PERR_OK;
}

/* IPv4 options: @o, @n bytes (the area between the fixed header and
 * IHL * 4, inside the frame). */
static int ip4_opts_ok(const uint8_t *o, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t olen;

		if (o[i] == 0)		/* end of option list */
			return 1;
		if (o[i] == 1) {	/* no operation */
			i++;
			continue;
		}
		if (n - i < 2)
			return 0;
		olen = o[i + 1];
		if (olen < 2 || olen > n - i)
			return 0;
		i += olen;
	}
	return 1;
}

static enum nf_parse_err parse_ip4(const uint8_t *p, uint32_t len,
				   struct nf_hdrs *h)
{
	uint32_t off = h->l3_off, left = len - off, ihl, tot, fo;
	const uint8_t *ip = p + off;

	if (left < sizeof(struct nf_ipv4))
		return NF_PERR_IP4_TRUNC;
	if (ip[0] >> 4 != 4)
		return NF_PERR_IP4_VERSION;
	ihl = (uint32_t)(ip[0] & 15) * 4;
	if (ihl < sizeof(struct nf_ipv4) || ihl > left)
		return NF_PERR_IP4_IHL;
	tot = rd16(ip + offsetof(struct nf_ipv4, tot_len));
	if (tot < ihl || tot > left)
		return NF_PERR_IP4_TOTLEN;
	h->l3_len = (uint16_t)tot;
	h->l4_off = (uint16_t)(off + ihl);
	h->l4_len = (uint16_t)(tot - ihl);
	h->l4_proto = ip[offsetof(struct nf_ipv4, proto)];
	if (ihl > sizeof(struct nf_ipv4)) {
		h->flags |= NF_HDR_IP_OPTS;
		if (!ip4_opts_ok(ip + sizeof(struct nf_ipv4),
				 ihl - sizeof(struct nf_ipv4)))
			return NF_PERR_IP4_OPTS;
	}
	fo = rd16(ip + offsetof(struct nf_ipv4, frag_off));
	if (fo & (NF_IPV4_MF | NF_IPV4_OFFMASK))
		h->flags |= NF_HDR_FRAG;
	if (fo & NF_IPV4_OFFMASK) {
		h->flags |= NF_HDR_FRAG_LATER;
		return NF_PERR_OK;
	}
	return parse_l4(p, h, 0);
}

#define IP6_EXT_MAX	8

static enum nf_parse_err parse_ip6(const uint8_t *p, uint32_t len,
				   struct nf_hdrs *h)
{
	uint32_t off = h->l3_off, left = len - off, plen, end, n = 0;
	const uint8_t *ip = p + off;
	uint8_t nh;

	if (left < sizeof(struct nf_ipv6))
		return NF_PERR_IP6_TRUNC;
	if (ip[0] >> 4 != 6)
		return NF_PERR_IP6_VERSION;
	plen = rd16(ip + offsetof(struct nf_ipv6, payload_len));
	nh = ip[offsetof(struct nf_ipv6, next)];
	if (plen > left - sizeof(struct nf_ipv6) ||
	    (plen == 0 && nh == NF_IPPROTO_HOPOPTS) ||
	    off + sizeof(struct nf_ipv6) + plen > 0xffff)
		return NF_PERR_IP6_PLEN;
	h->l3_len = (uint16_t)(sizeof(struct nf_ipv6) + plen);
	off += sizeof(struct nf_ipv6);
	end = off + plen;		/* <= len, <= 0xffff */
	for (;;) {
		uint32_t elen;

		switch (nh) {
		case NF_IPPROTO_HOPOPTS:
		case NF_IPPROTO_ROUTING:
		case NF_IPPROTO_DSTOPTS:
		case NF_IPPROTO_AH:
			if (++n > IP6_EXT_MAX)
				return NF_PERR_IP6_EXT_CHAIN;
			if (end - off < sizeof(struct nf_ip6_ext))
				return NF_PERR_IP6_EXT_TRUNC;
			if (nh == NF_IPPROTO_AH)
				elen = ((uint32_t)p[off + 1] + 2) * 4;
			else
				elen = ((uint32_t)p[off + 1] + 1) * 8;
			if (elen > end - off)
				return NF_PERR_IP6_EXT_TRUNC;
			nh = p[off];
			off += elen;
			continue;
		case NF_IPPROTO_FRAGMENT: {
			uint16_t fo;

			if (++n > IP6_EXT_MAX)
				return NF_PERR_IP6_EXT_CHAIN;
			if (end - off < sizeof(struct nf_ip6_frag))
				return NF_PERR_IP6_EXT_TRUNC;
			fo = rd16(p + off + offsetof(struct nf_ip6_frag, off_m));
			/* the header that makes a fragment wins (several are
			 * legal, if absurd): see the file comment */
			if (h->ip6_frag_off == 0 || (fo & 0xfff8) ||
			    ((fo & 1) && !(h->flags & NF_HDR_FRAG)))
				h->ip6_frag_off = (uint16_t)off;
			nh = p[off];
			off += sizeof(struct nf_ip6_frag);
			if (fo & 0xfff9)	/* offset or M */
				h->flags |= NF_HDR_FRAG;
			if (fo & 0xfff8) {	/* offset: a later fragment */
				h->flags |= NF_HDR_FRAG_LATER | NF_HDR_IP6_EXT;
				h->l4_off = (uint16_t)off;
				h->l4_len = (uint16_t)(end - off);
				h->l4_proto = nh;
				return NF_PERR_OK;
			}
			continue;
		}
		}
		break;
	}
	if (n)
		h->flags |= NF_HDR_IP6_EXT;
	h->l4_off = (uint16_t)off;
	h->l4_len = (uint16_t)(end - off);
	h->l4_proto = nh;		/* ESP, NONE: no L4 (l4_min 0) */
	return parse_l4(p, h, 1);
}

static enum nf_parse_err parse_arp(const uint8_t *p, uint32_t len,
				   struct nf_hdrs *h)
{
	const uint8_t *a = p + h->l3_off;

	if (len - h->l3_off < sizeof(struct nf_arp))
		return NF_PERR_ARP_TRUNC;
	if (rd16(a + offsetof(struct nf_arp, hrd)) != NF_ARP_HRD_ETHER ||
	    rd16(a + offsetof(struct nf_arp, pro)) != NF_ETH_P_IPV4 ||
	    a[offsetof(struct nf_arp, hln)] != NF_ETH_ALEN ||
	    a[offsetof(struct nf_arp, pln)] != 4)
		return NF_PERR_ARP_FORMAT;
	h->l3_len = sizeof(struct nf_arp);
	h->l4_off = (uint16_t)(h->l3_off + sizeof(struct nf_arp));
	return NF_PERR_OK;
}

/* The general parser: every frame. */
static __attribute__((noinline)) enum nf_parse_err
parse_slow(const uint8_t *p, uint32_t len, struct nf_hdrs *h)
{
	uint32_t off = NF_ETH_HLEN, tags = 0;
	uint16_t type;

	memset(h, 0, sizeof(*h));
	if (len < NF_ETH_HLEN)
		return NF_PERR_ETH_RUNT;
	type = rd16(p + offsetof(struct nf_eth, type));
	while (type == NF_ETH_P_VLAN || type == NF_ETH_P_QINQ) {
		if (tags == 2)
			return NF_PERR_VLAN_DEPTH;
		if (len - off < NF_VLAN_HLEN)
			return NF_PERR_VLAN_TRUNC;
		if (tags++ == 0)
			h->vlan = rd16(p + off) & 0x0fff;
		type = rd16(p + off + 2);
		off += NF_VLAN_HLEN;
	}
	h->ethertype = type;
	h->flags = tags ? NF_HDR_VLAN : 0;
	h->l3_off = (uint16_t)off;
	h->l4_off = (uint16_t)off;
	switch (type) {
	case NF_ETH_P_IPV4:
		return parse_ip4(p, len, h);
	case NF_ETH_P_IPV6:
		return parse_ip6(p, len, h);
	case NF_ETH_P_ARP:
		return parse_arp(p, len, h);
	}
	return NF_PERR_OK;
}

#ifndef NF_PARSE_SLOW_ONLY
#define E	NF_ETH_HLEN					/* 14 */
#define IP4	(E + (uint32_t)sizeof(struct nf_ipv4))		/* 34 */
#define IP6	(E + (uint32_t)sizeof(struct nf_ipv6))		/* 54 */
/* frag_off, ttl, proto as one 32-bit load: the MF and offset bits, proto */
#define FRAG_PROTO	htonl((uint32_t)(NF_IPV4_MF | NF_IPV4_OFFMASK) << 16 | 0xff)

static inline void st32(struct nf_hdrs *h, size_t off, uint32_t v)
{
	memcpy((uint8_t *)h + off, &v, 4);
}

/* Fill all of @h for a fast-path frame: untagged, IP header of @hl bytes
 * at offset 14, @l3_len bytes of IP packet, a complete L4 header. On a
 * little-endian host as four 4-byte stores; l4_off/l4_len is derived from
 * l3_off/l3_len in one add. Left to itself gcc stores field by field,
 * each 16-bit constant through a register, or shifts values together
 * for 8-byte stores: either doubles the fast path's cost. */
static inline void fast_fill(struct nf_hdrs *h, uint16_t type, uint32_t l3_len,
			     uint32_t hl, uint8_t proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t w = E | l3_len << 16;		/* l3_off, l3_len */

	st32(h, 0, type);			/* ethertype, vlan 0 */
	st32(h, 4, w);
	st32(h, 8, w + hl - (hl << 16));	/* l3_off + hl, l3_len - hl */
	st32(h, 12, proto | (uint32_t)NF_HDR_L4 << 8); /* proto, flags, frag */
	/* A compiler barrier: without it gcc sinks the stores of all the
	 * fast-path exits into one shared block fed through registers,
	 * three more instructions on each exit. */
	__asm__ ("" : : : "memory");
#else
	h->ethertype = type;
	h->vlan = 0;
	h->l3_off = E;
	h->l3_len = (uint16_t)l3_len;
	h->l4_off = (uint16_t)(E + hl);
	h->l4_len = (uint16_t)(l3_len - hl);
	h->l4_proto = proto;
	h->flags = NF_HDR_L4;
	h->ip6_frag_off = 0;
#endif
}

/* IPv6 part of the fast path (out of line: sharing nf_parse()'s registers
 * costs the IPv4 path an instruction). EtherType and version checked. */
static __attribute__((noinline)) enum nf_parse_err
fast6(const uint8_t *p, uint32_t len, struct nf_hdrs *h)
{
	uint32_t plen = rd16(p + E + offsetof(struct nf_ipv6, payload_len));
	uint32_t doff;
	uint8_t nh = p[E + offsetof(struct nf_ipv6, next)];

	/* len in [62, 65535] (l3_len fits 16 bits); plen in [8, len - 54] */
	if (len - (IP6 + 8) > 0xffff - (IP6 + 8) || plen - 8 > len - IP6 - 8)
		goto slow;
	if (nf_likely(nh == NF_IPPROTO_UDP)) {
		fast_fill(h, NF_ETH_P_IPV6, plen + 40, 40, NF_IPPROTO_UDP);
		return NF_PERR_OK;
	}
	if (nh == NF_IPPROTO_TCP && plen >= 20) {
		doff = (uint32_t)(p[IP6 + 12] >> 2) & 0x3c;
		if (doff - 20 > plen - 20)
			goto slow;
		fast_fill(h, NF_ETH_P_IPV6, plen + 40, 40, NF_IPPROTO_TCP);
		return NF_PERR_OK;
	}
	if (nh == NF_IPPROTO_ICMPV6) {
		fast_fill(h, NF_ETH_P_IPV6, plen + 40, 40, NF_IPPROTO_ICMPV6);
		return NF_PERR_OK;
	}
slow:
	return parse_slow(p, len, h);
}

/* The fast path accepts untagged IPv4 without options, not a fragment,
 * and untagged IPv6 without extension headers, with a complete UDP, TCP
 * or ICMP(v6) header; everything else goes to parse_slow(). */
enum nf_parse_err nf_parse(const uint8_t *p, uint32_t len, struct nf_hdrs *h)
{
	uint32_t w, tot, doff;
	uint8_t proto;

	if (nf_unlikely(len < IP4 + 8))
		goto slow;
	if (nf_likely(ld16(p + 12) == htons(NF_ETH_P_IPV4) && p[E] == 0x45)) {
		/* tot in [28, len - 14] */
		tot = rd16(p + E + offsetof(struct nf_ipv4, tot_len));
		if (tot - 28 > len - IP4 - 8)
			goto slow;
		/* not MF, offset 0, UDP: frag_off, ttl, proto in one load */
		memcpy(&w, p + E + offsetof(struct nf_ipv4, frag_off), 4);
		if (nf_likely((w & FRAG_PROTO) == htonl(NF_IPPROTO_UDP))) {
			fast_fill(h, NF_ETH_P_IPV4, tot, 20, NF_IPPROTO_UDP);
			return NF_PERR_OK;
		}
		/* w is dead from here: reusing it costs the UDP path a copy */
		if (ld16(p + E + offsetof(struct nf_ipv4, frag_off)) &
		    htons(NF_IPV4_MF | NF_IPV4_OFFMASK))
			goto slow;
		proto = p[E + offsetof(struct nf_ipv4, proto)];
		if (proto == NF_IPPROTO_TCP && tot >= 40) {
			doff = (uint32_t)(p[IP4 + 12] >> 2) & 0x3c;
			if (doff - 20 > tot - 40)
				goto slow;
			fast_fill(h, NF_ETH_P_IPV4, tot, 20, NF_IPPROTO_TCP);
			return NF_PERR_OK;
		}
		if (proto == NF_IPPROTO_ICMP) {
			fast_fill(h, NF_ETH_P_IPV4, tot, 20, NF_IPPROTO_ICMP);
			return NF_PERR_OK;
		}
	}
	/* EtherType and IP version in one load (not shared with the IPv4
	 * test: gcc would then copy the value before masking it) */
	memcpy(&w, p + 12, 4);
	if ((w & htonl(0xfffff000)) == htonl((uint32_t)NF_ETH_P_IPV6 << 16 | 0x6000))
		return fast6(p, len, h);
slow:
	return parse_slow(p, len, h);
}
#else
enum nf_parse_err nf_parse(const uint8_t *p, uint32_t len, struct nf_hdrs *h)
{
	return parse_slow(p, len, h);
}
#endif

const char *nf_parse_err_name(enum nf_parse_err e)
{
	static const char *const names[] = {
#define NF_PERR_NAME(e, n, d) n,
		NF_PARSE_ERRS(NF_PERR_NAME)
#undef NF_PERR_NAME
	};

	if ((unsigned)e >= NF_PERR_MAX)
		return "unknown";
	return names[e];
}

bool nf_ipv4_csum_ok_slow(const struct nf_ipv4 *ip, unsigned ihl_bytes)
{
	return nf_csum_fold(nf_csum_partial(ip, ihl_bytes, 0)) == 0xffff;
}
