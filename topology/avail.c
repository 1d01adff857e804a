/* topology/avail.c: the availability simulation of paper section 5.2
 * (Figure 11): volumes under aggregation-router failures, physalia's
 * placement against one central database. The model is described in
 * topology.h and docs/topology.md; nothing here is fitted to the paper's
 * curves, which are printed beside ours for comparison only. */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct volume {
	uint32_t client, primary, replica;   /* client hosts of three racks */
};

/* A client host on a random rack of `row` (or of any row when row is
 * UINT32_MAX) that none of avoid[0..n) is on. */
static uint32_t pick_rack_client(const struct topo_model *m, uint64_t *rng, uint32_t row,
				 const uint32_t *avoid, size_t n)
{
	for (;;) {
		uint32_t rack;
		if (row == UINT32_MAX) {
			rack = topo__rand_below(rng, (uint32_t)m->n_racks);
		} else {
			const struct topo_row *r = &m->rows[row];
			rack = r->first_rack + topo__rand_below(rng, r->n_racks);
		}
		bool clash = false;
		for (size_t i = 0; i < n; i++)
			clash = clash || m->hosts[avoid[i]].rack == rack;
		if (clash)
			continue;
		const struct topo_rack *rk = &m->racks[rack];
		for (uint32_t h = rk->first_host; h < rk->first_host + rk->n_hosts; h++)
			if (m->hosts[h].role == TOPO_ROLE_CLIENT)
				return h;
	}
}

static const double paper_ratio[TOPO_AVAIL_POINTS] = { 1.13, 1.25, 1.41, 1.47, 1.72,
						       1.93, 2.17, 3.04, 4.0 };
static const double paper_db[TOPO_AVAIL_POINTS] = { 80, -1, 48, -1, 28, -1, 13, -1, 3 };
static const double paper_ph5[TOPO_AVAIL_POINTS] = { 89.5, -1, 69, -1, 48, -1, 27.5, -1, 12 };
static const double paper_ph9[TOPO_AVAIL_POINTS] = { 89.5, -1, 69, -1, 48, -1, 27.5, -1, 9 };

int topo_avail_sim(const struct topo_avail_params *pin, struct topo_avail_result *r)
{
	if (r == NULL)
		return TOPO_EINVAL;
	struct topo_avail_params p = { 0 };
	if (pin != NULL)
		p = *pin;
	if (p.aggs == 0)
		p.aggs = 20;
	if (p.racks_per_agg == 0)
		p.racks_per_agg = 8;
	if (p.nodes_per_rack == 0)
		p.nodes_per_rack = 4;
	if (p.powers == 0)
		p.powers = 3;
	if (p.volumes == 0)
		p.volumes = 2000;
	if (p.trials == 0)
		p.trials = 20;
	if (p.use_default_locality)
		p.same_row_permille = 1000;
	if (p.same_row_permille > 1000 || p.racks_per_agg < 3 || p.aggs > 10000)
		return TOPO_EINVAL;
	struct topo_avail_result res;
	memset(&res, 0, sizeof res);
	res.tor_failures = p.tor_failures != 0;
	for (int i = 0; i < 4 && p.jury_sizes[i] != 0; i++) {
		if (p.jury_sizes[i] < TOPO_JURY_MIN || p.jury_sizes[i] > TOPO_JURY_MAX)
			return TOPO_EINVAL;
		res.jury_sizes[res.n_sizes++] = p.jury_sizes[i];
	}
	if (res.n_sizes == 0) {
		res.jury_sizes[0] = 5;
		res.jury_sizes[1] = 9;
		res.n_sizes = 2;
	}
	struct topo_gen g = { .rows = p.aggs, .racks_per_row = p.racks_per_agg,
			      .powers = p.powers, .nodes = p.nodes_per_rack, .clients = 1,
			      .jury_size = 3 };
	struct topo_model *m = NULL;
	int rc = topo_model_generate(&g, &m, NULL);
	if (rc != 0)
		return rc == TOPO_EDIVERSITY ? TOPO_ECONSTRAINT : rc;
	uint64_t rng = p.seed ^ 0xA5A5F00DBEEFull;
	size_t inited = 0;
	struct volume *vols = malloc(p.volumes * sizeof *vols);
	struct topo_colony *col = calloc(res.n_sizes, sizeof *col);
	/* the failing units: aggs (rows) or ToRs (racks) */
	uint32_t units = res.tor_failures ? (uint32_t)m->n_racks : p.aggs;
	bool *agg_down = calloc(units, sizeof *agg_down);
	uint32_t *order = malloc(units * sizeof *order);
	double *ok_db = calloc(TOPO_AVAIL_POINTS, sizeof *ok_db);
	uint64_t *need = calloc(TOPO_AVAIL_POINTS, sizeof *need);
	uint64_t *ok_ph = calloc(4 * TOPO_AVAIL_POINTS, sizeof *ok_ph);
	rc = TOPO_ENOMEM;
	if (vols == NULL || col == NULL || agg_down == NULL || order == NULL ||
	    ok_db == NULL || ok_ph == NULL || need == NULL)
		goto out_free;
	for (uint32_t v = 0; v < p.volumes; v++) {
		uint32_t pts[3];
		pts[0] = pick_rack_client(m, &rng, UINT32_MAX, NULL, 0);
		for (int k = 1; k < 3; k++) {
			bool near = topo__rand_below(&rng, 1000) < p.same_row_permille;
			pts[k] = pick_rack_client(m, &rng, near ? m->hosts[pts[0]].row : UINT32_MAX,
						  pts, (size_t)k);
		}
		vols[v] = (struct volume){ pts[0], pts[1], pts[2] };
	}
	for (uint32_t s = 0; s < res.n_sizes; s++) {
		struct topo_place_params pp = { .jury_size = res.jury_sizes[s], .swap_candidates = 20,
						.seed = p.seed + s };
		rc = topo_colony_init(&col[s], m, &pp);
		if (rc != 0)
			goto out_free;
		inited++;
		for (uint32_t v = 0; v < p.volumes; v++) {
			uint32_t cl[3] = { vols[v].client, vols[v].primary, vols[v].replica };
			rc = topo_colony_add_cell(&col[s], cl, 3, NULL, NULL);
			if (rc != 0)
				goto out_free;
		}
		rc = topo_colony_improve(&col[s], NULL);
		if (rc != 0)
			goto out_free;
	}
#define UNIT(h) (res.tor_failures ? m->hosts[h].rack : m->hosts[h].row)
	for (int pt = 0; pt < TOPO_AVAIL_POINTS; pt++) {
		double f = (pt + 1) / 10.0;
		res.fraction[pt] = f;
		uint32_t k = (uint32_t)lround(f * units);
		for (uint32_t t = 0; t < p.trials; t++) {
			/* exactly k units down, chosen at random (partial Fisher-Yates) */
			for (uint32_t a = 0; a < units; a++) {
				order[a] = a;
				agg_down[a] = false;
			}
			for (uint32_t a = 0; a < k; a++) {
				uint32_t j = a + topo__rand_below(&rng, units - a);
				uint32_t tmp = order[a];
				order[a] = order[j];
				order[j] = tmp;
				agg_down[order[a]] = true;
			}
			/* the database sits in any rack with equal chance: count the
			 * expectation over its place rather than one draw per trial */
			double db_up = (double)(units - k) / units;
			for (uint32_t v = 0; v < p.volumes; v++) {
				/* the core never fails, so any two live hosts connect */
				bool c_up = !agg_down[UNIT(vols[v].client)];
				if (!c_up)
					continue;
				bool p_up = !agg_down[UNIT(vols[v].primary)];
				bool r_up = !agg_down[UNIT(vols[v].replica)];
				need[pt] += (p_up || r_up) && !(p_up && r_up);
				ok_db[pt] += db_up;
				for (uint32_t s = 0; s < res.n_sizes; s++) {
					const struct topo_cell *cell = &col[s].cells[v];
					uint32_t alive = 0;
					for (uint32_t j = 0; j < cell->n_jury; j++)
						alive += !agg_down[UNIT(cell->jury[j])];
					ok_ph[s * TOPO_AVAIL_POINTS + pt] += alive >= cell->n_jury / 2 + 1;
				}
			}
		}
		double total = (double)p.volumes * p.trials;
		res.db[pt] = 100.0 * ok_db[pt] / total;
		res.load[pt] = 100.0 * (double)need[pt] / total;
		for (uint32_t s = 0; s < res.n_sizes; s++)
			res.physalia[s][pt] = 100.0 * (double)ok_ph[s * TOPO_AVAIL_POINTS + pt] / total;
	}
#undef UNIT
	*r = res;
	rc = 0;
out_free:
	for (size_t s = 0; s < inited; s++)
		topo_colony_close(&col[s]);
	free(col);
	free(need);
	free(ok_ph);
	free(ok_db);
	free(order);
	free(agg_down);
	free(vols);
	topo_model_free(m);
	return rc;
}

static void cell(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, " %7s", "-");
	else
		fprintf(f, " %7.1f", v);
}

void topo_avail_print(const struct topo_avail_result *r, FILE *f)
{
	if (r->tor_failures)
		fprintf(f, "availability under ToR failures (%% of volumes available; the paper "
			   "plots agg failures only, its readings are beside for scale)\n");
	else
		fprintf(f, "availability under agg failures (%% of volumes available; paper Figure 11)\n");
	fprintf(f, "%-6s %7s", "down", "db");
	for (uint32_t s = 0; s < r->n_sizes; s++)
		fprintf(f, "  phys_%u", r->jury_sizes[s]);
	fprintf(f, "   ratio | paper: %5s %7s %7s %7s\n", "db", "phys_5", "phys_9", "ratio");
	for (int pt = 0; pt < TOPO_AVAIL_POINTS; pt++) {
		fprintf(f, "%4.0f%%  ", r->fraction[pt] * 100);
		cell(f, r->db[pt]);
		for (uint32_t s = 0; s < r->n_sizes; s++)
			cell(f, r->physalia[s][pt]);
		double ratio = r->db[pt] > 0 && r->n_sizes > 0 ? r->physalia[0][pt] / r->db[pt] : -1;
		if (ratio < 0)
			fprintf(f, " %7s", "-");
		else
			fprintf(f, " %7.2f", ratio);
		fprintf(f, " |       ");
		cell(f, paper_db[pt]);
		cell(f, paper_ph5[pt]);
		cell(f, paper_ph9[pt]);
		fprintf(f, " %7.2f\n", paper_ratio[pt]);
	}
	fprintf(f, "(ratio: first cell size / db. Paper readings are approximate, from the "
		   "plots; '-' where the paper shows no reading.)\n");
	fprintf(f, "load on the configuration store (%% of volumes whose client reaches primary "
		   "or replica while those two are split; paper Figure 12: rises to about 29%% "
		   "near a third of aggs down, then falls):\n ");
	for (int pt = 0; pt < TOPO_AVAIL_POINTS; pt++)
		fprintf(f, " %2.0f%%:%5.1f", r->fraction[pt] * 100, r->load[pt]);
	fprintf(f, "\n");
}
