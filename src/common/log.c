/*
 * log.c: diagnostics on stderr, with sd-daemon "<N>" priority prefixes so
 * journald keeps the level. Owns nothing else. Never logs request bodies,
 * code, output or keys: callers pass only metadata.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

static const char *log_tag = "pyexec";
static int log_verbose;

void
log_init(const char *tag, int verbose)
{
	log_tag = tag;
	log_verbose = verbose;
}

static void	vlog(int, const char *, va_list, int)
		    __attribute__((format(printf, 2, 0)));

static void
vlog(int prio, const char *fmt, va_list ap, int errnum)
{
	char	 msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum)
		fprintf(stderr, "<%d>%s[%ld]: %s: %s\n", prio, log_tag,
		    (long)getpid(), msg, strerror(errnum));
	else
		fprintf(stderr, "<%d>%s[%ld]: %s\n", prio, log_tag,
		    (long)getpid(), msg);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(4, fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(4, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(6, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(7, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(2, fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(2, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
