/*
 * test_verdict.c: the one parser of boot.py's verdict line (run/verdict.c).
 * The line comes from the jail, so malformed and hostile lines matter as
 * much as the three good forms.
 */
#include "config.h"

#include <string.h>

#include "run/run.h"
#include "tap.h"

static enum verdict
parse(const char *s, struct verdict_info *vi)
{
	return verdict_parse(s, s ? strlen(s) : 0, vi);
}

int
main(void)
{
	struct verdict_info	 vi;
	static const char	 nul[] = "forbidden\tos\0,sys\n";

	plan(24);
	is_int(parse(NULL, &vi), VERDICT_NONE, "no verdict: boot.py died");
	is_int(parse("", &vi), VERDICT_NONE, "empty verdict");
	is_int(parse("ok\n", &vi), VERDICT_RAN, "ok");
	is_int(parse("ok", &vi), VERDICT_NONE, "ok cut before its newline");
	is_int(parse("okay\n", &vi), VERDICT_NONE, "okay is not ok");
	is_int(parse("ok\nsyntax\t1\t1\tx\n", &vi), VERDICT_RAN,
	    "only the first line counts");

	is_int(parse("syntax\t3\t7\tinvalid syntax\n", &vi), VERDICT_SYNTAX,
	    "syntax");
	ok(vi.have_position, "syntax: position known");
	is_int(vi.line, 3, "syntax: line");
	is_int(vi.offset, 7, "syntax: offset");
	is_mem(vi.text, vi.text_len, "invalid syntax", 14, "syntax: message");
	is_int(parse("syntax\t3\n", &vi), VERDICT_SYNTAX,
	    "syntax without position is still a syntax error");
	ok(!vi.have_position, "... with no position");
	is_int(parse("syntax\tx\t1\tm\n", &vi), VERDICT_SYNTAX,
	    "syntax with a non-numeric line");
	ok(!vi.have_position, "... has no position");
	is_int(parse("syntax\t99999999999\t1\tm\n", &vi), VERDICT_SYNTAX,
	    "syntax with an overlong line number");
	ok(!vi.have_position, "... has no position");

	is_int(parse("forbidden\tos,subprocess\n", &vi), VERDICT_FORBIDDEN,
	    "forbidden");
	is_mem(vi.text, vi.text_len, "os,subprocess", 13, "forbidden: list");
	is_int(verdict_parse(nul, sizeof(nul) - 1, &vi), VERDICT_FORBIDDEN,
	    "forbidden with a NUL inside");
	is_mem(vi.text, vi.text_len, "os", 2, "... stops at the NUL");
	is_int(parse("forbidden\tos", &vi), VERDICT_FORBIDDEN,
	    "forbidden cut before its newline keeps what arrived");
	is_int(parse("Forbidden\tos\n", &vi), VERDICT_NONE,
	    "anything else is no verdict");
	is_int(verdict_parse("ok\n", 3, NULL), VERDICT_RAN,
	    "the details are optional");
	return done_testing();
}
