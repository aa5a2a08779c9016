/* cfg: the configuration table of a daemon: environment, file, defaults (see cfg.h). */
#include "common/cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/banned.h"

#define CFG_FILE_MAX (1024 * 1024)
#define CFG_LINE_MAX 4096
#define CFG_SHOW_MAX 64 /* a value quoted in a message is cut after this many bytes */

struct cfg {
	const struct cfg_opt *opts;
	size_t n;
	char **vals;     /* every value as text (owned) */
	long long *ints; /* CFG_INT */
	bool *bools;     /* CFG_BOOL */
};

/* A value given in the file: a copy, and the line it came from. */
struct cfg_fileval {
	char *val;
	int line;
};

static void cfg_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cfg_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A value as it may appear in a message: control characters replaced, cut after a limit. */
static void cfg_show(const char *v, char out[CFG_SHOW_MAX + 4])
{
	size_t i;

	for (i = 0; v[i] && i < CFG_SHOW_MAX; i++)
		out[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	if (v[i]) {
		while (i > 0 && ((unsigned char)v[i] & 0xC0) == 0x80)
			i--; /* do not split a UTF-8 sequence before "..." */
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static const char *cfg_type_name(enum cfg_type t)
{
	switch (t) {
	case CFG_STR:
		return "string";
	case CFG_INT:
		return "int";
	case CFG_BOOL:
		return "bool";
	case CFG_SECRET:
		return "secret";
	}
	return "?";
}

static int cfg_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -E_CONFIG;
}

/* Checks one value against its option; on success stores the typed value at index i. */
static int cfg_check(struct cfg *c, size_t i, const char *v, char *err, size_t errlen)
{
	const struct cfg_opt *o = &c->opts[i];
	char show[CFG_SHOW_MAX + 4];
	size_t len = strlen(v);
	long long n;
	char *end;

	if (len == 0 && (o->flags & CFG_REQUIRED)) {
		cfg_errf(err, errlen, "%s: required, no default", o->name);
		return -E_CONFIG;
	}
	switch (o->type) {
	case CFG_STR:
	case CFG_SECRET:
		if (len == 0)
			return 0; /* optional and not given */
		if ((o->type == CFG_SECRET || o->max > 0) && o->min > 0 &&
		    len < (unsigned long long)o->min) {
			cfg_errf(err, errlen, "%s: must be at least %lld characters", o->name,
			         o->min);
			return -E_CONFIG;
		}
		if (o->max > 0 && len > (unsigned long long)o->max) {
			cfg_errf(err, errlen, "%s: must be at most %lld characters", o->name,
			         o->max);
			return -E_CONFIG;
		}
		return 0;
	case CFG_INT:
		cfg_show(v, show);
		errno = 0;
		n = strtoll(v, &end, 10);
		if (len == 0 || !((v[0] >= '0' && v[0] <= '9') || v[0] == '-' || v[0] == '+') ||
		    end == v || *end != '\0') {
			cfg_errf(err, errlen, "%s: \"%s\" is not an integer", o->name, show);
			return -E_CONFIG;
		}
		if (errno == ERANGE) {
			cfg_errf(err, errlen, "%s: %s is out of range", o->name, show);
			return -E_CONFIG;
		}
		if (o->min != 0 || o->max != 0) {
			if (n < o->min) {
				cfg_errf(err, errlen, "%s: %lld is below the minimum %lld", o->name,
				         n, o->min);
				return -E_CONFIG;
			}
			if (n > o->max) {
				cfg_errf(err, errlen, "%s: %lld is above the maximum %lld", o->name,
				         n, o->max);
				return -E_CONFIG;
			}
		}
		c->ints[i] = n;
		return 0;
	case CFG_BOOL:
		if (cfg_parse_bool(v, &c->bools[i]) != 0) {
			cfg_show(v, show);
			cfg_errf(err, errlen,
			         "%s: \"%s\" is not a boolean (true/false/1/0/yes/no/on/off)",
			         o->name, show);
			return -E_CONFIG;
		}
		return 0;
	}
	cfg_errf(err, errlen, "%s: unknown option type", o->name);
	return -E_CONFIG;
}

static char *cfg_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

static long cfg_find(const struct cfg_opt *opts, size_t nopts, const char *name)
{
	for (size_t i = 0; i < nopts; i++) {
		if (strcmp(opts[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * Reads PV_NAME=value lines into fv (indexed like opts). Blank lines and lines starting with
 * '#' are skipped; spaces around the name and value are trimmed and one pair of matching
 * quotes around the value is removed. Names not starting with PV_ are ignored (the file may
 * be shared, e.g. a systemd EnvironmentFile); an unknown PV_ name or a repeated one is an
 * error.
 */
static int cfg_read_file(const char *file, const struct cfg_opt *opts, size_t nopts,
                         struct cfg_fileval *fv, char *err, size_t errlen)
{
	char line[CFG_LINE_MAX + 2];
	FILE *f = NULL;
	size_t total = 0;
	int lineno = 0, rc = 0;

	f = fopen(file, "re");
	if (!f) {
		cfg_errf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
		return -E_CONFIG;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *name, *val, *eq;
		long idx;

		lineno++;
		total += len;
		if (total > CFG_FILE_MAX) {
			cfg_errf(err, errlen, "%s: larger than %d bytes", file, CFG_FILE_MAX);
			rc = -E_CONFIG;
			goto out;
		}
		if (len > CFG_LINE_MAX && line[len - 1] != '\n') {
			cfg_errf(err, errlen, "line %d of %s: longer than %d bytes", lineno, file,
			         CFG_LINE_MAX);
			rc = -E_CONFIG;
			goto out;
		}
		name = cfg_trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			cfg_errf(err, errlen, "line %d of %s: expected PV_NAME=value", lineno,
			         file);
			rc = -E_CONFIG;
			goto out;
		}
		*eq = '\0';
		name = cfg_trim(name);
		val = cfg_trim(eq + 1);
		len = strlen(val);
		if (len >= 2 && (val[0] == '"' || val[0] == '\'') && val[len - 1] == val[0]) {
			val[len - 1] = '\0';
			val++;
		}
		if (strncmp(name, "PV_", 3) != 0)
			continue;
		idx = cfg_find(opts, nopts, name);
		if (idx < 0) {
			cfg_errf(err, errlen, "%s (line %d of %s): unknown option", name, lineno,
			         file);
			rc = -E_CONFIG;
			goto out;
		}
		if (fv[idx].val) {
			cfg_errf(err, errlen, "%s (line %d of %s): already set on line %d", name,
			         lineno, file, fv[idx].line);
			rc = -E_CONFIG;
			goto out;
		}
		fv[idx].val = strdup(val);
		if (!fv[idx].val) {
			cfg_errf(err, errlen, "%s: out of memory", file);
			rc = -E_NOMEM;
			goto out;
		}
		fv[idx].line = lineno;
	}
	if (ferror(f)) {
		cfg_errf(err, errlen, "%s: read error", file);
		rc = -E_CONFIG;
	}
out:
	fclose(f);
	return rc;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	if (c->vals) {
		for (size_t i = 0; i < c->n; i++) {
			if (c->vals[i] && c->opts[i].type == CFG_SECRET)
				explicit_bzero(c->vals[i], strlen(c->vals[i]));
			free(c->vals[i]);
		}
	}
	free(c->vals);
	free(c->ints);
	free(c->bools);
	free(c);
}

int cfg_load(struct cfg **out, const struct cfg_opt *opts, size_t nopts, const char *file,
             char *err, size_t errlen)
{
	struct cfg_fileval *fv = NULL;
	struct cfg *c = NULL;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	fv = calloc(nopts ? nopts : 1, sizeof(*fv));
	if (!c || !fv)
		goto nomem;
	c->opts = opts;
	c->n = nopts;
	c->vals = calloc(nopts ? nopts : 1, sizeof(*c->vals));
	c->ints = calloc(nopts ? nopts : 1, sizeof(*c->ints));
	c->bools = calloc(nopts ? nopts : 1, sizeof(*c->bools));
	if (!c->vals || !c->ints || !c->bools)
		goto nomem;

	if (file) {
		rc = cfg_read_file(file, opts, nopts, fv, err, errlen);
		if (rc)
			goto out;
	}
	/* An empty value counts as not given: environment, then file, then default. */
	for (size_t i = 0; i < nopts; i++) {
		const char *v = getenv(opts[i].name);

		if (!v || !*v)
			v = fv[i].val;
		if (!v || !*v)
			v = opts[i].def;
		if (!v)
			v = "";
		c->vals[i] = strdup(v);
		if (!c->vals[i])
			goto nomem;
		rc = cfg_check(c, i, c->vals[i], err, errlen);
		if (rc)
			goto out;
	}
	*out = c;
	c = NULL;
	goto out;
nomem:
	cfg_errf(err, errlen, "configuration: out of memory");
	rc = -E_NOMEM;
out:
	if (fv) {
		for (size_t i = 0; i < nopts; i++) {
			if (fv[i].val)
				explicit_bzero(fv[i].val, strlen(fv[i].val));
			free(fv[i].val);
		}
	}
	free(fv);
	cfg_free(c);
	return rc;
}

/* Unknown names and type mismatches are programming errors: fail loudly at once. */
static size_t cfg_index(const struct cfg *c, const char *name, enum cfg_type t1, enum cfg_type t2)
{
	long i = c ? cfg_find(c->opts, c->n, name) : -1;

	if (i < 0 || (c->opts[i].type != t1 && c->opts[i].type != t2)) {
		fprintf(stderr, "cfg: %s is not a declared option of this type\n", name);
		abort();
	}
	return (size_t)i;
}

const char *cfg_str(const struct cfg *c, const char *name)
{
	return c->vals[cfg_index(c, name, CFG_STR, CFG_SECRET)];
}

long long cfg_int(const struct cfg *c, const char *name)
{
	return c->ints[cfg_index(c, name, CFG_INT, CFG_INT)];
}

bool cfg_bool(const struct cfg *c, const char *name)
{
	return c->bools[cfg_index(c, name, CFG_BOOL, CFG_BOOL)];
}

void cfg_print_help(FILE *f, const char *usage, const struct cfg_opt *opts, size_t nopts)
{
	int wname = 4, wdef = 10; /* "(required)" */

	for (size_t i = 0; i < nopts; i++) {
		const char *d = opts[i].def;
		int n = (int)strlen(opts[i].name);

		if (n > wname)
			wname = n;
		if (opts[i].type != CFG_SECRET && d && *d && (int)strlen(d) > wdef)
			wdef = (int)strlen(d);
	}
	fprintf(f, "%s\n", usage ? usage : "");
	for (size_t i = 0; i < nopts; i++) {
		const struct cfg_opt *o = &opts[i];
		const char *d = o->def;

		if (o->type == CFG_SECRET)
			d = "(secret)";
		else if ((!d || !*d) && (o->flags & CFG_REQUIRED))
			d = "(required)";
		else if (!d || !*d)
			d = "(empty)";
		fprintf(f, "  %-*s  %-6s  %-*s  %s\n", wname, o->name, cfg_type_name(o->type), wdef,
		        d, o->help ? o->help : "");
	}
}

void cfg_dump(FILE *f, const struct cfg *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct cfg_opt *o = &c->opts[i];

		fprintf(f, "%s=%s\n", o->name, o->type == CFG_SECRET ? "****" : c->vals[i]);
	}
}
