/* nf_ct.h - connection tracking: a preallocated table of sessions, each
 * found from either direction, with Linux's TCP state machine and UDP /
 * ICMP / other-protocol timeouts. The base of nf-firewall's stateful mode
 * and of nf-nat (whose sessions are entries whose reply tuple is the
 * translated one, as in Linux's conntrack).
 *
 * Model (Linux's nf_conntrack, net/netfilter/nf_conntrack_core.c and
 * nf_conntrack_proto_{tcp,udp,icmp,icmpv6}.c):
 *   - an entry holds two tuples, ORIG (as the first packet was seen) and
 *     REPLY (what the answer looks like: addresses and ports swapped, or
 *     translated by NAT); a packet's tuple finds the entry and the
 *     direction;
 *   - nf_ct_in() classifies a packet: NEW (no entry; nothing is inserted
 *     until the caller accepts the packet and calls nf_ct_confirm()),
 *     ESTABLISHED (an entry, either direction, packet valid for its state),
 *     RELATED (an ICMP / ICMPv6 error whose quoted packet belongs to an
 *     entry), INVALID (malformed for tracking, or not valid in the entry's
 *     state: Linux's tcp_conntracks table gives sIV);
 *   - TCP follows Linux's state table (SYN_SENT, SYN_RECV, ESTABLISHED,
 *     FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2) with
 *     its per-state timeouts; sequence-window tracking is NOT done (as
 *     Linux with nf_conntrack_tcp_no_window_check=1, which also leaves
 *     out the timeouts windows would shorten); a non-SYN packet (a plain
 *     ACK) may start a connection when tcp_loose is set (Linux's
 *     nf_conntrack_tcp_loose, default 1);
 *   - UDP: "unreplied" then "stream" timeouts (Linux 6.x: stream and
 *     ASSURED once a reply was seen and the flow is 2 s old); UDP-Lite,
 *     SCTP, DCCP by ports; ICMP echo / timestamp / info / address-mask
 *     queries and ICMPv6 echo / node information are tracked by
 *     identifier (see nf_ct_tuple); other protocols by addresses only.
 *   - An entry Linux would kill (a RST as the only answer, a TCP
 *     connection reopened from TIME_WAIT / CLOSE) and an entry past its
 *     timeout are dead at once for lookups, but stay readable through
 *     nf_ct_entry() until nf_ct_expire() reaches them (and passes them to
 *     its callback) within about a second.
 *
 * Memory: nf_ct_create() allocates everything (entries, hash buckets);
 * nothing is allocated afterwards. A full table refuses new entries
 * (nf_ct_confirm() returns -ENOSPC, counted in stats.full), existing ones
 * keep working. Expiry is spread: nf_ct_expire() visits a bounded slice
 * of the table per call (the whole table about once a second when called
 * every 10 ms), never a pause proportional to the table.
 *
 * One thread: lookups, inserts, expiry all from the VNF's thread. No locks.
 */
#ifndef NF_CT_H
#define NF_CT_H

#include "nf_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_CT_ORIG	0
#define NF_CT_REPLY	1

/* A packet's identity in one direction. 40 bytes, compared and hashed as
 * a whole: unused bytes MUST be zero (build with nf_ct_tuple_of() or
 * memset first).
 *   TCP, UDP (and UDP-Lite, SCTP, DCCP: ports at the same place):
 *           sport, dport as in the header.
 *   ICMP / ICMPv6 queries and their replies: sport = the identifier,
 *           dport = 0 (a request and its reply have equal tuples but for
 *           the swapped addresses, so the reply finds the entry).
 *   other:  sport = dport = 0. */
struct nf_ct_tuple {
	uint8_t src[16];	/* IPv4: bytes 0-3, network order; rest zero */
	uint8_t dst[16];
	uint16_t sport;		/* network order */
	uint16_t dport;		/* network order */
	uint8_t proto;		/* IP protocol / last IPv6 next header */
	uint8_t family;		/* 4 or 6 */
	uint16_t zone;		/* 0 unless the caller separates tables */
};

/* The result of nf_ct_in(). */
enum nf_ct_state {
	NF_CT_NEW = 0,
	NF_CT_ESTABLISHED,
	NF_CT_RELATED,
	NF_CT_INVALID,
	NF_CT_UNTRACKED,	/* not IP, or a fragment after the first */
};

/* TCP states, Linux's order and names (nf_conntrack_tcp.h). */
enum nf_ct_tcp {
	NF_CT_TCP_NONE = 0, NF_CT_TCP_SYN_SENT, NF_CT_TCP_SYN_RECV,
	NF_CT_TCP_ESTABLISHED, NF_CT_TCP_FIN_WAIT, NF_CT_TCP_CLOSE_WAIT,
	NF_CT_TCP_LAST_ACK, NF_CT_TCP_TIME_WAIT, NF_CT_TCP_CLOSE,
	NF_CT_TCP_SYN_SENT2, NF_CT_TCP_MAX
};

/* Entry flags. Bits 0x10-0x80 are the library's own (TCP details). */
#define NF_CT_F_SEEN_REPLY	0x01	/* a packet went the REPLY way */
#define NF_CT_F_ASSURED		0x02	/* Linux's IPS_ASSURED */

struct nf_ct_entry {
	struct nf_ct_tuple t[2];	/* [NF_CT_ORIG], [NF_CT_REPLY] */
	uint32_t expires;		/* ms of the callers' clock (now_ns / 10^6)
					 * modulo 2^32: compare by wrap-safe
					 * difference, or use nf_ct_ttl() */
	uint8_t tcp_state;		/* enum nf_ct_tcp (TCP entries) */
	uint8_t flags;			/* NF_CT_F_* */
	uint8_t tcp_last_dir;		/* for the state table's dir-aware cases */
	uint8_t tcp_last_index;
	uint32_t user;			/* free for the VNF (nf-nat: its mapping) */
	uint32_t gen;			/* the entry's life: changes each time it is
					 * freed, so that a remembered (index, gen)
					 * (struct nf_ct_ref) never names a later
					 * connection in the same place */
	uint64_t packets[2], bytes[2];	/* per direction */
};

/* Timeouts in seconds. */
struct nf_ct_timeouts {
	uint32_t tcp[NF_CT_TCP_MAX];	/* per TCP state (index NONE unused) */
	uint32_t tcp_unack;		/* Linux: data not yet acknowledged; here
					 * only the cap of a picked-up connection
					 * until its first reply (as in Linux) */
	uint32_t udp;			/* unreplied */
	uint32_t udp_stream;		/* seen both ways */
	uint32_t icmp;
	uint32_t generic;
};

/* Ranges nf_ct_create() accepts. Timeouts above NF_CT_TIMEOUT_MAX are
 * refused by nf_ct_create() and capped by nf_ct_set_conf(). */
#define NF_CT_MAX_MIN		16u
#define NF_CT_MAX_MAX		(1u << 24)
#define NF_CT_TIMEOUT_MAX	2000000u	/* s, 23 days */

struct nf_ct_conf {
	uint32_t max;			/* entries, 16 .. 16M */
	bool tcp_loose;			/* non-SYN may start a TCP entry */
	struct nf_ct_timeouts to;
};

/* Linux's defaults (6.x): TCP SYN_SENT 120, SYN_RECV 60, ESTABLISHED
 * 432000, FIN_WAIT 120, CLOSE_WAIT 60, LAST_ACK 30, TIME_WAIT 120, CLOSE
 * 10, SYN_SENT2 120, unack 300; UDP 30 / 120; ICMP 30; generic 600; loose. */
void nf_ct_conf_default(struct nf_ct_conf *c, uint32_t max);

struct nf_ct_stats {
	uint32_t count, max;
	uint64_t inserted, deleted, expired, full, invalid;
	uint64_t searched;		/* lookups */
	size_t bytes;			/* memory allocated */
};

struct nf_ct;

/* 0 or -EINVAL (bad conf) / -ENOMEM; nf_last_error() says why. */
int nf_ct_create(const struct nf_ct_conf *c, struct nf_ct **ctp);
void nf_ct_destroy(struct nf_ct *ct);
/* Timeouts and tcp_loose may change at any time (runtime keys). */
void nf_ct_set_conf(struct nf_ct *ct, const struct nf_ct_conf *c);

/* What nf_ct_in() found out about a packet, for nf_ct_confirm() and the
 * caller's rules (reject needs the tuple; NAT rewrites from it). */
struct nf_ct_pkt {
	struct nf_ct_tuple t;		/* the packet's tuple */
	uint32_t idx;			/* the entry (ESTABLISHED, RELATED) */
	uint8_t dir;			/* NF_CT_ORIG / NF_CT_REPLY */
	uint8_t tcp_flags;		/* TCP only */
	uint8_t icmp_error;		/* an ICMP/ICMPv6 error (RELATED or not) */
	uint8_t pad;
	struct nf_ct_tuple inner;	/* ICMP error: the quoted packet's tuple
					 * (as quoted, not inverted); only valid
					 * when icmp_error is set */
	uint32_t len;			/* bytes counted: the IP packet (l3_len) */
};

/* Classify the parsed frame @f (@h from nf_parse) at @now_ns: fill @p and
 * return its state. ESTABLISHED and RELATED update the entry (TCP state,
 * timeout, counters; RELATED only counters); NEW inserts nothing (p->idx
 * is UINT32_MAX); INVALID changes nothing and is counted. Every packet
 * of an entry is ESTABLISHED, also before the first reply (Linux's
 * ctinfo says NEW there: test NF_CT_F_SEEN_REPLY). */
enum nf_ct_state nf_ct_in(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h,
			  uint64_t now_ns, struct nf_ct_pkt *p);

/* nf_ct_in() on the frames @f[i] (headers @h[i]) for i = 0, 1, ... in
 * order, into @p[i] and @st[i] (an enum nf_ct_state), all at @now_ns;
 * the same results and the same updates as that many nf_ct_in() calls,
 * with the table's cache misses of different packets overlapped (hashes
 * and bucket prefetches for all, then entry prefetches, then the
 * packets). It stops after the first NEW packet, so that the caller can
 * nf_ct_confirm() it (or not) before the next packets are classified (a
 * second packet of the connection must find its entry): returns how many
 * packets were classified, n or fewer (at least 1 when n > 0); call again
 * with the rest. Any @n; the cost per packet is lowest from about 8. */
unsigned nf_ct_in_burst(struct nf_ct *ct, const uint8_t *const *f,
			const struct nf_hdrs *const *h, unsigned n, uint64_t now_ns,
			struct nf_ct_pkt *p, uint8_t *st);

/* nf_ct_in()'s steady state without the lookup, for a caller that
 * remembers where a packet's tuple was found (nf-nat's flow cache): the
 * packet @f (@h as for nf_ct_in()) has the tuple t[@dir] of entry @idx,
 * as nf_ct_in() or nf_ct_lookup() said since the entry was made (an entry
 * is freed only by nf_ct_expire(), whose callback sees it go, and by
 * nf_ct_delete() and nf_ct_flush()). When the entry is alive at @now_ns,
 * its two tuples differ, and the packet leaves its state as it is:
 *   UDP   a valid length field, and the entry ASSURED, or not replied
 *         yet and the packet going ORIG;
 *   TCP   valid flags that keep the state as it is with nothing but
 *         Linux's table (ACK, PSH/ACK... in ESTABLISHED), entry ASSURED;
 *   ICMP / ICMPv6  a query of the entry's direction (request ORIG,
 *         reply REPLY), that direction seen before;
 * it does to the table exactly what nf_ct_in() would do (timeout,
 * counters, TCP's last flags index and direction, the table's clock and
 * lookup count) and returns 0: nf_ct_in() would have returned
 * ESTABLISHED with p->idx = @idx, p->dir = @dir. Otherwise -EAGAIN and
 * nothing is changed: call nf_ct_in(). */
int nf_ct_refresh(struct nf_ct *ct, const uint8_t *f, const struct nf_hdrs *h, uint32_t idx,
		  unsigned dir, uint64_t now_ns);

/* nf_ct_refresh()'s TCP and UDP cases inline, for a flow cache that does
 * its per-entry checks once when it fills a slot, not per packet:
 * nf_ct_ref_get() checks what does not change while the entry lives and
 * remembers which life of the entry it saw (nf_ct_entry.gen);
 * nf_ct_refresh_ref() checks the rest per packet (the same life, alive,
 * the packet leaves the state as it is) and takes the clock in ms, which
 * the caller works out once per burst (nf_ct_ms()).
 *
 * The caller's promise is nf_ct_refresh()'s: the packet has the tuple
 * t[dir] of the entry (the cache key is the packet's tuple, or more). The
 * entry may have been freed, or freed and reused, since: its gen says
 * so. */
struct nf_ct_ref {
	uint32_t idx;			/* the entry */
	uint32_t gen;			/* its gen when the reference was taken */
	uint8_t dir;			/* NF_CT_ORIG / NF_CT_REPLY */
};

/* The table's clock at @now_ns: ms modulo 2^32, as nf_ct_in() counts. */
static inline uint32_t nf_ct_ms(uint64_t now_ns)
{
	return (uint32_t)(now_ns / 1000000u);
}

/* A reference to direction @dir of entry @idx (as nf_ct_in() or
 * nf_ct_lookup() said for a packet): 0 and *@r; -EAGAIN when @idx or @dir
 * are out of range, the entry is free, or its two tuples have the same
 * source (an entry equal to its own inverse answers for either direction:
 * nf_ct_in() takes whichever slot comes first, so no direction can be
 * remembered for it). */
int nf_ct_ref_get(struct nf_ct *ct, uint32_t idx, unsigned dir, struct nf_ct_ref *r);

/* The fields nf_ct_refresh_ref() reads and writes: the first member of
 * the table (struct nf_ct is private to nf_ct.c; this is what an inline
 * function may see of it). Nothing else uses them. */
struct nf_ct_hot {
	struct nf_ct_entry *ent;	/* the entries */
	uint32_t now;			/* ms: the latest time we were given */
	uint32_t to_udp, to_stream;	/* timeouts in ms: UDP unreplied, stream */
	uint32_t to_tcp[NF_CT_TCP_MAX];	/* per TCP state */
	uint64_t searched;		/* lookups (a refresh counts as one) */
	uint16_t stay[2][8];		/* [dir][flags index]: bit s set when a
					 * packet leaves TCP state s as it is
					 * with nothing but Linux's table */
	uint8_t tcp_ix[64];		/* TCP flags & 0x37 -> the table's index;
					 * invalid flags -> 5 (stay[][5] is 0) */
};

/* nf_ct_refresh() of the TCP or UDP packet whose L4 header is at @l4
 * (f + h->l4_off of the frame f, @h) through @r at @now (nf_ct_ms()): 0
 * when the entry is still the life @r saw, alive, and the
 * packet leaves its state as it is, with the same update nf_ct_in() makes
 * (see nf_ct_refresh()); else -EAGAIN, nothing changed: call nf_ct_in().
 * ICMP and other protocols: always -EAGAIN (nf_ct_refresh() has them). */
static inline int nf_ct_refresh_ref(struct nf_ct *ct, const struct nf_ct_ref *r,
				    const uint8_t *l4, const struct nf_hdrs *h, uint32_t now)
{
	struct nf_ct_hot *c = (struct nf_ct_hot *)(void *)ct;
	struct nf_ct_entry *e = &c->ent[r->idx];
	const unsigned dir = r->dir, fl = e->flags;
	uint32_t to;

	if (__builtin_expect(e->gen != r->gen || (int32_t)(e->expires - now) <= 0 ||
			     !(h->flags & NF_HDR_L4), 0))
		return -EAGAIN;
	if (__builtin_expect(h->l4_proto == NF_IPPROTO_UDP, 1)) {
		/* the length field within the packet, 8 <= length <= l4_len
		 * (nf_ct_in() finds it INVALID otherwise; a first fragment
		 * carries only part of the datagram) */
		uint16_t len;

		__builtin_memcpy(&len, l4 + 4, 2);
		if (!(h->flags & NF_HDR_FRAG) &&
		    (uint32_t)__builtin_bswap16(len) - 8 > h->l4_len - 8u)
			return -EAGAIN;
		if (fl & NF_CT_F_ASSURED)		/* a stream for good */
			to = c->to_stream;
		else if (!((fl & NF_CT_F_SEEN_REPLY) | dir))	/* unreplied, ORIG */
			to = c->to_udp;
		else
			return -EAGAIN;	/* the first replies: the 2 s rule */
	} else if (h->l4_proto == NF_IPPROTO_TCP) {
		const unsigned ix = c->tcp_ix[l4[13] & 0x37], st = e->tcp_state;

		if (!(fl & NF_CT_F_ASSURED) || !(c->stay[dir][ix] >> st & 1))
			return -EAGAIN;
		e->tcp_last_index = (uint8_t)ix;
		e->tcp_last_dir = (uint8_t)dir;
		to = c->to_tcp[st];
	} else {
		return -EAGAIN;
	}
	c->now = now;
	c->searched++;
	e->expires = now + to;
	e->packets[dir]++;
	e->bytes[dir] += h->l3_len;
	return 0;
}

/* Insert the entry for a NEW packet @p (after the caller accepted it).
 * @reply: the REPLY tuple, or NULL for the plain inverse of p->t (NAT
 * passes the translated one). Sets p->idx, applies the first packet's TCP
 * state and counts it. 0, or -ENOSPC (full, or no room within the hash's
 * search bound: counted), -EEXIST (a tuple is taken: NAT must pick
 * another), -EINVAL (not an IPv4/IPv6 tuple, or TCP flags that cannot
 * start a connection). */
int nf_ct_confirm(struct nf_ct *ct, struct nf_ct_pkt *p, const struct nf_ct_tuple *reply,
		  uint64_t now_ns);

/* Find the entry of @t; 0 and *idx, *dir, or -ENOENT. (nf-nat uses it to
 * test whether a translated tuple is free.) "Alive" is judged at the
 * latest time the table was given (nf_ct_in, nf_ct_confirm, nf_ct_expire),
 * as for nf_ct_foreach(). */
int nf_ct_lookup(struct nf_ct *ct, const struct nf_ct_tuple *t, uint32_t *idx, uint8_t *dir);

struct nf_ct_entry *nf_ct_entry(struct nf_ct *ct, uint32_t idx);
void nf_ct_delete(struct nf_ct *ct, uint32_t idx);

/* Bounded expiry work; call about every 10 ms. Returns entries expired.
 * @cb, if not NULL, is called for each one before it goes (nf-nat frees
 * its mapping). */
unsigned nf_ct_expire(struct nf_ct *ct, uint64_t now_ns,
		      void (*cb)(void *arg, uint32_t idx, struct nf_ct_entry *e), void *arg);

/* Every live entry, in table order, until @fn returns non-zero. */
void nf_ct_foreach(struct nf_ct *ct, int (*fn)(void *arg, uint32_t idx,
					       const struct nf_ct_entry *e), void *arg);
void nf_ct_flush(struct nf_ct *ct);
void nf_ct_get_stats(const struct nf_ct *ct, struct nf_ct_stats *s);

/* Names: "ESTABLISHED", "SYN_SENT"... for dumps. */
const char *nf_ct_state_name(enum nf_ct_state s);
const char *nf_ct_tcp_name(enum nf_ct_tcp s);
/* Seconds left before @e expires, at @now_ns. */
uint32_t nf_ct_ttl(const struct nf_ct *ct, const struct nf_ct_entry *e, uint64_t now_ns);

#endif
