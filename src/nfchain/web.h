/* web.h - the agent's web pages: the operator's dashboard and the
 * FlowFall tenant portal (docs/ORCHESTRATOR.md "Dashboard and portal").
 *
 * Routes (nc_web_handle answers them all, 404 for the rest):
 *
 *   GET  /                    dashboard: the chains as a picture, replicas,
 *                             live counters, recent events, the plots
 *   GET  /api/status          the agent's status (JSON), polled by the page
 *   GET  /plots/NAME.png      a benchmark plot from dashboard.plots
 *   GET  /login, POST /login  the operator's sign-in (dashboard.password)
 *   GET  /portal              a tenant's sign-in form, or its page
 *   POST /portal/login        tenant name + password -> session cookie
 *   POST /portal/services     the services the tenant's traffic visits
 *   POST /portal/logout
 *   GET  /portal/api/me       the signed-in tenant's state and counters (JSON)
 *   GET  /web.js              the pages' script (no inline script: CSP)
 *
 * Sessions: 128-bit tokens from getrandom(), cookie HttpOnly,
 * SameSite=Strict, Path=/; idle expiry portal.session-timeout; a CSRF
 * token per session in every form and checked on every POST, with the
 * Origin header (when sent) naming this server. A session holds one
 * tenant (or the operator); no request after sign-in names a tenant.
 */
#ifndef NC_WEB_H
#define NC_WEB_H
#include "nf_http.h"
#include "spec.h"

#include <stdint.h>

struct json_object;
struct nc_web;

/* What the web pages need of the agent. */
struct nc_web_ops {
	const struct nc_spec *(*spec)(void *arg);
	/* Fill @o with the agent's status (as `nfchain status --json`). */
	void (*status)(void *arg, struct json_object *o);
	/* Tenant @t's traffic now visits @services (bit j: chain VNF j):
	 * rewrite the steering (one steer-load) and record an event.
	 * 0 or -errno with nf_set_error(). */
	int (*set_services)(void *arg, unsigned t, uint8_t services);
	/* The switch's counters of rule @id: 0, or -errno (-ENOENT: none). */
	int (*rule_count)(void *arg, uint32_t id, uint64_t *packets, uint64_t *bytes);
	void *arg;
};

#define NC_WEB_MAX_BODY	8192	/* larger request bodies get 413 */

int nc_web_new(const struct nc_web_ops *ops, struct nc_web **out);
void nc_web_free(struct nc_web *w);
/* The server's address (@host as in the http key, "" for all) and port:
 * a POST's Origin must name it (or a loopback name with @port). */
void nc_web_listen(struct nc_web *w, const char *host, unsigned port);
/* Answer @rq (any path). 0, or -errno (nf_http answers 500). */
int nc_web_handle(struct nc_web *w, const struct nf_http_req *rq, struct nf_http_resp *rs);

/* Helpers, exported for the unit test. */
/* Append @s to @rs HTML-escaped (& < > " '). */
int nc_web_esc(struct nf_http_resp *rs, const char *s);
/* The value of field @key in the urlencoded @form, decoded, the @n-th
 * occurrence (0 first): 1 found, 0 absent, -EINVAL malformed (a bad %XX,
 * a NUL, too long for @out). */
int nc_web_field(const char *form, const char *key, unsigned n, char *out, size_t len);
#endif
