/*
 * test_session.c: session ids and their keyed hash (src/session/id.c).
 */
#include "config.h"

#include <string.h>

#include "session/session.h"
#include "tap.h"

int
main(void)
{
	/* SipHash-2-4-128 reference vectors: key 00..0f, messages 00..n-1. */
	static const uint8_t want0[16] = { 0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25,
	    0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93 };
	static const uint8_t want1[16] = { 0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99,
	    0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45 };
	uint8_t	 key[16], msg[64], out[16], key2[16];
	char	 id[SESS_ID_LEN + 1], id2[SESS_ID_LEN + 1], bad[SESS_ID_LEN + 1];
	char	 h1[SESS_HASH_HEX + 1], h2[SESS_HASH_HEX + 1];
	int	 i;

	plan(12);
	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	siphash128(key, msg, 0, out);
	ok(memcmp(out, want0, 16) == 0, "siphash128: empty message vector");
	siphash128(key, msg, 1, out);
	ok(memcmp(out, want1, 16) == 0, "siphash128: one-byte vector");

	ok(sess_id_new(id, sizeof(id)) == 0, "an id is made");
	ok(strlen(id) == SESS_ID_LEN && strncmp(id, "s1", 2) == 0,
	    "it is s1 + 32 characters");
	ok(strspn(id + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == 32, "URL-safe base64");
	ok(sess_id_valid(id, strlen(id)), "and valid");
	ok(sess_id_new(id2, sizeof(id2)) == 0 && strcmp(id, id2) != 0,
	    "two ids differ");
	memcpy(bad, id, sizeof(bad));
	bad[10] = '/';
	ok(!sess_id_valid(bad, strlen(bad)) && !sess_id_valid(id, 10) &&
	    !sess_id_valid(".", 1) && !sess_id_valid("", 0),
	    "a bad character, a short id, \".\" and \"\" are not ids");
	memcpy(bad, id, sizeof(bad));
	bad[0] = 't';
	ok(!sess_id_valid(bad, strlen(bad)), "another format prefix is not ours");
	sess_id_hash(key, id, strlen(id), h1);
	sess_id_hash(key, id, strlen(id), h2);
	ok(strlen(h1) == SESS_HASH_HEX && strcmp(h1, h2) == 0,
	    "the hash is 32 hex digits, the same for the same id");
	memcpy(key2, key, 16);
	key2[0] ^= 1;
	sess_id_hash(key2, id, strlen(id), h2);
	ok(strcmp(h1, h2) != 0, "another key gives another name");
	ok(strstr(h1, id + 2) == NULL, "the name does not contain the id");
	return done_testing();
}
