/* test_srv6.c - nf_srv6: every behaviour against expected frames built
 * here field by field from the RFCs (RFC 8754, RFC 8986, the SR service
 * programming draft), never with the library's own code: H.Encaps and
 * H.Encaps.Red with 1, 2, 3 and 16 segments, IPv4 and IPv6 inner packets,
 * VLAN-tagged and padded frames, H.Encaps.L2, End and End.X at every SL,
 * hop limits 0/1/2, End.DX4/DX6/DT4/DT6, the ICMPv6 time exceeded, the
 * static and dynamic proxy (replicas, NAT by the VNF, cache updates);
 * every drop reason; malformed SRHs; and a sweep of every behaviour over
 * every prefix and many corruptions of valid frames placed against a
 * PROT_NONE page (a read past the frame crashes the test).
 *
 *   test_srv6            the tests
 *   test_srv6 --bench N  N calls of each hot behaviour (for callgrind)
 */
#include "harness.h"
#include "nf_parse.h"
#include "nf_srv6.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- an independent frame builder ---- */

struct fb {
	uint8_t b[4096];
	uint32_t n;
};

static void put(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct fb *f, unsigned v)
{
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v);
}

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };

/* Ethernet dst, src, optional 802.1Q tag (vid 0: none), EtherType. */
static void eth(struct fb *f, const uint8_t *dst, const uint8_t *src,
		unsigned vid, unsigned type)
{
	put(f, dst, 6);
	put(f, src, 6);
	if (vid) {
		put16(f, 0x8100);
		put16(f, 0x6000 | vid);	/* PCP 3 */
	}
	put16(f, type);
}

/* SID fc00::<i> (i < 256), or host addresses 2001:db8::<i>. */
static struct nf_srv6_sid S(unsigned i)
{
	struct nf_srv6_sid s = { { 0xfc, 0 } };

	s.b[14] = (uint8_t)(i >> 8);
	s.b[15] = (uint8_t)i;
	return s;
}

static struct nf_srv6_sid H6(unsigned i)
{
	struct nf_srv6_sid s = { { 0x20, 0x01, 0x0d, 0xb8 } };

	s.b[15] = (uint8_t)i;
	return s;
}

static void ip6(struct fb *f, unsigned tc, uint32_t fl, unsigned plen,
		unsigned nh, unsigned hl, struct nf_srv6_sid src,
		struct nf_srv6_sid dst)
{
	put32(f, 6u << 28 | tc << 20 | fl);
	put16(f, plen);
	put8(f, nh);
	put8(f, hl);
	put(f, &src, 16);
	put(f, &dst, 16);
}

/* SRH with @k entries of @list (wire order: list[0] is Segment List[0]),
 * then @tlvlen bytes of TLVs @tlv. */
static void srh(struct fb *f, unsigned nh, unsigned sl, unsigned last,
		const struct nf_srv6_sid *list, unsigned k, const uint8_t *tlv,
		unsigned tlvlen)
{
	put8(f, nh);
	put8(f, (16 * k + tlvlen) / 8);
	put8(f, 4);
	put8(f, sl);
	put8(f, last);
	put8(f, 0);
	put16(f, 0);
	put(f, list, 16 * k);
	if (tlvlen)
		put(f, tlv, tlvlen);
}

/* RFC 1071, big-endian words, the plain way. */
static unsigned ref_csum(const uint8_t *p, unsigned n)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* IPv4 + UDP (8 + @dlen bytes of 0x5a) from 10.0.0.1:1000 to
 * 10.9.0.<d>:<dport>. */
static void ip4udp(struct fb *f, unsigned tos, unsigned ttl, unsigned d,
		   unsigned dport, unsigned dlen)
{
	uint32_t at = f->n, i;

	put8(f, 0x45);
	put8(f, tos);
	put16(f, 20 + 8 + dlen);
	put16(f, 0x1234);
	put16(f, 0x4000);
	put8(f, ttl);
	put8(f, 17);
	put16(f, 0);
	put32(f, 0x0a000001);
	put32(f, 0x0a090000 | d);
	f->b[at + 10] = (uint8_t)(ref_csum(f->b + at, 20) >> 8);
	f->b[at + 11] = (uint8_t)ref_csum(f->b + at, 20);
	put16(f, 1000);
	put16(f, dport);
	put16(f, 8 + dlen);
	put16(f, 0);		/* no UDP checksum */
	for (i = 0; i < dlen; i++)
		put8(f, 0x5a);
}

/* IPv6 + UDP from 2001:db8::1 port 1000 to 2001:db8::<d>. */
static void ip6udp(struct fb *f, unsigned tc, uint32_t fl, unsigned hl,
		   unsigned d, unsigned dlen)
{
	uint32_t i;

	ip6(f, tc, fl, 8 + dlen, 17, hl, H6(1), H6(d));
	put16(f, 1000);
	put16(f, 53);
	put16(f, 8 + dlen);
	put16(f, 0xbeef);
	for (i = 0; i < dlen; i++)
		put8(f, 0xa5);
}

/* The flow label the documented hash gives (nf_srv6.h: addresses,
 * protocol, TCP/UDP ports, loaded as 32-bit words in host order). */
static uint32_t ref_mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

static uint32_t ref_label(const uint8_t *ip, int v6, int ports)
{
	uint32_t x = 0x5eed, w[8], i, na = v6 ? 8 : 2;

	memcpy(w, ip + (v6 ? 8 : 12), 4 * na);
	for (i = 0; i < na; i++)
		x = ref_mix(x, w[i]);
	x = ref_mix(x, ip[v6 ? 6 : 9]);
	if (ports) {
		memcpy(w, ip + (v6 ? 40 : (ip[0] & 15) * 4), 4);
		x = ref_mix(x, w[0]);
	}
	x = (x ^ (x >> 20)) & 0xfffff;
	return x ? x : 1;
}

/* End.AD's way out gives the packet its own flow label: write into the
 * expected IPv6 header @ip6 the label of the inner packet @inner. */
static void put_label(uint8_t *ip6, const uint8_t *inner, int v6)
{
	uint32_t fl = ref_label(inner, v6, 1);

	ip6[1] = (uint8_t)((ip6[1] & 0xf0) | fl >> 16);
	ip6[2] = (uint8_t)(fl >> 8);
	ip6[3] = (uint8_t)fl;
}

/* ---- guarded execution ---- */

#define PAGE	4096u
static uint8_t *tail_end;	/* first byte of a PROT_NONE page */

static void guards_init(void)
{
	uint8_t *a = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED || mprotect(a + 3 * PAGE, PAGE, PROT_NONE) < 0) {
		perror("test_srv6: mmap");
		exit(1);
	}
	tail_end = a + 3 * PAGE;
}

/* A copy of @f that ends at a PROT_NONE page, parsed. */
static const uint8_t *guard(const struct fb *f, struct nf_hdrs *h, int *perr)
{
	uint8_t *q = tail_end - f->n;

	memcpy(q, f->b, f->n);
	*perr = nf_parse(q, f->n, h);
	return q;
}

static uint8_t out[4096];

static int same(const uint8_t *a, int n, const struct fb *e)
{
	if (n != (int)e->n || memcmp(a, e->b, e->n) != 0) {
		int i;

		fprintf(stderr, "got %d bytes, expected %u\n", n, e->n);
		for (i = 0; i < n && i < (int)e->n; i++)
			if (a[i] != e->b[i]) {
				fprintf(stderr, "  first difference at %d: %02x, expected %02x\n",
					i, a[i], e->b[i]);
				break;
			}
		return 0;
	}
	return 1;
}

/* Parse @f and run End (@adj) on it. */
static int run_end(const struct fb *f, const struct nf_srv6_adj *adj)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return -1000 - pe;
	return nf_srv6_end(q, f->n, &h, adj, out, sizeof(out));
}

static int run_dx(const struct fb *f, uint8_t want,
		  const struct nf_srv6_adj *adj)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return -1000 - pe;
	return nf_srv6_end_dx(q, f->n, &h, want, adj, out, sizeof(out));
}

static int run_encaps(const struct nf_srv6_encap *e, const struct fb *f,
		      uint32_t cap)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return -1000 - pe;
	return nf_srv6_encaps(e, q, f->n, &h, out, cap);
}

static enum nf_srv6_drop run_parse(const struct fb *f,
				   struct nf_srv6_view *v)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return (enum nf_srv6_drop)(1000 + pe);
	return nf_srv6_srh_parse(q, &h, v);
}

static struct nf_srv6_segs segs_n(unsigned n)
{
	struct nf_srv6_segs s;
	unsigned i;

	memset(&s, 0, sizeof(s));
	s.n = n;
	for (i = 0; i < n; i++)
		s.sid[i] = S(i + 1);
	return s;
}

/* Wire-order list of segs 1..n (Segment List[i] = fc00::(n-i)). */
static void wire_list(struct nf_srv6_sid *l, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		l[i] = S(n - i);
}

static const struct nf_srv6_sid R77 = { { 0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77 } };
static const struct nf_srv6_sid S3 = { { 0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 } };
static const struct nf_srv6_sid SRC = { { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99 } };

/* An SRv6 frame (no VLAN unless @vid): IPv6 hop limit @hl from SRC to
 * DA @da, SRH with segs 1..@n, SL @sl, carrying an IPv4 UDP packet
 * (TTL @ttl, @dlen data bytes). */
static void srv6_frame(struct fb *f, unsigned vid, unsigned hl,
		       struct nf_srv6_sid da, unsigned n, unsigned sl,
		       unsigned ttl, unsigned dlen)
{
	struct nf_srv6_sid l[NF_SRV6_SEGS_MAX];

	wire_list(l, n);
	f->n = 0;
	eth(f, MAC_B, MAC_A, vid, 0x86dd);
	ip6(f, 0, 0x12345, 8 + 16 * n + 28 + dlen, 43, hl, SRC, da);
	srh(f, 4, sl, n - 1, l, n, NULL, 0);
	ip4udp(f, 0, ttl, 2, 9, dlen);
}

/* ---- tests ---- */

static void test_names(void)
{
	int i, j, ok = 1;

	for (i = 1; i < NF_SRV6_DROP_MAX; i++) {
		const char *n = nf_srv6_drop_name((enum nf_srv6_drop)i);

		if (strncmp(n, "srv6-", 5) != 0)
			ok = 0;
		for (j = 1; j < i; j++)
			if (!strcmp(n, nf_srv6_drop_name((enum nf_srv6_drop)j)))
				ok = 0;
	}
	NF_TEST("every drop reason has its own srv6-* name", ok);
	NF_TEST("names: ok and out of range",
		!strcmp(nf_srv6_drop_name(NF_SRV6_OK), "ok") &&
		!strcmp(nf_srv6_drop_name(NF_SRV6_DROP_MAX), "?"));
}

static void test_srh_parse(void)
{
	struct nf_srv6_sid l[NF_SRV6_SEGS_MAX];
	struct nf_srv6_view v;
	struct nf_hdrs h;
	struct fb f;
	unsigned n;
	int pe;

	for (n = 1; n <= 16; n++) {
		srv6_frame(&f, 0, 64, S(n), n, n - 1, 64, 4);
		memset(&v, 0xa5, sizeof(v));
		if (run_parse(&f, &v) != NF_SRV6_OK || v.srh_off != 54 ||
		    v.srh_len != 8 + 16 * n || v.tlv_off != 54 + 8 + 16 * n ||
		    v.next != 4 || v.sl != n - 1 || v.last != n - 1)
			break;
	}
	NF_TEST("SRH of 1 to 16 segments: offsets, SL, last entry, next", n == 17);

	/* hop-by-hop, then the SRH with TLVs: Pad1, PadN(5), unknown(3), Pad1 */
	{
		static const uint8_t tlv[16] = { 0, 4, 5, 0, 0, 0, 0, 0,
						 0x80, 3, 1, 2, 3, 0, 0, 0 };
		wire_list(l, 2);
		f.n = 0;
		eth(&f, MAC_B, MAC_A, 100, 0x86dd);
		ip6(&f, 0, 0, 8 + 8 + 32 + 16 + 28, 0, 64, SRC, S(2));
		put8(&f, 43); put8(&f, 0); put16(&f, 0x0104); put32(&f, 0);
		srh(&f, 4, 1, 1, l, 2, tlv, 16);
		ip4udp(&f, 0, 64, 2, 9, 0);
		NF_TEST("SRH after hop-by-hop, behind a VLAN tag, Pad1/PadN/unknown TLVs",
			run_parse(&f, &v) == NF_SRV6_OK && v.srh_off == 18 + 48 &&
			v.srh_len == 56 && v.tlv_off == 66 + 40 && v.sl == 1 &&
			v.last == 1);
		f.b[66 + 40 + 2] = 6;	/* PadN of 6 */
		f.b[66 + 40 + 9] = 0;	/* take a byte from the next TLV */
		NF_TEST("PadN longer than 5: srv6-bad-tlv",
			run_parse(&f, &v) == NF_SRV6_BAD_TLV);
		f.b[66 + 40 + 2] = 5;
		f.b[66 + 40 + 9] = 7;	/* unknown TLV runs past the SRH */
		NF_TEST("TLV past the end of the SRH: srv6-bad-tlv",
			run_parse(&f, &v) == NF_SRV6_BAD_TLV);
		f.b[66 + 40 + 9] = 3;
		f.b[66 + 40 + 15] = 0x80;	/* last byte: a TLV type without length */
		NF_TEST("TLV header cut by the end of the SRH: srv6-bad-tlv",
			run_parse(&f, &v) == NF_SRV6_BAD_TLV);
	}

	srv6_frame(&f, 0, 64, S(3), 3, 3, 64, 0);
	NF_TEST("SL = last entry + 1 (reduced SRH) is valid",
		run_parse(&f, &v) == NF_SRV6_OK && v.sl == 3);
	f.b[54 + 3] = 4;
	NF_TEST("SL > last entry + 1: srv6-sl-beyond",
		run_parse(&f, &v) == NF_SRV6_SL_BEYOND);
	f.b[54 + 3] = 255;
	NF_TEST("SL 255: srv6-sl-beyond", run_parse(&f, &v) == NF_SRV6_SL_BEYOND);
	f.b[54 + 3] = 1;
	f.b[54 + 4] = 3;	/* last entry 3 in a header of 3 segments */
	NF_TEST("last entry > hdr ext len / 2 - 1: srv6-bad-srh",
		run_parse(&f, &v) == NF_SRV6_BAD_SRH);
	f.b[54 + 4] = 2;
	f.b[54 + 1] = 5;	/* hdr ext len 5: 2.5 segments */
	NF_TEST("hdr ext len too short for the last entry: srv6-bad-srh",
		run_parse(&f, &v) == NF_SRV6_BAD_SRH);
	f.b[54 + 1] = 0;
	f.b[54 + 4] = 0;
	NF_TEST("hdr ext len 0: srv6-bad-srh", run_parse(&f, &v) == NF_SRV6_BAD_SRH);
	f.b[54 + 1] = 6;
	f.b[54 + 4] = 1;	/* last entry 1 of room for 3: 16 bytes of TLVs, zeros = 16 Pad1 */
	memset(f.b + 54 + 8 + 32, 0, 16);
	NF_TEST("hdr ext len larger than the list: the rest parses as TLVs",
		run_parse(&f, &v) == NF_SRV6_OK && v.tlv_off == 54 + 8 + 32);
	f.b[54 + 8 + 32] = 4;
	f.b[54 + 8 + 33] = 0x20;	/* PadN of 32 */
	NF_TEST("... and fails when they do not parse",
		run_parse(&f, &v) == NF_SRV6_BAD_TLV);
	f.b[54 + 8 + 32] = 0;
	f.b[54 + 8 + 33] = 0;
	f.b[54 + 4] = 2;
	f.b[54 + 2] = 0;	/* routing type 0 */
	NF_TEST("routing header of type 0: srv6-no-srh",
		run_parse(&f, &v) == NF_SRV6_NO_SRH);
	f.b[54 + 2] = 4;
	f.b[20] = 4;		/* IPv6 next header: IPv4, no SRH */
	NF_TEST("no routing header: srv6-no-srh", run_parse(&f, &v) == NF_SRV6_NO_SRH);

	f.n = 0;
	eth(&f, MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&f, 0, 64, 2, 9, 0);
	NF_TEST("IPv4 frame: srv6-not-ipv6", run_parse(&f, &v) == NF_SRV6_NOT_IPV6);

	/* truncation: nf_parse() refuses an SRH past the packet; an @h that
	 * says the packet ends inside the SRH (not what nf_parse() gives)
	 * is still refused without reading past it */
	srv6_frame(&f, 0, 64, S(3), 3, 1, 64, 0);
	f.b[18] = 0;
	f.b[19] = 40;		/* payload length 40: SRH is 56 */
	{
		const uint8_t *q = guard(&f, &h, &pe);
		uint8_t *c = tail_end - 54 - 40;

		NF_TEST("SRH past the IPv6 payload: nf_parse says ipv6-ext-truncated",
			pe == NF_PERR_IP6_EXT_TRUNC);
		memmove(c, q, 54 + 40);
		h = (struct nf_hdrs){ .ethertype = 0x86dd, .l3_off = 14,
				      .l3_len = 80, .l4_off = 94 };
		NF_TEST("... and nf_srv6_srh_parse on a cut frame: srv6-bad-srh",
			nf_srv6_srh_parse(c, &h, &v) == NF_SRV6_BAD_SRH);
		memmove(tail_end - 54 - 4, c, 54 + 4);
		c = tail_end - 54 - 4;
		h.l3_len = 44;
		NF_TEST("... SRH cut inside its fixed part: srv6-bad-srh",
			nf_srv6_srh_parse(c, &h, &v) == NF_SRV6_BAD_SRH);
	}
}

static void test_encaps(void)
{
	struct nf_srv6_sid l[NF_SRV6_SEGS_MAX];
	struct nf_srv6_encap e;
	struct nf_srv6_segs s;
	struct fb in, ex;
	unsigned n, red, vid, ok;
	uint32_t fl;
	int r;

	/* IPv4 inner, tagged or not, 1/2/3/16 segments, red or not */
	for (vid = 0; vid <= 1; vid++)
		for (red = 0; red <= 1; red++)
			for (n = 1; n <= 16; n++) {
				unsigned k = red ? n - 1 : n, l2 = vid ? 18 : 14;
				char what[120];

				if (n > 3 && n < 16)
					continue;
				s = segs_n(n);
				in.n = 0;
				eth(&in, MAC_B, MAC_A, vid ? 7 : 0, 0x0800);
				ip4udp(&in, 0xb9, 17, 2, 9, 10);
				memset(in.b + in.n, 0xee, 4);	/* padding, dropped */
				in.n += 4;
				r = nf_srv6_encap_init(&e, &SRC, &s, 0,
						       red ? NF_SRV6_ENCAPS_RED : NF_SRV6_ENCAPS);
				fl = ref_label(in.b + l2, 0, 1);
				ex.n = 0;
				eth(&ex, MAC_B, MAC_A, vid ? 7 : 0, 0x86dd);
				wire_list(l, n);
				if (k) {
					ip6(&ex, 0xb9, fl, 8 + 16 * k + 38, 43, 64, SRC, S(1));
					srh(&ex, 4, n - 1, k - 1, l, k, NULL, 0);
				} else {
					ip6(&ex, 0xb9, fl, 38, 4, 64, SRC, S(1));
				}
				ip4udp(&ex, 0xb9, 17, 2, 9, 10);
				snprintf(what, sizeof(what),
					 "H.Encaps%s of IPv4%s, %u segment%s: exact bytes",
					 red ? ".Red" : "", vid ? " (VLAN)" : "", n,
					 n > 1 ? "s" : "");
				NF_TEST(what, r == 0 &&
					same(out, run_encaps(&e, &in, sizeof(out)), &ex));
			}

	/* IPv6 inner: next header 41, traffic class copied */
	s = segs_n(2);
	nf_srv6_encap_init(&e, &SRC, &s, 0, NF_SRV6_ENCAPS);
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6udp(&in, 0x2e, 0xabcde, 9, 7, 3);
	fl = ref_label(in.b + 14, 1, 1);
	wire_list(l, 2);
	ex.n = 0;
	eth(&ex, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&ex, 0x2e, fl, 8 + 32 + 40 + 11, 43, 64, SRC, S(1));
	srh(&ex, 41, 1, 1, l, 2, NULL, 0);
	put(&ex, in.b + 14, in.n - 14);
	NF_TEST("H.Encaps of IPv6: next header 41, TC copied, exact bytes",
		same(out, run_encaps(&e, &in, sizeof(out)), &ex));
	NF_TEST("result exactly the capacity fits, one byte less is srv6-too-big",
		run_encaps(&e, &in, ex.n) == (int)ex.n &&
		run_encaps(&e, &in, ex.n - 1) == -NF_SRV6_TOO_BIG);
	{	/* a 65535-byte payload would overflow: 65500-byte IPv6 packet */
		struct nf_hdrs h;

		h = (struct nf_hdrs){ .ethertype = 0x86dd, .l3_off = 14,
				      .l3_len = 65500, .l4_off = 54,
				      .l4_len = 65460, .l4_proto = 59 };
		{
			uint8_t *fr = calloc(1, 65514), *o = malloc(70000);

			fr[14] = 0x60;
			NF_TEST("an encapsulated payload over 65535 bytes: srv6-too-big",
				nf_srv6_encaps(&e, fr, 65514, &h, o, 70000) ==
				-NF_SRV6_TOO_BIG);
			free(fr);
			free(o);
		}
	}

	/* flow label: same 5-tuple same label, other port another one */
	{
		uint32_t a, b, c;

		in.n = 0;
		eth(&in, MAC_B, MAC_A, 0, 0x0800);
		ip4udp(&in, 0, 64, 2, 9, 10);
		run_encaps(&e, &in, sizeof(out));
		a = (uint32_t)out[15] << 16 | out[16] << 8 | out[17];
		in.n = 0;
		eth(&in, MAC_B, MAC_A, 0, 0x0800);
		ip4udp(&in, 0, 3, 2, 9, 100);
		run_encaps(&e, &in, sizeof(out));
		b = (uint32_t)out[15] << 16 | out[16] << 8 | out[17];
		in.n = 0;
		eth(&in, MAC_B, MAC_A, 0, 0x0800);
		ip4udp(&in, 0, 64, 2, 10, 10);
		run_encaps(&e, &in, sizeof(out));
		c = (uint32_t)out[15] << 16 | out[16] << 8 | out[17];
		NF_TEST("flow label: one per 5-tuple (TTL, length ignored), ports count",
			(a & 0xfffff) == (b & 0xfffff) && (a & 0xfffff) != (c & 0xfffff) &&
			(a & 0xfffff) != 0);
	}

	/* not IP */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x0806);
	put16(&in, 1); put16(&in, 0x800); put8(&in, 6); put8(&in, 4); put16(&in, 1);
	memset(in.b + in.n, 0, 20);
	in.n += 20;
	NF_TEST("H.Encaps of ARP: srv6-not-ip",
		run_encaps(&e, &in, sizeof(out)) == -NF_SRV6_NOT_IP);

	/* L2: the whole frame, tags and padding, under a new Ethernet header */
	for (red = 0; red <= 1; red++) {
		s = segs_n(3);
		nf_srv6_encap_init(&e, &SRC, &s, 0,
				   red ? NF_SRV6_ENCAPS_L2_RED : NF_SRV6_ENCAPS_L2);
		r = run_encaps(&e, &in, sizeof(out));	/* ARP: flow label of the MACs */
		ok = r == 14 + 40 + (red ? 40 : 56) + (int)in.n &&
		     !memcmp(out + r - in.n, in.b, in.n) &&
		     out[14 + 40] == 143 && out[14 + 6] == 43;
		in.n = 0;
		eth(&in, MAC_B, MAC_A, 5, 0x0800);
		ip4udp(&in, 0x10, 64, 2, 9, 1);
		in.b[in.n++] = 0;	/* padding: carried */
		fl = ref_label(in.b + 18, 0, 1);
		wire_list(l, 3);
		ex.n = 0;
		eth(&ex, MAC_B, MAC_A, 0, 0x86dd);
		ip6(&ex, 0, fl, (red ? 40 : 56) + in.n, 43, 64, SRC, S(1));
		srh(&ex, 143, 2, red ? 1 : 2, l, red ? 2 : 3, NULL, 0);
		put(&ex, in.b, in.n);
		NF_TEST(red ? "H.Encaps.L2.Red of a tagged, padded frame: exact bytes" :
			      "H.Encaps.L2 of a tagged, padded frame: exact bytes",
			ok && same(out, run_encaps(&e, &in, sizeof(out)), &ex));
	}

	/* init errors */
	s = segs_n(3);
	NF_TEST("encap_init: 0 segments, 17 segments, first >= n, reduced with first, bad mode: -EINVAL",
		(s.n = 0, nf_srv6_encap_init(&e, &SRC, &s, 0, NF_SRV6_ENCAPS) == -22) &&
		(s.n = 17, nf_srv6_encap_init(&e, &SRC, &s, 0, NF_SRV6_ENCAPS) == -22) &&
		(s.n = 3, nf_srv6_encap_init(&e, &SRC, &s, 3, NF_SRV6_ENCAPS) == -22) &&
		nf_srv6_encap_init(&e, &SRC, &s, 1, NF_SRV6_ENCAPS_RED) == -22 &&
		nf_srv6_encap_init(&e, &SRC, &s, 0, (enum nf_srv6_mode)9) == -22 &&
		nf_srv6_encap_init(&e, &SRC, &s, 2, NF_SRV6_ENCAPS) == 0);
}

static void test_end(void)
{
	static const struct nf_srv6_adj adj = { { 2, 0, 0, 0, 0, 0x77 },
						{ 2, 0, 0, 0, 0, 0x66 } };
	struct nf_srv6_sid l[NF_SRV6_SEGS_MAX];
	struct fb in, ex;
	unsigned n, sl, ok = 1;

	/* every SL of 1, 2, 3, 16 segments; tagged for 3 */
	for (n = 1; n <= 16; n++) {
		if (n > 3 && n < 16)
			continue;
		for (sl = 1; sl <= n; sl++) {	/* sl == n: a reduced SRH */
			unsigned vid = n == 3 ? 42 : 0, l2 = vid ? 18 : 14;

			wire_list(l, n);
			srv6_frame(&in, vid, 64, l[sl < n ? sl : 0], n, sl, 64, 5);
			in.b[in.n++] = 0;	/* padding: dropped */
			ex = in;
			ex.n--;
			ex.b[l2 + 7] = 63;
			ex.b[l2 + 40 + 3] = (uint8_t)(sl - 1);
			memcpy(ex.b + l2 + 24, &l[sl - 1], 16);
			if (!same(out, run_end(&in, NULL), &ex))
				ok = 0;
			memcpy(ex.b, adj.dst, 6);
			memcpy(ex.b + 6, adj.src, 6);
			if (!same(out, run_end(&in, &adj), &ex))
				ok = 0;
		}
	}
	NF_TEST("End and End.X at every SL of 1, 2, 3 (VLAN), 16 segments: exact bytes", ok);

	srv6_frame(&in, 0, 64, S(1), 3, 0, 64, 0);
	NF_TEST("End with SL 0: srv6-sl-zero", run_end(&in, NULL) == -NF_SRV6_SL_ZERO);
	srv6_frame(&in, 0, 2, S(2), 3, 1, 64, 0);
	NF_TEST("End with hop limit 2 passes with 1",
		run_end(&in, NULL) == (int)in.n && out[21] == 1);
	srv6_frame(&in, 0, 1, S(2), 3, 1, 64, 0);
	NF_TEST("End with hop limit 1: srv6-hop-limit",
		run_end(&in, NULL) == -NF_SRV6_HOP_LIMIT);
	srv6_frame(&in, 0, 0, S(2), 3, 1, 64, 0);
	NF_TEST("End with hop limit 0: srv6-hop-limit",
		run_end(&in, NULL) == -NF_SRV6_HOP_LIMIT);
	srv6_frame(&in, 0, 64, S(2), 3, 5, 64, 0);
	NF_TEST("End with SL beyond the list: srv6-sl-beyond",
		run_end(&in, NULL) == -NF_SRV6_SL_BEYOND);
	srv6_frame(&in, 0, 64, S(2), 3, 1, 64, 0);
	in.b[54 + 4] = 7;
	NF_TEST("End with a bad hdr ext len: srv6-bad-srh",
		run_end(&in, NULL) == -NF_SRV6_BAD_SRH);
	in.b[54 + 4] = 2;
	NF_TEST("End: a result one byte over the capacity is srv6-too-big",
		({ struct nf_hdrs h; int pe; const uint8_t *q = guard(&in, &h, &pe);
		   nf_srv6_end(q, in.n, &h, NULL, out, in.n - 1) == -NF_SRV6_TOO_BIG &&
		   nf_srv6_end(q, in.n, &h, NULL, out, in.n) == (int)in.n; }));
	in.b[20] = 4;	/* no SRH */
	NF_TEST("End without SRH: srv6-no-srh", run_end(&in, NULL) == -NF_SRV6_NO_SRH);
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&in, 0, 64, 2, 9, 0);
	NF_TEST("End on IPv4: srv6-not-ipv6", run_end(&in, NULL) == -NF_SRV6_NOT_IPV6);
}

static void test_dx(void)
{
	static const struct nf_srv6_adj adj = { { 2, 0, 0, 0, 0, 0x77 },
						{ 2, 0, 0, 0, 0, 0x66 } };
	struct nf_srv6_sid l[3];
	struct fb in, ex;
	unsigned vid;

	for (vid = 0; vid <= 1; vid++) {
		unsigned l2 = vid ? 18 : 14;

		srv6_frame(&in, vid ? 9 : 0, 64, S(3), 3, 0, 64, 20);
		memset(in.b + in.n, 0, 6);
		in.n += 6;
		ex.n = 0;
		eth(&ex, adj.dst, adj.src, vid ? 9 : 0, 0x0800);
		ip4udp(&ex, 0, 63, 2, 9, 20);
		NF_TEST(vid ? "End.DX4 (VLAN): inner IPv4, TTL - 1, checksum, next-hop MACs" :
			      "End.DX4: inner IPv4, TTL - 1, checksum, next-hop MACs",
			same(out, run_dx(&in, 4, &adj), &ex) &&
			ref_csum(out + l2, 20) == 0);
		memcpy(ex.b, MAC_B, 6);
		memcpy(ex.b + 6, MAC_A, 6);
		NF_TEST("End.DT4: the same with the MACs as received, inner DA found",
			same(out, nf_srv6_end_dt4(tail_end - in.n, in.n,
				     ({ static struct nf_hdrs h; int pe; guard(&in, &h, &pe); &h; }),
				     out, sizeof(out)), &ex) &&
			!memcmp(nf_srv6_inner_daddr(out, (uint16_t)l2, 4), ex.b + l2 + 16, 4));
	}
	/* inner TTL 255 -> 254 and a checksum carrying across 0xffff */
	srv6_frame(&in, 0, 64, S(3), 3, 0, 255, 0);
	ex.n = 0;
	eth(&ex, adj.dst, adj.src, 0, 0x0800);
	ip4udp(&ex, 0, 254, 2, 9, 0);
	NF_TEST("End.DX4 with inner TTL 255: checksum right",
		same(out, run_dx(&in, 4, &adj), &ex));
	srv6_frame(&in, 0, 64, S(3), 3, 0, 2, 0);
	NF_TEST("End.DX4 with inner TTL 2 passes with 1",
		run_dx(&in, 4, &adj) == 14 + 28 && out[14 + 8] == 1 &&
		ref_csum(out + 14, 20) == 0);
	srv6_frame(&in, 0, 64, S(3), 3, 0, 1, 0);
	NF_TEST("End.DX4 with inner TTL 1: srv6-inner-ttl",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_TTL);
	srv6_frame(&in, 0, 64, S(3), 3, 0, 0, 0);
	NF_TEST("End.DX4 with inner TTL 0: srv6-inner-ttl",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_TTL);
	srv6_frame(&in, 0, 1, S(3), 3, 0, 64, 0);
	NF_TEST("End.DX4 ignores the outer hop limit (1)",
		run_dx(&in, 4, &adj) == 14 + 28);
	srv6_frame(&in, 0, 64, S(2), 3, 1, 64, 0);
	NF_TEST("End.DX4 with SL 1: srv6-sl-not-zero",
		run_dx(&in, 4, &adj) == -NF_SRV6_SL_NOT_ZERO);
	srv6_frame(&in, 0, 64, S(2), 3, 9, 64, 0);
	NF_TEST("End.DX4 with a malformed SRH: its reason (srv6-sl-beyond)",
		run_dx(&in, 4, &adj) == -NF_SRV6_SL_BEYOND);
	srv6_frame(&in, 0, 64, S(3), 3, 0, 64, 0);
	NF_TEST("End.DX6 on an IPv4 inner packet: srv6-inner-not-ipv6",
		run_dx(&in, 41, &adj) == -NF_SRV6_INNER_NOT_IPV6);
	in.b[14 + 40 + 56 + 2] = 0;
	in.b[14 + 40 + 56 + 3] = 29;	/* IPv4 total length past the payload */
	NF_TEST("End.DX4: inner total length past the outer payload: srv6-inner-malformed",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_BAD);
	in.b[14 + 40 + 56 + 3] = 28;
	in.b[14 + 40 + 56] = 0x44;	/* IHL 4 */
	NF_TEST("End.DX4: inner IHL 4: srv6-inner-malformed",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_BAD);
	in.b[14 + 40 + 56] = 0x65;	/* version 6 */
	NF_TEST("End.DX4: inner version 6: srv6-inner-malformed",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_BAD);

	/* no SRH at all (H.Encaps.Red of one segment) */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 28, 4, 64, SRC, S(1));
	ip4udp(&in, 0, 64, 2, 9, 0);
	ex.n = 0;
	eth(&ex, adj.dst, adj.src, 0, 0x0800);
	ip4udp(&ex, 0, 63, 2, 9, 0);
	NF_TEST("End.DX4 without SRH: inner IPv4 out",
		same(out, run_dx(&in, 4, &adj), &ex));
	in.b[20] = 17;
	NF_TEST("End.DX4 on a plain UDP packet: srv6-inner-not-ipv4",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_NOT_IPV4);
	/* outer fragment: frag header (first fragment, M set) then IPv4 */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 8 + 28, 44, 64, SRC, S(1));
	put8(&in, 4); put8(&in, 0); put16(&in, 1); put32(&in, 77);
	ip4udp(&in, 0, 64, 2, 9, 0);
	NF_TEST("End.DX4 of an outer fragment: srv6-fragment",
		run_dx(&in, 4, &adj) == -NF_SRV6_FRAGMENT);

	/* End.DX6 / DT6: inner IPv6, hop limit - 1 */
	wire_list(l, 2);
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 40 + 48, 43, 64, SRC, S(2));
	srh(&in, 41, 0, 1, l, 2, NULL, 0);
	ip6udp(&in, 0x11, 0x22, 9, 5, 0);
	ex.n = 0;
	eth(&ex, adj.dst, adj.src, 0, 0x86dd);
	ip6udp(&ex, 0x11, 0x22, 8, 5, 0);
	NF_TEST("End.DX6: inner IPv6 out, hop limit - 1, next-hop MACs",
		same(out, run_dx(&in, 41, &adj), &ex));
	memcpy(ex.b, MAC_B, 6);
	memcpy(ex.b + 6, MAC_A, 6);
	NF_TEST("End.DT6: MACs as received, inner DA found",
		same(out, run_dx(&in, 41, NULL), &ex) &&
		!memcmp(nf_srv6_inner_daddr(out, 14, 41), ex.b + 14 + 24, 16));
	NF_TEST("End.DX4 on an IPv6 inner packet: srv6-inner-not-ipv4",
		run_dx(&in, 4, &adj) == -NF_SRV6_INNER_NOT_IPV4);
	in.b[in.n - 40 - 8 + 7] = 1;
	NF_TEST("End.DX6 with inner hop limit 1: srv6-inner-ttl",
		run_dx(&in, 41, &adj) == -NF_SRV6_INNER_TTL);
	in.b[in.n - 40 - 8 + 7] = 9;
	in.b[in.n - 40 - 8 + 5] = 9;	/* inner payload length 9 of 8 */
	NF_TEST("End.DX6: inner payload length past the outer payload: srv6-inner-malformed",
		run_dx(&in, 41, &adj) == -NF_SRV6_INNER_BAD);
	{
		struct nf_hdrs h;
		int pe;
		const uint8_t *q;

		in.b[in.n - 40 - 8 + 5] = 8;
		q = guard(&in, &h, &pe);
		NF_TEST("End.DX6: capacity one byte short: srv6-too-big",
			nf_srv6_end_dx6(q, in.n, &h, &adj, out, 14 + 47) == -NF_SRV6_TOO_BIG &&
			nf_srv6_end_dx6(q, in.n, &h, &adj, out, 14 + 48) == 14 + 48);
	}
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&in, 0, 64, 2, 9, 0);
	NF_TEST("End.DX4 on IPv4: srv6-not-ipv6",
		run_dx(&in, 4, &adj) == -NF_SRV6_NOT_IPV6);
}

/* The ICMPv6 error @type/@code/@ptr from @src that answers frame @in
 * (untagged, or tagged as it was: its L2 header is @l2 bytes): MACs
 * swapped, the IPv6 packet quoted up to a 1280-byte reply, the checksum
 * over the pseudo-header (RFC 4443 2.3). */
static void icmp_expect(struct fb *ex, const struct fb *in, unsigned l2, unsigned type,
			unsigned code, uint32_t ptr, struct nf_srv6_sid src)
{
	unsigned q = in->n - l2 > 1232 ? 1232 : in->n - l2, c, n;
	struct nf_srv6_sid dst;
	uint8_t ps[4096];

	memcpy(&dst, in->b + l2 + 8, 16);
	ex->n = 0;
	put(ex, in->b + 6, 6);
	put(ex, in->b, 6);
	put(ex, in->b + 12, l2 - 12);
	ip6(ex, 0, 0, 8 + q, 58, 64, src, dst);
	put8(ex, type);
	put8(ex, code);
	put16(ex, 0);
	put32(ex, ptr);
	put(ex, in->b + l2, q);
	memcpy(ps, ex->b + l2 + 8, 32);
	n = 32;
	ps[n++] = 0; ps[n++] = 0;
	ps[n++] = (uint8_t)((8 + q) >> 8); ps[n++] = (uint8_t)(8 + q);
	ps[n++] = 0; ps[n++] = 0; ps[n++] = 0; ps[n++] = 58;
	memcpy(ps + n, ex->b + l2 + 40, 8 + q);
	c = ref_csum(ps, n + 8 + q);
	ex->b[l2 + 42] = (uint8_t)(c >> 8);
	ex->b[l2 + 43] = (uint8_t)c;
}

/* nf_srv6_icmp_error() on @in for @why; the error expected (@type 0:
 * none, the call returns 0). */
static int icmp_case(const struct fb *in, enum nf_srv6_drop why, unsigned type,
		     unsigned code, uint32_t ptr)
{
	struct fb ex;
	struct nf_hdrs h;
	int pe, r;
	const uint8_t *p = guard(in, &h, &pe);

	if (pe != NF_PERR_OK)
		return 0;
	r = nf_srv6_icmp_error(p, &h, why, &R77, out, sizeof(out));
	if (type == 0)
		return r == 0;
	icmp_expect(&ex, in, h.l3_off, type, code, ptr, R77);
	return same(out, r, &ex);
}

/* The return of the behaviour @beh (0 End, 4 End.DX4, 41 End.DT6) on @in:
 * the reason the error is for. */
static int reason_of(const struct fb *in, unsigned beh)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *p = guard(in, &h, &pe);

	if (pe != NF_PERR_OK)
		return 1;
	return beh == 0 ? nf_srv6_end(p, in->n, &h, NULL, out, sizeof(out)) :
		nf_srv6_end_dx(p, in->n, &h, (uint8_t)beh, NULL, out, sizeof(out));
}

static void test_icmp_error(void)
{
	struct nf_srv6_sid l[NF_SRV6_SEGS_MAX];
	struct fb in;
	struct nf_hdrs h;
	unsigned dlen;
	int pe, ok = 1;
	const uint8_t *p;

	wire_list(l, 4);
	for (dlen = 0; dlen <= 1400; dlen += 700) {
		srv6_frame(&in, 3, 1, S(2), 3, 1, 64, dlen);
		if (!icmp_case(&in, NF_SRV6_HOP_LIMIT, 3, 0, 0))
			ok = 0;
	}
	NF_TEST("hop limit 1: Time Exceeded code 0, exact bytes (tag kept), quote cut to a "
		"1280-byte reply", ok && in.n - 18 > 1232);
	NF_TEST("End on hop limit 1: srv6-hop-limit", reason_of(&in, 0) == -NF_SRV6_HOP_LIMIT);

	srv6_frame(&in, 0, 64, S(2), 2, 4, 64, 10);	/* SL 4, last entry 1 */
	NF_TEST("End: SL beyond the list is srv6-sl-beyond",
		reason_of(&in, 0) == -NF_SRV6_SL_BEYOND);
	NF_TEST("SL beyond: Parameter Problem code 0, pointer 43 (Segments Left)",
		icmp_case(&in, NF_SRV6_SL_BEYOND, 4, 0, 43));
	in.b[14 + 40 + 4] = 5;				/* last entry 5 of 2 */
	NF_TEST("End: last entry past hdr ext len is srv6-bad-srh",
		reason_of(&in, 0) == -NF_SRV6_BAD_SRH);
	NF_TEST("last entry past hdr ext len: Parameter Problem code 0, pointer 43",
		icmp_case(&in, NF_SRV6_BAD_SRH, 4, 0, 43));

	/* RFC 8986 4.1's order: SL 0 (S02), the hop limit (S05), the lengths (S09) */
	srv6_frame(&in, 0, 1, S(2), 2, 4, 64, 10);
	NF_TEST("End: SL beyond and hop limit 1: srv6-hop-limit (S05 before S09)",
		reason_of(&in, 0) == -NF_SRV6_HOP_LIMIT);
	srv6_frame(&in, 0, 1, S(2), 2, 0, 64, 10);
	in.b[14 + 40 + 4] = 5;
	NF_TEST("End: last entry past hdr ext len, SL 0, hop limit 1: srv6-sl-zero (S02 first)",
		reason_of(&in, 0) == -NF_SRV6_SL_ZERO);
	srv6_frame(&in, 0, 1, S(2), 2, 1, 64, 10);
	in.b[14 + 40 + 1] = 5;				/* 8 bytes of TLVs: the inner */
	in.b[14 + 40 + 40] = 4;				/* packet's first, a PadN of 6 */
	in.b[14 + 40 + 41] = 6;
	NF_TEST("End: a bad TLV and hop limit 1: srv6-hop-limit (TLVs after S09)",
		reason_of(&in, 0) == -NF_SRV6_HOP_LIMIT);
	in.b[14 + 7] = 64;
	NF_TEST("End: the bad TLV alone: srv6-bad-tlv", reason_of(&in, 0) == -NF_SRV6_BAD_TLV);

	srv6_frame(&in, 0, 64, S(2), 2, 1, 64, 10);
	NF_TEST("End.DX4 with SL 1: srv6-sl-not-zero", reason_of(&in, 4) == -NF_SRV6_SL_NOT_ZERO);
	NF_TEST("SL not 0 at End.DX4: Parameter Problem code 0, pointer 43",
		icmp_case(&in, NF_SRV6_SL_NOT_ZERO, 4, 0, 43));

	srv6_frame(&in, 0, 64, S(2), 2, 0, 64, 10);
	NF_TEST("End with SL 0: srv6-sl-zero", reason_of(&in, 0) == -NF_SRV6_SL_ZERO);
	NF_TEST("SL 0 at End: Parameter Problem code 4, pointer 80 (the upper-layer header)",
		icmp_case(&in, NF_SRV6_SL_ZERO, 4, 4, 80));
	NF_TEST("End.DT6 of IPv4: srv6-inner-not-ipv6", reason_of(&in, 41) == -NF_SRV6_INNER_NOT_IPV6);
	NF_TEST("upper layer not IPv6 at End.DT6: code 4, pointer 80",
		icmp_case(&in, NF_SRV6_INNER_NOT_IPV6, 4, 4, 80));

	/* a hop-by-hop header first: the pointers move by its 8 bytes */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 8 + 8 + 32 + 28, 0, 64, SRC, S(2));
	put8(&in, 43); put8(&in, 0); put8(&in, 1); put8(&in, 4); put32(&in, 0);	/* PadN 4 */
	srh(&in, 4, 5, 1, l, 2, NULL, 0);
	ip4udp(&in, 0, 64, 2, 9, 0);
	NF_TEST("after a hop-by-hop header: SL beyond, pointer 51",
		reason_of(&in, 0) == -NF_SRV6_SL_BEYOND &&
		icmp_case(&in, NF_SRV6_SL_BEYOND, 4, 0, 51));

	/* no routing header: the upper layer, pointer 40 */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6udp(&in, 0, 0, 64, 2, 4);
	NF_TEST("no SRH at End: srv6-no-srh", reason_of(&in, 0) == -NF_SRV6_NO_SRH);
	NF_TEST("no routing header: code 4, pointer 40", icmp_case(&in, NF_SRV6_NO_SRH, 4, 4, 40));
	/* a routing header of type 0 (RFC 5095: unknown): with segments left,
	 * code 0 at its type (RFC 8200 4.4); without, passed over */
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 24 + 28, 43, 64, SRC, S(2));
	put8(&in, 4); put8(&in, 2); put8(&in, 0); put8(&in, 1); put32(&in, 0);
	put(&in, &l[0], 16);
	ip4udp(&in, 0, 64, 2, 9, 0);
	NF_TEST("routing type 0 at End: srv6-no-srh", reason_of(&in, 0) == -NF_SRV6_NO_SRH);
	NF_TEST("routing type 0, 1 segment left: code 0, pointer 42 (its type)",
		icmp_case(&in, NF_SRV6_NO_SRH, 4, 0, 42));
	in.b[14 + 40 + 3] = 0;
	NF_TEST("routing type 0, none left: code 4, pointer 64",
		icmp_case(&in, NF_SRV6_NO_SRH, 4, 4, 64));

	/* RFC 4443 2.4 (e): none */
	srv6_frame(&in, 0, 1, S(2), 2, 1, 64, 10);
	in.b[0] |= 1;
	NF_TEST("none to a link-layer multicast destination", icmp_case(&in, NF_SRV6_HOP_LIMIT, 0, 0, 0));
	srv6_frame(&in, 0, 1, S(2), 2, 1, 64, 10);
	memset(in.b + 14 + 8, 0, 16);
	NF_TEST("none from the unspecified address", icmp_case(&in, NF_SRV6_HOP_LIMIT, 0, 0, 0));
	in.b[14 + 8] = 0xff;
	NF_TEST("none from a multicast address", icmp_case(&in, NF_SRV6_HOP_LIMIT, 0, 0, 0));
	srv6_frame(&in, 0, 1, S(2), 2, 1, 64, 10);
	in.b[14 + 24] = 0xff;
	NF_TEST("none to a multicast address", icmp_case(&in, NF_SRV6_HOP_LIMIT, 0, 0, 0));
	for (dlen = 0; dlen < 2; dlen++) {	/* an ICMPv6 error, then an echo request */
		in.n = 0;
		eth(&in, MAC_B, MAC_A, 0, 0x86dd);
		ip6(&in, 0, 0, 8 + 32 + 8, 43, 64, SRC, S(2));
		srh(&in, 58, 0, 1, l, 2, NULL, 0);
		put8(&in, dlen ? 128 : 1); put8(&in, 0); put16(&in, 0); put32(&in, 0);
		ok = dlen ? icmp_case(&in, NF_SRV6_SL_ZERO, 4, 4, 80) :
			icmp_case(&in, NF_SRV6_SL_ZERO, 0, 0, 0);
		NF_TEST(dlen ? "about an ICMPv6 echo request: code 4" :
			"none about an ICMPv6 error", ok);
	}
	srv6_frame(&in, 0, 64, S(2), 2, 1, 1, 10);
	ok = 1;
	{
		static const enum nf_srv6_drop silent[] = {
			NF_SRV6_BAD_TLV, NF_SRV6_INNER_TTL, NF_SRV6_TOO_BIG, NF_SRV6_FRAGMENT,
			NF_SRV6_INNER_BAD, NF_SRV6_NO_CACHE, NF_SRV6_OK,
		};
		unsigned i;

		for (i = 0; i < sizeof(silent) / sizeof(silent[0]); i++)
			if (!icmp_case(&in, silent[i], 0, 0, 0))
				ok = 0;
	}
	NF_TEST("none for the other reasons (bad TLV, inner TTL, too big, fragment, ...)", ok);
	srv6_frame(&in, 0, 1, S(2), 2, 1, 64, 10);
	p = guard(&in, &h, &pe);
	NF_TEST("capacity short: srv6-too-big",
		nf_srv6_icmp_error(p, &h, NF_SRV6_HOP_LIMIT, &R77, out, 100) == -NF_SRV6_TOO_BIG);
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&in, 0, 64, 2, 9, 0);
	p = guard(&in, &h, &pe);
	NF_TEST("of IPv4: srv6-not-ipv6",
		nf_srv6_icmp_error(p, &h, NF_SRV6_HOP_LIMIT, &R77, out, sizeof(out)) ==
		-NF_SRV6_NOT_IPV6);
}

static struct nf_srv6_proxy px;

/* proxy_in of @f into out; returns the length or -reason */
static int run_pin(struct nf_srv6_proxy *p, unsigned rep, uint8_t want,
		   const struct fb *f, const struct nf_srv6_adj *adj)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return -1000 - pe;
	return nf_srv6_proxy_in(p, rep, want, q, f->n, &h, adj, out, sizeof(out));
}

static int run_pout(unsigned rep, const struct fb *f,
		    const struct nf_srv6_adj *adj, uint8_t *o, uint32_t cap)
{
	struct nf_hdrs h;
	int pe;
	const uint8_t *q = guard(f, &h, &pe);

	if (pe)
		return -1000 - pe;
	return nf_srv6_proxy_out(&px, rep, q, f->n, &h, adj, o, cap);
}

static void test_proxy(void)
{
	static const struct nf_srv6_adj to_vnf = { { 2, 0, 0, 0, 0, 0x51 },
						   { 2, 0, 0, 0, 0, 0x66 } };
	static uint8_t end_out[4096], o2[4096];
	struct nf_srv6_sid l[3];
	struct fb in, in2, ex, back;
	int r, re;

	NF_TEST("proxy_init: 0 and 17 replicas -EINVAL, 2 ok",
		nf_srv6_proxy_init(&px, 0) == -22 && nf_srv6_proxy_init(&px, 17) == -22 &&
		nf_srv6_proxy_init(&px, 2) == 0);

	/* End.AD in, replica 0: the inner IPv4 packet to the VNF */
	srv6_frame(&in, 0, 64, S(2), 3, 1, 64, 12);
	in.b[in.n++] = 0;	/* padding */
	ex.n = 0;
	eth(&ex, to_vnf.dst, to_vnf.src, 0, 0x0800);
	ip4udp(&ex, 0, 64, 2, 9, 12);
	NF_TEST("End.AD return before anything cached: srv6-proxy-no-cache",
		run_pout(0, &ex, NULL, o2, sizeof(o2)) == -NF_SRV6_NO_CACHE);
	NF_TEST("End.AD in: inner IPv4 untouched (TTL kept) to the VNF's MACs",
		same(out, run_pin(&px, 0, 4, &in, &to_vnf), &ex));
	NF_TEST("... the cache holds the End-updated headers",
		px.slot[0][0].len == 40 + 56 && px.slot[0][0].updates == 1 &&
		(px.slot[0][0].hdr[1] & 0x0f) == 0 && px.slot[0][0].hdr[2] == 0 &&
		px.slot[0][0].hdr[3] == 0 &&		/* flow label: set on the way out */
		px.slot[0][0].hdr[7] == 63 && px.slot[0][0].hdr[40 + 3] == 0 &&
		!memcmp(px.slot[0][0].hdr + 24, &S3, 16) &&
		px.slot[1][0].len == 0 && px.slot[0][1].len == 0);
	run_pin(&px, 0, 4, &in, &to_vnf);
	NF_TEST("... a second packet of the same flow writes nothing",
		px.slot[0][0].updates == 1);
	/* the way back, no change by the VNF: exactly what End gives */
	re = run_end(&in, NULL);
	memcpy(end_out, out, (size_t)re);
	back = ex;
	memcpy(back.b, MAC_A, 6);	/* VNF -> proxy */
	memcpy(back.b + 6, to_vnf.dst, 6);
	memcpy(end_out + 6, to_vnf.dst, 6);
	memcpy(end_out, MAC_A, 6);
	put_label(end_out + 14, back.b + 14, 0);
	r = run_pout(0, &back, NULL, o2, sizeof(o2));
	NF_TEST("End.AD out, packet unchanged: the bytes End produces, the packet's flow label",
		r == re && !memcmp(o2, end_out, (size_t)re));
	/* NAT by the VNF: source 10.0.0.1 -> 192.0.2.7, checksum by the VNF */
	{
		uint8_t *ip = back.b + 14;
		unsigned c;

		ip[12] = 192; ip[13] = 0; ip[14] = 2; ip[15] = 7;
		ip[10] = ip[11] = 0;
		c = ref_csum(ip, 20);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		memcpy(end_out + 14 + 96, ip, 40);
		put_label(end_out + 14, ip, 0);		/* the new source's */
		r = run_pout(0, &back, &to_vnf, o2, sizeof(o2));
		memcpy(end_out, to_vnf.dst, 6);
		memcpy(end_out + 6, to_vnf.src, 6);
		NF_TEST("End.AD out after NAT: cached headers + the VNF's packet, IPv4 checksum right",
			r == re && !memcmp(o2, end_out, (size_t)re) &&
			ref_csum(o2 + 14 + 96, 20) == 0);
		NF_TEST("End.AD out: capacity one short: srv6-too-big",
			run_pout(0, &back, NULL, o2, (uint32_t)re - 1) == -NF_SRV6_TOO_BIG);
	}
	/* replica 1 sees another chain (4 segments, VLAN): its own slot */
	{
		struct nf_srv6_sid l4[4];

		wire_list(l4, 4);
		srv6_frame(&in2, 8, 30, S(3), 4, 2, 64, 0);
		r = run_pin(&px, 1, 4, &in2, NULL);
		back.n = 0;
		eth(&back, MAC_A, MAC_B, 8, 0x0800);
		ip4udp(&back, 0, 64, 2, 9, 0);
		ex = in2;
		ex.b[18 + 7] = 29;
		ex.b[18 + 40 + 3] = 1;
		memcpy(ex.b + 18 + 24, &l4[1], 16);
		memcpy(ex.b, MAC_A, 6);
		memcpy(ex.b + 6, MAC_B, 6);
		put_label(ex.b + 18, back.b + 18, 0);
		NF_TEST("End.AD: replica 1 caches its own chain, each returns with its own",
			r == 18 + 28 && same(o2, run_pout(1, &back, NULL, o2, sizeof(o2)), &ex) &&
			px.slot[0][0].len == 96 && px.slot[0][0].updates == 1 &&
			px.slot[1][0].len == 112);
	}
	NF_TEST("End.AD: replica 2 of 2: srv6-proxy-bad-replica (in and out)",
		run_pin(&px, 2, 4, &in, NULL) == -NF_SRV6_BAD_REPLICA &&
		run_pout(2, &back, NULL, o2, sizeof(o2)) == -NF_SRV6_BAD_REPLICA);
	/* IPv6 back with only IPv4 cached */
	back.n = 0;
	eth(&back, MAC_A, MAC_B, 0, 0x86dd);
	ip6udp(&back, 0, 0, 64, 3, 0);
	NF_TEST("End.AD out of IPv6 with only IPv4 cached: srv6-proxy-no-cache",
		run_pout(0, &back, NULL, o2, sizeof(o2)) == -NF_SRV6_NO_CACHE);
	/* IPv6 inner through the proxy */
	wire_list(l, 2);
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x86dd);
	ip6(&in, 0, 0, 40 + 48, 43, 64, SRC, S(2));
	srh(&in, 41, 1, 1, l, 2, NULL, 0);
	ip6udp(&in, 0, 0, 64, 3, 0);
	ex.n = 0;
	eth(&ex, MAC_B, MAC_A, 0, 0x86dd);
	ip6udp(&ex, 0, 0, 64, 3, 0);
	NF_TEST("End.AD in of IPv6: the inner IPv6 packet, hop limit kept",
		same(out, run_pin(&px, 0, 41, &in, NULL), &ex) && px.slot[0][1].len == 80);
	re = run_end(&in, NULL);
	put_label(out + 14, ex.b + 14, 1);
	NF_TEST("End.AD out of IPv6: the bytes End produces, the packet's flow label",
		run_pout(0, &ex, NULL, o2, sizeof(o2)) == re && !memcmp(o2, out, (size_t)re));
	NF_TEST("End.AD in of IPv6 to an IPv4 proxy: srv6-inner-not-ipv4",
		run_pin(&px, 0, 4, &in, NULL) == -NF_SRV6_INNER_NOT_IPV4);
	in.b[21] = 1;
	NF_TEST("End.AD in with hop limit 1: srv6-hop-limit",
		run_pin(&px, 0, 41, &in, NULL) == -NF_SRV6_HOP_LIMIT);
	in.b[21] = 64;
	in.b[54 + 3] = 0;
	NF_TEST("End.AD in with SL 0: srv6-sl-zero",
		run_pin(&px, 0, 41, &in, NULL) == -NF_SRV6_SL_ZERO);
	in.b[54 + 3] = 1;
	in.b[54 + 40 + 5] = 9;	/* inner payload length past the packet */
	NF_TEST("End.AD in with a lying inner length: srv6-inner-malformed",
		run_pin(&px, 0, 41, &in, NULL) == -NF_SRV6_INNER_BAD);
	in.b[54 + 40 + 5] = 8;
	NF_TEST("End.AD in: capacity short: srv6-too-big",
		({ struct nf_hdrs h; int pe; const uint8_t *q = guard(&in, &h, &pe);
		   nf_srv6_proxy_in(&px, 0, 41, q, in.n, &h, NULL, out, 14 + 47) ==
		   -NF_SRV6_TOO_BIG; }));
	/* headers longer than a slot: 16 segments + a 70-byte unknown TLV */
	{
		struct nf_srv6_sid l16[16];
		uint8_t tlv[72] = { 0x80, 70 };

		wire_list(l16, 16);
		in.n = 0;
		eth(&in, MAC_B, MAC_A, 0, 0x86dd);
		ip6(&in, 0, 0, 8 + 256 + 72 + 28, 43, 64, SRC, S(2));
		srh(&in, 4, 3, 15, l16, 16, tlv, 72);
		ip4udp(&in, 0, 64, 2, 9, 0);
		NF_TEST("End.AD in, 376 bytes of headers: srv6-proxy-hdrs-too-big",
			run_pin(&px, 0, 4, &in, NULL) == -NF_SRV6_CACHE_TOO_BIG);
		NF_TEST("... End.AS does not cache: passes",
			run_pin(NULL, 0, 4, &in, NULL) == 14 + 28);
	}
	in.n = 0;
	eth(&in, MAC_B, MAC_A, 0, 0x0806);
	memset(in.b + in.n, 0, 28);
	in.b[in.n + 1] = 1; in.b[in.n + 2] = 8; in.b[in.n + 4] = 6; in.b[in.n + 5] = 4;
	in.n += 28;
	NF_TEST("End.AD out of ARP: srv6-not-ip",
		run_pout(0, &in, NULL, o2, sizeof(o2)) == -NF_SRV6_NOT_IP);

	/* End.AS: in is End + decap, back is the configured policy */
	{
		struct nf_srv6_encap as;
		struct nf_srv6_segs s = segs_n(3);
		uint32_t fl;

		srv6_frame(&in, 0, 64, S(2), 3, 1, 64, 3);
		ex.n = 0;
		eth(&ex, MAC_B, MAC_A, 0, 0x0800);
		ip4udp(&ex, 0, 64, 2, 9, 3);
		NF_TEST("End.AS in: the inner packet, nothing cached",
			same(out, run_pin(NULL, 0, 4, &in, NULL), &ex));
		nf_srv6_encap_init(&as, &SRC, &s, 2, NF_SRV6_ENCAPS);
		fl = ref_label(ex.b + 14, 0, 1);
		wire_list(l, 3);
		back.n = 0;
		eth(&back, MAC_B, MAC_A, 0, 0x86dd);
		ip6(&back, 0, fl, 56 + 31, 43, 64, SRC, S(3));
		srh(&back, 4, 0, 2, l, 3, NULL, 0);
		ip4udp(&back, 0, 64, 2, 9, 3);
		NF_TEST("End.AS out: configured headers (full list, SL 0, DA the next segment)",
			same(out, run_encaps(&as, &ex, sizeof(out)), &back));
	}
}

/* Chains: H.Encaps -> End -> End -> End.DX4 gives back the packet. */
static void test_chain(void)
{
	static const struct nf_srv6_adj adj = { { 2, 0, 0, 0, 0, 0x77 },
						{ 2, 0, 0, 0, 0, 0x66 } };
	struct nf_srv6_encap e;
	struct nf_srv6_segs s = segs_n(3);
	struct fb pkt, cur, ex;
	unsigned red, hop;
	int r;

	for (red = 0; red <= 1; red++) {
		nf_srv6_encap_init(&e, &SRC, &s, 0, red ? NF_SRV6_ENCAPS_RED : NF_SRV6_ENCAPS);
		pkt.n = 0;
		eth(&pkt, MAC_B, MAC_A, 0, 0x0800);
		ip4udp(&pkt, 4, 9, 2, 9, 33);
		r = run_encaps(&e, &pkt, sizeof(out));
		for (hop = 0; hop < 2 && r > 0; hop++) {
			memcpy(cur.b, out, (size_t)r);
			cur.n = (uint32_t)r;
			r = run_end(&cur, NULL);
			if (r > 0 && memcmp(out + 14 + 24, &s.sid[hop + 1], 16))
				r = -99;
		}
		if (r > 0) {
			memcpy(cur.b, out, (size_t)r);
			cur.n = (uint32_t)r;
			r = run_dx(&cur, 4, &adj);
		}
		ex.n = 0;
		eth(&ex, adj.dst, adj.src, 0, 0x0800);
		ip4udp(&ex, 4, 8, 2, 9, 33);
		NF_TEST(red ? "H.Encaps.Red -> End -> End -> End.DX4: the packet, TTL - 1" :
			      "H.Encaps -> End -> End -> End.DX4: the packet, TTL - 1",
			same(out, r, &ex) && cur.b[14 + 7] == 62);
	}
}

/* Every behaviour on every prefix, and on corruptions, of valid frames
 * placed against a PROT_NONE page; results must stay inside OUT. */
static void test_sweep(void)
{
	static const struct nf_srv6_adj adj = { { 1 }, { 2 } };
	struct nf_srv6_segs s = segs_n(16);
	struct nf_srv6_encap e;
	struct fb f[4];
	uint32_t len, runs = 0, bad = 0;
	unsigned k, pos, bit;
	static uint8_t o[512];

	srv6_frame(&f[0], 0, 64, S(2), 3, 1, 64, 10);
	srv6_frame(&f[1], 7, 2, S(2), 16, 15, 2, 0);
	srv6_frame(&f[2], 0, 64, S(2), 2, 0, 64, 1);
	nf_srv6_encap_init(&e, &SRC, &s, 0, NF_SRV6_ENCAPS);
	f[3].n = 0;
	eth(&f[3], MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&f[3], 0, 64, 2, 9, 5);
	nf_srv6_proxy_init(&px, 1);
	for (k = 0; k < 4; k++)
		for (pos = 0; pos <= f[k].n; pos++)
			for (bit = 0; bit < 9; bit++) {
				struct fb g = f[k];
				struct nf_hdrs h;
				int pe, r[8], j;
				const uint8_t *q;

				/* bit 8: a prefix of @pos bytes; else flip */
				if (bit == 8)
					g.n = pos;
				else if (pos < g.n)
					g.b[pos] ^= (uint8_t)(1 << bit);
				else
					continue;
				q = guard(&g, &h, &pe);
				if (pe)
					continue;
				len = g.n;
				r[0] = nf_srv6_end(q, len, &h, &adj, o, sizeof(o));
				r[1] = nf_srv6_end_dx(q, len, &h, 4, &adj, o, sizeof(o));
				r[2] = nf_srv6_end_dx(q, len, &h, 41, NULL, o, sizeof(o));
				r[3] = nf_srv6_proxy_in(&px, 0, 4, q, len, &h, NULL, o, sizeof(o));
				r[4] = nf_srv6_proxy_out(&px, 0, q, len, &h, NULL, o, sizeof(o));
				r[5] = nf_srv6_encaps(&e, q, len, &h, o, sizeof(o));
				r[6] = nf_srv6_icmp_error(q, &h, (enum nf_srv6_drop)(pos % NF_SRV6_DROP_MAX), &SRC,
							  o, sizeof(o));
				{
					struct nf_srv6_view v;

					r[7] = -(int)nf_srv6_srh_parse(q, &h, &v);
				}
				for (j = 0; j < 8; j++)
					if (r[j] > (int)sizeof(o) ||
					    (r[j] < 0 && -r[j] >= NF_SRV6_DROP_MAX))
						bad++;
				runs++;
			}
	printf("# sweep: %u parsed variants\n", runs);
	NF_TEST("sweep: every behaviour on every prefix and bit flip of 4 frames, guarded: results in range",
		bad == 0 && runs > 1000);
}

/* --bench N: the hot behaviours N times each, for callgrind. */
static int bench(long n)
{
	static const struct nf_srv6_adj adj = { { 1 }, { 2 } };
	struct nf_srv6_segs s = segs_n(3);
	struct nf_srv6_encap e;
	struct nf_hdrs hp, hs, hr;
	struct fb plain, srv6, ret;
	uint8_t *o = out;
	long i;
	int pe, sum = 0;

	plain.n = 0;
	eth(&plain, MAC_B, MAC_A, 0, 0x0800);
	ip4udp(&plain, 0, 64, 2, 9, 18);	/* 64-byte frame (+FCS) */
	srv6_frame(&srv6, 0, 64, S(2), 3, 1, 64, 18);
	ret = plain;
	nf_parse(plain.b, plain.n, &hp);
	pe = nf_parse(srv6.b, srv6.n, &hs);
	nf_parse(ret.b, ret.n, &hr);
	nf_srv6_encap_init(&e, &SRC, &s, 0, NF_SRV6_ENCAPS);
	nf_srv6_proxy_init(&px, 1);
	for (i = 0; i < n; i++)
		sum += nf_srv6_encaps(&e, plain.b, plain.n, &hp, o, 2048);
	for (i = 0; i < n; i++)
		sum += nf_srv6_end(srv6.b, srv6.n, &hs, NULL, o, 2048);
	for (i = 0; i < n; i++)
		sum += nf_srv6_end_dx(srv6.b, srv6.n, &hs, 4, &adj, o, 2048);
	for (i = 0; i < n; i++)
		sum += nf_srv6_proxy_in(&px, 0, 4, srv6.b, srv6.n, &hs, &adj, o, 2048);
	for (i = 0; i < n; i++)
		sum += nf_srv6_proxy_out(&px, 0, ret.b, ret.n, &hr, &adj, o, 2048);
	printf("bench done (%d %d)\n", pe, sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--bench"))
		return bench(atol(argv[2]));
	guards_init();
	test_names();
	test_srh_parse();
	test_encaps();
	test_end();
	test_dx();
	test_icmp_error();
	test_proxy();
	test_chain();
	test_sweep();
	return nf_test_report();
}
