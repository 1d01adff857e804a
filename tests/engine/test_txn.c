/* tests/engine/test_txn.c: values, the transaction builder and codec, and
 * results: round trips and rejection of every kind of malformed input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static struct ph_value bytes_val(const char *s)
{
	struct ph_value v = {.type = PH_T_BYTES, .bytes = (const uint8_t *)s, .len = strlen(s)};
	return v;
}

static size_t encode(struct ph_txn *t, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	ck_assert_int_eq(ph_txn_encode(t, buf, cap, &len), 0);
	return len;
}

START_TEST(values_equal)
{
	mpz_t a, b;
	mpz_init_set_si(a, -5);
	mpz_init_set_si(b, -5);
	struct ph_value x = {.type = PH_T_INT, .integer = a}, y = {.type = PH_T_INT, .integer = b};
	ck_assert(ph_value_equal(&x, &y));
	mpz_set_si(b, 5);
	ck_assert(!ph_value_equal(&x, &y));
	struct ph_value s1 = bytes_val("1"), t = {.type = PH_T_BOOL, .boolean = true};
	mpz_set_si(a, 1);
	ck_assert(!ph_value_equal(&s1, &x)); /* bytes "1" is not integer 1 */
	ck_assert(!ph_value_equal(&t, &x));
	struct ph_value f = {.type = PH_T_BOOL, .boolean = false};
	ck_assert(!ph_value_equal(&t, &f));
	struct ph_value e1 = bytes_val(""), e2 = bytes_val("");
	ck_assert(ph_value_equal(&e1, &e2));
	mpz_clear(a);
	mpz_clear(b);
}
END_TEST

START_TEST(txn_roundtrip)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	mpz_t big, neg;
	mpz_init(big);
	mpz_ui_pow_ui(big, 2, 300);
	mpz_init_set_si(neg, -123456789);
	struct ph_value v = bytes_val("hello"), bt = {.type = PH_T_BOOL, .boolean = true};
	struct ph_value vi = {.type = PH_T_INT, .integer = big};
	ck_assert_int_eq(ph_txn_cond_exists(t, "a", 1), 0);
	ck_assert_int_eq(ph_txn_cond_absent(t, "b", 1), 0);
	ck_assert_int_eq(ph_txn_cond_equals(t, "c", 1, &v), 0);
	ck_assert_int_eq(ph_txn_cond_type_is(t, "d", 1, PH_T_BOOL), 0);
	ck_assert_int_eq(ph_txn_cond_int_cmp(t, "e", 1, PH_CMP_GE, neg), 0);
	ck_assert_int_eq(ph_txn_read(t, "a", 1), 0);
	ck_assert_int_eq(ph_txn_put(t, "a", 1, &bt), 0); /* read and write one key */
	ck_assert_int_eq(ph_txn_put(t, "f", 1, &vi), 0);
	ck_assert_int_eq(ph_txn_delete(t, "g", 1), 0);
	ck_assert_int_eq(ph_txn_increment(t, "h", 1, neg), 0);
	uint8_t buf[PH_TXN_MAX];
	size_t len = encode(t, buf, sizeof buf);
	/* size query */
	size_t need = 0;
	ck_assert_int_eq(ph_txn_encode(t, buf, 3, &need), PH_ETOOBIG);
	ck_assert_uint_eq(need, len);

	struct ph_txn *d;
	ck_assert_int_eq(ph_txn_decode(buf, len, NULL, &d), 0);
	ck_assert_uint_eq(ph_txn_n_conds(d), 5);
	ck_assert_uint_eq(ph_txn_n_ops(d), 5);
	ck_assert(!ph_txn_read_only(d));
	uint8_t buf2[PH_TXN_MAX];
	size_t len2 = encode(d, buf2, sizeof buf2);
	ck_assert_uint_eq(len, len2);
	ck_assert(memcmp(buf, buf2, len) == 0);
	enum ph_op_kind k;
	const uint8_t *key;
	size_t klen;
	struct ph_value ov;
	ck_assert_int_eq(ph_txn_op(d, 2, &k, &key, &klen, &ov), 0);
	ck_assert_int_eq(k, PH_OP_PUT);
	ck_assert_int_eq(ov.type, PH_T_INT);
	ck_assert(mpz_cmp(ov.integer, big) == 0);
	enum ph_cond_kind ck;
	enum ph_cmp cmp;
	ck_assert_int_eq(ph_txn_cond(d, 4, &ck, &key, &klen, &ov, NULL, &cmp), 0);
	ck_assert_int_eq(ck, PH_COND_INT_CMP);
	ck_assert_int_eq(cmp, PH_CMP_GE);
	ck_assert(mpz_cmp(ov.integer, neg) == 0);
	ck_assert_int_eq(ph_txn_op(d, 5, NULL, NULL, NULL, NULL), PH_EINVAL);

	/* every strict prefix is refused */
	for (size_t n = 0; n < len; n++) {
		struct ph_txn *x = NULL;
		int err = ph_txn_decode(buf, n, NULL, &x);
		ck_assert_msg(err == PH_ETRUNCATED || err == PH_EMALFORMED, "prefix %zu: %d", n, err);
		ck_assert_ptr_null(x);
	}
	/* a trailing byte is refused */
	buf[len] = 0;
	struct ph_txn *x = NULL;
	ck_assert_int_eq(ph_txn_decode(buf, len + 1, NULL, &x), PH_EMALFORMED);
	ck_assert_ptr_null(x);
	ph_txn_free(d);
	ph_txn_free(t);
	mpz_clear(big);
	mpz_clear(neg);
}
END_TEST

START_TEST(txn_builder_rules)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	struct ph_value v = bytes_val("x");
	mpz_t one;
	mpz_init_set_ui(one, 1);
	/* key limits */
	ck_assert_int_eq(ph_txn_put(t, "", 0, &v), PH_EINVAL);
	char longkey[PH_KEY_MAX + 1];
	memset(longkey, 'k', sizeof longkey);
	ck_assert_int_eq(ph_txn_put(t, longkey, PH_KEY_MAX + 1, &v), PH_EINVAL);
	ck_assert_int_eq(ph_txn_put(t, longkey, PH_KEY_MAX, &v), 0);
	/* duplicate write of one key, duplicate read */
	ck_assert_int_eq(ph_txn_delete(t, longkey, PH_KEY_MAX), PH_EINVAL);
	ck_assert_int_eq(ph_txn_increment(t, longkey, PH_KEY_MAX, one), PH_EINVAL);
	ck_assert_int_eq(ph_txn_read(t, longkey, PH_KEY_MAX), 0);
	ck_assert_int_eq(ph_txn_read(t, longkey, PH_KEY_MAX), PH_EINVAL);
	/* conditions may repeat a key */
	ck_assert_int_eq(ph_txn_cond_exists(t, "k", 1), 0);
	ck_assert_int_eq(ph_txn_cond_exists(t, "k", 1), 0);
	/* value limits */
	static uint8_t big[PH_VALUE_MAX + 1];
	struct ph_value bv = {.type = PH_T_BYTES, .bytes = big, .len = sizeof big};
	ck_assert_int_eq(ph_txn_put(t, "b", 1, &bv), PH_ETOOBIG);
	bv.len = PH_VALUE_MAX;
	ck_assert_int_eq(ph_txn_put(t, "b", 1, &bv), 0);
	mpz_t huge;
	mpz_init(huge);
	mpz_ui_pow_ui(huge, 2, 8 * PH_INT_MAX_BYTES); /* one byte too many */
	struct ph_value hv = {.type = PH_T_INT, .integer = huge};
	ck_assert_int_eq(ph_txn_put(t, "h", 1, &hv), PH_ETOOBIG);
	mpz_sub_ui(huge, huge, 1); /* exactly the limit */
	ck_assert_int_eq(ph_txn_put(t, "h", 1, &hv), 0);
	/* bad enums */
	ck_assert_int_eq(ph_txn_cond_type_is(t, "k", 1, (enum ph_type)9), PH_EINVAL);
	ck_assert_int_eq(ph_txn_cond_int_cmp(t, "k", 1, (enum ph_cmp)0, one), PH_EINVAL);
	struct ph_value bad = {.type = (enum ph_type)7};
	ck_assert_int_eq(ph_txn_put(t, "z", 1, &bad), PH_EINVAL);
	ck_assert_int_eq(ph_txn_set_feature_level(t, 0), PH_EINVAL);
	ph_txn_free(t);

	/* item count */
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	for (int i = 0; i < PH_TXN_ITEMS_MAX; i++)
		ck_assert_int_eq(ph_txn_cond_exists(t, "k", 1), 0);
	ck_assert_int_eq(ph_txn_read(t, "k", 1), PH_ETOOBIG);
	ph_txn_free(t);

	/* encoded size: many big values */
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	int err = 0;
	for (int i = 0; i < PH_TXN_ITEMS_MAX && err == 0; i++) {
		char k[8];
		k[0] = 'a' + (char)i;
		err = ph_txn_put(t, k, 1, &bv);
	}
	ck_assert_int_eq(err, PH_ETOOBIG);
	uint8_t buf[PH_TXN_MAX];
	size_t len;
	ck_assert_int_eq(ph_txn_encode(t, buf, sizeof buf, &len), 0);
	ck_assert_uint_le(len, PH_TXN_MAX);
	ph_txn_free(t);
	mpz_clear(one);
	mpz_clear(huge);
}
END_TEST

START_TEST(txn_empty)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	uint8_t buf[16];
	size_t len = encode(t, buf, sizeof buf);
	ck_assert_uint_eq(len, 5);
	struct ph_txn *d;
	ck_assert_int_eq(ph_txn_decode(buf, len, NULL, &d), 0);
	ck_assert(ph_txn_read_only(d));
	ck_assert_uint_eq(ph_txn_n_ops(d) + ph_txn_n_conds(d), 0);
	ph_txn_free(d);
	ph_txn_free(t);
}
END_TEST

static int decode_err(const uint8_t *b, size_t n)
{
	struct ph_txn *t = NULL;
	int err = ph_txn_decode(b, n, NULL, &t);
	if (err == 0)
		ph_txn_free(t);
	return err;
}

START_TEST(txn_decode_rejects)
{
	/* version */
	uint8_t v2[] = {2, 0, 1, 0, 0};
	ck_assert_int_eq(decode_err(v2, sizeof v2), PH_EVERSION);
	/* feature level above what we know, and zero */
	uint8_t lv[] = {1, 0, PH_FEATURE_LEVEL + 1, 0, 0};
	ck_assert_int_eq(decode_err(lv, sizeof lv), PH_EVERSION);
	uint8_t l0[] = {1, 0, 0, 0, 0};
	ck_assert_int_eq(decode_err(l0, sizeof l0), PH_EMALFORMED);
	/* too many items */
	uint8_t many[] = {1, 0, 1, 20, 20};
	ck_assert_int_eq(decode_err(many, sizeof many), PH_ETOOBIG);
	/* unknown op kind, condition kind */
	uint8_t op9[] = {1, 0, 1, 0, 1, 9, 1, 'k'};
	ck_assert_int_eq(decode_err(op9, sizeof op9), PH_EUNKNOWN);
	uint8_t c9[] = {1, 0, 1, 1, 0, 9, 1, 'k'};
	ck_assert_int_eq(decode_err(c9, sizeof c9), PH_EUNKNOWN);
	/* empty key, key too long */
	uint8_t k0[] = {1, 0, 1, 0, 1, PH_OP_READ, 0};
	ck_assert_int_eq(decode_err(k0, sizeof k0), PH_EMALFORMED);
	uint8_t k200[] = {1, 0, 1, 0, 1, PH_OP_READ, 200};
	ck_assert_int_eq(decode_err(k200, sizeof k200), PH_ETOOBIG);
	/* duplicate write of one key */
	uint8_t dup[] = {1, 0, 1, 0, 2, PH_OP_DELETE, 1, 'k', PH_OP_DELETE, 1, 'k'};
	ck_assert_int_eq(decode_err(dup, sizeof dup), PH_EMALFORMED);
	/* value: unknown type, bool 2, non-canonical integers, bytes too long */
	uint8_t vt[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', 9};
	ck_assert_int_eq(decode_err(vt, sizeof vt), PH_EUNKNOWN);
	uint8_t b2[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_BOOL, 2};
	ck_assert_int_eq(decode_err(b2, sizeof b2), PH_EMALFORMED);
	uint8_t lead0[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_INT, 0, 2, 0, 5};
	ck_assert_int_eq(decode_err(lead0, sizeof lead0), PH_EMALFORMED);
	uint8_t negz[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_INT, 1, 0};
	ck_assert_int_eq(decode_err(negz, sizeof negz), PH_EMALFORMED);
	uint8_t sign2[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_INT, 2, 1, 5};
	ck_assert_int_eq(decode_err(sign2, sizeof sign2), PH_EMALFORMED);
	uint8_t blong[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_BYTES, 0x10, 0x00};
	ck_assert_int_eq(decode_err(blong, sizeof blong), PH_ETOOBIG);
	uint8_t ibig[] = {1, 0, 1, 0, 1, PH_OP_PUT, 1, 'k', PH_T_INT, 0, PH_INT_MAX_BYTES + 1};
	ck_assert_int_eq(decode_err(ibig, sizeof ibig), PH_ETOOBIG);
	/* increment by a non-integer; int-compare with a non-integer */
	uint8_t incb[] = {1, 0, 1, 0, 1, PH_OP_INCREMENT, 1, 'k', PH_T_BOOL, 1};
	ck_assert_int_eq(decode_err(incb, sizeof incb), PH_EMALFORMED);
	uint8_t cmpb[] = {1, 0, 1, 1, 0, PH_COND_INT_CMP, 1, 'k', PH_CMP_LT, PH_T_BOOL, 1};
	ck_assert_int_eq(decode_err(cmpb, sizeof cmpb), PH_EMALFORMED);
	uint8_t cmp9[] = {1, 0, 1, 1, 0, PH_COND_INT_CMP, 1, 'k', 9, PH_T_INT, 0, 0};
	ck_assert_int_eq(decode_err(cmp9, sizeof cmp9), PH_EUNKNOWN);
	uint8_t ty9[] = {1, 0, 1, 1, 0, PH_COND_TYPE_IS, 1, 'k', 9};
	ck_assert_int_eq(decode_err(ty9, sizeof ty9), PH_EUNKNOWN);
	/* oversized input */
	static uint8_t huge[PH_TXN_MAX + 1];
	ck_assert_int_eq(decode_err(huge, sizeof huge), PH_ETOOBIG);
	ck_assert_int_eq(decode_err(NULL, 0), PH_ETRUNCATED);
}
END_TEST

START_TEST(result_rejects)
{
	struct ph_result *r = NULL;
	uint8_t ok[] = {1, PH_OUT_COMMITTED, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0};
	ck_assert_int_eq(ph_result_decode(ok, sizeof ok, NULL, &r), 0);
	ck_assert_int_eq(ph_result_outcome(r), PH_OUT_COMMITTED);
	ck_assert_uint_eq(ph_result_token(r), 7);
	ck_assert_uint_eq(ph_result_n_reads(r), 0);
	ph_result_free(r);
	for (size_t n = 0; n < sizeof ok; n++) {
		r = NULL;
		ck_assert_int_eq(ph_result_decode(ok, n, NULL, &r), PH_ETRUNCATED);
		ck_assert_ptr_null(r);
	}
	uint8_t bad_outcome[] = {1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	ck_assert_int_eq(ph_result_decode(bad_outcome, sizeof bad_outcome, NULL, &r), PH_EUNKNOWN);
	uint8_t incons[] = {1, PH_OUT_COMMITTED, PH_R_CONDITION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	ck_assert_int_eq(ph_result_decode(incons, sizeof incons, NULL, &r), PH_EMALFORMED);
	uint8_t ver[] = {2, PH_OUT_COMMITTED, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	ck_assert_int_eq(ph_result_decode(ver, sizeof ver, NULL, &r), PH_EVERSION);
	uint8_t read[] = {1, PH_OUT_IGNORED, PH_R_CONDITION, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3,
			  1, 1, 'k', 1, PH_T_BOOL, 1};
	ck_assert_int_eq(ph_result_decode(read, sizeof read, NULL, &r), 0);
	const uint8_t *key;
	size_t klen;
	bool present;
	struct ph_value v;
	ck_assert_int_eq(ph_result_read(r, 0, &key, &klen, &present, &v), 0);
	ck_assert(present && v.type == PH_T_BOOL && v.boolean);
	ck_assert_uint_eq(ph_result_failed_index(r), 1);
	ph_result_free(r);
	uint8_t pres2[] = {1, PH_OUT_COMMITTED, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 1, 'k', 2};
	ck_assert_int_eq(ph_result_decode(pres2, sizeof pres2, NULL, &r), PH_EMALFORMED);
	uint8_t trail[] = {1, PH_OUT_COMMITTED, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0};
	ck_assert_int_eq(ph_result_decode(trail, sizeof trail, NULL, &r), PH_EMALFORMED);
}
END_TEST

START_TEST(strerror_names)
{
	for (int c = 0; c >= PH_ENOENT; c--)
		ck_assert_str_ne(ph_strerror(c), "unknown error");
	ck_assert_str_eq(ph_strerror(-999), "unknown error");
	for (int r = PH_R_NONE; r <= PH_R_MALFORMED; r++)
		ck_assert_str_ne(ph_reason_name(r), "unknown");
	for (int t = 1; t <= PH_MSG_TYPE_MAX; t++)
		ck_assert_str_ne(ph_msg_type_name(t), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("txn");
	tcase_add_test(tc, values_equal);
	tcase_add_test(tc, txn_roundtrip);
	tcase_add_test(tc, txn_builder_rules);
	tcase_add_test(tc, txn_empty);
	tcase_add_test(tc, txn_decode_rejects);
	tcase_add_test(tc, result_rejects);
	tcase_add_test(tc, strerror_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
