/*
 * http.h: the worker process's front (src/http/): start-up (main.c), the
 * FastCGI loop (fcgi.c), routing and the /execute pipeline (execute.c),
 * the request parser (request.c) and the reply (response.c).
 *
 * Rules: the only part that sees HTTP and json-c requests; it never
 * touches a jail directly (run/ does), and it is the only part allowed to
 * exit the worker (main.c, at start-up).
 */
#ifndef PYX_HTTP_H
#define PYX_HTTP_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"
#include "run/run.h"
#include "store/store.h"

struct json_object;

/* request.c: JSON -> struct exec_req, strict */
enum pyx_err	 req_parse(const struct config *, const char *, size_t,
		    struct exec_req *, char *, size_t);
enum pyx_err	 req_parse_ex(const struct config *, const char *, size_t,
		    struct exec_req *, struct json_object **, char *, size_t);
void		 req_free(struct exec_req *);
int		 req_shape_check(const struct config *, const char *, size_t,
		    char *, size_t);

/* execute.c */
struct http_req {
	const char	*method;
	const char	*uri;
	const char	*content_type;
	const char	*remote_addr;
	long long	 content_length;	/* -1: not given */
	/* reads the body on demand: the server's side (fcgi.c), opaque here */
	long long	(*read_body)(void *, char *, size_t);
	void		*body_ctx;
	const char	*authorization;		/* the Authorization header */
	const char	*x_auth_token;		/* /compat/code-interpreter's */
	const char	*query;			/* QUERY_STRING, or NULL */
	/*
	 * Internal only (never from the client): the id a compat route's
	 * POST /sessions must give the session, derived from the client's
	 * own id by sess_compat_id().
	 */
	const char	*session_id;
	const char	*metrics_allowed;	/* nginx's geo verdict, "1" */
	char		 request_id[33];	/* nginx's $request_id, or "-" */
	int		 conn_fd;		/* nginx's connection: its close */
};						/* means the client went away */

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
	struct uids	 uids;		/* per-slot host ids (pyexec-uidmap) */
	struct runner	 runner;	/* points at the five above */
	/*
	 * The admin key and the compat token live in one allocation, so
	 * that every copy of this process (an exec-mode jail's init, a
	 * keeper) wipes both with one call: secrets_wipe().
	 */
	char		*secrets;
	size_t		 secrets_len;
	char		*admin_key;		/* in secrets, or NULL */
	size_t		 admin_key_len;
	char		*compat_token;		/* in secrets, or NULL */
	size_t		 compat_token_len;
	struct store	*store;		/* NULL: failed to open, retried per request */
	char		 store_path[PATH_MAX];
	uid_t		 uid;
	gid_t		 gid;
	unsigned long	 served;
	int		 spare_slot;	/* -1, or pre-build a jail for this slot */
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
	bool		 replied;	/* the route wrote the whole reply */
	const char	*ip;		/* REMOTE_ADDR as nginx's realip set it */
	char		 client[STORE_KEY_MAX];	/* what the limits count: ip, or its /64 */
	struct slots	 slot;
	struct quota_info quota;
	bool		 have_quota;
	time_t		 charged_at;	/* 0: this request was not charged */
	int		 active;	/* runs in flight when this one arrived */
	int		 retry_after;	/* seconds, for 429 and 503 */
	int		 charge;	/* requests to charge; 0: one */
	struct json_object *extra_body;	/* /evaluate: merged into the reply */
	struct json_object *sess_details;	/* sessions: into execution_details */
};

void	 execute_handle(struct worker *, struct http_req *, struct http_reply *);
void	 execute_idle(struct worker *);
enum pyx_err ctx_fail(struct exec_ctx *, enum pyx_err, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* evaluate.c: POST /evaluate, the grader */
enum pyx_err route_evaluate(struct exec_ctx *, struct http_reply *);
enum pyx_err verdict_error(struct exec_ctx *);
enum pyx_err read_json_body(struct exec_ctx *);
/* sessions.c: every /sessions route */
enum pyx_err sessions_route(struct exec_ctx *, struct http_reply *,
	    const char *);
int	 sess_live_count(const struct config *);
int	 sess_compat_id(const struct config *, const char *, const char *,
	    size_t, char *);

/* compat.c: /compat/..., the replaced services' routes over the above */
void	 compat_handle(struct worker *, struct http_req *, struct http_reply *,
	    const char *);
/* sess_sweep.c: a killed keeper's socket, mount point and cgroups */
void	 sess_sweep(struct worker *, bool);
void	 sess_sweep_slot(struct worker *, int);
bool	 sess_sweep_running(const char *);

/* admit.c: the caller's role, a slot, the rate limit and quota */
enum pyx_err admit_caller(const struct worker *, const struct http_req *,
	    const char *, size_t, bool *);
bool	 admin_key_match(const struct worker *, const char *, size_t);
struct store *admit_store(struct worker *);
enum pyx_err admit(struct exec_ctx *);
void	 admit_status(struct exec_ctx *);
void	 admit_refund(struct exec_ctx *);

/* stats.c: GET /metrics and GET /status */
enum pyx_err stats_handle(struct worker *, const struct http_req *, bool,
	    struct http_reply *);

/* fcgi.c */
int	 fcgi_serve(struct worker *);
void	 reply_flatten(struct http_reply *);

/* main.c */
void	 worker_sweep(struct worker *);
/* Told to stop (SIGTERM, SIGINT, multiwatch's SIGUSR1): libfcgi then
 * accepts nothing, and its errors no longer say why (fcgi.c). */
extern volatile sig_atomic_t worker_stopping;

/* response.c */
char	*resp_build(struct exec_ctx *, size_t *);
bool	 resp_has_details(const struct exec_ctx *);
void	 resp_timestamp(char *, size_t);
const char *resp_term_name(enum termination);

#endif /* PYX_HTTP_H */
