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
#include "jail/jail.h"
#include "run/run.h"

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
	of->f[of->n].fd = fd;
	of->f[of->n].size = st.st_size;
	snprintf(token, sizeof(token), "%s%zu.", of->nonce, of->n);
	of->n++;
	o = json_object_new_object();
	json_object_object_add(o, "content_base64",
	    json_object_new_string(token));
	json_object_object_add(o, "size_bytes",
	    json_object_new_int64((int64_t)st.st_size));
	return o;
}

/*
 * Returns {name: {content_base64, size_bytes} | {error[, size_bytes]}},
 * where each content_base64 is for now a placeholder, the nonce followed
 * by the file's index in of and a dot; of holds the open files. The nonce
 * is drawn after the run has ended, so no output of the script can spell
 * a placeholder. dirfd may be -1 (no workspace): every file is then "not
 * found". All files together are capped at total bytes.
 */
struct json_object *
outputs_collect(int dirfd, char **names, size_t n, long long max,
    long long total, struct outfiles *of)
{
	struct json_object	*files = json_object_new_object();
	uint8_t			 rnd[16];
	size_t			 i;

	outfiles_free(of);
	of->f = xcalloc(n ? n : 1, sizeof(*of->f));
	if (getentropy(rnd, sizeof(rnd)) == -1)
		fatal("getentropy");
	strlcpy(of->nonce, "pyexec-file-", sizeof(of->nonce));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(of->nonce + strlen(of->nonce), 3, "%02x", rnd[i]);
	strlcat(of->nonce, "-", sizeof(of->nonce));
	for (i = 0; i < n; i++) {
		json_object_object_add(files, names[i], dirfd == -1 ?
		    file_error("File not found after execution.", -1) :
		    open_one(dirfd, names[i], max, &total, of));
	}
	return files;
}

void
outfiles_free(struct outfiles *of)
{
	size_t	 i;

	for (i = 0; i < of->n; i++)
		close_quietly(&of->f[i].fd);
	free(of->f);
	memset(of, 0, sizeof(*of));
}
