/* nf_srv6.h - SRv6: the segment routing header (RFC 8754), the head-end
 * and endpoint behaviours of RFC 8986, and the SR proxy for SR-unaware
 * VNFs (draft-ietf-spring-sr-service-programming, static End.AS and
 * dynamic End.AD), as pure functions over frames.
 *
 * Every behaviour reads a received frame IN of LEN bytes (read-only: the
 * switch reads it in the sender's memory), already parsed by nf_parse()
 * into H, and writes the resulting frame into OUT (CAP bytes; IN and OUT
 * must not overlap). It returns the length of the frame in OUT (> 0), or
 * a drop reason as a negative number: -NF_SRV6_xxx, named by
 * nf_srv6_drop_name(). Nothing is allocated, locked or called into the
 * kernel. After a drop OUT is unspecified (End.AD's cache is only
 * updated by a packet that passes).
 *
 * Frames are Ethernet with zero, one or two 802.1Q/802.1ad tags, kept as
 * they were received (their EtherType follows the new network header).
 * Ethernet padding after the IP packet is dropped (an inner packet is cut
 * to its own length), so outputs may be shorter than 60 bytes: the port
 * pads if its medium needs it.
 *
 * Segment lists are given in traversal order, first segment first, as a
 * user writes them (`segs A,B,C`); on the wire Segment List[0] is the last
 * one (RFC 8754 section 2).
 *
 * The endpoint functions do not compare the destination address with the
 * SID: the caller's match on the IPv6 destination chose the behaviour.
 */
#ifndef NF_SRV6_H
#define NF_SRV6_H

#include "nf_parse.h"
#include "nf_proto.h"

#include <stdint.h>

#define NF_SRV6_SEGS_MAX	16
#define NF_IPPROTO_IPIP		4	/* IPv4 in IPv6 */
#define NF_IPPROTO_IPV6		41	/* IPv6 in IPv6 */
#define NF_IPPROTO_ETHERNET	143	/* Ethernet in IPv6 (RFC 8986) */
#define NF_SRH_TYPE		4	/* routing type of the SRH */
#define NF_SRH_TLV_PAD1		0
#define NF_SRH_TLV_PADN		4
#define NF_SRH_TLV_PADN_MAX	5	/* RFC 8754 2.1.1.2: length 0 to 5 */

/* An SRv6 SID: an IPv6 address, as stored on the wire. */
struct nf_srv6_sid {
	uint8_t b[16];
};

/* A segment list in traversal order: sid[0] is visited first. */
struct nf_srv6_segs {
	unsigned n;		/* 1 .. NF_SRV6_SEGS_MAX */
	struct nf_srv6_sid sid[NF_SRV6_SEGS_MAX];
};

/* The fixed part of the SRH (RFC 8754 section 2); Segment List[0..last]
 * and TLVs follow. */
struct nf_srh {
	uint8_t next;
	uint8_t hdr_len;	/* 8-octet units, not counting the first 8 */
	uint8_t type;		/* 4 */
	uint8_t sl;		/* segments left */
	uint8_t last;		/* last entry: index of the last element */
	uint8_t flags;
	uint16_t tag;
} __attribute__((packed));

_Static_assert(sizeof(struct nf_srh) == 8, "srh");
_Static_assert(sizeof(struct nf_srv6_sid) == 16, "sid");

/* A validated SRH inside a frame (from nf_srv6_srh_parse()). */
struct nf_srv6_view {
	uint16_t srh_off;	/* offset of the SRH in the frame */
	uint16_t srh_len;	/* its length in bytes, 8 * (hdr_len + 1) */
	uint16_t tlv_off;	/* offset of its first TLV (== end: none) */
	uint8_t next;		/* its next header */
	uint8_t sl;		/* segments left */
	uint8_t last;		/* last entry */
};

/* The segment at Segment List[@i] (wire order, i <= v->last) of a frame. */
static inline const uint8_t *nf_srv6_seg(const uint8_t *frame,
					 const struct nf_srv6_view *v,
					 unsigned i)
{
	return frame + v->srh_off + sizeof(struct nf_srh) + 16u * i;
}

/* Why a behaviour did not produce a frame: enum and names from one list,
 * so that the switch counts drops by name. */
#define NF_SRV6_DROPS(_)						\
	_(OK,            "ok",                  "")			\
	_(NOT_IPV6,      "srv6-not-ipv6",       "endpoint: the frame is not IPv6") \
	_(NO_SRH,        "srv6-no-srh",         "no routing header of type 4 where one is needed") \
	_(BAD_SRH,       "srv6-bad-srh",        "SRH lengths inconsistent: last entry past hdr ext len, or past the packet") \
	_(SL_BEYOND,     "srv6-sl-beyond",      "segments left > last entry + 1") \
	_(BAD_TLV,       "srv6-bad-tlv",        "SRH TLVs do not fill the header exactly, or PadN longer than 5") \
	_(SL_ZERO,       "srv6-sl-zero",        "End/End.X/proxy: segments left is 0") \
	_(SL_NOT_ZERO,   "srv6-sl-not-zero",    "End.DX/End.DT: segments left is not 0") \
	_(HOP_LIMIT,     "srv6-hop-limit",      "outer hop limit <= 1 (ICMPv6 time exceeded)") \
	_(FRAGMENT,      "srv6-fragment",       "decapsulation of an outer IPv6 fragment") \
	_(INNER_NOT_IPV4, "srv6-inner-not-ipv4", "upper-layer header is not IPv4 (4)") \
	_(INNER_NOT_IPV6, "srv6-inner-not-ipv6", "upper-layer header is not IPv6 (41)") \
	_(INNER_BAD,     "srv6-inner-malformed", "inner IPv4/IPv6 header cut short or lengths that lie") \
	_(INNER_TTL,     "srv6-inner-ttl",      "End.DX/End.DT: inner TTL / hop limit <= 1 (as Linux's forwarding)") \
	_(NOT_IP,        "srv6-not-ip",         "H.Encaps / proxy return: the frame is not IPv4 or IPv6") \
	_(TOO_BIG,       "srv6-too-big",        "the result does not fit OUT or an IPv6 payload length") \
	_(NO_CACHE,      "srv6-proxy-no-cache", "End.AD return: nothing cached yet for this replica and type") \
	_(CACHE_TOO_BIG, "srv6-proxy-hdrs-too-big", "End.AD: headers longer than a cache slot") \
	_(BAD_REPLICA,   "srv6-proxy-bad-replica", "proxy: replica index out of range")

enum nf_srv6_drop {
#define NF_SRV6_DROP_ENUM(e, n, d) NF_SRV6_##e,
	NF_SRV6_DROPS(NF_SRV6_DROP_ENUM)
#undef NF_SRV6_DROP_ENUM
	NF_SRV6_DROP_MAX
};

/* The counter name of a reason ("srv6-..."), "?" out of range. */
const char *nf_srv6_drop_name(enum nf_srv6_drop r);

/* Find and validate the SRH of the IPv6 frame @p (@h from nf_parse() of
 * it; the SRH may follow hop-by-hop and destination options headers).
 * RFC 8754 section 4.3 / RFC 8986 section 4.1: type 4, last entry <=
 * hdr ext len / 2 - 1 (NF_SRV6_BAD_SRH), segments left <= last entry + 1
 * (the reduced SRH of H.Encaps.Red, section 4.1.1 of RFC 8754; else
 * NF_SRV6_SL_BEYOND), the SRH inside the IPv6 packet (NF_SRV6_BAD_SRH;
 * nf_parse() already refuses it), the TLVs after the list exactly filling
 * the header, Pad1 one byte, PadN length <= 5, other types skipped by
 * their length (NF_SRV6_BAD_TLV). A routing header of another type, or
 * none before the upper layer: NF_SRV6_NO_SRH. Not IPv6: NF_SRV6_NOT_IPV6.
 * Returns NF_SRV6_OK and fills @v, or the reason. Reads only bytes inside
 * the IPv6 packet. */
enum nf_srv6_drop nf_srv6_srh_parse(const uint8_t *p, const struct nf_hdrs *h,
				    struct nf_srv6_view *v);

/* ---- head-end: H.Encaps, H.Encaps.Red, H.Encaps.L2(.Red) ---- */

enum nf_srv6_mode {
	NF_SRV6_ENCAPS,		/* full SRH, SL = n-1 */
	NF_SRV6_ENCAPS_RED,	/* first SID only in the DA; n = 1: no SRH */
	NF_SRV6_ENCAPS_L2,	/* H.Encaps.L2: the whole frame, next header 143 */
	NF_SRV6_ENCAPS_L2_RED,
};

#define NF_SRV6_HDRS_MAX (40 + 8 + 16 * NF_SRV6_SEGS_MAX)

/* A compiled SR policy: the outer IPv6 header and SRH as a template. */
struct nf_srv6_encap {
	uint8_t mode;		/* enum nf_srv6_mode */
	uint8_t nh_off;		/* where the per-packet next header goes */
	uint16_t hlen;		/* bytes of hdr: 40 + SRH (0 with none) */
	uint8_t hdr[NF_SRV6_HDRS_MAX];
};

/* Compile the policy: outer source @src, segment list @segs, @mode.
 * @first is the traversal index of the segment the packet goes to next
 * (0 for a head end: DA = segs->sid[0], SL = n-1; the static proxy passes
 * the index after its own SID to resume the chain with the full list).
 * Returns 0, or -EINVAL (message via nf_set_error()) for n out of 1..16,
 * @first >= n, a reduced mode with @first != 0, or an unknown mode. */
int nf_srv6_encap_init(struct nf_srv6_encap *e, const struct nf_srv6_sid *src,
		       const struct nf_srv6_segs *segs, unsigned first,
		       enum nf_srv6_mode mode);

/* H.Encaps / H.Encaps.Red of the IPv4 or IPv6 packet in @in (@h): OUT =
 * the frame's Ethernet header and tags (MACs unchanged: the caller sets
 * them), EtherType IPv6, the template, the inner packet without Ethernet
 * padding. Outer header: hop limit 64; traffic class copied from the inner
 * packet (IPv4 TOS / IPv6 traffic class, DSCP and ECN: the uniform model,
 * RFC 6040 normal mode for ECN; Linux copies it for IPv6 inner packets and
 * sets 0 for IPv4); flow label a hash of the inner 5-tuple (addresses,
 * protocol, ports of TCP/UDP non-later-fragments; RFC 6437, never 0;
 * Linux's default copies an IPv6 inner label, 0 for IPv4); next header 4 or
 * 41. L2 modes carry all @len bytes of the frame (tags and padding
 * included, RFC 8986 section 5.3) under a new untagged Ethernet header
 * with the frame's MACs, any EtherType; TC 0, flow label from the inner
 * IP 5-tuple when there is one, else from the MACs.
 * Returns the length, -NF_SRV6_NOT_IP (L3 modes, not IPv4/IPv6) or
 * -NF_SRV6_TOO_BIG. */
int nf_srv6_encaps(const struct nf_srv6_encap *e, const uint8_t *in,
		   uint32_t len, const struct nf_hdrs *h, uint8_t *out,
		   uint32_t cap);

/* ---- endpoint behaviours ---- */

/* The L2 rewrite of an adjacency: next hop's MAC and ours. */
struct nf_srv6_adj {
	uint8_t dst[NF_ETH_ALEN];
	uint8_t src[NF_ETH_ALEN];
};

/* End (@adj NULL: MACs as received, the caller's FIB picks the port) and
 * End.X (@adj: MACs rewritten to the adjacency's; the caller outputs on
 * its port). RFC 8986 section 4.1, in its order: SL > 0 (else
 * NF_SRV6_SL_ZERO: upper layer processing is not ours), hop limit > 1 (else
 * NF_SRV6_HOP_LIMIT), then the SRH validated (nf_srv6_srh_parse()'s
 * reasons; an SRH not whole in the packet first of all, since its SL cannot
 * be trusted); nf_srv6_icmp_error() builds the ICMPv6 error of each. Then
 * hop limit - 1, SL - 1, DA = Segment List[SL]. The rest of the frame is
 * copied as is (padding dropped). Returns the length or -reason. */
int nf_srv6_end(const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		const struct nf_srv6_adj *adj, uint8_t *out, uint32_t cap);

/* End.DX4 / End.DT4 (@want NF_IPPROTO_IPIP) and End.DX6 / End.DT6
 * (NF_IPPROTO_IPV6). RFC 8986 sections 4.4-4.8: with an SRH, SL must be 0
 * (NF_SRV6_SL_NOT_ZERO; a malformed SRH gives its reason); no SRH is
 * fine. The upper-layer header after every extension header must be
 * @want (NF_SRV6_INNER_NOT_IPV4 / _IPV6), the outer packet not a fragment
 * (NF_SRV6_FRAGMENT), the inner header complete and its lengths inside
 * the outer payload (NF_SRV6_INNER_BAD). OUT = the Ethernet header and
 * tags, EtherType of the inner packet, the inner packet cut to its own
 * length. As Linux's seg6local does (it hands the inner packet to
 * ip_forward / ip6_forward), the inner TTL / hop limit is decremented
 * (IPv4 checksum updated, RFC 1624) and a packet with TTL <= 1 dropped
 * (NF_SRV6_INNER_TTL). @adj: End.DX (MACs rewritten to the next hop);
 * NULL: End.DT, MACs as received: the caller looks the inner destination
 * up (nf_srv6_inner_daddr()) and rewrites them. Returns the length or
 * -reason. */
int nf_srv6_end_dx(const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		   uint8_t want, const struct nf_srv6_adj *adj, uint8_t *out,
		   uint32_t cap);

static inline int nf_srv6_end_dx4(const uint8_t *in, uint32_t len,
				  const struct nf_hdrs *h,
				  const struct nf_srv6_adj *adj, uint8_t *out,
				  uint32_t cap)
{
	return nf_srv6_end_dx(in, len, h, NF_IPPROTO_IPIP, adj, out, cap);
}

static inline int nf_srv6_end_dx6(const uint8_t *in, uint32_t len,
				  const struct nf_hdrs *h,
				  const struct nf_srv6_adj *adj, uint8_t *out,
				  uint32_t cap)
{
	return nf_srv6_end_dx(in, len, h, NF_IPPROTO_IPV6, adj, out, cap);
}

static inline int nf_srv6_end_dt4(const uint8_t *in, uint32_t len,
				  const struct nf_hdrs *h, uint8_t *out,
				  uint32_t cap)
{
	return nf_srv6_end_dx(in, len, h, NF_IPPROTO_IPIP, 0, out, cap);
}

static inline int nf_srv6_end_dt6(const uint8_t *in, uint32_t len,
				  const struct nf_hdrs *h, uint8_t *out,
				  uint32_t cap)
{
	return nf_srv6_end_dx(in, len, h, NF_IPPROTO_IPV6, 0, out, cap);
}

/* The destination address of the packet End.DT4/DT6 wrote into @out:
 * 4 or 16 bytes at the returned pointer (@l3_off: the received frame's
 * h->l3_off, unchanged by decapsulation). */
static inline const uint8_t *nf_srv6_inner_daddr(const uint8_t *out,
						 uint16_t l3_off, uint8_t want)
{
	return out + l3_off + (want == NF_IPPROTO_IPIP ? 16 : 24);
}

/* The ICMPv6 error an SRv6 endpoint sends about the IPv6 frame @in it
 * drops for @why (RFC 8754 4.3.1.1, RFC 8986 4.1 and 4.1.1), from @src (the
 * SID) to the packet's source:
 *  - NF_SRV6_HOP_LIMIT: Time Exceeded, code 0;
 *  - NF_SRV6_SL_BEYOND, NF_SRV6_BAD_SRH (last entry past hdr ext len),
 *    NF_SRV6_SL_NOT_ZERO (End.DX, End.DT): Parameter Problem, code 0, the
 *    pointer at Segments Left; an SRH cut short or running past the packet
 *    gets none;
 *  - NF_SRV6_SL_ZERO, NF_SRV6_INNER_NOT_IPV4, NF_SRV6_INNER_NOT_IPV6 and
 *    NF_SRV6_NO_SRH: Parameter Problem, code 4 (SR upper-layer header
 *    error), the pointer at the upper-layer header; but a routing header
 *    of another type with segments left (RFC 8200 4.4): code 0, the
 *    pointer at its routing type;
 *  - any other reason, or a fragment's upper layer: none.
 * Never (RFC 4443 2.4 e) to a link-layer or IPv6 multicast destination,
 * from a multicast or unspecified source, or about an ICMPv6 error.
 * Built as Linux's icmpv6_send() builds it: MACs swapped, tags kept,
 * traffic class and flow label 0, hop limit 64, the offending packet
 * quoted from its IPv6 header as far as the reply stays within 1280 bytes
 * (IPv6 minimum MTU), checksum over the pseudo-header. (Linux's End checks
 * the hop limit in ip6_forward(), after updating SL and DA, so it quotes the
 * updated packet; RFC 8986 checks before the update, and so do we: the
 * quote is the packet as received.) Returns the length, 0 when no error is
 * to be sent, -NF_SRV6_NOT_IPV6 or -NF_SRV6_TOO_BIG (@cap). */
int nf_srv6_icmp_error(const uint8_t *in, const struct nf_hdrs *h, enum nf_srv6_drop why,
		       const struct nf_srv6_sid *src, uint8_t *out, uint32_t cap);

/* ---- SR proxy for SR-unaware VNFs ---- */

/* Room of a cache slot: outer IPv6 header and all its extension headers
 * (16 segments, 64 bytes of TLVs or other extension headers). */
#define NF_SRV6_PROXY_HDRS_MAX	(40 + 8 + 16 * NF_SRV6_SEGS_MAX + 64)
#define NF_SRV6_PROXY_REPLICAS_MAX 16

/* The headers End.AD removed, for one (replica, inner type). */
struct nf_srv6_proxy_slot {
	uint16_t len;		/* 0: nothing cached */
	uint16_t pad;
	uint32_t updates;	/* times the content changed */
	uint8_t hdr[NF_SRV6_PROXY_HDRS_MAX];	/* payload length, flow label 0 */
};

/* The dynamic proxy state of one End.AD SID, owned by the caller: the
 * draft keys the cache by the proxy's interface and the inner type; one
 * SID fronting several replicas of a VNF (one interface each) has a slot
 * per replica and type. One writer at a time per replica (the caller
 * serializes, e.g. one proxy object per switch thread). */
struct nf_srv6_proxy {
	unsigned replicas;
	struct nf_srv6_proxy_slot slot[NF_SRV6_PROXY_REPLICAS_MAX][2]; /* [r][v6] */
};

/* Empty the cache of @replicas replicas. Returns 0 or -EINVAL
 * (replicas out of 1..NF_SRV6_PROXY_REPLICAS_MAX). */
int nf_srv6_proxy_init(struct nf_srv6_proxy *px, unsigned replicas);

/* The way in, SRv6 to the VNF: End.AS (@px NULL) or End.AD (@px: the
 * headers are cached for @replica). RFC 8986 End processing first (the
 * SRH validated, SL > 0, hop limit > 1: nf_srv6_end()'s reasons; hop
 * limit - 1, SL - 1, DA = next segment), then the upper-layer header must
 * be @want (NF_IPPROTO_IPIP or NF_IPPROTO_IPV6: the proxy's configured
 * inner type; else NF_SRV6_INNER_NOT_IPV4/_IPV6), complete
 * (NF_SRV6_INNER_BAD), not in a fragment (NF_SRV6_FRAGMENT). End.AD copies
 * the updated IPv6 header and its extension headers, payload length and
 * flow label zeroed, into the slot when they differ from what it holds (a compare, no write, in the steady
 * state; NF_SRV6_CACHE_TOO_BIG when they do not fit). OUT = Ethernet and
 * tags (@adj: MACs towards the VNF; NULL: as received), the inner
 * packet untouched (no TTL change: the VNF is a hop of its own), cut to
 * its length. Returns the length or -reason (NF_SRV6_BAD_REPLICA). */
int nf_srv6_proxy_in(struct nf_srv6_proxy *px, unsigned replica, uint8_t want,
		     const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		     const struct nf_srv6_adj *adj, uint8_t *out, uint32_t cap);

/* The way back, End.AD: the IPv4 or IPv6 packet the VNF sent (@in, @h;
 * the VNF may have changed anything in it, NAT included: it is carried
 * as is, its own checksums are the VNF's) gets the headers cached for
 * (@replica, its type) with the payload length set. OUT = Ethernet and
 * tags of @in (@adj: MACs towards the next segment; NULL: as received),
 * EtherType IPv6, the cached headers, the packet without padding. The
 * flow label is the packet's own (its 5-tuple hash, as nf_srv6_encaps()
 * sets it), not that of the packet the headers were cached from: a flow
 * keeps one label on every leg of the chain (RFC 6437), and the cache
 * stays the same while flows of one chain interleave (its content is the
 * chain's, not the last flow's). Returns the length, -NF_SRV6_NOT_IP, -NF_SRV6_NO_CACHE, -NF_SRV6_BAD_REPLICA or
 * -NF_SRV6_TOO_BIG. End.AS's way back is nf_srv6_encaps() with the
 * policy compiled by nf_srv6_encap_init(..., first = index after the
 * proxy's SID, NF_SRV6_ENCAPS): the configured headers. */
int nf_srv6_proxy_out(const struct nf_srv6_proxy *px, unsigned replica,
		      const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		      const struct nf_srv6_adj *adj, uint8_t *out,
		      uint32_t cap);

#endif
