/* state.c - nfchain-cni's attachment records (state.h). */
#define _GNU_SOURCE
#include "state.h"
#include "nf_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int cni_state_lock(const char *dir, bool exclusive, struct cni_err *e)
{
	char path[300];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/lock", dir);
	ret = nf_mkdir_parent(path);
	if (ret < 0)
		return cni_fail(e, CNI_E_IO, "cannot create the state directory %s: %s", dir,
				strerror(-ret));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cni_fail(e, CNI_E_IO, "cannot open %s: %s", path, strerror(errno));
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			cni_fail(e, CNI_E_IO, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

void cni_state_path(const struct cni_conf *c, const char *cid, const char *ifname,
		    char *path, size_t size)
{
	snprintf(path, size, "%s/%s/%s@%s", c->state_dir, c->name, cid, ifname);
}

int cni_state_read(const char *path, struct json_object **rec, struct cni_err *e)
{
	*rec = json_object_from_file(path);
	if (*rec != NULL && json_object_is_type(*rec, json_type_object))
		return 1;
	json_object_put(*rec);
	*rec = NULL;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	return cni_fail(e, CNI_E_IO, "the record %s cannot be read: %s", path,
			json_util_get_last_err() ? json_util_get_last_err() : "not a JSON object");
}

int cni_state_write(const char *path, struct json_object *rec, struct cni_err *e)
{
	char tmp[600];
	const char *s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PRETTY);
	size_t n = strlen(s);
	int fd, ret;

	ret = nf_mkdir_parent(path);
	if (ret < 0)
		return cni_fail(e, CNI_E_IO, "cannot create the directory of %s: %s", path,
				strerror(-ret));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cni_fail(e, CNI_E_IO, "cannot create %s: %s", tmp, strerror(errno));
	if (write(fd, s, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		cni_fail(e, CNI_E_IO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		cni_fail(e, CNI_E_IO, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* One record: its ports' ids and names. */
static int scan_record(const char *path, const char *socket, uint8_t *used,
		       char names[][128], unsigned n, struct cni_err *e)
{
	struct json_object *rec, *ports;
	size_t i;
	unsigned j;
	int ret = 0;

	struct cni_err bad = { 0 };

	/* An unreadable record must not stop every ADD: its ids are lost. */
	if (cni_state_read(path, &rec, &bad) <= 0) {
		if (bad.code)
			fprintf(stderr, "nfchain-cni: %s (its memif ids are not counted)\n", bad.msg);
		return 0;
	}
	if (json_object_object_get_ex(rec, "ports", &ports) &&
	    json_object_is_type(ports, json_type_array)) {
		for (i = 0; i < json_object_array_length(ports); i++) {
			struct json_object *p = json_object_array_get_idx(ports, i), *id;
			const char *name = jstr(p, "name");

			for (j = 0; j < n; j++)
				if (strcmp(name, names[j]) == 0)
					ret = cni_fail(e, CNI_E_NAME,
						       "switch port name %s is already the record %s's",
						       name, path);
			if (strcmp(jstr(rec, "memif_socket"), socket) != 0 ||
			    !json_object_object_get_ex(p, "id", &id))
				continue;
			int64_t x = json_object_get_int64(id);

			if (x >= 0 && x <= 65535)
				used[x / 8] |= (uint8_t)(1u << (x % 8));
		}
	}
	json_object_put(rec);
	return ret;
}

int cni_state_used(const char *dir, const char *socket, uint8_t *used,
		   char names[][128], unsigned n, struct cni_err *e)
{
	DIR *top, *net;
	struct dirent *d, *f;
	char path[800];
	int ret = 0;

	top = opendir(dir);
	if (top == NULL)
		return cni_fail(e, CNI_E_IO, "cannot read %s: %s", dir, strerror(errno));
	while (ret == 0 && (d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.' || strcmp(d->d_name, "lock") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		net = opendir(path);
		if (net == NULL)
			continue;
		while (ret == 0 && (f = readdir(net)) != NULL) {
			size_t l = strlen(f->d_name);

			if (f->d_name[0] == '.' || strchr(f->d_name, '@') == NULL ||
			    (l > 4 && strcmp(f->d_name + l - 4, ".tmp") == 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", dir, d->d_name, f->d_name);
			ret = scan_record(path, socket, used, names, n, e);
		}
		closedir(net);
	}
	closedir(top);
	return ret;
}
