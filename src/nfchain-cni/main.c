/* main.c - nfchain-cni: the CNI plugin (spec 1.0.0, also 0.3.0, 0.3.1,
 * 0.4.0) that gives a pod memif ports on the node's nfswitch and, through
 * a delegated IPAM plugin, addresses. docs/CNI.md says what it does; the
 * runtime runs it with CNI_COMMAND and friends in the environment and the
 * network configuration on stdin, and reads the result on stdout.
 *
 * Each command holds the state lock (state.h) from start to end, so
 * concurrent ADDs and DELs run one after the other; a command takes a few
 * milliseconds (one or two switch requests, one IPAM run).
 */
#define _GNU_SOURCE
#include "cni.h"
#include "ipam.h"
#include "nf_ctl.h"
#include "nf_util.h"
#include "state.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX	(4u << 20)	/* bytes of network configuration */
#define SW_TIMEOUT_MS	3000

/* What the runtime told us. */
struct env {
	const char *cmd, *cid, *netns, *ifname;
};

/* One memif port of the attachment. */
struct port {
	unsigned id;
	char name[128];		/* on the switch */
	char ifname[40];	/* in the result */
	char spec[200];
	char mac[24];
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: nfchain-cni   (run by a container runtime: CNI_COMMAND etc. in the\n"
"                     environment, the network configuration on stdin)\n"
"       nfchain-cni --help | --version\n"
"\n"
"The nfchain CNI plugin (CNI spec 1.0.0; also 0.3.0, 0.3.1, 0.4.0): gives a\n"
"pod memif ports on the node's nfswitch, and an address from a delegated\n"
"IPAM plugin (e.g. host-local). Commands (CNI_COMMAND):\n"
"  ADD      allocate memif ids, add the switch ports, run IPAM ADD, print\n"
"           the result (a repeated ADD re-adds missing ports and prints the\n"
"           recorded result)\n"
"  DEL      remove the switch ports, run IPAM DEL, forget the attachment;\n"
"           success also when nothing was added or the switch is gone\n"
"  CHECK    the switch has the ports as recorded, IPAM CHECK passes\n"
"  VERSION  the spec versions supported\n"
"Environment: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS (ADD, CHECK),\n"
"CNI_IFNAME, CNI_ARGS (K=V;K=V, ignored), CNI_PATH (to find the IPAM plugin).\n"
"\n"
"Network configuration keys:\n");
	cni_conf_help(f);
	fprintf(f,
"\n"
"Errors are the spec's error result on stdout, exit status 1: codes 1\n"
"incompatible version, 2 unknown key, 3 unknown container, 4 bad\n"
"environment, 5 I/O, 6 not JSON, 7 bad configuration, 11 the switch does\n"
"not answer, 100 the switch refused, 101 no free memif id, 102 CHECK: a\n"
"port is missing or differs, 103 the IPAM plugin cannot run, 104 a port\n"
"name is another attachment's. Details: docs/CNI.md.\n");
}

/* --- output --- */

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
}

/* The error result, in the configuration's version when we know it. */
static int error_result(const struct cni_err *e, int ver)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cniVersion", json_object_new_string(
		cni_versions[ver >= 0 ? ver : CNI_VERSIONS - 1]));
	json_object_object_add(o, "code", json_object_new_int(e->code));
	json_object_object_add(o, "msg", json_object_new_string(e->msg));
	if (e->details[0])
		json_object_object_add(o, "details", json_object_new_string(e->details));
	print_json(o);
	json_object_put(o);
	fprintf(stderr, "nfchain-cni: %s\n", e->msg);
	return 1;
}

/* --- input --- */

static char *read_stdin(size_t *len, struct cni_err *e)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap + 1);

	if (buf == NULL) {
		cni_fail(e, CNI_E_IO, "out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *p;

			if (cap >= CONF_MAX) {
				cni_fail(e, CNI_E_DECODE, "the network configuration is over %u bytes",
					 CONF_MAX);
				free(buf);
				return NULL;
			}
			p = realloc(buf, (cap *= 2) + 1);
			if (p == NULL) {
				cni_fail(e, CNI_E_IO, "out of memory");
				free(buf);
				return NULL;
			}
			buf = p;
		}
		r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cni_fail(e, CNI_E_IO, "cannot read stdin: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A variable the command needs, checked: 4 when missing or malformed. */
static int need(const char *var, const char **out, size_t max, bool name, struct cni_err *e)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0')
		return cni_fail(e, CNI_E_ENV, "%s is not set", var);
	if (name && !cni_name_ok(v, max))
		return cni_fail(e, CNI_E_ENV, "%s '%s' is not 1..%zu bytes of A-Z a-z 0-9 _ . -",
				var, cni_show(v), max);
	if (!name && strlen(v) > max)
		return cni_fail(e, CNI_E_ENV, "%s is over %zu bytes", var, max);
	*out = v;
	return 0;
}

static int read_env(struct env *v, bool netns, struct cni_err *e)
{
	const char *args = getenv("CNI_ARGS"), *s;

	if (need("CNI_CONTAINERID", &v->cid, 128, true, e) < 0 ||
	    need("CNI_IFNAME", &v->ifname, 15, true, e) < 0)
		return -1;
	v->netns = getenv("CNI_NETNS");
	if (netns && need("CNI_NETNS", &v->netns, 4000, false, e) < 0)
		return -1;
	/* CNI_ARGS: K=V pairs separated by ';' (none of them used). */
	for (s = args; s != NULL && *s; ) {
		const char *end = strchrnul(s, ';'), *eq = memchr(s, '=', (size_t)(end - s));

		if (eq == NULL || eq == s)
			return cni_fail(e, CNI_E_ENV, "CNI_ARGS '%s' is not K=V pairs separated by ';'",
					cni_show(args));
		s = *end ? end + 1 : end;
	}
	return 0;
}

/* --- the switch --- */

/* Send @line; 0 and *reply, or -1 with @e: 11 when the switch does not
 * answer, 100 when it refused (its sentence). */
static int sw_req(const struct cni_conf *c, const char *line, struct json_object **reply,
		  struct cni_err *e)
{
	struct json_object *o, *v;
	char *out = NULL;
	int ret;

	ret = nf_ctl_request(c->switch_ctl, line, SW_TIMEOUT_MS, &out);
	if (ret < 0)
		return cni_fail(e, CNI_E_AGAIN, "the switch does not answer on %s: %s",
				c->switch_ctl, strerror(-ret));
	o = json_tokener_parse(out);
	free(out);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return cni_fail(e, CNI_E_SWITCH, "the switch's reply to '%s' is not JSON", line);
	}
	if (!json_object_object_get_ex(o, "ok", &v) || !json_object_get_boolean(v)) {
		cni_fail(e, CNI_E_SWITCH, "the switch refused '%s': %s", line,
			 json_object_object_get_ex(o, "error", &v) ? json_object_get_string(v) :
			 "no reason given");
		json_object_put(o);
		return -1;
	}
	if (reply != NULL)
		*reply = o;
	else
		json_object_put(o);
	return 0;
}

/* The spec of the switch's port @name in its "ports" reply, or NULL. */
static const char *sw_port_spec(struct json_object *ports, const char *name)
{
	struct json_object *a, *v;
	size_t i;

	if (!json_object_object_get_ex(ports, "ports", &a) || !json_object_is_type(a, json_type_array))
		return NULL;
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *p = json_object_array_get_idx(a, i);

		if (json_object_object_get_ex(p, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0)
			return json_object_object_get_ex(p, "spec", &v) ?
			       json_object_get_string(v) : "";
	}
	return NULL;
}

/* Make the switch have port @p: added when missing, accepted when there
 * with our spec. *added says whether we added it. */
static int sw_ensure(const struct cni_conf *c, const struct port *p, bool *added,
		     struct cni_err *e)
{
	struct json_object *ports;
	const char *spec;
	char line[400];
	int ret;

	*added = false;
	if (sw_req(c, "ports", &ports, e) < 0)
		return -1;
	spec = sw_port_spec(ports, p->name);
	if (spec != NULL) {
		ret = strcmp(spec, p->spec) == 0 ? 0 :
		      cni_fail(e, CNI_E_SWITCH, "the switch has a port %s that is %s, not %s",
			       p->name, spec, p->spec);
		json_object_put(ports);
		return ret;
	}
	json_object_put(ports);
	snprintf(line, sizeof(line), "port-add %s %s", p->spec, p->name);
	if (sw_req(c, line, NULL, e) < 0)
		return -1;
	*added = true;
	return 0;
}

/* Remove port @name; missing (or no switch at all) is fine. */
static void sw_remove(const struct cni_conf *c, const char *name)
{
	struct cni_err e = { 0 };
	char line[200];

	snprintf(line, sizeof(line), "port-del %s", name);
	if (sw_req(c, line, NULL, &e) < 0 && e.code == CNI_E_SWITCH && !strstr(e.msg, "no port"))
		fprintf(stderr, "nfchain-cni: %s\n", e.msg);
}

/* --- ports and records --- */

static void port_make(const struct cni_conf *c, const struct env *v, unsigned i, unsigned id,
		      struct port *p)
{
	bool two = c->nports > 1;

	p->id = id;
	snprintf(p->name, sizeof(p->name), "cni-%.12s-%s%s%s", v->cid, v->ifname,
		 two ? "-" : "", two ? c->port[i] : "");
	/* No netdev has a '/' in its name: a chained plugin looking for
	 * CNI_IFNAME in the result finds its own interface, never ours. */
	snprintf(p->ifname, sizeof(p->ifname), "%s/%s", v->ifname, c->port[i]);
	snprintf(p->spec, sizeof(p->spec), "memif:%s,id=%u", c->memif_socket, id);
	snprintf(p->mac, sizeof(p->mac), "02:6e:63:00:%02x:%02x", (id >> 8) & 0xff,
		 id & 0xff);
}

/* The record's ports back into @p; returns how many, or -1 (code 5). */
static int rec_ports(const struct cni_conf *c, const struct env *v, struct json_object *rec,
		     struct port *p, const char *path, struct cni_err *e)
{
	struct json_object *a, *id;
	size_t i, n;

	if (!json_object_object_get_ex(rec, "ports", &a) || !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) != c->nports)
		return cni_fail(e, CNI_E_IO, "the record %s does not hold %u ports: the "
				"configuration changed since ADD? DEL it first", path, c->nports);
	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(a, i), "id", &id) ||
		    json_object_get_int64(id) < 0 || json_object_get_int64(id) > 65535)
			return cni_fail(e, CNI_E_IO, "the record %s has a port without an id", path);
		port_make(c, v, (unsigned)i, (unsigned)json_object_get_int64(id), &p[i]);
	}
	return (int)n;
}

static struct json_object *rec_new(const struct cni_conf *c, const struct env *v,
				   const struct port *p)
{
	struct json_object *rec = json_object_new_object(), *a = json_object_new_array();
	unsigned i;

	json_object_object_add(rec, "network", json_object_new_string(c->name));
	json_object_object_add(rec, "containerID", json_object_new_string(v->cid));
	json_object_object_add(rec, "ifname", json_object_new_string(v->ifname));
	json_object_object_add(rec, "netns", json_object_new_string(v->netns));
	json_object_object_add(rec, "switch_ctl", json_object_new_string(c->switch_ctl));
	json_object_object_add(rec, "memif_socket", json_object_new_string(c->memif_socket));
	for (i = 0; i < c->nports; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "port", json_object_new_string(c->port[i]));
		json_object_object_add(o, "name", json_object_new_string(p[i].name));
		json_object_object_add(o, "id", json_object_new_int((int)p[i].id));
		json_object_array_add(a, o);
	}
	json_object_object_add(rec, "ports", a);
	return rec;
}

/* DIR/CID/IFNAME.conf for the pod: its VNF's port lines. */
static void port_file_path(const struct cni_conf *c, const struct env *v, char *path, size_t n)
{
	snprintf(path, n, "%s/%s/%s.conf", c->port_file_dir, v->cid, v->ifname);
}

static int port_file_write(const struct cni_conf *c, const struct env *v, const struct port *p,
			   struct json_object *result, struct cni_err *e)
{
	struct json_object *ips, *o;
	char path[600], tmp[620];
	unsigned i;
	size_t k;
	FILE *f;

	port_file_path(c, v, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (nf_mkdir_parent(path) < 0 || (f = fopen(tmp, "w")) == NULL)
		return cni_fail(e, CNI_E_IO, "cannot create %s: %s", tmp, strerror(errno));
	fprintf(f, "# nfchain-cni: network %s, container %s, interface %s\n", c->name, v->cid,
		v->ifname);
	if (json_object_object_get_ex(result, "ips", &ips))
		for (k = 0; k < json_object_array_length(ips); k++)
			if (json_object_object_get_ex(json_object_array_get_idx(ips, k), "address", &o))
				fprintf(f, "# address %s\n", json_object_get_string(o));
	for (i = 0; i < c->nports; i++)
		fprintf(f, "port %s %s mac %s\n", c->port[i], p[i].spec, p[i].mac);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return cni_fail(e, CNI_E_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

static void port_file_remove(const struct cni_conf *c, const struct env *v)
{
	char path[600];

	if (c->port_file_dir[0] == '\0')
		return;
	port_file_path(c, v, path, sizeof(path));
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);		/* when empty */
}

/* --- the result --- */

/* A copy of @prev's array @key (or an empty array). */
static struct json_object *copy_array(struct json_object *prev, const char *key)
{
	struct json_object *a, *out = json_object_new_array();
	size_t i;

	if (prev != NULL && json_object_object_get_ex(prev, key, &a) &&
	    json_object_is_type(a, json_type_array))
		for (i = 0; i < json_object_array_length(a); i++)
			json_object_array_add(out, json_object_get(json_object_array_get_idx(a, i)));
	return out;
}

static void append(struct json_object *to, struct json_object *from, const char *key, int iface)
{
	struct json_object *a;
	size_t i;

	if (from == NULL || !json_object_object_get_ex(from, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		if (iface >= 0 && json_object_is_type(o, json_type_object))
			json_object_object_add(o, "interface", json_object_new_int(iface));
		json_object_array_add(to, json_object_get(o));
	}
}

/* prevResult's interfaces, ips, routes and dns, then ours: our memif
 * ports, IPAM's addresses (on our first port), routes and dns. */
static struct json_object *result_make(const struct cni_conf *c, const struct env *v,
				       const struct port *p, struct json_object *ipam)
{
	struct json_object *r = json_object_new_object(), *ifs, *ips, *routes, *dns = NULL;
	unsigned i;
	int first;

	json_object_object_add(r, "cniVersion", json_object_new_string(cni_versions[c->ver]));
	ifs = copy_array(c->prev, "interfaces");
	first = (int)json_object_array_length(ifs);
	for (i = 0; i < c->nports; i++) {
		struct json_object *o = json_object_new_object(), *m = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(p[i].ifname));
		json_object_object_add(o, "mac", json_object_new_string(p[i].mac));
		json_object_object_add(o, "sandbox", json_object_new_string(v->netns));
		json_object_object_add(o, "socketPath", json_object_new_string(c->memif_socket));
		json_object_object_add(m, "id", json_object_new_int((int)p[i].id));
		json_object_object_add(m, "role", json_object_new_string("client"));
		json_object_object_add(m, "port", json_object_new_string(c->port[i]));
		json_object_object_add(m, "switchPort", json_object_new_string(p[i].name));
		json_object_object_add(o, "memif", m);
		json_object_array_add(ifs, o);
	}
	json_object_object_add(r, "interfaces", ifs);
	ips = copy_array(c->prev, "ips");
	append(ips, ipam, "ips", first);
	json_object_object_add(r, "ips", ips);
	routes = copy_array(c->prev, "routes");
	append(routes, ipam, "routes", -1);
	json_object_object_add(r, "routes", routes);
	if (ipam != NULL && json_object_object_get_ex(ipam, "dns", &dns) &&
	    json_object_object_length(dns) > 0)
		json_object_object_add(r, "dns", json_object_get(dns));
	else if (c->prev != NULL && json_object_object_get_ex(c->prev, "dns", &dns))
		json_object_object_add(r, "dns", json_object_get(dns));
	else if (c->dns != NULL)
		json_object_object_add(r, "dns", json_object_get(c->dns));
	return r;
}

/* --- commands --- */

/* A command's start: the environment (CNI_NETNS required when @netns),
 * the state lock, the record's path. Returns the lock, or -1 with @e. */
static int begin(const struct cni_conf *c, bool netns, bool excl, struct env *v, char *path,
		 size_t size, struct cni_err *e)
{
	int lock;

	if (read_env(v, netns, e) < 0)
		return -1;
	lock = cni_state_lock(c->state_dir, excl, e);
	if (lock >= 0)
		cni_state_path(c, v->cid, v->ifname, path, size);
	return lock;
}

/* Undo an ADD that failed after @added ports (and IPAM when @ipam). */
static void add_undo(const struct cni_conf *c, const struct port *p, const bool *added,
		     bool ipam, const char *text, size_t len)
{
	struct cni_err e = { 0 };
	unsigned i;

	for (i = 0; i < c->nports; i++)
		if (added[i])
			sw_remove(c, p[i].name);
	if (ipam)
		cni_ipam_exec(c, "DEL", text, len, NULL, &e);
}

static int cmd_add(const struct cni_conf *c, const char *text, size_t len, struct cni_err *e)
{
	struct json_object *rec = NULL, *ipam = NULL, *result = NULL, *stored;
	static uint8_t used[65536 / 8];
	char path[600], names[CNI_PORTS_MAX][128];
	struct port p[CNI_PORTS_MAX];
	bool added[CNI_PORTS_MAX] = { false }, ran_ipam = false;
	struct env v;
	struct stat st;
	unsigned i, id;
	int lock = -1, ret = -1, have;

	lock = begin(c, true, true, &v, path, sizeof(path), e);
	if (lock < 0)
		return -1;
	if (stat(v.netns, &st) < 0) {
		cni_fail(e, CNI_E_UNKNOWN, "CNI_NETNS %s: %s", cni_show(v.netns), strerror(errno));
		goto out;
	}
	have = cni_state_read(path, &rec, e);
	if (have < 0)
		goto out;
	if (have) {
		/* ADD again: the recorded ids; re-add what the switch lost. */
		if (rec_ports(c, &v, rec, p, path, e) < 0)
			goto out;
		for (i = 0; i < c->nports; i++)
			if (sw_ensure(c, &p[i], &added[i], e) < 0)
				goto undo;
		if (json_object_object_get_ex(rec, "result", &stored)) {
			print_json(stored);
			ret = 0;
			goto out;
		}
		/* A record without result: an ADD died half-way. Redo IPAM. */
		if (c->ipam != NULL)
			cni_ipam_exec(c, "DEL", text, len, NULL, e);
		*e = (struct cni_err){ 0 };
	} else {
		for (i = 0; i < c->nports; i++)
			port_make(c, &v, i, 0, &p[i]), strcpy(names[i], p[i].name);
		memset(used, 0, sizeof(used));
		if (cni_state_used(c->state_dir, c->memif_socket, used, names, c->nports, e) < 0)
			goto out;
		for (i = 0, id = c->id_min; i < c->nports; i++, id++) {
			while (id <= c->id_max && (used[id / 8] & (1u << (id % 8))))
				id++;
			if (id > c->id_max) {
				cni_fail(e, CNI_E_NOID, "no free memif id from %u to %u on %s",
					 c->id_min, c->id_max, c->memif_socket);
				goto out;
			}
			port_make(c, &v, i, id, &p[i]);
		}
		/* Reserve the ids before touching the switch. */
		rec = rec_new(c, &v, p);
		if (cni_state_write(path, rec, e) < 0)
			goto out;
		for (i = 0; i < c->nports; i++)
			if (sw_ensure(c, &p[i], &added[i], e) < 0)
				goto undo;
	}
	if (c->ipam != NULL) {
		if (cni_ipam_exec(c, "ADD", text, len, &ipam, e) < 0) {
			ran_ipam = true;	/* the spec: DEL after a failed ADD */
			goto undo;
		}
		ran_ipam = true;
	}
	result = result_make(c, &v, p, ipam);
	if (c->port_file_dir[0] && port_file_write(c, &v, p, result, e) < 0)
		goto undo;
	json_object_object_add(rec, "result", json_object_get(result));
	if (cni_state_write(path, rec, e) < 0)
		goto undo;
	print_json(result);
	ret = 0;
	goto out;
undo:
	add_undo(c, p, added, ran_ipam, text, len);
	if (!have) {
		unlink(path);
		port_file_remove(c, &v);
	}
out:
	json_object_put(result);
	json_object_put(ipam);
	json_object_put(rec);
	if (lock >= 0)
		close(lock);
	return ret;
}

/* The record's ports off the switch, by the names recorded (whatever the
 * configuration says now). */
static void del_ports(const struct cni_conf *c, struct json_object *rec)
{
	struct json_object *a, *name;
	size_t i;

	if (!json_object_object_get_ex(rec, "ports", &a) || !json_object_is_type(a, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(a); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(a, i), "name", &name) &&
		    json_object_is_type(name, json_type_string) &&
		    cni_name_ok(json_object_get_string(name), 127))
			sw_remove(c, json_object_get_string(name));
}

static int cmd_del(const struct cni_conf *c, const char *text, size_t len, struct cni_err *e)
{
	struct json_object *rec = NULL;
	char path[600];
	struct env v;
	int lock, have, ret = -1;

	lock = begin(c, false, true, &v, path, sizeof(path), e);
	if (lock < 0)
		return -1;
	have = cni_state_read(path, &rec, e);
	if (have < 0) {
		/* An unreadable record: forget it, DEL must converge. */
		fprintf(stderr, "nfchain-cni: %s (removed)\n", e->msg);
		*e = (struct cni_err){ 0 };
	}
	if (have > 0)
		del_ports(c, rec);
	/* IPAM DEL even without a record: a lease of an ADD that died. */
	if (c->ipam != NULL && cni_ipam_exec(c, "DEL", text, len, NULL, e) < 0)
		goto out;
	if (unlink(path) < 0 && errno != ENOENT) {
		cni_fail(e, CNI_E_IO, "cannot remove %s: %s", path, strerror(errno));
		goto out;
	}
	*strrchr(path, '/') = '\0';
	rmdir(path);		/* the network's directory, when empty */
	port_file_remove(c, &v);
	ret = 0;
out:
	json_object_put(rec);
	close(lock);
	return ret;
}

/* Our interfaces in the runtime's cached result (prevResult). */
static int check_prev(const struct cni_conf *c, const struct port *p, struct cni_err *e)
{
	struct json_object *a, *v;
	unsigned i;
	size_t k;

	if (!json_object_object_get_ex(c->prev, "interfaces", &a) ||
	    !json_object_is_type(a, json_type_array))
		return cni_fail(e, CNI_E_PORT, "prevResult lists no interfaces");
	for (i = 0; i < c->nports; i++) {
		for (k = 0; k < json_object_array_length(a); k++) {
			struct json_object *o = json_object_array_get_idx(a, k);

			if (json_object_object_get_ex(o, "name", &v) &&
			    strcmp(json_object_get_string(v), p[i].ifname) == 0 &&
			    json_object_object_get_ex(o, "mac", &v) &&
			    strcmp(json_object_get_string(v), p[i].mac) == 0)
				break;
		}
		if (k == json_object_array_length(a))
			return cni_fail(e, CNI_E_PORT, "prevResult lacks interface %s (mac %s)",
					p[i].ifname, p[i].mac);
	}
	return 0;
}

static int cmd_check(const struct cni_conf *c, const char *text, size_t len, struct cni_err *e)
{
	struct json_object *rec = NULL, *ports = NULL;
	struct port p[CNI_PORTS_MAX];
	char path[600];
	struct env v;
	unsigned i;
	int lock, ret = -1;

	if (c->ver < 2)
		return cni_fail(e, CNI_E_VERSION, "CHECK needs cniVersion 0.4.0 or later, not %s",
				cni_versions[c->ver]);
	lock = begin(c, true, false, &v, path, sizeof(path), e);
	if (lock < 0)
		return -1;
	switch (cni_state_read(path, &rec, e)) {
	case 0:
		cni_fail(e, CNI_E_UNKNOWN, "container %s has no interface %s on network %s",
			 v.cid, v.ifname, c->name);
		/* fall through */
	case -1:
		goto out;
	}
	if (rec_ports(c, &v, rec, p, path, e) < 0 || sw_req(c, "ports", &ports, e) < 0)
		goto out;
	for (i = 0; i < c->nports; i++) {
		const char *spec = sw_port_spec(ports, p[i].name);

		if (spec == NULL) {
			cni_fail(e, CNI_E_PORT, "the switch has no port %s (memif id %u): it "
				 "restarted? ADD again re-adds it", p[i].name, p[i].id);
			goto out;
		}
		if (strcmp(spec, p[i].spec) != 0) {
			cni_fail(e, CNI_E_PORT, "the switch's port %s is %s, not %s", p[i].name,
				 spec, p[i].spec);
			goto out;
		}
	}
	if (c->prev != NULL && check_prev(c, p, e) < 0)
		goto out;
	if (c->ipam != NULL && cni_ipam_exec(c, "CHECK", text, len, NULL, e) < 0)
		goto out;
	ret = 0;
out:
	json_object_put(ports);
	json_object_put(rec);
	close(lock);
	return ret;
}

/* VERSION: stdin may hold {"cniVersion": ...} (or nothing). */
static int cmd_version(const char *text, size_t len)
{
	struct json_object *in = len ? json_tokener_parse(text) : NULL, *o, *a, *v;
	const char *want = cni_versions[CNI_VERSIONS - 1];
	int i;

	if (in != NULL && json_object_is_type(in, json_type_object) &&
	    json_object_object_get_ex(in, "cniVersion", &v))
		for (i = 0; i < CNI_VERSIONS; i++)
			if (strcmp(json_object_get_string(v), cni_versions[i]) == 0)
				want = cni_versions[i];
	o = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(o, "cniVersion", json_object_new_string(want));
	for (i = 0; i < CNI_VERSIONS; i++)
		json_object_array_add(a, json_object_new_string(cni_versions[i]));
	json_object_object_add(o, "supportedVersions", a);
	print_json(o);
	json_object_put(o);
	json_object_put(in);
	return 0;
}

int main(int argc, char **argv)
{
	struct cni_err e = { 0 };
	struct cni_conf c = { .ver = -1 };
	const char *cmd;
	char *text;
	size_t len = 0;
	int ret;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("nfchain-cni: CNI spec 0.3.0 0.3.1 0.4.0 1.0.0\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "nfchain-cni: unknown argument '%s' (a runtime runs it without "
			"arguments; --help)\n", cni_show(argv[1]));
		return 2;
	}
	cmd = getenv("CNI_COMMAND");
	text = read_stdin(&len, &e);
	if (text == NULL)
		return error_result(&e, -1);
	if (cmd == NULL || *cmd == '\0') {
		cni_fail(&e, CNI_E_ENV, "CNI_COMMAND is not set (ADD, DEL, CHECK or VERSION)");
		goto fail;
	}
	if (strcmp(cmd, "VERSION") == 0) {
		cmd_version(text, len);
		free(text);
		return 0;
	}
	if (strcmp(cmd, "ADD") != 0 && strcmp(cmd, "DEL") != 0 && strcmp(cmd, "CHECK") != 0) {
		cni_fail(&e, CNI_E_ENV, "unknown CNI_COMMAND '%s' (ADD, DEL, CHECK or VERSION)",
			 cni_show(cmd));
		goto fail;
	}
	if (cni_conf_parse(text, len, &c, &e) < 0)
		goto fail;
	if (strcmp(cmd, "ADD") == 0)
		ret = cmd_add(&c, text, len, &e);
	else if (strcmp(cmd, "DEL") == 0)
		ret = cmd_del(&c, text, len, &e);
	else
		ret = cmd_check(&c, text, len, &e);
	if (ret < 0)
		goto fail;
	cni_conf_free(&c);
	free(text);
	return 0;
fail:
	ret = error_result(&e, c.ver);
	cni_conf_free(&c);
	free(text);
	return ret;
}
