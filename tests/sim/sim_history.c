/* The clients' history, Jepsen-shaped: an invoke, then ok / fail / info from
 * the same process.  `fail` certainly did not take effect; `info` may or may
 * not have, and the client continues under a new process id. */
#include <inttypes.h>
#include <stdlib.h>

#include "sim.h"

void sim_history_init(struct sim_history *h)
{
	h->ops = NULL;
	h->n = h->cap = 0;
}

void sim_history_close(struct sim_history *h)
{
	free(h->ops);
	sim_history_init(h);
}

int sim_history_add(struct sim_history *h, const struct sim_op *op)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct sim_op *p = realloc(h->ops, cap * sizeof(*p));
		if (!p)
			return SIM_ENOMEM;
		h->ops = p;
		h->cap = cap;
	}
	h->ops[h->n++] = *op;
	return SIM_OK;
}

static const char *type_name(enum sim_op_type t)
{
	switch (t) {
	case SIM_OP_INVOKE: return "invoke";
	case SIM_OP_OK: return "ok";
	case SIM_OP_FAIL: return "fail";
	case SIM_OP_INFO: return "info";
	}
	return "?";
}

static const char *f_name(enum sim_op_f f)
{
	switch (f) {
	case SIM_F_READ: return "read";
	case SIM_F_WRITE: return "write";
	case SIM_F_CAS: return "cas";
	case SIM_F_INCR: return "incr";
	}
	return "?";
}

void sim_history_print(const struct sim_history *h, FILE *out)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct sim_op *o = &h->ops[i];
		fprintf(out, "{:process %" PRIu64 ", :type :%s, :f :%s, :key \"%s\", :value ",
			o->process, type_name(o->type), f_name(o->f), o->key);
		if (o->f == SIM_F_CAS)
			fprintf(out, "[%" PRId64 " %" PRId64 "]", o->expect, o->value);
		else if (o->f == SIM_F_READ && !(o->type == SIM_OP_OK && o->has_value))
			fprintf(out, "nil");
		else
			fprintf(out, "%" PRId64, o->value);
		fprintf(out, ", :time %" PRIu64 "}\n", o->time);
	}
}

long sim_history_wellformed(const struct sim_history *h)
{
	/* Small histories: a quadratic scan keeps this obviously right. */
	for (size_t i = 0; i < h->n; i++) {
		const struct sim_op *o = &h->ops[i];
		long open = -1;
		bool dead = false;
		for (size_t j = 0; j < i; j++) {
			if (h->ops[j].process != o->process)
				continue;
			if (h->ops[j].type == SIM_OP_INVOKE)
				open = (long)j;
			else {
				open = -1;
				if (h->ops[j].type == SIM_OP_INFO)
					dead = true;
			}
		}
		if (dead)
			return (long)i;
		if (o->type == SIM_OP_INVOKE && open >= 0)
			return (long)i;
		if (o->type != SIM_OP_INVOKE && open < 0)
			return (long)i;
		if (o->time < (open >= 0 ? h->ops[open].time : 0))
			return (long)i;
	}
	return -1;
}
