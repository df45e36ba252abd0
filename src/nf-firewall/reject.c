/* reject.c - the answers of nf-firewall's `reject`, as Linux's
 * nf_reject_ipv4.c / nf_reject_ipv6.c make them:
 *
 *   ICMP / ICMPv6 error: the rejected packet quoted (IPv4: as much as fits
 *     in 576 bytes, icmp_send(); IPv6: in 1280, icmpv6_send()); not sent
 *     for a packet that is itself an ICMP error, a non-first fragment, to
 *     or from a multicast / broadcast address, or whose TCP / UDP checksum
 *     is wrong (nf_send_unreach verifies it first);
 *   TCP reset (nf_send_reset): not for a RST, a fragment or a bad TCP
 *     checksum; ports swapped; if the packet had ACK: seq = its ack, flags
 *     RST; else seq 0, ack = its seq + SYN + FIN + payload, flags RST|ACK;
 *     window 0; IPv4 DF, TTL 64.
 *
 * nf-firewall is transparent and has no address: the answer comes from the
 * address the rejected packet was sent to (Linux, a router, sends ICMP
 * errors from its own address), and goes back out of the port the packet
 * came in, MAC addresses swapped.
 */
#include "firewall.h"
#include "nf_csum.h"
#include "nf_proto.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <string.h>

#define ICMP4_MAX_TOTAL	576
#define ICMP6_MAX_TOTAL	1280

static uint8_t out[14 + ICMP6_MAX_TOTAL];

static void send_back(struct nf_vnf *v, unsigned in, uint32_t len)
{
	if (nf_vnf_send(v, in, out, len) == 0)
		fw.reject_sent++;
}

static bool group4(uint32_t a)		/* multicast, limited broadcast, 0/8 */
{
	a = ntohl(a);
	return (a >> 28) == 0xe || a == 0xffffffffu || (a >> 24) == 0;
}

/* The L4 checksum of the rejected TCP / UDP packet is right (Linux checks
 * it before answering); other protocols: true. */
static bool l4_ok(const uint8_t *f, const struct nf_hdrs *h)
{
	const uint8_t *l4 = f + h->l4_off;
	uint64_t s;

	if (!(h->flags & NF_HDR_L4) || (h->l4_proto != NF_IPPROTO_TCP &&
					 h->l4_proto != NF_IPPROTO_UDP))
		return true;
	if (h->l4_proto == NF_IPPROTO_UDP && h->ethertype == NF_ETH_P_IPV4 &&
	    l4[6] == 0 && l4[7] == 0)
		return true;			/* no UDP checksum */
	if (h->ethertype == NF_ETH_P_IPV4) {
		const struct nf_ipv4 *ip = (const void *)(f + h->l3_off);

		s = nf_csum_pseudo4(&ip->saddr, &ip->daddr, h->l4_proto, h->l4_len);
	} else {
		const struct nf_ipv6 *ip6 = (const void *)(f + h->l3_off);

		s = nf_csum_pseudo6(ip6->saddr, ip6->daddr, h->l4_proto, h->l4_len);
	}
	return nf_csum_fold(nf_csum_partial(l4, h->l4_len, s)) == 0xffff;
}

static void eth_back(const uint8_t *f, uint16_t type)
{
	memcpy(out, f + 6, 6);
	memcpy(out + 6, f, 6);
	out[12] = (uint8_t)(type >> 8);
	out[13] = (uint8_t)type;
}

static void put_ipv4(uint8_t *p, uint8_t tos, uint16_t len, uint8_t proto,
		     uint32_t src, uint32_t dst, bool df)
{
	struct nf_ipv4 *ip = (void *)p;
	uint16_t c;

	ip->ver_ihl = 0x45;
	ip->tos = tos;
	ip->tot_len = htons(len);
	ip->id = 0;
	ip->frag_off = df ? htons(NF_IPV4_DF) : 0;
	ip->ttl = 64;
	ip->proto = proto;
	ip->csum = 0;
	ip->saddr = src;
	ip->daddr = dst;
	c = nf_csum(ip, 20);
	memcpy(&ip->csum, &c, 2);
}

static void put_ipv6(uint8_t *p, uint16_t plen, uint8_t next, const uint8_t *src,
		     const uint8_t *dst)
{
	struct nf_ipv6 *ip6 = (void *)p;

	ip6->ver_tc_flow = htonl(6u << 28);
	ip6->payload_len = htons(plen);
	ip6->next = next;
	ip6->hop_limit = 64;
	memcpy(ip6->saddr, src, 16);
	memcpy(ip6->daddr, dst, 16);
}

/* Is the rejected packet an ICMP / ICMPv6 error (never answered)? */
static bool is_icmp_error(const uint8_t *f, const struct nf_hdrs *h)
{
	if (!(h->flags & NF_HDR_L4))
		return h->l4_proto == NF_IPPROTO_ICMP || h->l4_proto == NF_IPPROTO_ICMPV6;
	if (h->l4_proto == NF_IPPROTO_ICMP) {
		const uint8_t t = f[h->l4_off];

		return !(t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 ||
			 t == 17 || t == 18);
	}
	return h->l4_proto == NF_IPPROTO_ICMPV6 && f[h->l4_off] < 128;
}

static void icmp4(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
		  uint8_t type, uint8_t code)
{
	const struct nf_ipv4 *oip = (const void *)(f + h->l3_off);
	struct nf_icmp *ic = (void *)(out + 14 + 20);
	uint32_t quote = NF_MIN((uint32_t)h->l3_len, ICMP4_MAX_TOTAL - 20u - 8u);
	uint16_t c;

	if (group4(oip->saddr) || group4(oip->daddr))
		return;
	eth_back(f, NF_ETH_P_IPV4);
	ic->type = type;
	ic->code = code;
	ic->csum = 0;
	ic->rest = 0;
	memcpy(ic + 1, oip, quote);
	c = nf_csum(ic, 8 + quote);
	memcpy(&ic->csum, &c, 2);
	put_ipv4(out + 14, (uint8_t)((oip->tos & 0x1e) | 0xc0), (uint16_t)(28 + quote),
		 NF_IPPROTO_ICMP, oip->daddr, oip->saddr, false);
	send_back(v, in, 14 + 28 + quote);
}

static void icmp6(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
		  uint8_t type, uint8_t code)
{
	const struct nf_ipv6 *oip = (const void *)(f + h->l3_off);
	struct nf_icmp *ic = (void *)(out + 14 + 40);
	uint32_t quote = NF_MIN((uint32_t)h->l3_len, ICMP6_MAX_TOTAL - 40u - 8u);
	uint64_t s;
	uint16_t c;

	if (oip->saddr[0] == 0xff || oip->daddr[0] == 0xff)
		return;
	eth_back(f, NF_ETH_P_IPV6);
	ic->type = type;
	ic->code = code;
	ic->csum = 0;
	ic->rest = 0;
	memcpy(ic + 1, oip, quote);
	put_ipv6(out + 14, (uint16_t)(8 + quote), NF_IPPROTO_ICMPV6, oip->daddr, oip->saddr);
	s = nf_csum_pseudo6(oip->daddr, oip->saddr, NF_IPPROTO_ICMPV6, 8 + quote);
	c = nf_csum_finish(nf_csum_partial(ic, 8 + quote, s));
	memcpy(&ic->csum, &c, 2);
	send_back(v, in, 14 + 48 + quote);
}

static void tcp_reset(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h)
{
	const struct nf_tcp *ot = (const void *)(f + h->l4_off);
	const bool v4 = h->ethertype == NF_ETH_P_IPV4;
	const unsigned l3 = v4 ? 20 : 40;
	struct nf_tcp *t = (void *)(out + 14 + l3);
	uint32_t dlen = h->l4_len - (uint32_t)(ot->doff >> 4) * 4;
	uint64_t s;
	uint16_t c;

	if ((ot->flags & NF_TCP_RST) || (uint32_t)(ot->doff >> 4) * 4 > h->l4_len)
		return;
	memset(t, 0, sizeof(*t));
	t->sport = ot->dport;
	t->dport = ot->sport;
	if (ot->flags & NF_TCP_ACK) {
		t->seq = ot->ack;
		t->flags = NF_TCP_RST;
	} else {
		t->ack = htonl(ntohl(ot->seq) + dlen + !!(ot->flags & NF_TCP_SYN) +
			       !!(ot->flags & NF_TCP_FIN));
		t->flags = NF_TCP_RST | NF_TCP_ACK;
	}
	t->doff = 5 << 4;
	if (v4) {
		const struct nf_ipv4 *oip = (const void *)(f + h->l3_off);

		if (group4(oip->daddr))
			return;
		eth_back(f, NF_ETH_P_IPV4);
		put_ipv4(out + 14, 0, 40, NF_IPPROTO_TCP, oip->daddr, oip->saddr, true);
		s = nf_csum_pseudo4(&oip->daddr, &oip->saddr, NF_IPPROTO_TCP, 20);
	} else {
		const struct nf_ipv6 *oip = (const void *)(f + h->l3_off);

		if (oip->daddr[0] == 0xff)
			return;
		eth_back(f, NF_ETH_P_IPV6);
		put_ipv6(out + 14, 20, NF_IPPROTO_TCP, oip->daddr, oip->saddr);
		s = nf_csum_pseudo6(oip->daddr, oip->saddr, NF_IPPROTO_TCP, 20);
	}
	c = nf_csum_finish(nf_csum_partial(t, 20, s));
	memcpy(&t->csum, &c, 2);
	send_back(v, in, 14 + l3 + 20);
}

/* icmpx codes (nft's "reject with icmpx type"): the IPv4 and IPv6 codes. */
static const uint8_t icmpx4[] = { [NF_ICMPX_NO_ROUTE] = 0, [NF_ICMPX_PORT_UNREACH] = 3,
				  [NF_ICMPX_HOST_UNREACH] = 1, [NF_ICMPX_ADMIN_PROHIBITED] = 13 };
static const uint8_t icmpx6[] = { [NF_ICMPX_NO_ROUTE] = 0, [NF_ICMPX_PORT_UNREACH] = 4,
				  [NF_ICMPX_HOST_UNREACH] = 3, [NF_ICMPX_ADMIN_PROHIBITED] = 1 };

void fw_reject(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
	       uint8_t kind, uint8_t code)
{
	const bool v4 = h->ethertype == NF_ETH_P_IPV4;

	if ((!v4 && h->ethertype != NF_ETH_P_IPV6) || (h->flags & NF_HDR_FRAG_LATER) ||
	    (f[0] & 1))
		return;
	if (!l4_ok(f, h))
		return;
	switch (kind) {
	case NF_REJECT_TCP_RST:
		if ((h->flags & NF_HDR_L4) && h->l4_proto == NF_IPPROTO_TCP &&
		    !(h->flags & NF_HDR_FRAG))
			tcp_reset(v, in, f, h);
		return;
	case NF_REJECT_ICMPX:
		if (is_icmp_error(f, h) || code >= sizeof(icmpx4))
			return;
		if (v4)
			icmp4(v, in, f, h, NF_ICMP_DEST_UNREACH, icmpx4[code]);
		else
			icmp6(v, in, f, h, NF_ICMP6_DST_UNREACH, icmpx6[code]);
		return;
	case NF_REJECT_ICMP:	/* destination unreachable, @code (the rule is IPv4) */
		if (!is_icmp_error(f, h) && v4)
			icmp4(v, in, f, h, NF_ICMP_DEST_UNREACH, code);
		return;
	case NF_REJECT_ICMPV6:
		if (!is_icmp_error(f, h) && !v4)
			icmp6(v, in, f, h, NF_ICMP6_DST_UNREACH, code);
		return;
	}
}
