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

/* First octets that may not be an IPv4 source: 0/8, 127/8, 224..255
 * (multicast, class E, limited broadcast). */
static inline bool martian_src4(uint32_t s)
{
	uint32_t o = s >> 24;

	return o == 0 || o == 127 || o >= 224;
}

/* Destinations never routed: 0/8, 127/8. */
static inline bool martian_dst4(uint32_t d)
{
	uint32_t o = d >> 24;

	return o == 0 || o == 127;
}

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

uint16_t rt_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint16_t i, pending = 0;

	for (i = 0; i < n; i++) {
		const uint8_t *f = pkts[i].data;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_unlikely(h[i].flags & NF_HDR_VLAN)) {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_VLAN));
			continue;
		}
		if (nf_likely(h[i].ethertype == 0x0800)) {
			const struct nf_ipv4 *ip = (const void *)(f + h[i].l3_off);
			const unsigned ihl = (ip->ver_ihl & 0x0f) * 4u;

			if (nf_unlikely(!nf_ipv4_csum_ok(ip, ihl))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_BAD_CSUM));
				continue;
			}
			if (nf_unlikely(martian_src4(load32(&ip->saddr)))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_SRC));
				continue;
			}
			if (nf_unlikely(martian_dst4(load32(&ip->daddr)))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_DST));
				continue;
			}
			if (nf_unlikely((load32(&ip->daddr) >> 28) == 0xe)) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MCAST));
				continue;
			}
			if (nf_unlikely(h[i].flags & NF_HDR_IP_OPTS)) {
				unsigned bad = 0;
				int o = opts_check((const uint8_t *)(ip + 1), ihl - 20, &bad);

				if (o == OPT_SRR) {
					nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_SRCROUTE));
					continue;
				}
				if (o == OPT_BAD) {
					icmp4_error(v, in, f, &h[i], NF_ICMP_PARAMPROB, 0, 20 + bad);
					nf_vnf_drop(v, verdict, i, NF_PERR_IP4_OPTS);
					continue;
				}
			}
			pending++;
		} else if (h[i].ethertype == 0x86dd) {
			const struct nf_ipv6 *ip6 = (const void *)(f + h[i].l3_off);

			if (nf_unlikely(ip6->saddr[0] == 0xff || v6_loopback(ip6->saddr))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_SRC));
				continue;
			}
			/* The unspecified source is checked after this: duplicate
			 * address detection solicits from :: (RFC 4862 5.4.2) to a
			 * multicast group, and must be answered (Linux: ipv6_rcv
			 * lets it in, ip6_forward refuses to route it). */
			if (nf_unlikely(ip6->daddr[0] == 0xff)) {
				/* Multicast: neighbour discovery, else not routed. */
				if ((h[i].flags & NF_HDR_L4) &&
				    h[i].l4_proto == NF_IPPROTO_ICMPV6) {
					nd_input(v, in, f, &h[i]);
					verdict[i] = NF_V_HANDLED;
				} else {
					nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MCAST));
				}
				continue;
			}
			if (nf_unlikely(v6_unspec(ip6->saddr))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_SRC));
				continue;
			}
			if (nf_unlikely(v6_unspec(ip6->daddr) || v6_loopback(ip6->daddr))) {
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MARTIAN_DST));
				continue;
			}
			pending++;
		} else if (h[i].ethertype == 0x0806) {
			arp_input(v, in, f, &h[i]);
			verdict[i] = NF_V_HANDLED;
		} else {
			nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_NOT_IP));
		}
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

uint16_t rt_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		    const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct router *r = rt;
	uint16_t i, pending = 0;
	uint32_t last_dst = 0, last_nh = NF_LPM_MISS;
	bool have_last = false;

	for (i = 0; i < n; i++) {
		struct nf_pkt *pk = &pkts[i];
		const struct rt_nh *nh;
		uint32_t idx;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_likely(h[i].ethertype == 0x0800)) {
			struct nf_ipv4 *ip = (void *)(pk->data + h[i].l3_off);
			uint32_t dst = load32(&ip->daddr);

			if (nf_likely(have_last && dst == last_dst)) {
				idx = last_nh;
			} else {
				if (nf_lpm4_lookup(r->fib4, dst, &idx) < 0)
					idx = NF_LPM_MISS;
				last_dst = dst;
				last_nh = idx;
				have_last = true;
			}
			nh = idx == NF_LPM_MISS ? NULL : &r->nh[idx];
			if (nf_unlikely(nh == NULL || nh->kind >= NH_REJECT)) {
				not_forward(v, in, pk, &h[i], verdict, i, nh, true);
				continue;
			}
			if (nf_unlikely(ip->ttl <= 1)) {
				icmp4_error(v, in, pk->data, &h[i], NF_ICMP_TIME_EXCEEDED, 0, 0);
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_TTL));
				continue;
			}
		} else {
			struct nf_ipv6 *ip6 = (void *)(pk->data + h[i].l3_off);

			if (nf_lpm6_lookup(r->fib6, ip6->daddr, &idx) < 0)
				idx = NF_LPM_MISS;
			nh = idx == NF_LPM_MISS ? NULL : &r->nh[idx];
			if (nf_unlikely(nh == NULL || nh->kind >= NH_REJECT)) {
				not_forward(v, in, pk, &h[i], verdict, i, nh, false);
				continue;
			}
			/* Linux (ip6_forward): link-local scope is not routed. */
			if (nf_unlikely(v6_linklocal(ip6->saddr) || v6_linklocal(ip6->daddr))) {
				icmp6_error(v, in, pk->data, &h[i], NF_ICMP6_DST_UNREACH, 2, 0);
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_LINKLOCAL));
				continue;
			}
			if (nf_unlikely(ip6->hop_limit <= 1)) {
				icmp6_error(v, in, pk->data, &h[i], NF_ICMP6_TIME_EXCEED, 0, 0);
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_TTL));
				continue;
			}
		}
		pk->user = idx;
		verdict[i] = nh->port;
		pending++;
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

uint16_t rt_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct router *r = rt;
	struct neigh *last = NULL;
	struct nf_ip key;
	uint16_t i, out = 0;

	memset(&key, 0, sizeof(key));
	for (i = 0; i < n; i++) {
		struct nf_pkt *pk = &pkts[i];
		const struct rt_nh *nh;
		const unsigned port = verdict[i];
		const struct nf_vnf_port *op;
		struct neigh *nb;
		bool big;

		if (port >= v->nports)
			continue;
		nh = &r->nh[pk->user];
		op = &v->port[port];
		big = h[i].l3_len > op->mtu;
		if (nf_likely(h[i].ethertype == 0x0800)) {
			struct nf_ipv4 *ip = (void *)(pk->data + h[i].l3_off);
			uint32_t c;

			if (nf_unlikely(big && (ip->frag_off & htons(NF_IPV4_DF)))) {
				icmp4_error(v, in, pk->data, &h[i], NF_ICMP_DEST_UNREACH,
					    NF_ICMP_FRAG_NEEDED, op->mtu);
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MTU));
				continue;
			}
			/* Linux ip_decrease_ttl: RFC 1624 for the TTL word. */
			c = ip->csum;
			c += htons(0x0100);
			ip->csum = (uint16_t)(c + (c >= 0xffff));
			ip->ttl--;
			key.family = 4;
			key.v4 = nh->kind == NH_GATEWAY ? nh->gw.v4 : load32(&ip->daddr);
			if (nf_unlikely(h[i].flags & NF_HDR_IP_OPTS)) {
				const struct rt_addr *a = addr_for(port, &key);

				if (a != NULL && a->ip.family == 4)
					record_route(ip, (ip->ver_ihl & 0x0f) * 4u, a->ip.v4);
			}
			if (nf_unlikely(port == in))
				icmp4_redirect(v, in, pk->data, &h[i], key.v4);
		} else {
			struct nf_ipv6 *ip6 = (void *)(pk->data + h[i].l3_off);

			if (nf_unlikely(port == in))
				icmp6_redirect(v, in, pk->data, &h[i],
					       nh->kind == NH_GATEWAY ? nh->gw.v6 : ip6->daddr);
			if (nf_unlikely(big)) {
				icmp6_error(v, in, pk->data, &h[i], NF_ICMP6_PKT_TOOBIG, 0,
					    op->mtu);
				nf_vnf_drop(v, verdict, i, rt_reason(RT_DROP_MTU));
				continue;
			}
			ip6->hop_limit--;
			key.family = 6;
			if (nh->kind == NH_GATEWAY)
				memcpy(key.v6, nh->gw.v6, 16);
			else
				memcpy(key.v6, ip6->daddr, 16);
		}
		/* Next hop: consecutive frames usually share it. */
		if (nf_likely(last != NULL && nf_ip_eq(&last->ip, &key)))
			nb = last;
		else
			nb = neigh_lookup(r, &key);
		if (nf_unlikely(nb == NULL || nb->port != port ||
				(nb->state != NB_REACHABLE && nb->state != NB_STALE &&
				 nb->state != NB_STATIC))) {
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
			continue;
		}
		last = nb;
		set_macs(pk->data, nb->mac, op->mac);
		if (nf_unlikely(big)) {		/* IPv4 without DF */
			rt_fragment4(v, port, pk->data, &h[i], op->mtu);
			verdict[i] = NF_V_HANDLED;
			continue;
		}
		out++;
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
