/* fuzz_rule.c - libFuzzer target: the rule language (nf_rule.c) and the
 * classifier (nf_cls.c) on arbitrary rule files.
 *
 * The input is a rule file (cut at 16 KiB). Every line is parsed on its
 * own (a refused line must leave the set untouched and say why in a
 * sentence that starts with "fuzz.conf:LINE: "); every rule that parsed
 * is checked (ranges sorted, disjoint, not adjacent, inside the field's
 * domain; family, verdict, reject values in range) and written back with
 * nf_rule_format(), which must parse to the same struct. The whole text
 * is also parsed at once (nf_rule_parse_text) and must stop at the first
 * refused line with the same rules before it. Then the classifier is built
 * from what parsed (a bound of 32 MiB; -E2BIG is allowed) and must answer
 * exactly as the linear scan for keys drawn from the input bytes and keys
 * at the edges of every rule's ranges, for every `from` along each key's
 * chain of matches. Any violation abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_rule tests/fuzz/corpus/rule
 *   seeds: python3 tests/fuzz/make_rule_corpus.py
 */
#include "fuzz.h"
#include "nf_cls.h"
#include "nf_rule.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXIN	(16u * 1024)

static const char *const ports[] = { "r1", "r2", "eth0", "eth1", "wan" };
static const struct nf_rule_opts O = { "fuzz.conf", ports, 5 };

static nf_u128 field_max(const struct nf_rule *r, unsigned f)
{
	switch (f) {
	case NF_RF_SRC:
	case NF_RF_DST:
		return r->family == 4 ? (nf_u128)UINT32_MAX : ~(nf_u128)0;
	case NF_RF_SPORT:
	case NF_RF_DPORT:
		return 65535;
	case NF_RF_DSCP:
		return 63;
	default:
		return 255;
	}
}

static void check_rule(const struct nf_ruleset *rs, const struct nf_rule *r)
{
	unsigned f;

	CHECK(r->family == 0 || r->family == 4 || r->family == 6);
	CHECK(r->verdict <= NF_RULE_REJECT);
	CHECK(r->reject <= NF_REJECT_TCP_RST);
	CHECK(r->counter || r->verdict != NF_RULE_CONTINUE);
	CHECK(r->comment <= NF_RULE_COMMENT_MAX);
	CHECK(strlen(nf_rule_comment(rs, r)) == r->comment);
	CHECK(!(r->has & NF_RM_IIF) || (r->iif && r->iif < 1u << 5));
	CHECK(!(r->has & NF_RM_OIF) || (r->oif && r->oif < 1u << 5));
	CHECK(!(r->has & NF_RM_CT) || (r->ct && !(r->ct & ~0x4fu)));
	for (f = 0; f < NF_RF_MAX; f++) {
		uint32_t n, i;
		const struct nf_range *v = nf_rule_ranges(rs, r, f, &n);

		CHECK(!!(r->has >> f & 1) == (n > 0));
		if (f <= NF_RF_DST && n)
			CHECK(r->family != 0);
		for (i = 0; i < n; i++) {
			CHECK(v[i].lo <= v[i].hi);
			CHECK(v[i].hi <= field_max(r, f));
			if (i)
				CHECK(v[i].lo > v[i - 1].hi + 1);
		}
	}
}

/* Tree == linear along @k's chain of matches. */
static void check_key(const struct nf_cls *c, const struct nf_ruleset *rs,
		      const struct nf_cls_key *k)
{
	uint32_t from = 0, a;

	for (;;) {
		a = nf_cls_match(c, k, from);
		CHECK(a == nf_cls_match_linear(rs, k, from));
		if (a == UINT32_MAX)
			break;
		CHECK(a >= from && a < rs->n);
		from = a + 1;
	}
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void key_from(struct nf_cls_key *k, uint64_t h)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)(h % 3 == 0 ? 6 : h % 3 == 1 ? 4 : 0);
	h = mix(h);
	k->src = k->family == 6 ? (nf_u128)h << 64 | mix(h) : k->family == 4 ? (uint32_t)h : 0;
	h = mix(h);
	k->dst = k->family == 6 ? (nf_u128)h << 64 | mix(h) : k->family == 4 ? (uint32_t)h : 0;
	h = mix(h);
	k->sport = (uint16_t)h;
	k->dport = (uint16_t)(h >> 16);
	k->proto = (uint8_t)(h >> 32);
	k->nexthdr = (uint8_t)(h >> 40);
	k->dscp = (uint8_t)((h >> 48) & 63);
	k->tcp_flags = (uint8_t)(h >> 56);
	h = mix(h);
	k->ct = (uint8_t)(1u << (unsigned[]){ 0, 1, 2, 3, 6 }[h % 5]);
	k->iif = (uint8_t)((h >> 8) % 5);
	k->oif = (uint8_t)((h >> 16) % 5);
	k->l4 = (h >> 24) % 8 != 0;
}

/* Keys at the edges of rule @r's ranges. */
static void edge_keys(const struct nf_cls *c, const struct nf_ruleset *rs,
		      const struct nf_rule *r, uint64_t h)
{
	struct nf_cls_key k;
	unsigned f, e;

	for (e = 0; e < 3; e++) {
		key_from(&k, mix(h + e));
		if (r->family)
			k.family = r->family;
		for (f = 0; f < NF_RF_MAX; f++) {
			uint32_t n;
			const struct nf_range *v = nf_rule_ranges(rs, r, f, &n);
			nf_u128 x;

			if (!v)
				continue;
			v += (h >> (4 * f)) % n;
			x = e == 0 ? v->lo : e == 1 ? v->hi : v->hi + 1;
			switch (f) {
			case NF_RF_SRC: k.src = x; break;
			case NF_RF_DST: k.dst = x; break;
			case NF_RF_SPORT: k.sport = (uint16_t)x; break;
			case NF_RF_DPORT: k.dport = (uint16_t)x; break;
			case NF_RF_PROTO: k.proto = (uint8_t)x; break;
			case NF_RF_NEXTHDR: k.nexthdr = (uint8_t)x; break;
			case NF_RF_ICMP_TYPE: k.sport = (uint16_t)(x << 8 | (k.sport & 0xff)); break;
			case NF_RF_ICMP_CODE: k.sport = (uint16_t)((k.sport & 0xff00) | (x & 0xff)); break;
			default: k.dscp = (uint8_t)(x & 63); break;
			}
		}
		if (k.family == 4) {	/* hi + 1 past the top wraps to 0 */
			k.src &= UINT32_MAX;
			k.dst &= UINT32_MAX;
		}
		check_key(c, rs, &k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = size > MAXIN ? MAXIN : size;
	char *text = malloc(len + 1), *line, buf[8192];
	struct nf_ruleset rs, whole, back;
	struct nf_cls *c = NULL;
	uint32_t lineno = 0, i, first_err = 0;
	uint64_t h = 0;
	int ret, ret_whole;

	if (!text)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	for (i = 0; i < len; i++)
		h = mix(h ^ data[i]);
	nf_ruleset_init(&rs);
	nf_ruleset_init(&whole);
	nf_ruleset_init(&back);

	/* the whole text: stops at the first refused line */
	ret_whole = nf_rule_parse_text(&whole, &O, text);
	CHECK(ret_whole == 0 || ret_whole == -EINVAL);

	/* line by line */
	line = text;
	while (line) {
		char *nl = strchr(line, '\n');
		uint32_t before = rs.n, nr = rs.nranges, sl = rs.slen;

		if (nl)
			*nl = '\0';
		lineno++;
		nf_clear_error();
		ret = nf_rule_parse(&rs, &O, line, lineno);
		if (ret) {
			char pre[32];

			CHECK(ret == -EINVAL);
			CHECK(rs.n == before && rs.nranges == nr && rs.slen == sl);
			snprintf(pre, sizeof(pre), "fuzz.conf:%u: ", lineno);
			CHECK(strncmp(nf_last_error(), pre, strlen(pre)) == 0);
			CHECK(strlen(nf_last_error()) > strlen(pre));
			if (!first_err)
				first_err = lineno;
		} else {
			CHECK(rs.n == before || rs.n == before + 1);
			if (rs.n == before + 1)
				CHECK(rs.rules[before].line == lineno);
		}
		line = nl ? nl + 1 : NULL;
	}
	/* parse_text kept exactly the rules before its first error */
	{
		uint32_t k = 0;

		for (i = 0; i < rs.n && (!first_err || rs.rules[i].line < first_err); i++)
			k++;
		CHECK(whole.n == k);
		for (i = 0; i < whole.n; i++)
			CHECK(nf_rule_same(&whole, i, &rs, i));
		CHECK(ret_whole == (first_err ? -EINVAL : 0));
	}
	/* every rule: invariants and the round trip */
	for (i = 0; i < rs.n; i++) {
		int n;

		check_rule(&rs, &rs.rules[i]);
		n = nf_rule_format(&rs, &O, i, buf, sizeof(buf));
		CHECK(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
		nf_ruleset_free(&back);
		ret = nf_rule_parse(&back, &O, buf, 1);
		if (ret)
			fprintf(stderr, "fuzz harness: '%s' does not parse: %s\n", buf,
				nf_last_error());
		CHECK(ret == 0 && back.n == 1);
		CHECK(nf_rule_same(&rs, i, &back, 0));
	}
	/* the classifier against the linear scan */
	ret = nf_cls_build_max(&rs, (size_t)32 << 20, &c);
	CHECK(ret == 0 || ret == -E2BIG);
	if (ret == 0) {
		struct nf_cls_key k;

		for (i = 0; i < 16; i++) {
			key_from(&k, mix(h + i));
			check_key(c, &rs, &k);
		}
		for (i = 0; i < rs.n && i < 64; i++)
			edge_keys(c, &rs, &rs.rules[i], mix(h ^ i));
		nf_cls_free(c);
	} else {
		CHECK(c == NULL && nf_last_error()[0]);
	}
	nf_ruleset_free(&rs);
	nf_ruleset_free(&whole);
	nf_ruleset_free(&back);
	free(text);
	return 0;
}
