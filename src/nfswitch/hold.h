/* hold.h - a steering group's hold queue: frames for a group with no member
 * yet, kept until one joins (docs/STEERING.md, `group ... hold N`).
 *
 * A group at zero replicas (an orchestrator starts its first one when
 * traffic arrives: "scale from zero") does not drop what comes for it: the
 * switch copies each frame, as it arrived and with its input port, into a
 * ring allocated when the steering is loaded (N slots of ST_HOLD_FRAME
 * bytes: no allocation per frame); past N the frame is a counted drop
 * (steer-hold-full), a frame longer than a slot too (steer-hold-big). The
 * first frame of an episode (the ring was empty) sends one datagram
 * "hold GROUP" to the notify socket given on nfswitch's command line
 * (--notify PATH), so that the orchestrator wakes at once; no system call
 * for the frames after it. When a steering load gives the group a member,
 * the switch's next pass sends the held frames through the steering again
 * as if they had just arrived on their port, in arrival order, before it
 * polls any port (fwd.c sw_hold_release()). The ring and its counters are
 * carried across steering loads by group name.
 */
#ifndef NFSW_HOLD_H
#define NFSW_HOLD_H

#include <stddef.h>

#include <stdbool.h>
#include <stdint.h>

#define ST_HOLD_MAX	4096	/* slots of one group */
#define ST_HOLD_FRAME	2048	/* bytes of one slot */

struct st_hold {
	uint32_t cap, head, n;		/* ring: n frames from head */
	uint64_t t_first_ns;		/* the episode's first frame */
	uint64_t held, released, full, big;	/* frames, over its life */
	uint64_t episodes, last_us;	/* episodes; the last one's first hold -> release */
	uint16_t *in;			/* [cap] input port */
	uint16_t *len;			/* [cap] */
	uint8_t *buf;			/* [cap][ST_HOLD_FRAME] */
};

/* A ring of @cap (1..ST_HOLD_MAX) slots: 0 and *out, or -ENOMEM. */
int st_hold_new(unsigned cap, struct st_hold **out);
void st_hold_free(struct st_hold *h);

/* Keep a copy of frame @p (@len bytes) from port @in. 1: it is the
 * episode's first (notify), 0: kept, -1: not kept (counted: full, big). */
int st_hold_push(struct st_hold *h, uint16_t in, const uint8_t *p, uint32_t len,
		 uint64_t now_ns);

/* The oldest held frame's slot. */
static inline uint8_t *st_hold_slot(const struct st_hold *h, uint32_t i)
{
	return h->buf + (size_t)((h->head + i) % h->cap) * ST_HOLD_FRAME;
}

/* Tell the orchestrator that group @name holds frames: one datagram to the
 * unix socket @path (nfswitch --notify), not waiting. */
void st_hold_notify(int fd, const char *path, const char *name);
#endif
