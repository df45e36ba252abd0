/* test_rule.c - the rule language (nf_rule.c): every construct parses to
 * the exact struct (ranges, sets, !=, comparisons, implied dependencies,
 * bitmask matches as 256-value bitmaps), every refusal gives its exact
 * sentence, and format(parse(x)) parses to the same struct.
 */
#include "harness.h"
#include "nf_rule.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const ports[] = { "r1", "r2", "eth0", "eth1", "wan" };
static const struct nf_rule_opts O = { "t.conf", ports, 5 };

static struct nf_ruleset rs;

/* Parse @line alone; the rule or NULL. */
static const struct nf_rule *one(const char *line)
{
	nf_ruleset_free(&rs);
	if (nf_rule_parse(&rs, &O, line, 7) != 0 || rs.n != 1) {
		printf("# %s: %s\n", line, nf_last_error());
		return NULL;
	}
	return &rs.rules[0];
}

/* Field @f of @r is exactly the ranges "lo-hi lo-hi ..." (64-bit values). */
static bool ranges_are(const struct nf_rule *r, enum nf_rule_field f, const char *want)
{
	uint32_t n, i = 0;
	const struct nf_range *v = nf_rule_ranges(&rs, r, f, &n);
	const char *p = want;
	char *e;

	if (!r)
		return false;
	if (!(r->has >> f & 1) != !v)
		return false;
	while (*p) {
		unsigned long long lo = strtoull(p, &e, 0), hi = lo;

		if (*e == '-')
			hi = strtoull(e + 1, &e, 0);
		if (i >= n || v[i].lo != lo || v[i].hi != hi)
			return false;
		i++;
		p = e;
		while (*p == ' ')
			p++;
	}
	return i == n;
}

/* Only the value fields in @mask (1 << NF_RF_*) are present. */
static bool fields_are(const struct nf_rule *r, uint32_t mask)
{
	return r && (r->has & ((1u << NF_RF_MAX) - 1)) == mask;
}

static bool bit(const uint8_t m[32], unsigned v)
{
	return m[v >> 3] >> (v & 7) & 1;
}

/* tcp flags of @r match exactly the values v with pred(v). */
static bool flags_are(const struct nf_rule *r, bool (*pred)(unsigned))
{
	unsigned v;

	if (!r || !(r->has & NF_RM_TCP_FLAGS))
		return false;
	for (v = 0; v < 256; v++)
		if (bit(r->tcp_flags, v) != pred(v))
			return false;
	return true;
}

static bool f_any_syn_ack(unsigned v) { return (v & 0x12) != 0; }
static bool f_eq_syn(unsigned v) { return v == 0x02; }
static bool f_ne_syn(unsigned v) { return v != 0x02; }
static bool f_none_syn(unsigned v) { return (v & 0x02) == 0; }
static bool f_syn_of_synack(unsigned v) { return (v & 0x12) == 0x02; }
static bool f_in_set(unsigned v) { return v == 0x02 || v == 0x12; }
static bool f_ack_of4(unsigned v) { return (v & 0x17) == 0x10; }
static bool f_ne_masked(unsigned v) { return (v & 0x12) != 0x02; }
static bool f_not_in_set(unsigned v) { return v != 0x02 && v != 0x12; }
static bool f_eq_synack(unsigned v) { return v == 0x12; }

static void test_values(void)
{
	const struct nf_rule *r;

	r = one("tcp dport 22 accept");
	NF_TEST("tcp dport 22: proto {6}, dport {22}, accept, line 7",
		fields_are(r, 1u << NF_RF_PROTO | 1u << NF_RF_DPORT) &&
		ranges_are(r, NF_RF_PROTO, "6") && ranges_are(r, NF_RF_DPORT, "22") &&
		r->family == 0 && r->verdict == NF_RULE_ACCEPT && !r->counter &&
		r->line == 7);
	r = one("udp sport 1000-2000 drop");
	NF_TEST("udp sport range: proto {17}, sport 1000-2000",
		fields_are(r, 1u << NF_RF_PROTO | 1u << NF_RF_SPORT) &&
		ranges_are(r, NF_RF_PROTO, "17") && ranges_are(r, NF_RF_SPORT, "1000-2000") &&
		r->verdict == NF_RULE_DROP);
	r = one("th dport { 80, 443, 8000-8080, 81 } accept");
	NF_TEST("th dport set: no protocol, merged sorted ranges",
		fields_are(r, 1u << NF_RF_DPORT) &&
		ranges_are(r, NF_RF_DPORT, "80-81 443 8000-8080"));
	r = one("tcp dport != 22 accept");
	NF_TEST("tcp dport != 22: the complement",
		ranges_are(r, NF_RF_DPORT, "0-21 23-65535"));
	r = one("tcp dport != { 0-10, 65535, 20 } accept");
	NF_TEST("!= { set }: none of them",
		ranges_are(r, NF_RF_DPORT, "11-19 21-65534"));
	r = one("tcp dport < 1024 accept");
	NF_TEST("< 1024", ranges_are(r, NF_RF_DPORT, "0-1023"));
	r = one("tcp dport <= 1024 accept");
	NF_TEST("<= 1024", ranges_are(r, NF_RF_DPORT, "0-1024"));
	r = one("tcp dport > 1024 accept");
	NF_TEST("> 1024", ranges_are(r, NF_RF_DPORT, "1025-65535"));
	r = one("tcp dport >= 1024 accept");
	NF_TEST(">= 1024", ranges_are(r, NF_RF_DPORT, "1024-65535"));
	r = one("tcp dport == 0x50 accept");
	NF_TEST("== and hex numbers", ranges_are(r, NF_RF_DPORT, "80"));
	r = one("tcp dport 1-100 tcp dport 50-200 accept");
	NF_TEST("two matches on one field intersect", ranges_are(r, NF_RF_DPORT, "50-100"));
	r = one("ip saddr 10.1.2.3/8 accept");
	NF_TEST("ip saddr prefix: host bits cleared, family 4",
		r && r->family == 4 && fields_are(r, 1u << NF_RF_SRC) &&
		ranges_are(r, NF_RF_SRC, "0x0a000000-0x0affffff"));
	r = one("ip daddr 192.168.1.1 accept");
	NF_TEST("ip daddr host", ranges_are(r, NF_RF_DST, "0xc0a80101"));
	r = one("ip daddr 10.0.0.1-10.0.0.9 accept");
	NF_TEST("ip daddr range", ranges_are(r, NF_RF_DST, "0x0a000001-0x0a000009"));
	r = one("ip saddr != 10.0.0.0/8 accept");
	NF_TEST("ip saddr != prefix: the two sides",
		ranges_are(r, NF_RF_SRC, "0-0x09ffffff 0x0b000000-0xffffffff"));
	r = one("ip saddr 0.0.0.0/0 accept");
	NF_TEST("/0: the whole space, still a match (family 4)",
		r && r->family == 4 && ranges_are(r, NF_RF_SRC, "0-0xffffffff"));
	r = one("ip saddr { 10.0.0.0/24, 10.0.1.0/24, 1.2.3.4 } accept");
	NF_TEST("address set: adjacent prefixes merge",
		ranges_are(r, NF_RF_SRC, "0x01020304 0x0a000000-0x0a0001ff"));
	r = one("ip6 saddr fd00::1/64 accept");
	{
		uint32_t n;
		const struct nf_range *v = r ? nf_rule_ranges(&rs, r, NF_RF_SRC, &n) : NULL;
		nf_u128 lo = (nf_u128)0xfd00000000000000ull << 64;

		NF_TEST("ip6 saddr /64: family 6, 128-bit range",
			v && n == 1 && r->family == 6 && v[0].lo == lo &&
			v[0].hi == (lo | 0xffffffffffffffffull));
	}
	r = one("ip6 daddr { ::1, ::5-::9 } accept");
	NF_TEST("ip6 daddr set with a range", ranges_are(r, NF_RF_DST, "1 5-9"));
	r = one("ip6 daddr != ::/1 accept");
	{
		uint32_t n;
		const struct nf_range *v = r ? nf_rule_ranges(&rs, r, NF_RF_DST, &n) : NULL;

		NF_TEST("ip6 daddr != ::/1: the upper half",
			v && n == 1 && v[0].lo == (nf_u128)1 << 127 && v[0].hi == ~(nf_u128)0);
	}
	r = one("meta l4proto { tcp, udp } th dport 53 accept");
	NF_TEST("meta l4proto set with th",
		ranges_are(r, NF_RF_PROTO, "6 17") && ranges_are(r, NF_RF_DPORT, "53"));
	r = one("ip protocol gre accept");
	NF_TEST("ip protocol gre: proto 47, family 4",
		r && r->family == 4 && ranges_are(r, NF_RF_PROTO, "47"));
	r = one("meta l4proto != 0-5 counter");
	NF_TEST("l4proto != range, counter only: CONTINUE",
		ranges_are(r, NF_RF_PROTO, "6-255") && r->counter &&
		r->verdict == NF_RULE_CONTINUE);
	r = one("ip6 nexthdr esp accept");
	NF_TEST("ip6 nexthdr: its own field, family 6",
		r && r->family == 6 && fields_are(r, 1u << NF_RF_NEXTHDR) &&
		ranges_are(r, NF_RF_NEXTHDR, "50"));
	r = one("meta l4proto tcp tcp dport 22 accept");
	NF_TEST("explicit l4proto tcp and tcp dport", ranges_are(r, NF_RF_PROTO, "6"));
	r = one("meta l4proto ipv6-icmp drop");
	NF_TEST("/etc/protocols names with a dash (ipv6-icmp = 58), not a range",
		r && ranges_are(r, NF_RF_PROTO, "58"));
	r = one("meta l4proto { ipv6-frag, ipv6-opts } drop");
	NF_TEST("ipv6-frag, ipv6-opts in a set", r && ranges_are(r, NF_RF_PROTO, "44 60"));
	r = one("icmp type echo-request accept");
	NF_TEST("icmp type: family 4, proto 1, type 8",
		r && r->family == 4 && ranges_are(r, NF_RF_PROTO, "1") &&
		ranges_are(r, NF_RF_ICMP_TYPE, "8"));
	r = one("icmpv6 type { echo-request, nd-neighbor-solicit-nd-neighbor-advert } accept");
	NF_TEST("icmpv6 type set with a named range: family 6, proto 58",
		r && r->family == 6 && ranges_are(r, NF_RF_PROTO, "58") &&
		ranges_are(r, NF_RF_ICMP_TYPE, "128 135-136"));
	r = one("icmp code port-unreachable accept");
	NF_TEST("icmp code name", ranges_are(r, NF_RF_ICMP_CODE, "3"));
	r = one("icmpv6 type destination-unreachable icmpv6 code != 4 accept");
	NF_TEST("icmpv6 type and code !=",
		ranges_are(r, NF_RF_ICMP_TYPE, "1") && ranges_are(r, NF_RF_ICMP_CODE, "0-3 5-255"));
	r = one("ip dscp { af11-af13, ef } accept");
	NF_TEST("ip dscp names and named range: family 4",
		r && r->family == 4 && ranges_are(r, NF_RF_DSCP, "10-14 46"));
	r = one("ip6 dscp cs1 drop");
	NF_TEST("ip6 dscp: family 6", r && r->family == 6 && ranges_are(r, NF_RF_DSCP, "8"));
	r = one("ip dscp > 40 accept");
	NF_TEST("ip dscp > 40 (domain 0..63)", ranges_are(r, NF_RF_DSCP, "41-63"));
	r = one("meta nfproto ipv6 accept");
	NF_TEST("meta nfproto ipv6: family only", r && r->family == 6 && fields_are(r, 0));
}

static void test_ports_ct_flags(void)
{
	const struct nf_rule *r;

	r = one("iifname \"r1\" oifname wan accept");
	NF_TEST("iifname quoted, oifname bare: port bits",
		r && (r->has & NF_RM_IIF) && (r->has & NF_RM_OIF) && r->iif == 1 &&
		r->oif == 1u << 4);
	r = one("iifname \"eth*\" accept");
	NF_TEST("iifname prefix: eth0 and eth1", r && r->iif == (1u << 2 | 1u << 3));
	r = one("meta iifname != { \"r1\", r2 } accept");
	NF_TEST("meta iifname != set: the other ports", r && r->iif == (1u << 2 | 1u << 3 | 1u << 4));
	r = one("ct state established,related accept");
	NF_TEST("ct state list: any of", r && (r->has & NF_RM_CT) &&
		r->ct == (NF_RULE_CT_ESTABLISHED | NF_RULE_CT_RELATED));
	r = one("ct state { new, untracked } accept");
	NF_TEST("ct state set", r && r->ct == (NF_RULE_CT_NEW | NF_RULE_CT_UNTRACKED));
	r = one("ct state != established accept");
	NF_TEST("ct state != established: every other state",
		r && r->ct == (NF_RULE_CT_INVALID | NF_RULE_CT_RELATED | NF_RULE_CT_NEW |
			       NF_RULE_CT_UNTRACKED));
	r = one("ct state != established,related accept");
	NF_TEST("ct state != est,rel: state != 6, so every state (nft: cmp neq 6)",
		r && r->ct == 0x4f);
	r = one("ct state ! established,related accept");
	NF_TEST("ct state ! est,rel: neither",
		r && r->ct == (NF_RULE_CT_INVALID | NF_RULE_CT_NEW | NF_RULE_CT_UNTRACKED));
	r = one("tcp flags syn,ack accept");
	NF_TEST("tcp flags syn,ack: any of (and proto 6)",
		flags_are(r, f_any_syn_ack) && ranges_are(r, NF_RF_PROTO, "6"));
	NF_TEST("tcp flags == syn: exactly", flags_are(one("tcp flags == syn accept"), f_eq_syn));
	NF_TEST("tcp flags != syn", flags_are(one("tcp flags != syn accept"), f_ne_syn));
	NF_TEST("tcp flags ! syn: not set", flags_are(one("tcp flags ! syn accept"), f_none_syn));
	NF_TEST("tcp flags syn / syn,ack",
		flags_are(one("tcp flags syn / syn,ack accept"), f_syn_of_synack));
	NF_TEST("tcp flags & (syn|ack) == syn: the same",
		flags_are(one("tcp flags & (syn|ack) == syn accept"), f_syn_of_synack));
	NF_TEST("tcp flags & (syn|ack) != syn",
		flags_are(one("tcp flags & (syn|ack) != syn accept"), f_ne_masked));
	NF_TEST("tcp flags { syn, syn|ack }: one of the values",
		flags_are(one("tcp flags { syn, syn|ack } accept"), f_in_set));
	NF_TEST("tcp flags != { syn, syn|ack }",
		flags_are(one("tcp flags != { syn, syn|ack } accept"), f_not_in_set));
	NF_TEST("tcp flags & (fin|syn|rst|ack) == ack",
		flags_are(one("tcp flags & (fin|syn|rst|ack) == ack accept"), f_ack_of4));
	NF_TEST("tcp flags == syn,ack: exactly syn|ack (nft: cmp eq 0x12)",
		flags_are(one("tcp flags == syn,ack accept"), f_eq_synack));
	NF_TEST("two tcp flags matches intersect",
		flags_are(one("tcp flags syn tcp flags & (syn|ack) == syn accept"), f_syn_of_synack));
}

static void test_statements(void)
{
	const struct nf_rule *r;

	r = one("counter");
	NF_TEST("counter alone: non-terminal", r && r->counter && r->verdict == NF_RULE_CONTINUE &&
		r->has == 0 && r->family == 0);
	r = one("counter drop comment \"the end\"");
	NF_TEST("counter drop comment",
		r && r->counter && r->verdict == NF_RULE_DROP && r->comment == 7 &&
		strcmp(nf_rule_comment(&rs, r), "the end") == 0);
	r = one("reject");
	NF_TEST("reject: icmpx port-unreachable",
		r && r->verdict == NF_RULE_REJECT && r->reject == NF_REJECT_ICMPX &&
		r->reject_code == NF_ICMPX_PORT_UNREACH && r->family == 0);
	r = one("reject with icmp type host-unreachable");
	NF_TEST("reject with icmp type host-unreachable: family 4",
		r && r->reject == NF_REJECT_ICMP && r->reject_code == 1 && r->family == 4);
	r = one("reject with icmp admin-prohibited");
	NF_TEST("reject with icmp CODE (no 'type')", r && r->reject == NF_REJECT_ICMP &&
		r->reject_code == 13);
	r = one("ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited");
	NF_TEST("reject with icmpv6 admin-prohibited: code 1, family 6",
		r && r->reject == NF_REJECT_ICMPV6 && r->reject_code == 1 && r->family == 6);
	r = one("reject with icmpx type no-route");
	NF_TEST("reject with icmpx no-route", r && r->reject == NF_REJECT_ICMPX &&
		r->reject_code == NF_ICMPX_NO_ROUTE && r->family == 0);
	r = one("reject with tcp reset");
	NF_TEST("reject with tcp reset: proto 6",
		r && r->reject == NF_REJECT_TCP_RST && ranges_are(r, NF_RF_PROTO, "6"));
	r = one("   # a comment line");
	NF_TEST("comment lines append nothing", !r && rs.n == 0 &&
		nf_rule_parse(&rs, &O, "", 1) == 0 && rs.n == 0);
	r = one("tcp dport 22 accept # trailing");
	NF_TEST("'#' ends the rule", r && ranges_are(r, NF_RF_DPORT, "22"));
	NF_TEST("verdict names", strcmp(nf_rule_verdict_name(NF_RULE_CONTINUE), "continue") == 0 &&
		strcmp(nf_rule_verdict_name(NF_RULE_REJECT), "reject") == 0);
}

static const struct {
	const char *line, *msg;
} refusals[] = {
	{ "tcp dport 70000 accept", "t.conf:7: 'tcp dport 70000': port out of range 0..65535" },
	{ "tcp dport 22 tcp dport 23 accept",
	  "t.conf:7: 'tcp dport 23': the rule can never match (no value left for this field)" },
	{ "tcp dport > 65535 accept",
	  "t.conf:7: 'tcp dport > 65535': the rule can never match (no value left for this field)" },
	{ "ip saddr != 0.0.0.0/0 accept",
	  "t.conf:7: 'ip saddr != 0.0.0.0/0': the rule can never match (no value left for this field)" },
	{ "tcp dport ssh accept",
	  "t.conf:7: 'tcp dport ssh': service names are refused: write the port number" },
	{ "ip saddr example.com accept",
	  "t.conf:7: 'ip saddr example.com': host names are refused: write the address" },
	{ "tcp dport 010 accept",
	  "t.conf:7: 'tcp dport 010': numbers with leading zeros are refused (nft reads 010 as octal)" },
	{ "tcp dport 22", "t.conf:7: 'tcp dport 22': a rule needs a counter or a verdict (accept, drop, reject)" },
	{ "accept tcp dport 22", "t.conf:7: 'tcp': a match after a statement" },
	{ "counter counter accept", "t.conf:7: 'counter': two counters in one rule" },
	{ "accept counter", "t.conf:7: 'counter': the counter must come before the verdict" },
	{ "accept drop", "t.conf:7: 'drop': a second verdict" },
	{ "meta nfproto ipv4 icmpv6 type echo-request accept",
	  "t.conf:7: 'icmpv6 type': icmpv6 in an IPv4 rule (nft would match protocol 58 inside IPv4)" },
	{ "ip6 saddr ::1 icmp type echo-request accept",
	  "t.conf:7: 'icmp type': icmp in an IPv6 rule: it can never match" },
	{ "ip saddr 1.2.3.4 ip6 daddr ::1 accept",
	  "t.conf:7: 'ip6 daddr': IPv4 and IPv6 matches in one rule: it can never match" },
	{ "meta l4proto { tcp, udp } tcp dport 22 accept",
	  "t.conf:7: 'meta l4proto { tcp, udp } tcp dport 22 accept': a set, range or != on the L4 "
	  "protocol together with a tcp/udp/icmp header match or tcp reset (nft would drop the "
	  "protocol check: use th, or one protocol)" },
	{ "meta l4proto != udp reject with tcp reset",
	  "t.conf:7: 'meta l4proto != udp reject with tcp reset': a set, range or != on the L4 "
	  "protocol together with a tcp/udp/icmp header match or tcp reset (nft would drop the "
	  "protocol check: use th, or one protocol)" },
	{ "meta l4proto udp tcp dport 22 accept",
	  "t.conf:7: 'tcp dport': the rule can never match (no value left for this field)" },
	{ "iifname \"eth9\" accept", "t.conf:7: 'iifname \"eth9\"': 'eth9' is not a port of this firewall" },
	{ "iifname \"x*\" accept", "t.conf:7: 'iifname \"x*\"': no port of this firewall matches 'x*'" },
	{ "tcp dport 22; accept", "t.conf:7: ';': one rule per line: ';' is refused" },
	{ "ct state == established,related accept",
	  "t.conf:7: 'ct state == established,related': the rule can never match (no conntrack state left)" },
	{ "tcp flags syn tcp flags ! syn accept",
	  "t.conf:7: 'tcp flags ! syn': the rule can never match (no flags value left)" },
	{ "tcp dport 2000-1000 accept", "t.conf:7: 'tcp dport 2000-1000': range '2000-1000' runs backwards" },
	{ "tcp dport < { 1, 2 } accept",
	  "t.conf:7: 'tcp dport < {': a comparison takes a single value, not a set" },
	{ "ip saddr < 10.0.0.0/8 accept",
	  "t.conf:7: 'ip saddr < 10.0.0.0/8': a comparison takes a single address, not a prefix" },
	{ "ip saddr 10.0.0.0/33 accept", "t.conf:7: 'ip saddr 10.0.0.0/33': prefix length out of range 0..32" },
	{ "ip saddr ::1 accept", "t.conf:7: 'ip saddr ::1': an IPv6 address in an IPv4 match" },
	{ "ip6 saddr 1.2.3.4 accept", "t.conf:7: 'ip6 saddr 1.2.3.4': an IPv4 address in an IPv6 match" },
	{ "ip ttl 3 accept", "t.conf:7: 'ip ttl': not supported (ip takes saddr, daddr, protocol, dscp)" },
	{ "ip dscp 64 accept", "t.conf:7: 'ip dscp 64': DSCP value out of range 0..63" },
	{ "ip protocol 256 accept", "t.conf:7: 'ip protocol 256': protocol out of range 0..255" },
	{ "meta l4proto foo accept", "t.conf:7: 'meta l4proto foo': 'foo' is not a protocol" },
	{ "meta nfproto arp accept", "t.conf:7: 'meta nfproto arp': meta nfproto takes ipv4 or ipv6" },
	{ "meta mark 1 accept",
	  "t.conf:7: 'meta mark': not supported (meta takes iifname, oifname, nfproto, l4proto)" },
	{ "log accept", "t.conf:7: 'log': statement not supported (counter, accept, drop, reject, comment)" },
	{ "foo accept", "t.conf:7: 'foo': unknown match (see docs/RULES.md for the supported subset)" },
	{ "tcp dport = 22 accept", "t.conf:7: '=': '=' is not an operator (==, !=)" },
	{ "accept comment \"x", "t.conf:7: '\"x': unterminated string" },
	{ "accept comment \"x\" drop", "t.conf:7: 'drop': nothing may follow the comment" },
	{ "tcp dport 22 comment \"x\" accept",
	  "t.conf:7: 'comment': the comment comes after the statements" },
	{ "accept comment \"01234567890123456789012345678901234567890123456789012345678901234"
	  "567890123456789012345678901234567890123456789012345678901234567\"",
	  "t.conf:7: 'comment \"01234567890123456789012345678901234567890123456789012345678901234"
	  "567890123456789012345678901234567890123456789012345678901234567\"': comment longer "
	  "than 127 bytes" },
	{ "tcp dport ! 22 accept", "t.conf:7: 'tcp dport !': '!' is for bitmask matches (tcp flags, ct state); use !=" },
	{ "tcp flags < syn accept",
	  "t.conf:7: 'tcp flags <': a bitmask takes ==, !=, ! or a mask, not a comparison" },
	{ "tcp flags bogus accept", "t.conf:7: 'tcp flags bogus': 'bogus' is not a flag name" },
	{ "ct mark 1 accept", "t.conf:7: 'ct mark': not supported (ct takes state)" },
	{ "udp flags syn accept", "t.conf:7: 'udp flags': not supported (takes sport, dport)" },
	{ "icmp foo 1 accept", "t.conf:7: 'icmp foo': not supported (icmp takes type, code)" },
	{ "reject with tcp foo", "t.conf:7: 'reject with tcp foo': expected 'reset'" },
	{ "reject with icmpx 4", "t.conf:7: 'reject with icmpx 4': reject code out of range 0..3" },
	{ "reject with icmp type bogus",
	  "t.conf:7: 'reject with icmp type bogus': 'bogus' is not a reject code" },
	{ "ip saddr 10.0.0.1 reject with icmpv6 no-route",
	  "t.conf:7: 'reject with icmpv6': IPv4 and IPv6 matches in one rule: it can never match" },
	{ "th dport { } accept", "t.conf:7: 'th dport { }': expected a value in the set" },
	{ "th dport { 1 2 } accept", "t.conf:7: 'th dport { 1 2': expected ',' or '}' in the set" },
	{ "th dport accept", "t.conf:7: 'th dport accept': service names are refused: write the port number" },
	{ "iifname < r1 accept", "t.conf:7: 'iifname <': port names take ==, != or a set, not a comparison" },
	{ "iifname != { r1, r2, eth0, eth1, wan } accept",
	  "t.conf:7: 'iifname != { r1, r2, eth0, eth1, wan }': the rule can never match (no port left)" },
};

static void test_refusals(void)
{
	size_t i;
	char what[256];

	for (i = 0; i < NF_ARRAY_SIZE(refusals); i++) {
		int ret;

		nf_ruleset_free(&rs);
		nf_clear_error();
		ret = nf_rule_parse(&rs, &O, refusals[i].line, 7);
		snprintf(what, sizeof(what), "refused: %s", refusals[i].line);
		NF_TEST(what, ret == -EINVAL && rs.n == 0 && rs.nranges == 0 &&
			strcmp(nf_last_error(), refusals[i].msg) == 0);
		if (strcmp(nf_last_error(), refusals[i].msg) != 0)
			printf("#   got:  %s\n#   want: %s\n", nf_last_error(), refusals[i].msg);
	}
	{
		char *l = malloc(NF_RULE_LINE_MAX + 2);

		memset(l, ' ', NF_RULE_LINE_MAX + 1);
		memcpy(l + NF_RULE_LINE_MAX - 6, "accept", 6);
		l[NF_RULE_LINE_MAX] = '\0';
		nf_ruleset_free(&rs);
		NF_TEST("a line of 4096 bytes is taken", nf_rule_parse(&rs, &O, l, 1) == 0 && rs.n == 1);
		l[NF_RULE_LINE_MAX] = ' ';
		l[NF_RULE_LINE_MAX + 1] = '\0';
		NF_TEST("a line of 4097 bytes is refused",
			nf_rule_parse(&rs, &O, l, 2) == -EINVAL &&
			strcmp(nf_last_error(), "t.conf:2: line longer than 4096 bytes") == 0);
		free(l);
	}
	{
		struct nf_rule_opts none = { 0 };

		nf_ruleset_free(&rs);
		NF_TEST("without port names, iifname is refused; the file is called 'rule'",
			nf_rule_parse(&rs, &none, "iifname r1 accept", 3) == -EINVAL &&
			strcmp(nf_last_error(), "rule:3: 'iifname r1': 'r1' is not a port of this firewall") == 0);
	}
}

/* The rule sets of tests/it/fw_diff.py and more: every line round-trips. */
static const char *const roundtrip[] = {
	"ct state established,related accept",
	"ct state invalid drop",
	"iifname \"r1\" tcp dport 80 accept",
	"iifname \"r1\" udp dport 53 accept",
	"iifname \"r1\" icmp type echo-request accept",
	"iifname \"r1\" icmpv6 type echo-request accept",
	"iifname \"r1\" meta l4proto tcp ct state new tcp dport 8080 accept",
	"counter drop",
	"ip saddr 10.1.0.0/24 tcp dport 1000-2000 accept",
	"tcp flags & (syn|ack) == syn tcp dport 22 drop",
	"tcp dport 23 reject with tcp reset",
	"udp dport 7 reject with icmp type host-unreachable",
	"udp dport 8 reject",
	"ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited",
	"udp sport { 53, 123 } accept",
	"ip daddr != 10.2.0.0/24 ip protocol udp drop",
	"icmp type { echo-request, echo-reply } accept",
	"icmp type destination-unreachable drop",
	"ip dscp ef accept",
	"ip6 dscp cs1 drop",
	"tcp sport 1-1023 tcp flags & (fin|syn|rst|ack) == ack accept",
	"counter",
	"meta l4proto udp udp dport 100-200 drop",
	"tcp flags syn,ack accept",
	"tcp flags ! syn,ack accept",
	"tcp flags != syn accept",
	"tcp flags { syn, syn|ack } accept",
	"tcp flags != { syn, syn|ack } accept",
	"tcp flags & 0 == 0 accept",
	"tcp flags & (syn|ack) != syn accept",
	"ct state != established accept",
	"ip saddr { 10.0.0.0/24, 1.2.3.4, 5.0.0.0-5.0.0.6 } ip daddr 0.0.0.0/0 accept",
	"ip6 saddr { ::1, fd00::/8, 2001:db8::5-2001:db8::9 } ip6 daddr != ::/1 counter",
	"ip6 nexthdr { udp, 44 } th sport 1-2 th dport != 3 accept",
	"icmpv6 type nd-neighbor-solicit icmpv6 code 0 accept",
	"icmp code { 0-3, 13 } drop",
	"meta nfproto ipv4 meta l4proto != { 6, 17 } counter reject with icmp 7",
	"iifname { r1, wan } oifname != \"eth*\" counter accept comment \"a # in the text\"",
	"reject with icmpx host-unreachable",
	"ip dscp != 0 ip6 dscp 1 accept",	/* refused: kept to check the refusal */
};

static void test_roundtrip(void)
{
	size_t i;
	char buf[8192], what[512];

	for (i = 0; i < NF_ARRAY_SIZE(roundtrip); i++) {
		struct nf_ruleset a, b;
		int ra, rb = -1, len = 0;

		nf_ruleset_init(&a);
		nf_ruleset_init(&b);
		ra = nf_rule_parse(&a, &O, roundtrip[i], 1);
		if (ra == 0) {
			len = nf_rule_format(&a, &O, 0, buf, sizeof(buf));
			rb = nf_rule_parse(&b, &O, buf, 1);
		}
		snprintf(what, sizeof(what), "round trip: %s", roundtrip[i]);
		if (i == NF_ARRAY_SIZE(roundtrip) - 1)
			NF_TEST("IPv4 and IPv6 dscp in one rule is refused", ra == -EINVAL);
		else
			NF_TEST(what, ra == 0 && rb == 0 && a.n == 1 && b.n == 1 &&
				len == (int)strlen(buf) &&
				nf_rule_same(&a, 0, &b, 0));
		if (ra == 0 && rb != 0)
			printf("# formatted: %s\n# %s\n", buf, nf_last_error());
		nf_ruleset_free(&a);
		nf_ruleset_free(&b);
	}
	/* exact text of a few */
	{
		static const struct {
			const char *in, *out;
		} t[] = {
			{ "tcp dport 22 accept", "meta l4proto 6 th dport 22 accept" },
			{ "ip saddr 10.1.2.3/8 ip daddr 10.0.0.1-10.0.0.9 counter drop",
			  "meta nfproto ipv4 ip saddr 10.0.0.0/8 ip daddr 10.0.0.1-10.0.0.9 counter drop" },
			{ "tcp flags syn / syn,ack accept",
			  "meta l4proto 6 tcp flags & (syn|ack) == syn accept" },
			{ "tcp flags != syn accept", "meta l4proto 6 tcp flags != syn accept" },
			{ "ct state established,related accept",
			  "ct state { established, related } accept" },
			{ "iifname \"eth*\" reject", "iifname { \"eth0\", \"eth1\" } reject with icmpx port-unreachable" },
			{ "ip6 saddr fd01::/64 udp dport 9 reject with icmpv6 type admin-prohibited",
			  "meta nfproto ipv6 meta l4proto 17 ip6 saddr fd01::/64 th dport 9 reject with icmpv6 admin-prohibited" },
			{ "accept comment \"hi\"", "accept comment \"hi\"" },
		};
		for (i = 0; i < NF_ARRAY_SIZE(t); i++) {
			nf_ruleset_free(&rs);
			buf[0] = '\0';
			if (nf_rule_parse(&rs, &O, t[i].in, 1) == 0)
				nf_rule_format(&rs, &O, 0, buf, sizeof(buf));
			snprintf(what, sizeof(what), "format: %s", t[i].in);
			NF_TEST(what, strcmp(buf, t[i].out) == 0);
			if (strcmp(buf, t[i].out) != 0)
				printf("#   got:  %s\n", buf);
		}
	}
	/* truncation like snprintf */
	{
		char small[10];
		int n;

		nf_ruleset_free(&rs);
		nf_rule_parse(&rs, &O, "tcp dport 22 accept", 1);
		n = nf_rule_format(&rs, &O, 0, small, sizeof(small));
		NF_TEST("format truncates like snprintf",
			n == (int)strlen("meta l4proto 6 th dport 22 accept") &&
			strcmp(small, "meta l4pr") == 0);
		NF_TEST("format of a missing rule: empty",
			nf_rule_format(&rs, &O, 5, small, sizeof(small)) == 0 && small[0] == '\0');
	}
}

static void test_text_and_file(void)
{
	const char *text = "# rules\n\ntcp dport 22 accept\r\nudp dport 53 drop\ncounter";
	char path[] = "/tmp/test_rule_XXXXXX";
	int fd;
	FILE *f;

	nf_ruleset_free(&rs);
	NF_TEST("parse_text: three rules, lines 3, 4, 5",
		nf_rule_parse_text(&rs, &O, text) == 0 && rs.n == 3 && rs.rules[0].line == 3 &&
		rs.rules[1].line == 4 && rs.rules[2].line == 5);
	nf_ruleset_free(&rs);
	NF_TEST("parse_text stops at the first error, with its line",
		nf_rule_parse_text(&rs, &O, "accept\nbogus\ndrop\n") == -EINVAL && rs.n == 1 &&
		strcmp(nf_last_error(), "t.conf:2: 'bogus': unknown match (see docs/RULES.md "
		       "for the supported subset)") == 0);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("tcp dport 22 accept\n\nudp dport 99999 drop\n", f);
	fclose(f);
	nf_ruleset_free(&rs);
	{
		struct nf_rule_opts o = O;
		char want[128];

		o.file = NULL;
		snprintf(want, sizeof(want), "%s:3: 'udp dport 99999': port out of range 0..65535", path);
		NF_TEST("parse_file: the path names the file in messages",
			nf_rule_parse_file(&rs, &o, path) == -EINVAL && rs.n == 1 &&
			strcmp(nf_last_error(), want) == 0);
	}
	unlink(path);
	nf_ruleset_free(&rs);
	NF_TEST("parse_file: a missing file is -ENOENT",
		nf_rule_parse_file(&rs, &O, "/nonexistent/rules") == -ENOENT);
	/* many rules: the pools grow, offsets stay right */
	{
		char line[64];
		unsigned i, bad = 0;

		nf_ruleset_free(&rs);
		for (i = 0; i < 5000; i++) {
			snprintf(line, sizeof(line), "th dport { %u, %u } accept comment \"r%u\"",
				 i, i + 10000, i);
			if (nf_rule_parse(&rs, &O, line, i + 1))
				bad++;
		}
		for (i = 0; i < rs.n; i++) {
			char c[16];

			snprintf(c, sizeof(c), "r%u", i);
			if (!ranges_are(&rs.rules[i], NF_RF_DPORT, "") &&
			    (rs.rules[i].f[NF_RF_DPORT].n != 2 ||
			     rs.ranges[rs.rules[i].f[NF_RF_DPORT].off].lo != i ||
			     rs.ranges[rs.rules[i].f[NF_RF_DPORT].off + 1].lo != i + 10000 ||
			     strcmp(nf_rule_comment(&rs, &rs.rules[i]), c) != 0))
				bad++;
		}
		NF_TEST("5000 rules with sets and comments: every one intact", bad == 0 && rs.n == 5000);
	}
	nf_ruleset_free(&rs);
}

int main(void)
{
	nf_ruleset_init(&rs);
	test_values();
	test_ports_ct_flags();
	test_statements();
	test_refusals();
	test_roundtrip();
	test_text_and_file();
	nf_ruleset_free(&rs);
	return nf_test_report();
}
