/* nf_hash.c - symmetric flow hash and Maglev replica groups (see nf_hash.h).
 *
 * The flow key. Two endpoints (address, port) and a protocol:
 *   TCP, UDP, SCTP, DCCP, UDP-Lite	addresses, ports, protocol
 *   ICMP / ICMPv6 queries		addresses, the identifier as both ports
 *   (echo, and ICMP's timestamp, information and address mask)
 *   ICMP / ICMPv6 errors		the key of the packet they quote (types
 *					3, 4, 5, 11, 12; ICMPv6 1-4), so an
 *					error reaches its flow's replica
 *   IPv4 or IPv6 inside IPv6		the key of the inner packet: SRv6 with
 *   (SRv6 with or without an SRH,	or without a routing header (H.Encaps,
 *   plain 4in6 / 6in6)			H.Encaps.Red), whose outer addresses
 *					differ by direction
 *   IP fragments (first or later)	addresses and protocol, ports 0
 *   other IP protocols, other ICMP	addresses and protocol, ports 0
 *   ARP				sender and target protocol addresses
 *   other EtherTypes			the two MAC addresses, the EtherType
 * VLAN tags are not in the key (directions may differ by tag). A tunnel
 * is opened once and an error's quote followed once (depth <= 2: an error
 * inside a tunnel, a tunnel inside an error's quote); a quote or an inner
 * packet too short or malformed to give its key leaves the outer packet's
 * addresses and protocol. Every byte past nf_parse()'s headers is checked
 * against the end of the outer IP packet (and the inner length fields)
 * before it is read.
 *
 * Fragments: a later fragment has no ports, and all fragments of a
 * datagram must land together (a reassembling VNF needs them all), so
 * every fragment - the first one too (IPv4 MF set, offset 0; IPv6 fragment
 * header with M set) - hashes addresses and protocol only. The trade-off:
 * the unfragmented packets of the same connection hash with their ports
 * and may go to another replica than its fragments (a stateful replica
 * then sees fragments of a connection it does not know). Hashing every
 * packet by addresses alone would avoid that at the price of putting all
 * connections between two hosts (a CGNAT's one address, a proxy) on one
 * replica; the 5-tuple is the better default for a chain whose traffic
 * is mostly unfragmented TCP. Fragmented tunnel packets hash by their
 * outer addresses (the inner header is only in the first fragment).
 *
 * Symmetry: the two endpoints are put in a fixed order (the smaller
 * (address, port) first, as native integers, branch-free) before mixing.
 *
 * The mix: wyhash's "mum" (the 128-bit product of two 64-bit words, its
 * halves XOR-folded), keyed by the seed: IPv4 two steps over two words
 * (endpoint | port << 32, the protocol in the high bits), IPv6 four over
 * five, MAC pairs like IPv4; a family tag in the last step keeps the key
 * spaces apart. Portable (no SSE4.2 needed), one code path, the same
 * values on every machine (little-endian loads: a big-endian host gives
 * other, equally symmetric values). Not a cryptographic MAC: with the
 * seed known, flows can be crafted to collide; with a random seed they
 * cannot be aimed at one replica better than by chance.
 *
 * Cost (bench/hash.sh: callgrind, instructions per call with its call
 * and return; gcc 12 -O2 -march=x86-64-v3; nf_parse() of the same frame
 * for scale):
 *	untagged IPv4 TCP			52	(nf_parse 40)
 *	untagged IPv6 TCP			111	(nf_parse 43)
 *	SRv6, SRH of 2 segments, inner IPv4 TCP	251	(nf_parse 132)
 * IPv4 is straight-line: the checks, 4 loads, the ordering (one compare,
 * a cmov), two 64x64->128 multiplies, 5 64-bit constants. IPv6 spends
 * ~30 on the branch-free ordering of two 18-byte endpoints and does four
 * multiplies (out of line: its registers would give IPv4 a stack frame).
 * Tunnels and ICMP errors go through the general walk (hash_ip). Wall
 * clock and the rest: docs/BENCHMARKS.md "Flow hashing for replica groups".
 *
 * Groups: Maglev (Eisenbud et al., NSDI 2016). Member m's permutation of
 * the table is offset_m + j * skip_m (mod size), size prime, offset and
 * skip from a mum of (seed, m). A plain build lets the members take, round
 * robin, the next free entry of their permutation. Changes are made
 * minimal on top (nf_hash.h): a removal refills only the removed members'
 * entries (water-filling: the member with the fewest entries takes the
 * next free entry of its permutation), an addition takes entries only
 * from the members with the most. Plain Maglev rebuilt from scratch moves
 * a few percent of the other flows too (bench/hash.sh measures it); this
 * never does, at the price of a table that depends on the history of
 * changes, not only on the set of members (two switches must apply the
 * same changes in the same order to agree).
 */
#include "nf_hash.h"
#include "nf_util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* wyhash's secrets */
#define K0	0xa0761d6478bd642full
#define K1	0xe7037ed1a0b428dbull
#define K2	0x8ebc6af09c88c6e3ull
#define K3	0x589965cc75374cc3ull
#define GOLDEN	0x9e3779b97f4a7c15ull

#define TAG_L2	2
#define TAG_4	4
#define TAG_6	6

#define IPPROTO_IPIP_	4
#define IPPROTO_DCCP_	33
#define IPPROTO_IPV6_	41
#define IPPROTO_SCTP_	132
#define IPPROTO_UDPLITE_ 136

#define IN_TUNNEL	1	/* inside a tunnel: do not open another */
#define IN_QUOTE	2	/* inside an error's quote: no quote in it */

/* An unaligned load of a T (as stored: no byte swap). */
#define LD(T, p) __extension__ ({ T v_; memcpy(&v_, (p), sizeof(v_)); v_; })
#define ld16(p)	LD(uint16_t, p)
#define ld32(p)	LD(uint32_t, p)
#define ld64(p)	LD(uint64_t, p)

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint64_t ld48(const uint8_t *p)
{
	uint64_t v = 0;

	memcpy(&v, p, 6);
	return v;
}

/* The 128-bit product of @a and @b, its halves XOR-folded. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t ah = a >> 32, al = (uint32_t)a, bh = b >> 32, bl = (uint32_t)b;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;

	return ((ll & 0xffffffffu) | mid << 32) ^ (hh + (lh >> 32) + (hl >> 32) + (mid >> 32));
#endif
}

static inline uint64_t seed_word(uint32_t seed)
{
	return K3 ^ (uint64_t)seed * GOLDEN;
}

/* The last steps, common to every family: the ordered pair @lo, @hi. */
static inline uint32_t fin(uint64_t lo, uint64_t hi, uint64_t tag, uint64_t s)
{
	uint64_t x = mum(lo ^ K1, hi ^ s);

	x = mum(x ^ K0, tag ^ K2);
	return (uint32_t)(x ^ x >> 32);
}

/* IPv4 endpoints (addresses and ports as stored). */
static inline uint32_t h4(uint32_t sa, uint32_t da, uint16_t sp, uint16_t dp,
			  uint8_t proto, uint64_t s)
{
	uint64_t a = sa | (uint64_t)sp << 32, b = da | (uint64_t)dp << 32;
	uint64_t lo = a < b ? a : b, hi = a ^ b ^ lo;

	return fin(lo, hi | (uint64_t)proto << 48, TAG_4, s);
}

/* IPv6 endpoints: addresses at @sa and @da (16 bytes each). */
static inline uint32_t h6(const uint8_t *sa, const uint8_t *da, uint16_t sp,
			  uint16_t dp, uint8_t proto, uint64_t s)
{
	uint64_t a0 = ld64(sa), a1 = ld64(sa + 8), b0 = ld64(da), b1 = ld64(da + 8);
	/* all ones when (a0, a1, sp) < (b0, b1, dp): a is the low one */
	uint64_t m = -(uint64_t)((a0 < b0) | ((a0 == b0) & ((a1 < b1) |
				 ((a1 == b1) & (sp < dp)))));
	uint64_t l0 = b0 ^ ((a0 ^ b0) & m), l1 = b1 ^ ((a1 ^ b1) & m);
	uint64_t lp = dp ^ ((sp ^ dp) & m), hp = (uint64_t)(sp ^ dp) ^ lp;
	uint64_t x;

	x = mum(l0 ^ K1, l1 ^ s);
	x = mum((a0 ^ b0 ^ l0) ^ K2, (a1 ^ b1 ^ l1) ^ x);
	return fin(x, lp | hp << 16 | (uint64_t)proto << 32, TAG_6, s);
}

/* A flow key being built: addresses (4 or 16 bytes) in the frame. */
struct fkey {
	const uint8_t *sa, *da;
	uint16_t sp, dp;	/* as stored; 0 when the key has none */
	uint8_t proto;
	uint8_t v6;
};

static uint32_t hash_key(const struct fkey *k, uint64_t s)
{
	if (k->v6)
		return h6(k->sa, k->da, k->sp, k->dp, k->proto, s);
	return h4(ld32(k->sa), ld32(k->da), k->sp, k->dp, k->proto, s);
}

static inline int icmp4_query(uint8_t t)
{
	return t == 0 || t == 8 || (t >= 13 && t <= 18);
}

static inline int icmp4_error(uint8_t t)
{
	return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

static int hash_ip(const uint8_t *f, uint32_t off, uint32_t end, int v6,
		   unsigned mode, uint64_t s, uint32_t *r);

/* The hash of key @k whose L4 header starts at frame offset @l4 and whose
 * IP packet ends at @end (l4 <= end); @frag: an IP fragment. */
static uint32_t hash_l4(const uint8_t *f, uint32_t l4, uint32_t end,
			struct fkey *k, int frag, unsigned mode, uint64_t s)
{
	const uint8_t *p = f + l4;
	uint32_t left = end - l4, r;

	if (frag)
		return hash_key(k, s);
	switch (k->proto) {
	case NF_IPPROTO_TCP: case NF_IPPROTO_UDP: case IPPROTO_SCTP_:
	case IPPROTO_DCCP_: case IPPROTO_UDPLITE_:
		if (left >= 4) {
			k->sp = ld16(p);
			k->dp = ld16(p + 2);
		}
		break;
	case NF_IPPROTO_ICMP:
		if (k->v6 || left < 8)
			break;
		if (icmp4_query(p[0])) {
			k->sp = k->dp = ld16(p + 4);
		} else if (icmp4_error(p[0]) && !(mode & IN_QUOTE) &&
			   hash_ip(f, l4 + 8, end, 0, mode | IN_QUOTE, s, &r) == 0) {
			return r;
		}
		break;
	case NF_IPPROTO_ICMPV6:
		if (!k->v6 || left < 8)
			break;
		if (p[0] == NF_ICMP6_ECHO_REQUEST || p[0] == NF_ICMP6_ECHO_REPLY) {
			k->sp = k->dp = ld16(p + 4);
		} else if (p[0] >= NF_ICMP6_DST_UNREACH && p[0] <= NF_ICMP6_PARAMPROB &&
			   !(mode & IN_QUOTE) &&
			   hash_ip(f, l4 + 8, end, 1, mode | IN_QUOTE, s, &r) == 0) {
			return r;
		}
		break;
	case IPPROTO_IPIP_:
	case IPPROTO_IPV6_:
		if (k->v6 && !(mode & IN_TUNNEL) &&
		    hash_ip(f, l4, end, k->proto == IPPROTO_IPV6_, mode | IN_TUNNEL,
			    s, &r) == 0)
			return r;
		break;
	}
	return hash_key(k, s);
}

/* The hash of the IPv4 (@v6 0) or IPv6 packet at frame offset @off, at
 * most @end - @off bytes of it present (an error's quote is cut short, a
 * tunnel's inner packet may be followed by padding): 0 and *@r, or -1
 * when not even its addresses and protocol are there. */
static int hash_ip(const uint8_t *f, uint32_t off, uint32_t end, int v6,
		   unsigned mode, uint64_t s, uint32_t *r)
{
	uint32_t left = end > off ? end - off : 0, l4, n;
	const uint8_t *ip = f + off;
	struct fkey k = { .v6 = (uint8_t)v6 };
	int frag = 0;

	if (!v6) {
		uint32_t ihl, tot;

		if (left < sizeof(struct nf_ipv4) || ip[0] >> 4 != 4)
			return -1;
		ihl = (uint32_t)(ip[0] & 15) * 4;
		tot = rd16(ip + 2);
		if (ihl < sizeof(struct nf_ipv4) || ihl > left || tot < ihl)
			return -1;
		if (tot < left)
			end = off + tot;
		frag = (rd16(ip + 6) & (NF_IPV4_MF | NF_IPV4_OFFMASK)) != 0;
		k.sa = ip + 12;
		k.da = ip + 16;
		k.proto = ip[9];
		*r = hash_l4(f, off + ihl, end, &k, frag, mode, s);
		return 0;
	}
	if (left < sizeof(struct nf_ipv6) || ip[0] >> 4 != 6)
		return -1;
	if (sizeof(struct nf_ipv6) + rd16(ip + 4) < left)
		end = off + (uint32_t)sizeof(struct nf_ipv6) + rd16(ip + 4);
	k.sa = ip + 8;
	k.da = ip + 24;
	k.proto = ip[6];
	l4 = off + (uint32_t)sizeof(struct nf_ipv6);	/* <= end */
	for (n = 0;; n++) {
		uint32_t elen;
		uint8_t nh = k.proto;

		if (nh != NF_IPPROTO_HOPOPTS && nh != NF_IPPROTO_ROUTING &&
		    nh != NF_IPPROTO_DSTOPTS && nh != NF_IPPROTO_AH &&
		    nh != NF_IPPROTO_FRAGMENT)
			break;
		if (n == 8 || end - l4 < 8)
			return -1;
		k.proto = f[l4];
		if (nh == NF_IPPROTO_FRAGMENT) {
			uint16_t fo = rd16(f + l4 + 2);

			l4 += 8;
			if (fo & 0xfff9)	/* offset or M */
				frag = 1;
			if (fo & 0xfff8)	/* a later fragment: no more headers */
				break;
			continue;
		}
		if (nh == NF_IPPROTO_AH)
			elen = ((uint32_t)f[l4 + 1] + 2) * 4;
		else
			elen = ((uint32_t)f[l4 + 1] + 1) * 8;
		if (elen > end - l4)
			return -1;
		l4 += elen;
	}
	*r = hash_l4(f, l4, end, &k, frag, mode, s);
	return 0;
}

/* Everything but TCP and UDP outside fragments. */
static __attribute__((noinline)) uint32_t
hash_slow(const uint8_t *f, const struct nf_hdrs *h, uint64_t s)
{
	const uint8_t *l3 = f + h->l3_off;
	struct fkey k = { .proto = h->l4_proto };
	uint64_t a, b, lo;

	switch (h->ethertype) {
	case NF_ETH_P_IPV4:
		k.sa = l3 + 12;
		k.da = l3 + 16;
		return hash_l4(f, h->l4_off, (uint32_t)h->l3_off + h->l3_len, &k,
			       h->flags & NF_HDR_FRAG, 0, s);
	case NF_ETH_P_IPV6:
		k.sa = l3 + 8;
		k.da = l3 + 24;
		k.v6 = 1;
		return hash_l4(f, h->l4_off, (uint32_t)h->l3_off + h->l3_len, &k,
			       h->flags & NF_HDR_FRAG, 0, s);
	case NF_ETH_P_ARP:
		k.sa = l3 + offsetof(struct nf_arp, spa);
		k.da = l3 + offsetof(struct nf_arp, tpa);
		k.proto = 0;
		return hash_key(&k, s);
	}
	a = ld48(f);
	b = ld48(f + NF_ETH_ALEN);
	lo = a < b ? a : b;
	return fin(lo, (a ^ b ^ lo) | (uint64_t)h->ethertype << 48, TAG_L2, s);
}

/* IPv6 TCP / UDP, not a fragment (out of line: its registers would cost
 * the IPv4 path a stack frame). */
static __attribute__((noinline)) uint32_t
hash_fast6(const uint8_t *f, const struct nf_hdrs *h, uint64_t s)
{
	const uint8_t *l3 = f + h->l3_off, *l4 = f + h->l4_off;

	return h6(l3 + 8, l3 + 24, ld16(l4), ld16(l4 + 2), h->l4_proto, s);
}

uint32_t nf_hash_flow(const uint8_t *f, const struct nf_hdrs *h, uint32_t seed)
{
	uint64_t s = seed_word(seed);

	if (nf_likely((h->l4_proto == NF_IPPROTO_TCP || h->l4_proto == NF_IPPROTO_UDP) &&
		      (h->flags & (NF_HDR_L4 | NF_HDR_FRAG)) == NF_HDR_L4)) {
		const uint8_t *l3 = f + h->l3_off, *l4 = f + h->l4_off;

		if (nf_likely(h->ethertype == NF_ETH_P_IPV4))
			return h4(ld32(l3 + 12), ld32(l3 + 16), ld16(l4), ld16(l4 + 2),
				  h->l4_proto, s);
		return hash_fast6(f, h, s);
	}
	return hash_slow(f, h, s);
}

/* ---- groups ---- */

static int is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return 0;
	for (d = 2; d <= n / d; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

int nf_hash_group_new(uint32_t size, uint32_t seed, struct nf_hash_group **out)
{
	struct nf_hash_group *g;

	if (size < NF_HASH_SIZE_MIN || size > NF_HASH_SIZE_MAX || !is_prime(size)) {
		nf_set_error("hash group size %u is not a prime in [%u, %u]",
			     size, NF_HASH_SIZE_MIN, NF_HASH_SIZE_MAX);
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g) + size);
	if (!g) {
		nf_set_error("hash group: out of memory for %u entries", size);
		return -ENOMEM;
	}
	g->size = size;
	g->seed = seed;
	memset(g->table, NF_HASH_NONE, size);
	*out = g;
	return 0;
}

void nf_hash_group_free(struct nf_hash_group *g)
{
	free(g);
}

/* Member @m's permutation: its first entry and its step. */
struct perm {
	uint32_t pos, skip;
};

static struct perm perm_of(const struct nf_hash_group *g, unsigned m)
{
	uint64_t x = mum((uint64_t)m ^ K0, (uint64_t)g->seed ^ K1);
	struct perm p;

	p.pos = (uint32_t)(x % g->size);
	x = mum(x ^ K2, K3);
	p.skip = (uint32_t)(x % (g->size - 1)) + 1;
	return p;
}

static inline uint32_t step(const struct nf_hash_group *g, uint32_t c, uint32_t skip)
{
	c += skip;		/* both < size <= 2^24: no overflow */
	return c >= g->size ? c - g->size : c;
}

/* The next entry of @p's permutation that is NF_HASH_NONE (one exists),
 * taken by member @m. */
static void take_free(struct nf_hash_group *g, struct perm *p, unsigned m)
{
	uint32_t c = p->pos;

	while (g->table[c] != NF_HASH_NONE)
		c = step(g, c, p->skip);
	g->table[c] = (uint8_t)m;
	g->count[m]++;
	p->pos = step(g, c, p->skip);
}

/* Plain Maglev: the members of @up take free entries round robin. */
static void fill_plain(struct nf_hash_group *g, uint64_t up)
{
	struct perm p[NF_HASH_MEMBERS_MAX];
	uint32_t left = g->size;
	unsigned m;

	memset(g->table, NF_HASH_NONE, g->size);
	memset(g->count, 0, sizeof(g->count));
	g->up = up;
	if (!up)
		return;
	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++)
		if (up >> m & 1)
			p[m] = perm_of(g, m);
	for (;;) {
		for (m = 0; m < NF_HASH_MEMBERS_MAX; m++) {
			if (!(up >> m & 1))
				continue;
			take_free(g, &p[m], m);
			if (--left == 0)
				return;
		}
	}
}

/* The member of @set with the fewest (@most: the most) entries, the lowest
 * index on a tie. @set is not empty. */
static unsigned extreme(const struct nf_hash_group *g, uint64_t set, int most)
{
	unsigned m, best = NF_HASH_MEMBERS_MAX;

	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++) {
		if (!(set >> m & 1))
			continue;
		if (best == NF_HASH_MEMBERS_MAX ||
		    (most ? g->count[m] > g->count[best] : g->count[m] < g->count[best]))
			best = m;
	}
	return best;
}

/* Remove the members of @gone: their entries go to the others (g->up
 * without @gone, not empty), the one with the fewest entries first. */
static void remove_members(struct nf_hash_group *g, uint64_t gone)
{
	struct perm p[NF_HASH_MEMBERS_MAX];
	uint64_t keep = g->up & ~gone;
	uint32_t i, freed = 0;
	unsigned m;

	for (i = 0; i < g->size; i++) {
		if (g->table[i] != NF_HASH_NONE && (gone >> g->table[i] & 1)) {
			g->table[i] = NF_HASH_NONE;
			freed++;
		}
	}
	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++) {
		if (gone >> m & 1)
			g->count[m] = 0;
		if (keep >> m & 1)
			p[m] = perm_of(g, m);
	}
	g->up = keep;
	while (freed--) {
		m = extreme(g, keep, 0);
		take_free(g, &p[m], m);
	}
}

/* Add member @a (not up; g->up not empty, every entry owned): it takes
 * entries from the members with the most until it has size / n. */
static void add_member(struct nf_hash_group *g, unsigned a)
{
	struct perm p = perm_of(g, a);
	uint64_t old = g->up;
	uint32_t want = g->size / (uint32_t)(__builtin_popcountll(old) + 1), c;

	g->up |= 1ull << a;
	g->count[a] = 0;
	while (g->count[a] < want) {
		uint32_t most = g->count[extreme(g, old, 1)];

		c = p.pos;
		while (g->table[c] == a || g->count[g->table[c]] != most)
			c = step(g, c, p.skip);
		g->count[g->table[c]]--;
		g->table[c] = (uint8_t)a;
		g->count[a]++;
		p.pos = step(g, c, p.skip);
	}
}

int nf_hash_group_build(struct nf_hash_group *dst,
			const struct nf_hash_group *src, uint64_t up)
{
	uint64_t keep, add;
	unsigned m;

	if (src && (src->size != dst->size || src->seed != dst->seed)) {
		nf_set_error("hash group build: tables of %u/%u and %u/%u entries/seed",
			     src->size, src->seed, dst->size, dst->seed);
		return -EINVAL;
	}
	keep = src ? src->up & up : 0;
	if (!keep) {
		fill_plain(dst, up);
		return 0;
	}
	if (dst != src) {
		memcpy(dst->table, src->table, src->size);
		memcpy(dst->count, src->count, sizeof(dst->count));
		dst->up = src->up;
	}
	if (dst->up & ~up)
		remove_members(dst, dst->up & ~up);
	add = up & ~keep;
	for (m = 0; m < NF_HASH_MEMBERS_MAX; m++)
		if (add >> m & 1)
			add_member(dst, m);
	return 0;
}
