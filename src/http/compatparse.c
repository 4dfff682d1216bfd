/*
 * compatparse.c: what the /compat routes read from a client before any
 * native request: its session ids, file paths, query strings and file
 * text. Pure functions over bounded buffers (see compat.h).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "http/compat.h"

/*
 * A client's session id: any text, but not one a path could misread (the
 * original services made it a directory name: "." was every session).
 */
bool
compat_id_ok(const char *id)
{
	size_t	 i, n = strlen(id);

	if (n == 0 || n > COMPAT_ID_MAX || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f ||
		    id[i] == '/' || id[i] == '\\')
			return false;
	return true;
}


/* A path for a native route: each byte but unreserved ones and '/' as %XX. */
bool
compat_enc_path(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 o = 0;
	unsigned char	 ch;

	for (; *in != '\0'; in++) {
		ch = (unsigned char)*in;
		if (o + 4 > outlen)
			return false;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~' || ch == '/')
			out[o++] = (char)ch;
		else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return true;
}

/* Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF. */
bool
compat_utf8_ok(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
		} else
			return false;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}


/* "a//b/./c" is "a/b/c"; NULL for "..", an absolute path or nothing. */
bool
compat_norm_path(const char *in, char *out, size_t outlen)
{
	const char	*p = in, *e;
	size_t		 o = 0, n;

	if (*in == '/' || *in == '\0')
		return false;
	while (*p != '\0') {
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > outlen)
				return false;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = *e == '/' ? e + 1 : e;
	}
	out[o] = '\0';
	return o > 0;
}


/* The query's value of key, percent- and '+'-decoded, into out. */
bool
compat_query_get(const char *q, const char *key, char *out, size_t outlen)
{
	size_t		 klen = strlen(key), o = 0;
	const char	*p = q, *e;
	int		 hi, lo;

	if (outlen == 0)
		return false;
	while (p != NULL && *p != '\0') {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			for (p += klen + 1; p < e; p++) {
				if (o + 1 >= outlen)
					return false;
				if (*p == '+')
					out[o++] = ' ';
				else if (*p == '%' && e - p >= 3 &&
				    (hi = hex_digit(p[1])) >= 0 &&
				    (lo = hex_digit(p[2])) >= 0) {
					out[o++] = (char)(hi << 4 | lo);
					p += 2;
				} else
					out[o++] = *p;
			}
			out[o] = '\0';
			return strlen(out) == o;	/* no NUL inside */
		}
		p = *e == '&' ? e + 1 : e;
	}
	return false;
}

