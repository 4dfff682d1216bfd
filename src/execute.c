/*
 * execute.c: routing and the /execute pipeline. Owns struct exec_ctx: every
 * allocation, fd and process of one request hangs off it, and ctx_free()
 * releases all of it on every path (success, error, timeout, a crash of
 * the script).
 *
 * Order of one POST /execute: content type and length (before reading a
 * byte), body, strict parse (request.c), caller role, a concurrency slot
 * (slots.c), for public callers the rate limit and daily quota (store.c:
 * only valid requests that will run are charged), workspace mount point,
 * the run (supervise.c + sandbox.c), the bootstrap's verdict (syntax,
 * imports), return files (outputs.c), reply (response.c).
 * Request code never exits the worker: errors become an enum pyx_err.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pyexec.h"
#include "metrics.h"

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
	memset(c, 0, sizeof(*c));
}

static enum pyx_err
fail(struct exec_ctx *c, enum pyx_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum pyx_err
fail(struct exec_ctx *c, enum pyx_err e, const char *fmt, ...)
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

/*
 * Constant time in the contents and in both lengths: both keys are copied
 * into fixed, zero-padded buffers with their lengths, and every byte is
 * compared (ct_equal).
 */
bool
admin_key_match(const struct worker *w, const char *key, size_t len)
{
	unsigned char	 a[1024 + sizeof(size_t)], b[1024 + sizeof(size_t)];
	bool		 ok;

	if (w->admin_key == NULL || key == NULL ||
	    w->admin_key_len > 1024 || len > 1024)
		return false;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memcpy(a, w->admin_key, w->admin_key_len);
	memcpy(a + 1024, &w->admin_key_len, sizeof(size_t));
	memcpy(b, key, len);
	memcpy(b + 1024, &len, sizeof(size_t));
	ok = ct_equal(a, b, sizeof(a));
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return ok;
}

static bool
admin_key_ok(const struct worker *w, const struct exec_req *r)
{
	return admin_key_match(w, r->api_key, r->api_key_len);
}

/* "syntax\tLINE\tOFFSET\tMESSAGE" or "forbidden\ta,b,c" from boot.py. */
static enum pyx_err
verdict_error(struct exec_ctx *c)
{
	char			*v, *line, *off, *msg, *p, *clean;
	struct json_object	*arr;
	size_t			 len;
	bool			 lossy;

	/*
	 * The bootstrap writes UTF-8, but the line comes from the jail:
	 * make sure of it, then cut quoted text only between characters.
	 */
	clean = utf8_sanitize(c->run.verdict.data, c->run.verdict.len, &len,
	    &lossy);
	buf_free(&c->run.verdict);
	c->run.verdict.data = v = clean;
	c->run.verdict.len = len;
	v[strcspn(v, "\n")] = '\0';
	c->err_extra = json_object_new_object();
	if (c->run.verdict_kind == VERDICT_SYNTAX) {
		line = v + strlen("syntax\t");
		off = strchr(line, '\t');
		msg = off ? strchr(off + 1, '\t') : NULL;
		if (off == NULL || msg == NULL)
			return fail(c, PYX_E_SYNTAX, "Syntax error in code.");
		*off++ = '\0';
		*msg++ = '\0';
		json_object_object_add(c->err_extra, "line",
		    json_object_new_int(atoi(line)));
		json_object_object_add(c->err_extra, "offset",
		    json_object_new_int(atoi(off)));
		return fail(c, PYX_E_SYNTAX, "Syntax error in code: %.*s "
		    "(line %d).", (int)utf8_cut(msg, 300), msg, atoi(line));
	}
	/* The message first: strtok cuts the list apart. */
	p = v + strlen("forbidden\t");
	(void)fail(c, PYX_E_FORBIDDEN_IMPORT, "Import of disallowed "
	    "module(s): %.*s.", (int)utf8_cut(p, 300), p);
	arr = json_object_new_array();
	for (p = strtok(p, ","); p != NULL; p = strtok(NULL, ","))
		json_object_array_add(arr, json_object_new_string(p));
	json_object_object_add(c->err_extra, "disallowed", arr);
	return PYX_E_FORBIDDEN_IMPORT;
}

static struct store *
get_store(struct worker *w)
{
	char	 err[256];

	if (w->store == NULL &&
	    (w->store = store_open(w->store_path, err, sizeof(err))) == NULL) {
		met_store_error();
		log_warnx("rate-limit store %s: %s", w->store_path, err);
	}
	return w->store;
}

/*
 * Takes a concurrency slot, then (public callers only) charges the rate
 * limit and the daily quota. Slot first: a request refused as busy never
 * runs and so is not charged; a request refused by the limits gives its
 * slot back at once (ctx_free). Store trouble fails closed: 503, never an
 * unmetered run.
 */
static enum pyx_err
admit(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct store		*st;
	char			 err[256];

	switch (slots_acquire(&c->slot, cfg->runtime_dir, cfg->max_concurrent,
	    err, sizeof(err))) {
	case SLOTS_OK:
		c->active = c->slot.active;
		break;
	case SLOTS_BUSY:
		met_busy();
		c->active = cfg->max_concurrent;
		c->retry_after = 1;
		return PYX_E_BUSY;
	default:
		log_warnx("concurrency slots: %s", err);
		return PYX_E_INTERNAL;
	}
	if (c->admin)
		return PYX_OK;
	/* Store trouble is usually brief (a lock, a full disk): say when. */
	if ((st = get_store(c->w)) == NULL) {
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
	switch (store_charge(st, c->client, time(NULL), cfg->rate_limit_per_minute,
	    cfg->daily_quota, &c->quota)) {
	case STORE_OK:
		c->have_quota = true;
		return PYX_OK;
	case STORE_RATE_LIMITED:
		met_ratelimited(MET_RL_MINUTE);
		c->have_quota = true;
		c->retry_after = c->quota.retry_after_seconds;
		return fail(c, PYX_E_RATE_LIMIT, "Rate limit of %d per minute "
		    "exceeded; retry in %d seconds.", cfg->rate_limit_per_minute,
		    c->retry_after);
	case STORE_QUOTA_EXCEEDED:
		met_ratelimited(MET_RL_DAILY);
		c->have_quota = true;
		c->retry_after = c->quota.retry_after_seconds;
		return fail(c, PYX_E_RATE_LIMIT, "Daily quota of %d exceeded; "
		    "it resets at 00:00 UTC.", cfg->daily_quota);
	default:
		met_store_error();
		log_warnx("rate-limit store %s: %s", c->w->store_path,
		    store_errmsg(st));
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
}

/*
 * For answers that charged nothing (validation errors, busy): the caller's
 * figures as they stand, and how many runs are in flight.
 */
static void
fill_status(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct store		*st;
	char			 err[256];
	int			 n;

	if (!c->have_quota && !c->admin && (st = get_store(c->w)) != NULL &&
	    store_peek(st, c->client, time(NULL), cfg->rate_limit_per_minute,
	    cfg->daily_quota, &c->quota) == 0)
		c->have_quota = true;
	if (c->slot.fd == -1 && c->err != PYX_E_BUSY) {
		if ((n = slots_count(cfg->runtime_dir, cfg->max_concurrent, err,
		    sizeof(err))) >= 0)
			c->active = n;
	}
}

static enum pyx_err
do_execute(struct exec_ctx *c)
{
	const struct config	*cfg = &c->w->cfg;
	struct http_req		*h = c->http;
	size_t			 max = cfg_max_body(cfg);
	long long		 got;
	enum pyx_err		 e;

	if (!is_json_type(h->content_type))
		return PYX_E_MEDIA_TYPE;
	if (h->content_length < 0)
		return fail(c, PYX_E_VALIDATION, "Content-Length is required.");
	if ((size_t)h->content_length > max)
		return fail(c, PYX_E_TOO_LARGE, "The request body is larger "
		    "than %zu bytes.", max);
	c->body_len = (size_t)h->content_length;
	c->body = xmalloc(c->body_len + 1);
	got = fcgi_read_body(h->fcgi, c->body, c->body_len);
	if (got != h->content_length)
		return fail(c, PYX_E_VALIDATION, "The request body ended "
		    "early.");
	c->body[c->body_len] = '\0';

	e = req_parse(cfg, c->body, c->body_len, &c->req, c->errmsg,
	    sizeof(c->errmsg));
	/* The body may carry the admin key: leave no copy of it behind. */
	explicit_bzero(c->body, c->body_len);
	free(c->body);
	c->body = NULL;
	if (e != PYX_OK)
		return e;
	c->admin = admin_key_ok(c->w, &c->req);
	if ((e = admit(c)) != PYX_OK)
		return e;

	if (snprintf(c->jaildir, sizeof(c->jaildir), "%s/jail.%ld.XXXXXX",
	    cfg->runtime_dir, (long)getpid()) >= (int)sizeof(c->jaildir) ||
	    mkdtemp(c->jaildir) == NULL) {
		log_warn("mkdtemp in %s", cfg->runtime_dir);
		return PYX_E_INTERNAL;
	}
	c->jaildir_made = true;

	c->ran = true;
	if ((e = sup_run(&c->run, c->w, &c->req, c->jaildir, c->admin)) !=
	    PYX_OK) {
		if (e == PYX_E_RESTARTING)
			c->retry_after = 1;
		return e;
	}
	if (c->run.verdict_kind == VERDICT_SYNTAX ||
	    c->run.verdict_kind == VERDICT_FORBIDDEN) {
		c->ran = false;		/* the user's code never started */
		return verdict_error(c);
	}
	c->outputs = outputs_collect(c->run.fd_work, c->req.ret, c->req.nret,
	    cfg->max_file_bytes, cfg->max_return_bytes <
	    (long long)cfg->workspace_limit_mb << 20 ? cfg->max_return_bytes :
	    (long long)cfg->workspace_limit_mb << 20, &c->outfiles);
	if (c->run.term == TERM_TIMEOUT)
		return fail(c, PYX_E_TIMEOUT, "Execution timed out (%d seconds "
		    "limit).", cfg->time_limit_seconds);
	return PYX_OK;
}

static const char health_body[] = "{\"status\":\"ok\"}\n";

void
execute_handle(struct worker *w, struct http_req *h, struct http_reply *rep)
{
	struct exec_ctx			 c;
	const struct pyx_errinfo	*ei;
	enum met_route			 mr;
	char				 path[256];

	memset(&c, 0, sizeof(c));
	memset(rep, 0, sizeof(*rep));
	c.w = w;
	c.http = h;
	c.t0 = mono_now();
	c.ip = h->remote_addr != NULL && h->remote_addr[0] != '\0' ?
	    h->remote_addr : "unknown";
	store_client_key(c.ip, w->cfg.rate_limit_ipv6_prefix, c.client,
	    sizeof(c.client));
	run_init(&c.run, &w->cfg);
	slots_init(&c.slot);

	strlcpy(path, h->uri ? h->uri : "", sizeof(path));
	path[strcspn(path, "?")] = '\0';
	mr = met_route_of(path);
	if (strcmp(path, "/healthz") == 0) {
		if (strcmp(h->method, "GET") == 0 ||
		    strcmp(h->method, "HEAD") == 0) {
			rep->status = 200;
			rep->reason = "OK";
			rep->body = xstrndup(health_body, sizeof(health_body) - 1);
			rep->body_len = sizeof(health_body) - 1;
			met_request(mr, PYX_OK);
			ctx_free(&c);
			return;
		}
		strlcpy(rep->extra_headers, "Allow: GET, HEAD\r\n",
		    sizeof(rep->extra_headers));
		c.err = PYX_E_METHOD;
	} else if (strcmp(path, "/execute") == 0) {
		c.is_execute = true;
		if (strcmp(h->method, "POST") == 0) {
			c.err = do_execute(&c);
			fill_status(&c);
		} else {
			strlcpy(rep->extra_headers, "Allow: POST\r\n",
			    sizeof(rep->extra_headers));
			c.err = PYX_E_METHOD;
		}
	} else if (mr == MET_R_METRICS || mr == MET_R_STATUS) {
		if (strcmp(h->method, "GET") == 0 ||
		    strcmp(h->method, "HEAD") == 0) {
			if ((c.err = stats_handle(w, h, mr == MET_R_METRICS,
			    rep)) == PYX_OK) {
				met_request(mr, PYX_OK);
				ctx_free(&c);
				return;
			}
		} else {
			strlcpy(rep->extra_headers, "Allow: GET, HEAD\r\n",
			    sizeof(rep->extra_headers));
			c.err = PYX_E_METHOD;
		}
	} else
		c.err = PYX_E_NOT_FOUND;

	if (c.ran)
		met_run(c.run.term, c.run.oom_killed, c.run.wall_sec);
	if (c.err == PYX_E_SANDBOX)
		met_sandbox_failure();
	met_request(mr, c.err);
	ei = pyx_errinfo(c.err);
	if (c.retry_after > 0)
		snprintf(rep->extra_headers, sizeof(rep->extra_headers),
		    "Retry-After: %d\r\n", c.retry_after);
	rep->status = ei->status;
	rep->reason = ei->reason;
	rep->body = resp_build(&c, &rep->body_len);
	/*
	 * A request that carried a key leaves copies of it in freed buffers
	 * (libfcgi's, json-c's); returning free pages to the kernel zeroes
	 * most of them before an exec-mode jail's init copies this process.
	 */
	rep->trim = c.req.api_key != NULL;
	/* The reply's placeholders need the files: the reply owns them now. */
	if (c.outputs != NULL && c.ran &&
	    (c.err == PYX_OK || c.err == PYX_E_TIMEOUT)) {
		rep->files = c.outfiles;
		memset(&c.outfiles, 0, sizeof(c.outfiles));
	}
	w->served++;
	log_info("%s %s %.64s %d %s admin=%d term=%d wall=%.3fs total=%.3fs "
	    "rid=%s", h->remote_addr ? h->remote_addr : "-", h->method, path,
	    ei->status, ei->type ? ei->type : "-", c.admin, c.run.term,
	    c.run.wall_sec, mono_now() - c.t0, h->request_id);
	ctx_free(&c);
	if (w->served % 8 == 0)
		worker_sweep(w);
}
