/* SPDX-License-Identifier: ISC */
/*
 * Minimal test harness: each TEST prints "ok NAME" or "not ok NAME" with the
 * failing expression; tests/run.sh counts the lines.  A test function returns
 * on the first failed CHECK.
 */
#ifndef TAPGATE_TEST_TAP_H
#define TAPGATE_TEST_TAP_H

#include <stdio.h>
#include <stdlib.h>

static int tap_failed;		/* failures in the current test */
static int tap_total_failed;	/* failures in this program */

#define CHECK(expr) do {						\
	if (!(expr)) {							\
		printf("#   %s:%d: CHECK(%s) failed\n", __FILE__,	\
		    __LINE__, #expr);					\
		tap_failed++;						\
		return;							\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);	\
	if (tap_a_ != tap_b_) {						\
		printf("#   %s:%d: %s == %lld, expected %s == %lld\n",	\
		    __FILE__, __LINE__, #a, tap_a_, #b, tap_b_);	\
		tap_failed++;						\
		return;							\
	}								\
} while (0)

#define RUN(fn) do {							\
	tap_failed = 0;							\
	fn();								\
	printf("%s %s\n", tap_failed ? "not ok" : "ok", #fn);		\
	fflush(stdout);							\
	tap_total_failed += tap_failed != 0;				\
} while (0)

#define TAP_EXIT() return tap_total_failed ? 1 : 0

#endif /* TAPGATE_TEST_TAP_H */
