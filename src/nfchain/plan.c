/* plan.c - the steering a description asks for (docs/ORCHESTRATOR.md).
 *
 * Every VNF type in a chain is a group whose member i is replica i
 * (written "-" while the replica is not up: positions are kept, so the
 * consistent hash moves only that replica's flows). An srv6 chain numbered
 * N is
 *
 *   sid fd00:6e63:N::J End.AD group VNF_J        J = 1.. in chain order
 *   sid fd00:6e63:N::ff End.DX4 TO TO-MAC
 *   rule id 2N-1 in-port FROM MATCH action srv6-encap N::1,...,N::ff
 *
 * and, with a return-match, the same backwards: SIDs N::10J with
 * `reverse` (in by the VNF's second port), N::1ff End.DX4 FROM FROM-MAC,
 * rule id 2N. A tos-bitmap chain is one `tos FROM TO VNF...` line.
 *
 * Tenant T (0-based, in the file's order) of a chain gets its own rules,
 * ids NC_TENANT_RULE + 2T (its outbound traffic, by match, in by FROM)
 * and NC_TENANT_RULE + 2T + 1 (inbound, by return-match, in by TO): in a
 * tos-bitmap chain `action set-tos BITS/MASK` (bit j: the chain's VNF j,
 * MASK: the chain's bits), in an srv6 chain, at priority 50 (before the
 * chain's classifier), `action srv6-encap` with the SIDs of the chosen
 * VNFs only. A tenant's lines depend on its own choice only: changing
 * one leaves the others' text, hence their counters, as they were.
 */
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SID_FMT "fd00:6e63:%x::%x"

struct out {
	char *p;
	size_t len, used;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->used >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	o->used += n > 0 ? (size_t)n : 0;
}

static void put_mac(struct out *o, const uint8_t *m)
{
	put(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void nc_plan_port_name(const char *vnf, unsigned i, const char *port, char *out, size_t len)
{
	snprintf(out, len, "%s.%u.%s", vnf, i, port);
}

void nc_plan_mac(unsigned id, uint8_t mac[6])
{
	mac[0] = 0x02;	/* locally administered, unicast */
	mac[1] = 0x6e;	/* 'n' */
	mac[2] = 0x63;	/* 'c' */
	mac[3] = 0x00;
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

static bool in_chain(const struct nc_spec *s, unsigned v)
{
	unsigned c, j;

	for (c = 0; c < s->nchain; c++)
		for (j = 0; j < s->chain[c].nvnf; j++)
			if (s->chain[c].vnf[j] == (int)v)
				return true;
	return false;
}

static void put_group(struct out *o, const struct nc_plan_in *in, unsigned v)
{
	const struct nc_vnf *f = &in->s->vnf[v];
	unsigned i, n = f->replicas ? f->replicas : 1;

	put(o, "group %s", f->name);
	for (i = 0; i < n; i++) {
		const struct nc_member *m = in->member(v, i, in->arg);

		if (m == NULL || !m->up) {
			put(o, " -");
			continue;
		}
		put(o, " %s/%s@", m->port[0], m->port[1]);
		put_mac(o, m->mac[0]);
		put(o, "/");
		put_mac(o, m->mac[1]);
	}
	put(o, "\n");
}

/* The tenants of chain @ci. */
static void put_tenants(struct out *o, const struct nc_spec *s, unsigned ci, unsigned no)
{
	const struct nc_chain *c = &s->chain[ci];
	const uint8_t mask = (uint8_t)((1u << c->nvnf) - 1);
	unsigned t, j;

	for (t = 0; t < s->ntenant; t++) {
		const struct nc_tenant *tn = &s->tenant[t];
		const unsigned id = NC_TENANT_RULE + 2 * t;

		if (tn->chain != (int)ci)
			continue;
		put(o, "# tenant %s\n", tn->name);
		if (c->steering == NC_ST_TOS) {
			put(o, "rule id %u in-port %s %s action set-tos %u/%u\n", id,
			    s->xport[c->from].name, tn->match, tn->services & mask, mask);
			if (tn->return_match[0])
				put(o, "rule id %u in-port %s %s action set-tos %u/%u\n", id + 1,
				    s->xport[c->to].name, tn->return_match, tn->services & mask, mask);
			continue;
		}
		put(o, "rule id %u priority 50 in-port %s %s action srv6-encap ", id,
		    s->xport[c->from].name, tn->match);
		for (j = 0; j < c->nvnf; j++)
			if (tn->services >> j & 1)
				put(o, SID_FMT ",", no, j + 1);
		put(o, SID_FMT "\n", no, 0xffu);
		if (!tn->return_match[0])
			continue;
		put(o, "rule id %u priority 50 in-port %s %s action srv6-encap ", id + 1,
		    s->xport[c->to].name, tn->return_match);
		for (j = c->nvnf; j-- > 0;)
			if (tn->services >> j & 1)
				put(o, SID_FMT ",", no, 0x101 + j);
		put(o, SID_FMT "\n", no, 0x1ffu);
	}
}

static void put_srv6(struct out *o, const struct nc_plan_in *in, const struct nc_chain *c,
		     unsigned no)
{
	const struct nc_spec *s = in->s;
	unsigned j;

	put(o, "# chain %s: srv6\n", c->name);
	for (j = 0; j < c->nvnf; j++)
		put(o, "sid " SID_FMT " End.AD group %s\n", no, j + 1, s->vnf[c->vnf[j]].name);
	put(o, "sid " SID_FMT " End.DX4 %s ", no, 0xffu, s->xport[c->to].name);
	put_mac(o, c->to_mac);
	put(o, "\nrule id %u in-port %s %s action srv6-encap ", 2 * no - 1, s->xport[c->from].name,
	    c->match);
	for (j = 0; j < c->nvnf; j++)
		put(o, SID_FMT ",", no, j + 1);
	put(o, SID_FMT "\n", no, 0xffu);
	if (!c->return_match[0])
		return;
	for (j = 0; j < c->nvnf; j++)
		put(o, "sid " SID_FMT " End.AD group %s reverse\n", no, 0x101 + j,
		    s->vnf[c->vnf[j]].name);
	put(o, "sid " SID_FMT " End.DX4 %s ", no, 0x1ffu, s->xport[c->from].name);
	put_mac(o, c->from_mac);
	put(o, "\nrule id %u in-port %s %s action srv6-encap ", 2 * no, s->xport[c->to].name,
	    c->return_match);
	for (j = c->nvnf; j-- > 0;)
		put(o, SID_FMT ",", no, 0x101 + j);
	put(o, SID_FMT "\n", no, 0x1ffu);
}

int nc_plan_steering(const struct nc_plan_in *in, char *buf, size_t len)
{
	const struct nc_spec *s = in->s;
	struct out o = { buf, len, 0 };
	unsigned v, c, j;

	put(&o, "# nfchain deployment %s (generated)\nsrv6-source fd00:6e63::1\n", s->name);
	for (v = 0; v < s->nvnf; v++)
		if (in_chain(s, v))
			put_group(&o, in, v);
	for (c = 0; c < s->nchain; c++) {
		const struct nc_chain *ch = &s->chain[c];

		if (ch->steering == NC_ST_SRV6) {
			unsigned no = in->chain_no(c, in->arg);

			put_srv6(&o, in, ch, no);
			put_tenants(&o, s, c, no);
			continue;
		}
		put(&o, "# chain %s: tos-bitmap\ntos %s %s", ch->name, s->xport[ch->from].name,
		    s->xport[ch->to].name);
		for (j = 0; j < ch->nvnf; j++)
			put(&o, " %s", s->vnf[ch->vnf[j]].name);
		put(&o, "\n");
		put_tenants(&o, s, c, 0);
	}
	return o.used < len ? 0 : -ENOSPC;
}

static bool sets_mode(const char *text)
{
	const char *p = text;

	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "set", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
			p += 4;
			while (*p == ' ' || *p == '\t')
				p++;
			if (strncmp(p, "mode", 4) == 0)
				return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int nc_plan_vnf_conf(const struct nc_spec *s, const struct nc_vnf *f, unsigned idx,
		     const char *sock, const unsigned id[2], char *buf, size_t len,
		     unsigned *prefix)
{
	struct out o = { buf, len, 0 };
	unsigned p, lines = 3;

	put(&o, "# written by nfchain for %s replica %u\n", f->name, idx);
	for (p = 0; p < 2; p++) {
		uint8_t mac[6];

		nc_plan_mac(id[p], mac);
		put(&o, "port %s memif:%s,id=%u mac ", f->port[p], sock, id[p]);
		put_mac(&o, mac);
		put(&o, "\n");
	}
	if (!f->config || !sets_mode(f->config)) {
		put(&o, "set mode %s\n", nc_mode_names[s->mode]);
		lines++;
	}
	put(&o, "%s\n", f->config ? f->config : "");
	*prefix = lines;
	return o.used < len ? 0 : -E2BIG;
}
