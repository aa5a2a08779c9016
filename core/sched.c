/* sched: the anchored subscription schedule (see sched.h). */
#include "core/sched.h"

#include <time.h>

#include "common/clock.h"
#include "common/banned.h"

int32_t sched_next_after(int32_t first, int32_t period, int32_t floor)
{
	int64_t k;

	if (period < 1)
		period = 1;
	if (floor < first)
		return first + period;
	/* smallest k with first + k*period > floor */
	k = ((int64_t)floor - first) / period + 1;
	return (int32_t)(first + k * period);
}

int32_t sched_next(int32_t first, int32_t period, int32_t last_paid, int32_t last_settled,
                   int32_t today)
{
	int32_t floor = last_paid;

	if (last_settled > floor)
		floor = last_settled;
	if (today > floor)
		floor = today;
	return sched_next_after(first, period, floor);
}

int64_t sched_day_start(int32_t day)
{
	struct tm tm = {0};
	int y;
	unsigned m, d;
	time_t t;

	clock_civil_from_days(day, &y, &m, &d);
	tm.tm_year = y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return (int64_t)day * 86400;
	return (int64_t)t;
}

int64_t sched_due_at(int32_t day, int charge_minute)
{
	return sched_day_start(day) + (int64_t)charge_minute * 60;
}

int32_t sched_due_cutoff(int32_t local_day, int local_minute, int charge_minute)
{
	return local_minute >= charge_minute ? local_day : local_day - 1;
}

int sched_local_minute(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!localtime_r(&tt, &tm))
		return (int)((t % 86400 + 86400) % 86400 / 60);
	return tm.tm_hour * 60 + tm.tm_min;
}
