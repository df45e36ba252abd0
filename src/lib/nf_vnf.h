/* nf_vnf.h - the VNF framework: a VNF is three stages over packet bursts.
 *
 *   1. pre-processing: the framework receives a burst and parses every
 *      frame (nf_parse: bounds-checked headers); an L3 VNF also drops
 *      frames not addressed to its port's MAC (nor broadcast/multicast).
 *      Then the VNF's pre() decides for each frame: forward (go on),
 *      handled here (an ARP request answered, ...) or drop (a reason).
 *   2. VNF-specific processing: process() does the function itself (route
 *      lookup, translation, filtering) on the frames still pending.
 *   3. post-processing: post() does the protocol work of the VNF's layer
 *      (neighbour resolution, MAC rewrite, TTL, checksums) and names the
 *      output port. The framework then transmits, one burst per port.
 *
 * Every frame of a burst ends in exactly one place: a port's transmit, a
 * named drop, or "handled" by the VNF. Each stage is counted (frames in,
 * frames out) and every drop is counted by reason (the framework's parse
 * reasons first, then the VNF's own list).
 *
 * A VNF program is: a table of configuration directives and keys
 * (nf_conf), the three callbacks, and nf_vnf_main(). The framework gives
 * it the command line (-c FILE, -n check only, --ctl PATH, --cpu N,
 * --metrics ADDR:PORT: Prometheus metrics over HTTP), the
 * "port NAME SPEC [mac MAC] [mtu N]" directive, ports on any spec
 * (memif, afpacket, pcap), the loop (busy or interrupt mode), a control
 * socket (stats, ports, runtime directives) and a timer tick.
 *
 * Threading: one thread; callbacks, control requests and ticks never run
 * concurrently with each other.
 */
#ifndef NF_VNF_H
#define NF_VNF_H

#include "nf_conf.h"
#include "nf_ctl.h"
#include "nf_http.h"
#include "nf_io.h"
#include "nf_parse.h"

#include <stdbool.h>
#include <stdint.h>

#define NF_VNF_PORTS_MAX	16
#define NF_VNF_DROPS_MAX	96	/* parse reasons + the VNF's */

/* A frame's verdict: an output port (0..NF_VNF_PORTS_MAX-1), pending (not
 * decided yet), handled by the VNF, or a drop with a reason index. */
#define NF_V_PENDING	0xffffu
#define NF_V_HANDLED	0xfffeu
#define NF_V_DROP	0x8000u		/* | reason */

struct nf_vnf_port {
	struct nf_port *p;
	char name[32];
	char spec[256];
	uint8_t mac[6];
	uint32_t mtu;			/* IP MTU: bytes after the L2 header */
	uint64_t mac48;			/* mac as an integer (compared per frame) */
	uint64_t not_for_us;		/* L3 filter drops */
};

/* Framework settings (keys "burst", "mode"). */
struct nf_vnf_settings {
	uint64_t burst;
	uint64_t mode;			/* 0 busy, 1 intr, 2 yield */
	uint64_t pool;
};

struct nf_vnf;
struct nf_metrics;

struct nf_vnf_ops {
	const char *name;		/* "nf-router" */
	const char *summary;		/* one line for --help */
	const char *example;		/* an example configuration for --help */
	const char *requests;		/* the VNF's own control requests, for
					 * --help: "  NAME  what it does\n"... */
	const struct nf_conf_dir *dirs;
	unsigned ndirs;
	const struct nf_conf_key *keys;
	unsigned nkeys;
	void *settings;			/* where the VNF's keys are stored */
	const char *const *drops;	/* the VNF's drop reasons */
	unsigned ndrops;
	bool l3;			/* filter on the destination MAC */
	bool l2_only;			/* parse Ethernet and VLAN tags only:
					 * a bridge forwards any payload */
	/* After the configuration is loaded, before ports open (check-only
	 * mode stops after it): cross-checks. 0 or -errno + nf_set_error. */
	int (*validate)(struct nf_vnf *v);
	/* Ports are open: allocate tables, timers. */
	int (*start)(struct nf_vnf *v);
	void (*stop)(struct nf_vnf *v);
	/* The stages. Each looks only at frames whose verdict is
	 * NF_V_PENDING (pre, process) or a port (post may change it) and
	 * returns how many frames it passed on. */
	uint16_t (*pre)(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
	uint16_t (*process)(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			    const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
	uint16_t (*post)(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n);
	/* About every 10 ms: timers. */
	void (*tick)(struct nf_vnf *v, uint64_t now_ns);
	/* Control requests the framework does not know. -ENOENT: unknown. */
	int (*ctl)(struct nf_vnf *v, int argc, char **argv, struct json_object *reply);
	/* Add the VNF's own counters to a stats reply. */
	void (*stats)(struct nf_vnf *v, struct json_object *reply);
	/* A port went up or down. */
	void (*link)(struct nf_vnf *v, unsigned port, bool up);
	/* GET /metrics (--metrics): add the VNF's own families after the
	 * framework's; @stats is the "stats" control reply (with what
	 * stats() added), so both views come from the same numbers. */
	void (*metrics)(struct nf_vnf *v, struct nf_metrics *m, struct json_object *stats);
	/* Or simpler (both may be given): one family per column from the
	 * stats reply's member @metrics_key (the object stats() added). */
	const char *metrics_key;
	const struct nf_metrics_col *metrics_cols;
	unsigned nmetrics_cols;
};

struct nf_vnf {
	const struct nf_vnf_ops *ops;
	void *priv;			/* the VNF's state */
	struct nf_vnf_port port[NF_VNF_PORTS_MAX];
	unsigned nports;
	struct nf_vnf_settings set;
	struct nf_conf conf;
	struct nf_ctl *ctl;
	bool check_only;
	bool running;			/* ports open, loop started */
	uint64_t now_ns;		/* refreshed once per loop pass */
	uint64_t stage_in[3], stage_out[3];
	uint64_t handled;
	uint64_t drops[NF_VNF_DROPS_MAX];
	unsigned ndrops;		/* NF_PERR_MAX + ops->ndrops */
	uint64_t bursts, loops;
	uint64_t idle_ns;		/* time after passes that found nothing (load) */
	uint64_t probes;		/* health probes sent on (probe_echo) */
	uint64_t probes_in;		/* health probes for us received */
	bool blocked;			/* a transmit of this pass found a full ring */
	/* Frames the VNF creates (ARP replies, ICMP errors, frames released
	 * from a resolution queue): copied here, sent after the burst. */
	struct nf_pkt out[NF_VNF_PORTS_MAX][64];
	uint8_t *outbuf;		/* NF_VNF_PORTS_MAX x 64 x NF_FRAME_MAX */
	uint16_t nout[NF_VNF_PORTS_MAX];
	uint64_t out_dropped;
	struct nf_http *http;		/* --metrics; NULL: none */
	char metrics_addr[64];		/* the "metrics ADDR:PORT" directive */
	volatile int stop;
};

/* Drop reasons of the framework itself (after the parse reasons): 1. */
#define NF_VNF_FW_DROPS	1

/* The reason index of the VNF's own drop reason @i (0..ndrops-1). */
static inline uint16_t nf_vnf_reason(unsigned i)
{
	return (uint16_t)(NF_PERR_MAX + NF_VNF_FW_DROPS + i);
}

/* Drop frame @i of the burst with VNF reason @r (from nf_vnf_reason). */
static inline void nf_vnf_drop(struct nf_vnf *v, uint16_t *verdict, uint16_t i,
			       uint16_t r)
{
	verdict[i] = (uint16_t)(NF_V_DROP | r);
	v->drops[r]++;
}

/* Find a port by its configured name; -1 if none. */
int nf_vnf_port_find(const struct nf_vnf *v, const char *name);

/* Queue a frame built by the VNF for transmission on @port after the
 * current burst (or at the next loop pass when called from a tick or a
 * control request). Copies @len bytes. Returns 0 or -ENOBUFS (counted). */
int nf_vnf_send(struct nf_vnf *v, unsigned port, const uint8_t *frame, uint32_t len);

/* From a control request that waits for work done on another thread
 * (nf-firewall builds a new rule set that way): keep forwarding — bursts
 * on every port and the frames the VNF made, no control requests, no
 * ticks — until @done(@arg) returns true or the VNF is stopping. The
 * stages run meanwhile, so they must not depend on what the request is
 * about to change until it changes it. */
void nf_vnf_forward_until(struct nf_vnf *v, bool (*done)(void *arg), void *arg);

/* Run the VNF: parse the command line, load the configuration, open the
 * ports, loop until SIGINT/SIGTERM. Returns the exit status. */
int nf_vnf_main(int argc, char **argv, const struct nf_vnf_ops *ops, void *priv);

#endif
