/* place.h - the cluster controller's placement: which node runs each VNF
 * type of a deployment (docs/CLUSTER.md).
 *
 * Pure functions: nodes and descriptions in, node indices out; the
 * controller (cluster.c) feeds them from etcd and writes the result back.
 * A type's replicas stay together on one node (its group, hence its
 * consistent hash, lives in that node's switch); the types of a chain
 * spread over nodes as their constraints and the nodes' capacity allow.
 *
 * Two passes over all deployments, so that what runs stays where it is:
 * nc_place_keep() keeps every type whose node is alive and still fits
 * (its constraints, not the capacity the others took since), then
 * nc_place_new() places the rest, each on the feasible node with the most
 * free CPU (ties: more free memory, then the name's order).
 */
#ifndef NC_PLACE_H
#define NC_PLACE_H
#include "spec.h"

#define NC_PLABEL_MAX	16	/* labels of one node */

struct nc_pnode {
	char name[NC_NODE_NAME + 1];
	char label[NC_PLABEL_MAX][NC_NAME_MAX + 1];
	unsigned nlabel;
	uint64_t cpu_milli, memory;	/* capacity */
	uint64_t cpu_used, mem_used;	/* what placed types ask for */
	bool alive;
};

/* What placement needs of one description: small, so that a controller
 * holds thousands (nc_spec is some 70 KB). */
struct nc_pvnf {
	char name[NC_NAME_MAX + 1];
	uint64_t cpu_milli, memory;	/* what it asks of its node (nc_pspec_of) */
	char pin[NC_NODE_NAME + 1];
	char label[NC_LABEL_MAX][NC_NAME_MAX + 1];
	unsigned nlabel;
	uint32_t anti;		/* bit v: not with type v (both ways) */
	bool chained;		/* in a chain: needs a node */
};

struct nc_pport {
	char name[NC_NAME_MAX + 1];
	char pin[NC_NODE_NAME + 1];
	int enters, leaves;	/* the first VNF of a chain it enters, the last of
				 * one it leaves (-1: none) */
};

struct nc_pspec {
	struct nc_pvnf vnf[NC_VNF_MAX];
	unsigned nvnf;
	struct nc_pport port[NC_XPORT_MAX];
	unsigned nport;
};

/* The index of node @name in @n, or -1. */
int nc_place_node(const struct nc_pnode *n, unsigned nn, const char *name);

/* @s's placement needs. A type asks for cpu and memory per replica (none
 * given: 100m and 64M) times its replicas (autoscaled: its max). */
void nc_pspec_of(const struct nc_spec *s, struct nc_pspec *p);

/* Pass 1. @cur[v]: the node index type v is on now (-1: none); @out[v]
 * becomes it if kept, else -1. Returns how many were kept. */
unsigned nc_place_keep(struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		       const int *cur, int *out);
/* Pass 2: every type in a chain with out[v] == -1 gets a node. 0, or
 * -ENOSPC with the reason ("fw: no node has the labels core, ...") in @why. */
int nc_place_new(struct nc_pnode *n, unsigned nn, const struct nc_pspec *s, int *out,
		 char *why, size_t len);
/* The node of each port (@xout[x]): its pin, else the node of the first
 * VNF of a chain it enters, else of the last VNF of a chain it leaves. */
void nc_place_ports(const struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		    const int *out, int *xout);
#endif
