/* main.c - nf-bridge: a VLAN-aware L2 learning bridge VNF.
 *
 *   vlan PORT access VID          untagged frames of the port belong to VID;
 *                                 frames leave it untagged (default: 1)
 *   vlan PORT trunk VID[,VID...]  tagged frames of the listed VLANs (or
 *                                 "all"); frames leave it tagged
 *   set fdb-size N / fdb-age SECONDS
 *
 * Stages (thesis table 5.1, L2 transparent):
 *   pre      the ingress VLAN: the tag (trunk port, VLAN allowed) or the
 *            port's access VLAN; frames of other VLANs are dropped
 *   process  learn (VLAN, source MAC) -> port, look the destination up:
 *            one port, or flood to every other port of the VLAN
 *   post     egress tagging: strip the tag towards an access port, push it
 *            towards a trunk port (those frames are copied, the others
 *            leave in place).
 * The FDB is nf_fdb (the switch's): ageing in slices from the tick,
 * entries of a port forgotten when its link goes down.
 */
#include "nf_fdb.h"
#include "nf_metrics.h"
#include "nf_util.h"
#include "nf_vnf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BR_DROPS(_)							\
	_(VLAN_NOT_ALLOWED, "vlan-not-allowed")				\
	_(TAGGED_ON_ACCESS, "tagged-on-access-port")			\
	_(UNTAGGED_ON_TRUNK, "untagged-on-trunk-port")			\
	_(SRC_MCAST,        "source-multicast")				\
	_(SAME_PORT,        "same-port")				\
	_(NO_PORT,          "flood-nowhere")

enum br_drop {
#define BR_DROP_ENUM(e, n) BR_DROP_##e,
	BR_DROPS(BR_DROP_ENUM)
#undef BR_DROP_ENUM
	BR_DROP_MAX
};

static const char *const br_drop_names[] = {
#define BR_DROP_NAME(e, n) n,
	BR_DROPS(BR_DROP_NAME)
#undef BR_DROP_NAME
};

#define VID_WORDS (4096 / 64)

struct br_port {
	bool trunk;
	uint16_t access_vid;
	uint64_t allowed[VID_WORDS];	/* trunk: allowed VLANs */
	uint64_t flooded;
};

struct br_settings {
	uint64_t fdb_size, fdb_age;
};

struct bridge {
	struct br_settings set;
	struct br_port port[NF_VNF_PORTS_MAX];
	bool configured[NF_VNF_PORTS_MAX];
	struct nf_fdb fdb;
	uint32_t now_s;
	uint64_t start_ns;
	uint64_t flooded, tag_pushed, tag_stripped;
};

static struct bridge br;

static const struct nf_conf_key br_keys[] = {
	{ "fdb-size", NF_CONF_U64, 16, 1u << 24, 65536, NULL,
	  offsetof(struct br_settings, fdb_size), "MAC table entries", false },
	{ "fdb-age", NF_CONF_U64, 1, 1000000, 300, NULL,
	  offsetof(struct br_settings, fdb_age), "MAC ageing time, seconds", false },
};

static inline bool vid_allowed(const struct br_port *bp, uint16_t vid)
{
	return bp->trunk ? (bp->allowed[vid >> 6] >> (vid & 63)) & 1 : bp->access_vid == vid;
}

static int dir_vlan(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	struct br_port *bp;
	uint64_t vid;
	int port;

	(void)c;
	(void)argc;
	port = nf_vnf_port_find(v, argv[1]);
	if (port < 0) {
		nf_set_error("no port '%s' (declare it first: port NAME SPEC)", argv[1]);
		return -EINVAL;
	}
	bp = &br.port[port];
	memset(bp, 0, sizeof(*bp));
	br.configured[port] = true;
	if (strcmp(argv[2], "access") == 0) {
		if (nf_parse_u64(argv[3], 1, 4094, 0, &vid) < 0) {
			nf_set_error("VLAN '%s': expected 1..4094", argv[3]);
			return -EINVAL;
		}
		bp->access_vid = (uint16_t)vid;
		return 0;
	}
	if (strcmp(argv[2], "trunk") != 0) {
		nf_set_error("expected access or trunk");
		return -EINVAL;
	}
	bp->trunk = true;
	if (strcmp(argv[3], "all") == 0) {
		memset(bp->allowed, 0xff, sizeof(bp->allowed));
		bp->allowed[0] &= ~1ull;			/* VID 0 */
		bp->allowed[VID_WORDS - 1] &= ~(1ull << 63);	/* VID 4095 */
		return 0;
	}
	{
		char list[256], *save = NULL, *tok;

		nf_strlcpy(list, argv[3], sizeof(list));
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (nf_parse_u64(tok, 1, 4094, 0, &vid) < 0) {
				nf_set_error("VLAN '%s': expected 1..4094", tok);
				return -EINVAL;
			}
			bp->allowed[vid >> 6] |= 1ull << (vid & 63);
		}
	}
	return 0;
}

static const struct nf_conf_dir br_dirs[] = {
	{ "vlan", 3, 3, dir_vlan, "vlan PORT access VID | trunk VID[,VID...]|all", false },
};

static int br_validate(struct nf_vnf *v)
{
	unsigned i;

	for (i = 0; i < v->nports; i++) {
		if (!br.configured[i]) {
			br.port[i].access_vid = 1;
			br.configured[i] = true;
		}
	}
	return 0;
}

static int br_start(struct nf_vnf *v)
{
	(void)v;
	br.start_ns = nf_now_ns();
	return nf_fdb_init(&br.fdb, (uint32_t)br.set.fdb_size, (uint32_t)br.set.fdb_age);
}

static void br_stop(struct nf_vnf *v)
{
	(void)v;
	nf_fdb_free(&br.fdb);
}

/* VLAN of each frame; the frame's verdict stays pending if admitted. */
static uint16_t br_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		       const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	const struct br_port *bp = &br.port[in];
	uint16_t i, pending = 0;

	for (i = 0; i < n; i++) {
		uint16_t vid;

		if (verdict[i] != NF_V_PENDING)
			continue;
		if (h[i].flags & NF_HDR_VLAN) {
			if (!bp->trunk) {
				nf_vnf_drop(v, verdict, i,
					    nf_vnf_reason(BR_DROP_TAGGED_ON_ACCESS));
				continue;
			}
			vid = h[i].vlan;
		} else {
			if (bp->trunk) {
				nf_vnf_drop(v, verdict, i,
					    nf_vnf_reason(BR_DROP_UNTAGGED_ON_TRUNK));
				continue;
			}
			vid = bp->access_vid;
		}
		if (!vid_allowed(bp, vid)) {
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(BR_DROP_VLAN_NOT_ALLOWED));
			continue;
		}
		pkts[i].user = vid;
		pending++;
	}
	return pending;
}

#define OUT_FLOOD 0xfff0u

static uint16_t br_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			   const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint64_t last_skey = UINT64_MAX, last_dkey = UINT64_MAX;
	int last_out = -1;
	uint16_t i, pending = 0;

	(void)h;
	for (i = 0; i < n; i++) {
		const uint8_t *e = pkts[i].data;
		uint16_t vid = (uint16_t)pkts[i].user;
		uint64_t skey, dkey;

		if (verdict[i] != NF_V_PENDING)
			continue;
		skey = nf_fdb_key(nf_mac48(e + 6), vid);
		if (skey != last_skey) {
			if (e[6] & 1) {
				nf_vnf_drop(v, verdict, i, nf_vnf_reason(BR_DROP_SRC_MCAST));
				continue;
			}
			nf_fdb_learn(&br.fdb, skey, (uint16_t)in, br.now_s);
			last_skey = skey;
		}
		dkey = nf_fdb_key(nf_mac48(e), vid);
		if (dkey != last_dkey) {
			last_dkey = dkey;
			last_out = (e[0] & 1) ? -1 : nf_fdb_lookup(&br.fdb, dkey);
		}
		if (last_out == (int)in) {
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(BR_DROP_SAME_PORT));
			continue;
		}
		verdict[i] = last_out < 0 ? OUT_FLOOD : (uint16_t)last_out;
		pending++;
	}
	return pending;
}

/* Copy frame @f (@len bytes, VLAN @vid, tagged iff @tagged) out of @port
 * with the port's tagging. */
static void send_tagged(struct nf_vnf *v, unsigned port, const uint8_t *f, uint32_t len,
			bool tagged, uint16_t vid)
{
	uint8_t buf[NF_FRAME_MAX];
	const struct br_port *bp = &br.port[port];

	if (bp->trunk && !tagged) {
		if (len + 4 > NF_FRAME_MAX)
			return;
		memcpy(buf, f, 12);
		buf[12] = 0x81;
		buf[13] = 0x00;
		buf[14] = (uint8_t)(vid >> 8);
		buf[15] = (uint8_t)vid;
		memcpy(buf + 16, f + 12, len - 12);
		br.tag_pushed++;
		nf_vnf_send(v, port, buf, len + 4);
	} else if (!bp->trunk && tagged) {
		memcpy(buf, f, 12);
		memcpy(buf + 12, f + 16, len - 16);
		br.tag_stripped++;
		nf_vnf_send(v, port, buf, len - 4);
	} else {
		nf_vnf_send(v, port, f, len);
	}
}

static uint16_t br_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
			const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint16_t i, out = 0;
	unsigned j;

	for (i = 0; i < n; i++) {
		const bool tagged = h[i].flags & NF_HDR_VLAN;
		const uint16_t vid = (uint16_t)pkts[i].user;
		unsigned o = verdict[i];

		if (o == OUT_FLOOD) {
			unsigned sent = 0;

			for (j = 0; j < v->nports; j++) {
				if (j == in || !vid_allowed(&br.port[j], vid) ||
				    !nf_port_is_up(v->port[j].p))
					continue;
				send_tagged(v, j, pkts[i].data, pkts[i].len, tagged, vid);
				br.port[j].flooded++;
				sent++;
			}
			br.flooded++;
			if (sent)
				verdict[i] = NF_V_HANDLED;
			else
				nf_vnf_drop(v, verdict, i, nf_vnf_reason(BR_DROP_NO_PORT));
			continue;
		}
		if (o >= v->nports)
			continue;
		if (!vid_allowed(&br.port[o], vid)) {	/* learned on another VLAN */
			nf_vnf_drop(v, verdict, i, nf_vnf_reason(BR_DROP_VLAN_NOT_ALLOWED));
			continue;
		}
		if (br.port[o].trunk != tagged) {
			send_tagged(v, o, pkts[i].data, pkts[i].len, tagged, vid);
			verdict[i] = NF_V_HANDLED;
			continue;
		}
		out++;
	}
	return out;
}

static void br_tick(struct nf_vnf *v, uint64_t now)
{
	(void)v;
	br.now_s = (uint32_t)((now - br.start_ns) / 1000000000ull);
	nf_fdb_age(&br.fdb, br.now_s, 1024);
}

static void br_link(struct nf_vnf *v, unsigned port, bool up)
{
	(void)v;
	if (!up)
		nf_fdb_flush(&br.fdb, (int)port, false);
}

static int br_ctl(struct nf_vnf *v, int argc, char **argv, struct json_object *reply)
{
	if (strcmp(argv[0], "fdb") == 0 && argc == 1) {
		struct json_object *a = json_object_new_array();
		uint32_t i;

		for (i = 0; i <= br.fdb.mask; i++) {
			const struct nf_fdb_entry *e = &br.fdb.tab[i];
			struct json_object *o;
			uint64_t m = e->key & 0xffffffffffffull;
			char mac[18];

			if (e->key == NF_FDB_EMPTY)
				continue;
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
				 (unsigned)(m >> 40) & 0xff, (unsigned)(m >> 32) & 0xff,
				 (unsigned)(m >> 24) & 0xff, (unsigned)(m >> 16) & 0xff,
				 (unsigned)(m >> 8) & 0xff, (unsigned)m & 0xff);
			o = json_object_new_object();
			json_object_object_add(o, "mac", json_object_new_string(mac));
			json_object_object_add(o, "vlan", json_object_new_int((int)(e->key >> 48)));
			json_object_object_add(o, "port", json_object_new_string(v->port[e->port].name));
			json_object_object_add(o, "age_s", json_object_new_int((int)(br.now_s - e->seen)));
			json_object_array_add(a, o);
		}
		json_object_object_add(reply, "fdb", a);
		return 0;
	}
	if (strcmp(argv[0], "fdb-flush") == 0 && argc == 1) {
		json_object_object_add(reply, "flushed",
				       json_object_new_int((int)nf_fdb_flush(&br.fdb, -1, false)));
		return 0;
	}
	return -ENOENT;
}

static void br_stats(struct nf_vnf *v, struct json_object *reply)
{
	struct json_object *o = json_object_new_object();

	(void)v;
	json_object_object_add(o, "fdb_entries", json_object_new_uint64(br.fdb.count));
	json_object_object_add(o, "learned", json_object_new_uint64(br.fdb.learned));
	json_object_object_add(o, "moved", json_object_new_uint64(br.fdb.moved));
	json_object_object_add(o, "aged", json_object_new_uint64(br.fdb.aged));
	json_object_object_add(o, "flooded", json_object_new_uint64(br.flooded));
	json_object_object_add(o, "tag_pushed", json_object_new_uint64(br.tag_pushed));
	json_object_object_add(o, "tag_stripped", json_object_new_uint64(br.tag_stripped));
	json_object_object_add(reply, "bridge", o);
}

static const struct nf_metrics_col br_cols[] = {
	{ "nfchain_bridge_fdb_entries", "gauge", "fdb_entries", "MAC table entries." },
	{ "nfchain_bridge_fdb_learned_total", "counter", "learned", "MAC addresses learned." },
	{ "nfchain_bridge_fdb_moved_total", "counter", "moved",
	  "MAC addresses that moved to another port." },
	{ "nfchain_bridge_fdb_aged_total", "counter", "aged", "MAC table entries aged out." },
	{ "nfchain_bridge_flooded_packets_total", "counter", "flooded",
	  "Frames flooded (unknown or broadcast destination)." },
};


static const struct nf_vnf_ops bridge_ops = {
	.name = "nf-bridge",
	.summary = "A VLAN-aware L2 learning bridge VNF: MAC learning with ageing,\n"
		   "flooding of unknown destinations, access and trunk ports.",
	.requests =
	"  fdb                    the MAC table: MAC, VLAN, port, age in seconds\n"
	"  fdb-flush              forget every learned MAC\n",
	.example =
		"  port a memif:/run/nfchain/sw.sock,id=1\n"
		"  port b afpacket:veth1\n"
		"  port t memif:/run/nfchain/sw.sock,id=2\n"
		"  vlan a access 10\n"
		"  vlan b access 20\n"
		"  vlan t trunk 10,20\n"
		"  set fdb-age 60\n",
	.dirs = br_dirs,
	.ndirs = NF_ARRAY_SIZE(br_dirs),
	.keys = br_keys,
	.nkeys = NF_ARRAY_SIZE(br_keys),
	.settings = &br.set,
	.drops = br_drop_names,
	.ndrops = BR_DROP_MAX,
	.l3 = false,
	.l2_only = true,
	.validate = br_validate,
	.start = br_start,
	.stop = br_stop,
	.pre = br_pre,
	.process = br_process,
	.post = br_post,
	.tick = br_tick,
	.ctl = br_ctl,
	.stats = br_stats,
	.metrics_key = "bridge",
	.metrics_cols = br_cols,
	.nmetrics_cols = NF_ARRAY_SIZE(br_cols),
	.link = br_link,
};

int main(int argc, char **argv)
{
	return nf_vnf_main(argc, argv, &bridge_ops, &br);
}
