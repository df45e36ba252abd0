/* nf_ct.c - connection tracking (see nf_ct.h): a preallocated table of
 * entries found through a bucketized cuckoo hash, Linux's TCP state
 * machine, UDP / ICMP / ICMPv6 / generic timeouts, RELATED ICMP errors,
 * and expiry spread over time.
 *
 * Memory (all of it mapped and touched in nf_ct_create(), transparent huge
 * pages asked for; nothing is allocated, locked or asked of the kernel
 * afterwards):
 *   ent[max]   struct nf_ct_entry, 128 bytes (two cache lines, aligned);
 *              a free entry has t[0].family == 0; gen changes at each
 *              free (unlink, flush) and survives nf_ct_confirm(), so a
 *              struct nf_ct_ref names one life of an entry;
 *   bkt[nb]    hash buckets, one 64-byte cache line each: 8 slots of a
 *              16-bit signature (0: free slot) and a 32-bit value
 *              (entry index << 1 | direction); 16 bytes unused;
 *   aux[max]   4 bytes per entry of protocol state the public entry has
 *              no room for (TCP: the end sequence of the last ignored
 *              packet, Linux's last_end; UDP: the time from which a
 *              replied flow counts as a stream);
 *   freel[max] the free entries, a stack.
 * nb is the power of two >= max / 3.2, so that the 2 * max tuples fill at
 * most 80% of the slots (1M entries: 2^19 buckets, 32 MiB, 48% full).
 * Per entry: 128 + 8 + 32..64 bytes: 170 bytes at 1M entries.
 *
 * Hash. CRC32C (the SSE4.2 crc32 instruction when the build has it, a
 * table otherwise: the same values) of the 40-byte tuple, 5 steps of 8
 * bytes. The primary bucket is the low bits, the signature the high 16
 * bits with bit 0 forced to 1 (0 marks a free slot). The second bucket
 * is primary ^ (sig * odd constant) & mask ("partial-key cuckoo", as in
 * DPDK's rte_hash): computed from the slot alone, so entries can move
 * between their two buckets without reading them, and it always differs
 * from the first (sig and the constant are odd: bit 0 flips). CRC is not
 * a keyed hash: someone who crafts tuples can make them collide, but a
 * bucket pair holds 16 tuples at most and the 17th is refused (-ENOSPC)
 * without slowing anything else down: no chains to walk.
 *
 * Lookup: compare the signature with the 8 slots of the primary bucket in
 * one SSE2 compare, check the entry of each match (40-byte compare, then
 * "not expired"), then the same in the second bucket. A hit in the primary
 * bucket touches two cache lines (bucket, entry's tuple line); a miss two
 * buckets. Insert: a free slot in either bucket, else a breadth-first
 * search (at most BFS_NODES buckets) for a chain of moves to a free slot;
 * none within the bound is -ENOSPC (counted as full). Delete: find the
 * value in its two buckets, clear it.
 *
 * Time: milliseconds of the caller's clock (now_ns / 10^6) modulo 2^32;
 * an entry is alive while (int32_t)(expires - now) > 0, Linux's
 * nf_ct_is_expired(). Timeouts are capped at NF_CT_TIMEOUT_MAX seconds
 * (23 days) so that this difference never wraps.
 *
 * Expiry: nf_ct_expire() visits the next max/100 entries (at least 64) of
 * the entry array, round robin: the whole table once a second when called
 * every 10 ms; each expired entry is passed to the callback, unlinked
 * and freed. An entry that expired but has not been visited yet is dead
 * for lookups (they skip it), so it never answers for its tuples after
 * its time; a new entry with the same tuples may be inserted beside it
 * (its slots are still in the buckets until the sweep frees it). Linux's
 * "kill" (a TCP connection reopened from TIME_WAIT or CLOSE, a RST as the
 * only answer) is the same: the entry's expiry is set to now, the sweep
 * calls the callback and frees it; until then the caller can still read
 * it (nf-nat rewriting the RST that killed it).
 *
 * TCP (nf_conntrack_proto_tcp.c, Linux 6.1 to 6.16): the tcp_conntracks
 * table, tcp_valid_flags, tcp_new(), and the special cases of
 * nf_conntrack_tcp_packet(): reopening from TIME_WAIT / CLOSE (kill, then
 * the SYN is NEW), the ignored packets (sIG: accepted, no state change, no
 * refresh) with the SYN/ACK that re-synchronises on an ignored SYN, the
 * RFC 5961 challenge ACK in LAST_ACK, simultaneous open (SYN_SENT2), the
 * retransmitted SYN that does not refresh, the RST before any reply that
 * kills, the loose pickup capped at the unack timeout until a reply, and
 * ASSURED. No sequence or window tracking: Linux with
 * nf_conntrack_tcp_no_window_check=1 (6.1; stronger than be_liberal=1,
 * which still tracks windows to shorten timeouts), so the retransmission,
 * unacknowledged-data and zero-window timeouts never apply; tcp_unack is
 * only the loose-pickup cap. Checksums are not verified (Linux's
 * nf_conntrack_checksum=0).
 *
 * Differences from Linux, all deliberate:
 *   - packets of an entry before its first reply are ESTABLISHED here,
 *     Linux's ctinfo says NEW (use NF_CT_F_SEEN_REPLY to tell them apart);
 *     packets Linux accepts without updating the entry (ignored TCP
 *     packets, a retransmitted SYN) are still counted in the entry;
 *   - ICMP/ICMPv6 queries are tracked by identifier only (the header's
 *     tuple): Linux puts the type and code in the tuple. A request seen in
 *     the REPLY direction of an entry (or a reply in the ORIG direction)
 *     is INVALID here; Linux would start a second entry;
 *   - SCTP, DCCP and GRE are tracked by ports (SCTP, DCCP) or addresses
 *     (GRE) with the generic timeout: no SCTP / DCCP state machines, no
 *     GRE keys;
 *   - a RELATED ICMP error is counted in its entry (Linux does not).
 *
 * Measured (bench/ct.sh, docs/BENCHMARKS.md): an ESTABLISHED TCP packet
 * costs 139 instructions in nf_ct_in() (assured UDP 135; those counts
 * leave out the SSE intrinsics' lines, 10-30 more), 1 flow or 1M; about
 * 20 ns with 1 flow, 80-100 ns with 1M (two cache misses: bucket,
 * entry). nf_ct_in_burst() costs about 30 instructions more per packet
 * but overlaps those misses: about 31 ns per packet with 1M flows.
 */
#include "nf_ct.h"
#include "nf_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#define SLOTS		8
#define NONE		UINT32_MAX
#define SLOW		(NONE - 1)	/* nf_ct_in(): not a slot, see prep() */
#define CHUNK		32		/* nf_ct_in_burst()'s passes */
#define ALT_MUL		0x9e3779b1u	/* odd: see the file comment */
#define BFS_NODES	128
#define CRC_SEED	0xffffffffu
#define UDP_STREAM_MS	2000		/* Linux: replied and older than 2 s */

/* Entry flags of our own (the header's are 0x01 and 0x02). */
#define F_CLOSE_INIT	0x10	/* a FIN started the close (either way) */
#define F_SIMUL_OPEN	0x20	/* simultaneous open seen */
#define F_CHALLENGE	0x40	/* a SYN ignored in LAST_ACK: expect a challenge ACK */

#define IPPROTO_DCCP_	33
#define IPPROTO_SCTP_	132
#define IPPROTO_UDPLITE_ 136

struct bucket {
	uint16_t sig[SLOTS];
	uint32_t val[SLOTS];
	uint32_t unused[4];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct bucket) == 64, "bucket is one cache line");
_Static_assert(sizeof(struct nf_ct_tuple) == 40, "tuple is 40 bytes");
_Static_assert(sizeof(struct nf_ct_entry) == 128, "entry is two cache lines");

struct nf_ct {
	/* read for every packet */
	struct nf_ct_hot hot;		/* first: nf_ct_refresh_ref() reads it
					 * (entries, clock, lookup count, UDP and
					 * TCP timeouts, stay: see hit()) */
	struct bucket *bkt;
	uint32_t mask;			/* buckets - 1 */
	uint32_t to_unack, to_icmp, to_generic;	/* timeouts in ms */
	bool loose;
	uint32_t *aux;
	/* the rest */
	uint32_t *freel;
	uint32_t nfree, max;
	uint32_t cursor, slice;
	uint64_t inserted, deleted, expired, full, invalid, searched;
	void *map;
	size_t map_len;
};

/* ---- TCP: Linux's tables ---- */

enum { I_SYN, I_SYNACK, I_FIN, I_ACK, I_RST, I_NONE };

#define sNO NF_CT_TCP_NONE
#define sSS NF_CT_TCP_SYN_SENT
#define sSR NF_CT_TCP_SYN_RECV
#define sES NF_CT_TCP_ESTABLISHED
#define sFW NF_CT_TCP_FIN_WAIT
#define sCW NF_CT_TCP_CLOSE_WAIT
#define sLA NF_CT_TCP_LAST_ACK
#define sTW NF_CT_TCP_TIME_WAIT
#define sCL NF_CT_TCP_CLOSE
#define sS2 NF_CT_TCP_SYN_SENT2
#define sIV NF_CT_TCP_MAX
#define sIG (NF_CT_TCP_MAX + 1)

/* tcp_conntracks[dir][index][old state] of Linux 6.x. */
static const uint8_t tcp_next[2][8][16] = {	/* padded: cheap indexing */
	{	/* ORIG:  sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* syn */	{ sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2 },
/* synack */	{ sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR },
/* fin */	{ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/* ack */	{ sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV },
/* rst */	{ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* none */	{ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	}, {	/* REPLY: sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
/* syn */	{ sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2 },
/* synack */	{ sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR },
/* fin */	{ sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV },
/* ack */	{ sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG },
/* rst */	{ sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL },
/* none */	{ sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV },
	}
};

/* States whose "stay" transitions need nothing but the table. */
#define TCP_FAST (1u << sES | 1u << sFW | 1u << sCW | 1u << sLA | 1u << sTW | 1u << sCL)

/* tcp_valid_flags and get_conntrack_index() in one table: the flags byte
 * without PSH, ECE and CWR (& 0x37) -> index, or 0xff for a combination
 * Linux calls invalid. */
#define TF(f) ((f) & 0x37)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const uint8_t tcp_index[64] = {
	[0 ... 63] = 0xff,
	[TF(NF_TCP_SYN)] = I_SYN,
	[TF(NF_TCP_SYN | NF_TCP_URG)] = I_SYN,
	[TF(NF_TCP_SYN | NF_TCP_ACK)] = I_SYNACK,
	[TF(NF_TCP_RST)] = I_RST,
	[TF(NF_TCP_RST | NF_TCP_ACK)] = I_RST,
	[TF(NF_TCP_FIN | NF_TCP_ACK)] = I_FIN,
	[TF(NF_TCP_FIN | NF_TCP_ACK | NF_TCP_URG)] = I_FIN,
	[TF(NF_TCP_ACK)] = I_ACK,
	[TF(NF_TCP_ACK | NF_TCP_URG)] = I_ACK,
};
#pragma GCC diagnostic pop

/* ---- small helpers ---- */

static inline bool alive(const struct nf_ct_entry *e, uint32_t now)
{
	return (int32_t)(e->expires - now) > 0;
}

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return __builtin_bswap32(ld32(p));
}

/* ---- tuples ---- */

/* The last 8 bytes of a tuple: ports (as in the packet), protocol,
 * family, zone 0. */
static inline uint64_t tail_word(uint32_t ports, uint8_t proto, uint8_t fam)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return ports | (uint64_t)proto << 32 | (uint64_t)fam << 40;
#else
	struct nf_ct_tuple t = { .proto = proto, .family = fam };
	uint64_t w;

	memcpy(&t.sport, &ports, 4);
	memcpy(&w, &t.sport, 8);
	return w;
#endif
}

/* Write the tuple of a packet whose IP header is at @ip into @t: the
 * addresses, then @tail (tail_word()). */
static inline void put_tuple(struct nf_ct_tuple *t, const uint8_t *ip, bool v4, uint64_t tail)
{
#if defined(__SSE2__)
	if (v4) {	/* movd: 4 bytes, zero-extended to 16 */
		_mm_storeu_si128((__m128i *)t->src, _mm_cvtsi32_si128((int)ld32(ip + 12)));
		_mm_storeu_si128((__m128i *)t->dst, _mm_cvtsi32_si128((int)ld32(ip + 16)));
	} else {
		_mm_storeu_si128((__m128i *)t->src, _mm_loadu_si128((const __m128i *)(ip + 8)));
		_mm_storeu_si128((__m128i *)t->dst, _mm_loadu_si128((const __m128i *)(ip + 24)));
	}
#else
	if (v4) {
		memset(t, 0, 32);
		memcpy(t->src, ip + 12, 4);
		memcpy(t->dst, ip + 16, 4);
	} else {
		memcpy(t->src, ip + 8, 32);
	}
#endif
	memcpy(&t->sport, &tail, 8);
}

/* Two tuples equal (all 40 bytes). */
static inline bool same(const struct nf_ct_tuple *a, const struct nf_ct_tuple *b)
{
	uint64_t ta, tb;

	memcpy(&ta, &a->sport, 8);
	memcpy(&tb, &b->sport, 8);
#if defined(__SSE2__)
	{
		__m128i x = _mm_or_si128(
			_mm_xor_si128(_mm_loadu_si128((const __m128i *)a->src),
				      _mm_loadu_si128((const __m128i *)b->src)),
			_mm_xor_si128(_mm_loadu_si128((const __m128i *)a->dst),
				      _mm_loadu_si128((const __m128i *)b->dst)));
#if defined(__SSE4_1__)
		return _mm_testz_si128(x, x) && ta == tb;
#else
		return _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) == 0xffff &&
		       ta == tb;
#endif
	}
#else
	return memcmp(a, b, 32) == 0 && ta == tb;
#endif
}

/* The tuple the other way: addresses and ports swapped; an ICMP query
 * keeps its identifier (sport) and dport 0. */
static struct nf_ct_tuple invert(const struct nf_ct_tuple *t)
{
	struct nf_ct_tuple r = *t;

	memcpy(r.src, t->dst, 16);
	memcpy(r.dst, t->src, 16);
	if (t->proto != NF_IPPROTO_ICMP && t->proto != NF_IPPROTO_ICMPV6) {
		r.sport = t->dport;
		r.dport = t->sport;
	}
	return r;
}

/* ---- hash ---- */

#if !defined(__SSE4_2__)
static uint32_t crc_tab[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[i] = c;
	}
}
#else
static void crc_init(void)
{
}
#endif

/* The hash of tuple @t: CRC32C of its five 8-byte words. */
static inline uint32_t hash(const struct nf_ct_tuple *t)
{
	const uint8_t *q = (const uint8_t *)t;
#if defined(__SSE4_2__)
	{
		uint64_t c = CRC_SEED;	/* five steps written out: gcc keeps a loop */

		c = __builtin_ia32_crc32di(c, ld64(q));
		c = __builtin_ia32_crc32di(c, ld64(q + 8));
		c = __builtin_ia32_crc32di(c, ld64(q + 16));
		c = __builtin_ia32_crc32di(c, ld64(q + 24));
		c = __builtin_ia32_crc32di(c, ld64(q + 32));
		return (uint32_t)c;
	}
#else
	{
		uint32_t c = CRC_SEED, i;

		for (i = 0; i < 40; i++)
			c = crc_tab[(c ^ q[i]) & 0xff] ^ (c >> 8);
		return c;
	}
#endif
}

static inline uint16_t sig_of(uint32_t h)
{
	return (uint16_t)(h >> 16 | 1);
}

static inline uint32_t alt_of(const struct nf_ct *ct, uint32_t b, uint16_t sig)
{
	return (b ^ sig * ALT_MUL) & ct->mask;
}

/* Slots of @b holding @sig: bit 2i (and 2i+1) for slot i. */
static inline uint32_t match(const struct bucket *b, uint16_t sig)
{
#if defined(__SSE2__)
	__m128i s = _mm_load_si128((const __m128i *)b->sig);

	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(s, _mm_set1_epi16((short)sig)));
#else
	uint32_t m = 0, i;

	for (i = 0; i < SLOTS; i++)
		if (b->sig[i] == sig)
			m |= 3u << (2 * i);
	return m;
#endif
}

static inline int free_slot(const struct bucket *b)
{
	uint32_t m = match(b, 0);

	return m ? (int)(__builtin_ctz(m) >> 1) : -1;
}

/* The slot value of the live entry holding tuple @t (hash @h), or NONE. */
static uint32_t find(const struct nf_ct *ct, const struct nf_ct_tuple *t, uint32_t h,
		     uint32_t now)
{
	uint16_t sig = sig_of(h);
	uint32_t b = h & ct->mask;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		const struct bucket *bk = &ct->bkt[b];
		uint32_t m = match(bk, sig);

		while (m) {
			uint32_t v = bk->val[__builtin_ctz(m) >> 1];
			const struct nf_ct_entry *e = &ct->hot.ent[v >> 1];

			if (same(&e->t[v & 1], t) && alive(e, now))
				return v;
			m &= m - 1;
			m &= m - 1;
		}
		b = alt_of(ct, b, sig);
	}
	return NONE;
}

/* The first part of find() for nf_ct_in(): the slot value of the first
 * signature match in the primary bucket of hash @h (nearly every hit),
 * or NONE. The entry is not looked at (see first_is()). */
static inline uint32_t first_slot(const struct nf_ct *ct, uint32_t h)
{
	const struct bucket *bk = &ct->bkt[h & ct->mask];
	uint32_t m = match(bk, sig_of(h));

	return nf_likely(m != 0) ? bk->val[__builtin_ctz(m) >> 1] : NONE;
}

/* The rest: does slot value @v (not NONE) hold the live entry of @t? */
static inline bool first_is(const struct nf_ct *ct, uint32_t v, const struct nf_ct_tuple *t,
			    uint32_t now)
{
	const struct nf_ct_entry *e = &ct->hot.ent[v >> 1];

	return same(&e->t[v & 1], t) && alive(e, now);
}

static void move_slot(struct nf_ct *ct, uint32_t fb, unsigned fs, uint32_t tb, unsigned ts)
{
	ct->bkt[tb].sig[ts] = ct->bkt[fb].sig[fs];
	ct->bkt[tb].val[ts] = ct->bkt[fb].val[fs];
	ct->bkt[fb].sig[fs] = 0;
}

struct bfs_node {
	uint32_t bkt;
	int16_t prev;		/* node whose slot moves here, -1 at a root */
	uint8_t slot;		/* that slot, in the previous node's bucket */
};

static bool on_path(const struct bfs_node *q, int n, uint32_t b)
{
	for (; n >= 0; n = q[n].prev)
		if (q[n].bkt == b)
			return true;
	return false;
}

/* Both candidate buckets are full: search breadth first (at most
 * BFS_NODES buckets, no bucket twice on a path) for an entry that can move
 * to its other bucket, then move the chain back to a root. Returns the
 * root bucket and its freed slot in *slot, or NONE. */
static uint32_t make_room(struct nf_ct *ct, uint32_t b1, uint32_t b2, unsigned *slot)
{
	struct bfs_node q[BFS_NODES];
	unsigned head = 0, tail = 0, s;

	q[tail++] = (struct bfs_node){ b1, -1, 0 };
	q[tail++] = (struct bfs_node){ b2, -1, 0 };
	while (head < tail) {
		int n = (int)head++;
		uint32_t nb = q[n].bkt;

		for (s = 0; s < SLOTS; s++) {
			uint32_t a = alt_of(ct, nb, ct->bkt[nb].sig[s]);
			int fs = free_slot(&ct->bkt[a]);
			unsigned hole;

			if (fs < 0) {
				if (tail < BFS_NODES && !on_path(q, n, a))
					q[tail++] = (struct bfs_node){ a, (int16_t)n, (uint8_t)s };
				continue;
			}
			move_slot(ct, nb, s, a, (unsigned)fs);
			for (hole = s; q[n].prev >= 0; n = q[n].prev) {
				move_slot(ct, q[q[n].prev].bkt, q[n].slot, q[n].bkt, hole);
				hole = q[n].slot;
			}
			*slot = hole;
			return q[n].bkt;
		}
	}
	return NONE;
}

/* Put @val for the tuple of hash @h. 0 or -ENOSPC. */
static int slot_add(struct nf_ct *ct, uint32_t h, uint32_t val)
{
	uint16_t sig = sig_of(h);
	uint32_t b = h & ct->mask, b2 = alt_of(ct, b, sig);
	int s = free_slot(&ct->bkt[b]);
	unsigned us;

	if (s < 0) {
		s = free_slot(&ct->bkt[b2]);
		b = b2;
	}
	if (s < 0) {
		b = make_room(ct, h & ct->mask, b2, &us);
		if (b == NONE)
			return -ENOSPC;
		s = (int)us;
	}
	ct->bkt[b].sig[s] = sig;
	ct->bkt[b].val[s] = val;
	return 0;
}

/* Remove @val, the slot of tuple @t. */
static void slot_del(struct nf_ct *ct, const struct nf_ct_tuple *t, uint32_t val)
{
	uint32_t h = hash(t);
	uint16_t sig = sig_of(h);
	uint32_t b = h & ct->mask;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		struct bucket *bk = &ct->bkt[b];
		uint32_t m = match(bk, sig);

		while (m) {
			unsigned s = (unsigned)__builtin_ctz(m) >> 1;

			if (bk->val[s] == val) {
				bk->sig[s] = 0;
				bk->val[s] = 0;
				return;
			}
			m &= m - 1;
			m &= m - 1;
		}
		b = alt_of(ct, b, sig);
	}
}

/* Take entry @idx out of the table and free it. */
static void unlink_entry(struct nf_ct *ct, uint32_t idx)
{
	struct nf_ct_entry *e = &ct->hot.ent[idx];

	slot_del(ct, &e->t[NF_CT_ORIG], idx << 1);
	slot_del(ct, &e->t[NF_CT_REPLY], idx << 1 | 1);
	e->t[NF_CT_ORIG].family = 0;
	e->gen++;			/* references to this life are stale */
	ct->freel[ct->nfree++] = idx;
}

/* UDP and UDP-Lite, Linux 6.x: the stream timeout (and ASSURED) once a
 * reply was seen and the flow is older than 2 s (aux: its birth + 2 s).
 * SEEN_REPLY is set after this, so the first reply itself is unreplied.
 * Once ASSURED, a stream for good (Linux's 64-bit jiffies never wrap; our
 * 32-bit milliseconds would, after 24.8 days). */
static inline uint32_t udp_timeout(struct nf_ct *ct, struct nf_ct_entry *e, uint32_t idx,
				   uint32_t now)
{
	if ((e->flags & NF_CT_F_ASSURED) ||
	    ((e->flags & NF_CT_F_SEEN_REPLY) && (int32_t)(now - ct->aux[idx]) > 0)) {
		e->flags |= NF_CT_F_ASSURED;
		return ct->hot.to_stream;
	}
	return ct->hot.to_udp;
}

/* Linux's nf_ct_kill(): dead now, freed (and reported) by the sweep. */
static inline void kill(struct nf_ct_entry *e, uint32_t now)
{
	e->expires = now;
}

/* ---- configuration ---- */

void nf_ct_conf_default(struct nf_ct_conf *c, uint32_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max;
	c->tcp_loose = true;
	c->to.tcp[NF_CT_TCP_SYN_SENT] = 120;
	c->to.tcp[NF_CT_TCP_SYN_RECV] = 60;
	c->to.tcp[NF_CT_TCP_ESTABLISHED] = 432000;
	c->to.tcp[NF_CT_TCP_FIN_WAIT] = 120;
	c->to.tcp[NF_CT_TCP_CLOSE_WAIT] = 60;
	c->to.tcp[NF_CT_TCP_LAST_ACK] = 30;
	c->to.tcp[NF_CT_TCP_TIME_WAIT] = 120;
	c->to.tcp[NF_CT_TCP_CLOSE] = 10;
	c->to.tcp[NF_CT_TCP_SYN_SENT2] = 120;
	c->to.tcp_unack = 300;
	c->to.udp = 30;
	c->to.udp_stream = 120;
	c->to.icmp = 30;
	c->to.generic = 600;
}

static inline uint32_t to_ms(uint32_t s)
{
	return NF_MIN(s, (uint32_t)NF_CT_TIMEOUT_MAX) * 1000u;
}

void nf_ct_set_conf(struct nf_ct *ct, const struct nf_ct_conf *c)
{
	int i;

	for (i = 0; i < NF_CT_TCP_MAX; i++)
		ct->hot.to_tcp[i] = to_ms(c->to.tcp[i]);
	ct->to_unack = to_ms(c->to.tcp_unack);
	ct->hot.to_udp = to_ms(c->to.udp);
	ct->hot.to_stream = to_ms(c->to.udp_stream);
	ct->to_icmp = to_ms(c->to.icmp);
	ct->to_generic = to_ms(c->to.generic);
	ct->loose = c->tcp_loose;
}

static int conf_check(const struct nf_ct_conf *c)
{
	const uint32_t *to = (const uint32_t *)&c->to;
	size_t i;

	if (c->max < NF_CT_MAX_MIN || c->max > NF_CT_MAX_MAX) {
		nf_set_error("connection table of %u entries is out of range (%u..%u)",
			     c->max, NF_CT_MAX_MIN, NF_CT_MAX_MAX);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(c->to) / sizeof(*to); i++)
		if (to[i] > NF_CT_TIMEOUT_MAX) {
			nf_set_error("connection tracking timeout of %u s is out of range "
				     "(0..%u s)", to[i], NF_CT_TIMEOUT_MAX);
			return -EINVAL;
		}
	return 0;
}

/* ---- create, destroy ---- */

/* ct->hot.stay from Linux's table: the transitions that leave one of the
 * TCP_FAST states as it is; ct->hot.tcp_ix, tcp_index with I_NONE for
 * invalid flags (no stay bits: one test instead of two inline). */
static void stay_init(struct nf_ct *ct)
{
	unsigned d, i, s;

	for (i = 0; i < sizeof(tcp_index); i++)
		ct->hot.tcp_ix[i] = tcp_index[i] == 0xff ? I_NONE : tcp_index[i];
	for (d = 0; d < 2; d++)
		for (i = 0; i < I_NONE; i++)
			for (s = 0; s < NF_CT_TCP_MAX; s++)
				if (tcp_next[d][i][s] == s && (TCP_FAST >> s & 1))
					ct->hot.stay[d][i] |= (uint16_t)(1u << s);
}

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

int nf_ct_create(const struct nf_ct_conf *c, struct nf_ct **ctp)
{
	struct nf_ct *ct;
	size_t nb = 2, o_bkt, o_aux, o_free, len;
	uint8_t *m;
	uint32_t i;
	int ret;

	*ctp = NULL;
	ret = conf_check(c);
	if (ret < 0)
		return ret;
	while (nb * 16 < (size_t)c->max * 5)	/* nb >= max / 3.2 */
		nb <<= 1;
	o_bkt = align_up((size_t)c->max * sizeof(struct nf_ct_entry), 4096);
	o_aux = align_up(o_bkt + nb * sizeof(struct bucket), 4096);
	o_free = align_up(o_aux + (size_t)c->max * 4, 4096);
	len = align_up(o_free + (size_t)c->max * 4, 2u << 20);
	ct = calloc(1, sizeof(*ct));
	if (ct == NULL)
		goto nomem;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		goto nomem;
#ifdef MADV_HUGEPAGE
	madvise(m, len, MADV_HUGEPAGE);	/* fewer TLB misses; a hint only */
#endif
	memset(m, 0, len);		/* touch it all now: no page faults later */
	ct->map = m;
	ct->map_len = len;
	ct->hot.ent = (struct nf_ct_entry *)m;
	ct->bkt = (struct bucket *)(m + o_bkt);
	ct->aux = (uint32_t *)(m + o_aux);
	ct->freel = (uint32_t *)(m + o_free);
	ct->mask = (uint32_t)nb - 1;
	ct->max = c->max;
	for (i = 0; i < c->max; i++)	/* pops give 0, 1, 2... */
		ct->freel[i] = c->max - 1 - i;
	ct->nfree = c->max;
	ct->slice = NF_MIN(NF_MAX(c->max / 100, 64u), c->max);
	nf_ct_set_conf(ct, c);
	stay_init(ct);
	crc_init();
	*ctp = ct;
	return 0;
nomem:
	nf_set_error("cannot allocate a connection table of %u entries (%zu MiB)",
		     c->max, (o_free + (size_t)c->max * 4) >> 20);
	free(ct);
	return -ENOMEM;
}

void nf_ct_destroy(struct nf_ct *ct)
{
	if (ct == NULL)
		return;
	munmap(ct->map, ct->map_len);
	free(ct);
}

/* ---- per-packet work ---- */

/* Refresh and count an accepted packet. */
static inline void account(struct nf_ct_entry *e, unsigned dir, uint32_t expires,
			   uint32_t len)
{
	e->expires = expires;
	e->packets[dir]++;
	e->bytes[dir] += len;
}

static inline enum nf_ct_state fill(struct nf_ct_pkt *p, uint32_t v, enum nf_ct_state st)
{
	p->idx = v >> 1;
	p->dir = v & 1;
	return st;
}

static enum nf_ct_state invalid(struct nf_ct *ct)
{
	ct->invalid++;
	return NF_CT_INVALID;
}

/* May a TCP packet with @flags start an entry? Linux's tcp_new(). */
static bool tcp_may_start(const struct nf_ct *ct, uint8_t flags)
{
	uint8_t ix = tcp_index[TF(flags)];

	if (ix == 0xff || tcp_next[0][ix][sNO] >= sIV)
		return false;
	return ix == I_SYN || ct->loose;
}

/* TCP segment length as Linux's segment_seq_plus_len() counts it. */
static uint32_t tcp_end(const uint8_t *th, uint32_t l4_len)
{
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;

	return rd32(th + 4) + (l4_len - doff) + !!(th[13] & NF_TCP_SYN) +
	       !!(th[13] & NF_TCP_FIN);
}

/* Linux's nf_conntrack_tcp_packet() for a known entry @v, the cases off
 * the common path (TCP header @th, flags valid). Returns the state, with
 * the entry updated. */
static __attribute__((noinline)) enum nf_ct_state
tcp_special(struct nf_ct *ct, uint32_t v, const uint8_t *th, const struct nf_hdrs *h,
	    uint32_t now, struct nf_ct_pkt *p)
{
	uint32_t idx = v >> 1;
	unsigned dir = v & 1, ix = tcp_index[TF(th[13])];
	struct nf_ct_entry *e = &ct->hot.ent[idx];
	unsigned old = e->tcp_state, nw = tcp_next[dir][ix][old];
	uint32_t to;

	switch (nw) {
	case sSS:
		if (old < sTW)
			break;
		/* Reopening a closed / aborted connection: Linux kills the
		 * entry and looks the packet up again: it is NEW. */
		if ((e->flags & F_CLOSE_INIT) ||
		    (e->tcp_last_dir == dir && e->tcp_last_index == I_RST)) {
			kill(e, now);
			return NF_CT_NEW;
		}
		/* fall through */
	case sIG:
		if (ix == I_SYNACK && e->tcp_last_index == I_SYN &&
		    e->tcp_last_dir != dir && rd32(th + 8) == ct->aux[idx]) {
			/* a SYN/ACK answering a SYN we ignored: in sync again;
			 * Linux resets both sides' flags (the close seen
			 * before is forgotten) and the challenge-ACK mark */
			old = sSS;
			nw = sSR;
			e->flags &= (uint8_t)~(F_CLOSE_INIT | F_CHALLENGE);
			break;
		}
		e->tcp_last_index = (uint8_t)ix;
		e->tcp_last_dir = (uint8_t)dir;
		ct->aux[idx] = tcp_end(th, h->l4_len);
		if (ix == I_SYN && dir == NF_CT_ORIG) {
			e->flags &= (uint8_t)~(F_SIMUL_OPEN | F_CHALLENGE);
			if (old == sLA)
				e->flags |= F_CHALLENGE;
		}
		goto accept_unchanged;
	case sIV:
		return invalid(ct);
	case sTW:
		if (old == sLA && ix == I_ACK && e->tcp_last_dir != dir &&
		    e->tcp_last_index == I_SYN && (e->flags & F_CHALLENGE)) {
			/* the RFC 5961 challenge ACK to that SYN, not the
			 * last ACK */
			e->flags &= (uint8_t)~F_CHALLENGE;
			goto accept_unchanged;
		}
		break;
	case sS2:
		e->flags |= F_SIMUL_OPEN;
		break;
	case sSR:
		if (dir == NF_CT_REPLY && ix == I_ACK && (e->flags & F_SIMUL_OPEN))
			nw = sES;
		break;
	}
	/* In window (there is no window check). Linux's in_window label. */
	e->tcp_last_index = (uint8_t)ix;
	e->tcp_last_dir = (uint8_t)dir;
	e->tcp_state = (uint8_t)nw;
	if (old != nw && nw == sFW)
		e->flags |= F_CLOSE_INIT;
	to = ix == I_RST ? ct->hot.to_tcp[sCL] : ct->hot.to_tcp[nw];
	if (!(e->flags & NF_CT_F_SEEN_REPLY)) {
		if (ix == I_RST) {
			/* the only answer is a RST: gone */
			account(e, dir, now, h->l3_len);
			goto done;
		}
		if (ix == I_SYN && old == sSS)	/* retransmitted SYN */
			goto accept_unchanged;
		if (nw == sES)			/* loose pickup, no reply yet */
			to = NF_MIN(to, ct->to_unack);
	} else if (!(e->flags & NF_CT_F_ASSURED) && (old == sSR || old == sES) && nw == sES) {
		e->flags |= NF_CT_F_ASSURED;
	}
	account(e, dir, now + to, h->l3_len);
	goto done;
accept_unchanged:
	e->packets[dir]++;
	e->bytes[dir] += h->l3_len;
done:
	e->flags |= (uint8_t)dir;	/* NF_CT_F_SEEN_REPLY */
	return fill(p, v, NF_CT_ESTABLISHED);
}

/* ---- ICMP ---- */

static inline bool icmp4_query(uint8_t type, bool *request)
{
	switch (type) {
	case 8: case 13: case 15: case 17:	/* echo, timestamp, info, mask */
		*request = true;
		return true;
	case 0: case 14: case 16: case 18:
		*request = false;
		return true;
	}
	return false;
}

static inline bool icmp6_query(uint8_t type, bool *request)
{
	switch (type) {
	case NF_ICMP6_ECHO_REQUEST: case 139:	/* echo, node information */
		*request = true;
		return true;
	case NF_ICMP6_ECHO_REPLY: case 140:
		*request = false;
		return true;
	}
	return false;
}

static inline bool icmp4_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The tuple of the packet quoted in an ICMP error, [q, end) of frame @f:
 * an IP header of the outer family, then enough of L4 for the tuple
 * (Linux's nf_ct_get_tuplepr: 4 bytes for ports, 8 for ICMP). 0, or -1
 * when it is too short or not trackable. Every byte is checked to be
 * inside the outer packet before it is read. */
static int quoted_tuple(const uint8_t *f, uint32_t q, uint32_t end, uint8_t fam,
			struct nf_ct_tuple *t)
{
	uint32_t left = end > q ? end - q : 0, off, n = 0;
	const uint8_t *ip = f + q;
	uint8_t proto;
	bool req;

	memset(t, 0, sizeof(*t));
	t->family = fam;
	if (fam == 4) {
		if (left < 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
			return -1;
		off = (uint32_t)(ip[0] & 15) * 4;
		if (off > left || (ip[6] & 0x1f) || ip[7])	/* a later fragment */
			return -1;
		proto = ip[9];
		memcpy(t->src, ip + 12, 4);
		memcpy(t->dst, ip + 16, 4);
	} else {
		if (left < 40 || ip[0] >> 4 != 6)
			return -1;
		proto = ip[6];
		memcpy(t->src, ip + 8, 16);
		memcpy(t->dst, ip + 24, 16);
		/* Linux's ipv6_skip_exthdr(), bounded */
		for (off = 40;; n++) {
			uint32_t len;

			if (proto != NF_IPPROTO_HOPOPTS && proto != NF_IPPROTO_ROUTING &&
			    proto != NF_IPPROTO_DSTOPTS && proto != NF_IPPROTO_AH &&
			    proto != NF_IPPROTO_FRAGMENT)
				break;
			if (n == 8 || left - off < 8)
				return -1;
			if (proto == NF_IPPROTO_FRAGMENT) {
				if ((ip[off + 2] << 8 | ip[off + 3]) & 0xfff8)
					return -1;
				len = 8;
			} else if (proto == NF_IPPROTO_AH) {
				len = ((uint32_t)ip[off + 1] + 2) * 4;
			} else {
				len = ((uint32_t)ip[off + 1] + 1) * 8;
			}
			if (len > left - off)
				return -1;
			proto = ip[off];
			off += len;
		}
		if (proto == NF_IPPROTO_NONE)
			return -1;
	}
	t->proto = proto;
	left -= off;
	ip += off;
	switch (proto) {
	case NF_IPPROTO_TCP: case NF_IPPROTO_UDP:
	case IPPROTO_UDPLITE_: case IPPROTO_SCTP_: case IPPROTO_DCCP_:
		if (left < 4)
			return -1;
		memcpy(&t->sport, ip, 4);
		return 0;
	case NF_IPPROTO_ICMP:
		if (fam != 4 || left < 8 || !icmp4_query(ip[0], &req))
			return -1;
		memcpy(&t->sport, ip + 4, 2);
		return 0;
	case NF_IPPROTO_ICMPV6:
		if (fam != 6 || left < 8 || !icmp6_query(ip[0], &req))
			return -1;
		memcpy(&t->sport, ip + 4, 2);
		return 0;
	}
	return 0;
}

/* An ICMP / ICMPv6 error quoting the packet at frame offset @q: RELATED
 * when the quoted packet belongs to a live entry whose destination that
 * way is the error's destination (Linux's nf_conntrack_inet_error()). */
static enum nf_ct_state icmp_err(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h,
				 uint32_t q, uint8_t fam, uint32_t now, struct nf_ct_pkt *p)
{
	const uint8_t *daddr = f + h->l3_off + (fam == 4 ? 16 : 24);
	struct nf_ct_tuple inv;
	struct nf_ct_entry *e;
	uint32_t v;

	p->icmp_error = 1;
	if (quoted_tuple(f, q, (uint32_t)h->l3_off + h->l3_len, fam, &p->inner) < 0)
		return invalid(ct);
	/* the quoted packet went the other way: its inverse is ours */
	inv = invert(&p->inner);
	ct->hot.searched++;
	v = find(ct, &inv, hash(&inv), now);
	if (v == NONE)
		return invalid(ct);
	e = &ct->hot.ent[v >> 1];
	if (memcmp(e->t[v & 1].dst, daddr, fam == 4 ? 4 : 16) != 0)
		return invalid(ct);
	e->packets[v & 1]++;
	e->bytes[v & 1] += h->l3_len;
	return fill(p, v, NF_CT_RELATED);
}

/* ICMPv6 redirect (137), Linux's nf_conntrack_icmpv6_redirect(): code 0,
 * hop limit 255, a link-local source and a redirected-header option
 * first make it an error quoting the packet at *q (true). Every other
 * redirect is INVALID in Linux too (no inverse type to track it by). */
static bool icmp6_redirect(const uint8_t *f, const struct nf_hdrs *h, uint32_t *q)
{
	const uint8_t *ip = f + h->l3_off, *ic = f + h->l4_off;
	uint32_t o = h->l4_off + 40;	/* after target and destination */

	if (h->l4_len < 42 || ic[1] != 0 || ip[7] != 255 ||
	    ip[8] != 0xfe || (ip[9] & 0xc0) != 0x80)
		return false;
	if (f[o] != 4 || f[o + 1] == 0)
		return false;
	*q = o + 8;
	return true;
}

/* ---- the other protocols ---- */

/* Build @p->t for a non-TCP/UDP packet; the protocol's checks. Returns
 * 0, or an nf_ct_state to return as it is. */
static enum nf_ct_state slow_in(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h,
				uint32_t now, struct nf_ct_pkt *p)
{
	const uint8_t *ip = f + h->l3_off, *l4 = f + h->l4_off;
	uint8_t proto = h->l4_proto, fam = h->ethertype == NF_ETH_P_IPV4 ? 4 : 6;
	bool icmp = false, req = false, udplite = false;
	uint32_t ports = 0, v, to, q;
	struct nf_ct_entry *e;
	uint64_t tail;
	unsigned dir;

	/* the tuple without ports first: INVALID packets and ICMP errors
	 * have it too */
	put_tuple(&p->t, ip, fam == 4, tail_word(0, proto, fam));
	switch (proto) {
	case NF_IPPROTO_ICMP:
	case NF_IPPROTO_ICMPV6:
		if ((proto == NF_IPPROTO_ICMP) != (fam == 4) || !(h->flags & NF_HDR_L4))
			return invalid(ct);	/* ICMP over IPv6, ICMPv6 over IPv4 */
		if (fam == 4) {
			if (l4[0] > 18)
				return invalid(ct);
			if (icmp4_error(l4[0]))
				return icmp_err(ct, f, h, h->l4_off + 8, 4, now, p);
			if (!icmp4_query(l4[0], &req))
				return invalid(ct);
		} else {
			switch (l4[0]) {
			case 130: case 131: case 132: case 133: case 134:
			case 135: case 136: case 143: case 151: case 152:
				return NF_CT_UNTRACKED;	/* MLD, ND: Linux too */
			case 137:
				if (icmp6_redirect(f, h, &q))
					return icmp_err(ct, f, h, q, 6, now, p);
				return invalid(ct);
			}
			if (l4[0] < 128)
				return icmp_err(ct, f, h, h->l4_off + 8, 6, now, p);
			if (!icmp6_query(l4[0], &req))
				return invalid(ct);
		}
		icmp = true;
		ports = ld16(l4 + 4);		/* the identifier; dport 0 */
		break;
	case IPPROTO_UDPLITE_:
		/* Linux's udplite_error(): coverage 0 (all) or 8..length,
		 * checksum mandatory */
		if (h->l4_len < 8 || !(l4[6] | l4[7]))
			return invalid(ct);
		q = (uint32_t)l4[4] << 8 | l4[5];
		if (q != 0 && (q < 8 || q > h->l4_len))
			return invalid(ct);
		udplite = true;
		ports = ld32(l4);
		break;
	case IPPROTO_SCTP_:
	case IPPROTO_DCCP_:
		if (h->l4_len < 12)		/* their common headers */
			return invalid(ct);
		ports = ld32(l4);
		break;
	case NF_IPPROTO_NONE:
		if (fam == 6)			/* Linux: ipv6_skip_exthdr() fails */
			return invalid(ct);
		break;
	}
	tail = tail_word(ports, proto, fam);
	memcpy(&p->t.sport, &tail, 8);
	ct->hot.searched++;
	v = find(ct, &p->t, hash(&p->t), now);
	if (v == NONE) {
		if (icmp && !req)	/* Linux: only requests start an entry */
			return invalid(ct);
		return NF_CT_NEW;
	}
	dir = v & 1;
	e = &ct->hot.ent[v >> 1];
	if (icmp) {
		if (req != (dir == NF_CT_ORIG))
			return invalid(ct);
		to = ct->to_icmp;
	} else if (udplite) {
		to = udp_timeout(ct, e, v >> 1, now);
	} else {
		to = ct->to_generic;
	}
	account(e, dir, now + to, h->l3_len);
	e->flags |= (uint8_t)dir;
	return fill(p, v, NF_CT_ESTABLISHED);
}

/* A UDP packet of entry @v that is not ASSURED yet. */
static enum nf_ct_state udp_in(struct nf_ct *ct, uint32_t v, uint32_t len, uint32_t now,
			       struct nf_ct_pkt *p)
{
	struct nf_ct_entry *e = &ct->hot.ent[v >> 1];

	account(e, v & 1, now + udp_timeout(ct, e, v >> 1, now), len);
	e->flags |= (uint8_t)(v & 1);		/* NF_CT_F_SEEN_REPLY */
	return fill(p, v, NF_CT_ESTABLISHED);
}

/* Everything but a valid TCP or UDP packet with a complete header:
 * prep() said no. */
static enum nf_ct_state in_slow(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h,
				uint32_t now, struct nf_ct_pkt *p)
{
	if ((h->flags & NF_HDR_L4) &&
	    (h->l4_proto == NF_IPPROTO_TCP || h->l4_proto == NF_IPPROTO_UDP))
		return invalid(ct);	/* prep(): Linux's tcp_error(), udp_error() */
	memset(&p->t, 0, sizeof(p->t));
	if ((h->ethertype != NF_ETH_P_IPV4 && h->ethertype != NF_ETH_P_IPV6) ||
	    h->l3_len == 0 || (h->flags & NF_HDR_FRAG_LATER))
		return NF_CT_UNTRACKED;
	if (h->l4_proto == NF_IPPROTO_TCP || h->l4_proto == NF_IPPROTO_UDP)
		return invalid(ct);	/* no complete header: the parse failed */
	return slow_in(ct, f, h, now, p);
}

/* Entry @v was found for the TCP or UDP packet @p (TCP flags index @ix):
 * the common case of updating it, inline. An ASSURED UDP entry is a
 * stream for good (see udp_timeout); before any reply, a packet the ORIG
 * way stays unreplied. TCP: an assured entry staying in a state that has
 * no special case in Linux's nf_conntrack_tcp_packet() for a packet that
 * does not change it (a RST here is one in CLOSE: its timeout is CLOSE's
 * either way): ct->hot.stay. ESTABLISHED, or -1: hit_slow() decides. */
static inline int hit(struct nf_ct *ct, uint32_t v, unsigned ix, uint32_t now,
		      struct nf_ct_pkt *p)
{
	struct nf_ct_entry *e = &ct->hot.ent[v >> 1];
	const unsigned dir = v & 1, fl = e->flags;
	uint32_t to;

	if (p->t.proto == NF_IPPROTO_UDP) {
		if (nf_likely(fl & NF_CT_F_ASSURED))
			to = ct->hot.to_stream;
		else if (nf_likely(!((fl & NF_CT_F_SEEN_REPLY) | dir)))
			to = ct->hot.to_udp;
		else
			return -1;
	} else {
		const unsigned old = e->tcp_state;

		if (nf_unlikely(!(ct->hot.stay[dir][ix] >> old & 1) || !(fl & NF_CT_F_ASSURED)))
			return -1;
		e->tcp_last_index = (uint8_t)ix;
		e->tcp_last_dir = (uint8_t)dir;
		to = ct->hot.to_tcp[old];
	}
	/* (an ASSURED entry has SEEN_REPLY already; an unreplied one went ORIG) */
	account(e, dir, now + to, p->len);
	return fill(p, v, NF_CT_ESTABLISHED);
}

/* The rest of a hit: UDP before ASSURED, TCP state changes and Linux's
 * special cases. */
static __attribute__((noinline)) enum nf_ct_state
hit_slow(struct nf_ct *ct, uint32_t v, const uint8_t *f, const struct nf_hdrs *h, uint32_t now,
	 struct nf_ct_pkt *p)
{
	if (p->t.proto == NF_IPPROTO_UDP)
		return udp_in(ct, v, p->len, now, p);
	return tcp_special(ct, v, f + h->l4_off, h, now, p);
}

/* The first part of nf_ct_in(): @p's fields, and for the common case,
 * an IPv4 or IPv6 TCP or UDP packet with a complete header (not a later
 * fragment: those have no L4 flag) valid for Linux's tcp_error() /
 * udp_error(), its tuple and TCP flags index (*ix, 0 for UDP): true.
 * False: in_slow() decides (p->t may be written). */
static inline bool prep(const uint8_t *f, const struct nf_hdrs *h, struct nf_ct_pkt *p,
			unsigned *ix)
{
	const uint8_t *l4 = f + h->l4_off;
	const uint8_t proto = h->l4_proto;
	const bool v4 = h->ethertype == NF_ETH_P_IPV4;

	p->idx = NONE;
	p->dir = 0;
	p->tcp_flags = 0;
	p->icmp_error = 0;
	p->pad = 0;
	p->len = h->l3_len;
	if (nf_unlikely(!(h->flags & NF_HDR_L4) ||
			(proto != NF_IPPROTO_TCP && proto != NF_IPPROTO_UDP)))
		return false;
	put_tuple(&p->t, f + h->l3_off, v4, tail_word(ld32(l4), proto, v4 ? 4 : 6));
	if (proto == NF_IPPROTO_TCP) {
		p->tcp_flags = l4[13];
		*ix = tcp_index[TF(l4[13])];
		return *ix != 0xff;
	}
	/* UDP: the length field within the packet (a first fragment
	 * carries only part of the datagram): 8 <= length <= l4_len */
	*ix = 0;
	return (h->flags & NF_HDR_FRAG) ||
	       (uint32_t)__builtin_bswap16(ld16(l4 + 4)) - 8 <= h->l4_len - 8u;
}

/* Packet @p (prep() took it, hash @hv, TCP flags index @ix) when the
 * first signature match of its primary bucket (@v, NONE if none) is not
 * its entry: the full search, then as a hit. @v SLOW: prep() refused it. */
static __attribute__((noinline)) enum nf_ct_state
in_rest(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h, uint32_t now,
	struct nf_ct_pkt *p, uint32_t hv, uint32_t v, unsigned ix)
{
	int s;

	if (v == SLOW)
		return in_slow(ct, f, h, now, p);
	ct->hot.searched++;
	v = find(ct, &p->t, hv, now);
	if (v == NONE) {	/* no entry: NEW, or flags that cannot start one */
		if (p->t.proto == NF_IPPROTO_TCP && !tcp_may_start(ct, p->tcp_flags))
			return invalid(ct);
		return NF_CT_NEW;
	}
	s = hit(ct, v, ix, now, p);
	return s >= 0 ? (enum nf_ct_state)s : hit_slow(ct, v, f, h, now, p);
}

/* Packet @p after prep(), hash @hv, first slot @v (first_slot(), or
 * SLOW): the state as nf_ct_in() says, the common case inline; -1 when
 * classify_rest() must say. */
static inline int classify(struct nf_ct *ct, uint32_t now, struct nf_ct_pkt *p, uint32_t v,
			   unsigned ix)
{
	if (nf_unlikely(v >= SLOW || !first_is(ct, v, &p->t, now)))
		return -1;
	ct->hot.searched++;
	return hit(ct, v, ix, now, p);
}

/* The rest of classify(). */
static __attribute__((noinline)) enum nf_ct_state
classify_rest(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h, uint32_t now,
	      struct nf_ct_pkt *p, uint32_t hv, uint32_t v, unsigned ix)
{
	if (v < SLOW && first_is(ct, v, &p->t, now))	/* hit() said no */
		return hit_slow(ct, v, f, h, now, p);
	return in_rest(ct, f, h, now, p, hv, v, ix);
}

/* Cost (bench/ct.sh, callgrind, gcc 12 -O2 -march=x86-64-v3): see the
 * file comment and docs/BENCHMARKS.md, "Connection tracker (nf_ct)". */
enum nf_ct_state nf_ct_in(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h,
			  uint64_t now_ns, struct nf_ct_pkt *p)
{
	uint32_t now = nf_ct_ms(now_ns), hv, v;
	unsigned ix;
	int s;

	ct->hot.now = now;
	if (nf_unlikely(!prep(f, h, p, &ix)))
		return in_slow(ct, f, h, now, p);
	hv = hash(&p->t);
	v = first_slot(ct, hv);
	if (nf_unlikely(v == NONE || !first_is(ct, v, &p->t, now)))
		return in_rest(ct, f, h, now, p, hv, v, ix);
	ct->hot.searched++;
	s = hit(ct, v, ix, now, p);
	if (nf_unlikely(s < 0))
		return hit_slow(ct, v, f, h, now, p);
	return (enum nf_ct_state)s;
}

/* nf_ct_in() over a burst in passes, so that the cache misses of
 * different packets overlap (DPDK's rte_hash_lookup_bulk): tuples and
 * hashes, prefetching the primary buckets; then each packet in order as
 * nf_ct_in() takes it, prefetching the entry of the first signature
 * match of a packet AHEAD places on. Nothing in nf_ct_in() moves a slot
 * (only confirm, delete, expire and flush do), so a slot read ahead is
 * still there when its packet comes. */
#define AHEAD 4

static inline void slot_ahead(const struct nf_ct *ct, uint32_t *sl, const uint32_t *hv)
{
	if (nf_likely(*sl != SLOW)) {
		*sl = first_slot(ct, *hv);
		if (nf_likely(*sl != NONE)) {
			const char *e = (const char *)&ct->hot.ent[*sl >> 1];

			__builtin_prefetch(e, 1);
			__builtin_prefetch(e + 64, 1);
		}
	}
}

unsigned nf_ct_in_burst(struct nf_ct *ct, const uint8_t *const *f,
			const struct nf_hdrs *const *h, unsigned n, uint64_t now_ns,
			struct nf_ct_pkt *p, uint8_t *st)
{
	const uint32_t now = nf_ct_ms(now_ns);
	uint32_t hv[CHUNK], sl[CHUNK];
	uint8_t ix[CHUNK];
	unsigned done, i, m;

	ct->hot.now = now;
	for (done = 0; done < n; done += m) {
		m = NF_MIN(n - done, (unsigned)CHUNK);
		for (i = 0; i < m; i++) {
			unsigned x = 0;

			sl[i] = SLOW;
			if (nf_likely(prep(f[i], h[i], &p[i], &x))) {
				hv[i] = hash(&p[i].t);
				__builtin_prefetch(&ct->bkt[hv[i] & ct->mask]);
				sl[i] = 0;
			}
			ix[i] = (uint8_t)x;
		}
		for (i = 0; i < m && i < AHEAD; i++)
			slot_ahead(ct, &sl[i], &hv[i]);
		for (i = 0; i < m; i++) {
			int s;

			if (i + AHEAD < m)
				slot_ahead(ct, &sl[i + AHEAD], &hv[i + AHEAD]);
			s = classify(ct, now, &p[i], sl[i], ix[i]);
			if (nf_unlikely(s < 0))
				s = classify_rest(ct, f[i], h[i], now, &p[i], hv[i], sl[i], ix[i]);
			st[i] = (uint8_t)s;
			if (nf_unlikely(s == NF_CT_NEW))
				return done + i + 1;
		}
		f += m;
		h += m;
		p += m;
		st += m;
	}
	return n;
}

/* nf_ct_refresh() and nf_ct_refresh_ref() take the cases of hit() (UDP,
 * TCP: nf_ct_refresh_ref()) and slow_in()'s refresh of an ICMP query
 * whose direction flag is set already (icmp_refresh()), with prep()'s
 * and slow_in()'s validity checks; anything else is left to nf_ct_in().
 * The entry is the one nf_ct_in() would find: the caller found the tuple
 * there, the entry lives (and is the same life: gen), and two live
 * entries never share a tuple (nf_ct_confirm() refuses). Only an entry
 * whose two tuples are equal could answer for the other direction:
 * nf_ct_ref_get() refuses it (the sources equal is enough to refuse).
 * Its checks hold for the whole life of the entry: the tuples change
 * only when the entry is freed (t[ORIG].family 0, gen + 1) and made
 * again. */
int nf_ct_ref_get(struct nf_ct *ct, uint32_t idx, unsigned dir, struct nf_ct_ref *r)
{
	const struct nf_ct_entry *e;

	if (nf_unlikely(idx >= ct->max || dir > 1))
		return -EAGAIN;
	e = &ct->hot.ent[idx];
	if (nf_unlikely(e->t[NF_CT_ORIG].family == 0 ||
			memcmp(e->t[NF_CT_ORIG].src, e->t[NF_CT_REPLY].src, 16) == 0))
		return -EAGAIN;
	r->idx = idx;
	r->gen = e->gen;
	r->dir = (uint8_t)dir;
	return 0;
}

/* nf_ct_refresh() of an ICMP or ICMPv6 packet @f (@h, a complete header)
 * through @r. */
static __attribute__((noinline)) int icmp_refresh(struct nf_ct *ct, const struct nf_ct_ref *r,
						  const uint8_t *f, const struct nf_hdrs *h,
						  uint32_t now)
{
	const uint8_t *l4 = f + h->l4_off;
	const uint8_t proto = h->l4_proto;
	const bool v4 = h->ethertype == NF_ETH_P_IPV4;
	struct nf_ct_entry *e = &ct->hot.ent[r->idx];
	const unsigned dir = r->dir;
	bool req = false;

	if ((proto == NF_IPPROTO_ICMP) != v4 || h->l3_len == 0 ||
	    !(v4 ? icmp4_query(l4[0], &req) : icmp6_query(l4[0], &req)) ||
	    req != (dir == NF_CT_ORIG) || (e->flags & dir) != dir || !alive(e, now))
		return -EAGAIN;
	ct->hot.now = now;
	ct->hot.searched++;
	account(e, dir, now + ct->to_icmp, h->l3_len);
	return 0;
}

int nf_ct_refresh(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h, uint32_t idx,
		  unsigned dir, uint64_t now_ns)
{
	struct nf_ct_ref r;

	if (nf_unlikely(!(h->flags & NF_HDR_L4) || nf_ct_ref_get(ct, idx, dir, &r) < 0))
		return -EAGAIN;
	if (h->l4_proto == NF_IPPROTO_ICMP || h->l4_proto == NF_IPPROTO_ICMPV6)
		return icmp_refresh(ct, &r, f, h, nf_ct_ms(now_ns));
	return nf_ct_refresh_ref(ct, &r, f + h->l4_off, h, nf_ct_ms(now_ns));
}

/* ---- insert, look up, delete ---- */

int nf_ct_confirm(struct nf_ct *ct, struct nf_ct_pkt *p, const struct nf_ct_tuple *reply,
		  uint64_t now_ns)
{
	uint32_t now = nf_ct_ms(now_ns), idx, h0, h1, to, gen;
	struct nf_ct_tuple r = reply ? *reply : invert(&p->t);
	struct nf_ct_entry *e;

	uint8_t state = 0, ix = 0;
	int ret;

	ct->hot.now = now;
	if ((p->t.family != 4 && p->t.family != 6) || r.family != p->t.family) {
		nf_set_error("connection tuple of family %u/%u: not IPv4 or IPv6",
			     p->t.family, r.family);
		return -EINVAL;
	}
	switch (p->t.proto) {
	case NF_IPPROTO_TCP:
		if (!tcp_may_start(ct, p->tcp_flags)) {
			nf_set_error("TCP flags 0x%02x do not start a connection", p->tcp_flags);
			return -EINVAL;
		}
		ix = tcp_index[TF(p->tcp_flags)];
		state = tcp_next[0][ix][sNO];
		to = ct->hot.to_tcp[state];
		if (state == sES)	/* picked up: no reply yet */
			to = NF_MIN(to, ct->to_unack);
		break;
	case NF_IPPROTO_UDP:
	case IPPROTO_UDPLITE_:
		to = ct->hot.to_udp;
		break;
	case NF_IPPROTO_ICMP:
	case NF_IPPROTO_ICMPV6:
		to = ct->to_icmp;
		break;
	default:
		to = ct->to_generic;
	}
	h0 = hash(&p->t);
	h1 = hash(&r);
	if (find(ct, &p->t, h0, now) != NONE || find(ct, &r, h1, now) != NONE) {
		nf_set_error("a connection with this tuple exists");
		return -EEXIST;
	}
	if (ct->nfree == 0)
		goto full;
	idx = ct->freel[ct->nfree - 1];
	ret = slot_add(ct, h0, idx << 1);
	if (ret == 0) {
		ret = slot_add(ct, h1, idx << 1 | 1);
		if (ret < 0)
			slot_del(ct, &p->t, idx << 1);
	}
	if (ret < 0)
		goto full;
	ct->nfree--;
	e = &ct->hot.ent[idx];
	gen = e->gen;			/* the one thing kept from the last life */
	memset(e, 0, sizeof(*e));
	e->gen = gen;
	e->t[NF_CT_ORIG] = p->t;
	e->t[NF_CT_REPLY] = r;
	e->expires = now + to;
	e->tcp_state = state;
	e->tcp_last_index = ix;
	e->packets[NF_CT_ORIG] = 1;
	e->bytes[NF_CT_ORIG] = p->len;
	ct->aux[idx] = p->t.proto == NF_IPPROTO_UDP || p->t.proto == IPPROTO_UDPLITE_ ?
		       now + UDP_STREAM_MS : 0;
	ct->inserted++;
	p->idx = idx;
	p->dir = NF_CT_ORIG;
	return 0;
full:
	ct->full++;
	nf_set_error("connection table full (%u entries)", ct->max);
	return -ENOSPC;
}

int nf_ct_lookup(struct nf_ct *ct, const struct nf_ct_tuple *t, uint32_t *idx, uint8_t *dir)
{
	uint32_t v;

	ct->hot.searched++;
	v = find(ct, t, hash(t), ct->hot.now);
	if (v == NONE)
		return -ENOENT;
	*idx = v >> 1;
	*dir = v & 1;
	return 0;
}

struct nf_ct_entry *nf_ct_entry(struct nf_ct *ct, uint32_t idx)
{
	return idx < ct->max ? &ct->hot.ent[idx] : NULL;
}

void nf_ct_delete(struct nf_ct *ct, uint32_t idx)
{
	if (idx >= ct->max || ct->hot.ent[idx].t[NF_CT_ORIG].family == 0)
		return;
	unlink_entry(ct, idx);
	ct->deleted++;
}

unsigned nf_ct_expire(struct nf_ct *ct, uint64_t now_ns,
		      void (*cb)(void *arg, uint32_t idx, struct nf_ct_entry *e), void *arg)
{
	uint32_t now = nf_ct_ms(now_ns), i = ct->cursor, n;
	unsigned done = 0;

	ct->hot.now = now;
	for (n = ct->slice; n > 0; n--) {
		struct nf_ct_entry *e = &ct->hot.ent[i];

		if (e->t[NF_CT_ORIG].family != 0 && !alive(e, now)) {
			if (cb)
				cb(arg, i, e);
			if (e->t[NF_CT_ORIG].family != 0)	/* cb may delete */
				unlink_entry(ct, i);
			done++;
		}
		if (++i == ct->max)
			i = 0;
	}
	ct->cursor = i;
	ct->expired += done;
	return done;
}

void nf_ct_foreach(struct nf_ct *ct, int (*fn)(void *arg, uint32_t idx,
					       const struct nf_ct_entry *e), void *arg)
{
	uint32_t i;

	for (i = 0; i < ct->max; i++) {
		const struct nf_ct_entry *e = &ct->hot.ent[i];

		if (e->t[NF_CT_ORIG].family != 0 && alive(e, ct->hot.now) && fn(arg, i, e))
			return;
	}
}

void nf_ct_flush(struct nf_ct *ct)
{
	uint32_t i;

	ct->deleted += ct->max - ct->nfree;
	memset(ct->bkt, 0, ((size_t)ct->mask + 1) * sizeof(struct bucket));
	for (i = 0; i < ct->max; i++) {
		struct nf_ct_entry *e = &ct->hot.ent[i];

		if (e->t[NF_CT_ORIG].family != 0) {
			e->t[NF_CT_ORIG].family = 0;
			e->gen++;	/* as unlink_entry() */
		}
		ct->freel[i] = ct->max - 1 - i;
	}
	ct->nfree = ct->max;
}

void nf_ct_get_stats(const struct nf_ct *ct, struct nf_ct_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->count = ct->max - ct->nfree;
	s->max = ct->max;
	s->inserted = ct->inserted;
	s->deleted = ct->deleted;
	s->expired = ct->expired;
	s->full = ct->full;
	s->invalid = ct->invalid;
	s->searched = ct->hot.searched;
	s->bytes = sizeof(*ct) + ct->map_len;
}

const char *nf_ct_state_name(enum nf_ct_state s)
{
	static const char *const names[] = {
		"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED",
	};

	return (unsigned)s < NF_ARRAY_SIZE(names) ? names[s] : "?";
}

const char *nf_ct_tcp_name(enum nf_ct_tcp s)
{
	static const char *const names[] = {
		"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
		"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
	};

	return (unsigned)s < NF_ARRAY_SIZE(names) ? names[s] : "?";
}

uint32_t nf_ct_ttl(const struct nf_ct *ct, const struct nf_ct_entry *e, uint64_t now_ns)
{
	int32_t left = (int32_t)(e->expires - nf_ct_ms(now_ns));

	(void)ct;
	return left > 0 ? (uint32_t)left / 1000 : 0;
}
