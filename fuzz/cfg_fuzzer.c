/*
 * cfg_fuzzer.c: cfg_parse on arbitrary files through fmemopen. A parse
 * that succeeds must leave every value inside its documented range; a
 * parse that fails must say where.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "../tests/unit/config_ranges.h"

static void
check_path(const char *p, bool may_be_empty)
{
	size_t	 n = strnlen(p, PATH_MAX);

	CHECK(n < PATH_MAX);
	if (n == 0)
		CHECK(may_be_empty);
	else
		CHECK(p[0] == '/');
}

/* "a,b,c": identifiers separated by single commas, or empty. */
static void
check_imports(const char *s)
{
	size_t	 i, n = strnlen(s, 4096), start = 0;

	CHECK(n < 4096);
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ',') {
			CHECK(isalnum((unsigned char)s[i]) || s[i] == '_');
			continue;
		}
		if (n == 0)
			break;
		CHECK(i > start);	/* no empty item */
		CHECK(!isdigit((unsigned char)s[start]));
		start = i + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 c;
	char		 err[1024];
	FILE		*fp;
	long long	 v;
	size_t		 i;
	int		 rv;

	if (size == 0)
		return 0;	/* fmemopen wants at least one byte */
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	cfg_defaults(&c);
	err[0] = '\0';
	rv = cfg_parse(&c, fp, "fuzz.conf", err, sizeof(err));
	fclose(fp);
	if (rv != 0) {
		CHECK(rv == -1);
		CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		return 0;
	}
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		v = range_value(&c, i);
		CHECK(v >= ranges[i].min && v <= ranges[i].max);
	}
	check_path(c.admin_api_key_file, true);
	check_path(c.runtime_dir, false);
	check_path(c.state_dir, false);
	check_imports(c.allowed_imports);
	CHECK(c.mode == MODE_EXEC || c.mode == MODE_ZYGOTE);
	CHECK(cfg_max_body(&c) > 0);
	return 0;
}
