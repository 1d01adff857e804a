/* engine/value.c: typed values (byte strings, integers, booleans) and their
 * codec. Integers live as GMP limbs in memory from the engine's allocator;
 * arithmetic uses GMP's mpn layer on those limbs, so GMP never allocates on
 * the engine's behalf. */
#include "internal.h"

#define LIMB_BYTES ((size_t)sizeof(mp_limb_t))
#define INT_MAX_LIMBS ((PH_INT_MAX_BYTES + LIMB_BYTES - 1) / LIMB_BYTES)

static const mp_limb_t zero_limb;

static void val_fix(struct ph_val *v, int negative)
{
	const mp_limb_t *d = v->len ? (const mp_limb_t *)v->data : &zero_limb;
	mp_size_t n = (mp_size_t)v->len;
	mpz_roinit_n(v->z, d, negative ? -n : n);
}

void ph__val_free(const struct ph_allocator *a, struct ph_val *v)
{
	ph__free(a, v->data);
	v->data = NULL;
	v->len = 0;
}

void ph__val_view(const struct ph_val *v, struct ph_value *out)
{
	memset(out, 0, sizeof *out);
	out->type = (enum ph_type)v->type;
	switch (v->type) {
	case PH_T_BYTES:
		out->bytes = v->data;
		out->len = v->len;
		break;
	case PH_T_INT:
		out->integer = v->z;
		break;
	case PH_T_BOOL:
		out->boolean = v->boolean != 0;
		break;
	}
}

int ph__val_set_int(const struct ph_allocator *a, struct ph_val *out, const mp_limb_t *limbs,
		    size_t n, int negative)
{
	while (n > 0 && limbs[n - 1] == 0)
		n--;
	if (n > INT_MAX_LIMBS)
		return PH_ETOOBIG;
	int err = 0;
	void *d = ph__memdup(a, limbs, n * LIMB_BYTES, &err);
	if (err != 0)
		return err;
	memset(out, 0, sizeof *out);
	out->type = PH_T_INT;
	out->data = d;
	out->len = (uint32_t)n;
	val_fix(out, n > 0 && negative);
	if (ph__int_mag_bytes(out) > PH_INT_MAX_BYTES) {
		ph__val_free(a, out);
		return PH_ETOOBIG;
	}
	return 0;
}

size_t ph__int_mag_bytes(const struct ph_val *v)
{
	if (v->len == 0)
		return 0;
	mp_limb_t top = ((const mp_limb_t *)v->data)[v->len - 1];
	size_t b = 0;
	while (top != 0) {
		b++;
		top >>= 8;
	}
	return (v->len - 1) * LIMB_BYTES + b;
}

int ph__val_from(const struct ph_allocator *a, const struct ph_value *in, struct ph_val *out)
{
	int err = 0;
	switch (in->type) {
	case PH_T_BYTES: {
		if (in->len > PH_VALUE_MAX)
			return PH_ETOOBIG;
		if (in->len > 0 && in->bytes == NULL)
			return PH_EINVAL;
		void *d = ph__memdup(a, in->bytes, in->len, &err);
		if (err != 0)
			return err;
		memset(out, 0, sizeof *out);
		out->type = PH_T_BYTES;
		out->data = d;
		out->len = (uint32_t)in->len;
		return 0;
	}
	case PH_T_INT:
		if (in->integer == NULL)
			return PH_EINVAL;
		if (mpz_size(in->integer) > INT_MAX_LIMBS)
			return PH_ETOOBIG;
		return ph__val_set_int(a, out, mpz_limbs_read(in->integer), mpz_size(in->integer),
				       mpz_sgn(in->integer) < 0);
	case PH_T_BOOL:
		memset(out, 0, sizeof *out);
		out->type = PH_T_BOOL;
		out->boolean = in->boolean ? 1 : 0;
		return 0;
	}
	return PH_EINVAL;
}

int ph__val_copy(const struct ph_allocator *a, const struct ph_val *in, struct ph_val *out)
{
	if (in->type == PH_T_INT)
		return ph__val_set_int(a, out, in->len ? in->data : &zero_limb, in->len,
				       mpz_sgn(in->z) < 0);
	struct ph_value view;
	ph__val_view(in, &view);
	return ph__val_from(a, &view, out);
}

bool ph__val_equal(const struct ph_val *x, const struct ph_val *y)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case PH_T_BYTES:
		return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
	case PH_T_INT:
		return mpz_cmp(x->z, y->z) == 0;
	case PH_T_BOOL:
		return x->boolean == y->boolean;
	}
	return false;
}

bool ph_value_equal(const struct ph_value *a, const struct ph_value *b)
{
	if (a == NULL || b == NULL || a->type != b->type)
		return false;
	switch (a->type) {
	case PH_T_BYTES:
		return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
	case PH_T_INT:
		return a->integer != NULL && b->integer != NULL && mpz_cmp(a->integer, b->integer) == 0;
	case PH_T_BOOL:
		return a->boolean == b->boolean;
	}
	return false;
}

/* |x| + |y| or | |x| - |y| | on limb vectors, into r (room max(nx,ny)+1).
 * Returns the limb count of r; *neg gets the sign of x + y. */
static size_t mag_addsub(mp_limb_t *r, const mp_limb_t *x, size_t nx, int sx, const mp_limb_t *y,
			 size_t ny, int sy, int *neg)
{
	if (nx < ny || (nx == ny && nx > 0 && mpn_cmp(x, y, (mp_size_t)nx) < 0)) {
		const mp_limb_t *tp = x;
		x = y;
		y = tp;
		size_t tn = nx;
		nx = ny;
		ny = tn;
		int ts = sx;
		sx = sy;
		sy = ts;
	}
	/* now |x| >= |y| */
	if (nx == 0) {
		*neg = 0;
		return 0;
	}
	size_t n = nx;
	if (sx == sy) {
		mp_limb_t carry = ny ? mpn_add(r, x, (mp_size_t)nx, y, (mp_size_t)ny) : 0;
		if (ny == 0)
			memcpy(r, x, nx * LIMB_BYTES);
		r[n] = carry;
		n += carry != 0;
	} else {
		if (ny)
			mpn_sub(r, x, (mp_size_t)nx, y, (mp_size_t)ny);
		else
			memcpy(r, x, nx * LIMB_BYTES);
	}
	while (n > 0 && r[n - 1] == 0)
		n--;
	*neg = n > 0 && sx < 0;
	return n;
}

int ph__int_add(const struct ph_allocator *a, const struct ph_val *x, const struct ph_val *y,
		struct ph_val *out)
{
	mp_limb_t r[INT_MAX_LIMBS * 2 + 2];
	int neg = 0;
	size_t n = mag_addsub(r, x->data, x->len, mpz_sgn(x->z), y->data, y->len, mpz_sgn(y->z), &neg);
	if (n > INT_MAX_LIMBS)
		return PH_ETOOBIG;
	return ph__val_set_int(a, out, r, n, neg);
}

size_t ph__val_encoded_size(const struct ph_val *v)
{
	switch (v->type) {
	case PH_T_BYTES:
		return 3 + v->len;
	case PH_T_INT:
		return 3 + ph__int_mag_bytes(v);
	default:
		return 2;
	}
}

void ph__val_encode(struct ph_wr *w, const struct ph_val *v)
{
	ph__wr_u8(w, v->type);
	switch (v->type) {
	case PH_T_BYTES:
		ph__wr_u16(w, (uint16_t)v->len);
		ph__wr_bytes(w, v->data, v->len);
		break;
	case PH_T_INT: {
		size_t nb = ph__int_mag_bytes(v);
		ph__wr_u8(w, mpz_sgn(v->z) < 0 ? 1 : 0);
		ph__wr_u8(w, (uint8_t)nb);
		const mp_limb_t *l = v->data;
		for (size_t i = nb; i-- > 0;)
			ph__wr_u8(w, (uint8_t)(l[i / LIMB_BYTES] >> (8 * (i % LIMB_BYTES))));
		break;
	}
	case PH_T_BOOL:
		ph__wr_u8(w, v->boolean);
		break;
	}
}

int ph__val_decode(struct ph_rd *r, const struct ph_allocator *a, struct ph_val *out)
{
	uint8_t type = ph__rd_u8(r);
	if (r->err)
		return r->err;
	switch (type) {
	case PH_T_BYTES: {
		uint16_t n = ph__rd_u16(r);
		if (r->err)
			return r->err;
		if (n > PH_VALUE_MAX)
			return PH_ETOOBIG;
		const uint8_t *p = ph__rd_bytes(r, n);
		if (r->err)
			return r->err;
		if (a == NULL)
			return 0;
		struct ph_value v = {.type = PH_T_BYTES, .bytes = p, .len = n};
		return ph__val_from(a, &v, out);
	}
	case PH_T_INT: {
		uint8_t sign = ph__rd_u8(r);
		uint8_t nb = ph__rd_u8(r);
		if (r->err)
			return r->err;
		if (sign > 1)
			return PH_EMALFORMED;
		if (nb > PH_INT_MAX_BYTES)
			return PH_ETOOBIG;
		const uint8_t *p = ph__rd_bytes(r, nb);
		if (r->err)
			return r->err;
		/* canonical: no leading zero byte, no negative zero */
		if ((nb > 0 && p[0] == 0) || (nb == 0 && sign))
			return PH_EMALFORMED;
		if (a == NULL)
			return 0;
		mp_limb_t l[INT_MAX_LIMBS];
		memset(l, 0, sizeof l);
		for (size_t i = 0; i < nb; i++) {
			size_t bi = nb - 1 - i; /* byte significance */
			l[bi / LIMB_BYTES] |= (mp_limb_t)p[i] << (8 * (bi % LIMB_BYTES));
		}
		return ph__val_set_int(a, out, l, (nb + LIMB_BYTES - 1) / LIMB_BYTES, sign);
	}
	case PH_T_BOOL: {
		uint8_t b = ph__rd_u8(r);
		if (r->err)
			return r->err;
		if (b > 1)
			return PH_EMALFORMED;
		if (a == NULL)
			return 0;
		memset(out, 0, sizeof *out);
		out->type = PH_T_BOOL;
		out->boolean = b;
		return 0;
	}
	}
	return PH_EUNKNOWN;
}

uint64_t ph__val_hash(uint64_t h, const struct ph_val *v)
{
	uint8_t buf[3 + PH_VALUE_MAX];
	struct ph_wr w;
	ph__wr_init(&w, buf, sizeof buf);
	ph__val_encode(&w, v);
	return ph__hash(h, buf, w.len <= sizeof buf ? w.len : sizeof buf);
}
