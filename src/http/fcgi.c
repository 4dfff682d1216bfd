/*
 * fcgi.c: the only file that includes fcgiapp.h. Reads the parameters
 * nginx passes, hands the body over on request, writes the reply. Uses
 * the explicit FCGX_* request API (no fcgi_stdio macros) on the listening
 * socket spawn-fcgi left on fd 0.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "common/common.h"
#include "http/http.h"

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

static void
send_reply(FCGX_Request *req, const struct http_reply *rep)
{
	size_t	 off = 0;
	int	 n;

	FCGX_FPrintF(req->out, "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", rep->status, rep->reason, rep->extra_headers);
	while (off < rep->body_len) {
		n = rep->body_len - off > (1 << 20) ? (1 << 20) :
		    (int)(rep->body_len - off);
		if (FCGX_PutStr(rep->body + off, n, req->out) != n)
			break;	/* the client went away */
		off += (size_t)n;
	}
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
		h.body_ctx = &req;
		if (h.method == NULL)
			h.method = "";
		execute_handle(w, &h, &rep);
		send_reply(&req, &rep);
		free(rep.body);
		FCGX_Finish_r(&req);
	}
	return 0;
}
