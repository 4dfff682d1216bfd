/*
 * util.c: allocation that cannot return NULL, fd and time helpers.
 * An allocation failure in a worker whose inputs are all capped is a bug,
 * so x*() abort; multiwatch replaces the worker.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb ? nmemb : 1, size ? size : 1)) == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t size)
{
	void	*p;

	if ((p = reallocarray(old, nmemb ? nmemb : 1, size ? size : 1)) == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
close_quietly(int *fd)
{
	if (*fd >= 0) {
		(void)close(*fd);
		*fd = -1;
	}
}

/*
 * Moves past done bytes of a vectored transfer (and any empty pieces
 * after them): the timed sendmsg/recvmsg loops of the session channel.
 */
void
iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/* Reads a small regular file (a key, a config) without following links. */
int
read_file_limited(const char *path, char **out, size_t *outlen, size_t max)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	return 0;
}

double
mono_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The value of one hexadecimal digit, or -1. */
int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Constant-time equality of two n-byte buffers: every byte is read and
 * the result depends on no early exit. libbsd on Debian 12 has no
 * timingsafe_bcmp, so this is ours.
 */
bool
ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char	*x = a, *y = b;
	unsigned char			 acc = 0;
	size_t				 i;

	for (i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

/*
 * True when pid no longer runs: gone, or a zombie its parent has not
 * reaped yet (a worker just killed, before multiwatch's waitpid).
 */
bool
pid_gone(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')' */
	return (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z';
}

/* The pids listed in dir/cgroup.procs, at most max; -1 if unreadable. */
static int
cgroup_pids(const char *dir, long *out, int max)
{
	char	 path[PATH_MAX], buf[16384], *p, *end;
	ssize_t	 n;
	int	 fd, count = 0, saved;
	long	 v;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	for (p = buf; count < max; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0)
			out[count++] = v;
	}
	return count;
}

/*
 * SIGKILLs every process of the cgroup dir but spare, again until none is
 * left or about a second has passed (a process may fork while we read).
 * Each pid is pinned by a pidfd, and signalled only if the group still
 * lists it after the pin: a pid that ended and was reused by a process
 * outside the group is never hit. 0 when nothing but spare is left.
 */
int
cgroup_kill_procs(const char *dir, pid_t spare)
{
	long	 pids[256], again[256];
	int	 pfd[256], n, m, i, j, round, left;

	for (round = 0; round < 50; round++) {
		if ((n = cgroup_pids(dir, pids, 256)) == -1)
			return errno == ENOENT ? 0 : -1;
		for (i = left = 0; i < n; i++) {
			pfd[i] = -1;
			if (pids[i] == (long)spare)
				continue;
			left++;
			pfd[i] = (int)syscall(SYS_pidfd_open, (pid_t)pids[i], 0);
		}
		if (left == 0)
			return 0;
		m = cgroup_pids(dir, again, 256);
		for (i = 0; i < n; i++) {
			if (pfd[i] == -1)
				continue;
			for (j = 0; j < m; j++)
				if (again[j] == pids[i]) {
					(void)syscall(SYS_pidfd_send_signal,
					    pfd[i], SIGKILL, NULL, 0);
					break;
				}
			close(pfd[i]);
		}
		usleep(20000);
	}
	return -1;
}

/* True if pid (as the caller's PID namespace sees it) is all the cgroup dir holds. */
bool
cgroup_only(const char *dir, pid_t pid)
{
	long	 pids[2];

	return cgroup_pids(dir, pids, 2) == 1 && pids[0] == (long)pid;
}
