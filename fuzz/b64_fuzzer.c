/*
 * b64_fuzzer.c: b64_decode on arbitrary input. Output buffers are
 * allocated at their exact capacity so that ASan sees any write past
 * outcap. A successful decode must re-encode to the input minus its line
 * breaks (strict decoding admits one spelling per byte string), and that
 * encoding must decode to the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	uint8_t		*out, *out2, *small;
	char		*enc, *stripped;
	size_t		 cap, n, n2, i, s, elen, scap;
	int		 rv, rv2;

	cap = b64_decoded_max(size);
	CHECK(cap >= size / 4 * 3);
	out = malloc(cap);
	CHECK(out != NULL);
	n = (size_t)-1;
	rv = b64_decode(in, size, out, cap, &n);
	CHECK(rv == 0 || rv == -1);

	/* The same input into a smaller buffer: refused or identical. */
	scap = size > 0 ? data[0] % (cap + 1) : 0;
	small = malloc(scap ? scap : 1);
	CHECK(small != NULL);
	rv2 = b64_decode(in, size, small, scap, &n2);
	if (rv == -1)
		CHECK(rv2 == -1);
	else if (n <= scap)
		CHECK(rv2 == 0 && n2 == n && memcmp(small, out, n) == 0);
	else
		CHECK(rv2 == -1);
	free(small);

	if (rv == 0) {
		CHECK(n <= cap);
		elen = b64_encoded_len(n);
		enc = malloc(elen + 1);
		CHECK(enc != NULL);
		b64_encode(out, n, enc);
		CHECK(strlen(enc) == elen);

		stripped = malloc(size + 1);
		CHECK(stripped != NULL);
		for (i = 0, s = 0; i < size; i++)
			if (in[i] != '\r' && in[i] != '\n')
				stripped[s++] = in[i];
		CHECK(s == elen && memcmp(stripped, enc, s) == 0);
		free(stripped);

		out2 = malloc(n ? n : 1);
		CHECK(out2 != NULL);
		CHECK(b64_decode(enc, elen, out2, n, &n2) == 0);
		CHECK(n2 == n && memcmp(out, out2, n) == 0);
		free(out2);
		free(enc);
	}
	free(out);
	return 0;
}
