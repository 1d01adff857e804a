/* The explorer on the production engine: the CI bound is exhausted with no
 * violation; and on ph_engine_planted (test_explore_planted) every planted
 * bug is found, with a shortest sequence that replays to it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>

#include "explore.h"

#ifndef EX_PLANTED
START_TEST(ci_bound_exhausts_safely)
{
	/* One client, one election plus one proposer change, one crash with
	 * restart: every delivery order, every loss, every disk order. */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.clients = 1;
	c.max_timeouts = 2;
	c.max_crashes = 1;
	c.max_sends = 2;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	printf("explore (3 replicas, 1 client, 2 timeouts, 1 crash, 2 sends): %" PRIu64
	       " states, %" PRIu64 " transitions, depth %d, exhausted %s, %.0f states/s\n",
	       r.states, r.transitions, r.depth, r.exhausted ? "yes" : "no",
	       r.seconds > 0 ? (double)r.states / r.seconds : 0.0);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
	ck_assert_uint_gt(r.states, 1000);
}
END_TEST

START_TEST(dups_bound_exhausts_safely)
{
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.clients = 1;
	c.max_timeouts = 1;
	c.max_dups = 2;
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	ck_assert_msg(!r.violated, "%s\n  sequence: %s", r.violation, r.sequence);
	ck_assert(r.exhausted);
}
END_TEST

START_TEST(por_agrees_with_full_search)
{
	/* Sleep sets skip transitions, never states: both searches see the
	 * same distinct states on a bound small enough for the full one. */
	struct ex_cfg c;
	ex_cfg_init(&c);
	c.clients = 1;
	c.max_timeouts = 1;
	struct ex_result a, b;
	ck_assert_int_eq(ex_explore(&c, &a, stderr), 0);
	c.por = false;
	ck_assert_int_eq(ex_explore(&c, &b, stderr), 0);
	ck_assert(a.exhausted && b.exhausted);
	ck_assert_uint_eq(a.states, b.states);
	ck_assert_uint_le(a.transitions, b.transitions);
	printf("explore POR: %" PRIu64 " transitions with sleep sets, %" PRIu64 " without\n",
	       a.transitions, b.transitions);
}
END_TEST
#else
/* The smallest bound that reaches each bug. */
static void bound_for(int bug, struct ex_cfg *c)
{
	ex_cfg_init(c);
	c->planted_bug = bug;
	c->clients = 1;
	c->max_timeouts = 1;
	switch (bug) {
	case 1: /* accept lower ballot: two proposers */
		c->max_timeouts = 2;
		break;
	case 4: /* forget promise on restart */
		c->max_timeouts = 2;
		c->max_crashes = 1;
		break;
	case 5: /* a retry applied twice */
		c->max_sends = 2;
		break;
	}
}

START_TEST(planted_bug_found)
{
	int bug = _i;
	struct ex_cfg c;
	bound_for(bug, &c);
	struct ex_result r;
	ck_assert_int_eq(ex_explore(&c, &r, stderr), 0);
	ck_assert_msg(r.violated, "planted bug %d not found: %" PRIu64 " states, exhausted %s", bug,
		      r.states, r.exhausted ? "yes" : "no");
	printf("planted bug %d found after %" PRIu64 " states: %s\n  shortest (%d events): %s\n", bug,
	       r.states, r.violation, r.seq_len, r.sequence);
	/* The printed sequence is a test case: it replays to the violation. */
	bool bad;
	char why[600];
	ck_assert_int_eq(ex_replay(&c, r.sequence, NULL, &bad, why, sizeof(why)), 0);
	ck_assert(bad);
	ck_assert_str_eq(why, r.violation);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("explore");
	TCase *tc = tcase_create("explore");
	tcase_set_timeout(tc, 600);
#ifndef EX_PLANTED
	tcase_add_test(tc, ci_bound_exhausts_safely);
	tcase_add_test(tc, dups_bound_exhausts_safely);
	tcase_add_test(tc, por_agrees_with_full_search);
#else
	tcase_add_loop_test(tc, planted_bug_found, 1, 6);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
