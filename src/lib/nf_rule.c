/* nf_rule.c - the firewall's rule language (see nf_rule.h and
 * docs/RULES.md): a tokenizer, one parser per match keyword, range-list
 * algebra for the value fields (sets, !=, comparisons, intersections of
 * repeated and implied matches), the 256-value bitmap engine of the
 * bitmask matches (tcp flags, ct state), and the formatter that writes a
 * rule back so that it parses to the same struct.
 */
#include "nf_rule.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ names */

struct nf_name {
	const char *name;
	unsigned v;
};

static const struct nf_name proto_names[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 },
	{ "egp", 8 }, { "pup", 12 }, { "udp", 17 }, { "idp", 22 },
	{ "dccp", 33 }, { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 },
	{ "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 }, { "mtp", 92 },
	{ "beetph", 94 }, { "encap", 98 }, { "pim", 103 }, { "comp", 108 },
	{ "vrrp", 112 }, { "l2tp", 115 }, { "sctp", 132 },
	{ "udplite", 136 }, { "mpls", 137 }, { "ethernet", 143 },
	{ "raw", 255 },
	/* /etc/protocols' names nft also takes (after the ones it prints) */
	{ "hopopt", 0 }, { "ipv6-route", 43 }, { "ipv6-frag", 44 },
	{ "ipv6-icmp", 58 }, { "ipv6-nonxt", 59 }, { "ipv6-opts", 60 }, { NULL, 0 }
};

static const struct nf_name icmp_type_names[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 },
	{ "source-quench", 4 }, { "redirect", 5 }, { "echo-request", 8 },
	{ "router-advertisement", 9 }, { "router-solicitation", 10 },
	{ "time-exceeded", 11 }, { "parameter-problem", 12 },
	{ "timestamp-request", 13 }, { "timestamp-reply", 14 },
	{ "info-request", 15 }, { "info-reply", 16 },
	{ "address-mask-request", 17 }, { "address-mask-reply", 18 },
	{ NULL, 0 }
};

static const struct nf_name icmp6_type_names[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 },
	{ "time-exceeded", 3 }, { "parameter-problem", 4 },
	{ "echo-request", 128 }, { "echo-reply", 129 },
	{ "mld-listener-query", 130 }, { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 }, { "mld-listener-reduction", 132 },
	{ "nd-router-solicit", 133 }, { "nd-router-advert", 134 },
	{ "nd-neighbor-solicit", 135 }, { "nd-neighbor-advert", 136 },
	{ "nd-redirect", 137 }, { "router-renumbering", 138 },
	{ "ind-neighbor-solicit", 141 }, { "ind-neighbor-advert", 142 },
	{ "mld2-listener-report", 143 }, { NULL, 0 }
};

static const struct nf_name icmp_code_names[] = {
	{ "net-unreachable", 0 }, { "host-unreachable", 1 },
	{ "prot-unreachable", 2 }, { "port-unreachable", 3 },
	{ "frag-needed", 4 }, { "net-prohibited", 9 },
	{ "host-prohibited", 10 }, { "admin-prohibited", 13 },
	{ NULL, 0 }
};

static const struct nf_name icmp6_code_names[] = {
	{ "no-route", 0 }, { "admin-prohibited", 1 },
	{ "addr-unreachable", 3 }, { "port-unreachable", 4 },
	{ "policy-fail", 5 }, { "reject-route", 6 }, { NULL, 0 }
};

static const struct nf_name icmpx_code_names[] = {
	{ "no-route", NF_ICMPX_NO_ROUTE },
	{ "port-unreachable", NF_ICMPX_PORT_UNREACH },
	{ "host-unreachable", NF_ICMPX_HOST_UNREACH },
	{ "admin-prohibited", NF_ICMPX_ADMIN_PROHIBITED }, { NULL, 0 }
};

static const struct nf_name dscp_names[] = {
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 },
	{ "cs4", 32 }, { "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
	{ "df", 0 }, { "be", 0 }, { "lephb", 1 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
	{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
	{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
	{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	{ "va", 44 }, { "ef", 46 }, { NULL, 0 }
};

static const struct nf_name tcp_flag_names[] = {
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
	{ "ack", 0x10 }, { "urg", 0x20 }, { "ecn", 0x40 }, { "cwr", 0x80 },
	{ NULL, 0 }
};

static const struct nf_name ct_state_names[] = {
	{ "invalid", NF_RULE_CT_INVALID },
	{ "established", NF_RULE_CT_ESTABLISHED },
	{ "related", NF_RULE_CT_RELATED }, { "new", NF_RULE_CT_NEW },
	{ "untracked", NF_RULE_CT_UNTRACKED }, { NULL, 0 }
};

static int name_find(const struct nf_name *t, const char *s, unsigned *v)
{
	for (; t && t->name; t++)
		if (strcmp(t->name, s) == 0) {
			*v = t->v;
			return 0;
		}
	return -1;
}

static const char *name_of(const struct nf_name *t, unsigned v)
{
	for (; t && t->name; t++)
		if (t->v == v)
			return t->name;
	return NULL;
}

const char *nf_rule_verdict_name(enum nf_rule_verdict v)
{
	switch (v) {
	case NF_RULE_CONTINUE: return "continue";
	case NF_RULE_ACCEPT: return "accept";
	case NF_RULE_DROP: return "drop";
	case NF_RULE_REJECT: return "reject";
	}
	return "?";
}

/* ------------------------------------------------------------ range lists */

struct rlist {
	struct nf_range *v;
	uint32_t n, cap;
};

static int rl_push(struct rlist *l, nf_u128 lo, nf_u128 hi)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		struct nf_range *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].lo = lo;
	l->v[l->n].hi = hi;
	l->n++;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct nf_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping or adjacent ranges. */
static void rl_norm(struct rlist *l)
{
	uint32_t i, o = 0;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), range_cmp);
	for (i = 1; i < l->n; i++) {
		struct nf_range *p = &l->v[o];

		if (l->v[i].lo <= p->hi || l->v[i].lo - 1 == p->hi) {
			if (l->v[i].hi > p->hi)
				p->hi = l->v[i].hi;
		} else {
			l->v[++o] = l->v[i];
		}
	}
	l->n = o + 1;
}

/* @l (normalized) becomes its complement in 0..@max. */
static int rl_complement(struct rlist *l, nf_u128 max)
{
	struct rlist c = { 0 };
	nf_u128 next = 0;
	bool done = false;
	uint32_t i;

	for (i = 0; i < l->n && !done; i++) {
		if (l->v[i].lo > next && rl_push(&c, next, l->v[i].lo - 1))
			goto fail;
		if (l->v[i].hi >= max)
			done = true;
		else
			next = l->v[i].hi + 1;
	}
	if (!done && rl_push(&c, next, max))
		goto fail;
	free(l->v);
	*l = c;
	return 0;
fail:
	free(c.v);
	return -ENOMEM;
}

/* @a (normalized) becomes a & @b (normalized). */
static int rl_intersect(struct rlist *a, const struct rlist *b)
{
	struct rlist c = { 0 };
	uint32_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		nf_u128 lo = NF_MAX(a->v[i].lo, b->v[j].lo);
		nf_u128 hi = NF_MIN(a->v[i].hi, b->v[j].hi);

		if (lo <= hi && rl_push(&c, lo, hi)) {
			free(c.v);
			return -ENOMEM;
		}
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	free(a->v);
	*a = c;
	return 0;
}

/* ------------------------------------------------------------ tokens */

enum tok_type {
	T_END = 0, T_WORD, T_STR, T_LBRACE, T_RBRACE, T_COMMA, T_LPAREN,
	T_RPAREN, T_PIPE, T_AMP, T_SLASH, T_EQ, T_NE, T_NOT, T_LT, T_GT,
	T_LE, T_GE, T_SEMI,
};

struct tok {
	uint8_t type;
	uint16_t off, len;
};

enum rel_op { OP_IMPLICIT, OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

struct pctx {
	const struct nf_rule_opts *o;
	const char *line;
	uint32_t lineno;
	struct tok *tk;
	uint32_t ntk, pos;
	uint32_t clause;		/* offset where the current clause starts */
	uint32_t err_end;		/* tokenizer errors: end of the quote */
	struct nf_rule r;
	struct rlist fld[NF_RF_MAX];
	bool proto_loose;		/* set, range or != on the L4 protocol */
	bool l4hdr;			/* tcp/udp/icmp header match or tcp reset */
	bool stmt;			/* a statement was seen */
	char comment[NF_RULE_COMMENT_MAX + 1];
	char word[NF_RULE_LINE_MAX + 1];
};

static const char *fname(const struct nf_rule_opts *o)
{
	return o && o->file ? o->file : "rule";
}

/* The sentence "file:line: 'clause up to the current token': reason". */
static int __attribute__((format(printf, 2, 3)))
perr(struct pctx *c, const char *fmt, ...)
{
	char why[512];
	uint32_t end = c->clause;
	va_list ap;

	if (c->pos > 0 && c->pos <= c->ntk) {
		const struct tok *t = &c->tk[c->pos - 1];

		end = t->off + t->len + (t->type == T_STR ? 1 : 0);
	}
	if (c->pos < c->ntk && end <= c->clause) {
		const struct tok *t = &c->tk[c->pos];

		end = t->off + t->len + (t->type == T_STR ? 1 : 0);
	}
	if (c->err_end)
		end = c->err_end;
	if (end < c->clause)
		end = c->clause;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (end - c->clause > 160)
		nf_set_error("%s:%u: '%.150s...': %s", fname(c->o), c->lineno,
			     c->line + c->clause, why);
	else
		nf_set_error("%s:%u: '%.*s': %s", fname(c->o), c->lineno,
			     (int)(end - c->clause), c->line + c->clause, why);
	return -EINVAL;
}

static bool is_word_char(const char *s, size_t i, size_t start)
{
	unsigned char ch = (unsigned char)s[i];

	if (ch == '/')		/* a prefix length: ADDR/LEN */
		return i > start && isdigit((unsigned char)s[i + 1]);
	return ch > ' ' && ch < 0x7f && !strchr("{},()|&;\"#!<>=", ch);
}

static int tokenize(struct pctx *c)
{
	const char *s = c->line;
	size_t i = 0, len = strlen(s);

	c->ntk = 0;
	while (i < len) {
		struct tok *t = &c->tk[c->ntk];
		unsigned char ch = (unsigned char)s[i];

		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
			continue;
		}
		if (ch == '#')
			break;
		t->off = (uint16_t)i;
		t->len = 1;
		switch (ch) {
		case '"': {
			const char *q = strchr(s + i + 1, '"');

			if (!q) {
				c->clause = (uint32_t)i;
				c->err_end = (uint32_t)len;
				return perr(c, "unterminated string");
			}
			t->type = T_STR;
			t->off = (uint16_t)(i + 1);
			t->len = (uint16_t)(q - (s + i + 1));
			i = (size_t)(q - s) + 1;
			c->ntk++;
			continue;
		}
		case '{': t->type = T_LBRACE; break;
		case '}': t->type = T_RBRACE; break;
		case ',': t->type = T_COMMA; break;
		case '(': t->type = T_LPAREN; break;
		case ')': t->type = T_RPAREN; break;
		case '|': t->type = T_PIPE; break;
		case '&': t->type = T_AMP; break;
		case '/': t->type = T_SLASH; break;
		case ';': t->type = T_SEMI; break;
		case '=':
			if (s[i + 1] != '=') {
				c->clause = (uint32_t)i;
				c->err_end = (uint32_t)i + 1;
				return perr(c, "'=' is not an operator (==, !=)");
			}
			t->type = T_EQ;
			t->len = 2;
			break;
		case '!':
			t->type = s[i + 1] == '=' ? T_NE : T_NOT;
			t->len = s[i + 1] == '=' ? 2 : 1;
			break;
		case '<':
			t->type = s[i + 1] == '=' ? T_LE : T_LT;
			t->len = s[i + 1] == '=' ? 2 : 1;
			break;
		case '>':
			t->type = s[i + 1] == '=' ? T_GE : T_GT;
			t->len = s[i + 1] == '=' ? 2 : 1;
			break;
		default: {
			size_t j = i;

			if (ch <= ' ' || ch >= 0x7f) {
				c->clause = (uint32_t)i;
				c->err_end = (uint32_t)i + 1;
				return perr(c, "unexpected character 0x%02x", ch);
			}
			while (j < len && is_word_char(s, j, i))
				j++;
			t->type = T_WORD;
			t->len = (uint16_t)(j - i);
			break;
		}
		}
		i += t->len;
		c->ntk++;
	}
	c->tk[c->ntk].type = T_END;
	c->tk[c->ntk].off = (uint16_t)len;
	c->tk[c->ntk].len = 0;
	return 0;
}

static const struct tok *peek(struct pctx *c)
{
	return &c->tk[c->pos];
}

/* Take the next token; its text (NUL-terminated) in c->word. */
static const struct tok *next(struct pctx *c)
{
	const struct tok *t = &c->tk[c->pos];

	if (t->type != T_END)
		c->pos++;
	memcpy(c->word, c->line + t->off, t->len);
	c->word[t->len] = '\0';
	return t;
}

static bool peek_word(struct pctx *c, const char *w)
{
	const struct tok *t = peek(c);

	return t->type == T_WORD && strlen(w) == t->len &&
	       memcmp(c->line + t->off, w, t->len) == 0;
}

/* ------------------------------------------------------------ values */

/* Decimal (no leading zero) or 0x hex, at most @max. 0, or -EINVAL with
 * a sentence (@what names the value). */
static int parse_num(struct pctx *c, const char *s, uint64_t max, const char *what,
		     uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		base = 16;
		p = s + 2;
	} else if (s[0] == '0' && s[1]) {
		if (isdigit((unsigned char)s[1]))
			return perr(c, "numbers with leading zeros are refused "
				    "(nft reads %s as octal)", s);
		return -ENOENT;
	}
	if (!*p)
		return -ENOENT;
	for (; *p; p++) {
		int d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			return -ENOENT;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
			v = UINT64_MAX;
			break;
		}
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (v > max)
		return perr(c, "%s out of range 0..%llu", what,
			    (unsigned long long)max);
	*out = v;
	return 0;
}

/* What a value field reads and how its values are written. */
struct fdesc {
	enum nf_rule_field f;
	uint8_t family;			/* SRC/DST: 4 or 6 */
	const char *what;		/* "port", "protocol", ... */
	const struct nf_name *names;
	uint64_t max;			/* numbers (not addresses) */
};

static nf_u128 fd_max(const struct fdesc *d)
{
	if (d->f == NF_RF_SRC || d->f == NF_RF_DST)
		return d->family == 4 ? (nf_u128)UINT32_MAX : ~(nf_u128)0;
	return d->max;
}

static int parse_addr(struct pctx *c, const struct fdesc *d, const char *s, nf_u128 *v)
{
	uint8_t b[16];
	nf_u128 x = 0;
	int i, n = d->family == 4 ? 4 : 16;

	if (inet_pton(d->family == 4 ? AF_INET : AF_INET6, s, b) != 1) {
		if (d->family == 4 && strchr(s, ':') && inet_pton(AF_INET6, s, b) == 1)
			return perr(c, "an IPv6 address in an IPv4 match");
		if (d->family == 6 && inet_pton(AF_INET, s, b) == 1)
			return perr(c, "an IPv4 address in an IPv6 match");
		if (isalpha((unsigned char)s[0]) && !strchr(s, ':'))
			return perr(c, "host names are refused: write the address");
		return perr(c, "'%s' is not an IPv%u address", s, d->family);
	}
	for (i = 0; i < n; i++)
		x = x << 8 | b[i];
	*v = x;
	return 0;
}

/* One number or name of field @d (not a range). */
static int parse_scalar(struct pctx *c, const struct fdesc *d, const char *s, nf_u128 *v)
{
	unsigned nv;
	uint64_t u;
	int ret;

	if (d->f == NF_RF_SRC || d->f == NF_RF_DST)
		return parse_addr(c, d, s, v);
	if (name_find(d->names, s, &nv) == 0) {
		*v = nv;
		return 0;
	}
	ret = parse_num(c, s, d->max, d->what, &u);
	if (ret == 0) {
		*v = u;
		return 0;
	}
	if (ret != -ENOENT)
		return ret;
	if (d->f == NF_RF_SPORT || d->f == NF_RF_DPORT)
		return perr(c, "service names are refused: write the port number");
	return perr(c, "'%s' is not a %s", s, d->what);
}

/* A value element: scalar, LO-HI, or ADDR/LEN. @single: no range. */
static int parse_elem(struct pctx *c, const struct fdesc *d, const char *s,
		      bool single, nf_u128 *lo, nf_u128 *hi)
{
	bool addr = d->f == NF_RF_SRC || d->f == NF_RF_DST;
	char buf[NF_RULE_LINE_MAX + 1];
	const char *sl = addr ? strchr(s, '/') : NULL;
	const char *dash;
	unsigned nv;
	int ret;

	if (sl) {
		uint64_t len;
		unsigned bits = d->family == 4 ? 32 : 128;
		nf_u128 a, m;

		if (single)
			return perr(c, "a comparison takes a single address, not a prefix");
		memcpy(buf, s, (size_t)(sl - s));
		buf[sl - s] = '\0';
		ret = parse_num(c, sl + 1, bits, "prefix length", &len);
		if (ret == -ENOENT)
			return perr(c, "'%s' is not a prefix length", sl + 1);
		if (ret)
			return ret;
		ret = parse_addr(c, d, buf, &a);
		if (ret)
			return ret;
		m = len == 0 ? 0 : (~(nf_u128)0) << (128 - len);
		if (bits == 32)
			m = (m >> 96) & UINT32_MAX;
		*lo = a & m;
		*hi = *lo | (~m & fd_max(d));
		return 0;
	}
	/* a whole name first: icmp types have dashes */
	if (!addr && name_find(d->names, s, &nv) == 0) {
		*lo = *hi = nv;
		return 0;
	}
	dash = strchr(s, '-');
	while (dash && !single) {
		/* try each dash as the range separator */
		size_t k = (size_t)(dash - s);
		unsigned a, b;

		memcpy(buf, s, k);
		buf[k] = '\0';
		if (!addr && d->names && name_find(d->names, buf, &a) == 0 &&
		    name_find(d->names, dash + 1, &b) == 0) {
			*lo = a;
			*hi = b;
			goto check;
		}
		if (addr || !d->names || !strchr(dash + 1, '-')) {
			ret = parse_scalar(c, d, buf, lo);
			if (ret)
				return ret;
			ret = parse_scalar(c, d, dash + 1, hi);
			if (ret)
				return ret;
			goto check;
		}
		dash = strchr(dash + 1, '-');
	}
	ret = parse_scalar(c, d, s, lo);
	if (ret)
		return ret;
	*hi = *lo;
	return 0;
check:
	if (*lo > *hi)
		return perr(c, "range '%s' runs backwards", s);
	return 0;
}

static int parse_op(struct pctx *c, enum rel_op *op)
{
	switch (peek(c)->type) {
	case T_EQ: *op = OP_EQ; break;
	case T_NE: *op = OP_NE; break;
	case T_LT: *op = OP_LT; break;
	case T_GT: *op = OP_GT; break;
	case T_LE: *op = OP_LE; break;
	case T_GE: *op = OP_GE; break;
	case T_NOT:
		next(c);
		return perr(c, "'!' is for bitmask matches (tcp flags, ct state); use !=");
	default: *op = OP_IMPLICIT; return 0;
	}
	next(c);
	return 0;
}

/* Intersect the field's ranges with @l (normalized; consumed). */
static int merge_field(struct pctx *c, enum nf_rule_field f, struct rlist *l)
{
	int ret = 0;

	if (c->r.has & (1u << f)) {
		ret = rl_intersect(&c->fld[f], l);
		free(l->v);
	} else {
		free(c->fld[f].v);
		c->fld[f] = *l;
		c->r.has |= 1u << f;
	}
	l->v = NULL;
	if (ret)
		return ret;
	if (c->fld[f].n == 0)
		return perr(c, "the rule can never match (no value left for this field)");
	return 0;
}

/* [op] (value | { values }) of field @d, intersected into the rule. */
static int parse_values(struct pctx *c, const struct fdesc *d)
{
	struct rlist l = { 0 };
	enum rel_op op;
	nf_u128 lo, hi, max = fd_max(d);
	const struct tok *t;
	int ret;

	ret = parse_op(c, &op);
	if (ret)
		return ret;
	t = next(c);
	if (t->type == T_LBRACE) {
		if (op != OP_IMPLICIT && op != OP_EQ && op != OP_NE)
			return perr(c, "a comparison takes a single value, not a set");
		for (;;) {
			t = next(c);
			if (t->type == T_RBRACE && l.n)
				break;
			if (t->type != T_WORD) {
				ret = perr(c, "expected a value in the set");
				goto fail;
			}
			ret = parse_elem(c, d, c->word, false, &lo, &hi);
			if (ret)
				goto fail;
			ret = rl_push(&l, lo, hi);
			if (ret)
				goto fail;
			t = next(c);
			if (t->type == T_RBRACE)
				break;
			if (t->type != T_COMMA) {
				ret = perr(c, "expected ',' or '}' in the set");
				goto fail;
			}
		}
	} else if (t->type == T_WORD) {
		bool single = op != OP_IMPLICIT && op != OP_EQ && op != OP_NE;

		ret = parse_elem(c, d, c->word, single, &lo, &hi);
		if (ret)
			goto fail;
		switch (op) {
		case OP_LT:
			if (lo == 0)
				goto never;
			lo = lo - 1;
			/* fall through */
		case OP_LE:
			hi = lo;
			lo = 0;
			break;
		case OP_GT:
			if (lo == max)
				goto never;
			lo = lo + 1;
			/* fall through */
		case OP_GE:
			hi = max;
			break;
		default:
			break;
		}
		ret = rl_push(&l, lo, hi);
		if (ret)
			goto fail;
	} else {
		ret = perr(c, "expected a %s", d->what);
		goto fail;
	}
	rl_norm(&l);
	if (op == OP_NE) {
		ret = rl_complement(&l, max);
		if (ret)
			goto fail;
	}
	if (d->f == NF_RF_PROTO && (op != OP_IMPLICIT && op != OP_EQ ? true :
				    l.n != 1 || l.v[0].lo != l.v[0].hi))
		c->proto_loose = true;
	return merge_field(c, d->f, &l);
never:
	ret = perr(c, "the rule can never match (no value left for this field)");
fail:
	free(l.v);
	return ret;
}

/* ------------------------------------------------------------ dependencies */

static int set_family(struct pctx *c, uint8_t fam)
{
	if (c->r.family && c->r.family != fam)
		return perr(c, "IPv4 and IPv6 matches in one rule: it can never match");
	c->r.family = fam;
	return 0;
}

/* The rule reads the L4 protocol @p (tcp dport, icmp type, tcp reset). */
static int imply_proto(struct pctx *c, unsigned p)
{
	struct rlist l = { 0 };
	int ret = rl_push(&l, p, p);

	if (ret)
		return ret;
	c->l4hdr = true;
	return merge_field(c, NF_RF_PROTO, &l);
}

/* ------------------------------------------------------------ matches */

static const struct fdesc fd_port[2] = {
	{ NF_RF_SPORT, 0, "port", NULL, 65535 },
	{ NF_RF_DPORT, 0, "port", NULL, 65535 },
};
static const struct fdesc fd_proto = { NF_RF_PROTO, 0, "protocol", proto_names, 255 };
static const struct fdesc fd_nexthdr = { NF_RF_NEXTHDR, 6, "protocol", proto_names, 255 };
static const struct fdesc fd_dscp = { NF_RF_DSCP, 0, "DSCP value", dscp_names, 63 };

/* ip|ip6 saddr|daddr|protocol|nexthdr|dscp */
static int m_ip(struct pctx *c, uint8_t fam)
{
	struct fdesc d = { 0 };
	int ret;

	next(c);
	if (strcmp(c->word, "saddr") == 0 || strcmp(c->word, "daddr") == 0) {
		d.f = c->word[0] == 's' ? NF_RF_SRC : NF_RF_DST;
		d.family = fam;
		d.what = fam == 4 ? "IPv4 address" : "IPv6 address";
	} else if (fam == 4 && strcmp(c->word, "protocol") == 0) {
		d = fd_proto;
	} else if (fam == 6 && strcmp(c->word, "nexthdr") == 0) {
		d = fd_nexthdr;
	} else if (strcmp(c->word, "dscp") == 0) {
		d = fd_dscp;
	} else {
		return perr(c, "not supported (ip%s takes saddr, daddr, %s, dscp)",
			    fam == 4 ? "" : "6", fam == 4 ? "protocol" : "nexthdr");
	}
	ret = set_family(c, fam);
	if (ret)
		return ret;
	return parse_values(c, &d);
}

static int m_port(struct pctx *c, unsigned proto)
{
	int ret;
	int sd;

	next(c);
	if (strcmp(c->word, "sport") == 0)
		sd = 0;
	else if (strcmp(c->word, "dport") == 0)
		sd = 1;
	else if (proto == 6 && strcmp(c->word, "flags") == 0)
		return -EAGAIN;		/* tcp flags: the caller */
	else
		return perr(c, "not supported (takes sport, dport%s)",
			    proto == 6 ? ", flags" : "");
	if (proto) {
		ret = imply_proto(c, proto);
		if (ret)
			return ret;
	}
	return parse_values(c, &fd_port[sd]);
}

static int m_icmp(struct pctx *c, bool v6)
{
	struct fdesc d = { 0 };
	int ret;

	next(c);
	if (strcmp(c->word, "type") == 0) {
		d.f = NF_RF_ICMP_TYPE;
		d.what = v6 ? "ICMPv6 type" : "ICMP type";
		d.names = v6 ? icmp6_type_names : icmp_type_names;
	} else if (strcmp(c->word, "code") == 0) {
		d.f = NF_RF_ICMP_CODE;
		d.what = v6 ? "ICMPv6 code" : "ICMP code";
		d.names = v6 ? icmp6_code_names : icmp_code_names;
	} else {
		return perr(c, "not supported (%s takes type, code)", v6 ? "icmpv6" : "icmp");
	}
	d.max = 255;
	if (v6 && c->r.family == 4)
		return perr(c, "icmpv6 in an IPv4 rule (nft would match protocol 58 "
			    "inside IPv4)");
	if (!v6 && c->r.family == 6)
		return perr(c, "icmp in an IPv6 rule: it can never match");
	ret = set_family(c, v6 ? 6 : 4);
	if (ret)
		return ret;
	ret = imply_proto(c, v6 ? 58 : 1);
	if (ret)
		return ret;
	return parse_values(c, &d);
}

/* One flag value: names or numbers joined by '|' (and ',' if @comma). */
static int parse_combo(struct pctx *c, const struct nf_name *names, bool comma,
		       unsigned *out)
{
	unsigned v = 0, x;

	for (;;) {
		const struct tok *t = next(c);
		uint64_t u;
		int ret;

		if (t->type != T_WORD)
			return perr(c, "expected a flag name");
		if (name_find(names, c->word, &x) == 0) {
			v |= x;
		} else {
			ret = parse_num(c, c->word, 255, "flag value", &u);
			if (ret == -ENOENT)
				return perr(c, "'%s' is not a flag name", c->word);
			if (ret)
				return ret;
			v |= (unsigned)u;
		}
		if (peek(c)->type == T_PIPE || (comma && peek(c)->type == T_COMMA))
			next(c);
		else
			break;
	}
	*out = v;
	return 0;
}

/* { combo, combo } into @set (256 bits). */
static int parse_flag_set(struct pctx *c, const struct nf_name *names, uint8_t set[32])
{
	unsigned v;
	int ret;

	memset(set, 0, 32);
	for (;;) {
		ret = parse_combo(c, names, false, &v);
		if (ret)
			return ret;
		set[v >> 3] |= (uint8_t)(1u << (v & 7));
		if (peek(c)->type == T_RBRACE) {
			next(c);
			return 0;
		}
		if (next(c)->type != T_COMMA)
			return perr(c, "expected ',' or '}' in the set");
	}
}

/* The bitmask match grammar (see nf_rule.h) into @m: bit v set when the
 * 8-bit value v matches. */
static int parse_bitmask(struct pctx *c, const struct nf_name *names, uint8_t m[32])
{
	uint8_t set[32];
	unsigned mask = 0xff, val = 0, v;
	enum { ANY, NONE, EQ, IN } kind;
	bool neg = false;
	int ret;

	memset(m, 0, 32);
	if (peek(c)->type == T_AMP) {
		next(c);
		if (peek(c)->type == T_LPAREN) {
			next(c);
			ret = parse_combo(c, names, true, &mask);
			if (ret)
				return ret;
			if (next(c)->type != T_RPAREN)
				return perr(c, "expected ')'");
		} else {
			ret = parse_combo(c, names, false, &mask);
			if (ret)
				return ret;
		}
		if (peek(c)->type == T_EQ) {
			next(c);
		} else if (peek(c)->type == T_NE) {
			next(c);
			neg = true;
		} else if (peek(c)->type != T_WORD && peek(c)->type != T_LBRACE) {
			next(c);
			return perr(c, "expected == or != after the mask");
		}
		if (peek(c)->type == T_LBRACE) {
			next(c);
			ret = parse_flag_set(c, names, set);
			kind = IN;
		} else {
			ret = parse_combo(c, names, true, &val);
			kind = EQ;
		}
		if (ret)
			return ret;
	} else if (peek(c)->type == T_NOT) {
		next(c);
		ret = parse_combo(c, names, true, &mask);
		if (ret)
			return ret;
		kind = NONE;
	} else {
		enum rel_op op;

		ret = parse_op(c, &op);
		if (ret)
			return ret;
		if (op != OP_IMPLICIT && op != OP_EQ && op != OP_NE)
			return perr(c, "a bitmask takes ==, !=, ! or a mask, not a comparison");
		neg = op == OP_NE;
		if (peek(c)->type == T_LBRACE) {
			next(c);
			ret = parse_flag_set(c, names, set);
			if (ret)
				return ret;
			kind = IN;
		} else {
			ret = parse_combo(c, names, true, &val);
			if (ret)
				return ret;
			if (peek(c)->type == T_SLASH) {
				next(c);
				ret = parse_combo(c, names, true, &mask);
				if (ret)
					return ret;
				kind = EQ;
			} else if (op == OP_IMPLICIT) {
				mask = val;
				kind = ANY;
			} else {
				kind = EQ;
			}
		}
	}
	for (v = 0; v < 256; v++) {
		bool hit;

		switch (kind) {
		case ANY: hit = (v & mask) != 0; break;
		case NONE: hit = (v & mask) == 0; break;
		case EQ: hit = (v & mask) == val; break;
		default: hit = set[(v & mask) >> 3] >> ((v & mask) & 7) & 1; break;
		}
		if (hit != neg)
			m[v >> 3] |= (uint8_t)(1u << (v & 7));
	}
	return 0;
}

static int m_tcp_flags(struct pctx *c)
{
	uint8_t m[32];
	unsigned i, any = 0;
	int ret;

	ret = imply_proto(c, 6);
	if (ret)
		return ret;
	ret = parse_bitmask(c, tcp_flag_names, m);
	if (ret)
		return ret;
	if (c->r.has & NF_RM_TCP_FLAGS)
		for (i = 0; i < 32; i++)
			m[i] &= c->r.tcp_flags[i];
	memcpy(c->r.tcp_flags, m, 32);
	c->r.has |= NF_RM_TCP_FLAGS;
	for (i = 0; i < 32; i++)
		any |= m[i];
	if (!any)
		return perr(c, "the rule can never match (no flags value left)");
	return 0;
}

static int m_ct(struct pctx *c)
{
	static const uint8_t states[] = {
		NF_RULE_CT_INVALID, NF_RULE_CT_ESTABLISHED, NF_RULE_CT_RELATED,
		NF_RULE_CT_NEW, NF_RULE_CT_UNTRACKED
	};
	uint8_t m[32], ct = 0;
	unsigned i;
	int ret;

	next(c);
	if (strcmp(c->word, "state") != 0)
		return perr(c, "not supported (ct takes state)");
	ret = parse_bitmask(c, ct_state_names, m);
	if (ret)
		return ret;
	for (i = 0; i < NF_ARRAY_SIZE(states); i++)
		if (m[states[i] >> 3] >> (states[i] & 7) & 1)
			ct |= states[i];
	if (c->r.has & NF_RM_CT)
		ct &= c->r.ct;
	c->r.ct = ct;
	c->r.has |= NF_RM_CT;
	if (!ct)
		return perr(c, "the rule can never match (no conntrack state left)");
	return 0;
}

/* A port name (or "prefix*") into a mask of ports. */
static int port_mask(struct pctx *c, const char *name, uint64_t *m)
{
	const struct nf_rule_opts *o = c->o;
	unsigned np = o ? o->nports : 0, i;
	size_t len = strlen(name);
	bool wild = len > 0 && name[len - 1] == '*';

	*m = 0;
	if (np > NF_RULE_PORTS_MAX)
		np = NF_RULE_PORTS_MAX;
	for (i = 0; i < np; i++) {
		const char *p = o->ports[i];

		if (!p)
			continue;
		if (wild ? strncmp(p, name, len - 1) == 0 : strcmp(p, name) == 0)
			*m |= 1ull << i;
	}
	if (!*m)
		return perr(c, wild ? "no port of this firewall matches '%s'"
			    : "'%s' is not a port of this firewall", name);
	return 0;
}

static int m_ifname(struct pctx *c, bool out)
{
	const struct nf_rule_opts *o = c->o;
	unsigned np = o ? NF_MIN(o->nports, NF_RULE_PORTS_MAX) : 0;
	uint64_t all = np == 64 ? ~0ull : (1ull << np) - 1, m = 0, x;
	const struct tok *t;
	enum rel_op op;
	int ret;

	ret = parse_op(c, &op);
	if (ret)
		return ret;
	if (op != OP_IMPLICIT && op != OP_EQ && op != OP_NE)
		return perr(c, "port names take ==, != or a set, not a comparison");
	t = next(c);
	if (t->type == T_LBRACE) {
		for (;;) {
			t = next(c);
			if (t->type != T_WORD && t->type != T_STR)
				return perr(c, "expected a port name in the set");
			ret = port_mask(c, c->word, &x);
			if (ret)
				return ret;
			m |= x;
			t = next(c);
			if (t->type == T_RBRACE)
				break;
			if (t->type != T_COMMA)
				return perr(c, "expected ',' or '}' in the set");
		}
	} else if (t->type == T_WORD || t->type == T_STR) {
		ret = port_mask(c, c->word, &m);
		if (ret)
			return ret;
	} else {
		return perr(c, "expected a port name");
	}
	if (op == OP_NE)
		m = ~m & all;
	if (c->r.has & (out ? NF_RM_OIF : NF_RM_IIF))
		m &= out ? c->r.oif : c->r.iif;
	if (out)
		c->r.oif = m;
	else
		c->r.iif = m;
	c->r.has |= out ? NF_RM_OIF : NF_RM_IIF;
	if (!m)
		return perr(c, "the rule can never match (no port left)");
	return 0;
}

static int m_meta(struct pctx *c)
{
	next(c);
	if (strcmp(c->word, "iifname") == 0 || strcmp(c->word, "oifname") == 0)
		return m_ifname(c, c->word[0] == 'o');
	if (strcmp(c->word, "l4proto") == 0)
		return parse_values(c, &fd_proto);
	if (strcmp(c->word, "nfproto") == 0) {
		if (peek(c)->type == T_EQ)
			next(c);
		next(c);
		if (strcmp(c->word, "ipv4") == 0)
			return set_family(c, 4);
		if (strcmp(c->word, "ipv6") == 0)
			return set_family(c, 6);
		return perr(c, "meta nfproto takes ipv4 or ipv6");
	}
	return perr(c, "not supported (meta takes iifname, oifname, nfproto, l4proto)");
}

/* ------------------------------------------------------------ statements */

static int s_reject(struct pctx *c)
{
	const struct nf_name *names;
	unsigned v;
	uint64_t u;
	int ret;

	c->r.verdict = NF_RULE_REJECT;
	c->r.reject = NF_REJECT_ICMPX;
	c->r.reject_code = NF_ICMPX_PORT_UNREACH;
	if (!peek_word(c, "with"))
		return 0;
	next(c);
	next(c);
	if (strcmp(c->word, "tcp") == 0) {
		next(c);
		if (strcmp(c->word, "reset") != 0)
			return perr(c, "expected 'reset'");
		c->r.reject = NF_REJECT_TCP_RST;
		c->r.reject_code = 0;
		return imply_proto(c, 6);
	}
	if (strcmp(c->word, "icmp") == 0) {
		c->r.reject = NF_REJECT_ICMP;
		names = icmp_code_names;
		ret = set_family(c, 4);
	} else if (strcmp(c->word, "icmpv6") == 0) {
		c->r.reject = NF_REJECT_ICMPV6;
		names = icmp6_code_names;
		ret = set_family(c, 6);
	} else if (strcmp(c->word, "icmpx") == 0) {
		c->r.reject = NF_REJECT_ICMPX;
		names = icmpx_code_names;
		ret = 0;
	} else {
		return perr(c, "reject takes with tcp reset, icmp, icmpv6 or icmpx");
	}
	if (ret)
		return ret;
	if (peek_word(c, "type"))
		next(c);
	if (next(c)->type != T_WORD)
		return perr(c, "expected a reject code");
	if (name_find(names, c->word, &v) == 0) {
		c->r.reject_code = (uint8_t)v;
		return 0;
	}
	ret = parse_num(c, c->word, names == icmpx_code_names ? 3 : 255, "reject code", &u);
	if (ret == -ENOENT)
		return perr(c, "'%s' is not a reject code", c->word);
	if (ret)
		return ret;
	c->r.reject_code = (uint8_t)u;
	return 0;
}

static int s_comment(struct pctx *c)
{
	const struct tok *t = next(c);

	if (t->type != T_STR && t->type != T_WORD)
		return perr(c, "expected the comment text");
	if (t->len > NF_RULE_COMMENT_MAX)
		return perr(c, "comment longer than %u bytes", NF_RULE_COMMENT_MAX);
	if (t->len == 0)
		return perr(c, "empty comment");
	memcpy(c->comment, c->word, t->len + 1u);
	c->r.comment = t->len;
	if (peek(c)->type != T_END) {
		c->clause = peek(c)->off;
		next(c);
		return perr(c, "nothing may follow the comment");
	}
	return 0;
}

/* One clause: a match or a statement. */
static int clause(struct pctx *c)
{
	const struct tok *t = next(c);
	const char *w = c->word;
	int ret;

	if (t->type == T_SEMI)
		return perr(c, "one rule per line: ';' is refused");
	if (t->type != T_WORD)
		return perr(c, "expected a match or a statement");
	/* statements */
	if (strcmp(w, "counter") == 0) {
		if (c->r.counter)
			return perr(c, "two counters in one rule");
		if (c->r.verdict != NF_RULE_CONTINUE)
			return perr(c, "the counter must come before the verdict");
		c->r.counter = true;
		c->stmt = true;
		return 0;
	}
	if (strcmp(w, "accept") == 0 || strcmp(w, "drop") == 0 ||
	    strcmp(w, "reject") == 0) {
		if (c->r.verdict != NF_RULE_CONTINUE)
			return perr(c, "a second verdict");
		c->stmt = true;
		if (w[0] == 'r')
			return s_reject(c);
		c->r.verdict = w[0] == 'a' ? NF_RULE_ACCEPT : NF_RULE_DROP;
		return 0;
	}
	if (strcmp(w, "comment") == 0) {
		if (!c->stmt)
			return perr(c, "the comment comes after the statements");
		return s_comment(c);
	}
	if (c->stmt && (strcmp(w, "iifname") == 0 || strcmp(w, "oifname") == 0 ||
			strcmp(w, "meta") == 0 || strcmp(w, "ip") == 0 ||
			strcmp(w, "ip6") == 0 || strcmp(w, "tcp") == 0 ||
			strcmp(w, "udp") == 0 || strcmp(w, "th") == 0 ||
			strcmp(w, "icmp") == 0 || strcmp(w, "icmpv6") == 0 ||
			strcmp(w, "ct") == 0))
		return perr(c, "a match after a statement");
	if (c->r.verdict != NF_RULE_CONTINUE)
		return perr(c, "nothing but a comment may follow the verdict");
	if (strcmp(w, "iifname") == 0 || strcmp(w, "oifname") == 0)
		return m_ifname(c, w[0] == 'o');
	if (strcmp(w, "meta") == 0)
		return m_meta(c);
	if (strcmp(w, "ip") == 0)
		return m_ip(c, 4);
	if (strcmp(w, "ip6") == 0)
		return m_ip(c, 6);
	if (strcmp(w, "tcp") == 0) {
		ret = m_port(c, 6);
		return ret == -EAGAIN ? m_tcp_flags(c) : ret;
	}
	if (strcmp(w, "udp") == 0)
		return m_port(c, 17);
	if (strcmp(w, "th") == 0)
		return m_port(c, 0);
	if (strcmp(w, "icmp") == 0 || strcmp(w, "icmpv6") == 0)
		return m_icmp(c, w[4] == 'v');
	if (strcmp(w, "ct") == 0)
		return m_ct(c);
	if (strcmp(w, "log") == 0 || strcmp(w, "jump") == 0 || strcmp(w, "goto") == 0 ||
	    strcmp(w, "return") == 0 || strcmp(w, "continue") == 0 ||
	    strcmp(w, "queue") == 0 || strcmp(w, "limit") == 0 ||
	    strcmp(w, "masquerade") == 0 || strcmp(w, "snat") == 0 ||
	    strcmp(w, "dnat") == 0 || strcmp(w, "notrack") == 0 ||
	    strcmp(w, "meter") == 0 || strcmp(w, "set") == 0)
		return perr(c, "statement not supported (counter, accept, drop, reject, comment)");
	return perr(c, "unknown match (see docs/RULES.md for the supported subset)");
}

/* Append the parsed rule to @rs. */
static int commit(struct pctx *c, struct nf_ruleset *rs)
{
	uint32_t nr = 0, f, off;
	struct nf_rule *r = &c->r;

	for (f = 0; f < NF_RF_MAX; f++)
		nr += c->fld[f].n;
	if (rs->n == rs->cap) {
		uint32_t cap = rs->cap ? rs->cap * 2 : 64;
		struct nf_rule *v;

		if (cap < rs->cap || cap > UINT32_MAX / sizeof(*v))
			return -ENOMEM;
		v = realloc(rs->rules, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->rules = v;
		rs->cap = cap;
	}
	if (rs->nranges + nr > rs->rcap) {
		uint64_t cap = rs->rcap ? rs->rcap : 256;
		struct nf_range *v;

		while (cap < (uint64_t)rs->nranges + nr)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		v = realloc(rs->ranges, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->ranges = v;
		rs->rcap = (uint32_t)cap;
	}
	if (r->comment && rs->slen + r->comment + 1u > rs->scap) {
		uint64_t cap = rs->scap ? rs->scap : 1024;
		char *v;

		while (cap < (uint64_t)rs->slen + r->comment + 1u)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		v = realloc(rs->strings, cap);
		if (!v)
			return -ENOMEM;
		rs->strings = v;
		rs->scap = (uint32_t)cap;
	}
	off = rs->nranges;
	for (f = 0; f < NF_RF_MAX; f++) {
		r->f[f].off = off;
		r->f[f].n = c->fld[f].n;
		if (c->fld[f].n)
			memcpy(rs->ranges + off, c->fld[f].v,
			       c->fld[f].n * sizeof(struct nf_range));
		else
			r->f[f].off = 0;
		off += c->fld[f].n;
	}
	rs->nranges = off;
	if (r->comment) {
		r->comment_off = rs->slen;
		memcpy(rs->strings + rs->slen, c->comment, r->comment + 1u);
		rs->slen += r->comment + 1u;
	}
	rs->rules[rs->n++] = *r;
	return 0;
}

void nf_ruleset_init(struct nf_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void nf_ruleset_free(struct nf_ruleset *rs)
{
	free(rs->rules);
	free(rs->ranges);
	free(rs->strings);
	nf_ruleset_init(rs);
}

int nf_rule_parse(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		  const char *line, uint32_t lineno)
{
	struct pctx *c;
	size_t len = strlen(line);
	uint32_t f;
	int ret = 0;

	if (len > NF_RULE_LINE_MAX) {
		nf_set_error("%s:%u: line longer than %u bytes", fname(o), lineno,
			     NF_RULE_LINE_MAX);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->tk = calloc(len + 2, sizeof(*c->tk));
	if (!c->tk) {
		free(c);
		return -ENOMEM;
	}
	c->o = o;
	c->line = line;
	c->lineno = lineno;
	ret = tokenize(c);
	if (ret || c->ntk == 0)
		goto out;
	c->r.line = lineno;
	while (peek(c)->type != T_END) {
		c->clause = peek(c)->off - (peek(c)->type == T_STR ? 1 : 0);
		ret = clause(c);
		if (ret)
			goto out;
	}
	c->clause = 0;
	c->pos = c->ntk;
	if (!c->r.counter && c->r.verdict == NF_RULE_CONTINUE) {
		ret = perr(c, "a rule needs a counter or a verdict "
			   "(accept, drop, reject)");
		goto out;
	}
	if (c->proto_loose && c->l4hdr) {
		ret = perr(c, "a set, range or != on the L4 protocol together with a "
			   "tcp/udp/icmp header match or tcp reset (nft would drop the "
			   "protocol check: use th, or one protocol)");
		goto out;
	}
	ret = commit(c, rs);
out:
	for (f = 0; f < NF_RF_MAX; f++)
		free(c->fld[f].v);
	free(c->tk);
	free(c);
	return ret;
}

int nf_rule_parse_text(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		       const char *text)
{
	char *buf = malloc(NF_RULE_LINE_MAX + 2);
	uint32_t lineno = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		lineno++;
		if (len > NF_RULE_LINE_MAX) {
			nf_set_error("%s:%u: line longer than %u bytes", fname(o),
				     lineno, NF_RULE_LINE_MAX);
			ret = -EINVAL;
			break;
		}
		memcpy(buf, text, len);
		buf[len] = '\0';
		ret = nf_rule_parse(rs, o, buf, lineno);
		if (ret)
			break;
		if (!nl)
			break;
		text = nl + 1;
	}
	free(buf);
	return ret;
}

int nf_rule_parse_file(struct nf_ruleset *rs, const struct nf_rule_opts *o,
		       const char *path)
{
	struct nf_rule_opts oo = { .file = path };
	char *buf = NULL;
	uint32_t lineno = 0;
	FILE *f;
	int ret = 0;

	if (o)
		oo = *o;
	if (!oo.file)
		oo.file = path;
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		nf_set_error("cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	buf = malloc(NF_RULE_LINE_MAX + 3);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (fgets(buf, NF_RULE_LINE_MAX + 3, f)) {
		size_t len = strlen(buf);

		lineno++;
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(f)) {
			nf_set_error("%s:%u: line longer than %u bytes", oo.file,
				     lineno, NF_RULE_LINE_MAX);
			ret = -EINVAL;
			goto out;
		}
		ret = nf_rule_parse(rs, &oo, buf, lineno);
		if (ret)
			goto out;
	}
	if (ferror(f)) {
		ret = -EIO;
		nf_set_error("cannot read '%s'", path);
	}
out:
	free(buf);
	fclose(f);
	return ret;
}

bool nf_rule_same(const struct nf_ruleset *a, uint32_t i,
		  const struct nf_ruleset *b, uint32_t j)
{
	const struct nf_rule *x = &a->rules[i], *y = &b->rules[j];
	unsigned f;

	if (x->has != y->has || x->family != y->family || x->verdict != y->verdict ||
	    x->reject != y->reject || x->reject_code != y->reject_code ||
	    x->counter != y->counter || x->ct != y->ct || x->comment != y->comment ||
	    x->iif != y->iif || x->oif != y->oif ||
	    memcmp(x->tcp_flags, y->tcp_flags, sizeof(x->tcp_flags)) != 0 ||
	    strcmp(nf_rule_comment(a, x), nf_rule_comment(b, y)) != 0)
		return false;
	for (f = 0; f < NF_RF_MAX; f++) {
		uint32_t n1, n2;
		const struct nf_range *v1 = nf_rule_ranges(a, x, f, &n1);
		const struct nf_range *v2 = nf_rule_ranges(b, y, f, &n2);

		if (n1 != n2 || (n1 && memcmp(v1, v2, n1 * sizeof(*v1)) != 0))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ format */

struct obuf {
	char *p;
	size_t n, len;
};

static void __attribute__((format(printf, 2, 3))) out(struct obuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->len == 0 && fmt[0] == ' ')	/* no space before the first word */
		fmt++;
	va_start(ap, fmt);
	k = vsnprintf(b->len < b->n ? b->p + b->len : NULL,
		      b->len < b->n ? b->n - b->len : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->len += (size_t)k;
}

static void out_addr(struct obuf *b, uint8_t fam, nf_u128 v)
{
	char s[INET6_ADDRSTRLEN];
	uint8_t x[16];
	int i, n = fam == 4 ? 4 : 16;

	for (i = n - 1; i >= 0; i--) {
		x[i] = (uint8_t)v;
		v >>= 8;
	}
	inet_ntop(fam == 4 ? AF_INET : AF_INET6, x, s, sizeof(s));
	out(b, "%s", s);
}

static void out_range(struct obuf *b, enum nf_rule_field f, uint8_t fam,
		      const struct nf_range *r)
{
	if (f == NF_RF_SRC || f == NF_RF_DST) {
		unsigned bits = fam == 4 ? 32 : 128, len;
		nf_u128 size = r->hi - r->lo;	/* 2^k - 1 for a prefix */

		for (len = 0; len <= bits; len++) {
			nf_u128 host = len == 0 ? (bits == 32 ? (nf_u128)UINT32_MAX : ~(nf_u128)0)
				: (bits - len == 0 ? 0 : (~(nf_u128)0) >> (128 - (bits - len)));

			if (size == host && (r->lo & host) == 0)
				break;
		}
		out_addr(b, fam, r->lo);
		if (len == bits)
			return;
		if (len < bits) {
			out(b, "/%u", len);
			return;
		}
		out(b, "-");
		out_addr(b, fam, r->hi);
		return;
	}
	if (r->lo == r->hi)
		out(b, "%u", (unsigned)r->lo);
	else
		out(b, "%u-%u", (unsigned)r->lo, (unsigned)r->hi);
}

static void out_field(struct obuf *b, const struct nf_ruleset *rs,
		      const struct nf_rule *r, enum nf_rule_field f, const char *kw)
{
	uint32_t n, i;
	const struct nf_range *v = nf_rule_ranges(rs, r, f, &n);

	if (!v)
		return;
	out(b, " %s ", kw);
	if (n == 1) {
		out_range(b, f, r->family, v);
		return;
	}
	out(b, "{ ");
	for (i = 0; i < n; i++) {
		out(b, i ? ", " : "");
		out_range(b, f, r->family, &v[i]);
	}
	out(b, " }");
}

static void out_ports(struct obuf *b, const struct nf_rule_opts *o, const char *kw,
		      uint64_t m)
{
	unsigned i, k = 0, n = (unsigned)__builtin_popcountll(m);

	out(b, " %s %s", kw, n > 1 ? "{ " : "");
	for (i = 0; i < 64; i++) {
		if (!(m >> i & 1))
			continue;
		if (o && i < o->nports && o->ports[i])
			out(b, "%s\"%s\"", k ? ", " : "", o->ports[i]);
		else
			out(b, "%s\"?%u\"", k ? ", " : "", i);
		k++;
	}
	out(b, "%s", n > 1 ? " }" : "");
}

static bool bit_of(const uint8_t m[32], unsigned v)
{
	return m[v >> 3] >> (v & 7) & 1;
}

static void out_combo(struct obuf *b, const struct nf_name *names, unsigned v)
{
	unsigned k = 0, f;

	if (!v)
		out(b, "0x00");
	for (f = 1; f < 256; f <<= 1)
		if (v & f)
			out(b, "%s%s", k++ ? "|" : "", name_of(names, f));
}

/* A 256-value bitmap as `& (MASK) == V`, `!= V` or `== { V, V }` over
 * the bits that matter: parses back to the same bitmap. */
static void out_bitmap(struct obuf *b, const char *kw, const uint8_t m[32],
		       const struct nf_name *names)
{
	unsigned mask = 0, v, f, n = 0, total, k = 0;
	bool neg;

	for (f = 1; f < 256; f <<= 1)
		for (v = 0; v < 256; v++)
			if (bit_of(m, v) != bit_of(m, v ^ f)) {
				mask |= f;
				break;
			}
	total = 1u << __builtin_popcount(mask);
	for (v = 0; v < 256; v++)
		if ((v & mask) == v && bit_of(m, v))
			n++;
	neg = n * 2 > total && n < total;
	out(b, " %s ", kw);
	if (mask != 0xff) {
		out(b, "& (");
		out_combo(b, names, mask);
		out(b, ") ");
	}
	out(b, "%s ", neg ? "!=" : "==");
	if ((neg ? total - n : n) > 1)
		out(b, "{ ");
	for (v = 0; v < 256; v++)
		if ((v & mask) == v && bit_of(m, v) != neg) {
			out(b, k++ ? ", " : "");
			out_combo(b, names, v);
		}
	if ((neg ? total - n : n) > 1)
		out(b, " }");
}

int nf_rule_format(const struct nf_ruleset *rs, const struct nf_rule_opts *o,
		   uint32_t i, char *buf, size_t n)
{
	struct obuf b = { buf, n, 0 };
	const struct nf_rule *r;
	const struct nf_name *names = NULL;

	if (n)
		buf[0] = '\0';
	if (i >= rs->n)
		return 0;
	r = &rs->rules[i];
	if (r->family)
		out(&b, " meta nfproto ipv%u", r->family);
	if (r->has & NF_RM_IIF)
		out_ports(&b, o, "iifname", r->iif);
	if (r->has & NF_RM_OIF)
		out_ports(&b, o, "oifname", r->oif);
	out_field(&b, rs, r, NF_RF_PROTO, "meta l4proto");
	out_field(&b, rs, r, NF_RF_NEXTHDR, "ip6 nexthdr");
	out_field(&b, rs, r, NF_RF_SRC, r->family == 6 ? "ip6 saddr" : "ip saddr");
	out_field(&b, rs, r, NF_RF_DST, r->family == 6 ? "ip6 daddr" : "ip daddr");
	out_field(&b, rs, r, NF_RF_DSCP, r->family == 6 ? "ip6 dscp" : "ip dscp");
	out_field(&b, rs, r, NF_RF_SPORT, "th sport");
	out_field(&b, rs, r, NF_RF_DPORT, "th dport");
	out_field(&b, rs, r, NF_RF_ICMP_TYPE, r->family == 6 ? "icmpv6 type" : "icmp type");
	out_field(&b, rs, r, NF_RF_ICMP_CODE, r->family == 6 ? "icmpv6 code" : "icmp code");
	if (r->has & NF_RM_TCP_FLAGS)
		out_bitmap(&b, "tcp flags", r->tcp_flags, tcp_flag_names);
	if (r->has & NF_RM_CT) {
		unsigned k = 0, s;

		out(&b, " ct state { ");
		for (s = 1; s < 256; s <<= 1)
			if (r->ct & s)
				out(&b, "%s%s", k++ ? ", " : "",
				    name_of(ct_state_names, s) ? name_of(ct_state_names, s) : "0");
		out(&b, " }");
	}
	if (r->counter)
		out(&b, " counter");
	if (r->verdict == NF_RULE_REJECT) {
		out(&b, " reject");
		switch (r->reject) {
		case NF_REJECT_TCP_RST: out(&b, " with tcp reset"); break;
		case NF_REJECT_ICMP: out(&b, " with icmp"); names = icmp_code_names; break;
		case NF_REJECT_ICMPV6: out(&b, " with icmpv6"); names = icmp6_code_names; break;
		default: out(&b, " with icmpx"); names = icmpx_code_names; break;
		}
		if (names) {
			const char *cn = name_of(names, r->reject_code);

			if (cn)
				out(&b, " %s", cn);
			else
				out(&b, " %u", r->reject_code);
		}
	} else if (r->verdict != NF_RULE_CONTINUE) {
		out(&b, " %s", nf_rule_verdict_name(r->verdict));
	}
	if (r->comment)
		out(&b, " comment \"%s\"", nf_rule_comment(rs, r));
	return (int)b.len;
}
