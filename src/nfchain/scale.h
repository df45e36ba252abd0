/* scale.h - the autoscaler's decision for one VNF type (docs/ORCHESTRATOR.md,
 * "Autoscaling").
 *
 * A pure function of the measurements: no processes, no sockets, no
 * clock. The agent calls nc_scale_decide() once per probe interval per
 * VNF type that has a `scale` section, with the load its replicas
 * reported, and carries out what it answers (start one replica, drain
 * one, or nothing).
 *
 * The rule: want = the fewest replicas n in [min, max] with
 * load / n <= target (frames/s per replica, and/or the busy fraction of
 * the replicas' poll loops; and/or a receive ring fuller than the queue
 * target, which asks for one replica more). Out as soon as the load is above the target
 * for NC_SCALE_SAMPLES samples in a row (straight to the count the load
 * needs); in by one replica when the load would stay below
 * NC_SCALE_IN_FRACTION of the target with one replica fewer, for as many
 * samples (hysteresis); at most one change per cooldown. A type with
 * min 0 goes to zero after `idle` without traffic and back to one when
 * the switch holds a frame for it. A load that max replicas cannot carry
 * is "not met": said once when it starts (after NC_SCALE_SAMPLES samples in
 * a row) and once when it ends (after NC_SCALE_MET_SAMPLES samples in a row
 * that max replicas carry: a generator that stalls for a moment on a busy
 * machine does not end it).
 */
#ifndef NC_SCALE_H
#define NC_SCALE_H
#include "spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_SCALE_SAMPLES	3	/* a condition holds this long before a change */
#define NC_SCALE_IN_FRACTION	0.7	/* in only when the rest stay below 70% of the target */
#define NC_SCALE_MET_SAMPLES	10	/* "met again" after this many samples in a row */

struct nc_scale_in {
	unsigned n;		/* replicas of the type, all up */
	double pps;		/* frames/s into the type (sum over its replicas) */
	double busy;		/* sum of the replicas' busy fractions (0..1 each) */
	double queue;		/* the fullest receive ring among them, 0..1 (frames
				 * waiting / ring slots, the most in ~100 ms) */
	bool holding;		/* the switch holds frames for it (n == 0) */
	uint64_t now_ms;
};

struct nc_scale_state {
	unsigned out_runs, in_runs;	/* samples in a row asking for more / fewer */
	uint64_t t_change;		/* the last change */
	uint64_t t_traffic;		/* the last sample with traffic */
	bool unmet;			/* more load than max replicas carry */
	unsigned unmet_runs;		/* samples in a row saying otherwise */
};

struct nc_scale_out {
	unsigned want;		/* replicas wanted (== in->n: no change) */
	int unmet_change;	/* +1: the target stopped being met, -1: met again */
	char why[300];		/* the reason of a change, with the figures */
	char status[160];	/* "ok", or "not met: ..." */
};

/* Zero the state at the start (the first change may come at once). */
void nc_scale_init(struct nc_scale_state *st, uint64_t now_ms);
/* One sample: the decision in @out, @st updated. */
void nc_scale_decide(const struct nc_scale *c, struct nc_scale_state *st,
		     const struct nc_scale_in *in, struct nc_scale_out *out);
#endif
