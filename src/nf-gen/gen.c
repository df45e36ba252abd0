/* gen.c - nf-gen transmit path: flow templates and the burst builder.
 *
 * Design. Every flow has a precomputed 96-byte template: Ethernet, IP and
 * UDP headers with the IPv4 header checksum final, the magic, and zeros
 * where the sequence number and timestamp go; beside it the partial UDP
 * checksum (pseudo-header + UDP header + magic). A frame is then:
 *   - one fixed-size copy of the template (64 bytes for IPv4, 96 for IPv6:
 *     four or six 16-byte moves, no call),
 *   - two 8-byte stores: sequence number and the burst's timestamp,
 *   - the UDP checksum: template sum + timestamp sum (once per burst) +
 *     the two 32-bit halves of the sequence number, folded (RFC 1071, no
 *     byte swaps: sums are taken in host order, see nf_csum.h),
 *   - for frames longer than the template, a memset of the zero payload.
 * The next flow is an increment and a compare (no modulo). The clock is
 * read once per burst by the caller; the token bucket is checked once per
 * burst with one division; nothing here makes a system call.
 *
 * Frames are built in place in the port's transmit buffers (nf_tx_get /
 * nf_tx_put) when a buffer can hold the frame and the template copy. When
 * it cannot (9000-byte frames over memif: 2048-byte buffers) frames are
 * built in a local array, where only the headers are rewritten per burst,
 * and sent with nf_tx_burst(), which copies them into chained descriptors.
 * That choice is made on the first burst and kept.
 *
 * Cost: the IPv4 build loop is about 40 instructions per frame (objdump of
 * fill(): 6 16-byte moves, 2 stores, bswap, 10 for the checksum fold, flow
 * and sequence bookkeeping), plus ~20 in the memif server's tx_get/tx_put.
 * Measured throughput is in main.c.
 */
#include "gen.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S	1000000000ull

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Source address of flow @i: SRC-IP + i in the last 32 bits, skipping
 * DST-IP (a frame from the receiver's own address is a martian to Linux). */
void gen_flow_src(const struct gen_conf *c, uint32_t i, uint8_t *out)
{
	const unsigned alen = c->ipv6 ? 16 : 4;
	uint32_t s, d, a;

	memcpy(out, c->src_ip, alen);
	memcpy(&s, c->src_ip + alen - 4, 4);
	memcpy(&d, c->dst_ip + alen - 4, 4);
	s = ntohl(s);
	d = ntohl(d);
	a = s + i;
	if (memcmp(c->src_ip, c->dst_ip, alen - 4) == 0 && s <= d && a >= d)
		a++;
	a = htonl(a);
	memcpy(out + alen - 4, &a, 4);
}

/* MAC @m + @i in its last three bytes, modulo 2^24 (--mac-flows): the
 * first three, the OUI and the group and local bits, stay. */
static void mac_add(uint8_t *m, uint32_t i)
{
	const uint32_t v = ((uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5]) + i;

	m[3] = (uint8_t)(v >> 16);
	m[4] = (uint8_t)(v >> 8);
	m[5] = (uint8_t)v;
}

/* Fill template @t for flow @i. */
static void tpl_build(struct gen_tpl *t, const struct gen_conf *c, uint32_t i)
{
	uint8_t *h = t->hdr, *ip = h + GEN_OFF_IP, *udp, *pay;
	uint16_t ulen, sport = gen_flow_sport(c, i);
	const uint8_t tos = c->ntos > 1 ? c->tos_list[i % c->ntos] : c->tos;
	uint64_t sum;

	memset(t, 0, sizeof(*t));
	memcpy(h, c->dst_mac, 6);
	memcpy(h + 6, c->src_mac, 6);
	if (c->mac_flows) {
		mac_add(h, i);
		mac_add(h + 6, i);
	}
	if (!c->ipv6) {
		uint16_t ck;

		put16(h + 12, 0x0800);
		udp = h + GEN_OFF_UDP4;
		pay = h + GEN_OFF_PAY4;
		ulen = (uint16_t)(c->size - GEN_OFF_UDP4);
		ip[0] = 0x45;
		ip[1] = tos;
		put16(ip + 2, (uint16_t)(c->size - GEN_OFF_IP));
		put16(ip + 6, 0x4000);		/* DF, ID 0 (RFC 6864) */
		ip[8] = 64;
		ip[9] = 17;
		gen_flow_src(c, i, ip + 12);
		memcpy(ip + 16, c->dst_ip, 4);
		ck = nf_csum(ip, 20);
		memcpy(ip + 10, &ck, 2);
		sum = nf_csum_pseudo4(ip + 12, ip + 16, 17, ulen);
	} else {
		put16(h + 12, 0x86dd);
		udp = h + GEN_OFF_UDP6;
		pay = h + GEN_OFF_PAY6;
		ulen = (uint16_t)(c->size - GEN_OFF_UDP6);
		ip[0] = (uint8_t)(0x60 | tos >> 4);	/* traffic class */
		ip[1] = (uint8_t)(tos << 4);
		put16(ip + 4, ulen);
		ip[6] = 17;
		ip[7] = 64;
		gen_flow_src(c, i, ip + 8);
		memcpy(ip + 24, c->dst_ip, 16);
		sum = nf_csum_pseudo6(ip + 8, ip + 24, 17, ulen);
	}
	put16(udp, sport);
	put16(udp + 2, c->dport);
	put16(udp + 4, ulen);
	put16(pay, GEN_MAGIC);
	/* UDP header (checksum 0) + magic; the zeros add nothing. */
	t->sum = nf_csum_partial(udp, 8 + 2, sum);
}

int gen_tx_init(struct gen_tx *g, const struct gen_conf *c, struct nf_port *port)
{
	uint32_t i;

	memset(g, 0, sizeof(*g));
	g->port = port;
	g->size = c->size;
	g->ipv6 = c->ipv6;
	g->burst = c->burst;
	g->nflows = c->flows;
	g->train = c->train;
	g->limit = c->count;
	g->rate = c->rate;
	if (g->rate) {
		/* 10 ms of credit: a loop descheduled for that long catches
		 * up (in bursts of --burst) instead of falling behind. */
		uint64_t depth = NF_MAX((uint64_t)g->burst, g->rate / 100);

		g->credit_max = depth * NS_PER_S;
		g->credit = (uint64_t)g->burst * NS_PER_S;
	}
	g->tpl = aligned_alloc(64, sizeof(*g->tpl) * g->nflows);
	if (g->tpl == NULL) {
		nf_set_error("cannot allocate %u flow templates", g->nflows);
		return -ENOMEM;
	}
	for (i = 0; i < g->nflows; i++)
		tpl_build(&g->tpl[i], c, i);
	return 0;
}

void gen_tx_fini(struct gen_tx *g)
{
	free(g->tpl);
	free(g->local);
	g->tpl = NULL;
	g->local = NULL;
}

/* Write one frame's template, sequence number, timestamp and checksum.
 * @v6 is a constant in every caller, so this specialises into two
 * straight-line versions. */
static inline __attribute__((always_inline)) void
build(uint8_t *d, const struct gen_tpl *t, uint64_t seq, uint64_t ts_be,
      uint64_t ts_sum, const bool v6)
{
	const unsigned pay = v6 ? GEN_OFF_PAY6 : GEN_OFF_PAY4;
	const unsigned ck = (v6 ? GEN_OFF_UDP6 : GEN_OFF_UDP4) + 6;
	uint64_t seq_be = htobe64(seq);
	uint16_t c;

	if (v6)
		memcpy(d, t->hdr, 96);
	else
		memcpy(d, t->hdr, 64);
	memcpy(d + pay + 2, &seq_be, 8);
	memcpy(d + pay + 10, &ts_be, 8);
	c = nf_csum_udp(t->sum + ts_sum + (seq_be & 0xffffffffu) + (seq_be >> 32));
	memcpy(d + ck, &c, 2);
}

/* Build @k frames at pk[i].data. Counters and cursors in locals. */
static inline __attribute__((always_inline)) void
fill(struct gen_tx *g, struct nf_pkt *pk, unsigned k, uint64_t now,
     const bool v6, const bool zero_tail)
{
	const struct gen_tpl *tpl = g->tpl;
	const uint32_t size = g->size, nflows = g->nflows;
	const unsigned cp = v6 ? 96 : 64;
	uint64_t ts_be = htobe64(now);
	uint64_t ts_sum = (ts_be & 0xffffffffu) + (ts_be >> 32);
	const uint32_t train = g->train;
	uint64_t seq = g->seq;
	uint32_t f = g->flow, t = g->tpos;
	unsigned i;

	for (i = 0; i < k; i++) {
		uint8_t *d = pk[i].data;

		build(d, &tpl[f], seq, ts_be, ts_sum, v6);
		if (zero_tail)
			memset(d + cp, 0, size - cp);
		pk[i].len = size;
		seq++;
		if (++t == train) {
			t = 0;
			if (++f == nflows)
				f = 0;
		}
	}
	g->seq = seq;
	g->flow = f;
	g->tpos = t;
}

static void fill_any(struct gen_tx *g, struct nf_pkt *pk, unsigned k,
		     uint64_t now, bool zero_tail)
{
	if (g->ipv6) {
		if (zero_tail)
			fill(g, pk, k, now, true, true);
		else
			fill(g, pk, k, now, true, false);
	} else {
		if (zero_tail)
			fill(g, pk, k, now, false, true);
		else
			fill(g, pk, k, now, false, false);
	}
}

/* Copy path: frames live in g->local (stride bytes each, zero payload
 * written once); only the first 96 bytes are rewritten per burst. */
static unsigned tx_copy(struct gen_tx *g, unsigned n, uint64_t now)
{
	struct nf_pkt pk[NF_BURST_MAX];
	uint32_t stride = (NF_MAX(g->size, (uint32_t)GEN_TPL_BYTES) + 63) & ~63u;
	uint64_t seq0 = g->seq;
	unsigned i, sent;

	if (g->local == NULL) {
		g->local = aligned_alloc(64, (size_t)stride * NF_BURST_MAX);
		if (g->local == NULL) {
			g->done = g->failed = true;	/* main() reports it */
			return 0;
		}
		memset(g->local, 0, (size_t)stride * NF_BURST_MAX);
	}
	for (i = 0; i < n; i++) {
		pk[i].data = g->local + (size_t)i * stride;
		pk[i].buf = NF_BUF_NONE;
		pk[i].slot = NULL;
	}
	fill_any(g, pk, n, now, false);
	sent = nf_tx_burst(g->port, pk, (uint16_t)n);
	if (sent < n) {
		/* A full ring refuses the tail of the burst (every frame has
		 * the same size): those sequence numbers go out next time. */
		g->seq = seq0 + sent;
		g->flow = gen_flow_of(g->seq, g->train, g->nflows);
		g->tpos = (uint32_t)(g->seq % g->train);
	}
	g->copy_pkts += sent;
	return sent;
}

unsigned gen_tx_burst(struct gen_tx *g, uint64_t now)
{
	struct nf_pkt pk[NF_BURST_MAX];
	unsigned n = g->burst, k, i, need;

	if (nf_unlikely(g->done))
		return 0;
	if (g->rate) {
		uint64_t dt, avail;

		if (nf_unlikely(g->refill_ns == 0))
			g->refill_ns = now;
		dt = now - g->refill_ns;
		if (dt > NS_PER_S)
			dt = NS_PER_S;
		g->refill_ns = now;
		g->credit += dt * g->rate;
		if (g->credit > g->credit_max)
			g->credit = g->credit_max;
		avail = g->credit / NS_PER_S;
		if (avail < n)
			n = (unsigned)avail;
		if (n == 0)
			return 0;
	}
	if (g->limit && g->limit - g->pkts < n)
		n = (unsigned)(g->limit - g->pkts);

	if (g->local != NULL) {
		k = tx_copy(g, n, now);
	} else {
		k = nf_tx_get(g->port, pk, (uint16_t)n);
		if (k == 0) {
			g->backpressure += g->rate != 0;
			return 0;	/* ring full or link down */
		}
		need = NF_MAX(g->size, g->ipv6 ? 96u : 64u);
		if (nf_unlikely(pk[0].len < need)) {
			/* Buffers too small: these stay reserved for the next
			 * nf_tx_get(); switch to the copy path for good. */
			k = tx_copy(g, n, now);
		} else {
			for (i = 1; i < k; i++)
				if (nf_unlikely(pk[i].len < need))
					break;
			k = i;
			fill_any(g, pk, k, now, g->size > (g->ipv6 ? 96u : 64u));
			nf_tx_put(g->port, pk, (uint16_t)k);
			g->inplace_pkts += k;
		}
	}
	if (g->rate && k < n)
		g->backpressure++;
	if (k == 0)
		return 0;
	if (g->pkts == 0) {
		g->first_ns = now;
		g->first_burst = k;
	}
	g->last_ns = now;
	g->last_burst = k;
	g->pkts += k;
	g->bytes += (uint64_t)k * g->size;
	g->bursts++;
	if (g->rate)
		g->credit -= (uint64_t)k * NS_PER_S;
	if (g->limit && g->pkts >= g->limit)
		g->done = true;
	return k;
}
