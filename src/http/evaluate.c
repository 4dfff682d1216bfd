/*
 * evaluate.c: POST /evaluate, the grader. A submission against many test
 * cases, each in a fresh jail of its own made by the /execute run path
 * (run/supervise.c, either mode): module-level code runs in every case's
 * jail and nothing carries over from one case to another.
 *
 * Function mode (entry_point): boot.py reads the case file (the entry
 * point and the arguments, as Python literals written by pylit.c), runs
 * the module, calls the entry point and sends the returned value back on
 * fd 3 as plain data. The expected values never leave this process; the
 * value the jail sent is parsed strictly (pylit.c) and compared here.
 * Program mode (no entry_point): the submission runs as a script per
 * case with the case's stdin; stdout is compared with expected_stdout.
 *
 * Cases run in parallel, one per run slot: the request's own slot (taken
 * by admit(), like /execute's) and as many more as are free at once, up
 * to the number of cases; each slot is released as soon as no case is
 * left for it. All of it hangs off the request's struct exec_ctx and a
 * struct grade freed by grade_free() on every path.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "common/pylit.h"
#include "http/http.h"
#include "store/metrics.h"

#define GRADE_STREAM_MAX	8192	/* stdout, stderr per case in the reply */
#define GRADE_MSG_MAX		2000
#define GRADE_TB_MAX		8000
#define ENTRY_MAX		200
/*
 * No case starts later than this into a request (seconds, with its own
 * time limit counted): the packaged nginx waits 330 s for an answer.
 * Cases left out are reported as not run (passed is false).
 */
#define EVAL_BUDGET		300

struct gcase {
	struct pv	 args;		/* a tuple */
	struct pv	 kwargs;	/* a dict of str keys */
	struct pv	 expected;
	struct json_object *expected_json;	/* as given (cases), or NULL */
	char		*stdin_data;	/* program mode */
	size_t		 stdin_len;
	char		*exp_out;
	size_t		 exp_len;
};

struct lane {
	struct slots	 own;		/* lanes > 0: a slot of their own */
	struct slots	*slot;		/* lane 0: the request's (c->slot) */
	struct cgroups	 cg;
	bool		 cg_made;
	struct runner	 rn;
	struct run	 run;
	struct exec_req	 req;		/* the submission, this case's stdin */
	char		*casefile;
	size_t		 casefile_len;
	char		 jaildir[PATH_MAX];
	bool		 jaildir_made;
	long		 idx;		/* the case running; -1: none */
	struct run	 srv;		/* forked cases: the lane's case server */
};

struct grade {
	struct exec_ctx	*c;
	bool		 function;
	char		 entry[ENTRY_MAX + 1];
	struct gcase	*cases;
	size_t		 n;
	bool		 io;		/* io_cases: expected values are literals */
	struct pv_cmp	 cmp;
	enum text_cmp	 tcmp;
	int		 time_limit;
	bool		 stop_first;
	bool		 stopped;	/* a case failed with stop_on_first_failure */
	struct json_object **res;	/* per case; NULL: not run */
	size_t		 passed;
	struct lane	*lanes;
	size_t		 nlanes;
	bool		 forks;		/* cases forked by a server per lane */
};

static enum pyx_err
bad(struct grade *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum pyx_err
bad(struct grade *g, const char *fmt, ...)
{
	va_list	 ap;
	char	 m[sizeof(g->c->errmsg)];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return ctx_fail(g->c, PYX_E_VALIDATION, "%s", m);
}

static const char *
jtype(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:	return "null";
	case json_type_boolean:	return "a boolean";
	case json_type_double:
	case json_type_int:	return "a number";
	case json_type_string:	return "a string";
	case json_type_array:	return "an array";
	case json_type_object:	return "an object";
	}
	return "?";
}

/*
 * JSON (arguments, expected values) into a plain value. Depth is bounded
 * by the tokener (req_parse_ex). json-c keeps integers up to 2^64 - 1
 * exactly and clamps larger ones to the extremes without saying so: a
 * clamped value would compare wrong, so the extremes are refused (-1;
 * such numbers can be given exactly in io_cases).
 */
static int
json_to_pv(struct json_object *o, struct pv *v)
{
	size_t		 i, n;
	uint64_t	 u;
	char		 t[32];
	int		 rv = 0;

	memset(v, 0, sizeof(*v));
	switch (json_object_get_type(o)) {
	case json_type_null:
		v->kind = PV_NONE;
		return 0;
	case json_type_boolean:
		v->kind = PV_BOOL;
		v->b = json_object_get_boolean(o);
		return 0;
	case json_type_int:
		v->kind = PV_INT;
		v->i = json_object_get_int64(o);
		if (v->i == INT64_MIN)
			return -1;
		if (v->i == INT64_MAX) {
			if ((u = json_object_get_uint64(o)) == UINT64_MAX)
				return -1;
			if (u > (uint64_t)INT64_MAX) {
				snprintf(t, sizeof(t), "%llu", (unsigned long long)u);
				v->kind = PV_BIGINT;
				v->s = xstrndup(t, strlen(t));
				v->len = strlen(t);
			}
		}
		return 0;
	case json_type_double:
		v->kind = PV_FLOAT;
		v->f = json_object_get_double(o);
		return 0;
	case json_type_string:
		v->kind = PV_STR;
		v->len = (size_t)json_object_get_string_len(o);
		v->s = xstrndup(json_object_get_string(o), v->len);
		return 0;
	case json_type_array:
		v->kind = PV_LIST;
		v->n = json_object_array_length(o);
		v->items = xcalloc(v->n ? v->n : 1, sizeof(*v->items));
		for (i = 0; i < v->n; i++)
			if (json_to_pv(json_object_array_get_idx(o, i),
			    &v->items[i]) == -1)
				rv = -1;
		return rv;
	case json_type_object:
		v->kind = PV_DICT;
		v->n = (size_t)json_object_object_length(o);
		v->items = xcalloc(v->n ? 2 * v->n : 1, sizeof(*v->items));
		n = 0;
		json_object_object_foreach(o, k, x) {
			v->items[2 * n].kind = PV_STR;
			v->items[2 * n].len = strlen(k);
			v->items[2 * n].s = xstrndup(k, strlen(k));
			if (json_to_pv(x, &v->items[2 * n + 1]) == -1)
				rv = -1;
			n++;
		}
		return rv;
	}
	return -1;
}

/*
 * A plain value into the reply: tuples and sets become arrays, a dict
 * with keys other than strings an array of [key, value] pairs, big ints
 * exact numbers, NaN and infinities the strings "NaN", "Infinity",
 * "-Infinity" (JSON has no spelling for them).
 */
static struct json_object *
pv_to_json(const struct pv *v)
{
	struct json_object	*o, *pair;
	size_t			 i;
	bool			 strkeys = true;
	char			*k;

	switch (v->kind) {
	case PV_NONE:
		return NULL;
	case PV_BOOL:
		return json_object_new_boolean(v->b);
	case PV_INT:
		return json_object_new_int64(v->i);
	case PV_BIGINT:
		return json_object_new_double_s(strtod(v->s, NULL), v->s);
	case PV_FLOAT:
		if (isnan(v->f))
			return json_object_new_string("NaN");
		if (isinf(v->f))
			return json_object_new_string(v->f < 0 ? "-Infinity" :
			    "Infinity");
		return json_object_new_double(v->f);
	case PV_STR:
		return json_object_new_string_len(v->s, (int)v->len);
	case PV_LIST:
	case PV_TUPLE:
	case PV_SET:
		o = json_object_new_array();
		for (i = 0; i < v->n; i++)
			json_object_array_add(o, pv_to_json(&v->items[i]));
		return o;
	case PV_DICT:
		for (i = 0; i < v->n; i++)
			if (v->items[2 * i].kind != PV_STR ||
			    memchr(v->items[2 * i].s, '\0',
			    v->items[2 * i].len) != NULL)
				strkeys = false;
		if (strkeys) {
			o = json_object_new_object();
			for (i = 0; i < v->n; i++) {
				k = v->items[2 * i].s;
				json_object_object_add(o, k,
				    pv_to_json(&v->items[2 * i + 1]));
			}
			return o;
		}
		o = json_object_new_array();
		for (i = 0; i < v->n; i++) {
			pair = json_object_new_array();
			json_object_array_add(pair, pv_to_json(&v->items[2 * i]));
			json_object_array_add(pair,
			    pv_to_json(&v->items[2 * i + 1]));
			json_object_array_add(o, pair);
		}
		return o;
	}
	return NULL;
}

/* name, Class().method or Class.method: identifiers only. */
static bool
entry_ok(const char *s)
{
	size_t	 i = 0, parts = 0;

	for (;;) {
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
		while (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))
			i++;
		parts++;
		if (parts == 1 && strncmp(s + i, "()", 2) == 0) {
			i += 2;
			if (s[i] != '.')
				return false;
		}
		if (s[i] == '\0')
			return true;
		if (s[i] != '.' || parts == 2)
			return false;
		i++;
	}
}

static enum pyx_err
get_bool(struct grade *g, struct json_object *root, const char *key, bool *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(root, key, &v) || v == NULL)
		return PYX_OK;
	if (!json_object_is_type(v, json_type_boolean))
		return bad(g, "'%s' must be a boolean, not %s.", key, jtype(v));
	*out = json_object_get_boolean(v);
	return PYX_OK;
}

static enum pyx_err
get_tol(struct grade *g, struct json_object *cmp, const char *key, double *out)
{
	struct json_object	*v;
	double			 d;

	if (!json_object_object_get_ex(cmp, key, &v) || v == NULL)
		return PYX_OK;
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int))
		return bad(g, "comparator.%s must be a number, not %s.", key,
		    jtype(v));
	d = json_object_get_double(v);
	if (!(d >= 0 && d <= 1e300))
		return bad(g, "comparator.%s must be 0 or more.", key);
	*out = d;
	return PYX_OK;
}

static enum pyx_err
parse_comparator(struct grade *g, struct json_object *root)
{
	struct json_object	*cmp, *t;
	const char		*type;
	enum pyx_err		 e;

	g->cmp.type = PVC_EXACT;
	g->cmp.rel_tol = 1e-9;
	g->cmp.abs_tol = 0;
	g->tcmp = TXC_EXACT;
	if (!json_object_object_get_ex(root, "comparator", &cmp) || cmp == NULL)
		return PYX_OK;
	if (!json_object_is_type(cmp, json_type_object))
		return bad(g, "'comparator' must be an object, not %s.",
		    jtype(cmp));
	json_object_object_foreach(cmp, k, x) {
		(void)x;
		if (strcmp(k, "type") != 0 && strcmp(k, "rel_tol") != 0 &&
		    strcmp(k, "abs_tol") != 0)
			return bad(g, "Unknown field 'comparator.%.64s'.", k);
	}
	if (!json_object_object_get_ex(cmp, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return bad(g, "comparator.type must be a string.");
	type = json_object_get_string(t);
	if ((e = get_tol(g, cmp, "rel_tol", &g->cmp.rel_tol)) != PYX_OK ||
	    (e = get_tol(g, cmp, "abs_tol", &g->cmp.abs_tol)) != PYX_OK)
		return e;
	if (strcmp(type, "exact") == 0)
		return PYX_OK;
	if (g->function && strcmp(type, "float") == 0)
		g->cmp.type = PVC_FLOAT;
	else if (g->function && strcmp(type, "unordered") == 0)
		g->cmp.type = PVC_UNORDERED;
	else if (!g->function && strcmp(type, "lines") == 0)
		g->tcmp = TXC_LINES;
	else if (!g->function && strcmp(type, "tokens") == 0) {
		g->tcmp = TXC_TOKENS;
		/* tokens compare floats only when a tolerance is given */
		if (!json_object_object_get_ex(cmp, "rel_tol", &t))
			g->cmp.rel_tol = 0;
	} else
		return bad(g, "comparator.type must be one of %s.", g->function ?
		    "'exact', 'float', 'unordered' (function mode)" :
		    "'exact', 'lines', 'tokens' (program mode)");
	return PYX_OK;
}

static enum pyx_err
parse_fcase(struct grade *g, size_t i, struct json_object *o)
{
	struct gcase		*gc = &g->cases[i];
	struct json_object	*a = NULL, *k = NULL, *x;

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "args") != 0 && strcmp(key, "kwargs") != 0 &&
		    strcmp(key, "expected") != 0)
			return bad(g, "cases[%zu]: unknown field '%.64s' "
			    "(function mode: args, kwargs, expected).", i, key);
	}
	if (!json_object_object_get_ex(o, "expected", &x))
		return bad(g, "cases[%zu]: 'expected' is required.", i);
	if (json_object_object_get_ex(o, "args", &a) && a != NULL &&
	    !json_object_is_type(a, json_type_array))
		return bad(g, "cases[%zu]: 'args' must be an array, not %s.", i,
		    jtype(a));
	if (json_object_object_get_ex(o, "kwargs", &k) && k != NULL &&
	    !json_object_is_type(k, json_type_object))
		return bad(g, "cases[%zu]: 'kwargs' must be an object, not %s.",
		    i, jtype(k));
	if ((a != NULL && json_to_pv(a, &gc->args) == -1) ||
	    (k != NULL && json_to_pv(k, &gc->kwargs) == -1) ||
	    json_to_pv(x, &gc->expected) == -1)
		return bad(g, "cases[%zu]: an integer is out of JSON's exact "
		    "range here (-2^63 < n < 2^64 - 1); give it in io_cases, "
		    "where integers of any size are exact.", i);
	gc->args.kind = PV_TUPLE;
	if (k == NULL)
		gc->kwargs.kind = PV_DICT;
	gc->expected_json = json_object_get(x);
	return PYX_OK;
}

static enum pyx_err
parse_iocase(struct grade *g, size_t i, struct json_object *o)
{
	struct gcase		*gc = &g->cases[i];
	struct json_object	*in, *out;
	struct pv		 v;
	const char		*s;
	size_t			 n, j;
	char			 err[200];

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "input", &in) ||
	    !json_object_object_get_ex(o, "output", &out) ||
	    json_object_object_length(o) != 2 ||
	    !json_object_is_type(in, json_type_string) ||
	    !json_object_is_type(out, json_type_string))
		return bad(g, "io_cases[%zu] must be an object with the string "
		    "fields 'input' and 'output'.", i);
	s = json_object_get_string(in);
	n = (size_t)json_object_get_string_len(in);
	for (j = 0; j < n && strchr(" \t\r\n", s[j]) != NULL; j++)
		;
	gc->kwargs.kind = PV_DICT;
	gc->args.kind = PV_TUPLE;
	if (j < n) {
		if (pylit_parse(s, n, PYLIT_KWARGS, &v, err, sizeof(err)) == -1)
			return bad(g, "io_cases[%zu].input is not a Python "
			    "literal or keyword pairs: %s.", i, err);
		/* Keyword pairs start with a name; a dict literal with '{'. */
		if (v.kind == PV_DICT && s[j] != '{')
			gc->kwargs = v;
		else {
			gc->args.items = xcalloc(1, sizeof(struct pv));
			gc->args.items[0] = v;
			gc->args.n = 1;
		}
	}
	if (pylit_parse(json_object_get_string(out),
	    (size_t)json_object_get_string_len(out), 0, &gc->expected, err,
	    sizeof(err)) == -1)
		return bad(g, "io_cases[%zu].output is not a Python literal: %s.",
		    i, err);
	return PYX_OK;
}

static enum pyx_err
parse_pcase(struct grade *g, size_t i, struct json_object *o)
{
	const struct config	*cfg = &g->c->w->cfg;
	struct gcase		*gc = &g->cases[i];
	struct json_object	*in = NULL, *x;

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "stdin") != 0 &&
		    strcmp(key, "expected_stdout") != 0)
			return bad(g, "cases[%zu]: unknown field '%.64s' "
			    "(program mode: stdin, expected_stdout).", i, key);
	}
	if (!json_object_object_get_ex(o, "expected_stdout", &x) ||
	    !json_object_is_type(x, json_type_string))
		return bad(g, "cases[%zu]: 'expected_stdout' (a string) is "
		    "required.", i);
	if (json_object_object_get_ex(o, "stdin", &in) && in != NULL) {
		if (!json_object_is_type(in, json_type_string))
			return bad(g, "cases[%zu]: 'stdin' must be a string, "
			    "not %s.", i, jtype(in));
		if ((long long)json_object_get_string_len(in) >
		    cfg->max_stdin_bytes)
			return bad(g, "cases[%zu]: 'stdin' exceeds %lld bytes.",
			    i, cfg->max_stdin_bytes);
		gc->stdin_len = (size_t)json_object_get_string_len(in);
		gc->stdin_data = xstrndup(json_object_get_string(in),
		    gc->stdin_len);
	}
	gc->exp_len = (size_t)json_object_get_string_len(x);
	gc->exp_out = xstrndup(json_object_get_string(x), gc->exp_len);
	return PYX_OK;
}

static enum pyx_err
parse_grade(struct grade *g, struct json_object *root)
{
	const struct config	*cfg = &g->c->w->cfg;
	struct json_object	*ep, *cases = NULL, *io = NULL, *tl, *it;
	enum pyx_err		 e;
	size_t			 i;
	int64_t			 t;

	if (json_object_object_get_ex(root, "entry_point", &ep) && ep != NULL) {
		if (!json_object_is_type(ep, json_type_string))
			return bad(g, "'entry_point' must be a string, not %s.",
			    jtype(ep));
		if (json_object_get_string_len(ep) > ENTRY_MAX ||
		    !entry_ok(json_object_get_string(ep)))
			return bad(g, "'entry_point' must be a name, "
			    "Class().method or Class.method.");
		g->function = true;
		strlcpy(g->entry, json_object_get_string(ep), sizeof(g->entry));
	}
	(void)json_object_object_get_ex(root, "cases", &cases);
	(void)json_object_object_get_ex(root, "io_cases", &io);
	if (cases != NULL && io != NULL)
		return bad(g, "Give either 'cases' or 'io_cases', not both.");
	if (io != NULL && !g->function)
		return bad(g, "'io_cases' need an 'entry_point'.");
	if (cases == NULL && io == NULL)
		return bad(g, "'cases' (or, with an entry_point, 'io_cases') is "
		    "required.");
	g->io = io != NULL;
	if (io != NULL)
		cases = io;
	if (!json_object_is_type(cases, json_type_array))
		return bad(g, "'%s' must be an array, not %s.", g->io ?
		    "io_cases" : "cases", jtype(cases));
	g->n = json_object_array_length(cases);
	if (g->n == 0)
		return bad(g, "'%s' is empty.", g->io ? "io_cases" : "cases");
	if (g->n > (size_t)cfg->max_cases)
		return bad(g, "Too many cases: %zu (max_cases is %d).", g->n,
		    cfg->max_cases);
	g->cmp.json_expected = !g->io;
	if ((e = parse_comparator(g, root)) != PYX_OK)
		return e;
	/*
	 * The request's limits (request.c: the server's, or lower ones in
	 * "limits") hold for every case; a per-case time may lower the time
	 * further, and is what request_context.limits then says.
	 */
	g->time_limit = g->c->req.limits.time_limit_seconds;
	if (json_object_object_get_ex(root, "time_limit_per_case_seconds",
	    &tl) && tl != NULL) {
		if (!json_object_is_type(tl, json_type_int))
			return bad(g, "'time_limit_per_case_seconds' must be an "
			    "integer, not %s.", jtype(tl));
		t = json_object_get_int64(tl);
		if (t < 1 || t > g->time_limit)
			return bad(g, "'time_limit_per_case_seconds' must be "
			    "from 1 to %d (%s).", g->time_limit,
			    g->time_limit < cfg->time_limit_seconds ?
			    "limits.time_limit_seconds" : "time_limit_seconds");
		g->time_limit = (int)t;
		g->c->req.limits.time_limit_seconds = g->time_limit;
	}
	if ((e = get_bool(g, root, "stop_on_first_failure", &g->stop_first)) !=
	    PYX_OK)
		return e;
	g->cases = xcalloc(g->n, sizeof(*g->cases));
	g->res = xcalloc(g->n, sizeof(*g->res));
	for (i = 0; i < g->n; i++) {
		it = json_object_array_get_idx(cases, i);
		if (!g->io && !json_object_is_type(it, json_type_object))
			return bad(g, "cases[%zu] must be an object, not %s.", i,
			    jtype(it));
		e = g->io ? parse_iocase(g, i, it) : g->function ?
		    parse_fcase(g, i, it) : parse_pcase(g, i, it);
		if (e != PYX_OK)
			return e;
	}
	return PYX_OK;
}

/* ------------------------------------------------------------------ */

static void
lane_end_case(struct lane *l)
{
	const struct config	*cfg = l->rn.cfg;

	run_free(&l->run);
	run_init(&l->run, cfg);
	free(l->req.att);
	free(l->casefile);
	l->casefile = NULL;
	memset(&l->req, 0, sizeof(l->req));
	l->idx = -1;
}

/* Ends a lane's case server and its jail, and the cgroup they were in. */
static void
lane_server_end(struct lane *l)
{
	bool	 was = l->srv.started;

	sup_lane_down(&l->srv);
	run_init(&l->srv, l->rn.cfg);
	if (was)
		cg_run_end(l->rn.cg);
}

/* Gives a lane's slot, cgroups and mount point back. */
static void
lane_close(struct lane *l)
{
	if (l->idx >= 0)
		lane_end_case(l);
	run_free(&l->run);
	lane_server_end(l);
	run_free(&l->srv);
	if (l->jaildir_made && rmdir(l->jaildir) == -1)
		log_warn("rmdir %s", l->jaildir);
	l->jaildir_made = false;
	if (l->cg_made)
		cg_lane_free(&l->cg);
	l->cg_made = false;
	if (l->slot != NULL)
		slots_release(l->slot);
	l->slot = NULL;
}

static void
grade_free(struct grade *g)
{
	size_t	 i;

	for (i = 0; i < g->nlanes; i++)
		lane_close(&g->lanes[i]);
	free(g->lanes);
	for (i = 0; g->cases != NULL && i < g->n; i++) {
		pv_free(&g->cases[i].args);
		pv_free(&g->cases[i].kwargs);
		pv_free(&g->cases[i].expected);
		json_object_put(g->cases[i].expected_json);
		free(g->cases[i].stdin_data);
		free(g->cases[i].exp_out);
	}
	free(g->cases);
	for (i = 0; g->res != NULL && i < g->n; i++)
		json_object_put(g->res[i]);
	free(g->res);
	memset(g, 0, sizeof(*g));
}

/*
 * The request's slot is lane 0; more lanes while slots are free at this
 * instant (never waiting), up to one per case.
 */
static enum pyx_err
open_lanes(struct grade *g)
{
	struct exec_ctx		*c = g->c;
	const struct config	*cfg = &c->w->cfg;
	struct lane		*l;
	size_t			 want, k;
	char			 err[256];

	want = g->n < (size_t)cfg->max_concurrent ? g->n :
	    (size_t)cfg->max_concurrent;
	if (want > JAIL_NETNS_LANES)
		want = JAIL_NETNS_LANES;
	g->lanes = xcalloc(want, sizeof(*g->lanes));
	for (k = 0; k < want; k++) {
		l = &g->lanes[k];
		run_init(&l->run, cfg);
		run_init(&l->srv, cfg);
		slots_init(&l->own);
		l->idx = -1;
		l->rn = c->w->runner;
		if (k == 0) {
			l->slot = &c->slot;
			l->rn.cg = &c->w->cg;
		} else {
			if (slots_acquire(&l->own, cfg->runtime_dir,
			    cfg->max_concurrent, err, sizeof(err)) != SLOTS_OK)
				break;
			l->slot = &l->own;
			if (cg_lane(&c->w->cg, &l->cg, (int)k) == -1) {
				slots_release(&l->own);
				l->slot = NULL;
				break;
			}
			l->cg_made = true;
			l->rn.cg = &l->cg;
		}
		g->nlanes = k + 1;
		if (snprintf(l->jaildir, sizeof(l->jaildir), "%s/jail.%ld.XXXXXX",
		    cfg->runtime_dir, (long)getpid()) >= (int)sizeof(l->jaildir) ||
		    mkdtemp(l->jaildir) == NULL) {
			log_warn("mkdtemp in %s", cfg->runtime_dir);
			return PYX_E_INTERNAL;
		}
		l->jaildir_made = true;
	}
	return PYX_OK;
}

/* The case file boot.py reads: format line, entry, args, kwargs, cap. */
static void
make_casefile(struct grade *g, struct lane *l, const struct gcase *gc)
{
	char	*a, *k;
	size_t	 al, kl, n;

	a = pylit_write(&gc->args, &al);
	k = pylit_write(&gc->kwargs, &kl);
	n = strlen(g->entry) + al + kl + 64;
	l->casefile = xmalloc(n);
	l->casefile_len = (size_t)snprintf(l->casefile, n,
	    "pyexec-case 1\n%s\n%s\n%s\n%lld\n", g->entry, a, k,
	    g->c->req.limits.max_output_bytes);
	free(a);
	free(k);
}

/*
 * The worker's children that are ours to reap, not the zygote client's
 * strays: the lanes' jails in flight, cases (exec mode, or each from the
 * zygote) and case servers.
 */
static void
zyg_busy(struct grade *g, pid_t *busy)
{
	struct zygote	*z = &g->c->w->zyg;
	size_t		 k;

	z->nbusy = 0;
	for (k = 0; k < g->nlanes; k++) {
		if (g->lanes[k].idx >= 0 && g->lanes[k].run.pid > 0)
			busy[z->nbusy++] = g->lanes[k].run.pid;
		if (g->lanes[k].srv.pid > 0)
			busy[z->nbusy++] = g->lanes[k].srv.pid;
	}
	z->busy = busy;
}

static uint32_t
lane_netns(const struct grade *g, const struct lane *l)
{
	/*
	 * Concurrent cases must not share the zygote's netns (abstract Unix
	 * sockets): each lane has one of its own, kept by the zygote.
	 */
	return g->nlanes > 1 ? (uint32_t)(l - g->lanes) + 1 : 0;
}

/*
 * Forked cases: the lane's server, a jail with the request's limits in
 * the lane's slot, cgroups and network namespace, cloned by the zygote
 * once per lane (again only if a case ended it).
 */
static enum pyx_err
lane_server(struct grade *g, struct lane *l)
{
	struct exec_ctx		*c = g->c;
	pid_t			 busy[2 * JAIL_NETNS_LANES];
	enum pyx_err		 e;

	if (l->srv.started)
		return PYX_OK;
	run_free(&l->srv);
	run_init(&l->srv, l->rn.cfg);
	run_set_limits(&l->srv, &c->req.limits);
	l->srv.netns_lane = lane_netns(g, l);
	zyg_busy(g, busy);
	e = sup_lane_up(&l->srv, &l->rn, &c->req.limits, l->jaildir, c->admin,
	    l->slot->index, l->slot->fd);
	c->w->zyg.busy = NULL;
	c->w->zyg.nbusy = 0;
	if (e != PYX_OK) {
		l->srv.started = true;	/* its cgroup, if any, to end */
		lane_server_end(l);
		return e;
	}
	l->srv.started = true;
	return PYX_OK;
}

static enum pyx_err
start_case_once(struct grade *g, struct lane *l, size_t i)
{
	struct exec_ctx		*c = g->c;
	const struct exec_req	*sub = &c->req;
	const struct config	*cfg = &c->w->cfg;
	const struct gcase	*gc = &g->cases[i];
	pid_t			 busy[2 * JAIL_NETNS_LANES];
	enum pyx_err		 e;

	run_init(&l->run, cfg);
	run_set_limits(&l->run, &sub->limits);
	l->run.time_limit = g->time_limit;
	/* The client's hang-up stops every case at once (run_cases). */
	l->run.watch_fd = c->http->conn_fd;
	l->run.netns_lane = lane_netns(g, l);
	if (g->forks)
		l->run.lane_sock = l->srv.fd_data;
	l->idx = (long)i;
	l->req = *sub;
	l->req.ret = NULL;
	l->req.nret = 0;
	l->req.api_key = NULL;
	l->req.api_key_len = 0;
	l->req.att = xcalloc(sub->natt + 1, sizeof(*l->req.att));
	if (sub->natt > 0)
		memcpy(l->req.att, sub->att, sub->natt * sizeof(*sub->att));
	if (g->function) {
		make_casefile(g, l, gc);
		l->req.att[sub->natt] = (struct attachment){
		    (char *)(uintptr_t)PYX_CASE_NAME, (uint8_t *)l->casefile,
		    l->casefile_len };
		l->req.natt = sub->natt + 1;
		l->run.extra_files = 1;
		/* The value comes back on the verdict channel. */
		buf_free(&l->run.verdict);
		buf_init(&l->run.verdict, (size_t)sub->limits.max_output_bytes +
		    GRADE_TB_MAX + GRADE_MSG_MAX + 4096);
	} else {
		l->req.stdin_data = gc->stdin_data;
		l->req.stdin_len = gc->stdin_len;
		l->req.stdin_provided = gc->stdin_len > 0;
	}
	/* The other lanes' inits are not strays for the zygote to reap. */
	zyg_busy(g, busy);
	e = sup_start(&l->run, &l->rn, &l->req, l->jaildir, c->admin,
	    l->slot->index, l->slot->fd);
	c->w->zyg.busy = NULL;
	c->w->zyg.nbusy = 0;
	return e;
}

static enum pyx_err
start_case(struct grade *g, struct lane *l, size_t i)
{
	enum pyx_err	 e;
	int		 attempt;

	for (attempt = 0; ; attempt++) {
		if (g->forks && (e = lane_server(g, l)) != PYX_OK)
			return e;
		e = start_case_once(g, l, i);
		if (e != PYX_E_RESTARTING || !g->forks || attempt > 0)
			return e;
		/*
		 * The server was gone: a case before this one ended the
		 * lane's jail (at its memory limit the cgroup kills the whole
		 * group). Nothing of this case ran; a new server, once.
		 */
		log_info("/evaluate: a lane's case server is gone; starting "
		    "another");
		lane_end_case(l);
		lane_server_end(l);
	}
}

static void
add_stream(struct json_object *o, const char *name, const struct buf *b,
    size_t cap)
{
	char	*clean, key[32];
	size_t	 len, cl;
	bool	 lossy, cut;

	len = b->len;
	cut = b->truncated || len > cap;
	if (len > cap)
		len = cap;
	if (cut)
		len = utf8_complete_len(b->data, len);
	clean = utf8_sanitize(b->data ? b->data : "", len, &cl, &lossy);
	json_object_object_add(o, name, json_object_new_string_len(clean,
	    (int)cl));
	free(clean);
	snprintf(key, sizeof(key), "%s_truncated", name);
	json_object_object_add(o, key, json_object_new_boolean(cut));
}

static struct json_object *
error_obj(const char *type, size_t tlen, const char *msg, size_t mlen,
    const char *tb, size_t tblen)
{
	struct json_object	*o = json_object_new_object();
	char			*clean;
	size_t			 cl;
	bool			 lossy;

	if (tlen > 200)
		tlen = utf8_complete_len(type, 200);
	if (mlen > GRADE_MSG_MAX)
		mlen = utf8_complete_len(msg, GRADE_MSG_MAX);
	if (tblen > GRADE_TB_MAX) {
		tb += tblen - GRADE_TB_MAX;
		tblen = GRADE_TB_MAX;
		while (tblen > 0 && (*tb & 0xc0) == 0x80) {
			tb++;
			tblen--;
		}
	}
	clean = utf8_sanitize(type, tlen, &cl, &lossy);
	json_object_object_add(o, "type", json_object_new_string_len(clean,
	    (int)cl));
	free(clean);
	clean = utf8_sanitize(msg, mlen, &cl, &lossy);
	json_object_object_add(o, "message", json_object_new_string_len(clean,
	    (int)cl));
	free(clean);
	clean = utf8_sanitize(tb ? tb : "", tb ? tblen : 0, &cl, &lossy);
	json_object_object_add(o, "traceback", cl > 0 ?
	    json_object_new_string_len(clean, (int)cl) : NULL);
	free(clean);
	return o;
}

static struct json_object *
error_simple(const char *type, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct json_object *
error_simple(const char *type, const char *fmt, ...)
{
	va_list	 ap;
	char	 m[256];

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	return error_obj(type, strlen(type), m, strlen(m), NULL, 0);
}

/* Why a run gave no value (or no clean exit), from how it ended. */
static struct json_object *
termination_error(const struct grade *g, const struct run *r)
{
	switch (r->term) {
	case TERM_TIMEOUT:
		return error_simple("TimeoutError", "The case exceeded its "
		    "time limit of %d seconds.", g->time_limit);
	case TERM_CPU:
		return error_simple("TimeoutError", "The case exceeded its CPU "
		    "time limit of %d seconds.", g->time_limit);
	case TERM_MEMORY:
		return error_simple("MemoryError", "The case exceeded its "
		    "memory limit.");
	case TERM_OUTPUT:
		return error_simple("OutputLimitExceeded", "The case wrote more "
		    "than %lld bytes to stdout or stderr.",
		    g->c->req.limits.max_output_bytes);
	case TERM_SIGNALED:
		return error_simple("Crashed", "The case was killed by signal "
		    "%d.", r->signal);
	default:
		return NULL;
	}
}

/*
 * Program mode: a traceback's last line "Name: message" names the error;
 * the traceback is the stderr from its last "Traceback" line.
 */
static struct json_object *
stderr_error(const struct run *r)
{
	const char	*s = r->err.data ? r->err.data : "", *end, *line, *p;
	const char	*tb;
	size_t		 n = r->err.len, i;
	char		 m[64];

	end = s + n;
	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (line = end; line > s && line[-1] != '\n'; line--)
		;
	tb = NULL;
	for (i = n; i-- > 0;)
		if (n - i >= 34 && memcmp(s + i, "Traceback (most recent call "
		    "last):", 34) == 0) {
			tb = s + i;
			break;
		}
	p = memchr(line, ':', (size_t)(end - line));
	if (tb != NULL && p != NULL && p > line) {
		for (i = 0; line + i < p && (line[i] == '_' || line[i] == '.' ||
		    (line[i] >= 'a' && line[i] <= 'z') ||
		    (line[i] >= 'A' && line[i] <= 'Z') ||
		    (line[i] >= '0' && line[i] <= '9')); i++)
			;
		if (line + i == p) {
			p++;
			while (p < end && *p == ' ')
				p++;
			return error_obj(line, i, p, (size_t)(end - p), tb,
			    (size_t)(s + n - tb));
		}
	}
	snprintf(m, sizeof(m), "The program exited with status %d.",
	    r->exit_code);
	return error_obj("NonZeroExit", 11, m, strlen(m), tb ? tb : NULL,
	    tb ? (size_t)(s + n - tb) : 0);
}

/*
 * Function mode: what boot.py sent after "ok": one "value" or "error"
 * line, parsed strictly; anything else is the case's error.
 */
static struct json_object *
value_or_error(const struct grade *g, struct run *r, struct pv *got,
    bool *have)
{
	const char	*s = r->verdict.data, *nl, *body;
	size_t		 n = r->verdict.len, blen;
	struct pv	 e;
	struct json_object *o;
	char		 err[200];

	*have = false;
	if (s == NULL || (nl = memchr(s, '\n', n)) == NULL) {
		if ((o = termination_error(g, r)) != NULL)
			return o;
		return error_simple("NoResult", "The submission ended before "
		    "the harness started.");
	}
	body = nl + 1;
	blen = (size_t)(s + n - body);
	if (r->vover)
		return error_simple("UnsupportedType", "The returned value is "
		    "larger than %lld bytes.", g->c->req.limits.max_output_bytes);
	if (blen == 0 || body[blen - 1] != '\n') {
		if ((o = termination_error(g, r)) != NULL)
			return o;
		return error_simple("NoResult", "The submission exited (status "
		    "%d) before the entry point returned.", r->exit_code);
	}
	blen--;
	if (blen > 6 && memcmp(body, "value\t", 6) == 0) {
		if (memchr(body, '\n', blen) != NULL ||
		    pylit_parse(body + 6, blen - 6, 0, got, err,
		    sizeof(err)) == -1)
			return error_simple("InvalidResult", "The value sent "
			    "back could not be read: %s.", err);
		*have = true;
		return NULL;
	}
	if (blen > 6 && memcmp(body, "error\t", 6) == 0 &&
	    memchr(body, '\n', blen) == NULL &&
	    pylit_parse(body + 6, blen - 6, 0, &e, err, sizeof(err)) == 0) {
		if (e.kind == PV_TUPLE && e.n == 3 &&
		    e.items[0].kind == PV_STR && e.items[1].kind == PV_STR &&
		    e.items[2].kind == PV_STR) {
			o = error_obj(e.items[0].s, e.items[0].len, e.items[1].s,
			    e.items[1].len, e.items[2].s, e.items[2].len);
			pv_free(&e);
			return o;
		}
		pv_free(&e);
	}
	return error_simple("InvalidResult", "The result channel held "
	    "something else than one value or error.");
}

static void
record_case(struct grade *g, struct lane *l)
{
	struct run		*r = &l->run;
	const struct gcase	*gc = &g->cases[l->idx];
	struct json_object	*o, *err = NULL, *got = NULL;
	struct pv		 v;
	bool			 have = false, passed = false;

	memset(&v, 0, sizeof(v));
	o = json_object_new_object();
	json_object_object_add(o, "case", json_object_new_int64(l->idx));
	if (g->function) {
		err = value_or_error(g, r, &v, &have);
		if (have) {
			passed = pv_equal(&v, &gc->expected, &g->cmp);
			got = pv_to_json(&v);
		}
	} else {
		if (r->term != TERM_EXITED)
			err = termination_error(g, r);
		else if (r->exit_code != 0)
			err = stderr_error(r);
		passed = err == NULL && !r->out.truncated &&
		    text_equal(r->out.data ? r->out.data : "", r->out.len,
		    gc->exp_out, gc->exp_len, g->tcmp, g->cmp.rel_tol,
		    g->cmp.abs_tol);
	}
	json_object_object_add(o, "passed", json_object_new_boolean(passed));
	if (g->function) {
		json_object_object_add(o, "got", got);
		json_object_object_add(o, "expected", gc->expected_json ?
		    json_object_get(gc->expected_json) :
		    pv_to_json(&gc->expected));
	} else {
		add_stream(o, "got", &r->out, GRADE_STREAM_MAX);
		json_object_object_del(o, "got_truncated");
		json_object_object_add(o, "expected", json_object_new_string_len(
		    gc->exp_out, (int)gc->exp_len));
	}
	json_object_object_add(o, "error", err);
	json_object_object_add(o, "termination",
	    json_object_new_string(resp_term_name(r->term)));
	json_object_object_add(o, "exit_code", r->term == TERM_EXITED ?
	    json_object_new_int(r->exit_code) : NULL);
	json_object_object_add(o, "duration_sec", json_object_new_double(
	    round(r->wall_sec * 1e4) / 1e4));
	json_object_object_add(o, "cpu_time_sec", json_object_new_double(
	    round(r->cpu_sec * 1e4) / 1e4));
	json_object_object_add(o, "max_rss_kb",
	    json_object_new_int64(r->maxrss_kb));
	add_stream(o, "stdout", &r->out, GRADE_STREAM_MAX);
	add_stream(o, "stderr", &r->err, GRADE_STREAM_MAX);
	pv_free(&v);
	g->res[l->idx] = o;
	if (passed)
		g->passed++;
	else if (g->stop_first)
		g->stopped = true;
}

/*
 * A case's run is over: reap it, judge it. A jail that could not be
 * built fails the whole request (500/503, as /execute); a submission the
 * bootstrap refused (syntax, imports) too, as /execute's 400.
 */
static enum pyx_err
finish_case(struct grade *g, struct lane *l)
{
	struct exec_ctx	*c = g->c;
	enum pyx_err	 e;

	e = sup_finish(&l->run, &l->rn);
	if (e != PYX_OK)
		return e;
	met_run(l->run.term, l->run.oom_killed, l->run.wall_sec);
	if (l->run.verdict_info.kind == VERDICT_SYNTAX ||
	    l->run.verdict_info.kind == VERDICT_FORBIDDEN) {
		run_free(&c->run);
		c->run = l->run;	/* verdict_error reads it from there */
		run_init(&l->run, &c->w->cfg);
		return verdict_error(c);
	}
	record_case(g, l);
	lane_end_case(l);
	return PYX_OK;
}

static enum pyx_err
run_cases(struct grade *g)
{
	struct pollfd	*pfd;
	size_t		 next = 0, k, np, busy;
	int		 timeout, t;
	enum pyx_err	 e = PYX_OK;

	pfd = xcalloc(g->nlanes * SUP_NFDS, sizeof(*pfd));
	for (;;) {
		/* Idle lanes take the next case, or give their slot back. */
		for (k = 0; k < g->nlanes; k++) {
			struct lane	*l = &g->lanes[k];

			if (l->idx >= 0 || l->slot == NULL)
				continue;
			if (next < g->n && !g->stopped && mono_now() -
			    g->c->t0 + g->time_limit > EVAL_BUDGET) {
				log_warnx("/evaluate: %zu of %zu cases left out "
				    "after %d s", g->n - next, g->n, EVAL_BUDGET);
				g->stopped = true;
			}
			if (next < g->n && !g->stopped) {
				if ((e = start_case(g, l, next++)) != PYX_OK) {
					if (e == PYX_E_RESTARTING)
						g->c->retry_after = 1;
					goto out;
				}
			} else
				lane_close(l);
		}
		busy = 0;
		timeout = 1000;
		for (k = 0, np = 0; k < g->nlanes; k++) {
			if (g->lanes[k].idx < 0)
				continue;
			t = sup_pollfds(&g->lanes[k].run, pfd + np);
			timeout = t < timeout ? t : timeout;
			np += SUP_NFDS;
			busy++;
		}
		if (busy == 0)
			break;
		if (poll(pfd, (nfds_t)np, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			for (k = 0; k < g->nlanes; k++)
				if (g->lanes[k].idx >= 0)
					sup_abort(&g->lanes[k].run);
		}
		for (k = 0, np = 0; k < g->nlanes; k++) {
			struct lane	*l = &g->lanes[k];

			if (l->idx < 0)
				continue;
			sup_step(&l->run, &l->req, pfd + np);
			np += SUP_NFDS;
			/* Nobody will read the answer: start no more cases. */
			if (l->run.term == TERM_ABORTED)
				g->stopped = true;
			if (sup_done(&l->run) && (e = finish_case(g, l)) !=
			    PYX_OK)
				goto out;
		}
	}
out:
	free(pfd);
	return e;
}

static void
build_reply(struct grade *g)
{
	struct json_object	*o, *arr;
	size_t			 i, ran = 0;

	arr = json_object_new_array();
	for (i = 0; i < g->n; i++)
		if (g->res[i] != NULL) {
			json_object_array_add(arr, g->res[i]);
			g->res[i] = NULL;
			ran++;
		}
	o = json_object_new_object();
	json_object_object_add(o, "passed",
	    json_object_new_boolean(ran == g->n && g->passed == g->n));
	json_object_object_add(o, "passed_count",
	    json_object_new_int64((int64_t)g->passed));
	json_object_object_add(o, "total", json_object_new_int64((int64_t)g->n));
	json_object_object_add(o, "case_results", arr);
	g->c->extra_body = o;
}

static enum pyx_err
do_evaluate(struct exec_ctx *c, struct grade *g)
{
	const struct config	*cfg = &c->w->cfg;
	struct json_object	*root = NULL;
	enum pyx_err		 e;

	if ((e = read_json_body(c)) != PYX_OK)
		return e;
	e = req_parse_ex(cfg, c->body, c->body_len, &c->req, &root, c->errmsg,
	    sizeof(c->errmsg));
	/* The body may carry the admin key: leave no copy of it behind. */
	explicit_bzero(c->body, c->body_len);
	free(c->body);
	c->body = NULL;
	if (e != PYX_OK)
		return e;
	e = parse_grade(g, root);
	json_object_put(root);
	if (e != PYX_OK)
		return e;
	/* The caller's role as /execute decides it: body key or Bearer. */
	e = admit_caller(c->w, c->http, c->req.api_key, c->req.api_key_len,
	    &c->admin);
	if (c->req.api_key != NULL)
		explicit_bzero(c->req.api_key, c->req.api_key_len);
	if (c->http->authorization != NULL)
		explicit_bzero((char *)(uintptr_t)c->http->authorization,
		    strlen(c->http->authorization));
	if (e != PYX_OK)
		return e;
	/* One request per case, all or none, before any case runs. */
	c->charge = (int)g->n;
	if ((e = admit(c)) != PYX_OK) {
		if (e == PYX_E_RATE_LIMIT && g->n > 1 && c->quota.minute_limit <
		    (long long)g->n)
			ctx_fail(c, e, "This request has %zu cases, each charged "
			    "as one request, and the rate limit is %d per "
			    "minute.", g->n, cfg->rate_limit_per_minute);
		return e;
	}
	g->forks = cfg->mode == MODE_ZYGOTE && cfg->forked_cases;
	if ((e = open_lanes(g)) != PYX_OK)
		return e;
	if ((e = run_cases(g)) != PYX_OK)
		return e;
	build_reply(g);
	return PYX_OK;
}

enum pyx_err
route_evaluate(struct exec_ctx *c, struct http_reply *rep)
{
	struct grade	 g;

	(void)rep;
	memset(&g, 0, sizeof(g));
	g.c = c;
	c->err = do_evaluate(c, &g);
	grade_free(&g);
	admit_status(c);
	return c->err;
}
