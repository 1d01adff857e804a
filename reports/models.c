/* reports/models.c: the sequential specifications the checker tests
 * histories against (docs/checker.md, "Models").
 *
 * A model state is a byte string (so the checker can intern states and hash
 * them without knowing the model): step() reads a state and one operation
 * and writes the state after it, or says the operation is illegal there.
 * An INFO / PENDING operation is stepped as if it took effect with an
 * unknown result; "it never took effect" is the checker's business. */
#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"

/* ---------------------------------------------------- value <-> state bytes */

static int enc_value(struct rep_buf *out, const struct rep_value *v)
{
	uint8_t k = (uint8_t)v->kind;
	if (v->kind == REP_V_BOOL)
		k = v->b ? 0x80 | REP_V_BOOL : REP_V_BOOL;
	if (rep__buf_put(out, &k, 1) != 0)
		return REP_ENOMEM;
	if (v->kind == REP_V_INT || v->kind == REP_V_BYTES)
		return rep__buf_put(out, v->bytes, v->len);
	return 0;
}

static bool value_is_enc(const uint8_t *s, size_t n, const struct rep_value *v)
{
	uint8_t k = (uint8_t)v->kind;
	if (v->kind == REP_V_BOOL)
		k = v->b ? 0x80 | REP_V_BOOL : REP_V_BOOL;
	if (n < 1 || s[0] != k)
		return false;
	if (v->kind == REP_V_INT || v->kind == REP_V_BYTES)
		return n - 1 == v->len && (v->len == 0 || memcmp(s + 1, v->bytes, v->len) == 0);
	return n == 1;
}

static struct rep_value dec_value(const uint8_t *s, size_t n)
{
	struct rep_value v = {.kind = (enum rep_vkind)(s[0] & 0x7f)};
	if (v.kind == REP_V_BOOL)
		v.b = (s[0] & 0x80) != 0;
	if (v.kind == REP_V_INT || v.kind == REP_V_BYTES) {
		v.bytes = s + 1;
		v.len = n - 1;
	}
	return v;
}

/* --------------------------------------------------------------- register */

static int reg_init(struct rep_buf *out)
{
	struct rep_value nil = {.kind = REP_V_NIL};
	return enc_value(out, &nil);
}

static int reg_step(const uint8_t *s, size_t n, const struct rep_op *op, struct rep_buf *out)
{
	switch (op->fn) {
	case REP_FN_READ:
		if (op->outcome != REP_OUT_OK)
			return rep__buf_put(out, s, n) == 0 ? 1 : REP_ENOMEM;
		if (!value_is_enc(s, n, &op->result))
			return 0;
		return rep__buf_put(out, s, n) == 0 ? 1 : REP_ENOMEM;
	case REP_FN_WRITE:
		return enc_value(out, &op->arg) == 0 ? 1 : REP_ENOMEM;
	case REP_FN_CAS:
		if (!value_is_enc(s, n, &op->arg))
			return 0;
		return enc_value(out, &op->arg2) == 0 ? 1 : REP_ENOMEM;
	default:
		return REP_EMODEL;
	}
}

static int reg_format(const uint8_t *s, size_t n, struct rep_buf *out)
{
	struct rep_value v = dec_value(s, n);
	return rep__value_edn(out, &v);
}

static int reg_validate(const struct rep_op *op)
{
	if (op->fn != REP_FN_READ && op->fn != REP_FN_WRITE && op->fn != REP_FN_CAS)
		return REP_EMODEL;
	return 0;
}

/* -------------------------------------------------------------------- kv */

/* State: the string itself; a key never written reads as "". */
static int kv_init(struct rep_buf *out)
{
	(void)out;
	return 0;
}

static int kv_step(const uint8_t *s, size_t n, const struct rep_op *op, struct rep_buf *out)
{
	switch (op->fn) {
	case REP_FN_GET: {
		if (op->outcome == REP_OUT_OK) {
			size_t len = op->result.kind == REP_V_NIL ? 0 : op->result.len;
			if (len != n || (n && memcmp(s, op->result.bytes, n) != 0))
				return 0;
		}
		return rep__buf_put(out, s, n) == 0 ? 1 : REP_ENOMEM;
	}
	case REP_FN_PUT:
		return rep__buf_put(out, op->arg.bytes, op->arg.len) == 0 ? 1 : REP_ENOMEM;
	case REP_FN_APPEND:
		if (rep__buf_put(out, s, n) != 0 || rep__buf_put(out, op->arg.bytes, op->arg.len) != 0)
			return REP_ENOMEM;
		return 1;
	default:
		return REP_EMODEL;
	}
}

static int kv_format(const uint8_t *s, size_t n, struct rep_buf *out)
{
	struct rep_value v = {.kind = REP_V_BYTES, .bytes = s, .len = n};
	return rep__value_edn(out, &v);
}

static int kv_validate(const struct rep_op *op)
{
	switch (op->fn) {
	case REP_FN_GET:
		if (op->outcome == REP_OUT_OK && op->result.kind != REP_V_NIL &&
		    op->result.kind != REP_V_BYTES)
			return REP_EMODEL;
		return 0;
	case REP_FN_PUT:
	case REP_FN_APPEND:
		return op->arg.kind == REP_V_BYTES || op->arg.kind == REP_V_INT ? 0 : REP_EMODEL;
	default:
		return REP_EMODEL;
	}
}

/* ------------------------------------------------------------------ cell */

/* State: entries sorted by key, each [u32 klen][key][value as enc_value with
 * u32 length prefix]. */
struct ent {
	const uint8_t *k;
	size_t kl;
	const uint8_t *v; /* enc_value bytes */
	size_t vl;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int put32(struct rep_buf *b, size_t v)
{
	uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return rep__buf_put(b, p, 4);
}

static int cell_init(struct rep_buf *out)
{
	(void)out;
	return 0;
}

/* Decodes a state into a malloc'd array. */
static int cell_decode(const uint8_t *s, size_t n, struct ent **out, size_t *count)
{
	size_t cap = 8, k = 0;
	struct ent *e = malloc(cap * sizeof *e);
	if (e == NULL)
		return REP_ENOMEM;
	size_t i = 0;
	while (i < n) {
		if (k == cap) {
			cap *= 2;
			struct ent *m = realloc(e, cap * sizeof *m);
			if (m == NULL) {
				free(e);
				return REP_ENOMEM;
			}
			e = m;
		}
		e[k].kl = rd32(s + i);
		e[k].k = s + i + 4;
		i += 4 + e[k].kl;
		e[k].vl = rd32(s + i);
		e[k].v = s + i + 4;
		i += 4 + e[k].vl;
		k++;
	}
	*out = e;
	*count = k;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	size_t m = x->kl < y->kl ? x->kl : y->kl;
	int c = m ? memcmp(x->k, y->k, m) : 0;
	if (c != 0)
		return c;
	return x->kl < y->kl ? -1 : x->kl > y->kl;
}

static long find_ent(struct ent *e, size_t n, const struct rep_value *key)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].kl == key->len && (key->len == 0 || memcmp(e[i].k, key->bytes, key->len) == 0))
			return (long)i;
	return -1;
}

static void mpz_from(mpz_t z, const uint8_t *digits, size_t len)
{
	char tmp[64];
	char *t = len < sizeof tmp ? tmp : malloc(len + 1);
	if (t == NULL) {
		mpz_set_ui(z, 0);
		return;
	}
	memcpy(t, digits, len);
	t[len] = 0;
	if (mpz_set_str(z, t, 10) != 0)
		mpz_set_ui(z, 0);
	if (t != tmp)
		free(t);
}

/* Compares the integer value (decoded) against an integer rep_value. */
static int int_cmp(struct rep_value a, const struct rep_value *b)
{
	mpz_t x, y;
	mpz_init(x);
	mpz_init(y);
	mpz_from(x, a.bytes, a.len);
	mpz_from(y, b->bytes, b->len);
	int c = mpz_cmp(x, y);
	mpz_clear(x);
	mpz_clear(y);
	return c;
}

static bool cond_holds(struct ent *e, size_t n, const struct rep_cond *c)
{
	long i = find_ent(e, n, &c->key);
	switch (c->kind) {
	case REP_COND_EXISTS:
		return i >= 0;
	case REP_COND_ABSENT:
		return i < 0;
	case REP_COND_EQUALS:
		return i >= 0 && value_is_enc(e[i].v, e[i].vl, &c->value);
	case REP_COND_TYPE_IS:
		return i >= 0 && (e[i].v[0] & 0x7f) == (uint8_t)c->value.kind;
	case REP_COND_INT_LT:
	case REP_COND_INT_LE:
	case REP_COND_INT_GE:
	case REP_COND_INT_GT:
	case REP_COND_INT_EQ:
	case REP_COND_INT_NE: {
		if (i < 0 || (e[i].v[0] & 0x7f) != REP_V_INT)
			return false;
		int r = int_cmp(dec_value(e[i].v, e[i].vl), &c->value);
		switch (c->kind) {
		case REP_COND_INT_LT: return r < 0;
		case REP_COND_INT_LE: return r <= 0;
		case REP_COND_INT_GE: return r >= 0;
		case REP_COND_INT_GT: return r > 0;
		case REP_COND_INT_EQ: return r == 0;
		default: return r != 0;
		}
	}
	}
	return false;
}

static int cell_step(const uint8_t *s, size_t n, const struct rep_op *op, struct rep_buf *out)
{
	if (op->fn != REP_FN_TXN || op->txn == NULL)
		return REP_EMODEL;
	const struct rep_txn *t = op->txn;
	struct ent *e;
	size_t ne;
	if (cell_decode(s, n, &e, &ne) != 0)
		return REP_ENOMEM;
	int rc = REP_ENOMEM;
	/* room for every op adding a key; values written by this transaction
	 * are encoded into vals (offsets, since vals may move) */
	struct ent *w = malloc((ne + t->nops + 1) * sizeof *w);
	size_t *voff = malloc((ne + t->nops + 1) * sizeof *voff);
	struct rep_buf vals = {0};
	if (w == NULL || voff == NULL)
		goto out_free;
	memcpy(w, e, ne * sizeof *w);
	for (size_t i = 0; i < ne + t->nops + 1; i++)
		voff[i] = SIZE_MAX;
	size_t nw = ne;
	/* reads see the state before the transaction, committed or not */
	if (op->outcome == REP_OUT_OK && t->reads != NULL) {
		for (size_t i = 0; i < t->nops; i++) {
			if (t->ops[i].kind != REP_TX_READ)
				continue;
			long at = find_ent(e, ne, &t->ops[i].key);
			const struct rep_value *r = &t->reads[i];
			bool same = at < 0 ? r->kind == REP_V_NIL : value_is_enc(e[at].v, e[at].vl, r);
			if (!same) {
				rc = 0;
				goto out_free;
			}
		}
	}
	bool commit = true;
	for (size_t i = 0; i < t->nconds && commit; i++)
		commit = cond_holds(w, nw, &t->conds[i]);
	bool want_commit = op->outcome != REP_OUT_OK || t->committed;
	for (size_t i = 0; i < t->nops && commit; i++) {
		const struct rep_txop *o = &t->ops[i];
		long at = find_ent(w, nw, &o->key);
		/* a value this transaction wrote lives in vals */
		const uint8_t *cv = NULL;
		size_t cl = 0;
		if (at >= 0) {
			cv = voff[at] != SIZE_MAX ? vals.p + voff[at] : w[at].v;
			cl = w[at].vl;
		}
		switch (o->kind) {
		case REP_TX_READ:
			break; /* checked against the state before, above */
		case REP_TX_DELETE:
			if (at >= 0) {
				w[at] = w[nw - 1];
				voff[at] = voff[nw - 1];
				nw--;
			}
			break;
		case REP_TX_PUT:
		case REP_TX_INCR: {
			size_t off = vals.len;
			if (o->kind == REP_TX_PUT) {
				if (o->value.kind == REP_V_NIL) { /* put nil = delete */
					if (at >= 0) {
						w[at] = w[nw - 1];
						voff[at] = voff[nw - 1];
						nw--;
					}
					break;
				}
				if (enc_value(&vals, &o->value) != 0)
					goto out_free;
			} else {
				if (at >= 0 && (cv[0] & 0x7f) != REP_V_INT) {
					commit = false; /* incr of a non-integer: not committed */
					break;
				}
				mpz_t x, d;
				mpz_init(x);
				mpz_init(d);
				if (at >= 0)
					mpz_from(x, cv + 1, cl - 1);
				mpz_from(d, o->value.bytes, o->value.len);
				mpz_add(x, x, d);
				char *txt = mpz_get_str(NULL, 10, x);
				mpz_clear(x);
				mpz_clear(d);
				if (txt == NULL)
					goto out_free;
				struct rep_value iv = {.kind = REP_V_INT,
						       .bytes = (const uint8_t *)txt,
						       .len = strlen(txt)};
				int erc = enc_value(&vals, &iv);
				void (*gmp_free)(void *, size_t);
				mp_get_memory_functions(NULL, NULL, &gmp_free);
				gmp_free(txt, strlen(txt) + 1);
				if (erc != 0)
					goto out_free;
			}
			if (at < 0) {
				at = (long)nw++;
				w[at].k = o->key.bytes;
				w[at].kl = o->key.len;
			}
			w[at].v = NULL;
			w[at].vl = vals.len - off;
			voff[at] = off;
			break;
		}
		}
	}
	if (commit != want_commit) {
		rc = 0;
		goto out_free;
	}
	if (!commit) {
		rc = rep__buf_put(out, s, n) == 0 ? 1 : REP_ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < nw; i++)
		if (voff[i] != SIZE_MAX)
			w[i].v = vals.p + voff[i];
	/* keep voff in step while sorting: sort the entries, values resolved */
	qsort(w, nw, sizeof *w, ent_cmp);
	for (size_t i = 0; i < nw; i++) {
		if (put32(out, w[i].kl) != 0 || rep__buf_put(out, w[i].k, w[i].kl) != 0 ||
		    put32(out, w[i].vl) != 0 || rep__buf_put(out, w[i].v, w[i].vl) != 0)
			goto out_free;
	}
	rc = 1;
out_free:
	rep__buf_free(&vals);
	free(voff);
	free(w);
	free(e);
	return rc;
}

static int cell_format(const uint8_t *s, size_t n, struct rep_buf *out)
{
	struct ent *e;
	size_t ne;
	if (cell_decode(s, n, &e, &ne) != 0)
		return REP_ENOMEM;
	int rc = rep__buf_put(out, "{", 1);
	for (size_t i = 0; i < ne && rc == 0; i++) {
		struct rep_value k = {.kind = REP_V_BYTES, .bytes = e[i].k, .len = e[i].kl};
		struct rep_value v = dec_value(e[i].v, e[i].vl);
		if (i)
			rc |= rep__buf_put(out, ", ", 2);
		rc |= rep__value_edn(out, &k);
		rc |= rep__buf_put(out, " ", 1);
		rc |= rep__value_edn(out, &v);
	}
	rc |= rep__buf_put(out, "}", 1);
	free(e);
	return rc ? REP_ENOMEM : 0;
}

static int key_ok(const struct rep_value *k)
{
	return k->kind == REP_V_BYTES && k->len < UINT32_MAX;
}

static int cell_validate(const struct rep_op *op)
{
	if (op->fn != REP_FN_TXN || op->txn == NULL)
		return REP_EMODEL;
	const struct rep_txn *t = op->txn;
	for (size_t i = 0; i < t->nconds; i++) {
		const struct rep_cond *c = &t->conds[i];
		if (!key_ok(&c->key))
			return REP_EMODEL;
		if (c->kind >= REP_COND_INT_LT && c->value.kind != REP_V_INT)
			return REP_EMODEL;
	}
	for (size_t i = 0; i < t->nops; i++) {
		const struct rep_txop *o = &t->ops[i];
		if (!key_ok(&o->key))
			return REP_EMODEL;
		if (o->kind == REP_TX_INCR && o->value.kind != REP_V_INT)
			return REP_EMODEL;
	}
	return 0;
}

const struct rep__model rep__models[3] = {
	[REP_MODEL_REGISTER] = {reg_init, reg_step, reg_format, reg_validate},
	[REP_MODEL_KV] = {kv_init, kv_step, kv_format, kv_validate},
	[REP_MODEL_CELL] = {cell_init, cell_step, cell_format, cell_validate},
};
