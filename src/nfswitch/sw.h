/* sw.h - nfswitch internals shared by its files.
 *
 * nfswitch is the VALE of the architecture: a software switch whose ports
 * are memif servers (one per VNF or generator, each client's packets in the
 * client's own memory) and AF_PACKET host ports. One thread does
 * everything: it polls every port for a burst, learns source MACs, looks
 * up destinations, copies each frame once into the destination port's
 * memory, and between bursts runs the control plane (memif handshakes,
 * the control socket, FDB ageing).
 */
#ifndef NFSW_H
#define NFSW_H

#include "nf_ctl.h"
#include "nf_fdb.h"
#include "nf_http.h"
#include "nf_io.h"
#include "nf_util.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SW_PORTS_MAX	1024
#define SW_DEF_CTL	"/run/nfchain/nfswitch.ctl"

/* Switch-level drops, on top of each port's own counters. */
#define SW_DROPS(_)							\
	_(SAME_PORT,  "same-port",  "destination learned on the ingress port") \
	_(NO_PORT,    "no-port",    "flood with no other port up")	\
	_(SRC_MCAST,  "src-multicast", "multicast source MAC")	\
	_(CAP_SINK,   "capture-sink", "frame sent by a capture's sink port")

enum sw_drop {
#define SW_DROP_ENUM(e, n, d) SW_DROP_##e,
	SW_DROPS(SW_DROP_ENUM)
#undef SW_DROP_ENUM
	SW_DROP_MAX
};

struct sw_port {
	struct nf_port *p;	/* NULL: free slot */
	char spec[256];
	uint64_t flooded;	/* frames sent here by flooding */
	uint64_t drops[SW_DROP_MAX];	/* counted at ingress */
	uint8_t cap;		/* SW_CAP_*: captured, or a capture's sink */
};

/* sw_port.cap (cap.c): frames received / sent here are captured; the port
 * is a capture's sink (never forwarded to or from); its client left. */
#define SW_CAP_RX	1
#define SW_CAP_TX	2
#define SW_CAP_SINK	4
#define SW_CAP_GONE	8

struct st_gen;

struct sw {
	struct sw_port ports[SW_PORTS_MAX];
	uint16_t active[SW_PORTS_MAX];	/* indices of open ports */
	unsigned nactive;
	struct nf_fdb fdb;
	struct nf_ctl *ctl;
	struct nf_http *http;	/* --metrics; NULL: none */
	unsigned burst;
	bool intr;		/* interrupt mode */
	bool yield;		/* yield mode: give the CPU away when idle or blocked */
	bool no_flow_cache;	/* --flow-cache off */
	bool blocked;		/* a transmit in this pass found a full ring */
	bool changed;		/* port set or link state changed */
	uint32_t now_s;		/* coarse clock for the FDB */
	uint64_t loops, idle_sleeps, yields;
	uint64_t polls;			/* rx bursts asked for */
	uint64_t bursts, burst_pkts;	/* non-empty rx bursts, their frames */
	uint64_t start_ns;
	struct st_gen *steer;	/* steering (steer.h); NULL: none */
	uint64_t steer_loads;
	uint64_t mirrored;
	int notify_fd;		/* --notify: a datagram per hold episode (hold.h), -1 */
	const char *notify_path;
	unsigned ncap_tx;	/* captures of frames sent (cap.c); 0: none */
	/* The ICMPv6 errors of the SRv6 endpoints (steer.c, icmp_allow()): a
	 * token bucket of --icmp-rate a second, --icmp-burst deep. */
	uint32_t icmp_rate, icmp_burst;
	struct nf_tbucket icmp_tb;
	uint64_t icmp_sent, icmp_limited;
	bool cap_gc;		/* a sink's client left: sw_cap_gc() */
	volatile int stop;
};

const char *sw_drop_name(enum sw_drop d);
int sw_port_add(struct sw *sw, const char *spec, const char *name);
int sw_port_del(struct sw *sw, const char *name);
/* The open port named @key, else the one whose index @key is; NULL. */
static inline struct sw_port *sw_port_find(struct sw *sw, const char *key)
{
	uint64_t idx;
	unsigned i;

	for (i = 0; i < sw->nactive; i++) {
		struct sw_port *sp = &sw->ports[sw->active[i]];

		if (strcmp(nf_port_name(sp->p), key) == 0)
			return sp;
	}
	if (nf_parse_u64(key, 0, SW_PORTS_MAX - 1, 0, &idx) == 0 &&
	    sw->ports[idx].p != NULL)
		return &sw->ports[idx];
	return NULL;
}
/* Frames held for groups that have a member now, sent on (hold.h). */
unsigned sw_hold_release(struct sw *sw);
/* Forward one burst from port @in; returns frames received. */
unsigned sw_forward(struct sw *sw, struct sw_port *in);
int sw_ctl_handler(int argc, char **argv, struct json_object *reply, void *arg);
/* metrics.c: GET /metrics (nf_http handler). */
int sw_metrics_handler(const struct nf_http_req *rq, struct nf_http_resp *rs, void *arg);
/* steer_ctl.c: load a steering file at start (steer.h); 0 or -errno. */
int sw_steer_load(struct sw *sw, const char *path);

/* cap.c: port capture ("span"), docs/OPERATIONS.md. Requests captures,
 * capture-start, capture-stop (-ENOENT without a sentence: not one). */
int sw_cap_ctl(struct sw *sw, int argc, char **argv, struct json_object *reply);
/* Frames @pk[0..n) just received on @in (in->cap != 0): copied to the
 * sinks of its rx captures. True when @in is a sink: drop them (counted). */
bool sw_cap_rx(struct sw *sw, struct sw_port *in, const struct nf_pkt *pk, uint16_t n);
/* Frames @pk[0..n) received on @inidx about to be sent to @out[i] (all to
 * @out[0] when @same; @flood: every other port): copied to the sinks of
 * the tx captures of their ports (sw->ncap_tx != 0). */
void sw_cap_tx(struct sw *sw, uint16_t inidx, const struct nf_pkt *pk, const uint16_t *out,
	       uint16_t n, bool same, uint16_t flood);
/* Port @idx closes: its captures (as the captured port or the sink) end. */
void sw_cap_port_gone(struct sw *sw, uint16_t idx);
/* Link change of @p: a sink whose client left is marked for sw_cap_gc(). */
void sw_cap_link(struct sw *sw, struct nf_port *p, bool up);
/* Between bursts: close the sinks whose client left. */
void sw_cap_gc(struct sw *sw);

#endif
