/*
 * verdict.c: the one parser of boot.py's verdict line, the first thing
 * the jail says about a run (src/jail/boot.py writes it on fd 3):
 *
 *	ok
 *	syntax <TAB> line <TAB> offset <TAB> message
 *	forbidden <TAB> name,name,...
 *
 * The line comes from the jail, so it is hostile input: bounded by the
 * caller's capped buffer, parsed strictly, never trusted to be a C string
 * (only the bytes before the first newline or NUL count; anything that is
 * not one of the three forms is VERDICT_NONE, i.e. boot.py died early). Pure: no
 * allocation; the result points into the caller's buffer.
 */
#include "config.h"

#include <string.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"

/* A decimal of at most 9 digits, as boot.py writes them with %d. */
static bool
small_number(const char *p, size_t n, int *out)
{
	size_t	 i = 0;
	int	 v = 0, sign = 1;

	if (n > 0 && p[0] == '-') {
		sign = -1;
		i++;
	}
	if (n == i || n - i > 9)
		return false;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = sign * v;
	return true;
}

static bool
starts(const char *p, size_t n, const char *word)
{
	size_t	 w = strlen(word);

	return n >= w && memcmp(p, word, w) == 0;
}

enum verdict
verdict_parse(const char *data, size_t len, struct verdict_info *vi)
{
	struct verdict_info	 tmp;
	const char		*p, *t1, *t2, *end;
	size_t			 n;

	if (vi == NULL)
		vi = &tmp;
	memset(vi, 0, sizeof(*vi));
	if (data == NULL)
		return vi->kind = VERDICT_NONE;
	for (n = 0; n < len && data[n] != '\n' && data[n] != '\0'; n++)
		;
	end = data + n;
	/* "ok" counts only as a whole line: a cut one means boot.py died. */
	if (n == 2 && n < len && data[n] == '\n' && memcmp(data, "ok", 2) == 0)
		return vi->kind = VERDICT_RAN;
	if (starts(data, n, "forbidden\t")) {
		vi->text = data + strlen("forbidden\t");
		vi->text_len = (size_t)(end - vi->text);
		return vi->kind = VERDICT_FORBIDDEN;
	}
	if (!starts(data, n, "syntax\t"))
		return vi->kind = VERDICT_NONE;
	vi->kind = VERDICT_SYNTAX;
	p = data + strlen("syntax\t");
	if ((t1 = memchr(p, '\t', (size_t)(end - p))) == NULL ||
	    (t2 = memchr(t1 + 1, '\t', (size_t)(end - t1 - 1))) == NULL ||
	    !small_number(p, (size_t)(t1 - p), &vi->line) ||
	    !small_number(t1 + 1, (size_t)(t2 - t1 - 1), &vi->offset)) {
		vi->line = vi->offset = 0;
		return vi->kind;	/* a syntax error, position unknown */
	}
	vi->have_position = true;
	vi->text = t2 + 1;
	vi->text_len = (size_t)(end - vi->text);
	return vi->kind;
}
