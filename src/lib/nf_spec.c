/* nf_spec.c - parse and validate port spec strings. */
#include "nf_spec.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int nf_spec_parse(const char *s, struct nf_spec *sp)
{
	char *colon, *item;
	size_t tlen;

	memset(sp, 0, sizeof(*sp));
	if (s == NULL || *s == '\0') {
		nf_set_error("empty port spec");
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(sp->buf)) {
		nf_set_error("port spec longer than %zu characters",
			     sizeof(sp->buf) - 1);
		return -EINVAL;
	}
	colon = strchr(s, ':');
	if (colon == NULL) {
		nf_set_error("port spec '%s' has no type (expected TYPE:ARGS, "
			     "TYPE one of memif, afpacket, afxdp, pcap)", s);
		return -EINVAL;
	}
	tlen = (size_t)(colon - s);
	if (tlen == 0 || tlen >= sizeof(sp->type)) {
		nf_set_error("bad port type in '%s'", s);
		return -EINVAL;
	}
	memcpy(sp->type, s, tlen);
	sp->type[tlen] = '\0';
	strcpy(sp->buf, colon + 1);

	/* strtok would merge empty positional items ("pcap:,out.pcap"):
	 * split by hand. */
	item = sp->buf;
	for (;;) {
		char *comma = strchr(item, ',');
		char *eq;

		if (comma != NULL)
			*comma = '\0';
		eq = strchr(item, '=');
		if (eq == NULL) {
			if (sp->nkv > 0) {
				nf_set_error("positional item '%s' after options "
					     "in port spec '%s'", item, s);
				return -EINVAL;
			}
			if (sp->npos == NF_SPEC_MAX_POS) {
				nf_set_error("too many items in port spec '%s'", s);
				return -EINVAL;
			}
			sp->pos[sp->npos++] = item;
		} else {
			*eq = '\0';
			if (*item == '\0') {
				nf_set_error("empty option name in port spec '%s'", s);
				return -EINVAL;
			}
			if (sp->nkv == NF_SPEC_MAX_KV) {
				nf_set_error("too many options in port spec '%s'", s);
				return -EINVAL;
			}
			sp->kv[sp->nkv].key = item;
			sp->kv[sp->nkv].val = eq + 1;
			sp->nkv++;
		}
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	return 0;
}

static void list_opts(char *buf, size_t n, const struct nf_opt *opts,
		      unsigned nopts)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < nopts && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s",
					 i ? ", " : "", opts[i].name);
}

int nf_spec_apply(const struct nf_spec *sp, const struct nf_opt *opts,
		  unsigned nopts, void *cfg)
{
	uint32_t seen = 0;
	char names[256];
	int i, ret;
	unsigned j;

	for (i = 0; i < sp->nkv; i++) {
		const char *k = sp->kv[i].key, *v = sp->kv[i].val;
		const struct nf_opt *o = NULL;
		char *field;

		for (j = 0; j < nopts; j++) {
			if (strcmp(opts[j].name, k) == 0) {
				o = &opts[j];
				break;
			}
		}
		if (o == NULL) {
			list_opts(names, sizeof(names), opts, nopts);
			nf_set_error("unknown option '%s' for a %s port (known: %s)",
				     k, sp->type, names);
			return -EINVAL;
		}
		if (seen & (1u << j)) {
			nf_set_error("option '%s' given twice", k);
			return -EINVAL;
		}
		seen |= 1u << j;
		field = (char *)cfg + o->off;
		switch (o->kind) {
		case NF_OPT_U64: {
			uint64_t x;

			ret = nf_parse_u64(v, o->min, o->max, 0, &x);
			if (ret < 0) {
				nf_set_error("%s=%s: expected an integer from %" PRIu64
					     " to %" PRIu64, k, v, o->min, o->max);
				return -EINVAL;
			}
			memcpy(field, &x, sizeof(x));
			break;
		}
		case NF_OPT_STR:
			if (*v == '\0' || strlen(v) >= o->max) {
				nf_set_error("%s=%s: expected 1 to %" PRIu64
					     " characters", k, v, o->max - 1);
				return -EINVAL;
			}
			strcpy(field, v);
			break;
		case NF_OPT_ENUM: {
			uint64_t x;
			size_t used = 0;

			for (x = 0; o->enums[x] != NULL; x++)
				if (strcmp(o->enums[x], v) == 0)
					break;
			if (o->enums[x] == NULL) {
				names[0] = '\0';
				for (x = 0; o->enums[x] != NULL; x++)
					used += (size_t)snprintf(names + used,
						sizeof(names) - used, "%s%s",
						x ? " or " : "", o->enums[x]);
				nf_set_error("%s=%s: expected %s", k, v, names);
				return -EINVAL;
			}
			memcpy(field, &x, sizeof(x));
			break;
		}
		case NF_OPT_MAC:
			if (nf_parse_mac(v, (uint8_t *)field) < 0) {
				nf_set_error("%s=%s: expected a MAC address "
					     "like 02:00:00:00:00:01", k, v);
				return -EINVAL;
			}
			break;
		}
	}
	return 0;
}

int nf_spec_ifname(const struct nf_spec *sp, char *ifname, size_t size,
		   const char *usage)
{
	if (sp->npos != 1 || sp->pos[0][0] == '\0') {
		nf_set_error("%s port needs exactly one interface name (%s)",
			     sp->type, usage);
		return -EINVAL;
	}
	if (strlen(sp->pos[0]) >= size) {
		nf_set_error("interface name '%s' is longer than %zu characters",
			     sp->pos[0], size - 1);
		return -EINVAL;
	}
	nf_strlcpy(ifname, sp->pos[0], size);
	return 0;
}
