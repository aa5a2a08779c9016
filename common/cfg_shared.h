/*
 * cfg_shared: the option rows both daemons read the same way (MariaDB, Redis, the Kakao Pay
 * client, the zone and the log level), as macros that expand inside a daemon's cfg_opt
 * table, and the readers that turn a loaded table into the matching config structs. One
 * definition, so pillivery-api and pillivery-billing can never disagree on a name, a default
 * or a bound. The structs returned borrow the strings of the struct cfg.
 */
#ifndef PV_COMMON_CFG_SHARED_H
#define PV_COMMON_CFG_SHARED_H

#include "common/cfg.h"
#include "common/db.h"
#include "common/redis.h"

#define CFG_OPTS_DB                                                                                \
	{"PV_DB_HOST", CFG_STR, "127.0.0.1", 0, 255, 0, "MariaDB host"},                           \
	    {"PV_DB_PORT", CFG_INT, "3307", 1, 65535, 0,                                           \
	     "MariaDB port (make run's private instance)"},                                        \
	    {"PV_DB_SOCKET", CFG_STR, "", 0, 255, 0,                                               \
	     "MariaDB unix socket (overrides host and port)"},                                     \
	    {"PV_DB_USER", CFG_STR, "pillivery", 1, 80, 0, "MariaDB user"},                        \
	    {"PV_DB_PASSWORD", CFG_SECRET, "pillivery", 0, 0, 0, "MariaDB password"},              \
	    {"PV_DB_NAME", CFG_STR, "pillivery", 1, 64, 0, "MariaDB database"},                    \
	    {"PV_DB_CONNECT_TIMEOUT_MS", CFG_INT, "3000", 100, 60000, 0,                          \
	     "MariaDB connect timeout"},                                                           \
	{                                                                                          \
		"PV_DB_QUERY_TIMEOUT_MS", CFG_INT, "5000", 100, 600000, 0, "MariaDB query timeout" \
	}

#define CFG_OPTS_REDIS                                                                             \
	{"PV_REDIS_HOST", CFG_STR, "127.0.0.1", 1, 255, 0, "Redis host"},                          \
	    {"PV_REDIS_PORT", CFG_INT, "6380", 1, 65535, 0,                                        \
	     "Redis port (make run's private instance)"},                                          \
	    {"PV_REDIS_PASSWORD", CFG_SECRET, "", 0, 0, 0, "Redis password (empty: none)"},        \
	    {"PV_REDIS_TIMEOUT_MS", CFG_INT, "1000", 10, 60000, 0, "Redis command timeout"},       \
	{                                                                                          \
		"PV_REDIS_PREFIX", CFG_STR, "pv:", 0, 32, 0, "prefix of every Redis key"           \
	}

#define CFG_OPTS_RUNTIME                                                                           \
	{"PV_TIMEZONE", CFG_STR, "Asia/Seoul", 1, 64, 0, "the shop's time zone"},                  \
	    {"PV_PROFILE", CFG_STR, "local", 1, 32, 0, "profile name answered at /profile"},       \
	{                                                                                          \
		"PV_LOG_LEVEL", CFG_STR, "info", 1, 8, 0, "debug, info, warn or error"             \
	}

/* The settings of CFG_OPTS_DB / CFG_OPTS_REDIS from a loaded table. */
struct db_config cfg_db_config(const struct cfg *c);
struct redis_config cfg_redis_config(const struct cfg *c);

#endif
