/* topology/place.c: a colony's cells and where their juries sit (paper
 * sections 2.1, 3.2, 3.4, 5.2).
 *
 * A new cell gets its jury greedily: among the node hosts of its color below
 * the load cap, take the best by (locality cost, load, cells shared with the
 * members already chosen, seed), but only a host after which the jury can
 * still be completed. "Can still be completed" is exact: racks partition
 * into power domains, so the most further members that fit under the per
 * rack / per power domain caps is
 *     sum over domains d of min(cap - in_d, sum over racks r of d of
 *                                          min(cap - in_r, free_r)),
 * and the greedy pick keeps that >= the members still needed. The random-swap
 * improvement and move plans reuse the same checks. */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *topo_violation_name(enum topo_violation v)
{
	switch (v) {
	case TOPO_V_NONE: return "none";
	case TOPO_V_SIZE: return "wrong size or repeated member";
	case TOPO_V_ROLE: return "member is not a node host";
	case TOPO_V_COLOR: return "member of another color";
	case TOPO_V_RACKS: return "fewer than 3 racks";
	case TOPO_V_POWERS: return "fewer than 3 power domains";
	case TOPO_V_RACK_MAJORITY: return "too many members in one rack";
	case TOPO_V_POWER_MAJORITY: return "too many members in one power domain";
	case TOPO_V_LOAD: return "member above its share of cells";
	}
	return "unknown";
}

/* ---- colony bookkeeping ------------------------------------------------- */

static uint32_t color_nodes(const struct topo_model *m, uint32_t color)
{
	uint32_t n = 0;
	for (size_t i = 0; i < m->n_hosts; i++)
		n += topo__is_node(&m->hosts[i]) && m->hosts[i].color == color;
	return n;
}

/* The cap with `cells` cells of this color: ceil(cells * n / nodes) + 1. */
static uint32_t cap_for(const struct topo_colony *c, uint32_t color, uint64_t cells)
{
	if (c->params.max_cells_per_node != 0)
		return c->params.max_cells_per_node;
	uint64_t nodes = color_nodes(c->model, color);
	if (nodes == 0)
		return 0;
	return (uint32_t)((cells * c->params.jury_size + nodes - 1) / nodes + 1);
}

uint32_t topo_colony_cap(const struct topo_colony *c, uint32_t color)
{
	if (c == NULL || color >= c->model->n_colors)
		return 0;
	return cap_for(c, color, c->color_cells[color]);
}

int topo_colony_init(struct topo_colony *c, const struct topo_model *m,
		     const struct topo_place_params *p)
{
	if (c == NULL || m == NULL)
		return TOPO_EINVAL;
	struct topo_place_params params = { 0 };
	if (p != NULL)
		params = *p;
	if (params.jury_size == 0)
		params.jury_size = m->jury_size;
	if (params.jury_size < TOPO_JURY_MIN || params.jury_size > TOPO_JURY_MAX)
		return TOPO_EINVAL;
	if (params.swap_candidates == 0)
		params.swap_candidates = 20;
	struct topo_colony nc;
	memset(&nc, 0, sizeof nc);
	nc.model = m;
	nc.params = params;
	nc.rng = params.seed ^ 0x70706F6C6F677921ull;
	nc.load = calloc(m->n_hosts + 1, sizeof *nc.load);
	nc.host_cells = calloc(m->n_hosts + 1, sizeof *nc.host_cells);
	nc.host_cells_cap = calloc(m->n_hosts + 1, sizeof *nc.host_cells_cap);
	nc.color_cells = calloc(m->n_colors + 1, sizeof *nc.color_cells);
	if (nc.load == NULL || nc.host_cells == NULL || nc.host_cells_cap == NULL ||
	    nc.color_cells == NULL) {
		topo_colony_close(&nc);
		return TOPO_ENOMEM;
	}
	*c = nc;
	return 0;
}

void topo_colony_close(struct topo_colony *c)
{
	if (c == NULL)
		return;
	if (c->host_cells != NULL && c->model != NULL)
		for (size_t i = 0; i < c->model->n_hosts; i++)
			free(c->host_cells[i]);
	free(c->host_cells);
	free(c->host_cells_cap);
	free(c->load);
	free(c->cells);
	free(c->color_cells);
	memset(c, 0, sizeof *c);
}

static int host_cell_add(struct topo_colony *c, uint32_t h, uint32_t cell)
{
	if (c->load[h] == c->host_cells_cap[h]) {
		uint32_t cap = c->host_cells_cap[h] ? c->host_cells_cap[h] * 2 : 8;
		uint32_t *n = realloc(c->host_cells[h], cap * sizeof *n);
		if (n == NULL)
			return TOPO_ENOMEM;
		c->host_cells[h] = n;
		c->host_cells_cap[h] = cap;
	}
	c->host_cells[h][c->load[h]++] = cell;
	return 0;
}

static void host_cell_del(struct topo_colony *c, uint32_t h, uint32_t cell)
{
	for (uint32_t i = 0; i < c->load[h]; i++) {
		if (c->host_cells[h][i] == cell) {
			c->host_cells[h][i] = c->host_cells[h][--c->load[h]];
			return;
		}
	}
}

static void host_cell_replace(struct topo_colony *c, uint32_t h, uint32_t from, uint32_t to)
{
	for (uint32_t i = 0; i < c->load[h]; i++)
		if (c->host_cells[h][i] == from)
			c->host_cells[h][i] = to;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- constraints and cost -------------------------------------------------- */

enum topo_violation topo_jury_check(const struct topo_model *m,
				    const struct topo_colony *c,
				    uint32_t color, const uint32_t *jury, size_t n)
{
	if (n < TOPO_JURY_MIN || n > TOPO_JURY_MAX || jury == NULL)
		return TOPO_V_SIZE;
	uint32_t cap = topo__domain_cap((uint32_t)n);
	uint32_t racks[TOPO_JURY_MAX], powers[TOPO_JURY_MAX];
	uint32_t rack_n[TOPO_JURY_MAX] = { 0 }, power_n[TOPO_JURY_MAX] = { 0 };
	size_t nr = 0, np = 0;
	for (size_t i = 0; i < n; i++) {
		if (jury[i] >= m->n_hosts)
			return TOPO_V_SIZE;
		for (size_t j = 0; j < i; j++)
			if (jury[j] == jury[i])
				return TOPO_V_SIZE;
	}
	for (size_t i = 0; i < n; i++)
		if (!topo__is_node(&m->hosts[jury[i]]))
			return TOPO_V_ROLE;
	for (size_t i = 0; i < n; i++)
		if (m->hosts[jury[i]].color != color)
			return TOPO_V_COLOR;
	for (size_t i = 0; i < n; i++) {
		const struct topo_host *h = &m->hosts[jury[i]];
		size_t r, p;
		for (r = 0; r < nr && racks[r] != h->rack; r++)
			;
		if (r == nr)
			racks[nr++] = h->rack;
		rack_n[r]++;
		for (p = 0; p < np && powers[p] != h->power; p++)
			;
		if (p == np)
			powers[np++] = h->power;
		power_n[p]++;
	}
	if (nr < 3)
		return TOPO_V_RACKS;
	if (np < 3)
		return TOPO_V_POWERS;
	for (size_t r = 0; r < nr; r++)
		if (rack_n[r] > cap)
			return TOPO_V_RACK_MAJORITY;
	for (size_t p = 0; p < np; p++)
		if (power_n[p] > cap)
			return TOPO_V_POWER_MAJORITY;
	if (c != NULL) {
		uint32_t lcap = topo_colony_cap(c, color);
		for (size_t i = 0; i < n; i++)
			if (c->load[jury[i]] > lcap)
				return TOPO_V_LOAD;
	}
	return TOPO_V_NONE;
}

static uint64_t host_cost(const struct topo_model *m, const uint32_t *clients,
			  size_t n_clients, uint32_t h)
{
	uint64_t s = 0;
	for (size_t k = 0; k < n_clients; k++)
		s += topo_hops(m, h, clients[k]);
	return s;
}

uint64_t topo_jury_cost(const struct topo_model *m, const struct topo_cell *cell,
			const uint32_t *jury, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += host_cost(m, cell->clients, cell->n_clients, jury[i]);
	return s;
}

/* ---- choosing a jury ---------------------------------------------------- */

struct cand {
	uint32_t host;
	uint64_t cost;
	uint32_t load;
	uint32_t overlap;
	uint64_t tie;
	bool taken;
};

static int cand_cmp(const struct cand *a, const struct cand *b)
{
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	if (a->load != b->load)
		return a->load < b->load ? -1 : 1;
	if (a->overlap != b->overlap)
		return a->overlap < b->overlap ? -1 : 1;
	if (a->tie != b->tie)
		return a->tie < b->tie ? -1 : 1;
	return a->host < b->host ? -1 : a->host > b->host;
}

struct chooser {
	const struct topo_model *m;
	uint32_t cap;                 /* per rack / power domain */
	uint32_t *rack_in, *power_in; /* chosen per rack / domain */
	uint32_t *rack_free;          /* untaken candidates per rack */
	uint32_t *power_seats;        /* scratch */
};

/* Most further members that still fit (see the file comment). */
static uint32_t seats_left(const struct chooser *ch)
{
	const struct topo_model *m = ch->m;
	memset(ch->power_seats, 0, m->n_powers * sizeof *ch->power_seats);
	for (size_t r = 0; r < m->n_racks; r++) {
		if (ch->rack_free[r] == 0 || ch->rack_in[r] >= ch->cap)
			continue;
		uint32_t room = ch->cap - ch->rack_in[r];
		ch->power_seats[m->racks[r].power] += room < ch->rack_free[r] ? room : ch->rack_free[r];
	}
	uint32_t s = 0;
	for (size_t p = 0; p < m->n_powers; p++) {
		uint32_t room = ch->power_in[p] >= ch->cap ? 0 : ch->cap - ch->power_in[p];
		s += room < ch->power_seats[p] ? room : ch->power_seats[p];
	}
	return s;
}

/* Chooses n members for clients among the node hosts of color whose load is
 * below load_cap (a host in `keep` counts as one cell lighter: it is the
 * cell's own member). Writes the sorted jury. Returns 0, TOPO_ENOMEM or
 * TOPO_ECONSTRAINT. */
static int choose_jury(struct topo_colony *c, const uint32_t *clients, size_t n_clients,
		       uint32_t color, uint32_t n, uint32_t load_cap,
		       const uint32_t *keep, size_t n_keep, uint32_t *jury)
{
	const struct topo_model *m = c->model;
	int rc = TOPO_ENOMEM;
	struct cand *cs = malloc((m->n_hosts + 1) * sizeof *cs);
	uint32_t *scratch = calloc(2 * m->n_racks + 2 * m->n_powers + 1, sizeof *scratch);
	uint32_t *mark = NULL;
	if (cs == NULL || scratch == NULL)
		goto out_free;
	if (c->n_cells > 0 && (mark = calloc(c->n_cells, sizeof *mark)) == NULL)
		goto out_free;
	struct chooser ch = { .m = m, .cap = topo__domain_cap(n), .rack_in = scratch,
			      .rack_free = scratch + m->n_racks,
			      .power_in = scratch + 2 * m->n_racks,
			      .power_seats = scratch + 2 * m->n_racks + m->n_powers };
	size_t nc = 0;
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		const struct topo_host *ho = &m->hosts[h];
		if (!topo__is_node(ho) || ho->color != color)
			continue;
		uint32_t load = c->load[h];
		for (size_t k = 0; k < n_keep; k++)
			if (keep[k] == h && load > 0)
				load--;
		if (load >= load_cap)
			continue;
		cs[nc] = (struct cand){ h, host_cost(m, clients, n_clients, h), load, 0,
					topo__rand(&c->rng), false };
		ch.rack_free[ho->rack]++;
		nc++;
	}
	for (uint32_t k = 0; k < n; k++) {
		/* the best candidate whose pick keeps the jury completable */
		struct cand *best = NULL;
		for (size_t i = 0; i < nc; i++) {
			struct cand *x = &cs[i];
			if (x->taken)
				continue;
			const struct topo_host *ho = &m->hosts[x->host];
			if (ch.rack_in[ho->rack] >= ch.cap || ch.power_in[ho->power] >= ch.cap)
				continue;
			if (best != NULL && cand_cmp(x, best) >= 0)
				continue;
			ch.rack_in[ho->rack]++;
			ch.power_in[ho->power]++;
			ch.rack_free[ho->rack]--;
			bool ok = seats_left(&ch) >= n - k - 1;
			ch.rack_in[ho->rack]--;
			ch.power_in[ho->power]--;
			ch.rack_free[ho->rack]++;
			if (ok)
				best = x;
		}
		if (best == NULL) {
			rc = TOPO_ECONSTRAINT;
			goto out_free;
		}
		const struct topo_host *ho = &m->hosts[best->host];
		best->taken = true;
		ch.rack_in[ho->rack]++;
		ch.power_in[ho->power]++;
		ch.rack_free[ho->rack]--;
		jury[k] = best->host;
		/* members should share few cells: count, for every candidate, the
		 * cells it shares with the members chosen so far */
		if (mark != NULL) {
			for (uint32_t i = 0; i < c->load[best->host]; i++)
				mark[c->host_cells[best->host][i]]++;
			for (size_t i = 0; i < nc; i++) {
				uint32_t h = cs[i].host, o = 0;
				for (uint32_t j = 0; j < c->load[h]; j++)
					o += mark[c->host_cells[h][j]];
				cs[i].overlap = o;
			}
		}
	}
	qsort(jury, n, sizeof *jury, cmp_u32);
	rc = 0;
out_free:
	free(mark);
	free(scratch);
	free(cs);
	return rc;
}

static int find_color(const struct topo_model *m, const char *color, uint32_t *out)
{
	if (color == NULL || color[0] == '\0') {
		*out = 0;
		return 0;
	}
	for (size_t i = 0; i < m->n_colors; i++) {
		if (strcmp(m->colors[i].name, color) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
	}
	return TOPO_ENOTFOUND;
}

static int check_clients(const struct topo_model *m, const uint32_t *clients, size_t n)
{
	if (n == 0 || n > TOPO_CLIENTS_MAX || clients == NULL)
		return TOPO_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (clients[i] >= m->n_hosts)
			return TOPO_ENOTFOUND;
	return 0;
}

int topo_colony_add_cell(struct topo_colony *c, const uint32_t *clients,
			 size_t n_clients, const char *color, uint32_t *cell_out)
{
	if (c == NULL || c->model == NULL)
		return TOPO_EINVAL;
	const struct topo_model *m = c->model;
	int rc = check_clients(m, clients, n_clients);
	if (rc != 0)
		return rc;
	uint32_t col;
	if (find_color(m, color, &col) != 0)
		return TOPO_ENOTFOUND;
	if (c->n_cells >= UINT32_MAX - 1)
		return TOPO_ELIMIT;
	if (c->n_cells == c->cap_cells) {
		size_t cap = c->cap_cells ? c->cap_cells * 2 : 64;
		struct topo_cell *nc = realloc(c->cells, cap * sizeof *nc);
		if (nc == NULL)
			return TOPO_ENOMEM;
		c->cells = nc;
		c->cap_cells = cap;
	}
	uint32_t n = c->params.jury_size;
	struct topo_cell cell = { .id = (uint32_t)c->n_cells, .color = col,
				  .n_clients = (uint32_t)n_clients, .n_jury = n };
	memcpy(cell.clients, clients, n_clients * sizeof *clients);
	uint64_t saved_rng = c->rng;
	rc = choose_jury(c, clients, n_clients, col, n,
			 cap_for(c, col, (uint64_t)c->color_cells[col] + 1), NULL, 0, cell.jury);
	if (rc != 0) {
		c->rng = saved_rng;
		return rc;
	}
	for (uint32_t i = 0; i < n; i++) {
		rc = host_cell_add(c, cell.jury[i], cell.id);
		if (rc != 0) {
			while (i-- > 0)
				host_cell_del(c, cell.jury[i], cell.id);
			c->rng = saved_rng;
			return rc;
		}
	}
	c->cells[c->n_cells++] = cell;
	c->color_cells[col]++;
	if (cell_out != NULL)
		*cell_out = cell.id;
	return 0;
}

/* ---- the random-swap improvement (section 5.2) ----------------------------- */

static bool in_jury(const struct topo_cell *cell, uint32_t h)
{
	for (uint32_t i = 0; i < cell->n_jury; i++)
		if (cell->jury[i] == h)
			return true;
	return false;
}

int topo_colony_improve(struct topo_colony *c, struct topo_improve_stats *st)
{
	if (c == NULL || c->model == NULL)
		return TOPO_EINVAL;
	const struct topo_model *m = c->model;
	struct topo_improve_stats s = { 0 };
	for (size_t i = 0; i < c->n_cells; i++)
		s.cost_before += topo_jury_cost(m, &c->cells[i], c->cells[i].jury,
						c->cells[i].n_jury);
	s.cost_after = s.cost_before;
	if (c->n_cells >= 2) {
		for (size_t i = 0; i < c->n_cells; i++) {
			struct topo_cell *a = &c->cells[i];
			for (uint32_t t = 0; t < c->params.swap_candidates; t++) {
				uint32_t j = topo__rand_below(&c->rng, (uint32_t)c->n_cells - 1);
				if (j >= i)
					j++;
				struct topo_cell *b = &c->cells[j];
				uint32_t sa = topo__rand_below(&c->rng, a->n_jury);
				uint32_t sb = topo__rand_below(&c->rng, b->n_jury);
				s.tried++;
				if (b->color != a->color)
					continue;
				uint32_t x = a->jury[sa], y = b->jury[sb];
				if (x == y || in_jury(a, y) || in_jury(b, x))
					continue;
				uint64_t before = topo_jury_cost(m, a, a->jury, a->n_jury) +
						  topo_jury_cost(m, b, b->jury, b->n_jury);
				uint32_t ja[TOPO_JURY_MAX], jb[TOPO_JURY_MAX];
				memcpy(ja, a->jury, sizeof ja);
				memcpy(jb, b->jury, sizeof jb);
				ja[sa] = y;
				jb[sb] = x;
				uint64_t after = topo_jury_cost(m, a, ja, a->n_jury) +
						 topo_jury_cost(m, b, jb, b->n_jury);
				if (after >= before)
					continue;
				/* loads do not change: x and y each keep one cell */
				if (topo_jury_check(m, NULL, a->color, ja, a->n_jury) != TOPO_V_NONE ||
				    topo_jury_check(m, NULL, b->color, jb, b->n_jury) != TOPO_V_NONE)
					continue;
				qsort(ja, a->n_jury, sizeof *ja, cmp_u32);
				qsort(jb, b->n_jury, sizeof *jb, cmp_u32);
				memcpy(a->jury, ja, a->n_jury * sizeof *ja);
				memcpy(b->jury, jb, b->n_jury * sizeof *jb);
				host_cell_replace(c, x, a->id, b->id);
				host_cell_replace(c, y, b->id, a->id);
				s.accepted++;
				s.cost_after -= before - after;
			}
		}
	}
	if (st != NULL)
		*st = s;
	return 0;
}

/* ---- moving a cell toward new clients ------------------------------------------ */

struct planner {
	const struct topo_colony *c;
	const struct topo_cell *cell;   /* with the new clients */
	uint32_t outs[TOPO_JURY_MAX], ins[TOPO_JURY_MAX];
	size_t n_moves;
	bool used_out[TOPO_JURY_MAX], used_in[TOPO_JURY_MAX];
	struct topo_move steps[TOPO_JURY_MAX];
	uint32_t budget;                /* search nodes left */
};

static bool jury_ok(const struct planner *p, const uint32_t *jury)
{
	return topo_jury_check(p->c->model, NULL, p->cell->color, jury, p->cell->n_jury) ==
	       TOPO_V_NONE;
}

/* Depth-first over the order of replacements, best cost first. */
static bool plan_search(struct planner *p, uint32_t *jury, size_t depth)
{
	if (depth == p->n_moves)
		return true;
	if (p->budget == 0)
		return false;
	p->budget--;
	const struct topo_model *m = p->c->model;
	struct option { size_t o, i; uint64_t cost; } opt[TOPO_JURY_MAX * TOPO_JURY_MAX];
	size_t n_opt = 0;
	for (size_t o = 0; o < p->n_moves; o++) {
		if (p->used_out[o])
			continue;
		for (size_t i = 0; i < p->n_moves; i++) {
			if (p->used_in[i])
				continue;
			uint32_t nj[TOPO_JURY_MAX];
			memcpy(nj, jury, sizeof nj);
			for (uint32_t k = 0; k < p->cell->n_jury; k++)
				if (nj[k] == p->outs[o])
					nj[k] = p->ins[i];
			if (!jury_ok(p, nj))
				continue;
			size_t at = n_opt++;
			opt[at].o = o;
			opt[at].i = i;
			opt[at].cost = topo_jury_cost(m, p->cell, nj, p->cell->n_jury);
			while (at > 0 && opt[at - 1].cost > opt[at].cost) {
				struct option t = opt[at - 1];
				opt[at - 1] = opt[at];
				opt[at] = t;
				at--;
			}
		}
	}
	for (size_t k = 0; k < n_opt; k++) {
		uint32_t saved[TOPO_JURY_MAX];
		memcpy(saved, jury, sizeof saved);
		for (uint32_t j = 0; j < p->cell->n_jury; j++)
			if (jury[j] == p->outs[opt[k].o])
				jury[j] = p->ins[opt[k].i];
		p->used_out[opt[k].o] = p->used_in[opt[k].i] = true;
		p->steps[depth] = (struct topo_move){ p->outs[opt[k].o], p->ins[opt[k].i],
						      opt[k].cost };
		if (plan_search(p, jury, depth + 1))
			return true;
		p->used_out[opt[k].o] = p->used_in[opt[k].i] = false;
		memcpy(jury, saved, sizeof saved);
	}
	return false;
}

int topo_move_plan(const struct topo_colony *c, uint32_t cell_id,
		   const uint32_t *new_clients, size_t n_clients,
		   struct topo_move **steps, size_t *n_steps)
{
	if (c == NULL || c->model == NULL || steps == NULL || n_steps == NULL)
		return TOPO_EINVAL;
	if (cell_id >= c->n_cells)
		return TOPO_ENOTFOUND;
	int rc = check_clients(c->model, new_clients, n_clients);
	if (rc != 0)
		return rc;
	const struct topo_cell *old = &c->cells[cell_id];
	struct topo_cell cell = *old;
	cell.n_clients = (uint32_t)n_clients;
	memcpy(cell.clients, new_clients, n_clients * sizeof *new_clients);
	/* The target: what a fresh placement would choose, counting the cell's
	 * own members one cell lighter. The colony is logically const: the
	 * chooser only draws tie-breaks from a copy of the generator. */
	struct topo_colony scratch = *c;
	uint32_t target[TOPO_JURY_MAX];
	uint32_t cap = topo_colony_cap(c, cell.color);
	rc = choose_jury(&scratch, cell.clients, cell.n_clients, cell.color, cell.n_jury,
			 cap, old->jury, old->n_jury, target);
	if (rc != 0)
		return rc;
	/* every incoming host is below the cap (the chooser saw to it), so each
	 * step's load is fine; the search checks the other constraints */
	struct planner p = { .c = c, .cell = &cell, .budget = 20000 };
	size_t no = 0, ni = 0;
	for (uint32_t i = 0; i < cell.n_jury; i++) {
		bool in_target = false, in_old = false;
		for (uint32_t k = 0; k < cell.n_jury; k++) {
			in_target = in_target || target[k] == old->jury[i];
			in_old = in_old || old->jury[k] == target[i];
		}
		if (!in_target)
			p.outs[no++] = old->jury[i];
		if (!in_old)
			p.ins[ni++] = target[i];
	}
	p.n_moves = no;
	struct topo_move *out = NULL;
	if (no > 0) {
		uint32_t jury[TOPO_JURY_MAX];
		memcpy(jury, old->jury, sizeof jury);
		if (!plan_search(&p, jury, 0))
			return TOPO_ECONSTRAINT;
		out = malloc(no * sizeof *out);
		if (out == NULL)
			return TOPO_ENOMEM;
		memcpy(out, p.steps, no * sizeof *out);
	}
	*steps = out;
	*n_steps = no;
	return 0;
}

int topo_colony_apply_move(struct topo_colony *c, uint32_t cell_id,
			   const struct topo_move *step,
			   const uint32_t *clients, size_t n_clients)
{
	if (c == NULL || c->model == NULL || step == NULL)
		return TOPO_EINVAL;
	if (cell_id >= c->n_cells)
		return TOPO_ENOTFOUND;
	if (clients != NULL) {
		int rc = check_clients(c->model, clients, n_clients);
		if (rc != 0)
			return rc;
	}
	struct topo_cell *cell = &c->cells[cell_id];
	if (step->in >= c->model->n_hosts || !in_jury(cell, step->out) || in_jury(cell, step->in))
		return TOPO_EINVAL;
	uint32_t nj[TOPO_JURY_MAX];
	memcpy(nj, cell->jury, sizeof nj);
	for (uint32_t k = 0; k < cell->n_jury; k++)
		if (nj[k] == step->out)
			nj[k] = step->in;
	if (topo_jury_check(c->model, NULL, cell->color, nj, cell->n_jury) != TOPO_V_NONE ||
	    c->load[step->in] + 1 > topo_colony_cap(c, cell->color))
		return TOPO_ECONSTRAINT;
	int rc = host_cell_add(c, step->in, cell_id);
	if (rc != 0)
		return rc;
	host_cell_del(c, step->out, cell_id);
	qsort(nj, cell->n_jury, sizeof *nj, cmp_u32);
	memcpy(cell->jury, nj, cell->n_jury * sizeof *nj);
	if (clients != NULL) {
		cell->n_clients = (uint32_t)n_clients;
		memcpy(cell->clients, clients, n_clients * sizeof *clients);
	}
	return 0;
}
