/*
 * metrics.c: the pool's counters, one file runtime_dir/metrics.v2 mapped
 * MAP_SHARED by every worker. Owns that mapping. Each event is one relaxed
 * __atomic add on it: no lock, no system call, nothing held across a run,
 * and adds from concurrent workers are never lost. A reader sees each
 * counter exactly; a scrape is not one atomic snapshot of all of them,
 * which Prometheus counters never need.
 *
 * The file is created 0600 by whichever worker comes first (O_NOFOLLOW,
 * then checked to be a regular file of ours, like the slot files), sized
 * with ftruncate (zero-filled, so concurrent creators agree), stamped with
 * a magic by compare-and-swap. runtime_dir is emptied when the service
 * restarts, so counters start from zero then, as Prometheus expects of a
 * restarted target. A file of another layout gets a new name (.v2), never
 * a reinterpretation. If the file cannot be used, the worker counts into
 * private memory and /metrics says so (pyexec_metrics_shared 0): metrics
 * never stop a worker from serving.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "run/run.h"		/* enum termination */
#include "store/store.h"
#include "store/metrics.h"

#define MET_MAGIC	0x70797831u	/* "pyx1" */
#define MET_VERSION	2
#define MET_FILE	"metrics.v2"

_Static_assert(PYX_E__COUNT <= MET_NERR, "MET_NERR too small");
_Static_assert(TERM_ABORTED < MET_NTERM, "MET_NTERM too small");

const double met_buckets[MET_NBUCKETS] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300
};

static const char *const route_names[MET_R__COUNT] = {
	[MET_R_OTHER] = "other",
	[MET_R_HEALTHZ] = "/healthz",
	[MET_R_EXECUTE] = "/execute",
	[MET_R_METRICS] = "/metrics",
	[MET_R_STATUS] = "/status",
	[MET_R_EVALUATE] = "/evaluate",
	[MET_R_SESSIONS] = "/sessions",
	[MET_R_SESSION_EXEC] = "/sessions/{id}/execute",
	[MET_R_SESSION_FORK] = "/sessions/{id}/fork",
	[MET_R_SESSION_OTHER] = "/sessions/{id}",
};

static struct met_counters	 local;		/* until met_open, or if it fails */
static struct met_counters	*m = &local;

#define ADD(field, n)	__atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)

int
met_open(const char *dir, char *err, size_t errlen)
{
	struct met_counters	*p;
	struct stat		 st;
	char			 path[PATH_MAX];
	uint32_t		 zero = 0;
	int			 fd;

	if (snprintf(path, sizeof(path), "%s/" MET_FILE, dir) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1 ||
	    (st.st_size != 0 && st.st_size != (off_t)sizeof(*p))) {
		snprintf(err, errlen, "%s: not an empty or pyexec metrics file "
		    "owned by uid %lu", path, (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	if (st.st_size == 0 && ftruncate(fd, sizeof(*p)) == -1) {
		snprintf(err, errlen, "%s: ftruncate: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * Jails are cloned from the worker in mode = exec: they must not
	 * inherit a writable view of the pool's counters, even until execve.
	 */
	if (madvise(p, sizeof(*p), MADV_DONTFORK) == -1) {
		snprintf(err, errlen, "%s: madvise: %s", path, strerror(errno));
		munmap(p, sizeof(*p));
		return -1;
	}
	/* The first worker stamps it; the others find it stamped. */
	if (__atomic_compare_exchange_n(&p->magic, &zero, MET_MAGIC, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&p->version, MET_VERSION, __ATOMIC_RELEASE);
		__atomic_store_n(&p->created_unix, (uint64_t)time(NULL),
		    __ATOMIC_RELEASE);
	} else if (zero != MET_MAGIC) {
		snprintf(err, errlen, "%s: not a pyexec metrics file", path);
		munmap(p, sizeof(*p));
		return -1;
	}
	m = p;
	ADD(m->worker_starts, 1);
	return 0;
}

bool
met_shared(void)
{
	return m != &local;
}

enum met_route
met_route_of(const char *path)
{
	const char	*rest;
	size_t		 n;
	int		 i;

	if (strncmp(path, "/sessions/", 10) == 0) {
		/* The id, then (maybe) the call; an empty id is no session. */
		n = strcspn(path + 10, "/");
		if (n == 0)
			return MET_R_OTHER;
		rest = path + 10 + n;
		if (strcmp(rest, "/execute") == 0 || strcmp(rest, "/run") == 0)
			return MET_R_SESSION_EXEC;
		if (strcmp(rest, "/fork") == 0)
			return MET_R_SESSION_FORK;
		return MET_R_SESSION_OTHER;
	}
	for (i = 1; i < MET_R__COUNT; i++)
		if (strncmp(route_names[i], "/sessions/", 10) != 0 &&
		    strcmp(path, route_names[i]) == 0)
			return (enum met_route)i;
	return MET_R_OTHER;
}

const char *
met_route_name(enum met_route r)
{
	return (unsigned)r < MET_R__COUNT ? route_names[r] : "other";
}

/*
 * The status a route answers for an error kind: the error table's, except
 * that a success which makes a session is 201 Created.
 */
int
met_route_status(enum met_route r, int status)
{
	if (status == 200 && (r == MET_R_SESSIONS || r == MET_R_SESSION_FORK))
		return 201;
	return status;
}

void
met_request(enum met_route r, int err)
{
	if ((unsigned)r >= MET_R__COUNT)
		r = MET_R_OTHER;
	if (err < 0 || err >= MET_NERR)
		return;
	ADD(m->requests[r][err], 1);
}

void
met_run(int term, bool oom, double wall_sec)
{
	int		 i;
	uint64_t	 us;

	if (term > 0 && term < MET_NTERM)
		ADD(m->runs[term], 1);
	if (oom)
		ADD(m->oom_killed, 1);
	if (!(wall_sec >= 0))		/* NaN too */
		wall_sec = 0;
	for (i = 0; i < MET_NBUCKETS && wall_sec > met_buckets[i]; i++)
		;
	ADD(m->duration_bucket[i], 1);
	us = wall_sec > 1e9 ? UINT64_C(1000000000000000) :
	    (uint64_t)(wall_sec * 1e6 + 0.5);
	ADD(m->duration_sum_us, us);
}

void
met_ratelimited(enum met_ratelimit which)
{
	if ((unsigned)which < MET_RL__COUNT)
		ADD(m->ratelimited[which], 1);
}

void
met_busy(void)
{
	ADD(m->busy, 1);
}

void
met_zygote_replaced(enum met_zygote why)
{
	if ((unsigned)why < MET_ZYG__COUNT)
		ADD(m->zygote_replaced[why], 1);
}

void
met_sandbox_failure(void)
{
	ADD(m->sandbox_failures, 1);
}

void
met_store_error(void)
{
	ADD(m->store_errors, 1);
}

/* Each field read atomically; see the top of the file. */
void
met_snapshot(struct met_counters *out)
{
	const uint64_t	*src = (const uint64_t *)&m->created_unix;
	uint64_t	*dst = (uint64_t *)&out->created_unix;
	size_t		 i, n;

	n = (sizeof(*out) - offsetof(struct met_counters, created_unix)) /
	    sizeof(uint64_t);
	out->magic = __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE);
	out->version = __atomic_load_n(&m->version, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
