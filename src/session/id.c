/*
 * id.c: session ids and the keyed hash that names a session on disk.
 *
 * An id is the bearer capability for a session: SESS_ID_RAND bytes from
 * the kernel's CSPRNG, URL-safe. It is never written anywhere: the
 * session's socket is named by SipHash-2-4 (128-bit output) of the id
 * under a random key that lives only in runtime_dir (0600) and in the
 * workers' memory, so a file listing reveals no id and cannot be turned
 * into one.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <string.h>

#include "session/session.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
sess_id_encode(const uint8_t *r, char *out)
{
	size_t	 i, o;
	uint32_t v;

	memcpy(out, SESS_ID_PREFIX, 2);
	o = 2;
	for (i = 0; i < SESS_ID_RAND; i += 3) {
		v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

int
sess_id_new(char *out, size_t outlen)
{
	uint8_t	 r[SESS_ID_RAND];

	if (outlen < SESS_ID_LEN + 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	sess_id_encode(r, out);
	explicit_bzero(r, sizeof(r));
	return 0;
}

bool
sess_id_valid(const char *id, size_t len)
{
	size_t	 i;

	if (len != SESS_ID_LEN || memcmp(id, SESS_ID_PREFIX, 2) != 0)
		return false;
	for (i = 2; i < len; i++)
		if (memchr(b64url, id[i], sizeof(b64url) - 1) == NULL ||
		    id[i] == '\0')
			return false;
	return true;
}

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int	 i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SipHash-2-4 with a 16-byte key and a 16-byte output. */
void
siphash128(const uint8_t *key, const void *in, size_t len, uint8_t *out)
{
	const uint8_t	*m = in;
	uint64_t	 k0 = le64(key), k1 = le64(key + 8), b, w;
	uint64_t	 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	 v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee;
	uint64_t	 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	 v3 = k1 ^ 0x7465646279746573ULL;
	size_t		 i, left = len & 7;
	int		 j;

	for (i = 0; i + 8 <= len; i += 8) {
		w = le64(m + i);
		v3 ^= w;
		SIPROUND;
		SIPROUND;
		v0 ^= w;
	}
	b = (uint64_t)len << 56;
	for (j = (int)left - 1; j >= 0; j--)
		b |= (uint64_t)m[i + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xee;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	w = v0 ^ v1 ^ v2 ^ v3;
	for (j = 0; j < 8; j++)
		out[j] = (uint8_t)(w >> (8 * j));
	v1 ^= 0xdd;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	w = v0 ^ v1 ^ v2 ^ v3;
	for (j = 0; j < 8; j++)
		out[8 + j] = (uint8_t)(w >> (8 * j));
}

/* hex: SESS_HASH_HEX + 1 bytes. */
void
sess_id_hash(const uint8_t *key, const char *id, size_t len, char *hex)
{
	static const char	 digits[] = "0123456789abcdef";
	uint8_t			 h[16];
	int			 i;

	siphash128(key, id, len, h);
	for (i = 0; i < 16; i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[SESS_HASH_HEX] = '\0';
}
