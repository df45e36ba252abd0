/* fwd.c - nf-router's three stages.
 *
 * The order of the checks follows Linux (net/ipv4/ip_input.c, route.c,
 * ip_forward.c; net/ipv6/ip6_input.c, ip6_output.c), so that the
 * differential test against the kernel sees the same decision:
 *   pre:     header checksum; martian source; martian destination;
 *            multicast; IPv4 options (ip_options_compile: a source route
 *            is dropped, accept_source_route=0; a malformed record route
 *            gets a parameter problem)
 *   process: route lookup (local, broadcast, reject, blackhole, unicast);
 *            no route -> ICMP network unreachable; TTL/hop limit <= 1 ->
 *            time exceeded
 *   post:    MTU (DF or IPv6 -> ICMP "fragmentation needed" / "packet too
 *            big", else fragment), TTL/hop-limit decrement with the RFC
 *            1624 checksum update, next hop, record route, MAC rewrite (or
 *            queue while the neighbour resolves).
 * The forwarded frame is rewritten in place and transmitted by the
 * framework (a buffer swap when both ports are memif clients).
 */
#include "router.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <string.h>

static inline uint32_t load32(const void *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return ntohl(x);
}

/* What the first octet of an IPv4 address says, one table for both:
 * as a source, 0/8, 127/8 and 224..255 are martian (multicast, class E,
 * limited broadcast); as a destination, 0/8 and 127/8 are martian and
 * 224..239 multicast (not routed). */
#define O_SRC_MARTIAN	1
#define O_DST_MARTIAN	2
#define O_DST_MCAST	4
static const uint8_t octet1[256] = {
	[0] = O_SRC_MARTIAN | O_DST_MARTIAN,
	[127] = O_SRC_MARTIAN | O_DST_MARTIAN,
	[224 ... 239] = O_SRC_MARTIAN | O_DST_MCAST,
	[240 ... 255] = O_SRC_MARTIAN,
};

static inline bool v6_unspec(const uint8_t *a)
{
	static const uint8_t z[16];

	return memcmp(a, z, 16) == 0;
}

static inline bool v6_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return memcmp(a, lo, 16) == 0;
}

static inline bool v6_linklocal(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* IPv4 options a router acts on, checked as Linux's ip_options_compile()
 * checks a received packet (nf_parse checked the framing): a loose or
 * strict source route is refused (OPT_SRR: accept_source_route=0, a
 * silent drop); a record route option needs a length >= 3 and a pointer
 * >= 4 that, unless the option is full, leaves room for a whole address
 * (RFC 791: "some room but not enough ... is considered to be in error
 * and is discarded"). OPT_BAD: *bad = the offending byte's offset in the
 * option area; the sender gets an ICMP parameter problem pointing at it,
 * as from Linux. Other options (timestamp included) pass untouched. */
enum { OPT_OK, OPT_SRR, OPT_BAD };

static int opts_check(const uint8_t *opt, unsigned len, unsigned *bad)
{
	unsigned i = 0;

	while (i < len) {
		if (opt[i] == 0)
			break;
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2)
			break;			/* nf_parse checked: not reached */
		if (opt[i] == 131 || opt[i] == 137)	/* LSRR, SSRR */
			return OPT_SRR;
		if (opt[i] == 7) {			/* record route */
			const unsigned ol = opt[i + 1], ptr = ol >= 3 ? opt[i + 2] : 0;

			if (ol < 3) {
				*bad = i + 1;
				return OPT_BAD;
			}
			if (ptr < 4 || (ptr <= ol && ptr + 3 > ol)) {
				*bad = i + 2;
				return OPT_BAD;
			}
		}
		i += opt[i + 1];
	}
	return OPT_OK;
}

/* Record route (RFC 791): a forwarded packet records "its own internet
 * address as known in the environment into which this datagram is being
 * forwarded" if the option has room (Linux, ip_forward_options: the
 * preferred source towards the next hop); the header checksum is then
 * recomputed. A full option is left alone. */
static void record_route(struct nf_ipv4 *ip, unsigned ihl, uint32_t addr)
{
	uint8_t *opt = (uint8_t *)(ip + 1);
	const unsigned len = ihl - 20;
	unsigned i = 0;
	uint16_t c;

	while (i < len && opt[i] != 0) {
		if (opt[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2)
			return;
		if (opt[i] == 7 && opt[i + 2] + 3u <= opt[i + 1]) {	/* room */
			const uint32_t a = htonl(addr);

			memcpy(opt + i + opt[i + 2] - 1, &a, 4);
			opt[i + 2] += 4;
			ip->csum = 0;
			c = nf_csum(ip, ihl);
			memcpy(&ip->csum, &c, 2);
			return;
		}
		i += opt[i + 1];
	}
}

/* Everything pre does to one frame, in Linux's order. Returns 1 if the
 * frame goes on to the process stage. */
static __attribute__((noinline)) unsigned pre_one(struct nf_vnf *v, unsigned in,
						  const uint8_t *f, const struct nf_hdrs *h,
						  uint16_t *verdict, uint16_t i)
{
	if (nf_unlikely(h->flags & NF_HDR_VLAN)) {
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_VLAN));
		return 0;
	}
	if (h->ethertype == 0x0800) {
		const struct nf_ipv4 *ip = (const void *)(f + h->l3_off);
		const unsigned ihl = (ip->ver_ihl & 0x0f) * 4u;
		const unsigned cls = (octet1[((const uint8_t *)&ip->saddr)[0]] & O_SRC_MARTIAN) |
			(octet1[((const uint8_t *)&ip->daddr)[0]] & ~O_SRC_MARTIAN);

		if (!nf_ipv4_csum_ok(ip, ihl)) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_BAD_CSUM));
			return 0;
		}
		if (cls != 0) {
			nf_vnf_drop(v, verdict, i, rt_reason(
				(cls & O_SRC_MARTIAN) ? RT_DROP_MARTIAN_SRC :
				(cls & O_DST_MARTIAN) ? RT_DROP_MARTIAN_DST : RT_DROP_MCAST));
			return 0;
		}
		if (h->flags & NF_HDR_IP_OPTS) {
			unsigned bad = 0;
			int o = opts_check((const uint8_t *)(ip + 1), ihl - 20, &bad);

			if (o == OPT_SRR) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_SRCROUTE));
				return 0;
			}
			if (o == OPT_BAD) {
				icmp4_error(v, in, f, h, NF_ICMP_PARAMPROB, 0, 20 + bad);
				nf_vnf_drop(v, verdict, i, NF_PERR_IP4_OPTS);
				return 0;
			}
		}
		return 1;
	}
	if (h->ethertype == 0x86dd) {
		const struct nf_ipv6 *ip6 = (const void *)(f + h->l3_off);

		if (ip6->saddr[0] == 0xff || v6_loopback(ip6->saddr)) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_SRC));
			return 0;
		}
		/* The unspecified source is checked after this: duplicate
		 * address detection solicits from :: (RFC 4862 5.4.2) to a
		 * multicast group, and must be answered (Linux: ipv6_rcv lets
		 * it in, ip6_forward refuses to route it). */
		if (ip6->daddr[0] == 0xff) {
			/* Multicast: neighbour discovery, else not routed. */
			if ((h->flags & NF_HDR_L4) && h->l4_proto == NF_IPPROTO_ICMPV6) {
				nd_input(v, in, f, h);
				verdict[i] = NF_V_HANDLED;
			} else {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MCAST));
			}
			return 0;
		}
		if (v6_unspec(ip6->saddr)) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_SRC));
			return 0;
		}
		if (v6_unspec(ip6->daddr) || v6_loopback(ip6->daddr)) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_DST));
			return 0;
		}
		return 1;
	}
	if (h->ethertype == 0x0806) {
		arp_input(v, in, f, h);
		verdict[i] = NF_V_HANDLED;
		return 0;
	}
	nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_NOT_IP));
	return 0;
}

/* The common frame (untagged IPv4 without options and with a good
 * checksum, or untagged IPv6; no martian or multicast address) is decided
 * here; pre_one does the rest. An IPv4 frame without options has nothing
 * to check after its destination's class: process checks that, once per
 * destination. */
uint16_t rt_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint16_t i, pending = 0;

	/* two frames a turn: less loop overhead per frame */
#pragma GCC unroll 2
	for (i = 0; i < n; i++) {
		const uint8_t *f = pkts[i].data;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_likely(h[i].ethertype == 0x0800 &&
			      !(h[i].flags & (NF_HDR_VLAN | NF_HDR_IP_OPTS)))) {
			const struct nf_ipv4 *ip = (const void *)(f + h[i].l3_off);
			const uint8_t *s = (const uint8_t *)&ip->saddr;

			/* The destination's class is checked by process, once
			 * per destination (nothing between would differ). */
			if (nf_likely(!(octet1[s[0]] & O_SRC_MARTIAN) &&
				      nf_ipv4_csum20_ok(ip))) {
				pending++;
				continue;
			}
		} else if (h[i].ethertype == 0x86dd && !(h[i].flags & NF_HDR_VLAN)) {
			/* Not multicast, and neither address is ::, ::1 (or
			 * anything else in ::/64). */
			const struct nf_ipv6 *ip6 = (const void *)(f + h[i].l3_off);
			uint64_t sh, dh;

			memcpy(&sh, ip6->saddr, 8);
			memcpy(&dh, ip6->daddr, 8);
			if (nf_likely(ip6->saddr[0] != 0xff && ip6->daddr[0] != 0xff &&
				      sh != 0 && dh != 0)) {
				pending++;
				continue;
			}
		}
		pending += pre_one(v, in, f, &h[i], verdict, i);
	}
	return pending;
}

/* A route decision that is not "forward": act, set the verdict. */
static void not_forward(struct nf_vnf *v, unsigned in, struct nf_pkt *pk,
			const struct nf_hdrs *h, uint16_t *verdict, uint16_t i,
			const struct rt_nh *nh, bool v4)
{
	switch (nh == NULL ? 255 : nh->kind) {
	case NH_LOCAL:
		if (v4)
			local4(v, in, pk->data, h);
		else
			local6(v, in, pk->data, h);
		verdict[i] = NF_V_HANDLED;
		rt->local_delivered++;
		return;
	case NH_BCAST:
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_BCAST));
		return;
	case NH_BLACKHOLE:
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_BLACKHOLE));
		return;
	case NH_REJECT:
		if (v4)
			icmp4_error(v, in, pk->data, h, NF_ICMP_DEST_UNREACH,
				    NF_ICMP_HOST_UNREACH, 0);
		else
			/* RFC 4443 3.1: code 6, "reject route to destination"
			 * (Linux answers its unreachable routes with 0). */
			icmp6_error(v, in, pk->data, h, NF_ICMP6_DST_UNREACH, 6, 0);
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_REJECT));
		return;
	default:		/* no route */
		if (v4)
			icmp4_error(v, in, pk->data, h, NF_ICMP_DEST_UNREACH,
				    NF_ICMP_NET_UNREACH, 0);
		else
			icmp6_error(v, in, pk->data, h, NF_ICMP6_DST_UNREACH, 0, 0);
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_NO_ROUTE));
		return;
	}
}

/* An IPv4 frame to a martian or multicast destination (pre's fast path
 * leaves that to process), or whose route does not forward it, or whose
 * TTL runs out. */
static __attribute__((noinline)) void process4_slow(struct nf_vnf *v, unsigned in,
						    struct nf_pkt *pk, const struct nf_hdrs *h,
						    uint16_t *verdict, uint16_t i, uint32_t idx)
{
	const struct rt_nh *nh = idx == NF_LPM_MISS ? NULL : &rt->nh[idx];
	const struct nf_ipv4 *ip = (const void *)(pk->data + h->l3_off);
	const unsigned cls = octet1[((const uint8_t *)&ip->daddr)[0]];

	if (cls & (O_DST_MARTIAN | O_DST_MCAST)) {
		nf_vnf_drop(v, verdict, i, rt_reason((cls & O_DST_MARTIAN) ?
						     RT_DROP_MARTIAN_DST : RT_DROP_MCAST));
		return;
	}

	if (nh == NULL || nh->kind >= NH_REJECT) {
		not_forward(v, in, pk, h, verdict, i, nh, true);
		return;
	}
	icmp4_error(v, in, pk->data, h, NF_ICMP_TIME_EXCEEDED, 0, 0);
	nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_TTL));
}

/* The last IPv6 destination looked up in a burst. :: never gets to the
 * process stage (pre drops it): all zeros means none. */
struct last6 {
	uint64_t dst[2];
	uint32_t idx;
	int port;		/* where idx forwards dst to, or -1 */
};

/* The process stage for one IPv6 frame. Returns 1 if it is forwarded. */
static __attribute__((noinline)) unsigned process6(struct nf_vnf *v, unsigned in,
						   struct nf_pkt *pk, const struct nf_hdrs *h,
						   uint16_t *verdict, uint16_t i, struct last6 *c)
{
	struct nf_ipv6 *ip6 = (void *)(pk->data + h->l3_off);
	const struct rt_nh *nh;
	uint64_t d[2];
	uint32_t idx;

	memcpy(d, ip6->daddr, 16);
	if (nf_unlikely(d[0] != c->dst[0] || d[1] != c->dst[1])) {
		if (nf_lpm6_lookup(rt->fib6, ip6->daddr, &c->idx) < 0)
			c->idx = NF_LPM_MISS;
		c->dst[0] = d[0];
		c->dst[1] = d[1];
		c->port = c->idx != NF_LPM_MISS && rt->nh[c->idx].kind < NH_REJECT &&
			!v6_linklocal(ip6->daddr) ? rt->nh[c->idx].port : -1;
	}
	idx = c->idx;
	nh = idx == NF_LPM_MISS ? NULL : &rt->nh[idx];
	if (nf_unlikely(nh == NULL || nh->kind >= NH_REJECT)) {
		not_forward(v, in, pk, h, verdict, i, nh, false);
		return 0;
	}
	/* Linux (ip6_forward): link-local scope is not routed. */
	if (nf_unlikely(v6_linklocal(ip6->saddr) || v6_linklocal(ip6->daddr))) {
		icmp6_error(v, in, pk->data, h, NF_ICMP6_DST_UNREACH, 2, 0);
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_LINKLOCAL));
		return 0;
	}
	if (nf_unlikely(ip6->hop_limit <= 1)) {
		icmp6_error(v, in, pk->data, h, NF_ICMP6_TIME_EXCEED, 0, 0);
		nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_TTL));
		return 0;
	}
	pk->user = idx;
	verdict[i] = nh->port;
	return 1;
}

/* Route lookup. Consecutive frames usually share a destination: the last
 * one's result is kept for the burst (routes change between bursts). */
uint16_t rt_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		    const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct router *r = rt;
	struct last6 c6 = { { 0, 0 }, NF_LPM_MISS, -1 };
	uint32_t dst4 = 0, idx4 = NF_LPM_MISS;	/* dst4 in network order */
	int port4 = -1;				/* where idx4 forwards to, or -1 */
	uint16_t i, pending = 0;

	/* two frames a turn: less loop overhead per frame */
#pragma GCC unroll 2
	for (i = 0; i < n; i++) {
		struct nf_pkt *pk = &pkts[i];

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_likely(h[i].ethertype == 0x0800)) {
			const struct nf_ipv4 *ip = (const void *)(pk->data + h[i].l3_off);

			if (nf_unlikely(ip->daddr != dst4)) {
				dst4 = ip->daddr;
				if (nf_lpm4_lookup(r->fib4, ntohl(dst4), &idx4) < 0)
					idx4 = NF_LPM_MISS;
				port4 = idx4 != NF_LPM_MISS && r->nh[idx4].kind < NH_REJECT &&
					!(octet1[((const uint8_t *)&dst4)[0]] &
					  (O_DST_MARTIAN | O_DST_MCAST)) ? r->nh[idx4].port : -1;
			}
			if (nf_likely(port4 >= 0 && ip->ttl > 1)) {
				pk->user = idx4;
				verdict[i] = (uint16_t)port4;
				pending++;
				continue;
			}
			process4_slow(v, in, pk, &h[i], verdict, i, idx4);
			continue;
		}
		{
			const struct nf_ipv6 *ip6 = (const void *)(pk->data + h[i].l3_off);
			uint64_t d[2];

			memcpy(d, ip6->daddr, 16);
			if (nf_likely(d[0] == c6.dst[0] && d[1] == c6.dst[1] && c6.port >= 0 &&
				      ip6->hop_limit > 1 && !v6_linklocal(ip6->saddr))) {
				pk->user = c6.idx;
				verdict[i] = (uint16_t)c6.port;
				pending++;
				continue;
			}
		}
		pending += process6(v, in, pk, &h[i], verdict, i, &c6);
	}
	return pending;
}

/* IPv4 fragmentation as Linux does it (ip_do_fragment, slow path): every
 * fragment keeps the header length; options without the copy flag are
 * replaced by NOPs after the first fragment; payload in multiples of 8. */
void rt_fragment4(struct nf_vnf *v, unsigned port, uint8_t *frame,
		  const struct nf_hdrs *h, uint32_t mtu)
{
	uint8_t buf[NF_FRAME_MAX];
	struct nf_ipv4 *ip = (void *)(frame + h->l3_off);
	const unsigned hlen = (ip->ver_ihl & 0x0f) * 4u;
	const unsigned l2 = h->l3_off;
	uint32_t left = h->l3_len - hlen, off = 0;
	uint16_t fo = ntohs(ip->frag_off);
	const uint32_t base = (uint32_t)(fo & NF_IPV4_OFFMASK) * 8;
	const bool more = fo & NF_IPV4_MF;
	bool first = true;

	while (left > 0) {
		uint32_t len = left;
		struct nf_ipv4 *fip;
		uint16_t nfo, c;

		if (len > mtu - hlen)
			len = (mtu - hlen) & ~7u;
		memcpy(buf, frame, l2 + hlen);
		fip = (void *)(buf + l2);
		if (!first && hlen > 20) {
			uint8_t *o = (uint8_t *)(fip + 1);
			unsigned k = 0;

			while (k < hlen - 20) {	/* RFC 791 copy flag */
				unsigned ol;

				if (o[k] == 0)
					break;
				if (o[k] == 1) {
					k++;
					continue;
				}
				ol = o[k + 1];
				if (!(o[k] & 0x80))
					memset(o + k, 1, ol);
				k += ol;
			}
		}
		memcpy(buf + l2 + hlen, frame + l2 + hlen + off, len);
		nfo = (uint16_t)((base + off) / 8);
		if (left > len || more)
			nfo |= NF_IPV4_MF;
		fip->frag_off = htons(nfo);
		fip->tot_len = htons((uint16_t)(hlen + len));
		fip->csum = 0;
		c = nf_csum(fip, hlen);
		memcpy(&fip->csum, &c, 2);
		nf_vnf_send(v, port, buf, l2 + hlen + len);
		rt->fragments_made++;
		off += len;
		left -= len;
		first = false;
	}
}

static inline void set_macs(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
}

static inline bool nb_usable(const struct neigh *nb)
{
	return nb->state == NB_REACHABLE || nb->state == NB_STALE || nb->state == NB_STATIC;
}

/* Everything post does to one frame routed to @port. Returns 1 if the
 * frame is to be transmitted (rewritten in place). */
static __attribute__((noinline)) unsigned post_one(struct nf_vnf *v, unsigned in,
						   struct nf_pkt *pk, const struct nf_hdrs *h,
						   uint16_t *verdict, uint16_t i, unsigned port)
{
	struct router *r = rt;
	const struct rt_nh *nh = &r->nh[pk->user];
	const struct nf_vnf_port *op = &v->port[port];
	const bool big = h->l3_len > op->mtu;
	struct neigh *nb;
	struct nf_ip key;

	memset(&key, 0, sizeof(key));
	if (h->ethertype == 0x0800) {
		struct nf_ipv4 *ip = (void *)(pk->data + h->l3_off);

		if (big && (ip->frag_off & htons(NF_IPV4_DF))) {
			icmp4_error(v, in, pk->data, h, NF_ICMP_DEST_UNREACH,
				    NF_ICMP_FRAG_NEEDED, op->mtu);
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MTU));
			return 0;
		}
		nf_ipv4_ttl_dec(ip);
		key.family = 4;
		key.v4 = nh->kind == NH_GATEWAY ? nh->gw.v4 : load32(&ip->daddr);
		if (h->flags & NF_HDR_IP_OPTS) {
			const struct rt_addr *a = addr_for(port, &key);

			if (a != NULL && a->ip.family == 4)
				record_route(ip, (ip->ver_ihl & 0x0f) * 4u, a->ip.v4);
		}
		if (port == in)
			icmp4_redirect(v, in, pk->data, h, key.v4);
	} else {
		struct nf_ipv6 *ip6 = (void *)(pk->data + h->l3_off);

		if (port == in)
			icmp6_redirect(v, in, pk->data, h,
				       nh->kind == NH_GATEWAY ? nh->gw.v6 : ip6->daddr);
		if (big) {
			icmp6_error(v, in, pk->data, h, NF_ICMP6_PKT_TOOBIG, 0, op->mtu);
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MTU));
			return 0;
		}
		ip6->hop_limit--;
		key.family = 6;
		memcpy(key.v6, nh->kind == NH_GATEWAY ? nh->gw.v6 : ip6->daddr, 16);
	}
	nb = neigh_lookup(r, &key);
	if (nb == NULL || nb->port != port || !nb_usable(nb)) {
		if (nb == NULL || nb->port != port)
			nb = neigh_get(r, &key, (uint8_t)port);
		neigh_restart(nb);
		if (nb == NULL || neigh_queue(v, nb, pk->data, pk->len) < 0) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_NEIGH_QFULL));
		} else {
			verdict[i] = NF_V_HANDLED;
			if (nb->state == NB_INCOMPLETE && nb->probes == 0)
				neigh_probe(v, nb);
		}
		return 0;
	}
	set_macs(pk->data, nb->mac, op->mac);
	if (big) {		/* IPv4 without DF */
		rt_fragment4(v, port, pk->data, h, op->mtu);
		verdict[i] = NF_V_HANDLED;
		return 0;
	}
	return 1;
}

/* A resolved next hop, kept for the rest of a burst: the frames that
 * follow through the same route to the same neighbour get the same 12
 * bytes of MAC addresses. A route (next-hop index) fixes the port, and the
 * neighbour too when it has a gateway; a connected route leads to the
 * destination itself. Kept by value: nothing in the neighbour table is
 * pointed to. */
struct adj {
	uint32_t idx;			/* route's next hop; NF_LPM_MISS: none kept */
	bool gw;			/* NH_GATEWAY: dst does not matter */
	uint32_t mtu;			/* of the route's port */
	uint64_t dst[2];		/* connected: the destination (as in the
					 * header; IPv4 in dst[0]) */
	uint8_t l2[12];			/* destination MAC, source MAC */
};

/* Keep the next hop of route @idx for a frame to @dst (IPv4 or IPv6 as in
 * the header) in @a, if it is resolved and the frame needs nothing else
 * (not sent back to @in: a redirect). */
static __attribute__((noinline)) bool adj_fill(struct nf_vnf *v, unsigned in, struct adj *a,
					       uint32_t idx, bool v4, const uint8_t *dst)
{
	const struct rt_nh *nh = &rt->nh[idx];
	const struct neigh *nb;
	struct nf_ip k;

	a->idx = NF_LPM_MISS;
	if (nh->port == in)
		return false;
	memset(&k, 0, sizeof(k));
	a->dst[0] = a->dst[1] = 0;
	if (nh->kind == NH_GATEWAY) {
		k = nh->gw;
	} else if (v4) {
		k.family = 4;
		k.v4 = load32(dst);
		memcpy(a->dst, dst, 4);
	} else {
		k.family = 6;
		memcpy(k.v6, dst, 16);
		memcpy(a->dst, dst, 16);
	}
	nb = neigh_lookup(rt, &k);
	if (nb == NULL || nb->port != nh->port || !nb_usable(nb))
		return false;
	a->idx = idx;
	a->gw = nh->kind == NH_GATEWAY;
	a->mtu = v->port[nh->port].mtu;
	memcpy(a->l2, nb->mac, 6);
	memcpy(a->l2 + 6, v->port[nh->port].mac, 6);
	return true;
}

/* The common frame (fits the MTU, no IPv4 options, not sent back where it
 * came from, next hop resolved) is rewritten here, from the next hop kept
 * in a struct adj. post_one does the rest (and may change the neighbour
 * table: what was kept is forgotten). */
uint16_t rt_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct adj a4, a6;
	const unsigned nports = v->nports;
	uint16_t i, out = 0;

	a4.idx = a6.idx = NF_LPM_MISS;
	/* two frames a turn: less loop overhead per frame */
#pragma GCC unroll 2
	for (i = 0; i < n; i++) {
		struct nf_pkt *pk = &pkts[i];
		const unsigned port = verdict[i];
		const uint32_t idx = pk->user;

		if (port >= nports)
			continue;
		if (nf_likely(h[i].ethertype == 0x0800)) {
			struct nf_ipv4 *ip = (void *)(pk->data + h[i].l3_off);

			if (nf_unlikely((idx != a4.idx || (!a4.gw && ip->daddr != a4.dst[0])) &&
					!adj_fill(v, in, &a4, idx, true,
						  (const uint8_t *)&ip->daddr)))
				goto slow;
			if (nf_unlikely((h[i].flags & NF_HDR_IP_OPTS) || h[i].l3_len > a4.mtu))
				goto slow;
			nf_ipv4_ttl_dec(ip);
			memcpy(pk->data, a4.l2, 12);
		} else {
			struct nf_ipv6 *ip6 = (void *)(pk->data + h[i].l3_off);
			uint64_t d[2];

			memcpy(d, ip6->daddr, 16);
			if (nf_unlikely((idx != a6.idx ||
					 (!a6.gw && (d[0] != a6.dst[0] || d[1] != a6.dst[1]))) &&
					!adj_fill(v, in, &a6, idx, false, ip6->daddr)))
				goto slow;
			if (nf_unlikely(h[i].l3_len > a6.mtu))
				goto slow;
			ip6->hop_limit--;
			memcpy(pk->data, a6.l2, 12);
		}
		out++;
		continue;
slow:
		a4.idx = a6.idx = NF_LPM_MISS;
		out += post_one(v, in, pk, &h[i], verdict, i, port);
	}
	return out;
}

void rt_output(struct nf_vnf *v, uint8_t *frame, uint32_t len, const struct nf_ip *dst,
	       unsigned in)
{
	struct router *r = rt;
	struct neigh *nb;
	struct nf_ip key;
	unsigned port;
	uint32_t idx;

	if (dst->family == 6 && v6_linklocal(dst->v6)) {
		/* fe80::/10 is on every link (no route says which): it is
		 * the one the frame being answered came from. */
		if (in >= v->nports)
			return;
		key = *dst;
		port = in;
	} else {
		const struct rt_nh *nh;

		if (dst->family == 4) {
			if (nf_lpm4_lookup(r->fib4, dst->v4, &idx) < 0)
				return;
		} else if (nf_lpm6_lookup(r->fib6, dst->v6, &idx) < 0) {
			return;
		}
		nh = &r->nh[idx];
		if (nh->kind != NH_GATEWAY && nh->kind != NH_CONNECTED)
			return;
		key = nh->kind == NH_GATEWAY ? nh->gw : *dst;
		port = nh->port;
	}
	nb = neigh_lookup(r, &key);
	if (nb == NULL || nb->port != port)
		nb = neigh_get(r, &key, (uint8_t)port);
	if (nb == NULL)
		return;
	if (nb->state == NB_REACHABLE || nb->state == NB_STALE || nb->state == NB_STATIC) {
		set_macs(frame, nb->mac, v->port[port].mac);
		nf_vnf_send(v, port, frame, len);
		return;
	}
	neigh_restart(nb);
	if (neigh_queue(v, nb, frame, len) == 0 && nb->probes == 0)
		neigh_probe(v, nb);
}
