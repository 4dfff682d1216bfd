/*
 * execute.c: routing and the /execute pipeline. Owns struct exec_ctx: every
 * allocation, fd and process of one request hangs off it, and ctx_free()
 * releases all of it on every path (success, error, timeout, a crash of
 * the script).
 *
 * Routing is one table (routes[]): a path, the methods that run its
 * handler, the Allow header otherwise. Order of one POST /execute: content type and length (before reading a
 * byte), body, strict parse (request.c), caller role, a concurrency slot
 * (slots.c), for public callers the rate limit and daily quota (store.c:
 * only valid requests that will run are charged), workspace mount point,
 * the run (run/supervise.c + the jail library, src/jail/), the bootstrap's verdict (syntax,
 * imports), return files (outputs.c), reply (response.c).
 * Request code never exits the worker: errors become an enum pyx_err.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "http/http.h"
#include "store/metrics.h"

static void
ctx_free(struct exec_ctx *c)
{
	run_free(&c->run);
	slots_release(&c->slot);
	/*
	 * The workspace and the jail's root lived in the jail's own mount
	 * namespace and died with it; on the host the mount point is an
	 * empty directory that only this worker can write.
	 */
	if (c->jaildir_made && rmdir(c->jaildir) == -1)
		log_warn("rmdir %s", c->jaildir);
	req_free(&c->req);
	free(c->body);
	json_object_put(c->outputs);
	outfiles_free(&c->outfiles);
	json_object_put(c->err_extra);
	json_object_put(c->extra_body);
	json_object_put(c->sess_details);
	memset(c, 0, sizeof(*c));
}

/*
 * Records the public message of an error where it happens; the reply
 * (response.c) reports it once. Returns e, for "return ctx_fail(...)".
 */
enum pyx_err
ctx_fail(struct exec_ctx *c, enum pyx_err e, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	/* A message cut short must not end in half a character. */
	c->errmsg[utf8_complete_len(c->errmsg, strlen(c->errmsg))] = '\0';
	return e;
}

static bool
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

#define PFX	"Import of disallowed module(s): "

/* The bootstrap refused the code (run/verdict.c parsed why). */
enum pyx_err
verdict_error(struct exec_ctx *c)
{
	struct verdict_info	 vi;
	struct json_object	*arr;
	const char		*p, *end, *comma;
	char			*clean, *full;
	size_t			 len, o;
	int			 msglen;
	bool			 lossy;

	/*
	 * The bootstrap writes UTF-8, but the line comes from the jail:
	 * make sure of it, then cut quoted text only between characters.
	 */
	clean = utf8_sanitize(c->run.verdict.data, c->run.verdict.len, &len,
	    &lossy);
	buf_free(&c->run.verdict);
	c->run.verdict.data = clean;
	c->run.verdict.len = len;
	(void)verdict_parse(clean, len, &vi);
	msglen = (int)(vi.text_len > 300 ? utf8_complete_len(vi.text, 300) :
	    vi.text_len);
	c->err_extra = json_object_new_object();
	if (vi.kind == VERDICT_SYNTAX) {
		if (!vi.have_position)
			return ctx_fail(c, PYX_E_SYNTAX, "Syntax error in code.");
		json_object_object_add(c->err_extra, "line",
		    json_object_new_int(vi.line));
		json_object_object_add(c->err_extra, "offset",
		    json_object_new_int(vi.offset));
		return ctx_fail(c, PYX_E_SYNTAX, "Syntax error in code: %.*s "
		    "(line %d).", msglen, vi.text, vi.line);
	}
	/*
	 * The message names every module, as "disallowed" does, however
	 * many: it is built to size (the verdict is bounded) and replaces
	 * the fixed-size errmsg in the reply (response.c merges err_extra
	 * last). "a, b, c" is at most the list plus a space per comma.
	 */
	arr = json_object_new_array();
	full = xmalloc(sizeof(PFX) + 2 * vi.text_len + 2);
	memcpy(full, PFX, sizeof(PFX) - 1);
	o = sizeof(PFX) - 1;
	end = vi.text + vi.text_len;
	for (p = vi.text; p < end; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (comma == p)
			continue;
		json_object_array_add(arr, json_object_new_string_len(p,
		    (int)(comma - p)));
		if (o > sizeof(PFX) - 1) {
			full[o++] = ',';
			full[o++] = ' ';
		}
		memcpy(full + o, p, (size_t)(comma - p));
		o += (size_t)(comma - p);
	}
	full[o++] = '.';
	full[o] = '\0';
	json_object_object_add(c->err_extra, "disallowed", arr);
	json_object_object_add(c->err_extra, "message",
	    json_object_new_string_len(full, (int)o));
	free(full);
	/* The short form, for anything reading errmsg (the log). */
	return ctx_fail(c, PYX_E_FORBIDDEN_IMPORT, "Import of disallowed "
	    "module(s): %.*s.", msglen, vi.text);
}

/* Content type and length, then the body into c->body (NUL-terminated). */
enum pyx_err
read_json_body(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct http_req		*h = c->http;
	size_t			 max = cfg_max_body(cfg);
	long long		 got;

	if (!is_json_type(h->content_type))
		return PYX_E_MEDIA_TYPE;
	if (h->content_length < 0)
		return ctx_fail(c, PYX_E_VALIDATION, "Content-Length is required.");
	if ((size_t)h->content_length > max)
		return ctx_fail(c, PYX_E_TOO_LARGE, "The request body is larger "
		    "than %zu bytes.", max);
	c->body_len = (size_t)h->content_length;
	c->body = xmalloc(c->body_len + 1);
	got = h->read_body(h->body_ctx, c->body, c->body_len);
	if (got != h->content_length)
		return ctx_fail(c, PYX_E_VALIDATION, "The request body ended "
		    "early.");
	c->body[c->body_len] = '\0';
	return PYX_OK;
}

static enum pyx_err
do_execute(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct http_req		*h = c->http;
	enum pyx_err		 e;

	if ((e = read_json_body(c)) != PYX_OK)
		return e;
	e = req_parse(cfg, c->body, c->body_len, &c->req, c->errmsg,
	    sizeof(c->errmsg));
	/* The body may carry the admin key: leave no copy of it behind. */
	explicit_bzero(c->body, c->body_len);
	free(c->body);
	c->body = NULL;
	if (e != PYX_OK)
		return e;
	run_set_limits(&c->run, &c->req.limits);
	e = admit_caller(c->w, h, c->req.api_key, c->req.api_key_len,
	    &c->admin);
	/*
	 * The role is decided: no copy of a key need live on through the
	 * run (an exec-mode jail's init starts as a copy of this process).
	 * The header's string is libfcgi's heap copy of the parameter.
	 */
	if (c->req.api_key != NULL)
		explicit_bzero(c->req.api_key, c->req.api_key_len);
	if (h->authorization != NULL)
		explicit_bzero((char *)(uintptr_t)h->authorization,
		    strlen(h->authorization));
	if (e != PYX_OK)
		return e;
	/* The slot whose ids the pre-built jail has, if it is free. */
	slots_prefer(sup_spare_slot(&c->w->runner));
	if ((e = admit(c)) != PYX_OK)
		return e;
	c->w->spare_slot = c->slot.index;	/* the next jail's, pre-built */

	if (snprintf(c->jaildir, sizeof(c->jaildir), "%s/jail.%ld.XXXXXX",
	    cfg->runtime_dir, (long)getpid()) >= (int)sizeof(c->jaildir) ||
	    mkdtemp(c->jaildir) == NULL) {
		log_warn("mkdtemp in %s", cfg->runtime_dir);
		admit_refund(c);	/* the code did not start */
		return PYX_E_INTERNAL;
	}
	c->jaildir_made = true;

	c->ran = true;
	c->run.watch_fd = h->conn_fd;
	if ((e = sup_run(&c->run, &c->w->runner, &c->req, c->jaildir, c->admin,
	    c->slot.index, c->slot.fd)) != PYX_OK) {
		if (e == PYX_E_RESTARTING)
			c->retry_after = 1;
		if (e == PYX_E_RESTARTING || e == PYX_E_SANDBOX)
			admit_refund(c);	/* the code did not start */
		return e;
	}
	if (c->run.verdict_info.kind == VERDICT_SYNTAX ||
	    c->run.verdict_info.kind == VERDICT_FORBIDDEN) {
		c->ran = false;		/* the user's code never started */
		return verdict_error(c);
	}
	c->outputs = outputs_collect(c->run.fd_work, c->req.ret, c->req.nret,
	    cfg->max_file_bytes, cfg->max_return_bytes <
	    (long long)cfg->workspace_limit_mb << 20 ? cfg->max_return_bytes :
	    (long long)cfg->workspace_limit_mb << 20,
	    (size_t)cfg->max_return_files, &c->outfiles);
	if (c->run.term == TERM_TIMEOUT)
		return ctx_fail(c, PYX_E_TIMEOUT, "Execution timed out (%d seconds "
		    "limit).", c->req.limits.time_limit_seconds);
	return PYX_OK;
}

/*
 * Between requests (fcgi.c): after an /execute, the next run's jail is
 * built while the worker waits (zygote mode; supervise.c, struct spare),
 * for the slot that run had. Only once no run has been in flight anywhere
 * for SPARE_QUIET_MS: built beside a running request, it would take CPU
 * from it (on machines where page faults are dear, faults taken on two
 * CPUs at once cost about twice as much: measured in bench/runcost.py),
 * so under steady load none is built and runs start as before. A request
 * arriving first is served at once, and the jail is built after it.
 */
#define SPARE_QUIET_MS	30
#define SPARE_POLL_MS	10
#define SPARE_POLL_MAX_MS	80
#define LISTEN_FD	0	/* FCGI_LISTENSOCK_FILENO: spawn-fcgi's socket */

void
execute_idle(struct worker *w)
{
	struct run_limits	 lim;
	struct pollfd		 p;
	char			 err[256];
	int			 quiet, busy, wait;

	if (w->spare_slot < 0 || w->cfg.mode != MODE_ZYGOTE ||
	    !w->cfg.prebuilt_jails || worker_stopping)
		return;
	for (quiet = 0, wait = SPARE_POLL_MS; quiet < SPARE_QUIET_MS; ) {
		if ((busy = slots_count(w->cfg.runtime_dir,
		    w->cfg.max_concurrent, err, sizeof(err))) == -1) {
			log_warnx("concurrency slots: %s", err);
			return;
		}
		/*
		 * Runs in flight: look again less and less often (under
		 * steady load an idle worker would otherwise wake 100 times
		 * a second for nothing); a request still wakes it at once.
		 */
		if (busy == 0)
			wait = SPARE_POLL_MS;
		else if ((wait *= 2) > SPARE_POLL_MAX_MS)
			wait = SPARE_POLL_MAX_MS;
		p.fd = LISTEN_FD;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, wait) != 0)
			return;		/* a request waits (or no socket) */
		quiet = busy == 0 ? quiet + wait : 0;
	}
	if (worker_stopping)
		return;		/* told while it waited */
	cfg_run_limits(&w->cfg, &lim);
	sup_spare_build(&w->runner, &lim, lim.time_limit_seconds,
	    w->spare_slot);
	w->spare_slot = -1;
}

static const char health_body[] = "{\"status\":\"ok\"}\n";

/* GET/HEAD /healthz: answers without running anything. */
static enum pyx_err
route_health(struct exec_ctx *c, struct http_reply *rep)
{
	rep->status = 200;
	rep->reason = "OK";
	rep->body = xstrndup(health_body, sizeof(health_body) - 1);
	rep->body_len = sizeof(health_body) - 1;
	c->replied = true;
	return PYX_OK;
}

/* POST /execute: the pipeline, then the caller's figures for the reply. */
static enum pyx_err
route_execute(struct exec_ctx *c, struct http_reply *rep)
{
	(void)rep;
	c->err = do_execute(c);
	admit_status(c);
	return c->err;
}

/* GET/HEAD /metrics and /status: the pool's counters (stats.c). */
static enum pyx_err
route_stats(struct exec_ctx *c, struct http_reply *rep)
{
	enum pyx_err	 e;

	e = stats_handle(c->w, c->http, strcmp(c->http->uri, "/metrics") == 0 ||
	    strncmp(c->http->uri, "/metrics?", 9) == 0, rep);
	if (e == PYX_OK)
		c->replied = true;
	return e;
}

/* Every route of the API; anything else is 404. */
static const struct route {
	const char	*path;
	const char	*methods[2];	/* that run the handler */
	const char	*allow;		/* the Allow header of a 405 */
	bool		 execute;	/* answers carry user_info, server_status */
	enum pyx_err	(*handler)(struct exec_ctx *, struct http_reply *);
} routes[] = {
	{ "/healthz", { "GET", "HEAD" }, "Allow: GET, HEAD\r\n", false,
	    route_health },
	{ "/execute", { "POST", NULL }, "Allow: POST\r\n", true,
	    route_execute },
	{ "/metrics", { "GET", "HEAD" }, "Allow: GET, HEAD\r\n", false,
	    route_stats },
	{ "/status", { "GET", "HEAD" }, "Allow: GET, HEAD\r\n", false,
	    route_stats },
	{ "/evaluate", { "POST", NULL }, "Allow: POST\r\n", true,
	    route_evaluate },
};

static const struct route *
route_find(const char *path)
{
	size_t	 i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

static bool
route_allows(const struct route *rt, const char *method)
{
	size_t	 i;

	for (i = 0; i < sizeof(rt->methods) / sizeof(rt->methods[0]); i++)
		if (rt->methods[i] != NULL && strcmp(method, rt->methods[i]) == 0)
			return true;
	return false;
}

void
execute_handle(struct worker *w, struct http_req *h, struct http_reply *rep)
{
	struct exec_ctx			 c;
	const struct pyx_errinfo	*ei;
	const struct route		*rt;
	enum met_route			 mr;
	char				 path[1024];

	memset(&c, 0, sizeof(c));
	memset(rep, 0, sizeof(*rep));
	log_set_request(h->request_id);
	c.w = w;
	c.http = h;
	c.t0 = mono_now();
	c.ip = h->remote_addr != NULL && h->remote_addr[0] != '\0' ?
	    h->remote_addr : "unknown";
	store_client_key(c.ip, w->cfg.rate_limit_ipv6_prefix, c.client,
	    sizeof(c.client));
	run_init(&c.run, &w->cfg);
	slots_init(&c.slot);

	/* A path too long to hold is no route, never a shorter one. */
	if (strlcpy(path, h->uri ? h->uri : "", sizeof(path)) >= sizeof(path))
		path[0] = '\0';
	path[strcspn(path, "?")] = '\0';
	if (strncmp(path, "/compat/", 8) == 0) {
		/* Its native requests come back here, one by one. */
		ctx_free(&c);
		compat_handle(w, h, rep, path);
		log_set_request(NULL);
		return;
	}
	mr = met_route_of(path);
	if (strcmp(path, "/sessions") == 0 ||
	    strncmp(path, "/sessions/", 10) == 0)
		c.err = sessions_route(&c, rep, path);
	else if ((rt = route_find(path)) == NULL)
		c.err = PYX_E_NOT_FOUND;
	else {
		c.is_execute = rt->execute;
		if (route_allows(rt, h->method))
			c.err = rt->handler(&c, rep);
		else {
			strlcpy(rep->extra_headers, rt->allow,
			    sizeof(rep->extra_headers));
			c.err = PYX_E_METHOD;
		}
	}
	if (c.replied) {
		met_request(mr, PYX_OK);
		ctx_free(&c);
		log_set_request(NULL);
		return;
	}

	if (c.ran)
		met_run(c.run.term, c.run.oom_killed, c.run.wall_sec);
	if (c.err == PYX_E_SANDBOX)
		met_sandbox_failure();
	met_request(mr, c.err);
	ei = pyx_errinfo(c.err);
	if (c.retry_after > 0)
		snprintf(rep->extra_headers, sizeof(rep->extra_headers),
		    "Retry-After: %d\r\n", c.retry_after);
	if (c.err == PYX_E_BAD_KEY)
		strlcpy(rep->extra_headers, "WWW-Authenticate: Bearer "
		    "realm=\"pyexec\"\r\n", sizeof(rep->extra_headers));
	rep->status = ei->status;
	rep->reason = ei->reason;
	rep->body = resp_build(&c, &rep->body_len);
	/*
	 * A request that carried a key leaves copies of it in freed buffers
	 * (libfcgi's, json-c's); returning free pages to the kernel zeroes
	 * most of them before an exec-mode jail's init copies this process.
	 */
	rep->trim = c.req.api_key != NULL || h->authorization != NULL;
	/* The reply's placeholders need their parts: the reply owns them. */
	if (resp_has_details(&c)) {
		rep->files = c.outfiles;
		memset(&c.outfiles, 0, sizeof(c.outfiles));
	}
	w->served++;
	/*
	 * The request's own line, in words: term is the reply's termination
	 * ("none": nothing ran), and the id ends it (it names the request
	 * already, so the line carries no prefix).
	 */
	log_set_request(NULL);
	log_info("%s %s %.64s %d %s role=%s term=%s oom=%s wall=%.3fs "
	    "total=%.3fs rid=%s", h->remote_addr ? h->remote_addr : "-",
	    h->method, path, ei->status, ei->type ? ei->type : "-",
	    c.admin ? "admin" : "public", resp_term_name(c.ran ? c.run.term :
	    TERM_NONE), c.run.oom_killed ? "yes" : "no", c.run.wall_sec,
	    mono_now() - c.t0, h->request_id);
	log_set_request(h->request_id);
	ctx_free(&c);
	log_set_request(NULL);
	if (w->served % 8 == 0)
		worker_sweep(w);
}
