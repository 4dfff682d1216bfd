/*
 * slots.c: the cap on runs in flight across all workers (max_concurrent):
 * lock files runtime_dir/slot.0 .. slot.<max-1>, a run holds one. Owns
 * only the fd of the slot it holds. It must never hand out a slot it did
 * not lock. A full house is SLOTS_BUSY at once, unless max_queue_wait_ms
 * is set: then the request waits its turn (slots_acquire_wait, below).
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

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "store/store.h"

void
slots_init(struct slots *s)
{
	s->fd = -1;
	s->index = -1;
	s->active = 0;
	s->cached = false;
}

/*
 * Opens dir/name, a lock file of ours. With create unset a missing file is
 * not an error: it has never been locked, so it is free (returns -1 with
 * errno ENOENT).
 */
static int
name_open(const char *dir, const char *name, bool create, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 fd, flags;

	flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
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

/* Opens kind.i (slot.3, queue.0), as name_open. */
static int
file_open(const char *dir, const char *kind, int i, bool create, char *err,
    size_t errlen)
{
	char	 name[64];

	if (snprintf(name, sizeof(name), "%s.%d", kind, i) >=
	    (int)sizeof(name)) {
		snprintf(err, errlen, "%s: slot name too long", kind);
		errno = ENAMETOOLONG;
		return -1;
	}
	return name_open(dir, name, create, err, errlen);
}

static int
slot_open(const char *dir, int i, bool create, char *err, size_t errlen)
{
	return file_open(dir, "slot", i, create, err, errlen);
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

/*
 * Each worker keeps one open file description per slot, opened on first
 * use: a request then costs one fcntl per slot tried, not an open, fstat
 * and close each. OFD locks belong to the description, so a forked child
 * must not use its parent's: the cache is per process (pid-checked).
 * Releasing unlocks instead of closing; a worker that dies still drops its
 * lock, since its descriptors close.
 */
#define SLOT_CACHE	256
static struct {
	pid_t	 pid;
	char	 dir[PATH_MAX];
	int	 fd[SLOT_CACHE];
	bool	 mine[SLOT_CACHE];	/* held by this process right now */
} cache;

/*
 * Which slots are held, as a hint every worker reads without a system
 * call: byte i of runtime_dir/slots.map (MAP_SHARED) is 1 while slot i is
 * held. The locks stay the truth, a slot is only ever taken by locking it;
 * the map saves the scans. An acquire first tries a slot the map says is
 * free, and its count of slots held is the map's, where it was one
 * F_OFD_GETLK per slot (max_concurrent 64: most of a session call's
 * system calls). A worker killed while holding leaves its byte set: the
 * count reads high by one until an acquire finds the stale byte
 * (map_heal). runtime_dir is emptied when the service starts, and the map
 * with it. Without the map (it could not be made: logged) every acquire
 * scans and counts as before.
 */
#define SLOT_MAP	"slots.map"
static uint8_t	*map;		/* SLOT_CACHE bytes, or NULL */
static pid_t	 map_pid;

static void
map_open(const char *dir)
{
	struct stat	 st;
	char		 err[PATH_MAX + 64];
	void		*p;
	int		 fd;

	if (map != NULL)
		(void)munmap(map, SLOT_CACHE);
	map = NULL;
	map_pid = getpid();
	if ((fd = name_open(dir, SLOT_MAP, true, err, sizeof(err))) == -1) {
		log_warnx("%s; counting run slots one by one", err);
		return;
	}
	/* Zero-filled, so concurrent creators agree; never shrunk. */
	if (fstat(fd, &st) == -1 || (st.st_size < SLOT_CACHE &&
	    ftruncate(fd, SLOT_CACHE) == -1)) {
		log_warn("%s/%s; counting run slots one by one", dir, SLOT_MAP);
		close(fd);
		return;
	}
	p = mmap(NULL, SLOT_CACHE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("mmap %s/%s", dir, SLOT_MAP);
		return;
	}
	/* Not into forks (a keeper, a jail before its exec): workers only. */
	(void)madvise(p, SLOT_CACHE, MADV_DONTFORK);
	map = p;
}

static void
map_set(int i, uint8_t v)
{
	if (map != NULL && map_pid == cache.pid && i >= 0 && i < SLOT_CACHE)
		__atomic_store_n(&map[i], v, __ATOMIC_RELEASE);
}

/* Slots the map says are held in from .. max-1 but skip; -1: no map. */
static int
map_count(int from, int max, int skip)
{
	int	 i, n = 0;

	if (map == NULL || map_pid != cache.pid || max > SLOT_CACHE)
		return -1;
	for (i = from; i < max; i++)
		if (i != skip && __atomic_load_n(&map[i], __ATOMIC_ACQUIRE))
			n++;
	return n;
}

/*
 * A byte left set by a worker that was killed holding its slot is found
 * here: each acquire asks the kernel about one other slot's byte in turn
 * (each worker from its own place, so a pool finds it within about
 * max_concurrent acquires) and clears it if nobody holds that lock. (A
 * slot locked between the ask and the clear is counted from its holder's
 * next acquire on; never refused.)
 */
static int	 slot_held_ready(const char *, int, bool, char *, size_t);

static void
map_heal(const char *dir, int mine, int max, bool ready)
{
	static unsigned	 next;
	char		 err[8];
	int		 j;

	if (map == NULL || max < 2 || max > SLOT_CACHE)
		return;
	if (next == 0)
		next = (unsigned)cache.pid;
	j = (int)(next++ % (unsigned)max);
	if (j == mine || !__atomic_load_n(&map[j], __ATOMIC_ACQUIRE) ||
	    (ready && cache.mine[j]))
		return;
	if (slot_held_ready(dir, j, ready, err, sizeof(err)) == 0)
		map_set(j, 0);
}

/* The first slot in from .. max-1 the map says is free; -1: none, or no map. */
static int
map_free(int from, int max)
{
	int	 i;

	if (map == NULL || map_pid != cache.pid || max > SLOT_CACHE)
		return -1;
	for (i = from; i < max; i++)
		if (!__atomic_load_n(&map[i], __ATOMIC_ACQUIRE))
			return i;
	return -1;
}

/*
 * The cache is this process's and for dir: reset otherwise. false: dir is
 * too long to cache under (every slot is then opened afresh).
 */
static bool
cache_ready(const char *dir)
{
	pid_t	 self = getpid();
	int	 j;

	if (cache.pid == self && strcmp(cache.dir, dir) == 0)
		return true;
	for (j = 0; j < SLOT_CACHE; j++) {
		if (cache.pid == self && cache.fd[j] > 0)
			close(cache.fd[j]);
		cache.fd[j] = -1;
		cache.mine[j] = false;
	}
	cache.pid = 0;
	if (strlcpy(cache.dir, dir, sizeof(cache.dir)) >= sizeof(cache.dir))
		return false;
	cache.pid = self;
	map_open(dir);
	return true;
}

/* slot_fd once cache_ready(dir) said yes. */
static int
slot_fd_ready(const char *dir, int i, bool create, bool *cached, char *err,
    size_t errlen)
{
	int	 fd;

	*cached = false;
	if (i >= SLOT_CACHE)
		return slot_open(dir, i, create, err, errlen);
	if (cache.fd[i] >= 0) {
		*cached = true;
		return cache.fd[i];
	}
	if ((fd = slot_open(dir, i, create, err, errlen)) == -1)
		return -1;
	cache.fd[i] = fd;
	*cached = true;
	return fd;
}

static int
slot_fd(const char *dir, int i, bool create, bool *cached, char *err,
    size_t errlen)
{
	*cached = false;
	if (!cache_ready(dir))
		return slot_open(dir, i, create, err, errlen);
	return slot_fd_ready(dir, i, create, cached, err, errlen);
}


/*
 * 1: someone holds slot i; 0: free; -1: error. A missing file is created
 * (free, as it was): counting then costs one fcntl per slot from the
 * second time on, not a failed open each time.
 */
static int
slot_held_ready(const char *dir, int i, bool ready, char *err,
    size_t errlen)
{
	struct flock	 fl;
	bool		 cached = false;
	int		 fd;

	/* Not ready: dir is too long to cache under (cache_ready). */
	fd = ready ? slot_fd_ready(dir, i, true, &cached, err, errlen) :
	    slot_open(dir, i, true, err, errlen);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;	/* no directory: none held */
	/* Our own lock never conflicts with our own description. */
	if (cached && cache.mine[i])
		return 1;
	whole_file(&fl, F_WRLCK);
	if (fcntl(fd, F_OFD_GETLK, &fl) == -1) {
		snprintf(err, errlen, "%s/slot.%d: F_OFD_GETLK: %s", dir, i,
		    strerror(errno));
		if (!cached)
			close(fd);
		return -1;
	}
	if (!cached)
		close(fd);
	return fl.l_type != F_UNLCK;
}

static int
slot_held(const char *dir, int i, char *err, size_t errlen)
{
	return slot_held_ready(dir, i, cache_ready(dir), err, errlen);
}

/*
 * The slot this worker's pre-built jail was made for (its ids are that
 * slot's), tried first by the next slots_acquire only; -1: none.
 */
static int	 preferred = -1;

void
slots_prefer(int i)
{
	preferred = i;
}

/* 1: slot i taken (*fd, *cached set); 0: held by another; -1: error. */
static int
slot_try(const char *dir, int i, int *fd, bool *cached, char *err,
    size_t errlen)
{
	struct flock	 fl;
	int		 saved;

	if ((*fd = slot_fd(dir, i, true, cached, err, errlen)) == -1)
		return -1;
	if (*cached && cache.mine[i])
		return 0;	/* ours already: busy for this acquire */
	whole_file(&fl, F_WRLCK);
	if (fcntl(*fd, F_OFD_SETLK, &fl) == 0)
		return 1;
	saved = errno;
	if (!*cached)
		close(*fd);
	*fd = -1;
	if (saved == EAGAIN || saved == EACCES)
		return 0;
	snprintf(err, errlen, "%s/slot.%d: F_OFD_SETLK: %s", dir, i,
	    strerror(saved));
	return -1;
}

/*
 * Records slot i, taken on fd, in s; then, for active_processes_at_request,
 * counts it, `busy` slots known to be held, and the held ones among
 * from .. max - 1 but i. -1 (slot released) on error.
 */
static int
slot_record(struct slots *s, const char *dir, int i, int fd, bool cached,
    int busy, int from, int max, char *err, size_t errlen)
{
	bool	 ready;
	int	 j, held;

	s->fd = fd;
	s->index = i;
	s->cached = cached;
	if (cached)
		cache.mine[i] = true;
	ready = cache_ready(dir);
	map_set(i, 1);
	if ((held = map_count(0, max, i)) >= 0) {
		s->active = 1 + held;
		map_heal(dir, i, max, ready);
		return 0;
	}
	s->active = 1 + busy;
	for (j = from; j < max; j++) {
		if (j == i)
			continue;
		if ((held = slot_held_ready(dir, j, ready, err, errlen)) == -1) {
			slots_release(s);
			return -1;
		}
		s->active += held;
	}
	return 0;
}

enum slots_result
slots_acquire(struct slots *s, const char *dir, int max, char *err,
    size_t errlen)
{
	bool	 cached = false;
	int	 fd, got, pref = preferred;

	preferred = -1;		/* for this acquire only */
	if (dir == NULL || pref <= 0 || pref >= max)
		return slots_acquire_from(s, dir, 0, max, err, errlen);
	slots_init(s);
	if ((got = slot_try(dir, pref, &fd, &cached, err, errlen)) == -1)
		return SLOTS_FAILED;
	if (got == 0)
		return slots_acquire_from(s, dir, 0, max, err, errlen);
	/* Ours, and every other held one: none is known busy. */
	return slot_record(s, dir, pref, fd, cached, 0, 0, max, err,
	    errlen) == 0 ? SLOTS_OK : SLOTS_FAILED;
}

/*
 * Slots first .. max-1. The workers' self-tests use slots past
 * max_concurrent (each slot is a host uid too), so that starting workers
 * never take a slot from requests.
 */
enum slots_result
slots_acquire_from(struct slots *s, const char *dir, int first, int max,
    char *err, size_t errlen)
{
	bool		 cached = false;
	int		 i, fd = -1, got = 0;

	slots_init(s);
	if (dir == NULL || max < 1 || first < 0 || first >= max) {
		snprintf(err, errlen, "slots: no directory or max < 1");
		return SLOTS_FAILED;
	}
	/* First where the map says free: no scan past the held ones. */
	if (cache_ready(dir) && (i = map_free(first, max)) >= 0) {
		if ((got = slot_try(dir, i, &fd, &cached, err, errlen)) == -1)
			return SLOTS_FAILED;
		if (got == 1)
			return slot_record(s, dir, i, fd, cached, 0, 0, max,
			    err, errlen) == 0 ? SLOTS_OK : SLOTS_FAILED;
	}
	for (i = first; i < max && got == 0; i++)
		if ((got = slot_try(dir, i, &fd, &cached, err, errlen)) == -1)
			return SLOTS_FAILED;
	if (got == 0) {
		s->active = max;
		return SLOTS_BUSY;
	}
	i--;
	/*
	 * The slots before ours were busy a moment ago; ask about the ones
	 * after it.
	 */
	return slot_record(s, dir, i, fd, cached, i, i + 1, max, err,
	    errlen) == 0 ? SLOTS_OK : SLOTS_FAILED;
}

void
slots_release(struct slots *s)
{
	struct flock	 fl;

	/* Cleared while still held: a count may miss it, never a taker. */
	if (s->fd >= 0 && cache.pid == getpid())
		map_set(s->index, 0);
	/* A cached description is unlocked; closing an uncached one does it. */
	if (s->fd >= 0 && s->cached) {
		whole_file(&fl, F_UNLCK);
		(void)fcntl(s->fd, F_OFD_SETLK, &fl);
		if (s->index >= 0 && s->index < SLOT_CACHE &&
		    cache.pid == getpid())
			cache.mine[s->index] = false;
	} else if (s->fd >= 0)
		(void)close(s->fd);
	s->fd = -1;
	s->cached = false;
	s->index = -1;
}

int
slots_count(const char *dir, int max, char *err, size_t errlen)
{
	bool	 ready;
	int	 i, held, n = 0;

	if (dir == NULL || max < 1) {
		snprintf(err, errlen, "slots: no directory or max < 1");
		return -1;
	}
	ready = cache_ready(dir);
	for (i = 0; i < max; i++) {
		if ((held = slot_held_ready(dir, i, ready, err, errlen)) == -1)
			return -1;
		n += held;
	}
	return n;
}

/*
 * Session slots (http/sessions.c): slots first .. first + n - 1, past the
 * runs' and the self-tests'. The lock is taken on a description of its
 * own, never the cached one, and handed with the fd to the session's
 * keeper, which holds it for the session's life: the kernel drops it when
 * the keeper ends, however it ends. Returns the fd (*index set), -1 with
 * *index -1 when every slot is held, or -1 with err set.
 */
int
slots_take(const char *dir, int first, int n, int *index, char *err,
    size_t errlen)
{
	struct flock	 fl;
	int		 i, fd;

	*index = -1;
	err[0] = '\0';
	for (i = first; i < first + n; i++) {
		if ((fd = slot_open(dir, i, true, err, errlen)) == -1)
			return -1;
		whole_file(&fl, F_WRLCK);
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
			*index = i;
			return fd;
		}
		close(fd);
		if (errno != EAGAIN && errno != EACCES) {
			snprintf(err, errlen, "%s/slot.%d: F_OFD_SETLK: %s",
			    dir, i, strerror(errno));
			return -1;
		}
	}
	return -1;
}

/* 1: slot i is held (by anyone, a keeper included); 0: free; -1: error. */
int
slots_is_held(const char *dir, int i, char *err, size_t errlen)
{
	return slot_held(dir, i, err, errlen);
}

/*
 * The waiting room, for max_queue_wait_ms. A request that finds every slot
 * busy takes a place: an OFD lock on one of runtime_dir/queue.0 ..
 * queue.<waiters-1> (none free: the room is full, 503 at once), holding
 * its ticket, the system-wide monotonic time it arrived. Only the waiter
 * holding the oldest live ticket tries for a slot, so slots go first come,
 * first served across all workers; a newcomer queues behind anyone waiting
 * even if a slot is free that instant. As with the slots, the kernel drops
 * the place of a worker that dies, so nothing can stay queued forever; a
 * stale ticket in an unlocked file counts for nothing.
 */
#define QUEUE_POLL_MS	10

static struct {
	pid_t	 pid;
	char	 dir[PATH_MAX];
	int	 fd[SLOT_CACHE];
} qcache;

static int
queue_fd(const char *dir, int i, char *err, size_t errlen)
{
	int	 j;

	if (qcache.pid != getpid() || strcmp(qcache.dir, dir) != 0) {
		for (j = 0; j < SLOT_CACHE; j++) {
			if (qcache.pid == getpid() && qcache.fd[j] > 0)
				close(qcache.fd[j]);
			qcache.fd[j] = -1;
		}
		if (strlcpy(qcache.dir, dir, sizeof(qcache.dir)) >=
		    sizeof(qcache.dir)) {
			snprintf(err, errlen, "%s: path too long", dir);
			return -1;
		}
		qcache.pid = getpid();
	}
	if (qcache.fd[i] < 0)
		qcache.fd[i] = file_open(dir, "queue", i, true, err, errlen);
	return qcache.fd[i];
}

static uint64_t
ticket_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A place in the room, ticket written; -1 full (errno 0) or error. */
static int
queue_join(const char *dir, int waiters, uint64_t ticket, char *err,
    size_t errlen)
{
	struct flock	 fl;
	int		 i, fd;

	for (i = 0; i < waiters; i++) {
		if ((fd = queue_fd(dir, i, err, errlen)) == -1)
			return -1;
		whole_file(&fl, F_WRLCK);
		if (fcntl(fd, F_OFD_SETLK, &fl) == -1)
			continue;
		if (pwrite(fd, &ticket, sizeof(ticket), 0) !=
		    (ssize_t)sizeof(ticket)) {
			snprintf(err, errlen, "%s/queue.%d: write: %s", dir, i,
			    strerror(errno));
			whole_file(&fl, F_UNLCK);
			(void)fcntl(fd, F_OFD_SETLK, &fl);
			return -1;
		}
		return i;
	}
	errno = 0;
	return -1;
}

static void
queue_leave(const char *dir, int place)
{
	struct flock	 fl;
	uint64_t	 zero = 0;
	char		 err[8];
	int		 fd;

	if (place < 0 || (fd = queue_fd(dir, place, err, sizeof(err))) == -1)
		return;
	(void)!pwrite(fd, &zero, sizeof(zero), 0);
	whole_file(&fl, F_UNLCK);
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

/* 1: a live waiter other than place holds an older ticket; -1: error. */
static int
queue_ahead(const char *dir, int waiters, int place, uint64_t ticket,
    char *err, size_t errlen)
{
	struct flock	 fl;
	uint64_t	 t;
	int		 i, fd;

	for (i = 0; i < waiters; i++) {
		if (i == place)
			continue;
		if ((fd = queue_fd(dir, i, err, errlen)) == -1)
			return -1;
		whole_file(&fl, F_WRLCK);
		if (fcntl(fd, F_OFD_GETLK, &fl) == -1) {
			snprintf(err, errlen, "%s/queue.%d: F_OFD_GETLK: %s",
			    dir, i, strerror(errno));
			return -1;
		}
		if (fl.l_type == F_UNLCK)
			continue;
		/* 0: a place just taken, its ticket not written yet: newer. */
		if (pread(fd, &t, sizeof(t), 0) == (ssize_t)sizeof(t) &&
		    t != 0 && (t < ticket || (t == ticket && i < place)))
			return 1;
	}
	return 0;
}

/*
 * slots_acquire, but a full house waits up to wait_ms for a slot, first
 * come first served among at most waiters requests of the whole pool. A
 * hang-up on watch_fd (the client went away) ends the wait as busy.
 */
enum slots_result
slots_acquire_wait(struct slots *s, const char *dir, int max, int waiters,
    int wait_ms, int watch_fd, char *err, size_t errlen)
{
	enum slots_result	 r;
	struct pollfd		 p;
	uint64_t		 ticket;
	double			 deadline;
	int			 place = -1, ahead, left;

	if (wait_ms <= 0 || waiters < 1)
		return slots_acquire(s, dir, max, err, errlen);
	if (waiters > SLOT_CACHE)
		waiters = SLOT_CACHE;
	deadline = mono_now() + wait_ms / 1000.0;
	ticket = ticket_now();
	/* Nobody waiting: no one to overtake. */
	if ((ahead = queue_ahead(dir, waiters, -1, UINT64_MAX, err,
	    errlen)) == -1)
		return SLOTS_FAILED;
	if (ahead == 0 && (r = slots_acquire(s, dir, max, err, errlen)) !=
	    SLOTS_BUSY)
		return r;
	if ((place = queue_join(dir, waiters, ticket, err, errlen)) == -1) {
		if (errno != 0)
			return SLOTS_FAILED;
		slots_init(s);
		s->active = max;
		return SLOTS_BUSY;	/* the waiting room is full */
	}
	for (;;) {
		if ((ahead = queue_ahead(dir, waiters, place, ticket, err,
		    errlen)) == -1) {
			r = SLOTS_FAILED;
			break;
		}
		if (ahead == 0 && (r = slots_acquire(s, dir, max, err,
		    errlen)) != SLOTS_BUSY)
			break;
		left = (int)((deadline - mono_now()) * 1000);
		if (left <= 0) {
			slots_init(s);
			s->active = max;
			r = SLOTS_BUSY;
			break;
		}
		p = (struct pollfd){ watch_fd, POLLRDHUP, 0 };
		if (poll(&p, 1, left < QUEUE_POLL_MS ? left : QUEUE_POLL_MS) >
		    0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			slots_init(s);
			s->active = max;
			r = SLOTS_BUSY;
			break;
		}
	}
	queue_leave(dir, place);
	return r;
}

/*
 * A mark: dir/name with a shared lock on it, held by every process doing
 * some work at once (never exclusively), so that others can tell whether
 * any such work runs now (mark_held). Returns the fd that holds it, or -1
 * (err says why; the work runs unmarked).
 */
int
mark_hold(const char *dir, const char *name, char *err, size_t errlen)
{
	struct flock	 fl;
	int		 fd;

	err[0] = '\0';
	if ((fd = name_open(dir, name, true, err, errlen)) == -1)
		return -1;
	whole_file(&fl, F_RDLCK);
	if (fcntl(fd, F_OFD_SETLK, &fl) == -1) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether any process holds mark name now; false when it cannot tell. */
bool
mark_held(const char *dir, const char *name)
{
	struct flock	 fl;
	char		 err[256];
	bool		 held;
	int		 fd;

	if ((fd = name_open(dir, name, false, err, sizeof(err))) == -1)
		return false;
	whole_file(&fl, F_WRLCK);
	held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/*
 * Start slots (start.0 .. start.n-1): how many sessions are being started
 * at once, pool-wide. A start is the costliest thing the service does
 * (clones of the zygote, a jail, CPython's after-fork work); a burst of
 * them started all at once shares the CPUs with every live session's
 * calls and slows them all, where started a few at a time they leave the
 * calls their share. Waits up to wait_ms for a free one, looking every
 * START_POLL_MS (not first come first served: a wait is short and
 * bounded), unless watch_fd hangs up (the client left). Returns the fd
 * that holds the slot (closing it gives it back; the kernel does if the
 * worker dies), or -1: err empty when none came free in time or the
 * client left, else err says what failed.
 */
#define START_POLL_MS	10
#define START_MAX	64

int
starts_take(const char *dir, int n, int wait_ms, int watch_fd, char *err,
    size_t errlen)
{
	struct flock	 fl;
	struct pollfd	 p;
	double		 deadline = mono_now() + wait_ms / 1000.0;
	int		 fds[START_MAX], i, j, got = -1, left;

	err[0] = '\0';
	if (n < 1 || n > START_MAX) {
		snprintf(err, errlen, "%d start slots: 1 to %d", n, START_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((fds[i] = file_open(dir, "start", i, true, err,
		    errlen)) == -1) {
			while (i-- > 0)
				close(fds[i]);
			return -1;
		}
	for (;;) {
		/* From a different slot in each worker: fewer collisions. */
		for (j = 0; j < n && got == -1; j++) {
			i = (j + getpid()) % n;
			whole_file(&fl, F_WRLCK);
			if (fcntl(fds[i], F_OFD_SETLK, &fl) == 0)
				got = i;
			else if (errno != EAGAIN && errno != EACCES) {
				snprintf(err, errlen, "%s/start.%d: F_OFD_SETLK: "
				    "%s", dir, i, strerror(errno));
				break;
			}
		}
		if (got != -1 || err[0] != '\0')
			break;
		left = (int)((deadline - mono_now()) * 1000);
		if (left <= 0)
			break;
		p = (struct pollfd){ watch_fd, POLLRDHUP, 0 };
		if (poll(&p, 1, left < START_POLL_MS ? left : START_POLL_MS) >
		    0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			break;
	}
	for (i = 0; i < n; i++)
		if (i != got)
			close(fds[i]);
	return got == -1 ? -1 : fds[got];
}
