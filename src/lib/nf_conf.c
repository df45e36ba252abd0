/* nf_conf.c - line-oriented configuration with tables of directives and
 * keys; strict: unknown directives and keys, wrong argument counts and
 * out-of-range values are errors with file, line and the expectation. */
#include "nf_conf.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void nf_conf_defaults(const struct nf_conf *c)
{
	unsigned s, i;

	for (s = 0; s < NF_CONF_KEYSETS; s++)
		for (i = 0; i < c->ks[s].n; i++)
			*(uint64_t *)(void *)((char *)c->ks[s].settings +
					      c->ks[s].keys[i].off) = c->ks[s].keys[i].def;
}

const struct nf_conf_key *nf_conf_key_find(const struct nf_conf *c, const char *name,
					   uint64_t **value)
{
	unsigned s, i;

	for (s = 0; s < NF_CONF_KEYSETS; s++) {
		for (i = 0; i < c->ks[s].n; i++) {
			const struct nf_conf_key *k = &c->ks[s].keys[i];

			if (strcmp(k->name, name) == 0) {
				if (value != NULL)
					*value = (uint64_t *)(void *)
						((char *)c->ks[s].settings + k->off);
				return k;
			}
		}
	}
	return NULL;
}

static void fail(struct nf_conf *c, int argc, char **argv, const char *why)
{
	size_t used;
	int i;

	used = (size_t)snprintf(c->err, sizeof(c->err), "%s:%u:", c->file ? c->file : "?",
				c->line);
	for (i = 0; i < argc && used < sizeof(c->err); i++)
		used += (size_t)snprintf(c->err + used, sizeof(c->err) - used, " %s", argv[i]);
	if (used < sizeof(c->err))
		snprintf(c->err + used, sizeof(c->err) - used, ": %s", why);
	nf_set_error("%s", c->err);
}

/* The built-in "set KEY VALUE". */
static int do_set(struct nf_conf *c, int argc, char **argv)
{
	const struct nf_conf_key *k;
	uint64_t v, *field = NULL;
	char why[256];

	if (argc != 3) {
		fail(c, argc, argv, "usage: set KEY VALUE");
		return -EINVAL;
	}
	k = nf_conf_key_find(c, argv[1], &field);
	if (k == NULL) {
		size_t used = (size_t)snprintf(why, sizeof(why), "unknown key (known:");
		unsigned i, ks;

		for (ks = 0; ks < NF_CONF_KEYSETS; ks++)
			for (i = 0; i < c->ks[ks].n && used < sizeof(why); i++)
				used += (size_t)snprintf(why + used, sizeof(why) - used,
							 " %s", c->ks[ks].keys[i].name);
		if (used < sizeof(why))
			snprintf(why + used, sizeof(why) - used, ")");
		fail(c, argc, argv, why);
		return -EINVAL;
	}
	if (c->runtime && !k->runtime) {
		fail(c, argc, argv, "this key cannot change while running");
		return -EPERM;
	}
	switch (k->type) {
	case NF_CONF_U64:
		if (nf_parse_u64(argv[2], k->min, k->max, 1, &v) < 0) {
			snprintf(why, sizeof(why), "expected %" PRIu64 "..%" PRIu64,
				 k->min, k->max);
			fail(c, argc, argv, why);
			return -EINVAL;
		}
		break;
	case NF_CONF_BOOL:
		if (strcmp(argv[2], "on") == 0 || strcmp(argv[2], "yes") == 0) {
			v = 1;
		} else if (strcmp(argv[2], "off") == 0 || strcmp(argv[2], "no") == 0) {
			v = 0;
		} else {
			fail(c, argc, argv, "expected on or off");
			return -EINVAL;
		}
		break;
	case NF_CONF_ENUM: {
		size_t used = 0;

		for (v = 0; k->enums[v] != NULL; v++)
			if (strcmp(k->enums[v], argv[2]) == 0)
				break;
		if (k->enums[v] != NULL)
			break;
		used = (size_t)snprintf(why, sizeof(why), "expected");
		for (v = 0; k->enums[v] != NULL && used < sizeof(why); v++)
			used += (size_t)snprintf(why + used, sizeof(why) - used, "%s %s",
						 v ? " or" : "", k->enums[v]);
		fail(c, argc, argv, why);
		return -EINVAL;
	}
	}
	*field = v;
	return 0;
}

int nf_conf_line(struct nf_conf *c, char *line)
{
	char *argv[NF_CONF_ARGS_MAX + 1], *save = NULL, *tok, *hash;
	const struct nf_conf_dir *d = NULL;
	char why[256];
	unsigned i;
	int argc = 0, ret;

	c->err[0] = '\0';
	hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == NF_CONF_ARGS_MAX) {
			fail(c, argc, argv, "too many words");
			return -E2BIG;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "set") == 0)
		return do_set(c, argc, argv);
	for (i = 0; i < c->ndirs2; i++)
		if (strcmp(c->dirs2[i].name, argv[0]) == 0)
			d = &c->dirs2[i];
	for (i = 0; i < c->ndirs; i++)
		if (strcmp(c->dirs[i].name, argv[0]) == 0)
			d = &c->dirs[i];
	if (d == NULL) {
		size_t used = (size_t)snprintf(why, sizeof(why), "unknown directive (known: set");

		for (i = 0; i < c->ndirs2 && used < sizeof(why); i++)
			used += (size_t)snprintf(why + used, sizeof(why) - used, ", %s",
						 c->dirs2[i].name);
		for (i = 0; i < c->ndirs && used < sizeof(why); i++)
			used += (size_t)snprintf(why + used, sizeof(why) - used, ", %s",
						 c->dirs[i].name);
		if (used < sizeof(why))
			snprintf(why + used, sizeof(why) - used, ")");
		fail(c, 1, argv, why);
		return -EINVAL;
	}
	if (c->runtime && !d->runtime) {
		fail(c, argc, argv, "not a runtime change");
		return -EPERM;
	}
	if ((unsigned)argc - 1 < d->min_args || (unsigned)argc - 1 > d->max_args) {
		snprintf(why, sizeof(why), "usage: %s", d->usage);
		fail(c, argc, argv, why);
		return -EINVAL;
	}
	nf_clear_error();
	ret = d->fn(c, argc, argv, c->arg);
	if (ret < 0) {
		char msg[384];

		nf_strlcpy(msg, nf_last_error()[0] ? nf_last_error() : strerror(-ret),
			   sizeof(msg));
		fail(c, argc, argv, msg);
	}
	return ret;
}

int nf_conf_file(struct nf_conf *c, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int ret = 0;

	c->file = path;
	c->line = 0;
	if (f == NULL) {
		snprintf(c->err, sizeof(c->err), "cannot open %s: %s", path, strerror(errno));
		nf_set_error("%s", c->err);
		return -errno;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		c->line++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(c->err, sizeof(c->err), "%s:%u: line longer than %zu characters",
				 path, c->line, sizeof(line) - 2);
			nf_set_error("%s", c->err);
			ret = -E2BIG;
			break;
		}
		ret = nf_conf_line(c, line);
		if (ret < 0)
			break;
	}
	fclose(f);
	return ret;
}

static void help_dirs(FILE *f, const struct nf_conf_dir *d, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (d[i].runtime)
			fprintf(f, "  %-48s (runtime too)\n", d[i].usage);
		else
			fprintf(f, "  %s\n", d[i].usage);
	}
}

void nf_conf_help(const struct nf_conf *c, void *fp)
{
	FILE *f = fp;
	unsigned s, i;

	fprintf(f, "Configuration directives (one per line, # comments):\n");
	help_dirs(f, c->dirs2, c->ndirs2);
	help_dirs(f, c->dirs, c->ndirs);
	fprintf(f, "  set KEY VALUE\n\nKeys for set:\n");
	for (s = 0; s < NF_CONF_KEYSETS; s++) {
		for (i = 0; i < c->ks[s].n; i++) {
			const struct nf_conf_key *k = &c->ks[s].keys[i];
			char range[96];

			if (k->type == NF_CONF_U64)
				snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64
					 ", default %" PRIu64, k->min, k->max, k->def);
			else if (k->type == NF_CONF_BOOL)
				snprintf(range, sizeof(range), "on|off, default %s",
					 k->def ? "on" : "off");
			else
				snprintf(range, sizeof(range), "default %s", k->enums[k->def]);
			fprintf(f, "  %-18s %s (%s)%s\n", k->name, k->help, range,
				k->runtime ? " (runtime too)" : "");
		}
	}
}
