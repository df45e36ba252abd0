/* cap.c - port capture ("span"): the frames received on and/or sent to a
 * port are copied, as they are, to another port, the capture's sink: a
 * memif server port whose client is `nfchain capture` (which writes them
 * to a pcap file). Requests (served between bursts, ctl.c):
 *
 *   captures                         every capture and its counters
 *   capture-start PORT SINK [rx|tx|both] [snaplen N] [filter EXPR...]
 *                                    reply {"id": N}
 *   capture-stop ID|SINK             end capture ID, or every capture into
 *                                    SINK; the reply lists their counters
 *
 * Each frame of a captured port is matched against the capture's filter
 * (libpcap's BPF: compiled once by pcap_compile(), run by bpf_filter())
 * and, when it matches, copied behind a struct nf_cap_hdr (nf_proto.h:
 * the frame's length, the time of its burst, port, direction), truncated
 * to snaplen, into a free buffer of the sink (nf_tx_get/nf_tx_put: one
 * copy). Never blocking: when the sink's ring is full the frame is not
 * captured, and counted (dropped); the captured port's own traffic is not
 * touched. Every frame a capture sees is counted once: filtered out,
 * captured or dropped. A received frame is captured before steering may
 * rewrite it; a sent one as the switch hands it to the port (a frame the
 * port's full ring then refuses is in the capture, and in the port's
 * tx-ring-full). So are the copies steering's rule action mirror sends
 * to a port, and the frames a hold queue releases (fwd.c).
 *
 * A sink is never forwarded to (flood skips it, nothing learns it) and
 * what its client sends is dropped (counted: capture-sink). When the
 * sink's client leaves (exits, is killed, or is disconnected for not
 * draining its ring: --stall-ms), its captures end and the port closes.
 *
 * Cost: with no capture, one test of the input port's cap byte per
 * received burst (forward()) and of sw->ncap_tx per transmitted burst
 * (send_out()); with one, a clock read per burst and, per frame, the
 * filter and a copy of up to snaplen bytes (docs/BENCHMARKS.md).
 */
#include "sw.h"
#include "nf_proto.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CAP_MAX		16
#define CAP_SNAP_MAX	65535u
#define CAP_FILTER_MAX	1024
/* nf_ctl splits a request into at most this many words: a longer filter
 * would arrive cut short. */
#define CAP_WORDS_MAX	32

struct cap {
	uint32_t id;		/* 0: a free slot */
	uint16_t port, sink;	/* port indices */
	uint8_t dirs;		/* SW_CAP_RX | SW_CAP_TX */
	uint32_t snaplen;
	struct bpf_program prog;	/* bf_len 0: no filter */
	char filter[CAP_FILTER_MAX];
	uint64_t seen, filtered, captured, dropped;
};

static struct cap caps[CAP_MAX];
static uint32_t next_id = 1;
static struct nf_pkt sbuf[NF_BURST_MAX];
static uint8_t flat[NF_FRAME_MAX + 512];

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The ports' cap bits and sw->ncap_tx from caps[] (sink bits stay). */
static void recompute(struct sw *sw)
{
	unsigned i;

	for (i = 0; i < SW_PORTS_MAX; i++)
		sw->ports[i].cap &= (uint8_t)~(SW_CAP_RX | SW_CAP_TX);
	sw->ncap_tx = 0;
	for (i = 0; i < CAP_MAX; i++) {
		if (caps[i].id == 0)
			continue;
		sw->ports[caps[i].port].cap |= caps[i].dirs;
		if (caps[i].dirs & SW_CAP_TX)
			sw->ncap_tx++;
	}
}

/* The frame of @f as one piece (steering's two pieces made one in @buf). */
static inline const uint8_t *frame_bytes(const struct nf_pkt *f, uint8_t *buf)
{
	if (nf_likely(!(f->flags & NF_PKT_F_HDR)))
		return f->data;
	nf_pkt_copy(buf, NF_FRAME_MAX, f);
	return buf;
}

/* Copy the frames @pk[@sel[j]] (@sel NULL: @pk[j]), j < @k, that pass
 * @c's filter into its sink, as one burst: first the filter, then as
 * many of the sink's buffers as frames matched. */
static void cap_copy(struct sw *sw, struct cap *c, const struct nf_pkt *pk, const uint16_t *sel,
		     uint16_t k, uint8_t dir, uint64_t t_ns)
{
	static const struct nf_pkt *match[NF_BURST_MAX];
	struct nf_port *sp = sw->ports[c->sink].p;
	uint16_t avail, m = 0, j;

	c->seen += k;
	for (j = 0; j < k; j++) {
		const struct nf_pkt *f = sel != NULL ? &pk[sel[j]] : &pk[j];

		if (c->prog.bf_len == 0 ||
		    bpf_filter(c->prog.bf_insns, frame_bytes(f, flat), f->len, f->len) != 0)
			match[m++] = f;
	}
	c->filtered += k - m;
	if (m == 0)
		return;
	avail = nf_tx_get(sp, sbuf, m);
	for (j = 0; j < avail; j++) {
		const struct nf_pkt *f = match[j];
		struct nf_cap_hdr h = { .magic = NF_CAP_MAGIC, .len = f->len, .t_ns = t_ns,
					.id = c->id, .port = c->port, .dir = dir };
		uint32_t cl = NF_MIN(f->len, c->snaplen);

		if (cl > sbuf[j].len - sizeof(h))	/* the client's buffers */
			cl = sbuf[j].len - (uint32_t)sizeof(h);
		memcpy(sbuf[j].data, &h, sizeof(h));
		nf_copy_frame(sbuf[j].data + sizeof(h), frame_bytes(f, flat), cl);
		sbuf[j].len = (uint32_t)sizeof(h) + cl;
	}
	if (avail != 0)
		nf_tx_put(sp, sbuf, avail);
	c->captured += avail;
	c->dropped += m - avail;
}

bool sw_cap_rx(struct sw *sw, struct sw_port *in, const struct nf_pkt *pk, uint16_t n)
{
	const uint16_t idx = nf_port_index(in->p);
	uint64_t t;
	unsigned i;

	if (in->cap & SW_CAP_SINK) {
		in->drops[SW_DROP_CAP_SINK] += n;
		return true;
	}
	if (!(in->cap & SW_CAP_RX))
		return false;
	t = realtime_ns();
	for (i = 0; i < CAP_MAX; i++)
		if (caps[i].id != 0 && caps[i].port == idx && (caps[i].dirs & SW_CAP_RX))
			cap_copy(sw, &caps[i], pk, NULL, n, NF_CAP_RX, t);
	return false;
}

void sw_cap_tx(struct sw *sw, uint16_t inidx, const struct nf_pkt *pk, const uint16_t *out,
	       uint16_t n, bool same, uint16_t flood)
{
	static uint16_t sel[NF_BURST_MAX];
	uint64_t t = realtime_ns();
	unsigned i;

	for (i = 0; i < CAP_MAX; i++) {
		struct cap *c = &caps[i];
		const struct sw_port *sp = &sw->ports[c->port];
		/* a flood reaches the port: not the ingress, up, not a sink */
		const bool flooded = c->port != inidx && nf_port_is_up(sp->p);
		uint16_t j, k = 0;

		if (c->id == 0 || !(c->dirs & SW_CAP_TX))
			continue;
		if (same) {
			if (out[0] == c->port || (out[0] == flood && flooded))
				cap_copy(sw, c, pk, NULL, n, NF_CAP_TX, t);
			continue;
		}
		for (j = 0; j < n; j++)
			if (out[j] == c->port || (out[j] == flood && flooded))
				sel[k++] = j;
		if (k != 0)
			cap_copy(sw, c, pk, sel, k, NF_CAP_TX, t);
	}
}

static void cap_free(struct cap *c)
{
	if (c->prog.bf_len != 0)
		pcap_freecode(&c->prog);
	memset(c, 0, sizeof(*c));
}

void sw_cap_port_gone(struct sw *sw, uint16_t idx)
{
	unsigned i, n = 0;

	for (i = 0; i < CAP_MAX; i++) {
		if (caps[i].id != 0 && (caps[i].port == idx || caps[i].sink == idx)) {
			cap_free(&caps[i]);
			n++;
		}
	}
	if (n != 0)
		recompute(sw);
}

void sw_cap_link(struct sw *sw, struct nf_port *p, bool up)
{
	struct sw_port *sp = &sw->ports[nf_port_index(p)];

	if (!up && sp->p == p && (sp->cap & SW_CAP_SINK)) {
		sp->cap |= SW_CAP_GONE;
		sw->cap_gc = true;
	}
}

void sw_cap_gc(struct sw *sw)
{
	unsigned i;

	sw->cap_gc = false;
	for (i = 0; i < SW_PORTS_MAX; i++) {
		char name[16];

		if (sw->ports[i].p == NULL || !(sw->ports[i].cap & SW_CAP_GONE))
			continue;
		snprintf(name, sizeof(name), "%u", i);
		sw_port_del(sw, name);	/* its captures end there */
	}
}

static const char *dir_name(uint8_t dirs)
{
	return dirs == SW_CAP_RX ? "rx" : dirs == SW_CAP_TX ? "tx" : "both";
}

static struct json_object *cap_json(struct sw *sw, const struct cap *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "port", json_object_new_string(
		nf_port_name(sw->ports[c->port].p)));
	json_object_object_add(o, "sink", json_object_new_string(
		nf_port_name(sw->ports[c->sink].p)));
	json_object_object_add(o, "direction", json_object_new_string(dir_name(c->dirs)));
	json_object_object_add(o, "snaplen", json_object_new_int64(c->snaplen));
	json_object_object_add(o, "filter", json_object_new_string(c->filter));
	json_object_object_add(o, "seen", json_object_new_uint64(c->seen));
	json_object_object_add(o, "captured", json_object_new_uint64(c->captured));
	json_object_object_add(o, "capture_dropped", json_object_new_uint64(c->dropped));
	json_object_object_add(o, "filtered", json_object_new_uint64(c->filtered));
	return o;
}

/* capture-start PORT SINK [rx|tx|both] [snaplen N] [filter EXPR...] */
static int cap_start(struct sw *sw, int argc, char **argv, struct json_object *reply)
{
	struct sw_port *port, *sink;
	struct cap *c = NULL;
	struct bpf_program prog = { 0, NULL };
	char filter[CAP_FILTER_MAX] = "";
	uint64_t snaplen = CAP_SNAP_MAX;
	uint8_t dirs = SW_CAP_RX | SW_CAP_TX;
	size_t used = 0;
	unsigned i;
	int a;

	if (argc < 3) {
		nf_set_error("capture-start needs a port and a sink: capture-start PORT SINK "
			     "[rx|tx|both] [snaplen N] [filter EXPR...]");
		return -EINVAL;
	}
	port = sw_port_find(sw, argv[1]);
	sink = sw_port_find(sw, argv[2]);
	if (port == NULL || sink == NULL) {
		nf_set_error("no port '%s'", port == NULL ? argv[1] : argv[2]);
		return -ENOENT;
	}
	if (port == sink || (port->cap & SW_CAP_SINK)) {
		nf_set_error("port '%s' is a capture's sink: it cannot be captured", argv[1]);
		return -EINVAL;
	}
	if (sink->cap & (SW_CAP_RX | SW_CAP_TX)) {
		nf_set_error("port '%s' is captured: it cannot be a sink", argv[2]);
		return -EINVAL;
	}
	if (strcmp(nf_port_type(sink->p), "memif") != 0 || !nf_port_tx_hdr(sink->p) ||
	    !nf_port_is_up(sink->p) || (sink->cap & SW_CAP_GONE)) {
		nf_set_error("sink '%s' is not a memif server port with its client connected",
			     argv[2]);
		return -EINVAL;
	}
	for (a = 3; a < argc; a++) {
		if (strcmp(argv[a], "rx") == 0) {
			dirs = SW_CAP_RX;
		} else if (strcmp(argv[a], "tx") == 0) {
			dirs = SW_CAP_TX;
		} else if (strcmp(argv[a], "both") == 0) {
			dirs = SW_CAP_RX | SW_CAP_TX;
		} else if (strcmp(argv[a], "snaplen") == 0 && a + 1 < argc) {
			if (nf_parse_u64(argv[++a], 1, CAP_SNAP_MAX, 0, &snaplen) < 0) {
				nf_set_error("snaplen '%s' is not 1..%u", argv[a], CAP_SNAP_MAX);
				return -EINVAL;
			}
		} else if (strcmp(argv[a], "filter") == 0 && a + 1 < argc) {
			if (argc >= CAP_WORDS_MAX) {
				nf_set_error("a request has at most %d words: shorten the filter",
					     CAP_WORDS_MAX - 1);
				return -EINVAL;
			}
			for (a++; a < argc; a++) {
				used += (size_t)snprintf(filter + used, sizeof(filter) - used,
							 "%s%s", used ? " " : "", argv[a]);
				if (used >= sizeof(filter)) {
					nf_set_error("filter longer than %d bytes", CAP_FILTER_MAX - 1);
					return -EINVAL;
				}
			}
		} else {
			nf_set_error("capture-start: unexpected '%s' (rx, tx, both, snaplen N, "
				     "filter EXPR...)", argv[a]);
			return -EINVAL;
		}
	}
	for (i = 0; i < CAP_MAX && c == NULL; i++)
		if (caps[i].id == 0)
			c = &caps[i];
	if (c == NULL) {
		nf_set_error("too many captures (at most %d)", CAP_MAX);
		return -ENOSPC;
	}
	if (filter[0] != '\0') {
		pcap_t *pd = pcap_open_dead(DLT_EN10MB, (int)snaplen);

		if (pd == NULL) {
			nf_set_error("libpcap: cannot compile a filter");
			return -ENOMEM;
		}
		if (pcap_compile(pd, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			nf_set_error("bad filter '%s': %s", filter, pcap_geterr(pd));
			pcap_close(pd);
			return -EINVAL;
		}
		pcap_close(pd);
	}
	c->id = next_id++;
	c->port = nf_port_index(port->p);
	c->sink = nf_port_index(sink->p);
	c->dirs = dirs;
	c->snaplen = (uint32_t)snaplen;
	c->prog = prog;
	memcpy(c->filter, filter, sizeof(filter));
	sink->cap |= SW_CAP_SINK;
	nf_fdb_flush(&sw->fdb, c->sink, true);	/* never forwarded to */
	recompute(sw);
	json_object_object_add(reply, "id", json_object_new_int64(c->id));
	return 0;
}

/* capture-stop ID|SINK */
static int cap_stop(struct sw *sw, const char *key, struct json_object *reply)
{
	struct json_object *a = json_object_new_array();
	struct sw_port *sink = sw_port_find(sw, key);
	uint64_t id = 0;
	unsigned i, n = 0;

	if (nf_parse_u64(key, 1, UINT32_MAX, 0, &id) < 0)
		id = 0;
	for (i = 0; i < CAP_MAX; i++) {
		struct cap *c = &caps[i];

		if (c->id == 0 || (c->id != id &&
				   (sink == NULL || c->sink != nf_port_index(sink->p))))
			continue;
		json_object_array_add(a, cap_json(sw, c));
		cap_free(c);
		n++;
	}
	json_object_object_add(reply, "captures", a);
	if (n == 0) {
		nf_set_error("no capture '%s' (an id, or a sink port with captures)", key);
		return -ENOENT;
	}
	recompute(sw);
	return 0;
}

int sw_cap_ctl(struct sw *sw, int argc, char **argv, struct json_object *reply)
{
	unsigned i;

	if (strcmp(argv[0], "captures") == 0 && argc == 1) {
		struct json_object *a = json_object_new_array();

		for (i = 0; i < CAP_MAX; i++)
			if (caps[i].id != 0)
				json_object_array_add(a, cap_json(sw, &caps[i]));
		json_object_object_add(reply, "captures", a);
		return 0;
	}
	if (strcmp(argv[0], "capture-start") == 0)
		return cap_start(sw, argc, argv, reply);
	if (strcmp(argv[0], "capture-stop") == 0 && argc == 2)
		return cap_stop(sw, argv[1], reply);
	return -ENOENT;
}
