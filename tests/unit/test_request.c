/*
 * test_request.c: req_parse and name_check. Every rejection must leave
 * struct exec_req zeroed (nothing to free, nothing leaked: valgrind.sh
 * checks the latter) and an error message that is non-empty, valid
 * UTF-8 (it ends up in a JSON reply) and names the problem.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "tap.h"

static char			 msg[512];
static struct config		 dflt;	/* the defaults */
static struct config		 small;	/* tight limits, set in main() */
static const struct exec_req	 zero_req;

/* A growing string, for building request bodies. */
struct sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
sb_need(struct sb *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	b->cap = (b->len + n + 1) * 2;
	if ((b->p = realloc(b->p, b->cap)) == NULL)
		abort();
}

static void TAP_PRINTF(2, 3)
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_need(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
sb_addn(struct sb *b, const char *s, size_t n)
{
	sb_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* s[0..n) as a JSON string literal; esc: \u-escape every byte < 0x80. */
static void
sb_jstr(struct sb *b, const char *s, size_t n, bool esc)
{
	size_t		 i;
	unsigned char	 c;

	sb_addn(b, "\"", 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\' || (esc && c < 0x80))
			sb_printf(b, "\\u%04x", c);
		else
			sb_addn(b, (const char *)&c, 1);
	}
	sb_addn(b, "\"", 1);
}

static void
sb_reset(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static char *
repeat(const char *s, size_t times)
{
	struct sb	 b = { NULL, 0, 0 };
	size_t		 i;

	sb_addn(&b, "", 0);
	for (i = 0; i < times; i++)
		sb_addn(&b, s, strlen(s));
	return b.p;
}

/* s[0..n) printable for a test description (4 rotating buffers). */
static const char *
vis(const char *s, size_t n)
{
	static char	 bufs[4][1100];
	static int	 k;
	char		*o = bufs[k++ % 4];
	size_t		 i, j = 0;

	for (i = 0; i < n && i < 250; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			o[j++] = s[i];
		else
			j += (size_t)snprintf(o + j, 5, "\\x%02x",
			    (unsigned char)s[i]);
	}
	if (i < n)
		j += (size_t)snprintf(o + j, 4, "...");
	o[j] = '\0';
	return o;
}

static bool
msg_ok(void)
{
	size_t	 n;

	return msg[0] != '\0' && utf8_count(msg, strlen(msg), &n) == 0;
}

/* One test: body (len bytes) is refused with want, cleanly. */
static int
rejects_len(const struct config *c, const char *body, size_t len,
    enum pyx_err want, const char *needle, const char *desc)
{
	struct exec_req	 r;
	enum pyx_err	 e;
	int		 good;

	memset(&r, 0xa5, sizeof(r));
	msg[0] = '\0';
	e = req_parse(c, body, len, &r, msg, sizeof(msg));
	good = e == want && memcmp(&r, &zero_req, sizeof(r)) == 0 &&
	    msg_ok() && (needle == NULL || strstr(msg, needle) != NULL);
	if (!ok(good, "%s", desc)) {
		diag("error %d (want %d), msg \"%s\"%s", e, want, msg,
		    memcmp(&r, &zero_req, sizeof(r)) ? ", req not zeroed" : "");
		if (e == PYX_OK)
			req_free(&r);
	}
	return good;
}

static int
rejects(const struct config *c, const char *body, const char *needle,
    const char *desc)
{
	return rejects_len(c, body, strlen(body), PYX_E_VALIDATION, needle,
	    desc);
}

/* Parses body, which must be accepted; the caller checks and frees r. */
static bool
parse_ok(const struct config *c, const char *body, size_t len,
    struct exec_req *r)
{
	enum pyx_err	 e;

	msg[0] = '\0';
	e = req_parse(c, body, len, r, msg, sizeof(msg));
	if (e != PYX_OK)
		diag("refused (%d): %s", e, msg);
	return e == PYX_OK;
}

/* One test: body is accepted (and freed). */
static int
accepts(const struct config *c, const char *body, const char *desc)
{
	struct exec_req	 r;
	bool		 good;

	good = parse_ok(c, body, strlen(body), &r);
	ok(good, "%s", desc);
	if (good)
		req_free(&r);
	return good;
}

/* name_check: valid names, and invalid ones with the reason given. */
static const struct {
	const char	*name;
	size_t		 len;	/* 0: strlen */
	const char	*why;	/* NULL: valid */
} names[] = {
	{ "a", 0, NULL },
	{ "a.txt", 0, NULL },
	{ "dir/sub/a.txt", 0, NULL },
	{ "...", 0, NULL },
	{ "..a", 0, NULL },
	{ "a..", 0, NULL },
	{ ".hidden", 0, NULL },
	{ "a b", 0, NULL },
	{ "caf\xc3\xa9.txt", 0, NULL },
	{ "", 0, "is empty" },
	{ "/etc/passwd", 0, "must be a relative path" },
	{ "/", 0, "must be a relative path" },
	{ "..", 0, "must not contain '..'" },
	{ "../x", 0, "must not contain '..'" },
	{ "a/../b", 0, "must not contain '..'" },
	{ "a/..", 0, "must not contain '..'" },
	{ ".", 0, "must not contain '.' components" },
	{ "./a", 0, "must not contain '.' components" },
	{ "a/./b", 0, "must not contain '.' components" },
	{ "a/.", 0, "must not contain '.' components" },
	{ "a//b", 0, "has an empty path component" },
	{ "a/", 0, "has an empty path component" },
	{ "a\x01" "b", 0, "contains a control character" },
	{ "a\tb", 0, "contains a control character" },
	{ "a\nb", 0, "contains a control character" },
	{ "a\x1f", 0, "contains a control character" },
	{ "a\x7f" "b", 0, "contains a control character" },
	{ "a\0b", 3, "contains a control character" },
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static void
test_name_check(void)
{
	const char	*why;
	char		 buf[512];
	size_t		 i, len;
	int		 rv;

	for (i = 0; i < NNAMES; i++) {
		len = names[i].len ? names[i].len : strlen(names[i].name);
		why = "(unset)";
		rv = name_check(names[i].name, len, &why);
		if (names[i].why == NULL)
			is_int(rv, 0, "name_check accepts \"%s\"",
			    vis(names[i].name, len));
		else if (!ok(rv == -1 && strcmp(why, names[i].why) == 0,
		    "name_check refuses \"%s\": %s", vis(names[i].name, len),
		    names[i].why))
			diag("rv %d, why \"%s\"", rv, why);
	}

	memset(buf, 'n', 255);
	ok(name_check(buf, 255, &why) == 0, "name_check: 255 bytes is fine");
	memset(buf, 'n', 256);
	ok(name_check(buf, 256, &why) == -1 &&
	    strcmp(why, "is longer than 255 bytes") == 0,
	    "name_check: 256 bytes is too long");
	/* 16 components "a/a/.../a", then 17. */
	for (i = 0; i < 17; i++)
		memcpy(buf + 2 * i, "a/", 2);
	ok(name_check(buf, 31, &why) == 0, "name_check: 16 components");
	ok(name_check(buf, 33, &why) == -1 &&
	    strcmp(why, "has too many path components") == 0,
	    "name_check: 17 components are too deep");
}

static void
test_full(void)
{
	static const char body[] =
	    "{\"code\": \"print(1)\\n\", \"stdin_data\": \"in\\u00e9\",\n"
	    " \"api_key\": \"k3y\",\n"
	    " \"attachments\": [\n"
	    "  {\"filename\": \"data/a.txt\", \"content_base_64\": \"Zm9vYmFy\"},\n"
	    "  {\"content_base_64\": \"\", \"filename\": \"empty\"}],\n"
	    " \"return_files\": [\"out.txt\", \"dir/x.png\"]}\n";
	struct exec_req	 r;

	if (!ok(parse_ok(&dflt, body, strlen(body), &r),
	    "a full request is accepted")) {
		ok(0, "skipped");
		ok(0, "skipped");
		ok(0, "skipped");
		ok(0, "skipped");
		ok(0, "skipped");
		ok(0, "skipped");
		return;
	}
	ok(r.code != NULL && strcmp(r.code, "print(1)\n") == 0 &&
	    r.code_len == 9 && r.code_chars == 9, "code, code_len, code_chars");
	ok(r.stdin_provided && r.stdin_len == 4 &&
	    memcmp(r.stdin_data, "in\xc3\xa9", 5) == 0,
	    "stdin_data decoded, provided, length in bytes");
	ok(r.api_key != NULL && strcmp(r.api_key, "k3y") == 0 &&
	    r.api_key_len == 3, "api_key");
	ok(r.natt == 2 && strcmp(r.att[0].name, "data/a.txt") == 0 &&
	    r.att[0].len == 6 && memcmp(r.att[0].data, "foobar", 6) == 0,
	    "first attachment: name and decoded bytes");
	ok(strcmp(r.att[1].name, "empty") == 0 && r.att[1].len == 0,
	    "an empty-file attachment is accepted (fields in any order)");
	ok(r.nret == 2 && strcmp(r.ret[0], "out.txt") == 0 &&
	    strcmp(r.ret[1], "dir/x.png") == 0, "return_files");
	req_free(&r);
	ok(memcmp(&r, &zero_req, sizeof(r)) == 0, "req_free zeroes the "
	    "request");
	req_free(&r);	/* and a second req_free is harmless */
}

static void
test_minimal_and_nulls(void)
{
	struct exec_req	 r;
	const char	*b;

	b = "{\"code\":\"x\"}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.stdin_data == NULL &&
	    !r.stdin_provided && r.api_key == NULL && r.natt == 0 &&
	    r.att == NULL && r.nret == 0 && r.ret == NULL,
	    "code only: everything else absent");
	req_free(&r);

	b = "{\"code\":\"x\",\"stdin_data\":null,\"api_key\":null,"
	    "\"attachments\":null,\"return_files\":null}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.stdin_data == NULL &&
	    !r.stdin_provided && r.api_key == NULL && r.natt == 0 &&
	    r.nret == 0, "null for each optional field is absent");
	req_free(&r);

	b = "{\"code\":\"x\",\"stdin_data\":\"\",\"attachments\":[],"
	    "\"return_files\":[]}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && !r.stdin_provided &&
	    r.stdin_len == 0 && r.natt == 0 && r.nret == 0,
	    "empty stdin_data is not \"provided\"; empty arrays are fine");
	req_free(&r);

	b = " \r\n\t{\"code\":\"x\"} \t\r\n";
	accepts(&dflt, b, "whitespace around the JSON value is fine");

	rejects_len(&dflt, "{}", 2, PYX_E_INVALID_REQUEST, "'code'",
	    "{}: missing code is InvalidRequest");
	rejects_len(&dflt, "{\"stdin_data\":\"x\"}", 18,
	    PYX_E_INVALID_REQUEST, "'code'", "no code: InvalidRequest");
	rejects_len(&dflt, "{\"code\":null}", 13, PYX_E_INVALID_REQUEST,
	    "'code'", "code null: InvalidRequest");
}

static void
test_code_chars(void)
{
	struct exec_req	 r;
	const char	*b;

	b = "{\"code\":\"\xc3\xa9\"}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.code_len == 2 &&
	    r.code_chars == 1, "raw e-acute: 2 bytes, 1 code point");
	req_free(&r);
	b = "{\"code\":\"a\\u00e9\"}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.code_len == 3 &&
	    r.code_chars == 2 && memcmp(r.code, "a\xc3\xa9", 4) == 0,
	    "\\u00e9 escape: decoded to UTF-8");
	req_free(&r);
	b = "{\"code\":\"\\ud83d\\ude00\"}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.code_len == 4 &&
	    r.code_chars == 1 && memcmp(r.code, "\xf0\x9f\x98\x80", 5) == 0,
	    "surrogate-pair escape: one 4-byte code point");
	req_free(&r);
	b = "{\"code\":\"\xf0\x9f\x98\x80\xe2\x82\xac!\"}";
	ok(parse_ok(&dflt, b, strlen(b), &r) && r.code_len == 8 &&
	    r.code_chars == 3, "raw emoji, euro, '!': 3 code points");
	req_free(&r);

	/* json-c turns a lone surrogate into U+FFFD; never raw surrogates. */
	b = "{\"code\":\"\\ud800x\"}";
	msg[0] = '\0';
	if (req_parse(&dflt, b, strlen(b), &r, msg, sizeof(msg)) == PYX_OK) {
		ok(utf8_count(r.code, r.code_len, &r.code_chars) == 0,
		    "a lone surrogate escape never yields invalid UTF-8");
		req_free(&r);
	} else
		ok(msg_ok(), "a lone surrogate escape is refused");
}

/* Over each size limit of the small config, and right at it. */
static void
test_limits(void)
{
	struct sb	 b = { NULL, 0, 0 };
	struct exec_req	 r;
	struct config	 c;
	char		*s;
	size_t		 i;

	/* small: max_code_chars 10, max_stdin_bytes 8, max_file_bytes 16 */
	accepts(&small, "{\"code\":\"0123456789\"}", "code: 10 chars of 10");
	rejects(&small, "{\"code\":\"0123456789a\"}",
	    "Code exceeds maximum length of 10 characters (got 11)",
	    "code: 11 chars of 10");
	s = repeat("\xc3\xa9", 10);
	sb_printf(&b, "{\"code\":\"%s\"}", s);
	ok(parse_ok(&small, b.p, b.len, &r) && r.code_chars == 10 &&
	    r.code_len == 20, "code: 10 two-byte chars (20 bytes) of 10");
	req_free(&r);
	sb_reset(&b);
	sb_printf(&b, "{\"code\":\"%s\xc3\xa9\"}", s);
	rejects(&small, b.p, "(got 11)", "code: 11 two-byte chars of 10");
	sb_reset(&b);
	free(s);
	accepts(&small, "{\"code\":\"012345678\xf0\x9f\x98\x80\"}",
	    "code: 9 ASCII + 1 emoji = 10 chars (13 bytes)");
	rejects(&small, "{\"code\":\"0123456789\xf0\x9f\x98\x80\"}", "(got 11)",
	    "code: 10 ASCII + 1 emoji = 11 chars");
	s = repeat("\\ud83d\\ude00", 10);
	sb_printf(&b, "{\"code\":\"%s\"}", s);
	ok(parse_ok(&small, b.p, b.len, &r) && r.code_chars == 10 &&
	    r.code_len == 40, "code: 10 escaped emoji (40 bytes) of 10");
	req_free(&r);
	sb_reset(&b);
	sb_printf(&b, "{\"code\":\"%s\\ud83d\\ude00\"}", s);
	rejects(&small, b.p, "(got 11)", "code: 11 escaped emoji of 10");
	sb_reset(&b);
	free(s);

	accepts(&small, "{\"code\":\"\",\"stdin_data\":\"12345678\"}",
	    "stdin: 8 bytes of 8");
	rejects(&small, "{\"code\":\"\",\"stdin_data\":\"123456789\"}",
	    "'stdin_data' exceeds 8 bytes", "stdin: 9 bytes of 8");
	accepts(&small, "{\"code\":\"\",\"stdin_data\":\"\xc3\xa9\xc3\xa9\xc3"
	    "\xa9\xc3\xa9\"}", "stdin: 4 two-byte chars = 8 bytes of 8");
	rejects(&small, "{\"code\":\"\",\"stdin_data\":\"\\u00e9\\u00e9\\u00e9"
	    "\\u00e9\\u00e9\"}", "exceeds", "stdin: 5 chars but 10 bytes of 8");
	c = small;
	c.max_stdin_bytes = 0;
	accepts(&c, "{\"code\":\"\",\"stdin_data\":\"\"}", "stdin: 0 of 0");
	rejects(&c, "{\"code\":\"\",\"stdin_data\":\"a\"}", "exceeds",
	    "stdin: 1 of 0");

	s = repeat("k", 1024);
	sb_printf(&b, "{\"code\":\"\",\"api_key\":\"%s\"}", s);
	accepts(&small, b.p, "api_key: 1024 bytes");
	sb_reset(&b);
	sb_printf(&b, "{\"code\":\"\",\"api_key\":\"%sk\"}", s);
	rejects(&small, b.p, "'api_key' is too long", "api_key: 1025 bytes");
	sb_reset(&b);
	free(s);

	/* max_file_bytes 16: 16 zero bytes are 22 'A's and "==". */
	accepts(&small, "{\"code\":\"\",\"attachments\":[{\"filename\":\"f\","
	    "\"content_base_64\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}]}",
	    "attachment: 16 bytes of 16");
	rejects(&small, "{\"code\":\"\",\"attachments\":[{\"filename\":\"f\","
	    "\"content_base_64\":\"AAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
	    "attachments[0] is larger than 16 bytes",
	    "attachment: 17 bytes of 16");
	s = repeat("AAAA", 2500);
	sb_printf(&b, "{\"code\":\"\",\"attachments\":[{\"filename\":\"f\","
	    "\"content_base_64\":\"%s\"}]}", s);
	rejects(&small, b.p, "larger than 16 bytes",
	    "attachment: 10000 base64 characters, refused before decoding");
	sb_reset(&b);
	free(s);
	c = small;
	c.max_file_bytes = 0;
	accepts(&c, "{\"code\":\"\",\"attachments\":[{\"filename\":\"f\","
	    "\"content_base_64\":\"\"}]}", "attachment: 0 bytes of 0");
	rejects(&c, "{\"code\":\"\",\"attachments\":[{\"filename\":\"f\","
	    "\"content_base_64\":\"AA==\"}]}", "larger than 0 bytes",
	    "attachment: 1 byte of 0");

	/* max_attachments 2, max_return_files 3 */
	for (i = 0; i < 3; i++) {
		sb_printf(&b, i ? "," : "{\"code\":\"\",\"attachments\":[");
		sb_printf(&b, "{\"filename\":\"%c\",\"content_base_64\":\"\"}",
		    (int)('a' + i));
		if (i == 1) {
			sb_printf(&b, "]}");
			accepts(&small, b.p, "2 attachments of 2");
			b.len -= 2;
		}
	}
	sb_printf(&b, "]}");
	rejects(&small, b.p, "Too many attachments: 3 (the limit is 2).",
	    "3 attachments of 2");
	sb_reset(&b);
	c = small;
	c.max_attachments = 0;
	accepts(&c, "{\"code\":\"\",\"attachments\":[]}", "0 attachments of 0");
	rejects(&c, "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":\"\"}]}", "Too many attachments",
	    "1 attachment of 0");
	accepts(&small, "{\"code\":\"\",\"return_files\":[\"a\",\"b\",\"c\"]}",
	    "3 return_files of 3");
	rejects(&small, "{\"code\":\"\",\"return_files\":[\"a\",\"b\",\"c\","
	    "\"d\"]}", "Too many return_files: 4 (the limit is 3).",
	    "4 return_files of 3");
}

static const struct {
	const char	*body;
	const char	*needle;
} type_errs[] = {
	{ "{\"code\":1}", "'code' must be a string, not int" },
	{ "{\"code\":1.5}", "'code' must be a string" },
	{ "{\"code\":true}", "'code' must be a string, not boolean" },
	{ "{\"code\":[]}", "'code' must be a string, not array" },
	{ "{\"code\":{}}", "'code' must be a string, not object" },
	{ "{\"code\":\"\",\"stdin_data\":1}", "'stdin_data' must be a string" },
	{ "{\"code\":\"\",\"stdin_data\":[\"a\"]}", "'stdin_data' must be" },
	{ "{\"code\":\"\",\"stdin_data\":false}", "'stdin_data' must be" },
	{ "{\"code\":\"\",\"api_key\":1}", "'api_key' must be a string" },
	{ "{\"code\":\"\",\"api_key\":{}}", "'api_key' must be a string" },
	{ "{\"code\":\"\",\"attachments\":{}}",
	    "'attachments' must be an array, not object" },
	{ "{\"code\":\"\",\"attachments\":\"a\"}",
	    "'attachments' must be an array, not string" },
	{ "{\"code\":\"\",\"attachments\":1}", "'attachments' must be an" },
	{ "{\"code\":\"\",\"attachments\":[1]}",
	    "attachments[0] must be an object" },
	{ "{\"code\":\"\",\"attachments\":[null]}",
	    "attachments[0] must be an object" },
	{ "{\"code\":\"\",\"attachments\":[\"a\"]}",
	    "attachments[0] must be an object" },
	{ "{\"code\":\"\",\"attachments\":[[]]}",
	    "attachments[0] must be an object" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":1,"
	    "\"content_base_64\":\"\"}]}",
	    "attachments[0].filename must be a string" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":null,"
	    "\"content_base_64\":\"\"}]}",
	    "attachments[0].filename must be a string" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":[\"a\"],"
	    "\"content_base_64\":\"\"}]}",
	    "attachments[0].filename must be a string" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":1}]}",
	    "attachments[0].content_base_64 must be a string" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":null}]}",
	    "attachments[0].content_base_64 must be a string" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":\"\"},{\"filename\":\"b\","
	    "\"content_base_64\":[]}]}",
	    "attachments[1].content_base_64 must be a string" },
	{ "{\"code\":\"\",\"return_files\":\"ab\"}",
	    "'return_files' must be an array of strings, not string" },
	{ "{\"code\":\"\",\"return_files\":{}}",
	    "'return_files' must be an array" },
	{ "{\"code\":\"\",\"return_files\":1}", "'return_files' must be" },
	{ "{\"code\":\"\",\"return_files\":[\"a\",1]}",
	    "return_files[1] must be a string" },
	{ "{\"code\":\"\",\"return_files\":[null]}",
	    "return_files[0] must be a string" },
	{ "{\"code\":\"\",\"return_files\":[[\"a\"]]}",
	    "return_files[0] must be a string" },
	/* Unknown or missing fields. */
	{ "{\"code\":\"\",\"extra\":1}", "Unknown field 'extra'." },
	{ "{\"code\":\"\",\"Code\":\"x\"}", "Unknown field 'Code'." },
	{ "{\"code\":\"\",\"api_key\":\"k\",\"timeout\":5}",
	    "Unknown field 'timeout'." },
	{ "{\"code\":\"\",\"stdin\":null}", "Unknown field 'stdin'." },
	/* Per-request limits: only lower than the server's. */
	{ "{\"code\":\"\",\"limits\":{\"time_limit_seconds\":11}}",
	    "'limits.time_limit_seconds' is above this server's limit of 10." },
	{ "{\"code\":\"\",\"limits\":{\"max_processes\":0}}",
	    "'limits.max_processes' must be at least 1." },
	{ "{\"code\":\"\",\"limits\":{\"timeout\":1}}",
	    "Unknown field 'limits.timeout'." },
	{ "{\"code\":\"\",\"limits\":{\"memory_limit_mb\":64.0}}",
	    "'limits.memory_limit_mb' must be an integer, not double" },
	{ "{\"code\":\"\",\"limits\":[]}",
	    "'limits' must be an object, not array" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":\"\",\"mode\":1}]}",
	    "attachments[0] must have exactly the fields" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\",\"x\":\"\"}]}",
	    "attachments[0] must have exactly the fields" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\"}]}",
	    "attachments[0] must have exactly the fields" },
	{ "{\"code\":\"\",\"attachments\":[{\"content_base_64\":\"\"}]}",
	    "attachments[0] must have exactly the fields" },
	{ "{\"code\":\"\",\"attachments\":[{}]}",
	    "attachments[0] must have exactly the fields" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base64\":\"\",\"content_base_64\":\"\"}]}",
	    "attachments[0] has both 'content_base_64' and 'content_base64'" },
	{ "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base64\":1}]}",
	    "attachments[0].content_base64 must be a string" },
};
#define NTYPE_ERRS	(sizeof(type_errs) / sizeof(type_errs[0]))

static void
test_types(void)
{
	size_t	 i;

	for (i = 0; i < NTYPE_ERRS; i++)
		rejects(&dflt, type_errs[i].body, type_errs[i].needle,
		    type_errs[i].needle);
}

static void
test_malformed(void)
{
	static const struct {
		const char	*body;
		size_t		 len;	/* 0: strlen */
		const char	*desc;
	} bad[] = {
		{ "", 0, "empty body" },
		{ "{\"code\":\"x\"}\0", 13, "NUL after the object" },
		{ "{\"code\":\"a\0b\"}", 14, "raw NUL inside a string" },
		{ "\0{\"code\":\"x\"}", 13, "NUL before the object" },
		{ "[]", 0, "an array" },
		{ "[{\"code\":\"x\"}]", 0, "an array holding the object" },
		{ "\"code\"", 0, "a string" },
		{ "1", 0, "a number" },
		{ "null", 0, "null" },
		{ "true", 0, "true" },
		{ "{\"code\":\"x\"} x", 0, "trailing garbage" },
		{ "{\"code\":\"x\"}{}", 0, "a second object" },
		{ "{\"code\":\"x\"},", 0, "a trailing comma" },
		{ "{\"code\":\"x\"}}", 0, "an extra brace" },
		{ "{\"code\":\"x\"}\n\n[", 0, "garbage after newlines" },
		{ "{\"code\":\"x\"", 0, "truncated object" },
		{ "{\"code\":\"x", 0, "truncated string" },
		{ "{", 0, "a lone brace" },
		{ "{\"code\":'x'}", 0, "single quotes" },
		{ "{code:\"x\"}", 0, "unquoted key" },
		{ "{\"code\":\"x\",}", 0, "trailing comma in the object" },
		{ "{\"code\":\"x\" /* c */}", 0, "a comment" },
		{ "{\"code\":\"x\"} // c", 0, "a trailing comment" },
		{ "{\"code\":\"\\x41\"}", 0, "a bad escape" },
		{ "{\"code\":\"\\u12\"}", 0, "a short \\u escape" },
		{ "{\"code\":\"\xff\"}", 0, "raw byte FF" },
		{ "{\"code\":\"\xc3\"}", 0, "truncated UTF-8 in a string" },
		{ "{\"code\":\"\xed\xa0\x80\"}", 0, "raw surrogate in code" },
		{ "{\"code\":\"\xc0\xbc\"}", 0, "overlong '<' in code" },
		{ "{\"code\":\"x\",\"attachments\":[[[[[[[[[[]]]]]]]]]]}", 0,
		    "nesting deeper than any valid request" },
		{ "{\"code\":NaN}", 0, "NaN" },
		{ "\xef\xbb\xbf{\"code\":\"x\"}", 0, "a byte-order mark" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rejects_len(&dflt, bad[i].body,
		    bad[i].len ? bad[i].len : strlen(bad[i].body),
		    PYX_E_VALIDATION, NULL, bad[i].desc);
	rejects(&dflt, "{\"code\":\"x\"} x", "at byte 13",
	    "trailing garbage is located");
	rejects(&dflt, "[]", "must be a JSON object, not array",
	    "a non-object is named as such");
	rejects(&dflt, "{\"code\":\"x\"", "unexpected end of input",
	    "truncation is named as such");
	rejects_len(&dflt, "{\"code\":\"x\"}\0", 13, PYX_E_VALIDATION,
	    "NUL byte", "a NUL byte is named as such");
}

/*
 * Strings that are not UTF-8. json-c's own check lets overlong forms,
 * surrogates and code points above U+10FFFF through, and every one of
 * these strings can come back in a reply (file names, the unknown-key
 * message), which must be valid JSON.
 */
static void
test_utf8(void)
{
	struct sb	 b = { NULL, 0, 0 };
	char		*s;

	rejects(&dflt, "{\"code\":\"\",\"attachments\":[{\"filename\":"
	    "\"a\xc0\xae\",\"content_base_64\":\"\"}]}", NULL,
	    "overlong UTF-8 in an attachment name");
	rejects(&dflt, "{\"code\":\"\",\"attachments\":[{\"filename\":"
	    "\"\xed\xa0\x80.txt\",\"content_base_64\":\"\"}]}", NULL,
	    "a raw surrogate in an attachment name");
	rejects(&dflt, "{\"code\":\"\",\"return_files\":[\"\xf4\x90\x80\x80\"]}",
	    NULL, "a code point above U+10FFFF in return_files");
	rejects(&dflt, "{\"code\":\"\",\"return_files\":[\"\xf5\x80\x80\x80\"]}",
	    NULL, "lead byte F5 in return_files");
	rejects(&dflt, "{\"code\":\"\",\"stdin_data\":\"\xc0\x80\"}", NULL,
	    "overlong NUL in stdin_data");
	rejects(&dflt, "{\"code\":\"\",\"api_key\":\"\xed\xbf\xbf\"}", NULL,
	    "a raw surrogate in api_key");
	rejects(&dflt, "{\"code\":\"\",\"k\xc0\x80\":1}", NULL,
	    "overlong UTF-8 in an unknown key");

	/* An unknown key cut for the message is cut between code points. */
	s = repeat("a", 63);
	sb_printf(&b, "{\"code\":\"\",\"%s\xc3\xa9\xc3\xa9\":1}", s);
	rejects(&dflt, b.p, "Unknown field 'aaa",
	    "a long unknown key is cut at a code-point boundary");
	sb_reset(&b);
	free(s);

	accepts(&dflt, "{\"code\":\"\",\"attachments\":[{\"filename\":"
	    "\"caf\xc3\xa9/\xf0\x9f\x98\x80.txt\",\"content_base_64\":\"\"}],"
	    "\"return_files\":[\"\xe2\x82\xac\"],\"stdin_data\":\"\xc3\xa9\"}",
	    "well-formed non-ASCII names and stdin are fine");
}

static void
test_base64(void)
{
	static const char *const bad[] = {
		"Zg=", "QR==", "Zm9v!", " Zm9v", "Zm9v\\t", "Zg==Zg==",
		"Zm9v=", "=", "Zm-_",
	};
	struct sb	 b = { NULL, 0, 0 };
	struct exec_req	 r;
	size_t		 i;
	const char	*body;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sb_printf(&b, "{\"code\":\"\",\"attachments\":[{\"filename\":"
		    "\"a\",\"content_base_64\":\"%s\"}]}", bad[i]);
		rejects(&dflt, b.p, "attachments[0].content_base_64 is not "
		    "valid base64", bad[i]);
		sb_reset(&b);
	}

	body = "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base_64\":\"Zm9v\\r\\nYmFy\\n\"},{\"filename\":\"b\","
	    "\"content_base_64\":\"\\/w==\"}]}";
	ok(parse_ok(&dflt, body, strlen(body), &r) && r.natt == 2 &&
	    r.att[0].len == 6 && memcmp(r.att[0].data, "foobar", 6) == 0 &&
	    r.att[1].len == 1 && r.att[1].data[0] == (uint8_t)0xff,
	    "base64 with CRLF, and with an escaped '/', decodes");
	req_free(&r);

	/* The replies' spelling is accepted in requests too. */
	body = "{\"code\":\"\",\"attachments\":[{\"filename\":\"a\","
	    "\"content_base64\":\"Zm9vYmFy\"},{\"content_base_64\":\"\\/w==\","
	    "\"filename\":\"b\"}]}";
	ok(parse_ok(&dflt, body, strlen(body), &r) && r.natt == 2 &&
	    r.att[0].len == 6 && memcmp(r.att[0].data, "foobar", 6) == 0 &&
	    r.att[1].len == 1 && r.att[1].data[0] == (uint8_t)0xff,
	    "content_base64 and content_base_64 both decode, mixed in one "
	    "request");
	req_free(&r);
	rejects(&dflt, "{\"code\":\"\",\"attachments\":[{\"filename\":"
	    "\"a\",\"content_base64\":\"Zg=\"}]}",
	    "attachments[0].content_base64 is not valid base64",
	    "bad base64 under the other spelling");
}

/* Attachment names, return_files names, clashes. */
static void
test_names(void)
{
	static const struct {
		const char	*a;
		const char	*b;
		bool		 clash;
	} pairs[] = {
		{ "a", "a", true },
		{ "a", "a/b", true },
		{ "a/b", "a", true },
		{ "a/b/c", "a/b", true },
		{ "d/x", "d/x", true },
		{ "a", "ab", false },
		{ "ab", "a", false },
		{ "a/b", "a/c", false },
		{ "a/b", "a/bc", false },
		{ "ab/c", "a", false },
		{ "A", "a", false },
	};
	static const struct {
		const char	*name;
		bool		 ok;
	} reserved[] = {
		{ "script.py", false },
		{ "script.py/x", false },
		{ "script.py/x/y", false },
		{ "sub/script.py", true },
		{ "script.pyc", true },
		{ "script.py.txt", true },
		{ "Script.py", true },
	};
	struct sb	 b = { NULL, 0, 0 };
	char		 desc[600], big[300];
	size_t		 i, len;

	for (i = 0; i < NNAMES; i++) {
		len = names[i].len ? names[i].len : strlen(names[i].name);
		sb_printf(&b, "{\"code\":\"\",\"attachments\":[{\"filename\":");
		sb_jstr(&b, names[i].name, len, false);
		sb_printf(&b, ",\"content_base_64\":\"\"}]}");
		if (names[i].why == NULL) {
			snprintf(desc, sizeof(desc), "attachment name \"%s\" is "
			    "fine", vis(names[i].name, len));
			accepts(&dflt, b.p, desc);
		} else {
			snprintf(desc, sizeof(desc), "attachment name \"%s\" %s",
			    vis(names[i].name, len), names[i].why);
			rejects(&dflt, b.p, names[i].why, desc);
		}
		sb_reset(&b);

		sb_printf(&b, "{\"code\":\"\",\"return_files\":[\"x\",");
		sb_jstr(&b, names[i].name, len, false);
		sb_printf(&b, "]}");
		/* "a/" asks for a directory's files (outputs.c). */
		if (names[i].why == NULL || strcmp(names[i].name, "a/") == 0) {
			snprintf(desc, sizeof(desc), "return file \"%s\" is "
			    "fine", vis(names[i].name, len));
			accepts(&dflt, b.p, desc);
		} else {
			snprintf(desc, sizeof(desc), "return_files[1] %s",
			    names[i].why);
			rejects(&dflt, b.p, desc, desc);
		}
		sb_reset(&b);
	}

	/* Length and depth, through the JSON layer. */
	memset(big, 'n', sizeof(big));
	sb_printf(&b, "{\"code\":\"\",\"return_files\":[");
	sb_jstr(&b, big, 255, false);
	sb_printf(&b, "],\"attachments\":[{\"filename\":");
	sb_jstr(&b, big, 255, true);
	sb_printf(&b, ",\"content_base_64\":\"\"}]}");
	accepts(&dflt, b.p, "255-byte names (one spelled with \\u escapes)");
	sb_reset(&b);
	sb_printf(&b, "{\"code\":\"\",\"attachments\":[{\"filename\":");
	sb_jstr(&b, big, 256, false);
	sb_printf(&b, ",\"content_base_64\":\"\"}]}");
	rejects(&dflt, b.p, "is longer than 255 bytes",
	    "a 256-byte attachment name");
	sb_reset(&b);
	for (i = 0; i < 17; i++)
		memcpy(big + 2 * i, "d/", 2);
	sb_printf(&b, "{\"code\":\"\",\"return_files\":[");
	sb_jstr(&b, big, 31, false);
	sb_printf(&b, "],\"attachments\":[{\"filename\":");
	sb_jstr(&b, big, 33, false);
	sb_printf(&b, ",\"content_base_64\":\"\"}]}");
	rejects(&dflt, b.p, "has too many path components",
	    "17 components is too deep (16 is fine)");
	sb_reset(&b);

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		sb_printf(&b, "{\"code\":\"\",\"attachments\":["
		    "{\"filename\":\"%s\",\"content_base_64\":\"\"},"
		    "{\"filename\":\"%s\",\"content_base_64\":\"\"}]}",
		    pairs[i].a, pairs[i].b);
		snprintf(desc, sizeof(desc), "attachments \"%s\" and \"%s\" %s",
		    pairs[i].a, pairs[i].b, pairs[i].clash ? "clash" :
		    "can coexist");
		if (pairs[i].clash)
			rejects(&dflt, b.p, "attachments[1].filename clashes "
			    "with attachments[0].filename", desc);
		else
			accepts(&dflt, b.p, desc);
		sb_reset(&b);
	}

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		sb_printf(&b, "{\"code\":\"\",\"attachments\":[{\"filename\":"
		    "\"%s\",\"content_base_64\":\"\"}]}", reserved[i].name);
		snprintf(desc, sizeof(desc), "attachment \"%s\" %s",
		    reserved[i].name, reserved[i].ok ? "is fine" :
		    "collides with the code file");
		if (reserved[i].ok)
			accepts(&dflt, b.p, desc);
		else
			rejects(&dflt, b.p, "is reserved for the code", desc);
		sb_reset(&b);
	}

	rejects(&dflt, "{\"code\":\"\",\"return_files\":[\"a\",\"a\"]}",
	    "return_files[1] repeats return_files[0]", "duplicate return_files");
	rejects(&dflt, "{\"code\":\"\",\"return_files\":[\"a\",\"b\",\"a\"]}",
	    "return_files[2] repeats return_files[0]",
	    "duplicate return_files, not adjacent");
	accepts(&dflt, "{\"code\":\"\",\"return_files\":[\"a\",\"a/b\","
	    "\"script.py\"]}", "return_files may overlap and name the script");
	rejects(&dflt, "{\"code\":\"\",\"return_files\":[\"a\\u0000b\"]}",
	    "contains a control character", "\\u0000 inside a return file");
	rejects(&dflt, "{\"code\":\"\",\"attachments\":[{\"filename\":"
	    "\"x\\u0000\",\"content_base_64\":\"\"}]}",
	    "contains a control character", "\\u0000 at the end of a name");
}

/*
 * The largest request the small config allows, spelled with every
 * escape that cfg_max_body() budgets for, is accepted and fits under
 * cfg_max_body().
 */
static void
test_max_body(void)
{
	struct sb	 b = { NULL, 0, 0 };
	struct exec_req	 r;
	struct config	 c = small;
	uint8_t		 raw[100];
	char		 enc[200], name[255];
	size_t		 i, j;
	bool		 good;

	c.max_file_bytes = sizeof(raw);	/* two lines of base64 */

	sb_printf(&b, "{\"code\":\"");
	for (i = 0; i < (size_t)c.max_code_chars; i++)
		sb_printf(&b, "\\ud83d\\ude00");
	sb_printf(&b, "\",\"stdin_data\":\"");
	for (i = 0; i < (size_t)c.max_stdin_bytes; i++)
		sb_printf(&b, "\\u0001");
	sb_printf(&b, "\",\"api_key\":");
	memset(name, 'k', sizeof(name));
	sb_printf(&b, "\"");
	for (i = 0; i < 1024; i++)
		sb_printf(&b, "\\u006b");
	sb_printf(&b, "\",\"attachments\":[");
	for (i = 0; i < (size_t)c.max_attachments; i++) {
		memset(raw, (int)i, sizeof(raw));
		b64_encode(raw, (size_t)c.max_file_bytes, enc);
		memset(name, 'a', sizeof(name));
		name[254] = (char)('a' + i);
		sb_printf(&b, "%s{\"filename\":", i ? "," : "");
		sb_jstr(&b, name, sizeof(name), true);
		sb_printf(&b, ",\"content_base_64\":\"");
		for (j = 0; enc[j] != '\0'; j++) {
			sb_addn(&b, enc + j, 1);
			if (j % 76 == 75)
				sb_printf(&b, "\\r\\n");
		}
		sb_printf(&b, "\\r\\n\"}");
	}
	sb_printf(&b, "],\"return_files\":[");
	for (i = 0; i < (size_t)c.max_return_files; i++) {
		memset(name, 'r', sizeof(name));
		name[254] = (char)('a' + i);
		sb_printf(&b, "%s", i ? "," : "");
		sb_jstr(&b, name, sizeof(name), true);
	}
	sb_printf(&b, "]}");

	good = parse_ok(&c, b.p, b.len, &r);
	ok(good && r.code_chars == (size_t)c.max_code_chars &&
	    r.natt == (size_t)c.max_attachments &&
	    r.att[1].len == (size_t)c.max_file_bytes &&
	    r.nret == (size_t)c.max_return_files,
	    "a maximal, fully escaped request is accepted");
	if (good)
		req_free(&r);
	if (!ok(b.len <= cfg_max_body(&c), "and fits in cfg_max_body"))
		diag("body %zu bytes, cfg_max_body %zu", b.len,
		    cfg_max_body(&c));
	sb_reset(&b);
}

/*
 * The shape is counted before json-c builds a tree: bodies that would
 * expand a hundredfold in memory are refused by count, while braces,
 * brackets, commas and escaped quotes inside strings count for nothing.
 */
static void
test_shape(void)
{
	struct sb	 b = { NULL, 0, 0 };
	char		*run;

	run = repeat("{},", 100000);
	sb_printf(&b, "{\"code\":\"1\",\"x\":[%s{}]}", run);
	rejects(&dflt, b.p, "objects and arrays", "a run of {} is refused by "
	    "count, not parsed");
	free(run);
	sb_reset(&b);
	run = repeat("0,", 100000);
	sb_printf(&b, "{\"code\":\"1\",\"x\":[%s0]}", run);
	rejects(&dflt, b.p, "values", "a run of numbers is refused by count");
	free(run);
	sb_reset(&b);
	run = repeat("\"k\":0,", 10000);
	sb_printf(&b, "{%s\"code\":\"1\"}", run);
	rejects(&dflt, b.p, "values", "a run of members is refused by count");
	free(run);
	sb_reset(&b);
	run = repeat("[", 9);
	sb_printf(&b, "{\"code\":\"1\",\"x\":%s", run);
	rejects(&dflt, b.p, "deeper", "nesting is refused by depth");
	free(run);
	sb_reset(&b);
	run = repeat("{[,\\\"", 400);
	sb_printf(&b, "{\"code\":\"%s\",\"stdin_data\":\"%s\"}", run, run);
	accepts(&dflt, b.p, "braces, commas and escaped quotes in strings do "
	    "not count");
	free(run);
	sb_reset(&b);
	accepts(&small, "{\"code\":\"1\",\"attachments\":[{\"filename\":"
	    "\"a\",\"content_base_64\":\"\"},{\"filename\":\"b\","
	    "\"content_base_64\":\"\"}],\"return_files\":[\"a\",\"b\","
	    "\"c\"],\"stdin_data\":\"\",\"api_key\":null}",
	    "every field at its limits passes the count");
	rejects(&small, "{\"code\":\"1\",\"return_files\":[\"a\",\"b\","
	    "\"c\",\"d\"]}", "Too many return_files", "one item too many "
	    "still gets the field's own message");
}

int
main(void)
{
	struct exec_req	 r;

	cfg_defaults(&dflt);
	cfg_defaults(&small);
	small.max_code_chars = 10;
	small.max_stdin_bytes = 8;
	small.max_file_bytes = 16;
	small.max_attachments = 2;
	small.max_return_files = 3;

	plan(273);
	memset(&r, 0, sizeof(r));
	req_free(&r);
	ok(1, "req_free of a zeroed request is harmless");
	test_name_check();
	test_full();
	test_minimal_and_nulls();
	test_code_chars();
	test_limits();
	test_types();
	test_malformed();
	test_utf8();
	test_base64();
	test_names();
	test_max_body();
	test_shape();
	return done_testing();
}
