/* test_hash.c - nf_hash: the symmetric flow hash of crafted frames and
 * the consistency of Maglev groups.
 *
 *   - symmetry: TCP, UDP, SCTP, ICMP / ICMPv6 echo, IPv4 with options,
 *     IPv6 with extension headers, VLAN tags, ARP, non-IP: both directions
 *     give the same value, the same flow through the parser's fast and
 *     slow paths too; other flows (another port, protocol, seed) differ;
 *   - ICMP / ICMPv6 errors hash as the flow they quote (from either end or
 *     a router on the way), a quote without ports as the quoted flow's
 *     fragments do, a quote without an IP header as the error itself;
 *   - SRv6 (IPv6 + SRH, or H.Encaps.Red without one) hashes as the inner
 *     flow whatever the outer addresses; fragments by addresses only;
 *   - 100,000 random flows over N = 2..16 members: removing one moves
 *     exactly its flows, adding one moves exactly the flows it gets, the
 *     shares within 10% of each other; 300 random changes of up to 64
 *     members keep both properties and the entry counts within 2; down
 *     members get nothing, no member up gives NF_HASH_NONE;
 *   - malformed frames: every truncation and 20,000 mutations of every
 *     crafted frame, each in a heap buffer of its exact size (the ASan
 *     build reports any read past it).
 */
#include "harness.h"
#include "nf_hash.h"
#include "nf_parse.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char descr[512];

#define CHECK(cond, ...) do {						\
	snprintf(descr, sizeof(descr), __VA_ARGS__);			\
	NF_TEST(descr, cond);						\
} while (0)

#define SEED	0x5eed1234u
#define NFLOWS	100000
/* nf_hash_flow() of test_symmetry()'s t4 (seeds SEED and 0) and t6 */
#define KA_T4	0x3ba1080du
#define KA_T4_0	0xc115f327u
#define KA_T6	0x0f43d13cu

static uint64_t rng_state = 0x2024;

/* splitmix64, the high half */
static uint32_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- frames ---- */

/* One direction of a flow: addresses (IPv4 in the first 4 bytes), ports
 * (the ICMP identifier), protocol; @frag: 0, 1 first fragment, 2 later. */
struct pkt {
	int v6;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, icmp_type, frag;
	uint8_t ext;		/* IPv4: 8 bytes of options; IPv6: dest. options */
};

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa }, MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };

static struct pkt pk4(const char *s, const char *d, uint8_t proto, uint16_t sp, uint16_t dp)
{
	struct pkt p = { .proto = proto, .sport = sp, .dport = dp };
	unsigned a, b, c, e;

	sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &e);
	p.src[0] = (uint8_t)a, p.src[1] = (uint8_t)b, p.src[2] = (uint8_t)c, p.src[3] = (uint8_t)e;
	sscanf(d, "%u.%u.%u.%u", &a, &b, &c, &e);
	p.dst[0] = (uint8_t)a, p.dst[1] = (uint8_t)b, p.dst[2] = (uint8_t)c, p.dst[3] = (uint8_t)e;
	return p;
}

/* fd00::@s to fd00::@d */
static struct pkt pk6(uint16_t s, uint16_t d, uint8_t proto, uint16_t sp, uint16_t dp)
{
	struct pkt p = { .v6 = 1, .proto = proto, .sport = sp, .dport = dp };

	p.src[0] = p.dst[0] = 0xfd;
	put16(p.src + 14, s);
	put16(p.dst + 14, d);
	return p;
}

static struct pkt rev(struct pkt p)
{
	struct pkt r = p;

	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	r.sport = p.dport;
	r.dport = p.sport;
	if (p.icmp_type == 8 || p.icmp_type == 128)
		r.icmp_type = (uint8_t)(p.icmp_type == 8 ? 0 : 129);
	return r;
}

/* The L4 header of @p with @pay bytes of payload at @b; its length. */
static uint32_t l4_bytes(uint8_t *b, const struct pkt *p, uint32_t pay)
{
	uint32_t n;

	switch (p->proto) {
	case NF_IPPROTO_TCP:
		n = 20;
		memset(b, 0, n);
		put16(b, p->sport);
		put16(b + 2, p->dport);
		b[12] = 5 << 4;
		b[13] = NF_TCP_ACK;
		break;
	case NF_IPPROTO_ICMP:
	case NF_IPPROTO_ICMPV6:
		n = 8;
		memset(b, 0, n);
		b[0] = p->icmp_type;
		put16(b + 4, p->sport);	/* identifier */
		put16(b + 6, 7);
		break;
	default:		/* UDP, SCTP, others: ports and 4 more bytes */
		n = 8;
		memset(b, 0, n);
		put16(b, p->sport);
		put16(b + 2, p->dport);
		put16(b + 4, (uint16_t)(8 + pay));
		break;
	}
	memset(b + n, 0x5a, pay);
	return n + pay;
}

/* The IP header of @p carrying @l4len bytes at @b; its length. */
static uint32_t ip_bytes(uint8_t *b, const struct pkt *p, uint32_t l4len)
{
	uint32_t hl;

	if (!p->v6) {
		hl = p->ext ? 28 : 20;
		memset(b, 0, hl);
		b[0] = (uint8_t)(0x40 | hl / 4);
		put16(b + 2, (uint16_t)(hl + l4len));
		put16(b + 4, 0x1234);
		if (p->frag)
			put16(b + 6, p->frag == 1 ? NF_IPV4_MF : (NF_IPV4_MF | 185));
		b[8] = 64;
		b[9] = p->proto;
		memcpy(b + 12, p->src, 4);
		memcpy(b + 16, p->dst, 4);
		if (p->ext)
			memset(b + 20, 1, 8);	/* NOPs */
		return hl;
	}
	hl = 40 + (p->ext ? 8 : 0) + (p->frag ? 8 : 0);
	memset(b, 0, hl);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)(hl - 40 + l4len));
	b[7] = 64;
	memcpy(b + 8, p->src, 16);
	memcpy(b + 24, p->dst, 16);
	{
		uint8_t *nh = b + 6;
		uint32_t o = 40;

		if (p->ext) {
			*nh = NF_IPPROTO_DSTOPTS;
			nh = b + o;
			b[o + 2] = 1;		/* PadN of 4 */
			b[o + 3] = 4;
			o += 8;
		}
		if (p->frag) {
			*nh = NF_IPPROTO_FRAGMENT;
			nh = b + o;
			put16(b + o + 2, p->frag == 1 ? 1 : (185 << 3 | 1));
			b[o + 7] = 0x42;
			o += 8;
		}
		*nh = p->proto;
	}
	return hl;
}

/* The IP packet of @p at @b with @pay bytes of payload; its length. */
static uint32_t ip_pkt(uint8_t *b, const struct pkt *p, uint32_t pay)
{
	uint8_t l4[1600];
	uint32_t n = p->frag == 2 ? (memset(l4, 0x33, 16), 16) : l4_bytes(l4, p, pay);
	uint32_t hl = ip_bytes(b, p, n);

	memcpy(b + hl, l4, n);
	return hl + n;
}

/* A frame: Ethernet (@vlan tags) around the @n bytes at @ip. */
struct frame {
	uint8_t b[2048];
	uint32_t len;
};

static void eth_wrap(struct frame *f, int v6, const uint8_t *ip, uint32_t n,
		     int vlan, int reverse)
{
	uint32_t o = 12;

	memcpy(f->b, reverse ? MAC_B : MAC_A, 6);
	memcpy(f->b + 6, reverse ? MAC_A : MAC_B, 6);
	while (vlan--) {
		put16(f->b + o, vlan ? NF_ETH_P_QINQ : NF_ETH_P_VLAN);
		put16(f->b + o + 2, 100);
		o += 4;
	}
	put16(f->b + o, v6 ? NF_ETH_P_IPV6 : NF_ETH_P_IPV4);
	memcpy(f->b + o + 2, ip, n);
	f->len = o + 2 + n;
}

static struct frame fr_of(const struct pkt *p, int vlan)
{
	struct frame f;
	uint8_t ip[1700];
	uint32_t n = ip_pkt(ip, p, 6);

	eth_wrap(&f, p->v6, ip, n, vlan, 0);
	return f;
}

/* An ICMP (@p->v6: ICMPv6) error from @from to @to quoting the first
 * @qlen bytes of packet @q (the whole of it with qlen > its length). */
static struct frame fr_err(const struct pkt *q, const uint8_t *from, const uint8_t *to,
			   uint8_t type, uint32_t qlen)
{
	struct pkt e = { .v6 = q->v6, .icmp_type = type };
	uint8_t qb[1700], ip[1800];
	uint32_t qn = ip_pkt(qb, q, 6), hl;
	struct frame f;

	if (qlen < qn)
		qn = qlen;
	memcpy(e.src, from, 16);
	memcpy(e.dst, to, 16);
	e.proto = q->v6 ? NF_IPPROTO_ICMPV6 : NF_IPPROTO_ICMP;
	hl = ip_bytes(ip, &e, 8 + qn);
	memset(ip + hl, 0, 8);
	ip[hl] = type;
	memcpy(ip + hl + 8, qb, qn);
	eth_wrap(&f, q->v6, ip, hl + 8 + qn, 0, 0);
	return f;
}

/* @inner in IPv6 from fd01::@s to fd01::@d, with an SRH of @nseg segments
 * (0: none, H.Encaps.Red of one segment); @cut: only this many bytes of
 * the inner packet. */
static struct frame fr_srv6(const struct pkt *inner, uint16_t s, uint16_t d,
			    unsigned nseg, uint32_t cut)
{
	uint8_t ip[1800], in[1700];
	uint32_t n = ip_pkt(in, inner, 6), o = 40, i;
	struct frame f;

	if (cut < n)
		n = cut;
	memset(ip, 0, 40 + 8 + 16 * nseg);
	ip[0] = 0x60;
	ip[7] = 64;
	ip[8] = ip[24] = 0xfd;
	ip[9] = ip[25] = 1;
	put16(ip + 22, s);
	put16(ip + 38, d);
	ip[6] = inner->v6 ? 41 : 4;
	if (nseg) {
		ip[6] = NF_IPPROTO_ROUTING;
		ip[o] = inner->v6 ? 41 : 4;
		ip[o + 1] = (uint8_t)(2 * nseg);
		ip[o + 2] = 4;			/* type 4: SRH */
		ip[o + 3] = (uint8_t)(nseg - 1);	/* segments left */
		ip[o + 4] = (uint8_t)(nseg - 1);	/* last entry */
		for (i = 0; i < nseg; i++) {
			ip[o + 8 + 16 * i] = 0xfd;
			ip[o + 8 + 16 * i + 1] = 1;
			put16(ip + o + 8 + 16 * i + 14, (uint16_t)(0x100 + i));
		}
		o += 8 + 16 * nseg;
	}
	memcpy(ip + o, in, n);
	put16(ip + 4, (uint16_t)(o - 40 + n));
	eth_wrap(&f, 1, ip, o + n, 0, 0);
	return f;
}

/* nf_parse() then nf_hash_flow() on a heap copy of exactly @f->len bytes;
 * the parse must succeed. */
static uint32_t hash_of(const struct frame *f, uint32_t seed)
{
	uint8_t *b = malloc(f->len);
	struct nf_hdrs h;
	uint32_t v;
	enum nf_parse_err e;

	memcpy(b, f->b, f->len);
	e = nf_parse(b, f->len, &h);
	if (e != NF_PERR_OK) {
		fprintf(stderr, "parse: %s\n", nf_parse_err_name(e));
		abort();
	}
	v = nf_hash_flow(b, &h, seed);
	free(b);
	return v;
}

static uint32_t hp(const struct pkt *p)
{
	struct frame f = fr_of(p, 0);

	return hash_of(&f, SEED);
}

/* Both directions of @p equal, another flow @o different. */
static void sym(const char *what, struct pkt p, struct pkt o)
{
	struct pkt r = rev(p);

	CHECK(hp(&p) == hp(&r), "%s: both directions hash the same (%08x)", what, hp(&p));
	CHECK(hp(&p) != hp(&o), "%s: another flow hashes differently", what);
}

static void test_symmetry(void)
{
	struct pkt t4 = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_TCP, 40000, 80), o, x;
	struct pkt t6 = pk6(1, 2, NF_IPPROTO_TCP, 40000, 443);
	struct frame f, g;

	o = t4, o.sport = 40001;
	sym("IPv4 TCP", t4, o);
	o = t4, o.proto = NF_IPPROTO_UDP;
	sym("IPv4 TCP vs UDP of the same ports", t4, o);
	x = t4, x.proto = NF_IPPROTO_UDP, o = x, o.dport = 53;
	sym("IPv4 UDP", x, o);
	x = t4, x.proto = 132, o = x, o.dport = 81;
	sym("IPv4 SCTP (ports beyond the parser's L4)", x, o);
	o = t4, o.sport = 80, o.dport = 40000;
	sym("IPv4 TCP: the ports crossed over are another flow", t4, o);
	o = t6, o.dport = 444;
	sym("IPv6 TCP", t6, o);
	x = t6, x.proto = NF_IPPROTO_UDP, o = x, o.src[15] = 3;
	sym("IPv6 UDP", x, o);
	x = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_ICMP, 0x1234, 0x1234);
	x.icmp_type = 8;
	o = x, o.sport = o.dport = 0x1235;
	sym("ICMP echo request / reply", x, o);
	x = pk6(1, 2, NF_IPPROTO_ICMPV6, 0x77, 0x77);
	x.icmp_type = 128;
	o = x, o.sport = o.dport = 0x78;
	sym("ICMPv6 echo request / reply", x, o);
	/* an address pair whose endpoints tie on the address */
	x = pk6(5, 5, NF_IPPROTO_UDP, 1000, 2000);
	o = x, o.sport = 1001;
	sym("IPv6 UDP between two ports of one address", x, o);

	/* the slow paths give the fast path's value */
	x = t4, x.ext = 1;
	CHECK(hp(&x) == hp(&t4), "IPv4 with options: the flow's hash");
	x = rev(t6), x.ext = 1;
	CHECK(hp(&x) == hp(&t6), "IPv6 with a destination options header: the flow's hash");
	f = fr_of(&t4, 1);
	x = rev(t4);
	g = fr_of(&x, 2);
	CHECK(hash_of(&f, SEED) == hp(&t4) && hash_of(&g, SEED) == hp(&t4),
	      "802.1Q / QinQ tagged, both directions: the untagged flow's hash");
	f = fr_of(&t6, 1);
	CHECK(hash_of(&f, SEED) == hp(&t6), "802.1Q IPv6: the untagged flow's hash");

	/* fragments: addresses and protocol, every fragment, both ways */
	{
		struct pkt a = t4, b = t4, c = rev(t4), u = t4, d6 = t6, e6 = rev(t6);

		a.frag = 1, b.frag = 2, c.frag = 2, u.proto = NF_IPPROTO_UDP, u.frag = 2;
		CHECK(hp(&a) == hp(&b) && hp(&b) == hp(&c),
		      "IPv4 first and later fragments, both directions: one value");
		CHECK(hp(&a) != hp(&t4), "IPv4 fragments: not the 5-tuple's value");
		o = b, o.sport = 1, o.dport = 2;
		CHECK(hp(&o) == hp(&b), "IPv4 fragments: ports not in the key");
		CHECK(hp(&u) != hp(&b), "IPv4 fragments: protocol in the key");
		d6.frag = 1, e6.frag = 2;
		CHECK(hp(&d6) == hp(&e6) && hp(&d6) != hp(&t6),
		      "IPv6 first / later fragment (fragment header): addresses and protocol");
	}

	/* known answers: every build (gcc, clang, sanitizers) and every
	 * little-endian machine give these; a change of the function shows */
	{
		struct frame f0 = fr_of(&t4, 0), f1 = fr_of(&t6, 0);

		CHECK(hash_of(&f0, SEED) == KA_T4 && hash_of(&f0, 0) == KA_T4_0 &&
		      hash_of(&f1, SEED) == KA_T6, "known answers for an IPv4 and an IPv6 flow");
	}

	/* seeds */
	{
		unsigned i, diff = 0;

		for (i = 0; i < 1000; i++) {
			struct pkt p = t4;
			struct frame fr;

			p.sport = (uint16_t)(1024 + i);
			fr = fr_of(&p, 0);
			diff += hash_of(&fr, 1) != hash_of(&fr, 2);
		}
		CHECK(diff >= 998, "another seed, another value (%u of 1000 flows)", diff);
	}

	/* ARP: sender / target protocol addresses */
	{
		uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };

		memcpy(arp + 8, MAC_A, 6);
		memcpy(arp + 14, "\x0a\0\0\x01", 4);
		memcpy(arp + 24, "\x0a\0\0\x02", 4);
		eth_wrap(&f, 0, arp, 28, 0, 0);
		put16(f.b + 12, NF_ETH_P_ARP);
		arp[7] = 2;
		memcpy(arp + 8, MAC_B, 6);
		memcpy(arp + 14, "\x0a\0\0\x02", 4);
		memcpy(arp + 18, MAC_A, 6);
		memcpy(arp + 24, "\x0a\0\0\x01", 4);
		eth_wrap(&g, 0, arp, 28, 0, 1);
		put16(g.b + 12, NF_ETH_P_ARP);
		CHECK(hash_of(&f, SEED) == hash_of(&g, SEED), "ARP request and its reply: one value");
	}
	/* non-IP: the MAC pair and the EtherType */
	{
		uint8_t pay[46] = { 1, 2, 3 };
		uint32_t a, b, c;

		eth_wrap(&f, 0, pay, 46, 0, 0);
		put16(f.b + 12, 0x88b5);
		eth_wrap(&g, 0, pay, 46, 0, 1);
		put16(g.b + 12, 0x88b5);
		a = hash_of(&f, SEED);
		b = hash_of(&g, SEED);
		put16(g.b + 12, 0x88b6);
		c = hash_of(&g, SEED);
		CHECK(a == b && a != c, "non-IP: both directions one value, another EtherType another");
	}
}

static void test_icmp_errors(void)
{
	static const uint8_t R4[16] = { 203, 0, 113, 9 }, R6[16] = { 0xfd, 0x99, [15] = 9 };
	struct pkt u = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_UDP, 5000, 53);
	struct pkt t = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_TCP, 40000, 80);
	struct pkt e = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_ICMP, 9, 9);
	struct pkt t6 = pk6(1, 2, NF_IPPROTO_TCP, 40000, 443), later, other;
	struct frame f;
	uint32_t flow = hp(&u);

	/* the server answers "port unreachable": B -> A quoting A -> B */
	f = fr_err(&u, u.dst, u.src, NF_ICMP_DEST_UNREACH, 9999);
	CHECK(hash_of(&f, SEED) == flow, "ICMP port unreachable from the server: the UDP flow's hash");
	/* a router on the way: R -> A quoting A -> B, R -> B quoting B -> A */
	f = fr_err(&t, R4, t.src, NF_ICMP_TIME_EXCEEDED, 9999);
	CHECK(hash_of(&f, SEED) == hp(&t), "ICMP time exceeded from a router: the TCP flow's hash");
	{
		struct pkt r = rev(t);

		f = fr_err(&r, R4, r.src, NF_ICMP_DEST_UNREACH, 9999);
		CHECK(hash_of(&f, SEED) == hp(&t),
		      "ICMP error quoting the reply direction: the same flow's hash");
	}
	e.icmp_type = 8;
	f = fr_err(&e, R4, e.src, NF_ICMP_TIME_EXCEEDED, 9999);
	CHECK(hash_of(&f, SEED) == hp(&e), "ICMP time exceeded quoting an echo: the echo's hash");
	f = fr_err(&t, R4, t.src, NF_ICMP_PARAMPROB, 20 + 8);
	CHECK(hash_of(&f, SEED) == hp(&t), "a quote of IP header + 8 bytes (RFC 792): the flow's hash");
	/* a quote without ports: the quoted flow's addresses and protocol,
	 * which is what its fragments hash to */
	later = t, later.frag = 2;
	f = fr_err(&t, R4, t.src, NF_ICMP_DEST_UNREACH, 20 + 3);
	CHECK(hash_of(&f, SEED) == hp(&later), "a quote cut before the ports: the flow's 3-tuple");
	/* a quote without an IP header: the error's own addresses */
	other = pk4("203.0.113.9", "10.0.0.1", NF_IPPROTO_ICMP, 0, 0);
	other.icmp_type = 9;			/* router advertisement: no key */
	f = fr_err(&t, R4, t.src, NF_ICMP_DEST_UNREACH, 19);
	CHECK(hash_of(&f, SEED) == hp(&other), "a quote shorter than an IPv4 header: the error's 3-tuple");
	f = fr_err(&t, R4, t.src, NF_ICMP_DEST_UNREACH, 9999);
	f.b[14 + 20 + 8] = 0x65;		/* quoted version 6 */
	CHECK(hash_of(&f, SEED) == hp(&other), "a quote of the wrong IP version: the error's 3-tuple");
	/* ICMPv6 */
	f = fr_err(&t6, R6, t6.src, NF_ICMP6_PKT_TOOBIG, 9999);
	CHECK(hash_of(&f, SEED) == hp(&t6), "ICMPv6 packet too big from a router: the TCP flow's hash");
	{
		struct pkt r = rev(t6);

		f = fr_err(&r, t6.src, t6.dst, NF_ICMP6_DST_UNREACH, 9999);
		CHECK(hash_of(&f, SEED) == hp(&t6), "ICMPv6 unreachable from the client: the flow's hash");
	}
	later = t6, later.frag = 1;
	f = fr_err(&later, R6, t6.src, NF_ICMP6_TIME_EXCEED, 9999);
	CHECK(hash_of(&f, SEED) == hp(&later), "ICMPv6 error quoting a first fragment: the fragments' hash");
	/* an error about an error is not followed */
	f = fr_err(&t, R4, t.src, NF_ICMP_DEST_UNREACH, 9999);
	{
		struct frame g;
		uint8_t qb[2048];
		uint32_t n = f.len - 14;
		struct pkt outer = pk4("198.51.100.1", "203.0.113.9", NF_IPPROTO_ICMP, 0, 0);

		memcpy(qb, f.b + 14, n);
		/* wrap the error as the quote of another error */
		g = fr_err(&u, outer.src, outer.dst, NF_ICMP_DEST_UNREACH, 0);
		memcpy(g.b + 14 + 28, qb, n);
		put16(g.b + 14 + 2, (uint16_t)(28 + n));
		g.len = 14 + 28 + n;
		outer = pk4("203.0.113.9", "10.0.0.1", NF_IPPROTO_ICMP, 0, 0);
		CHECK(hash_of(&g, SEED) == hp(&outer),
		      "an error quoting an error: the quoted error's 3-tuple, no deeper");
	}
}

static void test_srv6(void)
{
	struct pkt t = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_TCP, 40000, 80), r = rev(t);
	struct pkt t6 = pk6(1, 2, NF_IPPROTO_UDP, 5000, 53), r6 = rev(t6);
	struct frame f, g;
	uint32_t a, b;

	f = fr_srv6(&t, 0x10, 0x20, 3, 9999);
	g = fr_srv6(&r, 0x30, 0x40, 2, 9999);
	CHECK(hash_of(&f, SEED) == hp(&t) && hash_of(&g, SEED) == hp(&t),
	      "SRv6 (SRH) around IPv4 TCP, both directions, other outer addresses: the inner flow's hash");
	g = fr_srv6(&r, 0x30, 0x40, 0, 9999);
	CHECK(hash_of(&g, SEED) == hp(&t), "H.Encaps.Red (no SRH) around IPv4: the inner flow's hash");
	f = fr_srv6(&t6, 0x10, 0x20, 1, 9999);
	g = fr_srv6(&r6, 0x50, 0x10, 4, 9999);
	CHECK(hash_of(&f, SEED) == hp(&t6) && hash_of(&g, SEED) == hp(&t6),
	      "SRv6 around IPv6 UDP, both directions: the inner flow's hash");
	{
		struct pkt o = t;

		o.dport = 8080;
		f = fr_srv6(&o, 0x10, 0x20, 3, 9999);
		CHECK(hash_of(&f, SEED) != hp(&t), "SRv6: another inner flow, another value");
	}
	/* an inner ICMP error quoting the inner flow */
	{
		static const uint8_t R4[16] = { 203, 0, 113, 9 };
		struct frame e = fr_err(&t, R4, t.src, NF_ICMP_TIME_EXCEEDED, 9999);
		uint8_t ip[2048];

		memcpy(ip, e.b + 14, e.len - 14);
		f = fr_srv6(&t, 0x10, 0x20, 2, 9999);	/* then replace the inner */
		memcpy(f.b + 14 + 40 + 40, ip, e.len - 14);
		put16(f.b + 14 + 4, (uint16_t)(40 + e.len - 14));
		f.len = 14 + 40 + 40 + e.len - 14;
		CHECK(hash_of(&f, SEED) == hp(&t), "SRv6 around an ICMP error quoting the flow: the flow's hash");
	}
	/* an inner packet cut short: the outer addresses and protocol */
	f = fr_srv6(&t, 0x10, 0x20, 2, 19);
	g = fr_srv6(&r, 0x10, 0x20, 2, 10);
	a = hash_of(&f, SEED);
	b = hash_of(&g, SEED);
	CHECK(a == b && a != hp(&t), "SRv6 with an inner header cut short: the outer 3-tuple");
	g = fr_srv6(&r, 0x20, 0x10, 0, 19);
	CHECK(hash_of(&g, SEED) == a,
	      "... the same without an SRH or the other way: the routing header is no part of the key");
	/* fragmented SRv6: the outer addresses (documented limitation) */
	{
		struct pkt out = pk6(1, 2, 4, 0, 0);

		out.frag = 2;
		out.src[1] = out.dst[1] = 1;
		put16(out.src + 14, 0x10);
		put16(out.dst + 14, 0x20);
		f = fr_of(&out, 0);
		g = fr_srv6(&t, 0x10, 0x20, 0, 19);
		CHECK(hash_of(&f, SEED) == hash_of(&g, SEED),
		      "a later fragment of an SRv6 packet: the outer 3-tuple");
	}
}

/* ---- groups ---- */

static uint32_t flow_hash[NFLOWS];
static uint8_t pick_a[NFLOWS], pick_b[NFLOWS];

/* 100,000 random IPv4 / IPv6 TCP and UDP flows, hashed from frames. */
static void make_flows(void)
{
	unsigned i;

	for (i = 0; i < NFLOWS; i++) {
		struct pkt p;
		struct frame f;

		/* one random number a statement: argument order is unspecified */
		uint16_t r1 = (uint16_t)rnd(), r2 = (uint16_t)rnd(), r3 = (uint16_t)rnd();
		uint16_t r4 = (uint16_t)rnd(), r5 = (uint16_t)rnd();

		if (i % 4 == 3) {
			p = pk6(r1, r2, NF_IPPROTO_UDP, r3, r4);
			put16(p.src + 10, r5);
		} else {
			p = pk4("10.0.0.0", "192.0.2.0", i % 4 ? NF_IPPROTO_TCP : NF_IPPROTO_UDP,
				r1, (uint16_t)(i % 2 ? 80 : 443));
			put16(p.src + 2, r2);
			p.dst[3] = (uint8_t)r3;
		}
		f = fr_of(&p, 0);
		flow_hash[i] = hash_of(&f, SEED);
	}
}

static void assign(const struct nf_hash_group *g, uint8_t *out)
{
	unsigned i;

	for (i = 0; i < NFLOWS; i++)
		out[i] = (uint8_t)nf_hash_pick(g, flow_hash[i]);
}

/* The members' shares of the flows in @pick: max / min over @up. */
static double spread(const uint8_t *pick, uint64_t up, unsigned *per)
{
	unsigned i, m, mx = 0, mn = ~0u;

	memset(per, 0, NF_HASH_MEMBERS_MAX * sizeof(*per));
	for (i = 0; i < NFLOWS; i++)
		if (pick[i] < NF_HASH_MEMBERS_MAX)
			per[pick[i]]++;
	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++) {
		if (!(up >> m & 1))
			continue;
		mx = NF_MAX(mx, per[m]);
		mn = NF_MIN(mn, per[m]);
	}
	return mn ? (double)mx / mn : 1e9;
}

/* The table agrees with its counts, only members of g->up own entries,
 * their counts differ by at most @slack. */
static int table_ok(const struct nf_hash_group *g, unsigned slack)
{
	uint32_t cnt[NF_HASH_MEMBERS_MAX] = { 0 }, i, mx = 0, mn = ~0u;
	unsigned m;

	for (i = 0; i < g->size; i++) {
		if (g->table[i] == NF_HASH_NONE)
			return g->up == 0;
		if (g->table[i] >= NF_HASH_MEMBERS_MAX || !(g->up >> g->table[i] & 1))
			return 0;
		cnt[g->table[i]]++;
	}
	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++) {
		if (cnt[m] != g->count[m] || (!(g->up >> m & 1) && cnt[m]))
			return 0;
		if (g->up >> m & 1) {
			mx = NF_MAX(mx, cnt[m]);
			mn = NF_MIN(mn, cnt[m]);
		}
	}
	return mx - mn <= slack;
}

/* Flows of @a moved to @b: only flows of members that went down, or to
 * members that came up. Returns how many moved; *bad the others. */
static unsigned moves(uint64_t up_a, uint64_t up_b, unsigned *bad)
{
	unsigned i, n = 0;

	*bad = 0;
	for (i = 0; i < NFLOWS; i++) {
		if (pick_a[i] == pick_b[i])
			continue;
		n++;
		if (pick_a[i] != NF_HASH_NONE && pick_b[i] != NF_HASH_NONE &&
		    (up_b >> pick_a[i] & 1) && (up_a >> pick_b[i] & 1))
			(*bad)++;
	}
	return n;
}

static void test_groups_n(void)
{
	struct nf_hash_group *g, *h;
	unsigned n, per[NF_HASH_MEMBERS_MAX], bad, worst_rm = 0, worst_add = 0, all_ok = 1;
	unsigned plain_bad = 0;
	double worst = 0, s;

	NF_TEST("group of 65537 entries", nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 7, &g) == 0);
	NF_TEST("a second one (the spare)", nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 7, &h) == 0);
	for (n = 2; n <= 16; n++) {
		uint64_t up = (1ull << n) - 1, up2;
		unsigned r = rnd() % n, moved, had, got;

		nf_hash_group_build(g, NULL, up);
		all_ok &= table_ok(g, 1);
		assign(g, pick_a);
		s = spread(pick_a, up, per);
		worst = s > worst ? s : worst;
		CHECK(s <= 1.1, "N=%u: flows per member max/min %.3f <= 1.1", n, s);
		/* remove r: exactly its flows move */
		had = per[r];
		up2 = up & ~(1ull << r);
		nf_hash_group_build(h, g, up2);
		all_ok &= table_ok(h, 2);
		assign(h, pick_b);
		moved = moves(up, up2, &bad);
		spread(pick_b, up2, per);
		CHECK(moved == had && bad == 0 && per[r] == 0,
		      "N=%u: removing member %u moves its %u flows exactly (%u moved, %u others)",
		      n, r, had, moved, bad);
		s = spread(pick_b, up2, per);
		worst_rm = s > 1.1 ? worst_rm + 1 : worst_rm;
		/* the measure sees disruption: plain Maglev rebuilt moves others */
		nf_hash_group_build(h, NULL, up2);
		assign(h, pick_b);
		moves(up, up2, &bad);
		plain_bad += bad;
		/* add member n (a new one) to the original: only its flows move */
		up2 = up | 1ull << n;
		nf_hash_group_build(h, g, up2);
		all_ok &= table_ok(h, 2);
		assign(h, pick_b);
		moved = moves(up, up2, &bad);
		s = spread(pick_b, up2, per);
		got = per[n];
		CHECK(moved == got && bad == 0,
		      "N=%u: adding member %u moves only the %u flows it gets (%u moved, %u others)",
		      n, n, got, moved, bad);
		CHECK(got * (n + 1) > NFLOWS * 0.9 && got * (n + 1) < NFLOWS * 1.1,
		      "N=%u: the new member's share %u within 10%% of 1/%u", n, got, n + 1);
		worst_add = s > 1.1 ? worst_add + 1 : worst_add;
	}
	CHECK(worst_rm == 0 && worst_add == 0,
	      "after each removal and addition the shares stay within max/min 1.1");
	CHECK(plain_bad > 0, "plain Maglev rebuilt after each removal instead: %u flows of "
	      "members that stayed moved (%.2f%% of 15 x 100,000)", plain_bad, plain_bad / 15000.0);
	CHECK(all_ok, "every table: counts right, only members up, entries within 1 (plain) or 2");
	printf("# worst max/min share of a plain table over N=2..16: %.3f\n", worst);
	nf_hash_group_free(g);
	nf_hash_group_free(h);
}

static void test_groups_random(void)
{
	struct nf_hash_group *g, *h, *tmp;
	uint64_t up = 0, up2;
	unsigned step, bad, bad_total = 0, slack_ok = 1, moved_total = 0, share_ok = 1;
	unsigned per[NF_HASH_MEMBERS_MAX];

	nf_hash_group_new(65537, 99, &g);
	nf_hash_group_new(65537, 99, &h);
	assign(g, pick_a);
	CHECK(nf_hash_pick(g, 12345) == NF_HASH_NONE && g->up == 0,
	      "a new group: every pick is NF_HASH_NONE");
	for (step = 0; step < 300; step++) {
		unsigned k = rnd() % 4, j;

		up2 = up;
		for (j = 0; j <= k; j++)	/* 1 to 4 members change */
			up2 ^= 1ull << (rnd() % 64);
		if (step % 50 == 49)
			up2 = 0;		/* all down now and then */
		nf_hash_group_build(h, g, up2);
		assign(h, pick_b);
		moved_total += moves(up, up2, &bad);
		bad_total += bad;
		slack_ok &= table_ok(h, 2);
		if (__builtin_popcountll(up2) > 1 && __builtin_popcountll(up2) <= 16 &&
		    spread(pick_b, up2, per) > 1.1)
			share_ok = 0;
		if (up2 == 0) {
			unsigned i, none = 0;

			for (i = 0; i < NFLOWS; i++)
				none += pick_b[i] == NF_HASH_NONE;
			CHECK(none == NFLOWS, "step %u: all members down: every flow NF_HASH_NONE", step);
		}
		tmp = g, g = h, h = tmp;	/* publish: the old table is the spare */
		memcpy(pick_a, pick_b, sizeof(pick_a));
		up = up2;
	}
	CHECK(bad_total == 0, "300 random changes of 1-4 of 64 members: no flow moved "
	      "between two members up before and after (%u moves)", moved_total);
	CHECK(slack_ok, "... every table right, members' entries within 2 of each other");
	CHECK(share_ok, "... flows per member max/min <= 1.1 whenever 2-16 are up");
	/* in place gives the same table as into a spare */
	up2 = up ^ 0x30;
	nf_hash_group_build(h, g, up2);
	nf_hash_group_build(g, g, up2);
	CHECK(memcmp(g->table, h->table, g->size) == 0 && g->up == h->up,
	      "a build in place equals the build into a spare");
	nf_hash_group_free(g);
	nf_hash_group_free(h);
}

static void test_groups_api(void)
{
	struct nf_hash_group *g = NULL, *h = NULL;
	unsigned m, one = 1;
	uint32_t i;

	CHECK(nf_hash_group_new(65536, 0, &g) == -EINVAL, "size 65536 (not prime): -EINVAL");
	CHECK(nf_hash_group_new(61, 0, &g) == -EINVAL && strstr(nf_last_error(), "prime"),
	      "size 61 (< 67): -EINVAL, \"%s\"", nf_last_error());
	CHECK(nf_hash_group_new(16777259, 0, &g) == -EINVAL, "a prime above 2^24: -EINVAL");
	CHECK(nf_hash_group_new(67, 3, &g) == 0 && nf_hash_group_new(4099, 3, &h) == 0,
	      "sizes 67 and 4099");
	CHECK(nf_hash_group_build(h, g, 1) == -EINVAL, "build from another size: -EINVAL");
	nf_hash_group_build(g, NULL, ~0ull);
	for (m = 0; m < 64; m++)
		one &= g->count[m] == 1 || (m < 3 && g->count[m] == 2);
	CHECK(one && table_ok(g, 1), "67 entries, 64 members: 1 each, 3 more to the first");
	nf_hash_group_build(g, g, 1ull << 63);
	for (i = 0; i < 67; i++)
		one &= g->table[i] == 63;
	CHECK(one, "all but member 63 removed: it owns all 67 entries");
	nf_hash_group_build(h, NULL, 0x5);
	CHECK(h->count[0] == 2050 && h->count[2] == 2049 && h->count[1] == 0,
	      "4099 entries, members 0 and 2: 2050 and 2049");
	for (i = 0, one = 1; i < 1000; i++) {
		unsigned p = nf_hash_pick(h, rnd());

		one &= p == 0 || p == 2;
	}
	CHECK(one, "picks only give members up");
	CHECK(nf_hash_pick(h, 0) == h->table[0] && nf_hash_pick(h, 0xffffffffu) == h->table[4098],
	      "the hash's high bits choose the entry: 0 the first, ~0 the last");
	nf_hash_group_free(g);
	nf_hash_group_free(h);
	nf_hash_group_free(NULL);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- malformed frames ---- */

static unsigned hash_any(const uint8_t *src, uint32_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	struct nf_hdrs h;
	unsigned ok = 0;

	memcpy(b, src, len);
	if (nf_parse(b, len, &h) == NF_PERR_OK) {
		volatile uint32_t v = nf_hash_flow(b, &h, SEED);

		(void)v;
		ok = 1;
	}
	free(b);
	return ok;
}

static void test_malformed(void)
{
	static const uint8_t R4[16] = { 203, 0, 113, 9 }, R6[16] = { 0xfd, 0x99, [15] = 9 };
	struct pkt t = pk4("10.0.0.1", "192.0.2.7", NF_IPPROTO_TCP, 40000, 80);
	struct pkt t6 = pk6(1, 2, NF_IPPROTO_UDP, 5000, 53), fr6 = t6;
	struct frame fs[8];
	unsigned nf = 0, i, k, hashed = 0, runs = 0;

	fr6.frag = 1, fr6.ext = 1;
	fs[nf++] = fr_of(&t, 1);
	fs[nf++] = fr_of(&fr6, 0);
	fs[nf++] = fr_err(&t, R4, t.src, NF_ICMP_DEST_UNREACH, 9999);
	fs[nf++] = fr_err(&t6, R6, t6.src, NF_ICMP6_PKT_TOOBIG, 9999);
	fs[nf++] = fr_srv6(&t, 1, 2, 3, 9999);
	fs[nf++] = fr_srv6(&t6, 1, 2, 0, 9999);
	{
		/* SRv6 around an ICMPv6 error quoting SRv6 around UDP */
		struct frame in = fr_srv6(&t6, 3, 4, 1, 9999), e;
		struct pkt q = pk6(7, 8, NF_IPPROTO_ICMPV6, 0, 0);

		e = fr_err(&t6, R6, t6.src, NF_ICMP6_DST_UNREACH, 0);
		memcpy(e.b + 14 + 48, in.b + 14, in.len - 14);
		put16(e.b + 14 + 4, (uint16_t)(8 + in.len - 14));
		e.len = 14 + 48 + in.len - 14;
		fs[nf] = fr_srv6(&q, 5, 6, 2, 9999);
		memcpy(fs[nf].b + 14 + 40 + 40, e.b + 14, e.len - 14);
		put16(fs[nf].b + 14 + 4, (uint16_t)(40 + e.len - 14));
		fs[nf].len = 14 + 40 + 40 + e.len - 14;
		/* a tunnel is opened once: the quoted tunnel's outer 3-tuple,
		 * as the same tunnel packet cut before its inner header */
		in = fr_srv6(&t6, 3, 4, 1, 10);
		CHECK(hash_of(&fs[nf], SEED) == hash_of(&in, SEED),
		      "SRv6 around an ICMPv6 error quoting SRv6: the quoted tunnel's outer 3-tuple");
		nf++;
	}
	for (k = 0; k < nf; k++)
		for (i = 0; i <= fs[k].len; i++, runs++)
			hashed += hash_any(fs[k].b, i);
	for (i = 0; i < 20000; i++, runs++) {
		struct frame f = fs[i % nf];
		unsigned j, n = 1 + rnd() % 4;

		for (j = 0; j < n; j++)
			f.b[rnd() % f.len] = (uint8_t)rnd();
		if (rnd() % 2)
			f.len = rnd() % (f.len + 1);
		hashed += hash_any(f.b, f.len);
	}
	CHECK(hashed > 1000, "%u truncated / mutated frames, %u parsed and hashed, "
	      "no read outside them (ASan build)", runs, hashed);
}

int main(void)
{
	test_symmetry();
	test_icmp_errors();
	test_srv6();
	make_flows();
	{
		uint32_t *s = malloc(sizeof(flow_hash));
		unsigned i, coll = 0;

		memcpy(s, flow_hash, sizeof(flow_hash));
		qsort(s, NFLOWS, sizeof(*s), cmp_u32);
		for (i = 1; i < NFLOWS; i++)
			coll += s[i] == s[i - 1];
		/* birthday bound: 100000^2 / 2^33 = 1.2 expected */
		CHECK(coll <= 8, "100,000 random flows: %u equal 32-bit hashes (1.2 expected)", coll);
		free(s);
	}
	test_groups_n();
	test_groups_random();
	test_groups_api();
	test_malformed();
	return nf_test_report();
}
