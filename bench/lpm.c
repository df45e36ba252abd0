/* bench/lpm.c - nf_lpm4 / nf_lpm6: table load time, memory, lookup rates,
 * update costs. Built and run by bench/lpm.sh (not by the Makefile).
 *
 *   lpm [-w] [-r RUNS] [-n LOOKUPS] [-j FILE.json] V4ROUTES V6ROUTES
 *
 * Route files are scripts/gen-routes output ("prefix/len nh" lines).
 * Every figure is the median of RUNS (default 5) runs; the machine is
 * shared and noisy. Times are this thread's CPU time (-w: wall clock), so
 * that a process sharing the CPU does not halve the figures; the share of
 * wall time the thread got is printed at the end. Single thread, no
 * pinning here (bench/lpm.sh pins).
 *
 * Lookup sets (LOOKUPS addresses each, default 4M, every run goes through
 * the set 4 times):
 *   random   uniform addresses (IPv4: all 2^32; IPv6: all 2^128, where
 *            7/8 fall outside 2000::/3 and stop at tbl24, and uniform in
 *            2000::/3 as a second, harder set)
 *   hits     a random route of the table, random host bits: every lookup
 *            finds a route, and IPv6 ones walk the groups down to it
 * Lookup modes: scalar (nf_lpm*_lookup in a loop), bulk32 and bulk64
 * (nf_lpm*_lookup_bulk on blocks of 32 / 64 addresses).
 */
#include "nf_lpm4.h"
#include "nf_lpm6.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int runs = 5;
static unsigned nlook = 1u << 22;
static FILE *json;

static int wall;		/* -w: wall-clock time, not thread CPU time */

/* The clock of every figure: by default this thread's CPU time, so that
 * another process sharing the CPU does not count (its cache pollution
 * still does); -w for wall-clock time. */
static uint64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "lpm: %s: %s (%d)\n", what, nf_last_error(), ret);
	exit(1);
}

static void json_kv(const char *key, double v, int last)
{
	if (json)
		fprintf(json, "  \"%s\": %.4f%s\n", key, v, last ? "" : ",");
}

static void print_stats(const char *fam, const struct nf_lpm_stats *st,
			long rss_delta)
{
	printf("%s memory: %.1f MiB allocated (first level %.1f, %u groups "
	       "in use of %u allocated %.1f, rules %.1f); RSS grew %.1f MiB "
	       "on the first load\n", fam, st->total_bytes / 1048576.0,
	       st->tbl_bytes / 1048576.0, st->groups, st->groups_cap,
	       st->group_bytes / 1048576.0, st->rule_bytes / 1048576.0,
	       rss_delta / 1024.0);
}

/* ================= IPv4 ================= */

struct route4 {
	uint32_t p, nh;
	uint8_t d;
};

static struct route4 *read4(const char *path, unsigned *n)
{
	FILE *f = fopen(path, "r");
	struct route4 *r = NULL;
	unsigned cap = 0, a, b, c, d, len, nh;
	char line[128];

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		int k = sscanf(line, "%u.%u.%u.%u/%u %u", &a, &b, &c, &d, &len, &nh);

		if (k < 5)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			r = realloc(r, cap * sizeof(*r));
			if (r == NULL)
				exit(1);
		}
		r[*n].p = a << 24 | b << 16 | c << 8 | d;
		r[*n].d = (uint8_t)len;
		r[*n].nh = k == 6 ? nh : *n & 0xffff;
		(*n)++;
	}
	fclose(f);
	return r;
}

static struct nf_lpm4 *load4(const struct route4 *r, unsigned n, double *s)
{
	struct nf_lpm4 *l;
	uint64_t t0 = bench_ns();
	unsigned i;
	int ret;

	ret = nf_lpm4_create(&l, n + 1024);
	if (ret < 0)
		die("create", ret);
	for (i = 0; i < n; i++) {
		ret = nf_lpm4_add(l, r[i].p, r[i].d, r[i].nh);
		if (ret < 0)
			die("add", ret);
	}
	*s = (bench_ns() - t0) / 1e9;
	return l;
}

/* Mlookups/s of one pass mode over @ips (4 times through); *sum gets a
 * checksum of the answers. */
static double run4(const struct nf_lpm4 *l, const uint32_t *ips, int mode,
		   uint64_t *sum)
{
	uint32_t out[64];
	uint64_t t0, s = 0;
	unsigned rep, i, k;

	t0 = bench_ns();
	for (rep = 0; rep < 4; rep++) {
		if (mode == 0) {
			for (i = 0; i < nlook; i++) {
				uint32_t nh;

				nf_lpm4_lookup(l, ips[i], &nh);
				s += nh;
			}
		} else {
			unsigned b = mode == 1 ? 32 : 64;

			for (i = 0; i + b <= nlook; i += b) {
				nf_lpm4_lookup_bulk(l, ips + i, out, b);
				for (k = 0; k < b; k++)
					s += out[k];
			}
		}
	}
	*sum = s;
	return 4.0 * nlook / ((bench_ns() - t0) / 1e3);
}

static const char *mode_name[] = { "scalar", "bulk32", "bulk64" };

static void lookups4(const struct nf_lpm4 *l, const uint32_t *ips,
		     const char *set)
{
	double v[3][64], med[3];
	uint64_t sums[3] = { 0 };
	int m, r;
	char key[64];

	for (r = 0; r < runs; r++)
		for (m = 0; m < 3; m++)	/* interleaved: same conditions */
			v[m][r] = run4(l, ips, m, &sums[m]);
	for (m = 0; m < 3; m++) {
		med[m] = median(v[m], runs);
		snprintf(key, sizeof(key), "v4_%s_%s_mlps", set, mode_name[m]);
		json_kv(key, med[m], 0);
	}
	printf("IPv4 %-7s lookups, M/s (median of %d): scalar %6.1f  bulk32 "
	       "%6.1f  bulk64 %6.1f%s\n", set, runs, med[0], med[1], med[2],
	       sums[0] == sums[1] && sums[1] == sums[2] ? "" :
	       "  MISMATCH between modes");
	printf("     samples (sorted):");
	for (m = 0; m < 3; m++) {
		printf(" %s", mode_name[m]);
		for (r = 0; r < runs; r++)
			printf(" %.0f", v[m][r]);
	}
	printf("\n");
}

static void bench4(const char *path)
{
	struct route4 *rt;
	struct nf_lpm4 *l = NULL;
	struct nf_lpm_stats st;
	double load[64], upd[64];
	uint32_t *rnd_ips, *hit_ips, nh;
	unsigned n, i, miss = 0, k;
	long rss0, rss1 = 0;
	int r, ret;

	rt = read4(path, &n);
	printf("IPv4: %u routes from %s\n", n, path);
	/* Pages touched: the first load only (later ones reuse heap
	 * memory the previous one freed). */
	for (r = 0; r < runs; r++) {
		if (l)
			nf_lpm4_free(l);
		rss0 = rss_kib();
		l = load4(rt, n, &load[r]);
		if (r == 0)
			rss1 = rss_kib() - rss0;
	}
	nf_lpm4_stats(l, &st);
	printf("IPv4 load: %.3f s median, samples (sorted)", median(load, runs));
	for (r = 0; r < runs; r++)
		printf(" %.3f", load[r]);
	printf(" (target < 3 s)\n");
	json_kv("v4_routes", n, 0);
	json_kv("v4_load_s", median(load, runs), 0);
	json_kv("v4_load_max_s", load[runs - 1], 0);
	print_stats("IPv4", &st, rss1);
	json_kv("v4_mem_mib", st.total_bytes / 1048576.0, 0);
	json_kv("v4_rss_mib", rss1 / 1024.0, 0);

	rnd_ips = malloc(nlook * sizeof(uint32_t));
	hit_ips = malloc(nlook * sizeof(uint32_t));
	if (rnd_ips == NULL || hit_ips == NULL)
		exit(1);
	for (i = 0; i < nlook; i++) {
		const struct route4 *x = &rt[xrand() % n];
		uint32_t host = x->d ? 0xffffffffu >> x->d : 0xffffffffu;

		if (x->d == 32)
			host = 0;
		rnd_ips[i] = (uint32_t)xrand();
		hit_ips[i] = x->p | ((uint32_t)xrand() & host);
		miss += nf_lpm4_lookup(l, rnd_ips[i], &nh) != 0;
	}
	printf("IPv4 random addresses with a route: %.1f %%\n",
	       100.0 * (nlook - miss) / nlook);
	lookups4(l, rnd_ips, "random");
	lookups4(l, hit_ips, "hits");

	/* Updates: delete and re-add 100,000 random routes of the table
	 * (each delete searches the covering route). */
	k = NF_MIN(n, 100000u);
	for (r = 0; r < runs; r++) {
		uint64_t t0 = bench_ns();

		for (i = 0; i < k; i++) {
			const struct route4 *x = &rt[(i * 7919u + (unsigned)r) % n];

			ret = nf_lpm4_del(l, x->p, x->d);
			if (ret == 0)
				ret = nf_lpm4_add(l, x->p, x->d, x->nh);
			if (ret < 0)
				die("update", ret);
		}
		upd[r] = (bench_ns() - t0) / 1e3 / (2.0 * k);
	}
	printf("IPv4 updates: %.3f us per delete or add (median, %u pairs "
	       "of random routes)\n", median(upd, runs), k);
	json_kv("v4_update_us", median(upd, runs), 0);
	/* A /8 and a /32 into the full table, and out again. */
	{
		static const struct { uint32_t p; uint8_t d; } one[] = {
			{ 0x0b000000, 8 }, { 0x0b0a0b0c, 32 }, { 0xc0000000, 4 } };

		for (i = 0; i < NF_ARRAY_SIZE(one); i++) {
			double add_us[64], del_us[64];

			if (nf_lpm4_get(l, one[i].p, one[i].d, &nh) == 0)
				continue;
			for (r = 0; r < runs; r++) {
				/* One call: the vDSO wall clock (reading
				 * the thread CPU clock is a system call). */
				uint64_t t0 = nf_now_ns(), t1;

				nf_lpm4_add(l, one[i].p, one[i].d, 1);
				t1 = nf_now_ns();
				nf_lpm4_del(l, one[i].p, one[i].d);
				add_us[r] = (t1 - t0) / 1e3;
				del_us[r] = (nf_now_ns() - t1) / 1e3;
			}
			printf("IPv4 add /%u: %.1f us, delete: %.1f us\n",
			       one[i].d, median(add_us, runs),
			       median(del_us, runs));
		}
	}
	nf_lpm4_free(l);
	free(rnd_ips);
	free(hit_ips);
	free(rt);
}

/* ================= IPv6 ================= */

struct route6 {
	uint8_t p[16];
	uint8_t d;
	uint32_t nh;
};

static struct route6 *read6(const char *path, unsigned *n)
{
	FILE *f = fopen(path, "r");
	struct route6 *r = NULL;
	unsigned cap = 0, len, nh;
	char line[160], txt[64];

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		int k = sscanf(line, "%63[0-9a-fA-F:.]/%u %u", txt, &len, &nh);

		if (k < 2)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			r = realloc(r, cap * sizeof(*r));
			if (r == NULL)
				exit(1);
		}
		if (inet_pton(AF_INET6, txt, r[*n].p) != 1)
			continue;
		r[*n].d = (uint8_t)len;
		r[*n].nh = k == 3 ? nh : *n & 0xffff;
		(*n)++;
	}
	fclose(f);
	return r;
}

static struct nf_lpm6 *load6(const struct route6 *r, unsigned n, double *s)
{
	struct nf_lpm6 *l;
	uint64_t t0 = bench_ns();
	unsigned i;
	int ret;

	ret = nf_lpm6_create(&l, n + 1024);
	if (ret < 0)
		die("create", ret);
	for (i = 0; i < n; i++) {
		ret = nf_lpm6_add(l, r[i].p, r[i].d, r[i].nh);
		if (ret < 0)
			die("add", ret);
	}
	*s = (bench_ns() - t0) / 1e9;
	return l;
}

static double run6(const struct nf_lpm6 *l, const uint8_t *ips, int mode,
		   uint64_t *sum)
{
	uint32_t out[64];
	uint64_t t0, s = 0;
	unsigned rep, i, k;

	t0 = bench_ns();
	for (rep = 0; rep < 4; rep++) {
		if (mode == 0) {
			for (i = 0; i < nlook; i++) {
				uint32_t nh;

				nf_lpm6_lookup(l, ips + 16 * (size_t)i, &nh);
				s += nh;
			}
		} else {
			unsigned b = mode == 1 ? 32 : 64;

			for (i = 0; i + b <= nlook; i += b) {
				nf_lpm6_lookup_bulk(l, ips + 16 * (size_t)i, out, b);
				for (k = 0; k < b; k++)
					s += out[k];
			}
		}
	}
	*sum = s;
	return 4.0 * nlook / ((bench_ns() - t0) / 1e3);
}

static void lookups6(const struct nf_lpm6 *l, const uint8_t *ips,
		     const char *set)
{
	double v[3][64], med[3];
	uint64_t sums[3] = { 0 };
	int m, r;
	char key[64];

	for (r = 0; r < runs; r++)
		for (m = 0; m < 3; m++)
			v[m][r] = run6(l, ips, m, &sums[m]);
	for (m = 0; m < 3; m++) {
		med[m] = median(v[m], runs);
		snprintf(key, sizeof(key), "v6_%s_%s_mlps", set, mode_name[m]);
		json_kv(key, med[m], 0);
	}
	printf("IPv6 %-7s lookups, M/s (median of %d): scalar %6.1f  bulk32 "
	       "%6.1f  bulk64 %6.1f%s\n", set, runs, med[0], med[1], med[2],
	       sums[0] == sums[1] && sums[1] == sums[2] ? "" :
	       "  MISMATCH between modes");
	printf("     samples (sorted):");
	for (m = 0; m < 3; m++) {
		printf(" %s", mode_name[m]);
		for (r = 0; r < runs; r++)
			printf(" %.0f", v[m][r]);
	}
	printf("\n");
}

static void rand_bytes(uint8_t *p, unsigned n)
{
	while (n--)
		*p++ = (uint8_t)(xrand() >> 24);
}

static void bench6(const char *path)
{
	struct route6 *rt;
	struct nf_lpm6 *l = NULL;
	struct nf_lpm_stats st;
	double load[64], upd[64];
	uint8_t *rnd_ips, *g_ips, *hit_ips;
	unsigned n, i, j, k, miss = 0, gmiss = 0, depth_hist[4] = { 0 };
	uint32_t nh;
	long rss0, rss1 = 0;
	int r, ret;

	rt = read6(path, &n);
	printf("IPv6: %u routes from %s\n", n, path);
	/* Pages touched: the first load only (later ones reuse heap
	 * memory the previous one freed). */
	for (r = 0; r < runs; r++) {
		if (l)
			nf_lpm6_free(l);
		rss0 = rss_kib();
		l = load6(rt, n, &load[r]);
		if (r == 0)
			rss1 = rss_kib() - rss0;
	}
	nf_lpm6_stats(l, &st);
	printf("IPv6 load: %.3f s median, samples (sorted)", median(load, runs));
	for (r = 0; r < runs; r++)
		printf(" %.3f", load[r]);
	printf(" (target < 3 s)\n");
	json_kv("v6_routes", n, 0);
	json_kv("v6_load_s", median(load, runs), 0);
	json_kv("v6_load_max_s", load[runs - 1], 0);
	print_stats("IPv6", &st, rss1);
	json_kv("v6_mem_mib", st.total_bytes / 1048576.0, 0);
	json_kv("v6_rss_mib", rss1 / 1024.0, 0);

	rnd_ips = malloc(16 * (size_t)nlook);
	g_ips = malloc(16 * (size_t)nlook);
	hit_ips = malloc(16 * (size_t)nlook);
	if (rnd_ips == NULL || g_ips == NULL || hit_ips == NULL)
		exit(1);
	for (i = 0; i < nlook; i++) {
		const struct route6 *x = &rt[xrand() % n];
		uint8_t *h = hit_ips + 16 * (size_t)i, *g = g_ips + 16 * (size_t)i;

		rand_bytes(rnd_ips + 16 * (size_t)i, 16);
		rand_bytes(g, 16);
		g[0] = (uint8_t)(0x20 | (g[0] & 0x1f));	/* 2000::/3 */
		rand_bytes(h, 16);
		for (j = 0; j < x->d; j++) {
			uint8_t bit = (uint8_t)(0x80 >> (j % 8));

			h[j / 8] = (uint8_t)((h[j / 8] & ~bit) | (x->p[j / 8] & bit));
		}
		miss += nf_lpm6_lookup(l, rnd_ips + 16 * (size_t)i, &nh) != 0;
		gmiss += nf_lpm6_lookup(l, g, &nh) != 0;
		depth_hist[x->d <= 32 ? 0 : x->d <= 48 ? 1 : x->d <= 64 ? 2 : 3]++;
	}
	printf("IPv6 addresses with a route: random %.2f %%, random in "
	       "2000::/3 %.2f %%; hits by route length: <=32 %.0f %%, 33-48 "
	       "%.0f %%, 49-64 %.0f %%\n", 100.0 * (nlook - miss) / nlook,
	       100.0 * (nlook - gmiss) / nlook, 100.0 * depth_hist[0] / nlook,
	       100.0 * depth_hist[1] / nlook, 100.0 * depth_hist[2] / nlook);
	lookups6(l, rnd_ips, "random");
	lookups6(l, g_ips, "2000_3");
	lookups6(l, hit_ips, "hits");

	k = NF_MIN(n, 100000u);
	for (r = 0; r < runs; r++) {
		uint64_t t0 = bench_ns();

		for (i = 0; i < k; i++) {
			const struct route6 *x = &rt[(i * 7919u + (unsigned)r) % n];

			ret = nf_lpm6_del(l, x->p, x->d);
			if (ret == 0)
				ret = nf_lpm6_add(l, x->p, x->d, x->nh);
			if (ret < 0)
				die("update", ret);
		}
		upd[r] = (bench_ns() - t0) / 1e3 / (2.0 * k);
	}
	printf("IPv6 updates: %.3f us per delete or add (median, %u pairs "
	       "of random routes)\n", median(upd, runs), k);
	json_kv("v6_update_us", median(upd, runs), 1);
	{
		static const struct { const char *p; uint8_t d; } one[] = {
			{ "2000::", 3 }, { "2a00::", 12 }, { "2001:db8::", 32 },
			{ "2001:db8:1:2:3:4:5:6", 128 } };
		uint8_t p[16];

		for (i = 0; i < NF_ARRAY_SIZE(one); i++) {
			double add_us[64], del_us[64];

			inet_pton(AF_INET6, one[i].p, p);
			if (nf_lpm6_get(l, p, one[i].d, &nh) == 0)
				continue;
			for (r = 0; r < runs; r++) {
				/* One call: the vDSO wall clock (reading
				 * the thread CPU clock is a system call). */
				uint64_t t0 = nf_now_ns(), t1;

				nf_lpm6_add(l, p, one[i].d, 1);
				t1 = nf_now_ns();
				nf_lpm6_del(l, p, one[i].d);
				add_us[r] = (t1 - t0) / 1e3;
				del_us[r] = (nf_now_ns() - t1) / 1e3;
			}
			printf("IPv6 add %s/%u: %.1f us, delete: %.1f us\n",
			       one[i].p, one[i].d, median(add_us, runs),
			       median(del_us, runs));
		}
	}
	nf_lpm6_free(l);
	free(rnd_ips);
	free(g_ips);
	free(hit_ips);
	free(rt);
}

int main(int argc, char **argv)
{
	const char *json_path = NULL;
	uint64_t v, w0, c0;
	int o;

	while ((o = getopt(argc, argv, "r:n:j:w")) != -1) {
		switch (o) {
		case 'w':
			wall = 1;
			break;
		case 'r':
			if (nf_parse_u64(optarg, 1, 63, 0, &v) < 0)
				goto usage;
			runs = (int)v;
			break;
		case 'n':
			if (nf_parse_u64(optarg, 1024, 1u << 26, 1, &v) < 0)
				goto usage;
			nlook = (unsigned)v & ~63u;
			break;
		case 'j':
			json_path = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	if (json_path) {
		json = fopen(json_path, "w");
		if (json == NULL) {
			perror(json_path);
			return 1;
		}
		fprintf(json, "{\n");
	}
	/* A fixed mmap threshold (glibc raises it when a large block is
	 * freed): the IPv6 table, loaded after the IPv4 one is freed, then
	 * grows its arrays as in a fresh process, and RSS says so. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	w0 = nf_now_ns();
	c0 = bench_cpu_ns();
	bench4(argv[optind]);
	printf("\n");
	bench6(argv[optind + 1]);
	printf("\nclock: %s; this thread was on the CPU %.0f %% of the wall "
	       "time\n", wall ? "wall" : "thread CPU time",
	       100.0 * (bench_cpu_ns() - c0) / (nf_now_ns() - w0));
	if (json) {
		fprintf(json, "}\n");
		fclose(json);
	}
	return 0;
usage:
	fprintf(stderr, "usage: lpm [-w] [-r RUNS] [-n LOOKUPS] [-j FILE.json] "
		"V4ROUTES V6ROUTES\n");
	return 2;
}
