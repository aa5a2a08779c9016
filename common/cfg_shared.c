/* cfg_shared: readers of the option rows both daemons share (see cfg_shared.h). */
#include "common/cfg_shared.h"

#include "common/banned.h"

struct db_config cfg_db_config(const struct cfg *c)
{
	return (struct db_config){
	    .host = cfg_str(c, "PV_DB_HOST"),
	    .port = (int)cfg_int(c, "PV_DB_PORT"),
	    .socket = cfg_str(c, "PV_DB_SOCKET"),
	    .user = cfg_str(c, "PV_DB_USER"),
	    .password = cfg_str(c, "PV_DB_PASSWORD"),
	    .database = cfg_str(c, "PV_DB_NAME"),
	    .connect_timeout_ms = (int)cfg_int(c, "PV_DB_CONNECT_TIMEOUT_MS"),
	    .query_timeout_ms = (int)cfg_int(c, "PV_DB_QUERY_TIMEOUT_MS"),
	};
}

struct redis_config cfg_redis_config(const struct cfg *c)
{
	return (struct redis_config){
	    .host = cfg_str(c, "PV_REDIS_HOST"),
	    .port = (int)cfg_int(c, "PV_REDIS_PORT"),
	    .password = cfg_str(c, "PV_REDIS_PASSWORD"),
	    .timeout_ms = (int)cfg_int(c, "PV_REDIS_TIMEOUT_MS"),
	    .prefix = cfg_str(c, "PV_REDIS_PREFIX"),
	};
}
