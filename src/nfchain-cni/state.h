/* state.h - nfchain-cni's records of attachments: one JSON file per
 * (network, container, interface) under STATE_DIR/NETWORK/, written
 * atomically (a temporary file renamed), under an exclusive flock of
 * STATE_DIR/lock held from the start to the end of an ADD or DEL, so
 * that concurrent plugin processes never hand out one memif id twice.
 */
#ifndef CNI_STATE_H
#define CNI_STATE_H

#include "cni.h"

/* Take the lock of @dir (created if missing): exclusive or shared.
 * Returns the descriptor (close it to release) or -1 with @e (code 5). */
int cni_state_lock(const char *dir, bool exclusive, struct cni_err *e);

/* The record's path: DIR/NET/CID@IFNAME ('@' is in neither name). */
void cni_state_path(const struct cni_conf *c, const char *cid, const char *ifname,
		    char *path, size_t size);

/* Read a record: 1 and *rec (the caller puts it), 0 when there is none,
 * -1 with @e (code 5) when it cannot be read or is not JSON. */
int cni_state_read(const char *path, struct json_object **rec, struct cni_err *e);
/* Write @rec to @path atomically. Returns 0 or -1 with @e (code 5). */
int cni_state_write(const char *path, struct json_object *rec, struct cni_err *e);

/* Mark in @used (65536 bits) the memif ids every record of @dir (all
 * networks) holds on @socket, and fail with code 104 when one of them has
 * a port named like one of @names[@n]. A record that cannot be read is
 * skipped with a line on stderr. Returns 0 or -1 with @e. */
int cni_state_used(const char *dir, const char *socket, uint8_t *used,
		   char names[][128], unsigned n, struct cni_err *e);

#endif
