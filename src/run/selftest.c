/*
 * selftest.c: before a worker serves its first request it runs a probe
 * (selftest.py) in a real jail, exactly as a request would run, and
 * refuses to serve if confinement is broken. A kernel or host that quietly
 * lost a protection (user namespaces disabled, seccomp missing, a mount
 * that did not take) is caught here, not by the first attacker.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"
#include "store/store.h"
#include "selftest_py.h"

/*
 * The probe's own deadline, not the operator's time_limit_seconds: a
 * 2-second limit is fine for users, but at start-up every worker probes
 * at once, and on a machine with slow page faults a probe can take
 * seconds. Too short a deadline makes a healthy worker refuse to serve.
 */
#define SELFTEST_DEADLINE	120

static bool
quotable(const char *s)
{
	return strpbrk(s, "'\\\n") == NULL;
}

/*
 * One probe in a jail of slot's, a pre-built one if asked (zygote mode);
 * *prebuilt says whether it ran in one. 0: confinement holds.
 */
static int
probe(struct runner *rn, const struct exec_req *req, const char *dir,
    const struct slots *slot, bool want_prebuilt, bool *prebuilt)
{
	const struct config	*cfg = rn->cfg;
	struct run	 run;
	enum pyx_err	 e = PYX_E_INTERNAL;
	int		 i, rv = -1;

	run_init(&run, cfg);
	run.time_limit = SELFTEST_DEADLINE;
	/*
	 * The probe's cgroup is checked as the kernel has it (cgroup.c). A
	 * zygote killed while it starts (PYX_E_RESTARTING) is tried again,
	 * twice: one that cannot start at all still fails the self-test.
	 */
	for (i = 0; i < 3; i++) {
		if (i > 0) {
			run_free(&run);
			run_init(&run, cfg);
			run.time_limit = SELFTEST_DEADLINE;
		}
		rn->cg->check_next = cg_enabled(rn->cg);
		if (want_prebuilt && i == 0)
			sup_spare_build(rn, &req->limits, SELFTEST_DEADLINE,
			    slot->index);
		/* The build consumed the check (its attach) if it made one. */
		if (sup_spare_slot(rn) != slot->index)
			rn->cg->check_next = cg_enabled(rn->cg);
		if ((e = sup_run(&run, rn, req, dir, true, slot->index,
		    slot->fd)) != PYX_E_RESTARTING)
			break;
		log_warnx("self-test: the zygote died; trying again");
	}
	*prebuilt = run.prebuilt;
	if (e != PYX_OK)
		log_warnx("self-test: the jail could not run a probe (%s); "
		    "check that unprivileged user namespaces are enabled "
		    "(sysctl user.max_user_namespaces, "
		    "kernel.unprivileged_userns_clone) and see the log above",
		    pyx_errinfo(e)->type);
	else if (run.term != TERM_EXITED || run.exit_code != 0)
		log_warnx("self-test: probe ended with termination %d exit %d: "
		    "%.300s", run.term, run.exit_code,
		    run.err.data ? run.err.data : "");
	else if (run.out.data == NULL || strcmp(run.out.data, "PROBE-OK\n") != 0)
		log_warnx("self-test: confinement is broken, refusing to "
		    "serve: %.500s", run.out.data ? run.out.data : "(no output)");
	else
		rv = 0;
	run_free(&run);
	return rv;
}

int
selftest_run(struct runner *rn)
{
	const struct config	*cfg = rn->cfg;
	struct exec_req	 req;
	struct slots	 slot;
	enum slots_result sr = SLOTS_FAILED;
	char		 dir[PATH_MAX], head[2 * PATH_MAX + 128], serr[256];
	double		 t0;
	bool		 prebuilt = false;
	int		 rv = -1, i;

	if (!quotable(cfg->runtime_dir) || !quotable(cfg->state_dir)) {
		log_warnx("self-test: runtime_dir/state_dir contain quotes");
		return -1;
	}
	snprintf(head, sizeof(head), "_RUNTIME_DIR = '%s'\n_STATE_DIR = '%s'\n"
	    "_NPROC = %d\n", cfg->runtime_dir, cfg->state_dir,
	    cfg->max_processes);
	memset(&req, 0, sizeof(req));
	cfg_run_limits(cfg, &req.limits);
	req.code_len = strlen(head) + strlen(selftest_py);
	req.code = xmalloc(req.code_len + 1);
	strlcpy(req.code, head, req.code_len + 1);
	strlcat(req.code, selftest_py, req.code_len + 1);

	if (snprintf(dir, sizeof(dir), "%s/jail.%ld.XXXXXX",
	    cfg->runtime_dir, (long)getpid()) >=
	    (int)sizeof(dir) || mkdtemp(dir) == NULL) {
		log_warn("self-test: mkdtemp in %s", cfg->runtime_dir);
		free(req.code);
		return -1;
	}
	/*
	 * The probe runs in a slot, whose uid it takes, but in one of
	 * SLOTS_SELFTEST past max_concurrent: workers starting (or
	 * restarting) never make requests busy. More workers starting at
	 * once than that wait for one, for up to a minute.
	 */
	for (i = 0; i < 1200; i++) {
		sr = slots_acquire_from(&slot, cfg->runtime_dir,
		    cfg->max_concurrent, cfg->max_concurrent + SLOTS_SELFTEST,
		    serr, sizeof(serr));
		if (sr != SLOTS_BUSY)
			break;
		usleep(50000);
	}
	if (sr != SLOTS_OK) {
		log_warnx("self-test: no slot: %s",
		    sr == SLOTS_BUSY ? "all busy for a minute" : serr);
		(void)rmdir(dir);
		free(req.code);
		return -1;
	}
	t0 = mono_now();
	/*
	 * Zygote mode: a second probe in a pre-built jail, the way a request
	 * that finds one runs (one that cannot be built is logged, and the
	 * worker serves with new jails only, as the first probe checked).
	 */
	rv = probe(rn, &req, dir, &slot, false, &prebuilt);
	if (rv == 0 && cfg->mode == MODE_ZYGOTE && cfg->prebuilt_jails) {
		rv = probe(rn, &req, dir, &slot, true, &prebuilt);
		if (rv == 0 && !prebuilt)
			log_warnx("self-test: no pre-built jail could be "
			    "built (see above)");
	}
	if (rv == 0)
		log_info("self-test passed in %.2f s%s", mono_now() - t0,
		    prebuilt ? ", in a new and in a pre-built jail" : "");
	else
		log_warnx("self-test failed after %.2f s (deadline %d s)",
		    mono_now() - t0, SELFTEST_DEADLINE);
	slots_release(&slot);
	(void)rmdir(dir);
	free(req.code);
	return rv;
}

/*
 * A worker that multiwatch restarts (a crash, a kill, recycling) need not
 * repeat the probe another worker passed moments ago: the same binary,
 * the same configuration file and the same boot leave nothing the probe
 * checks changed, and a restarted worker that probes again keeps requests
 * waiting in the listening socket's backlog for its whole duration (on a
 * loaded machine whose pool is killed repeatedly, past nginx's read
 * timeout). Every run still fails closed on each jail step. The stamp
 * lives in runtime_dir, which only the service user can write and no jail
 * sees; it is trusted only if that user owns it and nobody else can write
 * it.
 */
#define STAMP_NAME	"selftest.ok"

static int
stamp_identity(const char *conf, char *out, size_t len)
{
	struct stat	 exe;
	char		 boot[64], buf[8192];
	uint64_t	 h = 14695981039346656037ULL;	/* FNV-1a */
	ssize_t		 n, i;
	int		 fd;

	if (stat("/proc/self/exe", &exe) == -1 ||
	    (fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, boot, sizeof(boot) - 1);
	close(fd);
	if (n < 32)
		return -1;
	boot[32] = '\0';
	if ((fd = open(conf, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
	close(fd);
	if (n == -1)
		return -1;
	return snprintf(out, len, "v1 %s %llu %llu %lld.%09ld %016llx", boot,
	    (unsigned long long)exe.st_dev, (unsigned long long)exe.st_ino,
	    (long long)exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec,
	    (unsigned long long)h) >= (int)len ? -1 : 0;
}

/* Seconds since a probe passed for this identity, or -1. */
int
selftest_recent(const struct config *cfg, const char *conf)
{
	char		 path[PATH_MAX], id[256], buf[320], *sp;
	struct stat	 st;
	long long	 at, now = (long long)time(NULL);
	ssize_t		 n;
	int		 fd;

	if (stamp_identity(conf, id, sizeof(id)) == -1 ||
	    snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir,
	    STAMP_NAME) >= (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((sp = strrchr(buf, ' ')) == NULL || (size_t)(sp - buf) !=
	    strlen(id) || memcmp(buf, id, strlen(id)) != 0)
		return -1;
	at = strtoll(sp + 1, NULL, 10);
	if (at <= 0 || at > now || now - at > SELFTEST_REUSE_SECONDS)
		return -1;
	return (int)(now - at);
}

/* Records that a probe passed now (best effort: the next one probes). */
void
selftest_stamp(const struct config *cfg, const char *conf)
{
	char	 path[PATH_MAX], tmp[PATH_MAX], id[256], buf[320];
	int	 fd, n;

	if (stamp_identity(conf, id, sizeof(id)) == -1 ||
	    snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir,
	    STAMP_NAME) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return;
	n = snprintf(buf, sizeof(buf), "%s %lld\n", id, (long long)time(NULL));
	if (n <= 0 || n >= (int)sizeof(buf))
		return;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return;
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1 ||
	    rename(tmp, path) == -1)
		(void)unlink(tmp);
}
