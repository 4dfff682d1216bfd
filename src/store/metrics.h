/*
 * metrics.h: counters shared by every worker of the pool (metrics.c), and
 * the two routes that show them, GET /metrics and GET /status (stats.c).
 *
 * The counters live in one small file in runtime_dir that every worker
 * maps MAP_SHARED; each event is one relaxed atomic add, so the hot path
 * takes no lock and no system call, and N events from N workers at once
 * add up to exactly N. Gauges (runs in flight, slots) are not counted:
 * they are read from the slot files when scraped, so a crashed worker
 * cannot leave them wrong.
 */
#ifndef PYX_METRICS_H
#define PYX_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Routes counted by name; any other path is "other" (never the raw path).
 * A session's routes are counted by their template: the id is a secret.
 */
enum met_route {
	MET_R_OTHER = 0,
	MET_R_HEALTHZ,
	MET_R_EXECUTE,
	MET_R_METRICS,
	MET_R_STATUS,
	MET_R_EVALUATE,
	MET_R_SESSIONS,		/* POST /sessions */
	MET_R_SESSION_EXEC,	/* /sessions/{id}/execute and /run */
	MET_R_SESSION_FORK,	/* POST /sessions/{id}/fork */
	MET_R_SESSION_OTHER,	/* every other /sessions/{id}... */
	MET_R__COUNT
};

enum met_ratelimit {
	MET_RL_MINUTE = 0,
	MET_RL_DAILY,
	MET_RL__COUNT
};

enum met_zygote {
	MET_ZYG_RECYCLED = 0,	/* zygote_max_runs or zygote_max_age_seconds */
	MET_ZYG_DIED,		/* gone or unresponsive during a request */
	MET_ZYG__COUNT
};

/* Run durations, upper bounds in seconds; one more bucket for +Inf. */
#define MET_NBUCKETS	14
extern const double met_buckets[MET_NBUCKETS];

#define MET_NERR	24	/* >= PYX_E__COUNT, checked at compile time */
#define MET_NTERM	8	/* >= the termination kinds, ditto */

/* The shared file's layout. Only ever grows at the end (version bump). */
struct met_counters {
	uint32_t	 magic;
	uint32_t	 version;
	uint64_t	 created_unix;		/* first worker's start */
	uint64_t	 worker_starts;
	uint64_t	 requests[MET_R__COUNT][MET_NERR];
	uint64_t	 runs[MET_NTERM];	/* by enum termination */
	uint64_t	 oom_killed;
	uint64_t	 duration_bucket[MET_NBUCKETS + 1];	/* not cumulative */
	uint64_t	 duration_sum_us;
	uint64_t	 ratelimited[MET_RL__COUNT];
	uint64_t	 busy;
	uint64_t	 zygote_replaced[MET_ZYG__COUNT];
	uint64_t	 sandbox_failures;
	uint64_t	 store_errors;
	uint64_t	 reserved[32];
};

/* metrics.c */
int		 met_open(const char *, char *, size_t);
enum met_route	 met_route_of(const char *);
const char	*met_route_name(enum met_route);
int		 met_route_status(enum met_route, int);
void		 met_request(enum met_route, int);
void		 met_run(int, bool, double);
void		 met_ratelimited(enum met_ratelimit);
void		 met_busy(void);
void		 met_zygote_replaced(enum met_zygote);
void		 met_sandbox_failure(void);
void		 met_store_error(void);
void		 met_snapshot(struct met_counters *);
bool		 met_shared(void);

#endif /* PYX_METRICS_H */
