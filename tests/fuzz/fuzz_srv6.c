/* fuzz_srv6.c - libFuzzer target: every nf_srv6 behaviour on arbitrary
 * frames.
 *
 * The input is the frame, copied so that it ends where a PROT_NONE page
 * begins (a read past the end faults) and parsed by nf_parse(); a frame
 * that parses goes through the SRH parser, H.Encaps (full, reduced, L2),
 * End, End.X, End.DX4/DX6/DT4/DT6, the ICMPv6 error for every drop reason,
 * End.AS and End.AD in, End.AD out. Invariants (abort() when broken):
 * reasons in range, results inside OUT, a parsed SRH inside the IPv6 packet
 * with SL <= last entry + 1; End's result has the same length as the IPv6
 * packet, SL one less, hop limit one less, the DA from the list; an error
 * goes to the packet's source, quoting it, within 1280 bytes;
 * decapsulations give a packet that nf_parse() accepts; what End.AD cached
 * comes back on its way out with a payload length that adds up.
 *
 *   make fuzz-build && build/fuzz/fuzz_srv6 tests/fuzz/corpus/srv6
 *   seeds: python3 tests/fuzz/make_srv6_corpus.py
 */
#include "fuzz.h"
#include "nf_parse.h"
#include "nf_srv6.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE	4096u
#define MAXF	(80u * 1024)

static uint8_t *tail_end;
static uint8_t out[MAXF + 1024], out2[MAXF + 1024];
static struct nf_srv6_encap enc[3];
static struct nf_srv6_proxy px;
static const struct nf_srv6_sid src6 = { { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 } };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t *a = mmap(NULL, MAXF + PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct nf_srv6_segs s = { .n = 3 };
	struct nf_srv6_sid src = { { 0xfd, 0 } };
	unsigned i;

	(void)argc;
	(void)argv;
	if (a == MAP_FAILED || mprotect(a + MAXF, PAGE, PROT_NONE) < 0) {
		perror("fuzz harness: mmap");
		abort();
	}
	tail_end = a + MAXF;
	for (i = 0; i < 3; i++) {
		s.sid[i].b[0] = 0xfc;
		s.sid[i].b[15] = (uint8_t)(i + 1);
	}
	CHECK(nf_srv6_encap_init(&enc[0], &src, &s, 0, NF_SRV6_ENCAPS) == 0);
	CHECK(nf_srv6_encap_init(&enc[1], &src, &s, 0, NF_SRV6_ENCAPS_RED) == 0);
	CHECK(nf_srv6_encap_init(&enc[2], &src, &s, 0, NF_SRV6_ENCAPS_L2) == 0);
	CHECK(nf_srv6_proxy_init(&px, 2) == 0);
	return 0;
}

static void reason_ok(int r)
{
	CHECK(r <= (int)sizeof(out));
	CHECK(r != 0);
	if (r < 0)
		CHECK(-r < NF_SRV6_DROP_MAX && nf_srv6_drop_name(-r)[0] == 's');
}

/* A result is Ethernet (tags as in @h) + one IP packet of @etype whose
 * length field covers exactly the rest. */
static void parses(const uint8_t *o, int r, const struct nf_hdrs *h,
		   uint16_t etype)
{
	uint32_t l3 = etype == NF_ETH_P_IPV6 && o[12] == 0x86 ? 14 : h->l3_off;
	const uint8_t *ip = o + l3;

	CHECK((uint32_t)r >= l3 + 20);
	CHECK((o[l3 - 2] << 8 | o[l3 - 1]) == etype);
	if (etype == NF_ETH_P_IPV4)
		CHECK(ip[0] >> 4 == 4 && (uint32_t)(ip[2] << 8 | ip[3]) == r - l3);
	else
		CHECK(ip[0] >> 4 == 6 && 40u + (ip[4] << 8 | ip[5]) == r - l3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nf_srv6_adj adj = { { 2, 0, 0, 0, 0, 1 },
						{ 2, 0, 0, 0, 0, 2 } };
	uint32_t len = size > MAXF ? MAXF : (uint32_t)size;
	uint8_t *q = tail_end - len;
	struct nf_srv6_view v;
	enum nf_srv6_drop pr;
	struct nf_hdrs h;
	unsigned i;
	int r;

	memcpy(q, data, len);
	if (nf_parse(q, len, &h) != NF_PERR_OK)
		return 0;

	pr = nf_srv6_srh_parse(q, &h, &v);
	CHECK((unsigned)pr < NF_SRV6_DROP_MAX);
	if (pr == NF_SRV6_OK) {
		CHECK(v.srh_off >= h.l3_off + 40);
		CHECK(v.srh_off + (uint32_t)v.srh_len <= h.l3_off + (uint32_t)h.l3_len);
		CHECK(v.sl <= v.last + 1u);
		CHECK(v.tlv_off == v.srh_off + 8 + 16 * (v.last + 1u));
		CHECK(v.tlv_off <= v.srh_off + v.srh_len);
	}

	for (i = 0; i < 3; i++) {
		r = nf_srv6_encaps(&enc[i], q, len, &h, out, sizeof(out));
		reason_ok(r);
		if (r > 0)
			parses(out, r, &h, NF_ETH_P_IPV6);
	}

	r = nf_srv6_end(q, len, &h, len & 1 ? &adj : NULL, out, sizeof(out));
	reason_ok(r);
	CHECK((r > 0) == (pr == NF_SRV6_OK && v.sl > 0 && q[h.l3_off + 7] > 1));
	if (r > 0) {
		CHECK((uint32_t)r == h.l3_off + (uint32_t)h.l3_len);
		CHECK(out[h.l3_off + 7] == q[h.l3_off + 7] - 1);
		CHECK(out[v.srh_off + 3] == v.sl - 1);
		CHECK(!memcmp(out + h.l3_off + 24, nf_srv6_seg(q, &v, v.sl - 1u), 16));
		CHECK(!memcmp(out + h.l3_off + 40, q + h.l3_off + 40, v.srh_off + 3u - h.l3_off - 40));
	}

	r = nf_srv6_end_dx4(q, len, &h, &adj, out, sizeof(out));
	reason_ok(r);
	if (r > 0)
		parses(out, r, &h, NF_ETH_P_IPV4);
	r = nf_srv6_end_dt6(q, len, &h, out, sizeof(out));
	reason_ok(r);
	if (r > 0)
		parses(out, r, &h, NF_ETH_P_IPV6);

	for (i = 0; i < NF_SRV6_DROP_MAX; i++) {
		r = nf_srv6_icmp_error(q, &h, (enum nf_srv6_drop)i, &src6, out, sizeof(out));
		if (r == 0)	/* none for this reason or this packet */
			continue;
		reason_ok(r);
		if (r > 0) {	/* an error to the source, quoting the packet */
			CHECK(r <= (int)h.l3_off + 1280 && r >= (int)h.l3_off + 48 + 40);
			CHECK(out[h.l3_off + 6] == 58 && (out[h.l3_off + 40] == 3 ||
							 out[h.l3_off + 40] == 4));
			CHECK(!memcmp(out + h.l3_off + 24, q + h.l3_off + 8, 16));
			CHECK(!memcmp(out + h.l3_off + 48, q + h.l3_off, (size_t)r - h.l3_off - 48));
		}
	}

	r = nf_srv6_proxy_in(NULL, 0, NF_IPPROTO_IPIP, q, len, &h, NULL, out, sizeof(out));
	reason_ok(r);
	for (i = 0; i < 2; i++) {
		uint8_t want = i ? NF_IPPROTO_IPV6 : NF_IPPROTO_IPIP;
		struct nf_hdrs h2;
		int r2;

		r = nf_srv6_proxy_in(&px, i, want, q, len, &h, &adj, out, sizeof(out));
		reason_ok(r);
		if (r <= 0)
			continue;
		parses(out, r, &h, i ? NF_ETH_P_IPV6 : NF_ETH_P_IPV4);
		/* the way back: cached headers + the packet (if it parses:
		 * the inner packet's options or L4 may be broken) */
		if (nf_parse(out, (uint32_t)r, &h2) != NF_PERR_OK)
			continue;
		r2 = nf_srv6_proxy_out(&px, i, out, (uint32_t)r, &h2, NULL, out2,
				       sizeof(out2));
		reason_ok(r2);
		if (r2 > 0) {
			const struct nf_srv6_proxy_slot *s = &px.slot[i][i];

			CHECK((uint32_t)r2 == h2.l3_off + s->len + (uint32_t)h2.l3_len);
			parses(out2, r2, &h2, NF_ETH_P_IPV6);
		} else {
			CHECK(r2 == -NF_SRV6_TOO_BIG);
		}
	}
	/* the way back of the frame itself, with whatever is cached */
	r = nf_srv6_proxy_out(&px, len & 1, q, len, &h, NULL, out, sizeof(out));
	reason_ok(r);
	return 0;
}
