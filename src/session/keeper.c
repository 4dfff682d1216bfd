/*
 * keeper.c: the owner of one session. One small process per session, not
 * a worker's child (zygote mode: forked by the zygote; exec mode: double-
 * forked by the worker, setsid), so a worker that crashes or is recycled
 * ends no session. It is the jail's parent (init's parent-death signal
 * follows it), holds the session slot's lock (the live-session count and
 * the per-slot uid), listens on the session's socket, relays one call at
 * a time to the driver, enforces the per-call wall limit (SIGINT, then
 * after a grace SIGKILL of the whole jail) and the session's idle and
 * total lifetime with its own clock, and frees everything on every path:
 * jail, cgroup directories, socket, mount point, slot.
 *
 * Everything from the jail is hostile: the driver's frames are bounded by
 * sess_reply_max() (the output caps, not the session's memory cap: we are
 * outside it) and read against the call's deadline, output is capped
 * per stream, and a driver that writes when not asked, or garbage, ends
 * the session. A session can forge only its own results.
 *
 * Single-threaded, one poll loop. Never links request code: no json-c,
 * SQLite or libfcgi; it knows lengths, deadlines and process states.
 *
 * Families (POST /sessions/{id}/fork). A fork's interpreter is a copy of
 * its parent's, made by fork() inside the same jail: one init, one set of
 * namespaces, one memory and pids cgroup, one uid for the family; but a
 * CPU cgroup per session (cg[2]), so that each has its own budget. Its
 * keeper (a member) is a fork of the parent's keeper and owns only its
 * own interpreter and CPU group: a pidfd from the kernel's credentials on
 * the child's request socket, checked to be a child of the family's init
 * in that group. The keeper that created the jail (the root) owns the
 * jail: when its own session ends while members live, it kills only its
 * own processes (init, in its group, is spared), drops its socket, and
 * keeps the jail (and its slot) until the last member's keeper has gone,
 * which it learns from a pipe every member holds open.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "session/session.h"

#define IO_TIMEOUT_MS	10000	/* a worker's frame, or our reply to it */
#define CHUNK		65536
#define OUT_DEFER	0.02	/* s: a cell's output waits for its reply */

enum cstate { C_NONE, C_READ, C_RUN };

/*
 * A cgroup file kept open: the keeper reads its session's CPU at every
 * wake and its memory and OOM counts at every call, and a path walk per
 * read (and a probe for the other hierarchy's name) cost more than the
 * read. pread at offset 0 makes the kernel show the file afresh.
 */
struct cgfile {
	int	 fd;		/* -1: not open */
	int	 which;		/* the name that opened */
	bool	 tried;
};

struct keeper {
	const struct sess_params *p;
	int		 listen, slot, setup;
	pid_t		 init;
	int		 pidfd, ctl, work;
	int		 drv_in, drv_out, out, err, data;
	struct buf	 obuf, ebuf;
	char		 cg[3][PATH_MAX];	/* family: memory, pids; own: CPU */
	struct cgfile	 f_mem, f_oom, f_cpu;	/* in cg[0], cg[0], cg[2] */
	/* the call in progress */
	int		 cli;
	enum cstate	 cst;
	struct sess_hdr	 chdr;
	size_t		 chdr_got;
	uint8_t		*creq;
	size_t		 creq_got;
	uint8_t		 dlen[4];
	size_t		 dlen_got;
	uint8_t		*drep;
	uint32_t	 drep_len;
	size_t		 drep_got;
	double		 t0, deadline;
	bool		 interrupted;
	/* the session */
	time_t		 last_used;
	uint64_t	 executions;
	bool		 dead;
	bool		 got_exit;	/* init reported the interpreter's end */
	long		 oom_before;	/* OOM kills when the call started */
	int		 wstatus;
	/* the family (fork) */
	bool		 member;	/* a fork: owns its interpreter only */
	pid_t		 family_init;	/* the jail's init, as we see it */
	int		 ipidfd;	/* root: its interpreter, once known */
	int		 famr, famw;	/* root: read end; everyone: write end */
	int		 fork_rp;	/* a fork in progress: child keeper ready */
};

static volatile sig_atomic_t stop_requested;
struct keeper;
static void	 recv_ctl(struct keeper *);
static void	 fork_session(struct keeper *);

static void
on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static time_t
now_s(void)
{
	return time(NULL);
}

static int
poll_one(int fd, short ev, int ms)
{
	struct pollfd	 p = { fd, ev, 0 };
	int		 n;

	while ((n = poll(&p, 1, ms)) == -1 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

/*
 * Whole write of n pieces, as one message where the peer has room (each
 * write wakes the reader), to a peer that must keep up, or -1. iov is
 * consumed.
 */
static int
writev_timed(int fd, struct iovec *iov, int n, int ms)
{
	struct msghdr	 mh;
	double		 end = mono_now() + ms / 1000.0;
	ssize_t		 w;

	iov_advance(&iov, &n, 0);
	while (n > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == ENOTSOCK)
			w = writev(fd, iov, n);
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (mono_now() > end || poll_one(fd, POLLOUT,
			    (int)((end - mono_now()) * 1000) + 1) == -1)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		iov_advance(&iov, &n, (size_t)w);
		if (n > 0 && mono_now() > end)
			return -1;
	}
	return 0;
}

static int
write_timed(int fd, const void *buf, size_t n, int ms)
{
	struct iovec	 v = { (void *)(uintptr_t)buf, n };

	return writev_timed(fd, &v, 1, ms);
}

static void
hdr_fill(struct sess_hdr *h, uint16_t op, uint32_t flags, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->magic = SESS_MAGIC;
	h->version = SESS_VERSION;
	h->op = op;
	h->flags = flags;
	h->len = len;
}

static void
cgfile_close(struct cgfile *f)
{
	close_quietly(&f->fd);
	f->tried = false;
}

/*
 * The file's text (NUL-terminated) into buf; the first read opens the
 * first of names[from..n) that exists in dir. -1: none, or unreadable.
 */
static ssize_t
cgfile_read(struct cgfile *f, const char *dir, const char *const *names,
    int from, int n, char *buf, size_t len)
{
	char	 path[PATH_MAX + 32];
	ssize_t	 r;
	int	 i;

	if (!f->tried) {
		/* Only a name that is not there is remembered (EMFILE is not). */
		f->tried = true;
		f->fd = -1;
		for (i = from; i < n && dir[0] != '\0'; i++) {
			if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
			    (int)sizeof(path))
				break;
			if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
				f->which = i;
				break;
			}
			if (errno != ENOENT)
				f->tried = false;
		}
	}
	if (f->fd == -1 || (r = pread(f->fd, buf, len - 1, 0)) <= 0)
		return -1;
	buf[r] = '\0';
	return r;
}

/* The session's memory, from its cgroup (v2 memory.current, v1 usage). */
static uint64_t
memory_bytes(struct keeper *k)
{
	static const char *const files[] = { "memory.current",
	    "memory.usage_in_bytes" };
	char	 buf[32];

	if (cgfile_read(&k->f_mem, k->cg[0], files, 0, 2, buf,
	    sizeof(buf)) == -1)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* The session's memory cgroup's OOM kills so far (v2 memory.events, v1 oom_control). */
static long
oom_kills(struct keeper *k)
{
	static const char *const files[] = { "memory.events",
	    "memory.oom_control" };
	char	 buf[512], *p;

	if (cgfile_read(&k->f_oom, k->cg[0], files, 0, 2, buf,
	    sizeof(buf)) == -1 || (p = strstr(buf, "oom_kill ")) == NULL)
		return 0;
	return strtol(p + 9, NULL, 10);
}

/*
 * CPU seconds the session has used. Its own CPU group where there is one
 * (v2 cpu.stat, v1 cpuacct.usage): every process the session started,
 * ended or not, and nothing of its relatives. A process cannot leave it:
 * the jail has no cgroup file system.
 */
static double
own_cpu(struct keeper *k)
{
	static const char *const files[] = { "cpu.stat", "cpuacct.usage" };
	char	 buf[512], *p;

	if (cgfile_read(&k->f_cpu, k->cg[2], files, 0, 2, buf,
	    sizeof(buf)) == -1)
		return -1;
	if (k->f_cpu.which == 0) {
		if ((p = strstr(buf, "usage_usec ")) != NULL)
			return (double)strtoull(p + 11, NULL, 10) / 1e6;
		/* v1's cpu controller has a cpu.stat too, without usage. */
		cgfile_close(&k->f_cpu);
		if (cgfile_read(&k->f_cpu, k->cg[2], files, 1, 2, buf,
		    sizeof(buf)) == -1)
			return -1;
	}
	return (double)strtoull(buf, NULL, 10) / 1e9;
}

/*
 * Without a CPU group of its own (v1 with no cpuacct hierarchy delegated):
 * every process in the family's cgroup, each with
 * the children it reaped (utime, stime, cutime, cstime). Orphans are
 * reaped by the jail's init, so nothing that ended is lost; what a process
 * used before it moved out cannot happen (the jail cannot leave its
 * cgroup). RLIMIT_CPU alone is per process, and a cell can leave behind a
 * chain of processes that each fork before their own limit. -1 without a
 * cgroup to list.
 */
static double
session_cpu(struct keeper *k)
{
	char		 path[PATH_MAX + 32], buf[1024], *p, *end;
	char		 pids[8192];
	unsigned long long v[4], ticks = 0;
	long		 hz = sysconf(_SC_CLK_TCK);
	double		 own;
	ssize_t		 n;
	int		 fd, i;
	long		 pid;

	/* Unreadable, which should not happen: the count below, not none. */
	if (k->cg[2][0] != '\0' && (own = own_cpu(k)) >= 0)
		return own;
	if (k->cg[0][0] == '\0' || hz <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/cgroup.procs", k->cg[0]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, pids, sizeof(pids) - 1);
	close(fd);
	if (n < 0)
		return -1;
	pids[n] = '\0';
	for (p = pids; *p != '\0'; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		while (*end == '\n')
			end++;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;	/* gone: its parent or init has its time */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* Fields 14-17, counted after the command's closing paren. */
		if ((p = strrchr(buf, ')')) == NULL)
			continue;
		for (i = 0; i < 11 && p != NULL; i++)
			p = strchr(p + 1, ' ');
		if (p == NULL || sscanf(p, " %llu %llu %llu %llu", &v[0], &v[1],
		    &v[2], &v[3]) != 4)
			continue;
		ticks += v[0] + v[1] + v[2] + v[3];
	}
	return (double)ticks / (double)hz;
}

static void
kill_pidfd(int *pidfd)
{
	if (*pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, *pidfd, SIGKILL, NULL, 0);
		(void)poll_one(*pidfd, POLLIN, 10000);
		close_quietly(pidfd);
	}
}

/*
 * Kills the whole jail (init's death takes its namespace) and reaps it;
 * a member, or a root with members alive, kills only its interpreter.
 */
static void
kill_jail(struct keeper *k)
{
	int	 st;

	/*
	 * A member's processes (and a root's, but the family's init) are
	 * all in its CPU group: none outlives the session to burn CPU no
	 * keeper counts.
	 */
	if (k->member) {
		kill_pidfd(&k->pidfd);
		if (k->cg[2][0] != '\0')
			(void)cgroup_kill_procs(k->cg[2], k->family_init);
		return;
	}
	if (k->famr >= 0) {
		kill_pidfd(&k->ipidfd);
		if (k->cg[2][0] != '\0')
			(void)cgroup_kill_procs(k->cg[2], k->family_init);
		return;
	}

	if (k->pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, k->pidfd, SIGKILL, NULL, 0);
		(void)poll_one(k->pidfd, POLLIN, 10000);
		close_quietly(&k->pidfd);
	}
	if (k->init > 0) {
		(void)kill(k->init, SIGKILL);
		while (waitpid(k->init, &st, 0) == -1 && errno == EINTR)
			;
		k->init = -1;
	}
}

/*
 * A root whose session ended while members live: its name and its
 * interpreter go now; the jail stays until the last member's keeper has
 * closed its end of the family pipe (or the service stops).
 */
static void
family_wait(struct keeper *k)
{
	struct pollfd	 pfd[2];
	char		 c;

	(void)unlink(k->p->sock_path);
	close_quietly(&k->listen);
	close_quietly(&k->cli);
	kill_jail(k);
	close_quietly(&k->famw);
	while (!stop_requested) {
		pfd[0] = (struct pollfd){ k->famr, POLLIN, 0 };
		pfd[1] = (struct pollfd){ k->pidfd, POLLIN, 0 };
		if (poll(pfd, 2, 1000) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;		/* init is gone: so is the family */
		if (pfd[0].revents && read(k->famr, &c, 1) <= 0)
			break;
		if (k->ctl != -1 && poll_one(k->ctl, POLLIN, 0) == 0)
			recv_ctl(k);	/* init's reports: nothing to act on */
	}
	close_quietly(&k->famr);
}

static void
cg_rmdir(const char *dir)
{
	int	 tries;

	for (tries = 0; dir[0] != '\0' && tries < 100; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			break;
		usleep(20000);
	}
}

static void
cg_rmdir_children(const char *dir)
{
	char		 path[PATH_MAX + 300];
	struct dirent	*de;
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "sess.", 5) == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			cg_rmdir(path);
	closedir(d);
}

/* Every resource of the session, on every path; then exit. */
__attribute__((noreturn)) static void
finish(struct keeper *k, int status)
{
	int	 i;

	if (k->famr >= 0)
		family_wait(k);
	kill_jail(k);
	(void)unlink(k->p->sock_path);
	close_quietly(&k->listen);
	close_quietly(&k->work);
	close_quietly(&k->setup);
	/*
	 * The kernel frees a cgroup only once its last process is gone. The
	 * CPU group first: on v2 it sits in the family's, with those of
	 * members whose keepers were killed (their processes died with init).
	 */
	cgfile_close(&k->f_mem);
	cgfile_close(&k->f_oom);
	cgfile_close(&k->f_cpu);
	cg_rmdir(k->cg[2]);
	if (!k->member && k->cg[0][0] != '\0')
		cg_rmdir_children(k->cg[0]);
	for (i = 0; i < 2 && !k->member; i++)
		cg_rmdir(k->cg[i]);
	if (k->p->jaildir[0] != '\0' && rmdir(k->p->jaildir) == -1 &&
	    errno != ENOENT)
		log_warn("rmdir %s", k->p->jaildir);
	/* The slot's lock is the session's liveness for the workers. */
	close_quietly(&k->slot);
	/*
	 * Last: a worker deleting the session waits for this end to close,
	 * so its 200 means everything is gone, the slot free for the next
	 * creation included (the caller's per-address count with it). Not
	 * for a root whose forks live on: family_wait() closed it already,
	 * and the slot stays held until the last member ends.
	 */
	close_quietly(&k->cli);
	_exit(status);
}

static ssize_t
drain(int *fd, struct buf *b)
{
	char	 chunk[CHUNK];
	ssize_t	 n;

	n = read(*fd, chunk, sizeof(chunk));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close_quietly(fd);
		return n;
	}
	(void)buf_append(b, chunk, (size_t)n);
	return n;
}

/* Until a short read: a pipe gives all it holds up to the chunk. */
static void
drain_all(struct keeper *k)
{
	while (k->out != -1 && drain(&k->out, &k->obuf) == CHUNK)
		;
	while (k->err != -1 && drain(&k->err, &k->ebuf) == CHUNK)
		;
}

static void
call_reset(struct keeper *k)
{
	close_quietly(&k->cli);
	free(k->creq);
	free(k->drep);
	k->creq = k->drep = NULL;
	k->creq_got = k->chdr_got = k->dlen_got = k->drep_got = 0;
	k->drep_len = 0;
	k->cst = C_NONE;
	k->interrupted = false;
}

/* The reply to the caller; drv may be NULL. */
static void
reply(struct keeper *k, enum sess_end term, const uint8_t *drv, size_t dlen)
{
	struct sess_hdr		 h;
	struct sess_result	 r;
	struct iovec		 v[5];
	size_t			 total;

	if (k->cli == -1)
		return;
	if (!k->dead)
		drain_all(k);
	memset(&r, 0, sizeof(r));
	r.term = term;
	r.flags = (k->dead ? 0 : SESS_R_ALIVE) |
	    (oom_kills(k) > k->oom_before ? SESS_R_OOM : 0) |
	    (k->obuf.truncated ? SESS_R_OUT_TRUNC : 0) |
	    (k->ebuf.truncated ? SESS_R_ERR_TRUNC : 0);
	r.wstatus = k->wstatus;
	if (k->fork_rp >= 0) {
		/* A fork: answered once the child's keeper is ready, or gone. */
		char	 c = 0;
		double	 left = k->deadline - mono_now();

		if (poll_one(k->fork_rp, POLLIN, left > 0 ? (int)(left * 1000) +
		    1 : 0) == 0 && read(k->fork_rp, &c, 1) == 1 && c == 'R')
			r.flags |= SESS_R_FORKED;
		close_quietly(&k->fork_rp);
	}
	r.out_len = (uint32_t)k->obuf.len;
	r.err_len = (uint32_t)k->ebuf.len;
	r.drv_len = (uint32_t)dlen;
	r.wall_sec = mono_now() - k->t0;
	total = sizeof(r) + k->obuf.len + k->ebuf.len + dlen;
	hdr_fill(&h, SESS_OP_REPLY, 0, (uint32_t)total);
	v[0] = (struct iovec){ &h, sizeof(h) };
	v[1] = (struct iovec){ &r, sizeof(r) };
	v[2] = (struct iovec){ k->obuf.data, k->obuf.len };
	v[3] = (struct iovec){ k->ebuf.data, k->ebuf.len };
	v[4] = (struct iovec){ (void *)(uintptr_t)drv, dlen };
	if (writev_timed(k->cli, v, 5, IO_TIMEOUT_MS) == -1)
		log_warnx("session: a worker did not take its reply");
	buf_free(&k->obuf);
	buf_free(&k->ebuf);
	buf_init(&k->obuf, (size_t)k->p->max_output);
	buf_init(&k->ebuf, (size_t)k->p->max_output);
	call_reset(k);
	/* Only calls keep a session alive; a GET of its state does not. */
	k->last_used = now_s();
}

/*
 * A member's interpreter is init's child, not ours: its wait status comes
 * from its pidfd once init has reaped it (PIDFD_GET_INFO, Linux 6.15),
 * or stays unknown (reported as killed).
 */
struct pidfd_exit_info {		/* struct pidfd_info, its first version */
	uint64_t	 mask;
	uint64_t	 cgroupid;
	uint32_t	 ids[11];
	int32_t		 exit_code;
};
#define PYX_PIDFD_GET_INFO	_IOWR(0xFF, 11, struct pidfd_exit_info)
#define PYX_PIDFD_INFO_EXIT	(1ULL << 3)

static void
member_status(struct keeper *k)
{
	struct pidfd_exit_info	 in;
	int			 i;

	for (i = 0; i < 50; i++) {
		memset(&in, 0, sizeof(in));
		in.mask = PYX_PIDFD_INFO_EXIT;
		if (ioctl(k->pidfd, PYX_PIDFD_GET_INFO, &in) == -1 &&
		    errno != ESRCH)
			return;		/* an older kernel: unknown */
		if (in.mask & PYX_PIDFD_INFO_EXIT) {
			k->wstatus = in.exit_code;
			k->got_exit = true;
			return;
		}
		usleep(20000);		/* init has not reaped it yet */
	}
}

/* The jail is gone (or going): answer a waiting caller, then end. */
__attribute__((noreturn)) static void
session_over(struct keeper *k, enum sess_end term)
{
	if (k->out != -1 || k->err != -1) {
		/* What the interpreter wrote before it died is the caller's. */
		if (k->out != -1)
			(void)fcntl(k->out, F_SETFL, O_NONBLOCK);
		if (k->err != -1)
			(void)fcntl(k->err, F_SETFL, O_NONBLOCK);
		drain_all(k);
	}
	/*
	 * The interpreter ended on its own: init's report follows at once
	 * (init outlives it: it reaps the family until the keeper kills it).
	 */
	if (term == SESS_T_DIED && !k->got_exit && k->ctl != -1) {
		while (k->ctl != -1 && !k->got_exit &&
		    poll_one(k->ctl, POLLIN, 2000) == 0)
			recv_ctl(k);
	} else if (term == SESS_T_DIED && !k->got_exit && k->member &&
	    k->pidfd >= 0) {
		(void)poll_one(k->pidfd, POLLIN, 2000);
		member_status(k);
		/*
		 * No status (a kernel before 6.15), but the budget is spent:
		 * RLIMIT_CPU (the same budget, for the interpreter alone)
		 * fired before our once-a-second look. Its count also has the
		 * copy's own start (the workspace copy, before it entered its
		 * group), hence the second's margin.
		 */
		if (!k->got_exit && k->p->cpu_seconds > 0 &&
		    session_cpu(k) >= (double)k->p->cpu_seconds - 1.0) {
			k->got_exit = true;
			k->wstatus = SIGXCPU;
		}
	}
	kill_jail(k);
	k->dead = true;
	/* No report: init itself was killed (the OOM killer, as a rule). */
	if (!k->got_exit)
		k->wstatus = SIGKILL;
	if (k->cst == C_RUN)
		reply(k, term, NULL, 0);
	finish(k, 0);
}

static void
fill_info(struct keeper *k, struct sess_info *in)
{
	time_t	 idle_end = k->last_used + k->p->idle_seconds;
	time_t	 max_end = k->p->created + k->p->max_seconds;

	memset(in, 0, sizeof(*in));
	in->created = k->p->created;
	in->last_used = k->last_used;
	in->expires = idle_end < max_end ? idle_end : max_end;
	in->executions = k->executions;
	in->memory_bytes = memory_bytes(k);
	in->busy = k->cst != C_NONE;
}

/*
 * The banner: the session's role and state, and (when free) its
 * workspace, for the worker to read return files beneath it.
 */
static void
send_banner(struct keeper *k, int fd, bool busy)
{
	struct sess_hdr	 h;
	struct sess_info in;
	uint8_t		 msg[sizeof(h) + sizeof(in)];
	int		 ws = k->work;

	fill_info(k, &in);
	hdr_fill(&h, SESS_OP_BANNER, (k->p->admin ? SESS_F_ADMIN : 0) |
	    (busy ? SESS_F_BUSY : 0), sizeof(in));
	/* One message (a fresh socket has room): the worker wakes once. */
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), &in, sizeof(in));
	if (poll_one(fd, POLLOUT, 1000) == -1 ||
	    fd_send(fd, msg, sizeof(msg), &ws, busy || ws < 0 ? 0 : 1) == -1)
		log_debug("session: banner not delivered");
}

static void
accept_one(struct keeper *k)
{
	int	 fd;

	fd = accept4(k->listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1)
		return;
	if (k->cst != C_NONE) {
		/* One call at a time; the next caller hears so at once. */
		send_banner(k, fd, true);
		close(fd);
		return;
	}
	send_banner(k, fd, false);
	k->cli = fd;
	k->cst = C_READ;
	k->t0 = mono_now();
	k->deadline = k->t0 + IO_TIMEOUT_MS / 1000.0;
}

/* A whole request frame is in: do it. */
static void
start_call(struct keeper *k)
{
	struct iovec	 v[2];
	uint8_t		 len[4];
	uint32_t	 n = k->chdr.len;

	switch (k->chdr.op) {
	case SESS_OP_DELETE: {
		/*
		 * The worker waits for its connection to close before its
		 * 200: kept open (a copy; reply() closes k->cli) until
		 * finish() has freed everything and let the slot go.
		 */
		int	 keep = fcntl(k->cli, F_DUPFD_CLOEXEC, 0);

		k->dead = true;
		kill_jail(k);
		k->cst = C_RUN;
		reply(k, SESS_T_OK, NULL, 0);
		k->cli = keep;
		finish(k, 0);
	}
	case SESS_OP_CALL:
		break;
	case SESS_OP_FORK:
		fork_session(k);
		return;
	default:
		call_reset(k);
		return;
	}
	/* Output between calls (a thread, a background process) is dropped. */
	drain_all(k);
	buf_free(&k->obuf);
	buf_free(&k->ebuf);
	buf_init(&k->obuf, (size_t)k->p->max_output);
	buf_init(&k->ebuf, (size_t)k->p->max_output);
	memcpy(len, &n, 4);
	k->cst = C_RUN;
	k->executions++;
	k->oom_before = oom_kills(k);
	k->t0 = mono_now();
	k->deadline = k->t0 + k->p->time_limit;
	v[0] = (struct iovec){ len, 4 };
	v[1] = (struct iovec){ k->creq, n };
	if (writev_timed(k->drv_in, v, 2, IO_TIMEOUT_MS) == -1)
		session_over(k, SESS_T_PROTOCOL);
	free(k->creq);
	k->creq = NULL;
}

/* Reads what the caller sent so far; starts the call when complete. */
static void
read_request(struct keeper *k)
{
	ssize_t	 n;

	if (k->chdr_got < sizeof(k->chdr)) {
		n = read(k->cli, (char *)&k->chdr + k->chdr_got,
		    sizeof(k->chdr) - k->chdr_got);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			call_reset(k);
			return;
		}
		k->chdr_got += (size_t)n;
		if (k->chdr_got < sizeof(k->chdr))
			return;
		if (k->chdr.magic != SESS_MAGIC || k->chdr.version !=
		    SESS_VERSION || k->chdr.len > SESS_FRAME_MAX) {
			log_warnx("session: a malformed request frame");
			call_reset(k);
			return;
		}
		k->creq = xmalloc(k->chdr.len + 1);
	}
	if (k->creq_got < k->chdr.len) {
		n = read(k->cli, k->creq + k->creq_got, k->chdr.len -
		    k->creq_got);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			call_reset(k);
			return;
		}
		k->creq_got += (size_t)n;
	}
	if (k->creq_got == k->chdr.len)
		start_call(k);
}

/* The driver's reply: a length, then that many bytes, all hostile. */
static void
read_driver(struct keeper *k)
{
	ssize_t	 n;

	if (k->cst != C_RUN) {
		log_warnx("session: the driver wrote unasked; ending it");
		session_over(k, SESS_T_PROTOCOL);
	}
	if (k->dlen_got < 4) {
		n = read(k->drv_out, k->dlen + k->dlen_got, 4 - k->dlen_got);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			session_over(k, SESS_T_DIED);
		k->dlen_got += (size_t)n;
		if (k->dlen_got < 4)
			return;
		memcpy(&k->drep_len, k->dlen, 4);
		/* Never held: a frame past the caps is a tampered driver. */
		if (k->drep_len > k->p->max_reply) {
			log_warnx("session: driver frame of %u bytes", k->drep_len);
			session_over(k, SESS_T_PROTOCOL);
		}
		k->drep = xmalloc(k->drep_len + 1);
	}
	if (k->drep_got < k->drep_len) {
		n = read(k->drv_out, k->drep + k->drep_got, k->drep_len -
		    k->drep_got);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			session_over(k, SESS_T_DIED);
		k->drep_got += (size_t)n;
	}
	if (k->drep_got == k->drep_len)
		reply(k, k->interrupted ? SESS_T_INTERRUPTED : SESS_T_OK,
		    k->drep, k->drep_len);
}

static void
recv_ctl(struct keeper *k)
{
	struct ctl_msg	 m;
	int		 fds[4], nfds, i;
	ssize_t		 n;

	n = fd_recv(k->ctl, &m, sizeof(m), fds, 4, &nfds, MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close_quietly(&k->ctl);
		return;
	}
	if (n == (ssize_t)sizeof(m) && m.type == CTL_READY && nfds == 1 &&
	    k->work == -1) {
		k->work = fds[0];
		nfds = 0;
	} else if (n == (ssize_t)sizeof(m) && m.type == CTL_EXIT) {
		k->wstatus = m.wstatus;
		k->got_exit = true;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

static void
serve(struct keeper *k)
{
	struct pollfd	 pfd[7];
	double		 now, wake;
	time_t		 t;
	int		 timeout;
	bool		 defer;

	for (;;) {
		if (stop_requested)
			session_over(k, SESS_T_EXPIRED);
		now = mono_now();
		t = now_s();
		if (t >= k->p->created + k->p->max_seconds)
			session_over(k, SESS_T_EXPIRED);
		if (k->cst == C_NONE && t >= k->last_used + k->p->idle_seconds)
			finish(k, 0);
		/* Checked at each wake (at least once a second). */
		if (k->p->cpu_seconds > 0 &&
		    session_cpu(k) >= (double)k->p->cpu_seconds) {
			k->got_exit = true;
			k->wstatus = SIGXCPU;	/* as the kernel's own limit says */
			session_over(k, SESS_T_DIED);
		}
		if (k->cst == C_READ && now >= k->deadline)
			call_reset(k);
		if (k->cst == C_RUN && now >= k->deadline) {
			if (!k->interrupted) {
				/*
				 * KeyboardInterrupt in the cell: the driver's
				 * process group (init ignores it: no handler).
				 */
				if (k->member)
					(void)syscall(SYS_pidfd_send_signal,
					    k->pidfd, SIGINT, NULL, 0);
				else
					(void)kill(-k->init, SIGINT);
				k->interrupted = true;
				k->deadline = now + k->p->grace_ms / 1000.0;
			} else
				session_over(k, SESS_T_KILLED_TIMEOUT);
		}
		wake = 1.0;
		if (k->cst != C_NONE && k->deadline - now < wake)
			wake = k->deadline - now;
		/*
		 * A cell's output is read with its reply (one wake, not one
		 * per line) unless the cell runs longer than OUT_DEFER; the
		 * pipe holds 64 KiB meanwhile, and a cell that fills it
		 * waits that long at most.
		 */
		defer = k->cst == C_RUN && now < k->t0 + OUT_DEFER;
		if (defer && k->t0 + OUT_DEFER - now < wake)
			wake = k->t0 + OUT_DEFER - now;
		timeout = (int)(wake * 1000) + 1;

		pfd[0] = (struct pollfd){ k->listen, POLLIN, 0 };
		pfd[1] = (struct pollfd){ k->cst == C_READ ? k->cli : -1,
		    POLLIN, 0 };
		pfd[2] = (struct pollfd){ k->drv_out, POLLIN, 0 };
		pfd[3] = (struct pollfd){ defer ? -1 : k->out, POLLIN, 0 };
		pfd[4] = (struct pollfd){ defer ? -1 : k->err, POLLIN, 0 };
		pfd[5] = (struct pollfd){ k->pidfd, POLLIN, 0 };
		pfd[6] = (struct pollfd){ k->ctl, POLLIN, 0 };
		if (poll(pfd, 7, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("session: poll");
			session_over(k, SESS_T_PROTOCOL);
		}
		if (pfd[3].revents)
			(void)drain(&k->out, &k->obuf);
		if (pfd[4].revents)
			(void)drain(&k->err, &k->ebuf);
		if (pfd[6].revents) {
			recv_ctl(k);
			/* The interpreter ended (init lives on, reaping). */
			if (k->got_exit)
				session_over(k, SESS_T_DIED);
		}
		if (pfd[2].revents)
			read_driver(k);
		if (pfd[5].revents) {
			/* init (a member: its interpreter) is gone. */
			while (k->ctl != -1 && poll_one(k->ctl, POLLIN, 0) == 0)
				recv_ctl(k);
			session_over(k, SESS_T_DIED);
		}
		if (pfd[1].revents)
			read_request(k);
		if (pfd[0].revents)
			accept_one(k);
	}
}

static int
channel(int *mine, int *theirs, bool mine_is_write)
{
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	*mine = p[mine_is_write ? 1 : 0];
	*theirs = p[mine_is_write ? 0 : 1];
	return 0;
}

static void
setup_fail(struct keeper *k, const char *what)
{
	struct sess_setup	 m;

	memset(&m, 0, sizeof(m));
	m.kind = SETUP_FAIL;
	m.err = errno;
	strlcpy(m.text, what, sizeof(m.text));
	if (k->setup >= 0)
		(void)fd_send(k->setup, &m, sizeof(m), NULL, 0);
	log_warn("session keeper: %s", what);
	finish(k, 1);
}

/* Reads the driver's first frame ("ready"), against the setup deadline. */
static int
await_driver(struct keeper *k, double end)
{
	uint8_t		 len[4];
	char		 buf[64];
	uint32_t	 n;
	size_t		 got = 0;
	ssize_t		 r;

	while (got < 4) {
		if (k->ctl != -1 && poll_one(k->ctl, POLLIN, 0) == 0)
			recv_ctl(k);
		if (poll_one(k->drv_out, POLLIN, (int)((end - mono_now()) *
		    1000) + 1) == -1)
			return -1;
		r = read(k->drv_out, len + got, 4 - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	memcpy(&n, len, 4);
	if (n == 0 || n > sizeof(buf))
		return -1;
	for (got = 0; got < n; got += (size_t)r) {
		if (poll_one(k->drv_out, POLLIN, (int)((end - mono_now()) *
		    1000) + 1) == -1 || (r = read(k->drv_out, buf + got, n -
		    got)) <= 0)
			return -1;
	}
	return 0;
}

/* ---- forks ---- */

/*
 * A fork's CPU group: "sess.<its slot>" beside its parent's own (v2: in the
 * family's cgroup, whose memory and pids limits it shares; v1: in the
 * cpuacct hierarchy). The copy is in it before any code of its own runs
 * (what the parent's at-fork hooks run in the copy before that stays the
 * parent's). Who may move it is the kernel's rule:
 *   v2: whoever may write the common ancestor's cgroup.procs (the family's,
 *       ours): its keeper moves it at its hello (*fd -1: the jail gets
 *       nothing of the cgroup file system);
 *   v1: only a writer whose uid is the moved task's: the copy moves
 *       itself, through *fd, an O_PATH fd of the group's cgroup.procs
 *       file (never a directory: ".." from a directory of the host's
 *       cgroup file system would lead out of the jail), which the copy
 *       reopens through /proc/self/fd. The file is writable by others
 *       until the copy's keeper has checked the copy arrived
 *       (cg_member_close); its directory stays ours alone, so no host
 *       user can reach the file, and a relative that took the fd from
 *       the parent's interpreter meanwhile can only move its own
 *       processes into the copy's budget.
 * Returns 0 with grp set, or -1.
 */
static int
cg_member_open(const char *own, int slot, char *grp, size_t len, int *fd)
{
	char	 path[PATH_MAX + 32], *slash;

	*fd = -1;
	if (strlcpy(grp, own, len) >= len || (slash = strrchr(grp, '/')) ==
	    NULL)
		goto bad;
	*slash = '\0';
	if (snprintf(path, sizeof(path), "%s/sess.%d", grp, slot) >=
	    (int)len)
		goto bad;
	strlcpy(grp, path, len);
	/* A killed keeper's leftover: the slot is ours now. */
	(void)cgroup_kill_procs(grp, 0);
	(void)rmdir(grp);
	if (mkdir(grp, 0700) == -1)
		goto bad;
	snprintf(path, sizeof(path), "%s/cpuacct.usage", grp);
	if (access(path, F_OK) == -1)
		return 0;			/* v2 */
	snprintf(path, sizeof(path), "%s/cgroup.procs", grp);
	if (chmod(path, 0666) == -1 ||
	    (*fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		(void)rmdir(grp);
		goto bad;
	}
	return 0;
bad:
	grp[0] = '\0';
	return -1;
}

/* v1: the group's cgroup.procs back to owner-only writes, as the kernel made it. */
static void
cg_member_close(const char *grp)
{
	char	 path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cpuacct.usage", grp);
	if (access(path, F_OK) == -1)
		return;
	snprintf(path, sizeof(path), "%s/cgroup.procs", grp);
	if (chmod(path, 0644) == -1 && errno != ENOENT)
		log_warn("chmod %s", path);
}

/* v2: moves pid into grp; v1: the copy did, it must be there. */
static int
cg_member_move(const char *grp, pid_t pid)
{
	char	 path[PATH_MAX + 32], val[32];

	snprintf(path, sizeof(path), "%s/cpuacct.usage", grp);
	if (access(path, F_OK) == -1) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", grp);
		snprintf(val, sizeof(val), "%ld", (long)pid);
		if (write_string(path, val) == -1)
			return -1;
	}
	return cgroup_only(grp, pid) ? 0 : -1;
}

/*
 * A child of the family's init, alive: a process of this jail. From init's
 * list of children, not the process's own /proc entry: an interpreter of
 * a family is non-dumpable, and under systemd's ProtectProc=invisible its
 * /proc/PID is hidden from us (init's is not: it is the keeper's child).
 */
static int
family_pidfd(const struct keeper *k, pid_t pid)
{
	char	 path[96], buf[8192], *p, *e;
	ssize_t	 n;
	int	 fd, pidfd;
	long	 v;
	bool	 found = false;

	if (pid <= 1 || pid == k->family_init || k->family_init <= 0)
		return -1;
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)k->family_init, (long)k->family_init);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto bad;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		goto bad;
	buf[n] = '\0';
	for (p = buf; !found; p = e) {
		v = strtol(p, &e, 10);
		if (e == p)
			break;
		found = v == (long)pid;
	}
	/* Still alive after the read: the listed pid was this very process. */
	if (!found || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == -1)
		goto bad;
	return pidfd;
bad:
	close(pidfd);
	return -1;
}

/*
 * The child's interpreter introduces itself on its request socket: one
 * byte, with the kernel's credentials (SO_PASSCRED: its real pid, as we
 * see it) and its workspace's fd. Both are hostile: the pid must be a
 * child of the family's init, the fd a directory of the family's
 * workspace file system.
 */
static int
member_hello(struct keeper *k, dev_t ws_dev, double end)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	struct ucred	 cr;
	struct stat	 st;
	union {
		char		 buf[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr	 align;
	} cm;
	char		 b = 0;
	int		 fds[4], nfds = 0, i;
	bool		 have_cr = false;
	ssize_t		 n;

	if (mono_now() >= end || poll_one(k->drv_in, POLLIN, (int)((end -
	    mono_now()) * 1000) + 1) == -1)
		return -1;
	iov.iov_base = &b;
	iov.iov_len = 1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	if ((n = recvmsg(k->drv_in, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT)) !=
	    1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(cr))) {
			memcpy(&cr, CMSG_DATA(c), sizeof(cr));
			have_cr = true;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (nfds > 4)
				nfds = 4;
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)nfds);
		}
	}
	if (b == 'R' && nfds >= 1 && fstat(fds[0], &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_dev == ws_dev) {
		k->work = fds[0];
		fds[0] = -1;
	}
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (b != 'R' || !have_cr || k->work < 0 ||
	    (k->pidfd = family_pidfd(k, cr.pid)) == -1) {
		log_warnx("session fork: the copy's hello was refused");
		return -1;
	}
	/*
	 * Its CPU group: v2, we move it now, before any code of its own
	 * runs; v1, it moved itself before its first word (boot.py): checked,
	 * not believed. Nothing else may be in the group.
	 */
	if (k->cg[2][0] != '\0' && cg_member_move(k->cg[2], cr.pid) == -1) {
		log_warn("session fork: the copy is not alone in its CPU "
		    "group %s", k->cg[2]);
		return -1;
	}
	return 0;
}

/*
 * The child's keeper, in a fresh process (a grandchild of the parent's
 * keeper, so nobody waits for it): it drops everything of the parent's
 * session, takes the new socket and slot, meets its interpreter and
 * serves. ch[]: request socket, stdout, stderr, replies (our ends).
 */
__attribute__((noreturn)) static void
member_main(struct keeper *k, const struct sess_fork *f, const int *got,
    const int *ch, const int *jail_ends, int ready, const char *cpu_group)
{
	static struct sess_params mp;
	struct stat	 st;
	dev_t		 ws_dev;
	double		 end;
	int		 i, n;

	if (k->work < 0 || fstat(k->work, &st) == -1)
		_exit(1);
	ws_dev = st.st_dev;
	for (i = 0; i < 5; i++)
		if (jail_ends[i] != -1)
			close(jail_ends[i]);
	close_quietly(&k->listen);
	close_quietly(&k->slot);
	close_quietly(&k->cli);
	close_quietly(&k->drv_in);
	close_quietly(&k->drv_out);
	close_quietly(&k->out);
	close_quietly(&k->err);
	close_quietly(&k->ctl);
	close_quietly(&k->pidfd);
	close_quietly(&k->ipidfd);
	close_quietly(&k->famr);
	close_quietly(&k->work);
	close_quietly(&k->fork_rp);
	/* Its own CPU group from here (the family's memory: read afresh). */
	cgfile_close(&k->f_mem);
	cgfile_close(&k->f_oom);
	cgfile_close(&k->f_cpu);
	mp = *k->p;
	strlcpy(k->cg[2], cpu_group, sizeof(k->cg[2]));
	strlcpy(mp.sock_path, f->sock_path, sizeof(mp.sock_path));
	mp.jaildir[0] = '\0';
	mp.created = f->created;
	k->p = &mp;
	k->member = true;
	k->init = -1;
	k->listen = got[0];
	k->slot = got[1];
	k->drv_in = ch[0];
	k->out = ch[1];
	k->err = ch[2];
	k->drv_out = ch[3];
	free(k->creq);
	free(k->drep);
	k->creq = k->drep = NULL;
	k->creq_got = k->chdr_got = k->dlen_got = k->drep_got = 0;
	k->cst = C_NONE;
	k->interrupted = k->dead = k->got_exit = false;
	k->executions = 0;
	k->wstatus = 0;
	buf_free(&k->obuf);
	buf_free(&k->ebuf);
	buf_init(&k->obuf, (size_t)mp.max_output);
	buf_init(&k->ebuf, (size_t)mp.max_output);
	end = mono_now() + (k->p->time_limit > 0 ? k->p->time_limit : 10) +
	    30;
	n = member_hello(k, ws_dev, end);
	if (k->cg[2][0] != '\0')
		cg_member_close(k->cg[2]);
	if (n == -1 || await_driver(k, end) == -1) {
		log_warnx("session fork: the copy did not start");
		finish(k, 1);
	}
	(void)fcntl(k->drv_out, F_SETFL, O_NONBLOCK);
	(void)fcntl(k->drv_in, F_SETFL, O_NONBLOCK);
	(void)fcntl(k->out, F_SETFL, O_NONBLOCK);
	(void)fcntl(k->err, F_SETFL, O_NONBLOCK);
	(void)fcntl(k->listen, F_SETFL, O_NONBLOCK);
	if (write(ready, "R", 1) != 1)
		finish(k, 1);
	close(ready);
	k->last_used = now_s();
	serve(k);
	finish(k, 0);
}

/*
 * SESS_OP_FORK, on a free session: the new session's listen socket and
 * slot arrive from the worker; the child's keeper is forked here, its
 * channels go to our driver, which forks the interpreter. The reply (the
 * driver's, with SESS_R_FORKED once the child's keeper is ready) follows
 * the usual path.
 */
static void
fork_session(struct keeper *k)
{
	struct sess_fork f;
	int		 got[2] = { -1, -1 }, ngot = 0, cin[2], p[3][2], rp[2];
	int		 ch[4], je[5], one = 1, i;
	uint8_t		 len[4];
	static const char req[] = "{\"op\": \"fork\"}";
	uint32_t	 n = sizeof(req) - 1;
	char		 b, kind = 'F', grp[PATH_MAX] = "";
	int		 st;
	pid_t		 mid;

	if (k->chdr.len != sizeof(f) || k->work < 0 || (!k->member &&
	    k->ipidfd < 0) || poll_one(k->cli, POLLIN, IO_TIMEOUT_MS) == -1 ||
	    fd_recv(k->cli, &b, 1, got, 2, &ngot, 0) != 1 || ngot != 2) {
		while (ngot > 0)
			close(got[--ngot]);
		call_reset(k);
		return;
	}
	memcpy(&f, k->creq, sizeof(f));
	f.sock_path[sizeof(f.sock_path) - 1] = '\0';
	free(k->creq);
	k->creq = NULL;
	cin[0] = cin[1] = rp[0] = rp[1] = -1;
	for (i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	/* The child's own CPU group, beside ours: its budget is its own. */
	je[4] = -1;
	if (k->cg[2][0] != '\0' && (f.slot < 0 || cg_member_open(k->cg[2],
	    f.slot, grp, sizeof(grp), &je[4]) == -1))
		goto fail;
	if (je[4] != -1)
		kind = 'P';	/* v1: the copy moves itself, through fd 5 */
	if (!k->member && k->famr < 0) {
		if (pipe2(rp, O_CLOEXEC) == -1)
			goto fail;
		k->famr = rp[0];
		k->famw = rp[1];
		rp[0] = rp[1] = -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cin) == -1 ||
	    setsockopt(cin[0], SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)) == -1 || pipe2(p[0], O_CLOEXEC) == -1 ||
	    pipe2(p[1], O_CLOEXEC) == -1 || pipe2(p[2], O_CLOEXEC) == -1 ||
	    pipe2(rp, O_CLOEXEC) == -1)
		goto fail;
	ch[0] = cin[0];
	ch[1] = p[0][0];
	ch[2] = p[1][0];
	ch[3] = p[2][0];
	je[0] = cin[1];
	je[1] = p[0][1];
	je[2] = p[1][1];
	je[3] = p[2][1];
	k->cst = C_RUN;
	k->t0 = mono_now();
	k->deadline = k->t0 + k->p->time_limit + 30;
	if ((mid = fork()) == -1)
		goto fail;
	if (mid == 0) {
		if ((mid = fork()) == -1)
			_exit(1);
		if (mid != 0)
			_exit(0);
		close(rp[0]);
		member_main(k, &f, got, ch, je, rp[1], grp);
	}
	while (waitpid(mid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = EAGAIN;
		goto fail;	/* no child keeper: its channels and group are ours */
	}
	for (i = 0; i < 4; i++)
		close(ch[i]);
	close(rp[1]);
	close_quietly(&got[0]);
	close_quietly(&got[1]);
	k->fork_rp = rp[0];
	memcpy(len, &n, 4);
	if (write_timed(k->drv_in, len, 4, IO_TIMEOUT_MS) == -1 ||
	    write_timed(k->drv_in, req, n, IO_TIMEOUT_MS) == -1 ||
	    poll_one(k->drv_in, POLLOUT, IO_TIMEOUT_MS) == -1 ||
	    fd_send(k->drv_in, &kind, 1, je, je[4] != -1 ? 5 : 4) == -1) {
		for (i = 0; i < 5; i++)
			close_quietly(&je[i]);
		session_over(k, SESS_T_PROTOCOL);
	}
	for (i = 0; i < 5; i++)
		close_quietly(&je[i]);
	return;
fail:
	log_warn("session fork");
	close_quietly(&je[4]);
	if (grp[0] != '\0')
		(void)rmdir(grp);
	close_quietly(&got[0]);
	close_quietly(&got[1]);
	for (i = 0; i < 2; i++) {
		close_quietly(&cin[i]);
		close_quietly(&rp[i]);
	}
	for (i = 0; i < 3; i++) {
		close_quietly(&p[i][0]);
		close_quietly(&p[i][1]);
	}
	k->cst = C_RUN;
	reply(k, SESS_T_OK, NULL, 0);
}

/*
 * The root's interpreter: at the driver's first word, init's only child.
 * Known, a member's end can spare the jail; unknown, the session cannot
 * fork.
 */
static int
root_interpreter(const struct keeper *k)
{
	char	 path[96], buf[64];
	ssize_t	 n;
	long	 pid;
	char	*e;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)k->init, (long)k->init);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	pid = strtol(buf, &e, 10);
	if (e == buf || pid <= 1 || (*e != ' ' && *e != '\n') ||
	    strchr(e + 1, ' ') != NULL)
		return -1;	/* not exactly one child */
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
}

/*
 * This process is a copy of the zygote, heap included. Its first large
 * allocations (a call's stdout and stderr buffers) made glibc's malloc
 * walk and merge free chunks that heap left behind, each page touched a
 * copy-on-write fault: ~8 ms of the first call with output, measured on a
 * machine where faults are slow. Made and freed here, while the session
 * is made, the calls find that work done.
 */
static void
warm_malloc(void)
{
	void	*a, *b;

	a = xmalloc(BUF_FIRST + 1);
	b = xmalloc(BUF_FIRST + 1);
	free(b);
	free(a);
}

void
keeper_main(const struct sess_params *p, struct jail_params *spec,
    const int *fds, sess_clone_fn clone_jail, void *arg)
{
	struct keeper		 k;
	struct sess_setup	 m;
	struct sigaction	 sa;
	int			 j_in = -1, j_out = -1, j_err = -1, j_drv = -1;
	int			 j_ctl = -1, j_data = -1, sp[2], give[2], ngive;
	int			 got[2], ngot;
	double			 end;
	ssize_t			 n;

	memset(&k, 0, sizeof(k));
	k.p = p;
	k.listen = fds[SESS_FD_LISTEN];
	k.slot = fds[SESS_FD_SLOT];
	k.setup = fds[SESS_FD_SETUP];
	k.init = -1;
	k.pidfd = k.ctl = k.work = k.cli = -1;
	k.ipidfd = k.famr = k.famw = k.fork_rp = -1;
	k.drv_in = k.drv_out = k.out = k.err = k.data = -1;
	k.f_mem.fd = k.f_oom.fd = k.f_cpu.fd = -1;
	k.last_used = now_s();
	buf_init(&k.obuf, (size_t)p->max_output);
	buf_init(&k.ebuf, (size_t)p->max_output);
	warm_malloc();
	end = mono_now() + p->setup_ms / 1000.0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);	/* the zygote's NOCLDWAIT */

	/* Requests on a stream socket: a fork's channels travel on it. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		setup_fail(&k, "request socket");
	k.drv_in = sp[0];
	j_in = sp[1];
	if (channel(&k.out, &j_out, false) == -1 ||
	    channel(&k.err, &j_err, false) == -1 ||
	    channel(&k.drv_out, &j_drv, false) == -1 ||
	    (spec->argv == NULL && channel(&k.data, &j_data, true) == -1) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		setup_fail(&k, "pipes");
	k.ctl = sp[0];
	j_ctl = sp[1];
	spec->fds[JAIL_FD_STDIN] = j_in;
	spec->fds[JAIL_FD_STDOUT] = j_out;
	spec->fds[JAIL_FD_STDERR] = j_err;
	spec->fds[JAIL_FD_VERDICT] = j_drv;
	spec->fds[JAIL_FD_CTL] = j_ctl;
	spec->fds[JAIL_FD_DATA] = j_data;
	spec->jaildir = p->jaildir;
	spec->wait_go = true;
	spec->keep_reaping = true;	/* init outlives a family's root */

	if ((k.init = clone_jail(spec, arg)) <= 0)
		setup_fail(&k, "clone");
	k.family_init = k.init;
	close(j_in);
	close(j_out);
	close(j_err);
	close(j_drv);
	close(j_ctl);
	if (j_data != -1)
		close(j_data);
	if ((k.pidfd = (int)syscall(SYS_pidfd_open, k.init, 0)) == -1)
		setup_fail(&k, "pidfd_open");

	/* The worker attaches cgroups (and maps ids in exec mode). */
	memset(&m, 0, sizeof(m));
	m.kind = SETUP_INIT;
	m.pid = k.init;
	give[0] = k.pidfd;
	give[1] = k.data;
	ngive = k.data != -1 ? 2 : 1;
	if (fd_send(k.setup, &m, sizeof(m), give, ngive) == -1)
		setup_fail(&k, "setup: init");
	close_quietly(&k.data);		/* the worker writes the files */
	if (poll_one(k.setup, POLLIN, (int)((end - mono_now()) * 1000) + 1)
	    == -1)
		setup_fail(&k, "setup: the worker did not answer");
	n = fd_recv(k.setup, &m, sizeof(m), got, 2, &ngot, 0);
	while (ngot > 0)
		close(got[--ngot]);
	if (n != (ssize_t)sizeof(m) || m.kind != SETUP_GO)
		setup_fail(&k, "setup: no go");
	memcpy(k.cg, m.cg, sizeof(k.cg));
	k.cg[0][PATH_MAX - 1] = k.cg[1][PATH_MAX - 1] = '\0';
	k.cg[2][PATH_MAX - 1] = '\0';
	if (write(k.ctl, "g", 1) != 1)
		setup_fail(&k, "releasing the jail");
	if (await_driver(&k, end) == -1) {
		errno = ETIMEDOUT;
		setup_fail(&k, "the session's interpreter did not start");
	}
	(void)fcntl(k.drv_out, F_SETFL, O_NONBLOCK);
	(void)fcntl(k.drv_in, F_SETFL, O_NONBLOCK);
	(void)fcntl(k.out, F_SETFL, O_NONBLOCK);
	(void)fcntl(k.err, F_SETFL, O_NONBLOCK);
	(void)fcntl(k.listen, F_SETFL, O_NONBLOCK);
	k.ipidfd = root_interpreter(&k);
	memset(&m, 0, sizeof(m));
	m.kind = SETUP_READY;
	m.pid = k.init;
	if (fd_send(k.setup, &m, sizeof(m), NULL, 0) == -1)
		setup_fail(&k, "setup: ready");
	close_quietly(&k.setup);
	k.last_used = now_s();
	serve(&k);
	finish(&k, 0);
}
