/* nf_io.h - nfchain packet I/O: ports opened from a spec string, packets
 * received and transmitted in batches, read and written in place.
 *
 * This is the POSIX-level fast packet I/O API of the architecture (netmap in
 * the thesis). A program calls nf_io_init() once, opens ports with
 * nf_port_open(), then runs a loop of nf_rx_burst() / nf_tx_burst() and,
 * between bursts, nf_io_service() for the control plane (memif handshakes,
 * reconnects, faults).
 *
 * Port specs (see docs/DESIGN.md and nfswitch(8) for every option):
 *   memif:PATH[,id=N][,role=client|server][,rsize=LOG2][,bsize=BYTES]
 *        [,secret=S][,mac=..]   shared-memory packet interface (memif 2.0)
 *   afpacket:IFNAME[,frames=N]  Linux AF_PACKET, TPACKET_V3 mmap rings
 *   afxdp:IFNAME[,queue=N][,mode=auto|copy|zerocopy][,fallback=afpacket|none]
 *                               Linux AF_XDP (libxdp), AF_PACKET fallback
 *   pcap:[IN][,OUT]             read frames from IN, append frames to OUT
 *
 * Threading: every call on a port, and nf_io_service(), must come from one
 * thread (the one that owns the loop). No call takes a lock. None allocates
 * memory or makes a system call per packet: a memif transmit makes at most
 * one write() per burst, and only when the peer asked for interrupts; an
 * AF_PACKET transmit makes one sendto() per burst.
 *
 * Buffers. Every packet handed out by nf_rx_burst() is *borrowed*: it stays
 * valid, readable and writable in place, until the next nf_rx_burst() or
 * nf_rx_release() on the same port. Packets received on a memif client port
 * (and a pcap port) live in the process's own buffer pool; such a packet can
 * be transmitted on another pool-backed port of the same process without a
 * copy (the netmap buffer swap): nf_tx_burst() exchanges the buffer with the
 * free buffer of the transmit slot. All other transmits copy once, into the
 * memory of the transmitting port.
 *
 * Errors: calls return 0 (or a count) on success and a negative errno on
 * failure; when a call fails, nf_last_error() holds one sentence saying what
 * and why (for example "unknown port type 'foo' in 'foo:bar'").
 */
#ifndef NF_IO_H
#define NF_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nf_util.h"

#define NF_BURST_MAX	256	/* largest burst any call accepts */
#define NF_FRAME_MAX	9216	/* largest frame, bytes without FCS */
#define NF_FRAME_MIN	14	/* an Ethernet header */
#define NF_BUF_NONE	UINT32_MAX

/* A header that a transmit writes in front of a packet's own bytes
 * (NF_PKT_F_HDR, nf_tx_burst_hdr()): the frame is the @len bytes at @p,
 * then the packet's bytes. An encapsulation written once per flow instead
 * of once per packet. @lenoff: where an outer IPv6 header's payload
 * length is (its header at @lenoff - 4): the 16-bit big-endian field is
 * set to the frame's length - @lenoff - 36. A header without one has
 * @lenoff = @len: the field is written, then the packet's bytes over it
 * (no test per frame). @len is at most NF_HDR_ROOM and @p readable to
 * NF_HDR_ROOM bytes: nf_pkt_copy() copies it in whole 32-byte moves, four
 * or six, with no test of its length. */
#define NF_HDR_ROOM	192
struct nf_hdr {
	const uint8_t *p;
	uint16_t len;
	uint16_t lenoff;
};

/* One packet of a burst. 32 bytes; arrays of them are the burst. */
struct nf_pkt {
	uint8_t  *data;	/* first byte of the Ethernet frame; with
			 * NF_PKT_F_HDR the first byte after the header */
	uint32_t  len;	/* frame length in bytes, FCS not included (with
			 * NF_PKT_F_HDR the header's bytes included) */
	uint32_t  buf;	/* pool buffer index, or NF_BUF_NONE (not swappable) */
	union {
		uint32_t *slot;	/* rx ring entry holding @buf; NULL if not swappable */
		const struct nf_hdr *hdr;	/* NF_PKT_F_HDR: the header */
	};
	uint16_t  port;	/* index of the receiving port (nf_port_index()) */
	uint16_t  flags;	/* NF_PKT_F_*; 0 as received */
	uint32_t  user;	/* free for the application */
};

/* The frame is pkt->hdr followed by its own bytes; only for
 * nf_tx_burst_hdr() (or made one piece by nf_pkt_flatten()). */
#define NF_PKT_F_HDR	1u

/* Drop reasons counted by every port: one X-macro list gives the enum and
 * the names (VPP style). */
#define NF_PORT_DROPS(_)						\
	_(TX_FULL,     "tx-ring-full",  "transmit ring had no free slot")	\
	_(TX_DOWN,     "tx-link-down",  "port not connected")		\
	_(TX_TOO_BIG,  "tx-too-big",    "frame larger than the port can carry") \
	_(TX_BAD_DESC, "tx-bad-desc",   "peer offered a buffer outside its memory") \
	_(RX_BAD_DESC, "rx-bad-desc",   "peer descriptor outside its memory") \
	_(RX_TOO_BIG,  "rx-too-big",    "received frame larger than NF_FRAME_MAX") \
	_(RX_RUNT,     "rx-runt",       "received frame shorter than 14 bytes") \
	_(RX_ERR,      "rx-error",      "the kernel reported a receive error")

enum nf_drop {
#define NF_DROP_ENUM(e, name, descr) NF_DROP_##e,
	NF_PORT_DROPS(NF_DROP_ENUM)
#undef NF_DROP_ENUM
	NF_DROP_MAX
};

/* Why a connection ended (memif); counted per port. */
#define NF_PORT_DISCS(_)						\
	_(PEER_CLOSED,  "peer-closed",  "peer closed the control socket")	\
	_(PEER_DISC,    "peer-disconnect", "peer sent DISCONNECT")	\
	_(BAD_MSG,      "bad-message",  "malformed or unexpected control message") \
	_(BAD_REGION,   "bad-region",   "unusable memory region")	\
	_(BAD_RING,     "bad-ring",     "ring outside its region or bad cookie") \
	_(BAD_DESC,     "bad-descriptor", "descriptor outside the peer's memory") \
	_(BAD_INDEX,    "bad-ring-index", "ring head or tail moved impossibly") \
	_(STALLED,      "stalled",      "peer stopped draining its ring")	\
	_(TIMEOUT,      "handshake-timeout", "handshake did not finish in time") \
	_(LOCAL,        "local",        "closed by this side")

enum nf_disc {
#define NF_DISC_ENUM(e, name, descr) NF_DISC_##e,
	NF_PORT_DISCS(NF_DISC_ENUM)
#undef NF_DISC_ENUM
	NF_DISC_MAX
};

struct nf_port_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
	uint64_t drops[NF_DROP_MAX];
	uint64_t connects;
	uint64_t discs[NF_DISC_MAX];
	uint64_t rx_wakeups;	/* interrupt-mode wakeups */
	/* Receive backlog (memif): the most frames a receive found waiting
	 * in the ring, over the last whole tick window (about 100 ms:
	 * rx_queue) and the current one (rx_queue_now); rx_ring, the ring's
	 * slots. rx_queue / rx_ring is how full the port's input ran. */
	uint32_t rx_queue, rx_queue_now, rx_ring;
};

struct nf_port;

/* Process-wide settings, given once to nf_io_init(). Zero means default. */
struct nf_io_params {
	uint32_t pool_bufs;	/* buffers in the process pool: 16384 */
	uint32_t buf_size;	/* bytes per pool buffer: 2048 (256..65536) */
	uint32_t stall_ms;	/* disconnect a memif peer whose ring stays full
				 * this long: 5000; UINT32_MAX disables */
	uint32_t handshake_ms;	/* memif handshake deadline: 3000 */
};

/* Initialise the library for this process. Returns 0, -EALREADY,
 * -EINVAL (a parameter out of range) or -errno of a failed system call. */
int nf_io_init(const struct nf_io_params *prm);
/* Close every port still open and release the pool. */
void nf_io_fini(void);

/* A file descriptor (epoll) that becomes readable when control-plane work
 * waits: add it to the application's poll set, or call nf_io_service()
 * now and then (every millisecond or so) when busy-polling. */
int nf_io_fd(void);
/* Do the pending control-plane work without blocking: accept memif peers,
 * run handshakes, reconnect clients, tear down faulty connections. Must be
 * called between bursts (no borrowed rx packet outstanding). Returns the
 * number of events handled, or -errno. */
int nf_io_service(void);

/* Link state callback: called from nf_io_service() when a port goes up or
 * down. */
typedef void (*nf_link_cb)(struct nf_port *p, bool up, void *arg);

struct nf_port_conf {
	const char *name;	/* label in counters; default: the spec */
	int default_server;	/* memif role when the spec has none:
				 * 0 client, 1 server */
	nf_link_cb on_link;
	void *arg;
};

/* Open a port from @spec. Returns 0 and *pp, or -EINVAL (bad spec; the
 * sentence names the offending part), -ENOENT (no such interface or file),
 * -EADDRINUSE (memif socket path and id already open in this process),
 * -ENOBUFS (pool too small), -EPERM, or another -errno. A memif port opens
 * immediately and connects in the background (nf_port_is_up()). */
int nf_port_open(const char *spec, const struct nf_port_conf *conf,
		 struct nf_port **pp);
/* Check @spec as nf_port_open() would, without opening anything (for
 * "--check" modes). Returns 0 or -EINVAL with a sentence. */
int nf_port_check(const char *spec);
/* Close the port: disconnect, unmap, free. NULL is ignored. */
void nf_port_close(struct nf_port *p);

const char *nf_port_name(const struct nf_port *p);
const char *nf_port_type(const struct nf_port *p);	/* "memif", ... */
bool nf_port_is_up(const struct nf_port *p);
const struct nf_port_stats *nf_port_stats(const struct nf_port *p);
/* One line of port-specific state for humans ("server id=0 peer=dpdk"). */
void nf_port_describe(const struct nf_port *p, char *buf, size_t n);
/* Name of a drop or disconnect reason ("tx-ring-full"). */
const char *nf_drop_name(enum nf_drop d);
const char *nf_disc_name(enum nf_disc d);
/* True once a pcap input is exhausted (always false for other types). */
bool nf_port_rx_eof(const struct nf_port *p);

/* The per-burst entry points of a port. They are the first member of every
 * struct nf_port, so that the burst calls below are inline: one indirect
 * call per burst into the port type's code for its role (DPDK's fast-path
 * ops). Set by the port type at open; not for applications to touch. */
struct nf_port_fp {
	uint16_t (*rx_burst)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
	void (*rx_release)(struct nf_port *p);
	uint16_t (*tx_burst)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
	/* the same, packets may have NF_PKT_F_HDR; NULL: the type has none */
	uint16_t (*tx_burst_hdr)(struct nf_port *p, struct nf_pkt *pkts, uint16_t n,
				 const struct nf_hdr *same);
	uint16_t index;
};

static inline const struct nf_port_fp *nf_port_fp_(const struct nf_port *p)
{
	return (const struct nf_port_fp *)(const void *)p;
}

/* Index of the port in this process (0..1023), also in nf_pkt.port. */
static inline uint16_t nf_port_index(const struct nf_port *p)
{
	return nf_port_fp_(p)->index;
}

/* Receive up to @n (<= NF_BURST_MAX) packets. First returns the slots of the
 * previous burst to the port (as nf_rx_release()). Returns the count; 0 when
 * nothing waits or the port is down. Never blocks. nf_pkt.user is left as
 * it was. */
static inline uint16_t nf_rx_burst(struct nf_port *p, struct nf_pkt *pkts,
				   uint16_t n)
{
	return nf_port_fp_(p)->rx_burst(p, pkts, n < NF_BURST_MAX ? n : NF_BURST_MAX);
}

/* Give back the slots of the last burst now. Packets of that burst must not
 * be used afterwards. */
static inline void nf_rx_release(struct nf_port *p)
{
	nf_port_fp_(p)->rx_release(p);
}

/* Transmit @n packets. Every packet is either sent or counted as a drop on
 * this port (reason in the stats); the call returns how many were sent.
 * A packet whose ->slot is set and whose buffer belongs to this process's
 * pool is sent by buffer swap when the port is pool-backed (memif client):
 * afterwards ->slot is NULL and ->data points into the transmit ring, which
 * the caller must no longer touch. To send one packet on several ports,
 * clear ->slot for all but the last transmit. */
static inline uint16_t nf_tx_burst(struct nf_port *p, struct nf_pkt *pkts,
				   uint16_t n)
{
	return nf_port_fp_(p)->tx_burst(p, pkts, n < NF_BURST_MAX ? n : NF_BURST_MAX);
}

/* True when @p takes packets with NF_PKT_F_HDR (nf_tx_burst_hdr()):
 * memif server ports. */
static inline bool nf_port_tx_hdr(const struct nf_port *p)
{
	return nf_port_fp_(p)->tx_burst_hdr != NULL;
}

/* nf_tx_burst() on a port where nf_port_tx_hdr() holds: packets with
 * NF_PKT_F_HDR are copied from two places (header, then their own bytes)
 * straight into the port's memory; the others as nf_tx_burst() copies
 * them (never by buffer swap). @same, if not NULL: every packet has
 * NF_PKT_F_HDR and ->hdr == @same (one flow's burst), so the header is
 * read once for the burst, not once a packet. */
static inline uint16_t nf_tx_burst_hdr(struct nf_port *p, struct nf_pkt *pkts,
				       uint16_t n, const struct nf_hdr *same)
{
	return nf_port_fp_(p)->tx_burst_hdr(p, pkts, n < NF_BURST_MAX ? n : NF_BURST_MAX,
					    same);
}

/* Write the frame of @pk (with NF_PKT_F_HDR: its header, its length
 * field, then its bytes: the order nf_hdr's @lenoff = @len needs) at
 * @dst, @pk->len bytes; @dst is writable to @room bytes (at least
 * @pk->len). With room for NF_HDR_ROOM, the header goes in whole 32-byte
 * moves (past its end too: its packet's bytes follow over them); with
 * less, exactly. */
static inline void nf_pkt_copy(uint8_t *dst, uint32_t room, const struct nf_pkt *pk)
{
	const uint8_t *const src = pk->data;
	const uint32_t len = pk->len;
	const struct nf_hdr *h;
	const uint8_t *hp;
	uint32_t hl, off;
	uint16_t v;

	if (!(pk->flags & NF_PKT_F_HDR)) {
		nf_copy_frame(dst, src, len);
		return;
	}
	/* everything read before the first store (which may alias it) */
	h = pk->hdr;
	hp = h->p;
	hl = h->len;
	off = h->lenoff;
	v = __builtin_bswap16((uint16_t)(len - off - 36));
	if (nf_likely(room >= NF_HDR_ROOM)) {
		nf_copy32(dst, hp);
		nf_copy32(dst + 32, hp + 32);
		nf_copy32(dst + 64, hp + 64);
		nf_copy32(dst + 96, hp + 96);
		if (hl > 128) {
			nf_copy32(dst + 128, hp + 128);
			nf_copy32(dst + 160, hp + 160);
		}
	} else {
		nf_copy_frame(dst, hp, hl);
	}
	memcpy(dst + off, &v, 2);
	nf_copy_frame(dst + hl, src, len - hl);
}

/* Make a packet with NF_PKT_F_HDR one piece at @buf (NF_FRAME_MAX bytes), for
 * a port without nf_tx_burst_hdr(). */
static inline void nf_pkt_flatten(struct nf_pkt *pk, uint8_t *buf)
{
	nf_pkt_copy(buf, NF_FRAME_MAX, pk);
	pk->data = buf;
	pk->flags = 0;
	pk->slot = NULL;
	pk->buf = NF_BUF_NONE;
}

/* Build in place: get up to @n free transmit buffers. Each pkts[i].data
 * points to writable memory of pkts[i].len bytes (the buffer's capacity).
 * Write the frame, set pkts[i].len to its length, then publish the first
 * @k with nf_tx_put(). Buffers not put are kept for the next nf_tx_get(). */
uint16_t nf_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n);
void nf_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k);

/* Interrupt mode. nf_port_rx_fd() is a descriptor that polls readable when
 * packets arrive (-1 when the port has none: then it is always ready).
 * Before sleeping, call nf_rx_intr_enable(): it asks the peer for
 * interrupts and returns 1 if packets are already waiting (do not sleep),
 * 0 if the port is armed. After waking, nf_rx_intr_disable() drains the
 * descriptor and goes back to polling mode (no interrupts while busy). */
int nf_port_rx_fd(const struct nf_port *p);
int nf_rx_intr_enable(struct nf_port *p);
void nf_rx_intr_disable(struct nf_port *p);

#endif
