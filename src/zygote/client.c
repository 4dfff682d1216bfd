/*
 * zygote_client.c: the worker's side of mode = zygote. Owns struct zygote:
 * starts pyexec-zygote (fork + exec, a fixed environment, only the control
 * socket), replaces it after zygote_max_runs runs or zygote_max_age_seconds
 * (children share its address-space layout and hash secret, so no layout
 * lives long), and asks it for jails.
 *
 * What crosses to the zygote is configuration-derived only: the jail's
 * mount point, id maps, limits, the allowed-imports list, and pipe ends.
 * Never the request's code, files, stdin or key: those go from the worker
 * to the jail's init directly, on the data pipe.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "zygote/proto.h"
#include "zygote/zygote.h"
#include "store/metrics.h"

#define ZYG_START_TIMEOUT_MS	60000
#define ZYG_SPAWN_TIMEOUT_MS	10000

static char zyg_arg0[] = "pyexec-zygote";
static char zyg_arg1[] = "per-slot";
static char *const zyg_argv[] = { zyg_arg0, NULL };
static char *const zyg_argv_slots[] = { zyg_arg0, zyg_arg1, NULL };

void
zyg_init(struct zygote *z, const struct config *cfg)
{
	memset(z, 0, sizeof(*z));
	z->cfg = cfg;
	z->pid = -1;
	z->ctl = -1;
}

void
zyg_stop(struct zygote *z)
{
	close_quietly(&z->ctl);
	if (z->pid > 0) {
		(void)kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	z->pid = -1;
	z->runs = 0;
}

static int
recv_reply(int ctl, struct zyg_reply *r, int *fd, int timeout_ms)
{
	struct pollfd	 pfd = { ctl, POLLIN, 0 };
	int		 nfds;

	*fd = -1;
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	if (fd_recv(ctl, r, sizeof(*r), fd, 1, &nfds, 0) != (ssize_t)sizeof(*r)) {
		close_quietly(fd);
		return -1;
	}
	return 0;
}

/*
 * Per-slot ids: the zygote's own user namespace must map the range its
 * jails' ids come from, which takes privilege: pyexec-uidmap writes it
 * (our uid and the range, identity) while the zygote waits for "m".
 */
static int
zyg_map(struct zygote *z)
{
	struct zyg_reply r;
	int		 fd, pidfd, rv = -1;

	if (recv_reply(z->ctl, &r, &fd, ZYG_START_TIMEOUT_MS) == -1 ||
	    r.pid != ZYG_NEED_MAP) {
		log_warnx("zygote %s did not start (see its log above)",
		    z->cfg->zygote_path);
		close_quietly(&fd);
		return -1;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, z->pid, 0)) == -1) {
		log_warn("pidfd_open of the zygote");
		return -1;
	}
	if (uids_map_range(z->uids, pidfd) == -1)
		log_warn("pyexec-uidmap refused the zygote's id range");
	else if (write(z->ctl, "m", 1) != 1)
		log_warn("zygote control socket");
	else
		rv = 0;
	close(pidfd);
	return rv;
}

static int
zyg_start(struct zygote *z)
{
	struct zyg_reply r;
	int		 sp[2], fd, devnull;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("zygote socketpair");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("fork zygote");
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		/* The zygote keeps stderr (the log) and its control socket. */
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1 ||
		    dup2(sp[1], 3) == -1)
			_exit(127);
		(void)syscall(SYS_close_range, 4, ~0U, 0);
		execve(z->cfg->zygote_path, z->uids != NULL ? zyg_argv_slots :
		    zyg_argv, (char *const *)jail_env);
		_exit(127);
	}
	close(sp[1]);
	z->pid = pid;
	z->ctl = sp[0];
	z->runs = 0;
	z->gen++;
	z->started = mono_now();
	/* Per-slot ids: its namespace gets our uid and the range first. */
	if (z->uids != NULL && zyg_map(z) == -1) {
		zyg_stop(z);
		return -1;
	}
	if (recv_reply(z->ctl, &r, &fd, ZYG_START_TIMEOUT_MS) == -1 ||
	    r.pid != pid) {
		log_warnx("zygote %s did not start (see its log above)",
		    z->cfg->zygote_path);
		close_quietly(&fd);
		zyg_stop(z);
		return -1;
	}
	log_info("zygote %ld ready", (long)pid);
	return 0;
}

/*
 * Reaps children that ended outside a run: a jail whose zygote died before
 * answering (cloned as our child, it exits when it finds its pipes closed)
 * and a dead zygote (then forgotten, so it is never signalled by pid).
 * WNOWAIT first: a live run's init is never among them (runs are reaped
 * by sup_run before the next spawn; /evaluate's runs in flight are listed
 * in z->busy, and one of them found ended stops the sweep, to be reaped
 * by its own supervisor, which may still signal its pid).
 */
static void
reap_strays(struct zygote *z)
{
	siginfo_t	 si;
	size_t		 i;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == 0)
			return;
		for (i = 0; i < z->nbusy; i++)
			if (z->busy[i] == si.si_pid)
				return;
		if (si.si_pid == z->spare)
			return;		/* sup_spare_drop reaps it */
		if (si.si_pid == z->pid) {
			log_warnx("zygote %ld died", (long)z->pid);
			close_quietly(&z->ctl);
			z->pid = -1;
		}
		while (waitpid(si.si_pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
}

/*
 * Asks the zygote for a jail built from spec. Returns 0 with the init's
 * pid (in the worker's PID namespace) and a pidfd, or -1. A zygote that
 * died or aged out is replaced first, and one found dead when the request
 * is sent is replaced and asked again, once. One that dies after taking
 * the request is not asked again: it may have cloned a jail holding the
 * run's pipes, which must end with them (they are closed on failure), so
 * the run fails as "not run", which is true: -2, to be retried (503).
 */
static struct zyg_spawn *
spawn_msg(struct zygote *z, const struct jail_params *s)
{
	struct zyg_spawn	*m;

	m = xcalloc(1, sizeof(*m));
	m->magic = ZYG_MAGIC;
	m->version = ZYG_VERSION;
	m->kind = s->lane ? ZYG_KIND_LANE : ZYG_KIND_RUN;
	strlcpy(m->jaildir, s->jaildir, sizeof(m->jaildir));
	memcpy(m->uid_map, s->uid_map, sizeof(m->uid_map));
	memcpy(m->gid_map, s->gid_map, sizeof(m->gid_map));
	memcpy(m->ws_opts, s->ws_opts, sizeof(m->ws_opts));
	strlcpy(m->allowed, z->cfg->allowed_imports, sizeof(m->allowed));
	m->nrlim = s->nrlim;
	memcpy(m->rlim_res, s->rlim_res, sizeof(m->rlim_res));
	memcpy(m->rlim, s->rlim, sizeof(m->rlim));
	m->nproc = s->nproc;
	m->wait_go = s->wait_go;
	m->max_files = s->max_files;
	m->netns_lane = s->netns_lane;
	m->data_late = s->data_late;
	m->jail_uid = s->ids_by_parent ? s->jail_uid : 0;
	m->jail_gid = s->ids_by_parent ? s->jail_gid : 0;
	return m;
}

/*
 * A session: the zygote forks a keeper (session/keeper.c) that clones the
 * jail as its own child, so the session outlives this worker and this
 * zygote. *pid is the keeper's. Returns 0, -1, or -2 (no zygote: 503).
 */
int
zyg_spawn_session(struct zygote *z, const struct jail_params *s,
    const struct sess_params *p, const int *fds, pid_t *pid)
{
	struct zyg_spawn	*m;
	struct zyg_reply	 r;
	int			 fd, rv = -1;

	if (z->pid <= 0 && zyg_start(z) == -1)
		return -2;
	m = spawn_msg(z, s);
	m->kind = ZYG_KIND_SESSION;
	m->sess = *p;
	reap_strays(z);
	if (fd_send(z->ctl, m, sizeof(*m), fds, SESS_NFDS) == -1) {
		log_warn("passing a session's descriptors to the zygote");
		zyg_stop(z);
		rv = -2;
	} else if (recv_reply(z->ctl, &r, &fd, ZYG_SPAWN_TIMEOUT_MS) == -1) {
		log_warnx("zygote %ld died forking a session keeper",
		    (long)z->pid);
		zyg_stop(z);
		rv = -2;
	} else {
		close_quietly(&fd);
		if (r.pid > 0) {
			*pid = r.pid;
			rv = 0;
		} else {
			errno = r.err;
			log_warn("zygote could not fork a session keeper");
		}
	}
	free(m);
	return rv;
}

int
zyg_spawn(struct zygote *z, const struct jail_params *s, pid_t *pid, int *pidfd)
{
	struct zyg_spawn	*m;
	struct zyg_reply	 r;
	int			 attempt, rv = -1;

	if (z->pid > 0 && ((int)z->runs >= z->cfg->zygote_max_runs ||
	    mono_now() - z->started >= z->cfg->zygote_max_age_seconds)) {
		log_debug("recycling zygote %ld after %lu runs", (long)z->pid,
		    z->runs);
		met_zygote_replaced(MET_ZYG_RECYCLED);
		zyg_stop(z);
	}
	m = spawn_msg(z, s);
	reap_strays(z);
	for (attempt = 0; attempt < 2 && rv == -1; attempt++) {
		/* Killed while starting, as a rule: nothing ran, retry (503). */
		if (z->pid <= 0 && zyg_start(z) == -1) {
			rv = -2;
			break;
		}
		/*
		 * Only a closed socket means the zygote is gone. The kernel
		 * also refuses to pass descriptors (ETOOMANYREFS when too
		 * many are in flight for our uid, EMFILE, ENOBUFS...): that
		 * fails this run, and a new zygote would not help.
		 */
		if (fd_send(z->ctl, m, sizeof(*m), s->fds, JAIL_NFDS) == -1) {
			if (errno != EPIPE && errno != ECONNRESET &&
			    errno != ENOTCONN) {
				log_warn("passing a run's descriptors to the "
				    "zygote");
				break;
			}
			log_warnx("zygote %ld is gone; starting another",
			    (long)z->pid);
			met_zygote_replaced(MET_ZYG_DIED);
			zyg_stop(z);
			continue;
		}
		if (recv_reply(z->ctl, &r, pidfd, ZYG_SPAWN_TIMEOUT_MS) == -1) {
			log_warnx("zygote %ld died during a spawn", (long)z->pid);
			zyg_stop(z);
			rv = -2;
			break;
		}
		if (r.pid <= 0 || *pidfd < 0) {
			/* The jail, if any, ends when it gets no go. */
			errno = r.err != 0 ? r.err : EBADF;
			log_warn("zygote could not clone a jail or pass its pidfd");
			close_quietly(pidfd);
			z->runs++;
			break;
		}
		z->runs++;
		*pid = r.pid;
		rv = 0;
	}
	free(m);
	return rv;
}

/*
 * /evaluate: asks a lane's case server (zygote.c, lane_serve), on its
 * socket sock, for one case built from spec, the same message as a run's
 * to the zygote. Returns 0 with a pidfd of the case's init (not our
 * child: the server reaps it), -1, or -2 when the server is gone (its
 * lane's jail ended): nothing ran, and the lane may start another.
 */
int
zyg_spawn_case(struct zygote *z, int sock, const struct jail_params *s,
    int *pidfd)
{
	struct zyg_spawn	*m;
	struct zyg_reply	 r;
	int			 rv;

	*pidfd = -1;
	m = spawn_msg(z, s);
	m->kind = ZYG_KIND_CASE;
	if (fd_send(sock, m, sizeof(*m), s->fds, JAIL_NFDS) == -1)
		rv = errno == EPIPE || errno == ECONNRESET ||
		    errno == ENOTCONN ? -2 : -1;
	else if (recv_reply(sock, &r, pidfd, ZYG_SPAWN_TIMEOUT_MS) == -1)
		rv = -2;
	else if (r.pid <= 0 || *pidfd < 0) {
		errno = r.err != 0 ? r.err : EBADF;
		log_warn("a lane's server could not clone a case");
		close_quietly(pidfd);
		rv = -1;
	} else {
		/*
		 * A case is a child of the zygote's address space too (the
		 * lane's server is a fork of it): it counts towards
		 * zygote_max_runs like a run, so no layout or hash secret
		 * outlives that many children, cases included.
		 */
		z->runs++;
		rv = 0;
	}
	free(m);
	return rv;
}
