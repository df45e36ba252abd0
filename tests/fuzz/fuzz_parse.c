/* fuzz_parse.c - libFuzzer target: nf_parse() on arbitrary frames.
 *
 * The input is the frame. It is parsed twice, once copied so that it ends
 * where a PROT_NONE page begins (a read past the end faults) and once so
 * that it starts right after a PROT_NONE page (a read before the start
 * faults), and a third time by the general parser alone (nf_parse.c built
 * again here with NF_PARSE_SLOW_ONLY, renamed): the three results must be
 * identical, so the fast path is checked against the slow one. On success
 * the recorded headers are checked against the frame's own fields (see
 * check_ok()); any violation abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_parse tests/fuzz/corpus/parse
 *   seeds: python3 tests/fuzz/make_parse_corpus.py
 */
#include "fuzz.h"
#include "nf_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NF_PARSE_SLOW_ONLY
#define nf_parse nf_ref_parse
#define nf_parse_err_name nf_ref_err_name
#define nf_ipv4_csum_ok_slow nf_ref_csum_ok_slow
#include "nf_parse.c"
#undef nf_parse
#undef nf_parse_err_name
#undef nf_ipv4_csum_ok_slow

#define PAGE	4096u
#define MAXF	(80u * 1024)		/* longer inputs are cut here */

static uint8_t *tail_end, *head_start;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t sz = MAXF + PAGE;
	uint8_t *a = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *b = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)argc;
	(void)argv;
	if (a == MAP_FAILED || b == MAP_FAILED ||
	    mprotect(a + MAXF, PAGE, PROT_NONE) < 0 ||
	    mprotect(b, PAGE, PROT_NONE) < 0) {
		perror("fuzz harness: mmap");
		abort();
	}
	tail_end = a + MAXF;
	head_start = b + PAGE;
	return 0;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* @h from a successful parse of @p (@len bytes) against the frame. */
static void check_ok(const uint8_t *p, uint32_t len, const struct nf_hdrs *h)
{
	uint32_t l3 = h->l3_off, l3_end = l3 + h->l3_len;
	uint32_t l4 = h->l4_off, l4_end = l4 + h->l4_len;
	uint8_t fl = h->flags;

	/* link layer */
	CHECK(len >= NF_ETH_HLEN);
	CHECK(l3 == 14 || l3 == 18 || l3 == 22);
	CHECK(!!(fl & NF_HDR_VLAN) == (l3 > 14));
	CHECK(l3 > 14 || h->vlan == 0);
	CHECK(h->vlan <= 0xfff);
	if (l3 > 14)
		CHECK(h->vlan == (be16(p + 14) & 0xfff));
	CHECK(h->ethertype == be16(p + l3 - 2));
	CHECK(h->ethertype != NF_ETH_P_VLAN && h->ethertype != NF_ETH_P_QINQ);
	/* everything inside the frame, L4 inside L3 */
	CHECK(l3_end <= len);
	CHECK(l4 >= l3 && l4_end == l3_end);
	CHECK(!(fl & NF_HDR_FRAG_LATER) || (fl & NF_HDR_FRAG));
	CHECK(!(fl & NF_HDR_FRAG_LATER) || !(fl & NF_HDR_L4));

	switch (h->ethertype) {
	case NF_ETH_P_ARP:
		CHECK(h->l3_len == 28 && l4 == l3 + 28);
		CHECK(be16(p + l3) == 1 && be16(p + l3 + 2) == NF_ETH_P_IPV4 &&
		      p[l3 + 4] == 6 && p[l3 + 5] == 4);
		CHECK(fl == (fl & NF_HDR_VLAN) && h->l4_proto == 0);
		break;
	case NF_ETH_P_IPV4: {
		uint32_t ihl = (p[l3] & 15) * 4u, fo = be16(p + l3 + 6);

		CHECK(p[l3] >> 4 == 4 && ihl >= 20);
		CHECK(h->l3_len == be16(p + l3 + 2));
		CHECK(l4 == l3 + ihl);
		CHECK(h->l4_proto == p[l3 + 9]);
		CHECK(!!(fl & NF_HDR_IP_OPTS) == (ihl > 20));
		CHECK(!!(fl & NF_HDR_FRAG) == !!(fo & 0x3fff));
		CHECK(!!(fl & NF_HDR_FRAG_LATER) == !!(fo & 0x1fff));
		CHECK(!(fl & NF_HDR_IP6_EXT) && h->ip6_frag_off == 0);
		break;
	}
	case NF_ETH_P_IPV6:
		CHECK(p[l3] >> 4 == 6);
		CHECK(h->l3_len == 40 + be16(p + l3 + 4));
		CHECK(l4 >= l3 + 40);
		CHECK(!(fl & NF_HDR_IP_OPTS));
		CHECK(!!(fl & NF_HDR_IP6_EXT) == (l4 > l3 + 40));
		if (h->ip6_frag_off) {
			uint32_t fr = h->ip6_frag_off;

			uint32_t fo = be16(p + fr + 2);

			/* the header that makes the packet a fragment */
			CHECK(fr >= l3 + 40 && fr + 8 <= l4);
			CHECK(!!(fl & NF_HDR_FRAG) == !!(fo & 0xfff9));
			CHECK(!!(fl & NF_HDR_FRAG_LATER) == !!(fo & 0xfff8));
			if (fl & NF_HDR_FRAG_LATER)
				CHECK(fr + 8 == l4 && h->l4_proto == p[fr]);
		} else {
			CHECK(!(fl & (NF_HDR_FRAG | NF_HDR_FRAG_LATER)));
		}
		if (l4 == l3 + 40)
			CHECK(h->l4_proto == p[l3 + 6]);
		break;
	default:
		CHECK(h->l3_len == 0 && l4 == l3 && h->l4_len == 0);
		CHECK(h->l4_proto == 0 && fl == (fl & NF_HDR_VLAN));
		CHECK(h->ip6_frag_off == 0);
		return;
	}
	/* L4: parsed exactly when it is one of ours and not a later fragment */
	{
		int v6 = h->ethertype == NF_ETH_P_IPV6;
		int known = h->l4_proto == NF_IPPROTO_UDP ||
			    h->l4_proto == NF_IPPROTO_TCP ||
			    h->l4_proto == (v6 ? NF_IPPROTO_ICMPV6 : NF_IPPROTO_ICMP);

		if (h->ethertype != NF_ETH_P_ARP)
			CHECK(!!(fl & NF_HDR_L4) ==
			      (known && !(fl & NF_HDR_FRAG_LATER)));
	}
	if (fl & NF_HDR_L4) {
		CHECK(h->l4_len >= (h->l4_proto == NF_IPPROTO_TCP ? 20 : 8));
		if (h->l4_proto == NF_IPPROTO_TCP) {
			uint32_t doff = (p[l4 + 12] >> 4) * 4u;

			CHECK(doff >= 20 && doff <= h->l4_len);
		}
	}
	if (h->ethertype == NF_ETH_P_IPV4) {
		unsigned ihl = (p[l3] & 15) * 4u;

		CHECK(nf_ipv4_csum_ok((const struct nf_ipv4 *)(p + l3), ihl) ==
		      nf_ref_csum_ok_slow((const struct nf_ipv4 *)(p + l3), ihl));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > MAXF ? MAXF : (uint32_t)size;
	uint8_t *q = tail_end - len;
	struct nf_hdrs h, h2, h3;
	enum nf_parse_err r, r2, r3;

	memcpy(q, data, len);
	memcpy(head_start, data, len);
	memset(&h, 0xa5, sizeof(h));
	memset(&h2, 0x5a, sizeof(h2));
	r = nf_parse(q, len, &h);
	r2 = nf_parse(head_start, len, &h2);
	r3 = nf_ref_parse(head_start, len, &h3);
	CHECK(r == r2 && r == r3);
	CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
	CHECK(memcmp(&h, &h3, sizeof(h)) == 0);
	CHECK((unsigned)r < NF_PERR_MAX);
	CHECK(nf_parse_err_name(r)[0] != '\0');
	if (r == NF_PERR_OK)
		check_ok(q, len, &h);
	else if (r > NF_PERR_VLAN_DEPTH)	/* the link layer parsed */
		CHECK(h.l3_off >= 14 && h.l3_off <= len);
	else
		CHECK(h.l3_off == 0);
	return 0;
}
