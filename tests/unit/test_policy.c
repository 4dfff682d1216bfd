/*
 * test_policy.c: the seccomp compiler (policy/policy.c). Compiles the
 * real filter, dumps it, and makes libseccomp fail where policy.c cannot
 * provoke it (seccomp_attr_set, wrapped at link time with
 * -Wl,--wrap=seccomp_attr_set) to check that every failure leaves a
 * message, and never reads the caller's uninitialised buffer (valgrind
 * runs this test too).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "policy/policy.h"
#include "tap.h"

int	__real_seccomp_attr_set(scmp_filter_ctx, enum scmp_filter_attr,
	    uint32_t);
int	__wrap_seccomp_attr_set(scmp_filter_ctx, enum scmp_filter_attr,
	    uint32_t);

static int fail_attr;

int
__wrap_seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr,
    uint32_t value)
{
	if (fail_attr)
		return -EINVAL;
	return __real_seccomp_attr_set(ctx, attr, value);
}

int
main(void)
{
	struct policy	 p;
	char		 err[256], dirty[256];
	const char	*tool;
	int		 fd;

	plan(9);
	/*
	 * libseccomp asks the kernel through seccomp(2), which valgrind does
	 * not implement (PYX_TEST_TOOL, set by valgrind.sh): there only the
	 * failure paths below, the point of running under valgrind, are run.
	 */
	tool = getenv("PYX_TEST_TOOL");
	if (tool != NULL && strcmp(tool, "valgrind") == 0) {
		skip(4, "valgrind does not implement seccomp(2)");
	} else {
		ok(policy_prepare(&p, err, sizeof(err)) == 0,
		    "the filter compiles");
		ok(p.len > 0 && p.prog != NULL, "into %u BPF instructions",
		    p.len);
		policy_free(&p);
		ok(p.prog == NULL && p.len == 0, "policy_free clears it");

		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		ok(policy_dump(fd, err, sizeof(err)) == 0,
		    "policy_dump writes it");
		close(fd);
	}

	/* A buffer with no terminator: nothing may read it before writing. */
	memset(dirty, 'x', sizeof(dirty));
	fail_attr = 1;
	ok(policy_dump(STDOUT_FILENO, dirty, sizeof(dirty)) == -1,
	    "policy_dump fails when libseccomp does");
	ok(memchr(dirty, '\0', sizeof(dirty)) != NULL,
	    "... with a terminated message");
	like(dirty, "seccomp_attr_set", "... naming the failed call");
	memset(dirty, 'x', sizeof(dirty));
	ok(policy_prepare(&p, dirty, sizeof(dirty)) == -1 && p.prog == NULL,
	    "policy_prepare fails too, holding nothing");
	like(dirty, "seccomp_attr_set", "... naming the failed call");
	fail_attr = 0;
	return done_testing();
}
