/* test_ct.c - nf_ct, the connection tracker: crafted frames (Ethernet,
 * IPv4 / IPv6, TCP / UDP / ICMP / ICMPv6 / others) parsed with nf_parse()
 * and classified by nf_ct_in() / nf_ct_confirm() at an explicit clock.
 *
 * The reference is Linux 6.x (net/netfilter/nf_conntrack_proto_tcp.c and
 * friends, with nf_conntrack_tcp_no_window_check=1, as nf_ct.h says):
 *   - TCP: every cell of Linux's tcp_conntracks table (written out below
 *     in its own notation, independently of nf_ct.c's copy) from every
 *     reachable state, both directions, with the exact resulting state,
 *     verdict and timeout (refreshed, or not for ignored packets and a
 *     retransmitted SYN); the special cases of nf_conntrack_tcp_packet()
 *     (reopening from TIME_WAIT / CLOSE, RST before a reply, simultaneous
 *     open, re-synchronisation on an ignored SYN, the RFC 5961 challenge
 *     ACK, loose pick-up); all 256 flag bytes against tcp_valid_flags;
 *   - UDP (timeouts, the 2 s stream rule, ASSURED), ICMP / ICMPv6 queries
 *     and errors (RELATED, quoted tuples, truncated quotes, redirects);
 *   - expiry (exact timeouts, the sweep over a full table of 1M entries),
 *     capacity (1M entries, the tightest hash load, churn), -EEXIST,
 *     zones, NAT reply tuples, flush / foreach / stats / names / conf;
 *   - malformed frames: truncations and random mutations of frames of
 *     every kind, each in a heap buffer of its exact size (ASan build).
 */
#include "harness.h"
#include "nf_ct.h"
#include "nf_parse.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS(x)	((uint64_t)(x) * 1000000ull)
#define SEC(x)	MS((uint64_t)(x) * 1000ull)
#define NOIDX	UINT32_MAX

static uint64_t now = SEC(100000);	/* the fake clock, ns */
static char descr[512];

/* NF_TEST with a printf-style description. */
#define CHECK(cond, ...) do {						\
	snprintf(descr, sizeof(descr), __VA_ARGS__);			\
	NF_TEST(descr, cond);						\
} while (0)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* ---- addresses ---- */

static const uint8_t A4[16] = { 10, 0, 0, 1 }, B4[16] = { 10, 0, 0, 2 },
	C4[16] = { 10, 0, 0, 3 }, R4[16] = { 10, 9, 9, 9 }, N4[16] = { 192, 0, 2, 1 };
static const uint8_t A6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	B6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
	C6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 },
	R6[16] = { 0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 },
	LL6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

#define ADDR(fam, x) ((fam) == 4 ? x##4 : x##6)

/* ---- frames ---- */

struct frame {
	uint8_t b[2048];
	uint32_t len;
	struct nf_hdrs h;
	enum nf_parse_err perr;
};

static void reparse(struct frame *fr)
{
	fr->perr = nf_parse(fr->b, fr->len, &fr->h);
}

/* The IP packet (header + @n bytes of @l4, protocol @proto) at @ip;
 * returns its length. */
static uint32_t ip_packet(uint8_t *ip, int fam, const uint8_t *src, const uint8_t *dst,
			  uint8_t proto, const void *l4, uint32_t n)
{
	if (fam == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + n));
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		memcpy(ip + 20, l4, n);
		return 20 + n;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)n);
	ip[6] = proto;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, l4, n);
	return 40 + n;
}

/* Ethernet + that IP packet, padded to 60 bytes, parsed. */
static void ip_frame(struct frame *fr, int fam, const uint8_t *src, const uint8_t *dst,
		     uint8_t proto, const void *l4, uint32_t n)
{
	uint8_t *b = fr->b;

	memset(b, 0, 64);
	b[0] = 0x02, b[5] = 0x01, b[6] = 0x02, b[11] = 0x02;
	put16(b + 12, fam == 4 ? NF_ETH_P_IPV4 : NF_ETH_P_IPV6);
	fr->len = NF_MAX(14 + ip_packet(b + 14, fam, src, dst, proto, l4, n), 60u);
	reparse(fr);
}

static uint32_t tcp_hdr(uint8_t *t, uint16_t sport, uint16_t dport, uint32_t seq,
			uint32_t ack, uint8_t flags, uint32_t payload)
{
	memset(t, 0, 20 + payload);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 0x50;
	t[13] = flags;
	put16(t + 14, 65535);
	return 20 + payload;
}

static uint32_t udp_hdr(uint8_t *u, uint16_t sport, uint16_t dport, uint32_t payload)
{
	memset(u, 0, 8 + payload);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + payload));
	return 8 + payload;
}

static uint32_t icmp_hdr(uint8_t *ic, uint8_t type, uint8_t code, uint16_t id)
{
	memset(ic, 0, 8);
	ic[0] = type;
	ic[1] = code;
	put16(ic + 4, id);
	put16(ic + 6, 1);
	return 8;
}

/* ---- flows ---- */

#define SYN	NF_TCP_SYN
#define ACK	NF_TCP_ACK
#define FIN	NF_TCP_FIN
#define RST	NF_TCP_RST
#define PSH	NF_TCP_PSH
#define URG	NF_TCP_URG
#define ECE	0x40
#define CWR	0x80

/* A flow from a:pa (ORIG) to b:pb. ICMP: pa is the identifier. */
struct conn {
	struct nf_ct *ct;
	int fam;
	uint8_t proto;
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint32_t seq[2];		/* TCP: next sequence number each way */
	uint32_t idx;			/* the entry, once known */
	int confirm_ret;
	struct nf_ct_pkt p;		/* the last packet's */
	struct frame fr;
};

static void conn_init(struct conn *c, struct nf_ct *ct, int fam, uint8_t proto,
		      uint16_t pa, uint16_t pb)
{
	memset(c, 0, sizeof(*c));
	c->ct = ct;
	c->fam = fam;
	c->proto = proto;
	memcpy(c->a, ADDR(fam, A), 16);
	memcpy(c->b, ADDR(fam, B), 16);
	c->pa = pa;
	c->pb = pb;
	c->seq[0] = 1000;
	c->seq[1] = 7000000;
	c->idx = NOIDX;
}

/* The tuple of @c's packets going @dir. */
static struct nf_ct_tuple conn_tuple(const struct conn *c, int dir)
{
	struct nf_ct_tuple t;
	unsigned n = c->fam == 4 ? 4 : 16;

	memset(&t, 0, sizeof(t));
	memcpy(t.src, dir ? c->b : c->a, n);
	memcpy(t.dst, dir ? c->a : c->b, n);
	if (c->proto == NF_IPPROTO_ICMP || c->proto == NF_IPPROTO_ICMPV6) {
		t.sport = htons(c->pa);
	} else {
		t.sport = htons(dir ? c->pb : c->pa);
		t.dport = htons(dir ? c->pa : c->pb);
	}
	t.proto = c->proto;
	t.family = (uint8_t)c->fam;
	return t;
}

static enum nf_ct_state classify(struct conn *c)
{
	if (c->fr.perr != NF_PERR_OK) {
		CHECK(0, "test frame parses (%s)", nf_parse_err_name(c->fr.perr));
		return NF_CT_UNTRACKED;
	}
	return nf_ct_in(c->ct, c->fr.b, &c->fr.h, now, &c->p);
}

/* A TCP segment of @c going @dir with @flags and @payload bytes. */
static enum nf_ct_state seg(struct conn *c, int dir, uint8_t flags, uint32_t payload)
{
	uint8_t l4[1500];
	uint32_t n = tcp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, c->seq[dir],
			     (flags & ACK) ? c->seq[!dir] : 0, flags, payload);

	ip_frame(&c->fr, c->fam, dir ? c->b : c->a, dir ? c->a : c->b, NF_IPPROTO_TCP, l4, n);
	c->seq[dir] += payload + !!(flags & SYN) + !!(flags & FIN);
	return classify(c);
}

/* A UDP datagram (or other port protocol: @c->proto) going @dir. */
static enum nf_ct_state dgram(struct conn *c, int dir, uint32_t payload)
{
	uint8_t l4[1500];
	uint32_t n = udp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, payload);

	ip_frame(&c->fr, c->fam, dir ? c->b : c->a, dir ? c->a : c->b, c->proto, l4, n);
	return classify(c);
}

/* An ICMP / ICMPv6 query or reply of @type with @c's identifier, @dir. */
static enum nf_ct_state query(struct conn *c, int dir, uint8_t type)
{
	uint8_t l4[64];
	uint32_t n = icmp_hdr(l4, type, 0, c->pa);

	ip_frame(&c->fr, c->fam, dir ? c->b : c->a, dir ? c->a : c->b, c->proto, l4, n + 16);
	return classify(c);
}

/* The caller accepted the NEW packet: confirm it, remember the entry. */
static int confirm(struct conn *c)
{
	c->confirm_ret = nf_ct_confirm(c->ct, &c->p, NULL, now);
	if (c->confirm_ret == 0)
		c->idx = c->p.idx;
	return c->confirm_ret;
}

/* @s, and confirm it when NEW; remember the entry when ESTABLISHED. */
static enum nf_ct_state accept_pkt(struct conn *c, enum nf_ct_state s)
{
	if (s == NF_CT_NEW)
		confirm(c);
	else if (s == NF_CT_ESTABLISHED)
		c->idx = c->p.idx;
	return s;
}

static enum nf_ct_state tcp(struct conn *c, int dir, uint8_t flags)
{
	return accept_pkt(c, seg(c, dir, flags, 0));
}

static struct nf_ct_entry *ent(const struct conn *c)
{
	return c->idx == NOIDX ? NULL : nf_ct_entry(c->ct, c->idx);
}

static unsigned tstate(const struct conn *c)
{
	return c->idx == NOIDX ? 99 : ent(c)->tcp_state;
}

static uint32_t ttl(const struct conn *c)
{
	return c->idx == NOIDX ? 0xdead : nf_ct_ttl(c->ct, ent(c), now);
}

static unsigned eflags(const struct conn *c)
{
	return c->idx == NOIDX ? 0 : ent(c)->flags & (NF_CT_F_SEEN_REPLY | NF_CT_F_ASSURED);
}

/* Lookups, foreach and ttl-free checks see the table at the latest time
 * it was given (nf_ct_in, nf_ct_confirm, nf_ct_expire); an untracked frame
 * (ARP) brings it to @now without changing anything else. */
static void sync_clock(struct nf_ct *ct)
{
	static const uint8_t arp[60] = { [12] = 0x08, [13] = 0x06, [15] = 1, [16] = 8,
					 [18] = 6, [19] = 4, [21] = 1 };
	struct nf_ct_pkt p;
	struct nf_hdrs h;

	if (nf_parse(arp, sizeof(arp), &h) != NF_PERR_OK ||
	    nf_ct_in(ct, arp, &h, now, &p) != NF_CT_UNTRACKED)
		CHECK(0, "ARP frame untracked");
}

/* The entry answers for @c's ORIG and REPLY tuples. */
static bool live(const struct conn *c)
{
	struct nf_ct_tuple t0 = conn_tuple(c, 0), t1 = conn_tuple(c, 1);
	uint32_t i0, i1;
	uint8_t d0, d1;

	sync_clock(c->ct);
	return nf_ct_lookup(c->ct, &t0, &i0, &d0) == 0 && nf_ct_lookup(c->ct, &t1, &i1, &d1) == 0 &&
	       i0 == c->idx && i1 == c->idx && d0 == NF_CT_ORIG && d1 == NF_CT_REPLY;
}

static bool gone(const struct conn *c)
{
	struct nf_ct_tuple t0 = conn_tuple(c, 0), t1 = conn_tuple(c, 1);
	uint32_t i;
	uint8_t d;

	sync_clock(c->ct);
	return nf_ct_lookup(c->ct, &t0, &i, &d) == -ENOENT &&
	       nf_ct_lookup(c->ct, &t1, &i, &d) == -ENOENT;
}

static struct nf_ct_stats stats(const struct nf_ct *ct)
{
	struct nf_ct_stats s;

	nf_ct_get_stats(ct, &s);
	return s;
}

static struct nf_ct *mk(uint32_t max, bool loose)
{
	struct nf_ct_conf c;
	struct nf_ct *ct;

	nf_ct_conf_default(&c, max);
	c.tcp_loose = loose;
	if (nf_ct_create(&c, &ct) < 0) {
		fprintf(stderr, "test_ct: %s\n", nf_last_error());
		exit(1);
	}
	return ct;
}

struct exp_log {
	uint64_t n;
	int bad;
	uint8_t *seen;		/* per index, or NULL */
	bool del;		/* the callback deletes the entry itself */
	struct nf_ct *ct;
};

static void on_expire(void *arg, uint32_t idx, struct nf_ct_entry *e)
{
	struct exp_log *l = arg;

	l->n++;
	if (e->t[NF_CT_ORIG].family != 4 && e->t[NF_CT_ORIG].family != 6)
		l->bad++;
	if (l->seen) {
		if (l->seen[idx])
			l->bad++;
		l->seen[idx] = 1;
	}
	if (l->del)
		nf_ct_delete(l->ct, idx);
}

/* ---- TCP ---- */

enum { sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2, sIV, sIG };

static const char *const st_code[] = {
	"NO", "SS", "SR", "ES", "FW", "CW", "LA", "TW", "CL", "S2", "IV", "IG",
};

/* Linux's timeouts (s) per state: nf_conntrack_proto_tcp.c, tcp_timeouts. */
static const uint32_t linux_to[] = {
	[sSS] = 120, [sSR] = 60, [sES] = 432000, [sFW] = 120, [sCW] = 60,
	[sLA] = 30, [sTW] = 120, [sCL] = 10, [sS2] = 120,
};

/* Linux's tcp_conntracks[dir][index][old state] (6.1 .. 6.16), one row
 * per packet kind; columns sNO sSS sSR sES sFW sCW sLA sTW sCL sS2. */
static const char *const linux_tcp[2][5] = {
	{	/* ORIGINAL */
		"SS SS IG IG IG IG IG SS SS S2",	/* syn */
		"IV IV SR IV IV IV IV IV IV SR",	/* synack */
		"IV IV FW FW LA LA LA TW CL IV",	/* fin */
		"ES IV ES ES CW CW TW TW CL IV",	/* ack */
		"IV CL CL CL CL CL CL CL CL CL",	/* rst */
	}, {	/* REPLY */
		"IV S2 IV IV IV IV IV SS IV S2",
		"IV SR IG IG IG IG IG IG IG SR",
		"IV IV FW FW LA LA LA TW CL IV",
		"IV IG SR ES CW CW TW TW CL IG",
		"IV CL CL CL CL CL CL CL CL CL",
	}
};

static const uint8_t ix_flags[5] = { SYN, SYN | ACK, FIN | ACK, ACK, RST };
static const char *const ix_name[5] = { "SYN", "SYN/ACK", "FIN", "ACK", "RST" };

static unsigned linux_next(int dir, int ix, unsigned old)
{
	const char *s = linux_tcp[dir][ix] + 3 * old;
	unsigned i;

	for (i = 0; i < NF_ARRAY_SIZE(st_code); i++)
		if (s[0] == st_code[i][0] && s[1] == st_code[i][1])
			return i;
	return 99;
}

/* How to reach each state from nothing: (direction, flags) steps. */
static const struct { uint8_t n, dir[5], flags[5]; } path[] = {
	[sSS] = { 1, { 0 }, { SYN } },
	[sSR] = { 2, { 0, 1 }, { SYN, SYN | ACK } },
	[sES] = { 3, { 0, 1, 0 }, { SYN, SYN | ACK, ACK } },
	[sFW] = { 4, { 0, 1, 0, 0 }, { SYN, SYN | ACK, ACK, FIN | ACK } },
	[sCW] = { 5, { 0, 1, 0, 0, 1 }, { SYN, SYN | ACK, ACK, FIN | ACK, ACK } },
	[sLA] = { 5, { 0, 1, 0, 1, 0 }, { SYN, SYN | ACK, ACK, FIN | ACK, FIN | ACK } },
	[sTW] = { 5, { 0, 1, 0, 0, 1 }, { SYN, SYN | ACK, ACK, FIN | ACK, FIN | ACK } },
	[sCL] = { 4, { 0, 1, 0, 0 }, { SYN, SYN | ACK, ACK, RST } },
	[sS2] = { 2, { 0, 1 }, { SYN, SYN } },
};

/* Drive @c from nothing to @st; true when it got there. */
static bool drive(struct conn *c, unsigned st)
{
	unsigned i;

	for (i = 0; i < path[st].n; i++)
		if (tcp(c, path[st].dir[i], path[st].flags[i]) != (i ? NF_CT_ESTABLISHED : NF_CT_NEW))
			return false;
	if (st == sTW)		/* FW -> LA (reply FIN) -> TW (orig ACK) */
		tcp(c, 0, ACK);
	return c->confirm_ret == 0 && tstate(c) == st;
}

/* Every cell of the table from every state an entry can be in, both
 * directions: verdict, state, timeout, counters. */
static void test_tcp_table(void)
{
	struct nf_ct *ct = mk(4096, true);
	unsigned dir, ix, old, port = 20000, bad = 0, cells = 0;

	for (dir = 0; dir < 2; dir++)
		for (ix = 0; ix < 5; ix++)
			for (old = sSS; old <= sS2; old++) {
				unsigned nw = linux_next((int)dir, (int)ix, old), want_st;
				uint64_t inv0, pk0;
				enum nf_ct_state s, want = NF_CT_ESTABLISHED;
				uint32_t want_ttl;
				bool dead = false, ok, replied;
				struct conn c;

				conn_init(&c, ct, 4, NF_IPPROTO_TCP, (uint16_t)port++, 80);
				if (!drive(&c, old)) {
					CHECK(0, "TCP: reach %s", st_code[old]);
					bad++;
					continue;
				}
				now += SEC(5);
				inv0 = stats(ct).invalid;
				pk0 = ent(&c)->packets[dir];
				replied = eflags(&c) & NF_CT_F_SEEN_REPLY;
				s = seg(&c, (int)dir, ix_flags[ix], 0);
				want_st = nw;
				want_ttl = nw < sIV ? linux_to[nw] : 0;
				if (nw == sIV || nw == sIG) {
					want = nw == sIV ? NF_CT_INVALID : NF_CT_ESTABLISHED;
					want_st = old;
					want_ttl = linux_to[old] - 5;	/* not refreshed */
				} else if (nw == sSS && old >= sTW) {
					/* reopened: the old entry is killed, the SYN is NEW */
					want = NF_CT_NEW;
					want_st = old;
					dead = true;
				} else if (ix == 4 && !replied) {
					dead = true;		/* RST the only answer */
				} else if (ix == 0 && old == sSS && !replied) {
					/* a SYN (either way: simultaneous open too)
					 * in SYN_SENT before any reply does not
					 * refresh (Linux: port reuse) */
					want_ttl = linux_to[sSS] - 5;
				} else if (ix == 4) {
					want_ttl = linux_to[sCL];
				}
				ok = s == want && tstate(&c) == want_st &&
				     stats(ct).invalid == inv0 + (want == NF_CT_INVALID) &&
				     ent(&c)->packets[dir] == pk0 + (want == NF_CT_ESTABLISHED) &&
				     (dead ? gone(&c) : live(&c) && ttl(&c) == want_ttl) &&
				     (want != NF_CT_NEW || c.p.idx == NOIDX);
				if (want == NF_CT_ESTABLISHED)
					ok = ok && c.p.idx == c.idx && c.p.dir == dir;
				if (ok && nw == sES && (old == sSR || old == sES))
					ok = eflags(&c) == (NF_CT_F_SEEN_REPLY | NF_CT_F_ASSURED);
				CHECK(ok, "TCP table: %s %s in %s -> %s (Linux %s): got %s, %s, ttl %u%s",
				      dir ? "REPLY" : "ORIG", ix_name[ix], st_code[old],
				      st_code[want_st], st_code[nw], nf_ct_state_name(s),
				      nf_ct_tcp_name(tstate(&c)), ttl(&c), dead ? ", killed" : "");
				bad += !ok;
				cells++;
			}
	CHECK(bad == 0 && cells == 90, "TCP table: %u cells, %u differ from Linux", cells, bad);
	nf_ct_destroy(ct);
}

/* Named sequences, IPv4 and IPv6, with the state and timeout after each
 * packet (after the handshake, checked on its own, when @established). */
struct step {
	uint8_t dir, flags;
	enum nf_ct_state want;
	uint8_t st;
	uint32_t ttl;
	uint8_t fl;		/* SEEN_REPLY | ASSURED afterwards */
};

#define SR_	NF_CT_F_SEEN_REPLY
#define AS_	NF_CT_F_ASSURED
#define EST	NF_CT_ESTABLISHED

static void run_seq(struct nf_ct *ct, const char *name, int fam, uint16_t port,
		    bool established, const struct step *st, unsigned n)
{
	struct conn c;
	unsigned i;

	conn_init(&c, ct, fam, NF_IPPROTO_TCP, port, 443);
	if (established && !drive(&c, sES)) {
		CHECK(0, "IPv%d %s: handshake", fam, name);
		return;
	}
	for (i = 0; i < n; i++) {
		enum nf_ct_state s;

		now += MS(250);
		s = tcp(&c, st[i].dir, st[i].flags);
		CHECK(s == st[i].want && tstate(&c) == st[i].st && ttl(&c) == st[i].ttl &&
		      eflags(&c) == st[i].fl && (s == NF_CT_INVALID || c.p.dir == st[i].dir),
		      "IPv%d %s, step %u (%s flags 0x%02x): %s %s ttl %u flags %u", fam, name,
		      i + 1, st[i].dir ? "reply" : "orig", st[i].flags, nf_ct_state_name(s),
		      nf_ct_tcp_name(tstate(&c)), ttl(&c), eflags(&c));
	}
}

static void test_tcp_sequences(void)
{
	static const struct step handshake[] = {
		{ 0, SYN, NF_CT_NEW, sSS, 120, 0 },
		{ 1, SYN | ACK, EST, sSR, 60, SR_ },
		{ 0, ACK, EST, sES, 432000, SR_ | AS_ },
		{ 0, ACK | PSH, EST, sES, 432000, SR_ | AS_ },
		{ 1, ACK | PSH, EST, sES, 432000, SR_ | AS_ },
	};
	static const struct step client_close[] = {
		{ 0, FIN | ACK, EST, sFW, 120, SR_ | AS_ },
		{ 1, ACK, EST, sCW, 60, SR_ | AS_ },
		{ 1, FIN | ACK, EST, sLA, 30, SR_ | AS_ },
		{ 0, ACK, EST, sTW, 120, SR_ | AS_ },
		{ 0, ACK, EST, sTW, 120, SR_ | AS_ },	/* retransmitted last ACK */
	};
	static const struct step server_close[] = {
		{ 1, FIN | ACK, EST, sFW, 120, SR_ | AS_ },
		{ 0, ACK, EST, sCW, 60, SR_ | AS_ },
		{ 0, FIN | ACK, EST, sLA, 30, SR_ | AS_ },
		{ 1, ACK, EST, sTW, 120, SR_ | AS_ },
	};
	static const struct step simultaneous_close[] = {
		{ 0, FIN | ACK, EST, sFW, 120, SR_ | AS_ },
		{ 1, FIN | ACK, EST, sLA, 30, SR_ | AS_ },
		{ 0, ACK, EST, sTW, 120, SR_ | AS_ },
		{ 1, ACK, EST, sTW, 120, SR_ | AS_ },
	};
	static const struct step reset[] = {
		{ 1, RST | ACK, EST, sCL, 10, SR_ | AS_ },
		{ 0, ACK, EST, sCL, 10, SR_ | AS_ },
		{ 0, RST, EST, sCL, 10, SR_ | AS_ },
	};
	/* simultaneous open: both send a SYN; Linux's SYN_SENT2 */
	static const struct step simultaneous_open[] = {
		{ 0, SYN, NF_CT_NEW, sSS, 120, 0 },
		{ 1, SYN, EST, sS2, 119, SR_ },		/* SYN in SYN_SENT: no refresh */
		{ 1, SYN, EST, sS2, 120, SR_ },		/* retransmitted */
		{ 0, SYN | ACK, EST, sSR, 60, SR_ },
		{ 1, ACK, EST, sES, 432000, SR_ | AS_ },	/* Linux's special case */
		{ 0, ACK, EST, sES, 432000, SR_ | AS_ },
	};
	/* out of state */
	static const struct step out_of_state[] = {
		{ 0, SYN, NF_CT_NEW, sSS, 120, 0 },
		{ 0, ACK, NF_CT_INVALID, sSS, 119, 0 },	/* ACK before SYN/ACK */
		{ 0, FIN | ACK, NF_CT_INVALID, sSS, 119, 0 },
		{ 0, SYN | ACK, NF_CT_INVALID, sSS, 119, 0 },	/* client's SYN/ACK */
		{ 1, FIN | ACK, NF_CT_INVALID, sSS, 119, 0 },
		{ 1, SYN | ACK, EST, sSR, 60, SR_ },
		{ 1, SYN, NF_CT_INVALID, sSR, 59, SR_ },	/* server's SYN in SYN_RECV */
		{ 1, SYN | ACK, EST, sSR, 59, SR_ },	/* retransmitted: ignored */
		{ 0, ACK, EST, sES, 432000, SR_ | AS_ },
		{ 0, SYN | ACK, NF_CT_INVALID, sES, 431999, SR_ | AS_ },
		{ 1, SYN, NF_CT_INVALID, sES, 431999, SR_ | AS_ },
	};
	struct nf_ct *ct = mk(1024, true);
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		run_seq(ct, "handshake", fam, 1001, false, handshake, NF_ARRAY_SIZE(handshake));
		run_seq(ct, "client close", fam, 1002, true, client_close,
			NF_ARRAY_SIZE(client_close));
		run_seq(ct, "server close", fam, 1003, true, server_close,
			NF_ARRAY_SIZE(server_close));
		run_seq(ct, "simultaneous close", fam, 1004, true, simultaneous_close,
			NF_ARRAY_SIZE(simultaneous_close));
		run_seq(ct, "reset", fam, 1005, true, reset, NF_ARRAY_SIZE(reset));
		run_seq(ct, "simultaneous open", fam, 1006, false, simultaneous_open,
			NF_ARRAY_SIZE(simultaneous_open));
		run_seq(ct, "out of state", fam, 1007, false, out_of_state,
			NF_ARRAY_SIZE(out_of_state));
	}
	nf_ct_destroy(ct);
}

/* No entry: what may start one (Linux's tcp_new()), with and without
 * tcp_loose, and nf_ct_set_conf() switching it at run time. */
static void test_tcp_new(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct nf_ct_conf conf;
	struct conn c;
	uint64_t inv;
	int i;
	static const struct { uint8_t flags; enum nf_ct_state loose, strict; } first[] = {
		{ SYN, NF_CT_NEW, NF_CT_NEW },
		{ SYN | ECE | CWR, NF_CT_NEW, NF_CT_NEW },	/* ECN setup */
		{ SYN | URG | PSH, NF_CT_NEW, NF_CT_NEW },
		{ ACK, NF_CT_NEW, NF_CT_INVALID },
		{ ACK | PSH, NF_CT_NEW, NF_CT_INVALID },
		{ ACK | URG, NF_CT_NEW, NF_CT_INVALID },
		{ SYN | ACK, NF_CT_INVALID, NF_CT_INVALID },
		{ FIN | ACK, NF_CT_INVALID, NF_CT_INVALID },
		{ RST, NF_CT_INVALID, NF_CT_INVALID },
		{ RST | ACK, NF_CT_INVALID, NF_CT_INVALID },
	};

	for (i = 0; i < (int)NF_ARRAY_SIZE(first); i++) {
		int loose;

		for (loose = 1; loose >= 0; loose--) {
			enum nf_ct_state want = loose ? first[i].loose : first[i].strict, s;

			nf_ct_conf_default(&conf, 1024);
			conf.tcp_loose = loose;
			nf_ct_set_conf(ct, &conf);
			conn_init(&c, ct, 4, NF_IPPROTO_TCP, (uint16_t)(3000 + 2 * i + loose), 22);
			inv = stats(ct).invalid;
			s = seg(&c, 0, first[i].flags, 0);
			CHECK(s == want && c.p.idx == NOIDX &&
			      stats(ct).invalid == inv + (want == NF_CT_INVALID) && gone(&c),
			      "no entry, flags 0x%02x, tcp_loose %d: %s (Linux: %s)", first[i].flags,
			      loose, nf_ct_state_name(s), nf_ct_state_name(want));
			/* nf_ct_confirm() refuses what cannot start an entry */
			if (want != NF_CT_NEW)
				CHECK(nf_ct_confirm(ct, &c.p, NULL, now) == -EINVAL && gone(&c) &&
				      strstr(nf_last_error(), "do not start") != NULL,
				      "confirm of flags 0x%02x, tcp_loose %d: -EINVAL (%s)",
				      first[i].flags, loose, nf_last_error());
		}
	}

	/* loose pick-up: ESTABLISHED at once, capped at the unack timeout
	 * (300 s) until a reply; the first reply still capped (Linux sets
	 * SEEN_REPLY after the packet); ASSURED with the next one */
	nf_ct_conf_default(&conf, 1024);
	nf_ct_set_conf(ct, &conf);
	conn_init(&c, ct, 6, NF_IPPROTO_TCP, 4000, 22);
	CHECK(tcp(&c, 0, ACK) == NF_CT_NEW && c.confirm_ret == 0 && tstate(&c) == sES &&
	      ttl(&c) == 300 && eflags(&c) == 0, "pick-up: plain ACK -> NEW, ESTABLISHED, 300 s");
	now += SEC(1);
	CHECK(tcp(&c, 0, ACK | PSH) == EST && ttl(&c) == 300 && eflags(&c) == 0,
	      "pick-up: more ORIG data, still 300 s");
	CHECK(tcp(&c, 1, ACK) == EST && ttl(&c) == 300 && eflags(&c) == SR_,
	      "pick-up: first reply, 300 s, SEEN_REPLY");
	CHECK(tcp(&c, 0, ACK) == EST && ttl(&c) == 432000 && eflags(&c) == (SR_ | AS_),
	      "pick-up: then ASSURED, 432000 s");
	/* pick-up by a FIN is not possible (Linux: sNO -> sIV) */
	conn_init(&c, ct, 6, NF_IPPROTO_TCP, 4001, 22);
	CHECK(seg(&c, 0, FIN | ACK, 0) == NF_CT_INVALID, "pick-up: FIN -> INVALID");

	/* tcp_loose off at run time: a live picked-up entry keeps working */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 4002, 22);
	tcp(&c, 0, ACK);
	conf.tcp_loose = false;
	nf_ct_set_conf(ct, &conf);
	CHECK(tcp(&c, 1, ACK) == EST && tcp(&c, 0, ACK) == EST && eflags(&c) == (SR_ | AS_),
	      "tcp_loose switched off: existing picked-up entry still ESTABLISHED");
	nf_ct_destroy(ct);
}

/* Every flag byte: Linux's tcp_valid_flags (PSH, ECE, CWR ignored); an
 * invalid combination is INVALID with or without an entry, counted, and
 * changes nothing. */
static void test_tcp_flags(void)
{
	struct nf_ct *ct = mk(1024, true);
	unsigned f, bad = 0, ninv = 0;
	struct conn c;

	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 5000, 80);
	drive(&c, sES);
	for (f = 0; f < 256; f++) {
		unsigned core = f & ~(unsigned)(PSH | ECE | CWR);
		bool valid = core == SYN || core == (SYN | URG) || core == (SYN | ACK) ||
			     core == RST || core == (RST | ACK) || core == (FIN | ACK) ||
			     core == (FIN | ACK | URG) || core == ACK || core == (ACK | URG);
		int dir;

		if (valid)
			continue;
		ninv++;
		for (dir = 0; dir < 2; dir++) {
			struct nf_ct_entry before = *ent(&c);
			uint64_t inv = stats(ct).invalid;
			struct conn n;
			enum nf_ct_state s = seg(&c, dir, (uint8_t)f, 0), s2;

			conn_init(&n, ct, 4, NF_IPPROTO_TCP, 5001, 80);
			s2 = seg(&n, 0, (uint8_t)f, 0);
			if (s != NF_CT_INVALID || s2 != NF_CT_INVALID ||
			    stats(ct).invalid != inv + 2 ||
			    memcmp(&before, ent(&c), sizeof(before)) != 0 || !gone(&n) ||
			    c.p.tcp_flags != f) {
				CHECK(0, "invalid TCP flags 0x%02x dir %d: %s / no entry %s", f, dir,
				      nf_ct_state_name(s), nf_ct_state_name(s2));
				bad++;
			}
		}
	}
	/* 32 combinations of FIN SYN RST ACK URG, 9 valid, each with any
	 * of PSH ECE CWR: 256 - 9 * 8 = 184 invalid bytes */
	CHECK(bad == 0 && ninv == 184, "TCP flags: %u invalid flag bytes all INVALID (%u wrong)",
	      ninv, bad);
	CHECK(tstate(&c) == sES && eflags(&c) == (SR_ | AS_), "entry unchanged by invalid flags");
	/* named ones, the task's list */
	{
		static const uint8_t named[] = { SYN | FIN, 0, SYN | RST, FIN, SYN | FIN | ACK,
						 RST | FIN, PSH, URG };
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(named); i++) {
			struct conn n;

			conn_init(&n, ct, 6, NF_IPPROTO_TCP, (uint16_t)(6000 + i), 80);
			CHECK(seg(&n, 0, named[i], 0) == NF_CT_INVALID && gone(&n) &&
			      n.p.t.family == 6 && n.p.t.sport == htons(6000 + i),
			      "flags 0x%02x -> INVALID (tuple still filled in)", named[i]);
		}
	}
	nf_ct_destroy(ct);
}

/* Reopening from TIME_WAIT / CLOSE (Linux kills the entry and the SYN is
 * NEW), the RST as the only answer, re-synchronisation, the challenge
 * ACK, the retransmitted SYN. */
static void test_tcp_special(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct exp_log log = { 0 };
	struct conn c, d;
	uint32_t old;

	/* SYN in TIME_WAIT: the old entry is killed at once, the SYN is NEW
	 * and starts a fresh entry; the sweep reports the old one */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7000, 80);
	drive(&c, sTW);
	old = c.idx;
	now += SEC(3);
	CHECK(seg(&c, 0, SYN, 0) == NF_CT_NEW && gone(&c) && c.p.idx == NOIDX,
	      "SYN in TIME_WAIT: NEW, old entry dead at once");
	CHECK(nf_ct_entry(ct, old)->tcp_state == sTW &&
	      nf_ct_entry(ct, old)->t[NF_CT_ORIG].family == 4,
	      "killed entry still readable until the sweep");
	CHECK(confirm(&c) == 0 && c.idx != old && tstate(&c) == sSS && ttl(&c) == 120 &&
	      live(&c), "SYN in TIME_WAIT: new entry SYN_SENT, 120 s");
	CHECK(tcp(&c, 1, SYN | ACK) == EST && tcp(&c, 0, ACK) == EST && tstate(&c) == sES,
	      "reopened connection establishes");
	nf_ct_expire(ct, now, on_expire, &log);
	{
		unsigned i;

		for (i = 0; i < 200; i++)
			nf_ct_expire(ct, now, on_expire, &log);
	}
	CHECK(log.n == 1 && log.bad == 0 && nf_ct_entry(ct, old)->t[0].family == 0 && live(&c),
	      "sweep passes the killed entry to the callback once (%llu), new one lives",
	      (unsigned long long)log.n);

	/* SYN from the server in TIME_WAIT: also reopens (roles switched) */
	conn_init(&c, ct, 6, NF_IPPROTO_TCP, 7001, 80);
	drive(&c, sTW);
	CHECK(seg(&c, 1, SYN, 0) == NF_CT_NEW && gone(&c) && confirm(&c) == 0 &&
	      memcmp(&ent(&c)->t[NF_CT_ORIG], &c.p.t, sizeof(c.p.t)) == 0 &&
	      ent(&c)->t[NF_CT_ORIG].sport == htons(80) && tstate(&c) == sSS,
	      "reply-direction SYN in TIME_WAIT: NEW entry from the server's side");

	/* CLOSE after our own RST: a SYN from the same side reopens */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7002, 80);
	drive(&c, sCL);
	CHECK(seg(&c, 0, SYN, 0) == NF_CT_NEW && gone(&c) && confirm(&c) == 0,
	      "SYN after own RST (CLOSE): NEW");
	/* CLOSE after the server's RST: the client's SYN is ignored (Linux:
	 * no FIN seen, last RST from the other side) */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7003, 80);
	drive(&c, sES);
	CHECK(tcp(&c, 1, RST) == EST && tstate(&c) == sCL && ttl(&c) == 10, "server RST -> CLOSE");
	now += SEC(2);
	CHECK(seg(&c, 0, SYN, 0) == EST && tstate(&c) == sCL && ttl(&c) == 8 && live(&c),
	      "client SYN after server RST: ignored (accepted, no change, no refresh)");

	/* the only answer to a SYN is a RST: the entry is gone at once */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7004, 80);
	tcp(&c, 0, SYN);
	CHECK(tcp(&c, 1, RST | ACK) == EST && c.p.dir == NF_CT_REPLY && tstate(&c) == sCL &&
	      gone(&c), "RST answering a SYN: ESTABLISHED (accepted), entry dead at once");
	CHECK(seg(&c, 0, SYN, 0) == NF_CT_NEW, "the next SYN is NEW");

	/* retransmitted SYN does not refresh (Linux: port reuse must not keep
	 * the entry alive) */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7005, 80);
	tcp(&c, 0, SYN);
	now += SEC(100);
	CHECK(tcp(&c, 0, SYN) == EST && ttl(&c) == 20 && ent(&c)->packets[0] == 2,
	      "retransmitted SYN: accepted, counted, timeout not refreshed (20 s left)");
	now += SEC(20);
	CHECK(gone(&c) && seg(&c, 0, SYN, 0) == NF_CT_NEW, "SYN_SENT entry dies after 120 s");

	/* out of sync: a SYN in ESTABLISHED is ignored, but a SYN/ACK that
	 * acknowledges it re-synchronises (SYN_RECV), then ESTABLISHED */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7006, 80);
	drive(&c, sES);
	c.seq[0] = 99999;		/* the client restarted */
	CHECK(tcp(&c, 0, SYN) == EST && tstate(&c) == sES, "SYN in ESTABLISHED: ignored");
	CHECK(tcp(&c, 1, SYN | ACK) == EST && tstate(&c) == sSR && ttl(&c) == 60,
	      "SYN/ACK acknowledging the ignored SYN: re-synchronised to SYN_RECV");
	CHECK(tcp(&c, 0, ACK) == EST && tstate(&c) == sES, "then ESTABLISHED");
	/* ... but not one that acknowledges something else */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7007, 80);
	drive(&c, sES);
	tcp(&c, 0, SYN);
	c.seq[0] += 5;
	CHECK(tcp(&c, 1, SYN | ACK) == EST && tstate(&c) == sES,
	      "SYN/ACK with another ack number: ignored, still ESTABLISHED");

	/* after re-synchronising a closing connection, the old close no
	 * longer counts (Linux resets both sides' flags): a later RST from
	 * the server and a SYN from the client is ignored, not a reopen */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7008, 80);
	drive(&c, sFW);
	c.seq[0] = 5000000;
	tcp(&c, 0, SYN);
	CHECK(tcp(&c, 1, SYN | ACK) == EST && tstate(&c) == sSR, "FIN_WAIT: re-synchronised");
	tcp(&c, 0, ACK);
	CHECK(tcp(&c, 1, RST) == EST && tstate(&c) == sCL, "then server RST: CLOSE");
	CHECK(seg(&c, 0, SYN, 0) == EST && tstate(&c) == sCL && live(&c),
	      "client SYN in CLOSE after re-sync: ignored (the old FIN was forgotten)");

	/* RFC 5961: a SYN in LAST_ACK draws a challenge ACK, which must not
	 * be taken for the last ACK */
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 7009, 80);
	drive(&c, sLA);
	CHECK(tcp(&c, 0, SYN) == EST && tstate(&c) == sLA, "SYN in LAST_ACK: ignored");
	CHECK(tcp(&c, 1, ACK) == EST && tstate(&c) == sLA && ttl(&c) == 30,
	      "challenge ACK: LAST_ACK kept");
	CHECK(tcp(&c, 1, ACK) == EST && tstate(&c) == sTW && ttl(&c) == 120,
	      "the next ACK: TIME_WAIT");
	/* without the SYN, the ACK is the last ACK */
	conn_init(&d, ct, 4, NF_IPPROTO_TCP, 7010, 80);
	drive(&d, sLA);
	CHECK(tcp(&d, 1, ACK) == EST && tstate(&d) == sTW, "LAST_ACK + ACK: TIME_WAIT");
	nf_ct_destroy(ct);
}

/* Timeouts are the configuration's, and Linux's by default. */
static void test_tcp_timeouts(void)
{
	struct nf_ct_conf conf;
	struct nf_ct *ct;
	struct conn c;
	unsigned st;

	nf_ct_conf_default(&conf, 64);
	CHECK(conf.max == 64 && conf.tcp_loose && conf.to.tcp_unack == 300 && conf.to.udp == 30 &&
	      conf.to.udp_stream == 120 && conf.to.icmp == 30 && conf.to.generic == 600,
	      "defaults: loose, unack 300, UDP 30/120, ICMP 30, generic 600");
	for (st = sSS; st <= sS2; st++)
		CHECK(conf.to.tcp[st] == linux_to[st], "default timeout %s = %u s",
		      nf_ct_tcp_name(st), linux_to[st]);
	/* other timeouts, set at run time, apply to the next packet */
	ct = mk(64, true);
	conn_init(&c, ct, 4, NF_IPPROTO_TCP, 8000, 80);
	drive(&c, sES);
	for (st = sSS; st <= sS2; st++)
		conf.to.tcp[st] = 1000 + st;
	nf_ct_set_conf(ct, &conf);
	CHECK(ttl(&c) == 432000, "set_conf does not touch existing timeouts");
	tcp(&c, 0, ACK);
	CHECK(ttl(&c) == 1000 + sES, "set_conf: new ESTABLISHED timeout on the next packet");
	tcp(&c, 0, FIN | ACK);
	CHECK(ttl(&c) == 1000 + sFW, "set_conf: new FIN_WAIT timeout");
	/* set_conf caps at NF_CT_TIMEOUT_MAX */
	conf.to.tcp[sLA] = 0xffffffffu;
	nf_ct_set_conf(ct, &conf);
	tcp(&c, 1, FIN | ACK);
	CHECK(tstate(&c) == sLA && ttl(&c) == NF_CT_TIMEOUT_MAX,
	      "set_conf caps a timeout at NF_CT_TIMEOUT_MAX (%u s)", ttl(&c));
	nf_ct_destroy(ct);
}

/* ---- UDP ---- */

static void test_udp(void)
{
	struct nf_ct *ct = mk(1024, true);
	uint64_t t0;
	struct conn u;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		conn_init(&u, ct, fam, NF_IPPROTO_UDP, 5000, 53);
		t0 = now;
		CHECK(dgram(&u, 0, 20) == NF_CT_NEW && u.p.idx == NOIDX && gone(&u),
		      "IPv%d UDP first datagram: NEW, nothing inserted", fam);
		CHECK(confirm(&u) == 0 && live(&u) && ttl(&u) == 30 && eflags(&u) == 0 &&
		      ent(&u)->packets[0] == 1 && ent(&u)->bytes[0] == u.fr.h.l3_len &&
		      ent(&u)->packets[1] == 0, "IPv%d UDP confirmed: 30 s, counted once", fam);
		now = t0 + SEC(1);
		CHECK(dgram(&u, 0, 20) == EST && u.p.dir == 0 && ttl(&u) == 30 && eflags(&u) == 0,
		      "IPv%d UDP second datagram: ESTABLISHED (not replied), 30 s", fam);
		now = t0 + MS(1500);
		CHECK(dgram(&u, 1, 100) == EST && u.p.dir == 1 && u.p.idx == u.idx &&
		      ttl(&u) == 30 && eflags(&u) == SR_ && ent(&u)->packets[1] == 1 &&
		      ent(&u)->bytes[1] == u.fr.h.l3_len,
		      "IPv%d UDP reply at 1.5 s: ESTABLISHED, SEEN_REPLY, still 30 s", fam);
		now = t0 + SEC(2);
		CHECK(dgram(&u, 0, 20) == EST && ttl(&u) == 30 && eflags(&u) == SR_,
		      "IPv%d UDP at exactly 2 s: not a stream yet (Linux: time_after)", fam);
		now = t0 + MS(2001);
		CHECK(dgram(&u, 0, 20) == EST && ttl(&u) == 120 && eflags(&u) == (SR_ | AS_),
		      "IPv%d UDP replied and older than 2 s: stream, 120 s, ASSURED", fam);
		now += SEC(100);
		CHECK(dgram(&u, 1, 20) == EST && ttl(&u) == 120, "IPv%d UDP stream refreshed", fam);
		now += SEC(120);
		CHECK(gone(&u) && dgram(&u, 0, 20) == NF_CT_NEW,
		      "IPv%d UDP stream dies after 120 s silent", fam);

		/* never answered: 30 s however long it lasts */
		conn_init(&u, ct, fam, NF_IPPROTO_UDP, 5001, 53);
		dgram(&u, 0, 0);
		confirm(&u);
		now += SEC(25);
		dgram(&u, 0, 0);
		now += SEC(25);
		CHECK(dgram(&u, 0, 0) == EST && ttl(&u) == 30 && eflags(&u) == 0 &&
		      ent(&u)->packets[0] == 3, "IPv%d UDP unreplied after 50 s: 30 s left", fam);
		now += SEC(30);
		CHECK(gone(&u), "IPv%d UDP unreplied dies 30 s after its last datagram", fam);

		/* replied quickly but over before 2 s: unreplied timeout */
		conn_init(&u, ct, fam, NF_IPPROTO_UDP, 5002, 53);
		dgram(&u, 0, 0);
		confirm(&u);
		now += MS(100);
		dgram(&u, 1, 0);
		now += MS(1000);
		CHECK(dgram(&u, 0, 0) == EST && ttl(&u) == 30 && eflags(&u) == SR_,
		      "IPv%d UDP DNS-like exchange within 2 s: 30 s, not ASSURED", fam);
	}

	/* the length field: Linux's udp_error() */
	conn_init(&u, ct, 4, NF_IPPROTO_UDP, 5003, 53);
	dgram(&u, 0, 20);
	put16(u.fr.b + 14 + 20 + 4, 29);		/* 1 more than there is */
	CHECK(nf_ct_in(ct, u.fr.b, &u.fr.h, now, &u.p) == NF_CT_INVALID,
	      "UDP length past the packet: INVALID");
	put16(u.fr.b + 14 + 20 + 4, 7);
	CHECK(nf_ct_in(ct, u.fr.b, &u.fr.h, now, &u.p) == NF_CT_INVALID,
	      "UDP length < 8: INVALID");
	put16(u.fr.b + 14 + 20 + 4, 8);			/* shorter than the packet: fine */
	CHECK(nf_ct_in(ct, u.fr.b, &u.fr.h, now, &u.p) == NF_CT_NEW, "UDP length 8: NEW");
	nf_ct_destroy(ct);
}

/* ---- ICMP / ICMPv6 queries ---- */

static void test_icmp_queries(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct conn e, o;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		uint8_t proto = fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6;
		uint8_t req = fam == 4 ? 8 : 128, rep = fam == 4 ? 0 : 129;
		const char *name = fam == 4 ? "ICMP" : "ICMPv6";
		struct nf_ct_tuple t;

		conn_init(&e, ct, fam, proto, 0x1234, 0);
		CHECK(query(&e, 0, req) == NF_CT_NEW && e.p.t.sport == htons(0x1234) &&
		      e.p.t.dport == 0 && e.p.t.proto == proto, "%s echo request: NEW, id tuple", name);
		CHECK(confirm(&e) == 0 && ttl(&e) == 30, "%s echo confirmed: 30 s", name);
		t = conn_tuple(&e, 1);
		CHECK(memcmp(&ent(&e)->t[NF_CT_REPLY], &t, sizeof(t)) == 0,
		      "%s reply tuple: addresses swapped, same identifier", name);
		now += SEC(1);
		CHECK(query(&e, 1, rep) == EST && e.p.dir == NF_CT_REPLY && e.p.idx == e.idx &&
		      ttl(&e) == 30 && eflags(&e) == SR_, "%s echo reply: ESTABLISHED by identifier",
		      name);
		CHECK(query(&e, 0, req) == EST && e.p.dir == NF_CT_ORIG, "%s next request: ESTABLISHED",
		      name);
		conn_init(&o, ct, fam, proto, 0x9999, 0);
		CHECK(query(&o, 1, rep) == NF_CT_INVALID && gone(&o),
		      "%s echo reply of another identifier: INVALID (no entry, Linux)", name);
		CHECK(query(&o, 0, req) == NF_CT_NEW, "%s echo request of another identifier: NEW",
		      name);
		CHECK(query(&e, 1, req) == NF_CT_INVALID,
		      "%s request in the entry's reply direction: INVALID (see nf_ct.c)", name);
		now += SEC(30);
		CHECK(gone(&e) && query(&e, 0, req) == NF_CT_NEW, "%s entry dies after 30 s", name);
	}
	/* the other ICMP query pairs */
	{
		static const uint8_t pairs4[][2] = { { 13, 14 }, { 15, 16 }, { 17, 18 } };
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(pairs4); i++) {
			conn_init(&e, ct, 4, NF_IPPROTO_ICMP, (uint16_t)(100 + i), 0);
			CHECK(accept_pkt(&e, query(&e, 0, pairs4[i][0])) == NF_CT_NEW &&
			      e.confirm_ret == 0 && query(&e, 1, pairs4[i][1]) == EST,
			      "ICMP type %u / %u tracked", pairs4[i][0], pairs4[i][1]);
		}
		conn_init(&e, ct, 6, NF_IPPROTO_ICMPV6, 200, 0);
		CHECK(accept_pkt(&e, query(&e, 0, 139)) == NF_CT_NEW && e.confirm_ret == 0 &&
		      query(&e, 1, 140) == EST, "ICMPv6 node information 139 / 140 tracked");
	}
	/* types that are neither queries nor errors */
	{
		static const struct { int fam; uint8_t type; enum nf_ct_state want; } t[] = {
			{ 4, 9, NF_CT_INVALID },	/* router advertisement */
			{ 4, 10, NF_CT_INVALID },
			{ 4, 19, NF_CT_INVALID },	/* > NR_ICMP_TYPES */
			{ 4, 255, NF_CT_INVALID },
			{ 6, 130, NF_CT_UNTRACKED },	/* MLD */
			{ 6, 131, NF_CT_UNTRACKED },
			{ 6, 132, NF_CT_UNTRACKED },
			{ 6, 133, NF_CT_UNTRACKED },	/* ND */
			{ 6, 134, NF_CT_UNTRACKED },
			{ 6, 135, NF_CT_UNTRACKED },
			{ 6, 136, NF_CT_UNTRACKED },
			{ 6, 143, NF_CT_UNTRACKED },	/* MLDv2 */
			{ 6, 151, NF_CT_UNTRACKED },	/* multicast router discovery */
			{ 6, 152, NF_CT_UNTRACKED },
			{ 6, 141, NF_CT_INVALID },
			{ 6, 200, NF_CT_INVALID },
			{ 6, 255, NF_CT_INVALID },
		};
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(t); i++) {
			uint64_t inv = stats(ct).invalid;
			enum nf_ct_state s;

			conn_init(&e, ct, t[i].fam, t[i].fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6,
				  7, 0);
			s = query(&e, 0, t[i].type);
			CHECK(s == t[i].want && stats(ct).invalid == inv + (s == NF_CT_INVALID),
			      "ICMPv%s type %u: %s", t[i].fam == 4 ? "4" : "6", t[i].type,
			      nf_ct_state_name(s));
		}
	}
	/* ICMP in IPv6, ICMPv6 in IPv4 */
	conn_init(&e, ct, 6, NF_IPPROTO_ICMP, 1, 0);
	CHECK(query(&e, 0, 8) == NF_CT_INVALID, "ICMP (1) over IPv6: INVALID");
	conn_init(&e, ct, 4, NF_IPPROTO_ICMPV6, 1, 0);
	CHECK(query(&e, 0, 128) == NF_CT_INVALID, "ICMPv6 (58) over IPv4: INVALID");
	nf_ct_destroy(ct);
}

/* ---- ICMP / ICMPv6 errors ---- */

/* An error of @type/@code from @src to @dst quoting @qlen bytes of @q;
 * the frame holds @qfull bytes of it (the rest lies past the IP packet,
 * where nothing may be read). */
static void icmp_error(struct frame *fr, int fam, const uint8_t *src, const uint8_t *dst,
		       uint8_t type, uint8_t code, const uint8_t *q, uint32_t qlen,
		       uint32_t qfull)
{
	uint8_t l4[1600];

	memset(l4, 0, 8);
	l4[0] = type;
	l4[1] = code;
	memcpy(l4 + 8, q, qfull);
	ip_frame(fr, fam, src, dst, fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6, l4, 8 + qfull);
	if (qlen < qfull) {
		if (fam == 4)
			put16(fr->b + 14 + 2, (uint16_t)(20 + 8 + qlen));
		else
			put16(fr->b + 14 + 4, (uint16_t)(8 + qlen));
		reparse(fr);
	}
}

/* The IP packet of @c going @dir (UDP / TCP with 32 bytes of payload,
 * ICMP query of its type @itype) at @q; its length. */
static uint32_t quote(uint8_t *q, const struct conn *c, int dir, uint8_t itype)
{
	uint8_t l4[128];
	uint32_t n;

	if (c->proto == NF_IPPROTO_TCP)
		n = tcp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, 1, 2, ACK, 32);
	else if (c->proto == NF_IPPROTO_ICMP || c->proto == NF_IPPROTO_ICMPV6)
		n = icmp_hdr(l4, itype, 0, c->pa) + 32;
	else
		n = udp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, 32);
	return ip_packet(q, c->fam, dir ? c->b : c->a, dir ? c->a : c->b, c->proto, l4, n);
}

static enum nf_ct_state err_in(struct nf_ct *ct, struct frame *fr, struct nf_ct_pkt *p)
{
	if (fr->perr != NF_PERR_OK) {
		CHECK(0, "error frame parses (%s)", nf_parse_err_name(fr->perr));
		return NF_CT_UNTRACKED;
	}
	return nf_ct_in(ct, fr->b, &fr->h, now, p);
}

/* RELATED to @c's entry, found going @dir, quoting @c's tuple @qdir. */
static bool related(const struct nf_ct_pkt *p, enum nf_ct_state s, const struct conn *c,
		    int dir, int qdir)
{
	struct nf_ct_tuple t = conn_tuple(c, qdir);

	return s == NF_CT_RELATED && p->idx == c->idx && p->dir == dir && p->icmp_error == 1 &&
	       memcmp(&p->inner, &t, sizeof(t)) == 0;
}

static void test_icmp_errors(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct conn u, t, e, x;
	struct nf_ct_pkt p;
	struct frame fr;
	uint8_t q[256];
	uint32_t ql, n, bad;
	uint64_t pk;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		uint8_t unreach = fam == 4 ? 3 : 1, port = fam == 4 ? 3 : 4;
		uint8_t big = fam == 4 ? 3 : 2, bigc = fam == 4 ? 4 : 0;
		uint8_t texc = fam == 4 ? 11 : 3;
		uint8_t eproto = fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6;
		uint32_t hl = fam == 4 ? 20 : 40;
		const char *v = fam == 4 ? "ICMP" : "ICMPv6";

		conn_init(&u, ct, fam, NF_IPPROTO_UDP, 5000, 53);
		accept_pkt(&u, dgram(&u, 0, 10));
		conn_init(&t, ct, fam, NF_IPPROTO_TCP, 40000, 80);
		drive(&t, sES);
		conn_init(&e, ct, fam, eproto, 0x4321, 0);
		accept_pkt(&e, query(&e, 0, fam == 4 ? 8 : 128));

		/* port unreachable from the server, about the client's datagram */
		ql = quote(q, &u, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, A), unreach, port, q, ql, ql);
		pk = ent(&u)->packets[1];
		CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG) &&
		      ent(&u)->packets[1] == pk + 1 && p.t.proto == eproto &&
		      memcmp(p.t.src, ADDR(fam, B), fam == 4 ? 4 : 16) == 0,
		      "%s port unreachable about a tracked UDP flow: RELATED, reply way, inner "
		      "tuple, counted", v);
		/* from a router on the way */
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), texc, 0, q, ql, ql);
		CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
		      "%s time exceeded from a router: RELATED", v);
		/* to someone else than the flow's end (Linux: outer daddr mismatch) */
		icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, C), unreach, port, q, ql, ql);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID && p.icmp_error == 1,
		      "%s error sent to another host than the flow's: INVALID", v);
		/* the client's error about the server's datagram: ORIG way */
		ql = quote(q, &u, 1, 0);
		icmp_error(&fr, fam, ADDR(fam, A), ADDR(fam, B), unreach, port, q, ql, ql);
		CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_ORIG, NF_CT_REPLY),
		      "%s error from the client about a reply: RELATED, original way", v);
		/* an unknown flow */
		conn_init(&x, ct, fam, NF_IPPROTO_UDP, 5999, 53);
		ql = quote(q, &x, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, A), unreach, port, q, ql, ql);
		pk = stats(ct).invalid;
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID && stats(ct).invalid == pk + 1 &&
		      p.idx == NOIDX, "%s error about an unknown flow: INVALID, counted", v);
		/* TCP: packet too big / fragmentation needed */
		ql = quote(q, &t, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), big, bigc, q, hl + 8, hl + 8);
		CHECK(related(&p, err_in(ct, &fr, &p), &t, NF_CT_REPLY, NF_CT_ORIG),
		      "%s packet too big about a TCP connection (8 bytes of TCP): RELATED", v);
		/* an echo request that did not make it */
		ql = quote(q, &e, 0, fam == 4 ? 8 : 128);
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), texc, 0, q, ql, ql);
		CHECK(related(&p, err_in(ct, &fr, &p), &e, NF_CT_REPLY, NF_CT_ORIG),
		      "%s time exceeded about an echo request: RELATED", v);
		conn_init(&x, ct, fam, eproto, 0x4322, 0);
		ql = quote(q, &x, 0, fam == 4 ? 8 : 128);
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), texc, 0, q, ql, ql);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID,
		      "%s error about an echo of another identifier: INVALID", v);
		/* an error about an error: not trackable */
		ql = quote(q, &u, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, A), ADDR(fam, B), unreach, port, q, ql, ql);
		n = ip_packet(q, fam, ADDR(fam, A), ADDR(fam, B), eproto, fr.b + 14 + hl, 8 + ql);
		icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, A), unreach, port, q, n, n);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "%s error quoting an error: INVALID", v);

		/* truncated quotes: the tuple needs the IP header and 4 bytes
		 * of ports (Linux reads no more, also for TCP); the rest of
		 * the quote lies in the frame past the IP packet, where a
		 * read would find it */
		ql = quote(q, &u, 0, 0);
		bad = 0;
		for (n = 0; n <= ql; n++) {
			enum nf_ct_state s;

			icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, A), unreach, port, q, n, ql);
			s = err_in(ct, &fr, &p);
			if (n >= hl + 4 ? !related(&p, s, &u, NF_CT_REPLY, NF_CT_ORIG)
					: s != NF_CT_INVALID) {
				CHECK(0, "%s error quoting %u bytes: %s", v, n, nf_ct_state_name(s));
				bad++;
			}
		}
		CHECK(bad == 0, "%s errors quoting 0..%u bytes: INVALID below %u, RELATED from it",
		      v, ql, hl + 4);
		/* the same for a quoted echo: 8 bytes of ICMP */
		ql = quote(q, &e, 0, fam == 4 ? 8 : 128);
		bad = 0;
		for (n = hl; n <= hl + 8; n++) {
			enum nf_ct_state s;

			icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), texc, 0, q, n, ql);
			s = err_in(ct, &fr, &p);
			bad += n >= hl + 8 ? !related(&p, s, &e, NF_CT_REPLY, NF_CT_ORIG)
					   : s != NF_CT_INVALID;
		}
		CHECK(bad == 0, "%s errors quoting an echo: RELATED only with all 8 ICMP bytes", v);
	}

	/* IPv4 quote details */
	conn_init(&u, ct, 4, NF_IPPROTO_UDP, 5100, 53);
	accept_pkt(&u, dgram(&u, 0, 10));
	ql = quote(q, &u, 0, 0);
	{
		uint8_t q2[256];
		static const uint8_t errs[] = { 3, 4, 5, 11, 12 };
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(errs); i++) {
			icmp_error(&fr, 4, R4, A4, errs[i], 0, q, ql, ql);
			CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
			      "ICMP error type %u: RELATED", errs[i]);
		}
		/* options in the quoted header */
		memcpy(q2, q, 20);
		q2[0] = 0x46;
		memset(q2 + 20, 1, 4);			/* NOPs */
		memcpy(q2 + 24, q + 20, ql - 20);
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, 28, ql + 4);
		CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
		      "quoted IPv4 header with options: RELATED");
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, 27, ql + 4);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID,
		      "quoted IPv4 header with options, ports cut: INVALID");
		q2[0] = 0x4f;				/* 60 bytes of header: past the quote */
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, 40, ql + 4);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted IHL past the quote: INVALID");
		memcpy(q2, q, ql);
		q2[0] = 0x44;
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, ql, ql);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted IHL 4: INVALID");
		q2[0] = 0x65;
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, ql, ql);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted version 6 in ICMP: INVALID");
		memcpy(q2, q, ql);
		q2[6] = 0x20;				/* MF: a first fragment */
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, ql, ql);
		CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
		      "quoted first fragment: RELATED");
		q2[7] = 0x01;				/* offset 8: a later fragment */
		icmp_error(&fr, 4, R4, A4, 11, 0, q2, ql, ql);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted later fragment: INVALID");
	}

	/* IPv6 quote details: extension headers */
	conn_init(&u, ct, 6, NF_IPPROTO_UDP, 5200, 53);
	accept_pkt(&u, dgram(&u, 0, 10));
	{
		uint8_t l4[128], q6[256];
		static const struct { uint8_t nh, len, fo; bool ok; const char *what; } ext[] = {
			{ NF_IPPROTO_DSTOPTS, 8, 0, true, "destination options" },
			{ NF_IPPROTO_HOPOPTS, 16, 0, true, "hop-by-hop (16 bytes)" },
			{ NF_IPPROTO_ROUTING, 8, 0, true, "routing header" },
			{ NF_IPPROTO_FRAGMENT, 8, 0, true, "fragment header, offset 0" },
			{ NF_IPPROTO_FRAGMENT, 8, 1, false, "fragment header, offset 8" },
			{ NF_IPPROTO_AH, 12, 0, true, "AH" },
		};
		unsigned i, ul = 16;

		for (i = 0; i < NF_ARRAY_SIZE(ext); i++) {
			uint8_t *x = l4;
			uint32_t qn;

			memset(x, 0, 64);
			udp_hdr(x + ext[i].len, 5200, 53, 8);
			x[0] = NF_IPPROTO_UDP;
			if (ext[i].nh == NF_IPPROTO_AH)
				x[1] = 1;			/* (1 + 2) * 4 = 12 */
			else if (ext[i].nh != NF_IPPROTO_FRAGMENT)
				x[1] = (uint8_t)(ext[i].len / 8 - 1);
			x[3] = (uint8_t)(ext[i].fo << 3);
			qn = ip_packet(q6, 6, A6, B6, ext[i].nh, x, ext[i].len + ul);
			icmp_error(&fr, 6, R6, A6, 1, 0, q6, qn, qn);
			if (ext[i].ok)
				CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
				      "quoted IPv6 with %s: RELATED", ext[i].what);
			else
				CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID,
				      "quoted IPv6 with %s: INVALID", ext[i].what);
			/* the extension header cut: INVALID */
			icmp_error(&fr, 6, R6, A6, 1, 0, q6, 40 + ext[i].len - 1, qn);
			CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID,
			      "quoted IPv6 with %s cut short: INVALID", ext[i].what);
		}
		{
			uint32_t qn;

			memset(l4, 0, 8);
			qn = ip_packet(q6, 6, A6, B6, NF_IPPROTO_NONE, l4, 8);
			icmp_error(&fr, 6, R6, A6, 1, 0, q6, qn, qn);
			CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted next header NONE: INVALID");
			ql = quote(q6, &u, 0, 0);
			q6[0] = 0x45;
			icmp_error(&fr, 6, R6, A6, 1, 0, q6, ql, ql);
			CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "quoted IPv4 in ICMPv6: INVALID");
			ql = quote(q6, &u, 0, 0);
			icmp_error(&fr, 6, R6, A6, 0, 0, q6, ql, ql);
			CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
			      "ICMPv6 type 0 (< 128: an error for Linux): RELATED");
			icmp_error(&fr, 6, R6, A6, 4, 0, q6, ql, ql);
			CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
			      "ICMPv6 parameter problem: RELATED");
		}
	}

	/* ICMPv6 redirect (Linux 6.2+): code 0, hop limit 255, link-local
	 * source, a redirected-header option first */
	{
		uint8_t rd[256];
		uint32_t rl;
		static const struct { const char *what; int hop, code, src_ll, opt, olen;
				      enum nf_ct_state want; } r[] = {
			{ "valid", 255, 0, 1, 4, -1, NF_CT_RELATED },
			{ "hop limit 64", 64, 0, 1, 4, -1, NF_CT_INVALID },
			{ "global source", 255, 0, 0, 4, -1, NF_CT_INVALID },
			{ "code 1", 255, 1, 1, 4, -1, NF_CT_INVALID },
			{ "target link-layer option first", 255, 0, 1, 2, -1, NF_CT_INVALID },
			{ "option length 0", 255, 0, 1, 4, 0, NF_CT_INVALID },
		};
		unsigned i;

		ql = quote(q, &u, 0, 0);
		for (i = 0; i < NF_ARRAY_SIZE(r); i++) {
			memset(rd, 0, 48);
			rd[0] = 137;
			rd[1] = (uint8_t)r[i].code;
			memcpy(rd + 8, R6, 16);			/* target */
			memcpy(rd + 24, B6, 16);		/* destination */
			rd[40] = (uint8_t)r[i].opt;
			rd[41] = (uint8_t)(r[i].olen >= 0 ? r[i].olen : (int)((8 + ql + 7) / 8));
			memcpy(rd + 48, q, ql);
			rl = 48 + ql;
			ip_frame(&fr, 6, r[i].src_ll ? LL6 : R6, A6, NF_IPPROTO_ICMPV6, rd, rl);
			fr.b[14 + 7] = (uint8_t)r[i].hop;
			reparse(&fr);
			if (r[i].want == NF_CT_RELATED)
				CHECK(related(&p, err_in(ct, &fr, &p), &u, NF_CT_REPLY, NF_CT_ORIG),
				      "ICMPv6 redirect, %s: RELATED", r[i].what);
			else
				CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID,
				      "ICMPv6 redirect, %s: INVALID", r[i].what);
		}
		/* too short for the option */
		ip_frame(&fr, 6, LL6, A6, NF_IPPROTO_ICMPV6, rd, 41);
		fr.b[14 + 7] = 255;
		reparse(&fr);
		CHECK(err_in(ct, &fr, &p) == NF_CT_INVALID, "ICMPv6 redirect of 41 bytes: INVALID");
	}
	nf_ct_destroy(ct);
}

/* ---- other protocols, frames that are not tracked ---- */

static void test_other_protocols(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct nf_ct_pkt p;
	struct frame fr;
	struct conn g;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		static const uint8_t gen[] = { 47, 50, 103 };	/* GRE, ESP, PIM */
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(gen); i++) {
			conn_init(&g, ct, fam, gen[i], 0, 0);
			CHECK(accept_pkt(&g, dgram(&g, 0, 20)) == NF_CT_NEW && g.confirm_ret == 0 &&
			      g.p.t.sport == 0 && g.p.t.dport == 0 && ttl(&g) == 600 &&
			      dgram(&g, 1, 20) == EST && g.p.dir == NF_CT_REPLY && live(&g),
			      "IPv%d protocol %u: by addresses, 600 s, reply ESTABLISHED", fam, gen[i]);
		}
		/* SCTP, DCCP: by ports (12-byte common headers) */
		conn_init(&g, ct, fam, 132, 2905, 3868);
		CHECK(accept_pkt(&g, dgram(&g, 0, 4)) == NF_CT_NEW && g.p.t.sport == htons(2905) &&
		      g.p.t.dport == htons(3868) && ttl(&g) == 600 && dgram(&g, 1, 4) == EST,
		      "IPv%d SCTP: by ports, generic timeout", fam);
		CHECK(dgram(&g, 0, 3) == NF_CT_INVALID, "IPv%d SCTP of 11 bytes: INVALID", fam);
		conn_init(&g, ct, fam, 33, 5004, 5005);
		CHECK(accept_pkt(&g, dgram(&g, 0, 8)) == NF_CT_NEW && dgram(&g, 1, 8) == EST,
		      "IPv%d DCCP: by ports", fam);
	}

	/* UDP-Lite: Linux's udplite_error(), then UDP's timeouts */
	conn_init(&g, ct, 4, 136, 7000, 7001);
	{
		static const struct { uint16_t cov, csum; enum nf_ct_state want; } ul[] = {
			{ 0, 1, NF_CT_NEW }, { 8, 1, NF_CT_NEW }, { 28, 1, NF_CT_NEW },
			{ 0, 0, NF_CT_INVALID }, { 7, 1, NF_CT_INVALID }, { 29, 1, NF_CT_INVALID },
		};
		unsigned i;

		for (i = 0; i < NF_ARRAY_SIZE(ul); i++) {
			dgram(&g, 0, 20);
			put16(g.fr.b + 34 + 4, ul[i].cov);
			put16(g.fr.b + 34 + 6, ul[i].csum);
			CHECK(nf_ct_in(ct, g.fr.b, &g.fr.h, now, &g.p) == ul[i].want,
			      "UDP-Lite coverage %u checksum %u: %s", ul[i].cov, ul[i].csum,
			      nf_ct_state_name(ul[i].want));
		}
		uint64_t t0 = now;

		dgram(&g, 0, 20);
		put16(g.fr.b + 34 + 6, 1);
		CHECK(nf_ct_in(ct, g.fr.b, &g.fr.h, now, &g.p) == NF_CT_NEW && confirm(&g) == 0 &&
		      ttl(&g) == 30, "UDP-Lite: 30 s unreplied");
		now = t0 + MS(500);
		dgram(&g, 1, 20);
		put16(g.fr.b + 34 + 6, 1);
		CHECK(nf_ct_in(ct, g.fr.b, &g.fr.h, now, &g.p) == EST && ttl(&g) == 30 &&
		      eflags(&g) == SR_, "UDP-Lite reply: 30 s");
		now = t0 + MS(1000);
		dgram(&g, 0, 20);
		put16(g.fr.b + 34 + 6, 1);
		CHECK(nf_ct_in(ct, g.fr.b, &g.fr.h, now, &g.p) == EST && ttl(&g) == 30 &&
		      eflags(&g) == SR_, "UDP-Lite replied, 1 s old: 30 s (Linux's 2 s rule)");
		now = t0 + MS(2500);
		dgram(&g, 0, 20);
		put16(g.fr.b + 34 + 6, 1);
		CHECK(nf_ct_in(ct, g.fr.b, &g.fr.h, now, &g.p) == EST && ttl(&g) == 120 &&
		      eflags(&g) == (SR_ | AS_), "UDP-Lite replied, 2.5 s old: stream, ASSURED");
	}

	/* no next header in IPv6 (Linux: ipv6_skip_exthdr fails); proto 59 in
	 * IPv4 is just another protocol */
	conn_init(&g, ct, 6, NF_IPPROTO_NONE, 0, 0);
	CHECK(dgram(&g, 0, 0) == NF_CT_INVALID, "IPv6 next header NONE: INVALID");
	conn_init(&g, ct, 4, NF_IPPROTO_NONE, 0, 0);
	CHECK(dgram(&g, 0, 0) == NF_CT_NEW, "IPv4 protocol 59: NEW (generic)");

	/* fragments: the first is tracked (its UDP length may exceed it),
	 * later ones have no ports: UNTRACKED */
	conn_init(&g, ct, 4, NF_IPPROTO_UDP, 9000, 9001);
	dgram(&g, 0, 100);
	g.fr.b[14 + 6] = 0x20;				/* MF */
	put16(g.fr.b + 34 + 4, 1500);
	reparse(&g.fr);
	CHECK(g.fr.perr == NF_PERR_OK && classify(&g) == NF_CT_NEW && g.p.t.sport == htons(9000),
	      "first IPv4 fragment: tracked by its ports");
	g.fr.b[14 + 7] = 185;				/* offset 1480 */
	reparse(&g.fr);
	{
		uint64_t inv = stats(ct).invalid;

		CHECK(classify(&g) == NF_CT_UNTRACKED && stats(ct).invalid == inv,
		      "later IPv4 fragment: UNTRACKED, not counted as invalid");
	}
	{
		uint8_t l4[64] = { NF_IPPROTO_UDP, 0, 0x05, 0xc8, 0, 0, 0, 1 };	/* offset 185 */

		ip_frame(&fr, 6, A6, B6, NF_IPPROTO_FRAGMENT, l4, 40);
		CHECK(fr.perr == NF_PERR_OK && nf_ct_in(ct, fr.b, &fr.h, now, &p) == NF_CT_UNTRACKED,
		      "later IPv6 fragment: UNTRACKED");
	}
	/* not IP */
	{
		static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };

		memset(fr.b, 0, 64);
		put16(fr.b + 12, NF_ETH_P_ARP);
		memcpy(fr.b + 14, arp, sizeof(arp));
		fr.len = 60;
		reparse(&fr);
		CHECK(fr.perr == NF_PERR_OK && nf_ct_in(ct, fr.b, &fr.h, now, &p) == NF_CT_UNTRACKED &&
		      p.idx == NOIDX, "ARP: UNTRACKED");
		put16(fr.b + 12, 0x88cc);
		reparse(&fr);
		CHECK(fr.perr == NF_PERR_OK && nf_ct_in(ct, fr.b, &fr.h, now, &p) == NF_CT_UNTRACKED,
		      "LLDP (other EtherType): UNTRACKED");
	}
	/* VLAN tags change nothing */
	conn_init(&g, ct, 4, NF_IPPROTO_UDP, 9100, 53);
	accept_pkt(&g, dgram(&g, 0, 10));
	dgram(&g, 1, 10);
	memmove(g.fr.b + 18, g.fr.b + 14, g.fr.len - 14);
	put16(g.fr.b + 12, NF_ETH_P_VLAN);
	put16(g.fr.b + 14, 100);
	put16(g.fr.b + 16, NF_ETH_P_IPV4);
	g.fr.len += 4;
	reparse(&g.fr);
	CHECK(g.fr.perr == NF_PERR_OK && g.fr.h.l3_off == 18 && classify(&g) == EST &&
	      g.p.idx == g.idx && g.p.dir == NF_CT_REPLY, "VLAN-tagged reply: ESTABLISHED");
	nf_ct_destroy(ct);
}

/* ---- expiry ---- */

static int count_live(void *arg, uint32_t idx, const struct nf_ct_entry *e)
{
	uint32_t *n = arg;

	(void)idx;
	(void)e;
	n[0]++;
	return n[1] != 0 && n[0] == n[1];
}

static void test_expiry(void)
{
	struct nf_ct *ct = mk(1024, true);
	struct exp_log log = { 0 };
	struct conn u, t, v;
	uint64_t t0;
	uint32_t old;
	unsigned i, calls;

	/* exactly at the timeout (Linux's nf_ct_is_expired: <= 0) */
	conn_init(&u, ct, 4, NF_IPPROTO_UDP, 100, 53);
	t0 = now;
	accept_pkt(&u, dgram(&u, 0, 0));
	conn_init(&t, ct, 6, NF_IPPROTO_TCP, 101, 80);
	tcp(&t, 0, SYN);
	now = t0 + SEC(30) - MS(1);
	CHECK(live(&u) && ttl(&u) == 0, "UDP alive 1 ms before 30 s (ttl rounds down to 0)");
	now = t0 + SEC(30);
	CHECK(gone(&u) && ttl(&u) == 0 && live(&t), "UDP dead at exactly 30 s, lookups fail");
	CHECK(nf_ct_entry(ct, u.idx)->t[0].family == 4, "dead entry readable until swept");
	old = u.idx;
	CHECK(dgram(&u, 1, 0) == NF_CT_NEW, "reply after the timeout: NEW");
	/* a new entry with the same tuples beside the dead one */
	CHECK(accept_pkt(&u, dgram(&u, 0, 0)) == NF_CT_NEW && u.confirm_ret == 0 && u.idx != old &&
	      live(&u), "same tuple inserted again beside the dead entry");
	for (i = 55; i < 120; i += 25) {		/* keep the new UDP entry alive */
		now = t0 + SEC(i);
		dgram(&u, 0, 0);
	}
	now = t0 + SEC(120) - MS(1);
	CHECK(live(&t) && live(&u) && ttl(&u) == 15, "TCP SYN_SENT alive until 120 s");
	now = t0 + SEC(120);
	CHECK(gone(&t) && seg(&t, 1, SYN | ACK, 0) == NF_CT_INVALID,
	      "TCP SYN_SENT dead at 120 s: its SYN/ACK is INVALID");

	/* sweeping: every dead entry once, to the callback, then freed */
	memset(&log, 0, sizeof(log));
	log.seen = calloc(1024, 1);
	for (calls = 0; calls < 100; calls++) {
		now += MS(10);
		nf_ct_expire(ct, now, on_expire, &log);
	}
	CHECK(log.n == 2 && log.bad == 0 && log.seen[old] && !log.seen[u.idx] && log.seen[t.idx],
	      "sweep: the 2 dead entries reported once each (%llu)", (unsigned long long)log.n);
	CHECK(nf_ct_entry(ct, old)->t[0].family == 0 && stats(ct).count == 1 &&
	      stats(ct).expired == 2 && live(&u), "swept entries freed, the live one kept");
	free(log.seen);

	/* the clock's milliseconds wrap at 2^32 */
	now = MS((1ull << 32) - 10000);
	conn_init(&v, ct, 4, NF_IPPROTO_UDP, 102, 53);
	accept_pkt(&v, dgram(&v, 0, 0));
	now += SEC(20);
	CHECK(live(&v) && ttl(&v) == 10, "across the 2^32 ms wrap: alive, 10 s left");
	now += SEC(10);
	CHECK(gone(&v), "across the wrap: dead at 30 s");
	now = SEC(200000);

	/* a callback that deletes the entry itself */
	nf_ct_flush(ct);
	memset(&log, 0, sizeof(log));
	log.del = true;
	log.ct = ct;
	for (i = 0; i < 100; i++) {
		conn_init(&v, ct, 4, NF_IPPROTO_UDP, (uint16_t)(200 + i), 53);
		accept_pkt(&v, dgram(&v, 0, 0));
	}
	now += SEC(31);
	for (calls = 0; calls < 16; calls++)
		nf_ct_expire(ct, now, on_expire, &log);
	CHECK(log.n == 100 && log.bad == 0 && stats(ct).count == 0,
	      "callback deleting its entry: 100 reported, all freed once");
	nf_ct_destroy(ct);
}

/* ---- capacity, tuples ---- */

static void cap_pkt(struct nf_ct_pkt *p, uint32_t i, uint16_t dport)
{
	uint32_t r = i * 2654435761u;

	memset(p, 0, sizeof(*p));
	p->t.family = 4;
	p->t.proto = NF_IPPROTO_UDP;
	put32(p->t.src, 0x0a000000u | i);		/* i < 2^24: distinct */
	put32(p->t.dst, 0xc6120000u | (r >> 16));
	p->t.sport = htons((uint16_t)(1024 + (r & 0x7fff)));
	p->t.dport = htons(dport);
	p->len = 100;
}

/* Fill a table of @max: how many inserts failed; indexes into @ix. */
static uint32_t fill(struct nf_ct *ct, uint32_t max, uint16_t dport, uint32_t *ix,
		     uint32_t *first_fail)
{
	struct nf_ct_pkt p;
	uint32_t i, fails = 0;

	*first_fail = UINT32_MAX;
	for (i = 0; i < max; i++) {
		cap_pkt(&p, i, dport);
		if (nf_ct_confirm(ct, &p, NULL, now) != 0) {
			if (!fails)
				*first_fail = i;
			fails++;
		} else if (ix) {
			ix[i] = p.idx;
		}
	}
	return fails;
}

static uint32_t check_lookups(struct nf_ct *ct, uint32_t max, uint16_t dport,
			      const uint32_t *ix, uint32_t skip_mod)
{
	uint32_t i, bad = 0;

	for (i = 0; i < max; i++) {
		struct nf_ct_pkt p;
		struct nf_ct_tuple r;
		uint32_t idx, idx2;
		uint8_t d, d2;
		bool del = skip_mod && i % skip_mod == 0;
		int a, b;

		cap_pkt(&p, i, dport);
		r = p.t;
		memcpy(r.src, p.t.dst, 16);
		memcpy(r.dst, p.t.src, 16);
		r.sport = p.t.dport;
		r.dport = p.t.sport;
		a = nf_ct_lookup(ct, &p.t, &idx, &d);
		b = nf_ct_lookup(ct, &r, &idx2, &d2);
		if (del ? a != -ENOENT || b != -ENOENT
			: a != 0 || b != 0 || idx != ix[i] || idx2 != ix[i] || d != 0 || d2 != 1)
			bad++;
	}
	return bad;
}

static void test_capacity(void)
{
	const uint32_t M = 1000000, TIGHT = 419430;	/* 2^17 buckets * 8 * 0.8 / 2 */
	uint32_t *ix = calloc(M, sizeof(*ix)), fails, first, i, calls, maxdone;
	struct exp_log log = { 0 };
	struct nf_ct_stats st;
	struct nf_ct_pkt p;
	struct nf_ct *ct;

	ct = mk(M, true);
	fails = fill(ct, M, 53, ix, &first);
	st = stats(ct);
	CHECK(fails == 0 && st.count == M && st.inserted == M,
	      "1,000,000 distinct tuples into a table of 1,000,000: all in (%u failed, first "
	      "at %u, count %u)", fails, first, st.count);
	cap_pkt(&p, M, 53);
	CHECK(nf_ct_confirm(ct, &p, NULL, now) == -ENOSPC && stats(ct).full == 1 &&
	      strstr(nf_last_error(), "full") != NULL, "the next one: -ENOSPC, counted (%s)",
	      nf_last_error());
	cap_pkt(&p, 17, 53);
	CHECK(nf_ct_confirm(ct, &p, NULL, now) == -EEXIST && stats(ct).full == 1,
	      "an existing tuple on a full table: -EEXIST");
	CHECK(check_lookups(ct, M, 53, ix, 0) == 0, "all 1,000,000 found both ways");
	for (i = 0; i < M; i += 1000)
		nf_ct_delete(ct, ix[i]);
	st = stats(ct);
	CHECK(st.count == M - 1000 && st.deleted == 1000 && check_lookups(ct, M, 53, ix, 1000) == 0,
	      "1000 deleted: gone, the others still found");
	for (i = 0, fails = 0; i < 1000; i++) {
		cap_pkt(&p, i, 443);
		fails += nf_ct_confirm(ct, &p, NULL, now) != 0;
	}
	cap_pkt(&p, 1000, 443);
	CHECK(fails == 0 && stats(ct).count == M && nf_ct_confirm(ct, &p, NULL, now) == -ENOSPC &&
	      stats(ct).full == 2, "1000 new ones fit again, then full again");

	/* everything times out at once; the sweep every 10 ms reaches all of
	 * it within a second, a bounded slice per call */
	now += SEC(30);
	sync_clock(ct);
	cap_pkt(&p, 5, 53);
	CHECK(nf_ct_lookup(ct, &p.t, &i, (uint8_t *)&first) == -ENOENT,
	      "full table past its timeout: lookups fail at once");
	log.seen = calloc(M, 1);
	for (calls = 0, maxdone = 0; calls < 1000 && stats(ct).count > 0; calls++) {
		unsigned done;

		now += MS(10);
		done = nf_ct_expire(ct, now, on_expire, &log);
		maxdone = NF_MAX(maxdone, done);
	}
	st = stats(ct);
	CHECK(st.count == 0 && calls <= 100 && maxdone <= M / 100 && log.n == M && log.bad == 0 &&
	      st.expired == M, "sweep of 1,000,000 expired entries: %u calls of 10 ms, at most "
	      "%u per call, %llu reported", calls, maxdone, (unsigned long long)log.n);
	free(log.seen);
	fails = fill(ct, M, 8080, ix, &first);
	CHECK(fails == 0 && stats(ct).count == M, "refilled after the sweep: %u failed", fails);
	nf_ct_destroy(ct);

	/* the tightest load nf_ct_create() allows: 80% of the slots */
	ct = mk(TIGHT, true);
	fails = fill(ct, TIGHT, 53, ix, &first);
	CHECK(fails == 0 && stats(ct).count == TIGHT && stats(ct).bytes < (size_t)TIGHT * 200,
	      "tightest load (%u entries, 80%% of the hash slots): all in (%u failed, first at %u)",
	      TIGHT, fails, first);
	/* churn at that load: delete a random 10%, insert as many new ones */
	{
		uint32_t round, next = TIGHT, nfail = 0, *slot = calloc(TIGHT, sizeof(*slot));

		for (i = 0; i < TIGHT; i++)
			slot[i] = i;		/* slot i holds tuple number slot[i] */
		for (round = 0; round < 10; round++) {
			for (i = 0; i < TIGHT / 10; i++) {
				uint32_t k = rnd() % TIGHT;

				nf_ct_delete(ct, ix[k]);
				cap_pkt(&p, next, 53);
				if (nf_ct_confirm(ct, &p, NULL, now) != 0) {
					nfail++;
					continue;
				}
				ix[k] = p.idx;
				slot[k] = next++;
			}
		}
		for (i = 0, fails = 0; i < TIGHT; i++) {
			uint32_t idx;
			uint8_t d;

			cap_pkt(&p, slot[i], 53);
			fails += nf_ct_lookup(ct, &p.t, &idx, &d) != 0 || idx != ix[i];
		}
		CHECK(nfail == 0 && fails == 0 && stats(ct).count == TIGHT,
		      "10 rounds of 10%% churn at 80%% load: %u inserts failed, %u lookups wrong",
		      nfail, fails);
		free(slot);
	}
	nf_ct_destroy(ct);
	free(ix);
}

/* -EEXIST, NAT reply tuples, zones, -EINVAL tuples. */
static void test_tuples(void)
{
	struct nf_ct *ct = mk(64, true);
	struct nf_ct_tuple r, t;
	struct conn a, b, n;
	struct nf_ct_pkt p;
	uint32_t idx;
	uint8_t d;

	conn_init(&a, ct, 4, NF_IPPROTO_UDP, 1000, 80);
	accept_pkt(&a, dgram(&a, 0, 0));
	/* C:1000 -> B:80 whose reply would be B:80 -> A:1000, a's */
	conn_init(&b, ct, 4, NF_IPPROTO_UDP, 1000, 80);
	memcpy(b.a, C4, 4);
	CHECK(dgram(&b, 0, 0) == NF_CT_NEW, "other source: NEW");
	r = conn_tuple(&a, 1);
	CHECK(nf_ct_confirm(ct, &b.p, &r, now) == -EEXIST && stats(ct).count == 1 &&
	      strstr(nf_last_error(), "exists") != NULL, "reply tuple taken: -EEXIST");
	CHECK(dgram(&a, 0, 0) == EST, "a's own datagram: ESTABLISHED");
	a.p.idx = NOIDX;
	CHECK(nf_ct_confirm(ct, &a.p, NULL, now) == -EEXIST, "original tuple taken: -EEXIST");

	/* NAT: the reply tuple is the translated one */
	conn_init(&n, ct, 4, NF_IPPROTO_UDP, 2000, 80);
	dgram(&n, 0, 0);
	r = conn_tuple(&n, 1);
	memcpy(r.dst, N4, 4);
	r.dport = htons(6000);
	CHECK(nf_ct_confirm(ct, &n.p, &r, now) == 0, "NAT: confirm with a translated reply tuple");
	n.idx = n.p.idx;
	memcpy(n.a, N4, 4);
	n.pa = 6000;
	CHECK(dgram(&n, 1, 0) == EST && n.p.idx == n.idx && n.p.dir == NF_CT_REPLY,
	      "NAT: the translated reply finds the entry, REPLY way");
	t = conn_tuple(&n, 1);
	memcpy(t.dst, A4, 4);
	t.dport = htons(2000);
	CHECK(nf_ct_lookup(ct, &t, &idx, &d) == -ENOENT, "NAT: the untranslated reply does not");
	CHECK(nf_ct_lookup(ct, &r, &idx, &d) == 0 && idx == n.idx && d == NF_CT_REPLY,
	      "nf_ct_lookup of the translated tuple: REPLY");

	/* zones separate otherwise equal tuples */
	p = a.p;
	p.t = conn_tuple(&a, 0);
	p.t.zone = 7;
	r = conn_tuple(&a, 1);
	r.zone = 7;
	CHECK(nf_ct_confirm(ct, &p, &r, now) == 0 && p.idx != a.idx, "zone 7: the same tuple again");
	t = conn_tuple(&a, 0);
	CHECK(nf_ct_lookup(ct, &t, &idx, &d) == 0 && idx == a.idx, "zone 0 lookup: the first");
	t.zone = 7;
	CHECK(nf_ct_lookup(ct, &t, &idx, &d) == 0 && idx == p.idx, "zone 7 lookup: the second");
	t.zone = 8;
	CHECK(nf_ct_lookup(ct, &t, &idx, &d) == -ENOENT, "zone 8 lookup: none");
	CHECK(dgram(&a, 1, 0) == EST && a.p.idx == a.idx, "packets (zone 0) find the zone 0 entry");

	/* tuples that are not IP */
	memset(&p, 0, sizeof(p));
	CHECK(nf_ct_confirm(ct, &p, NULL, now) == -EINVAL, "family 0: -EINVAL");
	p.t = conn_tuple(&a, 0);
	p.t.sport = htons(4444);
	r = conn_tuple(&a, 1);
	r.family = 6;
	CHECK(nf_ct_confirm(ct, &p, &r, now) == -EINVAL && strstr(nf_last_error(), "family"),
	      "reply of another family: -EINVAL (%s)", nf_last_error());
	nf_ct_destroy(ct);
}

/* ---- the rest of the API ---- */

static void test_api(void)
{
	struct nf_ct_conf conf;
	struct nf_ct_stats st;
	struct nf_ct *ct = (struct nf_ct *)&conf;
	struct conn c[10];
	uint32_t n[2];
	unsigned i;
	int r;

	/* configuration ranges */
	nf_ct_conf_default(&conf, NF_CT_MAX_MIN - 1);
	r = nf_ct_create(&conf, &ct);
	CHECK(r == -EINVAL && ct == NULL && strstr(nf_last_error(), "out of range"),
	      "max 15: -EINVAL (%s)", nf_last_error());
	nf_ct_conf_default(&conf, NF_CT_MAX_MAX + 1);
	CHECK(nf_ct_create(&conf, &ct) == -EINVAL && ct == NULL, "max 16M + 1: -EINVAL");
	for (i = 0; i < sizeof(conf.to) / sizeof(uint32_t); i++) {
		nf_ct_conf_default(&conf, 16);
		((uint32_t *)&conf.to)[i] = NF_CT_TIMEOUT_MAX + 1;
		r = nf_ct_create(&conf, &ct);
		CHECK(r == -EINVAL && ct == NULL && strstr(nf_last_error(), "2000001"),
		      "timeout %u of %u s: -EINVAL (%s)", i, NF_CT_TIMEOUT_MAX + 1, nf_last_error());
	}
	nf_ct_conf_default(&conf, NF_CT_MAX_MIN);
	conf.to.udp = NF_CT_TIMEOUT_MAX;
	r = nf_ct_create(&conf, &ct);
	CHECK(r == 0 && ct != NULL, "max 16 and a timeout of NF_CT_TIMEOUT_MAX: created");
	conn_init(&c[0], ct, 4, NF_IPPROTO_UDP, 1, 2);
	accept_pkt(&c[0], dgram(&c[0], 0, 0));
	CHECK(ttl(&c[0]) == NF_CT_TIMEOUT_MAX, "UDP timeout of %u s", NF_CT_TIMEOUT_MAX);
	/* 16 entries fit exactly */
	for (i = 1; i < 17; i++) {
		struct conn x;

		conn_init(&x, ct, 4, NF_IPPROTO_UDP, (uint16_t)(100 + i), 2);
		accept_pkt(&x, dgram(&x, 0, 0));
		CHECK(x.confirm_ret == (i < 16 ? 0 : -ENOSPC), "table of 16: entry %u %s", i + 1,
		      i < 16 ? "fits" : "-ENOSPC");
	}
	nf_ct_destroy(ct);
	nf_ct_destroy(NULL);

	/* names */
	{
		static const char *const sn[] = { "NEW", "ESTABLISHED", "RELATED", "INVALID",
						   "UNTRACKED" };
		static const char *const tn[] = { "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED",
						  "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
						  "TIME_WAIT", "CLOSE", "SYN_SENT2" };

		for (i = 0; i < 5; i++)
			CHECK(strcmp(nf_ct_state_name(i), sn[i]) == 0, "state name %u: %s", i, sn[i]);
		for (i = 0; i < NF_CT_TCP_MAX; i++)
			CHECK(strcmp(nf_ct_tcp_name(i), tn[i]) == 0, "TCP state name %u: %s", i, tn[i]);
		CHECK(strcmp(nf_ct_state_name(5), "?") == 0 &&
		      strcmp(nf_ct_tcp_name(NF_CT_TCP_MAX), "?") == 0 &&
		      strcmp(nf_ct_state_name((enum nf_ct_state)-1), "?") == 0,
		      "names out of range: \"?\"");
	}

	/* stats, foreach, flush */
	ct = mk(64, true);
	st = stats(ct);
	CHECK(st.count == 0 && st.max == 64 && st.inserted == 0 && st.searched == 0 &&
	      st.bytes >= 64 * 128 + 64 * 8, "fresh table: empty stats, %zu bytes", st.bytes);
	for (i = 0; i < 10; i++) {
		conn_init(&c[i], ct, 4, NF_IPPROTO_TCP, (uint16_t)(1000 + i), 80);
		tcp(&c[i], 0, SYN);
	}
	tcp(&c[3], 1, RST);				/* killed */
	nf_ct_delete(ct, c[5].idx);
	nf_ct_delete(ct, c[5].idx);			/* twice: nothing */
	nf_ct_delete(ct, 12345);			/* out of range: nothing */
	CHECK(nf_ct_entry(ct, 64) == NULL && nf_ct_entry(ct, 63) != NULL, "nf_ct_entry range");
	seg(&c[0], 0, SYN | FIN, 0);			/* invalid */
	st = stats(ct);
	CHECK(st.count == 9 && st.inserted == 10 && st.deleted == 1 && st.invalid == 1 &&
	      st.expired == 0 && st.full == 0 && st.searched == 11,
	      "stats: count 9 inserted 10 deleted 1 invalid 1 searched 11 (got %u %llu %llu %llu "
	      "%llu)", st.count, (unsigned long long)st.inserted, (unsigned long long)st.deleted,
	      (unsigned long long)st.invalid, (unsigned long long)st.searched);
	n[0] = 0, n[1] = 0;
	nf_ct_foreach(ct, count_live, n);
	CHECK(n[0] == 8, "foreach: the 8 live entries (not the killed, not the deleted): %u", n[0]);
	n[0] = 0, n[1] = 3;
	nf_ct_foreach(ct, count_live, n);
	CHECK(n[0] == 3, "foreach stops when the callback says so");
	nf_ct_flush(ct);
	st = stats(ct);
	CHECK(st.count == 0 && st.deleted == 10 && gone(&c[0]) && gone(&c[9]), "flush: all gone");
	n[0] = 0, n[1] = 0;
	nf_ct_foreach(ct, count_live, n);
	CHECK(n[0] == 0, "foreach after flush: nothing");
	for (i = 0; i < 64; i++) {
		struct conn x;

		conn_init(&x, ct, 6, NF_IPPROTO_UDP, (uint16_t)(3000 + i), 2);
		accept_pkt(&x, dgram(&x, 0, 0));
		if (x.confirm_ret)
			break;
	}
	CHECK(i == 64 && stats(ct).count == 64, "after flush: the whole table usable again");
	nf_ct_destroy(ct);
}

/* ---- malformed frames ---- */

struct base {
	struct frame fr;
	const char *what;
};

static unsigned nbase;
static struct base bases[32];

static void add_base(const struct frame *fr, const char *what)
{
	if (fr->perr != NF_PERR_OK)
		CHECK(0, "base frame %s parses", what);
	bases[nbase].fr = *fr;
	bases[nbase++].what = what;
}

/* nf_ct_in on @len bytes of @b in a heap buffer of exactly that size;
 * returns 1 when an invariant is broken. */
static int one(struct nf_ct *ct, const uint8_t *b, uint32_t len, bool may_confirm)
{
	uint8_t *f = malloc(len ? len : 1);
	struct nf_ct_pkt p;
	struct nf_hdrs h;
	enum nf_ct_state s;
	int bad = 0;

	memcpy(f, b, len);
	if (nf_parse(f, len, &h) == NF_PERR_OK) {
		s = nf_ct_in(ct, f, &h, now, &p);
		if ((unsigned)s > NF_CT_UNTRACKED)
			bad = 1;
		else if (s == NF_CT_ESTABLISHED || s == NF_CT_RELATED)
			bad = p.idx >= 4096 || (nf_ct_entry(ct, p.idx)->t[0].family != 4 &&
						nf_ct_entry(ct, p.idx)->t[0].family != 6);
		else if (s == NF_CT_NEW && p.idx != NOIDX)
			bad = 1;
		else if (s == NF_CT_NEW && may_confirm) {
			int r = nf_ct_confirm(ct, &p, NULL, now);

			bad = r != 0 && r != -ENOSPC && r != -EEXIST && r != -EINVAL;
		}
		if (s != NF_CT_UNTRACKED && p.len != h.l3_len)
			bad = 1;
	}
	free(f);
	return bad;
}

static void test_malformed(void)
{
	struct nf_ct *ct = mk(4096, true);
	struct conn c;
	struct frame fr;
	uint8_t q[256], l4[256];
	uint32_t ql, i, len, bad = 0, runs = 0;
	int fam;

	for (fam = 4; fam <= 6; fam += 2) {
		uint8_t ep = fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6;

		conn_init(&c, ct, fam, NF_IPPROTO_TCP, 80, 81);
		accept_pkt(&c, seg(&c, 0, SYN, 0));
		add_base(&c.fr, "TCP SYN");
		l4[0] = 0;
		tcp_hdr(l4, 81, 80, 5, 6, ACK, 12);
		l4[12] = 0x80;				/* 12 bytes of options */
		ip_frame(&fr, fam, ADDR(fam, B), ADDR(fam, A), NF_IPPROTO_TCP, l4, 32);
		add_base(&fr, "TCP with options");
		ql = quote(q, &c, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), fam == 4 ? 3 : 1, 0, q, ql, ql);
		add_base(&fr, "ICMP error about TCP");
		conn_init(&c, ct, fam, NF_IPPROTO_UDP, 53, 54);
		accept_pkt(&c, dgram(&c, 0, 30));
		add_base(&c.fr, "UDP");
		ql = quote(q, &c, 0, 0);
		icmp_error(&fr, fam, ADDR(fam, B), ADDR(fam, A), fam == 4 ? 3 : 1, 3, q, ql, ql);
		add_base(&fr, "ICMP error about UDP");
		conn_init(&c, ct, fam, ep, 77, 0);
		accept_pkt(&c, query(&c, 0, fam == 4 ? 8 : 128));
		add_base(&c.fr, "echo");
		ql = quote(q, &c, 0, fam == 4 ? 8 : 128);
		icmp_error(&fr, fam, ADDR(fam, R), ADDR(fam, A), fam == 4 ? 11 : 3, 0, q, ql, ql);
		add_base(&fr, "ICMP error about echo");
		conn_init(&c, ct, fam, 132, 1, 2);
		accept_pkt(&c, dgram(&c, 0, 8));
		add_base(&c.fr, "SCTP");
		conn_init(&c, ct, fam, 136, 1, 2);
		dgram(&c, 0, 8);
		c.fr.b[14 + (fam == 4 ? 20 : 40) + 7] = 1;
		add_base(&c.fr, "UDP-Lite");
		conn_init(&c, ct, fam, 47, 0, 0);
		accept_pkt(&c, dgram(&c, 0, 8));
		add_base(&c.fr, "GRE");
	}
	/* ICMPv6 redirect */
	memset(l4, 0, 48);
	l4[0] = 137;
	l4[40] = 4;
	l4[41] = 11;
	conn_init(&c, ct, 6, NF_IPPROTO_UDP, 53, 54);
	ql = quote(q, &c, 0, 0);
	memcpy(l4 + 48, q, ql);
	ip_frame(&fr, 6, LL6, A6, NF_IPPROTO_ICMPV6, l4, 48 + ql);
	fr.b[14 + 7] = 255;
	reparse(&fr);
	add_base(&fr, "redirect");
	/* IPv4 with options, IPv6 with extension headers */
	conn_init(&c, ct, 4, NF_IPPROTO_UDP, 53, 54);
	dgram(&c, 0, 10);
	memmove(c.fr.b + 38, c.fr.b + 34, c.fr.len - 34);
	memset(c.fr.b + 34, 1, 4);
	c.fr.b[14] = 0x46;
	put16(c.fr.b + 16, (uint16_t)((c.fr.b[16] << 8 | c.fr.b[17]) + 4));
	c.fr.len += 4;
	reparse(&c.fr);
	add_base(&c.fr, "IPv4 options");
	memset(l4, 0, 64);
	l4[0] = NF_IPPROTO_FRAGMENT;			/* hop-by-hop, 8 bytes */
	l4[8] = NF_IPPROTO_UDP;				/* fragment, offset 0, M */
	l4[11] = 1;
	udp_hdr(l4 + 16, 53, 54, 8);
	ip_frame(&fr, 6, A6, B6, NF_IPPROTO_HOPOPTS, l4, 32);
	add_base(&fr, "IPv6 extension headers");

	/* every truncation of every base frame */
	for (i = 0; i < nbase; i++)
		for (len = 0; len <= bases[i].fr.len; len++, runs++)
			bad += one(ct, bases[i].fr.b, len, false);
	CHECK(bad == 0, "%u truncations of %u frames: no crash, invariants hold", runs, nbase);
	/* random mutations */
	bad = 0;
	for (runs = 0; runs < 400000; runs++) {
		const struct base *b = &bases[rnd() % nbase];
		uint8_t buf[2048];
		unsigned k, nmut = 1 + rnd() % 4;

		len = b->fr.len;
		memcpy(buf, b->fr.b, len);
		for (k = 0; k < nmut; k++) {
			uint32_t at = rnd() % (rnd() % 2 ? NF_MIN(len, 70u) : len);

			buf[at] = rnd() % 3 ? (uint8_t)rnd() : buf[at] ^ (uint8_t)(1u << (rnd() % 8));
		}
		if (rnd() % 4 == 0)
			len = rnd() % (len + 1);
		bad += one(ct, buf, len, rnd() % 8 == 0);
		if (runs % 1000 == 0) {
			now += MS(10);
			nf_ct_expire(ct, now, NULL, NULL);
		}
	}
	CHECK(bad == 0, "%u mutated frames: no crash, invariants hold (%u entries now)", runs,
	      stats(ct).count);
	nf_ct_destroy(ct);
}

/* nf_ct_in_burst() against nf_ct_in() one by one: two tables, the same
 * random stream (TCP with any flags, UDP, ICMP echo, IPv4 and IPv6, in
 * bursts of 1..40 with the clock moving between them), every NEW packet
 * confirmed; the states, packet fields and counters must be the same. */
static void test_burst(void)
{
	enum { FLOWS = 48, PKTS = 30000, B = 40 };
	static struct frame fr[B];
	static const uint8_t flags[] = { SYN, SYN | ACK, ACK, ACK | PSH, FIN | ACK, RST, RST | ACK,
					 0x3f, 0 };
	struct nf_ct *a, *b;
	struct nf_ct_conf conf;
	struct nf_ct_stats sa, sb;
	uint64_t now = SEC(1000);
	unsigned sent = 0, bad = 0, bursts = 0;

	nf_ct_conf_default(&conf, 4096);
	conf.to.tcp[NF_CT_TCP_CLOSE] = 2;
	conf.to.udp = 3;
	if (nf_ct_create(&conf, &a) < 0 || nf_ct_create(&conf, &b) < 0) {
		CHECK(0, "burst: tables created");
		return;
	}
	while (sent < PKTS) {
		const uint8_t *f[B];
		const struct nf_hdrs *h[B];
		struct nf_ct_pkt pa, pb[B];
		uint8_t st[B], l4[64];
		unsigned n = 1 + rnd() % B, i, done;

		for (i = 0; i < n; i++) {
			const unsigned fl = rnd() % FLOWS, dir = rnd() & 1, fam = fl & 1 ? 6 : 4;
			uint8_t cli[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0 };
			uint8_t srv[16] = { 0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
			uint32_t len;
			uint8_t proto;

			if (fam == 4)
				cli[0] = 10, cli[3] = (uint8_t)fl, srv[0] = 192, srv[3] = 1;
			else
				cli[15] = (uint8_t)fl;
			switch (fl % 6) {
			case 0: case 1: case 2:
				proto = NF_IPPROTO_TCP;
				len = tcp_hdr(l4, dir ? 80 : (uint16_t)(1000 + fl), dir ? (uint16_t)(1000 + fl) : 80,
					      rnd(), rnd(), flags[rnd() % sizeof(flags)], rnd() % 3);
				break;
			case 3: case 4:
				proto = NF_IPPROTO_UDP;
				len = udp_hdr(l4, dir ? 53 : (uint16_t)(1000 + fl), dir ? (uint16_t)(1000 + fl) : 53,
					      rnd() % 4);
				break;
			default:
				proto = fam == 4 ? NF_IPPROTO_ICMP : NF_IPPROTO_ICMPV6;
				len = icmp_hdr(l4, fam == 4 ? (dir ? 0 : 8) : (dir ? 129 : 128), 0,
					       (uint16_t)fl);
				break;
			}
			ip_frame(&fr[i], (int)fam, dir ? srv : cli, dir ? cli : srv, proto, l4, len);
			f[i] = fr[i].b;
			h[i] = &fr[i].h;
		}
		for (done = 0; done < n;) {
			unsigned k = nf_ct_in_burst(b, f + done, h + done, n - done, now, pb + done,
						    st + done);

			if (k == 0 || k > n - done) {
				bad++;
				break;
			}
			done += k;
			if (st[done - 1] == NF_CT_NEW)
				nf_ct_confirm(b, &pb[done - 1], NULL, now);
		}
		for (i = 0; i < done; i++) {
			enum nf_ct_state s = nf_ct_in(a, f[i], h[i], now, &pa);

			if (s == NF_CT_NEW)
				nf_ct_confirm(a, &pa, NULL, now);
			if (s != st[i] || pa.idx != pb[i].idx || pa.dir != pb[i].dir ||
			    pa.tcp_flags != pb[i].tcp_flags || pa.icmp_error != pb[i].icmp_error ||
			    pa.len != pb[i].len || memcmp(&pa.t, &pb[i].t, sizeof(pa.t)) != 0) {
				if (bad++ < 5)
					CHECK(0, "burst %u packet %u: %s, one by one %s", bursts, i,
					      nf_ct_state_name(st[i]), nf_ct_state_name(s));
			}
		}
		sent += n;
		bursts++;
		now += (uint64_t)(rnd() % 1500) * 1000000;
		if (rnd() % 8 == 0) {
			nf_ct_expire(a, now, NULL, NULL);
			nf_ct_expire(b, now, NULL, NULL);
		}
	}
	nf_ct_get_stats(a, &sa);
	nf_ct_get_stats(b, &sb);
	CHECK(bad == 0 && sa.count == sb.count && sa.inserted == sb.inserted &&
	      sa.invalid == sb.invalid && sa.searched == sb.searched && sa.expired == sb.expired,
	      "nf_ct_in_burst = nf_ct_in one by one: %u packets in %u bursts, %u differ "
	      "(entries %u/%u, invalid %llu/%llu, searched %llu/%llu)", sent, bursts, bad,
	      sa.count, sb.count, (unsigned long long)sa.invalid, (unsigned long long)sb.invalid,
	      (unsigned long long)sa.searched, (unsigned long long)sb.searched);
	nf_ct_destroy(a);
	nf_ct_destroy(b);
}

/* ---- nf_ct_refresh ---- */

/* Two tables given the same packets: a through nf_ct_in() alone, b
 * through nf_ct_refresh() first (or nf_ct_refresh_ref() with @ref when it
 * is set) and nf_ct_in() when it refuses. */
struct twin {
	struct nf_ct *a, *b;
	uint32_t max;
	unsigned bad;
	uint64_t hits;
	const struct nf_ct_ref *ref;
};

static bool twin_same(const struct twin *w, uint32_t idx)
{
	struct nf_ct_stats sa, sb;

	nf_ct_get_stats(w->a, &sa);
	nf_ct_get_stats(w->b, &sb);
	if (sa.count != sb.count || sa.inserted != sb.inserted || sa.invalid != sb.invalid ||
	    sa.searched != sb.searched || sa.deleted != sb.deleted || sa.expired != sb.expired)
		return false;
	return idx >= w->max || memcmp(nf_ct_entry(w->a, idx), nf_ct_entry(w->b, idx),
				       sizeof(struct nf_ct_entry)) == 0;
}

/* Packet @fr at now, nf_ct_refresh() asked with (@idx, @dir). Returns its
 * result; *pb: the packet as b's nf_ct_in() classified it (refresh: the
 * entry it updated). Any difference between the tables is counted. */
static int twin_pkt(struct twin *w, const struct frame *fr, uint32_t idx, unsigned dir,
		    struct nf_ct_pkt *pb, const char *what)
{
	struct nf_ct_pkt pa;
	enum nf_ct_state sa, sb = NF_CT_ESTABLISHED;
	int r;
	bool ok;

	sa = nf_ct_in(w->a, fr->b, &fr->h, now, &pa);
	if (sa == NF_CT_NEW)
		nf_ct_confirm(w->a, &pa, NULL, now);
	if (w->ref != NULL)
		r = nf_ct_refresh_ref(w->b, w->ref, fr->b + fr->h.l4_off, &fr->h, nf_ct_ms(now));
	else
		r = nf_ct_refresh(w->b, fr->b, &fr->h, idx, dir, now);
	if (r == 0) {
		pb->idx = idx;
		pb->dir = (uint8_t)dir;
		w->hits++;
	} else {
		sb = nf_ct_in(w->b, fr->b, &fr->h, now, pb);
		if (sb == NF_CT_NEW)
			nf_ct_confirm(w->b, pb, NULL, now);
	}
	ok = (r == 0 || r == -EAGAIN) && sa == sb && pa.idx == pb->idx && pa.dir == pb->dir &&
	     twin_same(w, pa.idx) && twin_same(w, idx);
	if (!ok && w->bad++ < 5)
		CHECK(0, "refresh: %s: refresh %d, nf_ct_in %s idx %u dir %u, then %s idx %u "
		      "dir %u", what, r, nf_ct_state_name(sa), pa.idx, pa.dir,
		      nf_ct_state_name(sb), pb->idx, pb->dir);
	return r;
}

/* A frame of @c going @dir without classifying it: TCP flags @x, UDP
 * payload @x bytes, ICMP type @x. */
static void conn_frame(struct conn *c, int dir, uint8_t x)
{
	uint8_t l4[320];
	uint32_t n;

	if (c->proto == NF_IPPROTO_TCP)
		n = tcp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, c->seq[dir],
			    c->seq[!dir], x, 0);
	else if (c->proto == NF_IPPROTO_UDP)
		n = udp_hdr(l4, dir ? c->pb : c->pa, dir ? c->pa : c->pb, x);
	else
		n = icmp_hdr(l4, x, 0, c->pa);
	ip_frame(&c->fr, c->fam, dir ? c->b : c->a, dir ? c->a : c->b, c->proto, l4, n);
}

/* @c's next packet @dir (conn_frame()) through the twin, refresh asked
 * with @c's entry and @dir; true when refresh did it. */
static bool twin_conn(struct twin *w, struct conn *c, int dir, uint8_t x, const char *what)
{
	struct nf_ct_pkt p;
	int r;

	conn_frame(c, dir, x);
	r = twin_pkt(w, &c->fr, c->idx, (unsigned)dir, &p, what);
	if (p.idx != NOIDX)
		c->idx = p.idx;
	return r == 0;
}

static void test_refresh_cases(void)
{
	struct twin w = { mk(64, true), mk(64, true), 64, 0, 0 };
	struct conn c, d;
	bool r1, r2, r3, r4;

	/* UDP: unreplied ORIG refreshes; the first reply, and the ORIG
	 * packets after it until the 2 s rule assures the flow, do not */
	conn_init(&c, w.b, 4, NF_IPPROTO_UDP, 1000, 53);
	r1 = twin_conn(&w, &c, 0, 10, "UDP first packet");
	r2 = twin_conn(&w, &c, 0, 10, "UDP second packet");
	CHECK(!r1 && r2 && c.idx == 0, "refresh: UDP: not before the entry, then ORIG unreplied");
	r1 = twin_conn(&w, &c, 1, 10, "UDP first reply");
	r2 = twin_conn(&w, &c, 0, 10, "UDP ORIG after the reply");
	now += MS(2500);
	r3 = twin_conn(&w, &c, 0, 10, "UDP ORIG after 2.5 s");
	r4 = twin_conn(&w, &c, 1, 10, "UDP assured reply");
	CHECK(!r1 && !r2 && !r3 && r4, "refresh: UDP: not the first reply, nor before ASSURED; "
	      "ASSURED both ways");
	CHECK(twin_conn(&w, &c, 0, 100, "UDP assured ORIG") && ttl(&c) == 120,
	      "refresh: UDP assured: the stream timeout (%u s)", ttl(&c));
	conn_frame(&c, 0, 10);
	c.fr.b[14 + 20 + 5] = 60;		/* UDP length past the packet */
	CHECK(twin_pkt(&w, &c.fr, c.idx, 0, &c.p, "UDP bad length") == -EAGAIN,
	      "refresh: UDP with a bad length field: no (INVALID)");
	conn_frame(&c, 0, 10);
	CHECK(twin_pkt(&w, &c.fr, 64, 0, &c.p, "UDP, index out of range") == -EAGAIN &&
	      twin_pkt(&w, &c.fr, c.idx, 2, &c.p, "UDP, direction 2") == -EAGAIN,
	      "refresh: an index or direction out of range: no");
	now += SEC(121);
	CHECK(!twin_conn(&w, &c, 0, 10, "UDP after its timeout"),
	      "refresh: an expired entry: no (the packet is NEW)");

	/* TCP: only ASSURED, and only flags that stay in the state */
	conn_init(&d, w.b, 4, NF_IPPROTO_TCP, 40000, 80);
	r1 = twin_conn(&w, &d, 0, SYN, "SYN");
	r2 = twin_conn(&w, &d, 1, SYN | ACK, "SYN/ACK");
	r3 = twin_conn(&w, &d, 0, ACK, "ACK");
	CHECK(!r1 && !r2 && !r3 && tstate(&d) == NF_CT_TCP_ESTABLISHED,
	      "refresh: TCP handshake: none");
	r1 = twin_conn(&w, &d, 0, ACK | PSH, "PSH/ACK ORIG");
	r2 = twin_conn(&w, &d, 1, ACK, "ACK REPLY");
	r3 = twin_conn(&w, &d, 1, ACK | URG | ECE, "ACK/URG/ECE REPLY");
	CHECK(r1 && r2 && r3, "refresh: TCP ESTABLISHED, ACK and PSH/ACK both ways");
	r1 = twin_conn(&w, &d, 0, SYN, "SYN in ESTABLISHED");
	r2 = twin_conn(&w, &d, 0, SYN | FIN, "SYN/FIN");
	r3 = twin_conn(&w, &d, 0, FIN | ACK, "FIN");
	r4 = twin_conn(&w, &d, 1, ACK, "ACK in FIN_WAIT");
	CHECK(!r1 && !r2 && !r3 && !r4, "refresh: TCP: not an ignored SYN, invalid flags, a "
	      "FIN or the ACK after it");
	CHECK(twin_conn(&w, &d, 0, ACK, "ACK in CLOSE_WAIT") &&
	      tstate(&d) == NF_CT_TCP_CLOSE_WAIT, "refresh: TCP: an ACK in CLOSE_WAIT (%s)",
	      nf_ct_tcp_name((enum nf_ct_tcp)tstate(&d)));
	r1 = twin_conn(&w, &d, 1, RST, "RST");
	CHECK(!r1 && tstate(&d) == NF_CT_TCP_CLOSE, "refresh: TCP RST: no");
	nf_ct_delete(w.a, d.idx);
	nf_ct_delete(w.b, d.idx);
	CHECK(!twin_conn(&w, &d, 0, ACK, "ACK after delete"), "refresh: a deleted entry: no");

	/* ICMPv6 echo: requests; a reply once the first reply was seen */
	conn_init(&c, w.b, 6, NF_IPPROTO_ICMPV6, 77, 0);
	r1 = twin_conn(&w, &c, 0, NF_ICMP6_ECHO_REQUEST, "echo request");
	r2 = twin_conn(&w, &c, 0, NF_ICMP6_ECHO_REQUEST, "echo request again");
	r3 = twin_conn(&w, &c, 1, NF_ICMP6_ECHO_REPLY, "first echo reply");
	r4 = twin_conn(&w, &c, 1, NF_ICMP6_ECHO_REPLY, "second echo reply");
	CHECK(!r1 && r2 && !r3 && r4, "refresh: ICMPv6 echo: request, reply once replied");
	CHECK(!twin_conn(&w, &c, 1, NF_ICMP6_ECHO_REQUEST, "request the REPLY way") &&
	      !twin_conn(&w, &c, 0, NF_ICMP6_ECHO_REPLY, "reply the ORIG way"),
	      "refresh: an echo of the wrong direction: no (INVALID)");
	conn_init(&c, w.b, 4, NF_IPPROTO_ICMP, 78, 0);
	r1 = twin_conn(&w, &c, 0, 8, "IPv4 echo request");
	r2 = twin_conn(&w, &c, 0, 13, "IPv4 timestamp request");
	CHECK(!r1 && r2, "refresh: ICMP queries by identifier");

	/* a tuple equal to its own inverse: nf_ct_in() picks a slot */
	conn_init(&c, w.b, 4, NF_IPPROTO_UDP, 53, 53);
	memcpy(c.b, c.a, 16);
	r1 = twin_conn(&w, &c, 0, 1, "self-inverse UDP");
	r2 = twin_conn(&w, &c, 0, 1, "self-inverse UDP again");
	r3 = twin_conn(&w, &c, 1, 1, "self-inverse UDP, REPLY asked");
	CHECK(!r1 && !r2 && !r3, "refresh: an entry whose two tuples are equal: no");
	nf_ct_flush(w.a);
	nf_ct_flush(w.b);
	conn_init(&c, w.b, 4, NF_IPPROTO_UDP, 1000, 53);
	c.idx = 0;
	CHECK(!twin_conn(&w, &c, 0, 10, "after flush"), "refresh: a flushed table: no");
	CHECK(w.bad == 0, "refresh = nf_ct_in in every case above (%u differ)", w.bad);
	nf_ct_destroy(w.a);
	nf_ct_destroy(w.b);
}

/* nf_ct_ref_get() and nf_ct_refresh_ref(): what the reference refuses,
 * and a reference outliving its entry's life. */
static void test_refresh_ref_cases(void)
{
	struct twin w = { mk(64, true), mk(64, true), 64, 0, 0, NULL };
	struct nf_ct_ref r, old;
	struct conn c, d;
	bool r1, r2;

	conn_init(&c, w.b, 4, NF_IPPROTO_UDP, 1000, 53);
	twin_conn(&w, &c, 0, 10, "UDP first packet");
	CHECK(nf_ct_ref_get(w.b, 64, 0, &r) == -EAGAIN && nf_ct_ref_get(w.b, c.idx, 2, &r) ==
	      -EAGAIN && nf_ct_ref_get(w.b, 1, 0, &r) == -EAGAIN,
	      "refresh_ref: no reference out of range or to a free entry");
	CHECK(nf_ct_ref_get(w.b, c.idx, 0, &r) == 0 && r.idx == c.idx && r.dir == 0,
	      "refresh_ref: a reference to a live entry");
	w.ref = &r;
	r1 = twin_conn(&w, &c, 0, 10, "UDP through a reference");
	conn_frame(&c, 0, 10);
	c.fr.b[14 + 20 + 5] = 60;		/* UDP length past the packet */
	r2 = twin_pkt(&w, &c.fr, r.idx, r.dir, &c.p, "UDP bad length, reference") == 0;
	CHECK(r1 && !r2, "refresh_ref: a UDP refresh; not with a bad length");
	old = r;
	nf_ct_delete(w.a, c.idx);
	nf_ct_delete(w.b, c.idx);
	conn_init(&d, w.b, 4, NF_IPPROTO_UDP, 2000, 53);	/* reuses the entry */
	w.ref = NULL;
	twin_conn(&w, &d, 0, 10, "another flow in the freed entry");
	CHECK(d.idx == old.idx && nf_ct_entry(w.b, d.idx)->gen != old.gen,
	      "refresh_ref: the entry made again is another life (gen %u, was %u)",
	      nf_ct_entry(w.b, d.idx)->gen, old.gen);
	w.ref = &old;
	CHECK(!twin_conn(&w, &d, 0, 10, "a reference to the last life"),
	      "refresh_ref: a reference to a freed entry's life refuses, also after reuse");
	nf_ct_flush(w.a);
	nf_ct_flush(w.b);
	w.ref = NULL;
	conn_init(&c, w.b, 4, NF_IPPROTO_UDP, 53, 53);
	memcpy(c.b, c.a, 16);
	twin_conn(&w, &c, 0, 1, "self-inverse UDP");
	CHECK(nf_ct_ref_get(w.b, c.idx, 0, &r) == -EAGAIN && nf_ct_ref_get(w.b, c.idx, 1, &r) ==
	      -EAGAIN, "refresh_ref: no reference to an entry whose two tuples are equal");
	CHECK(w.bad == 0, "refresh_ref = nf_ct_in in every case above (%u differ)", w.bad);
	nf_ct_destroy(w.a);
	nf_ct_destroy(w.b);
}

/* The flows' remembered entries (test_refresh_random): (idx << 1 | dir),
 * or all ones; an entry's are forgotten when it is freed. */
enum { RF_FLOWS = 40 };
static uint32_t rf_memo[RF_FLOWS][2];

static void rf_forget(uint32_t idx)
{
	unsigned i;

	for (i = 0; i < RF_FLOWS * 2; i++)
		if (rf_memo[i / 2][i % 2] >> 1 == idx)
			rf_memo[i / 2][i % 2] = UINT32_MAX;
}

static void rf_gone(void *arg, uint32_t idx, struct nf_ct_entry *e)
{
	(void)arg;
	(void)e;
	rf_forget(idx);
}

/* Random traffic (flows of every protocol both families, random TCP
 * flags, bad UDP lengths and ICMP types, time passing, expiry, deletes,
 * flushes): refresh asked with the entry and direction b's nf_ct_in()
 * last gave the flow's packets that way, while that entry lives (as
 * nf-nat's cache does); the two tables never differ. @by_ref: through
 * nf_ct_refresh_ref() with a reference taken then (nf_ct_ref_get()) and
 * kept after the entry is freed (the gen must refuse it; ICMP is never
 * refreshed that way). */
static void test_refresh_random(bool by_ref)
{
	enum { FLOWS = RF_FLOWS, PKTS = 60000, MAX = 256 };
	static const uint8_t flags[] = { SYN, SYN | ACK, ACK, ACK, ACK | PSH, ACK | PSH,
					 FIN | ACK, RST, RST | ACK, 0x3f, 0 };
	struct nf_ct_conf conf;
	struct twin w = { NULL, NULL, MAX, 0, 0, NULL };
	uint32_t (*memo)[2] = rf_memo;
	static struct nf_ct_ref ref[FLOWS][2];
	static bool has_ref[FLOWS][2];
	const struct nf_ct_ref none = { MAX - 1, UINT32_MAX, 0 };	/* never matches */
	uint64_t hits[3] = { 0 }, stale = 0;
	const uint64_t saved = now;
	static struct conn fl[FLOWS];
	unsigned i, k;

	nf_ct_conf_default(&conf, MAX);
	conf.to.tcp[NF_CT_TCP_CLOSE] = 2;
	conf.to.udp = 3;
	conf.to.udp_stream = 6;
	conf.to.icmp = 4;
	if (nf_ct_create(&conf, &w.a) < 0 || nf_ct_create(&conf, &w.b) < 0) {
		CHECK(0, "refresh: tables created");
		return;
	}
	memset(rf_memo, 0xff, sizeof(rf_memo));
	memset(has_ref, 0, sizeof(has_ref));
	for (k = 0; k < FLOWS; k++) {		/* protocols and families mixed */
		conn_init(&fl[k], w.b, k & 1 ? 6 : 4, k % 6 < 3 ? NF_IPPROTO_TCP :
			  k % 6 < 5 ? NF_IPPROTO_UDP : k & 1 ? NF_IPPROTO_ICMPV6 : NF_IPPROTO_ICMP,
			  (uint16_t)(1000 + k), 53);
		fl[k].a[3] = (uint8_t)(100 + k);
		fl[k].a[15] = (uint8_t)k;
	}
	for (i = 0; i < PKTS; i++) {
		const unsigned f = rnd() % FLOWS, dir = rnd() & 1;
		struct conn *c = &fl[f];
		const uint8_t proto = c->proto;
		const bool v4 = c->fam == 4;
		struct nf_ct_pkt p;
		uint32_t idx = memo[f][dir] >> 1, d = memo[f][dir] & 1;
		uint64_t before = w.hits;

		if (proto == NF_IPPROTO_TCP) {
			conn_frame(c, (int)dir, flags[rnd() % sizeof(flags)]);
		} else if (proto == NF_IPPROTO_UDP) {
			conn_frame(c, (int)dir, (uint8_t)(rnd() % 4));
			if (rnd() % 16 == 0)
				c->fr.b[c->fr.h.l4_off + 5] = (uint8_t)rnd();	/* length */
		} else {				/* a request, or a reply, either way */
			conn_frame(c, (int)dir, (uint8_t)(((rnd() % 16 == 0) ^ dir) ?
							  (v4 ? 0 : 129) : (v4 ? 8 : 128)));
		}
		if (by_ref) {
			const struct nf_ct_ref *r = &ref[f][dir];

			w.ref = has_ref[f][dir] ? r : &none;
			idx = w.ref->idx;
			d = w.ref->dir;
			stale += has_ref[f][dir] && nf_ct_entry(w.b, r->idx)->gen != r->gen;
		}
		twin_pkt(&w, &c->fr, idx, d, &p, by_ref ? "random traffic, references" :
			 "random traffic");
		if (p.idx < MAX) {
			memo[f][dir] = p.idx << 1 | p.dir;
			has_ref[f][dir] = nf_ct_ref_get(w.b, p.idx, p.dir, &ref[f][dir]) == 0;
		}
		if (w.hits > before)
			hits[proto == NF_IPPROTO_TCP ? 0 : proto == NF_IPPROTO_UDP ? 1 : 2]++;
		now += (uint64_t)(rnd() % 40) * 1000000;
		if (rnd() % 64 == 0) {
			nf_ct_expire(w.a, now, NULL, NULL);
			nf_ct_expire(w.b, now, rf_gone, NULL);
		}
		if (rnd() % 512 == 0) {
			k = rnd() % MAX;
			nf_ct_delete(w.a, k);
			nf_ct_delete(w.b, k);
			rf_forget(k);
		}
		if (rnd() % 16384 == 0) {
			nf_ct_flush(w.a);
			nf_ct_flush(w.b);
			memset(rf_memo, 0xff, sizeof(rf_memo));
		}
	}
	CHECK(w.bad == 0 && hits[0] > 1000 && hits[1] > 1000 &&
	      (by_ref ? hits[2] == 0 && stale > 100 : hits[2] > 1000),
	      "refresh%s = nf_ct_in on %u random packets (%u differ); refreshed TCP %llu, UDP "
	      "%llu, ICMP %llu; references to a freed entry %llu", by_ref ? "_ref" : "", PKTS,
	      w.bad, (unsigned long long)hits[0], (unsigned long long)hits[1],
	      (unsigned long long)hits[2], (unsigned long long)stale);
	nf_ct_destroy(w.a);
	nf_ct_destroy(w.b);
	now = saved;
}

int main(void)
{
	test_tcp_table();
	test_tcp_sequences();
	test_tcp_new();
	test_tcp_flags();
	test_tcp_special();
	test_tcp_timeouts();
	test_udp();
	test_icmp_queries();
	test_icmp_errors();
	test_other_protocols();
	test_expiry();
	test_tuples();
	test_api();
	test_malformed();
	test_capacity();
	test_burst();
	test_refresh_cases();
	test_refresh_ref_cases();
	test_refresh_random(false);
	test_refresh_random(true);
	return nf_test_report();
}
