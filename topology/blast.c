/* topology/blast.c: what one failed rack, power domain or row does to a
 * colony (paper sections 2.1, 3.1: small blast radius by keeping few cells
 * per node and few clients per cell). */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool host_in(const struct topo_host *h, enum topo_domain_kind kind, uint32_t idx)
{
	switch (kind) {
	case TOPO_DOM_RACK: return h->rack == idx;
	case TOPO_DOM_POWER: return h->power == idx;
	case TOPO_DOM_ROW: return h->row == idx;
	}
	return false;
}

static void blast_one(const struct topo_colony *c, enum topo_domain_kind kind,
		      uint32_t idx, bool *lost_client, struct topo_blast *b)
{
	const struct topo_model *m = c->model;
	memset(b, 0, sizeof *b);
	b->kind = kind;
	b->index = idx;
	memset(lost_client, 0, m->n_hosts * sizeof *lost_client);
	for (size_t i = 0; i < m->n_hosts; i++) {
		if (!host_in(&m->hosts[i], kind, idx))
			continue;
		b->hosts_down++;
		if (m->hosts[i].role != TOPO_ROLE_NODE)
			b->clients_down++;
	}
	for (size_t k = 0; k < c->n_cells; k++) {
		const struct topo_cell *cell = &c->cells[k];
		uint32_t down = 0;
		for (uint32_t j = 0; j < cell->n_jury; j++)
			down += host_in(&m->hosts[cell->jury[j]], kind, idx);
		if (down == 0)
			continue;
		b->cells_touched++;
		if (cell->n_jury - down >= cell->n_jury / 2 + 1)
			continue;
		b->cells_lost++;
		for (uint32_t j = 0; j < cell->n_clients; j++) {
			uint32_t h = cell->clients[j];
			if (!host_in(&m->hosts[h], kind, idx) && !lost_client[h]) {
				lost_client[h] = true;
				b->clients_lost++;
			}
		}
	}
}

int topo_blast_radius(const struct topo_colony *c, struct topo_blast **out, size_t *n_out)
{
	if (c == NULL || c->model == NULL || out == NULL || n_out == NULL)
		return TOPO_EINVAL;
	const struct topo_model *m = c->model;
	size_t n = m->n_racks + m->n_powers + m->n_rows;
	struct topo_blast *b = calloc(n, sizeof *b);
	bool *lost = calloc(m->n_hosts + 1, sizeof *lost);
	if (b == NULL || lost == NULL) {
		free(b);
		free(lost);
		return TOPO_ENOMEM;
	}
	size_t k = 0;
	for (uint32_t i = 0; i < m->n_racks; i++)
		blast_one(c, TOPO_DOM_RACK, i, lost, &b[k++]);
	for (uint32_t i = 0; i < m->n_powers; i++)
		blast_one(c, TOPO_DOM_POWER, i, lost, &b[k++]);
	for (uint32_t i = 0; i < m->n_rows; i++)
		blast_one(c, TOPO_DOM_ROW, i, lost, &b[k++]);
	free(lost);
	*out = b;
	*n_out = n;
	return 0;
}
