/*
 * pylit.c: the values /evaluate compares, outside any jail.
 *
 * The parser accepts a strict subset of Python literals: None, True,
 * False, ints (decimal of any size up to PYLIT_INT_DIGITS digits, kept as
 * exact text when they do not fit a long long; 0x/0o/0b when they do),
 * floats (and the names inf and nan, as repr() writes them), strings with
 * Python's escapes and prefixes r and u, lists, tuples, dicts, sets and
 * set(), one unary sign on a number, trailing commas. Nothing is ever
 * evaluated; names other than those are errors, so are bytes, complex
 * numbers, calls and operators. It parses io_cases (the caller's text)
 * and every value a grading jail sends back (hostile text), so it is
 * bounded in depth, checks UTF-8 first and allocates only what the input
 * spells.
 *
 * Comparison is on these parsed values only: no object of the submission
 * exists here, so no __eq__ of its own can answer.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/pylit.h"

struct lp {
	const char	*s;
	size_t		 n;
	size_t		 pos;
	int		 depth;
	char		*err;
	size_t		 errlen;
};

static int	 fail(struct lp *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
fail(struct lp *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 m[160];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s at offset %zu", m, p->pos);
	return -1;
}

const char *
pv_kind_name(enum pv_kind k)
{
	switch (k) {
	case PV_NONE:	return "NoneType";
	case PV_BOOL:	return "bool";
	case PV_INT:
	case PV_BIGINT:	return "int";
	case PV_FLOAT:	return "float";
	case PV_STR:	return "str";
	case PV_LIST:	return "list";
	case PV_TUPLE:	return "tuple";
	case PV_SET:	return "set";
	case PV_DICT:	return "dict";
	}
	return "?";
}

void
pv_free(struct pv *v)
{
	size_t	 i, n;

	if (v == NULL)
		return;
	n = v->kind == PV_DICT ? 2 * v->n : v->n;
	if (v->items != NULL)
		for (i = 0; i < n; i++)
			pv_free(&v->items[i]);
	free(v->items);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static int
peek(const struct lp *p)
{
	return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static void
skip_ws(struct lp *p)
{
	while (p->pos < p->n && strchr(" \t\r\n\f\v", p->s[p->pos]) != NULL &&
	    p->s[p->pos] != '\0')
		p->pos++;
}

static bool
is_ident0(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_ident(int c)
{
	return is_ident0(c) || (c >= '0' && c <= '9');
}

/* A growing array of values, handed to a struct pv when complete. */
struct vec {
	struct pv	*v;
	size_t		 n;
	size_t		 cap;
};

static struct pv *
vec_push(struct vec *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 4;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	return &a->v[a->n++];
}

static void
vec_free(struct vec *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		pv_free(&a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void
vec_give(struct vec *a, struct pv *to, enum pv_kind k, size_t n)
{
	to->kind = k;
	to->items = a->v;
	to->n = n;
	memset(a, 0, sizeof(*a));
}

/* A growing byte string. */
struct sb {
	char	*d;
	size_t	 n;
	size_t	 cap;
};

static void
sb_add(struct sb *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		while (b->n + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 64;
		b->d = xreallocarray(b->d, b->cap, 1);
	}
	memcpy(b->d + b->n, p, n);
	b->n += n;
	b->d[b->n] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static int
sb_cp(struct lp *p, struct sb *b, unsigned long cp)
{
	char	 u[4];

	if (cp >= 0xd800 && cp <= 0xdfff)
		return fail(p, "lone surrogate \\u%04lx in a string", cp);
	if (cp > 0x10ffff)
		return fail(p, "code point out of range in a string");
	if (cp < 0x80) {
		u[0] = (char)cp;
		sb_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		sb_add(b, u, 4);
	}
	return 0;
}

/* One escape after a backslash (p->pos is past the backslash). */
static int
escape(struct lp *p, struct sb *b)
{
	unsigned long	 cp = 0;
	int		 c = peek(p), i, ndig, h;
	static const char from[] = "\\'\"abfnrtv", to[] = "\\'\"\a\b\f\n\r\t\v";
	const char	*q;

	if (c == -1)
		return fail(p, "string ends in a backslash");
	p->pos++;
	if (c == '\n')
		return 0;		/* line continuation */
	if ((q = strchr(from, c)) != NULL && c != '\0') {
		sb_add(b, &to[q - from], 1);
		return 0;
	}
	if (c >= '0' && c <= '7') {
		cp = (unsigned long)(c - '0');
		for (i = 0; i < 2 && peek(p) >= '0' && peek(p) <= '7'; i++)
			cp = cp * 8 + (unsigned long)(p->s[p->pos++] - '0');
		return sb_cp(p, b, cp);
	}
	if (c == 'x' || c == 'u' || c == 'U') {
		ndig = c == 'x' ? 2 : c == 'u' ? 4 : 8;
		for (i = 0; i < ndig; i++) {
			if ((h = hex_digit(peek(p))) == -1)
				return fail(p, "truncated \\%c escape", c);
			cp = cp * 16 + (unsigned long)h;
			p->pos++;
		}
		return sb_cp(p, b, cp);
	}
	if (c == 'N')
		return fail(p, "\\N{...} escapes are not supported");
	/* Python keeps an unknown escape as it is. */
	sb_add(b, "\\", 1);
	sb_add(b, &p->s[p->pos - 1], 1);
	return 0;
}

/* One string literal, prefix included; appended to b. */
static int
string1(struct lp *p, struct sb *b)
{
	bool	 raw = false, triple;
	int	 c, q;

	while (is_ident0(c = peek(p))) {
		switch (tolower(c)) {
		case 'r':
			raw = true;
			break;
		case 'u':
			break;
		case 'b':
			return fail(p, "bytes are not supported");
		case 'f':
			return fail(p, "f-strings are not literals");
		default:
			return fail(p, "unexpected name");
		}
		p->pos++;
	}
	q = peek(p);
	if (q != '\'' && q != '"')
		return fail(p, "unexpected name");
	p->pos++;
	triple = p->pos + 1 < p->n && p->s[p->pos] == q && p->s[p->pos + 1] == q;
	if (triple)
		p->pos += 2;
	for (;;) {
		if ((c = peek(p)) == -1)
			return fail(p, "unterminated string");
		if (c == q && (!triple || (p->pos + 2 < p->n &&
		    p->s[p->pos + 1] == q && p->s[p->pos + 2] == q))) {
			p->pos += triple ? 3 : 1;
			return 0;
		}
		if (c == '\0')
			return fail(p, "NUL byte in a string");
		if (c == '\n' && !triple)
			return fail(p, "newline in a string");
		if (c == '\\' && !raw) {
			p->pos++;
			if (escape(p, b) == -1)
				return -1;
			continue;
		}
		if (c == '\\' && raw && p->pos + 1 < p->n) {
			/* A raw string still cannot end in its quote. */
			sb_add(b, &p->s[p->pos], 2);
			p->pos += 2;
			continue;
		}
		sb_add(b, &p->s[p->pos++], 1);
	}
}

static bool
starts_string(const struct lp *p)
{
	size_t	 i = p->pos;

	while (i < p->n && i < p->pos + 2 && strchr("rRuUbBfF", p->s[i]) &&
	    p->s[i] != '\0')
		i++;
	return i < p->n && (p->s[i] == '\'' || p->s[i] == '"');
}

/* Adjacent literals concatenate, as in Python. */
static int
string(struct lp *p, struct pv *v)
{
	struct sb	 b = { NULL, 0, 0 };

	sb_add(&b, "", 0);
	do {
		if (string1(p, &b) == -1) {
			free(b.d);
			return -1;
		}
		skip_ws(p);
	} while (starts_string(p));
	v->kind = PV_STR;
	v->s = b.d;
	v->len = b.n;
	return 0;
}

/*
 * Digits with single underscores between them into out (without them).
 * Returns the count, or -1.
 */
static long
digits(struct lp *p, struct sb *out, int base)
{
	long	 n = 0;
	int	 c;

	for (;;) {
		c = peek(p);
		if (c == '_' && n > 0 && p->pos + 1 < p->n &&
		    hex_digit(p->s[p->pos + 1]) >= 0 &&
		    hex_digit(p->s[p->pos + 1]) < base) {
			p->pos++;
			continue;
		}
		if (c == -1 || hex_digit(c) < 0 || hex_digit(c) >= base)
			return n;
		sb_add(out, &p->s[p->pos++], 1);
		if (++n > PYLIT_INT_DIGITS)
			return -1;
	}
}

static int
number(struct lp *p, bool neg, struct pv *v)
{
	struct sb	 t = { NULL, 0, 0 };
	bool		 isfloat = false;
	long		 nd, nfrac = 0, base = 10;
	char		*end;
	int		 c, rv = -1;

	if (neg)
		sb_add(&t, "-", 1);
	if (peek(p) == '0' && p->pos + 1 < p->n &&
	    strchr("xXoObB", p->s[p->pos + 1]) != NULL && p->s[p->pos + 1]) {
		c = tolower((unsigned char)p->s[p->pos + 1]);
		base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
		p->pos += 2;
		if (peek(p) == '_')
			p->pos++;
		if ((nd = digits(p, &t, (int)base)) <= 0) {
			rv = fail(p, "bad base-%ld integer", base);
			goto out;
		}
		errno = 0;
		v->i = strtoll(t.d, &end, (int)base);
		if (errno == ERANGE) {
			rv = fail(p, "base-%ld integer too large", base);
			goto out;
		}
		v->kind = PV_INT;
		goto tail;
	}
	if ((nd = digits(p, &t, 10)) < 0) {
		rv = fail(p, "integer of more than %d digits", PYLIT_INT_DIGITS);
		goto out;
	}
	if (peek(p) == '.') {
		isfloat = true;
		sb_add(&t, ".", 1);
		p->pos++;
		if ((nfrac = digits(p, &t, 10)) < 0) {
			rv = fail(p, "number too long");
			goto out;
		}
	}
	if (nd == 0 && nfrac == 0) {
		rv = fail(p, "expected a value");
		goto out;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		isfloat = true;
		sb_add(&t, "e", 1);
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			sb_add(&t, &p->s[p->pos++], 1);
		if (digits(p, &t, 10) <= 0) {
			rv = fail(p, "bad exponent");
			goto out;
		}
	}
	if (isfloat) {
		v->kind = PV_FLOAT;
		v->f = strtod(t.d, &end);
		goto tail;
	}
	/* Python refuses 0123 (but not 000). */
	if (nd > 1 && t.d[neg ? 1 : 0] == '0') {
		size_t	 i;

		for (i = neg ? 1 : 0; i < t.n; i++)
			if (t.d[i] != '0') {
				rv = fail(p, "leading zeros in an integer");
				goto out;
			}
	}
	errno = 0;
	v->i = strtoll(t.d, &end, 10);
	if (errno != ERANGE) {
		v->kind = PV_INT;
		goto tail;
	}
	v->kind = PV_BIGINT;
	v->s = t.d;		/* no leading zero: it did not fit */
	v->len = t.n;
	t.d = NULL;
tail:
	if ((c = peek(p)) == 'j' || c == 'J') {
		pv_free(v);
		rv = fail(p, "complex numbers are not supported");
		goto out;
	}
	if (is_ident(c) || c == '.') {
		pv_free(v);
		rv = fail(p, "malformed number");
		goto out;
	}
	rv = 0;
out:
	free(t.d);
	return rv;
}

static bool
word(struct lp *p, const char *w)
{
	size_t	 n = strlen(w);

	if (p->n - p->pos < n || memcmp(p->s + p->pos, w, n) != 0 ||
	    (p->pos + n < p->n && is_ident((unsigned char)p->s[p->pos + n])))
		return false;
	p->pos += n;
	return true;
}

static bool
hashable(const struct pv *v)
{
	size_t	 i;

	if (v->kind == PV_LIST || v->kind == PV_DICT || v->kind == PV_SET)
		return false;
	if (v->kind == PV_TUPLE)
		for (i = 0; i < v->n; i++)
			if (!hashable(&v->items[i]))
				return false;
	return true;
}

static int value(struct lp *, struct pv *);

/* [a, b] (a, b) {a, b} {a: b}; p->pos is past the opening bracket. */
static int
container(struct lp *p, int open, struct pv *v)
{
	struct vec	 a = { NULL, 0, 0 };
	int		 close = open == '[' ? ']' : open == '(' ? ')' : '}';
	enum pv_kind	 k = open == '[' ? PV_LIST : open == '(' ? PV_TUPLE :
			    PV_SET;
	bool		 first = true, comma = false;
	struct pv	*x;

	if (++p->depth > PYLIT_DEPTH)
		return fail(p, "nested deeper than %d", PYLIT_DEPTH);
	for (;;) {
		skip_ws(p);
		if (peek(p) == close) {
			p->pos++;
			break;
		}
		if (!first && !comma)
			goto bad;
		x = vec_push(&a);
		if (value(p, x) == -1)
			goto err;
		if (k != PV_LIST && open == '{' && !hashable(x)) {
			fail(p, "unhashable %s as a set member or dict key",
			    pv_kind_name(x->kind));
			goto err;
		}
		skip_ws(p);
		if (open == '{' && first && peek(p) == ':')
			k = PV_DICT;
		if (k == PV_DICT) {
			if (peek(p) != ':')
				goto bad;
			p->pos++;
			skip_ws(p);
			if (value(p, vec_push(&a)) == -1)
				goto err;
			skip_ws(p);
		}
		first = false;
		comma = peek(p) == ',';
		if (comma)
			p->pos++;
		/* (x) is x; (x,) is a tuple. */
		else if (open == '(' && a.n == 1 && peek(p) == ')') {
			p->pos++;
			*v = a.v[0];
			free(a.v);
			p->depth--;
			return 0;
		}
	}
	if (first && open == '{')
		k = PV_DICT;
	vec_give(&a, v, k, k == PV_DICT ? a.n / 2 : a.n);
	p->depth--;
	return 0;
bad:
	fail(p, "expected ',' or '%c'", close);
err:
	vec_free(&a);
	return -1;
}

static int
value(struct lp *p, struct pv *v)
{
	int	 c, sign = 0;

	skip_ws(p);
	c = peek(p);
	if (c == '-' || c == '+') {
		sign = c;
		p->pos++;
		skip_ws(p);
		c = peek(p);
	}
	if ((c >= '0' && c <= '9') || (c == '.' && p->pos + 1 < p->n &&
	    isdigit((unsigned char)p->s[p->pos + 1])))
		return number(p, sign == '-', v);
	if (word(p, "inf")) {
		v->kind = PV_FLOAT;
		v->f = sign == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (word(p, "nan")) {
		v->kind = PV_FLOAT;
		v->f = NAN;
		return 0;
	}
	if (sign != 0)
		return fail(p, "a sign applies only to a number");
	if (c == '[' || c == '(' || c == '{') {
		p->pos++;
		return container(p, c, v);
	}
	if (starts_string(p))
		return string(p, v);
	if (word(p, "None")) {
		v->kind = PV_NONE;
		return 0;
	}
	if (word(p, "True") || word(p, "False")) {
		v->kind = PV_BOOL;
		v->b = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
		return 0;
	}
	if (word(p, "set")) {
		skip_ws(p);
		if (peek(p) == '(') {
			p->pos++;
			skip_ws(p);
			if (peek(p) == ')') {
				p->pos++;
				v->kind = PV_SET;
				return 0;
			}
		}
		return fail(p, "only set() is a literal");
	}
	if (c == -1)
		return fail(p, "expected a value, found the end");
	if (is_ident0(c))
		return fail(p, "names are not literals");
	return fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ?
	    c : '?');
}

/* "a = 1, b = [2]": keyword pairs, as io_cases write them. */
static int
kwargs(struct lp *p, struct pv *v)
{
	struct vec	 a = { NULL, 0, 0 };
	struct pv	*k;
	size_t		 start, i;

	for (;;) {
		skip_ws(p);
		if (peek(p) == -1 && a.n > 0)
			break;
		if (!is_ident0(peek(p))) {
			fail(p, "expected a keyword name");
			goto err;
		}
		start = p->pos;
		while (is_ident(peek(p)))
			p->pos++;
		k = vec_push(&a);
		k->kind = PV_STR;
		k->s = xstrndup(p->s + start, p->pos - start);
		k->len = p->pos - start;
		for (i = 0; i + 1 < a.n; i += 2)
			if (a.v[i].len == k->len &&
			    memcmp(a.v[i].s, k->s, k->len) == 0) {
				fail(p, "keyword '%s' given twice", k->s);
				goto err;
			}
		skip_ws(p);
		if (peek(p) != '=') {
			fail(p, "expected '='");
			goto err;
		}
		p->pos++;
		if (value(p, vec_push(&a)) == -1)
			goto err;
		skip_ws(p);
		if (peek(p) == -1)
			break;
		if (peek(p) != ',') {
			fail(p, "expected ',' between keyword pairs");
			goto err;
		}
		p->pos++;
	}
	vec_give(&a, v, PV_DICT, a.n / 2);
	return 0;
err:
	vec_free(&a);
	return -1;
}

static bool
looks_like_kwargs(const struct lp *p)
{
	size_t	 i = p->pos;

	if (i >= p->n || !is_ident0((unsigned char)p->s[i]))
		return false;
	while (i < p->n && is_ident((unsigned char)p->s[i]))
		i++;
	while (i < p->n && (p->s[i] == ' ' || p->s[i] == '\t'))
		i++;
	return i < p->n && p->s[i] == '=' && (i + 1 == p->n ||
	    p->s[i + 1] != '=');
}

int
pylit_parse(const char *s, size_t n, int flags, struct pv *out, char *err,
    size_t errlen)
{
	struct lp	 p = { s, n, 0, 0, err, errlen };
	struct vec	 a = { NULL, 0, 0 };
	size_t		 nch, ncomma = 0;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (utf8_count(s, n, &nch) == -1)
		return fail(&p, "not valid UTF-8");
	skip_ws(&p);
	if ((flags & PYLIT_KWARGS) && looks_like_kwargs(&p))
		return kwargs(&p, out);
	if (value(&p, vec_push(&a)) == -1)
		goto err;
	skip_ws(&p);
	/* "1, 2" and "1," are tuples in Python too. */
	while (peek(&p) == ',') {
		p.pos++;
		ncomma++;
		skip_ws(&p);
		if (peek(&p) == -1)
			break;
		if (value(&p, vec_push(&a)) == -1)
			goto err;
		skip_ws(&p);
	}
	if (peek(&p) != -1) {
		fail(&p, "unexpected text after the value");
		goto err;
	}
	if (ncomma == 0) {
		*out = a.v[0];
		free(a.v);
		return 0;
	}
	vec_give(&a, out, PV_TUPLE, a.n);
	return 0;
err:
	vec_free(&a);
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ------------------------------------------------------------------ */

static void
write_float(struct sb *b, double f)
{
	char	 t[40];

	if (isnan(f)) {
		sb_str(b, "nan");
		return;
	}
	if (isinf(f)) {
		sb_str(b, f < 0 ? "-inf" : "inf");
		return;
	}
	snprintf(t, sizeof(t), "%.17g", f);
	if (strspn(t, "-0123456789") == strlen(t))
		strlcat(t, ".0", sizeof(t));
	sb_str(b, t);
}

static void
write_str(struct sb *b, const char *s, size_t n)
{
	char	 t[8];
	size_t	 i;

	sb_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (c == '\\' || c == '"') {
			t[0] = '\\';
			t[1] = (char)c;
			sb_add(b, t, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(t, sizeof(t), "\\x%02x", c);
			sb_add(b, t, 4);
		} else
			sb_add(b, &s[i], 1);
	}
	sb_add(b, "\"", 1);
}

static void
write_v(struct sb *b, const struct pv *v)
{
	char	 t[32];
	size_t	 i;

	switch (v->kind) {
	case PV_NONE:
		sb_str(b, "None");
		return;
	case PV_BOOL:
		sb_str(b, v->b ? "True" : "False");
		return;
	case PV_INT:
		snprintf(t, sizeof(t), "%lld", v->i);
		sb_str(b, t);
		return;
	case PV_BIGINT:
		sb_add(b, v->s, v->len);
		return;
	case PV_FLOAT:
		write_float(b, v->f);
		return;
	case PV_STR:
		write_str(b, v->s, v->len);
		return;
	case PV_SET:
		if (v->n == 0) {
			sb_str(b, "set()");
			return;
		}
		/* FALLTHROUGH */
	case PV_LIST:
	case PV_TUPLE:
		sb_str(b, v->kind == PV_LIST ? "[" : v->kind == PV_SET ? "{" :
		    "(");
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				sb_str(b, ", ");
			write_v(b, &v->items[i]);
		}
		if (v->kind == PV_TUPLE && v->n == 1)
			sb_str(b, ",");
		sb_str(b, v->kind == PV_LIST ? "]" : v->kind == PV_SET ? "}" :
		    ")");
		return;
	case PV_DICT:
		sb_str(b, "{");
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				sb_str(b, ", ");
			write_v(b, &v->items[2 * i]);
			sb_str(b, ": ");
			write_v(b, &v->items[2 * i + 1]);
		}
		sb_str(b, "}");
		return;
	}
}

char *
pylit_write(const struct pv *v, size_t *len)
{
	struct sb	 b = { NULL, 0, 0 };

	sb_add(&b, "", 0);
	write_v(&b, v);
	if (len != NULL)
		*len = b.n;
	return b.d;
}

/* ------------------------------------------------------------------ */

static bool
is_num(const struct pv *v)
{
	return v->kind == PV_INT || v->kind == PV_BIGINT || v->kind == PV_FLOAT;
}

static double
num_d(const struct pv *v)
{
	if (v->kind == PV_INT)
		return (double)v->i;
	if (v->kind == PV_BIGINT)
		return strtod(v->s, NULL);
	return v->f;
}

static int
rank(const struct pv *v)
{
	switch (v->kind) {
	case PV_NONE:	return 0;
	case PV_BOOL:	return 1;
	case PV_INT:
	case PV_BIGINT:
	case PV_FLOAT:	return 2;
	case PV_STR:	return 3;
	case PV_LIST:
	case PV_TUPLE:	return 4;	/* JSON arrays meet tuples */
	case PV_SET:	return 5;
	case PV_DICT:	return 6;
	}
	return 7;
}

/* A total order, for sorting multisets and dict keys; equal under
 * exact comparison implies 0. */
static int
pv_order(const struct pv *a, const struct pv *b)
{
	size_t	 i, n;
	double	 x, y;
	int	 r;

	if ((r = rank(a) - rank(b)) != 0)
		return r;
	switch (a->kind) {
	case PV_NONE:
		return 0;
	case PV_BOOL:
		return (int)a->b - (int)b->b;
	case PV_INT:
	case PV_BIGINT:
	case PV_FLOAT:
		if (a->kind == PV_INT && b->kind == PV_INT)
			return a->i < b->i ? -1 : a->i > b->i;
		x = num_d(a);
		y = num_d(b);
		if (isnan(x) || isnan(y))
			return (int)isnan(x) - (int)isnan(y);
		return x < y ? -1 : x > y;
	case PV_STR:
		n = a->len < b->len ? a->len : b->len;
		if ((r = memcmp(a->s, b->s, n)) != 0)
			return r;
		return a->len < b->len ? -1 : a->len > b->len;
	default:
		if (a->n != b->n)
			return a->n < b->n ? -1 : 1;
		n = a->kind == PV_DICT ? 2 * a->n : a->n;
		for (i = 0; i < n; i++)
			if ((r = pv_order(&a->items[i], &b->items[i])) != 0)
				return r;
		return 0;
	}
}

static int
order_ptr(const void *x, const void *y)
{
	return pv_order(*(const struct pv *const *)x,
	    *(const struct pv *const *)y);
}

static bool
num_equal(const struct pv *a, const struct pv *b, const struct pv_cmp *c)
{
	double	 x, y, d, m;

	if (a->kind == PV_INT && b->kind == PV_INT)
		return a->i == b->i;
	if (a->kind == PV_BIGINT && b->kind == PV_BIGINT)
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	if (a->kind != PV_FLOAT && b->kind != PV_FLOAT)
		return false;	/* int and bigint never meet: normalised */
	x = num_d(a);
	y = num_d(b);
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y);
	if (x == y) {
		const struct pv	*in = a->kind == PV_FLOAT ? b : a;
		const struct pv	*fl = a->kind == PV_FLOAT ? a : b;

		/* As in Python, an int equals a float only exactly. */
		if (c->type == PVC_FLOAT || in->kind != PV_INT)
			return true;
		return fabs(fl->f) < 9.2e18 && (long long)fl->f == in->i;
	}
	if (c->type != PVC_FLOAT || isinf(x) || isinf(y))
		return false;
	d = fabs(x - y);
	m = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
	return d <= c->rel_tol * m || d <= c->abs_tol;
}

static bool
seq_kind_ok(const struct pv *got, const struct pv *exp,
    const struct pv_cmp *c)
{
	if (got->kind == exp->kind)
		return true;
	/* JSON has arrays only: a tuple or set result may meet one. */
	return c->json_expected && exp->kind == PV_LIST;
}

static bool
multiset_equal(const struct pv *got, const struct pv *exp, size_t n,
    const struct pv_cmp *c)
{
	const struct pv	**a, **b;
	size_t		 i;
	bool		 ok = true;

	a = xcalloc(n ? n : 1, sizeof(*a));
	b = xcalloc(n ? n : 1, sizeof(*b));
	for (i = 0; i < n; i++) {
		a[i] = &got->items[i];
		b[i] = &exp->items[i];
	}
	qsort(a, n, sizeof(*a), order_ptr);
	qsort(b, n, sizeof(*b), order_ptr);
	for (i = 0; i < n && ok; i++)
		ok = pv_equal(a[i], b[i], c);
	free(a);
	free(b);
	return ok;
}

static bool
dict_equal(const struct pv *got, const struct pv *exp, const struct pv_cmp *c)
{
	const struct pv	**a, **b;
	struct pv_cmp	 exact = *c;
	size_t		 i, n = got->n;
	bool		 ok = true;

	if (got->n != exp->n)
		return false;
	exact.type = PVC_EXACT;
	a = xcalloc(n ? n : 1, sizeof(*a));
	b = xcalloc(n ? n : 1, sizeof(*b));
	for (i = 0; i < n; i++) {
		a[i] = &got->items[2 * i];	/* key; value follows it */
		b[i] = &exp->items[2 * i];
	}
	qsort(a, n, sizeof(*a), order_ptr);
	qsort(b, n, sizeof(*b), order_ptr);
	for (i = 0; i < n && ok; i++)
		ok = pv_equal(a[i], b[i], &exact) &&
		    pv_equal(a[i] + 1, b[i] + 1, c);
	free(a);
	free(b);
	return ok;
}

bool
pv_equal(const struct pv *got, const struct pv *exp, const struct pv_cmp *c)
{
	size_t	 i;

	if (is_num(got) && is_num(exp))
		return num_equal(got, exp, c);
	switch (exp->kind) {
	case PV_NONE:
		return got->kind == PV_NONE;
	case PV_BOOL:
		return got->kind == PV_BOOL && got->b == exp->b;
	case PV_STR:
		return got->kind == PV_STR && got->len == exp->len &&
		    memcmp(got->s, exp->s, got->len) == 0;
	case PV_LIST:
	case PV_TUPLE:
	case PV_SET:
		if ((got->kind != PV_LIST && got->kind != PV_TUPLE &&
		    got->kind != PV_SET) || !seq_kind_ok(got, exp, c) ||
		    got->n != exp->n)
			return false;
		if (got->kind == PV_SET || exp->kind == PV_SET ||
		    c->type == PVC_UNORDERED)
			return multiset_equal(got, exp, got->n, c);
		for (i = 0; i < got->n; i++)
			if (!pv_equal(&got->items[i], &exp->items[i], c))
				return false;
		return true;
	case PV_DICT:
		return got->kind == PV_DICT && dict_equal(got, exp, c);
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */

/* Each line without trailing white space; trailing blank lines dropped. */
static char *
norm_lines(const char *s, size_t n, size_t *outlen)
{
	struct sb	 b = { NULL, 0, 0 };
	size_t		 i = 0, e, j;

	sb_add(&b, "", 0);
	while (i < n) {
		for (e = i; e < n && s[e] != '\n'; e++)
			;
		for (j = e; j > i && strchr(" \t\r\f\v", s[j - 1]) != NULL &&
		    s[j - 1] != '\0'; j--)
			;
		sb_add(&b, s + i, j - i);
		sb_add(&b, "\n", 1);
		i = e + 1;
	}
	while (b.n > 0 && b.d[b.n - 1] == '\n')
		b.n--;
	*outlen = b.n;
	return b.d;
}

static bool
tok_float(const char *s, size_t n, double *d)
{
	char	 t[64], *end;

	if (n == 0 || n >= sizeof(t))
		return false;
	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	*d = strtod(t, &end);
	return *end == '\0' && errno == 0;
}

static bool
tokens_equal(const char *a, size_t an, const char *b, size_t bn, double rel,
    double abs_tol)
{
	size_t	 i = 0, j = 0, ti, tj, li, lj;
	double	 x, y, d, m;

	for (;;) {
		while (i < an && isspace((unsigned char)a[i]))
			i++;
		while (j < bn && isspace((unsigned char)b[j]))
			j++;
		if (i == an || j == bn)
			return i == an && j == bn;
		for (ti = i; ti < an && !isspace((unsigned char)a[ti]); ti++)
			;
		for (tj = j; tj < bn && !isspace((unsigned char)b[tj]); tj++)
			;
		li = ti - i;
		lj = tj - j;
		if (li != lj || memcmp(a + i, b + j, li) != 0) {
			if ((rel <= 0 && abs_tol <= 0) ||
			    !tok_float(a + i, li, &x) ||
			    !tok_float(b + j, lj, &y) || isnan(x) || isnan(y))
				return false;
			d = fabs(x - y);
			m = fabs(x) > fabs(y) ? fabs(x) : fabs(y);
			if (!(x == y || d <= rel * m || d <= abs_tol))
				return false;
		}
		i = ti;
		j = tj;
	}
}

bool
text_equal(const char *got, size_t gn, const char *exp, size_t en,
    enum text_cmp how, double rel, double abs_tol)
{
	char	*a, *b;
	size_t	 an, bn;
	bool	 ok;

	switch (how) {
	case TXC_LINES:
		a = norm_lines(got, gn, &an);
		b = norm_lines(exp, en, &bn);
		ok = an == bn && memcmp(a, b, an) == 0;
		free(a);
		free(b);
		return ok;
	case TXC_TOKENS:
		return tokens_equal(got, gn, exp, en, rel, abs_tol);
	default:
		return gn == en && memcmp(got, exp, gn) == 0;
	}
}
