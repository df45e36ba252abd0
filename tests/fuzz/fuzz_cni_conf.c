/* fuzz_cni_conf.c - libFuzzer target: the network configuration
 * nfchain-cni reads on stdin (src/nfchain-cni/conf.c, json-c).
 *
 * The input is the configuration's text (cut at 64 KiB). A refusal must
 * carry one of the codes the parser gives (1 version, 2 unknown key,
 * 6 not JSON, 7 bad value) and a one-line sentence; an accepted
 * configuration must hold what cni.h promises (a supported version, names
 * of the allowed bytes, absolute socket paths without blanks or commas
 * that fit sun_path, 1 or 2 distinct port names, id_min <= id_max <=
 * 65535, an IPAM type when IPAM is on). Any violation abort()s.
 *
 *   make fuzz-build && build/fuzz/fuzz_cni_conf tests/fuzz/corpus/cni_conf
 *   seeds: python3 tests/fuzz/make_cni_conf_corpus.py
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "cni.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXIN	(64u * 1024)

static int path_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n >= CNI_PATH_MAX || s[0] != '/')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == ',' || *s == 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_conf c;
	struct cni_err e = { 0 };
	unsigned i;

	if (size > MAXIN)
		size = MAXIN;
	if (cni_conf_parse((const char *)data, size, &c, &e) < 0) {
		CHECK(e.code == CNI_E_VERSION || e.code == CNI_E_FIELD ||
		      e.code == CNI_E_DECODE || e.code == CNI_E_CONFIG);
		CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
		CHECK(c.ver >= -1 && c.ver < CNI_VERSIONS);
		cni_conf_free(&c);
		return 0;
	}
	CHECK(e.code == 0);
	CHECK(c.ver >= 0 && c.ver < CNI_VERSIONS);
	CHECK(cni_name_ok(c.name, CNI_NAME_MAX - 1) && cni_name_ok(c.type, CNI_NAME_MAX - 1));
	CHECK(path_ok(c.switch_ctl) && path_ok(c.memif_socket));
	CHECK(c.state_dir[0] == '/' && strlen(c.state_dir) <= 200);
	CHECK(c.port_file_dir[0] == '\0' || (c.port_file_dir[0] == '/' && strlen(c.port_file_dir) <= 200));
	CHECK(c.nports >= 1 && c.nports <= CNI_PORTS_MAX);
	for (i = 0; i < c.nports; i++)
		CHECK(cni_name_ok(c.port[i], sizeof(c.port[i]) - 1));
	CHECK(c.nports == 1 || strcmp(c.port[0], c.port[1]) != 0);
	CHECK(c.id_min <= c.id_max && c.id_max <= 65535);
	CHECK(c.ipam == NULL || cni_name_ok(c.ipam_type, CNI_NAME_MAX - 1));
	CHECK(c.prev == NULL || json_object_is_type(c.prev, json_type_object));
	CHECK(c.dns == NULL || json_object_is_type(c.dns, json_type_object));
	cni_conf_free(&c);
	return 0;
}
