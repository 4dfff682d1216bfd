/*
 * cgroup.c: per-run memory and process limits through cgroups, where the
 * host delegates a hierarchy to the worker user. Picks the mechanism
 * (cgroup2.c for the unified hierarchy, the v1 code here) and owns the
 * worker's pooled v1 cgroup directories; never creates cgroups anywhere it
 * does not own.
 *
 * Why: RLIMIT_AS is per process, so without a cgroup one run may hold up
 * to max_processes x memory_limit_mb, and the kernel cannot say "this run
 * was out of memory". A memory cgroup caps the run as a whole (tmpfs pages
 * of its workspace included) and counts OOM kills; a pids cgroup is a
 * second per-run process cap beside the user-namespace RLIMIT_NPROC.
 *
 * Which: v2 where the worker sits in a delegated v2 subtree with the
 * memory and pids controllers (systemd's Delegate=, the Debian package),
 * else v1 where the worker's own cgroups in the v1 "memory" and "pids"
 * hierarchies are directories it owns (the dev and test stacks chown
 * them), else none (rlimits only). The start-up log says which and why.
 *
 * v1 model: the worker creates one child per hierarchy, "w<pid>", once,
 * and reuses it for every run (a worker runs one jail at a time): no mkdir
 * or rmdir on the request path. Either way, before a jail's init does
 * anything, the worker puts its pid into the run's cgroups and only then
 * lets it go on (supervise.c), so no instruction of the run executes
 * outside the limits.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"

static int
write_str(const char *dir, const char *file, const char *val)
{
	char	 path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return -1;
	return write_string(path, val);
}

static long long
read_ll(const char *dir, const char *file, const char *key)
{
	char	 path[PATH_MAX], buf[4096], *p;
	ssize_t	 n;
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (key == NULL)
		return strtoll(buf, NULL, 10);
	for (p = buf; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, strlen(key)) == 0 && p[strlen(key)] == ' ')
			return strtoll(p + strlen(key) + 1, NULL, 10);
	return -1;
}

/* The mount point of the v1 hierarchy carrying controller ctl, from mountinfo. */
static int
v1_mount(const char *ctl, char *out, size_t outlen)
{
	FILE	*fp;
	char	 line[4096], *sep, *mnt, *opts, *tok, *save;
	int	 found = -1;
	int	 i;

	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), fp) != NULL) {
		if ((sep = strstr(line, " - cgroup ")) == NULL)
			continue;
		/* field 5 is the mount point */
		mnt = line;
		for (i = 0; i < 4 && mnt != NULL; i++)
			mnt = strchr(mnt, ' '), mnt = mnt ? mnt + 1 : NULL;
		if (mnt == NULL)
			continue;
		*strchr(mnt, ' ') = '\0';
		/* super options: "cgroup <source> <opts>" */
		opts = strrchr(sep, ' ');
		if (opts == NULL)
			continue;
		opts++;
		opts[strcspn(opts, "\n")] = '\0';
		for (tok = strtok_r(opts, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, ctl) == 0 &&
			    strlcpy(out, mnt, outlen) < outlen)
				found = 0;
	}
	fclose(fp);
	return found;
}

/* The worker's own cgroup path in the v1 hierarchy of ctl. */
static int
v1_own_path(const char *ctl, char *out, size_t outlen)
{
	FILE	*fp;
	char	 line[4096], *a, *b, *tok, *save;
	int	 found = -1;

	if ((fp = fopen("/proc/self/cgroup", "re")) == NULL)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((a = strchr(line, ':')) == NULL ||
		    (b = strchr(a + 1, ':')) == NULL)
			continue;
		*b = '\0';
		for (tok = strtok_r(a + 1, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, ctl) == 0 &&
			    strlcpy(out, b + 1, outlen) < outlen)
				found = 0;
	}
	fclose(fp);
	return found;
}

/* Creates <own cgroup>/w<pid> in the hierarchy of ctl, if we own the parent. */
static int
v1_make(const char *ctl, char *dir, size_t dirlen, char *why, size_t whylen)
{
	char		 mnt[PATH_MAX], own[PATH_MAX], parent[PATH_MAX];
	struct stat	 st;

	if (v1_mount(ctl, mnt, sizeof(mnt)) == -1) {
		snprintf(why, whylen, "no cgroup v1 %s hierarchy", ctl);
		return -1;
	}
	if (v1_own_path(ctl, own, sizeof(own)) == -1 ||
	    snprintf(parent, sizeof(parent), "%s%s", mnt,
	    strcmp(own, "/") == 0 ? "" : own) >= (int)sizeof(parent)) {
		snprintf(why, whylen, "own %s cgroup unknown", ctl);
		return -1;
	}
	if (stat(parent, &st) == -1 || st.st_uid != geteuid() ||
	    access(parent, W_OK) == -1) {
		snprintf(why, whylen, "%s cgroup %s is not delegated to this "
		    "user", ctl, parent);
		return -1;
	}
	if (snprintf(dir, dirlen, "%s/w%ld", parent, (long)getpid()) >=
	    (int)dirlen)
		return -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Sets up the worker's pooled cgroups. Fills a human-readable summary of
 * the mechanisms in force for the start-up log. Never fails the worker:
 * without a delegated hierarchy the rlimits still apply.
 */
void
cg_init(struct cgroups *cg, const struct config *c, char *summary,
    size_t len)
{
	char	 why_m[PATH_MAX + 128] = "", why_p[PATH_MAX + 128] = "";
	char	 why_2[PATH_MAX + 128] = "", why_c[PATH_MAX + 128] = "";
	char	 val[32];

	memset(cg, 0, sizeof(*cg));
	if (cg2_init(cg, c, why_2, sizeof(why_2)) == 0) {
		snprintf(summary, len, "cgroup v2, delegated subtree %s: per "
		    "run memory.max %d MiB (swap 0, OOM kills the whole run), "
		    "pids.max %d; RLIMIT_AS %d MiB per process, RLIMIT_NPROC "
		    "%d per run", cg->base, c->memory_limit_mb,
		    c->max_processes + 1, c->memory_limit_mb, c->max_processes);
		return;
	}
	if (v1_make("memory", cg->mem, sizeof(cg->mem), why_m,
	    sizeof(why_m)) == 0) {
		snprintf(val, sizeof(val), "%lld",
		    (long long)c->memory_limit_mb << 20);
		/* No swap for a run: the cap must be a cap. */
		if (write_str(cg->mem, "memory.limit_in_bytes", val) == -1) {
			snprintf(why_m, sizeof(why_m), "memory.limit_in_bytes: %s",
			    strerror(errno));
			(void)rmdir(cg->mem);
			cg->mem[0] = '\0';
		} else {
			(void)write_str(cg->mem, "memory.memsw.limit_in_bytes",
			    val);
			(void)write_str(cg->mem, "memory.swappiness", "0");
		}
	} else
		cg->mem[0] = '\0';
	if (v1_make("pids", cg->pids, sizeof(cg->pids), why_p,
	    sizeof(why_p)) == 0) {
		/* + 1: the jail's init is one of the run's processes. */
		snprintf(val, sizeof(val), "%d", c->max_processes + 1);
		if (write_str(cg->pids, "pids.max", val) == -1) {
			snprintf(why_p, sizeof(why_p), "pids.max: %s",
			    strerror(errno));
			(void)rmdir(cg->pids);
			cg->pids[0] = '\0';
		}
	} else
		cg->pids[0] = '\0';

	/*
	 * cpuacct only counts: the CPU time of a run stopped at a limit,
	 * whose processes the kernel reaps without accounting them to
	 * anyone. Without it the reply has init's own report only.
	 */
	if (v1_make("cpuacct", cg->cpu, sizeof(cg->cpu), why_c,
	    sizeof(why_c)) == -1)
		cg->cpu[0] = '\0';
	if (cg->mem[0] || cg->pids[0])
		cg->version = 1;
	snprintf(cg->mem_max, sizeof(cg->mem_max), "%lld",
	    (long long)c->memory_limit_mb << 20);
	snprintf(cg->pids_max, sizeof(cg->pids_max), "%d",
	    c->max_processes + 1);
	strlcpy(cg->v1_mem_set, cg->mem_max, sizeof(cg->v1_mem_set));
	strlcpy(cg->v1_pids_set, cg->pids_max, sizeof(cg->v1_pids_set));
	snprintf(summary, len, "cgroup %s (v2: %s); memory: RLIMIT_AS %d MiB "
	    "per process%s%s; processes: RLIMIT_NPROC %d per run (per user "
	    "namespace)%s%s", cg->version == 1 ? "v1" : "none", why_2,
	    c->memory_limit_mb,
	    cg->mem[0] ? ", cgroup v1 memory cap per run at " : " (no per-run "
	    "cap: ", cg->mem[0] ? cg->mem : why_m, c->max_processes,
	    cg->pids[0] ? ", cgroup v1 pids per run at " : " (no pids cgroup: ",
	    cg->pids[0] ? cg->pids : why_p);
	if (!cg->mem[0])
		strlcat(summary, ")", len);
	if (!cg->pids[0] && strlen(summary) + 1 < len)
		strlcat(summary, ")", len);
	if (cg->version == 1 && strlen(summary) + 1 < len) {
		strlcat(summary, "; cpu time: ", len);
		strlcat(summary, cg->cpu[0] ? cg->cpu : why_c, len);
	}
}

bool
cg_enabled(const struct cgroups *cg)
{
	return cg->version != 0;
}

/* Self-test: the limits as the kernel has them, and pid inside. */
static bool
v1_member(pid_t pid, const char *ctl, const char *dir)
{
	char	 path[64], line[PATH_MAX + 32], key[32], *p;
	FILE	*fp;
	bool	 in = false;
	size_t	 dl = strlen(dir), pl;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	snprintf(key, sizeof(key), ":%s:", ctl);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	while (!in && fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		/* "N:memory:/path": dir is <mount>/path */
		if (strstr(line, key) == NULL ||
		    (p = strrchr(line, ':')) == NULL)
			continue;
		pl = strlen(p + 1);
		in = pl > 1 && dl >= pl && strcmp(dir + dl - pl, p + 1) == 0;
	}
	fclose(fp);
	return in;
}

static int
v1_check(const struct cgroups *cg, pid_t pid, char *why, size_t whylen)
{
	if ((cg->mem[0] && !v1_member(pid, "memory", cg->mem)) ||
	    (cg->pids[0] && !v1_member(pid, "pids", cg->pids))) {
		snprintf(why, whylen, "the jail is not in the worker's v1 "
		    "cgroups");
		return -1;
	}
	if (cg->mem[0] && read_ll(cg->mem, "memory.limit_in_bytes", NULL) !=
	    strtoll(cg->mem_max, NULL, 10)) {
		snprintf(why, whylen, "memory.limit_in_bytes of %s is not %s",
		    cg->mem, cg->mem_max);
		return -1;
	}
	if (cg->pids[0] && read_ll(cg->pids, "pids.max", NULL) !=
	    strtoll(cg->pids_max, NULL, 10)) {
		snprintf(why, whylen, "pids.max of %s is not %s", cg->pids,
		    cg->pids_max);
		return -1;
	}
	return 0;
}

/*
 * The next run's caps: the server's, or a request's lower ones. The v2
 * run cgroup is made with them; v1 rewrites the worker's own before the
 * run is attached (cg_attach).
 */
void
cg_limits(struct cgroups *cg, int memory_mb, int processes)
{
	snprintf(cg->mem_max, sizeof(cg->mem_max), "%lld",
	    (long long)memory_mb << 20);
	/* + 1: the jail's init is one of the run's processes. */
	snprintf(cg->pids_max, sizeof(cg->pids_max), "%d", processes + 1);
}

/*
 * v1: the worker's cgroups are reused run after run; give them this
 * run's caps. memsw may never be below the memory limit, so the order of
 * the two writes depends on the direction.
 */
static int
v1_set_limits(struct cgroups *cg)
{
	if (cg->mem[0] && strcmp(cg->v1_mem_set, cg->mem_max) != 0) {
		if (write_str(cg->mem, "memory.limit_in_bytes", cg->mem_max) == 0)
			(void)write_str(cg->mem, "memory.memsw.limit_in_bytes",
			    cg->mem_max);
		else if (write_str(cg->mem, "memory.memsw.limit_in_bytes",
		    cg->mem_max) == -1 || write_str(cg->mem,
		    "memory.limit_in_bytes", cg->mem_max) == -1)
			return -1;
		strlcpy(cg->v1_mem_set, cg->mem_max, sizeof(cg->v1_mem_set));
	}
	if (cg->pids[0] && strcmp(cg->v1_pids_set, cg->pids_max) != 0) {
		if (write_str(cg->pids, "pids.max", cg->pids_max) == -1)
			return -1;
		strlcpy(cg->v1_pids_set, cg->pids_max, sizeof(cg->v1_pids_set));
	}
	return 0;
}

/*
 * Puts the (waiting) jail init into the worker's cgroups and resets the
 * peak and the OOM baseline, so the numbers after the run are this run's.
 */
int
cg_attach(struct cgroups *cg, pid_t pid)
{
	char	 p[32], why[PATH_MAX + 64];
	int	 rv;

	if (cg->version == 2) {
		rv = cg2_attach(cg, pid);
		if (rv == 0 && cg->check_next &&
		    (rv = cg2_check(cg, pid, why, sizeof(why))) == -1)
			log_warnx("cgroup check: %s", why);
		cg->check_next = false;
		return rv;
	}
	snprintf(p, sizeof(p), "%ld", (long)pid);
	if (v1_set_limits(cg) == -1)
		return -1;
	if (cg->mem[0]) {
		(void)write_str(cg->mem, "memory.max_usage_in_bytes", "0");
		cg->oom_before = read_ll(cg->mem, "memory.oom_control",
		    "oom_kill");
		if (write_str(cg->mem, "cgroup.procs", p) == -1)
			return -1;
	}
	if (cg->pids[0] && write_str(cg->pids, "cgroup.procs", p) == -1)
		return -1;
	/* Counting only: a run outside it still runs, with init's figure. */
	cg->cpu_ok = cg->cpu[0] && write_str(cg->cpu, "cpuacct.usage", "0") ==
	    0 && write_str(cg->cpu, "cgroup.procs", p) == 0;
	if (cg->check_next && v1_check(cg, pid, why, sizeof(why)) == -1) {
		log_warnx("cgroup check: %s", why);
		cg->check_next = false;
		return -1;
	}
	cg->check_next = false;
	return 0;
}

/* After the run: was anything of it killed for memory? Peak in KiB. */
bool
cg_oom_killed(const struct cgroups *cg, long *peak_kb)
{
	long long	 n, peak;

	if (cg->version == 2)
		return cg2_oom_killed(cg, peak_kb);
	if (!cg->mem[0])
		return false;
	if ((peak = read_ll(cg->mem, "memory.max_usage_in_bytes", NULL)) >= 0)
		*peak_kb = (long)(peak / 1024);
	n = read_ll(cg->mem, "memory.oom_control", "oom_kill");
	return n > cg->oom_before;
}

/*
 * The OOM killer's count so far, or -1: a lane's cases share its cgroups
 * (/evaluate), so a case's kills are the count's growth during it.
 */
long long
cg_oom_count(const struct cgroups *cg)
{
	if (cg->version == 2)
		return cg2_oom_count(cg);
	if (!cg->mem[0])
		return -1;
	return read_ll(cg->mem, "memory.oom_control", "oom_kill");
}

/* The whole run's CPU time in seconds, or -1 when no cgroup counted it. */
double
cg_cpu_sec(const struct cgroups *cg)
{
	long long	 ns;

	if (cg->version == 2)
		return cg2_cpu_sec(cg);
	if (!cg->cpu_ok || (ns = read_ll(cg->cpu, "cpuacct.usage", NULL)) < 0)
		return -1;
	return (double)ns / 1e9;
}

/* Every run, on every path: v2 kills and removes the run's cgroup. */
void
cg_run_end(struct cgroups *cg)
{
	if (cg->version == 2)
		cg2_end(cg);
}

void
cg_sweep(struct cgroups *cg)
{
	if (cg->version == 2)
		cg2_sweep(cg);
}

void
cg_cleanup(struct cgroups *cg)
{
	if (cg->version == 2)
		cg2_end(cg);
	if (cg->mem[0])
		(void)rmdir(cg->mem);
	if (cg->pids[0])
		(void)rmdir(cg->pids);
	if (cg->cpu[0])
		(void)rmdir(cg->cpu);
}

/*
 * /evaluate runs several cases of one request at once, each under limits
 * of its own: lane k > 0 gets a cgroup set beside the worker's (v1: the
 * sibling directories w<pid>.g<k>, with the same limits; v2: its own run
 * cgroups, named apart by their sequence numbers). Never nested under
 * the worker's: a parent's limit would cap the lanes together.
 */
static int
v1_lane_dir(const char *base, char *dir, size_t len, int k, const char *file,
    const char *val)
{
	if (snprintf(dir, len, "%s.g%d", base, k) >= (int)len) {
		dir[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		dir[0] = '\0';
		return -1;
	}
	return write_str(dir, file, val);
}

int
cg_lane(const struct cgroups *base, struct cgroups *lane, int k)
{
	*lane = *base;
	lane->check_next = false;
	lane->run[0] = '\0';
	lane->mem[0] = lane->pids[0] = lane->cpu[0] = '\0';
	lane->cpu_ok = false;
	if (base->version == 2) {
		lane->seq = base->seq + ((unsigned long)k << 32);
		return 0;
	}
	if (base->version != 1)
		return 0;
	if (base->mem[0]) {
		if (v1_lane_dir(base->mem, lane->mem, sizeof(lane->mem), k,
		    "memory.limit_in_bytes", base->mem_max) == -1)
			goto fail;
		(void)write_str(lane->mem, "memory.memsw.limit_in_bytes",
		    base->mem_max);
		(void)write_str(lane->mem, "memory.swappiness", "0");
	}
	if (base->pids[0] && v1_lane_dir(base->pids, lane->pids,
	    sizeof(lane->pids), k, "pids.max", base->pids_max) == -1)
		goto fail;
	/* What the lane's files hold now, for v1_set_limits. */
	strlcpy(lane->v1_mem_set, base->mem_max, sizeof(lane->v1_mem_set));
	strlcpy(lane->v1_pids_set, base->pids_max, sizeof(lane->v1_pids_set));
	/*
	 * Counting only, as the worker's: a lane sharing the worker's
	 * cpuacct group would add the other lanes' CPU time to its own.
	 */
	if (base->cpu[0] && v1_lane_dir(base->cpu, lane->cpu,
	    sizeof(lane->cpu), k, "cpuacct.usage", "0") == -1) {
		if (lane->cpu[0])
			(void)rmdir(lane->cpu);
		lane->cpu[0] = '\0';
	}
	return 0;
fail:
	log_warn("cgroup for a concurrent case");
	cg_lane_free(lane);
	return -1;
}

void
cg_lane_free(struct cgroups *lane)
{
	if (lane->version == 2)
		cg2_end(lane);
	if (lane->version == 1 && lane->mem[0])
		(void)rmdir(lane->mem);
	if (lane->version == 1 && lane->pids[0])
		(void)rmdir(lane->pids);
	if (lane->cpu[0])
		(void)rmdir(lane->cpu);
	lane->mem[0] = lane->pids[0] = lane->cpu[0] = '\0';
}

/*
 * A session's own cgroups, beside the per-run ones: "sess.N" (N: the
 * session slot) with the session's memory cap (no swap) and the run's
 * pids cap, for its whole family (the session and its forks), and a CPU
 * group of the session's own, out[2], holding pid (the session jail's
 * init, before its go; the interpreter it forks inherits it). A fork's
 * keeper makes its own CPU group beside its parent's (keeper.c), so each
 * member of a family is counted apart:
 *   v2: sess.N (memory.max, pids.max) / sess.N (CPU: cpu.stat, a core
 *       file of every cgroup; no controller is enabled below sess.N, so
 *       its limits hold for every child);
 *   v1: memory/.../sess.N, pids/.../sess.N, and cpuacct/.../sess.N where
 *       a cpuacct hierarchy is delegated (else out[2] is "" and the
 *       keeper counts the family's processes instead).
 * The directories go to out[] for the session's keeper, which removes
 * them when the session ends; the per-run sweeps never match the name.
 * Returns 0 (out[] "" where no cgroup is delegated), or -1.
 */
int
cg_session_attach(const struct cgroups *cg, int slot, long long mem_bytes,
    pid_t pid, char out[3][PATH_MAX])
{
	const char	*src[3] = { NULL, NULL, NULL };
	char		 val[32], p[32], parent[PATH_MAX], *slash;
	int		 i;

	out[0][0] = out[1][0] = out[2][0] = '\0';
	snprintf(p, sizeof(p), "%ld", (long)pid);
	if (cg->version == 2) {
		if (snprintf(out[0], PATH_MAX, "%s/sess.%d", cg->base, slot) >=
		    PATH_MAX || snprintf(out[2], PATH_MAX, "%s/sess.%d/sess.%d",
		    cg->base, slot, slot) >= PATH_MAX)
			return -1;
		(void)rmdir(out[2]);	/* a dead keeper's, empty */
		(void)rmdir(out[0]);
		if (mkdir(out[0], 0700) == -1) {
			out[0][0] = out[2][0] = '\0';
			return -1;
		}
		snprintf(val, sizeof(val), "%lld", mem_bytes);
		if (write_str(out[0], "memory.max", val) == -1 ||
		    write_str(out[0], "pids.max", cg->pids_max) == -1 ||
		    write_str(out[0], "memory.oom.group", "1") == -1 ||
		    (write_str(out[0], "memory.swap.max", "0") == -1 &&
		    errno != ENOENT))
			return -1;
		if (mkdir(out[2], 0700) == -1) {
			out[2][0] = '\0';
			return -1;
		}
		return write_str(out[2], "cgroup.procs", p);
	}
	if (cg->version != 1)
		return 0;
	src[0] = cg->mem[0] ? cg->mem : NULL;
	src[1] = cg->pids[0] ? cg->pids : NULL;
	src[2] = cg->cpu[0] ? cg->cpu : NULL;
	for (i = 0; i < 3; i++) {
		if (src[i] == NULL)
			continue;
		strlcpy(parent, src[i], sizeof(parent));
		if ((slash = strrchr(parent, '/')) == NULL)
			return -1;
		*slash = '\0';
		if (snprintf(out[i], PATH_MAX, "%s/sess.%d", parent, slot) >=
		    PATH_MAX)
			return -1;
		(void)rmdir(out[i]);
		if (mkdir(out[i], 0700) == -1) {
			out[i][0] = '\0';
			return -1;
		}
		if (i == 0) {
			snprintf(val, sizeof(val), "%lld", mem_bytes);
			if (write_str(out[i], "memory.limit_in_bytes", val) == -1)
				return -1;
			(void)write_str(out[i], "memory.memsw.limit_in_bytes", val);
			(void)write_str(out[i], "memory.swappiness", "0");
		} else if (i == 1 &&
		    write_str(out[i], "pids.max", cg->pids_max) == -1)
			return -1;
		if (write_str(out[i], "cgroup.procs", p) == -1)
			return -1;
	}
	return 0;
}

/* Kills what dir holds, then removes it, retrying for about a second. */
static int
sess_dir_remove(const char *dir)
{
	int	 tries;

	for (tries = 0; tries < 50; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		if (tries == 0)
			(void)cgroup_kill_procs(dir, 0);
		usleep(20000);
	}
	return access(dir, F_OK) == 0 ? -1 : 0;
}

/*
 * The cgroups of session slot `slot`, left by a keeper that was killed
 * before it could remove them (SIGKILL): called only by a holder of the
 * slot's lock, so no live session owns them. A root keeper's jail died
 * with it (init's parent-death signal), but the kernel empties a cgroup
 * asynchronously; a member keeper's processes may still run in its
 * family's jail: both are killed, then the directories removed (v2: a
 * family's CPU groups first, and a member's own wherever its family is).
 * 0, or -1 with a directory still there.
 */
int
cg_session_remove(const struct cgroups *cg, int slot)
{
	char		 dir[PATH_MAX], parent[PATH_MAX], name[32], *slash;
	const char	*src[3] = { NULL, NULL, NULL };
	struct dirent	*de;
	DIR		*d;
	int		 i, rv = 0;

	snprintf(name, sizeof(name), "sess.%d", slot);
	if (cg->version == 2) {
		if ((d = opendir(cg->base)) == NULL)
			return errno == ENOENT ? 0 : -1;
		/* sess.F/sess.<slot>: this slot's CPU group, in any family F */
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "sess.", 5) != 0 ||
			    snprintf(dir, sizeof(dir), "%s/%s/%s", cg->base,
			    de->d_name, name) >= (int)sizeof(dir))
				continue;
			if (sess_dir_remove(dir) == -1)
				rv = -1;
		}
		closedir(d);
		if (snprintf(dir, sizeof(dir), "%s/%s", cg->base, name) >=
		    (int)sizeof(dir))
			return -1;
		/* this slot's family: its members' CPU groups, then itself */
		(void)write_str(dir, "cgroup.kill", "1");
		if ((d = opendir(dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strncmp(de->d_name, "sess.", 5) != 0 ||
				    snprintf(parent, sizeof(parent), "%s/%s",
				    dir, de->d_name) >= (int)sizeof(parent))
					continue;
				if (sess_dir_remove(parent) == -1)
					rv = -1;
			}
			closedir(d);
		}
		return sess_dir_remove(dir) == -1 ? -1 : rv;
	}
	if (cg->version != 1)
		return 0;
	/* The CPU group first: a member's processes hold only it. */
	src[0] = cg->cpu[0] ? cg->cpu : NULL;
	src[1] = cg->mem[0] ? cg->mem : NULL;
	src[2] = cg->pids[0] ? cg->pids : NULL;
	for (i = 0; i < 3; i++) {
		if (src[i] == NULL)
			continue;
		strlcpy(parent, src[i], sizeof(parent));
		if ((slash = strrchr(parent, '/')) == NULL)
			continue;
		*slash = '\0';
		if (snprintf(dir, sizeof(dir), "%s/%s", parent, name) >=
		    (int)sizeof(dir))
			continue;
		if (sess_dir_remove(dir) == -1)
			rv = -1;
	}
	return rv;
}
