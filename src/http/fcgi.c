/*
 * fcgi.c: the only file that includes fcgiapp.h. Reads the parameters
 * nginx passes, hands the body over on request, writes the reply. Uses
 * the explicit FCGX_* request API (no fcgi_stdio macros) on the listening
 * socket spawn-fcgi left on fd 0.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "common/common.h"
#include "http/http.h"

#define REQ_TRIM_BYTES	(256 * 1024)

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

static int
put_bytes(FCGX_Request *req, const char *p, size_t len)
{
	size_t	 off = 0;
	int	 n;

	while (off < len) {
		n = len - off > (1 << 20) ? (1 << 20) : (int)(len - off);
		if (FCGX_PutStr(p + off, n, req->out) != n)
			return -1;	/* the client went away */
		off += (size_t)n;
	}
	return 0;
}

/*
 * One returned file, base64 as it is read: 48 KiB at a time (a multiple
 * of 3, so only the last chunk is padded).
 */
static int
put_file(FCGX_Request *req, const struct outfile *f)
{
	uint8_t		 raw[48 * 1024];
	char		 enc[64 * 1024 + 4];
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
		b64_encode(raw, want, enc);
		if (put_bytes(req, enc, b64_encoded_len(want)) == -1)
			return -1;
		off += (long long)want;
	}
	return 0;
}

/*
 * The body, with each file placeholder (outputs.c: the nonce, the file's
 * index, a dot) replaced by that file's content. Only this request's
 * nonce is looked for, and only indexes it issued are accepted.
 */
static void
send_reply(FCGX_Request *req, const struct http_reply *rep)
{
	const struct outfiles	*of = &rep->files;
	const char		*p = rep->body, *end = rep->body + rep->body_len;
	const char		*q;
	char			*e;
	size_t			 nlen = strlen(of->nonce);
	unsigned long		 i;

	FCGX_FPrintF(req->out, "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", rep->status, rep->reason,
	    rep->content_type ? rep->content_type : "application/json",
	    rep->extra_headers);
	while (of->n > 0 && nlen > 0 &&
	    (q = memmem(p, (size_t)(end - p), of->nonce, nlen)) != NULL) {
		errno = 0;
		i = strtoul(q + nlen, &e, 10);
		if (errno != 0 || e == q + nlen || *e != '.' || i >= of->n) {
			log_warnx("malformed file placeholder in a reply");
			break;
		}
		if (put_bytes(req, p, (size_t)(q - p)) == -1 ||
		    put_file(req, &of->f[i]) == -1)
			return;
		p = e + 1;
	}
	(void)put_bytes(req, p, (size_t)(end - p));
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

/* Serves requests until FCGX_ShutdownPending() or an accept error. */
int
fcgi_serve(struct worker *w)
{
	FCGX_Request		 req;
	struct http_req		 h;
	struct http_reply	 rep;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_warnx("FCGX_Init failed");
		return -1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		memset(&h, 0, sizeof(h));
		h.method = FCGX_GetParam("REQUEST_METHOD", req.envp);
		h.uri = FCGX_GetParam("DOCUMENT_URI", req.envp);
		if (h.uri == NULL)
			h.uri = FCGX_GetParam("REQUEST_URI", req.envp);
		h.content_type = FCGX_GetParam("CONTENT_TYPE", req.envp);
		h.remote_addr = FCGX_GetParam("REMOTE_ADDR", req.envp);
		h.content_length = parse_length(FCGX_GetParam("CONTENT_LENGTH",
		    req.envp));
		h.read_body = fcgi_read_body;
		h.conn_fd = req.ipcFd;
		h.body_ctx = &req;
		h.authorization = FCGX_GetParam("HTTP_AUTHORIZATION",
		    req.envp);
		h.metrics_allowed = FCGX_GetParam("PYEXEC_METRICS_ALLOWED",
		    req.envp);
		get_request_id(h.request_id, FCGX_GetParam("REQUEST_ID",
		    req.envp));
		if (h.method == NULL)
			h.method = "";
		execute_handle(w, &h, &rep);
		send_reply(&req, &rep);
		free(rep.body);
		outfiles_free(&rep.files);
		wipe_input(req.in);
		FCGX_Finish_r(&req);
		/* What a large request left in the heap goes back now. */
		if (rep.trim || h.content_length > REQ_TRIM_BYTES ||
		    rep.body_len > REQ_TRIM_BYTES)
			(void)malloc_trim(0);
	}
	return 0;
}
