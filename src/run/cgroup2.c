/*
 * cgroup2.c: per-run limits on the unified (v2) cgroup hierarchy, where
 * the service manager delegates a subtree to the workers (systemd's
 * Delegate=, which is how the Debian package runs). Owns the pool leaf and
 * the per-run cgroups below the delegated directory; never creates or
 * removes a cgroup anywhere else.
 *
 * Layout, with D the delegated directory (pyexec.service under systemd):
 *
 *   D/                   memory and pids enabled for the children, no
 *                        process of its own (cgroup v2's "no internal
 *                        processes" rule would forbid enabling them)
 *   D/pool/              multiwatch, the workers, their zygotes
 *   D/run.<pid>.<n>/     one per run of worker <pid>: memory.max,
 *                        memory.swap.max = 0, memory.oom.group = 1,
 *                        pids.max; made before the jail runs anything,
 *                        killed (cgroup.kill) and removed when it ends
 *
 * The pool moves itself into the leaf: the first worker to start moves
 * every process of D (its parent multiwatch, its siblings, itself) into
 * D/pool, then enables the controllers. Every worker does the same, which
 * is idempotent, so no start order matters and no wrapper is needed;
 * later workers are forked by multiwatch inside D/pool already.
 *
 * A fresh cgroup per run, not one reused per worker as on v1: the v2
 * kernel of Debian 12 (6.1) cannot reset memory.peak or memory.events, so
 * only a new cgroup gives this run's peak and OOM count. A worker killed
 * mid-run leaves its run's (empty, its jail died with it) cgroup behind;
 * the next worker to start removes those of dead workers, and systemd
 * removes the whole subtree when the service stops.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "run/run.h"

#define CG2_LEAF	"pool"
#define CG2_RUN_PREFIX	"run."

static int
cg2_write(const char *dir, const char *file, const char *val)
{
	char	 path[PATH_MAX];
	int	 fd, rv = 0;
	size_t	 n = strlen(val);

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (write(fd, val, n) != (ssize_t)n)
		rv = -1;
	if (close(fd) == -1)
		rv = -1;
	return rv;
}

/* Reads a whole (small) cgroup file into buf, NUL-terminated. */
static int
cg2_read(const char *dir, const char *file, char *buf, size_t len)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The value of "key N" in a flat-keyed file (memory.events), or -1. */
static long long
cg2_key(const char *dir, const char *file, const char *key)
{
	char	 buf[2048], *p;
	size_t	 kl = strlen(key);

	if (cg2_read(dir, file, buf, sizeof(buf)) == -1)
		return -1;
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

static bool
has_word(const char *list, const char *word)
{
	size_t	 wl = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += wl)
		if ((p == list || p[-1] == ' ') &&
		    (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n'))
			return true;
	return false;
}

/* The mount point of the cgroup2 file system, from mountinfo. */
static int
cg2_mount(char *out, size_t outlen)
{
	FILE	*fp;
	char	 line[4096], *mnt, *end;
	int	 i, found = -1;

	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, " - cgroup2 ") == NULL)
			continue;
		mnt = line;		/* field 5 is the mount point */
		for (i = 0; i < 4 && mnt != NULL; i++)
			if ((mnt = strchr(mnt, ' ')) != NULL)
				mnt++;
		if (mnt == NULL || (end = strchr(mnt, ' ')) == NULL)
			continue;
		*end = '\0';
		if (strlcpy(out, mnt, outlen) < outlen)
			found = 0;
	}
	fclose(fp);
	return found;
}

/* Our own cgroup on the unified hierarchy ("0::/path"). */
static int
cg2_own(char *out, size_t outlen)
{
	FILE	*fp;
	char	 line[4096];
	int	 found = -1;

	if ((fp = fopen("/proc/self/cgroup", "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::/", 4) == 0 &&
		    strlcpy(out, line + 3, outlen) < outlen)
			found = 0;
	}
	fclose(fp);
	return found;
}

static void
nap_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Moves every process of D into D/pool until D is empty. Processes may
 * appear meanwhile (multiwatch forking a worker before it was moved
 * itself), hence the rereads; ESRCH is a process that already exited.
 */
static int
move_all_to_leaf(const char *base, const char *leaf)
{
	char	 procs[8192], *p, *nl;
	int	 round;

	for (round = 0; round < 50; round++) {
		if (cg2_read(base, "cgroup.procs", procs, sizeof(procs)) == -1)
			return -1;
		if (procs[0] == '\0')
			return 0;
		for (p = procs; *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL)
				break;
			*nl = '\0';
			if (cg2_write(leaf, "cgroup.procs", p) == -1 &&
			    errno != ESRCH)
				return -1;
		}
	}
	errno = EBUSY;
	return -1;
}

/* Removes one run cgroup: kill whatever is left, wait until empty, rmdir. */
static void
run_remove(const char *dir)
{
	int	 i;

	(void)cg2_write(dir, "cgroup.kill", "1");
	/*
	 * SIGKILLed processes leave the cgroup as they exit, which is
	 * asynchronous; the run's init is already gone when a run ends
	 * normally, so this loop only waits after a failure.
	 */
	for (i = 0; i < 200; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		nap_ms(10);
	}
	log_warn("removing cgroup %s", dir);
}

/* Removes the run cgroups of workers that died (crashed or were killed). */
static void
sweep_dead(const char *base)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX], *end;
	long		 pid;

	if ((d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, CG2_RUN_PREFIX,
		    strlen(CG2_RUN_PREFIX)) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + strlen(CG2_RUN_PREFIX), &end, 10);
		if (errno != 0 || *end != '.' || pid <= 0)
			continue;
		if (pid == (long)getpid() || !pid_gone((pid_t)pid))
			continue;	/* its worker is alive */
		if (snprintf(path, sizeof(path), "%s/%s", base, de->d_name) <
		    (int)sizeof(path))
			run_remove(path);
	}
	closedir(d);
}

/*
 * Uses the v2 hierarchy if we sit in a subtree delegated to our user with
 * the memory and pids controllers available. Returns 0 (cg set up) or -1
 * with why filled; on -1 nothing was changed unless the subtree is ours.
 */
int
cg2_init(struct cgroups *cg, const struct config *c, char *why,
    size_t whylen)
{
	char		 mnt[PATH_MAX], own[PATH_MAX], base[PATH_MAX];
	char		 leaf[PATH_MAX], ctl[512], *slash;
	struct stat	 st;
	int		 i;

	if (cg2_mount(mnt, sizeof(mnt)) == -1) {
		snprintf(why, whylen, "no cgroup2 file system mounted");
		return -1;
	}
	if (cg2_own(own, sizeof(own)) == -1) {
		snprintf(why, whylen, "own cgroup v2 path unknown");
		return -1;
	}
	/* Already in the leaf (a later worker): D is its parent. */
	if ((slash = strrchr(own, '/')) != NULL &&
	    strcmp(slash + 1, CG2_LEAF) == 0)
		*slash = '\0';
	if (snprintf(base, sizeof(base), "%s%s", mnt,
	    strcmp(own, "/") == 0 ? "" : own) >= (int)sizeof(base) ||
	    snprintf(leaf, sizeof(leaf), "%s/" CG2_LEAF, base) >=
	    (int)sizeof(leaf))
		return -1;
	if (cg2_read(base, "cgroup.controllers", ctl, sizeof(ctl)) == -1 ||
	    !has_word(ctl, "memory") || !has_word(ctl, "pids")) {
		snprintf(why, whylen, "cgroup v2 %s lacks the memory and pids "
		    "controllers (Delegate=memory pids)", base);
		return -1;
	}
	if (stat(base, &st) == -1 || st.st_uid != geteuid() ||
	    access(base, W_OK) == -1) {
		snprintf(why, whylen, "cgroup v2 %s is not delegated to this "
		    "user", base);
		return -1;
	}
	if (mkdir(leaf, 0755) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", leaf, strerror(errno));
		return -1;
	}
	if (move_all_to_leaf(base, leaf) == -1) {
		snprintf(why, whylen, "moving the pool into %s: %s", leaf,
		    strerror(errno));
		return -1;
	}
	/* EBUSY while a process just forked into D has not been moved yet. */
	for (i = 0; cg2_write(base, "cgroup.subtree_control",
	    "+memory +pids") == -1; i++) {
		if (errno != EBUSY || i == 50) {
			snprintf(why, whylen, "enabling memory and pids in %s: "
			    "%s", base, strerror(errno));
			return -1;
		}
		(void)move_all_to_leaf(base, leaf);
		nap_ms(20);
	}
	sweep_dead(base);

	strlcpy(cg->base, base, sizeof(cg->base));
	cg->run[0] = '\0';
	cg->version = 2;
	snprintf(cg->mem_max, sizeof(cg->mem_max), "%lld",
	    (long long)c->memory_limit_mb << 20);
	/* + 1: the jail's init is one of the run's processes. */
	snprintf(cg->pids_max, sizeof(cg->pids_max), "%d",
	    c->max_processes + 1);
	return 0;
}

/*
 * Makes this run's cgroup with its limits and moves the (waiting) jail
 * init into it. Any failure fails the run: no limits, no run.
 */
int
cg2_attach(struct cgroups *cg, pid_t pid)
{
	char	 p[32];

	if (cg->run[0] != '\0')
		cg2_end(cg);	/* never two runs in one cgroup */
	if (snprintf(cg->run, sizeof(cg->run), "%s/" CG2_RUN_PREFIX "%ld.%lu",
	    cg->base, (long)getpid(), ++cg->seq) >= (int)sizeof(cg->run)) {
		cg->run[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(cg->run, 0700) == -1) {
		cg->run[0] = '\0';
		return -1;
	}
	if (cg2_write(cg->run, "memory.max", cg->mem_max) == -1 ||
	    cg2_write(cg->run, "pids.max", cg->pids_max) == -1 ||
	    cg2_write(cg->run, "memory.oom.group", "1") == -1)
		return -1;
	/* No swap for a run: the cap must be a cap. Absent: no swap at all. */
	if (cg2_write(cg->run, "memory.swap.max", "0") == -1 &&
	    errno != ENOENT)
		return -1;
	snprintf(p, sizeof(p), "%ld", (long)pid);
	return cg2_write(cg->run, "cgroup.procs", p);
}

/* The limits of the current run as the kernel has them, and pid inside. */
int
cg2_check(const struct cgroups *cg, pid_t pid, char *why, size_t whylen)
{
	char	 v[64], path[64], line[PATH_MAX + 8], want[PATH_MAX + 8];
	FILE	*fp;
	bool	 in = false;

	if (cg->run[0] == '\0') {
		snprintf(why, whylen, "no run cgroup");
		return -1;
	}
	if (cg2_read(cg->run, "memory.max", v, sizeof(v)) == -1 ||
	    strtoll(v, NULL, 10) != strtoll(cg->mem_max, NULL, 10)) {
		snprintf(why, whylen, "memory.max of %s is not %s", cg->run,
		    cg->mem_max);
		return -1;
	}
	if (cg2_read(cg->run, "pids.max", v, sizeof(v)) == -1 ||
	    strtoll(v, NULL, 10) != strtoll(cg->pids_max, NULL, 10)) {
		snprintf(why, whylen, "pids.max of %s is not %s", cg->run,
		    cg->pids_max);
		return -1;
	}
	/* The cgroup path of pid must be the run's, relative to the mount. */
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		while (!in && fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "0::/", 4) != 0)
				continue;
			snprintf(want, sizeof(want), "%s", cg->run);
			/* run ends with line + 3 ("/system.slice/...") */
			in = strlen(want) >= strlen(line + 3) &&
			    strcmp(want + strlen(want) - strlen(line + 3),
			    line + 3) == 0;
		}
		fclose(fp);
	}
	if (!in) {
		snprintf(why, whylen, "the jail is not in %s", cg->run);
		return -1;
	}
	return 0;
}

/* After the run: OOM kills and the peak (KiB) of this run's cgroup. */
bool
cg2_oom_killed(const struct cgroups *cg, long *peak_kb)
{
	char		 v[64];
	long long	 n, g;

	if (cg->run[0] == '\0')
		return false;
	/* memory.peak: Linux 5.19 and later (Debian 12 has 6.1). */
	if (cg2_read(cg->run, "memory.peak", v, sizeof(v)) == 0)
		*peak_kb = (long)(strtoll(v, NULL, 10) / 1024);
	n = cg2_key(cg->run, "memory.events", "oom_kill");
	g = cg2_key(cg->run, "memory.events", "oom_group_kill");
	return n > 0 || g > 0;
}

/* OOM kills in the run's cgroup so far (a lane's: case by case), or -1. */
long long
cg2_oom_count(const struct cgroups *cg)
{
	long long	 n, g;

	if (cg->run[0] == '\0' ||
	    (n = cg2_key(cg->run, "memory.events", "oom_kill")) < 0)
		return -1;
	g = cg2_key(cg->run, "memory.events", "oom_group_kill");
	return n + (g > 0 ? g : 0);
}

/*
 * CPU time of every process the run ever had, in seconds, or -1.
 * cpu.stat is a core file of every v2 cgroup: no controller needed.
 */
double
cg2_cpu_sec(const struct cgroups *cg)
{
	long long	 us;

	if (cg->run[0] == '\0' ||
	    (us = cg2_key(cg->run, "cpu.stat", "usage_usec")) < 0)
		return -1;
	return (double)us / 1e6;
}

/* Housekeeping between runs: dead workers' run cgroups. */
void
cg2_sweep(const struct cgroups *cg)
{
	sweep_dead(cg->base);
}

/* Every path of a run ends here: cgroup.kill, then rmdir. */
void
cg2_end(struct cgroups *cg)
{
	long long	 refused;

	if (cg->run[0] == '\0')
		return;
	/* A fork bomb shows here: the kernel's count of refused forks. */
	if ((refused = cg2_key(cg->run, "pids.events", "max")) > 0)
		log_info("run %s: pids.max refused %lld forks",
		    strrchr(cg->run, '/') + 1, refused);
	run_remove(cg->run);
	cg->run[0] = '\0';
}
