/* worker: per-thread connections (see worker.h). */
#include "api/worker.h"

#include <stdlib.h>

#include "api/config.h"
#include "common/db.h"
#include "common/redis.h"
#include "external/kakaopay.h"
#include "common/banned.h"

struct worker *worker_new(const struct api_config *cfg)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->db = db_new(&cfg->db);
	w->redis = redis_new(&cfg->redis);
	if (!w->db || !w->redis || kakaopay_client_new(&cfg->kakaopay, &w->pay)) {
		worker_free(w);
		return NULL;
	}
	kakaopay_gateway_init(&w->gw, w->pay);
	return w;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	db_free(w->db);
	redis_free(w->redis);
	kakaopay_client_free(w->pay);
	free(w);
}
