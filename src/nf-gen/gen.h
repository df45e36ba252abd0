/* gen.h - nf-gen internals shared by main.c (options, loop), gen.c
 * (transmit), sink.c (receive, statistics) and report.c (output).
 *
 * Test frame (every frame nf-gen sends):
 *
 *   Ethernet | IPv4 (20) or IPv6 (40) | UDP (8) | magic (2) | seq (8) |
 *   tx timestamp (8) | zeros up to --size
 *
 * magic, seq and timestamp are big-endian. IPv4 at 60 bytes has exactly
 * the 18 payload bytes for them; IPv6 needs 80 bytes.
 */
#ifndef NF_GEN_H
#define NF_GEN_H

#include "nf_hist.h"
#include "nf_io.h"

#include <stdbool.h>
#include <stdint.h>

#define GEN_TOS_MAX	8	/* --tos values, one per flow in turn */

#define GEN_MAGIC	0x9e4du		/* first payload bytes: 9e 4d */
#define GEN_PAYLOAD	18		/* magic + seq + timestamp */
#define GEN_SIZE_MIN4	60		/* 14 + 20 + 8 + 18 */
#define GEN_SIZE_MIN6	80		/* 14 + 40 + 8 + 18 */
#define GEN_SIZE_MAX	9000
#define GEN_FLOWS_MAX	(1u << 20)	/* 128 MiB of flow templates */
#define GEN_TRAIN_MAX	65536u	/* --train */
#define GEN_FLOW_STATS_MAX (1u << 16)	/* --flow-stats: 512 KiB of counters */
#define GEN_TPL_BYTES	96		/* template bytes copied per frame */

/* Offsets in the frame. */
#define GEN_OFF_IP	14
#define GEN_OFF_UDP4	34
#define GEN_OFF_UDP6	54
#define GEN_OFF_PAY4	42
#define GEN_OFF_PAY6	62

/* The command line, validated. */
struct gen_conf {
	const char *tx_spec, *rx_spec;
	uint32_t size;
	bool ipv6;
	uint32_t flows;
	uint32_t train;		/* frames of a flow in a row (--train), >= 1 */
	uint64_t rate;		/* packets per second, 0: as fast as possible */
	uint64_t count;		/* 0: no limit */
	uint64_t duration_ns;	/* 0: no limit */
	uint16_t burst;
	uint8_t src_mac[6], dst_mac[6];
	bool mac_flows;		/* flow i: both MACs + i (--mac-flows) */
	uint8_t src_ip[16], dst_ip[16];	/* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint8_t tos;		/* IPv4 ToS byte, IPv6 traffic class */
	uint8_t tos_list[GEN_TOS_MAX];	/* --tos A,B,...: flow i gets tos_list[i % ntos] */
	uint8_t ntos;
	uint64_t drain_ns, wait_ns, idle_ns, hold_ns, delay_ns;
	uint32_t pool;		/* buffers in the process pool (--pool) */
	bool intr, progress, json, expect_zero_loss;
	bool flow_stats;	/* per-flow receive counters (--tx and --rx) */
};

/* One flow's frame header, ready to copy, and the partial UDP checksum
 * of everything in the frame except the sequence number and timestamp. */
struct gen_tpl {
	uint8_t hdr[GEN_TPL_BYTES];
	uint64_t sum;
} __attribute__((aligned(64)));

/* Transmit side. */
struct gen_tx {
	struct nf_port *port;
	struct gen_tpl *tpl;
	uint32_t nflows, flow;	/* next flow to use, always gen_flow_of(seq):
				 * the sink's --flow-stats relies on it */
	uint32_t train, tpos;	/* --train; frames of the flow already sent */
	uint32_t size;
	bool ipv6;
	uint16_t burst;
	uint64_t seq;		/* next sequence number */
	uint64_t limit;		/* packets to send, 0: no limit */
	bool done;		/* limit reached (or failed) */
	bool failed;		/* out of memory for the copy path */
	/* token bucket: credit in packet-nanoseconds (packets x 1e9) */
	uint64_t rate, credit, credit_max, refill_ns;
	uint8_t *local;		/* frames for the copy path, burst x size */
	/* counters */
	uint64_t pkts, bytes, bursts;
	uint64_t first_ns, last_ns, first_burst, last_burst;
	uint64_t inplace_pkts, copy_pkts;
	/* Bursts for which the port had fewer free slots than the rate
	 * allowed (the peer pushed back; with --rate only). */
	uint64_t backpressure;
};

#define SINK_WIN_BITS	4096	/* duplicate-detection window, a power of 2 */

/* Receive side. */
struct gen_sink {
	struct nf_port *port;
	uint16_t burst;
	uint64_t pkts, bytes;	/* frames with our magic (duplicates too) */
	uint64_t other;		/* any other frame */
	uint64_t reordered, duplicated, too_old;
	uint64_t next;		/* highest sequence number seen + 1 */
	uint64_t first_ns, last_ns, first_burst;
	uint64_t future;	/* frames stamped later than received */
	uint64_t win[SINK_WIN_BITS / 64];
	struct nf_hist lat;
	/* --flow-stats: frames received once per flow, the flow of sequence
	 * number s being gen_flow_of(s) (how gen.c cycles them); NULL
	 * without. */
	uint64_t *flow_rx;
	uint32_t nflows, train;
	uint32_t next_flow;	/* flow of sequence number next */
	uint32_t next_tpos;	/* and its place in the flow's train */
};

/* The flow of the frame with sequence number @seq: trains of @train
 * frames, one flow after the other, round and round @nflows flows. */
static inline uint32_t gen_flow_of(uint64_t seq, uint32_t train, uint32_t nflows)
{
	return (uint32_t)(seq / train % nflows);
}

/* gen.c */
int gen_tx_init(struct gen_tx *g, const struct gen_conf *c,
		struct nf_port *port);
/* Source address of flow @i (4 or 16 bytes into @out, as c->ipv6 says)
 * and its source port. */
void gen_flow_src(const struct gen_conf *c, uint32_t i, uint8_t *out);
static inline uint16_t gen_flow_sport(const struct gen_conf *c, uint32_t i)
{
	return (uint16_t)(c->sport + i);
}
void gen_tx_fini(struct gen_tx *g);
/* Send one burst (token bucket and limit permitting) stamped @now.
 * Returns the number of frames sent. */
unsigned gen_tx_burst(struct gen_tx *g, uint64_t now);

/* sink.c */
void gen_sink_init(struct gen_sink *s, struct nf_port *port, uint16_t burst);
/* Count received frames per flow from now on, for @nflows flows sent in
 * trains of @train frames (gen_flow_of()). Returns 0 or -ENOMEM. */
int gen_sink_flows(struct gen_sink *s, uint32_t nflows, uint32_t train);
void gen_sink_fini(struct gen_sink *s);
/* Receive one burst; returns the number of frames received (any kind).
 * Reads the clock once when it got something; *now is set to it. */
unsigned gen_sink_poll(struct gen_sink *s, uint64_t *now);
/* Frames of ours seen once (received minus duplicates). */
static inline uint64_t gen_sink_unique(const struct gen_sink *s)
{
	return s->pkts - s->duplicated;
}

/* report.c */
struct gen_report {
	const struct gen_conf *conf;
	const struct gen_tx *tx;	/* NULL when not sending */
	const struct gen_sink *rx;	/* NULL when not receiving */
	struct nf_port *ports[2];	/* tx (or txrx) first */
	int nports;
	uint64_t start_ns, end_ns;
	uint64_t cpu_user_ns, cpu_sys_ns;	/* this process, start to end */
	uint64_t lost;
	bool lost_from_tx;	/* lost = sent - received (one process) */
};
/* "tx", "rx", or "txrx" for one port used both ways; its spec. */
const char *gen_port_label(const struct gen_report *r, const struct nf_port *p);
const char *gen_port_spec(const struct gen_report *r, const struct nf_port *p);
uint64_t gen_lost(const struct gen_tx *tx, const struct gen_sink *rx);
void gen_progress(const struct gen_report *r, uint64_t now, bool final);
int gen_print_json(const struct gen_report *r);
void gen_print_human(const struct gen_report *r);

#endif
