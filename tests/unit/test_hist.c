/* test_hist.c - nf_hist: bucket layout, percentiles against exact ones
 * computed from sorted samples, exact min/max/mean, merge, clamping. */
#include "harness.h"
#include "nf_hist.h"

#include <stdlib.h>
#include <string.h>

#define NF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile num/den of sorted v[0..n-1]. */
static uint64_t exact_q(const uint64_t *v, size_t n, uint64_t num, uint64_t den)
{
	uint64_t rank = (n * num + den - 1) / den;

	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

/* Every bucket is at most 1/64 of its lower bound wide, so the middle of
 * the bucket is within 1/128 of any value in it. */
static int close_enough(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	return d * 128 <= want;
}

static const struct { uint64_t num, den; } qs[] = {
	{ 1, 100 }, { 10, 100 }, { 25, 100 }, { 50, 100 }, { 75, 100 },
	{ 90, 100 }, { 99, 100 }, { 999, 1000 }, { 9999, 10000 }, { 1, 1000000 },
};

/* Record @n samples, compare every quantile with the exact one. */
static int check_dist(uint64_t *v, size_t n)
{
	static struct nf_hist h;
	unsigned i;
	uint64_t sum = 0;
	int bad = 0;

	nf_hist_init(&h);
	for (i = 0; i < n; i++) {
		nf_hist_record(&h, v[i]);
		sum += v[i];
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < NF_ARRAY_LEN(qs); i++) {
		uint64_t want = exact_q(v, n, qs[i].num, qs[i].den);
		uint64_t got = nf_hist_quantile(&h, qs[i].num, qs[i].den);

		if (!close_enough(got, want)) {
			printf("# q=%llu/%llu got %llu want %llu\n",
			       (unsigned long long)qs[i].num,
			       (unsigned long long)qs[i].den,
			       (unsigned long long)got, (unsigned long long)want);
			bad++;
		}
	}
	bad += nf_hist_min(&h) != v[0];
	bad += nf_hist_max(&h) != v[n - 1];
	bad += h.count != n || h.sum != sum;
	bad += nf_hist_quantile(&h, 0, 1) != v[0];
	bad += nf_hist_quantile(&h, 1, 1) != v[n - 1];
	return bad == 0;
}

int main(void)
{
	static struct nf_hist h, h2, h3;
	static uint64_t v[200000];
	uint64_t x, prev_idx = 0;
	int ok, i;
	size_t n;

	/* Layout: every value lies in its bucket, indices never go down,
	 * widths respect the error bound, small values are exact. */
	ok = 1;
	for (x = 0; x < 300000 && ok; x++) {
		unsigned idx = nf_hist_index(x);
		uint64_t lo = nf_hist_bucket_low(idx), w = nf_hist_bucket_width(idx);

		ok = idx < NF_HIST_BUCKETS && lo <= x && x < lo + w &&
			idx >= prev_idx && (x < 128 ? w == 1 && idx == x : w * 64 <= lo);
		prev_idx = idx;
	}
	NF_TEST("0..300000: each value in its bucket, monotonic, width <= low/64", ok);
	ok = 1;
	for (i = 0; i < 100000 && ok; i++) {
		unsigned idx;
		uint64_t lo, w;

		x = xrand() >> (xrand() % 64);
		if (x > NF_HIST_MAX_VALUE)
			x &= NF_HIST_MAX_VALUE;
		idx = nf_hist_index(x);
		lo = nf_hist_bucket_low(idx);
		w = nf_hist_bucket_width(idx);
		ok = idx < NF_HIST_BUCKETS && lo <= x && x < lo + w;
	}
	NF_TEST("random values up to 2^37: each in its bucket", ok);
	NF_TEST("top value maps to the last bucket",
		nf_hist_index(NF_HIST_MAX_VALUE) == NF_HIST_BUCKETS - 1 &&
		nf_hist_index(UINT64_MAX) == NF_HIST_BUCKETS - 1 &&
		nf_hist_bucket_low(NF_HIST_BUCKETS - 1) +
		nf_hist_bucket_width(NF_HIST_BUCKETS - 1) == NF_HIST_MAX_VALUE + 1);
	ok = 1;
	for (i = 1; i < (int)NF_HIST_BUCKETS && ok; i++)
		ok = nf_hist_bucket_low((unsigned)i) ==
			nf_hist_bucket_low((unsigned)i - 1) +
			nf_hist_bucket_width((unsigned)i - 1);
	NF_TEST("buckets tile the range without gaps", ok);

	/* Empty. */
	nf_hist_init(&h);
	NF_TEST("empty: count 0, quantiles 0, min 0, mean 0",
		h.count == 0 && nf_hist_percentile(&h, 50) == 0 &&
		nf_hist_min(&h) == 0 && nf_hist_max(&h) == 0 &&
		nf_hist_mean(&h) == 0.0);

	/* 1..1000: p99.9 is the 999th value (no floating-point rank slip). */
	for (i = 1; i <= 1000; i++)
		nf_hist_record(&h, (uint64_t)i);
	NF_TEST("1..1000: p50 = 500 within the bucket error",
		close_enough(nf_hist_percentile(&h, 50), 500));
	NF_TEST("1..1000: p99.9 = 999 within the bucket error (rank 999, not 1000)",
		close_enough(nf_hist_percentile(&h, 99.9), 999) &&
		nf_hist_quantile(&h, 999, 1000) == nf_hist_percentile(&h, 99.9));
	NF_TEST("1..1000: p100 = max 1000, p0 = min 1, mean 500.5 exact",
		nf_hist_percentile(&h, 100) == 1000 &&
		nf_hist_percentile(&h, 0) == 1 && nf_hist_mean(&h) == 500.5);
	NF_TEST("values below 128 are exact: p10 = 100",
		nf_hist_percentile(&h, 10) == 100);

	/* Distributions against exact sorted percentiles. */
	n = NF_ARRAY_LEN(v);
	for (i = 0; i < (int)n; i++)
		v[i] = 1 + xrand() % 1000000;
	NF_TEST("uniform 1..1e6 ns: percentiles within 1/128, min/max/sum exact",
		check_dist(v, n));
	for (i = 0; i < (int)n; i++)	/* log-uniform over 1 ns .. 100 s */
		v[i] = 1 + ((xrand() % 100000000000ull) >> (xrand() % 37));
	NF_TEST("log-uniform 1 ns..100 s: percentiles within 1/128",
		check_dist(v, n));
	for (i = 0; i < (int)n; i++)	/* bimodal: 2 us and a 1% tail at 5 ms */
		v[i] = i % 100 == 0 ? 5000000 + xrand() % 100000 :
			2000 + xrand() % 300;
	NF_TEST("bimodal 2 us / 1% at 5 ms: percentiles within 1/128",
		check_dist(v, n));
	for (i = 0; i < 1000; i++)
		v[i] = 42;
	NF_TEST("constant 42: every percentile is 42", check_dist(v, 1000));

	/* Burst recording equals one by one; merge equals recording all. */
	for (i = 0; i < 10000; i++)
		v[i] = xrand() % 50000000;
	nf_hist_init(&h);
	nf_hist_init(&h2);
	for (i = 0; i < 10000; i++)
		nf_hist_record(&h, v[i]);
	for (i = 0; i < 10000; i += 32)
		nf_hist_record_burst(&h2, v + i, 10000 - i < 32 ? 10000 - i : 32);
	NF_TEST("record_burst equals record", memcmp(&h, &h2, sizeof(h)) == 0);
	nf_hist_init(&h2);
	nf_hist_init(&h3);
	for (i = 0; i < 10000; i++)
		nf_hist_record(i < 3000 ? &h2 : &h3, v[i]);
	nf_hist_merge(&h2, &h3);
	NF_TEST("merge of two halves equals the whole",
		memcmp(&h, &h2, sizeof(h)) == 0);
	nf_hist_init(&h3);
	nf_hist_merge(&h2, &h3);
	NF_TEST("merging an empty histogram changes nothing",
		memcmp(&h, &h2, sizeof(h)) == 0);
	nf_hist_merge(&h3, &h);
	NF_TEST("merging into an empty one copies it",
		memcmp(&h, &h3, sizeof(h)) == 0);

	/* Beyond the range: clamped into the top bucket, max stays exact. */
	nf_hist_init(&h);
	nf_hist_record(&h, 1000);
	nf_hist_record(&h, 1ull << 45);
	NF_TEST("2^45 ns: counted, max exact, p100 exact, p50 = 1000 (exact bucket mid clamped)",
		h.count == 2 && nf_hist_max(&h) == 1ull << 45 &&
		nf_hist_percentile(&h, 100) == 1ull << 45 &&
		close_enough(nf_hist_percentile(&h, 50), 1000) &&
		h.b[NF_HIST_BUCKETS - 1] == 1);
	nf_hist_init(&h);
	nf_hist_record(&h, 0);
	NF_TEST("0 is recorded in bucket 0",
		h.b[0] == 1 && nf_hist_min(&h) == 0 && nf_hist_percentile(&h, 99) == 0);
	return nf_test_report();
}
