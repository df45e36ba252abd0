/* capture.c - nfchain capture: the frames passing switch ports, into a
 * pcap file, without stopping traffic.
 *
 * The tool adds a memif server port to nfswitch (`port-add`, named
 * _cap.PID, on its own socket beside the switch's control socket),
 * connects to it as the client (nf_io), and asks the switch to copy each
 * target port's frames there (`capture-start PORT SINK [rx|tx] [snaplen N]
 * [filter EXPR]`, nfswitch's cap.c: the switch runs the BPF filter).
 * Each frame arrives behind a struct nf_cap_hdr (nf_proto.h) carrying its
 * length and the time the switch handled its burst; the tool writes it as
 * a pcap record (nanosecond timestamps). At the end (COUNT frames,
 * SECONDS, SIGINT or SIGTERM) it stops the captures, writes what is still
 * in the ring, removes the port and prints the counters. Killed (-9), it
 * leaves nothing: the switch sees the client leave and closes the port.
 */
#define _GNU_SOURCE
#include "capture.h"
#include "nf_ctl.h"
#include "nf_io.h"
#include "nf_proto.h"
#include "nf_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_DEF_CTL	"/run/nfchain/nfswitch.ctl"
#define CAP_TARGETS_MAX	64
#define CAP_RSIZE	11	/* 2048 slots: 40 ms at 50k frames/s */
#define CAP_SNAP_MAX	65535u

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: nfchain capture [--ctl PATH | --name NAME [--run-dir DIR]] [-f FILTER]\n"
"                       [-c COUNT] [-d SECONDS] [-s SNAPLEN] [--rx|--tx]\n"
"                       [--pcapng] -w FILE|- TARGET...\n"
"\n"
"Copy the frames passing nfswitch ports into a pcap file, without stopping\n"
"or slowing their traffic: the switch copies each frame of the captured\n"
"ports that matches FILTER into a port of this program's own (when this\n"
"program cannot keep up, the switch drops the copies, never the traffic,\n"
"and counts them). The file opens in tshark and Wireshark.\n"
"\n"
"TARGET (several: one file, frames in the order the switch handled them):\n"
"  a switch port's name or index (nfchain switch ports), a VNF replica\n"
"  (fw.0: its ports fw.0.PORT), or a VNF type (fw: every replica's ports)\n"
"\n"
"      --ctl PATH      the switch's control socket (default\n"
"                      " CAP_DEF_CTL ")\n"
"      --name NAME     the switch of deployment NAME (nfchain up):\n"
"                      DIR/NAME/switch.ctl\n"
"      --run-dir DIR   where deployments live (default $NFCHAIN_RUN_DIR, else\n"
"                      /run/nfchain)\n"
"  -f, --filter EXPR   only frames matching EXPR, a libpcap filter (pcap-filter(7),\n"
"                      as tcpdump takes: 'udp port 53', 'ip6 and not icmp6'),\n"
"                      run in the switch\n"
"  -c, --count N       stop after N frames (1..2^63)\n"
"  -d, --duration S    stop after S seconds (1..86400)\n"
"  -s, --snaplen N     keep the first N bytes of each frame, 1..65535 (default\n"
"                      65535: whole frames); the record keeps the real length\n"
"      --rx            only frames the switch receives from the ports (sent by\n"
"                      the VNF or host behind them)\n"
"      --tx            only frames the switch sends to the ports\n"
"                      (default: both)\n"
"  -w, --write FILE    the pcap file (nanosecond timestamps: when the switch\n"
"                      handled the frame's burst); - : standard output\n"
"                      (nfchain capture ... -w - | tshark -r -)\n"
"      --pcapng        write pcapng instead: one interface per captured port\n"
"                      (its name), each frame's direction (inbound: the\n"
"                      switch received it on the port; outbound: sent to it)\n"
"  -h, --help          this text\n"
"\n"
"Stops at COUNT frames, after SECONDS, or on SIGINT/SIGTERM, and then\n"
"always removes its captures and its port from the switch; prints on stderr\n"
"the frames written, those the switch captured, dropped (this program's\n"
"ring was full) and filtered out. Exit status: 0 done, 1 failed (one\n"
"sentence on stderr), 2 usage error.\n");
}

static int usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "nfchain capture: %s%s%s (see nfchain capture --help)\n", msg,
		arg ? " " : "", arg ? arg : "");
	return 2;
}

/* One request to the switch at @ctl: the reply when "ok", else NULL with
 * the switch's sentence (or why it did not answer) in @err. */
static struct json_object *sw_req(const char *ctl, const char *line, char *err, size_t errlen)
{
	struct json_object *r, *ok;
	char *out = NULL;
	int ret = nf_ctl_request(ctl, line, 5000, &out);

	if (ret < 0) {
		snprintf(err, errlen, "cannot reach nfswitch at %s: %s", ctl,
			 ret == -ETIMEDOUT ? "no answer within 5 s" : strerror(-ret));
		return NULL;
	}
	r = json_tokener_parse(out);
	free(out);
	if (r == NULL) {
		snprintf(err, errlen, "unreadable reply from nfswitch at %s", ctl);
		return NULL;
	}
	if (!json_object_object_get_ex(r, "ok", &ok) || !json_object_get_boolean(ok)) {
		struct json_object *e;

		snprintf(err, errlen, "%s", json_object_object_get_ex(r, "error", &e) ?
			 json_object_get_string(e) : "refused");
		json_object_put(r);
		return NULL;
	}
	return r;
}

static const char *port_name(struct json_object *p)
{
	struct json_object *v;

	return json_object_object_get_ex(p, "name", &v) ? json_object_get_string(v) : "";
}

/* The switch ports TARGET names, in index order, appended to @out (names
 * copied): an exact name or index, else the ports named TARGET.*
 * (a replica's, a VNF type's). Ports whose names start with '_' (the
 * orchestrator's, other captures') only by exact name. */
static int resolve(struct json_object *ports, const char *target, char (*out)[128],
		   unsigned *n)
{
	size_t i, np = json_object_array_length(ports), tl = strlen(target);
	unsigned found = 0;

	for (i = 0; i < np; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *ix;
		const char *nm = port_name(p);
		char idx[16];

		snprintf(idx, sizeof(idx), "%d", json_object_object_get_ex(p, "index", &ix) ?
			 json_object_get_int(ix) : -1);
		if (strcmp(nm, target) != 0 && strcmp(idx, target) != 0 &&
		    (strncmp(nm, target, tl) != 0 || nm[tl] != '.' || nm[0] == '_'))
			continue;
		if (*n == CAP_TARGETS_MAX) {
			fprintf(stderr, "nfchain capture: more than %d ports to capture\n",
				CAP_TARGETS_MAX);
			return -E2BIG;
		}
		snprintf(out[(*n)++], 128, "%s", nm);
		found++;
	}
	if (found == 0) {
		fprintf(stderr, "nfchain capture: no port, VNF replica or VNF type '%s' on the "
			"switch (nfchain switch ports lists its ports)\n", target);
		return -ENOENT;
	}
	return 0;
}

/* Ports _cap.PID whose PID is gone: a capture killed in the moment
 * between adding its port and starting its captures (afterwards the
 * switch removes the port itself when the client leaves). Removed. */
static void remove_stale(const char *ctl, struct json_object *ports)
{
	size_t i, np = json_object_array_length(ports);

	for (i = 0; i < np; i++) {
		const char *nm = port_name(json_object_array_get_idx(ports, i));
		struct json_object *r;
		char line[256], err[256];
		uint64_t pid;

		if (strncmp(nm, "_cap.", 5) != 0 || nf_parse_u64(nm + 5, 1, INT32_MAX, 0, &pid) < 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(line, sizeof(line), "port-del %s", nm);
		r = sw_req(ctl, line, err, sizeof(err));
		json_object_put(r);
	}
}

struct cap_run {
	const char *ctl;
	char sink[64];		/* the port's name on the switch */
	char sock[108];		/* a UNIX socket path */
	bool sink_added;
	struct nf_port *port;
	pcap_t *dead;
	pcap_dumper_t *dump;
	uint64_t written, count;
	bool to_stdout;
	FILE *ng;		/* --pcapng: the file (else libpcap's dumper) */
	uint32_t ids[CAP_TARGETS_MAX];	/* capture id of each target: its interface */
};

/* pcapng (draft-ietf-opsawg-pcapng), host byte order: a block is its type,
 * its length, the body (padded to 4 bytes), options, the length again. */
static void ng_opt(uint8_t *b, size_t *n, uint16_t code, const void *v, uint16_t len)
{
	memcpy(b + *n, &code, 2);
	memcpy(b + *n + 2, &len, 2);
	if (len != 0)
		memcpy(b + *n + 4, v, len);
	memset(b + *n + 4 + len, 0, (4 - len % 4) % 4);
	*n += 4 + ((len + 3u) & ~3u);
}

static void ng_block(FILE *f, uint32_t type, const uint8_t *body, size_t n)
{
	uint32_t len = (uint32_t)n + 12;

	fwrite(&type, 4, 1, f);
	fwrite(&len, 4, 1, f);
	fwrite(body, 1, n, f);
	fwrite(&len, 4, 1, f);
}

/* The section header, then one interface per target (its port's name,
 * nanosecond timestamps). */
static void ng_start(FILE *f, char (*names)[128], unsigned n, uint32_t snaplen)
{
	static const uint8_t shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t b[256];
	const uint8_t res = 9;
	unsigned i;

	ng_block(f, 0x0a0d0d0a, shb, sizeof(shb));
	for (i = 0; i < n; i++) {
		size_t k = 8;
		uint16_t lt = 1, zero = 0;

		memcpy(b, &lt, 2);			/* LINKTYPE_ETHERNET */
		memcpy(b + 2, &zero, 2);
		memcpy(b + 4, &snaplen, 4);
		ng_opt(b, &k, 2, names[i], (uint16_t)strlen(names[i]));	/* if_name */
		ng_opt(b, &k, 9, &res, 1);		/* if_tsresol: 10^-9 s */
		ng_opt(b, &k, 0, NULL, 0);		/* opt_endofopt */
		ng_block(f, 1, b, k);
	}
}

/* One enhanced packet block: the frame on the interface of its capture,
 * its direction (inbound: received by the switch on the port). */
static void ng_packet(struct cap_run *r, unsigned nids, const struct nf_cap_hdr *h,
		      const uint8_t *data, uint32_t caplen)
{
	static uint8_t b[28 + NF_FRAME_MAX + 64];
	uint32_t hd[5], flags = h->dir == NF_CAP_RX ? 1 : 2, ifc = 0;
	size_t k;

	while (ifc + 1 < nids && r->ids[ifc] != h->id)
		ifc++;
	hd[0] = ifc;
	hd[1] = (uint32_t)(h->t_ns >> 32);
	hd[2] = (uint32_t)h->t_ns;
	hd[3] = caplen;
	hd[4] = h->len;
	memcpy(b, hd, 20);
	memcpy(b + 20, data, caplen);
	k = 20 + ((caplen + 3u) & ~3u);
	memset(b + 20 + caplen, 0, k - 20 - caplen);
	ng_opt(b, &k, 2, &flags, 4);		/* epb_flags: the direction */
	ng_opt(b, &k, 0, NULL, 0);
	ng_block(r->ng, 6, b, k);
}

/* Write the frames of one burst; false once COUNT were written. */
static bool write_burst(struct cap_run *r, unsigned nids, const struct nf_pkt *pk, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n && (r->count == 0 || r->written < r->count); i++) {
		struct nf_cap_hdr h;
		struct pcap_pkthdr ph;

		if (pk[i].len < sizeof(h))
			continue;
		memcpy(&h, pk[i].data, sizeof(h));
		if (h.magic != NF_CAP_MAGIC || h.len < pk[i].len - sizeof(h))
			continue;
		if (r->ng != NULL) {
			ng_packet(r, nids, &h, pk[i].data + sizeof(h), pk[i].len - (uint32_t)sizeof(h));
			r->written++;
			continue;
		}
		ph.ts.tv_sec = (time_t)(h.t_ns / 1000000000ull);
		ph.ts.tv_usec = (suseconds_t)(h.t_ns % 1000000000ull);	/* nanoseconds */
		ph.caplen = pk[i].len - (uint32_t)sizeof(h);
		ph.len = h.len;
		pcap_dump((u_char *)r->dump, &ph, pk[i].data + sizeof(h));
		r->written++;
	}
	return r->count == 0 || r->written < r->count;
}

/* Read what waits in the ring; false once COUNT were written. */
static bool drain(struct cap_run *r, unsigned nids)
{
	struct nf_pkt pk[NF_BURST_MAX];
	uint16_t n;
	bool more = true;

	while (more && (n = nf_rx_burst(r->port, pk, NF_BURST_MAX)) > 0) {
		more = write_burst(r, nids, pk, n);
		nf_rx_release(r->port);
	}
	if (r->to_stdout && r->ng != NULL)
		fflush(r->ng);
	else if (r->to_stdout)
		pcap_dump_flush(r->dump);
	return more;
}

/* Sum of the counter @k over the captures of a capture-stop reply. */
static uint64_t sum(struct json_object *reply, const char *k)
{
	struct json_object *a, *v;
	uint64_t s = 0;
	size_t i;

	if (reply == NULL || !json_object_object_get_ex(reply, "captures", &a))
		return 0;
	for (i = 0; i < json_object_array_length(a); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(a, i), k, &v))
			s += (uint64_t)json_object_get_int64(v);
	return s;
}

int nc_cmd_capture(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ctl", required_argument, NULL, 3 },
		{ "name", required_argument, NULL, 4 },
		{ "run-dir", required_argument, NULL, 5 },
		{ "filter", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "rx", no_argument, NULL, 1 },
		{ "tx", no_argument, NULL, 2 },
		{ "write", required_argument, NULL, 'w' },
		{ "pcapng", no_argument, NULL, 6 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char targets[CAP_TARGETS_MAX][128];
	struct cap_run r = { 0 };
	struct nf_port_conf pc = { .name = "capture" };
	struct nf_io_params prm = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct json_object *rep = NULL, *ports;
	const char *name = NULL, *run = NULL, *filter = NULL, *file = NULL, *dir = "";
	char ctlbuf[PATH_MAX], err[1024], line[4096], spec[PATH_MAX + 64], dirbuf[PATH_MAX];
	uint64_t duration = 0, snaplen = CAP_SNAP_MAX, deadline, t0;
	unsigned ntargets = 0, i;
	int c, rc = 1, ret;
	bool more = true, io_up = false, ng = false;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:c:d:s:w:h", lopts, NULL)) != -1) {
		switch (c) {
		case 3: r.ctl = optarg; break;
		case 4: name = optarg; break;
		case 5: run = optarg; break;
		case 'f': filter = optarg; break;
		case 'c':
			if (nf_parse_u64(optarg, 1, INT64_MAX, 0, &r.count) < 0)
				return usage_err("--count: expected a number from 1, not", optarg);
			break;
		case 'd':
			if (nf_parse_u64(optarg, 1, 86400, 0, &duration) < 0)
				return usage_err("--duration: expected seconds 1..86400, not", optarg);
			break;
		case 's':
			if (nf_parse_u64(optarg, 1, CAP_SNAP_MAX, 0, &snaplen) < 0)
				return usage_err("--snaplen: expected 1..65535, not", optarg);
			break;
		case 1: dir = *dir ? "both" : "rx"; break;
		case 2: dir = *dir ? "both" : "tx"; break;
		case 'w': file = optarg; break;
		case 6: ng = true; break;
		case 'h': usage(stdout); return 0;
		case ':': return usage_err("this option needs a value:", argv[optind - 1]);
		default: return usage_err("unknown option", argv[optind - 1]);
		}
	}
	if (strcmp(dir, "both") == 0)
		dir = "";	/* --rx --tx: the default */
	if (file == NULL)
		return usage_err("-w FILE is required (- for standard output)", NULL);
	if (optind >= argc)
		return usage_err("no TARGET: name a port, a VNF replica (fw.0) or a VNF (fw)",
				 NULL);
	if (r.ctl != NULL && (name != NULL || run != NULL))
		return usage_err("--ctl and --name/--run-dir exclude each other", NULL);
	if (run != NULL && name == NULL)
		return usage_err("--run-dir goes with --name", NULL);
	if (filter != NULL && strpbrk(filter, "\n") != NULL)
		return usage_err("the filter cannot contain a newline", NULL);
	if (name != NULL) {
		const char *e = getenv("NFCHAIN_RUN_DIR");

		if (run == NULL)
			run = e != NULL && *e ? e : "/run/nfchain";
		snprintf(ctlbuf, sizeof(ctlbuf), "%s/%s/switch.ctl", run, name);
		if (access(ctlbuf, F_OK) != 0) {
			fprintf(stderr, "nfchain capture: no deployment '%s' in %s (no %s)\n",
				name, run, ctlbuf);
			return 1;
		}
		r.ctl = ctlbuf;
	}
	if (r.ctl == NULL)
		r.ctl = CAP_DEF_CTL;

	/* The filter first, here: a bad one is refused before anything starts. */
	r.dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen,
						      PCAP_TSTAMP_PRECISION_NANO);
	if (r.dead == NULL) {
		fprintf(stderr, "nfchain capture: libpcap: out of memory\n");
		return 1;
	}
	if (filter != NULL) {
		struct bpf_program prog;

		if (pcap_compile(r.dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fprintf(stderr, "nfchain capture: bad filter '%s': %s\n", filter,
				pcap_geterr(r.dead));
			pcap_close(r.dead);
			return 1;
		}
		pcap_freecode(&prog);
	}
	rep = sw_req(r.ctl, "ports", err, sizeof(err));
	if (rep == NULL) {
		fprintf(stderr, "nfchain capture: %s\n", err);
		goto out;
	}
	if (!json_object_object_get_ex(rep, "ports", &ports) ||
	    !json_object_is_type(ports, json_type_array)) {
		fprintf(stderr, "nfchain capture: no port list from nfswitch at %s\n", r.ctl);
		goto out;
	}
	for (i = (unsigned)optind; i < (unsigned)argc; i++)
		if (resolve(ports, argv[i], targets, &ntargets) < 0)
			goto out;
	remove_stale(r.ctl, ports);
	json_object_put(rep);
	rep = NULL;

	r.to_stdout = strcmp(file, "-") == 0;
	if (ng) {
		r.ng = r.to_stdout ? stdout : fopen(file, "wb");
		if (r.ng == NULL) {
			fprintf(stderr, "nfchain capture: cannot write %s: %s\n", file,
				strerror(errno));
			goto out;
		}
	} else if ((r.dump = pcap_dump_open(r.dead, file)) == NULL) {
		fprintf(stderr, "nfchain capture: cannot write %s: %s\n", file,
			pcap_geterr(r.dead));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The sink: a memif server port on the switch, this process its client,
	 * with buffers large enough for the header and SNAPLEN bytes. */
	prm.buf_size = (uint32_t)((NF_MIN(snaplen, (uint64_t)NF_FRAME_MAX) +
				   sizeof(struct nf_cap_hdr) + 63) & ~63ull);
	if (prm.buf_size < 256)
		prm.buf_size = 256;
	prm.pool_bufs = (2u << CAP_RSIZE) + 64;
	ret = nf_io_init(&prm);
	io_up = ret == 0;
	if (ret < 0) {
		fprintf(stderr, "nfchain capture: %s\n", nf_last_error());
		goto out;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", r.ctl);
	if (snprintf(r.sock, sizeof(r.sock), "%s/cap-%d.sock", dirname(dirbuf),
		     (int)getpid()) >= (int)sizeof(r.sock)) {
		fprintf(stderr, "nfchain capture: %s/cap-%d.sock: path too long for a socket\n",
			dirbuf, (int)getpid());
		goto out;
	}
	snprintf(r.sink, sizeof(r.sink), "_cap.%d", (int)getpid());
	snprintf(line, sizeof(line), "port-add memif:%s,id=0 %s", r.sock, r.sink);
	rep = sw_req(r.ctl, line, err, sizeof(err));
	if (rep == NULL) {
		fprintf(stderr, "nfchain capture: cannot add the capture port: %s\n", err);
		goto out;
	}
	json_object_put(rep);
	rep = NULL;
	r.sink_added = true;
	snprintf(spec, sizeof(spec), "memif:%s,id=0,role=client,rsize=%d", r.sock, CAP_RSIZE);
	ret = nf_port_open(spec, &pc, &r.port);
	if (ret < 0) {
		fprintf(stderr, "nfchain capture: %s\n", nf_last_error());
		goto out;
	}
	t0 = nf_now_ns();
	while (!nf_port_is_up(r.port) && !stop_sig && nf_now_ns() - t0 < 5000000000ull) {
		nf_io_service();
		usleep(1000);
	}
	if (!nf_port_is_up(r.port)) {
		fprintf(stderr, "nfchain capture: %s\n", stop_sig ? "interrupted" :
			"the capture port did not connect within 5 s");
		goto out;
	}
	for (i = 0; i < ntargets; i++) {
		size_t used = (size_t)snprintf(line, sizeof(line), "capture-start %s %s %s",
					       targets[i], r.sink, dir);

		if (snaplen != CAP_SNAP_MAX)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " snaplen %" PRIu64,
						 snaplen);
		if (filter != NULL)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " filter %s",
						 filter);
		if (used >= sizeof(line)) {
			fprintf(stderr, "nfchain capture: the filter is too long\n");
			goto out;
		}
		rep = sw_req(r.ctl, line, err, sizeof(err));
		if (rep == NULL) {
			fprintf(stderr, "nfchain capture: cannot capture %s: %s\n", targets[i], err);
			goto out;
		}
		{
			struct json_object *id;

			r.ids[i] = json_object_object_get_ex(rep, "id", &id) ?
				   (uint32_t)json_object_get_int64(id) : 0;
		}
		json_object_put(rep);
		rep = NULL;
	}
	if (r.ng != NULL)
		ng_start(r.ng, targets, ntargets, (uint32_t)snaplen);
	if (!r.to_stdout) {
		fprintf(stderr, "nfchain capture: capturing");
		for (i = 0; i < ntargets; i++)
			fprintf(stderr, " %s", targets[i]);
		fprintf(stderr, "%s%s into %s\n", *dir ? " " : "", dir, file);
	}

	deadline = duration ? nf_now_ns() + duration * 1000000000ull : UINT64_MAX;
	while (!stop_sig && nf_now_ns() < deadline) {
		struct pollfd pf[2] = { { .fd = nf_port_rx_fd(r.port), .events = POLLIN },
					{ .fd = nf_io_fd(), .events = POLLIN } };

		more = drain(&r, ntargets);
		if (!more)
			break;
		nf_io_service();
		if (!nf_port_is_up(r.port)) {
			fprintf(stderr, "nfchain capture: the switch closed the capture port\n");
			r.sink_added = false;
			goto out;
		}
		if (r.to_stdout && ferror(stdout))
			break;		/* the reader left */
		/* Asleep until frames come (the switch's memif interrupt). */
		if (pf[0].fd >= 0 && nf_rx_intr_enable(r.port) == 0) {
			poll(pf, 2, 20);
			nf_rx_intr_disable(r.port);
		}
	}
	rc = 0;
out:
	if (r.sink_added) {
		/* Stop, then write what the switch had already copied. */
		snprintf(line, sizeof(line), "capture-stop %s", r.sink);
		rep = sw_req(r.ctl, line, err, sizeof(err));
		if (rc == 0 && more && r.port != NULL)
			drain(&r, ntargets);
		if (rep != NULL)
			fprintf(stderr, "nfchain capture: %" PRIu64 " frames written; the switch "
				"captured %" PRIu64 ", dropped %" PRIu64 " (this program's ring "
				"was full), filtered out %" PRIu64 "\n", r.written,
				sum(rep, "captured"), sum(rep, "capture_dropped"),
				sum(rep, "filtered"));
		snprintf(line, sizeof(line), "port-del %s", r.sink);
		json_object_put(rep);
		rep = sw_req(r.ctl, line, err, sizeof(err));
		if (rep == NULL && rc == 0) {
			fprintf(stderr, "nfchain capture: cannot remove the capture port: %s\n",
				err);
			rc = 1;
		}
	}
	json_object_put(rep);
	nf_port_close(r.port);
	if (io_up)
		nf_io_fini();
	if (r.ng != NULL) {
		if (fflush(r.ng) != 0 || ferror(r.ng)) {
			fprintf(stderr, "nfchain capture: error writing %s\n", file);
			rc = 1;
		}
		if (!r.to_stdout)
			fclose(r.ng);
	}
	if (r.dump != NULL) {
		pcap_dump_flush(r.dump);
		if (!r.to_stdout && ferror(pcap_dump_file(r.dump))) {
			fprintf(stderr, "nfchain capture: error writing %s\n", file);
			rc = 1;
		}
		pcap_dump_close(r.dump);
	}
	pcap_close(r.dead);
	return rc;
}
