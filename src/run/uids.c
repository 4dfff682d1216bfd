/*
 * run/uids.c: the worker's side of per-slot host uids (run_uids = per-slot).
 * Owns the connection to pyexec-uidmap (uidmap.c), made once at start-up.
 * A run in slot N runs as host uid base + N: the kernel's per-user
 * counters (fds in flight, pipe buffers...) are then per run. The worker
 * never maps an id itself; it shows the helper the process and the slot
 * lock it holds, and the helper checks both.
 *
 * Fails closed: without the helper, or with a range smaller than
 * max_concurrent, the worker refuses to start. run_uids = shared is the
 * explicit, logged fallback (every run as the worker's own uid).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "jail/jail.h"
#include "store/store.h"
#include "uidmap/uidmap.h"

#define UIDMAP_TIMEOUT_MS	10000

static int
ask(struct uids *u, uint32_t op, int slot, const int *fds, int nfds,
    struct uidmap_reply *r)
{
	struct uidmap_req	 q;
	struct pollfd		 p = { u->fd, POLLIN, 0 };
	int			 got[FDPASS_MAX], ngot, i;
	ssize_t			 n;

	memset(&q, 0, sizeof(q));
	q.magic = UIDMAP_MAGIC;
	q.op = op;
	q.slot = slot;
	if (fd_send(u->fd, &q, sizeof(q), fds, nfds) == -1)
		return -1;
	if (poll(&p, 1, UIDMAP_TIMEOUT_MS) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	n = fd_recv(u->fd, r, sizeof(*r), got, FDPASS_MAX, &ngot, 0);
	for (i = 0; i < ngot; i++)
		close(got[i]);
	if (n != (ssize_t)sizeof(*r)) {
		errno = n == -1 ? errno : EPROTO;
		return -1;
	}
	if (r->err != 0) {
		errno = r->err;
		return -1;
	}
	return 0;
}

void
uids_init(struct uids *u, const struct config *c, uid_t self)
{
	struct sockaddr_un	 sun;
	struct uidmap_reply	 r;

	u->fd = -1;
	if (c->run_uids == UIDS_SHARED) {
		log_warnx("run_uids = shared: every run has this worker's uid "
		    "%lu, so runs share the kernel's per-user counters (fds in "
		    "flight, pipe buffers); see README, Security model",
		    (unsigned long)self);
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, c->uidmap_socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("uidmap_socket %s: path too long", c->uidmap_socket);
	if ((u->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(u->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("run_uids = per-slot, but pyexec-uidmap does not answer "
		    "on %s (is pyexec-uidmap.socket running?)", c->uidmap_socket);
	if (ask(u, UIDMAP_HELLO, -1, NULL, 0, &r) == -1)
		fatal("pyexec-uidmap on %s", c->uidmap_socket);
	if (r.count < (uint32_t)c->max_concurrent + SLOTS_SELFTEST)
		fatalx("the subordinate id range has %u ids, fewer than "
		    "max_concurrent + %d for self-tests (%d): enlarge it in "
		    "/etc/subuid and /etc/subgid", r.count, SLOTS_SELFTEST,
		    c->max_concurrent + SLOTS_SELFTEST);
	u->uid_base = r.uid_base;
	u->gid_base = r.gid_base;
	u->count = r.count;
	log_info("per-slot uids: runs get host uids %u-%u, gids %u-%u",
	    r.uid_base, r.uid_base + (uint32_t)c->max_concurrent - 1,
	    r.gid_base, r.gid_base + (uint32_t)c->max_concurrent - 1);
}

bool
uids_per_slot(const struct uids *u)
{
	return u != NULL && u->fd != -1;
}

/*
 * Exec mode: the helper maps the slot's ids for the jail init behind
 * pidfd, shown the slot's lock file (slot_fd) that the worker holds.
 */
int
uids_map_slot(struct uids *u, int pidfd, int slot_fd, int slot)
{
	struct uidmap_reply	 r;
	int			 fds[2] = { pidfd, slot_fd };

	if (slot_fd < 0 || slot < 0) {
		errno = EINVAL;
		return -1;
	}
	return ask(u, UIDMAP_SLOT, slot, fds, 2, &r);
}

/* Zygote mode: the zygote's own namespace gets the whole range. */
int
uids_map_range(struct uids *u, int pidfd)
{
	struct uidmap_reply	 r;

	return ask(u, UIDMAP_RANGE, -1, &pidfd, 1, &r);
}
