/*
 * thin_init.c: the jail's thin init, what PID 1 of a run becomes once the
 * Python child exists. A tiny static program without libc (a few KiB:
 * its image is compiled into the jail library as bytes and so into the
 * zygote, whose address space counts against every run's RLIMIT_AS; and
 * libc's start-up alone would cost ~20 page faults per run), which
 * thin.c puts in a sealed, unreadable memfd, and
 * exec'd by init.c's become_thin() in place of the copy of the zygote (or
 * the worker) that built the jail: PID 1 then holds a few pages instead
 * of a second copy-on-write copy of a 50 MB interpreter for the whole run.
 *
 * What it inherits, and relies on: it is PID 1 of the run's PID
 * namespace, in the jail's root, with no capability, NO_NEW_PRIVS, the
 * script's seccomp filter, PR_SET_DEATHSIG, non-dumpable (its image is
 * unreadable to it, so the kernel keeps it so across the exec), and
 * exactly one open descriptor, the control socket at JAIL_THIN_CTL.
 * argv[1] is the Python child's pid; argv[2], if present, is "keep": the
 * jail is a session's.
 *
 * What it does: makes itself non-dumpable again (belt and braces: the
 * kernel already did, unless fs.suid_dumpable is 1), narrows its seccomp
 * filter to the calls it still makes, then reaps every process of the
 * namespace until Python's own exit, which it reports (CTL_EXIT, as
 * init.c's fat reaper did) before exiting, which kills whatever is left.
 * A session's init instead reaps on after that report, because forks of
 * the session (reparented to it) may outlive the first interpreter; once
 * it has no child left, none can appear (every process of the namespace
 * descends from it), and it waits for the end of the control socket,
 * i.e. its keeper's. While it has children it cannot watch the socket:
 * then the parent-death signal (re-armed by init.c after the uid change)
 * ends it with its keeper.
 * It parses nothing but its own argv and trusts nothing the script does:
 * its inputs are wait4's and, for a session, the length of a read.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stddef.h>

#include "jail/jail.h"

#define SBX_EXIT_SETUP	125

/*
 * The system calls, without libc. Linux returns -errno in the result
 * register; nothing here needs errno itself, only whether it failed.
 */
#if defined(__x86_64__)
#define THIN_ARCH	AUDIT_ARCH_X86_64
/*
 * No stack protector: there is no TLS for its canary here. The flag in
 * Makefile.am is not enough: a distribution's CFLAGS (Debian's
 * -fstack-protector-strong) come after a target's own, so the compiler is
 * told here too.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("no-stack-protector")
#endif

static long
sys5(long n, long a, long b, long c, long d, long e)
{
	register long	 r10 __asm__("r10") = d;
	register long	 r8 __asm__("r8") = e;
	long		 ret;

	__asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b),
	    "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
	return ret;
}
/* The kernel's entry: the stack holds argc, then argv. */
__asm__(".text\n.global _start\n_start:\n\txor %rbp, %rbp\n"
    "\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall thin_main\n\thlt\n");
#elif defined(__aarch64__)
#define THIN_ARCH	AUDIT_ARCH_AARCH64
static long
sys5(long n, long a, long b, long c, long d, long e)
{
	register long	 x8 __asm__("x8") = n;
	register long	 x0 __asm__("x0") = a;
	register long	 x1 __asm__("x1") = b;
	register long	 x2 __asm__("x2") = c;
	register long	 x3 __asm__("x3") = d;
	register long	 x4 __asm__("x4") = e;

	__asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2),
	    "r"(x3), "r"(x4) : "memory");
	return x0;
}
__asm__(".text\n.global _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n"
    "\tmov x0, sp\n\tbl thin_main\n");
#endif

/*
 * Elsewhere thin.c refuses to make an image and init stays as it was
 * (it reaps in the copy it is); this is then an empty program.
 */
#ifdef THIN_ARCH
/* The compiler may call these for the struct below; there is no libc. */
void	*memset(void *, int, size_t);
void	*memset(void *p, int c, size_t n)
{
	volatile unsigned char *d = p;

	while (n-- > 0)
		*d++ = (unsigned char)c;
	return p;
}

void	*memcpy(void *, const void *, size_t);
void	*memcpy(void *to, const void *from, size_t n)
{
	volatile unsigned char	*d = to;
	const unsigned char	*s = from;

	while (n-- > 0)
		*d++ = *s++;
	return to;
}

__attribute__((noreturn)) static void
sys_exit(int status)
{
	for (;;)
		(void)sys5(SYS_exit_group, status, 0, 0, 0, 0);
}

static void
report(struct ctl_msg *m)
{
	(void)sys5(SYS_write, JAIL_THIN_CTL, (long)m, sizeof(*m), 0, 0);
}

__attribute__((noreturn)) static void
fail(const char *step, long err)
{
	static const char prefix[] = "thin init: ";
	struct ctl_msg	 m;
	size_t		 i, n = 0;

	memset(&m, 0, sizeof(m));
	m.type = CTL_FAIL;
	m.err = (int32_t)-err;
	for (i = 0; i < sizeof(prefix) - 1; i++)
		m.text[n++] = prefix[i];
	for (i = 0; step[i] != '\0' && n < sizeof(m.text) - 1; i++)
		m.text[n++] = step[i];
	report(&m);
	sys_exit(SBX_EXIT_SETUP);
}

/* A pid as init.c wrote it: decimal digits only, 1 .. INT32_MAX. */
static long
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
	return v > 0 && v <= 0x7fffffffL ? v : -1;
}

/*
 * Stacked on the script's filter (seccomp filters only ever add): wait4,
 * write, exit_group and exit, and read for a session's, on this
 * architecture only; anything else kills it.
 */
static long
narrow_filter(int keep)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIN_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 2, 0),
		/* A run's init: write again, i.e. no fifth call. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    keep ? SYS_read : SYS_write, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return sys5(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
	    (long)&prog, 0, 0);
}

/*
 * A session's init without children: only the end of the control socket
 * (the keeper holds it for life) or a signal ends it. Nothing is sent to
 * init after the go; anything that is, is read and dropped.
 */
__attribute__((noreturn)) static void
wait_for_keeper(void)
{
	char	 buf[sizeof(struct ctl_msg)];
	long	 r;

	for (;;) {
		r = sys5(SYS_read, JAIL_THIN_CTL, (long)buf, sizeof(buf), 0, 0);
		if (r == 0 || (r < 0 && r != -EINTR))
			sys_exit(0);	/* kills the namespace */
	}
}

__attribute__((noreturn, used)) void thin_main(long *);

__attribute__((noreturn, used)) void
thin_main(long *sp)
{
	char		**argv = (char **)(sp + 1);
	struct ctl_msg	 m;
	struct rusage	 ru;
	long		 py, w, r;
	int		 st, keep;

	if ((r = sys5(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0)) < 0)
		fail("PR_SET_DUMPABLE", r);
	/* Exec'd as /proc/self/fd/N, it would show up in ps as "N". */
	(void)sys5(SYS_prctl, PR_SET_NAME, (long)"pyexec-init", 0, 0, 0);
	keep = sp[0] == 3 && argv[2][0] == 'k' && argv[2][1] == 'e' &&
	    argv[2][2] == 'e' && argv[2][3] == 'p' && argv[2][4] == '\0';
	if ((sp[0] != 2 && !keep) || (py = parse_pid(argv[1])) == -1)
		fail("usage", -EINVAL);
	if ((r = narrow_filter(keep)) < 0)
		fail("seccomp", r);
	for (;;) {
		w = sys5(SYS_wait4, -1, (long)&st, 0, (long)&ru, 0);
		if (w == -EINTR)
			continue;
		if (w == -ECHILD && keep && py == -1)
			wait_for_keeper();
		if (w < 0)
			fail("wait4", w);
		if (w != py)
			continue;	/* an orphan, or a fork: reaped */
		memset(&m, 0, sizeof(m));
		m.type = CTL_EXIT;
		m.wstatus = st;
		m.ru = ru;
		report(&m);
		if (keep) {
			py = -1;	/* its forks may live on */
			continue;
		}
		/* PID 1's exit kills every process left in the namespace. */
		sys_exit(0);
	}
}
#else
int	 main(void);
int
main(void)
{
	return SBX_EXIT_SETUP;
}
#endif
