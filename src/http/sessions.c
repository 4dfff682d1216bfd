/*
 * sessions.c: the /sessions routes, the worker's side of sessions.
 *
 * A session is a jail like a run's around one long-lived interpreter,
 * owned by a keeper process (session/keeper.c) that is not this worker's
 * child: in zygote mode the zygote forks it, in exec mode this worker
 * double-forks it. Any worker reaches it through its Unix socket,
 * runtime_dir/sessions/<keyed hash of the id>.sock (0600, the service's
 * user only). The id itself is stored nowhere.
 *
 * Shared state: the live-session count is the number of held session
 * slots (locked files beside the run slots, held by the keepers: the
 * kernel releases them however a keeper ends); the per-client count is
 * a table in the SQLite store whose stale rows (slot no longer held) are
 * deleted as they are met.
 *
 * Everything a keeper sends is bounded (the output caps: sess_reply_max),
 * read against a deadline and parsed strictly: the keeper relays the
 * session's own driver, which is the user's code.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "http/http.h"
#include "session/session.h"
#include "store/metrics.h"
#include "boot_py.h"

#define CONNECT_TIMEOUT_MS	5000
#define GRACE_MS		3000	/* after the interrupt, before a kill */
#define SETUP_MS		120000	/* a session's start on a slow machine */
#define START_WAIT_MS		60000	/* for a start slot (max_session_starts) */
#define DELETE_WAIT_S		15	/* a released session's teardown */
#define SLOT_LOOKS		5	/* full house: looks again, so often */
#define SLOT_LOOK_US		10000

static uint8_t	 sess_key[16];
static bool	 have_key;

/* The keyed hash's key: made once per service start, in runtime_dir. */
static int
load_key(const struct config *cfg)
{
	char	 path[PATH_MAX + 64], tmp[PATH_MAX + 64];
	uint8_t	 k[16];
	int	 fd;
	ssize_t	 n;

	if (have_key)
		return 0;
	snprintf(path, sizeof(path), "%s/session.key", cfg->runtime_dir);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			return -1;
		if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
			return -1;
		snprintf(tmp, sizeof(tmp), "%s/session.key.%ld",
		    cfg->runtime_dir, (long)getpid());
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1)
			return -1;
		n = write(fd, k, sizeof(k));
		close(fd);
		/* link() never replaces: the first worker's key wins. */
		if (n != (ssize_t)sizeof(k) || (link(tmp, path) == -1 &&
		    errno != EEXIST)) {
			(void)unlink(tmp);
			return -1;
		}
		(void)unlink(tmp);
		explicit_bzero(k, sizeof(k));
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			return -1;
	}
	n = read(fd, sess_key, sizeof(sess_key));
	close(fd);
	if (n != (ssize_t)sizeof(sess_key))
		return -1;
	have_key = true;
	return 0;
}

static int
sock_path(const struct config *cfg, const char *id, char *out, size_t len)
{
	char	 hex[SESS_HASH_HEX + 1];

	sess_id_hash(sess_key, id, strlen(id), hex);
	if (snprintf(out, len, "%s/sessions/%s.sock", cfg->runtime_dir, hex) >=
	    (int)len || strlen(out) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
first_slot(const struct config *cfg)
{
	return cfg->max_concurrent + SLOTS_SELFTEST;
}

/* Live sessions: the held session slots. -1 if they cannot be read. */
int
sess_live_count(const struct config *cfg)
{
	char	 err[128];
	int	 i, n = 0, r;

	for (i = 0; i < cfg->max_sessions; i++) {
		if ((r = slots_is_held(cfg->runtime_dir, first_slot(cfg) + i,
		    err, sizeof(err))) == -1)
			return -1;
		n += r == 1;
	}
	return n;
}

/*
 * A compat route's session id from the client's own (any string the
 * client chose, in namespace ns): a keyed hash, so the native id cannot
 * be guessed from the client's id without the service's key, and the
 * client's id is stored nowhere either.
 */
int
sess_compat_id(const struct config *cfg, const char *ns, const char *cid,
    size_t cidlen, char *out)
{
	uint8_t	 h[32], r[SESS_ID_RAND];
	char	 buf[64 + 256];
	size_t	 n;

	if (load_key(cfg) == -1 || cidlen > 256)
		return -1;
	n = (size_t)snprintf(buf, 64, "pyexec-compat\n%s\n", ns);
	if (n >= 64)
		return -1;
	memcpy(buf + n, cid, cidlen);
	buf[0] = 'P';
	siphash128(sess_key, buf, n + cidlen, h);
	buf[0] = 'Q';
	siphash128(sess_key, buf, n + cidlen, h + 16);
	memcpy(r, h, sizeof(r));
	sess_id_encode(r, out);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static bool
chosen_live(const struct config *cfg, const char *id)
{
	struct sockaddr_un	 sun;
	int			 fd;
	bool			 live;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (sock_path(cfg, id, sun.sun_path, sizeof(sun.sun_path)) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return live;
}

/* The lock under which a chosen id's socket is bound or found dead. */
static int
chosen_lock(const struct config *cfg)
{
	char	 lock[PATH_MAX + 32];
	int	 lk;

	snprintf(lock, sizeof(lock), "%s/sessions/chosen.lock",
	    cfg->runtime_dir);
	if ((lk = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (flock(lk, LOCK_EX) == -1) {
		close(lk);
		return -1;
	}
	return lk;
}

static bool
sock_refused(const struct sockaddr_un *sun)
{
	int	 probe;
	bool	 r;

	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	r = connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == -1 &&
	    errno == ECONNREFUSED;
	close(probe);
	return r;
}

/*
 * Removes the socket of a keeper that was killed. A chosen (compat) id's
 * socket may be between bind and listen in another worker, which refuses
 * connections too: both happen under the lock, so the check is repeated
 * under it.
 */
static void
unlink_dead(const struct config *cfg, const struct sockaddr_un *sun)
{
	int	 lk = chosen_lock(cfg);

	if (sock_refused(sun))
		(void)unlink(sun->sun_path);
	if (lk != -1)
		close(lk);
}

/*
 * Binds and listens on a session's socket. A compat id is chosen, not
 * random, so its socket may be left by a keeper that was killed: one that
 * refuses connections is removed and bound again, under the lock (see
 * unlink_dead), so two workers never both replace it.
 */
static int
bind_session(const struct config *cfg, int lfd, const struct sockaddr_un *sun,
    bool chosen)
{
	int	 lk = -1, rv = -1, saved = 0;

	if (chosen && (lk = chosen_lock(cfg)) == -1)
		return -1;
	if (bind(lfd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		rv = 0;
	else if (chosen && errno == EADDRINUSE && sock_refused(sun) &&
	    unlink(sun->sun_path) == 0)
		rv = bind(lfd, (const struct sockaddr *)sun, sizeof(*sun));
	else
		saved = errno;
	if (rv == 0 && listen(lfd, 64) == -1) {
		saved = errno;
		(void)unlink(sun->sun_path);
		rv = -1;
	} else if (rv == -1 && saved == 0)
		saved = EADDRINUSE;
	if (lk != -1)
		close(lk);		/* and the lock with it */
	errno = saved;
	return rv;
}

/*
 * The one place sessions ask who the caller is: admit_caller() (the body's
 * api_key or an Authorization header; a wrong key is 401 on every route).
 * Then no copy of a key lives on: an exec-mode keeper starts as a copy of
 * this process.
 */
static enum pyx_err
sess_caller(struct exec_ctx *c, bool *admin)
{
	enum pyx_err	 e;

	e = admit_caller(c->w, c->http, c->req.api_key, c->req.api_key_len,
	    admin);
	if (c->req.api_key != NULL)
		explicit_bzero(c->req.api_key, c->req.api_key_len);
	if (c->http != NULL && c->http->authorization != NULL)
		explicit_bzero((char *)(uintptr_t)c->http->authorization,
		    strlen(c->http->authorization));
	return e;
}

static void
iso_time(time_t t, char *out, size_t len)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* ---- talking to a keeper ---- */

struct sconn {
	int		 fd;
	int		 ws;		/* the workspace, from the banner */
	uint32_t	 flags;
	struct sess_info info;
};

static void
sconn_close(struct sconn *s)
{
	close_quietly(&s->fd);
	close_quietly(&s->ws);
}

/*
 * The keeper's socket, read and written without blocking: the call is
 * tried first and poll() waits only when it would block (most parts of
 * a reply are already there: a poll before each would double the system
 * calls of a session call).
 */
/* Waits for p's events until end: -1 past end or on a poll error. */
static int
wait_until(struct pollfd *p, double end)
{
	int	 left;

	left = (int)((end - mono_now()) * 1000);
	if (left <= 0)
		return -1;
	if (poll(p, 1, left) == -1 && errno != EINTR)
		return -1;
	return 0;
}

/* Whole read of n pieces (a reply's streams, one system call where they
 * are all in); iov is consumed. */
static int
readv_timed(int fd, struct iovec *iov, int n, double end)
{
	struct pollfd	 p = { fd, POLLIN, 0 };
	struct msghdr	 mh;
	ssize_t		 r;

	iov_advance(&iov, &n, 0);
	while (n > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r == -1 && (errno == EINTR || errno == EAGAIN)) {
			if (wait_until(&p, end) == -1)
				return -1;
			continue;
		}
		if (r <= 0)
			return -1;
		iov_advance(&iov, &n, (size_t)r);
	}
	return 0;
}

static int
read_timed(int fd, void *buf, size_t n, double end)
{
	struct pollfd	 p = { fd, POLLIN, 0 };
	char		*c = buf;
	ssize_t		 r;

	while (n > 0) {
		r = recv(fd, c, n, MSG_DONTWAIT);
		if (r == -1 && (errno == EINTR || errno == EAGAIN)) {
			if (wait_until(&p, end) == -1)
				return -1;
			continue;
		}
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Whole write of n pieces as one message where there is room (each
 * write wakes the keeper); iov is consumed. */
static int
writev_timed(int fd, struct iovec *iov, int n, double end)
{
	struct pollfd	 p = { fd, POLLOUT, 0 };
	struct msghdr	 mh;
	ssize_t		 w;

	iov_advance(&iov, &n, 0);
	while (n > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && (errno == EINTR || errno == EAGAIN)) {
			if (wait_until(&p, end) == -1)
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		iov_advance(&iov, &n, (size_t)w);
	}
	return 0;
}

static int
write_timed(int fd, const void *buf, size_t n, double end)
{
	struct iovec	 v = { (void *)(uintptr_t)buf, n };

	return writev_timed(fd, &v, 1, end);
}

/*
 * Connects to the session named by the path's id. Unknown, malformed,
 * expired and released ids all give SessionNotFound, alike.
 */
static enum pyx_err
sess_open(struct exec_ctx *c, const char *id, size_t idlen, struct sconn *s)
{
	struct sockaddr_un	 sun;
	struct sess_hdr		 h;
	char			 ids[SESS_ID_LEN + 1];
	int			 got[2], ngot = 0;
	struct pollfd		 p;
	ssize_t			 n;

	s->fd = s->ws = -1;
	if (!sess_id_valid(id, idlen))
		return PYX_E_SESSION_NOT_FOUND;
	memcpy(ids, id, idlen);
	ids[idlen] = '\0';
	if (load_key(&c->w->cfg) == -1) {
		log_warn("session key in %s", c->w->cfg.runtime_dir);
		return PYX_E_INTERNAL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (sock_path(&c->w->cfg, ids, sun.sun_path, sizeof(sun.sun_path)) ==
	    -1)
		return PYX_E_INTERNAL;
	if ((s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return PYX_E_INTERNAL;
	if (connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* Refused: its keeper was killed (a live one listens till it
		 * has unlinked the socket). Its leftovers go now. */
		if (errno == ECONNREFUSED) {
			unlink_dead(&c->w->cfg, &sun);
			sess_sweep(c->w, true);
		} else
			sess_sweep(c->w, false);
		close_quietly(&s->fd);
		return PYX_E_SESSION_NOT_FOUND;
	}
	/* The banner: who the session is, and whether it is free. */
	p = (struct pollfd){ s->fd, POLLIN, 0 };
	if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1 ||
	    (n = fd_recv(s->fd, &h, sizeof(h), got, 2, &ngot, 0)) !=
	    (ssize_t)sizeof(h) || h.magic != SESS_MAGIC ||
	    h.version != SESS_VERSION || h.op != SESS_OP_BANNER ||
	    h.len != sizeof(s->info) || read_timed(s->fd, &s->info,
	    sizeof(s->info), mono_now() + CONNECT_TIMEOUT_MS / 1000.0) == -1) {
		while (ngot > 0)
			close(got[--ngot]);
		sconn_close(s);
		/* A keeper that ended between connect and banner: gone. */
		return PYX_E_SESSION_NOT_FOUND;
	}
	if (ngot > 0)
		s->ws = got[0];
	while (ngot > 1)
		close(got[--ngot]);
	s->flags = h.flags;
	if (h.flags & SESS_F_BUSY) {
		sconn_close(s);
		return PYX_E_SESSION_BUSY;
	}
	return PYX_OK;
}

struct sreply {
	struct sess_result	 r;
	char			*out, *err;
	struct json_object	*drv;
};

static void
sreply_free(struct sreply *r)
{
	free(r->out);
	free(r->err);
	json_object_put(r->drv);
	memset(r, 0, sizeof(*r));
}

/* One call: op + JSON out, struct sess_result + bytes back, all checked. */
static enum pyx_err
sess_call(struct exec_ctx *c, struct sconn *s, uint16_t op,
    struct json_object *payload, struct sreply *rep)
{
	const struct config	*cfg = &c->w->cfg;
	struct sess_hdr		 h;
	struct iovec		 v[3];
	const char		*body = "";
	size_t			 len = 0;
	char			*drv = NULL;
	double			 end;
	struct json_tokener	*tok;

	memset(rep, 0, sizeof(*rep));
	if (payload != NULL)
		body = json_object_to_json_string_length(payload,
		    JSON_C_TO_STRING_PLAIN, &len);
	memset(&h, 0, sizeof(h));
	h.magic = SESS_MAGIC;
	h.version = SESS_VERSION;
	h.op = op;
	h.len = (uint32_t)len;
	end = mono_now() + cfg->time_limit_seconds + GRACE_MS / 1000.0 + 15;
	v[0] = (struct iovec){ &h, sizeof(h) };
	v[1] = (struct iovec){ (void *)(uintptr_t)body, len };
	if (writev_timed(s->fd, v, 2, end) == -1)
		return PYX_E_SESSION_NOT_FOUND;
	if (read_timed(s->fd, &h, sizeof(h), end) == -1) {
		log_warnx("session: no reply from the keeper");
		return op == SESS_OP_DELETE ? PYX_OK : PYX_E_INTERNAL;
	}
	if (h.magic != SESS_MAGIC || h.version != SESS_VERSION ||
	    h.op != SESS_OP_REPLY || h.len < sizeof(rep->r) ||
	    h.len > SESS_FRAME_MAX ||
	    read_timed(s->fd, &rep->r, sizeof(rep->r), end) == -1 ||
	    (uint64_t)rep->r.out_len + rep->r.err_len + rep->r.drv_len +
	    sizeof(rep->r) != h.len ||
	    rep->r.out_len > (uint64_t)cfg->max_output_bytes ||
	    rep->r.err_len > (uint64_t)cfg->max_output_bytes ||
	    rep->r.drv_len > sess_reply_max((uint64_t)cfg->max_output_bytes,
	    (uint64_t)cfg->max_return_bytes)) {
		log_warnx("session: a malformed reply from the keeper");
		return PYX_E_INTERNAL;
	}
	rep->out = xmalloc(rep->r.out_len + 1);
	rep->err = xmalloc(rep->r.err_len + 1);
	drv = xmalloc(rep->r.drv_len + 1);
	v[0] = (struct iovec){ rep->out, rep->r.out_len };
	v[1] = (struct iovec){ rep->err, rep->r.err_len };
	v[2] = (struct iovec){ drv, rep->r.drv_len };
	if (readv_timed(s->fd, v, 3, end) == -1) {
		free(drv);
		return PYX_E_INTERNAL;
	}
	if (rep->r.drv_len > 0) {
		/* The driver is the user's code: strict, bounded, an object. */
		if ((tok = json_tokener_new_ex(32)) == NULL)
			fatalx("json_tokener_new_ex");
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
		    JSON_TOKENER_VALIDATE_UTF8);
		rep->drv = json_tokener_parse_ex(tok, drv, (int)rep->r.drv_len);
		if (json_tokener_get_error(tok) != json_tokener_success ||
		    !json_object_is_type(rep->drv, json_type_object)) {
			json_object_put(rep->drv);
			rep->drv = NULL;
		}
		json_tokener_free(tok);
	}
	free(drv);
	return PYX_OK;
}

/* A string field of the driver's reply, or NULL; never trusted further. */
static const char *
drv_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A boolean field of the driver's reply: true only if it says so. */
static bool
drv_true(struct json_object *o, const char *key)
{
	struct json_object	*v;

	return o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

/* ---- bodies ---- */

static enum pyx_err
read_body(struct exec_ctx *c, size_t max, bool json)
{
	struct http_req	*h = c->http;
	long long	 got;

	if (h->content_length <= 0) {
		c->body_len = 0;
		return PYX_OK;
	}
	if (json && h->content_type != NULL &&
	    strncasecmp(h->content_type, "application/json", 16) != 0)
		return PYX_E_MEDIA_TYPE;
	if ((size_t)h->content_length > max)
		return ctx_fail(c, PYX_E_TOO_LARGE, "The request body is larger "
		    "than %zu bytes.", max);
	c->body_len = (size_t)h->content_length;
	c->body = xmalloc(c->body_len + 1);
	got = h->read_body(h->body_ctx, c->body, c->body_len);
	if (got != h->content_length)
		return ctx_fail(c, PYX_E_VALIDATION, "The request body ended "
		    "early.");
	c->body[c->body_len] = '\0';
	return PYX_OK;
}

/*
 * Parses a JSON body whose keys must all be in allowed[], renaming
 * rename_from to "code" (a run's "cmd"), into c->req through req_parse:
 * the same checks as /execute. A body without "code" gets an empty one.
 */
static enum pyx_err
parse_json_body(struct exec_ctx *c, const char *const *allowed,
    const char *rename_from, bool need_code)
{
	struct json_object	*root = NULL, *copy, *v;
	const char		*s;
	size_t			 i, len;
	enum pyx_err		 e;
	bool			 ok;

	if (c->body_len == 0)
		root = json_object_new_object();
	else {
		root = json_tokener_parse(c->body);
		if (root == NULL || !json_object_is_type(root, json_type_object)) {
			json_object_put(root);
			return ctx_fail(c, PYX_E_VALIDATION, "The request body "
			    "must be a JSON object.");
		}
	}
	{
		json_object_object_foreach(root, k, val) {
			(void)val;
			ok = false;
			for (i = 0; allowed[i] != NULL; i++)
				if (strcmp(k, allowed[i]) == 0)
					ok = true;
			if (!ok) {
				e = ctx_fail(c, PYX_E_VALIDATION, "Unknown field "
				    "'%.64s'.", k);
				json_object_put(root);
				return e;
			}
		}
	}
	copy = json_object_new_object();
	json_object_object_foreach(root, k2, v2) {
		if (rename_from != NULL && strcmp(k2, rename_from) == 0)
			json_object_object_add(copy, "code", json_object_get(v2));
		else
			json_object_object_add(copy, k2, json_object_get(v2));
	}
	json_object_put(root);
	if (!json_object_object_get_ex(copy, "code", &v)) {
		if (need_code) {
			json_object_put(copy);
			return ctx_fail(c, PYX_E_INVALID_REQUEST, "The request "
			    "must contain a '%s' field.", rename_from ?
			    rename_from : "code");
		}
		json_object_object_add(copy, "code", json_object_new_string(
		    "pass"));
	}
	s = json_object_to_json_string_length(copy, JSON_C_TO_STRING_PLAIN,
	    &len);
	e = req_parse(&c->w->cfg, s, len, &c->req, c->errmsg,
	    sizeof(c->errmsg));
	json_object_put(copy);
	if (c->body != NULL) {
		explicit_bzero(c->body, c->body_len);
		free(c->body);
		c->body = NULL;
	}
	return e;
}

/* ---- POST /sessions ---- */

static int
held_cb(int slot, void *arg)
{
	struct exec_ctx	*c = arg;
	char		 err[256];

	return slots_is_held(c->w->cfg.runtime_dir, slot, err, sizeof(err));
}

struct exec_keeper {
	struct worker	*w;
	int		 slot, slot_fd;
};

/* exec mode: the keeper's jail, cloned by the keeper itself. */
static pid_t
clone_exec(struct jail_params *spec, void *arg)
{
	struct exec_keeper	*k = arg;
	pid_t			 pid;
	int			 pidfd;

	pid = (pid_t)syscall(SYS_clone, SIGCHLD | JAIL_CLONE_FLAGS, NULL, NULL,
	    NULL, NULL);
	if (pid == 0) {
		jail_enter(spec, NULL);		/* execs python3 */
		_exit(127);
	}
	if (pid > 0 && spec->ids_by_parent) {
		if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 ||
		    uids_map_slot(&k->w->uids, pidfd, k->slot_fd, k->slot) == -1) {
			log_warn("mapping a session's ids");
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			if (pidfd >= 0)
				close(pidfd);
			return -1;
		}
		close(pidfd);
	}
	return pid;
}

/* Closes every fd but 2 and keep[]; moves nothing. */
static void
close_except(const int *keep, int n)
{
	int	 fd, i, max = 0;
	bool	 k;

	for (i = 0; i < n; i++)
		if (keep[i] > max)
			max = keep[i];
	for (fd = 0; fd <= max; fd++) {
		k = fd == 2;
		for (i = 0; i < n; i++)
			if (keep[i] == fd)
				k = true;
		if (!k)
			(void)close(fd);
	}
	(void)syscall(SYS_close_range, max + 1, ~0U, 0);
	/* fds 0 and 1 of a daemon: /dev/null, never a socket of ours. */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		if (fd != 0)
			(void)dup2(fd, 0);
		if (fd != 1)
			(void)dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
}

/* exec mode: this worker double-forks the keeper, which wipes the key. */
static int
fork_keeper(struct exec_ctx *c, const struct sess_params *p,
    struct jail_params *spec, int *fds, int slot)
{
	struct exec_keeper	 k;
	pid_t			 mid;
	int			 st, keep[4];

	if ((mid = fork()) == -1)
		return -1;
	if (mid == 0) {
		if (fork() != 0)
			_exit(0);
		(void)setsid();
		signal(SIGTERM, SIG_DFL);
		if (c->w->secrets != NULL)
			explicit_bzero(c->w->secrets, c->w->secrets_len);
		keep[0] = fds[0];
		keep[1] = fds[1];
		keep[2] = fds[2];
		keep[3] = c->w->uids.fd;
		close_except(keep, 4);
		/*
		 * pyexec-uidmap maps only a child of the process that asks:
		 * the jail is ours, so ask on a connection of our own.
		 */
		if (uids_per_slot(&c->w->uids)) {
			close_quietly(&c->w->uids.fd);
			uids_init(&c->w->uids, &c->w->cfg, geteuid());
		}
		k.w = c->w;
		k.slot = slot;
		k.slot_fd = fds[SESS_FD_SLOT];
		keeper_main(p, spec, fds, clone_exec, &k);
	}
	while (waitpid(mid, &st, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/* The creation dialog: cgroups, the files, the driver's first word. */
static enum pyx_err
setup_dialog(struct exec_ctx *c, int setup, int slot)
{
	const struct config	*cfg = &c->w->cfg;
	struct sess_setup	 m;
	struct pollfd		 p = { setup, POLLIN, 0 };
	int			 got[2], ngot = 0, pidfd = -1, data = -1;
	double			 end = mono_now() + SETUP_MS / 1000.0;
	ssize_t			 n;
	long long		 mem;
	pid_t			 pid;
	enum pyx_err		 e = PYX_E_SANDBOX;

	memset(&m, 0, sizeof(m));
	n = -1;
	if (poll(&p, 1, SETUP_MS) != 1 ||
	    (n = fd_recv(setup, &m, sizeof(m), got, 2, &ngot, 0)) !=
	    (ssize_t)sizeof(m) || m.kind != SETUP_INIT || ngot < 1) {
		m.text[sizeof(m.text) - 1] = '\0';
		log_warnx("session keeper: no jail (%s)", ngot == 0 &&
		    m.kind == SETUP_FAIL ? m.text : n == 0 ? "it ended" :
		    "no report");
		while (ngot > 0)
			close(got[--ngot]);
		/*
		 * The keeper ended without a word: killed before its jail
		 * existed (with the zygote that forked it, or by the OOM
		 * killer). Nothing of the session ran; the truth is "retry",
		 * as for a run whose zygote died while starting it.
		 */
		if (n == 0) {
			c->retry_after = 1;
			return PYX_E_RESTARTING;
		}
		return PYX_E_SANDBOX;
	}
	pidfd = got[0];
	data = ngot > 1 ? got[1] : -1;
	pid = (pid_t)m.pid;
	memset(&m, 0, sizeof(m));
	m.kind = SETUP_GO;
	mem = (long long)(cfg->session_memory_mb ? cfg->session_memory_mb :
	    cfg->memory_limit_mb) << 20;
	/* init waits for this go: nothing runs outside the session's caps. */
	/* The server's pids cap, not the last run's (a request may lower it). */
	cg_limits(&c->w->cg, cfg->memory_limit_mb, cfg->max_processes);
	if (cg_enabled(&c->w->cg) && cg_session_attach(&c->w->cg, slot, mem,
	    pid, m.cg) == -1) {
		log_warn("session cgroups");
		goto out;
	}
	if (fd_send(setup, &m, sizeof(m), NULL, 0) == -1)
		goto out;
	/* Zygote mode: the attachments, straight to the jail's init. */
	if (data != -1) {
		if (sup_send_stream(data, &c->req, c->admin, end) == -1)
			log_debug("session data stream cut short");
		close_quietly(&data);
	}
	p.events = POLLIN;
	if (poll(&p, 1, (int)((end - mono_now()) * 1000) + 1) != 1 ||
	    fd_recv(setup, &m, sizeof(m), got, 2, &ngot, 0) !=
	    (ssize_t)sizeof(m) || m.kind != SETUP_READY) {
		while (ngot > 0)
			close(got[--ngot]);
		log_warnx("session: the interpreter did not start");
		goto out;
	}
	e = PYX_OK;
out:
	close_quietly(&pidfd);
	close_quietly(&data);
	return e;
}

/*
 * What a creation and a fork share, in this order: a session slot
 * (max_sessions; with per-slot uids, the session's uid), the address's
 * claim in the store (max_sessions_per_ip), the charge (like one /execute),
 * the id (random, or the compat route's chosen one) and its socket, bound,
 * listening and 0600. On failure nothing stays held, bound or charged; on
 * success the caller owns slot_fd and lfd (new_sess_close, or handed to
 * the keeper) and unlinks sock_path if the session never starts.
 */
struct new_sess {
	int	 slot;
	int	 slot_fd;		/* the slot's lock */
	int	 lfd;			/* the session's socket */
	char	 id[SESS_ID_LEN + 1];
	char	 sock_path[PATH_MAX];
};
#define NEW_SESS_INIT	{ -1, -1, -1, { 0 }, { 0 } }
#define NEW_SESS	__attribute__((cleanup(new_sess_close))) struct new_sess

static void
new_sess_close(struct new_sess *n)
{
	close_quietly(&n->lfd);
	close_quietly(&n->slot_fd);
	explicit_bzero(n->id, sizeof(n->id));
}

static enum pyx_err
sess_new(struct exec_ctx *c, bool sweep, struct new_sess *n)
{
	const struct config	*cfg = &c->w->cfg;
	const char		*chosen = c->http->session_id;
	AUTOCLOSE int		 slot_fd = -1;
	AUTOCLOSE int		 lfd = -1;
	struct sockaddr_un	 sun;
	char			 err[256], dir[PATH_MAX + 16];
	enum pyx_err		 e;
	int			 tries;

	if (chosen != NULL && !sess_id_valid(chosen, strlen(chosen)))
		return PYX_E_INTERNAL;
	if (uids_per_slot(&c->w->uids) && c->w->uids.count <
	    (uint32_t)(first_slot(cfg) + cfg->max_sessions)) {
		log_warnx("the subordinate id range is too small for "
		    "max_sessions %d", cfg->max_sessions);
		return PYX_E_INTERNAL;
	}
	/*
	 * A sweep (sess_sweep.c) holds each free slot for an instant in
	 * turn: with several workers sweeping at once (a burst of creations,
	 * each worker's first), every free slot can look taken at the same
	 * moment. No free slot while a sweep runs: look again, a few times.
	 */
	for (tries = 0; ; tries++) {
		slot_fd = slots_take(cfg->runtime_dir, first_slot(cfg),
		    cfg->max_sessions, &n->slot, err, sizeof(err));
		if (slot_fd != -1 || err[0] != '\0' || tries == SLOT_LOOKS ||
		    !sess_sweep_running(cfg->runtime_dir))
			break;
		(void)usleep(SLOT_LOOK_US);
	}
	if (slot_fd == -1) {
		if (n->slot == -1 && err[0] == '\0') {
			c->retry_after = 5;
			return ctx_fail(c, PYX_E_BUSY, "The server has its maximum "
			    "of %d live sessions; retry later.", cfg->max_sessions);
		}
		log_warnx("session slots: %s", err);
		return PYX_E_INTERNAL;
	}
	if (sweep) {
		/* What a killed keeper left of this slot, and of the free ones. */
		sess_sweep_slot(c->w, n->slot);
		sess_sweep(c->w, false);
	}
	if (admit_store(c->w) == NULL) {
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
	switch (store_session_claim(c->w->store, c->client, n->slot, c->admin ?
	    0 : cfg->max_sessions_per_ip, time(NULL), held_cb, c)) {
	case STORE_OK:
		break;
	case STORE_RATE_LIMITED:
		c->retry_after = 60;
		return ctx_fail(c, PYX_E_RATE_LIMIT, "This address has %d live "
		    "sessions, the most allowed; delete one first.",
		    cfg->max_sessions_per_ip);
	default:
		log_warnx("session store: %s", store_errmsg(c->w->store));
		c->retry_after = 5;
		return PYX_E_UNAVAILABLE;
	}
	if ((e = admit(c)) != PYX_OK)
		return e;

	/* Charged from here on: every failure below is refunded. */
	if (chosen != NULL)
		strlcpy(n->id, chosen, sizeof(n->id));
	else if (sess_id_new(n->id, sizeof(n->id)) == -1)
		goto internal;
	snprintf(dir, sizeof(dir), "%s/sessions", cfg->runtime_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", dir);
		goto internal;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (sock_path(cfg, n->id, n->sock_path, sizeof(sun.sun_path)) == -1) {
		log_warnx("runtime_dir %s is too long for session sockets",
		    cfg->runtime_dir);
		goto internal;
	}
	strlcpy(sun.sun_path, n->sock_path, sizeof(sun.sun_path));
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto internal;
	if (bind_session(cfg, lfd, &sun, chosen != NULL) == -1) {
		/* A chosen id whose session lives: the caller uses that one. */
		if (chosen != NULL && errno == EADDRINUSE) {
			admit_refund(c);
			return ctx_fail(c, PYX_E_SESSION_BUSY, "That session "
			    "exists already.");
		}
		log_warn("session socket %s", n->sock_path);
		goto internal;
	}
	if (chmod(n->sock_path, 0600) == -1) {
		log_warn("session socket %s", n->sock_path);
		(void)unlink(n->sock_path);
		goto internal;
	}
	n->slot_fd = slot_fd;
	n->lfd = lfd;
	slot_fd = lfd = -1;
	return PYX_OK;
internal:
	admit_refund(c);
	return PYX_E_INTERNAL;
}

/*
 * A start slot (max_session_starts; slots.c, starts_take), held until the
 * session's first answer: a burst of creations then starts a few at a
 * time instead of all at once, leaving live sessions' calls their share
 * of the CPUs. Returns the fd that holds it, or -1 with *e set. Nobody
 * waits for a start slot while holding one, or while holding any other
 * slot: no cycle.
 */
static int
start_slot(struct exec_ctx *c, enum pyx_err *e)
{
	const struct config	*cfg = &c->w->cfg;
	char			 err[256];
	long			 n = cfg->max_session_starts;
	int			 fd;

	if (n == 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	if (n > 64)
		n = 64;
	if ((fd = starts_take(cfg->runtime_dir, (int)n, START_WAIT_MS,
	    c->http->conn_fd, err, sizeof(err))) != -1)
		return fd;
	if (err[0] != '\0') {
		log_warnx("session start slots: %s", err);
		*e = PYX_E_INTERNAL;
		return -1;
	}
	log_warnx("%s POST /sessions: no start slot came free (client gone, "
	    "or %d s)", c->ip, START_WAIT_MS / 1000);
	c->retry_after = 5;
	*e = ctx_fail(c, PYX_E_BUSY, "Too many sessions are starting at once; "
	    "retry later.");
	return -1;
}

static enum pyx_err
sess_create(struct exec_ctx *c, struct http_reply *rep)
{
	static const char *const allowed[] = { "attachments", "api_key", NULL };
	const struct config	*cfg = &c->w->cfg;
	NEW_SESS		 n = NEW_SESS_INIT;
	int			 sp[2] = { -1, -1 }, fds[SESS_NFDS];
	char			 created[40], expires[40], ts[48];
	struct sess_params	 p;
	struct jail_params	 spec;
	struct jail_file	*files = NULL;
	const char		*argv[8];
	struct json_object	*o, *lim;
	const char		*s;
	size_t			 len;
	pid_t			 kpid;
	enum pyx_err		 e;
	const char		*chosen;
	time_t			 now;
	AUTOCLOSE int		 starting = -1;
	int			 rv;

	if ((e = read_body(c, cfg_max_body(cfg), true)) != PYX_OK ||
	    (e = parse_json_body(c, allowed, NULL, false)) != PYX_OK)
		return e;
	if ((e = sess_caller(c, &c->admin)) != PYX_OK)
		return e;
	chosen = c->http->session_id;
	c->req.code_len = 0;	/* the jail's script.py: empty, removed */
	if (cfg->max_sessions == 0) {
		c->retry_after = 60;
		return ctx_fail(c, PYX_E_BUSY, "Sessions are disabled on this "
		    "server (max_sessions = 0).");
	}
	if (load_key(cfg) == -1) {
		log_warn("session key in %s", cfg->runtime_dir);
		return PYX_E_INTERNAL;
	}
	/* A chosen id already live: found before anything is charged. */
	if (chosen != NULL && chosen_live(cfg, chosen))
		return ctx_fail(c, PYX_E_SESSION_BUSY, "That session exists "
		    "already.");
	/*
	 * The start slot first: a creation that waits for one holds nothing
	 * else (no run or session slot, no charge, no socket), and its
	 * session's clock starts once it has one.
	 */
	if ((starting = start_slot(c, &e)) == -1)
		return e;
	/* Slot, store claim, charge, id and socket (sess_new). */
	if ((e = sess_new(c, true, &n)) != PYX_OK)
		return e;
	memset(&p, 0, sizeof(p));
	strlcpy(p.sock_path, n.sock_path, sizeof(p.sock_path));
	if (snprintf(p.jaildir, sizeof(p.jaildir), "%s/sjail.%d.XXXXXX",
	    cfg->runtime_dir, n.slot) >= (int)sizeof(p.jaildir) ||
	    mkdtemp(p.jaildir) == NULL) {
		log_warn("mkdtemp in %s", cfg->runtime_dir);
		p.jaildir[0] = '\0';	/* none made: nothing to remove */
		e = PYX_E_INTERNAL;
		goto not_started;
	}
	now = time(NULL);
	p.time_limit = cfg->time_limit_seconds;
	p.grace_ms = GRACE_MS;
	p.idle_seconds = cfg->session_idle_seconds;
	p.max_seconds = cfg->session_max_seconds;
	p.created = (int64_t)now;
	p.max_output = (uint64_t)cfg->max_output_bytes;
	p.max_reply = sess_reply_max(p.max_output,
	    (uint64_t)cfg->max_return_bytes);
	p.admin = c->admin;
	p.setup_ms = SETUP_MS;
	p.cpu_seconds = cfg->session_cpu_seconds > 0 ?
	    (uint32_t)cfg->session_cpu_seconds : 0;

	argv[0] = "/usr/bin/python3";
	argv[1] = "-I";
	argv[2] = "-u";
	argv[3] = "-c";
	argv[4] = boot_py;
	argv[5] = c->admin ? "session-admin" : "session-public";
	argv[6] = cfg->allowed_imports;
	argv[7] = NULL;
	if (cfg->mode != MODE_ZYGOTE)
		files = sup_jail_files(&c->req);
	sup_session_spec(&spec, &c->w->runner, files, files ? c->req.natt + 1 :
	    0, p.jaildir, cfg->mode == MODE_ZYGOTE ? NULL : argv, n.slot,
	    cfg->session_cpu_seconds);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		free(files);
		e = PYX_E_INTERNAL;
		goto not_started;
	}
	fds[SESS_FD_LISTEN] = n.lfd;
	fds[SESS_FD_SLOT] = n.slot_fd;
	fds[SESS_FD_SETUP] = sp[1];
	if (cfg->mode == MODE_ZYGOTE)
		rv = zyg_spawn_session(&c->w->zyg, &spec, &p, fds, &kpid);
	else
		rv = fork_keeper(c, &p, &spec, fds, n.slot);
	free(files);
	close_quietly(&sp[1]);
	if (rv != 0) {
		close_quietly(&sp[0]);
		if (rv == -2) {
			c->retry_after = 1;
			e = PYX_E_RESTARTING;
		} else
			e = PYX_E_SANDBOX;
		goto not_started;
	}
	/* The keeper holds them now; it removes the socket and the dir. */
	close_quietly(&n.lfd);
	close_quietly(&n.slot_fd);
	e = setup_dialog(c, sp[0], n.slot);
	close_quietly(&starting);	/* started, or failed: the next may */
	close_quietly(&sp[0]);
	if (e == PYX_E_SANDBOX || e == PYX_E_RESTARTING)
		admit_refund(c);	/* no session started */
	if (e != PYX_OK)
		return e;
	c->ran = false;

	resp_timestamp(ts, sizeof(ts));
	iso_time(now, created, sizeof(created));
	iso_time(now + (cfg->session_idle_seconds < cfg->session_max_seconds ?
	    cfg->session_idle_seconds : cfg->session_max_seconds), expires,
	    sizeof(expires));
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "timestamp_utc", json_object_new_string(ts));
	json_object_object_add(o, "session_id", json_object_new_string(n.id));
	json_object_object_add(o, "created_utc", json_object_new_string(created));
	json_object_object_add(o, "expires_utc", json_object_new_string(expires));
	json_object_object_add(o, "idle_timeout_seconds",
	    json_object_new_int(cfg->session_idle_seconds));
	lim = json_object_new_object();
	json_object_object_add(lim, "time_limit_seconds",
	    json_object_new_int(cfg->time_limit_seconds));
	json_object_object_add(lim, "max_seconds",
	    json_object_new_int(cfg->session_max_seconds));
	json_object_object_add(lim, "memory_mb", json_object_new_int(
	    cfg->session_memory_mb ? cfg->session_memory_mb :
	    cfg->memory_limit_mb));
	json_object_object_add(lim, "cpu_seconds",
	    json_object_new_int(cfg->session_cpu_seconds));
	json_object_object_add(lim, "max_output_bytes",
	    json_object_new_int64(cfg->max_output_bytes));
	json_object_object_add(o, "limits", lim);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rep->status = 201;
	rep->reason = "Created";
	rep->body = xmalloc(len + 2);
	memcpy(rep->body, s, len);
	rep->body[len] = '\n';
	rep->body[len + 1] = '\0';
	rep->body_len = len + 1;
	json_object_put(o);
	c->replied = true;
	log_info("%s POST /sessions 201 admin=%d slot=%d rid=%s", c->ip,
	    c->admin, n.slot, c->http->request_id);
	return PYX_OK;
not_started:
	/*
	 * Charged, and no keeper took the socket and the jail directory: the
	 * caller pays nothing and nothing of the session stays.
	 */
	admit_refund(c);
	(void)unlink(p.sock_path);
	if (p.jaildir[0] != '\0')
		(void)rmdir(p.jaildir);
	return e;
}

/* ---- POST /sessions/{id}/fork ---- */

static void	 reply_json(struct exec_ctx *, struct http_reply *, int,
		    struct json_object *);

/*
 * A fork: a new session whose interpreter is a live copy of the parent's
 * (fork() in the parent's jail, nothing re-executed) and whose workspace
 * is a copy of the parent's. It is a session like any other for every
 * route: its own id, socket, slot (max_sessions), keeper, clocks and call
 * lock; it shares the parent's jail (session/keeper.c: families). Charged
 * like a creation, with the parent's role: an admin session only if the
 * parent is one, whatever key the caller sends.
 */
static enum pyx_err
sess_fork(struct exec_ctx *c, struct http_reply *rep, const char *id,
    size_t idlen)
{
	static const char *const allowed[] = { "api_key", NULL };
	const struct config	*cfg = &c->w->cfg;
	NEW_SESS		 n = NEW_SESS_INIT;
	struct sconn		 s = { -1, -1, 0, { 0 } };
	struct sess_fork	 f;
	struct sess_hdr		 h;
	struct sess_result	 r;
	struct json_object	*o;
	char			 pid[SESS_ID_LEN + 1];
	char			 created[40], expires[40], chunk[4096];
	int			 fds[2];
	uint64_t		 left;
	bool			 keyed;
	enum pyx_err		 e;
	double			 end;
	time_t			 now;

	if ((e = read_body(c, cfg_max_body(cfg), true)) != PYX_OK)
		return e;
	if (c->body_len > 0 &&
	    (e = parse_json_body(c, allowed, NULL, false)) != PYX_OK)
		return e;
	if ((e = sess_caller(c, &keyed)) != PYX_OK)
		return e;
	if (cfg->max_sessions == 0)
		return PYX_E_SESSION_NOT_FOUND;
	if (load_key(cfg) == -1) {
		log_warn("session key in %s", cfg->runtime_dir);
		return PYX_E_INTERNAL;
	}
	/* The parent first: unknown is 404, busy is 409, both at once. */
	if ((e = sess_open(c, id, idlen, &s)) != PYX_OK)
		return e;
	c->admin = (s.flags & SESS_F_ADMIN) != 0;
	/*
	 * The child's slot, claim, charge (by the parent's role), id and
	 * socket, as for a creation (sess_new): it counts against
	 * max_sessions and max_sessions_per_ip like any session.
	 */
	if ((e = sess_new(c, false, &n)) != PYX_OK) {
		sconn_close(&s);
		return e;
	}
	memset(&f, 0, sizeof(f));
	strlcpy(f.sock_path, n.sock_path, sizeof(f.sock_path));
	now = time(NULL);
	f.created = (int64_t)now;
	f.slot = n.slot;
	memset(&h, 0, sizeof(h));
	h.magic = SESS_MAGIC;
	h.version = SESS_VERSION;
	h.op = SESS_OP_FORK;
	h.len = sizeof(f);
	fds[0] = n.lfd;
	fds[1] = n.slot_fd;
	c->ran = true;
	end = mono_now() + cfg->time_limit_seconds + 60;
	memset(&r, 0, sizeof(r));
	if (write_timed(s.fd, &h, sizeof(h), end) == -1 ||
	    write_timed(s.fd, &f, sizeof(f), end) == -1 ||
	    fd_send(s.fd, "F", 1, fds, 2) == -1 ||
	    read_timed(s.fd, &h, sizeof(h), end) == -1 ||
	    h.magic != SESS_MAGIC || h.version != SESS_VERSION ||
	    h.op != SESS_OP_REPLY || h.len < sizeof(r) ||
	    h.len > SESS_FRAME_MAX ||
	    read_timed(s.fd, &r, sizeof(r), end) == -1)
		r.flags = 0;
	else {
		/* The parent driver's words are not needed: drained, bounded. */
		for (left = h.len - sizeof(r); left > 0; left -= (uint64_t)
		    (left < sizeof(chunk) ? left : sizeof(chunk)))
			if (read_timed(s.fd, chunk, left < sizeof(chunk) ?
			    (size_t)left : sizeof(chunk), end) == -1) {
				r.flags = 0;
				break;
			}
	}
	sconn_close(&s);
	if ((r.flags & SESS_R_FORKED) == 0) {
		/* The child's keeper removes its socket; in case it never ran: */
		(void)unlink(f.sock_path);
		c->ran = false;
		admit_refund(c);	/* no session started */
		return ctx_fail(c, PYX_E_SANDBOX, "The session could not be "
		    "forked: its interpreter is gone or did not answer, or its "
		    "workspace could not be copied (a family shares one "
		    "workspace cap).");
	}
	c->ran = false;
	memcpy(pid, id, idlen);
	pid[idlen] = '\0';
	iso_time(now, created, sizeof(created));
	iso_time(now + (cfg->session_idle_seconds < cfg->session_max_seconds ?
	    cfg->session_idle_seconds : cfg->session_max_seconds), expires,
	    sizeof(expires));
	o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_string(n.id));
	json_object_object_add(o, "parent_session_id",
	    json_object_new_string(pid));
	json_object_object_add(o, "created_utc", json_object_new_string(created));
	json_object_object_add(o, "expires_utc", json_object_new_string(expires));
	json_object_object_add(o, "idle_timeout_seconds",
	    json_object_new_int(cfg->session_idle_seconds));
	reply_json(c, rep, 201, o);
	rep->reason = "Created";
	log_info("%s POST /sessions/{id}/fork 201 admin=%d slot=%d rid=%s",
	    c->ip, c->admin, n.slot, c->http->request_id);
	return PYX_OK;
}

/* ---- replies ---- */

static void
reply_json(struct exec_ctx *c, struct http_reply *rep, int status,
    struct json_object *o)
{
	const char	*s;
	char		 ts[48];
	size_t		 len;

	resp_timestamp(ts, sizeof(ts));
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "timestamp_utc", json_object_new_string(ts));
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	rep->status = status;
	rep->reason = "OK";
	rep->body = xmalloc(len + 2);
	memcpy(rep->body, s, len);
	rep->body[len] = '\n';
	rep->body[len + 1] = '\0';
	rep->body_len = len + 1;
	json_object_put(o);
	c->replied = true;
}

static void
add_time(struct json_object *o, const char *key, int64_t t)
{
	char	 s[40];

	iso_time((time_t)t, s, sizeof(s));
	json_object_object_add(o, key, json_object_new_string(s));
}

static enum pyx_err
sess_get(struct exec_ctx *c, struct http_reply *rep, const char *id,
    size_t idlen)
{
	struct sconn		 s;
	struct json_object	*o;
	enum pyx_err		 e;
	char			 ids[SESS_ID_LEN + 1];

	e = sess_open(c, id, idlen, &s);
	if (e == PYX_E_SESSION_BUSY) {
		/* The banner said busy and carried the state: still answer. */
		e = PYX_OK;
	}
	if (e != PYX_OK)
		return e;
	sconn_close(&s);
	memcpy(ids, id, idlen);
	ids[idlen] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_string(ids));
	add_time(o, "created_utc", s.info.created);
	add_time(o, "last_used_utc", s.info.last_used);
	add_time(o, "expires_utc", s.info.expires);
	json_object_object_add(o, "executions",
	    json_object_new_int64((int64_t)s.info.executions));
	json_object_object_add(o, "busy", json_object_new_boolean(s.info.busy));
	json_object_object_add(o, "memory_bytes",
	    json_object_new_int64((int64_t)s.info.memory_bytes));
	reply_json(c, rep, 200, o);
	return PYX_OK;
}

/* Reads and drops what fd sends until its end closes or the deadline. */
static void
drain_until_closed(int fd, double end)
{
	struct pollfd	 p;
	char		 buf[256];
	double		 left;

	while (fd >= 0 && (left = end - mono_now()) > 0) {
		p = (struct pollfd){ fd, POLLIN, 0 };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			return;
		if (read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

static enum pyx_err
sess_delete(struct exec_ctx *c, struct http_reply *rep, const char *id,
    size_t idlen)
{
	struct sconn	 s;
	struct sreply	 r;
	enum pyx_err	 e;

	if ((e = sess_open(c, id, idlen, &s)) != PYX_OK)
		return e;
	e = sess_call(c, &s, SESS_OP_DELETE, NULL, &r);
	sreply_free(&r);
	/*
	 * The keeper answers, then tears the jail down and only then closes
	 * its end: waiting for that end (bounded) makes the 200 mean what it
	 * says, every process of the session gone.
	 */
	if (e == PYX_OK)
		drain_until_closed(s.fd, mono_now() + DELETE_WAIT_S);
	sconn_close(&s);
	if (e != PYX_OK)
		return e;
	reply_json(c, rep, 200, json_object_new_object());
	return PYX_OK;
}

/* The keeper's verdict on the call, in /execute's words. */
static void
judge_call(struct exec_ctx *c, const struct sreply *r, bool *alive,
    const char **why)
{
	struct run	*run = &c->run;
	int		 st = r->r.wstatus;

	*alive = (r->r.flags & SESS_R_ALIVE) != 0;
	*why = NULL;
	switch (r->r.term) {
	case SESS_T_OK:
		run->term = TERM_EXITED;
		break;
	case SESS_T_INTERRUPTED:
		run->term = TERM_TIMEOUT;
		*why = "The call reached the time limit and was interrupted "
		    "(KeyboardInterrupt); the session lives on.";
		break;
	case SESS_T_KILLED_TIMEOUT:
		run->term = TERM_TIMEOUT;
		*why = "The call reached the time limit and did not stop when "
		    "interrupted: the session was ended.";
		break;
	case SESS_T_EXPIRED:
		run->term = TERM_TIMEOUT;
		*why = "The session reached its maximum lifetime and was ended.";
		break;
	case SESS_T_DIED:
		if (WIFEXITED(st)) {
			run->term = TERM_EXITED;
			run->exit_code = WEXITSTATUS(st);
			*why = "The session's interpreter exited.";
		} else if (WIFSIGNALED(st)) {
			run->signal = WTERMSIG(st);
			run->term = run->signal == SIGXCPU ? TERM_CPU :
			    TERM_SIGNALED;
			*why = run->signal == SIGXCPU ? "The session used up "
			    "its CPU time (session_cpu_seconds)." :
			    "The session's interpreter was killed by a signal.";
		} else {
			run->term = TERM_SIGNALED;
			run->signal = SIGKILL;
			*why = "The session's interpreter was killed.";
		}
		break;
	default:
		run->term = TERM_SIGNALED;
		run->signal = SIGKILL;
		*why = "The session broke the protocol and was ended.";
	}
	if (r->r.flags & SESS_R_OOM) {
		run->oom_killed = true;
		if (!*alive) {
			run->term = TERM_MEMORY;
			*why = "The session reached its memory limit and was "
			    "ended.";
		}
	}
	buf_free(&run->out);
	buf_free(&run->err);
	buf_init(&run->out, (size_t)c->w->cfg.max_output_bytes);
	buf_init(&run->err, (size_t)c->w->cfg.max_output_bytes);
	(void)buf_append(&run->out, r->out, r->r.out_len);
	(void)buf_append(&run->err, r->err, r->r.err_len);
	run->out.truncated = (r->r.flags & SESS_R_OUT_TRUNC) != 0;
	run->err.truncated = (r->r.flags & SESS_R_ERR_TRUNC) != 0;
	run->wall_sec = r->r.wall_sec;
}

/* A refusal by the driver before the cell ran: /execute's 400s. */
static enum pyx_err
refused(struct exec_ctx *c, struct json_object *drv)
{
	const char		*kind = drv_str(drv, "refused"), *msg;
	struct json_object	*v, *arr;
	size_t			 i, n;
	char			 names[512] = "";

	if (kind == NULL)
		return PYX_OK;
	c->err_extra = json_object_new_object();
	if (strcmp(kind, "syntax") == 0) {
		msg = drv_str(drv, "message");
		if (json_object_object_get_ex(drv, "line", &v) &&
		    json_object_is_type(v, json_type_int))
			json_object_object_add(c->err_extra, "line",
			    json_object_new_int(json_object_get_int(v)));
		if (json_object_object_get_ex(drv, "offset", &v) &&
		    json_object_is_type(v, json_type_int))
			json_object_object_add(c->err_extra, "offset",
			    json_object_new_int(json_object_get_int(v)));
		return ctx_fail(c, PYX_E_SYNTAX, "Syntax error in code: %.300s.",
		    msg ? msg : "?");
	}
	if (strcmp(kind, "forbidden") == 0 &&
	    json_object_object_get_ex(drv, "names", &v) &&
	    json_object_is_type(v, json_type_array)) {
		arr = json_object_new_array();
		n = json_object_array_length(v);
		for (i = 0; i < n && i < 64; i++) {
			struct json_object *x = json_object_array_get_idx(v, i);

			if (!json_object_is_type(x, json_type_string))
				continue;
			json_object_array_add(arr, json_object_new_string(
			    json_object_get_string(x)));
			if (names[0])
				strlcat(names, ",", sizeof(names));
			strlcat(names, json_object_get_string(x), sizeof(names));
		}
		json_object_object_add(c->err_extra, "disallowed", arr);
		return ctx_fail(c, PYX_E_FORBIDDEN_IMPORT, "Import of disallowed "
		    "module(s): %.300s.", names);
	}
	return ctx_fail(c, PYX_E_VALIDATION, "The request is not valid.");
}

/* The driver's "error" object, re-made from checked strings only. */
static struct json_object *
error_obj(struct json_object *drv)
{
	struct json_object	*e, *o;
	const char		*t, *m, *tb;

	if (drv == NULL || !json_object_object_get_ex(drv, "error", &e) ||
	    !json_object_is_type(e, json_type_object))
		return NULL;
	t = drv_str(e, "type");
	m = drv_str(e, "message");
	tb = drv_str(e, "traceback");
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(t ? t : "?"));
	json_object_object_add(o, "message", json_object_new_string(m ? m : ""));
	json_object_object_add(o, "traceback",
	    json_object_new_string(tb ? tb : ""));
	return o;
}

static struct json_object *
display_arr(struct json_object *drv)
{
	struct json_object	*d, *arr, *x, *o;
	const char		*mt, *data;
	size_t			 i, n;

	arr = json_object_new_array();
	if (drv == NULL || !json_object_object_get_ex(drv, "display", &d) ||
	    !json_object_is_type(d, json_type_array))
		return arr;
	n = json_object_array_length(d);
	for (i = 0; i < n && i < 64; i++) {
		x = json_object_array_get_idx(d, i);
		if ((mt = drv_str(x, "mime_type")) == NULL ||
		    (data = drv_str(x, "data_base64")) == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "mime_type", json_object_new_string(mt));
		json_object_object_add(o, "data_base64",
		    json_object_new_string(data));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* POST /sessions/{id}/execute and /run */
static enum pyx_err
sess_exec(struct exec_ctx *c, const char *id, size_t idlen, bool run)
{
	static const char *const ex_allowed[] = { "code", "stdin_data",
	    "return_files", "api_key", NULL };
	static const char *const run_allowed[] = { "cmd", "stdin_data",
	    "api_key", NULL };
	const struct config	*cfg = &c->w->cfg;
	struct sconn		 s = { -1, -1, 0, { 0 } };
	struct sreply		 r;
	struct json_object	*q, *v, *err;
	const char		*why;
	bool			 alive, keyed;
	enum pyx_err		 e;
	double			 cpu = 0;

	if ((e = read_body(c, cfg_max_body(cfg), true)) != PYX_OK)
		return e;
	if (c->body_len == 0)
		return PYX_E_INVALID_REQUEST;
	if ((e = parse_json_body(c, run ? run_allowed : ex_allowed, run ?
	    "cmd" : NULL, true)) != PYX_OK)
		return e;
	if (c->req.natt > 0)
		return ctx_fail(c, PYX_E_VALIDATION, "Attachments are not taken "
		    "here: PUT /sessions/{id}/files/{path}.");
	/* A wrong key is refused; a right one changes nothing here. */
	if ((e = sess_caller(c, &keyed)) != PYX_OK)
		return e;
	if ((e = sess_open(c, id, idlen, &s)) != PYX_OK)
		return e;
	/* The session's role, fixed at its creation, decides the charging. */
	c->admin = (s.flags & SESS_F_ADMIN) != 0;
	if ((e = admit(c)) != PYX_OK) {
		sconn_close(&s);
		return e;
	}
	q = json_object_new_object();
	json_object_object_add(q, "op", json_object_new_string(run ? "run" :
	    "exec"));
	json_object_object_add(q, run ? "cmd" : "code",
	    json_object_new_string_len(c->req.code, (int)c->req.code_len));
	if (c->req.stdin_provided)
		json_object_object_add(q, "stdin", json_object_new_string_len(
		    c->req.stdin_data, (int)c->req.stdin_len));
	/* The caps the driver truncates to (the keeper enforces their sum). */
	json_object_object_add(q, "max_result",
	    json_object_new_int64(cfg->max_output_bytes));
	json_object_object_add(q, "max_display",
	    json_object_new_int64(cfg->max_return_bytes));
	c->ran = true;
	e = sess_call(c, &s, SESS_OP_CALL, q, &r);
	json_object_put(q);
	if (e != PYX_OK) {
		sconn_close(&s);
		sreply_free(&r);
		c->ran = false;
		return e;
	}
	if (!run && (e = refused(c, r.drv)) != PYX_OK) {
		c->ran = false;
		sconn_close(&s);
		sreply_free(&r);
		return e;
	}
	judge_call(c, &r, &alive, &why);
	if (r.drv != NULL && json_object_object_get_ex(r.drv, "cpu", &v) &&
	    (json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int)))
		cpu = json_object_get_double(v);
	c->run.cpu_sec = cpu >= 0 && cpu < 1e6 ? cpu : 0;
	c->sess_details = json_object_new_object();
	if (run) {
		c->run.exit_code = -1;
		if (r.drv != NULL && json_object_object_get_ex(r.drv,
		    "exit_code", &v) && json_object_is_type(v, json_type_int) &&
		    alive && r.r.term == SESS_T_OK) {
			c->run.exit_code = json_object_get_int(v) & 0xff;
			c->run.term = TERM_EXITED;
		} else if (alive && r.r.term == SESS_T_OK && r.drv != NULL &&
		    json_object_object_get_ex(r.drv, "signal", &v) &&
		    json_object_is_type(v, json_type_int)) {
			c->run.term = TERM_SIGNALED;
			c->run.signal = json_object_get_int(v) & 0x7f;
		}
	} else {
		err = error_obj(r.drv);
		if (r.r.term == SESS_T_OK)
			c->run.exit_code = err == NULL ? 0 : 1;
		json_object_object_add(c->sess_details, "result",
		    drv_str(r.drv, "result") != NULL && err == NULL ?
		    json_object_new_string(drv_str(r.drv, "result")) : NULL);
		json_object_object_add(c->sess_details, "result_truncated",
		    json_object_new_boolean(drv_true(r.drv,
		    "result_truncated")));
		json_object_object_add(c->sess_details, "display",
		    display_arr(r.drv));
		json_object_object_add(c->sess_details, "display_truncated",
		    json_object_new_boolean(drv_true(r.drv,
		    "display_truncated")));
		json_object_object_add(c->sess_details, "error", err);
	}
	json_object_object_add(c->sess_details, "session_alive",
	    json_object_new_boolean(alive));
	json_object_object_add(c->sess_details, "session_message",
	    why ? json_object_new_string(why) : NULL);
	if (!run && alive && s.ws >= 0 && c->req.nret > 0)
		c->outputs = outputs_collect(s.ws, c->req.ret, c->req.nret,
		    cfg->max_file_bytes, cfg->max_return_bytes,
		    (size_t)cfg->max_return_files, &c->outfiles);
	sconn_close(&s);
	sreply_free(&r);
	return PYX_OK;
}

/* ---- files ---- */

/* Percent-decodes a path from the URI and checks it as a file name. */
static enum pyx_err
file_path(struct exec_ctx *c, const char *in, char *out, size_t outlen)
{
	size_t		 o = 0, nchars;
	const char	*why = NULL;
	int		 hi, lo;

	for (; *in != '\0'; in++) {
		if (o + 1 >= outlen)
			return ctx_fail(c, PYX_E_VALIDATION, "The path is too long.");
		if (*in == '%') {
			if ((hi = hex_digit(in[1])) < 0 || (lo = hex_digit(in[2])) < 0)
				return ctx_fail(c, PYX_E_VALIDATION, "The path "
				    "has a bad percent escape.");
			out[o++] = (char)(hi << 4 | lo);
			in += 2;
		} else
			out[o++] = *in;
	}
	out[o] = '\0';
	if (o == 0 || memchr(out, '\0', o) != NULL ||
	    utf8_count(out, o, &nchars) == -1 ||
	    name_check(out, o, &why) == -1)
		return ctx_fail(c, PYX_E_VALIDATION, "Bad path: %s.", why ? why :
		    "not a relative path of the workspace");
	return PYX_OK;
}

static enum pyx_err
file_error(struct exec_ctx *c, const char *what, const char *path)
{
	static const struct { const char *code, *msg; } tab[] = {
		{ "symlink", "is a symbolic link (never followed)" },
		{ "notfound", "does not exist" },
		{ "notdir", "has a parent that is not a directory" },
		{ "isdir", "is a directory" },
		{ "notfile", "is not a regular file" },
		{ "notempty", "is a directory that is not empty" },
		{ "toolarge", "is larger than max_file_bytes" },
		{ "denied", "cannot be read by the service (its permissions)" },
		{ "nospace", "does not fit in the workspace" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(what, tab[i].code) == 0) {
			if (strcmp(what, "notfound") == 0) {
				c->err_extra = json_object_new_object();
				json_object_object_add(c->err_extra, "path",
				    json_object_new_string(path));
			}
			return ctx_fail(c, strcmp(what, "notfound") == 0 ?
			    PYX_E_FILE_NOT_FOUND : PYX_E_VALIDATION,
			    "'%.255s' %s.", path, tab[i].msg);
		}
	return ctx_fail(c, PYX_E_VALIDATION, "'%.255s': the operation failed.",
	    path);
}

static enum pyx_err files_read(struct exec_ctx *, struct http_reply *,
		    struct sconn *, const char *);

static enum pyx_err
sess_files(struct exec_ctx *c, struct http_reply *rep, const char *id,
    size_t idlen, const char *rest, bool move)
{
	const struct config	*cfg = &c->w->cfg;
	const char		*m = c->http->method, *fe;
	char			 path[PYX_NAME_MAX * 3 + 1], to[PYX_NAME_MAX + 1];
	struct sconn		 s = { -1, -1, 0, { 0 } };
	struct sreply		 r;
	struct json_object	*q, *o;
	enum pyx_err		 e;
	char			*enc;

	q = json_object_new_object();
	path[0] = '\0';
	if (move) {
		struct json_object	*root;
		const char		*f, *t;

		if ((e = read_body(c, 64 * 1024, true)) != PYX_OK)
			goto out;
		root = c->body ? json_tokener_parse(c->body) : NULL;
		if (root == NULL || !json_object_is_type(root, json_type_object) ||
		    json_object_object_length(root) != 2 ||
		    (f = drv_str(root, "from")) == NULL ||
		    (t = drv_str(root, "to")) == NULL) {
			json_object_put(root);
			e = ctx_fail(c, PYX_E_VALIDATION, "The body must be "
			    "{\"from\": path, \"to\": path}.");
			goto out;
		}
		if ((e = file_path(c, f, path, sizeof(path))) != PYX_OK ||
		    strchr(f, '%') != NULL ||
		    (e = file_path(c, t, to, sizeof(to))) != PYX_OK ||
		    strchr(t, '%') != NULL) {
			json_object_put(root);
			if (e == PYX_OK)
				e = ctx_fail(c, PYX_E_VALIDATION, "Bad path.");
			goto out;
		}
		json_object_put(root);
		json_object_object_add(q, "op", json_object_new_string("move"));
		json_object_object_add(q, "from", json_object_new_string(path));
		json_object_object_add(q, "to", json_object_new_string(to));
	} else if (rest != NULL) {
		if ((e = file_path(c, rest, path, sizeof(path))) != PYX_OK)
			goto out;
		json_object_object_add(q, "path", json_object_new_string(path));
		if (strcmp(m, "GET") == 0)
			;	/* read here, below */
		else if (strcmp(m, "DELETE") == 0)
			json_object_object_add(q, "op",
			    json_object_new_string("delete"));
		else {
			if ((e = read_body(c, (size_t)cfg->max_file_bytes, false))
			    != PYX_OK)
				goto out;
			enc = xmalloc(b64_encoded_len(c->body_len) + 1);
			b64_encode((const uint8_t *)(c->body ? c->body : ""),
			    c->body_len, enc);
			json_object_object_add(q, "op", json_object_new_string("put"));
			json_object_object_add(q, "data_base64",
			    json_object_new_string_len(enc,
			    (int)b64_encoded_len(c->body_len)));
			free(enc);
		}
	}
	if ((e = sess_open(c, id, idlen, &s)) != PYX_OK)
		goto out;
	/*
	 * Reads are done here, from the workspace fd the banner carried: the
	 * session's driver is its user's code, and reads are not charged.
	 */
	if (!move && strcmp(m, "GET") == 0) {
		e = files_read(c, rep, &s, rest == NULL ? NULL : path);
		sconn_close(&s);
		goto out;
	}
	/*
	 * Writes are made by the session's own interpreter (its uid owns its
	 * files; the worker has no right to them and takes none), which runs
	 * code the session controls: charged like a call, and a call.
	 */
	c->admin = (s.flags & SESS_F_ADMIN) != 0;
	if ((e = admit(c)) != PYX_OK) {
		sconn_close(&s);
		goto out;
	}
	e = sess_call(c, &s, SESS_OP_CALL, q, &r);
	sconn_close(&s);
	if (e != PYX_OK)
		goto out;
	if (!(r.r.flags & SESS_R_ALIVE) || r.drv == NULL) {
		sreply_free(&r);
		e = r.r.term == SESS_T_KILLED_TIMEOUT ? PYX_E_SESSION_NOT_FOUND :
		    PYX_E_SESSION_NOT_FOUND;
		goto out;
	}
	if ((fe = drv_str(r.drv, "file_error")) != NULL) {
		e = file_error(c, fe, path);
		sreply_free(&r);
		goto out;
	}
	{
		o = json_object_new_object();
		if (move) {
			json_object_object_add(o, "from", json_object_new_string(path));
			json_object_object_add(o, "to", json_object_new_string(to));
		} else
			json_object_object_add(o, "path",
			    json_object_new_string(path));
		if (strcmp(m, "PUT") == 0)
			json_object_object_add(o, "size_bytes",
			    json_object_new_int64((int64_t)c->body_len));
		reply_json(c, rep, 200, o);
	}
	sreply_free(&r);
	e = PYX_OK;
out:
	json_object_put(q);
	return e;
}

/* GET of the listing (path NULL) or of one file, beneath s->ws. */
static enum pyx_err
files_read(struct exec_ctx *c, struct http_reply *rep, struct sconn *s,
    const char *path)
{
	struct json_object	*o, *arr;
	const char		*fe = NULL;
	char			*data;
	size_t			 len;

	if (s->ws < 0) {
		log_warnx("session: no workspace in the keeper's banner");
		return PYX_E_INTERNAL;
	}
	if (path == NULL) {
		if ((arr = ws_list(s->ws)) == NULL)
			return PYX_E_INTERNAL;
		o = json_object_new_object();
		json_object_object_add(o, "files", arr);
		reply_json(c, rep, 200, o);
		return PYX_OK;
	}
	if (ws_read(s->ws, path, c->w->cfg.max_file_bytes, &data, &len, &fe)
	    == -1)
		return file_error(c, fe, path);
	rep->status = 200;
	rep->reason = "OK";
	rep->content_type = "application/octet-stream";
	rep->body = data;
	rep->body_len = len;
	c->replied = true;
	return PYX_OK;
}

/* ---- routing ---- */

static enum pyx_err
method_not_allowed(struct http_reply *rep, const char *allow)
{
	snprintf(rep->extra_headers, sizeof(rep->extra_headers),
	    "Allow: %s\r\n", allow);
	return PYX_E_METHOD;
}

/*
 * Every /sessions route. The id is the path's second component; routes
 * below it are fixed names. Returns the error for execute.c's envelope,
 * or PYX_OK with c->replied when the reply is built here.
 */
enum pyx_err
sessions_route(struct exec_ctx *c, struct http_reply *rep, const char *path)
{
	const char	*m = c->http->method, *id, *slash, *sub;
	size_t		 idlen;

	if (strcmp(path, "/sessions") == 0) {
		if (strcmp(m, "POST") != 0)
			return method_not_allowed(rep, "POST");
		c->is_execute = true;
		c->err = sess_create(c, rep);
		if (c->err != PYX_OK)
			admit_status(c);
		return c->err;
	}
	id = path + strlen("/sessions/");
	slash = strchr(id, '/');
	idlen = slash ? (size_t)(slash - id) : strlen(id);
	sub = slash ? slash : "";
	if (strcmp(sub, "") == 0) {
		if (strcmp(m, "GET") == 0)
			return sess_get(c, rep, id, idlen);
		if (strcmp(m, "DELETE") == 0)
			return sess_delete(c, rep, id, idlen);
		return method_not_allowed(rep, "GET, DELETE");
	}
	if (strcmp(sub, "/fork") == 0) {
		if (strcmp(m, "POST") != 0)
			return method_not_allowed(rep, "POST");
		c->is_execute = true;
		c->err = sess_fork(c, rep, id, idlen);
		if (c->err != PYX_OK)
			admit_status(c);
		return c->err;
	}
	if (strcmp(sub, "/execute") == 0 || strcmp(sub, "/run") == 0) {
		if (strcmp(m, "POST") != 0)
			return method_not_allowed(rep, "POST");
		c->is_execute = true;
		c->err = sess_exec(c, id, idlen, sub[1] == 'r');
		admit_status(c);
		return c->err;
	}
	if (strcmp(sub, "/files") == 0) {
		if (strcmp(m, "GET") != 0)
			return method_not_allowed(rep, "GET");
		return sess_files(c, rep, id, idlen, NULL, false);
	}
	if (strncmp(sub, "/files/", 7) == 0) {
		if (strcmp(m, "GET") != 0 && strcmp(m, "PUT") != 0 &&
		    strcmp(m, "DELETE") != 0)
			return method_not_allowed(rep, "GET, PUT, DELETE");
		return sess_files(c, rep, id, idlen, sub + 7, false);
	}
	if (strcmp(sub, "/move") == 0) {
		if (strcmp(m, "POST") != 0)
			return method_not_allowed(rep, "POST");
		return sess_files(c, rep, id, idlen, NULL, true);
	}
	return PYX_E_NOT_FOUND;
}
