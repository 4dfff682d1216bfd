/*
 * capture.c: byte buffers with a hard cap, and UTF-8 checks.
 *
 * A struct buf never grows past its max; what does not fit is dropped and
 * the buffer is marked truncated. This is what keeps a worker's memory
 * bounded whatever a script prints.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
