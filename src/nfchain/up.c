#define _GNU_SOURCE
/* up.c - the deployment commands: up, apply, status, scale, logs, down.
 *
 * `up` checks the file, then runs the node agent (agent.c) in this process
 * with the live table, or detached (-d) as a daemon whose control socket
 * the other commands talk to: RUN/NAME/agent.ctl, RUN = --run-dir, else
 * $NFCHAIN_RUN_DIR, else /run/nfchain.
 */
#include "agent.h"
#include "nf_ctl.h"
#include "nf_util.h"
#include "plan.h"
#include "up.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *run_base(const char *opt)
{
	const char *e = getenv("NFCHAIN_RUN_DIR");

	return opt ? opt : e && *e ? e : "/run/nfchain";
}

static void up_usage(void)
{
	printf(
"usage: nfchain up [-d] [-n] [--run-dir DIR] [--timeout MS] [--no-table] FILE\n"
"       nfchain status [--json] | apply FILE | scale VNF N | logs VNF[.I]|switch|agent |\n"
"               down   (each: [--name NAME] [--run-dir DIR])\n"
"\n"
"Run the deployment FILE describes (docs/ORCHESTRATOR.md): nfswitch, every\n"
"replica of every VNF type (runc containers, or processes with runtime:\n"
"process), the steering of its chains; health probes through each replica's\n"
"control socket and its data path; restarts; a live table until Ctrl-C, then\n"
"everything is torn down. With an `http: ADDR:PORT` key the agent also\n"
"serves the operator's dashboard (/) and the tenants' portal (/portal), where\n"
"each tenant of the file picks the services its traffic visits, live.\n"
"\n"
"  -d, --detach       return once every replica is up (exit 0) or after a\n"
"                     failure (exit 1, everything torn down); the agent stays\n"
"                     as a daemon for status, apply, scale, logs, down\n"
"  -n, --check        check FILE (and each VNF's configuration with its own\n"
"                     program), print the steering it gives, start nothing\n"
"      --run-dir DIR  where deployments live (default $NFCHAIN_RUN_DIR, else\n"
"                     /run/nfchain): DIR/NAME/memif.sock is the switch's memif\n"
"                     socket for generators and other nodes\n"
"      --timeout MS   every replica up within MS (default 10000)\n"
"      --no-table     no live table (also when stdout is not a terminal)\n"
"\n"
"Exit status: 0 done, 1 refused or failed, 2 usage error.\n");
}

static int usage_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "nfchain %s: %s (see nfchain --help)\n", cmd, msg);
	return 2;
}

/* The deployment to talk to: @name, else the only one running. */
static int find_name(const char *base, const char *name, char *out, size_t len)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if (name) {
		snprintf(out, len, "%s", name);
		return 0;
	}
	d = opendir(base);
	while (d && (e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/agent.ctl", base, e->d_name);
		if (stat(p, &st) == 0 && S_ISSOCK(st.st_mode)) {
			snprintf(out, len, "%.63s", e->d_name);
			n++;
		}
	}
	if (d)
		closedir(d);
	if (n == 1)
		return 0;
	if (n)
		fprintf(stderr, "nfchain: %u deployments run in %s: name one with --name\n", n, base);
	else
		fprintf(stderr, "nfchain: no deployment runs in %s\n", base);
	return -ENOENT;
}

/* One request to an agent: the parsed reply, or NULL after a message. */
static struct json_object *agent_req(const char *base, const char *name, const char *line,
				     int timeout_ms)
{
	char run[256], ctl[300], *out = NULL;
	struct json_object *r;
	int ret;

	nc_run_dir(base, name, run, sizeof(run));
	snprintf(ctl, sizeof(ctl), "%s/agent.ctl", run);
	ret = nf_ctl_request(ctl, line, timeout_ms, &out);
	if (ret < 0) {
		fprintf(stderr, "nfchain: deployment %s does not answer at %s: %s\n", name, ctl,
			ret == -ETIMEDOUT ? "timed out" : strerror(-ret));
		return NULL;
	}
	r = json_tokener_parse(out);
	free(out);
	if (r == NULL) {
		fprintf(stderr, "nfchain: unreadable reply from %s\n", ctl);
		return NULL;
	}
	if (!json_object_get_boolean(json_object_object_get(r, "ok"))) {
		fprintf(stderr, "nfchain: %s\n",
			json_object_get_string(json_object_object_get(r, "error")));
		json_object_put(r);
		return NULL;
	}
	return r;
}

static int count_replicas(const struct nc_spec *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->nvnf; i++)
		n += s->vnf[i].replicas;
	return (int)n;
}

/* --check: the steering the file gives once every replica is up. */
static const struct nc_member *check_member(unsigned v, unsigned i, void *arg)
{
	static struct nc_member m;
	const struct nc_spec *s = arg;

	if (i >= s->vnf[v].replicas)
		return NULL;
	m.up = true;
	nc_plan_port_name(s->vnf[v].name, i, s->vnf[v].port[0], m.port[0], sizeof(m.port[0]));
	nc_plan_port_name(s->vnf[v].name, i, s->vnf[v].port[1], m.port[1], sizeof(m.port[1]));
	nc_plan_mac(1000 + 2 * (v * NC_REPLICA_MAX + i), m.mac[0]);
	nc_plan_mac(1001 + 2 * (v * NC_REPLICA_MAX + i), m.mac[1]);
	return &m;
}

static unsigned check_chain_no(unsigned c, void *arg)
{
	(void)arg;
	return c + 1;
}

/* Every VNF type's configuration, checked by its own program (-n) before
 * anything starts: "FILE:LINE: vnfs.NAME.config: the program's reason". */
static int check_configs(const struct nc_spec *s, char *err, size_t errlen)
{
	static const unsigned ids[2] = { 1000, 1001 };
	char dir[] = "/tmp/nfchain-check-XXXXXX";
	unsigned v, k;
	int ret = 0;

	if (mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -errno;
	}
	for (v = 0; v < s->nvnf && ret == 0; v++) {
		const struct nc_vnf *f = &s->vnf[v];
		char conf[8192], path[PATH_MAX], msg[1024] = "", *p, *reason;
		unsigned prefix;
		int pfd[2], status = 0, line = f->line;
		ssize_t n;
		FILE *fp;
		pid_t pid;

		if (nc_plan_vnf_conf(s, f, 0, "/nonexistent/check.sock", ids, conf, sizeof(conf),
				     &prefix) < 0) {
			snprintf(err, errlen, "%s:%d: vnfs.%s.config: too long", s->file, f->line,
				 f->name);
			ret = -E2BIG;
			break;
		}
		snprintf(path, sizeof(path), "%s/vnf.conf", dir);
		fp = fopen(path, "w");
		if (fp) {
			fputs(conf, fp);
			fclose(fp);
		}
		for (k = 0; k < f->nfiles; k++) {
			snprintf(path, sizeof(path), "%s/%s", dir, f->file[k].name);
			fp = fopen(path, "w");
			if (fp) {
				fputs(f->file[k].text, fp);
				fclose(fp);
			}
		}
		if (pipe(pfd) < 0)
			break;
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			dup2(pfd[1], 2);
			dup2(pfd[1], 1);
			if (chdir(dir) < 0)
				_exit(127);
			execl(f->program, f->program, "-n", "-c", "vnf.conf", (char *)NULL);
			fprintf(stderr, "cannot run %s: %s\n", f->program, strerror(errno));
			_exit(127);
		}
		close(pfd[1]);
		{
			size_t got = 0;

			while (got < sizeof(msg) - 1 &&
			       (n = read(pfd[0], msg + got, sizeof(msg) - 1 - got)) > 0)
				got += (size_t)n;
			msg[got] = '\0';
		}
		close(pfd[0]);
		if (pid > 0)
			waitpid(pid, &status, 0);
		if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		/* "PROG: vnf.conf:L: reason" or "PROG: vnf.conf: line L: reason" */
		p = strchr(msg, '\n');
		if (p)
			*p = '\0';
		reason = msg;
		p = strstr(msg, "vnf.conf");
		if (p) {
			unsigned cl;
			int used = 0;

			if (sscanf(p, "vnf.conf:%u: %n", &cl, &used) == 1 && used)
				reason = p + used;
			else if (sscanf(p, "vnf.conf: line %u: %n", &cl, &used) == 1 && used)
				reason = p + used;
			else
				cl = 0;
			if (cl > prefix && f->config_line)
				line = f->config_line + (int)(cl - prefix - 1);
			else if (used)
				reason = p + used;
		}
		snprintf(err, errlen, "%s:%d: vnfs.%s.config: %s", s->file, line, f->name, reason);
		ret = -EINVAL;
	}
	for (v = 0; v < s->nvnf; v++)
		for (k = 0; k < s->vnf[v].nfiles; k++) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", dir, s->vnf[v].file[k].name);
			unlink(path);
		}
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/vnf.conf", dir);
		unlink(path);
	}
	rmdir(dir);
	return ret;
}

int nc_cmd_up(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "run-dir", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-table", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nc_agent_opts o = { .ready_fd = -1, .up_timeout_ms = 10000 };
	bool detach = false, check = false, table = true;
	const char *rdir = NULL;
	struct nc_spec *s;
	char err[600];
	int c, fds[2], ret;
	uint64_t v;
	pid_t pid;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "dnR:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': up_usage(); return 0;
		case 'd': detach = true; break;
		case 'n': check = true; break;
		case 'R': rdir = optarg; break;
		case 'T': table = false; break;
		case 't':
			if (nf_parse_u64(optarg, 100, 600000, 0, &v) < 0)
				return usage_err("up", "--timeout: 100..600000 ms");
			o.up_timeout_ms = (unsigned)v;
			break;
		default:
			return usage_err("up", "unknown option");
		}
	}
	if (optind != argc - 1)
		return usage_err("up", "needs one FILE");
	if (nc_spec_load(argv[optind], &s, err, sizeof(err)) < 0 ||
	    check_configs(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "nfchain: %s\n", err);
		nc_spec_free(s);
		return 1;
	}
	if (check) {
		struct nc_plan_in in = { s, check_member, check_chain_no, s };
		static char steering[65536];

		ret = nc_plan_steering(&in, steering, sizeof(steering));
		printf("%s: OK: deployment %s, %u VNF types, %d replicas, %u chains\n%s",
		       argv[optind], s->name, s->nvnf, count_replicas(s), s->nchain,
		       ret == 0 ? steering : "");
		nc_spec_free(s);
		return ret == 0 ? 0 : 1;
	}
	if (s->runtime == NC_RT_RUNC && geteuid() != 0) {
		fprintf(stderr, "nfchain: %s: runtime runc needs root (runtime: process runs "
			"the replicas as plain processes)\n", argv[optind]);
		nc_spec_free(s);
		return 1;
	}
	o.run_base = run_base(rdir);
	if (!detach) {
		o.table = table && isatty(1);
		o.ready_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		return nc_agent_run(s, &o);
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("nfchain: pipe");
		nc_spec_free(s);
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("nfchain: fork");
		nc_spec_free(s);
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(fds[0]);
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
		o.ready_fd = fds[1];
		o.daemon = true;
		_exit(nc_agent_run(s, &o));
	}
	close(fds[1]);
	{
		char msg[512];
		ssize_t n = read(fds[0], msg, sizeof(msg) - 1);

		close(fds[0]);
		msg[n > 0 ? n : 0] = '\0';
		if (strcmp(msg, "ok\n") == 0) {
			printf("nfchain: %s is up: %d replicas (nfchain status, nfchain down)\n",
			       s->name, count_replicas(s));
			nc_spec_free(s);
			return 0;
		}
		fprintf(stderr, "nfchain: %s: %s", s->name, msg[0] ? msg : "the agent died\n");
		/* It tears everything down before it exits. */
		waitpid(pid, NULL, 0);
		nc_spec_free(s);
		return 1;
	}
}

static void print_status(struct json_object *r)
{
	struct json_object *reps;
	size_t i, n;

	printf("deployment %s (%s), %s, up %.1f s\n", json_object_get_string(
		json_object_object_get(r, "name")), json_object_get_string(
		json_object_object_get(r, "file")), json_object_get_string(
		json_object_object_get(r, "runtime")),
	       (double)json_object_get_int64(json_object_object_get(r, "uptime_ms")) / 1000);
	printf("memif socket %s\n", json_object_get_string(json_object_object_get(r, "memif_socket")));
	printf("%-16s %-9s %7s %8s %12s %12s %10s\n", "REPLICA", "STATE", "PID", "RESTARTS",
	       "PPS IN", "PPS OUT", "DROPS");
	if (!json_object_object_get_ex(r, "replicas", &reps))
		return;
	n = json_object_array_length(reps);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(reps, i);
		char name[40];

		snprintf(name, sizeof(name), "%s.%d",
			 json_object_get_string(json_object_object_get(o, "vnf")),
			 json_object_get_int(json_object_object_get(o, "replica")));
		printf("%-16s %-9s %7d %8d %12.0f %12.0f %10" PRId64 "\n", name,
		       json_object_get_string(json_object_object_get(o, "state")),
		       json_object_get_int(json_object_object_get(o, "pid")),
		       json_object_get_int(json_object_object_get(o, "restarts")),
		       json_object_get_double(json_object_object_get(o, "pps_in")),
		       json_object_get_double(json_object_object_get(o, "pps_out")),
		       json_object_get_int64(json_object_object_get(o, "drops")));
	}
}

/* status, down, scale, apply, logs: [--name N] [--run-dir D] [--json] ARGS */
int nc_cmd_deploy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "run-dir", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0], *nopt = NULL, *rdir = NULL, *base;
	struct json_object *r;
	char name[64], line[PATH_MAX + 64];
	bool json = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+N:R:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'h': up_usage(); return 0;
		case 'N': nopt = optarg; break;
		case 'R': rdir = optarg; break;
		case 'j': json = true; break;
		default: return usage_err(cmd, "unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	base = run_base(rdir);
	if (strcmp(cmd, "apply") == 0) {
		struct nc_spec *s;
		char err[600], abs[PATH_MAX];

		if (argc != 1)
			return usage_err(cmd, "needs one FILE");
		/* Checked here too, so that the error names the file as given. */
		if (nc_spec_load(argv[0], &s, err, sizeof(err)) < 0 ||
		    check_configs(s, err, sizeof(err)) < 0) {
			fprintf(stderr, "nfchain: %s\n", err);
			nc_spec_free(s);
			return 1;
		}
		snprintf(name, sizeof(name), "%s", s->name);
		nc_spec_free(s);
		if (realpath(argv[0], abs) == NULL)
			return 1;
		snprintf(line, sizeof(line), "apply %s", abs);
		r = agent_req(base, name, line, 60000);
		if (r == NULL)
			return 1;
		printf("nfchain: %s applied\n", name);
		json_object_put(r);
		return 0;
	}
	if (find_name(base, nopt, name, sizeof(name)) < 0) {
		if (strcmp(cmd, "down") == 0 && nopt) {
			int n = nc_agent_reap(base, nopt);

			printf("nfchain: %s was not running; %d leftovers removed\n", nopt,
			       n > 0 ? n : 0);
			return 0;
		}
		return 1;
	}
	if (strcmp(cmd, "status") == 0) {
		if (argc != 0)
			return usage_err(cmd, "takes no arguments");
		r = agent_req(base, name, "status", 5000);
		if (r == NULL)
			return 1;
		if (json)
			printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
		else
			print_status(r);
		json_object_put(r);
		return 0;
	}
	if (strcmp(cmd, "scale") == 0) {
		if (argc != 2 || strchr(argv[0], ' ') || strchr(argv[1], ' '))
			return usage_err(cmd, "needs VNF N");
		snprintf(line, sizeof(line), "scale %s %s", argv[0], argv[1]);
		r = agent_req(base, name, line, 60000);
		if (r == NULL)
			return 1;
		printf("nfchain: %s: %s has %s replicas\n", name, argv[0], argv[1]);
		json_object_put(r);
		return 0;
	}
	if (strcmp(cmd, "down") == 0) {
		char run[256];
		struct stat st;
		int i;

		if (argc != 0)
			return usage_err(cmd, "takes no arguments");
		nc_run_dir(base, name, run, sizeof(run));
		r = agent_req(base, name, "down", 5000);
		if (r == NULL) {
			int n = nc_agent_reap(base, name);

			printf("nfchain: %s: the agent did not answer; %d leftovers removed\n",
			       name, n > 0 ? n : 0);
			return 0;
		}
		json_object_put(r);
		for (i = 0; i < 300 && stat(run, &st) == 0; i++)
			usleep(50000);
		if (stat(run, &st) == 0) {
			fprintf(stderr, "nfchain: %s: still tearing down after 15 s\n", name);
			return 1;
		}
		printf("nfchain: %s is down\n", name);
		return 0;
	}
	if (strcmp(cmd, "logs") == 0) {
		char run[256], path[600], want[64];
		unsigned k, shown = 0;
		struct dirent **ents;
		int n, i;

		if (argc != 1)
			return usage_err(cmd, "needs VNF, VNF.I, switch or agent");
		nc_run_dir(base, name, run, sizeof(run));
		if (strcmp(argv[0], "switch") == 0 || strcmp(argv[0], "agent") == 0) {
			snprintf(path, sizeof(path), "%s/%s.log", run, argv[0]);
			return nc_cat(path, NULL) < 0 ? 1 : 0;
		}
		snprintf(want, sizeof(want), "%s.", argv[0]);
		n = scandir(run, &ents, NULL, alphasort);
		for (i = 0; i < n; i++) {
			const char *d = ents[i]->d_name;

			if (strncmp(d, want, strlen(want)) == 0 || strcmp(d, argv[0]) == 0) {
				bool digits = true;

				for (k = (unsigned)strlen(want); strcmp(d, argv[0]) && d[k]; k++)
					digits &= d[k] >= '0' && d[k] <= '9';
				if (digits) {
					snprintf(path, sizeof(path), "%s/%s/log", run, d);
					nc_cat(path, d);
					shown++;
				}
			}
			free(ents[i]);
		}
		if (n >= 0)
			free(ents);
		if (!shown) {
			fprintf(stderr, "nfchain: %s: no replica '%s'\n", name, argv[0]);
			return 1;
		}
		return 0;
	}
	return usage_err(cmd, "unknown command");
}

int nc_cat(const char *path, const char *title)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "nfchain: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (title)
		printf("==> %s <==\n", title);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}
