/* steer_ctl.c - the steering plane's control requests (steer.h). Every
 * change makes a new list of lines, builds a generation from it and, if
 * that worked, swaps it in (between bursts: the control socket is served
 * by the forwarding thread); a failed change leaves everything as it was.
 *
 *   steering                   the configuration lines
 *   steer-load FILE            replace everything with FILE's lines
 *   steer-clear                no steering (plain MAC learning switch)
 *   rules                      rules in classification order, counters
 *   rule-add WORDS...          a rule line without the leading "rule"
 *   rule-del ID
 *   groups                     members, up or removed, frames per member
 *   group-add NAME MEMBER...   (a group line without "group")
 *   group-del NAME
 *   group-member-del NAME I    member I leaves (its position stays "-")
 *   group-member-set NAME I MEMBER   member I (re)joins
 *   sids                       SIDs with counters
 *   sid-add ADDR BEHAVIOUR ... / sid-del ADDR
 *   tos INGRESS EGRESS LAYER...  / tos-off
 *   steer-stats                drops by reason (steering and SRv6)
 */
#include "steer.h"
#include "sw.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_BYTES 4096

static int join(char *buf, size_t n, const char *first, int argc, char **argv)
{
	size_t used = 0;
	int i, k;

	buf[0] = '\0';
	if (first != NULL) {
		k = snprintf(buf, n, "%s", first);
		used = (size_t)k;
	}
	for (i = 0; i < argc; i++) {
		k = snprintf(buf + used, n - used, "%s%s", used ? " " : "", argv[i]);
		if (k < 0 || (size_t)k >= n - used) {
			nf_set_error("request too long");
			return -EINVAL;
		}
		used += (size_t)k;
	}
	return 0;
}

/* The current lines, with line @skip left out (or none: -1) and @add
 * appended (or none). Then build and swap. */
static int apply(struct sw *sw, int skip, const char *add, int replace_at)
{
	struct st_gen *old = sw->steer, *g = NULL;
	unsigned n = old ? old->nlines : 0, i, k = 0;
	char **lines = calloc(n + 1, sizeof(char *));
	int ret;

	if (lines == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if ((int)i == replace_at)
			lines[k++] = (char *)add;
		else if ((int)i != skip)
			lines[k++] = old->lines[i];
	}
	if (add != NULL && replace_at < 0)
		lines[k++] = (char *)add;
	ret = st_build(sw, lines, k, old, &g);
	free(lines);
	if (ret < 0)
		return ret;
	sw->steer = g;		/* the next frame sees the whole new set */
	sw->steer_loads++;
	st_free(old);
	return 0;
}

/* Index of the line whose words start with @w0 @w1 (or "rule ... id N"). */
static int find_line(const struct st_gen *g, const char *w0, const char *w1)
{
	unsigned i;

	for (i = 0; g != NULL && i < g->nlines; i++) {
		char buf[LINE_BYTES], *save = NULL, *a, *b;

		nf_strlcpy(buf, g->lines[i], sizeof(buf));
		a = strtok_r(buf, " \t", &save);
		b = strtok_r(NULL, " \t", &save);
		if (a == NULL || b == NULL || strcmp(a, w0) != 0)
			continue;
		if (strcmp(b, w1) == 0)
			return (int)i;
		if (strcmp(w0, "sid") == 0) {
			uint8_t x[16], y[16];

			if (inet_pton(AF_INET6, b, x) == 1 && inet_pton(AF_INET6, w1, y) == 1 &&
			    memcmp(x, y, 16) == 0)
				return (int)i;
		}
	}
	return -1;
}

static int rule_line(const struct st_gen *g, uint32_t id)
{
	unsigned i;

	for (i = 0; g != NULL && i < g->nrules; i++)
		if (g->rule[i].id == id) {
			unsigned j;

			for (j = 0; j < g->nlines; j++)
				if (g->lines[j] == g->rule[i].text)
					return (int)j;
		}
	return -1;
}

static struct json_object *cnt(const struct st_count *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(c ? c->packets : 0));
	json_object_object_add(o, "bytes", json_object_new_uint64(c ? c->bytes : 0));
	return o;
}

static void list_rules(const struct st_gen *g, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	unsigned i;

	for (i = 0; g != NULL && i < g->nrules; i++) {
		struct json_object *o = cnt(g->rule[i].count);

		json_object_object_add(o, "id", json_object_new_int64(g->rule[i].id));
		json_object_object_add(o, "priority", json_object_new_int64(g->rule[i].prio));
		json_object_object_add(o, "rule", json_object_new_string(g->rule[i].text));
		json_object_array_add(a, o);
	}
	json_object_object_add(reply, "rules", a);
}

static void list_groups(struct sw *sw, const struct st_gen *g, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	unsigned i, j, k;

	for (i = 0; g != NULL && i < g->ngroups; i++) {
		const struct st_group *gr = &g->group[i];
		struct json_object *o = json_object_new_object(), *m = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(gr->name));
		for (j = 0; j < gr->n; j++) {
			struct json_object *e = cnt(&gr->mcount[j]);
			const struct st_member *mb = &gr->m[j];

			json_object_object_add(e, "member", json_object_new_int((int)j));
			json_object_object_add(e, "up", json_object_new_boolean(mb->port >= 0 &&
									      !mb->draining));
			if (mb->draining)
				json_object_object_add(e, "draining", json_object_new_boolean(true));
			if (mb->port >= 0 && sw->ports[mb->port].p != NULL)
				json_object_object_add(e, "port", json_object_new_string(
					nf_port_name(sw->ports[mb->port].p)));
			if (mb->peer >= 0 && sw->ports[mb->peer].p != NULL)
				json_object_object_add(e, "return", json_object_new_string(
					nf_port_name(sw->ports[mb->peer].p)));
			for (k = 0; k < 2; k++) {
				const uint8_t *a = mb->mac[k];
				char ms[18];

				if (!mb->has_mac[k] || (k == 1 && mb->peer < 0))
					continue;
				snprintf(ms, sizeof(ms), "%02x:%02x:%02x:%02x:%02x:%02x",
					 a[0], a[1], a[2], a[3], a[4], a[5]);
				json_object_object_add(e, k ? "return_mac" : "mac",
						       json_object_new_string(ms));
			}
			json_object_object_add(e, "table_entries",
					       json_object_new_uint64(gr->tab->count[j]));
			json_object_array_add(m, e);
		}
		json_object_object_add(o, "members", m);
		if (gr->track != NULL)
			json_object_object_add(o, "track_kept", json_object_new_uint64(gr->track->kept.packets));
		if (gr->hold != NULL) {	/* hold.h */
			const struct st_hold *h = gr->hold;
			struct json_object *ho = json_object_new_object();

			json_object_object_add(ho, "capacity", json_object_new_uint64(h->cap));
			json_object_object_add(ho, "queued", json_object_new_uint64(h->n));
			json_object_object_add(ho, "held", json_object_new_uint64(h->held));
			json_object_object_add(ho, "released", json_object_new_uint64(h->released));
			json_object_object_add(ho, "full", json_object_new_uint64(h->full));
			json_object_object_add(ho, "too_big", json_object_new_uint64(h->big));
			json_object_object_add(ho, "episodes", json_object_new_uint64(h->episodes));
			json_object_object_add(ho, "last_us", json_object_new_uint64(h->last_us));
			json_object_object_add(o, "hold", ho);
		}
		json_object_array_add(a, o);
	}
	json_object_object_add(reply, "groups", a);
}

static void list_sids(const struct st_gen *g, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	unsigned i;

	for (i = 0; g != NULL && i < g->nsids; i++) {
		struct json_object *o = cnt(g->sid[i].count);

		json_object_object_add(o, "sid", json_object_new_string(g->sid[i].text));
		json_object_array_add(a, o);
	}
	json_object_object_add(reply, "sids", a);
}

static void steer_stats(const struct sw *sw, const struct st_gen *g, struct json_object *reply)
{
	struct json_object *o = json_object_new_object();
	unsigned i;

	for (i = 0; g != NULL && i < ST_DROP_MAX; i++)
		if (g->drops[i])
			json_object_object_add(o, st_drop_name(i), json_object_new_uint64(g->drops[i]));
	for (i = 1; g != NULL && i < NF_SRV6_DROP_MAX; i++)
		if (g->srv6_drops[i])
			json_object_object_add(o, nf_srv6_drop_name(i),
					       json_object_new_uint64(g->srv6_drops[i]));
	json_object_object_add(reply, "steer_drops", o);
	json_object_object_add(reply, "rule_cache_misses",
			       json_object_new_uint64(g != NULL ? g->cache_misses : 0));
	json_object_object_add(reply, "flow_cache_hits",
			       json_object_new_uint64(g != NULL ? g->flow_hits : 0));
	json_object_object_add(reply, "flow_cache_fills",
			       json_object_new_uint64(g != NULL ? g->flow_fills : 0));
	json_object_object_add(reply, "flow_cache_wide_fills",
			       json_object_new_uint64(g != NULL ? g->flow_wide_fills : 0));
	json_object_object_add(reply, "flow_cache_srv6_fills",
			       json_object_new_uint64(g != NULL ? g->flow_srv6_fills : 0));
	json_object_object_add(reply, "icmp_errors_sent", json_object_new_uint64(sw->icmp_sent));
	json_object_object_add(reply, "icmp_errors_limited",
			       json_object_new_uint64(sw->icmp_limited));
}

static int load_file(struct sw *sw, const char *path)
{
	char **lines = NULL, buf[LINE_BYTES];
	unsigned n = 0, cap = 0, i;
	struct st_gen *g = NULL;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (f == NULL) {
		ret = -errno;
		nf_set_error("cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t l = strlen(buf);

		if (l > 0 && buf[l - 1] != '\n' && !feof(f)) {
			nf_set_error("%s:%u: line too long", path, n + 1);
			ret = -EINVAL;
			goto out;
		}
		while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
			buf[--l] = '\0';
		if (n == cap) {
			char **nl = realloc(lines, (cap ? cap * 2 : 64) * sizeof(char *));

			if (nl == NULL) {
				ret = -ENOMEM;
				goto out;
			}
			lines = nl;
			cap = cap ? cap * 2 : 64;
		}
		lines[n] = strdup(buf);
		if (lines[n] == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		n++;
	}
	ret = st_build(sw, lines, n, sw->steer, &g);
	if (ret < 0) {
		char msg[512];

		nf_strlcpy(msg, nf_last_error(), sizeof(msg));
		nf_set_error("%s: %s", path, msg);
		goto out;
	}
	st_free(sw->steer);
	sw->steer = g;
	sw->steer_loads++;
out:
	fclose(f);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return ret;
}

int sw_steer_load(struct sw *sw, const char *path)
{
	return load_file(sw, path);
}

/* Group line @old with member @m set to @val ("-": removed), the members
 * before it that the line lacks added as "-" and its options (track,
 * hold N) kept after the members, in @line (@n bytes). -ENOENT: @del and
 * the line has no member @m; -EINVAL: too long. */
static int member_line(const char *old, unsigned m, const char *val, bool del, char *line,
		       size_t n)
{
	char buf[LINE_BYTES], *save = NULL, *tok, *w[NF_HASH_MEMBERS_MAX + 5];
	unsigned nw = 0, nm, end, k, hold;
	bool track;
	size_t used = 0;

	nf_strlcpy(buf, old, sizeof(buf));
	for (tok = strtok_r(buf, " \t", &save); tok != NULL && nw < NF_ARRAY_SIZE(w);
	     tok = strtok_r(NULL, " \t", &save))
		w[nw++] = tok;
	nm = st_group_members_end(w, nw, &hold, &track);	/* members: [2, nm) */
	if (del && m + 2 >= nm)
		return -ENOENT;
	end = NF_MAX(nm, m + 3);	/* the members of the new line end here */
	for (k = 0; k < end + nw - nm; k++) {
		const char *x = k < 2 ? w[k] : k == m + 2 ? val : k < nm ? w[k] :
				k < end ? "-" : w[nm + k - end];
		const int r = snprintf(line + used, n - used, "%s%s", k ? " " : "", x);

		if (r < 0 || (size_t)r >= n - used) {
			nf_set_error("request too long");
			return -EINVAL;
		}
		used += (size_t)r;
	}
	return 0;
}

static int st_ctl_do(struct sw *sw, int argc, char **argv, struct json_object *reply)
{
	const char *cmd = argv[0];
	struct st_gen *g = sw->steer;
	char line[LINE_BYTES];
	int ret, i;

	if (strcmp(cmd, "steering") == 0 && argc == 1) {
		struct json_object *a = json_object_new_array();
		unsigned k;

		for (k = 0; g != NULL && k < g->nlines; k++)
			json_object_array_add(a, json_object_new_string(g->lines[k]));
		json_object_object_add(reply, "lines", a);
		return 0;
	}
	if (strcmp(cmd, "steer-load") == 0 && argc == 2)
		return load_file(sw, argv[1]);
	if (strcmp(cmd, "steer-clear") == 0 && argc == 1) {
		sw->steer = NULL;
		st_free(g);
		return 0;
	}
	if (strcmp(cmd, "steer-stats") == 0 && argc == 1) {
		steer_stats(sw, g, reply);
		return 0;
	}
	if (strcmp(cmd, "rules") == 0 && argc == 1) {
		list_rules(g, reply);
		return 0;
	}
	if (strcmp(cmd, "groups") == 0 && argc == 1) {
		list_groups(sw, g, reply);
		return 0;
	}
	if (strcmp(cmd, "sids") == 0 && argc == 1) {
		list_sids(g, reply);
		return 0;
	}
	if (strcmp(cmd, "rule-add") == 0 && argc >= 2) {
		uint32_t id = g ? g->next_id : 1;
		bool has_id = false;

		for (i = 1; i + 1 < argc; i++) {	/* "id N", not "vlan id V" */
			uint64_t v;

			if (strcmp(argv[i], "id") == 0 && strcmp(argv[i - 1], "vlan") != 0) {
				has_id = true;
				if (nf_parse_u64(argv[i + 1], 1, UINT32_MAX, 0, &v) == 0)
					id = (uint32_t)v;
			}
		}
		if (has_id)
			ret = join(line, sizeof(line), "rule", argc - 1, argv + 1);
		else {
			char head[32];

			snprintf(head, sizeof(head), "rule id %u", id);
			ret = join(line, sizeof(line), head, argc - 1, argv + 1);
		}
		if (ret == 0)
			ret = apply(sw, -1, line, -1);
		if (ret == 0)
			json_object_object_add(reply, "id", json_object_new_int64(id));
		return ret;
	}
	if (strcmp(cmd, "rule-del") == 0 && argc == 2) {
		uint64_t id;
		int l;

		if (nf_parse_u64(argv[1], 1, UINT32_MAX, 0, &id) < 0) {
			nf_set_error("rule-del ID: ID 1..%u", UINT32_MAX);
			return -EINVAL;
		}
		l = rule_line(g, (uint32_t)id);
		if (l < 0) {
			nf_set_error("no rule %s", argv[1]);
			return -ENOENT;
		}
		return apply(sw, l, NULL, -1);
	}
	if ((strcmp(cmd, "group-add") == 0 && argc >= 3) ||
	    (strcmp(cmd, "sid-add") == 0 && argc >= 3) ||
	    (strcmp(cmd, "tos") == 0 && argc >= 4)) {
		const char *w0 = cmd[0] == 'g' ? "group" : cmd[0] == 's' ? "sid" : "tos";
		int at = -1;

		if (cmd[0] == 't') {	/* tos replaces the tos line */
			unsigned k;

			for (k = 0; g != NULL && k < g->nlines; k++)
				if (strncmp(g->lines[k], "tos ", 4) == 0)
					at = (int)k;
		}
		ret = join(line, sizeof(line), w0, argc - 1, argv + 1);
		return ret < 0 ? ret : apply(sw, -1, line, at);
	}
	if ((strcmp(cmd, "group-del") == 0 || strcmp(cmd, "sid-del") == 0) && argc == 2) {
		int l = find_line(g, cmd[0] == 'g' ? "group" : "sid", argv[1]);

		if (l < 0) {
			nf_set_error("no %s '%s'", cmd[0] == 'g' ? "group" : "SID", argv[1]);
			return -ENOENT;
		}
		return apply(sw, l, NULL, -1);
	}
	if (strcmp(cmd, "tos-off") == 0 && argc == 1) {
		unsigned k;

		for (k = 0; g != NULL && k < g->nlines; k++)
			if (strncmp(g->lines[k], "tos ", 4) == 0)
				return apply(sw, (int)k, NULL, -1);
		nf_set_error("the ToS mode is off");
		return -ENOENT;
	}
	if ((strcmp(cmd, "group-member-del") == 0 && argc == 3) ||
	    (strcmp(cmd, "group-member-set") == 0 && argc == 4)) {
		const bool del = cmd[13] == 'd';
		int l = find_line(g, "group", argv[1]);
		uint64_t m;

		if (l < 0) {
			nf_set_error("no group '%s'", argv[1]);
			return -ENOENT;
		}
		if (nf_parse_u64(argv[2], 0, NF_HASH_MEMBERS_MAX - 1, 0, &m) < 0) {
			nf_set_error("member '%s': expected 0..%d", argv[2], NF_HASH_MEMBERS_MAX - 1);
			return -EINVAL;
		}
		ret = member_line(g->lines[l], (unsigned)m, del ? "-" : argv[3], del, line,
				  sizeof(line));
		if (ret == -ENOENT)
			nf_set_error("group '%s' has no member %s", argv[1], argv[2]);
		return ret < 0 ? ret : apply(sw, -1, line, l);
	}
	return -ENOENT;
}

/* The members (positions) of group @name in @g (its options are none). */
static unsigned members(const struct st_gen *g, const char *name)
{
	unsigned i;

	for (i = 0; g != NULL && i < g->ngroups; i++)
		if (strcmp(g->group[i].name, name) == 0)
			return g->group[i].n;
	return 0;
}

/* What a change did, in one sentence ("message"; nfchain prints it). */
static void message(const struct st_gen *g, int argc, char **argv, struct json_object *reply)
{
	const char *c = argv[0];
	char m[512];

	m[0] = '\0';
	if (strcmp(c, "steer-load") == 0)
		snprintf(m, sizeof(m), "loaded %s: %u lines, %u rules, %u groups, %u SIDs%s",
			 argv[1], g ? g->nlines : 0, g ? g->nrules : 0, g ? g->ngroups : 0,
			 g ? g->nsids : 0, g && g->tos.on ? ", ToS mode" : "");
	else if (strcmp(c, "steer-clear") == 0)
		snprintf(m, sizeof(m), "steering cleared: MAC learning only");
	else if (strcmp(c, "rule-add") == 0)
		snprintf(m, sizeof(m), "rule %" PRId64 " added",
			 json_object_get_int64(json_object_object_get(reply, "id")));
	else if (strcmp(c, "rule-del") == 0)
		snprintf(m, sizeof(m), "rule %s deleted", argv[1]);
	else if (strcmp(c, "group-add") == 0)
		snprintf(m, sizeof(m), "group %s added (%u members)", argv[1], members(g, argv[1]));
	else if (strcmp(c, "group-del") == 0)
		snprintf(m, sizeof(m), "group %s deleted", argv[1]);
	else if (strcmp(c, "group-member-del") == 0)
		snprintf(m, sizeof(m), "group %s: member %s removed (its flows move to the others)",
			 argv[1], argv[2]);
	else if (strcmp(c, "group-member-set") == 0)
		snprintf(m, sizeof(m), "group %s: member %s is %s", argv[1], argv[2], argv[3]);
	else if (strcmp(c, "sid-add") == 0)
		snprintf(m, sizeof(m), "SID %s added (%s)", argv[1], argv[2]);
	else if (strcmp(c, "sid-del") == 0)
		snprintf(m, sizeof(m), "SID %s deleted", argv[1]);
	else if (strcmp(c, "tos") == 0)
		snprintf(m, sizeof(m), "ToS mode on: ingress %s, egress %s, %d layers", argv[1],
			 argv[2], argc - 3);
	else if (strcmp(c, "tos-off") == 0)
		snprintf(m, sizeof(m), "ToS mode off");
	if (m[0] != '\0')
		json_object_object_add(reply, "message", json_object_new_string(m));
}

int st_ctl(struct sw *sw, int argc, char **argv, struct json_object *reply)
{
	int ret;

	st_flow_flush(sw->steer);	/* counters read or cleared below */
	ret = st_ctl_do(sw, argc, argv, reply);

	if (ret == 0)
		message(sw->steer, argc, argv, reply);
	return ret;
}
