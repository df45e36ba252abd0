/* box_cmd.c - `nfchain container`: one VNF in a runc container, by hand.
 *
 *   nfchain container run [OPTIONS] ID DIR PROG CONF SOCK CTLDIR [-- ARGS...]
 *   nfchain container rm ID DIR
 *
 * run writes the bundle (nc_box_create), runs runc in the foreground,
 * forwards SIGINT / SIGTERM / SIGHUP to it, and when it ends removes
 * everything (nc_box_destroy); its exit status is the container's. rm
 * removes what a run that was killed left behind. For tests and debugging;
 * the orchestrator calls box.h itself.
 */
#define _GNU_SOURCE
#include "box.h"
#include "nf_util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOX_LIST_MAX 32		/* --file and --env, each */

static void usage(FILE *f)
{
	fprintf(f,
"usage: nfchain container run [OPTIONS] ID DIR PROG CONF SOCK CTLDIR [-- ARGS...]\n"
"       nfchain container rm ID DIR\n"
"\n"
"run: write the bundle DIR (rootfs with PROG, its libraries and CONF as\n"
NC_BOX_CONF "; config.json) and run PROG in a runc container, in the\n"
"foreground: namespaces mount, pid, ipc, uts, network; no capabilities;\n"
"a seccomp allowlist; read-only root. SOCK (the switch's memif socket) is\n"
"bound at " NC_BOX_SOCK ", CTLDIR read-write at " NC_BOX_CTLDIR "\n"
"(\"-\": DIR/ctl, removed with the bundle). ARGS are PROG's arguments as\n"
"seen inside, e.g. -- -q -c " NC_BOX_CONF " --ctl " NC_BOX_CTLDIR "/r.ctl\n"
"SIGINT, SIGTERM, SIGHUP are passed to the VNF. At the end the container,\n"
"its cgroups and DIR are removed; the exit status is the VNF's (128+N:\n"
"killed by signal N).\n"
"  --cpu-milli N      CPU limit, thousandths of a core (10..1000000)\n"
"  --mem BYTES        memory limit (suffixes Ki, Mi, Gi; at least 4Mi)\n"
"  --cpus LIST        cpuset, such as 1 or 0-1\n"
"  --file PATH        also copy PATH into " NC_BOX_FILEDIR " (repeatable)\n"
"  --env NAME=VALUE   environment of the VNF (repeatable)\n"
"  --seccomp-log      let system calls outside the allowlist through and\n"
"                     have the kernel log them (dmesg): to check the list\n"
"rm: remove the container ID (runc state, processes, cgroups) and the\n"
"bundle DIR; nothing there is not an error.\n"
"runc keeps its state in " NC_BOX_RUNC_ROOT ".\n");
}

static int usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "nfchain: container: %s%s%s (see nfchain container --help)\n",
		msg, arg ? " " : "", arg ? arg : "");
	return 2;
}

/* BYTES with an optional Ki / Mi / Gi suffix. */
static int parse_bytes(const char *s, uint64_t *out)
{
	static const char *const sfx[] = { "Ki", "Mi", "Gi" };
	char num[32];
	size_t n = strlen(s), i;
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	for (i = 0; i < NF_ARRAY_SIZE(sfx); i++)
		if (n > 2 && strcmp(num + n - 2, sfx[i]) == 0) {
			num[n - 2] = '\0';
			shift = 10 * (unsigned)(i + 1);
		}
	if (nf_parse_u64(num, 0, UINT64_MAX >> (shift + 1), 0, &v) < 0)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Run @argv (runc) and wait for it, passing it the signals that would
 * stop us. Its exit status (128 + N when killed by signal N). */
static int run_fg(const char **argv)
{
	sigset_t set, old;
	siginfo_t si;
	int st = 0;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nfchain: container: fork: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "nfchain: container: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(pid, si.si_signo);
			continue;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "cpu-milli", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "env", required_argument, NULL, 'e' },
		{ "seccomp-log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *files[BOX_LIST_MAX + 1] = { NULL }, *env[BOX_LIST_MAX + 1] = { NULL };
	const char *rargv[8];
	struct nc_box b = { .files = files, .env = env };
	char err[512];
	size_t nfiles = 0, nenv = 0;
	uint64_t v;
	int c, rc, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (nf_parse_u64(optarg, 0, 1000000, 0, &v) < 0)
				return usage_err("--cpu-milli: expected 10..1000000, not", optarg);
			b.cpu_milli = (unsigned)v;
			break;
		case 'm':
			if (parse_bytes(optarg, &b.mem_bytes) < 0)
				return usage_err("--mem: expected bytes (suffixes Ki, Mi, Gi), not",
						 optarg);
			break;
		case 'p': b.cpus = optarg; break;
		case 'f':
			if (nfiles == BOX_LIST_MAX)
				return usage_err("too many --file", NULL);
			files[nfiles++] = optarg;
			break;
		case 'e':
			if (nenv == BOX_LIST_MAX)
				return usage_err("too many --env", NULL);
			env[nenv++] = optarg;
			break;
		case 'l': b.seccomp_log = 1; break;
		case 'h': usage(stdout); return 0;
		case ':': return usage_err("this option needs a value:", argv[optind - 1]);
		default: return usage_err("unknown option:", argv[optind - 1]);
		}
	}
	if (argc - optind < 6)
		return usage_err("run needs ID DIR PROG CONF SOCK CTLDIR", NULL);
	b.id = argv[optind];
	b.dir = argv[optind + 1];
	b.prog = argv[optind + 2];
	b.conf = argv[optind + 3];
	b.sock = argv[optind + 4];
	b.ctldir = strcmp(argv[optind + 5], "-") == 0 ? NULL : argv[optind + 5];
	optind += 6;
	if (optind < argc && strcmp(argv[optind], "--") != 0)
		return usage_err("unexpected argument (PROG's go after --):", argv[optind]);
	b.args = (const char *const *)argv + optind + (optind < argc);
	ret = nc_box_create(&b, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "nfchain: container %s: %s\n", b.id, err);
		return 1;
	}
	nc_box_argv(&b, rargv, NF_ARRAY_SIZE(rargv));
	rc = run_fg(rargv);
	ret = nc_box_destroy(b.id, b.dir);
	if (ret < 0) {
		fprintf(stderr, "nfchain: container %s: %s\n", b.id, nf_last_error());
		return rc != 0 ? rc : 1;
	}
	return rc;
}

static int cmd_rm(int argc, char **argv)
{
	if (argc != 3)
		return usage_err("rm needs ID DIR", NULL);
	if (nc_box_destroy(argv[1], argv[2]) < 0) {
		fprintf(stderr, "nfchain: container %s: %s\n", argv[1], nf_last_error());
		return 1;
	}
	return 0;
}

int nc_box_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_err("run or rm?", NULL);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return cmd_rm(argc - 1, argv + 1);
	return usage_err("unknown container command", argv[1]);
}
