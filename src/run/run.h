/*
 * run.h: one run of untrusted code, seen from the worker (src/run/):
 * start the jail (itself or through the zygote), feed it, drain it,
 * enforce the deadline, reap it, read its verdict and its return files.
 *
 * Rules: owns every fd and process of a run in struct run, released by
 * run_free() on every path. Knows nothing of HTTP; what a run needs from
 * the worker is a struct runner, never the worker itself.
 */
#ifndef PYX_RUN_H
#define PYX_RUN_H

#include <sys/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "jail/jail.h"
#include "zygote/zygote.h"
#include "uidmap/uidmap.h"

struct json_object;

/* What one run is asked to do, as request.c parsed it. */
struct attachment {
	char		*name;
	uint8_t		*data;
	size_t		 len;
};

struct exec_req {
	char		*code;
	size_t		 code_len;	/* bytes */
	size_t		 code_chars;	/* code points */
	char		*stdin_data;
	size_t		 stdin_len;
	bool		 stdin_provided;
	struct attachment *att;
	size_t		 natt;
	char		**ret;
	size_t		 nret;
	char		*api_key;
	size_t		 api_key_len;
	struct run_limits limits;
};

/* cgroup.c: per-run memory and pids limits where the host delegates them */
struct cgroups {
	int		 version;		/* 0: none, 1 or 2 */
	char		 mem[PATH_MAX];		/* v1; "" when not in use */
	char		 pids[PATH_MAX];
	char		 cpu[PATH_MAX];		/* v1 cpuacct: accounting only */
	bool		 cpu_ok;		/* this run is in it, counted from 0 */
	long long	 oom_before;
	char		 base[PATH_MAX];	/* v2: the delegated directory */
	char		 run[PATH_MAX];		/* v2: this run's; "" between runs */
	unsigned long	 seq;
	char		 mem_max[24];
	char		 pids_max[24];
	bool		 check_next;		/* self-test: verify the next attach */
	char		 v1_mem_set[24];	/* v1: what the worker's cgroups */
	char		 v1_pids_set[24];	/* hold now */
};

void	 cg_init(struct cgroups *, const struct config *, char *, size_t);
bool	 cg_enabled(const struct cgroups *);
void	 cg_limits(struct cgroups *, int, int);
int	 cg_attach(struct cgroups *, pid_t);
bool	 cg_oom_killed(const struct cgroups *, long *);
double	 cg_cpu_sec(const struct cgroups *);
long long cg_oom_count(const struct cgroups *);
void	 cg_run_end(struct cgroups *);
void	 cg_sweep(struct cgroups *);
void	 cg_cleanup(struct cgroups *);
int	 cg_lane(const struct cgroups *, struct cgroups *, int);
void	 cg_lane_free(struct cgroups *);
int	 cg_session_attach(const struct cgroups *, int, long long, pid_t,
	    char [3][PATH_MAX]);
int	 cg_session_remove(const struct cgroups *, int);
/* cgroup2.c: the unified hierarchy, under systemd's Delegate= */
int	 cg2_init(struct cgroups *, const struct config *, char *, size_t);
int	 cg2_attach(struct cgroups *, pid_t);
int	 cg2_check(const struct cgroups *, pid_t, char *, size_t);
bool	 cg2_oom_killed(const struct cgroups *, long *);
double	 cg2_cpu_sec(const struct cgroups *);
long long cg2_oom_count(const struct cgroups *);
void	 cg2_end(struct cgroups *);
void	 cg2_sweep(const struct cgroups *);

/* What a run needs from the process that starts it (a worker). */
struct runner {
	const struct config *cfg;
	const struct policy *policy;
	struct cgroups	*cg;
	struct zygote	*zyg;		/* mode = zygote */
	struct uids	*uids;		/* per-slot host ids, or fd -1: shared */
	uid_t		 uid;		/* mapped to PYX_JAIL_UID in the jail */
	gid_t		 gid;
	char		*wipe;		/* exec mode: the admin key, zeroed in */
	size_t		 wipe_len;	/* the jail init's copy of the worker */
	int		 fontlist_fd;	/* exec mode: matplotlib's font list, */
	char		 fontlist_name[64]; /* read-only (fontlist.c); -1: none */
	struct spare	*spare;		/* zygote mode: the pre-built jail */
};

/* supervise.c */
enum termination {
	TERM_NONE = 0,
	TERM_EXITED,
	TERM_SIGNALED,
	TERM_TIMEOUT,
	TERM_CPU,
	TERM_MEMORY,
	TERM_OUTPUT,
	TERM_ABORTED,		/* the client went away (nginx closed) */
};

/* verdict.c: what boot.py said before the user's code started */
enum verdict {
	VERDICT_NONE = 0,	/* bootstrap said nothing: it died early */
	VERDICT_RAN,		/* the user code was started */
	VERDICT_SYNTAX,
	VERDICT_FORBIDDEN,
};

struct verdict_info {
	enum verdict	 kind;
	bool		 have_position;	/* syntax: line and offset are known */
	int		 line;
	int		 offset;
	const char	*text;		/* syntax: the message; forbidden: */
	size_t		 text_len;	/* "a,b,c"; points into the input */
};

enum verdict	 verdict_parse(const char *, size_t, struct verdict_info *);

struct run {
	pid_t		 pid;		/* jail init, as seen by the worker */
	int		 pidfd;		/* of init: kill and "all gone" without pid reuse */
	bool		 via_zygote;	/* cloned by the zygote (as our child) */
	int		 fd_stdin;
	int		 fd_stdout;
	int		 fd_stderr;
	int		 fd_verdict;
	int		 fd_ctl;
	int		 fd_data;	/* zygote mode: the files, to init */
	int		 fd_work;	/* workspace dirfd, from CTL_READY */
	int		 watch_fd;	/* not owned: its hang-up ends the run */
	size_t		 stdin_off;
	int		 time_limit;	/* seconds: wall deadline and CPU rlimit */
	struct buf	 out;
	struct buf	 err;
	struct buf	 verdict;
	enum termination term;
	struct verdict_info verdict_info;
	int		 exit_status;	/* Python's wait status */
	int		 exit_code;
	int		 signal;
	double		 wall_sec;
	double		 cpu_sec;	/* every process of the run */
	double		 script_cpu_sec; /* the script's tree, as init saw it */
	long		 maxrss_kb;
	bool		 oom_killed;	/* the memory cgroup killed a process */
	bool		 got_exit;
	char		 fail[256];	/* CTL_FAIL text: why the jail failed */
	/* The poll loop's state, so that several runs can share one loop. */
	double		 t0;
	double		 deadline;
	bool		 overflow;	/* stdout or stderr passed its cap */
	bool		 vover;		/* the verdict channel passed its cap */
	bool		 gone;		/* init's pidfd said it is gone */
	bool		 started;	/* sup_start succeeded */
	bool		 prebuilt;	/* in the worker's pre-built jail */
	uint32_t	 extra_files;	/* files past max_attachments (grading) */
	uint32_t	 netns_lane;	/* zygote mode: runs overlap (grading) */
	/*
	 * /evaluate, zygote mode with forked_cases: lane_srv, this run is a
	 * lane's case server (its fd_data the server's socket); lane_sock
	 * >= 0, this run is a case cloned by the server on that socket (not
	 * owned), not our child, in the lane's cgroups: its OOM kills and
	 * CPU time are the counters' growth from oom_base and cpu_base.
	 */
	bool		 lane_srv;
	int		 lane_sock;
	long long	 oom_base;
	double		 cpu_base;
	const char	*argv[8];
	struct cgroups	*cg;
	char		*jaildir_owned;	/* a pre-built jail's: removed by run_free */
};

void		 run_init(struct run *, const struct config *);
void		 run_set_limits(struct run *, const struct run_limits *);
enum pyx_err	 sup_run(struct run *, struct runner *,
		    const struct exec_req *, const char *, bool, int, int);
void		 run_free(struct run *);
/* The same in steps, for several runs in one poll loop (/evaluate). */
struct pollfd;
#define SUP_NFDS	7	/* pollfd entries per run */
enum pyx_err	 sup_start(struct run *, struct runner *,
		    const struct exec_req *, const char *, bool, int, int);
int		 sup_pollfds(struct run *, struct pollfd *);
void		 sup_step(struct run *, const struct exec_req *,
		    const struct pollfd *);
bool		 sup_done(const struct run *);
void		 sup_abort(struct run *);
enum pyx_err	 sup_finish(struct run *, struct runner *);
enum pyx_err	 sup_lane_up(struct run *, struct runner *,
		    const struct run_limits *, const char *, bool, int, int);
void		 sup_lane_down(struct run *);
/* for sessions (http/sessions.c): a jail's spec and its data stream */
struct jail_file *sup_jail_files(const struct exec_req *);
void		 sup_session_spec(struct jail_params *, const struct runner *,
		    const struct jail_file *, size_t, const char *,
		    const char **, int, int);
int		 sup_send_stream(int, const struct exec_req *, bool, double);
/* the pre-built jail (zygote mode; see supervise.c) */
struct spare	*sup_spare_new(void);
void		 sup_spare_build(struct runner *, const struct run_limits *,
		    int, int);
void		 sup_spare_drop(struct runner *);
int		 sup_spare_slot(const struct runner *);

/*
 * outputs.c: the parts of a reply that are not in its body: each is a
 * placeholder in the body (the nonce, the part's index, a dot) that
 * fcgi.c replaces, as it sends the reply, with the part written straight
 * from its source: a returned file, or a run's output. The output is
 * thus copied once between its pipe and the connection (issue 16).
 */
#define OUTF_TOKEN_MAX	64	/* "pyexec-part-" + 32 hex + "-" + index + "." */
enum part_kind {
	PART_FILE_B64,		/* fd's content, base64 */
	PART_TEXT,		/* mem as the text of a JSON string (json_text_put) */
	PART_BYTES_B64,		/* mem, base64 */
};

struct outfile {
	enum part_kind	 kind;
	int		 fd;		/* PART_FILE_B64, else -1 */
	const char	*mem;		/* the others: in outfiles.own */
	long long	 size;		/* the source's bytes */
	size_t		 enc_len;	/* what the placeholder becomes */
};

struct outfiles {
	struct outfile	*f;
	size_t		 n, cap;
	char		*own[2];	/* the run's stdout and stderr */
	char		 nonce[48];	/* "pyexec-part-<32 hex>-" */
};

void		 outfiles_add(struct outfiles *, const struct outfile *,
		    char [OUTF_TOKEN_MAX]);
void		 outfiles_own(struct outfiles *, char **);
size_t		 outfiles_enc_len(const struct outfiles *);
struct json_object *outputs_collect(int, char **, size_t, long long,
		    long long, size_t, struct outfiles *);
void		 outfiles_free(struct outfiles *);

/* fontlist.c */
int	 fontlist_build(const struct config *, char *, size_t);

/* workspace.c: a session's files, read by the worker beneath its /work */
int		 ws_read(int, const char *, long long, char **, size_t *,
		    const char **);
struct json_object *ws_list(int);

/* selftest.c: a probe in a real jail before a worker serves */
int	 selftest_run(struct runner *);
int	 selftest_recent(const struct config *, const char *);
void	 selftest_stamp(const struct config *, const char *);
#define SELFTEST_REUSE_SECONDS	300	/* a restarted worker trusts a probe this recent */

#endif /* PYX_RUN_H */
