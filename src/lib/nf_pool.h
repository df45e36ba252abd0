/* nf_pool.h - the process's packet buffer pool.
 *
 * One memfd, sealed against shrinking, mapped once, cut into fixed-size
 * buffers. Every pool-backed port of the process (memif client, pcap)
 * shares it, so a buffer received on one port can be transmitted on another
 * by swapping indices. A memif client exports the pool as one of its memory
 * regions; the seal guarantees the peer that the memory cannot vanish under
 * it (a SIGBUS in the peer).
 *
 * Allocation happens only on the control path (a port opens or connects);
 * the data path exchanges indices and never allocates.
 */
#ifndef NF_POOL_H
#define NF_POOL_H

#include <stdint.h>

struct nf_pool {
	int fd;			/* memfd, F_SEAL_SHRINK|F_SEAL_GROW */
	uint8_t *base;
	uint64_t size;		/* bytes */
	uint32_t buf_size;
	uint32_t nbufs;
	uint32_t nfree;
	uint32_t *free;		/* stack of free indices */
};

/* Create the pool. Returns 0 or -EINVAL, -ENOMEM, -errno. */
int nf_pool_create(struct nf_pool *pl, uint32_t nbufs, uint32_t buf_size);
void nf_pool_destroy(struct nf_pool *pl);
/* Take @n buffer indices into @out. Returns 0 or -ENOBUFS (nothing taken). */
int nf_pool_get(struct nf_pool *pl, uint32_t *out, uint32_t n);
/* Return @n indices. */
void nf_pool_put(struct nf_pool *pl, const uint32_t *in, uint32_t n);

static inline uint8_t *nf_pool_addr(const struct nf_pool *pl, uint32_t idx)
{
	return pl->base + (uint64_t)idx * pl->buf_size;
}

#endif
