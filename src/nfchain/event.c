/* event.c - the agent's ring of recent events (event.h). */
#include "event.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void count_kind(struct nc_events *e, const char *kind)
{
	unsigned i;

	for (i = 0; i < e->nkinds; i++)
		if (strcmp(e->kinds[i].kind, kind) == 0)
			break;
	if (i == e->nkinds) {
		if (e->nkinds >= NC_EVENT_KINDS - 1)
			kind = "other";	/* the last slot */
		for (i = 0; i < e->nkinds; i++)
			if (strcmp(e->kinds[i].kind, kind) == 0)
				break;
		if (i == e->nkinds)
			snprintf(e->kinds[e->nkinds++].kind, NC_EVENT_KIND, "%s", kind);
	}
	e->kinds[i].n++;
}

const struct nc_event *nc_event_add(struct nc_events *e, const char *kind,
				    const char *subject, const char *fmt, ...)
{
	struct nc_event *ev = &e->ev[e->seq % NC_EVENTS_MAX];
	struct timespec ts;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev->seq = ++e->seq;
	ev->t_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
	count_kind(e, ev->kind);
	snprintf(ev->subject, sizeof(ev->subject), "%s", subject ? subject : "");
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
	return ev;
}

struct json_object *nc_events_json(const struct nc_events *e, uint64_t after,
				   unsigned max)
{
	uint64_t first = e->seq > NC_EVENTS_MAX ? e->seq - NC_EVENTS_MAX + 1 : 1;
	struct json_object *a = json_object_new_array();
	uint64_t s;

	if (!a)
		return NULL;
	if (first <= after)
		first = after + 1;
	if (max && e->seq >= first && e->seq - first + 1 > max)
		first = e->seq - max + 1;
	for (s = first; s <= e->seq; s++) {
		const struct nc_event *ev = &e->ev[(s - 1) % NC_EVENTS_MAX];
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_object_object_add(o, "seq", json_object_new_int64((int64_t)ev->seq));
		json_object_object_add(o, "time_ms", json_object_new_int64((int64_t)ev->t_ms));
		json_object_object_add(o, "kind", json_object_new_string(ev->kind));
		json_object_object_add(o, "subject", json_object_new_string(ev->subject));
		json_object_object_add(o, "text", json_object_new_string(ev->text));
		json_object_array_add(a, o);
	}
	return a;
}
