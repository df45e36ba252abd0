/* test_csum.c - nf_csum.h against a straightforward big-endian reference
 * (RFC 1071 word by word) on random data at every alignment, the RFC's own
 * example, a real IPv4 header, pseudo-headers, and the RFC 1624
 * incremental updates against a full recompute. */
#include "harness.h"
#include "nf_csum.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)xrand();
}

/* Reference: network-order 16-bit words, 32-bit sum, fold, complement.
 * Returns the checksum as a number (host order). */
static uint16_t ref_sum(const uint8_t *b, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t cpl(uint16_t x)
{
	return (uint16_t)~x;
}

static uint16_t ref_csum(const uint8_t *b, size_t n)
{
	return (uint16_t)~ref_sum(b, n, 0);
}

/* A checksum field value as its two bytes in the packet, as a number. */
static uint16_t as_net(uint16_t field)
{
	uint8_t b[2];

	memcpy(b, &field, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint16_t load16(const uint8_t *p)
{
	uint16_t w;

	memcpy(&w, p, 2);
	return w;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

int main(void)
{
	static uint8_t buf[2048 + 8], copy[2048 + 8];
	int i, ok;

	/* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	{
		static const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03,
					       0xf4, 0xf5, 0xf6, 0xf7 };

		NF_TEST("RFC 1071 example sums to 0xddf2",
			as_net(nf_csum_fold(nf_csum_partial(ex, 8, 0))) == 0xddf2 &&
			as_net(nf_csum(ex, 8)) == (uint16_t)~0xddf2);
	}
	/* A real IPv4 header (checksum b861). */
	{
		uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
				   0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
				   0xc0, 0xa8, 0x00, 0xc7 };
		uint16_t c;

		NF_TEST("IPv4 header with its checksum verifies to 0",
			nf_csum(ip, 20) == 0);
		ip[10] = ip[11] = 0;
		c = nf_csum(ip, 20);
		NF_TEST("IPv4 header checksum computes to b861", as_net(c) == 0xb861);
	}

	/* Random data, every length 0..1600 region and 8 alignments. */
	ok = 1;
	for (i = 0; i < 20000 && ok; i++) {
		size_t len = xrand() % 1601, off = xrand() % 8;
		uint16_t c;

		fill(buf + off, len);
		c = nf_csum(buf + off, len);
		ok = as_net(c) == ref_csum(buf + off, len);
		if (!ok)
			printf("# len %zu off %zu: %04x vs %04x\n", len, off,
			       as_net(c), ref_csum(buf + off, len));
	}
	NF_TEST("20000 random buffers (odd lengths, odd alignments) match the reference", ok);

	ok = 1;
	for (i = 0; i < 2000 && ok; i++) {
		size_t len = 2 + xrand() % 1500, cut = (xrand() % len) & ~(size_t)1;
		uint64_t s;

		fill(buf, len);
		s = nf_csum_partial(buf, cut, 0);
		s = nf_csum_partial(buf + cut, len - cut, s);
		ok = nf_csum_finish(s) == nf_csum(buf, len);
	}
	NF_TEST("partial sums chained at an even cut equal the whole", ok);

	ok = 1;
	for (i = 0; i < 2000 && ok; i++) {
		uint64_t w[4], s = xrand() % 100000, t = s;
		int k;

		for (k = 0; k < 4; k++)
			w[k] = xrand() | 0xffff000000000000ull; /* force carries */
		for (k = 0; k < 4; k++)
			s = nf_csum_add64(s, w[k]);
		t = nf_csum_partial(w, sizeof(w), t);
		ok = nf_csum_fold(s) == nf_csum_fold(t);
	}
	NF_TEST("add64 with end-around carry equals the byte sum", ok);

	{
		uint8_t z[8] = { 0 };

		NF_TEST("all-zero data: checksum 0xffff, UDP computed 0 becomes 0xffff",
			nf_csum(z, 8) == 0xffff && nf_csum_udp(0xffff) == 0xffff &&
			nf_csum_udp(0) == 0xffff && nf_csum_udp(0x1234) ==
			(uint16_t)~0x1234);
	}

	/* Pseudo-headers: a UDP packet checked with the reference. */
	{
		uint8_t ph[40], udp[60];
		uint8_t s4[4] = { 10, 0, 0, 1 }, d4[4] = { 10, 0, 0, 2 };
		uint8_t s6[16], d6[16];
		uint16_t ulen = sizeof(udp), c;

		fill(udp, sizeof(udp));
		udp[4] = (uint8_t)(ulen >> 8);
		udp[5] = (uint8_t)ulen;
		udp[6] = udp[7] = 0;
		c = nf_csum_udp(nf_csum_partial(udp, ulen,
				nf_csum_pseudo4(s4, d4, 17, ulen)));
		memcpy(ph, s4, 4);
		memcpy(ph + 4, d4, 4);
		ph[8] = 0;
		ph[9] = 17;
		ph[10] = (uint8_t)(ulen >> 8);
		ph[11] = (uint8_t)ulen;
		NF_TEST("UDP over IPv4: pseudo-header + data matches the reference",
			as_net(c) == cpl(ref_sum(udp, ulen, ref_sum(ph, 12, 0))));
		memcpy(udp + 6, &c, 2);
		NF_TEST("UDP over IPv4: packet with its checksum verifies",
			nf_csum_finish(nf_csum_partial(udp, ulen,
				nf_csum_pseudo4(s4, d4, 17, ulen))) == 0);

		fill(s6, 16);
		fill(d6, 16);
		udp[6] = udp[7] = 0;
		c = nf_csum_udp(nf_csum_partial(udp, ulen,
				nf_csum_pseudo6(s6, d6, 17, ulen)));
		memcpy(ph, s6, 16);
		memcpy(ph + 16, d6, 16);
		memset(ph + 32, 0, 8);
		ph[34] = (uint8_t)(ulen >> 8);
		ph[35] = (uint8_t)ulen;
		ph[39] = 17;
		NF_TEST("UDP over IPv6: pseudo-header + data matches the reference",
			as_net(c) == cpl(ref_sum(udp, ulen, ref_sum(ph, 40, 0))));
	}

	/* RFC 1624: incremental update equals a full recompute. */
	ok = 1;
	for (i = 0; i < 20000 && ok; i++) {
		size_t len = 4 + (xrand() % 760) * 2, at = (xrand() % (len / 2)) * 2;
		uint16_t c, old, new = (uint16_t)xrand();

		fill(buf, len);
		c = nf_csum(buf, len);
		old = load16(buf + at);
		memcpy(buf + at, &new, 2);
		ok = nf_csum_update16(c, old, new) == nf_csum(buf, len);
	}
	NF_TEST("update16 equals full recompute (20000 random edits)", ok);

	ok = 1;
	for (i = 0; i < 20000 && ok; i++) {
		size_t len = 8 + (xrand() % 760) * 2, at = (xrand() % (len / 2 - 1)) * 2;
		uint16_t c;
		uint32_t old, new = (uint32_t)xrand();

		fill(buf, len);
		c = nf_csum(buf, len);
		old = load32(buf + at);
		memcpy(buf + at, &new, 4);
		ok = nf_csum_update32(c, old, new) == nf_csum(buf, len);
	}
	NF_TEST("update32 equals full recompute (an IPv4 address rewrite)", ok);

	ok = 1;
	for (i = 0; i < 5000 && ok; i++) {
		size_t len = 40 + (xrand() % 700) * 2, at = (xrand() % ((len - 16) / 2)) * 2;
		uint8_t nw[16];
		uint16_t c;

		fill(buf, len);
		memcpy(copy, buf, len);
		c = nf_csum(buf, len);
		fill(nw, 16);
		memcpy(buf + at, nw, 16);
		ok = nf_csum_update(c, copy + at, nw, 16) == nf_csum(buf, len);
	}
	NF_TEST("update over 16 bytes equals full recompute (an IPv6 address)", ok);

	/* The IPv4 TTL decrement of a router, through update16. */
	{
		uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
				   0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
				   0xc0, 0xa8, 0x00, 0xc7 };
		uint16_t old = load16(ip + 8), c = load16(ip + 10), new;

		ip[8]--;
		new = load16(ip + 8);
		c = nf_csum_update16(c, old, new);
		memcpy(ip + 10, &c, 2);
		NF_TEST("TTL decrement by update16 keeps the header valid",
			nf_csum(ip, 20) == 0 && as_net(c) == 0xb961);
	}

	/* nf_ipv4_ttl_dec: every checksum field value, against Linux's
	 * ip_decrease_ttl() on network-order values (check += 0x0100, then
	 * + (check >= 0xffff)), and a valid header stays valid. */
	{
		uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
				   0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
				   0xc0, 0xa8, 0x00, 0xc7 };
		uint32_t f;
		int same = 1, valid = 1;

		for (f = 0; f <= 0xffff; f++) {
			uint32_t lx = (uint32_t)f + 0x0100;

			lx = (lx + (lx >= 0xffff)) & 0xffff;
			ip[8] = 0x40;
			ip[10] = (uint8_t)(f >> 8);
			ip[11] = (uint8_t)f;
			nf_ipv4_ttl_dec(ip);
			if (ip[8] != 0x3f || ((uint32_t)ip[10] << 8 | ip[11]) != lx) {
				if (same)
					printf("# field %04x: %02x%02x, Linux %04x\n", f,
					       ip[10], ip[11], lx);
				same = 0;
			}
		}
		NF_TEST("TTL decrement: all 65536 checksum fields as Linux's ip_decrease_ttl",
			same);
		for (f = 0; f < 256 && valid; f++) {
			uint16_t c;

			ip[8] = (uint8_t)(f | 1);	/* > 0 */
			ip[3] = (uint8_t)f;
			ip[10] = ip[11] = 0;
			c = nf_csum(ip, 20);
			memcpy(ip + 10, &c, 2);
			nf_ipv4_ttl_dec(ip);
			valid = nf_csum(ip, 20) == 0;
		}
		NF_TEST("TTL decrement keeps 256 headers valid", valid);
	}
	return nf_test_report();
}
