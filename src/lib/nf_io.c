/* nf_io.c - the generic port layer: init, spec dispatch, counters, control
 * events. Per-burst calls are one indirect call into the port type. */
#define _GNU_SOURCE
#include "nf_io.h"
#include "nf_port_impl.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define NF_TICK_NS 100000000ull	/* 100 ms */
#define NF_PORTS_MAX 1024

static const struct nf_port_ops *const port_types[] = {
	&nf_memif_ops,
	&nf_afpacket_ops,
	&nf_afxdp_ops,
	&nf_pcap_ops,
};

static struct {
	bool init;
	int epfd;
	struct nf_ev tick;
	struct nf_pool pool;
	struct nf_io_params prm;
	struct nf_port *ports;
	uint64_t last_tick;
	uint8_t index_used[NF_PORTS_MAX];
} io = { .epfd = -1 };

static const char *const drop_names[] = {
#define NF_DROP_NAME(e, name, descr) name,
	NF_PORT_DROPS(NF_DROP_NAME)
#undef NF_DROP_NAME
};

static const char *const disc_names[] = {
#define NF_DISC_NAME(e, name, descr) name,
	NF_PORT_DISCS(NF_DISC_NAME)
#undef NF_DISC_NAME
};

const char *nf_drop_name(enum nf_drop d)
{
	return (unsigned)d < NF_DROP_MAX ? drop_names[d] : "?";
}

const char *nf_disc_name(enum nf_disc d)
{
	return (unsigned)d < NF_DISC_MAX ? disc_names[d] : "?";
}

static void tick_cb(struct nf_ev *ev, uint32_t events)
{
	uint64_t n;
	ssize_t r;

	(void)events;
	r = read(ev->fd, &n, sizeof(n));
	(void)r;
}

int nf_io_init(const struct nf_io_params *prm)
{
	struct itimerspec its = { .it_interval = { 0, NF_TICK_NS },
				  .it_value = { 0, NF_TICK_NS } };
	int ret;

	if (io.init)
		return -EALREADY;
	memset(&io.prm, 0, sizeof(io.prm));
	if (prm != NULL)
		io.prm = *prm;
	if (io.prm.pool_bufs == 0)
		io.prm.pool_bufs = 16384;
	if (io.prm.buf_size == 0)
		io.prm.buf_size = 2048;
	if (io.prm.stall_ms == 0)
		io.prm.stall_ms = 5000;
	if (io.prm.handshake_ms == 0)
		io.prm.handshake_ms = 3000;
	io.tick.fd = -1;
	io.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (io.epfd < 0) {
		ret = -errno;
		nf_set_error("epoll_create1: %s", strerror(errno));
		goto fail;
	}
	ret = nf_pool_create(&io.pool, io.prm.pool_bufs, io.prm.buf_size);
	if (ret < 0)
		goto fail;
	io.tick.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (io.tick.fd < 0 || timerfd_settime(io.tick.fd, 0, &its, NULL) < 0) {
		ret = -errno;
		nf_set_error("timerfd: %s", strerror(errno));
		goto fail;
	}
	io.tick.cb = tick_cb;
	io.init = true;
	ret = nf_ev_add(&io.tick, EPOLLIN);
	if (ret < 0) {
		io.init = false;
		goto fail;
	}
	return 0;
fail:
	if (io.tick.fd >= 0)
		close(io.tick.fd);
	nf_pool_destroy(&io.pool);
	if (io.epfd >= 0)
		close(io.epfd);
	io.epfd = -1;
	return ret;
}

void nf_io_fini(void)
{
	if (!io.init)
		return;
	while (io.ports != NULL)
		nf_port_close(io.ports);
	close(io.tick.fd);
	close(io.epfd);
	nf_pool_destroy(&io.pool);
	io.epfd = -1;
	io.init = false;
}

struct nf_pool *nf_io_pool(void)
{
	return &io.pool;
}

const struct nf_io_params *nf_io_params(void)
{
	return &io.prm;
}

int nf_io_fd(void)
{
	return io.epfd;
}

int nf_ev_add(struct nf_ev *ev, uint32_t events)
{
	struct epoll_event ee = { .events = events, .data.ptr = ev };

	if (epoll_ctl(io.epfd, EPOLL_CTL_ADD, ev->fd, &ee) < 0) {
		nf_set_error("epoll_ctl: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void nf_ev_del(struct nf_ev *ev)
{
	if (ev->fd >= 0)
		epoll_ctl(io.epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}

int nf_io_service(void)
{
	struct epoll_event ev[32];
	uint64_t now;
	int n, i, handled = 0;

	if (!io.init)
		return -EINVAL;
	/* Bounded: a peer flooding its control socket cannot keep us here. */
	n = epoll_wait(io.epfd, ev, (int)NF_ARRAY_SIZE(ev), 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct nf_ev *e = ev[i].data.ptr;

		e->cb(e, ev[i].events);
		handled++;
	}
	now = nf_now_ns();
	if (now - io.last_tick >= NF_TICK_NS) {
		struct nf_port *p, *next;

		io.last_tick = now;
		for (p = io.ports; p != NULL; p = next) {
			next = p->next;
			p->st.rx_queue = p->st.rx_queue_now;	/* a window ends */
			p->st.rx_queue_now = 0;
			if (p->ops->tick != NULL)
				p->ops->tick(p, now);
		}
	}
	return handled;
}

void nf_port_set_up(struct nf_port *p, bool up)
{
	if (p->up == up)
		return;
	p->up = up;
	if (up)
		p->st.connects++;
	if (p->on_link != NULL)
		p->on_link(p, up, p->cb_arg);
}

/* Parse @spec and find its type. Returns 0 or -EINVAL (sentence set). */
static int spec_lookup(const char *spec, struct nf_spec *sp,
		       const struct nf_port_ops **ops)
{
	unsigned i;
	int ret;

	ret = nf_spec_parse(spec, sp);
	if (ret < 0)
		return ret;
	for (i = 0; i < NF_ARRAY_SIZE(port_types); i++) {
		if (strcmp(port_types[i]->type, sp->type) == 0) {
			*ops = port_types[i];
			return 0;
		}
	}
	nf_set_error("unknown port type '%s' in '%s' (known: memif, "
		     "afpacket, afxdp, pcap)", sp->type, spec);
	return -EINVAL;
}

int nf_port_check(const char *spec)
{
	const struct nf_port_ops *ops = NULL;
	struct nf_spec *sp = malloc(sizeof(*sp));
	int ret;

	if (sp == NULL)
		return -ENOMEM;
	ret = spec_lookup(spec, sp, &ops);
	if (ret == 0 && ops->check != NULL)
		ret = ops->check(sp);
	free(sp);
	return ret;
}

int nf_port_open(const char *spec, const struct nf_port_conf *conf,
		 struct nf_port **pp)
{
	const struct nf_port_ops *ops = NULL;
	struct nf_spec *sp;
	struct nf_port *p = NULL;
	unsigned i;
	int ret;

	if (!io.init) {
		nf_set_error("nf_io_init() was not called");
		return -EINVAL;
	}
	sp = malloc(sizeof(*sp));
	if (sp == NULL)
		return -ENOMEM;
	ret = spec_lookup(spec, sp, &ops);
	if (ret < 0)
		goto fail;
	p = aligned_alloc(64, (sizeof(*p) + ops->priv_size + 63) & ~(size_t)63);
	if (p == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(p, 0, sizeof(*p) + ops->priv_size);
	p->ops = ops;
	p->rx_fd = -1;
	for (i = 0; i < NF_PORTS_MAX && io.index_used[i]; i++)
		;
	if (i == NF_PORTS_MAX) {
		nf_set_error("too many ports (at most %d)", NF_PORTS_MAX);
		ret = -ENOSPC;
		goto fail;
	}
	p->fp.index = (uint16_t)i;
	nf_strlcpy(p->name, conf && conf->name ? conf->name : spec,
		   sizeof(p->name));
	if (conf != NULL) {
		p->on_link = conf->on_link;
		p->cb_arg = conf->arg;
	}
	p->fp.rx_burst = ops->rx_burst;
	p->fp.rx_release = ops->rx_release;
	p->fp.tx_burst = ops->tx_burst;
	/* The type's open may install role-specific burst functions. */
	ret = ops->open(p, sp, conf ? conf->default_server : 0);
	if (ret < 0)
		goto fail;
	io.index_used[p->fp.index] = 1;
	p->next = io.ports;
	io.ports = p;
	free(sp);
	*pp = p;
	return 0;
fail:
	free(p);
	free(sp);
	return ret;
}

void nf_port_close(struct nf_port *p)
{
	struct nf_port **pp;

	if (p == NULL)
		return;
	for (pp = &io.ports; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->on_link = NULL;
	p->ops->close(p);
	io.index_used[p->fp.index] = 0;
	free(p);
}

const char *nf_port_name(const struct nf_port *p)
{
	return p->name;
}

const char *nf_port_type(const struct nf_port *p)
{
	return p->ops->type;
}

bool nf_port_is_up(const struct nf_port *p)
{
	return p->up;
}

const struct nf_port_stats *nf_port_stats(const struct nf_port *p)
{
	return &p->st;
}

void nf_port_describe(const struct nf_port *p, char *buf, size_t n)
{
	if (p->ops->describe != NULL)
		p->ops->describe(p, buf, n);
	else if (n > 0)
		buf[0] = '\0';
}

bool nf_port_rx_eof(const struct nf_port *p)
{
	return p->ops->rx_eof != NULL && p->ops->rx_eof(p);
}

uint16_t nf_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	if (n > NF_BURST_MAX)
		n = NF_BURST_MAX;
	return p->ops->tx_get(p, pkts, n);
}

void nf_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	p->ops->tx_put(p, pkts, k);
}

int nf_port_rx_fd(const struct nf_port *p)
{
	return p->rx_fd;
}

int nf_rx_intr_enable(struct nf_port *p)
{
	return p->ops->intr_enable != NULL ? p->ops->intr_enable(p) : 1;
}

void nf_rx_intr_disable(struct nf_port *p)
{
	if (p->ops->intr_disable != NULL)
		p->ops->intr_disable(p);
	p->st.rx_wakeups++;
}
