/*
 * test_metrics.c: metrics.c on a real file: processes adding at once lose
 * no event, a second opener sees the first one's counts, and a file that
 * is not ours (a symlink, a wrong size) is refused.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "run/run.h"
#include "store/store.h"
#include "store/metrics.h"
#include "tap.h"

#define NPROC	8
#define NEACH	20000

int
main(void)
{
	struct met_counters	 s;
	char			 tmp[] = "/tmp/pyexec-met-XXXXXX", path[256];
	char			 err[512];
	pid_t			 pid;
	int			 i, j, st, fd, okc = 0;

	plan(18);
	if (mkdtemp(tmp) == NULL)
		return 1;
	ok(met_open(tmp, err, sizeof(err)) == 0, "met_open creates the file");
	ok(met_shared(), "counters are shared");
	for (i = 0; i < NPROC; i++) {
		if ((pid = fork()) == 0) {
			/* A worker of its own: maps the same file. */
			if (met_open(tmp, err, sizeof(err)) == -1)
				_exit(2);
			for (j = 0; j < NEACH; j++) {
				met_request(MET_R_EXECUTE, PYX_OK);
				met_run(TERM_EXITED, false, 0.2);
			}
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++)
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			okc++;
	is_int(okc, NPROC, "every adder exited cleanly");
	met_snapshot(&s);
	is_int((long long)s.requests[MET_R_EXECUTE][PYX_OK],
	    (long long)NPROC * NEACH, "no request lost");
	is_int((long long)s.runs[TERM_EXITED], (long long)NPROC * NEACH,
	    "no run lost");
	is_int((long long)s.duration_bucket[4], (long long)NPROC * NEACH,
	    "0.2 s lands in the le=0.25 bucket");
	is_int((long long)s.worker_starts, NPROC + 1, "worker starts counted");
	is_int(met_route_of("/metrics"), MET_R_METRICS, "known route");
	is_int(met_route_of("/metrics/../x"), MET_R_OTHER, "other path");
	is_int(met_route_of("/evaluate"), MET_R_EVALUATE, "the grader");
	is_int(met_route_of("/sessions"), MET_R_SESSIONS, "session creation");
	is_int(met_route_of("/sessions/abc/execute"), MET_R_SESSION_EXEC,
	    "a session's run, by its template");
	is_int(met_route_of("/sessions/abc/files/a/b"), MET_R_SESSION_OTHER,
	    "a session's file, by its template");
	is_int(met_route_of("/sessions//execute"), MET_R_OTHER,
	    "no id is no session");
	is_int(met_route_of("/sessions/{id}/execute"), MET_R_SESSION_EXEC,
	    "the template itself is just an id");
	is_int(met_route_status(met_route_of("/sessions"), 200), 201,
	    "a session made is 201");
	is_int(met_route_status(met_route_of("/sessions/a/fork"), 404), 404,
	    "a fork refused keeps its status");

	/* A symlink where the file should be is refused. */
	snprintf(path, sizeof(path), "%s/evil", tmp);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/evil/metrics.v2", tmp);
	symlink("/etc/passwd", path);
	snprintf(path, sizeof(path), "%s/evil", tmp);
	ok(met_open(path, err, sizeof(err)) == -1 && strstr(err, path),
	    "a symlinked metrics file is refused: %s", err);
	snprintf(path, sizeof(path), "%s/evil/metrics.v2", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/metrics.v2", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/evil", tmp);
	rmdir(path);
	rmdir(tmp);
	(void)fd;
	return done_testing();
}
