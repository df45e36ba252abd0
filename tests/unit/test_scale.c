/* test_scale.c - the autoscaler's decisions (src/nfchain/scale.c): crafted
 * load samples in, the replica count and the reason out. */
#include "harness.h"
#include "../../src/nfchain/scale.h"

#include <string.h>

static struct nc_scale cfg(unsigned min, unsigned max, uint64_t pps, unsigned busy)
{
	struct nc_scale c = { .on = true, .min = min, .max = max, .target_pps = pps,
			      .target_busy = busy, .cooldown_ms = 1000, .idle_ms = 5000,
			      .hold = 256 };
	return c;
}

/* @k samples of @pps frames/s on @n replicas, 100 ms apart from *t. */
static unsigned run(const struct nc_scale *c, struct nc_scale_state *st, uint64_t *t,
		    unsigned n, double pps, unsigned k, struct nc_scale_out *o)
{
	unsigned i;

	for (i = 0; i < k; i++) {
		struct nc_scale_in in = { .n = n, .pps = pps, .now_ms = *t };

		*t += 100;
		nc_scale_decide(c, st, &in, o);
		if (o->want != n)
			return o->want;
	}
	return n;
}

int main(void)
{
	struct nc_scale c = cfg(1, 3, 3000, 0);
	struct nc_scale_state st;
	struct nc_scale_out o;
	uint64_t t = 10000;

	nc_scale_init(&st, 0);
	NF_TEST("below the target: 1 replica stays 1", run(&c, &st, &t, 1, 2000, 20, &o) == 1);
	NF_TEST("8000 pps, target 3000: out to 3 at once",
		run(&c, &st, &t, 1, 8000, 20, &o) == 3);
	NF_TEST("... after 3 samples in a row", st.out_runs == 0 && t == 10000 + 2000 + 300);
	NF_TEST("... the reason has the figures",
		strcmp(o.why, "scale out 1 -> 3: 8000 pps (8000 per replica, target 3000)") == 0);
	NF_TEST("... at once again: the cooldown holds a change back",
		run(&c, &st, &t, 3, 100, 9, &o) == 3);
	NF_TEST("2000 pps on 3: in by one (667 < 70% of 3000 with 2)",
		run(&c, &st, &t, 3, 2000, 20, &o) == 2);
	NF_TEST("... the reason", strstr(o.why, "scale in 3 -> 2: 2000 pps") == o.why);
	t += 1000;
	NF_TEST("2000 pps on 2: in to 1 (2000 < 2100)", run(&c, &st, &t, 2, 2000, 20, &o) == 1);
	t += 1000;
	NF_TEST("2200 pps on 2: stays (2200 >= 70% of 3000 with one fewer: hysteresis)",
		run(&c, &st, &t, 2, 2200, 50, &o) == 2);
	NF_TEST("min 1: never below", run(&c, &st, &t, 1, 0, 100, &o) == 1);

	/* noise: one sample above the target, then below: no change */
	{
		struct nc_scale_in in = { .n = 1, .pps = 9000, .now_ms = t += 100 };
		unsigned i, want = 1;

		nc_scale_decide(&c, &st, &in, &o);
		want = o.want;
		for (i = 0; i < 5; i++) {
			in.pps = 1000;
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
			want = want != 1 ? want : o.want;
		}
		NF_TEST("one sample above the target: no change", want == 1);
	}

	/* not met: 12000 pps, max 3 x 3000 */
	nc_scale_init(&st, 0);
	{
		struct nc_scale_in in = { .n = 3, .pps = 12000 };
		int starts = 0, ends = 0;
		unsigned i;

		for (i = 0; i < 20; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
			starts += o.unmet_change > 0;
			ends += o.unmet_change < 0;
		}
		NF_TEST("more than max replicas carry: said once", starts == 1 && ends == 0);
		NF_TEST("... the status says how much",
			strcmp(o.status, "not met: 12000 pps offered, max 3 replicas carry ~9000") == 0);
		NF_TEST("... and the count stays at max", o.want == 3);
		in.pps = 6000;
		for (i = 0; i < 20; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
			starts += o.unmet_change > 0;
			ends += o.unmet_change < 0;
		}
		NF_TEST("load back under: met again, said once", starts == 1 && ends == 1 &&
			strcmp(o.status, "ok") == 0);
	}

	/* busy target */
	c = cfg(1, 4, 0, 500);
	nc_scale_init(&st, 0);
	{
		struct nc_scale_in in = { .n = 1, .pps = 1, .busy = 0.9 };
		unsigned i;

		for (i = 0; i < 3; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
		}
		NF_TEST("busy 0.9, target 0.5: out to 2", o.want == 2);
	}

	/* receive ring target: one more at a time, in only when well below */
	c = cfg(1, 3, 0, 0);
	c.target_queue = 500;
	nc_scale_init(&st, 0);
	{
		struct nc_scale_in in = { .n = 1, .pps = 5000, .queue = 0.8 };
		unsigned i;

		for (i = 0; i < 3; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
		}
		NF_TEST("a ring 80% full, target 50%: out by one, to 2", o.want == 2);
		NF_TEST("... the reason says how full",
			strcmp(o.why, "scale out 1 -> 2: 5000 pps, receive ring 80% full "
			       "(target 50%)") == 0);
		t += 10000;
		in.n = 2;
		in.queue = 0.4;
		for (i = 0; i < 10; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
		}
		NF_TEST("40% (above 70% of the target): stays at 2", o.want == 2);
		in.queue = 0.1;
		for (i = 0; i < 3; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
		}
		NF_TEST("10%: in to 1", o.want == 1);
		in.n = 3;
		in.queue = 0.9;
		t += 10000;
		for (i = 0; i < 3; i++) {
			in.now_ms = t += 100;
			nc_scale_decide(&c, &st, &in, &o);
		}
		NF_TEST("90% full at max 3: not met, said so",
			o.want == 3 && strcmp(o.status, "not met: a receive ring 90% full with max "
					      "3 replicas (target 50%)") == 0);
	}

	/* from zero and back */
	c = cfg(0, 2, 3000, 0);
	nc_scale_init(&st, t);
	{
		struct nc_scale_in in = { .n = 0, .now_ms = t += 100 };

		nc_scale_decide(&c, &st, &in, &o);
		NF_TEST("min 0, nothing held: stays at 0", o.want == 0);
		in.holding = true;
		in.now_ms = t += 100;
		nc_scale_decide(&c, &st, &in, &o);
		NF_TEST("min 0, the switch holds a frame: 1 at once (no cooldown)", o.want == 1);
		NF_TEST("... the reason", strcmp(o.why, "cold start 0 -> 1: the switch holds "
						 "frames for it") == 0);
		NF_TEST("traffic: stays 1", run(&c, &st, &t, 1, 100, 100, &o) == 1);
		NF_TEST("no traffic for idle (5 s): back to 0", run(&c, &st, &t, 1, 0, 100, &o) == 0);
		NF_TEST("... after 5 s", strcmp(o.why, "idle 1 -> 0: no traffic for 5000 ms") == 0);
	}
	return nf_test_report();
}
