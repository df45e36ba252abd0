/* ipam.c - running the delegated IPAM plugin (ipam.h). */
#define _GNU_SOURCE
#include "ipam.h"
#include "nf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The plugin's path: the first CNI_PATH directory that has it. */
static int find_plugin(const char *type, char *path, size_t size, struct cni_err *e)
{
	const char *cp = getenv("CNI_PATH"), *s, *end;

	if (cp == NULL || *cp == '\0')
		return cni_fail(e, CNI_E_ENV, "CNI_PATH is not set: the IPAM plugin '%s' cannot be found",
				type);
	for (s = cp; *s; s = *end ? end + 1 : end) {
		end = strchrnul(s, ':');
		if (end == s)
			continue;
		snprintf(path, size, "%.*s/%s", (int)(end - s), s, type);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return cni_fail(e, CNI_E_IPAM, "IPAM plugin '%s' not found in CNI_PATH (%s)", type,
			cni_show(cp));
}

/* The plugin's error result, or our own sentence. */
static void plugin_error(const char *type, const char *out, int status, struct cni_err *e)
{
	struct json_object *o = json_tokener_parse(out), *v;

	if (o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "code", &v) && json_object_is_type(v, json_type_int)) {
		int code = json_object_get_int(v);
		const char *msg = json_object_object_get_ex(o, "msg", &v) ?
				  json_object_get_string(v) : "";

		cni_fail(e, code > 0 ? code : CNI_E_IPAM, "IPAM plugin %s: %s", type, msg);
		if (json_object_object_get_ex(o, "details", &v))
			snprintf(e->details, sizeof(e->details), "%s", json_object_get_string(v));
	} else if (WIFEXITED(status)) {
		cni_fail(e, CNI_E_IPAM, "IPAM plugin %s exited with status %d without an error result",
			 type, WEXITSTATUS(status));
	} else {
		cni_fail(e, CNI_E_IPAM, "IPAM plugin %s was killed by signal %d", type,
			 WTERMSIG(status));
	}
	json_object_put(o);
}

int cni_ipam_exec(const struct cni_conf *c, const char *cmd, const char *conf,
		  size_t len, struct json_object **result, struct cni_err *e)
{
	char path[512], *out = NULL;
	size_t n = 0, cap = 0;
	int in = -1, pipefd[2] = { -1, -1 }, status, ret = -1;
	pid_t pid;

	if (result != NULL)
		*result = NULL;
	if (find_plugin(c->ipam_type, path, sizeof(path), e) < 0)
		return -1;
	/* Our stdin, unchanged, from a memory file: no pipe to keep fed. */
	in = memfd_create("cni-conf", MFD_CLOEXEC);
	if (in < 0 || write(in, conf, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0) {
		cni_fail(e, CNI_E_IPAM, "cannot pass the configuration to %s: %s", path,
			 strerror(errno));
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cni_fail(e, CNI_E_IPAM, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		cni_fail(e, CNI_E_IPAM, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		char *argv[] = { path, NULL };

		if (dup2(in, 0) < 0 || dup2(pipefd[1], 1) < 0 || setenv("CNI_COMMAND", cmd, 1) < 0)
			_exit(127);
		execv(path, argv);
		fprintf(stderr, "nfchain-cni: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			char *p = realloc(out, cap = cap * 2 + 8192);

			if (p == NULL) {
				cni_fail(e, CNI_E_IPAM, "out of memory");
				break;
			}
			out = p;
		}
		r = read(pipefd[0], out + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (e->code != 0)
		goto out;
	out[n] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		plugin_error(c->ipam_type, out, status, e);
		goto out;
	}
	if (result != NULL && strcmp(cmd, "ADD") == 0) {
		*result = json_tokener_parse(out);
		if (*result == NULL || !json_object_is_type(*result, json_type_object)) {
			json_object_put(*result);
			*result = NULL;
			cni_fail(e, CNI_E_IPAM, "IPAM plugin %s: its result is not a JSON object",
				 c->ipam_type);
			goto out;
		}
	}
	ret = 0;
out:
	free(out);
	if (in >= 0)
		close(in);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return ret;
}
