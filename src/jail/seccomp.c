/*
 * seccomp.c: installs the filter that policy/ compiled, as the last step
 * before the jail's Python starts. Part of the jail library: one prctl,
 * one syscall, nothing else (no libseccomp here).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <unistd.h>

#include "jail/jail.h"

/*
 * Runs in the jail between clone and exec: one prctl, one syscall, no
 * allocation. NO_NEW_PRIVS is required for an unprivileged filter and
 * also makes set-id bits inert across exec.
 */
int
policy_apply(const struct policy *p)
{
	struct sock_fprog	 prog;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	prog.len = p->len;
	prog.filter = p->prog;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
