/*
 * workspace.c: a session's files read by the worker itself, from the
 * O_PATH fd of the jail's /work that the keeper's banner carries.
 *
 * Why here and not in the session: the session's driver is the user's
 * code (a cell can rewrite it), and file reads are not charged, so a read
 * served by the driver would be user code run for free, after the daily
 * quota too. The worker runs no code of the session: it reads files,
 * with its own unprivileged uid, like outputs.c reads return files.
 *
 * The session may be running background processes that change the tree
 * while we read: every open is one openat2() from a directory fd with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV (no symlink at any component, no way out of the
 * workspace, no mount the jail stacked on it), every stat is
 * AT_SYMLINK_NOFOLLOW on a directory fd, and only regular files are read
 * (O_NONBLOCK: a FIFO cannot stall us), capped while reading, not only by
 * their size at open. Hard links cannot point outside: the workspace is
 * its own tmpfs. Owns nothing past what it returns.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"

#define WS_MAX_ENTRIES	10000	/* a listing's entries */
#define WS_MAX_DEPTH	64	/* directories deep (each holds an fd) */

static int
open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how	 how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/* The file_error codes of the /sessions routes (sessions.c's table). */
static const char *
why(int err)
{
	switch (err) {
	case ELOOP:
		return "symlink";	/* RESOLVE_NO_SYMLINKS, O_NOFOLLOW */
	case ENOENT:
		return "notfound";
	case ENOTDIR:
		return "notdir";
	case EISDIR:
		return "isdir";
	case EACCES:
	case EPERM:
		return "denied";
	case ENXIO:			/* a socket */
	case EXDEV:			/* a mount the session stacked */
		return "notfile";
	default:
		return "oserror";
	}
}

int
ws_read(int ws, const char *path, long long max, char **data, size_t *len,
    const char **err)
{
	struct stat	 st;
	char		*buf;
	size_t		 got = 0, cap;
	ssize_t		 n;
	int		 fd;

	*data = NULL;
	*len = 0;
	if ((fd = open_beneath(ws, path, O_RDONLY)) == -1) {
		*err = why(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		*err = S_ISDIR(st.st_mode) ? "isdir" : "notfile";
		close(fd);
		return -1;
	}
	if (st.st_size > max) {
		*err = "toolarge";
		close(fd);
		return -1;
	}
	/* The size may grow while we read: the cap holds, not the stat. */
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap);
	for (;;) {
		if (got == cap) {
			if ((long long)cap > max) {
				*err = "toolarge";
				goto fail;
			}
			cap = (long long)cap * 2 > max + 1 ? (size_t)max + 1 :
			    cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*err = why(errno);
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if ((long long)got > max) {
		*err = "toolarge";
		goto fail;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
fail:
	close(fd);
	free(buf);
	return -1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One directory, its entries sorted by name (bytes: UTF-8 code point
 * order), recursing into subdirectories. Names that are not UTF-8 cannot
 * be said in JSON, nor named by a route: left out.
 */
static void
list_dir(int dfd, char *path, size_t plen, int depth, struct json_object *arr)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		**names = NULL;
	size_t		 n = 0, cap = 0, i, nlen, nchars;
	struct json_object *o;
	const char	*type;
	int		 sub;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		nlen = strlen(de->d_name);
		if (utf8_count(de->d_name, nlen, &nchars) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n] = xmalloc(nlen + 1);
		memcpy(names[n++], de->d_name, nlen + 1);
		if (n >= WS_MAX_ENTRIES)
			break;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		nlen = strlen(names[i]);
		if (json_object_array_length(arr) >= WS_MAX_ENTRIES ||
		    plen + nlen + 2 > PATH_MAX ||
		    fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISLNK(st.st_mode))
			type = "symlink";
		else if (S_ISDIR(st.st_mode))
			type = "dir";
		else if (S_ISREG(st.st_mode))
			type = "file";
		else
			continue;	/* FIFOs, sockets: not files of the API */
		memcpy(path + plen, names[i], nlen + 1);
		o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(path));
		json_object_object_add(o, "size_bytes", json_object_new_int64(
		    S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0));
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_array_add(arr, o);
		if (S_ISDIR(st.st_mode) && depth < WS_MAX_DEPTH &&
		    (sub = open_beneath(dirfd(d), names[i], O_RDONLY |
		    O_DIRECTORY)) != -1) {
			path[plen + nlen] = '/';
			path[plen + nlen + 1] = '\0';
			list_dir(sub, path, plen + nlen + 1, depth + 1, arr);
		}
		path[plen] = '\0';
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

struct json_object *
ws_list(int ws)
{
	struct json_object	*arr;
	char			 path[PATH_MAX];
	int			 fd;

	if ((fd = open_beneath(ws, ".", O_RDONLY | O_DIRECTORY)) == -1)
		return NULL;
	arr = json_object_new_array();
	path[0] = '\0';
	list_dir(fd, path, 0, 0, arr);
	return arr;
}
