/*
 * response.c: turns a finished struct exec_ctx into the reply body.
 * Pure formatting: decides no status and touches no file or process.
 *
 * Shapes follow seed 002: {status, timestamp_utc, request_context,
 * execution_details} on success, {status: "error", timestamp_utc,
 * error_details: {type, message, ...}} on error, with request_context and
 * the partial execution_details kept on a timeout. Script output that is
 * not valid UTF-8 still produces valid JSON: invalid bytes become U+FFFD
 * in "stdout"/"stderr", and the exact bytes are added as base64 in
 * "stdout_base64"/"stderr_base64".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "common/common.h"
#include "http/http.h"

static const char *const term_names[] = {
	[TERM_NONE] = "none",
	[TERM_EXITED] = "exited",
	[TERM_SIGNALED] = "signaled",
	[TERM_TIMEOUT] = "timeout",
	[TERM_CPU] = "cpu_limit",
	[TERM_MEMORY] = "memory_limit",
	[TERM_OUTPUT] = "output_limit",
	[TERM_ABORTED] = "client_gone",
};

const char *
resp_term_name(enum termination t)
{
	if ((unsigned)t >= sizeof(term_names) / sizeof(term_names[0]))
		return "none";
	return term_names[t];
}

void
resp_timestamp(char *out, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ld+00:00", base, ts.tv_nsec / 1000);
}

static struct json_object *
json_seconds(double v)
{
	char	 s[32];

	snprintf(s, sizeof(s), "%.4f", v);
	return json_object_new_double_s(v, s);
}

/*
 * Adds name (and name_base64 if the bytes are not valid UTF-8) as parts
 * of the reply (run.h, struct outfiles), which takes b's buffer over: the
 * output is written once, from there, when the reply is sent.
 */
static void
add_stream(struct json_object *o, const char *name, struct buf *b,
    struct outfiles *of)
{
	struct outfile	 part = { .fd = -1 };
	char		 token[OUTF_TOKEN_MAX], key[32];
	bool		 lossy;

	if (b->len == 0) {
		json_object_object_add(o, name, json_object_new_string(""));
		return;
	}
	part.kind = PART_TEXT;
	part.mem = b->data;
	part.size = (long long)(b->truncated ?
	    utf8_complete_len(b->data, b->len) : b->len);
	part.enc_len = json_text_len(part.mem, (size_t)part.size, &lossy);
	outfiles_add(of, &part, token);
	json_object_object_add(o, name, json_object_new_string(token));
	if (lossy) {
		part.kind = PART_BYTES_B64;
		part.size = (long long)b->len;
		part.enc_len = b64_encoded_len(b->len);
		outfiles_add(of, &part, token);
		snprintf(key, sizeof(key), "%s_base64", name);
		json_object_object_add(o, key, json_object_new_string(token));
	}
	outfiles_own(of, &b->data);
	b->len = b->cap = 0;
}

static struct json_object *
request_context(const struct exec_ctx *c)
{
	struct json_object	*o, *arr, *a;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "code_length",
	    json_object_new_int64((int64_t)c->req.code_chars));
	json_object_object_add(o, "attachment_count",
	    json_object_new_int64((int64_t)c->req.natt));
	json_object_object_add(o, "stdin_provided",
	    json_object_new_boolean(c->req.stdin_provided));
	arr = json_object_new_array();
	for (i = 0; i < c->req.natt; i++) {
		a = json_object_new_object();
		json_object_object_add(a, "filename",
		    json_object_new_string(c->req.att[i].name));
		json_object_object_add(a, "size_bytes",
		    json_object_new_int64((int64_t)c->req.att[i].len));
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "processed_attachments", arr);
	/* The limits this run was held to: the server's or the request's. */
	a = json_object_new_object();
	json_object_object_add(a, "time_limit_seconds",
	    json_object_new_int(c->req.limits.time_limit_seconds));
	json_object_object_add(a, "memory_limit_mb",
	    json_object_new_int(c->req.limits.memory_limit_mb));
	json_object_object_add(a, "max_output_bytes",
	    json_object_new_int64(c->req.limits.max_output_bytes));
	json_object_object_add(a, "max_processes",
	    json_object_new_int(c->req.limits.max_processes));
	json_object_object_add(o, "limits", a);
	return o;
}

static struct json_object *
execution_details(struct exec_ctx *c)
{
	struct run		*r = &c->run;
	struct json_object	*o;

	o = json_object_new_object();
	json_object_object_add(o, "success", json_object_new_boolean(
	    r->term == TERM_EXITED && r->exit_code == 0));
	add_stream(o, "stdout", &r->out, &c->outfiles);
	add_stream(o, "stderr", &r->err, &c->outfiles);
	json_object_object_add(o, "exit_code", r->term == TERM_EXITED ?
	    json_object_new_int(r->exit_code) : NULL);
	json_object_object_add(o, "execution_duration_sec",
	    json_seconds(r->wall_sec));
	json_object_object_add(o, "output_files", c->outputs != NULL ?
	    json_object_get(c->outputs) : json_object_new_object());
	json_object_object_add(o, "termination",
	    json_object_new_string(term_names[r->term]));
	json_object_object_add(o, "signal", r->signal ?
	    json_object_new_int(r->signal) : NULL);
	json_object_object_add(o, "stdout_truncated",
	    json_object_new_boolean(r->out.truncated));
	json_object_object_add(o, "stderr_truncated",
	    json_object_new_boolean(r->err.truncated));
	json_object_object_add(o, "oom_killed",
	    json_object_new_boolean(r->oom_killed));
	json_object_object_add(o, "cpu_time_sec", json_seconds(r->cpu_sec));
	json_object_object_add(o, "max_rss_kb",
	    json_object_new_int64(r->maxrss_kb));
	/* A session's call: result, display, error, session_alive. */
	if (c->sess_details != NULL) {
		json_object_object_foreach(c->sess_details, k, v)
			json_object_object_add(o, k, json_object_get(v));
	}
	return o;
}

static struct json_object *
user_info(const struct exec_ctx *c)
{
	struct json_object	*o = json_object_new_object();

	if (c->admin) {
		json_object_object_add(o, "role", json_object_new_string("admin"));
		json_object_object_add(o, "rate_limits_applied",
		    json_object_new_boolean(false));
		return o;
	}
	json_object_object_add(o, "ip_address", json_object_new_string(c->ip));
	json_object_object_add(o, "daily_quota_limit",
	    json_object_new_int(c->w->cfg.daily_quota));
	json_object_object_add(o, "requests_today", c->have_quota ?
	    json_object_new_int64(c->quota.requests_today) : NULL);
	json_object_object_add(o, "requests_remaining_today", c->have_quota ?
	    json_object_new_int64(c->quota.remaining_today) : NULL);
	return o;
}

static struct json_object *
server_status(const struct exec_ctx *c)
{
	struct json_object	*o = json_object_new_object();
	int			 max = c->w->cfg.max_concurrent;

	json_object_object_add(o, "load", json_object_new_string(
	    c->active >= max ? "high" : "normal"));
	json_object_object_add(o, "active_processes_at_request",
	    json_object_new_int(c->active));
	json_object_object_add(o, "max_concurrent_processes",
	    json_object_new_int(max));
	return o;
}

/* Whether the reply carries the run's details (and so its parts). */
bool
resp_has_details(const struct exec_ctx *c)
{
	return c->ran && (c->err == PYX_OK || c->err == PYX_E_TIMEOUT);
}

char *
resp_build(struct exec_ctx *c, size_t *lenp)
{
	const struct pyx_errinfo *ei = pyx_errinfo(c->err);
	struct json_object	*root, *ed;
	const char		*s;
	char			 ts[48], *out;
	size_t			 len;

	resp_timestamp(ts, sizeof(ts));
	root = json_object_new_object();
	json_object_object_add(root, "status", json_object_new_string(
	    c->err == PYX_OK ? "success" : "error"));
	json_object_object_add(root, "timestamp_utc",
	    json_object_new_string(ts));
	if (c->err != PYX_OK) {
		ed = json_object_new_object();
		json_object_object_add(ed, "type",
		    json_object_new_string(ei->type));
		json_object_object_add(ed, "message", json_object_new_string(
		    c->errmsg[0] ? c->errmsg : ei->message));
		if (c->err_extra != NULL) {
			json_object_object_foreach(c->err_extra, k, v)
				json_object_object_add(ed, k, json_object_get(v));
		}
		json_object_object_add(root, "error_details", ed);
	}
	if (c->extra_body != NULL && c->err == PYX_OK) {
		json_object_object_foreach(c->extra_body, k, v)
			json_object_object_add(root, k, json_object_get(v));
	}
	if (c->is_execute) {
		json_object_object_add(root, "user_info", user_info(c));
		json_object_object_add(root, "server_status", server_status(c));
	}
	if (c->req.code != NULL && (c->err == PYX_OK || c->ran))
		json_object_object_add(root, "request_context",
		    request_context(c));
	if (resp_has_details(c))
		json_object_object_add(root, "execution_details",
		    execution_details(c));

	s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	out = xmalloc(len + 2);
	memcpy(out, s, len);
	out[len++] = '\n';
	out[len] = '\0';
	json_object_put(root);
	*lenp = len;
	return out;
}
