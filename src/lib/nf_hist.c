/* nf_hist.c - log-linear histogram: burst recording, merge, quantiles.
 * See nf_hist.h for the bucket layout and its error bound.
 *
 * Cost: nf_hist_record_burst() is about 8 instructions per value (clz,
 * shift, add, one counter increment in memory; min/max/sum in registers).
 * A quantile query walks at most 2048 buckets.
 */
#include "nf_hist.h"

#include <math.h>
#include <string.h>

void nf_hist_init(struct nf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void nf_hist_record_burst(struct nf_hist *h, const uint64_t *v, unsigned n)
{
	uint64_t sum = 0, mn = h->min, mx = h->max;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t x = v[i];

		h->b[nf_hist_index(x)]++;
		sum += x;
		mn = x < mn ? x : mn;
		mx = x > mx ? x : mx;
	}
	h->count += n;
	h->sum += sum;
	h->min = mn;
	h->max = mx;
}

void nf_hist_merge(struct nf_hist *dst, const struct nf_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < NF_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t nf_hist_quantile(const struct nf_hist *h, uint64_t num, uint64_t den)
{
	unsigned __int128 r;
	uint64_t rank, cum = 0, v;
	unsigned i;

	if (h->count == 0 || den == 0)
		return 0;
	if (num == 0)
		return h->min;
	if (num >= den)
		return h->max;
	r = ((unsigned __int128)h->count * num + den - 1) / den;
	rank = (uint64_t)r;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < NF_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank)
			break;
	}
	if (i == NF_HIST_BUCKETS)	/* counters and count disagree */
		return h->max;
	v = nf_hist_bucket_low(i) + nf_hist_bucket_width(i) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

uint64_t nf_hist_percentile(const struct nf_hist *h, double pct)
{
	double ppm;

	if (!(pct > 0))		/* also NaN */
		return nf_hist_quantile(h, 0, 1);
	if (pct >= 100)
		return nf_hist_quantile(h, 1, 1);
	ppm = round(pct * 10000.0);
	return nf_hist_quantile(h, (uint64_t)ppm, 1000000);
}

double nf_hist_mean(const struct nf_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
