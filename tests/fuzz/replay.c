/* SPDX-License-Identifier: ISC */
/*
 * Replay runner: feeds every file of a corpus directory to a libFuzzer
 * harness's LLVMFuzzerTestOneInput, so gcc builds (without -fsanitize=fuzzer)
 * run the stored corpora under ASan and UBSan too; then checks that the
 * corpus reached each of the harness's goals (goal.h), if it has any.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* defined by the harnesses that have goals (goal.h) */
int	fuzz_goal(size_t, const char **, unsigned long *)
	    __attribute__((weak));

#define REPLAY_MAX	(1024 * 1024)

int
main(int argc, char **argv)
{
	static uint8_t buf[REPLAY_MAX];
	struct dirent **ents;
	const char *goal;
	unsigned long hits;
	char path[4096];
	int i, n, ran = 0, bad = 0, missed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	if ((n = scandir(argv[1], &ents, NULL, alphasort)) < 0) {
		printf("not ok replay_%s (cannot read corpus)\n", argv[1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		FILE *f;
		size_t len;

		if (ents[i]->d_name[0] == '.' || snprintf(path, sizeof(path),
		    "%s/%s", argv[1], ents[i]->d_name) >= (int)sizeof(path) ||
		    (f = fopen(path, "rb")) == NULL) {
			free(ents[i]);
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		if (ferror(f) || !feof(f)) {
			printf("# %s: unreadable or over %d bytes\n", path,
			    REPLAY_MAX);
			bad++;
		} else {
			LLVMFuzzerTestOneInput(buf, len);
			ran++;
		}
		fclose(f);
		free(ents[i]);
	}
	free(ents);
	if (ran == 0 || bad != 0) {
		printf("not ok replay_corpus (%d inputs run, %d unreadable)\n",
		    ran, bad);
		return 1;
	}
	printf("ok replay_corpus_%d_inputs_without_a_crash\n", ran);
	for (size_t g = 0; fuzz_goal != NULL &&
	    fuzz_goal(g, &goal, &hits) == 0; g++) {
		if (hits == 0) {
			printf("not ok replay_corpus_reaches_%s (no stored "
			    "input does)\n", goal);
			missed++;
		} else
			printf("ok replay_corpus_reaches_%s\n# %lu inputs "
			    "reach %s\n", goal, hits, goal);
	}
	return missed == 0 ? 0 : 1;
}
