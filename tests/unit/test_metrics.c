/* test_metrics.c - nf_metrics: the exposition text byte for byte (headers,
 * label escaping, values, histograms from nf_hist, JSON helpers). */
#include "harness.h"
#include "nf_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same(const struct nf_http_resp *rs, const char *want)
{
	if (rs->body != NULL && strcmp(rs->body, want) == 0 && rs->len == strlen(want))
		return 1;
	printf("# got:\n%s# want:\n%s", rs->body ? rs->body : "(null)\n", want);
	return 0;
}

int main(void)
{
	struct nf_http_resp rs = { 0 };
	struct nf_metrics m;
	struct nf_hist h;
	static const double le[] = { 0.0000001, 0.000001, 0.001, 1 };
	struct json_object *o;
	int i;

	nf_metrics_begin(&m, &rs);
	NF_TEST("content type is the 0.0.4 text format",
		strcmp(rs.content_type, "text/plain; version=0.0.4; charset=utf-8") == 0);
	nf_metrics_family(&m, "x_packets_total", "counter", "Frames \\ seen.\nTwo lines.");
	nf_metrics_u64(&m, "x_packets_total", 18446744073709551615ull, "port", "p\"0\\\n",
		       "reason", "crc", NULL);
	nf_metrics_u64(&m, "x_packets_total", 0, NULL);
	nf_metrics_one(&m, "x_up", "gauge", "Up.", 1);
	nf_metrics_f64(&m, "x_ratio", 0.1, "a", "b", NULL);
	nf_metrics_f64(&m, "x_ratio", NAN, NULL);
	nf_metrics_f64(&m, "x_ratio", -INFINITY, NULL);
	nf_metrics_f64(&m, "x_ratio", 1e300, NULL);
	NF_TEST("no error", nf_metrics_end(&m) == 0);
	NF_TEST("headers, escaped help and labels, u64 max, gauges, NaN/Inf", same(&rs,
		"# HELP x_packets_total Frames \\\\ seen.\\nTwo lines.\n"
		"# TYPE x_packets_total counter\n"
		"x_packets_total{port=\"p\\\"0\\\\\\n\",reason=\"crc\"} 18446744073709551615\n"
		"x_packets_total 0\n"
		"# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1\n"
		"x_ratio{a=\"b\"} 0.1\nx_ratio NaN\nx_ratio -Inf\nx_ratio 1e+300\n"));
	free(rs.body);

	/* A histogram in ns, exposed in seconds. */
	memset(&rs, 0, sizeof(rs));
	nf_hist_init(&h);
	nf_hist_record(&h, 50);		/* 50 ns: below 100 ns */
	nf_hist_record(&h, 100);	/* exact (< 128): le 1e-07 */
	nf_hist_record(&h, 500);	/* below 1 us */
	nf_hist_record(&h, 2000000);	/* 2 ms: below 1 s */
	nf_hist_record(&h, 5000000000ull);	/* 5 s: only +Inf */
	nf_metrics_begin(&m, &rs);
	nf_metrics_hist(&m, "x_seconds", &h, 1e-9, le, 4, "vnf", "fw", NULL);
	NF_TEST("histogram: no error", nf_metrics_end(&m) == 0);
	NF_TEST("histogram: cumulative buckets, +Inf, _sum, _count", same(&rs,
		"x_seconds_bucket{vnf=\"fw\",le=\"1e-07\"} 2\n"
		"x_seconds_bucket{vnf=\"fw\",le=\"1e-06\"} 3\n"
		"x_seconds_bucket{vnf=\"fw\",le=\"0.001\"} 3\n"
		"x_seconds_bucket{vnf=\"fw\",le=\"1\"} 4\n"
		"x_seconds_bucket{vnf=\"fw\",le=\"+Inf\"} 5\n"
		"x_seconds_sum{vnf=\"fw\"} 5.00200065\n"
		"x_seconds_count{vnf=\"fw\"} 5\n"));
	free(rs.body);

	memset(&rs, 0, sizeof(rs));
	nf_hist_init(&h);
	nf_metrics_begin(&m, &rs);
	nf_metrics_hist(&m, "e", &h, 1e-9, le, 2, NULL);
	NF_TEST("an empty histogram: zero buckets", same(&rs,
		"e_bucket{le=\"1e-07\"} 0\ne_bucket{le=\"1e-06\"} 0\ne_bucket{le=\"+Inf\"} 0\n"
		"e_sum 0\ne_count 0\n"));
	free(rs.body);

	/* JSON helpers */
	o = json_tokener_parse("{\"a\": 5, \"drops\": {\"no-route\": 3, \"ttl\": 1, \"s\": \"x\"},"
			       " \"s\": \"7\"}");
	memset(&rs, 0, sizeof(rs));
	nf_metrics_begin(&m, &rs);
	NF_TEST("ju64: a number", nf_metrics_ju64(o, "a") == 5);
	NF_TEST("ju64: a missing key is 0", nf_metrics_ju64(o, "zz") == 0);
	NF_TEST("ju64: a string is 0", nf_metrics_ju64(o, "s") == 0);
	nf_metrics_json_each(&m, "d_total", json_object_object_get(o, "drops"), "reason",
			     "port", "p1", NULL);
	nf_metrics_json_each(&m, "d_total", NULL, "reason", NULL);
	NF_TEST("json_each: one sample per number, extra labels first", same(&rs,
		"d_total{port=\"p1\",reason=\"no-route\"} 3\n"
		"d_total{port=\"p1\",reason=\"ttl\"} 1\n"));
	free(rs.body);
	json_object_put(o);

	/* A large body: growth of the buffer. */
	memset(&rs, 0, sizeof(rs));
	nf_metrics_begin(&m, &rs);
	for (i = 0; i < 20000; i++)
		nf_metrics_u64(&m, "big_total", (uint64_t)i, "i", "0123456789", NULL);
	NF_TEST("20000 samples: no error", nf_metrics_end(&m) == 0);
	NF_TEST("20000 samples: every line there",
		rs.len == 20000 * strlen("big_total{i=\"0123456789\"} ") + 10 * 2 + 90 * 3 +
		900 * 4 + 9000 * 5 + 10000 * 6);
	free(rs.body);
	return nf_test_report();
}
