/*
 * notify: the systemd notify protocol (sd_notify(3)) without libsystemd: datagrams to the
 * socket named by $NOTIFY_SOCKET (a path, or an abstract name starting with '@'), and the
 * watchdog interval from $WATCHDOG_USEC. Without $NOTIFY_SOCKET every call does nothing, so
 * the daemon runs the same outside systemd. Thread-safe (one socket per call).
 */
#ifndef PV_BATCH_NOTIFY_H
#define PV_BATCH_NOTIFY_H

#include <stdint.h>

/* Sends msg ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=..."). 1 sent, 0 no socket set,
 * -1 on error. */
int notify_send(const char *msg);
/* The watchdog interval in microseconds when systemd asked for pings for this process
 * ($WATCHDOG_USEC, and $WATCHDOG_PID unset or ours), else 0. */
uint64_t notify_watchdog_usec(void);

#endif
