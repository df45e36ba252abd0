/* metrics.c - nfswitch's Prometheus endpoint (--metrics ADDR:PORT).
 *
 * GET /metrics is answered from the replies of the control requests
 * "stats", "rules", "groups", "sids" and "steer-stats" (ctl.c,
 * steer_ctl.c): the same functions walk the same counters, so the two
 * views cannot disagree. Served between bursts like the control socket;
 * a scrape of a switch with 4 ports and a few rules takes some tens of
 * microseconds. The families are listed in docs/OPERATIONS.md.
 */
#include "sw.h"
#include "nf_metrics.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The reply of control request @req (a fresh object; NULL on failure). */
static struct json_object *ask(struct sw *sw, const char *req)
{
	struct json_object *o = json_object_new_object();
	char buf[32], *argv[1] = { buf };

	nf_strlcpy(buf, req, sizeof(buf));
	if (o != NULL && sw_ctl_handler(1, argv, o, sw) < 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static const struct nf_metrics_col port_cols[] = {
	{ "nfswitch_port_up", "gauge", "up",
	  "1 when the port's link is up (its peer connected), else 0." },
	{ "nfswitch_port_rx_packets_total", "counter", "rx_packets",
	  "Frames received on the port." },
	{ "nfswitch_port_rx_bytes_total", "counter", "rx_bytes",
	  "Bytes received on the port (frames without FCS)." },
	{ "nfswitch_port_tx_packets_total", "counter", "tx_packets",
	  "Frames transmitted on the port." },
	{ "nfswitch_port_tx_bytes_total", "counter", "tx_bytes",
	  "Bytes transmitted on the port." },
	{ "nfswitch_port_flooded_packets_total", "counter", "flooded",
	  "Frames sent to the port by flooding (unknown or broadcast destination)." },
	{ "nfswitch_port_connects_total", "counter", "connects",
	  "Times the port's peer connected." },
	{ "nfswitch_port_drops_total", "counter", "drops",
	  "Frames dropped, by port and reason (the reasons of the 'ports' control reply).",
	  "reason" },
	{ "nfswitch_port_disconnects_total", "counter", "disconnects",
	  "Times the port's peer was disconnected, by reason.", "reason" },
};

static const struct nf_metrics_col rule_cols[] = {
	{ "nfswitch_rule_packets_total", "counter", "packets",
	  "Frames that matched the steering rule (label: its id)." },
	{ "nfswitch_rule_bytes_total", "counter", "bytes",
	  "Bytes of the frames that matched the steering rule." },
};

static const struct nf_metrics_col sid_cols[] = {
	{ "nfswitch_sid_packets_total", "counter", "packets",
	  "Frames processed by the local SRv6 SID (label: the SID line)." },
	{ "nfswitch_sid_bytes_total", "counter", "bytes",
	  "Bytes processed by the local SRv6 SID." },
};

static void group_family(struct nf_metrics *m, struct json_object *groups, const char *name,
			 const char *type, const char *key, const char *help)
{
	size_t i, j;

	nf_metrics_family(m, name, type, help);
	for (i = 0; i < json_object_array_length(groups); i++) {
		struct json_object *g = json_object_array_get_idx(groups, i);
		struct json_object *mb = json_object_object_get(g, "members");

		for (j = 0; j < json_object_array_length(mb); j++) {
			struct json_object *e = json_object_array_get_idx(mb, j);
			struct json_object *v = json_object_object_get(e, key);
			char idx[24];

			snprintf(idx, sizeof(idx), "%zu", j);
			nf_metrics_u64(m, name, json_object_is_type(v, json_type_boolean) ?
				       (uint64_t)json_object_get_boolean(v) :
				       nf_metrics_ju64(e, key), "group",
				       json_object_get_string(json_object_object_get(g, "name")),
				       "member", idx, NULL);
		}
	}
}

/* Families of one sample: the number at key of the stats reply (0), its
 * "fdb" object (1) or the steer-stats reply (2). */
static const struct scalar {
	const char *name, *type;
	unsigned obj;
	const char *key, *help;
} scalar[] = {
	{ "nfswitch_fdb_entries", "gauge", 1, "entries", "MAC table entries in use." },
	{ "nfswitch_fdb_capacity", "gauge", 1, "capacity", "MAC table size." },
	{ "nfswitch_fdb_learned_total", "counter", 1, "learned", "MAC addresses learned." },
	{ "nfswitch_fdb_moved_total", "counter", 1, "moved",
	  "MAC addresses that moved to another port." },
	{ "nfswitch_fdb_aged_total", "counter", 1, "aged", "MAC table entries aged out." },
	{ "nfswitch_fdb_full_total", "counter", 1, "full",
	  "Addresses not learned because the MAC table was full." },
	{ "nfswitch_loops_total", "counter", 0, "loops", "Passes of the forwarding loop." },
	{ "nfswitch_bursts_total", "counter", 0, "bursts", "Non-empty receive bursts." },
	{ "nfswitch_rule_cache_misses_total", "counter", 2, "rule_cache_misses",
	  "Steering classifications that missed the rule cache." },
	{ "nfswitch_flow_cache_hits_total", "counter", 2, "flow_cache_hits",
	  "Frames steered from the flow cache." },
	{ "nfswitch_flow_cache_fills_total", "counter", 2, "flow_cache_fills",
	  "Flow cache entries filled." },
	{ "nfswitch_flow_cache_wide_fills_total", "counter", 2, "flow_cache_wide_fills",
	  "Flow cache entries filled for every flow to a destination." },
	{ "nfswitch_flow_cache_srv6_fills_total", "counter", 2, "flow_cache_srv6_fills",
	  "Flow cache entries filled for SRv6 frames that arrived." },
	{ "nfswitch_icmp_errors_sent_total", "counter", 2, "icmp_errors_sent",
	  "ICMPv6 errors the SRv6 endpoints sent." },
	{ "nfswitch_icmp_errors_limited_total", "counter", 2, "icmp_errors_limited",
	  "ICMPv6 errors not sent: over --icmp-rate." },
};

static void scalars(struct nf_metrics *m, struct json_object *st, struct json_object *fdb,
		    struct json_object *ss)
{
	struct json_object *from[3] = { st, fdb, ss };
	unsigned i;

	for (i = 0; i < NF_ARRAY_SIZE(scalar); i++) {
		nf_metrics_family(m, scalar[i].name, scalar[i].type, scalar[i].help);
		nf_metrics_u64(m, scalar[i].name,
			       nf_metrics_ju64(from[scalar[i].obj], scalar[i].key), NULL);
	}
}

static void write_metrics(struct sw *sw, struct nf_metrics *m, struct json_object *st,
			  struct json_object *rules, struct json_object *groups,
			  struct json_object *sids, struct json_object *ss)
{
	struct json_object *ports = json_object_object_get(st, "ports");
	struct json_object *fdb = json_object_object_get(st, "fdb");

	(void)sw;
	nf_metrics_one(m, "nfswitch_uptime_seconds", "gauge", "Seconds since the switch started.",
		       json_object_get_double(json_object_object_get(st, "uptime_s")));
	nf_metrics_one(m, "nfswitch_ports", "gauge", "Ports open.",
		       (double)json_object_array_length(ports));
	nf_metrics_json_table(m, ports, "port", "name", port_cols, NF_ARRAY_SIZE(port_cols));
	scalars(m, st, fdb, ss);
	nf_metrics_family(m, "nfswitch_steer_drops_total", "counter",
			  "Frames dropped by steering or SRv6 processing, by reason "
			  "(the reasons of the 'steer-stats' control reply; absent while 0).");
	nf_metrics_json_each(m, "nfswitch_steer_drops_total",
			     json_object_object_get(ss, "steer_drops"), "reason", NULL);
	rules = json_object_object_get(rules, "rules");
	nf_metrics_json_table(m, rules, "rule", "id", rule_cols, NF_ARRAY_SIZE(rule_cols));
	groups = json_object_object_get(groups, "groups");
	group_family(m, groups, "nfswitch_group_member_up", "gauge", "up",
		     "1 when the replica group member is in the group, else 0.");
	group_family(m, groups, "nfswitch_group_member_packets_total", "counter", "packets",
		     "Frames sent to the replica group member.");
	group_family(m, groups, "nfswitch_group_member_bytes_total", "counter", "bytes",
		     "Bytes sent to the replica group member.");
	sids = json_object_object_get(sids, "sids");
	nf_metrics_json_table(m, sids, "sid", "sid", sid_cols, NF_ARRAY_SIZE(sid_cols));
}

int sw_metrics_handler(const struct nf_http_req *rq, struct nf_http_resp *rs, void *arg)
{
	static const char *const reqs[] = { "stats", "rules", "groups", "sids", "steer-stats" };
	struct json_object *o[NF_ARRAY_SIZE(reqs)] = { NULL };
	struct sw *sw = arg;
	struct nf_metrics m;
	unsigned i;
	int ret = 0;

	if (!nf_metrics_request(rq, rs))
		return 0;
	for (i = 0; i < NF_ARRAY_SIZE(reqs); i++) {
		o[i] = ask(sw, reqs[i]);
		if (o[i] == NULL) {
			ret = -ENOMEM;
			nf_set_error("the '%s' request failed: %s", reqs[i], nf_last_error());
			goto out;
		}
	}
	nf_metrics_begin(&m, rs);
	write_metrics(sw, &m, o[0], o[1], o[2], o[3], o[4]);
	ret = nf_metrics_end(&m);
out:
	for (i = 0; i < NF_ARRAY_SIZE(reqs); i++)
		json_object_put(o[i]);
	return ret;
}
