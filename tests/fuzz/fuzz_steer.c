/* fuzz_steer.c - libFuzzer target: nfswitch's steering (src/nfswitch/
 * steer.c) on arbitrary steering files and frames, with and without its
 * flow cache.
 *
 * The input is a steering file (up to the first NUL, cut at 16 KiB, one
 * directive per line), control requests (up to the second NUL, one per
 * line, at most 32), then frames, each [port byte][length, 2 bytes
 * big-endian][bytes] (at most 256, each cut at 2048 bytes): the in-port is
 * the byte's low 3 bits; frames from one port make a burst of at most 8,
 * and bit 7 starts a new one. The switch has eight ports, p0..p7 (pcap
 * ports writing to /dev/null; nothing is sent).
 *
 * The file is built twice, with the flow cache and without
 * (sw.no_flow_cache): the same answer both times, a refusal -errno with a
 * sentence. Each frame is copied to end where a PROT_NONE page begins.
 * Each burst goes through the first generation as nfswitch's steer()
 * takes it: the flow cache (st_flow_hit()), then after a hit the flow's
 * next frame (st_flow_next()) and the rest of its run (st_flow_run()),
 * st_frame() for a frame the cache has no answer for; two-piece answers
 * made one (nf_pkt_flatten()) once the whole burst is done, as the
 * transmit reads them. The same frames go through the second generation
 * by st_frame() alone. Every frame: the same output (port, ST_OUT_L2,
 * drop, hold; the mirror port) and, unless dropped or held, the same
 * bytes, inside the frame or the scratch buffers. After the frames, the
 * same counters (rules, SIDs, group members, steering and SRv6 drops)
 * and track tables.
 * Then the requests go to st_ctl() (steer_ctl.c: rule-add, group-member-set,
 * sid-del, ...; not steer-load, which reads a file) on each generation in
 * turn, as the switch's control socket gives them (the generations they
 * build without a flow cache: time): 0, or -errno with a sentence
 * (-ENOENT may have none: not a steering request); after each, the
 * switch's steering lines build again from scratch. Both sides end with
 * the same lines (and group hash tables of the same history: each derives
 * from the one before). A steering change with traffic before it: what
 * the requests left (unless nothing) is built once more on each side, with
 * a flow cache as a load builds it and without, each carrying from its
 * side's generation, and the same frames go through both again: the same
 * answers, and counters and track tables. Then the file is built once
 * more with the cached side's generation as the old one (what carry()
 * takes from it), and everything
 * is freed. Any difference abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_steer tests/fuzz/corpus/steer
 *   seeds: python3 tests/fuzz/make_steer_corpus.py
 */
#include "fuzz.h"
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
#define CAP	(NF_FRAME_MAX + 512u)	/* fwd.c's scratch buffers */
#define PAGE	4096u

/* One generation's view of a burst. */
struct side {
	struct nf_pkt pk[BURST];
	int out[BURST], mir[BURST];
	uint8_t *tail[BURST];		/* frame areas' ends, a guard after */
	uint8_t scr[BURST][2][CAP];	/* st_frame()'s buffers (fwd.c's scratch) */
	uint8_t flat[BURST][CAP];
};

static struct sw sw;
static struct side side[2];		/* [0] with the flow cache */
static char text[MAXIN + 1], req[MAXIN + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned i, j;

	(void)argc;
	(void)argv;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < BURST; j++) {
			uint8_t *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			CHECK(a != MAP_FAILED && mprotect(a + PAGE, PAGE, PROT_NONE) == 0);
			side[i].tail[j] = a + PAGE;	/* FRMAX <= PAGE */
		}
	}
	CHECK(nf_io_init(&(struct nf_io_params){ .pool_bufs = 1024 }) == 0);
	for (i = 0; i < NPORT; i++) {
		char name[8];
		struct nf_port_conf conf = { .name = name };
		struct nf_port *p;

		snprintf(name, sizeof(name), "p%u", i);
		CHECK(nf_port_open("pcap:,/dev/null", &conf, &p) == 0);
		CHECK(nf_port_index(p) == i);
		sw.ports[i].p = p;
		sw.active[sw.nactive++] = (uint16_t)i;
	}
	return 0;
}

/* [@o, @o + @l) is inside buffer @b of @cap bytes. */
static bool inside(const uint8_t *o, uint32_t l, const uint8_t *b, uint32_t cap)
{
	return o >= b && o <= b + cap && l <= (uint32_t)(b + cap - o);
}

/* Frame @i of side @s through st_frame() of @g. */
static void slow(struct st_gen *g, struct side *s, unsigned i, uint16_t in)
{
	const uint8_t *d = s->pk[i].data, *const q = d;
	uint32_t l = s->pk[i].len;
	const uint32_t len = l;

	s->out[i] = st_frame(&sw, g, in, &d, &l, s->scr[i][0], s->scr[i][1], CAP, &s->mir[i]);
	CHECK((d == q && l <= len) || inside(d, l, s->scr[i][0], CAP) ||
	      inside(d, l, s->scr[i][1], CAP));
	s->pk[i].data = (uint8_t *)d;
	s->pk[i].len = l;
}

/* The burst of @n frames from @in in side @s through @g: as steer() with
 * @cached, else frame by frame through st_frame(). */
static void burst(struct st_gen *g, struct side *s, bool cached, uint16_t in, unsigned n)
{
	const uint32_t clock = ++g->bursts;
	unsigned i = 0, k;

	while (i < n) {
		struct st_flow *last = NULL;
		bool hdr = false;
		int o = -1;

		s->mir[i] = -1;
		if (cached && g->flow != NULL)
			o = st_flow_hit(g->flow, clock, g->wide, &last, &hdr, in, &s->pk[i]);
		if (o < 0) {
			slow(g, s, i++, in);
			continue;
		}
		CHECK(last != NULL);
		k = i + 1;
		if (k < n && st_flow_next(last, &hdr, &s->pk[k]))
			k++;
		if (k < n)
			k = st_flow_run(last, s->pk, (uint16_t)k, (uint16_t)n);
		for (; i < k; i++) {
			s->out[i] = o;
			s->mir[i] = -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (s->pk[i].flags & NF_PKT_F_HDR) {
			CHECK(s->pk[i].len <= NF_FRAME_MAX);
			nf_pkt_flatten(&s->pk[i], s->flat[i]);
		}
	}
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
static struct st_gen *requests(struct st_gen *g, const char *text, bool check)
{
	static char r[MAXIN + 1];
	unsigned n = 0;
	char *line, *save = NULL;

	strcpy(r, text);
	sw.steer = g;
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
		ret = st_ctl(&sw, argc, argv, reply);
		CHECK(ret <= 0 && ret >= -4095);
		if (ret < 0 && ret != -ENOENT)
			CHECK(nf_last_error()[0] != '\0');
		json_object_put(reply);
		if (check && sw.steer != NULL) {
			CHECK(st_build(&sw, sw.steer->lines, sw.steer->nlines, NULL, &chk) == 0);
			st_free(chk);
		}
	}
	g = sw.steer;
	sw.steer = NULL;
	return g;
}

/* The frames of @data from byte @k through @gc as steer() takes them and
 * through @gn by st_frame() alone, a burst at a time (frames from one
 * port): the same answers, bytes and counters. */
static void frames(struct st_gen *gc, struct st_gen *gn, const uint8_t *data, size_t size,
		   size_t k)
{
	unsigned nfr = 0, i, j;

	while (gc->active && nfr < MAXFR && k + 3 <= size) {
		const uint16_t in = data[k] % NPORT;

		for (j = 0; j < BURST && nfr < MAXFR && k + 3 <= size; j++, nfr++) {
			uint32_t len = (uint32_t)data[k + 1] << 8 | data[k + 2];

			if (j > 0 && (data[k] % NPORT != in || (data[k] & 0x80)))
				break;
			k += 3;
			if (len > size - k)
				len = (uint32_t)(size - k);
			if (len > FRMAX)
				len = FRMAX;
			for (i = 0; i < 2; i++) {
				memcpy(side[i].tail[j] - len, data + k, len);
				side[i].pk[j] = (struct nf_pkt){ .data = side[i].tail[j] - len,
								 .len = len, .buf = NF_BUF_NONE,
								 .port = in };
			}
			k += len;
		}
		burst(gc, &side[0], true, in, j);
		burst(gn, &side[1], false, in, j);
		for (i = 0; i < j; i++) {
			const struct nf_pkt *a = &side[0].pk[i], *b = &side[1].pk[i];
			const int o = side[0].out[i];

			CHECK(o == side[1].out[i] && side[0].mir[i] == side[1].mir[i]);
			CHECK(o == (int)ST_OUT_L2 || o == (int)ST_OUT_DROP ||
			      o == (int)ST_OUT_HOLD || (unsigned)o < NPORT);
			if (o != (int)ST_OUT_DROP && o != (int)ST_OUT_HOLD)
				CHECK(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
		}
	}
	same_counters(gc, gn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tl = nul != NULL ? (size_t)(nul - data) : size, k;
	struct st_gen *gc = NULL, *gn = NULL, *g3 = NULL, *gc2 = NULL, *gn2 = NULL;
	char *lines[MAXL], *s;
	unsigned n = 0;
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

	sw.no_flow_cache = false;
	nf_set_error("%s", "");
	rc = st_build(&sw, lines, n, NULL, &gc);
	if (rc < 0)
		CHECK(rc >= -4095 && nf_last_error()[0] != '\0');
	sw.no_flow_cache = true;
	rn = st_build(&sw, lines, n, NULL, &gn);
	CHECK(rn == rc);
	if (rc < 0)
		return 0;
	CHECK(gn->flow == NULL && gc->active == gn->active);

	/* the requests, kept for later; the frames, a burst at a time
	 * (frames from one port) */
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
	sw.no_flow_cache = true;	/* (the time of a run: 2 MB a generation) */
	gn = requests(gn, req, false);	/* the same lines: checked once */
	gc = requests(gc, req, true);
	CHECK((gc == NULL) == (gn == NULL));
	if (gc != NULL) {
		/* a steering change with traffic before it: what the requests
		 * left, built with a flow cache as a load builds it (carried
		 * from the generation before) and without (carried from the
		 * other side's): the same frames again, the same answers */
		sw.no_flow_cache = false;
		CHECK(st_build(&sw, gc->lines, gc->nlines, gc, &gc2) == 0);
		sw.no_flow_cache = true;
		CHECK(st_build(&sw, gn->lines, gn->nlines, gn, &gn2) == 0);
		frames(gc2, gn2, data, size, k);
		st_free(gc);
		st_free(gn);
		gc = gc2;
		gn = gn2;
	}
	CHECK(st_build(&sw, lines, n, gc, &g3) == 0);
	st_free(gc);
	st_free(gn);
	st_free(g3);
	return 0;
}
