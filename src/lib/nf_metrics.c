/* nf_metrics.c - Prometheus text exposition (version 0.0.4). */
#include "nf_metrics.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct nf_metrics *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct nf_metrics *m, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (m->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		m->err = -EINVAL;
		return;
	}
	if (nf_http_printf(m->rs, "%s", buf) < 0)
		m->err = -ENOMEM;
}

/* @s with \ " and newline escaped (label values), or \ and newline (help). */
static void put_escaped(struct nf_metrics *m, const char *s, int quote)
{
	char buf[512];
	size_t n = 0;

	for (; *s; s++) {
		if (n + 3 >= sizeof(buf)) {
			buf[n] = '\0';
			put(m, "%s", buf);
			n = 0;
		}
		if (*s == '\\' || (quote && *s == '"')) {
			buf[n++] = '\\';
			buf[n++] = *s;
		} else if (*s == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	put(m, "%s", buf);
}

void nf_metrics_begin(struct nf_metrics *m, struct nf_http_resp *rs)
{
	m->rs = rs;
	m->err = 0;
	nf_strlcpy(rs->content_type, NF_METRICS_CONTENT_TYPE, sizeof(rs->content_type));
}

int nf_metrics_end(struct nf_metrics *m)
{
	return m->err;
}

void nf_metrics_family(struct nf_metrics *m, const char *name, const char *type,
		       const char *help)
{
	put(m, "# HELP %s ", name);
	put_escaped(m, help, 0);
	put(m, "\n# TYPE %s %s\n", name, type);
}

/* name[suffix]{labels from @ap..., @lk="@lv"} value */
static void sample(struct nf_metrics *m, const char *name, const char *suffix,
		   const char *val, va_list ap, const char *lk, const char *lv)
{
	const char *k, *v;
	int n = 0;

	put(m, "%s%s", name, suffix);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		put(m, "%s%s=\"", n++ ? "," : "{", k);
		put_escaped(m, v ? v : "", 1);
		put(m, "\"");
	}
	if (lk != NULL) {
		put(m, "%s%s=\"", n++ ? "," : "{", lk);
		put_escaped(m, lv, 1);
		put(m, "\"");
	}
	put(m, "%s %s\n", n ? "}" : "", val);
}

static void fmt_f64(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "NaN");
	else if (isinf(v))
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(buf, n, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, n, "%.17g", v);
	}
}

void nf_metrics_u64(struct nf_metrics *m, const char *name, uint64_t v, ...)
{
	char val[24];
	va_list ap;

	snprintf(val, sizeof(val), "%" PRIu64, v);
	va_start(ap, v);
	sample(m, name, "", val, ap, NULL, NULL);
	va_end(ap);
}

void nf_metrics_f64(struct nf_metrics *m, const char *name, double v, ...)
{
	char val[40];
	va_list ap;

	fmt_f64(val, sizeof(val), v);
	va_start(ap, v);
	sample(m, name, "", val, ap, NULL, NULL);
	va_end(ap);
}

void nf_metrics_one(struct nf_metrics *m, const char *name, const char *type,
		    const char *help, double v)
{
	nf_metrics_family(m, name, type, help);
	nf_metrics_f64(m, name, v, NULL);
}

void nf_metrics_hist(struct nf_metrics *m, const char *name, const struct nf_hist *h,
		     double scale, const double *le, unsigned nle, ...)
{
	char val[40], bound[40];
	uint64_t cum = 0;
	unsigned idx, j = 0;
	va_list ap, aq;

	va_start(ap, nle);
	for (idx = 0; idx < NF_HIST_BUCKETS && j < nle; idx++) {
		double hi;

		if (h->b[idx] == 0)
			continue;
		hi = (double)(nf_hist_bucket_low(idx) + nf_hist_bucket_width(idx) - 1) * scale;
		for (; j < nle && le[j] * (1 + 1e-9) < hi; j++) {	/* rounding of the scale */
			fmt_f64(bound, sizeof(bound), le[j]);
			snprintf(val, sizeof(val), "%" PRIu64, cum);
			va_copy(aq, ap);
			sample(m, name, "_bucket", val, aq, "le", bound);
			va_end(aq);
		}
		cum += h->b[idx];
	}
	for (; j < nle; j++) {
		fmt_f64(bound, sizeof(bound), le[j]);
		snprintf(val, sizeof(val), "%" PRIu64, cum);
		va_copy(aq, ap);
		sample(m, name, "_bucket", val, aq, "le", bound);
		va_end(aq);
	}
	snprintf(val, sizeof(val), "%" PRIu64, h->count);
	va_copy(aq, ap);
	sample(m, name, "_bucket", val, aq, "le", "+Inf");
	va_end(aq);
	fmt_f64(bound, sizeof(bound), (double)h->sum * scale);
	va_copy(aq, ap);
	sample(m, name, "_sum", bound, aq, NULL, NULL);
	va_end(aq);
	sample(m, name, "_count", val, ap, NULL, NULL);
	va_end(ap);
}

uint64_t nf_metrics_ju64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return 0;
	return json_object_get_uint64(v);
}

void nf_metrics_json_each(struct nf_metrics *m, const char *name, struct json_object *o,
			  const char *label, ...)
{
	char val[24];
	va_list ap, aq;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return;
	va_start(ap, label);
	json_object_object_foreach(o, k, v) {
		if (!json_object_is_type(v, json_type_int))
			continue;
		snprintf(val, sizeof(val), "%" PRIu64, json_object_get_uint64(v));
		va_copy(aq, ap);
		sample(m, name, "", val, aq, label, k);
		va_end(aq);
	}
	va_end(ap);
}

int nf_metrics_request(const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	if (strcmp(rq->path, "/metrics") != 0) {
		rs->status = 404;
		nf_http_printf(rs, "no page %s here: metrics are at /metrics\n", rq->path);
		return 0;
	}
	if (strcmp(rq->method, "GET") != 0) {
		rs->status = 405;
		nf_strlcpy(rs->headers, "Allow: GET, HEAD\r\n", sizeof(rs->headers));
		nf_http_printf(rs, "/metrics answers GET only\n");
		return 0;
	}
	return 1;
}

void nf_metrics_json_table(struct nf_metrics *m, struct json_object *a, const char *label,
			   const char *lkey, const struct nf_metrics_col *cols, unsigned ncols)
{
	size_t i, n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	unsigned c;

	for (c = 0; c < ncols; c++) {
		nf_metrics_family(m, cols[c].name, cols[c].type, cols[c].help);
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(a, i);
			struct json_object *v = json_object_object_get(e, cols[c].key);
			const char *lv = json_object_get_string(json_object_object_get(e, lkey));

			if (cols[c].each != NULL)
				nf_metrics_json_each(m, cols[c].name, v, cols[c].each, label, lv,
						     NULL);
			else
				nf_metrics_u64(m, cols[c].name,
					       json_object_is_type(v, json_type_boolean) ?
					       (uint64_t)json_object_get_boolean(v) :
					       nf_metrics_ju64(e, cols[c].key), label, lv, NULL);
		}
	}
}

void nf_metrics_json_scalars(struct nf_metrics *m, struct json_object *o,
			     const struct nf_metrics_col *cols, unsigned ncols)
{
	unsigned i;

	for (i = 0; i < ncols; i++) {
		nf_metrics_family(m, cols[i].name, cols[i].type, cols[i].help);
		nf_metrics_u64(m, cols[i].name, nf_metrics_ju64(o, cols[i].key), NULL);
	}
}
