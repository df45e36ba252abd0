/* memif_hostile.c - a memif client that misbehaves on purpose.
 *
 *   memif_hostile SOCKET ID CASE     run one case
 *   memif_hostile SOCKET ID all      run every case in turn
 *   memif_hostile --list             list the cases
 *
 * Each case attacks the server (nfswitch) through the control socket or the
 * shared memory and then checks the server's answer: a DISCONNECT message
 * with a reason, or a closed socket, within the deadline. It prints
 * "ok - CASE: what happened" or "not ok - CASE: ..." and exits 0 only if
 * every case it ran was answered as it should be. Whether the *switch*
 * survived and kept forwarding for other ports is checked by the test
 * around it (tests/it/hostile.sh).
 */
#define _GNU_SOURCE
#include "nf_memif_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG2		8
#define RSIZE		(1u << LOG2)
#define BSIZE		2048u
#define RING_BYTES	NF_MEMIF_RING_BYTES(LOG2)
#define BUF_OFF		(2 * RING_BYTES)
#define REGION_BYTES	(BUF_OFF + 2ull * RSIZE * BSIZE)

static const char *sock_path;
static uint32_t if_id;
static int failures;

struct peer {
	int fd;			/* control socket */
	int mfd;		/* region memfd */
	uint8_t *base;
	int efd[2];		/* C2S, S2C eventfds */
	struct nf_memif_ring *c2s, *s2c;
	char reason[97];	/* what the server said when it ended */
};

static void result(const char *name, int good, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *name, int good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s: ", good ? "ok" : "not ok", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!good)
		failures++;
}

static int sendm(int fd, const struct nf_memif_msg *m, size_t len,
		 const int *fds, int nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int send1(int fd, const struct nf_memif_msg *m, int afd)
{
	return sendm(fd, m, sizeof(*m), &afd, afd >= 0 ? 1 : 0);
}

/* Wait for one message. Returns its type, 0 on close, -1 on timeout. */
static int recvm(struct peer *p, struct nf_memif_msg *m, int ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	ssize_t r;

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	r = recv(p->fd, m, sizeof(*m), 0);
	if (r <= 0)
		return 0;
	if (m->type == NF_MEMIF_MSG_DISCONNECT) {
		memcpy(p->reason, m->disconnect.string, 96);
		p->reason[96] = '\0';
	}
	return m->type;
}

/* The server must end the connection: DISCONNECT (reason kept) and/or
 * close, within @ms. Returns 1 if it did. */
static int expect_end(struct peer *p, int ms)
{
	struct nf_memif_msg m;
	struct timespec t0, t1;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = recvm(p, &m, ms);
		if (r == 0)
			return 1;		/* closed */
		if (r < 0)
			return 0;		/* timeout: still connected */
		if (r == NF_MEMIF_MSG_DISCONNECT)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return 0;
	}
}

static int peer_open(struct peer *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nf_memif_msg m;

	memset(p, 0, sizeof(*p));
	p->mfd = p->efd[0] = p->efd[1] = -1;
	p->fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	if (recvm(p, &m, 2000) != NF_MEMIF_MSG_HELLO)
		return -1;
	return 0;
}

static void peer_close(struct peer *p)
{
	if (p->base != NULL)
		munmap(p->base, REGION_BYTES);
	if (p->mfd >= 0)
		close(p->mfd);
	if (p->efd[0] >= 0)
		close(p->efd[0]);
	if (p->efd[1] >= 0)
		close(p->efd[1]);
	if (p->fd >= 0)
		close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = p->mfd = p->efd[0] = p->efd[1] = -1;
}

static void msg_init(struct nf_memif_msg *m, uint32_t id, uint16_t version)
{
	memset(m, 0, sizeof(*m));
	m->type = NF_MEMIF_MSG_INIT;
	m->init.version = version;
	m->init.id = id;
	m->init.mode = NF_MEMIF_MODE_ETHERNET;
	strcpy((char *)m->init.name, "hostile");
}

static int make_region(struct peer *p, int seal)
{
	unsigned i;

	p->mfd = memfd_create("hostile", MFD_ALLOW_SEALING);
	if (p->mfd < 0 || ftruncate(p->mfd, (off_t)REGION_BYTES) < 0)
		return -1;
	if (seal && fcntl(p->mfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return -1;
	p->base = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->mfd, 0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		return -1;
	}
	p->c2s = (struct nf_memif_ring *)p->base;
	p->s2c = (struct nf_memif_ring *)(p->base + RING_BYTES);
	p->c2s->cookie = p->s2c->cookie = NF_MEMIF_COOKIE;
	for (i = 0; i < RSIZE; i++) {
		p->c2s->desc[i].offset = (uint32_t)(BUF_OFF + i * BSIZE);
		p->c2s->desc[i].length = BSIZE;
		p->s2c->desc[i].offset = (uint32_t)(BUF_OFF + (RSIZE + i) * BSIZE);
		p->s2c->desc[i].length = BSIZE;
	}
	p->efd[0] = eventfd(0, EFD_NONBLOCK);
	p->efd[1] = eventfd(0, EFD_NONBLOCK);
	return 0;
}

/* Full, correct handshake. Returns 0 when CONNECTED. */
static int peer_connect(struct peer *p)
{
	struct nf_memif_msg m;
	int step;

	if (peer_open(p) < 0 || make_region(p, 1) < 0)
		return -1;
	for (step = 0; step < 5; step++) {
		int afd = -1;

		memset(&m, 0, sizeof(m));
		switch (step) {
		case 0:
			msg_init(&m, if_id, NF_MEMIF_VERSION);
			break;
		case 1:
			m.type = NF_MEMIF_MSG_ADD_REGION;
			m.add_region.index = 0;
			m.add_region.size = REGION_BYTES;
			afd = p->mfd;
			break;
		case 2:
		case 3:
			m.type = NF_MEMIF_MSG_ADD_RING;
			m.add_ring.flags = step == 2 ? NF_MEMIF_ADD_RING_FLAG_C2S : 0;
			m.add_ring.offset = step == 2 ? 0 : (uint32_t)RING_BYTES;
			m.add_ring.log2_ring_size = LOG2;
			afd = p->efd[step - 2];
			break;
		case 4:
			m.type = NF_MEMIF_MSG_CONNECT;
			strcpy((char *)m.connect.if_name, "hostile");
			break;
		}
		if (send1(p->fd, &m, afd) < 0)
			return -1;
		if (recvm(p, &m, 2000) != (step == 4 ? NF_MEMIF_MSG_CONNECTED :
					    NF_MEMIF_MSG_ACK))
			return -1;
	}
	return 0;
}

/* Put @n frames on the C2S ring with whatever descriptors @mut makes. */
static void post(struct peer *p, unsigned n,
		 void (*mut)(struct nf_memif_desc *d, unsigned i))
{
	uint16_t head = p->c2s->head;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct nf_memif_desc *d = &p->c2s->desc[(uint16_t)(head + i) & (RSIZE - 1)];
		uint8_t *f;

		d->region = 0;
		d->offset = (uint32_t)(BUF_OFF + ((head + i) & (RSIZE - 1)) * BSIZE);
		d->length = 60;
		d->flags = 0;
		if (mut)
			mut(d, i);
		if (d->region != 0 || (uint64_t)d->offset + 14 > REGION_BYTES)
			continue;
		f = p->base + d->offset;
		memset(f, 0xff, 6);			/* broadcast */
		memcpy(f + 6, "\x02\x66\x66\x66\x66\x66", 6);
		f[12] = 0x88;
		f[13] = 0xb5;
	}
	__atomic_store_n(&p->c2s->head, (uint16_t)(head + n), __ATOMIC_RELEASE);
}

/* ---------------- control-channel cases ---------------- */

static void c_short_msg(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	msg_init(&m, if_id, NF_MEMIF_VERSION);
	sendm(p.fd, &m, 64, NULL, 0);
	result(name, expect_end(&p, 3000), "64-byte message -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_bad_type(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	memset(&m, 0xa5, sizeof(m));
	m.type = 0x7777;
	send1(p.fd, &m, -1);
	result(name, expect_end(&p, 3000), "type 0x7777 -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_region_first(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;

	if (peer_open(&p) < 0 || make_region(&p, 1) < 0) {
		result(name, 0, "setup"); return;
	}
	memset(&m, 0, sizeof(m));
	m.type = NF_MEMIF_MSG_ADD_REGION;
	m.add_region.size = REGION_BYTES;
	send1(p.fd, &m, p.mfd);
	result(name, expect_end(&p, 3000), "ADD_REGION before INIT -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_bad_version(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	msg_init(&m, if_id, 0x0100);
	send1(p.fd, &m, -1);
	result(name, expect_end(&p, 3000), "version 1.0 -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_bad_id(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	msg_init(&m, 0xdeadbeef, NF_MEMIF_VERSION);
	send1(p.fd, &m, -1);
	result(name, expect_end(&p, 3000), "unknown id -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

/* INIT ok, then a region message built by @how. */
static void region_case(const char *name, const char *what, int seal,
			uint64_t size, int with_fd, int nfds)
{
	struct peer p;
	struct nf_memif_msg m;
	int fds[4];

	if (peer_open(&p) < 0 || make_region(&p, seal) < 0) {
		result(name, 0, "setup"); return;
	}
	msg_init(&m, if_id, NF_MEMIF_VERSION);
	send1(p.fd, &m, -1);
	if (recvm(&p, &m, 2000) != NF_MEMIF_MSG_ACK) {
		result(name, 0, "INIT not acknowledged (%s)", p.reason);
		peer_close(&p);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = NF_MEMIF_MSG_ADD_REGION;
	m.add_region.size = size;
	fds[0] = fds[1] = fds[2] = fds[3] = p.mfd;
	sendm(p.fd, &m, sizeof(m), fds, with_fd ? nfds : 0);
	if (!seal) {
		/* The attack: shrink the file the server would have mapped. */
		if (ftruncate(p.mfd, 4096) < 0)
			perror("ftruncate");
	}
	result(name, expect_end(&p, 3000), "%s -> %s", what,
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_unsealed(const char *n)
{
	region_case(n, "region not sealed, shrunk after handover", 0,
		    REGION_BYTES, 1, 1);
}
static void c_region_nofd(const char *n)
{
	region_case(n, "ADD_REGION without fd", 1, REGION_BYTES, 0, 0);
}
static void c_region_big(const char *n)
{
	region_case(n, "region size larger than the file", 1, REGION_BYTES * 64, 1, 1);
}
static void c_region_huge(const char *n)
{
	region_case(n, "region size 2^63", 1, 1ull << 63, 1, 1);
}
static void c_fd_spam(const char *n)
{
	region_case(n, "four fds on one message", 1, REGION_BYTES, 1, 4);
}

/* Handshake up to CONNECT with a ring altered by @mut. */
static void ring_case(const char *name, const char *what, int kind)
{
	struct peer p;
	struct nf_memif_msg m;
	int step, pipefd[2] = { -1, -1 };

	if (peer_open(&p) < 0 || make_region(&p, 1) < 0) {
		result(name, 0, "setup"); return;
	}
	if (kind == 2)
		p.c2s->cookie = 0x12345678;
	for (step = 0; step < 5; step++) {
		int afd = -1;

		memset(&m, 0, sizeof(m));
		if (step == 0) {
			msg_init(&m, if_id, NF_MEMIF_VERSION);
		} else if (step == 1) {
			m.type = NF_MEMIF_MSG_ADD_REGION;
			m.add_region.size = REGION_BYTES;
			afd = p.mfd;
		} else if (step < 4) {
			m.type = NF_MEMIF_MSG_ADD_RING;
			m.add_ring.flags = step == 2 ? NF_MEMIF_ADD_RING_FLAG_C2S : 0;
			m.add_ring.offset = step == 2 ? 0 : (uint32_t)RING_BYTES;
			m.add_ring.log2_ring_size = LOG2;
			afd = p.efd[step - 2];
			if (kind == 1 && step == 3)
				m.add_ring.offset = (uint32_t)(REGION_BYTES - 64);
			if (kind == 3 && step == 3) {
				if (pipe(pipefd) < 0)
					return;
				afd = pipefd[1];
			}
			if (kind == 4 && step == 3)
				m.add_ring.region = 5;
			if (kind == 5 && step == 3)
				m.add_ring.log2_ring_size = 30;
		} else {
			m.type = NF_MEMIF_MSG_CONNECT;
		}
		send1(p.fd, &m, afd);
		if (recvm(&p, &m, 2000) != (step == 4 ? NF_MEMIF_MSG_CONNECTED :
					    NF_MEMIF_MSG_ACK))
			break;
	}
	result(name, step < 5 && (p.reason[0] || expect_end(&p, 100)),
	       "%s -> refused at step %d: %s", what, step,
	       p.reason[0] ? p.reason : "closed");
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	peer_close(&p);
}

static void c_ring_outside(const char *n) { ring_case(n, "ring past the region end", 1); }
static void c_ring_cookie(const char *n) { ring_case(n, "ring without cookie", 2); }
static void c_ring_pipe(const char *n) { ring_case(n, "pipe instead of eventfd", 3); }
static void c_ring_region(const char *n) { ring_case(n, "ring in region 5", 4); }
static void c_ring_log2(const char *n) { ring_case(n, "ring of 2^30 slots", 5); }

static void c_silent(const char *name)
{
	struct peer p;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	result(name, expect_end(&p, 8000), "connected, said nothing -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_many_conns(const char *name)
{
	struct peer ps[40];
	int i, opened = 0, ended = 0;

	for (i = 0; i < 40; i++)
		if (peer_open(&ps[i]) == 0)
			opened++;
	/* Either refused at once (too many pending) or timed out later. */
	for (i = 0; i < 40; i++) {
		if (ps[i].fd > 0 && expect_end(&ps[i], 8000))
			ended++;
		peer_close(&ps[i]);
	}
	result(name, ended >= opened, "40 silent connections, %d got HELLO, "
	       "%d ended by the server", opened, ended);
}

static void c_flood_ctl(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;
	int i;

	if (peer_open(&p) < 0) { result(name, 0, "cannot connect"); return; }
	msg_init(&m, if_id, NF_MEMIF_VERSION);
	send1(p.fd, &m, -1);
	memset(&m, 0, sizeof(m));
	m.type = NF_MEMIF_MSG_ACK;
	for (i = 0; i < 20000; i++)
		if (sendm(p.fd, &m, sizeof(m), NULL, 0) < 0)
			break;
	result(name, expect_end(&p, 5000), "INIT then %d messages -> %s", i,
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

/* ---------------- shared-memory cases (after a good handshake) -------- */

static void mut_offset(struct nf_memif_desc *d, unsigned i)
{
	if (i == 5)
		d->offset = (uint32_t)REGION_BYTES - 10;
}

static void mut_length(struct nf_memif_desc *d, unsigned i)
{
	if (i == 3)
		d->length = 0x7fffffff;
}

static void mut_region(struct nf_memif_desc *d, unsigned i)
{
	if (i == 1)
		d->region = 3;
}

static void mut_at_end(struct nf_memif_desc *d, unsigned i)
{
	(void)i;
	d->offset = (uint32_t)REGION_BYTES - 60;	/* legal, last 60 bytes */
}

/* Behave for @ms: keep every receive buffer offered (whatever the switch
 * floods to us is consumed at once). Returns 1 if the server ended the
 * connection meanwhile. */
static int behave(struct peer *p, int ms)
{
	int t;

	for (t = 0; t < ms; t += 10) {
		uint16_t tail = __atomic_load_n(&p->s2c->tail, __ATOMIC_ACQUIRE);
		unsigned i;

		for (i = 0; i < RSIZE; i++)
			p->s2c->desc[i].length = BSIZE;
		__atomic_store_n(&p->s2c->head, (uint16_t)(tail + RSIZE), __ATOMIC_RELEASE);
		if (expect_end(p, 10))
			return 1;
	}
	return 0;
}

/* A legal frame that ends exactly at the end of the region: the server
 * must forward it without reading a byte past the mapping, and stay
 * connected. */
static void c_desc_at_end(const char *name)
{
	struct peer p;

	if (peer_connect(&p) < 0) { result(name, 0, "handshake"); peer_close(&p); return; }
	post(&p, 8, mut_at_end);
	result(name, !behave(&p, 1000), "8 frames ending at the last byte "
	       "of the region -> %s", p.reason[0] ? p.reason : "still connected");
	peer_close(&p);
}

static void mem_case(const char *name, const char *what,
		     void (*mut)(struct nf_memif_desc *, unsigned))
{
	struct peer p;

	if (peer_connect(&p) < 0) {
		result(name, 0, "handshake failed: %s", p.reason); peer_close(&p); return;
	}
	post(&p, 16, mut);
	result(name, expect_end(&p, 3000), "%s -> %s", what,
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_desc_offset(const char *n) { mem_case(n, "descriptor past the region", mut_offset); }
static void c_desc_length(const char *n) { mem_case(n, "descriptor length 2 GiB", mut_length); }
static void c_desc_region(const char *n) { mem_case(n, "descriptor in region 3", mut_region); }

static void c_head_jump(const char *name)
{
	struct peer p;

	if (peer_connect(&p) < 0) { result(name, 0, "handshake"); peer_close(&p); return; }
	__atomic_store_n(&p.c2s->head, (uint16_t)30000, __ATOMIC_RELEASE);
	result(name, expect_end(&p, 3000), "C2S head jumped by 30000 -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_s2c_bad_offer(const char *name)
{
	struct peer p;
	unsigned i;

	if (peer_connect(&p) < 0) { result(name, 0, "handshake"); peer_close(&p); return; }
	/* Offer receive buffers that are not ours to offer. */
	for (i = 0; i < RSIZE; i++)
		p.s2c->desc[i].offset = 0xfffff000u;
	__atomic_store_n(&p.s2c->head, (uint16_t)RSIZE, __ATOMIC_RELEASE);
	/* Frames flooded by the switch (other ports' traffic) hit them; our
	 * own broadcast frames too. */
	post(&p, 8, NULL);
	result(name, expect_end(&p, 5000), "rx buffers outside the region -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_stall(const char *name)
{
	struct peer p;

	if (peer_connect(&p) < 0) { result(name, 0, "handshake"); peer_close(&p); return; }
	/* Offer 16 buffers, never read, never offer more; keep sending
	 * broadcasts so that the switch has frames for us. */
	__atomic_store_n(&p.s2c->head, (uint16_t)16, __ATOMIC_RELEASE);
	post(&p, 32, NULL);
	result(name, expect_end(&p, 20000), "stopped draining its ring -> %s",
	       p.reason[0] ? p.reason : "closed");
	peer_close(&p);
}

static void c_punch(const char *name)
{
	struct peer p;

	if (peer_connect(&p) < 0) { result(name, 0, "handshake"); peer_close(&p); return; }
	post(&p, 4, NULL);
	usleep(100000);
	/* Sealed against shrinking, but pages can still be punched out:
	 * everything reads as zero afterwards. */
	if (fallocate(p.mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)REGION_BYTES) < 0)
		perror("fallocate");
	post(&p, 4, NULL);
	/* Zeroed rings are legal-looking (head = tail = 0) until the next
	 * index move; either way the server must stay alive. Let it run. */
	usleep(300000);
	result(name, 1, "punched every page of the region; server keeps going");
	peer_close(&p);
}

static void c_midburst(const char *name)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct peer p;

		if (peer_connect(&p) < 0)
			_exit(1);
		post(&p, 200, NULL);
		raise(SIGKILL);		/* die without a word, mid-burst */
		_exit(0);
	}
	waitpid(pid, &st, 0);
	result(name, WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "posted 200 frames and was killed with SIGKILL");
}

static void c_disconnect_reconnect(const char *name)
{
	struct peer p;
	struct nf_memif_msg m;
	int i, good = 0;

	for (i = 0; i < 20; i++) {
		if (peer_connect(&p) == 0)
			good++;
		memset(&m, 0, sizeof(m));
		m.type = NF_MEMIF_MSG_DISCONNECT;
		strcpy((char *)m.disconnect.string, "bye");
		send1(p.fd, &m, -1);
		peer_close(&p);
		usleep(20000);
	}
	result(name, good == 20, "connected and disconnected %d/20 times", good);
}

static const struct { const char *name; void (*fn)(const char *); } cases[] = {
	{ "short-message", c_short_msg },
	{ "bad-type", c_bad_type },
	{ "region-before-init", c_region_first },
	{ "bad-version", c_bad_version },
	{ "unknown-id", c_bad_id },
	{ "unsealed-then-shrunk", c_unsealed },
	{ "region-without-fd", c_region_nofd },
	{ "region-larger-than-file", c_region_big },
	{ "region-huge", c_region_huge },
	{ "fd-spam", c_fd_spam },
	{ "ring-outside-region", c_ring_outside },
	{ "ring-bad-cookie", c_ring_cookie },
	{ "ring-pipe-not-eventfd", c_ring_pipe },
	{ "ring-bad-region", c_ring_region },
	{ "ring-too-large", c_ring_log2 },
	{ "silent-client", c_silent },
	{ "many-connections", c_many_conns },
	{ "control-flood", c_flood_ctl },
	{ "desc-at-region-end", c_desc_at_end },
	{ "desc-offset-outside", c_desc_offset },
	{ "desc-length-huge", c_desc_length },
	{ "desc-bad-region", c_desc_region },
	{ "head-jump", c_head_jump },
	{ "rx-buffers-outside", c_s2c_bad_offer },
	{ "stalled-ring", c_stall },
	{ "punched-memory", c_punch },
	{ "killed-mid-burst", c_midburst },
	{ "reconnect-20x", c_disconnect_reconnect },
};

int main(int argc, char **argv)
{
	unsigned i, ran = 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			puts(cases[i].name);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: memif_hostile SOCKET ID CASE|all | --list\n");
		return 2;
	}
	sock_path = argv[1];
	if_id = (uint32_t)strtoul(argv[2], NULL, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[3], "all") == 0 || strcmp(argv[3], cases[i].name) == 0) {
			cases[i].fn(cases[i].name);
			ran++;
		}
	}
	if (ran == 0) {
		fprintf(stderr, "memif_hostile: unknown case '%s'\n", argv[3]);
		return 2;
	}
	return failures ? 1 : 0;
}
