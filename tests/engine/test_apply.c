/* tests/engine/test_apply.c: transaction semantics through a real 3-replica
 * cell (in-memory cluster, no faults): conditions of each kind, every edge
 * case of the table in docs/engine.md, exactly-once sessions, eventually
 * consistent reads, version gating, busy and not-leader answers. After each
 * case every replica must hold the same state. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"

static struct cl_cluster *cl;
static uint64_t next_client = 1000;
static uint8_t res_buf[PH_RESULT_MAX];
static struct ph_reply last;

static void setup(void)
{
	struct cl_opts o = {.n = 3, .seed = 42, .clients = 1, .target = 0};
	ck_assert_int_eq(cl_new(&o, &cl), 0);
}

static void teardown(void)
{
	char err[256];
	cl_settle(cl, 50);
	ck_assert_msg(cl_check(cl, err, sizeof err) == 0, "%s", err);
	cl_free(cl);
	cl = NULL;
}

/* Submit t (consumed) as (client, seq); the status; *r the decoded result
 * when non-NULL and present. */
static int submit_as(struct ph_txn *t, uint64_t client, uint64_t seq, struct ph_result **r)
{
	uint8_t buf[PH_TXN_MAX];
	size_t len;
	ck_assert_int_eq(ph_txn_encode(t, buf, sizeof buf, &len), 0);
	ph_txn_free(t);
	ck_assert_int_eq(cl_submit(cl, SIZE_MAX, client, seq, PH_CONSISTENT, 0, buf, len, &last,
				   res_buf, sizeof res_buf),
			 0);
	if (r != NULL) {
		*r = NULL;
		if (last.result_len > 0)
			ck_assert_int_eq(ph_result_decode(last.result, last.result_len, NULL, r), 0);
	}
	return last.status;
}

static int submit(struct ph_txn *t, struct ph_result **r)
{
	return submit_as(t, next_client++, 1, r);
}

static struct ph_txn *txn(void)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	return t;
}

static struct ph_value bv(const char *s)
{
	struct ph_value v = {.type = PH_T_BYTES, .bytes = (const uint8_t *)s, .len = strlen(s)};
	return v;
}

static void put_str(const char *k, const char *v)
{
	struct ph_txn *t = txn();
	struct ph_value x = bv(v);
	ck_assert_int_eq(ph_txn_put(t, k, strlen(k), &x), 0);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
}

static void put_int(const char *k, long v)
{
	struct ph_txn *t = txn();
	mpz_t z;
	mpz_init_set_si(z, v);
	struct ph_value x = {.type = PH_T_INT, .integer = z};
	ck_assert_int_eq(ph_txn_put(t, k, strlen(k), &x), 0);
	mpz_clear(z);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
}

/* The value of k on every replica (they must agree); PH_ENOENT when absent. */
static int get(const char *k, struct ph_value *v)
{
	cl_settle(cl, 40);
	int first = 0;
	for (size_t i = 0; i < 3; i++) {
		struct ph_value x;
		int e = ph_cell_get(cl_cell(cl, i), k, strlen(k), &x);
		if (i == 0) {
			first = e;
			if (v)
				*v = x;
		} else {
			ck_assert_int_eq(e, first);
		}
	}
	if (v && first == 0)
		ph_cell_get(cl_cell(cl, 0), k, strlen(k), v);
	return first;
}

static void expect_int(const char *k, long want)
{
	struct ph_value v;
	ck_assert_int_eq(get(k, &v), 0);
	ck_assert_int_eq(v.type, PH_T_INT);
	ck_assert_msg(mpz_cmp_si(v.integer, want) == 0, "%s != %ld", k, want);
}

static void expect_ignored(struct ph_txn *t, int reason, uint32_t failed)
{
	struct ph_result *r;
	ck_assert_int_eq(submit(t, &r), PH_ST_IGNORED);
	ck_assert_int_eq(last.reason, reason);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ph_result_outcome(r), PH_OUT_IGNORED);
	ck_assert_int_eq(ph_result_reason(r), reason);
	ck_assert_uint_eq(ph_result_failed_index(r), failed);
	ph_result_free(r);
}

START_TEST(put_read_delete)
{
	put_str("a", "hello");
	struct ph_txn *t = txn();
	ph_txn_read(t, "a", 1);
	ph_txn_read(t, "zz", 2);
	struct ph_result *r;
	ck_assert_int_eq(submit(t, &r), PH_ST_COMMITTED);
	ck_assert_uint_eq(ph_result_n_reads(r), 2);
	bool present;
	struct ph_value v;
	ph_result_read(r, 0, NULL, NULL, &present, &v);
	ck_assert(present && v.type == PH_T_BYTES && v.len == 5 && memcmp(v.bytes, "hello", 5) == 0);
	ph_result_read(r, 1, NULL, NULL, &present, &v);
	ck_assert(!present);
	ck_assert_uint_gt(ph_result_token(r), 0);
	ph_result_free(r);
	/* delete, and delete of an absent key (commits, no change) */
	t = txn();
	ph_txn_delete(t, "a", 1);
	ph_txn_delete(t, "never", 5);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	ck_assert_int_eq(get("a", NULL), PH_ENOENT);
	ck_assert_int_eq(get("never", NULL), PH_ENOENT);
	/* empty value and booleans */
	put_str("empty", "");
	struct ph_value e;
	ck_assert_int_eq(get("empty", &e), 0);
	ck_assert_uint_eq(e.len, 0);
	t = txn();
	struct ph_value b = {.type = PH_T_BOOL, .boolean = true};
	ph_txn_put(t, "flag", 4, &b);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	ck_assert_int_eq(get("flag", &e), 0);
	ck_assert(e.type == PH_T_BOOL && e.boolean);
}
END_TEST

START_TEST(empty_transaction)
{
	struct ph_result *r;
	ck_assert_int_eq(submit(txn(), &r), PH_ST_COMMITTED);
	ck_assert_uint_eq(ph_result_n_reads(r), 0);
	ph_result_free(r);
	ck_assert_uint_eq(ph_cell_n_keys(cl_cell(cl, 0)), 0);
}
END_TEST

START_TEST(increment_cases)
{
	mpz_t d;
	mpz_init_set_si(d, 5);
	/* absent: created with the delta */
	struct ph_txn *t = txn();
	ph_txn_increment(t, "n", 1, d);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	expect_int("n", 5);
	/* negative delta crosses zero */
	mpz_set_si(d, -12);
	t = txn();
	ph_txn_increment(t, "n", 1, d);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	expect_int("n", -7);
	mpz_set_si(d, 7);
	t = txn();
	ph_txn_increment(t, "n", 1, d);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	expect_int("n", 0);
	/* increment of a non-integer: ignored, nothing in the transaction applies */
	put_str("s", "text");
	t = txn();
	ph_txn_put(t, "other", 5, &(struct ph_value){.type = PH_T_BOOL, .boolean = false});
	ph_txn_increment(t, "s", 1, d);
	expect_ignored(t, PH_R_TYPE, 1);
	ck_assert_int_eq(get("other", NULL), PH_ENOENT);
	/* overflow past PH_INT_MAX_BYTES */
	mpz_t max;
	mpz_init(max);
	mpz_ui_pow_ui(max, 2, 8 * PH_INT_MAX_BYTES);
	mpz_sub_ui(max, max, 1);
	struct ph_value mv = {.type = PH_T_INT, .integer = max};
	t = txn();
	ph_txn_put(t, "big", 3, &mv);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	mpz_set_ui(d, 1);
	t = txn();
	ph_txn_increment(t, "big", 3, d);
	expect_ignored(t, PH_R_INT_TOO_BIG, 0);
	struct ph_value v;
	ck_assert_int_eq(get("big", &v), 0);
	ck_assert(mpz_cmp(v.integer, max) == 0);
	/* big numbers add exactly */
	mpz_set_si(d, -1);
	t = txn();
	ph_txn_increment(t, "big", 3, d);
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
	mpz_sub_ui(max, max, 1);
	ck_assert_int_eq(get("big", &v), 0);
	ck_assert(mpz_cmp(v.integer, max) == 0);
	mpz_clear(max);
	mpz_clear(d);
}
END_TEST

START_TEST(conditions_each_kind)
{
	put_int("i", 10);
	put_str("s", "abc");
	mpz_t z;
	mpz_init_set_si(z, 10);
	struct ph_value ten = {.type = PH_T_INT, .integer = z}, abc = bv("abc"), abd = bv("abd");
	struct ph_value str10 = bv("10");
	struct { int kind; const char *key; struct ph_value *v; int sub; bool holds; } cases[] = {
		{PH_COND_EXISTS, "i", NULL, 0, true},
		{PH_COND_EXISTS, "nope", NULL, 0, false},
		{PH_COND_ABSENT, "nope", NULL, 0, true},
		{PH_COND_ABSENT, "i", NULL, 0, false},
		{PH_COND_EQUALS, "s", &abc, 0, true},
		{PH_COND_EQUALS, "s", &abd, 0, false},
		{PH_COND_EQUALS, "i", &ten, 0, true},
		{PH_COND_EQUALS, "i", &str10, 0, false}, /* type differs */
		{PH_COND_EQUALS, "nope", &abc, 0, false},
		{PH_COND_TYPE_IS, "i", NULL, PH_T_INT, true},
		{PH_COND_TYPE_IS, "i", NULL, PH_T_BYTES, false},
		{PH_COND_TYPE_IS, "s", NULL, PH_T_BYTES, true},
		{PH_COND_TYPE_IS, "nope", NULL, PH_T_BOOL, false},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_EQ, true},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_NE, false},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_LE, true},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_LT, false},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_GE, true},
		{PH_COND_INT_CMP, "i", NULL, PH_CMP_GT, false},
		{PH_COND_INT_CMP, "s", NULL, PH_CMP_EQ, false},   /* not an integer */
		{PH_COND_INT_CMP, "nope", NULL, PH_CMP_NE, false}, /* absent */
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct ph_txn *t = txn();
		ph_txn_cond_exists(t, "i", 1); /* a true condition first: failed index 1 */
		const char *key = cases[k].key;
		size_t kl = strlen(key);
		switch (cases[k].kind) {
		case PH_COND_EXISTS: ph_txn_cond_exists(t, key, kl); break;
		case PH_COND_ABSENT: ph_txn_cond_absent(t, key, kl); break;
		case PH_COND_EQUALS: ph_txn_cond_equals(t, key, kl, cases[k].v); break;
		case PH_COND_TYPE_IS: ph_txn_cond_type_is(t, key, kl, (enum ph_type)cases[k].sub); break;
		case PH_COND_INT_CMP: ph_txn_cond_int_cmp(t, key, kl, (enum ph_cmp)cases[k].sub, z); break;
		}
		char mk[16];
		snprintf(mk, sizeof mk, "m%zu", k);
		ph_txn_put(t, mk, strlen(mk), &abc);
		ph_txn_read(t, "i", 1);
		struct ph_result *r;
		int st = submit(t, &r);
		ck_assert_msg(st == (cases[k].holds ? PH_ST_COMMITTED : PH_ST_IGNORED), "case %zu", k);
		if (!cases[k].holds) {
			ck_assert_int_eq(ph_result_reason(r), PH_R_CONDITION);
			ck_assert_uint_eq(ph_result_failed_index(r), 1);
		}
		/* reads come back either way */
		ck_assert_uint_eq(ph_result_n_reads(r), 1);
		ph_result_free(r);
		ck_assert_int_eq(get(mk, NULL), cases[k].holds ? 0 : PH_ENOENT);
	}
	mpz_clear(z);
}
END_TEST

START_TEST(compound_read_conditional_write)
{
	put_int("ver", 1);
	mpz_t one;
	mpz_init_set_si(one, 1);
	/* read the old value, write the new, only if still version 1 */
	struct ph_txn *t = txn();
	ph_txn_cond_int_cmp(t, "ver", 3, PH_CMP_EQ, one);
	ph_txn_read(t, "ver", 3);
	ph_txn_increment(t, "ver", 3, one);
	struct ph_result *r;
	ck_assert_int_eq(submit(t, &r), PH_ST_COMMITTED);
	bool present;
	struct ph_value v;
	ph_result_read(r, 0, NULL, NULL, &present, &v);
	ck_assert(present && mpz_cmp_si(v.integer, 1) == 0); /* the state before */
	ph_result_free(r);
	expect_int("ver", 2);
	/* the same again fails the condition and returns the current value */
	t = txn();
	ph_txn_cond_int_cmp(t, "ver", 3, PH_CMP_EQ, one);
	ph_txn_read(t, "ver", 3);
	ph_txn_increment(t, "ver", 3, one);
	ck_assert_int_eq(submit(t, &r), PH_ST_IGNORED);
	ph_result_read(r, 0, NULL, NULL, &present, &v);
	ck_assert(present && mpz_cmp_si(v.integer, 2) == 0);
	ph_result_free(r);
	expect_int("ver", 2);
	mpz_clear(one);
}
END_TEST

START_TEST(type_changes_and_limits)
{
	/* a put replaces any type */
	put_int("x", 3);
	put_str("x", "now bytes");
	struct ph_value v;
	ck_assert_int_eq(get("x", &v), 0);
	ck_assert_int_eq(v.type, PH_T_BYTES);
	/* result too big: reads of values beyond PH_RESULT_MAX */
	static char big[PH_VALUE_MAX + 1];
	memset(big, 'v', PH_VALUE_MAX);
	for (int i = 0; i < 5; i++) {
		char k[4] = {'b', (char)('0' + i), 0, 0};
		put_str(k, big);
	}
	struct ph_txn *t = txn();
	for (int i = 0; i < 5; i++) {
		char k[4] = {'b', (char)('0' + i), 0, 0};
		ph_txn_read(t, k, 2);
	}
	ph_txn_put(t, "w", 1, &(struct ph_value){.type = PH_T_BOOL, .boolean = true});
	expect_ignored(t, PH_R_RESULT_TOO_BIG, 0);
	ck_assert_int_eq(get("w", NULL), PH_ENOENT);
}
END_TEST

START_TEST(cell_full)
{
	/* data bytes: PH_CELL_DATA_MAX */
	static char big[PH_VALUE_MAX + 1];
	memset(big, 'v', PH_VALUE_MAX);
	int full = 0;
	for (int i = 0; i < 100 && !full; i++) {
		char k[8];
		snprintf(k, sizeof k, "d%02d", i);
		struct ph_txn *t = txn();
		struct ph_value x = bv(big);
		ph_txn_put(t, k, strlen(k), &x);
		struct ph_result *r;
		int st = submit(t, &r);
		if (st == PH_ST_IGNORED) {
			ck_assert_int_eq(ph_result_reason(r), PH_R_CELL_FULL);
			full = 1;
		} else {
			ck_assert_int_eq(st, PH_ST_COMMITTED);
		}
		ph_result_free(r);
	}
	ck_assert(full);
	struct ph_cell_status s;
	ph_cell_status(cl_cell(cl, 0), &s);
	ck_assert_uint_le(s.data_bytes, PH_CELL_DATA_MAX);
	/* replacing a value by a smaller one still works when full */
	put_str("d00", "small");
}
END_TEST

START_TEST(cell_full_keys)
{
	int full = 0;
	for (int i = 0; i < PH_CELL_KEYS_MAX / 8 + 2 && !full; i++) {
		struct ph_txn *t = txn();
		for (int j = 0; j < 8; j++) {
			char k[8];
			snprintf(k, sizeof k, "k%04d", i * 8 + j);
			ph_txn_put(t, k, strlen(k), &(struct ph_value){.type = PH_T_BOOL});
		}
		struct ph_result *r;
		int st = submit(t, &r);
		if (st == PH_ST_IGNORED) {
			ck_assert_int_eq(ph_result_reason(r), PH_R_CELL_FULL);
			full = 1;
		}
		ph_result_free(r);
	}
	ck_assert(full);
	ck_assert_uint_eq(ph_cell_n_keys(cl_cell(cl, 0)), PH_CELL_KEYS_MAX);
	/* a delete and an insert in one transaction fit */
	struct ph_txn *t = txn();
	ph_txn_delete(t, "k0000", 5);
	ph_txn_put(t, "new", 3, &(struct ph_value){.type = PH_T_BOOL});
	ck_assert_int_eq(submit(t, NULL), PH_ST_COMMITTED);
}
END_TEST

START_TEST(exactly_once)
{
	mpz_t one;
	mpz_init_set_si(one, 1);
	uint64_t c = 77;
	struct ph_txn *t = txn();
	ph_txn_increment(t, "ctr", 3, one);
	ph_txn_read(t, "ctr", 3);
	struct ph_result *r;
	ck_assert_int_eq(submit_as(t, c, 1, &r), PH_ST_COMMITTED);
	uint64_t tok = ph_result_token(r);
	ph_result_free(r);
	/* the retry: same answer, applied once */
	for (int k = 0; k < 3; k++) {
		t = txn();
		ph_txn_increment(t, "ctr", 3, one);
		ph_txn_read(t, "ctr", 3);
		ck_assert_int_eq(submit_as(t, c, 1, &r), PH_ST_COMMITTED);
		ck_assert_uint_eq(ph_result_token(r), tok);
		ph_result_free(r);
	}
	expect_int("ctr", 1);
	/* next seq applies; an older seq is stale */
	t = txn();
	ph_txn_increment(t, "ctr", 3, one);
	ck_assert_int_eq(submit_as(t, c, 2, NULL), PH_ST_COMMITTED);
	t = txn();
	ph_txn_increment(t, "ctr", 3, one);
	ck_assert_int_eq(submit_as(t, c, 1, &r), PH_ST_IGNORED);
	ck_assert_int_eq(ph_result_reason(r), PH_R_STALE_SEQ);
	ph_result_free(r);
	expect_int("ctr", 2);
	/* an unknown client must start at seq 1 */
	t = txn();
	ph_txn_increment(t, "ctr", 3, one);
	ck_assert_int_eq(submit_as(t, 555, 9, &r), PH_ST_IGNORED);
	ck_assert_int_eq(ph_result_reason(r), PH_R_SESSION_EXPIRED);
	ph_result_free(r);
	expect_int("ctr", 2);
	/* PH_DEDUP_MAX more clients evict client c: its next seq is refused */
	for (int k = 0; k < PH_DEDUP_MAX; k++) {
		t = txn();
		ck_assert_int_eq(submit_as(t, 2000 + (uint64_t)k, 1, NULL), PH_ST_COMMITTED);
	}
	t = txn();
	ph_txn_increment(t, "ctr", 3, one);
	ck_assert_int_eq(submit_as(t, c, 3, &r), PH_ST_IGNORED);
	ck_assert_int_eq(ph_result_reason(r), PH_R_SESSION_EXPIRED);
	ph_result_free(r);
	expect_int("ctr", 2);
	mpz_clear(one);
}
END_TEST

START_TEST(feature_and_malformed)
{
	uint8_t lv[] = {1, 0, PH_FEATURE_LEVEL + 1, 0, 0};
	ck_assert_int_eq(cl_submit(cl, SIZE_MAX, 900, 1, PH_CONSISTENT, 0, lv, sizeof lv, &last,
				   res_buf, sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_ERROR);
	ck_assert_int_eq(last.error, PH_EVERSION);
	uint8_t junk[] = {1, 0, 1, 0, 1, 9, 1, 'k'};
	ck_assert_int_eq(cl_submit(cl, SIZE_MAX, 901, 1, PH_CONSISTENT, 0, junk, sizeof junk, &last,
				   res_buf, sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_ERROR);
	ck_assert_int_eq(last.error, PH_EUNKNOWN);
}
END_TEST

START_TEST(eventual_reads)
{
	put_int("e", 42);
	cl_settle(cl, 100);
	size_t lead = cl_leader(cl);
	size_t f = (lead + 1) % 3;
	struct ph_cell_status s;
	ph_cell_status(cl_cell(cl, f), &s);
	struct ph_txn *t = txn();
	ph_txn_read(t, "e", 1);
	uint8_t buf[64];
	size_t len;
	ph_txn_encode(t, buf, sizeof buf, &len);
	ph_txn_free(t);
	/* from a follower, at its applied prefix */
	ck_assert_int_eq(cl_submit(cl, f, 903, 1, PH_EVENTUAL, s.applied, buf, len, &last, res_buf,
				   sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_COMMITTED);
	ck_assert_uint_ge(last.token, s.applied);
	struct ph_result *r;
	ck_assert_int_eq(ph_result_decode(last.result, last.result_len, NULL, &r), 0);
	bool present;
	struct ph_value v;
	ph_result_read(r, 0, NULL, NULL, &present, &v);
	ck_assert(present && mpz_cmp_si(v.integer, 42) == 0);
	ph_result_free(r);
	/* a token from the future: behind */
	ck_assert_int_eq(cl_submit(cl, f, 903, 2, PH_EVENTUAL, s.applied + 1000, buf, len, &last,
				   res_buf, sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_BEHIND);
	/* writes are never eventual */
	t = txn();
	ph_txn_delete(t, "e", 1);
	ph_txn_encode(t, buf, sizeof buf, &len);
	ph_txn_free(t);
	ck_assert_int_eq(cl_submit(cl, f, 903, 3, PH_EVENTUAL, 0, buf, len, &last, res_buf,
				   sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_ERROR);
	/* a consistent request at a follower: not leader, with a hint */
	ck_assert_int_eq(cl_submit(cl, f, 904, 1, PH_CONSISTENT, 0, buf, len, &last, res_buf,
				   sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_NOT_LEADER);
	ck_assert_uint_eq(last.leader_hint, s.jury[lead]);
	expect_int("e", 42);
}
END_TEST

/* An idle cell needs no timer; a client request wakes it, and replaces a
 * leader that died while the cell was quiet. */
START_TEST(quiet_cells)
{
	put_int("q", 1);
	cl_settle(cl, 2000);
	for (size_t i = 0; i < 3; i++)
		ck_assert_msg(cl_wake(cl, i) == 0, "replica %zu still wants a timer", i);
	size_t lead = cl_leader(cl);
	ck_assert_uint_ne(lead, SIZE_MAX);
	/* an eventually consistent read leaves a quiet follower quiet */
	{
		size_t f0 = (lead + 1) % 3;
		struct ph_txn *t0 = txn();
		ph_txn_read(t0, "q", 1);
		uint8_t b0[64];
		size_t l0;
		ph_txn_encode(t0, b0, sizeof b0, &l0);
		ph_txn_free(t0);
		ck_assert_int_eq(cl_submit(cl, f0, 949, 1, PH_EVENTUAL, 0, b0, l0, &last, res_buf,
					   sizeof res_buf), 0);
		ck_assert_int_eq(last.status, PH_ST_COMMITTED);
		ck_assert_uint_eq(cl_wake(cl, f0), 0);
	}
	/* the leader vanishes while everyone is quiet */
	cl_isolate(cl, lead, 60000);
	size_t f = (lead + 1) % 3;
	struct ph_txn *t = txn();
	ph_txn_read(t, "q", 1);
	uint8_t buf[64];
	size_t len;
	ph_txn_encode(t, buf, sizeof buf, &len);
	ph_txn_free(t);
	ck_assert_int_eq(cl_submit(cl, f, 950, 1, PH_CONSISTENT, 0, buf, len, &last, res_buf,
				   sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_NOT_LEADER);
	ck_assert_uint_ne(cl_wake(cl, f), 0); /* the request armed its election timer */
	cl_settle(cl, 1000);
	size_t nl = SIZE_MAX;
	for (size_t i = 0; i < 3; i++) {
		struct ph_cell_status st;
		ph_cell_status(cl_cell(cl, i), &st);
		if (i != lead && st.role == PH_ROLE_LEADER)
			nl = i;
	}
	ck_assert(nl != SIZE_MAX);
	mpz_t one;
	mpz_init_set_si(one, 1);
	t = txn();
	ph_txn_increment(t, "q", 1, one);
	mpz_clear(one);
	ph_txn_encode(t, buf, sizeof buf, &len);
	ph_txn_free(t);
	ck_assert_int_eq(cl_submit(cl, nl, 951, 1, PH_CONSISTENT, 0, buf, len, &last, res_buf,
				   sizeof res_buf), 0);
	ck_assert_int_eq(last.status, PH_ST_COMMITTED);
	cl_isolate(cl, lead, 0);
	cl_settle(cl, 300);
	expect_int("q", 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("apply");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, put_read_delete);
	tcase_add_test(tc, empty_transaction);
	tcase_add_test(tc, increment_cases);
	tcase_add_test(tc, conditions_each_kind);
	tcase_add_test(tc, compound_read_conditional_write);
	tcase_add_test(tc, type_changes_and_limits);
	tcase_add_test(tc, cell_full);
	tcase_add_test(tc, cell_full_keys);
	tcase_add_test(tc, exactly_once);
	tcase_add_test(tc, feature_and_malformed);
	tcase_add_test(tc, eventual_reads);
	tcase_add_test(tc, quiet_cells);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
