/*
 * pyexec.h: the one header of pyexec-fcgi.
 *
 * Reading order for one POST /execute, one file per stage:
 *   main.c      process start-up, self-test gate, the FastCGI accept loop
 *   fcgi.c      the only file that speaks libfcgi: params, body, reply
 *   execute.c   routing and the request pipeline; owns struct exec_ctx
 *   request.c   JSON -> struct exec_req (strict validation, names, base64)
 *   supervise.c the worker side of one run: clone, feed stdin, drain
 *               output, enforce the deadline, reap, classify
 *   sandbox.c   the jail side: namespaces, minimal root, workspace, the
 *               Python child; runs between clone and exec only
 *   policy.c    the seccomp allowlist, compiled once per worker
 *   outputs.c   return files, read through a dirfd that cannot escape
 *   response.c  struct exec_ctx -> JSON reply
 * Support: config.c, errors.c, b64.c, capture.c, log.c, util.c, boot.py
 * (the in-jail Python bootstrap, compiled into boot_py.h at build time).
 */
#ifndef PYEXEC_H
#define PYEXEC_H

#include <sys/types.h>
#include <sched.h>
#include <sys/resource.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

#define PYX_NAME_MAX	255	/* bytes in one attachment/return-file path */
#define PYX_DEPTH_MAX	16	/* path components in one such path */
#define PYX_SCRIPT_NAME	"script.py"
#define PYX_JAIL_UID	1000	/* the script's uid and gid inside the jail */

/*
 * Benchmark builds only (bench/isolation, compiled with -DPYX_BENCH) can
 * leave out one mechanism at a time to measure what it costs; in the
 * program itself BENCH_SKIP() is the constant 0 and the code is gone.
 */
#define SKIP_NETNS	0x01
#define SKIP_SECCOMP	0x02
#define SKIP_CGROUP	0x04
#define SKIP_ROOT	0x08
#ifdef PYX_BENCH
extern unsigned pyx_bench_skip;
#define BENCH_SKIP(bit)	(pyx_bench_skip & (bit))
#else
#define BENCH_SKIP(bit)	0
#endif

/* config.c */
enum run_mode {
	MODE_EXEC = 0,
	MODE_ZYGOTE,
};

struct config {
	int		 time_limit_seconds;
	int		 max_code_chars;
	int		 max_attachments;
	long long	 max_file_bytes;
	int		 max_return_files;
	long long	 max_return_bytes;
	int		 max_processes;
	int		 memory_limit_mb;
	long long	 max_output_bytes;
	long long	 max_stdin_bytes;
	int		 workspace_limit_mb;
	int		 max_concurrent;
	int		 rate_limit_per_minute;
	int		 daily_quota;
	int		 rate_limit_ipv6_prefix;
	char		 admin_api_key_file[PATH_MAX];
	char		 allowed_imports[4096];	/* comma-separated */
	char		 runtime_dir[PATH_MAX];
	char		 state_dir[PATH_MAX];
	char		 zygote_path[PATH_MAX];
	int		 zygote_max_runs;
	int		 zygote_max_age_seconds;
	enum run_mode	 mode;
};

void	 cfg_defaults(struct config *);
int	 cfg_parse(struct config *, FILE *, const char *, char *, size_t);
int	 cfg_load(struct config *, const char *, char *, size_t);
size_t	 cfg_max_body(const struct config *);

/* errors.c: the one mapping from error to HTTP status and public text */
enum pyx_err {
	PYX_OK = 0,
	PYX_E_INVALID_REQUEST,	/* 400: no "code" */
	PYX_E_VALIDATION,	/* 400: anything else malformed */
	PYX_E_SYNTAX,		/* 400: the code does not parse */
	PYX_E_FORBIDDEN_IMPORT,	/* 400: public caller imports outside the list */
	PYX_E_TIMEOUT,		/* 400: wall-clock limit reached */
	PYX_E_FORBIDDEN,	/* 403: /metrics, /status without the right */
	PYX_E_NOT_FOUND,	/* 404 */
	PYX_E_METHOD,		/* 405 */
	PYX_E_TOO_LARGE,	/* 413 */
	PYX_E_MEDIA_TYPE,	/* 415 */
	PYX_E_RATE_LIMIT,	/* 429 */
	PYX_E_INTERNAL,		/* 500: a fault of ours, nothing ran */
	PYX_E_SANDBOX,		/* 500: the jail could not be built, nothing ran */
	PYX_E_BUSY,		/* 503: max_concurrent runs in flight */
	PYX_E_UNAVAILABLE,	/* 503: the counter store failed */
	PYX_E_RESTARTING,	/* 503: the zygote died while starting the run */
	PYX_E__COUNT
};

struct pyx_errinfo {
	int		 status;
	const char	*reason;	/* HTTP reason phrase */
	const char	*type;		/* error_details.type */
	const char	*message;	/* default error_details.message */
};

const struct pyx_errinfo *pyx_errinfo(enum pyx_err);

/* b64.c: RFC 4648 base64, strict */
size_t	 b64_encoded_len(size_t);
void	 b64_encode(const uint8_t *, size_t, char *);
size_t	 b64_decoded_max(size_t);
int	 b64_decode(const char *, size_t, uint8_t *, size_t, size_t *);

/* capture.c: capped byte buffers and UTF-8 handling */
struct buf {
	char		*data;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	bool		 truncated;
};

void	 buf_init(struct buf *, size_t);
size_t	 buf_append(struct buf *, const void *, size_t);
void	 buf_free(struct buf *);
int	 utf8_count(const char *, size_t, size_t *);
size_t	 utf8_complete_len(const char *, size_t);
size_t	 utf8_cut(const char *, size_t);
char	*utf8_sanitize(const char *, size_t, size_t *, bool *);

/* request.c */
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
};

enum pyx_err	 req_parse(const struct config *, const char *, size_t,
		    struct exec_req *, char *, size_t);
void		 req_free(struct exec_req *);
int		 req_shape_check(const struct config *, const char *, size_t,
		    char *, size_t);
int		 name_check(const char *, size_t, const char **);

/* policy.c: seccomp, compiled once, loaded last in the jail */
struct policy {
	void		*prog;		/* struct sock_filter[] */
	unsigned short	 len;
};

int	 policy_prepare(struct policy *, char *, size_t);
int	 policy_apply(const struct policy *);
int	 policy_dump(int);
void	 policy_free(struct policy *);

/* sandbox.c: everything that runs inside the new namespaces */
enum ctl_type {
	CTL_READY = 1,		/* setup done; carries the workspace dirfd */
	CTL_FAIL,		/* setup failed; text says which step */
	CTL_EXIT,		/* the script's main process ended */
};

struct ctl_msg {
	uint32_t	 type;
	int32_t		 wstatus;
	int32_t		 err;
	struct rusage	 ru;
	char		 text[160];
};

/*
 * Everything the jail needs, prepared by the worker before clone so that
 * the child formats nothing and allocates nothing.
 */
#define SBX_NRLIM	8
#define SBX_FD_STDIN	0	/* indexes into sbx_spec.fds */
#define SBX_FD_STDOUT	1
#define SBX_FD_STDERR	2
#define SBX_FD_VERDICT	3
#define SBX_FD_CTL	4
#define SBX_FD_DATA	5	/* zygote mode: code and attachments stream */
#define SBX_NFDS	6

/*
 * The data stream (zygote mode): the worker writes the request's files to
 * the jail's init through a pipe, so they never pass through the zygote.
 * A struct sbx_stream_hdr, then per file a struct sbx_stream_file, the
 * name and the bytes. The first file is always PYX_SCRIPT_NAME.
 */
#define SBX_STREAM_MAGIC	0x44585950u	/* "PYXD" */
struct sbx_stream_hdr {
	uint32_t	 magic;
	uint32_t	 admin;		/* 1: admin caller (no import policy) */
	uint32_t	 nfiles;
	uint32_t	 pad;
};

struct sbx_stream_file {
	uint32_t	 namelen;
	uint32_t	 pad;
	uint64_t	 datalen;
};

struct sbx_spec {
	const struct policy *policy;
	const struct exec_req *req;
	const char	*jaildir;	/* empty mkdtemp dir: the jail's mount point */
	char		 uid_map[64];	/* "1000 <worker uid> 1" */
	char		 gid_map[64];
	char		 ws_opts[128];	/* tmpfs options of the workspace */
	const char *const *argv;	/* python3 -I -u -c BOOT ... */
	const char *const *envp;
	int		 rlim_res[SBX_NRLIM];
	struct rlimit	 rlim[SBX_NRLIM];
	int		 nrlim;
	struct rlimit	 nproc;		/* counts the jail's init too */
	int		 fds[SBX_NFDS];	/* child ends, worker-numbered */
	bool		 wait_go;	/* block until the worker attached cgroups */
	char		*wipe;		/* exec mode: the worker's admin key, which */
	size_t		 wipe_len;	/* init zeroes in its own (COW) copy */
	uint32_t	 max_files;	/* zygote mode: files the stream may hold */
	/* zygote mode: run Python in this process instead of execve */
	void		(*run_inproc)(const struct sbx_spec *, bool);
};

#define SBX_CLONE_FLAGS	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | \
	    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

__attribute__((noreturn)) void sbx_child(const struct sbx_spec *);

/* cgroup.c: per-run memory and pids limits where the host delegates them */
struct cgroups {
	int		 version;		/* 0: none, 1 or 2 */
	char		 mem[PATH_MAX];		/* v1; "" when not in use */
	char		 pids[PATH_MAX];
	long long	 oom_before;
	char		 base[PATH_MAX];	/* v2: the delegated directory */
	char		 run[PATH_MAX];		/* v2: this run's; "" between runs */
	unsigned long	 seq;
	char		 mem_max[24];
	char		 pids_max[24];
	bool		 check_next;		/* self-test: verify the next attach */
};

void	 cg_init(struct cgroups *, const struct config *, char *, size_t);
bool	 cg_enabled(const struct cgroups *);
int	 cg_attach(struct cgroups *, pid_t);
bool	 cg_oom_killed(const struct cgroups *, long *);
void	 cg_run_end(struct cgroups *);
void	 cg_sweep(struct cgroups *);
void	 cg_cleanup(struct cgroups *);
/* cgroup2.c: the unified hierarchy, under systemd's Delegate= */
int	 cg2_init(struct cgroups *, const struct config *, char *, size_t);
int	 cg2_attach(struct cgroups *, pid_t);
int	 cg2_check(const struct cgroups *, pid_t, char *, size_t);
bool	 cg2_oom_killed(const struct cgroups *, long *);
void	 cg2_end(struct cgroups *);
void	 cg2_sweep(const struct cgroups *);

/* zygote.c and zygote_client.c: the worker <-> zygote protocol */
#define ZYG_MAGIC	0x5a595850u	/* "PYXZ" */
struct zyg_spawn {			/* + SBX_NFDS fds as SCM_RIGHTS */
	uint32_t	 magic;
	int32_t		 nrlim;
	char		 jaildir[PATH_MAX];
	char		 uid_map[64];
	char		 gid_map[64];
	char		 ws_opts[128];
	char		 allowed[4096];
	int		 rlim_res[SBX_NRLIM];
	struct rlimit	 rlim[SBX_NRLIM];
	struct rlimit	 nproc;
	uint32_t	 wait_go;
	uint32_t	 max_files;
};

struct zyg_reply {			/* + a pidfd of the jail's init */
	int32_t		 pid;		/* -1: failed, see err */
	int32_t		 err;
};

struct zygote {
	pid_t		 pid;
	int		 ctl;
	unsigned long	 runs;
	double		 started;
};

struct worker;
int	 zyg_spawn(struct worker *, const struct sbx_spec *, pid_t *, int *);
void	 zyg_stop(struct zygote *);

/* supervise.c */
enum termination {
	TERM_NONE = 0,
	TERM_EXITED,
	TERM_SIGNALED,
	TERM_TIMEOUT,
	TERM_CPU,
	TERM_MEMORY,
	TERM_OUTPUT,
};

enum verdict {
	VERDICT_NONE = 0,	/* bootstrap said nothing: it died early */
	VERDICT_RAN,		/* the user code was started */
	VERDICT_SYNTAX,
	VERDICT_FORBIDDEN,
};

struct run {
	pid_t		 pid;		/* jail init, as seen by the worker */
	int		 pidfd;		/* of init: kill and "all gone" without pid reuse */
	bool		 via_zygote;	/* cloned by the zygote (as our child) */
	int		 fd_stdin;
	int		 fd_stdout;
	int		 fd_stderr;
	int		 fd_verdict;
	int		 fd_ctl;
	int		 fd_work;	/* workspace dirfd, from CTL_READY */
	size_t		 stdin_off;
	int		 time_limit;	/* seconds: wall deadline and CPU rlimit */
	struct buf	 out;
	struct buf	 err;
	struct buf	 verdict;
	enum termination term;
	enum verdict	 verdict_kind;
	int		 exit_status;	/* Python's wait status */
	int		 exit_code;
	int		 signal;
	double		 wall_sec;
	double		 cpu_sec;
	long		 maxrss_kb;
	bool		 oom_killed;	/* the memory cgroup killed a process */
	bool		 got_exit;
	char		 fail[256];	/* CTL_FAIL text: why the jail failed */
};

void		 run_init(struct run *, const struct config *);
struct worker;
enum pyx_err	 sup_run(struct run *, struct worker *,
		    const struct exec_req *, const char *, bool);
void		 run_free(struct run *);

/* outputs.c */
#define OUTF_TOKEN_MAX	64	/* "pyexec-file-" + 32 hex + "-" + index + "." */
struct outfile {
	int		 fd;
	long long	 size;
};

struct outfiles {
	struct outfile	*f;
	size_t		 n;
	char		 nonce[48];	/* "pyexec-file-<32 hex>-" */
};

struct json_object *outputs_collect(int, char **, size_t, long long,
		    long long, struct outfiles *);
void		 outfiles_free(struct outfiles *);

/* store.c: per-client rate and daily quota, shared by all workers */
enum store_result {
	STORE_OK = 0,		/* charged: the request may run */
	STORE_RATE_LIMITED,	/* per-minute window full; nothing charged */
	STORE_QUOTA_EXCEEDED,	/* UTC day's quota used; nothing charged */
	STORE_FAILED,		/* the store failed: fail closed (503) */
};

struct quota_info {
	long long	 requests_today;	/* charged this UTC day */
	long long	 remaining_today;
	long long	 daily_limit;
	long long	 requests_last_minute;	/* charged in the last 60 s */
	long long	 minute_limit;
	int		 retry_after_seconds;	/* > 0 only when refused */
};

struct store;
struct store	*store_open(const char *, char *, size_t);
enum store_result store_charge(struct store *, const char *, time_t, int, int,
		    struct quota_info *);
int		 store_peek(struct store *, const char *, time_t, int, int,
		    struct quota_info *);
const char	*store_errmsg(const struct store *);
#define STORE_KEY_MAX	128	/* bytes of a client key (store_client_key) */
void		 store_client_key(const char *, int, char *, size_t);
void		 store_close(struct store *);

/* slots.c: the max_concurrent cap, one locked file per run in flight */
enum slots_result {
	SLOTS_OK = 0,
	SLOTS_BUSY,		/* every slot is held: 503 ServerBusy */
	SLOTS_FAILED,		/* runtime_dir trouble: fail closed */
};

struct slots {
	int		 fd;		/* the locked slot file; -1: none */
	int		 index;		/* N of slot.N; -1: none held */
	int		 active;	/* held at acquire, ours included */
	bool		 cached;	/* fd is the worker's cached description */
};

void		 slots_init(struct slots *);
enum slots_result slots_acquire(struct slots *, const char *, int, char *,
		    size_t);
void		 slots_release(struct slots *);
int		 slots_count(const char *, int, char *, size_t);

/* execute.c */
struct http_req {
	const char	*method;
	const char	*uri;
	const char	*content_type;
	const char	*remote_addr;
	long long	 content_length;	/* -1: not given */
	void		*fcgi;		/* opaque, for fcgi_read_body */
	const char	*authorization;		/* the Authorization header */
	const char	*metrics_allowed;	/* nginx's geo verdict, "1" */
	char		 request_id[33];	/* nginx's $request_id, or "-" */
};

struct http_reply {
	int		 status;
	const char	*reason;
	char		*body;		/* owned */
	size_t		 body_len;
	const char	*content_type;	/* NULL: application/json */
	char		 extra_headers[256];
	struct outfiles	 files;		/* owned: encoded into body's placeholders */
	bool		 trim;		/* give freed heap pages back afterwards */
};

struct worker {
	struct config	 cfg;
	struct policy	 policy;
	struct cgroups	 cg;
	struct zygote	 zyg;
	char		*admin_key;
	size_t		 admin_key_len;
	struct store	*store;		/* NULL: failed to open, retried per request */
	char		 store_path[PATH_MAX];
	uid_t		 uid;
	gid_t		 gid;
	unsigned long	 served;
};

/* Everything one request owns; ctx_free() in execute.c releases it all. */
struct exec_ctx {
	struct worker	*w;
	struct http_req	*http;
	char		*body;
	size_t		 body_len;
	struct exec_req	 req;
	bool		 admin;
	bool		 ran;		/* the jail was entered */
	struct run	 run;
	char		 jaildir[PATH_MAX];
	bool		 jaildir_made;
	struct json_object *outputs;
	struct outfiles	 outfiles;	/* handed to the reply when it is built */
	enum pyx_err	 err;
	char		 errmsg[512];
	struct json_object *err_extra;	/* merged into error_details */
	double		 t0;
	bool		 is_execute;	/* /execute: user_info and server_status */
	const char	*ip;		/* REMOTE_ADDR as nginx's realip set it */
	char		 client[STORE_KEY_MAX];	/* what the limits count: ip, or its /64 */
	struct slots	 slot;
	struct quota_info quota;
	bool		 have_quota;
	int		 active;	/* runs in flight when this one arrived */
	int		 retry_after;	/* seconds, for 429 and 503 */
};

void	 execute_handle(struct worker *, struct http_req *, struct http_reply *);
bool	 admin_key_match(const struct worker *, const char *, size_t);

/* stats.c: GET /metrics and GET /status */
enum pyx_err stats_handle(struct worker *, const struct http_req *, bool,
	    struct http_reply *);

/* fcgi.c */
long long fcgi_read_body(void *, char *, size_t);
int	 fcgi_serve(struct worker *);

/* main.c */
void	 worker_sweep(struct worker *);

/* selftest.c */
int	 selftest_run(struct worker *);

/* response.c */
struct exec_ctx;
char	*resp_build(struct exec_ctx *, size_t *);
void	 resp_timestamp(char *, size_t);
const char *resp_term_name(enum termination);

/* log.c */
void	 log_init(const char *, int);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* util.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrndup(const char *, size_t);
void	 close_quietly(int *);
int	 read_file_limited(const char *, char **, size_t *, size_t);
double	 mono_now(void);
bool	 ct_equal(const void *, const void *, size_t);
bool	 pid_gone(pid_t);
#define FDPASS_MAX	8
int	 fd_send(int, const void *, size_t, const int *, int);
ssize_t	 fd_recv(int, void *, size_t, int *, int, int *, int);

#endif /* PYEXEC_H */
