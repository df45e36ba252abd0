/* steer.c - nfswitch's steering plane: building a generation from its
 * configuration lines (see steer.h for the language) and the per-frame
 * work. The control requests are in steer_ctl.c. */
#include "steer.h"
#include "sw.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const st_drop_names[] = {
#define ST_DROP_NAME(e, n, d) n,
	ST_DROPS(ST_DROP_NAME)
#undef ST_DROP_NAME
};

const char *st_drop_name(enum st_drop d)
{
	return d < ST_DROP_MAX ? st_drop_names[d] : "?";
}

static const char *const beh_names[ST_BEH_MAX] = {
	"End", "End.X", "End.DX4", "End.DX6", "End.DT4", "End.DT6", "End.AD", "End.AS",
};

/* ---------------------------------------------------------------- parsing */

#define TOK_MAX 256

struct toks {
	char buf[NF_RULE_LINE_MAX];
	char *t[TOK_MAX];
	unsigned n;
};

static int tokenize(const char *line, struct toks *k)
{
	char *save = NULL, *tok;

	if (nf_strlcpy(k->buf, line, sizeof(k->buf)) >= sizeof(k->buf)) {
		nf_set_error("line longer than %d bytes", NF_RULE_LINE_MAX - 1);
		return -EINVAL;
	}
	k->n = 0;
	for (tok = strtok_r(k->buf, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (tok[0] == '#')
			break;
		if (k->n == TOK_MAX) {
			nf_set_error("more than %d words", TOK_MAX);
			return -EINVAL;
		}
		k->t[k->n++] = tok;
	}
	return 0;
}

static int port_of(struct sw *sw, const char *s)
{
	struct sw_port *sp = sw_port_find(sw, s);

	if (sp == NULL) {
		nf_set_error("no port '%s'", s);
		return -ENOENT;
	}
	return nf_port_index(sp->p);
}

static int mac_of(const char *s, uint8_t mac[6])
{
	if (nf_parse_mac(s, mac) < 0) {
		nf_set_error("'%s' is not a MAC address", s);
		return -EINVAL;
	}
	return 0;
}

static int ip6_of(const char *s, uint8_t a[16])
{
	if (inet_pton(AF_INET6, s, a) != 1) {
		nf_set_error("'%s' is not an IPv6 address", s);
		return -EINVAL;
	}
	return 0;
}

static int segs_of(const char *s, struct nf_srv6_segs *sg)
{
	char tmp[NF_RULE_LINE_MAX], *save = NULL, *tok;

	nf_strlcpy(tmp, s, sizeof(tmp));
	sg->n = 0;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (sg->n == NF_SRV6_SEGS_MAX) {
			nf_set_error("more than %d segments", NF_SRV6_SEGS_MAX);
			return -EINVAL;
		}
		if (ip6_of(tok, sg->sid[sg->n].b) < 0)
			return -EINVAL;
		sg->n++;
	}
	if (sg->n == 0) {
		nf_set_error("an empty segment list");
		return -EINVAL;
	}
	return 0;
}

static int group_of(const struct st_gen *g, const char *name)
{
	unsigned i;

	for (i = 0; i < g->ngroups; i++)
		if (strcmp(g->group[i].name, name) == 0)
			return (int)i;
	nf_set_error("no group '%s' (groups come before what uses them)", name);
	return -ENOENT;
}

static int inner_of(const char *s, uint8_t *inner)
{
	if (strcmp(s, "ipv4") == 0)
		*inner = NF_IPPROTO_IPIP;
	else if (strcmp(s, "ipv6") == 0)
		*inner = NF_IPPROTO_IPV6;
	else {
		nf_set_error("inner '%s': expected ipv4 or ipv6", s);
		return -EINVAL;
	}
	return 0;
}

/* The ports of a member, "PORT" or "PORT/RETURN". Port names may hold '/'
 * themselves (memif specs): the whole word as one port and every split at
 * a '/' into two are tried; exactly one reading must name ports. */
static int member_ports(struct sw *sw, char *s, struct st_member *m)
{
	char *sl, *first = strchr(s, '/');
	unsigned found = sw_port_find(sw, s) != NULL;
	int p, r;

	if (first == NULL) {
		p = port_of(sw, s);
		if (p < 0)
			return p;
		m->port = p;
		return 0;
	}
	if (found)
		m->port = port_of(sw, s);
	for (sl = first; sl != NULL; sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		if (sw_port_find(sw, s) != NULL && sw_port_find(sw, sl + 1) != NULL) {
			m->port = port_of(sw, s);
			m->peer = port_of(sw, sl + 1);
			found++;
		}
		*sl = '/';
	}
	if (found == 1)
		return 0;
	if (found > 1) {
		nf_set_error("member '%s' reads as ports in %u ways: name the ports "
			     "(add-port SPEC NAME) or use their indices", s, found);
		return -EINVAL;
	}
	if (strchr(first + 1, '/') == NULL) {	/* PORT/RETURN: say which is missing */
		*first = '\0';
		p = port_of(sw, s);
		r = p < 0 ? p : port_of(sw, first + 1);
		*first = '/';
		if (r < 0)
			return r;
	}
	nf_set_error("member '%s': no port PORT or pair PORT/RETURN by these names", s);
	return -ENOENT;
}

/* "MAC", "MAC/RMAC": side 0 (into PORT) and side 1 (into RETURN); one MAC
 * is both; "-" none. */
static int member_macs(char *s, struct st_member *m)
{
	char *sl = strchr(s, '/'), *side[2] = { s, s };
	unsigned i;

	if (sl != NULL) {
		*sl = '\0';
		side[1] = sl + 1;
		if (m->peer < 0) {
			nf_set_error("two MACs (@MAC/RMAC) for a member without RETURN port");
			return -EINVAL;
		}
	}
	for (i = 0; i < 2; i++) {
		if (strcmp(side[i], "-") == 0)
			continue;
		if (mac_of(side[i], m->mac[i]) < 0)
			return -EINVAL;
		m->has_mac[i] = true;
	}
	return 0;
}

unsigned st_group_members_end(char *const *w, unsigned n, unsigned *hold, bool *track)
{
	*hold = 0;
	*track = false;
	for (;;) {		/* ... [track] [hold N], in either order */
		if (*hold == 0 && n >= 5 && strcmp(w[n - 2], "hold") == 0) {
			*hold = n - 1;
			n -= 2;
		} else if (!*track && n >= 4 && strcmp(w[n - 1], "track") == 0) {
			*track = true;
			n--;
		} else {
			return n;
		}
	}
}

static int parse_group(struct sw *sw, struct st_gen *g, struct toks *k)
{
	struct st_group *gr;
	unsigned i, hold;

	if (k->n < 3) {
		nf_set_error("usage: group NAME MEMBER... (MEMBER: PORT[/RETURN][@MAC[/RMAC]] or -)");
		return -EINVAL;
	}
	if (g->ngroups == ST_GROUPS_MAX) {
		nf_set_error("more than %d groups", ST_GROUPS_MAX);
		return -ENOSPC;
	}
	if (strlen(k->t[1]) >= ST_NAME_MAX || group_of(g, k->t[1]) >= 0) {
		nf_set_error("group name '%s' too long or already used", k->t[1]);
		return -EINVAL;
	}
	gr = &g->group[g->ngroups];
	memset(gr, 0, sizeof(*gr));
	nf_strlcpy(gr->name, k->t[1], sizeof(gr->name));
	/* the options: track (its table: group_table()), hold N */
	k->n = st_group_members_end(k->t, k->n, &hold, &gr->track_on);
	if (hold != 0) {
		uint64_t v;

		if (nf_parse_u64(k->t[hold], 1, ST_HOLD_MAX, 0, &v) < 0) {
			nf_set_error("hold '%s': expected 1..%d frames", k->t[hold], ST_HOLD_MAX);
			return -EINVAL;
		}
		gr->hold_cap = (unsigned)v;
	}
	if (k->n - 2 > NF_HASH_MEMBERS_MAX) {	/* the options are no members */
		nf_set_error("more than %d members", NF_HASH_MEMBERS_MAX);
		return -EINVAL;
	}
	for (i = 2; i < k->n; i++) {
		struct st_member *m = &gr->m[gr->n++];
		char tmp[NF_RULE_LINE_MAX], *at;
		int ret;

		m->port = m->peer = -1;
		if (strcmp(k->t[i], "-") == 0)
			continue;
		if (k->t[i][0] == '~') {	/* draining: its tracked flows only */
			if (!gr->track_on) {
				nf_set_error("draining member '%s' needs 'track' on the group",
					     k->t[i]);
				return -EINVAL;
			}
			m->draining = true;
			gr->ndraining++;
		}
		nf_strlcpy(tmp, k->t[i] + m->draining, sizeof(tmp));
		at = strrchr(tmp, '@');
		if (at != NULL)
			*at++ = '\0';
		ret = member_ports(sw, tmp, m);
		if (ret == 0 && at != NULL)
			ret = member_macs(at, m);
		if (ret < 0)
			return ret;
		if (!m->draining)
			gr->up |= 1ull << (gr->n - 1);
	}
	g->ngroups++;
	return 0;
}

static int parse_sid(struct sw *sw, struct st_gen *g, struct toks *k, const char *line)
{
	struct st_sid *s;
	unsigned i, b;
	int ret;

	(void)sw;
	if (k->n < 3) {
		nf_set_error("usage: sid ADDR End|End.X|End.DX4|End.DX6|End.DT4|End.DT6|End.AD|End.AS ...");
		return -EINVAL;
	}
	if (g->nsids == ST_SIDS_MAX) {
		nf_set_error("more than %d SIDs", ST_SIDS_MAX);
		return -ENOSPC;
	}
	s = &g->sid[g->nsids];
	memset(s, 0, sizeof(*s));
	s->port = -1;
	s->group = -1;
	s->inner = NF_IPPROTO_IPIP;
	nf_strlcpy(s->text, line, sizeof(s->text));
	if (ip6_of(k->t[1], s->addr) < 0)
		return -EINVAL;
	for (i = 0; i < g->nsids; i++) {
		if (memcmp(g->sid[i].addr, s->addr, 16) == 0) {
			nf_set_error("SID %s is already defined", k->t[1]);
			return -EEXIST;
		}
	}
	for (b = 0; b < ST_BEH_MAX; b++)
		if (strcmp(k->t[2], beh_names[b]) == 0)
			break;
	if (b == ST_BEH_MAX) {
		nf_set_error("behaviour '%s': expected End, End.X, End.DX4, End.DX6, End.DT4, "
			     "End.DT6, End.AD or End.AS", k->t[2]);
		return -EINVAL;
	}
	s->beh = (uint8_t)b;
	switch (b) {
	case ST_END: case ST_END_DT4: case ST_END_DT6:
		if (k->n != 3) {
			nf_set_error("%s takes no arguments", beh_names[b]);
			return -EINVAL;
		}
		break;
	case ST_END_X: case ST_END_DX4: case ST_END_DX6:
		if (k->n != 5) {
			nf_set_error("usage: sid ADDR %s PORT NEXT-HOP-MAC", beh_names[b]);
			return -EINVAL;
		}
		ret = port_of(sw, k->t[3]);
		if (ret < 0)
			return ret;
		s->port = ret;
		if (mac_of(k->t[4], s->mac) < 0)
			return -EINVAL;
		break;
	default: {	/* proxies */
		struct nf_srv6_segs sg = { 0 };
		uint8_t src[16];
		bool have_segs = false;

		memcpy(src, g->src6, 16);
		if (k->n < 5 || strcmp(k->t[3], "group") != 0) {
			nf_set_error("usage: sid ADDR %s group NAME [reverse] [inner ipv4|ipv6]%s",
				     beh_names[b], b == ST_END_AS ? " segs SID,... [src ADDR]" : "");
			return -EINVAL;
		}
		ret = group_of(g, k->t[4]);
		if (ret < 0)
			return ret;
		s->group = ret;
		for (i = 5; i < k->n; i++) {
			if (strcmp(k->t[i], "reverse") == 0) {
				s->reverse = true;
			} else if (strcmp(k->t[i], "inner") == 0 && i + 1 < k->n) {
				if (inner_of(k->t[++i], &s->inner) < 0)
					return -EINVAL;
			} else if (b == ST_END_AS && strcmp(k->t[i], "segs") == 0 && i + 1 < k->n) {
				if (segs_of(k->t[++i], &sg) < 0)
					return -EINVAL;
				have_segs = true;
			} else if (b == ST_END_AS && strcmp(k->t[i], "src") == 0 && i + 1 < k->n) {
				if (ip6_of(k->t[++i], src) < 0)
					return -EINVAL;
			} else {
				nf_set_error("'%s': unexpected", k->t[i]);
				return -EINVAL;
			}
		}
		for (i = 0; i < g->group[s->group].n; i++) {
			const struct st_member *m = &g->group[s->group].m[i];

			if (m->port >= 0 && m->peer < 0) {
				nf_set_error("group '%s' member %u has no return port (PORT/RETURN)",
					     k->t[4], i);
				return -EINVAL;
			}
		}
		if (b == ST_END_AS) {
			if (!have_segs) {
				nf_set_error("End.AS needs segs SID,... (the segments after it)");
				return -EINVAL;
			}
			s->as = calloc(1, sizeof(*s->as));
			if (s->as == NULL)
				return -ENOMEM;
			ret = nf_srv6_encap_init(s->as, (const struct nf_srv6_sid *)src, &sg, 0,
						 NF_SRV6_ENCAPS);
			if (ret < 0)
				return ret;
		}
		break;
	}
	}
	g->nsids++;
	return 0;
}

/* A rule's line, split: its switch parts into @r, the rest (matches for
 * nf_rule) into @match. */
/* set-tos VALUE[/MASK]: 0..255 each (default mask 0xff); VALUE outside
 * MASK is refused (it would be ignored). */
static int tos_arg(const char *a, struct st_rule *r)
{
	char v[32], *slash;
	uint64_t val, mask = 0xff;

	if (snprintf(v, sizeof(v), "%s", a) >= (int)sizeof(v))
		goto bad;
	slash = strchr(v, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (nf_parse_u64(slash + 1, 0, 255, 0, &mask) < 0)
			goto bad;
	}
	if (nf_parse_u64(v, 0, 255, 0, &val) < 0)
		goto bad;
	if (val & ~mask) {
		nf_set_error("set-tos '%s': the value has bits outside the mask", a);
		return -EINVAL;
	}
	r->set_tos = true;
	r->tos_val = (uint8_t)val;
	r->tos_mask = (uint8_t)mask;
	return 0;
bad:
	nf_set_error("set-tos '%s': expected VALUE or VALUE/MASK, each 0..255", a);
	return -EINVAL;
}

static int parse_rule(struct sw *sw, struct st_gen *g, struct toks *k, struct st_rule *r,
		      char *match, size_t mlen)
{
	size_t used = 0;
	unsigned i = 1;
	uint64_t v;
	int ret;

	memset(r, 0, sizeof(*r));
	r->in_port = r->mirror = r->out = -1;
	r->prio = 100;
	match[0] = '\0';
	for (; i < k->n && strcmp(k->t[i], "action") != 0; i++) {
		const char *t = k->t[i], *a = i + 1 < k->n ? k->t[i + 1] : NULL;

		if (strcmp(t, "id") == 0 && a) {
			if (nf_parse_u64(a, 1, UINT32_MAX, 0, &v) < 0) {
				nf_set_error("id '%s': expected 1..%u", a, UINT32_MAX);
				return -EINVAL;
			}
			r->id = (uint32_t)v;
			i++;
		} else if (strcmp(t, "priority") == 0 && a) {
			if (nf_parse_u64(a, 0, 65535, 0, &v) < 0) {
				nf_set_error("priority '%s': expected 0..65535", a);
				return -EINVAL;
			}
			r->prio = (uint32_t)v;
			i++;
		} else if (strcmp(t, "in-port") == 0 && a) {
			ret = port_of(sw, a);
			if (ret < 0)
				return ret;
			r->in_port = ret;
			i++;
		} else if (strcmp(t, "ether") == 0 && a && i + 2 < k->n &&
			   (strcmp(a, "saddr") == 0 || strcmp(a, "daddr") == 0)) {
			bool s = a[0] == 's';

			if (mac_of(k->t[i + 2], s ? r->smac : r->dmac) < 0)
				return -EINVAL;
			*(s ? &r->has_smac : &r->has_dmac) = true;
			i += 2;
		} else if (strcmp(t, "ether") == 0 && a && strcmp(a, "type") == 0 && i + 2 < k->n) {
			const char *x = k->t[i + 2];

			if (strcmp(x, "ipv4") == 0 || strcmp(x, "ip") == 0)
				v = 0x0800;
			else if (strcmp(x, "ipv6") == 0 || strcmp(x, "ip6") == 0)
				v = 0x86dd;
			else if (strcmp(x, "arp") == 0)
				v = 0x0806;
			else if (nf_parse_u64(x, 0, 0xffff, 0, &v) < 0) {
				nf_set_error("ether type '%s': expected ipv4, ipv6, arp or 0..0xffff", x);
				return -EINVAL;
			}
			r->type = (uint16_t)v;
			r->has_type = true;
			i += 2;
		} else if (strcmp(t, "vlan") == 0 && a && strcmp(a, "id") == 0 && i + 2 < k->n) {
			if (nf_parse_u64(k->t[i + 2], 0, 4095, 0, &v) < 0) {
				nf_set_error("vlan id '%s': expected 0..4095", k->t[i + 2]);
				return -EINVAL;
			}
			r->vlan = (uint16_t)v;
			r->has_vlan = true;
			i += 2;
		} else {
			int n = snprintf(match + used, mlen - used, "%s ", t);

			if (n < 0 || (size_t)n >= mlen - used) {
				nf_set_error("rule too long");
				return -EINVAL;
			}
			used += (size_t)n;
		}
	}
	if (i >= k->n) {
		nf_set_error("a rule needs 'action ...' (output PORT, group NAME, drop, l2, ...)");
		return -EINVAL;
	}
	snprintf(match + used, mlen - used, "accept");
	for (i++; i < k->n; i++) {
		const char *t = k->t[i], *a = i + 1 < k->n ? k->t[i + 1] : NULL;
		bool term = false;

		if (r->term != ST_T_L2) {
			nf_set_error("'%s' after the final action", t);
			return -EINVAL;
		}
		if (strcmp(t, "output") == 0 && a) {
			ret = port_of(sw, a);
			if (ret < 0)
				return ret;
			r->term = ST_T_OUTPUT;
			r->out = ret;
			term = true;
			i++;
		} else if (strcmp(t, "group") == 0 && a) {
			ret = group_of(g, a);
			if (ret < 0)
				return ret;
			r->term = ST_T_GROUP;
			r->out = ret;
			term = true;
			i++;
		} else if (strcmp(t, "drop") == 0) {
			r->term = ST_T_DROP;
			term = true;
		} else if (strcmp(t, "l2") == 0) {
			term = true;		/* the default, said explicitly */
		} else if (strcmp(t, "count") == 0) {
			/* every rule counts */
		} else if (strcmp(t, "set-dst-mac") == 0 && a) {
			if (mac_of(a, r->dmac_new) < 0)
				return -EINVAL;
			r->set_dmac = true;
			i++;
		} else if (strcmp(t, "set-tos") == 0 && a) {
			ret = tos_arg(a, r);
			if (ret < 0)
				return ret;
			i++;
		} else if (strcmp(t, "mirror") == 0 && a) {
			ret = port_of(sw, a);
			if (ret < 0)
				return ret;
			r->mirror = ret;
			i++;
		} else if (strcmp(t, "srv6-decap") == 0) {
			r->decap = true;
		} else if (strcmp(t, "srv6-encap") == 0) {
			enum nf_srv6_mode mode = NF_SRV6_ENCAPS;
			struct nf_srv6_segs sg;
			uint8_t src[16];
			bool red = false, l2 = false;

			memcpy(src, g->src6, 16);
			for (i++; i < k->n; i++) {
				if (strcmp(k->t[i], "red") == 0)
					red = true;
				else if (strcmp(k->t[i], "l2") == 0)
					l2 = true;
				else if (strcmp(k->t[i], "src") == 0 && i + 1 < k->n) {
					if (ip6_of(k->t[++i], src) < 0)
						return -EINVAL;
				} else
					break;
			}
			if (i >= k->n || segs_of(k->t[i], &sg) < 0) {
				if (i >= k->n)
					nf_set_error("srv6-encap needs a segment list SID,SID,...");
				return -EINVAL;
			}
			mode = l2 ? (red ? NF_SRV6_ENCAPS_L2_RED : NF_SRV6_ENCAPS_L2)
				  : (red ? NF_SRV6_ENCAPS_RED : NF_SRV6_ENCAPS);
			if (r->encap != NULL) {
				nf_set_error("one srv6-encap per rule");
				return -EINVAL;
			}
			r->encap = calloc(1, sizeof(*r->encap));
			if (r->encap == NULL)
				return -ENOMEM;
			ret = nf_srv6_encap_init(r->encap, (const struct nf_srv6_sid *)src, &sg, 0, mode);
			if (ret < 0)
				return ret;
		} else {
			nf_set_error("action '%s': expected output PORT, group NAME, drop, l2, count, "
				     "set-dst-mac MAC, set-tos VALUE[/MASK], mirror PORT, srv6-encap ..., "
				     "srv6-decap", t);
			return -EINVAL;
		}
		(void)term;
	}
	if (r->term == ST_T_L2 && (r->encap != NULL || r->decap))
		r->term = ST_T_RECIRC;	/* rewritten, not sent: look again */
	return 0;
}

/* ---------------------------------------------------------------- build */

static uint32_t sid_hash(const uint8_t *a)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	x ^= y * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x >> 32);
}

static const struct st_sid *sid_find(const struct st_gen *g, const uint8_t *a)
{
	uint32_t i;

	if (g->sid_hash == NULL)
		return NULL;
	for (i = sid_hash(a) & g->sid_mask; g->sid_hash[i] != 0; i = (i + 1) & g->sid_mask) {
		const struct st_sid *s = &g->sid[g->sid_hash[i] - 1];

		if (memcmp(s->addr, a, 16) == 0)
			return s;
	}
	return NULL;
}

struct pending_rule {
	struct st_rule r;
	char match[NF_RULE_LINE_MAX];
	unsigned line;
};

static int cmp_rule(const void *a, const void *b)
{
	const struct st_rule *x = &((const struct pending_rule *)a)->r;
	const struct st_rule *y = &((const struct pending_rule *)b)->r;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Carry what outlives a generation from @old into @g: rule counters by
 * id, SID counters and End.AD caches by address, group member counters by
 * name. Called once @g is complete (nothing can fail after it): the
 * pointers are swapped, so @old keeps valid (fresh) ones and a build that
 * fails earlier leaves @old exactly as it was. */
#define SWAP(a, b) do { __typeof__(a) _t = (a); (a) = (b); (b) = _t; } while (0)

/* Held frames go on in the new generation (their ring with them, even
 * when it no longer has `hold`); an empty ring gives its counters to the
 * new one, which has the new capacity. */
static void carry_hold(struct st_group *gr, struct st_group *og)
{
	struct st_hold *n = gr->hold, *o = og->hold;

	if (o == NULL)
		return;
	if (n == NULL || o->n > 0) {
		SWAP(gr->hold, og->hold);
		return;
	}
	n->held = o->held;
	n->released = o->released;
	n->full = o->full;
	n->big = o->big;
	n->episodes = o->episodes;
	n->last_us = o->last_us;
}

static void carry(struct st_gen *g, struct st_gen *old)
{
	unsigned i, j;

	if (old == NULL)
		return;
	st_flow_flush(old);	/* its counters move to @g */
	for (i = 0; i < g->nrules; i++)
		for (j = 0; j < old->nrules; j++)
			if (old->rule[j].id == g->rule[i].id) {
				SWAP(g->rule[i].count, old->rule[j].count);
				break;
			}
	for (i = 0; i < g->nsids; i++) {
		struct st_sid *s = &g->sid[i];

		for (j = 0; j < old->nsids; j++) {
			struct st_sid *o = &old->sid[j];

			if (memcmp(o->addr, s->addr, 16) != 0)
				continue;
			SWAP(s->count, o->count);
			if (s->beh == ST_END_AD && o->beh == ST_END_AD)
				SWAP(s->px, o->px);
			break;
		}
	}
	for (i = 0; i < g->ngroups; i++)
		for (j = 0; j < old->ngroups; j++)
			if (strcmp(old->group[j].name, g->group[i].name) == 0) {
				SWAP(g->group[i].mcount, old->group[j].mcount);
				carry_hold(&g->group[i], &old->group[j]);
				if (g->group[i].track && old->group[j].track)	/* recent flows */
					SWAP(g->group[i].track, old->group[j].track);
				break;
			}
	for (i = 0; i < g->ngroups; i++)
		if (g->group[i].hold != NULL && g->group[i].hold->n)
			g->holding = true;
	/* frames held for a group that went away: counted, not lost silently */
	for (j = 0; j < old->ngroups; j++)
		if (old->group[j].hold != NULL && old->group[j].hold->n &&
		    group_of(g, old->group[j].name) < 0)
			g->drops[ST_DROP_GROUP_EMPTY] += old->group[j].hold->n;
	/* Return ports of replicas that left a proxy's group (member "-")
	 * keep their role while the member stays removed: what is still in
	 * the replica's rings goes back by the proxy, as before. Switched by
	 * MAC instead it would be flooded into the other VNFs (duplicates)
	 * and into the replica itself (a loop). */
	for (i = 0; i < SW_PORTS_MAX; i++) {
		const struct st_port_role *o = &old->role[i];
		const struct st_sid *s;

		if (o->role != ST_R_PROXY_RET || g->role[i].role != ST_R_NONE)
			continue;
		s = sid_find(g, old->sid[o->sid].addr);
		if (s != NULL && s->group >= 0 && (s->beh == ST_END_AD || s->beh == ST_END_AS) &&
		    o->member < g->group[s->group].n && g->group[s->group].m[o->member].port < 0) {
			g->role[i] = *o;
			g->role[i].sid = (uint16_t)(s - g->sid);
		}
	}
}

/* The group's hash table: derived from the old generation's table of the
 * same name (so that changes move only the flows that must move). */
static int group_table(struct st_group *gr, const struct st_gen *old)
{
	const struct st_group *og = NULL;
	unsigned i;
	int ret;

	for (i = 0; old != NULL && i < old->ngroups; i++)
		if (strcmp(old->group[i].name, gr->name) == 0)
			og = &old->group[i];
	ret = nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 0x5eed, &gr->tab);
	if (ret < 0)
		return ret;
	if (og != NULL && og->tab != NULL) {
		ret = nf_hash_group_build(gr->tab, og->tab, og->tab->up);
		if (ret == 0)
			ret = nf_hash_group_build(gr->tab, gr->tab, gr->up);
	} else {
		ret = nf_hash_group_build(gr->tab, gr->tab, gr->up);
	}
	if (ret < 0)
		return ret;
	gr->mcount = calloc(NF_HASH_MEMBERS_MAX, sizeof(*gr->mcount));
	if (gr->mcount == NULL)
		return -ENOMEM;
	if (gr->track_on) {
		gr->track = calloc(1, sizeof(*gr->track));
		if (gr->track == NULL)
			return -ENOMEM;
	}
	return gr->hold_cap ? st_hold_new(gr->hold_cap, &gr->hold) : 0;
}

static int set_role(struct st_gen *g, int port, struct st_port_role r, const char *what)
{
	if (port < 0)
		return 0;
	if (g->role[port].role != ST_R_NONE) {
		nf_set_error("port %d has two roles (%s, and an earlier one)", port, what);
		return -EINVAL;
	}
	g->role[port] = r;
	return 0;
}

static int parse_tos(struct sw *sw, struct st_gen *g, struct toks *k)
{
	unsigned i;
	int ret;

	if (k->n < 4 || k->n > 11) {
		nf_set_error("usage: tos INGRESS EGRESS LAYER0 [LAYER1 ... LAYER7] (group names or -)");
		return -EINVAL;
	}
	if (g->tos.on) {
		nf_set_error("a second tos line");
		return -EINVAL;
	}
	ret = port_of(sw, k->t[1]);
	if (ret < 0)
		return ret;
	g->tos.in = ret;
	ret = port_of(sw, k->t[2]);
	if (ret < 0)
		return ret;
	g->tos.out = ret;
	for (i = 0; i < 8; i++)
		g->tos.layer[i] = -1;
	for (i = 3; i < k->n; i++) {
		if (strcmp(k->t[i], "-") == 0)
			continue;
		ret = group_of(g, k->t[i]);
		if (ret < 0)
			return ret;
		g->tos.layer[i - 3] = ret;
	}
	g->tos.on = true;
	return 0;
}

static int roles(struct st_gen *g)
{
	unsigned i, j, l;
	int ret;

	for (i = 0; i < g->nsids; i++) {
		const struct st_sid *s = &g->sid[i];
		const struct st_group *gr;

		if (s->group < 0)
			continue;
		gr = &g->group[s->group];
		for (j = 0; j < gr->n; j++) {
			struct st_port_role r = { .role = ST_R_PROXY_RET, .member = (uint16_t)j,
						  .sid = (uint16_t)i };

			ret = set_role(g, s->reverse ? gr->m[j].port : gr->m[j].peer, r,
				       "SRv6 proxy return");
			if (ret < 0)
				return ret;
		}
	}
	if (!g->tos.on)
		return 0;
	ret = set_role(g, g->tos.in, (struct st_port_role){ .role = ST_R_TOS_IN }, "tos ingress");
	if (ret == 0)
		ret = set_role(g, g->tos.out, (struct st_port_role){ .role = ST_R_TOS_OUT },
			       "tos egress");
	for (l = 0; ret == 0 && l < 8; l++) {
		const struct st_group *gr;

		if (g->tos.layer[l] < 0)
			continue;
		gr = &g->group[g->tos.layer[l]];
		for (j = 0; ret == 0 && j < gr->n; j++) {
			struct st_port_role r = { .role = ST_R_TOS_LAYER, .layer = (uint8_t)l,
						  .member = (uint16_t)j };

			if (gr->m[j].port >= 0 && gr->m[j].peer < 0) {
				nf_set_error("tos layer %u: group '%s' member %u needs PORT/RETURN",
					     l, gr->name, j);
				return -EINVAL;
			}
			ret = set_role(g, gr->m[j].port, r, "tos layer");
			r.ret = true;
			if (ret == 0)
				ret = set_role(g, gr->m[j].peer, r, "tos layer");
		}
	}
	return ret;
}

/* Which frames may get a wide flow cache entry: those that matched a rule
 * before which (itself included) no rule reads what a wide key leaves out
 * (the source address, the ports) or what only some flows have (TCP
 * flags, ICMP, conntrack state). Whether such a frame matched the rules
 * before it, and which, depends on its wide key alone. */
static void wide_rules(struct st_gen *g)
{
	const uint32_t narrow = 1u << NF_RF_SRC | 1u << NF_RF_SPORT | 1u << NF_RF_DPORT |
				1u << NF_RF_ICMP_TYPE | 1u << NF_RF_ICMP_CODE | NF_RM_TCP_FLAGS |
				NF_RM_CT;
	bool n = false;
	uint32_t i;

	for (i = 0; i < g->nrules; i++) {
		n = n || (g->rs.rules[i].has & narrow);
		g->rule[i].narrow = n;
	}
	g->narrow = n;
	g->wide = g->flow != NULL && (g->nrules == 0 || !g->rule[0].narrow);
}

void st_free(struct st_gen *g)
{
	unsigned i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nlines; i++)
		free(g->lines[i]);
	free(g->lines);
	for (i = 0; i < g->ngroups; i++) {
		nf_hash_group_free(g->group[i].tab);
		free(g->group[i].mcount);
		st_hold_free(g->group[i].hold);
		free(g->group[i].track);
	}
	for (i = 0; i < g->nsids; i++) {
		free(g->sid[i].px);
		free(g->sid[i].as);
		free(g->sid[i].count);
	}
	free(g->sid);
	free(g->sid_hash);
	for (i = 0; i < g->nrules; i++) {
		free(g->rule[i].encap);
		free(g->rule[i].count);
	}
	free(g->rule);
	nf_ruleset_free(&g->rs);
	nf_cls_free(g->cls);
	free(g->role);
	free(g->rcache);
	free(g->flow);
	free(g);
}

int st_build(struct sw *sw, char *const *lines, unsigned n, const struct st_gen *old,
	     struct st_gen **out)
{
	struct pending_rule *pr = NULL;
	struct nf_rule_opts ro = { 0 };
	struct st_gen *g;
	unsigned i, npr = 0, order = 0, srcs = 0;
	uint32_t maxid = 0;
	int ret = 0;

	if (n > ST_LINES_MAX) {
		nf_set_error("more than %d lines", ST_LINES_MAX);
		return -E2BIG;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	inet_pton(AF_INET6, "fd00::1", g->src6);
	g->lines = calloc(n ? n : 1, sizeof(char *));
	g->sid = calloc(ST_SIDS_MAX, sizeof(*g->sid));
	pr = calloc(n ? n : 1, sizeof(*pr));
	g->role = calloc(SW_PORTS_MAX, sizeof(*g->role));
	if (g->lines == NULL || g->sid == NULL || pr == NULL || g->role == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	nf_ruleset_init(&g->rs);
	for (i = 0; i < n; i++) {
		g->lines[i] = strdup(lines[i]);
		if (g->lines[i] == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		g->nlines++;
	}
	/* srv6-source first: it applies to every srv6-encap and End.AS,
	 * wherever it is written. */
	for (i = 0; i < n; i++) {
		struct toks k;

		ret = tokenize(lines[i], &k);
		if (ret < 0)
			goto fail_line;
		if (k.n == 0 || strcmp(k.t[0], "srv6-source") != 0)
			continue;
		if (k.n != 2 || srcs++ > 0) {
			nf_set_error(k.n != 2 ? "usage: srv6-source ADDR" : "a second srv6-source line");
			ret = -EINVAL;
			goto fail_line;
		}
		ret = ip6_of(k.t[1], g->src6);
		if (ret < 0)
			goto fail_line;
	}
	/* Lines in order: groups before what names them. */
	for (i = 0; i < n; i++) {
		struct toks k;

		ret = tokenize(lines[i], &k);
		if (ret < 0)
			goto fail_line;
		if (k.n == 0)
			continue;
		if (strcmp(k.t[0], "group") == 0)
			ret = parse_group(sw, g, &k);
		else if (strcmp(k.t[0], "sid") == 0)
			ret = parse_sid(sw, g, &k, lines[i]);
		else if (strcmp(k.t[0], "srv6-source") == 0)
			ret = 0;	/* done above */
		else if (strcmp(k.t[0], "tos") == 0)
			ret = parse_tos(sw, g, &k);
		else if (strcmp(k.t[0], "rule") == 0) {
			ret = parse_rule(sw, g, &k, &pr[npr].r, pr[npr].match,
					 sizeof(pr[npr].match));
			if (ret == 0) {
				pr[npr].r.order = order++;
				pr[npr].line = i;
				if (pr[npr].r.id > maxid)
					maxid = pr[npr].r.id;
				npr++;
			} else if (pr[npr].r.encap != NULL) {
				free(pr[npr].r.encap);
			}
		} else {
			nf_set_error("'%s': expected group, sid, rule, srv6-source or tos", k.t[0]);
			ret = -EINVAL;
		}
		if (ret < 0)
			goto fail_line;
	}
	/* Rules: ids for those without, classification order, matches. */
	for (i = 0; i < npr; i++) {
		unsigned j;

		if (pr[i].r.id == 0)
			pr[i].r.id = ++maxid;
		for (j = 0; j < i; j++) {
			if (pr[j].r.id == pr[i].r.id) {
				nf_set_error("line %u: rule id %u is used twice", pr[i].line + 1,
					     pr[i].r.id);
				ret = -EINVAL;
				goto fail;
			}
		}
	}
	g->next_id = maxid + 1;
	qsort(pr, npr, sizeof(*pr), cmp_rule);
	g->rule = calloc(npr ? npr : 1, sizeof(*g->rule));
	if (g->rule == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < npr; i++) {
		ro.file = "rule";
		ret = nf_rule_parse(&g->rs, &ro, pr[i].match, pr[i].line + 1);
		if (ret < 0 || g->rs.n != i + 1) {
			if (ret == 0) {
				nf_set_error("line %u: the matches are empty", pr[i].line + 1);
				ret = -EINVAL;
			}
			goto fail;
		}
		g->rule[i] = pr[i].r;
		g->rule[i].text = g->lines[pr[i].line];
		g->nrules++;
		g->rule[i].count = calloc(1, sizeof(struct st_count));
		if (g->rule[i].count == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	if (g->nrules) {
		ret = nf_cls_build(&g->rs, &g->cls);
		if (ret < 0)
			goto fail;
		if (!sw->no_flow_cache) {	/* off: no rule cache either */
			g->rcache = calloc(ST_CACHE_SIZE, sizeof(*g->rcache));
			if (g->rcache == NULL) {
				ret = -ENOMEM;
				goto fail;
			}
		}
	}
	/* SIDs: hash, carried counters and caches. */
	if (g->nsids) {
		uint32_t size = 16;

		while (size < 2 * g->nsids)
			size <<= 1;
		g->sid_hash = calloc(size, sizeof(uint32_t));
		if (g->sid_hash == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		g->sid_mask = size - 1;
		for (i = 0; i < g->nsids; i++) {
			struct st_sid *s = &g->sid[i];
			uint32_t j = sid_hash(s->addr) & g->sid_mask;

			while (g->sid_hash[j] != 0)
				j = (j + 1) & g->sid_mask;
			g->sid_hash[j] = i + 1;
			s->count = calloc(1, sizeof(*s->count));
			if (s->beh == ST_END_AD) {
				s->px = calloc(1, sizeof(*s->px));
				if (s->px != NULL)
					nf_srv6_proxy_init(s->px, NF_SRV6_PROXY_REPLICAS_MAX);
			}
			if (s->count == NULL || (s->beh == ST_END_AD && s->px == NULL)) {
				ret = -ENOMEM;
				goto fail;
			}
			if (s->group >= 0 && g->group[s->group].n > NF_SRV6_PROXY_REPLICAS_MAX) {
				nf_set_error("SID proxies at most %d replicas (group '%s' has %u)",
					     NF_SRV6_PROXY_REPLICAS_MAX, g->group[s->group].name,
					     g->group[s->group].n);
				ret = -EINVAL;
				goto fail;
			}
		}
	}
	for (i = 0; i < g->ngroups; i++) {
		ret = group_table(&g->group[i], old);
		if (ret < 0)
			goto fail;
	}
	ret = roles(g);
	if (ret < 0)
		goto fail;
	if ((g->nrules || g->nsids) && !sw->no_flow_cache) {
		const size_t sz = ST_FLOW_SIZE * (sizeof(struct st_flow) + sizeof(struct st_fx)) +
				  SW_PORTS_MAX * sizeof(struct st_flow *);

		g->flow = aligned_alloc(_Alignof(struct st_flow), sz);
		if (g->flow == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		memset(g->flow, 0, sz);
		g->memo = (struct st_flow **)(void *)((struct st_fx *)(void *)(g->flow +
									ST_FLOW_SIZE) +
						      ST_FLOW_SIZE);
	}
	carry(g, (struct st_gen *)old);
	g->active = g->nrules || g->nsids || g->tos.on;
	wide_rules(g);
	free(pr);
	*out = g;
	return 0;
fail_line:
	{
		char msg[512];

		nf_strlcpy(msg, nf_last_error(), sizeof(msg));
		nf_set_error("line %u: %s", i + 1, msg);
	}
fail:
	if (ret == -ENOMEM)
		nf_set_error("out of memory");
	/* the parsed rules not yet in g->rule own their encapsulation */
	for (i = g->nrules; i < npr; i++)
		free(pr[i].r.encap);
	free(pr);
	st_free(g);
	return ret;
}

/* ---------------------------------------------------------------- frames */

/* What a frame's pass touched, for the flow cache (st_flow in steer.h). */
struct st_trace {
	uint32_t len0;			/* input length */
	uint8_t ncnt, ndep;
	bool bad;			/* more than the entry holds */
	struct st_count *cnt[ST_FLOW_CNT];
	int32_t delta[ST_FLOW_CNT];
	const uint32_t *dep[ST_FLOW_DEP];
	uint32_t ver[ST_FLOW_DEP];
	bool perflow;			/* a group's flow hash chose */
	bool narrow;			/* a rule that reads the flow decided */
};

struct frame {
	const uint8_t *p;
	uint32_t len;
	struct sw *sw;
	uint16_t in;			/* the port it came in by */
	bool rx;			/* as received: no rule rewrote it */
	uint8_t *buf[2];
	uint32_t cap;
	struct nf_hdrs h;
	struct st_trace *tr;		/* NULL: not cacheable */
};

/* A buffer the next rewrite may write (not the one holding the frame). */
static inline uint8_t *spare(struct frame *fr)
{
	return fr->p == fr->buf[0] ? fr->buf[1] : fr->buf[0];
}

static inline bool own(const struct frame *fr)
{
	return fr->p == fr->buf[0] || fr->p == fr->buf[1];
}

static void make_own(struct frame *fr)
{
	uint8_t *b;

	if (own(fr))
		return;
	b = spare(fr);
	memcpy(b, fr->p, fr->len);
	fr->p = b;
}

static void set_dmac(struct frame *fr, const uint8_t *mac)
{
	make_own(fr);
	memcpy((uint8_t *)fr->p, mac, 6);
}

static inline void count_len(struct st_count *c, uint32_t len)
{
	c->packets++;
	c->bytes += len;
}

/* Count the frame on @c (and note it for the flow cache). */
static inline void count(struct frame *fr, struct st_count *c)
{
	struct st_trace *t = fr->tr;

	count_len(c, fr->len);
	if (t == NULL)
		return;
	if (t->ncnt == ST_FLOW_CNT) {
		t->bad = true;
		return;
	}
	t->cnt[t->ncnt] = c;
	t->delta[t->ncnt++] = (int32_t)fr->len - (int32_t)t->len0;
}

/* The frame read or wrote a word that is now *@v, an End.AD cache slot's
 * update count or a track table bucket's flow hash: the flow cache
 * replays it only while the word stays. */
static inline void depend(struct frame *fr, const uint32_t *v)
{
	struct st_trace *t = fr->tr;
	unsigned i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ndep; i++)
		if (t->dep[i] == v && t->ver[i] != *v)
			t->bad = true;	/* read one content, wrote another */
	if (t->ndep == ST_FLOW_DEP) {
		t->bad = true;
		return;
	}
	t->dep[t->ndep] = v;
	t->ver[t->ndep++] = *v;
}

/* The result of an nf_srv6 call: the frame now in the spare buffer, or a
 * counted drop. */
static int took(struct st_gen *g, struct frame *fr, uint8_t *b, int n)
{
	if (n < 0) {
		g->srv6_drops[-n < NF_SRV6_DROP_MAX ? -n : 0]++;
		return -1;
	}
	fr->p = b;
	fr->len = (uint32_t)n;
	return 0;
}

/* The switch's ICMP token bucket (sw.h) allows one more error. A clock
 * read per error, none per frame. */
static bool icmp_allow(struct sw *sw)
{
	if (!nf_tbucket_take(&sw->icmp_tb, nf_now_ns(), sw->icmp_rate, sw->icmp_burst)) {
		sw->icmp_limited++;
		return false;
	}
	sw->icmp_sent++;
	return true;
}

/* SID @s dropped the frame as received for @n (-reason, counted): the
 * ICMPv6 error RFC 8754 and RFC 8986 have the endpoint send
 * (nf_srv6_icmp_error(): from the SID to the packet's source) goes back
 * out of the port the frame came in by, to the MAC it came from, as the
 * token bucket allows. Returns that port, else ST_OUT_DROP. Never cached. */
static int icmp_error(const struct st_sid *s, struct frame *fr, int n)
{
	uint8_t *b = spare(fr);
	int r;

	if (!fr->rx)
		return ST_OUT_DROP;	/* its source is a rule's, ours */
	r = nf_srv6_icmp_error(fr->p, &fr->h, (enum nf_srv6_drop)-n,
			       (const struct nf_srv6_sid *)s->addr, b, fr->cap);
	if (r <= 0 || !icmp_allow(fr->sw))
		return ST_OUT_DROP;
	fr->p = b;
	fr->len = (uint32_t)r;
	fr->tr = NULL;
	return fr->in;
}

/* A member of group @gi for the frame: its index, or -1 (counted). */
static int pick(struct st_gen *g, int gi, struct frame *fr)
{
	struct st_group *gr = &g->group[gi];
	unsigned m;
	uint32_t h;

	/* Frames queue behind held ones until those are released (hold.h). */
	if (nf_unlikely(gr->hold != NULL) && gr->hold->n && !g->releasing) {
		g->hold_gi = gi;
		return -2;
	}
	h = nf_hash_flow(fr->p, &fr->h, 0);
	if (fr->tr != NULL && (gr->n > 1 || gr->track != NULL))
		fr->tr->perflow = true;	/* the member depends on the flow */
	if (gr->track != NULL) {
		struct st_track *t = gr->track;
		const uint32_t b = h & (ST_TRACK_SIZE - 1);

		/* a flow that went to a member now draining stays there */
		if (gr->ndraining && t->hash[b] == h && t->member[b] &&
		    t->member[b] <= gr->n && gr->m[t->member[b] - 1].draining &&
		    gr->m[t->member[b] - 1].port >= 0) {
			m = t->member[b] - 1u;
			count(fr, &t->kept);
			count(fr, &gr->mcount[m]);
			depend(fr, &t->hash[b]);
			return (int)m;
		}
		m = nf_hash_pick(gr->tab, h);
		if (m != NF_HASH_NONE && m < gr->n) {
			t->hash[b] = h;
			t->member[b] = (uint8_t)(m + 1);
			/* a flow cache entry holds while the bucket is this
			 * flow's (which every frame of it would write again):
			 * an entry never keeps a flow that lost its bucket */
			depend(fr, &t->hash[b]);
		}
	} else {
		m = nf_hash_pick(gr->tab, h);
	}

	if (m == NF_HASH_NONE || m >= gr->n || gr->m[m].port < 0) {
		if (gr->hold != NULL && gr->hold_cap && gr->up == 0) {
			g->hold_gi = gi;	/* held until a member joins */
			return -2;
		}
		g->drops[ST_DROP_GROUP_EMPTY]++;
		return -1;
	}
	count(fr, &gr->mcount[m]);
	return (int)m;
}

/* What a frame pick() found no member for becomes: held or dropped. */
#define PICK_OUT(m)	((m) == -2 ? (int)ST_OUT_HOLD : (int)ST_OUT_DROP)

/* Send to member @m of group @gi: by its PORT (or RETURN with @peer), with
 * that side's MAC when it has one. */
static int to_member(struct st_gen *g, int gi, int m, bool peer, struct frame *fr)
{
	const struct st_member *mb = &g->group[gi].m[m];

	if (mb->has_mac[peer])
		set_dmac(fr, mb->mac[peer]);
	return peer ? mb->peer : mb->port;
}

static uint8_t tos_of(const struct frame *fr)
{
	const uint8_t *l3 = fr->p + fr->h.l3_off;

	if (fr->h.ethertype == NF_ETH_P_IPV4)
		return l3[1];
	if (fr->h.ethertype == NF_ETH_P_IPV6)
		return (uint8_t)((l3[0] << 4) | (l3[1] >> 4));
	return 0;
}

/* ToS-bitmap steering: the next hop of a frame arriving with @role. */
static int tos_next(struct st_gen *g, const struct st_port_role *role, struct frame *fr)
{
	const uint8_t bits = tos_of(fr);
	int l, m;

	switch (role->role) {
	case ST_R_TOS_IN:		/* forward: from layer 0 up */
		l = 0;
		goto up;
	case ST_R_TOS_OUT:		/* reverse: from layer 7 down */
		l = 7;
		goto down;
	default:
		if (!(bits >> role->layer & 1)) {	/* not for this layer */
			g->drops[ST_DROP_TOS_PORT]++;
			return ST_OUT_DROP;
		}
		if (role->ret) {	/* forward traffic leaving layer i */
			l = role->layer + 1;
			goto up;
		}
		l = role->layer - 1;	/* reverse traffic leaving layer i */
		goto down;
	}
up:
	for (; l < 8; l++) {
		if (!(bits >> l & 1) || g->tos.layer[l] < 0)
			continue;
		m = pick(g, g->tos.layer[l], fr);
		return m < 0 ? PICK_OUT(m) : to_member(g, g->tos.layer[l], m, false, fr);
	}
	return g->tos.out;
down:
	for (; l >= 0; l--) {
		if (!(bits >> l & 1) || g->tos.layer[l] < 0)
			continue;
		m = pick(g, g->tos.layer[l], fr);
		return m < 0 ? PICK_OUT(m) : to_member(g, g->tos.layer[l], m, true, fr);
	}
	return g->tos.in;
}

static uint32_t rule_of(struct st_gen *g, uint16_t in, const struct frame *fr);
static int rule_frame(struct st_gen *g, const struct st_rule *r, struct frame *fr, int *mirror);

/* A frame from a ToS port. From the ingress or the egress, the rules come
 * first: the first that matches applies its actions (set-tos, typically:
 * a tenant's services), and its final action if it has one; without one
 * (or with no rule matching) the frame then walks the layers by its ToS
 * byte as it now is. Frames from layer ports go by the ToS byte only.
 * Returns a port, ST_OUT_DROP, or -1 (a rule rewrote the frame and left
 * it to be looked at again). */
static int tos_port(struct st_gen *g, const struct st_port_role *role, uint16_t in,
		    struct frame *fr, int *mirror)
{
	if (g->nrules && (role->role == ST_R_TOS_IN || role->role == ST_R_TOS_OUT)) {
		uint32_t r = rule_of(g, in, fr);

		if (r != UINT32_MAX) {
			int out = rule_frame(g, &g->rule[r], fr, mirror);

			if (out != ST_OUT_L2)
				return out;
		}
	}
	return tos_next(g, role, fr);
}

/* A frame for one of our SIDs. Returns a port, ST_OUT_DROP, or -1 to look
 * again (the frame was rewritten and goes on by its new headers). */
static int sid_frame(struct st_gen *g, const struct st_sid *s, struct frame *fr)
{
	struct nf_srv6_adj adj;
	uint8_t *b = spare(fr);
	int n, m;

	count(fr, s->count);
	switch (s->beh) {
	case ST_END:
		n = nf_srv6_end(fr->p, fr->len, &fr->h, NULL, b, fr->cap);
		return took(g, fr, b, n) < 0 ? icmp_error(s, fr, n) : -1;
	case ST_END_X:
	case ST_END_DX4:
	case ST_END_DX6:
		memcpy(adj.dst, s->mac, 6);
		memcpy(adj.src, fr->p + 6, 6);
		n = s->beh == ST_END_X ? nf_srv6_end(fr->p, fr->len, &fr->h, &adj, b, fr->cap)
			: nf_srv6_end_dx(fr->p, fr->len, &fr->h, s->beh == ST_END_DX4 ?
					 NF_IPPROTO_IPIP : NF_IPPROTO_IPV6, &adj, b, fr->cap);
		return took(g, fr, b, n) < 0 ? icmp_error(s, fr, n) : s->port;
	case ST_END_DT4:
	case ST_END_DT6:
		n = nf_srv6_end_dx(fr->p, fr->len, &fr->h, s->beh == ST_END_DT4 ?
				   NF_IPPROTO_IPIP : NF_IPPROTO_IPV6, NULL, b, fr->cap);
		return took(g, fr, b, n) < 0 ? icmp_error(s, fr, n) : -1;
	default:		/* End.AD / End.AS: to a replica of the VNF */
		m = pick(g, s->group, fr);
		if (m < 0)
			return PICK_OUT(m);
		{
			const struct st_member *mb = &g->group[s->group].m[m];
			const bool side = s->reverse;	/* into RETURN */

			memcpy(adj.dst, mb->has_mac[side] ? mb->mac[side] : fr->p, 6);
			memcpy(adj.src, fr->p + 6, 6);
			n = nf_srv6_proxy_in(s->beh == ST_END_AD ? s->px : NULL, (unsigned)m,
					     s->inner, fr->p, fr->len, &fr->h, &adj, b, fr->cap);
			if (took(g, fr, b, n) < 0)
				return ST_OUT_DROP;
			if (s->px != NULL)
				depend(fr, &s->px->slot[m][s->inner == NF_IPPROTO_IPV6].updates);
			return s->reverse ? mb->peer : mb->port;
		}
	}
}

/* A frame back from a proxied VNF replica: the SRv6 headers again. */
static int proxy_back(struct st_gen *g, const struct st_port_role *role, struct frame *fr)
{
	const struct st_sid *s = &g->sid[role->sid];
	uint8_t *b = spare(fr);
	int n;

	if (s->beh == ST_END_AD) {
		n = nf_srv6_proxy_out(s->px, role->member, fr->p, fr->len, &fr->h, NULL, b,
				      fr->cap);
		if (n >= 0)
			depend(fr, &s->px->slot[role->member]
				   [fr->h.ethertype == NF_ETH_P_IPV6].updates);
	} else
		n = nf_srv6_encaps(s->as, fr->p, fr->len, &fr->h, b, fr->cap);
	return took(g, fr, b, n);
}

static inline bool l2_match(const struct st_rule *r, uint16_t in, const struct frame *fr)
{
	const uint8_t *e = fr->p;

	if (r->in_port >= 0 && r->in_port != in)
		return false;
	if (r->has_dmac && memcmp(e, r->dmac, 6) != 0)
		return false;
	if (r->has_smac && memcmp(e + 6, r->smac, 6) != 0)
		return false;
	if (r->has_type && fr->h.ethertype != r->type)
		return false;
	if (r->has_vlan && (!(fr->h.flags & NF_HDR_VLAN) || fr->h.vlan != r->vlan))
		return false;
	return true;
}

/* Rewrite the IPv4 ToS byte (header checksum updated incrementally, RFC
 * 1624) or the IPv6 traffic class: tos & ~mask | val. Other frames are
 * left as they are. */
static void set_tos(struct frame *fr, uint8_t val, uint8_t mask)
{
	uint8_t *l3;

	if (fr->h.ethertype != NF_ETH_P_IPV4 && fr->h.ethertype != NF_ETH_P_IPV6)
		return;
	make_own(fr);
	l3 = (uint8_t *)fr->p + fr->h.l3_off;
	if (fr->h.ethertype == NF_ETH_P_IPV4) {
		uint16_t old, new, ck;

		memcpy(&old, l3, 2);
		l3[1] = (uint8_t)((l3[1] & ~mask) | val);
		memcpy(&new, l3, 2);
		memcpy(&ck, l3 + 10, 2);
		ck = nf_csum_update16(ck, old, new);
		memcpy(l3 + 10, &ck, 2);
	} else {
		uint8_t tc = (uint8_t)((l3[0] << 4) | (l3[1] >> 4));

		tc = (uint8_t)((tc & ~mask) | val);
		l3[0] = (uint8_t)((l3[0] & 0xf0) | (tc >> 4));
		l3[1] = (uint8_t)((l3[1] & 0x0f) | (tc << 4));
	}
}

/* Apply rule @r. Returns a port, ST_OUT_L2, ST_OUT_DROP or -1 (look again). */
static int rule_frame(struct st_gen *g, const struct st_rule *r, struct frame *fr, int *mirror)
{
	count(fr, r->count);
	if (r->decap) {
		uint8_t *b = spare(fr);
		/* IPv6 or IPv4 inside; anything else is "not IPv4" */
		uint8_t want = fr->h.l4_proto == NF_IPPROTO_IPV6 ? NF_IPPROTO_IPV6 : NF_IPPROTO_IPIP;
		int n = nf_srv6_end_dx(fr->p, fr->len, &fr->h, want, NULL, b, fr->cap);

		if (took(g, fr, b, n) < 0)
			return ST_OUT_DROP;
		if (r->set_tos && nf_parse(fr->p, fr->len, &fr->h) != NF_PERR_OK) {
			g->drops[ST_DROP_PARSE]++;
			return ST_OUT_DROP;
		}
	}
	if (r->set_tos)
		set_tos(fr, r->tos_val, r->tos_mask);
	if (r->encap != NULL) {
		uint8_t *b = spare(fr);

		if (r->decap && !r->set_tos && nf_parse(fr->p, fr->len, &fr->h) != NF_PERR_OK) {
			g->drops[ST_DROP_PARSE]++;
			return ST_OUT_DROP;
		}
		if (took(g, fr, b, nf_srv6_encaps(r->encap, fr->p, fr->len, &fr->h, b,
						 fr->cap)) < 0)
			return ST_OUT_DROP;
	}
	if (r->set_dmac)
		set_dmac(fr, r->dmac_new);
	if (r->mirror >= 0)
		*mirror = r->mirror;
	switch (r->term) {
	case ST_T_OUTPUT:
		return r->out;
	case ST_T_GROUP: {
		int m;

		/* The hash reads the headers: those of the rewritten frame. */
		if ((r->decap || r->encap != NULL) &&
		    nf_parse(fr->p, fr->len, &fr->h) != NF_PERR_OK) {
			g->drops[ST_DROP_PARSE]++;
			return ST_OUT_DROP;
		}
		m = pick(g, r->out, fr);

		return m < 0 ? PICK_OUT(m) : to_member(g, r->out, m, false, fr);
	}
	case ST_T_DROP:
		g->drops[ST_DROP_RULE]++;
		return ST_OUT_DROP;
	case ST_T_RECIRC:
		return -1;
	default:
		return ST_OUT_L2;
	}
}

/* A frame nf_parse() refused that is IPv6 to one of our SIDs (an SRH that
 * runs past the packet, say): malformed SRv6 for us, dropped and counted
 * (on the SID too), never switched by MAC (it would be flooded). */
static bool to_sid(struct st_gen *g, const struct frame *fr)
{
	const struct st_sid *s;

	if (g->nsids == 0 || fr->h.ethertype != NF_ETH_P_IPV6 ||
	    fr->len < (uint32_t)fr->h.l3_off + 40)
		return false;
	s = sid_find(g, fr->p + fr->h.l3_off + 24);
	if (s != NULL)
		count_len(s->count, fr->len);
	return s != NULL;
}

/* The first rule that matches the frame from port @in, or UINT32_MAX. The
 * rule cache (exact match on everything a rule can look at: the
 * classifier's fields, in-port, MACs, EtherType, VLAN) answers a frame
 * like one seen before; a miss walks the classifier and fills the entry.
 * Without it (--flow-cache off) every frame walks it. */
static uint32_t rule_walk(struct st_gen *g, uint16_t in, const struct frame *fr)
{
	struct nf_cls_key key;
	uint32_t r;

	nf_cls_key_of(fr->p, &fr->h, &key);
	key.iif = (uint8_t)(in < 64 ? in : 63);
	key.ct = NF_RULE_CT_UNTRACKED;
	for (r = nf_cls_match(g->cls, &key, 0); r != UINT32_MAX; r = nf_cls_match(g->cls, &key, r + 1))
		if (l2_match(&g->rule[r], in, fr))
			break;
	return r;
}

static uint32_t rule_of(struct st_gen *g, uint16_t in, const struct frame *fr)
{
	struct st_centry k, *e;
	uint64_t dmac = 0, smac = 0;
	uint32_t r;

	if (g->rcache == NULL)
		return rule_walk(g, in, fr);
	nf_cls_ckey_of(fr->p, &fr->h, (uint64_t)in << 16, &k.c, false);
	memcpy(&dmac, fr->p, 6);
	memcpy(&smac, fr->p + 6, 6);
	k.l2[0] = dmac | (uint64_t)fr->h.ethertype << 48;
	k.l2[1] = smac | (fr->h.flags & NF_HDR_VLAN ? (uint64_t)(0x1000 | fr->h.vlan) << 48 : 0);
	e = &g->rcache[(nf_cls_ckey_hash(&k.c) ^ (uint32_t)((k.l2[0] ^ k.l2[1] * 0x9e3779b97f4a7c15ull)
						       >> 20)) & (ST_CACHE_SIZE - 1)];
	if (e->used && nf_cls_ckey_eq(&e->c, &k.c) && e->l2[0] == k.l2[0] && e->l2[1] == k.l2[1])
		return e->rule;
	g->cache_misses++;
	r = rule_walk(g, in, fr);
	e->c = k.c;
	e->l2[0] = k.l2[0];
	e->l2[1] = k.l2[1];
	e->rule = r;
	e->used = 1;
	return r;
}

/* ------------------------------------------------------------ flow cache */

/* The key's mask over frame bytes 0..47, [TCP]: every header byte but the
 * IPv4 total length (16-17), identification (18-19) and checksum (24-25),
 * the UDP length and checksum or TCP sequence and acknowledgement numbers
 * (38-45), and for UDP the first payload bytes (46-47; for TCP they are
 * its data offset and flags, which rules match). */
#define FM_ETH	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
		0xff, 0xff
#define FM_IP	0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, \
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define FM_L4	0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0
/* wide: without the source address (26-29) and the ports (34-37) */
#define FW_IP	0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, \
		0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff
#define FW_L4	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
const uint8_t st_flow_mask[2][2][48] __attribute__((aligned(64))) = {
	{ { FM_ETH, FM_IP, FM_L4, 0, 0 }, { FM_ETH, FM_IP, FM_L4, 0xff, 0xff } },
	{ { FM_ETH, FW_IP, FW_L4, 0, 0 }, { FM_ETH, FW_IP, FW_L4, 0xff, 0xff } },
};
#define FF4	0xff, 0xff, 0xff, 0xff
#define FL_KEEP	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0xff, 0xff, 0xff, 0xff
#define FL_NEW	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
		0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0
const uint8_t st_s6_keep[2][32] __attribute__((aligned(32))) = {
	{ FL_KEEP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ FL_NEW, FF4, FF4, FF4 },
};
/* An SRv6 entry's first 48 bytes, [wide]: all but the IPv6 payload
 * length (18-19); a wide one (a pass no flow decided) leaves out the flow
 * label (15-17) too */
static const uint8_t st_flow_mask6[2][48] __attribute__((aligned(64))) = {
	{ FM_ETH, FF4, 0, 0, FF4, FF4, FF4, FF4, FF4, FF4, FF4 },
	{ FM_ETH, 0xff, 0xf0, 0, 0, 0, 0, FF4, FF4, FF4, FF4, FF4, FF4, FF4 },
};

/* The IPv4 packet's minimal total length for the parse to find its
 * transport header whole: 0 if the frame is not an untagged, unfragmented
 * IPv4 TCP/UDP frame without padding whose header the key covers. */
static uint32_t flow_shape(const uint8_t *e, uint32_t len)
{
	uint32_t tl, min;

	if (len < 48 || e[12] != 0x08 || e[13] != 0x00 || e[14] != 0x45 ||
	    ((e[20] & 0x3f) | e[21]) != 0)
		return 0;
	if (e[23] == NF_IPPROTO_UDP)
		min = 28;
	else if (e[23] == NF_IPPROTO_TCP && e[46] >> 4 >= 5)
		min = 20 + (e[46] >> 4) * 4u;
	else
		return 0;
	tl = (uint32_t)e[16] << 8 | e[17];
	return tl == len - 14 && tl >= min ? min : 0;
}

struct st_flow *st_flow_wfind(struct st_flow *tab, const uint8_t *e, uint16_t in)
{
	return st_flow_find(tab, st_flow_wslot(tab, e, in), e, in);
}

/* ---- SRv6 frames that arrive (ST_FK_S6*) */

/* The end of the SRH of an SRv6-shaped frame @e (@l bytes): 0 unless the
 * frame is untagged IPv6 whose next header is a routing header of type
 * 4 (SRH) with an IPv4 packet after it (next header 4) and a length of
 * whole 16-byte units (1..6 SIDs' worth: st_flow_run() has a loop for
 * each), the outer payload length the frame's (no padding), and the
 * inner packet an unfragmented
 * IPv4 TCP/UDP packet without options, whole, no padding, whose key
 * (the SRH's end + 34) fits the entry. *@min: the frame length the
 * parse of the inner transport header needs. */
static uint32_t flow_shape6(const uint8_t *e, uint32_t l, uint32_t *min)
{
	uint32_t h, m;

	if (l < 62 || e[12] != 0x86 || e[13] != 0xdd || e[14] >> 4 != 6 || e[20] != 43 ||
	    e[54] != 4 || e[56] != 4)
		return 0;
	h = 62 + 8u * e[55];
	if (e[55] == 0 || (e[55] & 1) || h + 34 > NF_MIN(l, ST_FX_END) ||
	    !st_s6_lens(e, l, h, ST_FK_S6DEC) || e[h] != 0x45 || ((e[h + 6] & 0x3f) | e[h + 7]) != 0)
		return 0;
	if (e[h + 9] == NF_IPPROTO_UDP)
		m = 28;
	else if (e[h + 9] == NF_IPPROTO_TCP && e[h + 32] >> 4 >= 5)
		m = 20 + (e[h + 32] >> 4) * 4u;
	else
		return 0;
	if (h + m > l)
		return 0;
	*min = NF_MAX(h + m, h + 34);
	return h;
}

/* A set's index from three words, every bit of each moving the index
 * (an address's last byte, the one that differs between SIDs, is a
 * word's top one: a product alone would leave it out of the bits kept) */
static inline uint32_t st_s6_mix(uint64_t a, uint64_t b, uint64_t c)
{
#ifdef __SSE4_2__
	return (uint32_t)_mm_crc32_u64(_mm_crc32_u64(_mm_crc32_u64(0, a), b), c) &
	       (ST_FLOW_SIZE - 1);
#else
	return (uint32_t)((a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full ^
			   c * 0x165667b19e3779f9ull) >> 52);	/* 2^12 sets */
#endif
}

/* The set of SRv6 frame @e from @in whose SRH ends at @h: the outer
 * source's last 12 bytes and the inner addresses and ports (the flows of
 * one head end spread over the sets). */
static struct st_flow *st_flow_slot6(struct st_flow *tab, const uint8_t *e, uint16_t in,
				     uint32_t h)
{
	uint64_t a, b;
	uint32_t p;

	memcpy(&a, e + 26, 8);
	memcpy(&b, e + h + 12, 8);
	memcpy(&p, e + h + 20, 4);
	return &tab[st_s6_mix(a, b, (uint64_t)in << 32 | p)];
}

/* The set of the wide SRv6 entry frame @e (SRH end @h) from @in may
 * have: by the outer addresses, the inner destination and the MACs, what
 * a wide key keeps of what varies between flows (every flow of a head
 * end to a SID and a destination; a neighbour each, st_flow_wslot()). */
static struct st_flow *st_flow_wslot6(struct st_flow *tab, const uint8_t *e, uint16_t in,
				      uint32_t h)
{
	uint64_t a, d, m;
	uint32_t id, s;

	memcpy(&a, e + 30, 8);
	memcpy(&d, e + 46, 8);
	memcpy(&id, e + h + 16, 4);
	memcpy(&m, e, 8);		/* destination MAC, source MAC 0-1 */
	memcpy(&s, e + 8, 4);		/* source MAC 2-5 */
	return &tab[st_s6_mix(a ^ m, d, (uint64_t)in << 32 ^ id ^ (uint64_t)s << 16)];
}

/* The wide set (@wide) or the flow's own of SRv6 frame @e. */
static inline struct st_flow *st_flow_set6(struct st_flow *tab, const uint8_t *e, uint16_t in,
					   uint32_t h, bool wide)
{
	return wide ? st_flow_wslot6(tab, e, in, h) : st_flow_slot6(tab, e, in, h);
}

/* The SRv6 entry of set @f frame @e (SRH end @h, at least h + 34 bytes)
 * from @in has, or NULL. Inline: a call each probe spilled the frame's
 * state. */
static inline __attribute__((always_inline)) struct st_flow *
st_flow_find6(struct st_flow *tab, struct st_flow *f, const uint8_t *e, uint16_t in, uint32_t h)
{
	unsigned w;

	for (w = 0; w < 2; w++, f = st_flow_pair(tab, f))
		if (f->in == ((in + 1u) | ST_FLOW_IN6) && f->b == h && st_flow_key_eq(f, e) &&
		    st_fx_eq(f->fx, e))
			return f;
	return NULL;
}

int st_flow_hit6(struct st_flow *tab, uint32_t clock, uint32_t *gate, struct st_flow **last,
		 uint16_t in, struct nf_pkt *pk)
{
	uint8_t *e = pk->data;
	const uint32_t l = pk->len;
	struct st_flow *f;
	uint64_t h0, h1;
	uint32_t h;
	unsigned j;

	if (l < 62 + 34)
		return -1;
	h = 62 + 8u * e[55];
	if (h + 34 > l)
		return -1;
	/* the set of the kind the frame before hit first (*gate): the flows
	 * of a few head ends to one SID share a wide entry a MAC pair
	 * (ST_GATE_ALL), an End.AD with replicas has one per flow. The two
	 * orders are written out: each probe's set a constant (one loop
	 * choosing them at run time cost 5 instructions a frame more,
	 * bench/steer.sh in-end-100m) */
	if (*gate == ST_GATE_ALL) {
		f = st_flow_find6(tab, st_flow_wslot6(tab, e, in, h), e, in, h);
		if (f == NULL && (f = st_flow_find6(tab, st_flow_slot6(tab, e, in, h), e, in,
						     h)) != NULL)
			*gate = ST_GATE_S6;
	} else {
		f = st_flow_find6(tab, st_flow_slot6(tab, e, in, h), e, in, h);
		if (f != NULL)
			*gate = ST_GATE_S6;
		else if ((f = st_flow_find6(tab, st_flow_wslot6(tab, e, in, h), e, in, h)) != NULL)
			*gate = ST_GATE_ALL;
	}
	if (f == NULL || l < f->lmin || !st_s6_lens(e, l, h, f->kind))
		return -1;
	for (j = 0; j < f->ndep; j++)
		if (*f->dep[j] != f->ver[j])
			return -1;
	f->used = clock;
	*last = f;
	memcpy(&h0, f->hdr, 8);
	memcpy(&h1, f->hdr + 6, 8);
	st_s6_apply(f, f->kind, h0, h1, pk, e, l, h);
	f->pend++;
	f->pend_bytes += l;
	return f->out;
}

static void flow_flush1(struct st_flow *f)
{
	unsigned j;

	for (j = 0; j < f->ncnt; j++) {
		f->cnt[j]->packets += f->pend;
		f->cnt[j]->bytes += f->pend_bytes + (uint64_t)((int64_t)f->pend * f->delta[j]);
	}
	f->pend = 0;
	f->pend_bytes = 0;
}

void st_flow_flush(struct st_gen *g)
{
	unsigned i;

	if (g == NULL || g->flow == NULL)
		return;
	for (i = 0; i < ST_FLOW_SIZE; i++)
		if (g->flow[i].pend)
			flow_flush1(&g->flow[i]);
}

/* The way of @f's set the flow of frame @e from @in takes: its own (an
 * entry st_flow_hit() turned down: a length, an End.AD slot changed),
 * else an empty one, else the one whose last hit is older. */
static struct st_flow *flow_victim(struct st_gen *g, struct st_flow *f, uint16_t in,
				   const uint8_t *e, uint32_t h)
{
	struct st_flow *p = st_flow_pair(g->flow, f);
	struct st_flow *m = h ? st_flow_find6(g->flow, f, e, in, h) : st_flow_find(g->flow, f, e, in);

	if (m != NULL)
		return m;
	if (f->in == 0)
		return f;
	if (p->in == 0)
		return p;
	return (int32_t)(p->used - f->used) < 0 ? p : f;
}

/* Frame @o is the IPv4 packet @p (@n bytes) after nf_ipv4_ttl_dec(),
 * behind an Ethernet header: what End.DX4 does, the one change in the IP
 * header the flow cache replays. */
static bool ttl_dec_of(const uint8_t *p, uint32_t n, const uint8_t *o)
{
	uint8_t ip[20];

	if (n < 20 || p[0] != 0x45)
		return false;
	memcpy(ip, p, 20);
	nf_ipv4_ttl_dec(ip);
	return memcmp(ip, o + 14, 20) == 0 && memcmp(o + 34, p + 20, n - 20) == 0;
}

/* The rest of SRv6 entry @f's key from frame @e (SRH end @h): bytes
 * 48..h - 1 whole, then the inner IPv4 header and transport bytes under
 * the IPv4 key's mask (st_flow_mask[@wide][@tcp] from its byte 14). */
static void fx_fill(struct st_gen *g, struct st_flow *f, const uint8_t *e, uint32_t h,
		    bool wide, bool tcp)
{
	struct st_fx *x = (struct st_fx *)(void *)(g->flow + ST_FLOW_SIZE) + (f - g->flow);
	const uint32_t end = h + 34;
	unsigned j, i;

	x->n = (uint8_t)((end - 48 + 31) / 32);
	for (j = 0; j < x->n; j++) {
		const uint32_t off = NF_MIN(48u + 32 * j, end - 32u);

		x->off[j] = (uint8_t)off;
		for (i = 0; i < 32; i++) {
			x->m[j][i] = off + i < h ? 0xff : st_flow_mask[wide][tcp][14 + off + i - h];
			x->k[j][i] = e[off + i] & x->m[j][i];
		}
	}
	f->fx = x;
}

/* Make an entry replay what the pass did to frame @e (@l bytes, shape
 * @min) from port @in that became @o (@ol bytes) for port @out: if the
 * output is the input's IP packet (or whole frame) behind at most
 * ST_FLOW_HDR new bytes, and an outer IPv6 header's payload length is the
 * only length in them. A wide entry (the key without the source address
 * and the ports: every flow to the destination) when nothing the pass
 * did could differ between those flows: no rule up to the one it matched
 * reads what it leaves out (wide_rules()), no group's flow hash chose, and
 * no new outer IPv6 header (its flow label is the flow's; End's keeps the
 * frame's). */
static void flow_fill(struct st_gen *g, uint16_t in, const uint8_t *e, uint32_t l,
		      uint32_t min, uint32_t h, const uint8_t *o, uint32_t ol, int out,
		      const struct st_trace *t)
{
	const bool tcp = e[h ? h + 9 : 23] == NF_IPPROTO_TCP;
	struct st_flow *f;
	uint32_t a, b, plen = 0;
	const uint8_t *mask;
	bool wide, ttl = false;
	unsigned j;

	if (t->bad)
		return;
	if (h != 0) {		/* an SRv6 frame: what follows its SRH */
		if (ol == l && memcmp(o + h, e + h, l - h) == 0 &&
		    memcmp(o + 64, e + 64, h - 64) == 0 && ((o[15] ^ e[15]) & 0x0f) == 0 &&
		    memcmp(o + 16, e + 16, 2) == 0)
			a = h;		/* End, End.X: its headers, as long, new
					 * in bytes 0..63 but the flow label */
		else if (ol == l - h + 14 && memcmp(o + 14, e + h, l - h) == 0)
			a = 14;		/* End.AD in: decapsulated */
		else if (ol == l - h + 14 && ttl_dec_of(e + h, l - h, o))
			a = 14, ttl = true;	/* End.DX4 */
		else		/* (an encapsulation around the frame: its
				 * payload length inside, not cached) */
			return;
		b = h;
	} else if (o == e && ol == l) {
		a = b = 0;
	} else if (ol == l && memcmp(o + 14, e + 14, l - 14) == 0) {
		a = b = 14;
	} else if (ol == l && e[12] == 0x08 && e[13] == 0x00 && ttl_dec_of(e + 14, l - 14, o)) {
		a = b = 14;		/* End.DX4: the IPv4 TTL decremented */
		ttl = true;
	} else {
		for (b = 14;; b = 0) {
			a = ol + b - l;
			if (ol + b >= l && a <= ST_FLOW_HDR && memcmp(o + a, e + b, l - b) == 0)
				break;
			if (b == 0)
				return;
		}
	}
	if (a >= 54 && o[12] == 0x86 && o[13] == 0xdd) {
		/* one IPv6 header and at most one SRH: a second
		 * encapsulation's payload length would be the first frame's */
		if (((uint32_t)o[18] << 8 | o[19]) != ol - 54 ||
		    a != (o[20] == 43 ? 62 + 8u * o[55] : 54u))
			return;
		plen = 18;
	} else if (a > 14) {
		return;			/* new bytes that are not an IPv6 header */
	}
	/* an SRv6 frame's entry may be wide: decapsulated (End.DX4, End.AD
	 * in), its outer flow label and the inner flow go nowhere; End, End.X
	 * keep the frame's flow label (st_s6_apply()) */
	wide = g->wide && !t->perflow && !t->narrow && (h != 0 || plen == 0);
	f = flow_victim(g, h ? st_flow_set6(g->flow, e, in, h, wide) :
			wide ? st_flow_wslot(g->flow, e, in) : st_flow_slot(g->flow, e, in),
			in, e, h);
	/* Frames of this burst that hit @f as two pieces still point to its
	 * header (the transmit reads it): it stays as it is until the next. */
	if (f->used == g->bursts && f->kind == ST_FK_SPLIT)
		return;
	if (f->pend)
		flow_flush1(f);
	mask = h ? st_flow_mask6[wide] : st_flow_mask[wide][tcp];
	for (j = 0; j < sizeof(f->k); j++)
		f->k[j] = e[j] & mask[j];
	memcpy(f->m0, mask, sizeof(f->m0));
	memcpy(f->m1, mask + 16, sizeof(f->m1));
	if (h != 0)
		fx_fill(g, f, e, h, wide, tcp);
	f->kind = h ? (ttl ? ST_FK_S6DX4 : a == 14 ? ST_FK_S6DEC : ST_FK_S6) :
		a != b ? ST_FK_SPLIT : ttl ? ST_FK_DX4 : a != 0 ? ST_FK_MAC : ST_FK_SAME;
	f->in = (uint16_t)((in + 1) | (h ? ST_FLOW_IN6 : 0));
	f->used = g->bursts;
	f->out = (uint16_t)out;
	f->lmin = (uint16_t)(h ? min : NF_MAX(min + 14, 48u));
	f->a = (uint8_t)a;
	f->b = (uint8_t)b;
	memcpy(f->hdr, o, a);
	f->th.p = f->hdr;
	f->th.len = (uint16_t)a;
	f->th.lenoff = (uint16_t)(plen != 0 ? plen : a);	/* a: none */
	f->ncnt = t->ncnt;
	memcpy(f->cnt, t->cnt, sizeof(f->cnt));
	memcpy(f->delta, t->delta, sizeof(f->delta));
	f->ndep = t->ndep;
	memcpy(f->dep, t->dep, sizeof(f->dep));
	memcpy(f->ver, t->ver, sizeof(f->ver));
	g->flow_fills++;
	g->flow_wide_fills += wide;
	g->flow_srv6_fills += h != 0;
}

int st_frame(struct sw *sw, struct st_gen *g, uint16_t in, const uint8_t **data,
	     uint32_t *len, uint8_t *buf, uint8_t *buf2, uint32_t cap, int *mirror)
{
	struct frame fr = { .p = *data, .len = *len, .sw = sw, .in = in,
			    .buf = { buf, buf2 }, .cap = cap };
	const struct st_port_role *role = &g->role[in];
	struct st_trace tr;
	unsigned round;
	uint32_t min = 0, h6 = 0;	/* h6: an SRv6 frame's SRH end */
	int out = ST_OUT_L2;

	*mirror = -1;
	if (g->flow != NULL && !g->releasing) {	/* st_flow_hit() said no: fill */
		min = flow_shape(*data, *len);
		if (min == 0 && role->role == ST_R_NONE)
			h6 = flow_shape6(*data, *len, &min);
		if (min != 0 && (role->role == ST_R_NONE || role->role == ST_R_PROXY_RET)) {
			tr.len0 = *len;
			tr.ncnt = tr.ndep = 0;
			tr.bad = false;
			tr.perflow = false;
			tr.narrow = false;
			fr.tr = &tr;
		}
	}
	for (round = 0; round <= ST_RECIRC_MAX; round++) {
		fr.rx = round == 0;	/* (a SID sees round 0 from no role) */
		if (nf_parse(fr.p, fr.len, &fr.h) != NF_PERR_OK) {
			if (round == 0 && role->role == ST_R_NONE && !to_sid(g, &fr)) {
				out = ST_OUT_L2;	/* as without steering */
				goto done;
			}
			g->drops[ST_DROP_PARSE]++;
			out = ST_OUT_DROP;
			goto done;
		}
		if (round == 0 && nf_unlikely(fr.h.ethertype == NF_ETH_P_NFPROBE) &&
		    fr.len >= fr.h.l3_off + 4u && memcmp(fr.p + fr.h.l3_off, NF_PROBE_MAGIC, 4) == 0) {
			fr.tr = NULL;	/* health probes: MAC learning, not cached */
			out = ST_OUT_L2;
			goto done;
		}
		if (round == 0 && role->role != ST_R_NONE) {
			if (role->role != ST_R_PROXY_RET) {
				out = tos_port(g, role, in, &fr, mirror);
				if (out >= 0 || out == ST_OUT_DROP)
					goto done;
				continue;	/* rewritten by a rule: look again */
			}
			if (proxy_back(g, role, &fr) < 0) {
				out = ST_OUT_DROP;
				goto done;
			}
			continue;	/* by its new destination */
		}
		if (g->nsids && fr.h.ethertype == NF_ETH_P_IPV6) {
			const struct st_sid *s = sid_find(g, fr.p + fr.h.l3_off + 24);

			if (s != NULL) {
				out = sid_frame(g, s, &fr);
				if (out >= 0)
					goto done;
				continue;
			}
		}
		if (g->nrules) {
			uint32_t r = rule_of(g, in, &fr);

			if (fr.tr != NULL && (r != UINT32_MAX ? g->rule[r].narrow : g->narrow))
				tr.narrow = true;
			if (r != UINT32_MAX) {
				out = rule_frame(g, &g->rule[r], &fr, mirror);
				if (out >= 0)
					goto done;
				continue;
			}
		}
		out = ST_OUT_L2;
		goto done;
	}
	g->drops[ST_DROP_RECIRC]++;
	out = ST_OUT_DROP;
done:
	if (fr.tr != NULL && *mirror < 0 && out != ST_OUT_DROP && out != ST_OUT_HOLD)
		flow_fill(g, in, *data, *len, min, h6, fr.p, fr.len, out, &tr);
	*data = fr.p;
	*len = fr.len;
	return out;
}
