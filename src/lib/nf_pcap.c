/* nf_pcap.c - pcap ports: frames read from a capture file, frames appended
 * to another (libpcap, pcap or pcapng input, pcap output).
 *
 *   pcap:IN            read IN
 *   pcap:,OUT          write OUT (truncated first)
 *   pcap:IN,OUT        both
 *   [,snaplen=N]       bytes of each transmitted frame written (65535)
 *
 * Receive: each record is copied once into a buffer of the process pool.
 * The port holds NF_BURST_MAX pool buffers, one per burst position, in
 * @slot; pkts[i].slot points at slot[i], so a frame read here can be sent
 * on a memif client port by buffer swap: the transmit writes its own free
 * buffer into slot[i], which we fill on a later burst. A frame longer than
 * a pool buffer goes into one of PC_BIG private buffers (not swappable);
 * when those run out the burst ends and the record waits for the next one.
 * A record shorter on file than on the wire (caplen < len) is delivered
 * with its captured bytes and counted under rx-error ("truncated" in
 * describe); shorter than 14 bytes it is a runt, longer than NF_FRAME_MAX
 * it is rx-too-big, both dropped. A read error ends the input: counted as
 * rx-error, kept for describe, and the port reports end of file.
 *
 * Transmit: pcap_dump() per frame (stdio buffered), one timestamp per
 * burst (the wall clock), pcap_dump_flush() from the tick (about every
 * 100 ms) and at close. tx_get/tx_put hand out private buffers of
 * NF_FRAME_MAX bytes. A port without OUT drops what it is given as
 * tx-link-down; so does a port whose OUT failed (a full disk: the stream's
 * error flag, checked once per burst), which the next tick takes down.
 * Nothing bounds the size of OUT: a sender without a frame count fills
 * the disk.
 *
 * The port is up from open; it has no descriptor (rx_fd -1: always
 * ready), and intr_enable says 1 while input remains.
 *
 * Cost per frame (read from the code, not measured): receive is libpcap's
 * read (a copy out of the stdio buffer) plus our copy into the pool
 * buffer; transmit is pcap_dump's two fwrites into the stdio buffer. This port is for tests, replays and captures,
 * not line rate.
 */
#define _GNU_SOURCE
#include "nf_port_impl.h"
#include "nf_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#define PC_BIG		32		/* private buffers for long frames */
#define PC_BIG_SIZE	(NF_FRAME_MAX + 64)
#define PC_TX_BUFS	NF_BURST_MAX

struct pc_cfg {
	uint64_t snaplen;
};

struct pc_port {
	struct pc_cfg cfg;
	char in_path[NF_SPEC_LEN];
	char out_path[NF_SPEC_LEN];

	/* Input. */
	pcap_t *in;
	bool have_slots;
	bool eof;
	bool pending;			/* @ph/@pd read, not yet delivered */
	struct pcap_pkthdr ph;
	const uint8_t *pd;
	uint8_t *big;			/* PC_BIG x PC_BIG_SIZE */
	uint64_t truncated;
	char read_err[PCAP_ERRBUF_SIZE];
	uint32_t slot[NF_BURST_MAX];	/* pool buffer of each burst position */

	/* Output. */
	pcap_t *dead;
	pcap_dumper_t *out;
	bool dirty;
	int write_err;			/* errno of a failed write, then down */
	uint8_t *txbuf;			/* PC_TX_BUFS x PC_BIG_SIZE */
	uint16_t tx_resv;
};

static const struct nf_opt pc_opts[] = {
	{ "snaplen", NF_OPT_U64, 64, 262144, NULL,
	  offsetof(struct pc_cfg, snaplen),
	  "bytes of each transmitted frame written to OUT (65535)" },
};

static inline struct pc_port *PC(struct nf_port *p)
{
	return nf_port_priv(p);
}

/* Next record into @m->ph/@m->pd. Returns true, or false at the end of the
 * input (sets @eof). */
static bool next_record(struct nf_port *p, struct pc_port *m)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;

	if (m->pending)
		return true;
	if (m->eof)
		return false;
	r = pcap_next_ex(m->in, &h, &d);
	if (nf_likely(r == 1)) {
		m->ph = *h;
		m->pd = d;
		m->pending = true;
		return true;
	}
	if (r == PCAP_ERROR) {
		/* A damaged file: stop here, say so. */
		p->st.drops[NF_DROP_RX_ERR]++;
		nf_strlcpy(m->read_err, pcap_geterr(m->in), sizeof(m->read_err));
	}
	m->eof = true;
	return false;
}

static uint16_t pc_rx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct pc_port *m = PC(p);
	const struct nf_pool *pl = nf_io_pool();
	uint32_t bsize = pl->buf_size;
	uint16_t i = 0, idx = p->fp.index;
	unsigned nbig = 0;
	uint64_t bytes = 0;

	if (m->in == NULL)
		return 0;
	while (i < n && next_record(p, m)) {
		uint32_t len = m->ph.caplen;
		uint8_t *b;

		if (nf_unlikely(len < NF_FRAME_MIN || len > NF_FRAME_MAX)) {
			p->st.drops[len < NF_FRAME_MIN ? NF_DROP_RX_RUNT :
				    NF_DROP_RX_TOO_BIG]++;
			m->pending = false;
			continue;
		}
		if (nf_likely(len <= bsize)) {
			b = nf_pool_addr(pl, m->slot[i]);
			pkts[i].buf = m->slot[i];
			pkts[i].slot = &m->slot[i];
		} else {
			if (nbig == PC_BIG)
				break;	/* the record waits for the next burst */
			b = m->big + (size_t)nbig++ * PC_BIG_SIZE;
			pkts[i].buf = NF_BUF_NONE;
			pkts[i].slot = NULL;
		}
		memcpy(b, m->pd, len);
		m->pending = false;
		if (nf_unlikely(m->ph.len > len)) {
			m->truncated++;
			p->st.drops[NF_DROP_RX_ERR]++;
		}
		pkts[i].data = b;
		pkts[i].len = len;
		pkts[i].port = idx;
		pkts[i].flags = 0;
		bytes += len;
		i++;
	}
	p->st.rx_pkts += i;
	p->st.rx_bytes += bytes;
	return i;
}

static void pc_rx_release(struct nf_port *p)
{
	(void)p;	/* buffers stay in their slots until the next burst */
}

static void dump(struct pc_port *m, const struct timeval *tv,
		 const uint8_t *data, uint32_t len)
{
	struct pcap_pkthdr h;

	h.ts = *tv;
	h.len = len;
	h.caplen = NF_MIN(len, (uint32_t)m->cfg.snaplen);
	pcap_dump((u_char *)m->out, &h, data);
}

static void now_tv(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* The output failed (a full disk): stop writing, keep the reason. */
static void write_failed(struct pc_port *m)
{
	if (m->write_err == 0)
		m->write_err = errno ? errno : EIO;
}

static uint16_t pc_tx_burst(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct pc_port *m = PC(p);
	struct timeval tv;
	uint16_t i, sent = 0;
	uint64_t bytes = 0;

	if (nf_unlikely(m->out == NULL || m->write_err)) {
		/* Nowhere to write, or the file stopped taking frames. */
		p->st.drops[NF_DROP_TX_DOWN] += n;
		return 0;
	}
	now_tv(&tv);
	for (i = 0; i < n; i++) {
		if (nf_unlikely(pkts[i].len > NF_FRAME_MAX)) {
			p->st.drops[NF_DROP_TX_TOO_BIG]++;
			continue;
		}
		dump(m, &tv, pkts[i].data, pkts[i].len);
		bytes += pkts[i].len;
		sent++;
	}
	m->dirty |= sent > 0;
	/* stdio keeps the error: no system call to notice a full disk. */
	if (nf_unlikely(ferror(pcap_dump_file(m->out))))
		write_failed(m);
	p->st.tx_pkts += sent;
	p->st.tx_bytes += bytes;
	return sent;
}

static uint16_t pc_tx_get(struct nf_port *p, struct nf_pkt *pkts, uint16_t n)
{
	struct pc_port *m = PC(p);
	uint16_t i;

	m->tx_resv = 0;
	if (m->out == NULL || m->write_err)
		return 0;
	if (n > PC_TX_BUFS)
		n = PC_TX_BUFS;
	for (i = 0; i < n; i++) {
		pkts[i].data = m->txbuf + (size_t)i * PC_BIG_SIZE;
		pkts[i].len = NF_FRAME_MAX;
		pkts[i].buf = NF_BUF_NONE;
		pkts[i].slot = NULL;
		pkts[i].port = p->fp.index;
		pkts[i].flags = 0;
	}
	m->tx_resv = n;
	return n;
}

static void pc_tx_put(struct nf_port *p, struct nf_pkt *pkts, uint16_t k)
{
	struct pc_port *m = PC(p);

	if (k > m->tx_resv)
		k = m->tx_resv;
	m->tx_resv = 0;
	if (k > 0)
		pc_tx_burst(p, pkts, k);
}

/* @eof: the input is exhausted, or there is none. */
static bool pc_rx_eof(const struct nf_port *p)
{
	const struct pc_port *m = nf_port_cpriv(p);

	return m->eof;
}

static int pc_intr_enable(struct nf_port *p)
{
	return pc_rx_eof(p) ? 0 : 1;
}

static void flush(struct pc_port *m)
{
	if (m->out == NULL || !m->dirty || m->write_err)
		return;
	if (pcap_dump_flush(m->out) < 0)
		write_failed(m);
	m->dirty = false;
}

static void pc_tick(struct nf_port *p, uint64_t now)
{
	struct pc_port *m = PC(p);

	(void)now;
	flush(m);
	/* A failed output takes the port down (from here: link changes
	 * are reported from nf_io_service()). */
	if (m->write_err && p->up)
		nf_port_set_up(p, false);
}

static void pc_describe(const struct nf_port *p, char *buf, size_t n)
{
	const struct pc_port *m = nf_port_cpriv(p);

	snprintf(buf, n, "in=\"%s\"%s out=\"%s\"%s%s%s truncated=%" PRIu64
		 "%s%s%s",
		 m->in_path, m->in == NULL ? "" : m->eof ? " (at end)" : "",
		 m->out_path, m->write_err ? " (write failed: " : "",
		 m->write_err ? strerror(m->write_err) : "",
		 m->write_err ? ")" : "", m->truncated, m->read_err[0] ? " read_error=\"" : "",
		 m->read_err, m->read_err[0] ? "\"" : "");
}

static void pc_close(struct nf_port *p)
{
	struct pc_port *m = PC(p);

	if (m->out != NULL) {
		flush(m);
		pcap_dump_close(m->out);
		m->out = NULL;
	}
	if (m->dead != NULL)
		pcap_close(m->dead);
	m->dead = NULL;
	if (m->in != NULL)
		pcap_close(m->in);
	m->in = NULL;
	if (m->have_slots)
		nf_pool_put(nf_io_pool(), m->slot, NF_BURST_MAX);
	m->have_slots = false;
	free(m->big);
	m->big = NULL;
	free(m->txbuf);
	m->txbuf = NULL;
}

static int open_in(struct nf_port *p)
{
	struct pc_port *m = PC(p);
	char err[PCAP_ERRBUF_SIZE];
	struct nf_pool *pl = nf_io_pool();
	int dlt, e;
	FILE *f;

	/* fopen ourselves: its errno says -ENOENT or -EACCES exactly. */
	f = fopen(m->in_path, "rb");
	if (f == NULL) {
		e = errno;
		nf_set_error("cannot open pcap file '%s': %s", m->in_path,
			     strerror(e));
		return -e;
	}
	err[0] = '\0';
	m->in = pcap_fopen_offline(f, err);
	if (m->in == NULL) {
		fclose(f);
		nf_set_error("cannot read pcap file '%s': %s", m->in_path, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(m->in);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		nf_set_error("pcap file '%s' has link type %s (%d), not "
			     "Ethernet (EN10MB)", m->in_path,
			     name ? name : "unknown", dlt);
		return -EINVAL;
	}
	m->big = malloc((size_t)PC_BIG * PC_BIG_SIZE);
	if (m->big == NULL)
		return -ENOMEM;
	if (nf_pool_get(pl, m->slot, NF_BURST_MAX) < 0) {
		nf_set_error("buffer pool exhausted: a pcap input needs %u "
			     "buffers, %u are free", NF_BURST_MAX, pl->nfree);
		return -ENOBUFS;
	}
	m->have_slots = true;
	return 0;
}

static int open_out(struct nf_port *p)
{
	struct pc_port *m = PC(p);
	struct stat so, si;
	int e;
	FILE *f;

	/* Writing truncates: never the file we are reading. */
	if (m->in != NULL && stat(m->out_path, &so) == 0 &&
	    fstat(fileno(pcap_file(m->in)), &si) == 0 &&
	    so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
		nf_set_error("pcap input and output are the same file '%s'",
			     m->out_path);
		return -EINVAL;
	}
	m->txbuf = malloc((size_t)PC_TX_BUFS * PC_BIG_SIZE);
	if (m->txbuf == NULL)
		return -ENOMEM;
	m->dead = pcap_open_dead(DLT_EN10MB, (int)m->cfg.snaplen);
	if (m->dead == NULL)
		return -ENOMEM;
	f = fopen(m->out_path, "wb");
	if (f == NULL) {
		e = errno;
		nf_set_error("cannot create pcap file '%s': %s", m->out_path,
			     strerror(e));
		return -e;
	}
	/* On failure libpcap closes @f itself (it failed writing the
	 * header to it). */
	m->out = pcap_dump_fopen(m->dead, f);
	if (m->out == NULL) {
		nf_set_error("cannot write pcap file '%s': %s", m->out_path,
			     pcap_geterr(m->dead));
		return -EIO;
	}
	return 0;
}

/* What a pcap spec can be checked for without opening anything. */
static int pc_parse(const struct nf_spec *sp, struct pc_cfg *cfg,
		    const char **in, const char **out)
{
	cfg->snaplen = 65535;
	*in = sp->npos >= 1 ? sp->pos[0] : "";
	*out = sp->npos >= 2 ? sp->pos[1] : "";
	if (sp->npos > 2 || (**in == '\0' && **out == '\0')) {
		nf_set_error("pcap port needs an input file, an output file or "
			     "both (pcap:IN, pcap:,OUT or pcap:IN,OUT)");
		return -EINVAL;
	}
	return nf_spec_apply(sp, pc_opts, NF_ARRAY_SIZE(pc_opts), cfg);
}

static int pc_check(const struct nf_spec *sp)
{
	struct pc_cfg cfg;
	const char *in, *out;
	int ret = pc_parse(sp, &cfg, &in, &out);

	if (ret == 0 && *in != '\0' && access(in, R_OK) < 0) {
		nf_set_error("cannot open pcap file '%s': %s", in, strerror(errno));
		return -errno;
	}
	return ret;
}

static int pc_open(struct nf_port *p, const struct nf_spec *sp, int def_server)
{
	struct pc_port *m = PC(p);
	const char *in, *out;
	int ret;

	(void)def_server;
	ret = pc_parse(sp, &m->cfg, &in, &out);
	if (ret < 0)
		return ret;
	nf_strlcpy(m->in_path, in, sizeof(m->in_path));
	nf_strlcpy(m->out_path, out, sizeof(m->out_path));
	if (*in != '\0' && (ret = open_in(p)) < 0)
		goto fail;
	if (*out != '\0' && (ret = open_out(p)) < 0)
		goto fail;
	m->eof = m->in == NULL;
	nf_port_set_up(p, true);
	return 0;
fail:
	pc_close(p);
	return ret;
}

const struct nf_port_ops nf_pcap_ops = {
	.type = "pcap",
	.priv_size = sizeof(struct pc_port),
	.check = pc_check,
	.open = pc_open,
	.close = pc_close,
	.rx_burst = pc_rx_burst,
	.rx_release = pc_rx_release,
	.tx_burst = pc_tx_burst,
	.tx_get = pc_tx_get,
	.tx_put = pc_tx_put,
	.intr_enable = pc_intr_enable,
	.intr_disable = NULL,
	.tick = pc_tick,
	.describe = pc_describe,
	.rx_eof = pc_rx_eof,
};
