/*
 * isolation.c: what the sandbox costs per execution. Runs "print(1)"
 * through the real jail code (sup_run: clone, namespaces, root, cgroups,
 * seccomp, Python, reap) N times per variant, and the same Python command
 * with no isolation at all as the floor; prints median and p95 wall time.
 * Variants leave one mechanism out (possible only in this -DPYX_BENCH
 * build). Run through bench/isolation.py, which sets up the unprivileged
 * user and the delegated cgroups the way the service has them.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "policy/policy.h"
#include "run/run.h"
#include "boot_py.h"

unsigned pyx_bench_skip;

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *name, double *t, int n, double floor_p50)
{
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	printf("| %-34s | %7.2f | %7.2f | %+7.2f |\n", name, t[n / 2] * 1e3,
	    t[(int)(n * 0.95)] * 1e3, floor_p50 < 0 ? 0.0 :
	    (t[n / 2] - floor_p50) * 1e3);
	fflush(stdout);
}

/* The floor: fork + exec of the same Python command, no isolation. */
static double
run_floor(const char *dir, const char *allowed)
{
	int	 p[2], st;
	char	 buf[256];
	pid_t	 pid;
	double	 t0 = mono_now();

	if (pipe(p) == -1)
		fatal("pipe");
	if ((pid = fork()) == 0) {
		close(p[0]);
		dup2(p[1], 1);
		dup2(p[1], 3);
		if (chdir(dir) == -1)
			_exit(126);
		execl("/usr/bin/python3", "python3", "-I", "-u", "-c", boot_py,
		    "admin", allowed, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fatalx("floor run failed: status 0x%x", st);
	return mono_now() - t0;
}

/* What a worker holds for its runs. */
struct bench {
	struct config	 cfg;
	struct policy	 policy;
	struct cgroups	 cg;
	struct zygote	 zyg;
	struct uids	 uids;
	struct runner	 rn;
};

static double
run_jail(struct bench *w, struct exec_req *req)
{
	struct run	 run;
	char		 dir[PATH_MAX];
	enum pyx_err	 e;
	double		 t0 = mono_now();

	if (snprintf(dir, sizeof(dir), "%s/jail.XXXXXX", w->cfg.runtime_dir) >=
	    (int)sizeof(dir) || mkdtemp(dir) == NULL)
		fatal("mkdtemp");
	run_init(&run, &w->cfg);
	e = sup_run(&run, &w->rn, req, dir, true, -1, -1);
	if (e != PYX_OK || run.term != TERM_EXITED || run.exit_code != 0 ||
	    run.out.data == NULL || strcmp(run.out.data, "1\n") != 0)
		fatalx("jail run failed (%d, term %d, exit %d): %s", e, run.term,
		    run.exit_code, run.err.data ? run.err.data : "");
	run_free(&run);
	if (rmdir(dir) == -1)
		fatal("rmdir");
	return mono_now() - t0;
}

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		unsigned	 skip;
		enum run_mode	 mode;
	} variants[] = {
		{ "zygote mode, full isolation", 0, MODE_ZYGOTE },
		{ "exec mode, full isolation", 0, MODE_EXEC },
		{ "  without network namespace", SKIP_NETNS, MODE_EXEC },
		{ "  without seccomp filter", SKIP_SECCOMP, MODE_EXEC },
		{ "  without cgroups", SKIP_CGROUP, MODE_EXEC },
		{ "  without minimal root/pivot_root", SKIP_ROOT, MODE_EXEC },
	};
	struct bench	 w;
	struct exec_req	 req;
	char		 err[3 * PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 16];
	double		*tv[16], floor_p50;
	int		 n = argc > 2 ? atoi(argv[2]) : 300, i, fd;
	size_t		 v, nv;

	if (argc < 2 || n < 20)
		fatalx("usage: isolation RUNTIME_DIR [RUNS>=20 [ZYGOTE]]");
	log_init("bench", 0);
	memset(&w, 0, sizeof(w));
	cfg_defaults(&w.cfg);
	strlcpy(w.cfg.runtime_dir, argv[1], sizeof(w.cfg.runtime_dir));
	if (argc > 3)
		strlcpy(w.cfg.zygote_path, argv[3], sizeof(w.cfg.zygote_path));
	zyg_init(&w.zyg, &w.cfg);
	w.rn = (struct runner){ .cfg = &w.cfg, .policy = &w.policy,
	    .cg = &w.cg, .zyg = &w.zyg, .uids = &w.uids, .uid = getuid(),
	    .gid = getgid(), .fontlist_fd = -1 };
	w.uids.fd = -1;		/* run_uids = shared: measured without the helper */
	if (policy_prepare(&w.policy, err, sizeof(err)) == -1)
		fatalx("%s", err);
	cg_init(&w.cg, &w.cfg, err, sizeof(err));
	printf("limits: %s\n\n", err);
	memset(&req, 0, sizeof(req));
	req.code = xstrndup("print(1)\n", 9);
	req.code_len = 9;
	/* The server's limits, as a request that sets none of its own. */
	cfg_run_limits(&w.cfg, &req.limits);

	if (snprintf(dir, sizeof(dir), "%s/floor", argv[1]) >= (int)sizeof(dir) ||
	    snprintf(path, sizeof(path), "%s/script.py", dir) >=
	    (int)sizeof(path) || mkdir(dir, 0700) == -1 ||
	    (fd = open(path, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, req.code, req.code_len) != (ssize_t)req.code_len)
		fatal("floor dir");
	close(fd);

	printf("%d runs each, print(1), wall time from start to reap\n\n", n);
	printf("| %-34s | p50 ms  | p95 ms  | vs floor |\n", "variant");
	printf("|%s|---------|---------|----------|\n",
	    "------------------------------------");
	/*
	 * Round robin: run i of every variant back to back, so a burst of
	 * background load hits all of them alike instead of one whole row.
	 */
	nv = sizeof(variants) / sizeof(variants[0]);
	for (v = 0; v <= nv; v++)
		tv[v] = xcalloc((size_t)n, sizeof(double));
	for (i = -20; i < n; i++) {
		double	 d = run_floor(dir, w.cfg.allowed_imports);

		if (i >= 0)
			tv[0][i] = d;
		for (v = 0; v < nv; v++) {
			pyx_bench_skip = variants[v].skip;
			w.cfg.mode = variants[v].mode;
			d = run_jail(&w, &req);
			if (i >= 0)
				tv[v + 1][i] = d;
		}
	}
	report("floor: fork+exec python3 -I -u", tv[0], n, -1);
	floor_p50 = tv[0][n / 2];
	for (v = 0; v < nv; v++)
		report(variants[v].name, tv[v + 1], n, floor_p50);
	unlink(path);
	rmdir(dir);
	zyg_stop(&w.zyg);
	cg_cleanup(&w.cg);
	return 0;
}
