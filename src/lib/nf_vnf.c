/* nf_vnf.c - the VNF framework: command line, configuration, ports, the
 * loop, the three stages, counters, control socket. See nf_vnf.h. */
#define _GNU_SOURCE
#include "nf_vnf.h"
#include "nf_util.h"
#include "nf_metrics.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_NS		10000000ull	/* VNF timers: 10 ms */
#define SERVICE_NS	1000000ull	/* control plane: 1 ms */

/* Drop reasons of the framework itself, after the parse reasons. */
enum { FW_DROP_NOT_FOR_US = NF_PERR_MAX, FW_DROPS_END };
static const char *const fw_drop_names[] = { "not-for-us" };

static struct nf_vnf *the_vnf;
static struct nf_pkt rx[NF_BURST_MAX];
static struct nf_hdrs hdr[NF_BURST_MAX];
static uint16_t verdict[NF_BURST_MAX];
static struct nf_pkt grp[NF_BURST_MAX];

static const char *const mode_names[] = { "busy", "intr", "yield", NULL };
static const struct nf_conf_key fw_keys[] = {
	{ "burst", NF_CONF_U64, 1, NF_BURST_MAX, 32, NULL,
	  offsetof(struct nf_vnf_settings, burst), "frames per receive burst", true },
	{ "mode", NF_CONF_ENUM, 0, 0, 0, mode_names,
	  offsetof(struct nf_vnf_settings, mode),
	  "busy: poll all the time; intr: sleep until traffic; yield: poll but give "
	  "the CPU away when idle or blocked", false },
	{ "pool", NF_CONF_U64, 1024, 1u << 20, 16384, NULL,
	  offsetof(struct nf_vnf_settings, pool), "packet buffers in the pool", false },
};

/* nf_vnf_reason(i) in the header assumes this layout. */
_Static_assert(FW_DROPS_END == NF_PERR_MAX + NF_VNF_FW_DROPS, "framework reasons");

int nf_vnf_port_find(const struct nf_vnf *v, const char *name)
{
	unsigned i;

	for (i = 0; i < v->nports; i++)
		if (strcmp(v->port[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *drop_name(const struct nf_vnf *v, unsigned r)
{
	if (r < NF_PERR_MAX)
		return nf_parse_err_name((enum nf_parse_err)r);
	if (r < FW_DROPS_END)
		return fw_drop_names[r - NF_PERR_MAX];
	if (r - FW_DROPS_END < v->ops->ndrops)
		return v->ops->drops[r - FW_DROPS_END];
	return "?";
}

/* "port NAME SPEC [mac MAC] [mtu N]" */
static int dir_port(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;
	struct nf_vnf_port *vp;
	uint64_t mtu;
	int i, ret;

	(void)c;
	if (v->nports == NF_VNF_PORTS_MAX) {
		nf_set_error("at most %d ports", NF_VNF_PORTS_MAX);
		return -ENOSPC;
	}
	if (strlen(argv[1]) >= sizeof(vp->name) || nf_vnf_port_find(v, argv[1]) >= 0) {
		nf_set_error("port name '%s' is too long or already used", argv[1]);
		return -EINVAL;
	}
	ret = nf_port_check(argv[2]);
	if (ret < 0)
		return ret;
	vp = &v->port[v->nports];
	memset(vp, 0, sizeof(*vp));
	nf_strlcpy(vp->name, argv[1], sizeof(vp->name));
	nf_strlcpy(vp->spec, argv[2], sizeof(vp->spec));
	vp->mtu = 1500;
	for (i = 3; i < argc; i += 2) {
		if (i + 1 >= argc) {
			nf_set_error("'%s' needs a value", argv[i]);
			return -EINVAL;
		}
		if (strcmp(argv[i], "mac") == 0) {
			if (nf_parse_mac(argv[i + 1], vp->mac) < 0 || (vp->mac[0] & 1)) {
				nf_set_error("mac %s: expected a unicast MAC address", argv[i + 1]);
				return -EINVAL;
			}
		} else if (strcmp(argv[i], "mtu") == 0) {
			if (nf_parse_u64(argv[i + 1], 68, NF_FRAME_MAX - 18, 0, &mtu) < 0) {
				nf_set_error("mtu %s: expected 68..%d", argv[i + 1],
					     NF_FRAME_MAX - 18);
				return -EINVAL;
			}
			vp->mtu = (uint32_t)mtu;
		} else {
			nf_set_error("unknown port option '%s' (mac, mtu)", argv[i]);
			return -EINVAL;
		}
	}
	v->nports++;
	return 0;
}

/* "metrics ADDR:PORT": as --metrics (which wins over it) */
static int dir_metrics(struct nf_conf *c, int argc, char **argv, void *arg)
{
	struct nf_vnf *v = arg;

	(void)c;
	(void)argc;
	if (strlen(argv[1]) >= sizeof(v->metrics_addr) || nf_http_check_addr(argv[1]) < 0) {
		nf_set_error("expected IPV4:PORT, [IPV6]:PORT or :PORT (port 0-65535)");
		return -EINVAL;
	}
	nf_strlcpy(v->metrics_addr, argv[1], sizeof(v->metrics_addr));
	return 0;
}

static const struct nf_conf_dir fw_dirs[] = {
	{ "port", 2, 6, dir_port, "port NAME SPEC [mac MAC] [mtu BYTES]", false },
	{ "metrics", 1, 1, dir_metrics, "metrics ADDR:PORT (Prometheus metrics over HTTP, "
	  "as --metrics)", false },
};

/* A MAC for a port without one: the interface's for afpacket and afxdp,
 * else a locally administered address derived from the program and port
 * names. */
static void default_mac(struct nf_vnf *v, struct nf_vnf_port *vp)
{
	static const uint8_t zero[6];
	uint32_t h = 2166136261u;
	const char *s, *ifn = NULL;

	if (memcmp(vp->mac, zero, 6) != 0)
		return;
	if (strncmp(vp->spec, "afpacket:", 9) == 0)
		ifn = vp->spec + 9;
	else if (strncmp(vp->spec, "afxdp:", 6) == 0)
		ifn = vp->spec + 6;
	if (ifn != NULL) {
		struct ifreq ifr;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		size_t n = strcspn(ifn, ",");

		memset(&ifr, 0, sizeof(ifr));
		if (fd >= 0 && n < IFNAMSIZ) {
			memcpy(ifr.ifr_name, ifn, n);
			if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
				memcpy(vp->mac, ifr.ifr_hwaddr.sa_data, 6);
				close(fd);
				return;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	for (s = v->ops->name; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	for (s = vp->name; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	vp->mac[0] = 0x02;
	vp->mac[1] = 0x6e;		/* 'n' */
	vp->mac[2] = (uint8_t)(h >> 24);
	vp->mac[3] = (uint8_t)(h >> 16);
	vp->mac[4] = (uint8_t)(h >> 8);
	vp->mac[5] = (uint8_t)h;
}

int nf_vnf_send(struct nf_vnf *v, unsigned port, const uint8_t *frame, uint32_t len)
{
	uint16_t k;

	if (port >= v->nports || len > NF_FRAME_MAX || len < NF_FRAME_MIN ||
	    v->nout[port] == NF_ARRAY_SIZE(v->out[0])) {
		v->out_dropped++;
		return -ENOBUFS;
	}
	k = v->nout[port]++;
	v->out[port][k].data = v->outbuf + ((size_t)port * NF_ARRAY_SIZE(v->out[0]) + k) *
		NF_FRAME_MAX;
	v->out[port][k].len = len;
	v->out[port][k].slot = NULL;
	v->out[port][k].buf = NF_BUF_NONE;
	memcpy(v->out[port][k].data, frame, len);
	return 0;
}

static void flush_out(struct nf_vnf *v)
{
	unsigned i;

	for (i = 0; i < v->nports; i++) {
		if (v->nout[i] == 0)
			continue;
		nf_tx_burst(v->port[i].p, v->out[i], v->nout[i]);
		v->nout[i] = 0;
	}
}

/* Transmit the frames whose verdict is a port, one burst per port. */
static void transmit(struct nf_vnf *v, uint16_t n)
{
	const uint16_t o0 = verdict[0];
	const uint64_t o4 = o0 * 0x0001000100010001ull;
	uint64_t diff = 0;
	uint16_t i, first;

	/* All to one port? Four verdicts at a time. */
	for (i = 0; i + 4 <= n; i += 4) {
		uint64_t w;

		memcpy(&w, verdict + i, 8);
		diff |= w ^ o4;
	}
	for (; i < n; i++)
		diff |= verdict[i] ^ o0;
	if (nf_likely(diff == 0)) {
		if (o0 < v->nports && nf_tx_burst(v->port[o0].p, rx, n) < n)
			v->blocked = true;
		return;
	}
	for (first = 0; first < n; first++) {
		uint16_t o = verdict[first], k = 0;

		if (o >= v->nports)
			continue;
		for (i = first; i < n; i++) {
			if (verdict[i] == o) {
				grp[k++] = rx[i];
				verdict[i] = NF_V_HANDLED;	/* done */
			}
		}
		if (nf_tx_burst(v->port[o].p, grp, k) < k)
			v->blocked = true;
	}
}

/* Ethernet and up to two VLAN tags, nothing above (ops->l2_only). */
static enum nf_parse_err parse_l2(const uint8_t *p, uint32_t len, struct nf_hdrs *h)
{
	uint32_t off = 12;
	uint16_t t;
	int tags = 0;

	memset(h, 0, sizeof(*h));
	if (len < NF_ETH_HLEN)
		return NF_PERR_ETH_RUNT;
	for (;;) {
		t = (uint16_t)(p[off] << 8 | p[off + 1]);
		if (t != NF_ETH_P_VLAN && t != NF_ETH_P_QINQ)
			break;
		if (tags == 2)
			return NF_PERR_VLAN_DEPTH;
		if (off + 2 + NF_VLAN_HLEN > len)
			return NF_PERR_VLAN_TRUNC;
		if (tags == 0)
			h->vlan = (uint16_t)((p[off + 2] & 0x0f) << 8 | p[off + 3]);
		h->flags |= NF_HDR_VLAN;
		off += NF_VLAN_HLEN;
		tags++;
	}
	h->ethertype = t;
	h->l3_off = (uint16_t)(off + 2);
	return NF_PERR_OK;
}

/* The 6 bytes at @p as the low 48 bits of an integer (byte order is the
 * machine's, the same on both sides of a comparison). */
static inline uint64_t mac48(const uint8_t *p)
{
	uint32_t a;
	uint16_t b;

	memcpy(&a, p, 4);
	memcpy(&b, p + 4, 2);
	return a | (uint64_t)b << 32;
}

/* Is a parsed frame's destination this port or a group? A parsed frame has
 * at least 14 bytes: 8 can be loaded at once. */
static inline bool for_us(uint64_t mac48, const uint8_t *dst)
{
	uint64_t d;

	memcpy(&d, dst, 8);
	return ((d ^ mac48) & 0xffffffffffffull) == 0 || (dst[0] & 1);
}

/* A health probe (nf_proto.h): on from the other port (a one-port VNF:
 * back out of @in), to its sender, from us; handled here, not by a stage.
 * Returns false if the frame is not a probe after all. */
static __attribute__((noinline)) bool probe_echo(struct nf_vnf *v, unsigned in,
						 struct nf_pkt *p, uint16_t *verdict_)
{
	unsigned out = v->nports == 2 ? 1 - in : in;
	uint8_t *d = p->data;

	if (p->len < NF_ETH_HLEN + 4 || memcmp(d + 14, NF_PROBE_MAGIC, 4) != 0)
		return false;
	/* A probe for another port (flooded: the switch lost that port) is
	 * dropped, never passed on: two VNFs passing it to each other through
	 * the switch's flooding would be a loop. */
	if (memcmp(d, v->port[in].mac, 6) != 0) {
		*verdict_ = NF_V_DROP | FW_DROP_NOT_FOR_US;
		v->drops[FW_DROP_NOT_FOR_US]++;
		return true;
	}
	memcpy(d, d + 6, 6);
	memcpy(d + 6, v->port[out].mac, 6);
	/* Sent here and now, not by verdict (no stage, post neither, may see
	 * it) nor queued: the port's transmit counter and `probes` move
	 * together, so the orchestrator can take probes out of the counters. */
	v->probes_in++;
	{
		struct nf_pkt one = { .data = d, .len = p->len, .buf = NF_BUF_NONE };

		if (nf_tx_burst(v->port[out].p, &one, 1) == 1)
			v->probes++;
		else
			v->out_dropped++;
	}
	*verdict_ = NF_V_HANDLED;
	return true;
}

/* One burst from port @in through the three stages. Not inlined: it is
 * what bench/callgrind-router.sh counts. */
static __attribute__((noinline)) unsigned vnf_burst(struct nf_vnf *v, unsigned in)
{
	struct nf_vnf_port *vp = &v->port[in];
	const struct nf_vnf_ops *ops = v->ops;
	uint16_t n, i, pending = 0, out;

	n = nf_rx_burst(vp->p, rx, (uint16_t)v->set.burst);
	if (n == 0)
		return 0;
	v->bursts++;
	/* Stage 1, framework part: parse, L2 filter. */
	if (ops->l2_only) {
		for (i = 0; i < n; i++) {
			enum nf_parse_err e = parse_l2(rx[i].data, rx[i].len, &hdr[i]);

			if (nf_unlikely(e != NF_PERR_OK)) {
				verdict[i] = (uint16_t)(NF_V_DROP | e);
				v->drops[e]++;
				continue;
			}
			if (nf_unlikely(hdr[i].ethertype == NF_ETH_P_NFPROBE) &&
			    probe_echo(v, in, &rx[i], &verdict[i]))
				continue;
			verdict[i] = NF_V_PENDING;
			pending++;
		}
	} else {
		const bool l3 = ops->l3;
		const uint64_t mac = vp->mac48;

		for (i = 0; i < n; i++) {
			enum nf_parse_err e = nf_parse(rx[i].data, rx[i].len, &hdr[i]);

			if (nf_unlikely(e != NF_PERR_OK)) {
				verdict[i] = (uint16_t)(NF_V_DROP | e);
				v->drops[e]++;
				continue;
			}
			if (nf_unlikely(hdr[i].ethertype == NF_ETH_P_NFPROBE) &&
			    probe_echo(v, in, &rx[i], &verdict[i]))
				continue;
			if (l3 && nf_unlikely(!for_us(mac, rx[i].data))) {
				verdict[i] = NF_V_DROP | FW_DROP_NOT_FOR_US;
				v->drops[FW_DROP_NOT_FOR_US]++;
				vp->not_for_us++;
				continue;
			}
			verdict[i] = NF_V_PENDING;
			pending++;
		}
	}
	v->stage_in[0] += n;
	if (pending && ops->pre)
		pending = ops->pre(v, in, rx, hdr, verdict, n);
	v->stage_out[0] += pending;
	v->stage_in[1] += pending;
	if (pending && ops->process)
		pending = ops->process(v, in, rx, hdr, verdict, n);
	v->stage_out[1] += pending;
	v->stage_in[2] += pending;
	out = pending && ops->post ? ops->post(v, in, rx, hdr, verdict, n) : pending;
	v->stage_out[2] += out;
	for (i = 0; i < n && out < n; i++)	/* only when something stopped */
		v->handled += verdict[i] == NF_V_HANDLED;
	transmit(v, n);
	nf_rx_release(vp->p);
	return n;
}

static struct json_object *u64j(uint64_t x)
{
	return json_object_new_uint64(x);
}

static void stats_json(struct nf_vnf *v, struct json_object *reply)
{
	static const char *const sname[3] = { "pre", "process", "post" };
	struct json_object *ports = json_object_new_array();
	struct json_object *stages = json_object_new_object();
	struct json_object *drops = json_object_new_object();
	unsigned i, d;

	json_object_object_add(reply, "vnf", json_object_new_string(v->ops->name));
	for (i = 0; i < v->nports; i++) {
		const struct nf_port_stats *st = nf_port_stats(v->port[i].p);
		struct json_object *o = json_object_new_object(), *pd = json_object_new_object();
		char mac[18], det[256];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->port[i].mac[0],
			 v->port[i].mac[1], v->port[i].mac[2], v->port[i].mac[3],
			 v->port[i].mac[4], v->port[i].mac[5]);
		nf_port_describe(v->port[i].p, det, sizeof(det));
		json_object_object_add(o, "name", json_object_new_string(v->port[i].name));
		json_object_object_add(o, "spec", json_object_new_string(v->port[i].spec));
		json_object_object_add(o, "mac", json_object_new_string(mac));
		json_object_object_add(o, "mtu", u64j(v->port[i].mtu));
		json_object_object_add(o, "up", json_object_new_boolean(nf_port_is_up(v->port[i].p)));
		json_object_object_add(o, "detail", json_object_new_string(det));
		json_object_object_add(o, "rx_packets", u64j(st->rx_pkts));
		json_object_object_add(o, "rx_bytes", u64j(st->rx_bytes));
		json_object_object_add(o, "tx_packets", u64j(st->tx_pkts));
		json_object_object_add(o, "tx_bytes", u64j(st->tx_bytes));
		json_object_object_add(o, "rx_queue", u64j(st->rx_queue));
		json_object_object_add(o, "rx_ring", u64j(st->rx_ring));
		for (d = 0; d < NF_DROP_MAX; d++)
			if (st->drops[d])
				json_object_object_add(pd, nf_drop_name(d), u64j(st->drops[d]));
		json_object_object_add(o, "drops", pd);
		json_object_array_add(ports, o);
	}
	json_object_object_add(reply, "ports", ports);
	for (i = 0; i < 3; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "in", u64j(v->stage_in[i]));
		json_object_object_add(o, "out", u64j(v->stage_out[i]));
		json_object_object_add(stages, sname[i], o);
	}
	json_object_object_add(reply, "stages", stages);
	json_object_object_add(reply, "handled", u64j(v->handled));
	for (d = 1; d < v->ndrops; d++)
		if (v->drops[d])
			json_object_object_add(drops, drop_name(v, d), u64j(v->drops[d]));
	json_object_object_add(reply, "drops", drops);
	json_object_object_add(reply, "generated_dropped", u64j(v->out_dropped));
	json_object_object_add(reply, "bursts", u64j(v->bursts));
	json_object_object_add(reply, "probes", u64j(v->probes));
	json_object_object_add(reply, "probes_in", u64j(v->probes_in));
	json_object_object_add(reply, "idle_ns", u64j(v->idle_ns));
	json_object_object_add(reply, "clock_ns", u64j(v->now_ns));
	if (v->ops->stats)
		v->ops->stats(v, reply);
}

static const struct nf_metrics_col vnf_port_cols[] = {
	{ "nfchain_vnf_port_up", "gauge", "up",
	  "1 when the port's link is up (its peer connected), else 0." },
	{ "nfchain_vnf_port_rx_packets_total", "counter", "rx_packets",
	  "Frames received on the port." },
	{ "nfchain_vnf_port_rx_bytes_total", "counter", "rx_bytes",
	  "Bytes received on the port." },
	{ "nfchain_vnf_port_tx_packets_total", "counter", "tx_packets",
	  "Frames transmitted on the port." },
	{ "nfchain_vnf_port_tx_bytes_total", "counter", "tx_bytes",
	  "Bytes transmitted on the port." },
	{ "nfchain_vnf_port_drops_total", "counter", "drops",
	  "Frames the port dropped, by reason (absent while 0).", "reason" },
};

static const struct nf_metrics_col vnf_stage_cols[] = {
	{ "nfchain_vnf_stage_in_packets_total", "counter", "in",
	  "Frames a stage (pre, process, post) was given." },
	{ "nfchain_vnf_stage_out_packets_total", "counter", "out",
	  "Frames a stage passed on." },
};

/* Families of one sample from the stats reply. */
static const struct nf_metrics_col vnf_scalar_cols[] = {
	{ "nfchain_vnf_handled_packets_total", "counter", "handled",
	  "Frames the VNF consumed itself (ARP requests answered, ...)." },
	{ "nfchain_vnf_generated_dropped_total", "counter", "generated_dropped",
	  "Frames the VNF made (ARP, ICMP) that found no room to be sent." },
	{ "nfchain_vnf_bursts_total", "counter", "bursts", "Non-empty receive bursts." },
	{ "nfchain_vnf_probes_total", "counter", "probes",
	  "Health probes of the orchestrator sent on through the VNF." },
	{ "nfchain_vnf_probes_received_total", "counter", "probes_in",
	  "Health probes addressed to the VNF received." },
};

/* GET /metrics: the "stats" reply as Prometheus text (docs/OPERATIONS.md). */
static int metrics_handler(const struct nf_http_req *rq, struct nf_http_resp *rs, void *arg)
{
	struct nf_vnf *v = arg;
	struct json_object *st, *stages, *a;
	struct nf_metrics m;
	int ret;

	if (!nf_metrics_request(rq, rs))
		return 0;
	st = json_object_new_object();
	a = json_object_new_array();
	if (st == NULL || a == NULL) {
		json_object_put(st);
		json_object_put(a);
		return -ENOMEM;
	}
	stats_json(v, st);
	/* the stages as an array of {stage, in, out} for the table walker */
	stages = json_object_object_get(st, "stages");
	json_object_object_foreach(stages, name, io) {
		json_object_object_add(io, "stage", json_object_new_string(name));
		json_object_array_add(a, json_object_get(io));
	}
	nf_metrics_begin(&m, rs);
	nf_metrics_family(&m, "nfchain_vnf_info", "gauge", "Always 1; the label names the VNF program.");
	nf_metrics_u64(&m, "nfchain_vnf_info", 1, "vnf", v->ops->name, NULL);
	nf_metrics_json_table(&m, json_object_object_get(st, "ports"), "port", "name",
			      vnf_port_cols, NF_ARRAY_SIZE(vnf_port_cols));
	nf_metrics_json_table(&m, a, "stage", "stage", vnf_stage_cols,
			      NF_ARRAY_SIZE(vnf_stage_cols));
	nf_metrics_json_scalars(&m, st, vnf_scalar_cols, NF_ARRAY_SIZE(vnf_scalar_cols));
	nf_metrics_family(&m, "nfchain_vnf_drops_total", "counter",
			  "Frames the VNF dropped, by reason (parse, framework and the VNF's "
			  "own reasons of the 'stats' control reply; absent while 0).");
	nf_metrics_json_each(&m, "nfchain_vnf_drops_total", json_object_object_get(st, "drops"),
			     "reason", NULL);
	if (v->ops->metrics_cols != NULL)
		nf_metrics_json_scalars(&m, json_object_object_get(st, v->ops->metrics_key),
					v->ops->metrics_cols, v->ops->nmetrics_cols);
	if (v->ops->metrics != NULL)
		v->ops->metrics(v, &m, st);
	ret = nf_metrics_end(&m);
	json_object_put(a);
	json_object_put(st);
	return ret;
}

static int ctl_handler(int argc, char **argv, struct json_object *reply, void *arg)
{
	struct nf_vnf *v = arg;
	int ret;

	if (strcmp(argv[0], "stats") == 0 && argc == 1) {
		stats_json(v, reply);
		return 0;
	}
	if (strcmp(argv[0], "conf") == 0 && argc >= 2) {
		char line[NF_CTL_LINE];	/* the request fits: never cut */
		size_t used = 0;
		int i;

		for (i = 1; i < argc && used < sizeof(line); i++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
						 i > 1 ? " " : "", argv[i]);
		v->conf.file = "control";
		v->conf.line = 0;
		v->conf.runtime = true;
		ret = nf_conf_line(&v->conf, line);
		v->conf.runtime = false;
		return ret;
	}
	if (v->ops->ctl != NULL) {
		ret = v->ops->ctl(v, argc, argv, reply);
		if (ret != -ENOENT)
			return ret;
	}
	nf_set_error("unknown request '%s' (known: stats, conf DIRECTIVE...%s)", argv[0],
		     v->ops->ctl ? ", and the VNF's own" : "");
	return -EINVAL;
}

/* One pass over every port: a burst each, then the held frames out.
 * Returns the frames received. */
static unsigned vnf_pass(struct nf_vnf *v)
{
	unsigned i, work = 0;

	v->now_ns = nf_now_ns();
	v->blocked = false;
	for (i = 0; i < v->nports; i++)
		work += vnf_burst(v, i);
	flush_out(v);
	v->loops++;
	return work;
}

void nf_vnf_forward_until(struct nf_vnf *v, bool (*done)(void *arg), void *arg)
{
	while (!done(arg) && !v->stop) {
		const unsigned work = vnf_pass(v);

		if (work == 0 || v->blocked)
			sched_yield();	/* the waited-for thread may need the CPU */
	}
}

static void on_signal(int sig)
{
	(void)sig;
	if (the_vnf != NULL)
		the_vnf->stop = 1;
}

static void on_link(struct nf_port *p, bool up, void *arg)
{
	struct nf_vnf *v = arg;
	unsigned i;

	for (i = 0; i < v->nports; i++)
		if (v->port[i].p == p && v->ops->link != NULL)
			v->ops->link(v, i, up);
}

static void usage(const struct nf_vnf *v, FILE *f)
{
	fprintf(f, "usage: %s -c FILE [options]\n\n%s\n\n"
		"  -c, --config FILE   the configuration (required)\n"
		"  -n, --check         check the configuration, print \"configuration OK\", exit\n"
		"      --ctl PATH      control socket (default /run/nfchain/NAME.ctl, NAME\n"
		"                      the configuration file's name without .conf)\n"
		"      --cpu N         pin the thread to CPU N\n"
		"      --metrics ADDR:PORT  serve Prometheus metrics at\n"
		"                      http://ADDR:PORT/metrics (127.0.0.1:9101, [::1]:9101,\n"
		"                      :9101 for every address)\n"
		"  -q, --quiet         no log lines\n"
		"  -h, --help          this text\n\n",
		v->ops->name, v->ops->summary);
	nf_conf_help(&v->conf, f);
	if (v->ops->example)
		fprintf(f, "\nExample:\n%s", v->ops->example);
	fprintf(f, "\nControl requests (nfchain vnf CTL [--json] REQUEST...):\n"
		"  stats                  ports, stage counters, drops by reason\n"
		"  conf DIRECTIVE...      apply a directive marked (runtime too), or\n"
		"                         conf set KEY VALUE for a key marked so\n%s"
		"\nExit status: 0 after SIGINT/SIGTERM, 1 runtime error, "
		"2 usage or configuration error.\n", v->ops->requests ? v->ops->requests : "");
}

static int usage_err(const struct nf_vnf *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_err(const struct nf_vnf *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", v->ops->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static void arm_and_sleep(struct nf_vnf *v, int efd)
{
	struct epoll_event ev[NF_VNF_PORTS_MAX + 2];
	unsigned i;
	bool armed = true;

	for (i = 0; i < v->nports; i++) {
		struct nf_port *p = v->port[i].p;

		if (nf_port_is_up(p) && (nf_port_rx_fd(p) < 0 || nf_rx_intr_enable(p) != 0))
			armed = false;
	}
	if (armed)
		epoll_wait(efd, ev, (int)NF_ARRAY_SIZE(ev), 10);
	for (i = 0; i < v->nports; i++)
		if (nf_port_is_up(v->port[i].p) && nf_port_rx_fd(v->port[i].p) >= 0)
			nf_rx_intr_disable(v->port[i].p);
}

static int make_epoll(struct nf_vnf *v)
{
	struct epoll_event ee = { .events = EPOLLIN };
	int efd = epoll_create1(EPOLL_CLOEXEC);
	unsigned i;

	if (efd < 0)
		return -1;
	epoll_ctl(efd, EPOLL_CTL_ADD, nf_io_fd(), &ee);
	epoll_ctl(efd, EPOLL_CTL_ADD, nf_ctl_fd(v->ctl), &ee);
	if (v->http != NULL)
		epoll_ctl(efd, EPOLL_CTL_ADD, nf_http_fd(v->http), &ee);
	for (i = 0; i < v->nports; i++)
		if (nf_port_rx_fd(v->port[i].p) >= 0)
			epoll_ctl(efd, EPOLL_CTL_ADD, nf_port_rx_fd(v->port[i].p), &ee);
	return efd;
}

int nf_vnf_main(int argc, char **argv, const struct nf_vnf_ops *ops, void *priv)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "ctl", required_argument, NULL, 1 },
		{ "cpu", required_argument, NULL, 2 },
		{ "metrics", required_argument, NULL, 3 },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nf_vnf *v = calloc(1, sizeof(*v));
	struct sigaction sa = { .sa_handler = on_signal };
	const char *cfg = NULL, *ctl_path = NULL, *metrics = NULL;
	char ctl_buf[160];
	struct nf_io_params prm = { 0 };
	uint64_t cpu = UINT64_MAX, last_svc = 0, last_tick = 0;
	bool idle_prev = false;
	int c, ret = 1, quiet = 0, efd = -1;
	unsigned i;

	if (v == NULL)
		return 1;
	v->ops = ops;
	v->priv = priv;
	v->ndrops = FW_DROPS_END + ops->ndrops;
	v->conf.dirs = ops->dirs;
	v->conf.ndirs = ops->ndirs;
	v->conf.dirs2 = fw_dirs;
	v->conf.ndirs2 = NF_ARRAY_SIZE(fw_dirs);
	v->conf.ks[0] = (struct nf_conf_keyset){ fw_keys, NF_ARRAY_SIZE(fw_keys), &v->set };
	v->conf.ks[1] = (struct nf_conf_keyset){ ops->keys, ops->nkeys, ops->settings };
	v->conf.arg = v;
	nf_conf_defaults(&v->conf);
	if (v->ndrops > NF_VNF_DROPS_MAX) {
		fprintf(stderr, "%s: too many drop reasons\n", ops->name);
		goto out;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:nqh", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg = optarg; break;
		case 'n': v->check_only = true; break;
		case 1: ctl_path = optarg; break;
		case 2:
			if (nf_parse_u64(optarg, 0, CPU_SETSIZE - 1, 0, &cpu) < 0) {
				ret = usage_err(v, "--cpu %s: expected 0..%d", optarg,
						CPU_SETSIZE - 1);
				goto out;
			}
			break;
		case 3:
			if (nf_http_check_addr(optarg) < 0) {
				ret = usage_err(v, "--metrics: %s", nf_last_error());
				goto out;
			}
			metrics = optarg;
			break;
		case 'q': quiet = 1; break;
		case 'h': usage(v, stdout); ret = 0; goto out;
		case ':': ret = usage_err(v, "option '%s' needs a value (see --help)",
					  argv[optind - 1]); goto out;
		default: ret = usage_err(v, "unknown option '%s' (see --help)",
					 argv[optind - 1]); goto out;
		}
	}
	if (optind < argc) {
		ret = usage_err(v, "unexpected argument '%s' (see --help)", argv[optind]);
		goto out;
	}
	if (cfg == NULL) {
		ret = usage_err(v, "a configuration file is needed: -c FILE (see --help)");
		goto out;
	}
	if (nf_conf_file(&v->conf, cfg) < 0) {
		ret = usage_err(v, "%s", v->conf.err);
		goto out;
	}
	if (v->nports == 0) {
		ret = usage_err(v, "%s: no port (add: port NAME SPEC)", cfg);
		goto out;
	}
	for (i = 0; i < v->nports; i++) {
		default_mac(v, &v->port[i]);
		v->port[i].mac48 = mac48(v->port[i].mac);
	}
	if (ops->validate != NULL && ops->validate(v) < 0) {
		ret = usage_err(v, "%s: %s", cfg, nf_last_error());
		goto out;
	}
	if (v->check_only) {
		printf("configuration OK\n");
		ret = 0;
		goto out;
	}
	if (ctl_path == NULL) {
		const char *b = strrchr(cfg, '/');
		size_t n;

		b = b ? b + 1 : cfg;
		n = strcspn(b, ".");
		snprintf(ctl_buf, sizeof(ctl_buf), "/run/nfchain/%.*s.ctl", (int)n, b);
		ctl_path = ctl_buf;
	}
	if (cpu != UINT64_MAX) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "%s: cannot pin to CPU %" PRIu64 ": %s\n", ops->name,
				cpu, strerror(errno));
			goto out;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	the_vnf = v;
	prm.pool_bufs = (uint32_t)v->set.pool;
	if (nf_io_init(&prm) < 0) {
		fprintf(stderr, "%s: %s\n", ops->name, nf_last_error());
		goto out;
	}
	v->outbuf = malloc((size_t)NF_VNF_PORTS_MAX * NF_ARRAY_SIZE(v->out[0]) * NF_FRAME_MAX);
	if (v->outbuf == NULL)
		goto out_io;
	if (nf_ctl_open(ctl_path, ctl_handler, v, &v->ctl) < 0) {
		fprintf(stderr, "%s: %s\n", ops->name, nf_last_error());
		goto out_io;
	}
	if (metrics == NULL && v->metrics_addr[0])
		metrics = v->metrics_addr;
	if (metrics != NULL && nf_http_open(metrics, 0, 0, metrics_handler, v, &v->http) < 0) {
		fprintf(stderr, "%s: %s\n", ops->name, nf_last_error());
		goto out_ports;
	}
	for (i = 0; i < v->nports; i++) {
		struct nf_port_conf pc = { .name = v->port[i].name, .on_link = on_link, .arg = v };

		if (nf_port_open(v->port[i].spec, &pc, &v->port[i].p) < 0) {
			fprintf(stderr, "%s: port %s (%s): %s\n", ops->name, v->port[i].name,
				v->port[i].spec, nf_last_error());
			goto out_ports;
		}
	}
	if (ops->start != NULL && ops->start(v) < 0) {
		fprintf(stderr, "%s: %s\n", ops->name, nf_last_error());
		goto out_ports;
	}
	v->running = true;
	if (!quiet)
		fprintf(stderr, "%s: %u ports, %s mode, control %s\n", ops->name, v->nports,
			mode_names[v->set.mode], ctl_path);
	if (v->set.mode == 1)
		efd = make_epoll(v);
	while (!v->stop) {
		const uint64_t t_prev = v->now_ns;
		const unsigned work = vnf_pass(v);

		/* The busy fraction the orchestrator scales by: the time from
		 * a pass that found nothing to the next pass (asleep in
		 * epoll_wait, yielding or spinning) is idle; no clock read
		 * beyond the pass's own. */
		if (idle_prev && t_prev)
			v->idle_ns += v->now_ns - t_prev;
		idle_prev = work == 0;

		if (v->set.mode == 2 && (work == 0 || v->blocked))
			sched_yield();
		if (work != 0 && v->now_ns - last_svc < SERVICE_NS)
			continue;
		last_svc = v->now_ns;
		nf_io_service();
		nf_ctl_service(v->ctl);
		if (v->http != NULL)
			nf_http_service(v->http);
		if (v->now_ns - last_tick >= TICK_NS) {
			last_tick = v->now_ns;
			if (ops->tick != NULL)
				ops->tick(v, v->now_ns);
			flush_out(v);
		}
		if (efd >= 0 && work == 0)
			arm_and_sleep(v, efd);
	}
	ret = 0;
	if (ops->stop != NULL)
		ops->stop(v);
out_ports:
	for (i = 0; i < v->nports; i++)
		nf_port_close(v->port[i].p);
	nf_http_close(v->http);
	nf_ctl_close(v->ctl);
out_io:
	if (efd >= 0)
		close(efd);
	free(v->outbuf);
	nf_io_fini();
out:
	the_vnf = NULL;
	free(v);
	return ret;
}
