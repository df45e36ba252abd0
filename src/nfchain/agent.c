/* agent.c - the node agent (agent.h).
 *
 * One thread, one poll loop: a signalfd (SIGCHLD: a replica or the switch
 * exited; SIGINT/SIGTERM: tear down), the agent's control socket, one
 * non-blocking probe per replica in flight, and a 50 ms tick for
 * deadlines. Replica states:
 *
 *   START --(probe answers, both ports up)--> UP --(exit, or probe
 *   timeout: SIGKILL)--> DEAD --(restart policy, backoff)--> START
 *   any --(scale down, apply, down)--> STOP (removed)
 *
 * Only UP replicas are group members; every state change rewrites the
 * steering (plan.c) and loads it into nfswitch in one request, which the
 * switch applies atomically and which keeps its groups' hash tables, so
 * a replica leaving moves only its own flows.
 */
#include "agent.h"
#include "box.h"
#include "event.h"
#include "plan.h"
#include "scale.h"
#include "web.h"
#include "nf_ctl.h"
#include "nf_http.h"
#include "nf_io.h"
#include "nf_metrics.h"
#include "nf_proto.h"
#include "nf_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REP_MAX		(NC_VNF_MAX * NC_REPLICA_MAX)
#define MEMIF_FIRST	1000	/* replica ports; external ones are 0..999 */
#define MEMIF_LAST	4094
#define PROBE_ID	4095	/* the agent's own port: data-path probes */
#define PROBE_PORT	"_probe"	/* not a name a description can give */
#define START_TIMEOUT_MS 5000	/* a replica must answer within this after start */
#define STOP_GRACE_MS	2000	/* SIGTERM, then SIGKILL */
#define BACKOFF_MAX_MS	5000
#define LAT_WINDOW	100	/* chain latency samples the p99 is taken over */
#define HANDOFF_MAX_MS	5000	/* a drained replica whose input does not stop: stopped */
#define HTTP_BODY_MAX	NC_WEB_MAX_BODY	/* request bodies (the portal's forms) */

enum rstate { R_START, R_UP, R_DEAD, R_STOP, R_DRAIN };
static const char *const rstate_names[] = { "starting", "up", "down", "stopping", "draining" };

struct rep {
	bool used;
	char vnf[NC_NAME_MAX + 1];
	unsigned idx;
	unsigned memif[2];
	struct nc_member m;		/* ports, MACs, up */
	char dir[256], id[64];
	char name[NC_NAME_MAX + 8];	/* "fw.1" */
	pid_t pid;
	enum rstate st;
	unsigned restarts, fast_fails;
	uint64_t t_start, t_up, t_restart;
	char why[96];			/* why it went down last */
	/* the probe in flight */
	int pfd;
	uint64_t p_deadline, p_next;
	char *pbuf;
	size_t plen, pcap;
	/* data-path probes: frames through the replica's ports */
	uint64_t dp_sent, dp_back, dp_t_back, dp_rx_mark, rx_in;	/* rx_in: first port's */
	uint32_t dp_seq, dp_rtt_us;
	bool ctl_ok;			/* the control socket answered (START) */
	/* counters from the last two answers */
	uint64_t rx, tx, drops, t_stats;
	double pps_in, pps_out;
	uint64_t idle_ns, clock_ns;	/* its loop's idle time and clock (nf_vnf.c) */
	double busy;			/* busy fraction of its loop since the last answer */
	double queue;			/* its fullest receive ring, 0..1 (last answer) */
	/* draining (autoscaling in): out of its group, stopped once idle */
	uint64_t t_drain, t_quiet, drain_rx, t_handoff;
	bool handoff;			/* drained too long: its flows go to the others */
};

struct agent {
	struct nc_spec *s;
	struct nc_agent_opts o;
	char run[200], swsock[256], swctl[256], ctlpath[256], holdpath[256];
	int hold_fd;			/* nfswitch --notify: "hold GROUP" datagrams */
	bool holding[NC_VNF_MAX];	/* the switch holds frames for this type */
	pid_t sw_pid;
	struct rep rep[REP_MAX];
	struct nf_ctl *ctl;
	int sigfd;
	bool quit, dirty, failed, made_run;
	int exit_code;
	char chains[255][NC_NAME_MAX + 1];	/* chain number - 1 -> name */
	uint8_t memif_used[(MEMIF_LAST + 1) / 8];
	uint64_t t0, t_table;
	char steering[65536];
	char lasterr[256];	/* the switch's last refusal */
	struct nf_port *probe;	/* the agent's memif port on the switch */
	uint8_t probe_mac[6];
	struct nc_events events;	/* recent changes (status, dashboard) */
	/* autoscaling (scale.c), per VNF type of the description */
	struct nc_scale_state sc[NC_VNF_MAX];
	struct nc_scale_out sco[NC_VNF_MAX];
	uint64_t t_scale[NC_VNF_MAX];
	double sc_pps[NC_VNF_MAX], sc_busy[NC_VNF_MAX];
	char slo[NC_CHAIN_MAX][160];	/* per chain: "ok", "not met: ..." */
	unsigned slo_runs[NC_CHAIN_MAX];	/* samples in a row saying otherwise */
	/* chain loss: frames into the first hop's SID and out of the egress
	 * SID (the switch's counters), read once a second */
	uint64_t loss_in[NC_CHAIN_MAX], loss_out[NC_CHAIN_MAX], loss_win_in[NC_CHAIN_MAX];
	int64_t loss_mark[NC_CHAIN_MAX];	/* the highest lower bound of frames lost */
	int64_t loss_missing[NC_CHAIN_MAX];	/* frames lost in the last second */
	uint64_t loss_prev[NC_CHAIN_MAX];	/* frames in, a poll earlier */
	bool loss_known[NC_CHAIN_MAX];
	/* chain latency: the last LAT_WINDOW samples (one per probe interval) */
	uint32_t lat[NC_CHAIN_MAX][LAT_WINDOW];
	unsigned nlat[NC_CHAIN_MAX];
	uint32_t lat_p99[NC_CHAIN_MAX];
	uint64_t t_loss, t_slo;
	struct nf_http *http;	/* the description's http: ADDR:PORT; NULL: none */
	struct nc_web *web;	/* its dashboard and portal (web.c) */
	struct rtt_hist {	/* data-path probe round trips per VNF type (metrics) */
		char vnf[NC_NAME_MAX + 1];	/* "": free */
		struct nf_hist h;
	} rtt[NC_VNF_MAX];
};

/* The round-trip histogram of VNF type @vnf (a free slot the first time;
 * NULL when every slot is taken by other types, after applies). */
static struct nf_hist *rtt_hist(struct agent *a, const char *vnf)
{
	unsigned i;

	for (i = 0; i < NC_VNF_MAX; i++)
		if (strcmp(a->rtt[i].vnf, vnf) == 0)
			return &a->rtt[i].h;
	for (i = 0; i < NC_VNF_MAX; i++)
		if (a->rtt[i].vnf[0] == '\0') {
			snprintf(a->rtt[i].vnf, sizeof(a->rtt[i].vnf), "%s", vnf);
			nf_hist_init(&a->rtt[i].h);
			return &a->rtt[i].h;
		}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 2, 3))) logf_(struct agent *a, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "nfchain[%s] %.3fs: %s\n", a->s->name, (double)(now_ms() - a->t0) / 1000,
		line);
}

/* An event of the deployment: kept in the ring and logged. */
static void __attribute__((format(printf, 4, 5)))
event(struct agent *a, const char *kind, const char *subject, const char *fmt, ...)
{
	char text[NC_EVENT_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	nc_event_add(&a->events, kind, subject, "%s", text);
	logf_(a, "%s%s%s", subject, *subject ? " " : "", text);
}

void nc_run_dir(const char *base, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", base, name);
}

/* --- the switch --- */

static int sw_line(struct agent *a, bool quiet, const char *line);

/* Format a request to nfswitch and send it (sw_line()); one that does not
 * fit a request line is not sent cut: -1, logged. */
static int sw_vline(struct agent *a, bool quiet, const char *fmt, va_list ap)
{
	char line[NF_CTL_LINE];
	const int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(a->lasterr, sizeof(a->lasterr), "request longer than %zu bytes",
			 sizeof(line) - 1);
		logf_(a, "not sent to nfswitch: %.60s...: %s", line, a->lasterr);
		return -1;
	}
	return sw_line(a, quiet, line);
}

/* One request to nfswitch; 0, or -1 with the switch's sentence logged. */
static int __attribute__((format(printf, 2, 3))) sw(struct agent *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sw_vline(a, false, fmt, ap);
	va_end(ap);
	return ret;
}

/* The same, for requests that may be refused (a port that exists). */
static int __attribute__((format(printf, 2, 3))) sw_try(struct agent *a, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = sw_vline(a, true, fmt, ap);
	va_end(ap);
	return ret;
}

static int sw_line(struct agent *a, bool quiet, const char *line)
{
	struct json_object *r;
	char *out = NULL;
	int ret;

	ret = nf_ctl_request(a->swctl, line, 3000, &out);
	if (ret < 0) {
		logf_(a, "nfswitch does not answer '%s': %s", line, strerror(-ret));
		return -1;
	}
	r = json_tokener_parse(out);
	ret = r && json_object_get_boolean(json_object_object_get(r, "ok")) ? 0 : -1;
	if (ret < 0) {
		snprintf(a->lasterr, sizeof(a->lasterr), "%s",
			 r ? json_object_get_string(json_object_object_get(r, "error")) : out);
		if (!quiet)
			logf_(a, "nfswitch refused '%s': %s", line, a->lasterr);
	}
	json_object_put(r);
	free(out);
	return ret;
}

static pid_t spawn(struct agent *a, const char *const *argv, const char *cwd, const char *log)
{
	sigset_t all;
	pid_t pid, parent = getpid();
	int fd;

	pid = fork();
	if (pid != 0) {
		if (pid < 0)
			logf_(a, "fork: %s", strerror(errno));
		return pid;
	}
	/* The child: its own process group (Ctrl-C reaches the agent only),
	 * dies with the agent, signals unblocked, log as stdout and stderr. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (cwd && chdir(cwd) < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "nfchain: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int start_switch(struct agent *a)
{
	char prog[PATH_MAX], log[300], cpu[16];
	const char *argv[12];
	unsigned n = 0, i;
	ssize_t len;

	len = readlink("/proc/self/exe", prog, sizeof(prog) - 16);
	if (len < 0)
		return -errno;
	prog[len] = '\0';
	snprintf(strrchr(prog, '/') + 1, 16, "nfswitch");
	snprintf(log, sizeof(log), "%s/switch.log", a->run);
	argv[n++] = prog;
	argv[n++] = "-c";
	argv[n++] = a->swctl;
	argv[n++] = "-m";
	argv[n++] = nc_mode_names[a->s->mode];
	if (a->hold_fd >= 0) {
		argv[n++] = "--notify";
		argv[n++] = a->holdpath;
	}
	if (a->s->switch_cpu >= 0) {
		snprintf(cpu, sizeof(cpu), "%d", a->s->switch_cpu);
		argv[n++] = "--cpu";
		argv[n++] = cpu;
	}
	if (a->s->switch_metrics[0]) {
		argv[n++] = "--metrics";
		argv[n++] = a->s->switch_metrics;
	}
	argv[n] = NULL;
	a->sw_pid = spawn(a, argv, a->run, log);
	if (a->sw_pid < 0)
		return -errno;
	for (i = 0; i < 100; i++) {
		char *out = NULL;

		if (nf_ctl_request(a->swctl, "ports", 500, &out) == 0) {
			free(out);
			return 0;
		}
		if (waitpid(a->sw_pid, NULL, WNOHANG) == a->sw_pid) {
			a->sw_pid = 0;
			logf_(a, "nfswitch exited at start (see %s)", log);
			return -ECHILD;
		}
		usleep(30000);
	}
	logf_(a, "nfswitch does not answer on %s", a->swctl);
	return -ETIMEDOUT;
}

static int xport_add(struct agent *a, const struct nc_xport *x)
{
	if (x->remote)		/* on another node of the cluster */
		return 0;
	if (x->spec[0])		/* the cluster's uplink */
		return sw(a, "port-add %s %s", x->spec, x->name);
	if (x->is_memif)
		return sw(a, "port-add memif:%s,id=%u %s", a->swsock, x->memif_id, x->name);
	return sw(a, "port-add afpacket:%s %s", x->ifname, x->name);
}

static void xport_del(struct agent *a, const struct nc_xport *x)
{
	if (!x->remote)
		sw(a, "port-del %s", x->name);
}

/* --- data-path probes (nf_proto.h NF_ETH_P_NFPROBE) ---
 *
 * The agent has its own memif port on the switch (PROBE_PORT). Each probe
 * interval it sends every replica a frame to the MAC of the replica's
 * first port (a static MAC table entry leads there); the VNF's framework
 * sends it on from its other port to us (nfswitch switches probes by MAC
 * learning, never by the steering). The frame carries the first port's
 * memif id, a sequence number and the time it left. */
struct probe_body {
	char magic[4];
	uint16_t id;
	uint16_t pad;
	uint32_t seq;
	uint64_t t_ns;
} __attribute__((packed));

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int probe_open(struct agent *a)
{
	struct nf_port_conf pc = { .name = "probe" };
	struct nf_io_params prm = { .pool_bufs = 4096 };	/* a memif client needs 2048 */
	char spec[300];
	int ret;

	ret = nf_io_init(&prm);
	if (ret < 0 && ret != -EALREADY)
		return ret;
	if (sw(a, "port-add memif:%s,id=%u %s", a->swsock, PROBE_ID, PROBE_PORT) < 0)
		return -EIO;
	nc_plan_mac(PROBE_ID, a->probe_mac);
	if (sw(a, "fdb-add %02x:%02x:%02x:%02x:%02x:%02x %s", a->probe_mac[0], a->probe_mac[1],
	       a->probe_mac[2], a->probe_mac[3], a->probe_mac[4], a->probe_mac[5],
	       PROBE_PORT) < 0)
		return -EIO;
	snprintf(spec, sizeof(spec), "memif:%s,id=%u,role=client", a->swsock, PROBE_ID);
	ret = nf_port_open(spec, &pc, &a->probe);
	if (ret < 0)
		snprintf(a->lasterr, sizeof(a->lasterr), "%s", nf_last_error());
	return ret;
}

static void probe_send(struct agent *a, struct rep *r)
{
	uint8_t f[64] = { 0 };
	struct probe_body b = { .magic = { 'N', 'F', 'C', 'P' }, .id = (uint16_t)r->memif[0],
				.seq = ++r->dp_seq, .t_ns = now_ns() };
	struct nf_pkt pk = { .data = f, .len = 60, .buf = NF_BUF_NONE };

	if (a->probe == NULL || !nf_port_is_up(a->probe))
		return;
	memcpy(f, r->m.mac[0], 6);
	memcpy(f + 6, a->probe_mac, 6);
	f[12] = NF_ETH_P_NFPROBE >> 8;
	f[13] = NF_ETH_P_NFPROBE & 0xff;
	memcpy(f + 14, &b, sizeof(b));
	if (nf_tx_burst(a->probe, &pk, 1) == 1)
		r->dp_sent++;
}

static void probe_receive(struct agent *a, uint64_t now)
{
	struct nf_pkt pk[32];
	struct nf_hist *h;
	uint16_t n, i;
	unsigned k;

	if (a->probe == NULL)
		return;
	while ((n = nf_rx_burst(a->probe, pk, 32)) > 0) {
		for (i = 0; i < n; i++) {
			struct probe_body b;

			if (pk[i].len < 14 + sizeof(b) || pk[i].data[12] != (NF_ETH_P_NFPROBE >> 8) ||
			    pk[i].data[13] != (NF_ETH_P_NFPROBE & 0xff))
				continue;
			memcpy(&b, pk[i].data + 14, sizeof(b));
			if (memcmp(b.magic, NF_PROBE_MAGIC, 4) != 0)
				continue;
			for (k = 0; k < REP_MAX; k++) {
				struct rep *r = &a->rep[k];

				/* from the replica's second port (a one-port VNF
				 * answers from its first) */
				if (!r->used || r->memif[0] != b.id || b.seq > r->dp_seq ||
				    memcmp(pk[i].data + 6, r->m.mac[1], 6) != 0)
					continue;
				r->dp_back++;
				r->dp_t_back = now;
				r->dp_rtt_us = (uint32_t)((now_ns() - b.t_ns) / 1000);
				h = rtt_hist(a, r->vnf);
				if (h != NULL)
					nf_hist_record(h, now_ns() - b.t_ns);
			}
		}
		nf_rx_release(a->probe);
	}
}

static int fdb(struct agent *a, bool add, const uint8_t *m, const char *port)
{
	return sw(a, "fdb-%s %02x:%02x:%02x:%02x:%02x:%02x%s%s", add ? "add" : "del", m[0], m[1],
		  m[2], m[3], m[4], m[5], add ? " " : "", add ? port : "");
}

/* --- steering --- */

static struct rep *rep_find(struct agent *a, const char *vnf, unsigned idx)
{
	unsigned i;

	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used && a->rep[i].idx == idx && strcmp(a->rep[i].vnf, vnf) == 0)
			return &a->rep[i];
	return NULL;
}

static const struct nc_member *plan_member(unsigned v, unsigned i, void *arg)
{
	struct agent *a = arg;
	struct rep *r = rep_find(a, a->s->vnf[v].name, i);

	if (r == NULL)
		return NULL;
	r->m.up = r->st == R_UP;
	r->m.draining = r->st == R_DRAIN && r->pid > 0 && !r->handoff;
	return &r->m;
}

static unsigned chain_no(unsigned c, void *arg)
{
	struct agent *a = arg;
	const char *name = a->s->chain[c].name;
	unsigned i, free_ = 0;

	for (i = 0; i < 255; i++) {
		if (strcmp(a->chains[i], name) == 0)
			return i + 1;
		if (!a->chains[i][0] && !free_)
			free_ = i + 1;
	}
	/* At most 16 chains are in a file; numbers are not reused while
	 * the agent runs unless 255 have been seen. */
	if (!free_)
		free_ = 1;
	snprintf(a->chains[free_ - 1], NC_NAME_MAX + 1, "%s", name);
	return free_;
}

static int load_steering(struct agent *a)
{
	struct nc_plan_in in = { a->s, plan_member, chain_no, a };
	char path[300], tmp[310];
	FILE *f;

	a->dirty = false;
	if (nc_plan_steering(&in, a->steering, sizeof(a->steering)) < 0) {
		logf_(a, "the steering is too long");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/steering", a->run);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(a->steering, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		logf_(a, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return sw(a, "steer-load %s", path);
}

/* --- replicas --- */

static int memif_alloc(struct agent *a)
{
	unsigned id;

	for (id = MEMIF_FIRST; id <= MEMIF_LAST; id++)
		if (!(a->memif_used[id / 8] & (1u << (id % 8)))) {
			a->memif_used[id / 8] |= (uint8_t)(1u << (id % 8));
			return (int)id;
		}
	return -ENOSPC;
}

static void memif_free(struct agent *a, unsigned id)
{
	a->memif_used[id / 8] &= (uint8_t)~(1u << (id % 8));
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fputs(text ? text : "", f);
	return fclose(f) == 0 ? 0 : -errno;
}

/* The replica's directory: vnf.conf (plan.c writes it), its extra files,
 * ctl/ for its control socket, its log. */
static int rep_files(struct agent *a, struct rep *r, const struct nc_vnf *f)
{
	char conf[8192], ctl[300];
	unsigned p;
	int ret;

	if (mkdir(r->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(ctl, sizeof(ctl), "%s/ctl", r->dir);
	if (mkdir(ctl, 0700) < 0 && errno != EEXIST)
		return -errno;
	ret = nc_plan_vnf_conf(a->s, f, r->idx, a->s->runtime == NC_RT_RUNC ? NC_BOX_SOCK :
			       a->swsock, r->memif, conf, sizeof(conf), &p);
	if (ret == 0)
		ret = write_file(r->dir, "vnf.conf", conf);
	for (p = 0; ret == 0 && p < f->nfiles; p++)
		ret = write_file(r->dir, f->file[p].name, f->file[p].text);
	return ret;
}

static int rep_spawn(struct agent *a, struct rep *r)
{
	int v = nc_spec_vnf(a->s, r->vnf);
	const struct nc_vnf *f = &a->s->vnf[v];
	char log[300], ctl[300], conf[300];
	const char *argv[16];

	snprintf(log, sizeof(log), "%s/log", r->dir);
	if (a->s->runtime == NC_RT_RUNC) {
		static const char *const args[] = { "-c", NC_BOX_CONF, "--ctl",
						     NC_BOX_CTLDIR "/vnf.ctl", NULL };
		char bundle[300], cdir[300], fpath[NC_FILE_MAX][400];
		const char *files[NC_FILE_MAX + 1];
		struct nc_box b = { .id = r->id, .dir = bundle, .prog = f->program,
				    .args = args, .conf = conf, .sock = a->swsock,
				    .ctldir = cdir, .cpu_milli = f->cpu_milli,
				    .mem_bytes = f->memory, .files = files };
		char err[256];
		unsigned k;

		for (k = 0; k < f->nfiles; k++) {
			snprintf(fpath[k], sizeof(fpath[k]), "%s/%s", r->dir, f->file[k].name);
			files[k] = fpath[k];
		}
		files[k] = NULL;
		snprintf(bundle, sizeof(bundle), "%s/bundle", r->dir);
		snprintf(cdir, sizeof(cdir), "%s/ctl", r->dir);
		snprintf(conf, sizeof(conf), "%s/vnf.conf", r->dir);
		nc_box_destroy(r->id, bundle);
		if (nc_box_create(&b, err, sizeof(err)) < 0) {
			logf_(a, "%s: cannot make its container: %s", r->id, err);
			return -1;
		}
		if (nc_box_argv(&b, argv, 16) < 0)
			return -1;
	} else {
		snprintf(conf, sizeof(conf), "%s/vnf.conf", r->dir);
		snprintf(ctl, sizeof(ctl), "%s/ctl/vnf.ctl", r->dir);
		argv[0] = f->program;
		argv[1] = "-c";
		argv[2] = conf;
		argv[3] = "--ctl";
		argv[4] = ctl;
		argv[5] = NULL;
	}
	if (r->restarts) {
		unsigned p;

		for (p = 0; p < 2; p++)
			sw_try(a, "port-add memif:%s,id=%u %s", a->swsock, r->memif[p], r->m.port[p]);
		sw_try(a, "fdb-add %02x:%02x:%02x:%02x:%02x:%02x %s", r->m.mac[0][0],
		       r->m.mac[0][1], r->m.mac[0][2], r->m.mac[0][3], r->m.mac[0][4],
		       r->m.mac[0][5], r->m.port[0]);
	}
	r->pid = spawn(a, argv, r->dir, log);
	if (r->pid < 0) {
		r->pid = 0;
		return -1;
	}
	r->st = R_START;
	r->ctl_ok = false;
	r->dp_back = r->dp_sent = 0;
	r->t_start = now_ms();
	r->p_next = r->t_start + 20;
	return 0;
}

static void probe_close(struct rep *r)
{
	if (r->pfd >= 0)
		close(r->pfd);
	r->pfd = -1;
	r->plen = 0;
}

static void rep_ctl_path(const struct rep *r, char *out, size_t len)
{
	if (snprintf(out, len, "%s/ctl/vnf.ctl", r->dir) >= (int)len)
		out[0] = '\0';		/* too long: no such socket */
}

static int rep_create(struct agent *a, int v, unsigned idx)
{
	const struct nc_vnf *f = &a->s->vnf[v];
	struct rep *r = NULL;
	unsigned i, p;
	int id;

	for (i = 0; i < REP_MAX && r == NULL; i++)
		if (!a->rep[i].used)
			r = &a->rep[i];
	if (r == NULL)
		return -ENOSPC;
	memset(r, 0, sizeof(*r));
	r->pfd = -1;
	snprintf(r->vnf, sizeof(r->vnf), "%s", f->name);
	r->idx = idx;
	snprintf(r->dir, sizeof(r->dir), "%s/%s.%u", a->run, f->name, idx);
	snprintf(r->id, sizeof(r->id), "nfc-%s-%s-%u", a->s->name, f->name, idx);
	snprintf(r->name, sizeof(r->name), "%s.%u", f->name, idx);
	for (p = 0; p < 2; p++) {
		id = memif_alloc(a);
		if (id < 0)
			goto fail;
		r->memif[p] = (unsigned)id;
		nc_plan_mac((unsigned)id, r->m.mac[p]);
		nc_plan_port_name(f->name, idx, f->port[p], r->m.port[p], sizeof(r->m.port[p]));
	}
	r->used = true;
	if (rep_files(a, r, f) < 0) {
		logf_(a, "%s.%u: cannot write its files in %s", f->name, idx, r->dir);
		goto fail_used;
	}
	for (p = 0; p < 2; p++)
		if (sw(a, "port-add memif:%s,id=%u %s", a->swsock, r->memif[p], r->m.port[p]) < 0)
			goto fail_ports;
	fdb(a, true, r->m.mac[0], r->m.port[0]);	/* where probes go in */
	if (rep_spawn(a, r) < 0)
		goto fail_ports;
	event(a, "start", r->name, "started (pid %d)", (int)r->pid);
	return 0;
fail_ports:
	while (p-- > 0)
		sw(a, "port-del %s", r->m.port[p]);
fail_used:
	r->used = false;
	p = 2;
fail:
	while (p-- > 0)
		memif_free(a, r->memif[p]);
	return -1;
}

/* Stop the replica's process (SIGTERM, then SIGKILL after the grace time)
 * and reap it; its container is removed. */
static void rep_kill(struct agent *a, struct rep *r, bool hard)
{
	uint64_t end = now_ms() + (hard ? 0 : STOP_GRACE_MS);
	char bundle[300];

	probe_close(r);
	if (r->pid > 0) {
		kill(r->pid, hard ? SIGKILL : SIGTERM);
		while (waitpid(r->pid, NULL, WNOHANG) == 0) {
			if (now_ms() >= end) {
				kill(r->pid, SIGKILL);
				waitpid(r->pid, NULL, 0);
				break;
			}
			usleep(5000);
		}
		r->pid = 0;
	}
	if (a->s->runtime == NC_RT_RUNC) {
		snprintf(bundle, sizeof(bundle), "%s/bundle", r->dir);
		nc_box_destroy(r->id, bundle);
	}
}

static int rm_tree(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	char sub[512];

	if (d == NULL)
		return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	return rmdir(path) == 0 ? 0 : -errno;
}

/* Out of the deployment: process, switch ports, files. */
static void rep_remove(struct agent *a, struct rep *r)
{
	unsigned p;

	rep_kill(a, r, false);
	if (a->sw_pid > 0)
		fdb(a, false, r->m.mac[0], NULL);
	for (p = 0; p < 2; p++) {
		if (a->sw_pid > 0)
			sw(a, "port-del %s", r->m.port[p]);
		memif_free(a, r->memif[p]);
	}
	rm_tree(r->dir);
	free(r->pbuf);
	event(a, "remove", r->name, "removed");
	memset(r, 0, sizeof(*r));
	r->pfd = -1;
}

static void rep_down(struct agent *a, struct rep *r, const char *why)
{
	bool was_up = r->st == R_UP;
	uint64_t backoff;

	probe_close(r);
	if (r->st == R_STOP)
		return;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->st = R_DEAD;
	if (was_up)
		a->dirty = true;
	/* Restart at once the first time; a replica that keeps failing soon
	 * after its start waits longer each time (up to 5 s). */
	if (r->t_up && now_ms() - r->t_up > 10000)
		r->fast_fails = 0;
	backoff = r->fast_fails ? 100ull << (r->fast_fails < 6 ? r->fast_fails : 6) : 0;
	r->t_restart = now_ms() + (backoff < BACKOFF_MAX_MS ? backoff : BACKOFF_MAX_MS);
	r->fast_fails++;
	r->t_up = 0;
	event(a, "down", r->name, "down: %s%s", why,
	      a->s->restart == NC_RS_NEVER ? "" : ", restarting");
}

static void on_child(struct agent *a)
{
	int status;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char why[64];

		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
		if (pid == a->sw_pid) {
			a->sw_pid = 0;
			logf_(a, "nfswitch %s: tearing down", why);
			a->quit = a->failed = true;
			continue;
		}
		for (i = 0; i < REP_MAX; i++) {
			struct rep *r = &a->rep[i];

			if (!r->used || r->pid != pid)
				continue;
			r->pid = 0;
			if (a->s->runtime == NC_RT_RUNC) {
				char bundle[300];

				snprintf(bundle, sizeof(bundle), "%s/bundle", r->dir);
				nc_box_destroy(r->id, bundle);
			}
			if (r->st == R_DEAD || r->st == R_DRAIN)
				continue;	/* taken down already (probe timeout), or draining */
			if (a->s->restart == NC_RS_ON_FAILURE && WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0) {
				rep_down(a, r, why);
				r->st = R_STOP;	/* not restarted: a clean exit */
			} else {
				rep_down(a, r, why);
			}
		}
	}
}

/* --- probes --- */

static void probe_start(struct agent *a, struct rep *r, uint64_t now)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	/* Starting replicas are asked often: they join as soon as they answer. */
	r->p_next = now + (r->st == R_START ? 20 : a->s->probe_interval_ms);
	r->p_deadline = now + a->s->probe_timeout_ms;
	r->plen = 0;
	r->pfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->pfd < 0)
		return;
	rep_ctl_path(r, sa.sun_path, sizeof(sa.sun_path));
	if (connect(r->pfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(r->pfd, "stats\n", 6) != 6)
		probe_close(r);		/* not listening yet: the next probe */
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static void probe_answer(struct rep *r, uint64_t now)
{
	struct json_object *j = json_tokener_parse(r->pbuf), *ports, *drops;
	uint64_t rx = 0, tx = 0, dr = 0;
	bool up = true;
	size_t i, n;

	probe_close(r);
	if (j == NULL || !json_object_get_boolean(json_object_object_get(j, "ok"))) {
		json_object_put(j);
		return;
	}
	r->queue = 0;
	if (json_object_object_get_ex(j, "ports", &ports)) {
		n = json_object_array_length(ports);
		for (i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(ports, i), *d;
			uint64_t ring = ju64(p, "rx_ring");

			up &= json_object_get_boolean(json_object_object_get(p, "up"));
			/* its fullest input ring over the last ~100 ms */
			if (ring && (double)ju64(p, "rx_queue") / (double)ring > r->queue)
				r->queue = (double)ju64(p, "rx_queue") / (double)ring;
			rx += ju64(p, "rx_packets");
			if (i == 0)
				r->rx_in = ju64(p, "rx_packets");
			tx += ju64(p, "tx_packets");
			if (json_object_object_get_ex(p, "drops", &d)) {
				json_object_object_foreach(d, k, v) {
					(void)k;
					dr += (uint64_t)json_object_get_int64(v);
				}
			}
		}
	}
	/* The probes it received and sent on are ours, not traffic. */
	{
		uint64_t pin = ju64(j, "probes_in"), pout = ju64(j, "probes");

		rx -= rx >= pin ? pin : rx;
		tx -= tx >= pout ? pout : tx;
	}
	if (json_object_object_get_ex(j, "drops", &drops)) {
		json_object_object_foreach(drops, k, v) {
			(void)k;
			dr += (uint64_t)json_object_get_int64(v);
		}
	}
	{	/* the busy fraction of its loop since the last answer */
		uint64_t idle = ju64(j, "idle_ns"), clk = ju64(j, "clock_ns");

		if (r->clock_ns && clk > r->clock_ns && idle >= r->idle_ns) {
			double b = 1.0 - (double)(idle - r->idle_ns) / (double)(clk - r->clock_ns);

			r->busy = b < 0 ? 0 : b > 1 ? 1 : b;
		}
		r->idle_ns = idle;
		r->clock_ns = clk;
	}
	json_object_put(j);
	if (r->t_stats && now > r->t_stats) {
		double dt = (double)(now - r->t_stats) / 1000;

		r->pps_in = (double)(rx - r->rx) / dt;
		r->pps_out = (double)(tx - r->tx) / dt;
	}
	r->rx = rx;
	r->tx = tx;
	r->drops = dr;
	r->t_stats = now;
	r->ctl_ok = up;		/* tick() lets it join once a probe frame came back */
}

static void probe_read(struct rep *r, uint64_t now)
{
	ssize_t n;

	for (;;) {
		if (r->plen + 4096 > r->pcap) {
			char *p = realloc(r->pbuf, r->pcap + 65536);

			if (p == NULL)
				return;
			r->pbuf = p;
			r->pcap += 65536;
		}
		n = read(r->pfd, r->pbuf + r->plen, r->pcap - r->plen - 1);
		if (n > 0) {
			r->plen += (size_t)n;
			continue;
		}
		if (n == 0) {
			r->pbuf[r->plen] = '\0';
			probe_answer(r, now);
		} else if (errno != EAGAIN && errno != EINTR) {
			probe_close(r);
		}
		return;
	}
}

/* Does the probe path itself work: did another replica's probe come
 * back lately? If not (one replica, or the agent's own port is down),
 * a silent data path is not held against a replica. */
static bool probes_work(struct agent *a, const struct rep *me, uint64_t now)
{
	unsigned i;

	if (a->probe == NULL || !nf_port_is_up(a->probe))
		return false;
	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used && &a->rep[i] != me && a->rep[i].dp_back &&
		    now - a->rep[i].dp_t_back < 2ull * a->s->probe_timeout_ms)
			return true;
	return false;
}

/* --- draining: a replica leaves its group, then stops ---
 *
 * Autoscaling in takes replica N-1 of a type out of its group first (a
 * "-" at its position: the consistent hash hands exactly its flows to
 * the others, and the switch keeps sending what it returns through the
 * proxy); it keeps running until its receive counter stood still for two
 * probe intervals (its rings are empty: nothing in flight is lost), then
 * stops and is removed. */
static void drain_start(struct agent *a, struct rep *r, uint64_t now)
{
	int v = nc_spec_vnf(a->s, r->vnf);

	r->st = R_DRAIN;
	r->handoff = false;
	r->t_drain = r->t_quiet = now;
	r->drain_rx = r->rx;
	a->dirty = true;
	event(a, "drain", r->name, "leaves its group for new flows, keeps those it has; stops "
	      "once nothing more comes in (at most %u ms, then they go to the others)",
	      v >= 0 ? a->s->vnf[v].scale.drain_ms : 0);
}

static void drain_step(struct agent *a, struct rep *r, uint64_t now)
{
	int v = nc_spec_vnf(a->s, r->vnf);
	uint64_t iv = a->s->probe_interval_ms;

	if (r->rx != r->drain_rx) {
		r->drain_rx = r->rx;
		r->t_quiet = now;
	}
	if (r->pid != 0 && (now - r->t_quiet < 2 * iv || r->t_stats < r->t_quiet + iv)) {
		if (!r->handoff && now - r->t_drain >= (v >= 0 ? a->s->vnf[v].scale.drain_ms : 0)) {
			/* its flows did not end: the others take them */
			r->handoff = true;
			r->t_handoff = now;
			a->dirty = true;
			event(a, "drain", r->name, "still carries flows after %" PRIu64 " ms: hands "
			      "them to the other replicas", now - r->t_drain);
		}
		if (!r->handoff || now - r->t_handoff < HANDOFF_MAX_MS) {
			if (r->pfd < 0 && now >= r->p_next)
				probe_start(a, r, now);
			return;
		}
	}
	event(a, "drain", r->name, "drained after %" PRIu64 " ms (%" PRIu64 " frames received "
	      "in all)%s", now - r->t_drain, r->rx, r->pid ? "" : ", it had exited");
	if (v >= 0 && a->s->vnf[v].replicas == r->idx + 1)
		a->s->vnf[v].replicas = r->idx;
	rep_remove(a, r);
	a->dirty = true;
}

/* Deadlines: probes due or late, restarts due, replicas slow to start. */
static void tick(struct agent *a, uint64_t now)
{
	unsigned i;

	for (i = 0; i < REP_MAX; i++) {
		struct rep *r = &a->rep[i];

		if (!r->used)
			continue;
		if (r->st == R_DRAIN) {
			drain_step(a, r, now);
			continue;
		}
		if (r->st == R_DEAD && r->pid == 0 && a->s->restart != NC_RS_NEVER &&
		    now >= r->t_restart) {
			r->restarts++;
			if (rep_spawn(a, r) < 0)
				r->t_restart = now + 1000;
			else
				event(a, "restart", r->name, "restarted (pid %d)", (int)r->pid);
			continue;
		}
		if (r->pid == 0 || (r->st != R_START && r->st != R_UP))
			continue;
		if (r->pfd >= 0 && now >= r->p_deadline) {
			probe_close(r);
			if (r->st == R_UP) {
				/* Stuck: it holds its flows but does not serve them. */
				kill(r->pid, SIGKILL);
				rep_down(a, r, "no answer to the health probe");
				continue;
			}
		}
		if (r->st == R_START && now > r->t_start + START_TIMEOUT_MS) {
			kill(r->pid, SIGKILL);
			rep_down(a, r, "not up within 5 s of its start");
			continue;
		}
		if (r->st == R_UP && r->dp_sent > 3 && now - r->dp_t_back > 2ull * a->s->probe_timeout_ms) {
			/* No probe came back for two timeouts. Overloaded (its
			 * first port's receive counter moves: probes are lost
			 * among the frames), or wedged (nothing comes in)? */
			if (r->rx_in == r->dp_rx_mark && probes_work(a, r, now)) {
				kill(r->pid, SIGKILL);
				rep_down(a, r, "its data path does not answer probes");
				continue;
			}
			r->dp_rx_mark = r->rx_in;
			r->dp_t_back = now;	/* another two timeouts */
		}
		if (r->pfd < 0 && now >= r->p_next) {
			probe_start(a, r, now);
			probe_send(a, r);
		}
		if (r->st == R_START && r->ctl_ok && r->dp_back) {
			r->st = R_UP;
			r->t_up = now;
			r->dp_t_back = now;
			a->dirty = true;
			event(a, "up", r->name, "up after %" PRIu64 " ms", now - r->t_start);
		}
	}
}

/* --- the deployment --- */

static bool all_up(struct agent *a)
{
	unsigned i;

	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used && a->rep[i].st != R_UP)
			return false;
	return true;
}

/* --- autoscaling (scale.c) --- */

/* Does a type in a chain of @v have a replica starting or draining, or
 * frames held in the switch? */
static bool chain_unsettled(struct agent *a, unsigned v)
{
	unsigned c, j, k;

	for (c = 0; c < a->s->nchain; c++) {
		const struct nc_chain *ch = &a->s->chain[c];
		bool mine = false;

		for (j = 0; j < ch->nvnf; j++)
			mine |= ch->vnf[j] == (int)v;
		for (j = 0; mine && j < ch->nvnf; j++) {
			const char *name = a->s->vnf[ch->vnf[j]].name;

			if (a->holding[ch->vnf[j]])
				return true;
			for (k = 0; k < REP_MAX; k++)
				if (a->rep[k].used && a->rep[k].st != R_UP &&
				    strcmp(a->rep[k].vnf, name) == 0)
					return true;
		}
	}
	return false;
}

/* ---
 *
 * Once per probe interval per VNF type with a `scale` section: the load
 * of its replicas (frames/s in, busy fractions of their loops, from the
 * stats answers) goes to nc_scale_decide(), whose answer is carried out
 * here: new replicas join their group once up; one fewer is a drain.
 * No decision while a replica of the type starts, drains or is down. */
static void autoscale_vnf(struct agent *a, unsigned v, uint64_t now)
{
	struct nc_vnf *f = &a->s->vnf[v];
	struct nc_scale_in in = { .now_ms = now };
	struct nc_scale_out *out = &a->sco[v];
	unsigned k, up = 0, other = 0;

	for (k = 0; k < REP_MAX; k++) {
		const struct rep *r = &a->rep[k];

		if (!r->used || strcmp(r->vnf, f->name) != 0)
			continue;
		if (r->st == R_UP && r->t_stats) {
			up++;
			in.pps += r->pps_in;
			in.busy += r->busy;
			if (r->queue > in.queue)
				in.queue = r->queue;
		} else {
			other++;
		}
	}
	a->sc_pps[v] = in.pps;
	a->sc_busy[v] = in.busy;
	/* A change under way here or in a type of the same chain (a replica
	 * starting, frames held) counts as traffic: the idle time runs from
	 * when the chain is settled, so a chain started from zero is not
	 * taken down hop by hop while its first frame is still on its way. */
	if (other || up != f->replicas) {
		a->sc[v].t_traffic = now;
		return;
	}
	if (chain_unsettled(a, v))
		a->sc[v].t_traffic = now;
	in.n = up;
	in.holding = a->holding[v];
	nc_scale_decide(&f->scale, &a->sc[v], &in, out);
	if (out->want > 0)
		a->holding[v] = false;
	if (out->unmet_change > 0)
		event(a, "slo", f->name, "%s (target per replica not kept)", out->status);
	else if (out->unmet_change < 0)
		event(a, "slo", f->name, "met again: %.0f pps, busy %.2f over %u replicas", in.pps,
		      in.busy, up);
	if (out->want > up) {
		event(a, up ? "autoscale" : "cold-start", f->name, "%s", out->why);
		for (k = up; k < out->want; k++) {
			f->replicas = k + 1;
			if (rep_create(a, (int)v, k) < 0) {
				f->replicas = k;
				break;
			}
		}
		a->dirty = true;
	} else if (out->want < up) {
		struct rep *r = rep_find(a, f->name, up - 1);

		event(a, out->want ? "autoscale" : "idle", f->name, "%s", out->why);
		if (r != NULL)
			drain_start(a, r, now);
	}
}

/* The highest data-path probe round trip among the up replicas of @v. */
static uint32_t vnf_rtt(struct agent *a, unsigned v)
{
	uint32_t m = 0;
	unsigned k;

	for (k = 0; k < REP_MAX; k++) {
		const struct rep *r = &a->rep[k];

		if (r->used && r->st == R_UP && strcmp(r->vnf, a->s->vnf[v].name) == 0 &&
		    r->dp_rtt_us > m)
			m = r->dp_rtt_us;
	}
	return m;
}


static int cmp_u32(const void *x, const void *y)
{
	const uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

/* The 99th percentile (nearest rank) of @n samples. */
static uint32_t lat_p99(const uint32_t *v, unsigned n)
{
	uint32_t s[LAT_WINDOW];

	if (n == 0)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	return s[(99 * n + 99) / 100 - 1];
}

/* Once a second, for chains with slo.max-loss: the switch's counters of
 * the chain's first SID (frames in) and egress SID (frames delivered);
 * what went in and did not come out in that second is lost (dropped by
 * a VNF, a full ring, a replica that died). SRv6 chains only. */
static void loss_poll(struct agent *a, uint64_t now)
{
	struct json_object *r, *sids;
	char *out = NULL;
	unsigned c;
	bool any = false;
	size_t i, n;

	for (c = 0; c < a->s->nchain; c++)
		any |= a->s->chain[c].slo.on && a->s->chain[c].slo.max_loss_ppm != UINT64_MAX;
	if (!any || now - a->t_loss < 1000)
		return;
	a->t_loss = now;
	if (nf_ctl_request(a->swctl, "sids", 1000, &out) < 0)
		return;
	r = json_tokener_parse(out);
	free(out);
	if (r == NULL || !json_object_object_get_ex(r, "sids", &sids)) {
		json_object_put(r);
		return;
	}
	n = json_object_array_length(sids);
	for (c = 0; c < a->s->nchain; c++) {
		const struct nc_chain *ch = &a->s->chain[c];
		char pin[64], pout[64];
		uint64_t in = 0, outp = 0;
		bool have = false;

		if (!ch->slo.on || ch->slo.max_loss_ppm == UINT64_MAX || ch->steering != NC_ST_SRV6)
			continue;
		snprintf(pin, sizeof(pin), "sid fd00:6e63:%x::1 ", chain_no(c, a));
		snprintf(pout, sizeof(pout), "sid fd00:6e63:%x::ff ", chain_no(c, a));
		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_array_get_idx(sids, i);
			const char *t = json_object_get_string(json_object_object_get(o, "sid"));
			uint64_t p = (uint64_t)json_object_get_int64(json_object_object_get(o, "packets"));

			if (t && strncmp(t, pin, strlen(pin)) == 0) {
				in = p;
				have = true;
			} else if (t && strncmp(t, pout, strlen(pout)) == 0) {
				outp = p;
			}
		}
		if (!have || !a->loss_known[c] || in < a->loss_in[c] || outp < a->loss_out[c]) {
			/* a start (or counters that went back): a baseline */
			a->loss_mark[c] = (int64_t)(in - outp);
			a->loss_missing[c] = 0;
			a->loss_win_in[c] = 0;
		} else {
			/* Frames that went in a second ago or earlier and are not
			 * out now are lost (a chain crosses in far less): a lower
			 * bound of the loss so far, that frames in flight or held
			 * up in a busy replica's ring do not raise. What it grew
			 * by is this second's loss, of the frames that went in
			 * during the second before. */
			const int64_t lb = (int64_t)a->loss_in[c] - (int64_t)outp;

			a->loss_missing[c] = lb > a->loss_mark[c] ? lb - a->loss_mark[c] : 0;
			a->loss_mark[c] = NF_MAX(a->loss_mark[c], lb);
			a->loss_win_in[c] = a->loss_in[c] - a->loss_prev[c];
		}
		a->loss_known[c] = have;
		a->loss_prev[c] = a->loss_in[c];
		a->loss_in[c] = in;
		a->loss_out[c] = outp;
	}
	json_object_put(r);
}

/* A chain's declared service level against what is measured: the
 * autoscaled types' "not met", the capacity of max replicas against
 * min-throughput, the sum of the hops' probe round trips against
 * latency-p99. One event when it stops being met, one when it is again. */
static void slo_chain(struct agent *a, unsigned c)
{
	const struct nc_chain *ch = &a->s->chain[c];
	char st[160] = "ok";
	uint64_t lat = 0;
	unsigned j;

	for (j = 0; j < ch->nvnf; j++) {
		const unsigned v = (unsigned)ch->vnf[j];
		const struct nc_scale *sc = &a->s->vnf[v].scale;

		lat += vnf_rtt(a, v);
		if (strcmp(st, "ok") != 0)
			continue;
		if (sc->on && strncmp(a->sco[v].status, "not met", 7) == 0)
			snprintf(st, sizeof(st), "%s: %s", a->s->vnf[v].name, a->sco[v].status);
		else if (sc->on && sc->target_pps && ch->slo.min_pps > sc->max * sc->target_pps)
			snprintf(st, sizeof(st), "not met: min-throughput %" PRIu64 " pps, but max %u "
				 "replicas of %s carry ~%" PRIu64, ch->slo.min_pps, sc->max,
				 a->s->vnf[v].name, sc->max * sc->target_pps);
	}
	if (strcmp(st, "ok") == 0 && ch->slo.max_loss_ppm != UINT64_MAX && a->loss_win_in[c] &&
	    a->loss_missing[c] > 0 &&
	    (uint64_t)a->loss_missing[c] * 1000000 > ch->slo.max_loss_ppm * a->loss_win_in[c])
		snprintf(st, sizeof(st), "not met: loss %.2f%% (%" PRId64 " of the %" PRIu64 " frames "
			 "of a second), target %.4g%%", 100.0 * (double)a->loss_missing[c] /
			 (double)a->loss_win_in[c], a->loss_missing[c], a->loss_win_in[c],
			 (double)ch->slo.max_loss_ppm / 10000);
	a->lat[c][a->nlat[c]++ % LAT_WINDOW] = (uint32_t)NF_MIN(lat, UINT32_MAX);
	a->lat_p99[c] = lat_p99(a->lat[c], NF_MIN(a->nlat[c], LAT_WINDOW));
	if (strcmp(st, "ok") == 0 && ch->slo.latency_us && a->lat_p99[c] > ch->slo.latency_us)
		snprintf(st, sizeof(st), "not met: latency p99 %u us (probe round trips summed "
			 "over %u hops, last %u samples), target %" PRIu64 " us", a->lat_p99[c],
			 ch->nvnf, NF_MIN(a->nlat[c], LAT_WINDOW), ch->slo.latency_us);
	/* A change of met / not met after NC_SCALE_SAMPLES samples in a row. */
	if ((strcmp(st, "ok") == 0) == (strcmp(a->slo[c], "ok") == 0 || !a->slo[c][0])) {
		a->slo_runs[c] = 0;
		if (strcmp(st, "ok") != 0)
			snprintf(a->slo[c], sizeof(a->slo[c]), "%s", st);	/* the figures */
		return;
	}
	if (++a->slo_runs[c] < NC_SCALE_SAMPLES)
		return;
	a->slo_runs[c] = 0;
	if (strcmp(st, "ok") != 0)
		event(a, "slo", ch->name, "%s", st);
	else
		event(a, "slo", ch->name, "met again");
	snprintf(a->slo[c], sizeof(a->slo[c]), "%s", st);
}

/* nfswitch says a group holds frames (its first, for a type at zero):
 * every type at zero of that chain starts now, not hop by hop. */
static void hold_news(struct agent *a, uint64_t now)
{
	char msg[128];
	ssize_t n;

	while ((n = recv(a->hold_fd, msg, sizeof(msg) - 1, 0)) > 0) {
		char name[NC_NAME_MAX + 2];
		int v;
		unsigned c, j;

		msg[n] = '\0';
		if (sscanf(msg, "hold %16s", name) != 1 || (v = nc_spec_vnf(a->s, name)) < 0)
			continue;
		for (c = 0; c < a->s->nchain; c++) {
			const struct nc_chain *ch = &a->s->chain[c];
			bool mine = false;

			for (j = 0; j < ch->nvnf; j++)
				mine |= ch->vnf[j] == v;
			for (j = 0; mine && j < ch->nvnf; j++) {
				const unsigned w = (unsigned)ch->vnf[j];

				if (!a->s->vnf[w].scale.on)
					continue;
				/* remembered: a type draining to zero starts again
				 * once drained */
				a->holding[w] = true;
				if (a->s->vnf[w].replicas == 0) {
					a->t_scale[w] = now;
					autoscale_vnf(a, w, now);
				}
			}
		}
	}
}

static void autoscale(struct agent *a, uint64_t now)
{
	unsigned v, c;

	for (v = 0; v < a->s->nvnf; v++) {
		if (!a->s->vnf[v].scale.on || now - a->t_scale[v] < a->s->probe_interval_ms)
			continue;
		a->t_scale[v] = now;
		autoscale_vnf(a, v, now);
	}
	loss_poll(a, now);
	if (now - a->t_slo < a->s->probe_interval_ms)
		return;
	a->t_slo = now;
	for (c = 0; c < a->s->nchain; c++)
		if (a->s->chain[c].slo.on)
			slo_chain(a, c);
}

static void autoscale_reset(struct agent *a, uint64_t now)
{
	unsigned v;

	for (v = 0; v < NC_VNF_MAX; v++) {
		nc_scale_init(&a->sc[v], now);
		snprintf(a->sco[v].status, sizeof(a->sco[v].status), "ok");
	}
	memset(a->slo, 0, sizeof(a->slo));
	memset(a->slo_runs, 0, sizeof(a->slo_runs));
	memset(a->loss_known, 0, sizeof(a->loss_known));
	memset(a->loss_win_in, 0, sizeof(a->loss_win_in));
	memset(a->nlat, 0, sizeof(a->nlat));
}

/* Move the running deployment to @n (which replaces a->s): replicas of
 * removed or changed VNF types and those past the new count go, external
 * ports no longer described go, new ones come; chains that did not change
 * keep their replicas, rules and SIDs (same numbers, same text). */
static int reconcile(struct agent *a, struct nc_spec *n)
{
	struct nc_spec *old = a->s;
	bool gone_port[NC_XPORT_MAX] = { false };
	unsigned i, j;
	int ret = 0;

	/* An autoscaled type whose file gives no replicas count keeps the
	 * count the autoscaler reached, within the new bounds. */
	for (i = 0; i < n->nvnf; i++) {
		struct nc_vnf *f = &n->vnf[i];
		int ov = nc_spec_vnf(old, f->name);

		if (f->scale.on && !f->replicas_set && ov >= 0 && old != n &&
		    nc_vnf_same(f, &old->vnf[ov]))
			f->replicas = NF_MAX(f->scale.min, NF_MIN(old->vnf[ov].replicas,
								  f->scale.max));
	}
	for (i = 0; i < REP_MAX; i++) {
		struct rep *r = &a->rep[i];
		int v = r->used ? nc_spec_vnf(n, r->vnf) : -1;
		int ov = r->used ? nc_spec_vnf(old, r->vnf) : -1;

		if (r->used && (v < 0 || r->idx >= n->vnf[v].replicas ||
				!nc_vnf_same(&n->vnf[v], &old->vnf[ov])))
			r->st = R_STOP;
	}
	for (i = 0; i < old->nxport; i++) {
		const struct nc_xport *x = &old->xport[i];

		gone_port[i] = true;
		for (j = 0; j < n->nxport; j++)
			if (strcmp(n->xport[j].name, x->name) == 0 &&
			    n->xport[j].is_memif == x->is_memif &&
			    n->xport[j].memif_id == x->memif_id &&
			    n->xport[j].remote == x->remote &&
			    strcmp(n->xport[j].spec, x->spec) == 0 &&
			    strcmp(n->xport[j].ifname, x->ifname) == 0)
				gone_port[i] = false;
	}
	/* 1. New external ports (not those that change: step 3), new steering
	 * without the leaving replicas. */
	a->s = n;
	autoscale_reset(a, now_ms());
	for (j = 0; j < n->nxport; j++) {
		bool exists = false;

		for (i = 0; i < old->nxport; i++)
			if (strcmp(old->xport[i].name, n->xport[j].name) == 0)
				exists = true;
		if (!exists && xport_add(a, &n->xport[j]) < 0)
			ret = -1;
	}
	if (ret == 0 && load_steering(a) < 0)
		ret = -1;
	if (ret < 0) {
		/* Back to the old description: nothing has stopped yet. */
		for (j = 0; j < n->nxport; j++) {
			bool exists = false;

			for (i = 0; i < old->nxport; i++)
				if (strcmp(old->xport[i].name, n->xport[j].name) == 0)
					exists = true;
			if (!exists)
				xport_del(a, &n->xport[j]);
		}
		for (i = 0; i < REP_MAX; i++)
			if (a->rep[i].used && a->rep[i].st == R_STOP)
				a->rep[i].st = a->rep[i].pid ? R_START : R_DEAD;
		a->s = old;
		load_steering(a);
		return -1;
	}
	/* 2. The leaving replicas go. */
	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used && a->rep[i].st == R_STOP)
			rep_remove(a, &a->rep[i]);
	/* 3. External ports that went or changed. */
	for (i = 0; i < old->nxport; i++) {
		if (!gone_port[i])
			continue;
		xport_del(a, &old->xport[i]);
		for (j = 0; j < n->nxport; j++)
			if (strcmp(n->xport[j].name, old->xport[i].name) == 0)
				xport_add(a, &n->xport[j]);
	}
	/* 4. New replicas: in their groups once they answer. */
	for (i = 0; i < n->nvnf; i++)
		for (j = 0; j < n->vnf[i].replicas; j++)
			if (rep_find(a, n->vnf[i].name, j) == NULL && rep_create(a, (int)i, j) < 0)
				ret = -1;
	load_steering(a);
	if (old != n)
		nc_spec_free(old);
	return ret;
}

/* --- the control socket --- */

/* Per autoscaled VNF type: bounds, targets, the load measured, the
 * status ("ok" or "not met: ..."), the last decision; per chain with a
 * service level: its status. */
static struct json_object *scaling_json(struct agent *a)
{
	struct json_object *arr = json_object_new_array();
	unsigned v, c;

	for (v = 0; v < a->s->nvnf; v++) {
		const struct nc_vnf *f = &a->s->vnf[v];
		struct json_object *o;

		if (!f->scale.on)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "vnf", json_object_new_string(f->name));
		json_object_object_add(o, "replicas", json_object_new_int((int)f->replicas));
		json_object_object_add(o, "min", json_object_new_int((int)f->scale.min));
		json_object_object_add(o, "max", json_object_new_int((int)f->scale.max));
		json_object_object_add(o, "target_pps", json_object_new_int64((int64_t)f->scale.target_pps));
		json_object_object_add(o, "target_busy", json_object_new_double(f->scale.target_busy / 1000.0));
		json_object_object_add(o, "pps", json_object_new_double(a->sc_pps[v]));
		json_object_object_add(o, "busy", json_object_new_double(a->sc_busy[v]));
		json_object_object_add(o, "slo", json_object_new_string(a->sco[v].status));
		json_object_array_add(arr, o);
	}
	for (c = 0; c < a->s->nchain; c++) {
		struct json_object *o;

		if (!a->s->chain[c].slo.on)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "chain", json_object_new_string(a->s->chain[c].name));
		json_object_object_add(o, "slo", json_object_new_string(a->slo[c][0] ? a->slo[c] : "ok"));
		json_object_object_add(o, "latency_p99_us", json_object_new_int64(a->lat_p99[c]));
		json_object_object_add(o, "loss_frames", json_object_new_int64(
			a->loss_missing[c] > 0 ? a->loss_missing[c] : 0));
		json_object_object_add(o, "in_frames", json_object_new_int64((int64_t)a->loss_win_in[c]));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void status_json(struct agent *a, struct json_object *reply)
{
	struct json_object *reps = json_object_new_array();
	uint64_t now = now_ms();
	unsigned v, k;

	json_object_object_add(reply, "name", json_object_new_string(a->s->name));
	json_object_object_add(reply, "file", json_object_new_string(a->s->file));
	json_object_object_add(reply, "runtime", json_object_new_string(
		a->s->runtime == NC_RT_RUNC ? "runc" : "process"));
	json_object_object_add(reply, "run_dir", json_object_new_string(a->run));
	json_object_object_add(reply, "memif_socket", json_object_new_string(a->swsock));
	json_object_object_add(reply, "switch_ctl", json_object_new_string(a->swctl));
	json_object_object_add(reply, "switch_pid", json_object_new_int(a->sw_pid));
	json_object_object_add(reply, "uptime_ms", json_object_new_int64((int64_t)(now - a->t0)));
	/* in the description's order */
	for (v = 0; v < a->s->nvnf; v++) {
		for (k = 0; k < REP_MAX; k++) {
			struct rep *r = &a->rep[k];
			struct json_object *o;

			if (!r->used || strcmp(r->vnf, a->s->vnf[v].name) != 0)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "vnf", json_object_new_string(r->vnf));
			json_object_object_add(o, "replica", json_object_new_int((int)r->idx));
			json_object_object_add(o, "state", json_object_new_string(rstate_names[r->st]));
			json_object_object_add(o, "pid", json_object_new_int(r->pid));
			json_object_object_add(o, "restarts", json_object_new_int((int)r->restarts));
			json_object_object_add(o, "pps_in", json_object_new_double(r->pps_in));
			json_object_object_add(o, "pps_out", json_object_new_double(r->pps_out));
			json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)r->rx));
			json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)r->tx));
			json_object_object_add(o, "drops", json_object_new_int64((int64_t)r->drops));
			json_object_object_add(o, "ports", json_object_new_string(r->m.port[0]));
			json_object_object_add(o, "return_port", json_object_new_string(r->m.port[1]));
			json_object_object_add(o, "ctl", json_object_new_string(r->dir));
			json_object_object_add(o, "last_down", json_object_new_string(r->why));
			json_object_object_add(o, "probes_sent", json_object_new_int64((int64_t)r->dp_sent));
			json_object_object_add(o, "probes_back", json_object_new_int64((int64_t)r->dp_back));
			json_object_object_add(o, "probe_rtt_us", json_object_new_int64(r->dp_rtt_us));
			json_object_object_add(o, "busy", json_object_new_double(r->busy));
			json_object_object_add(o, "queue", json_object_new_double(r->queue));
			if (a->s->runtime == NC_RT_RUNC)
				json_object_object_add(o, "container", json_object_new_string(r->id));
			json_object_array_add(reps, o);
		}
	}
	json_object_object_add(reply, "replicas", reps);
	json_object_object_add(reply, "scaling", scaling_json(a));
	json_object_object_add(reply, "steering", json_object_new_string(a->steering));
	json_object_object_add(reply, "events", nc_events_json(&a->events, 0, 64));
}

/* --- HTTP (the description's http: key) ---
 *
 * One server in the agent's poll loop. /metrics: the deployment in the
 * Prometheus text format (docs/OPERATIONS.md), from the numbers the agent
 * already keeps (each replica's last "stats" answer, its probes, the event
 * ring): replicas run in their own network namespaces under runc, so this
 * is where their metrics are scraped. */

/* One family over the replicas, in the description's order. */
static void rep_family(struct agent *a, struct nf_metrics *m, const char *name,
		       const char *type, const char *help, double (*val)(const struct rep *r))
{
	unsigned v, k;
	char idx[16];

	nf_metrics_family(m, name, type, help);
	for (v = 0; v < a->s->nvnf; v++)
		for (k = 0; k < REP_MAX; k++) {
			const struct rep *r = &a->rep[k];

			if (!r->used || strcmp(r->vnf, a->s->vnf[v].name) != 0)
				continue;
			snprintf(idx, sizeof(idx), "%u", r->idx);
			nf_metrics_f64(m, name, val(r), "vnf", r->vnf, "replica", idx, NULL);
		}
}

static double rv_up(const struct rep *r) { return r->st == R_UP; }
static double rv_restarts(const struct rep *r) { return r->restarts; }
static double rv_rx(const struct rep *r) { return (double)r->rx; }
static double rv_tx(const struct rep *r) { return (double)r->tx; }
static double rv_drops(const struct rep *r) { return (double)r->drops; }
static double rv_rtt(const struct rep *r) { return r->dp_rtt_us / 1e6; }
static double rv_sent(const struct rep *r) { return (double)r->dp_sent; }
static double rv_back(const struct rep *r) { return (double)r->dp_back; }

static const struct {
	const char *name, *type, *help;
	double (*val)(const struct rep *r);
} rep_cols[] = {
	{ "nfchain_replica_up", "gauge", "1 when the replica is up (a group member), else 0.",
	  rv_up },
	{ "nfchain_replica_restarts_total", "counter", "Times the replica was restarted.",
	  rv_restarts },
	{ "nfchain_replica_rx_packets_total", "counter",
	  "Frames the replica received on its ports (health probes not counted), "
	  "at its last stats answer.", rv_rx },
	{ "nfchain_replica_tx_packets_total", "counter",
	  "Frames the replica transmitted (health probes not counted).", rv_tx },
	{ "nfchain_replica_drops_total", "counter",
	  "Frames the replica dropped (its ports' and its own reasons).", rv_drops },
	{ "nfchain_replica_probe_rtt_seconds", "gauge",
	  "Round trip of the last data-path probe through the replica.", rv_rtt },
	{ "nfchain_replica_probes_sent_total", "counter",
	  "Data-path probes sent through the replica.", rv_sent },
	{ "nfchain_replica_probes_answered_total", "counter",
	  "Data-path probes that came back through the replica.", rv_back },
};

static int agent_metrics(struct agent *a, struct nf_http_resp *rs)
{
	static const double rtt_le[] = { 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3,
					 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1 };
	struct nf_metrics m;
	unsigned i, v, k, up;

	nf_metrics_begin(&m, rs);
	nf_metrics_one(&m, "nfchain_uptime_seconds", "gauge",
		       "Seconds since the deployment's agent started.",
		       (double)(now_ms() - a->t0) / 1000);
	for (i = 0; i < NF_ARRAY_SIZE(rep_cols); i++)
		rep_family(a, &m, rep_cols[i].name, rep_cols[i].type, rep_cols[i].help,
			   rep_cols[i].val);
	nf_metrics_family(&m, "nfchain_vnf_replicas_desired", "gauge",
			  "Replicas the description asks for, by VNF type.");
	for (v = 0; v < a->s->nvnf; v++)
		nf_metrics_u64(&m, "nfchain_vnf_replicas_desired", a->s->vnf[v].replicas,
			       "vnf", a->s->vnf[v].name, NULL);
	nf_metrics_family(&m, "nfchain_vnf_replicas_up", "gauge",
			  "Replicas up (group members), by VNF type.");
	for (v = 0; v < a->s->nvnf; v++) {
		for (k = up = 0; k < REP_MAX; k++)
			up += a->rep[k].used && a->rep[k].st == R_UP &&
			      strcmp(a->rep[k].vnf, a->s->vnf[v].name) == 0;
		nf_metrics_u64(&m, "nfchain_vnf_replicas_up", up, "vnf", a->s->vnf[v].name, NULL);
	}
	nf_metrics_family(&m, "nfchain_vnf_probe_rtt_seconds", "histogram",
			  "Round trips of the data-path probes through the VNF type's replicas.");
	for (i = 0; i < NC_VNF_MAX; i++)
		if (a->rtt[i].vnf[0])
			nf_metrics_hist(&m, "nfchain_vnf_probe_rtt_seconds", &a->rtt[i].h, 1e-9,
					rtt_le, NF_ARRAY_SIZE(rtt_le), "vnf", a->rtt[i].vnf, NULL);
	nf_metrics_family(&m, "nfchain_events_total", "counter",
			  "Events of the deployment (nfchain status), by kind.");
	for (i = 0; i < a->events.nkinds; i++)
		nf_metrics_u64(&m, "nfchain_events_total", a->events.kinds[i].n,
			       "kind", a->events.kinds[i].kind, NULL);
	return nf_metrics_end(&m);
}

static int web_handle(struct agent *a, const struct nf_http_req *rq, struct nf_http_resp *rs);

/* Every HTTP request of the agent: /metrics here, the dashboard and the
 * portal (web.c) for every other path. */
static int http_handler(const struct nf_http_req *rq, struct nf_http_resp *rs, void *arg)
{
	struct agent *a = arg;

	if (strcmp(rq->path, "/metrics") != 0)
		return web_handle(a, rq, rs);
	if (!nf_metrics_request(rq, rs))
		return 0;
	return agent_metrics(a, rs);
}

static int ctl_handler(int argc, char **argv, struct json_object *reply, void *arg)
{
	struct agent *a = arg;
	uint64_t n;

	if (strcmp(argv[0], "status") == 0 && argc == 1) {
		status_json(a, reply);
		return 0;
	}
	if (strcmp(argv[0], "down") == 0 && argc == 1) {
		a->quit = true;
		json_object_object_add(reply, "message", json_object_new_string("tearing down"));
		return 0;
	}
	if (strcmp(argv[0], "scale") == 0 && argc == 3) {
		struct nc_spec *c;
		int v = nc_spec_vnf(a->s, argv[1]);

		if (v < 0) {
			nf_set_error("no VNF '%s' in this deployment", argv[1]);
			return -ENOENT;
		}
		if (nf_parse_u64(argv[2], 0, NC_REPLICA_MAX, 0, &n) < 0) {
			nf_set_error("replicas '%s': expected 0..%d", argv[2], NC_REPLICA_MAX);
			return -EINVAL;
		}
		/* A copy of the description with the new count. */
		c = malloc(sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		*c = *a->s;
		{
			unsigned i, j;

			for (i = 0; i < c->nvnf; i++) {
				c->vnf[i].config = a->s->vnf[i].config ? strdup(a->s->vnf[i].config) : NULL;
				for (j = 0; j < c->vnf[i].nfiles; j++)
					c->vnf[i].file[j].text = strdup(a->s->vnf[i].file[j].text);
			}
		}
		c->vnf[v].replicas = (unsigned)n;
		c->vnf[v].replicas_set = true;	/* asked for: not the autoscaler's count */
		event(a, "scale", argv[1], "scale from %u to %u replicas (request)",
		      a->s->vnf[v].replicas, (unsigned)n);
		if (reconcile(a, c) < 0) {
			nf_set_error("scale %s %u failed half-way: see the agent's log", argv[1],
				     (unsigned)n);
			return -EIO;
		}
		json_object_object_add(reply, "message", json_object_new_string("scaled"));
		return 0;
	}
	if (strcmp(argv[0], "apply") == 0 && argc == 2) {
		struct nc_spec *ns;
		char err[512];

		if (nc_spec_load(argv[1], &ns, err, sizeof(err)) < 0) {
			nf_set_error("%s", err);
			return -EINVAL;
		}
		if (strcmp(ns->name, a->s->name) || ns->runtime != a->s->runtime ||
		    ns->mode != a->s->mode || ns->switch_cpu != a->s->switch_cpu ||
		    strcmp(ns->http, a->s->http) || strcmp(ns->switch_metrics, a->s->switch_metrics)) {
			nc_spec_free(ns);
			nf_set_error("name, runtime, mode, switch-cpu, http and switch-metrics cannot "
				     "change in a running deployment: down, then up");
			return -EINVAL;
		}
		event(a, "apply", "", "apply %s", argv[1]);
		if (reconcile(a, ns) < 0) {
			nf_set_error("apply failed: see the agent's log");
			return -EIO;
		}
		json_object_object_add(reply, "message", json_object_new_string("applied"));
		return 0;
	}
	nf_set_error("unknown request (status, scale VNF N, apply FILE, down)");
	return -EINVAL;
}

/* --- the live table --- */

static void print_table(struct agent *a)
{
	uint64_t now = now_ms();
	unsigned v, k;

	if (isatty(1))
		fputs("\033[H\033[2J", stdout);
	printf("nfchain %s: %s, up %.0f s, switch pid %d, memif socket %s\n", a->s->name,
	       a->s->runtime == NC_RT_RUNC ? "runc containers" : "processes",
	       (double)(now - a->t0) / 1000, (int)a->sw_pid, a->swsock);
	printf("%-16s %-9s %7s %8s %12s %12s %10s\n", "REPLICA", "STATE", "PID", "RESTARTS",
	       "PPS IN", "PPS OUT", "DROPS");
	for (v = 0; v < a->s->nvnf; v++)
		for (k = 0; k < REP_MAX; k++) {
			struct rep *r = &a->rep[k];
			char name[32];

			if (!r->used || strcmp(r->vnf, a->s->vnf[v].name) != 0)
				continue;
			snprintf(name, sizeof(name), "%s.%u", r->vnf, r->idx);
			printf("%-16s %-9s %7d %8u %12.0f %12.0f %10" PRIu64 "\n", name,
			       rstate_names[r->st], (int)r->pid, r->restarts, r->pps_in,
			       r->pps_out, r->drops);
		}
	for (v = 0; v < a->s->nvnf; v++)
		if (a->s->vnf[v].scale.on)
			printf("scale %s: %u replicas (%u..%u), %.0f pps, busy %.2f: %s\n",
			       a->s->vnf[v].name, a->s->vnf[v].replicas, a->s->vnf[v].scale.min,
			       a->s->vnf[v].scale.max, a->sc_pps[v], a->sc_busy[v],
			       a->sco[v].status);
	fflush(stdout);
}

/* --- up and down --- */

/* --- HTTP: the dashboard and the portal (web.c) --- */

static const struct nc_spec *web_spec(void *arg)
{
	return ((struct agent *)arg)->s;
}

static void web_status(void *arg, struct json_object *o)
{
	status_json(arg, o);
}

/* A tenant's new services: its rules change, one steer-load, an event. */
static int web_set_services(void *arg, unsigned t, uint8_t bits)
{
	struct agent *a = arg;
	struct nc_tenant *tn = &a->s->tenant[t];
	const struct nc_chain *c = &a->s->chain[tn->chain];
	uint8_t old = tn->services;
	char names[160] = "";
	size_t used = 0;
	unsigned j;

	for (j = 0; j < c->nvnf; j++)
		if (bits >> j & 1)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 used ? ", " : "", a->s->vnf[c->vnf[j]].name);
	tn->services = bits;
	if (load_steering(a) < 0) {
		tn->services = old;
		load_steering(a);
		nf_set_error("the switch refused the new steering: %s", a->lasterr);
		return -EIO;
	}
	event(a, "tenant", tn->name, "services now %s (portal)", used ? names : "none");
	return 0;
}

static int web_rule_count(void *arg, uint32_t id, uint64_t *packets, uint64_t *bytes)
{
	struct agent *a = arg;
	struct json_object *r, *rules;
	char *out = NULL;
	int ret = -ENOENT;
	size_t i;

	*packets = *bytes = 0;
	if (nf_ctl_request(a->swctl, "rules", 3000, &out) < 0)
		return -EIO;
	r = json_tokener_parse(out);
	free(out);
	if (r && json_object_object_get_ex(r, "rules", &rules))
		for (i = 0; i < json_object_array_length(rules); i++) {
			struct json_object *o = json_object_array_get_idx(rules, i);

			if (json_object_get_int64(json_object_object_get(o, "id")) != id)
				continue;
			*packets = (uint64_t)json_object_get_int64(json_object_object_get(o, "packets"));
			*bytes = (uint64_t)json_object_get_int64(json_object_object_get(o, "bytes"));
			ret = 0;
		}
	json_object_put(r);
	return ret;
}

static int web_handle(struct agent *a, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	return nc_web_handle(a->web, rq, rs);
}

/* The dashboard and the portal on the http server (web.c). */
static int web_open(struct agent *a)
{
	const struct nc_web_ops ops = { web_spec, web_status, web_set_services, web_rule_count, a };
	char host[NC_ADDR_MAX];
	char *colon;

	if (nc_web_new(&ops, &a->web) < 0) {
		nf_set_error("out of memory");
		return -1;
	}
	snprintf(host, sizeof(host), "%s", a->s->http);
	colon = strrchr(host, ':');
	if (colon)
		*colon = '\0';
	nc_web_listen(a->web, host, nf_http_port(a->http));
	logf_(a, "dashboard http://%s:%u/, portal http://%s:%u/portal", host[0] ? host : "HOST",
	      nf_http_port(a->http), host[0] ? host : "HOST", nf_http_port(a->http));
	return 0;
}

static void teardown(struct agent *a)
{
	unsigned i;

	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used && a->rep[i].pid > 0)
			kill(a->rep[i].pid, SIGTERM);
	for (i = 0; i < REP_MAX; i++)
		if (a->rep[i].used)
			rep_kill(a, &a->rep[i], false);
	if (a->probe)
		nf_port_close(a->probe);
	a->probe = NULL;
	nf_io_fini();
	if (a->sw_pid > 0) {
		uint64_t end = now_ms() + STOP_GRACE_MS;

		kill(a->sw_pid, SIGTERM);
		while (waitpid(a->sw_pid, NULL, WNOHANG) == 0) {
			if (now_ms() >= end) {
				kill(a->sw_pid, SIGKILL);
				waitpid(a->sw_pid, NULL, 0);
				break;
			}
			usleep(5000);
		}
		a->sw_pid = 0;
	}
	if (a->ctl)
		nf_ctl_close(a->ctl);
	a->ctl = NULL;
	if (a->hold_fd >= 0)
		close(a->hold_fd);
	a->hold_fd = -1;
	nf_http_close(a->http);
	a->http = NULL;
	nc_web_free(a->web);
	a->web = NULL;
	for (i = 0; i < REP_MAX; i++)
		free(a->rep[i].pbuf);
	if (a->made_run)	/* not another agent's */
		rm_tree(a->run);
}

static void ready(struct agent *a, const char *msg)
{
	if (a->o.ready_fd < 0)
		return;
	if (write(a->o.ready_fd, msg, strlen(msg)) < 0) {
		/* the caller went away: nothing to tell */
	}
	close(a->o.ready_fd);
	a->o.ready_fd = -1;
}

static int setup(struct agent *a)
{
	char err[300];
	unsigned i, j;
	int ret;

	if (mkdir(a->o.run_base, 0755) < 0 && errno != EEXIST) {
		snprintf(err, sizeof(err), "cannot make %s: %s\n", a->o.run_base, strerror(errno));
		goto fail_msg;
	}
	if (mkdir(a->run, 0700) < 0) {
		snprintf(err, sizeof(err), "%s: %s\n", a->run,
			 errno == EEXIST ? "exists: deployment running (nfchain status), or left "
			 "by a crash (nfchain down cleans it)" : strerror(errno));
		goto fail_msg;
	}
	a->made_run = true;
	if (a->o.daemon) {
		char log[300];
		int fd;

		snprintf(log, sizeof(log), "%s/agent.log", a->run);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
	}
	ret = nf_ctl_open(a->ctlpath, ctl_handler, a, &a->ctl);
	if (ret < 0) {
		snprintf(err, sizeof(err), "%s: %s\n", a->ctlpath, nf_last_error());
		goto fail_msg;
	}
	{	/* nfswitch's news of held frames (scale from zero) */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		a->hold_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->holdpath) >=
		    (int)sizeof(sa.sun_path))
			sa.sun_path[0] = '\0';	/* too long: bind fails */
		if (a->hold_fd >= 0 && bind(a->hold_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(a->hold_fd);
			a->hold_fd = -1;
		}
	}
	if (a->s->http[0] &&
	    (nf_http_open(a->s->http, HTTP_BODY_MAX, 0, http_handler, a, &a->http) < 0 ||
	     web_open(a) < 0)) {
		snprintf(err, sizeof(err), "http: %s\n", nf_last_error());
		goto fail_msg;
	}
	if (start_switch(a) < 0) {
		snprintf(err, sizeof(err), "nfswitch did not start (see %s/switch.log)\n", a->run);
		goto fail_msg;
	}
	for (i = 0; i < a->s->nxport; i++)
		if (xport_add(a, &a->s->xport[i]) < 0) {
			snprintf(err, sizeof(err), "port %s: %s\n", a->s->xport[i].name,
				 a->lasterr);
			goto fail_msg;
		}
	if (probe_open(a) < 0) {
		snprintf(err, sizeof(err), "the agent's probe port: %s\n", a->lasterr);
		goto fail_msg;
	}
	/* The steering, every member "-": refused here, nothing else starts. */
	if (load_steering(a) < 0) {
		snprintf(err, sizeof(err), "nfswitch refused the steering: %s\n", a->lasterr);
		goto fail_msg;
	}
	for (i = 0; i < a->s->nvnf; i++)
		for (j = 0; j < a->s->vnf[i].replicas; j++)
			if (rep_create(a, (int)i, j) < 0) {
				snprintf(err, sizeof(err), "replica %s.%u did not start\n",
					 a->s->vnf[i].name, j);
				goto fail_msg;
			}
	return 0;
fail_msg:
	logf_(a, "%.*s", (int)strlen(err) - 1, err);
	ready(a, err);
	return -1;
}

int nc_agent_run(struct nc_spec *s, const struct nc_agent_opts *o)
{
	static struct agent ag;	/* large; one per process */
	struct agent *a = &ag;
	uint64_t up_deadline;
	sigset_t set;
	int ret = 1;
	unsigned i;

	memset(a, 0, sizeof(*a));
	a->s = s;
	a->o = *o;
	a->t0 = now_ms();
	nc_run_dir(o->run_base, s->name, a->run, sizeof(a->run));
	snprintf(a->swsock, sizeof(a->swsock), "%.180s/memif.sock", a->run);
	snprintf(a->swctl, sizeof(a->swctl), "%.180s/switch.ctl", a->run);
	snprintf(a->ctlpath, sizeof(a->ctlpath), "%.180s/agent.ctl", a->run);
	snprintf(a->holdpath, sizeof(a->holdpath), "%.180s/hold.sock", a->run);
	a->hold_fd = -1;
	for (i = 0; i < REP_MAX; i++)
		a->rep[i].pfd = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A container's process whose runc was killed is reparented here,
	 * not to init (which may not reap it), and reaped by on_child(). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	autoscale_reset(a, now_ms());
	if (setup(a) < 0)
		goto out;
	up_deadline = now_ms() + o->up_timeout_ms;
	while (!a->quit) {
		struct pollfd pf[6 + REP_MAX];
		struct rep *pr[6 + REP_MAX];
		unsigned np = 0;
		uint64_t now;

		pf[np].fd = a->sigfd;
		pf[np++].events = POLLIN;
		pf[np].fd = nf_ctl_fd(a->ctl);
		pf[np++].events = POLLIN;
		pr[np] = NULL;
		pf[np].fd = nf_io_fd();
		pf[np++].events = POLLIN;
		/* Probe answers wake us: their round trip is measured. */
		pr[np] = NULL;
		pf[np].fd = -1;
		if (a->probe && nf_port_is_up(a->probe) && nf_port_rx_fd(a->probe) >= 0 &&
		    nf_rx_intr_enable(a->probe) == 0)
			pf[np].fd = nf_port_rx_fd(a->probe);
		pf[np++].events = POLLIN;
		pr[np] = NULL;
		pf[np].fd = a->hold_fd;		/* nfswitch: a group holds frames */
		pf[np++].events = POLLIN;
		for (i = 0; i < REP_MAX; i++)
			if (a->rep[i].used && a->rep[i].pfd >= 0) {
				pr[np] = &a->rep[i];
				pf[np].fd = a->rep[i].pfd;
				pf[np++].events = POLLIN;
			}
		if (a->http) {
			pr[np] = NULL;
			pf[np].fd = nf_http_fd(a->http);
			pf[np++].events = POLLIN;
		}
		poll(pf, np, 20);
		now = now_ms();
		if (pf[0].revents) {
			struct signalfd_siginfo si;

			while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					on_child(a);
				else
					a->quit = true;
			}
		}
		if (pf[1].revents) {
			nf_ctl_service(a->ctl);
			now = now_ms();	/* a request may have started replicas */
		}
		if (pf[3].fd >= 0)
			nf_rx_intr_disable(a->probe);
		if (pf[4].revents)
			hold_news(a, now);
		for (i = 5; i < np; i++)
			if (pf[i].revents && pr[i] && pr[i]->pfd == pf[i].fd)
				probe_read(pr[i], now);
		if (a->http) {
			nf_http_service(a->http);
			now = now_ms();	/* a tenant's change may have taken a while */
		}
		nf_io_service();
		probe_receive(a, now);
		tick(a, now);
		autoscale(a, now);
		if (a->dirty)
			load_steering(a);
		if (a->o.ready_fd >= 0) {
			if (all_up(a)) {
				logf_(a, "every replica is up");
				ready(a, "ok\n");
			} else if (now > up_deadline) {
				char err[128];

				snprintf(err, sizeof(err), "not every replica was up within %u ms "
					 "(see the logs in %.60s)\n", o->up_timeout_ms, a->run);
				logf_(a, "%.*s", (int)strlen(err) - 1, err);
				ready(a, err);
				a->failed = a->quit = true;
			}
		}
		if (a->o.table && now - a->t_table >= 1000) {
			a->t_table = now;
			print_table(a);
		}
	}
	ret = a->failed ? 1 : 0;
	ready(a, "the deployment stopped before it was up\n");
out:
	logf_(a, "tearing down");
	teardown(a);
	close(a->sigfd);
	nc_spec_free(a->s);
	return ret;
}

/* A dead agent's leftovers: every process whose cwd or executable runs
 * from the run directory is killed (the replicas and the switch run with
 * their cwd there), the containers named nfc-NAME-* are deleted, the
 * directory is removed. */
int nc_agent_reap(const char *base, const char *name)
{
	char run[256], prefix[64];
	struct dirent *e;
	int removed = 0;
	DIR *d;

	nc_run_dir(base, name, run, sizeof(run));
	snprintf(prefix, sizeof(prefix), "nfc-%s-", name);
	d = opendir("/proc");
	while (d && (e = readdir(d)) != NULL) {
		char link[64], cwd[PATH_MAX];
		ssize_t n;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			continue;
		cwd[n] = '\0';
		if (strncmp(cwd, run, strlen(run)) == 0 &&
		    (cwd[strlen(run)] == '\0' || cwd[strlen(run)] == '/')) {
			kill(pid, SIGKILL);
			removed++;
		}
	}
	if (d)
		closedir(d);
	d = opendir(run);
	while (d && (e = readdir(d)) != NULL) {
		char bundle[600], id[NC_BOX_ID_MAX + 16], vnf[64];
		unsigned idx;
		struct stat st;

		if (sscanf(e->d_name, "%63[^.].%u", vnf, &idx) != 2)
			continue;
		snprintf(bundle, sizeof(bundle), "%s/%s/bundle", run, e->d_name);
		if (stat(bundle, &st) < 0)
			continue;
		snprintf(id, sizeof(id), "%.20s%.16s-%u", prefix, vnf, idx);
		if (nc_box_destroy(id, bundle) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	if (rm_tree(run) == 0)
		removed++;
	return removed;
}
