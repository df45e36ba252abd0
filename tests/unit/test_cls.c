/* test_cls.c - the classifier (nf_cls.c): keys taken from real frames,
 * exact verdicts of small hand-written rule sets, and for random rule sets
 * of 100, 1000 and 10000 rules of mixed kinds (prefixes, ranges, sets, !=,
 * comparisons, IPv6, ICMP, flags, ct state, ports) the tree answers exactly
 * what the linear scan answers, for random keys and keys aimed at rules,
 * for every `from` along each key's chain of matches and random ones.
 * Last, the memory bound: a cross product refused with -E2BIG.
 */
#include "harness.h"
#include "nf_cls.h"
#include "nf_rule.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ports[] = { "r1", "r2", "eth0", "eth1" };
static const struct nf_rule_opts O = { "t.conf", ports, 4 };

/* ------------------------------------------------------------ frames */

static unsigned eth_ip4(uint8_t *f, uint8_t proto, const char *src, const char *dst,
			uint8_t tos, uint16_t frag, unsigned l4len)
{
	uint8_t *ip = f + 14;

	memset(f, 0, 14 + 20 + l4len);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[1] = tos;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	return 14 + 20 + l4len;
}

static void test_key_of(void)
{
	uint8_t f[256];
	struct nf_hdrs h;
	struct nf_cls_key k;
	unsigned len;

	/* IPv4 TCP SYN 10.0.0.1:4660 -> 10.0.0.2:80, DSCP ef */
	len = eth_ip4(f, 6, "10.0.0.1", "10.0.0.2", 46 << 2, 0, 20);
	f[34] = 0x12; f[35] = 0x34; f[36] = 0; f[37] = 80;
	f[34 + 12] = 0x50;
	f[34 + 13] = 0x02;
	memset(&k, 0xee, sizeof(k));
	k.iif = 3; k.oif = 1; k.ct = NF_RULE_CT_NEW;
	NF_TEST("IPv4 TCP frame parses", nf_parse(f, len, &h) == NF_PERR_OK);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of IPv4 TCP: addresses, ports, proto, dscp, flags, l4",
		k.family == 4 && k.src == 0x0a000001 && k.dst == 0x0a000002 &&
		k.sport == 0x1234 && k.dport == 80 && k.proto == 6 && k.dscp == 46 &&
		k.tcp_flags == 0x02 && k.l4 && k.nexthdr == 0);
	NF_TEST("key_of leaves iif, oif, ct to the caller",
		k.iif == 3 && k.oif == 1 && k.ct == NF_RULE_CT_NEW);
	/* ICMP echo request: sport = type << 8 | code */
	len = eth_ip4(f, 1, "1.2.3.4", "5.6.7.8", 0, 0, 8);
	f[34] = 8; f[35] = 0; f[36] = 0xab; f[37] = 0xcd;
	nf_parse(f, len, &h);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of ICMP: transport bytes as ports (type 8, code 0, checksum)",
		k.family == 4 && k.proto == 1 && k.sport == 0x0800 && k.dport == 0xabcd &&
		k.l4 && k.tcp_flags == 0);
	/* later fragment: no transport header */
	len = eth_ip4(f, 17, "1.2.3.4", "5.6.7.8", 0, 0x0010, 16);
	f[34] = 0; f[35] = 53; f[36] = 0; f[37] = 53;
	NF_TEST("a later fragment parses", nf_parse(f, len, &h) == NF_PERR_OK);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of a later fragment: no l4, ports 0, proto kept",
		k.family == 4 && k.proto == 17 && !k.l4 && k.sport == 0 && k.dport == 0);
	/* first fragment: ports there */
	len = eth_ip4(f, 17, "1.2.3.4", "5.6.7.8", 0, 0x2000, 16);
	f[34] = 0; f[35] = 53; f[36] = 0; f[37] = 54;
	nf_parse(f, len, &h);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of a first fragment: ports", k.l4 && k.sport == 53 && k.dport == 54);
	/* GRE: 4 transport bytes read all the same (th) */
	len = eth_ip4(f, 47, "1.2.3.4", "5.6.7.8", 0, 0, 8);
	f[34] = 0; f[35] = 0; f[36] = 0x08; f[37] = 0x00;
	nf_parse(f, len, &h);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of GRE: proto 47, bytes 0-3 as ports", k.l4 && k.proto == 47 &&
		k.sport == 0 && k.dport == 0x0800);
	/* IPv6 UDP behind a hop-by-hop header, traffic class 0xb8 (ef) */
	{
		uint8_t *ip = f + 14;

		memset(f, 0, sizeof(f));
		f[12] = 0x86; f[13] = 0xdd;
		ip[0] = 0x6b; ip[1] = 0x80;		/* tc 0xb8: dscp 46 */
		ip[5] = 8 + 8;
		ip[6] = 0;				/* hop-by-hop */
		ip[7] = 64;
		inet_pton(AF_INET6, "fd00::1", ip + 8);
		inet_pton(AF_INET6, "2001:db8::2", ip + 24);
		ip[40] = 17;				/* next: UDP, length 8 */
		ip[48] = 0x04; ip[49] = 0xd2; ip[50] = 0; ip[51] = 53;
		ip[53] = 8;
		NF_TEST("IPv6 UDP frame parses", nf_parse(f, 14 + 40 + 16, &h) == NF_PERR_OK);
		nf_cls_key_of(f, &h, &k);
		NF_TEST("key of IPv6: 128-bit addresses, nexthdr 0, proto 17, dscp 46",
			k.family == 6 && k.src == ((nf_u128)0xfd00000000000000ull << 64 | 1) &&
			k.dst == ((nf_u128)0x20010db800000000ull << 64 | 2) &&
			k.nexthdr == 0 && k.proto == 17 && k.dscp == 46 &&
			k.sport == 1234 && k.dport == 53 && k.l4);
	}
	/* ARP: family 0 */
	memset(f, 0, 60);
	f[12] = 0x08; f[13] = 0x06;
	f[14] = 0; f[15] = 1; f[16] = 8; f[17] = 0; f[18] = 6; f[19] = 4;
	nf_parse(f, 60, &h);
	nf_cls_key_of(f, &h, &k);
	NF_TEST("key of ARP: family 0, nothing else", k.family == 0 && !k.l4 && k.proto == 0 &&
		k.src == 0 && k.sport == 0);
}

/* ------------------------------------------------------------ small sets */

static struct nf_cls_key key4(const char *src, const char *dst, uint8_t proto,
			      uint16_t sport, uint16_t dport)
{
	struct nf_cls_key k = { 0 };
	uint8_t a[4];

	k.family = 4;
	inet_pton(AF_INET, src, a);
	k.src = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	inet_pton(AF_INET, dst, a);
	k.dst = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	k.proto = proto;
	k.sport = sport;
	k.dport = dport;
	k.l4 = true;
	k.ct = NF_RULE_CT_NEW;
	return k;
}

/* Both classifiers give @want for @k from 0. */
static bool both(const struct nf_cls *c, const struct nf_ruleset *rs,
		 const struct nf_cls_key *k, uint32_t from, uint32_t want)
{
	uint32_t a = nf_cls_match(c, k, from), b = nf_cls_match_linear(rs, k, from);

	if (a != want || b != want)
		printf("# tree %u linear %u want %u\n", a, b, want);
	return a == want && b == want;
}

static const char stateless[] =
	"ip saddr 10.1.0.0/24 tcp dport 1000-2000 accept\n"		/* 0 */
	"tcp flags & (syn|ack) == syn tcp dport 22 drop\n"		/* 1 */
	"tcp dport 23 reject with tcp reset\n"				/* 2 */
	"udp dport 7 reject with icmp type host-unreachable\n"		/* 3 */
	"udp dport 8 reject\n"						/* 4 */
	"ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited\n" /* 5 */
	"udp sport { 53, 123 } accept\n"				/* 6 */
	"ip daddr != 10.2.0.0/24 ip protocol udp drop\n"		/* 7 */
	"icmp type { echo-request, echo-reply } accept\n"		/* 8 */
	"icmp type destination-unreachable drop\n"			/* 9 */
	"ip dscp ef accept\n"						/* 10 */
	"ip6 dscp cs1 drop\n"						/* 11 */
	"tcp sport 1-1023 tcp flags & (fin|syn|rst|ack) == ack accept\n" /* 12 */
	"counter\n"							/* 13 */
	"meta l4proto udp udp dport 100-200 drop\n"			/* 14 */
	"iifname \"r1\" ct state established,related accept\n"		/* 15 */
	"th dport 5000 accept\n";					/* 16 */

static void test_small(void)
{
	struct nf_ruleset rs;
	struct nf_cls *c = NULL;
	struct nf_cls_key k;
	struct nf_cls_stats st;

	nf_ruleset_init(&rs);
	NF_TEST("the stateless set parses (17 rules)",
		nf_rule_parse_text(&rs, &O, stateless) == 0 && rs.n == 17);
	NF_TEST("and builds", nf_cls_build(&rs, &c) == 0 && c);
	if (!c)
		return;
	nf_cls_get_stats(c, &st);
	NF_TEST("stats: 17 rules, leaves, bytes", st.rules == 17 && st.leaves >= 3 &&
		st.bytes > 0 && st.leaf_max >= 1);

	k = key4("10.1.0.5", "10.2.0.9", 6, 3000, 1500);
	k.tcp_flags = 0x02;
	NF_TEST("TCP 10.1.0.5 -> :1500: rule 0", both(c, &rs, &k, 0, 0));
	NF_TEST("... from 1: the counter (13)", both(c, &rs, &k, 1, 13));
	NF_TEST("... from 14: nothing", both(c, &rs, &k, 14, UINT32_MAX));
	k = key4("10.1.1.5", "10.2.0.9", 6, 3000, 1500);
	NF_TEST("TCP from outside the /24: the counter", both(c, &rs, &k, 0, 13));
	k = key4("10.9.0.1", "10.2.0.9", 6, 3000, 22);
	k.tcp_flags = 0x02;
	NF_TEST("SYN to 22: rule 1", both(c, &rs, &k, 0, 1));
	k.tcp_flags = 0x12;
	NF_TEST("SYN/ACK to 22: the counter", both(c, &rs, &k, 0, 13));
	k.tcp_flags = 0x10;
	k.sport = 80;
	NF_TEST("ACK from port 80 to 22: rule 12", both(c, &rs, &k, 0, 12));
	k = key4("10.9.0.1", "10.2.0.9", 6, 3000, 23);
	NF_TEST("TCP to 23: rule 2", both(c, &rs, &k, 0, 2));
	k.l4 = false;
	NF_TEST("TCP to 23 without a transport header (later fragment): the counter",
		both(c, &rs, &k, 0, 13));
	k = key4("10.9.0.1", "10.2.0.9", 17, 3000, 7);
	NF_TEST("UDP to 7 inside 10.2/24: rule 3", both(c, &rs, &k, 0, 3));
	k = key4("10.9.0.1", "10.3.0.9", 17, 3000, 7);
	NF_TEST("UDP to 7 outside 10.2/24: still rule 3", both(c, &rs, &k, 0, 3));
	k = key4("10.9.0.1", "10.3.0.9", 17, 3000, 99);
	NF_TEST("UDP to 99 outside 10.2/24: rule 7", both(c, &rs, &k, 0, 7));
	k = key4("10.9.0.1", "10.2.0.9", 17, 53, 99);
	NF_TEST("UDP from 53: rule 6", both(c, &rs, &k, 0, 6));
	k = key4("10.9.0.1", "10.2.0.9", 17, 54, 150);
	NF_TEST("UDP to 150 inside: rule 14 after the counter",
		both(c, &rs, &k, 0, 13) && both(c, &rs, &k, 14, 14));
	k = key4("10.9.0.1", "10.2.0.9", 1, 8 << 8, 0x1234);
	NF_TEST("ICMP echo request: rule 8", both(c, &rs, &k, 0, 8));
	k.sport = 3 << 8 | 1;
	NF_TEST("ICMP unreachable: rule 9", both(c, &rs, &k, 0, 9));
	k.sport = 11 << 8;
	NF_TEST("ICMP time exceeded: the counter", both(c, &rs, &k, 0, 13));
	k = key4("10.9.0.1", "10.2.0.9", 17, 3000, 150);
	k.dscp = 46;
	NF_TEST("DSCP ef: rule 10", both(c, &rs, &k, 0, 10));
	k = key4("10.9.0.1", "10.2.0.9", 47, 0, 5000);
	NF_TEST("GRE with bytes 2-3 = 5000: th dport matches (rule 16)",
		both(c, &rs, &k, 14, 16));
	k = key4("10.9.0.1", "10.2.0.9", 6, 80, 40000);
	k.iif = 0;
	k.ct = NF_RULE_CT_ESTABLISHED;
	k.tcp_flags = 0x18;
	NF_TEST("established from r1: rule 15 after the counter", both(c, &rs, &k, 14, 15));
	k.iif = 1;
	NF_TEST("established from r2: nothing after the counter", both(c, &rs, &k, 14, UINT32_MAX));
	/* IPv6 */
	memset(&k, 0, sizeof(k));
	k.family = 6;
	k.src = (nf_u128)0xfd01000000000000ull << 64 | 7;
	k.proto = 17;
	k.sport = 1000;
	k.dport = 9;
	k.l4 = true;
	NF_TEST("IPv6 UDP to 9 from fd01::/64: rule 5", both(c, &rs, &k, 0, 5));
	k.src = (nf_u128)0xfd02000000000000ull << 64 | 7;
	NF_TEST("IPv6 UDP to 9 from elsewhere: the counter", both(c, &rs, &k, 0, 13));
	k.dscp = 8;
	NF_TEST("IPv6 DSCP cs1: rule 11", both(c, &rs, &k, 0, 11));
	k.dscp = 0;
	k.dport = 150;
	NF_TEST("IPv6 UDP to 150: rule 14 (any family)", both(c, &rs, &k, 14, 14));
	/* a frame that is not IP */
	memset(&k, 0, sizeof(k));
	NF_TEST("non-IP key: the counter (family-0 rules without IP matches)",
		both(c, &rs, &k, 0, 13) && both(c, &rs, &k, 14, UINT32_MAX));
	nf_cls_free(c);
	nf_ruleset_free(&rs);

	/* empty rule set */
	NF_TEST("an empty rule set builds and matches nothing",
		nf_cls_build(&rs, &c) == 0 && nf_cls_match(c, &k, 0) == UINT32_MAX);
	nf_cls_free(c);
}

/* ------------------------------------------------------------ random sets */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void ip4s(char *b, size_t n)
{
	/* clustered like an ACL: a few /8s, many /16 and /24 */
	static const unsigned nets[] = { 10, 172, 192, 100 };

	snprintf(b, n, "%u.%u.%u.%u", nets[rn(4)], rn(4) * 16 + rn(2), rn(64), rn(256));
}

static void ip6s(char *b, size_t n)
{
	snprintf(b, n, "fd%02x:%x::%x", rn(4), rn(16), rn(65536));
}

static int addr_match(char *p, size_t n, bool v6, const char *kw)
{
	char a[64], b2[64];
	unsigned plen;

	if (v6) {
		ip6s(a, sizeof(a));
		ip6s(b2, sizeof(b2));
	} else {
		ip4s(a, sizeof(a));
		ip4s(b2, sizeof(b2));
	}
	plen = v6 ? (unsigned[]){ 16, 32, 48, 64, 128 }[rn(5)] : (unsigned[]){ 8, 16, 24, 28, 32 }[rn(5)];
	switch (rn(8)) {
	case 0:
		return snprintf(p, n, " %s != %s/%u", kw, a, plen);
	case 1:
		return snprintf(p, n, " %s { %s/%u, %s }", kw, a, plen, b2);
	case 2:
		return snprintf(p, n, " %s %s-%s", kw, strcmp(a, b2) < 0 ? a : b2,
				strcmp(a, b2) < 0 ? b2 : a);
	case 3:
		return snprintf(p, n, " %s %s", kw, a);
	default:
		return snprintf(p, n, " %s %s/%u", kw, a, plen);
	}
}

static int port_match(char *p, size_t n, const char *kw)
{
	unsigned a = rn(4) ? rn(1100) : rn(65536), b = a + rn(3000);

	if (b > 65535)
		b = 65535;
	switch (rn(7)) {
	case 0: return snprintf(p, n, " %s != %u", kw, a);
	case 1: return snprintf(p, n, " %s { %u, %u-%u, %u }", kw, a, a + 5, a + 9, b);
	case 2: return snprintf(p, n, " %s %s %u", kw, rn(2) ? "<" : ">=", a + 1);
	case 3: return snprintf(p, n, " %s %u-%u", kw, a, b);
	default: return snprintf(p, n, " %s %u", kw, a);
	}
}

/* One random rule. */
static void rand_rule(char *p, size_t n)
{
	size_t k = 0;
	unsigned fam = rn(10) < 6 ? 4 : rn(2) ? 6 : 0, l4 = rn(10);
	const char *tp = rn(2) ? "tcp" : "udp";

#define ADD(...) (k += (size_t)snprintf(p + k, n - k, __VA_ARGS__))
	p[0] = '\0';
	if (rn(10) == 0)
		ADD(" iifname %s", rn(2) ? "\"r1\"" : "!= { eth0, \"eth1\" }");
	if (rn(20) == 0)
		ADD(" oifname \"eth*\"");
	if (fam && rn(10) < 7)
		k += (size_t)addr_match(p + k, n - k, fam == 6, fam == 6 ? "ip6 saddr" : "ip saddr");
	if (fam && rn(10) < 6)
		k += (size_t)addr_match(p + k, n - k, fam == 6, fam == 6 ? "ip6 daddr" : "ip daddr");
	if (fam == 6 && rn(20) == 0)
		ADD(" ip6 nexthdr %s", rn(2) ? "udp" : "{ 0, 43-44 }");
	if (fam && rn(15) == 0)
		ADD(" %s dscp %s", fam == 6 ? "ip6" : "ip", rn(2) ? "ef" : "!= 0");
	if (l4 < 6) {
		if (rn(3))
			k += (size_t)port_match(p + k, n - k, rn(2) ? "tcp dport" : "udp dport");
		if (rn(3) == 0)
			k += (size_t)port_match(p + k, n - k, !strcmp(tp, "tcp") ? "tcp sport" : "udp sport");
		if (rn(8) == 0)
			ADD(" tcp flags %s", rn(2) ? "syn / syn,ack" : "!= { ack, psh|ack }");
	} else if (l4 == 6 && fam) {
		ADD(" %s type %s", fam == 6 ? "icmpv6" : "icmp",
		    rn(2) ? "echo-request" : "{ 0-3, 11 }");
		if (rn(3) == 0)
			ADD(" %s code %u", fam == 6 ? "icmpv6" : "icmp", rn(4));
	} else if (l4 == 7) {
		ADD(" meta l4proto %s", rn(2) ? "{ tcp, udp }" : "!= 6");
		if (rn(2))
			k += (size_t)port_match(p + k, n - k, "th dport");
	} else if (l4 == 8 && fam == 4) {
		ADD(" ip protocol %s", rn(2) ? "gre" : "< 10");
	}
	if (rn(12) == 0)
		ADD(" ct state %s", rn(2) ? "new" : "established,related");
	if (rn(12) == 0)
		ADD(" counter");
	else if (rn(40) == 0)
		ADD(" counter drop");
	else
		ADD(" %s", (const char *[]){ "accept", "drop", "reject" }[rn(3)]);
#undef ADD
}

#define L4_FIELDS ((1u << NF_RF_SPORT) | (1u << NF_RF_DPORT) | (1u << NF_RF_ICMP_TYPE) | \
		   (1u << NF_RF_ICMP_CODE) | NF_RM_TCP_FLAGS)

/* A key aimed at rule @r (values inside its ranges) or random. */
static void rand_key(const struct nf_ruleset *rs, const struct nf_rule *r, struct nf_cls_key *k)
{
	unsigned f;

	memset(k, 0, sizeof(*k));
	k->family = r ? (r->family ? r->family : rn(2) ? 4 : 6) : (rn(10) ? (rn(3) ? 4 : 6) : 0);
	if (k->family == 4) {
		char a[64];
		uint8_t b[4];

		ip4s(a, sizeof(a));
		inet_pton(AF_INET, a, b);
		k->src = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		ip4s(a, sizeof(a));
		inet_pton(AF_INET, a, b);
		k->dst = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	} else if (k->family == 6) {
		k->src = (nf_u128)(0xfd00ull | rn(4)) << 112 | (nf_u128)rn(16) << 96 | rn(65536);
		k->dst = (nf_u128)(0xfd00ull | rn(4)) << 112 | (nf_u128)rn(16) << 96 | rn(65536);
	}
	k->proto = (uint8_t)(rn(4) ? (unsigned[]){ 6, 17, 1, 58, 47 }[rn(5)] : rn(256));
	k->sport = (uint16_t)(rn(2) ? rn(1100) : rn(65536));
	k->dport = (uint16_t)(rn(2) ? rn(1100) : rn(65536));
	k->l4 = rn(20) != 0;
	k->tcp_flags = (uint8_t)(rn(2) ? (unsigned[]){ 0x02, 0x12, 0x10, 0x18 }[rn(4)] : rn(256));
	k->dscp = (uint8_t)(rn(4) ? 0 : rn(2) ? 46 : rn(64));
	k->nexthdr = (uint8_t)(rn(2) ? k->proto : rn(64));
	k->ct = (uint8_t)(1u << (unsigned[]){ 0, 1, 2, 3, 6 }[rn(5)]);
	k->iif = (uint8_t)rn(4);
	k->oif = (uint8_t)rn(4);
	if (!r)
		return;
	for (f = 0; f < NF_RF_MAX; f++) {
		uint32_t n;
		const struct nf_range *v = nf_rule_ranges(rs, r, f, &n);
		nf_u128 x;

		if (!v || rn(8) == 0)		/* now and then miss on purpose */
			continue;
		v += rn(n);
		switch (rn(3)) {
		case 0: x = v->lo; break;
		case 1: x = v->hi; break;
		default: x = v->lo + (nf_u128)rnd() % (v->hi - v->lo + 1 ? v->hi - v->lo + 1 : 1);
		}
		switch (f) {
		case NF_RF_SRC: k->src = x; break;
		case NF_RF_DST: k->dst = x; break;
		case NF_RF_SPORT: k->sport = (uint16_t)x; break;
		case NF_RF_DPORT: k->dport = (uint16_t)x; break;
		case NF_RF_PROTO: k->proto = (uint8_t)x; break;
		case NF_RF_NEXTHDR: k->nexthdr = (uint8_t)x; break;
		case NF_RF_ICMP_TYPE: k->sport = (uint16_t)(x << 8 | (k->sport & 0xff)); break;
		case NF_RF_ICMP_CODE: k->sport = (uint16_t)((k->sport & 0xff00) | x); break;
		default: k->dscp = (uint8_t)x; break;
		}
	}
	if (r->has & L4_FIELDS)		/* aimed: mostly with a header */
		k->l4 = rn(20) != 0;
}

/* Tree == linear for @k along its whole chain of matches, and at random
 * starting points. Returns the number of disagreements. */
static unsigned compare_key(const struct nf_cls *c, const struct nf_ruleset *rs,
			    const struct nf_cls_key *k, unsigned *hits)
{
	uint32_t from = 0, a, b, i;
	unsigned bad = 0;

	for (;;) {
		a = nf_cls_match(c, k, from);
		b = nf_cls_match_linear(rs, k, from);
		if (a != b) {
			bad++;
			break;
		}
		if (a == UINT32_MAX)
			break;
		(*hits)++;
		from = a + 1;
	}
	for (i = 0; i < 4; i++) {
		from = rn(rs->n + 2);
		if (nf_cls_match(c, k, from) != nf_cls_match_linear(rs, k, from))
			bad++;
	}
	return bad;
}

static void test_random(unsigned nrules, unsigned nkeys, unsigned seed)
{
	struct nf_ruleset rs;
	struct nf_cls *c = NULL;
	struct nf_cls_stats st;
	char line[1024], what[200];
	unsigned i, bad = 0, refused = 0, hits = 0, aimed_hits = 0;
	int ret;

	rng_state = 88172645463325252ull ^ seed;
	nf_ruleset_init(&rs);
	while (rs.n < nrules) {
		rand_rule(line, sizeof(line));
		if (nf_rule_parse(&rs, &O, line, rs.n + 1) != 0)
			refused++;	/* a random rule can be empty (never matches) */
	}
	snprintf(what, sizeof(what), "%u random rules build (%u refused as never matching)",
		 nrules, refused);
	ret = nf_cls_build(&rs, &c);
	NF_TEST(what, ret == 0 && c && refused < nrules / 5 + 5);
	if (!c) {
		printf("# %d: %s\n", ret, nf_last_error());
		nf_ruleset_free(&rs);
		return;
	}
	nf_cls_get_stats(c, &st);
	printf("# %u rules: %u nodes, %u leaves, depth %u, leaf max %u, %zu bytes\n",
	       st.rules, st.nodes, st.leaves, st.depth_max, st.leaf_max, st.bytes);
	for (i = 0; i < nkeys; i++) {
		struct nf_cls_key k;
		unsigned h = 0;

		rand_key(&rs, i % 2 ? &rs.rules[rn(rs.n)] : NULL, &k);
		bad += compare_key(c, &rs, &k, &h);
		hits += h;
		if (i % 2 && h)
			aimed_hits++;
	}
	snprintf(what, sizeof(what), "%u rules, %u keys: tree == linear for every key and from "
		 "(%u matches walked, %u of %u aimed keys hit)", nrules, nkeys, hits, aimed_hits,
		 nkeys / 2);
	NF_TEST(what, bad == 0 && aimed_hits > nkeys / 4);
	nf_cls_free(c);
	nf_ruleset_free(&rs);
}

/* ------------------------------------------------------------ the bound */

static void test_bound(void)
{
	struct nf_ruleset rs;
	struct nf_cls *c = NULL;
	struct nf_cls_stats st;
	char line[128], want[400];
	unsigned i;
	int ret;

	/* 1000 source /24s under one destination /8 crossed with 1000
	 * destination /24s under one source /8: one tree (all narrow on
	 * both addresses), replicated leaves */
	nf_ruleset_init(&rs);
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "ip saddr 10.%u.%u.0/24 ip daddr 11.0.0.0/8 accept",
			 i >> 8, i & 255);
		nf_rule_parse(&rs, &O, line, i + 1);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "ip saddr 10.0.0.0/8 ip daddr 11.%u.%u.0/24 drop",
			 i >> 8, i & 255);
		nf_rule_parse(&rs, &O, line, i + 1001);
	}
	ret = nf_cls_build(&rs, &c);
	NF_TEST("a 1000 x 1000 cross product builds within NF_CLS_BYTES_MAX", ret == 0 && c);
	if (!c)
		return;
	nf_cls_get_stats(c, &st);
	printf("# cross product 1000 x 1000: %u trees, %u leaves, leaf max %u, %zu bytes "
	       "(peak %zu)\n", st.trees, st.leaves, st.leaf_max, st.bytes, st.build_peak);
	{
		struct nf_cls_key k = key4("10.3.7.1", "11.3.200.9", 6, 1, 2);

		NF_TEST("and answers right", st.bytes <= NF_CLS_BYTES_MAX &&
			both(c, &rs, &k, 0, 3 * 256 + 7) &&
			both(c, &rs, &k, 3 * 256 + 8, 1000 + 3 * 256 + 200));
	}
	nf_cls_free(c);
	c = NULL;
	NF_TEST("a bound of exactly its build peak: builds",
		st.build_peak >= st.bytes && nf_cls_build_max(&rs, st.build_peak, &c) == 0 && c);
	nf_cls_free(c);
	c = NULL;
	ret = nf_cls_build_max(&rs, st.build_peak - 1, &c);
	NF_TEST("one byte less: -E2BIG, no classifier", ret == -E2BIG && c == NULL);
	snprintf(want, sizeof(want), "classifier: the decision tree of 2000 rules passes its "
		 "memory bound of %zu bytes (rules that overlap on different fields are "
		 "copied into many leaves; split the rule set or use fewer crossing "
		 "wildcards)", st.build_peak - 1);
	NF_TEST("... with the sentence", strcmp(nf_last_error(), want) == 0);
	nf_ruleset_free(&rs);
}

/* Random keys per rule set: the optimised build compares them all; under
 * AddressSanitizer (about 8 times slower here) a quarter, which still walks
 * every tree. */
#if defined(__SANITIZE_ADDRESS__)
#define KEYS(n)	((n) / 4)
#else
#define KEYS(n)	(n)
#endif

int main(void)
{
	test_key_of();
	test_small();
	test_random(100, KEYS(20000), 1);
	test_random(1000, KEYS(20000), 2);
	test_random(10000, KEYS(6000), 3);
	test_random(300, KEYS(20000), 4);
	test_bound();
	return nf_test_report();
}
