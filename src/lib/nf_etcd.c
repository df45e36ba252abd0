/* nf_etcd.c - an etcd v3 client over the JSON gateway (libcurl + json-c).
 *
 * Requests: one curl easy handle per nf_etcd, a JSON body, a JSON answer;
 * int64 fields travel as JSON strings and absent fields mean 0. Watch: a
 * thread of its own with its own multi handle (so that stop can wake it),
 * fed a stream of {"result": ...} objects parsed as they arrive.
 */
#define _GNU_SOURCE
#include "nf_etcd.h"
#include "nf_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ETCD_MAX_EP		32
#define ETCD_MAX_RESP		(64u << 20)	/* a range answer larger is refused */
#define ETCD_BACKOFF_MAX_MS	1000

/* grpc status codes the gateway puts in "code" */
#define GRPC_INVALID_ARGUMENT	3
#define GRPC_NOT_FOUND		5
#define GRPC_FAILED_PRECOND	9
#define GRPC_OUT_OF_RANGE	11

struct nf_etcd {
	char *ep[ETCD_MAX_EP];
	size_t n_ep, cur;		/* cur: the endpoint that last answered */
	unsigned timeout_ms;
	CURL *curl;
	struct curl_slist *hdrs;
	struct nf_etcd_stats st;
};

/* ---- base64 (RFC 4648, padded) ---- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *nf_etcd_b64_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	char *out, *o;
	size_t i;

	out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = b64_chars[(v >> 6) & 63];
		*o++ = b64_chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int nf_etcd_b64_decode(const char *s, size_t slen, char **out, size_t *len)
{
	uint8_t *buf;
	size_t i, n = 0, pad = 0;

	if (slen % 4 != 0)
		return -EINVAL;
	if (slen > 0 && s[slen - 1] == '=')
		pad = s[slen - 2] == '=' ? 2 : 1;
	/* one more byte: the caller gets a NUL-terminated buffer */
	buf = malloc(slen / 4 * 3 + 1);
	if (buf == NULL)
		return -ENOMEM;
	for (i = 0; i < slen; i += 4) {
		int v[4], k;
		bool last = i + 4 == slen;

		for (k = 0; k < 4; k++) {
			v[k] = b64_val(s[i + k]);
			if (v[k] < 0 && !(last && k >= 4 - (int)pad))
				goto bad;
			if (v[k] < 0)
				v[k] = 0;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		buf[n++] = w >> 16;
		if (!last || pad < 2)
			buf[n++] = (w >> 8) & 0xff;
		if (!last || pad < 1)
			buf[n++] = w & 0xff;
	}
	buf[n] = '\0';
	*out = (char *)buf;
	*len = n;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

/* ---- JSON helpers ---- */

/* An int64 the gateway sends as a string ("42"), or absent (0). */
static int j_i64(json_object *o, const char *name, int64_t *v)
{
	json_object *f;
	const char *s;
	char *end;
	long long x;

	*v = 0;
	if (!json_object_object_get_ex(o, name, &f))
		return 0;
	if (json_object_is_type(f, json_type_int)) {
		*v = json_object_get_int64(f);
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return -EPROTO;
	s = json_object_get_string(f);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -EPROTO;
	*v = x;
	return 0;
}

/* A base64 field into a malloc'd NUL-terminated buffer ("" if absent). */
static int j_b64(json_object *o, const char *name, char **out, size_t *len)
{
	json_object *f;

	if (!json_object_object_get_ex(o, name, &f)) {
		*out = strdup("");
		*len = 0;
		return *out ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(f, json_type_string))
		return -EPROTO;
	if (nf_etcd_b64_decode(json_object_get_string(f),
			       (size_t)json_object_get_string_len(f), out, len) < 0)
		return -EPROTO;
	return 0;
}

static void kv_free(struct nf_etcd_kv *kv)
{
	free(kv->key);
	free(kv->val);
	kv->key = kv->val = NULL;
}

static int kv_parse(json_object *o, struct nf_etcd_kv *kv)
{
	size_t klen;
	int rc;

	memset(kv, 0, sizeof(*kv));
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	if ((rc = j_b64(o, "key", &kv->key, &klen)) < 0 ||
	    (rc = j_b64(o, "value", &kv->val, &kv->len)) < 0 ||
	    (rc = j_i64(o, "create_revision", &kv->create_rev)) < 0 ||
	    (rc = j_i64(o, "mod_revision", &kv->mod_rev)) < 0 ||
	    (rc = j_i64(o, "version", &kv->version)) < 0 ||
	    (rc = j_i64(o, "lease", &kv->lease)) < 0)
		goto fail;
	return 0;
fail:
	kv_free(kv);
	return rc;
}

static int header_rev(json_object *o, int64_t *rev)
{
	json_object *h;

	*rev = 0;
	if (!json_object_object_get_ex(o, "header", &h))
		return 0;
	return j_i64(h, "revision", rev);
}

static int parse_range(json_object *o, struct nf_etcd_kvs *out)
{
	json_object *arr;
	size_t i, n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	if ((rc = header_rev(o, &out->rev)) < 0)
		return rc;
	if (!json_object_object_get_ex(o, "kvs", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return -EPROTO;
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	out->kv = calloc(n, sizeof(*out->kv));
	if (out->kv == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = kv_parse(json_object_array_get_idx(arr, i), &out->kv[i]);
		if (rc < 0)
			goto fail;
		out->n++;
	}
	return 0;
fail:
	nf_etcd_kvs_free(out);
	return rc;
}

int nf_etcd_parse_range(const char *json, size_t len, struct nf_etcd_kvs *out)
{
	json_tokener *tok;
	json_object *o;
	int rc;

	memset(out, 0, sizeof(*out));
	tok = json_tokener_new();
	if (tok == NULL)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	rc = o && json_tokener_get_parse_end(tok) == len ? parse_range(o, out) : -EPROTO;
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

void nf_etcd_kvs_free(struct nf_etcd_kvs *kvs)
{
	size_t i;

	for (i = 0; i < kvs->n; i++)
		kv_free(&kvs->kv[i]);
	free(kvs->kv);
	kvs->kv = NULL;
	kvs->n = 0;
}

/* Add "key" and, for a prefix, "range_end" (the key with its last byte
 * that is not 0xff incremented: etcd's convention; "\0" means every key
 * when the prefix is empty or all 0xff). */
static int add_range(json_object *o, const char *key, bool prefix)
{
	size_t len = strlen(key);
	char *k64, *e64, *end;

	k64 = nf_etcd_b64_encode(key, len);
	if (k64 == NULL)
		return -ENOMEM;
	json_object_object_add(o, "key", json_object_new_string(k64));
	free(k64);
	if (!prefix)
		return 0;
	end = strdup(key);
	if (end == NULL)
		return -ENOMEM;
	while (len > 0 && (uint8_t)end[len - 1] == 0xff)
		len--;
	if (len > 0)
		end[len - 1]++;
	e64 = len > 0 ? nf_etcd_b64_encode(end, len) : strdup("AA==");
	free(end);
	if (e64 == NULL)
		return -ENOMEM;
	json_object_object_add(o, "range_end", json_object_new_string(e64));
	free(e64);
	return 0;
}

static json_object *j_str_i64(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

/* ---- endpoints and requests ---- */

/* "http://HOST[:PORT]" (or https), no path, no user, no blanks. */
static bool ep_valid(const char *s)
{
	const char *h, *p, *c;

	if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else
		return false;
	if (*h == '\0' || *h == ':')
		return false;
	for (c = h; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '/' || *c == '@' || *c == '?' || *c == '#')
			return false;
	if (*h == '[') {			/* [v6]:port */
		p = strchr(h, ']');
		if (p == NULL || p == h + 1)
			return false;
		p++;
		if (*p == '\0')
			return true;
		if (*p != ':')
			return false;
	} else {
		p = strchr(h, ':');
		if (p == NULL)
			return true;
	}
	uint64_t port;
	return nf_parse_u64(p + 1, 1, 65535, 0, &port) == 0;
}

static int ep_split(const char *list, char **ep, size_t *n)
{
	char *copy, *tok, *save = NULL;
	int rc = -EINVAL;

	*n = 0;
	if (list == NULL || *list == '\0' || list[strlen(list) - 1] == ',' || *list == ',' ||
	    strstr(list, ",,") != NULL) {
		nf_set_error("empty endpoint in '%s'", list ? list : "(null)");
		return -EINVAL;
	}
	copy = strdup(list);
	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!ep_valid(tok)) {
			nf_set_error("bad endpoint '%s': want http://HOST:PORT", tok);
			goto fail;
		}
		if (*n == ETCD_MAX_EP) {
			nf_set_error("more than %d endpoints", ETCD_MAX_EP);
			goto fail;
		}
		ep[*n] = strdup(tok);
		if (ep[*n] == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		(*n)++;
	}
	free(copy);
	return 0;
fail:
	while (*n > 0)
		free(ep[--*n]);
	free(copy);
	return rc;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int nf_etcd_open(const char *endpoints, unsigned timeout_ms, struct nf_etcd **out)
{
	struct nf_etcd *e;
	int rc;

	if (timeout_ms == 0) {
		nf_set_error("etcd timeout must be > 0 ms");
		return -EINVAL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	rc = ep_split(endpoints, e->ep, &e->n_ep);
	if (rc < 0)
		goto fail;
	e->timeout_ms = timeout_ms;
	rc = -ENOMEM;
	e->curl = curl_easy_init();
	e->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (e->curl == NULL || e->hdrs == NULL)
		goto fail;
	*out = e;
	return 0;
fail:
	nf_etcd_close(e);
	return rc;
}

void nf_etcd_close(struct nf_etcd *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n_ep; i++)
		free(e->ep[i]);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->hdrs);
	free(e);
}

struct buf {
	char *p;
	size_t len, cap;
};

static size_t buf_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	size_t n = sz * nm;

	if (b->len + n + 1 > b->cap) {
		size_t cap = NF_MAX(b->cap * 2, b->len + n + 1);
		char *p;

		if (cap > ETCD_MAX_RESP)
			return 0;	/* aborts the transfer */
		p = realloc(b->p, cap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* The errno for a gateway error answer {"error": ..., "code": N}. */
static int grpc_errno(json_object *o)
{
	int64_t code = 0;
	json_object *m;

	j_i64(o, "code", &code);
	if (json_object_object_get_ex(o, "message", &m))
		nf_set_error("etcd: %s", json_object_get_string(m));
	switch (code) {
	case GRPC_NOT_FOUND:
		return -ENOENT;
	case GRPC_OUT_OF_RANGE:
		return -ESTALE;
	case GRPC_INVALID_ARGUMENT:
	case GRPC_FAILED_PRECOND:
		return -EINVAL;
	default:
		return -EPROTO;
	}
}

/* POST @body to @path on the endpoints in turn, from the one that last
 * answered. Connection errors, timeouts and 5xx move on to the next one.
 * *resp: the parsed answer (2xx only). 0, -EIO, -EPROTO, or the errno
 * of the gateway's error answer. */
static int request(struct nf_etcd *e, const char *path, json_object *body, bool write,
		   json_object **resp)
{
	const char *js = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	struct buf b = { 0 };
	char url[512];
	CURLcode cc;
	long code;
	size_t i;
	int rc = -EIO;

	*resp = NULL;
	e->st.requests++;
	if (write)
		e->st.writes++;
	for (i = 0; i < e->n_ep; i++) {
		size_t ep = (e->cur + i) % e->n_ep;

		if (i > 0)
			e->st.failovers++;
		snprintf(url, sizeof(url), "%s%s", e->ep[ep], path);
		b.len = 0;
		curl_easy_reset(e->curl);
		curl_easy_setopt(e->curl, CURLOPT_URL, url);
		curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->hdrs);
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, js);
		curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
		curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, buf_write);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(e->curl);
		if (cc == CURLE_WRITE_ERROR) {
			nf_set_error("etcd %s: answer over %u bytes or out of memory",
				     e->ep[ep], ETCD_MAX_RESP);
			rc = -EPROTO;
			goto out;
		}
		if (cc != CURLE_OK) {
			nf_set_error("etcd %s: %s", e->ep[ep], curl_easy_strerror(cc));
			continue;
		}
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 500) {
			nf_set_error("etcd %s: HTTP %ld", e->ep[ep], code);
			continue;
		}
		e->cur = ep;
		*resp = b.len ? json_tokener_parse(b.p) : NULL;
		if (*resp == NULL) {
			nf_set_error("etcd %s%s: HTTP %ld, not JSON", e->ep[ep], path, code);
			rc = -EPROTO;
		} else if (code != 200) {
			rc = grpc_errno(*resp);
			json_object_put(*resp);
			*resp = NULL;
		} else {
			rc = 0;
		}
		goto out;
	}
	{
		char last[256];

		nf_strlcpy(last, nf_last_error(), sizeof(last));
		nf_set_error("no etcd endpoint answered (last: %s)", last);
	}
out:
	free(b.p);
	return rc;
}

int nf_etcd_get(struct nf_etcd *e, const char *key, bool prefix, struct nf_etcd_kvs *out)
{
	json_object *body = json_object_new_object(), *resp = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (body == NULL)
		return -ENOMEM;
	rc = add_range(body, key, prefix);
	if (rc == 0)
		rc = request(e, "/v3/kv/range", body, false, &resp);
	if (rc == 0)
		rc = parse_range(resp, out);
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

static json_object *put_op(const char *key, const void *val, size_t len, int64_t lease)
{
	json_object *o = json_object_new_object();
	char *k64 = nf_etcd_b64_encode(key, strlen(key));
	char *v64 = nf_etcd_b64_encode(val, len);

	if (o == NULL || k64 == NULL || v64 == NULL) {
		json_object_put(o);
		o = NULL;
		goto out;
	}
	json_object_object_add(o, "key", json_object_new_string(k64));
	json_object_object_add(o, "value", json_object_new_string(v64));
	if (lease)
		json_object_object_add(o, "lease", j_str_i64(lease));
out:
	free(k64);
	free(v64);
	return o;
}

int nf_etcd_put(struct nf_etcd *e, const char *key, const void *val, size_t len,
		int64_t lease, int64_t *rev)
{
	json_object *body = put_op(key, val, len, lease), *resp = NULL;
	int64_t r = 0;
	int rc;

	if (body == NULL)
		return -ENOMEM;
	rc = request(e, "/v3/kv/put", body, true, &resp);
	if (rc == 0)
		rc = header_rev(resp, &r);
	if (rc == 0 && rev)
		*rev = r;
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_put_if(struct nf_etcd *e, const char *key, const void *val, size_t len,
		   int64_t mod_rev, int64_t lease)
{
	json_object *body = json_object_new_object(), *cmp, *cmps, *op, *ops, *resp = NULL;
	json_object *ok;
	char *k64 = nf_etcd_b64_encode(key, strlen(key));
	int rc = -ENOMEM;

	op = put_op(key, val, len, lease);
	cmp = json_object_new_object();
	if (body == NULL || k64 == NULL || op == NULL || cmp == NULL) {
		json_object_put(op);
		json_object_put(cmp);
		goto out;
	}
	/* mod_rev 0: "does not exist yet", i.e. its create revision is 0 */
	json_object_object_add(cmp, "key", json_object_new_string(k64));
	json_object_object_add(cmp, "target", json_object_new_string(mod_rev ? "MOD" : "CREATE"));
	json_object_object_add(cmp, mod_rev ? "mod_revision" : "create_revision",
			       j_str_i64(mod_rev));
	json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
	cmps = json_object_new_array();
	json_object_array_add(cmps, cmp);
	json_object_object_add(body, "compare", cmps);
	ops = json_object_new_array();
	json_object *req = json_object_new_object();
	json_object_object_add(req, "request_put", op);
	json_object_array_add(ops, req);
	json_object_object_add(body, "success", ops);
	rc = request(e, "/v3/kv/txn", body, true, &resp);
	if (rc == 0 && !(json_object_object_get_ex(resp, "succeeded", &ok) &&
			 json_object_get_boolean(ok)))
		rc = -ECANCELED;
out:
	free(k64);
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_put_many(struct nf_etcd *e, const char *const *keys, const char *const *vals,
		     size_t n)
{
	json_object *body, *ops, *resp = NULL;
	size_t i;
	int rc;

	if (n == 0 || n > NF_ETCD_TXN_MAX)
		return -EINVAL;
	body = json_object_new_object();
	ops = json_object_new_array();
	if (body == NULL || ops == NULL) {
		json_object_put(body);
		json_object_put(ops);
		return -ENOMEM;
	}
	json_object_object_add(body, "success", ops);
	for (i = 0; i < n; i++) {
		json_object *req = json_object_new_object();
		json_object *op = put_op(keys[i], vals[i], strlen(vals[i]), 0);

		if (req == NULL || op == NULL) {
			json_object_put(req);
			json_object_put(op);
			json_object_put(body);
			return -ENOMEM;
		}
		json_object_object_add(req, "request_put", op);
		json_object_array_add(ops, req);
	}
	/* no compare: the success branch always runs, as one revision */
	rc = request(e, "/v3/kv/txn", body, true, &resp);
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_del(struct nf_etcd *e, const char *key, bool prefix, int64_t *n)
{
	json_object *body = json_object_new_object(), *resp = NULL;
	int64_t d = 0;
	int rc;

	if (body == NULL)
		return -ENOMEM;
	rc = add_range(body, key, prefix);
	if (rc == 0)
		rc = request(e, "/v3/kv/deleterange", body, true, &resp);
	if (rc == 0)
		rc = j_i64(resp, "deleted", &d);
	if (rc == 0 && n)
		*n = d;
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_lease_grant(struct nf_etcd *e, unsigned ttl_s, int64_t *id)
{
	json_object *body = json_object_new_object(), *resp = NULL;
	int rc;

	if (body == NULL)
		return -ENOMEM;
	if (ttl_s == 0) {
		json_object_put(body);
		nf_set_error("a lease's TTL must be > 0 s");
		return -EINVAL;
	}
	json_object_object_add(body, "TTL", j_str_i64(ttl_s));
	rc = request(e, "/v3/lease/grant", body, true, &resp);
	if (rc == 0)
		rc = j_i64(resp, "ID", id);
	if (rc == 0 && *id == 0)
		rc = -EPROTO;
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_lease_keepalive(struct nf_etcd *e, int64_t id)
{
	json_object *body = json_object_new_object(), *resp = NULL, *res;
	int64_t ttl = 0;
	int rc;

	if (body == NULL)
		return -ENOMEM;
	json_object_object_add(body, "ID", j_str_i64(id));
	/* a stream in gRPC; one answer {"result": {...}} over HTTP */
	rc = request(e, "/v3/lease/keepalive", body, false, &resp);
	if (rc == 0) {
		if (json_object_object_get_ex(resp, "result", &res))
			rc = j_i64(res, "TTL", &ttl);
		else
			rc = grpc_errno(resp);
	}
	/* the TTL left is absent (0) once the lease has expired */
	if (rc == 0 && ttl <= 0) {
		nf_set_error("lease %lld has expired", (long long)id);
		rc = -ENOENT;
	}
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int nf_etcd_lease_revoke(struct nf_etcd *e, int64_t id)
{
	json_object *body = json_object_new_object(), *resp = NULL;
	int rc;

	if (body == NULL)
		return -ENOMEM;
	json_object_object_add(body, "ID", j_str_i64(id));
	rc = request(e, "/v3/lease/revoke", body, true, &resp);
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

void nf_etcd_stats(const struct nf_etcd *e, struct nf_etcd_stats *st)
{
	*st = e->st;
}

/* ---- watch ---- */

struct nf_etcd_watch {
	char *ep[ETCD_MAX_EP];
	size_t n_ep, cur;
	unsigned timeout_ms;
	char *create_body;		/* built per (re)connect: start_revision moves */
	char *key64, *end64;
	int64_t next_rev;		/* the revision to resume from (0: now) */
	int efd;
	pthread_t thr;
	CURLM *multi;
	atomic_bool stop;
	json_tokener *tok;
	bool stream_bad;		/* this connection's stream must be dropped */
	bool got_data;			/* this connection has answered */

	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct nf_etcd_event *q;	/* under mu */
	size_t qn, qcap;
	int err;			/* -ESTALE once compacted */
	int state;			/* 0 connecting, 1 created, -1 first round failed */
	uint64_t reconnects;
};

void nf_etcd_events_free(struct nf_etcd_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kv_free(&ev[i].kv);
	free(ev);
}

static void set_state(struct nf_etcd_watch *w, int state)
{
	pthread_mutex_lock(&w->mu);
	if (w->state == 0)
		w->state = state;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

static void wake(struct nf_etcd_watch *w)
{
	uint64_t one = 1;

	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow at our rates; nothing to do */
	}
}

/* One {"result": {...}} of the stream. */
static int watch_result(struct nf_etcd_watch *w, json_object *o)
{
	json_object *res, *f, *evs;
	int64_t rev, crev, first;
	size_t i, n;
	int rc;

	if (!json_object_object_get_ex(o, "result", &res))
		return -EPROTO;		/* {"error": ...}: drop, reconnect */
	if ((rc = j_i64(res, "compact_revision", &crev)) < 0)
		return rc;
	if (crev > 0) {
		pthread_mutex_lock(&w->mu);
		w->err = -ESTALE;
		pthread_mutex_unlock(&w->mu);
		set_state(w, 1);
		wake(w);
		return -ESTALE;
	}
	if (json_object_object_get_ex(res, "canceled", &f) && json_object_get_boolean(f))
		return -EPROTO;		/* e.g. the member lost its leader */
	if (json_object_object_get_ex(res, "created", &f) && json_object_get_boolean(f)) {
		/* "from now" means from the revision after this answer's
		 * (from a past revision, its history follows) */
		if (w->next_rev == 0 && header_rev(res, &rev) == 0)
			w->next_rev = rev + 1;
		set_state(w, 1);
		return 0;
	}
	if (!json_object_object_get_ex(res, "events", &evs)) {
		/* a progress notice (sent only once the history is caught
		 * up): every event up to its revision was sent, so a stream
		 * resumed later need not go back before it (nor hit the
		 * compaction of revisions we did not care for) */
		if (header_rev(res, &rev) == 0 && rev + 1 > w->next_rev)
			w->next_rev = rev + 1;
		return 0;
	}
	if (!json_object_is_type(evs, json_type_array))
		return -EPROTO;
	n = json_object_array_length(evs);
	pthread_mutex_lock(&w->mu);
	first = w->next_rev;
	if (w->qn + n > w->qcap) {
		size_t cap = NF_MAX(w->qcap * 2, w->qn + n + 16);
		struct nf_etcd_event *q = realloc(w->q, cap * sizeof(*q));

		if (q == NULL) {
			pthread_mutex_unlock(&w->mu);
			return -ENOMEM;
		}
		w->q = q;
		w->qcap = cap;
	}
	for (i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(evs, i), *kv;
		struct nf_etcd_event *q = &w->q[w->qn];

		if (!json_object_object_get_ex(ev, "kv", &kv) || kv_parse(kv, &q->kv) < 0) {
			rc = -EPROTO;
			break;
		}
		/* resumed streams start at next_rev: never one we have seen.
		 * One revision can hold several events (a transaction, a
		 * lease's keys expiring): next_rev moves after the batch. */
		if (q->kv.mod_rev < first) {
			kv_free(&q->kv);
			continue;
		}
		q->type = json_object_object_get_ex(ev, "type", &f) &&
			  strcmp(json_object_get_string(f), "DELETE") == 0 ?
			  NF_ETCD_DELETE : NF_ETCD_PUT;
		if (q->kv.mod_rev + 1 > w->next_rev)
			w->next_rev = q->kv.mod_rev + 1;
		w->qn++;
	}
	pthread_mutex_unlock(&w->mu);
	if (n > 0)
		wake(w);
	return rc;
}

static size_t watch_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct nf_etcd_watch *w = arg;
	size_t n = sz * nm, off = 0;
	json_object *o;

	if (w->stream_bad)
		return 0;
	w->got_data = true;
	while (off < n) {
		o = json_tokener_parse_ex(w->tok, data + off, (int)(n - off));
		if (o == NULL) {
			if (json_tokener_get_error(w->tok) == json_tokener_continue)
				return n;	/* the object goes on in the next chunk */
			w->stream_bad = true;
			return 0;
		}
		off += json_tokener_get_parse_end(w->tok);
		json_tokener_reset(w->tok);
		if (watch_result(w, o) < 0)
			w->stream_bad = true;
		json_object_put(o);
		if (w->stream_bad)
			return 0;
	}
	return n;
}

/* Dead peers (a member cut off by the network, not killed) must not hold
 * the stream forever: TCP keepalive after 2 s idle, 3 probes 1 s apart. */
static int watch_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int on = 1, idle = 2, intvl = 1, cnt = 3;

	(void)arg;
	(void)purpose;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

static int watch_body(struct nf_etcd_watch *w)
{
	json_object *o = json_object_new_object(), *c = json_object_new_object();

	if (o == NULL || c == NULL) {
		json_object_put(o);
		json_object_put(c);
		return -ENOMEM;
	}
	json_object_object_add(c, "key", json_object_new_string(w->key64));
	json_object_object_add(c, "range_end", json_object_new_string(w->end64));
	if (w->next_rev)
		json_object_object_add(c, "start_revision", j_str_i64(w->next_rev));
	json_object_object_add(c, "progress_notify", json_object_new_boolean(true));
	json_object_object_add(o, "create_request", c);
	free(w->create_body);
	w->create_body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return w->create_body ? 0 : -ENOMEM;
}

/* One connection to the current endpoint, until it breaks or we stop.
 * true if it got as far as an answer (the stream was up). */
static bool watch_once(struct nf_etcd_watch *w, struct curl_slist *hdrs)
{
	char url[512];
	CURL *c;
	uint64_t deadline;
	long code = 0;
	int running = 1;

	if (watch_body(w) < 0)
		return false;
	c = curl_easy_init();
	if (c == NULL)
		return false;
	snprintf(url, sizeof(url), "%s/v3/watch", w->ep[w->cur]);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->create_body);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, watch_sockopt);
	json_tokener_reset(w->tok);
	w->stream_bad = w->got_data = false;
	curl_multi_add_handle(w->multi, c);
	/* a member that takes the connection but never answers (hung, or
	 * a listener that is not etcd) is given up after the timeout */
	deadline = nf_now_ns() + (uint64_t)w->timeout_ms * 1000000;
	while (running && !atomic_load(&w->stop)) {
		if (curl_multi_perform(w->multi, &running) != CURLM_OK)
			break;
		if (!w->got_data && nf_now_ns() > deadline)
			break;
		if (running)
			curl_multi_poll(w->multi, NULL, 0, 100, NULL);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(w->multi, c);
	curl_easy_cleanup(c);
	return code == 200;
}

static void backoff(struct nf_etcd_watch *w, unsigned ms)
{
	unsigned i;

	for (i = 0; i < ms / 10 && !atomic_load(&w->stop); i++)
		usleep(10000);
}

static void *watch_thread(void *arg)
{
	struct nf_etcd_watch *w = arg;
	struct curl_slist *hdrs;
	unsigned delay = 0, fails = 0;

	/* the member must have a leader, or it would hold a silent stream */
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = hdrs ? curl_slist_append(hdrs, "Grpc-Metadata-hasleader: true") : NULL;
	while (hdrs && !atomic_load(&w->stop)) {
		bool up = watch_once(w, hdrs);

		if (atomic_load(&w->stop))
			break;
		pthread_mutex_lock(&w->mu);
		bool stale = w->err != 0;
		pthread_mutex_unlock(&w->mu);
		if (stale)
			break;
		/* the stream broke: the next member, from next_rev */
		if (up) {
			fails = 0;
			delay = 0;
		} else if (++fails == w->n_ep) {
			set_state(w, -1);	/* watch_start reports -EIO */
		}
		w->cur = (w->cur + 1) % w->n_ep;
		pthread_mutex_lock(&w->mu);
		w->reconnects++;
		pthread_mutex_unlock(&w->mu);
		/* a round of failures: wait a little longer each time; a
		 * stream that was up but broke (a member without a leader
		 * cancels at once) is retried after a short pause */
		if (fails >= w->n_ep)
			delay = NF_MIN(delay ? delay * 2 : 50, ETCD_BACKOFF_MAX_MS);
		backoff(w, fails >= w->n_ep ? delay : 20);
	}
	if (hdrs == NULL)
		set_state(w, -1);
	curl_slist_free_all(hdrs);
	return NULL;
}

static void watch_free(struct nf_etcd_watch *w)
{
	size_t i;

	for (i = 0; i < w->n_ep; i++)
		free(w->ep[i]);
	free(w->create_body);
	free(w->key64);
	free(w->end64);
	if (w->efd >= 0)
		close(w->efd);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	if (w->tok)
		json_tokener_free(w->tok);
	nf_etcd_events_free(w->q, w->qn);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
	free(w);
}

int nf_etcd_watch_start(struct nf_etcd *e, const char *prefix, int64_t start_rev,
			struct nf_etcd_watch **out)
{
	struct nf_etcd_watch *w;
	json_object *r;
	int rc = -ENOMEM, state;

	if (start_rev < 0)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->efd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (w->n_ep = 0; w->n_ep < e->n_ep; w->n_ep++)
		if ((w->ep[w->n_ep] = strdup(e->ep[w->n_ep])) == NULL)
			goto fail;
	w->cur = e->cur;
	w->timeout_ms = e->timeout_ms;
	w->next_rev = start_rev;
	r = json_object_new_object();
	if (r == NULL || add_range(r, prefix, true) < 0) {
		json_object_put(r);
		goto fail;
	}
	w->key64 = strdup(json_object_get_string(json_object_object_get(r, "key")));
	w->end64 = strdup(json_object_get_string(json_object_object_get(r, "range_end")));
	json_object_put(r);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->multi = curl_multi_init();
	w->tok = json_tokener_new();
	if (w->key64 == NULL || w->end64 == NULL || w->multi == NULL || w->tok == NULL ||
	    w->efd < 0)
		goto fail;
	rc = -pthread_create(&w->thr, NULL, watch_thread, w);
	if (rc < 0)
		goto fail;
	/* wait for the stream to be up: events after this call are seen */
	pthread_mutex_lock(&w->mu);
	while (w->state == 0)
		pthread_cond_wait(&w->cond, &w->mu);
	state = w->state;
	pthread_mutex_unlock(&w->mu);
	if (state < 0) {
		nf_set_error("watch: no etcd endpoint answered");
		nf_etcd_watch_stop(w);
		return -EIO;
	}
	*out = w;
	return 0;
fail:
	watch_free(w);
	return rc;
}

int nf_etcd_watch_fd(const struct nf_etcd_watch *w)
{
	return w->efd;
}

int nf_etcd_watch_read(struct nf_etcd_watch *w, struct nf_etcd_event **ev, size_t *n)
{
	uint64_t cnt;
	int rc = 0;

	*ev = NULL;
	*n = 0;
	pthread_mutex_lock(&w->mu);
	if (w->qn > 0) {
		*ev = w->q;
		*n = w->qn;
		w->q = NULL;
		w->qn = w->qcap = 0;
	} else {
		rc = w->err;
	}
	/* stays readable while stale: the caller must see it */
	if (w->err == 0 && read(w->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing was signalled */
	}
	pthread_mutex_unlock(&w->mu);
	if (rc == -ESTALE)
		nf_set_error("watch: etcd compacted past the revision to resume from");
	return rc;
}

uint64_t nf_etcd_watch_reconnects(const struct nf_etcd_watch *w)
{
	uint64_t n;

	pthread_mutex_lock((pthread_mutex_t *)&w->mu);
	n = w->reconnects;
	pthread_mutex_unlock((pthread_mutex_t *)&w->mu);
	return n;
}

void nf_etcd_watch_stop(struct nf_etcd_watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stop, true);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thr, NULL);
	watch_free(w);
}
