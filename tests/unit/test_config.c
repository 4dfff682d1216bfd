/*
 * test_config.c: defaults, the strict "key = value" parser and
 * cfg_max_body.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "tap.h"
#include "config_ranges.h"

static char	 err[1024];

/* Defaults, then text parsed as if it were the file "t.conf". */
static int
parse_len(struct config *c, const char *text, size_t len)
{
	FILE	*fp;
	int	 rv;

	cfg_defaults(c);
	strlcpy(err, "(untouched)", sizeof(err));
	if ((fp = fmemopen((void *)text, len, "r")) == NULL) {
		diag("fmemopen: %s", strerror(errno));
		return -2;
	}
	rv = cfg_parse(c, fp, "t.conf", err, sizeof(err));
	fclose(fp);
	return rv;
}

static int
parse(struct config *c, const char *text)
{
	return parse_len(c, text, strlen(text));
}

static void
test_defaults(void)
{
	struct config	 c;

	memset(&c, 0x5a, sizeof(c));
	cfg_defaults(&c);
	is_int(c.time_limit_seconds, 10, "default time_limit_seconds");
	is_int(c.max_code_chars, 2000, "default max_code_chars");
	is_int(c.max_attachments, 2, "default max_attachments");
	is_int(c.max_file_bytes, 8388608, "default max_file_bytes (8 MiB)");
	is_int(c.max_return_files, 10, "default max_return_files");
	is_int(c.max_processes, 10, "default max_processes");
	is_int(c.memory_limit_mb, 512, "default memory_limit_mb");
	is_int(c.max_output_bytes, 1048576, "default max_output_bytes");
	is_int(c.max_stdin_bytes, 1048576, "default max_stdin_bytes");
	is_int(c.workspace_limit_mb, 64, "default workspace_limit_mb");
	is_int(c.max_concurrent, 5, "default max_concurrent");
	is_int(c.rate_limit_per_minute, 5, "default rate_limit_per_minute");
	is_int(c.daily_quota, 30, "default daily_quota");
	is_int(c.rate_limit_ipv6_prefix, 64, "default rate_limit_ipv6_prefix");
	ok(c.max_return_bytes == 16LL << 20, "default max_return_bytes");
	is_str(c.admin_api_key_file, "", "default admin_api_key_file: none");
	is_str(c.runtime_dir, "/run/pyexec", "default runtime_dir");
	is_str(c.state_dir, "/var/lib/pyexec", "default state_dir");
	is_int(c.mode, MODE_ZYGOTE, "default mode: zygote");
	ok(strncmp(c.allowed_imports, "math,", 5) == 0 &&
	    strstr(c.allowed_imports, ",numpy,") != NULL &&
	    strstr(c.allowed_imports, ",PIL,") != NULL &&
	    strcmp(c.allowed_imports + strlen(c.allowed_imports) - 4,
	    ",sys") == 0 && strchr(c.allowed_imports, ' ') == NULL,
	    "default allowed_imports: normalised list from math to sys");
}

static void
test_full_file(void)
{
	static const char text[] =
	    "# pyexec.conf\n"
	    "\n"
	    "time_limit_seconds = 30\n"
	    "   max_code_chars=5000   \n"
	    "\tmax_attachments\t=\t4\n"
	    "max_file_bytes = 1048576\n"
	    "    # an indented comment = not a key\n"
	    "max_return_files = 20\n"
	    "max_processes = 64\n"
	    "memory_limit_mb = 1024\n"
	    "max_output_bytes = 2048\n"
	    "max_stdin_bytes = 0\n"
	    "workspace_limit_mb = 128\n"
	    "max_concurrent = 8\n"
	    "rate_limit_per_minute = 60\n"
	    "daily_quota = 1000\n"
	    "admin_api_key_file = /etc/pyexec/admin=key\n"
	    "allowed_imports = math, json\n"
	    "runtime_dir = /run/px\n"
	    "state_dir = /var/lib/px\n"
	    "mode = zygote";	/* no final newline */
	struct config	 c;

	is_int(parse(&c, text), 0, "a file setting every key parses");
	ok(c.time_limit_seconds == 30 && c.max_code_chars == 5000 &&
	    c.max_attachments == 4 && c.max_file_bytes == 1048576 &&
	    c.max_return_files == 20 && c.max_processes == 64 &&
	    c.memory_limit_mb == 1024 && c.max_output_bytes == 2048 &&
	    c.max_stdin_bytes == 0 && c.workspace_limit_mb == 128 &&
	    c.max_concurrent == 8 && c.rate_limit_per_minute == 60 &&
	    c.daily_quota == 1000, "every numeric key is set");
	is_str(c.admin_api_key_file, "/etc/pyexec/admin=key",
	    "a value may contain '='");
	is_str(c.allowed_imports, "math,json", "allowed_imports set");
	is_str(c.runtime_dir, "/run/px", "runtime_dir set");
	is_str(c.state_dir, "/var/lib/px", "state_dir set");
	is_int(c.mode, MODE_ZYGOTE, "mode zygote, last line without newline");

	is_int(parse(&c, "time_limit_seconds = 7\r\nmode = exec\r\n"), 0,
	    "CRLF line endings parse");
	ok(c.time_limit_seconds == 7 && c.mode == MODE_EXEC,
	    "CRLF: values read without the CR");
	is_int(parse(&c, "\n\n   \n\t\n# only comments\n#time_limit_seconds = 0"
	    "\n"), 0, "blank lines and comments only");
	is_int(c.time_limit_seconds, 10, "a commented-out key is not read");
	is_int(parse(&c, "\n"), 0, "a lone newline is an empty file");
}

/* Each error class, the line it must name and the reason it must give. */
static const struct {
	const char	*text;
	const char	*want;
} errs[] = {
	{ "time_limit_seconds = 5\n\n# c\nbogus = 1\n",
	    "t.conf:4: unknown key 'bogus'" },
	{ "Time_Limit_Seconds = 5\n", "t.conf:1: unknown key" },
	{ " = 5\n", "t.conf:1: unknown key ''" },
	{ "# x\nmax_processes = 3\n\nmax_processes = 3\n",
	    "t.conf:4: 'max_processes' is set twice" },
	{ "mode = exec\n\n\nmax_processes 3\n",
	    "t.conf:4: expected 'key = value'" },
	{ "\n\nmax_processes =\n", "t.conf:3: 'max_processes' has no value" },
	{ "max_processes = \t \n", "t.conf:1: 'max_processes' has no value" },
	{ "runtime_dir =\n", "t.conf:1: 'runtime_dir' has no value" },
	{ "mode=\n", "t.conf:1: 'mode' has no value" },
	{ "time_limit_seconds = 0\n", "t.conf:1: time_limit_seconds: '0' is "
	    "too small (allowed 1..300)" },
	{ "\ntime_limit_seconds = 301\n", "t.conf:2: time_limit_seconds: "
	    "'301' is too large" },
	{ "time_limit_seconds = -5\n", "t.conf:1: time_limit_seconds: '-5' "
	    "is too small" },
	{ "time_limit_seconds = 99999999999999999999\n", "is too large" },
	{ "time_limit_seconds = ten\n", "t.conf:1: time_limit_seconds: 'ten' "
	    "is invalid" },
	{ "time_limit_seconds = 10s\n", "'10s' is invalid" },
	{ "time_limit_seconds = 1e1\n", "'1e1' is invalid" },
	{ "time_limit_seconds = 0x10\n", "'0x10' is invalid" },
	{ "time_limit_seconds = 5 5\n", "'5 5' is invalid" },
	{ "time_limit_seconds = 5.0\n", "'5.0' is invalid" },
	{ "memory_limit_mb = 31\n", "memory_limit_mb: '31' is too small" },
	{ "max_output_bytes = 1023\n", "max_output_bytes: '1023' is too "
	    "small" },
	{ "max_file_bytes = 268435457\n", "max_file_bytes: '268435457' is "
	    "too large" },
	{ "max_stdin_bytes = -1\n", "max_stdin_bytes: '-1' is too small" },
	{ "max_attachments = 101\n", "max_attachments: '101' is too large" },
	{ "runtime_dir = run/pyexec\n", "t.conf:1: runtime_dir: must be an "
	    "absolute path" },
	{ "state_dir = ./state\n", "t.conf:1: state_dir: must be an absolute "
	    "path" },
	{ "\nadmin_api_key_file = admin.key\n", "t.conf:2: "
	    "admin_api_key_file: must be an absolute path" },
	{ "allowed_imports = math, os.path\n", "t.conf:1: allowed_imports: "
	    "'os.path' is not a module name" },
	{ "allowed_imports = 1abc\n", "allowed_imports: '1abc' is not a "
	    "module name" },
	{ "allowed_imports = a-b\n", "'a-b' is not a module name" },
	{ "allowed_imports = caf\xc3\xa9\n", "is not a module name" },
	{ "allowed_imports = a;b\n", "'a;b' is not a module name" },
	{ "mode = bogus\n", "t.conf:1: mode: 'bogus' is not exec or zygote" },
	{ "mode = Exec\n", "mode: 'Exec' is not exec or zygote" },
	{ "mode = exec # inline comment\n", "mode: 'exec # inline comment' "
	    "is not exec or zygote" },
	{ "bogus = 1\nbogus2 = 2\n", "t.conf:1: unknown key 'bogus'" },
};
#define NERRS	(sizeof(errs) / sizeof(errs[0]))

static void
test_errors(void)
{
	struct config	 c;
	size_t		 i;
	int		 rv;

	for (i = 0; i < NERRS; i++) {
		rv = parse(&c, errs[i].text);
		if (!ok(rv == -1 && strstr(err, errs[i].want) != NULL,
		    "error names line and reason: %s", errs[i].want))
			diag("rv %d, err \"%s\"", rv, err);
	}
}

/* Numeric keys (config_ranges.h): both ends of the range are accepted,
 * one beyond is not. */

static void
test_ranges(void)
{
	struct config	 c;
	char		 line[128];
	size_t		 i;
	int		 rv_lo, rv_hi, rv_below, rv_above;
	long long	 got_lo, got_hi;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		snprintf(line, sizeof(line), "%s = %lld\n", ranges[i].key,
		    ranges[i].min);
		rv_lo = parse(&c, line);
		got_lo = range_value(&c, i);
		snprintf(line, sizeof(line), "%s = %lld\n", ranges[i].key,
		    ranges[i].max);
		rv_hi = parse(&c, line);
		got_hi = range_value(&c, i);
		snprintf(line, sizeof(line), "%s = %lld\n", ranges[i].key,
		    ranges[i].min - 1);
		rv_below = parse(&c, line);
		snprintf(line, sizeof(line), "%s = %lld\n", ranges[i].key,
		    ranges[i].max + 1);
		rv_above = parse(&c, line);
		if (!ok(rv_lo == 0 && rv_hi == 0 && got_lo == ranges[i].min &&
		    got_hi == ranges[i].max && rv_below == -1 && rv_above == -1,
		    "%s: %lld..%lld accepted and stored, outside refused",
		    ranges[i].key, ranges[i].min, ranges[i].max))
			diag("rv %d %d %d %d, stored %lld %lld", rv_lo, rv_hi,
			    rv_below, rv_above, got_lo, got_hi);
	}
}

static void
test_imports(void)
{
	struct config	 c;
	char		*text;
	size_t		 i, o;

	is_int(parse(&c, "allowed_imports = a, b  c\n"), 0,
	    "allowed_imports: commas and spaces");
	is_str(c.allowed_imports, "a,b,c", "\"a, b  c\" -> \"a,b,c\"");
	parse(&c, "allowed_imports =  ,math ,, numpy\tPIL , _priv,x1,\n");
	is_str(c.allowed_imports, "math,numpy,PIL,_priv,x1",
	    "empty items, tabs and trailing commas dropped");
	is_int(parse(&c, "allowed_imports =\n"), 0, "an empty list is allowed");
	is_str(c.allowed_imports, "", "empty allowed_imports: nothing allowed");

	/* 700 names of 8 letters: 6299 bytes, over the 4096-byte field. */
	text = malloc(32 + 700 * 9);
	if (text == NULL)
		abort();
	o = (size_t)snprintf(text, 32, "allowed_imports = ");
	for (i = 0; i < 700; i++)
		o += (size_t)snprintf(text + o, 10, "%sabcdefg", i ? "," : "");
	text[o++] = '\n';
	text[o] = '\0';
	ok(parse(&c, text) == -1 && strstr(err, "t.conf:1: allowed_imports: "
	    "list too long") != NULL, "an over-long list is an error");

	/* allowed_imports_extra appends, wherever either key is. */
	is_int(parse(&c, "allowed_imports_extra = matplotlib, scipy\n"), 0,
	    "allowed_imports_extra alone");
	ok(strncmp(c.allowed_imports, "math,", 5) == 0 &&
	    strstr(c.allowed_imports, ",time,") != NULL &&
	    strcmp(c.allowed_imports + strlen(c.allowed_imports) - 21,
	    ",sys,matplotlib,scipy") == 0,
	    "extra names follow the whole default list (time kept)");
	parse(&c, "allowed_imports_extra = x, a\nallowed_imports = a, b\n");
	is_str(c.allowed_imports, "a,b,x", "extra before the list: appended "
	    "to the file's list, duplicates once");
	parse(&c, "allowed_imports = \nallowed_imports_extra = q\n");
	is_str(c.allowed_imports, "q", "extra to an empty list");
	ok(parse(&c, "allowed_imports_extra = os.path\n") == -1 &&
	    strstr(err, "t.conf:1: allowed_imports_extra: 'os.path' is not a "
	    "module name") != NULL, "extra names are checked like the list's");
	/* 440 names (3959 bytes) fit alone, not after the default list. */
	text[0] = '\0';
	o = (size_t)snprintf(text, 32, "allowed_imports_extra = ");
	for (i = 0; i < 440; i++)
		o += (size_t)snprintf(text + o, 10, "%sx%07zu", i ? "," : "",
		    i);
	text[o++] = '\n';
	text[o] = '\0';
	ok(parse(&c, text) == -1 && strstr(err, "t.conf: "
	    "allowed_imports_extra: the lists together are too long") != NULL,
	    "lists too long together: an error");
	memcpy(text, "allowed_imports      ", 21);
	ok(parse(&c, text) == 0 && strlen(c.allowed_imports) == 3959,
	    "the same names fit as the list itself");
	free(text);
}

static void
test_lines(void)
{
	struct config	 c;
	char		*text;
	int		 rv;

	text = malloc(20000);
	if (text == NULL)
		abort();

	/* The longest line allowed: 8190 bytes and the newline. */
	text[0] = '#';
	memset(text + 1, 'x', 8189);
	strlcpy(text + 8190, "\nmax_processes = 7\n", 100);
	rv = parse(&c, text);
	ok(rv == 0 && c.max_processes == 7, "an 8190-byte line is read whole");

	strlcpy(text, "mode = exec\n#", 20000);
	memset(text + 13, 'x', 9000);
	strlcpy(text + 9013, "\n", 10);
	ok(parse(&c, text) == -1 && strstr(err, "t.conf:2: line too long"),
	    "a 9001-byte line is an error naming line 2");

	/* A path at PATH_MAX - 1 bytes fits, one more does not. */
	strlcpy(text, "runtime_dir = /", 20000);
	memset(text + 15, 'p', PATH_MAX - 2);
	strlcpy(text + 15 + PATH_MAX - 2, "\n", 10);
	rv = parse(&c, text);
	ok(rv == 0 && strlen(c.runtime_dir) == PATH_MAX - 1,
	    "a path of PATH_MAX - 1 bytes is accepted");
	strlcpy(text, "runtime_dir = /", 20000);
	memset(text + 15, 'p', PATH_MAX - 1);
	strlcpy(text + 15 + PATH_MAX - 1, "\n", 10);
	ok(parse(&c, text) == -1 &&
	    strstr(err, "t.conf:1: runtime_dir: path too long") != NULL,
	    "a path of PATH_MAX bytes is an error");

	/*
	 * A NUL byte must not silently end the line: neither drop what
	 * follows it on that line...
	 */
	rv = parse_len(&c, "mode = zygote\nmax_processes = 5\0 junk\n", 38);
	ok(rv == -1 && strstr(err, "t.conf:2: NUL byte") != NULL,
	    "a NUL byte inside a line is an error naming the line");
	/* ...nor hide an over-long line from the length check. */
	text[0] = '#';
	text[1] = '\0';
	memset(text + 2, 'x', 8189);
	strlcpy(text + 8191, "bogus = 1\n", 100);
	rv = parse_len(&c, text, 8191 + 10);
	ok(rv == -1 && strstr(err, "t.conf:1: ") != NULL,
	    "a NUL cannot split an over-long line into two");
	free(text);
}

static void
test_load(void)
{
	struct config	 c;
	char		 path[] = "/tmp/test_config.XXXXXX", want[64];
	FILE		*fp;
	int		 fd;

	cfg_defaults(&c);
	ok(cfg_load(&c, "/nonexistent/pyexec.conf", err, sizeof(err)) == -1 &&
	    strstr(err, "/nonexistent/pyexec.conf") != NULL,
	    "cfg_load of a missing file fails naming the path");

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "mkstemp: %s", strerror(errno));
		ok(0, "mkstemp");
		ok(0, "mkstemp");
		return;
	}
	fclose(fp);
	cfg_defaults(&c);
	ok(cfg_load(&c, path, err, sizeof(err)) == 0 &&
	    c.time_limit_seconds == 10, "an empty file leaves the defaults");

	fp = fopen(path, "w");
	fputs("max_processes = 2\n\nbogus = 1\n", fp);
	fclose(fp);
	cfg_defaults(&c);
	snprintf(want, sizeof(want), "%s:3: unknown key 'bogus'", path);
	like(cfg_load(&c, path, err, sizeof(err)) == -1 ? err : "(rv 0)", want,
	    "cfg_load errors carry the file's path and line");

	fp = fopen(path, "w");
	fputs("max_processes = 2\n", fp);
	fclose(fp);
	cfg_defaults(&c);
	ok(cfg_load(&c, path, err, sizeof(err)) == 0 && c.max_processes == 2,
	    "cfg_load reads a real file");
	unlink(path);
}

static void
test_max_body(void)
{
	struct config	 c, d;
	size_t		 base;

	cfg_defaults(&c);
	base = cfg_max_body(&c);
	/* 2 attachments of 8 MiB as base64 alone are 22369624 bytes. */
	ok(base > 2 * b64_encoded_len(8388608) + 6 * 1048576 + 12 * 2000 &&
	    base < 64 * 1024 * 1024, "default cfg_max_body (%zu) covers the "
	    "limits and stays sane", base);

#define GROWS(f, v) do {						\
	d = c;								\
	d.f = (v);							\
	ok(cfg_max_body(&d) > base, "cfg_max_body grows with " #f);	\
} while (0)
	GROWS(max_code_chars, 2001);
	GROWS(max_stdin_bytes, 1048577);
	GROWS(max_file_bytes, 8388608 + 3);
	GROWS(max_attachments, 3);
	GROWS(max_return_files, 11);
#undef GROWS
	d = c;
	d.max_attachments = 0;
	ok(cfg_max_body(&d) < base - 2 * b64_encoded_len(8388608),
	    "no attachments: the base64 allowance goes away");

	/* Every limit at its maximum must not wrap around. */
	d.max_code_chars = 1000000;
	d.max_stdin_bytes = 256LL << 20;
	d.max_file_bytes = 256LL << 20;
	d.max_attachments = 100;
	d.max_return_files = 100;
	ok(cfg_max_body(&d) > (size_t)100 * b64_encoded_len(256U << 20),
	    "all maxima: no overflow");
}

int
main(void)
{
	plan(120);
	test_defaults();
	test_full_file();
	test_errors();
	test_ranges();
	test_imports();
	test_lines();
	test_load();
	test_max_body();
	return done_testing();
}
