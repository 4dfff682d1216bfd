/*
 * outputs.c: reads the files a caller asked back, from the workspace of a
 * finished run. Owns nothing past the JSON object it returns.
 *
 * The worker holds an O_PATH fd of the jail's /work, received from the
 * jail's init; it is only used after every process of the run is dead, so
 * nothing can race the reads. Every open goes through openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV: the kernel refuses any path that would leave the
 * workspace, follow a symlink at any component, or cross into another
 * mount. Hard links cannot point outside either: the workspace is its own
 * tmpfs, and links never cross file systems. Only regular files are read
 * (O_NONBLOCK so a FIFO cannot stall the worker), each capped, and all of
 * them together capped at max_return_bytes (and the workspace size). The
 * files stay open until the reply is sent: their content is encoded into
 * it as it goes out, so a worker never holds more than a chunk of it.
 *
 * A name ending in '/' asks for every regular file beneath that directory,
 * a name with a glob character (* ? [) for every regular file whose path
 * matches it (fnmatch, '*' never crossing a '/', hidden names only when
 * spelled). Both are expanded by walking directories opened the same way
 * (openat2, never through a symlink; symlinks and other non-files are
 * skipped), to a bounded depth and number of entries, and return the
 * matches in byte order, as many as max_return_files allows in all.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/common.h"
#include "jail/jail.h"
#include "run/run.h"

/* Entries read from directories while expanding one request's names. */
#define WALK_ENTRIES_MAX	100000

/*
 * No O_NOFOLLOW here: RESOLVE_NO_SYMLINKS already refuses a symlink at any
 * component, the last included, and says so (ELOOP, not ENOTDIR).
 */
static int
open_how_beneath(int dirfd, const char *name, int flags)
{
	struct open_how	 how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

static int
open_beneath(int dirfd, const char *name)
{
	struct open_how	 how;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

static struct json_object *
file_error(const char *msg, long long size)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	if (size >= 0)
		json_object_object_add(o, "size_bytes",
		    json_object_new_int64(size));
	return o;
}

/*
 * A file to return: checked and opened now, its content base64-encoded
 * straight into the reply when that is sent (fcgi.c), never held whole in
 * memory. Sizes count as st_size says: a sparse file costs the reply its
 * full size, holes included, so it counts in full.
 */
static struct json_object *
open_one(int dirfd, const char *name, long long max, long long *budget,
    struct outfiles *of)
{
	struct json_object	*o;
	struct outfile		 part;
	struct stat		 st;
	char			 token[OUTF_TOKEN_MAX];
	int			 fd;

	if ((fd = open_beneath(dirfd, name)) == -1) {
		switch (errno) {
		case ENOENT:
		case ENOTDIR:
			return file_error("File not found after execution.", -1);
		case ELOOP:
			return file_error("Symbolic links are not returned.", -1);
		case EXDEV:
			return file_error("Path leaves the workspace.", -1);
		default:
			return file_error("File could not be opened.", -1);
		}
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return file_error("File could not be read.", -1);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return file_error("Not a regular file.", -1);
	}
	if (st.st_size > max) {
		close(fd);
		return file_error("File is too large to return.", st.st_size);
	}
	if (st.st_size > *budget) {
		close(fd);
		return file_error("Returned files together exceed "
		    "max_return_bytes.", st.st_size);
	}
	*budget -= st.st_size;
	part.kind = PART_FILE_B64;
	part.fd = fd;
	part.mem = NULL;
	part.size = st.st_size;
	part.enc_len = b64_encoded_len((size_t)st.st_size);
	outfiles_add(of, &part, token);
	o = json_object_new_object();
	json_object_object_add(o, "content_base64",
	    json_object_new_string(token));
	json_object_object_add(o, "size_bytes",
	    json_object_new_int64((int64_t)st.st_size));
	return o;
}

/*
 * The matches of one pattern or directory: the smallest names in byte
 * order, at most cap of them (memory stays bounded whatever the script
 * made), and how many there were in all.
 */
struct matches {
	char		**name;
	size_t		 n;
	size_t		 cap;
	size_t		 total;
	size_t		 scanned;	/* entries read, the whole request */
};

static void
matches_add(struct matches *m, const char *name)
{
	size_t	 i;

	m->total++;
	if (m->cap == 0)
		return;
	for (i = m->n; i > 0 && strcmp(m->name[i - 1], name) > 0; i--)
		;
	if (i == m->cap)
		return;		/* larger than every name kept */
	if (m->n == m->cap) {
		free(m->name[m->n - 1]);
		m->n--;
	}
	memmove(m->name + i + 1, m->name + i, (m->n - i) * sizeof(char *));
	m->name[i] = xstrndup(name, strlen(name));
	m->n++;
}

static void
matches_clear(struct matches *m)
{
	size_t	 i;

	for (i = 0; i < m->n; i++)
		free(m->name[i]);
	m->n = 0;
	m->total = 0;
}

/* The first k components of a pattern, to prune directories early. */
static bool
prefix_matches(const char *pattern, const char *path, int k)
{
	char		 pre[PYX_NAME_MAX + 1];
	const char	*p = pattern;
	size_t		 len;

	while (k-- > 0 && p != NULL)
		if ((p = strchr(p, '/')) != NULL && k > 0)
			p++;
	len = p == NULL ? strlen(pattern) : (size_t)(p - pattern);
	if (len > PYX_NAME_MAX)
		return false;
	memcpy(pre, pattern, len);
	pre[len] = '\0';
	return fnmatch(pre, path, FNM_PATHNAME | FNM_PERIOD) == 0;
}

static int
components(const char *s)
{
	int	 n = 1;

	for (; *s != '\0'; s++)
		n += *s == '/';
	return n;
}

/*
 * Every regular file beneath the directory dfd (whose path is path[0..len),
 * "" for /work itself): all of them (pattern NULL), or those matching
 * pattern. Takes dfd. Symlinks are never followed: the entries are judged
 * by their own type, and directories are opened with openat2 as files are.
 */
static void
walk(int dfd, char *path, size_t len, int depth, const char *pattern,
    int maxdepth, struct matches *m)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	const char	*why;
	size_t		 nl, sub, chars;
	int		 type, cfd;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL && m->scanned < WALK_ENTRIES_MAX) {
		m->scanned++;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		nl = strlen(e->d_name);
		sub = len + (len > 0) + nl;
		if (sub > PYX_NAME_MAX)
			continue;
		if (len > 0)
			path[len] = '/';
		memcpy(path + len + (len > 0), e->d_name, nl + 1);
		/* Names that could not be asked for cannot come back either. */
		if (name_check(path, sub, &why) == -1 ||
		    utf8_count(path, sub, &chars) == -1)
			goto next;
		type = e->d_type;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), e->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				goto next;
			type = S_ISREG(st.st_mode) ? DT_REG :
			    S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
		}
		if (type == DT_REG && (pattern == NULL ||
		    fnmatch(pattern, path, FNM_PATHNAME | FNM_PERIOD) == 0))
			matches_add(m, path);
		else if (type == DT_DIR && depth + 1 < maxdepth &&
		    (pattern == NULL || prefix_matches(pattern, path, depth + 1)) &&
		    (cfd = open_how_beneath(dirfd(d), e->d_name, O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) != -1)
			walk(cfd, path, sub, depth + 1, pattern, maxdepth, m);
next:
		path[len] = '\0';
	}
	closedir(d);
}

static bool
is_pattern(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}

static bool
is_dir_name(const char *name)
{
	size_t	 n = strlen(name);

	return n > 1 && name[n - 1] == '/';
}

/*
 * Expands a pattern or a directory into files (each added to files under
 * its own path, in byte order, while room lasts); the entry itself gets an
 * error only when nothing or not everything could be returned.
 */
static size_t
expand(int dirfd, const char *entry, size_t room, long long max,
    long long *budget, struct outfiles *of, struct json_object *files,
    struct matches *m)
{
	char	 path[PYX_NAME_MAX + 2], dir[PYX_NAME_MAX + 2], msg[160];
	size_t	 i, added = 0, dups = 0, len = 0;
	int	 dfd, depth = 0;

	matches_clear(m);
	m->cap = room + 1;
	if (is_dir_name(entry)) {
		strlcpy(dir, entry, sizeof(dir));
		dir[strlen(dir) - 1] = '\0';
		if ((dfd = open_how_beneath(dirfd, dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			json_object_object_add(files, entry, file_error(errno ==
			    ELOOP ? "Symbolic links are not returned." :
			    errno == ENOTDIR ? "Not a directory." :
			    "Directory not found after execution.", -1));
			return 0;
		}
		len = strlcpy(path, dir, sizeof(path));
		depth = components(dir);
		walk(dfd, path, len, depth, NULL, PYX_DEPTH_MAX, m);
	} else {
		if ((dfd = open_how_beneath(dirfd, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			json_object_object_add(files, entry,
			    file_error("No file matches.", -1));
			return 0;
		}
		path[0] = '\0';
		walk(dfd, path, 0, 0, entry, components(entry), m);
	}
	for (i = 0; i < m->n; i++) {
		if (json_object_object_get_ex(files, m->name[i], NULL)) {
			dups++;		/* asked for already */
			continue;
		}
		if (added == room)
			break;
		json_object_object_add(files, m->name[i],
		    open_one(dirfd, m->name[i], max, budget, of));
		added++;
	}
	if (m->total == 0)
		json_object_object_add(files, entry, file_error(is_dir_name(entry) ?
		    "No file beneath this directory." : "No file matches.", -1));
	else if (added + dups < m->total) {
		snprintf(msg, sizeof(msg), "%zu files match; %zu more than "
		    "max_return_files allows were not returned (the first in "
		    "name order were).", m->total, m->total - added - dups);
		json_object_object_add(files, entry, file_error(msg, -1));
	}
	if (m->scanned >= WALK_ENTRIES_MAX)
		log_warnx("return_files: stopped after %d directory entries",
		    WALK_ENTRIES_MAX);
	return added;
}

/*
 * Returns {name: {content_base64, size_bytes} | {error[, size_bytes]}},
 * where each content_base64 is for now a placeholder (outfiles_add); of
 * holds the open files. dirfd may be -1 (no workspace): every file is then "not
 * found". All files together are capped at total bytes, and patterns and
 * directories add files while fewer than maxfiles are returned in all.
 */
struct json_object *
outputs_collect(int dirfd, char **names, size_t n, long long max,
    long long total, size_t maxfiles, struct outfiles *of)
{
	struct json_object	*files = json_object_new_object();
	struct matches		 m;
	size_t			 i, used = 0;

	outfiles_free(of);
	memset(&m, 0, sizeof(m));
	m.name = xcalloc(maxfiles + 1, sizeof(*m.name));
	/* Names asked for exactly come first, in the order asked. */
	for (i = 0; i < n; i++) {
		if (is_pattern(names[i]) || is_dir_name(names[i]))
			continue;
		used++;
		json_object_object_add(files, names[i], dirfd == -1 ?
		    file_error("File not found after execution.", -1) :
		    open_one(dirfd, names[i], max, &total, of));
	}
	for (i = 0; i < n; i++) {
		if (!is_pattern(names[i]) && !is_dir_name(names[i]))
			continue;
		if (dirfd == -1)
			json_object_object_add(files, names[i],
			    file_error("No file matches.", -1));
		else
			used += expand(dirfd, names[i], maxfiles > used ?
			    maxfiles - used : 0, max, &total, of, files, &m);
	}
	matches_clear(&m);
	free(m.name);
	return files;
}

/*
 * Appends a part; token gets its placeholder. The nonce is drawn at the
 * first, after the run has ended, so no output of the script can spell
 * a placeholder.
 */
void
outfiles_add(struct outfiles *of, const struct outfile *part,
    char token[OUTF_TOKEN_MAX])
{
	uint8_t		 rnd[16];
	size_t		 i;

	if (of->nonce[0] == '\0') {
		if (getentropy(rnd, sizeof(rnd)) == -1)
			fatal("getentropy");
		strlcpy(of->nonce, "pyexec-part-", sizeof(of->nonce));
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(of->nonce + strlen(of->nonce), 3, "%02x",
			    rnd[i]);
		strlcat(of->nonce, "-", sizeof(of->nonce));
	}
	if (of->n == of->cap) {
		of->cap = of->cap ? of->cap * 2 : 8;
		of->f = xreallocarray(of->f, of->cap, sizeof(*of->f));
	}
	of->f[of->n] = *part;
	snprintf(token, OUTF_TOKEN_MAX, "%s%zu.", of->nonce, of->n);
	of->n++;
}

/* Takes *mem (a run's output buffer) over: freed with the parts. */
void
outfiles_own(struct outfiles *of, char **mem)
{
	size_t	 i;

	for (i = 0; i < sizeof(of->own) / sizeof(of->own[0]); i++)
		if (of->own[i] == NULL) {
			of->own[i] = *mem;
			*mem = NULL;
			return;
		}
	fatalx("outfiles_own: no room");
}

/* What the placeholders become, together. */
size_t
outfiles_enc_len(const struct outfiles *of)
{
	size_t	 i, sum = 0;

	for (i = 0; i < of->n; i++)
		sum += of->f[i].enc_len;
	return sum;
}

void
outfiles_free(struct outfiles *of)
{
	size_t	 i;

	for (i = 0; i < of->n; i++)
		if (of->f[i].kind == PART_FILE_B64)
			close_quietly(&of->f[i].fd);
	for (i = 0; i < sizeof(of->own) / sizeof(of->own[0]); i++)
		free(of->own[i]);
	free(of->f);
	memset(of, 0, sizeof(*of));
}
