/*
 * sess_sweep.c: what a killed keeper left behind, reclaimed by a worker.
 *
 * A keeper frees its session on every path it sees (session/keeper.c,
 * finish()), but SIGKILL (the OOM killer, an operator) gives it none: its
 * jail dies with it (init's parent-death signal), the kernel drops its
 * slot's lock, and three things stay: its socket under
 * runtime_dir/sessions, its jail's mount point runtime_dir/sjail.N.*, and
 * its cgroups sess.N. A worker reclaims them when it meets them:
 *  - a socket that refuses connections has no keeper: the worker that
 *    tried it removes it (sessions.c, sess_open) and sweeps at once;
 *  - a sweep (at most once a second per worker, on a session's creation or
 *    on an unknown id) takes each free session slot's lock in turn, which
 *    no creation can then hold, removes that slot's mount points and
 *    cgroups, and lets it go; then it removes sockets that refuse
 *    connections and are older than a creation takes to listen.
 * Nothing here follows a link: runtime_dir is the service's own
 * (0700), entries are removed by name relative to its directory fd.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "http/http.h"

#define SWEEP_EVERY_SEC		1.0
#define SOCK_MIN_AGE_SEC	60	/* bind to listen, on a slow machine */

/* runtime_dir/sjail.<slot>.*: mount points of that slot's dead jails. */
static void
sweep_jaildirs(const char *rundir, int slot)
{
	char		 prefix[32];
	DIR		*d;
	struct dirent	*de;
	size_t		 plen;

	plen = (size_t)snprintf(prefix, sizeof(prefix), "sjail.%d.", slot);
	if ((d = opendir(rundir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, plen) == 0 &&
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == -1 &&
		    errno != ENOENT)
			log_warn("session sweep: rmdir %s/%s", rundir,
			    de->d_name);
	closedir(d);
}

/* 1 when nothing listens on the socket `name` of dir fd `dfd`. */
static int
sock_dead(const char *dir, const char *name)
{
	struct sockaddr_un	 sun;
	int			 fd, dead;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, name) >=
	    (int)sizeof(sun.sun_path))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return 0;
	dead = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno == ECONNREFUSED;
	close(fd);
	return dead;
}

static void
sweep_sockets(const char *rundir)
{
	char		 dir[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	size_t		 n;
	time_t		 now = time(NULL);

	if (snprintf(dir, sizeof(dir), "%s/sessions", rundir) >=
	    (int)sizeof(dir) || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".sock") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISSOCK(st.st_mode) ||
		    now - st.st_ctime < SOCK_MIN_AGE_SEC ||
		    !sock_dead(dir, de->d_name))
			continue;
		(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int	 sweep_mark(const char *);

/*
 * Reclaims a killed keeper's leftovers of the free session slots. force:
 * now (a dead keeper was just met), else at most once a second.
 */
void
sess_sweep(struct worker *w, bool force)
{
	static double	 last;
	const struct config *cfg = &w->cfg;
	double		 now = mono_now();
	char		 err[256];
	int		 i, first, idx, fd, mark;

	if (!force && last != 0 && now - last < SWEEP_EVERY_SEC)
		return;
	last = now;
	mark = sweep_mark(cfg->runtime_dir);
	first = cfg->max_concurrent + SLOTS_SELFTEST;
	for (i = first; i < first + cfg->max_sessions; i++) {
		/* Held: a live session's, or one being made. */
		if ((fd = slots_take(cfg->runtime_dir, i, 1, &idx, err,
		    sizeof(err))) == -1)
			continue;
		sess_sweep_slot(w, i);
		close(fd);
	}
	if (mark >= 0)
		close(mark);
	sweep_sockets(cfg->runtime_dir);
}

/*
 * runtime_dir/sweep.lock is marked (slots.c: a shared lock) for as long as
 * a sweep runs, by every sweeping worker, so that a creation that finds no
 * free slot can tell a full house from slots a sweep holds for an instant.
 */
#define SWEEP_MARK	"sweep.lock"

static int
sweep_mark(const char *rundir)
{
	char	 err[256];
	int	 fd;

	if ((fd = mark_hold(rundir, SWEEP_MARK, err, sizeof(err))) == -1)
		log_warnx("session sweep unmarked: %s", err);
	return fd;
}

bool
sess_sweep_running(const char *rundir)
{
	return mark_held(rundir, SWEEP_MARK);
}

/* One slot's leftovers; the caller holds its lock. */
void
sess_sweep_slot(struct worker *w, int slot)
{
	sweep_jaildirs(w->cfg.runtime_dir, slot);
	if (cg_enabled(&w->cg) && cg_session_remove(&w->cg, slot) == -1)
		log_warnx("session sweep: slot %d's cgroup is still busy", slot);
}
