/* nf_ctl.h - control sockets: one request line in, one JSON document out.
 *
 * A daemon opens a UNIX stream socket (mode 0600) and calls nf_ctl_service()
 * from its loop; nothing blocks: partial requests and large replies are
 * carried over calls. A client (the nfchain CLI) connects, writes one line
 * ("ports\n", "port-add memif:/run/x.sock,id=3\n"), reads the reply until
 * the daemon closes. Replies are JSON objects with "ok": true|false and,
 * on failure, "error": one sentence. A request has at most NF_CTL_WORDS
 * words (blank-separated) in NF_CTL_LINE - 1 bytes; a longer one is
 * refused, never cut.
 */
#ifndef NF_CTL_H
#define NF_CTL_H

#include <json-c/json.h>

#define NF_CTL_LINE	4096
#define NF_CTL_WORDS	128	/* a group of 64 members and its options fits */

struct nf_ctl;

/* Handler: fill @reply (an empty JSON object) for request @argv.
 * Return 0, or -errno after setting nf_set_error(): the reply then becomes
 * {"ok": false, "error": "..."} . */
typedef int (*nf_ctl_handler)(int argc, char **argv, struct json_object *reply,
			      void *arg);

/* Listen on @path (an existing socket file is replaced unless a live
 * daemon answers on it: -EADDRINUSE). Returns 0 or -errno. */
int nf_ctl_open(const char *path, nf_ctl_handler h, void *arg,
		struct nf_ctl **out);
void nf_ctl_close(struct nf_ctl *c);
/* An epoll descriptor readable when requests wait. */
int nf_ctl_fd(const struct nf_ctl *c);
/* Serve what waits, without blocking. Returns requests answered. */
int nf_ctl_service(struct nf_ctl *c);

/* Client: send @line to the daemon at @path, wait up to @timeout_ms for
 * the whole reply; *reply is a malloc'd NUL-terminated string.
 * Returns 0, -ENOENT/-ECONNREFUSED (no daemon), -ETIMEDOUT, -errno. */
int nf_ctl_request(const char *path, const char *line, int timeout_ms,
		   char **reply);

#endif
