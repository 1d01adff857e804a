#include <stdlib.h>
#include <string.h>

#include "sim_map.h"

void sim_map_init(struct sim_map *m)
{
	m->t = NULL;
	m->n = m->cap = 0;
}

void sim_map_close(struct sim_map *m)
{
	free(m->t);
	sim_map_init(m);
}

void sim_map_clear(struct sim_map *m)
{
	if (m->t)
		memset(m->t, 0, m->cap * sizeof(*m->t));
	m->n = 0;
}

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull;
	h ^= (b + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
	h ^= (c + 0x8cb92ba72f3d8dd7ull) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

uint64_t *sim_map_get(const struct sim_map *m, uint64_t a, uint64_t b, uint64_t c)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(a, b, c) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct sim_map_ent *e = &m->t[i];
		if (!e->used)
			return NULL;
		if (e->k[0] == a && e->k[1] == b && e->k[2] == c)
			return &e->v;
	}
}

static void place(struct sim_map_ent *t, size_t cap, const struct sim_map_ent *e)
{
	for (size_t i = mix(e->k[0], e->k[1], e->k[2]) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!t[i].used) {
			t[i] = *e;
			return;
		}
}

int sim_map_put(struct sim_map *m, uint64_t a, uint64_t b, uint64_t c, uint64_t v)
{
	uint64_t *p = sim_map_get(m, a, b, c);
	if (p) {
		*p = v;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct sim_map_ent *t = calloc(cap, sizeof(*t));
		if (!t)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->t[i].used)
				place(t, cap, &m->t[i]);
		free(m->t);
		m->t = t;
		m->cap = cap;
	}
	struct sim_map_ent e = {.k = {a, b, c}, .v = v, .used = true};
	place(m->t, m->cap, &e);
	m->n++;
	return 0;
}
