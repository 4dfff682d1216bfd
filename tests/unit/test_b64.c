/*
 * test_b64.c: RFC 4648 base64, both ways, and every way strict decoding
 * must say no.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tap.h"

static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648, section 10. */
static const struct {
	const char	*plain;
	const char	*enc;
} rfc[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};
#define NRFC	(sizeof(rfc) / sizeof(rfc[0]))

/* Inputs that must be refused, with why. */
static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen */
	const char	*why;
} bad[] = {
	{ "Zm9v!", 0, "bad character '!'" },
	{ "Zm 9v", 0, "space" },
	{ "Zm9v\t", 0, "tab" },
	{ "Zm9v ", 0, "trailing space" },
	{ " Zm9v", 0, "leading space" },
	{ "Zm-v", 0, "URL-safe '-'" },
	{ "Zm_v", 0, "URL-safe '_'" },
	{ "Zm9\xc3\xa9", 0, "non-ASCII byte" },
	{ "Zm\0v", 4, "NUL byte" },
	{ "Zm9v\v", 0, "vertical tab" },
	{ "Zm9v\f", 0, "form feed" },
	{ "=Zm9", 0, "'=' first" },
	{ "Z===", 0, "'=' second in a quantum" },
	{ "Z=g=", 0, "'=' second, then data" },
	{ "====", 0, "only padding" },
	{ "=", 0, "lone '='" },
	{ "Zm9v=", 0, "'=' after a full quantum" },
	{ "Zm9v====", 0, "a quantum of padding" },
	{ "Zg=a", 0, "data after '=' in the same quantum" },
	{ "Zg=", 0, "padding cut short" },
	{ "Zg===", 0, "three '='" },
	{ "Zg==Zg==", 0, "data after padding" },
	{ "Zm8=Zm9v", 0, "data after single padding" },
	{ "Zg==\r\nZg==", 0, "data after padding and CRLF" },
	{ "Zg== ", 0, "space after padding" },
	{ "Zg==\0", 5, "NUL after padding" },
	{ "QR==", 0, "non-zero unused bits (12)" },
	{ "Zh==", 0, "non-zero unused bits, lowest" },
	{ "Z/==", 0, "non-zero unused bits, all set" },
	{ "Zm9=", 0, "non-zero unused bits (6)" },
	{ "Z", 0, "unpadded tail of 1" },
	{ "Zg", 0, "unpadded tail of 2" },
	{ "Zm8", 0, "unpadded tail of 3" },
	{ "Zm9vYg", 0, "unpadded tail after a quantum" },
	{ "Zm9vY", 0, "tail of 1 after a quantum" },
	{ "Zm9\r\n", 0, "unpadded tail before CRLF" },
};
#define NBAD	(sizeof(bad) / sizeof(bad[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint8_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 32);
}

static int
dec(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	return b64_decode(in, n, out, cap, outlen);
}

static void
test_vectors(void)
{
	char	 enc[64];
	uint8_t	 out[64];
	size_t	 i, n;
	int	 rv;

	for (i = 0; i < NRFC; i++) {
		memset(enc, 'X', sizeof(enc));
		b64_encode((const uint8_t *)rfc[i].plain, strlen(rfc[i].plain),
		    enc);
		is_str(enc, rfc[i].enc, "encode \"%s\"", rfc[i].plain);
		is_int(b64_encoded_len(strlen(rfc[i].plain)),
		    strlen(rfc[i].enc), "b64_encoded_len(%zu)",
		    strlen(rfc[i].plain));
	}
	for (i = 0; i < NRFC; i++) {
		n = 999;
		rv = dec(rfc[i].enc, strlen(rfc[i].enc), out, sizeof(out), &n);
		is_int(rv, 0, "decode \"%s\" succeeds", rfc[i].enc);
		is_mem(out, rv == 0 ? n : 0, rfc[i].plain,
		    strlen(rfc[i].plain), "decode \"%s\"", rfc[i].enc);
	}
}

static void
test_rejects(void)
{
	uint8_t	 out[64];
	size_t	 i, n, len;

	for (i = 0; i < NBAD; i++) {
		len = bad[i].len ? bad[i].len : strlen(bad[i].in);
		is_int(dec(bad[i].in, len, out, sizeof(out), &n), -1,
		    "reject: %s", bad[i].why);
	}
}

static void
test_outcap(void)
{
	uint8_t	 out[8];
	size_t	 n;

	is_int(dec("Zm9vYmFy", 8, out, 5, &n), -1, "6 bytes into 5: refused");
	n = 0;
	ok(dec("Zm9vYmFy", 8, out, 6, &n) == 0 && n == 6,
	    "6 bytes into exactly 6: accepted");
	is_int(dec("Zm9vYg==", 8, out, 3, &n), -1, "4 bytes into 3: refused");
	is_int(dec("Zm9vYmE=", 8, out, 4, &n), -1, "5 bytes into 4: refused");
	ok(dec("Zm9vYmE=", 8, out, 5, &n) == 0 && n == 5,
	    "5 bytes into exactly 5: accepted");
	is_int(dec("Zg==", 4, out, 0, &n), -1, "1 byte into 0: refused");
	ok(dec("Zg==", 4, out, 1, &n) == 0 && n == 1,
	    "1 byte into exactly 1: accepted");
	is_int(dec("Zm8=", 4, out, 1, &n), -1, "2 bytes into 1: refused");
	is_int(dec("Zm9v", 4, out, 2, &n), -1, "3 bytes into 2: refused");

	/* Nothing is written past outcap on the way to the refusal. */
	memset(out, 0xaa, sizeof(out));
	(void)dec("Zm9vYmFy", 8, out, 4, &n);
	ok(out[4] == 0xaa && out[5] == 0xaa,
	    "a refused decode wrote nothing past outcap");
}

static void
test_linebreaks(void)
{
	uint8_t	 out[64];
	size_t	 n;
	int	 rv;

	n = 0;
	rv = dec("Zm9v\r\nYmFy", 10, out, sizeof(out), &n);
	ok(rv == 0 && n == 6 && memcmp(out, "foobar", 6) == 0,
	    "CRLF between quanta is tolerated");
	rv = dec("Zm\n9vYm\r\nFy\n", 12, out, sizeof(out), &n);
	ok(rv == 0 && n == 6 && memcmp(out, "foobar", 6) == 0,
	    "LF and CRLF inside quanta are tolerated");
	rv = dec("Zm9vYg==\r\n", 10, out, sizeof(out), &n);
	ok(rv == 0 && n == 4 && memcmp(out, "foob", 4) == 0,
	    "CRLF after padding is tolerated");
	rv = dec("\r\n\r\n", 4, out, sizeof(out), &n);
	ok(rv == 0 && n == 0, "only line breaks decode to nothing");
	n = 77;
	rv = dec("", 0, out, sizeof(out), &n);
	ok(rv == 0 && n == 0, "empty input decodes to nothing");
	n = 77;
	rv = dec("", 0, out, 0, &n);
	ok(rv == 0 && n == 0, "empty input needs no output room");
}

/*
 * Every possible final quantum: "XY==" is valid exactly when the low 4
 * bits of Y are zero and "XYZ=" when the low 2 bits of Z are zero, and
 * then it re-encodes to itself (one accepted spelling per byte string).
 */
static void
test_exhaustive_tails(void)
{
	char	 q[5], re[8];
	uint8_t	 out[4];
	size_t	 a, b, c, n, accepted = 0, wrong = 0;
	int	 rv, want;

	q[4] = '\0';
	for (a = 0; a < 64; a++) {
		for (b = 0; b < 64; b++) {
			q[0] = alpha[a];
			q[1] = alpha[b];
			q[2] = q[3] = '=';
			rv = dec(q, 4, out, sizeof(out), &n);
			want = (b & 0xf) == 0 ? 0 : -1;
			if (rv != want)
				wrong++;
			if (rv == 0) {
				accepted++;
				b64_encode(out, n, re);
				if (n != 1 || strcmp(re, q) != 0)
					wrong++;
			}
			for (c = 0; c < 64; c++) {
				q[2] = alpha[c];
				q[3] = '=';
				rv = dec(q, 4, out, sizeof(out), &n);
				want = (c & 0x3) == 0 ? 0 : -1;
				if (rv != want)
					wrong++;
				if (rv == 0) {
					accepted++;
					b64_encode(out, n, re);
					if (n != 2 || strcmp(re, q) != 0)
						wrong++;
				}
			}
		}
	}
	is_int(wrong, 0, "every padded final quantum: accepted iff unused "
	    "bits are zero, and then canonical");
	is_int(accepted, 64 * 4 + 64 * 64 * 16,
	    "exactly 2^8 + 2^16 padded quanta are accepted");
}

/* Each byte value as the first character of "cAAA". */
static void
test_each_byte(void)
{
	char	 q[4] = { 0, 'A', 'A', 'A' };
	uint8_t	 out[4];
	size_t	 n, wrong = 0;
	int	 c, rv, in_alpha;

	for (c = 0; c < 256; c++) {
		q[0] = (char)c;
		in_alpha = c != 0 && strchr(alpha, c) != NULL;
		rv = dec(q, 4, out, sizeof(out), &n);
		if ((rv == 0) != in_alpha) {
			diag("byte 0x%02x: got %d", c, rv);
			wrong++;
		}
	}
	is_int(wrong, 0, "a byte is accepted as data iff it is in the "
	    "alphabet");
}

static void
test_roundtrip(void)
{
	static const size_t big[] = { 1000, 4095, 4096, 4097, 65536, 65537 };
	uint8_t	*in, *out;
	char	*enc, *wrapped;
	size_t	 len, i, j, w, n, fails = 0, capfails = 0, wrapfails = 0;
	size_t	 maxfails = 0, tried = 0;

	for (i = 0; i < 300 + sizeof(big) / sizeof(big[0]); i++) {
		len = i < 300 ? i : big[i - 300];
		in = malloc(len + 1);
		enc = malloc(b64_encoded_len(len) + 1);
		wrapped = malloc(b64_encoded_len(len) * 2 + 3);
		out = malloc(b64_decoded_max(b64_encoded_len(len) * 2 + 2));
		if (in == NULL || enc == NULL || wrapped == NULL || out == NULL)
			abort();
		for (j = 0; j < len; j++)
			in[j] = rnd();
		b64_encode(in, len, enc);
		tried++;
		if (strlen(enc) != b64_encoded_len(len) ||
		    b64_decoded_max(strlen(enc)) < len)
			maxfails++;
		n = (size_t)-1;
		if (dec(enc, strlen(enc), out, b64_decoded_max(strlen(enc)),
		    &n) != 0 || n != len || memcmp(in, out, len) != 0) {
			if (fails++ == 0)
				diag("round trip failed at length %zu", len);
		}
		/* Exactly len bytes of room suffice; one fewer does not. */
		if (dec(enc, strlen(enc), out, len, &n) != 0 ||
		    (len > 0 && dec(enc, strlen(enc), out, len - 1, &n) != -1))
			capfails++;
		/* MIME-style: CRLF after every 76 characters. */
		for (j = 0, w = 0; enc[j] != '\0'; j++) {
			wrapped[w++] = enc[j];
			if ((j + 1) % 76 == 0) {
				wrapped[w++] = '\r';
				wrapped[w++] = '\n';
			}
		}
		if (dec(wrapped, w, out, b64_decoded_max(w), &n) != 0 ||
		    n != len || memcmp(in, out, len) != 0)
			wrapfails++;
		free(in);
		free(enc);
		free(wrapped);
		free(out);
	}
	is_int(maxfails, 0, "encoded length and b64_decoded_max bound hold "
	    "for %zu lengths", tried);
	is_int(fails, 0, "random bytes round-trip at %zu lengths", tried);
	is_int(capfails, 0, "outcap of exactly the decoded length suffices, "
	    "one less is refused");
	is_int(wrapfails, 0, "round trip with CRLF every 76 characters");
}

int
main(void)
{
	plan(87);
	test_vectors();
	test_rejects();
	test_outcap();
	test_linebreaks();
	test_exhaustive_tails();
	test_each_byte();
	test_roundtrip();
	return done_testing();
}
