/*
 * root.c: the jail's file system, built by its init (init.c) inside the
 * new mount namespace, as one checklist in the order the kernel requires:
 * a private mount tree, a tmpfs root, read-only binds of the host's /usr
 * and a few /etc files, a minimal /dev, the workspace filled with the
 * request's files, /proc, a read-only remount, pivot_root. Part of the
 * jail library: no malloc, no stdio.
 *
 * Never touches a path the script could have prepared: everything here
 * happens before any user code exists, in a tmpfs nothing else has seen,
 * and files are created O_EXCL | O_NOFOLLOW anyway.
 */
#include "config.h"

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "jail/jail.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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

static int
private_tree(struct jail *j)
{
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int
root_tmpfs(struct jail *j)
{
	if (mount("pyexec", j->p->jaildir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=1m,nr_inodes=512,mode=0755,uid=1000,gid=1000") == -1)
		return -1;
	j->detail = "root";
	return chdir(j->p->jaildir);
}

/*
 * Per-slot ids: becomes 1000, i.e. the slot's own host uid and gid, so
 * that every file, process and per-user kernel counter of the run is that
 * uid's. Done inside the root tmpfs (created owned by 1000): the path to
 * it crosses runtime_dir, which only the worker's uid may traverse. A
 * missing map makes setresuid fail: no run.
 */
static int
take_ids(struct jail *j)
{
	if (!j->p->ids_by_parent)
		return 0;
	if (setresgid(PYX_JAIL_UID, PYX_JAIL_UID, PYX_JAIL_UID) == -1 ||
	    setresuid(PYX_JAIL_UID, PYX_JAIL_UID, PYX_JAIL_UID) == -1)
		return -1;
	if (getuid() != PYX_JAIL_UID || getgid() != PYX_JAIL_UID) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int
skeleton(struct jail *j)
{
	if (mkdir("usr", 0755) == -1 || mkdir("etc", 0755) == -1 ||
	    mkdir("dev", 0755) == -1 || mkdir("proc", 0555) == -1 ||
	    mkdir("tmp", 01777) == -1 || mkdir("work", 0755) == -1 ||
	    mkdir(".ws", 0700) == -1)
		return -1;
	return 0;
}

/*
 * /usr with its host-specific parts masked, and the top-level links
 * merged-/usr hosts have, as they are.
 */
static int
host_usr(struct jail *j)
{
	char	 link[64];
	ssize_t	 n;
	size_t	 i;

	j->detail = "/usr";
	if (bind_ro("/usr", "usr", true) == -1)
		return -1;
	for (i = 0; i < NELEM(usr_masked); i++) {
		if (access(usr_masked[i], X_OK) == -1)
			continue;
		j->detail = usr_masked[i];
		if (mount("pyexec-mask", usr_masked[i], "tmpfs", MS_RDONLY |
		    MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "size=4k,nr_inodes=2,mode=0755") == -1)
			return -1;
	}
	for (i = 0; i < NELEM(top_links); i++) {
		char	 host[16] = "/";

		strlcat(host, top_links[i], sizeof(host));
		j->detail = top_links[i];
		n = readlink(host, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			if (symlink(link, top_links[i]) == -1)
				return -1;
		} else if (errno == EINVAL) {
			if (bind_ro(host, top_links[i], true) == -1)
				return -1;
		}
	}
	return 0;
}

/* /etc: a few generated files and a few read-only host ones. */
static int
etc(struct jail *j)
{
	char	 link[64];
	ssize_t	 n;
	size_t	 i;

	j->detail = "/etc";
	if (write_file(AT_FDCWD, "etc/passwd", passwd_text,
	    sizeof(passwd_text) - 1, 0644) == -1 ||
	    write_file(AT_FDCWD, "etc/group", group_text,
	    sizeof(group_text) - 1, 0644) == -1 ||
	    write_file(AT_FDCWD, "etc/hosts", hosts_text,
	    sizeof(hosts_text) - 1, 0644) == -1)
		return -1;
	j->detail = "/etc/localtime";
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (symlink(link, "etc/localtime") == -1)
			return -1;
	}
	for (i = 0; i < NELEM(ro_files); i++) {
		j->detail = ro_files[i];
		if (access(ro_files[i], R_OK) == 0 &&
		    bind_ro(ro_files[i], ro_files[i] + 1, false) == -1)
			return -1;
	}
	for (i = 0; i < NELEM(ro_dirs); i++) {
		j->detail = ro_dirs[i];
		if (access(ro_dirs[i], X_OK) == 0 &&
		    bind_ro(ro_dirs[i], ro_dirs[i] + 1, true) == -1)
			return -1;
	}
	return 0;
}

/*
 * /dev: bind the five harmless host nodes (a user namespace cannot
 * mknod), plus the usual links into /proc.
 */
static int
dev(struct jail *j)
{
	size_t	 i;

	for (i = 0; i < NELEM(dev_nodes); i++) {
		char	 src[32] = "/dev/", dst[32] = "dev/";

		strlcat(src, dev_nodes[i], sizeof(src));
		strlcat(dst, dev_nodes[i], sizeof(dst));
		j->detail = dev_nodes[i];
		if (write_file(AT_FDCWD, dst, "", 0, 0666) == -1 ||
		    mount(src, dst, NULL, MS_BIND, NULL) == -1)
			return -1;
	}
	j->detail = "links";
	if (mkdir("dev/shm", 0755) == -1 ||
	    symlink("/proc/self/fd", "dev/fd") == -1 ||
	    symlink("/proc/self/fd/0", "dev/stdin") == -1 ||
	    symlink("/proc/self/fd/1", "dev/stdout") == -1 ||
	    symlink("/proc/self/fd/2", "dev/stderr") == -1)
		return -1;
	return 0;
}

/*
 * The workspace: one tmpfs, capped in bytes and inodes, so a script
 * cannot fill the host's disk. /work, /tmp and /dev/shm (POSIX shared
 * memory and semaphores: multiprocessing needs them) are three
 * directories of it, so together they share the cap. noexec: nothing written by the script
 * can be executed or mapped executable. Staged at .ws until it is filled.
 */
static int
ws_mount(struct jail *j, const char *at)
{
	int	 dfd, rv;

	j->detail = j->p->ws_opts;
	if (mount("pyexec-ws", at, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    j->p->ws_opts) == -1)
		return -1;
	j->detail = "directories";
	if ((dfd = open(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	rv = mkdirat(dfd, "work", 0755) == -1 ||
	    mkdirat(dfd, "tmp", 0777) == -1 ||
	    fchmodat(dfd, "tmp", 01777, 0) == -1 ||
	    mkdirat(dfd, "shm", 0777) == -1 ||
	    fchmodat(dfd, "shm", 01777, 0) == -1 ? -1 : 0;
	close(dfd);
	return rv;
}

static int
workspace(struct jail *j)
{
	return ws_mount(j, ".ws");
}

/*
 * Zygote mode: the request's files arrive on the data pipe from the worker
 * (never through the zygote). Names are checked again here: the worker
 * validated them, but the jail trusts nothing it reads. Copied through a
 * stack buffer: no allocation.
 */
static int
files_from_stream(struct jail *j, int wfd, int dfd)
{
	struct jail_stream_hdr	 hdr;
	struct jail_stream_file	 f;
	char			 name[PYX_NAME_MAX + 1], chunk[64 * 1024];
	const char		*why;
	uint64_t		 left;
	size_t			 n;
	uint32_t		 i;
	int			 fd, rv;

	j->detail = "data stream header";
	if (read_full(dfd, &hdr, sizeof(hdr)) == -1)
		return -1;
	if (hdr.magic != JAIL_STREAM_MAGIC || hdr.nfiles < 1 ||
	    hdr.nfiles > j->p->max_files + 1) {
		errno = EINVAL;
		return -1;
	}
	j->admin = hdr.admin == 1;
	for (i = 0; i < hdr.nfiles; i++) {
		j->detail = "data stream file";
		if (read_full(dfd, &f, sizeof(f)) == -1)
			return -1;
		if (f.namelen == 0 || f.namelen > PYX_NAME_MAX) {
			errno = EINVAL;
			return -1;
		}
		if (read_full(dfd, name, f.namelen) == -1)
			return -1;
		name[f.namelen] = '\0';
		j->detail = "data stream name";
		if (strlen(name) != f.namelen ||
		    name_check(name, f.namelen, &why) == -1 ||
		    (i == 0) != (strcmp(name, PYX_SCRIPT_NAME) == 0)) {
			errno = EINVAL;
			return -1;
		}
		j->detail = "create file";
		if (make_parents(wfd, name) == -1 || (fd = openat(wfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0644)) == -1)
			return -1;
		j->detail = "write file";
		rv = 0;
		for (left = f.datalen; rv == 0 && left > 0; left -= n) {
			n = left > sizeof(chunk) ? sizeof(chunk) : (size_t)left;
			if (read_full(dfd, chunk, n) == -1 ||
			    write_all(fd, chunk, n) == -1)
				rv = -1;
		}
		close(fd);
		if (rv == -1)
			return -1;
	}
	close(dfd);
	return 0;
}

/* Exec mode: the files are in this process's copy of the worker. */
static int
files_from_params(struct jail *j, int wfd)
{
	const struct jail_params *p = j->p;
	size_t			  i;

	for (i = 0; i < p->nfiles; i++) {
		j->detail = i == 0 ? PYX_SCRIPT_NAME : "attachment";
		if (make_parents(wfd, p->files[i].name) == -1 ||
		    write_file(wfd, p->files[i].name, p->files[i].data,
		    p->files[i].len, 0644) == -1)
			return -1;
	}
	return 0;
}

/*
 * Written before any user code exists, into a tmpfs nothing else has
 * seen: no symlink or rename can have been planted. O_EXCL and O_NOFOLLOW
 * anyway.
 */
static int
fill_workspace(struct jail *j)
{
	int	 wfd, rv;

	if (j->p->data_late)
		return 0;	/* jail_late_files, once a request exists */
	j->detail = "open";
	if ((wfd = open(".ws/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = j->p->files == NULL ? files_from_stream(j, wfd, JAIL_HIGH_FD +
	    JAIL_FD_DATA) : files_from_params(j, wfd);
	close(wfd);
	return rv;
}

static int
mount_workspace(struct jail *j)
{
	if (mount(".ws/work", "work", NULL, MS_BIND, NULL) == -1 ||
	    mount(".ws/tmp", "tmp", NULL, MS_BIND, NULL) == -1 ||
	    mount(".ws/shm", "dev/shm", NULL, MS_BIND, NULL) == -1)
		return -1;
	j->detail = "staging";
	if (umount2(".ws", MNT_DETACH) == -1 || rmdir(".ws") == -1)
		return -1;
	return 0;
}

/*
 * Exec mode: matplotlib's font list, built once by the worker (fontlist.c),
 * where MPLCONFIGDIR points, so no run rebuilds it. Copied from the
 * worker's descriptor, inherited by this clone (no host path is looked
 * up; a bind from it would cross mount namespaces), then bound read-only
 * onto itself: the script can neither change nor remove it. The directory
 * stays the run's own (matplotlib wants it writable for other caches).
 */
static int
mpl_fontlist(struct jail *j)
{
	const struct jail_params *p = j->p;
	char		 dst[96], chunk[16 * 1024];
	ssize_t		 n;
	off_t		 off = 0;
	int		 fd, rv = -1;

	if (j->fontlist_fd < 0 || p->fontlist_name == NULL)
		return 0;
	j->detail = p->fontlist_name;
	strlcpy(dst, "tmp/.matplotlib/", sizeof(dst));
	if (strlcat(dst, p->fontlist_name, sizeof(dst)) >= sizeof(dst) ||
	    (mkdir("tmp/.matplotlib", 0755) == -1 && errno != EEXIST) ||
	    (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0444)) == -1)
		goto out;
	while ((n = pread(j->fontlist_fd, chunk, sizeof(chunk), off)) > 0) {
		if (write(fd, chunk, (size_t)n) != n)
			break;
		off += n;
	}
	close(fd);
	if (n == 0)
		rv = bind_ro(dst, dst, false);
out:
	close(j->fontlist_fd);
	j->fontlist_fd = -1;
	return rv;
}

/* Only this PID namespace's processes, and no /proc/sys at all. */
static int
proc(struct jail *j)
{
	return mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "subset=pid");
}

static int
read_only(struct jail *j)
{
	return remount_ro(".", MS_NOSUID | MS_NODEV);
}

/*
 * pivot_root(".", ".") stacks the old root under the new one; detaching
 * it leaves no path back to the host's tree.
 */
static int
enter_root(struct jail *j)
{
	if (syscall(SYS_pivot_root, ".", ".") == -1)
		return -1;
	j->detail = "detach old root";
	if (umount2(".", MNT_DETACH) == -1)
		return -1;
	j->detail = "chdir /";
	return chdir("/");
}

static const struct jail_step root_steps[] = {
	{ "make / private", private_tree },
	{ "mount root tmpfs", root_tmpfs },
	{ "take the slot's ids", take_ids },
	{ "mkdir skeleton", skeleton },
	{ "bind", host_usr },
	{ "populate", etc },
	{ "bind /dev", dev },
	{ "mount workspace tmpfs", workspace },
	{ "write workspace", fill_workspace },
	{ "bind workspace", mount_workspace },
	{ "matplotlib font list", mpl_fontlist },
	{ "mount /proc", proc },
	{ "remount root read-only", read_only },
	{ "pivot_root", enter_root },
};

/*
 * RLIMIT_CPU once the request is here: its budget on top of what this
 * process spent before it (CPython's after-fork work, in whole seconds,
 * rounded up), so that the set-up done ahead is not the script's and the
 * wall-clock deadline, which starts with the request too, stays first.
 */
static int
late_cpu_limit(const struct jail_params *p)
{
	struct rusage	 ru;
	struct rlimit	 rl, cur;
	long long	 us;
	rlim_t		 used;
	int		 i;

	for (i = 0; i < p->nrlim && p->rlim_res[i] != RLIMIT_CPU; i++)
		;
	if (i == p->nrlim)
		return 0;
	if (getrusage(RUSAGE_SELF, &ru) == -1 ||
	    getrlimit(RLIMIT_CPU, &cur) == -1)
		return -1;
	us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
	used = (rlim_t)((us + 999999) / 1000000);
	rl = p->rlim[i];
	if (rl.rlim_cur != RLIM_INFINITY)
		rl.rlim_cur += used;
	if (rl.rlim_max != RLIM_INFINITY)
		rl.rlim_max += used;
	/* Never above what we have: raising it would need privilege. */
	if (rl.rlim_max > cur.rlim_max)
		rl.rlim_max = cur.rlim_max;
	if (rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_CPU, &rl);
}

/*
 * A pre-built jail's files, written by its Python child itself: it has the
 * script's uid, no capability and its seccomp filter by now, so a request
 * is written with no more privilege than the script then has, into a
 * workspace no code has run in yet.
 */
int
jail_late_files(const struct jail_params *p, bool *admin)
{
	struct jail	 j;
	char		 name[16];
	int		 wfd, rv;

	memset(&j, 0, sizeof(j));
	j.p = p;
	/* Named while it waits, so that an idle jail is told from a run's. */
	if (prctl(PR_GET_NAME, name, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NAME, "pyexec-spare", 0, 0, 0) == -1)
		return -1;
	if ((wfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rv = files_from_stream(&j, wfd, JAIL_LATE_FD);
	close(wfd);
	*admin = j.admin;
	if (rv == 0 && (prctl(PR_SET_NAME, name, 0, 0, 0) == -1 ||
	    late_cpu_limit(p) == -1))
		return -1;
	return rv;
}

/*
 * A case of /evaluate (init.c, jail_enter_case), in a mount namespace of
 * its own copied from its lane's, whose root it keeps: read-only, built
 * above before the lane ran anything, with nothing in the lane's own
 * workspace. The case's workspace is a new tmpfs staged on /work; its
 * three directories are bound over /tmp, /dev/shm and, last, /work
 * itself, which covers the staging mount: no path leads to it, and the
 * script, without capabilities, can unmount nothing. The new /proc shows
 * the case's PID namespace, of which this init is PID 1.
 */
static int
case_to_root(struct jail *j)
{
	return chdir("/");
}

static int
case_workspace(struct jail *j)
{
	return ws_mount(j, "/work");
}

static int
case_fill(struct jail *j)
{
	int	 wfd, rv;

	j->detail = "open";
	if ((wfd = open("/work/work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	rv = files_from_stream(j, wfd, JAIL_HIGH_FD + JAIL_FD_DATA);
	close(wfd);
	return rv;
}

static int
case_bind(struct jail *j)
{
	j->detail = "/tmp";
	if (mount("/work/tmp", "/tmp", NULL, MS_BIND, NULL) == -1)
		return -1;
	j->detail = "/dev/shm";
	if (mount("/work/shm", "/dev/shm", NULL, MS_BIND, NULL) == -1)
		return -1;
	j->detail = "/work";
	return mount("/work/work", "/work", NULL, MS_BIND, NULL);
}

static const struct jail_step case_root_steps[] = {
	{ "make / private", private_tree },
	{ "chdir /", case_to_root },
	{ "mount workspace tmpfs", case_workspace },
	{ "write workspace", case_fill },
	{ "bind workspace", case_bind },
	{ "mount /proc", proc },
};

void
jail_case_root(struct jail *j)
{
	jail_checklist(j, case_root_steps, NELEM(case_root_steps));
}

/* bench/isolation only: the workspace without the minimal root. */
static int
bench_workspace(struct jail *j)
{
	const struct jail_params *p = j->p;

	if (mount("pyexec-ws", p->jaildir, "tmpfs", 0, p->ws_opts) == -1 ||
	    chdir(p->jaildir) == -1 || p->files == NULL)
		return -1;
	return write_file(AT_FDCWD, PYX_SCRIPT_NAME, p->files[0].data,
	    p->files[0].len, 0644);
}

static const struct jail_step bench_steps[] = {
	{ "make / private", private_tree },
	{ "bench workspace", bench_workspace },
};

void
jail_root(struct jail *j)
{
	if (BENCH_SKIP(SKIP_ROOT))
		jail_checklist(j, bench_steps, NELEM(bench_steps));
	else
		jail_checklist(j, root_steps, NELEM(root_steps));
}
