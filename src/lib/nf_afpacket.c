/* nf_afpacket.c - AF_PACKET ports: a Linux interface as a switch port.
 *
 * One AF_PACKET SOCK_RAW socket, bound to the interface for ETH_P_ALL,
 * TPACKET_V3, with a block-based receive ring and a frame-based transmit
 * ring mapped by ONE mmap (receive ring first, transmit ring after it).
 *
 *   - PACKET_QDISC_BYPASS: transmits go straight to the driver.
 *   - PACKET_IGNORE_OUTGOING: the ring never sees frames leaving the
 *     interface, ours or the host's: this is a switch port, and a frame we
 *     sent must not come back as if it had arrived.
 *   - PACKET_MR_PROMISC membership: we receive every frame on the wire.
 *   - PACKET_RESERVE: 4 bytes of headroom before each received frame. The
 *     kernel strips a VLAN tag into tp_vlan_tci before packet taps see the
 *     frame; we write it back in place (the 12 MAC bytes move 4 bytes down)
 *     so the application gets the frame as it was on the wire.
 *   - PACKET_LOSS: a transmit frame the kernel refuses is skipped instead
 *     of stopping the ring. Without it the kernel marks the frame
 *     TP_STATUS_WRONG_FORMAT and never moves its head past it, so every
 *     later frame would wait until our cursor came round to that slot
 *     again. We check the length against the MTU before the kernel sees a
 *     frame (so the drop has a name); a frame still found WRONG_FORMAT (a
 *     kernel without PACKET_LOSS) is counted and recycled.
 *
 * Receive: the kernel fills blocks of many frames and retires a block when
 * it is full or after retire_ms (1 ms: latency stays low at low rates).
 * rx_burst hands out pointers into retired blocks (borrowed, not
 * swappable), remembers its position inside a block between bursts, and
 * gives a block back (TP_STATUS_KERNEL) only when it was fully consumed and
 * the burst that consumed it is released (next rx_burst or rx_release).
 * When a block says TP_STATUS_LOSING, PACKET_STATISTICS is read and the
 * kernel's drops are added to rx-error.
 *
 * Transmit: each frame is copied into the next free ring frame, marked
 * TP_STATUS_SEND_REQUEST, and one sendto(MSG_DONTWAIT) per burst tells the
 * kernel. tx_get/tx_put let the application build frames in the ring.
 *
 * Cost per frame (read from the code, not measured yet): receive is a
 * header read, three compares and the descriptor written, no copy (a
 * tagged frame adds a 12-byte move); transmit is one copy into the ring,
 * a status check and a status store. Per burst: no system call on receive
 * (one getsockopt when the kernel reported losses), one sendto on
 * transmit. Nothing is allocated after open. The kernel's own work (skb,
 * copy into the block, timer) dominates both.
 *
 * Options: blocks (64), block_size (65536, a power of two), frames (256),
 * frame_size (a power of two; default: the smallest holding an MTU-sized
 * tagged frame, 2048 for MTU 1500), retire_ms (1). Default memory: 4 MiB
 * of receive ring plus 512 KiB (MTU 1500) to 4 MiB (MTU 9000) of
 * transmit ring.
 */
#define _GNU_SOURCE
#include "nf_port_impl.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define AFP_RESERVE	4	/* headroom for a re-inserted VLAN tag */
#define AFP_VLAN_HLEN	4
#define AFP_ETH_HLEN	14
/* Transmit frame layout: header, then data at TPACKET_ALIGN(hdr) (the
 * kernel's offset when PACKET_TX_HAS_OFF is not set). */
#define AFP_TX_OFF	TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
#define AFP_RING_MAX	(256ull << 20)	/* bytes per ring */

struct afp_cfg {
	uint64_t blocks;
	uint64_t block_size;
	uint64_t frames;
	uint64_t frame_size;	/* 0: from the MTU */
	uint64_t retire_ms;
};

struct afp_port {
	struct afp_cfg cfg;
	char ifname[IFNAMSIZ];
	int fd;
	int ifindex;
	uint32_t mtu;
	uint8_t *map;
	size_t map_size;

	/* Receive ring: blocks [rel, rel + ndone) are consumed and wait to
	 * go back to the kernel; block cur is being read (@left frames from
	 * @pkt on), or not started (@left == 0). */
	uint8_t *rx_ring;
	uint32_t rx_blocks, rx_bsize;
	uint32_t rel, ndone, cur, left;
	uint8_t *pkt;

	/* Transmit ring: frames in ring order; @pos is the next one to fill,
	 * @resv how many tx_get handed out. */
	uint8_t *tx_ring;
	uint32_t tx_frames, tx_fsize, tx_bsize;
	uint32_t tx_pos, tx_resv;
	uint32_t tx_cap;	/* data bytes per frame */
	uint32_t tx_max;	/* longest untagged frame: min(cap, mtu + 14) */
	bool tx_kick;		/* frames queued but the last sendto failed */

	uint64_t kernel_drops;	/* from PACKET_STATISTICS, also in rx-error */
	uint64_t freeze_cnt;
	uint64_t wrong_format;
	uint64_t send_errors;
	int last_send_err;
	int last_sock_err;
};

static const struct nf_opt afp_opts[] = {
	{ "blocks", NF_OPT_U64, 2, 1024, NULL,
	  offsetof(struct afp_cfg, blocks), "receive ring blocks (64)" },
	{ "block_size", NF_OPT_U64, 4096, 4u << 20, NULL,
	  offsetof(struct afp_cfg, block_size),
	  "bytes per receive block, a power of two (65536)" },
	{ "frames", NF_OPT_U64, 16, 65536, NULL,
	  offsetof(struct afp_cfg, frames), "transmit ring frames (256)" },
	{ "frame_size", NF_OPT_U64, 256, 65536, NULL,
	  offsetof(struct afp_cfg, frame_size),
	  "bytes per transmit frame, a power of two (from the MTU)" },
	{ "retire_ms", NF_OPT_U64, 1, 1000, NULL,
	  offsetof(struct afp_cfg, retire_ms),
	  "receive block retire timeout in milliseconds (1)" },
};

static inline struct afp_port *AFP(struct nf_port *p)
{
	return nf_port_priv(p);
}

static inline bool is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static inline struct tpacket_block_desc *rx_block(const struct afp_port *a,
						   uint32_t i)
{
	return (struct tpacket_block_desc *)(a->rx_ring + (size_t)i * a->rx_bsize);
}

static inline struct tpacket3_hdr *tx_frame(const struct afp_port *a, uint32_t i)
{
	return (struct tpacket3_hdr *)(a->tx_ring + (size_t)i * a->tx_fsize);
}

/* Add the kernel's receive drops (reading PACKET_STATISTICS resets them). */
static void read_kernel_stats(struct nf_port *p)
{
	struct afp_port *a = AFP(p);
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return;
	a->kernel_drops += st.tp_drops;
	a->freeze_cnt += st.tp_freeze_q_cnt;
	p->st.drops[NF_DROP_RX_ERR] += st.tp_drops;
}

/* Hand consumed blocks back to the kernel. */
static void afp_rx_release(struct nf_port *p)
{
	struct afp_port *a = AFP(p);
	uint32_t i, b = a->rel;

	for (i = 0; i < a->ndone; i++) {
		__atomic_store_n(&rx_block(a, b)->hdr.bh1.block_status,
				 TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		if (++b == a->rx_blocks)
			b = 0;
	}
	a->rel = b;
	a->ndone = 0;
}

/* Current block finished: it goes back at the next release. */
static inline void block_done(struct afp_port *a)
{
	a->ndone++;
	if (++a->cur == a->rx_blocks)
		a->cur = 0;
	a->left = 0;
}

static uint16_t afp_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afp_port *a = AFP(p);
	uint16_t i = 0, idx = p->fp.index;
	uint64_t bytes = 0;
	bool stats_read = false;

	if (a->ndone)
		afp_rx_release(p);
	while (i < n) {
		const struct tpacket3_hdr *h;
		uint8_t *data;
		uint32_t len, snap, st;

		if (a->left == 0) {
			struct tpacket_block_desc *bd = rx_block(a, a->cur);
			uint32_t bst;

			/* Every block read in this burst and not yet given
			 * back: block cur is the first of them again. */
			if (nf_unlikely(a->ndone == a->rx_blocks))
				break;
			bst = __atomic_load_n(&bd->hdr.bh1.block_status,
					      __ATOMIC_ACQUIRE);
			if (!(bst & TP_STATUS_USER))
				break;
			if (nf_unlikely(bst & TP_STATUS_LOSING) && !stats_read) {
				read_kernel_stats(p);
				stats_read = true;
			}
			a->left = bd->hdr.bh1.num_pkts;
			a->pkt = (uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
			if (nf_unlikely(a->left == 0)) {
				block_done(a);
				continue;
			}
		}
		h = (const struct tpacket3_hdr *)a->pkt;
		st = h->tp_status;
		len = h->tp_len;
		snap = h->tp_snaplen;
		data = a->pkt + h->tp_mac;
		if (--a->left == 0)
			block_done(a);
		else
			a->pkt += h->tp_next_offset;
		if (nf_unlikely(st & TP_STATUS_VLAN_VALID)) {
			/* Put the tag the kernel stripped back on the frame,
			 * in the headroom PACKET_RESERVE left before it. */
			uint16_t tpid = (st & TP_STATUS_VLAN_TPID_VALID) &&
				h->hv1.tp_vlan_tpid ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
			uint16_t tag[2] = { htons(tpid),
					    htons((uint16_t)h->hv1.tp_vlan_tci) };

			if (nf_likely(snap >= 12)) {
				memmove(data - AFP_VLAN_HLEN, data, 12);
				data -= AFP_VLAN_HLEN;
				memcpy(data + 12, tag, sizeof(tag));
				len += AFP_VLAN_HLEN;
				snap += AFP_VLAN_HLEN;
			}
		}
		if (nf_unlikely(len < NF_FRAME_MIN || len > NF_FRAME_MAX ||
				snap != len)) {
			p->st.drops[len < NF_FRAME_MIN ? NF_DROP_RX_RUNT :
				    NF_DROP_RX_TOO_BIG]++;
			continue;
		}
		pkts[i].data = data;
		pkts[i].len = len;
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = idx;
		pkts[i].flags = 0;
		bytes += len;
		i++;
	}
	p->st.rx_pkts += i;
	p->st.rx_bytes += bytes;
	return i;
}

/* Is transmit frame @f ours to fill? Recycles a refused frame. */
static inline bool tx_frame_free(struct nf_port *p, struct tpacket3_hdr *f)
{
	uint32_t st = __atomic_load_n(&f->tp_status, __ATOMIC_ACQUIRE);

	if (nf_likely(!(st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING |
			      TP_STATUS_WRONG_FORMAT))))
		return true;
	if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
		return false;
	/* The kernel refused it after we counted it sent: move it from
	 * the sent count to the drops. */
	AFP(p)->wrong_format++;
	p->st.drops[NF_DROP_TX_TOO_BIG]++;
	if (p->st.tx_pkts > 0)
		p->st.tx_pkts--;
	if (p->st.tx_bytes >= f->tp_len)
		p->st.tx_bytes -= f->tp_len;
	__atomic_store_n(&f->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELAXED);
	return true;
}

/* Will the kernel take a frame of @len bytes? At most MTU + Ethernet
 * header, 4 more when it carries an 802.1Q tag (the kernel's own rule),
 * and what a ring frame holds. A runt is refused too: the kernel would drop
 * it silently, and no tx-runt reason exists, so it counts as a frame the
 * port cannot carry. */
static inline bool tx_len_ok(const struct afp_port *a, const uint8_t *d,
			     uint32_t len)
{
	if (nf_likely(len <= a->tx_max && len >= NF_FRAME_MIN))
		return true;
	return len >= NF_FRAME_MIN && d[12] == 0x81 && d[13] == 0x00 &&
	       len <= NF_MIN(a->tx_cap, a->tx_max + AFP_VLAN_HLEN);
}

/* Tell the kernel to send what the ring holds. When that fails (socket
 * buffer full, link down) the frames stay queued: the next burst or the
 * tick tries again. */
static void tx_kick(struct nf_port *p)
{
	struct afp_port *a = AFP(p);

	if (nf_likely(sendto(a->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)) {
		a->tx_kick = false;
		return;
	}
	a->tx_kick = true;
	if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
		a->send_errors++;
		a->last_send_err = errno;
	}
}

static uint16_t afp_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afp_port *a = AFP(p);
	uint32_t pos = a->tx_pos;
	uint16_t i, sent = 0;
	uint64_t bytes = 0;

	if (nf_unlikely(!p->up)) {
		p->st.drops[NF_DROP_TX_DOWN] += n;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct tpacket3_hdr *f = tx_frame(a, pos);
		uint32_t len = pkts[i].len;
		uint8_t *d;

		if (nf_unlikely(!tx_len_ok(a, pkts[i].data, len))) {
			p->st.drops[NF_DROP_TX_TOO_BIG]++;
			continue;
		}
		if (nf_unlikely(!tx_frame_free(p, f)))
			break;
		d = (uint8_t *)f + AFP_TX_OFF;
		nf_copy_frame(d, pkts[i].data, len);
		f->tp_len = len;
		f->tp_snaplen = len;
		f->tp_next_offset = 0;
		__atomic_store_n(&f->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		if (++pos == a->tx_frames)
			pos = 0;
		bytes += len;
		sent++;
	}
	if (i < n)
		p->st.drops[NF_DROP_TX_FULL] += n - i;
	if (sent || a->tx_kick) {
		a->tx_pos = pos;
		tx_kick(p);
	}
	p->st.tx_pkts += sent;
	p->st.tx_bytes += bytes;
	return sent;
}

static uint16_t afp_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct afp_port *a = AFP(p);
	uint32_t pos = a->tx_pos;
	uint16_t i;

	a->tx_resv = 0;
	if (nf_unlikely(!p->up))
		return 0;
	if (n > a->tx_frames)
		n = (uint16_t)a->tx_frames;
	for (i = 0; i < n; i++) {
		struct tpacket3_hdr *f = tx_frame(a, pos);

		if (!tx_frame_free(p, f))
			break;
		pkts[i].data = (uint8_t *)f + AFP_TX_OFF;
		pkts[i].len = NF_MIN(a->tx_cap, a->tx_max + AFP_VLAN_HLEN);
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = p->fp.index;
		pkts[i].flags = 0;
		if (++pos == a->tx_frames)
			pos = 0;
	}
	a->tx_resv = i;
	return i;
}

static void afp_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	struct afp_port *a = AFP(p);
	uint32_t pos = a->tx_pos;
	uint64_t bytes = 0;
	uint16_t i;

	if (k > a->tx_resv)
		k = (uint16_t)a->tx_resv;
	a->tx_resv = 0;
	for (i = 0; i < k; i++) {
		struct tpacket3_hdr *f = tx_frame(a, pos);
		uint32_t len = pkts[i].len;

		/* Frames go out in ring order: a bad one ends the batch
		 * (a gap would stop the kernel there). */
		if (!tx_len_ok(a, pkts[i].data, len)) {
			p->st.drops[NF_DROP_TX_TOO_BIG] += k - i;
			break;
		}
		f->tp_len = len;
		f->tp_snaplen = len;
		f->tp_next_offset = 0;
		__atomic_store_n(&f->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		if (++pos == a->tx_frames)
			pos = 0;
		bytes += len;
	}
	if (i == 0 && !a->tx_kick)
		return;
	a->tx_pos = pos;
	tx_kick(p);
	p->st.tx_pkts += i;
	p->st.tx_bytes += bytes;
}

static int afp_intr_enable(struct nf_port *p)
{
	struct afp_port *a = AFP(p);
	uint32_t bst;

	if (a->left > 0)
		return 1;
	/* With ndone == rx_blocks, block cur is one we hold: 1 as well,
	 * the kernel has nowhere to write until the next burst gives the
	 * blocks back. */
	bst = __atomic_load_n(&rx_block(a, a->cur)->hdr.bh1.block_status,
			      __ATOMIC_ACQUIRE);
	return (bst & TP_STATUS_USER) ? 1 : 0;
}

static void afp_intr_disable(struct nf_port *p)
{
	(void)p;	/* the socket is level-triggered: nothing to drain */
}

/* The interface's MTU. Returns 0 or -errno; -ENODEV when the interface
 * is gone or the name now belongs to another interface. */
static int if_query(struct afp_port *a, uint32_t *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	nf_strlcpy(ifr.ifr_name, a->ifname, sizeof(ifr.ifr_name));
	if (ioctl(a->fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	if (ifr.ifr_ifindex != a->ifindex)
		return -ENODEV;
	if (ioctl(a->fd, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	*mtu = ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu : 0;
	return 0;
}

static void set_tx_max(struct afp_port *a)
{
	a->tx_max = NF_MIN(a->tx_cap, a->mtu + AFP_ETH_HLEN);
}

static void afp_tick(struct nf_port *p, uint64_t now)
{
	struct afp_port *a = AFP(p);
	uint32_t mtu;
	int ret;

	(void)now;
	if (!p->up)
		return;
	if (a->tx_kick)
		tx_kick(p);
	read_kernel_stats(p);
	/* A link flap leaves ENETDOWN pending on the socket, which polls
	 * POLLERR until read: a sleeping loop would spin. Read it here. */
	{
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err != 0)
			a->last_sock_err = err;
	}
	/* Follow MTU changes; an interface that disappeared takes the
	 * port down for good (a new one with that name is another
	 * interface). */
	ret = if_query(a, &mtu);
	if (ret == 0 && mtu != a->mtu) {
		a->mtu = mtu;
		set_tx_max(a);
	} else if (ret == -ENODEV) {
		nf_port_set_up(p, false);
	}
}

static void afp_describe(const struct nf_port *p, char *buf, size_t n)
{
	const struct afp_port *a = nf_port_cpriv(p);
	int used;

	used = snprintf(buf, n, "ifname=%s ifindex=%d mtu=%u rx=%ux%u tx=%u "
			"frames of %u retire=%" PRIu64 "ms kernel_drops=%" PRIu64
			" ring_frozen=%" PRIu64 " wrong_format=%" PRIu64
			" send_errors=%" PRIu64,
			a->ifname, a->ifindex, a->mtu, a->rx_blocks, a->rx_bsize,
			a->tx_frames, a->tx_fsize, a->cfg.retire_ms,
			a->kernel_drops, a->freeze_cnt, a->wrong_format,
			a->send_errors);
	if (used > 0 && (size_t)used < n && a->last_send_err)
		used += snprintf(buf + used, n - (size_t)used,
				 " last_send_error=\"%s\"",
				 strerror(a->last_send_err));
	if (used > 0 && (size_t)used < n && a->last_sock_err)
		snprintf(buf + used, n - (size_t)used,
			 " last_socket_error=\"%s\"", strerror(a->last_sock_err));
}

static void afp_close(struct nf_port *p)
{
	struct afp_port *a = AFP(p);

	if (a->map != NULL)
		munmap(a->map, a->map_size);
	a->map = NULL;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	p->rx_fd = -1;
}

static int sockopt(struct afp_port *a, int opt, const char *name,
		   const void *val, socklen_t len)
{
	int e;

	if (setsockopt(a->fd, SOL_PACKET, opt, val, len) == 0)
		return 0;
	e = errno;
	nf_set_error("afpacket %s: setsockopt %s: %s", a->ifname, name,
		     strerror(e));
	return -e;
}

/* Everything an afpacket spec can be checked for without opening a
 * socket: options, sizes, the interface's existence. Fills a->cfg,
 * a->ifname, a->ifindex. */
static int afp_parse(const struct nf_spec *sp, struct afp_port *a)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t rx_bytes;
	int ret;

	a->cfg.blocks = 64;
	a->cfg.block_size = 65536;
	a->cfg.frames = 256;
	a->cfg.frame_size = 0;
	a->cfg.retire_ms = 1;
	if (page <= 0)
		page = 4096;
	ret = nf_spec_ifname(sp, a->ifname, sizeof(a->ifname),
			     "afpacket:IFNAME[,blocks=N,block_size=B,frames=N,"
			     "frame_size=B,retire_ms=MS]");
	if (ret < 0)
		return ret;
	ret = nf_spec_apply(sp, afp_opts, NF_ARRAY_SIZE(afp_opts), &a->cfg);
	if (ret < 0)
		return ret;
	if (!is_pow2(a->cfg.block_size) || a->cfg.block_size < (uint64_t)page) {
		nf_set_error("block_size=%" PRIu64 ": expected a power of two "
			     "from %ld to %u", a->cfg.block_size, page, 4u << 20);
		return -EINVAL;
	}
	if (a->cfg.frame_size != 0 && !is_pow2(a->cfg.frame_size)) {
		nf_set_error("frame_size=%" PRIu64 ": expected a power of two "
			     "from 256 to 65536", a->cfg.frame_size);
		return -EINVAL;
	}
	rx_bytes = a->cfg.blocks * a->cfg.block_size;
	if (rx_bytes > AFP_RING_MAX) {
		nf_set_error("blocks=%" PRIu64 " x block_size=%" PRIu64 " is %"
			     PRIu64 " MiB: the receive ring is at most %llu MiB",
			     a->cfg.blocks, a->cfg.block_size, rx_bytes >> 20,
			     AFP_RING_MAX >> 20);
		return -EINVAL;
	}
	a->ifindex = (int)if_nametoindex(a->ifname);
	if (a->ifindex == 0) {
		nf_set_error("no network interface named '%s'", a->ifname);
		return -ENOENT;
	}
	return 0;
}

static int afp_check(const struct nf_spec *sp)
{
	struct afp_port *a = calloc(1, sizeof(*a));
	int ret;

	if (a == NULL)
		return -ENOMEM;
	ret = afp_parse(sp, a);
	free(a);
	return ret;
}

static int afp_open(struct nf_port *p, const struct nf_spec *sp, int def_server)
{
	struct afp_port *a = AFP(p);
	long page = sysconf(_SC_PAGESIZE);
	struct tpacket_req3 rreq, treq;
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	uint64_t rx_bytes, tx_bytes;
	int one = 1, ver = TPACKET_V3, reserve = AFP_RESERVE, ret;
	unsigned fpb;

	(void)def_server;
	a->fd = -1;
	if (page <= 0)
		page = 4096;
	ret = afp_parse(sp, a);
	if (ret < 0)
		return ret;
	rx_bytes = a->cfg.blocks * a->cfg.block_size;

	/* Protocol 0: nothing is queued to the socket before the ring
	 * exists; bind() below starts reception. */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		ret = -errno;
		if (errno == EPERM || errno == EACCES) {
			nf_set_error("afpacket port on '%s' needs CAP_NET_RAW "
				     "(run as root)", a->ifname);
			return -EPERM;
		}
		nf_set_error("afpacket %s: socket: %s", a->ifname, strerror(errno));
		return ret;
	}
	ret = if_query(a, &a->mtu);
	if (ret < 0) {
		nf_set_error("afpacket %s: cannot read the MTU: %s", a->ifname,
			     strerror(-ret));
		goto fail;
	}
	if (a->cfg.frame_size == 0) {
		/* Room for the header, an MTU-sized frame and a VLAN tag. */
		uint64_t need = AFP_TX_OFF + (uint64_t)a->mtu + AFP_ETH_HLEN +
			AFP_VLAN_HLEN;

		a->cfg.frame_size = 2048;
		while (a->cfg.frame_size < need && a->cfg.frame_size < 65536)
			a->cfg.frame_size <<= 1;
	}
	a->tx_fsize = (uint32_t)a->cfg.frame_size;
	a->tx_bsize = NF_MAX((uint32_t)page, a->tx_fsize);
	fpb = a->tx_bsize / a->tx_fsize;
	a->tx_frames = (uint32_t)((a->cfg.frames + fpb - 1) / fpb * fpb);
	tx_bytes = (uint64_t)a->tx_frames * a->tx_fsize;
	if (tx_bytes > AFP_RING_MAX) {
		nf_set_error("frames=%" PRIu64 " x frame_size=%u is %" PRIu64
			     " MiB: the transmit ring is at most %llu MiB",
			     a->cfg.frames, a->tx_fsize, tx_bytes >> 20,
			     AFP_RING_MAX >> 20);
		ret = -EINVAL;
		goto fail;
	}
	a->tx_cap = a->tx_fsize - (uint32_t)AFP_TX_OFF;
	set_tx_max(a);
	a->rx_blocks = (uint32_t)a->cfg.blocks;
	a->rx_bsize = (uint32_t)a->cfg.block_size;

	if ((ret = sockopt(a, PACKET_VERSION, "PACKET_VERSION (TPACKET_V3)",
			   &ver, sizeof(ver))) < 0 ||
	    (ret = sockopt(a, PACKET_RESERVE, "PACKET_RESERVE", &reserve,
			   sizeof(reserve))) < 0 ||
	    (ret = sockopt(a, PACKET_QDISC_BYPASS, "PACKET_QDISC_BYPASS", &one,
			   sizeof(one))) < 0 ||
	    (ret = sockopt(a, PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING",
			   &one, sizeof(one))) < 0 ||
	    (ret = sockopt(a, PACKET_LOSS, "PACKET_LOSS", &one, sizeof(one))) < 0)
		goto fail;

	memset(&rreq, 0, sizeof(rreq));
	rreq.tp_block_size = a->rx_bsize;
	rreq.tp_block_nr = a->rx_blocks;
	rreq.tp_frame_size = a->rx_bsize;	/* V3: frames vary in size */
	rreq.tp_frame_nr = a->rx_blocks;
	rreq.tp_retire_blk_tov = (unsigned)a->cfg.retire_ms;
	if ((ret = sockopt(a, PACKET_RX_RING, "PACKET_RX_RING", &rreq,
			   sizeof(rreq))) < 0)
		goto fail;
	memset(&treq, 0, sizeof(treq));
	treq.tp_block_size = a->tx_bsize;
	treq.tp_block_nr = a->tx_frames / fpb;
	treq.tp_frame_size = a->tx_fsize;
	treq.tp_frame_nr = a->tx_frames;
	if ((ret = sockopt(a, PACKET_TX_RING, "PACKET_TX_RING", &treq,
			   sizeof(treq))) < 0)
		goto fail;

	a->map_size = (size_t)rx_bytes + (size_t)tx_bytes;
	a->map = mmap(NULL, a->map_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, a->fd, 0);
	if (a->map == MAP_FAILED) {
		a->map = NULL;
		ret = -errno;
		nf_set_error("afpacket %s: cannot map %zu bytes of rings: %s",
			     a->ifname, a->map_size, strerror(errno));
		goto fail;
	}
	a->rx_ring = a->map;
	a->tx_ring = a->map + rx_bytes;
	/* A frame in flight is charged to the socket's send buffer: let the
	 * whole ring be in flight, or sendto stops half way (EAGAIN).
	 * Best effort: the FORCE variant needs CAP_NET_ADMIN. */
	{
		int sz = (int)NF_MIN(2 * tx_bytes, (uint64_t)INT32_MAX / 2);

		if (setsockopt(a->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			(void)setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = a->ifindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ret = -errno;
		if (errno == ENODEV) {
			nf_set_error("no network interface named '%s'", a->ifname);
			ret = -ENOENT;
		} else {
			nf_set_error("afpacket %s: bind: %s", a->ifname,
				     strerror(errno));
		}
		goto fail;
	}
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = a->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if ((ret = sockopt(a, PACKET_ADD_MEMBERSHIP,
			   "PACKET_ADD_MEMBERSHIP (promiscuous)", &mr,
			   sizeof(mr))) < 0)
		goto fail;

	p->rx_fd = a->fd;
	nf_port_set_up(p, true);
	return 0;
fail:
	afp_close(p);
	return ret;
}

const struct nf_port_ops nf_afpacket_ops = {
	.type = "afpacket",
	.priv_size = sizeof(struct afp_port),
	.check = afp_check,
	.open = afp_open,
	.close = afp_close,
	.rx_burst = afp_rx_burst,
	.rx_release = afp_rx_release,
	.tx_burst = afp_tx_burst,
	.tx_get = afp_tx_get,
	.tx_put = afp_tx_put,
	.intr_enable = afp_intr_enable,
	.intr_disable = afp_intr_disable,
	.tick = afp_tick,
	.describe = afp_describe,
};
