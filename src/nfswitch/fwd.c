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
#include "nf_util.h"

#include <string.h>

#define OUT_FLOOD	0xffff
#define OUT_DROP	0xfffe
#define OUT_DONE	0xfffd

static struct nf_pkt rx[NF_BURST_MAX];
static struct nf_pkt grp[NF_BURST_MAX];
static uint16_t outp[NF_BURST_MAX];

static inline uint64_t load_be48(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);	/* frames are >= 14 bytes: 8 bytes readable */
	return __builtin_bswap64(x) >> 16;
}

static void flood(struct sw *sw, uint16_t in, struct nf_pkt *pk, uint16_t n)
{
	unsigned j, sent = 0;

	for (j = 0; j < n; j++)
		pk[j].slot = NULL;	/* one frame, several ports: copy */
	for (j = 0; j < sw->nactive; j++) {
		struct sw_port *o = &sw->ports[sw->active[j]];

		if (sw->active[j] == in || !nf_port_is_up(o->p))
			continue;
		o->flooded += n;
		nf_tx_burst(o->p, pk, n);
		sent++;
	}
	if (sent == 0)
		sw->ports[in].drops[SW_DROP_NO_PORT] += n;
}

unsigned sw_forward(struct sw *sw, struct sw_port *in)
{
	struct nf_port *ip = in->p;
	const uint16_t inidx = nf_port_index(ip);
	const uint32_t now = sw->now_s;
	uint64_t last_skey = UINT64_MAX, last_dkey = UINT64_MAX;
	uint16_t n, i, first;
	int last_out = -1;
	bool one_out = true;

	n = nf_rx_burst(ip, rx, (uint16_t)sw->burst);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		const uint8_t *e = rx[i].data;
		uint64_t dmac = load_be48(e), smac, skey, dkey;
		uint16_t vlan = 0, o;

		memcpy(&smac, e + 4, 8);
		smac = __builtin_bswap64(smac) & 0xffffffffffffull;
		if (nf_unlikely(e[12] == 0x81 && e[13] == 0x00 && rx[i].len >= 18))
			vlan = (uint16_t)((e[14] & 0x0f) << 8 | e[15]);
		skey = nf_fdb_key(smac, vlan);
		if (nf_unlikely(skey != last_skey)) {
			if (nf_unlikely(smac & (1ull << 40))) {
				in->drops[SW_DROP_SRC_MCAST]++;
				outp[i] = OUT_DROP;
				one_out = false;
				continue;
			}
			nf_fdb_learn(&sw->fdb, skey, inidx, now);
			last_skey = skey;
		}
		dkey = nf_fdb_key(dmac, vlan);
		if (nf_unlikely(dkey != last_dkey)) {
			last_dkey = dkey;
			last_out = (dmac & (1ull << 40)) ? -1 :
				nf_fdb_lookup(&sw->fdb, dkey);
		}
		if (last_out < 0) {
			o = OUT_FLOOD;
		} else if (nf_unlikely(last_out == inidx)) {
			in->drops[SW_DROP_SAME_PORT]++;
			o = OUT_DROP;
		} else {
			o = (uint16_t)last_out;
		}
		outp[i] = o;
		if (nf_unlikely(o != outp[0]))
			one_out = false;
	}

	if (nf_likely(one_out && outp[0] < SW_PORTS_MAX)) {
		nf_tx_burst(sw->ports[outp[0]].p, rx, n);
	} else {
		/* Several destinations: one group per output port, in the
		 * order of first appearance, keeping frame order per port. */
		for (first = 0; first < n; first++) {
			uint16_t o = outp[first], k = 0;

			if (o == OUT_DROP || o == OUT_DONE)
				continue;
			for (i = first; i < n; i++) {
				if (outp[i] == o) {
					grp[k++] = rx[i];
					outp[i] = OUT_DONE;
				}
			}
			if (o == OUT_FLOOD)
				flood(sw, inidx, grp, k);
			else
				nf_tx_burst(sw->ports[o].p, grp, k);
		}
	}
	nf_rx_release(ip);
	return n;
}
