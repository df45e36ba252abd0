/* ctl.c - nfswitch control commands (served between bursts).
 *
 *   ports                      every port: spec, state, counters, drops
 *   stats                      switch totals and per-port counters
 *   fdb                        MAC table entries
 *   port-add SPEC [NAME]       open a port at runtime
 *   port-del NAME|INDEX        close a port at runtime
 *   fdb-flush [NAME|INDEX]     forget learned MACs (of one port)
 *   fdb-add MAC PORT [VLAN]    static entry: never aged, never moved
 *   fdb-del MAC [VLAN]         remove one entry (learned or static)
 *   captures, capture-start, capture-stop   port capture (cap.c)
 */
#include "sw.h"
#include "steer.h"
#include "nf_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static struct json_object *port_json(struct sw *sw, struct sw_port *sp)
{
	const struct nf_port_stats *st = nf_port_stats(sp->p);
	struct json_object *o = json_object_new_object();
	struct json_object *drops = json_object_new_object();
	struct json_object *discs = json_object_new_object();
	char d[512];
	unsigned i;

	(void)sw;
	nf_port_describe(sp->p, d, sizeof(d));
	json_object_object_add(o, "index", json_object_new_int(nf_port_index(sp->p)));
	json_object_object_add(o, "name", json_object_new_string(nf_port_name(sp->p)));
	json_object_object_add(o, "type", json_object_new_string(nf_port_type(sp->p)));
	json_object_object_add(o, "spec", json_object_new_string(sp->spec));
	json_object_object_add(o, "up", json_object_new_boolean(nf_port_is_up(sp->p)));
	json_object_object_add(o, "detail", json_object_new_string(d));
	json_object_object_add(o, "rx_packets", u64(st->rx_pkts));
	json_object_object_add(o, "rx_bytes", u64(st->rx_bytes));
	json_object_object_add(o, "tx_packets", u64(st->tx_pkts));
	json_object_object_add(o, "tx_bytes", u64(st->tx_bytes));
	json_object_object_add(o, "flooded", u64(sp->flooded));
	json_object_object_add(o, "connects", u64(st->connects));
	for (i = 0; i < NF_DROP_MAX; i++)
		json_object_object_add(drops, nf_drop_name(i), u64(st->drops[i]));
	for (i = 0; i < SW_DROP_MAX; i++)
		json_object_object_add(drops, sw_drop_name(i), u64(sp->drops[i]));
	for (i = 0; i < NF_DISC_MAX; i++)
		json_object_object_add(discs, nf_disc_name(i), u64(st->discs[i]));
	json_object_object_add(o, "drops", drops);
	json_object_object_add(o, "disconnects", discs);
	return o;
}

static int cmd_ports(struct sw *sw, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	unsigned i;

	for (i = 0; i < sw->nactive; i++)
		json_object_array_add(a, port_json(sw, &sw->ports[sw->active[i]]));
	json_object_object_add(reply, "ports", a);
	return 0;
}

static int cmd_stats(struct sw *sw, struct json_object *reply)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(reply, "uptime_s",
			       json_object_new_double((double)(nf_now_ns() - sw->start_ns) / 1e9));
	json_object_object_add(reply, "mode", json_object_new_string(sw->intr ? "intr" :
							      sw->yield ? "yield" : "busy"));
	json_object_object_add(reply, "yields", u64(sw->yields));
	json_object_object_add(reply, "burst", json_object_new_int((int)sw->burst));
	json_object_object_add(reply, "loops", u64(sw->loops));
	json_object_object_add(reply, "idle_sleeps", u64(sw->idle_sleeps));
	json_object_object_add(reply, "polls", u64(sw->polls));
	json_object_object_add(reply, "bursts", u64(sw->bursts));
	json_object_object_add(reply, "avg_burst", json_object_new_double(
		sw->bursts ? (double)sw->burst_pkts / (double)sw->bursts : 0.0));
	json_object_object_add(f, "entries", u64(sw->fdb.count));
	json_object_object_add(f, "capacity", u64(sw->fdb.max));
	json_object_object_add(f, "age_s", u64(sw->fdb.age_s));
	json_object_object_add(f, "learned", u64(sw->fdb.learned));
	json_object_object_add(f, "moved", u64(sw->fdb.moved));
	json_object_object_add(f, "aged", u64(sw->fdb.aged));
	json_object_object_add(f, "full", u64(sw->fdb.full));
	json_object_object_add(reply, "fdb", f);
	return cmd_ports(sw, reply);
}

static int cmd_fdb(struct sw *sw, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	uint32_t i;

	for (i = 0; i <= sw->fdb.mask; i++) {
		const struct nf_fdb_entry *e = &sw->fdb.tab[i];
		struct json_object *o;
		uint64_t mac = e->key & 0xffffffffffffull;
		char m[18];

		if (e->key == NF_FDB_EMPTY)
			continue;
		snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x",
			 (unsigned)(mac >> 40) & 0xff, (unsigned)(mac >> 32) & 0xff,
			 (unsigned)(mac >> 24) & 0xff, (unsigned)(mac >> 16) & 0xff,
			 (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
		o = json_object_new_object();
		json_object_object_add(o, "mac", json_object_new_string(m));
		json_object_object_add(o, "vlan", json_object_new_int((int)(e->key >> 48)));
		json_object_object_add(o, "port", json_object_new_string(
			sw->ports[e->port].p ? nf_port_name(sw->ports[e->port].p) : "?"));
		json_object_object_add(o, "static", json_object_new_boolean(
			e->flags & NF_FDB_STATIC));
		json_object_object_add(o, "age_s", u64(e->flags & NF_FDB_STATIC ? 0 :
						      sw->now_s - e->seen));
		json_object_array_add(a, o);
	}
	json_object_object_add(reply, "fdb", a);
	return 0;
}

int sw_ctl_handler(int argc, char **argv, struct json_object *reply, void *arg)
{
	struct sw *sw = arg;
	const char *cmd = argv[0];
	int ret;

	if (strcmp(cmd, "ports") == 0 && argc == 1)
		return cmd_ports(sw, reply);
	if (strcmp(cmd, "stats") == 0 && argc == 1)
		return cmd_stats(sw, reply);
	if (strcmp(cmd, "fdb") == 0 && argc == 1)
		return cmd_fdb(sw, reply);
	if (strcmp(cmd, "port-add") == 0 && (argc == 2 || argc == 3)) {
		ret = sw_port_add(sw, argv[1], argc == 3 ? argv[2] : NULL);
		if (ret < 0)
			return ret;
		json_object_object_add(reply, "index", json_object_new_int(ret));
		json_object_object_add(reply, "name", json_object_new_string(
			nf_port_name(sw->ports[ret].p)));
		return 0;
	}
	if (strcmp(cmd, "port-del") == 0 && argc == 2)
		return sw_port_del(sw, argv[1]);
	if (strcmp(cmd, "fdb-flush") == 0 && argc <= 2) {
		int port = -1;
		uint32_t n;

		if (argc == 2) {
			struct sw_port *sp = sw_port_find(sw, argv[1]);

			if (sp == NULL) {
				nf_set_error("no port '%s'", argv[1]);
				return -ENOENT;
			}
			port = nf_port_index(sp->p);
		}
		n = nf_fdb_flush(&sw->fdb, port, false);
		json_object_object_add(reply, "flushed", json_object_new_int((int)n));
		return 0;
	}
	if ((strcmp(cmd, "fdb-add") == 0 && (argc == 3 || argc == 4)) ||
	    (strcmp(cmd, "fdb-del") == 0 && (argc == 2 || argc == 3))) {
		bool add = cmd[4] == 'a';
		const char *vs = argc == (add ? 4 : 3) ? argv[argc - 1] : "0";
		uint8_t mac[6];
		uint64_t vlan;
		uint64_t key;

		if (nf_parse_mac(argv[1], mac) < 0) {
			nf_set_error("'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", argv[1]);
			return -EINVAL;
		}
		if (nf_parse_u64(vs, 0, 4095, 0, &vlan) < 0) {
			nf_set_error("VLAN '%s' is not 0..4095", vs);
			return -EINVAL;
		}
		key = nf_fdb_key(nf_mac48(mac), (uint16_t)vlan);
		if (!add) {
			if (nf_fdb_del(&sw->fdb, key) < 0) {
				nf_set_error("no entry for %s on VLAN %s", argv[1], vs);
				return -ENOENT;
			}
			return 0;
		}
		{
			struct sw_port *sp = sw_port_find(sw, argv[2]);

			if (sp == NULL) {
				nf_set_error("no port '%s'", argv[2]);
				return -ENOENT;
			}
			if (mac[0] & 1) {
				nf_set_error("%s is a multicast address", argv[1]);
				return -EINVAL;
			}
			if (nf_fdb_add_static(&sw->fdb, key, nf_port_index(sp->p)) < 0) {
				nf_set_error("MAC table full");
				return -ENOSPC;
			}
		}
		return 0;
	}
	ret = sw_cap_ctl(sw, argc, argv, reply);
	if (ret != -ENOENT || nf_last_error()[0] != '\0')
		return ret;
	{
		/* -ENOENT without a sentence: not a steering request. */
		int ret = st_ctl(sw, argc, argv, reply);

		if (ret != -ENOENT || nf_last_error()[0] != '\0')
			return ret;
	}
	nf_set_error("unknown request '%s' or wrong arguments (known: ports, stats, "
		     "fdb, port-add SPEC [NAME], port-del PORT, fdb-flush [PORT], "
		     "fdb-add MAC PORT [VLAN], fdb-del MAC [VLAN], steering, steer-load FILE, "
		     "steer-clear, steer-stats, rules, rule-add ..., rule-del ID, groups, "
		     "group-add NAME MEMBER..., group-del NAME, group-member-del NAME I, "
		     "group-member-set NAME I MEMBER, sids, sid-add ADDR BEHAVIOUR..., "
		     "sid-del ADDR, tos IN OUT LAYER..., tos-off, captures, capture-start PORT SINK "
		     "[rx|tx|both] [snaplen N] [filter EXPR...], capture-stop ID|SINK)", cmd);
	return -EINVAL;
}
