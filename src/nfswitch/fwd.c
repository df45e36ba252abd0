/* fwd.c - the switch's forwarding path: one burst from one port.
 *
 * Pre-processing: read the Ethernet header (and an 802.1Q tag) of each
 * frame in place, in the sender's memory. Learning: the source (VLAN, MAC)
 * goes into the FDB, skipped when equal to the previous frame's. Lookup:
 * the destination, also cached across consecutive frames. Post-processing:
 * frames are grouped by output port and each group is transmitted with one
 * nf_tx_burst(), which copies every frame once into the receiving client's
 * own buffers. Unknown and multicast destinations are flooded to every
 * other port that is up.
 *
 * Cost: see docs/BENCHMARKS.md (bench/callgrind.sh): instructions per
 * packet for rx + learn + lookup + copy + tx, 64-byte frames.
 */
#include "sw.h"
#include "steer.h"
#include "nf_util.h"

#include <stdbool.h>
#include <string.h>

#define OUT_FLOOD	0xffff
#define OUT_DROP	0xfffe
#define OUT_DONE	0xfffd

static struct nf_pkt rx[NF_BURST_MAX];
static struct nf_pkt grp[NF_BURST_MAX];
static uint16_t outp[NF_BURST_MAX];

static void flood(struct sw *sw, uint16_t in, struct nf_pkt *pk, uint16_t n)
{
	unsigned j, sent = 0;

	for (j = 0; j < n; j++)
		pk[j].slot = NULL;	/* one frame, several ports: copy */
	for (j = 0; j < sw->nactive; j++) {
		struct sw_port *o = &sw->ports[sw->active[j]];

		if (sw->active[j] == in || !nf_port_is_up(o->p) || (o->cap & SW_CAP_SINK))
			continue;
		o->flooded += n;
		nf_tx_burst(o->p, pk, n);
		sent++;
	}
	if (sent == 0)
		sw->ports[in].drops[SW_DROP_NO_PORT] += n;
}

/* Where frame @e goes: a port index, OUT_FLOOD or OUT_DROP. The first
 * 16 bytes of the previous frame that was forwarded (destination, source,
 * EtherType or 802.1Q tag) and its decision are cached in *c: a burst of
 * one flow costs one 16-byte compare per frame. A miss learns the source
 * and looks the destination up. Drops are never cached (each is counted). */
struct fwd_cache {
	uint64_t h0, h1;	/* bytes 0..7 and 8..15 of the frame */
	uint16_t out;
	bool valid;
};

static inline __attribute__((always_inline)) uint16_t
classify(struct sw *sw, struct sw_port *in, uint16_t inidx, const uint8_t *e,
	 uint32_t len, struct fwd_cache *c)
{
	uint64_t h0 = 0, h1 = 0, dmac, smac, key;
	uint16_t vlan = 0, tpid;
	int out;

	if (nf_likely(len >= 16)) {	/* a frame is >= 14 bytes: check */
		memcpy(&h0, e, 8);
		memcpy(&h1, e + 8, 8);
		if (nf_likely(h0 == c->h0 && h1 == c->h1 && c->valid))
			return c->out;
	}
	memcpy(&dmac, e, 8);
	dmac = __builtin_bswap64(dmac) >> 16;
	memcpy(&smac, e + 4, 8);
	smac = __builtin_bswap64(smac) & 0xffffffffffffull;
	memcpy(&tpid, e + 12, 2);
	if (tpid == 0x0081 && len >= 18)		/* 0x8100, big-endian */
		vlan = (uint16_t)((e[14] & 0x0f) << 8 | e[15]);
	if (nf_unlikely(smac & (1ull << 40))) {
		in->drops[SW_DROP_SRC_MCAST]++;
		return OUT_DROP;
	}
	nf_fdb_learn(&sw->fdb, nf_fdb_key(smac, vlan), inidx, sw->now_s);
	key = nf_fdb_key(dmac, vlan);
	out = (dmac & (1ull << 40)) ? -1 : nf_fdb_lookup(&sw->fdb, key);
	if (nf_unlikely(out == inidx)) {
		in->drops[SW_DROP_SAME_PORT]++;
		return OUT_DROP;
	}
	c->h0 = h0;
	c->h1 = h1;
	c->out = out < 0 ? OUT_FLOOD : (uint16_t)out;
	/* 16 bytes may run past a 14- or 15-byte frame: never cache those. */
	c->valid = len >= 16;
	return c->out;
}

static inline bool is_tagged(const uint8_t *e)
{
	return e[12] == 0x81 && e[13] == 0x00;
}

static void fill_out(uint16_t *o, uint16_t from, uint16_t to, uint16_t v)
{
	uint16_t i;

	for (i = from; i < to; i++)
		o[i] = v;
}

/* Transmit @k frames at @pk on @o. @hdr: some may be two pieces
 * (NF_PKT_F_HDR); a port without nf_tx_burst_hdr() gets them made one in
 * scratch buffer set @sb[j] (@sb == NULL: frame j of the burst is @pk[j]).
 * @same: all are two pieces with this header (nf_tx_burst_hdr()). */
static uint8_t scratch[NF_BURST_MAX][2][NF_FRAME_MAX + 512] __attribute__((aligned(64)));

static uint16_t tx_hdr(struct nf_port *o, struct nf_pkt *pk, uint16_t k, bool hdr,
		       const uint16_t *sb, const struct nf_hdr *same)
{
	uint16_t j;

	if (nf_likely(!hdr))
		return nf_tx_burst(o, pk, k);
	if (nf_port_tx_hdr(o))
		return nf_tx_burst_hdr(o, pk, k, same);
	for (j = 0; j < k; j++)
		if (pk[j].flags & NF_PKT_F_HDR)
			nf_pkt_flatten(&pk[j], scratch[sb != NULL ? sb[j] : j][0]);
	return nf_tx_burst(o, pk, k);
}

/* Send the @n frames of rx[] to outp[]: one nf_tx_burst() per output
 * port, in the order of first appearance, frame order kept per port.
 * @same: every frame goes to outp[0]. @hdr: some frames are two pieces
 * (steering's flow cache), never one that floods; @one: all of them, with
 * this header (one flow's burst). */
static void send_out(struct sw *sw, uint16_t inidx, uint16_t n, bool same, bool hdr,
		     bool one)
{
	static uint16_t gidx[NF_BURST_MAX];
	const uint16_t o0 = outp[0];
	uint16_t i, first;

	if (nf_likely(same)) {
		/* one run of frame 0's entry (the memo's, or a hit then
		 * st_flow_run()), a two-piece one: one header for all */
		const struct nf_hdr *h = one && (rx[0].flags & NF_PKT_F_HDR) ?
					 rx[0].hdr : NULL;

		/* The whole burst goes one way (the common case). */
		if (o0 < SW_PORTS_MAX && tx_hdr(sw->ports[o0].p, rx, n, hdr, NULL, h) < n)
			sw->blocked = true;
		else if (o0 == OUT_FLOOD)
			flood(sw, inidx, rx, n);
		return;
	}
	for (first = 0; first < n; first++) {
		uint16_t o = outp[first], k = 0;

		if (o == OUT_DROP || o == OUT_DONE)
			continue;
		for (i = first; i < n; i++) {
			if (outp[i] == o) {
				gidx[k] = i;
				grp[k++] = rx[i];
				outp[i] = OUT_DONE;
			}
		}
		if (o == OUT_FLOOD)
			flood(sw, inidx, grp, k);
		else if (tx_hdr(sw->ports[o].p, grp, k, hdr, gidx, NULL) < k)
			sw->blocked = true;
	}
}

/* Steering (steer.h): every frame through st_frame(); rewritten frames
 * are in scratch buffers (copied once more by the transmit); frames
 * steering leaves alone take the MAC learning path. Mirror copies go
 * first (the transmit may swap the originals' buffers away). */
static struct nf_pkt mir[NF_BURST_MAX];
static uint16_t mirp[NF_BURST_MAX];
/* [first, end) of each run of the burst (st_flow_run()): frames that go
 * where the frame before the first goes, their outp[] set only when the
 * burst does not all go one way (send_out() reads outp[0] alone then). */
static uint16_t runs[NF_BURST_MAX][2];

/* st_flow_run() out of line: at most a few calls a burst, and the hits'
 * loop keeps its registers. */
static __attribute__((noinline)) uint16_t flow_run(struct st_flow *f, uint16_t i, uint16_t n)
{
	return st_flow_run(f, rx, i, n);
}

/* A frame for a group with no member and a hold queue: a copy is kept,
 * as it arrived (hold.h); the episode's first tells the orchestrator. */
static __attribute__((noinline, cold)) void hold_frame(struct sw *sw, struct st_gen *g,
						       uint16_t in, const uint8_t *e, uint32_t len)
{
	struct st_group *gr = &g->group[g->hold_gi];
	const int r = st_hold_push(gr->hold, in, e, len, nf_now_ns());

	if (r == -1)
		g->drops[len > ST_HOLD_FRAME ? ST_DROP_HOLD_BIG : ST_DROP_HOLD_FULL]++;
	if (r >= 0)
		g->holding = true;
	if (r == 1)
		st_hold_notify(sw->notify_fd, sw->notify_path, gr->name);
}

/* Mirror copies @pk[0..@k) of frames from port @inidx out of port @p,
 * seen by its tx captures. */
static void mirror_tx(struct sw *sw, uint16_t inidx, struct nf_pkt *pk, uint16_t k, uint16_t p)
{
	if (nf_unlikely(sw->ncap_tx != 0))
		sw_cap_tx(sw, inidx, pk, &p, k, true, OUT_FLOOD);
	sw->mirrored += nf_tx_burst(sw->ports[p].p, pk, k);
}

/* What steer() keeps for the frames the flow cache did not answer. */
struct steer_slow {
	struct fwd_cache c;
	uint16_t nm;		/* mir[] */
	uint16_t slow;		/* frames through st_frame() */
};

/* Frame @i of rx[] that the flow cache did not send to a port (@o: its
 * answer, -1 none): through st_frame() (or MAC learning for a cached
 * ST_OUT_L2), its mirror copy queued. Returns its outp[] value. Out of
 * line: the hits' loop keeps its state in registers. */
static __attribute__((noinline)) uint16_t steer_slow(struct sw *sw, struct sw_port *in,
						     uint16_t inidx, struct st_gen *g,
						     uint16_t i, int o, struct steer_slow *s)
{
	const uint8_t *d = rx[i].data, *const e = d;
	uint32_t l = rx[i].len;
	int m = -1;

	if (o >= 0) {
		if (rx[i].flags & NF_PKT_F_HDR)	/* for MAC learning */
			nf_pkt_flatten(&rx[i], scratch[i][0]);
		d = rx[i].data;
		l = rx[i].len;
	} else {
		s->slow++;
		o = st_frame(sw, g, inidx, &d, &l, scratch[i][0], scratch[i][1],
			     sizeof(scratch[i][0]), &m);
		if (nf_unlikely(o == (int)ST_OUT_HOLD)) {
			hold_frame(sw, g, inidx, e, rx[i].len);
			d = e;
			o = ST_OUT_DROP;	/* not sent now; counted by the hold */
		}
	}
	if (d != e) {
		rx[i].data = (uint8_t *)d;
		rx[i].len = l;
		rx[i].slot = NULL;
		rx[i].buf = NF_BUF_NONE;
	}
	if (nf_likely((unsigned)o < SW_PORTS_MAX && sw->ports[o].p != NULL))
		;			/* a port that is there */
	else if (o == (int)ST_OUT_L2)
		o = classify(sw, in, inidx, d, l, &s->c);
	else if (o == (int)ST_OUT_DROP)
		o = OUT_DROP;
	else {
		in->drops[SW_DROP_NO_PORT]++;
		o = OUT_DROP;
	}
	if (nf_unlikely(m >= 0) && o != OUT_DROP && sw->ports[m].p != NULL) {
		mir[s->nm] = rx[i];
		mir[s->nm].slot = NULL;
		mirp[s->nm++] = (uint16_t)m;
	}
	return (uint16_t)o;
}

/* The frames at the head of a burst from port @inidx that the flow of
 * entry @m, the port's last run (steer()), goes on with
 * (st_flow_memo()): done as a run, outp[0] and runs[0] set. Returns
 * their count, 0 if none. Out of line: the hits' loop keeps its
 * registers. */
static __attribute__((noinline)) uint16_t memo_run(struct sw *sw, struct st_flow *m,
						   uint16_t inidx, uint16_t n, uint32_t clock)
{
	uint16_t k;

	if (rx[0].len < m->lmin || !st_flow_key_eq(m, rx[0].data) || !st_flow_memo(m, inidx) ||
	    m->out >= SW_PORTS_MAX || sw->ports[m->out].p == NULL)
		return 0;
	k = flow_run(m, 0, n);
	if (k != 0) {
		m->used = clock;
		outp[0] = m->out;
		runs[0][0] = 1;
		runs[0][1] = k;
	}
	return k;
}

static __attribute__((noinline)) void steer(struct sw *sw, struct sw_port *in, uint16_t inidx,
					    uint16_t n)
{
	struct steer_slow s = { { 0, 0, 0, false }, 0, 0 };
	struct st_gen *g = sw->steer;
	struct st_flow *const fl = g->flow;
	struct st_flow *last = NULL;
	unsigned i, j;
	struct nf_pkt *pk;	/* rx[i] */
	bool hdr = false;	/* some frames are two pieces */
	int vo = -2;		/* the last frame's output, a port the flow
				 * cache found (-2: anything else) */
	int prev = -2;		/* the last frame's output */
	unsigned turns = 0;	/* frames whose output is not the last's */
	uint16_t nr = 0;	/* runs[]: st_flow_run()'s, outp[] not yet set */
	unsigned alone = 0;	/* hits in a row not followed by their flow */
	bool pairs = false;	/* the last run was one frame */
	const uint32_t clock = ++g->bursts;
	const bool wide = g->wide;
	uint32_t gate = fl != NULL ? ST_GATE_NARROW : ST_GATE_ALL;	/* st_flow_hit() */
	struct st_flow *const m = fl != NULL ? g->memo[inidx] : NULL;
	const unsigned i0 = m != NULL ? memo_run(sw, m, inidx, n, clock) : 0;

	if (nf_unlikely(i0 != 0)) {	/* the port's last burst's last flow goes on */
		last = m;
		hdr = m->kind == ST_FK_SPLIT;
		vo = prev = m->out;
		turns = 1;
		nr = i0 > 1;
	}
	for (i = i0, pk = rx + i0; i < n; i++, pk++) {
		/* the flow cache first (steer.h) */
		int o = st_flow_hit(fl, clock, wide, &gate, &last, &hdr, inidx, pk);

		if (nf_likely(o == vo)) {
			;		/* where the frame before went */
		} else if (o >= 0 && (unsigned)o < SW_PORTS_MAX && sw->ports[o].p != NULL) {
			turns += o != prev;
			vo = prev = o;
		} else {
			o = steer_slow(sw, in, inidx, g, (uint16_t)i, o, &s);
			turns += o != prev;
			prev = o;
			vo = -2;
			outp[i] = (uint16_t)o;
			continue;
		}
		outp[i] = (uint16_t)o;
		/* a hit to a port: so are the frames of the same flow that
		 * follow it (two pieces for the transmit, or rewritten in
		 * place), by flow_run(). Once a run was one frame long
		 * (packet trains of two), the next frame is done here and
		 * flow_run() called only for a third: its call and key loads
		 * cost more than one frame. Interleaved flows stop looking
		 * for runs after two hits without one. */
		if (nf_unlikely(alone < 2)) {
			unsigned k = i + 1;

			if (k < n && !pairs) {
				k = flow_run(last, (uint16_t)k, n);
				pairs = k == i + 2;
				if (k > i + 1) {
					runs[nr][0] = (uint16_t)(i + 1);
					runs[nr++][1] = (uint16_t)k;
				}
			} else if (k < n && st_flow_next(last, &hdr, pk + 1)) {
				outp[k++] = (uint16_t)o;
				if (k < n && st_flow_match(last, pk + 2)) {
					k = flow_run(last, (uint16_t)k, n);
					runs[nr][0] = (uint16_t)(i + 2);
					runs[nr++][1] = (uint16_t)k;
					pairs = false;
				}
			}
			if (k > i + 1) {
				alone = 0;
				pk += k - 1 - i;
				i = k - 1;
				g->memo[inidx] = last;	/* memo_run() */
			} else if (++alone == 2) {
				g->memo[inidx] = NULL;	/* flows take turns */
			}
		}
	}
	for (i = 0; i < s.nm; i++) {	/* mirrors, one burst per port */
		uint16_t k = 0, p = mirp[i];

		if (p == OUT_DONE)
			continue;
		for (j = i; j < s.nm; j++) {
			if (mirp[j] == p) {
				grp[k++] = mir[j];
				mirp[j] = OUT_DONE;
			}
		}
		mirror_tx(sw, inidx, grp, k, p);
	}
	g->flow_hits += n - s.slow;	/* frames the flow cache answered */
	if (turns > 1)		/* not all one way: send_out() reads every outp[] */
		for (j = 0; j < nr; j++)
			fill_out(outp, runs[j][0], runs[j][1], outp[runs[j][0] - 1]);
	if (nf_unlikely(sw->ncap_tx != 0))	/* captures (cap.c) */
		sw_cap_tx(sw, inidx, rx, outp, n, turns <= 1, OUT_FLOOD);
	send_out(sw, inidx, n, turns <= 1, hdr, nr == 1 && runs[0][0] == 1 && runs[0][1] == n);
}

/* Frames held for groups that have a member again (hold.h): through the
 * steering as if just received on their port, in arrival order, at most
 * a burst per group and pass, and only as many as the output rings take:
 * a replica that just started gets them at the pace it drains them, and
 * what its ring does not take stays held (frames of the group that
 * arrive meanwhile queue behind: st_frame() holds them while the queue is
 * not empty, so no newer frame overtakes). Called before the pass polls
 * any port, and after a steering load. The frames of a batch after the
 * one a full ring refused are steered again next time: their rule and
 * SID counters count them twice, nothing else repeats. */
static uint16_t rel_out[NF_BURST_MAX], rel_gi[NF_BURST_MAX];
static int rel_mir[NF_BURST_MAX];	/* st_frame()'s mirror port, or -1 */

/* Frames rx[k, i) of a release left (to rel_out[k], all of them): the
 * tx captures' copies, and those their rules mirror. After the transmit:
 * it copied them (no pool's buffers). */
static void rel_sent(struct sw *sw, uint16_t k, uint16_t i)
{
	if (nf_unlikely(sw->ncap_tx != 0) && i > k)
		sw_cap_tx(sw, rx[k].port, &rx[k], &rel_out[k], i - k, true, OUT_FLOOD);
	for (; k < i; k++)
		if (rel_mir[k] >= 0 && sw->ports[rel_mir[k]].p != NULL)
			mirror_tx(sw, rx[k].port, &rx[k], 1, (uint16_t)rel_mir[k]);
}

static unsigned release_group(struct sw *sw, struct st_gen *g, struct st_hold *h)
{
	struct fwd_cache c = { 0, 0, 0, false };
	uint16_t k, n = (uint16_t)NF_MIN(h->n, sw->burst), i, done = 0;

	/* 1. decide: where each frame of the batch goes */
	for (k = 0; k < n; k++) {
		const uint32_t s = (h->head + k) % h->cap;
		const uint16_t in = h->in[s];
		const uint8_t *d = st_hold_slot(h, k);
		uint32_t l = h->len[s];
		int m = -1, o = ST_OUT_DROP;

		if (in < SW_PORTS_MAX && sw->ports[in].p != NULL)
			o = st_frame(sw, g, in, &d, &l, scratch[k][0], scratch[k][1],
				     sizeof(scratch[k][0]), &m);
		else
			g->drops[ST_DROP_GROUP_EMPTY]++;	/* its port went meanwhile */
		rx[k] = (struct nf_pkt){ .data = (uint8_t *)d, .len = l, .buf = NF_BUF_NONE,
					 .port = in };
		if (o == (int)ST_OUT_L2 && in < SW_PORTS_MAX && sw->ports[in].p != NULL)
			o = classify(sw, &sw->ports[in], in, d, l, &c);
		else if (o == (int)ST_OUT_DROP || (o != (int)ST_OUT_HOLD &&
			 ((unsigned)o >= SW_PORTS_MAX || sw->ports[o].p == NULL)))
			o = OUT_DROP;
		rel_out[k] = (uint16_t)o;
		rel_gi[k] = (uint16_t)g->hold_gi;
		rel_mir[k] = o == OUT_DROP || o == (int)ST_OUT_HOLD ? -1 : m;
	}
	/* 2. act, in order: runs to one port in one transmit; stop at a full ring */
	for (k = 0; k < n; k = i) {
		const uint16_t o = rel_out[k];
		uint16_t a;

		for (i = k + 1; i < n && rel_out[i] == o && o < SW_PORTS_MAX; i++)
			;
		if (o == ST_OUT_HOLD) {			/* another group at zero */
			g->hold_gi = rel_gi[k];		/* the frame as it arrived */
			hold_frame(sw, g, rx[k].port, st_hold_slot(h, k),
				   h->len[(h->head + k) % h->cap]);
		} else if (o == OUT_FLOOD) {
			flood(sw, rx[k].port, &rx[k], 1);
			rel_sent(sw, k, k + 1);
		} else if (o < SW_PORTS_MAX) {
			a = nf_tx_burst(sw->ports[o].p, &rx[k], i - k);
			rel_sent(sw, k, k + a);
			done += a;
			if (a < i - k) {
				sw->blocked = true;
				break;
			}
			continue;
		}
		done++;			/* held elsewhere, flooded or dropped */
	}
	h->head = (h->head + done) % h->cap;
	h->n -= done;
	h->released += done;
	return done;
}

unsigned sw_hold_release(struct sw *sw)
{
	struct st_gen *g = sw->steer;
	unsigned gi, done = 0;

	g->releasing = true;
	for (gi = 0; gi < g->ngroups; gi++) {
		struct st_group *gr = &g->group[gi];
		struct st_hold *h = gr->hold;

		if (h == NULL || h->n == 0 || gr->up == 0)
			continue;
		done += release_group(sw, g, h);
		if (h->n == 0)
			h->last_us = (nf_now_ns() - h->t_first_ns) / 1000;
	}
	g->releasing = false;
	g->holding = false;
	for (gi = 0; gi < g->ngroups; gi++)	/* still held (or held again) */
		if (g->group[gi].hold != NULL && g->group[gi].hold->n)
			g->holding = true;
	return done;
}

/* Forward the @n frames just received on @in. */
static __attribute__((noinline)) void forward(struct sw *sw, struct sw_port *in,
					      uint16_t n)
{
	struct nf_port *ip = in->p;
	const uint16_t inidx = nf_port_index(ip);
	struct fwd_cache c = { 0, 0, 0, false };
	uint16_t i, o0;
	uint32_t diff = 0;

	sw->bursts++;
	sw->burst_pkts += n;
	if (nf_unlikely(in->cap != 0) && sw_cap_rx(sw, in, rx, n)) {	/* cap.c */
		nf_rx_release(ip);
		return;
	}
	if (nf_unlikely(sw->steer != NULL) && sw->steer->active) {
		steer(sw, in, inidx, n);
		nf_rx_release(ip);
		return;
	}
	o0 = outp[0] = classify(sw, in, inidx, rx[0].data, rx[0].len, &c);
	/* Fast pre-pass: frames whose 14-byte Ethernet header equals the
	 * first frame's (same addresses, same EtherType, not 802.1Q) go where
	 * it goes. Every frame has those 14 bytes, so nothing else is
	 * checked. A burst of one flow ends here, no decision stored. */
	i = 1;
	if (nf_likely(c.valid && c.out == o0 && !is_tagged(rx[0].data))) {
		uint64_t a0, b0;

		memcpy(&a0, rx[0].data, 8);
		memcpy(&b0, rx[0].data + 6, 8);	/* bytes 6..13 */
		for (; i < n; i++) {
			const uint8_t *e = rx[i].data;
			uint64_t a, b;

			memcpy(&a, e, 8);
			memcpy(&b, e + 6, 8);
			if (nf_unlikely(((a ^ a0) | (b ^ b0)) != 0))
				break;
		}
		if (i < n)
			fill_out(outp, 1, i, o0);
	}
	for (; i < n; i++) {
		uint16_t o = classify(sw, in, inidx, rx[i].data, rx[i].len, &c);

		outp[i] = o;
		diff |= (uint32_t)(o ^ o0);
	}

	if (nf_unlikely(sw->ncap_tx != 0))	/* captures (cap.c) */
		sw_cap_tx(sw, inidx, rx, outp, n, diff == 0, OUT_FLOOD);
	send_out(sw, inidx, n, diff == 0, false, false);
	nf_rx_release(ip);
}

/* Poll @in once; an empty poll costs a call and a few loads. */
unsigned sw_forward(struct sw *sw, struct sw_port *in)
{
	uint16_t n;

	sw->polls++;
	n = nf_rx_burst(in->p, rx, (uint16_t)sw->burst);
	if (n != 0)
		forward(sw, in, n);
	return n;
}
