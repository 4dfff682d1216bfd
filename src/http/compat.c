/*
 * compat.c: the routes of the services pyexec replaces, under /compat/,
 * so that their clients work by changing only their base URL:
 *
 *   /compat/repl/              a session REPL service's (files, shell,
 *                              fork, a grader with io_cases)
 *   /compat/code-interpreter/  a Jupyter-kernel service's (X-Auth-Token,
 *                              user_uuid sessions, result_text/base64)
 *   /compat/exec/              a Flask exec service's ({code, id?})
 *
 * Each is a thin adapter: a compat request becomes one or more native
 * requests (POST /sessions, /sessions/{id}/..., /evaluate) handled by
 * execute_handle() from memory, exactly as if a client had sent them (the
 * same sandbox, limits, charging, logs), and their JSON answers are
 * reshaped. Nothing here runs code or touches a session's files.
 *
 * Client-chosen session ids become native ids through a keyed hash
 * (sess_compat_id), so the client's id is stored nowhere and cannot name
 * another namespace's or a native session; ids that a path could
 * misread (".", "..", empty, with "/" or control bytes) are refused.
 *
 * Errors keep each service's shape ({"detail": ...} for the first two,
 * {"error": ...} for the third) and its status codes, except where the
 * original was a bug (a missing file is 404, not 500).
 */
#include "config.h"

#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "http/http.h"
#include "session/session.h"
#include "http/compat.h"

#define BUSY_WAIT_MS	50	/* between tries on a busy session */

enum flavour { F_REPL, F_CI, F_EXEC };

struct cctx {
	struct worker		*w;
	struct http_req		*h;
	enum flavour		 fl;
	char			*body;
	size_t			 body_len;
	struct json_object	*in;		/* the body, an object */
	char			 auth[1100];	/* the caller's header, copied */
	bool			 have_auth;
	bool			 token_admin;	/* a valid X-Auth-Token */
	int			 status;
	struct json_object	*out;
	char			*raw_out;	/* a raw reply instead (none yet) */
};

/* One native request's answer. */
struct sub {
	int			 status;
	char			*body;
	size_t			 len;
	struct json_object	*doc;		/* NULL: not JSON */
};

struct mem_body {
	const char	*p;
	size_t		 len, off;
};

static long long
mem_read(void *arg, char *buf, size_t n)
{
	struct mem_body	*m = arg;
	size_t		 k;

	k = m->len - m->off < n ? m->len - m->off : n;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return (long long)k;
}

static void
sub_free(struct sub *s)
{
	if (s->doc != NULL)
		json_object_put(s->doc);
	free(s->body);
	memset(s, 0, sizeof(*s));
}

/*
 * A native request from memory, as the caller: their address, their
 * Authorization header (or the admin key, for a valid compat token).
 * The native code wipes the header it was given, so it gets a fresh
 * copy each time, which is wiped here too.
 */
static void
sub_call(struct cctx *x, const char *method, const char *uri,
    struct json_object *in, const char *raw, size_t rawlen,
    const char *want_id, struct sub *out)
{
	struct http_req		 h;
	struct http_reply	 rep;
	struct mem_body		 mb = { NULL, 0, 0 };
	struct json_tokener	*tok;
	char			 auth[1100];

	memset(&h, 0, sizeof(h));
	memset(out, 0, sizeof(*out));
	h.method = method;
	h.uri = uri;
	h.content_length = -1;
	if (in != NULL) {
		mb.p = json_object_to_json_string_ext(in,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		mb.len = strlen(mb.p);
		h.content_type = "application/json";
		h.content_length = (long long)mb.len;
	} else if (raw != NULL) {
		mb.p = raw;
		mb.len = rawlen;
		h.content_type = "application/octet-stream";
		h.content_length = (long long)rawlen;
	}
	h.read_body = mem_read;
	h.body_ctx = &mb;
	h.remote_addr = x->h->remote_addr;
	h.conn_fd = x->h->conn_fd;	/* waits end when the client leaves */
	h.metrics_allowed = x->h->metrics_allowed;
	memcpy(h.request_id, x->h->request_id, sizeof(h.request_id));
	h.session_id = want_id;
	auth[0] = '\0';
	if (x->token_admin && x->w->admin_key != NULL) {
		if ((size_t)snprintf(auth, sizeof(auth), "Bearer %.*s",
		    (int)x->w->admin_key_len, x->w->admin_key) < sizeof(auth))
			h.authorization = auth;
	} else if (x->have_auth) {
		strlcpy(auth, x->auth, sizeof(auth));
		h.authorization = auth;
	}
	execute_handle(x->w, &h, &rep);
	explicit_bzero(auth, sizeof(auth));
	reply_flatten(&rep);
	out->status = rep.status;
	out->body = rep.body;
	out->len = rep.body_len;
	if (rep.content_type == NULL && rep.body != NULL &&
	    (tok = json_tokener_new()) != NULL) {
		out->doc = json_tokener_parse_ex(tok, rep.body, (int)rep.body_len);
		if (json_tokener_get_error(tok) != json_tokener_success ||
		    !json_object_is_type(out->doc, json_type_object)) {
			json_object_put(out->doc);
			out->doc = NULL;
		}
		json_tokener_free(tok);
	}
}

/* ---- small JSON helpers ---- */

static struct json_object *
get(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o != NULL && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *
get_str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v != NULL && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static const char *
err_type(const struct sub *s)
{
	const char *t = get_str(get(s->doc, "error_details"), "type");

	return t != NULL ? t : "";
}

static const char *
err_msg(const struct sub *s)
{
	const char *m = get_str(get(s->doc, "error_details"), "message");

	return m != NULL ? m : "The request failed.";
}

static struct json_object *
details(const struct sub *s)
{
	return get(s->doc, "execution_details");
}

static struct json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

/* The service's own error shape. */
static void
fail(struct cctx *x, int status, const char *msg)
{
	x->status = status;
	if (x->out != NULL)
		json_object_put(x->out);
	x->out = json_object_new_object();
	json_object_object_add(x->out, x->fl == F_EXEC ? "error" : "detail",
	    json_object_new_string(msg));
}

/* FastAPI's answer to a missing or mistyped body field. */
static void
fail_field(struct cctx *x, const char *where, const char *field,
    const char *msg)
{
	struct json_object *d, *e, *loc;

	x->status = 422;
	if (x->out != NULL)
		json_object_put(x->out);
	x->out = json_object_new_object();
	d = json_object_new_array();
	e = json_object_new_object();
	loc = json_object_new_array();
	json_object_array_add(loc, json_object_new_string(where));
	json_object_array_add(loc, json_object_new_string(field));
	json_object_object_add(e, "loc", loc);
	json_object_object_add(e, "msg", json_object_new_string(msg));
	json_object_object_add(e, "type", json_object_new_string(
	    strcmp(msg, "field required") == 0 ? "value_error.missing" :
	    "type_error.str"));
	json_object_array_add(d, e);
	json_object_object_add(x->out, "detail", d);
}

/* A required string field of the body; NULL after a 422. */
static const char *
field(struct cctx *x, const char *k)
{
	struct json_object	*v;

	if (x->in == NULL) {
		fail_field(x, "body", k, "field required");
		return NULL;
	}
	if ((v = get(x->in, k)) == NULL) {
		fail_field(x, "body", k, "field required");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		fail_field(x, "body", k, "str type expected");
		return NULL;
	}
	return json_object_get_string(v);
}

/* The native session behind a client's id, "/sessions/<native id>". */
static bool
native_of(struct cctx *x, const char *ns, const char *cid, char *nid,
    char *base, size_t baselen)
{
	if (sess_compat_id(&x->w->cfg, ns, cid, strlen(cid), nid) == -1)
		return false;
	snprintf(base, baselen, "/sessions/%s", nid);
	return true;
}

/*
 * Makes the client's session if it is not live. A race with another
 * request making the same one is not an error: that one is used.
 */
static bool
ensure_session(struct cctx *x, const char *nid, struct sub *made)
{
	struct json_object *b = json_object_new_object();

	sub_call(x, "POST", "/sessions", b, NULL, 0, nid, made);
	json_object_put(b);
	if (made->status == 201 || (made->status == 409 &&
	    strcmp(err_type(made), "SessionBusy") == 0))
		return true;
	return false;
}

/* A native session call; a busy session is waited for (never queued). */
static void
session_call(struct cctx *x, const char *method, const char *uri,
    struct json_object *in, const char *raw, size_t rawlen, struct sub *out)
{
	double	 end = mono_now() + x->w->cfg.time_limit_seconds + 5;

	for (;;) {
		sub_call(x, method, uri, in, raw, rawlen, NULL, out);
		if (out->status != 409 || strcmp(err_type(out), "SessionBusy")
		    != 0 || mono_now() > end)
			return;
		sub_free(out);
		usleep(BUSY_WAIT_MS * 1000);
	}
}

/* Maps a native refusal that is not the adapter's business. */
static void
pass_error(struct cctx *x, const struct sub *s)
{
	fail(x, s->status >= 400 ? s->status : 502, err_msg(s));
}

/* ---- /compat/repl ---- */

static bool
repl_session(struct cctx *x, const char *cid, char *nid, char *base,
    size_t baselen)
{
	if (!compat_id_ok(cid)) {
		fail(x, 400, "Invalid session id");
		return false;
	}
	if (!native_of(x, "repl", cid, nid, base, baselen)) {
		fail(x, 500, "Internal Server Error");
		return false;
	}
	return true;
}

static struct json_object *
ok_obj(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "success", json_object_new_boolean(1));
	return o;
}

/* The file route of a session for a path given by the client. */
static bool
file_uri(struct cctx *x, const char *base, const char *rel, char *norm,
    size_t normlen, char *uri, size_t urilen)
{
	char	 enc[4096];

	if (!compat_norm_path(rel, norm, normlen)) {
		fail(x, 400, strstr(rel, "..") != NULL ? "Invalid path: "
		    "Parent traversal not allowed" : "Invalid path");
		return false;
	}
	if (!compat_enc_path(norm, enc, sizeof(enc)) ||
	    (size_t)snprintf(uri, urilen, "%s/files/%s", base, enc) >= urilen) {
		fail(x, 400, "Invalid path");
		return false;
	}
	return true;
}

static void
repl_write(struct cctx *x)
{
	const char	*id, *rel, *content;
	char		 nid[SESS_ID_LEN + 1], base[64], norm[1024], uri[4200];
	struct sub	 s, made;

	if ((id = field(x, "id")) == NULL || (rel = field(x, "rel_path")) ==
	    NULL || (content = field(x, "content")) == NULL)
		return;
	if (!repl_session(x, id, nid, base, sizeof(base)) ||
	    !file_uri(x, base, rel, norm, sizeof(norm), uri, sizeof(uri)))
		return;
	session_call(x, "PUT", uri, NULL, content, strlen(content), &s);
	if (s.status == 404 && strcmp(err_type(&s), "SessionNotFound") == 0) {
		/* As the original: the first write makes the session. */
		sub_free(&s);
		if (!ensure_session(x, nid, &made)) {
			pass_error(x, &made);
			sub_free(&made);
			return;
		}
		sub_free(&made);
		session_call(x, "PUT", uri, NULL, content, strlen(content), &s);
	}
	if (s.status == 200) {
		x->status = 200;
		x->out = ok_obj();
		json_object_object_add(x->out, "id", json_object_new_string(id));
		json_object_object_add(x->out, "rel_path",
		    json_object_new_string(rel));
	} else if (s.status == 400)
		fail(x, 400, err_msg(&s));
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
repl_read(struct cctx *x)
{
	char		 id[COMPAT_ID_MAX + 2], rel[1024], nid[SESS_ID_LEN + 1];
	char		 base[64], norm[1024], uri[4200], *text;
	struct sub	 s;

	if (!compat_query_get(x->h->query, "id", id, sizeof(id))) {
		fail_field(x, "query", "id", "field required");
		return;
	}
	if (!compat_query_get(x->h->query, "rel_path", rel, sizeof(rel))) {
		fail_field(x, "query", "rel_path", "field required");
		return;
	}
	if (!repl_session(x, id, nid, base, sizeof(base)) ||
	    !file_uri(x, base, rel, norm, sizeof(norm), uri, sizeof(uri)))
		return;
	session_call(x, "GET", uri, NULL, NULL, 0, &s);
	if (s.status == 200 && s.doc == NULL) {
		if (!compat_utf8_ok((unsigned char *)s.body, s.len) ||
		    memchr(s.body, '\0', s.len) != NULL)
			fail(x, 400, "The file is not UTF-8 text.");
		else {
			text = xmalloc(s.len + 1);
			memcpy(text, s.body, s.len);
			text[s.len] = '\0';
			x->status = 200;
			x->out = json_object_new_object();
			json_object_object_add(x->out, "content",
			    json_object_new_string_len(text, (int)s.len));
			json_object_object_add(x->out, "id",
			    json_object_new_string(id));
			json_object_object_add(x->out, "rel_path",
			    json_object_new_string(norm));
			free(text);
		}
	} else if (s.status == 404)
		fail(x, 404, "File does not exist");
	else if (s.status == 400)
		fail(x, 400, err_msg(&s));
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
repl_delete(struct cctx *x)
{
	const char	*id, *rel;
	char		 nid[SESS_ID_LEN + 1], base[64], norm[1024], uri[4200];
	struct sub	 s;

	if ((id = field(x, "id")) == NULL || (rel = field(x, "rel_path")) ==
	    NULL)
		return;
	if (!repl_session(x, id, nid, base, sizeof(base)) ||
	    !file_uri(x, base, rel, norm, sizeof(norm), uri, sizeof(uri)))
		return;
	session_call(x, "DELETE", uri, NULL, NULL, 0, &s);
	if (s.status == 200) {
		x->status = 200;
		x->out = ok_obj();
		json_object_object_add(x->out, "id", json_object_new_string(id));
		json_object_object_add(x->out, "rel_path",
		    json_object_new_string(rel));
	} else if (s.status == 404)
		fail(x, 404, "File does not exist");	/* the original: 500 */
	else if (s.status == 400)
		fail(x, 400, err_msg(&s));
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
repl_rename(struct cctx *x)
{
	const char		*id, *from, *to;
	char			 nid[SESS_ID_LEN + 1], base[64], uri[128];
	char			 nfrom[1024], nto[1024];
	struct json_object	*b;
	struct sub		 s;

	if ((id = field(x, "id")) == NULL || (from = field(x, "old_path")) ==
	    NULL || (to = field(x, "new_path")) == NULL)
		return;
	if (!repl_session(x, id, nid, base, sizeof(base)))
		return;
	if (!compat_norm_path(from, nfrom, sizeof(nfrom)) ||
	    !compat_norm_path(to, nto, sizeof(nto))) {
		fail(x, 400, "Invalid path");
		return;
	}
	snprintf(uri, sizeof(uri), "%s/move", base);
	b = json_object_new_object();
	json_object_object_add(b, "from", json_object_new_string(nfrom));
	json_object_object_add(b, "to", json_object_new_string(nto));
	session_call(x, "POST", uri, b, NULL, 0, &s);
	json_object_put(b);
	if (s.status == 200) {
		x->status = 200;
		x->out = ok_obj();
		json_object_object_add(x->out, "id", json_object_new_string(id));
		json_object_object_add(x->out, "old_path",
		    json_object_new_string(from));
		json_object_object_add(x->out, "new_path",
		    json_object_new_string(to));
	} else if (s.status == 404)
		fail(x, 404, "File does not exist");
	else if (s.status == 400)
		fail(x, 400, err_msg(&s));
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
repl_run(struct cctx *x)
{
	const char		*id, *cmd, *o, *e, *term;
	char			 nid[SESS_ID_LEN + 1], base[64], uri[128];
	char			 *note;
	struct json_object	*b, *d;
	struct sub		 s;
	size_t			 n;

	if ((id = field(x, "id")) == NULL || (cmd = field(x, "cmd")) == NULL)
		return;
	if (!repl_session(x, id, nid, base, sizeof(base)))
		return;
	snprintf(uri, sizeof(uri), "%s/run", base);
	b = json_object_new_object();
	json_object_object_add(b, "cmd", json_object_new_string(cmd));
	session_call(x, "POST", uri, b, NULL, 0, &s);
	json_object_put(b);
	d = details(&s);
	o = get_str(d, "stdout");
	e = get_str(d, "stderr");
	term = get_str(d, "termination");
	if (s.status == 200 && d != NULL && (term == NULL ||
	    strcmp(term, "timeout") != 0)) {
		x->status = 200;
		x->out = json_object_new_object();
		json_object_object_add(x->out, "stdout", str_or_null(o ? o : ""));
		json_object_object_add(x->out, "stderr", str_or_null(e ? e : ""));
		json_object_object_add(x->out, "id", json_object_new_string(id));
	} else if (s.status == 404)
		fail(x, 400, "Session does not exist");
	else if (strcmp(err_type(&s), "TimeoutError") == 0 || (term != NULL &&
	    strcmp(term, "timeout") == 0)) {
		/* The original's shape for a command that timed out: a 500
		 * with the reason in stderr (here after what it printed). */
		n = (e ? strlen(e) : 0) + 128;
		note = xmalloc(n);
		snprintf(note, n, "%sException running command: timed out "
		    "after %d seconds\n", e ? e : "",
		    x->w->cfg.time_limit_seconds);
		x->status = 500;
		x->out = json_object_new_object();
		json_object_object_add(x->out, "stdout", str_or_null(o ? o : ""));
		json_object_object_add(x->out, "stderr", str_or_null(note));
		json_object_object_add(x->out, "id", json_object_new_string(id));
		free(note);
	} else
		pass_error(x, &s);
	sub_free(&s);
}

/* {type, message, traceback} as the original's one string. */
static struct json_object *
case_error(struct json_object *c)
{
	struct json_object	*e = get(c, "error"), *r;
	const char		*t, *m, *tb, *term;
	char			*s;
	size_t			 n;

	term = get_str(c, "termination");
	if (term != NULL && strcmp(term, "timeout") == 0)
		return json_object_new_string("Timeout");
	if (e == NULL || !json_object_is_type(e, json_type_object))
		return NULL;
	t = get_str(e, "type");
	m = get_str(e, "message");
	tb = get_str(e, "traceback");
	n = strlen(t ? t : "") + strlen(m ? m : "") + strlen(tb ? tb : "") + 8;
	s = xmalloc(n);
	snprintf(s, n, "%s: %s\n%s", t ? t : "Error", m ? m : "", tb ? tb : "");
	r = json_object_new_string(s);
	free(s);
	return r;
}

static void
repl_evaluate(struct cctx *x)
{
	struct json_object	*b, *cases, *in, *res, *c, *one, *all;
	const char		*code, *ep;
	struct sub		 s;
	size_t			 i, n;
	int			 limit;

	if ((code = field(x, "code")) == NULL ||
	    (ep = field(x, "entry_point")) == NULL)
		return;
	if ((cases = get(x->in, "io_cases")) == NULL) {
		fail_field(x, "body", "io_cases", "field required");
		return;
	}
	if (!json_object_is_type(cases, json_type_array)) {
		fail_field(x, "body", "io_cases", "value is not a valid list");
		return;
	}
	/* The original's wall limit per case: 5 s (within ours). */
	limit = x->w->cfg.time_limit_seconds < 5 ?
	    x->w->cfg.time_limit_seconds : 5;
	b = json_object_new_object();
	json_object_object_add(b, "code", json_object_new_string(code));
	json_object_object_add(b, "entry_point", json_object_new_string(ep));
	json_object_object_add(b, "io_cases", json_object_get(cases));
	json_object_object_add(b, "time_limit_per_case_seconds",
	    json_object_new_int(limit));
	sub_call(x, "POST", "/evaluate", b, NULL, 0, NULL, &s);
	json_object_put(b);
	if (s.status != 200 || (res = get(s.doc, "case_results")) == NULL ||
	    !json_object_is_type(res, json_type_array)) {
		pass_error(x, &s);
		sub_free(&s);
		return;
	}
	all = json_object_new_array();
	n = json_object_array_length(res);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(res, i);
		in = json_object_array_get_idx(cases, i);
		one = json_object_new_object();
		json_object_object_add(one, "passed",
		    json_object_get(get(c, "passed")));
		json_object_object_add(one, "got", json_object_get(get(c, "got")));
		json_object_object_add(one, "expected",
		    json_object_get(get(c, "expected")));
		json_object_object_add(one, "error", case_error(c));
		json_object_object_add(one, "case", json_object_new_int((int)i));
		json_object_object_add(one, "input",
		    json_object_get(get(in, "input")));
		json_object_array_add(all, one);
	}
	x->status = 200;
	x->out = json_object_new_object();
	json_object_object_add(x->out, "passed",
	    json_object_get(get(s.doc, "passed")));
	json_object_object_add(x->out, "case_results", all);
	json_object_object_add(x->out, "error", NULL);
	sub_free(&s);
}

static int	uuid4(char *, size_t);

/* A fork of the client's session, live state and files, under a new id. */
static void
repl_fork(struct cctx *x)
{
	const char	*id;
	char		 nid[SESS_ID_LEN + 1], base[64], uri[128];
	char		 newid[40], cnid[SESS_ID_LEN + 1], cbase[64];
	struct sub	 s;
	double		 end = mono_now() + x->w->cfg.time_limit_seconds + 5;

	if ((id = field(x, "id")) == NULL)
		return;
	if (!repl_session(x, id, nid, base, sizeof(base)))
		return;
	if (uuid4(newid, sizeof(newid)) == -1 ||
	    !native_of(x, "repl", newid, cnid, cbase, sizeof(cbase))) {
		fail(x, 500, "Internal Server Error");
		return;
	}
	snprintf(uri, sizeof(uri), "%s/fork", base);
	for (;;) {
		sub_call(x, "POST", uri, NULL, NULL, 0, cnid, &s);
		if (s.status != 409 || strcmp(err_type(&s), "SessionBusy") != 0 ||
		    mono_now() > end)
			break;
		sub_free(&s);
		usleep(BUSY_WAIT_MS * 1000);
	}
	if (s.status == 201) {
		x->status = 200;
		x->out = json_object_new_object();
		json_object_object_add(x->out, "new_id",
		    json_object_new_string(newid));
	} else if (s.status == 404)
		fail(x, 404, "Session to fork not found");
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
repl_route(struct cctx *x, const char *rest)
{
	const char *m = x->h->method;

	if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
		if (strcmp(m, "GET") != 0) {
			fail(x, 405, "Method Not Allowed");
			return;
		}
		x->status = 200;
		x->out = json_object_new_string("ping");
		return;
	}
	if (strcmp(rest, "/read_file") == 0) {
		if (strcmp(m, "GET") != 0)
			fail(x, 405, "Method Not Allowed");
		else
			repl_read(x);
		return;
	}
	if (strcmp(m, "POST") != 0) {
		fail(x, strcmp(rest, "/write_file") == 0 || strcmp(rest,
		    "/run") == 0 ? 405 : 404, strcmp(rest, "/write_file") ==
		    0 || strcmp(rest, "/run") == 0 ? "Method Not Allowed" :
		    "Not Found");
		return;
	}
	if (strcmp(rest, "/write_file") == 0)
		repl_write(x);
	else if (strcmp(rest, "/delete_file") == 0)
		repl_delete(x);
	else if (strcmp(rest, "/rename_file") == 0)
		repl_rename(x);
	else if (strcmp(rest, "/run") == 0)
		repl_run(x);
	else if (strcmp(rest, "/evaluate_code") == 0)
		repl_evaluate(x);
	else if (strcmp(rest, "/fork_session") == 0)
		repl_fork(x);
	else
		fail(x, 404, "Not Found");
}

/* ---- /compat/code-interpreter ---- */

static bool
token_ok(struct cctx *x)
{
	unsigned char	 a[1024 + sizeof(size_t)], b[1024 + sizeof(size_t)];
	const char	*t = x->h->x_auth_token;
	size_t		 n;
	bool		 ok;

	if (x->w->compat_token == NULL || t == NULL ||
	    (n = strlen(t)) > 1024 || x->w->compat_token_len > 1024)
		return false;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memcpy(a, x->w->compat_token, x->w->compat_token_len);
	memcpy(a + 1024, &x->w->compat_token_len, sizeof(size_t));
	memcpy(b, t, n);
	memcpy(b + 1024, &n, sizeof(size_t));
	ok = ct_equal(a, b, sizeof(a));
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return ok;
}

static const char RESET_MSG[] = "The code resulted in an execution timeout "
    "or a crashed environment or resource exhaustion. The environment has "
    "been reset, please try again.";

/* result_text: the streams, then the value; the last PNG instead, if any. */
static void
ci_result(struct cctx *x, struct json_object *d)
{
	struct json_object	*disp, *item;
	const char		*o, *e, *r, *png = NULL, *mt;
	char			*text;
	size_t			 i, n, len;

	if ((disp = get(d, "display")) != NULL &&
	    json_object_is_type(disp, json_type_array))
		for (i = 0; i < json_object_array_length(disp); i++) {
			item = json_object_array_get_idx(disp, i);
			mt = get_str(item, "mime_type");
			if (mt != NULL && strcmp(mt, "image/png") == 0 &&
			    get_str(item, "data_base64") != NULL)
				png = get_str(item, "data_base64");
		}
	o = get_str(d, "stdout");
	e = get_str(d, "stderr");
	r = get_str(d, "result");
	x->status = 200;
	x->out = json_object_new_object();
	len = (o ? strlen(o) : 0) + (e ? strlen(e) : 0) + (r ? strlen(r) : 0);
	if (png != NULL || len == 0) {
		json_object_object_add(x->out, "result_text", NULL);
	} else {
		text = xmalloc(len + 1);
		n = 0;
		if (o) { memcpy(text + n, o, strlen(o)); n += strlen(o); }
		if (e) { memcpy(text + n, e, strlen(e)); n += strlen(e); }
		if (r) { memcpy(text + n, r, strlen(r)); n += strlen(r); }
		text[n] = '\0';
		json_object_object_add(x->out, "result_text",
		    json_object_new_string_len(text, (int)n));
		free(text);
	}
	json_object_object_add(x->out, "result_base64", str_or_null(png));
}

static void
ci_reset(struct cctx *x, const char *base)
{
	struct sub	 s;

	sub_call(x, "DELETE", base, NULL, NULL, 0, NULL, &s);
	sub_free(&s);
}

static void
ci_execute(struct cctx *x)
{
	const char		*uid, *code, *term, *t;
	char			 nid[SESS_ID_LEN + 1], base[64], uri[128], msg[1200];
	struct json_object	*b, *d, *err;
	struct sub		 s, made;
	struct json_object	*alive;

	if ((uid = field(x, "user_uuid")) == NULL ||
	    (code = field(x, "code")) == NULL)
		return;
	if (!compat_id_ok(uid)) {
		fail(x, 400, "Invalid user_uuid");
		return;
	}
	if (!native_of(x, "ci", uid, nid, base, sizeof(base))) {
		fail(x, 500, "Internal Server Error");
		return;
	}
	snprintf(uri, sizeof(uri), "%s/execute", base);
	b = json_object_new_object();
	json_object_object_add(b, "code", json_object_new_string(code));
	session_call(x, "POST", uri, b, NULL, 0, &s);
	if (s.status == 404 && strcmp(err_type(&s), "SessionNotFound") == 0) {
		sub_free(&s);
		if (!ensure_session(x, nid, &made)) {
			if (made.status == 503)
				fail(x, 503, "Could not provision a new worker "
				    "environment at this time.");
			else
				pass_error(x, &made);
			sub_free(&made);
			json_object_put(b);
			return;
		}
		sub_free(&made);
		session_call(x, "POST", uri, b, NULL, 0, &s);
	}
	json_object_put(b);
	d = details(&s);
	term = get_str(d, "termination");
	alive = get(d, "session_alive");
	t = err_type(&s);
	if (s.status == 200 && d != NULL) {
		err = get(d, "error");
		if ((alive != NULL && !json_object_get_boolean(alive)) ||
		    (term != NULL && strcmp(term, "exited") != 0)) {
			ci_reset(x, base);
			fail(x, 503, RESET_MSG);
		} else if (err != NULL && json_object_is_type(err,
		    json_type_object)) {
			snprintf(msg, sizeof(msg), "Python Execution Error: "
			    "%s: %s", get_str(err, "type") ? get_str(err,
			    "type") : "Error", get_str(err, "message") ?
			    get_str(err, "message") : "");
			fail(x, 400, msg);
		} else
			ci_result(x, d);
	} else if (strcmp(t, "TimeoutError") == 0) {
		ci_reset(x, base);
		fail(x, 503, RESET_MSG);
	} else if (strcmp(t, "SyntaxError") == 0 ||
	    strcmp(t, "ForbiddenImportError") == 0) {
		snprintf(msg, sizeof(msg), "Python Execution Error: %s: %s",
		    strcmp(t, "SyntaxError") == 0 ? "SyntaxError" :
		    "ImportError", err_msg(&s));
		fail(x, 400, msg);
	} else if (s.status == 503)
		fail(x, 503, err_msg(&s));
	else
		pass_error(x, &s);
	sub_free(&s);
}

static void
ci_release(struct cctx *x)
{
	const char	*uid;
	char		 nid[SESS_ID_LEN + 1], base[64], msg[256];

	if ((uid = field(x, "user_uuid")) == NULL)
		return;
	/* Any id is "released", as the original answers for unknown ones. */
	if (compat_id_ok(uid) && native_of(x, "ci", uid, nid, base, sizeof(base)))
		ci_reset(x, base);
	snprintf(msg, sizeof(msg), "Worker for user %.*s has been released.",
	    COMPAT_ID_MAX, uid);
	x->status = 200;
	x->out = json_object_new_object();
	json_object_object_add(x->out, "status", json_object_new_string("ok"));
	json_object_object_add(x->out, "detail", json_object_new_string(msg));
}

static void
ci_status(struct cctx *x)
{
	char	 err[128];
	int	 live, busy;

	live = sess_live_count(&x->w->cfg);
	busy = slots_count(x->w->cfg.runtime_dir, x->w->cfg.max_concurrent,
	    err, sizeof(err));
	x->status = 200;
	x->out = json_object_new_object();
	json_object_object_add(x->out, "total_workers",
	    json_object_new_int(live < 0 ? 0 : live));
	json_object_object_add(x->out, "busy_workers",
	    json_object_new_int(busy < 0 ? 0 : busy));
	json_object_object_add(x->out, "is_initializing",
	    json_object_new_boolean(0));
}

static void
ci_route(struct cctx *x, const char *rest)
{
	const char *m = x->h->method;

	if (!token_ok(x)) {
		fail(x, 401, "Invalid or missing authentication token");
		return;
	}
	x->token_admin = true;
	if (strcmp(rest, "/execute") == 0 || strcmp(rest, "/release") == 0) {
		if (strcmp(m, "POST") != 0)
			fail(x, 405, "Method Not Allowed");
		else if (rest[1] == 'e')
			ci_execute(x);
		else
			ci_release(x);
	} else if (strcmp(rest, "/status") == 0) {
		if (strcmp(m, "GET") != 0)
			fail(x, 405, "Method Not Allowed");
		else
			ci_status(x);
	} else
		fail(x, 404, "Not Found");
}

/* ---- /compat/exec ---- */

static int
uuid4(char *out, size_t len)
{
	uint8_t	 r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	return 0;
}

static void
ex_execute(struct cctx *x)
{
	struct json_object	*v, *b, *d, *err;
	const char		*code, *given = NULL, *o, *e, *t;
	char			 id[COMPAT_ID_MAX + 1], nid[SESS_ID_LEN + 1], base[64];
	char			 uri[128], msg[1200];
	struct sub		 s, made;

	if (x->in == NULL || (v = get(x->in, "code")) == NULL ||
	    !json_object_is_type(v, json_type_string)) {
		fail(x, 400, "Invalid request, 'code' is required");
		return;
	}
	code = json_object_get_string(v);
	if ((v = get(x->in, "id")) != NULL &&
	    json_object_is_type(v, json_type_string) &&
	    compat_id_ok(json_object_get_string(v)))
		given = json_object_get_string(v);
	b = json_object_new_object();
	json_object_object_add(b, "code", json_object_new_string(code));
	memset(&s, 0, sizeof(s));
	if (given != NULL) {
		strlcpy(id, given, sizeof(id));
		if (!native_of(x, "exec", id, nid, base, sizeof(base)))
			goto internal;
		snprintf(uri, sizeof(uri), "%s/execute", base);
		session_call(x, "POST", uri, b, NULL, 0, &s);
	}
	if (given == NULL || (s.status == 404 &&
	    strcmp(err_type(&s), "SessionNotFound") == 0)) {
		/* No id, or one we do not know: a new session, a new id. */
		sub_free(&s);
		if (uuid4(id, sizeof(id)) == -1 ||
		    !native_of(x, "exec", id, nid, base, sizeof(base)))
			goto internal;
		if (!ensure_session(x, nid, &made)) {
			fail(x, made.status >= 400 ? made.status : 500,
			    err_msg(&made));
			sub_free(&made);
			json_object_put(b);
			return;
		}
		sub_free(&made);
		snprintf(uri, sizeof(uri), "%s/execute", base);
		session_call(x, "POST", uri, b, NULL, 0, &s);
	}
	json_object_put(b);
	d = details(&s);
	o = get_str(d, "stdout");
	e = get_str(d, "stderr");
	t = err_type(&s);
	if ((s.status == 200 || s.status == 400) && (d != NULL ||
	    strcmp(t, "SyntaxError") == 0 ||
	    strcmp(t, "ForbiddenImportError") == 0)) {
		x->status = 200;
		x->out = json_object_new_object();
		json_object_object_add(x->out, "id", json_object_new_string(id));
		json_object_object_add(x->out, "stdout", str_or_null(o ? o : ""));
		json_object_object_add(x->out, "stderr", str_or_null(e ? e : ""));
		err = get(d, "error");
		if (s.status == 400)
			json_object_object_add(x->out, "error",
			    json_object_new_string(err_msg(&s)));
		else if (err != NULL && json_object_is_type(err,
		    json_type_object))
			json_object_object_add(x->out, "error", str_or_null(
			    get_str(err, "message") ? get_str(err, "message") :
			    ""));
		else if (get(d, "session_alive") != NULL &&
		    !json_object_get_boolean(get(d, "session_alive"))) {
			snprintf(msg, sizeof(msg), "The session ended: %s",
			    get_str(d, "session_message") ? get_str(d,
			    "session_message") : "it was stopped");
			json_object_object_add(x->out, "error",
			    json_object_new_string(msg));
		}
	} else
		pass_error(x, &s);
	sub_free(&s);
	return;
internal:
	json_object_put(b);
	sub_free(&s);
	fail(x, 500, "Internal error");
}

static void
ex_route(struct cctx *x, const char *rest)
{
	if (strcmp(rest, "/execute") != 0)
		fail(x, 404, "Not Found");
	else if (strcmp(x->h->method, "POST") != 0)
		fail(x, 405, "Method Not Allowed");
	else
		ex_execute(x);
}

/* ---- the entry ---- */

static const char *
reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Internal Server Error";
	}
}

static bool
read_in(struct cctx *x)
{
	struct json_tokener	*tok;
	size_t			 max = cfg_max_body(&x->w->cfg);
	long long		 got;

	if (x->h->content_length <= 0)
		return true;
	if ((size_t)x->h->content_length > max) {
		fail(x, 413, "The request body is too large.");
		return false;
	}
	x->body_len = (size_t)x->h->content_length;
	x->body = xmalloc(x->body_len + 1);
	got = x->h->read_body(x->h->body_ctx, x->body, x->body_len);
	if (got != x->h->content_length) {
		fail(x, 400, "The request body ended early.");
		return false;
	}
	x->body[x->body_len] = '\0';
	if ((tok = json_tokener_new()) == NULL)
		return true;
	x->in = json_tokener_parse_ex(tok, x->body, (int)x->body_len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(x->in, json_type_object)) {
		json_object_put(x->in);
		x->in = NULL;
	}
	json_tokener_free(tok);
	return true;
}

void
compat_handle(struct worker *w, struct http_req *h, struct http_reply *rep,
    const char *path)
{
	struct cctx	 x;
	const char	*s, *rest;

	memset(&x, 0, sizeof(x));
	memset(rep, 0, sizeof(*rep));
	x.w = w;
	x.h = h;
	if (strncmp(path, "/compat/repl", 12) == 0 &&
	    (path[12] == '\0' || path[12] == '/')) {
		x.fl = F_REPL;
		rest = path + 12;
	} else if (strncmp(path, "/compat/code-interpreter", 24) == 0 &&
	    (path[24] == '\0' || path[24] == '/')) {
		x.fl = F_CI;
		rest = path + 24;
	} else if (strncmp(path, "/compat/exec", 12) == 0 &&
	    (path[12] == '\0' || path[12] == '/')) {
		x.fl = F_EXEC;
		rest = path + 12;
	} else {
		x.fl = F_REPL;
		rest = NULL;
	}
	if (h->authorization != NULL && strlen(h->authorization) <
	    sizeof(x.auth)) {
		strlcpy(x.auth, h->authorization, sizeof(x.auth));
		x.have_auth = true;
	}
	if (rest == NULL)
		fail(&x, 404, "Not Found");
	else if (read_in(&x)) {
		/* A body that is there but not a JSON object. */
		if (x.body_len > 0 && x.in == NULL && x.fl != F_EXEC) {
			x.status = 422;
			x.out = json_object_new_object();
			json_object_object_add(x.out, "detail",
			    json_object_new_string("The body is not a JSON "
			    "object."));
		} else if (x.fl == F_REPL)
			repl_route(&x, rest);
		else if (x.fl == F_CI)
			ci_route(&x, rest);
		else
			ex_route(&x, rest);
	}
	if (x.out == NULL)
		fail(&x, 500, "Internal Server Error");
	rep->status = x.status;
	rep->reason = reason_of(x.status);
	s = json_object_to_json_string_ext(x.out, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	rep->body_len = strlen(s);
	rep->body = xmalloc(rep->body_len + 1);
	memcpy(rep->body, s, rep->body_len + 1);
	rep->trim = x.have_auth || x.token_admin;
	log_info("%s %s %.64s %d compat rid=%s", h->remote_addr ?
	    h->remote_addr : "-", h->method, path, x.status, h->request_id);
	json_object_put(x.out);
	json_object_put(x.in);
	if (x.body != NULL) {
		explicit_bzero(x.body, x.body_len);
		free(x.body);
	}
	explicit_bzero(x.auth, sizeof(x.auth));
}
