/*
 * test_workspace.c: a session's files as the worker reads them
 * (src/run/workspace.c), in a directory made here: symbolic links never
 * followed at any component, nothing outside reached, only regular
 * files read, the cap held, the listing sorted and complete.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "run/run.h"
#include "tap.h"

static char	 top[64];

static void
put(const char *rel, const char *text)
{
	char	 p[256];
	int	 fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		abort();
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

static void
at(const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", top, rel);
}

/* ws_read's outcome: the bytes, or "!" and the error code. */
static const char *
rd(int ws, const char *path, long long max)
{
	static char	 got[128];
	const char	*why = NULL;
	char		*data;
	size_t		 len;

	if (ws_read(ws, path, max, &data, &len, &why) == -1) {
		snprintf(got, sizeof(got), "!%s", why ? why : "?");
		return got;
	}
	snprintf(got, sizeof(got), "%.*s", (int)len, data);
	free(data);
	return got;
}

static int
have_openat2(int dirfd)
{
	struct open_how	 how;
	int		 fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	if ((fd = (int)syscall(SYS_openat2, dirfd, ".", &how, sizeof(how))) ==
	    -1)
		return errno != ENOSYS;
	close(fd);
	return 1;
}

int
main(void)
{
	char			 p[256], q[256], outside[64];
	struct json_object	*arr, *e;
	const char		*list;
	int			 ws;

	plan(14);
	strlcpy(top, "/tmp/pyx-ws.XXXXXX", sizeof(top));
	strlcpy(outside, "/tmp/pyx-out.XXXXXX", sizeof(outside));
	if (mkdtemp(top) == NULL || mkdtemp(outside) == NULL)
		abort();
	snprintf(p, sizeof(p), "%s/secret", outside);
	if (close(open(p, O_WRONLY | O_CREAT, 0644)) == -1)
		abort();
	put("a.txt", "hello");
	at("d", p, sizeof(p));
	(void)mkdir(p, 0755);
	put("d/b.txt", "inner");
	put("big", "0123456789");
	at("link", p, sizeof(p));
	(void)symlink("a.txt", p);
	at("up", p, sizeof(p));
	snprintf(q, sizeof(q), "%s/secret", outside);
	(void)symlink(q, p);
	at("dl", p, sizeof(p));
	(void)symlink(outside, p);
	at("pipe", p, sizeof(p));
	(void)mkfifo(p, 0644);
	at("bad\xff", p, sizeof(p));
	(void)mkdir(p, 0755);

	if ((ws = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	if (!have_openat2(ws)) {
		/* valgrind does not know the syscall: nothing runs without it. */
		skip(14, "no openat2 here (valgrind)");
		goto out;
	}
	is_str(rd(ws, "a.txt", 100), "hello", "a file is read");
	is_str(rd(ws, "d/b.txt", 100), "inner", "beneath a directory");
	is_str(rd(ws, "link", 100), "!symlink", "a symlink, even inside, is "
	    "not followed");
	is_str(rd(ws, "up", 100), "!symlink", "nor one to a host file");
	is_str(rd(ws, "dl/secret", 100), "!symlink", "nor one as a directory");
	is_str(rd(ws, "../pyx-x/secret", 100), "!notfile",
	    "'..' never leaves (RESOLVE_BENEATH: EXDEV)");
	is_str(rd(ws, "pipe", 100), "!notfile", "a FIFO is not read (and does "
	    "not block)");
	is_str(rd(ws, "d", 100), "!isdir", "a directory is not a file");
	is_str(rd(ws, "nope", 100), "!notfound", "a missing file");
	is_str(rd(ws, "big", 9), "!toolarge", "the cap holds");
	is_str(rd(ws, "big", 10), "0123456789", "at the cap, read whole");

	arr = ws_list(ws);
	ok(arr != NULL, "a listing");
	list = arr ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN)
	    : "";
	is_str(list, "[{\"path\":\"a.txt\",\"size_bytes\":5,\"type\":\"file\"},"
	    "{\"path\":\"big\",\"size_bytes\":10,\"type\":\"file\"},"
	    "{\"path\":\"d\",\"size_bytes\":0,\"type\":\"dir\"},"
	    "{\"path\":\"d\\/b.txt\",\"size_bytes\":5,\"type\":\"file\"},"
	    "{\"path\":\"dl\",\"size_bytes\":0,\"type\":\"symlink\"},"
	    "{\"path\":\"link\",\"size_bytes\":0,\"type\":\"symlink\"},"
	    "{\"path\":\"up\",\"size_bytes\":0,\"type\":\"symlink\"}]",
	    "sorted, nested, links as links, no FIFO, no name that is not "
	    "UTF-8");
	e = arr ? json_object_array_get_idx(arr, 0) : NULL;
	ok(e != NULL, "entries are objects");
	json_object_put(arr);
out:
	close(ws);

	snprintf(p, sizeof(p), "rm -rf '%s' '%s'", top, outside);
	if (system(p) != 0)
		diag("could not remove %s", top);
	return done_testing();
}
