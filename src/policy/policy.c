/*
 * policy.c: the seccomp filter every jailed process runs under.
 *
 * Owns the allowlist and its compiled BPF. policy_prepare() compiles it
 * once per worker with libseccomp and keeps only the exported BPF, so the
 * jail can install it with one seccomp(2) call: no libseccomp, no malloc
 * between clone and exec. The jail library's policy_apply()
 * (src/jail/seccomp.c) installs it as the last step before exec.
 *
 * Shape: default ENOSYS (an unknown syscall looks unimplemented, so glibc
 * and CPython take their fallbacks), an allowlist of what CPython, numpy,
 * Pillow, matplotlib and reportlab use, and explicit EPERM rules for the
 * dangerous families so a denial is unmistakable. Syscalls of any other
 * architecture (i386 via int 0x80, x32) kill the process: the namespaces
 * already hold, and there is no reason to expose a second syscall table.
 *
 * The namespaces are the boundary; this filter shrinks the kernel surface
 * behind it (the code paths that have produced most namespace escapes).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"
#include "policy/policy.h"

/* Syscalls a Python script may make. */
static const int allow[] = {
	/* I/O on descriptors it holds */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(preadv2), SCMP_SYS(pwritev2),
	SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(close_range),
	SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(fcntl),
	SCMP_SYS(flock), SCMP_SYS(pipe), SCMP_SYS(pipe2),
	SCMP_SYS(sendfile), SCMP_SYS(copy_file_range), SCMP_SYS(splice),
	SCMP_SYS(tee), SCMP_SYS(readahead), SCMP_SYS(ftruncate),
	SCMP_SYS(truncate), SCMP_SYS(fallocate),
	/* the file system it can see: a read-only root and its workspace */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
	SCMP_SYS(stat), SCMP_SYS(fstat), SCMP_SYS(lstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(statfs),
	SCMP_SYS(fstatfs), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(getcwd), SCMP_SYS(chdir), SCMP_SYS(fchdir),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(link), SCMP_SYS(linkat),
	SCMP_SYS(symlink), SCMP_SYS(symlinkat), SCMP_SYS(chmod),
	SCMP_SYS(fchmod), SCMP_SYS(fchmodat), SCMP_SYS(umask),
	SCMP_SYS(utime), SCMP_SYS(utimes), SCMP_SYS(utimensat),
	SCMP_SYS(futimesat), SCMP_SYS(getxattr), SCMP_SYS(lgetxattr),
	SCMP_SYS(fgetxattr), SCMP_SYS(listxattr), SCMP_SYS(llistxattr),
	SCMP_SYS(flistxattr),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(mincore),
	SCMP_SYS(membarrier),
	/* processes and threads, inside its own PID namespace */
	SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(execve), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill),
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid),
	SCMP_SYS(getpgrp), SCMP_SYS(getpgid), SCMP_SYS(setpgid),
	SCMP_SYS(getsid), SCMP_SYS(setsid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getgroups),
	SCMP_SYS(capget), SCMP_SYS(futex), SCMP_SYS(set_robust_list),
	SCMP_SYS(get_robust_list), SCMP_SYS(set_tid_address),
	SCMP_SYS(rseq), SCMP_SYS(arch_prctl), SCMP_SYS(prctl),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_setaffinity), SCMP_SYS(sched_getparam),
	SCMP_SYS(sched_getscheduler), SCMP_SYS(sched_get_priority_max),
	SCMP_SYS(sched_get_priority_min), SCMP_SYS(getpriority),
	SCMP_SYS(setpriority), SCMP_SYS(getrlimit), SCMP_SYS(setrlimit),
	SCMP_SYS(prlimit64), SCMP_SYS(getrusage), SCMP_SYS(times),
	SCMP_SYS(sysinfo), SCMP_SYS(uname), SCMP_SYS(getrandom),
	SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_send_signal),
	/*
	 * signals and time. restart_syscall is how the kernel resumes a call
	 * a signal interrupted (a thread's futex wait when SIGCHLD arrives):
	 * refusing it made glibc abort at random.
	 */
	SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigqueueinfo),
	SCMP_SYS(rt_tgsigqueueinfo), SCMP_SYS(getcpu),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigpending),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(rt_sigsuspend),
	SCMP_SYS(sigaltstack), SCMP_SYS(pause), SCMP_SYS(alarm),
	SCMP_SYS(getitimer), SCMP_SYS(setitimer), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime), SCMP_SYS(eventfd), SCMP_SYS(eventfd2),
	/* waiting */
	SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2),
	/*
	 * Sockets: only AF_UNIX can be created (rules below), so these only
	 * ever act on socketpairs and sockets bound inside the jail; its
	 * network namespace is empty and its abstract socket namespace is its
	 * own.
	 */
	SCMP_SYS(connect), SCMP_SYS(bind),
	SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg), SCMP_SYS(shutdown), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
};

/*
 * Denied with EPERM. Each is outside the allowlist anyway; listing them
 * makes the errno deliberate and documents why each family is dangerous.
 */
static const int deny[] = {
	/* Namespaces and mounts: a new user namespace hands out a full
	 * capability set, and mount code is where container escapes live. */
	SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(mount),
	SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(fsopen), SCMP_SYS(fsconfig), SCMP_SYS(fsmount),
	SCMP_SYS(fspick), SCMP_SYS(move_mount), SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr),
	/* Inspecting or steering other processes. */
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(kcmp), SCMP_SYS(pidfd_getfd),
	SCMP_SYS(process_madvise),
	/* Kernel subsystems with a long CVE history and no use here. */
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key), SCMP_SYS(fanotify_init),
	SCMP_SYS(inotify_init), SCMP_SYS(inotify_init1),
	SCMP_SYS(memfd_secret),
	/* Memory no limit sees: a memfd is charged to neither RLIMIT_AS
	 * (until mapped) nor the workspace tmpfs, only capped per file by
	 * RLIMIT_FSIZE, so 256 of them would hold 256 x workspace_limit_mb
	 * per process. Python code falls back without it (libffi's
	 * closures use static trampolines or plain mappings). */
	SCMP_SYS(memfd_create),
	/* Whole-machine administration. */
	SCMP_SYS(reboot), SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(acct), SCMP_SYS(quotactl), SCMP_SYS(syslog),
	SCMP_SYS(vhangup), SCMP_SYS(sync), SCMP_SYS(syncfs),
	SCMP_SYS(sethostname), SCMP_SYS(setdomainname),
	SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
	SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex), SCMP_SYS(iopl),
	SCMP_SYS(ioperm),
	/* Identity and privilege: the jail has one mapped uid; nothing to
	 * change to, and capset/seccomp games only widen the surface. */
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid),
	SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
	SCMP_SYS(setfsuid), SCMP_SYS(setfsgid), SCMP_SYS(setgroups),
	SCMP_SYS(capset), SCMP_SYS(seccomp), SCMP_SYS(personality),
	SCMP_SYS(chown), SCMP_SYS(fchown), SCMP_SYS(lchown),
	SCMP_SYS(fchownat),
	/* File handles bypass path-based confinement (the "shocker" escape). */
	SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
	/* NUMA and memory policy: host-wide side effects. */
	SCMP_SYS(mbind), SCMP_SYS(set_mempolicy), SCMP_SYS(migrate_pages),
	SCMP_SYS(move_pages),
	/* Extended attributes are read-only here. */
	SCMP_SYS(setxattr), SCMP_SYS(lsetxattr), SCMP_SYS(fsetxattr),
	SCMP_SYS(removexattr), SCMP_SYS(lremovexattr),
	SCMP_SYS(fremovexattr),
	SCMP_SYS(uselib), SCMP_SYS(lookup_dcookie),
};

/*
 * Answered 0 without reaching the kernel. The only file system a script
 * can write is its tmpfs workspace, where syncing does nothing; on the
 * read-only host /usr, fsync and its kin still make the disk flush its
 * cache (thousands of flushes a second, slowing every fsync on the host),
 * and fadvise(POSIX_FADV_DONTNEED) evicts host files from the page cache
 * (a slowdown for other tenants and a page-cache side channel). Advice
 * and syncs that do nothing are what the caller is promised anyway.
 */
static const int noop[] = {
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(sync_file_range),
	SCMP_SYS(msync), SCMP_SYS(fadvise64),
};

#define CLONE_NS_FLAGS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
	    CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
static const unsigned long clone_ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP,
	CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET };

static int
add_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
		if (allow[i] < 0)
			continue;	/* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0))) {
			snprintf(err, errlen, "allow rule %d: %s", allow[i],
			    strerror(-rc));
			return -1;
		}
	}
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		if (deny[i] < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), deny[i],
		    0))) {
			snprintf(err, errlen, "deny rule %d: %s", deny[i],
			    strerror(-rc));
			return -1;
		}
	}

	for (i = 0; i < sizeof(noop) / sizeof(noop[0]); i++) {
		if (noop[i] < 0)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), noop[i], 0))) {
			snprintf(err, errlen, "no-op rule %d: %s", noop[i],
			    strerror(-rc));
			return -1;
		}
	}

	/*
	 * clone: threads and fork yes, new namespaces no. clone3 passes its
	 * flags in memory, which a filter cannot read, so it is reported as
	 * missing and glibc falls back to clone.
	 */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0));
	for (i = 0; rc == 0 && i < sizeof(clone_ns) / sizeof(clone_ns[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns[i],
		    clone_ns[i]));
	if (rc) {
		snprintf(err, errlen, "clone rules: %s", strerror(-rc));
		return -1;
	}
	/* clone3 needs no rule: the default answer, ENOSYS, is the one wanted. */

	/*
	 * socket, socketpair: AF_UNIX only; IP, netlink, packet, vsock... are
	 * refused. socketpair needs the rule as much as socket: the kernel
	 * creates the first socket (loading the protocol's module on demand)
	 * before it finds that the family has no socketpair.
	 */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX));

	/*
	 * ioctl is allowed whole. The terminal-injection commands (TIOCSTI,
	 * TIOCLINUX) have nothing to act on: the jail's fds 0-2 are pipes and
	 * it has no /dev/tty, /dev/ptmx or /dev/pts. (A rule on the command
	 * would also have to mask the upper 32 bits, which the kernel ignores,
	 * and libseccomp folds such rules into an unconditional allow.)
	 */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);

	/* mknod: FIFOs (os.mkfifo) yes; device nodes never. */
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknod), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO));
	rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mknodat),
	    1, SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, S_IFIFO));
	if (rc) {
		snprintf(err, errlen, "argument rules: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static scmp_filter_ctx
policy_build(char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	err[0] = '\0';
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS))) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return NULL;
	}
	/* Only the native ABI; anything else (x86 int 0x80, x32) is killed. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0) {
		snprintf(err, errlen, "seccomp_attr_set: %s", strerror(-rc));
		goto fail;
	}
	if (add_rules(ctx, err, errlen) == -1)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

int
policy_prepare(struct policy *p, char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	memset(p, 0, sizeof(*p));
	if ((ctx = policy_build(err, errlen)) == NULL)
		return -1;
	if ((fd = memfd_create("pyexec-seccomp", MFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		seccomp_release(ctx);
		return -1;
	}
	if (seccomp_export_bpf(ctx, fd) != 0 || fstat(fd, &st) == -1 ||
	    st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		snprintf(err, errlen, "exporting the seccomp filter failed");
		goto fail;
	}
	p->prog = xmalloc((size_t)st.st_size);
	n = pread(fd, p->prog, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		snprintf(err, errlen, "reading the seccomp filter back failed");
		goto fail;
	}
	p->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	close(fd);
	seccomp_release(ctx);
	return 0;
fail:
	close(fd);
	seccomp_release(ctx);
	policy_free(p);
	return -1;
}

/* The filter in libseccomp's readable form, for operators (-P). */
int
policy_dump(int fd, char *err, size_t errlen)
{
	scmp_filter_ctx	 ctx;
	int		 rc;

	if ((ctx = policy_build(err, errlen)) == NULL)
		return -1;
	if ((rc = seccomp_export_pfc(ctx, fd)) != 0)
		snprintf(err, errlen, "writing the filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

void
policy_free(struct policy *p)
{
	free(p->prog);
	memset(p, 0, sizeof(*p));
}
