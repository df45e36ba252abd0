/* test_etcd.c - nf_etcd without a server: base64 against RFC 4648's
 * vectors and a round trip of every length and byte, refused encodings,
 * the parsing of a /v3/kv/range answer (int64 as strings, absent fields,
 * binary values) and of broken ones, bad endpoint lists. */
#include "harness.h"
#include "nf_etcd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_b64_vectors(void)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
					   "Zm9vYmE=", "Zm9vYmFy" };
	size_t i, len;
	int good_enc = 1, good_dec = 1;
	char *s, *d;

	for (i = 0; i < 7; i++) {
		s = nf_etcd_b64_encode(in[i], strlen(in[i]));
		good_enc &= s != NULL && strcmp(s, out[i]) == 0;
		free(s);
		if (nf_etcd_b64_decode(out[i], strlen(out[i]), &d, &len) < 0) {
			good_dec = 0;
			continue;
		}
		good_dec &= len == strlen(in[i]) && memcmp(d, in[i], len) == 0 && d[len] == '\0';
		free(d);
	}
	NF_TEST("base64 encodes RFC 4648's test vectors", good_enc);
	NF_TEST("base64 decodes them, NUL-terminated", good_dec);
}

static void test_b64_roundtrip(void)
{
	unsigned char buf[300];
	size_t n, i, len;
	int good = 1;
	char *s, *d;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= sizeof(buf); n++) {
		s = nf_etcd_b64_encode(buf, n);
		if (s == NULL || strlen(s) != (n + 2) / 3 * 4 ||
		    nf_etcd_b64_decode(s, strlen(s), &d, &len) < 0) {
			good = 0;
			free(s);
			continue;
		}
		good &= len == n && memcmp(d, buf, n) == 0;
		free(d);
		free(s);
	}
	NF_TEST("base64 round trip of every length 0..300, every byte value", good);
}

static void test_b64_bad(void)
{
	static const char *const bad[] = { "Zg=", "Z===", "Zm9v!", "Zm9$", "Zg==Zg==", "=Zg=",
					   "Zm 9" };
	size_t i, len;
	int refused = 0;
	char *d;

	for (i = 0; i < 7; i++) {
		if (nf_etcd_b64_decode(bad[i], strlen(bad[i]), &d, &len) == -EINVAL)
			refused++;
		else
			free(d);
	}
	NF_TEST("base64: bad lengths, characters and padding are -EINVAL (7 of 7)", refused == 7);
}

static void test_range(void)
{
	/* as etcd 3.4.23 answers: int64 as strings, zero fields absent */
	static const char ans[] =
		"{\"header\":{\"cluster_id\":\"4797426761079657239\",\"member_id\":\"35307\","
		"\"revision\":\"12\",\"raft_term\":\"2\"},\"kvs\":["
		"{\"key\":\"YS8x\",\"create_revision\":\"4\",\"mod_revision\":\"9\","
		"\"version\":\"3\",\"value\":\"eAB5/w==\",\"lease\":\"7587862072083\"},"
		"{\"key\":\"YS8y\",\"create_revision\":\"10\",\"mod_revision\":\"10\","
		"\"version\":\"1\"}],\"count\":\"2\"}";
	struct nf_etcd_kvs kvs;
	struct nf_etcd_kv *a, *b;

	NF_TEST("a range answer parses", nf_etcd_parse_range(ans, strlen(ans), &kvs) == 0);
	NF_TEST("... the store's revision (a string) is 12", kvs.rev == 12);
	NF_TEST("... 2 kvs", kvs.n == 2);
	if (kvs.n != 2)
		return;
	a = &kvs.kv[0];
	b = &kvs.kv[1];
	NF_TEST("... key 'a/1', value x NUL y 0xff (4 bytes)",
		strcmp(a->key, "a/1") == 0 && a->len == 4 && memcmp(a->val, "x\0y\xff", 4) == 0);
	NF_TEST("... create 4, mod 9, version 3, lease 7587862072083",
		a->create_rev == 4 && a->mod_rev == 9 && a->version == 3 &&
		a->lease == 7587862072083);
	NF_TEST("... an absent value is empty, an absent lease 0",
		strcmp(b->key, "a/2") == 0 && b->len == 0 && b->val[0] == '\0' && b->lease == 0);
	nf_etcd_kvs_free(&kvs);
	NF_TEST("free empties the set", kvs.n == 0 && kvs.kv == NULL);

	static const char empty[] = "{\"header\":{\"revision\":\"5\"}}";
	NF_TEST("an answer without kvs: 0 kvs, revision 5",
		nf_etcd_parse_range(empty, strlen(empty), &kvs) == 0 && kvs.n == 0 && kvs.rev == 5);
}

static void test_range_bad(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"{\"kvs\":{}}",
		"{\"kvs\":[1]}",
		"{\"kvs\":[{\"key\":\"%%%%\"}]}",
		"{\"kvs\":[{\"key\":\"YQ==\",\"mod_revision\":\"12x\"}]}",
		"{\"kvs\":[{\"key\":\"YQ==\",\"version\":true}]}",
		"{\"header\":{\"revision\":\"99999999999999999999\"}}",
		"{\"header\":{}} trailing",
		"{\"kvs\":[{\"key\":\"YQ==\"},{\"key\":7}]}",
	};
	struct nf_etcd_kvs kvs;
	size_t i;
	int refused = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (nf_etcd_parse_range(bad[i], strlen(bad[i]), &kvs) == -EPROTO &&
		    kvs.n == 0 && kvs.kv == NULL)
			refused++;
		else
			nf_etcd_kvs_free(&kvs);
	}
	NF_TEST("broken range answers are -EPROTO, nothing left allocated (11 of 11)",
		refused == 11);
}

static void test_open(void)
{
	struct nf_etcd *e = NULL;
	struct nf_etcd_stats st;

	NF_TEST("open: two endpoints, one of them v6",
		nf_etcd_open("http://127.0.0.1:2379,http://[::1]:2379", 1000, &e) == 0);
	nf_etcd_stats(e, &st);
	NF_TEST("... no request yet", st.requests == 0 && st.writes == 0 && st.failovers == 0);
	nf_etcd_close(e);
	NF_TEST("open: a timeout of 0 is -EINVAL",
		nf_etcd_open("http://127.0.0.1:2379", 0, &e) == -EINVAL);
	NF_TEST("open: a NULL list is -EINVAL", nf_etcd_open(NULL, 1000, &e) == -EINVAL);
	NF_TEST("open: '[::1' is -EINVAL", nf_etcd_open("http://[::1:2379", 1000, &e) == -EINVAL);
	NF_TEST("open: 33 endpoints are -EINVAL", nf_etcd_open(
		"http://a,http://a,http://a,http://a,http://a,http://a,http://a,http://a,"
		"http://a,http://a,http://a,http://a,http://a,http://a,http://a,http://a,"
		"http://a,http://a,http://a,http://a,http://a,http://a,http://a,http://a,"
		"http://a,http://a,http://a,http://a,http://a,http://a,http://a,http://a,"
		"http://a", 1000, &e) == -EINVAL);
}

int main(void)
{
	test_b64_vectors();
	test_b64_roundtrip();
	test_b64_bad();
	test_range();
	test_range_bad();
	test_open();
	return nf_test_report();
}
