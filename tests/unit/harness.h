/* harness.h - the unit-test harness (Redis testhelp style).
 *
 *   NF_TEST("what is checked", condition);
 *   ...
 *   return nf_test_report();
 *
 * Every check prints "ok - what" or "not ok - what (file:line)"; tests/run
 * counts those lines over all tests and prints "N passed, N failed".
 */
#ifndef NF_TEST_HARNESS_H
#define NF_TEST_HARNESS_H

#include <stdio.h>

static int nf_test_passed, nf_test_failed;

#define NF_TEST(descr, cond) do {					\
	if (cond) {							\
		nf_test_passed++;					\
		printf("ok - %s\n", descr);				\
	} else {							\
		nf_test_failed++;					\
		printf("not ok - %s (%s:%d)\n", descr, __FILE__, __LINE__); \
	}								\
	fflush(stdout);							\
} while (0)

static inline int nf_test_report(void)
{
	fprintf(stderr, "%d passed, %d failed\n", nf_test_passed,
		nf_test_failed);
	return nf_test_failed ? 1 : 0;
}

#endif
