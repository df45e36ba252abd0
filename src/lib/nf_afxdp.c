/* nf_afxdp.c - AF_XDP ports: a Linux interface (one receive queue of it)
 * as a switch port, through an XDP socket (XSK), with AF_PACKET as the
 * fallback.
 *
 *   afxdp:IFNAME[,queue=N][,mode=auto|copy|zerocopy][,xdp=auto|native|skb]
 *        [,fallback=afpacket|none][,rsize=LOG2][,frame_size=2048|4096]
 *
 * Open. One UMEM of 2 x 2^rsize frames (anonymous memory): the first half
 * belongs to receive (all of it on the fill ring at start), the second half
 * to transmit (a stack of free frames). One XSK bound to IFNAME's queue N
 * with its four rings of 2^rsize entries, XDP_USE_NEED_WAKEUP, created by
 * Debian's libxdp, which also attaches its default XSK program
 * (xsk_def_prog: redirect the queue's frames to the socket, everything
 * else XDP_PASS). The attach mode is driver ("native") where the driver
 * has XDP (veth does), else generic ("skb"); the bind mode zero-copy where
 * the driver supports it (XDP_ZEROCOPY), else copy (XDP_COPY); "auto" tries
 * them in that order, and the describe() line says what was obtained (as
 * read back from the kernel: bpf_xdp_query, XDP_OPTIONS).
 *
 * Fallback. When the XSK cannot be made (no XDP in the kernel or driver,
 * zero-copy refused, no privilege, an MTU too large for one frame...) and
 * fallback=afpacket (the default), the port opens as an AF_PACKET port on
 * the same interface (nf_afpacket.c, its defaults) and its describe() line
 * begins "afxdp fell back to afpacket: REASON"; fallback=none fails with
 * the reason instead. The AF_PACKET port's private state sits at the start
 * of this port's private area (a union with the XSK state), so its burst
 * functions are installed as they are: a fallen-back port costs the same
 * per burst as an afpacket one.
 *
 * Receive: the rx ring's descriptors are handed out by reference (borrowed,
 * not swappable), the ring entries released at once; the frames go back on
 * the fill ring at the next rx_burst or rx_release. In zero-copy mode, when
 * a burst finds nothing and the kernel asked for it (the fill ring's
 * need_wakeup flag), one recvfrom() wakes the driver.
 * Transmit: each frame is copied into a free UMEM frame and its descriptor
 * put on the tx ring; one sendto() per burst, only when the tx ring asks
 * for a wakeup (always, in copy mode: the kernel transmits from inside
 * sendto, at most 32 frames per call, so a larger burst makes one more
 * call per 32 frames). Completed frames are reclaimed from the completion
 * ring at the start of each transmit burst (and every tick).
 * Nothing is allocated and no lock taken after open.
 *
 * Cost, measured (bench/callgrind-afxdp.sh: nfswitch, 60-byte frames, copy
 * mode on a veth; user-space instructions of the burst functions): 51 per
 * transmitted frame (one copy, a descriptor; the reclaim and the kick are
 * per burst), 37 per received frame above the 39 of an empty poll.
 * AF_PACKET on the same veth: 41, 37 and 50. The kernel's share, not
 * counted there, decides the rates (docs/BENCHMARKS.md, "AF_XDP uplink").
 *
 * Close: xsk_socket__delete() detaches the program libxdp attached. After
 * a kill -9 the program stays on the interface (without a bpffs, libxdp
 * attaches it without its dispatcher); it passes every frame to the stack
 * while no socket is in its map. The next open finds and reuses it (libxdp
 * does), and that port's close removes it (only a program named
 * xsk_def_prog, only if it is still the one attached). By hand:
 * `ip link set dev IFNAME xdp off` (or xdpgeneric off), or xdp-loader
 * unload from xdp-tools.
 */
#define _GNU_SOURCE
#include "nf_port_impl.h"
#include "nf_util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#define AFX_ETH_HLEN	14
#define AFX_VLAN_HLEN	4
#define AFX_KICK_BATCH	32	/* frames the kernel sends per copy-mode sendto */
#define AFX_BUSY_MS	2000	/* wait for a closing socket to let go */
#define AFX_PROG_NAME	"xsk_def_prog"

enum { AFX_MODE_AUTO, AFX_MODE_COPY, AFX_MODE_ZC };
enum { AFX_XDP_AUTO, AFX_XDP_NATIVE, AFX_XDP_SKB };
enum { AFX_FB_AFPACKET, AFX_FB_NONE };

static const char *const mode_names[] = { "auto", "copy", "zerocopy", NULL };
static const char *const xdp_names[] = { "auto", "native", "skb", NULL };
static const char *const fb_names[] = { "afpacket", "none", NULL };

struct afx_cfg {
	uint64_t queue;
	uint64_t mode;
	uint64_t xdp;
	uint64_t fallback;
	uint64_t rsize;
	uint64_t frame_size;	/* 0: from the MTU */
};

static const struct nf_opt afx_opts[] = {
	{ "queue", NF_OPT_U64, 0, 1023, NULL, offsetof(struct afx_cfg, queue),
	  "receive queue of the interface (0)" },
	{ "mode", NF_OPT_ENUM, 0, 0, mode_names, offsetof(struct afx_cfg, mode),
	  "bind mode: auto (zero-copy if the driver can, else copy), copy, "
	  "zerocopy (auto)" },
	{ "xdp", NF_OPT_ENUM, 0, 0, xdp_names, offsetof(struct afx_cfg, xdp),
	  "XDP attach mode: auto (native if the driver can, else skb), native, "
	  "skb (auto)" },
	{ "fallback", NF_OPT_ENUM, 0, 0, fb_names,
	  offsetof(struct afx_cfg, fallback),
	  "when no XSK can be made: afpacket (open as AF_PACKET) or none (fail)" },
	{ "rsize", NF_OPT_U64, 6, 14, NULL, offsetof(struct afx_cfg, rsize),
	  "log2 of the ring size; the UMEM has twice as many frames (11)" },
	{ "frame_size", NF_OPT_U64, 2048, 4096, NULL,
	  offsetof(struct afx_cfg, frame_size),
	  "UMEM frame size, 2048 or 4096 (from the MTU)" },
};

/* The XSK state (the port's private area when the XSK works). */
struct afx_xsk {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	uint8_t *area;
	uint64_t area_size;
	uint32_t nheld;		/* frames of the last burst, for the fill ring */
	uint32_t ntx_free;	/* entries of tx_free */
	uint32_t tx_resv;	/* frames tx_get handed out (top of tx_free) */
	uint32_t tx_max;	/* longest untagged frame: min(cap, mtu + 14) */
	uint32_t tx_cap;	/* frame_size */
	uint32_t pending;	/* descriptors submitted since the last good kick */
	bool zc;
	bool tx_kick;		/* the last sendto left frames on the ring */
	int fd;
	uint64_t *tx_free;	/* stack of free transmit frame addresses */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint64_t held[NF_BURST_MAX];

	/* control path */
	uint32_t ring, frame_size, mtu;
	uint32_t prog_id;	/* the XDP program in use */
	uint32_t leftover;	/* id of a program found attached at open */
	uint8_t attach;		/* XDP_ATTACHED_DRV / _SKB / ... */
	struct xdp_statistics xst;	/* last read */
	uint64_t kicks, kick_errors;
	int last_kick_err;
};

#define AFX_AFP_ROOM	1024	/* bytes for nf_afpacket.c's private state */

struct afx_port {
	union {
		struct afx_xsk x;
		char afp[AFX_AFP_ROOM];	/* fallback: an afpacket port */
	} u __attribute__((aligned(64)));
	struct afx_cfg cfg;
	char ifname[IFNAMSIZ];
	int ifindex;
	uint32_t nqueues;
	bool fell_back;
	char reason[256];
};

static inline struct afx_port *AFX(struct nf_port *p)
{
	return nf_port_priv(p);
}

static inline struct afx_xsk *XSK(struct nf_port *p)
{
	return nf_port_priv(p);
}

/* ---- receive ---- */

/* Give the frames of the last burst back to the kernel (fill ring). The
 * fill ring has room for every receive frame, so this cannot fail. */
static void afx_rx_release(struct nf_port *p)
{
	struct afx_xsk *x = XSK(p);
	uint32_t i, idx = 0, n = x->nheld;

	if (n == 0)
		return;
	if (nf_unlikely(xsk_ring_prod__reserve(&x->fq, n, &idx) != n))
		return;	/* not reached: kept for the next release */
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = x->held[i];
	xsk_ring_prod__submit(&x->fq, n);
	x->nheld = 0;
}

static uint16_t afx_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afx_xsk *x = XSK(p);
	uint32_t i, got, idx = 0;
	uint16_t k = 0, port = p->fp.index;
	uint64_t bytes = 0;

	if (x->nheld) {
		afx_rx_release(p);
		if (nf_unlikely(x->nheld))
			return 0;	/* not reached (see afx_rx_release) */
	}
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	if (got == 0) {
		if (x->zc && xsk_ring_prod__needs_wakeup(&x->fq))
			(void)recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
		uint32_t len = d->len;

		x->held[x->nheld++] = xsk_umem__extract_addr(d->addr);
		if (nf_unlikely(len < NF_FRAME_MIN || addr + len > x->area_size)) {
			p->st.drops[len < NF_FRAME_MIN ? NF_DROP_RX_RUNT :
				    NF_DROP_RX_BAD_DESC]++;
			continue;
		}
		pkts[k].data = x->area + addr;
		pkts[k].len = len;
		pkts[k].buf = NF_BUF_NONE;
		pkts[k].slot = NULL;
		pkts[k].port = port;
		pkts[k].flags = 0;
		bytes += len;
		k++;
	}
	xsk_ring_cons__release(&x->rx, got);
	p->st.rx_pkts += k;
	p->st.rx_bytes += bytes;
	return k;
}

/* ---- transmit ---- */

/* Completed transmits: their frames are free again. */
static inline void reclaim(struct afx_xsk *x)
{
	uint32_t i, n, idx = 0;

	n = xsk_ring_cons__peek(&x->cq, x->ring, &idx);
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		x->tx_free[x->ntx_free++] =
			xsk_umem__extract_addr(*xsk_ring_cons__comp_addr(&x->cq, idx + i));
	xsk_ring_cons__release(&x->cq, n);
}

/* Tell the kernel to send what the tx ring holds, when it asked to be told.
 * In copy mode a sendto sends at most 32 frames and says EAGAIN when more
 * wait: one call per 32 submitted frames; what is left (a full driver
 * queue) is retried at the next burst or tick. */
static void tx_kick(struct nf_port *p)
{
	struct afx_xsk *x = XSK(p);
	uint32_t tries = x->pending / AFX_KICK_BATCH + 1;

	if (!xsk_ring_prod__needs_wakeup(&x->tx)) {
		x->pending = 0;
		x->tx_kick = false;
		return;
	}
	while (tries-- > 0) {
		x->kicks++;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			x->pending = 0;
			x->tx_kick = false;
			return;
		}
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
		    errno != EINTR) {
			x->kick_errors++;
			x->last_kick_err = errno;
			break;
		}
	}
	x->tx_kick = true;
}

static inline bool tx_len_ok(const struct afx_xsk *x, const uint8_t *d,
			     uint32_t len)
{
	if (nf_likely(len <= x->tx_max && len >= NF_FRAME_MIN))
		return true;
	return len >= NF_FRAME_MIN && d[12] == 0x81 && d[13] == 0x00 &&
	       len <= NF_MIN(x->tx_cap, x->tx_max + AFX_VLAN_HLEN);
}

static uint16_t afx_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afx_xsk *x = XSK(p);
	uint32_t i, k, sent = 0, idx = 0;
	uint64_t bytes = 0;

	if (nf_unlikely(!p->up)) {
		p->st.drops[NF_DROP_TX_DOWN] += n;
		return 0;
	}
	reclaim(x);
	/* Room for k frames: free UMEM frames and tx ring entries, reserved
	 * at once; the entries of frames refused for their length are
	 * given back below (reserve only moved cached_prod). */
	k = NF_MIN((uint32_t)n, x->ntx_free);
	k = NF_MIN(k, xsk_prod_nb_free(&x->tx, k));
	if (k > 0)
		(void)xsk_ring_prod__reserve(&x->tx, k, &idx);
	for (i = 0; i < n && sent < k; i++) {
		uint32_t len = pkts[i].len;
		struct xdp_desc *d;
		uint64_t addr;

		if (nf_unlikely(!tx_len_ok(x, pkts[i].data, len))) {
			p->st.drops[NF_DROP_TX_TOO_BIG]++;
			continue;
		}
		addr = x->tx_free[--x->ntx_free];
		nf_copy_frame(x->area + addr, pkts[i].data, len);
		d = xsk_ring_prod__tx_desc(&x->tx, idx + sent);
		d->addr = addr;
		d->len = len;
		d->options = 0;
		bytes += len;
		sent++;
	}
	x->tx.cached_prod -= k - sent;
	for (; i < n; i++)	/* no room: the rest is dropped */
		p->st.drops[tx_len_ok(x, pkts[i].data, pkts[i].len) ?
			    NF_DROP_TX_FULL : NF_DROP_TX_TOO_BIG]++;
	if (sent) {
		xsk_ring_prod__submit(&x->tx, sent);
		x->pending += sent;
	}
	if (sent || x->tx_kick)
		tx_kick(p);
	p->st.tx_pkts += sent;
	p->st.tx_bytes += bytes;
	return (uint16_t)sent;
}

/* tx_get hands out the top entries of the free stack without popping
 * them (pkts[i] is entry ntx_free - 1 - i); tx_put publishes the first @k
 * in order and pops them. A frame of a bad length ends the batch: the
 * frames published stay the top of the stack. */
static uint16_t afx_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afx_port *a = AFX(p);
	struct afx_xsk *x = &a->u.x;
	uint16_t i;

	if (a->fell_back)
		return nf_afpacket_ops.tx_get(p, pkts, n);
	x->tx_resv = 0;
	if (nf_unlikely(!p->up))
		return 0;
	reclaim(x);
	if (n > x->ntx_free)
		n = (uint16_t)x->ntx_free;
	for (i = 0; i < n; i++) {
		pkts[i].data = x->area + x->tx_free[x->ntx_free - 1 - i];
		pkts[i].len = NF_MIN(x->tx_cap, x->tx_max + AFX_VLAN_HLEN);
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = p->fp.index;
		pkts[i].flags = 0;
	}
	x->tx_resv = i;
	return i;
}

static void afx_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	struct afx_port *a = AFX(p);
	struct afx_xsk *x = &a->u.x;
	uint32_t idx = 0;
	uint64_t bytes = 0;
	uint16_t i;

	if (a->fell_back) {
		nf_afpacket_ops.tx_put(p, pkts, k);
		return;
	}
	if (k > x->tx_resv)
		k = (uint16_t)x->tx_resv;
	x->tx_resv = 0;
	for (i = 0; i < k; i++) {
		uint64_t addr = x->tx_free[x->ntx_free - 1 - i];
		uint32_t len = pkts[i].len;
		struct xdp_desc *d;

		if (!tx_len_ok(x, x->area + addr, len)) {
			p->st.drops[NF_DROP_TX_TOO_BIG] += k - i;
			break;
		}
		if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
			p->st.drops[NF_DROP_TX_FULL] += k - i;
			break;
		}
		d = xsk_ring_prod__tx_desc(&x->tx, idx);
		d->addr = addr;
		d->len = len;
		d->options = 0;
		bytes += len;
	}
	x->ntx_free -= i;
	if (i) {
		xsk_ring_prod__submit(&x->tx, i);
		x->pending += i;
	}
	if (i || x->tx_kick)
		tx_kick(p);
	p->st.tx_pkts += i;
	p->st.tx_bytes += bytes;
}

/* ---- interrupt mode ---- */

static int afx_intr_enable(struct nf_port *p)
{
	struct afx_port *a = AFX(p);

	if (a->fell_back)
		return nf_afpacket_ops.intr_enable(p);
	return xsk_cons_nb_avail(&a->u.x.rx, 1) > 0 ? 1 : 0;
}

static void afx_intr_disable(struct nf_port *p)
{
	struct afx_port *a = AFX(p);

	if (a->fell_back)
		nf_afpacket_ops.intr_disable(p);
	/* the XSK polls readable while its rx ring holds descriptors:
	 * nothing to drain */
}

/* ---- control path ---- */

static int if_mtu(const char *ifname, uint32_t *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	nf_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		ret = -errno;
	else
		*mtu = ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
	close(fd);
	return ret;
}

static void set_tx_max(struct afx_xsk *x)
{
	x->tx_max = NF_MIN(x->tx_cap, x->mtu + AFX_ETH_HLEN);
}

static void read_xdp_stats(struct nf_port *p)
{
	struct afx_xsk *x = XSK(p);
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &st, &len) < 0)
		return;
	/* frames the kernel could not give us: count them as receive
	 * errors (the detail line has each counter) */
	p->st.drops[NF_DROP_RX_ERR] += (st.rx_dropped - x->xst.rx_dropped) +
		(st.rx_ring_full - x->xst.rx_ring_full);
	x->xst = st;
}

static void afx_tick(struct nf_port *p, uint64_t now)
{
	struct afx_port *a = AFX(p);
	struct afx_xsk *x = &a->u.x;
	uint32_t mtu;

	if (a->fell_back) {
		nf_afpacket_ops.tick(p, now);
		return;
	}
	if (!p->up)
		return;
	reclaim(x);
	if (x->tx_kick)
		tx_kick(p);
	read_xdp_stats(p);
	if (if_nametoindex(a->ifname) != (unsigned)a->ifindex) {
		nf_port_set_up(p, false);	/* the interface is gone */
		return;
	}
	if (if_mtu(a->ifname, &mtu) == 0 && mtu != x->mtu) {
		x->mtu = mtu;
		set_tx_max(x);
	}
}

static const char *attach_name(uint8_t m)
{
	switch (m) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "skb";
	case XDP_ATTACHED_HW: return "hw";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

static void afx_describe(const struct nf_port *p, char *buf, size_t n)
{
	const struct afx_port *a = nf_port_cpriv(p);
	const struct afx_xsk *x = &a->u.x;
	int used;

	if (a->fell_back) {
		used = snprintf(buf, n, "afxdp fell back to afpacket: %s; ",
				a->reason);
		if (used > 0 && (size_t)used < n)
			nf_afpacket_ops.describe(p, buf + used, n - (size_t)used);
		return;
	}
	used = snprintf(buf, n, "ifname=%s queue=%" PRIu64 " xdp=%s bind=%s "
			"prog_id=%u ring=%u frame=%u mtu=%u rx_dropped=%" PRIu64
			" rx_ring_full=%" PRIu64 " fill_empty=%" PRIu64
			" tx_invalid=%" PRIu64 " kicks=%" PRIu64
			" kick_errors=%" PRIu64,
			a->ifname, a->cfg.queue, attach_name(x->attach),
			x->zc ? "zerocopy" : "copy", x->prog_id, x->ring,
			x->frame_size, x->mtu, (uint64_t)x->xst.rx_dropped,
			(uint64_t)x->xst.rx_ring_full,
			(uint64_t)x->xst.rx_fill_ring_empty_descs,
			(uint64_t)x->xst.tx_invalid_descs, x->kicks,
			x->kick_errors);
	if (used > 0 && (size_t)used < n && x->leftover)
		used += snprintf(buf + used, n - (size_t)used,
				 " reused_leftover_prog=%u", x->leftover);
	if (used > 0 && (size_t)used < n && x->last_kick_err)
		snprintf(buf + used, n - (size_t)used, " last_kick_error=\"%s\"",
			 strerror(x->last_kick_err));
}

/* Is program @id libxdp's default XSK program? */
static bool is_xsk_prog(uint32_t id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool yes;

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	yes = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	      strcmp(info.name, AFX_PROG_NAME) == 0;
	close(fd);
	return yes;
}

/* Remove a program left behind by a killed owner, when it is still the
 * one attached (XDP_FLAGS_REPLACE: never someone else's newer one). */
static void detach_leftover(struct afx_port *a)
{
	struct afx_xsk *x = &a->u.x;
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	uint32_t flags;
	int fd;

	if (x->leftover == 0 || bpf_xdp_query(a->ifindex, 0, &q) < 0 ||
	    q.prog_id != x->leftover || !is_xsk_prog(q.prog_id))
		return;
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd < 0)
		return;
	opts.old_prog_fd = fd;
	flags = XDP_FLAGS_REPLACE | (q.attach_mode == XDP_ATTACHED_SKB ?
				     XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	(void)bpf_xdp_detach(a->ifindex, flags, &opts);
	close(fd);
}

static void xsk_teardown(struct afx_port *a)
{
	struct afx_xsk *x = &a->u.x;

	if (x->xsk != NULL)
		xsk_socket__delete(x->xsk);
	x->xsk = NULL;
	if (x->umem != NULL)
		(void)xsk_umem__delete(x->umem);
	x->umem = NULL;
	if (x->area != NULL)
		munmap(x->area, x->area_size);
	x->area = NULL;
	free(x->tx_free);
	x->tx_free = NULL;
	x->fd = -1;
}

/* Interfaces with an XSK of this process (open and close run on the
 * control path of one thread): one per interface, so that the program
 * libxdp attached, or a leftover this port removes at close, is never
 * pulled from under another port of ours on another queue. */
#define AFX_IF_MAX	64
static int open_ifs[AFX_IF_MAX];

/* Returns 0, -EBUSY (taken) or -ENOSPC (table full), with a sentence. */
static int if_claim(const struct afx_port *a)
{
	int i, free_slot = -1;

	for (i = 0; i < AFX_IF_MAX; i++) {
		if (open_ifs[i] == a->ifindex) {
			nf_set_error("interface '%s' already has an afxdp port in "
				     "this program (one afxdp port per "
				     "interface)", a->ifname);
			return -EBUSY;
		}
		if (open_ifs[i] == 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		nf_set_error("too many interfaces with afxdp ports (at most %d)",
			     AFX_IF_MAX);
		return -ENOSPC;
	}
	open_ifs[free_slot] = a->ifindex;
	return 0;
}

static void if_release(int ifindex)
{
	int i;

	for (i = 0; i < AFX_IF_MAX; i++)
		if (open_ifs[i] == ifindex)
			open_ifs[i] = 0;
}

static void afx_close(struct nf_port *p)
{
	struct afx_port *a = AFX(p);

	if (a->fell_back) {
		nf_afpacket_ops.close(p);
		return;
	}
	xsk_teardown(a);
	detach_leftover(a);
	if_release(a->ifindex);
	p->rx_fd = -1;
}

/* libbpf and libxdp talk on stderr; keep their last warning as the
 * reason of a failure instead. */
static char lib_msg[200];

static int lib_print(const char *fmt, va_list ap)
{
	char line[sizeof(lib_msg)];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && strstr(line, "skipping unrecognized data section") == NULL)
		memcpy(lib_msg, line, n + 1);
	return 0;
}

static int bpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_DEBUG ? 0 : lib_print(fmt, ap);
}

static int xdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBXDP_DEBUG ? 0 : lib_print(fmt, ap);
}

/* Everything a spec can be checked for without opening anything. */
static int afx_parse(const struct nf_spec *sp, struct afx_port *a)
{
	char path[64 + IFNAMSIZ];
	struct dirent *de;
	DIR *d;
	int ret;

	a->cfg.queue = 0;
	a->cfg.mode = AFX_MODE_AUTO;
	a->cfg.xdp = AFX_XDP_AUTO;
	a->cfg.fallback = AFX_FB_AFPACKET;
	a->cfg.rsize = 11;
	a->cfg.frame_size = 0;
	ret = nf_spec_ifname(sp, a->ifname, sizeof(a->ifname),
			     "afxdp:IFNAME[,queue=N,mode=auto|copy|zerocopy,"
			     "xdp=auto|native|skb,fallback=afpacket|none,"
			     "rsize=LOG2,frame_size=2048|4096]");
	if (ret < 0)
		return ret;
	ret = nf_spec_apply(sp, afx_opts, NF_ARRAY_SIZE(afx_opts), &a->cfg);
	if (ret < 0)
		return ret;
	if (a->cfg.frame_size != 0 && a->cfg.frame_size != 2048 &&
	    a->cfg.frame_size != 4096) {
		nf_set_error("frame_size=%" PRIu64 ": expected 2048 or 4096",
			     a->cfg.frame_size);
		return -EINVAL;
	}
	a->ifindex = (int)if_nametoindex(a->ifname);
	if (a->ifindex == 0) {
		nf_set_error("no network interface named '%s'", a->ifname);
		return -ENOENT;
	}
	/* The receive queues the interface has (sysfs). */
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", a->ifname);
	a->nqueues = 0;
	d = opendir(path);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "rx-", 3) == 0)
				a->nqueues++;
		closedir(d);
	}
	if (a->nqueues > 0 && a->cfg.queue >= a->nqueues) {
		nf_set_error("queue=%" PRIu64 ": interface '%s' has %u receive "
			     "queue%s (0..%u)", a->cfg.queue, a->ifname,
			     a->nqueues, a->nqueues == 1 ? "" : "s",
			     a->nqueues - 1);
		return -EINVAL;
	}
	return 0;
}

static int afx_check(const struct nf_spec *sp)
{
	struct afx_port a;

	memset(&a, 0, sizeof(a));
	return afx_parse(sp, &a);
}

/* One attempt at an XSK with these XDP and bind flags: UMEM, socket,
 * program. Returns 0 or -errno (x is torn down on failure). */
static int xsk_try(struct afx_port *a, uint32_t xdp_flags, uint16_t bind_flags)
{
	struct afx_xsk *x = &a->u.x;
	struct xsk_umem_config uc = {
		.fill_size = x->ring, .comp_size = x->ring,
		.frame_size = x->frame_size, .frame_headroom = 0, .flags = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = x->ring, .tx_size = x->ring, .libxdp_flags = 0,
		.xdp_flags = xdp_flags, .bind_flags = bind_flags,
	};
	uint64_t t0 = nf_now_ns();
	uint32_t i, idx = 0;
	int ret;

	x->area_size = (uint64_t)x->ring * 2 * x->frame_size;
	x->area = mmap(NULL, x->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	ret = xsk_umem__create(&x->umem, x->area, x->area_size, &x->fq, &x->cq,
			       &uc);
	if (ret < 0) {
		x->umem = NULL;
		goto fail;
	}
	/* A socket of a port closed (or killed) a moment ago may still hold
	 * the queue: EBUSY for a little while. */
	for (;;) {
		ret = xsk_socket__create(&x->xsk, a->ifname,
					 (uint32_t)a->cfg.queue, x->umem, &x->rx,
					 &x->tx, &sc);
		if (ret != -EBUSY || nf_now_ns() - t0 > AFX_BUSY_MS * 1000000ull)
			break;
		usleep(20000);
	}
	if (ret < 0) {
		x->xsk = NULL;
		goto fail;
	}
	x->fd = xsk_socket__fd(x->xsk);
	if (xsk_ring_prod__reserve(&x->fq, x->ring, &idx) != x->ring) {
		ret = -ENOBUFS;
		goto fail;
	}
	for (i = 0; i < x->ring; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) =
			(uint64_t)i * x->frame_size;
	xsk_ring_prod__submit(&x->fq, x->ring);
	x->tx_free = calloc(x->ring, sizeof(*x->tx_free));
	if (x->tx_free == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < x->ring; i++)
		x->tx_free[i] = (uint64_t)(x->ring + i) * x->frame_size;
	x->ntx_free = x->ring;
	return 0;
fail:
	xsk_teardown(a);
	return ret;
}

static const char *try_name(uint32_t xdp_flags, uint16_t bind_flags)
{
	if (xdp_flags & XDP_FLAGS_SKB_MODE)
		return bind_flags & XDP_ZEROCOPY ? "skb zerocopy" : "skb copy";
	return bind_flags & XDP_ZEROCOPY ? "native zerocopy" : "native copy";
}

/* Make the XSK: every allowed (attach, bind) pair in order of preference
 * until one works. Returns 0 or -errno with a sentence. */
static int xsk_open(struct nf_port *p, struct afx_port *a)
{
	struct afx_xsk *x = &a->u.x;
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };
	static const uint32_t attach[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	static const uint16_t bind[] = { XDP_ZEROCOPY, XDP_COPY };
	char tried[200] = "";
	struct xdp_options xo;
	socklen_t len = sizeof(xo);
	size_t used = 0;
	unsigned i, j;
	int ret = -EOPNOTSUPP;

	x->fd = -1;
	x->ring = 1u << a->cfg.rsize;
	ret = if_mtu(a->ifname, &x->mtu);
	if (ret < 0) {
		nf_set_error("cannot read the MTU of '%s': %s", a->ifname,
			     strerror(-ret));
		return ret;
	}
	x->frame_size = (uint32_t)a->cfg.frame_size;
	if (x->frame_size == 0)
		x->frame_size = x->mtu + AFX_ETH_HLEN + AFX_VLAN_HLEN +
			XDP_PACKET_HEADROOM <= 2048 ? 2048 : 4096;
	if (x->mtu + AFX_ETH_HLEN + AFX_VLAN_HLEN + XDP_PACKET_HEADROOM >
	    x->frame_size) {
		nf_set_error("the MTU of '%s' (%u) does not fit a %u-byte UMEM "
			     "frame (at most %u)", a->ifname, x->mtu,
			     x->frame_size, x->frame_size - XDP_PACKET_HEADROOM -
			     AFX_ETH_HLEN - AFX_VLAN_HLEN);
		return -EMSGSIZE;
	}
	x->tx_cap = x->frame_size;
	set_tx_max(x);
	if (bpf_xdp_query_id(a->ifindex, 0, &x->leftover) < 0)
		x->leftover = 0;
	if (x->leftover != 0 && !is_xsk_prog(x->leftover))
		x->leftover = 0;	/* someone else's: never removed by us */
	libbpf_set_print(bpf_print);
	libxdp_set_print(xdp_print);
	for (i = 0; i < 2; i++) {
		if ((a->cfg.xdp == AFX_XDP_NATIVE && i == 1) ||
		    (a->cfg.xdp == AFX_XDP_SKB && i == 0))
			continue;
		for (j = 0; j < 2; j++) {
			if ((a->cfg.mode == AFX_MODE_COPY && j == 0) ||
			    (a->cfg.mode == AFX_MODE_ZC && j == 1))
				continue;
			lib_msg[0] = '\0';
			ret = xsk_try(a, attach[i] | XDP_FLAGS_UPDATE_IF_NOEXIST,
				      bind[j] | XDP_USE_NEED_WAKEUP);
			if (ret == 0)
				goto done;
			if (used < sizeof(tried))
				used += (size_t)snprintf(tried + used,
					sizeof(tried) - used, "%s%s: %s",
					used ? ", " : "", try_name(attach[i], bind[j]),
					strerror(-ret));
		}
	}
	nf_set_error("no AF_XDP socket on '%s' queue %" PRIu64 " (%s)%s%s",
		     a->ifname, a->cfg.queue, tried, lib_msg[0] ? "; libxdp: " : "",
		     lib_msg);
	return ret;
done:
	memset(&xo, 0, sizeof(xo));
	if (getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &xo, &len) == 0)
		x->zc = (xo.flags & XDP_OPTIONS_ZEROCOPY) != 0;
	if (bpf_xdp_query(a->ifindex, 0, &q) == 0) {
		x->prog_id = q.prog_id;
		x->attach = q.attach_mode;
	}
	if (x->leftover != 0 && x->leftover != x->prog_id)
		x->leftover = 0;
	p->rx_fd = x->fd;
	return 0;
}

static int afx_open(struct nf_port *p, const struct nf_spec *sp, int def_server)
{
	struct afx_port *a = AFX(p);
	struct nf_spec fsp;
	int ret;

	ret = afx_parse(sp, a);
	if (ret < 0)
		return ret;
	ret = if_claim(a);
	if (ret < 0)
		return ret;
	ret = xsk_open(p, a);
	if (ret == 0) {
		nf_port_set_up(p, true);
		return 0;
	}
	if_release(a->ifindex);
	if (a->cfg.fallback == AFX_FB_NONE)
		return ret;
	if (nf_afpacket_ops.priv_size > sizeof(a->u)) {
		nf_set_error("afxdp: no room for the afpacket fallback (%zu > %zu)",
			     nf_afpacket_ops.priv_size, sizeof(a->u));
		return -ENOSPC;
	}
	nf_strlcpy(a->reason, nf_last_error(), sizeof(a->reason));
	memset(&a->u, 0, sizeof(a->u));
	memset(&fsp, 0, sizeof(fsp));
	nf_strlcpy(fsp.type, "afpacket", sizeof(fsp.type));
	fsp.npos = 1;
	fsp.pos[0] = a->ifname;
	ret = nf_afpacket_ops.open(p, &fsp, def_server);
	if (ret < 0)
		return ret;
	a->fell_back = true;
	p->fp.rx_burst = nf_afpacket_ops.rx_burst;
	p->fp.rx_release = nf_afpacket_ops.rx_release;
	p->fp.tx_burst = nf_afpacket_ops.tx_burst;
	return 0;
}

const struct nf_port_ops nf_afxdp_ops = {
	.type = "afxdp",
	.priv_size = sizeof(struct afx_port),
	.check = afx_check,
	.open = afx_open,
	.close = afx_close,
	.rx_burst = afx_rx_burst,
	.rx_release = afx_rx_release,
	.tx_burst = afx_tx_burst,
	.tx_get = afx_tx_get,
	.tx_put = afx_tx_put,
	.intr_enable = afx_intr_enable,
	.intr_disable = afx_intr_disable,
	.tick = afx_tick,
	.describe = afx_describe,
};
