/* nf_fdb.c - MAC table: creation, deletion by backward shift, ageing. */
#include "nf_fdb.h"
#include "nf_util.h"

#include <errno.h>
#include <stdlib.h>

int nf_fdb_init(struct nf_fdb *f, uint32_t entries, uint32_t age_s)
{
	uint32_t size = 1024, i;

	memset(f, 0, sizeof(*f));
	if (entries < 1 || entries > (1u << 24) || age_s < 1 || age_s > 1000000) {
		nf_set_error("MAC table of %u entries aged %u s is out of range "
			     "(1..16777216 entries, 1..1000000 s)", entries, age_s);
		return -EINVAL;
	}
	/* Keep the table at most 7/8 full: probes stay short. */
	while ((uint64_t)size * 7 / 8 < entries)
		size <<= 1;
	f->tab = malloc((size_t)size * sizeof(*f->tab));
	if (f->tab == NULL)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		f->tab[i].key = NF_FDB_EMPTY;
	f->mask = size - 1;
	f->max = entries;
	f->age_s = age_s;
	return 0;
}

void nf_fdb_free(struct nf_fdb *f)
{
	free(f->tab);
	memset(f, 0, sizeof(*f));
}

/* Remove the entry at slot @i and shift the following cluster back so
 * that every remaining key stays reachable from its home slot. */
static void remove_at(struct nf_fdb *f, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & f->mask;
		if (f->tab[j].key == NF_FDB_EMPTY)
			break;
		home = nf_fdb_hash(f, f->tab[j].key);
		/* Move j into the hole i unless its home lies cyclically
		 * in (i, j]. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			f->tab[i] = f->tab[j];
			i = j;
		}
	}
	f->tab[i].key = NF_FDB_EMPTY;
	f->count--;
}

int nf_fdb_del(struct nf_fdb *f, uint64_t key)
{
	uint32_t i = nf_fdb_hash(f, key);

	for (;;) {
		if (f->tab[i].key == key) {
			remove_at(f, i);
			return 0;
		}
		if (f->tab[i].key == NF_FDB_EMPTY)
			return -ENOENT;
		i = (i + 1) & f->mask;
	}
}

int nf_fdb_add_static(struct nf_fdb *f, uint64_t key, uint16_t port)
{
	uint32_t i = nf_fdb_hash(f, key);

	for (;;) {
		struct nf_fdb_entry *e = &f->tab[i];

		if (e->key == key || e->key == NF_FDB_EMPTY) {
			if (e->key == NF_FDB_EMPTY) {
				if (f->count >= f->max)
					return -ENOSPC;
				f->count++;
			}
			e->key = key;
			e->port = port;
			e->flags = NF_FDB_STATIC;
			e->seen = 0;
			return 0;
		}
		i = (i + 1) & f->mask;
	}
}

uint32_t nf_fdb_flush(struct nf_fdb *f, int port, bool statics)
{
	uint32_t i, n = 0;

	/* Removing shifts later entries back into slot i: look again. */
	for (i = 0; i <= f->mask; ) {
		struct nf_fdb_entry *e = &f->tab[i];

		if (e->key != NF_FDB_EMPTY && (port < 0 || e->port == port) &&
		    (statics || !(e->flags & NF_FDB_STATIC))) {
			remove_at(f, i);
			n++;
			continue;
		}
		i++;
	}
	return n;
}

uint32_t nf_fdb_age(struct nf_fdb *f, uint32_t now, uint32_t slots)
{
	uint32_t n = 0, k;

	for (k = 0; k < slots && k <= f->mask; k++) {
		uint32_t i = f->age_pos;
		struct nf_fdb_entry *e = &f->tab[i];

		if (e->key != NF_FDB_EMPTY && !(e->flags & NF_FDB_STATIC) &&
		    now - e->seen > f->age_s) {
			remove_at(f, i);
			f->aged++;
			n++;
			continue;	/* slot i holds a shifted entry now */
		}
		f->age_pos = (i + 1) & f->mask;
	}
	return n;
}
