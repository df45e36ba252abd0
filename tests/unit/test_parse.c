/* test_parse.c - nf_parse(): one crafted frame per drop reason, exact
 * offsets/lengths/flags of valid frames (tags, IPv4 options and fragments,
 * IPv6 extension-header chains, AH, ESP, every L4, padding), a truncation
 * sweep over every prefix of valid frames, and nf_ipv4_csum_ok().
 *
 * Every parse runs twice, on a copy of the frame that ends where a
 * PROT_NONE page begins and on one that starts right after a PROT_NONE
 * page: a read past the end or before the start of the frame crashes the
 * test. Every parse is also compared with the general parser alone (this
 * file includes nf_parse.c a second time, built with NF_PARSE_SLOW_ONLY
 * and renamed), so the fast path is checked against it on every frame.
 */
#include "harness.h"
#include "nf_csum.h"
#include "nf_parse.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The reference: nf_parse.c without its fast path. */
#define NF_PARSE_SLOW_ONLY
#define nf_parse nf_ref_parse
#define nf_parse_err_name nf_ref_err_name
#define nf_ipv4_csum_ok_slow nf_ref_csum_ok_slow
#include "nf_parse.c"
#undef nf_parse
#undef nf_parse_err_name
#undef nf_ipv4_csum_ok_slow

#define FMAX	(72 * 1024)		/* frames up to here (> 65535) */
#define PAGE	4096u
#define RPAGES	((FMAX + PAGE - 1) / PAGE)

static uint8_t *tail_end;	/* first byte of a PROT_NONE page */
static uint8_t *head_start;	/* first byte after a PROT_NONE page */
static int disagreements;

static void guards_init(void)
{
	size_t sz = (RPAGES + 1) * (size_t)PAGE;
	uint8_t *a = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *b = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED || b == MAP_FAILED ||
	    mprotect(a + RPAGES * (size_t)PAGE, PAGE, PROT_NONE) < 0 ||
	    mprotect(b, PAGE, PROT_NONE) < 0) {
		perror("test_parse: mmap");
		exit(1);
	}
	tail_end = a + RPAGES * (size_t)PAGE;
	head_start = b + PAGE;
}

/* nf_parse() of the first @len bytes of @f, guarded on both sides; the
 * two placements and the reference parser must agree (else counted). */
static enum nf_parse_err gparse(const uint8_t *f, uint32_t len,
				struct nf_hdrs *h)
{
	struct nf_hdrs h2, h3;
	enum nf_parse_err r, r2, r3;
	uint8_t *q = tail_end - len;

	memcpy(q, f, len);
	memset(h, 0xa5, sizeof(*h));	/* every field must be written */
	r = nf_parse(q, len, h);
	memcpy(head_start, f, len);
	memset(&h2, 0x5a, sizeof(h2));
	r2 = nf_parse(head_start, len, &h2);
	r3 = nf_ref_parse(head_start, len, &h3);
	if (r != r2 || r != r3 || memcmp(h, &h2, sizeof(h2)) != 0 ||
	    memcmp(h, &h3, sizeof(h3)) != 0) {
		disagreements++;
		fprintf(stderr, "disagreement at len %u: %d %d %d\n", len, r, r2, r3);
	}
	return r;
}

/* ---- frame building ---- */

struct frame {
	uint8_t b[FMAX];
	uint32_t n;
};

static struct frame F;

static void put(struct frame *f, const void *d, uint32_t n)
{
	memcpy(f->b + f->n, d, n);
	f->n += n;
}

static void put8(struct frame *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static void zeros(struct frame *f, uint32_t n)
{
	memset(f->b + f->n, 0, n);
	f->n += n;
}

static struct frame *eth(uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	memset(&F, 0, sizeof(F));
	put(&F, macs, 12);
	put16(&F, type);
	return &F;
}

static void vlan(struct frame *f, uint16_t tci, uint16_t type)
{
	put16(f, tci);
	put16(f, type);
}

/* IPv4 header with @olen bytes of options (a multiple of 4); the length
 * and checksum are set by ip4_end(). Returns its offset. */
static uint32_t ip4(struct frame *f, uint8_t proto, uint16_t frag,
		    const uint8_t *opts, uint32_t olen)
{
	uint32_t off = f->n;

	put8(f, (uint8_t)(0x40 | (5 + olen / 4)));
	put8(f, 0);
	put16(f, 0);			/* total length */
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);			/* checksum */
	put(f, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	if (olen)
		put(f, opts, olen);
	return off;
}

static void ip4_end(struct frame *f, uint32_t off)
{
	uint32_t ihl = (f->b[off] & 15) * 4u;
	uint16_t c;

	set16(f, off + 2, (uint16_t)(f->n - off));
	f->b[off + 10] = f->b[off + 11] = 0;
	c = nf_csum(f->b + off, ihl);
	memcpy(f->b + off + 10, &c, 2);
}

static uint32_t ip6(struct frame *f, uint8_t next)
{
	uint32_t off = f->n, i;

	put16(f, 0x6000);
	put16(f, 0);
	put16(f, 0);			/* payload length */
	put8(f, next);
	put8(f, 64);
	for (i = 0; i < 32; i++)
		put8(f, (uint8_t)(i == 15 || i == 31 ? i : 0xfe));
	return off;
}

static void ip6_end(struct frame *f, uint32_t off)
{
	set16(f, off + 4, (uint16_t)(f->n - off - 40));
}

/* Hop-by-hop / routing / destination options: (@len8 + 1) * 8 bytes. */
static uint32_t ext6(struct frame *f, uint8_t next, uint8_t len8)
{
	uint32_t off = f->n;

	put8(f, next);
	put8(f, len8);
	zeros(f, (len8 + 1u) * 8 - 2);
	return off;
}

static uint32_t frag6(struct frame *f, uint8_t next, uint16_t off8, int m)
{
	uint32_t off = f->n;

	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)(off8 << 3 | (m ? 1 : 0)));
	put16(f, 0xabcd);
	put16(f, 0x1234);
	return off;
}

static uint32_t ah(struct frame *f, uint8_t next, uint8_t len)
{
	uint32_t off = f->n;

	put8(f, next);
	put8(f, len);
	zeros(f, (len + 2u) * 4 - 2);
	return off;
}

static void udp(struct frame *f, uint32_t payload)
{
	put16(f, 1234);
	put16(f, 53);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
	zeros(f, payload);
}

/* TCP header of @doff words (options: NOPs then EOL), @payload bytes. */
static void tcp(struct frame *f, uint8_t doff, uint32_t payload)
{
	uint32_t i;

	put16(f, 40000);
	put16(f, 80);
	put16(f, 0);
	put16(f, 1);
	put16(f, 0);
	put16(f, 0);
	put8(f, (uint8_t)(doff << 4));
	put8(f, NF_TCP_SYN);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	for (i = 20; i < doff * 4u; i++)
		put8(f, i + 1 < doff * 4u ? 1 : 0);
	zeros(f, payload);
}

static void icmp(struct frame *f, uint8_t type, uint32_t payload)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put16(f, 1);
	put16(f, 2);
	zeros(f, payload);
}

static void arp(struct frame *f, uint16_t hrd, uint16_t pro, uint8_t hln,
		uint8_t pln)
{
	put16(f, hrd);
	put16(f, pro);
	put8(f, hln);
	put8(f, pln);
	put16(f, NF_ARP_OP_REQUEST);
	zeros(f, 20);
}

/* ---- checks ---- */

static struct nf_hdrs H(uint16_t type, uint16_t vlan_id, uint16_t l3_off,
			uint16_t l3_len, uint16_t l4_off, uint16_t l4_len,
			uint8_t proto, uint8_t flags, uint16_t frag_off)
{
	struct nf_hdrs h = {
		.ethertype = type, .vlan = vlan_id, .l3_off = l3_off,
		.l3_len = l3_len, .l4_off = l4_off, .l4_len = l4_len,
		.l4_proto = proto, .flags = flags, .ip6_frag_off = frag_off,
	};

	return h;
}

static int same(const struct nf_hdrs *a, const struct nf_hdrs *b)
{
	return a->ethertype == b->ethertype && a->vlan == b->vlan &&
	       a->l3_off == b->l3_off && a->l3_len == b->l3_len &&
	       a->l4_off == b->l4_off && a->l4_len == b->l4_len &&
	       a->l4_proto == b->l4_proto && a->flags == b->flags &&
	       a->ip6_frag_off == b->ip6_frag_off;
}

static void show(const char *what, const struct nf_hdrs *h)
{
	fprintf(stderr, "  %s: type %#x vlan %u l3 %u+%u l4 %u+%u proto %u "
		"flags %#x frag6 %u\n", what, h->ethertype, h->vlan, h->l3_off,
		h->l3_len, h->l4_off, h->l4_len, h->l4_proto, h->flags,
		h->ip6_frag_off);
}

#define ALL	UINT32_MAX

/* The frame's first @len bytes (ALL: the whole frame) parse OK with
 * exactly @want. */
static int ok_at(const struct frame *f, uint32_t len, struct nf_hdrs want)
{
	struct nf_hdrs h;
	enum nf_parse_err r = gparse(f->b, len == ALL ? f->n : len, &h);

	if (r == NF_PERR_OK && same(&h, &want))
		return 1;
	fprintf(stderr, "  got %s\n", nf_parse_err_name(r));
	show("got", &h);
	show("want", &want);
	return 0;
}

static int ok_as(const struct frame *f, struct nf_hdrs want)
{
	return ok_at(f, ALL, want);
}

/* The frame's first @len bytes (ALL: the whole frame) fail with @e. */
static int fails(const struct frame *f, uint32_t len, enum nf_parse_err e)
{
	struct nf_hdrs h;
	enum nf_parse_err r = gparse(f->b, len == ALL ? f->n : len, &h);

	if (r != e)
		fprintf(stderr, "  got %s, want %s\n", nf_parse_err_name(r),
			nf_parse_err_name(e));
	return r == e;
}

/* Every prefix of the frame: parses, identically to the whole frame,
 * exactly when it holds the whole L3 packet; else fails with a reason. */
static int sweep(const struct frame *f)
{
	struct nf_hdrs full, h;
	uint32_t k, need;
	int bad = 0;

	if (gparse(f->b, f->n, &full) != NF_PERR_OK)
		return 0;
	need = (uint32_t)full.l3_off + full.l3_len;
	for (k = 0; k < f->n; k++) {
		enum nf_parse_err r = gparse(f->b, k, &h);

		if (k >= need ? r != NF_PERR_OK || !same(&h, &full) :
		    r == NF_PERR_OK || r >= NF_PERR_MAX ||
		    (k < NF_ETH_HLEN && r != NF_PERR_ETH_RUNT)) {
			if (bad++ < 3)
				fprintf(stderr, "  prefix %u of %u: %s\n", k,
					f->n, nf_parse_err_name(r));
		}
	}
	return bad == 0;
}

#define L4	NF_HDR_L4
#define FRAG	NF_HDR_FRAG
#define LATER	NF_HDR_FRAG_LATER
#define EXT	NF_HDR_IP6_EXT

static void test_link(void)
{
	struct frame *f;

	f = eth(0x88cc);		/* LLDP: not parsed, fine */
	zeros(f, 46);
	NF_TEST("unknown EtherType: OK, l3_len 0, l4 at l3",
		ok_as(f, H(0x88cc, 0, 14, 0, 14, 0, 0, 0, 0)));
	NF_TEST("13 bytes: eth-runt", fails(f, 13, NF_PERR_ETH_RUNT));
	NF_TEST("0 bytes: eth-runt", fails(f, 0, NF_PERR_ETH_RUNT));
	NF_TEST("14 bytes, unknown type: OK",
		ok_at(f, 14, H(0x88cc, 0, 14, 0, 14, 0, 0, 0, 0)));

	f = eth(NF_ETH_P_VLAN);
	NF_TEST("802.1Q type, no tag: vlan-truncated",
		fails(f, ALL, NF_PERR_VLAN_TRUNC));
	put16(f, 100);
	put8(f, 8);
	NF_TEST("tag cut after 3 bytes: vlan-truncated",
		fails(f, ALL, NF_PERR_VLAN_TRUNC));

	f = eth(NF_ETH_P_QINQ);
	vlan(f, 10, NF_ETH_P_VLAN);
	put16(f, 20);
	NF_TEST("inner tag cut short: vlan-truncated",
		fails(f, ALL, NF_PERR_VLAN_TRUNC));

	f = eth(NF_ETH_P_QINQ);
	vlan(f, 10, NF_ETH_P_VLAN);
	vlan(f, 20, NF_ETH_P_VLAN);
	vlan(f, 30, NF_ETH_P_IPV4);
	zeros(f, 40);
	NF_TEST("three tags: vlan-too-deep", fails(f, ALL, NF_PERR_VLAN_DEPTH));
	NF_TEST("three tags, third cut off: still vlan-too-deep",
		fails(f, 22, NF_PERR_VLAN_DEPTH));

	f = eth(NF_ETH_P_VLAN);
	vlan(f, 0x2000 | 0x1000 | 0xabc, 0x88cc);	/* PCP 1, DEI, VID */
	zeros(f, 42);
	NF_TEST("one tag: vlan = VID only, l3_off 18",
		ok_as(f, H(0x88cc, 0xabc, 18, 0, 18, 0, 0, NF_HDR_VLAN, 0)));
	f = eth(NF_ETH_P_VLAN);
	vlan(f, 0xe000, NF_ETH_P_IPV6);		/* priority tag, VID 0 */
	NF_TEST("priority tag (VID 0): flag set, vlan 0, then ipv6-truncated",
		fails(f, ALL, NF_PERR_IP6_TRUNC));
}

static void test_arp(void)
{
	struct frame *f;

	f = eth(NF_ETH_P_ARP);
	arp(f, 1, NF_ETH_P_IPV4, 6, 4);
	zeros(f, 18);			/* padding to 60 */
	NF_TEST("ARP request: l3_len 28, padding ignored",
		ok_as(f, H(NF_ETH_P_ARP, 0, 14, 28, 42, 0, 0, 0, 0)));
	NF_TEST("ARP sweep", sweep(f));
	NF_TEST("ARP of 27 bytes: arp-truncated",
		fails(f, 14 + 27, NF_PERR_ARP_TRUNC));
	f = eth(NF_ETH_P_ARP);
	arp(f, 6, NF_ETH_P_IPV4, 6, 4);
	NF_TEST("ARP hrd 6: arp-format", fails(f, ALL, NF_PERR_ARP_FORMAT));
	f = eth(NF_ETH_P_ARP);
	arp(f, 1, NF_ETH_P_IPV6, 6, 4);
	NF_TEST("ARP pro IPv6: arp-format", fails(f, ALL, NF_PERR_ARP_FORMAT));
	f = eth(NF_ETH_P_ARP);
	arp(f, 1, NF_ETH_P_IPV4, 8, 4);
	NF_TEST("ARP hln 8: arp-format", fails(f, ALL, NF_PERR_ARP_FORMAT));
	f = eth(NF_ETH_P_ARP);
	arp(f, 1, NF_ETH_P_IPV4, 6, 16);
	NF_TEST("ARP pln 16: arp-format", fails(f, ALL, NF_PERR_ARP_FORMAT));
	f = eth(NF_ETH_P_VLAN);
	vlan(f, 7, NF_ETH_P_ARP);
	arp(f, 1, NF_ETH_P_IPV4, 6, 4);
	NF_TEST("tagged ARP",
		ok_as(f, H(NF_ETH_P_ARP, 7, 18, 28, 46, 0, 0, NF_HDR_VLAN, 0)));
}

static void test_ip4(void)
{
	static const uint8_t nop_eol[4] = { 1, 1, 0, 0x55 };
	static const uint8_t rr[12] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t ts[8] = { 1, 0x44, 7, 5, 0, 0, 0, 0 };
	uint32_t o;
	struct frame *f, keep;

	/* untagged UDP, padded to the Ethernet minimum */
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, 0, NULL, 0);
	udp(f, 10);
	ip4_end(f, o);
	zeros(f, 60 - f->n);
	NF_TEST("IPv4/UDP 60 bytes: l3_len 38, l4 34+18 (padding not counted)",
		ok_as(f, H(0x800, 0, 14, 38, 34, 18, 17, L4, 0)));
	NF_TEST("IPv4/UDP sweep (OK from 52 bytes on)", sweep(f));
	NF_TEST("IPv4 header checksum of the built frame verifies",
		nf_ipv4_csum_ok((const struct nf_ipv4 *)(f->b + 14), 20));
	f->b[14 + 8] ^= 1;		/* TTL */
	NF_TEST("IPv4 checksum after a flipped TTL bit fails",
		!nf_ipv4_csum_ok((const struct nf_ipv4 *)(f->b + 14), 20));
	NF_TEST("reference checksum agrees",
		!nf_ref_csum_ok_slow((const struct nf_ipv4 *)(f->b + 14), 20));
	f->b[14 + 8] ^= 1;
	f->b[14 + 3] = 20 + 4;		/* UDP cut by the IP length */
	NF_TEST("IP length leaves 4 bytes of UDP (frame has more): l4-truncated",
		fails(f, ALL, NF_PERR_L4_TRUNC));
	f->b[14 + 3] = 19;
	NF_TEST("total length 19: ipv4-bad-length", fails(f, ALL, NF_PERR_IP4_TOTLEN));
	f->b[14 + 3] = 47;
	NF_TEST("total length 47 > 46 available: ipv4-bad-length",
		fails(f, ALL, NF_PERR_IP4_TOTLEN));
	f->b[14 + 3] = 46;
	NF_TEST("total length = all 46 bytes: OK",
		ok_as(f, H(0x800, 0, 14, 46, 34, 26, 17, L4, 0)));
	NF_TEST("19 bytes of IPv4: ipv4-truncated", fails(f, 33, NF_PERR_IP4_TRUNC));
	f->b[14] = 0x65;
	NF_TEST("version 6 in an IPv4 frame: ipv4-version",
		fails(f, ALL, NF_PERR_IP4_VERSION));
	f->b[14] = 0x44;
	NF_TEST("IHL 4: ipv4-bad-ihl", fails(f, ALL, NF_PERR_IP4_IHL));
	f->b[14] = 0x4f;
	NF_TEST("IHL 15 (60 bytes) in 46: ipv4-bad-ihl", fails(f, ALL, NF_PERR_IP4_IHL));
	f->b[14] = 0x45;
	f->b[14 + 9] = 47;		/* GRE: not parsed */
	NF_TEST("unknown protocol (GRE): OK, no L4",
		ok_as(f, H(0x800, 0, 14, 46, 34, 26, 47, 0, 0)));
	f->b[14 + 9] = 58;		/* ICMPv6 is not an IPv4 L4 */
	NF_TEST("protocol 58 over IPv4: OK, no L4",
		ok_as(f, H(0x800, 0, 14, 46, 34, 26, 58, 0, 0)));

	/* options */
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, 0, nop_eol, 4);
	udp(f, 4);
	ip4_end(f, o);
	NF_TEST("options NOP NOP EOL (junk after EOL): IP_OPTS, l4 at 38",
		ok_as(f, H(0x800, 0, 14, 36, 38, 12, 17, L4 | NF_HDR_IP_OPTS, 0)));
	NF_TEST("options sweep", sweep(f));
	NF_TEST("checksum over a header with options",
		nf_ipv4_csum_ok((const struct nf_ipv4 *)(f->b + 14), 24));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, NF_IPV4_DF, rr, 12);
	tcp(f, 8, 100);
	ip4_end(f, o);
	NF_TEST("record route (11 bytes + NOP), TCP doff 8, DF: not a fragment",
		ok_as(f, H(0x800, 0, 14, 32 + 32 + 100, 46, 132, 6,
			   L4 | NF_HDR_IP_OPTS, 0)));
	NF_TEST("record-route sweep", sweep(f));
	keep = *f;
	f->b[14 + 21] = 12;		/* exactly the area */
	NF_TEST("record route of the whole 12-byte area: OK",
		gparse(f->b, f->n, &(struct nf_hdrs){ 0 }) == NF_PERR_OK);
	f->b[14 + 21] = 13;		/* option runs past the area */
	NF_TEST("option length past the option area: ipv4-bad-options",
		fails(f, ALL, NF_PERR_IP4_OPTS));
	f->b[14 + 21] = 1;
	NF_TEST("option length 1: ipv4-bad-options", fails(f, ALL, NF_PERR_IP4_OPTS));
	f->b[14 + 21] = 0;
	NF_TEST("option length 0: ipv4-bad-options", fails(f, ALL, NF_PERR_IP4_OPTS));
	*f = keep;
	memset(f->b + 34, 1, 11);	/* NOPs, then a type byte with no length */
	f->b[45] = 0x44;
	NF_TEST("option type in the last byte, no length: ipv4-bad-options",
		fails(f, ALL, NF_PERR_IP4_OPTS));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, 0, (const uint8_t *)"\1\1\1\x44", 4);
	ip4_end(f, o);			/* no payload: the frame ends there */
	NF_TEST("lone option type as the frame's last byte: ipv4-bad-options",
		fails(f, ALL, NF_PERR_IP4_OPTS));
	*f = keep;
	memset(f->b + 34, 1, 12);
	NF_TEST("twelve NOPs: OK",
		ok_as(f, H(0x800, 0, 14, 164, 46, 132, 6, L4 | NF_HDR_IP_OPTS, 0)));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_ICMP, 0, ts, 8);
	icmp(f, NF_ICMP_ECHO, 0);
	ip4_end(f, o);
	NF_TEST("NOP + 7-byte timestamp option running to the end, ICMP echo",
		ok_as(f, H(0x800, 0, 14, 36, 42, 8, 1, L4 | NF_HDR_IP_OPTS, 0)));
	f->b[14 + 22] = 8;
	NF_TEST("the same option one byte too long: ipv4-bad-options",
		fails(f, ALL, NF_PERR_IP4_OPTS));

	/* fragments */
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, NF_IPV4_MF, NULL, 0);
	udp(f, 1472);
	ip4_end(f, o);
	NF_TEST("first fragment (MF, offset 0): FRAG and L4",
		ok_as(f, H(0x800, 0, 14, 1500, 34, 1480, 17, FRAG | L4, 0)));
	NF_TEST("first fragment sweep", sweep(f));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, NF_IPV4_MF | 185, NULL, 0);
	zeros(f, 1480);
	ip4_end(f, o);
	NF_TEST("middle fragment: FRAG|FRAG_LATER, no L4",
		ok_as(f, H(0x800, 0, 14, 1500, 34, 1480, 17, FRAG | LATER, 0)));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, 370, NULL, 0);
	zeros(f, 3);			/* far too short for TCP: not parsed */
	ip4_end(f, o);
	NF_TEST("last fragment of 3 bytes, TCP: FRAG|FRAG_LATER, no L4",
		ok_as(f, H(0x800, 0, 14, 23, 34, 3, 6, FRAG | LATER, 0)));
	NF_TEST("last fragment sweep", sweep(f));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, NF_IPV4_MF, NULL, 0);
	zeros(f, 16);
	ip4_end(f, o);
	NF_TEST("first fragment with 16 bytes of TCP: l4-truncated",
		fails(f, ALL, NF_PERR_L4_TRUNC));

	/* L4 */
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, 0, NULL, 0);
	tcp(f, 5, 0);
	ip4_end(f, o);
	zeros(f, 6);
	NF_TEST("TCP doff 5, no payload, padded: OK",
		ok_as(f, H(0x800, 0, 14, 40, 34, 20, 6, L4, 0)));
	NF_TEST("TCP sweep", sweep(f));
	f->b[34 + 12] = 0x40;
	NF_TEST("TCP doff 4: tcp-bad-offset", fails(f, ALL, NF_PERR_TCP_DOFF));
	f->b[34 + 12] = 0x60;
	NF_TEST("TCP doff 6 with 20 bytes (padding does not count): tcp-bad-offset",
		fails(f, ALL, NF_PERR_TCP_DOFF));
	f->b[34 + 12] = 0xf0;
	NF_TEST("TCP doff 15: tcp-bad-offset", fails(f, ALL, NF_PERR_TCP_DOFF));
	f->b[34 + 12] = 0x50;
	f->b[14 + 3] = 39;
	NF_TEST("19 bytes of TCP: l4-truncated", fails(f, ALL, NF_PERR_L4_TRUNC));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, 0, NULL, 0);
	tcp(f, 15, 10);
	ip4_end(f, o);
	NF_TEST("TCP doff 15 (40 bytes of options) and 10 of data",
		ok_as(f, H(0x800, 0, 14, 90, 34, 70, 6, L4, 0)));
	NF_TEST("TCP with options sweep", sweep(f));
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_ICMP, 0, NULL, 0);
	icmp(f, NF_ICMP_ECHO, 56);
	ip4_end(f, o);
	NF_TEST("ICMP echo 84 bytes", ok_as(f, H(0x800, 0, 14, 84, 34, 64, 1, L4, 0)));
	NF_TEST("ICMP sweep", sweep(f));
	f->b[14 + 3] = 27;
	NF_TEST("7 bytes of ICMP: l4-truncated", fails(f, ALL, NF_PERR_L4_TRUNC));
	f->b[14 + 3] = 28;
	f->b[14 + 9] = NF_IPPROTO_UDP;
	NF_TEST("UDP of exactly 8 bytes in a longer frame: OK",
		ok_as(f, H(0x800, 0, 14, 28, 34, 8, 17, L4, 0)));
	f->b[14 + 3] = 27;
	NF_TEST("7 bytes of UDP: l4-truncated", fails(f, ALL, NF_PERR_L4_TRUNC));

	/* tags */
	f = eth(NF_ETH_P_VLAN);
	vlan(f, 100, NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, 0, NULL, 0);
	udp(f, 18);
	ip4_end(f, o);
	NF_TEST("802.1Q VID 100, IPv4/UDP: l3_off 18",
		ok_as(f, H(0x800, 100, 18, 46, 38, 26, 17, L4 | NF_HDR_VLAN, 0)));
	NF_TEST("802.1Q sweep", sweep(f));
	f = eth(NF_ETH_P_QINQ);
	vlan(f, 10, NF_ETH_P_VLAN);
	vlan(f, 20, NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_TCP, 0, nop_eol, 4);
	tcp(f, 6, 0);
	ip4_end(f, o);
	NF_TEST("802.1ad 10 + 802.1Q 20, IPv4 options, TCP: outer VID, l3_off 22",
		ok_as(f, H(0x800, 10, 22, 48, 46, 24, 6,
			   L4 | NF_HDR_VLAN | NF_HDR_IP_OPTS, 0)));
	NF_TEST("QinQ sweep", sweep(f));

	/* a frame longer than 65535 bytes: offsets still fit */
	f = eth(NF_ETH_P_IPV4);
	o = ip4(f, NF_IPPROTO_UDP, 0, NULL, 0);
	udp(f, 100);
	ip4_end(f, o);
	zeros(f, 70000 - f->n);
	NF_TEST("IPv4 in a 70000-byte frame (padding): OK",
		ok_as(f, H(0x800, 0, 14, 128, 34, 108, 17, L4, 0)));
}

static void test_ip6(void)
{
	uint32_t o, e1, fr;
	struct frame *f;
	int i;

	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_UDP);
	udp(f, 12);
	ip6_end(f, o);
	NF_TEST("IPv6/UDP: l3_len 60, l4 54+20",
		ok_as(f, H(0x86dd, 0, 14, 60, 54, 20, 17, L4, 0)));
	NF_TEST("IPv6/UDP sweep", sweep(f));
	zeros(f, 10);
	NF_TEST("IPv6/UDP with 10 bytes of padding",
		ok_as(f, H(0x86dd, 0, 14, 60, 54, 20, 17, L4, 0)));
	NF_TEST("padded IPv6 sweep", sweep(f));
	NF_TEST("39 bytes of IPv6: ipv6-truncated", fails(f, 53, NF_PERR_IP6_TRUNC));
	set16(f, 18, 31);
	NF_TEST("payload length 31 > 30 available: ipv6-bad-length",
		fails(f, 14 + 40 + 30, NF_PERR_IP6_PLEN));
	set16(f, 18, 20);
	f->b[14] = 0x40;
	NF_TEST("version 4 in an IPv6 frame: ipv6-version",
		fails(f, ALL, NF_PERR_IP6_VERSION));
	f->b[14] = 0x6f;		/* traffic class bits do not matter */
	NF_TEST("version 6 with traffic class 0xf0: OK",
		ok_as(f, H(0x86dd, 0, 14, 60, 54, 20, 17, L4, 0)));
	f->b[14] = 0x60;
	f->b[20] = 135;			/* mobility header: upper layer here */
	NF_TEST("next header 135 (not walked): OK, no L4",
		ok_as(f, H(0x86dd, 0, 14, 60, 54, 20, 135, 0, 0)));
	f->b[20] = NF_IPPROTO_UDP;
	set16(f, 18, 7);
	NF_TEST("7 bytes of UDP: l4-truncated", fails(f, ALL, NF_PERR_L4_TRUNC));

	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_ICMPV6);
	icmp(f, NF_ICMP6_ECHO_REQUEST, 56);
	ip6_end(f, o);
	NF_TEST("ICMPv6 echo", ok_as(f, H(0x86dd, 0, 14, 104, 54, 64, 58, L4, 0)));
	NF_TEST("ICMPv6 sweep", sweep(f));
	set16(f, 18, 7);
	NF_TEST("7 bytes of ICMPv6: l4-truncated", fails(f, ALL, NF_PERR_L4_TRUNC));
	f->b[20] = NF_IPPROTO_ICMP;
	NF_TEST("protocol 1 over IPv6: OK, no L4",
		ok_as(f, H(0x86dd, 0, 14, 47, 54, 7, 1, 0, 0)));

	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_TCP);
	tcp(f, 10, 7);
	ip6_end(f, o);
	NF_TEST("IPv6/TCP doff 10", ok_as(f, H(0x86dd, 0, 14, 87, 54, 47, 6, L4, 0)));
	NF_TEST("IPv6/TCP sweep", sweep(f));
	f->b[54 + 12] = 0xc0;
	NF_TEST("IPv6 TCP doff 12 > 47 bytes: tcp-bad-offset",
		fails(f, ALL, NF_PERR_TCP_DOFF));

	/* the four-header chain of the brief, first fragment */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_HOPOPTS);
	e1 = ext6(f, NF_IPPROTO_ROUTING, 0);
	ext6(f, NF_IPPROTO_DSTOPTS, 2);
	ext6(f, NF_IPPROTO_FRAGMENT, 1);
	fr = frag6(f, NF_IPPROTO_UDP, 0, 1);
	udp(f, 100);
	ip6_end(f, o);
	NF_TEST("hop-by-hop + routing(24) + dest(16) + frag(M) + UDP",
		ok_as(f, H(0x86dd, 0, 14, 40 + 8 + 24 + 16 + 8 + 108,
			   54 + 56, 108, 17, EXT | FRAG | L4, (uint16_t)fr)));
	NF_TEST("chain sweep", sweep(f));
	NF_TEST("fragment header at 102", fr == 102 && e1 == 54);
	f->b[fr + 2] = 0x01;		/* offset 32 * 8 */
	NF_TEST("the same, later fragment: stops at the fragment header",
		ok_as(f, H(0x86dd, 0, 14, 204, 110, 108, 17,
			   EXT | FRAG | LATER, (uint16_t)fr)));
	f->b[fr + 2] = 0;
	f->b[fr + 3] = 0;		/* offset 0, M clear: atomic */
	NF_TEST("atomic fragment (offset 0, M 0): not FRAG, L4 parsed",
		ok_as(f, H(0x86dd, 0, 14, 204, 110, 108, 17, EXT | L4, (uint16_t)fr)));
	set16(f, 18, 8 + 24 + 16 + 7);
	NF_TEST("payload ends inside the fragment header: ipv6-ext-truncated",
		fails(f, ALL, NF_PERR_IP6_EXT_TRUNC));
	set16(f, 18, 8 + 24 + 15);
	NF_TEST("payload ends inside dest-opts: ipv6-ext-truncated",
		fails(f, ALL, NF_PERR_IP6_EXT_TRUNC));
	set16(f, 18, 1);
	NF_TEST("payload of 1 byte with hop-by-hop next: ipv6-ext-truncated",
		fails(f, ALL, NF_PERR_IP6_EXT_TRUNC));
	NF_TEST("... and the frame ending after that byte: ipv6-ext-truncated",
		fails(f, 14 + 40 + 1, NF_PERR_IP6_EXT_TRUNC));
	set16(f, 18, 0);
	NF_TEST("payload length 0 with hop-by-hop (jumbogram): ipv6-bad-length",
		fails(f, ALL, NF_PERR_IP6_PLEN));
	f->b[20] = NF_IPPROTO_NONE;
	NF_TEST("payload length 0, no next header: OK, l3_len 40",
		ok_as(f, H(0x86dd, 0, 14, 40, 54, 0, 59, 0, 0)));

	/* hop-by-hop not first: accepted */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_DSTOPTS);
	ext6(f, NF_IPPROTO_HOPOPTS, 0);
	ext6(f, NF_IPPROTO_ICMPV6, 0);
	icmp(f, NF_ICMP6_ECHO_REPLY, 0);
	ip6_end(f, o);
	NF_TEST("hop-by-hop after dest-opts: accepted",
		ok_as(f, H(0x86dd, 0, 14, 64, 70, 8, 58, EXT | L4, 0)));

	/* AH, ESP */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_AH);
	ah(f, NF_IPPROTO_TCP, 4);	/* (4 + 2) * 4 = 24 bytes */
	tcp(f, 5, 0);
	ip6_end(f, o);
	NF_TEST("AH (24 bytes) + TCP", ok_as(f, H(0x86dd, 0, 14, 84, 78, 20, 6,
						    EXT | L4, 0)));
	NF_TEST("AH sweep", sweep(f));
	f->b[55] = 5;			/* 28 bytes: TCP header now too short */
	NF_TEST("AH 4 bytes longer: 16 bytes left for TCP, l4-truncated",
		fails(f, ALL, NF_PERR_L4_TRUNC));
	f->b[55] = 9;			/* 44 bytes: the whole payload */
	NF_TEST("AH of the whole payload, nothing left for TCP: l4-truncated",
		fails(f, ALL, NF_PERR_L4_TRUNC));
	f->b[55] = 10;
	NF_TEST("AH past the payload: ipv6-ext-truncated",
		fails(f, ALL, NF_PERR_IP6_EXT_TRUNC));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_HOPOPTS);
	ext6(f, NF_IPPROTO_ESP, 0);
	zeros(f, 64);			/* SPI, sequence, encrypted */
	ip6_end(f, o);
	NF_TEST("hop-by-hop + ESP: l4_proto 50, no L4",
		ok_as(f, H(0x86dd, 0, 14, 112, 62, 64, 50, EXT, 0)));
	NF_TEST("ESP sweep", sweep(f));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_ESP);
	zeros(f, 3);
	ip6_end(f, o);
	NF_TEST("ESP directly, 3 bytes: OK (not parsed)",
		ok_as(f, H(0x86dd, 0, 14, 43, 54, 3, 50, 0, 0)));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_FRAGMENT);
	frag6(f, NF_IPPROTO_UDP, 0, 1);
	udp(f, 0);
	ip6_end(f, o);
	NF_TEST("fragment header first, M set, UDP",
		ok_as(f, H(0x86dd, 0, 14, 56, 62, 8, 17, EXT | FRAG | L4, 54)));
	set16(f, 18, 7);
	NF_TEST("fragment header of 7 bytes: ipv6-ext-truncated",
		fails(f, ALL, NF_PERR_IP6_EXT_TRUNC));
	set16(f, 18, 12);
	NF_TEST("first fragment with 4 bytes of UDP: l4-truncated",
		fails(f, ALL, NF_PERR_L4_TRUNC));

	/* several fragment headers: the one that makes a fragment counts */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_FRAGMENT);
	frag6(f, NF_IPPROTO_FRAGMENT, 0, 0);		/* atomic, at 54 */
	frag6(f, NF_IPPROTO_UDP, 3, 0);		/* last fragment, at 62 */
	zeros(f, 16);
	ip6_end(f, o);
	NF_TEST("atomic then later fragment header: ip6_frag_off is the later",
		ok_as(f, H(0x86dd, 0, 14, 72, 70, 16, 17, EXT | FRAG | LATER, 62)));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_FRAGMENT);
	frag6(f, NF_IPPROTO_FRAGMENT, 0, 1);		/* first fragment */
	frag6(f, NF_IPPROTO_UDP, 0, 0);		/* atomic */
	udp(f, 0);
	ip6_end(f, o);
	NF_TEST("M-set then atomic fragment header: ip6_frag_off is the first",
		ok_as(f, H(0x86dd, 0, 14, 64, 70, 8, 17, EXT | FRAG | L4, 54)));

	/* chain length */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_DSTOPTS);
	for (i = 0; i < 7; i++)
		ext6(f, NF_IPPROTO_DSTOPTS, 0);
	ext6(f, NF_IPPROTO_UDP, 0);
	udp(f, 0);
	ip6_end(f, o);
	NF_TEST("8 extension headers: OK",
		ok_as(f, H(0x86dd, 0, 14, 112, 118, 8, 17, EXT | L4, 0)));
	NF_TEST("8-header sweep", sweep(f));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_DSTOPTS);
	for (i = 0; i < 8; i++)
		ext6(f, NF_IPPROTO_DSTOPTS, 0);
	ext6(f, NF_IPPROTO_UDP, 0);
	udp(f, 0);
	ip6_end(f, o);
	NF_TEST("9 extension headers: ipv6-ext-chain",
		fails(f, ALL, NF_PERR_IP6_EXT_CHAIN));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_FRAGMENT);
	for (i = 0; i < 8; i++)
		frag6(f, NF_IPPROTO_FRAGMENT, 0, 0);
	frag6(f, NF_IPPROTO_NONE, 0, 0);
	ip6_end(f, o);
	NF_TEST("9 atomic fragment headers: ipv6-ext-chain",
		fails(f, ALL, NF_PERR_IP6_EXT_CHAIN));

	/* tagged */
	f = eth(NF_ETH_P_QINQ);
	vlan(f, 4095, NF_ETH_P_VLAN);
	vlan(f, 1, NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_ROUTING);
	ext6(f, NF_IPPROTO_UDP, 0);
	udp(f, 1);
	ip6_end(f, o);
	NF_TEST("QinQ 4095/1, IPv6 routing + UDP",
		ok_as(f, H(0x86dd, 4095, 22, 57, 70, 9, 17,
			   NF_HDR_VLAN | EXT | L4, 0)));
	NF_TEST("QinQ IPv6 sweep", sweep(f));

	/* sizes around 16 bits: l3_len = 40 + payload must fit */
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_UDP);
	udp(f, 65535 - 14 - 40 - 8);
	ip6_end(f, o);
	NF_TEST("IPv6 frame of exactly 65535 bytes: OK",
		ok_as(f, H(0x86dd, 0, 14, 65521, 54, 65481, 17, L4, 0)));
	zeros(f, 4000);
	NF_TEST("the same with 4000 bytes of padding: OK",
		ok_as(f, H(0x86dd, 0, 14, 65521, 54, 65481, 17, L4, 0)));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_UDP);
	udp(f, 65536 - 14 - 40 - 8);
	ip6_end(f, o);
	NF_TEST("IPv6 packet ending at offset 65536: ipv6-bad-length",
		fails(f, ALL, NF_PERR_IP6_PLEN));
	f = eth(NF_ETH_P_IPV6);
	o = ip6(f, NF_IPPROTO_UDP);
	udp(f, 65535 - 8);
	ip6_end(f, o);
	NF_TEST("IPv6 payload length 65535 (l3_len would not fit): ipv6-bad-length",
		fails(f, ALL, NF_PERR_IP6_PLEN));
}

static void test_names(void)
{
	int e, f, distinct = 1, nonempty = 1;

	for (e = 0; e < NF_PERR_MAX; e++) {
		const char *n = nf_parse_err_name((enum nf_parse_err)e);

		if (n == NULL || n[0] == '\0')
			nonempty = 0;
		for (f = 0; f < e && n != NULL; f++)
			if (strcmp(n, nf_parse_err_name((enum nf_parse_err)f)) == 0)
				distinct = 0;
	}
	NF_TEST("every reason has a name", nonempty);
	NF_TEST("names are distinct", distinct);
	NF_TEST("names from the list",
		strcmp(nf_parse_err_name(NF_PERR_OK), "ok") == 0 &&
		strcmp(nf_parse_err_name(NF_PERR_TCP_DOFF), "tcp-bad-offset") == 0 &&
		strcmp(nf_parse_err_name(NF_PERR_IP6_EXT_CHAIN), "ipv6-ext-chain") == 0);
	NF_TEST("out-of-range reason: a name, not NULL",
		nf_parse_err_name(NF_PERR_MAX) != NULL &&
		nf_parse_err_name((enum nf_parse_err)-1) != NULL);
}

static void test_csum(void)
{
	uint8_t hdr[24] = { 0x46, 0, 0, 24, 0, 1, 0x40, 0, 64, 1, 0, 0,
			    192, 168, 1, 1, 192, 168, 1, 2, 0x94, 4, 0, 0 };
	uint16_t c = nf_csum(hdr, 24);

	memcpy(hdr + 10, &c, 2);
	NF_TEST("checksum of a 24-byte header with router alert verifies",
		nf_ipv4_csum_ok((const struct nf_ipv4 *)hdr, 24));
	hdr[23] ^= 0x80;
	NF_TEST("corrupted option byte: checksum fails",
		!nf_ipv4_csum_ok((const struct nf_ipv4 *)hdr, 24));
	hdr[23] ^= 0x80;
	memset(hdr + 10, 0, 2);
	NF_TEST("zero checksum field of a non-zero header fails",
		!nf_ipv4_csum_ok((const struct nf_ipv4 *)hdr, 24));
	/* RFC 1071 example-like header (Wikipedia's): c0a8 0001 ... b861 */
	{
		static const uint8_t w[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0,
					       0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
					       0, 1, 0xc0, 0xa8, 0, 0xc7 };

		NF_TEST("a known good header (checksum 0xb861) verifies",
			nf_ipv4_csum_ok((const struct nf_ipv4 *)w, 20));
	}
}

int main(void)
{
	guards_init();
	test_link();
	test_arp();
	test_ip4();
	test_ip6();
	test_names();
	test_csum();
	NF_TEST("every parse: both guarded placements and the reference agree",
		disagreements == 0);
	return nf_test_report();
}
