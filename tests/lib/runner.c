/* runner: see runner.h. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/runner.h"

int runner_run_all(Suite *(*const suites[])(void))
{
	SRunner *sr = NULL;
	int nrun, nfail;
	const char *counts;

	for (size_t i = 0; suites[i]; i++) {
		Suite *s = suites[i]();
		if (!sr)
			sr = srunner_create(s);
		else
			srunner_add_suite(sr, s);
	}
	if (!sr) {
		printf("0 passed, 0 failed\n");
		return 0;
	}
	srunner_run_all(sr, CK_ENV);
	nrun = srunner_ntests_run(sr);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);

	counts = getenv("PV_CHECK_COUNTS");
	if (counts && *counts) {
		FILE *f = fopen(counts, "w");
		if (f) {
			fprintf(f, "%d %d\n", nrun, nfail);
			fclose(f);
		}
	}
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
