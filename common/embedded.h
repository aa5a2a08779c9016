/*
 * embedded: files compiled into a binary by tools/embed.sh (the migrations in libpvcore, the
 * API's static documents). Each generated table ends with a { NULL, NULL, 0 } entry; the data
 * are NUL-terminated, so text files can be used as C strings. Read-only; thread-safe.
 */
#ifndef PV_COMMON_EMBEDDED_H
#define PV_COMMON_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name; /* base name, "0001_schema.sql" */
	const unsigned char *data;
	size_t len; /* without the terminating NUL */
};

#endif
