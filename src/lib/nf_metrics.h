/* nf_metrics.h - the Prometheus text exposition format, written in one place.
 *
 * Every daemon answers GET /metrics through these calls: a family header
 * (# HELP, # TYPE) and then its samples, name{label="value",...} value,
 * label values escaped (backslash, double quote, newline). Families must
 * be written one after the other, each with all its samples (the format
 * does not allow a family to be split). Errors are sticky: the calls
 * return nothing; nf_metrics_end() tells whether everything was written.
 *
 *   struct nf_metrics m;
 *   nf_metrics_begin(&m, rs);
 *   nf_metrics_family(&m, "nfswitch_port_rx_packets_total", "counter",
 *                     "Frames received by the port.");
 *   nf_metrics_u64(&m, "nfswitch_port_rx_packets_total", 42, "port", "p0", NULL);
 *   return nf_metrics_end(&m);
 *
 * The counters come from the same JSON objects the control sockets send
 * ("stats" replies); nf_metrics_json_* turn such objects into samples, so
 * a counter is walked in one place and the two views always agree.
 */
#ifndef NF_METRICS_H
#define NF_METRICS_H

#include "nf_hist.h"
#include "nf_http.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>

#define NF_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct nf_metrics {
	struct nf_http_resp *rs;
	int err;		/* first failure (-ENOMEM, -EINVAL) */
};

/* Start a body in @rs (content type set). */
void nf_metrics_begin(struct nf_metrics *m, struct nf_http_resp *rs);
/* 0, or the first error of the calls since nf_metrics_begin(). */
int nf_metrics_end(struct nf_metrics *m);

/* # HELP and # TYPE lines; @type "counter", "gauge" or "histogram". */
void nf_metrics_family(struct nf_metrics *m, const char *name, const char *type,
		       const char *help);

/* One sample. The variable part is label name/value pairs ending in NULL:
 * nf_metrics_u64(m, "x_total", 3, "port", "p0", "reason", "crc", NULL). */
void nf_metrics_u64(struct nf_metrics *m, const char *name, uint64_t v, ...)
	__attribute__((sentinel));
void nf_metrics_f64(struct nf_metrics *m, const char *name, double v, ...)
	__attribute__((sentinel));
/* A family of one sample without labels: family + sample in one call. */
void nf_metrics_one(struct nf_metrics *m, const char *name, const char *type,
		    const char *help, double v);

/* A histogram sample set from @h (values in its unit, nanoseconds for
 * latencies) scaled by @scale (1e-9: seconds), cumulative counts at the
 * upper bounds @le[0..nle-1] (scaled units, ascending), then +Inf, _sum
 * and _count. The family's header is written by the caller. Labels as
 * above. A bucket of @h is counted under the first bound it lies wholly
 * below (a count may be one bucket late by up to 1/64 of the value). */
void nf_metrics_hist(struct nf_metrics *m, const char *name, const struct nf_hist *h,
		     double scale, const double *le, unsigned nle, ...)
	__attribute__((sentinel));

/* For a daemon whose HTTP server serves only metrics: true when @rq is
 * GET (or HEAD) /metrics; otherwise @rs is filled with 405 (another
 * method on /metrics) or 404 (another path) and false returned. */
int nf_metrics_request(const struct nf_http_req *rq, struct nf_http_resp *rs);

/* From a JSON object: the unsigned number at @key (0 when absent or not
 * a number). */
uint64_t nf_metrics_ju64(struct json_object *o, const char *key);
/* One sample per member of JSON object @o (name -> number): @name
 * {@label="member name", extra labels...}. For "drops by reason". */
void nf_metrics_json_each(struct nf_metrics *m, const char *name, struct json_object *o,
			  const char *label, ...) __attribute__((sentinel));

/* A family per column over a JSON array of objects (ports, rules...):
 * @cols[i].name{@label=element[@lkey]} = element[@cols[i].key] (a number,
 * or a boolean as 1/0). With @cols[i].each set, element[key] is an object
 * of numbers and each member is a sample with the extra label @each
 * ("reason": drops by reason). */
struct nf_metrics_col {
	const char *name, *type, *key, *help;
	const char *each;
};
void nf_metrics_json_table(struct nf_metrics *m, struct json_object *a, const char *label,
			   const char *lkey, const struct nf_metrics_col *cols, unsigned ncols);
/* A family of one sample per column: @cols[i].name = @o[@cols[i].key]. */
void nf_metrics_json_scalars(struct nf_metrics *m, struct json_object *o,
			     const struct nf_metrics_col *cols, unsigned ncols);

#endif
