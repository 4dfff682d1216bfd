/*
 * slots.c: the cap on runs in flight across all workers (max_concurrent):
 * lock files runtime_dir/slot.0 .. slot.<max-1>, a run holds one. Owns
 * only the fd of the slot it holds. It must never hand out a slot it did
 * not lock, and never wait: a full house is SLOTS_BUSY at once.
 *
 * The locks are open file description locks (fcntl F_OFD_SETLK) on the
 * whole file. The kernel drops one when the last fd of its description
 * closes, so a worker that crashes or is SIGKILLed frees its slot with
 * nobody cleaning up, and no counter can leak. flock(2) has the same
 * release rule, but the only way to see whether a flock is held is to
 * try to take it: a worker counting the slots would then hold free ones
 * for an instant, and a concurrent slots_acquire() would find a full
 * house that is not (a spurious 503). F_OFD_GETLK asks without taking.
 * Locks on different descriptions conflict even within one process.
 *
 * The fd is O_CLOEXEC: the jail must not inherit a slot and keep it after
 * its worker is gone.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pyexec.h"

void
slots_init(struct slots *s)
{
	s->fd = -1;
	s->index = -1;
	s->active = 0;
}

/*
 * Opens slot i. With create unset a missing file is not an error: it has
 * never been locked, so it is free (returns -1 with errno ENOENT).
 */
static int
slot_open(const char *dir, int i, bool create, char *err, size_t errlen)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 fd, flags;

	flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

	if (snprintf(path, sizeof(path), "%s/slot.%d", dir, i) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (create)
		flags |= O_CREAT;
	if ((fd = open(path, flags, 0600)) == -1) {
		if (errno != ENOENT || create)
			snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
			    errno == ELOOP ? " (a symlink: refused)" : "");
		return -1;
	}
	/* A FIFO or someone else's file in our runtime dir is an attack. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not a regular file owned by uid %lu",
		    path, (unsigned long)geteuid());
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static void
whole_file(struct flock *fl, short type)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 0;		/* to the end, however far */
	fl->l_pid = 0;		/* required for OFD locks */
}

/* 1: someone holds slot i; 0: free; -1: error. */
static int
slot_held(const char *dir, int i, char *err, size_t errlen)
{
	struct flock	 fl;
	int		 fd;

	if ((fd = slot_open(dir, i, false, err, errlen)) == -1)
		return errno == ENOENT ? 0 : -1;
	whole_file(&fl, F_WRLCK);
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1) {
		snprintf(err, errlen, "%s/slot.%d: F_OFD_GETLK: %s", dir, i,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return fl.l_type != F_UNLCK;
}

enum slots_result
slots_acquire(struct slots *s, const char *dir, int max, char *err,
    size_t errlen)
{
	struct flock	 fl;
	int		 i, j, fd, held;

	slots_init(s);
	if (dir == NULL || max < 1) {
		snprintf(err, errlen, "slots: no directory or max < 1");
		return SLOTS_FAILED;
	}
	for (i = 0; i < max; i++) {
		if ((fd = slot_open(dir, i, true, err, errlen)) == -1)
			return SLOTS_FAILED;
		whole_file(&fl, F_WRLCK);
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			break;
		if (errno != EAGAIN && errno != EACCES) {
			snprintf(err, errlen, "%s/slot.%d: F_OFD_SETLK: %s",
			    dir, i, strerror(errno));
			close(fd);
			return SLOTS_FAILED;
		}
		close(fd);
	}
	if (i == max) {
		s->active = max;
		return SLOTS_BUSY;
	}
	s->fd = fd;
	s->index = i;

	/*
	 * For active_processes_at_request: the slots before ours were busy
	 * a moment ago; ask about the ones after it.
	 */
	s->active = i + 1;
	for (j = i + 1; j < max; j++) {
		if ((held = slot_held(dir, j, err, errlen)) == -1) {
			slots_release(s);
			return SLOTS_FAILED;
		}
		s->active += held;
	}
	return SLOTS_OK;
}

void
slots_release(struct slots *s)
{
	/* Closing the only fd of the description drops the lock. */
	if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	s->index = -1;
}

int
slots_count(const char *dir, int max, char *err, size_t errlen)
{
	int	 i, held, n = 0;

	if (dir == NULL || max < 1) {
		snprintf(err, errlen, "slots: no directory or max < 1");
		return -1;
	}
	for (i = 0; i < max; i++) {
		if ((held = slot_held(dir, i, err, errlen)) == -1)
			return -1;
		n += held;
	}
	return n;
}
