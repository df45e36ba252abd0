/* bench/ct.c - nf_ct_in() on ESTABLISHED packets: packets per second by
 * wall clock against nf_parse() alone, and the loops that bench/ct.sh
 * counts instructions in under callgrind. Built and run by bench/ct.sh
 * (not by the Makefile).
 *
 *   ct [-p tcp|udp] [-6] [-f FLOWS] [-n PACKETS] [-r RUNS] [-c]
 *
 * Setup (not measured): FLOWS flows (distinct source addresses and ports
 * to one server), each established both ways: TCP SYN, SYN/ACK, ACK
 * (ESTABLISHED, ASSURED); UDP a datagram each way and one more 3 s later
 * (stream, ASSURED). Then one frame per flow in the ORIG direction (a TCP
 * ACK with PSH / a UDP datagram, 60 or 78 bytes), the flows in a random
 * order, parsed once (the headers kept for the "ct" loop). The table has
 * room for FLOWS entries (at least 16).
 *
 * Loops (PACKETS packets, the frames in turn, bursts of 32 with the clock
 * advanced 10 us per burst, as a VNF does with one clock read per burst):
 *   parse   nf_parse() alone: the baseline
 *   ct      nf_ct_in() alone, on the headers parsed at setup
 *   burst   nf_ct_in_burst() on each burst of 32, on those headers
 *   both    nf_parse() then nf_ct_in(): what a stateful VNF does
 * Every packet must be ESTABLISHED (checked: the run fails if not).
 * Figures: the median of RUNS runs (default 5), wall clock
 * (CLOCK_MONOTONIC); the script pins the process to one CPU.
 * -c: one pass of each loop, no timing, for callgrind (the script
 * collects inside run_parse(), run_ct() and run_burst() only).
 */
#include "nf_ct.h"
#include "nf_parse.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STRIDE	128		/* bytes per stored frame */
#define BURST	32
#define SEC_NS	1000000000ull

static uint8_t *frames;		/* flows * STRIDE */
static uint32_t *flen;
static struct nf_hdrs *hdrs;
static uint32_t flows = 1, tcp = 1, v6;
static uint64_t npkts = 10000000;
static uint64_t now = 1000 * SEC_NS;

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The frame of flow @i going @dir with TCP @flags at @b; its length. */
static uint32_t mk_frame(uint8_t *b, uint32_t i, int dir, uint8_t flags)
{
	uint8_t cli[16] = { 0 }, srv[16] = { 0 }, *ip = b + 14, *l4;
	uint32_t hl = v6 ? 40 : 20, l4len = tcp ? 20 : 26, len;
	uint16_t cport = (uint16_t)(1024 + i % 60000), sport = tcp ? 80 : 53;

	if (v6) {
		cli[0] = 0xfd, cli[12] = (uint8_t)(i >> 24), cli[13] = (uint8_t)(i >> 16);
		cli[14] = (uint8_t)(i >> 8), cli[15] = (uint8_t)i;
		srv[0] = 0xfd, srv[1] = 1, srv[15] = 1;
	} else {
		cli[0] = 10, cli[1] = (uint8_t)(i >> 16), cli[2] = (uint8_t)(i >> 8);
		cli[3] = (uint8_t)i;
		srv[0] = 192, srv[1] = 168, srv[2] = 1, srv[3] = 1;
	}
	memset(b, 0, STRIDE);
	b[0] = 2, b[5] = 1, b[6] = 2, b[11] = 2;
	if (v6) {
		put16(b + 12, NF_ETH_P_IPV6);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = tcp ? NF_IPPROTO_TCP : NF_IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, dir ? srv : cli, 16);
		memcpy(ip + 24, dir ? cli : srv, 16);
	} else {
		put16(b + 12, NF_ETH_P_IPV4);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(hl + l4len));
		ip[8] = 64;
		ip[9] = tcp ? NF_IPPROTO_TCP : NF_IPPROTO_UDP;
		memcpy(ip + 12, dir ? srv : cli, 4);
		memcpy(ip + 16, dir ? cli : srv, 4);
	}
	l4 = ip + hl;
	put16(l4, dir ? sport : cport);
	put16(l4 + 2, dir ? cport : sport);
	if (tcp) {
		l4[12] = 0x50;
		l4[13] = flags;
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)l4len);
	}
	len = 14 + hl + l4len;
	return len < 60 ? 60 : len;
}

/* Classify frame @b at @t; confirm it when NEW. */
static enum nf_ct_state feed(struct nf_ct *ct, uint8_t *b, uint32_t len, uint64_t t)
{
	struct nf_ct_pkt p;
	struct nf_hdrs h;
	enum nf_ct_state s;

	if (nf_parse(b, len, &h) != NF_PERR_OK) {
		fprintf(stderr, "ct: a setup frame does not parse\n");
		exit(1);
	}
	s = nf_ct_in(ct, b, &h, t, &p);
	if (s == NF_CT_NEW && nf_ct_confirm(ct, &p, NULL, t) < 0) {
		fprintf(stderr, "ct: confirm: %s\n", nf_last_error());
		exit(1);
	}
	return s;
}

static void setup(struct nf_ct *ct)
{
	uint8_t b[STRIDE];
	uint32_t i, *order = malloc(flows * sizeof(*order));

	for (i = 0; i < flows; i++)
		order[i] = i;
	for (i = flows; i > 1; i--) {		/* random order of the flows */
		uint32_t j = rnd() % i, t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < flows; i++) {
		uint32_t f = order[i];

		if (tcp) {
			feed(ct, b, mk_frame(b, f, 0, NF_TCP_SYN), now);
			feed(ct, b, mk_frame(b, f, 1, NF_TCP_SYN | NF_TCP_ACK), now);
			feed(ct, b, mk_frame(b, f, 0, NF_TCP_ACK), now);
		} else {
			feed(ct, b, mk_frame(b, f, 0, 0), now);
			feed(ct, b, mk_frame(b, f, 1, 0), now);
		}
		flen[i] = mk_frame(frames + (size_t)i * STRIDE, f, 0, NF_TCP_ACK | NF_TCP_PSH);
		if (nf_parse(frames + (size_t)i * STRIDE, flen[i], &hdrs[i]) != NF_PERR_OK)
			exit(1);
	}
	now += 3 * SEC_NS;
	if (!tcp)	/* a packet 3 s later: stream, ASSURED */
		for (i = 0; i < flows; i++)
			feed(ct, frames + (size_t)i * STRIDE, flen[i], now);
	free(order);
}

/* The loops: noinline, the script collects inside them. */
static __attribute__((noinline)) uint64_t run_parse(void)
{
	uint64_t n, sum = 0;
	uint32_t i = 0;
	struct nf_hdrs h;

	for (n = 0; n < npkts; n++) {
		sum += nf_parse(frames + (size_t)i * STRIDE, flen[i], &h) + h.l4_off;
		if (++i == flows)
			i = 0;
	}
	return sum;
}

static __attribute__((noinline)) uint64_t run_ct(struct nf_ct *ct, uint64_t t)
{
	uint64_t n, est = 0;
	uint32_t i = 0;
	struct nf_ct_pkt p;

	for (n = 0; n < npkts; n++) {
		if (n % BURST == 0)
			t += 10000;
		est += nf_ct_in(ct, frames + (size_t)i * STRIDE, &hdrs[i], t, &p) ==
		       NF_CT_ESTABLISHED;
		if (++i == flows)
			i = 0;
	}
	return est;
}

static __attribute__((noinline)) uint64_t run_burst(struct nf_ct *ct, uint64_t t)
{
	const uint8_t *f[BURST];
	const struct nf_hdrs *h[BURST];
	struct nf_ct_pkt p[BURST];
	uint8_t st[BURST];
	uint64_t n = 0, est = 0;
	uint32_t i = 0;
	unsigned k, m, done;

	while (n < npkts) {
		m = (unsigned)NF_MIN(npkts - n, (uint64_t)BURST);
		for (k = 0; k < m; k++) {
			f[k] = frames + (size_t)i * STRIDE;
			h[k] = &hdrs[i];
			if (++i == flows)
				i = 0;
		}
		t += 10000;
		for (done = 0; done < m;)
			done += nf_ct_in_burst(ct, f + done, h + done, m - done, t, p + done,
					       st + done);
		for (k = 0; k < m; k++)
			est += st[k] == NF_CT_ESTABLISHED;
		n += m;
	}
	return est;
}

static __attribute__((noinline)) uint64_t run_both(struct nf_ct *ct, uint64_t t)
{
	uint64_t n, est = 0;
	uint32_t i = 0;
	struct nf_ct_pkt p;
	struct nf_hdrs h;

	for (n = 0; n < npkts; n++) {
		const uint8_t *f = frames + (size_t)i * STRIDE;

		if (n % BURST == 0)
			t += 10000;
		if (nf_parse(f, flen[i], &h) == NF_PERR_OK)
			est += nf_ct_in(ct, f, &h, t, &p) == NF_CT_ESTABLISHED;
		if (++i == flows)
			i = 0;
	}
	return est;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_est(uint64_t est, const char *loop)
{
	if (est != npkts) {
		fprintf(stderr, "ct: %s: %llu of %llu packets ESTABLISHED\n", loop,
			(unsigned long long)est, (unsigned long long)npkts);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct nf_ct_conf conf;
	struct nf_ct_stats st;
	struct nf_ct *ct;
	uint64_t t_parse[32], t_ct[32], t_burst[32], t_both[32], sink = 0;
	int opt, runs = 5, cg = 0, r;

	while ((opt = getopt(argc, argv, "p:6f:n:r:c")) != -1) {
		uint64_t v;

		switch (opt) {
		case 'p':
			if (strcmp(optarg, "tcp") != 0 && strcmp(optarg, "udp") != 0)
				goto usage;
			tcp = strcmp(optarg, "tcp") == 0;
			break;
		case '6':
			v6 = 1;
			break;
		case 'f':
			if (nf_parse_u64(optarg, 1, NF_CT_MAX_MAX, 1, &v) < 0)
				goto usage;
			flows = (uint32_t)v;
			break;
		case 'n':
			if (nf_parse_u64(optarg, 1, 1ull << 40, 1, &npkts) < 0)
				goto usage;
			break;
		case 'r':
			if (nf_parse_u64(optarg, 1, 31, 0, &v) < 0)
				goto usage;
			runs = (int)v;
			break;
		case 'c':
			cg = 1;
			break;
		default:
			goto usage;
		}
	}
	nf_ct_conf_default(&conf, NF_MAX(flows, NF_CT_MAX_MIN));
	if (nf_ct_create(&conf, &ct) < 0) {
		fprintf(stderr, "ct: %s\n", nf_last_error());
		return 1;
	}
	frames = aligned_alloc(64, (size_t)flows * STRIDE);
	flen = malloc(flows * sizeof(*flen));
	hdrs = malloc(flows * sizeof(*hdrs));
	if (!frames || !flen || !hdrs)
		return 1;
	setup(ct);
	nf_ct_get_stats(ct, &st);
	if (st.count != flows) {
		fprintf(stderr, "ct: %u of %u flows in the table\n", st.count, flows);
		return 1;
	}
	if (cg) {
		sink += run_parse();
		check_est(run_ct(ct, now), "ct");
		check_est(run_burst(ct, now), "burst");
		printf("packets %llu flows %u %s IPv%d sink %llu\n", (unsigned long long)npkts,
		       flows, tcp ? "tcp" : "udp", v6 ? 6 : 4, (unsigned long long)sink);
		return 0;
	}
	for (r = 0; r < runs; r++) {
		uint64_t t0 = nf_now_ns(), t1, t2, t3, t4;

		sink += run_parse();
		t1 = nf_now_ns();
		check_est(run_ct(ct, now), "ct");
		t2 = nf_now_ns();
		check_est(run_both(ct, now), "parse+ct");
		t3 = nf_now_ns();
		check_est(run_burst(ct, now), "burst");
		t4 = nf_now_ns();
		t_parse[r] = t1 - t0;
		t_ct[r] = t2 - t1;
		t_both[r] = t3 - t2;
		t_burst[r] = t4 - t3;
		now += 60 * SEC_NS;	/* well within every timeout */
	}
	qsort(t_parse, (size_t)runs, sizeof(uint64_t), cmp_u64);
	qsort(t_ct, (size_t)runs, sizeof(uint64_t), cmp_u64);
	qsort(t_both, (size_t)runs, sizeof(uint64_t), cmp_u64);
	qsort(t_burst, (size_t)runs, sizeof(uint64_t), cmp_u64);
	{
		double n = (double)npkts, p = (double)t_parse[runs / 2], c = (double)t_ct[runs / 2],
		       b = (double)t_both[runs / 2], u = (double)t_burst[runs / 2];

		printf("%s IPv%d, %u flow%s, %llu packets, median of %d runs (sink %llu)\n",
		       tcp ? "TCP" : "UDP", v6 ? 6 : 4, flows, flows > 1 ? "s" : "",
		       (unsigned long long)npkts, runs, (unsigned long long)(sink & 0xff));
		printf("  parse        %7.2f Mpps  %6.2f ns/packet  (baseline)\n", n * 1e3 / p, p / n);
		printf("  ct           %7.2f Mpps  %6.2f ns/packet  (nf_ct_in alone)\n", n * 1e3 / c,
		       c / n);
		printf("  ct burst     %7.2f Mpps  %6.2f ns/packet  (nf_ct_in_burst, 32)\n",
		       n * 1e3 / u, u / n);
		printf("  parse + ct   %7.2f Mpps  %6.2f ns/packet  (nf_ct_in adds %.2f ns)\n",
		       n * 1e3 / b, b / n, (b - p) / n);
	}
	nf_ct_destroy(ct);
	return 0;
usage:
	fprintf(stderr, "usage: ct [-p tcp|udp] [-6] [-f FLOWS] [-n PACKETS] [-r RUNS] [-c]\n");
	return 2;
}
