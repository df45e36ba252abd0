/* report.c - nf-gen output: the live progress line, the final human
 * summary, and the --json object (json-c). Nothing here is on the data
 * path: progress runs once per second, the rest once at the end. */
#include "gen.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

const char *gen_port_label(const struct gen_report *r, const struct nf_port *p)
{
	bool t = r->tx && r->tx->port == p, x = r->rx && r->rx->port == p;

	return t && x ? "txrx" : t ? "tx" : "rx";
}

const char *gen_port_spec(const struct gen_report *r, const struct nf_port *p)
{
	return r->tx && r->tx->port == p ? r->conf->tx_spec : r->conf->rx_spec;
}

uint64_t gen_lost(const struct gen_tx *tx, const struct gen_sink *rx)
{
	uint64_t uniq, base;

	if (rx == NULL)
		return 0;
	uniq = gen_sink_unique(rx);
	base = tx != NULL ? tx->pkts : rx->next;
	return base > uniq ? base - uniq : 0;
}

/* Average rate over the active time: frames after the first burst over
 * the time from the first burst to the last. */
static double active_pps(uint64_t pkts, uint64_t first_burst, uint64_t first,
			 uint64_t last)
{
	if (pkts <= first_burst || last <= first)
		return 0.0;
	return (double)(pkts - first_burst) * 1e9 / (double)(last - first);
}

static double tx_pps(const struct gen_tx *g)
{
	return g ? active_pps(g->pkts, g->first_burst, g->first_ns, g->last_ns) : 0;
}

static double rx_pps(const struct gen_sink *s)
{
	return s ? active_pps(s->pkts, s->first_burst, s->first_ns, s->last_ns) : 0;
}

static const char *fmt_pps(char *b, size_t n, double pps)
{
	if (pps >= 1e6)
		snprintf(b, n, "%.2f Mpps", pps / 1e6);
	else if (pps >= 1e3)
		snprintf(b, n, "%.2f kpps", pps / 1e3);
	else
		snprintf(b, n, "%.0f pps", pps);
	return b;
}

static const char *fmt_ns(char *b, size_t n, double ns)
{
	if (ns >= 1e9)
		snprintf(b, n, "%.3f s", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(b, n, "%.2f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(b, n, "%.1f us", ns / 1e3);
	else if (ns >= 1e3)
		snprintf(b, n, "%.2f us", ns / 1e3);
	else
		snprintf(b, n, "%.0f ns", ns);
	return b;
}

void gen_progress(const struct gen_report *r, uint64_t now, bool final)
{
	static uint64_t last_ns, last_tx, last_rx;
	char a[32], b[32], c[32], d[32];
	uint64_t txp = r->tx ? r->tx->pkts : 0, rxp = r->rx ? r->rx->pkts : 0;
	double dt;

	if (last_ns == 0)
		last_ns = r->start_ns;
	dt = (double)(now - last_ns) / 1e9;
	if (dt <= 0)
		dt = 1;
	fprintf(stderr, "\r%7.1f s  tx %-12s rx %-12s lost %-10" PRIu64,
		(double)(now - r->start_ns) / 1e9,
		fmt_pps(a, sizeof(a), (double)(txp - last_tx) / dt),
		fmt_pps(b, sizeof(b), (double)(rxp - last_rx) / dt),
		r->rx ? r->rx->next - NF_MIN(r->rx->next, gen_sink_unique(r->rx)) : 0);
	if (r->rx && r->rx->lat.count)
		fprintf(stderr, " latency p50 %-9s p99 %-9s",
			fmt_ns(c, sizeof(c), (double)nf_hist_percentile(&r->rx->lat, 50)),
			fmt_ns(d, sizeof(d), (double)nf_hist_percentile(&r->rx->lat, 99)));
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	last_ns = now;
	last_tx = txp;
	last_rx = rxp;
}

/* "0xb8", or the list: "0x01,0x03,0x07" */
static const char *fmt_tos(char *b, size_t n, const struct gen_conf *c)
{
	size_t used = 0;
	unsigned k, nt = c->ntos > 1 ? c->ntos : 1;

	b[0] = '\0';
	for (k = 0; k < nt && used < n; k++)
		used += (size_t)snprintf(b + used, n - used, "%s0x%02x", k ? "," : "",
					 c->ntos > 1 ? c->tos_list[k] : c->tos);
	return b;
}

static json_object *jdbl(double v, const char *fmt)
{
	char b[64];

	snprintf(b, sizeof(b), fmt, v);
	return json_object_new_double_s(v, b);
}

/* --flow-stats: frames of flow @i sent (sequence numbers 0 .. pkts - 1,
 * flow i's those whose gen_flow_of() is i: the whole trains, one flow
 * after the other, then the frames of the last train begun), and flow
 * @i's source address as text. */
static uint64_t flow_sent(const struct gen_tx *tx, uint32_t i)
{
	const uint64_t trains = tx->pkts / tx->train, part = tx->pkts % tx->train;

	return tx->train * (trains / tx->nflows + (i < trains % tx->nflows)) +
	       (i == trains % tx->nflows ? part : 0);
}

static const char *flow_addr(const struct gen_conf *c, uint32_t i, char *b,
			     size_t n)
{
	uint8_t a[16];

	gen_flow_src(c, i, a);
	return inet_ntop(c->ipv6 ? AF_INET6 : AF_INET, a, b, (socklen_t)n);
}

static uint32_t flows_with_loss(const struct gen_report *r)
{
	uint32_t i, k = 0;

	for (i = 0; i < r->rx->nflows; i++)
		k += r->rx->flow_rx[i] < flow_sent(r->tx, i);
	return k;
}

static void flows_json(json_object *root, const struct gen_report *r)
{
	json_object *a = json_object_new_array_ext((int)r->rx->nflows);
	char b[INET6_ADDRSTRLEN];
	uint32_t i;

	for (i = 0; i < r->rx->nflows; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "flow", json_object_new_uint64(i));
		json_object_object_add(o, "src", json_object_new_string(
			flow_addr(r->conf, i, b, sizeof(b))));
		json_object_object_add(o, "sport", json_object_new_uint64(
			gen_flow_sport(r->conf, i)));
		json_object_object_add(o, "sent", json_object_new_uint64(
			flow_sent(r->tx, i)));
		json_object_object_add(o, "received", json_object_new_uint64(
			r->rx->flow_rx[i]));
		json_object_array_add(a, o);
	}
	json_object_object_add(root, "flows_with_loss",
			       json_object_new_uint64(flows_with_loss(r)));
	json_object_object_add(root, "flows", a);
}

/* One line: how many flows lost frames, the first few of them. */
static void flows_human(const struct gen_report *r)
{
	const unsigned show = 8;
	uint32_t i, k = flows_with_loss(r), n = 0;
	char b[INET6_ADDRSTRLEN];

	printf("flows: %u, %s", r->rx->nflows, k ? "" : "none with loss\n");
	if (k == 0)
		return;
	printf("%u with loss:", k);
	for (i = 0; i < r->rx->nflows && n < show; i++) {
		uint64_t sent = flow_sent(r->tx, i), got = r->rx->flow_rx[i];

		if (got >= sent)
			continue;
		printf("%s flow %u %s%s%s:%u lost %" PRIu64 " of %" PRIu64,
		       n ? "," : "", i, r->conf->ipv6 ? "[" : "",
		       flow_addr(r->conf, i, b, sizeof(b)),
		       r->conf->ipv6 ? "]" : "", gen_flow_sport(r->conf, i),
		       sent - got, sent);
		n++;
	}
	if (k > n)
		printf(", and %u more (--json lists every flow)", k - n);
	putchar('\n');
}

static json_object *port_json(const struct nf_port *p, const char *spec)
{
	const struct nf_port_stats *st = nf_port_stats(p);
	json_object *o = json_object_new_object(), *dr, *di;
	unsigned i;

	json_object_object_add(o, "spec", json_object_new_string(spec));
	json_object_object_add(o, "type", json_object_new_string(nf_port_type(p)));
	json_object_object_add(o, "up", json_object_new_boolean(nf_port_is_up(p)));
	json_object_object_add(o, "rx_packets", json_object_new_uint64(st->rx_pkts));
	json_object_object_add(o, "rx_bytes", json_object_new_uint64(st->rx_bytes));
	json_object_object_add(o, "tx_packets", json_object_new_uint64(st->tx_pkts));
	json_object_object_add(o, "tx_bytes", json_object_new_uint64(st->tx_bytes));
	json_object_object_add(o, "connects", json_object_new_uint64(st->connects));
	json_object_object_add(o, "rx_wakeups", json_object_new_uint64(st->rx_wakeups));
	dr = json_object_new_object();
	for (i = 0; i < NF_DROP_MAX; i++)
		json_object_object_add(dr, nf_drop_name((enum nf_drop)i),
				       json_object_new_uint64(st->drops[i]));
	json_object_object_add(o, "drops", dr);
	di = json_object_new_object();
	for (i = 0; i < NF_DISC_MAX; i++)
		json_object_object_add(di, nf_disc_name((enum nf_disc)i),
				       json_object_new_uint64(st->discs[i]));
	json_object_object_add(o, "disconnects", di);
	return o;
}

/* The histogram's non-empty buckets, [low, width, count] each, in order
 * (bench/rfc2544 plots and merges them). */
static json_object *hist_json(const struct nf_hist *h)
{
	json_object *a = json_object_new_array(), *e;
	unsigned i;

	for (i = 0; a != NULL && i < NF_HIST_BUCKETS; i++) {
		if (h->b[i] == 0)
			continue;
		e = json_object_new_array();
		json_object_array_add(e, json_object_new_uint64(nf_hist_bucket_low(i)));
		json_object_array_add(e, json_object_new_uint64(nf_hist_bucket_width(i)));
		json_object_array_add(e, json_object_new_uint64(h->b[i]));
		json_object_array_add(a, e);
	}
	return a;
}

int gen_print_json(const struct gen_report *r)
{
	const struct gen_conf *c = r->conf;
	const struct gen_tx *tx = r->tx;
	const struct gen_sink *rx = r->rx;
	json_object *root, *o;
	double txr = tx_pps(tx), rxr = rx_pps(rx);
	int i;

	root = json_object_new_object();
	if (root == NULL)
		return -1;

	o = json_object_new_object();
	json_object_object_add(o, "port", tx ? json_object_new_string(gen_port_label(r, tx->port)) : NULL);
	json_object_object_add(o, "packets", json_object_new_uint64(tx ? tx->pkts : 0));
	json_object_object_add(o, "bytes", json_object_new_uint64(tx ? tx->bytes : 0));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "ipv6", json_object_new_boolean(c->ipv6));
	json_object_object_add(o, "tos", json_object_new_uint64(c->tos));
	if (c->ntos > 1) {
		struct json_object *l = json_object_new_array();
		unsigned k;

		for (k = 0; k < c->ntos; k++)
			json_object_array_add(l, json_object_new_uint64(c->tos_list[k]));
		json_object_object_add(o, "tos_list", l);
	}
	json_object_object_add(o, "flows", json_object_new_uint64(c->flows));
	json_object_object_add(o, "train", json_object_new_uint64(c->train));
	json_object_object_add(o, "rate_limit_pps", json_object_new_uint64(c->rate));
	json_object_object_add(o, "built_in_place", json_object_new_uint64(tx ? tx->inplace_pkts : 0));
	json_object_object_add(o, "built_copied", json_object_new_uint64(tx ? tx->copy_pkts : 0));
	json_object_object_add(o, "backpressure", json_object_new_uint64(tx ? tx->backpressure : 0));
	json_object_object_add(root, "tx", o);

	o = json_object_new_object();
	json_object_object_add(o, "port", rx ? json_object_new_string(gen_port_label(r, rx->port)) : NULL);
	json_object_object_add(o, "packets", json_object_new_uint64(rx ? rx->pkts : 0));
	json_object_object_add(o, "bytes", json_object_new_uint64(rx ? rx->bytes : 0));
	json_object_object_add(o, "lost", json_object_new_uint64(r->lost));
	json_object_object_add(o, "lost_basis", rx ? json_object_new_string(
		r->lost_from_tx ? "sent" : "highest-seq") : NULL);
	json_object_object_add(o, "reordered", json_object_new_uint64(rx ? rx->reordered : 0));
	json_object_object_add(o, "duplicated", json_object_new_uint64(rx ? rx->duplicated : 0));
	json_object_object_add(o, "other", json_object_new_uint64(rx ? rx->other : 0));
	json_object_object_add(o, "highest_seq", rx && rx->next ?
		json_object_new_uint64(rx->next - 1) : NULL);
	json_object_object_add(o, "clock_skewed", json_object_new_uint64(rx ? rx->future : 0));
	json_object_object_add(root, "rx", o);

	o = json_object_new_object();
	json_object_object_add(o, "tx_pps", jdbl(txr, "%.1f"));
	json_object_object_add(o, "rx_pps", jdbl(rxr, "%.1f"));
	json_object_object_add(o, "tx_bps", jdbl(txr * c->size * 8, "%.0f"));
	json_object_object_add(o, "rx_bps", jdbl(rx && rx->pkts ?
		rxr * ((double)rx->bytes / (double)rx->pkts) * 8 : 0, "%.0f"));
	json_object_object_add(root, "rate", o);

	o = json_object_new_object();
	if (rx != NULL) {
		const struct nf_hist *h = &rx->lat;

		json_object_object_add(o, "samples", json_object_new_uint64(h->count));
		json_object_object_add(o, "min", json_object_new_uint64(nf_hist_min(h)));
		json_object_object_add(o, "avg", jdbl(nf_hist_mean(h), "%.1f"));
		json_object_object_add(o, "max", json_object_new_uint64(nf_hist_max(h)));
		json_object_object_add(o, "p50", json_object_new_uint64(nf_hist_percentile(h, 50)));
		json_object_object_add(o, "p99", json_object_new_uint64(nf_hist_percentile(h, 99)));
		json_object_object_add(o, "p999", json_object_new_uint64(nf_hist_percentile(h, 99.9)));
		json_object_object_add(o, "histogram", hist_json(h));
	} else {
		static const char *const k[] = { "samples", "min", "avg", "max",
						 "p50", "p99", "p999" };

		for (i = 0; i < (int)NF_ARRAY_SIZE(k); i++)
			json_object_object_add(o, k[i], json_object_new_uint64(0));
		json_object_object_add(o, "histogram", json_object_new_array());
	}
	json_object_object_add(root, "latency_ns", o);

	json_object_object_add(root, "duration_s",
		jdbl((double)(r->end_ns - r->start_ns) / 1e9, "%.6f"));
	o = json_object_new_object();
	json_object_object_add(o, "user", jdbl((double)r->cpu_user_ns / 1e9, "%.6f"));
	json_object_object_add(o, "system", jdbl((double)r->cpu_sys_ns / 1e9, "%.6f"));
	json_object_object_add(root, "cpu_s", o);
	if (tx != NULL && rx != NULL && rx->flow_rx != NULL)
		flows_json(root, r);

	o = json_object_new_object();
	for (i = 0; i < r->nports; i++)
		json_object_object_add(o, gen_port_label(r, r->ports[i]),
			port_json(r->ports[i], gen_port_spec(r, r->ports[i])));
	json_object_object_add(root, "ports", o);

	printf("%s\n", json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

void gen_print_human(const struct gen_report *r)
{
	const struct gen_tx *tx = r->tx;
	const struct gen_sink *rx = r->rx;
	char a[32], b[48], c[32], d[32], e[32], f[32];
	int i;

	printf("duration %.3f s (CPU %.3f s user, %.3f s system)\n",
	       (double)(r->end_ns - r->start_ns) / 1e9,
	       (double)r->cpu_user_ns / 1e9, (double)r->cpu_sys_ns / 1e9);
	if (tx != NULL)
		printf("tx: %" PRIu64 " frames, %" PRIu64 " bytes%s%s "
		       "(%u-byte %s UDP, %u flow%s%s%s)\n", tx->pkts, tx->bytes,
		       tx_pps(tx) > 0 ? ", " : "",
		       tx_pps(tx) > 0 ? fmt_pps(a, sizeof(a), tx_pps(tx)) : "",
		       r->conf->size,
		       r->conf->ipv6 ? "IPv6" : "IPv4", r->conf->flows,
		       r->conf->flows == 1 ? "" : "s",
		       r->conf->tos || r->conf->ntos > 1 ? ", ToS " : "",
		       r->conf->tos || r->conf->ntos > 1 ? fmt_tos(b, sizeof(b), r->conf) : "");
	if (rx != NULL) {
		const struct nf_hist *h = &rx->lat;

		printf("rx: %" PRIu64 " frames, %" PRIu64 " bytes%s%s; lost %"
		       PRIu64 ", reordered %" PRIu64 ", duplicated %" PRIu64
		       ", other %" PRIu64 "\n", rx->pkts, rx->bytes,
		       rx_pps(rx) > 0 ? ", " : "",
		       rx_pps(rx) > 0 ? fmt_pps(a, sizeof(a), rx_pps(rx)) : "",
		       r->lost, rx->reordered,
		       rx->duplicated, rx->other);
		if (h->count)
			printf("latency: min %s avg %s p50 %s p99 %s p99.9 %s "
			       "max %s\n",
			       fmt_ns(a, sizeof(a), (double)nf_hist_min(h)),
			       fmt_ns(b, sizeof(b), nf_hist_mean(h)),
			       fmt_ns(c, sizeof(c), (double)nf_hist_percentile(h, 50)),
			       fmt_ns(d, sizeof(d), (double)nf_hist_percentile(h, 99)),
			       fmt_ns(e, sizeof(e), (double)nf_hist_percentile(h, 99.9)),
			       fmt_ns(f, sizeof(f), (double)nf_hist_max(h)));
		if (tx != NULL && rx->flow_rx != NULL)
			flows_human(r);
		if (rx->future)
			printf("note: %" PRIu64 " frames carried a timestamp later "
			       "than their arrival (sender on another clock); "
			       "latency is only meaningful on one host\n",
			       rx->future);
	}
	for (i = 0; i < r->nports; i++) {
		const struct nf_port_stats *st = nf_port_stats(r->ports[i]);
		unsigned j;
		int any = 0;

		for (j = 0; j < NF_DROP_MAX; j++) {
			if (st->drops[j] == 0)
				continue;
			if (!any)
				printf("port %s drops:",
				       gen_port_label(r, r->ports[i]));
			printf("%s %s %" PRIu64, any ? "," : "",
			       nf_drop_name((enum nf_drop)j), st->drops[j]);
			any = 1;
		}
		if (any)
			putchar('\n');
	}
}
