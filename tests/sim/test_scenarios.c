/* Scenario tests on real engine replicas, written the way the paper's
 * SimWorld tests read (PHYSALIA.md 6): a handful of lines each, safety
 * checked after every event, the history checked at the end. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim_run.h"
#include "sim_world.h"

static struct sim_world *world(int replicas, uint64_t seed)
{
	struct sim_world_cfg cfg;
	sim_world_cfg_init(&cfg);
	cfg.replicas = replicas;
	cfg.seed = seed;
	cfg.clients = 3;
	cfg.ops_per_client = 15;
	struct sim_world *w = sim_world_new(&cfg);
	ck_assert_ptr_nonnull(w);
	return w;
}

/* Runs until some replica leads (bounded: 5 simulated seconds). */
static ph_node_id await_leader(struct sim_world *w)
{
	for (int i = 0; i < 500; i++) {
		ph_node_id l = sim_world_leader(w);
		if (l)
			return l;
		ck_assert_int_eq(sim_world_run_for(w, 10 * SIM_MS), 0);
	}
	ck_abort_msg("no leader within 5 s");
	return 0;
}

static void finish_ok(struct sim_world *w)
{
	int rc = sim_world_finish(w);
	ck_assert_msg(rc == 0, "violation: %s", sim_world_violation(w));
	const struct sim_world_stats *st = sim_world_stats(w);
	ck_assert_uint_gt(st->ops_ok, 0);
	ck_assert_uint_gt(st->transitions_committed, 0);
	sim_world_free(w);
}

START_TEST(happy_path)
{
	struct sim_world *w = world(3, 1);
	await_leader(w);
	finish_ok(w);
}
END_TEST

START_TEST(minority_partitioned_and_healed)
{
	struct sim_world *w = world(5, 2);
	await_leader(w);
	sim_world_partition(w, "minority", (uint32_t[]){4, 5}, 2, SIM_PART_SYMMETRIC);
	ck_assert_int_eq(sim_world_run_for(w, 2 * SIM_S), 0);
	sim_world_heal(w, "minority");
	finish_ok(w);
}
END_TEST

START_TEST(leader_isolated_mid_batch)
{
	struct sim_world *w = world(3, 3);
	ph_node_id old = await_leader(w);
	ck_assert_int_eq(sim_world_run_for(w, 30 * SIM_MS), 0); /* clients mid-flight */
	sim_world_partition(w, "leader", &old, 1, SIM_PART_SYMMETRIC);
	ck_assert_int_eq(sim_world_run_for(w, 2 * SIM_S), 0);
	ph_node_id now = 0;
	for (ph_node_id id = 1; id <= 3; id++) {
		struct ph_cell_status st;
		if (id != old && sim_world_status(w, id, &st) == 0 && st.role == PH_ROLE_LEADER)
			now = id;
	}
	ck_assert_msg(now != 0, "the majority elected no new leader");
	sim_world_heal(w, "leader");
	finish_ok(w);
}
END_TEST

START_TEST(duplicated_and_reordered_accepts)
{
	struct sim_world *w = world(3, 4);
	struct sim_link_cfg net = {.delay_min = 100 * SIM_US, .delay_max = 5 * SIM_MS,
				   .reorder_ppm = 300000, .reorder_extra = 40 * SIM_MS};
	sim_world_set_net(w, &net);
	sim_world_match(w, &(struct sim_matcher){.type = PH_MSG_ACCEPT, .action = SIM_MATCH_DUPLICATE, .copies = 2});
	sim_world_match(w, &(struct sim_matcher){.type = PH_MSG_ACCEPTED, .action = SIM_MATCH_DUPLICATE, .copies = 1});
	finish_ok(w);
}
END_TEST

START_TEST(accepts_dropped_on_one_link)
{
	struct sim_world *w = world(3, 5);
	ph_node_id l = await_leader(w);
	ph_node_id f = l % 3 + 1;
	/* Drop all accepts from the leader to one follower: the other one
	 * still makes a majority. */
	sim_world_match(w, &(struct sim_matcher){.from = l, .to = f, .type = PH_MSG_ACCEPT, .action = SIM_MATCH_DROP});
	ck_assert_int_eq(sim_world_run_for(w, 1 * SIM_S), 0);
	ck_assert_uint_gt(sim_world_stats(w)->transitions_committed, 0);
	finish_ok(w);
}
END_TEST

START_TEST(crash_between_persisting_and_sending)
{
	struct sim_world *w = world(3, 6);
	ph_node_id l = await_leader(w);
	sim_world_crash_after_persist(w, l);
	ck_assert_int_eq(sim_world_run_for(w, 1 * SIM_S), 0);
	ck_assert(!sim_world_is_up(w, l));
	ck_assert_int_eq(sim_world_restart(w, l), 0);
	finish_ok(w);
}
END_TEST

START_TEST(two_proposers_duelling)
{
	struct sim_world *w = world(3, 7);
	ph_node_id old = await_leader(w);
	/* The old leader hears nothing: it keeps proposing while the others
	 * elect a second proposer; then both talk to everyone. */
	sim_world_partition(w, "deaf", &old, 1, SIM_PART_ISOLATE_IN);
	ck_assert_int_eq(sim_world_run_for(w, 1 * SIM_S), 0);
	int leaders = 0;
	for (ph_node_id id = 1; id <= 3; id++) {
		struct ph_cell_status st;
		if (sim_world_status(w, id, &st) == 0 && st.role == PH_ROLE_LEADER)
			leaders++;
	}
	ck_assert_int_ge(leaders, 1);
	sim_world_heal(w, "deaf");
	finish_ok(w);
}
END_TEST

START_TEST(disk_fsync_failures)
{
	struct sim_world *w = world(3, 8);
	ph_node_id l = await_leader(w);
	struct sim_disk_cfg bad = {.lat_min = SIM_MS, .lat_max = 5 * SIM_MS, .fsync_fail_ppm = 1000000};
	sim_world_set_disk(w, l, &bad);
	ck_assert_int_eq(sim_world_run_for(w, 500 * SIM_MS), 0);
	ck_assert(!sim_world_is_up(w, l)); /* a failed fsync stops the node */
	struct sim_disk_cfg good = {.lat_min = SIM_MS, .lat_max = 2 * SIM_MS};
	sim_world_set_disk(w, l, &good);
	finish_ok(w);
}
END_TEST

START_TEST(clock_jumps)
{
	struct sim_world *w = world(3, 9);
	ph_node_id l = await_leader(w);
	for (ph_node_id id = 1; id <= 3; id++)
		if (id != l)
			ck_assert_int_eq(sim_world_clock_jump(w, id, 10 * (int64_t)SIM_S), 0);
	ck_assert_int_eq(sim_world_run_for(w, 300 * SIM_MS), 0);
	ck_assert_int_eq(sim_world_clock_jump(w, l, -5 * (int64_t)SIM_S), 0);
	ck_assert_int_eq(sim_world_clock_rate(w, l, 300000), 0);
	finish_ok(w);
}
END_TEST

START_TEST(same_seed_same_run)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	struct sim_run_result a, b;
	ck_assert_int_eq(sim_run_seed(&o, 77, &a), 0);
	ck_assert_int_eq(sim_run_seed(&o, 77, &b), 0);
	ck_assert(!a.violated);
	ck_assert_mem_eq(&a.stats, &b.stats, sizeof(a.stats));
	ck_assert_mem_eq(&a.net, &b.net, sizeof(a.net));
	ck_assert_uint_gt(a.stats.events, 100);
}
END_TEST

/* A few random seeds with every fault; physalia-sim runs many more. */
START_TEST(random_seeds)
{
	struct sim_run_opts o;
	sim_run_opts_init(&o);
	int seeds = getenv("PH_SIM_SEEDS") ? atoi(getenv("PH_SIM_SEEDS")) : 20;
	for (int s = 1; s <= seeds; s++) {
		struct sim_run_result r;
		ck_assert_int_eq(sim_run_seed(&o, (uint64_t)s, &r), 0);
		if (r.violated) {
			char cmd[256];
			sim_run_replay_cmd(&o, (uint64_t)s, cmd, sizeof(cmd));
			ck_abort_msg("seed %d: %s\n  replay: %s", s, r.violation, cmd);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scenarios");
	TCase *tc = tcase_create("scenarios");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, happy_path);
	tcase_add_test(tc, minority_partitioned_and_healed);
	tcase_add_test(tc, leader_isolated_mid_batch);
	tcase_add_test(tc, duplicated_and_reordered_accepts);
	tcase_add_test(tc, accepts_dropped_on_one_link);
	tcase_add_test(tc, crash_between_persisting_and_sending);
	tcase_add_test(tc, two_proposers_duelling);
	tcase_add_test(tc, disk_fsync_failures);
	tcase_add_test(tc, clock_jumps);
	tcase_add_test(tc, same_seed_same_run);
	tcase_add_test(tc, random_seeds);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
