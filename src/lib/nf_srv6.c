/* nf_srv6.c - SRv6 SRH parsing, head-end, endpoint and SR proxy
 * behaviours (see nf_srv6.h for the contracts).
 *
 * Every behaviour is one bounds check on the output, one copy of the bytes
 * that survive (the input frame is read-only), and a few stores: the SRH is
 * never rebuilt per packet (H.Encaps copies a template compiled by
 * nf_srv6_encap_init()), and End patches three fields of its copy.
 *
 * Cost, instructions per call including the copy (valgrind callgrind,
 * gcc -O2 -march=x86-64-v3; `valgrind --tool=callgrind test_srv6 --bench
 * 10000` then bench/cg_incl.py OUT 10000 FUNCTION): a 60-byte IPv4/UDP
 * frame, a 3-segment SRH (132-byte frame):
 *	H.Encaps (3 segments)		186
 *	End				158
 *	End.DX4				 93
 *	End.AD in (cache compare)	338
 *	End.AD out			130
 * End.AD in builds the updated headers on the stack and compares them
 * with the cache (no write in the steady state): the compare is most of
 * its cost.
 */
#include "nf_srv6.h"

#include "nf_csum.h"
#include "nf_util.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static const char *const drop_names[] = {
#define NF_SRV6_DROP_NAME(e, n, d) n,
	NF_SRV6_DROPS(NF_SRV6_DROP_NAME)
#undef NF_SRV6_DROP_NAME
};

const char *nf_srv6_drop_name(enum nf_srv6_drop r)
{
	return (unsigned)r < NF_SRV6_DROP_MAX ? drop_names[r] : "?";
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v);
}

/* ---- the SRH ---- */

/* Where the routing header of the IPv6 frame @p (at least its 40-byte
 * header) starts: after hop-by-hop and destination options headers (RFC
 * 8200 section 4.1: those come first), each whole in the packet; 0 when
 * the next header after them is not one. */
static uint32_t rh_find(const uint8_t *p, const struct nf_hdrs *h)
{
	uint32_t off = h->l3_off + (uint32_t)sizeof(struct nf_ipv6);
	const uint32_t end = h->l3_off + (uint32_t)h->l3_len;
	uint8_t nh = p[h->l3_off + offsetof(struct nf_ipv6, next)];

	while (nh == NF_IPPROTO_HOPOPTS || nh == NF_IPPROTO_DSTOPTS) {
		if (end - off < 2 || ((uint32_t)p[off + 1] + 1) * 8 > end - off)
			return 0;
		nh = p[off];
		off += ((uint32_t)p[off + 1] + 1) * 8;
	}
	return nh == NF_IPPROTO_ROUTING ? off : 0;
}

/* rh_find()'s routing header if its 8-byte start and its hdr ext len are
 * whole in the packet (its fields can be read and trusted), else 0. */
static uint32_t rh_whole(const uint8_t *p, const struct nf_hdrs *h)
{
	const uint32_t rh = rh_find(p, h), end = h->l3_off + (uint32_t)h->l3_len;

	return rh != 0 && end - rh >= sizeof(struct nf_srh) &&
		((uint32_t)p[rh + 1] + 1) * 8 <= end - rh ? rh : 0;
}

enum nf_srv6_drop nf_srv6_srh_parse(const uint8_t *p, const struct nf_hdrs *h,
				    struct nf_srv6_view *v)
{
	uint32_t off, end, slen, t, tend;
	const uint8_t *s;

	if (h->ethertype != NF_ETH_P_IPV6 || h->l3_len < sizeof(struct nf_ipv6))
		return NF_SRV6_NOT_IPV6;
	off = rh_find(p, h);
	end = h->l3_off + (uint32_t)h->l3_len;
	if (off == 0)
		return NF_SRV6_NO_SRH;
	if (end - off < sizeof(struct nf_srh))
		return NF_SRV6_BAD_SRH;
	s = p + off;
	if (s[offsetof(struct nf_srh, type)] != NF_SRH_TYPE)
		return NF_SRV6_NO_SRH;
	slen = ((uint32_t)s[offsetof(struct nf_srh, hdr_len)] + 1) * 8;
	if (slen > end - off)
		return NF_SRV6_BAD_SRH;
	/* last entry <= max_LE = hdr ext len / 2 - 1 */
	if (((uint32_t)s[offsetof(struct nf_srh, last)] + 1) * 2 >
	    s[offsetof(struct nf_srh, hdr_len)])
		return NF_SRV6_BAD_SRH;
	if (s[offsetof(struct nf_srh, sl)] >
	    (uint32_t)s[offsetof(struct nf_srh, last)] + 1)
		return NF_SRV6_SL_BEYOND;
	t = off + (uint32_t)sizeof(struct nf_srh) +
	    16 * ((uint32_t)s[offsetof(struct nf_srh, last)] + 1);
	tend = off + slen;
	v->tlv_off = (uint16_t)t;
	while (t < tend) {
		uint8_t type = p[t];

		if (type == NF_SRH_TLV_PAD1) {
			t++;
			continue;
		}
		if (tend - t < 2 ||
		    (type == NF_SRH_TLV_PADN && p[t + 1] > NF_SRH_TLV_PADN_MAX))
			return NF_SRV6_BAD_TLV;
		t += 2 + (uint32_t)p[t + 1];
		if (t > tend)
			return NF_SRV6_BAD_TLV;
	}
	v->srh_off = (uint16_t)off;
	v->srh_len = (uint16_t)slen;
	v->next = s[offsetof(struct nf_srh, next)];
	v->sl = s[offsetof(struct nf_srh, sl)];
	v->last = s[offsetof(struct nf_srh, last)];
	return NF_SRV6_OK;
}

/* ---- shared pieces ---- */

/* Ethernet header and tags of @in into @out, the last EtherType set to
 * @etype, MACs from @adj when given. */
static inline void copy_l2(uint8_t *out, const uint8_t *in, uint32_t l3_off,
			   uint16_t etype, const struct nf_srv6_adj *adj)
{
	memcpy(out, in, l3_off);
	if (adj)
		memcpy(out, adj, 2 * NF_ETH_ALEN);
	wr16(out + l3_off - 2, etype);
}

/* Length of the complete IPv4 (@want 4) or IPv6 (41) packet at @p with
 * @avail bytes, 0 when its header is cut short or its lengths lie. */
static uint32_t inner_len(const uint8_t *p, uint32_t avail, uint8_t want)
{
	uint32_t n;

	if (want == NF_IPPROTO_IPIP) {
		uint32_t ihl;

		if (avail < sizeof(struct nf_ipv4) || p[0] >> 4 != 4)
			return 0;
		ihl = (p[0] & 15) * 4u;
		n = rd16(p + offsetof(struct nf_ipv4, tot_len));
		return ihl >= 20 && n >= ihl && n <= avail ? n : 0;
	}
	if (avail < sizeof(struct nf_ipv6) || p[0] >> 4 != 6)
		return 0;
	n = sizeof(struct nf_ipv6) + rd16(p + offsetof(struct nf_ipv6, payload_len));
	return n <= avail ? n : 0;
}

/* The checks of End (RFC 8986 section 4.1) on an IPv6 frame: a valid SRH
 * with SL > 0 and a hop limit > 1. In the RFC's order where the SRH is
 * whole in the packet: SL 0 (S02), the hop limit (S05), then last entry and
 * SL against the lengths (S09); the TLVs after. */
static enum nf_srv6_drop end_check(const uint8_t *in, const struct nf_hdrs *h,
				   struct nf_srv6_view *v)
{
	enum nf_srv6_drop r = nf_srv6_srh_parse(in, h, v);
	bool hl1;

	if (r == NF_SRV6_NOT_IPV6 || r == NF_SRV6_NO_SRH)
		return r;
	/* an IPv6 header, whole */
	hl1 = in[h->l3_off + offsetof(struct nf_ipv6, hop_limit)] <= 1;
	if (r == NF_SRV6_BAD_SRH || r == NF_SRV6_SL_BEYOND || r == NF_SRV6_BAD_TLV) {
		const uint32_t rh = rh_whole(in, h);

		if (rh != 0)
			return in[rh + offsetof(struct nf_srh, sl)] == 0 ? NF_SRV6_SL_ZERO :
				hl1 ? NF_SRV6_HOP_LIMIT : r;
		return r;
	}
	if (r != NF_SRV6_OK)
		return r;
	if (v->sl == 0)
		return NF_SRV6_SL_ZERO;
	if (hl1)
		return NF_SRV6_HOP_LIMIT;
	return NF_SRV6_OK;
}

/* End's update on a copy @ip6 of the IPv6 header of @in (the SRH at the
 * same distance from it): hop limit - 1, SL - 1, DA = Segment List[SL]. */
static inline void end_update(uint8_t *ip6, const uint8_t *in,
			      const struct nf_hdrs *h,
			      const struct nf_srv6_view *v)
{
	uint8_t sl = (uint8_t)(v->sl - 1);

	ip6[offsetof(struct nf_ipv6, hop_limit)]--;
	ip6[v->srh_off - h->l3_off + offsetof(struct nf_srh, sl)] = sl;
	memcpy(ip6 + offsetof(struct nf_ipv6, daddr), nf_srv6_seg(in, v, sl), 16);
}

/* The upper-layer packet of an SRv6 frame: it must be @want, not in a
 * fragment, complete. Its length in *@n. */
static enum nf_srv6_drop upper(const uint8_t *in, const struct nf_hdrs *h,
			       uint8_t want, uint32_t *n)
{
	if (h->flags & NF_HDR_FRAG)
		return NF_SRV6_FRAGMENT;
	if (h->l4_proto != want)
		return want == NF_IPPROTO_IPIP ? NF_SRV6_INNER_NOT_IPV4 :
						 NF_SRV6_INNER_NOT_IPV6;
	*n = inner_len(in + h->l4_off, h->l4_len, want);
	return *n ? NF_SRV6_OK : NF_SRV6_INNER_BAD;
}

/* ---- head end ---- */

int nf_srv6_encap_init(struct nf_srv6_encap *e, const struct nf_srv6_sid *src,
		       const struct nf_srv6_segs *segs, unsigned first,
		       enum nf_srv6_mode mode)
{
	unsigned n = segs->n, k, i;
	int red = mode == NF_SRV6_ENCAPS_RED || mode == NF_SRV6_ENCAPS_L2_RED;
	uint8_t *ip = e->hdr, *srh = e->hdr + sizeof(struct nf_ipv6);

	if (n < 1 || n > NF_SRV6_SEGS_MAX) {
		nf_set_error("srv6: %u segments (1 to %d)", n, NF_SRV6_SEGS_MAX);
		return -EINVAL;
	}
	if (first >= n || (red && first)) {
		nf_set_error("srv6: first segment %u of %u%s", first, n,
			     red ? " (reduced: must be 0)" : "");
		return -EINVAL;
	}
	if ((unsigned)mode > NF_SRV6_ENCAPS_L2_RED) {
		nf_set_error("srv6: unknown encapsulation mode %d", (int)mode);
		return -EINVAL;
	}
	memset(e, 0, sizeof(*e));
	e->mode = (uint8_t)mode;
	k = red ? n - 1 : n;		/* SIDs in the SRH */
	ip[0] = 0x60;
	ip[offsetof(struct nf_ipv6, hop_limit)] = 64;
	memcpy(ip + offsetof(struct nf_ipv6, saddr), src, 16);
	memcpy(ip + offsetof(struct nf_ipv6, daddr), &segs->sid[first], 16);
	if (k == 0) {		/* reduced, one segment: no SRH */
		e->nh_off = offsetof(struct nf_ipv6, next);
		e->hlen = sizeof(struct nf_ipv6);
		return 0;
	}
	ip[offsetof(struct nf_ipv6, next)] = NF_IPPROTO_ROUTING;
	srh[offsetof(struct nf_srh, hdr_len)] = (uint8_t)(2 * k);
	srh[offsetof(struct nf_srh, type)] = NF_SRH_TYPE;
	srh[offsetof(struct nf_srh, sl)] = (uint8_t)(n - 1 - first);
	srh[offsetof(struct nf_srh, last)] = (uint8_t)(k - 1);
	for (i = 0; i < k; i++)		/* Segment List[i] = the i-th from the end */
		memcpy(srh + sizeof(struct nf_srh) + 16 * i,
		       &segs->sid[n - 1 - i], 16);
	e->nh_off = sizeof(struct nf_ipv6);
	e->hlen = (uint16_t)(sizeof(struct nf_ipv6) + sizeof(struct nf_srh) + 16 * k);
	return 0;
}

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

/* RFC 6437 flow label of the IP packet at @ip (@h): a hash of addresses,
 * protocol and TCP/UDP ports, 20 bits, never 0. */
static uint32_t flow_label(const uint8_t *frame, const struct nf_hdrs *h)
{
	const uint8_t *ip = frame + h->l3_off;
	uint32_t x = 0x5eed, w[8], i, na;

	if (h->ethertype == NF_ETH_P_IPV4) {
		memcpy(w, ip + offsetof(struct nf_ipv4, saddr), 8);
		na = 2;
	} else {
		memcpy(w, ip + offsetof(struct nf_ipv6, saddr), 32);
		na = 8;
	}
	for (i = 0; i < na; i++)
		x = mix(x, w[i]);
	x = mix(x, h->l4_proto);
	if ((h->flags & NF_HDR_L4) && (h->l4_proto == NF_IPPROTO_TCP ||
				       h->l4_proto == NF_IPPROTO_UDP)) {
		memcpy(w, frame + h->l4_off, 4);
		x = mix(x, w[0]);
	}
	x = (x ^ (x >> 20)) & 0xfffff;
	return x ? x : 1;
}

/* Flow label of an L2 frame: its IP 5-tuple, else its MACs. */
static uint32_t flow_label_l2(const uint8_t *frame, const struct nf_hdrs *h)
{
	uint32_t w[3], x;

	if ((h->ethertype == NF_ETH_P_IPV4 || h->ethertype == NF_ETH_P_IPV6) &&
	    h->l3_len)
		return flow_label(frame, h);
	memcpy(w, frame, 12);
	x = mix(mix(mix(0x12, w[0]), w[1]), w[2]);
	x = (x ^ (x >> 20)) & 0xfffff;
	return x ? x : 1;
}

int nf_srv6_encaps(const struct nf_srv6_encap *e, const uint8_t *in,
		   uint32_t len, const struct nf_hdrs *h, uint8_t *out,
		   uint32_t cap)
{
	uint32_t l2, ilen, plen, fl, tc = 0;
	const uint8_t *inner;
	uint8_t *ip;
	uint8_t nh;

	if (e->mode >= NF_SRV6_ENCAPS_L2) {
		l2 = NF_ETH_HLEN;
		inner = in;
		ilen = len;
		nh = NF_IPPROTO_ETHERNET;
		fl = flow_label_l2(in, h);
	} else {
		l2 = h->l3_off;
		inner = in + l2;
		ilen = h->l3_len;
		if (h->ethertype == NF_ETH_P_IPV4) {
			nh = NF_IPPROTO_IPIP;
			tc = inner[offsetof(struct nf_ipv4, tos)];
		} else if (h->ethertype == NF_ETH_P_IPV6) {
			nh = NF_IPPROTO_IPV6;
			tc = (uint32_t)(rd16(inner) >> 4) & 0xff;
		} else {
			return -NF_SRV6_NOT_IP;
		}
		fl = flow_label(in, h);
	}
	plen = e->hlen - (uint32_t)sizeof(struct nf_ipv6) + ilen;
	if (plen > 0xffff || l2 + e->hlen + ilen > cap)
		return -NF_SRV6_TOO_BIG;
	if (e->mode >= NF_SRV6_ENCAPS_L2) {
		memcpy(out, in, 2 * NF_ETH_ALEN);
		wr16(out + 2 * NF_ETH_ALEN, NF_ETH_P_IPV6);
	} else {
		copy_l2(out, in, l2, NF_ETH_P_IPV6, NULL);
	}
	ip = out + l2;
	memcpy(ip, e->hdr, e->hlen);
	wr32(ip, 6u << 28 | tc << 20 | fl);
	wr16(ip + offsetof(struct nf_ipv6, payload_len), plen);
	ip[e->nh_off] = nh;
	memcpy(ip + e->hlen, inner, ilen);
	return (int)(l2 + e->hlen + ilen);
}

/* ---- endpoints ---- */

int nf_srv6_end(const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		const struct nf_srv6_adj *adj, uint8_t *out, uint32_t cap)
{
	struct nf_srv6_view v;
	enum nf_srv6_drop r = end_check(in, h, &v);
	uint32_t olen = h->l3_off + (uint32_t)h->l3_len;

	(void)len;
	if (r != NF_SRV6_OK)
		return -(int)r;
	if (olen > cap)
		return -NF_SRV6_TOO_BIG;
	memcpy(out, in, olen);
	if (adj)
		memcpy(out, adj, 2 * NF_ETH_ALEN);
	end_update(out + h->l3_off, in, h, &v);
	return (int)olen;
}

int nf_srv6_end_dx(const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		   uint8_t want, const struct nf_srv6_adj *adj, uint8_t *out,
		   uint32_t cap)
{
	struct nf_srv6_view v;
	enum nf_srv6_drop r = nf_srv6_srh_parse(in, h, &v);
	uint32_t n, l3 = h->l3_off;
	uint8_t *ip;

	(void)len;
	if (r == NF_SRV6_OK) {
		if (v.sl != 0)
			return -NF_SRV6_SL_NOT_ZERO;
	} else if (r != NF_SRV6_NO_SRH) {
		return -(int)r;
	}
	r = upper(in, h, want, &n);
	if (r != NF_SRV6_OK)
		return -(int)r;
	/* TTL at byte 8 of IPv4, hop limit at byte 7 of IPv6 */
	if (in[h->l4_off + (want == NF_IPPROTO_IPIP ? 8 : 7)] <= 1)
		return -NF_SRV6_INNER_TTL;
	if (l3 + n > cap)
		return -NF_SRV6_TOO_BIG;
	copy_l2(out, in, l3, want == NF_IPPROTO_IPIP ? NF_ETH_P_IPV4 :
			     NF_ETH_P_IPV6, adj);
	ip = out + l3;
	memcpy(ip, in + h->l4_off, n);
	if (want == NF_IPPROTO_IPIP)
		nf_ipv4_ttl_dec(ip);
	else
		ip[offsetof(struct nf_ipv6, hop_limit)]--;
	return (int)(l3 + n);
}

#define IPV6_MIN_MTU	1280

/* The ICMPv6 error for @why, with its pointer (RFC 4443 section 3.4:
 * bytes from the IPv6 header's start): false when none is sent. */
static bool icmp_kind(const uint8_t *in, const struct nf_hdrs *h, enum nf_srv6_drop why,
		      uint8_t *type, uint8_t *code, uint32_t *ptr)
{
	const uint32_t l3 = h->l3_off, rh = rh_whole(in, h);

	*type = NF_ICMP6_PARAMPROB;
	*code = 0;
	*ptr = 0;
	switch (why) {
	case NF_SRV6_HOP_LIMIT:		/* RFC 8986 4.1 S06 */
		*type = NF_ICMP6_TIME_EXCEED;
		return true;
	case NF_SRV6_BAD_SRH:		/* last entry past hdr ext len: S10 */
	case NF_SRV6_SL_BEYOND:		/* S10 */
	case NF_SRV6_SL_NOT_ZERO:	/* End.DX / End.DT: 4.4 S03 */
		/* an SRH cut short or running past the packet: none (as
		 * Linux, which cannot read it) */
		if (rh == 0)
			return false;
		*ptr = rh - l3 + (uint32_t)offsetof(struct nf_srh, sl);
		return true;
	case NF_SRV6_NO_SRH:
		/* RFC 8200 4.4: a routing type we do not know with segments
		 * left: pointer to its type; with none left it is passed over */
		if (rh != 0 && in[rh + offsetof(struct nf_srh, sl)] != 0) {
			*ptr = rh - l3 + (uint32_t)offsetof(struct nf_srh, type);
			return true;
		}
		/* else the upper-layer header is ours to process */
		__attribute__((fallthrough));
	case NF_SRV6_SL_ZERO:
	case NF_SRV6_INNER_NOT_IPV4:
	case NF_SRV6_INNER_NOT_IPV6:
		if (h->flags & NF_HDR_FRAG)
			return false;
		*code = 4;		/* SR upper-layer header error: 4.1.1 */
		*ptr = h->l4_off - l3;
		return true;
	default:
		return false;
	}
}

int nf_srv6_icmp_error(const uint8_t *in, const struct nf_hdrs *h, enum nf_srv6_drop why,
		       const struct nf_srv6_sid *src, uint8_t *out, uint32_t cap)
{
	static const uint8_t zero[16];
	const uint32_t hl = sizeof(struct nf_ipv6) + sizeof(struct nf_icmp6);
	uint32_t l3 = h->l3_off, q = h->l3_len, ptr;
	const uint8_t *oip = in + l3;
	uint8_t *ip, *ic, type, code;
	uint64_t s;
	uint16_t c;

	if (h->ethertype != NF_ETH_P_IPV6 || q < sizeof(struct nf_ipv6))
		return -NF_SRV6_NOT_IPV6;
	/* RFC 4443 2.4 (e): not to a link-layer or IPv6 multicast
	 * destination, not from an address that names no one node, never
	 * about an ICMPv6 error (nor one whose type cannot be read) */
	if ((in[0] & 1) || oip[offsetof(struct nf_ipv6, daddr)] == 0xff ||
	    oip[offsetof(struct nf_ipv6, saddr)] == 0xff ||
	    memcmp(oip + offsetof(struct nf_ipv6, saddr), zero, 16) == 0)
		return 0;
	if (h->l4_proto == NF_IPPROTO_ICMPV6 && !(h->flags & NF_HDR_FRAG_LATER) &&
	    (!(h->flags & NF_HDR_L4) || in[h->l4_off] < 128))
		return 0;
	if (!icmp_kind(in, h, why, &type, &code, &ptr))
		return 0;
	if (q > IPV6_MIN_MTU - hl)
		q = IPV6_MIN_MTU - hl;
	if (l3 + hl + q > cap)
		return -NF_SRV6_TOO_BIG;
	memcpy(out, in + NF_ETH_ALEN, NF_ETH_ALEN);
	memcpy(out + NF_ETH_ALEN, in, NF_ETH_ALEN);
	memcpy(out + 2 * NF_ETH_ALEN, in + 2 * NF_ETH_ALEN, l3 - 2 * NF_ETH_ALEN);
	ip = out + l3;
	ic = ip + sizeof(struct nf_ipv6);
	memset(ip, 0, hl);
	ip[0] = 0x60;
	wr16(ip + offsetof(struct nf_ipv6, payload_len), sizeof(struct nf_icmp6) + q);
	ip[offsetof(struct nf_ipv6, next)] = NF_IPPROTO_ICMPV6;
	ip[offsetof(struct nf_ipv6, hop_limit)] = 64;
	memcpy(ip + offsetof(struct nf_ipv6, saddr), src, 16);
	memcpy(ip + offsetof(struct nf_ipv6, daddr), oip + offsetof(struct nf_ipv6, saddr), 16);
	ic[0] = type;
	ic[1] = code;
	wr32(ic + 4, ptr);
	memcpy(ic + sizeof(struct nf_icmp6), oip, q);
	s = nf_csum_pseudo6(ip + offsetof(struct nf_ipv6, saddr),
			    ip + offsetof(struct nf_ipv6, daddr),
			    NF_IPPROTO_ICMPV6, sizeof(struct nf_icmp6) + q);
	c = nf_csum_finish(nf_csum_partial(ic, sizeof(struct nf_icmp6) + q, s));
	memcpy(ic + offsetof(struct nf_icmp6, csum), &c, 2);
	return (int)(l3 + hl + q);
}

/* ---- SR proxy ---- */

int nf_srv6_proxy_init(struct nf_srv6_proxy *px, unsigned replicas)
{
	if (replicas < 1 || replicas > NF_SRV6_PROXY_REPLICAS_MAX) {
		nf_set_error("srv6 proxy: %u replicas (1 to %d)", replicas,
			     NF_SRV6_PROXY_REPLICAS_MAX);
		return -EINVAL;
	}
	memset(px, 0, sizeof(*px));
	px->replicas = replicas;
	return 0;
}

/* Cache the IPv6 header and extension headers of @in, End-updated, with
 * payload length 0, in @slot; written only when they changed. */
static enum nf_srv6_drop cache(struct nf_srv6_proxy_slot *slot,
			       const uint8_t *in, const struct nf_hdrs *h,
			       const struct nf_srv6_view *v)
{
	uint32_t hl = h->l4_off - (uint32_t)h->l3_off;
	uint8_t tmp[NF_SRV6_PROXY_HDRS_MAX];

	if (hl > sizeof(tmp))
		return NF_SRV6_CACHE_TOO_BIG;
	memcpy(tmp, in + h->l3_off, hl);
	end_update(tmp, in, h, v);
	wr16(tmp + offsetof(struct nf_ipv6, payload_len), 0);
	tmp[1] &= 0xf0;			/* flow label: set on the way out */
	tmp[2] = tmp[3] = 0;
	if (slot->len != hl || memcmp(slot->hdr, tmp, hl) != 0) {
		memcpy(slot->hdr, tmp, hl);
		slot->len = (uint16_t)hl;
		slot->updates++;
	}
	return NF_SRV6_OK;
}

int nf_srv6_proxy_in(struct nf_srv6_proxy *px, unsigned replica, uint8_t want,
		     const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		     const struct nf_srv6_adj *adj, uint8_t *out, uint32_t cap)
{
	struct nf_srv6_view v;
	enum nf_srv6_drop r;
	uint32_t n, l3 = h->l3_off;

	(void)len;
	if (px && replica >= px->replicas)
		return -NF_SRV6_BAD_REPLICA;
	r = end_check(in, h, &v);
	if (r == NF_SRV6_OK)
		r = upper(in, h, want, &n);
	if (r != NF_SRV6_OK)
		return -(int)r;
	if (l3 + n > cap)
		return -NF_SRV6_TOO_BIG;
	if (px) {
		r = cache(&px->slot[replica][want == NF_IPPROTO_IPV6], in, h, &v);
		if (r != NF_SRV6_OK)
			return -(int)r;
	}
	copy_l2(out, in, l3, want == NF_IPPROTO_IPIP ? NF_ETH_P_IPV4 :
			     NF_ETH_P_IPV6, adj);
	memcpy(out + l3, in + h->l4_off, n);
	return (int)(l3 + n);
}

int nf_srv6_proxy_out(const struct nf_srv6_proxy *px, unsigned replica,
		      const uint8_t *in, uint32_t len, const struct nf_hdrs *h,
		      const struct nf_srv6_adj *adj, uint8_t *out,
		      uint32_t cap)
{
	const struct nf_srv6_proxy_slot *slot;
	uint32_t l3 = h->l3_off, ilen = h->l3_len, plen, fl;

	(void)len;
	if (replica >= px->replicas)
		return -NF_SRV6_BAD_REPLICA;
	if (h->ethertype != NF_ETH_P_IPV4 && h->ethertype != NF_ETH_P_IPV6)
		return -NF_SRV6_NOT_IP;
	slot = &px->slot[replica][h->ethertype == NF_ETH_P_IPV6];
	if (slot->len == 0)
		return -NF_SRV6_NO_CACHE;
	plen = slot->len - (uint32_t)sizeof(struct nf_ipv6) + ilen;
	if (plen > 0xffff || l3 + slot->len + ilen > cap)
		return -NF_SRV6_TOO_BIG;
	copy_l2(out, in, l3, NF_ETH_P_IPV6, adj);
	memcpy(out + l3, slot->hdr, slot->len);
	wr16(out + l3 + offsetof(struct nf_ipv6, payload_len), plen);
	fl = flow_label(in, h);
	out[l3 + 1] |= (uint8_t)(fl >> 16);
	out[l3 + 2] = (uint8_t)(fl >> 8);
	out[l3 + 3] = (uint8_t)fl;
	memcpy(out + l3 + slot->len, in + l3, ilen);
	return (int)(l3 + slot->len + ilen);
}
