/* SPDX-License-Identifier: ISC */
/*
 * How every benchmark reports: one line per figure, with the baseline it
 * was measured against in the same run, the ratio, the goal, and plainly
 * whether the goal is met.  Benchmarks never fail on a goal: the figures
 * of a shared machine are for people to read, not for a test to assert.
 */
#ifndef TAPGATE_BENCH_H
#define TAPGATE_BENCH_H

#include <stdio.h>

enum bench_goal {
	BENCH_AT_LEAST,		/* the ratio should be goal or more */
	BENCH_AT_MOST,		/* the ratio should be goal or less */
	BENCH_NO_GOAL,		/* a figure to watch, no goal set */
};

/*
 * name: figure; baseline (same run): baseline; ratio R; goal >= G: met
 * The ratio is figure/baseline in the sense the goal states.
 */
static inline void
bench_line(const char *name, const char *figure, const char *baseline,
    double ratio, enum bench_goal kind, double goal)
{
	int met = kind == BENCH_AT_LEAST ? ratio >= goal : ratio <= goal;

	if (kind == BENCH_NO_GOAL) {
		printf("%s: %s; baseline (same run): %s; ratio %.3f; no goal "
		    "set\n", name, figure, baseline, ratio);
		return;
	}
	printf("%s: %s; baseline (same run): %s; ratio %.3f; goal %s %.2f: "
	    "%s\n", name, figure, baseline, ratio,
	    kind == BENCH_AT_LEAST ? ">=" : "<=", goal,
	    met ? "met" : "NOT MET");
}

/*
 * A figure whose goal is a difference from its baseline (latency above
 * the part's own time): name: figure; baseline (same run): baseline;
 * D unit; goal <= G: met
 */
static inline void
bench_line_diff(const char *name, const char *figure, const char *baseline,
    double diff, enum bench_goal kind, double goal, const char *unit)
{
	int met = kind == BENCH_AT_LEAST ? diff >= goal : diff <= goal;

	if (kind == BENCH_NO_GOAL) {
		printf("%s: %s; baseline (same run): %s; %.2f %s; no goal "
		    "set\n", name, figure, baseline, diff, unit);
		return;
	}
	printf("%s: %s; baseline (same run): %s; %.2f %s; goal %s %.2f: %s\n",
	    name, figure, baseline, diff, unit,
	    kind == BENCH_AT_LEAST ? ">=" : "<=", goal,
	    met ? "met" : "NOT MET");
}

/* A figure that has a goal of its own and no baseline (memory). */
static inline void
bench_line_abs(const char *name, const char *figure, double value,
    enum bench_goal kind, double goal, const char *unit)
{
	int met = kind == BENCH_AT_LEAST ? value >= goal : value <= goal;

	printf("%s: %s; goal %s %.1f %s: %s\n", name, figure,
	    kind == BENCH_AT_LEAST ? ">=" : "<=", goal, unit,
	    met ? "met" : "NOT MET");
}

#endif /* TAPGATE_BENCH_H */
