/* fwd.c - nf-nat's three stages.
 *
 *   pre:     untagged IPv4 without options or fragmentation, with a good
 *            header checksum and a TCP, UDP or ICMP header, goes on
 *            inline; pre_one() does the rest: proxy ARP, IPv6 and non-IP
 *            frames passed through, fragments, options, VLAN tags
 *   process: the flow cache: a steady TCP / UDP packet of an established
 *            session is refreshed in nf_ct (nf_ct_refresh_ref(), inline),
 *            rewritten and given its port here (fc_run() takes the hits
 *            that start a burst); else nf_ct_in(), and an established
 *            session arriving on the side it belongs to is decided inline
 *            (and cached); process_one() does the rest: static 1:1 pairs,
 *            ICMP errors, new sessions (mapping, filtering, hairpinning,
 *            port choice), refusals
 *   post:    the packet is rewritten to the inverse of the session's
 *            other tuple (conntrack's rule: what the other side expects),
 *            checksums updated incrementally; MACs rewritten towards a
 *            port with a next hop. A burst the cache finished is not
 *            looked at.
 * Every frame ends in a port's transmit, a named drop or "handled".
 *
 * Cost (bench/callgrind-nat.sh: outbound UDP, 1 flow, 200,000 frames,
 * instructions per packet in the stages, gcc 12 -O2 -march=x86-64-v3):
 * 312.5 before the flow cache (pre 28, process 191 of which nf_ct_in 138,
 * post 93), 187.8 with it (pre 28, process 159 of which nf_ct_refresh
 * 60, post 1), 138.1 with the refresh inline through a reference and
 * fc_run() (pre 28, process 110 of which the refresh about 35, post 1).
 * 10,000 flows round robin, 400,000 frames (a third of the flows hold a
 * slot): 336.5 before the cache, 342.7 with it, 343.0 now.
 */
#include "nat.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* The session of each frame of the burst, from process to post. */
static struct nf_ct_entry *ent[NF_BURST_MAX];

/* process -> post: the frames passed on when none of them needs post's
 * work (all done by the flow cache or passed untouched), else -1. */
static int post_idle = -1;

static inline bool icmp_query(uint8_t type)
{
	return type == 8 || type == 13 || type == 15 || type == 17;
}

static inline unsigned other_port(const struct nat *n, unsigned in)
{
	return in == (unsigned)n->inside ? (unsigned)n->outside : (unsigned)n->inside;
}

/* ------------------------------------------------------------------ pre */

static __attribute__((noinline)) unsigned pre_one(struct nf_vnf *v, unsigned in,
						  struct nf_pkt *pk, const struct nf_hdrs *h,
						  uint16_t *verdict, uint16_t i)
{
	struct nat *n = nat;

	pk->user = 0;
	if (nf_unlikely(h->flags & NF_HDR_VLAN)) {
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_VLAN));
		return 0;
	}
	if (h->ethertype == NF_ETH_P_IPV4) {
		uint8_t *ip = pk->data + h->l3_off;

		if (!nf_ipv4_csum_ok((const struct nf_ipv4 *)ip, (ip[0] & 0x0f) * 4u)) {
			nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_BAD_CSUM));
			return 0;
		}
		if (h->flags & NF_HDR_FRAG_LATER) {
			/* no L4 header: the first fragment said how */
			int port;

			if (n->nst && nat_static_try(v, in, pk->data, h, verdict, i)) {
				pk->user = NAT_K_DONE;
				return 1;
			}
			port = nat_frag_xlat(ip, h, v->now_ns);
			if (port < 0) {
				nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_FRAG_NO_STATE));
				return 0;
			}
			n->frag_xlat++;
			verdict[i] = (uint16_t)port;
			pk->user = NAT_K_DONE;
			return 1;
		}
		if (h->flags & NF_HDR_FRAG)
			pk->user = NAT_K_FRAG;
		return 1;
	}
	if (h->ethertype == NF_ETH_P_ARP) {
		nat_arp_input(v, in, pk->data, h, verdict, i);
		if (verdict[i] >= NF_VNF_PORTS_MAX)
			return 0;
		pk->user = NAT_K_PASS;
		return 1;
	}
	if (h->ethertype == NF_ETH_P_IPV6)
		n->passed_ipv6++;
	else
		n->passed_other++;
	verdict[i] = (uint16_t)other_port(n, in);
	pk->user = NAT_K_PASS;
	return 1;
}

/* The common frame: untagged IPv4, no options, not a fragment, a TCP, UDP
 * or ICMP header, a good header checksum. */
uint16_t nat_pre(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		 const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	uint16_t i, pending = 0;

	for (i = 0; i < n; i++) {
		if (verdict[i] != NF_V_PENDING)
			continue;
		if (nf_likely(h[i].ethertype == NF_ETH_P_IPV4 && h[i].flags == NF_HDR_L4 &&
			      nf_ipv4_csum20_ok((const void *)(pkts[i].data + NF_ETH_HLEN)))) {
			pkts[i].user = 0;
			pending++;
			continue;
		}
		pending += pre_one(v, in, &pkts[i], &h[i], verdict, i);
	}
	return pending;
}

/* ----------------------------------------------------------- flow cache */

/* The established TCP / UDP sessions' steady packets skip the lookup and
 * post: a direct-mapped cache keyed by the input port and the frame's own
 * 5-tuple words (IPv4 without options, untagged, not a fragment: the
 * header at 14, L4 at 34) gives the session's nf_ct entry and direction
 * and its rewrite, worked out once from the entry's other tuple: the new
 * addresses and ports, the RFC 1624 sums of both checksums, the output
 * port. A hit is taken only when nf_ct_refresh_ref() finds the packet
 * to be exactly a refresh of that live entry holding its tuple; anything
 * else (a state change, expiry, flags, a bad length) goes the normal way,
 * which fills the slot again. The slot holds an nf_ct reference (entry,
 * direction, and the entry's life, its gen), so the rewrite stays right:
 * an entry's tuples and user word never change while it lives, and once
 * it is freed (and maybe made again for another connection) the gen
 * differs and the slot is refused. A slot is also cleared when its
 * session expires (nat_session_gone), so that another flow may take it
 * at once. */
#define FC_SIZE	65536			/* slots, a power of two: 4 MiB, room
					 * for 10,000 busy flows (4096 slots:
					 * 343 instructions per packet at
					 * 10,000 flows, 65536: 156.4; BENCHMARKS) */

struct fc_slot {
	uint64_t addrs;			/* key: IPv4 header bytes 12-19 */
	uint64_t rest;			/* key: fc_rest(); 0: empty */
	uint64_t new_addrs;		/* the new header bytes 12-19 */
	struct nf_ct_ref ref;		/* the nf_ct entry, its life, direction */
	uint32_t new_ports;		/* the new L4 bytes 0-3 */
	uint16_t d_ip, d_l4;		/* sums for the checksums (folded) */
	uint8_t out;			/* output port */
	uint8_t l2;			/* the port has a next hop: */
	uint8_t l2_hdr[12];		/* its MACs (dst, src) */
	uint32_t used;			/* ms (now_ns / 10^6) of the last hit */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct fc_slot) == 64, "a slot is one cache line");

/* A slot held by a flow that hit it within this many ms is not given to
 * another: many flows sharing slots would otherwise take turns evicting
 * each other and all miss (and pay for the fill). */
#define FC_KEEP_MS	1000

static struct fc_slot fc[FC_SIZE];

/* The key's second word: L4 bytes 0-3 @ports as in the frame, the
 * protocol, fc_in() of the input port. */
static inline uint64_t fc_rest(uint32_t ports, uint8_t proto, uint64_t in_bits)
{
	return ports | (uint64_t)proto << 32 | in_bits;
}

/* The input port @in's bits of the key; bit 63 set so that no key is 0. */
static inline uint64_t fc_in(unsigned in)
{
	return (uint64_t)in << 40 | 1ull << 63;
}

static inline struct fc_slot *fc_slot_of(uint64_t addrs, uint64_t rest)
{
#if defined(__SSE4_2__)
	uint64_t x = __builtin_ia32_crc32di(__builtin_ia32_crc32di(0, addrs), rest);
#else
	uint64_t x = addrs * 0x9e3779b97f4a7c15ull ^ rest * 0xc2b2ae3d27d4eb4full;

	x ^= x >> 32;
#endif
	return &fc[x & (FC_SIZE - 1)];
}

/* Checksum field @c after adding the folded sum @d (RFC 1624 eqn. 3): the
 * same value nat_csum_adj() gives for the unfolded sum (the one's
 * complement sum of ~c and d is the same and is 0 only when both are). */
static inline uint16_t csum_adj16(uint16_t c, uint16_t d)
{
	uint16_t s = (uint16_t)(~c + d);

	s += s < d;			/* end-around carry: add, adc (a 32-bit sum
					 * and a fold cost 4 more; equal for all
					 * 2^32 inputs) */
	return (uint16_t)~s;
}

/* Remember the translation of the frame @f (TCP or UDP, the fast-path
 * shape) that arrived on @in, belongs to direction @dir of entry @idx
 * (@e) and leaves by @out: xlat_ports()'s rewrite, its sums worked out;
 * unless another flow holds the slot and hit it in the last FC_KEEP_MS
 * before @ms, or nf_ct will not give a reference to the entry. */
static void fc_fill(const struct nat *n, const uint8_t *f, unsigned in,
		    const struct nf_ct_entry *e, uint32_t idx, unsigned dir, unsigned out,
		    uint32_t ms)
{
	const uint8_t *ip = f + NF_ETH_HLEN, *l4 = ip + 20;
	const struct nf_ct_tuple *o = &e->t[!dir];
	uint32_t os, od, op, na[2], np;
	uint64_t addrs, rest, d;
	struct nf_ct_ref ref;
	struct fc_slot *s;

	memcpy(&addrs, ip + 12, 8);
	memcpy(&op, l4, 4);
	rest = fc_rest(op, ip[9], fc_in(in));
	s = fc_slot_of(addrs, rest);
	if (s->rest != 0 && (s->addrs != addrs || s->rest != rest) &&
	    (int32_t)(ms - s->used) < FC_KEEP_MS)
		return;
	if (nf_ct_ref_get(n->ct, idx, dir, &ref) < 0)
		return;
	memcpy(&os, ip + 12, 4);
	memcpy(&od, ip + 16, 4);
	memcpy(&na[0], o->dst, 4);
	memcpy(&na[1], o->src, 4);
	memcpy(&np, &o->sport, 4);
	np = np >> 16 | np << 16;
	d = (uint64_t)(uint32_t)~os + (uint32_t)~od + na[0] + na[1];
	s->used = ms;
	s->addrs = addrs;
	s->rest = rest;
	memcpy(&s->new_addrs, na, 8);
	s->new_ports = np;
	s->ref = ref;
	s->out = (uint8_t)out;
	s->d_ip = nf_csum_fold(d);
	s->d_l4 = nf_csum_fold(d + (uint32_t)~op + np);
	s->l2 = n->l2_set[out];
	memcpy(s->l2_hdr, n->l2_hdr[out], 12);
}

/* Clear the slots that may name entry @idx (@e, about to be freed): its
 * two tuples as they arrive on either port. */
static void fc_forget(const struct nat *n, uint32_t idx, const struct nf_ct_entry *e)
{
	unsigned d, k;

	for (d = 0; d < 2; d++) {
		const struct nf_ct_tuple *t = &e->t[d];
		uint8_t a[8];
		uint64_t addrs;
		uint32_t ports;

		memcpy(a, t->src, 4);
		memcpy(a + 4, t->dst, 4);
		memcpy(&addrs, a, 8);
		memcpy(&ports, &t->sport, 4);
		for (k = 0; k < 2; k++) {
			struct fc_slot *s = fc_slot_of(addrs, fc_rest(ports, t->proto, fc_in(
				(unsigned)(k ? n->outside : n->inside))));

			if (s->rest != 0 && s->ref.idx == idx)
				s->rest = 0;
		}
	}
}

/* A hit: the frame @f rewritten as slot @s says (xlat_ports()'s result),
 * the MACs towards its port. */
static inline void fc_rewrite(uint8_t *f, const struct fc_slot *s)
{
	uint8_t *ip = f + NF_ETH_HLEN, *l4 = ip + 20;
	uint16_t c;

	memcpy(ip + 12, &s->new_addrs, 8);
	memcpy(l4, &s->new_ports, 4);
	memcpy(&c, ip + 10, 2);
	c = csum_adj16(c, s->d_ip);
	memcpy(ip + 10, &c, 2);
	if (ip[9] == NF_IPPROTO_TCP) {
		memcpy(&c, l4 + 16, 2);
		c = csum_adj16(c, s->d_l4);
		memcpy(l4 + 16, &c, 2);
	} else {
		memcpy(&c, l4 + 6, 2);
		if (c != 0) {			/* 0: no checksum, stays so */
			c = csum_adj16(c, s->d_l4);
			memcpy(l4 + 6, c ? &c : &(const uint16_t){ 0xffff }, 2);
		}
	}
	if (s->l2)
		memcpy(f, s->l2_hdr, 12);
}

/* -------------------------------------------------------------- process */

/* Does a packet going direction @dir of a session with user word @u
 * arrive on the right side (@outside: it came in on the outside port)? */
static inline bool right_side(uint32_t u, unsigned dir, unsigned outside)
{
	return ((dir ^ (u >> 24)) & 1) == outside;
}

static inline void tuple_addrs(struct nf_ct_tuple *t, uint32_t src, uint32_t dst)
{
	memcpy(t->src, &src, 4);
	memcpy(t->dst, &dst, 4);
}

/* Insert the session of NEW packet @p with reply tuple @r, for mapping
 * @m (new: @fresh). 0, or the drop reason + 1. An -EEXIST for a fresh
 * outbound mapping is retried with other ports (the taken ones stay
 * reserved until the end, so that the search moves on). */
static int confirm(struct nat *n, struct nf_ct_pkt *p, struct nf_ct_tuple *r, uint32_t m,
		   bool fresh, bool outbound, uint64_t now)
{
	const struct nat_map *mm = &n->map[m];
	int held[8], ret, reason = 0;
	unsigned nheld = 0, k;

	for (;;) {
		ret = nf_ct_confirm(n->ct, p, r, now);
		if (ret == 0)
			break;
		if (ret == -EEXIST && fresh && outbound && nheld < NF_ARRAY_SIZE(held)) {
			held[nheld] = nat_map_move(n, m);
			if (held[nheld] >= 0) {
				nheld++;
				if (p->t.proto == NF_IPPROTO_ICMP)
					r->sport = mm->ext_port;
				else
					r->dport = mm->ext_port;
				continue;
			}
			ret = -ENOSPC;
			reason = 1 + NAT_DROP_NO_PORT;
		}
		if (reason == 0)
			reason = 1 + (ret == -ENOSPC ? NAT_DROP_SESSIONS_FULL : NAT_DROP_CLASH);
		if (fresh)
			nat_map_put(n, m);
		break;
	}
	for (k = 0; k < nheld; k++)
		nat_port_release(n, mm->ext, mm->proto, (unsigned)held[k]);
	return reason;
}

/* A NEW packet: its mapping (made if it has none), filtering, the
 * session. Returns the output port or -1 (dropped). */
static int new_session(struct nf_vnf *v, unsigned in, struct nf_ct_pkt *p,
		       const uint8_t *f, const struct nf_hdrs *h, uint16_t *verdict, uint16_t i)
{
	struct nat *n = nat;
	const unsigned ps = nat_proto_slot(p->t.proto);
	const bool icmp = ps == NAT_P_ICMP;
	struct nf_ct_tuple r;
	uint32_t src, dst, m, user;
	int reason, out;
	bool fresh = false, no_port;

	if (ps == NAT_P_MAX || !(h->flags & NF_HDR_L4)) {
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_UNSUPPORTED));
		return -1;
	}
	if (icmp && !icmp_query(f[h->l4_off])) {	/* replies, unknown types */
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_NO_MAPPING));
		return -1;
	}
	memcpy(&src, p->t.src, 4);
	memcpy(&dst, p->t.dst, 4);
	memset(&r, 0, sizeof(r));
	r.proto = p->t.proto;
	r.family = 4;
	if (in == (unsigned)n->inside) {
		const int dext = nat_pool_find(n, dst);
		uint32_t mb = UINT32_MAX;

		if (dext >= 0) {			/* hairpinning, REQ-9 */
			if (!n->set.hairpin) {
				nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_HAIRPIN_OFF));
				return -1;
			}
			if (!icmp)
				mb = nat_map_find_ext(n, ps, (unsigned)dext, p->t.dport);
			if (mb == UINT32_MAX) {
				nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_NO_MAPPING));
				return -1;
			}
		}
		m = nat_map_find_in(n, ps, src, p->t.sport);
		if (m == UINT32_MAX) {
			int x = nat_map_new(n, ps, src, p->t.sport, &no_port);

			if (x < 0) {
				nf_vnf_drop(v, verdict, i, nat_reason(no_port ? NAT_DROP_NO_PORT :
								      NAT_DROP_SESSIONS_FULL));
				return -1;
			}
			m = (uint32_t)x;
			fresh = true;
		}
		if (mb != UINT32_MAX) {
			tuple_addrs(&r, n->map[mb].in_addr, n->pool[n->map[m].ext].addr);
			r.sport = n->map[mb].in_port;
			r.dport = n->map[m].ext_port;
		} else {
			tuple_addrs(&r, dst, n->pool[n->map[m].ext].addr);
			r.sport = icmp ? n->map[m].ext_port : p->t.dport;
			r.dport = icmp ? 0 : n->map[m].ext_port;
		}
		reason = confirm(n, p, &r, m, fresh, true, v->now_ns);
		if (reason > 0) {
			nf_vnf_drop(v, verdict, i, nat_reason((enum nat_drop)(reason - 1)));
			return -1;
		}
		user = m | (mb != UINT32_MAX ? NAT_U_HAIRPIN : 0);
		nat_filt_get(n, m, dst);
		out = mb != UINT32_MAX ? n->inside : n->outside;
		if (mb != UINT32_MAX)
			n->hairpinned++;
	} else {
		const int ext = nat_pool_find(n, dst);

		if (ext < 0) {
			nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_NOT_POOL));
			return -1;
		}
		m = nat_map_find_ext(n, ps, (unsigned)ext, icmp ? p->t.sport : p->t.dport);
		if (m == UINT32_MAX) {
			nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_NO_MAPPING));
			return -1;
		}
		/* REQ-8: address-dependent filtering lets in only what comes
		 * from an address the inside endpoint has sent to. */
		if (n->set.filtering == 1 && !nat_filt_has(n, m, src)) {
			nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_FILTERED));
			return -1;
		}
		tuple_addrs(&r, n->map[m].in_addr, src);
		r.sport = n->map[m].in_port;
		r.dport = icmp ? 0 : p->t.sport;
		reason = confirm(n, p, &r, m, false, false, v->now_ns);
		if (reason > 0) {
			nf_vnf_drop(v, verdict, i, nat_reason((enum nat_drop)(reason - 1)));
			return -1;
		}
		user = m | NAT_U_INBOUND;
		nat_filt_get(n, m, src);
		out = n->inside;
	}
	n->map[m].refs++;
	nf_ct_entry(n->ct, p->idx)->user = user;
	n->created++;
	return out;
}

/* Inbound refresh off (REQ-6 leaves it to us): a packet from outside may
 * shorten a session's timer (a TCP state change) but not extend it. */
static enum nf_ct_state ct_in_norefresh(struct nf_ct *ct, const uint8_t *f,
					const struct nf_hdrs *h, uint64_t now,
					struct nf_ct_pkt *p)
{
	struct nf_ct_tuple t;
	const uint8_t *ip = f + h->l3_off, *l4 = f + h->l4_off;
	struct nf_ct_entry *e = NULL;
	enum nf_ct_state st;
	uint32_t idx, before = 0;
	uint8_t dir;

	memset(&t, 0, sizeof(t));
	memcpy(t.src, ip + 12, 4);
	memcpy(t.dst, ip + 16, 4);
	t.proto = ip[9];
	t.family = 4;
	if (h->flags & NF_HDR_L4) {
		if (t.proto == NF_IPPROTO_TCP || t.proto == NF_IPPROTO_UDP) {
			memcpy(&t.sport, l4, 2);
			memcpy(&t.dport, l4 + 2, 2);
		} else if (t.proto == NF_IPPROTO_ICMP && (icmp_query(l4[0]) ||
							  l4[0] == 0 || l4[0] == 14 ||
							  l4[0] == 16 || l4[0] == 18)) {
			memcpy(&t.sport, l4 + 4, 2);
		}
	}
	if (nf_ct_lookup(ct, &t, &idx, &dir) == 0) {
		e = nf_ct_entry(ct, idx);
		before = e->expires;
	}
	st = nf_ct_in(ct, f, h, now, p);
	if (e != NULL && st == NF_CT_ESTABLISHED && p->idx == idx && e->expires > before)
		e->expires = before;
	return st;
}

/* Everything process does to one frame but the inline case. Returns 1
 * if the frame goes on to post. */
static __attribute__((noinline)) unsigned process_one(struct nf_vnf *v, unsigned in,
						      struct nf_pkt *pk, const struct nf_hdrs *h,
						      uint16_t *verdict, uint16_t i, int st,
						      struct nf_ct_pkt *p)
{
	struct nat *n = nat;
	uint8_t *f = pk->data;
	const unsigned outside = in == (unsigned)n->outside;
	struct nf_ct_entry *e;
	int out;

	if (n->nst && nat_static_try(v, in, f, h, verdict, i)) {
		pk->user = NAT_K_DONE;
		return 1;
	}
	if ((h->flags & NF_HDR_L4) && h->l4_proto == NF_IPPROTO_ICMP &&
	    nat_icmp_is_error(f[h->l4_off])) {
		out = nat_icmp_error(v, in, f, h, verdict, i);
		if (out < 0)
			return 0;
		verdict[i] = (uint16_t)out;
		pk->user = NAT_K_DONE;
		return 1;
	}
	if (st < 0)
		st = (int)(outside && !n->set.inbound_refresh ?
			   ct_in_norefresh(n->ct, f, h, v->now_ns, p) :
			   nf_ct_in(n->ct, f, h, v->now_ns, p));
	switch (st) {
	case NF_CT_ESTABLISHED:
		e = nf_ct_entry(n->ct, p->idx);
		if (e->user & NAT_U_HAIRPIN) {
			if (outside)
				break;
			out = n->inside;
		} else if (right_side(e->user, p->dir, outside)) {
			out = (int)other_port(n, in);
		} else {
			break;
		}
		ent[i] = e;
		pk->user = (pk->user & NAT_K_FRAG) | p->dir;
		verdict[i] = (uint16_t)out;
		return 1;
	case NF_CT_NEW:
		out = new_session(v, in, p, f, h, verdict, i);
		if (out < 0)
			return 0;
		ent[i] = nf_ct_entry(n->ct, p->idx);
		pk->user = (pk->user & NAT_K_FRAG) | NF_CT_ORIG;
		verdict[i] = (uint16_t)out;
		return 1;
	case NF_CT_INVALID:
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_INVALID));
		return 0;
	default:			/* RELATED without an error, UNTRACKED */
		nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_UNSUPPORTED));
		return 0;
	}
	nf_vnf_drop(v, verdict, i, nat_reason(NAT_DROP_WRONG_SIDE));
	return 0;
}

/* A burst that the session table does not decide first: static pairs
 * exist, or inbound packets must not refresh. */
static __attribute__((noinline)) uint16_t process_slow(struct nf_vnf *v, unsigned in,
						       struct nf_pkt *pkts, const struct nf_hdrs *h,
						       uint16_t *verdict, uint16_t n)
{
	struct nf_ct_pkt p;
	uint16_t i, pending = 0;

	for (i = 0; i < n; i++) {
		if (verdict[i] != NF_V_PENDING)
			pending += verdict[i] < NF_VNF_PORTS_MAX;	/* passed by pre */
		else
			pending += process_one(v, in, &pkts[i], &h[i], verdict, i, -1, &p);
	}
	return pending;
}

/* A frame of nat_process() that the flow cache did not finish: an
 * established session, not hairpinned, arriving on its own side, is
 * decided here (the entry kept for post) and cached; process_one() does
 * the rest. Returns 1 if the frame goes on to post. */
static inline unsigned process_miss(struct nf_vnf *v, unsigned in, struct nf_pkt *pk,
				    const struct nf_hdrs *h, uint16_t *verdict, uint16_t i,
				    uint32_t ms)
{
	struct nat *nt = nat;
	struct nf_ct *ct = nt->ct;
	const unsigned outside = in == (unsigned)nt->outside;
	struct nf_ct_pkt p;
	enum nf_ct_state st;

	st = nf_ct_in(ct, pk->data, h, v->now_ns, &p);
	if (nf_likely(st == NF_CT_ESTABLISHED)) {
		struct nf_ct_entry *e = nf_ct_entry(ct, p.idx);

		if (nf_likely(right_side(e->user, p.dir, outside) &&
			      !(e->user & NAT_U_HAIRPIN))) {
			const unsigned out = other_port(nt, in);

			ent[i] = e;
			pk->user |= p.dir;
			verdict[i] = (uint16_t)out;
			if (h->flags == NF_HDR_L4 && (h->l4_proto == NF_IPPROTO_TCP ||
						      h->l4_proto == NF_IPPROTO_UDP))
				fc_fill(nt, pk->data, in, e, p.idx, p.dir, out, ms);
			return 1;
		}
	}
	return process_one(v, in, pk, h, verdict, i, (int)st, &p);
}

/* The flow cache's part of nat_process() for frame @pk (@h, its verdict
 * @vd, pending) that arrived on the port of fc_in() @in_bits at @ms
 * (nf_ct_ms()): on a hit, the session refreshed in nf_ct, the frame
 * rewritten and given its port: true. */
static inline __attribute__((always_inline)) bool fc_hit(struct nf_ct *ct, struct nf_pkt *pk,
							 const struct nf_hdrs *h, uint16_t *vd,
							 uint64_t in_bits, uint32_t ms)
{
	uint8_t *f = pk->data;
	const uint8_t *ip = f + NF_ETH_HLEN;
	struct fc_slot *s;
	uint64_t addrs, rest;
	uint32_t ports;

	if (nf_unlikely(h->flags != NF_HDR_L4))		/* IPv4 at 14, L4 at 34 */
		return false;
	memcpy(&addrs, ip + 12, 8);
	memcpy(&ports, ip + 20, 4);
	rest = fc_rest(ports, ip[9], in_bits);
	s = fc_slot_of(addrs, rest);
	__asm__("" : "+r"(s));	/* a pointer from here on: gcc 12 kept the slot's
				 * number instead and spent 14 instructions a hit
				 * rebuilding the address (callgrind-nat.sh) */
	if (nf_unlikely(s->addrs != addrs || s->rest != rest ||
			nf_ct_refresh_ref(ct, &s->ref, ip + 20, h, ms) != 0))
		return false;
	fc_rewrite(f, s);
	s->used = ms;
	pk->user = NAT_K_FAST;
	*vd = s->out;
	return true;
}

/* The hits at the start of a burst (all of it, in the common burst),
 * through the first frame that is not one: how many. A function of its
 * own, without calls, so that what its loop carries stays in registers
 * (inside nat_process(), gcc spilled and reloaded half of it). */
static __attribute__((noinline)) uint16_t fc_run(const struct nf_vnf *v, unsigned in,
						 struct nf_pkt *pkts, const struct nf_hdrs *h,
						 uint16_t *verdict, uint16_t n)
{
	struct nf_ct *ct = nat->ct;
	const uint64_t in_bits = fc_in(in);
	const uint32_t ms = nf_ct_ms(v->now_ns);
	unsigned i;

	for (i = 0; i < n && verdict[i] == NF_V_PENDING &&
		    fc_hit(ct, &pkts[i], &h[i], &verdict[i], in_bits, ms); i++)
		;
	return (uint16_t)i;
}

/* Flow cache hits (the common frame, see above) are finished here, the
 * clock in ms worked out once for the burst (fc_run() has those at the
 * start of the burst); process_miss() takes the other frames. */
uint16_t nat_process(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		     const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct nat *nt = nat;
	struct nf_ct *ct = nt->ct;
	const unsigned outside = in == (unsigned)nt->outside;
	const uint64_t in_bits = fc_in(in);
	const uint32_t ms = nf_ct_ms(v->now_ns);
	uint16_t i, pending = 0, fast;
	bool idle = true;		/* nothing for post to do */

	if (nf_unlikely(memcmp(&nt->applied, &nt->set, sizeof(nt->set)) != 0))
		nat_apply(nt);		/* runtime keys changed since the last burst */
	if (nf_unlikely(nt->nst != 0 || (outside && !nt->set.inbound_refresh))) {
		post_idle = -1;
		return process_slow(v, in, pkts, h, verdict, n);
	}
	for (fast = i = fc_run(v, in, pkts, h, verdict, n); i < n; i++) {
		if (verdict[i] != NF_V_PENDING) {
			if (verdict[i] < NF_VNF_PORTS_MAX) {		/* passed by pre */
				pending++;
				if (pkts[i].user != NAT_K_PASS)
					idle = false;			/* MACs to write */
			}
			continue;
		}
		if (fc_hit(ct, &pkts[i], &h[i], &verdict[i], in_bits, ms)) {
			fast++;
			continue;
		}
		idle = false;
		pending += process_miss(v, in, &pkts[i], &h[i], verdict, i, ms);
	}
	if (outside)
		nt->xlat_in += fast;
	else
		nt->xlat_out += fast;
	pending += fast;
	post_idle = idle ? pending : -1;
	return pending;
}

/* ----------------------------------------------------------------- post */

/* The rewrite to the inverse of tuple @o (the session's other one). */
static inline void xlat(uint8_t *f, const struct nf_hdrs *h, const struct nf_ct_tuple *o)
{
	uint32_t ns, nd;

	memcpy(&ns, o->dst, 4);
	memcpy(&nd, o->src, 4);
	nat_rewrite4(f, h, ns, nd, h->l4_proto == NF_IPPROTO_ICMP ? o->sport : o->dport,
		     o->sport);
}

/* The common case of xlat(): TCP or UDP. The packet's tuple is t[dir] of
 * its session and becomes the inverse of @o = t[!dir]: source := o's
 * destination, ports := o's swapped (one 32-bit rotation), and the two
 * checksums take one delta (RFC 1624) computed once for the header and
 * extended by the ports for the L4 checksum. */
static inline void xlat_ports(uint8_t *f, const struct nf_hdrs *h, const struct nf_ct_tuple *o)
{
	uint8_t *ip = f + h->l3_off, *l4 = f + h->l4_off;
	uint32_t os, od, ns, nd, op, np;
	uint64_t d;
	uint16_t c;

	memcpy(&os, ip + 12, 4);
	memcpy(&od, ip + 16, 4);
	memcpy(&op, l4, 4);
	memcpy(&ns, o->dst, 4);
	memcpy(&nd, o->src, 4);
	memcpy(&np, &o->sport, 4);		/* sport, dport as in memory */
	np = np >> 16 | np << 16;		/* -> dport, sport */
	memcpy(ip + 12, &ns, 4);
	memcpy(ip + 16, &nd, 4);
	memcpy(l4, &np, 4);
	d = (uint64_t)(uint32_t)~os + (uint32_t)~od + ns + nd;
	memcpy(&c, ip + 10, 2);
	c = nat_csum_adj(c, d);
	memcpy(ip + 10, &c, 2);
	d += (uint64_t)(uint32_t)~op + np;
	if (h->l4_proto == NF_IPPROTO_TCP) {
		memcpy(&c, l4 + 16, 2);
		c = nat_csum_adj(c, d);
		memcpy(l4 + 16, &c, 2);
	} else {
		memcpy(&c, l4 + 6, 2);
		if (c != 0) {			/* 0: no checksum, stays so */
			c = nat_csum_adj(c, d);
			memcpy(l4 + 6, c ? &c : &(const uint16_t){ 0xffff }, 2);
		}
	}
}

static __attribute__((noinline)) void post_one(struct nf_vnf *v, struct nf_pkt *pk,
					       const struct nf_hdrs *h, unsigned i,
					       unsigned port)
{
	struct nat *n = nat;
	const uint32_t u = pk->user;

	if (u == NAT_K_PASS)			/* not ours: untouched */
		return;
	if (u & NAT_K_FRAG) {			/* a first fragment */
		uint8_t before[20];

		memcpy(before, pk->data + h->l3_off, 20);
		xlat(pk->data, h, &ent[i]->t[!(u & NAT_K_DIR)]);
		nat_frag_note(before, pk->data + h->l3_off, port, v->now_ns);
	}
	if (n->l2_set[port])
		memcpy(pk->data, n->l2_hdr[port], 12);
}

uint16_t nat_post(struct nf_vnf *v, unsigned in, struct nf_pkt *pkts,
		  const struct nf_hdrs *h, uint16_t *verdict, uint16_t n)
{
	struct nat *nt = nat;
	const unsigned nports = v->nports;
	uint16_t i, out = 0, done = 0;

	if (nf_likely(post_idle >= 0)) {	/* process did it all */
		out = (uint16_t)post_idle;
		post_idle = -1;
		return out;
	}
	for (i = 0; i < n; i++) {
		struct nf_pkt *pk = &pkts[i];
		const unsigned port = verdict[i];
		const uint32_t u = pk->user;

		if (port >= nports)
			continue;
		out++;
		if (nf_likely(u <= NAT_K_DIR)) {
			if (nf_likely(h[i].l4_proto != NF_IPPROTO_ICMP))
				xlat_ports(pk->data, &h[i], &ent[i]->t[!u]);
			else
				xlat(pk->data, &h[i], &ent[i]->t[!u]);
			done++;
			if (nt->l2_set[port])
				memcpy(pk->data, nt->l2_hdr[port], 12);
			continue;
		}
		if (u != NAT_K_FAST)
			post_one(v, pk, &h[i], i, port);
	}
	if (in == (unsigned)nt->inside)
		nt->xlat_out += done;
	else
		nt->xlat_in += done;
	return out;
}

/* nf_ct_expire's callback. */
void nat_fc_init(void)
{
	memset(fc, 0, sizeof(fc));	/* writes every page: resident now */
}

void nat_session_gone(void *arg, uint32_t idx, struct nf_ct_entry *e)
{
	struct nat *n = arg;
	const uint32_t u = e->user, m = u & NAT_U_MAP;
	uint32_t remote;

	fc_forget(n, idx, e);
	if (m >= n->nmap_max || !n->map[m].used)
		return;
	memcpy(&remote, (u & NAT_U_INBOUND) ? e->t[NF_CT_ORIG].src : e->t[NF_CT_ORIG].dst, 4);
	nat_filt_put(n, m, remote);
	nat_map_put(n, m);
	n->expired++;
}
