/* test_web.c - the dashboard and the portal (src/nfchain/web.c) without a
 * network: crafted requests into nc_web_handle() over a fake agent, the
 * exact status of each, what the pages hold and never hold, the form
 * decoder and the HTML escaper. */
#include "harness.h"
#include "web.h"
#include "plan.h"

#include <crypt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct nc_spec sp;
static uint8_t set_to = 0xff;
static unsigned set_calls;

static const struct nc_spec *f_spec(void *arg)
{
	(void)arg;
	return &sp;
}

static void f_status(void *arg, struct json_object *o)
{
	(void)arg;
	json_object_object_add(o, "name", json_object_new_string("t"));
	json_object_object_add(o, "replicas", json_object_new_array());
	json_object_object_add(o, "events", json_object_new_array());
}

static int f_set(void *arg, unsigned t, uint8_t bits)
{
	(void)arg;
	set_calls++;
	set_to = bits;
	sp.tenant[t].services = bits;
	return 0;
}

static int f_count(void *arg, uint32_t id, uint64_t *p, uint64_t *b)
{
	(void)arg;
	*p = id * 10;	/* alpha's rules 1001/1002, bravo's 1003/1004 */
	*b = id * 1000;
	return 0;
}

struct res {
	int status;
	char headers[1024];
	char *body;
};

static struct nc_web *w;

static struct res req(const char *method, const char *path, const char *query, const char *body,
		      const char *ctype, const char *cookie, const char *origin)
{
	struct nf_http_req rq = { method, path, query, body, strlen(body), ctype, cookie,
				  origin, "127.0.0.1" };
	struct nf_http_resp rs = { .status = 200 };
	struct res r;

	if (nc_web_handle(w, &rq, &rs) < 0)
		rs.status = 500;
	r.status = rs.status;
	memcpy(r.headers, rs.headers, sizeof(r.headers));
	r.body = rs.body ? rs.body : strdup("");
	return r;
}

#define FORM "application/x-www-form-urlencoded"

static struct res post(const char *path, const char *body, const char *cookie)
{
	return req("POST", path, "", body, FORM, cookie, "");
}

static struct res get(const char *path, const char *cookie)
{
	return req("GET", path, "", "", "", cookie, "");
}

/* GET @path answers @want (and nothing else is looked at). */
static void get_is(const char *d, const char *path, const char *cookie, int want)
{
	struct res r = get(path, cookie);

	NF_TEST(d, r.status == want);
	free(r.body);
}

/* "nc_session=TOKEN" from a Set-Cookie header. */
static void cookie_of(const struct res *r, char *out, size_t len)
{
	const char *c = strstr(r->headers, "Set-Cookie: ");
	size_t n;

	out[0] = '\0';
	if (c == NULL)
		return;
	c += 12;
	n = strcspn(c, ";\r");
	snprintf(out, len, "%.*s", (int)n, c);
}

static void csrf_of(const char *body, char *out)
{
	const char *c = strstr(body, "name=\"csrf\" value=\"");

	out[0] = '\0';
	if (c)
		snprintf(out, 33, "%s", c + 19);
}

static void tenant(unsigned i, const char *name, const char *pw, const char *match,
		   uint8_t services)
{
	struct nc_tenant *t = &sp.tenant[i];
	struct crypt_data cd = { 0 };

	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->password, sizeof(t->password), "%s", crypt_r(pw, "$6$unittest$", &cd));
	snprintf(t->match, sizeof(t->match), "%s", match);
	t->chain = 0;
	t->services = services;
	t->allowed = 3;
}

int main(void)
{
	const struct nc_web_ops ops = { f_spec, f_status, f_set, f_count, NULL };
	char out[64], ck[64], bk[64], csrf[40], body[256];
	struct res r;

	/* --- helpers */
	NF_TEST("field: decoded (+, %XX)", nc_web_field("a=1&b=x+y%21", "b", 0, out, sizeof(out)) == 1 &&
		strcmp(out, "x y!") == 0);
	NF_TEST("field: the second occurrence", nc_web_field("s=a&s=b", "s", 1, out, sizeof(out)) == 1 &&
		strcmp(out, "b") == 0);
	NF_TEST("field: absent", nc_web_field("a=1", "b", 0, out, sizeof(out)) == 0);
	NF_TEST("field: a bad %XX is malformed", nc_web_field("a=%zz", "a", 0, out, sizeof(out)) < 0);
	NF_TEST("field: a truncated %X is malformed", nc_web_field("a=%4", "a", 0, out, sizeof(out)) < 0);
	NF_TEST("field: %00 is malformed", nc_web_field("a=x%00", "a", 0, out, sizeof(out)) < 0);
	NF_TEST("field: too long for the buffer is malformed",
		nc_web_field("a=0123456789", "a", 0, out, 8) < 0);
	NF_TEST("field: a pair without '=' is malformed", nc_web_field("a&b=1", "b", 0, out, sizeof(out)) < 0);
	{
		struct nf_http_resp rs = { 0 };

		nc_web_esc(&rs, "<a href=\"x\">'&'</a>");
		NF_TEST("esc: & < > \" ' escaped", rs.body &&
			strcmp(rs.body, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;") == 0);
		free(rs.body);
	}

	/* --- a description: chain of fw, nat, mon; alpha and bravo */
	snprintf(sp.name, sizeof(sp.name), "t");
	sp.nvnf = 3;
	snprintf(sp.vnf[0].name, 16, "fw");
	snprintf(sp.vnf[1].name, 16, "nat");
	snprintf(sp.vnf[2].name, 16, "mon");
	sp.nxport = 2;
	snprintf(sp.xport[0].name, 16, "lan");
	snprintf(sp.xport[1].name, 16, "wan");
	sp.nchain = 1;
	snprintf(sp.chain[0].name, 16, "vcpe");
	sp.chain[0].steering = NC_ST_TOS;
	sp.chain[0].from = 0;
	sp.chain[0].to = 1;
	sp.chain[0].nvnf = 3;
	sp.chain[0].vnf[0] = 0;
	sp.chain[0].vnf[1] = 1;
	sp.chain[0].vnf[2] = 2;
	sp.ntenant = 2;
	tenant(0, "alpha", "alpha-pass", "ip saddr 10.1.0.0/24", 1);
	tenant(1, "bravo", "bravo-pass", "ip saddr 10.2.0.0/24", 5);
	sp.session_timeout_ms = 60000;
	NF_TEST("nc_web_new", nc_web_new(&ops, &w) == 0);
	nc_web_listen(w, "127.0.0.1", 8080);

	/* --- sign-in */
	r = get("/portal", "");
	NF_TEST("GET /portal: 200, the sign-in form", r.status == 200 && strstr(r.body, "id=\"signin\""));
	NF_TEST("every answer has the CSP header",
		strstr(r.headers, "Content-Security-Policy: default-src 'self'\r\n") != NULL);
	free(r.body);
	r = post("/portal/login", "tenant=alpha&password=wrong", "");
	NF_TEST("wrong password: 401, one generic sentence", r.status == 401 &&
		strstr(r.body, "Sign-in failed: wrong tenant name or password."));
	{
		char *first = r.body;

		r = post("/portal/login", "tenant=zed&password=wrong", "");
		NF_TEST("unknown tenant: the same 401 page", r.status == 401 &&
			strcmp(first, r.body) == 0);
		free(first);
		free(r.body);
	}
	r = post("/portal/login", "tenant=alpha&password=alpha-pass", "");
	cookie_of(&r, ck, sizeof(ck));
	NF_TEST("alpha signs in: 303 /portal, a 128-bit cookie", r.status == 303 &&
		strstr(r.headers, "Location: /portal\r\n") && strlen(ck) == 11 + 32 &&
		strstr(r.headers, "; HttpOnly; SameSite=Strict; Path=/\r\n"));
	free(r.body);
	r = req("POST", "/portal/login", "", "tenant=alpha&password=alpha-pass", FORM, "",
		"http://evil.example");
	NF_TEST("a foreign Origin on sign-in: 403", r.status == 403);
	free(r.body);
	r = req("POST", "/portal/login", "", "tenant=alpha&password=alpha-pass", "text/plain", "", "");
	NF_TEST("not urlencoded: 400", r.status == 400);
	free(r.body);

	/* --- alpha's page */
	r = get("/portal", ck);
	csrf_of(r.body, csrf);
	NF_TEST("alpha's page: its name, its services, its counters (rules 1001, 1002)",
		r.status == 200 && strstr(r.body, "<b id=\"name\">alpha</b>") &&
		strstr(r.body, "<b id=\"services\">fw</b>") &&
		strstr(r.body, "id=\"out-packets\">10010<") && strstr(r.body, "id=\"in-packets\">10020<"));
	NF_TEST("alpha's page: nothing of bravo (name, prefix, counters)",
		!strstr(r.body, "bravo") && !strstr(r.body, "10.2.0") && !strstr(r.body, "10030"));
	NF_TEST("alpha's page: checkboxes for fw and nat only (allowed)",
		strstr(r.body, "id=\"svc-fw\"") && strstr(r.body, "id=\"svc-nat\"") &&
		!strstr(r.body, "id=\"svc-mon\""));
	NF_TEST("alpha's page: a 128-bit CSRF token", strlen(csrf) == 32);
	free(r.body);
	r = req("GET", "/portal/api/me", "tenant=bravo", "", "", ck, "");
	NF_TEST("/portal/api/me?tenant=bravo: alpha's JSON", r.status == 200 &&
		strstr(r.body, "\"tenant\":\"alpha\"") && !strstr(r.body, "bravo") &&
		strstr(r.body, "\"out\":{\"packets\":10010,\"bytes\":1001000}"));
	free(r.body);
	get_is("/portal/api/bravo: 404", "/portal/api/bravo", ck, 404);

	/* --- services */
	snprintf(body, sizeof(body), "csrf=%s&svc=fw&svc=nat&tenant=bravo", csrf);
	r = post("/portal/services", "svc=fw&svc=nat", ck);
	NF_TEST("services without a CSRF token: 403, nothing set", r.status == 403 && set_calls == 0);
	free(r.body);
	r = post("/portal/services", "csrf=00000000000000000000000000000000&svc=nat", ck);
	NF_TEST("services with another token: 403, nothing set", r.status == 403 && set_calls == 0);
	free(r.body);
	r = req("POST", "/portal/services", "", body, FORM, ck, "http://evil.example:8080");
	NF_TEST("services from another origin: 403", r.status == 403 && set_calls == 0);
	free(r.body);
	r = req("POST", "/portal/services", "", body, FORM, ck, "http://127.0.0.1:8081");
	NF_TEST("services from another port: 403", r.status == 403 && set_calls == 0);
	free(r.body);
	snprintf(out, sizeof(out), "csrf=%s&svc=mon", csrf);
	r = post("/portal/services", out, ck);
	NF_TEST("mon (not allowed): 403", r.status == 403 && set_calls == 0);
	free(r.body);
	snprintf(out, sizeof(out), "csrf=%s&svc=%%3Cb%%3E", csrf);
	r = post("/portal/services", out, ck);
	NF_TEST("<b> as a service: 400, not reflected", r.status == 400 && !strstr(r.body, "<b>") &&
		set_calls == 0);
	free(r.body);
	r = req("POST", "/portal/services", "", body, FORM, ck, "http://127.0.0.1:8080");
	NF_TEST("fw + nat with the token and our Origin: 303, alpha's bits 3 (bravo's 5 kept)",
		r.status == 303 && set_calls == 1 && set_to == 3 && sp.tenant[1].services == 5);
	free(r.body);
	r = post("/portal/services", body, ck);
	NF_TEST("the same again: no change asked of the agent", r.status == 303 && set_calls == 1);
	free(r.body);

	/* --- methods, paths */
	r = get("/portal/services", ck);
	NF_TEST("GET /portal/services: 405 Allow: POST", r.status == 405 &&
		strstr(r.headers, "Allow: POST\r\n"));
	free(r.body);
	r = req("DELETE", "/portal", "", "", "", ck, "");
	NF_TEST("DELETE /portal: 405", r.status == 405);
	free(r.body);
	get_is("/portalx: 404", "/portalx", ck, 404);

	/* --- the dashboard: loopback without a password; a tenant is not the operator */
	r = get("/", ck);
	NF_TEST("no dashboard password: a loopback client sees the dashboard",
		r.status == 200 && strstr(r.body, "id=\"svg-vcpe\""));
	free(r.body);
	{
		struct nf_http_req rq = { "GET", "/", "", "", 0, "", "", "", "192.0.2.7" };
		struct nf_http_resp rs = { .status = 200 };

		nc_web_handle(w, &rq, &rs);
		NF_TEST("... another address: 403", rs.status == 403);
		free(rs.body);
	}
	snprintf(sp.dash_password, sizeof(sp.dash_password), "%s", sp.tenant[0].password);
	r = get("/", ck);
	NF_TEST("with a password: a tenant's session is sent to /login", r.status == 303 &&
		strstr(r.headers, "Location: /login\r\n"));
	free(r.body);
	get_is("... /api/status: 401", "/api/status", ck, 401);
	get_is("... a plot: 401 before anything", "/plots/../../etc/passwd.png", ck, 401);
	r = post("/login", "password=alpha-pass", "");
	cookie_of(&r, bk, sizeof(bk));
	NF_TEST("operator signs in: 303 /", r.status == 303 && strstr(r.headers, "Location: /\r\n"));
	free(r.body);
	get_is("operator: a plot name with .. or /: 404", "/plots/..%2fx.png", bk, 404);
	get_is("the operator's session is no tenant's: 401", "/portal/api/me", bk, 401);

	/* --- sign-out, a changed description */
	snprintf(out, sizeof(out), "csrf=%s", csrf);
	r = post("/portal/logout", out, ck);
	NF_TEST("sign-out: 303, cookie cleared", r.status == 303 && strstr(r.headers, "Max-Age=0"));
	free(r.body);
	get_is("after sign-out: 401", "/portal/api/me", ck, 401);
	r = post("/portal/login", "tenant=bravo&password=bravo-pass", "");
	cookie_of(&r, ck, sizeof(ck));
	free(r.body);
	{
		struct nc_tenant t = sp.tenant[0];

		sp.tenant[0] = sp.tenant[1];	/* apply: bravo moves to place 0 */
		sp.tenant[1] = t;
	}
	r = get("/portal/api/me", ck);
	NF_TEST("bravo's session after a reorder: ended (401), not alpha's data", r.status == 401 &&
		!strstr(r.body, "alpha"));
	free(r.body);
	r = post("/portal/login", "tenant=bravo&password=bravo-pass", "");
	cookie_of(&r, ck, sizeof(ck));
	free(r.body);
	r = get("/portal/api/me", ck);
	NF_TEST("bravo signs in again: bravo's data", r.status == 200 &&
		strstr(r.body, "\"tenant\":\"bravo\""));
	free(r.body);
	snprintf(sp.tenant[0].password, sizeof(sp.tenant[0].password), "%s", sp.tenant[1].password);
	get_is("... its password changed: the session ends (401)", "/portal/api/me", ck, 401);
	sp.session_timeout_ms = 1000;
	r = post("/portal/login", "tenant=alpha&password=alpha-pass", "");
	cookie_of(&r, ck, sizeof(ck));
	free(r.body);
	sp.session_timeout_ms = 0;	/* every session now too old */
	{
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	get_is("an expired session: 401", "/portal/api/me", ck, 401);
	nc_web_free(w);
	return nf_test_report();
}
