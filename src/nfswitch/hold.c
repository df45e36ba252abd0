/* hold.c - a steering group's hold queue (hold.h). */
#include "hold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int st_hold_new(unsigned cap, struct st_hold **out)
{
	struct st_hold *h;

	if (cap == 0 || cap > ST_HOLD_MAX)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->cap = cap;
	h->in = calloc(cap, sizeof(*h->in));
	h->len = calloc(cap, sizeof(*h->len));
	h->buf = malloc((size_t)cap * ST_HOLD_FRAME);
	if (h->in == NULL || h->len == NULL || h->buf == NULL) {
		st_hold_free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void st_hold_free(struct st_hold *h)
{
	if (h == NULL)
		return;
	free(h->in);
	free(h->len);
	free(h->buf);
	free(h);
}

int st_hold_push(struct st_hold *h, uint16_t in, const uint8_t *p, uint32_t len,
		 uint64_t now_ns)
{
	uint32_t i;

	if (len > ST_HOLD_FRAME) {
		h->big++;
		return -1;
	}
	if (h->n == h->cap) {
		h->full++;
		return -1;
	}
	i = (h->head + h->n) % h->cap;
	memcpy(h->buf + (size_t)i * ST_HOLD_FRAME, p, len);
	h->in[i] = in;
	h->len[i] = (uint16_t)len;
	h->held++;
	if (h->n++ == 0) {
		h->t_first_ns = now_ns;
		h->episodes++;
		return 1;
	}
	return 0;
}

void st_hold_notify(int fd, const char *path, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[64];
	int n;

	if (fd < 0 || path == NULL || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	n = snprintf(msg, sizeof(msg), "hold %s\n", name);
	/* Not waiting: a full or absent listener loses the news, not the
	 * frames (the orchestrator also reads the counters). */
	if (sendto(fd, msg, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* nothing to do */
	}
}
