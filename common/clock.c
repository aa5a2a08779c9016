/* clock: the injectable "now" and the shop's time zone (see clock.h). */
#include "common/clock.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/banned.h"

#define CLOCK_ZONE_MAX 64

static _Atomic int_least64_t clock_fixed_ms;
static _Atomic int_least64_t clock_offset_ms;
static char clock_zone_name[CLOCK_ZONE_MAX];

static int64_t clock_read_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Floor division, so that times before 1970 fall into the right second and day. */
static int64_t clock_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t clock_now_ms(void)
{
	int64_t fixed = atomic_load(&clock_fixed_ms);

	if (fixed)
		return fixed;
	return clock_read_ms(CLOCK_REALTIME) + atomic_load(&clock_offset_ms);
}

time_t clock_now(void)
{
	return (time_t)clock_floor_div(clock_now_ms(), 1000);
}

int64_t clock_mono_ms(void)
{
	return clock_read_ms(CLOCK_MONOTONIC);
}

void clock_set_fixed(int64_t unix_ms)
{
	atomic_store(&clock_fixed_ms, unix_ms);
}

void clock_set_offset(int64_t ms)
{
	atomic_store(&clock_offset_ms, ms);
}

/* A zone name is a relative path below the zoneinfo directory, e.g. "Asia/Seoul", "UTC". */
static int clock_zone_name_ok(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n >= CLOCK_ZONE_MAX || tz[0] == '/' || strstr(tz, ".."))
		return 0;
	for (const char *p = tz; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return 0;
	}
	return 1;
}

/* 1 when dir/tz is a compiled zone file (TZif magic), so "zone.tab" and typos are refused. */
static int clock_zone_file_ok(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	int fd, n, ok;

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	     memcmp(magic, "TZif", sizeof(magic)) == 0;
	close(fd);
	return ok;
}

int clock_set_zone(const char *tz)
{
	if (!tz || !clock_zone_name_ok(tz) || !clock_zone_file_ok(tz))
		return -E_CONFIG;
	if (setenv("TZ", tz, 1) != 0)
		return -E_NOMEM;
	tzset();
	snprintf(clock_zone_name, sizeof(clock_zone_name), "%s", tz);
	return 0;
}

const char *clock_zone(void)
{
	return clock_zone_name;
}

int clock_format_ts(time_t t, char out[CLOCK_TS_LEN])
{
	char tmp[64];
	struct tm tm;
	long off, aoff;
	int n;

	if (!localtime_r(&t, &tm))
		return -E_INTERNAL_ERROR;
	off = tm.tm_gmtoff;
	aoff = off < 0 ? -off : off;
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	             off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
	if (n < 0 || n >= CLOCK_TS_LEN)
		return -E_TOO_LONG;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

int clock_format_utc_ms(int64_t unix_ms, char out[CLOCK_TS_LEN])
{
	int64_t secs = clock_floor_div(unix_ms, 1000);
	int ms = (int)(unix_ms - secs * 1000);
	time_t t = (time_t)secs;
	char tmp[64];
	struct tm tm;
	int n;

	if (!gmtime_r(&t, &tm))
		return -E_INTERNAL_ERROR;
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	if (n < 0 || n >= CLOCK_TS_LEN)
		return -E_TOO_LONG;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

int32_t clock_local_day(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return (int32_t)clock_floor_div((int64_t)t, 86400);
	return clock_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
	                             (unsigned)tm.tm_mday);
}

int32_t clock_today(void)
{
	return clock_local_day(clock_now());
}

int clock_format_day(int32_t day, char out[CLOCK_DATE_LEN])
{
	char tmp[32];
	unsigned m, d;
	int y, n;

	clock_civil_from_days(day, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -E_TOO_LONG;
	n = snprintf(tmp, sizeof(tmp), "%04d-%02u-%02u", y, m, d);
	if (n < 0 || n >= CLOCK_DATE_LEN)
		return -E_TOO_LONG;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

static int clock_is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned clock_month_days(int y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && clock_is_leap(y) ? 29 : days[m - 1];
}

static int clock_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int clock_parse_day(const char *s, int32_t *out)
{
	int y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -E_INVALID_PARAMETER_TYPE;
	y = clock_digits(s, 4);
	m = clock_digits(s + 5, 2);
	d = clock_digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || (unsigned)d > clock_month_days(y, (unsigned)m))
		return -E_INVALID_PARAMETER_TYPE;
	*out = clock_days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

/* Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms": days_from_civil. */
int32_t clock_days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400; /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? (int64_t)m - 3 : (int64_t)m + 9) + 2) / 5 + (int64_t)d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */

	return (int32_t)(era * 146097 + doe - 719468);
}

/* Howard Hinnant's civil_from_days. */
void clock_civil_from_days(int32_t day, int *y, unsigned *m, unsigned *d)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int64_t dd = doy - (153 * mp + 2) / 5 + 1;                           /* [1, 31] */
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;                              /* [1, 12] */

	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (unsigned)mm;
	*d = (unsigned)dd;
}
