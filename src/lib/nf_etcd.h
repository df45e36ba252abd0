/* nf_etcd.h - an etcd v3 client over etcd's JSON gateway (HTTP + JSON).
 *
 * Speaks etcd's v3 API through the gRPC gateway every etcd server serves
 * on its client URL (`POST /v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`,
 * `/v3/kv/deleterange`, `/v3/lease/grant`, `/v3/lease/keepalive`,
 * `/v3/lease/revoke`, `/v3/watch`), with libcurl and json-c; keys and
 * values travel base64-encoded, as the gateway wants. Several endpoints
 * (the members of a cluster) may be given: a request that cannot reach
 * one (connection refused, timeout, 5xx) is tried on the next, so losing
 * a member is invisible to the caller. Control plane only: calls block
 * for at most the timeout given to nf_etcd_open() per endpoint.
 * An nf_etcd is for one thread at a time (one curl handle); a watch copies
 * what it needs and may outlive it. A write that timed out on one member
 * may still have been applied there when it is retried on the next: a
 * put is then applied twice, a put_if may answer -ECANCELED.
 */
#ifndef NF_ETCD_H
#define NF_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nf_etcd;

struct nf_etcd_kv {
	char *key;		/* NUL-terminated */
	char *val;		/* NUL-terminated (values may hold NULs: use len) */
	size_t len;
	int64_t create_rev, mod_rev, version, lease;
};

struct nf_etcd_kvs {
	struct nf_etcd_kv *kv;
	size_t n;
	int64_t rev;		/* the store's revision when read */
};

/* @endpoints: "http://127.0.0.1:2379,http://10.0.0.2:2379". Each request
 * gives up on an endpoint after @timeout_ms (then tries the next).
 * 0, -EINVAL (bad list) or -ENOMEM. */
int nf_etcd_open(const char *endpoints, unsigned timeout_ms, struct nf_etcd **out);
void nf_etcd_close(struct nf_etcd *e);

/* Read @key, or every key starting with @key if @prefix. Keys sorted.
 * 0 (out->n may be 0), -EIO (no endpoint answered), -EPROTO. */
int nf_etcd_get(struct nf_etcd *e, const char *key, bool prefix, struct nf_etcd_kvs *out);
void nf_etcd_kvs_free(struct nf_etcd_kvs *kvs);

/* Write @key (with @lease, 0: none). *rev (may be NULL): the revision. */
int nf_etcd_put(struct nf_etcd *e, const char *key, const void *val, size_t len,
		int64_t lease, int64_t *rev);
/* Write @key only if its mod revision is @mod_rev (0: only if it does not
 * exist): one transaction. 0, -ECANCELED if the compare failed. */
int nf_etcd_put_if(struct nf_etcd *e, const char *key, const void *val, size_t len,
		   int64_t mod_rev, int64_t lease);
/* Write @n keys (values NUL-terminated, no lease) in one transaction: one
 * request, one revision. @n: 1..NF_ETCD_TXN_MAX (etcd's default
 * --max-txn-ops). 0, -EINVAL, or as nf_etcd_put. */
#define NF_ETCD_TXN_MAX	128
int nf_etcd_put_many(struct nf_etcd *e, const char *const *keys, const char *const *vals,
		     size_t n);
/* Delete @key (or the prefix). *n (may be NULL): how many were deleted. */
int nf_etcd_del(struct nf_etcd *e, const char *key, bool prefix, int64_t *n);

/* Leases: grant one of @ttl_s seconds; keep it alive (-ENOENT once it has
 * expired: its keys are gone); revoke it (its keys are deleted). */
int nf_etcd_lease_grant(struct nf_etcd *e, unsigned ttl_s, int64_t *id);
int nf_etcd_lease_keepalive(struct nf_etcd *e, int64_t id);
int nf_etcd_lease_revoke(struct nf_etcd *e, int64_t id);

/* Watch every key under @prefix from revision @start_rev (0: from now).
 * The watch runs a thread of its own (the HTTP stream); its events are
 * queued and nf_etcd_watch_fd() becomes readable. If the stream breaks it
 * is reopened on the next endpoint from the last revision seen + 1, so no
 * event is lost or repeated. If etcd compacted past that revision,
 * nf_etcd_watch_read() returns -ESTALE: read the state again with
 * nf_etcd_get() and start a new watch from its rev + 1. */
struct nf_etcd_watch;

enum nf_etcd_ev_type { NF_ETCD_PUT, NF_ETCD_DELETE };

struct nf_etcd_event {
	enum nf_etcd_ev_type type;
	struct nf_etcd_kv kv;	/* a DELETE has only kv.key and kv.mod_rev */
};

int nf_etcd_watch_start(struct nf_etcd *e, const char *prefix, int64_t start_rev,
			struct nf_etcd_watch **out);
/* Readable (poll/epoll) while events wait. */
int nf_etcd_watch_fd(const struct nf_etcd_watch *w);
/* Take every event queued so far (in revision order): *ev is malloc'd,
 * free with nf_etcd_events_free(). 0 (with *n 0 if none), -ESTALE. */
int nf_etcd_watch_read(struct nf_etcd_watch *w, struct nf_etcd_event **ev, size_t *n);
void nf_etcd_events_free(struct nf_etcd_event *ev, size_t n);
void nf_etcd_watch_stop(struct nf_etcd_watch *w);
/* How many times the stream was reopened (broken, or a member down). */
uint64_t nf_etcd_watch_reconnects(const struct nf_etcd_watch *w);

/* Requests made so far: writes (put, put_if, del, lease grant/revoke)
 * and all (writes, reads, keepalives; not the watch's stream). */
struct nf_etcd_stats {
	uint64_t writes, requests, failovers;
};
void nf_etcd_stats(const struct nf_etcd *e, struct nf_etcd_stats *st);

/* Exposed for the unit tests. Base64 (RFC 4648, padded): encode into a
 * malloc'd string (NULL: no memory); decode @slen characters into a
 * malloc'd buffer one byte longer than *len, NUL-terminated (-EINVAL:
 * not base64). Parse a /v3/kv/range answer (-EPROTO: not one). */
char *nf_etcd_b64_encode(const void *data, size_t len);
int nf_etcd_b64_decode(const char *s, size_t slen, char **out, size_t *len);
int nf_etcd_parse_range(const char *json, size_t len, struct nf_etcd_kvs *out);
#endif
