/*
 * names.c: the one rule for the names of attachments and return files,
 * shared by the request parser (the worker) and the jail's init, which
 * checks again every name it reads from the data stream.
 *
 * Pure: no allocation, no I/O. Part of the jail library.
 */
#include "config.h"

#include <stddef.h>

#include "jail/jail.h"

/*
 * A path for an attachment or a returned file: relative, at most
 * PYX_NAME_MAX bytes and PYX_DEPTH_MAX components, no empty, "." or ".."
 * component, no control characters. Returns 0 or -1 with *why set.
 */
int
name_check(const char *s, size_t n, const char **why)
{
	size_t	 i, start = 0, depth = 0, clen;

	if (n == 0) {
		*why = "is empty";
		return -1;
	}
	if (n > PYX_NAME_MAX) {
		*why = "is longer than 255 bytes";
		return -1;
	}
	if (s[0] == '/') {
		*why = "must be a relative path";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*why = "contains a control character";
			return -1;
		}
	}
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		clen = i - start;
		if (clen == 0) {
			*why = "has an empty path component";
			return -1;
		}
		if (clen == 2 && s[start] == '.' && s[start + 1] == '.') {
			*why = "must not contain '..'";
			return -1;
		}
		if (clen == 1 && s[start] == '.') {
			*why = "must not contain '.' components";
			return -1;
		}
		if (++depth > PYX_DEPTH_MAX) {
			*why = "has too many path components";
			return -1;
		}
		start = i + 1;
	}
	return 0;
}
