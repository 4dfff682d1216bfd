/*
 * test_capture.c: struct buf caps, the UTF-8 helpers, and output as the
 * text of a JSON string (what fcgi.c writes a reply's output with).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "tap.h"

#define FFFD	"\xef\xbf\xbd"

/* Single well-formed code points at the edges of each range. */
static const char *const valid_cps[] = {
	"\x00", "\x7f",				/* U+0000, U+007F */
	"\xc2\x80", "\xdf\xbf",			/* U+0080, U+07FF */
	"\xe0\xa0\x80", "\xed\x9f\xbf",		/* U+0800, U+D7FF */
	"\xee\x80\x80", "\xef\xbf\xbf",		/* U+E000, U+FFFF */
	"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",	/* U+10000, U+10FFFF */
};
static const size_t valid_lens[] = { 1, 1, 2, 2, 3, 3, 3, 3, 4, 4 };
#define NVALID	(sizeof(valid_cps) / sizeof(valid_cps[0]))

static const struct {
	const char	*s;
	const char	*why;
} invalid[] = {
	{ "\xc0\x80", "overlong NUL C0 80" },
	{ "\xc1\xbf", "overlong C1 BF" },
	{ "\xe0\x80\x80", "overlong 3-byte E0 80 80" },
	{ "\xe0\x9f\xbf", "overlong 3-byte E0 9F BF" },
	{ "\xf0\x80\x80\x80", "overlong 4-byte F0 80 80 80" },
	{ "\xf0\x8f\xbf\xbf", "overlong 4-byte F0 8F BF BF" },
	{ "\xed\xa0\x80", "surrogate ED A0 80 (U+D800)" },
	{ "\xed\xbf\xbf", "surrogate ED BF BF (U+DFFF)" },
	{ "\xf4\x90\x80\x80", "above U+10FFFF: F4 90 80 80" },
	{ "\xf5\x80\x80\x80", "lead byte F5" },
	{ "\xf8\x88\x80\x80\x80", "5-byte form" },
	{ "\xfe", "byte FE" },
	{ "\xff", "byte FF" },
	{ "\x80", "lone continuation 80" },
	{ "\xbf", "lone continuation BF" },
	{ "a\x80", "continuation after ASCII" },
	{ "\xc3", "truncated 2-byte" },
	{ "\xe2\x82", "truncated 3-byte" },
	{ "\xf0\x9f\x98", "truncated 4-byte" },
	{ "a\xc3", "truncated at the end" },
	{ "\xc3\x41", "2-byte with ASCII continuation" },
	{ "\xe2\x41\xac", "3-byte with ASCII second byte" },
	{ "\xe2\x82\x41", "3-byte with ASCII third byte" },
	{ "\xf0\x9f\x98\xc3\xa9", "4-byte with a lead as fourth byte" },
	{ "ok\xe2\x82\xac\xff", "bad byte after valid text" },
};
#define NINVALID	(sizeof(invalid) / sizeof(invalid[0]))

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void
test_buf(void)
{
	struct buf	 b;
	char		*big;
	size_t		 i, kept;
	int		 bad;

	buf_init(&b, 10);
	ok(b.data == NULL && b.len == 0 && b.max == 10 && !b.truncated,
	    "buf_init: empty, not truncated, max set");
	is_int(buf_append(&b, "abcd", 4), 4, "append 4 of 10: all kept");
	ok(b.len == 4 && !b.truncated && b.data != NULL &&
	    memcmp(b.data, "abcd", 5) == 0, "len 4, NUL-terminated");
	is_int(buf_append(&b, "efghij", 6), 6, "append up to the cap exactly");
	ok(b.len == 10 && !b.truncated, "exactly at cap: not truncated");
	is_str(b.data, "abcdefghij", "content at cap, NUL-terminated");
	is_int(buf_append(&b, "", 0), 0, "append nothing when full");
	ok(!b.truncated, "appending nothing when full does not truncate");
	is_int(buf_append(&b, "k", 1), 0, "one byte past the cap is dropped");
	ok(b.truncated && b.len == 10, "one byte past the cap: truncated");
	is_str(b.data, "abcdefghij", "content unchanged after truncation");
	buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.max == 0 && !b.truncated,
	    "buf_free resets the struct");

	buf_init(&b, 10);
	is_int(buf_append(&b, "0123456789ABCDE", 15), 10,
	    "one append over the cap keeps max bytes");
	ok(b.truncated, "and marks the buffer truncated");
	is_str(b.data, "0123456789", "keeping the first bytes");
	buf_free(&b);

	buf_init(&b, 10);
	buf_append(&b, "012345678", 9);
	is_int(buf_append(&b, "xy", 2), 1, "straddling the cap keeps the part "
	    "that fits");
	ok(b.truncated && b.len == 10 && memcmp(b.data, "012345678x", 11) == 0,
	    "straddling the cap: truncated, first part kept");
	buf_free(&b);

	buf_init(&b, 0);
	is_int(buf_append(&b, "a", 1), 0, "max 0 keeps nothing");
	ok(b.truncated && b.len == 0, "max 0: truncated on first byte");
	buf_free(&b);

	/* Byte by byte past the 4096-byte first allocation, to a cap of 10000. */
	buf_init(&b, 10000);
	bad = 0;
	for (i = 0; i < 10000; i++)
		if (buf_append(&b, &"0123456789"[i % 10], 1) != 1)
			bad++;
	is_int(bad, 0, "10000 one-byte appends all kept");
	ok(!b.truncated && b.len == 10000 && b.cap >= 10000 && b.cap <= 10000,
	    "grown to the cap and not beyond");
	bad = 0;
	for (i = 0; i < 10000; i++)
		if (b.data[i] != "0123456789"[i % 10])
			bad++;
	ok(bad == 0 && b.data[10000] == '\0', "content intact after growth");
	is_int(buf_append(&b, "z", 1), 0, "then the 10001st byte is dropped");
	ok(b.truncated, "and the buffer is truncated");
	buf_free(&b);

	/* One big append over a large cap. */
	big = malloc(100000);
	if (big == NULL)
		abort();
	memset(big, 'q', 100000);
	buf_init(&b, 65537);
	kept = buf_append(&b, big, 100000);
	ok(kept == 65537 && b.len == 65537 && b.truncated &&
	    b.data[65536] == 'q' && b.data[65537] == '\0',
	    "a 100000-byte append into max 65537");
	buf_free(&b);
	free(big);
}

static void
test_count(void)
{
	size_t	 n, i;
	int	 bad;

	n = 99;
	ok(utf8_count("", 0, &n) == 0 && n == 0, "count: empty is 0");
	ok(utf8_count("abc", 3, &n) == 0 && n == 3, "count: ASCII");
	ok(utf8_count("\xc3\xa9", 2, &n) == 0 && n == 1, "count: e-acute");
	ok(utf8_count("\xe2\x82\xac", 3, &n) == 0 && n == 1, "count: euro");
	ok(utf8_count("\xf0\x9f\x98\x80", 4, &n) == 0 && n == 1,
	    "count: emoji U+1F600");
	ok(utf8_count("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, &n) == 0 &&
	    n == 4, "count: mixed widths");
	ok(utf8_count("a\0b", 3, &n) == 0 && n == 3, "count: NUL is a code "
	    "point");

	bad = 0;
	for (i = 0; i < NVALID; i++) {
		n = 99;
		if (utf8_count(valid_cps[i], valid_lens[i], &n) != 0 ||
		    n != 1) {
			diag("valid code point %zu not counted as 1", i);
			bad++;
		}
	}
	is_int(bad, 0, "count: range boundaries U+0000..U+10FFFF are one "
	    "code point each");

	for (i = 0; i < NINVALID; i++)
		is_int(utf8_count(invalid[i].s, strlen(invalid[i].s), &n), -1,
		    "count rejects %s", invalid[i].why);
	is_int(utf8_count("ab\0\xff", 4, &n), -1,
	    "count: the length is used, not NUL termination");
}

static void
test_complete_len(void)
{
	/* "a" U+00E9 U+20AC U+1F600 "b": code-point boundaries. */
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "b";
	static const size_t bounds[] = { 0, 1, 3, 6, 10, 11, 12 };
	size_t	 k, want, j, got, n;
	int	 bad = 0;

	is_int(utf8_complete_len("", 0), 0, "complete_len: empty");
	is_int(utf8_complete_len("abc", 3), 3, "complete_len: ASCII whole");
	is_int(utf8_complete_len("a\xc3", 2), 1, "cut after a 2-byte lead");
	is_int(utf8_complete_len("a\xe2", 2), 1, "cut after a 3-byte lead");
	is_int(utf8_complete_len("a\xe2\x82", 3), 1, "cut inside a 3-byte "
	    "sequence");
	is_int(utf8_complete_len("a\xf0", 2), 1, "cut after a 4-byte lead");
	is_int(utf8_complete_len("a\xf0\x9f", 3), 1, "cut 2 into a 4-byte "
	    "sequence");
	is_int(utf8_complete_len("a\xf0\x9f\x98", 4), 1, "cut 3 into a 4-byte "
	    "sequence");
	is_int(utf8_complete_len("a\xf0\x9f\x98\x80", 5), 5, "whole 4-byte "
	    "sequence kept");
	is_int(utf8_complete_len("\xc3", 1), 0, "a lone lead byte is cut");
	is_int(utf8_complete_len("a\x80", 2), 2, "a stray continuation byte "
	    "is not a cut sequence");
	is_int(utf8_complete_len("a\xff", 2), 2, "an invalid byte is not a cut "
	    "sequence");
	is_int(utf8_complete_len("a\xc0", 2), 2, "C0 can never start a "
	    "sequence, so it is not a cut one");

	/* Every prefix of s: cut back to the last code-point boundary. */
	for (k = 0; k <= sizeof(s) - 1; k++) {
		want = 0;
		for (j = 0; j < sizeof(bounds) / sizeof(bounds[0]); j++)
			if (bounds[j] <= k)
				want = bounds[j];
		got = utf8_complete_len(s, k);
		if (got != want || utf8_count(s, got, &n) != 0) {
			diag("prefix %zu: got %zu, want %zu", k, got, want);
			bad++;
		}
	}
	is_int(bad, 0, "complete_len of every prefix is the last code-point "
	    "boundary and valid");
}

static void
test_sanitize(void)
{
	struct {
		const char	*in;
		size_t		 len;
		const char	*out;
		size_t		 olen;
		const char	*why;
	} cases[] = {
		{ "a\xff" "b", 3, "a" FFFD "b", 0, "one bad byte" },
		{ "\xc0\x80", 2, FFFD FFFD, 0, "overlong: one U+FFFD per byte" },
		{ "\xed\xa0\x80", 3, FFFD FFFD FFFD, 0, "surrogate: one per byte" },
		{ "\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 0,
		    "above U+10FFFF: one per byte" },
		{ "ab\xe2\x82", 4, "ab" FFFD FFFD, 0, "truncated at the end" },
		{ "\xe2\x82\xe2\x82\xac", 5, FFFD FFFD "\xe2\x82\xac", 0,
		    "cut sequence then a whole one" },
		{ "\xc3(", 2, FFFD "(", 0,
		    "a lead without continuation; the next byte survives" },
		{ "\x80\x80\x80", 3, FFFD FFFD FFFD, 0,
		    "three stray continuations" },
		{ "x\0y\xff", 4, "x\0y" FFFD, 6,
		    "NUL is kept, not a terminator" },
	};
	static const char text[] = "print('h\xc3\xa9llo \xf0\x9f\x98\x80')\n";
	char	*out;
	size_t	 i, n, outlen, j, cnt;
	char	 rbuf[64];
	uint32_t r;
	bool	 lossy, wantlossy;
	int	 badvalid = 0, badout = 0, badlossy = 0, badid = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lossy = false;
		out = utf8_sanitize(cases[i].in, cases[i].len, &outlen, &lossy);
		n = cases[i].olen ? cases[i].olen : strlen(cases[i].out);
		is_mem(out, outlen, cases[i].out, n, "sanitize: %s",
		    cases[i].why);
		ok(lossy && out[outlen] == '\0', "sanitize: %s: lossy, "
		    "NUL-terminated", cases[i].why);
		free(out);
	}

	lossy = true;
	out = utf8_sanitize("", 0, &outlen, &lossy);
	ok(out != NULL && outlen == 0 && out[0] == '\0' && !lossy,
	    "sanitize: empty in, empty out, not lossy");
	free(out);

	for (i = 0; i < NVALID; i++) {
		lossy = true;
		out = utf8_sanitize(valid_cps[i], valid_lens[i], &outlen,
		    &lossy);
		if (lossy || outlen != valid_lens[i] ||
		    memcmp(out, valid_cps[i], outlen) != 0)
			badid++;
		free(out);
	}
	lossy = true;
	out = utf8_sanitize(text, sizeof(text) - 1, &outlen, &lossy);
	if (lossy || outlen != sizeof(text) - 1 ||
	    memcmp(out, text, sizeof(text)) != 0)
		badid++;
	free(out);
	is_int(badid, 0, "sanitize is the identity on valid UTF-8");

	/*
	 * Random bytes, biased towards UTF-8 lead and continuation bytes:
	 * the output is always valid, lossy exactly when the input was
	 * not, and the identity when it was.
	 */
	for (i = 0; i < 20000; i++) {
		n = rnd() % sizeof(rbuf);
		for (j = 0; j < n; j++) {
			r = rnd();
			switch (r % 4) {
			case 0:
				rbuf[j] = (char)(r >> 8 & 0x7f);
				break;
			case 1:
				rbuf[j] = (char)(0x80 | (r >> 8 & 0x3f));
				break;
			default:
				rbuf[j] = (char)(0xc0 | (r >> 8 & 0x3f));
				break;
			}
		}
		wantlossy = utf8_count(rbuf, n, &cnt) != 0;
		out = utf8_sanitize(rbuf, n, &outlen, &lossy);
		if (utf8_count(out, outlen, &cnt) != 0)
			badvalid++;
		if (lossy != wantlossy)
			badlossy++;
		if (!wantlossy && (outlen != n || memcmp(out, rbuf, n) != 0))
			badout++;
		if (wantlossy && outlen < n)
			badout++;
		free(out);
	}
	is_int(badvalid, 0, "sanitize output is always valid UTF-8 (20000 "
	    "random inputs)");
	is_int(badlossy, 0, "lossy is set exactly when the input was invalid");
	is_int(badout, 0, "valid inputs come back unchanged, invalid ones "
	    "never shrink");
}

/* buf_read: straight from a pipe, capped, truncation seen past the cap. */
static void
test_buf_read(void)
{
	struct buf	 b;
	int		 p[2];
	ssize_t		 n;

	if (pipe(p) == -1)
		abort();
	buf_init(&b, 8);
	if (write(p[1], "0123456789", 10) != 10)
		abort();
	close(p[1]);
	n = buf_read(&b, p[0]);
	ok(n == 8 && b.len == 8 && !b.truncated &&
	    memcmp(b.data, "01234567", 9) == 0,
	    "buf_read fills up to the cap, NUL-terminated, not yet truncated");
	n = buf_read(&b, p[0]);
	ok(n == 2 && b.len == 8 && b.truncated,
	    "a read past the cap keeps nothing and marks truncation");
	is_int((int)buf_read(&b, p[0]), 0, "then EOF");
	close(p[0]);
	buf_free(&b);
}

/* The JSON text of s, written through rooms of random small sizes. */
static char *
text_in_pieces(const char *s, size_t n, size_t want, size_t *outlen)
{
	char	*out = malloc(want + 64);
	size_t	 pos = 0, o = 0, room, w;

	while (pos < n && o <= want) {
		room = 6 + rnd() % 12;
		w = json_text_put(s, n, &pos, out + o, room);
		if (w == 0 || w > room)
			break;
		o += w;
	}
	*outlen = pos == n ? o : (size_t)-1;
	return out;
}

static void
test_json_text(void)
{
	static const char pool[][5] = {
		"a", " ", "~", "\"", "\\", "\n", "\r", "\t", "\b", "\f",
		"\x01", "\x1f", "\x7f", "/", "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", "\x80", "\xff", "\xc3", "\xed\xa0\x80",
	};
	const char	*in = "a\"b\\c\n\x01\x7f" "\xc3\xa9" "\xff" "z";
	const char	*want = "a\\\"b\\\\c\\n\\u0001\x7f" "\xc3\xa9" FFFD "z";
	char		 src[64], out[256], quoted[1024], *clean, *pieces;
	struct json_object *o;
	size_t		 n, len, pos, cleanlen, plen, i, k;
	int		 badlen = 0, badparse = 0, badlossy = 0, badpieces = 0;
	bool		 lossy, clossy;

	len = json_text_len(in, strlen(in), &lossy);
	pos = 0;
	n = json_text_put(in, strlen(in), &pos, out, sizeof(out));
	ok(n == len && n == strlen(want) && memcmp(out, want, n) == 0 &&
	    pos == strlen(in) && lossy,
	    "quote, backslash and controls escaped, U+007F and UTF-8 kept, a "
	    "bad byte becomes U+FFFD and is reported");
	pos = 0;
	n = json_text_put("\x01", 1, &pos, out, 5);
	ok(n == 0 && pos == 0, "no half escape in a room too small for it");

	for (i = 0; i < 20000; i++) {
		n = 0;
		for (k = rnd() % 12; k > 0; k--) {
			const char *u = pool[rnd() % (sizeof(pool) /
			    sizeof(pool[0]))];
			memcpy(src + n, u, strlen(u));
			n += strlen(u);
		}
		len = json_text_len(src, n, &lossy);
		pos = 0;
		quoted[0] = '"';
		k = json_text_put(src, n, &pos, quoted + 1,
		    sizeof(quoted) - 3);
		if (k != len || pos != n)
			badlen++;
		quoted[k + 1] = '"';
		quoted[k + 2] = '\0';
		clean = utf8_sanitize(src, n, &cleanlen, &clossy);
		o = json_tokener_parse(quoted);
		if (o == NULL || !json_object_is_type(o, json_type_string) ||
		    (size_t)json_object_get_string_len(o) != cleanlen ||
		    memcmp(json_object_get_string(o), clean, cleanlen) != 0)
			badparse++;
		if (lossy != clossy)
			badlossy++;
		pieces = text_in_pieces(src, n, len, &plen);
		if (plen != len || memcmp(pieces, quoted + 1, len) != 0)
			badpieces++;
		json_object_put(o);
		free(clean);
		free(pieces);
	}
	is_int(badlen, 0, "json_text_len is what json_text_put writes (20000 "
	    "random inputs)");
	is_int(badparse, 0, "as a JSON string it parses back to the input "
	    "with bad bytes as U+FFFD (utf8_sanitize)");
	is_int(badlossy, 0, "lossy exactly when utf8_sanitize says so");
	is_int(badpieces, 0, "written through rooms of 6 to 17 bytes, the same "
	    "bytes");
}

int
main(void)
{
	plan(105);
	test_buf();
	test_buf_read();
	test_count();
	test_complete_len();
	test_sanitize();
	test_json_text();
	return done_testing();
}
