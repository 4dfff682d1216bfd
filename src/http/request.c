/*
 * request.c: the only code that parses a request body. JSON in, a fully
 * validated struct exec_req out, or an error naming the offending field.
 *
 * Every byte here is hostile. Rules: unknown fields are rejected, types are
 * exact (null counts as absent only for optional fields), sizes are checked
 * before anything is decoded, names are checked before anything is written,
 * and the JSON tree is freed before returning so that only owned, decoded
 * copies survive. Never calls Python; never touches the filesystem.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/common.h"
#include "common/pylit.h"
#include "http/http.h"

#define REQ_JSON_DEPTH	8	/* the deepest valid request is 4 levels */
#define API_KEY_MAX	1024

/*
 * json-c builds the whole tree before any field can be checked, and each
 * value costs it far more than its spelling: "{}," is 3 bytes of input and
 * a hash table of a few hundred bytes in memory (a 1 MB body of them took
 * a worker to 268 MB). So the shape is counted first, in one pass that
 * allocates nothing, and a body holding more than a valid request can is
 * refused before json-c sees it. A valid request has one root object of
 * at most 6 members, an attachments array of objects of 2 members each,
 * a return_files array of strings and a limits object of 4 members: at
 * most max_attachments + 4 containers, 10 + 3 * max_attachments +
 * max_return_files members, 3 levels. The limits allow twice that and more, so that an over-long
 * array still gets its own, precise message from the field checks.
 */
struct shape_limits {
	size_t		 containers;
	size_t		 members;
	int		 depth;
};

static void
shape_limits(const struct config *cfg, struct shape_limits *l)
{
	size_t	 att = (size_t)cfg->max_attachments;
	size_t	 ret = (size_t)cfg->max_return_files;

	l->containers = 2 * (att + 4) + 16;
	l->members = 2 * (10 + 3 * att + ret) + 64;
	l->depth = REQ_JSON_DEPTH;
}

static int	 shape_check(const struct config *, const char *, size_t, bool,
		    char *, size_t);

/*
 * Counts containers, members (every ',' outside a string separates two,
 * and every container may hold a first one) and nesting depth. Syntax is
 * json-c's to judge afterwards; this only has to skip strings exactly
 * (a '\' escapes the next byte, and strings hold no raw '"').
 */
int
req_shape_check(const struct config *cfg, const char *s, size_t n,
    char *msg, size_t msglen)
{
	return shape_check(cfg, s, n, false, msg, msglen);
}

/*
 * /evaluate: per case a few containers and members plus its values
 * (arguments, expected), which nest up to PYLIT_DEPTH levels below the
 * case; the count of values is bounded by the body size (max_cases
 * cases of EVAL_CASE_VALUES values each).
 */
#define EVAL_JSON_DEPTH		(PYLIT_DEPTH + 5)
#define EVAL_CASE_VALUES	1024

static void
eval_shape_limits(const struct config *cfg, struct shape_limits *l)
{
	size_t	 nc = (size_t)cfg->max_cases;

	shape_limits(cfg, l);
	l->containers += nc * EVAL_CASE_VALUES;
	l->members += nc * EVAL_CASE_VALUES;
	l->depth = EVAL_JSON_DEPTH;
}

static int
shape_check(const struct config *cfg, const char *s, size_t n, bool evaluate,
    char *msg, size_t msglen)
{
	struct shape_limits	 l;
	size_t			 i, containers = 0, commas = 0;
	int			 depth = 0;
	bool			 instr = false;

	if (evaluate)
		eval_shape_limits(cfg, &l);
	else
		shape_limits(cfg, &l);
	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = false;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = true;
			break;
		case '{':
		case '[':
			if (++depth > l.depth) {
				snprintf(msg, msglen, "The request body nests "
				    "deeper than %d levels.", l.depth);
				return -1;
			}
			if (++containers > l.containers) {
				snprintf(msg, msglen, "The request body holds "
				    "more than %zu objects and arrays.",
				    l.containers);
				return -1;
			}
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			if (++commas + containers > l.members) {
				snprintf(msg, msglen, "The request body holds "
				    "more than %zu values.", l.members);
				return -1;
			}
			break;
		}
	}
	return 0;
}

/* Is a == b, or is one a directory prefix of the other? */
static bool
names_clash(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la == lb)
		return memcmp(a, b, la) == 0;
	if (la > lb)
		return memcmp(a, b, lb) == 0 && a[lb] == '/';
	return memcmp(a, b, la) == 0 && b[la] == '/';
}

static const char *
jtype(struct json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

/*
 * Copies a JSON string. It is valid UTF-8: req_parse checked the whole
 * body, and json-c decodes \u escapes to well-formed UTF-8 (a lone
 * surrogate becomes U+FFFD). It may contain NUL bytes from \u0000.
 */
static char *
dup_string(struct json_object *o, size_t *len)
{
	*len = (size_t)json_object_get_string_len(o);
	return xstrndup(json_object_get_string(o), *len);
}

static enum pyx_err
parse_attachments(const struct config *cfg, struct json_object *arr,
    struct exec_req *r, char *msg, size_t msglen)
{
	struct json_object	*it, *fn, *cb, *cb2;
	const char		*why, *b64, *cbname;
	size_t			 i, j, n, b64len, maxenc, nlen;
	int			 nkeys;
	bool			 has_a;

	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(msg, msglen, "'attachments' must be an array, not %s",
		    jtype(arr));
		return PYX_E_VALIDATION;
	}
	n = json_object_array_length(arr);
	if (n > (size_t)cfg->max_attachments) {
		snprintf(msg, msglen, "Too many attachments: %zu (the limit is %d).",
		    n, cfg->max_attachments);
		return PYX_E_VALIDATION;
	}
	r->att = xcalloc(n, sizeof(*r->att));
	/* Line breaks are tolerated: allow CRLF every 64 characters (PEM). */
	maxenc = b64_encoded_len((size_t)cfg->max_file_bytes);
	maxenc += (maxenc / 64 + 1) * 2;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_object)) {
			snprintf(msg, msglen, "attachments[%zu] must be an object "
			    "with 'filename' and 'content_base_64'", i);
			return PYX_E_VALIDATION;
		}
		/*
		 * The original contract spells the content "content_base_64",
		 * replies spell it "content_base64": either is accepted, never
		 * both (which one would win is not the client's guess to make).
		 */
		nkeys = json_object_object_length(it);
		cbname = "content_base_64";
		has_a = json_object_object_get_ex(it, cbname, &cb);
		if (json_object_object_get_ex(it, "content_base64", &cb2)) {
			if (has_a) {
				snprintf(msg, msglen, "attachments[%zu] has both "
				    "'content_base_64' and 'content_base64'; "
				    "give one", i);
				return PYX_E_VALIDATION;
			}
			cb = cb2;
			cbname = "content_base64";
			has_a = true;
		}
		if (!json_object_object_get_ex(it, "filename", &fn) || !has_a ||
		    nkeys != 2) {
			snprintf(msg, msglen, "attachments[%zu] must have exactly "
			    "the fields 'filename' and 'content_base_64' (or "
			    "'content_base64')", i);
			return PYX_E_VALIDATION;
		}
		if (!json_object_is_type(fn, json_type_string)) {
			snprintf(msg, msglen, "attachments[%zu].filename must be "
			    "a string", i);
			return PYX_E_VALIDATION;
		}
		if (!json_object_is_type(cb, json_type_string)) {
			snprintf(msg, msglen, "attachments[%zu].%s must be a "
			    "string", i, cbname);
			return PYX_E_VALIDATION;
		}
		r->att[i].name = dup_string(fn, &nlen);
		r->natt = i + 1;
		if (strlen(r->att[i].name) != nlen ||
		    name_check(r->att[i].name, nlen, &why) == -1) {
			if (strlen(r->att[i].name) != nlen)
				why = "contains a control character";
			snprintf(msg, msglen, "attachments[%zu].filename %s", i, why);
			return PYX_E_VALIDATION;
		}
		if (names_clash(r->att[i].name, PYX_CASE_NAME)) {
			snprintf(msg, msglen, "attachments[%zu]: '%s' is "
			    "reserved for the grader", i, PYX_CASE_NAME);
			return PYX_E_VALIDATION;
		}
		/* "script.py/x" would need script.py to be a directory. */
		if (names_clash(r->att[i].name, PYX_SCRIPT_NAME)) {
			snprintf(msg, msglen, "attachments[%zu].filename: '%s' is "
			    "reserved for the code", i, PYX_SCRIPT_NAME);
			return PYX_E_VALIDATION;
		}
		for (j = 0; j < i; j++) {
			if (names_clash(r->att[i].name, r->att[j].name)) {
				snprintf(msg, msglen, "attachments[%zu].filename "
				    "clashes with attachments[%zu].filename", i, j);
				return PYX_E_VALIDATION;
			}
		}
		b64 = json_object_get_string(cb);
		b64len = (size_t)json_object_get_string_len(cb);
		if (b64len > maxenc) {
			snprintf(msg, msglen, "attachments[%zu] is larger than "
			    "%lld bytes", i, cfg->max_file_bytes);
			return PYX_E_VALIDATION;
		}
		r->att[i].data = xmalloc(b64_decoded_max(b64len));
		if (b64_decode(b64, b64len, r->att[i].data,
		    b64_decoded_max(b64len), &r->att[i].len) == -1) {
			snprintf(msg, msglen, "attachments[%zu].%s is not "
			    "valid base64", i, cbname);
			return PYX_E_VALIDATION;
		}
		if (r->att[i].len > (size_t)cfg->max_file_bytes) {
			snprintf(msg, msglen, "attachments[%zu] is larger than "
			    "%lld bytes", i, cfg->max_file_bytes);
			return PYX_E_VALIDATION;
		}
	}
	return PYX_OK;
}

static enum pyx_err
parse_return_files(const struct config *cfg, struct json_object *arr,
    struct exec_req *r, char *msg, size_t msglen)
{
	struct json_object	*it;
	const char		*why;
	size_t			 i, j, n, nlen, dlen;

	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(msg, msglen, "'return_files' must be an array of "
		    "strings, not %s", jtype(arr));
		return PYX_E_VALIDATION;
	}
	n = json_object_array_length(arr);
	if (n > (size_t)cfg->max_return_files) {
		snprintf(msg, msglen, "Too many return_files: %zu (the limit is "
		    "%d).", n, cfg->max_return_files);
		return PYX_E_VALIDATION;
	}
	r->ret = xcalloc(n, sizeof(*r->ret));
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_string)) {
			snprintf(msg, msglen, "return_files[%zu] must be a "
			    "string", i);
			return PYX_E_VALIDATION;
		}
		r->ret[i] = dup_string(it, &nlen);
		r->nret = i + 1;
		/* "out/": every file beneath out (outputs.c expands it). */
		if (nlen > 1 && r->ret[i][nlen - 1] == '/')
			dlen = nlen - 1;
		else
			dlen = nlen;
		if (strlen(r->ret[i]) != nlen ||
		    name_check(r->ret[i], dlen, &why) == -1) {
			if (strlen(r->ret[i]) != nlen)
				why = "contains a control character";
			snprintf(msg, msglen, "return_files[%zu] %s", i, why);
			return PYX_E_VALIDATION;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(r->ret[i], r->ret[j]) == 0) {
				snprintf(msg, msglen, "return_files[%zu] repeats "
				    "return_files[%zu]", i, j);
				return PYX_E_VALIDATION;
			}
		}
	}
	return PYX_OK;
}

/*
 * "limits": the request may lower any of the server's limits, never raise
 * one (a larger value names the ceiling), and never below what a run
 * needs to start at all (the configuration's own minimums).
 */
static const struct limit_key {
	const char	*name;
	long long	 min;
} limit_keys[] = {
	{ "time_limit_seconds", 1 },
	{ "memory_limit_mb", 32 },
	{ "max_output_bytes", 1024 },
	{ "max_processes", 1 },
};

static enum pyx_err
parse_limits(const struct config *cfg, struct json_object *obj,
    struct exec_req *r, char *msg, size_t msglen)
{
	struct json_object	*v;
	long long		 ceiling[4], val;
	size_t			 i, klen;
	bool			 known;

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(msg, msglen, "'limits' must be an object, not %s",
		    jtype(obj));
		return PYX_E_VALIDATION;
	}
	json_object_object_foreach(obj, key, val0) {
		(void)val0;
		known = false;
		for (i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++)
			known = known || strcmp(key, limit_keys[i].name) == 0;
		if (!known) {
			klen = strlen(key);
			klen = utf8_complete_len(key, klen > 64 ? 64 : klen);
			snprintf(msg, msglen, "Unknown field 'limits.%.*s'.",
			    (int)klen, key);
			return PYX_E_VALIDATION;
		}
	}
	ceiling[0] = cfg->time_limit_seconds;
	ceiling[1] = cfg->memory_limit_mb;
	ceiling[2] = cfg->max_output_bytes;
	ceiling[3] = cfg->max_processes;
	for (i = 0; i < sizeof(limit_keys) / sizeof(limit_keys[0]); i++) {
		if (!json_object_object_get_ex(obj, limit_keys[i].name, &v) ||
		    v == NULL)
			continue;
		/* json-c parses 1.0 as a double and 1e99 as one too. */
		if (!json_object_is_type(v, json_type_int)) {
			snprintf(msg, msglen, "'limits.%s' must be an integer, "
			    "not %s", limit_keys[i].name, jtype(v));
			return PYX_E_VALIDATION;
		}
		errno = 0;
		val = json_object_get_int64(v);
		if (errno != 0 || val > ceiling[i]) {
			snprintf(msg, msglen, "'limits.%s' is above this server's "
			    "limit of %lld.", limit_keys[i].name, ceiling[i]);
			return PYX_E_VALIDATION;
		}
		if (val < limit_keys[i].min) {
			snprintf(msg, msglen, "'limits.%s' must be at least %lld.",
			    limit_keys[i].name, limit_keys[i].min);
			return PYX_E_VALIDATION;
		}
		switch (i) {
		case 0:
			r->limits.time_limit_seconds = (int)val;
			break;
		case 1:
			r->limits.memory_limit_mb = (int)val;
			break;
		case 2:
			r->limits.max_output_bytes = val;
			break;
		default:
			r->limits.max_processes = (int)val;
			break;
		}
	}
	return PYX_OK;
}

/* POST /evaluate's own fields, parsed by evaluate.c. */
static bool
eval_key(const char *key)
{
	static const char *const keys[] = { "entry_point", "cases",
	    "io_cases", "comparator", "time_limit_per_case_seconds",
	    "stop_on_first_failure" };
	size_t	 i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static enum pyx_err
parse_fields(const struct config *cfg, struct json_object *root,
    struct exec_req *r, bool evaluate, char *msg, size_t msglen)
{
	struct json_object	*v;
	enum pyx_err		 e;
	size_t			 klen;

	json_object_object_foreach(root, key, val) {
		(void)val;
		if (evaluate && eval_key(key))
			continue;
		if (evaluate && (strcmp(key, "stdin_data") == 0 ||
		    strcmp(key, "return_files") == 0)) {
			snprintf(msg, msglen, "'%s' is not a field of /evaluate "
			    "(program-mode cases carry their own stdin).", key);
			return PYX_E_VALIDATION;
		}
		if (strcmp(key, "code") != 0 && strcmp(key, "stdin_data") != 0 &&
		    strcmp(key, "attachments") != 0 &&
		    strcmp(key, "return_files") != 0 &&
		    strcmp(key, "limits") != 0 &&
		    strcmp(key, "api_key") != 0) {
			/* Echoed in the reply: cut between code points. */
			klen = strlen(key);
			klen = utf8_complete_len(key, klen > 64 ? 64 : klen);
			snprintf(msg, msglen, "Unknown field '%.*s'.", (int)klen,
			    key);
			return PYX_E_VALIDATION;
		}
	}

	if (!json_object_object_get_ex(root, "code", &v) || v == NULL) {
		snprintf(msg, msglen, "The request must contain a 'code' field.");
		return PYX_E_INVALID_REQUEST;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(msg, msglen, "'code' must be a string, not %s", jtype(v));
		return PYX_E_VALIDATION;
	}
	r->code = dup_string(v, &r->code_len);
	if (utf8_count(r->code, r->code_len, &r->code_chars) == -1) {
		snprintf(msg, msglen, "'code' is not valid UTF-8 (lone "
		    "surrogate escape?)");
		return PYX_E_VALIDATION;
	}
	if (r->code_chars > (size_t)cfg->max_code_chars) {
		snprintf(msg, msglen, "Code exceeds maximum length of %d "
		    "characters (got %zu).", cfg->max_code_chars, r->code_chars);
		return PYX_E_VALIDATION;
	}

	if (json_object_object_get_ex(root, "stdin_data", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(msg, msglen, "'stdin_data' must be a string, "
			    "not %s", jtype(v));
			return PYX_E_VALIDATION;
		}
		if ((size_t)json_object_get_string_len(v) >
		    (size_t)cfg->max_stdin_bytes) {
			snprintf(msg, msglen, "'stdin_data' exceeds %lld bytes.",
			    cfg->max_stdin_bytes);
			return PYX_E_VALIDATION;
		}
		r->stdin_data = dup_string(v, &r->stdin_len);
		r->stdin_provided = r->stdin_len > 0;
	}

	if (json_object_object_get_ex(root, "api_key", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(msg, msglen, "'api_key' must be a string, not %s",
			    jtype(v));
			return PYX_E_VALIDATION;
		}
		if ((size_t)json_object_get_string_len(v) > API_KEY_MAX) {
			snprintf(msg, msglen, "'api_key' is too long.");
			return PYX_E_VALIDATION;
		}
		r->api_key = dup_string(v, &r->api_key_len);
	}

	if (json_object_object_get_ex(root, "attachments", &v) && v != NULL &&
	    (e = parse_attachments(cfg, v, r, msg, msglen)) != PYX_OK)
		return e;
	if (json_object_object_get_ex(root, "return_files", &v) && v != NULL &&
	    (e = parse_return_files(cfg, v, r, msg, msglen)) != PYX_OK)
		return e;
	/* Set last: a refused request leaves *r all zero (req_free). */
	cfg_run_limits(cfg, &r->limits);
	if (json_object_object_get_ex(root, "limits", &v) && v != NULL &&
	    (e = parse_limits(cfg, v, r, msg, msglen)) != PYX_OK)
		return e;
	return PYX_OK;
}

enum pyx_err
req_parse(const struct config *cfg, const char *body, size_t len,
    struct exec_req *r, char *msg, size_t msglen)
{
	return req_parse_ex(cfg, body, len, r, NULL, msg, msglen);
}

/*
 * req_parse, or with evalroot set, POST /evaluate's body: the same fields
 * (less stdin_data and return_files) plus the grader's, whose JSON is
 * handed to evaluate.c in *evalroot (the caller's to put). Its shape is
 * bounded by max_cases instead (eval_shape_limits).
 */
enum pyx_err
req_parse_ex(const struct config *cfg, const char *body, size_t len,
    struct exec_req *r, struct json_object **evalroot, char *msg,
    size_t msglen)
{
	struct json_tokener	*tok;
	struct json_object	*root;
	enum json_tokener_error	 jerr;
	enum pyx_err		 e;
	size_t			 end, nchars;

	memset(r, 0, sizeof(*r));
	if (len == 0) {
		snprintf(msg, msglen, "The request body is empty.");
		return PYX_E_VALIDATION;
	}
	if (memchr(body, '\0', len) != NULL) {
		snprintf(msg, msglen, "The request body contains a NUL byte.");
		return PYX_E_VALIDATION;
	}
	/*
	 * JSON text is UTF-8, and names and keys come back in the reply.
	 * json-c's JSON_TOKENER_VALIDATE_UTF8 only checks the shape of
	 * each sequence: it passes overlong forms, surrogates and code
	 * points above U+10FFFF, so check the whole body here.
	 */
	if (utf8_count(body, len, &nchars) == -1) {
		snprintf(msg, msglen, "The request body is not valid UTF-8.");
		return PYX_E_VALIDATION;
	}
	if (evalroot != NULL)
		*evalroot = NULL;
	if (shape_check(cfg, body, len, evalroot != NULL, msg, msglen) == -1)
		return PYX_E_VALIDATION;
	if ((tok = json_tokener_new_ex(evalroot != NULL ? EVAL_JSON_DEPTH :
	    REQ_JSON_DEPTH)) == NULL)
		fatalx("json_tokener_new_ex");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			snprintf(msg, msglen, "The request body is not valid "
			    "JSON: unexpected end of input.");
		else
			snprintf(msg, msglen, "The request body is not valid "
			    "JSON: %s at byte %zu.", json_tokener_error_desc(jerr),
			    end);
		json_object_put(root);
		return PYX_E_VALIDATION;
	}
	for (; end < len; end++) {
		if (strchr(" \t\r\n", body[end]) == NULL) {
			snprintf(msg, msglen, "The request body has data after "
			    "the JSON value (byte %zu).", end);
			json_object_put(root);
			return PYX_E_VALIDATION;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(msg, msglen, "The request body must be a JSON object, "
		    "not %s.", jtype(root));
		json_object_put(root);
		return PYX_E_VALIDATION;
	}
	e = parse_fields(cfg, root, r, evalroot != NULL, msg, msglen);
	if (e == PYX_OK && evalroot != NULL)
		*evalroot = json_object_get(root);
	json_object_put(root);
	if (e != PYX_OK)
		req_free(r);
	return e;
}

void
req_free(struct exec_req *r)
{
	size_t	 i;

	free(r->code);
	free(r->stdin_data);
	for (i = 0; i < r->natt; i++) {
		free(r->att[i].name);
		free(r->att[i].data);
	}
	free(r->att);
	for (i = 0; i < r->nret; i++)
		free(r->ret[i]);
	free(r->ret);
	if (r->api_key != NULL)
		explicit_bzero(r->api_key, r->api_key_len);
	free(r->api_key);
	memset(r, 0, sizeof(*r));
}
