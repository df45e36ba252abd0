/* place.c - which node runs each VNF type (place.h). */
#include "place.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void nc_pspec_of(const struct nc_spec *s, struct nc_pspec *p)
{
	unsigned v, c, j, x;

	memset(p, 0, sizeof(*p));
	p->nvnf = s->nvnf;
	for (v = 0; v < s->nvnf; v++) {
		const struct nc_vnf *f = &s->vnf[v];
		struct nc_pvnf *q = &p->vnf[v];
		unsigned r = f->scale.on ? f->scale.max : f->replicas;

		r = r ? r : 1;
		memcpy(q->name, f->name, sizeof(q->name));
		q->cpu_milli = (uint64_t)(f->cpu_milli ? f->cpu_milli : 100) * r;
		q->memory = (f->memory ? f->memory : 64ull << 20) * r;
		memcpy(q->pin, f->pin, sizeof(q->pin));
		memcpy(q->label, f->label, sizeof(q->label));
		q->nlabel = f->nlabel;
		q->anti = f->anti;
	}
	p->nport = s->nxport;
	for (x = 0; x < s->nxport; x++) {
		memcpy(p->port[x].name, s->xport[x].name, sizeof(p->port[x].name));
		memcpy(p->port[x].pin, s->xport[x].pin, sizeof(p->port[x].pin));
		p->port[x].enters = p->port[x].leaves = -1;
	}
	for (c = s->nchain; c-- > 0;) {	/* the first chain wins */
		const struct nc_chain *ch = &s->chain[c];

		for (j = 0; j < ch->nvnf; j++)
			p->vnf[ch->vnf[j]].chained = true;
		p->port[ch->from].enters = ch->vnf[0];
		p->port[ch->to].leaves = ch->vnf[ch->nvnf - 1];
	}
}

static bool has_label(const struct nc_pnode *n, const char *l)
{
	unsigned i;

	for (i = 0; i < n->nlabel; i++)
		if (strcmp(n->label[i], l) == 0)
			return true;
	return false;
}

int nc_place_node(const struct nc_pnode *n, unsigned nn, const char *name)
{
	unsigned i;

	for (i = 0; i < nn; i++)
		if (strcmp(n[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* May type @v be on node @k, given the types placed so far (@out)?
 * Capacity is checked apart. */
static bool allowed(const struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		    unsigned v, unsigned k, const int *out)
{
	const struct nc_pvnf *f = &s->vnf[v];
	unsigned i;

	(void)nn;
	if (!n[k].alive)
		return false;
	if (f->pin[0] && strcmp(f->pin, n[k].name) != 0)
		return false;
	for (i = 0; i < f->nlabel; i++)
		if (!has_label(&n[k], f->label[i]))
			return false;
	for (i = 0; i < s->nvnf; i++) {
		/* anti-affinity holds both ways */
		bool apart = (f->anti >> i & 1) || (s->vnf[i].anti >> v & 1);

		if (i != v && apart && out[i] == (int)k)
			return false;
	}
	return true;
}

static bool fits(const struct nc_pnode *n, uint64_t cpu, uint64_t mem)
{
	return n->cpu_used + cpu <= n->cpu_milli && n->mem_used + mem <= n->memory;
}

unsigned nc_place_keep(struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		       const int *cur, int *out)
{
	unsigned v, kept = 0;

	for (v = 0; v < s->nvnf; v++)
		out[v] = -1;
	for (v = 0; v < s->nvnf; v++) {
		uint64_t cpu, mem;

		if (cur[v] < 0 || cur[v] >= (int)nn || !s->vnf[v].chained ||
		    !allowed(n, nn, s, v, (unsigned)cur[v], out))
			continue;
		cpu = s->vnf[v].cpu_milli;
		mem = s->vnf[v].memory;
		out[v] = cur[v];
		n[cur[v]].cpu_used += cpu;
		n[cur[v]].mem_used += mem;
		kept++;
	}
	return kept;
}

/* Why no node takes type @v: the first constraint every node fails. */
static void explain(const struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		    unsigned v, const int *out, char *why, size_t len)
{
	const struct nc_pvnf *f = &s->vnf[v];
	unsigned k, alive = 0, labelled = 0, apart = 0;
	uint64_t cpu, mem;

	cpu = f->cpu_milli;
	mem = f->memory;
	for (k = 0; k < nn; k++) {
		struct nc_pnode t = n[k];
		unsigned i;
		bool ok = true;

		if (!t.alive || (f->pin[0] && strcmp(f->pin, t.name)))
			continue;
		alive++;
		for (i = 0; i < f->nlabel; i++)
			ok &= has_label(&t, f->label[i]);
		if (!ok)
			continue;
		labelled++;
		if (allowed(n, nn, s, v, k, out))
			apart++;
	}
	if (alive == 0)
		snprintf(why, len, "%s: %s", f->name,
			 f->pin[0] ? "its node is not up" : "no node is up");
	else if (labelled == 0)
		snprintf(why, len, "%s: no node that is up has the labels it needs", f->name);
	else if (apart == 0)
		snprintf(why, len, "%s: every node with its labels runs a type of its "
			 "anti-affinity", f->name);
	else
		snprintf(why, len, "%s: no node has %llu mCPU and %llu MiB free", f->name,
			 (unsigned long long)cpu, (unsigned long long)(mem >> 20));
}

int nc_place_new(struct nc_pnode *n, unsigned nn, const struct nc_pspec *s, int *out,
		 char *why, size_t len)
{
	unsigned v, k;
	int ret = 0;

	for (v = 0; v < s->nvnf; v++) {
		uint64_t cpu, mem;
		int best = -1;

		if (out[v] >= 0 || !s->vnf[v].chained)
			continue;
		cpu = s->vnf[v].cpu_milli;
		mem = s->vnf[v].memory;
		for (k = 0; k < nn; k++) {
			const struct nc_pnode *b = best >= 0 ? &n[best] : NULL;
			uint64_t fk, fb;

			if (!allowed(n, nn, s, v, k, out) || !fits(&n[k], cpu, mem))
				continue;
			if (b == NULL) {
				best = (int)k;
				continue;
			}
			fk = n[k].cpu_milli - n[k].cpu_used;
			fb = b->cpu_milli - b->cpu_used;
			if (fk > fb || (fk == fb && n[k].memory - n[k].mem_used >
					b->memory - b->mem_used))
				best = (int)k;
		}
		if (best < 0) {
			if (ret == 0)
				explain(n, nn, s, v, out, why, len);
			ret = -ENOSPC;
			continue;
		}
		out[v] = best;
		n[best].cpu_used += cpu;
		n[best].mem_used += mem;
	}
	return ret;
}

void nc_place_ports(const struct nc_pnode *n, unsigned nn, const struct nc_pspec *s,
		    const int *out, int *xout)
{
	unsigned x;

	for (x = 0; x < s->nport; x++) {
		const struct nc_pport *p = &s->port[x];

		xout[x] = p->pin[0] ? nc_place_node(n, nn, p->pin) : -1;
		if (xout[x] < 0 && p->enters >= 0)
			xout[x] = out[p->enters];
		if (xout[x] < 0 && p->leaves >= 0)
			xout[x] = out[p->leaves];
	}
}
