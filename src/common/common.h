/*
 * common.h: what every process of pyexec links (src/common/): the
 * configuration, the error table, logging, allocation, buffers, base64,
 * time and fd helpers.
 *
 * Rules: no file here knows about HTTP, the jail or the store. Nothing
 * here may be called by the jail library (src/jail/) between clone and
 * exec: these functions allocate and use stdio.
 */
#ifndef PYX_COMMON_H
#define PYX_COMMON_H

#include <sys/types.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* config.c */
enum run_mode {
	MODE_EXEC = 0,
	MODE_ZYGOTE,
};

enum run_uids {
	UIDS_PER_SLOT = 0,	/* each slot its own host uid (pyexec-uidmap) */
	UIDS_SHARED,		/* every run the worker's uid: logged fallback */
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
	int		 max_queue_wait_ms;	/* 0: busy is 503 at once */
	int		 max_queue_waiters;
	int		 rate_limit_per_minute;
	int		 daily_quota;
	int		 rate_limit_ipv6_prefix;
	char		 admin_api_key_file[PATH_MAX];
	char		 compat_token_file[PATH_MAX];	/* X-Auth-Token of /compat/code-interpreter */
	char		 allowed_imports[4096];	/* comma-separated */
	/* appended to allowed_imports once the whole file is read */
	char		 allowed_imports_extra[4096];
	char		 runtime_dir[PATH_MAX];
	char		 state_dir[PATH_MAX];
	char		 zygote_path[PATH_MAX];
	int		 zygote_max_runs;
	int		 zygote_max_age_seconds;
	int		 prebuilt_jails;	/* 1: idle workers build the next */
	int		 forked_cases;		/* 1: /evaluate's cases forked in */
						/* a jail per lane (zygote mode) */
	enum run_mode	 mode;
	enum run_uids	 run_uids;
	char		 uidmap_socket[PATH_MAX];
	int		 max_cases;		/* /evaluate: cases per request */
	/* sessions (src/session/, http/sessions.c) */
	int		 max_sessions;
	int		 max_sessions_per_ip;
	int		 max_session_starts;	/* 0: one per online CPU */
	int		 session_idle_seconds;
	int		 session_max_seconds;
	int		 session_memory_mb;	/* 0: memory_limit_mb */
	int		 session_cpu_seconds;
};

/*
 * The limits one run is held to: the server's, or lower ones the request
 * asked for (request.c refuses anything above the server's).
 */
struct run_limits {
	int		 time_limit_seconds;
	int		 memory_limit_mb;
	long long	 max_output_bytes;
	int		 max_processes;
};

void	 cfg_defaults(struct config *);
void	 cfg_run_limits(const struct config *, struct run_limits *);
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
	PYX_E_SESSION_NOT_FOUND, /* 404: unknown, malformed, expired or released */
	PYX_E_SESSION_BUSY,	/* 409: another call on the session in progress */
	PYX_E_FILE_NOT_FOUND,	/* 404: no such file in a session's workspace */
	PYX_E_BAD_KEY,		/* 401: a key was given and it is not the admin's */
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

#define BUF_FIRST	(64 * 1024)	/* buf_read's first allocation */

void	 buf_init(struct buf *, size_t);
size_t	 buf_append(struct buf *, const void *, size_t);
ssize_t	 buf_read(struct buf *, int);
void	 buf_free(struct buf *);
int	 utf8_count(const char *, size_t, size_t *);
size_t	 utf8_complete_len(const char *, size_t);
size_t	 utf8_cut(const char *, size_t);
char	*utf8_sanitize(const char *, size_t, size_t *, bool *);
size_t	 json_text_len(const char *, size_t, bool *);
size_t	 json_text_put(const char *, size_t, size_t *, char *, size_t);

/* log.c */
void	 log_init(const char *, int);
void	 log_set_request(const char *);
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
struct iovec;
void	 iov_advance(struct iovec **, int *, size_t);
int	 read_file_limited(const char *, char **, size_t *, size_t);
double	 mono_now(void);
bool	 ct_equal(const void *, const void *, size_t);
int	 hex_digit(int);
bool	 pid_gone(pid_t);
int	 cgroup_kill_procs(const char *, pid_t);
bool	 cgroup_only(const char *, pid_t);

/*
 * An fd variable closed when it leaves scope, on every return path
 * (bubblewrap's cleanup_fd). Set it to -1 to hand the fd on.
 */
#define AUTOCLOSE	__attribute__((cleanup(close_quietly)))

#endif /* PYX_COMMON_H */
