/* engine/jury.c: the cell's jury (its voting membership), majority quorums,
 * and the alpha window that bounds the pipeline (PHYSALIA.md 3-4).
 *
 * The window is the one place that decides how far the log may run ahead of
 * what is chosen: a proposer opens slot s only while s < chosen + alpha, and
 * an acceptor accepts slot s only while s < its own chosen + alpha. The second
 * rule bounds what an acceptor can report in a promise to alpha entries, and
 * it is what lets a membership change logged at i take effect at i + alpha:
 * every slot below i + alpha is voted on with the jury in force before it.
 * Reconfiguration itself (issue 5) lands here: ph__jury_for() is the hook. */
#include "internal.h"

int ph__jury_check(const ph_node_id *ids, size_t n)
{
	if (n < PH_JURY_MIN || n > PH_JURY_MAX)
		return PH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0)
			return PH_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (ids[i] == ids[j])
				return PH_EINVAL;
	}
	return 0;
}

int ph__jury_index(const struct ph_jury *j, ph_node_id id)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->ids[i] == id)
			return (int)i;
	return -1;
}

bool ph__jury_member(const struct ph_jury *j, ph_node_id id)
{
	return ph__jury_index(j, id) >= 0;
}

size_t ph__jury_quorum(const struct ph_jury *j)
{
	return (size_t)j->n / 2 + 1;
}

const struct ph_jury *ph__jury_for(const struct ph_cell *c, ph_slot s)
{
	(void)s; /* one static jury until reconfiguration arrives */
	return &c->jury;
}

bool ph__window_open(const struct ph_cell *c, ph_slot s)
{
	return s < c->chosen + c->alpha;
}

bool ph__accept_window(const struct ph_cell *c, ph_slot s)
{
	return s < c->chosen + c->alpha;
}
