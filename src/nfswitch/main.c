/* main.c - nfswitch: command line, port management, the loop.
 *
 * Busy mode (default): the loop polls every port; every millisecond it
 * runs the control plane (nf_io_service, the control socket, FDB ageing).
 * Interrupt mode (--mode intr): when a full pass finds nothing, every port
 * is armed (nf_rx_intr_enable) and the thread sleeps in epoll_wait on the
 * ports' eventfds/sockets, the library's control fd and the control socket.
 */
#define _GNU_SOURCE
#include "sw.h"
#include "steer.h"
#include "nf_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static struct sw the_sw;
static int verbose = 1;

static const char *const sw_drop_names[] = {
#define SW_DROP_NAME(e, n, d) n,
	SW_DROPS(SW_DROP_NAME)
#undef SW_DROP_NAME
};

const char *sw_drop_name(enum sw_drop d)
{
	return (unsigned)d < SW_DROP_MAX ? sw_drop_names[d] : "?";
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	va_list ap;

	if (!verbose)
		return;
	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
	fprintf(stderr, "nfswitch %s: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_link(struct nf_port *p, bool up, void *arg)
{
	struct sw *sw = arg;
	char d[256];

	nf_port_describe(p, d, sizeof(d));
	logmsg("port %s %s (%s)", nf_port_name(p), up ? "up" : "down", d);
	if (!up)
		nf_fdb_flush(&sw->fdb, nf_port_index(p), false);
	sw_cap_link(sw, p, up);
	sw->changed = true;
}

static void rebuild_active(struct sw *sw)
{
	unsigned i;

	sw->nactive = 0;
	for (i = 0; i < SW_PORTS_MAX; i++)
		if (sw->ports[i].p != NULL)
			sw->active[sw->nactive++] = (uint16_t)i;
	sw->changed = true;
}

int sw_port_add(struct sw *sw, const char *spec, const char *name)
{
	struct nf_port_conf conf = { .name = name, .default_server = 1,
				     .on_link = on_link, .arg = sw };
	struct nf_port *p;
	unsigned i;
	int ret;

	if (name != NULL && sw_port_find(sw, name) != NULL) {
		nf_set_error("a port named '%s' exists", name);
		return -EEXIST;
	}
	for (i = 0; i < sw->nactive; i++) {
		if (strcmp(sw->ports[sw->active[i]].spec, spec) == 0) {
			nf_set_error("port '%s' is already open", spec);
			return -EEXIST;
		}
	}
	ret = nf_port_open(spec, &conf, &p);
	if (ret < 0)
		return ret;
	i = nf_port_index(p);
	if (i >= SW_PORTS_MAX) {
		nf_port_close(p);
		nf_set_error("too many ports (at most %d)", SW_PORTS_MAX);
		return -ENOSPC;
	}
	memset(&sw->ports[i], 0, sizeof(sw->ports[i]));
	sw->ports[i].p = p;
	nf_strlcpy(sw->ports[i].spec, spec, sizeof(sw->ports[i].spec));
	rebuild_active(sw);
	logmsg("port %s added (%s)", nf_port_name(p), spec);
	return (int)i;
}

int sw_port_del(struct sw *sw, const char *key)
{
	struct sw_port *sp = sw_port_find(sw, key);
	uint16_t idx;

	if (sp == NULL) {
		nf_set_error("no port '%s'", key);
		return -ENOENT;
	}
	idx = nf_port_index(sp->p);
	sw_cap_port_gone(sw, idx);
	logmsg("port %s removed", nf_port_name(sp->p));
	nf_port_close(sp->p);
	nf_fdb_flush(&sw->fdb, idx, true);
	memset(sp, 0, sizeof(*sp));
	rebuild_active(sw);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	the_sw.stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: nfswitch [options] -p SPEC [-p SPEC ...]\n"
"\n"
"The nfchain software switch: memif server ports for VNFs and generators,\n"
"AF_PACKET and AF_XDP ports for host interfaces, MAC learning, one copy per hop into\n"
"the receiver's own memory.\n"
"\n"
"  -p, --port SPEC        add a port (repeatable); memif ports default to\n"
"                         role=server. Examples:\n"
"                           memif:/run/nfchain/sw0.sock,id=0\n"
"                           afpacket:veth0\n"
"                           afxdp:eth0[,queue=N][,mode=auto|copy|zerocopy]\n"
"                             [,xdp=auto|native|skb][,fallback=afpacket|none]\n"
"                             [,rsize=LOG2][,frame_size=2048|4096]\n"
"                             (AF_XDP on one queue; if no XDP socket can be\n"
"                             made, an AF_PACKET port unless fallback=none)\n"
"                           pcap:in.pcap,out.pcap\n"
"  -c, --ctl PATH         control socket (default " SW_DEF_CTL ")\n"
"  -S, --steering FILE    service chaining: match-action rules, replica\n"
"                         groups, SRv6 SIDs, the ToS-bitmap mode (one\n"
"                         directive per line: group, sid, rule, tos,\n"
"                         srv6-source; docs/STEERING.md), loaded once the\n"
"                         ports are open; changed at runtime by the\n"
"                         steering requests below\n"
"  -b, --burst N          frames per burst, 1..256 (default 32)\n"
"  -m, --mode MODE        busy (default): poll all the time; intr: sleep\n"
"                         until traffic; yield: poll, but give the CPU away\n"
"                         when idle or when a receiver's ring is full (for\n"
"                         more polling programs than cores)\n"
"      --fdb-size N       MAC table entries, 1..16777216 (default 65536)\n"
"      --fdb-age SECONDS  MAC ageing time, 1..1000000 (default 300)\n"
"      --stall-ms MS      disconnect a memif client whose ring stays full\n"
"                         this long, 100..3600000 (default 5000)\n"
"      --pool N           packet buffers in the pool (default 16384)\n"
"      --cpu N            pin the thread to CPU N\n"
"      --notify PATH      a unix datagram socket: \"hold GROUP\" when a group\n"
"                         with a hold queue and no member gets its first\n"
"                         frame (docs/STEERING.md, group ... hold N)\n"
"      --icmp-rate N      ICMPv6 errors the SRv6 SIDs send a second at most,\n"
"                         0..1000000 (default 1000; 0: none; docs/STEERING.md)\n"
"      --icmp-burst N     ... and at once (the token bucket's depth),\n"
"                         1..1000000 (default 50)\n"
"      --flow-cache on|off  replay steering per flow (default on; off:\n"
"                         every frame through the rules, SIDs and groups,\n"
"                         the rule cache off too, for comparison)\n"
"  -s, --stats SECONDS    print a counter line every SECONDS (0: never)\n"
"      --metrics ADDR:PORT  serve Prometheus metrics over HTTP at\n"
"                         http://ADDR:PORT/metrics (127.0.0.1:9100,\n"
"                         [::1]:9100, :9100 for every address)\n"
"  -n, --check            check the command line and port specs, print\n"
"                         \"configuration OK\" and exit\n"
"  -q, --quiet            no log lines\n"
"  -h, --help             this text\n"
"\n"
"Runtime control: nfchain switch [--ctl PATH] ports|fdb|stats|\n"
"add-port SPEC [NAME]|del-port NAME|flush-fdb [PORT]|add-mac MAC PORT [VLAN]|\n"
"del-mac MAC [VLAN]; steering: steering|load-steering FILE|clear-steering|\n"
"steer-stats|rules|add-rule ...|del-rule ID|groups|add-group NAME MEMBER...|\n"
"del-group NAME|del-member NAME I|set-member NAME I MEMBER|sids|\n"
"add-sid ADDR BEHAVIOUR ...|del-sid ADDR|tos IN OUT LAYER...|tos-off;\n"
"port capture (nfchain capture, docs/OPERATIONS.md): captures|\n"
"start-capture PORT SINK [rx|tx|both] [snaplen N] [filter EXPR...]|\n"
"stop-capture ID|SINK.\n"
"Exit status: 0 after SIGINT/SIGTERM, 1 on a runtime error, 2 on a usage\n"
"error.\n");
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("nfswitch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see nfswitch --help)\n", stderr);
	exit(2);
}

static uint64_t num_opt(const char *name, const char *v, uint64_t min, uint64_t max)
{
	uint64_t x;

	if (nf_parse_u64(v, min, max, 0, &x) < 0)
		die_usage("--%s %s: expected an integer from %" PRIu64 " to %" PRIu64,
			  name, v, min, max);
	return x;
}

static void print_stats(struct sw *sw, double dt)
{
	static uint64_t last_rx, last_tx;
	uint64_t rx = 0, tx = 0, drops = 0;
	unsigned i, d;

	for (i = 0; i < sw->nactive; i++) {
		struct sw_port *sp = &sw->ports[sw->active[i]];
		const struct nf_port_stats *st = nf_port_stats(sp->p);

		rx += st->rx_pkts;
		tx += st->tx_pkts;
		for (d = 0; d < NF_DROP_MAX; d++)
			drops += st->drops[d];
		for (d = 0; d < SW_DROP_MAX; d++)
			drops += sp->drops[d];
	}
	fprintf(stderr, "nfswitch: ports %u  rx %.3f Mpps  tx %.3f Mpps  "
		"drops %" PRIu64 "  fdb %u\n", sw->nactive,
		(double)(rx - last_rx) / dt / 1e6, (double)(tx - last_tx) / dt / 1e6,
		drops, sw->fdb.count);
	last_rx = rx;
	last_tx = tx;
}

/* Interrupt mode: arm every port and sleep. */
static void sleep_until_work(struct sw *sw, int efd)
{
	struct epoll_event ev[64];
	unsigned i;
	int armed_all = 1;

	for (i = 0; i < sw->nactive; i++) {
		struct nf_port *p = sw->ports[sw->active[i]].p;

		if (!nf_port_is_up(p))
			continue;
		if (nf_port_rx_fd(p) < 0 || nf_rx_intr_enable(p) != 0)
			armed_all = 0;
	}
	if (armed_all) {
		sw->idle_sleeps++;
		epoll_wait(efd, ev, 64, 100);
	}
	for (i = 0; i < sw->nactive; i++) {
		struct nf_port *p = sw->ports[sw->active[i]].p;

		if (nf_port_is_up(p) && nf_port_rx_fd(p) >= 0)
			nf_rx_intr_disable(p);
	}
}

static int make_epoll(struct sw *sw)
{
	struct epoll_event ee = { .events = EPOLLIN };
	int efd = epoll_create1(EPOLL_CLOEXEC);
	unsigned i;

	if (efd < 0)
		return -1;
	epoll_ctl(efd, EPOLL_CTL_ADD, nf_io_fd(), &ee);
	epoll_ctl(efd, EPOLL_CTL_ADD, nf_ctl_fd(sw->ctl), &ee);
	if (sw->http != NULL)
		epoll_ctl(efd, EPOLL_CTL_ADD, nf_http_fd(sw->http), &ee);
	for (i = 0; i < sw->nactive; i++) {
		struct nf_port *p = sw->ports[sw->active[i]].p;

		if (nf_port_is_up(p) && nf_port_rx_fd(p) >= 0)
			epoll_ctl(efd, EPOLL_CTL_ADD, nf_port_rx_fd(p), &ee);
	}
	sw->changed = false;
	return efd;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "steering", required_argument, NULL, 'S' },
		{ "burst", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },
		{ "fdb-size", required_argument, NULL, 1 },
		{ "fdb-age", required_argument, NULL, 2 },
		{ "stall-ms", required_argument, NULL, 3 },
		{ "pool", required_argument, NULL, 4 },
		{ "cpu", required_argument, NULL, 5 },
		{ "flow-cache", required_argument, NULL, 6 },
		{ "metrics", required_argument, NULL, 7 },
		{ "notify", required_argument, NULL, 8 },
		{ "icmp-rate", required_argument, NULL, 9 },
		{ "icmp-burst", required_argument, NULL, 10 },
		{ "stats", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sw *sw = &the_sw;
	struct nf_io_params prm = { 0 };
	const char *ctl_path = SW_DEF_CTL, *steering = NULL, *metrics = NULL;
	const char *specs[SW_PORTS_MAX];
	unsigned nspecs = 0, i;
	uint64_t fdb_size = 65536, fdb_age = 300, stats_s = 0, last_svc = 0;
	uint64_t last_stats;
	int cpu = -1, check = 0, c, ret, efd = -1, usage_err = 0;
	struct sigaction sa = { .sa_handler = on_signal };

	sw->burst = 32;
	sw->notify_fd = -1;
	sw->icmp_rate = 1000;	/* as Linux's net.ipv4.icmp_msgs_per_sec and */
	sw->icmp_burst = 50;	/* icmp_msgs_burst (ICMPv6 errors count too) */
	opterr = 0;	/* our own one-sentence messages */
	while ((c = getopt_long(argc, argv, ":p:c:S:b:m:s:nqh", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (nspecs == SW_PORTS_MAX)
				die_usage("too many ports");
			specs[nspecs++] = optarg;
			break;
		case 'c': ctl_path = optarg; break;
		case 'S': steering = optarg; break;
		case 'b': sw->burst = (unsigned)num_opt("burst", optarg, 1, NF_BURST_MAX); break;
		case 'm':
			if (strcmp(optarg, "busy") == 0)
				sw->intr = sw->yield = false;
			else if (strcmp(optarg, "intr") == 0)
				sw->intr = true;
			else if (strcmp(optarg, "yield") == 0)
				sw->yield = true;
			else
				die_usage("--mode %s: expected busy, intr or yield", optarg);
			break;
		case 1: fdb_size = num_opt("fdb-size", optarg, 1, 1u << 24); break;
		case 2: fdb_age = num_opt("fdb-age", optarg, 1, 1000000); break;
		case 3: prm.stall_ms = (uint32_t)num_opt("stall-ms", optarg, 100, 3600000); break;
		case 4: prm.pool_bufs = (uint32_t)num_opt("pool", optarg, 256, 1u << 21); break;
		case 5: cpu = (int)num_opt("cpu", optarg, 0, CPU_SETSIZE - 1); break;
		case 6:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				die_usage("--flow-cache %s: expected on or off", optarg);
			sw->no_flow_cache = strcmp(optarg, "off") == 0;
			break;
		case 7:
			if (nf_http_check_addr(optarg) < 0)
				die_usage("--metrics: %s", nf_last_error());
			metrics = optarg;
			break;
		case 8: sw->notify_path = optarg; break;
		case 9: sw->icmp_rate = (uint32_t)num_opt("icmp-rate", optarg, 0, 1000000); break;
		case 10: sw->icmp_burst = (uint32_t)num_opt("icmp-burst", optarg, 1, 1000000); break;
		case 's': stats_s = num_opt("stats", optarg, 0, 3600); break;
		case 'n': check = 1; break;
		case 'q': verbose = 0; break;
		case 'h': usage(stdout); return 0;
		case ':': die_usage("option '%s' needs a value", argv[optind - 1]);
		default: die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);

	if (check) {
		for (i = 0; i < nspecs; i++) {
			ret = nf_port_check(specs[i]);
			if (ret < 0)
				die_usage("%s", nf_last_error());
		}
		printf("configuration OK\n");
		return 0;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "nfswitch: cannot pin to CPU %d: %s\n", cpu,
				strerror(errno));
			return 1;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = nf_io_init(&prm);
	if (ret < 0) {
		fprintf(stderr, "nfswitch: %s\n", nf_last_error());
		return 1;
	}
	ret = nf_fdb_init(&sw->fdb, (uint32_t)fdb_size, (uint32_t)fdb_age);
	if (ret < 0) {
		fprintf(stderr, "nfswitch: %s\n", nf_last_error());
		return 1;
	}
	ret = nf_ctl_open(ctl_path, sw_ctl_handler, sw, &sw->ctl);
	if (ret < 0) {
		fprintf(stderr, "nfswitch: %s\n", nf_last_error());
		goto out;
	}
	if (metrics != NULL) {
		ret = nf_http_open(metrics, 0, 0, sw_metrics_handler, sw, &sw->http);
		if (ret < 0) {
			fprintf(stderr, "nfswitch: %s\n", nf_last_error());
			goto out;
		}
	}
	for (i = 0; i < nspecs; i++) {
		ret = sw_port_add(sw, specs[i], NULL);
		if (ret < 0) {
			fprintf(stderr, "nfswitch: cannot add port '%s': %s\n",
				specs[i], nf_last_error()[0] ? nf_last_error() :
				strerror(-ret));
			usage_err = ret == -EINVAL;
			goto out;
		}
	}
	if (sw->notify_path != NULL)
		sw->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (steering != NULL) {
		ret = sw_steer_load(sw, steering);
		if (ret < 0) {
			fprintf(stderr, "nfswitch: %s\n", nf_last_error());
			usage_err = ret == -EINVAL || ret == -ENOENT;
			goto out;
		}
	}
	logmsg("running: %u ports, %s mode, burst %u, control %s", sw->nactive,
	       sw->intr ? "interrupt" : sw->yield ? "yield" : "busy-poll", sw->burst, ctl_path);

	sw->start_ns = last_stats = nf_now_ns();
	while (!sw->stop) {
		unsigned work = 0;
		uint64_t now;

		sw->blocked = false;
		if (nf_unlikely(sw->steer != NULL && sw->steer->holding))
			work += sw_hold_release(sw);	/* before anything newer */
		for (i = 0; i < sw->nactive; i++)
			work += sw_forward(sw, &sw->ports[sw->active[i]]);
		sw->loops++;
		if (sw->yield && (work == 0 || sw->blocked)) {
			sw->yields++;
			sched_yield();
		}
		if (work != 0 && (sw->loops & 63) != 0)
			continue;
		now = nf_now_ns();
		if (now - last_svc >= 1000000ull || work == 0) {
			last_svc = now;
			nf_io_service();
			nf_ctl_service(sw->ctl);
			/* a steering load gave a holding group its member:
			 * release now, not after the next sleep */
			if (nf_unlikely(sw->steer != NULL && sw->steer->holding))
				work += sw_hold_release(sw);
			if (sw->http != NULL)
				nf_http_service(sw->http);
			if (sw->cap_gc)
				sw_cap_gc(sw);
			sw->now_s = (uint32_t)((now - sw->start_ns) / 1000000000ull);
			nf_fdb_age(&sw->fdb, sw->now_s, 256);
			if (stats_s && now - last_stats >= stats_s * 1000000000ull) {
				print_stats(sw, (double)(now - last_stats) / 1e9);
				last_stats = now;
			}
		}
		if (sw->intr && work == 0) {
			if (efd < 0 || sw->changed) {
				if (efd >= 0)
					close(efd);
				efd = make_epoll(sw);
			}
			sleep_until_work(sw, efd);
		}
	}
	logmsg("stopping");
	ret = 0;
out:
	if (efd >= 0)
		close(efd);
	while (sw->nactive > 0)
		sw_port_del(sw, nf_port_name(sw->ports[sw->active[0]].p));
	nf_ctl_close(sw->ctl);
	if (sw->notify_fd >= 0)
		close(sw->notify_fd);
	nf_http_close(sw->http);
	st_free(sw->steer);
	nf_fdb_free(&sw->fdb);
	nf_io_fini();
	return usage_err ? 2 : ret < 0 ? 1 : 0;
}
