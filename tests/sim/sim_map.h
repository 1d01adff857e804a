/* A small open-addressing hash map from a key of three u64 to one u64, for
 * the invariant checker's bookkeeping (slot -> value, (ballot, slot) ->
 * votes, (client, seq) -> slot).  Insert-only (plus overwrite). */
#ifndef PH_TESTS_SIM_MAP_H
#define PH_TESTS_SIM_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_map_ent {
	uint64_t k[3];
	uint64_t v;
	bool used;
};

struct sim_map {
	struct sim_map_ent *t;
	size_t n, cap; /* cap is a power of two */
};

void sim_map_init(struct sim_map *m);
void sim_map_close(struct sim_map *m);
/* Pointer to the value of key, or NULL. Valid until the next put. */
uint64_t *sim_map_get(const struct sim_map *m, uint64_t a, uint64_t b, uint64_t c);
/* Sets key to v. 0, or -1 when out of memory (map unchanged). */
int sim_map_put(struct sim_map *m, uint64_t a, uint64_t b, uint64_t c, uint64_t v);
void sim_map_clear(struct sim_map *m);

#endif
