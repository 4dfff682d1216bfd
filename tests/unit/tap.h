/*
 * tap.h: a tiny TAP producer for the unit tests, in the spirit of
 * bubblewrap's tests/test-utils.c. Header-only; each test program
 * includes it once.
 *
 *	plan(n);			"1..n" first
 *	ok(cond, fmt, ...);		one test point
 *	is_int(got, want, fmt, ...);	integers, with a diagnostic on failure
 *	is_str(got, want, fmt, ...);	NUL-terminated strings (NULL allowed)
 *	is_mem(got, glen, want, wlen, fmt, ...);  byte strings
 *	like(got, needle, fmt, ...);	got contains needle
 *	diag(fmt, ...);			a "# " comment line
 *	skip(n, why);			n points that cannot run here
 *	return done_testing();		summary line and exit status
 *
 * done_testing() prints "# N passed, N failed" (the line our CI reads)
 * and returns non-zero if any test failed or the count does not match
 * the plan; automake's TAP driver checks the plan again on its own.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	tap_planned = -1;
static int	tap_run;
static int	tap_failed;

#define TAP_UNUSED	__attribute__((unused))
#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))

static void TAP_UNUSED
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static void TAP_UNUSED TAP_PRINTF(1, 2)
diag(const char *fmt, ...)
{
	va_list	 ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* n points that cannot be judged in this environment. */
static void TAP_UNUSED
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_run, why);
}

static int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
    TAP_PRINTF(4, 0);

static int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	putchar('\n');
	if (!cond)
		printf("#   Failed test at %s line %d.\n", file, line);
	fflush(stdout);
	return cond;
}

static int TAP_UNUSED TAP_PRINTF(4, 5)
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static int TAP_UNUSED TAP_PRINTF(5, 6)
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return r;
}

/* Prints a byte string for a diagnostic, escaping what is not printable. */
static void TAP_UNUSED
tap_dump(const char *label, const char *s, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	printf("# %12s: ", label);
	if (s == NULL) {
		puts("NULL");
		return;
	}
	putchar('"');
	for (i = 0; i < n && i < 200; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("\"%s (%zu bytes)\n", i < n ? "..." : "", n);
}

static int TAP_UNUSED TAP_PRINTF(7, 8)
tap_is_mem(const void *got, size_t glen, const void *want, size_t wlen,
    const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 r, same;

	if (got == NULL || want == NULL)
		same = got == want;
	else
		same = glen == wlen && memcmp(got, want, glen) == 0;
	va_start(ap, fmt);
	r = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!r) {
		tap_dump("got", got, glen);
		tap_dump("expected", want, wlen);
	}
	return r;
}

static int TAP_UNUSED TAP_PRINTF(5, 6)
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 r, same;

	if (got == NULL || want == NULL)
		same = got == want;
	else
		same = strcmp(got, want) == 0;
	va_start(ap, fmt);
	r = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!r) {
		tap_dump("got", got, got ? strlen(got) : 0);
		tap_dump("expected", want, want ? strlen(want) : 0);
	}
	return r;
}

static int TAP_UNUSED TAP_PRINTF(5, 6)
tap_like(const char *got, const char *needle, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = tap_vok(got != NULL && strstr(got, needle) != NULL, file, line,
	    fmt, ap);
	va_end(ap);
	if (!r) {
		tap_dump("got", got, got ? strlen(got) : 0);
		tap_dump("to contain", needle, strlen(needle));
	}
	return r;
}

#define ok(cond, ...)	tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, glen, want, wlen, ...) \
	tap_is_mem((got), (glen), (want), (wlen), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define like(got, needle, ...) \
	tap_like((got), (needle), __FILE__, __LINE__, __VA_ARGS__)

static int TAP_UNUSED
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned)
		printf("# Planned %d tests but ran %d.\n", tap_planned,
		    tap_run);
	printf("# %d passed, %d failed\n", tap_run - tap_failed, tap_failed);
	fflush(stdout);
	if (tap_failed > 0 || (tap_planned >= 0 && tap_run != tap_planned))
		return 1;
	return 0;
}

#endif /* TAP_H */
