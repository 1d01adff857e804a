/* tests/engine/test_planted.c: each planted bug of ph_engine_planted breaks
 * an invariant the cluster checks, for some seed; and with no bug planted the
 * same seeds pass. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>

#include "cluster.h"

/* The first seed (of max) at which the bug is caught, or 0. */
static uint64_t caught_with(int bug, int max, unsigned loss, unsigned crash, unsigned part,
			    unsigned sync)
{
	for (int i = 1; i <= max; i++) {
		struct cl_opts o = {.n = 3 + 2 * (size_t)(i % 2), .seed = (uint64_t)i, .loss_pct = loss,
				    .dup_pct = 10, .crash_permille = crash, .partition_permille = part,
				    .sync_pct = sync, .clients = 6, .target = 150, .planted_bug = bug};
		struct cl_cluster *cl;
		ck_assert_int_eq(cl_new(&o, &cl), 0);
		char err[256];
		int rc = cl_run(cl, 100000, err, sizeof err);
		if (rc == 0)
			rc = cl_check(cl, err, sizeof err);
		cl_free(cl);
		if (rc != 0) {
			printf("bug %d caught at seed %d: %s\n", bug, i, err);
			return (uint64_t)i;
		}
	}
	return 0;
}

static uint64_t caught(int bug, int max)
{
	return caught_with(bug, max, 20, 30, 20, 3);
}

START_TEST(no_bug_passes) { ck_assert_uint_eq(caught(PH_BUG_NONE, 20), 0); }
END_TEST
START_TEST(accept_lower_ballot) { ck_assert_uint_ne(caught_with(PH_BUG_ACCEPT_LOWER_BALLOT, 300, 40, 5, 80, 10), 0); }
END_TEST
START_TEST(reply_before_durable) { ck_assert_uint_ne(caught_with(PH_BUG_REPLY_BEFORE_DURABLE, 300, 30, 50, 0, 1), 0); }
END_TEST
START_TEST(choose_without_majority) { ck_assert_uint_ne(caught(PH_BUG_CHOOSE_WITHOUT_MAJORITY, 200), 0); }
END_TEST
START_TEST(forget_promise) { ck_assert_uint_ne(caught(PH_BUG_FORGET_PROMISE_ON_RESTART, 200), 0); }
END_TEST
START_TEST(apply_retry_twice) { ck_assert_uint_ne(caught(PH_BUG_APPLY_RETRY_TWICE, 200), 0); }
END_TEST

int main(void)
{
	Suite *s = suite_create("planted");
	TCase *tc = tcase_create("planted");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, no_bug_passes);
	tcase_add_test(tc, accept_lower_ballot);
	tcase_add_test(tc, reply_before_durable);
	tcase_add_test(tc, choose_without_majority);
	tcase_add_test(tc, forget_promise);
	tcase_add_test(tc, apply_retry_twice);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
