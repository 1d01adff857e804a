/* Unit tests of the SimWorld core (no engine): rng, queue tie rule, network
 * model, disk model, clocks, history. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

START_TEST(rng_reproducible)
{
	uint64_t st = 0;
	/* splitmix64's published first output for state 0. */
	ck_assert_uint_eq(sim_splitmix64(&st), 0xe220a8397b1dcdafull);
	struct sim_rng a, b, c;
	sim_rng_seed(&a, 42);
	sim_rng_seed(&b, 42);
	sim_rng_seed(&c, 43);
	int same_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = sim_rng_next(&a);
		ck_assert_uint_eq(x, sim_rng_next(&b));
		same_c += x == sim_rng_next(&c);
	}
	ck_assert_int_eq(same_c, 0);
}
END_TEST

START_TEST(rng_bounds)
{
	struct sim_rng r;
	sim_rng_seed(&r, 7);
	int hist[10] = {0};
	for (int i = 0; i < 100000; i++) {
		uint64_t x = sim_rng_below(&r, 10);
		ck_assert_uint_lt(x, 10);
		hist[x]++;
		uint64_t y = sim_rng_range(&r, 5, 8);
		ck_assert(y >= 5 && y <= 8);
	}
	for (int i = 0; i < 10; i++)
		ck_assert(hist[i] > 9000 && hist[i] < 11000);
	ck_assert_uint_eq(sim_rng_below(&r, 0), 0);
	ck_assert_uint_eq(sim_rng_range(&r, 9, 3), 9);
	ck_assert(!sim_rng_chance(&r, 0));
	ck_assert(sim_rng_chance(&r, 1000000));
}
END_TEST

START_TEST(queue_order_and_ties)
{
	struct sim_queue q;
	sim_queue_init(&q);
	struct sim_event e = {0};
	/* Three at t=10 pushed in order a, b, c; one earlier, one later. */
	for (int i = 0; i < 3; i++) {
		e.at = 10;
		e.aux = (uint64_t)i;
		ck_assert_int_eq(sim_queue_push(&q, &e), SIM_OK);
	}
	e.at = 5;
	e.aux = 100;
	sim_queue_push(&q, &e);
	e.at = 20;
	e.aux = 200;
	sim_queue_push(&q, &e);
	uint64_t want[] = {100, 0, 1, 2, 200};
	for (int i = 0; i < 5; i++) {
		struct sim_event o;
		ck_assert_int_eq(sim_queue_pop(&q, &o), SIM_OK);
		ck_assert_uint_eq(o.aux, want[i]);
	}
	struct sim_event o;
	ck_assert_int_eq(sim_queue_pop(&q, &o), SIM_EEMPTY);
	ck_assert_ptr_null(sim_queue_peek(&q));
	sim_queue_close(&q);
}
END_TEST

START_TEST(queue_random_is_sorted)
{
	struct sim_queue q;
	sim_queue_init(&q);
	struct sim_rng r;
	sim_rng_seed(&r, 1);
	for (int i = 0; i < 5000; i++) {
		struct sim_event e = {.at = sim_rng_below(&r, 100), .aux = (uint64_t)i};
		e.data = malloc(4); /* the queue frees what is never popped */
		sim_queue_push(&q, &e);
	}
	sim_time last = 0;
	uint64_t last_seq = 0;
	for (int i = 0; i < 4000; i++) {
		struct sim_event o;
		ck_assert_int_eq(sim_queue_pop(&q, &o), SIM_OK);
		ck_assert(o.at > last || (o.at == last && (i == 0 || o.seq > last_seq)));
		last = o.at;
		last_seq = o.seq;
		free(o.data);
	}
	sim_queue_close(&q);
}
END_TEST

/* A stand-in for the engine's ph_msg_peek_type in these core tests only:
 * the first byte is the type.  The world uses the engine's real peek. */
static int peek_first_byte(const void *b, size_t n)
{
	return n ? ((const uint8_t *)b)[0] : -1;
}

START_TEST(net_partitions)
{
	struct sim_net n;
	struct sim_link_cfg c = {.delay_min = SIM_MS, .delay_max = SIM_MS};
	sim_net_init(&n, &c, NULL);
	uint32_t g[] = {4, 5};
	ck_assert_int_eq(sim_net_partition(&n, "minority", g, 2, SIM_PART_SYMMETRIC), SIM_OK);
	ck_assert(sim_net_blocked(&n, 1, 4));
	ck_assert(sim_net_blocked(&n, 5, 2));
	ck_assert(!sim_net_blocked(&n, 4, 5));
	ck_assert(!sim_net_blocked(&n, 1, 2));
	uint32_t g2[] = {3};
	sim_net_partition(&n, "deaf3", g2, 1, SIM_PART_ISOLATE_IN);
	ck_assert(sim_net_blocked(&n, 1, 3));
	ck_assert(!sim_net_blocked(&n, 3, 1));
	ck_assert_int_eq(sim_net_heal(&n, "minority"), SIM_OK);
	ck_assert(!sim_net_blocked(&n, 1, 4));
	ck_assert(sim_net_blocked(&n, 2, 3));
	ck_assert_int_eq(sim_net_heal(&n, "minority"), SIM_ENOENT);
	uint32_t g3[] = {2};
	sim_net_partition(&n, "mute2", g3, 1, SIM_PART_ISOLATE_OUT);
	ck_assert(sim_net_blocked(&n, 2, 1));
	ck_assert(!sim_net_blocked(&n, 1, 2));
	sim_net_heal_all(&n);
	ck_assert(!sim_net_blocked(&n, 2, 1));
	ck_assert(!sim_net_blocked(&n, 1, 3));
	ck_assert_int_eq(sim_net_partition(&n, "", g, 2, SIM_PART_SYMMETRIC), SIM_EINVAL);
}
END_TEST

START_TEST(net_matchers)
{
	struct sim_net n;
	struct sim_link_cfg c = {.delay_min = SIM_MS, .delay_max = SIM_MS};
	sim_net_init(&n, &c, peek_first_byte);
	struct sim_rng r;
	sim_rng_seed(&r, 3);
	sim_time out[SIM_NET_MAX_COPIES];
	uint8_t accept = 7, promise = 8;
	/* Drop all accepts from node 3 to node 5. */
	struct sim_matcher m = {.from = 3, .to = 5, .type = 7, .action = SIM_MATCH_DROP};
	int id = sim_net_match(&n, &m);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 3, 5, &accept, 1, out), 0);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 3, 5, &promise, 1, out), 1);
	ck_assert_uint_eq(out[0], SIM_MS);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 3, 4, &accept, 1, out), 1);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 2, 5, &accept, 1, out), 1);
	ck_assert_int_eq(sim_net_unmatch(&n, id), SIM_OK);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 3, 5, &accept, 1, out), 1);
	/* Duplicate the next two accepts to anyone, twice each. */
	struct sim_matcher d = {.from = SIM_ANY, .to = SIM_ANY, .type = 7,
				.action = SIM_MATCH_DUPLICATE, .copies = 2, .remaining = 2};
	sim_net_match(&n, &d);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 1, 2, &accept, 1, out), 3);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 1, 2, &accept, 1, out), 3);
	ck_assert_int_eq(sim_net_route(&n, &r, 0, 1, 2, &accept, 1, out), 1);
	ck_assert_int_eq(n.nmatch, 0);
	/* Delay every promise by 50 ms. */
	struct sim_matcher dl = {.type = 8, .action = SIM_MATCH_DELAY, .delay = 50 * SIM_MS};
	sim_net_match(&n, &dl);
	ck_assert_int_eq(sim_net_route(&n, &r, 10, 1, 2, &promise, 1, out), 1);
	ck_assert_uint_eq(out[0], 10 + 51 * SIM_MS);
	ck_assert_uint_eq(n.stats.dropped_match, 1);
}
END_TEST

START_TEST(net_link_faults)
{
	struct sim_net n;
	struct sim_link_cfg c = {.delay_min = SIM_MS, .delay_max = 3 * SIM_MS};
	sim_net_init(&n, &c, NULL);
	struct sim_link_cfg lossy = {.delay_min = SIM_MS, .delay_max = SIM_MS, .loss_ppm = 1000000};
	struct sim_link_cfg dupy = {.delay_min = SIM_MS, .delay_max = 2 * SIM_MS, .dup_ppm = 1000000};
	sim_net_set_link(&n, 1, 2, &lossy);
	sim_net_set_link(&n, 2, 1, &dupy);
	struct sim_rng r;
	sim_rng_seed(&r, 9);
	sim_time out[SIM_NET_MAX_COPIES];
	uint8_t b = 0;
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(sim_net_route(&n, &r, 0, 1, 2, &b, 1, out), 0);
		ck_assert_int_eq(sim_net_route(&n, &r, 0, 2, 1, &b, 1, out), 2);
		ck_assert(out[0] >= SIM_MS && out[0] <= 2 * SIM_MS);
		ck_assert_int_eq(sim_net_route(&n, &r, 0, 1, 3, &b, 1, out), 1);
		ck_assert(out[0] >= SIM_MS && out[0] <= 3 * SIM_MS);
	}
	/* Same seed, same fates. */
	struct sim_rng r1, r2;
	sim_rng_seed(&r1, 11);
	sim_rng_seed(&r2, 11);
	struct sim_link_cfg mix = {.delay_min = 0, .delay_max = 10 * SIM_MS, .loss_ppm = 300000,
				   .dup_ppm = 200000, .reorder_ppm = 100000, .reorder_extra = SIM_S};
	struct sim_net n1, n2;
	sim_net_init(&n1, &mix, NULL);
	sim_net_init(&n2, &mix, NULL);
	for (int i = 0; i < 1000; i++) {
		sim_time o1[SIM_NET_MAX_COPIES], o2[SIM_NET_MAX_COPIES];
		int k1 = sim_net_route(&n1, &r1, (sim_time)i, 1, 2, &b, 1, o1);
		int k2 = sim_net_route(&n2, &r2, (sim_time)i, 1, 2, &b, 1, o2);
		ck_assert_int_eq(k1, k2);
		for (int k = 0; k < k1; k++)
			ck_assert_uint_eq(o1[k], o2[k]);
	}
	ck_assert_uint_gt(n1.stats.dropped_loss, 200);
	ck_assert_uint_gt(n1.stats.duplicated, 100);
}
END_TEST

static struct sim_rec rec(int kind, uint64_t slot, const char *s)
{
	struct sim_rec x = {.kind = kind, .slot = slot, .bytes = (uint8_t *)s, .len = strlen(s)};
	return x;
}

START_TEST(disk_durability)
{
	struct sim_disk_cfg cfg = {.lat_min = SIM_MS, .lat_max = 5 * SIM_MS};
	struct sim_disk d;
	sim_disk_init(&d, &cfg);
	struct sim_rng r;
	sim_rng_seed(&r, 5);
	struct sim_rec b1[] = {rec(1, 0, "promise-1"), rec(2, 7, "accept-7a")};
	struct sim_rec b2[] = {rec(2, 7, "accept-7b"), rec(2, 8, "accept-8")};
	sim_time t1, t2;
	ck_assert_int_eq(sim_disk_submit(&d, &r, 0, 1, b1, 2, &t1), SIM_OK);
	ck_assert_int_eq(sim_disk_submit(&d, &r, 0, 2, b2, 2, &t2), SIM_OK);
	ck_assert_uint_ge(t2, t1); /* FIFO */
	ck_assert_ptr_null(sim_disk_find(&d, 1, 0)); /* nothing durable yet */
	ck_assert_int_eq(sim_disk_complete(&d, &r, 2), SIM_ENOENT); /* in order */
	ck_assert_int_eq(sim_disk_complete(&d, &r, 1), SIM_OK);
	ck_assert_uint_eq(d.durable_id, 1);
	const struct sim_rec *x = sim_disk_find(&d, 2, 7);
	ck_assert_ptr_nonnull(x);
	ck_assert_mem_eq(x->bytes, "accept-7a", 9);
	uint64_t h1 = sim_disk_hash(&d);
	/* Crash with batch 2 pending: it is lost. */
	sim_disk_crash(&d, &r);
	ck_assert_uint_eq(d.npending, 0);
	ck_assert_ptr_null(sim_disk_find(&d, 2, 8));
	ck_assert_uint_eq(sim_disk_hash(&d), h1);
	/* Upsert by (kind, slot). */
	sim_disk_submit(&d, &r, 10, 3, b2, 2, &t1);
	ck_assert_int_eq(sim_disk_complete(&d, &r, 3), SIM_OK);
	ck_assert_mem_eq(sim_disk_find(&d, 2, 7)->bytes, "accept-7b", 9);
	ck_assert_uint_eq(d.ndurable, 3);
	ck_assert_uint_ne(sim_disk_hash(&d), h1);
	sim_disk_drop_below(&d, 2, 8);
	ck_assert_ptr_null(sim_disk_find(&d, 2, 7));
	ck_assert_ptr_nonnull(sim_disk_find(&d, 2, 8));
	ck_assert_ptr_nonnull(sim_disk_find(&d, 1, 0));
	sim_disk_close(&d);
}
END_TEST

START_TEST(disk_faults)
{
	struct sim_disk_cfg cfg = {.lat_min = SIM_MS, .lat_max = SIM_MS, .fsync_fail_ppm = 1000000};
	struct sim_disk d;
	sim_disk_init(&d, &cfg);
	struct sim_rng r;
	sim_rng_seed(&r, 5);
	struct sim_rec b1[] = {rec(1, 0, "p")};
	sim_time t;
	sim_disk_submit(&d, &r, 0, 1, b1, 1, &t);
	ck_assert_int_eq(sim_disk_complete(&d, &r, 1), SIM_EFSYNC);
	ck_assert_ptr_null(sim_disk_find(&d, 1, 0));
	sim_disk_crash(&d, &r);
	ck_assert_uint_eq(d.stats.fsync_fails, 1);
	sim_disk_close(&d);

	/* Torn writes: over many crashes, every prefix length shows up, and
	 * never a record outside the oldest pending batch. */
	struct sim_disk_cfg tc = {.lat_min = SIM_MS, .lat_max = SIM_MS, .torn_ppm = 1000000};
	int seen[4] = {0};
	for (int i = 0; i < 200; i++) {
		sim_disk_init(&d, &tc);
		struct sim_rec b[] = {rec(2, 1, "a"), rec(2, 2, "b"), rec(2, 3, "c")};
		struct sim_rec c2[] = {rec(2, 4, "d")};
		sim_disk_submit(&d, &r, 0, 1, b, 3, &t);
		sim_disk_submit(&d, &r, 0, 2, c2, 1, &t);
		sim_disk_crash(&d, &r);
		ck_assert_ptr_null(sim_disk_find(&d, 2, 4));
		size_t k = d.ndurable;
		ck_assert_uint_le(k, 3);
		for (size_t j = 0; j < k; j++)
			ck_assert_uint_eq(d.durable[j].slot, j + 1); /* a prefix */
		seen[k]++;
		sim_disk_close(&d);
	}
	ck_assert(seen[0] && seen[1] && seen[2]);
}
END_TEST

START_TEST(clock_rate_and_jumps)
{
	struct sim_clock c;
	sim_clock_init(&c, 0, 1000, 0);
	ck_assert_uint_eq(sim_clock_local(&c, 500), 1500);
	sim_clock_set_rate(&c, 1000, 100000); /* 10% fast from g=1000 */
	ck_assert_uint_eq(sim_clock_local(&c, 1000), 2000);
	ck_assert_uint_eq(sim_clock_local(&c, 1000 + SIM_S), 2000 + SIM_S + SIM_S / 10);
	/* to_global inverts local. */
	sim_clock_init(&c, 0, 1000, 0);
	sim_clock_set_rate(&c, 1000, 100000);
	sim_time g = sim_clock_to_global(&c, 1000, 2000 + 110);
	ck_assert_uint_eq(sim_clock_peek(&c, g), 2000 + 110);
	ck_assert_uint_lt(sim_clock_peek(&c, g - 1), 2000 + 110);
	/* Forward jump. */
	sim_clock_init(&c, 0, 0, 0);
	sim_clock_local(&c, 100);
	sim_clock_jump(&c, 100, 5 * SIM_S);
	ck_assert_uint_eq(sim_clock_local(&c, 100), 100 + 5 * SIM_S);
	/* Backward jump: the reading stands still, never goes back. */
	sim_clock_jump(&c, 200, -(int64_t)(2 * SIM_S));
	ck_assert_uint_eq(sim_clock_local(&c, 200), 100 + 5 * SIM_S);
	ck_assert_uint_eq(sim_clock_local(&c, 200 + SIM_S), 100 + 5 * SIM_S);
	ck_assert_uint_eq(sim_clock_local(&c, 200 + 3 * SIM_S), 200 + 6 * SIM_S);
	/* Slow clock: -50%. */
	sim_clock_init(&c, 0, 0, -500000);
	ck_assert_uint_eq(sim_clock_to_global(&c, 0, SIM_S), 2 * SIM_S);
	ck_assert_uint_eq(sim_clock_local(&c, 2 * SIM_S), SIM_S);
}
END_TEST

START_TEST(history_shape)
{
	struct sim_history h;
	sim_history_init(&h);
	struct sim_op a = {.process = 0, .type = SIM_OP_INVOKE, .f = SIM_F_WRITE, .key = "x",
			   .value = 5, .time = 10};
	sim_history_add(&h, &a);
	a.type = SIM_OP_OK;
	a.time = 20;
	sim_history_add(&h, &a);
	struct sim_op b = {.process = 1, .type = SIM_OP_INVOKE, .f = SIM_F_READ, .key = "x", .time = 15};
	sim_history_add(&h, &b);
	b.type = SIM_OP_INFO;
	b.time = 30;
	sim_history_add(&h, &b);
	ck_assert_int_eq(sim_history_wellformed(&h), -1);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sim_history_print(&h, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "{:process 0, :type :invoke, :f :write, :key \"x\", :value 5, :time 10}"));
	ck_assert_ptr_nonnull(strstr(buf, "{:process 1, :type :info, :f :read, :key \"x\", :value nil, :time 30}"));
	free(buf);
	/* A process reused after an info is malformed. */
	b.type = SIM_OP_INVOKE;
	b.time = 40;
	sim_history_add(&h, &b);
	ck_assert_int_eq(sim_history_wellformed(&h), 4);
	sim_history_close(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simcore");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rng_reproducible);
	tcase_add_test(tc, rng_bounds);
	tcase_add_test(tc, queue_order_and_ties);
	tcase_add_test(tc, queue_random_is_sorted);
	tcase_add_test(tc, net_partitions);
	tcase_add_test(tc, net_matchers);
	tcase_add_test(tc, net_link_faults);
	tcase_add_test(tc, disk_durability);
	tcase_add_test(tc, disk_faults);
	tcase_add_test(tc, clock_rate_and_jumps);
	tcase_add_test(tc, history_shape);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
