/* The rack model as the layout reads it, taken from topology/'s model so
 * that every host keeps its fabric address on the VMs too. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"
#include "vagrant.h"

int vag_model_from_topo(const struct topo_model *t, struct vag_model **out)
{
	if (t == NULL || t->n_racks == 0 || t->n_hosts == 0)
		return VAG_EINVAL;
	struct vag_model *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return VAG_ENOMEM;
	m->nracks = t->n_racks;
	m->nhosts = t->n_hosts;
	m->range_base = t->range_base;
	m->range_prefix = (int)t->range_prefix;
	m->racks = calloc(m->nracks, sizeof(*m->racks));
	m->hosts = calloc(m->nhosts, sizeof(*m->hosts));
	if (m->racks == NULL || m->hosts == NULL) {
		vag_model_free(m);
		return VAG_ENOMEM;
	}
	for (size_t k = 0; k < t->n_racks; k++) {
		const struct topo_rack *r = &t->racks[k];
		snprintf(m->racks[k].name, VAG_NAME_MAX, "%s", r->name);
		snprintf(m->racks[k].row, VAG_NAME_MAX, "%s", t->rows[r->row].name);
		snprintf(m->racks[k].power, VAG_NAME_MAX, "%s", t->powers[r->power].name);
		m->racks[k].subnet = r->subnet;
	}
	for (size_t i = 0; i < t->n_hosts; i++) {
		const struct topo_host *h = &t->hosts[i];
		snprintf(m->hosts[i].name, VAG_NAME_MAX, "%s", h->name);
		m->hosts[i].rack = h->rack;
		m->hosts[i].roles = (h->role & TOPO_ROLE_NODE ? VAG_ROLE_NODE : 0) |
				    (h->role & TOPO_ROLE_CLIENT ? VAG_ROLE_CLIENT : 0);
		m->hosts[i].addr = h->addr;
	}
	*out = m;
	return VAG_OK;
}

void vag_model_free(struct vag_model *m)
{
	if (m == NULL)
		return;
	free(m->racks);
	free(m->hosts);
	free(m);
}

int vag_shape_parse(const char *text, unsigned out[4], char *err, size_t errlen)
{
	/* RxKxN+C: four decimals, separators exactly 'x', 'x', '+'. */
	const char seps[3] = { 'x', 'x', '+' };
	unsigned v[4];
	const char *p = text;
	for (int i = 0; i < 4; i++) {
		unsigned long n = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 6) {
			n = n * 10 + (unsigned long)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || (*p >= '0' && *p <= '9'))
			goto bad;
		v[i] = (unsigned)n;
		if (i < 3) {
			if (*p != seps[i])
				goto bad;
			p++;
		}
	}
	if (*p != '\0')
		goto bad;
	if (v[0] == 0 || v[1] == 0 || v[2] + v[3] == 0) {
		snprintf(err, errlen, "--shape %s: rows, racks and hosts per rack must be > 0", text);
		return VAG_EINVAL;
	}
	if ((unsigned long)v[0] * v[1] > VAG_RACKS_MAX || v[2] + v[3] > VAG_HOSTS_PER_RACK_MAX) {
		snprintf(err, errlen, "--shape %s: at most %d racks and %d hosts per rack", text,
			 VAG_RACKS_MAX, VAG_HOSTS_PER_RACK_MAX);
		return VAG_ELIMIT;
	}
	memcpy(out, v, sizeof(v));
	return VAG_OK;
bad:
	snprintf(err, errlen, "--shape %s: expected ROWSxRACKSxNODES+CLIENTS, e.g. 2x10x8+2 (column %d)",
		 text, (int)(p - text) + 1);
	return VAG_EINVAL;
}
