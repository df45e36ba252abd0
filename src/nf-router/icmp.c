/* icmp.c - what nf-router says itself: ICMP and ICMPv6 errors, replies to
 * traffic for its own addresses, ARP and neighbour discovery.
 *
 * Errors follow Linux's icmp_send() / icmp6_send():
 *  - never about an ICMP error, a non-first fragment, or a frame that was
 *    not sent to us at the link layer; IPv6: not about multicast
 *    destinations (except "packet too big");
 *  - IPv4: TOS (orig & 0x1e) | 0xc0, TTL from "set ttl" (64), no DF,
 *    source = the router's address on the port towards the original
 *    source, the original datagram quoted up to 576 bytes in all;
 *  - IPv6: traffic class 0, hop limit 64, source likewise, quoted up to
 *    1280 bytes in all;
 *  - all errors share one token bucket (icmp-rate per second, icmp-burst),
 *    like net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst. Linux also limits
 *    per destination host (6, then 1/s): not done here.
 * The IPv4 identification of what the router sends counts up from a
 * random start (Linux hashes per destination: tests normalise it).
 */
#include "router.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define ICMP4_MAX_TOTAL	576
#define ICMP6_MAX_TOTAL	1280

static uint8_t out[NF_FRAME_MAX];

bool icmp_allow(struct nf_vnf *v)
{
	struct router *r = rt;

	if (!nf_tbucket_take(&r->icmp_tb, v->now_ns, r->set.icmp_rate, r->set.icmp_burst)) {
		v->drops[rt_reason(RT_DROP_ICMP_LIMIT)]++;
		return false;
	}
	r->icmp_sent++;
	return true;
}

/* The router's source address for a packet to @dst: its address on the
 * port the route to @dst leaves by. */
static const struct rt_addr *src_for(const struct nf_ip *dst, unsigned fallback_port)
{
	struct router *r = rt;
	uint32_t idx;
	unsigned port = fallback_port;

	if (dst->family == 4 ? nf_lpm4_lookup(r->fib4, dst->v4, &idx) == 0 :
	    nf_lpm6_lookup(r->fib6, dst->v6, &idx) == 0) {
		if (r->nh[idx].kind == NH_GATEWAY || r->nh[idx].kind == NH_CONNECTED)
			port = r->nh[idx].port;
	}
	return addr_for(port, dst);
}

/* @df: set DF, identification 0 (RFC 6864 4.1: an atomic datagram's
 * identification means nothing; Linux's ip_select_ident does this for DF
 * packets of unconnected sockets, as its TCP resets are). */
static void put_ipv4(uint8_t *p, uint8_t tos, uint16_t totlen, uint8_t proto,
		     uint32_t src, uint32_t dst, bool df)
{
	struct nf_ipv4 *ip = (void *)p;
	uint16_t c;

	ip->ver_ihl = 0x45;
	ip->tos = tos;
	ip->tot_len = htons(totlen);
	ip->id = df ? 0 : htons(rt->ip_id++);
	ip->frag_off = df ? htons(NF_IPV4_DF) : 0;
	ip->ttl = (uint8_t)rt->set.ttl;
	ip->proto = proto;
	ip->csum = 0;
	ip->saddr = htonl(src);
	ip->daddr = htonl(dst);
	c = nf_csum(ip, 20);
	memcpy(&ip->csum, &c, 2);
}

void icmp4_error(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		 const struct nf_hdrs *h, uint8_t type, uint8_t code, uint32_t info)
{
	const struct nf_ipv4 *oip = (const void *)(frame + h->l3_off);
	struct nf_icmp *ic;
	const struct rt_addr *a;
	struct nf_ip dst = { .family = 4 };
	uint32_t quote;
	uint16_t c;

	if (frame[0] & 1)			/* not unicast to us */
		return;
	if (h->flags & NF_HDR_FRAG_LATER)
		return;
	if (oip->proto == NF_IPPROTO_ICMP) {
		const struct nf_icmp *oic = (const void *)(frame + h->l4_off);

		if (!(h->flags & NF_HDR_L4) ||
		    (oic->type != NF_ICMP_ECHO && oic->type != NF_ICMP_ECHOREPLY &&
		     oic->type != 13 && oic->type != 14))	/* errors */
			return;
	}
	dst.v4 = ntohl(oip->saddr);
	a = src_for(&dst, in);
	if (a == NULL || a->ip.family != 4)
		return;
	if (!icmp_allow(v))
		return;
	quote = NF_MIN((uint32_t)h->l3_len, ICMP4_MAX_TOTAL - 20u - 8u);
	memset(out, 0, 14);
	((struct nf_eth *)out)->type = htons(NF_ETH_P_IPV4);
	ic = (void *)(out + 14 + 20);
	ic->type = type;
	ic->code = code;
	ic->csum = 0;
	ic->rest = 0;
	if (type == NF_ICMP_DEST_UNREACH && code == NF_ICMP_FRAG_NEEDED)
		ic->frag.mtu = htons((uint16_t)info);
	else if (type == NF_ICMP_PARAMPROB)
		ic->rest = htonl(info << 24);		/* the pointer */
	else if (type == NF_ICMP_REDIRECT)
		ic->gateway = htonl(info);
	memcpy(ic + 1, oip, quote);
	c = nf_csum(ic, 8 + quote);
	memcpy(&ic->csum, &c, 2);
	put_ipv4(out + 14, (uint8_t)((oip->tos & 0x1e) | 0xc0), (uint16_t)(20 + 8 + quote),
		 NF_IPPROTO_ICMP, a->ip.v4, dst.v4, false);
	rt_output(v, out, 14 + 20 + 8 + quote, &dst, in);
}

static void put_ipv6(uint8_t *p, uint16_t plen, uint8_t next, const uint8_t *src,
		     const uint8_t *dst, uint8_t hlim)
{
	struct nf_ipv6 *ip6 = (void *)p;

	ip6->ver_tc_flow = htonl(6u << 28);
	ip6->payload_len = htons(plen);
	ip6->next = next;
	ip6->hop_limit = hlim;
	memcpy(ip6->saddr, src, 16);
	memcpy(ip6->daddr, dst, 16);
}

static void icmp6_csum(uint8_t *ip6p, uint32_t plen)
{
	struct nf_ipv6 *ip6 = (void *)ip6p;
	struct nf_icmp6 *ic = (void *)(ip6 + 1);
	uint64_t s = nf_csum_pseudo6(ip6->saddr, ip6->daddr, NF_IPPROTO_ICMPV6, plen);
	uint16_t c;

	ic->csum = 0;
	c = nf_csum_finish(nf_csum_partial(ic, plen, s));
	memcpy(&ic->csum, &c, 2);
}

void icmp6_error(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		 const struct nf_hdrs *h, uint8_t type, uint8_t code, uint32_t info)
{
	const struct nf_ipv6 *oip = (const void *)(frame + h->l3_off);
	struct nf_icmp6 *ic;
	const struct rt_addr *a;
	struct nf_ip dst = { .family = 6 };
	uint32_t quote;

	if ((frame[0] & 1) && type != NF_ICMP6_PKT_TOOBIG)
		return;
	if (oip->daddr[0] == 0xff && type != NF_ICMP6_PKT_TOOBIG &&
	    type != NF_ICMP6_PARAMPROB)
		return;
	if (h->l4_proto == NF_IPPROTO_ICMPV6 && (h->flags & NF_HDR_L4)) {
		const struct nf_icmp6 *oic = (const void *)(frame + h->l4_off);

		if (oic->type < 128)		/* an error: never answered */
			return;
	}
	memcpy(dst.v6, oip->saddr, 16);
	a = src_for(&dst, in);
	if (a == NULL || a->ip.family != 6)
		return;
	if (!icmp_allow(v))
		return;
	quote = NF_MIN((uint32_t)h->l3_len, ICMP6_MAX_TOTAL - 40u - 8u);
	memset(out, 0, 14);
	((struct nf_eth *)out)->type = htons(NF_ETH_P_IPV6);
	put_ipv6(out + 14, (uint16_t)(8 + quote), NF_IPPROTO_ICMPV6, a->ip.v6, dst.v6, 64);
	ic = (void *)(out + 14 + 40);
	ic->type = type;
	ic->code = code;
	ic->rest = htonl(info);
	memcpy(ic + 1, oip, quote);
	icmp6_csum(out + 14, 8 + quote);
	rt_output(v, out, 14 + 40 + 8 + quote, &dst, in);
}

/* Redirects: a packet forwarded out of the port it came in by, from a
 * neighbour on that port, tells its sender of the better first hop (RFC
 * 1812 4.3.3.2 and 5.2.7.2: "Redirect for Host", code 1, only when the
 * source is on the next hop's network; RFC 4861 8.2). Both are called
 * where Linux sends them: IPv4 after the TTL decrement (the quote shows
 * it), IPv6 before the hop limit decrement and the MTU check. They share
 * the ICMP token bucket; Linux limits them per host instead. */
void icmp4_redirect(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		    const struct nf_hdrs *h, uint32_t gw)
{
	const struct nf_ipv4 *oip = (const void *)(frame + h->l3_off);
	struct nf_ip src = { .family = 4 }, g = { .family = 4 };

	src.v4 = ntohl(oip->saddr);
	g.v4 = gw;
	if (addr_onlink(in, &src) && addr_onlink(in, &g))
		icmp4_error(v, in, frame, h, NF_ICMP_REDIRECT, 1, gw);
}

/* RFC 4861 4.5: from the port's link-local address, hop limit 255, the
 * target (the better first hop: the destination itself, or a link-local
 * gateway) and destination, the target's link-layer address when it is
 * known, and as much of the packet as fits in 1280 bytes, in multiples of
 * 8 (Linux: ndisc_send_redirect). */
void icmp6_redirect(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		    const struct nf_hdrs *h, const uint8_t target[16])
{
	const struct nf_ipv6 *oip = (const void *)(frame + h->l3_off);
	struct nf_ip dst = { .family = 6 }, t = { .family = 6 };
	const struct rt_addr *ll = addr_linklocal(in);
	const struct neigh *n;
	uint8_t *p = out + 14 + 40;
	uint32_t len = 8 + 32, rd;

	memcpy(dst.v6, oip->saddr, 16);
	memcpy(t.v6, target, 16);
	if (ll == NULL || !addr_onlink(in, &dst) ||
	    (memcmp(target, oip->daddr, 16) != 0 && !rt_ll6(target)))
		return;
	if (!icmp_allow(v))
		return;
	memset(out, 0, 14 + 40 + 8);
	((struct nf_eth *)out)->type = htons(NF_ETH_P_IPV6);
	p[0] = 137;				/* redirect */
	memcpy(p + 8, target, 16);
	memcpy(p + 24, oip->daddr, 16);
	n = neigh_lookup(rt, &t);
	if (n != NULL && n->port == in &&
	    (n->state == NB_REACHABLE || n->state == NB_STALE || n->state == NB_STATIC)) {
		p[len] = NF_ND_OPT_TGT_LLADDR;
		p[len + 1] = 1;
		memcpy(p + len + 2, n->mac, 6);
		len += 8;
	}
	rd = NF_MIN(ICMP6_MAX_TOTAL - 40u - len, h->l3_len + 8u) & ~7u;
	p[len] = 4;				/* redirected header */
	p[len + 1] = (uint8_t)(rd / 8);
	memset(p + len + 2, 0, 6);
	memcpy(p + len + 8, oip, rd - 8);
	len += rd;
	put_ipv6(out + 14, (uint16_t)len, NF_IPPROTO_ICMPV6, ll->ip.v6, dst.v6, 255);
	icmp6_csum(out + 14, len);
	rt_output(v, out, 14 + 40 + len, &dst, in);
}

/* A TCP reset for a segment to the router (RFC 9293 3.10.7.1: a closed
 * port answers anything but a reset with one). Like Linux's
 * tcp_v4_send_reset / tcp_v6_send_reset: no options, window 0, the
 * segment's TOS / traffic class (ECN bits cleared), IPv4 with DF and
 * identification 0, TTL / hop limit 64. */
static void tcp_reset(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		      const struct nf_hdrs *h)
{
	const bool v6 = h->ethertype == NF_ETH_P_IPV6;
	const unsigned l3 = v6 ? 40 : 20;
	const struct nf_tcp *ot = (const void *)(frame + h->l4_off);
	struct nf_tcp *t = (void *)(out + 14 + l3);
	struct nf_ip dst = { .family = v6 ? 6 : 4 };
	uint32_t seglen;
	uint64_t s;
	uint16_t c;

	if (ot->flags & NF_TCP_RST)
		return;
	memset(out, 0, 14 + l3 + 20);
	((struct nf_eth *)out)->type = htons(v6 ? NF_ETH_P_IPV6 : NF_ETH_P_IPV4);
	t->sport = ot->dport;
	t->dport = ot->sport;
	t->doff = 5 << 4;
	seglen = h->l4_len - (ot->doff >> 4) * 4u;
	if (ot->flags & NF_TCP_ACK) {
		t->seq = ot->ack;
		t->flags = NF_TCP_RST;
	} else {
		seglen += !!(ot->flags & NF_TCP_SYN) + !!(ot->flags & NF_TCP_FIN);
		t->ack = htonl(ntohl(ot->seq) + seglen);
		t->flags = NF_TCP_RST | NF_TCP_ACK;
	}
	if (v6) {
		const struct nf_ipv6 *oip = (const void *)(frame + h->l3_off);
		const uint32_t tc = ntohl(oip->ver_tc_flow) & 0x0fc00000u;	/* DSCP */

		put_ipv6(out + 14, 20, NF_IPPROTO_TCP, oip->daddr, oip->saddr, 64);
		((struct nf_ipv6 *)(out + 14))->ver_tc_flow = htonl(6u << 28 | tc);
		memcpy(dst.v6, oip->saddr, 16);
		s = nf_csum_pseudo6(oip->daddr, oip->saddr, NF_IPPROTO_TCP, 20);
	} else {
		const struct nf_ipv4 *oip = (const void *)(frame + h->l3_off);

		dst.v4 = ntohl(oip->saddr);
		put_ipv4(out + 14, oip->tos & 0xfc, 40, NF_IPPROTO_TCP, ntohl(oip->daddr), dst.v4,
			 true);
		s = nf_csum_pseudo4(&((struct nf_ipv4 *)(out + 14))->saddr,
				    &((struct nf_ipv4 *)(out + 14))->daddr, NF_IPPROTO_TCP, 20);
	}
	c = nf_csum_finish(nf_csum_partial(t, 20, s));
	memcpy(&t->csum, &c, 2);
	rt_output(v, out, 14 + l3 + 20, &dst, in);
}

void local4(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h)
{
	const struct nf_ipv4 *oip = (const void *)(frame + h->l3_off);
	const unsigned ihl = (oip->ver_ihl & 0x0f) * 4u;

	if (h->flags & NF_HDR_FRAG) {		/* no reassembly here */
		v->drops[rt_reason(RT_DROP_LOCAL_FRAG)]++;
		return;
	}
	if (oip->proto == NF_IPPROTO_ICMP && (h->flags & NF_HDR_L4)) {
		const struct nf_icmp *oic = (const void *)(frame + h->l4_off);
		struct nf_icmp *ic = (void *)(out + 14 + 20);
		struct nf_ip dst = { .family = 4 };
		uint32_t len = h->l4_len;
		uint16_t c;

		if (oic->type != NF_ICMP_ECHO || nf_csum(oic, len) != 0)
			return;
		memset(out, 0, 14);
		((struct nf_eth *)out)->type = htons(NF_ETH_P_IPV4);
		memcpy(ic, oic, len);
		ic->type = NF_ICMP_ECHOREPLY;
		ic->csum = 0;
		c = nf_csum(ic, len);
		memcpy(&ic->csum, &c, 2);
		dst.v4 = ntohl(oip->saddr);
		put_ipv4(out + 14, oip->tos, (uint16_t)(20 + len), NF_IPPROTO_ICMP,
			 ntohl(oip->daddr), dst.v4, false);
		rt->echo_replies++;
		rt_output(v, out, 14 + 20 + len, &dst, in);
		return;
	}
	(void)ihl;
	if (oip->proto == NF_IPPROTO_UDP)
		icmp4_error(v, in, frame, h, NF_ICMP_DEST_UNREACH, NF_ICMP_PORT_UNREACH, 0);
	else if (oip->proto == NF_IPPROTO_TCP && (h->flags & NF_HDR_L4))
		tcp_reset(v, in, frame, h);
	else if (oip->proto != NF_IPPROTO_ICMP)
		icmp4_error(v, in, frame, h, NF_ICMP_DEST_UNREACH, 2, 0);
}

/* The extension headers of a packet for the router, in order (RFC 8200
 * 4.1). A routing header with segments left gets a parameter problem
 * pointing at its routing type: the router implements none (RFC 8200 4.4;
 * type 0 is deprecated, RFC 5095; Linux without seg6 / RPL enabled does
 * the same). Returns false when it sent that; else *nh_field is the
 * offset, from the IPv6 header, of the Next Header field that names the
 * upper layer (6 without extension headers), for "unrecognized next
 * header" (RFC 8200 4, RFC 4443 3.4). nf_parse checked the chain. */
static bool ext6_walk(struct nf_vnf *v, unsigned in, const uint8_t *frame,
		      const struct nf_hdrs *h, unsigned *nh_field)
{
	const uint8_t *ip = frame + h->l3_off;
	unsigned off = 40, field = 6, n;
	uint8_t nh = ip[6];

	for (n = 0; n < 9 && off + 8 <= h->l3_len; n++) {
		unsigned len;

		if (nh == NF_IPPROTO_HOPOPTS || nh == NF_IPPROTO_DSTOPTS ||
		    nh == NF_IPPROTO_ROUTING)
			len = (ip[off + 1] + 1u) * 8;
		else if (nh == NF_IPPROTO_AH)
			len = (ip[off + 1] + 2u) * 4;
		else if (nh == NF_IPPROTO_FRAGMENT)
			len = 8;
		else
			break;
		if (nh == NF_IPPROTO_ROUTING && ip[off + 3] != 0) {
			icmp6_error(v, in, frame, h, NF_ICMP6_PARAMPROB, 0, off + 2);
			return false;
		}
		field = off;
		nh = ip[off];
		off += len;
	}
	*nh_field = field;
	return true;
}

void local6(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h)
{
	const struct nf_ipv6 *oip = (const void *)(frame + h->l3_off);
	unsigned nh_field = 6;

	if (h->flags & NF_HDR_FRAG) {
		v->drops[rt_reason(RT_DROP_LOCAL_FRAG)]++;
		return;
	}
	if ((h->flags & NF_HDR_IP6_EXT) && !ext6_walk(v, in, frame, h, &nh_field))
		return;
	if (h->l4_proto == NF_IPPROTO_ICMPV6 && (h->flags & NF_HDR_L4)) {
		const struct nf_icmp6 *oic = (const void *)(frame + h->l4_off);
		struct nf_ip dst = { .family = 6 };
		uint32_t len = h->l4_len;
		uint64_t s;

		if (oic->type == NF_ND_NEIGHBOR_SOLICIT || oic->type == NF_ND_NEIGHBOR_ADVERT) {
			nd_input(v, in, frame, h);
			return;
		}
		s = nf_csum_pseudo6(oip->saddr, oip->daddr, NF_IPPROTO_ICMPV6, len);
		if (oic->type != NF_ICMP6_ECHO_REQUEST ||
		    nf_csum_finish(nf_csum_partial(oic, len, s)) != 0)
			return;
		memset(out, 0, 14);
		((struct nf_eth *)out)->type = htons(NF_ETH_P_IPV6);
		put_ipv6(out + 14, (uint16_t)len, NF_IPPROTO_ICMPV6, oip->daddr, oip->saddr, 64);
		memcpy(out + 14 + 40, oic, len);
		((struct nf_icmp6 *)(out + 14 + 40))->type = NF_ICMP6_ECHO_REPLY;
		icmp6_csum(out + 14, len);
		memcpy(dst.v6, oip->saddr, 16);
		rt->echo_replies++;
		rt_output(v, out, 14 + 40 + len, &dst, in);
		return;
	}
	if (h->l4_proto == NF_IPPROTO_UDP)
		icmp6_error(v, in, frame, h, NF_ICMP6_DST_UNREACH, 4, 0);	/* port */
	else if (h->l4_proto == NF_IPPROTO_TCP && (h->flags & NF_HDR_L4))
		tcp_reset(v, in, frame, h);
	else if (h->l4_proto != NF_IPPROTO_TCP && h->l4_proto != NF_IPPROTO_NONE)
		icmp6_error(v, in, frame, h, NF_ICMP6_PARAMPROB, 1, nh_field);
}

/* ---------------------------------------------------------------- ARP */

static void arp_frame(uint8_t *p, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
		      uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct nf_eth *e = (void *)p;
	struct nf_arp *a = (void *)(p + 14);
	uint32_t x;

	memcpy(e->dst, eth_dst, 6);
	memcpy(e->src, sha, 6);
	e->type = htons(NF_ETH_P_ARP);
	a->hrd = htons(NF_ARP_HRD_ETHER);
	a->pro = htons(NF_ETH_P_IPV4);
	a->hln = 6;
	a->pln = 4;
	a->op = htons(op);
	memcpy(a->sha, sha, 6);
	x = htonl(spa);
	memcpy(a->spa, &x, 4);
	memcpy(a->tha, tha, 6);
	x = htonl(tpa);
	memcpy(a->tpa, &x, 4);
}

void arp_send_request(struct nf_vnf *v, unsigned port, uint32_t target)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];
	struct nf_ip t = { .family = 4 };
	const struct rt_addr *a;
	uint8_t f[42];

	t.v4 = target;
	a = addr_for(port, &t);
	if (a == NULL)
		return;
	arp_frame(f, NF_ARP_OP_REQUEST, bcast, v->port[port].mac, a->ip.v4, zero, target);
	nf_vnf_send(v, port, f, sizeof(f));
}

void arp_input(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h)
{
	const struct nf_arp *a = (const void *)(frame + h->l3_off);
	struct nf_ip spa = { .family = 4 }, tpa = { .family = 4 };
	const struct rt_addr *mine;
	uint32_t x;
	uint8_t f[42];

	memcpy(&x, a->spa, 4);
	spa.v4 = ntohl(x);
	memcpy(&x, a->tpa, 4);
	tpa.v4 = ntohl(x);
	if (a->sha[0] & 1) {			/* multicast sender: bogus */
		v->drops[rt_reason(RT_DROP_ARP)]++;
		return;
	}
	mine = addr_local(&tpa);
	/* Learn: create an entry only when the request was for us (Linux:
	 * neigh_event_ns); otherwise refresh an existing one. */
	if (spa.v4 != 0)
		neigh_learn(v, &spa, (uint8_t)in, a->sha, mine != NULL);
	if (ntohs(a->op) != NF_ARP_OP_REQUEST || mine == NULL || spa.v4 == tpa.v4) {
		if (mine == NULL)
			v->drops[rt_reason(RT_DROP_ARP)]++;
		return;
	}
	arp_frame(f, NF_ARP_OP_REPLY, a->sha, v->port[in].mac, tpa.v4, a->sha, spa.v4);
	rt->arp_replies++;
	nf_vnf_send(v, in, f, sizeof(f));
}

/* ---------------------------------------------------------------- ND */

/* An NS or NA; @opt_type 0: without the link-layer address option. */
static void nd_frame(struct nf_vnf *v, unsigned port, uint8_t type, const uint8_t *eth_dst,
		     const uint8_t *src, const uint8_t *dst, const uint8_t *target,
		     uint32_t flags, uint8_t opt_type)
{
	uint8_t f[14 + 40 + 8 + 16 + 8];
	struct nf_eth *e = (void *)f;
	struct nf_icmp6 *ic = (void *)(f + 14 + 40);
	uint8_t *o = f + 14 + 40 + 8 + 16;
	const uint16_t plen = opt_type ? 8 + 16 + 8 : 8 + 16;

	memcpy(e->dst, eth_dst, 6);
	memcpy(e->src, v->port[port].mac, 6);
	e->type = htons(NF_ETH_P_IPV6);
	put_ipv6(f + 14, plen, NF_IPPROTO_ICMPV6, src, dst, 255);
	ic->type = type;
	ic->code = 0;
	ic->rest = htonl(flags);
	memcpy(ic + 1, target, 16);
	if (opt_type) {
		o[0] = opt_type;
		o[1] = 1;			/* 8 bytes */
		memcpy(o + 2, v->port[port].mac, 6);
	}
	icmp6_csum(f + 14, plen);
	nf_vnf_send(v, port, f, 14 + 40u + plen);
}

void nd_send_solicit(struct nf_vnf *v, unsigned port, const uint8_t target[16])
{
	uint8_t dst[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	uint8_t mac[6] = { 0x33, 0x33, 0xff };
	struct nf_ip t = { .family = 6 };
	const struct rt_addr *a;

	memcpy(t.v6, target, 16);
	/* Source: the port's link-local address, as Linux's ndisc_solicit
	 * when the packet that needs the resolution is not from one of the
	 * port's addresses (forwarded traffic); RFC 4861 7.2.2 allows any. */
	a = addr_linklocal(port);
	if (a == NULL)
		a = addr_for(port, &t);
	if (a == NULL)
		return;
	memcpy(dst + 13, target + 13, 3);
	memcpy(mac + 3, target + 13, 3);
	nd_frame(v, port, NF_ND_NEIGHBOR_SOLICIT, mac, a->ip.v6, dst, target, 0,
		 NF_ND_OPT_SRC_LLADDR);
}

/* The link-layer address option of an NS/NA, or NULL. */
static const uint8_t *nd_lladdr(const uint8_t *opt, unsigned len, uint8_t type)
{
	while (len >= 8) {
		unsigned ol = opt[1] * 8u;

		if (ol == 0 || ol > len)
			return NULL;
		if (opt[0] == type && ol >= 8)
			return opt + 2;
		opt += ol;
		len -= ol;
	}
	return NULL;
}

void nd_input(struct nf_vnf *v, unsigned in, const uint8_t *frame, const struct nf_hdrs *h)
{
	const struct nf_ipv6 *ip6 = (const void *)(frame + h->l3_off);
	const struct nf_icmp6 *ic = (const void *)(frame + h->l4_off);
	const unsigned len = h->l4_len;
	const bool mcast = ip6->daddr[0] == 0xff;
	struct nf_ip target = { .family = 6 }, src = { .family = 6 };
	const struct rt_addr *mine;
	const uint8_t *ll;
	uint64_t s;

	if (!(h->flags & NF_HDR_L4) || len < 24 || ip6->hop_limit != 255 || ic->code != 0 ||
	    (ic->type != NF_ND_NEIGHBOR_SOLICIT && ic->type != NF_ND_NEIGHBOR_ADVERT)) {
		v->drops[rt_reason(RT_DROP_ND)]++;
		return;
	}
	s = nf_csum_pseudo6(ip6->saddr, ip6->daddr, NF_IPPROTO_ICMPV6, len);
	if (nf_csum_finish(nf_csum_partial(ic, len, s)) != 0) {
		v->drops[rt_reason(RT_DROP_ND)]++;
		return;
	}
	memcpy(target.v6, ic + 1, 16);
	memcpy(src.v6, ip6->saddr, 16);
	mine = addr_local(&target);
	if (ic->type == NF_ND_NEIGHBOR_ADVERT) {
		ll = nd_lladdr((const uint8_t *)(ic + 1) + 16, len - 24, NF_ND_OPT_TGT_LLADDR);
		if (ll != NULL)
			neigh_learn(v, &target, (uint8_t)in, ll, false);
		return;
	}
	/* RFC 4861 7.2.3: answer for the addresses of the receiving
	 * interface only (Linux: ipv6_get_ifaddr on the device). */
	if (mine == NULL || mine->port != in) {
		v->drops[rt_reason(RT_DROP_ND)]++;
		return;
	}
	ll = nd_lladdr((const uint8_t *)(ic + 1) + 16, len - 24, NF_ND_OPT_SRC_LLADDR);
	if (memcmp(src.v6, (const uint8_t[16]){ 0 }, 16) == 0) {
		/* Duplicate address detection: answer all nodes. */
		static const uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
		static const uint8_t allmac[6] = { 0x33, 0x33, 0, 0, 0, 1 };

		nd_frame(v, in, NF_ND_NEIGHBOR_ADVERT, allmac, target.v6, all, target.v6,
			 NF_ND_NA_ROUTER | NF_ND_NA_OVERRIDE, NF_ND_OPT_TGT_LLADDR);
		rt->nd_replies++;
		return;
	}
	if (ll != NULL) {
		neigh_learn(v, &src, (uint8_t)in, ll, true);
	} else if (!mcast) {
		/* A unicast solicitation (a host's reachability probe, RFC
		 * 4861 7.3.3) may leave the option out: answer the address
		 * the table has for the sender, as Linux does. */
		const struct neigh *n = neigh_lookup(rt, &src);

		if (n != NULL && n->port == in && (n->state == NB_REACHABLE ||
		    n->state == NB_STALE || n->state == NB_STATIC))
			ll = n->mac;
	}
	if (ll == NULL) {
		v->drops[rt_reason(RT_DROP_ND)]++;
		return;
	}
	/* RFC 4861 7.2.4: the answer to a unicast solicitation may omit the
	 * target link-layer address option, and then clears Override;
	 * Linux's ndisc_recv_ns sets both only for multicast solicitations. */
	nd_frame(v, in, NF_ND_NEIGHBOR_ADVERT, ll, target.v6, src.v6, target.v6,
		 NF_ND_NA_ROUTER | NF_ND_NA_SOLICITED | (mcast ? NF_ND_NA_OVERRIDE : 0),
		 mcast ? NF_ND_OPT_TGT_LLADDR : 0);
	rt->nd_replies++;
}
