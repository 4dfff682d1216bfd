/*
 * thin_init.c: the jail's thin init, what PID 1 of a run becomes once the
 * Python child exists. A small static program, compiled into the jail
 * library as bytes (thin.c puts them in a sealed, unreadable memfd), and
 * exec'd by init.c's become_thin() in place of the copy of the zygote (or
 * the worker) that built the jail: PID 1 then holds a few pages instead
 * of a second copy-on-write copy of a 50 MB interpreter for the whole run.
 *
 * What it inherits, and relies on: it is PID 1 of the run's PID
 * namespace, in the jail's root, with no capability, NO_NEW_PRIVS, the
 * script's seccomp filter, PR_SET_DEATHSIG, non-dumpable (its image is
 * unreadable to it, so the kernel keeps it so across the exec), and
 * exactly one open descriptor, the control socket at JAIL_THIN_CTL.
 * argv[1] is the Python child's pid.
 *
 * What it does: makes itself non-dumpable again (belt and braces: the
 * kernel already did, unless fs.suid_dumpable is 1), narrows its seccomp
 * filter to the three calls it still makes, then reaps every process of
 * the namespace until Python's own exit, which it reports (CTL_EXIT, as
 * init.c's fat reaper did) before exiting, which kills whatever is left.
 * It parses nothing but its own argv and trusts nothing the script does:
 * the only input is wait4's.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "jail/jail.h"

#define SBX_EXIT_SETUP	125

__attribute__((noreturn)) static void
fail(const char *step)
{
	static const char prefix[] = "thin init: ";
	struct ctl_msg	 m;
	size_t		 n = strlen(step);

	memset(&m, 0, sizeof(m));
	m.type = CTL_FAIL;
	m.err = errno;
	if (n > sizeof(m.text) - sizeof(prefix))
		n = sizeof(m.text) - sizeof(prefix);
	memcpy(m.text, prefix, sizeof(prefix) - 1);
	memcpy(m.text + sizeof(prefix) - 1, step, n);	/* NUL: memset */
	(void)!write(JAIL_THIN_CTL, &m, sizeof(m));
	_exit(SBX_EXIT_SETUP);
}

/* A pid as init.c wrote it: decimal digits only, 1 .. INT32_MAX. */
static pid_t
parse_pid(const char *s)
{
	long	 v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 0x7fffffffL / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 && v <= 0x7fffffffL ? (pid_t)v : -1;
}

/*
 * Stacked on the script's filter (seccomp filters only ever add): wait4,
 * write, exit_group and exit, on this architecture only; anything else
 * kills it. On an architecture not listed, the script's filter alone.
 */
#if defined(__x86_64__)
#define THIN_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIN_ARCH	AUDIT_ARCH_AARCH64
#endif

static int
narrow_filter(void)
{
#ifdef THIN_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIN_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
#else
	return 0;
#endif
}

int
main(int argc, char *argv[])
{
	struct ctl_msg	 m;
	struct rusage	 ru;
	pid_t		 py, w;
	int		 st;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fail("PR_SET_DUMPABLE");
	/* Exec'd as /proc/self/fd/N, it would show up in ps as "N". */
	(void)prctl(PR_SET_NAME, "pyexec-init", 0, 0, 0);
	errno = EINVAL;
	if (argc != 2 || (py = parse_pid(argv[1])) == -1)
		fail("usage");
	if (narrow_filter() == -1)
		fail("seccomp");
	for (;;) {
		w = wait4(-1, &st, 0, &ru);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			fail("wait4");
		}
		if (w != py)
			continue;	/* an orphan the script left: reaped */
		memset(&m, 0, sizeof(m));
		m.type = CTL_EXIT;
		m.wstatus = st;
		m.ru = ru;
		(void)!write(JAIL_THIN_CTL, &m, sizeof(m));
		/* PID 1's exit kills every process left in the namespace. */
		_exit(0);
	}
}
