/* test_pcap.c - pcap ports: frames written through one port come back
 * byte for byte through another; tshark agrees the file is valid; the
 * tick flushes; truncated and runt records; bad specs refused with a
 * sentence naming the file; a frame read from pcap is sent on a memif
 * client port by buffer swap; the pool gets every buffer back. */
#include "harness.h"
#include "nf_io.h"
#include "nf_port_impl.h"	/* nf_io_pool(): buffer accounting */
#include "nf_util.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

static void path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void fill(uint8_t *b, uint32_t len, uint32_t seed)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static long file_size(const char *f)
{
	struct stat st;

	return stat(f, &st) == 0 ? (long)st.st_size : -1;
}

/* Lines of `tshark -r FILE -T fields -e FIELD` into out[]; returns the
 * count, or -1 when tshark failed. */
static int tshark_fields(const char *file, const char *fields, char out[][64],
			 int max)
{
	char cmd[512], line[256];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields %s 2>/dev/null",
		 file, fields);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (n < max)
			nf_strlcpy(out[n], line, 64);
		n++;
	}
	return pclose(f) == 0 ? n : -1;
}

/* A capture file written with libpcap itself: @caplen[i] of @len[i]. */
static int write_raw(const char *file, int dlt, const uint32_t *len,
		     const uint32_t *caplen, int n)
{
	static uint8_t frame[NF_FRAME_MAX];
	struct pcap_pkthdr h;
	pcap_dumper_t *d;
	pcap_t *dead;
	int i;

	dead = pcap_open_dead(dlt, 65535);
	if (dead == NULL)
		return -1;
	d = pcap_dump_open(dead, file);
	if (d == NULL) {
		pcap_close(dead);
		return -1;
	}
	for (i = 0; i < n; i++) {
		fill(frame, caplen[i], 900 + (uint32_t)i);
		memset(&h, 0, sizeof(h));
		h.len = len[i];
		h.caplen = caplen[i];
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
}

static const uint32_t sizes[] = { 60, 1514, 9000, 60, 1514, 9000 };
#define NSIZES 6
static uint8_t ref[64][NF_FRAME_MAX];

/* Write @n frames of ref[] (lengths @len) through a new "pcap:,FILE" port. */
static int write_frames(const char *file, const uint32_t *len, int n)
{
	struct nf_pkt pk[64];
	struct nf_port *w;
	char spec[256];
	int i, ret;

	snprintf(spec, sizeof(spec), "pcap:,%s", file);
	if (nf_port_open(spec, NULL, &w) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		pk[i].data = ref[i];
		pk[i].len = len[i];
		pk[i].slot = NULL;
		pk[i].buf = NF_BUF_NONE;
	}
	ret = nf_tx_burst(w, pk, (uint16_t)n);
	nf_port_close(w);
	return ret;
}

int main(void)
{
	struct nf_pkt pk[256];
	struct nf_port *w = NULL, *r = NULL, *x = NULL;
	char fa[200], fb[200], fc[200], fraw[200], ftr[200], fs[200], spec[512];
	char fields[64][64];
	uint32_t lens[64];
	uint32_t pool_free0;
	uint16_t k;
	int ret, i, n;

	snprintf(dir, sizeof(dir), "/tmp/nfchain-test-pcap-%d", getpid());
	mkdir(dir, 0700);
	path(fa, sizeof(fa), "a.pcap");
	path(fb, sizeof(fb), "b.pcap");
	path(fc, sizeof(fc), "c.pcap");
	path(fraw, sizeof(fraw), "raw.pcap");
	path(ftr, sizeof(ftr), "trunc.pcap");
	path(fs, sizeof(fs), "snap.pcap");

	NF_TEST("nf_io_init", nf_io_init(NULL) == 0);
	pool_free0 = nf_io_pool()->nfree;

	/* 1. Write: burst of 60/1514/9000, two built in place, one too big. */
	snprintf(spec, sizeof(spec), "pcap:,%s", fa);
	ret = nf_port_open(spec, NULL, &w);
	NF_TEST("output-only port opens", ret == 0);
	if (ret != 0)
		goto out;
	NF_TEST("output-only port is up at once", nf_port_is_up(w));
	NF_TEST("output-only port: rx gives nothing, at end, no descriptor",
		nf_rx_burst(w, pk, 8) == 0 && nf_port_rx_eof(w) &&
		nf_rx_intr_enable(w) == 0 && nf_port_rx_fd(w) == -1);
	for (i = 0; i < NSIZES; i++) {
		fill(ref[i], sizes[i], (uint32_t)i);
		lens[i] = sizes[i];
		pk[i].data = ref[i];
		pk[i].len = sizes[i];
		pk[i].slot = NULL;
		pk[i].buf = NF_BUF_NONE;
	}
	NF_TEST("tx_burst writes 60, 1514 and 9000-byte frames",
		nf_tx_burst(w, pk, NSIZES) == NSIZES);
	k = nf_tx_get(w, pk, 2);
	NF_TEST("tx_get gives 2 buffers of NF_FRAME_MAX bytes",
		k == 2 && pk[0].len == NF_FRAME_MAX && pk[1].len == NF_FRAME_MAX &&
		pk[0].data != pk[1].data);
	for (i = 0; i < k; i++) {
		lens[NSIZES + i] = 100 + 100 * (uint32_t)i;
		fill(ref[NSIZES + i], lens[NSIZES + i], (uint32_t)(NSIZES + i));
		memcpy(pk[i].data, ref[NSIZES + i], lens[NSIZES + i]);
		pk[i].len = lens[NSIZES + i];
	}
	nf_tx_put(w, pk, k);
	n = NSIZES + k;
	{
		static uint8_t huge[NF_FRAME_MAX + 100];

		pk[0].data = huge;
		pk[0].len = sizeof(huge);
		pk[0].slot = NULL;
		NF_TEST("a frame over NF_FRAME_MAX is refused as tx-too-big",
			nf_tx_burst(w, pk, 1) == 0 &&
			nf_port_stats(w)->drops[NF_DROP_TX_TOO_BIG] == 1);
	}
	NF_TEST("tx counters: 8 frames",
		nf_port_stats(w)->tx_pkts == (uint64_t)n);
	{
		uint64_t end = nf_now_ns() + 400000000ull;

		while (file_size(fa) <= 24 && nf_now_ns() < end) {
			nf_io_service();
			usleep(5000);
		}
		NF_TEST("the tick flushes the output within 400 ms",
			file_size(fa) > 24);
	}
	{
		char d[256];

		nf_port_describe(w, d, sizeof(d));
		NF_TEST("describe names the output file", strstr(d, fa) != NULL);
	}
	nf_port_close(w);
	w = NULL;

	ret = tshark_fields(fa, "-e frame.len", fields, 64);
	{
		int good = 0;

		for (i = 0; i < n && i < ret; i++)
			good += (uint32_t)atoi(fields[i]) == lens[i];
		NF_TEST("tshark reads the file: 8 frames, lengths match",
			ret == n && good == n);
	}

	/* 2. Read back, byte for byte. */
	snprintf(spec, sizeof(spec), "pcap:%s", fa);
	ret = nf_port_open(spec, NULL, &r);
	NF_TEST("input port opens", ret == 0);
	if (ret != 0)
		goto out;
	NF_TEST("input port: up, no descriptor, input waiting",
		nf_port_is_up(r) && nf_port_rx_fd(r) == -1 &&
		nf_rx_intr_enable(r) == 1 && !nf_port_rx_eof(r));
	k = nf_rx_burst(r, pk, 256);
	{
		int good = 0, pooled = 0, priv = 0;

		for (i = 0; i < k && i < n; i++) {
			good += pk[i].len == lens[i] &&
				memcmp(pk[i].data, ref[i], lens[i]) == 0 &&
				pk[i].port == nf_port_index(r);
			if (lens[i] <= nf_io_pool()->buf_size)
				pooled += pk[i].buf != NF_BUF_NONE &&
					  pk[i].slot != NULL &&
					  *pk[i].slot == pk[i].buf;
			else
				priv += pk[i].buf == NF_BUF_NONE &&
					pk[i].slot == NULL;
		}
		NF_TEST("all 8 frames read back exact", k == n && good == n);
		NF_TEST("frames up to the pool buffer size are swappable, "
			"9000-byte ones private", pooled == 6 && priv == 2);
	}
	NF_TEST("next burst: 0 and end of file",
		nf_rx_burst(r, pk, 256) == 0 && nf_port_rx_eof(r) &&
		nf_rx_intr_enable(r) == 0);
	NF_TEST("rx counters: 8 frames, no drops",
		nf_port_stats(r)->rx_pkts == (uint64_t)n &&
		nf_port_stats(r)->drops[NF_DROP_RX_ERR] == 0);
	nf_port_close(r);
	r = NULL;

	/* 3. 40 jumbo frames: more than the private buffers of one burst. */
	for (i = 0; i < 40; i++) {
		lens[i] = 9000 - (uint32_t)i;
		fill(ref[i], lens[i], 200 + (uint32_t)i);
	}
	NF_TEST("40 jumbo frames written", write_frames(fb, lens, 40) == 40);
	snprintf(spec, sizeof(spec), "pcap:%s", fb);
	NF_TEST("jumbo input opens", nf_port_open(spec, NULL, &r) == 0);
	{
		int got = 0, good = 0, bursts = 0;

		while (r != NULL && bursts < 10 && (k = nf_rx_burst(r, pk, 256)) > 0) {
			for (i = 0; i < k && got < 40; i++, got++)
				good += pk[i].len == lens[got] &&
					memcmp(pk[i].data, ref[got], lens[got]) == 0;
			bursts++;
		}
		NF_TEST("40 jumbo frames come back exact over several bursts",
			got == 40 && good == 40 && bursts >= 2);
	}
	nf_port_close(r);
	r = NULL;

	/* 4. IN and OUT on one port: copy a.pcap to c.pcap. */
	for (i = 0; i < NSIZES; i++) {
		fill(ref[i], sizes[i], (uint32_t)i);
		lens[i] = sizes[i];
	}
	NF_TEST("rewrite a.pcap", write_frames(fa, lens, NSIZES) == NSIZES);
	snprintf(spec, sizeof(spec), "pcap:%s,%s", fa, fc);
	ret = nf_port_open(spec, NULL, &x);
	NF_TEST("pcap:IN,OUT opens", ret == 0);
	if (ret == 0) {
		k = nf_rx_burst(x, pk, 256);
		NF_TEST("pcap:IN,OUT: read 6, wrote 6",
			k == NSIZES && nf_tx_burst(x, pk, k) == NSIZES);
		nf_port_close(x);
		x = NULL;
		snprintf(spec, sizeof(spec), "pcap:%s", fc);
		NF_TEST("copy opens", nf_port_open(spec, NULL, &r) == 0);
		k = r ? nf_rx_burst(r, pk, 256) : 0;
		{
			int good = 0;

			for (i = 0; i < k && i < NSIZES; i++)
				good += pk[i].len == lens[i] &&
					memcmp(pk[i].data, ref[i], lens[i]) == 0;
			NF_TEST("the copy is exact", k == NSIZES && good == NSIZES);
		}
		nf_port_close(r);
		r = NULL;
	}

	/* 5. Truncated and runt records; the snaplen option. */
	{
		const uint32_t len[3] = { 1514, 200, 60 };
		const uint32_t cap[3] = { 100, 10, 60 };

		NF_TEST("libpcap writes a file with truncated records",
			write_raw(ftr, DLT_EN10MB, len, cap, 3) == 0);
		snprintf(spec, sizeof(spec), "pcap:%s", ftr);
		NF_TEST("truncated file opens", nf_port_open(spec, NULL, &r) == 0);
		k = r ? nf_rx_burst(r, pk, 256) : 0;
		NF_TEST("a truncated record is delivered with its captured "
			"bytes and counted as rx-error; a 10-byte one is a runt",
			r && k == 2 && pk[0].len == 100 && pk[1].len == 60 &&
			nf_port_stats(r)->drops[NF_DROP_RX_ERR] == 1 &&
			nf_port_stats(r)->drops[NF_DROP_RX_RUNT] == 1 &&
			nf_port_stats(r)->rx_pkts == 2);
		nf_port_close(r);
		r = NULL;
	}
	snprintf(spec, sizeof(spec), "pcap:,%s,snaplen=64", fs);
	ret = nf_port_open(spec, NULL, &w);
	NF_TEST("snaplen=64 accepted", ret == 0);
	if (ret == 0) {
		fill(ref[0], 1514, 5);
		pk[0].data = ref[0];
		pk[0].len = 1514;
		pk[0].slot = NULL;
		nf_tx_burst(w, pk, 1);
		nf_port_close(w);
		w = NULL;
		ret = tshark_fields(fs, "-e frame.len -e frame.cap_len", fields, 4);
		NF_TEST("snaplen=64: tshark sees length 1514, 64 captured",
			ret == 1 && strcmp(fields[0], "1514\t64") == 0);
	}

	/* A full disk: the output stops, frames count as tx-link-down, the
	 * tick takes the port down and describe says why. */
	ret = nf_port_open("pcap:,/dev/full", NULL, &w);
	NF_TEST("pcap:,/dev/full opens (the header is still buffered)", ret == 0);
	if (ret == 0) {
		uint64_t down0;
		int r2;

		fill(ref[0], 1514, 9);
		for (i = 0; i < 32; i++) {
			pk[i].data = ref[0];
			pk[i].len = 1514;
			pk[i].slot = NULL;
		}
		/* 64 KiB: more than the stdio buffer, so a write fails. */
		for (r2 = 0; r2 < 2; r2++)
			nf_tx_burst(w, pk, 32);
		down0 = nf_port_stats(w)->drops[NF_DROP_TX_DOWN];
		NF_TEST("after a failed write, frames count as tx-link-down",
			nf_tx_burst(w, pk, 32) == 0 &&
			nf_port_stats(w)->drops[NF_DROP_TX_DOWN] - down0 == 32 &&
			nf_tx_get(w, pk, 4) == 0);
		{
			uint64_t end = nf_now_ns() + 500000000ull;
			char d[512];

			while (nf_port_is_up(w) && nf_now_ns() < end) {
				nf_io_service();
				usleep(5000);
			}
			nf_port_describe(w, d, sizeof(d));
			NF_TEST("the tick takes it down; describe says why",
				!nf_port_is_up(w) &&
				strstr(d, "No space left on device") != NULL);
		}
		nf_port_close(w);
		w = NULL;
	}

	/* 6. Bad specs. */
	ret = nf_port_open("pcap:", NULL, &x);
	NF_TEST("pcap: with no file is refused with a sentence",
		ret == -EINVAL && strstr(nf_last_error(), "input file") != NULL);
	ret = nf_port_open("pcap:,", NULL, &x);
	NF_TEST("pcap:, with no file is refused", ret == -EINVAL);
	ret = nf_port_open("pcap:a,b,c", NULL, &x);
	NF_TEST("three files are refused", ret == -EINVAL);
	path(spec + 5, sizeof(spec) - 5, "missing.pcap");
	memcpy(spec, "pcap:", 5);
	ret = nf_port_open(spec, NULL, &x);
	NF_TEST("missing input: -ENOENT, sentence names the file",
		ret == -ENOENT && strstr(nf_last_error(), "missing.pcap") != NULL &&
		strstr(nf_last_error(), "cannot open pcap file") != NULL);
	{
		const uint32_t len[1] = { 40 };

		NF_TEST("libpcap writes a DLT_RAW file",
			write_raw(fraw, DLT_RAW, len, len, 1) == 0);
	}
	snprintf(spec, sizeof(spec), "pcap:%s", fraw);
	ret = nf_port_open(spec, NULL, &x);
	NF_TEST("non-Ethernet input: -EINVAL, sentence names the file",
		ret == -EINVAL && strstr(nf_last_error(), fraw) != NULL &&
		strstr(nf_last_error(), "not Ethernet") != NULL);
	{
		char junk[200];
		FILE *f;

		path(junk, sizeof(junk), "junk.pcap");
		f = fopen(junk, "w");
		if (f != NULL) {
			fputs("this is not a capture file, not at all\n", f);
			fclose(f);
		}
		snprintf(spec, sizeof(spec), "pcap:%s", junk);
		ret = nf_port_open(spec, NULL, &x);
		NF_TEST("a file that is not pcap: -EINVAL naming it",
			ret == -EINVAL && strstr(nf_last_error(), junk) != NULL);
		unlink(junk);
	}
	ret = nf_port_open("pcap:,/nonexistent-nfchain-dir/o.pcap", NULL, &x);
	NF_TEST("output in a missing directory: -ENOENT naming it",
		ret == -ENOENT &&
		strstr(nf_last_error(), "/nonexistent-nfchain-dir/o.pcap") != NULL);
	{
		long before = file_size(fa);

		snprintf(spec, sizeof(spec), "pcap:%s,%s", fa, fa);
		ret = nf_port_open(spec, NULL, &x);
		NF_TEST("the same file as input and output is refused, "
			"input untouched",
			ret == -EINVAL && strstr(nf_last_error(), "same file") &&
			file_size(fa) == before);
	}
	snprintf(spec, sizeof(spec), "pcap:,%s,colour=red", fc);
	ret = nf_port_open(spec, NULL, &x);
	NF_TEST("unknown option refused, named",
		ret == -EINVAL && strstr(nf_last_error(), "colour") != NULL);
	snprintf(spec, sizeof(spec), "pcap:,%s,snaplen=10", fc);
	ret = nf_port_open(spec, NULL, &x);
	NF_TEST("snaplen out of range refused, named with its range",
		ret == -EINVAL && strstr(nf_last_error(), "snaplen") != NULL);
	NF_TEST("failed opens gave every pool buffer back",
		nf_io_pool()->nfree == pool_free0);

	/* 7. Swap: pcap -> memif client (by buffer swap) -> memif server. */
	{
		struct nf_port_conf srv_conf = { .name = "srv", .default_server = 1 };
		struct nf_port *srv = NULL, *cli = NULL;
		char sock[200];
		uint32_t first[32];
		uint64_t end;
		int round, good_all = 1, swapped_all = 1, moved = 0;

		for (i = 0; i < 64; i++) {
			lens[i] = 60 + (uint32_t)(i * 23) % 1455;
			fill(ref[i], lens[i], 700 + (uint32_t)i);
		}
		NF_TEST("64 frames written for the swap",
			write_frames(fb, lens, 64) == 64);
		path(sock, sizeof(sock), "mif.sock");
		snprintf(spec, sizeof(spec), "memif:%s,id=0", sock);
		NF_TEST("memif server opens", nf_port_open(spec, &srv_conf, &srv) == 0);
		snprintf(spec, sizeof(spec), "memif:%s,id=0,role=client", sock);
		NF_TEST("memif client opens", nf_port_open(spec, NULL, &cli) == 0);
		end = nf_now_ns() + 2000000000ull;
		while (srv && cli && !(nf_port_is_up(srv) && nf_port_is_up(cli)) &&
		       nf_now_ns() < end) {
			nf_io_service();
			usleep(1000);
		}
		NF_TEST("memif pair up", srv && cli && nf_port_is_up(srv) &&
			nf_port_is_up(cli));
		snprintf(spec, sizeof(spec), "pcap:%s", fb);
		NF_TEST("pcap input opens", nf_port_open(spec, NULL, &r) == 0);
		for (round = 0; r && srv && cli && round < 2; round++) {
			uint16_t sent, got;

			k = nf_rx_burst(r, pk, 32);
			if (k != 32) {
				good_all = 0;
				break;
			}
			for (i = 0; i < k; i++) {
				if (round == 0)
					first[i] = pk[i].buf;
				else
					moved += pk[i].buf != first[i];
				if (pk[i].slot == NULL || pk[i].buf == NF_BUF_NONE)
					swapped_all = 0;
			}
			sent = nf_tx_burst(cli, pk, k);
			for (i = 0; i < k; i++)
				if (pk[i].slot != NULL)
					swapped_all = 0;
			nf_rx_release(r);
			got = nf_rx_burst(srv, pk, 64);
			for (i = 0; i < got; i++) {
				int j = round * 32 + i;

				if (pk[i].len != lens[j] ||
				    memcmp(pk[i].data, ref[j], lens[j]) != 0)
					good_all = 0;
			}
			if (sent != 32 || got != 32)
				good_all = 0;
			nf_rx_release(srv);
		}
		NF_TEST("pcap frames sent on a memif client by swap: slot "
			"consumed (NULL after tx)", swapped_all && round == 2);
		NF_TEST("swapped frames arrive exact on the server, two rounds",
			good_all && round == 2);
		NF_TEST("the second round was read into the buffers swapped in",
			moved == 32);
		NF_TEST("pcap input at end after 64",
			r && nf_rx_burst(r, pk, 8) == 0 && nf_port_rx_eof(r));
		nf_port_close(r);
		r = NULL;
		nf_port_close(cli);
		nf_port_close(srv);
		unlink(sock);
	}
	NF_TEST("every pool buffer is back after closing",
		nf_io_pool()->nfree == pool_free0);

out:
	nf_port_close(w);
	nf_port_close(r);
	nf_io_fini();
	unlink(fa);
	unlink(fb);
	unlink(fc);
	unlink(fraw);
	unlink(ftr);
	unlink(fs);
	rmdir(dir);
	return nf_test_report();
}
