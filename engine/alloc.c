/* engine/alloc.c: the allocation hook. Every engine allocation passes here,
 * so tests can fail the Nth one (STYLE.md 6). */
#include <stdlib.h>

#include "internal.h"

static void *libc_alloc(void *ud, size_t n)
{
	(void)ud;
	return malloc(n);
}

static void *libc_realloc(void *ud, void *p, size_t n)
{
	(void)ud;
	return realloc(p, n);
}

static void libc_free(void *ud, void *p)
{
	(void)ud;
	free(p);
}

void ph__allocator_init(struct ph_allocator *dst, const struct ph_allocator *src)
{
	if (src != NULL && src->alloc != NULL && src->realloc != NULL && src->free != NULL) {
		*dst = *src;
		return;
	}
	dst->alloc = libc_alloc;
	dst->realloc = libc_realloc;
	dst->free = libc_free;
	dst->ud = NULL;
}

void *ph__alloc(const struct ph_allocator *a, size_t n)
{
	return a->alloc(a->ud, n == 0 ? 1 : n);
}

void *ph__realloc(const struct ph_allocator *a, void *p, size_t n)
{
	return a->realloc(a->ud, p, n == 0 ? 1 : n);
}

void ph__free(const struct ph_allocator *a, void *p)
{
	if (p != NULL)
		a->free(a->ud, p);
}

void *ph__memdup(const struct ph_allocator *a, const void *p, size_t n, int *err)
{
	if (n == 0)
		return NULL;
	void *q = ph__alloc(a, n);
	if (q == NULL) {
		*err = PH_ENOMEM;
		return NULL;
	}
	memcpy(q, p, n);
	return q;
}

int ph__reserve(const struct ph_allocator *a, void **p, size_t *cap, size_t want, size_t sz)
{
	if (want <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 4;
	while (n < want)
		n *= 2;
	void *q = ph__realloc(a, *p, n * sz);
	if (q == NULL)
		return PH_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}
