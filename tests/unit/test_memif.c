/* test_memif.c - memif server and client ports of one process talking to
 * each other: handshake, exact bytes both ways, chained (jumbo) frames,
 * buffer swap, ring-full drops, in-place build, interrupts, reconnect. */
#include "harness.h"
#include "nf_io.h"
#include "nf_util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char sock[128];

static int wait_up(struct nf_port **ps, int n, int ms)
{
	uint64_t end = nf_now_ns() + (uint64_t)ms * 1000000ull;
	int i, up;

	do {
		nf_io_service();
		for (up = 0, i = 0; i < n; i++)
			up += nf_port_is_up(ps[i]);
		if (up == n)
			return 1;
		usleep(1000);
	} while (nf_now_ns() < end);
	return 0;
}

static void fill(uint8_t *b, uint32_t len, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7);
}

/* Receive @n (<= 64) frames on @b within a second: how many are frame i
 * of @want (@wl[i] bytes) in order. */
static int receive(struct nf_port *b, uint8_t *const *want, const uint32_t *wl, int n)
{
	struct nf_pkt pk[64];
	int i, got = 0, good = 0;
	uint64_t end = nf_now_ns() + 1000000000ull;

	while (got < n && nf_now_ns() < end) {
		uint16_t k = nf_rx_burst(b, pk, 64);

		for (i = 0; i < k; i++, got++)
			if (got < n && pk[i].len == wl[got] &&
			    memcmp(pk[i].data, want[got], wl[got]) == 0)
				good++;
	}
	nf_rx_release(b);
	return good;
}

/* Send @n frames of @len from @a, receive them on @b, compare bytes. */
static int exchange(struct nf_port *a, struct nf_port *b, uint32_t len, int n)
{
	static uint8_t frames[64][NF_FRAME_MAX];
	uint8_t *want[64];
	uint32_t wl[64];
	struct nf_pkt pk[64];
	int i;

	for (i = 0; i < n; i++) {
		fill(frames[i], len, (uint32_t)i);
		pk[i].data = frames[i];
		pk[i].len = len;
		pk[i].slot = NULL;
		pk[i].buf = NF_BUF_NONE;
		want[i] = frames[i];
		wl[i] = len;
	}
	if (nf_tx_burst(a, pk, (uint16_t)n) != n)
		return -1;
	return receive(b, want, wl, n);
}

/* nf_tx_burst_hdr() from the server: frame i is a header (its bytes 18-19
 * set to the length - 54; a header under 20 bytes has none: lenoff = its
 * length) and then its own @len bytes when i is odd, its own bytes alone
 * when even; what arrives must be the frames made whole. @same: every
 * frame has the header, frame i @len + i bytes of its own, and the call
 * says so (nf_tx_burst_hdr()'s @same: the header read once). */
static int exchange_hdr(struct nf_port *a, struct nf_port *b, uint32_t hlen, uint32_t len,
			int n, bool same)
{
	static uint8_t frames[16][NF_FRAME_MAX], whole[16][NF_FRAME_MAX + 192];
	static uint8_t hb[NF_HDR_ROOM];
	const uint16_t lenoff = hlen >= 20 ? 18 : (uint16_t)hlen;
	struct nf_hdr h = { .p = hb, .len = (uint16_t)hlen, .lenoff = lenoff };
	struct nf_pkt pk[16];
	uint8_t *want[16];
	uint32_t wl[16];
	int i;

	fill(hb, sizeof(hb), 99);
	for (i = 0; i < n; i++) {
		const uint32_t l = same ? len + (uint32_t)i : len;

		fill(frames[i], l, (uint32_t)i);
		pk[i].data = frames[i];
		pk[i].len = l;
		pk[i].buf = NF_BUF_NONE;
		pk[i].flags = 0;
		pk[i].slot = NULL;
		want[i] = whole[i];
		memcpy(want[i], frames[i], l);
		wl[i] = l;
		if ((i & 1) || same) {
			pk[i].hdr = &h;
			pk[i].flags = NF_PKT_F_HDR;
			pk[i].len = hlen + l;
			memcpy(want[i], hb, hlen);
			memcpy(want[i] + hlen, frames[i], l);
			wl[i] = hlen + l;
			if (lenoff != hlen) {
				want[i][18] = (uint8_t)((wl[i] - 54) >> 8);
				want[i][19] = (uint8_t)(wl[i] - 54);
			}
		}
	}
	if (nf_tx_burst_hdr(a, pk, (uint16_t)n, same ? &h : NULL) != n)
		return -1;
	return receive(b, want, wl, n);
}

/* nf_pkt_copy() of a @hl-byte header (110: an outer IPv6 header whose
 * payload length is set; 14: none, @lenoff = @hl) and 10 bytes into
 * exactly @room bytes (malloc'd: ASan sees a byte written past them): the
 * frame whole, its length field set, whether the header goes in whole
 * moves (room for NF_HDR_ROOM) or exactly (less). */
static bool pkt_copy_ok(uint32_t hl, uint32_t room)
{
	static uint8_t hb[NF_HDR_ROOM], pb[10];
	const struct nf_hdr h = { .p = hb, .len = (uint16_t)hl,
				  .lenoff = (uint16_t)(hl == 110 ? 18 : hl) };
	struct nf_pkt pk = { .data = pb, .len = hl + 10, .hdr = &h, .flags = NF_PKT_F_HDR };
	uint8_t *dst = malloc(room), want[120];
	bool good;

	fill(hb, sizeof(hb), 7);
	fill(pb, sizeof(pb), 8);
	memcpy(want, hb, hl);
	memcpy(want + hl, pb, 10);
	if (hl == 110) {
		want[18] = 0;
		want[19] = 120 - 54;
	}
	if (dst == NULL)
		return false;
	nf_pkt_copy(dst, room, &pk);
	good = memcmp(dst, want, hl + 10) == 0;
	free(dst);
	return good;
}

int main(void)
{
	struct nf_port_conf srv_conf = { .name = "srv", .default_server = 1 };
	struct nf_port_conf cli_conf = { .name = "cli" };
	struct nf_port *srv = NULL, *cli = NULL, *srv2 = NULL, *cli2 = NULL;
	struct nf_port *ps[4];
	struct nf_pkt pk[256];
	char spec[200];
	uint16_t k;
	int ret, i;

	snprintf(sock, sizeof(sock), "/tmp/nfchain-test-%d/mif.sock", getpid());
	ret = nf_io_init(NULL);
	NF_TEST("nf_io_init", ret == 0);
	NF_TEST("second nf_io_init is refused", nf_io_init(NULL) == -EALREADY);

	snprintf(spec, sizeof(spec), "memif:%s,id=0", sock);
	NF_TEST("server port opens", nf_port_open(spec, &srv_conf, &srv) == 0);
	snprintf(spec, sizeof(spec), "memif:%s,id=0,role=server", sock);
	ret = nf_port_open(spec, &srv_conf, &srv2);
	NF_TEST("same path and id twice is refused with -EADDRINUSE", ret == -EADDRINUSE);
	snprintf(spec, sizeof(spec), "memif:%s,id=0,role=client,rsize=9", sock);
	NF_TEST("client port opens", nf_port_open(spec, &cli_conf, &cli) == 0);
	ps[0] = srv;
	ps[1] = cli;
	NF_TEST("handshake completes, both ends up", wait_up(ps, 2, 2000));

	NF_TEST("client -> server: 60-byte frames exact",
		exchange(cli, srv, 60, 64) == 64);
	NF_TEST("server -> client: 1514-byte frames exact",
		exchange(srv, cli, 1514, 32) == 32);
	NF_TEST("client -> server: 9000-byte chained frames exact",
		exchange(cli, srv, 9000, 8) == 8);
	NF_TEST("server -> client: 9000-byte chained frames exact",
		exchange(srv, cli, 9000, 8) == 8);

	NF_TEST("header transmit: the server has it, the client not",
		nf_port_tx_hdr(srv) && !nf_port_tx_hdr(cli));
	NF_TEST("server -> client: header (110 bytes) + 46-byte packets exact, length set",
		exchange_hdr(srv, cli, 110, 46, 16, false) == 16);
	NF_TEST("server -> client: header (54 bytes) + 1500-byte packets exact",
		exchange_hdr(srv, cli, 54, 1500, 8, false) == 8);
	NF_TEST("server -> client: header (190 bytes) + 9000-byte chained packets exact",
		exchange_hdr(srv, cli, 190, 9000, 4, false) == 4);
	NF_TEST("one header for the burst (78 bytes, held in registers) + 46..61-byte packets, each length set",
		exchange_hdr(srv, cli, 78, 46, 16, true) == 16);
	NF_TEST("one header for the burst (128 bytes, the most it holds) + 1..16-byte packets",
		exchange_hdr(srv, cli, 128, 1, 16, true) == 16);
	NF_TEST("one header for the burst without a length field (14 bytes) + 60..75-byte packets",
		exchange_hdr(srv, cli, 14, 60, 16, true) == 16);
	NF_TEST("one header for the burst (190 bytes: read per packet) + 100..115-byte packets",
		exchange_hdr(srv, cli, 190, 100, 16, true) == 16);
	NF_TEST("one header for the burst (110 bytes) + 2000..2007-byte chained packets",
		exchange_hdr(srv, cli, 110, 2000, 8, true) == 8);
	NF_TEST("nf_pkt_copy: a header and its packet into exactly their 120 bytes",
		pkt_copy_ok(110, 120));
	NF_TEST("nf_pkt_copy: ... into NF_HDR_ROOM bytes (the header in whole moves)",
		pkt_copy_ok(110, NF_HDR_ROOM));
	NF_TEST("nf_pkt_copy: a header without a length field (lenoff = len) into 24 bytes",
		pkt_copy_ok(14, 24));
	NF_TEST("nf_pkt_copy: ... into NF_HDR_ROOM bytes (the field under the packet's bytes)",
		pkt_copy_ok(14, NF_HDR_ROOM));

	/* Ring of 512: a burst of 256 twice fills it, the third is dropped. */
	{
		static uint8_t f[64];
		uint64_t drops0 = nf_port_stats(srv)->drops[NF_DROP_TX_FULL];
		uint16_t s1, s2, s3;

		for (i = 0; i < 256; i++) {
			pk[i].data = f;
			pk[i].len = 60;
			pk[i].slot = NULL;
		}
		s1 = nf_tx_burst(srv, pk, 256);
		s2 = nf_tx_burst(srv, pk, 256);
		s3 = nf_tx_burst(srv, pk, 256);
		NF_TEST("full ring: 512 sent, the rest counted tx-ring-full",
			s1 == 256 && s2 == 256 && s3 == 0 &&
			nf_port_stats(srv)->drops[NF_DROP_TX_FULL] - drops0 == 256);
		for (i = 0; i < 4; i++)
			nf_rx_burst(cli, pk, 256);
		nf_rx_release(cli);
	}

	/* In-place build on the client, read on the server. */
	k = nf_tx_get(cli, pk, 16);
	NF_TEST("tx_get gives 16 buffers of the pool's size",
		k == 16 && pk[0].len == 2048);
	for (i = 0; i < k; i++) {
		fill(pk[i].data, 100, 1000 + (uint32_t)i);
		pk[i].len = 100;
	}
	nf_tx_put(cli, pk, k);
	k = nf_rx_burst(srv, pk, 64);
	{
		uint8_t ref[100];
		int good = 0;

		for (i = 0; i < k; i++) {
			fill(ref, 100, 1000 + (uint32_t)i);
			good += pk[i].len == 100 && memcmp(pk[i].data, ref, 100) == 0;
		}
		NF_TEST("tx_get/tx_put frames arrive exact", k == 16 && good == 16);
	}
	nf_rx_release(srv);

	/* A second pair, to swap buffers between two client ports. */
	snprintf(spec, sizeof(spec), "memif:%s,id=1", sock);
	NF_TEST("second server interface on the same socket",
		nf_port_open(spec, &srv_conf, &srv2) == 0);
	snprintf(spec, sizeof(spec), "memif:%s,id=1,role=client", sock);
	NF_TEST("second client", nf_port_open(spec, &cli_conf, &cli2) == 0);
	ps[2] = srv2;
	ps[3] = cli2;
	NF_TEST("second pair up", wait_up(ps, 4, 2000));
	{
		static uint8_t f[64][128];
		uint32_t bufs[64];
		int good = 0, swapped = 0;

		for (i = 0; i < 32; i++) {
			fill(f[i], 128, 500 + (uint32_t)i);
			pk[i].data = f[i];
			pk[i].len = 128;
			pk[i].slot = NULL;
		}
		nf_tx_burst(srv, pk, 32);		/* srv -> cli */
		k = nf_rx_burst(cli, pk, 64);
		for (i = 0; i < k; i++)
			bufs[i] = pk[i].buf;
		nf_tx_burst(cli2, pk, k);		/* cli -> cli2, by swap */
		for (i = 0; i < k; i++)
			swapped += pk[i].slot == NULL && pk[i].buf == bufs[i];
		nf_rx_release(cli);
		k = nf_rx_burst(srv2, pk, 64);
		for (i = 0; i < k; i++)
			good += pk[i].len == 128 && memcmp(pk[i].data, f[i], 128) == 0;
		NF_TEST("rx on one client, tx on another by buffer swap, exact",
			k == 32 && good == 32 && swapped == 32);
		nf_rx_release(srv2);
		NF_TEST("client -> server after swaps still exact",
			exchange(srv, cli, 300, 64) == 64 &&
			exchange(cli, srv, 300, 64) == 64);
	}

	/* Interrupt mode: armed port, peer sends, fd becomes readable. */
	{
		struct pollfd pfd = { .fd = nf_port_rx_fd(srv), .events = POLLIN };
		static uint8_t f[64];

		NF_TEST("server rx fd exists", pfd.fd >= 0);
		NF_TEST("intr enable on idle port returns 0", nf_rx_intr_enable(srv) == 0);
		NF_TEST("armed, idle: fd not readable", poll(&pfd, 1, 10) == 0);
		pk[0].data = f;
		pk[0].len = 60;
		pk[0].slot = NULL;
		nf_tx_burst(cli, pk, 1);
		NF_TEST("armed, peer sent: fd readable", poll(&pfd, 1, 1000) == 1);
		nf_rx_intr_disable(srv);
		NF_TEST("the packet is there", nf_rx_burst(srv, pk, 8) == 1);
		nf_rx_release(srv);
		NF_TEST("intr enable with nothing pending is 0 again",
			nf_rx_intr_enable(srv) == 0);
		nf_rx_intr_disable(srv);
	}

	/* Peer goes away and comes back. */
	nf_port_close(cli);
	cli = NULL;
	for (i = 0; i < 50 && nf_port_is_up(srv); i++) {
		nf_io_service();
		usleep(2000);
	}
	NF_TEST("server sees the client leave", !nf_port_is_up(srv) &&
		nf_port_stats(srv)->discs[NF_DISC_PEER_DISC] +
		nf_port_stats(srv)->discs[NF_DISC_PEER_CLOSED] == 1);
	snprintf(spec, sizeof(spec), "memif:%s,id=0,role=client", sock);
	NF_TEST("client reopens", nf_port_open(spec, &cli_conf, &cli) == 0);
	ps[0] = srv;
	ps[1] = cli;
	NF_TEST("reconnected", wait_up(ps, 2, 2000));
	NF_TEST("traffic after reconnect", exchange(cli, srv, 64, 16) == 16);
	NF_TEST("server counted two connects", nf_port_stats(srv)->connects == 2);

	/* Server restarts: the client reconnects by itself. */
	nf_port_close(srv);
	for (i = 0; i < 50 && nf_port_is_up(cli); i++) {
		nf_io_service();
		usleep(2000);
	}
	NF_TEST("client sees the server leave", !nf_port_is_up(cli));
	snprintf(spec, sizeof(spec), "memif:%s,id=0", sock);
	NF_TEST("server reopens", nf_port_open(spec, &srv_conf, &srv) == 0);
	ps[0] = srv;
	NF_TEST("client reconnects on its own within 3 s", wait_up(ps, 2, 3000));
	NF_TEST("traffic after server restart", exchange(srv, cli, 64, 16) == 16);

	/* Bad specs. */
	NF_TEST("unknown option refused",
		nf_port_open("memif:/tmp/x.sock,colour=red", NULL, &srv2) == -EINVAL &&
		strstr(nf_last_error(), "colour") != NULL);
	NF_TEST("rsize out of range refused",
		nf_port_open("memif:/tmp/x.sock,rsize=20", NULL, &srv2) == -EINVAL &&
		strstr(nf_last_error(), "rsize") != NULL);
	NF_TEST("unknown type refused",
		nf_port_open("vhost:/tmp/x", NULL, &srv2) == -EINVAL &&
		strstr(nf_last_error(), "unknown port type") != NULL);
	NF_TEST("spec without type refused",
		nf_port_open("/tmp/x.sock", NULL, &srv2) == -EINVAL);
	NF_TEST("role=master refused",
		nf_port_open("memif:/tmp/x.sock,role=master", NULL, &srv2) == -EINVAL &&
		strstr(nf_last_error(), "client or server") != NULL);

	nf_io_fini();
	snprintf(spec, sizeof(spec), "/tmp/nfchain-test-%d", getpid());
	rmdir(spec);
	return nf_test_report();
}
