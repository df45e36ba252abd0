/* neigh.c - the neighbour table (ARP for IPv4, neighbour discovery for
 * IPv6) and the frames waiting for a resolution.
 *
 * Table: open addressing with linear probing on (family, address), size a
 * power of two at least twice neigh-max; entries are never moved while
 * frames reference them (removal marks NB_FREE only when nothing waits,
 * and a later insertion reuses the slot; lookups skip free slots until an
 * entry that was never used).
 *
 * Waiting frames: a slab of neigh-queue-total buffers of NF_FRAME_MAX
 * bytes, per neighbour a FIFO of at most neigh-queue frames (Linux keeps
 * unres_qlen_bytes per neighbour). A resolution sends neigh-probes
 * requests neigh-retrans-ms apart (Linux: 3 x 1 s); when it fails, every
 * waiting frame gets an ICMP host unreachable (rate-limited), as Linux's
 * arp_error_report / ndisc_error_report do. Reachable entries turn stale
 * after neigh-reachable-ms and are re-probed when used; stale ones still
 * forward meanwhile (like Linux's STALE/DELAY/PROBE, simplified).
 */
#include "router.h"
#include "nf_csum.h"
#include "nf_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_ip(const struct nf_ip *ip)
{
	uint64_t h;

	if (ip->family == 4) {
		h = ip->v4;
	} else {
		uint64_t a, b;

		memcpy(&a, ip->v6, 8);
		memcpy(&b, ip->v6 + 8, 8);
		h = a ^ (b * 0x9E3779B97F4A7C15ull) ^ 6;
	}
	return (uint32_t)((h * 0x9E3779B97F4A7C15ull) >> 32);
}

int neigh_init(struct router *r)
{
	uint32_t size = 64, i;

	while (size < 2 * r->set.neigh_max)
		size <<= 1;
	r->nb = calloc(size, sizeof(*r->nb));
	r->qbuf = malloc((size_t)r->set.neigh_queue_total * NF_FRAME_MAX);
	r->qlen_of = calloc(r->set.neigh_queue_total, sizeof(uint32_t));
	r->qnext = calloc(r->set.neigh_queue_total, sizeof(uint32_t));
	r->qport_of = calloc(r->set.neigh_queue_total, sizeof(uint32_t));
	if (r->nb == NULL || r->qbuf == NULL || r->qlen_of == NULL ||
	    r->qnext == NULL || r->qport_of == NULL) {
		neigh_free(r);
		return -ENOMEM;
	}
	r->nb_mask = size - 1;
	for (i = 0; i < r->set.neigh_queue_total; i++)
		r->qnext[i] = i + 1 < r->set.neigh_queue_total ? i + 1 : UINT32_MAX;
	r->qfree = 0;
	return 0;
}

void neigh_free(struct router *r)
{
	free(r->nb);
	free(r->qbuf);
	free(r->qlen_of);
	free(r->qnext);
	free(r->qport_of);
	r->nb = NULL;
	r->qbuf = NULL;
}

/* A slot never used ends a probe sequence; a freed one does not. */
static inline bool never_used(const struct neigh *n)
{
	return n->state == NB_FREE && n->ip.family == 0;
}

struct neigh *neigh_lookup(struct router *r, const struct nf_ip *ip)
{
	uint32_t i = hash_ip(ip) & r->nb_mask, k;

	for (k = 0; k <= r->nb_mask; k++, i = (i + 1) & r->nb_mask) {
		struct neigh *n = &r->nb[i];

		if (never_used(n))
			return NULL;
		if (n->state != NB_FREE && nf_ip_eq(&n->ip, ip))
			return n;
	}
	return NULL;
}

/* The entry for @ip on @port, created (INCOMPLETE) if needed. NULL when
 * the table is full. */
struct neigh *neigh_get(struct router *r, const struct nf_ip *ip, uint8_t port)
{
	struct neigh *n = neigh_lookup(r, ip), *slot = NULL;
	uint32_t i, k;

	if (n != NULL) {
		if (n->port != port && n->state != NB_STATIC) {
			n->port = port;		/* moved: resolve again */
			n->state = NB_INCOMPLETE;
			n->probes = 0;
		}
		return n;
	}
	if (r->nb_count >= r->set.neigh_max)
		return NULL;
	i = hash_ip(ip) & r->nb_mask;
	for (k = 0; k <= r->nb_mask; k++, i = (i + 1) & r->nb_mask) {
		if (r->nb[i].state == NB_FREE) {
			slot = &r->nb[i];
			break;
		}
	}
	if (slot == NULL)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	slot->ip = *ip;
	slot->port = port;
	slot->state = NB_INCOMPLETE;
	slot->qhead = slot->qtail = -1;
	r->nb_count++;
	return slot;
}

int neigh_set_static(struct router *r, const struct nf_ip *ip, uint8_t port,
		     const uint8_t mac[6])
{
	struct neigh *n = neigh_get(r, ip, port);

	if (n == NULL) {
		nf_set_error("neighbour table full");
		return -ENOSPC;
	}
	n->port = port;
	memcpy(n->mac, mac, 6);
	n->state = NB_STATIC;
	return 0;
}

int neigh_queue(struct nf_vnf *v, struct neigh *n, const uint8_t *frame, uint32_t len)
{
	struct router *r = rt;
	uint32_t q;

	(void)v;
	if (n->qlen >= r->set.neigh_queue || r->qfree < 0 ||
	    (uint32_t)r->qfree >= r->set.neigh_queue_total || len > NF_FRAME_MAX)
		return -ENOBUFS;
	q = (uint32_t)r->qfree;
	r->qfree = r->qnext[q] == UINT32_MAX ? -1 : (int32_t)r->qnext[q];
	memcpy(r->qbuf + (size_t)q * NF_FRAME_MAX, frame, len);
	r->qlen_of[q] = len;
	r->qnext[q] = UINT32_MAX;
	if (n->qtail >= 0)
		r->qnext[n->qtail] = q;
	else
		n->qhead = (int32_t)q;
	n->qtail = (int32_t)q;
	n->qlen++;
	r->qused++;
	return 0;
}

/* Take the first waiting frame of @n; returns its slab index or -1. */
static int32_t dequeue(struct router *r, struct neigh *n)
{
	int32_t q = n->qhead;

	if (q < 0)
		return -1;
	n->qhead = r->qnext[q] == UINT32_MAX ? -1 : (int32_t)r->qnext[q];
	if (n->qhead < 0)
		n->qtail = -1;
	n->qlen--;
	return q;
}

static void qfree(struct router *r, int32_t q)
{
	r->qnext[q] = r->qfree < 0 ? UINT32_MAX : (uint32_t)r->qfree;
	r->qfree = q;
	r->qused--;
}

/* The neighbour resolved: send what waited, MACs set, fragmenting an
 * IPv4 frame bigger than the port's MTU. */
static void release(struct nf_vnf *v, struct neigh *n)
{
	struct router *r = rt;
	const struct nf_vnf_port *op = &v->port[n->port];
	int32_t q;

	while ((q = dequeue(r, n)) >= 0) {
		uint8_t *f = r->qbuf + (size_t)q * NF_FRAME_MAX;
		uint32_t len = r->qlen_of[q];
		struct nf_hdrs h;

		memcpy(f, n->mac, 6);
		memcpy(f + 6, op->mac, 6);
		if (nf_parse(f, len, &h) == NF_PERR_OK && h.ethertype == 0x0800 &&
		    h.l3_len > op->mtu) {
			rt_fragment4(v, n->port, f, &h, op->mtu);
		} else {
			nf_vnf_send(v, n->port, f, len);
		}
		qfree(r, q);
	}
}

void neigh_learn(struct nf_vnf *v, const struct nf_ip *ip, uint8_t port,
		 const uint8_t mac[6], bool create)
{
	struct router *r = rt;
	struct neigh *n = create ? neigh_get(r, ip, port) : neigh_lookup(r, ip);

	if (n == NULL || n->state == NB_STATIC)
		return;
	n->port = port;
	memcpy(n->mac, mac, 6);
	n->state = NB_REACHABLE;
	n->probes = 0;
	n->updated_ns = v->now_ns;
	release(v, n);
}

void neigh_probe(struct nf_vnf *v, struct neigh *n)
{
	struct router *r = rt;

	if (n->ip.family == 4)
		arp_send_request(v, n->port, n->ip.v4);
	else
		nd_send_solicit(v, n->port, n->ip.v6);
	n->probes++;
	n->next_ns = v->now_ns + r->set.neigh_retrans_ms * 1000000ull;
	r->probes_sent++;
}

/* Traffic for a neighbour whose resolution failed resolves it again
 * (Linux: __neigh_event_send turns FAILED into INCOMPLETE and probes at
 * once). Without this, frames queued on a failed entry waited, unprobed,
 * until the entry was forgotten. The caller queues, then probes. */
void neigh_restart(struct neigh *n)
{
	if (n != NULL && n->state == NB_FAILED) {
		n->state = NB_INCOMPLETE;
		n->probes = 0;
	}
}

/* Resolution failed: every waiting frame gets an ICMP host unreachable. */
static void fail_queue(struct nf_vnf *v, struct neigh *n)
{
	struct router *r = rt;
	int32_t q;

	while ((q = dequeue(r, n)) >= 0) {
		uint8_t *f = r->qbuf + (size_t)q * NF_FRAME_MAX;
		struct nf_hdrs h;

		if (nf_parse(f, r->qlen_of[q], &h) == NF_PERR_OK) {
			/* The frame's TTL was already decremented: restore
			 * it, the error quotes what the sender sent. */
			if (h.ethertype == 0x0800) {
				struct nf_ipv4 *ip = (void *)(f + h.l3_off);
				uint32_t c = ip->csum;

				ip->ttl++;
				c += htons(0xfeff);
				ip->csum = (uint16_t)(c + (c >= 0xffff));
				icmp4_error(v, n->port, f, &h, NF_ICMP_DEST_UNREACH,
					    NF_ICMP_HOST_UNREACH, 0);
			} else if (h.ethertype == 0x86dd) {
				struct nf_ipv6 *ip6 = (void *)(f + h.l3_off);

				ip6->hop_limit++;
				icmp6_error(v, n->port, f, &h, NF_ICMP6_DST_UNREACH, 3, 0);
			}
		}
		v->drops[rt_reason(RT_DROP_NEIGH_FAIL)]++;
		qfree(r, q);
	}
}

void neigh_tick(struct nf_vnf *v, uint64_t now)
{
	struct router *r = rt;
	uint32_t i;

	for (i = 0; i <= r->nb_mask; i++) {
		struct neigh *n = &r->nb[i];

		switch (n->state) {
		case NB_INCOMPLETE:
			if (now < n->next_ns)
				break;
			if (n->probes >= r->set.neigh_probes) {
				fail_queue(v, n);
				n->state = NB_FAILED;
				n->updated_ns = now;
				break;
			}
			neigh_probe(v, n);
			break;
		case NB_REACHABLE:
			if (now - n->updated_ns > r->set.neigh_reachable_ms * 1000000ull)
				n->state = NB_STALE;
			break;
		case NB_FAILED:
			/* Forget failed entries after a while: free the slot. */
			if (now - n->updated_ns > 3 * r->set.neigh_reachable_ms * 1000000ull) {
				n->state = NB_FREE;	/* ip.family kept: a tombstone */
				r->nb_count--;
			}
			break;
		default:
			break;
		}
	}
}

void neigh_json(struct nf_vnf *v, struct json_object *a)
{
	static const char *const st[] = { "free", "incomplete", "reachable", "stale",
					  "failed", "static" };
	struct router *r = rt;
	uint32_t i;

	for (i = 0; i <= r->nb_mask; i++) {
		const struct neigh *n = &r->nb[i];
		struct json_object *o;
		char ip[64], mac[18];

		if (n->state == NB_FREE)
			continue;
		nf_ip_str(&n->ip, ip, sizeof(ip));
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
			 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(ip));
		json_object_object_add(o, "port", json_object_new_string(v->port[n->port].name));
		json_object_object_add(o, "mac", json_object_new_string(mac));
		json_object_object_add(o, "state", json_object_new_string(st[n->state]));
		json_object_object_add(o, "queued", json_object_new_int(n->qlen));
		json_object_array_add(a, o);
	}
}
