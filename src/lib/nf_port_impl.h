/* nf_port_impl.h - what a port type implements (internal to src/lib).
 *
 * A port type is a table of operations (nf_port_ops) registered in nf_io.c.
 * The generic layer parses the spec, allocates struct nf_port plus the
 * type's private area, counts, and dispatches one indirect call per burst.
 */
#ifndef NF_PORT_IMPL_H
#define NF_PORT_IMPL_H

#include "nf_io.h"
#include "nf_pool.h"
#include "nf_spec.h"
#include "nf_util.h"

#include <stddef.h>
#include <stdint.h>

struct nf_port_ops {
	const char *type;
	size_t priv_size;
	/* Validate a parsed spec without side effects (NULL: syntax only). */
	int (*check)(const struct nf_spec *sp);
	/* Open from a parsed spec; undo everything itself on failure. */
	int (*open)(struct nf_port *p, const struct nf_spec *sp, int def_server);
	void (*close)(struct nf_port *p);
	uint16_t (*rx_burst)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
	void (*rx_release)(struct nf_port *p);
	uint16_t (*tx_burst)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
	uint16_t (*tx_get)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
	void (*tx_put)(struct nf_port *p, struct nf_pkt *pkts, uint16_t k);
	int (*intr_enable)(struct nf_port *p);
	void (*intr_disable)(struct nf_port *p);
	/* Called from nf_io_service() about every 100 ms: timers, faults. */
	void (*tick)(struct nf_port *p, uint64_t now_ns);
	void (*describe)(const struct nf_port *p, char *buf, size_t n);
	bool (*rx_eof)(const struct nf_port *p);
};

struct nf_port {
	struct nf_port_fp fp;		/* first: see nf_io.h */
	const struct nf_port_ops *ops;
	struct nf_port_stats st;
	bool up;
	int rx_fd;
	nf_link_cb on_link;
	void *cb_arg;
	struct nf_port *next;	/* list of open ports */
	char name[128];
	char priv[] __attribute__((aligned(64)));
};

static inline void *nf_port_priv(struct nf_port *p)
{
	return p->priv;
}

static inline const void *nf_port_cpriv(const struct nf_port *p)
{
	return p->priv;
}

/* Link state change, from the control path: counts and calls back. */
void nf_port_set_up(struct nf_port *p, bool up);

/* Control-plane event sources registered in the library's epoll. */
struct nf_ev {
	int fd;
	void (*cb)(struct nf_ev *ev, uint32_t events);
};
int nf_ev_add(struct nf_ev *ev, uint32_t events);
void nf_ev_del(struct nf_ev *ev);

/* The process pool (created by nf_io_init()). */
struct nf_pool *nf_io_pool(void);
/* Settings given to nf_io_init(). */
const struct nf_io_params *nf_io_params(void);

extern const struct nf_port_ops nf_memif_ops;
extern const struct nf_port_ops nf_afpacket_ops;
extern const struct nf_port_ops nf_afxdp_ops;
extern const struct nf_port_ops nf_pcap_ops;

#endif
