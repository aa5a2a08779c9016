/*
 * Unit test runner: every Check suite of tests/unit/<dir>/<module>_test.c (collected by
 * tools/suites.sh) in one SRunner, so the run ends with one Check summary line.
 *
 *   unit-tests              all suites
 *   CK_RUN_SUITE=buf unit-tests, CK_RUN_CASE=...   Check's own filters
 *
 * When PV_CHECK_COUNTS names a file, "<run> <failed>" is written there for the final tally.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/lib/runner.h"

extern Suite *(*const test_suites[])(void);

int main(void)
{
	return runner_run_all(test_suites);
}
