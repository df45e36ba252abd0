/* fuzz_steer.c - libFuzzer target: nfswitch's forwarding and steering
 * (src/nfswitch/fwd.c, steer.c, steer_ctl.c, hold.c) on arbitrary steering
 * files, control requests and frames, with and without the flow cache.
 *
 * The input is a steering file (up to the first NUL, cut at 16 KiB, one
 * directive per line), control requests (up to the second NUL, one per
 * line, at most 32), then frames, each [port byte][length, 2 bytes
 * big-endian][bytes] (at most 256, each cut at 2048 bytes; shorter than 14
 * bytes: left out, as a port drops them): the in-port is the byte's low 3
 * bits; frames from one port make a burst of at most 8, and bit 7 starts
 * a new one.
 *
 * Two switches (struct sw, as nfswitch's main.c sets one up) share eight
 * ports p0..p7 whose fast path is the harness's: receive hands over the
 * switch's burst, transmit logs each frame as the port would write it
 * (even ports take two-piece frames, nf_tx_burst_hdr(); odd ones get them
 * made one by fwd.c; p7 takes at most 3 frames a call, a full ring).
 * The file is built for each: with the flow cache (and the rule cache)
 * and without (sw.no_flow_cache, --flow-cache off): the same answer both
 * times, a refusal -errno with a sentence. Each
 * burst (each frame copied to end where a PROT_NONE page begins, one copy
 * per switch) goes through sw_forward() of both, and a hold queue's
 * release when a group holds frames: every port must get the same frames,
 * byte for byte, in the same order. After the frames: the same counters
 * (rules, SIDs, group members, steering and SRv6 drops, mirrors, floods,
 * the ports' switch drops), track tables and hold queues.
 *
 * Then the requests go to st_ctl() (steer_ctl.c: rule-add,
 * group-member-set, sid-del, ...; not steer-load, which reads a file) on
 * each switch in turn, as its control socket gives them (the generations
 * they build without a flow cache: time): 0, or -errno with a sentence
 * (-ENOENT may have none: not a steering request); after each, the
 * steering lines build again from scratch. Both end with the same lines
 * (and group hash tables of the same history: each derives from the one
 * before). A steering change with traffic before it: what the requests
 * left (unless nothing) is built once more on each, with the caches as a
 * load builds it and without, each carrying from its own generation, and
 * the same frames go through both again. Then the file is built once more
 * with the cached switch's generation as the old one (what carry() takes
 * from it), and everything is freed. Any difference abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_steer tests/fuzz/corpus/steer
 *   seeds: python3 tests/fuzz/make_steer_corpus.py
 */
#include "fuzz.h"
#include "hold.h"
#include "steer.h"
#include "sw.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAXIN	(16u * 1024)
#define MAXL	256u		/* lines */
#define MAXREQ	32u		/* control requests */
#define MAXW	NF_CTL_WORDS	/* words of a request (nf_ctl refuses more) */
#define NPORT	8u
#define MAXFR	256u		/* frames */
#define BURST	8u
#define FRMAX	2048u		/* bytes of a frame */
#define PAGE	4096u

/* Each side is a switch over the eight ports (see the top), its burst and
 * what each port was sent. */
#define LOGMAX	(64u * 1024)
struct portlog {
	uint32_t n;
	bool full;			/* a frame did not fit: the rest not kept */
	uint8_t b[LOGMAX];
};

struct side {
	struct sw sw;
	struct nf_pkt pk[BURST];	/* the burst */
	uint16_t n;
	uint8_t *tail[BURST];		/* frame areas' ends, a guard after */
	struct portlog log[NPORT];
};

static struct side side[2];		/* [0] with the flow cache */
static struct side *cur;		/* the one whose switch runs */
static uint16_t cur_in;			/* its burst's port */
static char text[MAXIN + 1], req[MAXIN + 1];

/* main.c's, which cap.c calls when a capture's sink goes: no port goes
 * here. */
int sw_port_del(struct sw *sw, const char *name)
{
	(void)sw;
	(void)name;
	abort();
}

static uint16_t h_rx(struct nf_port *p, struct nf_pkt *pk, uint16_t n)
{
	const uint16_t k = cur->n < n ? cur->n : n;

	if (nf_port_index(p) != cur_in)
		return 0;
	memcpy(pk, cur->pk, k * sizeof(*pk));
	cur->n = 0;
	return k;
}

static void h_release(struct nf_port *p)
{
	(void)p;
}

/* Each frame, written as the port would (nf_pkt_copy()), with its
 * length. Port 7's ring takes at most 3 frames a call (a full ring: what
 * the switch does with the rest). */
static uint16_t h_tx(struct nf_port *p, struct nf_pkt *pk, uint16_t n)
{
	struct portlog *l = &cur->log[nf_port_index(p)];
	uint16_t i;

	if (nf_port_index(p) == NPORT - 1 && n > 3)
		n = 3;
	for (i = 0; i < n; i++) {
		const uint32_t len = pk[i].len;

		CHECK(len >= 1 && len <= NF_FRAME_MAX);
		CHECK(!(pk[i].flags & NF_PKT_F_HDR) || nf_port_tx_hdr(p));
		if (l->full || LOGMAX - l->n < 4 + len + NF_HDR_ROOM) {
			l->full = true;
			continue;
		}
		memcpy(l->b + l->n, &len, 4);
		nf_pkt_copy(l->b + l->n + 4, LOGMAX - l->n - 4, &pk[i]);
		l->n += 4 + len;
	}
	return n;
}

/* nf_tx_burst_hdr(): the same, and a header said to be every frame's
 * (@same) is */
static uint16_t h_tx_hdr(struct nf_port *p, struct nf_pkt *pk, uint16_t n,
			 const struct nf_hdr *same)
{
	uint16_t i;

	for (i = 0; same != NULL && i < n; i++)
		CHECK((pk[i].flags & NF_PKT_F_HDR) && pk[i].hdr == same);
	return h_tx(p, pk, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned i, j;

	(void)argc;
	(void)argv;
	CHECK(nf_io_init(&(struct nf_io_params){ .pool_bufs = 1024 }) == 0);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < BURST; j++) {
			uint8_t *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			CHECK(a != MAP_FAILED && mprotect(a + PAGE, PAGE, PROT_NONE) == 0);
			side[i].tail[j] = a + PAGE;	/* FRMAX <= PAGE */
		}
		side[i].sw.burst = NF_BURST_MAX;
		side[i].sw.notify_fd = -1;
		/* the SIDs' ICMPv6 errors: never limited, so both send alike */
		side[i].sw.icmp_rate = side[i].sw.icmp_burst = 1000000000;
		CHECK(nf_fdb_init(&side[i].sw.fdb, 1024, 300) == 0);
	}
	for (i = 0; i < NPORT; i++) {
		char name[8];
		struct nf_port_conf conf = { .name = name };
		struct nf_port *p;
		struct nf_port_fp *fp;

		snprintf(name, sizeof(name), "p%u", i);
		CHECK(nf_port_open("pcap:,/dev/null", &conf, &p) == 0);
		CHECK(nf_port_index(p) == i);
		fp = (struct nf_port_fp *)(void *)p;
		fp->rx_burst = h_rx;
		fp->rx_release = h_release;
		fp->tx_burst = h_tx;
		fp->tx_burst_hdr = i % 2 == 0 ? h_tx_hdr : NULL;
		for (j = 0; j < 2; j++) {
			side[j].sw.ports[i].p = p;
			side[j].sw.active[side[j].sw.nactive++] = (uint16_t)i;
		}
	}
	return 0;
}

static void same_count(const struct st_count *a, const struct st_count *b)
{
	CHECK(a->packets == b->packets && a->bytes == b->bytes);
}

static void same_counters(struct st_gen *a, struct st_gen *b)
{
	unsigned i, j;

	st_flow_flush(a);
	CHECK(a->nrules == b->nrules && a->nsids == b->nsids && a->ngroups == b->ngroups);
	for (i = 0; i < a->nrules; i++)
		same_count(a->rule[i].count, b->rule[i].count);
	for (i = 0; i < a->nsids; i++)
		same_count(a->sid[i].count, b->sid[i].count);
	for (i = 0; i < a->ngroups; i++) {
		const struct st_track *ta = a->group[i].track, *tb = b->group[i].track;

		for (j = 0; j < a->group[i].n; j++)
			same_count(&a->group[i].mcount[j], &b->group[i].mcount[j]);
		const struct st_hold *ha = a->group[i].hold, *hb = b->group[i].hold;

		CHECK((ha == NULL) == (hb == NULL));
		if (ha != NULL) {	/* the same frames held, in order */
			CHECK(ha->n == hb->n && ha->held == hb->held && ha->released == hb->released &&
			      ha->full == hb->full && ha->big == hb->big);
			for (j = 0; j < ha->n; j++)
				CHECK(ha->len[(ha->head + j) % ha->cap] == hb->len[(hb->head + j) % hb->cap] &&
				      memcmp(st_hold_slot(ha, j), st_hold_slot(hb, j),
					     ha->len[(ha->head + j) % ha->cap]) == 0);
		}
		CHECK((ta == NULL) == (tb == NULL));
		if (ta != NULL) {	/* the flows' buckets, whatever answered */
			same_count(&ta->kept, &tb->kept);
			CHECK(memcmp(ta->hash, tb->hash, sizeof(ta->hash)) == 0 &&
			      memcmp(ta->member, tb->member, sizeof(ta->member)) == 0);
		}
	}
	CHECK(memcmp(a->drops, b->drops, sizeof(a->drops)) == 0);
	CHECK(memcmp(a->srv6_drops, b->srv6_drops, sizeof(a->srv6_drops)) == 0);
}

/* The control requests of @r (one per line) through st_ctl() on the
 * switch's generation @g (then freed): what they leave (NULL: nothing).
 * @check: after each, the lines build again from scratch. */
static struct st_gen *requests(struct sw *sw, struct st_gen *g, const char *text, bool check)
{
	static char r[MAXIN + 1];
	unsigned n = 0;
	char *line, *save = NULL;

	strcpy(r, text);
	sw->steer = g;
	for (line = strtok_r(r, "\n", &save); line != NULL && n < MAXREQ;
	     line = strtok_r(NULL, "\n", &save), n++) {
		char *argv[MAXW + 1], *w, *ws = NULL;
		struct json_object *reply;
		struct st_gen *chk = NULL;
		int argc = 0, ret;

		for (w = strtok_r(line, " \t", &ws); w != NULL && argc <= (int)MAXW;
		     w = strtok_r(NULL, " \t", &ws))
			argv[argc++] = w;
		if (argc == 0 || argc > (int)MAXW || strcmp(argv[0], "steer-load") == 0)
			continue;
		reply = json_object_new_object();
		CHECK(reply != NULL);
		nf_set_error("%s", "");
		ret = st_ctl(sw, argc, argv, reply);
		CHECK(ret <= 0 && ret >= -4095);
		if (ret < 0 && ret != -ENOENT)
			CHECK(nf_last_error()[0] != '\0');
		json_object_put(reply);
		if (check && sw->steer != NULL) {
			CHECK(st_build(sw, sw->steer->lines, sw->steer->nlines, NULL, &chk) == 0);
			st_free(chk);
		}
	}
	g = sw->steer;
	sw->steer = NULL;
	return g;
}

/* Side @s's switch takes its burst from port @in (sw_forward(): the
 * steering, MAC learning, the transmit), then releases what its groups
 * hold if one has a member. */
static void run(struct side *s, uint16_t in)
{
	cur = s;
	cur_in = in;
	sw_forward(&s->sw, &s->sw.ports[in]);
	if (s->sw.steer->holding)
		sw_hold_release(&s->sw);
	cur = NULL;
}

/* The frames of @data from byte @k, a burst at a time (frames from one
 * port), through the switch of side 0 steering by @gc and that of side 1
 * by @gn: each port gets the same frames, and the counters end the same. */
static void frames(struct st_gen *gc, struct st_gen *gn, const uint8_t *data, size_t size,
		   size_t k)
{
	unsigned nfr = 0, i, j, p;

	side[0].sw.steer = gc;
	side[1].sw.steer = gn;
	for (i = 0; i < 2; i++)
		for (p = 0; p < NPORT; p++)
			nf_fdb_flush(&side[i].sw.fdb, (uint16_t)p, true);
	while (nfr < MAXFR && k + 3 <= size) {
		const uint16_t in = data[k] % NPORT;

		for (j = 0; j < BURST && nfr < MAXFR && k + 3 <= size; nfr++) {
			uint32_t len = (uint32_t)data[k + 1] << 8 | data[k + 2];

			if (j > 0 && (data[k] % NPORT != in || (data[k] & 0x80)))
				break;
			k += 3;
			if (len > size - k)
				len = (uint32_t)(size - k);
			if (len > FRMAX)
				len = FRMAX;
			k += len;
			if (len < NF_FRAME_MIN)
				continue;	/* a runt: the port drops it */
			for (i = 0; i < 2; i++) {
				memcpy(side[i].tail[j] - len, data + k - len, len);
				side[i].pk[j] = (struct nf_pkt){ .data = side[i].tail[j] - len,
								 .len = len, .buf = NF_BUF_NONE,
								 .port = in };
			}
			j++;
		}
		for (i = 0; i < 2; i++) {
			side[i].n = (uint16_t)j;
			run(&side[i], in);
		}
		for (p = 0; p < NPORT; p++) {
			const struct portlog *a = &side[0].log[p], *b = &side[1].log[p];

			CHECK(a->n == b->n && a->full == b->full && memcmp(a->b, b->b, a->n) == 0);
			side[0].log[p].n = side[1].log[p].n = 0;
			side[0].log[p].full = side[1].log[p].full = false;
		}
	}
	same_counters(gc, gn);
	CHECK(side[0].sw.mirrored == side[1].sw.mirrored &&
	      side[0].sw.icmp_sent == side[1].sw.icmp_sent && side[0].sw.icmp_limited == 0);
	for (p = 0; p < NPORT; p++)
		CHECK(side[0].sw.ports[p].flooded == side[1].sw.ports[p].flooded &&
		      memcmp(side[0].sw.ports[p].drops, side[1].sw.ports[p].drops,
			     sizeof(side[0].sw.ports[p].drops)) == 0);
	side[0].sw.steer = side[1].sw.steer = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tl = nul != NULL ? (size_t)(nul - data) : size, k;
	struct st_gen *gc = NULL, *gn = NULL, *g3 = NULL, *gc2 = NULL, *gn2 = NULL;
	char *lines[MAXL], *s;
	struct sw *const sc = &side[0].sw, *const sn = &side[1].sw;
	unsigned n = 0, i;
	int rc, rn;

	if (tl > MAXIN)
		tl = MAXIN;
	memcpy(text, data, tl);
	text[tl] = '\0';
	for (s = text; n < MAXL && *s != '\0';) {
		char *e = strchr(s, '\n');

		lines[n++] = s;
		if (e == NULL)
			break;
		*e = '\0';
		s = e + 1;
	}

	sc->no_flow_cache = false;
	sn->no_flow_cache = true;
	nf_set_error("%s", "");
	rc = st_build(sc, lines, n, NULL, &gc);
	if (rc < 0)
		CHECK(rc >= -4095 && nf_last_error()[0] != '\0');
	rn = st_build(sn, lines, n, NULL, &gn);
	CHECK(rn == rc);
	if (rc < 0)
		return 0;
	CHECK(gn->flow == NULL && gc->active == gn->active);

	/* the requests, kept for later; then the frames */
	k = nul != NULL ? tl + 1 : size;
	nul = memchr(data + k, 0, size - k);
	tl = (nul != NULL ? (size_t)(nul - data) : size) - k;
	if (tl > MAXIN)
		tl = MAXIN;
	memcpy(req, data + k, tl);
	req[tl] = '\0';
	k = nul != NULL ? (size_t)(nul - data) + 1 : size;
	frames(gc, gn, data, size, k);

	/* the requests on both generations: their groups' hash tables
	 * derive from the ones before (consistent hashing has a history) */
	sc->no_flow_cache = true;	/* (the time of a run: 2 MB a generation) */
	gn = requests(sn, gn, req, false);	/* the same lines: checked once */
	gc = requests(sc, gc, req, true);
	CHECK((gc == NULL) == (gn == NULL));
	for (i = 0; gc != NULL && i < NF_MAX(gc->nlines, gn->nlines); i++)
		CHECK(gc->nlines == gn->nlines && strcmp(gc->lines[i], gn->lines[i]) == 0);
	if (gc != NULL) {
		/* a steering change with traffic before it: what the requests
		 * left, built with a flow cache as a load builds it (carried
		 * from the generation before) and without (carried from the
		 * other side's): the same frames again, the same answers */
		sc->no_flow_cache = false;
		CHECK(st_build(sc, gc->lines, gc->nlines, gc, &gc2) == 0);
		CHECK(st_build(sn, gn->lines, gn->nlines, gn, &gn2) == 0);
		frames(gc2, gn2, data, size, k);
		st_free(gc);
		st_free(gn);
		gc = gc2;
		gn = gn2;
	}
	sc->no_flow_cache = true;
	CHECK(st_build(sc, lines, n, gc, &g3) == 0);
	st_free(gc);
	st_free(gn);
	st_free(g3);
	return 0;
}
