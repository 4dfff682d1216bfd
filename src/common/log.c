/*
 * log.c: diagnostics on stderr, with sd-daemon "<N>" priority prefixes so
 * journald keeps the level, control bytes escaped. Owns nothing else.
 * Never logs request bodies, code, output or keys: callers pass only
 * metadata.
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
/* The request being served: lines logged meanwhile name it ("rid=..."). */
static char log_rid[40];

void
log_init(const char *tag, int verbose)
{
	log_tag = tag;
	log_verbose = verbose;
}

/*
 * Until called again with NULL, every line is prefixed "rid=ID: ", so a
 * warning in the middle of a request (a jail that failed, a store error)
 * can be matched to the request's own line and to the client's
 * X-Request-Id. The id is nginx's (32 hex digits) or "-"; anything else
 * is escaped like every other logged byte.
 */
void
log_set_request(const char *rid)
{
	if (rid == NULL)
		log_rid[0] = '\0';
	else
		strlcpy(log_rid, rid, sizeof(log_rid));
}

static void	vlog(int, const char *, va_list, int)
		    __attribute__((format(printf, 2, 0)));

/*
 * Log lines quote request data (the decoded path, the method, the client
 * address) and text from the jail. A newline there would forge a line of
 * its own, with a "<0>" priority under journald; so every byte outside
 * printable ASCII, and the backslash, is written as \xHH.
 */
static void
escape(const char *in, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 o = 0;

	for (; *p != '\0' && o + 5 <= outlen; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			out[o++] = (char)*p;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[*p >> 4];
		out[o++] = hex[*p & 0xf];
	}
	out[o] = '\0';
}

static void
vlog(int prio, const char *fmt, va_list ap, int errnum)
{
	char	 raw[1024], msg[4 * sizeof(raw) + 1];
	int	 n = 0;

	if (log_rid[0] != '\0')
		n = snprintf(raw, sizeof(raw), "rid=%s: ", log_rid);
	if (n < 0 || (size_t)n >= sizeof(raw))
		n = 0;
	vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
	escape(raw, msg, sizeof(msg));
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
