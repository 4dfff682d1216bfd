/*
 * selftest.c: before a worker serves its first request it runs a probe
 * (selftest.py) in a real jail, exactly as a request would run, and
 * refuses to serve if confinement is broken. A kernel or host that quietly
 * lost a protection (user namespaces disabled, seccomp missing, a mount
 * that did not take) is caught here, not by the first attacker.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
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

int
selftest_run(struct runner *rn)
{
	const struct config	*cfg = rn->cfg;
	struct exec_req	 req;
	struct run	 run;
	struct slots	 slot;
	enum slots_result sr = SLOTS_FAILED;
	char		 dir[PATH_MAX], head[2 * PATH_MAX + 128], serr[256];
	enum pyx_err	 e;
	double		 t0;
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
	run_init(&run, cfg);
	run.time_limit = SELFTEST_DEADLINE;
	t0 = mono_now();
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
		if ((e = sup_run(&run, rn, &req, dir, true, slot.index,
		    slot.fd)) != PYX_E_RESTARTING)
			break;
		log_warnx("self-test: the zygote died; trying again");
	}
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
	if (rv == 0)
		log_info("self-test passed in %.2f s", mono_now() - t0);
	else
		log_warnx("self-test failed after %.2f s (deadline %d s)",
		    mono_now() - t0, SELFTEST_DEADLINE);
	run_free(&run);
	slots_release(&slot);
	(void)rmdir(dir);
	free(req.code);
	return rv;
}
