/*
 * policy.h: the seccomp compiler (src/policy/). Turns the allowlist into
 * raw BPF once per process, with libseccomp, before any jail exists; the
 * jail library only installs the result (policy_apply, src/jail/).
 *
 * Rules: runs in the worker and the zygote at start-up, never in a jail.
 */
#ifndef PYX_POLICY_H
#define PYX_POLICY_H

#include <stddef.h>

#include "jail/jail.h"		/* struct policy */

int	 policy_prepare(struct policy *, char *, size_t);
int	 policy_dump(int, char *, size_t);
void	 policy_free(struct policy *);

#endif /* PYX_POLICY_H */
