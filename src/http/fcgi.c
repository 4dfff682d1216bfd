/*
 * fcgi.c: the only file that includes fcgiapp.h. Reads the parameters
 * nginx passes, hands the body over on request, writes the reply. Uses
 * the explicit FCGX_* request API (no fcgi_stdio macros) on the listening
 * socket spawn-fcgi left on fd 0.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "common/common.h"
#include "http/http.h"

#define REQ_TRIM_BYTES	(256 * 1024)
#define REPLY_ATOMIC_MAX	(512 * 1024)
#define FCGI_RECORD_MAX		65528	/* under 64 KiB, a multiple of 8 */

static long long
fcgi_read_body(void *opaque, char *buf, size_t len)
{
	FCGX_Request	*req = opaque;
	size_t		 off = 0;
	int		 n, want;

	while (off < len) {
		want = len - off > (1 << 20) ? (1 << 20) : (int)(len - off);
		n = FCGX_GetStr(buf + off, want, req->in);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return (long long)off;
}

static long long
parse_length(const char *s)
{
	const char	*errstr;
	long long	 n;

	if (s == NULL || *s == '\0')
		return -1;
	n = strtonum(s, 0, 1LL << 40, &errstr);
	return errstr ? -1 : n;
}

/*
 * nginx's $request_id: 32 lowercase hex digits. Anything else (an nginx
 * configured without the parameter) is logged as "-", never copied.
 */
static void
get_request_id(char out[33], const char *p)
{
	size_t	 i;

	for (i = 0; p != NULL && i < 32; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' &&
		    p[i] <= 'f')))
			break;
	if (p == NULL || i != 32 || p[32] != '\0') {
		strlcpy(out, "-", 33);
		return;
	}
	memcpy(out, p, 32);
	out[32] = '\0';
}

/*
 * Where a reply's bytes go: libfcgi's stream, or (mem != NULL) a buffer
 * of fixed size: send_atomic's, as FastCGI records (each header written
 * when its record closes), or reply_flatten's, plain. Bytes are written
 * in place (sink_room, then sink_commit), so a part of the reply is
 * copied once, from its source. Running out of a buffer fails, and
 * send_atomic's caller falls back to the stream.
 */
struct sink {
	FCGX_Request	*req;
	char		*mem;
	size_t		 len, cap;
	bool		 records;
	size_t		 rec;		/* the open record's header, or 0 */
};

/* send_atomic's tail: an empty stdout record and FCGI_END_REQUEST. */
#define WIRE_TAIL	(3 * FCGI_HEADER_LEN)
#define UNIT_MIN	8	/* the most one write in place needs at once */

static void
record_header(unsigned char *h, int type, int id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)((id >> 8) & 0xff);
	h[3] = (unsigned char)(id & 0xff);
	h[4] = (unsigned char)((len >> 8) & 0xff);
	h[5] = (unsigned char)(len & 0xff);
	h[6] = 0;	/* no padding */
	h[7] = 0;
}

static void
sink_close_record(struct sink *s)
{
	if (s->rec == 0)
		return;
	if (s->len == s->rec)	/* empty: it would end the stream */
		s->len -= FCGI_HEADER_LEN;
	else
		record_header((unsigned char *)s->mem + s->rec -
		    FCGI_HEADER_LEN, FCGI_STDOUT, s->req->requestId,
		    s->len - s->rec);
	s->rec = 0;
}

/* At least min bytes (min <= UNIT_MIN) to write at the returned place. */
static char *
sink_room(struct sink *s, size_t min, size_t *room)
{
	FCGX_Stream	*out;
	size_t		 left;

	if (s->mem == NULL) {
		out = s->req->out;
		if (out->isClosed)
			return NULL;	/* the client went away */
		if ((size_t)(out->stop - out->wrNext) < min &&
		    (FCGX_FFlush(out) == -1 ||
		    (size_t)(out->stop - out->wrNext) < min))
			return NULL;	/* the client went away */
		*room = (size_t)(out->stop - out->wrNext);
		return (char *)out->wrNext;
	}
	if (!s->records) {
		*room = s->cap - s->len;
		return *room >= min ? s->mem + s->len : NULL;
	}
	if (s->rec != 0 && FCGI_RECORD_MAX - (s->len - s->rec) < min)
		sink_close_record(s);
	if (s->rec == 0) {
		if (s->cap - s->len < FCGI_HEADER_LEN + min + WIRE_TAIL)
			return NULL;
		s->len += FCGI_HEADER_LEN;
		s->rec = s->len;
	}
	left = s->cap - s->len - WIRE_TAIL;
	*room = FCGI_RECORD_MAX - (s->len - s->rec);
	if (*room > left)
		*room = left;
	return *room >= min ? s->mem + s->len : NULL;
}

static void
sink_commit(struct sink *s, size_t n)
{
	if (s->mem == NULL)
		s->req->out->wrNext += n;
	else
		s->len += n;
}

static int
put_bytes(struct sink *s, const char *p, size_t len)
{
	size_t	 off, n, room;
	char	*d;

	for (off = 0; off < len; off += n) {
		if ((d = sink_room(s, 1, &room)) == NULL)
			return -1;
		n = len - off < room ? len - off : room;
		memcpy(d, p + off, n);
		sink_commit(s, n);
	}
	return 0;
}

/*
 * Base64 of p, encoded in place; only a last n that is not a multiple of
 * 3 gets padding. b64_encode ends its output with a NUL: the room keeps
 * a byte for it (libfcgi's buffer ends where the room does).
 */
static int
put_b64(struct sink *s, const uint8_t *p, size_t n)
{
	size_t	 off, take, room;
	char	*d;

	for (off = 0; off < n; off += take) {
		if ((d = sink_room(s, 5, &room)) == NULL)
			return -1;
		take = (room - 1) / 4 * 3;
		if (take > n - off)
			take = n - off;
		b64_encode(p + off, take, d);
		sink_commit(s, b64_encoded_len(take));
	}
	return 0;
}

/* Output as the text of a JSON string, escaped in place. */
static int
put_text(struct sink *s, const char *p, size_t n)
{
	size_t	 pos = 0, room;
	char	*d;

	while (pos < n) {
		if ((d = sink_room(s, UNIT_MIN, &room)) == NULL)
			return -1;
		sink_commit(s, json_text_put(p, n, &pos, d, room));
	}
	return 0;
}

/*
 * One returned file, read 48 KiB at a time (a multiple of 3, so only the
 * last chunk is padded) and encoded in place.
 */
static int
put_file(struct sink *s, const struct outfile *f)
{
	uint8_t		 raw[48 * 1024];
	long long	 off = 0;
	size_t		 want, got;
	ssize_t		 n;

	while (off < f->size) {
		want = f->size - off > (long long)sizeof(raw) ? sizeof(raw) :
		    (size_t)(f->size - off);
		for (got = 0; got < want; got += (size_t)n) {
			n = pread(f->fd, raw + got, want - got, off + (off_t)got);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				/*
				 * Nothing can write a finished run's files;
				 * should one shrink anyway, the reply stays
				 * well-formed JSON of the promised size.
				 */
				log_warnx("a returned file shrank while sent");
				memset(raw + got, 0, want - got);
				n = (ssize_t)(want - got);
			}
		}
		if (put_b64(s, raw, want) == -1)
			return -1;
		off += (long long)want;
	}
	return 0;
}

static int
put_part(struct sink *s, const struct outfile *f)
{
	switch (f->kind) {
	case PART_FILE_B64:
		return put_file(s, f);
	case PART_TEXT:
		return put_text(s, f->mem, (size_t)f->size);
	case PART_BYTES_B64:
		return put_b64(s, (const uint8_t *)f->mem, (size_t)f->size);
	}
	return -1;
}

/*
 * The body with each placeholder (run.h, struct outfiles: the nonce, the
 * part's index, a dot) replaced by that part. Only this request's nonce
 * is looked for, and only indexes it issued are accepted.
 */
static int
put_body(struct sink *s, const struct http_reply *rep)
{
	const struct outfiles	*of = &rep->files;
	const char		*p = rep->body, *end = rep->body + rep->body_len;
	const char		*q;
	char			*e;
	size_t			 nlen = strlen(of->nonce);
	unsigned long		 i;

	while (of->n > 0 && nlen > 0 &&
	    (q = memmem(p, (size_t)(end - p), of->nonce, nlen)) != NULL) {
		errno = 0;
		i = strtoul(q + nlen, &e, 10);
		if (errno != 0 || e == q + nlen || *e != '.' || i >= of->n) {
			log_warnx("malformed placeholder in a reply");
			break;
		}
		if (put_bytes(s, p, (size_t)(q - p)) == -1 ||
		    put_part(s, &of->f[i]) == -1)
			return -1;
		p = e + 1;
	}
	return put_bytes(s, p, (size_t)(end - p));
}

/* The reply: headers, then the body. */
static int
put_reply(struct sink *s, const struct http_reply *rep)
{
	char	 head[512];
	int	 n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", rep->status, rep->reason,
	    rep->content_type ? rep->content_type : "application/json",
	    rep->extra_headers);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    put_bytes(s, head, (size_t)n) == -1)
		return -1;
	return put_body(s, rep);
}

/* Bytes of the body once its placeholders are replaced, at most. */
static size_t
reply_size(const struct http_reply *rep)
{
	return rep->body_len + outfiles_enc_len(&rep->files);
}

/*
 * For a caller inside this process (compat.c): the body with its parts
 * in place, NUL-terminated, the parts freed.
 */
void
reply_flatten(struct http_reply *rep)
{
	struct sink	 s;

	if (rep->files.n == 0 || rep->body == NULL) {
		outfiles_free(&rep->files);
		return;
	}
	memset(&s, 0, sizeof(s));
	/* sink_room wants UNIT_MIN free even for the last byte */
	s.cap = reply_size(rep) + UNIT_MIN + 1;
	s.mem = xmalloc(s.cap);
	if (put_body(&s, rep) == -1)
		fatalx("reply_flatten: the reply outgrew its size");
	s.mem[s.len] = '\0';
	free(rep->body);
	rep->body = s.mem;
	rep->body_len = s.len;
	outfiles_free(&rep->files);
}

static void
send_reply(FCGX_Request *req, const struct http_reply *rep)
{
	struct sink	 s = { .req = req };

	(void)put_reply(&s, rep);
}

/*
 * The largest reply handed to the kernel in one write(2): half of what the
 * connection's send buffer holds (the rest is skb overhead), so the write
 * never has to wait, and a kill cannot split it. The buffer is first
 * raised to what an unprivileged process may have (net.core.wmem_max).
 */
static size_t
atomic_cap(int fd)
{
	int		 want = 1 << 20, got = 0;
	socklen_t	 len = sizeof(got);

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len) == -1 ||
	    got <= 0)
		return 0;
	return (size_t)got / 2 > REPLY_ATOMIC_MAX ? REPLY_ATOMIC_MAX :
	    (size_t)got / 2;
}

/*
 * A reply that fits goes out whole in one write(2), the end-of-request
 * record included. A worker killed (SIGKILL, an operator, the OOM killer)
 * at any moment then leaves nginx the whole reply or none of it, and none
 * is answered with nginx's documented 503 (pyexec-locations.conf), never
 * a 200 cut in the middle. Larger replies are streamed; a kill while one
 * is sent still cuts it, and the client sees the broken HTTP framing.
 * The reply is written as records straight into the buffer that goes to
 * the kernel. Uses FCGX_Request's ipcFd and keepConnection, stable since
 * libfcgi 2.4.0 like wipe_input()'s fields; a connection nginx keeps open
 * takes the streamed path. Returns 0 when sent (the caller then frees
 * the request without libfcgi writing anything more), -1 to stream.
 */
static int
send_atomic(FCGX_Request *req, const struct http_reply *rep)
{
	struct sink	 s = { .req = req, .records = true };
	unsigned char	*w;
	size_t		 cap, bound, off;
	ssize_t		 n;

	if (req->ipcFd < 0 || req->keepConnection || req->requestId <= 0 ||
	    req->requestId > 0xffff || (cap = atomic_cap(req->ipcFd)) == 0)
		return -1;
	/*
	 * An upper bound (placeholders only shrink; every record but the
	 * last carries more than half of FCGI_RECORD_MAX) keeps big
	 * replies off.
	 */
	bound = reply_size(rep) + 512;
	bound += (bound / (FCGI_RECORD_MAX / 2) + 2) * FCGI_HEADER_LEN +
	    UNIT_MIN + WIRE_TAIL;
	if (bound > cap)
		return -1;
	if ((s.mem = malloc(bound)) == NULL)
		return -1;
	s.cap = bound;
	if (put_reply(&s, rep) == -1) {
		free(s.mem);
		return -1;
	}
	sink_close_record(&s);
	w = (unsigned char *)s.mem + s.len;
	record_header(w, FCGI_STDOUT, req->requestId, 0);	/* end of stdout */
	w += FCGI_HEADER_LEN;
	record_header(w, FCGI_END_REQUEST, req->requestId, 8);
	w += FCGI_HEADER_LEN;
	memset(w, 0, 8);	/* appStatus 0, FCGI_REQUEST_COMPLETE */
	s.len += WIRE_TAIL;
	for (off = 0; off < s.len; off += (size_t)n) {
		n = write(req->ipcFd, s.mem + off, s.len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;	/* nginx went away: nothing left to tell it */
	}
	free(s.mem);
	return 0;	/* never stream after part of it went out */
}

/*
 * A reply too big for one write is streamed by a child of the worker,
 * which the worker waits for (one request at a time, as before). A worker
 * killed while the reply is on its way (SIGKILL, the OOM killer, an
 * operator) then no longer cuts it: the child holds the connection too
 * and finishes the reply. The child only writes and exits; whatever kills
 * it kills a process that holds no run. Returns 0 when the child sent it
 * (the caller frees the request without writing), -1 to stream here.
 */
static int
send_by_child(FCGX_Request *req, const struct http_reply *rep)
{
	pid_t	 pid;
	int	 st;

	if (req->ipcFd < 0 || req->keepConnection)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* Named apart from the workers: a worker's killer spares it. */
		(void)prctl(PR_SET_NAME, "pyexec-reply", 0, 0, 0);
		send_reply(req, rep);
		FCGX_Finish_r(req);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/*
 * Zeroes libfcgi's input buffer, which holds the last records read, the
 * end of the request body included (an admin key, say), and which libfcgi
 * frees without clearing: an exec-mode jail's init is a copy of this
 * process. The buffer is in the stream's private data, whose first two
 * fields (buffer, length) have not changed since libfcgi 2.4.0; it is
 * only written if the stream's public pointers lie inside it.
 */
static void
wipe_input(FCGX_Stream *in)
{
	struct {
		unsigned char	*buff;
		int		 bufflen;
	} *d;

	if (in == NULL || (d = in->data) == NULL || d->buff == NULL ||
	    d->bufflen <= 0 || d->bufflen > (1 << 20))
		return;
	if (in->rdNext < d->buff || in->rdNext > d->buff + d->bufflen ||
	    in->stop < d->buff || in->stop > d->buff + d->bufflen)
		return;
	explicit_bzero(d->buff, (size_t)d->bufflen);
}

/*
 * A worker blocked in accept(2) wakes every ACCEPT_WAKE_S seconds (the
 * listening socket's receive timeout; libfcgi returns -EAGAIN), so that
 * one that went to accept without its pre-built jail builds it in the
 * next quiet moment: each idle worker polls the socket for a request
 * (execute_idle), all wake for one, and those that lose the accept would
 * otherwise wait in it, jail-less, until their next request. A Unix
 * socket accept(2) returns does not inherit the timeout, a TCP one does
 * (libfcgi has read the request's first records by then, under it): it
 * is cleared there, so that no later read of the request times out.
 */
#define LISTEN_FD	0	/* FCGI_LISTENSOCK_FILENO: spawn-fcgi's socket */
#define ACCEPT_WAKE_S	1

static void
accept_wakes(int fd, int seconds)
{
	struct timeval	 tv = { .tv_sec = seconds };

	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1)
		log_warn("SO_RCVTIMEO");
}

/* Serves requests until FCGX_ShutdownPending() or an accept error. */
int
fcgi_serve(struct worker *w)
{
	FCGX_Request		 req;
	struct http_req		 h;
	struct http_reply	 rep;
	char			*auth, *tok;
	size_t			 sent_bytes;
	bool			 sent;
	int			 rc;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_warnx("FCGX_Init failed");
		return -1;
	}
	accept_wakes(LISTEN_FD, ACCEPT_WAKE_S);
	while (!worker_stopping) {
		/* Idle: the next run's jail, pre-built while nobody waits. */
		execute_idle(w);
		/*
		 * Stopping, libfcgi accepts nothing and returns -errno of
		 * whatever failed last (EAGAIN too): worker_stopping, not the
		 * value, tells a wake from the end.
		 */
		rc = FCGX_Accept_r(&req);
		if (rc < 0 && !worker_stopping &&
		    (rc == -EAGAIN || rc == -EWOULDBLOCK))
			continue;	/* a wake: see accept_wakes() */
		if (rc < 0)
			break;
		accept_wakes(req.ipcFd, 0);
		memset(&h, 0, sizeof(h));
		h.method = FCGX_GetParam("REQUEST_METHOD", req.envp);
		h.uri = FCGX_GetParam("DOCUMENT_URI", req.envp);
		if (h.uri == NULL)
			h.uri = FCGX_GetParam("REQUEST_URI", req.envp);
		h.content_type = FCGX_GetParam("CONTENT_TYPE", req.envp);
		h.query = FCGX_GetParam("QUERY_STRING", req.envp);
		h.remote_addr = FCGX_GetParam("REMOTE_ADDR", req.envp);
		h.content_length = parse_length(FCGX_GetParam("CONTENT_LENGTH",
		    req.envp));
		h.read_body = fcgi_read_body;
		h.conn_fd = req.ipcFd;
		h.body_ctx = &req;
		h.authorization = auth = FCGX_GetParam("HTTP_AUTHORIZATION",
		    req.envp);
		h.x_auth_token = tok = FCGX_GetParam("HTTP_X_AUTH_TOKEN",
		    req.envp);
		h.metrics_allowed = FCGX_GetParam("PYEXEC_METRICS_ALLOWED",
		    req.envp);
		get_request_id(h.request_id, FCGX_GetParam("REQUEST_ID",
		    req.envp));
		if (h.method == NULL)
			h.method = "";
		execute_handle(w, &h, &rep);
		sent = send_atomic(&req, &rep) == 0 ||
		    send_by_child(&req, &rep) == 0;
		if (!sent)
			send_reply(&req, &rep);
		sent_bytes = reply_size(&rep);
		free(rep.body);
		outfiles_free(&rep.files);
		wipe_input(req.in);
		/*
		 * The header may hold the admin key: libfcgi frees the params
		 * without clearing them, and an exec-mode jail's init is a
		 * copy of this process.
		 */
		if (auth != NULL)
			explicit_bzero(auth, strlen(auth));
		if (tok != NULL)
			explicit_bzero(tok, strlen(tok));
		if (sent)
			FCGX_Free(&req, 1);	/* libfcgi must add nothing */
		else
			FCGX_Finish_r(&req);
		/*
		 * What a large request left in the heap goes back now; so do
		 * the freed copies of a key, in exec mode only, where a jail's
		 * init and a session's keeper are copies of this process (in
		 * zygote mode no copy of it runs untrusted code: the reply
		 * sender of send_by_child and the zygote's launcher before its
		 * exec; trimming costs every admin request a few system calls
		 * and the page faults that follow).
		 */
		if ((rep.trim && w->cfg.mode == MODE_EXEC) ||
		    h.content_length > REQ_TRIM_BYTES ||
		    sent_bytes > REQ_TRIM_BYTES)
			(void)malloc_trim(0);
	}
	return 0;
}
