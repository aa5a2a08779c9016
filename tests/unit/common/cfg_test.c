/* cfg_test: environment over file over defaults, validation messages, help and dump. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/banned.h"

#define SECRET32 "0123456789abcdef0123456789abcdef"

static const struct cfg_opt opts[] = {
    {"PV_API_PORT", CFG_INT, "8080", 1, 65535, 0, "HTTP port"},
    {"PV_JWT_ISSUER", CFG_STR, "pillivery", 3, 32, 0, "token issuer"},
    {"PV_DEBUG", CFG_BOOL, "false", 0, 0, 0, "verbose logging"},
    {"PV_JWT_SECRET", CFG_SECRET, NULL, 32, 0, CFG_REQUIRED, "HS256 signing key"},
    {"PV_REDIS_URL", CFG_STR, NULL, 0, 0, 0, "Redis URL"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static char cfg_path[64];
static char err[256];

static void cfg_setup(void)
{
	for (size_t i = 0; i < NOPTS; i++)
		unsetenv(opts[i].name);
	unsetenv("PV_FOO");
	cfg_path[0] = '\0';
	memset(err, 'x', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
}

static void cfg_teardown(void)
{
	if (cfg_path[0])
		unlink(cfg_path);
}

/* Writes text to a fresh temp file whose name is left in cfg_path. */
static const char *cfg_file(const char *text)
{
	int fd;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/pv-cfg-test-XXXXXX");
	fd = mkstemp(cfg_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return cfg_path;
}

/* Loads with the environment and file given and expects failure with exactly msg. */
static void cfg_expect_error(const char *file, const char *msg)
{
	struct cfg *c = NULL;

	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, file, err, sizeof(err)), -E_CONFIG);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, msg);
}

START_TEST(test_defaults)
{
	struct cfg *c = NULL;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(cfg_int(c, "PV_API_PORT"), 8080);
	ck_assert_str_eq(cfg_str(c, "PV_JWT_ISSUER"), "pillivery");
	ck_assert(!cfg_bool(c, "PV_DEBUG"));
	ck_assert_str_eq(cfg_str(c, "PV_JWT_SECRET"), SECRET32);
	ck_assert_str_eq(cfg_str(c, "PV_REDIS_URL"), "");
	cfg_free(c);
}
END_TEST

START_TEST(test_env_wins_over_file_over_default)
{
	struct cfg *c = NULL;
	const char *f = cfg_file("# pillivery\n"
	                         "\n"
	                         "PV_API_PORT=9000\n"
	                         "  PV_JWT_ISSUER = shop  \n"
	                         "PV_REDIS_URL=\"redis://127.0.0.1:6379/0\"\n"
	                         "PV_JWT_SECRET='" SECRET32 "'\r\n"
	                         "OTHER_TOOL_SETTING=ignored\n"
	                         "   # indented comment\n");

	setenv("PV_API_PORT", "9100", 1);
	setenv("PV_DEBUG", "yes", 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, f, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_int(c, "PV_API_PORT"), 9100);                        /* env */
	ck_assert_str_eq(cfg_str(c, "PV_JWT_ISSUER"), "shop");                    /* file */
	ck_assert_str_eq(cfg_str(c, "PV_REDIS_URL"), "redis://127.0.0.1:6379/0"); /* unquoted */
	ck_assert_str_eq(cfg_str(c, "PV_JWT_SECRET"), SECRET32);
	ck_assert(cfg_bool(c, "PV_DEBUG"));
	cfg_free(c);
}
END_TEST

START_TEST(test_empty_env_falls_back)
{
	struct cfg *c = NULL;
	const char *f = cfg_file("PV_API_PORT=9000\nPV_JWT_SECRET=" SECRET32 "\n");

	setenv("PV_API_PORT", "", 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, f, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_int(c, "PV_API_PORT"), 9000);
	cfg_free(c);
}
END_TEST

START_TEST(test_bool_spellings)
{
	static const char *const yes[] = {"true", "TRUE", "1", "yes", "Yes", "on", "ON"};
	static const char *const no[] = {"false", "False", "0", "no", "NO", "off", "Off"};
	struct cfg *c = NULL;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		setenv("PV_DEBUG", yes[i], 1);
		ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
		ck_assert_msg(cfg_bool(c, "PV_DEBUG"), "%s", yes[i]);
		cfg_free(c);
		setenv("PV_DEBUG", no[i], 1);
		ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
		ck_assert_msg(!cfg_bool(c, "PV_DEBUG"), "%s", no[i]);
		cfg_free(c);
	}
}
END_TEST

START_TEST(test_int_bounds_and_signs)
{
	struct cfg *c = NULL;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_API_PORT", "65535", 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_int(c, "PV_API_PORT"), 65535);
	cfg_free(c);
	setenv("PV_API_PORT", "+1", 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_int(c, "PV_API_PORT"), 1);
	cfg_free(c);
}
END_TEST

START_TEST(test_int_errors)
{
	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_API_PORT", "abc", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"abc\" is not an integer");
	setenv("PV_API_PORT", "80 80", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"80 80\" is not an integer");
	setenv("PV_API_PORT", "8080x", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"8080x\" is not an integer");
	setenv("PV_API_PORT", " 8080", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \" 8080\" is not an integer");
	setenv("PV_API_PORT", "0x50", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"0x50\" is not an integer");
	setenv("PV_API_PORT", "-", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"-\" is not an integer");
	setenv("PV_API_PORT", "80\n80", 1);
	cfg_expect_error(NULL, "PV_API_PORT: \"80?80\" is not an integer");
	setenv("PV_API_PORT", "70000", 1);
	cfg_expect_error(NULL, "PV_API_PORT: 70000 is above the maximum 65535");
	setenv("PV_API_PORT", "65536", 1);
	cfg_expect_error(NULL, "PV_API_PORT: 65536 is above the maximum 65535");
	setenv("PV_API_PORT", "0", 1);
	cfg_expect_error(NULL, "PV_API_PORT: 0 is below the minimum 1");
	setenv("PV_API_PORT", "-5", 1);
	cfg_expect_error(NULL, "PV_API_PORT: -5 is below the minimum 1");
	setenv("PV_API_PORT", "99999999999999999999", 1);
	cfg_expect_error(NULL, "PV_API_PORT: 99999999999999999999 is out of range");
}
END_TEST

START_TEST(test_long_value_is_cut_in_message)
{
	char v[200], expect[256];

	memset(v, '7', sizeof(v) - 2);
	v[sizeof(v) - 2] = 'z';
	v[sizeof(v) - 1] = '\0';
	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_API_PORT", v, 1);
	snprintf(expect, sizeof(expect), "PV_API_PORT: \"%.64s...\" is not an integer", v);
	cfg_expect_error(NULL, expect);
}
END_TEST

START_TEST(test_bool_error)
{
	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_DEBUG", "maybe", 1);
	cfg_expect_error(NULL,
	                 "PV_DEBUG: \"maybe\" is not a boolean (true/false/1/0/yes/no/on/off)");
}
END_TEST

START_TEST(test_required_missing)
{
	cfg_expect_error(NULL, "PV_JWT_SECRET: required, no default");
	setenv("PV_JWT_SECRET", "", 1);
	cfg_expect_error(NULL, "PV_JWT_SECRET: required, no default");
}
END_TEST

START_TEST(test_secret_too_short_is_not_shown)
{
	setenv("PV_JWT_SECRET", "short-secret-value", 1);
	cfg_expect_error(NULL, "PV_JWT_SECRET: must be at least 32 characters");
	ck_assert_ptr_null(strstr(err, "short-secret-value"));
	setenv("PV_JWT_SECRET", SECRET32 + 1, 1); /* 31 characters */
	cfg_expect_error(NULL, "PV_JWT_SECRET: must be at least 32 characters");
}
END_TEST

START_TEST(test_string_length_bounds)
{
	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_JWT_ISSUER", "ab", 1);
	cfg_expect_error(NULL, "PV_JWT_ISSUER: must be at least 3 characters");
	setenv("PV_JWT_ISSUER", "123456789012345678901234567890123", 1);
	cfg_expect_error(NULL, "PV_JWT_ISSUER: must be at most 32 characters");
}
END_TEST

START_TEST(test_file_unknown_option)
{
	const char *f = cfg_file("PV_API_PORT=9000\n# comment\nPV_FOO=1\n");
	char expect[160];

	setenv("PV_JWT_SECRET", SECRET32, 1);
	snprintf(expect, sizeof(expect), "PV_FOO (line 3 of %s): unknown option", f);
	cfg_expect_error(f, expect);
}
END_TEST

START_TEST(test_file_errors)
{
	char expect[160];
	const char *f;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	f = cfg_file("PV_API_PORT=9000\nPV_DEBUG\n");
	snprintf(expect, sizeof(expect), "line 2 of %s: expected PV_NAME=value", f);
	cfg_expect_error(f, expect);
	unlink(f);

	f = cfg_file("PV_API_PORT=9000\n\nPV_API_PORT=9001\n");
	snprintf(expect, sizeof(expect), "PV_API_PORT (line 3 of %s): already set on line 1", f);
	cfg_expect_error(f, expect);
	unlink(f);

	/* a bad value in the file is reported like one from the environment */
	f = cfg_file("PV_API_PORT=http\n");
	cfg_expect_error(f, "PV_API_PORT: \"http\" is not an integer");

	cfg_expect_error("/nonexistent/pv.conf",
	                 "/nonexistent/pv.conf: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_file_limits)
{
	char expect[160], *text;
	const char *f;
	size_t n = 5000;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	text = malloc(n + 32);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "# ok\nPV_JWT_ISSUER=", 19);
	memset(text + 19, 'i', n);
	memcpy(text + 19 + n, "\n", 2);
	f = cfg_file(text);
	snprintf(expect, sizeof(expect), "line 2 of %s: longer than 4096 bytes", f);
	cfg_expect_error(f, expect);
	unlink(f);
	free(text);

	/* 1 MiB of comment lines and then some */
	n = 1100 * 1024;
	text = malloc(n + 1);
	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i += 64) {
		memset(text + i, '#', 63);
		text[i + 63] = '\n';
	}
	text[n] = '\0';
	f = cfg_file(text);
	snprintf(expect, sizeof(expect), "%s: larger than 1048576 bytes", f);
	cfg_expect_error(f, expect);
	free(text);

	/* a directory opens but cannot be read */
	cfg_expect_error("/tmp", "/tmp: read error");
}
END_TEST

START_TEST(test_error_message_fits_small_buffer)
{
	struct cfg *c = NULL;
	char small[12];

	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, small, sizeof(small)), -E_CONFIG);
	ck_assert_str_eq(small, "PV_JWT_SECR");
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, NULL, 0), -E_CONFIG);
}
END_TEST

START_TEST(test_dump_masks_secrets)
{
	struct cfg *c = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	setenv("PV_REDIS_URL", "redis://r:6379", 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	cfg_dump(f, c);
	fclose(f);
	ck_assert_str_eq(text, "PV_API_PORT=8080\n"
	                       "PV_JWT_ISSUER=pillivery\n"
	                       "PV_DEBUG=false\n"
	                       "PV_JWT_SECRET=****\n"
	                       "PV_REDIS_URL=redis://r:6379\n");
	free(text);
	cfg_free(c);
}
END_TEST

START_TEST(test_print_help)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	cfg_print_help(f, "Usage: pillivery-api [--config FILE] [--help]", opts, NOPTS);
	fclose(f);
	ck_assert_str_eq(text, "Usage: pillivery-api [--config FILE] [--help]\n"
	                       "  PV_API_PORT    int     8080        HTTP port\n"
	                       "  PV_JWT_ISSUER  string  pillivery   token issuer\n"
	                       "  PV_DEBUG       bool    false       verbose logging\n"
	                       "  PV_JWT_SECRET  secret  (secret)    HS256 signing key\n"
	                       "  PV_REDIS_URL   string  (empty)     Redis URL\n");
	free(text);
}
END_TEST

START_TEST(test_help_marks_required)
{
	static const struct cfg_opt req[] = {
	    {"PV_DB_NAME", CFG_STR, NULL, 0, 0, CFG_REQUIRED, "database name"},
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	cfg_print_help(f, "usage", req, 1);
	fclose(f);
	ck_assert_str_eq(text, "usage\n  PV_DB_NAME  string  (required)  database name\n");
	free(text);
}
END_TEST

START_TEST(test_unknown_name_aborts)
{
	struct cfg *c = NULL;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr)); /* the expected complaint */
	cfg_int(c, "PV_NOT_DECLARED");
}
END_TEST

START_TEST(test_wrong_type_aborts)
{
	struct cfg *c = NULL;

	setenv("PV_JWT_SECRET", SECRET32, 1);
	ck_assert_int_eq(cfg_load(&c, opts, NOPTS, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	cfg_int(c, "PV_JWT_ISSUER");
}
END_TEST

Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");

	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_env_wins_over_file_over_default);
	tcase_add_test(tc, test_empty_env_falls_back);
	tcase_add_test(tc, test_bool_spellings);
	tcase_add_test(tc, test_int_bounds_and_signs);
	tcase_add_test(tc, test_int_errors);
	tcase_add_test(tc, test_long_value_is_cut_in_message);
	tcase_add_test(tc, test_bool_error);
	tcase_add_test(tc, test_required_missing);
	tcase_add_test(tc, test_secret_too_short_is_not_shown);
	tcase_add_test(tc, test_string_length_bounds);
	tcase_add_test(tc, test_file_unknown_option);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_file_limits);
	tcase_add_test(tc, test_error_message_fits_small_buffer);
	tcase_add_test(tc, test_dump_masks_secrets);
	tcase_add_test(tc, test_print_help);
	tcase_add_test(tc, test_help_marks_required);
	tcase_add_test_raise_signal(tc, test_unknown_name_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_wrong_type_aborts, SIGABRT);
	suite_add_tcase(s, tc);
	return s;
}
