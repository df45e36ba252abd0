/* fuzz.h - what every libFuzzer target here shares. */
#ifndef NF_FUZZ_H
#define NF_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* An invariant of the code under test: a broken one abort()s, which
 * libFuzzer reports as a crash with the input that broke it. */
#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "fuzz harness: %s:%d: %s\n", __FILE__,	\
			__LINE__, #c);					\
		abort();						\
	}								\
} while (0)

#endif
