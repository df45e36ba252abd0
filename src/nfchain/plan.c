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

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


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

/* SID function @fn of chain @no on node @n: the node's locator, the chain
 * number in the 16 bits after it, the function in the last 16 bits. One
 * node (no cluster): the locator fd00:6e63::/32, so fd00:6e63:N::J. */
static void put_sid(struct out *o, const struct nc_spec *s, int n, unsigned no, unsigned fn)
{
	static const uint8_t one[16] = { 0xfd, 0x00, 0x6e, 0x63 };
	uint8_t a[16];
	unsigned plen = 32, i;
	char str[INET6_ADDRSTRLEN];

	memcpy(a, one, 16);
	if (s->cluster && n >= 0) {
		memcpy(a, s->node[n].locator, 16);
		plen = s->node[n].plen;
	}
	for (i = 0; i < 16; i++)	/* the chain number, bit by bit after the locator */
		if (no & (0x8000u >> i))
			a[(plen + i) / 8] |= (uint8_t)(0x80 >> ((plen + i) % 8));
	a[14] = (uint8_t)(fn >> 8);
	a[15] = (uint8_t)fn;
	inet_ntop(AF_INET6, a, str, sizeof(str));
	put(o, "%s", str);
}

/* Is @n this node (or is there one node only)? */
static bool here(const struct nc_spec *s, int n)
{
	return !s->cluster || n == s->self;
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

		if (m == NULL || (!m->up && !m->draining)) {
			put(o, " -");
			continue;
		}
		put(o, " %s%s/%s@", m->draining ? "~" : "", m->port[0], m->port[1]);
		put_mac(o, m->mac[0]);
		put(o, "/");
		put_mac(o, m->mac[1]);
	}
	/* Autoscaled: a replica scaled in keeps its flows while it drains;
	 * scaled from zero: frames wait in the switch while it starts. */
	if (f->scale.on)
		put(o, " track");
	if (f->scale.on && f->scale.min == 0)
		put(o, " hold %u", f->scale.hold);
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
		if (c->steering == NC_ST_TOS && !here(s, s->xport[c->from].node))
			continue;	/* a tos-bitmap chain is on one node */
		if (c->steering == NC_ST_TOS) {
			put(o, "rule id %u in-port %s %s action set-tos %u/%u\n", id,
			    s->xport[c->from].name, tn->match, tn->services & mask, mask);
			if (tn->return_match[0])
				put(o, "rule id %u in-port %s %s action set-tos %u/%u\n", id + 1,
				    s->xport[c->to].name, tn->return_match, tn->services & mask, mask);
			continue;
		}
		if (here(s, s->xport[c->from].node)) {
			put(o, "rule id %u priority 50 in-port %s %s action srv6-encap ", id,
			    s->xport[c->from].name, tn->match);
			for (j = 0; j < c->nvnf; j++)
				if (tn->services >> j & 1) {
					put_sid(o, s, s->vnf[c->vnf[j]].node, no, j + 1);
					put(o, ",");
				}
			put_sid(o, s, s->xport[c->to].node, no, 0xff);
			put(o, "\n");
		}
		if (!tn->return_match[0] || !here(s, s->xport[c->to].node))
			continue;
		put(o, "rule id %u priority 50 in-port %s %s action srv6-encap ", id + 1,
		    s->xport[c->to].name, tn->return_match);
		for (j = c->nvnf; j-- > 0;)
			if (tn->services >> j & 1) {
				put_sid(o, s, s->vnf[c->vnf[j]].node, no, 0x101 + j);
				put(o, ",");
			}
		put_sid(o, s, s->xport[c->from].node, no, 0x1ff);
		put(o, "\n");
	}
}

/* One direction of an srv6 chain: SIDs of the VNFs here (function
 * @fn0 + J, `reverse` for the way back), the End.DX4 out of @out (function
 * @fnx), the classifier in by @in (rule @id, @match). */
static void put_srv6_dir(struct out *o, const struct nc_spec *s, const struct nc_chain *c,
			 unsigned no, bool back, int in, int out, const char *match, unsigned id)
{
	const unsigned fn0 = back ? 0x101 : 1, fnx = back ? 0x1ff : 0xff;
	const uint8_t *mac = back ? c->from_mac : c->to_mac;
	unsigned j, k;

	for (j = 0; j < c->nvnf; j++) {
		if (!here(s, s->vnf[c->vnf[j]].node))
			continue;
		put(o, "sid ");
		put_sid(o, s, s->vnf[c->vnf[j]].node, no, fn0 + j);
		put(o, " End.AD group %s%s\n", s->vnf[c->vnf[j]].name, back ? " reverse" : "");
	}
	if (here(s, s->xport[out].node)) {
		put(o, "sid ");
		put_sid(o, s, s->xport[out].node, no, fnx);
		put(o, " End.DX4 %s ", s->xport[out].name);
		put_mac(o, mac);
		put(o, "\n");
	}
	if (!here(s, s->xport[in].node))
		return;
	put(o, "rule id %u in-port %s %s action srv6-encap ", id, s->xport[in].name, match);
	for (k = 0; k < c->nvnf; k++) {
		j = back ? c->nvnf - 1 - k : k;
		put_sid(o, s, s->vnf[c->vnf[j]].node, no, fn0 + j);
		put(o, ",");
	}
	put_sid(o, s, s->xport[out].node, no, fnx);
	put(o, "\n");
}

static void put_srv6(struct out *o, const struct nc_plan_in *in, const struct nc_chain *c,
		     unsigned no)
{
	put(o, "# chain %s: srv6\n", c->name);
	put_srv6_dir(o, in->s, c, no, false, c->from, c->to, c->match, 2 * no - 1);
	if (c->return_match[0])
		put_srv6_dir(o, in->s, c, no, true, c->to, c->from, c->return_match, 2 * no);
}

/* A cluster: SIDs of other nodes leave by the uplink to the underlay's
 * router; an unknown SID of this node's locator is a counted drop. */
static void put_uplink(struct out *o, const struct nc_spec *s)
{
	char a[INET6_ADDRSTRLEN];
	unsigned n;

	if (!s->cluster || s->nnode < 2)
		return;
	put(o, "# the underlay: other nodes' locators\n");
	for (n = 0; n < s->nnode; n++) {
		inet_ntop(AF_INET6, s->node[n].locator, a, sizeof(a));
		if ((int)n == s->self) {
			put(o, "rule id %u priority 40 ip6 daddr %s/%u action drop\n",
			    NC_UPLINK_RULE + n, a, s->node[n].plen);
			continue;
		}
		put(o, "rule id %u priority 40 ip6 daddr %s/%u action set-dst-mac ",
		    NC_UPLINK_RULE + n, a, s->node[n].plen);
		put_mac(o, s->node[s->self].gateway);
		put(o, " output " NC_UPLINK "\n");
	}
	/* Nothing else from the underlay is ours (its NDP, MLD, routing
	 * protocols): the node's kernel has it if it shares the uplink, else
	 * it is dropped, never flooded to the VNFs. */
	if (s->node[s->self].kernel[0]) {
		put(o, "rule id %u priority 300 in-port " NC_UPLINK " action output "
		    NC_KERNEL "\n", NC_UPLINK_RULE - 1);
		put(o, "rule id %u priority 300 in-port " NC_KERNEL " action output "
		    NC_UPLINK "\n", NC_UPLINK_RULE - 2);
	} else {
		put(o, "rule id %u priority 300 in-port " NC_UPLINK " action drop\n",
		    NC_UPLINK_RULE - 1);
	}
}

int nc_plan_steering(const struct nc_plan_in *in, char *buf, size_t len)
{
	const struct nc_spec *s = in->s;
	struct out o = { buf, len, 0 };
	unsigned v, c, j;

	put(&o, "# nfchain deployment %s (generated)\nsrv6-source ", s->name);
	put_sid(&o, s, s->cluster ? s->self : -1, 0, 1);
	if (s->cluster)
		put(&o, "\n# node %s of %u", s->node[s->self].name, s->nnode);
	put(&o, "\n");
	for (v = 0; v < s->nvnf; v++)
		if (in_chain(s, v) && !s->vnf[v].remote)
			put_group(&o, in, v);
	for (c = 0; c < s->nchain; c++) {
		const struct nc_chain *ch = &s->chain[c];

		if (ch->steering == NC_ST_SRV6) {
			unsigned no = in->chain_no(c, in->arg);

			put_srv6(&o, in, ch, no);
			put_tenants(&o, s, c, no);
			continue;
		}
		if (!here(s, s->xport[ch->from].node))
			continue;	/* on one node, checked by spec.c */
		put(&o, "# chain %s: tos-bitmap\ntos %s %s", ch->name, s->xport[ch->from].name,
		    s->xport[ch->to].name);
		for (j = 0; j < ch->nvnf; j++)
			put(&o, " %s", s->vnf[ch->vnf[j]].name);
		put(&o, "\n");
		put_tenants(&o, s, c, 0);
	}
	put_uplink(&o, s);
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
