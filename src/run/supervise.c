/*
 * supervise.c: the worker's side of one run. Owns the pipes, the control
 * socket and the jail's init process from clone() to reap.
 *
 * One poll() loop feeds stdin, drains stdout and stderr into capped
 * buffers, reads the bootstrap's verdict and init's control messages, all
 * at once (no pipe deadlock), against a monotonic deadline. At the
 * deadline, or when a stream passes its cap, init is SIGKILLed from
 * outside its PID namespace, which takes every process of the run with it.
 * The loop ends when every pipe is at EOF; only then is init reaped, and
 * by then the kernel has reaped everything else in the namespace.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"
#include "boot_py.h"

#define VERDICT_MAX	(64 * 1024)
#define LANE_READY_SEC	30	/* a lane's jail, from clone to CTL_READY */

void
run_init(struct run *r, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->pidfd = -1;
	r->fd_stdin = r->fd_stdout = r->fd_stderr = -1;
	r->fd_verdict = r->fd_ctl = r->fd_data = r->fd_work = -1;
	r->watch_fd = -1;
	r->lane_sock = -1;
	buf_init(&r->out, (size_t)cfg->max_output_bytes);
	buf_init(&r->err, (size_t)cfg->max_output_bytes);
	buf_init(&r->verdict, VERDICT_MAX);
	r->exit_code = -1;
	r->time_limit = cfg->time_limit_seconds;
}

/* Before sup_run: a request's (lower) limits, checked by request.c. */
void
run_set_limits(struct run *r, const struct run_limits *l)
{
	r->time_limit = l->time_limit_seconds;
	r->out.max = (size_t)l->max_output_bytes;
	r->err.max = (size_t)l->max_output_bytes;
}

/* Safe on every path: kills and reaps init if it is still there. */
/* Zygote mode: init is not our child; its pidfd says when it is gone. */
static void
pidfd_wait(int pidfd, int timeout_ms)
{
	struct pollfd	 p = { pidfd, POLLIN, 0 };

	while (poll(&p, 1, timeout_ms) == -1 && errno == EINTR)
		;
}

void
run_free(struct run *r)
{
	if (r->pidfd >= 0) {
		(void)syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
		pidfd_wait(r->pidfd, 5000);
		close_quietly(&r->pidfd);
	}
	/* Either mode: init is our child (the zygote clones with CLONE_PARENT). */
	if (r->pid > 0) {
		(void)kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, 0) == -1 && errno == EINTR)
			;
		r->pid = -1;
	}
	close_quietly(&r->fd_stdin);
	close_quietly(&r->fd_stdout);
	close_quietly(&r->fd_stderr);
	close_quietly(&r->fd_verdict);
	close_quietly(&r->fd_ctl);
	close_quietly(&r->fd_data);
	close_quietly(&r->fd_work);
	buf_free(&r->out);
	buf_free(&r->err);
	buf_free(&r->verdict);
	/* A pre-built jail's mount point, now that nothing of it is left. */
	if (r->jaildir_owned != NULL) {
		(void)rmdir(r->jaildir_owned);
		free(r->jaildir_owned);
		r->jaildir_owned = NULL;
	}
}

static void
add_rlimit(struct jail_params *s, int res, rlim_t soft, rlim_t hard)
{
	struct rlimit	 cur;

	/* Never ask for more than the worker has: that would need privilege. */
	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		if (hard > cur.rlim_max)
			hard = cur.rlim_max;
		if (soft > hard)
			soft = hard;
	}
	s->rlim_res[s->nrlim] = res;
	s->rlim[s->nrlim].rlim_cur = soft;
	s->rlim[s->nrlim].rlim_max = hard;
	s->nrlim++;
}

/*
 * The jail's files, script first, as views of the request: the jail
 * writes them (exec mode) from its copy of the worker's memory.
 */
static struct jail_file *
jail_files(const struct exec_req *req)
{
	struct jail_file	*f;
	size_t		 i;

	f = xcalloc(req->natt + 1, sizeof(*f));
	f[0] = (struct jail_file){ PYX_SCRIPT_NAME, req->code, req->code_len };
	for (i = 0; i < req->natt; i++)
		f[i + 1] = (struct jail_file){ req->att[i].name, req->att[i].data,
		    req->att[i].len };
	return f;
}

static void
fill_spec(struct jail_params *s, const struct runner *rn, const struct run *r,
    const struct run_limits *lim, const struct jail_file *files,
    size_t nfiles, const char *jaildir, const char **argv, int slot)
{
	const struct config	*c = rn->cfg;
	unsigned long long	 ws = (unsigned long long)c->workspace_limit_mb << 20;
	rlim_t			 as;
	rlim_t			 t = (rlim_t)r->time_limit;

	memset(s, 0, sizeof(*s));
	s->policy = rn->policy;
	s->files = files;
	s->nfiles = nfiles;
	s->jaildir = jaildir;
	snprintf(s->uid_map, sizeof(s->uid_map), "%d %lu 1\n", PYX_JAIL_UID,
	    (unsigned long)rn->uid);
	snprintf(s->gid_map, sizeof(s->gid_map), "%d %lu 1\n", PYX_JAIL_UID,
	    (unsigned long)rn->gid);
	/* One inode per 16 KiB of space, at least 1024. */
	snprintf(s->ws_opts, sizeof(s->ws_opts),
	    "size=%llu,nr_inodes=%llu,mode=0755,uid=%d,gid=%d", ws,
	    ws / 16384 > 1024 ? ws / 16384 : 1024, PYX_JAIL_UID, PYX_JAIL_UID);
	s->argv = argv;
	s->envp = jail_env;
	/* CPU: SIGXCPU at the limit, SIGKILL one second later. */
	add_rlimit(s, RLIMIT_CPU, t, t + 1);
	/*
	 * Zygote mode: the zygote adds its own address space (zygote.c), so
	 * the limit is what the run may allocate. Exec mode: it includes
	 * python3's own start-up (about 15 MiB).
	 */
	as = (rlim_t)lim->memory_limit_mb << 20;
	add_rlimit(s, RLIMIT_AS, as, as);
	add_rlimit(s, RLIMIT_FSIZE, ws, ws);
	add_rlimit(s, RLIMIT_NOFILE, 256, 256);
	add_rlimit(s, RLIMIT_CORE, 0, 0);
	add_rlimit(s, RLIMIT_MEMLOCK, 0, 0);
	add_rlimit(s, RLIMIT_MSGQUEUE, 0, 0);
	/*
	 * RLIMIT_NPROC is counted per user namespace (Linux >= 5.14 ucounts),
	 * and each run has its own, so this budget is per run, not per uid:
	 * a fork bomb in one run cannot starve another. The jail's init is
	 * one of the processes counted, hence the + 1.
	 */
	s->nproc.rlim_cur = s->nproc.rlim_max = (rlim_t)lim->max_processes + 1;
	/*
	 * With a pids cgroup, pids.max (the same max_processes + 1) is the
	 * cap, and RLIMIT_NPROC one more its backstop: the kernel checks the
	 * rlimit first, so at equal values pids.max would never be the one
	 * that refuses, and pids.events could not show a fork bomb.
	 */
	if (rn->cg->version == 2 || rn->cg->pids[0] != '\0')
		s->nproc.rlim_cur = s->nproc.rlim_max += 1;
	/*
	 * init always waits for the worker's go: cgroups are attached and
	 * the slot's ids mapped first, and a worker that gives up (or cannot
	 * even receive init's pidfd) just closes the control socket, which
	 * ends init before anything of the run exists.
	 */
	s->wait_go = true;
	if (uids_per_slot(rn->uids) && slot >= 0) {
		s->ids_by_parent = true;
		s->jail_uid = rn->uids->uid_base + (uint32_t)slot;
		s->jail_gid = rn->uids->gid_base + (uint32_t)slot;
	}
	s->max_files = (uint32_t)c->max_attachments + r->extra_files;
	s->netns_lane = r->netns_lane;
	s->wipe = rn->wipe;
	s->wipe_len = rn->wipe_len;
	/* Zygote mode: the zygote holds the font list in memory. */
	s->fontlist_fd = c->mode == MODE_ZYGOTE ? -1 : rn->fontlist_fd;
	s->fontlist_name = rn->fontlist_name;
}

static void
set_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Returns 0 on EOF, -1 on error, else bytes read. */
static ssize_t
drain(int *fd, struct buf *b, bool *overflow)
{
	ssize_t	 n;

	n = buf_read(b, *fd);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close_quietly(fd);
		return n;
	}
	if (b->truncated)
		*overflow = true;
	return n;
}

/* After init's death: whatever is left in a pipe, without waiting for EOF. */
static void
drain_rest(int *fd, struct buf *b, bool *overflow)
{
	ssize_t	 n;

	while (*fd != -1) {
		n = buf_read(b, *fd);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* EOF, or EAGAIN: empty */
		if (b->truncated)
			*overflow = true;
	}
	close_quietly(fd);
}

static bool
recv_ctl(struct run *r)
{
	struct ctl_msg	 m;
	int		 fds[4], nfds, i;
	ssize_t		 n;

	n = fd_recv(r->fd_ctl, &m, sizeof(m), fds, 4, &nfds, MSG_DONTWAIT);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		close_quietly(&r->fd_ctl);
		return false;
	}
	if (n != (ssize_t)sizeof(m)) {
		log_warnx("jail sent a short control message (%zd bytes)", n);
		goto closefds;
	}
	switch (m.type) {
	case CTL_READY:
		if (nfds == 1 && r->fd_work == -1) {
			r->fd_work = fds[0];
			nfds = 0;
		}
		break;
	case CTL_FAIL:
		m.text[sizeof(m.text) - 1] = '\0';
		snprintf(r->fail, sizeof(r->fail), "%s: %s", m.text,
		    strerror(m.err));
		break;
	case CTL_EXIT:
		r->got_exit = true;
		r->exit_status = m.wstatus;
		r->cpu_sec = (double)m.ru.ru_utime.tv_sec +
		    (double)m.ru.ru_utime.tv_usec / 1e6 +
		    (double)m.ru.ru_stime.tv_sec +
		    (double)m.ru.ru_stime.tv_usec / 1e6;
		r->maxrss_kb = m.ru.ru_maxrss;
		r->script_cpu_sec = r->cpu_sec;
		break;
	default:
		log_warnx("jail sent control message type %u", m.type);
	}
closefds:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return true;
}

static void
kill_run(struct run *r, enum termination why)
{
	if (r->term == TERM_NONE)
		r->term = why;
	/* A pidfd cannot hit a recycled pid; the zygote reaps its children. */
	if (r->pidfd >= 0)
		(void)syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
	else
		(void)kill(r->pid, SIGKILL);
}

/*
 * Zygote mode: the request's files, to the jail's init on the data pipe
 * (a header, then per file a header, the name, the bytes), before the
 * deadline. Nothing of it passes through the zygote.
 */
static int
write_deadline(int fd, const void *p, size_t n, double deadline)
{
	struct pollfd	 pfd = { fd, POLLOUT, 0 };
	const char	*c = p;
	ssize_t		 w;
	double		 left;

	while (n > 0) {
		if ((left = deadline - mono_now()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) == -1 && errno != EINTR)
			return -1;
		w = write(fd, c, n);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_stream(int fd, const struct exec_req *req, bool admin, double deadline)
{
	struct jail_stream_hdr	 h;
	struct jail_stream_file	 f;
	size_t			 i;

	memset(&h, 0, sizeof(h));
	h.magic = JAIL_STREAM_MAGIC;
	h.admin = admin ? 1 : 0;
	h.nfiles = (uint32_t)req->natt + 1;
	if (write_deadline(fd, &h, sizeof(h), deadline) == -1)
		return -1;
	for (i = 0; i <= req->natt; i++) {
		const char	*name = i == 0 ? PYX_SCRIPT_NAME : req->att[i - 1].name;
		const void	*data = i == 0 ? (const void *)req->code :
				    req->att[i - 1].data;

		memset(&f, 0, sizeof(f));
		f.namelen = (uint32_t)strlen(name);
		f.datalen = i == 0 ? req->code_len : req->att[i - 1].len;
		if (write_deadline(fd, &f, sizeof(f), deadline) == -1 ||
		    write_deadline(fd, name, f.namelen, deadline) == -1 ||
		    write_deadline(fd, data, (size_t)f.datalen, deadline) == -1)
			return -1;
	}
	return 0;
}

/*
 * The poll loop, one step at a time, so that one process can supervise
 * several runs at once (/evaluate). It ends when init is gone (its pidfd
 * is readable: the kernel has then reaped every process of the
 * namespace), having read what was left in the pipes, or when every pipe
 * is at EOF. Not at EOF alone: a pipe end parked in an SCM_RIGHTS cycle
 * survives the namespace until the kernel's socket garbage collector
 * runs, which may be never.
 */
bool
sup_done(const struct run *r)
{
	return r->gone || (r->fd_stdout == -1 && r->fd_stderr == -1 &&
	    r->fd_verdict == -1 && r->fd_ctl == -1);
}

/* Fills SUP_NFDS entries of pfd; returns the poll timeout it needs (ms). */
int
sup_pollfds(struct run *r, struct pollfd *pfd)
{
	double	 now = mono_now();

	if (now >= r->deadline && r->term == TERM_NONE)
		kill_run(r, TERM_TIMEOUT);
	pfd[0] = (struct pollfd){ r->fd_stdout, POLLIN, 0 };
	pfd[1] = (struct pollfd){ r->fd_stderr, POLLIN, 0 };
	pfd[2] = (struct pollfd){ r->fd_verdict, POLLIN, 0 };
	pfd[3] = (struct pollfd){ r->fd_ctl, POLLIN, 0 };
	pfd[4] = (struct pollfd){ r->fd_stdin, POLLOUT, 0 };
	pfd[5] = (struct pollfd){ r->pidfd, POLLIN, 0 };
	/*
	 * nginx closes the FastCGI connection when its client goes away; it
	 * sends nothing else once the body is read, so only the hang-up is
	 * looked at (an unread end-of-body record must not count). After a
	 * kill, no longer watched.
	 */
	pfd[6] = (struct pollfd){ r->term == TERM_NONE ? r->watch_fd : -1,
	    POLLRDHUP, 0 };
	/* After a kill, the end is imminent; poll without a deadline. */
	return r->term != TERM_NONE ? 1000 :
	    (int)((r->deadline - now) * 1000) + 1;
}

/* Handles what poll() reported for one run. */
void
sup_step(struct run *r, const struct exec_req *req, const struct pollfd *pfd)
{
	ssize_t	 n;

	if (pfd[0].revents)
		(void)drain(&r->fd_stdout, &r->out, &r->overflow);
	if (pfd[1].revents)
		(void)drain(&r->fd_stderr, &r->err, &r->overflow);
	if (pfd[2].revents)
		(void)drain(&r->fd_verdict, &r->verdict, &r->vover);
	if (pfd[3].revents)
		(void)recv_ctl(r);
	if (pfd[4].revents) {
		n = write(r->fd_stdin, req->stdin_data + r->stdin_off,
		    req->stdin_len - r->stdin_off);
		if (n > 0)
			r->stdin_off += (size_t)n;
		if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
		    r->stdin_off == req->stdin_len)
			close_quietly(&r->fd_stdin);
	}
	/* init is gone, and with it every process of the run. */
	if (pfd[5].revents) {
		drain_rest(&r->fd_stdout, &r->out, &r->overflow);
		drain_rest(&r->fd_stderr, &r->err, &r->overflow);
		drain_rest(&r->fd_verdict, &r->verdict, &r->vover);
		while (r->fd_ctl != -1 && recv_ctl(r))
			;
		close_quietly(&r->fd_ctl);
		r->gone = true;
	}
	if (pfd[6].revents & (POLLRDHUP | POLLHUP | POLLERR))
		kill_run(r, TERM_ABORTED);
	/* Past the cap the run is stopped: memory here stays bounded. */
	if (r->overflow && r->term == TERM_NONE)
		kill_run(r, TERM_OUTPUT);
	if (sup_done(r))
		close_quietly(&r->fd_stdin);
}

/* A poll() that failed: the run cannot be supervised, so it ends. */
void
sup_abort(struct run *r)
{
	kill_run(r, TERM_SIGNALED);
	r->gone = true;
	close_quietly(&r->fd_stdin);
}

static void
supervise(struct run *r, const struct exec_req *req)
{
	struct pollfd	 pfd[SUP_NFDS];
	int		 timeout;

	while (!sup_done(r)) {
		timeout = sup_pollfds(r, pfd);
		if (poll(pfd, SUP_NFDS, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			sup_abort(r);
			break;
		}
		sup_step(r, req, pfd);
	}
	close_quietly(&r->fd_stdin);
}

static double
tv_sec(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* The larger of init's report and the whole tree's account. */
static void
account(struct run *r, const struct rusage *ru)
{
	double	 cpu = tv_sec(&ru->ru_utime) + tv_sec(&ru->ru_stime);

	if (cpu > r->cpu_sec)
		r->cpu_sec = cpu;
	if (ru->ru_maxrss > r->maxrss_kb)
		r->maxrss_kb = ru->ru_maxrss;
}

static void
classify(struct run *r)
{
	int	 st = r->exit_status;

	if (r->term != TERM_NONE)
		return;		/* timeout or output limit: decided by us */
	if (WIFEXITED(st)) {
		r->term = TERM_EXITED;
		r->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		r->signal = WTERMSIG(st);
		/* SIGXCPU at the soft CPU limit, SIGKILL at the hard one. */
		if (r->signal == SIGXCPU || (r->signal == SIGKILL &&
		    r->script_cpu_sec >= (double)r->time_limit))
			r->term = TERM_CPU;
		else
			r->term = TERM_SIGNALED;
	}
}

/*
 * The jail's end of one channel; the worker's end goes straight into
 * struct run, which owns it from here on (run_free closes it).
 */
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

/* Starts the jail's init: cloned here (exec mode) or by the zygote. */
static int
spawn_jail(struct run *r, struct runner *rn, const struct jail_params *spec)
{
	/* A case: its lane's server clones it, not as our child. */
	if (r->lane_sock >= 0) {
		r->via_zygote = true;
		r->pid = -1;
		return zyg_spawn_case(rn->zyg, r->lane_sock, spec, &r->pidfd);
	}
	if (rn->cfg->mode == MODE_ZYGOTE) {
		/* The zygote clones the jail; we get a pidfd of its init. */
		r->via_zygote = true;
		switch (zyg_spawn(rn->zyg, spec, &r->pid, &r->pidfd)) {
		case 0:
			return 0;
		case -2:	/* died with the request: nothing ran, retry */
			r->pid = -1;
			return -2;
		default:
			r->pid = -1;	/* zyg_spawn said why */
			return -1;
		}
	}
	/*
	 * Raw clone: glibc has no fork-with-flags, and CLONE_NEWPID through
	 * unshare() would need a second fork. The child runs only the jail
	 * library, which touches no glibc state that a skipped atfork
	 * handler guards.
	 */
	r->pid = (pid_t)syscall(SYS_clone, SIGCHLD | (JAIL_CLONE_FLAGS &
	    ~(BENCH_SKIP(SKIP_NETNS) ? CLONE_NEWNET : 0)), NULL, NULL, NULL,
	    NULL);
	if (r->pid == 0) {
		jail_enter(spec, NULL);		/* execs python3 */
		_exit(127);
	}
	if (r->pid == -1 && (errno == EPERM || errno == ENOSPC ||
	    errno == EINVAL))
		log_warn("clone with new namespaces failed: are unprivileged "
		    "user namespaces enabled (sysctl user.max_user_namespaces "
		    "> 0)?");
	else if (r->pid == -1)
		log_warn("clone");
	/* Still our unreaped child: the pid cannot have been reused. */
	if (r->pid > 0 &&
	    (r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0)) == -1) {
		log_warn("pidfd_open");
		return -1;	/* run_free() kills and reaps init */
	}
	return r->pid > 0 ? 0 : -1;
}

/*
 * init waits until it is in the run's cgroups and, with per-slot ids,
 * until its slot's ids are mapped: nothing of the run happens outside the
 * limits or as another uid. Fails closed.
 */
static int
release_jail(struct run *r, struct runner *rn,
    const struct jail_params *spec, int slot, int slot_fd)
{
	/*
	 * A case is in its lane's cgroups and ids already (the server's
	 * jail was attached and mapped): what it adds to the counters is
	 * its own.
	 */
	if (r->lane_sock >= 0) {
		r->oom_base = cg_oom_count(rn->cg);
		r->cpu_base = cg_cpu_sec(rn->cg);
		if (write(r->fd_ctl, "g", 1) != 1) {
			log_warn("releasing a case");
			return -1;
		}
		return 0;
	}
	if (cg_enabled(rn->cg) && !BENCH_SKIP(SKIP_CGROUP) &&
	    cg_attach(rn->cg, r->pid) == -1) {
		log_warn("attaching the jail to its cgroups");
		return -1;
	}
	/* Zygote mode: the zygote mapped them (its namespace has the range). */
	if (rn->cfg->mode != MODE_ZYGOTE && spec->ids_by_parent &&
	    uids_map_slot(rn->uids, r->pidfd, slot_fd, slot) == -1) {
		log_warn("pyexec-uidmap could not map slot %d's ids", slot);
		return -1;
	}
	if (write(r->fd_ctl, "g", 1) != 1) {
		log_warn("releasing the jail");
		return -1;
	}
	return 0;
}

/* After the run: why it ended, in the worker's terms. */
static enum pyx_err
judge(struct run *r, struct runner *rn, int wstatus)
{
	if (r->fail[0] != '\0') {
		log_warnx("jail setup failed: %s", r->fail);
		return PYX_E_SANDBOX;
	}
	(void)verdict_parse(r->verdict.data, r->verdict.len, &r->verdict_info);
	if (r->term == TERM_NONE && !r->got_exit) {
		if (!r->oom_killed) {
			log_warnx("jail init ended without a report (wait "
			    "status 0x%x)", wstatus);
			return PYX_E_SANDBOX;
		}
		/*
		 * The OOM killer took init itself: on cgroup v2 always
		 * (memory.oom.group kills the whole run), on v1 when memory no
		 * process owns (tmpfs files, socket buffers) leaves init the
		 * largest candidate. The run ended at its memory limit; what
		 * it printed is kept.
		 */
		r->term = TERM_MEMORY;
		r->signal = SIGKILL;
	}
	classify(r);
	if (r->oom_killed && r->term == TERM_SIGNALED && r->signal == SIGKILL)
		r->term = TERM_MEMORY;
	if (r->verdict_info.kind == VERDICT_NONE && r->term == TERM_EXITED &&
	    (r->exit_code == 125 || r->exit_code == 127)) {
		log_warnx("python could not be started in the jail (exit %d)",
		    r->exit_code);
		return PYX_E_SANDBOX;
	}
	return PYX_OK;
}

/*
 * The part of a run that needs nothing of its request but its limits:
 * channels, the jail (cloned here or by the zygote), its release into its
 * cgroups. Every fd and process it makes is owned by r (released by
 * run_free) or, for the jail's ends of the channels, by a local closed on
 * every path (AUTOCLOSE). late: a pre-built jail (zygote mode), whose
 * Python child will read the request itself (jail_late_files).
 */
static enum pyx_err
jail_up(struct run *r, struct runner *rn, const struct run_limits *lim,
    const struct jail_file *files, size_t nfiles, const char *jaildir,
    bool admin, int slot, int slot_fd, bool late)
{
	AUTOCLOSE int	 j_in = -1;
	AUTOCLOSE int	 j_out = -1;
	AUTOCLOSE int	 j_err = -1;
	AUTOCLOSE int	 j_verdict = -1;
	AUTOCLOSE int	 j_ctl = -1;
	AUTOCLOSE int	 j_data = -1;
	struct jail_params	 spec;
	int		 sp[2];
	bool		 zygote = rn->cfg->mode == MODE_ZYGOTE;
	int		 spawned;

	r->cg = rn->cg;
	/*
	 * A run holds its slot, whose ids it takes. A pre-built jail takes
	 * the ids of a slot it does not hold: it is only ever used by a run
	 * holding that very slot (spare_fits), and runs nothing before.
	 */
	if (uids_per_slot(rn->uids) && (slot < 0 || (!late && slot_fd < 0))) {
		log_warnx("a run without a slot has no uid of its own");
		return PYX_E_INTERNAL;
	}
	if (channel(&r->fd_stdin, &j_in, true) == -1 ||
	    channel(&r->fd_stdout, &j_out, false) == -1 ||
	    channel(&r->fd_stderr, &j_err, false) == -1 ||
	    channel(&r->fd_verdict, &j_verdict, false) == -1 ||
	    (zygote && !r->lane_srv &&
	    channel(&r->fd_data, &j_data, true) == -1) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("pipes for a run");
		return PYX_E_INTERNAL;
	}
	r->fd_ctl = sp[0];
	j_ctl = sp[1];
	/* A lane's server: its cases' requests and answers, both ways. */
	if (r->lane_srv) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sp) == -1) {
			log_warn("a lane server's socket");
			return PYX_E_INTERNAL;
		}
		r->fd_data = sp[0];
		j_data = sp[1];
	}

	r->argv[0] = "/usr/bin/python3";
	r->argv[1] = "-I";
	r->argv[2] = "-u";
	r->argv[3] = "-c";
	r->argv[4] = boot_py;
	r->argv[5] = admin ? "admin" : "public";
	r->argv[6] = rn->cfg->allowed_imports;
	r->argv[7] = NULL;
	fill_spec(&spec, rn, r, lim, files, nfiles, jaildir, r->argv, slot);
	spec.lane = r->lane_srv;
	spec.data_late = late || r->lane_srv;
	/*
	 * A lane's jail and its cases share one user namespace and cgroup:
	 * the lane's init and server are two more of a case's processes.
	 */
	if (r->lane_srv || r->lane_sock >= 0) {
		spec.nproc.rlim_cur += 2;
		spec.nproc.rlim_max += 2;
	}
	cg_limits(rn->cg, lim->memory_limit_mb, lim->max_processes +
	    (r->lane_srv ? 2 : 0));
	spec.fds[JAIL_FD_STDIN] = j_in;
	spec.fds[JAIL_FD_STDOUT] = j_out;
	spec.fds[JAIL_FD_STDERR] = j_err;
	spec.fds[JAIL_FD_VERDICT] = j_verdict;
	spec.fds[JAIL_FD_CTL] = j_ctl;
	spec.fds[JAIL_FD_DATA] = j_data;

	if ((spawned = spawn_jail(r, rn, &spec)) != 0) {
		/* A case's cgroup is its lane's, with the server in it. */
		if (r->lane_sock < 0)
			cg_run_end(rn->cg);
		return spawned == -2 ? PYX_E_RESTARTING : PYX_E_SANDBOX;
	}
	/*
	 * The run's clock starts once its jail exists: replacing a recycled
	 * zygote (seconds of imports on a slow machine) is ours, not the
	 * script's time. A pre-built jail's starts again when it is used.
	 */
	r->t0 = mono_now();
	r->deadline = r->t0 + (double)r->time_limit;
	/* The jail holds its ends now; ours would hide its EOFs. */
	close_quietly(&j_in);
	close_quietly(&j_out);
	close_quietly(&j_err);
	close_quietly(&j_verdict);
	close_quietly(&j_ctl);
	close_quietly(&j_data);
	if (release_jail(r, rn, &spec, slot, slot_fd) == -1) {
		if (r->lane_sock < 0)
			cg_run_end(rn->cg); /* kills init if it was attached */
		return PYX_E_SANDBOX;
	}
	return PYX_OK;
}

/*
 * The pre-built jail (zygote mode). After an /execute, while the worker
 * waits for its next request, it has the zygote clone the next jail with
 * the server's limits and the slot it last ran in (whose ids the jail
 * takes) and releases it into the worker's cgroups: namespaces, root,
 * workspace, the Python child's fork and CPython's after-fork work all
 * happen then, off the next request's path. The child then waits, its
 * seccomp filter installed, for the request's files on the data pipe.
 * A request uses it only if nothing it was built from differs: the same
 * slot (so the same ids), limits, cgroups and zygote, no grading case and
 * no shared network lane, a zygote younger than zygote_max_age_seconds,
 * and still alive; any other run drops it first (it is killed unused: no
 * code ever ran in it) and builds its jail as before. One at a time per
 * worker. Its run's time_limit and cg are what it was built with.
 */
struct spare {
	struct run	 run;
	char		 jaildir[PATH_MAX];
	char		 cg_run[PATH_MAX];	/* v2: its run cgroup in run.cg */
	int		 slot;
	int		 memory_limit_mb;
	int		 max_processes;
	unsigned long	 zyg_gen;
	bool		 live;
};

static struct spare	 the_spare;	/* the worker's one (runner.spare) */

struct spare *
sup_spare_new(void)
{
	memset(&the_spare, 0, sizeof(the_spare));
	the_spare.run.pid = the_spare.run.pidfd = -1;
	the_spare.slot = -1;
	return &the_spare;
}

/* Whether the process behind pidfd has ended (its pidfd is readable). */
static bool
pidfd_ended(int pidfd)
{
	struct pollfd	 p = { pidfd, POLLIN, 0 };

	return pidfd >= 0 && poll(&p, 1, 0) == 1;
}

/* Kills an unused pre-built jail and frees everything of it. */
void
sup_spare_drop(struct runner *rn)
{
	struct spare	*sp = rn->spare;
	struct cgroups	*cg;

	if (sp == NULL || !sp->live)
		return;
	sp->live = false;
	rn->zyg->spare = 0;
	cg = sp->run.cg;
	/* One that died by itself: a set-up step failed; say which. */
	if (pidfd_ended(sp->run.pidfd)) {
		while (sp->run.fd_ctl >= 0 && recv_ctl(&sp->run))
			;
		log_warnx("a pre-built jail ended unused%s%s",
		    sp->run.fail[0] != '\0' ? ": " : "", sp->run.fail);
	}
	run_free(&sp->run);	/* SIGKILL through its pidfd, then reaped */
	/* Its own run cgroup only (v2): nothing else may have replaced it. */
	if (cg->version != 2 || strcmp(cg->run, sp->cg_run) == 0)
		cg_run_end(cg);
	else
		log_warnx("a pre-built jail's cgroup %s was replaced", sp->cg_run);
	if (sp->jaildir[0] != '\0')
		(void)rmdir(sp->jaildir);
	sp->jaildir[0] = '\0';
	sp->slot = -1;
}

int
sup_spare_slot(const struct runner *rn)
{
	return rn->spare != NULL && rn->spare->live ? rn->spare->slot : -1;
}

void
sup_spare_build(struct runner *rn, const struct run_limits *lim,
    int time_limit, int slot)
{
	struct spare	*sp = rn->spare;
	const struct config *c = rn->cfg;

	if (sp == NULL || sp->live || c->mode != MODE_ZYGOTE || slot < 0)
		return;
	/* Named apart from a request's: one a run left would show. */
	if (snprintf(sp->jaildir, sizeof(sp->jaildir),
	    "%s/jail.%ld.spare.XXXXXX", c->runtime_dir, (long)getpid()) >=
	    (int)sizeof(sp->jaildir) ||
	    mkdtemp(sp->jaildir) == NULL) {
		log_warn("mkdtemp in %s", c->runtime_dir);
		sp->jaildir[0] = '\0';
		return;
	}
	run_init(&sp->run, c);
	sp->run.time_limit = time_limit;
	sp->run.cg = rn->cg;		/* jail_up sets it too; drop needs it */
	sp->slot = slot;
	sp->memory_limit_mb = lim->memory_limit_mb;
	sp->max_processes = lim->max_processes;
	sp->live = true;
	sp->cg_run[0] = '\0';
	if (jail_up(&sp->run, rn, lim, NULL, 0, sp->jaildir, false, slot, -1,
	    true) != PYX_OK) {
		log_debug("no pre-built jail: building it failed");
		sup_spare_drop(rn);
		return;
	}
	sp->zyg_gen = rn->zyg->gen;
	strlcpy(sp->cg_run, sp->run.cg->run, sizeof(sp->cg_run));
	rn->zyg->spare = sp->run.pid;
	set_nonblock(sp->run.fd_stdout);
	set_nonblock(sp->run.fd_stderr);
	set_nonblock(sp->run.fd_verdict);
}

/* Whether this run can be the pre-built jail (see struct spare). */
static bool
spare_fits(const struct runner *rn, const struct run *r,
    const struct run_limits *lim, int slot)
{
	const struct spare *sp = rn->spare;

	if (sp == NULL || !sp->live || r->netns_lane != 0 ||
	    r->lane_sock >= 0 ||
	    r->extra_files != 0 || slot != sp->slot || rn->cg != sp->run.cg ||
	    r->time_limit != sp->run.time_limit ||
	    lim->memory_limit_mb != sp->memory_limit_mb ||
	    lim->max_processes != sp->max_processes ||
	    rn->zyg->pid <= 0 || rn->zyg->gen != sp->zyg_gen ||
	    mono_now() - rn->zyg->started >=
	    (double)rn->cfg->zygote_max_age_seconds)
		return false;
	/* Its init gone: a setup step failed, or a kill. */
	return !pidfd_ended(sp->run.pidfd);
}

/* Hands the pre-built jail's init and channels over to r. */
static void
spare_adopt(struct runner *rn, struct run *r)
{
	struct spare	*sp = rn->spare;
	struct run	*s = &sp->run;

#define MOVE_FD(f)	do { r->f = s->f; s->f = -1; } while (0)
	r->pid = s->pid;
	s->pid = -1;
	MOVE_FD(pidfd);
	MOVE_FD(fd_stdin);
	MOVE_FD(fd_stdout);
	MOVE_FD(fd_stderr);
	MOVE_FD(fd_verdict);
	MOVE_FD(fd_ctl);
	MOVE_FD(fd_data);
	MOVE_FD(fd_work);
#undef MOVE_FD
	r->via_zygote = true;
	r->prebuilt = true;
	r->cg = s->cg;
	r->jaildir_owned = xstrndup(sp->jaildir, strlen(sp->jaildir));
	r->t0 = mono_now();
	r->deadline = r->t0 + (double)r->time_limit;
	run_free(s);		/* its buffers; it holds nothing else now */
	sp->live = false;
	sp->jaildir[0] = '\0';
	rn->zyg->spare = 0;
}

/*
 * Starts one run: its jail (the pre-built one if it fits, else a new
 * one), then its files. Then sup_pollfds/sup_step until sup_done, then
 * sup_finish.
 */
enum pyx_err
sup_start(struct run *r, struct runner *rn, const struct exec_req *req,
    const char *jaildir, bool admin, int slot, int slot_fd)
{
	struct jail_file	*files = NULL;
	bool		 zygote = rn->cfg->mode == MODE_ZYGOTE;
	enum pyx_err	 e;

	if (spare_fits(rn, r, &req->limits, slot)) {
		spare_adopt(rn, r);
		log_debug("run in the pre-built jail %ld", (long)r->pid);
	} else {
		sup_spare_drop(rn);
		/* Zygote mode: the files go on the data stream, not through it. */
		if (!zygote)
			files = jail_files(req);
		e = jail_up(r, rn, &req->limits, files, files ? req->natt + 1 :
		    0, jaildir, admin, slot, slot_fd, false);
		/* exec mode: the jail has its own copy of the files by now. */
		free(files);
		if (e != PYX_OK)
			return e;
	}
	if (zygote) {
		/* On failure the jail reports why (CTL_FAIL) or dies: go on. */
		if (send_stream(r->fd_data, req, admin, r->deadline) == -1)
			log_debug("data stream to the jail was cut short");
		close_quietly(&r->fd_data);
	}
	if (req->stdin_len == 0)
		close_quietly(&r->fd_stdin);
	else
		set_nonblock(r->fd_stdin);
	set_nonblock(r->fd_stdout);
	set_nonblock(r->fd_stderr);
	set_nonblock(r->fd_verdict);
	r->started = true;
	return PYX_OK;
}

/* After sup_done: reap, cgroup figures, and why the run ended. */
enum pyx_err
sup_finish(struct run *r, struct runner *rn)
{
	struct rusage	 ru;
	long		 peak_kb;
	double		 cpu;
	int		 st = 0;

	r->wall_sec = mono_now() - r->t0;
	/*
	 * Readable once init has exited, which the kernel completes only
	 * after every other process of its namespace is gone.
	 */
	pidfd_wait(r->pidfd, -1);
	close_quietly(&r->pidfd);
	/*
	 * A case: reaped by its lane's server. init's report has its
	 * script's CPU and peak; the lane's cgroups count on across cases
	 * and stay for the next (memory.peak with them: not a case's).
	 */
	if (r->lane_sock >= 0) {
		long long	 oom = cg_oom_count(rn->cg);

		r->oom_killed = oom >= 0 && r->oom_base >= 0 &&
		    oom > r->oom_base;
		if (r->cpu_base >= 0 && (cpu = cg_cpu_sec(rn->cg)) >= 0 &&
		    cpu - r->cpu_base > r->cpu_sec)
			r->cpu_sec = cpu - r->cpu_base;
		return judge(r, rn, 0);
	}
	/*
	 * Our child in both modes (zygote.c clones with CLONE_PARENT). Its
	 * rusage is the whole run's, however it ended: init reaps the script
	 * and every orphan, and when init dies the kernel reaps the rest of
	 * the namespace into init's account before init can be waited for.
	 * init's report (CTL_EXIT) covers only the script's own tree, and a
	 * run killed at a limit sends none.
	 */
	memset(&ru, 0, sizeof(ru));
	while (wait4(r->pid, &st, 0, &ru) == -1 && errno == EINTR)
		;
	r->pid = -1;
	account(r, &ru);
	/*
	 * The memory cgroup's OOM killer ends a run with SIGKILL; on v2,
	 * with memory.oom.group, init too, which then cannot report.
	 */
	peak_kb = 0;
	r->oom_killed = cg_oom_killed(rn->cg, &peak_kb);
	if (peak_kb > r->maxrss_kb)
		r->maxrss_kb = peak_kb;
	if ((cpu = cg_cpu_sec(rn->cg)) > r->cpu_sec)
		r->cpu_sec = cpu;
	cg_run_end(rn->cg);
	return judge(r, rn, st);
}

/*
 * /evaluate, zygote mode: a lane's case server (zygote.c, lane_serve),
 * a jail with the run's limits built by the zygote and released into the
 * lane's cgroups like a run's, whose Python child then clones each case
 * (sup_start with r->lane_sock = srv->fd_data). Its own channels carry
 * nothing: only its init's control socket, its pidfd and the server's
 * socket are kept. run_free ends it and every case still in it.
 */
enum pyx_err
sup_lane_up(struct run *srv, struct runner *rn, const struct run_limits *lim,
    const char *jaildir, bool admin, int slot, int slot_fd)
{
	enum pyx_err	 e;

	/* Not in the worker's cgroups beside the server: never used. */
	sup_spare_drop(rn);
	struct pollfd	 pfd;
	double		 until;
	int		 ms;

	/* Not in the worker's cgroups beside the server: never used. */
	sup_spare_drop(rn);
	srv->lane_srv = true;
	if ((e = jail_up(srv, rn, lim, NULL, 0, jaildir, admin, slot, slot_fd,
	    false)) != PYX_OK)
		return e;
	close_quietly(&srv->fd_stdin);
	close_quietly(&srv->fd_stdout);
	close_quietly(&srv->fd_stderr);
	close_quietly(&srv->fd_verdict);
	/*
	 * Its init's report, as a run's: a step that failed is logged and
	 * fails the request (500), not taken for a server gone later.
	 */
	until = mono_now() + LANE_READY_SEC;
	while (srv->fd_work == -1 && srv->fail[0] == '\0' &&
	    srv->fd_ctl != -1 && (ms = (int)((until - mono_now()) * 1000)) > 0) {
		pfd.fd = srv->fd_ctl;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, ms) == 1)
			(void)recv_ctl(srv);
	}
	if (srv->fd_work == -1) {
		log_warnx("a lane's jail did not start: %s", srv->fail[0] ?
		    srv->fail : "no report");
		return PYX_E_SANDBOX;
	}
	close_quietly(&srv->fd_work);
	return PYX_OK;
}

/*
 * Ends a lane: its server sees its socket close, reaps its last case and
 * exits, and its init with it, so that the cases' CPU time and faults
 * reach our children's account as a run's do; killed if it takes longer.
 */
void
sup_lane_down(struct run *srv)
{
	close_quietly(&srv->fd_data);
	if (srv->pidfd >= 0)
		pidfd_wait(srv->pidfd, 1000);
	run_free(srv);
}

/* One run, start to reap, supervised alone (/execute). */
enum pyx_err
sup_run(struct run *r, struct runner *rn, const struct exec_req *req,
    const char *jaildir, bool admin, int slot, int slot_fd)
{
	enum pyx_err	 e;

	if ((e = sup_start(r, rn, req, jaildir, admin, slot, slot_fd)) !=
	    PYX_OK)
		return e;
	supervise(r, req);
	return sup_finish(r, rn);
}

/*
 * Sessions (http/sessions.c): the same jail as a run, with the session's
 * limits: RLIMIT_CPU is the session's whole CPU budget (it accumulates
 * over the interpreter's life, so it cannot be a per-call limit; the
 * keeper's wall clock is), the rest as for one run.
 */
void
sup_session_spec(struct jail_params *s, const struct runner *rn,
    const struct jail_file *files, size_t nfiles, const char *jaildir,
    const char **argv, int slot, int cpu_seconds)
{
	struct run	 r;
	struct run_limits lim;
	int		 i;

	memset(&r, 0, sizeof(r));
	r.time_limit = cpu_seconds;
	/* The server's limits: per-request ones are for /execute only. */
	cfg_run_limits(rn->cfg, &lim);
	fill_spec(s, rn, &r, &lim, files, nfiles, jaildir, argv, slot);
	for (i = 0; i < s->nrlim; i++)
		if (s->rlim_res[i] == RLIMIT_CPU)
			s->rlim[i].rlim_cur = (rlim_t)cpu_seconds;
	s->wipe = NULL;
	s->wipe_len = 0;
	/* A session's jail is cloned by its keeper, not by this worker. */
	s->fontlist_fd = -1;
}

struct jail_file *
sup_jail_files(const struct exec_req *req)
{
	return jail_files(req);
}

int
sup_send_stream(int fd, const struct exec_req *req, bool admin,
    double deadline)
{
	return send_stream(fd, req, admin, deadline);
}
