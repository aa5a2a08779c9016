/*
 * cfg: one configuration table per daemon.
 *
 * A daemon declares a const array of struct cfg_opt (name PV_*, type, default, help, range).
 * cfg_load reads, for each option, the environment first, then the --config file
 * (PV_NAME=value lines, '#' comments, blank lines; an unknown PV_ name in the file is an
 * error), then the default; it validates every value (type, range, required) and reports the
 * first problem as a one-line message naming the option. Secret options are masked in
 * cfg_dump. The struct cfg owns copies of every value.
 *
 * Thread-safe for reads after cfg_load.
 */
#ifndef PV_COMMON_CFG_H
#define PV_COMMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cfg_type {
	CFG_STR,    /* any string; min/max bound its length when max > 0 */
	CFG_INT,    /* decimal integer within [min, max] */
	CFG_BOOL,   /* true/false/1/0/yes/no/on/off */
	CFG_SECRET, /* string, masked in dumps and never logged; min = minimum length */
};

#define CFG_REQUIRED 0x1 /* no usable default: the daemon refuses to start without it */

struct cfg_opt {
	const char *name; /* "PV_API_PORT" */
	enum cfg_type type;
	const char *def; /* default as text; NULL = none (empty) */
	long long min, max;
	unsigned flags;
	const char *help; /* one line */
};

struct cfg;

/*
 * Loads the table. file may be NULL. On failure returns -E_CONFIG and writes a one-line
 * message into err (e.g. "PV_API_PORT: 70000 is above the maximum 65535").
 * On success *out is the caller's, freed with cfg_free.
 */
int cfg_load(struct cfg **out, const struct cfg_opt *opts, size_t nopts, const char *file,
             char *err, size_t errlen);
void cfg_free(struct cfg *c);

/* Lookups by name; an unknown name aborts (a programming error). Strings are borrowed. */
const char *cfg_str(const struct cfg *c, const char *name);
long long cfg_int(const struct cfg *c, const char *name);
bool cfg_bool(const struct cfg *c, const char *name);

/* --help text: usage line, then every option with type, default and help. */
void cfg_print_help(FILE *f, const char *usage, const struct cfg_opt *opts, size_t nopts);
/* Writes "NAME=value" lines with secrets masked ("****"). */
void cfg_dump(FILE *f, const struct cfg *c);

#endif
