/* node/wire.h (internal): bounds-checked big-endian readers and writers
 * shared by the datagram and client-frame codecs. */
#ifndef NODE_WIRE_H
#define NODE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct node_rd {
	const uint8_t *p;
	size_t left;
	int bad; /* set once a read ran past the end; later reads return 0 */
};

static inline void node_rd_init(struct node_rd *r, const void *p, size_t n)
{
	r->p = p;
	r->left = n;
	r->bad = 0;
}

static inline const uint8_t *node_rd_bytes(struct node_rd *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *s = r->p;
	r->p += n;
	r->left -= n;
	return s;
}

static inline uint64_t node_rd_uint(struct node_rd *r, int bytes)
{
	const uint8_t *s = node_rd_bytes(r, (size_t)bytes);
	uint64_t v = 0;
	if (s == NULL)
		return 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | s[i];
	return v;
}

struct node_wr {
	uint8_t *p;
	size_t cap, len;
	int full; /* set once a write did not fit */
};

static inline void node_wr_init(struct node_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->full = 0;
}

static inline void node_wr_bytes(struct node_wr *w, const void *s, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = 1;
		return;
	}
	if (n)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

static inline void node_wr_uint(struct node_wr *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = bytes - 1; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	node_wr_bytes(w, b, (size_t)bytes);
}

#endif
