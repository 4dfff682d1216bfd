/*
 * config.c: the one configuration file, "key = value" lines and "#"
 * comments. Owns struct config, which is read-only after start-up.
 *
 * Strict on purpose: an unknown key, a duplicate key, a malformed or
 * out-of-range value is an error that names the line, and the worker
 * refuses to start. A typo must never silently leave a limit at a default.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "jail/jail.h"		/* PYX_NAME_MAX */

/* Seed 002's allowlist (35 modules, compared on the first dotted part) plus sys. */
#define DEFAULT_IMPORTS \
	"math,statistics,decimal,fractions,numbers,random,numpy,datetime," \
	"time,calendar,string,re,textwrap,unicodedata,collections," \
	"itertools,functools,operator,bisect,heapq,array,json,ast,typing," \
	"enum,dataclasses,copy,pprint,hashlib,uuid,secrets,base64,PIL," \
	"reportlab,fpdf,sys"

enum cfg_kind { K_INT, K_LL, K_PATH, K_IMPORTS, K_MODE, K_UIDS };

struct cfg_key {
	const char	*name;
	enum cfg_kind	 kind;
	size_t		 off;
	long long	 min;
	long long	 max;
};

#define OFF(f)	offsetof(struct config, f)
static const struct cfg_key cfg_keys[] = {
	{ "time_limit_seconds",	K_INT,	OFF(time_limit_seconds), 1, 300 },
	{ "max_code_chars",	K_INT,	OFF(max_code_chars), 1, 1000000 },
	{ "max_attachments",	K_INT,	OFF(max_attachments), 0, 100 },
	{ "max_file_bytes",	K_LL,	OFF(max_file_bytes), 0, 256LL << 20 },
	{ "max_return_files",	K_INT,	OFF(max_return_files), 0, 100 },
	{ "max_return_bytes",	K_LL,	OFF(max_return_bytes), 0, 1LL << 30 },
	{ "max_processes",	K_INT,	OFF(max_processes), 1, 4096 },
	{ "memory_limit_mb",	K_INT,	OFF(memory_limit_mb), 32, 65536 },
	{ "max_output_bytes",	K_LL,	OFF(max_output_bytes), 1024, 256LL << 20 },
	{ "max_stdin_bytes",	K_LL,	OFF(max_stdin_bytes), 0, 256LL << 20 },
	{ "workspace_limit_mb",	K_INT,	OFF(workspace_limit_mb), 1, 16384 },
	{ "max_concurrent",	K_INT,	OFF(max_concurrent), 1, 4096 },
	{ "max_queue_wait_ms",	K_INT,	OFF(max_queue_wait_ms), 0, 60000 },
	{ "max_queue_waiters",	K_INT,	OFF(max_queue_waiters), 1, 256 },
	{ "rate_limit_per_minute", K_INT, OFF(rate_limit_per_minute), 1, 1000000 },
	{ "daily_quota",	K_INT,	OFF(daily_quota), 1, 100000000 },
	{ "rate_limit_ipv6_prefix", K_INT, OFF(rate_limit_ipv6_prefix), 32, 128 },
	{ "admin_api_key_file",	K_PATH,	OFF(admin_api_key_file), 0, 0 },
	{ "compat_token_file",	K_PATH,	OFF(compat_token_file), 0, 0 },
	{ "allowed_imports",	K_IMPORTS, OFF(allowed_imports), 0, 0 },
	{ "allowed_imports_extra", K_IMPORTS, OFF(allowed_imports_extra), 0, 0 },
	{ "runtime_dir",	K_PATH,	OFF(runtime_dir), 0, 0 },
	{ "state_dir",		K_PATH,	OFF(state_dir), 0, 0 },
	{ "mode",		K_MODE,	OFF(mode), 0, 0 },
	{ "zygote_path",	K_PATH,	OFF(zygote_path), 0, 0 },
	{ "zygote_max_runs",	K_INT,	OFF(zygote_max_runs), 1, 1000000 },
	{ "zygote_max_age_seconds", K_INT, OFF(zygote_max_age_seconds), 1, 86400 },
	{ "prebuilt_jails", K_INT, OFF(prebuilt_jails), 0, 1 },
	{ "forked_cases", K_INT, OFF(forked_cases), 0, 1 },
	{ "run_uids",		K_UIDS,	OFF(run_uids), 0, 0 },
	{ "uidmap_socket",	K_PATH,	OFF(uidmap_socket), 0, 0 },
	{ "max_cases",		K_INT,	OFF(max_cases), 1, 10000 },
	{ "max_sessions",	K_INT,	OFF(max_sessions), 0, 4096 },
	{ "max_sessions_per_ip", K_INT, OFF(max_sessions_per_ip), 1, 4096 },
	{ "max_session_starts", K_INT, OFF(max_session_starts), 0, 64 },
	{ "session_idle_seconds", K_INT, OFF(session_idle_seconds), 1, 604800 },
	{ "session_max_seconds", K_INT, OFF(session_max_seconds), 1, 604800 },
	{ "session_memory_mb",	K_INT,	OFF(session_memory_mb), 32, 65536 },
	{ "session_cpu_seconds", K_INT, OFF(session_cpu_seconds), 1, 86400 },
};
#define NKEYS	(sizeof(cfg_keys) / sizeof(cfg_keys[0]))

void
cfg_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->time_limit_seconds = 10;
	c->max_code_chars = 2000;
	c->max_attachments = 2;
	c->max_file_bytes = 8388608;
	c->max_return_files = 10;
	c->max_return_bytes = 16LL << 20;
	c->max_processes = 10;
	c->memory_limit_mb = 512;
	c->max_output_bytes = 1048576;
	c->max_stdin_bytes = 1048576;
	c->workspace_limit_mb = 64;
	c->max_concurrent = 5;
	c->max_queue_wait_ms = 0;
	c->max_queue_waiters = 16;
	c->rate_limit_per_minute = 5;
	c->daily_quota = 30;
	c->rate_limit_ipv6_prefix = 64;
	strlcpy(c->allowed_imports, DEFAULT_IMPORTS, sizeof(c->allowed_imports));
	strlcpy(c->runtime_dir, "/run/pyexec", sizeof(c->runtime_dir));
	strlcpy(c->state_dir, "/var/lib/pyexec", sizeof(c->state_dir));
	c->mode = MODE_ZYGOTE;
	strlcpy(c->zygote_path, PKGLIBEXECDIR "/pyexec-zygote",
	    sizeof(c->zygote_path));
	c->zygote_max_runs = 1000;
	c->zygote_max_age_seconds = 600;
	c->prebuilt_jails = 1;
	c->forked_cases = 1;
	c->run_uids = UIDS_PER_SLOT;
	strlcpy(c->uidmap_socket, "/run/pyexec-uidmap.sock",
	    sizeof(c->uidmap_socket));
	c->max_cases = 100;
	c->max_sessions = 16;
	c->max_sessions_per_ip = 2;
	c->max_session_starts = 0;	/* one per online CPU */
	c->session_idle_seconds = 600;
	c->session_max_seconds = 3600;
	c->session_memory_mb = 0;	/* = memory_limit_mb */
	c->session_cpu_seconds = 300;
}

static bool
is_ident(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* "a, b c" -> "a,b,c"; each name must be a Python identifier. */
static int
parse_imports(const char *v, char *out, size_t outlen, char *err, size_t errlen)
{
	const char	*p = v, *start;
	size_t		 o = 0, n;

	out[0] = '\0';
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != ',' && !isspace((unsigned char)*p))
			p++;
		n = (size_t)(p - start);
		if (!is_ident(start, n)) {
			snprintf(err, errlen, "'%.*s' is not a module name",
			    (int)utf8_complete_len(start, n > 64 ? 64 : n), start);
			return -1;
		}
		if (o + n + 2 > outlen) {
			snprintf(err, errlen, "list too long");
			return -1;
		}
		if (o)
			out[o++] = ',';
		memcpy(out + o, start, n);
		o += n;
		out[o] = '\0';
	}
	return 0;
}

/*
 * allowed_imports_extra adds to allowed_imports (the default list, or the
 * file's own), wherever either appears in the file: replacing the list to
 * add numpy used to drop every default module not named again.
 */
static int
merge_imports(struct config *c, char *err, size_t errlen)
{
	char		*out = c->allowed_imports;
	const char	*p, *q, *have;
	size_t		 o = strlen(out), n, hl, outlen = sizeof(c->allowed_imports);
	bool		 dup;

	for (p = c->allowed_imports_extra; *p != '\0'; p = *q ? q + 1 : q) {
		q = p + strcspn(p, ",");
		n = (size_t)(q - p);
		dup = false;
		for (have = out; *have != '\0' && !dup;) {
			hl = strcspn(have, ",");
			dup = hl == n && memcmp(have, p, n) == 0;
			have += hl;
			if (*have == ',')
				have++;
		}
		if (dup)
			continue;
		if (o + n + 2 > outlen) {
			snprintf(err, errlen, "allowed_imports_extra: the lists "
			    "together are too long");
			return -1;
		}
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, p, n);
		o += n;
		out[o] = '\0';
	}
	return 0;
}

static int
set_key(struct config *c, const struct cfg_key *k, const char *v, char *err,
    size_t errlen)
{
	const char	*errstr;
	long long	 n;
	char		*dst;

	switch (k->kind) {
	case K_INT:
	case K_LL:
		n = strtonum(v, k->min, k->max, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "%s: '%s' is %s (allowed %lld..%lld)",
			    k->name, v, errstr, k->min, k->max);
			return -1;
		}
		if (k->kind == K_INT)
			*(int *)((char *)c + k->off) = (int)n;
		else
			*(long long *)((char *)c + k->off) = n;
		return 0;
	case K_PATH:
		dst = (char *)c + k->off;
		if (v[0] != '/') {
			snprintf(err, errlen, "%s: must be an absolute path",
			    k->name);
			return -1;
		}
		if (strlcpy(dst, v, PATH_MAX) >= PATH_MAX) {
			snprintf(err, errlen, "%s: path too long", k->name);
			return -1;
		}
		return 0;
	case K_IMPORTS:
		if (parse_imports(v, (char *)c + k->off,
		    sizeof(c->allowed_imports), err, errlen) == -1) {
			/* prefix the key name */
			char	 tmp[256];

			strlcpy(tmp, err, sizeof(tmp));
			snprintf(err, errlen, "%s: %s", k->name, tmp);
			return -1;
		}
		return 0;
	case K_MODE:
		if (strcmp(v, "exec") == 0)
			c->mode = MODE_EXEC;
		else if (strcmp(v, "zygote") == 0)
			c->mode = MODE_ZYGOTE;
		else {
			snprintf(err, errlen, "mode: '%s' is not exec or zygote",
			    v);
			return -1;
		}
		return 0;
	case K_UIDS:
		if (strcmp(v, "per-slot") == 0)
			c->run_uids = UIDS_PER_SLOT;
		else if (strcmp(v, "shared") == 0)
			c->run_uids = UIDS_SHARED;
		else {
			snprintf(err, errlen, "run_uids: '%s' is not per-slot or "
			    "shared", v);
			return -1;
		}
		return 0;
	}
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The longest line, without its newline. */
#define CFG_LINE_MAX	8190

/*
 * Parses fp into c (which holds defaults). name is used in messages.
 * On error returns -1 with "name:line: reason" in err.
 *
 * getline(), not fgets(): only getline() says how many bytes it read, so
 * a NUL byte cannot cut a line short unseen (and hide the rest of it, or
 * split an over-long line into two that each pass the length check).
 */
int
cfg_parse(struct config *c, FILE *fp, const char *name, char *err,
    size_t errlen)
{
	char		*line = NULL, why[512];
	char		*p, *eq, *key, *val;
	bool		 seen[NKEYS] = { false };
	size_t		 i, linecap = 0;
	ssize_t		 len;
	int		 lineno = 0, rv = -1;

	while ((len = getline(&line, &linecap, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > CFG_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line too long", name,
			    lineno);
			goto out;
		}
		if (memchr(line, '\0', (size_t)len) != NULL) {
			snprintf(err, errlen, "%s:%d: NUL byte", name, lineno);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'",
			    name, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(p);
		val = trim(eq + 1);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(key, cfg_keys[i].name) == 0)
				break;
		if (i == NKEYS) {
			snprintf(err, errlen, "%s:%d: unknown key '%.*s'", name,
			    lineno, (int)utf8_cut(key, 64), key);
			goto out;
		}
		if (seen[i]) {
			snprintf(err, errlen, "%s:%d: '%s' is set twice", name,
			    lineno, key);
			goto out;
		}
		seen[i] = true;
		if (*val == '\0' && cfg_keys[i].kind != K_IMPORTS) {
			snprintf(err, errlen, "%s:%d: '%s' has no value", name,
			    lineno, key);
			goto out;
		}
		if (set_key(c, &cfg_keys[i], val, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, why);
			goto out;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", name);
		goto out;
	}
	if (merge_imports(c, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		goto out;
	}
	rv = 0;
out:
	free(line);
	return rv;
}

int
cfg_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	int	 rv;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rv = cfg_parse(c, fp, path, err, errlen);
	fclose(fp);
	return rv;
}

/* The server's own limits: what a request gets unless it asks for less. */
void
cfg_run_limits(const struct config *c, struct run_limits *l)
{
	l->time_limit_seconds = c->time_limit_seconds;
	l->memory_limit_mb = c->memory_limit_mb;
	l->max_output_bytes = c->max_output_bytes;
	l->max_processes = c->max_processes;
}

/*
 * The largest body a valid request can have, so that nginx and the worker
 * both refuse anything bigger before parsing it. JSON may spell one code
 * point as a 12-byte surrogate-pair escape and one byte as a 6-byte \u
 * escape; base64 grows 4/3 (see below for its escapes); names are capped
 * at PYX_NAME_MAX. Base64 spelled with \u escapes is not covered: such a
 * request gets 413.
 */
size_t
cfg_max_body(const struct config *c)
{
	size_t	 b64, att, ret;

	/*
	 * "\/" for every "/" (PHP's json_encode default) doubles base64 at
	 * worst; an escaped CRLF ("\r\n", 4 bytes) may follow every 64.
	 */
	b64 = 2 * b64_encoded_len((size_t)c->max_file_bytes);
	b64 += (b64_encoded_len((size_t)c->max_file_bytes) / 64 + 1) * 4;
	att = (size_t)c->max_attachments * (b64 + 6 * PYX_NAME_MAX + 128);
	ret = (size_t)c->max_return_files * (6 * PYX_NAME_MAX + 8);
	return 12 * (size_t)c->max_code_chars + 6 * (size_t)c->max_stdin_bytes +
	    att + ret + 6 * 1024 /* api_key */ + 64 * 1024 /* structure */;
}
