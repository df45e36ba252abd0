/* nf_memif.c - memif ports, both roles (protocol version 2.0).
 *
 * Server role (nfswitch): the peer's memory is untrusted. Every region fd
 * must be a regular file sealed against shrinking (so it can never SIGBUS
 * us), every ring must lie inside its region and carry the cookie, every
 * descriptor is read once into locals, checked against the region table,
 * and only then used. A peer whose ring index jumps, whose descriptor
 * points outside its memory, or whose ring stays full longer than the
 * stall limit is disconnected and the reason counted; other ports never
 * notice. Teardown happens from nf_io_service() (the tick), never while a
 * burst is outstanding.
 *
 * Client role (VNFs, nf-gen): region 0 holds our two rings; region 1 is the
 * process buffer pool, shared by every memif client port of the process,
 * which is what makes the rx -> tx buffer swap possible. Buffer indices per
 * slot live in private shadow arrays, never read back from shared memory.
 *
 * One queue pair per interface (we advertise ring index 0 only).
 *
 * Cost (callgrind, bench/callgrind.sh): server rx ~12 instructions and
 * server tx ~20 instructions per 64-byte packet, copy included.
 */
#define _GNU_SOURCE
#include "nf_memif_proto.h"
#include "nf_port_impl.h"
#include "nf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MIF_MAX_REGIONS		8
#define MIF_LOG2_MIN		4
#define MIF_LOG2_MAX		14
#define MIF_MAX_REGION_BYTES	(1ull << 32)	/* offsets are 32-bit */
#define MIF_MAX_PENDING		16	/* unidentified connections per socket */
#define MIF_GATHER_PKTS		32	/* chained frames per rx burst */
#define MIF_RECONNECT_NS	1000000000ull

enum mif_state {
	MIF_DOWN,		/* no connection */
	MIF_HANDSHAKE,		/* control messages flowing */
	MIF_UP,			/* rings mapped, data flows */
};

struct mif_region {
	uint8_t *base;
	uint64_t size;
};

/* Our view of one ring. @pos is the private cursor of the side we play:
 *   server rx (C2S): next slot to read;   server tx (S2C): our tail;
 *   client rx (S2C): next slot to read;   client tx (C2S): our head.
 * @rel is where the consumer will move the shared index on release. */
struct mif_q {
	struct nf_memif_ring *ring;
	uint16_t size, mask;
	uint16_t pos;
	uint16_t held;		/* rx: slots handed out in the current burst */
	uint16_t resv;		/* tx: slots handed out by tx_get */
	uint8_t log2;
	int fd;			/* eventfd of this ring */
};

struct mif_listener;

struct mif_conn {
	struct nf_ev ev;
	struct mif_listener *lst;	/* server side only */
	struct nf_port *port;		/* NULL until INIT names a port */
	struct mif_conn *next;		/* in lst->pending */
	uint64_t deadline;
};

struct mif_listener {
	struct nf_ev ev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int refs;
	int npending;
	struct mif_conn *pending;
	struct mif_listener *next;
	struct nf_port *ports;		/* chain through mif_port.lst_next */
	uint64_t refused;
};

struct mif_cfg {
	char path[108];
	uint64_t id;
	uint64_t role;			/* 0 client, 1 server */
	uint64_t log2;
	uint64_t bsize;
	char secret[NF_MEMIF_SECRET_SZ + 1];
	uint8_t mac[6];
};

struct mif_port {
	struct nf_port *p;
	struct mif_cfg cfg;
	bool server;
	enum mif_state state;
	int fault;			/* enum nf_disc + 1, 0: none */
	struct mif_conn *conn;
	struct mif_listener *lst;
	struct nf_port *lst_next;
	uint64_t deadline;		/* handshake */
	uint64_t reconnect_at;		/* client */
	uint64_t stall_since;
	uint64_t now;			/* coarse clock from the tick */

	/* Negotiated/received layout. rb/rs mirror reg[] for the data path,
	 * with size 0 for regions that do not exist (see W0_SLOW_MASK). */
	uint16_t nregions;
	struct mif_region reg[MIF_MAX_REGIONS];
	uint8_t *rb[MIF_MAX_REGIONS];
	uint64_t rs[MIF_MAX_REGIONS];
	int reg_fd[MIF_MAX_REGIONS];
	bool has_c2s, has_s2c;
	struct nf_memif_add_ring ring_msg[2];	/* [0] C2S, [1] S2C */
	int ring_fd[2];
	struct mif_q rx, tx;

	/* Client side. */
	int step;			/* handshake step */
	int rfd;			/* region 0 memfd */
	uint8_t *rbase;			/* region 0 mapping */
	uint64_t rsize;
	uint32_t *shadow_rx, *shadow_tx;
	uint32_t bsize;
	uint8_t run_log2;

	/* Chained-frame gather area, MIF_GATHER_PKTS x NF_FRAME_MAX. */
	uint8_t *gather;
	unsigned ngather;

	char peer_name[NF_MEMIF_NAME_SZ + 1];
	char peer_if[NF_MEMIF_NAME_SZ + 1];
	char disc_reason[97];
	char remote_reason[97];
};

static struct mif_listener *listeners;

static const struct nf_opt mif_opts[] = {
	{ "id", NF_OPT_U64, 0, UINT32_MAX, NULL,
	  offsetof(struct mif_cfg, id), "interface id (0)" },
	{ "role", NF_OPT_ENUM, 0, 0, (const char *const[]){ "client", "server", NULL },
	  offsetof(struct mif_cfg, role), "client or server" },
	{ "rsize", NF_OPT_U64, MIF_LOG2_MIN, MIF_LOG2_MAX, NULL,
	  offsetof(struct mif_cfg, log2), "log2 of the ring size (10)" },
	{ "bsize", NF_OPT_U64, 256, 65536, NULL,
	  offsetof(struct mif_cfg, bsize), "buffer size: the pool's" },
	{ "secret", NF_OPT_STR, 0, NF_MEMIF_SECRET_SZ + 1, NULL,
	  offsetof(struct mif_cfg, secret), "shared secret" },
	{ "mac", NF_OPT_MAC, 0, 0, NULL,
	  offsetof(struct mif_cfg, mac), "MAC address label" },
};

static void mif_teardown(struct nf_port *p, enum nf_disc why, const char *msg);
static int client_try_connect(struct nf_port *p);

static inline struct mif_port *MIF(struct nf_port *p)
{
	return nf_port_priv(p);
}

/* ------------------------------------------------------------------ */
/* Control messages                                                    */

static int msg_send(int fd, const struct nf_memif_msg *m, int afd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (afd >= 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_len = CMSG_LEN(sizeof(int));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(c), &afd, sizeof(int));
	}
	/* The protocol is lock-step and a message is 128 bytes: a socket
	 * that cannot take one more is a peer that stopped reading. */
	r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r != (ssize_t)sizeof(*m))
		return r < 0 ? -errno : -EIO;
	return 0;
}

static void send_simple(int fd, uint16_t type)
{
	struct nf_memif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	(void)msg_send(fd, &m, -1);
}

static void send_disconnect(int fd, const char *reason)
{
	struct nf_memif_msg m;

	memset(&m, 0, sizeof(m));
	m.type = NF_MEMIF_MSG_DISCONNECT;
	nf_strlcpy((char *)m.disconnect.string, reason,
		   sizeof(m.disconnect.string));
	(void)msg_send(fd, &m, -1);
}

/* Receive one message and at most one fd. Returns 1 and fills the message and the fd,
 * 0 when nothing waits, -EPIPE on close, -EPROTO on a bad message (every
 * received fd already closed). */
static int msg_recv(int fd, struct nf_memif_msg *m, int *afd)
{
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int nfds = 0;
	ssize_t r;

	*afd = -1;
	r = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -EPIPE;
	/* Collect descriptors before anything else: even a zero-length
	 * message (which also reads as 0) can carry some. */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			size_t i;

			for (i = 0; i < n; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
				if (*afd < 0)
					*afd = f;
				else
					close(f);
				nfds++;
			}
		}
	}
	if (r == 0 && nfds == 0)
		return -EPIPE;		/* orderly close */
	if (r != (ssize_t)sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    nfds > 1) {
		if (*afd >= 0)
			close(*afd);
		*afd = -1;
		return -EPROTO;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Connection state shared by both roles                               */

static void ring_setup(struct mif_q *q, struct nf_memif_ring *ring,
		       uint8_t log2, int fd)
{
	q->ring = ring;
	q->log2 = log2;
	q->size = (uint16_t)(1u << log2);
	q->mask = (uint16_t)(q->size - 1);
	q->pos = 0;
	q->held = 0;
	q->resv = 0;
	q->fd = fd;
}

static void release_layout(struct mif_port *m)
{
	unsigned i;

	for (i = 0; i < MIF_MAX_REGIONS; i++) {
		if (m->reg[i].base != NULL && (m->server || i > 0))
			munmap(m->reg[i].base, m->reg[i].size);
		if (m->server && m->reg_fd[i] >= 0)
			close(m->reg_fd[i]);
		m->reg[i].base = NULL;
		m->reg[i].size = 0;
		m->reg_fd[i] = -1;
	}
	for (i = 0; i < 2; i++) {
		if (m->server && m->ring_fd[i] >= 0)
			close(m->ring_fd[i]);
		if (m->server)
			m->ring_fd[i] = -1;
	}
	m->nregions = 0;
	memset(m->rb, 0, sizeof(m->rb));
	memset(m->rs, 0, sizeof(m->rs));
	m->has_c2s = m->has_s2c = false;
	memset(&m->rx, 0, sizeof(m->rx));
	memset(&m->tx, 0, sizeof(m->tx));
	m->rx.fd = m->tx.fd = -1;
	m->fault = 0;
	m->stall_since = 0;
}

static void conn_free(struct mif_conn *c)
{
	if (c == NULL)
		return;
	nf_ev_del(&c->ev);
	close(c->ev.fd);
	free(c);
}

static void listener_unlink_pending(struct mif_listener *l, struct mif_conn *c)
{
	struct mif_conn **pp;

	for (pp = &l->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			l->npending--;
			return;
		}
	}
}

/* End the connection of @p: tell the peer why (unless it left), unmap,
 * go down. Safe in any state. */
static void mif_teardown(struct nf_port *p, enum nf_disc why, const char *msg)
{
	struct mif_port *m = MIF(p);

	if (m->conn != NULL) {
		if (why != NF_DISC_PEER_CLOSED && why != NF_DISC_PEER_DISC)
			send_disconnect(m->conn->ev.fd, msg);
		conn_free(m->conn);
		m->conn = NULL;
	}
	if (m->state != MIF_DOWN) {
		p->st.discs[why]++;
		nf_strlcpy(m->disc_reason, msg, sizeof(m->disc_reason));
	}
	if (p->rx_fd >= 0 && m->server)
		p->rx_fd = -1;
	release_layout(m);
	m->state = MIF_DOWN;
	nf_port_set_up(p, false);
	if (!m->server)
		m->reconnect_at = m->now + MIF_RECONNECT_NS;
}

static void fault(struct mif_port *m, enum nf_disc why)
{
	if (m->fault == 0)
		m->fault = (int)why + 1;
}

/* ------------------------------------------------------------------ */
/* Server: validating what the client hands over                       */

static bool is_eventfd(int fd)
{
	char link[64], path[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, "anon_inode:[eventfd]") == 0;
}

/* Returns NULL or a sentence saying why the region is refused. */
static const char *srv_add_region(struct mif_port *m,
				  const struct nf_memif_add_region *ar, int fd)
{
	struct stat st;
	int seals;
	void *base;

	if (fd < 0)
		return "region without a file descriptor";
	if (ar->index != m->nregions || ar->index >= MIF_MAX_REGIONS)
		return "region index out of order";
	if (ar->size == 0 || ar->size > MIF_MAX_REGION_BYTES)
		return "region size out of range";
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return "region is not a regular file";
	if ((uint64_t)st.st_size < ar->size)
		return "region file smaller than announced";
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return "region not sealed against shrinking (F_SEAL_SHRINK)";
	base = mmap(NULL, ar->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return "region cannot be mapped";
	m->reg[m->nregions].base = base;
	m->reg[m->nregions].size = ar->size;
	m->rb[m->nregions] = base;
	m->rs[m->nregions] = ar->size;
	m->reg_fd[m->nregions] = fd;
	m->nregions++;
	return NULL;
}

static const char *srv_add_ring(struct mif_port *m,
				const struct nf_memif_add_ring *ar, int fd)
{
	int k = (ar->flags & NF_MEMIF_ADD_RING_FLAG_C2S) ? 0 : 1;
	bool *have = k == 0 ? &m->has_c2s : &m->has_s2c;

	if (fd < 0)
		return "ring without an eventfd";
	if (ar->flags & ~NF_MEMIF_ADD_RING_FLAG_C2S)
		return "unknown ring flags";
	if (ar->index != 0)
		return "ring index out of range (one queue pair)";
	if (*have)
		return "ring added twice";
	if (ar->log2_ring_size < MIF_LOG2_MIN || ar->log2_ring_size > MIF_LOG2_MAX)
		return "ring size out of range";
	if (ar->private_hdr_size != 0)
		return "private header not supported";
	if (!is_eventfd(fd))
		return "ring interrupt descriptor is not an eventfd";
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return "cannot use the ring eventfd";
	m->ring_msg[k] = *ar;
	m->ring_fd[k] = fd;
	*have = true;
	return NULL;
}

static struct nf_memif_ring *srv_map_ring(struct mif_port *m, int k)
{
	const struct nf_memif_add_ring *ar = &m->ring_msg[k];
	struct nf_memif_ring *r;
	uint64_t end = (uint64_t)ar->offset + NF_MEMIF_RING_BYTES(ar->log2_ring_size);

	if (ar->region >= m->nregions || end > m->reg[ar->region].size ||
	    (ar->offset & 7) != 0)
		return NULL;
	r = (struct nf_memif_ring *)(m->reg[ar->region].base + ar->offset);
	if (__atomic_load_n(&r->cookie, __ATOMIC_RELAXED) != NF_MEMIF_COOKIE)
		return NULL;
	return r;
}

static const char *srv_connect(struct nf_port *p, const struct nf_memif_connect *c)
{
	struct mif_port *m = MIF(p);
	struct nf_memif_ring *c2s, *s2c;

	if (m->nregions == 0 || !m->has_c2s || !m->has_s2c)
		return "connect before regions and rings";
	c2s = srv_map_ring(m, 0);
	s2c = srv_map_ring(m, 1);
	if (c2s == NULL || s2c == NULL)
		return "ring outside its region or without the memif cookie";
	memcpy(m->peer_if, c->if_name, NF_MEMIF_NAME_SZ);
	m->peer_if[NF_MEMIF_NAME_SZ] = '\0';
	ring_setup(&m->rx, c2s, m->ring_msg[0].log2_ring_size, m->ring_fd[0]);
	ring_setup(&m->tx, s2c, m->ring_msg[1].log2_ring_size, m->ring_fd[1]);
	p->st.rx_ring = m->rx.size;
	__atomic_store_n(&c2s->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c2s->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s2c->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s2c->tail, 0, __ATOMIC_RELAXED);
	/* Polling until the application asks for interrupts. */
	__atomic_store_n(&c2s->flags, NF_MEMIF_RING_FLAG_MASK_INT, __ATOMIC_RELEASE);
	p->rx_fd = m->rx.fd;
	m->state = MIF_UP;
	m->stall_since = 0;
	return NULL;
}

/* Handle one message on a server connection. Returns 0, or -1 after the
 * connection was torn down. Consumes @afd in every case. */
static int srv_handle(struct mif_conn *c, const struct nf_memif_msg *msg, int afd)
{
	struct mif_listener *l = c->lst;
	struct nf_port *p = c->port;
	struct mif_port *m = p ? MIF(p) : NULL;
	const char *err = NULL;
	enum nf_disc why = NF_DISC_BAD_MSG;

	if (p == NULL) {
		const struct nf_memif_init *in = &msg->init;
		struct nf_port *q;

		if (msg->type != NF_MEMIF_MSG_INIT) {
			err = "expected INIT";
			goto refuse_unbound;
		}
		if (in->version != NF_MEMIF_VERSION) {
			err = "incompatible memif version (2.0 only)";
			goto refuse_unbound;
		}
		for (q = l->ports; q != NULL; q = MIF(q)->lst_next)
			if (MIF(q)->cfg.id == in->id)
				break;
		if (q == NULL) {
			err = "no interface with this id";
			goto refuse_unbound;
		}
		m = MIF(q);
		if (m->state != MIF_DOWN) {
			err = "interface already connected";
			goto refuse_unbound;
		}
		if (in->mode != NF_MEMIF_MODE_ETHERNET) {
			err = "only ethernet mode is supported";
			goto refuse_unbound;
		}
		if (m->cfg.secret[0] != '\0' &&
		    strncmp(m->cfg.secret, (const char *)in->secret,
			    NF_MEMIF_SECRET_SZ) != 0) {
			err = "incorrect secret";
			goto refuse_unbound;
		}
		if (afd >= 0)
			close(afd);
		listener_unlink_pending(l, c);
		c->port = q;
		m->conn = c;
		m->state = MIF_HANDSHAKE;
		m->deadline = c->deadline;
		memcpy(m->peer_name, in->name, NF_MEMIF_NAME_SZ);
		m->peer_name[NF_MEMIF_NAME_SZ] = '\0';
		m->disc_reason[0] = m->remote_reason[0] = '\0';
		send_simple(c->ev.fd, NF_MEMIF_MSG_ACK);
		return 0;
	}

	if (m->state == MIF_UP) {
		if (afd >= 0)
			close(afd);
		if (msg->type == NF_MEMIF_MSG_DISCONNECT) {
			memcpy(m->remote_reason, msg->disconnect.string, 96);
			m->remote_reason[96] = '\0';
			mif_teardown(p, NF_DISC_PEER_DISC, "peer disconnected");
			return -1;
		}
		if (msg->type == NF_MEMIF_MSG_ACK)
			return 0;
		err = "unexpected message while connected";
		goto refuse;
	}

	switch (msg->type) {
	case NF_MEMIF_MSG_ADD_REGION:
		err = srv_add_region(m, &msg->add_region, afd);
		why = NF_DISC_BAD_REGION;
		break;
	case NF_MEMIF_MSG_ADD_RING:
		err = srv_add_ring(m, &msg->add_ring, afd);
		why = NF_DISC_BAD_RING;
		break;
	case NF_MEMIF_MSG_CONNECT:
		if (afd >= 0)
			close(afd);
		afd = -1;
		err = srv_connect(p, &msg->connect);
		why = NF_DISC_BAD_RING;
		if (err == NULL) {
			struct nf_memif_msg r;

			memset(&r, 0, sizeof(r));
			r.type = NF_MEMIF_MSG_CONNECTED;
			nf_strlcpy((char *)r.connected.if_name, p->name,
				   NF_MEMIF_NAME_SZ);
			if (msg_send(c->ev.fd, &r, -1) < 0) {
				mif_teardown(p, NF_DISC_PEER_CLOSED, "send failed");
				return -1;
			}
			nf_port_set_up(p, true);
			return 0;
		}
		break;
	case NF_MEMIF_MSG_DISCONNECT:
		if (afd >= 0)
			close(afd);
		memcpy(m->remote_reason, msg->disconnect.string, 96);
		m->remote_reason[96] = '\0';
		mif_teardown(p, NF_DISC_PEER_DISC, "peer disconnected");
		return -1;
	default:
		if (afd >= 0)
			close(afd);
		err = "unexpected message during handshake";
		break;
	}
	if (err == NULL) {
		send_simple(c->ev.fd, NF_MEMIF_MSG_ACK);
		return 0;
	}
	/* srv_add_* keep the fd only on success. */
	if ((msg->type == NF_MEMIF_MSG_ADD_REGION ||
	     msg->type == NF_MEMIF_MSG_ADD_RING) && afd >= 0)
		close(afd);
refuse:
	mif_teardown(p, why, err);
	return -1;
refuse_unbound:
	if (afd >= 0)
		close(afd);
	send_disconnect(c->ev.fd, err);
	l->refused++;
	listener_unlink_pending(l, c);
	conn_free(c);
	return -1;
}

static void srv_conn_cb(struct nf_ev *ev, uint32_t events)
{
	struct mif_conn *c = (struct mif_conn *)ev;
	struct nf_memif_msg msg;
	int i, afd, r;

	/* A few messages per event: a flooding peer cannot starve others. */
	for (i = 0; i < 8; i++) {
		r = msg_recv(ev->fd, &msg, &afd);
		if (r == 0)
			break;
		if (r < 0) {
			if (c->port != NULL) {
				mif_teardown(c->port, r == -EPIPE ?
					     NF_DISC_PEER_CLOSED : NF_DISC_BAD_MSG,
					     r == -EPIPE ? "peer closed the socket" :
					     "malformed control message");
			} else {
				if (r != -EPIPE)
					send_disconnect(ev->fd, "malformed control message");
				c->lst->refused++;
				listener_unlink_pending(c->lst, c);
				conn_free(c);
			}
			return;
		}
		if (srv_handle(c, &msg, afd) < 0)
			return;
	}
	/* A hang-up shows as recvmsg() returning 0 on the next call
	 * (epoll is level-triggered). */
	(void)events;
}

static void listener_cb(struct nf_ev *ev, uint32_t events)
{
	struct mif_listener *l = (struct mif_listener *)ev;
	struct nf_memif_msg h;
	struct mif_conn *c;
	int fd, i;

	(void)events;
	for (i = 0; i < 8; i++) {
		fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (l->npending >= MIF_MAX_PENDING) {
			send_disconnect(fd, "too many pending connections");
			close(fd);
			l->refused++;
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->ev.fd = fd;
		c->ev.cb = srv_conn_cb;
		c->lst = l;
		c->deadline = nf_now_ns() +
			(uint64_t)nf_io_params()->handshake_ms * 1000000ull;
		if (nf_ev_add(&c->ev, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = l->pending;
		l->pending = c;
		l->npending++;
		memset(&h, 0, sizeof(h));
		h.type = NF_MEMIF_MSG_HELLO;
		nf_strlcpy((char *)h.hello.name, "nfchain", NF_MEMIF_NAME_SZ);
		h.hello.min_version = NF_MEMIF_VERSION;
		h.hello.max_version = NF_MEMIF_VERSION;
		h.hello.max_region = MIF_MAX_REGIONS - 1;
		h.hello.max_c2s_ring = 0;
		h.hello.max_s2c_ring = 0;
		h.hello.max_log2_ring_size = MIF_LOG2_MAX;
		if (msg_send(fd, &h, -1) < 0) {
			listener_unlink_pending(l, c);
			conn_free(c);
		}
	}
}

static int listener_get(const char *path, struct mif_listener **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mif_listener *l;
	int fd = -1, ret;

	for (l = listeners; l != NULL; l = l->next) {
		if (strcmp(l->path, path) == 0) {
			l->refs++;
			*out = l;
			return 0;
		}
	}
	nf_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A live server on the path is an error; a stale file is removed. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		nf_set_error("memif socket %s is served by another process", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = nf_mkdir_parent(path);
	if (ret < 0) {
		nf_set_error("cannot create the directory of %s: %s", path,
			     strerror(-ret));
		goto fail;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		ret = -errno;
		nf_set_error("cannot listen on memif socket %s: %s", path,
			     strerror(errno));
		goto fail;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		ret = -ENOMEM;
		goto fail_unlink;
	}
	nf_strlcpy(l->path, path, sizeof(l->path));
	l->ev.fd = fd;
	l->ev.cb = listener_cb;
	l->refs = 1;
	ret = nf_ev_add(&l->ev, EPOLLIN);
	if (ret < 0) {
		free(l);
		goto fail_unlink;
	}
	l->next = listeners;
	listeners = l;
	*out = l;
	return 0;
fail_unlink:
	unlink(path);
fail:
	close(fd);
	return ret;
}

static void listener_put(struct mif_listener *l)
{
	struct mif_listener **pp;

	if (--l->refs > 0)
		return;
	while (l->pending != NULL) {
		struct mif_conn *c = l->pending;

		l->pending = c->next;
		conn_free(c);
	}
	for (pp = &listeners; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	nf_ev_del(&l->ev);
	close(l->ev.fd);
	unlink(l->path);
	free(l);
}

/* ------------------------------------------------------------------ */
/* Server data path                                                    */

static inline uint8_t *srv_buf(const struct mif_port *m, uint16_t region,
			       uint32_t off, uint32_t len)
{
	if (nf_unlikely(region >= m->nregions ||
			(uint64_t)off + len > m->reg[region].size))
		return NULL;
	return m->reg[region].base + off;
}

/* Gather a chained frame starting at ring slot @pos (server or client
 * rx). Returns the number of slots it spans (>0), 0 if the chain is not
 * complete yet, -1 on a bad descriptor. */
static int gather_chain(struct mif_port *m, struct mif_q *q, uint16_t pos,
			uint16_t avail, struct nf_pkt *pkt)
{
	uint8_t *dst = m->gather + (size_t)m->ngather * NF_FRAME_MAX;
	uint32_t total = 0;
	bool too_big = false;
	uint16_t n = 0;

	for (;;) {
		struct nf_memif_desc d;
		const uint8_t *src;

		if (n == avail)
			return 0;
		memcpy(&d, &q->ring->desc[(uint16_t)(pos + n) & q->mask], sizeof(d));
		n++;
		if (m->server) {
			src = srv_buf(m, d.region, d.offset, d.length);
		} else {
			uint32_t id = m->shadow_rx[(uint16_t)(pos + n - 1) & q->mask];

			src = d.length <= m->bsize ?
				nf_pool_addr(nf_io_pool(), id) : NULL;
		}
		if (src == NULL)
			return -1;
		if (total + d.length > NF_FRAME_MAX)
			too_big = true;
		else
			memcpy(dst + total, src, d.length);
		total += d.length;
		if (!(d.flags & NF_MEMIF_DESC_FLAG_NEXT))
			break;
	}
	if (too_big) {
		pkt->len = 0;
		pkt->data = NULL;
	} else {
		pkt->data = dst;
		pkt->len = total;
		m->ngather++;
	}
	return n;
}

/* Descriptor fields, each read exactly once from the peer's memory. */
#define DESC_LOAD(dp, field) __atomic_load_n(&(dp)->field, __ATOMIC_RELAXED)

/* The data path indexes m->rb/m->rs with a region index it has checked
 * to be < 8 (in the same read it uses): regions 0..7 that do not exist
 * have size 0 there, so the bounds check refuses them. */
_Static_assert(MIF_MAX_REGIONS == 8, "the data path masks regions with 7");
/* flags | region << 16: a chained buffer, or a region index >= 8. */
#define RX_SLOW_MASK	(NF_MEMIF_DESC_FLAG_NEXT | 0xfff8u << 16)

/* The fast loop of srv_rx_burst: plain, valid descriptors from @dp to
 * @end become packets at @pk. Stops at the first descriptor that needs
 * the slow path. Returns how many it took. A function of its own so that
 * its few values stay in registers. Per packet: 3 loads, 3 tests, 4
 * stores. */
static __attribute__((noinline)) uint32_t
srv_rx_run(const struct nf_memif_desc *dp, const struct nf_memif_desc *end,
	   struct nf_pkt *pk, uint8_t *const *rb, const uint64_t *rs,
	   uint32_t port_flags, uint64_t *bytes)
{
	const struct nf_memif_desc *start = dp;
	const uint64_t nobuf = (uint64_t)NF_BUF_NONE << 32;
	uint64_t b = 0;

	for (; dp < end; dp++, pk++) {
		/* One read of flags and region: the index used below is the
		 * value tested here, whatever the peer writes meanwhile. */
		/* 64-bit locals: 32-bit loads zero-extend for free, and the
		 * compiler needs no copies to index and add with them. */
		const uint64_t fr = DESC_LOAD(dp, flags_region);
		const uint64_t len = DESC_LOAD(dp, length);
		const uint64_t off = DESC_LOAD(dp, offset);
		const uint64_t reg = fr >> 16;
		uint64_t lb;

		if (nf_unlikely((fr & RX_SLOW_MASK) || off + len > rs[reg] ||
				len - NF_FRAME_MIN > NF_FRAME_MAX - NF_FRAME_MIN))
			break;
		pk->data = rb[reg] + off;
		lb = len | nobuf;			/* .len, .buf */
		memcpy(&pk->len, &lb, 8);
		pk->slot = NULL;
		memcpy(&pk->port, &port_flags, 4);	/* .port, .flags = 0 */
		b += len;
	}
	*bytes += b;
	return (uint32_t)(dp - start);
}

/* Receive on the server side (the C2S ring, in the client's memory).
 * The fast loop walks contiguous runs of slots (no masking per slot),
 * reads each descriptor once as one word plus its offset, checks it with
 * one combined test and writes the packet from a per-burst template.
 * Anything unusual (chained buffer, bad descriptor, runt, giant) leaves
 * the fast loop and is handled one descriptor at a time. */
static void srv_rx_release(struct nf_port *p);

static uint16_t srv_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->rx;
	const struct nf_memif_desc *desc;
	uint32_t head, avail, pos, size, nreg, i = 0;
	uint64_t bytes = 0;

	if (q->held)
		srv_rx_release(p);
	if (nf_unlikely(m->state != MIF_UP || m->fault))
		return 0;
	head = __atomic_load_n(&q->ring->head, __ATOMIC_ACQUIRE);
	if (head == q->pos)
		return 0;		/* the common empty poll */
	pos = q->pos;
	avail = (uint16_t)(head - pos);
	if (nf_unlikely(avail > q->size)) {
		fault(m, NF_DISC_BAD_INDEX);
		return 0;
	}
	if (avail == 0)
		return 0;
	if (avail > p->st.rx_queue_now)		/* the backlog gauge */
		p->st.rx_queue_now = avail;
	desc = q->ring->desc;
	size = q->size;
	nreg = m->nregions;
	m->ngather = 0;
	while (i < n && avail > 0) {
		const uint32_t s0 = pos & q->mask;
		const uint32_t run = NF_MIN(NF_MIN(size - s0, avail), n - i);
		const struct nf_memif_desc *dp = desc + s0, *end = dp + run;
		const uint32_t took = srv_rx_run(dp, end, pkts + i, m->rb, m->rs,
						 p->fp.index, &bytes);
		uint32_t fr, off, len, reg;

		i += took;
		pos += took;
		avail -= took;
		if (took == run)
			continue;
		/* Slow path: the descriptor the fast loop stopped at, read
		 * again (a peer changing it meanwhile gains nothing: every
		 * value used below is checked below). */
		dp += took;
		fr = DESC_LOAD(dp, flags_region);
		len = DESC_LOAD(dp, length);
		off = DESC_LOAD(dp, offset);
		reg = fr >> 16;
		if (fr & NF_MEMIF_DESC_FLAG_NEXT) {
			int k;

			if (m->ngather == MIF_GATHER_PKTS || m->gather == NULL)
				break;
			k = gather_chain(m, q, (uint16_t)pos, (uint16_t)avail, &pkts[i]);
			if (k == 0)
				break;
			if (k < 0) {
				p->st.drops[NF_DROP_RX_BAD_DESC]++;
				fault(m, NF_DISC_BAD_DESC);
				break;
			}
			pos += (uint32_t)k;
			avail -= (uint32_t)k;
			if (pkts[i].data == NULL) {
				p->st.drops[NF_DROP_RX_TOO_BIG]++;
				continue;
			}
			len = pkts[i].len;
			memset(&pkts[i], 0, offsetof(struct nf_pkt, user));
			pkts[i].data = m->gather + (size_t)(m->ngather - 1) * NF_FRAME_MAX;
			pkts[i].len = len;
			pkts[i].buf = NF_BUF_NONE;
			pkts[i].port = p->fp.index;
			bytes += len;
			i++;
			continue;
		}
		if (reg >= nreg || (uint64_t)off + len > m->rs[reg]) {
			p->st.drops[NF_DROP_RX_BAD_DESC]++;
			fault(m, NF_DISC_BAD_DESC);
			break;
		}
		if (len - NF_FRAME_MIN > NF_FRAME_MAX - NF_FRAME_MIN) {
			/* A runt or a giant: consume and count. */
			p->st.drops[len < NF_FRAME_MIN ? NF_DROP_RX_RUNT :
				    NF_DROP_RX_TOO_BIG]++;
			pos++;
			avail--;
		}
		/* else it is valid now: the next run takes it. */
	}
	q->held = (uint16_t)(pos - q->pos);
	p->st.rx_pkts += i;
	p->st.rx_bytes += bytes;
	return (uint16_t)i;
}

static void srv_rx_release(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->rx;

	if (q->held == 0 || m->state != MIF_UP)
		return;
	q->pos = (uint16_t)(q->pos + q->held);
	q->held = 0;
	__atomic_store_n(&q->ring->tail, q->pos, __ATOMIC_RELEASE);
}

/* After publishing head/tail, wake the receiver if it sleeps. The fence
 * orders our index store before the flag load (x86 may reorder a store
 * and a later load): with the receiver's clear-flag, fence, re-check in
 * nf_rx_intr_enable(), one of the two sides always sees the other. One
 * fence per burst. */
static inline void kick(struct mif_q *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->ring->flags, __ATOMIC_RELAXED) &
	      NF_MEMIF_RING_FLAG_MASK_INT)) {
		uint64_t one = 1;
		ssize_t r = write(q->fd, &one, sizeof(one));

		(void)r;
	}
}

/* Free slots of the server's tx ring (S2C); faults on an impossible head. */
static inline uint16_t srv_tx_free(struct mif_port *m)
{
	struct mif_q *q = &m->tx;
	uint16_t head = __atomic_load_n(&q->ring->head, __ATOMIC_ACQUIRE);
	uint16_t nfree = (uint16_t)(head - q->pos);

	if (nf_unlikely(nfree > q->size)) {
		fault(m, NF_DISC_BAD_INDEX);
		return 0;
	}
	return nfree;
}

static void note_full(struct nf_port *p, struct mif_port *m, uint16_t dropped)
{
	p->st.drops[NF_DROP_TX_FULL] += dropped;
	if (m->stall_since == 0)
		m->stall_since = m->now ? m->now : 1;
}

/* Copy one frame into the peer's S2C buffers starting at slot @pos,
 * chaining over as many slots as needed. Returns slots used, 0 if there
 * were not enough free slots, -1 on a bad descriptor. */
static int srv_tx_chain(struct mif_port *m, uint16_t pos, uint16_t nfree,
			const uint8_t *src, uint32_t len)
{
	struct mif_q *q = &m->tx;
	uint32_t done = 0;
	uint16_t k = 0;

	while (done < len) {
		struct nf_memif_desc d, *dp;
		uint8_t *b;
		uint32_t c;

		if (k == nfree)
			return 0;
		dp = &q->ring->desc[(uint16_t)(pos + k) & q->mask];
		memcpy(&d, dp, sizeof(d));
		b = srv_buf(m, d.region, d.offset, d.length);
		if (b == NULL || d.length == 0)
			return -1;
		c = NF_MIN(d.length, len - done);
		memcpy(b, src + done, c);
		done += c;
		dp->length = c;
		dp->flags = done < len ? NF_MEMIF_DESC_FLAG_NEXT : 0;
		k++;
	}
	return k;
}

/* The fast loop of srv_tx_burst: frames at @pk go into the buffers
 * offered by the descriptors @dp..@end while each offer is valid and big
 * enough. Returns how many. Per packet: 4 loads, 3 tests, one copy, 2
 * stores. @one (with @hdr): every frame's header is @same, at most 128
 * bytes, held in four registers for the run instead of read for each
 * frame. */
static inline __attribute__((always_inline)) uint32_t
srv_tx_run_(struct nf_memif_desc *dp, struct nf_memif_desc *end,
	    const struct nf_pkt *pk, uint8_t *const *rb, const uint64_t *rs,
	    uint64_t *bytes, bool hdr, bool one, const struct nf_hdr *same)
{
	struct nf_memif_desc *start = dp;
	uint64_t b = 0;
	nf_v32 h0, h1, h2, h3;
	uint64_t hl = 0, hoff = 0;
	uint32_t adj = 0;	/* the length field: frame length + adj */

	if (one) {
		h0 = nf_load32(same->p);
		h1 = nf_load32(same->p + 32);
		h2 = nf_load32(same->p + 64);
		h3 = nf_load32(same->p + 96);
		hl = same->len;
		hoff = same->lenoff;
		adj = (uint32_t)-(36 + hoff);
	}
	for (; dp < end; dp++, pk++) {
		const uint64_t reg = DESC_LOAD(dp, region);	/* read once */
		const uint64_t cap = DESC_LOAD(dp, length);
		const uint64_t off = DESC_LOAD(dp, offset);
		const uint64_t len = pk->len;

		/* len - 1 >= cap: also refuses an empty frame; with @hdr, so
		 * does a buffer of less than NF_HDR_ROOM bytes (for the
		 * header's whole moves: the slow path copies those exactly).
		 * (len - 1) | (NF_HDR_ROOM - 1) is at least both, and less
		 * than 2048 (a memif buffer) for any frame that fits. */
		if (nf_unlikely(reg > 7 || off + cap > rs[reg] ||
				(hdr ? (len - 1) | (NF_HDR_ROOM - 1) : len - 1) >= cap))
			break;
		if (one) {
			uint8_t *const dst = rb[reg] + off;
			const uint8_t *const src = pk->data;	/* before the stores */
			const uint16_t v = __builtin_bswap16((uint16_t)(len + adj));

			nf_store32(dst, h0);
			nf_store32(dst + 32, h1);
			nf_store32(dst + 64, h2);
			nf_store32(dst + 96, h3);
			memcpy(dst + hoff, &v, 2);
			nf_copy_frame(dst + hl, src, (uint32_t)len - hl);
		} else if (hdr) {
			nf_pkt_copy(rb[reg] + off, NF_HDR_ROOM, pk);
		} else {
			nf_copy_frame(rb[reg] + off, pk->data, (uint32_t)len);
		}
		__atomic_store_n(&dp->length, (uint32_t)len, __ATOMIC_RELAXED);
		__atomic_store_n(&dp->flags, 0, __ATOMIC_RELAXED);
		b += len;
	}
	*bytes += b;
	return (uint32_t)(dp - start);
}

static __attribute__((noinline)) uint32_t
srv_tx_run(struct nf_memif_desc *dp, struct nf_memif_desc *end,
	   const struct nf_pkt *pk, uint8_t *const *rb, const uint64_t *rs,
	   uint64_t *bytes, const struct nf_hdr *same)
{
	(void)same;
	return srv_tx_run_(dp, end, pk, rb, rs, bytes, false, false, NULL);
}

/* srv_tx_run for nf_tx_burst_hdr(): frames with NF_PKT_F_HDR written from
 * their two places (nf_pkt_copy()). */
static __attribute__((noinline)) uint32_t
srv_tx_run_hdr(struct nf_memif_desc *dp, struct nf_memif_desc *end,
	       const struct nf_pkt *pk, uint8_t *const *rb, const uint64_t *rs,
	       uint64_t *bytes, const struct nf_hdr *same)
{
	(void)same;
	return srv_tx_run_(dp, end, pk, rb, rs, bytes, true, false, NULL);
}

/* srv_tx_run_hdr for a burst of one header (nf_tx_burst_hdr()'s @same) */
static __attribute__((noinline)) uint32_t
srv_tx_run_same(struct nf_memif_desc *dp, struct nf_memif_desc *end,
		const struct nf_pkt *pk, uint8_t *const *rb, const uint64_t *rs,
		uint64_t *bytes, const struct nf_hdr *same)
{
	return srv_tx_run_(dp, end, pk, rb, rs, bytes, true, true, same);
}

/* srv_tx_chain for a frame with NF_PKT_F_HDR: made one piece first (the
 * slow path: a frame larger than the buffer the peer offered). */
static __attribute__((noinline)) int srv_tx_chain_hdr(struct mif_port *m, uint16_t pos,
						      uint16_t nfree, const struct nf_pkt *pk)
{
	uint8_t flat[NF_FRAME_MAX];

	if (pk->len > sizeof(flat))
		return 0;
	nf_pkt_copy(flat, sizeof(flat), pk);
	return srv_tx_chain(m, pos, nfree, flat, pk->len);
}

/* Transmit on the server side: copy each frame into the buffer the
 * client offered on its S2C ring. Same shape as srv_rx_burst: contiguous
 * runs, one load of the descriptor word, one combined check, one copy,
 * one store of the descriptor word (flags 0, region kept, length). */
static inline __attribute__((always_inline)) uint16_t
srv_tx_burst_(struct nf_port *p, struct nf_pkt *pkts, uint16_t n, bool hdr,
	      const struct nf_hdr *same)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	struct nf_memif_desc *desc;
	uint32_t i = 0, nfree, pos, size, nreg, sent = 0;
	uint64_t bytes = 0;
	uint32_t (*const run_fn)(struct nf_memif_desc *, struct nf_memif_desc *,
				 const struct nf_pkt *, uint8_t *const *, const uint64_t *,
				 uint64_t *, const struct nf_hdr *) =
		!hdr ? srv_tx_run : same != NULL && same->len <= 128 ? srv_tx_run_same :
		srv_tx_run_hdr;

	if (nf_unlikely(m->state != MIF_UP || m->fault)) {
		p->st.drops[NF_DROP_TX_DOWN] += n;
		return 0;
	}
	nfree = srv_tx_free(m);
	pos = q->pos;
	desc = q->ring->desc;
	size = q->size;
	nreg = m->nregions;
	while (i < n && nfree > 0) {
		const uint32_t s0 = pos & q->mask;
		const uint32_t run = NF_MIN(NF_MIN(size - s0, nfree), (uint32_t)n - i);
		struct nf_memif_desc *dp = desc + s0, *end = dp + run;
		const uint32_t done = run_fn(dp, end, pkts + i, m->rb, m->rs, &bytes, same);
		uint32_t off, cap, reg, len;

		i += done;
		pos += done;
		nfree -= done;
		sent += done;
		if (done == run)
			continue;
		/* Slow path: the frame pkts[i] at the slot the fast loop
		 * stopped at (its descriptor read again, checked again). */
		dp += done;
		reg = DESC_LOAD(dp, region);
		cap = DESC_LOAD(dp, length);
		off = DESC_LOAD(dp, offset);
		len = pkts[i].len;
		if (reg >= nreg || (uint64_t)off + cap > m->rs[reg]) {
			p->st.drops[NF_DROP_TX_BAD_DESC] += n - i;
			fault(m, NF_DISC_BAD_DESC);
			i = n;		/* all counted */
			break;
		} else {
			int k = len > NF_FRAME_MAX ? 0 :
				hdr && (pkts[i].flags & NF_PKT_F_HDR) ?
				srv_tx_chain_hdr(m, (uint16_t)pos, (uint16_t)nfree, &pkts[i]) :
				srv_tx_chain(m, (uint16_t)pos, (uint16_t)nfree,
					     pkts[i].data, len);

			if (k < 0) {
				p->st.drops[NF_DROP_TX_BAD_DESC] += n - i;
				fault(m, NF_DISC_BAD_DESC);
				i = n;
				break;
			}
			if (k == 0) {
				p->st.drops[len > NF_FRAME_MAX ? NF_DROP_TX_TOO_BIG :
					    NF_DROP_TX_FULL]++;
			} else {
				pos += (uint32_t)k;
				nfree -= (uint32_t)k;
				bytes += len;
				sent++;
			}
			i++;
		}
	}
	if (i < n)
		note_full(p, m, (uint16_t)(n - i));
	if ((uint16_t)pos != q->pos) {
		q->pos = (uint16_t)pos;
		__atomic_store_n(&q->ring->tail, q->pos, __ATOMIC_RELEASE);
		kick(q);
		m->stall_since = 0;
		p->st.tx_pkts += sent;
		p->st.tx_bytes += bytes;
	}
	return (uint16_t)sent;
}

static uint16_t srv_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	return srv_tx_burst_(p, pkts, n, false, NULL);
}

static uint16_t srv_tx_burst_hdr(struct nf_port *p, struct nf_pkt *pkts, uint16_t n,
				 const struct nf_hdr *same)
{
	return srv_tx_burst_(p, pkts, n, true, same);
}

static uint16_t srv_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	uint16_t i, nfree;

	if (nf_unlikely(m->state != MIF_UP || m->fault))
		return 0;
	nfree = srv_tx_free(m);
	q->resv = 0;
	for (i = 0; i < n && i < nfree; i++) {
		struct nf_memif_desc d;
		uint8_t *b;

		memcpy(&d, &q->ring->desc[(uint16_t)(q->pos + i) & q->mask],
		       sizeof(d));
		b = srv_buf(m, d.region, d.offset, d.length);
		if (b == NULL) {
			fault(m, NF_DISC_BAD_DESC);
			break;
		}
		pkts[i].data = b;
		pkts[i].len = NF_MIN(d.length, (uint32_t)NF_FRAME_MAX);
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = p->fp.index;
	}
	if (i == 0 && nfree == 0)
		note_full(p, m, 0);
	q->resv = i;
	return i;
}

static void srv_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	uint64_t bytes = 0;
	uint16_t i;

	if (m->state != MIF_UP || k == 0)
		return;
	if (k > q->resv)
		k = q->resv;
	for (i = 0; i < k; i++) {
		struct nf_memif_desc *dp =
			&q->ring->desc[(uint16_t)(q->pos + i) & q->mask];
		uint32_t cap = __atomic_load_n(&dp->length, __ATOMIC_RELAXED);

		/* The peer may have shrunk the length since tx_get. */
		if (pkts[i].len > cap || pkts[i].len > NF_FRAME_MAX) {
			p->st.drops[NF_DROP_TX_TOO_BIG] += k - i;
			break;
		}
		dp->length = pkts[i].len;
		dp->flags = 0;
		bytes += pkts[i].len;
	}
	q->resv = 0;
	if (i == 0)
		return;
	q->pos = (uint16_t)(q->pos + i);
	__atomic_store_n(&q->ring->tail, q->pos, __ATOMIC_RELEASE);
	kick(q);
	m->stall_since = 0;
	p->st.tx_pkts += i;
	p->st.tx_bytes += bytes;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */

static void client_init_rings(struct mif_port *m)
{
	struct nf_memif_ring *c2s = (struct nf_memif_ring *)m->rbase;
	struct nf_memif_ring *s2c = (struct nf_memif_ring *)
		(m->rbase + NF_MEMIF_RING_BYTES(m->run_log2));
	uint32_t i, size = 1u << m->run_log2;

	memset(m->rbase, 0, 2 * NF_MEMIF_RING_BYTES(m->run_log2));
	c2s->cookie = NF_MEMIF_COOKIE;
	s2c->cookie = NF_MEMIF_COOKIE;
	for (i = 0; i < size; i++) {
		c2s->desc[i].region = 1;
		c2s->desc[i].offset = m->shadow_tx[i] * m->bsize;
		c2s->desc[i].length = m->bsize;
		s2c->desc[i].region = 1;
		s2c->desc[i].offset = m->shadow_rx[i] * m->bsize;
		s2c->desc[i].length = m->bsize;
	}
}

static int client_send_step(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct nf_memif_msg msg;
	int fd = m->conn->ev.fd, afd = -1;

	memset(&msg, 0, sizeof(msg));
	switch (m->step) {
	case 0:
		msg.type = NF_MEMIF_MSG_INIT;
		msg.init.version = NF_MEMIF_VERSION;
		msg.init.id = (uint32_t)m->cfg.id;
		msg.init.mode = NF_MEMIF_MODE_ETHERNET;
		memcpy(msg.init.secret, m->cfg.secret,
		       strnlen(m->cfg.secret, NF_MEMIF_SECRET_SZ));
		nf_strlcpy((char *)msg.init.name, "nfchain", NF_MEMIF_NAME_SZ);
		break;
	case 1:
		msg.type = NF_MEMIF_MSG_ADD_REGION;
		msg.add_region.index = 0;
		msg.add_region.size = m->rsize;
		afd = m->rfd;
		break;
	case 2:
		msg.type = NF_MEMIF_MSG_ADD_REGION;
		msg.add_region.index = 1;
		msg.add_region.size = nf_io_pool()->size;
		afd = nf_io_pool()->fd;
		break;
	case 3:
	case 4:
		msg.type = NF_MEMIF_MSG_ADD_RING;
		msg.add_ring.flags = m->step == 3 ? NF_MEMIF_ADD_RING_FLAG_C2S : 0;
		msg.add_ring.index = 0;
		msg.add_ring.region = 0;
		msg.add_ring.offset = m->step == 3 ? 0 :
			(uint32_t)NF_MEMIF_RING_BYTES(m->run_log2);
		msg.add_ring.log2_ring_size = m->run_log2;
		afd = m->step == 3 ? m->ring_fd[0] : m->ring_fd[1];
		break;
	case 5:
		msg.type = NF_MEMIF_MSG_CONNECT;
		nf_strlcpy((char *)msg.connect.if_name, p->name, NF_MEMIF_NAME_SZ);
		break;
	default:
		return -EPROTO;
	}
	return msg_send(fd, &msg, afd);
}

static void client_up(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct nf_memif_ring *c2s = (struct nf_memif_ring *)m->rbase;
	struct nf_memif_ring *s2c = (struct nf_memif_ring *)
		(m->rbase + NF_MEMIF_RING_BYTES(m->run_log2));
	uint32_t i;

	ring_setup(&m->tx, c2s, m->run_log2, m->ring_fd[0]);
	ring_setup(&m->rx, s2c, m->run_log2, m->ring_fd[1]);
	p->st.rx_ring = m->rx.size;
	__atomic_store_n(&c2s->head, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c2s->tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s2c->tail, 0, __ATOMIC_RELAXED);
	for (i = 0; i < m->rx.size; i++) {
		s2c->desc[i].flags = 0;
		s2c->desc[i].region = 1;
		s2c->desc[i].offset = m->shadow_rx[i] * m->bsize;
		s2c->desc[i].length = m->bsize;
	}
	__atomic_store_n(&s2c->flags, NF_MEMIF_RING_FLAG_MASK_INT, __ATOMIC_RELAXED);
	/* Offer every rx buffer to the server. */
	__atomic_store_n(&s2c->head, m->rx.size, __ATOMIC_RELEASE);
	m->state = MIF_UP;
	nf_port_set_up(p, true);
}

static void client_conn_cb(struct nf_ev *ev, uint32_t events)
{
	struct mif_conn *c = (struct mif_conn *)ev;
	struct nf_port *p = c->port;
	struct mif_port *m = MIF(p);
	struct nf_memif_msg msg;
	int i, r, afd;

	for (i = 0; i < 8; i++) {
		r = msg_recv(ev->fd, &msg, &afd);
		if (r == 0)
			break;
		if (afd >= 0)
			close(afd);	/* a server never sends us fds */
		if (r < 0) {
			mif_teardown(p, r == -EPIPE ? NF_DISC_PEER_CLOSED :
				     NF_DISC_BAD_MSG, "control socket error");
			return;
		}
		if (msg.type == NF_MEMIF_MSG_DISCONNECT) {
			memcpy(m->remote_reason, msg.disconnect.string, 96);
			m->remote_reason[96] = '\0';
			mif_teardown(p, NF_DISC_PEER_DISC, "server disconnected");
			return;
		}
		if (m->state == MIF_UP) {
			if (msg.type != NF_MEMIF_MSG_ACK) {
				mif_teardown(p, NF_DISC_BAD_MSG, "unexpected message");
				return;
			}
			continue;
		}
		if (m->step == -1) {
			const struct nf_memif_hello *h = &msg.hello;

			if (msg.type != NF_MEMIF_MSG_HELLO ||
			    h->min_version > NF_MEMIF_VERSION ||
			    h->max_version < NF_MEMIF_VERSION) {
				mif_teardown(p, NF_DISC_BAD_MSG,
					     "expected HELLO for memif 2.0");
				return;
			}
			if (h->max_region < 1) {
				mif_teardown(p, NF_DISC_BAD_MSG,
					     "server takes one region; we need two");
				return;
			}
			memcpy(m->peer_name, h->name, NF_MEMIF_NAME_SZ);
			m->peer_name[NF_MEMIF_NAME_SZ] = '\0';
			m->run_log2 = (uint8_t)NF_MIN(m->cfg.log2,
						      h->max_log2_ring_size);
			if (m->run_log2 < MIF_LOG2_MIN) {
				mif_teardown(p, NF_DISC_BAD_MSG, "ring too small");
				return;
			}
			client_init_rings(m);
			m->step = 0;
		} else if (m->step < 5 && msg.type == NF_MEMIF_MSG_ACK) {
			m->step++;
		} else if (m->step == 5 && msg.type == NF_MEMIF_MSG_CONNECTED) {
			memcpy(m->peer_if, msg.connected.if_name, NF_MEMIF_NAME_SZ);
			m->peer_if[NF_MEMIF_NAME_SZ] = '\0';
			client_up(p);
			continue;
		} else {
			mif_teardown(p, NF_DISC_BAD_MSG, "unexpected message");
			return;
		}
		if (client_send_step(p) < 0) {
			mif_teardown(p, NF_DISC_PEER_CLOSED, "send failed");
			return;
		}
	}
	(void)events;
}

static int client_try_connect(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mif_conn *c;
	int fd;

	m->reconnect_at = m->now + MIF_RECONNECT_NS;
	nf_strlcpy(sa.sun_path, m->cfg.path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->ev.fd = fd;
	c->ev.cb = client_conn_cb;
	c->port = p;
	if (nf_ev_add(&c->ev, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return -errno;
	}
	m->conn = c;
	m->state = MIF_HANDSHAKE;
	m->step = -1;
	m->deadline = nf_now_ns() +
		(uint64_t)nf_io_params()->handshake_ms * 1000000ull;
	return 0;
}

static void cli_rx_release(struct nf_port *p);

/* The fast loop of cli_rx_burst: slots the server filled, from @dp to
 * @end, become packets in our own pool buffers (the buffer index comes
 * from our shadow array, never from the ring). Stops at a chained or
 * impossible descriptor. Per packet: 2 loads, 1 test, 4 stores. */
static __attribute__((noinline)) uint32_t
cli_rx_run(const struct nf_memif_desc *dp, const struct nf_memif_desc *end,
	   uint32_t *slot, struct nf_pkt *pk, uint8_t *base, uint64_t bsize,
	   uint64_t maxlen, uint32_t port_flags, uint64_t *bytes)
{
	const struct nf_memif_desc *start = dp;
	uint64_t b = 0;

	for (; dp < end; dp++, pk++, slot++) {
		/* flags | region | length in one read (the region is ours). */
		const uint64_t w = __atomic_load_n(&dp->w0, __ATOMIC_RELAXED);
		const uint64_t len = w >> 32;
		const uint64_t id = *slot;
		uint64_t lb;

		if (nf_unlikely((w & NF_MEMIF_DESC_FLAG_NEXT) ||
				len - NF_FRAME_MIN > maxlen - NF_FRAME_MIN))
			break;
		pk->data = base + id * bsize;
		lb = len | id << 32;			/* .len, .buf */
		memcpy(&pk->len, &lb, 8);
		pk->slot = slot;
		memcpy(&pk->port, &port_flags, 4);	/* .port, .flags = 0 */
		b += len;
	}
	*bytes += b;
	return (uint32_t)(dp - start);
}

static uint16_t cli_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->rx;
	const struct nf_pool *pl = nf_io_pool();
	const uint64_t maxlen = NF_MIN(m->bsize, (uint32_t)NF_FRAME_MAX);
	uint32_t tail, avail, pos, i = 0;
	uint64_t bytes = 0;

	if (q->held)
		cli_rx_release(p);
	if (nf_unlikely(m->state != MIF_UP || m->fault))
		return 0;
	tail = __atomic_load_n(&q->ring->tail, __ATOMIC_ACQUIRE);
	pos = q->pos;
	if (tail == (uint16_t)pos)
		return 0;			/* the common empty poll */
	avail = (uint16_t)(tail - pos);
	if (nf_unlikely(avail > q->size)) {
		fault(m, NF_DISC_BAD_INDEX);
		return 0;
	}
	if (avail > p->st.rx_queue_now)		/* the backlog gauge */
		p->st.rx_queue_now = avail;
	m->ngather = 0;
	while (i < n && avail > 0) {
		const uint32_t s0 = pos & q->mask;
		const uint32_t run = NF_MIN(NF_MIN((uint32_t)q->size - s0, avail), n - i);
		const struct nf_memif_desc *dp = q->ring->desc + s0;
		const uint32_t took = cli_rx_run(dp, dp + run, m->shadow_rx + s0, pkts + i,
						 pl->base, m->bsize, maxlen, p->fp.index, &bytes);
		uint32_t len;
		uint16_t fl;

		i += took;
		pos += took;
		avail -= took;
		if (took == run)
			continue;
		/* Slow path: a chained frame, or a length that cannot be. */
		dp += took;
		len = __atomic_load_n(&dp->length, __ATOMIC_RELAXED);
		fl = __atomic_load_n(&dp->flags, __ATOMIC_RELAXED);
		if (fl & NF_MEMIF_DESC_FLAG_NEXT) {
			int k;

			if (m->ngather == MIF_GATHER_PKTS || m->gather == NULL)
				break;
			k = gather_chain(m, q, (uint16_t)pos, (uint16_t)avail, &pkts[i]);
			if (k == 0)
				break;
			if (k < 0) {
				fault(m, NF_DISC_BAD_DESC);
				break;
			}
			pos += (uint32_t)k;
			avail -= (uint32_t)k;
			if (pkts[i].data == NULL) {
				p->st.drops[NF_DROP_RX_TOO_BIG]++;
				continue;
			}
			pkts[i].buf = NF_BUF_NONE;
			pkts[i].slot = NULL;
			pkts[i].port = p->fp.index;
			pkts[i].flags = 0;
			bytes += pkts[i].len;
			i++;
			continue;
		}
		if (len - NF_FRAME_MIN > maxlen - NF_FRAME_MIN) {
			p->st.drops[len < NF_FRAME_MIN ? NF_DROP_RX_RUNT : NF_DROP_RX_BAD_DESC]++;
			pos++;
			avail--;
		}
		/* else it became valid meanwhile: the next run takes it */
	}
	q->held = (uint16_t)(pos - q->pos);
	p->st.rx_pkts += i;
	p->st.rx_bytes += bytes;
	return (uint16_t)i;
}

/* Hand the slots of the last burst back to the server, with whatever
 * buffer each slot holds now (it may have been swapped). */
static void cli_rx_release(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->rx;
	/* flags 0, region 1 (the pool), length = buffer size */
	const uint64_t w0 = NF_MEMIF_W0(0, 1, m->bsize);
	const uint32_t bsize = m->bsize, mask = q->mask, held = q->held;
	struct nf_memif_desc *const desc = q->ring->desc;
	const uint32_t *const shadow = m->shadow_rx;
	uint32_t k, s = q->pos;

	if (held == 0 || m->state != MIF_UP)
		return;
	for (k = 0; k < held; k++, s++) {
		struct nf_memif_desc *d = &desc[s & mask];

		__atomic_store_n(&d->w0, w0, __ATOMIC_RELAXED);
		__atomic_store_n(&d->offset, shadow[s & mask] * bsize, __ATOMIC_RELAXED);
	}
	q->pos = (uint16_t)(q->pos + held);
	q->held = 0;
	__atomic_store_n(&q->ring->head, (uint16_t)(q->pos + q->size), __ATOMIC_RELEASE);
}

static inline uint16_t cli_tx_free(struct mif_port *m)
{
	struct mif_q *q = &m->tx;
	uint16_t tail = __atomic_load_n(&q->ring->tail, __ATOMIC_ACQUIRE);
	uint16_t used = (uint16_t)(q->pos - tail);

	if (nf_unlikely(used > q->size)) {
		fault(m, NF_DISC_BAD_INDEX);
		return 0;
	}
	return (uint16_t)(q->size - used);
}

/* The fast loop of cli_tx_burst: frames that fit one buffer go onto the
 * C2S slots @dp..@end, by buffer swap when they come from a pool-backed
 * receive ring (the netmap swap), else by one copy into the slot's own
 * buffer. Stops at a frame that needs chaining (or is empty). Per packet:
 * swap 4 loads + 5 stores, or copy + 2 stores. */
static __attribute__((noinline)) uint32_t
cli_tx_run(struct nf_memif_desc *dp, struct nf_memif_desc *end, uint32_t *shadow,
	   struct nf_pkt *pk, uint8_t *base, uint64_t bsize, uint64_t *bytes)
{
	struct nf_memif_desc *start = dp;
	uint64_t b = 0;

	for (; dp < end; dp++, pk++, shadow++) {
		const uint64_t len = pk->len;
		uint64_t id;

		if (nf_unlikely(len - 1 >= bsize))
			break;
		if (pk->slot != NULL && pk->buf != NF_BUF_NONE) {
			id = pk->buf;
			*pk->slot = *shadow;	/* our free buffer to the rx ring */
			*shadow = (uint32_t)id;
			pk->slot = NULL;
			pk->data = base + id * bsize;
		} else {
			id = *shadow;
			nf_copy_frame(base + id * bsize, pk->data, (uint32_t)len);
		}
		__atomic_store_n(&dp->w0, NF_MEMIF_W0(0, 1, len), __ATOMIC_RELAXED);
		__atomic_store_n(&dp->offset, (uint32_t)(id * bsize), __ATOMIC_RELAXED);
		b += len;
	}
	*bytes += b;
	return (uint32_t)(dp - start);
}

static uint16_t cli_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	const struct nf_pool *pl = nf_io_pool();
	const uint32_t bsize = m->bsize;
	uint32_t i = 0, nfree, pos, sent = 0;
	uint64_t bytes = 0;

	if (nf_unlikely(m->state != MIF_UP || m->fault)) {
		p->st.drops[NF_DROP_TX_DOWN] += n;
		return 0;
	}
	nfree = cli_tx_free(m);
	pos = q->pos;
	while (i < n && nfree > 0) {
		const uint32_t s0 = pos & q->mask;
		const uint32_t run = NF_MIN(NF_MIN((uint32_t)q->size - s0, nfree), (uint32_t)n - i);
		struct nf_memif_desc *dp = q->ring->desc + s0;
		const uint32_t done = cli_tx_run(dp, dp + run, m->shadow_tx + s0, pkts + i,
						 pl->base, bsize, &bytes);
		uint32_t len, need, off = 0;

		i += done;
		pos += done;
		nfree -= done;
		sent += done;
		if (done == run)
			continue;
		/* Slow path: pkts[i] needs several buffers (or is empty). */
		len = pkts[i].len;
		if (len == 0 || len > NF_FRAME_MAX) {
			p->st.drops[NF_DROP_TX_TOO_BIG]++;
			i++;
			continue;
		}
		need = (len + bsize - 1) / bsize;
		if (need > nfree)
			break;
		while (off < len) {
			const uint32_t s = pos & q->mask, c = NF_MIN(bsize, len - off);
			struct nf_memif_desc *d = &q->ring->desc[s];

			memcpy(nf_pool_addr(pl, m->shadow_tx[s]), pkts[i].data + off, c);
			off += c;
			d->region = 1;
			d->offset = m->shadow_tx[s] * bsize;
			d->length = c;
			d->flags = off < len ? NF_MEMIF_DESC_FLAG_NEXT : 0;
			pos++;
			nfree--;
		}
		bytes += len;
		sent++;
		i++;
	}
	if (i < n)
		p->st.drops[NF_DROP_TX_FULL] += n - i;
	if ((uint16_t)pos != q->pos) {
		q->pos = (uint16_t)pos;
		__atomic_store_n(&q->ring->head, q->pos, __ATOMIC_RELEASE);
		kick(q);
	}
	p->st.tx_pkts += sent;
	p->st.tx_bytes += bytes;
	return (uint16_t)sent;
}

static uint16_t cli_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	const struct nf_pool *pl = nf_io_pool();
	uint16_t i, nfree;

	if (nf_unlikely(m->state != MIF_UP || m->fault))
		return 0;
	nfree = cli_tx_free(m);
	for (i = 0; i < n && i < nfree; i++) {
		uint32_t id = m->shadow_tx[(uint16_t)(q->pos + i) & q->mask];

		pkts[i].data = nf_pool_addr(pl, id);
		pkts[i].len = m->bsize;
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = p->fp.index;
	}
	q->resv = i;
	return i;
}

static void cli_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	struct mif_port *m = MIF(p);
	struct mif_q *q = &m->tx;
	uint64_t bytes = 0;
	uint16_t i;

	if (m->state != MIF_UP || k == 0)
		return;
	if (k > q->resv)
		k = q->resv;
	for (i = 0; i < k; i++) {
		uint16_t s = (uint16_t)(q->pos + i) & q->mask;
		struct nf_memif_desc *d = &q->ring->desc[s];

		if (pkts[i].len > m->bsize) {
			p->st.drops[NF_DROP_TX_TOO_BIG] += k - i;
			break;
		}
		d->flags = 0;
		d->region = 1;
		d->offset = m->shadow_tx[s] * m->bsize;
		d->length = pkts[i].len;
		bytes += pkts[i].len;
	}
	q->resv = 0;
	if (i == 0)
		return;
	q->pos = (uint16_t)(q->pos + i);
	__atomic_store_n(&q->ring->head, q->pos, __ATOMIC_RELEASE);
	kick(q);
	p->st.tx_pkts += i;
	p->st.tx_bytes += bytes;
}

/* ------------------------------------------------------------------ */
/* Both roles: dispatch, interrupts, tick, open/close                  */

static uint16_t mif_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	return MIF(p)->server ? srv_rx_burst(p, pkts, n) : cli_rx_burst(p, pkts, n);
}

static void mif_rx_release(struct nf_port *p)
{
	if (MIF(p)->server)
		srv_rx_release(p);
	else
		cli_rx_release(p);
}

static uint16_t mif_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	return MIF(p)->server ? srv_tx_burst(p, pkts, n) : cli_tx_burst(p, pkts, n);
}

static uint16_t mif_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	return MIF(p)->server ? srv_tx_get(p, pkts, n) : cli_tx_get(p, pkts, n);
}

static void mif_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	if (MIF(p)->server)
		srv_tx_put(p, pkts, k);
	else
		cli_tx_put(p, pkts, k);
}

static bool rx_pending(struct mif_port *m)
{
	struct mif_q *q = &m->rx;
	uint16_t idx = m->server ?
		__atomic_load_n(&q->ring->head, __ATOMIC_ACQUIRE) :
		__atomic_load_n(&q->ring->tail, __ATOMIC_ACQUIRE);

	return idx != (uint16_t)(q->pos + q->held);
}

static int mif_intr_enable(struct nf_port *p)
{
	struct mif_port *m = MIF(p);

	if (m->state != MIF_UP)
		return 0;	/* the link event will wake the caller */
	__atomic_store_n(&m->rx.ring->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return rx_pending(m) ? 1 : 0;
}

static void mif_intr_disable(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	uint64_t v;

	if (m->state == MIF_UP)
		__atomic_store_n(&m->rx.ring->flags, NF_MEMIF_RING_FLAG_MASK_INT,
				 __ATOMIC_RELAXED);
	/* Drain in every state: a count left from before a disconnect would
	 * make the next poll() return at once, forever. */
	if (p->rx_fd >= 0 && read(p->rx_fd, &v, sizeof(v)) < 0)
		return;
}

static void mif_tick(struct nf_port *p, uint64_t now)
{
	struct mif_port *m = MIF(p);
	uint64_t stall_ns = (uint64_t)nf_io_params()->stall_ms * 1000000ull;

	m->now = now;
	if (m->fault) {
		enum nf_disc why = (enum nf_disc)(m->fault - 1);

		mif_teardown(p, why, nf_disc_name(why));
		return;
	}
	if (m->state == MIF_HANDSHAKE && now > m->deadline) {
		mif_teardown(p, NF_DISC_TIMEOUT, "handshake timeout");
		return;
	}
	if (m->state == MIF_UP && m->server && m->stall_since != 0 &&
	    nf_io_params()->stall_ms != UINT32_MAX &&
	    now - m->stall_since > stall_ns) {
		/* Re-check: the ring may have drained since the last send. */
		if (srv_tx_free(m) == 0) {
			mif_teardown(p, NF_DISC_STALLED,
				     "receive ring not drained: stalled");
			return;
		}
		m->stall_since = 0;
	}
	if (m->state == MIF_DOWN && !m->server && now >= m->reconnect_at)
		(void)client_try_connect(p);
	if (m->server && m->lst != NULL) {
		struct mif_conn *c, *next;

		/* Unidentified connections: enforce the handshake deadline.
		 * Done by whichever port of the listener ticks. */
		for (c = m->lst->pending; c != NULL; c = next) {
			next = c->next;
			if (now > c->deadline) {
				send_disconnect(c->ev.fd, "handshake timeout");
				listener_unlink_pending(m->lst, c);
				conn_free(c);
				m->lst->refused++;
			}
		}
	}
}

static void mif_describe(const struct nf_port *p, char *buf, size_t n)
{
	const struct mif_port *m = nf_port_cpriv(p);
	static const char *const st[] = { "down", "handshake", "up" };

	snprintf(buf, n, "%s id=%" PRIu64 " state=%s ring=%u peer=\"%s\" "
		 "peer_if=\"%s\" regions=%u last_disconnect=\"%s\"%s%s%s",
		 m->server ? "server" : "client", m->cfg.id, st[m->state],
		 m->state == MIF_UP ? m->rx.size : 0, m->peer_name, m->peer_if,
		 m->nregions, m->disc_reason,
		 m->remote_reason[0] ? " peer_said=\"" : "", m->remote_reason,
		 m->remote_reason[0] ? "\"" : "");
}

static void mif_close(struct nf_port *p)
{
	struct mif_port *m = MIF(p);
	struct nf_pool *pl = nf_io_pool();

	if (m->state != MIF_DOWN)
		mif_teardown(p, NF_DISC_LOCAL, "interface deleted");
	else if (m->conn != NULL) {
		conn_free(m->conn);
		m->conn = NULL;
	}
	if (m->lst != NULL) {
		struct nf_port **pp;

		for (pp = &m->lst->ports; *pp != NULL; pp = &MIF(*pp)->lst_next) {
			if (*pp == p) {
				*pp = m->lst_next;
				break;
			}
		}
		listener_put(m->lst);
	}
	if (!m->server) {
		uint32_t size = 1u << m->cfg.log2;

		if (m->shadow_rx != NULL)
			nf_pool_put(pl, m->shadow_rx, size);
		if (m->shadow_tx != NULL)
			nf_pool_put(pl, m->shadow_tx, size);
		free(m->shadow_rx);
		free(m->shadow_tx);
		if (m->rbase != NULL)
			munmap(m->rbase, m->rsize);
		if (m->rfd >= 0)
			close(m->rfd);
		if (m->ring_fd[0] >= 0)
			close(m->ring_fd[0]);
		if (m->ring_fd[1] >= 0)
			close(m->ring_fd[1]);
	}
	free(m->gather);
}

static int mif_parse(const struct nf_spec *sp, int def_server,
		     uint32_t buf_size, struct mif_cfg *cfg)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->role = def_server ? 1 : 0;
	cfg->log2 = 10;
	cfg->bsize = buf_size;
	if (sp->npos != 1 || sp->pos[0][0] == '\0') {
		nf_set_error("memif port needs exactly one socket path "
			     "(memif:PATH[,id=N,role=client|server,...])");
		return -EINVAL;
	}
	if (strlen(sp->pos[0]) >= sizeof(cfg->path)) {
		nf_set_error("memif socket path longer than %zu characters",
			     sizeof(cfg->path) - 1);
		return -EINVAL;
	}
	strcpy(cfg->path, sp->pos[0]);
	ret = nf_spec_apply(sp, mif_opts, NF_ARRAY_SIZE(mif_opts), cfg);
	if (ret < 0)
		return ret;
	if (cfg->bsize != buf_size) {
		nf_set_error("bsize=%" PRIu64 ": memif buffers are the pool's "
			     "buffers, %u bytes in this program", cfg->bsize,
			     buf_size);
		return -EINVAL;
	}
	return 0;
}

static int mif_check(const struct nf_spec *sp)
{
	struct mif_cfg cfg;
	const struct nf_io_params *prm = nf_io_params();

	return mif_parse(sp, 1, prm->buf_size ? prm->buf_size : 2048, &cfg);
}

static int mif_open(struct nf_port *p, const struct nf_spec *sp, int def_server)
{
	struct mif_port *m = MIF(p);
	struct nf_pool *pl = nf_io_pool();
	struct nf_port *q;
	uint32_t size;
	unsigned i;
	int ret;

	m->p = p;
	m->rfd = -1;
	m->ring_fd[0] = m->ring_fd[1] = -1;
	for (i = 0; i < MIF_MAX_REGIONS; i++)
		m->reg_fd[i] = -1;
	m->rx.fd = m->tx.fd = -1;
	ret = mif_parse(sp, def_server, pl->buf_size, &m->cfg);
	if (ret < 0)
		return ret;
	m->server = m->cfg.role == 1;
	m->bsize = pl->buf_size;
	/* Burst calls go straight to the role's functions. */
	p->fp.rx_burst = m->server ? srv_rx_burst : cli_rx_burst;
	p->fp.rx_release = m->server ? srv_rx_release : cli_rx_release;
	p->fp.tx_burst = m->server ? srv_tx_burst : cli_tx_burst;
	p->fp.tx_burst_hdr = m->server ? srv_tx_burst_hdr : NULL;
	m->gather = malloc((size_t)MIF_GATHER_PKTS * NF_FRAME_MAX);
	if (m->gather == NULL)
		return -ENOMEM;

	if (m->server) {
		ret = listener_get(m->cfg.path, &m->lst);
		if (ret < 0)
			goto fail;
		for (q = m->lst->ports; q != NULL; q = MIF(q)->lst_next) {
			if (MIF(q)->cfg.id == m->cfg.id) {
				nf_set_error("memif %s id %" PRIu64 " is already open",
					     m->cfg.path, m->cfg.id);
				ret = -EADDRINUSE;
				goto fail;
			}
		}
		m->lst_next = m->lst->ports;
		m->lst->ports = p;
		return 0;
	}

	/* Client: region 0 with both rings, pool buffers for every slot. */
	size = 1u << m->cfg.log2;
	m->rsize = 2 * NF_MEMIF_RING_BYTES(m->cfg.log2);
	m->rsize = (m->rsize + 4095) & ~4095ull;
	m->shadow_rx = calloc(size, sizeof(uint32_t));
	m->shadow_tx = calloc(size, sizeof(uint32_t));
	if (m->shadow_rx == NULL || m->shadow_tx == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	if (nf_pool_get(pl, m->shadow_rx, size) < 0) {
		free(m->shadow_rx);
		m->shadow_rx = NULL;
		goto nobufs;
	}
	if (nf_pool_get(pl, m->shadow_tx, size) < 0) {
		free(m->shadow_tx);
		m->shadow_tx = NULL;
		goto nobufs;
	}
	m->rfd = memfd_create("nfchain-memif-rings", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m->rfd < 0 || ftruncate(m->rfd, (off_t)m->rsize) < 0 ||
	    fcntl(m->rfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		ret = -errno;
		nf_set_error("cannot create the ring region: %s", strerror(errno));
		goto fail;
	}
	m->rbase = mmap(NULL, m->rsize, PROT_READ | PROT_WRITE, MAP_SHARED,
			m->rfd, 0);
	if (m->rbase == MAP_FAILED) {
		m->rbase = NULL;
		ret = -errno;
		goto fail;
	}
	m->ring_fd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->ring_fd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->ring_fd[0] < 0 || m->ring_fd[1] < 0) {
		ret = -errno;
		goto fail;
	}
	p->rx_fd = m->ring_fd[1];
	m->now = nf_now_ns();
	(void)client_try_connect(p);	/* retried every second */
	return 0;
nobufs:
	nf_set_error("buffer pool exhausted: a memif client port needs %u "
		     "buffers, %u are free", 2 * size, pl->nfree);
	ret = -ENOBUFS;
fail:
	mif_close(p);
	return ret;
}

const struct nf_port_ops nf_memif_ops = {
	.type = "memif",
	.priv_size = sizeof(struct mif_port),
	.check = mif_check,
	.open = mif_open,
	.close = mif_close,
	.rx_burst = mif_rx_burst,
	.rx_release = mif_rx_release,
	.tx_burst = mif_tx_burst,
	.tx_get = mif_tx_get,
	.tx_put = mif_tx_put,
	.intr_enable = mif_intr_enable,
	.intr_disable = mif_intr_disable,
	.tick = mif_tick,
	.describe = mif_describe,
};
