/* test_lpm.c - nf_lpm4 and nf_lpm6 against a naive reference (a linear
 * scan of the rule list for the longest match): random inserts,
 * replacements and deletions around nested prefixes, /0 defaults, host
 * routes; nested prefixes deleted in every order; error cases; foreach;
 * tbl8 groups all returned once the routes are gone; a table from
 * scripts/gen-routes loaded, checked (against exact-rule probes) and
 * deleted route by route. */
#include "harness.h"
#include "nf_lpm4.h"
#include "nf_lpm6.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(xrand() % n);
}

/* ================= IPv4 ================= */

struct r4 {
	uint32_t p;
	uint8_t d;
	uint32_t nh;
};

#define REF_MAX 4096
static struct r4 ref4[REF_MAX];
static unsigned nref4;

static uint32_t mask4(unsigned d)
{
	return d ? 0xffffffffu << (32 - d) : 0;
}

static int ref4_find(uint32_t p, uint8_t d)
{
	unsigned i;

	for (i = 0; i < nref4; i++)
		if (ref4[i].p == p && ref4[i].d == d)
			return (int)i;
	return -1;
}

static uint32_t ref4_lookup(uint32_t ip)
{
	uint32_t nh = NF_LPM_MISS;
	int best = -1;
	unsigned i;

	for (i = 0; i < nref4; i++)
		if ((ip & mask4(ref4[i].d)) == ref4[i].p && ref4[i].d > best) {
			best = ref4[i].d;
			nh = ref4[i].nh;
		}
	return nh;
}

/* Add or replace in both; 0 when both agree on success. */
static int add4(struct nf_lpm4 *l, uint32_t p, uint8_t d, uint32_t nh)
{
	int i = ref4_find(p, d);

	if (nf_lpm4_add(l, p, d, nh) != 0)
		return -1;
	if (i >= 0) {
		ref4[i].nh = nh;
	} else {
		ref4[nref4].p = p;
		ref4[nref4].d = d;
		ref4[nref4].nh = nh;
		nref4++;
	}
	return 0;
}

static int del4(struct nf_lpm4 *l, uint32_t p, uint8_t d)
{
	int i = ref4_find(p, d);

	if (nf_lpm4_del(l, p, d) != (i >= 0 ? 0 : -ENOENT))
		return -1;
	if (i >= 0)
		ref4[i] = ref4[--nref4];
	return 0;
}

/* @n probe addresses near the rules, near @bases and anywhere; every
 * lookup (scalar and bulk) must agree with the reference. Returns the
 * number of disagreements. */
static const uint32_t bases4[] = { 0x0a000000, 0x0a010203, 0xc0a80101,
	0xffffffff, 0x00000000, 0x80000000, 0x7fffffff, 0x0a0102ff };

static unsigned check4(const struct nf_lpm4 *l, unsigned n)
{
	static uint32_t ips[1000], got[1000];
	unsigned i, bad = 0;

	if (n > 1000)
		n = 1000;
	for (i = 0; i < n; i++) {
		uint32_t ip;

		switch (rnd(4)) {
		case 0:
			if (nref4) {
				const struct r4 *r = &ref4[rnd(nref4)];

				ip = r->p | ((uint32_t)xrand() & ~mask4(r->d));
				break;
			}
			/* fall through */
		case 1:
			ip = bases4[rnd(NF_ARRAY_SIZE(bases4))] ^ rnd(512);
			break;
		case 2:
			ip = bases4[rnd(NF_ARRAY_SIZE(bases4))] ^
			     ((uint32_t)1 << rnd(32));
			break;
		default:
			ip = (uint32_t)xrand();
		}
		ips[i] = ip;
	}
	nf_lpm4_lookup_bulk(l, ips, got, n);
	for (i = 0; i < n; i++) {
		uint32_t want = ref4_lookup(ips[i]), nh = 0;
		int ret = nf_lpm4_lookup(l, ips[i], &nh);

		if (nh != want || ret != (want == NF_LPM_MISS ? -ENOENT : 0) ||
		    got[i] != want) {
			if (bad++ < 5)
				printf("# 0x%08x: want %u, lookup %d/%u, bulk %u\n",
				       ips[i], want, ret, nh, got[i]);
		}
	}
	return bad;
}

static int cmp_r4(const void *a, const void *b)
{
	const struct r4 *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (int)x->d - (int)y->d;
}

static struct r4 seen4[REF_MAX];
static unsigned nseen4;

static int collect4(uint32_t p, uint8_t d, uint32_t nh, void *arg)
{
	(void)arg;
	if (nseen4 >= REF_MAX)
		return -1;
	seen4[nseen4].p = p;
	seen4[nseen4].d = d;
	seen4[nseen4].nh = nh;
	nseen4++;
	return 0;
}

/* foreach gives exactly the reference's rules. */
static int same_rules4(const struct nf_lpm4 *l)
{
	static struct r4 want[REF_MAX];
	unsigned i;

	nseen4 = 0;
	if (nf_lpm4_foreach(l, collect4, NULL) != 0 || nseen4 != nref4 ||
	    nf_lpm4_count(l) != nref4)
		return 0;
	memcpy(want, ref4, nref4 * sizeof(*want));
	qsort(want, nref4, sizeof(*want), cmp_r4);
	qsort(seen4, nseen4, sizeof(*seen4), cmp_r4);
	for (i = 0; i < nref4; i++)
		if (want[i].p != seen4[i].p || want[i].d != seen4[i].d ||
		    want[i].nh != seen4[i].nh)
			return 0;
	for (i = 0; i < nref4; i++) {
		uint32_t nh;

		if (nf_lpm4_get(l, ref4[i].p, ref4[i].d, &nh) != 0 ||
		    nh != ref4[i].nh)
			return 0;
	}
	return 1;
}

static uint8_t rand_depth4(void)
{
	static const uint8_t pick[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 24,
		25, 26, 30, 31, 32, 32 };

	return rnd(2) ? (uint8_t)rnd(33) : pick[rnd(NF_ARRAY_SIZE(pick))];
}

static uint32_t rand_prefix4(uint8_t d)
{
	uint32_t a;

	if (nref4 && rnd(3) == 0)	/* inside or around an existing rule */
		a = ref4[rnd(nref4)].p ^ (uint32_t)xrand() >> rnd(32);
	else
		a = bases4[rnd(NF_ARRAY_SIZE(bases4))] ^ rnd(1024) << rnd(24);
	return a & mask4(d);
}

static void test_random4(void)
{
	struct nf_lpm4 *l;
	struct nf_lpm_stats st;
	unsigned round, op, bad = 0, bad_rules = 0;

	NF_TEST("lpm4: create", nf_lpm4_create(&l, REF_MAX) == 0);
	nref4 = 0;
	NF_TEST("lpm4: empty table misses",
		check4(l, 200) == 0 && nf_lpm4_count(l) == 0);
	for (round = 0; round < 60; round++) {
		for (op = 0; op < 40; op++) {
			unsigned what = rnd(10);
			uint8_t d = rand_depth4();

			if (what < 6 || nref4 == 0) {
				if (nref4 < REF_MAX - 1)
					bad += add4(l, rand_prefix4(d), d,
						    rnd(NF_LPM_NH_MAX + 1u)) != 0;
			} else if (what < 9) {
				const struct r4 *r = &ref4[rnd(nref4)];

				bad += del4(l, r->p, r->d) != 0;
			} else {	/* delete something that may not exist */
				bad += del4(l, rand_prefix4(d), d) != 0;
			}
		}
		bad += check4(l, 300);
		bad_rules += !same_rules4(l);
		/* Every few rounds drain most of the table, so that groups
		 * fold back and get reused. */
		if (round % 10 == 9)
			while (nref4 > 5) {
				const struct r4 r = ref4[rnd(nref4)];

				bad += del4(l, r.p, r.d) != 0;
			}
	}
	NF_TEST("lpm4: random adds, replacements, deletes match the reference",
		bad == 0);
	NF_TEST("lpm4: foreach, count and get give exactly the rule set",
		bad_rules == 0);
	while (nref4 > 0)
		bad += del4(l, ref4[0].p, ref4[0].d) != 0;
	nf_lpm4_stats(l, &st);
	NF_TEST("lpm4: all deleted: no rules, every tbl8 group returned",
		bad == 0 && st.rules == 0 && st.groups == 0 && check4(l, 300) == 0);
	nf_lpm4_free(l);
}

/* Nested routes added, then deleted in every order (720 orders). */
static void test_nested4(void)
{
	static const struct r4 set[] = {
		{ 0, 0, 1 }, { 0x0a000000, 8, 2 }, { 0x0a010000, 16, 3 },
		{ 0x0a010200, 24, 4 }, { 0x0a010280, 25, 5 },
		{ 0x0a010281, 32, 6 },
	};
	static const uint32_t probes[] = { 0x0a010281, 0x0a010280, 0x0a010282,
		0x0a0102ff, 0x0a010201, 0x0a01027f, 0x0a010300, 0x0a0101ff,
		0x0a020000, 0x0affffff, 0x0b000000, 0x09ffffff, 0, 0xffffffff };
	enum { N = NF_ARRAY_SIZE(set) };
	unsigned perm[N], c[N], i, k, orders = 0, bad = 0;
	struct nf_lpm4 *l;
	struct nf_lpm_stats st;

	if (nf_lpm4_create(&l, 16) != 0) {
		NF_TEST("lpm4: create for nested routes", 0);
		return;
	}
	for (i = 0; i < N; i++)
		perm[i] = i, c[i] = 0;
	/* Heap's algorithm: every permutation of the deletion order. */
	for (i = 0;;) {
		nref4 = 0;
		for (k = 0; k < N; k++)
			bad += add4(l, set[(k + orders) % N].p,
				    set[(k + orders) % N].d,
				    set[(k + orders) % N].nh) != 0;
		for (k = 0; k < N; k++) {
			unsigned p;

			bad += del4(l, set[perm[k]].p, set[perm[k]].d) != 0;
			for (p = 0; p < NF_ARRAY_SIZE(probes); p++) {
				uint32_t nh;

				nf_lpm4_lookup(l, probes[p], &nh);
				bad += nh != ref4_lookup(probes[p]);
			}
		}
		nf_lpm4_stats(l, &st);
		bad += st.groups != 0 || st.rules != 0;
		orders++;
		while (i < N && c[i] >= i) {
			c[i] = 0;
			i++;
		}
		if (i >= N)
			break;
		k = (i % 2 == 0) ? 0 : c[i];
		unsigned t = perm[k];
		perm[k] = perm[i];
		perm[i] = t;
		c[i]++;
		i = 0;
	}
	NF_TEST("lpm4: nested /0 /8 /16 /24 /25 /32 deleted in all 720 orders, "
		"re-added each time", orders == 720 && bad == 0);
	nf_lpm4_free(l);
}

static void test_errors4(void)
{
	struct nf_lpm4 *l;
	uint32_t nh = 77;

	NF_TEST("lpm4: create with 0 rules is -EINVAL with a sentence",
		nf_lpm4_create(&l, 0) == -EINVAL && l == NULL &&
		strstr(nf_last_error(), "out of range") != NULL);
	NF_TEST("lpm4: create with too many rules is -EINVAL",
		nf_lpm4_create(&l, NF_LPM_RULES_MAX + 1) == -EINVAL);
	if (nf_lpm4_create(&l, 3) != 0) {
		NF_TEST("lpm4: create 3 rules", 0);
		return;
	}
	nf_clear_error();
	NF_TEST("lpm4: depth 33 is -EINVAL with a sentence",
		nf_lpm4_add(l, 0x0a000000, 33, 1) == -EINVAL &&
		strstr(nf_last_error(), "depth") != NULL);
	nf_clear_error();
	NF_TEST("lpm4: host bits set is -EINVAL, says \"host bits set\"",
		nf_lpm4_add(l, 0x0a000001, 8, 1) == -EINVAL &&
		strstr(nf_last_error(), "host bits set") != NULL &&
		strstr(nf_last_error(), "10.0.0.0/8") != NULL);
	NF_TEST("lpm4: /0 with a host bit is -EINVAL",
		nf_lpm4_add(l, 1, 0, 1) == -EINVAL);
	nf_clear_error();
	NF_TEST("lpm4: next hop 2^24 is -EINVAL with a sentence",
		nf_lpm4_add(l, 0x0a000000, 8, NF_LPM_NH_MAX + 1) == -EINVAL &&
		strstr(nf_last_error(), "next hop") != NULL);
	NF_TEST("lpm4: next hop 2^24-1 is fine",
		nf_lpm4_add(l, 0x0a000000, 8, NF_LPM_NH_MAX) == 0 &&
		nf_lpm4_lookup(l, 0x0a0a0a0a, &nh) == 0 && nh == NF_LPM_NH_MAX);
	nf_clear_error();
	NF_TEST("lpm4: deleting a missing route is -ENOENT with a sentence",
		nf_lpm4_del(l, 0x0a000000, 9) == -ENOENT &&
		strstr(nf_last_error(), "no such route") != NULL);
	NF_TEST("lpm4: del and get check their arguments too",
		nf_lpm4_del(l, 0x0a000000, 40) == -EINVAL &&
		nf_lpm4_get(l, 0x0a000001, 8, &nh) == -EINVAL);
	nh = 5;
	NF_TEST("lpm4: get of a missing route is -ENOENT, *nh untouched",
		nf_lpm4_get(l, 0x0b000000, 8, &nh) == -ENOENT && nh == 5);
	NF_TEST("lpm4: lookup miss is -ENOENT and NF_LPM_MISS",
		nf_lpm4_lookup(l, 0x0b000000, &nh) == -ENOENT &&
		nh == NF_LPM_MISS);
	NF_TEST("lpm4: two more routes fit (3 rules)",
		nf_lpm4_add(l, 0x0a010000, 16, 2) == 0 &&
		nf_lpm4_add(l, 0x0a010203, 32, 3) == 0);
	nf_clear_error();
	NF_TEST("lpm4: a fourth route is -ENOSPC with a sentence",
		nf_lpm4_add(l, 0x0b000000, 8, 4) == -ENOSPC &&
		strstr(nf_last_error(), "full") != NULL &&
		nf_lpm4_count(l) == 3);
	NF_TEST("lpm4: the refused route left no trace",
		nf_lpm4_lookup(l, 0x0b000001, &nh) == -ENOENT &&
		nf_lpm4_get(l, 0x0b000000, 8, &nh) == -ENOENT);
	NF_TEST("lpm4: replacing a route's next hop works when full",
		nf_lpm4_add(l, 0x0a010203, 32, 9) == 0 &&
		nf_lpm4_lookup(l, 0x0a010203, &nh) == 0 && nh == 9 &&
		nf_lpm4_lookup(l, 0x0a010204, &nh) == 0 && nh == 2);
	NF_TEST("lpm4: after a delete the route fits",
		nf_lpm4_del(l, 0x0a010000, 16) == 0 &&
		nf_lpm4_add(l, 0x0b000000, 8, 4) == 0 &&
		nf_lpm4_lookup(l, 0x0a010204, &nh) == 0 && nh == NF_LPM_NH_MAX);
	NF_TEST("lpm4: a default route answers every miss, and goes",
		nf_lpm4_del(l, 0x0b000000, 8) == 0 &&
		nf_lpm4_add(l, 0, 0, 42) == 0 &&
		nf_lpm4_lookup(l, 0xdeadbeef, &nh) == 0 && nh == 42 &&
		nf_lpm4_lookup(l, 0x0a010203, &nh) == 0 && nh == 9 &&
		nf_lpm4_del(l, 0, 0) == 0 &&
		nf_lpm4_lookup(l, 0xdeadbeef, &nh) == -ENOENT);
	nf_lpm4_free(l);
	nf_lpm4_free(NULL);
}

static int stop_at_two(uint32_t p, uint8_t d, uint32_t nh, void *arg)
{
	(void)p, (void)d, (void)nh;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void test_foreach_stop(void)
{
	struct nf_lpm4 *l;
	int calls = 0;

	if (nf_lpm4_create(&l, 10) != 0)
		return;
	nf_lpm4_add(l, 0x01000000, 8, 1);
	nf_lpm4_add(l, 0x02000000, 8, 2);
	nf_lpm4_add(l, 0x03000000, 8, 3);
	NF_TEST("lpm4: foreach stops at the callback's non-zero value",
		nf_lpm4_foreach(l, stop_at_two, &calls) == 7 && calls == 2);
	nf_lpm4_free(l);
}

/* ================= IPv6 ================= */

struct r6 {
	uint8_t p[16];
	uint8_t d;
	uint32_t nh;
};

static struct r6 ref6[REF_MAX];
static unsigned nref6;

static void mask6(uint8_t *a, unsigned d)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (d >= 8 * (i + 1))
			continue;
		if (d <= 8 * i)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff << (8 * (i + 1) - d));
	}
}

static int covers6(const struct r6 *r, const uint8_t *ip)
{
	uint8_t a[16];

	memcpy(a, ip, 16);
	mask6(a, r->d);
	return memcmp(a, r->p, 16) == 0;
}

static int ref6_find(const uint8_t *p, uint8_t d)
{
	unsigned i;

	for (i = 0; i < nref6; i++)
		if (ref6[i].d == d && memcmp(ref6[i].p, p, 16) == 0)
			return (int)i;
	return -1;
}

static uint32_t ref6_lookup(const uint8_t *ip)
{
	uint32_t nh = NF_LPM_MISS;
	int best = -1;
	unsigned i;

	for (i = 0; i < nref6; i++)
		if (ref6[i].d > best && covers6(&ref6[i], ip)) {
			best = ref6[i].d;
			nh = ref6[i].nh;
		}
	return nh;
}

static int add6(struct nf_lpm6 *l, const uint8_t *p, uint8_t d, uint32_t nh)
{
	int i = ref6_find(p, d);

	if (nf_lpm6_add(l, p, d, nh) != 0)
		return -1;
	if (i >= 0) {
		ref6[i].nh = nh;
	} else {
		memcpy(ref6[nref6].p, p, 16);
		ref6[nref6].d = d;
		ref6[nref6].nh = nh;
		nref6++;
	}
	return 0;
}

static int del6(struct nf_lpm6 *l, const uint8_t *p, uint8_t d)
{
	int i = ref6_find(p, d);

	if (nf_lpm6_del(l, p, d) != (i >= 0 ? 0 : -ENOENT))
		return -1;
	if (i >= 0)
		ref6[i] = ref6[--nref6];
	return 0;
}

static uint8_t bases6[6][16];

static void init_bases6(void)
{
	static const char *txt[] = { "2001:db8::", "2001:db8:1:2:3:4:5:6",
		"2a00:1450:4001:81b::200e", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db8:ff00::" };
	unsigned i;

	for (i = 0; i < NF_ARRAY_SIZE(txt); i++)
		inet_pton(AF_INET6, txt[i], bases6[i]);
}

static void flip6(uint8_t *a, unsigned bit)
{
	a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

static unsigned check6(const struct nf_lpm6 *l, unsigned n)
{
	static uint8_t ips[1000][16];
	static uint32_t got[1000];
	unsigned i, j, bad = 0;

	if (n > 1000)
		n = 1000;
	for (i = 0; i < n; i++) {
		uint8_t *ip = ips[i];

		switch (rnd(4)) {
		case 0:
			if (nref6) {
				const struct r6 *r = &ref6[rnd(nref6)];

				for (j = 0; j < 16; j++)
					ip[j] = (uint8_t)xrand();
				for (j = 0; j < r->d; j++)
					if (((r->p[j / 8] ^ ip[j / 8]) << (j % 8)) & 0x80)
						flip6(ip, j);
				break;
			}
			/* fall through */
		case 1:
			memcpy(ip, bases6[rnd(NF_ARRAY_SIZE(bases6))], 16);
			ip[15] ^= (uint8_t)xrand();
			ip[rnd(16)] ^= (uint8_t)xrand();
			break;
		case 2:
			memcpy(ip, bases6[rnd(NF_ARRAY_SIZE(bases6))], 16);
			flip6(ip, rnd(128));
			break;
		default:
			for (j = 0; j < 16; j++)
				ip[j] = (uint8_t)xrand();
		}
	}
	nf_lpm6_lookup_bulk(l, &ips[0][0], got, n);
	for (i = 0; i < n; i++) {
		uint32_t want = ref6_lookup(ips[i]), nh = 0;
		int ret = nf_lpm6_lookup(l, ips[i], &nh);

		if (nh != want || ret != (want == NF_LPM_MISS ? -ENOENT : 0) ||
		    got[i] != want) {
			if (bad++ < 5) {
				char s[INET6_ADDRSTRLEN];

				inet_ntop(AF_INET6, ips[i], s, sizeof(s));
				printf("# %s: want %u, lookup %d/%u, bulk %u\n",
				       s, want, ret, nh, got[i]);
			}
		}
	}
	return bad;
}

static struct r6 seen6[REF_MAX];
static unsigned nseen6;

static int collect6(const uint8_t p[16], uint8_t d, uint32_t nh, void *arg)
{
	(void)arg;
	if (nseen6 >= REF_MAX)
		return -1;
	memcpy(seen6[nseen6].p, p, 16);
	seen6[nseen6].d = d;
	seen6[nseen6].nh = nh;
	nseen6++;
	return 0;
}

static int cmp_r6(const void *a, const void *b)
{
	const struct r6 *x = a, *y = b;
	int c = memcmp(x->p, y->p, 16);

	return c ? c : (int)x->d - (int)y->d;
}

static int same_rules6(const struct nf_lpm6 *l)
{
	static struct r6 want[REF_MAX];
	unsigned i;

	nseen6 = 0;
	if (nf_lpm6_foreach(l, collect6, NULL) != 0 || nseen6 != nref6 ||
	    nf_lpm6_count(l) != nref6)
		return 0;
	memcpy(want, ref6, nref6 * sizeof(*want));
	qsort(want, nref6, sizeof(*want), cmp_r6);
	qsort(seen6, nseen6, sizeof(*seen6), cmp_r6);
	for (i = 0; i < nref6; i++)
		if (cmp_r6(&want[i], &seen6[i]) != 0 || want[i].nh != seen6[i].nh)
			return 0;
	for (i = 0; i < nref6; i++) {
		uint32_t nh;

		if (nf_lpm6_get(l, ref6[i].p, ref6[i].d, &nh) != 0 ||
		    nh != ref6[i].nh)
			return 0;
	}
	return 1;
}

static uint8_t rand_depth6(void)
{
	static const uint8_t pick[] = { 0, 1, 3, 16, 23, 24, 25, 29, 31, 32, 32,
		33, 39, 40, 41, 47, 48, 48, 49, 56, 63, 64, 64, 65, 96, 120, 127,
		128, 128 };

	return rnd(3) == 0 ? (uint8_t)rnd(129) : pick[rnd(NF_ARRAY_SIZE(pick))];
}

static void rand_prefix6(uint8_t *a, uint8_t d)
{
	unsigned k;

	if (nref6 && rnd(3) == 0) {	/* inside or around a rule */
		memcpy(a, ref6[rnd(nref6)].p, 16);
		for (k = rnd(4); k > 0; k--)
			flip6(a, rnd(128));
	} else {
		memcpy(a, bases6[rnd(NF_ARRAY_SIZE(bases6))], 16);
		for (k = rnd(3); k > 0; k--)
			flip6(a, 20 + rnd(108));
	}
	mask6(a, d);
}

static void test_random6(void)
{
	struct nf_lpm6 *l;
	struct nf_lpm_stats st;
	unsigned round, op, bad = 0, bad_rules = 0;
	uint8_t p[16];

	NF_TEST("lpm6: create", nf_lpm6_create(&l, REF_MAX) == 0);
	nref6 = 0;
	NF_TEST("lpm6: empty table misses",
		check6(l, 200) == 0 && nf_lpm6_count(l) == 0);
	for (round = 0; round < 60; round++) {
		for (op = 0; op < 40; op++) {
			unsigned what = rnd(10);
			uint8_t d = rand_depth6();

			if (what < 6 || nref6 == 0) {
				if (nref6 < REF_MAX - 1) {
					rand_prefix6(p, d);
					bad += add6(l, p, d,
						    rnd(NF_LPM_NH_MAX + 1u)) != 0;
				}
			} else if (what < 9) {
				const struct r6 *r = &ref6[rnd(nref6)];

				memcpy(p, r->p, 16);
				bad += del6(l, p, r->d) != 0;
			} else {
				rand_prefix6(p, d);
				bad += del6(l, p, d) != 0;
			}
		}
		bad += check6(l, 300);
		bad_rules += !same_rules6(l);
		if (round % 10 == 9)
			while (nref6 > 5) {
				const struct r6 r = ref6[rnd(nref6)];

				bad += del6(l, r.p, r.d) != 0;
			}
	}
	NF_TEST("lpm6: random adds, replacements, deletes match the reference",
		bad == 0);
	NF_TEST("lpm6: foreach, count and get give exactly the rule set",
		bad_rules == 0);
	while (nref6 > 0) {
		memcpy(p, ref6[0].p, 16);
		bad += del6(l, p, ref6[0].d) != 0;
	}
	nf_lpm6_stats(l, &st);
	NF_TEST("lpm6: all deleted: no rules, every group returned",
		bad == 0 && st.rules == 0 && st.groups == 0 && check6(l, 300) == 0);
	nf_lpm6_free(l);
}

static void test_nested6(void)
{
	static const struct { const char *p; uint8_t d; } set[] = {
		{ "::", 0 }, { "2000::", 12 }, { "2001:db8::", 32 },
		{ "2001:db8::", 33 }, { "2001:db8:0:100::", 56 },
		{ "2001:db8:0:100::", 64 }, { "2001:db8:0:100::1", 128 },
	};
	static const char *probe_txt[] = { "2001:db8:0:100::1", "2001:db8:0:100::",
		"2001:db8:0:100::2", "2001:db8:0:100:8000::", "2001:db8:0:1ff::",
		"2001:db8:0:200::", "2001:db8:8000::", "2001:db8:7fff::",
		"2001:db9::", "200f:ffff::", "2010::", "::1", "2001:db8::" };
	enum { N = NF_ARRAY_SIZE(set), NP = NF_ARRAY_SIZE(probe_txt) };
	uint8_t pfx[N][16], probes[NP][16];
	unsigned perm[N], c[N], i, k, orders = 0, bad = 0;
	struct nf_lpm6 *l;
	struct nf_lpm_stats st;

	for (i = 0; i < N; i++)
		inet_pton(AF_INET6, set[i].p, pfx[i]);
	for (i = 0; i < NP; i++)
		inet_pton(AF_INET6, probe_txt[i], probes[i]);
	if (nf_lpm6_create(&l, 16) != 0) {
		NF_TEST("lpm6: create for nested routes", 0);
		return;
	}
	for (i = 0; i < N; i++)
		perm[i] = i, c[i] = 0;
	for (i = 0;;) {
		nref6 = 0;
		for (k = 0; k < N; k++)
			bad += add6(l, pfx[(k + orders) % N], set[(k + orders) % N].d,
				    (k + orders) % N + 1) != 0;
		for (k = 0; k < N; k++) {
			unsigned p;

			bad += del6(l, pfx[perm[k]], set[perm[k]].d) != 0;
			for (p = 0; p < NP; p++) {
				uint32_t nh;

				nf_lpm6_lookup(l, probes[p], &nh);
				bad += nh != ref6_lookup(probes[p]);
			}
		}
		nf_lpm6_stats(l, &st);
		bad += st.groups != 0 || st.rules != 0;
		orders++;
		while (i < N && c[i] >= i) {
			c[i] = 0;
			i++;
		}
		if (i >= N)
			break;
		k = (i % 2 == 0) ? 0 : c[i];
		unsigned t = perm[k];
		perm[k] = perm[i];
		perm[i] = t;
		c[i]++;
		i = 0;
	}
	NF_TEST("lpm6: nested /0 /12 /32 /33 /56 /64 /128 deleted in all 5040 "
		"orders, re-added each time", orders == 5040 && bad == 0);
	nf_lpm6_free(l);
}

static void test_errors6(void)
{
	struct nf_lpm6 *l;
	uint8_t a[16], b[16], c[16], d[16];
	uint32_t nh = 77;

	inet_pton(AF_INET6, "2001:db8::", a);
	inet_pton(AF_INET6, "2001:db8::1", b);
	inet_pton(AF_INET6, "2001:db8:1::", c);
	inet_pton(AF_INET6, "2a00::", d);
	NF_TEST("lpm6: create with 0 rules is -EINVAL with a sentence",
		nf_lpm6_create(&l, 0) == -EINVAL && l == NULL &&
		strstr(nf_last_error(), "out of range") != NULL);
	if (nf_lpm6_create(&l, 3) != 0) {
		NF_TEST("lpm6: create 3 rules", 0);
		return;
	}
	nf_clear_error();
	NF_TEST("lpm6: depth 129 is -EINVAL with a sentence",
		nf_lpm6_add(l, a, 129, 1) == -EINVAL &&
		strstr(nf_last_error(), "depth") != NULL);
	nf_clear_error();
	NF_TEST("lpm6: host bits set is -EINVAL, says \"host bits set\"",
		nf_lpm6_add(l, b, 32, 1) == -EINVAL &&
		strstr(nf_last_error(), "host bits set") != NULL &&
		strstr(nf_last_error(), "2001:db8::/32") != NULL);
	NF_TEST("lpm6: host bit 128 of a /127 is -EINVAL",
		nf_lpm6_add(l, b, 127, 1) == -EINVAL &&
		nf_lpm6_add(l, b, 128, 1) == 0 && nf_lpm6_del(l, b, 128) == 0);
	nf_clear_error();
	NF_TEST("lpm6: next hop 2^24 is -EINVAL with a sentence",
		nf_lpm6_add(l, a, 32, NF_LPM_NH_MAX + 1) == -EINVAL &&
		strstr(nf_last_error(), "next hop") != NULL);
	nf_clear_error();
	NF_TEST("lpm6: deleting a missing route is -ENOENT with a sentence",
		nf_lpm6_del(l, a, 32) == -ENOENT &&
		strstr(nf_last_error(), "no such route") != NULL);
	NF_TEST("lpm6: get of a missing route is -ENOENT, *nh untouched",
		nf_lpm6_get(l, a, 32, &nh) == -ENOENT && nh == 77 &&
		nf_lpm6_get(l, b, 32, &nh) == -EINVAL);
	NF_TEST("lpm6: three routes fit",
		nf_lpm6_add(l, a, 32, 1) == 0 && nf_lpm6_add(l, c, 48, 2) == 0 &&
		nf_lpm6_add(l, b, 128, 3) == 0);
	nf_clear_error();
	NF_TEST("lpm6: a fourth route is -ENOSPC with a sentence",
		nf_lpm6_add(l, d, 12, 4) == -ENOSPC &&
		strstr(nf_last_error(), "full") != NULL &&
		nf_lpm6_count(l) == 3 && nf_lpm6_lookup(l, d, &nh) == -ENOENT);
	NF_TEST("lpm6: replacing works when full, lookups follow",
		nf_lpm6_add(l, c, 48, 9) == 0 &&
		nf_lpm6_lookup(l, c, &nh) == 0 && nh == 9 &&
		nf_lpm6_lookup(l, b, &nh) == 0 && nh == 3 &&
		nf_lpm6_lookup(l, a, &nh) == 0 && nh == 1);
	NF_TEST("lpm6: a default route answers every miss, and goes",
		nf_lpm6_del(l, c, 48) == 0 && nf_lpm6_add(l, d, 0, 5) == -EINVAL &&
		nf_lpm6_add(l, (const uint8_t[16]){ 0 }, 0, 5) == 0 &&
		nf_lpm6_lookup(l, d, &nh) == 0 && nh == 5 &&
		nf_lpm6_lookup(l, c, &nh) == 0 && nh == 1 &&
		nf_lpm6_del(l, (const uint8_t[16]){ 0 }, 0) == 0 &&
		nf_lpm6_lookup(l, d, &nh) == -ENOENT);
	nf_lpm6_free(l);
	nf_lpm6_free(NULL);
}

/* ============ a generated BGP-like table ============ */

/* Longest match by probing get() for every depth: a second opinion that
 * uses only the rule store. */
static uint32_t probe4(const struct nf_lpm4 *l, uint32_t ip)
{
	int d;
	uint32_t nh;

	for (d = 32; d >= 0; d--)
		if (nf_lpm4_get(l, ip & mask4((unsigned)d), (uint8_t)d, &nh) == 0)
			return nh;
	return NF_LPM_MISS;
}

static uint32_t probe6(const struct nf_lpm6 *l, const uint8_t *ip)
{
	uint8_t a[16];
	uint32_t nh;
	int d;

	for (d = 128; d >= 0; d--) {
		memcpy(a, ip, 16);
		mask6(a, (unsigned)d);
		if (nf_lpm6_get(l, a, (uint8_t)d, &nh) == 0)
			return nh;
	}
	return NF_LPM_MISS;
}

static FILE *gen(int family, unsigned n)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "scripts/gen-routes -%d %u --seed 5 2>/dev/null",
		 family, n);
	return popen(cmd, "r");
}

#define GEN4 300000
#define GEN6 100000

static void test_generated4(void)
{
	static struct r4 rt[GEN4];
	struct nf_lpm4 *l = NULL;
	struct nf_lpm_stats st;
	unsigned n = 0, i, bad = 0, a, b, c, d, len, nh;
	uint64_t t0;
	FILE *f = gen(4, GEN4);
	char line[128];

	while (f && n < GEN4 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%u.%u.%u.%u/%u %u", &a, &b, &c, &d, &len,
			   &nh) == 6) {
			rt[n].p = a << 24 | b << 16 | c << 8 | d;
			rt[n].d = (uint8_t)len;
			rt[n].nh = nh;
			n++;
		}
	if (f)
		pclose(f);
	if (n != GEN4) {
		printf("# scripts/gen-routes gave %u IPv4 routes: skipped\n", n);
		return;
	}
	t0 = nf_now_ns();
	bad += nf_lpm4_create(&l, GEN4) != 0;
	for (i = 0; i < n && !bad; i++)
		bad += nf_lpm4_add(l, rt[i].p, rt[i].d, rt[i].nh) != 0;
	printf("# %u IPv4 routes loaded in %.2f s\n", n,
	       (nf_now_ns() - t0) / 1e9);
	NF_TEST("lpm4: a generated 300,000-route table loads", bad == 0 &&
		nf_lpm4_count(l) == GEN4);
	if (bad) {
		nf_lpm4_free(l);
		return;
	}
	for (i = 0; i < 100000; i++) {
		const struct r4 *r = &rt[rnd(n)];
		uint32_t ip = rnd(2) ? (uint32_t)xrand() :
			      r->p | ((uint32_t)xrand() & ~mask4(r->d)), got;

		nf_lpm4_lookup(l, ip, &got);
		bad += got != probe4(l, ip);
	}
	NF_TEST("lpm4: generated table: 100,000 lookups agree with rule probes",
		bad == 0);
	/* Delete in the order of loading, checking now and then. */
	for (i = 0; i < n; i++) {
		bad += nf_lpm4_del(l, rt[i].p, rt[i].d) != 0;
		if (i % 64 == 0) {
			const struct r4 *r = &rt[rnd(n)];
			uint32_t ip = r->p | ((uint32_t)xrand() & ~mask4(r->d)), got;

			nf_lpm4_lookup(l, ip, &got);
			bad += got != probe4(l, ip);
		}
	}
	nf_lpm4_stats(l, &st);
	NF_TEST("lpm4: generated table deleted route by route, lookups right, "
		"nothing left", bad == 0 && st.rules == 0 && st.groups == 0);
	nf_lpm4_free(l);
}

static void test_generated6(void)
{
	static struct r6 rt[GEN6];
	struct nf_lpm6 *l = NULL;
	struct nf_lpm_stats st;
	unsigned n = 0, i, j, bad = 0, len, nh;
	uint64_t t0;
	FILE *f = gen(6, GEN6);
	char line[128], txt[64];

	while (f && n < GEN6 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[0-9a-f:]/%u %u", txt, &len, &nh) == 3 &&
		    inet_pton(AF_INET6, txt, rt[n].p) == 1) {
			rt[n].d = (uint8_t)len;
			rt[n].nh = nh;
			n++;
		}
	if (f)
		pclose(f);
	if (n != GEN6) {
		printf("# scripts/gen-routes gave %u IPv6 routes: skipped\n", n);
		return;
	}
	t0 = nf_now_ns();
	bad += nf_lpm6_create(&l, GEN6) != 0;
	for (i = 0; i < n && !bad; i++)
		bad += nf_lpm6_add(l, rt[i].p, rt[i].d, rt[i].nh) != 0;
	printf("# %u IPv6 routes loaded in %.2f s\n", n,
	       (nf_now_ns() - t0) / 1e9);
	NF_TEST("lpm6: a generated 100,000-route table loads", bad == 0 &&
		nf_lpm6_count(l) == GEN6);
	if (bad) {
		nf_lpm6_free(l);
		return;
	}
	for (i = 0; i < 20000; i++) {
		const struct r6 *r = &rt[rnd(n)];
		uint8_t ip[16];
		uint32_t got;

		for (j = 0; j < 16; j++)
			ip[j] = (uint8_t)xrand();
		if (rnd(4)) {	/* inside a route */
			for (j = 0; j < r->d; j++)
				if (((r->p[j / 8] ^ ip[j / 8]) << (j % 8)) & 0x80)
					flip6(ip, j);
		}
		nf_lpm6_lookup(l, ip, &got);
		bad += got != probe6(l, ip);
	}
	NF_TEST("lpm6: generated table: 20,000 lookups agree with rule probes",
		bad == 0);
	for (i = 0; i < n; i++) {
		bad += nf_lpm6_del(l, rt[i].p, rt[i].d) != 0;
		if (i % 64 == 0) {
			const struct r6 *r = &rt[rnd(n)];
			uint8_t ip[16];
			uint32_t got;

			memcpy(ip, r->p, 16);
			ip[15] ^= (uint8_t)xrand();
			ip[8] ^= (uint8_t)xrand();
			nf_lpm6_lookup(l, ip, &got);
			bad += got != probe6(l, ip);
		}
	}
	nf_lpm6_stats(l, &st);
	NF_TEST("lpm6: generated table deleted route by route, lookups right, "
		"nothing left", bad == 0 && st.rules == 0 && st.groups == 0);
	nf_lpm6_free(l);
}

int main(void)
{
	init_bases6();
	test_errors4();
	test_foreach_stop();
	test_nested4();
	test_random4();
	test_errors6();
	test_nested6();
	test_random6();
	test_generated4();
	test_generated6();
	return nf_test_report();
}
