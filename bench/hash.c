/* bench/hash.c - nf_hash_flow() + nf_hash_pick() per packet against
 * nf_parse() alone, the loops bench/hash.sh counts instructions in under
 * callgrind, and the groups' build times and disruption. Built and run
 * by bench/hash.sh (not by the Makefile).
 *
 *   hash [-k ipv4|ipv6|srv6] [-f FLOWS] [-n PACKETS] [-r RUNS] [-m MEMBERS] [-c] [-b]
 *
 * Frames (setup, not measured): FLOWS flows (distinct client addresses
 * and ports to one server), one 64-to-150-byte frame each: untagged IPv4
 * TCP; IPv6 TCP; SRv6 (IPv6, an SRH of 2 segments, inner IPv4 TCP). A
 * group of MEMBERS (default 16) members up, 65537 entries.
 * Loops (PACKETS packets, the frames in turn):
 *   parse   nf_parse() alone: the baseline
 *   hash    nf_parse(), nf_hash_flow(), nf_hash_pick(): a group's work
 *   hrw     nf_parse(), nf_hash_flow(), rendezvous (highest random
 *           weight) over the MEMBERS members: the O(members) alternative
 * The picks are summed (printed) so that nothing is optimised away.
 * Figures: median of RUNS runs (default 5), wall clock; the script pins
 * the process to one CPU. -c: one pass of each loop, no timing, for
 * callgrind (collected inside run_parse(), run_hash(), run_hrw() only).
 * -b: build times (plain, a removal, an addition) and the flows (of
 * 1,000,000 random hashes) a plain Maglev rebuild moves between members
 * that stay, against nf_hash_group_build()'s minimal change.
 */
#include "nf_hash.h"
#include "nf_parse.h"
#include "nf_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STRIDE	192		/* bytes per stored frame */

static uint8_t *frames;
static uint32_t *flen;
static uint32_t flows = 1024, members = 16;
static uint64_t npkts = 20000000;
static const char *kind = "ipv4";
static struct nf_hash_group *grp;

static uint64_t rs = 7;

static uint32_t rnd(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rs >> 33);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 TCP packet of flow @i at @ip; its length. */
static uint32_t ip4_tcp(uint8_t *ip, uint32_t i)
{
	memset(ip, 0, 40);
	ip[0] = 0x45;
	wr16(ip + 2, 40);
	ip[8] = 64;
	ip[9] = NF_IPPROTO_TCP;
	ip[12] = 10, ip[13] = (uint8_t)(i >> 16), ip[14] = (uint8_t)(i >> 8), ip[15] = (uint8_t)i;
	ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 1;
	wr16(ip + 20, 1024 + i % 60000);
	wr16(ip + 22, 80);
	ip[32] = 5 << 4;
	ip[33] = NF_TCP_ACK;
	return 40;
}

static uint32_t mk_frame(uint8_t *b, uint32_t i)
{
	uint8_t *ip = b + 14;
	uint32_t n;

	memset(b, 0, STRIDE);
	b[0] = 2, b[5] = 1, b[6] = 2, b[11] = 2;
	if (!strcmp(kind, "ipv4")) {
		wr16(b + 12, NF_ETH_P_IPV4);
		n = ip4_tcp(ip, i);
	} else if (!strcmp(kind, "ipv6")) {
		wr16(b + 12, NF_ETH_P_IPV6);
		ip[0] = 0x60;
		wr16(ip + 4, 20);
		ip[6] = NF_IPPROTO_TCP;
		ip[7] = 64;
		ip[8] = 0xfd, ip[20] = (uint8_t)(i >> 24), ip[21] = (uint8_t)(i >> 16);
		ip[22] = (uint8_t)(i >> 8), ip[23] = (uint8_t)i;
		ip[24] = 0xfd, ip[25] = 1, ip[39] = 1;
		wr16(ip + 40, 1024 + i % 60000);
		wr16(ip + 42, 443);
		ip[52] = 5 << 4;
		ip[53] = NF_TCP_ACK;
		n = 60;
	} else {		/* srv6: IPv6, SRH of 2 segments, inner IPv4 TCP */
		wr16(b + 12, NF_ETH_P_IPV6);
		ip[0] = 0x60;
		ip[6] = NF_IPPROTO_ROUTING;
		ip[7] = 64;
		ip[8] = 0xfd, ip[9] = 1, ip[23] = 1;
		ip[24] = 0xfd, ip[25] = 2, ip[39] = 1;
		ip[40] = 4;		/* next: IPv4 */
		ip[41] = 4;		/* 2 segments */
		ip[42] = 4;		/* SRH */
		ip[43] = 1;
		ip[44] = 1;
		ip[48] = 0xfd, ip[49] = 3, ip[63] = 1;
		ip[64] = 0xfd, ip[65] = 2, ip[79] = 1;
		n = 80 + ip4_tcp(ip + 80, i);
		wr16(ip + 4, n - 40);
	}
	return n + 14 < 60 ? 60 : n + 14;
}

static __attribute__((noinline)) unsigned pick_one(uint32_t h)
{
	return nf_hash_pick(grp, h);
}

/* Rendezvous: the member whose mix with @h is the highest. */
static __attribute__((noinline)) unsigned hrw_pick(uint32_t h)
{
	uint64_t best = 0;
	unsigned m, who = NF_HASH_NONE;

	for (m = 0; m < members; m++) {
		__uint128_t r = (__uint128_t)((uint64_t)h << 32 ^ m ^ 0xa0761d6478bd642full) *
				0xe7037ed1a0b428dbull;
		uint64_t w = (uint64_t)r ^ (uint64_t)(r >> 64);

		if (w >= best)
			best = w, who = m;
	}
	return who;
}

static __attribute__((noinline)) uint64_t run_parse(uint64_t n)
{
	uint64_t i, sum = 0;
	uint32_t f = 0;
	struct nf_hdrs h;

	for (i = 0; i < n; i++) {
		sum += nf_parse(frames + (size_t)f * STRIDE, flen[f], &h) + h.l4_off;
		if (++f == flows)
			f = 0;
	}
	return sum;
}

/* nf_parse(), nf_hash_flow(), then @pick: the sum of the picks. */
static uint64_t run_pick(uint64_t n, unsigned (*pick)(uint32_t))
{
	uint64_t i, sum = 0;
	uint32_t f = 0;
	struct nf_hdrs h;

	for (i = 0; i < n; i++) {
		const uint8_t *p = frames + (size_t)f * STRIDE;

		if (nf_parse(p, flen[f], &h) == NF_PERR_OK)
			sum += pick(nf_hash_flow(p, &h, 0x1234));
		if (++f == flows)
			f = 0;
	}
	return sum;
}

static __attribute__((noinline)) uint64_t run_hash(uint64_t n)
{
	return run_pick(n, pick_one);
}

static __attribute__((noinline)) uint64_t run_hrw(uint64_t n)
{
	return run_pick(n, hrw_pick);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double mpps(uint64_t (*fn)(uint64_t), unsigned runs, uint64_t *sum)
{
	double r[64];
	unsigned i;

	for (i = 0; i < runs; i++) {
		uint64_t t0 = nf_now_ns();

		*sum += fn(npkts);
		r[i] = (double)npkts * 1e3 / (double)(nf_now_ns() - t0);
	}
	qsort(r, runs, sizeof(r[0]), cmp_d);
	return r[runs / 2];
}

/* Build times and the disruption of a plain rebuild. */
static void builds(void)
{
	struct nf_hash_group *a, *b, *c;
	uint64_t up = (1ull << members) - 1, t0;
	double plain, rm, add;
	uint32_t i, moved_min = 0, moved_plain = 0, n = 1000000;

	if (nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 1, &a) || nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 1, &b) ||
	    nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 1, &c)) {
		fprintf(stderr, "hash: %s\n", nf_last_error());
		exit(1);
	}
	t0 = nf_now_ns();
	nf_hash_group_build(a, NULL, up);
	plain = (double)(nf_now_ns() - t0) / 1e6;
	t0 = nf_now_ns();
	nf_hash_group_build(b, a, up & ~1ull);
	rm = (double)(nf_now_ns() - t0) / 1e6;
	nf_hash_group_build(c, NULL, up & ~1ull);
	for (i = 0; i < n; i++) {
		uint32_t h = rnd() ^ rnd() << 16;
		unsigned was = nf_hash_pick(a, h);

		moved_min += was != 0 && nf_hash_pick(b, h) != was;
		moved_plain += was != 0 && nf_hash_pick(c, h) != was;
	}
	t0 = nf_now_ns();
	nf_hash_group_build(c, a, up | 1ull << members);
	add = (double)(nf_now_ns() - t0) / 1e6;
	printf("build, %u members, 65537 entries: plain %.2f ms, removing one %.2f ms, adding one %.2f ms\n",
	       members, plain, rm, add);
	printf("removing member 0 of %u, 1,000,000 random hashes: flows of the others moved: "
	       "nf_hash_group_build %u, plain Maglev rebuild %u (%.3f%%)\n",
	       members, moved_min, moved_plain, moved_plain / 1e4);
	nf_hash_group_free(a);
	nf_hash_group_free(b);
	nf_hash_group_free(c);
}

int main(int argc, char **argv)
{
	unsigned runs = 5, cg = 0, bld = 0, i;
	uint64_t sum = 0;
	int o;

	while ((o = getopt(argc, argv, "k:f:n:r:m:cb")) != -1) {
		switch (o) {
		case 'k': kind = optarg; break;
		case 'f': flows = (uint32_t)atoi(optarg); break;
		case 'n': npkts = strtoull(optarg, NULL, 0); break;
		case 'r': runs = (unsigned)atoi(optarg); break;
		case 'm': members = (uint32_t)atoi(optarg); break;
		case 'c': cg = 1; break;
		case 'b': bld = 1; break;
		default:
			fprintf(stderr, "usage: hash [-k ipv4|ipv6|srv6] [-f FLOWS] [-n PACKETS] "
				"[-r RUNS] [-m MEMBERS] [-c] [-b]\n");
			return 2;
		}
	}
	if (!flows || !members || members >= NF_HASH_MEMBERS_MAX || !runs || runs > 64 ||
	    (strcmp(kind, "ipv4") && strcmp(kind, "ipv6") && strcmp(kind, "srv6"))) {
		fprintf(stderr, "hash: bad arguments\n");
		return 2;
	}
	if (bld) {
		builds();
		return 0;
	}
	frames = malloc((size_t)flows * STRIDE);
	flen = malloc(flows * sizeof(*flen));
	if (!frames || !flen || nf_hash_group_new(NF_HASH_SIZE_DEFAULT, 1, &grp))
		return 1;
	nf_hash_group_build(grp, NULL, (1ull << members) - 1);
	for (i = 0; i < flows; i++) {
		struct nf_hdrs h;

		flen[i] = mk_frame(frames + (size_t)i * STRIDE, i);
		if (nf_parse(frames + (size_t)i * STRIDE, flen[i], &h) != NF_PERR_OK) {
			fprintf(stderr, "hash: frame %u does not parse\n", i);
			return 1;
		}
	}
	if (cg) {
		sum = run_parse(npkts) + run_hash(npkts) + run_hrw(npkts);
		printf("sum %llu\n", (unsigned long long)sum);
		return 0;
	}
	{
		double p = mpps(run_parse, runs, &sum), h = mpps(run_hash, runs, &sum);
		double r = mpps(run_hrw, runs, &sum);

		printf("%-5s %6u flows: nf_parse %6.1f Mpps (%5.1f ns), + hash + pick %6.1f Mpps "
		       "(%5.1f ns, +%.1f ns), + hash + HRW/%u %6.1f Mpps (+%.1f ns)   [sum %llu]\n",
		       kind, flows, p, 1e3 / p, h, 1e3 / h, 1e3 / h - 1e3 / p, members, r,
		       1e3 / r - 1e3 / p, (unsigned long long)(sum & 0xff));
	}
	return 0;
}
