/* fuzz_spec.c - libFuzzer target: service descriptions (src/nfchain/spec.c,
 * libyaml) and the steering the chain controller derives from them
 * (src/nfchain/plan.c).
 *
 * The input is a YAML file (cut at 64 KiB), read through a memfd. A refusal
 * must be -EINVAL (or -ENOMEM) with one sentence that starts with the
 * file's name and a line number ("FILE:LINE: "); an accepted description
 * must hold what spec.h promises (names valid, counts within their
 * limits, every chain's ports and VNFs existing and distinct, a VNF type in
 * one chain only, probe timeout at most ten intervals) and give a
 * steering text that fits and has one directive per line, whose group,
 * sid, rule and tos lines name only what the description has. Any
 * violation abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_spec tests/fuzz/corpus/spec
 *   seeds: python3 tests/fuzz/make_spec_corpus.py
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "plan.h"
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAXIN	(64u * 1024)

static bool name_ok(const char *s)
{
	if (!islower((unsigned char)*s) || strlen(s) > NC_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

static const struct nc_member *member(unsigned v, unsigned i, void *arg)
{
	static struct nc_member m;
	const struct nc_spec *s = arg;

	if (i >= s->vnf[v].replicas || i % 3 == 2)	/* some missing, some down */
		return NULL;
	m.up = i % 2 == 0;
	nc_plan_port_name(s->vnf[v].name, i, s->vnf[v].port[0], m.port[0], sizeof(m.port[0]));
	nc_plan_port_name(s->vnf[v].name, i, s->vnf[v].port[1], m.port[1], sizeof(m.port[1]));
	nc_plan_mac(1000 + 2 * i, m.mac[0]);
	nc_plan_mac(1001 + 2 * i, m.mac[1]);
	return &m;
}

static unsigned chain_no(unsigned c, void *arg)
{
	(void)arg;
	return 255 - c;
}

static void check_spec(const struct nc_spec *s)
{
	static char steering[65536];
	struct nc_plan_in in = { s, member, chain_no, (void *)s };
	unsigned i, j, k;
	char *line, *save = NULL;

	CHECK(name_ok(s->name));
	CHECK(s->nvnf >= 1 && s->nvnf <= NC_VNF_MAX);
	CHECK(s->nxport >= 1 && s->nxport <= NC_XPORT_MAX + 2);	/* + uplink, kernel */
	CHECK(s->nchain <= NC_CHAIN_MAX);
	CHECK(s->mode <= 2 && s->probe_timeout_ms <= 10 * s->probe_interval_ms);
	for (i = 0; i < s->nvnf; i++) {
		CHECK(name_ok(s->vnf[i].name) && s->vnf[i].replicas <= NC_REPLICA_MAX);
		CHECK(name_ok(s->vnf[i].port[0]) && name_ok(s->vnf[i].port[1]));
		CHECK(strcmp(s->vnf[i].port[0], s->vnf[i].port[1]) != 0);
		CHECK(s->vnf[i].program[0] == '/');
		for (j = 0; j < i; j++)
			CHECK(strcmp(s->vnf[i].name, s->vnf[j].name) != 0);
	}
	for (i = 0; i < s->nxport; i++)
		CHECK(name_ok(s->xport[i].name) && (s->xport[i].is_memif ? s->xport[i].memif_id <= 999
						     : s->xport[i].ifname[0] != '\0' ||
						       s->xport[i].spec[0] != '\0'));
	/* a cluster file: this node is one of its nodes; what is elsewhere
	 * runs nothing here */
	if (s->cluster) {
		CHECK(s->self >= 0 && s->self < (int)s->nnode && s->nnode <= NC_NODE_MAX);
		for (i = 0; i < s->nvnf; i++)
			CHECK(!s->vnf[i].remote || (s->vnf[i].replicas == 0 && !s->vnf[i].scale.on &&
						    s->vnf[i].node != s->self));
		for (i = 0; i < s->nnode; i++)
			CHECK(s->node[i].plen >= 16 && s->node[i].plen <= 96);
	}
	for (i = 0; i < s->nchain; i++) {
		const struct nc_chain *c = &s->chain[i];

		CHECK(name_ok(c->name) && c->nvnf >= 1 && c->nvnf <= NC_HOPS_MAX);
		CHECK(c->from >= 0 && c->from < (int)s->nxport && c->to >= 0 &&
		      c->to < (int)s->nxport && c->from != c->to);
		for (j = 0; j < c->nvnf; j++) {
			CHECK(c->vnf[j] >= 0 && c->vnf[j] < (int)s->nvnf);
			for (k = 0; k < j; k++)
				CHECK(c->vnf[k] != c->vnf[j]);
		}
		for (k = 0; k < i; k++)
			for (j = 0; j < c->nvnf; j++) {
				unsigned m;

				for (m = 0; m < s->chain[k].nvnf; m++)
					CHECK(s->chain[k].vnf[m] != c->vnf[j]);
			}
		if (c->steering == NC_ST_TOS)
			CHECK(!c->match[0] && !c->return_match[0]);
	}
	CHECK(nc_plan_steering(&in, steering, sizeof(steering)) == 0);
	for (line = strtok_r(steering, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char word[32];

		CHECK(sscanf(line, "%31s", word) == 1);
		CHECK(strcmp(word, "#") == 0 || strcmp(word, "group") == 0 ||
		      strcmp(word, "sid") == 0 || strcmp(word, "rule") == 0 ||
		      strcmp(word, "tos") == 0 || strcmp(word, "srv6-source") == 0);
		if (strcmp(word, "group") == 0) {
			char g[64];

			CHECK(sscanf(line, "group %63s", g) == 1 && nc_spec_vnf(s, g) >= 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[600];
	struct nc_spec *s = NULL;
	int fd, ret;

	if (size > MAXIN)
		size = MAXIN;
	fd = memfd_create("fuzz.yaml", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	ret = nc_spec_load(path, &s, err, sizeof(err));
	if (ret < 0) {
		unsigned long line;
		char rest[4];

		CHECK(s == NULL && (ret == -EINVAL || ret == -ENOMEM));
		CHECK(strncmp(err, path, strlen(path)) == 0);
		CHECK(sscanf(err + strlen(path), ":%lu: %3c", &line, rest) == 2 && line >= 1);
		CHECK(strchr(err, '\n') == NULL);
	} else {
		CHECK(ret == 0 && s != NULL);
		check_spec(s);
		nc_spec_free(s);
	}
	close(fd);
	return 0;
}
