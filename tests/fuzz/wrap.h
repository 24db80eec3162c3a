/* SPDX-License-Identifier: ISC */
/*
 * Failure injection for the fuzz harnesses (tests/fuzz/wrap.c).  The
 * harnesses are linked with -Wl,--wrap=SYMBOL for the allocators and a set
 * of OpenSSL, sqlite, jansson, libcbor and libfido2 calls, so that every
 * call to them from tapgate's code goes through a wrapper.  While a harness
 * has started injection (wrap_start), on the calling thread only, a wrapper
 * may fail on purpose and return what that function documents for a
 * failure; otherwise, and always on other threads, it calls the real one.
 *
 * The schedule is a pure function of a 32-bit seed the harness takes from
 * its input, so a failure the fuzzer finds replays exactly:
 *
 *	0			no failures (what a seed-less input does)
 *	bit 31 clear		each call fails with probability 1/P, where
 *				P = 2 << (bits 24-26) (1/2 .. 1/256), from a
 *				generator seeded with the seed
 *	bits 31,30 = 10		only call number N fails (N = bits 0-23,
 *				counting wrapped calls from 0)
 *	bits 31,30 = 11		every call from number N on fails
 */
#ifndef TAPGATE_FUZZ_WRAP_H
#define TAPGATE_FUZZ_WRAP_H

#include <stddef.h>
#include <stdint.h>

#define WRAP_SEED_LEN	4	/* seed bytes at the front of an input */

/*
 * Take the seed (WRAP_SEED_LEN bytes, big endian) from the front of the
 * input, advancing *datap and *lenp.  -1 when the input is too short.
 */
int	wrap_take_seed(const uint8_t **datap, size_t *lenp, uint32_t *seedp);

/* Start injecting failures on this thread on the seed's schedule. */
void	wrap_start(uint32_t seed);

/* Stop injecting: every wrapped call from now on is the real one. */
void	wrap_stop(void);

/* Inject again, going on with the schedule where wrap_stop() left it. */
void	wrap_resume(void);

/* Failures injected since the last wrap_start(). */
unsigned long	wrap_injected(void);

#endif /* TAPGATE_FUZZ_WRAP_H */
