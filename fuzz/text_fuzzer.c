/*
 * text_fuzzer.c: json_text_len and json_text_put (capture.c), which write
 * a run's output into the reply as the text of a JSON string (fcgi.c).
 * On any bytes: the length measured is the length written; the text holds
 * no raw control character, and no quote or backslash that does not
 * belong to an escape; decoded back, it is utf8_sanitize's copy of the
 * input, with the same lossy flag; written through rooms of sizes drawn
 * from the input, never past a room and byte for byte the same. Rooms are
 * allocated at their exact size, so that ASan sees a write past one.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* JSON string text back to bytes; only the escapes json_text_put uses. */
static size_t
unescape(const char *t, size_t n, char *out)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		CHECK((unsigned char)t[i] >= 0x20 && t[i] != '"');
		if (t[i] != '\\') {
			out[o++] = t[i];
			continue;
		}
		CHECK(i + 1 < n);
		switch (t[++i]) {
		case '"':
		case '\\':
			out[o++] = t[i];
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			CHECK(i + 4 < n && t[i + 1] == '0' && t[i + 2] == '0');
			hi = hexval(t[i + 3]);
			lo = hexval(t[i + 4]);
			CHECK(hi >= 0 && hi <= 1 && lo >= 0);
			out[o++] = (char)(hi << 4 | lo);
			i += 4;
			break;
		default:
			CHECK(false);	/* an escape json_text_put never writes */
		}
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	char		*text, *back, *clean, *room;
	size_t		 len, pos, n, blen, clen, o, rsize, k;
	bool		 lossy, clossy;

	len = json_text_len(in, size, &lossy);
	CHECK(len >= size && len <= size * 6);
	text = malloc(len + 1);
	CHECK(text != NULL);
	pos = 0;
	n = json_text_put(in, size, &pos, text, len);
	CHECK(n == len && pos == size);

	back = malloc(len + 1);
	CHECK(back != NULL);
	blen = unescape(text, len, back);
	clean = utf8_sanitize(in, size, &clen, &clossy);
	CHECK(clossy == lossy);
	CHECK(blen == clen && memcmp(back, clean, clen) == 0);

	/* Piecewise, through rooms of 6 (the longest unit) to 69 bytes. */
	pos = 0;
	o = 0;
	for (k = 0; pos < size; k++) {
		rsize = 6 + (size ? data[k % size] % 64 : 0);
		room = malloc(rsize);
		CHECK(room != NULL);
		n = json_text_put(in, size, &pos, room, rsize);
		CHECK(n > 0 && n <= rsize && o + n <= len);
		CHECK(memcmp(room, text + o, n) == 0);
		o += n;
		free(room);
	}
	CHECK(o == len);

	/* A room too small for the next unit takes nothing. */
	if (size > 0) {
		pos = 0;
		n = json_text_put(in, size, &pos, text, 0);
		CHECK(n == 0 && pos == 0);
	}
	free(text);
	free(back);
	free(clean);
	return 0;
}
