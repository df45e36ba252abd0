/* nf_util.h - small helpers shared by every nfchain module.
 *
 * Strict number parsing (OpenBSD strtonum style: range-checked, no trailing
 * garbage), a per-thread "last error" sentence for callers that print one
 * clear line, the monotonic clock and a token bucket.
 */
#ifndef NF_UTIL_H
#define NF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#define NF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define nf_likely(x)   __builtin_expect(!!(x), 1)
#define nf_unlikely(x) __builtin_expect(!!(x), 0)
#define NF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NF_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Parse an unsigned decimal (or 0x hex) number into *out.
 * Accepts the suffixes k, M, G (x1000) when @si is non-zero.
 * Returns 0, or -EINVAL (not a number, trailing characters, empty)
 * or -ERANGE (outside [min, max]); *out is unchanged on failure. */
int nf_parse_u64(const char *s, uint64_t min, uint64_t max, int si,
		 uint64_t *out);

/* Parse a duration: "10" (seconds), "250ms", "2s", "1m". Into nanoseconds.
 * Returns 0, -EINVAL or -ERANGE (above @max_ns). */
int nf_parse_duration(const char *s, uint64_t max_ns, uint64_t *out_ns);

/* Parse "aa:bb:cc:dd:ee:ff" into 6 bytes. Returns 0 or -EINVAL. */
int nf_parse_mac(const char *s, uint8_t mac[6]);

/* Record a one-sentence description of the last failure of this thread.
 * Library calls that return -errno set it so that main() can print
 * "nfswitch: <sentence>" instead of a bare strerror(). */
void nf_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last sentence, or "" when none was recorded. */
const char *nf_last_error(void);
/* Forget the last sentence. */
void nf_clear_error(void);

/* Monotonic time in nanoseconds (vDSO, no system call). */
static inline uint64_t nf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A token bucket (ICMP error rate limits): @rate tokens a second, at most
 * @burst. Takes one at @now_ns if there is one. */
struct nf_tbucket {
	double tokens;
	uint64_t last_ns;
};

static inline bool nf_tbucket_take(struct nf_tbucket *b, uint64_t now_ns, uint32_t rate,
				   uint32_t burst)
{
	double t = b->tokens + (double)(now_ns - b->last_ns) / 1e9 * (double)rate;

	b->last_ns = now_ns;
	b->tokens = t < (double)burst ? t : (double)burst;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/* Create the directories leading to @path (not @path itself), mode 0755.
 * Returns 0 or -errno. */
int nf_mkdir_parent(const char *path);

/* Copy a NUL-terminated string into dst of size n, always terminating.
 * Returns the length of src (truncation when >= n). */
size_t nf_strlcpy(char *dst, const char *src, size_t n);

/* Copy a frame of @len bytes with 32-byte moves, never touching a byte
 * outside [0, len) of either buffer: the last move overlaps the previous
 * one instead of rounding up (a frame may end exactly at the end of a
 * peer's region). Short frames (< 32 bytes) use memcpy. */
static inline void nf_copy32(uint8_t *dst, const uint8_t *src)
{
#ifdef __AVX__
	/* gcc 12 would expand a 32-byte memcpy into two 16-byte moves */
	_mm256_storeu_si256((__m256i *)(void *)dst,
			    _mm256_loadu_si256((const __m256i *)(const void *)src));
#else
	__builtin_memcpy(dst, src, 32);
#endif
}

/* 32 bytes in a register (one ymm, or two xmm without AVX): a header
 * loaded once and stored for each frame of a burst. */
#ifdef __AVX__
typedef __m256i nf_v32;
static inline nf_v32 nf_load32(const uint8_t *src)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)src);
}
static inline void nf_store32(uint8_t *dst, nf_v32 v)
{
	_mm256_storeu_si256((__m256i *)(void *)dst, v);
}
#else
/* two SSE2 registers (a 32-byte vector type would change the ABI) */
typedef long long nf_v16_ __attribute__((vector_size(16)));
typedef struct {
	nf_v16_ a, b;
} nf_v32;
static inline nf_v32 nf_load32(const uint8_t *src)
{
	nf_v32 v;

	__builtin_memcpy(&v.a, src, 16);
	__builtin_memcpy(&v.b, src + 16, 16);
	return v;
}
static inline void nf_store32(uint8_t *dst, nf_v32 v)
{
	__builtin_memcpy(dst, &v.a, 16);
	__builtin_memcpy(dst + 16, &v.b, 16);
}
#endif

static inline void nf_copy_frame(uint8_t *dst, const uint8_t *src, uint32_t len)
{
	uint32_t i;

	if (__builtin_expect(len - 32 <= 32, 1)) {	/* 32..64: two moves */
		nf_copy32(dst, src);
		nf_copy32(dst + len - 32, src + len - 32);
		return;
	}
	if (len - 65 < 128) {		/* 65..192: four or six moves, no loop */
		nf_copy32(dst, src);
		nf_copy32(dst + 32, src + 32);
		if (len > 128) {
			nf_copy32(dst + 64, src + 64);
			nf_copy32(dst + 96, src + 96);
		}
		nf_copy32(dst + len - 64, src + len - 64);
		nf_copy32(dst + len - 32, src + len - 32);
		return;
	}
	if (len < 32) {
		__builtin_memcpy(dst, src, len);
		return;
	}
	for (i = 0; i + 32 < len; i += 32)
		nf_copy32(dst + i, src + i);
	nf_copy32(dst + len - 32, src + len - 32);
}

#endif
