/*
 * test_slots.c: slots.c on real lock files in a temporary directory,
 * including what matters most: a worker killed while holding a slot
 * gives it back without anyone cleaning up.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "store/store.h"
#include "store_tap.h"

static char	 tmp[256];	/* short: paths built on it must fit PATH_MAX */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
count(const char *dir, int max)
{
	char	 err[256];
	int	 n;

	if ((n = slots_count(dir, max, err, sizeof(err))) == -1)
		printf("# slots_count: %s\n", err);
	return n;
}

static void
test_basic(void)
{
	struct slots		 s[4], extra;
	struct stat		 sb;
	enum slots_result	 r;
	char			 err[256], path[PATH_MAX];
	int			 i, good = 1;

	ok(count(tmp, 3) == 0, "no slot files yet: none held");
	snprintf(path, sizeof(path), "%s/slot.2", tmp);
	/*
	 * Counting creates the files of free slots, so that the next count
	 * asks each with one fcntl on a kept description, not a failed open.
	 */
	ok(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0600, "counting creates the slot files");
	{
		struct flock	 fl;
		int		 fd;

		/* Another description (another worker) locks a counted one. */
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fd = open(path, O_RDWR | O_CLOEXEC);
		ok(fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) == 0 &&
		    count(tmp, 3) == 1, "a lock taken after a count is counted");
		if (fd >= 0)
			close(fd);
		ok(count(tmp, 3) == 0, "and its release too");
	}
	snprintf(path, sizeof(path), "%s/slot.0", tmp);

	for (i = 0; i < 3; i++) {
		r = slots_acquire(&s[i], tmp, 3, err, sizeof(err));
		good &= r == SLOTS_OK && s[i].index == i && s[i].fd >= 0 &&
		    s[i].active == i + 1;
	}
	ok(good, "max 3: three acquires get slots 0, 1, 2, active 1, 2, 3");
	ok((fcntl(s[0].fd, F_GETFD) & FD_CLOEXEC) != 0,
	    "the slot fd is close-on-exec");
	ok(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0600, "slot files are regular, 0600");
	r = slots_acquire(&s[3], tmp, 3, err, sizeof(err));
	ok(r == SLOTS_BUSY && s[3].fd == -1 && s[3].index == -1 &&
	    s[3].active == 3, "the fourth is SLOTS_BUSY, active 3");
	ok(count(tmp, 3) == 3, "count: 3 held");

	slots_release(&s[1]);
	ok(s[1].fd == -1 && s[1].index == -1, "release clears the handle");
	slots_release(&s[1]);
	ok(count(tmp, 3) == 2, "after one release: 2 held");
	r = slots_acquire(&extra, tmp, 3, err, sizeof(err));
	ok(r == SLOTS_OK && extra.index == 1 && extra.active == 3,
	    "the freed slot is taken again (index %d, active %d)", extra.index,
	    extra.active);
	slots_release(&extra);
	slots_release(&s[0]);
	slots_release(&s[2]);
	slots_release(&s[3]);
	ok(count(tmp, 3) == 0, "all released: none held");

	slots_init(&extra);
	slots_release(&extra);
	ok(extra.fd == -1, "releasing an empty handle is harmless");

	/* A lower max after a config change: higher files are ignored. */
	r = slots_acquire(&s[0], tmp, 1, err, sizeof(err));
	ok(r == SLOTS_OK && slots_acquire(&s[1], tmp, 1, err, sizeof(err)) ==
	    SLOTS_BUSY, "max 1: one slot");
	slots_release(&s[0]);
}

/* The point of kernel-held locks: a killed worker frees its slot. */
static void
test_crash(void)
{
	struct slots		 mine, other;
	enum slots_result	 r;
	pid_t			 pid;
	char			 err[256], c = 0;
	int			 ready[2], status;

	if (pipe(ready) == -1) {
		ok(0, "pipe");
		return;
	}
	r = slots_acquire(&mine, tmp, 2, err, sizeof(err));
	if ((pid = fork()) == -1) {
		ok(0, "fork");
		return;
	}
	if (pid == 0) {
		struct slots	 held;

		close(ready[0]);
		r = slots_acquire(&held, tmp, 2, err, sizeof(err));
		c = r == SLOTS_OK && held.index == 1 ? 'y' : 'n';
		(void)write(ready[1], &c, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	(void)read(ready[0], &c, 1);
	close(ready[0]);
	ok(r == SLOTS_OK && c == 'y', "parent holds slot 0, child slot 1");
	ok(count(tmp, 2) == 2, "count: 2 held");
	ok(slots_acquire(&other, tmp, 2, err, sizeof(err)) == SLOTS_BUSY,
	    "a third acquire is busy");

	kill(pid, SIGKILL);
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL, "child SIGKILLed while holding");
	ok(count(tmp, 2) == 1, "count: 1 held");
	r = slots_acquire(&other, tmp, 2, err, sizeof(err));
	ok(r == SLOTS_OK && other.index == 1,
	    "the dead child's slot is free again");
	slots_release(&other);
	slots_release(&mine);
}

/*
 * The map of held slots (slots.map): counts without asking the kernel
 * about every slot, and a byte left set by a killed holder is found and
 * cleared by later acquires. A map that cannot be used (a symlink
 * planted in its place) leaves the exact scan.
 */
static void
test_map(void)
{
	struct slots	 a, b, c;
	struct stat	 sb;
	enum slots_result r, r2;
	char		 dir[PATH_MAX], path[PATH_MAX + 16], err[256], ch = 0;
	int		 ready[2], status, i, healed = -1;
	pid_t		 pid;

	snprintf(dir, sizeof(dir), "%s/map", tmp);
	if (mkdir(dir, 0700) == -1 || pipe(ready) == -1) {
		ok(0, "mkdir/pipe");
		return;
	}
	ok(slots_acquire(&a, dir, 4, err, sizeof(err)) == SLOTS_OK &&
	    a.active == 1, "first acquire: active 1");
	snprintf(path, sizeof(path), "%s/slots.map", dir);
	ok(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0600, "slots.map is a regular file, 0600");
	if ((pid = fork()) == 0) {
		struct slots	 held;

		close(ready[0]);
		ch = slots_acquire(&held, dir, 4, err, sizeof(err)) ==
		    SLOTS_OK && held.index == 1 && held.active == 2 ? 'y' : 'n';
		(void)write(ready[1], &ch, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	(void)read(ready[0], &ch, 1);
	close(ready[0]);
	ok(pid > 0 && ch == 'y', "another process takes slot 1, active 2");
	r = slots_acquire(&b, dir, 4, err, sizeof(err));
	ok(r == SLOTS_OK && b.index == 2 && b.active == 3, "a third: slot 2, "
	    "active 3 (index %d, active %d)", b.index, b.active);
	slots_release(&b);
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
	}
	/* Its byte is still set: counted until an acquire looks at it. */
	for (i = 0; i < 8 && healed == -1; i++) {
		if (slots_acquire(&b, dir, 4, err, sizeof(err)) != SLOTS_OK)
			break;
		if (b.active == 2)
			healed = i;
		slots_release(&b);
	}
	/* The acquire that clears it has counted already: max + 1. */
	ok(healed >= 0 && healed <= 4, "the killed holder's slot stops being "
	    "counted within max + 1 acquires (after %d)", healed + 1);
	r = slots_acquire(&b, dir, 4, err, sizeof(err));
	r2 = slots_acquire(&c, dir, 4, err, sizeof(err));
	ok(r == SLOTS_OK && r2 == SLOTS_OK && c.active == 3 &&
	    count(dir, 4) == 3, "three held, counted 3 (active %d)", c.active);
	slots_release(&c);
	slots_release(&b);
	slots_release(&a);

	/* A symlink in the map's place is refused, never followed. */
	snprintf(dir, sizeof(dir), "%s/map2", tmp);
	snprintf(path, sizeof(path), "%s/slots.map", dir);
	if (mkdir(dir, 0700) == -1 || symlink("/dev/zero", path) == -1) {
		ok(0, "mkdir/symlink");
		return;
	}
	r = slots_acquire(&a, dir, 3, err, sizeof(err));
	r2 = slots_acquire(&b, dir, 3, err, sizeof(err));
	ok(r == SLOTS_OK && r2 == SLOTS_OK && b.active == 2 &&
	    lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode),
	    "with a symlink planted as the map: slots still work and count "
	    "(active %d)", b.active);
	slots_release(&b);
	slots_release(&a);
}

/* Eight workers at once, max 3: exactly three win. */
static void
test_race(void)
{
	char		*won;
	pid_t		 pids[8];
	char		 c;
	int		 gate[2], done[2], hold[2], i, status;
	int		 wins = 0, busy = 0, bad = 0;

	won = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (won == MAP_FAILED || pipe(gate) == -1 || pipe(done) == -1 ||
	    pipe(hold) == -1) {
		ok(0, "set up the race");
		return;
	}
	memset(won, 0, 8);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0) {
			struct slots		 s;
			enum slots_result	 r;
			char			 err[256];

			close(gate[1]);
			close(done[0]);
			close(hold[1]);
			(void)read(gate[0], &c, 1);
			r = slots_acquire(&s, tmp, 3, err, sizeof(err));
			won[i] = r == SLOTS_OK ? 'w' : r == SLOTS_BUSY ? 'b' :
			    'f';
			(void)write(done[1], "x", 1);
			(void)read(hold[0], &c, 1);	/* hold until told */
			slots_release(&s);
			_exit(0);
		}
	}
	close(gate[0]);
	close(done[1]);
	close(hold[0]);
	close(gate[1]);
	for (i = 0; i < 8; i++)
		(void)read(done[0], &c, 1);
	ok(count(tmp, 3) == 3, "while they hold: 3 held");
	close(hold[1]);
	for (i = 0; i < 8; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
		wins += won[i] == 'w';
		busy += won[i] == 'b';
	}
	close(done[0]);
	ok(bad == 0 && wins == 3 && busy == 5,
	    "8 at once, max 3: %d won, %d busy", wins, busy);
	ok(count(tmp, 3) == 0, "all gone: none held");
	munmap(won, 8);
}

static void
test_failures(void)
{
	struct slots		 s;
	enum slots_result	 r;
	char			 dir[512], path[PATH_MAX], err[256];

	err[0] = '\0';
	r = slots_acquire(&s, "/nonexistent/pyexec-slots", 2, err, sizeof(err));
	ok(r == SLOTS_FAILED && s.fd == -1 && err[0] != '\0',
	    "missing directory: SLOTS_FAILED (%s)", err);
	ok(slots_acquire(&s, tmp, 0, err, sizeof(err)) == SLOTS_FAILED &&
	    slots_count(tmp, 0, err, sizeof(err)) == -1,
	    "max 0: fails closed");

	snprintf(dir, sizeof(dir), "%s/sym", tmp);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/slot.0", dir);
	(void)symlink("/dev/null", path);
	err[0] = '\0';
	r = slots_acquire(&s, dir, 2, err, sizeof(err));
	ok(r == SLOTS_FAILED && strstr(err, "symlink") != NULL,
	    "a symlinked slot file is refused (%s)", err);
	ok(count(dir, 2) == -1, "and counting refuses it too");

	snprintf(dir, sizeof(dir), "%s/fifo", tmp);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/slot.0", dir);
	(void)mkfifo(path, 0600);
	err[0] = '\0';
	r = slots_acquire(&s, dir, 2, err, sizeof(err));
	ok(r == SLOTS_FAILED && strstr(err, "regular") != NULL,
	    "a FIFO as slot file is refused without blocking (%s)", err);
}

/* Marks (the sweep's): shared holds, seen from another description. */
static void
test_marks(void)
{
	char	 dir[512], path[PATH_MAX], err[256];
	int	 a, b;

	ok(!mark_held(tmp, "work.lock"), "no mark file: not held");
	a = mark_hold(tmp, "work.lock", err, sizeof(err));
	b = mark_hold(tmp, "work.lock", err, sizeof(err));
	ok(a >= 0 && b >= 0, "two holders share a mark (%s)", err);
	ok(mark_held(tmp, "work.lock"), "held while they hold it");
	close(a);
	ok(mark_held(tmp, "work.lock"), "held while one of them still does");
	close(b);
	ok(!mark_held(tmp, "work.lock"), "free once both are gone");

	snprintf(dir, sizeof(dir), "%s/msym", tmp);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/work.lock", dir);
	(void)symlink("/dev/null", path);
	err[0] = '\0';
	a = mark_hold(dir, "work.lock", err, sizeof(err));
	ok(a == -1 && strstr(err, "symlink") != NULL,
	    "a symlinked mark file is refused (%s)", err);
	ok(!mark_held(dir, "work.lock"), "and is never held");

	snprintf(dir, sizeof(dir), "%s/mfifo", tmp);
	(void)mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/work.lock", dir);
	(void)mkfifo(path, 0600);
	err[0] = '\0';
	a = mark_hold(dir, "work.lock", err, sizeof(err));
	ok(a == -1 && strstr(err, "regular") != NULL,
	    "a FIFO as mark file is refused without blocking (%s)", err);
	ok(!mark_held(dir, "work.lock"), "and is never held");
}

/* Start slots: a bounded wait, the client's hang-up, a holder's death. */
static void
test_starts(void)
{
	char	 err[256];
	double	 t0;
	int	 a, b, c, sv[2], status;
	char	 yes;
	pid_t	 pid;

	ok(starts_take(tmp, 0, 0, -1, err, sizeof(err)) == -1 &&
	    err[0] != '\0', "0 start slots: refused (%s)", err);
	a = starts_take(tmp, 2, 0, -1, err, sizeof(err));
	b = starts_take(tmp, 2, 0, -1, err, sizeof(err));
	ok(a >= 0 && b >= 0 && a != b, "two start slots of two (%s)", err);
	t0 = mono_now();
	c = starts_take(tmp, 2, 300, -1, err, sizeof(err));
	ok(c == -1 && err[0] == '\0' && mono_now() - t0 >= 0.25,
	    "a third waits its 300 ms, then none (%.0f ms)",
	    (mono_now() - t0) * 1000);
	close(a);
	c = starts_take(tmp, 2, 300, -1, err, sizeof(err));
	ok(c >= 0, "one given back: taken (%s)", err);

	/* The client hung up: the wait ends at once, with none. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		ok(0, "socketpair");
		return;
	}
	close(sv[1]);
	t0 = mono_now();
	a = starts_take(tmp, 2, 20000, sv[0], err, sizeof(err));
	ok(a == -1 && err[0] == '\0' && mono_now() - t0 < 10,
	    "a hang-up ends a 20 s wait (%.0f ms)", (mono_now() - t0) * 1000);
	close(sv[0]);

	/* A holder killed gives its slot back. */
	close(b);
	close(c);
	if (pipe(sv) == -1 || (pid = fork()) == -1) {
		ok(0, "pipe and fork");
		return;
	}
	if (pid == 0) {
		char	 y = 'y';

		close(sv[0]);
		if (starts_take(tmp, 1, 0, -1, err, sizeof(err)) == -1)
			y = 'n';
		(void)write(sv[1], &y, 1);
		for (;;)
			pause();
	}
	close(sv[1]);
	yes = 0;
	(void)read(sv[0], &yes, 1);
	close(sv[0]);
	a = starts_take(tmp, 1, 0, -1, err, sizeof(err));
	ok(yes == 'y' && a == -1, "the child holds the one slot");
	kill(pid, SIGKILL);
	ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status),
	    "the child is killed");
	a = starts_take(tmp, 1, 0, -1, err, sizeof(err));
	ok(a >= 0, "its slot is free again (%s)", err);
	close(a);
}

int
main(void)
{
	const char	*base;

	setvbuf(stdout, NULL, _IOLBF, 0);
	base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(tmp, sizeof(tmp), "%s/test_slots.XXXXXX", base);
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", tmp, strerror(errno));
		return 99;
	}
	test_basic();
	test_crash();
	test_race();
	test_map();
	test_failures();
	test_marks();
	test_starts();
	(void)nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
