/* Peer datagrams: round trip, HMAC under current and previous key, tamper
 * detection, malformed input, replay window. */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dgram.h"
#include "node.h"

static uint8_t keys[2][NODE_KEY_BYTES];
static uint8_t buf[2048];

static size_t build(const uint8_t *key, uint64_t seq, int nitems)
{
	struct node_dgram_hdr h = { .from = 2, .to = 5, .incarnation = 9, .seq = seq };
	struct node_dgram_builder b;
	node_dgram_begin(&b, buf, sizeof buf, &h);
	for (int i = 0; i < nitems; i++) {
		char pk[16], msg[32];
		snprintf(pk, sizeof pk, "cell-%d", i);
		snprintf(msg, sizeof msg, "message number %d", i);
		ck_assert_int_eq(node_dgram_add(&b, NODE_ITEM_CELL, pk, strlen(pk), msg,
						strlen(msg)), 0);
	}
	return node_dgram_seal(&b, key);
}

static void setup(void)
{
	memset(keys[0], 0xaa, NODE_KEY_BYTES);
	memset(keys[1], 0xbb, NODE_KEY_BYTES);
}

START_TEST(round_trip)
{
	size_t len = build(keys[0], 1, 3);
	struct node_dgram_hdr h;
	size_t k = 99;
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k), 0);
	ck_assert_uint_eq(k, 0);
	ck_assert_uint_eq(h.from, 2);
	ck_assert_uint_eq(h.to, 5);
	ck_assert_uint_eq(h.incarnation, 9);
	ck_assert_uint_eq(h.seq, 1);
	ck_assert_uint_eq(h.count, 3);
	size_t off = 0;
	struct node_item it;
	int n = 0;
	while (node_dgram_items(buf, len, &off, &it)) {
		char pk[16];
		snprintf(pk, sizeof pk, "cell-%d", n);
		ck_assert_uint_eq(it.kind, NODE_ITEM_CELL);
		ck_assert_uint_eq(it.pkey_len, strlen(pk));
		ck_assert(memcmp(it.pkey, pk, it.pkey_len) == 0);
		n++;
	}
	ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(previous_key_accepted_unknown_refused)
{
	size_t len = build(keys[1], 1, 1);
	struct node_dgram_hdr h;
	size_t k;
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k), 0);
	ck_assert_uint_eq(k, 1);
	/* only the current key configured: previous-key traffic fails */
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 1, &h, &k),
			 NODE_EAUTH);
	uint8_t other[NODE_KEY_BYTES];
	memset(other, 0xcc, sizeof other);
	len = build(other, 1, 1);
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k),
			 NODE_EAUTH);
}
END_TEST

START_TEST(every_flipped_bit_is_refused)
{
	size_t len = build(keys[0], 7, 2);
	for (size_t i = 0; i < len * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		struct node_dgram_hdr h;
		size_t k;
		int rc = node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k);
		ck_assert_msg(rc != 0, "bit %zu flipped and accepted", i);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t cut = 0; cut < len; cut++) {
		struct node_dgram_hdr h;
		size_t k;
		ck_assert_int_ne(node_dgram_open(buf, cut, (const uint8_t (*)[32])keys, 2, &h, &k), 0);
	}
}
END_TEST

START_TEST(authenticated_but_malformed)
{
	/* a sender with the key but a broken encoder: count says 2, one item */
	size_t len = build(keys[0], 1, 1);
	buf[29] = 2;
	crypto_auth(buf + len - NODE_DGRAM_MAC, buf, len - NODE_DGRAM_MAC, keys[0]);
	struct node_dgram_hdr h;
	size_t k;
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k),
			 NODE_EMALFORMED);
	/* unknown item kind */
	len = build(keys[0], 1, 1);
	buf[NODE_DGRAM_HEADER] = 77;
	crypto_auth(buf + len - NODE_DGRAM_MAC, buf, len - NODE_DGRAM_MAC, keys[0]);
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k),
			 NODE_EMALFORMED);
	/* version */
	len = build(keys[0], 1, 1);
	buf[2] = 9;
	ck_assert_int_eq(node_dgram_open(buf, len, (const uint8_t (*)[32])keys, 2, &h, &k),
			 NODE_EVERSION);
}
END_TEST

START_TEST(builder_bounds)
{
	struct node_dgram_hdr h = { .from = 1, .to = 2, .incarnation = 1, .seq = 1 };
	struct node_dgram_builder b;
	uint8_t small[200];
	node_dgram_begin(&b, small, sizeof small, &h);
	uint8_t msg[100] = { 0 };
	ck_assert_int_eq(node_dgram_add(&b, NODE_ITEM_CELL, "k", 1, msg, sizeof msg), 0);
	ck_assert_int_eq(node_dgram_add(&b, NODE_ITEM_CELL, "k", 1, msg, sizeof msg),
			 NODE_ETOOBIG);
	size_t len = node_dgram_seal(&b, keys[0]);
	ck_assert_uint_le(len, sizeof small);
	struct node_dgram_hdr hh;
	size_t k;
	ck_assert_int_eq(node_dgram_open(small, len, (const uint8_t (*)[32])keys, 1, &hh, &k), 0);
	ck_assert_uint_eq(hh.count, 1);
}
END_TEST

START_TEST(replay_window)
{
	struct node_replay w;
	node_replay_init(&w);
	ck_assert_int_eq(node_replay_check(&w, 5, 10), 0);
	ck_assert_int_eq(node_replay_check(&w, 5, 10), NODE_EREPLAY);
	ck_assert_int_eq(node_replay_check(&w, 5, 8), 0);   /* reordered, fresh */
	ck_assert_int_eq(node_replay_check(&w, 5, 8), NODE_EREPLAY);
	ck_assert_int_eq(node_replay_check(&w, 5, 300), 0);
	ck_assert_int_eq(node_replay_check(&w, 5, 300 - 255), 0); /* oldest in window */
	ck_assert_int_eq(node_replay_check(&w, 5, 300 - 256), NODE_EREPLAY); /* too old */
	ck_assert_int_eq(node_replay_check(&w, 5, 299), 0);
	ck_assert_int_eq(node_replay_check(&w, 5, 301), 0);
	ck_assert_int_eq(node_replay_check(&w, 5, 299), NODE_EREPLAY); /* survived shift by 1 */
	ck_assert_int_eq(node_replay_check(&w, 5, 301 + 70), 0);
	ck_assert_int_eq(node_replay_check(&w, 5, 299), NODE_EREPLAY); /* survived word shift */
	ck_assert_int_eq(node_replay_check(&w, 5, 298), 0);
	ck_assert_int_eq(node_replay_check(&w, 4, 1000), NODE_EREPLAY); /* old incarnation */
	ck_assert_int_eq(node_replay_check(&w, 6, 1), 0);   /* sender restarted */
	ck_assert_int_eq(node_replay_check(&w, 6, 1), NODE_EREPLAY);
	/* exhaustive against a reference set */
	node_replay_init(&w);
	static uint8_t seen[4096];
	memset(seen, 0, sizeof seen);
	uint64_t top = 0;
	unsigned s = 12345;
	for (int i = 0; i < 20000; i++) {
		s = s * 1103515245u + 12345u;
		uint64_t seq = 1 + (top > 200 ? top - 200 : 0) + (s >> 8) % 260;
		if (seq >= sizeof seen)
			break;
		int expect = (seen[seq] || (top && seq + NODE_REPLAY_BITS <= top)) ? NODE_EREPLAY : 0;
		ck_assert_int_eq(node_replay_check(&w, 1, seq), expect);
		if (expect == 0) {
			seen[seq] = 1;
			if (seq > top)
				top = seq;
		}
	}
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	Suite *s = suite_create("node_dgram");
	TCase *tc = tcase_create("dgram");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, previous_key_accepted_unknown_refused);
	tcase_add_test(tc, every_flipped_bit_is_refused);
	tcase_add_test(tc, authenticated_but_malformed);
	tcase_add_test(tc, builder_bounds);
	tcase_add_test(tc, replay_window);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
