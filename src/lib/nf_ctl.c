/* nf_ctl.c - non-blocking line-in / JSON-out control sockets. */
#define _GNU_SOURCE
#include "nf_ctl.h"
#include "nf_util.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CONNS	16
#define CTL_IDLE_NS	5000000000ull	/* drop a silent client after 5 s */

struct ctl_conn {
	int fd;
	size_t inlen;
	bool toolong;		/* the buffer filled without a newline */
	char in[NF_CTL_LINE];
	char *out;		/* reply being written */
	size_t outlen, outoff;
	uint64_t since;
};

struct nf_ctl {
	int lfd, epfd;
	char path[108];
	nf_ctl_handler handler;
	void *arg;
	struct ctl_conn conns[CTL_MAX_CONNS];
};

static void conn_close(struct nf_ctl *c, struct ctl_conn *k)
{
	char sink[512];
	int i;

	if (k->fd < 0)
		return;
	/* Read what the client still sent (an over-long request): closing
	 * with unread data would reset the connection before it reads our
	 * answer. */
	for (i = 0; i < 64 && recv(k->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

int nf_ctl_open(const char *path, nf_ctl_handler h, void *arg,
		struct nf_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ee = { .events = EPOLLIN };
	struct nf_ctl *c;
	int ret, i, fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		nf_set_error("control socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->lfd = c->epfd = -1;
	for (i = 0; i < CTL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
	nf_strlcpy(c->path, path, sizeof(c->path));
	c->handler = h;
	c->arg = arg;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		nf_set_error("control socket %s is in use by a running daemon", path);
		ret = -EADDRINUSE;
		goto fail;
	}
	if (fd >= 0)
		close(fd);
	(void)nf_mkdir_parent(path);
	/* Bound under a temporary name and renamed once it listens: whoever
	 * sees the path can connect (a client that waits for the file would
	 * otherwise be refused between bind() and listen()). */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d", path, (int)getpid()) >=
	    (int)sizeof(sa.sun_path))
		strcpy(sa.sun_path, path);	/* no room: the plain name */
	unlink(sa.sun_path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(c->lfd, 16) < 0 ||
	    (strcmp(sa.sun_path, path) != 0 && rename(sa.sun_path, path) < 0)) {
		ret = -errno;
		nf_set_error("cannot listen on control socket %s: %s", path,
			     strerror(errno));
		if (c->lfd >= 0)
			unlink(sa.sun_path);
		goto fail;
	}
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	ee.data.ptr = NULL;
	if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ee) < 0) {
		ret = -errno;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	nf_ctl_close(c);
	return ret;
}

void nf_ctl_close(struct nf_ctl *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(c, &c->conns[i]);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
}

int nf_ctl_fd(const struct nf_ctl *c)
{
	return c->epfd;
}

static void conn_flush(struct nf_ctl *c, struct ctl_conn *k)
{
	while (k->outoff < k->outlen) {
		ssize_t w = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN)
				return;
			break;
		}
		k->outoff += (size_t)w;
	}
	conn_close(c, k);
}

static void conn_answer(struct nf_ctl *c, struct ctl_conn *k)
{
	struct json_object *reply = json_object_new_object();
	char *argv[NF_CTL_WORDS + 2], *save = NULL, *tok;	/* one more word: too many */
	struct epoll_event ee = { .events = EPOLLOUT, .data.ptr = k };
	const char *s;
	int argc = 0, ret;

	for (tok = strtok_r(k->in, " \t\r\n", &save); tok != NULL && argc <= NF_CTL_WORDS;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	nf_clear_error();
	if (k->toolong) {
		nf_set_error("request longer than %zu bytes", sizeof(k->in) - 1);
		ret = -E2BIG;
	} else if (argc > NF_CTL_WORDS) {	/* refused, not cut: its end may matter */
		nf_set_error("request of more than %d words", NF_CTL_WORDS);
		ret = -E2BIG;
	} else if (argc == 0) {
		nf_set_error("empty request");
		ret = -EINVAL;
	} else {
		ret = c->handler(argc, argv, reply, c->arg);
	}
	if (ret < 0) {
		json_object_put(reply);
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(
			nf_last_error()[0] ? nf_last_error() : strerror(-ret)));
	} else {
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
	}
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	k->outlen = strlen(s) + 1;
	k->out = malloc(k->outlen);
	if (k->out != NULL) {
		memcpy(k->out, s, k->outlen - 1);
		k->out[k->outlen - 1] = '\n';
	}
	json_object_put(reply);
	if (k->out == NULL) {
		conn_close(c, k);
		return;
	}
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ee);
	conn_flush(c, k);
}

int nf_ctl_service(struct nf_ctl *c)
{
	struct epoll_event ev[16];
	uint64_t now = nf_now_ns();
	int n, i, served = 0;

	n = epoll_wait(c->epfd, ev, 16, 0);
	for (i = 0; i < n; i++) {
		struct ctl_conn *k = ev[i].data.ptr;

		if (k == NULL) {
			struct epoll_event ee = { .events = EPOLLIN };
			int fd, j;

			fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			for (j = 0; j < CTL_MAX_CONNS && c->conns[j].fd >= 0; j++)
				;
			if (j == CTL_MAX_CONNS) {
				close(fd);
				continue;
			}
			k = &c->conns[j];
			k->fd = fd;
			k->since = now;
			ee.data.ptr = k;
			if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ee) < 0)
				conn_close(c, k);
			continue;
		}
		if (k->out != NULL) {
			conn_flush(c, k);
			continue;
		}
		for (;;) {
			ssize_t r = recv(k->fd, k->in + k->inlen,
					 sizeof(k->in) - 1 - k->inlen, MSG_DONTWAIT);
			char *nl;

			if (r < 0 && errno == EAGAIN)
				break;
			if (r <= 0) {
				conn_close(c, k);
				break;
			}
			k->inlen += (size_t)r;
			k->in[k->inlen] = '\0';
			nl = memchr(k->in, '\n', k->inlen);
			if (nl != NULL || k->inlen == sizeof(k->in) - 1) {
				if (nl != NULL)
					*nl = '\0';
				else
					k->toolong = true;
				conn_answer(c, k);
				served++;
				break;
			}
		}
	}
	for (i = 0; i < CTL_MAX_CONNS; i++)
		if (c->conns[i].fd >= 0 && now - c->conns[i].since > CTL_IDLE_NS)
			conn_close(c, &c->conns[i]);
	return served;
}

int nf_ctl_request(const char *path, const char *line, int timeout_ms,
		   char **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto fail;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		ret = -errno;
		goto fail;
	}
	buf = malloc(cap);
	if (buf == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0) {
			ret = -ETIMEDOUT;
			goto fail;
		}
		if (len + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r < 0) {
			ret = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	*reply = buf;
	return 0;
fail:
	free(buf);
	close(fd);
	return ret;
}
