/* nf_csum.h - the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624), as static inline helpers for IPv4, UDP, TCP and ICMP.
 *
 * Byte order. Every helper sums 16-bit words *loaded in host order* from
 * the packet and returns values in that same domain. RFC 1071 section 2(B)
 * shows the one's complement sum is independent of byte order, so a result
 * is written back into the packet as it is, with memcpy(), never through
 * htons(): the bytes come out right on any host. Values that are not read
 * from the packet (a protocol number, a length) must be given in network
 * order, which is what the pseudo-header helpers below do for you.
 *
 * The accumulator is 64 bits wide. nf_csum_partial() adds 32-bit words to
 * it, so it cannot overflow before about 16 GiB of data; nf_csum_add64()
 * adds with an end-around carry and never overflows. Since 2^16, 2^32 and
 * 2^64 are all 1 modulo 0xffff, sums of 16, 32 and 64-bit words fold to
 * the same 16-bit value.
 *
 * Typical use, a UDP checksum built from a precomputed template:
 *
 *	uint64_t s = nf_csum_pseudo4(&ip->saddr, &ip->daddr, IPPROTO_UDP, ulen);
 *	s = nf_csum_partial(udp, ulen, s);	(udp->check zero)
 *	udp->check = nf_csum_udp(s);
 *
 * and after rewriting one 16-bit word from @old to @new:
 *
 *	ip->check = nf_csum_update16(ip->check, old, new);
 */
#ifndef NF_CSUM_H
#define NF_CSUM_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Add @len bytes at @buf to the running sum @sum and return it. @buf may
 * have any alignment. When a checksum covers several pieces, every piece
 * but the last must have an even length (a word must not straddle two
 * calls). An odd last byte is padded with a zero byte, as RFC 1071 says. */
static inline uint64_t nf_csum_partial(const void *buf, size_t len,
				       uint64_t sum)
{
	const uint8_t *p = buf;

	while (len >= 16) {
		uint32_t w[4];

		memcpy(w, p, 16);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

/* One's complement addition of a 64-bit quantity (for instance 8 packet
 * bytes loaded in host order) to a running sum: never overflows. */
static inline uint64_t nf_csum_add64(uint64_t sum, uint64_t v)
{
	sum += v;
	return sum + (sum < v);
}

/* Fold a running sum into 16 bits: the one's complement sum, not yet
 * complemented (0x0000..0xffff; 0 only when every word was zero). */
static inline uint16_t nf_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field for a running sum over everything the field covers
 * (the field itself counted as zero): the complemented fold. */
static inline uint16_t nf_csum_finish(uint64_t sum)
{
	return (uint16_t)~nf_csum_fold(sum);
}

/* The same for UDP, where a computed 0 is sent as 0xffff (RFC 768: a zero
 * field means "no checksum"). */
static inline uint16_t nf_csum_udp(uint64_t sum)
{
	uint16_t c = nf_csum_finish(sum);

	return c ? c : 0xffff;
}

/* RFC 1071 checksum of a buffer: what goes into an IPv4 header checksum
 * field computed over the header with that field zero. A buffer that
 * includes a correct checksum field gives 0. */
static inline uint16_t nf_csum(const void *buf, size_t len)
{
	return nf_csum_finish(nf_csum_partial(buf, len, 0));
}

/* Running sum of the IPv4 pseudo-header (RFC 768/793): @src and @dst point
 * to the 4-byte addresses as stored in the packet, @proto is the protocol
 * number (17 UDP, 6 TCP), @len the transport length in host order. */
static inline uint64_t nf_csum_pseudo4(const void *src, const void *dst,
				       uint8_t proto, uint16_t len)
{
	uint64_t s = nf_csum_partial(src, 4, 0);

	s = nf_csum_partial(dst, 4, s);
	return s + htons(proto) + htons(len);
}

/* Running sum of the IPv6 pseudo-header (RFC 8200 section 8.1): 16-byte
 * addresses as stored, upper-layer length in host order, next header. */
static inline uint64_t nf_csum_pseudo6(const void *src, const void *dst,
				       uint8_t proto, uint32_t len)
{
	uint64_t s = nf_csum_partial(src, 16, 0);

	s = nf_csum_partial(dst, 16, s);
	return s + htonl(len) + htons(proto);
}

/* RFC 1624 equation 3: the new checksum field after a covered 16-bit word
 * changed from @old to @new, HC' = ~(~HC + ~m + m'). All three values as
 * loaded from the packet (host order). Matches a full recompute, except
 * that data which becomes all zeros keeps the equivalent 0x0000 instead of
 * 0xffff (one's complement -0 and +0, RFC 1624 section 3). */
static inline uint16_t nf_csum_update16(uint16_t csum, uint16_t old,
					uint16_t new)
{
	uint64_t s = (uint16_t)~csum;

	s += (uint16_t)~old;
	s += new;
	return (uint16_t)~nf_csum_fold(s);
}

/* The same for a 32-bit field (an IPv4 address), loaded in host order. */
static inline uint16_t nf_csum_update32(uint16_t csum, uint32_t old,
					uint32_t new)
{
	uint64_t s = (uint16_t)~csum;

	s += (uint32_t)~old;
	s += new;
	return (uint16_t)~nf_csum_fold(s);
}

/* The same for a covered region of @len bytes (even, at an even offset from
 * the start of the checksummed data) changed from @old to @new: an IPv6
 * address, a MAC-sized block, ... */
static inline uint16_t nf_csum_update(uint16_t csum, const void *old,
				      const void *new, size_t len)
{
	const uint8_t *o = old;
	uint64_t s = (uint16_t)~csum;
	size_t i;

	for (i = 0; i + 2 <= len; i += 2) {
		uint16_t w;

		memcpy(&w, o + i, 2);
		s += (uint16_t)~w;
	}
	s = nf_csum_partial(new, len, s);
	return (uint16_t)~nf_csum_fold(s);
}

/* Decrement the TTL of the IPv4 header at @iph (TTL > 0) with the RFC 1624
 * update of Linux's ip_decrease_ttl(): the TTL/protocol word drops by
 * 0x0100 (network order), the checksum grows by as much with an end-around
 * carry, and a sum reaching 0xffff is stored as 0x0000 (as Linux does: the
 * bytes on the wire are the kernel's). */
static inline void nf_ipv4_ttl_dec(void *iph)
{
	uint8_t *p = iph;
	uint16_t c16, x;
	bool over;

	p[8]--;
	memcpy(&c16, p + 10, 2);
	/* c16 + 0x0100 (network order) with the end-around carry, 0xffff
	 * stored as 0: add one more than that; if it overflows 16 bits
	 * (the sum reached 0xffff or carried) the wrapped value is the
	 * answer, else take the one back. gcc makes it an add and an add
	 * with carry. tests/unit/test_csum.c checks every field value. */
	over = __builtin_add_overflow(c16, (uint16_t)(htons(0x0100) + 1), &x);
	c16 = (uint16_t)(x - 1 + over);
	memcpy(p + 10, &c16, 2);
}

#endif
