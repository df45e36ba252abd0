/* fuzz_memif_ctl.c - libFuzzer target: the memif server's control-message
 * handling and, when a fuzzed handshake gets through, its data path.
 *
 * Input: a sequence of records, each one byte of "attachment kind" and up
 * to 128 bytes of message:
 *   kind & 7: 0 none, 1 sealed memfd (valid-looking region), 2 eventfd,
 *             3 unsealed memfd, 4 pipe, 5 sealed memfd of 4 KiB,
 *             6 two fds, 7 the same memfd again
 *   kind & 8: send the message short (kind >> 4 bytes) instead of 128
 * The harness connects to a real server port of the library over a real
 * UNIX socket, sends the records, runs nf_io_service() after each, then
 * exercises rx/tx bursts if the port came up, and hangs up.
 * The bytes after the last full record are copied over the region's rings
 * and buffers before the data-path step, so descriptors are fuzzed too.
 *
 *   make fuzz            (builds build/fuzz/fuzz_memif_ctl and runs it)
 *   build/fuzz/fuzz_memif_ctl tests/fuzz/corpus/memif_ctl
 */
#define _GNU_SOURCE
#include "nf_io.h"
#include "nf_memif_proto.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REGION	(64 * 1024)
#define LOG2	4

static char sock[108];
static int base_fds;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}
static struct nf_port *port;

static int make_region(size_t size, int seal, uint8_t **map)
{
	int fd = memfd_create("fuzz", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	struct nf_memif_ring *r;
	size_t rb = NF_MEMIF_RING_BYTES(LOG2);
	unsigned i;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror("fuzz harness: memfd");
		abort();
	}
	if (seal)
		fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		perror("fuzz harness: mmap");
		abort();
	}
	if (size >= 2 * rb) {
		for (i = 0; i < 2; i++) {
			unsigned j;

			r = (struct nf_memif_ring *)(*map + i * rb);
			r->cookie = NF_MEMIF_COOKIE;
			for (j = 0; j < (1u << LOG2); j++) {
				r->desc[j].offset = (uint32_t)(4096 + (i * 16 + j) * 2048);
				r->desc[j].length = 2048;
			}
		}
	}
	return fd;
}

/* The run leaves no socket file behind (libFuzzer ends with exit()). */
static void unlink_sock(void)
{
	unlink(sock);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char spec[160];

	(void)argc;
	(void)argv;
	snprintf(sock, sizeof(sock), "/tmp/nfchain-fuzz-%d.sock", getpid());
	atexit(unlink_sock);
	if (nf_io_init(NULL) < 0)
		abort();
	snprintf(spec, sizeof(spec), "memif:%s,id=0,role=server", sock);
	if (nf_port_open(spec, NULL, &port) < 0)
		abort();
	base_fds = count_fds();
	return 0;
}

static void service(int cfd)
{
	char buf[256];
	int i;

	for (i = 0; i < 3; i++)
		nf_io_service();
	while (recv(cfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void sendrec(int cfd, const uint8_t *msg, size_t len, int *fds, int nfds)
{
	char ctl[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
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
	(void)sendmsg(cfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t *region = NULL, *map2;
	int cfd, rfd = -1, tmp[2], i;
	size_t off = 0;

	cfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, sock);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	service(cfd);
	while (off + 1 + NF_MEMIF_MSG_SZ <= size) {
		uint8_t kind = data[off];
		uint8_t msg[NF_MEMIF_MSG_SZ];
		size_t len = NF_MEMIF_MSG_SZ;
		int fds[2], nfds = 0, own[2] = { -1, -1 };

		memcpy(msg, data + off + 1, NF_MEMIF_MSG_SZ);
		off += 1 + NF_MEMIF_MSG_SZ;
		if (kind & 8)
			len = (size_t)(kind >> 4);
		switch (kind & 7) {
		case 1:
			if (rfd < 0)
				rfd = make_region(REGION, 1, &region);
			fds[nfds++] = rfd;
			break;
		case 2:
			own[0] = fds[nfds++] = eventfd(0, EFD_CLOEXEC);
			break;
		case 3:
			own[0] = fds[nfds++] = make_region(REGION, 0, &map2);
			munmap(map2, REGION);
			break;
		case 4:
			if (pipe(tmp) == 0) {
				own[0] = fds[nfds++] = tmp[0];
				own[1] = tmp[1];
			}
			break;
		case 5:
			own[0] = fds[nfds++] = make_region(4096, 1, &map2);
			munmap(map2, 4096);
			break;
		case 6:
			own[0] = fds[nfds++] = eventfd(0, EFD_CLOEXEC);
			own[1] = fds[nfds++] = eventfd(0, EFD_CLOEXEC);
			break;
		case 7:
			if (rfd >= 0)
				fds[nfds++] = rfd;
			break;
		}
		sendrec(cfd, msg, len, fds, nfds);
		for (i = 0; i < 2; i++)
			if (own[i] >= 0)
				close(own[i]);
		service(cfd);
	}
	if (nf_port_is_up(port)) {
		struct nf_pkt pk[32];
		static uint8_t frame[2048];
		uint16_t n;

		if (region != NULL && off < size) {
			size_t k = size - off;

			if (k > REGION)
				k = REGION;
			memcpy(region, data + off, k);
		}
		n = nf_rx_burst(port, pk, 32);
		for (i = 0; i < n; i++)	/* touch every byte handed out */
			frame[i] ^= pk[i].data[pk[i].len - 1] ^ pk[i].data[0];
		nf_rx_release(port);
		for (i = 0; i < 32; i++) {
			pk[i].data = frame;
			pk[i].len = 60 + (uint32_t)i * 61;
			pk[i].slot = NULL;
		}
		nf_tx_burst(port, pk, 32);
		n = nf_tx_get(port, pk, 8);
		for (i = 0; i < n; i++) {
			memset(pk[i].data, 0xab, 60);
			pk[i].len = 60;
		}
		nf_tx_put(port, pk, n);
		nf_rx_intr_enable(port);
		nf_rx_intr_disable(port);
	}
	close(cfd);
	if (region != NULL)
		munmap(region, REGION);
	if (rfd >= 0)
		close(rfd);
	/* Let the server notice the hang-up and tear down (tick: 100 ms
	 * granularity is for timers; the close is handled at once). */
	for (i = 0; i < 4; i++)
		nf_io_service();
	/* Every descriptor the server received must be closed again. */
	if (count_fds() > base_fds + 2) {
		fprintf(stderr, "fuzz harness: %d descriptors open, %d at start\n",
			count_fds(), base_fds);
		abort();
	}
	return 0;
}
