/* cni.h - nfchain-cni, the CNI plugin (docs/CNI.md): the network
 * configuration it reads (conf.c), the error result every failure becomes.
 *
 * Symbols of this program start with cni_.
 */
#ifndef CNI_H
#define CNI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The spec's well-known error codes, then ours (100 and up). */
enum cni_code {
	CNI_E_VERSION = 1,	/* incompatible CNI version */
	CNI_E_FIELD = 2,	/* unsupported field in the network configuration */
	CNI_E_UNKNOWN = 3,	/* container unknown or does not exist */
	CNI_E_ENV = 4,		/* invalid necessary environment variables */
	CNI_E_IO = 5,		/* I/O failure (our state directory) */
	CNI_E_DECODE = 6,	/* failed to decode content */
	CNI_E_CONFIG = 7,	/* invalid network configuration */
	CNI_E_AGAIN = 11,	/* try again later (the switch does not answer) */
	CNI_E_SWITCH = 100,	/* the switch refused a request */
	CNI_E_NOID = 101,	/* no free memif id in id_min..id_max */
	CNI_E_PORT = 102,	/* CHECK: the switch port is missing or differs */
	CNI_E_IPAM = 103,	/* the IPAM plugin cannot be found or run */
	CNI_E_NAME = 104,	/* the switch port name is another attachment's */
};

/* A failure: a code and a sentence (the error result's "msg"), and
 * optionally "details". */
struct cni_err {
	int code;
	char msg[512];
	char details[512];
};

/* Record a failure in @e (when e->code is 0: the first failure wins).
 * Returns -1, for `return cni_fail(...)`. */
int cni_fail(struct cni_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CNI_VERSIONS	4	/* index into cni_versions[] */
extern const char *const cni_versions[CNI_VERSIONS];	/* "0.3.0" .. "1.0.0" */

#define CNI_PORTS_MAX	2
#define CNI_PATH_MAX	108	/* sun_path: the sockets' paths */
#define CNI_NAME_MAX	64

/* The network configuration (stdin), checked. Strings are copies; the
 * JSON objects point into @root, which the caller frees with
 * cni_conf_free(). */
struct cni_conf {
	struct json_object *root;
	int ver;				/* index into cni_versions */
	char name[CNI_NAME_MAX];		/* the network's */
	char type[CNI_NAME_MAX];
	char switch_ctl[CNI_PATH_MAX];
	char memif_socket[CNI_PATH_MAX];
	unsigned nports;
	char port[CNI_PORTS_MAX][16];		/* the pod's names for them */
	unsigned id_min, id_max;
	char state_dir[256];
	char port_file_dir[256];		/* "" : no port file */
	struct json_object *ipam;		/* NULL: no IPAM */
	char ipam_type[CNI_NAME_MAX];
	struct json_object *dns;		/* NULL when absent */
	struct json_object *prev;		/* prevResult, NULL when absent */
};

/* Parse and check @len bytes of network configuration. Returns 0, or -1
 * with @e filled (code 6 not JSON, 1 a cniVersion we do not support,
 * 2 an unknown key, 7 a missing key, a wrong type, a value out of range).
 * On failure c->ver still says the configuration's cniVersion when it was
 * read (else -1): the error result is written in it. */
int cni_conf_parse(const char *text, size_t len, struct cni_conf *c,
		   struct cni_err *e);
void cni_conf_free(struct cni_conf *c);
/* The keys' table as text (for --help): one line per key. */
void cni_conf_help(FILE *f);

/* @s for a message: up to 100 bytes, control bytes as '?', "..." when
 * cut (a static buffer, two in turn). */
const char *cni_show(const char *s);

/* A name the plugin puts into file names and switch requests: 1..max
 * bytes of [A-Za-z0-9_.-], not "." or "..". */
bool cni_name_ok(const char *s, size_t max);

#endif
