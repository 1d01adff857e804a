/* tests/engine/countalloc.c: see countalloc.h. Each block carries its size
 * in a 16-byte header. */
#include "countalloc.h"

#include <stdlib.h>
#include <string.h>

#define HDR 16

static int should_fail(struct countalloc *ca)
{
	ca->calls++;
	if (ca->fail_at != 0 && ca->calls == ca->fail_at) {
		ca->failed++;
		return 1;
	}
	if (ca->fail_permille != 0) {
		uint64_t z = (ca->rng += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		if (z % 1000 < ca->fail_permille) {
			ca->failed++;
			return 1;
		}
	}
	return 0;
}

static void *ca_alloc(void *ud, size_t n)
{
	struct countalloc *ca = ud;
	if (should_fail(ca))
		return NULL;
	uint8_t *p = malloc(HDR + n);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof n);
	ca->live_blocks++;
	ca->live_bytes += n;
	if (ca->live_bytes > ca->peak_bytes)
		ca->peak_bytes = ca->live_bytes;
	return p + HDR;
}

static void ca_free(void *ud, void *q)
{
	struct countalloc *ca = ud;
	if (q == NULL)
		return;
	uint8_t *p = (uint8_t *)q - HDR;
	size_t n;
	memcpy(&n, p, sizeof n);
	ca->live_blocks--;
	ca->live_bytes -= n;
	free(p);
}

static void *ca_realloc(void *ud, void *q, size_t n)
{
	struct countalloc *ca = ud;
	if (q == NULL)
		return ca_alloc(ud, n);
	if (should_fail(ca))
		return NULL;
	uint8_t *p = (uint8_t *)q - HDR;
	size_t old;
	memcpy(&old, p, sizeof old);
	uint8_t *np = realloc(p, HDR + n);
	if (np == NULL)
		return NULL;
	memcpy(np, &n, sizeof n);
	ca->live_bytes = ca->live_bytes - old + n;
	if (ca->live_bytes > ca->peak_bytes)
		ca->peak_bytes = ca->live_bytes;
	return np + HDR;
}

void countalloc_init(struct countalloc *ca)
{
	memset(ca, 0, sizeof *ca);
	ca->hook.alloc = ca_alloc;
	ca->hook.realloc = ca_realloc;
	ca->hook.free = ca_free;
	ca->hook.ud = ca;
}
