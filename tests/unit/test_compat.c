/*
 * test_compat.c: what the /compat routes read from clients before any
 * native request (src/http/compatparse.c): session ids, file paths, query
 * strings, UTF-8 file text.
 */
#include "config.h"

#include <string.h>

#include "http/compat.h"
#include "tap.h"

static void
norm(const char *in, const char *want)
{
	char	 out[64];
	bool	 r = compat_norm_path(in, out, sizeof(out));

	if (want == NULL)
		ok(!r, "path '%s' refused", in);
	else
		is_str(r ? out : NULL, want, "path '%s'", in);
}

static void
query(const char *q, const char *key, const char *want)
{
	char	 out[32];
	bool	 r = compat_query_get(q, key, out, sizeof(out));

	if (want == NULL)
		ok(!r, "query '%s' has no usable %s", q, key);
	else
		is_str(r ? out : NULL, want, "query '%s': %s", q, key);
}

int
main(void)
{
	char	 enc[64], big[200];

	plan(38);
	/* Ids: any text, but nothing a path could misread. */
	ok(compat_id_ok("7c9e6679-7425-40de-944b-e07fc1f90ae7"), "a uuid");
	ok(compat_id_ok("user 1 é"), "spaces and UTF-8");
	ok(!compat_id_ok(""), "empty");
	ok(!compat_id_ok("."), "dot: the original's every session");
	ok(!compat_id_ok(".."), "dot-dot");
	ok(!compat_id_ok("a/b"), "a slash");
	ok(!compat_id_ok("a\\b"), "a backslash");
	ok(!compat_id_ok("a\nb"), "a control byte");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(!compat_id_ok(big), "longer than COMPAT_ID_MAX");
	big[COMPAT_ID_MAX] = '\0';
	ok(compat_id_ok(big), "exactly COMPAT_ID_MAX");

	/* Paths: normalised, never above the workspace. */
	norm("a.txt", "a.txt");
	norm("a//b/./c", "a/b/c");
	norm("./a/", "a");
	norm("a/../b", NULL);
	norm("..", NULL);
	norm("/etc/passwd", NULL);
	norm("", NULL);
	norm(".", NULL);
	norm("..a/b..", "..a/b..");
	norm("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL);

	/* Encoding for a native route: unreserved bytes and '/' only. */
	ok(compat_enc_path("a b/é%", enc, sizeof(enc)) &&
	    strcmp(enc, "a%20b/%C3%A9%25") == 0, "percent-encoded: %s", enc);
	ok(!compat_enc_path("%%%%%%%%%%%%%%%%%%%%%%", enc, 16), "too long");

	/* Query strings. */
	query("id=abc&rel_path=x%2Fy+z", "rel_path", "x/y z");
	query("id=abc&rel_path=x", "id", "abc");
	query("xid=1&id=2", "id", "2");
	query("id=", "id", "");
	query("rel_path=x", "id", NULL);
	query("id=a%00b", "id", NULL);
	query("id=%zz%4", "id", "%zz%4");
	query("id=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "id", NULL);
	query(NULL, "id", NULL);

	/* UTF-8, strictly. */
	ok(compat_utf8_ok((const unsigned char *)"plain", 5), "ASCII");
	ok(compat_utf8_ok((const unsigned char *)"\xc3\xa9\xe2\x82\xac"
	    "\xf0\x9f\x98\x80", 9), "two, three and four bytes");
	ok(!compat_utf8_ok((const unsigned char *)"\xff\xfe", 2), "not UTF-8");
	ok(!compat_utf8_ok((const unsigned char *)"\xc0\xaf", 2), "overlong");
	ok(!compat_utf8_ok((const unsigned char *)"\xed\xa0\x80", 3),
	    "a surrogate");
	ok(!compat_utf8_ok((const unsigned char *)"\xe2\x82", 2), "cut short");
	ok(!compat_utf8_ok((const unsigned char *)"\xf4\x90\x80\x80", 4),
	    "past U+10FFFF");
	return done_testing();
}
