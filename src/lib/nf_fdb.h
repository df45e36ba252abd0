/* nf_fdb.h - MAC learning table (filtering database) for the switch and
 * the L2 bridge VNF.
 *
 * Key: (VLAN id, MAC). Open addressing with linear probing and
 * backward-shift deletion (no tombstones), power-of-two size, kept at most
 * 7/8 full. Lookup and learn are inline: one multiply for the hash and
 * usually one cache line. Ageing runs in slices from the control path.
 * Not thread-safe: one owner thread.
 */
#ifndef NF_FDB_H
#define NF_FDB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define NF_FDB_EMPTY UINT64_MAX
#define NF_FDB_STATIC 1		/* entry flag: configured, never learned over,
				 * aged or flushed with its port's link */

struct nf_fdb_entry {
	uint64_t key;		/* vlan << 48 | mac, NF_FDB_EMPTY when free */
	uint16_t port;
	uint16_t flags;
	uint32_t seen;		/* coarse seconds */
};

struct nf_fdb {
	struct nf_fdb_entry *tab;
	uint32_t mask;
	uint32_t count, max;
	uint32_t age_s;
	uint32_t age_pos;	/* next slot the ageing slice looks at */
	uint64_t learned, moved, aged, full;
};

/* Create a table able to hold @entries (rounded up to a power of two,
 * 1024 .. 16M) with ageing time @age_s (1 .. 1000000 s).
 * Returns 0, -EINVAL or -ENOMEM. */
int nf_fdb_init(struct nf_fdb *f, uint32_t entries, uint32_t age_s);
void nf_fdb_free(struct nf_fdb *f);

/* The 48-bit MAC at @p (network order) as an integer. */
static inline uint64_t nf_mac48(const uint8_t *p)
{
	return (uint64_t)p[0] << 40 | (uint64_t)p[1] << 32 |
	       (uint64_t)p[2] << 24 | (uint64_t)p[3] << 16 |
	       (uint64_t)p[4] << 8 | p[5];
}

static inline uint64_t nf_fdb_key(uint64_t mac48, uint16_t vlan)
{
	return (uint64_t)(vlan & 0xfff) << 48 | mac48;
}

static inline uint32_t nf_fdb_hash(const struct nf_fdb *f, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & f->mask;
}

/* Port for @key, or -1. */
static inline int nf_fdb_lookup(const struct nf_fdb *f, uint64_t key)
{
	uint32_t i = nf_fdb_hash(f, key);

	for (;;) {
		const struct nf_fdb_entry *e = &f->tab[i];

		if (e->key == key)
			return e->port;
		if (e->key == NF_FDB_EMPTY)
			return -1;
		i = (i + 1) & f->mask;
	}
}

/* Learn that @key was seen on @port at @now. Writes the entry only when
 * something changed, so a steady flow keeps the line clean. */
static inline void nf_fdb_learn(struct nf_fdb *f, uint64_t key, uint16_t port,
				uint32_t now)
{
	uint32_t i = nf_fdb_hash(f, key);

	for (;;) {
		struct nf_fdb_entry *e = &f->tab[i];

		if (e->key == key) {
			if (__builtin_expect(e->flags & NF_FDB_STATIC, 0))
				return;
			if (e->port != port) {
				e->port = port;
				f->moved++;
			}
			if (e->seen != now)
				e->seen = now;
			return;
		}
		if (e->key == NF_FDB_EMPTY) {
			if (f->count >= f->max) {
				f->full++;
				return;
			}
			e->key = key;
			e->port = port;
			e->flags = 0;
			e->seen = now;
			f->count++;
			f->learned++;
			return;
		}
		i = (i + 1) & f->mask;
	}
}

/* Add or replace a static entry. Returns 0 or -ENOSPC (table full). */
int nf_fdb_add_static(struct nf_fdb *f, uint64_t key, uint16_t port);
/* Remove @key. Returns 0 or -ENOENT. */
int nf_fdb_del(struct nf_fdb *f, uint64_t key);
/* Remove the entries of @port (-1: of every port); static ones too when
 * @statics. Returns how many. */
uint32_t nf_fdb_flush(struct nf_fdb *f, int port, bool statics);
/* Age out entries older than age_s, looking at up to @slots slots from
 * where the previous call stopped. Returns how many were removed. */
uint32_t nf_fdb_age(struct nf_fdb *f, uint32_t now, uint32_t slots);

#endif
