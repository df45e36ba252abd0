/* event.h - the agent's recent events: what changed in a deployment and why.
 *
 * A bounded ring (the last NC_EVENTS_MAX events; older ones are dropped
 * and counted by their sequence numbers). Each event has a kind (one word:
 * "start", "up", "down", "restart", "remove", "scale", "apply", ...), a
 * subject (a replica "fw.1", a VNF type, a chain, or "" for the deployment)
 * and one sentence. The agent logs each event as it records it; `nfchain
 * status --json` and the dashboard show the ring.
 */
#ifndef NC_EVENT_H
#define NC_EVENT_H

#include <stdint.h>

struct json_object;

#define NC_EVENTS_MAX	256
#define NC_EVENT_KIND	16
#define NC_EVENT_SUBJ	48
#define NC_EVENT_TEXT	200

struct nc_event {
	uint64_t seq;			/* 1, 2, ... over the agent's life */
	uint64_t t_ms;			/* wall clock, ms since the epoch */
	char kind[NC_EVENT_KIND];
	char subject[NC_EVENT_SUBJ];
	char text[NC_EVENT_TEXT];
};

#define NC_EVENT_KINDS	32

struct nc_events {
	struct nc_event ev[NC_EVENTS_MAX];
	uint64_t seq;			/* events recorded so far */
	/* events recorded so far by kind (the first NC_EVENT_KINDS kinds;
	 * later new kinds are counted under "other"): metrics */
	struct nc_event_count {
		char kind[NC_EVENT_KIND];
		uint64_t n;
	} kinds[NC_EVENT_KINDS];
	unsigned nkinds;
};

/* Record one event (truncating long fields); returns the event. */
const struct nc_event *nc_event_add(struct nc_events *e, const char *kind,
				    const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The events after sequence number @after (0: all kept), oldest first, at
 * most @max of them (the newest): a JSON array of {"seq", "time_ms",
 * "kind", "subject", "text"}. NULL when out of memory. */
struct json_object *nc_events_json(const struct nc_events *e, uint64_t after,
				   unsigned max);

#endif
