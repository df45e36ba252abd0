/* plan.h - the chain controller: from the description to nfswitch's
 * steering.
 *
 * Pure functions of the desired state (the description) and the observed
 * state (which replica is up, the switch port names): no processes, no
 * sockets, so that a controller placing replicas on several nodes can use
 * them as they are. docs/ORCHESTRATOR.md shows the output for the
 * examples.
 */
#ifndef NC_PLAN_H
#define NC_PLAN_H
#include "spec.h"

/* What the controller needs to know of one replica. */
struct nc_member {
	bool up;		/* in its group */
	bool draining;		/* leaving: keeps the flows it has ("~" member) */
	char port[2][40];	/* switch port names: [0] in, [1] back */
	uint8_t mac[2][6];	/* the replica's MAC on each port */
};

/* @member(vnf, i, arg): replica i of VNF type @vnf, or NULL if it does
 * not exist. @chain_no(c): the chain's stable number, 1..255 (SIDs and
 * rule ids derive from it). */
struct nc_plan_in {
	const struct nc_spec *s;
	const struct nc_member *(*member)(unsigned vnf, unsigned i, void *arg);
	unsigned (*chain_no)(unsigned chain, void *arg);
	void *arg;
};

/* Tenant t's rules are ids NC_TENANT_RULE + 2t (outbound) and + 2t + 1
 * (inbound): above the chains' 2N-1, 2N. */
#define NC_TENANT_RULE	1001
/* A cluster's underlay rules: NC_UPLINK_RULE + node index. */
#define NC_UPLINK_RULE	3001

/* Write the steering file (docs/STEERING.md) to @out. 0 or -ENOSPC. */
int nc_plan_steering(const struct nc_plan_in *in, char *out, size_t len);

/* The switch port names: external ports are named as in the file; a
 * replica's are VNF.I.PORT. */
void nc_plan_port_name(const char *vnf, unsigned i, const char *port, char *out, size_t len);
/* A replica's MAC on its switch port with memif id @id. */
void nc_plan_mac(unsigned id, uint8_t mac[6]);
/* A replica's configuration file: the port lines (memif ids @id[2] on the
 * socket @sock, MACs from nc_plan_mac), `set mode` unless the description
 * sets it, then the description's config. *prefix: lines before the
 * description's first. 0 or -E2BIG. */
int nc_plan_vnf_conf(const struct nc_spec *s, const struct nc_vnf *f, unsigned idx,
		     const char *sock, const unsigned id[2], char *out, size_t len,
		     unsigned *prefix);
#endif
