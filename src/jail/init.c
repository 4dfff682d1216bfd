/*
 * init.c: the jail's init. Runs only in the child of a clone() with new
 * namespaces (the worker's in exec mode, the zygote's in zygote mode),
 * between clone and exec. Never calls stdio, malloc or the logger (the
 * build checks: tests/unit/jail_rules.sh); reports failure as one struct
 * ctl_msg on the control socket and exits. Fails closed: any step that
 * fails ends the run before Python starts.
 *
 * jail_enter() reads as the checklist it is: enter_steps[], the root
 * (root.c, its own checklist), seal_steps[], then the Python child and
 * the reaper. nsjail's containProc is the model.
 *
 * Theory of operation. The worker (an unprivileged user) calls clone()
 * with new user, mount, PID, network, IPC and UTS namespaces. The child
 * is PID 1 of the new PID namespace: the jail's init. It
 *   1. becomes PYX_JAIL_UID: with per-slot ids (run_uids = per-slot) its
 *      parent has mapped 1000 to the slot's own host uid and gid (through
 *      pyexec-uidmap, or the zygote, whose namespace holds the range) and
 *      init setresuid()s to it in its new root (root.c); with run_uids =
 *      shared it maps the worker's own ids itself (no privilege needed);
 *   2. builds a root (root.c) on a fresh tmpfs at the worker's mkdtemp
 *      directory: read-only binds of /usr and a few /etc files, a minimal /dev, a
 *      fresh /proc showing only this PID namespace, and /work + /tmp, two
 *      directories of one size-capped tmpfs (the workspace);
 *   3. writes the code and the attachments into /work before any user
 *      code exists, so nothing can be planted to redirect those writes;
 *   4. pivot_root()s into it, detaches the host tree, remounts the root
 *      read-only, hands the worker an O_PATH fd of /work (CTL_READY);
 *   5. drops every capability, sets NO_NEW_PRIVS, forks the Python child,
 *      which sets rlimits, installs the seccomp filter and execs python3;
 *   6. reaps every process in the namespace until Python's own exit, which
 *      it reports (CTL_EXIT) before exiting; in zygote mode it first execs
 *      the thin init (thin_init.c), which does only that, so PID 1 does
 *      not keep a copy of the interpreter for the run. When init exits the kernel
 *      kills whatever else is left in the namespace, so nothing the script
 *      started outlives the request. The worker's deadline SIGKILLs init,
 *      with the same effect.
 * The empty network namespace has no interfaces (loopback is down), so the
 * script has no network at all, and abstract Unix sockets are private to
 * the run.
 *
 * A case of POST /evaluate in zygote mode is one level down: its lane's
 * jail is built as above, except that the Python child keeps init's
 * capabilities and becomes the lane's case server (zygote.c), and init
 * drops them once that child is forked. The server clones each case
 * into new mount, PID and IPC namespaces, whose init runs
 * jail_enter_case(): the worker's go, a workspace of its own (root.c,
 * jail_case_root), every capability dropped, then the same Python child
 * and reaper as a run's.
 *
 * init first starts a new session. A PID namespace does not confine
 * process groups: kill(0, sig) and setpriority(PRIO_PGRP, 0, ...) act on
 * every member of the caller's group, whatever namespace the members are
 * in. Left in the group the worker inherited from spawn-fcgi, a script
 * could SIGKILL or SIGSTOP the whole pool, multiwatch included, or renice
 * it for good. In its own session the group holds the jail and nothing
 * else, and no other group of the session it came from can be joined.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "jail/jail.h"

/* The jail's environment; also the zygote's, whose children inherit it. */
const char *const jail_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=/tmp",
	"TMPDIR=/tmp",
	"LANG=C.UTF-8",
	"LC_ALL=C.UTF-8",
	"MPLBACKEND=module://_pyexec_mpl",	/* Agg; show() saves (boot.py) */
	"MPLCONFIGDIR=/tmp/.matplotlib",
	"OPENBLAS_NUM_THREADS=1",
	"OMP_NUM_THREADS=1",
	NULL
};

void
jail_fail(struct jail *j, const char *step)
{
	struct ctl_msg	 m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_FAIL;
	m.err = errno;
	strlcpy(m.text, step, sizeof(m.text));
	if (j->detail != NULL) {
		strlcat(m.text, " ", sizeof(m.text));
		strlcat(m.text, j->detail, sizeof(m.text));
	}
	(void)!write(j->ctl, &m, sizeof(m));
	_exit(SBX_EXIT_SETUP);
}

void
jail_checklist(struct jail *j, const struct jail_step *steps, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		j->detail = NULL;
		if (steps[i].run(j) == -1)
			jail_fail(j, steps[i].name);
	}
}

/*
 * No handler, mask or SA_NOCLDWAIT of the parent (a worker, or the
 * zygote's interpreter) survives into the jail: init must see its child's
 * exit, and the script starts from the defaults.
 */
static int
reset_signals(struct jail *j)
{
	struct sigaction sa;
	sigset_t	 none;
	int		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The service's umask (UMask=0077 in the unit) would make the workspace
 * and every file the script writes 0700/0600, owned by the slot's uid:
 * the worker, reading return files as pyexec, could open none. The usual
 * 022 inside; the workspace is private to the run anyway.
 */
static int
set_umask(struct jail *j)
{
	(void)j;
	umask(022);
	return 0;
}

/* If the worker dies, so does the jail (and with it the namespace). */
static int
die_with_parent(struct jail *j)
{
	return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/* Moves the fds init keeps above everything else, closes the rest. */
static int
park_fds(struct jail *j)
{
	const struct jail_params *p = j->p;
	int			  i;

	for (i = 0; i < JAIL_NFDS; i++) {
		if (p->fds[i] < 0)
			continue;	/* no data stream in exec mode */
		if (fcntl(p->fds[i], F_DUPFD_CLOEXEC, JAIL_HIGH_FD + i) !=
		    JAIL_HIGH_FD + i)
			return -1;
	}
	j->ctl = JAIL_HIGH_FD + JAIL_FD_CTL;
	/* Exec mode: matplotlib's font list, until root.c has bound it. */
	j->fontlist_fd = -1;
	if (p->fontlist_fd >= 0) {
		if (fcntl(p->fontlist_fd, F_DUPFD_CLOEXEC, JAIL_HIGH_FD +
		    JAIL_NFDS) != JAIL_HIGH_FD + JAIL_NFDS)
			return -1;
		j->fontlist_fd = JAIL_HIGH_FD + JAIL_NFDS;
	}
	/* Zygote mode: the thin init's image, until init execs it. */
	if (p->thin && fcntl(p->thin_fd, F_DUPFD_CLOEXEC, JAIL_THIN_FD) !=
	    JAIL_THIN_FD)
		return -1;
	/* Drops the FastCGI socket, the client connection, the logs... */
	if (syscall(SYS_close_range, 0, JAIL_HIGH_FD - 1, 0) == -1 ||
	    syscall(SYS_close_range, p->thin ? JAIL_THIN_FD + 1 :
	    JAIL_HIGH_FD + JAIL_NFDS + (j->fontlist_fd >= 0), ~0U, 0) == -1)
		return -1;
	return 0;
}

/*
 * In exec mode this process is a copy of the worker, whose memory holds
 * the admin key: zero our copy (the worker's is untouched).
 */
static int
wipe_secrets(struct jail *j)
{
	if (j->p->wipe != NULL)
		explicit_bzero(j->p->wipe, j->p->wipe_len);
	return 0;
}

/* A process group of its own: see the theory of operation above. */
static int
new_session(struct jail *j)
{
	return setsid() == -1 ? -1 : 0;
}

/*
 * With cgroups, the worker puts this process into the run's cgroups and
 * then says go: nothing of the run happens outside the limits.
 */
static int
wait_for_cgroups(struct jail *j)
{
	char	 go;

	if (!j->p->wait_go)
		return 0;
	return read(j->ctl, &go, 1) == 1 ? 0 : -1;
}

/*
 * A cgroup namespace rooted where the run now is: /proc/self/cgroup
 * shows "/" instead of the host's hierarchy and the worker's pid.
 */
static int
cgroup_namespace(struct jail *j)
{
	return unshare(CLONE_NEWCGROUP);
}

/*
 * The ids are unmapped until the maps exist; nothing else works before.
 * Per-slot ids: the parent (pyexec-uidmap, or the zygote) mapped 1000 to
 * the slot's host ids before the go, and root.c takes them (take_ids);
 * otherwise init maps the worker's own ids, which needs no privilege.
 */
static int
map_ids(struct jail *j)
{
	if (j->p->ids_by_parent)
		return 0;
	if (write_string("/proc/self/setgroups", "deny") == -1 ||
	    write_string("/proc/self/uid_map", j->p->uid_map) == -1 ||
	    write_string("/proc/self/gid_map", j->p->gid_map) == -1)
		return -1;
	return 0;
}

static int
set_hostname(struct jail *j)
{
	if (BENCH_SKIP(SKIP_ROOT))
		return 0;
	return sethostname("sandbox", 7);
}

/*
 * Again, now that init has its ids: the kernel clears the parent-death
 * signal whenever a process's uid or gid changes (root.c's setresuid),
 * and without it a worker killed mid-run would leave the script running
 * until it ended by itself, unsupervised. If the parent (worker or
 * keeper) died before this point, the signal is never sent: the control
 * socket's far end, which only the parent holds, has hung up by then.
 */
static int
die_with_parent_again(struct jail *j)
{
	struct pollfd	 pfd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		return -1;
	pfd.fd = j->ctl;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return -1;
	if (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR)) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/* Hands the worker an O_PATH fd of /work, for the return files. */
static int
send_ready(struct jail *j)
{
	struct ctl_msg	 m;
	int		 wfd;

	j->detail = "/work";
	if ((wfd = open(BENCH_SKIP(SKIP_ROOT) ? "." : "/work",
	    O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = CTL_READY;
	if (fd_send(j->ctl, &m, sizeof(m), &wfd, 1) == -1) {
		close(wfd);
		return -1;
	}
	close(wfd);
	return 0;
}

/* Counted per user namespace (Linux >= 5.14), so per run: see run/. */
static int
limit_processes(struct jail *j)
{
	return setrlimit(RLIMIT_NPROC, &j->p->nproc);
}

/*
 * Empties every capability set. A new user namespace hands its creator a
 * full set inside it, and the bounding set must be cleared explicitly or
 * a later exec could regain them (bubblewrap notes the same).
 */
static int
drop_caps(struct jail *j)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	int				 cap;

	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capset, &hdr, data);
}

/* Not dumpable: the script cannot open /proc/1/mem or ptrace init. */
static int
not_dumpable(struct jail *j)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* From clone to a jail with its root: the order the kernel requires. */
static const struct jail_step enter_steps[] = {
	{ "reset signals", reset_signals },
	{ "umask", set_umask },
	{ "PR_SET_PDEATHSIG", die_with_parent },
	{ "park fds", park_fds },
	{ "wipe secrets", wipe_secrets },
	{ "setsid", new_session },
	{ "wait for cgroups", wait_for_cgroups },
	{ "unshare cgroup namespace", cgroup_namespace },
	{ "write id maps", map_ids },
};

/* Then, with the root in place (root.c), before Python exists. */
static const struct jail_step seal_steps[] = {
	{ "PR_SET_PDEATHSIG after the uid change", die_with_parent_again },
	{ "sethostname", set_hostname },
	{ "send workspace fd", send_ready },
	{ "setrlimit NPROC", limit_processes },
	{ "drop capabilities", drop_caps },
	{ "PR_SET_DUMPABLE", not_dumpable },
};

/*
 * A lane's jail (/evaluate's case server): the same, but its Python child
 * keeps the capabilities the jail's user namespace gave init, which it
 * needs to make each case's namespaces and mounts; init drops them once
 * that child is forked (jail_run).
 */
static const struct jail_step lane_seal_steps[] = {
	{ "PR_SET_PDEATHSIG after the uid change", die_with_parent_again },
	{ "sethostname", set_hostname },
	{ "send workspace fd", send_ready },
	{ "setrlimit NPROC", limit_processes },
	{ "PR_SET_DUMPABLE", not_dumpable },
};

/*
 * A case, cloned by its lane's server: in the lane's user namespace
 * already (ids, hostname, cgroup namespace, network: the lane's), so
 * only what a fresh process of a jail needs, and the worker's go.
 */
static const struct jail_step case_steps[] = {
	{ "reset signals", reset_signals },
	{ "umask", set_umask },
	{ "PR_SET_PDEATHSIG", die_with_parent },
	{ "park fds", park_fds },
	{ "setsid", new_session },
	{ "wait for the go", wait_for_cgroups },
};

/* After its workspace (root.c, jail_case_root), as a jail's init. */
static const struct jail_step case_seal_steps[] = {
	{ "send workspace fd", send_ready },
	{ "setrlimit NPROC", limit_processes },
	{ "drop capabilities", drop_caps },
	{ "PR_SET_DUMPABLE", not_dumpable },
};

/*
 * The Python child: fds 0-3 in place, limits, /work, seccomp last. Too
 * late to report on the control socket (it is closed here); a failure is
 * exit status 125, which the worker reports as a sandbox error.
 */
static void
python_child(struct jail *j)
{
	const struct jail_params *p = j->p;
	int			  i;

	for (i = 0; i <= JAIL_FD_VERDICT; i++)
		if (dup2(JAIL_HIGH_FD + i, i) != i)
			_exit(SBX_EXIT_SETUP);
	/*
	 * A pre-built jail: the request's files come later, to this child,
	 * which never execs (zygote mode) and so never hands the fd on.
	 */
	if (p->data_late && (p->argv != NULL || dup2(JAIL_HIGH_FD +
	    JAIL_FD_DATA, JAIL_LATE_FD) != JAIL_LATE_FD))
		_exit(SBX_EXIT_SETUP);
	if (syscall(SYS_close_range, p->data_late ? JAIL_LATE_FD + 1 :
	    JAIL_FD_VERDICT + 1, ~0U, 0) == -1)
		_exit(SBX_EXIT_SETUP);
	/* A pre-built jail's CPU budget starts with its request (root.c). */
	for (i = 0; i < p->nrlim; i++)
		if (!(p->data_late && p->rlim_res[i] == RLIMIT_CPU) &&
		    setrlimit(p->rlim_res[i], &p->rlim[i]) == -1)
			_exit(SBX_EXIT_SETUP);
	if (!BENCH_SKIP(SKIP_ROOT) && chdir("/work") == -1)
		_exit(SBX_EXIT_SETUP);
	/*
	 * The lane server runs no user code and stays as init made it: not
	 * dumpable, no filter (it must clone and mount for its cases, each of
	 * which installs the filter itself: jail_enter_case), its score for
	 * the OOM killer below its cases'.
	 */
	if (p->lane)
		return;
	/*
	 * init made itself non-dumpable; execve resets that for Python, and
	 * an in-process run (zygote) must too, or its own /proc/self would
	 * not be its own. init stays non-dumpable.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
		_exit(SBX_EXIT_SETUP);
	/*
	 * When the run's memory cgroup is full, its OOM killer must take the
	 * script's processes (which inherit this), not init: killing init
	 * loses the run's report. Raising one's own score needs no privilege
	 * (once dumpable again, /proc/self is ours to write).
	 */
	if (write_string("/proc/self/oom_score_adj", "1000") == -1)
		_exit(SBX_EXIT_SETUP);
	/* Last: from here on every syscall, exec included, is filtered. */
	if (!BENCH_SKIP(SKIP_SECCOMP) && policy_apply(p->policy) == -1)
		_exit(SBX_EXIT_SETUP);
	if (p->argv == NULL)
		return;		/* zygote mode: the caller runs Python */
	/* execve's prototype predates const; it does not write them. */
	execve(p->argv[0], (char *const *)p->argv, (char *const *)p->envp);
	_exit(127);
}

/*
 * init's last job: reap every process of the namespace until Python's
 * own exit, report it, and exit, which kills whatever is left.
 */
__attribute__((noreturn)) static void
reap(struct jail *j, pid_t py)
{
	struct ctl_msg	 m;
	struct rusage	 ru;
	pid_t		 w;
	int		 st;

	for (;;) {
		w = wait4(-1, &st, 0, &ru);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			jail_fail(j, "wait4");
		}
		if (w != py)
			continue;	/* an orphan the script left: reaped */
		memset(&m, 0, sizeof(m));
		m.type = CTL_EXIT;
		m.wstatus = st;
		m.ru = ru;
		(void)!write(j->ctl, &m, sizeof(m));
		/* init's exit kills every process left in the namespace. */
		_exit(0);
	}
}

/*
 * With a thin image (zygote mode), init stops being a copy of the process
 * that cloned it: it execs the thin init (thin_init.c), which only reaps
 * and reports, so the run no longer holds a second copy-on-write copy of
 * the interpreter, and its teardown happens now, while Python starts on
 * the other core, instead of after the run. Called with the script's
 * filter already installed (execve is in it; the image's path is init's
 * own /proc/self/fd, which the jail's /proc shows), the control socket
 * the only descriptor left open across the exec. Any failure ends init,
 * and with it the namespace and Python: fail closed.
 */
__attribute__((noreturn)) static void
become_thin(struct jail *j, pid_t py)
{
	char		 path[32], pid[16];
	char		 name[] = "pyexec-init", keep[] = "keep";
	char		*argv[] = { name, pid, NULL, NULL };
	char *const	 envp[] = { NULL };

	/* A session's: it reaps on after Python, like reap_session(). */
	if (j->p->keep_reaping)
		argv[2] = keep;
	j->detail = NULL;
	if (fmt_path_uint(path, sizeof(path), "/proc/self/fd/",
	    JAIL_THIN_FD) == NULL ||
	    fmt_path_uint(pid, sizeof(pid), "", (unsigned long)py) == NULL)
		jail_fail(j, "thin init arguments");
	if (fcntl(j->ctl, F_SETFD, 0) == -1)
		jail_fail(j, "thin init control fd");
	execve(path, argv, envp);
	jail_fail(j, "exec thin init");
}

static void
on_child(int sig)
{
	(void)sig;		/* only to wake ppoll */
}

/*
 * A session's init (keep_reaping): Python's exit is reported, but init
 * lives on, reaping, because forks of the session (children of init) may
 * outlive it; it ends when its keeper does, which it sees as the end of
 * the control socket (the keeper holds it for life), or sooner by the
 * parent-death signal re-armed after the uid change.
 * SIGCHLD is blocked but while waiting in ppoll, so no child's end is
 * missed between a reap and the wait.
 */
__attribute__((noreturn)) static void
reap_session(struct jail *j, pid_t py)
{
	struct sigaction sa;
	struct ctl_msg	 m;
	struct rusage	 ru;
	struct pollfd	 pfd;
	sigset_t	 chld, none;
	ssize_t		 r;
	pid_t		 w;
	int		 st;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&none);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) == -1)
		jail_fail(j, "sigprocmask");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		jail_fail(j, "sigaction");
	for (;;) {
		while ((w = wait4(-1, &st, WNOHANG, &ru)) > 0) {
			if (w != py)
				continue;	/* an orphan, or a fork: reaped */
			memset(&m, 0, sizeof(m));
			m.type = CTL_EXIT;
			m.wstatus = st;
			m.ru = ru;
			(void)!write(j->ctl, &m, sizeof(m));
			py = -1;
		}
		pfd.fd = j->ctl;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, NULL, &none) == 1) {
			/* Nothing is sent to init after the go: only the end. */
			r = recv(j->ctl, &m, sizeof(m), MSG_DONTWAIT);
			if (r == 0 || (r == -1 && errno != EAGAIN &&
			    errno != EINTR))
				_exit(0);	/* kills the namespace */
		}
	}
}

/* The end of both: the Python child, and init's reaping. */
static void
jail_run(struct jail *j, bool *admin)
{
	const struct jail_params *p = j->p;
	pid_t		 py;
	int		 i;

	/*
	 * glibc's fork, not a raw clone: init is single-threaded, and fork
	 * sets the child's cached thread id, which an interpreter that keeps
	 * running (zygote mode, no execve) relies on for its locks.
	 */
	j->detail = NULL;
	if ((py = fork()) == -1)
		jail_fail(j, "fork python");
	if (py == 0) {
		python_child(j);
		if (admin != NULL)
			*admin = j->admin;
		return;		/* zygote mode only: python_child execs */
	}

	/* init keeps only the control socket: Python's EOF is the worker's. */
	for (i = 0; i < JAIL_NFDS; i++)
		if (i != JAIL_FD_CTL)
			close(JAIL_HIGH_FD + i);
	/* A lane's init: its server has the capabilities now; it needs none. */
	if (p->lane && drop_caps(j) == -1)
		jail_fail(j, "drop capabilities");
	if (!BENCH_SKIP(SKIP_SECCOMP) && policy_apply(p->policy) == -1)
		jail_fail(j, "seccomp");
	/*
	 * A session's init keeps reaping after Python (its forks are init's
	 * children): the thin init's "keep" mode, or reap_session() where
	 * there is no thin image (exec mode).
	 */
	if (p->thin)
		become_thin(j, py);
	if (p->keep_reaping)
		reap_session(j, py);
	reap(j, py);
}

void
jail_enter(const struct jail_params *p, bool *admin)
{
	struct jail	 j;

	memset(&j, 0, sizeof(j));
	j.p = p;
	j.ctl = p->fds[JAIL_FD_CTL];	/* until park_fds moves it */

	jail_checklist(&j, enter_steps, sizeof(enter_steps) /
	    sizeof(enter_steps[0]));
	jail_root(&j);
	if (p->lane)
		jail_checklist(&j, lane_seal_steps, sizeof(lane_seal_steps) /
		    sizeof(lane_seal_steps[0]));
	else
		jail_checklist(&j, seal_steps, sizeof(seal_steps) /
		    sizeof(seal_steps[0]));
	jail_run(&j, admin);
}

/*
 * Nothing the lane's own jail set up is done again (its ids, root and
 * namespaces are the case's), and nothing it holds is kept: park_fds
 * closes the server's descriptors, and the case's own mount and PID
 * namespaces end with its init, taking every process and file of the
 * case with them.
 */
void
jail_enter_case(const struct jail_params *p, bool *admin)
{
	struct jail	 j;

	memset(&j, 0, sizeof(j));
	j.p = p;
	j.ctl = p->fds[JAIL_FD_CTL];

	jail_checklist(&j, case_steps, sizeof(case_steps) /
	    sizeof(case_steps[0]));
	jail_case_root(&j);
	jail_checklist(&j, case_seal_steps, sizeof(case_seal_steps) /
	    sizeof(case_seal_steps[0]));
	jail_run(&j, admin);
}
