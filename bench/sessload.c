/*
 * sessload.c: the load generator of bench/sessions.py, in C.
 *
 * Seed 003's scenario as sessions.py describes it (25 users, each its own
 * session and 100 stateful requests strictly in sequence, one of three
 * scenarios, the seed's verification), one thread and one HTTPS
 * keep-alive connection per user. The Python client in sessions.py does
 * the same with http.client; on a 2-core machine its ~1 ms of CPU per
 * request under one interpreter lock competes with the service for the
 * cores and queues the users behind each other, so latency it measures
 * is partly its own. This one costs a few tens of microseconds.
 *
 * Prints one line per event, for sessions.py to reduce:
 *   create <user> <seconds>            a session made (201)
 *   create_failed <user> <status>
 *   rec <user> <status> <verified 0|1> <seconds> <start, seconds from t0>
 *
 *   sessload HOST PORT CAFILE ADMIN_KEY USERS REQUESTS SEED [together]
 *
 * together: every user waits, once its session is made, until all have
 * theirs, so that all the requests run with every session live (the
 * seed's scenario starts each user's requests as soon as its own session
 * is made, while others are still being created).
 *
 * Built by sessions.py: cc -O2 -pthread sessload.c -lssl -lcrypto -ljson-c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define RESP_MAX	(1 << 20)

static const char	*host, *cafile, *admin_key;
static int		 port, nreq;
static SSL_CTX		*ctx;
static struct timespec	 t0;
static pthread_barrier_t together;
static int		 use_together;

struct user {
	int		 idx;
	uint64_t	 rng;
	SSL		*ssl;
	int		 fd;
	char		*resp;		/* RESP_MAX + 1 */
	size_t		 have;		/* bytes of the answer so far */
	FILE		*logf;		/* lines, printed at the end */
	char		*logbuf;
	size_t		 logsize;
};

static double
since(const struct timespec *a)
{
	struct timespec	 b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

/* splitmix64: the scenario's numbers; any uniform source will do. */
static uint64_t
next64(struct user *u)
{
	uint64_t	 z = (u->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long
randint(struct user *u, long lo, long hi)
{
	return lo + (long)(next64(u) % (uint64_t)(hi - lo + 1));
}

static void
conn_close(struct user *u)
{
	if (u->ssl != NULL) {
		SSL_free(u->ssl);
		u->ssl = NULL;
	}
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	u->have = 0;
}

static int
conn_open(struct user *u)
{
	struct sockaddr_in	 sa;
	int			 one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	if ((u->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(u->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	if ((u->ssl = SSL_new(ctx)) == NULL)
		goto fail;
	/* The dev certificate names the address; check it like a client. */
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(u->ssl), host) != 1)
		goto fail;
	SSL_set_fd(u->ssl, u->fd);
	if (SSL_connect(u->ssl) != 1)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "sessload: user %d: connect to %s:%d: %s\n", u->idx,
	    host, port, strerror(errno));
	ERR_print_errors_fp(stderr);
	conn_close(u);
	return -1;
}

static int
read_more(struct user *u)
{
	int	 n;

	if (u->have >= RESP_MAX)
		return -1;
	n = SSL_read(u->ssl, u->resp + u->have, (int)(RESP_MAX - u->have));
	if (n <= 0)
		return -1;
	u->have += (size_t)n;
	u->resp[u->have] = '\0';
	return 0;
}

/*
 * A chunked body from u->resp + at, joined in place: each chunk's data
 * moves down over the size lines before it.
 */
static int
dechunk(struct user *u, size_t at)
{
	size_t	 in = at, out = at, size;
	char	*nl, *endp;

	for (;;) {
		while ((nl = memchr(u->resp + in, '\n', u->have - in)) == NULL)
			if (read_more(u) == -1)
				return -1;
		size = strtoul(u->resp + in, &endp, 16);
		if (endp == u->resp + in)
			return -1;
		in = (size_t)(nl - u->resp) + 1;
		while (u->have < in + size + 2)
			if (read_more(u) == -1)
				return -1;
		if (size == 0)
			break;
		memmove(u->resp + out, u->resp + in, size);
		out += size;
		in += size + 2;
	}
	u->resp[out] = '\0';
	return 0;
}

/*
 * One request on the kept connection; the body of the answer is left at
 * *body (NUL-terminated, in u->resp). Returns the status, 0 on a broken
 * connection (reopened on the next call).
 */
static int
call(struct user *u, const char *method, const char *path, const char *json,
    char **body)
{
	char	 head[1024], *end, *cl;
	size_t	 blen = json != NULL ? strlen(json) : 0, hlen, need;
	int	 n, status;

	if (u->ssl == NULL && conn_open(u) == -1)
		return 0;
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    method, path, host, blen);
	if (n < 0 || (size_t)n >= sizeof(head))
		return 0;
	/* Head and body in one TLS record, as a buffered client sends them. */
	{
		char	*msg = malloc((size_t)n + blen);

		if (msg == NULL)
			return 0;
		memcpy(msg, head, (size_t)n);
		if (blen > 0)
			memcpy(msg + n, json, blen);
		if (SSL_write(u->ssl, msg, (int)((size_t)n + blen)) <= 0) {
			free(msg);
			conn_close(u);
			return 0;
		}
		free(msg);
	}
	u->have = 0;
	u->resp[0] = '\0';
	while ((end = strstr(u->resp, "\r\n\r\n")) == NULL) {
		if (read_more(u) == -1) {
			conn_close(u);
			return 0;
		}
	}
	hlen = (size_t)(end - u->resp) + 4;
	*end = '\0';
	if (sscanf(u->resp, "HTTP/1.1 %d", &status) != 1)
		goto bad;
	if ((cl = strcasestr(u->resp, "\r\ncontent-length:")) != NULL) {
		need = hlen + strtoul(cl + 17, NULL, 10);
		while (u->have < need)
			if (read_more(u) == -1)
				goto bad;
		u->resp[need] = '\0';
	} else if (strcasestr(u->resp, "\r\ntransfer-encoding: chunked")) {
		if (dechunk(u, hlen) == -1)
			goto bad;
	} else
		goto bad;
	*body = u->resp + hlen;
	return status;
bad:
	fprintf(stderr, "sessload: user %d: bad answer: %.300s\n", u->idx,
	    u->resp);
	conn_close(u);
	return 0;
}

static void
logline(struct user *u, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfprintf(u->logf, fmt, ap);
	va_end(ap);
}

/* The cell's stdout as the seed reads it: float(text.strip()). */
static int
verify(const char *body, double expect)
{
	struct json_object	*doc, *ed, *so;
	const char		*s;
	char			*endp;
	double			 got;
	int			 ok = 0;

	if ((doc = json_tokener_parse(body)) == NULL)
		return 0;
	if (json_object_object_get_ex(doc, "execution_details", &ed) &&
	    json_object_object_get_ex(ed, "stdout", &so) &&
	    (s = json_object_get_string(so)) != NULL) {
		errno = 0;
		got = strtod(s, &endp);
		while (*endp == ' ' || *endp == '\n' || *endp == '\t' ||
		    *endp == '\r')
			endp++;
		if (endp != s && *endp == '\0' && errno == 0)
			ok = fabs(got - expect) <= 1e-9 *
			    fmax(fabs(got), fabs(expect));
	}
	json_object_put(doc);
	return ok;
}

static void *
user_main(void *arg)
{
	struct user		*u = arg;
	struct json_object	*o, *sid;
	struct timespec		 t;
	char			 code[512], path[256], *body, *reqjson;
	const char		*s;
	long			 total = 0, lst[128], nlst = 0, arr[3] = {0}, k, m;
	int			 scen, i, j, status, verified, init;
	double			 expect = 0, sum, created;

	u->logf = open_memstream(&u->logbuf, &u->logsize);
	scen = (int)randint(u, 0, 2);
	clock_gettime(CLOCK_MONOTONIC, &t);
	o = json_object_new_object();
	json_object_object_add(o, "api_key", json_object_new_string(admin_key));
	status = call(u, "POST", "/sessions", json_object_to_json_string(o),
	    &body);
	json_object_put(o);
	created = since(&t);
	if (use_together)
		(void)pthread_barrier_wait(&together);
	if (status != 201) {
		logline(u, "create_failed %d %d\n", u->idx, status);
		if (status > 0)
			fprintf(stderr, "sessload: user %d: POST /sessions: %d "
			    "%.300s\n", u->idx, status, body);
		goto out;
	}
	logline(u, "create %d %.6f\n", u->idx, created);
	o = json_tokener_parse(body);
	if (o == NULL || !json_object_object_get_ex(o, "session_id", &sid) ||
	    (s = json_object_get_string(sid)) == NULL ||
	    strlen(s) > 200) {
		logline(u, "create_failed %d -1\n", u->idx);
		json_object_put(o);
		goto out;
	}
	snprintf(path, sizeof(path), "/sessions/%s", s);
	json_object_put(o);
	for (i = 0; i < nreq; i++) {
		init = 0;
		if (scen == 0) {
			if (i == 0) {
				total = randint(u, 1000, 9999);
				snprintf(code, sizeof(code), "x = %ld", total);
				init = 1;
			} else {
				k = randint(u, 100, 999);
				total += k;
				snprintf(code, sizeof(code),
				    "x += %ld; print(x)", k);
				expect = (double)total;
			}
		} else if (scen == 1) {
			if (i == 0 || nlst >= 127) {
				nlst = randint(u, 2, 4);
				/* Distinct, as random.sample gives them. */
				for (j = 0; j < nlst; j++) {
					int	 d, dup;

					do {
						lst[j] = randint(u, 10, 99);
						for (d = 0, dup = 0; d < j; d++)
							dup |= lst[d] == lst[j];
					} while (dup);
				}
				snprintf(code, sizeof(code),
				    "my_list = [%ld, %ld%s", lst[0], lst[1],
				    nlst == 2 ? "]" : "");
				for (j = 2; j < nlst; j++)
					snprintf(code + strlen(code),
					    sizeof(code) - strlen(code),
					    ", %ld%s", lst[j],
					    j == nlst - 1 ? "]" : "");
				init = 1;
			} else {
				k = randint(u, 100, 199);
				lst[nlst++] = k;
				for (j = 0, sum = 0; j < nlst; j++)
					sum += (double)lst[j];
				snprintf(code, sizeof(code),
				    "my_list.append(%ld); print(sum(my_list))",
				    k);
				expect = sum;
			}
		} else {
			switch (i % 3) {
			case 0:
				for (j = 0; j < 3; j++)
					arr[j] = randint(u, 10, 50);
				snprintf(code, sizeof(code), "import numpy as np;"
				    " arr = np.array([%ld, %ld, %ld])",
				    arr[0], arr[1], arr[2]);
				init = 1;
				break;
			case 1:
				m = randint(u, 2, 5);
				for (j = 0; j < 3; j++)
					arr[j] *= m;
				snprintf(code, sizeof(code),
				    "arr = arr * %ld; print(np.sum(arr))", m);
				expect = (double)(arr[0] + arr[1] + arr[2]);
				break;
			default:
				snprintf(code, sizeof(code),
				    "print(np.mean(arr))");
				expect = (double)(arr[0] + arr[1] + arr[2]) / 3;
				break;
			}
		}
		o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(code));
		json_object_object_add(o, "api_key",
		    json_object_new_string(admin_key));
		reqjson = strdup(json_object_to_json_string(o));
		json_object_put(o);
		snprintf(code, sizeof(code), "%s/execute", path);
		clock_gettime(CLOCK_MONOTONIC, &t);
		status = call(u, "POST", code, reqjson, &body);
		{
			double	 dt = since(&t);
			double	 at = (double)(t.tv_sec - t0.tv_sec) +
			    (t.tv_nsec - t0.tv_nsec) / 1e9;

			verified = status == 200 &&
			    (init || verify(body, expect));
			logline(u, "rec %d %d %d %.6f %.6f\n", u->idx, status,
			    verified, dt, at);
		}
		free(reqjson);
	}
	/* Released inside the window, not recorded (as seed 003). */
	(void)call(u, "DELETE", path, NULL, &body);
out:
	conn_close(u);
	fclose(u->logf);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct user	*us;
	pthread_t	*th;
	int		 users, i;
	uint64_t	 seed;

	if (argc != 8 && (argc != 9 || strcmp(argv[8], "together") != 0)) {
		fprintf(stderr, "usage: sessload HOST PORT CAFILE ADMIN_KEY "
		    "USERS REQUESTS SEED [together]\n");
		return 2;
	}
	use_together = argc == 9;
	host = argv[1];
	port = atoi(argv[2]);
	cafile = argv[3];
	admin_key = argv[4];
	users = atoi(argv[5]);
	nreq = atoi(argv[6]);
	seed = strtoull(argv[7], NULL, 10);
	if (users < 1 || users > 1000 || nreq < 1) {
		fprintf(stderr, "sessload: bad USERS or REQUESTS\n");
		return 2;
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	us = calloc((size_t)users, sizeof(*us));
	th = calloc((size_t)users, sizeof(*th));
	if (us == NULL || th == NULL)
		return 1;
	for (i = 0; i < users; i++) {
		us[i].idx = i;
		us[i].fd = -1;
		us[i].rng = seed * 1000003ULL + (uint64_t)i;
		if ((us[i].resp = malloc(RESP_MAX + 1)) == NULL)
			return 1;
		us[i].resp[0] = '\0';
	}
	if (use_together && pthread_barrier_init(&together, NULL,
	    (unsigned)users) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < users; i++)
		if (pthread_create(&th[i], NULL, user_main, &us[i]) != 0)
			return 1;
	for (i = 0; i < users; i++)
		pthread_join(th[i], NULL);
	printf("window %.6f\n", since(&t0));
	for (i = 0; i < users; i++) {
		fwrite(us[i].logbuf, 1, us[i].logsize, stdout);
		free(us[i].logbuf);
		free(us[i].resp);
	}
	free(us);
	free(th);
	SSL_CTX_free(ctx);
	return 0;
}
