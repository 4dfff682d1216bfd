/*
 * test_pylit.c: the Python-literal parser, writer and comparators of
 * /evaluate (src/common/pylit.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pylit.h"
#include "tap.h"

static struct pv_cmp exact = { PVC_EXACT, 0, 0, false };

/* Parses s, writes it back, compares with want (NULL: the same text). */
static void
rt(const char *s, int flags, const char *want)
{
	struct pv	 v;
	char		 err[200], *t;

	if (pylit_parse(s, strlen(s), flags, &v, err, sizeof(err)) == -1) {
		ok(0, "parse %s: %s", s, err);
		return;
	}
	t = pylit_write(&v, NULL);
	is_str(t, want ? want : s, "round trip %s", s);
	free(t);
	pv_free(&v);
}

static void
bad(const char *s, int flags, const char *needle)
{
	struct pv	 v;
	char		 err[200];

	if (pylit_parse(s, strlen(s), flags, &v, err, sizeof(err)) == 0) {
		ok(0, "%s should not parse", s);
		pv_free(&v);
		return;
	}
	/* The name stays printable ASCII: TAP readers decode it. */
	like(err, needle, "refused (%s)", needle);
}

static bool
eq(const char *a, const char *b, const struct pv_cmp *c)
{
	struct pv	 x, y;
	char		 err[200];
	bool		 r;

	if (pylit_parse(a, strlen(a), 0, &x, err, sizeof(err)) == -1 ||
	    pylit_parse(b, strlen(b), 0, &y, err, sizeof(err)) == -1) {
		diag("parse: %s", err);
		return false;
	}
	r = pv_equal(&x, &y, c);
	pv_free(&x);
	pv_free(&y);
	return r;
}

int
main(void)
{
	struct pv_cmp	 fl = { PVC_FLOAT, 1e-6, 1e-9, false };
	struct pv_cmp	 un = { PVC_UNORDERED, 0, 0, false };
	struct pv_cmp	 js = { PVC_EXACT, 0, 0, true };
	char		 deep[200];
	int		 i;

	plan(50);
	rt("None", 0, NULL);
	rt("[1, -2, 3.5, True, False]", 0, NULL);
	rt("123456789012345678901234567890", 0, NULL);
	rt("-123456789012345678901234567890", 0, NULL);
	rt("(1,)", 0, NULL);
	rt("()", 0, NULL);
	rt("(1)", 0, "1");
	rt("1, 2", 0, "(1, 2)");
	rt("set()", 0, NULL);
	rt("{1, 2}", 0, NULL);
	rt("{}", 0, NULL);
	rt("{'a': [1, {2: 3}]}", 0, "{\"a\": [1, {2: 3}]}");
	rt("'a' \"b\"", 0, "\"ab\"");
	rt("'\\n\\t\\x41\\u00e9\\U0001F600\\101'", 0,
	    "\"\\x0a\\x09A\xc3\xa9\xf0\x9f\x98\x80" "A\"");
	rt("r'\\d'", 0, "\"\\\\d\"");
	rt("1_000", 0, "1000");
	rt("0x1F", 0, "31");
	rt("-0o17", 0, "-15");
	rt("1e3", 0, "1000.0");
	rt("[inf, -inf, nan]", 0, NULL);
	rt("a=1, b=[2, 3]", PYLIT_KWARGS, "{\"a\": 1, \"b\": [2, 3]}");
	rt("s='a, t=b', t='c'", PYLIT_KWARGS,
	    "{\"s\": \"a, t=b\", \"t\": \"c\"}");
	bad("b'x'", 0, "bytes");
	bad("1j", 0, "complex");
	bad("__import__('os')", 0, "names");
	bad("1 + 2", 0, "after the value");
	bad("[1, 2", 0, "expected");
	bad("0123", 0, "leading zeros");
	bad("{[1]: 2}", 0, "unhashable");
	bad("'\\ud800'", 0, "surrogate");
	bad("a=1, a=2", PYLIT_KWARGS, "twice");
	bad("--1", 0, "sign");
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	deep[40] = '\0';
	bad(deep, 0, "deeper");
	bad("\xff", 0, "UTF-8");

	ok(eq("1", "1.0", &exact), "1 == 1.0, as in Python");
	ok(!eq("True", "1", &exact), "True is not 1");
	ok(!eq("(1, 2)", "[1, 2]", &exact), "a tuple is not a list");
	ok(eq("(1, 2)", "[1, 2]", &js), "a tuple meets a JSON array");
	ok(eq("{1, 2}", "[2, 1]", &js), "a set meets a JSON array unordered");
	ok(!eq("0.30000000000000004", "0.3", &exact), "exact floats differ");
	ok(eq("[[0.30000000000000004]]", "[[0.3]]", &fl),
	    "float tolerance inside nested lists");
	ok(eq("{'a': 1.0000001}", "{'a': 1.0}", &fl), "... and dicts");
	ok(!eq("[1.1]", "[1.0]", &fl), "but not beyond it");
	ok(eq("[3, 1, 2, 1]", "[1, 1, 2, 3]", &un), "unordered multiset");
	ok(!eq("[3, 1, 2]", "[1, 1, 2, 3]", &un), "multiset counts");
	ok(eq("{'b': 2, 'a': 1}", "{'a': 1, 'b': 2}", &exact), "dict order");
	ok(eq("[nan]", "[nan]", &exact), "nan matches nan");
	ok(text_equal("1 \n2\n\n", 6, "1\n2", 3, TXC_LINES, 0, 0),
	    "lines: trailing spaces and blank lines");
	ok(text_equal("1.0000001  2\n", 13, "1 2", 3, TXC_TOKENS, 1e-6, 0),
	    "tokens with float tolerance");
	ok(!text_equal("1 3", 3, "1 2", 3, TXC_TOKENS, 1e-6, 0),
	    "tokens differ");
	return done_testing();
}
