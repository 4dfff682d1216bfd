/*
 * compat.h: the pure parts of compat.c (ids, paths, query strings,
 * UTF-8), apart so that the unit tests and a fuzzer reach them: they
 * read client bytes and nothing else.
 */
#ifndef PYX_COMPAT_H
#define PYX_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#define COMPAT_ID_MAX	128	/* a client's session id, bytes */

bool	 compat_id_ok(const char *);
bool	 compat_norm_path(const char *, char *, size_t);
bool	 compat_enc_path(const char *, char *, size_t);
bool	 compat_query_get(const char *, const char *, char *, size_t);
bool	 compat_utf8_ok(const unsigned char *, size_t);

#endif
