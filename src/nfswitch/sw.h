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
#include "nf_io.h"

#include <stdbool.h>
#include <stdint.h>

#define SW_PORTS_MAX	1024
#define SW_DEF_CTL	"/run/nfchain/nfswitch.ctl"

/* Switch-level drops, on top of each port's own counters. */
#define SW_DROPS(_)							\
	_(SAME_PORT,  "same-port",  "destination learned on the ingress port") \
	_(NO_PORT,    "no-port",    "flood with no other port up")	\
	_(SRC_MCAST,  "src-multicast", "multicast source MAC")

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
};

struct st_gen;

struct sw {
	struct sw_port ports[SW_PORTS_MAX];
	uint16_t active[SW_PORTS_MAX];	/* indices of open ports */
	unsigned nactive;
	struct nf_fdb fdb;
	struct nf_ctl *ctl;
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
	volatile int stop;
};

const char *sw_drop_name(enum sw_drop d);
int sw_port_add(struct sw *sw, const char *spec, const char *name);
int sw_port_del(struct sw *sw, const char *name);
struct sw_port *sw_port_find(struct sw *sw, const char *name_or_index);
/* Frames held for groups that have a member now, sent on (hold.h). */
unsigned sw_hold_release(struct sw *sw);
/* Forward one burst from port @in; returns frames received. */
unsigned sw_forward(struct sw *sw, struct sw_port *in);
int sw_ctl_handler(int argc, char **argv, struct json_object *reply, void *arg);
/* steer_ctl.c: load a steering file at start (steer.h); 0 or -errno. */
int sw_steer_load(struct sw *sw, const char *path);

#endif
