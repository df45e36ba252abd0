/* nf_util.c - strict parsing, last-error sentence, strings. */
#include "nf_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static __thread char nf_errbuf[256];

void nf_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nf_errbuf, sizeof(nf_errbuf), fmt, ap);
	va_end(ap);
}

const char *nf_last_error(void)
{
	return nf_errbuf;
}

void nf_clear_error(void)
{
	nf_errbuf[0] = '\0';
}

size_t nf_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n > 0) {
		size_t c = len < n - 1 ? len : n - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return len;
}

int nf_parse_u64(const char *s, uint64_t min, uint64_t max, int si,
		 uint64_t *out)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	if (si && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1000ull; end++; break;
		case 'M': case 'm': mul = 1000000ull; end++; break;
		case 'G': case 'g': mul = 1000000000ull; end++; break;
		default: break;
		}
	}
	if (*end != '\0')
		return -EINVAL;
	if (mul > 1 && v > UINT64_MAX / mul)
		return -ERANGE;
	v *= mul;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int nf_parse_duration(const char *s, uint64_t max_ns, uint64_t *out_ns)
{
	static const struct { const char *sfx; uint64_t ns; } units[] = {
		{ "ns", 1ull }, { "us", 1000ull }, { "ms", 1000000ull },
		{ "s", 1000000000ull }, { "m", 60000000000ull },
		{ "", 1000000000ull },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (i = 0; i < NF_ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].sfx) == 0) {
			if (v > max_ns / units[i].ns)
				return -ERANGE;
			*out_ns = v * units[i].ns;
			return 0;
		}
	}
	return -EINVAL;
}

int nf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int nf_mkdir_parent(const char *path)
{
	char dir[256], *s;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	s = strrchr(dir, '/');
	if (s == NULL || s == dir)
		return 0;
	*s = '\0';
	for (s = dir + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			if (mkdir(dir, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
