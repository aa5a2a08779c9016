/* err: the error table's lookups (see err.h). */
#include "common/err.h"

struct err_entry {
	const char *name;
	int status;
	const char *code;
	const char *message;
};

static const struct err_entry err_table[E__COUNT] = {[E_OK] = {"OK", 200, "OK", ""},
#define PV_ERR_ENTRY(n, s, c, m) [E_##n] = {#n, s, c, m},
                                                     PV_ERROR_TABLE(PV_ERR_ENTRY)
#undef PV_ERR_ENTRY
};

static const struct err_entry *err_lookup(int rc)
{
	if (rc < 0)
		rc = -rc;
	if (rc <= 0 || rc >= E__COUNT)
		return &err_table[E_INTERNAL_ERROR];
	return &err_table[rc];
}

const char *err_code(int rc)
{
	return err_lookup(rc)->code;
}

int err_http_status(int rc)
{
	return err_lookup(rc)->status;
}

const char *err_message(int rc)
{
	return err_lookup(rc)->message;
}

const char *err_name(int rc)
{
	return err_lookup(rc)->name;
}
