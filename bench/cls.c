/* bench/cls.c - the firewall classifier (nf_cls): build time, memory and
 * lookup cost of ACL-like rule sets, against the linear scan. Built and
 * run by bench/cls.sh (not by the Makefile).
 *
 *   cls [-w] [-r RUNS] [-n LOOKUPS] [-s SEED] N...        timings
 *   cls -c KIND [-n LOOKUPS] [-s SEED] N                  one kind only
 *                                                          (for callgrind)
 *
 * Rule sets of N rules, ACL-shaped (IPv4, every rule parsed from text by
 * nf_rule_parse):
 *   85%  ip saddr 10.x/16..32 ip daddr 172.16-31.x/24..32 tcp|udp dport
 *        P or P-P+k (a tenth also with sport 1024-65535), accept or drop
 *   10%  ip daddr 172.16-31.x/24..32 tcp dport P accept   (any source)
 *    5%  ip saddr 10.x/16..32 drop                         (any destination)
 * Key sets (4096 keys each):
 *   miss  no rule matches (source 192.168/16, destination 198.51.100/24):
 *         the whole first-match search, the worst case
 *   hit   inside a rule drawn uniformly over the set (its first match
 *         may be an earlier rule): matches spread over the rules
 * KIND: tree-miss, tree-hit, linear-miss, linear-hit. Times are this
 * thread's CPU time (-w: wall clock), medians of RUNS runs.
 */
#include "nf_cls.h"
#include "nf_rule.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 4096

static int wall, runs = 5;
static unsigned nlook = 1u << 21;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t bench_ns(void)
{
	struct timespec ts;

	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void pfx(char *b, size_t n, unsigned net, unsigned netlen, const unsigned *lens,
		unsigned nlens)
{
	uint32_t a = net | ((uint32_t)rnd() & (0xffffffffu >> netlen));
	unsigned len = lens[rn(nlens)];

	a &= len ? 0xffffffffu << (32 - len) : 0;
	snprintf(b, n, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len);
}

static void acl_rule(char *line, size_t n)
{
	static const unsigned slens[] = { 16, 20, 24, 24, 28, 32, 32 };
	static const unsigned dlens[] = { 24, 28, 32, 32 };
	char s[32], d[32], port[32];
	unsigned p = rn(4) ? (unsigned[]){ 22, 25, 53, 80, 443, 3306, 5432, 8080 }[rn(8)]
			   : 1 + rn(65000);
	unsigned kind = rn(100);

	pfx(s, sizeof(s), 10u << 24, 8, slens, 7);
	pfx(d, sizeof(d), 172u << 24 | 16u << 16, 12, dlens, 4);
	if (rn(10) < 3)
		snprintf(port, sizeof(port), "%u-%u", p, p + 1 + rn(200));
	else
		snprintf(port, sizeof(port), "%u", p);
	if (kind < 85)
		snprintf(line, n, "ip saddr %s ip daddr %s %s dport %s%s %s", s, d,
			 rn(3) ? "tcp" : "udp", port, rn(10) ? "" : " th sport 1024-65535",
			 rn(4) ? "accept" : "drop");
	else if (kind < 95)
		snprintf(line, n, "ip daddr %s tcp dport %s accept", d, port);
	else
		snprintf(line, n, "ip saddr %s drop", s);
}

static int make_rules(struct nf_ruleset *rs, unsigned n)
{
	char line[256];
	unsigned i;

	nf_ruleset_init(rs);
	for (i = 0; i < n; i++) {
		acl_rule(line, sizeof(line));
		if (nf_rule_parse(rs, NULL, line, i + 1)) {
			fprintf(stderr, "cls: %s\n", nf_last_error());
			return -1;
		}
	}
	return 0;
}

static nf_u128 in_range(const struct nf_ruleset *rs, const struct nf_rule *r,
			enum nf_rule_field f, nf_u128 dflt)
{
	uint32_t n;
	const struct nf_range *v = nf_rule_ranges(rs, r, f, &n);

	if (!v)
		return dflt;
	v += rn(n);
	return v->lo + (nf_u128)(rnd() % (uint64_t)(v->hi - v->lo + 1));
}

static void make_keys(const struct nf_ruleset *rs, struct nf_cls_key *miss,
		      struct nf_cls_key *hit)
{
	unsigned i;

	for (i = 0; i < NKEYS; i++) {
		struct nf_cls_key *k = &miss[i];
		const struct nf_rule *r = &rs->rules[rn(rs->n)];

		do {
			memset(k, 0, sizeof(*k));
			k->family = 4;
			k->src = 0xc0a80000u | rn(65536);
			k->dst = 0xc6336400u | rn(256);
			k->proto = rn(2) ? 6 : 17;
			k->sport = (uint16_t)(1024 + rn(60000));
			k->dport = (uint16_t)rn(65536);
			k->l4 = true;
			k->tcp_flags = 0x02;
			k->ct = NF_RULE_CT_NEW;
		} while (nf_cls_match_linear(rs, k, 0) != UINT32_MAX);
		k = &hit[i];
		*k = miss[i];
		k->src = in_range(rs, r, NF_RF_SRC, k->src);
		k->dst = in_range(rs, r, NF_RF_DST, k->dst);
		k->proto = (uint8_t)in_range(rs, r, NF_RF_PROTO, k->proto);
		k->sport = (uint16_t)in_range(rs, r, NF_RF_SPORT, k->sport);
		k->dport = (uint16_t)in_range(rs, r, NF_RF_DPORT, k->dport);
	}
}

static volatile uint32_t sink;

/* ns per lookup of @keys, tree (@c) or linear (@rs). Not inlined: the
 * callgrind runs count this function only. */
static __attribute__((noinline)) double lookups(const struct nf_cls *c, const struct nf_ruleset *rs,
		      const struct nf_cls_key *keys, unsigned n)
{
	uint64_t t0 = bench_ns();
	uint32_t acc = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		acc += c ? nf_cls_match(c, &keys[i & (NKEYS - 1)], 0)
			 : nf_cls_match_linear(rs, &keys[i & (NKEYS - 1)], 0);
	sink = acc;
	return (double)(bench_ns() - t0) / n;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	const char *kind = NULL;
	static double ratio_base[2], ratio_last[2];
	int o, a;

	while ((o = getopt(argc, argv, "wr:n:s:c:")) != -1) {
		switch (o) {
		case 'w': wall = 1; break;
		case 'r': runs = atoi(optarg); break;
		case 'n': nlook = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': rng ^= strtoull(optarg, NULL, 0) * 0x2545F4914F6CDD1Dull; break;
		case 'c': kind = optarg; break;
		default:
			fprintf(stderr, "usage: cls [-w] [-r RUNS] [-n LOOKUPS] [-s SEED] [-c KIND] N...\n");
			return 2;
		}
	}
	if (runs < 1 || optind >= argc) {
		fprintf(stderr, "usage: cls [-w] [-r RUNS] [-n LOOKUPS] [-s SEED] [-c KIND] N...\n");
		return 2;
	}
	for (a = optind; a < argc; a++) {
		unsigned n = (unsigned)strtoul(argv[a], NULL, 0);
		static struct nf_cls_key miss[NKEYS], hit[NKEYS];
		struct nf_ruleset rs;
		struct nf_cls *c = NULL;
		struct nf_cls_stats st;
		double tm[32], th[32], lm[32], lh[32], build_ms;
		uint64_t t0;
		int r;

		if (make_rules(&rs, n))
			return 1;
		t0 = bench_ns();
		r = nf_cls_build(&rs, &c);
		build_ms = (double)(bench_ns() - t0) / 1e6;
		if (r) {
			fprintf(stderr, "cls: %s\n", nf_last_error());
			return 1;
		}
		make_keys(&rs, miss, hit);
		if (kind) {
			const struct nf_cls_key *k = strstr(kind, "miss") ? miss : hit;

			lookups(strncmp(kind, "tree", 4) == 0 ? c : NULL, &rs, k, nlook);
			nf_cls_free(c);
			nf_ruleset_free(&rs);
			continue;
		}
		nf_cls_get_stats(c, &st);
		if (runs > 32)
			runs = 32;
		for (r = 0; r < runs; r++) {
			tm[r] = lookups(c, &rs, miss, nlook);
			th[r] = lookups(c, &rs, hit, nlook);
			lm[r] = lookups(NULL, &rs, miss, n >= 5000 ? nlook / 64 : nlook / 8);
			lh[r] = lookups(NULL, &rs, hit, n >= 5000 ? nlook / 64 : nlook / 8);
		}
		printf("%6u rules: build %8.1f ms, %8.1f KiB (peak %.1f), %u trees, %u nodes, %u leaves, "
		       "depth %u, leaf max %u | tree miss %6.1f ns hit %6.1f ns | "
		       "linear miss %8.1f ns hit %8.1f ns\n",
		       n, build_ms, st.bytes / 1024.0, st.build_peak / 1024.0, st.trees, st.nodes, st.leaves,
		       st.depth_max, st.leaf_max, median(tm, runs), median(th, runs),
		       median(lm, runs), median(lh, runs));
		if (a == optind) {
			ratio_base[0] = median(tm, runs);
			ratio_base[1] = median(th, runs);
		}
		ratio_last[0] = median(tm, runs);
		ratio_last[1] = median(th, runs);
		nf_cls_free(c);
		nf_ruleset_free(&rs);
	}
	if (!kind && argc - optind > 1)
		printf("ratio last/first: miss %.2fx, hit %.2fx\n", ratio_last[0] / ratio_base[0],
		       ratio_last[1] / ratio_base[1]);
	return 0;
}
