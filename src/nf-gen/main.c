/* main.c - nf-gen: command line, port set-up, the loop, the exit status.
 *
 * nf-gen sends UDP test frames on one port and/or receives them on another
 * (or the same) port, in one thread:
 *
 *   wait for the ports (nf_io_service every ms, --wait)
 *   loop: [clock, tx burst]  [rx burst, clock if it got something]
 *         every 1 ms: nf_io_service(), stop conditions, progress (1 s)
 *   drain: after the last transmit, keep receiving until every frame sent
 *          came back or --drain passed (transmit only: just wait --drain,
 *          so the peer can empty the ring before the port closes)
 *   report: human summary or --json; exit 0, or 3 with --expect-zero-loss
 *
 * The loop busy-polls. With --intr and no --tx, an idle receiver arms the
 * port (nf_rx_intr_enable) and sleeps in poll() on the port's descriptor
 * and the library's control descriptor.
 *
 * Measured (Debian 12 VM, 2 cores, `make`, --rate max, 5 s, nf-gen memif
 * server tx `taskset -c 0` -> nf-gen memif client rx `taskset -c 1`, zero
 * loss in every run; best of runs on an otherwise idle machine, other
 * jobs on the 2 cores cut these by up to 10x):
 *	60-byte IPv4            51-60 Mpps   (dpdk-testpmd txonly->rxonly:
 *	                                      ~25 Mpps on this machine)
 *	60-byte IPv4, 1000 flows   40 Mpps
 *	80-byte IPv6               42 Mpps
 *	1500-byte IPv4              6 Mpps   (72 Gbit/s)
 *	9000-byte IPv4            3.6 Mpps   (copy path, chained descriptors)
 * and one process sending and receiving on one CPU (memif server tx ->
 * client rx in the same loop): 67 Mpps, i.e. ~15 ns per frame for build,
 * both memif sides, classification, sequence and latency accounting.
 *
 * Exit status: 0 success, 1 runtime failure (a port that does not come up,
 * a failed system call), 2 usage error (one sentence on stderr), 3 loss,
 * duplicates or reordering seen with --expect-zero-loss.
 */
#define _GNU_SOURCE
#include "gen.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NF_GEN_VERSION	"0.1"
#define MS		1000000ull
#define SEC		1000000000ull
#define DUR_MAX		(100ull * 86400 * SEC)	/* 100 days */

#define EXIT_USAGE	2
#define EXIT_LOSS	3

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	(void)sig;
	stop_sig++;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nf-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static void help(void)
{
	fputs(
"NAME\n"
"    nf-gen - nfchain traffic generator and sink\n"
"\n"
"SYNOPSIS\n"
"    nf-gen [OPTIONS] --tx SPEC [--rx SPEC]\n"
"    nf-gen [OPTIONS] --rx SPEC\n"
"\n"
"DESCRIPTION\n"
"    nf-gen sends UDP test frames (IPv4 or IPv6) on one port and/or receives\n"
"    them on another port, or on the same one. Every frame carries a\n"
"    sequence number and its transmit time; the receiving side counts\n"
"    received, lost, reordered and duplicated frames and measures latency.\n"
"    One process can send and receive, so a benchmark through a chain of\n"
"    network functions needs a single nf-gen: --tx on the chain's input,\n"
"    --rx on its output. The loop busy-polls one CPU; pin it with taskset.\n"
"\n"
"PORTS\n"
"    -t, --tx SPEC       send on the port SPEC\n"
"    -r, --rx SPEC       receive on the port SPEC; the same SPEC as --tx\n"
"                        opens one port used both ways\n"
"    SPEC is one of\n"
"      memif:PATH[,role=client|server][,id=N][,rsize=LOG2][,secret=S]\n"
"                        shared-memory interface (memif 2.0) on the socket\n"
"                        PATH; nf-gen is a client unless role=server\n"
"      afpacket:IFNAME   a Linux network interface (AF_PACKET)\n"
"      afxdp:IFNAME[,queue=N][,mode=auto|copy|zerocopy][,fallback=afpacket|none]\n"
"                        a Linux network interface through AF_XDP (one\n"
"                        queue; AF_PACKET when no XDP socket can be made)\n"
"      pcap:[IN][,OUT]   read frames from the pcap file IN, write frames\n"
"                        to OUT (pcap:,out.pcap only writes)\n"
"\n"
"TRAFFIC (with --tx)\n"
"    -s, --size N        frame size in bytes without the FCS, 60..9000\n"
"                        (default 60, the 64-byte frame of RFC 2544);\n"
"                        IPv6 frames are at least 80 bytes (the default\n"
"                        with -6)\n"
"    -6, --ipv6          send IPv6/UDP instead of IPv4/UDP\n"
"    -f, --flows N       cycle over N flows, 1..1048576 (default 1): flow i\n"
"                        has source address SRC-IP + i (skipping DST-IP;\n"
"                        IPv6: added to the last 32 bits) and source port\n"
"                        SPORT + i (modulo 65536)\n"
"        --train N       send N frames of a flow in a row, then N of the\n"
"                        next, 1..65536 (default 1: the flows take turns\n"
"                        frame by frame); packet trains, as real traffic\n"
"                        has them, for caches keyed by flow\n"
"    -R, --rate PPS      frames per second, suffixes k, M, G (x1000):\n"
"                        10k, 2M; 0 or max: as fast as the port accepts\n"
"                        them (default max). A token bucket checked once\n"
"                        per burst, 10 ms deep (after a stall the\n"
"                        generator catches up by up to 10 ms of frames)\n"
"    -b, --burst N       frames per burst, 1..256 (default 32); also the\n"
"                        receive burst\n"
"        --pool N        packet buffers in the process pool, 1024..1048576\n"
"                        (default 16384): a memif client port takes\n"
"                        2 x 2^rsize of them (rsize=12 on two ports: 16384)\n"
"        --src-mac MAC   source MAC (default 02:00:00:00:00:01)\n"
"        --dst-mac MAC   destination MAC (default 02:00:00:00:00:02)\n"
"        --mac-flows     flow i also has source MAC SRC-MAC + i and\n"
"                        destination MAC DST-MAC + i (in the last three\n"
"                        bytes, modulo 2^24): a host pair per flow, so\n"
"                        that a MAC learning switch looks up each frame\n"
"                        (without it every flow has the same two MACs)\n"
"        --src-ip ADDR   source address of flow 0 (default 10.0.0.1,\n"
"                        with -6 fd00::1)\n"
"        --dst-ip ADDR   destination address (default 10.0.0.2, with -6\n"
"                        fd00::2)\n"
"        --sport N       UDP source port of flow 0 (default 1024)\n"
"        --dport N       UDP destination port (default 1024)\n"
"        --tos N[,N...]  the IPv4 ToS byte of every frame (DSCP << 2 | ECN;\n"
"                        IPv6: the traffic class), 0..255 or 0x00..0xff\n"
"                        (default 0): --tos 0xb8 is DSCP EF. Up to 8\n"
"                        values: flow i gets value i mod their number\n"
"                        (tenants of a ToS-bitmap chain: --tos 1,3,7,0)\n"
"\n"
"DURATION\n"
"    -n, --count N       send N frames, then stop (suffixes k, M, G); with\n"
"                        --rx alone: stop after receiving N frames\n"
"    -d, --duration D    stop after D: 10 (seconds), 500ms, 2s, 1m;\n"
"                        with --count, whichever comes first. Without\n"
"                        either, run until SIGINT or SIGTERM\n"
"        --delay D       once the ports are up, receive only for D before\n"
"                        the first transmit (--duration counts from then):\n"
"                        two nf-gen sending to each other start with their\n"
"                        receivers ready\n"
"        --drain D       after the last transmit, keep receiving until\n"
"                        every frame sent has arrived or D passed (default\n"
"                        200ms); sending only: wait D so that the peer\n"
"                        empties the ring before the port closes\n"
"        --idle D        receiving only: stop when nothing arrived for D\n"
"                        after the first frame (default: never)\n"
"        --hold D        after the report, keep the ports connected for D\n"
"                        (default 0), serving the control plane only: a\n"
"                        peer's counters can be read before they reset\n"
"        --wait D        wait up to D for every port to come up before\n"
"                        starting (default 5s; 0: do not wait). A port not\n"
"                        up in time, or down for longer than D during the\n"
"                        run, ends nf-gen with status 1\n"
"    SIGINT or SIGTERM stop sending, drain and print the report; a second\n"
"    one stops at once (still with the report).\n"
"\n"
"RECEIVING\n"
"        --intr          receiving only: sleep in poll() on the port's\n"
"                        interrupt descriptor when idle instead of\n"
"                        busy-polling\n"
"\n"
"OUTPUT\n"
"        --progress      print a progress line once per second on stderr\n"
"                        (default when stderr is a terminal): elapsed time,\n"
"                        tx and rx rate of the last second, lost so far\n"
"                        (gaps in the sequence), latency p50 and p99\n"
"    -j, --json          print one JSON object on stdout at the end instead\n"
"                        of the summary: tx.packets, tx.bytes,\n"
"                        tx.backpressure (with --rate: bursts for which the\n"
"                        port had fewer free slots than the rate allowed),\n"
"                        rx.packets,\n"
"                        rx.bytes, rx.lost, rx.reordered, rx.duplicated,\n"
"                        rx.other, rate.tx_pps, rate.rx_pps, rate.tx_bps,\n"
"                        rate.rx_bps, latency_ns.{min,avg,max,p50,p99,p999},\n"
"                        latency_ns.histogram (the non-empty buckets as\n"
"                        [low, width, count]: count values in\n"
"                        [low, low + width) ns), duration_s,\n"
"                        cpu_s.{user,system} (CPU time nf-gen used in\n"
"                        duration_s: what --intr saves), and\n"
"                        ports.NAME with each port's counters and drops by\n"
"                        reason (NAME is tx, rx, or txrx for one port used\n"
"                        both ways)\n"
"        --flow-stats    with --tx and --rx (one nf-gen sending and\n"
"                        receiving), at most 65536 flows: count received\n"
"                        frames per flow. The summary names the flows that\n"
"                        lost frames; --json adds flows_with_loss and flows,\n"
"                        one {flow, src, sport, sent, received} per flow\n"
"                        (src and sport as --flows defines flow i)\n"
"        --expect-zero-loss  exit with status 3 if any frame was lost,\n"
"                        duplicated or reordered (for tests)\n"
"    -h, --help          this text\n"
"    -V, --version       the version\n"
"\n"
"FRAMES\n"
"    Ethernet, IPv4 (DF, TTL 64, ToS --tos) or IPv6 (hop limit 64,\n"
"    traffic class --tos, flow label 0), UDP, then an\n"
"    18-byte payload: magic 0x9e4d, a 64-bit sequence number and a 64-bit\n"
"    transmit timestamp (CLOCK_MONOTONIC ns), all big-endian, then zeros.\n"
"    IP and UDP checksums are correct on every frame. Sequence numbers\n"
"    start at 0 and count across all flows: the frame with sequence\n"
"    number s belongs to flow (s / --train) modulo --flows.\n"
"\n"
"STATISTICS\n"
"    rx.packets counts frames carrying the magic (duplicates included);\n"
"    anything else received is counted in rx.other and ignored. rx.lost is\n"
"    sent - received (once, duplicates excluded) after the drain when the\n"
"    same nf-gen sends and receives, else highest sequence number + 1 -\n"
"    received. A frame with a sequence number below the highest seen is\n"
"    reordered, or duplicated if the last 4096 numbers saw it already.\n"
"    Rates are averages over the active time (first to last burst).\n"
"    With --flow-stats, flows[i].sent is what nf-gen sent of flow i and\n"
"    flows[i].received what came back of it, each sequence number once\n"
"    (duplicates excluded as in rx.lost); flows_with_loss counts the flows\n"
"    with received < sent.\n"
"    Frames larger than a port buffer (9000 bytes over memif) are built\n"
"    aside and copied by the port; when its ring is full the port counts\n"
"    them under ports.tx.drops.tx-ring-full and nf-gen sends the same\n"
"    sequence numbers again: backpressure, not loss.\n"
"\n"
"LATENCY\n"
"    Latency is the receive time (one clock read per burst) minus the\n"
"    transmit timestamp (one clock read per burst), so it includes up to\n"
"    one burst of batching. It is only meaningful when sender and receiver\n"
"    share CLOCK_MONOTONIC: the same process, or two processes on one\n"
"    host. Percentiles come from a log-linear histogram (within 1%).\n"
"\n"
"EXIT STATUS\n"
"    0 success; 1 runtime failure; 2 usage error; 3 loss, duplicates or\n"
"    reordering with --expect-zero-loss.\n"
"\n"
"EXAMPLES\n"
"    Benchmark a chain: send 64-byte frames for 10 s as fast as possible\n"
"    into nfswitch and receive what comes back, on one CPU:\n"
"        taskset -c 2 nf-gen --tx memif:/run/nfchain/sw.sock,id=1 \\\n"
"            --rx memif:/run/nfchain/sw.sock,id=2 --duration 10\n"
"    Two processes over memif, IPv6, 1M frames at 100 kpps:\n"
"        nf-gen --tx memif:/tmp/g.sock,role=server -6 --size 128 \\\n"
"            --count 1M --rate 100k &\n"
"        nf-gen --rx memif:/tmp/g.sock --count 1M --json\n"
"    Write 10 frames of 1000 flows to a pcap file:\n"
"        nf-gen --tx pcap:,out.pcap --count 10 --flows 1000\n",
	      stdout);
}

enum {
	OPT_SRC_MAC = 256, OPT_DST_MAC, OPT_SRC_IP, OPT_DST_IP, OPT_SPORT,
	OPT_DPORT, OPT_DRAIN, OPT_DELAY, OPT_WAIT, OPT_IDLE, OPT_INTR, OPT_PROGRESS,
	OPT_EXPECT, OPT_HOLD, OPT_TOS, OPT_FLOW_STATS, OPT_POOL, OPT_TRAIN,
	OPT_MAC_FLOWS,
};

static const struct option long_opts[] = {
	{ "tx",		required_argument, NULL, 't' },
	{ "rx",		required_argument, NULL, 'r' },
	{ "size",	required_argument, NULL, 's' },
	{ "ipv6",	no_argument,	   NULL, '6' },
	{ "flows",	required_argument, NULL, 'f' },
	{ "train",	required_argument, NULL, OPT_TRAIN },
	{ "rate",	required_argument, NULL, 'R' },
	{ "count",	required_argument, NULL, 'n' },
	{ "duration",	required_argument, NULL, 'd' },
	{ "burst",	required_argument, NULL, 'b' },
	{ "src-mac",	required_argument, NULL, OPT_SRC_MAC },
	{ "dst-mac",	required_argument, NULL, OPT_DST_MAC },
	{ "mac-flows",	no_argument,	   NULL, OPT_MAC_FLOWS },
	{ "src-ip",	required_argument, NULL, OPT_SRC_IP },
	{ "dst-ip",	required_argument, NULL, OPT_DST_IP },
	{ "sport",	required_argument, NULL, OPT_SPORT },
	{ "dport",	required_argument, NULL, OPT_DPORT },
	{ "tos",	required_argument, NULL, OPT_TOS },
	{ "drain",	required_argument, NULL, OPT_DRAIN },
	{ "delay",	required_argument, NULL, OPT_DELAY },
	{ "wait",	required_argument, NULL, OPT_WAIT },
	{ "idle",	required_argument, NULL, OPT_IDLE },
	{ "intr",	no_argument,	   NULL, OPT_INTR },
	{ "progress",	no_argument,	   NULL, OPT_PROGRESS },
	{ "json",	no_argument,	   NULL, 'j' },
	{ "expect-zero-loss", no_argument, NULL, OPT_EXPECT },
	{ "flow-stats",	no_argument,	   NULL, OPT_FLOW_STATS },
	{ "hold",	required_argument, NULL, OPT_HOLD },
	{ "pool",	required_argument, NULL, OPT_POOL },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	const struct option *o;

	for (o = long_opts; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* A number option: one sentence on failure. */
static int num_opt(int c, const char *arg, uint64_t min, uint64_t max, int si,
		   const char *what, uint64_t *out)
{
	int ret = nf_parse_u64(arg, min, max, si, out);

	if (ret == -ERANGE)
		return usage_error("--%s %s is out of range: %" PRIu64 " to %"
				   PRIu64 " %s", opt_name(c), arg, min, max, what);
	if (ret < 0)	/* "a number of frames", "a number (UDP port)" */
		return usage_error("--%s '%s' is not a number%s%s%s", opt_name(c),
				   arg, what[0] == '(' ? " " : " of ", what,
				   si ? " (suffixes k, M, G)" : "");
	return 0;
}

static int dur_opt(int c, const char *arg, uint64_t min, uint64_t *out)
{
	int ret = nf_parse_duration(arg, DUR_MAX, out);

	if (ret == 0 && *out < min)
		ret = -ERANGE;
	if (ret == -ERANGE)
		return usage_error("--%s %s is out of range: %s to 100 days",
				   opt_name(c), arg, min ? "more than 0" : "0");
	if (ret < 0)
		return usage_error("--%s '%s' is not a duration (10, 500ms, 2s, 1m)",
				   opt_name(c), arg);
	return 0;
}

static int ip_opt(const char *name, const char *arg, bool v6, uint8_t *out)
{
	if (inet_pton(v6 ? AF_INET6 : AF_INET, arg, out) == 1)
		return 0;
	if (inet_pton(v6 ? AF_INET : AF_INET6, arg, out) == 1)
		return usage_error(v6 ? "--%s %s is an IPv4 address, but -6 sends IPv6" :
				   "--%s %s is an IPv6 address: add -6 to send IPv6",
				   name, arg);
	return usage_error("--%s '%s' is not an IP%s address", name, arg,
			   v6 ? "v6" : "v4");
}

/* Parse the command line into @c. Returns 0, 1 when --help/--version was
 * handled, or -EINVAL after printing one sentence. */
static int parse_args(int argc, char **argv, struct gen_conf *c)
{
	const char *src_ip = NULL, *dst_ip = NULL, *tx_only = NULL;
	bool have_count = false, have_dur = false, have_drain = false;
	bool have_idle = false, have_size = false;
	uint64_t v;
	int opt, ret;

	memset(c, 0, sizeof(*c));
	c->size = GEN_SIZE_MIN4;
	c->flows = 1;
	c->train = 1;
	c->burst = 32;
	c->sport = c->dport = 1024;
	c->drain_ns = 200 * MS;
	c->wait_ns = 5 * SEC;
	nf_parse_mac("02:00:00:00:00:01", c->src_mac);
	nf_parse_mac("02:00:00:00:00:02", c->dst_mac);
	c->progress = isatty(STDERR_FILENO);

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":t:r:s:6f:R:n:d:b:jhV",
				  long_opts, NULL)) != -1) {
		ret = 0;
		switch (opt) {
		case 't':
		case 'r': {
			const char **spec = opt == 't' ? &c->tx_spec : &c->rx_spec;

			if (optarg[0] == '-')
				return usage_error("--%s needs a port spec, not '%s'",
						   opt_name(opt), optarg);
			if (*spec != NULL)
				return usage_error("--%s given twice (one port each way)",
						   opt_name(opt));
			*spec = optarg;
			break;
		}
		case 's':
			ret = num_opt(opt, optarg, GEN_SIZE_MIN4, GEN_SIZE_MAX, 0,
				      "bytes", &v);
			c->size = (uint32_t)v;
			have_size = true;
			tx_only = "--size";
			break;
		case '6':
			c->ipv6 = true;
			tx_only = "--ipv6";
			break;
		case 'f':
			ret = num_opt(opt, optarg, 1, GEN_FLOWS_MAX, 1, "flows", &v);
			c->flows = (uint32_t)v;
			tx_only = "--flows";
			break;
		case OPT_TRAIN:
			ret = num_opt(opt, optarg, 1, GEN_TRAIN_MAX, 1, "frames", &v);
			c->train = (uint32_t)v;
			tx_only = "--train";
			break;
		case 'R':
			if (strcmp(optarg, "max") == 0)
				v = 0;
			else if (nf_parse_u64(optarg, 0, 0, 1, &v) == -EINVAL)
				return usage_error("--rate '%s' is not a rate (frames "
						   "per second, suffixes k, M, G, or max)",
						   optarg);
			else
				ret = num_opt(opt, optarg, 0, 1000000000ull, 1,
					      "frames per second", &v);
			c->rate = v;
			tx_only = "--rate";
			break;
		case 'n':
			ret = num_opt(opt, optarg, 1, INT64_MAX, 1, "frames", &v);
			c->count = v;
			have_count = true;
			break;
		case 'd':
			ret = dur_opt(opt, optarg, 1, &c->duration_ns);
			have_dur = true;
			break;
		case 'b':
			ret = num_opt(opt, optarg, 1, NF_BURST_MAX, 0,
				      "frames per burst", &v);
			c->burst = (uint16_t)v;
			break;
		case OPT_POOL:
			ret = num_opt(opt, optarg, 1024, 1048576, 0,
				      "buffers in the pool", &v);
			c->pool = (uint32_t)v;
			break;
		case OPT_SRC_MAC:
		case OPT_DST_MAC:
			if (nf_parse_mac(optarg, opt == OPT_SRC_MAC ? c->src_mac :
					 c->dst_mac) < 0)
				return usage_error("--%s '%s' is not a MAC address "
						   "(aa:bb:cc:dd:ee:ff)", opt_name(opt),
						   optarg);
			tx_only = opt == OPT_SRC_MAC ? "--src-mac" : "--dst-mac";
			break;
		case OPT_MAC_FLOWS:
			c->mac_flows = true;
			tx_only = "--mac-flows";
			break;
		case OPT_SRC_IP:
			src_ip = optarg;
			tx_only = "--src-ip";
			break;
		case OPT_DST_IP:
			dst_ip = optarg;
			tx_only = "--dst-ip";
			break;
		case OPT_SPORT:
		case OPT_DPORT:
			ret = num_opt(opt, optarg, 0, 65535, 0, "(UDP port)", &v);
			if (opt == OPT_SPORT)
				c->sport = (uint16_t)v;
			else
				c->dport = (uint16_t)v;
			tx_only = opt == OPT_SPORT ? "--sport" : "--dport";
			break;
		case OPT_TOS: {
			/* N, or N,N,... (one per flow in turn: tenants) */
			char buf[128], *tok, *save = NULL;

			snprintf(buf, sizeof(buf), "%s", optarg);
			c->ntos = 0;
			for (tok = strtok_r(buf, ",", &save); tok && ret == 0;
			     tok = strtok_r(NULL, ",", &save)) {
				if (c->ntos == GEN_TOS_MAX) {
					ret = usage_error("--tos: at most %d values", GEN_TOS_MAX);
					break;
				}
				ret = num_opt(opt, tok, 0, 255, 0, "(the ToS byte)", &v);
				c->tos_list[c->ntos++] = (uint8_t)v;
			}
			if (ret == 0 && c->ntos == 0)
				ret = num_opt(opt, optarg, 0, 255, 0, "(the ToS byte)", &v);
			c->tos = c->tos_list[0];
			tx_only = "--tos";
			break;
		}
		case OPT_DRAIN:
			ret = dur_opt(opt, optarg, 0, &c->drain_ns);
			have_drain = true;
			break;
		case OPT_DELAY:
			ret = dur_opt(opt, optarg, 0, &c->delay_ns);
			break;
		case OPT_WAIT:
			ret = dur_opt(opt, optarg, 0, &c->wait_ns);
			break;
		case OPT_IDLE:
			ret = dur_opt(opt, optarg, 1, &c->idle_ns);
			have_idle = true;
			break;
		case OPT_HOLD:
			ret = dur_opt(opt, optarg, 0, &c->hold_ns);
			break;
		case OPT_INTR:
			c->intr = true;
			break;
		case OPT_PROGRESS:
			c->progress = true;
			break;
		case 'j':
			c->json = true;
			break;
		case OPT_EXPECT:
			c->expect_zero_loss = true;
			break;
		case OPT_FLOW_STATS:
			c->flow_stats = true;
			break;
		case 'h':
			help();
			return 1;
		case 'V':
			printf("nf-gen (nfchain) %s\n", NF_GEN_VERSION);
			return 1;
		case ':':
			if (optopt >= 256 || (optopt > 0 && strchr("trsfRndb", optopt)))
				return usage_error("option --%s needs a value",
						   opt_name(optopt));
			return usage_error("option '%s' needs a value",
					   argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return usage_error("unknown option '-%c' (see nf-gen --help)",
						   optopt);
			return usage_error("unknown option '%s' (see nf-gen --help)",
					   argv[optind - 1]);
		}
		if (ret < 0)
			return ret;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (ports are given with "
				   "--tx and --rx)", argv[optind]);
	if (c->tx_spec == NULL && c->rx_spec == NULL)
		return usage_error("nothing to do: give --tx SPEC, --rx SPEC or both "
				   "(see nf-gen --help)");
	if (c->tx_spec == NULL && tx_only != NULL)
		return usage_error("%s only applies when sending (--tx)", tx_only);
	if (c->tx_spec == NULL && have_drain)
		return usage_error("--drain only applies when sending (--tx)");
	if (c->tx_spec != NULL && c->intr)
		return usage_error("--intr only applies when receiving only "
				   "(without --tx)");
	if (c->tx_spec != NULL && have_idle)
		return usage_error("--idle only applies when receiving only "
				   "(without --tx)");
	if (c->rx_spec == NULL && c->expect_zero_loss)
		return usage_error("--expect-zero-loss needs a receive port (--rx)");
	if (c->flow_stats && (c->tx_spec == NULL || c->rx_spec == NULL))
		return usage_error("--flow-stats needs one nf-gen that sends and "
				   "receives (--tx and --rx): it knows a frame's "
				   "flow from its sequence number");
	if (c->flow_stats && c->flows > GEN_FLOW_STATS_MAX)
		return usage_error("--flow-stats counts at most %u flows (--flows "
				   "%u)", GEN_FLOW_STATS_MAX, c->flows);
	if (c->ipv6 && !have_size)
		c->size = GEN_SIZE_MIN6;
	if (c->ipv6 && c->size < GEN_SIZE_MIN6)
		return usage_error("IPv6 frames are at least %u bytes (--size %u is "
				   "too small)", GEN_SIZE_MIN6, c->size);
	if (ip_opt("src-ip", src_ip ? src_ip : c->ipv6 ? "fd00::1" : "10.0.0.1",
		   c->ipv6, c->src_ip) < 0 ||
	    ip_opt("dst-ip", dst_ip ? dst_ip : c->ipv6 ? "fd00::2" : "10.0.0.2",
		   c->ipv6, c->dst_ip) < 0)
		return -EINVAL;
	if (c->tx_spec != NULL && strncmp(c->tx_spec, "pcap:", 5) == 0 &&
	    !have_count && !have_dur)
		return usage_error("sending to a pcap file needs --count or "
				   "--duration (it would fill the disk)");
	return 0;
}

/* ------------------------------------------------------------------ */

struct run {
	struct gen_conf c;
	struct nf_port *txp, *rxp;
	struct gen_tx tx;
	struct gen_sink sink;
	struct gen_report rep;
	uint64_t down_since[2];
	bool progress_shown;
};

static int open_port(const char *spec, const char *name, struct nf_port **pp)
{
	struct nf_port_conf pc = { .name = name, .default_server = 0 };
	int ret;

	nf_clear_error();
	ret = nf_port_open(spec, &pc, pp);
	if (ret < 0) {
		fprintf(stderr, "nf-gen: %s\n", nf_last_error()[0] ? nf_last_error() :
			strerror(-ret));
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAILURE;
	}
	return 0;
}

static const char *spec_of(const struct run *r, int i)
{
	return gen_port_spec(&r->rep, r->rep.ports[i]);
}

/* Wait until every port is up, servicing the control plane. */
static int wait_up(struct run *r)
{
	uint64_t deadline = nf_now_ns() + r->c.wait_ns;
	int i;

	if (r->c.wait_ns == 0)
		return 0;
	for (;;) {
		int down = -1;

		nf_io_service();
		for (i = 0; i < r->rep.nports && down < 0; i++)
			if (!nf_port_is_up(r->rep.ports[i]))
				down = i;
		if (down < 0)
			return 0;
		if (stop_sig) {
			fprintf(stderr, "nf-gen: interrupted while waiting for port "
				"%s to come up\n", spec_of(r, down));
			return -EINTR;
		}
		if (nf_now_ns() >= deadline) {
			fprintf(stderr, "nf-gen: port %s did not come up within "
				"%.3g s\n", spec_of(r, down),
				(double)r->c.wait_ns / 1e9);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

/* Interrupt mode: sleep until the port or the control plane has work, at
 * most @ms milliseconds. */
static void rx_sleep(struct run *r, int ms)
{
	struct pollfd pfd[2];
	int n = 0, fd;

	if (nf_rx_intr_enable(r->rxp) == 0) {
		fd = nf_port_rx_fd(r->rxp);
		if (fd >= 0 || !nf_port_is_up(r->rxp)) {
			if (fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = nf_io_fd(), .events = POLLIN };
			(void)poll(pfd, (nfds_t)n, ms);
		}
	}
	nf_rx_intr_disable(r->rxp);
}

/* A port down for longer than --wait ends the run. Returns true then. */
static bool port_lost(struct run *r, uint64_t now)
{
	int i;

	if (r->c.wait_ns == 0)
		return false;
	for (i = 0; i < r->rep.nports; i++) {
		if (nf_port_is_up(r->rep.ports[i])) {
			r->down_since[i] = 0;
			continue;
		}
		if (r->down_since[i] == 0)
			r->down_since[i] = now;
		else if (now - r->down_since[i] > r->c.wait_ns) {
			fprintf(stderr, "%snf-gen: port %s went down and stayed "
				"down for %.3g s\n", r->progress_shown ? "\n" : "",
				spec_of(r, i), (double)r->c.wait_ns / 1e9);
			r->progress_shown = false;
			return true;
		}
	}
	return false;
}

enum phase { PH_RUN, PH_DRAIN, PH_DONE };

/* CPU time this process used so far, user and system, in ns. */
static void cpu_ns(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		memset(&ru, 0, sizeof(ru));
	*user = (uint64_t)ru.ru_utime.tv_sec * SEC + (uint64_t)ru.ru_utime.tv_usec * 1000;
	*sys = (uint64_t)ru.ru_stime.tv_sec * SEC + (uint64_t)ru.ru_stime.tv_usec * 1000;
}

/* The loop. Returns 0, or 1 when the run ended on a runtime failure. */
static int run_loop(struct run *r)
{
	const struct gen_conf *c = &r->c;
	const bool tx = r->txp != NULL, rx = r->rxp != NULL;
	const bool rx_only = rx && !tx;
	uint64_t now = nf_now_ns(), t, drain_start = 0, last_rx;
	const uint64_t tx_from = now + c->delay_ns;
	uint64_t end_at = c->duration_ns ? tx_from + c->duration_ns : UINT64_MAX;
	uint64_t next_tick = now + MS, next_prog = now + SEC;
	enum phase ph = PH_RUN;
	unsigned empty = 0;
	int failed = 0;
	sig_atomic_t sigs = 0;
	uint64_t user0, sys0;

	cpu_ns(&user0, &sys0);
	r->rep.start_ns = now;
	last_rx = now;
	while (ph != PH_DONE) {
		if (tx && ph == PH_RUN) {
			now = nf_now_ns();
			if (nf_unlikely(now < tx_from))
				goto receive;
			gen_tx_burst(&r->tx, now);
			if (nf_unlikely(r->tx.done)) {
				ph = PH_DRAIN;
				drain_start = now;
			}
		}
receive:
		if (rx) {
			if (gen_sink_poll(&r->sink, &t)) {
				now = t;
				last_rx = t;
				empty = 0;
				if (rx_only && c->count && r->sink.pkts >= c->count)
					ph = PH_DONE;
			} else {
				if (!tx || ph != PH_RUN)
					now = nf_now_ns();
				if (rx_only && c->intr && ++empty >= 64) {
					/* Sleep until the next deadline, at most
					 * 100 ms (the library's timers). */
					uint64_t until = NF_MIN(end_at, now + 100 * MS);

					if (c->progress)
						until = NF_MIN(until, next_prog);
					if (c->idle_ns && r->sink.pkts)
						until = NF_MIN(until, last_rx + c->idle_ns);
					rx_sleep(r, until > now ?
						 (int)((until - now + MS - 1) / MS) : 0);
					empty = 0;
					now = nf_now_ns();
					next_tick = now;	/* service now */
				}
			}
		} else if (ph == PH_DRAIN) {
			usleep(1000);
			now = nf_now_ns();
		}
		if (now < next_tick)
			continue;

		/* Every millisecond: control plane and stop conditions. */
		next_tick = now + MS;
		nf_io_service();
		if (nf_unlikely(stop_sig != sigs)) {
			/* First signal while sending: stop and drain; any
			 * other: stop now. */
			sigs = stop_sig;
			if (sigs == 1 && tx && ph == PH_RUN) {
				ph = PH_DRAIN;
				drain_start = now;
			} else {
				ph = PH_DONE;
			}
		}
		if (ph == PH_RUN && now >= end_at) {
			ph = tx ? PH_DRAIN : PH_DONE;
			drain_start = now;
		}
		if (ph == PH_RUN && rx_only) {
			if (c->idle_ns && r->sink.pkts && now - last_rx >= c->idle_ns)
				ph = PH_DONE;
			if (nf_port_rx_eof(r->rxp) && now - last_rx >= MS)
				ph = PH_DONE;
		}
		if (ph == PH_DRAIN) {
			if (rx && gen_sink_unique(&r->sink) >= r->tx.pkts)
				ph = PH_DONE;
			else if (now - drain_start >= c->drain_ns)
				ph = PH_DONE;
			else if (!rx && !nf_port_is_up(r->txp))
				ph = PH_DONE;	/* nobody left to drain to */
		}
		if (tx && r->tx.failed) {
			fprintf(stderr, "nf-gen: out of memory for the frame buffers\n");
			failed = 1;
			ph = PH_DONE;
		}
		if (ph == PH_RUN && port_lost(r, now)) {
			failed = 1;
			ph = PH_DONE;
		}
		if (c->progress && now >= next_prog) {
			next_prog += SEC;
			gen_progress(&r->rep, now, false);
			r->progress_shown = true;
		}
	}
	r->rep.end_ns = nf_now_ns();
	cpu_ns(&r->rep.cpu_user_ns, &r->rep.cpu_sys_ns);
	r->rep.cpu_user_ns -= user0;
	r->rep.cpu_sys_ns -= sys0;
	if (r->progress_shown)
		gen_progress(&r->rep, r->rep.end_ns, true);
	return failed;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct nf_io_params prm = { 0 };
	struct sigaction sa;
	int ret, status = EXIT_FAILURE;

	ret = parse_args(argc, argv, &r.c);
	if (ret == 1)
		return 0;
	if (ret < 0)
		return EXIT_USAGE;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	prm.pool_bufs = r.c.pool;
	ret = nf_io_init(&prm);
	if (ret < 0) {
		fprintf(stderr, "nf-gen: cannot initialise packet I/O: %s\n",
			nf_last_error()[0] ? nf_last_error() : strerror(-ret));
		return EXIT_FAILURE;
	}
	if (r.c.tx_spec != NULL) {
		bool both = r.c.rx_spec && strcmp(r.c.tx_spec, r.c.rx_spec) == 0;

		ret = open_port(r.c.tx_spec, both ? "txrx" : "tx", &r.txp);
		if (ret) {
			status = ret;
			goto out;
		}
		r.rep.ports[r.rep.nports++] = r.txp;
		if (both)
			r.rxp = r.txp;
	}
	if (r.c.rx_spec != NULL && r.rxp == NULL) {
		ret = open_port(r.c.rx_spec, "rx", &r.rxp);
		if (ret) {
			status = ret;
			goto out;
		}
		r.rep.ports[r.rep.nports++] = r.rxp;
	}
	if (r.txp != NULL) {
		ret = gen_tx_init(&r.tx, &r.c, r.txp);
		if (ret < 0) {
			fprintf(stderr, "nf-gen: %s\n", nf_last_error());
			goto out;
		}
		r.rep.tx = &r.tx;
	}
	if (r.rxp != NULL) {
		gen_sink_init(&r.sink, r.rxp, r.c.burst);
		r.rep.rx = &r.sink;
		if (r.c.flow_stats && gen_sink_flows(&r.sink, r.c.flows, r.c.train) < 0) {
			fprintf(stderr, "nf-gen: %s\n", nf_last_error());
			goto out;
		}
	}
	r.rep.conf = &r.c;

	if (wait_up(&r) < 0)
		goto out;
	ret = run_loop(&r);
	r.rep.lost = gen_lost(r.rep.tx, r.rep.rx);
	r.rep.lost_from_tx = r.rep.tx != NULL;
	if (r.c.json)
		gen_print_json(&r.rep);
	else
		gen_print_human(&r.rep);
	fflush(stdout);
	if (ret)
		status = EXIT_FAILURE;
	else if (r.c.expect_zero_loss && r.rep.rx != NULL &&
		 (r.rep.lost || r.sink.duplicated || r.sink.reordered))
		status = EXIT_LOSS;
	else
		status = EXIT_SUCCESS;
	if (r.c.hold_ns) {
		uint64_t end = nf_now_ns() + r.c.hold_ns;
		const sig_atomic_t sigs0 = stop_sig;	/* a signal ends the hold */

		while (nf_now_ns() < end && stop_sig == sigs0) {
			nf_io_service();
			usleep(1000);
		}
	}
out:
	if (r.txp != NULL)
		gen_tx_fini(&r.tx);
	gen_sink_fini(&r.sink);
	nf_io_fini();
	return status;
}
