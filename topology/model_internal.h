/* topology/model_internal.h: helpers shared by the files of topology/ (not
 * part of the public API). */
#ifndef PH_TOPOLOGY_MODEL_INTERNAL_H
#define PH_TOPOLOGY_MODEL_INTERNAL_H

#include "topology/topology.h"

#define TOPO__HOSTS_MAX 65536u
#define TOPO__RACKS_MAX 4096u
#define TOPO__ROWS_MAX 128u   /* one /31 each in the core /24 */

/* Fills d (if not NULL) and returns code. */
int topo__diag(struct topo_diag *d, int code, const char *file,
	       struct topo_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* 0 if name (len bytes) is a valid entity name. */
int topo__name_valid(const char *name, size_t len);

/* "a.b.c.d/p" -> base, prefix (host order). 0 or TOPO_EINVAL. */
int topo__parse_cidr(const char *s, uint32_t *base, uint32_t *prefix);
/* 0 if the range lies inside 198.18.0.0/15, is aligned and holds at least
 * two /24s (one rack and the core links); else a code for topo__range_problem. */
int topo__range_check(uint32_t base, uint32_t prefix);
const char *topo__range_problem(int code);
/* Number of rack /24s the range holds (the last /24 is the core's). */
uint32_t topo__range_racks(const struct topo_model *m);

/* splitmix64: the module's one generator. */
static inline uint64_t topo__rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}
/* Uniform in [0, n), n > 0. */
static inline uint32_t topo__rand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((topo__rand(s) >> 32) * (uint64_t)n) >> 32);
}

/* Max members of a jury of n in one rack or power domain such that losing it
 * leaves a quorum: (n-1)/2. */
static inline uint32_t topo__domain_cap(uint32_t n)
{
	return (n - 1) / 2;
}

static inline int topo__is_node(const struct topo_host *h)
{
	return h->role == TOPO_ROLE_NODE || h->role == TOPO_ROLE_BOTH;
}

#endif
