/*
 * zygote.c: pyexec-zygote, a CPython initialised once that forks jails.
 *
 * A worker in "mode = zygote" starts one of these with fork+exec (never a
 * bare fork of itself: the worker's memory holds the admin key and request
 * data) and a clean, fixed environment. It gets exactly one descriptor,
 * the control socket on fd 3. It initialises CPython the way `python3 -I
 * -u` does, imports the modules scripts use most (numpy, PIL, json, re,
 * ...), compiles the bootstrap, and then only ever forks.
 *
 * For each request of the worker (struct zyg_spawn, with the run's pipe
 * ends as SCM_RIGHTS) it clones a jail exactly as an exec-mode run does
 * (src/jail/: new user/mount/PID/net/IPC/UTS namespaces, minimal root,
 * rlimits, cgroups, capabilities dropped, seccomp last), except that the
 * code and attachments reach the jail's init on a data pipe straight from
 * the worker, and the Python child runs the bootstrap in the forked
 * interpreter instead of exec'ing a new one. It answers with a pidfd of
 * the jail's init, through which the worker enforces the deadline.
 *
 * It must never run user code itself (only its jailed children do), never
 * read a pipe of a run (it only passes descriptors on), and never hold a
 * secret: nothing of a request but its configuration-derived parameters
 * ever reaches this process.
 */
#include "config.h"

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "policy/policy.h"
#include "zygote/proto.h"
#include "zygote/zygote.h"
#include "session/session.h"
#include "boot_py.h"

#define ZYG_CTL_FD	3

/* What the forked interpreters import before any request exists. */
static const char prelude[] =
	"import os, sys, gc\n"
	"import _ast, ast, json, re, math, cmath, collections, datetime, time,\\\n"
	"    random, decimal, fractions, statistics, itertools, functools,\\\n"
	"    operator, string, textwrap, base64, hashlib, uuid, secrets, copy,\\\n"
	"    pprint, typing, enum, dataclasses, heapq, bisect, array, calendar,\\\n"
	"    unicodedata, struct, io, traceback, linecache, threading, atexit\n"
	"import numpy, numpy.random\n"
	"import PIL, PIL.Image\n"
	/*
	 * A fork copies every generator's state. The stdlib's random reseeds
	 * itself at fork; numpy's global one does not, so reseed it from the
	 * kernel in every child, or two runs would print the same numbers.
	 * In this zygote's own children, at their start: the whole MT19937
	 * key and a fresh position written straight into the generator's
	 * state (numpy's mt19937_state: uint32 key[624], int pos), about 50
	 * page faults a run fewer than through set_state(), itself about 90
	 * fewer than numpy.random.seed() (bench/runcost.py). The layout is
	 * checked here against get_state(); set_state() if it does not
	 * match. Only once per process: a script's own forks (os.fork,
	 * multiprocessing, a session's fork) go through set_state(), which
	 * also drops a cached Gaussian and does not write through an address
	 * the script may have freed (numpy.random.set_bit_generator).
	 */
	"def _pyexec_reseeder(np=numpy, urandom=os.urandom):\n"
	"    def slow(st=np.random.set_state, u32=np.uint32):\n"
	"        st(('MT19937', np.frombuffer(urandom(2496), u32), 624, 0, 0.0))\n"
	"    try:\n"
	"        import ctypes\n"
	"        at = np.random.mtrand._rand._bit_generator.ctypes.state_address\n"
	"        key = memoryview((ctypes.c_char * 2496).from_address(at))\n"
	"        key = key.cast('B')\n"
	"        pos = memoryview((ctypes.c_char * 4).from_address(at + 2496))\n"
	"        pos = pos.cast('B').cast('i')\n"
	"        def fast(key=key, pos=pos):\n"
	"            key[:] = urandom(2496)\n"
	"            pos[0] = 624\n"
	"        slow()\n"
	"        fast()\n"
	"        s = np.random.get_state()\n"
	"        if s[1].tobytes() != bytes(key) or s[2] != 624 or s[3] != 0:\n"
	"            return slow\n"
	"    except Exception:\n"
	"        return slow\n"
	"    todo = [fast]\n"
	"    def reseed(todo=todo):\n"
	"        f = todo[0]\n"
	"        todo[0] = slow\n"
	"        f()\n"
	"    return reseed\n"
	"os.register_at_fork(after_in_child=_pyexec_reseeder())\n"
	"del _pyexec_reseeder\n"
	"gc.collect()\n"
	"gc.freeze()\n";

static PyObject	*run_fn;		/* boot.py's _pyexec_run_inproc */

/*
 * glibc keeps freed chunks on its unsorted list until a later malloc
 * sorts them into bins, writing each chunk's header as it goes. Left to
 * a forked child, that first malloc (CPython's after-fork work makes it
 * early) writes to pages all over the heap the child shares with this
 * process, each one a copy-on-write fault: about 270 of a run's 920,
 * measured after matplotlib's warm-up had freed much (README,
 * Performance). A malloc here, of a size no small bin or the tcache
 * serves, has glibc consolidate and sort them once, in this process,
 * before each fork; its free leaves one chunk on the list.
 */
#define SORT_HEAP_BYTES	(4096 + 40)

static void
sort_heap(void)
{
	void *volatile	 p;	/* volatile: the compiler may not drop the pair */

	p = malloc(SORT_HEAP_BYTES);
	free(p);
}
static struct sigaction py_sigint;	/* CPython's own SIGINT handler */

/* This process's address space in bytes (VmSize), or 0. */
static rlim_t
vm_size(void)
{
	char	 buf[128];
	ssize_t	 n;
	int	 fd;

	/* statm's first field: the whole address space, in pages. */
	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (rlim_t)strtoull(buf, NULL, 10) * (rlim_t)sysconf(_SC_PAGESIZE);
}

/*
 * RLIMIT_AS of spec: memory_limit_mb on top of base, the address space
 * a forked run starts with (serve_one says why), at most cap.
 */
static void
as_on_top(struct jail_params *spec, rlim_t base, rlim_t cap)
{
	struct rlimit	*rl;
	int		 i;

	for (i = 0; i < spec->nrlim; i++) {
		rl = &spec->rlim[i];
		if (spec->rlim_res[i] != RLIMIT_AS ||
		    rl->rlim_max == RLIM_INFINITY ||
		    rl->rlim_max >= RLIM_INFINITY - base)
			continue;
		rl->rlim_cur += base;
		rl->rlim_max += base;
		if (rl->rlim_max > cap)
			rl->rlim_max = cap;
		if (rl->rlim_cur > rl->rlim_max)
			rl->rlim_cur = rl->rlim_max;
	}
}
static PyObject	*session_fn;		/* boot.py's _pyexec_session */

/*
 * The Python child of a jail, after jail_enter() returned in it. late: a
 * pre-built jail, whose request (files, role) is read here once CPython's
 * after-fork work is done, so that this work happens before the request.
 */
__attribute__((noreturn)) static void
run_inproc(bool admin, const char *allowed_imports,
    const struct jail_params *late)
{
	PyObject	*r;
	long		 status = 1;
	struct sigaction sa;

	/* What `python3` sets at start-up; the jail reset every handler. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGXFSZ, &sa, NULL);
	PyOS_AfterFork_Child();
	/*
	 * KeyboardInterrupt on SIGINT, as python3 has it: the handler CPython
	 * installed in the zygote (its table still says default_int_handler),
	 * put back with one sigaction. Compiling and running signal.signal()
	 * here instead cost about 75 page faults per run.
	 */
	(void)sigaction(SIGINT, &py_sigint, NULL);
	if (late != NULL && jail_late_files(late, &admin) == -1)
		_exit(SBX_EXIT_SETUP);
	r = PyObject_CallFunction(run_fn, "ss", admin ? "admin" : "public",
	    allowed_imports);
	if (r != NULL) {
		status = PyLong_AsLong(r);
		Py_DECREF(r);
	} else
		PyErr_Print();
	_exit((int)status);
}

/* A session's Python child: the driver loop (boot.py), until its end. */
__attribute__((noreturn)) static void
run_session(bool admin, const char *allowed_imports)
{
	PyObject	*r;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGXFSZ, &sa, NULL);
	PyOS_AfterFork_Child();
	r = PyObject_CallFunction(session_fn, "ss", admin ? "admin" : "public",
	    allowed_imports);
	if (r == NULL)
		PyErr_Print();
	Py_XDECREF(r);
	_exit(1);
}

/*
 * /evaluate's case server: the Python child of a lane's jail (jail.h,
 * lane), forked from this zygote like a run's, with the jail's
 * capabilities kept and no filter. For each case the worker sends it
 * (ZYG_KIND_CASE, with the case's channels, on the socket that is a
 * run's data stream) it clones the case's init into new mount, PID and
 * IPC namespaces (jail_enter_case: a workspace of its own, capabilities
 * dropped, seccomp), whose Python child runs the case in the interpreter
 * as a run's does, and answers with a pidfd of that init. A case is a
 * fresh jail for everything a script can reach, at the cost of a fork
 * rather than a zygote's clone and a new root.
 *
 * The server itself runs no Python and no user code, and keeps nothing
 * of a case: its interpreter is the zygote's as forked, so every case's
 * child starts from that state and from nothing an earlier case did.
 * No case can reach it: it is outside every case's PID namespace and
 * /proc, holds no descriptor a case inherits (park_fds), and is not
 * dumpable. It reads only fixed-size messages from the worker, which it
 * checks as serve_one does, and ends with the worker's socket.
 */
/* A struct zyg_reply and the pidfd fd (-1: none); fd_send's result. */
static int
send_reply(int sock, int32_t pid, int32_t err, int fd)
{
	struct zyg_reply	 m;

	memset(&m, 0, sizeof(m));
	m.pid = pid;
	m.err = err;
	return fd_send(sock, &m, sizeof(m), &fd, fd >= 0 ? 1 : 0);
}

__attribute__((noreturn)) static void
lane_serve(const struct policy *pol, const char *allowed_imports)
{
	static char		 allowed[sizeof(((struct zyg_spawn *)0)->allowed)];
	struct zyg_spawn	 req;
	struct jail_params	 spec;
	struct sigaction	 sa;
	struct rlimit		 as_max;
	rlim_t			 as_base;
	pid_t			 pid;
	ssize_t			 n;
	int			 fds[JAIL_NFDS], nfds, i, pidfd, err, null;

	strlcpy(allowed, allowed_imports, sizeof(allowed));
	/* The lane run's own channels are never used: nothing to say. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 ||
	    dup2(null, 2) == -1 || dup2(null, 3) == -1)
		_exit(SBX_EXIT_SETUP);
	close(null);
	/*
	 * Cases are reaped here, as each next one arrives (the worker has
	 * seen the last one end through its pidfd, so its init is a zombie
	 * by then, which would still count against the next case's
	 * processes): waited for, not auto-reaped, so that their CPU time
	 * and faults count in this process's children's and, through the
	 * lane's init, in the worker's, as a run's do.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &sa, NULL) == -1)
		_exit(SBX_EXIT_SETUP);
	as_base = vm_size();
	if (getrlimit(RLIMIT_AS, &as_max) == -1)
		_exit(SBX_EXIT_SETUP);
	for (;;) {
		n = fd_recv(JAIL_LATE_FD, &req, sizeof(req), fds, JAIL_NFDS,
		    &nfds, 0);
		err = errno;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (n == -1 && err == EINTR)
			continue;
		if (n <= 0) {
			/* The worker is done with this lane: the last case too. */
			while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
				;
			_exit(0);
		}
		if (n != (ssize_t)sizeof(req) || nfds != JAIL_NFDS ||
		    req.magic != ZYG_MAGIC || req.version != ZYG_VERSION ||
		    req.kind != ZYG_KIND_CASE || req.nrlim < 0 ||
		    req.nrlim > JAIL_NRLIM ||
		    memchr(req.ws_opts, '\0', sizeof(req.ws_opts)) == NULL) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			if (send_reply(JAIL_LATE_FD, -1, EINVAL, -1) == -1)
				_exit(0);
			continue;
		}
		memset(&spec, 0, sizeof(spec));
		spec.policy = pol;
		spec.fontlist_fd = -1;
		spec.jaildir = "";
		memcpy(spec.ws_opts, req.ws_opts, sizeof(spec.ws_opts));
		memcpy(spec.rlim_res, req.rlim_res, sizeof(spec.rlim_res));
		memcpy(spec.rlim, req.rlim, sizeof(spec.rlim));
		spec.nrlim = req.nrlim;
		/*
		 * As serve_one, but never above the lane's own hard limit
		 * (the same sum, taken in the zygote): raising it would fail,
		 * and the case with it.
		 */
		as_on_top(&spec, as_base, as_max.rlim_max);
		spec.nproc = req.nproc;
		spec.wait_go = req.wait_go != 0;
		spec.max_files = req.max_files;
		memcpy(spec.fds, fds, sizeof(fds));
		pid = (pid_t)syscall(SYS_clone, SIGCHLD | JAIL_CASE_CLONE_FLAGS,
		    NULL, NULL, NULL, NULL);
		if (pid == 0) {
			bool	 admin = false;

			jail_enter_case(&spec, &admin);
			run_inproc(admin, allowed, NULL);
		}
		err = errno;
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		/* Its init waits for the worker's go: it cannot be gone yet. */
		pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
		if (pid > 0 && pidfd == -1) {
			err = errno;
			(void)kill(pid, SIGKILL);
		}
		n = send_reply(JAIL_LATE_FD, pidfd >= 0 ? (int32_t)pid : -1,
		    pidfd >= 0 ? 0 : err, pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (n == -1)
			_exit(0);
	}
}

/*
 * One empty network namespace for all of this zygote's jails instead of a
 * new one per run (creating and tearing down a netns is the costliest
 * namespace step). Its runs never overlap (a worker runs one jail at a
 * time and waits for its init to be gone), so no two runs ever share its
 * abstract Unix sockets. POST /evaluate runs several at once, one per
 * "lane": each lane k has a netns of its own, made here once (unshare,
 * kept as an fd) and entered around the clone of that lane's jails, so
 * overlapping runs never share one and sequential runs of a lane share
 * it as /execute's do (zyg_spawn.netns_lane). The jails' user
 * namespaces are children of this
 * one, so nothing in a jail has a capability over the netns: loopback
 * stays down. Done before CPython starts: unshare(CLONE_NEWUSER) needs a
 * single-threaded caller. The id maps are the identity.
 */
static int	 reply(int, int32_t, int32_t, int);
static int	 thin_fd = -1;	/* the thin init's image (jail/thin.c) */
static bool	 per_slot;	/* argv[1] "per-slot": jails' ids from the range */

static void
enter_empty_netns(void)
{
	char	 map[64];
	uid_t	 uid = geteuid();
	gid_t	 gid = getegid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1)
		fatal("unshare(CLONE_NEWUSER | CLONE_NEWNET)");
	/*
	 * Per-slot ids: our map must also hold the range the jails' ids come
	 * from, which needs privilege: the worker has pyexec-uidmap write it
	 * (our uid and the range, identity) while we wait.
	 */
	if (per_slot) {
		char	 m;

		reply(ZYG_CTL_FD, ZYG_NEED_MAP, 0, -1);
		if (read(ZYG_CTL_FD, &m, 1) != 1 || m != 'm')
			fatalx("the worker did not have our ids mapped");
		if (geteuid() != uid || getegid() != gid)
			fatalx("our ids are not mapped");
		return;
	}
	if (write_string("/proc/self/setgroups", "deny") == -1)
		fatal("/proc/self/setgroups");
	snprintf(map, sizeof(map), "%lu %lu 1\n", (unsigned long)uid,
	    (unsigned long)uid);
	if (write_string("/proc/self/uid_map", map) == -1)
		fatal("/proc/self/uid_map");
	snprintf(map, sizeof(map), "%lu %lu 1\n", (unsigned long)gid,
	    (unsigned long)gid);
	if (write_string("/proc/self/gid_map", map) == -1)
		fatal("/proc/self/gid_map");
}

static void
init_python(void)
{
	PyPreConfig	 pre;
	PyConfig	 config;
	PyStatus	 st;
	PyObject	*mod, *globals, *res;

	/*
	 * The isolated presets leave the locale alone; python3 itself sets
	 * it from the environment (LC_ALL=C.UTF-8 here), which makes stdio
	 * and open() UTF-8. Do as python3 does.
	 */
	PyPreConfig_InitIsolatedConfig(&pre);
	pre.configure_locale = 1;
	st = Py_PreInitialize(&pre);
	if (PyStatus_Exception(st))
		fatalx("pre-initialising Python: %s",
		    st.err_msg ? st.err_msg : "?");
	/* As `python3 -I -u`: isolated, unbuffered standard streams. */
	PyConfig_InitIsolatedConfig(&config);
	config.buffered_stdio = 0;
	config.install_signal_handlers = 1;
	st = PyConfig_SetString(&config, &config.program_name,
	    L"/usr/bin/python3");
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st))
		fatalx("initialising Python: %s", st.err_msg ? st.err_msg : "?");

	if (PyRun_SimpleString(prelude) != 0)
		fatalx("the zygote's imports failed (see above)");
	/* The bootstrap in a module of its own; its __main__ guard is off. */
	if ((mod = PyImport_AddModule("_pyexec_boot")) == NULL)
		fatalx("module _pyexec_boot");
	globals = PyModule_GetDict(mod);
	if (PyDict_SetItemString(globals, "__builtins__",
	    PyEval_GetBuiltins()) != 0)
		fatalx("builtins");
	res = PyRun_String(boot_py, Py_file_input, globals, globals);
	if (res == NULL) {
		PyErr_Print();
		fatalx("compiling the bootstrap");
	}
	Py_DECREF(res);
	if ((run_fn = PyDict_GetItemString(globals, "_pyexec_run_inproc")) ==
	    NULL)
		fatalx("bootstrap has no _pyexec_run_inproc");
	Py_INCREF(run_fn);
	/*
	 * pyplot, Agg and matplotlib's font list, once per zygote instead of
	 * in every run (a first plot cost ~0.8 s rebuilding the font list in
	 * the run's fresh /tmp). Optional: a host without matplotlib still
	 * serves.
	 */
	if (PyRun_SimpleString("import importlib.util\n"
	    "if importlib.util.find_spec('matplotlib') is not None:\n"
	    "    import _pyexec_boot\n"
	    "    _pyexec_boot._pyexec_preload_plots()\n"
	    "import _pyexec_boot\n"
	    "_pyexec_boot._pyexec_warm()\n"
	    "import gc\n"
	    "gc.collect()\n"
	    "gc.freeze()\n") != 0)
		fatalx("preloading matplotlib failed (see above)");
	if ((session_fn = PyDict_GetItemString(globals, "_pyexec_session")) ==
	    NULL)
		fatalx("bootstrap has no _pyexec_session");
	Py_INCREF(session_fn);
	if (sigaction(SIGINT, NULL, &py_sigint) == -1 ||
	    py_sigint.sa_handler == SIG_DFL || py_sigint.sa_handler == SIG_IGN)
		fatalx("CPython installed no SIGINT handler");
}

/*
 * Returns -1 if the descriptor could not be passed (the kernel refuses
 * SCM_RIGHTS when too many are in flight for this uid, for one): the
 * worker is told so without it. Only a closed socket means the worker is
 * gone.
 */
static int
reply(int ctl, int32_t pid, int32_t err, int fd)
{
	if (send_reply(ctl, pid, err, fd) == 0)
		return 0;
	if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN ||
	    fd < 0)
		fatal("the worker went away");
	log_warn("passing a jail's pidfd to the worker");
	if (send_reply(ctl, -1, errno, -1) == -1)
		fatal("the worker went away");
	return -1;
}

/* Maps the new jail's 1000 to its slot's host ids (in our namespace). */
static int
map_jail(pid_t pid, uint32_t uid, uint32_t gid)
{
	const char *const files[] = { "setgroups", "uid_map", "gid_map" };
	char	 path[64], map[64];
	size_t	 i;

	for (i = 0; i < 3; i++) {
		if (i == 0)
			strlcpy(map, "deny", sizeof(map));
		else
			snprintf(map, sizeof(map), "%d %lu 1\n", PYX_JAIL_UID,
			    (unsigned long)(i == 1 ? uid : gid));
		snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, files[i]);
		if (write_string(path, map) == -1)
			return -1;
	}
	return 0;
}

static int	 home_ns = -1;
static int	 lane_ns[JAIL_NETNS_LANES + 1];

/*
 * Enters lane k's netns for the next clone (0: stay home). Made on first
 * use: unshare, keep it, go home; never left in: a failure to return
 * home is fatal.
 */
static int
enter_lane_netns(uint32_t k)
{
	if (k == 0)
		return 0;
	if (k > JAIL_NETNS_LANES)
		return -1;
	if (home_ns == -1 &&
	    (home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (lane_ns[k] <= 0) {
		if (unshare(CLONE_NEWNET) == -1)
			return -1;
		lane_ns[k] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (setns(home_ns, CLONE_NEWNET) == -1)
			fatal("setns: back to the zygote's netns");
		if (lane_ns[k] == -1) {
			lane_ns[k] = 0;
			return -1;
		}
	}
	return setns(lane_ns[k], CLONE_NEWNET);
}

static void
leave_lane_netns(uint32_t k)
{
	if (k != 0 && setns(home_ns, CLONE_NEWNET) == -1)
		fatal("setns: back to the zygote's netns");
}

struct sess_clone {
	uint32_t	 uid, gid;	/* per-slot ids, or 0 */
	const char	*allowed;
};

/*
 * In the keeper: the session's jail as our own child (no CLONE_PARENT:
 * its parent-death signal follows the keeper), with a network namespace
 * of its own, since a session overlaps this zygote's other runs.
 */
static pid_t
clone_session(struct jail_params *spec, void *arg)
{
	struct sess_clone	*c = arg;
	pid_t			 pid;

	/*
	 * No PyOS_BeforeFork/AfterFork_Parent here: the keeper never ran
	 * Python after the zygote forked it (serve_session), so the
	 * interpreter's state is still the zygote's at that fork, and the
	 * session's child takes it up with PyOS_AfterFork_Child as a direct
	 * child of the zygote would.
	 */
	pid = (pid_t)syscall(SYS_clone, SIGCHLD | JAIL_CLONE_FLAGS, NULL, NULL,
	    NULL, NULL);
	if (pid == 0) {
		bool	 admin = false;

		jail_enter(spec, &admin);
		run_session(admin, c->allowed);
	}
	if (pid > 0 && spec->ids_by_parent && map_jail(pid, c->uid, c->gid) ==
	    -1) {
		log_warn("mapping a session's ids %u/%u", c->uid, c->gid);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/*
 * Forks the session's keeper, which never comes back here: it leaves our
 * session (setsid) and owns the jail until the session ends. The zygote
 * holds nothing of the session: the keeper's fds are closed here at once.
 */
static void
serve_session(int ctl, struct zyg_spawn *req, struct jail_params *spec,
    int *fds, int nfds)
{
	static struct sess_clone c;
	struct sess_params	 p;
	pid_t			 pid;
	int			 i, err;

	p = req->sess;
	p.sock_path[sizeof(p.sock_path) - 1] = '\0';
	p.jaildir[sizeof(p.jaildir) - 1] = '\0';
	c.uid = req->jail_uid;
	c.gid = req->jail_gid;
	c.allowed = req->allowed;
	sort_heap();
	PyOS_BeforeFork();
	pid = fork();
	if (pid == 0) {
		/*
		 * The keeper runs no Python: CPython's after-fork work (its
		 * hooks reseed random and numpy, reset threading and logging;
		 * the pages they wrote were 936 kB the keeper owned, measured
		 * by test_thin_init) is left to the session's
		 * interpreter, which does it once (run_session).
		 */
		close(ctl);
		(void)setsid();
		spec->jaildir = p.jaildir;
		keeper_main(&p, spec, fds, clone_session, &c);
	}
	err = errno;
	PyOS_AfterFork_Parent();
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	reply(ctl, pid > 0 ? (int32_t)pid : -1, pid > 0 ? 0 : err, -1);
}

/* Receives one spawn request; returns 0, or -1 when the worker is gone. */
static int
serve_one(int ctl, const struct policy *pol)
{
	struct zyg_spawn	 req;
	struct jail_params		 spec;
	int			 fds[JAIL_NFDS], nfds, i, pidfd, err;
	pid_t			 pid;
	ssize_t			 n;

	n = fd_recv(ctl, &req, sizeof(req), fds, JAIL_NFDS, &nfds, 0);
	if (n == -1 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	if (n != (ssize_t)sizeof(req) || (req.kind == ZYG_KIND_RUN ||
	    req.kind == ZYG_KIND_LANE ? nfds != JAIL_NFDS :
	    req.kind != ZYG_KIND_SESSION || nfds != SESS_NFDS) ||
	    req.magic != ZYG_MAGIC || req.version != ZYG_VERSION || req.nrlim < 0 || req.nrlim > JAIL_NRLIM ||
	    memchr(req.jaildir, '\0', sizeof(req.jaildir)) == NULL ||
	    memchr(req.allowed, '\0', sizeof(req.allowed)) == NULL) {
		log_warnx("malformed spawn request");
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		reply(ctl, -1, EINVAL, -1);
		return 0;
	}

	memset(&spec, 0, sizeof(spec));
	spec.policy = pol;
	spec.files = NULL;		/* files come on the data pipe */
	spec.fontlist_fd = -1;		/* matplotlib's font list is in memory */
	spec.jaildir = req.jaildir;
	memcpy(spec.uid_map, req.uid_map, sizeof(spec.uid_map));
	memcpy(spec.gid_map, req.gid_map, sizeof(spec.gid_map));
	memcpy(spec.ws_opts, req.ws_opts, sizeof(spec.ws_opts));
	spec.uid_map[sizeof(spec.uid_map) - 1] = '\0';
	spec.gid_map[sizeof(spec.gid_map) - 1] = '\0';
	spec.ws_opts[sizeof(spec.ws_opts) - 1] = '\0';
	memcpy(spec.rlim_res, req.rlim_res, sizeof(spec.rlim_res));
	memcpy(spec.rlim, req.rlim, sizeof(spec.rlim));
	spec.nrlim = req.nrlim;
	/*
	 * A run forked from here starts with this process's whole address
	 * space: the interpreter and the preloaded modules (numpy, pyplot,
	 * about 90 MiB of mappings, shared with the zygote and not the run's
	 * to spend). RLIMIT_AS is memory_limit_mb on top of it, so that a
	 * run may allocate what its limit says (a 32 MiB limit could not
	 * even start otherwise); the memory cgroup, where delegated, caps
	 * what the run really uses at memory_limit_mb.
	 */
	as_on_top(&spec, vm_size(), RLIM_INFINITY);
	spec.nproc = req.nproc;
	spec.wait_go = req.wait_go != 0;
	spec.max_files = req.max_files;
	/*
	 * Per-slot ids: only ids of our namespace's map (the worker's and the
	 * range pyexec-uidmap gave it) can be mapped; never our own uid, and
	 * init must wait for them.
	 */
	if (req.jail_uid != 0 || per_slot) {
		if (!per_slot || req.jail_uid == 0 || req.jail_uid == geteuid() ||
		    req.jail_gid == 0 || req.jail_gid == getegid() ||
		    !spec.wait_go) {
			log_warnx("spawn request with ids %u/%u refused",
			    req.jail_uid, req.jail_gid);
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			reply(ctl, -1, EINVAL, -1);
			return 0;
		}
		spec.ids_by_parent = true;
	}
	spec.argv = NULL;		/* Python runs here: run_inproc */
	spec.lane = req.kind == ZYG_KIND_LANE;
	/* A lane's server reads its cases where a run would read its files. */
	spec.data_late = spec.lane || (req.kind == ZYG_KIND_RUN &&
	    req.data_late != 0);
	spec.thin = thin_fd != -1;	/* init does not stay a copy of us */
	spec.thin_fd = thin_fd;
	if (req.kind == ZYG_KIND_SESSION) {
		serve_session(ctl, &req, &spec, fds, nfds);
		return 0;
	}
	memcpy(spec.fds, fds, sizeof(fds));

	if (enter_lane_netns(req.netns_lane) == -1) {
		log_warn("netns for lane %u", req.netns_lane);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		reply(ctl, -1, EINVAL, -1);
		return 0;
	}
	/* CPython's own fork protocol; the child finishes it (run_inproc). */
	sort_heap();
	PyOS_BeforeFork();
	/*
	 * The netns is this zygote's own empty one (enter_empty_netns), or
	 * its lane's (enter_lane_netns).
	 * CLONE_PARENT: the jail is the worker's child, not ours. The worker
	 * supervises it (deadline, pidfd, reaping) and its init's parent-death
	 * signal follows the worker, so a run survives the death of this
	 * zygote; the zygote's job ends with the clone.
	 */
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | (JAIL_CLONE_FLAGS &
	    ~CLONE_NEWNET), NULL, NULL, NULL, NULL);
	if (pid == 0) {
		bool	 admin = false;

		jail_enter(&spec, &admin);	/* returns in the Python child */
		if (spec.lane)
			lane_serve(pol, req.allowed);
		run_inproc(admin, req.allowed, spec.data_late ? &spec : NULL);
	}
	err = errno;
	PyOS_AfterFork_Parent();
	leave_lane_netns(req.netns_lane);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (pid == -1) {
		log_warnx("clone: %s", strerror(err));
		reply(ctl, -1, err, -1);
		return 0;
	}
	/* init waits for the worker's go, so it is still unmapped. */
	if (spec.ids_by_parent && map_jail(pid, req.jail_uid, req.jail_gid) ==
	    -1) {
		err = errno;
		log_warn("mapping a jail's ids %u/%u", req.jail_uid,
		    req.jail_gid);
		(void)kill(pid, SIGKILL);
		reply(ctl, -1, err, -1);
		return 0;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		err = errno;
		(void)kill(pid, SIGKILL);
		reply(ctl, -1, err, -1);
		return 0;
	}
	/* Not passed: the worker never sends go, init ends with its socket. */
	if (reply(ctl, pid, 0, pidfd) == -1)
		(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	close(pidfd);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct policy	 pol;
	struct sigaction sa;
	char		 err[256];
	int		 type;
	socklen_t	 len = sizeof(type);

	log_init("pyexec-zygote", 0);
	if (argc > 2 || getsockopt(ZYG_CTL_FD, SOL_SOCKET, SO_TYPE, &type,
	    &len) == -1 || type != SOCK_SEQPACKET)
		fatalx("started by pyexec-fcgi only (control socket on fd 3)");
	if (argc == 2 && strcmp(argv[1], "per-slot") != 0)
		fatalx("unknown argument %s", argv[1]);
	per_slot = argc == 2;
	/* Whatever else was inherited is not ours to hold. */
	if (syscall(SYS_close_range, ZYG_CTL_FD + 1, ~0U, 0) == -1)
		fatal("close_range");
	if (geteuid() == 0)
		fatalx("refusing to run as root");
	enter_empty_netns();
	/* Jails are reaped as they end, so they never linger as zombies. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);

	if (policy_prepare(&pol, err, sizeof(err)) == -1)
		fatalx("seccomp: %s", err);
	/*
	 * Without an image (an architecture thin_init.c does not know), each
	 * jail's init reaps in its copy of us, as it did before there was one.
	 */
	if ((thin_fd = thin_init_open()) == -1 && errno != ENOSYS)
		fatal("the thin init's image");
	init_python();
	reply(ZYG_CTL_FD, (int32_t)getpid(), 0, -1);	/* ready */
	while (serve_one(ZYG_CTL_FD, &pol) == 0)
		;
	return 0;
}
