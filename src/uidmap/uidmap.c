/*
 * uidmap/uidmap.c: pyexec-uidmap, the one privileged piece: it writes the id maps
 * that give every run slot its own host uid and gid. Runs as root, started
 * by systemd (pyexec-uidmap.socket) or by the dev stack, with a listening
 * SOCK_SEQPACKET Unix socket on fd 0 that only the service's group can
 * connect to.
 *
 * Why it exists. The kernel keeps several counters per host uid (fds in
 * flight over Unix sockets, pipe buffer pages, epoll watches): with every
 * run mapped to the workers' own uid, one run could exhaust them for all
 * others. Each slot (slots.c) therefore maps the jail's uid 1000 to its own
 * host uid, base + slot, from the service user's subordinate range in
 * /etc/subuid and /etc/subgid. Mapping an id other than one's own needs
 * CAP_SETUID over the parent user namespace, which the workers must not
 * have, and NoNewPrivileges= rules out setuid helpers (newuidmap).
 *
 * The interface is narrow. Per connection (a forked child serves it), the
 * peer must be the service user (SO_PEERCRED). It may ask:
 *   HELLO  what the range is;
 *   SLOT   "map slot N for this process": a pidfd and the peer's slot lock
 *          file. The process must be the peer's child, still have the
 *          service user's ids, be in a user namespace the service user
 *          owns whose parent is the peer's own, with no map yet; the lock
 *          file must be runtime_dir/slot.N, and the passed description must
 *          hold its lock (checked against a second description of the same
 *          file). Then uid_map and gid_map get "1000 base+N 1".
 *   RANGE  the same checks on the process (the worker's zygote, which
 *          builds jails itself), which gets an identity map of the service
 *          user and of the whole range; the zygote then maps each jail's
 *          1000 to the slot's id, and the kernel refuses any id outside.
 * Nothing else is ever written, no other path is opened with privilege
 * (every file is reached through /proc/<pid> checked against the pidfd,
 * or through the passed descriptor), and no jail exists yet when it acts.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/nsfs.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "uidmap/uidmap.h"

#define UIDMAP_MAX	65536	/* ids used of the subordinate range, at most */

static uid_t	 svc_uid;
static gid_t	 svc_gid;
static char	 svc_name[64];
static char	 runtime_dir[PATH_MAX];
static uint32_t	 uid_base, gid_base, id_count;

__attribute__((noreturn)) static void
usage(void)
{
	fprintf(stderr, "usage: pyexec-uidmap -u user -r runtime_dir\n");
	exit(2);
}

/* The first "name:start:count" line of /etc/subuid or /etc/subgid. */
static int
read_subid(const char *path, const char *name, unsigned long id,
    uint32_t *start, uint32_t *count)
{
	FILE		*f;
	char		 line[256], *user, *s, *c, *end;
	unsigned long	 a, n;
	int		 rv = -1;

	if ((f = fopen(path, "re")) == NULL)
		fatal("%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		user = strtok(line, ":\n");
		s = strtok(NULL, ":\n");
		c = strtok(NULL, ":\n");
		if (user == NULL || s == NULL || c == NULL)
			continue;
		if (strcmp(user, name) != 0 &&
		    !(isdigit((unsigned char)user[0]) &&
		    strtoul(user, &end, 10) == id && *end == '\0'))
			continue;
		errno = 0;
		a = strtoul(s, &end, 10);
		if (errno || *end != '\0')
			continue;
		n = strtoul(c, &end, 10);
		if (errno || *end != '\0' || n == 0 || a == 0 ||
		    a + n > 0xfffffffeUL)
			continue;
		*start = (uint32_t)a;
		*count = (uint32_t)(n > UIDMAP_MAX ? UIDMAP_MAX : n);
		rv = 0;
		break;
	}
	fclose(f);
	return rv;
}

/* The pid a pidfd refers to, from /proc/self/fdinfo; -1 if not a pidfd. */
static pid_t
pidfd_pid(int pidfd)
{
	char	 path[64], buf[1024], *p;
	ssize_t	 n;
	int	 fd;
	long	 pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nPid:\t")) == NULL)
		return -1;
	pid = strtol(p + 6, NULL, 10);
	return pid > 1 ? (pid_t)pid : -1;	/* -1: exited, 0: not in our pidns */
}

/* The "Key:\tv1\tv2..." line of a status file; fills up to 4 numbers. */
static int
status_field(const char *st, const char *key, long v[4])
{
	const char	*p = st;
	char		*end;
	size_t		 kl = strlen(key);
	int		 i;

	while (p != NULL && strncmp(p, key, kl) != 0) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p == NULL)
		return -1;
	p += kl;
	for (i = 0; i < 4; i++) {
		v[i] = strtol(p, &end, 10);
		if (end == p)
			return i == 0 ? -1 : i;
		p = end;
	}
	return 4;
}

static int
write_at(int dirfd, const char *name, const char *s)
{
	int	 fd;
	ssize_t	 n;

	if ((fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int
same_file(int a, int b)
{
	struct stat	 sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Opens /proc/<pid> of the pidfd's process after checking that it is the
 * peer's child, with the service user's ids, in a fresh user namespace the
 * service user owns, child of the peer's. Returns the dirfd or -1 (errno).
 */
static int
open_target(int pidfd, pid_t peer)
{
	char	 path[64], st[4096];
	long	 v[4];
	uid_t	 owner;
	ssize_t	 n;
	pid_t	 pid;
	int	 dfd = -1, fd, ns = -1, parent = -1, peerns = -1, i, e = EPERM;

	if ((pid = pidfd_pid(pidfd)) == -1) {
		errno = EBADF;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	/*
	 * The pidfd still names that pid after the open (a reaped process's
	 * shows -1): the directory is that process's, not a recycled pid's.
	 * (Not pidfd_send_signal(.., 0): that needs CAP_KILL, which the
	 * unit does not grant.)
	 */
	if (pidfd_pid(pidfd) != pid) {
		e = ESRCH;
		goto fail;
	}
	if ((fd = openat(dfd, "status", O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	n = read(fd, st, sizeof(st) - 1);
	close(fd);
	if (n <= 0)
		goto fail;
	st[n] = '\0';
	if (status_field(st, "PPid:", v) != 1 || v[0] != (long)peer)
		goto fail;
	if (status_field(st, "Uid:", v) != 4)
		goto fail;
	for (i = 0; i < 4; i++)
		if (v[i] != (long)svc_uid)
			goto fail;
	if (status_field(st, "Gid:", v) != 4)
		goto fail;
	for (i = 0; i < 4; i++)
		if (v[i] != (long)svc_gid)
			goto fail;
	snprintf(path, sizeof(path), "/proc/%ld/ns/user", (long)peer);
	if ((ns = openat(dfd, "ns/user", O_RDONLY | O_CLOEXEC)) == -1 ||
	    (peerns = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    ioctl(ns, NS_GET_OWNER_UID, &owner) == -1 || owner != svc_uid ||
	    (parent = ioctl(ns, NS_GET_PARENT)) == -1 ||
	    !same_file(parent, peerns) || same_file(ns, peerns))
		goto fail;
	close(ns);
	close(parent);
	close(peerns);
	return dfd;
fail:
	if (ns != -1)
		close(ns);
	if (parent != -1)
		close(parent);
	if (peerns != -1)
		close(peerns);
	close(dfd);
	errno = e;
	return -1;
}

/* Does the passed description hold the lock of runtime_dir/slot.<slot>? */
static int
holds_slot(int lockfd, int slot)
{
	struct flock	 fl;
	struct stat	 sb;
	char		 want[PATH_MAX], have[PATH_MAX], self[64];
	ssize_t		 n;
	int		 other, held;

	if (snprintf(want, sizeof(want), "%s/slot.%d", runtime_dir, slot) >=
	    (int)sizeof(want))
		return -1;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", lockfd);
	if ((n = readlink(self, have, sizeof(have) - 1)) <= 0)
		return -1;
	have[n] = '\0';
	if (strcmp(have, want) != 0 || fstat(lockfd, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) || sb.st_uid != svc_uid)
		return -1;
	/* A second description of the same inode (no path lookup). */
	if ((other = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	held = fcntl(other, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(other);
	if (!held)
		return -1;		/* nobody holds it */
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	/* Held, and not against this description: it is the holder. */
	if (fcntl(lockfd, F_OFD_GETLK, &fl) == -1 || fl.l_type != F_UNLCK)
		return -1;
	return 0;
}

static int
handle(const struct uidmap_req *q, int *fds, int nfds, pid_t peer)
{
	char	 umap[128], gmap[128];
	int	 dfd, rv;

	if (q->op == UIDMAP_SLOT) {
		if (nfds != 2 || q->slot < 0 || (uint32_t)q->slot >= id_count)
			return EINVAL;
		if (holds_slot(fds[1], q->slot) == -1) {
			log_warnx("peer %ld: slot %d is not held by the "
			    "descriptor it passed", (long)peer, q->slot);
			return EPERM;
		}
		snprintf(umap, sizeof(umap), "%d %lu 1\n", PYX_JAIL_UID,
		    (unsigned long)uid_base + (unsigned long)q->slot);
		snprintf(gmap, sizeof(gmap), "%d %lu 1\n", PYX_JAIL_UID,
		    (unsigned long)gid_base + (unsigned long)q->slot);
	} else if (q->op == UIDMAP_RANGE) {
		if (nfds != 1)
			return EINVAL;
		snprintf(umap, sizeof(umap), "%lu %lu 1\n%lu %lu %lu\n",
		    (unsigned long)svc_uid, (unsigned long)svc_uid,
		    (unsigned long)uid_base, (unsigned long)uid_base,
		    (unsigned long)id_count);
		snprintf(gmap, sizeof(gmap), "%lu %lu 1\n%lu %lu %lu\n",
		    (unsigned long)svc_gid, (unsigned long)svc_gid,
		    (unsigned long)gid_base, (unsigned long)gid_base,
		    (unsigned long)id_count);
	} else
		return EINVAL;
	if ((dfd = open_target(fds[0], peer)) == -1) {
		rv = errno;
		log_warnx("peer %ld: refused the process to map: %s",
		    (long)peer, strerror(rv));
		return rv;
	}
	rv = 0;
	if (write_at(dfd, "setgroups", "deny") == -1 ||
	    write_at(dfd, "uid_map", umap) == -1 ||
	    write_at(dfd, "gid_map", gmap) == -1)
		rv = errno ? errno : EIO;
	close(dfd);
	return rv;
}

/* One connection: requests until the peer closes it. */
__attribute__((noreturn)) static void
serve(int c)
{
	struct ucred		 cr;
	struct uidmap_req	 q;
	struct uidmap_reply	 r;
	socklen_t		 len = sizeof(cr);
	ssize_t			 n;
	int			 fds[FDPASS_MAX], nfds, i;

	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
	    cr.uid != svc_uid) {
		log_warnx("connection from uid %ld refused (only %s)",
		    (long)cr.uid, svc_name);
		_exit(1);
	}
	for (;;) {
		n = fd_recv(c, &q, sizeof(q), fds, FDPASS_MAX, &nfds, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		memset(&r, 0, sizeof(r));
		r.uid_base = uid_base;
		r.gid_base = gid_base;
		r.count = id_count;
		if (n != (ssize_t)sizeof(q) || q.magic != UIDMAP_MAGIC)
			r.err = EINVAL;
		else if (q.op != UIDMAP_HELLO)
			r.err = handle(&q, fds, nfds, cr.pid);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (fd_send(c, &r, sizeof(r), NULL, 0) == -1)
			_exit(1);
	}
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	struct passwd	*pw;
	uint32_t	 ucount, gcount;
	int		 ch, type, c;
	socklen_t	 len = sizeof(type);

	log_init("pyexec-uidmap", 0);
	while ((ch = getopt(argc, argv, "r:u:")) != -1) {
		switch (ch) {
		case 'r':
			if (strlcpy(runtime_dir, optarg, sizeof(runtime_dir)) >=
			    sizeof(runtime_dir))
				usage();
			break;
		case 'u':
			if ((pw = getpwnam(optarg)) == NULL)
				fatalx("no user %s", optarg);
			svc_uid = pw->pw_uid;
			svc_gid = pw->pw_gid;
			strlcpy(svc_name, pw->pw_name, sizeof(svc_name));
			break;
		default:
			usage();
		}
	}
	if (optind != argc || svc_name[0] == '\0' || runtime_dir[0] != '/')
		usage();
	if (svc_uid == 0 || svc_gid == 0)
		fatalx("the service user must not be root");
	if (geteuid() != 0)
		fatalx("must run as root (it writes other processes' id maps)");
	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_SEQPACKET)
		fatalx("expects a listening SOCK_SEQPACKET socket on fd 0");
	if (read_subid("/etc/subuid", svc_name, svc_uid, &uid_base,
	    &ucount) == -1 || read_subid("/etc/subgid", svc_name, svc_gid,
	    &gid_base, &gcount) == -1)
		fatalx("%s has no subordinate uid and gid range in /etc/subuid "
		    "and /etc/subgid", svc_name);
	id_count = ucount < gcount ? ucount : gcount;
	/* The zygote's identity map lists the user and the range apart. */
	if ((svc_uid >= uid_base && svc_uid - uid_base < id_count) ||
	    (svc_gid >= gid_base && svc_gid - gid_base < id_count))
		fatalx("the subordinate range of %s contains its own id",
		    svc_name);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;	/* connection children reap themselves */
	sigaction(SIGCHLD, &sa, NULL);
	log_info("serving %s: uids %lu-%lu, gids %lu-%lu", svc_name,
	    (unsigned long)uid_base, (unsigned long)(uid_base + id_count - 1),
	    (unsigned long)gid_base, (unsigned long)(gid_base + id_count - 1));
	for (;;) {
		if ((c = accept4(0, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fatal("accept");
		}
		switch (fork()) {
		case -1:
			log_warn("fork");
			break;
		case 0:
			close(0);
			serve(c);
		default:
			break;
		}
		close(c);
	}
}
