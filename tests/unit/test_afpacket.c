/* test_afpacket.c - AF_PACKET ports on a veth pair whose other end lives
 * in a network namespace of our own.
 *
 * A plain AF_PACKET socket created inside the namespace (setns there and
 * back) plays the wire: frames it sends must reach the port exactly,
 * 802.1Q and 802.1ad tags included (the kernel strips them, the port puts
 * them back); frames the port sends must reach it exactly. Also: our own
 * transmits and the host's are never received; in-place build; interrupt
 * mode; a small ring lapped many times; kernel drops counted; a full
 * transmit ring; too-big and runt frames; bad specs; not root; the
 * interface going away. The namespace and the veth pair are removed at
 * exit, on failure and on a signal. */
#define _GNU_SOURCE
#include "harness.h"
#include "nf_io.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ETH_TEST	0x88b5		/* IEEE local experimental */
#define FMAX		(NF_FRAME_MAX + 64)
#define NFR		256

static char ns[32], ifa[IFNAMSIZ], ifb[IFNAMSIZ];
static int peer = -1, peer_ifindex, host = -1;
static volatile sig_atomic_t set_up;

static uint8_t ref[NFR][FMAX];
static uint32_t ref_len[NFR];
static uint8_t got[NFR][FMAX];
static uint32_t got_len[NFR];

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void teardown(void)
{
	if (!set_up)
		return;
	set_up = 0;
	run("ip link del %s >/dev/null 2>&1", ifa);
	run("ip netns del %s >/dev/null 2>&1", ns);
}

static void on_signal(int sig)
{
	teardown();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok - watchdog: the test took more than 120 s\n");
	fflush(stdout);
	teardown();
	_exit(1);
}

static int setup(void)
{
	snprintf(ns, sizeof(ns), "nfafp%d", getpid());
	snprintf(ifa, sizeof(ifa), "nfa%d", getpid());
	snprintf(ifb, sizeof(ifb), "nfb%d", getpid());
	set_up = 1;
	if (run("ip netns add %s", ns) != 0 ||
	    run("ip link add %s type veth peer name %s netns %s", ifa, ifb, ns) != 0)
		return -1;
	/* No IPv6 autoconf chatter (router solicitations, MLD). */
	run("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 2>/dev/null", ifa);
	run("ip netns exec %s sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 "
	    "2>/dev/null", ns, ifb);
	if (run("ip link set %s mtu 9000 up", ifa) != 0 ||
	    run("ip -n %s link set %s mtu 9000 up", ns, ifb) != 0)
		return -1;
	return 0;
}

static int bind_raw(int fd, int ifindex)
{
	struct sockaddr_ll sll;
	int one = 1;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		return -1;
	return bind(fd, (struct sockaddr *)&sll, sizeof(sll));
}

/* The wire: a raw socket on the namespace end, made inside the namespace
 * (a socket keeps its namespace after we switch back). */
static int peer_open(void)
{
	char p[64];
	int self, nsfd, ret = -1;

	snprintf(p, sizeof(p), "/var/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(p, O_RDONLY | O_CLOEXEC);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
		goto out;
	peer = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	peer_ifindex = (int)if_nametoindex(ifb);
	if (peer >= 0 && peer_ifindex > 0 && bind_raw(peer, peer_ifindex) == 0) {
		int sz = 16 << 20;	/* room for a few hundred frames */

		ret = setsockopt(peer, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	}
	if (setns(self, CLONE_NEWNET) < 0) {
		perror("setns back");
		exit(1);
	}
out:
	if (self >= 0)
		close(self);
	if (nsfd >= 0)
		close(nsfd);
	return ret;
}

static int raw_send(int fd, int ifindex, const uint8_t *f, uint32_t len)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, f, 6);
	return sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
		(ssize_t)len ? 0 : -1;
}

/* A test frame: our EtherType after an optional tag, a seeded payload. */
static uint32_t make_frame(uint8_t *b, uint32_t len, uint32_t seed,
			   uint16_t tpid, uint16_t tci)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	uint32_t off = 12, i;

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (tpid) {
		b[off++] = (uint8_t)(tpid >> 8);
		b[off++] = (uint8_t)tpid;
		b[off++] = (uint8_t)(tci >> 8);
		b[off++] = (uint8_t)tci;
	}
	b[off++] = ETH_TEST >> 8;
	b[off++] = ETH_TEST & 0xff;
	for (i = off; i < len; i++)
		b[i] = (uint8_t)(seed * 13 + i * 7 + (i >> 8));
	return len;
}

static bool is_test_frame(const uint8_t *f, uint32_t len)
{
	uint16_t t;

	if (len < 18)
		return false;
	t = (uint16_t)(f[12] << 8 | f[13]);
	if (t == ETH_TEST)
		return true;
	return (t == 0x8100 || t == 0x88a8) && (f[16] << 8 | f[17]) == ETH_TEST;
}

/* Receive one test frame on the namespace end, its VLAN tag re-inserted
 * from the auxiliary data. Returns its length, 0 on timeout. */
static uint32_t peer_recv(uint8_t *out, int ms)
{
	static uint8_t buf[FMAX + 8];
	uint64_t end = nf_now_ns() + (uint64_t)ms * 1000000ull;

	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct iovec iov = { .iov_base = buf + 4, .iov_len = FMAX };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct pollfd pfd = { .fd = peer, .events = POLLIN };
		struct cmsghdr *c;
		uint8_t *f = buf + 4;
		int64_t left = (int64_t)(end - nf_now_ns()) / 1000000;
		ssize_t n;

		if (left < 0 || poll(&pfd, 1, (int)left) <= 0)
			return 0;
		n = recvmsg(peer, &mh, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			struct tpacket_auxdata aux;

			if (c->cmsg_level != SOL_PACKET ||
			    c->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			if (aux.tp_status & TP_STATUS_VLAN_VALID) {
				uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID)
					? aux.tp_vlan_tpid : 0x8100;

				memmove(buf, buf + 4, 12);
				buf[12] = (uint8_t)(tpid >> 8);
				buf[13] = (uint8_t)tpid;
				buf[14] = (uint8_t)(aux.tp_vlan_tci >> 8);
				buf[15] = (uint8_t)aux.tp_vlan_tci;
				f = buf;
				n += 4;
			}
		}
		if (!is_test_frame(f, (uint32_t)n))
			continue;
		memcpy(out, f, (size_t)n);
		return (uint32_t)n;
	}
}

/* Receive test frames on the port into got[] until @want or @ms pass. */
static int port_collect(struct nf_port *p, int want, int ms, uint16_t burst)
{
	struct nf_pkt pk[NF_BURST_MAX];
	uint64_t end = nf_now_ns() + (uint64_t)ms * 1000000ull;
	int n = 0, i;

	while (n < want && nf_now_ns() < end) {
		uint16_t k = nf_rx_burst(p, pk, burst);

		for (i = 0; i < k; i++) {
			if (!is_test_frame(pk[i].data, pk[i].len) || n == NFR)
				continue;
			memcpy(got[n], pk[i].data, pk[i].len);
			got_len[n++] = pk[i].len;
		}
		if (k == 0)
			usleep(200);
	}
	nf_rx_release(p);
	return n;
}

/* got[0..n) == ref[0..n)? */
static int same(int n)
{
	int i, good = 0;

	for (i = 0; i < n; i++)
		good += got_len[i] == ref_len[i] &&
			memcmp(got[i], ref[i], ref_len[i]) == 0;
	return good;
}

/* Send ref[0..n) on the port in bursts of @burst. Returns frames sent. */
static int port_send(struct nf_port *p, int n, uint16_t burst)
{
	struct nf_pkt pk[NF_BURST_MAX];
	int i, sent = 0;

	for (i = 0; i < n; i++) {
		pk[i % burst].data = ref[i];
		pk[i % burst].len = ref_len[i];
		pk[i % burst].slot = NULL;
		pk[i % burst].buf = NF_BUF_NONE;
		if (i % burst == burst - 1 || i == n - 1)
			sent += nf_tx_burst(p, pk, (uint16_t)(i % burst + 1));
	}
	return sent;
}

/* Frames received by the namespace end into got[]. */
static int peer_collect(int want, int ms)
{
	int n = 0;

	while (n < want && n < NFR && (got_len[n] = peer_recv(got[n], ms)) > 0)
		n++;
	return n;
}

static void service(int ms)
{
	uint64_t end = nf_now_ns() + (uint64_t)ms * 1000000ull;

	while (nf_now_ns() < end) {
		nf_io_service();
		usleep(2000);
	}
}

/* In a child that gave up root: the open must say -EPERM. */
static int not_root_refused(void)
{
	char spec[64];
	pid_t pid;
	int st;

	snprintf(spec, sizeof(spec), "afpacket:%s", ifa);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct nf_port *p;
		int ret;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		ret = nf_port_open(spec, NULL, &p);
		_exit(ret == -EPERM && strstr(nf_last_error(), "root") != NULL ?
		      0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
	struct nf_pkt pk[NF_BURST_MAX];
	struct nf_port *p = NULL;
	char spec[128], d[512];
	int ret, i, n;
	uint16_t k;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGALRM, on_alarm);
	alarm(120);
	atexit(teardown);

	NF_TEST("nf_io_init", nf_io_init(NULL) == 0);
	NF_TEST("namespace and veth pair set up", setup() == 0);
	NF_TEST("raw socket inside the namespace", peer_open() == 0);
	host = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	NF_TEST("a second raw socket on the host end",
		host >= 0 && bind_raw(host, (int)if_nametoindex(ifa)) == 0);

	/* Bad specs first. */
	ret = nf_port_open("afpacket:nfnosuch0", NULL, &p);
	NF_TEST("unknown interface: -ENOENT and a sentence naming it",
		(ret == -ENOENT || ret == -ENODEV) &&
		strstr(nf_last_error(), "no network interface named 'nfnosuch0'"));
	ret = nf_port_open("afpacket:", NULL, &p);
	NF_TEST("no interface name refused", ret == -EINVAL);
	ret = nf_port_open("afpacket:averyveryverylongname0", NULL, &p);
	NF_TEST("interface name too long refused", ret == -EINVAL &&
		strstr(nf_last_error(), "longer than") != NULL);
	snprintf(spec, sizeof(spec), "afpacket:%s,blocks=1", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("blocks=1 refused, with the range", ret == -EINVAL &&
		strstr(nf_last_error(), "blocks=1") &&
		strstr(nf_last_error(), "from 2 to 1024"));
	snprintf(spec, sizeof(spec), "afpacket:%s,block_size=5000", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("block_size not a power of two refused", ret == -EINVAL &&
		strstr(nf_last_error(), "block_size=5000") &&
		strstr(nf_last_error(), "power of two"));
	snprintf(spec, sizeof(spec), "afpacket:%s,frame_size=3000", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("frame_size not a power of two refused", ret == -EINVAL &&
		strstr(nf_last_error(), "frame_size=3000"));
	snprintf(spec, sizeof(spec), "afpacket:%s,blocks=1024,block_size=4194304", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("a 4 GiB ring refused", ret == -EINVAL &&
		strstr(nf_last_error(), "at most") != NULL);
	snprintf(spec, sizeof(spec), "afpacket:%s,colour=red", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("unknown option refused", ret == -EINVAL &&
		strstr(nf_last_error(), "colour") != NULL);
	NF_TEST("not root: -EPERM and a sentence", not_root_refused());

	snprintf(spec, sizeof(spec), "afpacket:%s", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("port opens on the veth", ret == 0);
	if (ret != 0) {
		printf("# %s\n", nf_last_error());
		goto out;
	}
	nf_port_describe(p, d, sizeof(d));
	printf("# %s\n", d);
	NF_TEST("up at once, a descriptor, describe says where",
		nf_port_is_up(p) && nf_port_rx_fd(p) >= 0 &&
		strstr(d, ifa) != NULL && strstr(d, "rx=64x65536") != NULL &&
		strstr(d, "tx=256 frames of 16384") != NULL);

	/* Wire -> port: sizes, tags. */
	n = 0;
	ref_len[n] = make_frame(ref[n], 60, 1, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 1514, 2, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 9014, 3, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 64, 4, 0x8100, 0x2005), n++;
	ref_len[n] = make_frame(ref[n], 100, 5, 0x88a8, 0x0064), n++;
	ref_len[n] = make_frame(ref[n], 9018, 6, 0x8100, 0xe00a), n++;
	ref_len[n] = make_frame(ref[n], 60, 7, 0x8100, 0x0000), n++;
	for (i = 0, ret = 0; i < n; i++)
		ret += raw_send(peer, peer_ifindex, ref[i], ref_len[i]) == 0;
	NF_TEST("namespace end sent 7 frames", ret == n);
	ret = port_collect(p, n, 1000, 32);
	NF_TEST("port received all 7, in order, byte for byte",
		ret == n && same(n) == n);
	NF_TEST("802.1Q tag (VID 5, PCP 1) is on the delivered frame",
		ret > 3 && got_len[3] == 64 && got[3][12] == 0x81 &&
		got[3][13] == 0x00 && got[3][14] == 0x20 && got[3][15] == 0x05 &&
		got[3][16] == 0x88 && got[3][17] == 0xb5);
	NF_TEST("802.1ad tag keeps its TPID 0x88a8",
		ret > 4 && got[4][12] == 0x88 && got[4][13] == 0xa8);
	NF_TEST("priority-tagged frame (VID 0) keeps its tag",
		ret > 6 && got_len[6] == 60 && got[6][12] == 0x81);
	NF_TEST("rx counters count them, nothing dropped",
		nf_port_stats(p)->rx_pkts >= (uint64_t)n &&
		nf_port_stats(p)->drops[NF_DROP_RX_TOO_BIG] == 0 &&
		nf_port_stats(p)->drops[NF_DROP_RX_RUNT] == 0);

	/* Interrupt mode. */
	{
		struct pollfd pfd = { .fd = nf_port_rx_fd(p), .events = POLLIN };

		port_collect(p, NFR, 20, 64);
		NF_TEST("intr enable on an idle port returns 0",
			nf_rx_intr_enable(p) == 0);
		NF_TEST("armed, idle: descriptor not readable",
			poll(&pfd, 1, 20) == 0);
		ref_len[0] = make_frame(ref[0], 80, 10, 0, 0);
		raw_send(peer, peer_ifindex, ref[0], ref_len[0]);
		NF_TEST("a frame arrives: descriptor readable within 1 s",
			poll(&pfd, 1, 1000) == 1);
		NF_TEST("intr enable now says 1", nf_rx_intr_enable(p) == 1);
		nf_rx_intr_disable(p);
		NF_TEST("and the frame is there",
			port_collect(p, 1, 500, 8) == 1 && same(1) == 1);
	}

	/* Port -> wire. */
	n = 0;
	ref_len[n] = make_frame(ref[n], 60, 21, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 1514, 22, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 9014, 23, 0, 0), n++;
	ref_len[n] = make_frame(ref[n], 64, 24, 0x8100, 0x2005), n++;
	ref_len[n] = make_frame(ref[n], 9018, 25, 0x8100, 0x0007), n++;
	{
		uint64_t tx0 = nf_port_stats(p)->tx_pkts;

		NF_TEST("tx_burst sends 60, 1514, 9014 and tagged frames",
			port_send(p, n, 32) == n &&
			nf_port_stats(p)->tx_pkts - tx0 == (uint64_t)n);
	}
	ret = peer_collect(n, 1000);
	NF_TEST("namespace end receives all 5 exact, tags included",
		ret == n && same(n) == n);
	k = nf_tx_get(p, pk, 3);
	NF_TEST("tx_get gives 3 frames of the ring",
		k == 3 && pk[0].len >= 9018 && pk[0].slot == NULL);
	for (i = 0; i < k; i++) {
		ref_len[i] = make_frame(ref[i], 200 + (uint32_t)i, 30 + (uint32_t)i, 0, 0);
		memcpy(pk[i].data, ref[i], ref_len[i]);
		pk[i].len = ref_len[i];
	}
	nf_tx_put(p, pk, k);
	NF_TEST("tx_put: the namespace end receives the 3 built in place",
		peer_collect(3, 1000) == 3 && same(3) == 3);
	NF_TEST("our own transmits are not received back",
		port_collect(p, 1, 200, 64) == 0);
	ref_len[0] = make_frame(ref[0], 70, 40, 0, 0);
	NF_TEST("another host socket sends out of the veth",
		raw_send(host, (int)if_nametoindex(ifa), ref[0], ref_len[0]) == 0 &&
		peer_collect(1, 1000) == 1 && same(1) == 1);
	NF_TEST("... and the port does not receive that outgoing frame",
		port_collect(p, 1, 200, 64) == 0);
	{
		uint64_t big0 = nf_port_stats(p)->drops[NF_DROP_TX_TOO_BIG];

		ref_len[0] = make_frame(ref[0], 9015, 41, 0, 0);
		ref_len[1] = make_frame(ref[1], 9019, 42, 0x8100, 5);
		ref_len[2] = make_frame(ref[2], 9015, 43, 0x88a8, 5);
		ref_len[3] = 10;
		NF_TEST("frames over MTU + header (+4 for 802.1Q) and runts "
			"are refused as tx-too-big",
			port_send(p, 4, 8) == 0 &&
			nf_port_stats(p)->drops[NF_DROP_TX_TOO_BIG] - big0 == 4);
		NF_TEST("none of them reached the wire", peer_collect(1, 200) == 0);
	}

	/* A full transmit ring: with the link down the kernel keeps the
	 * frames; once up again the tick's retry sends them. */
	nf_port_close(p);
	p = NULL;
	snprintf(spec, sizeof(spec), "afpacket:%s,blocks=4,block_size=4096,"
		 "frames=16,frame_size=2048", ifa);
	ret = nf_port_open(spec, NULL, &p);
	NF_TEST("port reopens with a small ring", ret == 0);
	if (ret != 0) {
		printf("# %s\n", nf_last_error());
		goto out;
	}
	nf_port_describe(p, d, sizeof(d));
	printf("# %s\n", d);
	NF_TEST("describe shows the small rings",
		strstr(d, "rx=4x4096") && strstr(d, "tx=16 frames of 2048"));
	{
		int sent, good_rounds = 0, r;

		/* 12 frames of 60..359 bytes: about one 4 KiB block. */
		for (r = 0; r < 20; r++) {
			n = 12;
			for (i = 0; i < n; i++) {
				uint32_t len = 60 + (uint32_t)((r * 31 + i * 57) % 300);

				ref_len[i] = make_frame(ref[i], len,
							(uint32_t)(100 * r + i),
							i % 5 == 0 ? 0x8100 : 0,
							(uint16_t)i);
				raw_send(peer, peer_ifindex, ref[i], ref_len[i]);
			}
			if (port_collect(p, n, 1000, 7) == n && same(n) == n)
				good_rounds++;
		}
		service(150);	/* the tick reads the kernel's drop count */
		NF_TEST("small ring lapped many times, bursts of 7: 240 frames "
			"exact and in order, no kernel drops",
			good_rounds == 20 &&
			nf_port_stats(p)->drops[NF_DROP_RX_ERR] == 0);

		n = 200;
		for (i = 0; i < n; i++)
			ref_len[i] = make_frame(ref[i], 60 + (uint32_t)i * 5,
						500 + (uint32_t)i, 0, 0);
		sent = port_send(p, n, 8);
		NF_TEST("200 frames through a 16-frame transmit ring, bursts of 8",
			sent == n && peer_collect(n, 1000) == n && same(n) == n);

		run("ip link set %s down", ifa);
		for (i = 0; i < 24; i++)
			ref_len[i] = make_frame(ref[i], 100, 800 + (uint32_t)i, 0, 0);
		{
			uint64_t full0 = nf_port_stats(p)->drops[NF_DROP_TX_FULL];
			int s1 = port_send(p, 16, 16);
			int s2 = nf_tx_burst(p, (struct nf_pkt[]){ { .data = ref[16],
				.len = 100 } }, 1);

			NF_TEST("link down: 16 frames wait in the ring, the 17th "
				"is tx-ring-full",
				s1 == 16 && s2 == 0 &&
				nf_port_stats(p)->drops[NF_DROP_TX_FULL] - full0 == 1);
		}
		run("ip link set %s up", ifa);
		service(300);
		NF_TEST("link up again: the tick's retry sends the 16 waiting frames",
			peer_collect(16, 1000) == 16 && same(16) == 16);
		port_collect(p, NFR, 50, 64);
		ref_len[0] = make_frame(ref[0], 90, 900, 0, 0);
		raw_send(peer, peer_ifindex, ref[0], ref_len[0]);
		NF_TEST("and receives again after the link came back",
			port_collect(p, 1, 1000, 8) == 1 && same(1) == 1);
		{
			struct pollfd pfd = { .fd = nf_port_rx_fd(p), .events = POLLIN };

			/* No transmit this time: nothing else reads the
			 * ENETDOWN the flap leaves on the socket. */
			run("ip link set %s down", ifa);
			run("ip link set %s up", ifa);
			service(300);
			NF_TEST("after a link flap an armed idle port does not "
				"poll ready (the tick reads the socket error)",
				nf_rx_intr_enable(p) == 0 && poll(&pfd, 1, 20) == 0);
			nf_rx_intr_disable(p);
		}
	}

	/* Kernel drops: nobody reads while 300 frames arrive. */
	{
		uint64_t err0 = nf_port_stats(p)->drops[NF_DROP_RX_ERR];
		uint64_t drops;

		service(250);	/* earlier drops, if any, read now */
		err0 = nf_port_stats(p)->drops[NF_DROP_RX_ERR];
		for (i = 0; i < 300; i++) {
			ref_len[0] = make_frame(ref[0], 300, 1000 + (uint32_t)i, 0, 0);
			raw_send(peer, peer_ifindex, ref[0], ref_len[0]);
		}
		usleep(20000);
		n = port_collect(p, NFR, 300, 64);
		service(250);
		n += port_collect(p, NFR, 50, 64);
		drops = nf_port_stats(p)->drops[NF_DROP_RX_ERR] - err0;
		{
			int j, q, last = -1, ordered = 1;

			/* Which of the 300 is each frame received? */
			for (j = 0; j < n; j++) {
				for (q = last + 1; q < 300; q++) {
					make_frame(ref[0], 300, 1000 + (uint32_t)q, 0, 0);
					if (got_len[j] == 300 &&
					    memcmp(ref[0], got[j], 300) == 0)
						break;
				}
				if (q == 300)
					ordered = 0;
				last = q;
			}
			NF_TEST("ring overflow: no frame delivered twice, order kept",
				ordered && n > 0);
		}
		printf("# received %d, kernel dropped %llu\n", n,
		       (unsigned long long)drops);
		NF_TEST("ring overflow: the kernel's drops are counted as "
			"rx-error, received + dropped covers all 300",
			n < 300 && drops > 0 && (uint64_t)n + drops == 300);
	}

	/* The interface goes away: the port goes down, transmits are
	 * counted as tx-link-down. */
	run("ip link del %s", ifa);
	service(300);
	NF_TEST("interface deleted: the port goes down", !nf_port_is_up(p));
	{
		uint64_t down0 = nf_port_stats(p)->drops[NF_DROP_TX_DOWN];

		ref_len[0] = make_frame(ref[0], 60, 1, 0, 0);
		NF_TEST("transmits on it count as tx-link-down",
			port_send(p, 1, 1) == 0 &&
			nf_port_stats(p)->drops[NF_DROP_TX_DOWN] - down0 == 1);
	}

out:
	nf_port_close(p);
	if (peer >= 0)
		close(peer);
	if (host >= 0)
		close(host);
	nf_io_fini();
	teardown();
	return nf_test_report();
}
