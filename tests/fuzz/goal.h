/* SPDX-License-Identifier: ISC */
/*
 * What a harness's stored corpus must reach.  A harness whose success path
 * no random input gets to (a signature that verifies, an attestation that
 * chains to the roots) counts the inputs that got there and defines
 * fuzz_goal(); the replay runner (replay.c) then fails when no stored
 * input reached one of its goals, so the corpus keeps carrying the fuzzer
 * down that path.  Harnesses without goals do not define it.
 */
#ifndef TAPGATE_FUZZ_GOAL_H
#define TAPGATE_FUZZ_GOAL_H

#include <stddef.h>

/*
 * Goal number i: its name (letters, digits, '_') into *name and how many
 * inputs reached it into *hits; 0, or -1 past the last goal.
 */
int	fuzz_goal(size_t i, const char **name, unsigned long *hits);

#endif /* TAPGATE_FUZZ_GOAL_H */
