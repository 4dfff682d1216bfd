/*
 * req_fuzzer.c: req_parse on arbitrary bodies, with a small fixed config
 * so that inputs of a few hundred bytes reach every limit. On success,
 * everything request.c promises about struct exec_req must hold; on
 * failure the request must be zeroed and the message fit for a reply.
 * Leaks on either path are caught by LeakSanitizer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "fuzz.h"

static struct config	 cfg;
static bool		 cfg_ready;

static void
check_name(const char *name)
{
	const char	*why;
	size_t		 n;

	CHECK(name != NULL);
	n = strlen(name);
	CHECK(name_check(name, n, &why) == 0);
	CHECK(utf8_count(name, n, &n) == 0);
}

/* The same rule request.c applies: equal, or one a directory of the other. */
static bool
clash(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > lb)
		return strncmp(a, b, lb) == 0 && a[lb] == '/';
	if (lb > la)
		return strncmp(a, b, la) == 0 && b[la] == '/';
	return strcmp(a, b) == 0;
}

static void
check_req(const struct exec_req *r)
{
	const char	*why;
	size_t		 i, j, n;

	CHECK(r->code != NULL && r->code[r->code_len] == '\0');
	CHECK(utf8_count(r->code, r->code_len, &n) == 0);
	CHECK(n == r->code_chars);
	CHECK(r->code_chars <= (size_t)cfg.max_code_chars);
	CHECK(r->code_chars <= r->code_len);

	if (r->stdin_data != NULL) {
		CHECK(r->stdin_len <= (size_t)cfg.max_stdin_bytes);
		CHECK(r->stdin_data[r->stdin_len] == '\0');
		CHECK(utf8_count(r->stdin_data, r->stdin_len, &n) == 0);
	} else
		CHECK(r->stdin_len == 0);
	CHECK(r->stdin_provided == (r->stdin_len > 0));

	if (r->api_key != NULL) {
		CHECK(r->api_key_len <= 1024);
		CHECK(r->api_key[r->api_key_len] == '\0');
	} else
		CHECK(r->api_key_len == 0);

	CHECK(r->natt <= (size_t)cfg.max_attachments);
	CHECK(r->natt == 0 || r->att != NULL);
	for (i = 0; i < r->natt; i++) {
		check_name(r->att[i].name);
		CHECK(!clash(r->att[i].name, PYX_SCRIPT_NAME));
		CHECK(r->att[i].len <= (size_t)cfg.max_file_bytes);
		CHECK(r->att[i].data != NULL);
		for (j = 0; j < i; j++)
			CHECK(!clash(r->att[i].name, r->att[j].name));
	}

	/* The limits in force: the server's, or lower ones, never below 1. */
	CHECK(r->limits.time_limit_seconds >= 1 &&
	    r->limits.time_limit_seconds <= cfg.time_limit_seconds);
	CHECK(r->limits.memory_limit_mb >= 32 &&
	    r->limits.memory_limit_mb <= cfg.memory_limit_mb);
	CHECK(r->limits.max_output_bytes >= 1024 &&
	    r->limits.max_output_bytes <= cfg.max_output_bytes);
	CHECK(r->limits.max_processes >= 1 &&
	    r->limits.max_processes <= cfg.max_processes);

	CHECK(r->nret <= (size_t)cfg.max_return_files);
	CHECK(r->nret == 0 || r->ret != NULL);
	for (i = 0; i < r->nret; i++) {
		n = strlen(r->ret[i]);
		/* "dir/": a directory, its name without the '/' checked. */
		if (n > 1 && r->ret[i][n - 1] == '/') {
			CHECK(name_check(r->ret[i], n - 1, &why) == 0);
			CHECK(utf8_count(r->ret[i], n, &n) == 0);
		} else
			check_name(r->ret[i]);
		for (j = 0; j < i; j++)
			CHECK(strcmp(r->ret[i], r->ret[j]) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct exec_req zero;
	struct exec_req	 r;
	enum pyx_err	 e;
	char		 msg[512];
	size_t		 n;

	if (!cfg_ready) {
		cfg_defaults(&cfg);
		cfg.max_code_chars = 64;
		cfg.max_stdin_bytes = 64;
		cfg.max_file_bytes = 48;
		cfg.max_attachments = 3;
		cfg.max_return_files = 3;
		cfg_ready = true;
	}

	memset(&r, 0xa5, sizeof(r));
	msg[0] = '\0';
	e = req_parse(&cfg, (const char *)data, size, &r, msg, sizeof(msg));
	if (e != PYX_OK) {
		CHECK(e == PYX_E_VALIDATION || e == PYX_E_INVALID_REQUEST);
		CHECK(memcmp(&r, &zero, sizeof(r)) == 0);
		CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
		CHECK(msg[0] != '\0');
		CHECK(utf8_count(msg, strlen(msg), &n) == 0);
		return 0;
	}
	/* Accepted: the body was NUL-free UTF-8. */
	CHECK(memchr(data, '\0', size) == NULL);
	CHECK(utf8_count((const char *)data, size, &n) == 0);
	check_req(&r);
	req_free(&r);
	CHECK(memcmp(&r, &zero, sizeof(r)) == 0);
	return 0;
}
