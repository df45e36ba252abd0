/* map.c - nf-nat's tables: the hash tables, the pool's port bitmaps, the
 * endpoint-independent mappings (RFC 4787 REQ-1), their filters and the
 * static 1:1 pairs. Everything is allocated by nat_tables_init(); the
 * per-packet path only ever finds, adds and deletes slots.
 *
 * Paired pooling (REQ-2): the external address of an inside address is a
 * hash of it over the pool: every mapping of one inside host gets the same
 * external address, with no table to keep (and the same after a restart).
 *
 * Ports (REQ-3, REQ-4): the inside port is kept when it is free on that
 * address and in the range of its class; otherwise the next free port of
 * the same parity in that range (0-1023 if the pool's range reaches below
 * 1024, else 1024 and up; 1024-65535 for the rest); when no port of that
 * parity is left in the range, any free one of it (REQ-4 recommends
 * parity, it does not ask to refuse a flow for it). ICMP identifiers: any
 * free value, no parity. One bitmap of 65536 bits per (address, protocol):
 * the search reads 64 ports a word.
 */
#include "nat.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const uint8_t nat_ipproto[NAT_P_MAX] = { NF_IPPROTO_TCP, NF_IPPROTO_UDP, NF_IPPROTO_ICMP };

#define KEY_SET		(1ull << 63)
#define KEY_EXT		(1ull << 62)
#define NONE		UINT32_MAX

static inline uint32_t hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return (uint32_t)k;
}

int nat_htab_init(struct nat_htab *t, uint32_t entries)
{
	uint32_t cap = 16;

	while (cap < 2ull * entries)
		cap <<= 1;
	t->s = calloc(cap, sizeof(*t->s));
	if (t->s == NULL) {
		nf_set_error("cannot allocate a hash table of %u slots", cap);
		return -ENOMEM;
	}
	t->mask = cap - 1;
	t->count = 0;
	return 0;
}

void nat_htab_free(struct nat_htab *t)
{
	free(t->s);
	t->s = NULL;
}

struct nat_slot *nat_htab_find(const struct nat_htab *t, uint64_t key)
{
	uint32_t i = hash64(key) & t->mask;

	while (t->s[i].key != 0) {
		if (t->s[i].key == key)
			return &t->s[i];
		i = (i + 1) & t->mask;
	}
	return NULL;
}

struct nat_slot *nat_htab_add(struct nat_htab *t, uint64_t key, uint32_t val)
{
	uint32_t i = hash64(key) & t->mask;

	if (t->count >= t->mask)	/* keep one empty slot: lookups end */
		return NULL;
	while (t->s[i].key != 0)
		i = (i + 1) & t->mask;
	t->s[i].key = key;
	t->s[i].val = val;
	t->s[i].refs = 0;
	t->count++;
	return &t->s[i];
}

/* Backward-shift deletion: every key after the hole that may move back
 * into it (its home slot is not cyclically between the hole and it) does. */
void nat_htab_del(struct nat_htab *t, struct nat_slot *s)
{
	uint32_t i = (uint32_t)(s - t->s), j = i, k;

	for (;;) {
		j = (j + 1) & t->mask;
		if (t->s[j].key == 0)
			break;
		k = hash64(t->s[j].key) & t->mask;
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].key = 0;
	t->count--;
}

int nat_pool_find(const struct nat *n, uint32_t addr)
{
	unsigned i;

	for (i = 0; i < n->npool; i++)
		if (n->pool[i].addr == addr)
			return (int)i;
	return -1;
}

static inline uint64_t key_in(unsigned proto, uint32_t addr, uint16_t port)
{
	return KEY_SET | (uint64_t)proto << 48 | (uint64_t)addr << 16 | port;
}

static inline uint64_t key_ext(unsigned proto, unsigned ext, uint16_t port)
{
	return KEY_SET | KEY_EXT | (uint64_t)proto << 48 | (uint64_t)ext << 16 | port;
}

uint32_t nat_map_find_in(struct nat *n, unsigned proto, uint32_t addr, uint16_t port)
{
	const struct nat_slot *s = nat_htab_find(&n->by_in, key_in(proto, addr, port));

	return s ? s->val : NONE;
}

uint32_t nat_map_find_ext(struct nat *n, unsigned proto, unsigned ext, uint16_t port)
{
	const struct nat_slot *s = nat_htab_find(&n->by_ext, key_ext(proto, ext, port));

	return s ? s->val : NONE;
}

/* First free bit in [a, b] among those of @pm, or -1. */
static int scan(const uint64_t *bm, unsigned a, unsigned b, uint64_t pm)
{
	unsigned w, wl = b >> 6;
	uint64_t f;

	if (a > b)
		return -1;
	w = a >> 6;
	f = ~bm[w] & pm & (~0ull << (a & 63));
	for (;;) {
		if (w == wl && (b & 63) != 63)
			f &= (1ull << ((b & 63) + 1)) - 1;
		if (f)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(f));
		if (w == wl)
			return -1;
		w++;
		f = ~bm[w] & pm;
	}
}

/* A port for inside port @want (host order) on @pa: see the file comment. */
static int port_alloc(struct nat_pool_addr *pa, unsigned proto, unsigned want)
{
	uint64_t *bm = pa->bm[proto];
	unsigned lo, hi;
	uint64_t pm;
	int p;

	if (proto == NAT_P_ICMP) {
		lo = 0;
		hi = 65535;
		pm = ~0ull;
	} else {
		if (want < 1024 && pa->lo < 1024) {
			lo = pa->lo;
			hi = NF_MIN(pa->hi, 1023u);
		} else {
			lo = NF_MAX(pa->lo, 1024u);
			hi = pa->hi;
			if (lo > hi) {		/* the pool has only low ports */
				lo = pa->lo;
				hi = pa->hi;
			}
		}
		pm = (want & 1) ? 0xaaaaaaaaaaaaaaaaull : 0x5555555555555555ull;
	}
	if (want >= lo && want <= hi) {
		if (!(bm[want >> 6] >> (want & 63) & 1))
			p = (int)want;
		else if ((p = scan(bm, want, hi, pm)) < 0)
			p = scan(bm, lo, want, pm);
	} else {
		p = scan(bm, lo, hi, pm);
	}
	if (p < 0 && pm != ~0ull)	/* parity is a preference, not a limit */
		p = scan(bm, lo, hi, ~0ull);
	if (p >= 0) {
		bm[p >> 6] |= 1ull << (p & 63);
		pa->used[proto]++;
	}
	return p;
}

/* The pool address of inside address @addr: a hash, so always the same. */
static unsigned paired(const struct nat *n, uint32_t addr)
{
	return (unsigned)(((uint64_t)hash64(addr) * n->npool) >> 32);
}

int nat_map_new(struct nat *n, unsigned proto, uint32_t addr, uint16_t port, bool *no_port)
{
	const unsigned ext = paired(n, addr);
	struct nat_map *m;
	uint32_t idx;
	int p;

	*no_port = false;
	if (n->map_free == NONE && n->map_hw == n->nmap_max)
		return -ENOMEM;
	p = port_alloc(&n->pool[ext], proto, ntohs(port));
	if (p < 0) {
		*no_port = true;
		return -ENOSPC;
	}
	if (n->map_free != NONE) {
		idx = n->map_free;
		n->map_free = n->map[idx].refs;
	} else {
		idx = n->map_hw++;
	}
	m = &n->map[idx];
	m->in_addr = addr;
	m->in_port = port;
	m->ext_port = htons((uint16_t)p);
	m->ext = (uint16_t)ext;
	m->proto = (uint8_t)proto;
	m->used = 1;
	m->refs = 0;
	nat_htab_add(&n->by_in, key_in(proto, addr, port), idx);
	nat_htab_add(&n->by_ext, key_ext(proto, ext, m->ext_port), idx);
	n->map_count++;
	n->map_created++;
	return (int)idx;
}

void nat_map_put(struct nat *n, uint32_t idx)
{
	struct nat_map *m = &n->map[idx];
	const unsigned p = ntohs(m->ext_port);

	if (m->refs > 0)
		m->refs--;
	if (m->refs > 0)
		return;
	nat_port_release(n, m->ext, m->proto, p);
	nat_htab_del(&n->by_in, nat_htab_find(&n->by_in, key_in(m->proto, m->in_addr,
								 m->in_port)));
	nat_htab_del(&n->by_ext, nat_htab_find(&n->by_ext, key_ext(m->proto, m->ext,
								   m->ext_port)));
	m->used = 0;
	m->refs = n->map_free;
	n->map_free = idx;
	n->map_count--;
	n->map_expired++;
}

int nat_map_move(struct nat *n, uint32_t idx)
{
	struct nat_map *m = &n->map[idx];
	struct nat_slot *s = nat_htab_find(&n->by_ext, key_ext(m->proto, m->ext, m->ext_port));
	const int old = ntohs(m->ext_port);
	int p = port_alloc(&n->pool[m->ext], m->proto, ntohs(m->in_port));

	if (p < 0)
		return -ENOSPC;
	nat_htab_del(&n->by_ext, s);
	m->ext_port = htons((uint16_t)p);
	nat_htab_add(&n->by_ext, key_ext(m->proto, m->ext, m->ext_port), idx);
	return old;
}

void nat_port_release(struct nat *n, unsigned ext, unsigned proto, unsigned port)
{
	n->pool[ext].bm[proto][port >> 6] &= ~(1ull << (port & 63));
	n->pool[ext].used[proto]--;
}

static inline uint64_t key_filt(uint32_t map, uint32_t remote)
{
	return KEY_SET | (uint64_t)map << 32 | remote;
}

void nat_filt_get(struct nat *n, uint32_t map, uint32_t remote)
{
	const uint64_t k = key_filt(map, remote);
	struct nat_slot *s = nat_htab_find(&n->filt, k);

	if (s == NULL)
		s = nat_htab_add(&n->filt, k, 0);
	if (s != NULL)			/* sized for one per session: always */
		s->refs++;
}

void nat_filt_put(struct nat *n, uint32_t map, uint32_t remote)
{
	struct nat_slot *s = nat_htab_find(&n->filt, key_filt(map, remote));

	if (s != NULL && --s->refs == 0)
		nat_htab_del(&n->filt, s);
}

bool nat_filt_has(const struct nat *n, uint32_t map, uint32_t remote)
{
	return nat_htab_find(&n->filt, key_filt(map, remote)) != NULL;
}

uint32_t nat_static_out(const struct nat *n, uint32_t inside)
{
	const struct nat_slot *s = nat_htab_find(&n->st_out, KEY_SET | inside);

	return s ? s->val : 0;
}

uint32_t nat_static_in(const struct nat *n, uint32_t ext)
{
	const struct nat_slot *s = nat_htab_find(&n->st_in, KEY_SET | ext);

	return s ? s->val : 0;
}

int nat_tables_init(struct nat *n)
{
	const uint32_t max = (uint32_t)n->set.sessions;
	unsigned i, p;
	uint32_t total = 0;
	int ret;

	n->nmap_max = max;
	n->map = calloc(max, sizeof(*n->map));
	if (n->map == NULL) {
		nf_set_error("cannot allocate %u mappings", max);
		return -ENOMEM;
	}
	n->map_free = NONE;
	if ((ret = nat_htab_init(&n->by_in, max)) < 0 ||
	    (ret = nat_htab_init(&n->by_ext, max)) < 0 ||
	    (ret = nat_htab_init(&n->filt, max)) < 0)
		return ret;
	for (i = 0; i < n->npool; i++) {
		for (p = 0; p < NAT_P_MAX; p++) {
			n->pool[i].bm[p] = calloc(65536 / 64, sizeof(uint64_t));
			if (n->pool[i].bm[p] == NULL) {
				nf_set_error("cannot allocate the port bitmaps");
				return -ENOMEM;
			}
		}
	}
	for (i = 0; i < n->nst; i++)
		total += n->st[i].n;
	if ((ret = nat_htab_init(&n->st_out, total)) < 0 ||
	    (ret = nat_htab_init(&n->st_in, total)) < 0)
		return ret;
	for (i = 0; i < n->nst; i++) {
		uint32_t k;

		for (k = 0; k < n->st[i].n; k++) {
			const uint32_t a = htonl(n->st[i].in + k), b = htonl(n->st[i].ext + k);

			nat_htab_add(&n->st_out, KEY_SET | a, b);
			nat_htab_add(&n->st_in, KEY_SET | b, a);
		}
	}
	return 0;
}

void nat_tables_free(struct nat *n)
{
	unsigned i, p;

	free(n->map);
	n->map = NULL;
	nat_htab_free(&n->by_in);
	nat_htab_free(&n->by_ext);
	nat_htab_free(&n->filt);
	nat_htab_free(&n->st_out);
	nat_htab_free(&n->st_in);
	for (i = 0; i < n->npool; i++)
		for (p = 0; p < NAT_P_MAX; p++) {
			free(n->pool[i].bm[p]);
			n->pool[i].bm[p] = NULL;
		}
}
