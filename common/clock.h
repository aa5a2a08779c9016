/*
 * clock: the injectable "now" and the shop's time zone.
 *
 * Everything that asks for the time goes through clock_now_ms, so tests can pin or shift it
 * (clock_set_fixed, clock_set_offset). The zone (Asia/Seoul by default) is set once at start
 * with clock_set_zone, before threads start (it sets TZ and calls tzset); timestamps are then
 * formatted as ISO-8601 with the zone's offset, and "today" is the local date.
 *
 * Thread-safe after the setup calls (the fake settings are atomics).
 */
#ifndef PV_COMMON_CLOCK_H
#define PV_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_TS_LEN   32 /* "2026-01-05T13:45:10+09:00" + NUL, with room */
#define CLOCK_DATE_LEN 11 /* "2026-01-05" + NUL */

int64_t clock_now_ms(void);            /* Unix ms, fake-aware */
time_t clock_now(void);                /* Unix seconds, fake-aware */
int64_t clock_mono_ms(void);           /* monotonic, for durations; never faked */
void clock_set_fixed(int64_t unix_ms); /* 0 = real time again */
void clock_set_offset(int64_t ms);     /* added to real time */

int clock_set_zone(const char *tz); /* "Asia/Seoul"; -E_CONFIG if unknown */
const char *clock_zone(void);

/* "2026-01-05T13:45:10+09:00" in the configured zone. */
int clock_format_ts(time_t t, char out[CLOCK_TS_LEN]);
/* "2026-01-05T04:45:10.123Z" (UTC, ms), for logs. */
int clock_format_utc_ms(int64_t unix_ms, char out[CLOCK_TS_LEN]);

/* Local calendar date as days since 1970-01-01 (proleptic Gregorian), and back. */
int32_t clock_local_day(time_t t);
int32_t clock_today(void);
int clock_format_day(int32_t day, char out[CLOCK_DATE_LEN]); /* "2026-01-05" */
int clock_parse_day(const char *s, int32_t *out);            /* strict YYYY-MM-DD */
int32_t clock_days_from_civil(int y, unsigned m, unsigned d);
void clock_civil_from_days(int32_t day, int *y, unsigned *m, unsigned *d);

#endif
