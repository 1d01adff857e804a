/* Client frames: every type round-trips; truncation, oversize and garbage
 * are refused with distinct codes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "node.h"

static uint8_t buf[4096];

static void round_trip(const struct node_frame *f)
{
	size_t len, used;
	ck_assert_int_eq(node_frame_encode(f, buf, sizeof buf, &len), 0);
	ck_assert_uint_le(len, node_frame_size(f));
	struct node_frame g;
	ck_assert_int_eq(node_frame_decode(buf, len, 65536, &g, &used), 0);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(g.type, f->type);
	ck_assert_uint_eq(g.corr, f->corr);
	ck_assert_uint_eq(g.client_id, f->client_id);
	ck_assert_uint_eq(g.seq, f->seq);
	ck_assert_uint_eq(g.token, f->token);
	ck_assert_uint_eq(g.reason, f->reason);
	ck_assert_uint_eq(g.outcome, f->outcome);
	ck_assert_uint_eq(g.consistency, f->consistency);
	ck_assert_uint_eq(g.status, f->status);
	ck_assert_uint_eq(g.hint, f->hint);
	ck_assert_uint_eq(g.n_ids, f->n_ids);
	ck_assert_uint_eq(g.pkey_len, f->pkey_len);
	ck_assert_uint_eq(g.data_len, f->data_len);
	if (f->pkey_len)
		ck_assert(memcmp(g.pkey, f->pkey, f->pkey_len) == 0);
	if (f->data_len)
		ck_assert(memcmp(g.data, f->data, f->data_len) == 0);
	for (unsigned i = 0; i < f->n_ids; i++)
		ck_assert_uint_eq(g.ids[i], f->ids[i]);
	/* every strict prefix is "need more" */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(node_frame_decode(buf, cut, 65536, &g, &used), NODE_ETRUNCATED);
}

START_TEST(all_types_round_trip)
{
	struct node_frame f;
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_TXN;
	f.corr = 0x0102030405060708ull;
	f.client_id = 77;
	f.seq = 3;
	f.consistency = NODE_EVENTUAL;
	f.token = 12345;
	f.pkey = (const uint8_t *)"vol-1";
	f.pkey_len = 5;
	f.data = (const uint8_t *)"txnbytes";
	f.data_len = 8;
	round_trip(&f);

	memset(&f, 0, sizeof f);
	f.type = NODE_REPLY | NODE_REQ_TXN;
	f.outcome = 2;
	f.reason = 1;
	f.token = 99;
	f.hint = 4;
	f.data = (const uint8_t *)"result";
	f.data_len = 6;
	round_trip(&f);

	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_CREATE;
	f.pkey = (const uint8_t *)"k";
	f.pkey_len = 1;
	f.n_ids = 3;
	f.ids[0] = 1, f.ids[1] = 2, f.ids[2] = 3;
	round_trip(&f);

	memset(&f, 0, sizeof f);
	f.type = NODE_REPLY | NODE_REQ_DISCOVER;
	f.disc_kind = NODE_DISC_FORWARD;
	f.n_ids = 2;
	f.ids[0] = 9, f.ids[1] = 10;
	round_trip(&f);

	memset(&f, 0, sizeof f);
	f.type = NODE_REPLY | NODE_REQ_TXN;
	f.status = NODE_ST_NOTLEADER;
	f.hint = 6;
	round_trip(&f);

	memset(&f, 0, sizeof f);
	f.type = NODE_REPLY | NODE_REQ_NODES;
	static const uint8_t entries[] = { 0, 0, 0, 1, 3, 'a', ':', '1', 0, 0, 0, 2, 0 };
	f.data = entries;
	f.data_len = sizeof entries;
	round_trip(&f);
	size_t off = 0;
	uint32_t id;
	char addr[8];
	size_t len, used;
	struct node_frame g;
	node_frame_encode(&f, buf, sizeof buf, &len);
	node_frame_decode(buf, len, 65536, &g, &used);
	ck_assert_int_eq(node_frame_nodes_next(&g, &off, &id, addr, sizeof addr), 1);
	ck_assert_uint_eq(id, 1);
	ck_assert_str_eq(addr, "a:1");
	ck_assert_int_eq(node_frame_nodes_next(&g, &off, &id, addr, sizeof addr), 1);
	ck_assert_uint_eq(id, 2);
	ck_assert_str_eq(addr, "");
	ck_assert_int_eq(node_frame_nodes_next(&g, &off, &id, addr, sizeof addr), 0);

	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_NODE_STATUS;
	round_trip(&f);
}
END_TEST

START_TEST(refusals)
{
	struct node_frame f, g;
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_TXN;
	f.pkey = (const uint8_t *)"vol";
	f.pkey_len = 3;
	static uint8_t big[2000];
	f.data = big;
	f.data_len = sizeof big;
	size_t len, used = 0;
	ck_assert_int_eq(node_frame_encode(&f, buf, sizeof buf, &len), 0);
	ck_assert_int_eq(node_frame_decode(buf, len, 1024, &g, &used), NODE_ETOOBIG);
	ck_assert_uint_eq(used, len);
	ck_assert_int_eq(node_frame_encode(&f, buf, 100, &len), NODE_ETOOBIG);
	/* garbage: version, type, trailing bytes, empty pkey */
	f.data_len = 1;
	node_frame_encode(&f, buf, sizeof buf, &len);
	buf[4] = 2;
	ck_assert_int_eq(node_frame_decode(buf, len, 65536, &g, &used), NODE_EVERSION);
	buf[4] = 1;
	buf[5] = 0x55;
	ck_assert_int_eq(node_frame_decode(buf, len, 65536, &g, &used), NODE_EMALFORMED);
	buf[5] = NODE_REQ_TXN;
	buf[3]++;
	buf[len] = 0;
	ck_assert_int_eq(node_frame_decode(buf, len + 1, 65536, &g, &used), NODE_EMALFORMED);
	f.pkey_len = 0;
	ck_assert_int_eq(node_frame_encode(&f, buf, sizeof buf, &len), NODE_EINVAL);
	/* jury over 9 */
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_CREATE;
	f.pkey = (const uint8_t *)"k";
	f.pkey_len = 1;
	f.n_ids = 1;
	f.ids[0] = 1;
	node_frame_encode(&f, buf, sizeof buf, &len);
	buf[len - 5] = 10;
	ck_assert_int_eq(node_frame_decode(buf, len, 65536, &g, &used), NODE_EMALFORMED);
	/* node id 0 in a jury */
	buf[len - 5] = 1;
	buf[len - 1] = 0;
	ck_assert_int_eq(node_frame_decode(buf, len, 65536, &g, &used), NODE_EMALFORMED);
}
END_TEST

START_TEST(pipelined_frames)
{
	struct node_frame f;
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_DISCOVER;
	f.pkey = (const uint8_t *)"abc";
	f.pkey_len = 3;
	size_t total = 0, len;
	for (int i = 0; i < 10; i++) {
		f.corr = (uint64_t)i;
		ck_assert_int_eq(node_frame_encode(&f, buf + total, sizeof buf - total, &len), 0);
		total += len;
	}
	size_t off = 0;
	for (int i = 0; i < 10; i++) {
		struct node_frame g;
		size_t used;
		ck_assert_int_eq(node_frame_decode(buf + off, total - off, 65536, &g, &used), 0);
		ck_assert_uint_eq(g.corr, (uint64_t)i);
		off += used;
	}
	ck_assert_uint_eq(off, total);
	ck_assert_int_eq(node_status_to_error(NODE_ST_BUSY), NODE_EBUSY);
	ck_assert_int_eq(node_status_to_error(NODE_ST_OVERLOAD), NODE_EOVERLOAD);
	ck_assert_int_eq(node_status_to_error(NODE_ST_TOOBIG), NODE_ETOOBIG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("node_frame");
	TCase *tc = tcase_create("frame");
	tcase_add_test(tc, all_types_round_trip);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, pipelined_frames);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
