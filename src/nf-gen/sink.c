/* sink.c - nf-gen receive path: classify, sequence tracking, latency.
 *
 * Per frame: one bounds check, the EtherType, the IP version/protocol and
 * the magic at a fixed offset (42 for IPv4, 62 for IPv6); then two 8-byte
 * loads (sequence number, timestamp). Latency is the burst's receive time
 * (one clock read per non-empty burst) minus the timestamp; the burst's
 * latencies go to the histogram in one nf_hist_record_burst() call.
 *
 * Sequence tracking keeps next = highest seen + 1 and a sliding bitmap of
 * the last SINK_WIN_BITS sequence numbers:
 *   seq >= next            in order (or after a gap: the gap's bits are
 *                          cleared, the frames may still come late)
 *   seq <  next, bit set   duplicated
 *   seq <  next, bit clear reordered (late); its bit is set
 *   next - seq > window    reordered (too old to tell a duplicate)
 * The in-order case is one compare, one OR into the bitmap, one add.
 * Counters live in locals for the burst.
 *
 * --flow-stats: the frame with sequence number s is flow gen_flow_of(s)
 * (the sender cycles the flows in trains of --train frames, across bursts
 * and ring-full retries: gen.c keeps flow == gen_flow_of(seq)). In order,
 * the flow is the previous one, or the next at a train's end (an
 * increment and a compare or two, like the sender); only a gap or a late
 * frame pays a division. Each sequence number counts once:
 * frames the window recognises as duplicates are not counted. The loop is
 * built twice, with and without this (callgrind, 500k 60-byte frames of
 * 1000 flows, one process, gen_sink_poll with the memif rx inclusive:
 * 116 instructions per frame without --flow-stats, as before it existed;
 * 122 with it).
 *
 * Cost: about 40 instructions per 60-byte frame in the loop (objdump:
 * classification 10, loads and byte swaps 6, latency 4, sequence 12,
 * counters) and 8 more in nf_hist_record_burst(), plus the memif client's
 * rx_burst/release. Measured throughput is in main.c.
 */
#include "gen.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIN_MASK	(SINK_WIN_BITS - 1)

void gen_sink_init(struct gen_sink *s, struct nf_port *port, uint16_t burst)
{
	memset(s, 0, sizeof(*s));
	s->port = port;
	s->burst = burst;
	nf_hist_init(&s->lat);
}

int gen_sink_flows(struct gen_sink *s, uint32_t nflows, uint32_t train)
{
	s->flow_rx = calloc(nflows, sizeof(*s->flow_rx));
	if (s->flow_rx == NULL) {
		nf_set_error("cannot allocate %u flow counters", nflows);
		return -ENOMEM;
	}
	s->nflows = nflows;
	s->train = train;
	s->next_flow = gen_flow_of(s->next, train, nflows);
	s->next_tpos = (uint32_t)(s->next % train);
	return 0;
}

void gen_sink_fini(struct gen_sink *s)
{
	free(s->flow_rx);
	s->flow_rx = NULL;
}

/* Payload offset of one of our frames, 0 for anything else. */
static inline unsigned pay_off(const uint8_t *d, uint32_t len)
{
	uint16_t et, magic;
	unsigned off;

	memcpy(&et, d + 12, 2);		/* len >= 14: nf_rx_burst drops runts */
	if (nf_likely(et == htons(0x0800))) {
		if (len < GEN_SIZE_MIN4 || d[14] != 0x45 || d[23] != 17)
			return 0;
		off = GEN_OFF_PAY4;
	} else if (et == htons(0x86dd)) {
		if (len < GEN_SIZE_MIN6 || (d[14] >> 4) != 6 || d[20] != 17)
			return 0;
		off = GEN_OFF_PAY6;
	} else {
		return 0;
	}
	memcpy(&magic, d + off, 2);
	return magic == htons(GEN_MAGIC) ? off : 0;
}

static inline bool win_test(const uint64_t *w, uint64_t seq)
{
	return w[(seq >> 6) & (WIN_MASK >> 6)] >> (seq & 63) & 1;
}

static inline void win_set(uint64_t *w, uint64_t seq)
{
	w[(seq >> 6) & (WIN_MASK >> 6)] |= 1ull << (seq & 63);
}

/* Forget [from, to): a gap that opened; those frames may still arrive. */
static void win_clear(uint64_t *w, uint64_t from, uint64_t to)
{
	if (to - from >= SINK_WIN_BITS) {
		memset(w, 0, SINK_WIN_BITS / 8);
		return;
	}
	for (; from < to; from++)
		w[(from >> 6) & (WIN_MASK >> 6)] &= ~(1ull << (from & 63));
}

/* One burst. @flows (--flow-stats) is a constant in both callers, so the
 * loop specialises: without it, the per-flow code is not there at all. */
static inline __attribute__((always_inline)) unsigned
sink_burst(struct gen_sink *s, uint64_t *nowp, const bool flows)
{
	struct nf_pkt pk[NF_BURST_MAX];
	uint64_t lat[NF_BURST_MAX];
	uint64_t now, next, pkts = 0, bytes = 0, other = 0, reord = 0, dup = 0;
	uint64_t old = 0, future = 0;
	uint64_t *const frx = s->flow_rx;
	const uint32_t nfl = s->nflows, train = s->train;
	uint32_t fnext = s->next_flow, tpos = s->next_tpos;
	unsigned k, i, nl = 0;

	k = nf_rx_burst(s->port, pk, s->burst);
	if (k == 0)
		return 0;
	now = nf_now_ns();
	*nowp = now;
	next = s->next;
	for (i = 0; i < k; i++) {
		const uint8_t *d = pk[i].data;
		uint64_t seq, ts, delta;
		unsigned off;

		if (i + 2 < k)
			__builtin_prefetch(pk[i + 2].data + 32);
		off = pay_off(d, pk[i].len);
		if (nf_unlikely(off == 0)) {
			other++;
			continue;
		}
		memcpy(&seq, d + off + 2, 8);
		memcpy(&ts, d + off + 10, 8);
		seq = be64toh(seq);
		ts = be64toh(ts);
		pkts++;
		bytes += pk[i].len;
		delta = now - ts;
		if (nf_likely((int64_t)delta >= 0))
			lat[nl++] = delta;
		else
			future++;	/* another host's clock */
		if (nf_likely(seq >= next)) {
			if (nf_unlikely(seq != next)) {
				win_clear(s->win, next, seq);
				if (flows) {
					fnext = gen_flow_of(seq, train, nfl);
					tpos = (uint32_t)(seq % train);
				}
			}
			win_set(s->win, seq);
			next = seq + 1;
			if (flows) {
				frx[fnext]++;
				if (++tpos == train) {
					tpos = 0;
					if (++fnext == nfl)
						fnext = 0;
				}
			}
		} else if (next - seq > SINK_WIN_BITS) {
			reord++;
			old++;
			if (flows)
				frx[gen_flow_of(seq, train, nfl)]++;
		} else if (win_test(s->win, seq)) {
			dup++;
		} else {
			reord++;
			win_set(s->win, seq);
			if (flows)
				frx[gen_flow_of(seq, train, nfl)]++;
		}
	}
	nf_rx_release(s->port);
	nf_hist_record_burst(&s->lat, lat, nl);
	if (pkts) {
		if (s->pkts == 0) {
			s->first_ns = now;
			s->first_burst = pkts;
		}
		s->last_ns = now;
	}
	s->next = next;
	s->next_flow = fnext;
	s->next_tpos = tpos;
	s->pkts += pkts;
	s->bytes += bytes;
	s->other += other;
	s->reordered += reord;
	s->duplicated += dup;
	s->too_old += old;
	s->future += future;
	return k;
}

unsigned gen_sink_poll(struct gen_sink *s, uint64_t *nowp)
{
	return s->flow_rx != NULL ? sink_burst(s, nowp, true) :
		sink_burst(s, nowp, false);
}
