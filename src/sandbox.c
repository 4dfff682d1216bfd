/*
 * sandbox.c: the jail. Runs only in the child of the worker's clone(),
 * between clone and exec. Never returns; never calls stdio, malloc or the
 * logger; reports failure as one struct ctl_msg on the control socket and
 * exits. Fails closed: any step that fails ends the run before Python
 * starts.
 *
 * Theory of operation. The worker (an unprivileged user) calls clone()
 * with new user, mount, PID, network, IPC and UTS namespaces. The child
 * is PID 1 of the new PID namespace: the jail's init. It
 *   1. maps its own uid/gid to PYX_JAIL_UID (an unprivileged user may map
 *      exactly its own ids, so no helper and no privilege are needed);
 *   2. builds a root on a fresh tmpfs at the worker's mkdtemp directory:
 *      read-only binds of /usr and a few /etc files, a minimal /dev, a
 *      fresh /proc showing only this PID namespace, and /work + /tmp, two
 *      directories of one size-capped tmpfs (the workspace);
 *   3. writes the code and the attachments into /work before any user
 *      code exists, so nothing can be planted to redirect those writes;
 *   4. pivot_root()s into it, detaches the host tree, remounts the root
 *      read-only, hands the worker an O_PATH fd of /work (CTL_READY);
 *   5. drops every capability, sets NO_NEW_PRIVS, forks the Python child,
 *      which sets rlimits, installs the seccomp filter and execs python3;
 *   6. reaps every process in the namespace until Python's own exit, which
 *      it reports (CTL_EXIT) before exiting. When init exits the kernel
 *      kills whatever else is left in the namespace, so nothing the script
 *      started outlives the request. The worker's deadline SIGKILLs init,
 *      with the same effect.
 * The empty network namespace has no interfaces (loopback is down), so the
 * script has no network at all, and abstract Unix sockets are private to
 * the run.
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

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "pyexec.h"

#define SBX_EXIT_SETUP	125
#define SBX_HIGH_FD	200	/* where the child parks the fds it keeps */

/* Host paths bound read-only into the jail when they exist. */
static const char *const ro_files[] = {
	"/etc/ld.so.cache",	/* the loader finds libraries without a scan */
	"/etc/matplotlibrc",	/* Debian's matplotlib links its rc file here */
	"/etc/mime.types",
};
static const char *const ro_dirs[] = {
	"/etc/alternatives",	/* numpy's libblas.so.3 resolves through it */
	"/etc/python3.11",	/* Debian's sitecustomize */
	"/etc/fonts",
};
/*
 * Parts of the host's /usr that Python does not need and that say more
 * about the host than its distribution does (locally installed programs
 * and their configuration, sources): hidden under an empty, read-only
 * tmpfs when they exist.
 */
static const char *const usr_masked[] = { "usr/local", "usr/etc", "usr/src" };
static const char *const top_links[] = { "bin", "sbin", "lib", "lib32",
	"lib64", "libx32" };
static const char *const dev_nodes[] = { "null", "zero", "full", "random",
	"urandom" };

static const char passwd_text[] =
	"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
	"sandbox:x:1000:1000:sandbox:/work:/usr/sbin/nologin\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_text[] =
	"root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
static const char hosts_text[] = "127.0.0.1\tlocalhost sandbox\n";

__attribute__((noreturn)) static void
sbx_fail(int ctl, const char *step, const char *arg)
{
	struct ctl_msg	 m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_FAIL;
	m.err = errno;
	strlcpy(m.text, step, sizeof(m.text));
	if (arg != NULL) {
		strlcat(m.text, " ", sizeof(m.text));
		strlcat(m.text, arg, sizeof(m.text));
	}
	(void)!write(ctl, &m, sizeof(m));
	_exit(SBX_EXIT_SETUP);
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
write_file(int dirfd, const char *path, const void *data, size_t len,
    mode_t mode)
{
	int	 fd, rv;

	fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	rv = write_all(fd, data, len);
	if (close(fd) == -1)
		rv = -1;
	return rv;
}

static int
write_proc(const char *path, const char *s)
{
	int	 fd, rv;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	rv = write_all(fd, s, strlen(s));
	close(fd);
	return rv;
}

/*
 * A remount inside a user namespace must keep the flags the kernel locked
 * on the original mount (nosuid, nodev, noexec, atime), or it fails with
 * EPERM; so read them back and add MS_RDONLY to them.
 */
static int
remount_ro(const char *path, unsigned long extra)
{
	struct statvfs	 sv;
	unsigned long	 fl = MS_REMOUNT | MS_BIND | MS_RDONLY | extra;

	if (statvfs(path, &sv) == -1)
		return -1;
	if (sv.f_flag & ST_NOSUID)
		fl |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		fl |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		fl |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		fl |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		fl |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		fl |= MS_RELATIME;
	return mount(NULL, path, NULL, fl, NULL);
}

/* Binds host path src read-only at dst (relative to the new root). */
static int
bind_ro(const char *src, const char *dst, bool dir)
{
	int	 fd;

	if (dir) {
		if (mkdir(dst, 0755) == -1 && errno != EEXIST)
			return -1;
	} else {
		if ((fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
			return -1;
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == -1)
		return -1;
	return remount_ro(dst, MS_NOSUID | MS_NODEV);
}

/* Creates the parent directories of a validated relative name. */
static int
make_parents(int dirfd, const char *name)
{
	char	 path[PYX_NAME_MAX + 1];
	size_t	 i;

	strlcpy(path, name, sizeof(path));
	for (i = 0; path[i] != '\0'; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdirat(dirfd, path, 0755) == -1 && errno != EEXIST)
			return -1;
		path[i] = '/';
	}
	return 0;
}

/* Moves the fds the child keeps above everything else, closes the rest. */
static int
park_fds(const struct sbx_spec *s)
{
	int	 i, fd;

	for (i = 0; i < SBX_NFDS; i++) {
		if (s->fds[i] < 0)
			continue;	/* no data stream in exec mode */
		fd = fcntl(s->fds[i], F_DUPFD_CLOEXEC, SBX_HIGH_FD + i);
		if (fd != SBX_HIGH_FD + i)
			sbx_fail(s->fds[SBX_FD_CTL], "park fds", NULL);
	}
	/* Drops the FastCGI socket, the client connection, the logs... */
	if (syscall(SYS_close_range, 0, SBX_HIGH_FD - 1, 0) == -1 ||
	    syscall(SYS_close_range, SBX_HIGH_FD + SBX_NFDS, ~0U, 0) == -1)
		sbx_fail(SBX_HIGH_FD + SBX_FD_CTL, "close_range", NULL);
	return SBX_HIGH_FD + SBX_FD_CTL;
}

static bool stream_admin;	/* from the stream header, for run_inproc */

static int
read_full(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Zygote mode: the request's files arrive on the data pipe from the worker
 * (never through the zygote). Names are checked again here: the worker
 * validated them, but the jail trusts nothing it reads. Copied through a
 * stack buffer: no allocation.
 */
static void
populate_from_stream(const struct sbx_spec *s, int wfd, int ctl)
{
	struct sbx_stream_hdr	 hdr;
	struct sbx_stream_file	 f;
	char			 name[PYX_NAME_MAX + 1], chunk[64 * 1024];
	const char		*why;
	uint64_t		 left;
	size_t			 n;
	uint32_t		 i;
	int			 dfd = SBX_HIGH_FD + SBX_FD_DATA, fd;

	if (read_full(dfd, &hdr, sizeof(hdr)) == -1 ||
	    hdr.magic != SBX_STREAM_MAGIC || hdr.nfiles < 1 ||
	    hdr.nfiles > s->max_files + 1)
		sbx_fail(ctl, "data stream header", NULL);
	stream_admin = hdr.admin == 1;
	for (i = 0; i < hdr.nfiles; i++) {
		if (read_full(dfd, &f, sizeof(f)) == -1 || f.namelen == 0 ||
		    f.namelen > PYX_NAME_MAX ||
		    read_full(dfd, name, f.namelen) == -1)
			sbx_fail(ctl, "data stream file", NULL);
		name[f.namelen] = '\0';
		if (strlen(name) != f.namelen ||
		    name_check(name, f.namelen, &why) == -1 ||
		    (i == 0) != (strcmp(name, PYX_SCRIPT_NAME) == 0)) {
			errno = EINVAL;
			sbx_fail(ctl, "data stream name", NULL);
		}
		if (make_parents(wfd, name) == -1 || (fd = openat(wfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644)) == -1)
			sbx_fail(ctl, "create file", NULL);
		for (left = f.datalen; left > 0; left -= n) {
			n = left > sizeof(chunk) ? sizeof(chunk) : (size_t)left;
			if (read_full(dfd, chunk, n) == -1 ||
			    write_all(fd, chunk, n) == -1)
				sbx_fail(ctl, "write file", NULL);
		}
		close(fd);
	}
	close(dfd);
}

static void
build_root(const struct sbx_spec *s, int ctl)
{
	const struct exec_req	*r = s->req;
	char			 link[64];
	ssize_t			 n;
	size_t			 i;
	int			 wfd;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		sbx_fail(ctl, "make / private", NULL);
	if (BENCH_SKIP(SKIP_ROOT)) {
		if (mount("pyexec-ws", s->jaildir, "tmpfs", 0, s->ws_opts) == -1 ||
		    chdir(s->jaildir) == -1 || write_file(AT_FDCWD,
		    PYX_SCRIPT_NAME, r->code, r->code_len, 0644) == -1)
			sbx_fail(ctl, "bench workspace", NULL);
		return;
	}
	if (mount("pyexec", s->jaildir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=1m,nr_inodes=512,mode=0755") == -1)
		sbx_fail(ctl, "mount root tmpfs", NULL);
	if (chdir(s->jaildir) == -1)
		sbx_fail(ctl, "chdir", "root");

	if (mkdir("usr", 0755) == -1 || mkdir("etc", 0755) == -1 ||
	    mkdir("dev", 0755) == -1 || mkdir("proc", 0555) == -1 ||
	    mkdir("tmp", 01777) == -1 || mkdir("work", 0755) == -1 ||
	    mkdir(".ws", 0700) == -1)
		sbx_fail(ctl, "mkdir", "skeleton");
	if (bind_ro("/usr", "usr", true) == -1)
		sbx_fail(ctl, "bind", "/usr");
	for (i = 0; i < sizeof(usr_masked) / sizeof(usr_masked[0]); i++) {
		if (access(usr_masked[i], X_OK) == -1)
			continue;
		if (mount("pyexec-mask", usr_masked[i], "tmpfs", MS_RDONLY |
		    MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "size=4k,nr_inodes=2,mode=0755") == -1)
			sbx_fail(ctl, "mask", usr_masked[i]);
	}
	/* Merged-/usr hosts make these symlinks; copy them as they are. */
	for (i = 0; i < sizeof(top_links) / sizeof(top_links[0]); i++) {
		char	 host[16] = "/";

		strlcat(host, top_links[i], sizeof(host));
		n = readlink(host, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (symlink(link, top_links[i]) == -1)
				sbx_fail(ctl, "symlink", top_links[i]);
		} else if (errno == EINVAL) {
			if (bind_ro(host, top_links[i], true) == -1)
				sbx_fail(ctl, "bind", host);
		}
	}

	/* /etc: a few generated files and a few read-only host ones. */
	if (write_file(AT_FDCWD, "etc/passwd", passwd_text,
	    sizeof(passwd_text) - 1, 0644) == -1 ||
	    write_file(AT_FDCWD, "etc/group", group_text,
	    sizeof(group_text) - 1, 0644) == -1 ||
	    write_file(AT_FDCWD, "etc/hosts", hosts_text,
	    sizeof(hosts_text) - 1, 0644) == -1)
		sbx_fail(ctl, "write", "/etc");
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (symlink(link, "etc/localtime") == -1)
			sbx_fail(ctl, "symlink", "/etc/localtime");
	}
	for (i = 0; i < sizeof(ro_files) / sizeof(ro_files[0]); i++)
		if (access(ro_files[i], R_OK) == 0 &&
		    bind_ro(ro_files[i], ro_files[i] + 1, false) == -1)
			sbx_fail(ctl, "bind", ro_files[i]);
	for (i = 0; i < sizeof(ro_dirs) / sizeof(ro_dirs[0]); i++)
		if (access(ro_dirs[i], X_OK) == 0 &&
		    bind_ro(ro_dirs[i], ro_dirs[i] + 1, true) == -1)
			sbx_fail(ctl, "bind", ro_dirs[i]);

	/*
	 * /dev: bind the five harmless host nodes (a user namespace cannot
	 * mknod), plus the usual links into /proc.
	 */
	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		char	 src[32] = "/dev/", dst[32] = "dev/";

		strlcat(src, dev_nodes[i], sizeof(src));
		strlcat(dst, dev_nodes[i], sizeof(dst));
		if (write_file(AT_FDCWD, dst, "", 0, 0666) == -1 ||
		    mount(src, dst, NULL, MS_BIND, NULL) == -1)
			sbx_fail(ctl, "bind", src);
	}
	if (symlink("/proc/self/fd", "dev/fd") == -1 ||
	    symlink("/proc/self/fd/0", "dev/stdin") == -1 ||
	    symlink("/proc/self/fd/1", "dev/stdout") == -1 ||
	    symlink("/proc/self/fd/2", "dev/stderr") == -1)
		sbx_fail(ctl, "symlink", "/dev");

	/*
	 * The workspace: one tmpfs, capped in bytes and inodes, so a script
	 * cannot fill the host's disk. /work and /tmp are two directories of
	 * it, so together they share the cap. noexec: nothing written by the
	 * script can be executed or mapped executable.
	 */
	if (mount("pyexec-ws", ".ws", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    s->ws_opts) == -1)
		sbx_fail(ctl, "mount workspace tmpfs", s->ws_opts);
	if (mkdir(".ws/work", 0755) == -1 || mkdir(".ws/tmp", 0777) == -1 ||
	    chmod(".ws/tmp", 01777) == -1)
		sbx_fail(ctl, "mkdir", "workspace");
	if ((wfd = open(".ws/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		sbx_fail(ctl, "open", "workspace");
	/*
	 * Written before any user code exists, into a tmpfs nothing else has
	 * seen: no symlink or rename can have been planted. O_EXCL and
	 * O_NOFOLLOW anyway.
	 */
	if (r == NULL)
		populate_from_stream(s, wfd, ctl);
	else {
		if (write_file(wfd, PYX_SCRIPT_NAME, r->code, r->code_len,
		    0644) == -1)
			sbx_fail(ctl, "write", PYX_SCRIPT_NAME);
		for (i = 0; i < r->natt; i++) {
			if (make_parents(wfd, r->att[i].name) == -1 ||
			    write_file(wfd, r->att[i].name, r->att[i].data,
			    r->att[i].len, 0644) == -1)
				sbx_fail(ctl, "write attachment", NULL);
		}
	}
	close(wfd);
	if (mount(".ws/work", "work", NULL, MS_BIND, NULL) == -1 ||
	    mount(".ws/tmp", "tmp", NULL, MS_BIND, NULL) == -1)
		sbx_fail(ctl, "bind", "workspace");
	if (umount2(".ws", MNT_DETACH) == -1 || rmdir(".ws") == -1)
		sbx_fail(ctl, "detach", "workspace staging");

	/* Only this PID namespace's processes, and no /proc/sys at all. */
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "subset=pid") == -1)
		sbx_fail(ctl, "mount", "/proc");

	if (remount_ro(".", MS_NOSUID | MS_NODEV) == -1)
		sbx_fail(ctl, "remount root read-only", NULL);
	/*
	 * pivot_root(".", ".") stacks the old root under the new one;
	 * detaching it leaves no path back to the host's tree.
	 */
	if (syscall(SYS_pivot_root, ".", ".") == -1)
		sbx_fail(ctl, "pivot_root", NULL);
	if (umount2(".", MNT_DETACH) == -1)
		sbx_fail(ctl, "detach old root", NULL);
	if (chdir("/") == -1)
		sbx_fail(ctl, "chdir", "/");
}

static void
send_ready(int ctl)
{
	struct ctl_msg	 m;
	int		 wfd;

	if ((wfd = open(BENCH_SKIP(SKIP_ROOT) ? "." : "/work",
	    O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		sbx_fail(ctl, "open", "/work");
	memset(&m, 0, sizeof(m));
	m.type = CTL_READY;
	if (fd_send(ctl, &m, sizeof(m), &wfd, 1) == -1)
		sbx_fail(ctl, "send workspace fd", NULL);
	close(wfd);
}

/*
 * Empties every capability set. A new user namespace hands its creator a
 * full set inside it, and the bounding set must be cleared explicitly or
 * a later exec could regain them (bubblewrap notes the same).
 */
static int
drop_caps(void)
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

__attribute__((noreturn)) static void
python_child(const struct sbx_spec *s)
{
	int	 i;

	for (i = 0; i <= SBX_FD_VERDICT; i++)
		if (dup2(SBX_HIGH_FD + i, i) != i)
			_exit(SBX_EXIT_SETUP);
	if (syscall(SYS_close_range, SBX_FD_VERDICT + 1, ~0U, 0) == -1)
		_exit(SBX_EXIT_SETUP);
	for (i = 0; i < s->nrlim; i++)
		if (setrlimit(s->rlim_res[i], &s->rlim[i]) == -1)
			_exit(SBX_EXIT_SETUP);
	if (!BENCH_SKIP(SKIP_ROOT) && chdir("/work") == -1)
		_exit(SBX_EXIT_SETUP);
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
	if (write_proc("/proc/self/oom_score_adj", "1000") == -1)
		_exit(SBX_EXIT_SETUP);
	/* Last: from here on every syscall, exec included, is filtered. */
	if (!BENCH_SKIP(SKIP_SECCOMP) && policy_apply(s->policy) == -1)
		_exit(SBX_EXIT_SETUP);
	if (s->run_inproc != NULL)
		s->run_inproc(s, stream_admin);		/* never returns */
	/* execve's prototype predates const; it does not write them. */
	execve(s->argv[0], (char *const *)s->argv, (char *const *)s->envp);
	_exit(127);
}

void
sbx_child(const struct sbx_spec *s)
{
	struct ctl_msg	 m;
	struct rusage	 ru;
	struct sigaction sa;
	sigset_t	 none;
	pid_t		 py, w;
	int		 ctl, st, i;

	/*
	 * No handler, mask or SA_NOCLDWAIT of the parent (a worker, or the
	 * zygote's interpreter) survives into the jail: init must see its
	 * child's exit, and the script starts from the defaults.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < NSIG; i++)
		(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* If the worker dies, so does the jail (and with it the namespace). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		_exit(SBX_EXIT_SETUP);
	ctl = park_fds(s);
	/*
	 * In exec mode this process is a copy of the worker, whose memory
	 * holds the admin key: zero our copy (the worker's is untouched).
	 */
	if (s->wipe != NULL)
		explicit_bzero(s->wipe, s->wipe_len);
	/* A process group of its own: see the theory of operation above. */
	if (setsid() == -1)
		sbx_fail(ctl, "setsid", NULL);
	/*
	 * With cgroups, the worker puts this process into the run's cgroups
	 * and then says go: nothing of the run happens outside the limits.
	 */
	if (s->wait_go) {
		char	 go;

		if (read(ctl, &go, 1) != 1)
			_exit(SBX_EXIT_SETUP);
	}
	/*
	 * A cgroup namespace rooted where the run now is: /proc/self/cgroup
	 * shows "/" instead of the host's hierarchy and the worker's pid.
	 */
	if (unshare(CLONE_NEWCGROUP) == -1)
		sbx_fail(ctl, "unshare", "cgroup namespace");

	/* The ids are unmapped until these writes; nothing else works before. */
	if (write_proc("/proc/self/setgroups", "deny") == -1 ||
	    write_proc("/proc/self/uid_map", s->uid_map) == -1 ||
	    write_proc("/proc/self/gid_map", s->gid_map) == -1)
		sbx_fail(ctl, "write id maps", NULL);

	build_root(s, ctl);
	if (!BENCH_SKIP(SKIP_ROOT) && sethostname("sandbox", 7) == -1)
		sbx_fail(ctl, "sethostname", NULL);
	send_ready(ctl);

	if (setrlimit(RLIMIT_NPROC, &s->nproc) == -1)
		sbx_fail(ctl, "setrlimit", "NPROC");
	if (drop_caps() == -1)
		sbx_fail(ctl, "drop capabilities", NULL);
	/* Not dumpable: the script cannot open /proc/1/mem or ptrace init. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		sbx_fail(ctl, "PR_SET_DUMPABLE", NULL);

	/*
	 * glibc's fork, not a raw clone: init is single-threaded, and fork
	 * sets the child's cached thread id, which an interpreter that keeps
	 * running (zygote mode, no execve) relies on for its locks.
	 */
	py = fork();
	if (py == -1)
		sbx_fail(ctl, "fork python", NULL);
	if (py == 0)
		python_child(s);

	/* init keeps only the control socket: Python's EOF is the worker's. */
	for (i = 0; i < SBX_NFDS; i++)
		if (i != SBX_FD_CTL)
			close(SBX_HIGH_FD + i);
	if (!BENCH_SKIP(SKIP_SECCOMP) && policy_apply(s->policy) == -1)
		sbx_fail(ctl, "seccomp", NULL);

	for (;;) {
		w = wait4(-1, &st, 0, &ru);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			sbx_fail(ctl, "wait4", NULL);
		}
		if (w != py)
			continue;	/* an orphan the script left: reaped */
		memset(&m, 0, sizeof(m));
		m.type = CTL_EXIT;
		m.wstatus = st;
		m.ru = ru;
		(void)!write(ctl, &m, sizeof(m));
		/* init's exit kills every process left in the namespace. */
		_exit(0);
	}
}
