/* agent.h - the node agent: nfswitch and the lifecycle of local replicas.
 *
 * One agent runs one deployment on this node. It starts nfswitch, opens
 * the switch ports, starts every replica (a process or a runc container)
 * and programs the steering that plan.c derives from the description and
 * the replicas' health. It probes each replica through its control socket;
 * a dead or stuck one leaves its group at once, is restarted and rejoins
 * when it answers again. Its control socket (RUN/NAME/agent.ctl) takes
 * status, scale, apply, logs and down requests from `nfchain` in another
 * shell.
 */
#ifndef NC_AGENT_H
#define NC_AGENT_H
#include "spec.h"

struct nc_agent_opts {
	const char *run_base;	/* /run/nfchain */
	bool table;		/* print the live table once a second */
	int ready_fd;		/* write "ok\n" or the error here once up, -1: none */
	unsigned up_timeout_ms;	/* every replica up within this, else fail */
	bool daemon;		/* log to RUN/NAME/agent.log */
};

/* Run the deployment @s (taken over) until down, SIGINT or SIGTERM, or a
 * failure; everything started is torn down before returning. 0 or 1. */
int nc_agent_run(struct nc_spec *s, const struct nc_agent_opts *o);

/* The run directory of deployment @name. */
void nc_run_dir(const char *base, const char *name, char *out, size_t len);
/* Remove what a dead agent left behind (processes, containers, the run
 * directory). Returns the number of things removed, or -errno. */
int nc_agent_reap(const char *base, const char *name);
#endif
