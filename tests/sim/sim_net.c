/* The simulated network (PHYSALIA.md 6, SimWorld: "delay, duplicate or drop
 * packets that match given criteria", net.partitionOff / healPartition).
 * Every decision draws from the caller's sim_rng in a fixed order, so one
 * seed gives one fate to every message. */
#include <string.h>

#include "sim.h"

void sim_net_init(struct sim_net *n, const struct sim_link_cfg *dflt, sim_peek_fn peek)
{
	memset(n, 0, sizeof(*n));
	if (dflt)
		n->dflt = *dflt;
	n->peek = peek;
	n->next_match_id = 1;
}

int sim_net_set_link(struct sim_net *n, uint32_t from, uint32_t to, const struct sim_link_cfg *cfg)
{
	for (int i = 0; i < n->nlinks; i++)
		if (n->links[i].from == from && n->links[i].to == to) {
			n->links[i].cfg = *cfg;
			return SIM_OK;
		}
	if (n->nlinks == SIM_NET_MAX_LINKS)
		return SIM_EFULL;
	n->links[n->nlinks].from = from;
	n->links[n->nlinks].to = to;
	n->links[n->nlinks].cfg = *cfg;
	n->nlinks++;
	return SIM_OK;
}

const struct sim_link_cfg *sim_net_link(const struct sim_net *n, uint32_t from, uint32_t to)
{
	for (int i = 0; i < n->nlinks; i++)
		if (n->links[i].from == from && n->links[i].to == to)
			return &n->links[i].cfg;
	return &n->dflt;
}

static int find_part(const struct sim_net *n, const char *name)
{
	for (int i = 0; i < n->nparts; i++)
		if (strcmp(n->parts[i].name, name) == 0)
			return i;
	return -1;
}

int sim_net_partition(struct sim_net *n, const char *name, const uint32_t *nodes, int count,
		      enum sim_part_mode mode)
{
	if (!name || !*name || strlen(name) >= SIM_NET_NAME_MAX || count < 0 ||
	    count > SIM_NET_MAX_GROUP)
		return SIM_EINVAL;
	int i = find_part(n, name);
	if (i < 0) {
		if (n->nparts == SIM_NET_MAX_PARTS)
			return SIM_EFULL;
		i = n->nparts++;
	}
	strcpy(n->parts[i].name, name);
	n->parts[i].mode = mode;
	n->parts[i].n = count;
	for (int k = 0; k < count; k++)
		n->parts[i].nodes[k] = nodes[k];
	return SIM_OK;
}

int sim_net_heal(struct sim_net *n, const char *name)
{
	int i = find_part(n, name);
	if (i < 0)
		return SIM_ENOENT;
	n->parts[i] = n->parts[--n->nparts];
	return SIM_OK;
}

void sim_net_heal_all(struct sim_net *n)
{
	n->nparts = 0;
}

static bool in_group(const uint32_t *nodes, int count, uint32_t x)
{
	for (int i = 0; i < count; i++)
		if (nodes[i] == x)
			return true;
	return false;
}

bool sim_net_blocked(const struct sim_net *n, uint32_t from, uint32_t to)
{
	for (int i = 0; i < n->nparts; i++) {
		bool fi = in_group(n->parts[i].nodes, n->parts[i].n, from);
		bool ti = in_group(n->parts[i].nodes, n->parts[i].n, to);
		switch (n->parts[i].mode) {
		case SIM_PART_SYMMETRIC:
			if (fi != ti)
				return true;
			break;
		case SIM_PART_ISOLATE_IN:
			if (ti && !fi)
				return true;
			break;
		case SIM_PART_ISOLATE_OUT:
			if (fi && !ti)
				return true;
			break;
		}
	}
	return false;
}

int sim_net_match(struct sim_net *n, const struct sim_matcher *m)
{
	if (n->nmatch == SIM_NET_MAX_MATCH)
		return SIM_EFULL;
	int id = n->next_match_id++;
	n->match[n->nmatch].id = id;
	n->match[n->nmatch].m = *m;
	n->nmatch++;
	return id;
}

int sim_net_unmatch(struct sim_net *n, int id)
{
	for (int i = 0; i < n->nmatch; i++)
		if (n->match[i].id == id) {
			/* Keep the order: matchers apply in the order added. */
			memmove(&n->match[i], &n->match[i + 1],
				(size_t)(n->nmatch - i - 1) * sizeof(n->match[0]));
			n->nmatch--;
			return SIM_OK;
		}
	return SIM_ENOENT;
}

static bool matches(const struct sim_matcher *m, uint32_t from, uint32_t to, int type)
{
	return (m->from == SIM_ANY || m->from == from) && (m->to == SIM_ANY || m->to == to) &&
	       (m->type == SIM_ANY_TYPE || m->type == type);
}

int sim_net_route(struct sim_net *n, struct sim_rng *r, sim_time now, uint32_t from, uint32_t to,
		  const void *bytes, size_t len, sim_time out[SIM_NET_MAX_COPIES])
{
	const struct sim_link_cfg *c = sim_net_link(n, from, to);
	n->stats.sent++;
	/* Draw every random number the link needs before any early return, so
	 * adding a partition or a matcher does not shift the rest of the run. */
	bool lost = sim_rng_chance(r, c->loss_ppm);
	bool dup = sim_rng_chance(r, c->dup_ppm);
	sim_time d[2];
	for (int k = 0; k < 2; k++) {
		d[k] = sim_rng_range(r, c->delay_min, c->delay_max);
		if (sim_rng_chance(r, c->reorder_ppm))
			d[k] += sim_rng_range(r, 0, c->reorder_extra);
	}
	if (sim_net_blocked(n, from, to)) {
		n->stats.dropped_part++;
		return 0;
	}
	int type = n->peek ? n->peek(bytes, len) : SIM_ANY_TYPE;
	int extra = 0;
	sim_time add = 0;
	bool drop = false;
	for (int i = 0; i < n->nmatch && !drop; i++) {
		struct sim_matcher *m = &n->match[i].m;
		if (!matches(m, from, to, type))
			continue;
		if (m->action == SIM_MATCH_DROP)
			drop = true;
		else if (m->action == SIM_MATCH_DUPLICATE)
			extra += m->copies;
		else
			add += m->delay;
		/* A counted matcher goes once it has applied `remaining` times. */
		if (m->remaining && --m->remaining == 0) {
			sim_net_unmatch(n, n->match[i].id);
			i--;
		}
	}
	if (drop) {
		n->stats.dropped_match++;
		return 0;
	}
	if (lost) {
		n->stats.dropped_loss++;
		return 0;
	}
	int k = 0;
	out[k++] = now + d[0] + add;
	if (dup) {
		out[k++] = now + d[1] + add;
		n->stats.duplicated++;
	}
	for (; extra > 0 && k < SIM_NET_MAX_COPIES; extra--) {
		/* Extra copies from a matcher trail the original by 1 us each. */
		out[k] = out[0] + (sim_time)k * SIM_US;
		k++;
		n->stats.duplicated++;
	}
	return k;
}
