/* main.c - nfchain, the command-line front end.
 *
 *   nfchain switch [--ctl PATH] [--json] ports|stats|fdb
 *   nfchain switch [--ctl PATH] add-port SPEC [NAME] | del-port PORT |
 *                  flush-fdb [PORT]
 *
 * Talks to a running nfswitch over its control socket (nf_ctl) and prints
 * tables for humans, or the raw JSON with --json.
 */
#include "box.h"
#include "capture.h"
#include "cluster.h"
#include "nf_ctl.h"
#include "up.h"
#include "nf_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEF_CTL "/run/nfchain/nfswitch.ctl"

static void usage(FILE *f)
{
	fprintf(f,
"usage: nfchain COMMAND ...\n"
"\n"
"Commands:\n"
"  up [-d] [-n] [--run-dir DIR] [--timeout MS] FILE\n"
"                            run the deployment FILE describes (docs/ORCHESTRATOR.md):\n"
"                            nfswitch, every VNF replica (runc containers or\n"
"                            processes), the steering; a live table until Ctrl-C,\n"
"                            then everything is torn down. -d: detach (a daemon;\n"
"                            the commands below talk to it); -n: check FILE, print\n"
"                            the steering it gives, start nothing\n"
"  status [--json]           the deployment's replicas: state, pps, drops, restarts\n"
"  apply FILE                move the running deployment to a changed FILE\n"
"  scale VNF N               run N replicas of VNF (0..16)\n"
"  logs VNF[.I]|switch|agent  a replica's (every replica's) log\n"
"  down                      tear the deployment down (also cleans what a crashed\n"
"                            agent left)\n"
"    (status, apply, scale, logs, down take [--name NAME] [--run-dir DIR]; with one\n"
"    deployment running the name is not needed; DIR: $NFCHAIN_RUN_DIR or /run/nfchain)\n"
"\n"
"  switch [--ctl PATH] [--json] ports        ports, state and counters\n"
"  switch [--ctl PATH] [--json] stats        totals, MAC table, ports\n"
"  switch [--ctl PATH] [--json] fdb          learned MAC addresses\n"
"  switch [--ctl PATH] add-port SPEC [NAME]  open a port at runtime\n"
"  switch [--ctl PATH] del-port PORT         close a port (name or index)\n"
"  switch [--ctl PATH] flush-fdb [PORT]      forget learned addresses\n"
"  switch [--ctl PATH] add-mac MAC PORT [VLAN]  static MAC table entry\n"
"  switch [--ctl PATH] del-mac MAC [VLAN]    remove a MAC table entry\n"
"  switch [--ctl PATH] steering | load-steering FILE | clear-steering |\n"
"         steer-stats | rules | add-rule [id N] [priority P] MATCH... action\n"
"         ACTION... | del-rule ID | groups | add-group NAME MEMBER... |\n"
"         del-group NAME | del-member NAME I | set-member NAME I MEMBER | sids |\n"
"         add-sid ADDR BEHAVIOUR ARGS... | del-sid ADDR | tos IN OUT LAYER... |\n"
"         tos-off                          service chaining (docs/STEERING.md)\n"
"  switch [--ctl PATH] captures | start-capture PORT SINK [rx|tx|both]\n"
"         [snaplen N] [filter EXPR...] | stop-capture ID|SINK\n"
"                                           the switch's port captures (the\n"
"                                           requests nfchain capture makes)\n"
"\n"
"  capture [--ctl PATH | --name NAME [--run-dir DIR]] [-f FILTER] [-c COUNT]\n"
"          [-d SECONDS] [-s SNAPLEN] [--rx|--tx] [--pcapng] -w FILE|- TARGET...\n"
"                            copy the frames passing switch ports (a port, a\n"
"                            VNF replica fw.0, a VNF type fw) into a pcap file\n"
"                            without stopping traffic; FILTER: libpcap's syntax\n"
"                            (nfchain capture --help)\n"
"\n"
"  vnf CTL [--json] stats                     a VNF's ports, stages, drops\n"
"  vnf CTL conf DIRECTIVE...                  a runtime configuration change\n"
"                                             (nf-router: route ..., route-del ...)\n"
"  vnf CTL REQUEST...                         the VNF's own requests (nf-router:\n"
"                                             routes, neighbors; nf-bridge: fdb)\n"
"  vnf CTL [--json] --batch FILE              one request a line (FILE '-': standard\n"
"                                             input); stops at the first that fails\n"
"\n"
"  controller [--etcd URLS]                  place deployments on the nodes of a\n"
"                                             cluster (docs/CLUSTER.md)\n"
"  node --name N --locator P --uplink SPEC --gateway MAC [--etcd URLS] ...\n"
"                                             the node agent of a cluster\n"
"  cluster apply FILE | delete NAME | status | wait   a cluster's descriptions\n"
"\n"
"  container run|rm ...                       one VNF in a runc container\n"
"                                             (nfchain container --help)\n"
"\n"
"--ctl defaults to " DEF_CTL ". CTL is a VNF's control socket (default\n"
"/run/nfchain/NAME.ctl). Exit status: 0 ok, 1 refused or unreachable,\n"
"2 usage error.\n");
}

static void __attribute__((noreturn)) die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "nfchain: %s%s%s (see nfchain --help)\n", msg,
		arg ? " " : "", arg ? arg : "");
	exit(2);
}

static uint64_t jget_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static const char *jget_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static void print_ports(struct json_object *reply)
{
	struct json_object *ports;
	size_t i, n;

	if (!json_object_object_get_ex(reply, "ports", &ports))
		return;
	n = json_object_array_length(ports);
	printf("%-4s %-28s %-8s %-5s %14s %14s %10s  %s\n", "idx", "name", "type",
	       "state", "rx_packets", "tx_packets", "drops", "detail");
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *d, *x;
		uint64_t drops = 0;
		char dropstr[512] = "";
		size_t used = 0;

		if (json_object_object_get_ex(p, "drops", &d)) {
			json_object_object_foreach(d, k, v) {
				uint64_t c = (uint64_t)json_object_get_int64(v);

				if (c == 0)
					continue;
				drops += c;
				if (used < sizeof(dropstr))
					used += (size_t)snprintf(dropstr + used,
						sizeof(dropstr) - used, " %s=%" PRIu64, k, c);
			}
		}
		if (json_object_object_get_ex(p, "disconnects", &x)) {
			json_object_object_foreach(x, k, v) {
				uint64_t c = (uint64_t)json_object_get_int64(v);

				if (c != 0 && used < sizeof(dropstr))
					used += (size_t)snprintf(dropstr + used,
						sizeof(dropstr) - used, " disc:%s=%" PRIu64, k, c);
			}
		}
		printf("%-4" PRIu64 " %-28.28s %-8s %-5s %14" PRIu64 " %14" PRIu64
		       " %10" PRIu64 "  %s%s\n", jget_u64(p, "index"),
		       jget_str(p, "name"), jget_str(p, "type"),
		       json_object_get_boolean(json_object_object_get(p, "up")) ? "up" : "down",
		       jget_u64(p, "rx_packets"), jget_u64(p, "tx_packets"), drops,
		       jget_str(p, "detail"), dropstr);
	}
}

static void print_fdb(struct json_object *reply)
{
	struct json_object *fdb;
	size_t i, n;

	if (!json_object_object_get_ex(reply, "fdb", &fdb))
		return;
	n = json_object_array_length(fdb);
	printf("%-17s %-5s %-28s %s\n", "mac", "vlan", "port", "age_s");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(fdb, i);

		if (json_object_get_boolean(json_object_object_get(e, "static")))
			printf("%-17s %-5" PRIu64 " %-28s static\n", jget_str(e, "mac"),
			       jget_u64(e, "vlan"), jget_str(e, "port"));
		else
			printf("%-17s %-5" PRIu64 " %-28s %" PRIu64 "\n", jget_str(e, "mac"),
			       jget_u64(e, "vlan"), jget_str(e, "port"), jget_u64(e, "age_s"));
	}
	printf("%zu entries\n", n);
}

/* captures, capture-stop: one line per capture with its counters. */
static void print_captures(struct json_object *reply)
{
	struct json_object *a;
	size_t i, n;

	if (!json_object_object_get_ex(reply, "captures", &a))
		return;
	n = json_object_array_length(a);
	printf("%-3s %-28s %-16s %-4s %7s %12s %12s %12s %12s  %s\n", "id", "port", "sink",
	       "dir", "snaplen", "seen", "captured", "dropped", "filtered", "filter");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		printf("%-3" PRIu64 " %-28.28s %-16.16s %-4s %7" PRIu64 " %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 "  %s\n", jget_u64(e, "id"), jget_str(e, "port"),
		       jget_str(e, "sink"), jget_str(e, "direction"), jget_u64(e, "snaplen"),
		       jget_u64(e, "seen"), jget_u64(e, "captured"), jget_u64(e, "capture_dropped"),
		       jget_u64(e, "filtered"), jget_str(e, "filter"));
	}
}

/* Steering replies as lines: rules, groups, SIDs with their counters. */
static void print_steering(const char *req, struct json_object *reply)
{
	struct json_object *a, *e;
	size_t i, j, n;

	if (json_object_object_get_ex(reply, "lines", &a)) {
		n = json_object_array_length(a);
		for (i = 0; i < n; i++)
			printf("%s\n", json_object_get_string(json_object_array_get_idx(a, i)));
	} else if (json_object_object_get_ex(reply, "rules", &a)) {
		n = json_object_array_length(a);
		printf("%-6s %-8s %12s %14s  %s\n", "id", "priority", "packets", "bytes", "rule");
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(a, i);
			printf("%-6" PRIu64 " %-8" PRIu64 " %12" PRIu64 " %14" PRIu64 "  %s\n",
			       jget_u64(e, "id"), jget_u64(e, "priority"), jget_u64(e, "packets"),
			       jget_u64(e, "bytes"), jget_str(e, "rule"));
		}
	} else if (json_object_object_get_ex(reply, "sids", &a)) {
		n = json_object_array_length(a);
		printf("%12s %14s  %s\n", "packets", "bytes", "sid");
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(a, i);
			printf("%12" PRIu64 " %14" PRIu64 "  %s\n", jget_u64(e, "packets"),
			       jget_u64(e, "bytes"), jget_str(e, "sid"));
		}
	} else if (json_object_object_get_ex(reply, "groups", &a)) {
		n = json_object_array_length(a);
		for (i = 0; i < n; i++) {
			struct json_object *m;

			e = json_object_array_get_idx(a, i);
			printf("group %s\n", jget_str(e, "name"));
			m = json_object_object_get(e, "members");
			for (j = 0; j < json_object_array_length(m); j++) {
				struct json_object *x = json_object_array_get_idx(m, j);

				printf("  %2zu %-5s %-16s %-16s %8" PRIu64 " entries %12" PRIu64
				       " packets\n", j,
				       json_object_get_boolean(json_object_object_get(x, "up")) ?
				       "up" : json_object_object_get_ex(x, "draining", NULL) ?
				       "drain" : "-", jget_str(x, "port"), jget_str(x, "return"),
				       jget_u64(x, "table_entries"), jget_u64(x, "packets"));
			}
			if (json_object_object_get_ex(e, "track_kept", NULL))
				printf("  track: %" PRIu64 " frames kept on draining members\n",
				       jget_u64(e, "track_kept"));
			if (json_object_object_get_ex(e, "hold", &m))
				printf("  hold: %" PRIu64 " queued of %" PRIu64 ", %" PRIu64 " held, %"
				       PRIu64 " released, %" PRIu64 " full, %" PRIu64 " too big, %"
				       PRIu64 " episodes (the last %" PRIu64 " us)\n",
				       jget_u64(m, "queued"), jget_u64(m, "capacity"),
				       jget_u64(m, "held"), jget_u64(m, "released"), jget_u64(m, "full"),
				       jget_u64(m, "too_big"), jget_u64(m, "episodes"),
				       jget_u64(m, "last_us"));
		}
	} else if (json_object_object_get_ex(reply, "steer_drops", &a)) {
		json_object_object_foreach(a, key, val)
			printf("%-28s %" PRIu64 "\n", key, (uint64_t)json_object_get_uint64(val));
		printf("%-28s %" PRIu64 "\n%-28s %" PRIu64 "\n%-28s %" PRIu64 "\n%-28s %" PRIu64
		       "\n%-28s %" PRIu64 "\n", "(rule cache misses)",
		       jget_u64(reply, "rule_cache_misses"),
		       "(flow cache hits)", jget_u64(reply, "flow_cache_hits"),
		       "(flow cache fills)", jget_u64(reply, "flow_cache_fills"),
		       "(of them wide)", jget_u64(reply, "flow_cache_wide_fills"),
		       "(of them SRv6)", jget_u64(reply, "flow_cache_srv6_fills"));
		printf("%-28s %" PRIu64 "\n%-28s %" PRIu64 "\n", "(ICMPv6 errors sent)",
		       jget_u64(reply, "icmp_errors_sent"), "(over --icmp-rate)",
		       jget_u64(reply, "icmp_errors_limited"));
	} else if (json_object_object_get_ex(reply, "message", &a)) {
		printf("%s\n", json_object_get_string(a));	/* what a change did */
	}
	(void)req;
}

static int cmd_switch(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { const char *cli, *req; int min, max; } cmds[] = {
		{ "ports", "ports", 0, 0 }, { "stats", "stats", 0, 0 },
		{ "fdb", "fdb", 0, 0 }, { "add-port", "port-add", 1, 2 },
		{ "del-port", "port-del", 1, 1 }, { "flush-fdb", "fdb-flush", 0, 1 },
		{ "add-mac", "fdb-add", 2, 3 }, { "del-mac", "fdb-del", 1, 2 },
		{ "steering", "steering", 0, 0 }, { "load-steering", "steer-load", 1, 1 },
		{ "clear-steering", "steer-clear", 0, 0 }, { "steer-stats", "steer-stats", 0, 0 },
		{ "rules", "rules", 0, 0 }, { "add-rule", "rule-add", 1, NF_CTL_WORDS - 1 },
		{ "del-rule", "rule-del", 1, 1 }, { "groups", "groups", 0, 0 },
		{ "add-group", "group-add", 2, NF_CTL_WORDS - 1 }, { "del-group", "group-del", 1, 1 },
		{ "del-member", "group-member-del", 2, 2 },
		{ "set-member", "group-member-set", 3, 3 }, { "sids", "sids", 0, 0 },
		{ "add-sid", "sid-add", 2, NF_CTL_WORDS - 1 }, { "del-sid", "sid-del", 1, 1 },
		{ "tos", "tos", 3, 10 }, { "tos-off", "tos-off", 0, 0 },
		{ "captures", "captures", 0, 0 },
		{ "start-capture", "capture-start", 2, NF_CTL_WORDS - 1 },
		{ "stop-capture", "capture-stop", 1, 1 },
	};
	const char *ctl = DEF_CTL;
	struct json_object *reply;
	char line[NF_CTL_LINE], *out = NULL;
	int json = 0, c, ret, i, k = -1;
	size_t used;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		case ':': die_usage("this option needs a value:", argv[optind - 1]);
		default: die_usage("unknown option for 'switch':", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage("'switch' needs a subcommand: ports, stats, fdb, add-port, "
			  "del-port, flush-fdb, add-mac, del-mac, captures, start-capture, "
			  "stop-capture, or a steering one "
			  "(nfchain --help)", NULL);
	for (i = 0; i < (int)NF_ARRAY_SIZE(cmds); i++)
		if (strcmp(argv[optind], cmds[i].cli) == 0)
			k = i;
	if (k < 0)
		die_usage("unknown switch subcommand", argv[optind]);
	if (argc - optind - 1 < cmds[k].min || argc - optind - 1 > cmds[k].max)
		die_usage("wrong number of arguments for", argv[optind]);
	used = (size_t)snprintf(line, sizeof(line), "%s", cmds[k].req);
	for (i = optind + 1; i < argc; i++) {
		if (strpbrk(argv[i], " \t\n") != NULL)
			die_usage("arguments cannot contain spaces:", argv[i]);
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %s", argv[i]);
		if (used >= sizeof(line))
			die_usage("arguments too long", NULL);
	}
	ret = nf_ctl_request(ctl, line, 5000, &out);
	if (ret < 0) {
		fprintf(stderr, "nfchain: cannot reach nfswitch at %s: %s\n", ctl,
			ret == -ETIMEDOUT ? "no answer within 5 s" : strerror(-ret));
		return 1;
	}
	reply = json_tokener_parse(out);
	if (reply == NULL) {
		fprintf(stderr, "nfchain: unreadable reply from %s\n", ctl);
		free(out);
		return 1;
	}
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		fprintf(stderr, "nfchain: %s\n", jget_str(reply, "error"));
		ret = 1;
	} else if (json) {
		fputs(out, stdout);
		ret = 0;
	} else {
		if (strcmp(cmds[k].req, "stats") == 0) {
			struct json_object *f = json_object_object_get(reply, "fdb");

			printf("uptime %.1f s, mode %s, burst %" PRIu64 ", MAC table %"
			       PRIu64 "/%" PRIu64 " (learned %" PRIu64 ", moved %" PRIu64
			       ", aged %" PRIu64 ", full %" PRIu64 ")\n",
			       json_object_get_double(json_object_object_get(reply, "uptime_s")),
			       jget_str(reply, "mode"), jget_u64(reply, "burst"),
			       jget_u64(f, "entries"), jget_u64(f, "capacity"),
			       jget_u64(f, "learned"), jget_u64(f, "moved"),
			       jget_u64(f, "aged"), jget_u64(f, "full"));
			print_ports(reply);
		} else if (strcmp(cmds[k].req, "ports") == 0) {
			print_ports(reply);
		} else if (strcmp(cmds[k].req, "fdb") == 0) {
			print_fdb(reply);
		} else if (strcmp(cmds[k].req, "port-add") == 0) {
			printf("added port %" PRIu64 " (%s)\n", jget_u64(reply, "index"),
			       jget_str(reply, "name"));
		} else if (strcmp(cmds[k].req, "captures") == 0 ||
			   strcmp(cmds[k].req, "capture-stop") == 0) {
			print_captures(reply);
		} else if (strcmp(cmds[k].req, "capture-start") == 0) {
			printf("capture %" PRIu64 " started\n", jget_u64(reply, "id"));
		} else if (strcmp(cmds[k].req, "fdb-flush") == 0) {
			printf("flushed %" PRIu64 " entries\n", jget_u64(reply, "flushed"));
		} else {
			print_steering(cmds[k].req, reply);
		}
		ret = 0;
	}
	json_object_put(reply);
	free(out);
	return ret;
}

/* A VNF's stats reply as tables: ports, stages, drops by reason, then the
 * VNF's own counters (objects of numbers) as NAME VALUE lines. */
static void print_vnf_stats(struct json_object *r)
{
	struct json_object *ports = json_object_object_get(r, "ports");
	struct json_object *st = json_object_object_get(r, "stages");
	struct json_object *drops = json_object_object_get(r, "drops");
	static const char *const stage[3] = { "pre", "process", "post" };
	size_t i, n = ports ? json_object_array_length(ports) : 0;
	int k;

	printf("%s: %" PRIu64 " bursts, %" PRIu64 " frames handled by the VNF, "
	       "%" PRIu64 " generated frames dropped\n", jget_str(r, "vnf"),
	       jget_u64(r, "bursts"), jget_u64(r, "handled"), jget_u64(r, "generated_dropped"));
	printf("%-10s %-5s %-17s %5s %14s %14s  %s\n", "port", "state", "mac", "mtu",
	       "rx_packets", "tx_packets", "port drops");
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);
		struct json_object *pd = json_object_object_get(p, "drops");

		printf("%-10s %-5s %-17s %5" PRIu64 " %14" PRIu64 " %14" PRIu64 " ",
		       jget_str(p, "name"),
		       json_object_get_boolean(json_object_object_get(p, "up")) ? "up" : "down",
		       jget_str(p, "mac"), jget_u64(p, "mtu"), jget_u64(p, "rx_packets"),
		       jget_u64(p, "tx_packets"));
		if (pd == NULL || !json_object_is_type(pd, json_type_object) ||
		    json_object_object_length(pd) == 0) {
			printf(" -\n");
			continue;
		}
		json_object_object_foreach(pd, dk, dv)
			printf(" %s=%" PRIu64, dk, (uint64_t)json_object_get_uint64(dv));
		printf("\n");
	}
	printf("%-10s %14s %14s\n", "stage", "in", "out");
	for (k = 0; k < 3; k++) {
		struct json_object *o = json_object_object_get(st, stage[k]);

		printf("%-10s %14" PRIu64 " %14" PRIu64 "\n", stage[k], jget_u64(o, "in"),
		       jget_u64(o, "out"));
	}
	printf("drops:");
	if (drops == NULL || json_object_object_length(drops) == 0)
		printf(" none");
	printf("\n");
	if (drops != NULL && json_object_is_type(drops, json_type_object)) {
		json_object_object_foreach(drops, dk, dv)
			printf("  %-28s %14" PRIu64 "\n", dk, (uint64_t)json_object_get_uint64(dv));
	}
	json_object_object_foreach(r, key, val) {
		if (!json_object_is_type(val, json_type_object) || strcmp(key, "stages") == 0 ||
		    strcmp(key, "drops") == 0)
			continue;
		printf("%s:\n", key);
		json_object_object_foreach(val, ck, cv)
			printf("  %-28s %14s\n", ck, json_object_get_string(cv));
	}
}

/* One request to the VNF at @ctl, its reply printed: compact JSON with
 * @plain, `stats` as tables when @table, indented JSON otherwise; or the
 * error sentence, after @where ("FILE:LINE: " in a batch, or ""). Returns
 * 0 or 1 (the exit status). */
static int vnf_request(const char *ctl, const char *line, int plain, bool table,
		       const char *where)
{
	struct json_object *reply;
	char *out = NULL;
	int ret;

	ret = nf_ctl_request(ctl, line, 10000, &out);
	if (ret < 0) {
		fprintf(stderr, "nfchain: %scannot reach the VNF at %s: %s\n", where, ctl,
			ret == -ETIMEDOUT ? "no answer within 10 s" : strerror(-ret));
		return 1;
	}
	reply = json_tokener_parse(out);
	if (reply == NULL) {
		fprintf(stderr, "nfchain: %sunreadable reply from %s\n", where, ctl);
		free(out);
		return 1;
	}
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		fprintf(stderr, "nfchain: %s%s\n", where, jget_str(reply, "error"));
		ret = 1;
	} else if (!plain && table) {
		print_vnf_stats(reply);
		ret = 0;
	} else {
		fputs(plain ? out : json_object_to_json_string_ext(reply,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
		if (!plain)
			fputc('\n', stdout);
		ret = 0;
	}
	json_object_put(reply);
	free(out);
	return ret;
}

/* --batch FILE ('-': standard input): one request a line, each on its own
 * connection; blank lines and '#' comments skipped. The first request that
 * fails (or a line too long) stops the batch with its line number. */
static int vnf_batch(const char *ctl, const char *path, int plain)
{
	const bool in = strcmp(path, "-") == 0;
	const char *name = in ? "<stdin>" : path;
	FILE *f = in ? stdin : fopen(path, "r");
	char line[NF_CTL_LINE + 1], where[300];
	unsigned lno = 0;
	int ret = 0;

	if (f == NULL) {
		fprintf(stderr, "nfchain: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (ret == 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		const char *p = line;

		snprintf(where, sizeof(where), "%s:%u: ", name, ++lno);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (len >= NF_CTL_LINE) {
			fprintf(stderr, "nfchain: %srequest too long (at most %d bytes)\n",
				where, NF_CTL_LINE - 1);
			ret = 1;
			break;
		}
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
			       line[len - 1] == '\t'))
			line[--len] = '\0';	/* CRLF files too */
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		ret = vnf_request(ctl, p, plain, false, where);
	}
	if (ret == 0 && ferror(f)) {
		fprintf(stderr, "nfchain: %s: read error\n", name);
		ret = 1;
	}
	if (!in)
		fclose(f);
	return ret;
}

/* nfchain vnf CTL [--json] REQUEST... | --batch FILE: the reply as
 * indented JSON (or plain with --json; stats as tables), or the error
 * sentence. */
static int cmd_vnf(int argc, char **argv)
{
	char line[NF_CTL_LINE];
	size_t used = 0;
	int i = 3, plain = 0;
	const char *ctl = argc > 2 ? argv[2] : "";

	if (argc < 4)
		die_usage("usage: nfchain vnf CTL [--json] REQUEST... | --batch FILE", NULL);
	if (strcmp(argv[i], "--json") == 0) {
		plain = 1;
		i++;
	}
	if (i < argc && strcmp(argv[i], "--batch") == 0) {
		if (i + 2 != argc)
			die_usage("--batch takes one FILE ('-': standard input), nothing after it",
				  NULL);
		return vnf_batch(ctl, argv[i + 1], plain);
	}
	if (i >= argc)
		die_usage("'vnf' needs a request: stats, conf ..., or the VNF's own", NULL);
	for (; i < argc; i++) {
		if (strpbrk(argv[i], "\n") != NULL)
			die_usage("arguments cannot contain newlines", NULL);
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
					 used ? " " : "", argv[i]);
		if (used >= sizeof(line))
			die_usage("request too long", NULL);
	}
	return vnf_request(ctl, line, plain, argc == 4 && strcmp(argv[3], "stats") == 0, "");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die_usage("missing command", NULL);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "switch") == 0)
		return cmd_switch(argc - 1, argv + 1);
	if (strcmp(argv[1], "vnf") == 0)
		return cmd_vnf(argc, argv);
	if (strcmp(argv[1], "up") == 0)
		return nc_cmd_up(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "down") == 0 ||
	    strcmp(argv[1], "scale") == 0 || strcmp(argv[1], "apply") == 0 ||
	    strcmp(argv[1], "logs") == 0)
		return nc_cmd_deploy(argc - 1, argv + 1);
	if (strcmp(argv[1], "capture") == 0)
		return nc_cmd_capture(argc - 1, argv + 1);
	if (strcmp(argv[1], "controller") == 0)
		return nc_cmd_controller(argc - 1, argv + 1);
	if (strcmp(argv[1], "node") == 0)
		return nc_cmd_node(argc - 1, argv + 1);
	if (strcmp(argv[1], "cluster") == 0)
		return nc_cmd_cluster(argc - 1, argv + 1);
	if (strcmp(argv[1], "container") == 0)
		return nc_box_main(argc - 1, argv + 1);
	die_usage("unknown command", argv[1]);
	return 2;
}
