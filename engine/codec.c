/* engine/codec.c: big-endian byte writer and reader shared by every codec of
 * the engine (values, transactions, results, batches, messages, records). */
#include "internal.h"

void ph__wr_init(struct ph_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = p == NULL ? 0 : cap;
	w->len = 0;
}

void ph__wr_bytes(struct ph_wr *w, const void *p, size_t n)
{
	if (n > 0 && w->len <= w->cap && n <= w->cap - w->len)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void ph__wr_u8(struct ph_wr *w, uint8_t v)
{
	ph__wr_bytes(w, &v, 1);
}

void ph__wr_u16(struct ph_wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	ph__wr_bytes(w, b, 2);
}

void ph__wr_u32(struct ph_wr *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (24 - 8 * i));
	ph__wr_bytes(w, b, 4);
}

void ph__wr_u64(struct ph_wr *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	ph__wr_bytes(w, b, 8);
}

void ph__wr_ballot(struct ph_wr *w, struct ph_ballot b)
{
	ph__wr_u64(w, b.round);
	ph__wr_u32(w, b.node);
}

int ph__wr_done(const struct ph_wr *w, size_t *len)
{
	*len = w->len;
	return w->len <= w->cap ? 0 : PH_ETOOBIG;
}

void ph__rd_init(struct ph_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
	r->err = 0;
}

void ph__rd_fail(struct ph_rd *r, int err)
{
	if (r->err == 0)
		r->err = err;
}

const uint8_t *ph__rd_bytes(struct ph_rd *r, size_t n)
{
	static const uint8_t zeros[8];
	if (r->err != 0 || n > r->len - r->off) {
		ph__rd_fail(r, PH_ETRUNCATED);
		return n <= sizeof zeros ? zeros : NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t ph__rd_u8(struct ph_rd *r)
{
	return ph__rd_bytes(r, 1)[0];
}

uint16_t ph__rd_u16(struct ph_rd *r)
{
	const uint8_t *b = ph__rd_bytes(r, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint32_t ph__rd_u32(struct ph_rd *r)
{
	const uint8_t *b = ph__rd_bytes(r, 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t ph__rd_u64(struct ph_rd *r)
{
	const uint8_t *b = ph__rd_bytes(r, 8);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

struct ph_ballot ph__rd_ballot(struct ph_rd *r)
{
	struct ph_ballot b;
	b.round = ph__rd_u64(r);
	b.node = ph__rd_u32(r);
	return b;
}

int ph__rd_end(const struct ph_rd *r)
{
	if (r->err != 0)
		return r->err;
	return r->off == r->len ? 0 : PH_EMALFORMED;
}

size_t ph__rd_left(const struct ph_rd *r)
{
	return r->err != 0 ? 0 : r->len - r->off;
}

uint64_t ph__hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t ph__hash_u64(uint64_t h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return ph__hash(h, b, 8);
}
