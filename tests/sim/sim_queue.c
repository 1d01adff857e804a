/* The simulator's event queue: a binary min-heap on (at, seq).  seq is the
 * push order, so two events due at the same instant run in the order they
 * were scheduled: the fixed tie rule that makes a seed reproduce exactly. */
#include <stdlib.h>

#include "sim.h"

const char *sim_strerror(int code)
{
	switch (code) {
	case SIM_OK: return "ok";
	case SIM_ENOMEM: return "out of memory";
	case SIM_EINVAL: return "invalid argument";
	case SIM_ENOENT: return "no such entry";
	case SIM_EFULL: return "table full";
	case SIM_EWRITE: return "simulated write failure";
	case SIM_EFSYNC: return "simulated fsync failure";
	case SIM_EEMPTY: return "queue empty";
	}
	return "unknown simulator error";
}

static bool before(const struct sim_event *a, const struct sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

void sim_queue_init(struct sim_queue *q)
{
	q->heap = NULL;
	q->n = q->cap = 0;
	q->next_seq = 0;
}

void sim_queue_close(struct sim_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->heap[i].data);
	free(q->heap);
	sim_queue_init(q);
}

int sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct sim_event *h = realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return SIM_ENOMEM;
		q->heap = h;
		q->cap = cap;
	}
	size_t i = q->n++;
	struct sim_event e = *ev;
	e.seq = q->next_seq++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&e, &q->heap[p]))
			break;
		q->heap[i] = q->heap[p];
		i = p;
	}
	q->heap[i] = e;
	return SIM_OK;
}

const struct sim_event *sim_queue_peek(const struct sim_queue *q)
{
	return q->n ? &q->heap[0] : NULL;
}

int sim_queue_pop(struct sim_queue *q, struct sim_event *out)
{
	if (q->n == 0)
		return SIM_EEMPTY;
	*out = q->heap[0];
	struct sim_event last = q->heap[--q->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct sim_event *best = &last;
		if (l < q->n && before(&q->heap[l], best)) {
			m = l;
			best = &q->heap[l];
		}
		if (r < q->n && before(&q->heap[r], best))
			m = r;
		if (m == i)
			break;
		q->heap[i] = q->heap[m];
		i = m;
	}
	if (q->n)
		q->heap[i] = last;
	return SIM_OK;
}
