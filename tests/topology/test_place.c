/* tests/topology/test_place.c: placement constraints, the random-swap
 * improvement, move plans, blast radius and the availability simulation,
 * with property tests on random rack models. */
#define _POSIX_C_SOURCE 200809L
#include "topology/topology.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct topo_model *dflt(void)
{
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	return m;
}

static uint32_t host(const struct topo_model *m, const char *name)
{
	int h = topo_model_find_host(m, name);
	ck_assert_msg(h >= 0, "no host %s", name);
	return (uint32_t)h;
}

static void assert_cell_ok(const struct topo_colony *c, const struct topo_cell *cell)
{
	enum topo_violation v = topo_jury_check(c->model, c, cell->color, cell->jury, cell->n_jury);
	ck_assert_msg(v == TOPO_V_NONE, "cell %u: %s", cell->id, topo_violation_name(v));
	ck_assert_uint_eq(cell->n_jury, c->params.jury_size);
}

static uint32_t count_in_rack(const struct topo_model *m, const struct topo_cell *cell, uint32_t rack)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < cell->n_jury; i++)
		n += m->hosts[cell->jury[i]].rack == rack;
	return n;
}

START_TEST(one_cell_sits_next_to_its_client)
{
	struct topo_model *m = dflt();
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, NULL), 0);
	uint32_t cl = host(m, "r1-c1"), id = 99;
	ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, NULL, &id), 0);
	ck_assert_uint_eq(id, 0);
	const struct topo_cell *cell = &c.cells[0];
	ck_assert_uint_eq(cell->n_jury, 7);
	assert_cell_ok(&c, cell);
	/* the client's rack gets the most it may hold: 3 of 7 */
	ck_assert_uint_eq(count_in_rack(m, cell, 0), 3);
	ck_assert_uint_eq(topo_jury_cost(m, cell, cell->jury, cell->n_jury), 3 * 1 + 4 * 3);
	for (uint32_t i = 1; i < cell->n_jury; i++)
		ck_assert_uint_lt(cell->jury[i - 1], cell->jury[i]);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

START_TEST(each_constraint_is_checked)
{
	struct topo_gen g = { .rows = 1, .racks_per_row = 6, .powers = 3, .nodes = 5,
			      .clients = 1, .colors = 1, .jury_size = 7 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	/* racks 1..6 in powers p1 p2 p3 p1 p2 p3; rack i hosts r<i>-n1..n5 */
#define H(r, n) host(m, "r" #r "-n" #n)
	uint32_t ok[7] = { H(1, 1), H(1, 2), H(2, 1), H(2, 2), H(3, 1), H(3, 2), H(4, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, ok, 7), TOPO_V_NONE);
	uint32_t dup[7] = { H(1, 1), H(1, 1), H(2, 1), H(2, 2), H(3, 1), H(3, 2), H(4, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, dup, 7), TOPO_V_SIZE);
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, ok, 2), TOPO_V_SIZE);
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, ok, 10), TOPO_V_SIZE);
	uint32_t client[7] = { H(1, 1), host(m, "r1-c1"), H(2, 1), H(2, 2), H(3, 1), H(3, 2), H(4, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, client, 7), TOPO_V_ROLE);
	uint32_t two_racks[3] = { H(1, 1), H(1, 2), H(2, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, two_racks, 3), TOPO_V_RACKS);
	uint32_t two_powers[3] = { H(1, 1), H(4, 1), H(2, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, two_powers, 3), TOPO_V_POWERS);
	uint32_t rack_major[7] = { H(1, 1), H(1, 2), H(1, 3), H(1, 4), H(2, 1), H(3, 1), H(5, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, rack_major, 7), TOPO_V_RACK_MAJORITY);
	uint32_t power_major[7] = { H(1, 1), H(1, 2), H(4, 1), H(4, 2), H(2, 1), H(3, 1), H(5, 1) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, power_major, 7), TOPO_V_POWER_MAJORITY);
	/* three of seven in one rack and three in one power domain is fine */
	uint32_t three[7] = { H(1, 1), H(1, 2), H(1, 3), H(2, 1), H(2, 2), H(3, 1), H(3, 2) };
	ck_assert_int_eq(topo_jury_check(m, NULL, 0, three, 7), TOPO_V_NONE);
	/* load: a colony with a cap of 1 cell per node */
	struct topo_place_params pp = { .max_cells_per_node = 1 };
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, &pp), 0);
	uint32_t cl = host(m, "r1-c1");
	ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, NULL, NULL), 0);
	ck_assert_int_eq(topo_jury_check(m, &c, 0, c.cells[0].jury, 7), TOPO_V_NONE);
	c.load[c.cells[0].jury[0]]++;
	ck_assert_int_eq(topo_jury_check(m, &c, 0, c.cells[0].jury, 7), TOPO_V_LOAD);
	c.load[c.cells[0].jury[0]]--;
	topo_colony_close(&c);
#undef H
	topo_model_free(m);
}
END_TEST

START_TEST(colors_keep_cells_apart)
{
	struct topo_gen g = { .rows = 1, .racks_per_row = 6, .powers = 3, .nodes = 4,
			      .clients = 1, .colors = 2, .jury_size = 5 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, NULL), 0);
	uint32_t cl = host(m, "r2-c1");
	for (int i = 0; i < 6; i++) {
		const char *col = i % 2 ? "color1" : "color2";
		uint32_t id;
		ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, col, &id), 0);
		const struct topo_cell *cell = &c.cells[id];
		ck_assert_str_eq(m->colors[cell->color].name, col);
		for (uint32_t j = 0; j < cell->n_jury; j++)
			ck_assert_uint_eq(m->hosts[cell->jury[j]].color, cell->color);
		assert_cell_ok(&c, cell);
	}
	ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, "purple", NULL), TOPO_ENOTFOUND);
	ck_assert_uint_eq(c.n_cells, 6);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

START_TEST(juries_stay_in_the_clients_row)
{
	struct topo_gen g = { .rows = 3, .racks_per_row = 4, .powers = 3, .nodes = 3,
			      .clients = 1, .jury_size = 7 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, NULL), 0);
	/* rack6 (row2) and rack7 (row2): the jury must stay in row2 */
	uint32_t cl[2] = { host(m, "r6-c1"), host(m, "r7-c1") };
	uint32_t id;
	ck_assert_int_eq(topo_colony_add_cell(&c, cl, 2, NULL, &id), 0);
	for (uint32_t j = 0; j < 7; j++)
		ck_assert_uint_eq(m->hosts[c.cells[id].jury[j]].row, 1);
	assert_cell_ok(&c, &c.cells[id]);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

START_TEST(load_is_spread_and_mixes_differ)
{
	struct topo_model *m = dflt();
	struct topo_place_params pp = { .seed = 7 };
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, &pp), 0);
	for (uint32_t i = 0; i < 30; i++) {
		uint32_t cl = host(m, (const char *[]){ "r1-c1", "r2-c1", "r3-c1", "r4-c1",
							"r5-c1" }[i % 5]);
		ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, NULL, NULL), 0);
	}
	uint32_t cap = topo_colony_cap(&c, 0);
	ck_assert_uint_eq(cap, (30 * 7 + 14) / 15 + 1);
	uint32_t total = 0;
	for (size_t h = 0; h < m->n_hosts; h++) {
		ck_assert_uint_le(c.load[h], cap);
		if (m->hosts[h].role == TOPO_ROLE_NODE)
			ck_assert_uint_ge(c.load[h], 1);
		total += c.load[h];
	}
	ck_assert_uint_eq(total, 30 * 7);
	/* no two nodes host the same set of cells */
	for (size_t a = 0; a < m->n_hosts; a++) {
		for (size_t b = a + 1; b < m->n_hosts; b++) {
			if (c.load[a] == 0 || c.load[a] != c.load[b])
				continue;
			uint32_t same = 0;
			for (uint32_t i = 0; i < c.load[a]; i++)
				for (uint32_t j = 0; j < c.load[b]; j++)
					same += c.host_cells[a][i] == c.host_cells[b][j];
			ck_assert_msg(same < c.load[a], "%s and %s host the same cells",
				      m->hosts[a].name, m->hosts[b].name);
		}
	}
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

START_TEST(a_full_colony_refuses_and_stays_unchanged)
{
	struct topo_model *m = dflt();
	struct topo_place_params pp = { .max_cells_per_node = 1 };
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, &pp), 0);
	uint32_t cl = host(m, "r3-c1");
	int added = 0;
	while (topo_colony_add_cell(&c, &cl, 1, NULL, NULL) == 0)
		added++;
	ck_assert_int_ge(added, 1);
	ck_assert_int_le(added, 2); /* 15 nodes, 7 each, one cell per node */
	uint32_t load[20];
	memcpy(load, c.load, sizeof load);
	uint64_t rng = c.rng;
	ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 1, NULL, NULL), TOPO_ECONSTRAINT);
	ck_assert_uint_eq(c.n_cells, (size_t)added);
	ck_assert_mem_eq(load, c.load, sizeof load);
	ck_assert_uint_eq(rng, c.rng);
	uint32_t bad = 500;
	ck_assert_int_eq(topo_colony_add_cell(&c, &bad, 1, NULL, NULL), TOPO_ENOTFOUND);
	ck_assert_int_eq(topo_colony_add_cell(&c, &cl, 0, NULL, NULL), TOPO_EINVAL);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

static void random_colony(struct topo_colony *c, const struct topo_model *m, uint32_t cells,
			  uint64_t *rng, uint32_t n_clients_max)
{
	uint32_t clients[64];
	uint32_t nc = 0;
	for (size_t h = 0; h < m->n_hosts && nc < 64; h++)
		if (m->hosts[h].role != TOPO_ROLE_NODE)
			clients[nc++] = (uint32_t)h;
	ck_assert_uint_gt(nc, 0);
	for (uint32_t i = 0; i < cells; i++) {
		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t k = 1 + (uint32_t)(*rng >> 60) % n_clients_max, cl[4];
		for (uint32_t j = 0; j < k; j++) {
			*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
			cl[j] = clients[(*rng >> 33) % nc];
		}
		int rc = topo_colony_add_cell(c, cl, k, NULL, NULL);
		ck_assert_msg(rc == 0 || rc == TOPO_ECONSTRAINT, "add_cell: %s", topo_strerror(rc));
	}
}

START_TEST(swaps_improve_locality_and_keep_every_constraint)
{
	struct topo_gen g = { .rows = 2, .racks_per_row = 6, .powers = 3, .nodes = 4,
			      .clients = 1, .jury_size = 5 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	struct topo_colony a, b;
	struct topo_place_params pp = { .seed = 42 };
	ck_assert_int_eq(topo_colony_init(&a, m, &pp), 0);
	ck_assert_int_eq(topo_colony_init(&b, m, &pp), 0);
	uint64_t r1 = 5, r2 = 5;
	random_colony(&a, m, 80, &r1, 3);
	random_colony(&b, m, 80, &r2, 3);
	uint32_t *load = malloc(m->n_hosts * sizeof *load);
	memcpy(load, a.load, m->n_hosts * sizeof *load);
	struct topo_improve_stats st, st2;
	ck_assert_int_eq(topo_colony_improve(&a, &st), 0);
	ck_assert_int_eq(topo_colony_improve(&b, &st2), 0);
	ck_assert_uint_eq(st.tried, 80 * 20);
	ck_assert_uint_gt(st.accepted, 0);
	ck_assert_uint_lt(st.cost_after, st.cost_before);
	uint64_t sum = 0;
	for (size_t i = 0; i < a.n_cells; i++) {
		assert_cell_ok(&a, &a.cells[i]);
		sum += topo_jury_cost(m, &a.cells[i], a.cells[i].jury, a.cells[i].n_jury);
		/* same seed, same result */
		ck_assert_mem_eq(a.cells[i].jury, b.cells[i].jury, sizeof a.cells[i].jury);
	}
	ck_assert_uint_eq(sum, st.cost_after);
	ck_assert_mem_eq(load, a.load, m->n_hosts * sizeof *load);
	free(load);
	topo_colony_close(&a);
	topo_colony_close(&b);
	topo_model_free(m);
}
END_TEST

START_TEST(a_move_plan_walks_one_node_at_a_time)
{
	struct topo_gen g = { .rows = 2, .racks_per_row = 5, .powers = 3, .nodes = 3,
			      .clients = 1, .jury_size = 7 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, NULL), 0);
	uint32_t from = host(m, "r1-c1"), to[2] = { host(m, "r8-c1"), host(m, "r9-c1") };
	uint32_t id;
	ck_assert_int_eq(topo_colony_add_cell(&c, &from, 1, NULL, &id), 0);
	uint64_t rng = 3;
	random_colony(&c, m, 10, &rng, 2);
	struct topo_cell moved = c.cells[id];
	moved.n_clients = 2;
	memcpy(moved.clients, to, sizeof to);
	uint64_t before = topo_jury_cost(m, &moved, moved.jury, moved.n_jury);
	struct topo_move *steps = NULL;
	size_t n = 0;
	ck_assert_int_eq(topo_move_plan(&c, id, to, 2, &steps, &n), 0);
	ck_assert_uint_eq(n, 7); /* row1 to row2: every member changes */
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(topo_colony_apply_move(&c, id, &steps[i], i + 1 == n ? to : NULL, 2), 0);
		assert_cell_ok(&c, &c.cells[id]);
		ck_assert_uint_eq(topo_jury_cost(m, &moved, c.cells[id].jury, 7), steps[i].cost_after);
	}
	ck_assert_uint_lt(steps[n - 1].cost_after, before);
	for (uint32_t j = 0; j < 7; j++)
		ck_assert_uint_eq(m->hosts[c.cells[id].jury[j]].row, 1);
	ck_assert_uint_eq(c.cells[id].clients[0], to[0]);
	free(steps);
	/* already there: an empty plan */
	ck_assert_int_eq(topo_move_plan(&c, id, to, 2, &steps, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(topo_move_plan(&c, 999, to, 2, &steps, &n), TOPO_ENOTFOUND);
	struct topo_move bogus = { c.cells[id].jury[0], c.cells[id].jury[1], 0 };
	ck_assert_int_eq(topo_colony_apply_move(&c, id, &bogus, NULL, 0), TOPO_EINVAL);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

START_TEST(blast_radius_of_racks_domains_and_rows)
{
	struct topo_gen g = { .rows = 2, .racks_per_row = 5, .powers = 3, .nodes = 3,
			      .clients = 1, .jury_size = 7 };
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_generate(&g, &m, NULL), 0);
	struct topo_colony c;
	ck_assert_int_eq(topo_colony_init(&c, m, NULL), 0);
	uint32_t a = host(m, "r1-c1"), b = host(m, "r7-c1");
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(topo_colony_add_cell(&c, i % 2 ? &b : &a, 1, NULL, NULL), 0);
	struct topo_blast *bl = NULL;
	size_t n = 0;
	ck_assert_int_eq(topo_blast_radius(&c, &bl, &n), 0);
	ck_assert_uint_eq(n, 10 + 3 + 2);
	for (size_t i = 0; i < n; i++) {
		if (bl[i].kind != TOPO_DOM_ROW) {
			ck_assert_uint_eq(bl[i].cells_lost, 0);
			ck_assert_uint_eq(bl[i].clients_lost, 0);
		}
	}
	ck_assert_int_eq(bl[0].kind, TOPO_DOM_RACK);
	ck_assert_uint_eq(bl[0].hosts_down, 4);
	ck_assert_uint_eq(bl[0].clients_down, 1);
	ck_assert_uint_eq(bl[0].cells_touched, 2);
	ck_assert_int_eq(bl[13].kind, TOPO_DOM_ROW);
	ck_assert_uint_eq(bl[13].index, 0);
	/* row1 down: its two cells lose quorum, their client is down too */
	ck_assert_uint_eq(bl[13].cells_lost, 2);
	ck_assert_uint_eq(bl[13].clients_lost, 0);
	ck_assert_uint_eq(bl[13].clients_down, 5);
	free(bl);
	/* a cell spanning rows: its client in row2 loses it when row1 fails */
	uint32_t both[2] = { a, b };
	struct topo_place_params pp = { .jury_size = 3 };
	struct topo_colony c2;
	ck_assert_int_eq(topo_colony_init(&c2, m, &pp), 0);
	ck_assert_int_eq(topo_colony_add_cell(&c2, both, 2, NULL, NULL), 0);
	ck_assert_int_eq(topo_blast_radius(&c2, &bl, &n), 0);
	uint32_t row0 = 0;
	for (uint32_t j = 0; j < 3; j++)
		row0 += m->hosts[c2.cells[0].jury[j]].row == 0;
	struct topo_blast *r1 = &bl[13], *r2 = &bl[14];
	ck_assert_uint_eq(r1->cells_lost, row0 >= 2);
	ck_assert_uint_eq(r2->cells_lost, row0 <= 1);
	ck_assert_uint_eq(r1->clients_lost, row0 >= 2);
	free(bl);
	topo_colony_close(&c2);
	topo_colony_close(&c);
	topo_model_free(m);
}
END_TEST

static uint32_t rnd(uint64_t *rng, uint32_t n)
{
	*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*rng >> 33) % n;
}

/* Property: on random rack models, a validated model always seats a jury
 * when loads are not capped (validation is exact), every placed cell keeps
 * every constraint before and after the swaps, and no single rack or power
 * domain failure costs any cell its quorum. */
START_TEST(property_random_models)
{
	uint64_t rng = 0x1234567ull + (uint64_t)_i * 7919;
	int validated = 0;
	for (int round = 0; round < 40; round++) {
#define RND(n) rnd(&rng, (n))
		struct topo_gen g;
		g.rows = 1 + RND(3);
		g.racks_per_row = 2 + RND(6);
		g.powers = 2 + RND(4);
		g.nodes = 1 + RND(4);
		g.clients = 1 + RND(2);
		g.colors = 1 + RND(2);
		g.jury_size = 3 + RND(7);
		struct topo_model *m = NULL;
		struct topo_diag d;
		int rc = topo_model_generate(&g, &m, &d);
		if (rc == TOPO_EDIVERSITY)
			continue;
		ck_assert_msg(rc == 0, "%s", d.msg);
		validated++;
		struct topo_place_params pp = { .max_cells_per_node = 1000000, .seed = rng };
		struct topo_colony c;
		ck_assert_int_eq(topo_colony_init(&c, m, &pp), 0);
		for (uint32_t k = 0; k < 20; k++) {
			uint32_t cl = RND((uint32_t)m->n_hosts);
			const char *col = m->n_colors > 1 ? m->colors[1 + RND((uint32_t)m->n_colors - 1)].name : NULL;
			rc = topo_colony_add_cell(&c, &cl, 1, col, NULL);
			ck_assert_msg(rc == 0, "round %d: %s", round, topo_strerror(rc));
		}
		for (size_t i = 0; i < c.n_cells; i++)
			assert_cell_ok(&c, &c.cells[i]);
		ck_assert_int_eq(topo_colony_improve(&c, NULL), 0);
		for (size_t i = 0; i < c.n_cells; i++)
			assert_cell_ok(&c, &c.cells[i]);
		struct topo_blast *bl;
		size_t n;
		ck_assert_int_eq(topo_blast_radius(&c, &bl, &n), 0);
		for (size_t i = 0; i < n; i++)
			if (bl[i].kind != TOPO_DOM_ROW)
				ck_assert_uint_eq(bl[i].cells_lost, 0);
		free(bl);
		topo_colony_close(&c);
		/* with the default cap the colony refuses rather than overloads */
		struct topo_colony c2;
		ck_assert_int_eq(topo_colony_init(&c2, m, NULL), 0);
		random_colony(&c2, m, 30, &rng, 3);
		for (size_t i = 0; i < c2.n_cells; i++)
			assert_cell_ok(&c2, &c2.cells[i]);
		topo_colony_close(&c2);
		topo_model_free(m);
#undef RND
	}
	ck_assert_int_gt(validated, 5);
}
END_TEST

START_TEST(availability_physalia_beats_the_central_database)
{
	struct topo_avail_params p = { .aggs = 10, .racks_per_agg = 5, .nodes_per_rack = 3,
				       .volumes = 200, .trials = 10, .use_default_locality = 1,
				       .seed = 1 };
	struct topo_avail_result r, r2;
	ck_assert_int_eq(topo_avail_sim(&p, &r), 0);
	ck_assert_int_eq(topo_avail_sim(&p, &r2), 0);
	ck_assert_mem_eq(&r, &r2, sizeof r);
	ck_assert_uint_eq(r.n_sizes, 2);
	for (int i = 0; i < TOPO_AVAIL_POINTS; i++) {
		for (uint32_t s = 0; s < r.n_sizes; s++)
			ck_assert_msg(r.physalia[s][i] >= r.db[i], "%d: %f < %f", i,
				      r.physalia[s][i], r.db[i]);
		if (i > 0)
			ck_assert_double_le(r.db[i], r.db[i - 1]);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	topo_avail_print(&r, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "paper"));
	ck_assert_ptr_nonnull(strstr(buf, " 90%"));
	free(buf);
	/* all of a volume in one row: primary and replica are never split */
	for (int i = 0; i < TOPO_AVAIL_POINTS; i++)
		ck_assert_double_eq(r.load[i], 0);
	struct topo_avail_params spread = p;
	spread.use_default_locality = 0;
	spread.same_row_permille = 0;
	struct topo_avail_result rs;
	ck_assert_int_eq(topo_avail_sim(&spread, &rs), 0);
	ck_assert_double_gt(rs.load[2], rs.load[8]);
	ck_assert_double_gt(rs.load[2], rs.load[0]);
	/* ToR failures instead of aggs */
	p.tor_failures = 1;
	ck_assert_int_eq(topo_avail_sim(&p, &r2), 0);
	ck_assert_int_eq(r2.tor_failures, 1);
	for (int i = 0; i < TOPO_AVAIL_POINTS; i++) {
		ck_assert_double_ge(r2.physalia[0][i], 0);
		ck_assert_double_le(r2.physalia[0][i], 100);
		if (i > 0) {
			ck_assert_double_le(r2.db[i], r2.db[i - 1]);
			ck_assert_double_le(r2.physalia[0][i], r2.physalia[0][i - 1]);
		}
	}
	ck_assert(memcmp(r.physalia, r2.physalia, sizeof r.physalia) != 0);
	p.same_row_permille = 2000;
	p.use_default_locality = 0;
	ck_assert_int_eq(topo_avail_sim(&p, &r), TOPO_EINVAL);
}
END_TEST

START_TEST(the_place_command)
{
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stdout));
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	char *ok[] = { "place", "--cells", "12", "--jury", "5", "--seed", "3", NULL };
	ck_assert_int_eq(topo_cli_place(7, ok), 0);
	char *missing[] = { "place", "/nonexistent/rack.yaml", NULL };
	ck_assert_int_eq(topo_cli_place(2, missing), 1);
	char *bad_jury[] = { "place", "--jury", "12", NULL };
	ck_assert_int_eq(topo_cli_place(3, bad_jury), 2);
	char *unknown[] = { "place", "--frobnicate", NULL };
	ck_assert_int_eq(topo_cli_place(2, unknown), 2);
	/* 9 fits the default model: at most 4 per power domain, 3 per rack */
	char *nine[] = { "place", "--jury", "9", NULL };
	ck_assert_int_eq(topo_cli_place(3, nine), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("topology placement");
	TCase *tc = tcase_create("place");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_cell_sits_next_to_its_client);
	tcase_add_test(tc, each_constraint_is_checked);
	tcase_add_test(tc, colors_keep_cells_apart);
	tcase_add_test(tc, juries_stay_in_the_clients_row);
	tcase_add_test(tc, load_is_spread_and_mixes_differ);
	tcase_add_test(tc, a_full_colony_refuses_and_stays_unchanged);
	tcase_add_test(tc, swaps_improve_locality_and_keep_every_constraint);
	tcase_add_test(tc, a_move_plan_walks_one_node_at_a_time);
	tcase_add_test(tc, blast_radius_of_racks_domains_and_rows);
	tcase_add_loop_test(tc, property_random_models, 0, 5);
	tcase_add_test(tc, availability_physalia_beats_the_central_database);
	tcase_add_test(tc, the_place_command);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
