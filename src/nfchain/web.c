/* web.c - the dashboard and the tenant portal (web.h). */
#include "web.h"
#include "plan.h"
#include "nf_util.h"

#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SESS_MAX	64
#define PEER_MAX	32
#define FAIL_MAX	5		/* failed sign-ins per peer ... */
#define FAIL_WINDOW_MS	60000		/* ... in this window, then 429 */
#define TRIES_PER_S	10		/* sign-ins of all peers: each costs a hash */
#define COOKIE		"nc_session"
#define OPERATOR	(-1)

struct sess {
	bool used;
	char tok[33], csrf[33];		/* 128 bits each, hex */
	int tenant;			/* or OPERATOR */
	/* the tenant's name and password hash at sign-in: an apply that
	 * renames, reorders or changes them ends the session */
	char name[NC_NAME_MAX + 1], hash[NC_HASH_MAX];
	uint64_t last;			/* ms: last page load or POST */
};

struct peer_fail {
	char peer[48];
	unsigned n;
	uint64_t first;
};

struct nc_web {
	struct nc_web_ops ops;
	struct sess sess[SESS_MAX];
	struct peer_fail fail[PEER_MAX];
	char host[64];
	unsigned port;
	uint64_t tries_t;		/* the second of the last sign-in ... */
	unsigned tries;			/* ... and the sign-ins in it */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int nc_web_new(const struct nc_web_ops *ops, struct nc_web **out)
{
	struct nc_web *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -ENOMEM;
	w->ops = *ops;
	*out = w;
	return 0;
}

void nc_web_free(struct nc_web *w)
{
	if (w)
		explicit_bzero(w->sess, sizeof(w->sess));
	free(w);
}

void nc_web_listen(struct nc_web *w, const char *host, unsigned port)
{
	snprintf(w->host, sizeof(w->host), "%s", host);
	w->port = port;
}

/* --- text --- */

int nc_web_esc(struct nf_http_resp *rs, const char *s)
{
	int ret = 0;

	for (; *s && ret == 0; s++) {
		switch (*s) {
		case '&': ret = nf_http_printf(rs, "&amp;"); break;
		case '<': ret = nf_http_printf(rs, "&lt;"); break;
		case '>': ret = nf_http_printf(rs, "&gt;"); break;
		case '"': ret = nf_http_printf(rs, "&quot;"); break;
		case '\'': ret = nf_http_printf(rs, "&#39;"); break;
		default: ret = nf_http_printf(rs, "%c", *s); break;
		}
	}
	return ret;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the urlencoded [p, end) into @out: 0 or -EINVAL. */
static int url_decode(const char *p, const char *end, char *out, size_t len)
{
	size_t o = 0;

	for (; p < end; p++) {
		int c = (unsigned char)*p;

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (end - p < 3 || hexval(p[1]) < 0 || hexval(p[2]) < 0)
				return -EINVAL;
			c = hexval(p[1]) << 4 | hexval(p[2]);
			p += 2;
		}
		if (c == 0 || o + 1 >= len)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int nc_web_field(const char *form, const char *key, unsigned n, char *out, size_t len)
{
	const char *p = form;
	size_t kl = strlen(key);

	while (*p) {
		const char *amp = strchr(p, '&'), *eq;
		const char *end = amp ? amp : p + strlen(p);
		char name[64];

		eq = memchr(p, '=', (size_t)(end - p));
		if (end == p) {		/* "a=1&&b=2" */
			p = amp ? amp + 1 : end;
			continue;
		}
		if (eq == NULL || url_decode(p, eq, name, sizeof(name)) < 0)
			return -EINVAL;
		if (strlen(name) == kl && memcmp(name, key, kl) == 0 && n-- == 0)
			return url_decode(eq + 1, end, out, len) < 0 ? -EINVAL : 1;
		p = amp ? amp + 1 : end;
	}
	return 0;
}

/* The whole form is well-formed: every pair decodes. */
static bool form_ok(const struct nf_http_req *rq)
{
	const char *p = rq->body;
	char v[1024];

	if (strncmp(rq->content_type, "application/x-www-form-urlencoded", 33) != 0)
		return false;
	if (strlen(p) != rq->body_len)
		return false;		/* a NUL in the body */
	while (*p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (end != p && (eq == NULL || url_decode(p, eq, v, sizeof(v)) < 0 ||
				 url_decode(eq + 1, end, v, sizeof(v)) < 0))
			return false;
		p = amp ? amp + 1 : end;
	}
	return true;
}

/* --- responses --- */

static int text(struct nf_http_resp *rs, int status, const char *msg)
{
	rs->status = status;
	snprintf(rs->content_type, sizeof(rs->content_type), "text/plain; charset=utf-8");
	return nf_http_printf(rs, "%s\n", msg);
}

static void header(struct nf_http_resp *rs, const char *fmt, const char *a)
{
	size_t used = strlen(rs->headers);

	snprintf(rs->headers + used, sizeof(rs->headers) - used, fmt, a);
}

static int redirect(struct nf_http_resp *rs, const char *to)
{
	header(rs, "Location: %s\r\n", to);
	return text(rs, 303, "See other");
}

static int not_allowed(struct nf_http_resp *rs, const char *allow)
{
	header(rs, "Allow: %s\r\n", allow);
	return text(rs, 405, "Method not allowed.");
}

static int page_head(struct nf_http_resp *rs, const char *title, const char *page)
{
	rs->status = 200;
	snprintf(rs->content_type, sizeof(rs->content_type), "text/html; charset=utf-8");
	nf_http_printf(rs, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<title>");
	nc_web_esc(rs, title);
	return nf_http_printf(rs, "</title><link rel=\"stylesheet\" href=\"/web.css\">"
			      "<script src=\"/web.js\" defer></script></head>\n"
			      "<body data-page=\"%s\">\n", page);
}

/* --- sessions --- */

static int rand_hex(char out[33])
{
	uint8_t b[16];
	unsigned i;

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -EIO;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Equal strings, in a time that does not depend on where they differ. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned)(a[i] ^ b[i]);
	return d == 0;
}

static unsigned timeout_ms(struct nc_web *w)
{
	return w->ops.spec(w->ops.arg)->session_timeout_ms;
}

static bool same_tenant(const struct nc_spec *sp, const struct sess *s)
{
	const char *hash = s->tenant == OPERATOR ? sp->dash_password
			 : s->tenant < (int)sp->ntenant ? sp->tenant[s->tenant].password : NULL;

	return hash && strcmp(hash, s->hash) == 0 &&
	       (s->tenant == OPERATOR || strcmp(sp->tenant[s->tenant].name, s->name) == 0);
}

/* The request's live session, or NULL (expired ones are ended here). */
static struct sess *session(struct nc_web *w, const struct nf_http_req *rq)
{
	const char *c = strstr(rq->cookie, COOKIE "=");
	char tok[33];
	uint64_t now = now_ms();
	unsigned i;

	if (c == NULL || (c != rq->cookie && c[-1] != ' ' && c[-1] != ';'))
		return NULL;
	c += strlen(COOKIE "=");
	for (i = 0; i < 32 && isxdigit((unsigned char)c[i]); i++)
		tok[i] = c[i];
	tok[i] = '\0';
	if (i != 32)
		return NULL;
	for (i = 0; i < SESS_MAX; i++) {
		struct sess *s = &w->sess[i];

		if (!s->used || !same(s->tok, tok))
			continue;
		if (now - s->last > timeout_ms(w) || !same_tenant(w->ops.spec(w->ops.arg), s)) {
			explicit_bzero(s, sizeof(*s));
			return NULL;
		}
		return s;
	}
	return NULL;
}

static int session_new(struct nc_web *w, int tenant, struct nf_http_resp *rs)
{
	struct sess *s = NULL;
	uint64_t now = now_ms(), oldest = UINT64_MAX;
	char cookie[128];
	unsigned i;

	for (i = 0; i < SESS_MAX; i++) {
		struct sess *x = &w->sess[i];

		if (!x->used || now - x->last > timeout_ms(w)) {
			s = x;
			break;
		}
		if (x->last < oldest) {
			oldest = x->last;
			s = x;		/* full: the least recently used goes */
		}
	}
	memset(s, 0, sizeof(*s));
	if (rand_hex(s->tok) < 0 || rand_hex(s->csrf) < 0) {
		nf_set_error("getrandom failed");
		return -EIO;
	}
	s->used = true;
	s->tenant = tenant;
	s->last = now;
	{
		const struct nc_spec *sp = w->ops.spec(w->ops.arg);

		snprintf(s->hash, sizeof(s->hash), "%s", tenant == OPERATOR ? sp->dash_password
			 : sp->tenant[tenant].password);
		if (tenant != OPERATOR)
			snprintf(s->name, sizeof(s->name), "%s", sp->tenant[tenant].name);
	}
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/", s->tok);
	header(rs, "Set-Cookie: %s\r\n", cookie);
	return 0;
}

static void session_end(struct sess *s, struct nf_http_resp *rs)
{
	explicit_bzero(s, sizeof(*s));
	header(rs, "Set-Cookie: %s\r\n", COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

/* A POST's Origin, when the browser sends one, must be this server. */
static bool origin_ok(struct nc_web *w, const struct nf_http_req *rq)
{
	static const char *const loop[] = { "127.0.0.1", "localhost", "[::1]", NULL };
	char want[128];
	unsigned i;

	if (!rq->origin[0])
		return true;
	for (i = 0; loop[i]; i++) {
		snprintf(want, sizeof(want), "http://%s:%u", loop[i], w->port);
		if (strcmp(rq->origin, want) == 0)
			return true;
	}
	snprintf(want, sizeof(want), "http://%s:%u", w->host, w->port);
	return w->host[0] && strcmp(rq->origin, want) == 0;
}

/* A POST with a session: its form parses, its Origin is ours, its CSRF
 * token is the session's. Otherwise the answer is written: NULL. */
static struct sess *post_session(struct nc_web *w, const struct nf_http_req *rq,
				 struct nf_http_resp *rs, int role, int *ret)
{
	struct sess *s = session(w, rq);
	char csrf[64];

	*ret = 0;
	if (!form_ok(rq)) {
		*ret = text(rs, 400, "Malformed form.");
		return NULL;
	}
	if (s == NULL || (role == OPERATOR) != (s->tenant == OPERATOR)) {
		*ret = text(rs, 401, "Not signed in, or the session expired: sign in again.");
		return NULL;
	}
	if (!origin_ok(w, rq) || nc_web_field(rq->body, "csrf", 0, csrf, sizeof(csrf)) != 1 ||
	    !same(csrf, s->csrf)) {
		*ret = text(rs, 403, "Forbidden: the form's token or origin is not this session's.");
		return NULL;
	}
	s->last = now_ms();
	return s;
}

/* Failed sign-ins per peer: true while it has had too many. */
static bool throttled(struct nc_web *w, const char *peer, bool failed)
{
	uint64_t now = now_ms();
	struct peer_fail *f = NULL, *old = &w->fail[0];
	unsigned i;

	for (i = 0; i < PEER_MAX; i++) {
		if (strcmp(w->fail[i].peer, peer) == 0)
			f = &w->fail[i];
		if (w->fail[i].first < old->first)
			old = &w->fail[i];
	}
	if (f && now - f->first > FAIL_WINDOW_MS)
		f->n = 0;
	if (!failed) {
		/* A hash costs the loop 3 ms (sha512crypt) to 30 ms (yescrypt):
		 * at most TRIES_PER_S of them a second, whoever asks. */
		if (now / 1000 != w->tries_t) {
			w->tries_t = now / 1000;
			w->tries = 0;
		}
		return (f && f->n >= FAIL_MAX) || ++w->tries > TRIES_PER_S;
	}
	if (f == NULL) {
		f = old;
		snprintf(f->peer, sizeof(f->peer), "%s", peer);
		f->n = 0;
	}
	if (f->n++ == 0)
		f->first = now;
	return f->n >= FAIL_MAX;
}

/* @pw matches the crypt(3) @hash ("" never matches; the work is done
 * anyway, so that an unknown name costs the time a known one does). */
static bool pw_ok(const char *pw, const char *hash)
{
	static const char dummy[] = "$6$nfchainnfchain$0000000000000000000000000000000000000000"
				    "000000000000000000000000000000000000000000000000";
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;
	bool ok;

	if (cd == NULL)
		return false;
	h = crypt_r(pw, hash[0] ? hash : dummy, cd);
	ok = hash[0] && h != NULL && h[0] != '*' && same(h, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* --- the portal --- */

static void svc_names(const struct nc_spec *sp, const struct nc_chain *c, uint8_t bits,
		      char *out, size_t len)
{
	size_t used = 0;
	unsigned j;

	out[0] = '\0';
	for (j = 0; j < c->nvnf; j++)
		if (bits >> j & 1)
			used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
						 used ? ", " : "", sp->vnf[c->vnf[j]].name);
	if (!out[0])
		snprintf(out, len, "none");
}

static int signin_form(struct nf_http_resp *rs, int status, const char *action,
		       const char *msg, bool tenant)
{
	page_head(rs, tenant ? "FlowFall portal: sign in" : "nfchain dashboard: sign in",
		  "signin");
	nf_http_printf(rs, "<h1>%s</h1>\n", tenant ? "FlowFall tenant portal" : "nfchain dashboard");
	if (msg)
		nf_http_printf(rs, "<p class=\"err\" id=\"msg\">%s</p>\n", msg);
	nf_http_printf(rs, "<form method=\"post\" action=\"%s\">\n", action);
	if (tenant)
		nf_http_printf(rs, "<label>Tenant <input name=\"tenant\" id=\"tenant\" "
			       "autocomplete=\"username\" required></label>\n");
	nf_http_printf(rs, "<label>Password <input name=\"password\" id=\"password\" "
		       "type=\"password\" autocomplete=\"current-password\" required></label>\n"
		       "<button type=\"submit\" id=\"signin\">Sign in</button>\n</form>\n"
		       "</body></html>\n");
	rs->status = status;
	return 0;
}

static void counters(struct nc_web *w, unsigned t, uint64_t v[4])
{
	const uint32_t id = NC_TENANT_RULE + 2 * t;

	memset(v, 0, 4 * sizeof(*v));
	w->ops.rule_count(w->ops.arg, id, &v[0], &v[1]);
	w->ops.rule_count(w->ops.arg, id + 1, &v[2], &v[3]);
}

static int tenant_page(struct nc_web *w, struct sess *s, struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	const struct nc_tenant *t = &sp->tenant[s->tenant];
	const struct nc_chain *c = &sp->chain[t->chain];
	char names[256];
	uint64_t v[4];
	unsigned j;

	page_head(rs, "FlowFall portal", "portal");
	nf_http_printf(rs, "<h1>FlowFall tenant portal</h1>\n<p>Tenant <b id=\"name\">");
	nc_web_esc(rs, t->name);
	nf_http_printf(rs, "</b>, chain <b id=\"chain\">");
	nc_web_esc(rs, c->name);
	nf_http_printf(rs, "</b> (%s steering: %s)</p>\n",
		       c->steering == NC_ST_TOS ? "ToS bitmap" : "SRv6",
		       c->steering == NC_ST_TOS ? "the switch sets your packets' ToS bits"
						: "your packets carry the chosen VNFs' segments");
	svc_names(sp, c, t->services, names, sizeof(names));
	nf_http_printf(rs, "<p>Your traffic now visits: <b id=\"services\">");
	nc_web_esc(rs, names);
	nf_http_printf(rs, "</b></p>\n<form method=\"post\" action=\"/portal/services\">\n"
		       "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n<fieldset>"
		       "<legend>Services, in chain order</legend>\n", s->csrf);
	for (j = 0; j < c->nvnf; j++) {
		const char *n = sp->vnf[c->vnf[j]].name;

		if (!(t->allowed >> j & 1)) {
			nf_http_printf(rs, "<div class=\"na\">%s (not offered)</div>\n", n);
			continue;
		}
		nf_http_printf(rs, "<label><input type=\"checkbox\" name=\"svc\" value=\"%s\" "
			       "id=\"svc-%s\"%s> %s</label>\n", n, n,
			       t->services >> j & 1 ? " checked" : "", n);
	}
	nf_http_printf(rs, "</fieldset>\n<button type=\"submit\" id=\"apply\">Apply</button>\n"
		       "</form>\n");
	counters(w, (unsigned)s->tenant, v);
	nf_http_printf(rs, "<h2>Your traffic</h2>\n<table><tr><th></th><th>packets</th>"
		       "<th>bytes</th><th>packets/s</th></tr>\n"
		       "<tr><td>outbound</td><td id=\"out-packets\">%" PRIu64 "</td>"
		       "<td id=\"out-bytes\">%" PRIu64 "</td><td id=\"out-pps\">-</td></tr>\n"
		       "<tr><td>inbound</td><td id=\"in-packets\">%" PRIu64 "</td>"
		       "<td id=\"in-bytes\">%" PRIu64 "</td><td id=\"in-pps\">-</td></tr>\n"
		       "</table>\n<p class=\"small\" id=\"updated\"></p>\n"
		       "<form method=\"post\" action=\"/portal/logout\">"
		       "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		       "<button type=\"submit\" id=\"logout\">Sign out</button></form>\n"
		       "</body></html>\n", v[0], v[1], v[2], v[3], s->csrf);
	return 0;
}

static int portal_me(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	struct sess *s = session(w, rq);
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	struct json_object *o, *a, *c;
	const struct nc_tenant *t;
	const struct nc_chain *ch;
	uint64_t v[4];
	unsigned j;

	if (s == NULL || s->tenant == OPERATOR) {
		rs->status = 401;
		snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
		return nf_http_printf(rs, "{\"error\":\"not signed in\"}\n");
	}
	/* polls do not keep an idle session alive */
	t = &sp->tenant[s->tenant];
	ch = &sp->chain[t->chain];
	o = json_object_new_object();
	json_object_object_add(o, "tenant", json_object_new_string(t->name));
	json_object_object_add(o, "chain", json_object_new_string(ch->name));
	a = json_object_new_array();
	c = json_object_new_array();
	for (j = 0; j < ch->nvnf; j++) {
		if (t->services >> j & 1)
			json_object_array_add(a, json_object_new_string(sp->vnf[ch->vnf[j]].name));
		if (t->allowed >> j & 1)
			json_object_array_add(c, json_object_new_string(sp->vnf[ch->vnf[j]].name));
	}
	json_object_object_add(o, "services", a);
	json_object_object_add(o, "allowed", c);
	counters(w, (unsigned)s->tenant, v);
	a = json_object_new_object();
	json_object_object_add(a, "packets", json_object_new_uint64(v[0]));
	json_object_object_add(a, "bytes", json_object_new_uint64(v[1]));
	json_object_object_add(o, "out", a);
	a = json_object_new_object();
	json_object_object_add(a, "packets", json_object_new_uint64(v[2]));
	json_object_object_add(a, "bytes", json_object_new_uint64(v[3]));
	json_object_object_add(o, "in", a);
	json_object_object_add(o, "idle_ms_left", json_object_new_int64(
		(int64_t)timeout_ms(w) - (int64_t)(now_ms() - s->last)));
	snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
	header(rs, "Cache-Control: %s\r\n", "no-store");
	nf_http_printf(rs, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}

static int portal_login(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	char name[64], pw[256];
	int t;

	if (!form_ok(rq) || nc_web_field(rq->body, "tenant", 0, name, sizeof(name)) != 1 ||
	    nc_web_field(rq->body, "password", 0, pw, sizeof(pw)) != 1)
		return text(rs, 400, "Malformed form: tenant and password are needed.");
	if (!origin_ok(w, rq))
		return text(rs, 403, "Forbidden: the form comes from another site.");
	if (throttled(w, rq->peer, false)) {
		header(rs, "Retry-After: %s\r\n", "60");
		return text(rs, 429, "Too many failed sign-ins: wait a minute.");
	}
	t = nc_spec_tenant(sp, name);
	if (!pw_ok(pw, t >= 0 ? sp->tenant[t].password : "")) {
		explicit_bzero(pw, sizeof(pw));
		throttled(w, rq->peer, true);
		return signin_form(rs, 401, "/portal/login",
				   "Sign-in failed: wrong tenant name or password.", true);
	}
	explicit_bzero(pw, sizeof(pw));
	if (session_new(w, t, rs) < 0)
		return -EIO;
	return redirect(rs, "/portal");
}

static int portal_services(struct nc_web *w, const struct nf_http_req *rq,
			   struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	const struct nc_tenant *t;
	const struct nc_chain *c;
	struct sess *s;
	uint8_t bits = 0;
	char v[64];
	unsigned n, j;
	int ret;

	s = post_session(w, rq, rs, 0, &ret);
	if (s == NULL)
		return ret;
	t = &sp->tenant[s->tenant];
	c = &sp->chain[t->chain];
	for (n = 0; (ret = nc_web_field(rq->body, "svc", n, v, sizeof(v))) == 1; n++) {
		for (j = 0; j < c->nvnf; j++)
			if (strcmp(sp->vnf[c->vnf[j]].name, v) == 0)
				break;
		if (j == c->nvnf)
			return text(rs, 400, "Malformed form: a service that is not in your chain.");
		if (!(t->allowed >> j & 1))
			return text(rs, 403, "Forbidden: a service you may not pick.");
		bits |= (uint8_t)(1u << j);
	}
	if (ret < 0)
		return text(rs, 400, "Malformed form.");
	if (bits != t->services) {
		ret = w->ops.set_services(w->ops.arg, (unsigned)s->tenant, bits);
		if (ret < 0)
			return ret;
	}
	return redirect(rs, "/portal");
}

static int portal(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
	struct sess *s;
	int ret;

	if (strcmp(rq->path, "/portal") == 0) {
		if (!get)
			return not_allowed(rs, "GET, HEAD");
		s = session(w, rq);
		if (s == NULL || s->tenant == OPERATOR)
			return signin_form(rs, 200, "/portal/login", NULL, true);
		s->last = now_ms();
		return tenant_page(w, s, rs);
	}
	if (strcmp(rq->path, "/portal/api/me") == 0)
		return get ? portal_me(w, rq, rs) : not_allowed(rs, "GET, HEAD");
	if (strcmp(rq->path, "/portal/login") == 0)
		return post ? portal_login(w, rq, rs) : not_allowed(rs, "POST");
	if (strcmp(rq->path, "/portal/services") == 0)
		return post ? portal_services(w, rq, rs) : not_allowed(rs, "POST");
	if (strcmp(rq->path, "/portal/logout") == 0) {
		if (!post)
			return not_allowed(rs, "POST");
		s = post_session(w, rq, rs, 0, &ret);
		if (s == NULL)
			return ret;
		session_end(s, rs);
		return redirect(rs, "/portal");
	}
	return text(rs, 404, "Not found.");
}

/* --- the dashboard --- */

static const char *state_colour(const char *st)
{
	if (strcmp(st, "up") == 0)
		return "#2e9d4a";
	if (strcmp(st, "starting") == 0)
		return "#e0a030";
	if (strcmp(st, "down") == 0)
		return "#d03030";
	return "#909090";
}

static const char *js_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t js_int(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

/* One chain as an SVG picture: FROM, each VNF type with its replicas
 * (coloured by state), TO, and the links; a ToS chain's bypass dashed. */
static void chain_svg(struct nf_http_resp *rs, const struct nc_spec *sp, const struct nc_chain *c,
		      struct json_object *reps)
{
	const unsigned colw = 150, h = 70 + 30 * NC_REPLICA_MAX / 4;
	unsigned j, k, maxr = 1, width = colw * (c->nvnf + 2);
	size_t n = json_object_array_length(reps);

	for (j = 0; j < c->nvnf; j++)
		maxr = NF_MAX(maxr, sp->vnf[c->vnf[j]].replicas);
	(void)h;
	nf_http_printf(rs, "<svg class=\"chain\" id=\"svg-%s\" width=\"%u\" height=\"%u\" "
		       "viewBox=\"0 0 %u %u\" role=\"img\">\n", c->name, width, 80 + 28 * maxr,
		       width, 80 + 28 * maxr);
	nf_http_printf(rs, "<line x1=\"110\" y1=\"50\" x2=\"%u\" y2=\"50\" stroke=\"#555\" "
		       "stroke-width=\"2\"/>\n", width - 110);
	if (c->steering == NC_ST_TOS)
		nf_http_printf(rs, "<path d=\"M 60 30 L 60 12 L %u 12 L %u 30\" fill=\"none\" "
			       "stroke=\"#999\" stroke-dasharray=\"5,4\"/><text x=\"%u\" y=\"10\" "
			       "font-size=\"10\" text-anchor=\"middle\" fill=\"#666\">bypass "
			       "(ToS bit clear)</text>\n", width - 60, width - 60, width / 2);
	nf_http_printf(rs, "<rect x=\"10\" y=\"30\" width=\"100\" height=\"40\" rx=\"6\" "
		       "fill=\"#dde6f5\" stroke=\"#446\"/><text x=\"60\" y=\"55\" "
		       "text-anchor=\"middle\" font-size=\"13\">%s</text>\n",
		       sp->xport[c->from].name);
	for (j = 0; j < c->nvnf; j++) {
		const struct nc_vnf *f = &sp->vnf[c->vnf[j]];
		unsigned x = colw * (j + 1) + 10, r = 0;

		nf_http_printf(rs, "<rect x=\"%u\" y=\"30\" width=\"130\" height=\"%u\" rx=\"6\" "
			       "fill=\"#f4f4f4\" stroke=\"#444\"/><text x=\"%u\" y=\"47\" "
			       "text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">%s%s"
			       "</text>\n", x, 30 + 28 * NF_MAX(f->replicas, 1u), x + 65,
			       c->steering == NC_ST_TOS ? "" : "", f->name);
		for (k = 0; k < n; k++) {
			struct json_object *o = json_object_array_get_idx(reps, k);

			if (strcmp(js_str(o, "vnf"), f->name) != 0)
				continue;
			nf_http_printf(rs, "<circle id=\"dot-%s-%" PRId64 "\" cx=\"%u\" cy=\"%u\" "
				       "r=\"8\" fill=\"%s\"/><text x=\"%u\" y=\"%u\" font-size=\"11\">"
				       "%s.%" PRId64 " %s</text>\n", f->name, js_int(o, "replica"),
				       x + 16, 65 + 28 * r, state_colour(js_str(o, "state")), x + 30,
				       69 + 28 * r, f->name, js_int(o, "replica"), js_str(o, "state"));
			r++;
		}
		if (c->steering == NC_ST_TOS)
			nf_http_printf(rs, "<text x=\"%u\" y=\"25\" font-size=\"10\" "
				       "text-anchor=\"middle\" fill=\"#666\">ToS bit %u</text>\n",
				       x + 65, j);
	}
	nf_http_printf(rs, "<rect x=\"%u\" y=\"30\" width=\"100\" height=\"40\" rx=\"6\" "
		       "fill=\"#dde6f5\" stroke=\"#446\"/><text x=\"%u\" y=\"55\" "
		       "text-anchor=\"middle\" font-size=\"13\">%s</text>\n</svg>\n",
		       width - 110, width - 60, sp->xport[c->to].name);
}

static bool plot_name_ok(const char *n)
{
	size_t l = strlen(n), i;

	if (l < 5 || l > 100 || n[0] == '.' || strcmp(n + l - 4, ".png") != 0)
		return false;
	for (i = 0; i < l; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '-' && n[i] != '_' && n[i] != '.')
			return false;
	return strstr(n, "..") == NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void plots_list(struct nf_http_resp *rs, const char *dir)
{
	char *names[64];
	unsigned n = 0, i;
	struct dirent *e;
	DIR *d;

	if (!dir[0] || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < 64)
		if (plot_name_ok(e->d_name) && (names[n] = strdup(e->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	nf_http_printf(rs, "<h2>Benchmark plots</h2>\n<div class=\"plots\">\n");
	for (i = 0; i < n; i++) {
		nf_http_printf(rs, "<figure><img src=\"/plots/%s\" alt=\"%s\" loading=\"lazy\">"
			       "<figcaption>%s</figcaption></figure>\n", names[i], names[i], names[i]);
		free(names[i]);
	}
	nf_http_printf(rs, "</div>\n");
}

static int dashboard(struct nc_web *w, struct sess *s, struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	struct json_object *st = json_object_new_object(), *reps, *evs;
	size_t n, k;
	unsigned c;

	w->ops.status(w->ops.arg, st);
	reps = json_object_object_get(st, "replicas");
	evs = json_object_object_get(st, "events");
	page_head(rs, "nfchain dashboard", "dash");
	nf_http_printf(rs, "<h1>nfchain dashboard: <span id=\"dep\">");
	nc_web_esc(rs, sp->name);
	nf_http_printf(rs, "</span></h1>\n<p class=\"small\">runtime %s, up <span id=\"uptime\">"
		       "%.1f</span> s</p>\n", sp->runtime == NC_RT_RUNC ? "runc" : "process",
		       (double)js_int(st, "uptime_ms") / 1000);
	for (c = 0; c < sp->nchain; c++) {
		nf_http_printf(rs, "<h2>Chain %s (%s)</h2>\n", sp->chain[c].name,
			       sp->chain[c].steering == NC_ST_TOS ? "ToS bitmap" : "SRv6");
		chain_svg(rs, sp, &sp->chain[c], reps);
	}
	nf_http_printf(rs, "<h2>Replicas</h2>\n<table id=\"replicas\"><tr><th>replica</th>"
		       "<th>state</th><th>pps in</th><th>pps out</th><th>drops</th>"
		       "<th>probe rtt (us)</th><th>restarts</th><th>last down</th></tr>\n");
	n = reps ? json_object_array_length(reps) : 0;
	for (k = 0; k < n; k++) {
		struct json_object *o = json_object_array_get_idx(reps, k);
		char id[48];

		snprintf(id, sizeof(id), "%s-%" PRId64, js_str(o, "vnf"), js_int(o, "replica"));
		nf_http_printf(rs, "<tr id=\"r-%s\"><td>%s.%" PRId64 "</td><td class=\"state\">%s"
			       "</td><td class=\"pps_in\">%.0f</td><td class=\"pps_out\">%.0f</td>"
			       "<td class=\"drops\">%" PRId64 "</td><td class=\"probe_rtt_us\">%"
			       PRId64 "</td><td class=\"restarts\">%" PRId64 "</td>"
			       "<td class=\"last_down\">", id, js_str(o, "vnf"), js_int(o, "replica"),
			       js_str(o, "state"),
			       json_object_get_double(json_object_object_get(o, "pps_in")),
			       json_object_get_double(json_object_object_get(o, "pps_out")),
			       js_int(o, "drops"), js_int(o, "probe_rtt_us"), js_int(o, "restarts"));
		nc_web_esc(rs, js_str(o, "last_down"));
		nf_http_printf(rs, "</td></tr>\n");
	}
	nf_http_printf(rs, "</table>\n<h2>Recent events</h2>\n<table id=\"events\"><thead><tr>"
		       "<th>#</th><th>kind</th><th>subject</th><th>what</th></tr></thead><tbody>\n");
	n = evs ? json_object_array_length(evs) : 0;
	for (k = 0; k < n && k < 20; k++) {	/* the newest first */
		struct json_object *o = json_object_array_get_idx(evs, n - 1 - k);

		nf_http_printf(rs, "<tr><td>%" PRId64 "</td><td>", js_int(o, "seq"));
		nc_web_esc(rs, js_str(o, "kind"));
		nf_http_printf(rs, "</td><td>");
		nc_web_esc(rs, js_str(o, "subject"));
		nf_http_printf(rs, "</td><td>");
		nc_web_esc(rs, js_str(o, "text"));
		nf_http_printf(rs, "</td></tr>\n");
	}
	nf_http_printf(rs, "</tbody></table>\n");
	plots_list(rs, sp->plots);
	if (s != NULL)
		nf_http_printf(rs, "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" "
			       "name=\"csrf\" value=\"%s\"><button type=\"submit\">Sign out</button>"
			       "</form>\n", s->csrf);
	nf_http_printf(rs, "</body></html>\n");
	json_object_put(st);
	return 0;
}

static int plot_file(struct nc_web *w, const char *name, struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	char path[512];
	struct stat stb;
	int fd;

	if (!sp->plots[0] || !plot_name_ok(name))
		return text(rs, 404, "Not found.");
	snprintf(path, sizeof(path), "%s/%s", sp->plots, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &stb) < 0 || !S_ISREG(stb.st_mode) || stb.st_size > (16 << 20)) {
		if (fd >= 0)
			close(fd);
		return text(rs, 404, "Not found.");
	}
	rs->body = malloc((size_t)stb.st_size + 1);
	if (rs->body == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rs->cap = (size_t)stb.st_size + 1;
	rs->len = 0;
	while (rs->len < (size_t)stb.st_size) {
		ssize_t r = read(fd, rs->body + rs->len, (size_t)stb.st_size - rs->len);

		if (r <= 0)
			break;
		rs->len += (size_t)r;
	}
	close(fd);
	snprintf(rs->content_type, sizeof(rs->content_type), "image/png");
	header(rs, "Cache-Control: %s\r\n", "max-age=3600");
	return 0;
}

/* The operator: signed in (dashboard.password), or any loopback peer
 * when there is no password. */
static bool operator_ok(struct nc_web *w, const struct nf_http_req *rq, struct sess **s)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);

	*s = session(w, rq);
	if (*s && (*s)->tenant != OPERATOR)
		*s = NULL;
	if (sp->dash_password[0])
		return *s != NULL;
	return strcmp(rq->peer, "127.0.0.1") == 0 || strcmp(rq->peer, "::1") == 0 ||
	       strncmp(rq->peer, "::ffff:127.", 11) == 0;
}

static int operator_login(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	const struct nc_spec *sp = w->ops.spec(w->ops.arg);
	char pw[256];

	if (strcmp(rq->method, "GET") == 0)
		return signin_form(rs, 200, "/login", NULL, false);
	if (strcmp(rq->method, "POST") != 0)
		return not_allowed(rs, "GET, HEAD, POST");
	if (!form_ok(rq) || nc_web_field(rq->body, "password", 0, pw, sizeof(pw)) != 1)
		return text(rs, 400, "Malformed form: a password is needed.");
	if (!origin_ok(w, rq))
		return text(rs, 403, "Forbidden: the form comes from another site.");
	if (throttled(w, rq->peer, false)) {
		header(rs, "Retry-After: %s\r\n", "60");
		return text(rs, 429, "Too many failed sign-ins: wait a minute.");
	}
	if (!pw_ok(pw, sp->dash_password)) {
		explicit_bzero(pw, sizeof(pw));
		throttled(w, rq->peer, true);
		return signin_form(rs, 401, "/login", "Sign-in failed: wrong password.", false);
	}
	explicit_bzero(pw, sizeof(pw));
	if (session_new(w, OPERATOR, rs) < 0)
		return -EIO;
	return redirect(rs, "/");
}

static const char web_css[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1100px}"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
	"padding:3px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}"
	".err{color:#b00}.small{color:#666;font-size:90%}.na{color:#999}"
	"label{display:block;margin:.3em 0}fieldset{margin:.5em 0}"
	".plots{display:flex;flex-wrap:wrap;gap:10px}.plots img{width:340px;border:1px solid #ccc}"
	"figure{margin:0}figcaption{font-size:80%;color:#666}svg.chain{display:block}\n";

/* Both pages' live parts: text only (textContent), never markup. */
static const char web_js[] =
	"'use strict';\n"
	"function set(id, v) { const e = document.getElementById(id); if (e) e.textContent = v; }\n"
	"let last = null;\n"
	"async function portal() {\n"
	"  const r = await fetch('/portal/api/me', {cache: 'no-store'});\n"
	"  if (r.status === 401) { location.href = '/portal'; return; }\n"
	"  const m = await r.json(), t = Date.now();\n"
	"  set('out-packets', m.out.packets); set('out-bytes', m.out.bytes);\n"
	"  set('in-packets', m.in.packets); set('in-bytes', m.in.bytes);\n"
	"  set('services', m.services.length ? m.services.join(', ') : 'none');\n"
	"  if (last) {\n"
	"    const s = (t - last.t) / 1000;\n"
	"    set('out-pps', Math.round((m.out.packets - last.o) / s));\n"
	"    set('in-pps', Math.round((m.in.packets - last.i) / s));\n"
	"  }\n"
	"  last = {t: t, o: m.out.packets, i: m.in.packets};\n"
	"  set('updated', 'updated ' + new Date().toLocaleTimeString());\n"
	"}\n"
	"async function dash() {\n"
	"  const r = await fetch('/api/status', {cache: 'no-store'});\n"
	"  if (r.status === 401 || r.status === 403) { location.href = '/login'; return; }\n"
	"  const s = await r.json();\n"
	"  set('uptime', (s.uptime_ms / 1000).toFixed(1));\n"
	"  for (const x of s.replicas) {\n"
	"    const row = document.getElementById('r-' + x.vnf + '-' + x.replica);\n"
	"    if (!row) continue;\n"
	"    for (const k of ['state', 'drops', 'probe_rtt_us', 'restarts', 'last_down'])\n"
	"      row.querySelector('.' + k).textContent = x[k];\n"
	"    row.querySelector('.pps_in').textContent = Math.round(x.pps_in);\n"
	"    row.querySelector('.pps_out').textContent = Math.round(x.pps_out);\n"
	"    const dot = document.getElementById('dot-' + x.vnf + '-' + x.replica);\n"
	"    if (dot) dot.setAttribute('fill', {up: '#2e9d4a', starting: '#e0a030', down: "
	"'#d03030'}[x.state] || '#909090');\n"
	"  }\n"
	"  const tb = document.querySelector('#events tbody');\n"
	"  if (tb && s.events) {\n"
	"    tb.replaceChildren();\n"
	"    for (const e of s.events.slice(-20).reverse()) {\n"
	"      const tr = document.createElement('tr');\n"
	"      for (const v of [e.seq, e.kind, e.subject, e.text]) {\n"
	"        const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);\n"
	"      }\n"
	"      tb.appendChild(tr);\n"
	"    }\n"
	"  }\n"
	"}\n"
	"const page = document.body.dataset.page;\n"
	"const f = page === 'portal' ? portal : page === 'dash' ? dash : null;\n"
	"if (f) { f(); setInterval(() => f().catch(() => {}), 1000); }\n";

static int asset(struct nf_http_resp *rs, const char *type, const char *body)
{
	snprintf(rs->content_type, sizeof(rs->content_type), "%s", type);
	return nf_http_printf(rs, "%s", body);
}

int nc_web_handle(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs)
{
	bool get = strcmp(rq->method, "GET") == 0;
	struct sess *s;
	int ret;

	header(rs, "%s", "Content-Security-Policy: default-src 'self'\r\n"
	       "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
	       "Referrer-Policy: same-origin\r\n");
	if (strncmp(rq->path, "/portal", 7) == 0 && (rq->path[7] == '\0' || rq->path[7] == '/'))
		return portal(w, rq, rs);
	if (strcmp(rq->path, "/web.js") == 0)
		return get ? asset(rs, "text/javascript; charset=utf-8", web_js)
			   : not_allowed(rs, "GET, HEAD");
	if (strcmp(rq->path, "/web.css") == 0)
		return get ? asset(rs, "text/css; charset=utf-8", web_css)
			   : not_allowed(rs, "GET, HEAD");
	if (strcmp(rq->path, "/login") == 0)
		return operator_login(w, rq, rs);
	if (strcmp(rq->path, "/favicon.ico") == 0) {
		rs->status = 204;
		return 0;
	}
	if (strcmp(rq->path, "/logout") == 0) {
		if (strcmp(rq->method, "POST") != 0)
			return not_allowed(rs, "POST");
		s = post_session(w, rq, rs, OPERATOR, &ret);
		if (s == NULL)
			return ret;
		session_end(s, rs);
		return redirect(rs, "/login");
	}
	if (strcmp(rq->path, "/") != 0 && strcmp(rq->path, "/api/status") != 0 &&
	    strncmp(rq->path, "/plots/", 7) != 0)
		return text(rs, 404, "Not found.");
	if (!get)
		return not_allowed(rs, "GET, HEAD");
	if (!operator_ok(w, rq, &s)) {
		if (w->ops.spec(w->ops.arg)->dash_password[0])
			return strcmp(rq->path, "/") == 0 ? redirect(rs, "/login")
				: text(rs, 401, "Not signed in, or the session expired.");
		return text(rs, 403, "Forbidden: the dashboard answers loopback clients only "
			    "(set dashboard.password to open it to others).");
	}
	if (strncmp(rq->path, "/plots/", 7) == 0)
		return plot_file(w, rq->path + 7, rs);
	if (strcmp(rq->path, "/api/status") == 0) {
		struct json_object *st = json_object_new_object();

		w->ops.status(w->ops.arg, st);
		snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
		header(rs, "Cache-Control: %s\r\n", "no-store");
		ret = nf_http_printf(rs, "%s\n", json_object_to_json_string_ext(st,
							JSON_C_TO_STRING_PLAIN));
		json_object_put(st);
		return ret;
	}
	if (s)
		s->last = now_ms();
	return dashboard(w, s, rs);
}
