/* nf_hist.h - a log-linear latency histogram (HDR-histogram-like).
 *
 * Values are unsigned 64-bit (nanoseconds for nf-gen). Every power of two
 * [2^k, 2^(k+1)) is split into 64 linear sub-buckets, so a bucket is at
 * most 1/64 of its lowest value wide: a reported percentile is within
 * 1/128 (0.8 %) of the exact one (it is the middle of the bucket holding
 * the exact one), and values below 128 are exact. The range is 0 ..
 * 2^37 - 1 ns (137 s) in 2048 buckets (16 KiB of counters); larger values
 * are counted in the top bucket. count, sum, min and max are exact.
 *
 * Recording is O(1) without division: the bucket index is one count of
 * leading zeros, a shift and an add:
 *	k = msb(v | 64), idx = ((k - 6) << 6) + (v >> (k - 6))
 * For v < 128 that is v itself; above, the top 7 significant bits of v
 * pick the bucket.
 *
 * Not thread-safe: one writer; merge per-thread histograms for totals.
 */
#ifndef NF_HIST_H
#define NF_HIST_H

#include <stdint.h>

#define NF_HIST_SUB_BITS	6
#define NF_HIST_SUB		(1u << NF_HIST_SUB_BITS)	/* per octave */
#define NF_HIST_MAX_LOG2	37		/* values < 2^37 resolved */
#define NF_HIST_MAX_VALUE	((1ull << NF_HIST_MAX_LOG2) - 1)
#define NF_HIST_BUCKETS		((NF_HIST_MAX_LOG2 - NF_HIST_SUB_BITS + 1) * \
				 NF_HIST_SUB)

struct nf_hist {
	uint64_t count;
	uint64_t sum;		/* wraps after 584 years of summed latency */
	uint64_t min;		/* UINT64_MAX while empty */
	uint64_t max;
	uint64_t b[NF_HIST_BUCKETS];
};

/* Bucket of a value (values above NF_HIST_MAX_VALUE go to the top one). */
static inline unsigned nf_hist_index(uint64_t v)
{
	unsigned k;

	if (__builtin_expect(v > NF_HIST_MAX_VALUE, 0))
		v = NF_HIST_MAX_VALUE;
	k = 63u - (unsigned)__builtin_clzll(v | NF_HIST_SUB);
	return ((k - NF_HIST_SUB_BITS) << NF_HIST_SUB_BITS) +
		(unsigned)(v >> (k - NF_HIST_SUB_BITS));
}

/* Smallest value and width of bucket @idx (< NF_HIST_BUCKETS): it holds
 * [low, low + width). */
static inline uint64_t nf_hist_bucket_low(unsigned idx)
{
	unsigned shift = idx < 2 * NF_HIST_SUB ? 0 :
		(idx >> NF_HIST_SUB_BITS) - 1;

	return (uint64_t)(idx - (shift << NF_HIST_SUB_BITS)) << shift;
}

static inline uint64_t nf_hist_bucket_width(unsigned idx)
{
	return idx < 2 * NF_HIST_SUB ? 1 :
		1ull << ((idx >> NF_HIST_SUB_BITS) - 1);
}

/* Empty the histogram. */
void nf_hist_init(struct nf_hist *h);

/* Record one value. */
static inline void nf_hist_record(struct nf_hist *h, uint64_t v)
{
	h->b[nf_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Record @n values at once, keeping count/sum/min/max in registers: the
 * form for a packet burst. */
void nf_hist_record_burst(struct nf_hist *h, const uint64_t *v, unsigned n);

/* Add every value of @src to @dst. */
void nf_hist_merge(struct nf_hist *dst, const struct nf_hist *src);

/* The value at quantile @num/@den (0 <= num <= den, den > 0) by the
 * nearest-rank method: the smallest recorded value v such that at least
 * ceil(count * num / den) values are <= v, reported as the middle of its
 * bucket clamped to [min, max]. 0 when empty; num == 0 gives min and
 * num == den gives max, both exact. */
uint64_t nf_hist_quantile(const struct nf_hist *h, uint64_t num, uint64_t den);

/* The same with a percentile in [0, 100], resolved to 1e-4 percent
 * (99.9 is exactly 999000/1000000; no floating-point rank rounding). */
uint64_t nf_hist_percentile(const struct nf_hist *h, double pct);

/* Exact mean; 0 when empty. */
double nf_hist_mean(const struct nf_hist *h);

/* Exact minimum (0 when empty) and maximum. */
static inline uint64_t nf_hist_min(const struct nf_hist *h)
{
	return h->count ? h->min : 0;
}

static inline uint64_t nf_hist_max(const struct nf_hist *h)
{
	return h->max;
}

#endif
