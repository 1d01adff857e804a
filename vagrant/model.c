/* Rack models the layout reads: regular shapes (the default model's shape and
 * the large models of the tests). Rack model files are topology/'s job. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

int vag_model_shape(unsigned rows, unsigned racks_per_row, unsigned nodes,
		    unsigned clients, unsigned powers, struct vag_model **out)
{
	if (rows == 0 || racks_per_row == 0 || nodes + clients == 0 || powers == 0)
		return VAG_EINVAL;
	if ((unsigned long)rows * racks_per_row > VAG_RACKS_MAX ||
	    nodes + clients > VAG_HOSTS_PER_RACK_MAX)
		return VAG_ELIMIT;
	struct vag_model *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return VAG_ENOMEM;
	m->nracks = (size_t)rows * racks_per_row;
	m->nhosts = m->nracks * (nodes + clients);
	m->racks = calloc(m->nracks, sizeof(*m->racks));
	m->hosts = calloc(m->nhosts, sizeof(*m->hosts));
	if (m->racks == NULL || m->hosts == NULL) {
		vag_model_free(m);
		return VAG_ENOMEM;
	}
	size_t h = 0;
	for (size_t k = 0; k < m->nracks; k++) {
		unsigned row = (unsigned)(k / racks_per_row);
		unsigned in_row = (unsigned)(k % racks_per_row);
		struct vag_rack_in *r = &m->racks[k];
		snprintf(r->name, sizeof(r->name), "rack%zu", k + 1);
		snprintf(r->row, sizeof(r->row), "row%u", row + 1);
		snprintf(r->power, sizeof(r->power), "row%u-pd%u", row + 1, in_row % powers + 1);
		for (unsigned i = 0; i < nodes + clients; i++, h++) {
			struct vag_host_in *x = &m->hosts[h];
			int client = i >= nodes;
			snprintf(x->name, sizeof(x->name), "rack%zu-%c%u", k + 1,
				 client ? 'c' : 'n', client ? i - nodes + 1 : i + 1);
			x->rack = k;
			x->roles = client ? VAG_ROLE_CLIENT : VAG_ROLE_NODE;
		}
	}
	*out = m;
	return VAG_OK;
}

int vag_model_default(struct vag_model **out)
{
	return vag_model_shape(1, 5, 3, 1, 3, out);
}

void vag_model_free(struct vag_model *m)
{
	if (m == NULL)
		return;
	free(m->racks);
	free(m->hosts);
	free(m);
}
