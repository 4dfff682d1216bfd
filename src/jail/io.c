/*
 * io.c: whole reads and writes on descriptors and one-string files, for
 * code that must not allocate or use stdio: the jail's init, the zygote
 * before CPython starts, the worker's cgroup files. Part of the jail
 * library.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "jail/jail.h"

/* Writes all n bytes (retrying short writes and EINTR); 0 or -1. */
int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes; -1 on error or an early EOF. */
int
read_full(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Writes s into the existing file path (a /proc or cgroup control file):
 * never creates, never follows a final symlink. 0, or -1 with errno.
 */
int
write_string(const char *path, const char *s)
{
	int	 fd, rv, saved;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	rv = write_all(fd, s, strlen(s));
	saved = errno;
	if (close(fd) == -1 && rv == 0)
		return -1;
	errno = saved;
	return rv;
}

/*
 * prefix followed by v in decimal, into buf (NUL-terminated): a path such
 * as /proc/self/fd/N or a pid argument without snprintf. NULL if it does
 * not fit.
 */
char *
fmt_path_uint(char *buf, size_t size, const char *prefix, unsigned long v)
{
	char	 digits[24];
	size_t	 n = 0, plen = strlen(prefix);

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (plen + n + 1 > size)
		return NULL;
	memcpy(buf, prefix, plen);
	while (n > 0)
		buf[plen++] = digits[--n];
	buf[plen] = '\0';
	return buf;
}
