/* runner: the shared main of the Check test programs (unit and integration). */
#ifndef PV_TESTS_RUNNER_H
#define PV_TESTS_RUNNER_H

#include <check.h>

/* Runs every suite in one SRunner (CK_ENV verbosity, CK_RUN_SUITE/CK_RUN_CASE filters),
 * writes "<run> <failed>" to $PV_CHECK_COUNTS when set; returns the exit status. */
int runner_run_all(Suite *(*const suites[])(void));

#endif
