/* nf_pool.c - memfd-backed packet buffer pool. */
#define _GNU_SOURCE
#include "nf_pool.h"
#include "nf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int nf_pool_create(struct nf_pool *pl, uint32_t nbufs, uint32_t buf_size)
{
	uint32_t i;
	int ret;

	memset(pl, 0, sizeof(*pl));
	pl->fd = -1;
	if (nbufs == 0 || buf_size < 256 || buf_size > 65536 ||
	    (buf_size & 63) != 0 || (uint64_t)nbufs * buf_size > (1ull << 32)) {
		nf_set_error("buffer pool of %u x %u bytes is out of range "
			     "(size a multiple of 64 in 256..65536, at most 4 GiB)",
			     nbufs, buf_size);
		return -EINVAL;
	}
	pl->size = (uint64_t)nbufs * buf_size;
	pl->buf_size = buf_size;
	pl->nbufs = nbufs;
	pl->free = calloc(nbufs, sizeof(*pl->free));
	if (pl->free == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	pl->fd = memfd_create("nfchain-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (pl->fd < 0) {
		ret = -errno;
		nf_set_error("cannot create the buffer pool: memfd_create: %s",
			     strerror(errno));
		goto fail;
	}
	if (ftruncate(pl->fd, (off_t)pl->size) < 0 ||
	    fcntl(pl->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		ret = -errno;
		nf_set_error("cannot size the buffer pool: %s", strerror(errno));
		goto fail;
	}
	pl->base = mmap(NULL, pl->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			pl->fd, 0);
	if (pl->base == MAP_FAILED) {
		ret = -errno;
		pl->base = NULL;
		nf_set_error("cannot map the buffer pool: %s", strerror(errno));
		goto fail;
	}
	/* Hand out low indices first: they are the pages touched so far. */
	for (i = 0; i < nbufs; i++)
		pl->free[i] = nbufs - 1 - i;
	pl->nfree = nbufs;
	return 0;
fail:
	nf_pool_destroy(pl);
	return ret;
}

void nf_pool_destroy(struct nf_pool *pl)
{
	if (pl->base != NULL)
		munmap(pl->base, pl->size);
	if (pl->fd >= 0)
		close(pl->fd);
	free(pl->free);
	memset(pl, 0, sizeof(*pl));
	pl->fd = -1;
}

int nf_pool_get(struct nf_pool *pl, uint32_t *out, uint32_t n)
{
	uint32_t i;

	if (n > pl->nfree)
		return -ENOBUFS;
	for (i = 0; i < n; i++)
		out[i] = pl->free[--pl->nfree];
	return 0;
}

void nf_pool_put(struct nf_pool *pl, const uint32_t *in, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && pl->nfree < pl->nbufs; i++)
		pl->free[pl->nfree++] = in[i];
}
