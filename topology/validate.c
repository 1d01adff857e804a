/* topology/validate.c: every rule a rack model must keep, however it was made
 * (file, default, generated, edited by hand). The first problem found is
 * reported, in the order: structure, names, duplicates, addresses, power
 * domains, jury diversity. */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int topo__name_valid(const char *name, size_t len)
{
	if (len == 0 || len >= TOPO_NAME_MAX)
		return TOPO_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (i == 0 && !alnum)
			return TOPO_EINVAL;
		if (!alnum && c != '_' && c != '.' && c != '-')
			return TOPO_EINVAL;
	}
	return 0;
}

enum { RANGE_OUTSIDE = 1, RANGE_ALIGN, RANGE_SMALL };

int topo__range_check(uint32_t base, uint32_t prefix)
{
	if (prefix < TOPO_RANGE_PREFIX || prefix > 32)
		return RANGE_OUTSIDE;
	if ((base >> (32 - TOPO_RANGE_PREFIX)) != (TOPO_RANGE_BASE >> (32 - TOPO_RANGE_PREFIX)))
		return RANGE_OUTSIDE;
	if (prefix > 23)
		return RANGE_SMALL;
	if ((base & ((1u << (32 - prefix)) - 1)) != 0)
		return RANGE_ALIGN;
	return 0;
}

const char *topo__range_problem(int code)
{
	switch (code) {
	case RANGE_OUTSIDE: return "must lie inside 198.18.0.0/15 (set aside for benchmarks)";
	case RANGE_ALIGN: return "has host bits set (the base must be aligned to the prefix)";
	case RANGE_SMALL: return "is smaller than a /23 (one /24 per rack plus one for the core)";
	}
	return "is invalid";
}

uint32_t topo__range_racks(const struct topo_model *m)
{
	return (1u << (24 - m->range_prefix)) - 1;
}

static const char *kind_word(int kind)
{
	return kind == 0 ? "row" : kind == 1 ? "rack" : "host";
}

struct named {
	const char *name;
	int kind;              /* 0 row, 1 rack, 2 host */
	struct topo_pos pos;
	size_t order;          /* file order for models without positions */
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.column != y->pos.column)
		return x->pos.column < y->pos.column ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool pos_before(const struct named *a, const struct named *b)
{
	if (a->pos.line != b->pos.line)
		return a->pos.line < b->pos.line;
	if (a->pos.column != b->pos.column)
		return a->pos.column < b->pos.column;
	return a->order < b->order;
}

/* Rows, racks and hosts share one space of names: each becomes a namespace
 * name in the fabric. Reports the duplicate that comes first in the file. */
static int check_duplicates(const struct topo_model *m, struct topo_diag *d)
{
	size_t n = m->n_rows + m->n_racks + m->n_hosts, k = 0;
	struct named *v = malloc((n ? n : 1) * sizeof *v);
	if (v == NULL)
		return topo__diag(d, TOPO_ENOMEM, m->source, (struct topo_pos){ 0, 0 },
				  "out of memory");
	for (size_t i = 0; i < m->n_rows; i++, k++)
		v[k] = (struct named){ m->rows[i].name, 0, m->rows[i].pos, k };
	for (size_t i = 0; i < m->n_racks; i++, k++)
		v[k] = (struct named){ m->racks[i].name, 1, m->racks[i].pos, k };
	for (size_t i = 0; i < m->n_hosts; i++, k++)
		v[k] = (struct named){ m->hosts[i].name, 2, m->hosts[i].pos, k };
	qsort(v, n, sizeof *v, named_cmp);
	const struct named *first = NULL, *dup = NULL;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i - 1].name, v[i].name) != 0)
			continue;
		if (dup == NULL || pos_before(&v[i], dup)) {
			dup = &v[i];
			first = &v[i - 1];
		}
	}
	int rc = 0;
	if (dup != NULL) {
		if (first->pos.line > 0)
			rc = topo__diag(d, TOPO_EDUPLICATE, m->source, dup->pos,
					"duplicate name: %s '%s' was already used by the %s at line %u, column %u",
					kind_word(dup->kind), dup->name, kind_word(first->kind),
					first->pos.line, first->pos.column);
		else
			rc = topo__diag(d, TOPO_EDUPLICATE, m->source, dup->pos,
					"duplicate name: %s '%s' was already used by a %s",
					kind_word(dup->kind), dup->name, kind_word(first->kind));
	}
	free(v);
	return rc;
}

static int check_structure(const struct topo_model *m, struct topo_diag *d)
{
	struct topo_pos nopos = { 0, 0 };
	if (m->n_rows == 0)
		return topo__diag(d, TOPO_ESCHEMA, m->source, nopos, "the model has no rows");
	if (m->n_colors == 0)
		return topo__diag(d, TOPO_EINVAL, m->source, nopos, "colors[0] must exist");
	uint32_t rack = 0;
	for (size_t r = 0; r < m->n_rows; r++) {
		if (m->rows[r].first_rack != rack)
			return topo__diag(d, TOPO_EINVAL, m->source, m->rows[r].pos,
					  "row '%s' racks are not contiguous", m->rows[r].name);
		rack += m->rows[r].n_racks;
	}
	if (rack != m->n_racks)
		return topo__diag(d, TOPO_EINVAL, m->source, nopos, "rows do not cover the racks");
	uint32_t host = 0;
	for (size_t k = 0; k < m->n_racks; k++) {
		const struct topo_rack *rk = &m->racks[k];
		if (rk->row >= m->n_rows || k < m->rows[rk->row].first_rack ||
		    k >= m->rows[rk->row].first_rack + m->rows[rk->row].n_racks)
			return topo__diag(d, TOPO_EINVAL, m->source, rk->pos,
					  "rack '%s' has a wrong row", rk->name);
		if (rk->power >= m->n_powers)
			return topo__diag(d, TOPO_ENOPOWER, m->source, rk->pos,
					  "rack '%s' has no power domain", rk->name);
		if (rk->first_host != host)
			return topo__diag(d, TOPO_EINVAL, m->source, rk->pos,
					  "rack '%s' hosts are not contiguous", rk->name);
		for (uint32_t s = 0; s < rk->n_hosts; s++) {
			const struct topo_host *h = &m->hosts[host + s];
			if (h->rack != k || h->row != rk->row || h->power != rk->power ||
			    h->slot != s)
				return topo__diag(d, TOPO_EINVAL, m->source, h->pos,
						  "host '%s' disagrees with its rack", h->name);
			if (h->role < TOPO_ROLE_NODE || h->role > TOPO_ROLE_BOTH)
				return topo__diag(d, TOPO_ESCHEMA, m->source, h->pos,
						  "host '%s' has no valid role", h->name);
			if (h->color >= m->n_colors)
				return topo__diag(d, TOPO_EINVAL, m->source, h->pos,
						  "host '%s' has a wrong color index", h->name);
		}
		host += rk->n_hosts;
	}
	if (host != m->n_hosts)
		return topo__diag(d, TOPO_EINVAL, m->source, nopos, "racks do not cover the hosts");
	return 0;
}

static int bad_name(const struct topo_model *m, struct topo_diag *d, const char *what,
		    const char *name, struct topo_pos pos)
{
	return topo__diag(d, TOPO_ESCHEMA, m->source, pos,
			  "%s '%.40s' is not a valid name (1-%d characters of A-Z a-z 0-9 _ . -, "
			  "starting with a letter or digit)", what, name, TOPO_NAME_MAX - 1);
}

static int check_names(const struct topo_model *m, struct topo_diag *d)
{
	struct topo_pos nopos = { 0, 0 };
	if (topo__name_valid(m->datacenter, strnlen(m->datacenter, TOPO_NAME_MAX)) != 0)
		return bad_name(m, d, "datacenter", m->datacenter, nopos);
	for (size_t i = 0; i < m->n_powers; i++)
		if (topo__name_valid(m->powers[i].name, strnlen(m->powers[i].name, TOPO_NAME_MAX)))
			return bad_name(m, d, "power domain", m->powers[i].name, m->powers[i].pos);
	for (size_t i = 1; i < m->n_colors; i++)
		if (topo__name_valid(m->colors[i].name, strnlen(m->colors[i].name, TOPO_NAME_MAX)))
			return bad_name(m, d, "color", m->colors[i].name, nopos);
	struct { const char *what; const char *name; struct topo_pos pos; } e;
	for (size_t i = 0; i < m->n_rows + m->n_racks + m->n_hosts; i++) {
		if (i < m->n_rows)
			e.what = "row", e.name = m->rows[i].name, e.pos = m->rows[i].pos;
		else if (i < m->n_rows + m->n_racks)
			e.what = "rack", e.name = m->racks[i - m->n_rows].name,
			e.pos = m->racks[i - m->n_rows].pos;
		else
			e.what = "host", e.name = m->hosts[i - m->n_rows - m->n_racks].name,
			e.pos = m->hosts[i - m->n_rows - m->n_racks].pos;
		if (topo__name_valid(e.name, strnlen(e.name, TOPO_NAME_MAX)) != 0)
			return bad_name(m, d, e.what, e.name, e.pos);
		if (strcmp(e.name, "core") == 0)
			return topo__diag(d, TOPO_ESCHEMA, m->source, e.pos,
					  "%s name 'core' is reserved for the core router", e.what);
	}
	return 0;
}

static int check_addresses(const struct topo_model *m, struct topo_diag *d)
{
	struct topo_pos nopos = { 0, 0 };
	int rc = topo__range_check(m->range_base, m->range_prefix);
	if (rc != 0)
		return topo__diag(d, TOPO_EADDRESS, m->source, nopos, "address range %s",
				  topo__range_problem(rc));
	uint32_t b = m->range_base;
	uint32_t fit = topo__range_racks(m);
	if (m->n_racks > fit)
		return topo__diag(d, TOPO_EADDRESS, m->source, m->racks[fit].pos,
				  "address range exhausted: rack '%s' is rack %u but "
				  "%u.%u.%u.%u/%u holds %u rack /24s (the last /24 is the core's)",
				  m->racks[fit].name, fit + 1, b >> 24, (b >> 16) & 255,
				  (b >> 8) & 255, b & 255, m->range_prefix, fit);
	if (m->n_rows > TOPO__ROWS_MAX)
		return topo__diag(d, TOPO_EADDRESS, m->source, m->rows[TOPO__ROWS_MAX].pos,
				  "address range exhausted: more than %u rows (one /31 each in "
				  "the core /24)", TOPO__ROWS_MAX);
	for (size_t k = 0; k < m->n_racks; k++) {
		const struct topo_rack *rk = &m->racks[k];
		if (rk->n_hosts > TOPO_HOSTS_PER_RACK_MAX)
			return topo__diag(d, TOPO_EADDRESS, m->source,
					  m->hosts[rk->first_host + TOPO_HOSTS_PER_RACK_MAX].pos,
					  "address range exhausted: rack '%s' has more than %u hosts "
					  "(one /31 each in the rack's /24)", rk->name,
					  TOPO_HOSTS_PER_RACK_MAX);
		if (rk->subnet != m->range_base + (uint32_t)k * 256u)
			return topo__diag(d, TOPO_EINVAL, m->source, rk->pos,
					  "rack '%s' subnet does not follow the addressing plan", rk->name);
		for (uint32_t s = 0; s < rk->n_hosts; s++)
			if (m->hosts[rk->first_host + s].addr != rk->subnet + 2 * s + 1)
				return topo__diag(d, TOPO_EINVAL, m->source,
						  m->hosts[rk->first_host + s].pos,
						  "host '%s' address does not follow the addressing plan",
						  m->hosts[rk->first_host + s].name);
	}
	return 0;
}

/* Can the node hosts of color c seat a jury of n with at most cap per rack
 * and per power domain? Racks partition into power domains, so the most
 * seats are sum over domains of min(cap, sum over its racks of
 * min(nodes, cap)). */
static int check_color(const struct topo_model *m, uint32_t c, uint32_t n,
		       uint32_t *per_rack, uint32_t *per_power, struct topo_diag *d)
{
	uint32_t cap = topo__domain_cap(n), nodes = 0;
	struct topo_pos first = m->jury_pos;
	bool have_first = false;
	memset(per_rack, 0, m->n_racks * sizeof *per_rack);
	memset(per_power, 0, m->n_powers * sizeof *per_power);
	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct topo_host *h = &m->hosts[i];
		if (!topo__is_node(h) || h->color != c)
			continue;
		if (!have_first && c != 0) {
			first = h->pos;
			have_first = true;
		}
		per_rack[h->rack]++;
		nodes++;
	}
	if (nodes == 0)
		return 0;
	uint32_t powers = 0, seats = 0;
	for (size_t k = 0; k < m->n_racks; k++) {
		if (per_rack[k] == 0)
			continue;
		if (per_power[m->racks[k].power] == 0)
			powers++;
		per_power[m->racks[k].power] += per_rack[k] < cap ? per_rack[k] : cap;
	}
	for (size_t p = 0; p < m->n_powers; p++)
		seats += per_power[p] < cap ? per_power[p] : cap;
	char who[TOPO_NAME_MAX + 32];
	if (c == 0)
		snprintf(who, sizeof who, "uncolored node hosts");
	else
		snprintf(who, sizeof who, "nodes of color '%s'", m->colors[c].name);
	if (powers < 3)
		return topo__diag(d, TOPO_EDIVERSITY, m->source, first,
				  "fewer than 3 power domains: the %s are in %u power domain%s; "
				  "a %u-node jury needs at least 3 with no majority in any one",
				  who, powers, powers == 1 ? "" : "s", n);
	/* fewer than 3 racks cannot happen here: each rack has one power
	 * domain, so 3 domains mean at least 3 racks */
	if (seats < n)
		return topo__diag(d, TOPO_EDIVERSITY, m->source, first,
				  "the %s (%u) can seat at most %u members of a %u-node jury "
				  "with at most %u per rack and per power domain",
				  who, nodes, seats, n, cap);
	return 0;
}

static int check_diversity(const struct topo_model *m, uint32_t n, struct topo_diag *d)
{
	size_t nodes = 0;
	for (size_t i = 0; i < m->n_hosts; i++)
		nodes += topo__is_node(&m->hosts[i]);
	if (nodes == 0)
		return topo__diag(d, TOPO_EDIVERSITY, m->source, m->jury_pos,
				  "the model has no node hosts (role node or both)");
	uint32_t *per_rack = malloc((m->n_racks + 1) * sizeof *per_rack);
	uint32_t *per_power = malloc((m->n_powers + 1) * sizeof *per_power);
	int rc = 0;
	if (per_rack == NULL || per_power == NULL)
		rc = topo__diag(d, TOPO_ENOMEM, m->source, m->jury_pos, "out of memory");
	for (uint32_t c = 0; rc == 0 && c < m->n_colors; c++)
		rc = check_color(m, c, n, per_rack, per_power, d);
	free(per_rack);
	free(per_power);
	return rc;
}

int topo_model_validate(const struct topo_model *m, uint32_t jury_size,
			struct topo_diag *d)
{
	if (m == NULL)
		return TOPO_EINVAL;
	if (jury_size < TOPO_JURY_MIN || jury_size > TOPO_JURY_MAX)
		return topo__diag(d, TOPO_ESCHEMA, m->source, m->jury_pos,
				  "jury must be from %d to %d, not %u", TOPO_JURY_MIN,
				  TOPO_JURY_MAX, jury_size);
	int rc = check_structure(m, d);
	if (rc == 0)
		rc = check_names(m, d);
	if (rc == 0)
		rc = check_duplicates(m, d);
	if (rc == 0)
		rc = check_addresses(m, d);
	if (rc == 0)
		rc = check_diversity(m, jury_size, d);
	return rc;
}
