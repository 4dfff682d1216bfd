/*
 * store_tap.h: the few TAP helpers test_store.c and test_slots.c share.
 * Output is valid TAP (plan last) and the exit status says pass/fail, so
 * either automake driver, plain or TAP, reads it. Only the parent test
 * process may report; forked children hand results back to it.
 */
#ifndef STORE_TAP_H
#define STORE_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static void tap_ok(int, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
tap_ok(int pass, int line, const char *fmt, ...)
{
	va_list	 ap;

	tap_n++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!pass)
		printf(" (line %d)", line);
	printf("\n");
	fflush(stdout);
}

#define ok(cond, ...)	tap_ok((cond) ? 1 : 0, __LINE__, __VA_ARGS__)

/* n points that cannot be judged here, each "ok N # SKIP why". */
static void __attribute__((unused))
tap_skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
}

static int
tap_done(void)
{
	printf("1..%d\n# %d passed, %d failed\n", tap_n, tap_n - tap_failed,
	    tap_failed);
	return tap_failed ? 1 : 0;
}

#endif /* STORE_TAP_H */
