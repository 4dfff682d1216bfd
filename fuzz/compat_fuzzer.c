/*
 * compat_fuzzer.c: what the /compat routes read from clients. The input
 * is split at its first NUL into a key and a text; every function runs
 * on it, and what they accept keeps their promises: a normalised path has
 * no empty, "." or ".." component and does not start with '/'; an encoded
 * path holds only unreserved bytes, '/' and %XX; a query value fits its
 * buffer and holds no NUL; an accepted id holds no '/', '\\' or control
 * byte.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/compat.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text, out[256], enc[256];
	const char	*key;
	const char	*p, *e;
	size_t		 n, i;

	text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	n = strlen(text);
	key = n < size ? text + n + 1 : "id";

	(void)compat_utf8_ok(data, size);
	if (compat_id_ok(text)) {
		CHECK(n > 0 && n <= COMPAT_ID_MAX);
		CHECK(strpbrk(text, "/\\") == NULL);
		for (i = 0; i < n; i++)
			CHECK((unsigned char)text[i] >= 0x20 && text[i] != 0x7f);
	}
	if (compat_norm_path(text, out, sizeof(out))) {
		CHECK(out[0] != '/' && out[0] != '\0');
		for (p = out; *p != '\0'; p = *e ? e + 1 : e) {
			e = p + strcspn(p, "/");
			CHECK(e > p);
			CHECK(!(e - p == 1 && p[0] == '.'));
			CHECK(!(e - p == 2 && p[0] == '.' && p[1] == '.'));
		}
		if (compat_enc_path(out, enc, sizeof(enc)))
			for (p = enc; *p != '\0'; p++)
				CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				    "klmnopqrstuvwxyz0123456789-_.~/%", *p) != NULL);
	}
	if (compat_query_get(text, key, out, sizeof(out)))
		CHECK(strlen(out) < sizeof(out));
	free(text);
	return 0;
}
