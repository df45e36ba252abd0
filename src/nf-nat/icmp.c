/* icmp.c - nf-nat's slow cases: ICMP errors (RFC 5508), proxy ARP for
 * the pool, static 1:1 pairs, IPv4 fragments.
 *
 * An ICMP error quotes a packet that went the other way through the NAT
 * (as translated). Its tuple, inverted, is a tuple of the session it
 * belongs to and says the direction d the error travels in; the quoted
 * packet is restored to what it was on this side (the session's tuple in
 * the other direction, t[!d]: addresses, ports or identifier), the quoted
 * IPv4 header checksum recomputed, the quoted TCP / UDP / ICMP checksum
 * updated when the quote holds it; the outer destination becomes t[!d]'s
 * source, and the outer source t[!d]'s destination when the error leaves
 * by the outside (as Linux's nf_nat_icmp_reply_translation: the inside
 * router or host that made it is not shown outside) or when it came from
 * the remote endpoint itself. The ICMP checksum is recomputed (the whole
 * message is there). Errors that quote no session are dropped and counted
 * (REQ-3 of RFC 5508 asks for that for the unmatched ones).
 *
 * Fragments: RFC 4787 REQ-14 asks NATs to handle them. The first fragment
 * carries the ports and goes through the session table; its translation
 * (addresses) is kept by (source, destination, protocol, identification)
 * for 30 s in a small direct-mapped table, and the later fragments get
 * the same addresses. A later fragment that arrives before its first one
 * is dropped (fragment-no-state): no reassembly buffer.
 */
#include "nat.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FRAG_SLOTS	4096
#define FRAG_TTL_NS	30000000000ull

struct nat_frag {
	uint32_t src, dst, id_proto;	/* as received (network order) */
	uint32_t nsrc, ndst;		/* as translated */
	uint16_t port;
	uint64_t until;
};

bool nat_icmp_is_error(uint8_t type)
{
	return type == NF_ICMP_DEST_UNREACH || type == 4 || type == NF_ICMP_REDIRECT ||
		type == NF_ICMP_TIME_EXCEEDED || type == NF_ICMP_PARAMPROB;
}

static inline bool query_type(uint8_t t)
{
	return t == 0 || t == 8 || t == 13 || t == 14 || t == 15 || t == 16 || t == 17 ||
		t == 18;
}

/* Rewrite the quoted packet @q (@qlen bytes, header of @ihl bytes) to
 * @ns/@nd and ports @nsp/@ndp (ICMP: identifier @nsp). */
static void quote_rewrite(uint8_t *q, unsigned qlen, unsigned ihl, uint32_t ns, uint32_t nd,
			  uint16_t nsp, uint16_t ndp)
{
	uint8_t *l4 = q + ihl;
	const uint8_t proto = q[9];
	const bool first = !(q[6] & 0x1f) && !q[7];
	uint32_t os, od;
	uint16_t ops, opd, c;
	uint64_t d;

	memcpy(&os, q + 12, 4);
	memcpy(&od, q + 16, 4);
	d = (uint64_t)(uint32_t)~os + (uint32_t)~od + ns + nd;
	memcpy(q + 12, &ns, 4);
	memcpy(q + 16, &nd, 4);
	q[10] = q[11] = 0;
	c = nf_csum(q, ihl);
	memcpy(q + 10, &c, 2);
	if (!first)
		return;
	memcpy(&ops, l4, 2);
	memcpy(&opd, l4 + 2, 2);
	if (proto == NF_IPPROTO_ICMP) {		/* a query: its identifier */
		memcpy(&ops, l4 + 4, 2);
		memcpy(l4 + 4, &nsp, 2);
		memcpy(&c, l4 + 2, 2);
		c = nat_csum_adj(c, (uint16_t)~ops + (uint64_t)nsp);
		memcpy(l4 + 2, &c, 2);
		return;
	}
	memcpy(l4, &nsp, 2);
	memcpy(l4 + 2, &ndp, 2);
	d += (uint16_t)~ops + (uint64_t)(uint16_t)~opd + nsp + ndp;
	if (proto == NF_IPPROTO_UDP && qlen >= ihl + 8) {
		memcpy(&c, l4 + 6, 2);
		if (c != 0) {
			c = nat_csum_adj(c, d);
			if (c == 0)
				c = 0xffff;
			memcpy(l4 + 6, &c, 2);
		}
	} else if (proto == NF_IPPROTO_TCP && qlen >= ihl + 18) {
		memcpy(&c, l4 + 16, 2);
		c = nat_csum_adj(c, d);
		memcpy(l4 + 16, &c, 2);
	}
}

/* Is the ICMP error of frame @f fit to translate? Its checksum is
 * recomputed from scratch afterwards, so a damaged message is refused
 * here, not repaired: 0, or the drop reason. */
static int error_check(const uint8_t *f, const struct nf_hdrs *h)
{
	if (h->l4_len < 8 || (h->flags & NF_HDR_FRAG))
		return NAT_DROP_ICMP_BAD;
	if (nf_csum(f + h->l4_off, h->l4_len) != 0)
		return NAT_DROP_ICMP_CSUM;
	return 0;
}

/* The quoted packet of an ICMP error: 0 and its tuple, or -1. */
static int quote_tuple(const uint8_t *q, unsigned qlen, struct nf_ct_tuple *t, unsigned *ihl)
{
	const uint8_t *l4;

	if (qlen < 20 || q[0] >> 4 != 4)
		return -1;
	*ihl = (q[0] & 0x0f) * 4u;
	if (*ihl < 20 || qlen < *ihl + 8)
		return -1;
	l4 = q + *ihl;
	memset(t, 0, sizeof(*t));
	memcpy(t->src, q + 12, 4);
	memcpy(t->dst, q + 16, 4);
	t->proto = q[9];
	t->family = 4;
	if ((q[6] & 0x1f) || q[7])		/* a later fragment: no ports */
		return -1;
	switch (t->proto) {
	case NF_IPPROTO_TCP:
	case NF_IPPROTO_UDP:
		memcpy(&t->sport, l4, 2);
		memcpy(&t->dport, l4 + 2, 2);
		return 0;
	case NF_IPPROTO_ICMP:
		if (!query_type(l4[0]))		/* no errors about errors */
			return -1;
		memcpy(&t->sport, l4 + 4, 2);
		return 0;
	}
	return -1;
}

/* The inverse of @t: what the other direction looks like. */
static void tuple_invert(struct nf_ct_tuple *r, const struct nf_ct_tuple *t)
{
	*r = *t;
	memcpy(r->src, t->dst, 4);
	memcpy(r->dst, t->src, 4);
	if (t->proto != NF_IPPROTO_ICMP) {
		r->sport = t->dport;
		r->dport = t->sport;
	}
}

/* Outer header and ICMP checksum after the quote changed. */
static void outer_rewrite(uint8_t *f, const struct nf_hdrs *h, uint32_t ns, uint32_t nd)
{
	uint8_t *ip = f + h->l3_off, *ic = f + h->l4_off;
	const unsigned ihl = (ip[0] & 0x0f) * 4u;
	uint16_t c;

	memcpy(ip + 12, &ns, 4);
	memcpy(ip + 16, &nd, 4);
	ip[10] = ip[11] = 0;
	c = nf_csum(ip, ihl);
	memcpy(ip + 10, &c, 2);
	ic[2] = ic[3] = 0;
	c = nf_csum(ic, h->l4_len);
	memcpy(ic + 2, &c, 2);
}

int nat_icmp_error(struct nf_vnf *v, unsigned in, uint8_t *f, const struct nf_hdrs *h,
		   uint16_t *verdict, uint16_t i)
{
	struct nat *n = nat;
	uint8_t *ip = f + h->l3_off, *q = f + h->l4_off + 8;
	const unsigned qlen = h->l4_len - 8u, outside = in == (unsigned)n->outside;
	struct nf_ct_tuple t, r;
	const struct nf_ct_tuple *o;
	struct nf_ct_entry *e;
	unsigned ihl;
	uint32_t idx, os, qs, qd;
	uint8_t d;
	int out, bad = error_check(f, h);

	if (bad == 0 && quote_tuple(q, qlen, &t, &ihl) < 0)
		bad = NAT_DROP_ICMP_BAD;
	if (bad) {
		nf_vnf_drop(v, verdict, i, nat_reason((enum nat_drop)bad));
		return -1;
	}
	tuple_invert(&r, &t);
	if (nf_ct_lookup(n->ct, &r, &idx, &d) < 0) {
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_ICMP_NO_SESS));
		return -1;
	}
	e = nf_ct_entry(n->ct, idx);
	if (e->user & NAT_U_HAIRPIN) {
		if (outside)
			goto wrong;
		out = n->inside;
	} else if ((((d ^ (e->user >> 24)) & 1) == outside)) {
		out = outside ? n->inside : n->outside;
	} else {
		goto wrong;
	}
	o = &e->t[!d];
	memcpy(&qs, o->src, 4);
	memcpy(&qd, o->dst, 4);
	quote_rewrite(q, qlen, ihl, qs, qd, o->sport, t.proto == NF_IPPROTO_ICMP ? 0 : o->dport);
	memcpy(&os, ip + 12, 4);
	if (!outside || memcmp(&os, e->t[d].src, 4) == 0)
		os = qd;
	outer_rewrite(f, h, os, qs);
	if (outside)
		n->icmp_err_in++;
	else
		n->icmp_err_out++;
	return out;
wrong:
	nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_WRONG_SIDE));
	return -1;
}

/* ------------------------------------------------------------ static */

bool nat_static_try(struct nf_vnf *v, unsigned in, uint8_t *f, const struct nf_hdrs *h,
		    uint16_t *verdict, uint16_t i)
{
	struct nat *n = nat;
	uint8_t *ip = f + h->l3_off;
	const bool outside = in == (unsigned)n->outside;
	uint32_t s, d, x;
	uint16_t sp = 0, dp = 0;

	memcpy(&s, ip + 12, 4);
	memcpy(&d, ip + 16, 4);
	x = outside ? nat_static_in(n, d) : nat_static_out(n, s);
	if (x == 0)
		return false;
	if ((h->flags & NF_HDR_L4) && h->l4_proto == NF_IPPROTO_ICMP &&
	    nat_icmp_is_error(f[h->l4_off])) {
		/* The quoted packet went the other way: its source (from
		 * inside) or destination (towards inside) is the pair's. */
		uint8_t *q = f + h->l4_off + 8;
		struct nf_ct_tuple t;
		unsigned ihl;
		uint32_t qs, qd;

		int bad = error_check(f, h);

		if (bad == 0 && quote_tuple(q, h->l4_len - 8u, &t, &ihl) < 0)
			bad = NAT_DROP_ICMP_BAD;
		if (bad) {
			nf_vnf_drop(v, verdict, i, nat_reason((enum nat_drop)bad));
			return true;
		}
		memcpy(&qs, q + 12, 4);
		memcpy(&qd, q + 16, 4);
		if (outside && qs == d)
			qs = x;
		else if (!outside && qd == s)
			qd = x;
		quote_rewrite(q, h->l4_len - 8u, ihl, qs, qd, t.sport,
			      t.proto == NF_IPPROTO_ICMP ? 0 : t.dport);
		outer_rewrite(f, h, outside ? s : x, outside ? x : d);
	} else {
		if ((h->flags & NF_HDR_L4) && h->l4_proto != NF_IPPROTO_ICMP) {
			memcpy(&sp, f + h->l4_off, 2);
			memcpy(&dp, f + h->l4_off + 2, 2);
		} else if (h->flags & NF_HDR_L4) {
			memcpy(&sp, f + h->l4_off + 4, 2);
		}
		nat_rewrite4(f, h, outside ? s : x, outside ? x : d, sp, dp);
	}
	if (outside)
		n->static_in++;
	else
		n->static_out++;
	verdict[i] = (uint16_t)(outside ? n->inside : n->outside);
	return true;
}

/* --------------------------------------------------------------- ARP */

/* ARP: a request on the outside port for a pool or static external
 * address is answered with the port's MAC (proxy ARP: the upstream router
 * reaches the NAT's addresses); anything else passes to the other port
 * (bump in the wire). */
void nat_arp_input(struct nf_vnf *v, unsigned in, const uint8_t *f, const struct nf_hdrs *h,
		   uint16_t *verdict, uint16_t i)
{
	struct nat *n = nat;
	const struct nf_arp *a = (const void *)(f + h->l3_off);
	uint32_t tpa;
	uint8_t r[60];
	struct nf_eth *e = (void *)r;
	struct nf_arp *ra = (void *)(r + 14);

	memcpy(&tpa, a->tpa, 4);
	if (in != (unsigned)n->outside || ntohs(a->op) != NF_ARP_OP_REQUEST ||
	    (nat_pool_find(n, tpa) < 0 && (n->nst == 0 || nat_static_in(n, tpa) == 0))) {
		verdict[i] = (uint16_t)(in == (unsigned)n->outside ? n->inside : n->outside);
		return;
	}
	if (a->sha[0] & 1) {
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_ARP));
		return;
	}
	memset(r, 0, sizeof(r));
	memcpy(e->dst, a->sha, 6);
	memcpy(e->src, v->port[in].mac, 6);
	e->type = htons(NF_ETH_P_ARP);
	ra->hrd = htons(NF_ARP_HRD_ETHER);
	ra->pro = htons(NF_ETH_P_IPV4);
	ra->hln = 6;
	ra->pln = 4;
	ra->op = htons(NF_ARP_OP_REPLY);
	memcpy(ra->sha, v->port[in].mac, 6);
	memcpy(ra->spa, a->tpa, 4);
	memcpy(ra->tha, a->sha, 6);
	memcpy(ra->tpa, a->spa, 4);
	nf_vnf_send(v, in, r, sizeof(r));
	n->arp_replies++;
	verdict[i] = NF_V_HANDLED;
}

/* --------------------------------------------------------- fragments */

int nat_frag_init(struct nat *n)
{
	n->frag = calloc(FRAG_SLOTS, sizeof(*n->frag));
	if (n->frag == NULL) {
		nf_set_error("cannot allocate the fragment table");
		return -ENOMEM;
	}
	return 0;
}

void nat_frag_free(struct nat *n)
{
	free(n->frag);
	n->frag = NULL;
}

static struct nat_frag *frag_slot(uint32_t src, uint32_t dst, uint32_t idp)
{
	uint64_t k = ((uint64_t)src << 32 | dst) ^ ((uint64_t)idp * 0x9e3779b97f4a7c15ull);

	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 32;
	return &nat->frag[k & (FRAG_SLOTS - 1)];
}

static inline uint32_t id_proto(const uint8_t *ip)
{
	return (uint32_t)ip[4] << 16 | (uint32_t)ip[5] << 8 | ip[9] | (uint32_t)ip[9] << 24;
}

void nat_frag_note(const uint8_t *before, const uint8_t *after, unsigned port, uint64_t now)
{
	uint32_t s, d;
	struct nat_frag *fr;

	memcpy(&s, before + 12, 4);
	memcpy(&d, before + 16, 4);
	fr = frag_slot(s, d, id_proto(before));
	fr->src = s;
	fr->dst = d;
	fr->id_proto = id_proto(before);
	memcpy(&fr->nsrc, after + 12, 4);
	memcpy(&fr->ndst, after + 16, 4);
	fr->port = (uint16_t)port;
	fr->until = now + FRAG_TTL_NS;
}

int nat_frag_xlat(uint8_t *ip, const struct nf_hdrs *h, uint64_t now)
{
	uint32_t s, d;
	const struct nat_frag *fr;
	uint16_t c;
	uint64_t sum;

	(void)h;
	memcpy(&s, ip + 12, 4);
	memcpy(&d, ip + 16, 4);
	fr = frag_slot(s, d, id_proto(ip));
	if (fr->until < now || fr->src != s || fr->dst != d || fr->id_proto != id_proto(ip))
		return -1;
	sum = (uint64_t)(uint32_t)~s + (uint32_t)~d + fr->nsrc + fr->ndst;
	memcpy(ip + 12, &fr->nsrc, 4);
	memcpy(ip + 16, &fr->ndst, 4);
	memcpy(&c, ip + 10, 2);
	c = nat_csum_adj(c, sum);
	memcpy(ip + 10, &c, 2);
	return fr->port;
}
