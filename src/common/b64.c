/*
 * b64.c: RFC 4648 base64 with the standard alphabet. Pure functions over
 * caller-supplied buffers; no allocation.
 *
 * Decoding is strict: the only bytes tolerated outside the alphabet are
 * CR and LF (MIME-style line breaks). Padding must be correct, nothing may
 * follow it, and the unused bits of the last quantum must be zero, so every
 * byte string has exactly one accepted encoding (modulo line breaks).
 */
#include "config.h"

#include <string.h>

#include "common/common.h"

static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
b64_encoded_len(size_t n)
{
	return ((n + 2) / 3) * 4;
}

/* out must hold b64_encoded_len(n) + 1 bytes; it is NUL-terminated. */
void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t	 i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = b64_alpha[v >> 6 & 63];
		out[o++] = b64_alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = b64_alpha[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* An upper bound on the decoded size of inlen input bytes. */
size_t
b64_decoded_max(size_t inlen)
{
	return (inlen / 4) * 3 + 3;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes in[0..inlen) into out (capacity outcap). Returns 0 and sets
 * *outlen, or -1 on any malformed input or if out is too small.
 */
int
b64_decode(const char *in, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 nq = 0, npad = 0, v;
	unsigned char	 c;

	for (i = 0; i < inlen; i++) {
		c = (unsigned char)in[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* Padding only in the last two places of a quantum. */
			if (nq < 2)
				return -1;
			npad++;
			nq++;
			if (nq == 4) {
				/*
				 * acc holds the quantum's 24 bits, first
				 * character highest; the padding '='s added
				 * zeros below bit 12 (or 6). What is left
				 * under the last output byte must be zero.
				 */
				if (npad == 2) {
					if (acc & 0xffff)	/* 4 unused bits */
						return -1;
					if (o + 1 > outcap)
						return -1;
					out[o++] = (uint8_t)(acc >> 16 & 0xff);
				} else {
					if (acc & 0xff)		/* 2 unused bits */
						return -1;
					if (o + 2 > outcap)
						return -1;
					out[o++] = (uint8_t)(acc >> 16 & 0xff);
					out[o++] = (uint8_t)(acc >> 8 & 0xff);
				}
				nq = 0;
				acc = 0;
				/* Nothing but line breaks may follow padding. */
				for (i++; i < inlen; i++)
					if (in[i] != '\r' && in[i] != '\n')
						return -1;
				*outlen = o;
				return 0;
			}
			continue;
		}
		if (npad)
			return -1;	/* data after '=' in the same quantum */
		if ((v = b64_val(c)) < 0)
			return -1;
		acc |= (uint32_t)v << (18 - 6 * nq);
		if (++nq == 4) {
			if (o + 3 > outcap)
				return -1;
			out[o++] = (uint8_t)(acc >> 16 & 0xff);
			out[o++] = (uint8_t)(acc >> 8 & 0xff);
			out[o++] = (uint8_t)(acc & 0xff);
			nq = 0;
			acc = 0;
		}
	}
	if (nq != 0)
		return -1;	/* unpadded tail */
	*outlen = o;
	return 0;
}
