/* nf_conf.h - the VNFs' configuration format, and its validator.
 *
 * A configuration is a text file of directives, one per line:
 *
 *     # nf-router example
 *     port lan memif:/run/nfchain/sw.sock,id=1 mac 02:00:00:00:01:01
 *     address lan 10.0.1.1/24
 *     route 0.0.0.0/0 via 10.0.2.254
 *     set icmp-rate 100
 *
 * Words are separated by blanks; '#' starts a comment. Each program
 * declares its directives in one table (name, argument count, handler,
 * usage) and its settings in one table of keys (type, range, default),
 * read by the built-in directive "set KEY VALUE". Errors name the file,
 * the line, the directive and what was expected:
 *
 *     router.conf:7: set icmp-rate 5000000: expected 0..1000000
 *
 * The same tables validate runtime changes from the control socket
 * (init and reconfiguration share one validator).
 */
#ifndef NF_CONF_H
#define NF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_CONF_ARGS_MAX 24

struct nf_conf;

/* A directive handler: argv[0] is the directive. Return 0, or -errno after
 * nf_set_error() (the sentence is prefixed with file:line: directive). */
typedef int (*nf_conf_fn)(struct nf_conf *c, int argc, char **argv, void *arg);

struct nf_conf_dir {
	const char *name;
	uint8_t min_args, max_args;	/* not counting the directive */
	nf_conf_fn fn;
	const char *usage;		/* "route PREFIX via ADDRESS" */
	bool runtime;			/* also accepted from the control socket */
};

enum nf_conf_type { NF_CONF_U64, NF_CONF_BOOL, NF_CONF_ENUM };

struct nf_conf_key {
	const char *name;
	enum nf_conf_type type;
	uint64_t min, max, def;		/* ENUM: index into enums */
	const char *const *enums;	/* NULL-terminated */
	size_t off;			/* uint64_t field in the settings struct */
	const char *help;
	bool runtime;			/* may change while running */
};

/* A table of keys and the struct their values live in. */
struct nf_conf_keyset {
	const struct nf_conf_key *keys;
	unsigned n;
	void *settings;
};

#define NF_CONF_KEYSETS 2

struct nf_conf {
	const struct nf_conf_dir *dirs;
	unsigned ndirs;
	const struct nf_conf_dir *dirs2;	/* a second table (framework) */
	unsigned ndirs2;
	struct nf_conf_keyset ks[NF_CONF_KEYSETS];	/* e.g. framework, program */
	void *arg;			/* passed to handlers */
	const char *file;		/* for messages; "control" at runtime */
	unsigned line;
	bool runtime;			/* applying a control-socket request */
	char err[512];			/* the last error, formatted */
};

/* Set every key to its default. */
void nf_conf_defaults(const struct nf_conf *c);
/* Apply one line (modified in place). Returns 0 or -errno; c->err holds
 * "file:line: directive: reason". Empty lines and comments are fine. */
int nf_conf_line(struct nf_conf *c, char *line);
/* Apply a whole file. Stops at the first error (c->err). */
int nf_conf_file(struct nf_conf *c, const char *path);
/* Print the directives and keys (for --help). */
void nf_conf_help(const struct nf_conf *c, void *fp);
/* Look a key up by name; NULL if unknown. *value (if non-NULL) is set to
 * where its value lives. */
const struct nf_conf_key *nf_conf_key_find(const struct nf_conf *c, const char *name,
					   uint64_t **value);

#endif
