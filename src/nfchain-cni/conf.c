/* conf.c - the network configuration nfchain-cni reads on stdin: one
 * table of keys (type, required or default, range), anything else refused
 * with the spec's code 2, wrong types and values with code 7.
 */
#define _GNU_SOURCE
#include "cni.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *const cni_versions[CNI_VERSIONS] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };

int cni_fail(struct cni_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e->code != 0)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *cni_show(const char *s)
{
	static char buf[2][112];
	static unsigned turn;
	char *b = buf[turn++ % 2];
	size_t i;

	for (i = 0; s[i] && i < 100; i++)
		b[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i];
	strcpy(b + i, s[i] ? "..." : "");
	return b;
}

bool cni_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

enum kind { K_STR, K_PATH, K_NAME, K_INT, K_BOOL, K_OBJ, K_PORTS };

/* The keys. Standard ones (the spec's, and what runtimes add) are type
 * checked and otherwise left to their readers. */
static const struct key {
	const char *key;
	enum kind kind;
	bool required;
	long min, max;		/* K_INT: the range; K_STR, K_PATH: length */
	size_t off;		/* where it goes in cni_conf, or NONE */
	size_t size;
	const char *help;
} keys[] = {
#define NONE SIZE_MAX
#define AT(f) offsetof(struct cni_conf, f), sizeof(((struct cni_conf *)0)->f)
	{ "cniVersion", K_STR, true, 1, 15, NONE, 0,
	  "the spec version: 0.3.0, 0.3.1, 0.4.0 or 1.0.0" },
	{ "name", K_NAME, true, 1, CNI_NAME_MAX - 1, AT(name),
	  "the network's name: [A-Za-z0-9_.-]" },
	{ "type", K_NAME, true, 1, CNI_NAME_MAX - 1, AT(type), "the plugin: nfchain-cni" },
	{ "switch_ctl", K_PATH, true, 2, CNI_PATH_MAX - 1, AT(switch_ctl),
	  "the node's nfswitch control socket (nfswitch -c)" },
	{ "memif_socket", K_PATH, true, 2, CNI_PATH_MAX - 1, AT(memif_socket),
	  "nfswitch's memif socket, at this path in the pod too" },
	{ "ports", K_PORTS, false, 1, CNI_PORTS_MAX, NONE, 0,
	  "1 or 2 port names, 1..15 bytes of [A-Za-z0-9_.-] (default [\"data\"])" },
	{ "id_min", K_INT, false, 0, 65535, AT(id_min),
	  "the lowest memif id handed out, 0..65535 (default 4096)" },
	{ "id_max", K_INT, false, 0, 65535, AT(id_max),
	  "the highest, id_min..65535 (default 8191)" },
	{ "state_dir", K_PATH, false, 2, 200, AT(state_dir),
	  "where attachments are recorded (default /var/lib/cni/nfchain)" },
	{ "port_file_dir", K_PATH, false, 2, 200, AT(port_file_dir),
	  "ADD writes the pod's port lines to DIR/CONTAINERID/IFNAME.conf" },
	{ "ipam", K_OBJ, false, 0, 0, NONE, 0,
	  "delegated IPAM: ipam.type is a plugin in CNI_PATH (host-local)" },
	{ "dns", K_OBJ, false, 0, 0, NONE, 0, "returned in the result when IPAM returns none" },
	{ "prevResult", K_OBJ, false, 0, 0, NONE, 0, "the previous plugin's result (chaining)" },
	{ "args", K_OBJ, false, 0, 0, NONE, 0, "runtime arguments (ignored)" },
	{ "runtimeConfig", K_OBJ, false, 0, 0, NONE, 0, "capability arguments (ignored)" },
	{ "capabilities", K_OBJ, false, 0, 0, NONE, 0, "capabilities (ignored: none)" },
	{ "ipMasq", K_BOOL, false, 0, 0, NONE, 0, "(ignored: no kernel interface to masquerade)" },
#undef AT
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void cni_conf_help(FILE *f)
{
	static const char *const kn[] = { "string", "path", "name", "integer", "boolean",
					  "object", "array" };
	size_t i;

	for (i = 0; i < NKEYS; i++)
		fprintf(f, "  %-14s %-8s %-9s %s\n", keys[i].key, kn[keys[i].kind],
			keys[i].required ? "required" : "optional", keys[i].help);
}

static const char *jtype(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

/* A path we put into a switch request: absolute, no blank, comma or
 * control byte (the request is a line of blank-separated words, the
 * port spec comma-separated options). */
static bool path_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == ',' || *s == 0x7f)
			return false;
	return true;
}

static int one_key(struct cni_conf *c, const struct key *k, struct json_object *v,
		   struct cni_err *e)
{
	const char *s;
	size_t n, i;
	int64_t x;

	switch (k->kind) {
	case K_STR:
	case K_PATH:
	case K_NAME:
		if (!json_object_is_type(v, json_type_string))
			return cni_fail(e, CNI_E_CONFIG, "%s: a string is expected, not %s",
					k->key, jtype(v));
		s = json_object_get_string(v);
		n = strlen(s);
		if (n != (size_t)json_object_get_string_len(v))
			return cni_fail(e, CNI_E_CONFIG, "%s: holds a NUL byte", k->key);
		if (n < (size_t)k->min || n > (size_t)k->max)
			return cni_fail(e, CNI_E_CONFIG, "%s: '%s' is not %ld to %ld bytes long",
					k->key, cni_show(s), k->min, k->max);
		if (k->kind == K_PATH && !path_ok(s))
			return cni_fail(e, CNI_E_CONFIG,
					"%s: '%s' is not an absolute path without blanks or commas",
					k->key, cni_show(s));
		if (k->kind == K_NAME && !cni_name_ok(s, (size_t)k->max))
			return cni_fail(e, CNI_E_CONFIG,
					"%s: '%s' has a byte other than A-Z a-z 0-9 _ . -",
					k->key, cni_show(s));
		if (k->off != NONE)
			memcpy((char *)c + k->off, s, n + 1);
		return 0;
	case K_INT:
		if (!json_object_is_type(v, json_type_int))
			return cni_fail(e, CNI_E_CONFIG, "%s: an integer is expected, not %s",
					k->key, jtype(v));
		x = json_object_get_int64(v);
		if (x < k->min || x > k->max)
			return cni_fail(e, CNI_E_CONFIG, "%s: '%s' is not from %ld to %ld", k->key,
					json_object_to_json_string(v), k->min, k->max);
		*(unsigned *)((char *)c + k->off) = (unsigned)x;
		return 0;
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return cni_fail(e, CNI_E_CONFIG, "%s: true or false is expected, not %s",
					k->key, jtype(v));
		return 0;
	case K_OBJ:
		if (!json_object_is_type(v, json_type_object))
			return cni_fail(e, CNI_E_CONFIG, "%s: an object is expected, not %s",
					k->key, jtype(v));
		return 0;
	case K_PORTS:
		if (!json_object_is_type(v, json_type_array))
			return cni_fail(e, CNI_E_CONFIG, "ports: an array of names is expected, not %s",
					jtype(v));
		n = json_object_array_length(v);
		if (n < 1 || n > CNI_PORTS_MAX)
			return cni_fail(e, CNI_E_CONFIG, "ports: %zu names, 1 or 2 are expected", n);
		for (i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(v, i);

			if (!json_object_is_type(p, json_type_string) ||
			    !cni_name_ok(json_object_get_string(p), sizeof(c->port[0]) - 1))
				return cni_fail(e, CNI_E_CONFIG,
						"ports[%zu]: a name of 1..15 bytes of A-Z a-z 0-9 _ . - is expected",
						i);
			strcpy(c->port[i], json_object_get_string(p));
		}
		if (n == 2 && strcmp(c->port[0], c->port[1]) == 0)
			return cni_fail(e, CNI_E_CONFIG, "ports: '%s' is named twice", c->port[0]);
		c->nports = (unsigned)n;
		return 0;
	}
	return 0;
}

static int read_version(struct cni_conf *c, struct json_object *v, struct cni_err *e)
{
	const char *s;
	int i;

	if (v == NULL)
		return cni_fail(e, CNI_E_CONFIG, "cniVersion: missing");
	if (!json_object_is_type(v, json_type_string))
		return cni_fail(e, CNI_E_CONFIG, "cniVersion: a string is expected, not %s",
				jtype(v));
	s = json_object_get_string(v);
	for (i = 0; i < CNI_VERSIONS; i++)
		if (strcmp(s, cni_versions[i]) == 0) {
			c->ver = i;
			return 0;
		}
	snprintf(e->details, sizeof(e->details), "supported: 0.3.0 0.3.1 0.4.0 1.0.0");
	return cni_fail(e, CNI_E_VERSION, "cniVersion '%s' is not supported", cni_show(s));
}

static int read_ipam(struct cni_conf *c, struct json_object *ipam, struct cni_err *e)
{
	struct json_object *t;

	if (!json_object_object_get_ex(ipam, "type", &t))
		return cni_fail(e, CNI_E_CONFIG, "ipam.type: missing (the IPAM plugin's name)");
	if (!json_object_is_type(t, json_type_string) ||
	    !cni_name_ok(json_object_get_string(t), CNI_NAME_MAX - 1))
		return cni_fail(e, CNI_E_CONFIG,
				"ipam.type: a plugin name of A-Z a-z 0-9 _ . - is expected");
	strcpy(c->ipam_type, json_object_get_string(t));
	c->ipam = ipam;
	return 0;
}

int cni_conf_parse(const char *text, size_t len, struct cni_conf *c, struct cni_err *e)
{
	struct json_tokener *tok;
	struct json_object *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->ver = -1;
	if (len > INT_MAX)
		return cni_fail(e, CNI_E_DECODE, "the network configuration is too large");
	for (i = 0; i < len && text[i] != '\0' && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i == len)
		return cni_fail(e, CNI_E_DECODE, "stdin holds no network configuration");
	tok = json_tokener_new();
	if (tok == NULL)
		return cni_fail(e, CNI_E_IO, "out of memory");
	c->root = json_tokener_parse_ex(tok, text, (int)len);
	if (c->root == NULL) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		cni_fail(e, CNI_E_DECODE, "the network configuration is not JSON: %s at byte %zu",
			 je == json_tokener_continue ? "unexpected end" :
			 json_tokener_error_desc(je), json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		return -1;
	}
	i = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; i < len; i++)
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r')
			return cni_fail(e, CNI_E_DECODE,
					"the network configuration has text after its JSON object (byte %zu)",
					i);
	if (!json_object_is_type(c->root, json_type_object))
		return cni_fail(e, CNI_E_DECODE, "the network configuration is a JSON %s, not an object",
				jtype(c->root));
	if (read_version(c, json_object_object_get(c->root, "cniVersion"), e) < 0)
		return -1;
	c->nports = 1;
	strcpy(c->port[0], "data");
	c->id_min = 4096;
	c->id_max = 8191;
	strcpy(c->state_dir, "/var/lib/cni/nfchain");
	json_object_object_foreach(c->root, key, val) {
		for (i = 0; i < NKEYS; i++)
			if (strcmp(key, keys[i].key) == 0)
				break;
		if (i == NKEYS)
			return cni_fail(e, CNI_E_FIELD, "unknown key '%s' (nfchain-cni --help lists them)",
					cni_show(key));
		if (one_key(c, &keys[i], val, e) < 0)
			return -1;
	}
	for (i = 0; i < NKEYS; i++)
		if (keys[i].required && json_object_object_get(c->root, keys[i].key) == NULL)
			return cni_fail(e, CNI_E_CONFIG, "%s: missing (%s)", keys[i].key, keys[i].help);
	if (c->id_min > c->id_max)
		return cni_fail(e, CNI_E_CONFIG, "id_max: %u is below id_min %u", c->id_max, c->id_min);
	json_object_object_get_ex(c->root, "dns", &c->dns);
	json_object_object_get_ex(c->root, "prevResult", &c->prev);
	/* "ipam": {} is no IPAM, as for the reference plugins. */
	if (json_object_object_get_ex(c->root, "ipam", &v) && json_object_object_length(v) > 0 &&
	    read_ipam(c, v, e) < 0)
		return -1;
	return 0;
}

void cni_conf_free(struct cni_conf *c)
{
	json_object_put(c->root);
	c->root = NULL;
}
