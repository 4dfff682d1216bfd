/*
 * capture.c: byte buffers with a hard cap, and UTF-8 checks.
 *
 * A struct buf never grows past its max; what does not fit is dropped and
 * the buffer is marked truncated. This is what keeps a worker's memory
 * bounded whatever a script prints.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Returns how many bytes were kept. */
size_t
buf_append(struct buf *b, const void *p, size_t n)
{
	size_t	 room, keep, ncap;

	room = b->max - b->len;
	keep = n < room ? n : room;
	if (keep < n)
		b->truncated = true;
	if (keep == 0)
		return 0;
	if (b->len + keep > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + keep)
			ncap *= 2;
		if (ncap > b->max)
			ncap = b->max;
		b->data = xreallocarray(b->data, ncap + 1, 1);
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, keep);
	b->len += keep;
	b->data[b->len] = '\0';
	return keep;
}

/*
 * Reads from fd straight into b (no bounce buffer: output is copied once
 * between the pipe and the reply, fcgi.c). The buffer starts small and
 * doubles up to max, so memory follows the output, not the cap; a move
 * when it grows copies at most what it held (glibc moves large blocks
 * by remapping them, without a copy). At max, a read into scratch only
 * tells whether there was more (b->truncated). Returns bytes read (the
 * scratch read counts), 0 at EOF, -1 on error (errno; EAGAIN when empty).
 */
ssize_t
buf_read(struct buf *b, int fd)
{
	size_t	 ncap;
	ssize_t	 n;
	char	 scratch[4096];

	if (b->len == b->max) {
		if ((n = read(fd, scratch, sizeof(scratch))) > 0)
			b->truncated = true;
		return n;
	}
	if (b->len == b->cap) {
		ncap = b->cap == 0 ? BUF_FIRST : b->cap * 2;
		if (ncap > b->max)
			ncap = b->max;
		b->data = xreallocarray(b->data, ncap + 1, 1);
		b->cap = ncap;
	}
	if ((n = read(fd, b->data + b->len, b->cap - b->len)) > 0) {
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	return n;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 if the bytes
 * there are not one (overlong forms, surrogates and code points above
 * U+10FFFF are rejected). need is set to the length the lead byte asks for.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, size_t *need)
{
	unsigned char	 c = s[0];
	size_t		 len, i;
	uint32_t	 cp;

	if (c < 0x80) {
		*need = 1;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		*need = 1;
		return 0;
	}
	*need = len;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Counts code points; -1 if s is not valid UTF-8. */
int
utf8_count(const char *s, size_t n, size_t *count)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 i = 0, c = 0, len, need;

	while (i < n) {
		if ((len = utf8_seq(p + i, n - i, &need)) == 0)
			return -1;
		i += len;
		c++;
	}
	*count = c;
	return 0;
}

/*
 * For output cut at a byte cap: the length without a trailing sequence
 * that was cut short, so truncation itself never looks like bad UTF-8.
 */
size_t
utf8_complete_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 back, need, start;

	for (back = 1; back <= 3 && back <= n; back++) {
		start = n - back;
		if ((p[start] & 0xc0) == 0x80)
			continue;	/* continuation byte: keep looking */
		if (p[start] >= 0xc2 && p[start] <= 0xf4) {
			(void)utf8_seq(p + start, back, &need);
			if (need > back)
				return start;
		}
		break;
	}
	return n;
}

/*
 * The length of the longest prefix of NUL-terminated, valid UTF-8 s that
 * is at most max bytes and ends between two characters: for "%.*s".
 */
size_t
utf8_cut(const char *s, size_t max)
{
	size_t	 n = strnlen(s, max);

	return n < max ? n : utf8_complete_len(s, n);
}

/*
 * Returns a NUL-terminated copy of s in which every byte that is not part
 * of a well-formed sequence became U+FFFD; *lossy says whether any did.
 */
char *
utf8_sanitize(const char *s, size_t n, size_t *outlen, bool *lossy)
{
	const unsigned char *p = (const unsigned char *)s;
	char	*out;
	size_t	 i = 0, o = 0, len, need;

	*lossy = false;
	out = xreallocarray(NULL, n + 1, 3);	/* worst case: all bad */
	while (i < n) {
		if ((len = utf8_seq(p + i, n - i, &need)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			*lossy = true;
			continue;
		}
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * Output as the text of a JSON string, written in place: invalid bytes
 * become U+FFFD (as utf8_sanitize), '"', '\\' and control characters are
 * escaped, the rest is copied as it is. json_text_len measures it without
 * writing; json_text_put writes whole units only (never half an escape or
 * character) into dst, from s + *pos on, and moves *pos past them.
 */
#define JSON_UNIT_MAX	6	/* \u001f */

static size_t
json_unit(const unsigned char *p, size_t n, size_t *used, char *out,
    bool *lossy)
{
	static const char hex[] = "0123456789abcdef";
	const char	*esc = NULL;
	size_t		 len, need;

	if ((len = utf8_seq(p, n, &need)) == 0) {
		*used = 1;
		*lossy = true;
		memcpy(out, "\xef\xbf\xbd", 3);
		return 3;
	}
	*used = len;
	if (len > 1) {
		memcpy(out, p, len);
		return len;
	}
	switch (p[0]) {
	case '"':
		esc = "\\\"";
		break;
	case '\\':
		esc = "\\\\";
		break;
	case '\n':
		esc = "\\n";
		break;
	case '\r':
		esc = "\\r";
		break;
	case '\t':
		esc = "\\t";
		break;
	default:
		break;
	}
	if (esc != NULL) {
		memcpy(out, esc, 2);
		return 2;
	}
	if (p[0] >= 0x20) {
		out[0] = (char)p[0];
		return 1;
	}
	memcpy(out, "\\u00", 4);
	out[4] = hex[p[0] >> 4];
	out[5] = hex[p[0] & 0xf];
	return 6;
}

size_t
json_text_len(const char *s, size_t n, bool *lossy)
{
	const unsigned char *p = (const unsigned char *)s;
	char	 unit[JSON_UNIT_MAX];
	size_t	 i = 0, out = 0, used;

	*lossy = false;
	while (i < n) {
		/* The common case, printable ASCII, without a unit. */
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' &&
		    p[i] != '\\') {
			i++;
			out++;
			continue;
		}
		out += json_unit(p + i, n - i, &used, unit, lossy);
		i += used;
	}
	return out;
}

size_t
json_text_put(const char *s, size_t n, size_t *pos, char *dst, size_t room)
{
	const unsigned char *p = (const unsigned char *)s;
	char	 unit[JSON_UNIT_MAX];
	size_t	 i = *pos, o = 0, used, len;
	bool	 lossy;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' &&
		    p[i] != '\\') {
			if (o == room)
				break;
			dst[o++] = (char)p[i++];
			continue;
		}
		len = json_unit(p + i, n - i, &used, unit, &lossy);
		if (room - o < len)
			break;
		memcpy(dst + o, unit, len);
		o += len;
		i += used;
	}
	*pos = i;
	return o;
}
