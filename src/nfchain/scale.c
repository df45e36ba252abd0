/* scale.c - the autoscaler's decision (scale.h). */
#include "scale.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void nc_scale_init(struct nc_scale_state *st, uint64_t now_ms)
{
	memset(st, 0, sizeof(*st));
	st->t_traffic = now_ms;
	/* no change before one cooldown from the start either */
	st->t_change = now_ms;
}

/* Replicas the load needs (0 with no load), by each target given. */
static unsigned needed(const struct nc_scale *c, const struct nc_scale_in *in)
{
	double n = 0;

	if (c->target_pps)
		n = ceil(in->pps / (double)c->target_pps - 1e-9);
	if (c->target_busy)
		n = fmax(n, ceil(in->busy * 1000.0 / c->target_busy - 1e-9));
	/* A backlog says "more" but not how many: one at a time. */
	if (c->target_queue && in->queue * 1000.0 > c->target_queue)
		n = fmax(n, in->n + 1);
	return n > 1e6 ? 1000000u : (unsigned)n;
}

/* With @n replicas, is the load below @frac of every target given? */
static bool below(const struct nc_scale *c, const struct nc_scale_in *in, unsigned n,
		  double frac)
{
	if (n == 0)
		return false;
	if (c->target_pps && in->pps / n >= frac * (double)c->target_pps)
		return false;
	if (c->target_busy && in->busy * 1000.0 / n >= frac * c->target_busy)
		return false;
	if (c->target_queue && in->queue * 1000.0 >= frac * c->target_queue)
		return false;
	return true;
}

static void load_text(const struct nc_scale *c, const struct nc_scale_in *in, unsigned n,
		      char *out, size_t len)
{
	int k = snprintf(out, len, "%.0f pps", in->pps);

	if (n && c->target_pps && k > 0 && (size_t)k < len)
		k += snprintf(out + k, len - (size_t)k, " (%.0f per replica, target %llu)",
			      in->pps / n, (unsigned long long)c->target_pps);
	if (c->target_busy && k > 0 && (size_t)k < len)
		k += snprintf(out + k, len - (size_t)k, ", busy %.2f%s (target %.2f per replica)",
			      in->busy, n > 1 ? " summed" : "", c->target_busy / 1000.0);
	if (c->target_queue && k > 0 && (size_t)k < len)
		snprintf(out + k, len - (size_t)k, ", receive ring %.0f%% full (target %.0f%%)",
			 in->queue * 100, c->target_queue / 10.0);
}

void nc_scale_decide(const struct nc_scale *c, struct nc_scale_state *st,
		     const struct nc_scale_in *in, struct nc_scale_out *out)
{
	const unsigned need = needed(c, in), n = in->n;
	const bool cooled = in->now_ms - st->t_change >= c->cooldown_ms;
	const unsigned floor_ = c->min ? c->min : 1;
	char load[120];
	bool unmet;

	out->want = n;
	out->unmet_change = 0;
	out->why[0] = '\0';
	snprintf(out->status, sizeof(out->status), "ok");
	if (in->pps > 0 || in->holding)
		st->t_traffic = in->now_ms;
	load_text(c, in, n, load, sizeof(load));

	unmet = need > c->max;
	if (unmet == st->unmet) {
		st->unmet_runs = 0;
	} else if (++st->unmet_runs >= (unmet ? NC_SCALE_SAMPLES : NC_SCALE_MET_SAMPLES)) {
		st->unmet = unmet;
		st->unmet_runs = 0;
		out->unmet_change = unmet ? 1 : -1;
	}
	if (st->unmet) {
		double carry = c->target_pps ? (double)c->target_pps * c->max : 0;

		if (c->target_pps && in->pps > carry)
			snprintf(out->status, sizeof(out->status), "not met: %.0f pps offered, max "
				 "%u replicas carry ~%.0f", in->pps, c->max, carry);
		else if (c->target_queue && in->queue * 1000.0 > c->target_queue)
			snprintf(out->status, sizeof(out->status), "not met: a receive ring %.0f%% "
				 "full with max %u replicas (target %.0f%%)", in->queue * 100,
				 c->max, c->target_queue / 10.0);
		else
			snprintf(out->status, sizeof(out->status), "not met: busy %.2f summed, max "
				 "%u replicas carry ~%.2f", in->busy, c->max,
				 c->max * c->target_busy / 1000.0);
	}

	if (n == 0) {		/* from zero: the first frame is waiting */
		st->out_runs = st->in_runs = 0;
		if (in->holding && c->max > 0) {
			out->want = 1;
			st->t_change = in->now_ms;
			snprintf(out->why, sizeof(out->why), "cold start 0 -> 1: the switch holds "
				 "frames for it");
		}
		return;
	}
	if (c->min == 0 && in->pps == 0 && in->now_ms - st->t_traffic >= c->idle_ms) {
		st->out_runs = st->in_runs = 0;
		out->want = 0;
		st->t_change = in->now_ms;
		snprintf(out->why, sizeof(out->why), "idle %u -> 0: no traffic for %llu ms",
			 n, (unsigned long long)(in->now_ms - st->t_traffic));
		return;
	}
	if (need > n && n < c->max) {
		st->in_runs = 0;
		if (++st->out_runs >= NC_SCALE_SAMPLES && cooled) {
			out->want = need < c->max ? need : c->max;
			snprintf(out->why, sizeof(out->why), "scale out %u -> %u: %s", n, out->want,
				 load);
		}
	} else if (n > floor_ && below(c, in, n - 1, NC_SCALE_IN_FRACTION)) {
		st->out_runs = 0;
		if (++st->in_runs >= NC_SCALE_SAMPLES && cooled) {
			out->want = n - 1;
			snprintf(out->why, sizeof(out->why), "scale in %u -> %u: %s, below %.0f%% "
				 "of the target with one replica fewer", n, n - 1, load,
				 NC_SCALE_IN_FRACTION * 100);
		}
	} else {
		st->out_runs = st->in_runs = 0;
	}
	if (out->want != n) {
		st->out_runs = st->in_runs = 0;
		st->t_change = in->now_ms;
	}
}
