/*
 * token_fuzz: libFuzzer target for token_verify on arbitrary Authorization values: it must
 * refuse everything that is not a well-formed HS256 token of ours, without crashing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/token.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char secret[] = "fuzz-secret-fuzz-secret-fuzz-secret-0123";
	struct token_keys keys = {(const unsigned char *)secret, sizeof(secret) - 1, "pillivery"};
	struct token_claims c;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (token_verify(&keys, s, TOKEN_ACCESS, 1700000000, &c) == 0)
		abort(); /* a random input must never verify */
	token_verify(&keys, s, TOKEN_REFRESH, 1700000000, &c);
	free(s);
	return 0;
}
