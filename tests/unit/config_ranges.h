/*
 * config_ranges.h: the documented range of every numeric configuration
 * key (README "Configuration", pyexec.conf(5)), written down once for the
 * tests: test_config.c checks that the parser accepts both ends and
 * refuses one beyond; fuzz/cfg_fuzzer.c checks that no accepted file
 * leaves a value outside. Deliberately not read from config.c: it is the
 * contract the parser is tested against.
 */
#ifndef CONFIG_RANGES_H
#define CONFIG_RANGES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/common.h"

static const struct {
	const char	*key;
	size_t		 off;
	bool		 ll;
	long long	 min;
	long long	 max;
} ranges[] = {
#define R(k, ll, lo, hi)	{ #k, offsetof(struct config, k), ll, lo, hi }
	R(time_limit_seconds, false, 1, 300),
	R(max_code_chars, false, 1, 1000000),
	R(max_attachments, false, 0, 100),
	R(max_file_bytes, true, 0, 256LL << 20),
	R(max_return_files, false, 0, 100),
	R(max_processes, false, 1, 4096),
	R(memory_limit_mb, false, 32, 65536),
	R(max_output_bytes, true, 1024, 256LL << 20),
	R(max_stdin_bytes, true, 0, 256LL << 20),
	R(workspace_limit_mb, false, 1, 16384),
	R(max_concurrent, false, 1, 4096),
	R(rate_limit_per_minute, false, 1, 1000000),
	R(daily_quota, false, 1, 100000000),
	R(rate_limit_ipv6_prefix, false, 32, 128),
	R(max_return_bytes, true, 0, 1LL << 30),
	R(zygote_max_runs, false, 1, 1000000),
	R(zygote_max_age_seconds, false, 1, 86400),
	R(prebuilt_jails, false, 0, 1),
	R(forked_cases, false, 0, 1),
	R(max_cases, false, 1, 10000),
	R(max_session_starts, false, 0, 64),
#undef R
};

/* The value of ranges[i]'s key in c. */
static inline long long
range_value(const struct config *c, size_t i)
{
	if (ranges[i].ll)
		return *(const long long *)((const char *)c + ranges[i].off);
	return *(const int *)((const char *)c + ranges[i].off);
}

#endif /* CONFIG_RANGES_H */
