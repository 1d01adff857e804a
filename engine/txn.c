/* engine/txn.c: transactions (builder and codec), results, and batches (the
 * value of one log slot). Layouts are in docs/engine.md.
 *
 * Transaction: version u8 (1), feature level u16, n_conds u8, n_ops u8,
 * conditions (kind u8, key u8 len + bytes, EQUALS value | TYPE_IS type u8 |
 * INT_CMP cmp u8 + integer value), operations (kind u8, key, PUT value |
 * INCREMENT integer value). */
#include "internal.h"

#define TXN_VERSION 1
#define TXN_HEADER 5
#define RESULT_VERSION 1
#define BATCH_VERSION 1

static void item_free(const struct ph_allocator *a, struct ph_item *it)
{
	ph__free(a, it->key);
	it->key = NULL;
	ph__val_free(a, &it->v);
}

int ph_txn_new(const struct ph_allocator *alloc, struct ph_txn **out)
{
	struct ph_allocator a;
	if (out == NULL)
		return PH_EINVAL;
	ph__allocator_init(&a, alloc);
	struct ph_txn *t = ph__alloc(&a, sizeof *t);
	if (t == NULL)
		return PH_ENOMEM;
	memset(t, 0, sizeof *t);
	t->a = a;
	t->level = PH_FEATURE_LEVEL;
	t->encoded = TXN_HEADER;
	*out = t;
	return 0;
}

void ph_txn_free(struct ph_txn *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_conds; i++)
		item_free(&t->a, &t->conds[i]);
	for (size_t i = 0; i < t->n_ops; i++)
		item_free(&t->a, &t->ops[i]);
	ph__free(&t->a, t);
}

static bool is_write(uint8_t kind)
{
	return kind == PH_OP_PUT || kind == PH_OP_DELETE || kind == PH_OP_INCREMENT;
}

/* The duplicate-key rule: one write and one read per key. */
static bool op_conflicts(const struct ph_txn *t, uint8_t kind, const uint8_t *key, size_t klen)
{
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct ph_item *o = &t->ops[i];
		if (o->klen != klen || memcmp(o->key, key, klen) != 0)
			continue;
		if (is_write(o->kind) == is_write(kind))
			return true;
	}
	return false;
}

static size_t item_size(const struct ph_item *it, bool cond)
{
	size_t n = 2 + it->klen;
	if (cond) {
		if (it->kind == PH_COND_EQUALS)
			n += ph__val_encoded_size(&it->v);
		else if (it->kind == PH_COND_TYPE_IS)
			n += 1;
		else if (it->kind == PH_COND_INT_CMP)
			n += 1 + ph__val_encoded_size(&it->v);
	} else if (it->kind == PH_OP_PUT || it->kind == PH_OP_INCREMENT) {
		n += ph__val_encoded_size(&it->v);
	}
	return n;
}

/* Adds an item, all or nothing. v may be NULL. */
static int txn_add(struct ph_txn *t, bool cond, uint8_t kind, uint8_t sub, const void *key,
		   size_t klen, const struct ph_value *v)
{
	if (t == NULL || (key == NULL && klen > 0))
		return PH_EINVAL;
	if (klen == 0 || klen > PH_KEY_MAX)
		return PH_EINVAL;
	if ((size_t)t->n_conds + t->n_ops >= PH_TXN_ITEMS_MAX)
		return PH_ETOOBIG;
	if (!cond && op_conflicts(t, kind, key, klen))
		return PH_EINVAL;
	if (v != NULL && kind == PH_OP_INCREMENT && v->type != PH_T_INT)
		return PH_EINVAL;
	struct ph_item it;
	memset(&it, 0, sizeof it);
	it.kind = kind;
	it.sub = sub;
	it.klen = (uint8_t)klen;
	if (v != NULL) {
		int err = ph__val_from(&t->a, v, &it.v);
		if (err != 0)
			return err;
	}
	size_t sz = item_size(&it, cond);
	if (t->encoded + sz > PH_TXN_MAX) {
		ph__val_free(&t->a, &it.v);
		return PH_ETOOBIG;
	}
	int err = 0;
	it.key = ph__memdup(&t->a, key, klen, &err);
	if (err != 0) {
		ph__val_free(&t->a, &it.v);
		return err;
	}
	if (cond)
		t->conds[t->n_conds++] = it;
	else
		t->ops[t->n_ops++] = it;
	t->encoded += sz;
	return 0;
}

int ph_txn_read(struct ph_txn *t, const void *key, size_t klen)
{
	return txn_add(t, false, PH_OP_READ, 0, key, klen, NULL);
}

int ph_txn_put(struct ph_txn *t, const void *key, size_t klen, const struct ph_value *v)
{
	if (v == NULL)
		return PH_EINVAL;
	return txn_add(t, false, PH_OP_PUT, 0, key, klen, v);
}

int ph_txn_delete(struct ph_txn *t, const void *key, size_t klen)
{
	return txn_add(t, false, PH_OP_DELETE, 0, key, klen, NULL);
}

int ph_txn_increment(struct ph_txn *t, const void *key, size_t klen, mpz_srcptr delta)
{
	if (delta == NULL)
		return PH_EINVAL;
	struct ph_value v = {.type = PH_T_INT, .integer = delta};
	return txn_add(t, false, PH_OP_INCREMENT, 0, key, klen, &v);
}

int ph_txn_cond_exists(struct ph_txn *t, const void *key, size_t klen)
{
	return txn_add(t, true, PH_COND_EXISTS, 0, key, klen, NULL);
}

int ph_txn_cond_absent(struct ph_txn *t, const void *key, size_t klen)
{
	return txn_add(t, true, PH_COND_ABSENT, 0, key, klen, NULL);
}

int ph_txn_cond_equals(struct ph_txn *t, const void *key, size_t klen, const struct ph_value *v)
{
	if (v == NULL)
		return PH_EINVAL;
	return txn_add(t, true, PH_COND_EQUALS, 0, key, klen, v);
}

int ph_txn_cond_type_is(struct ph_txn *t, const void *key, size_t klen, enum ph_type type)
{
	if (type < PH_T_BYTES || type > PH_T_BOOL)
		return PH_EINVAL;
	return txn_add(t, true, PH_COND_TYPE_IS, (uint8_t)type, key, klen, NULL);
}

int ph_txn_cond_int_cmp(struct ph_txn *t, const void *key, size_t klen, enum ph_cmp cmp,
			mpz_srcptr operand)
{
	if (cmp < PH_CMP_LT || cmp > PH_CMP_GT || operand == NULL)
		return PH_EINVAL;
	struct ph_value v = {.type = PH_T_INT, .integer = operand};
	return txn_add(t, true, PH_COND_INT_CMP, (uint8_t)cmp, key, klen, &v);
}

int ph_txn_set_feature_level(struct ph_txn *t, uint16_t level)
{
	if (t == NULL || level == 0)
		return PH_EINVAL;
	t->level = level;
	return 0;
}

size_t ph_txn_n_ops(const struct ph_txn *t)
{
	return t->n_ops;
}

size_t ph_txn_n_conds(const struct ph_txn *t)
{
	return t->n_conds;
}

uint16_t ph_txn_feature_level(const struct ph_txn *t)
{
	return t->level;
}

bool ph_txn_read_only(const struct ph_txn *t)
{
	for (size_t i = 0; i < t->n_ops; i++)
		if (is_write(t->ops[i].kind))
			return false;
	return true;
}

int ph_txn_op(const struct ph_txn *t, size_t i, enum ph_op_kind *kind, const uint8_t **key,
	      size_t *klen, struct ph_value *v)
{
	if (t == NULL || i >= t->n_ops)
		return PH_EINVAL;
	const struct ph_item *o = &t->ops[i];
	if (kind)
		*kind = (enum ph_op_kind)o->kind;
	if (key)
		*key = o->key;
	if (klen)
		*klen = o->klen;
	if (v) {
		memset(v, 0, sizeof *v);
		if (o->kind == PH_OP_PUT || o->kind == PH_OP_INCREMENT)
			ph__val_view(&o->v, v);
	}
	return 0;
}

int ph_txn_cond(const struct ph_txn *t, size_t i, enum ph_cond_kind *kind, const uint8_t **key,
		size_t *klen, struct ph_value *v, enum ph_type *type, enum ph_cmp *cmp)
{
	if (t == NULL || i >= t->n_conds)
		return PH_EINVAL;
	const struct ph_item *c = &t->conds[i];
	if (kind)
		*kind = (enum ph_cond_kind)c->kind;
	if (key)
		*key = c->key;
	if (klen)
		*klen = c->klen;
	if (v) {
		memset(v, 0, sizeof *v);
		if (c->kind == PH_COND_EQUALS || c->kind == PH_COND_INT_CMP)
			ph__val_view(&c->v, v);
	}
	if (type)
		*type = c->kind == PH_COND_TYPE_IS ? (enum ph_type)c->sub : (enum ph_type)0;
	if (cmp)
		*cmp = c->kind == PH_COND_INT_CMP ? (enum ph_cmp)c->sub : (enum ph_cmp)0;
	return 0;
}

int ph_txn_encode(const struct ph_txn *t, uint8_t *buf, size_t cap, size_t *len)
{
	if (t == NULL || len == NULL)
		return PH_EINVAL;
	struct ph_wr w;
	ph__wr_init(&w, buf, cap);
	ph__wr_u8(&w, TXN_VERSION);
	ph__wr_u16(&w, t->level);
	ph__wr_u8(&w, t->n_conds);
	ph__wr_u8(&w, t->n_ops);
	for (size_t i = 0; i < t->n_conds; i++) {
		const struct ph_item *c = &t->conds[i];
		ph__wr_u8(&w, c->kind);
		ph__wr_u8(&w, c->klen);
		ph__wr_bytes(&w, c->key, c->klen);
		if (c->kind == PH_COND_EQUALS) {
			ph__val_encode(&w, &c->v);
		} else if (c->kind == PH_COND_TYPE_IS) {
			ph__wr_u8(&w, c->sub);
		} else if (c->kind == PH_COND_INT_CMP) {
			ph__wr_u8(&w, c->sub);
			ph__val_encode(&w, &c->v);
		}
	}
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct ph_item *o = &t->ops[i];
		ph__wr_u8(&w, o->kind);
		ph__wr_u8(&w, o->klen);
		ph__wr_bytes(&w, o->key, o->klen);
		if (o->kind == PH_OP_PUT || o->kind == PH_OP_INCREMENT)
			ph__val_encode(&w, &o->v);
	}
	return ph__wr_done(&w, len);
}

int ph__txn_peek_level(const uint8_t *bytes, size_t len, uint16_t *level)
{
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	uint16_t lv = ph__rd_u16(&r);
	if (r.err)
		return r.err;
	if (ver != TXN_VERSION)
		return PH_EVERSION;
	*level = lv;
	return 0;
}

/* Decode one item from r into t (a is t's allocator). */
static int decode_item(struct ph_rd *r, struct ph_txn *t, bool cond)
{
	uint8_t kind = ph__rd_u8(r);
	uint8_t klen = ph__rd_u8(r);
	if (r->err)
		return r->err;
	if (cond ? (kind < PH_COND_EXISTS || kind > PH_COND_INT_CMP)
		 : (kind < PH_OP_READ || kind > PH_OP_INCREMENT))
		return PH_EUNKNOWN;
	if (klen == 0)
		return PH_EMALFORMED;
	if (klen > PH_KEY_MAX)
		return PH_ETOOBIG;
	const uint8_t *key = ph__rd_bytes(r, klen);
	if (r->err)
		return r->err;
	uint8_t sub = 0;
	bool has_val = false;
	if (cond && kind == PH_COND_TYPE_IS) {
		sub = ph__rd_u8(r);
		if (r->err)
			return r->err;
		if (sub < PH_T_BYTES || sub > PH_T_BOOL)
			return PH_EUNKNOWN;
	} else if (cond && kind == PH_COND_INT_CMP) {
		sub = ph__rd_u8(r);
		if (r->err)
			return r->err;
		if (sub < PH_CMP_LT || sub > PH_CMP_GT)
			return PH_EUNKNOWN;
		has_val = true;
	} else if (cond ? kind == PH_COND_EQUALS : (kind == PH_OP_PUT || kind == PH_OP_INCREMENT)) {
		has_val = true;
	}
	struct ph_val v;
	memset(&v, 0, sizeof v);
	if (has_val) {
		int err = ph__val_decode(r, &t->a, &v);
		if (err != 0)
			return err;
		bool need_int = cond ? kind == PH_COND_INT_CMP : kind == PH_OP_INCREMENT;
		if (need_int && v.type != PH_T_INT) {
			ph__val_free(&t->a, &v);
			return PH_EMALFORMED;
		}
	}
	struct ph_value view;
	ph__val_view(&v, &view);
	int err = txn_add(t, cond, kind, sub, key, klen, has_val ? &view : NULL);
	ph__val_free(&t->a, &v);
	if (err == PH_EINVAL)
		err = PH_EMALFORMED; /* duplicate key */
	return err;
}

int ph_txn_decode(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		  struct ph_txn **out)
{
	if (out == NULL || (bytes == NULL && len > 0))
		return PH_EINVAL;
	if (len > PH_TXN_MAX)
		return PH_ETOOBIG;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	uint16_t level = ph__rd_u16(&r);
	uint8_t nc = ph__rd_u8(&r);
	uint8_t no = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (ver != TXN_VERSION || level > PH_FEATURE_LEVEL)
		return PH_EVERSION;
	if (level == 0)
		return PH_EMALFORMED;
	if ((size_t)nc + no > PH_TXN_ITEMS_MAX)
		return PH_ETOOBIG;
	struct ph_txn *t;
	int err = ph_txn_new(alloc, &t);
	if (err != 0)
		return err;
	t->level = level;
	for (size_t i = 0; i < nc && err == 0; i++)
		err = decode_item(&r, t, true);
	for (size_t i = 0; i < no && err == 0; i++)
		err = decode_item(&r, t, false);
	if (err == 0)
		err = ph__rd_end(&r);
	if (err != 0) {
		ph_txn_free(t);
		return err;
	}
	*out = t;
	return 0;
}

/* ---- results ---------------------------------------------------------------- */

static int result_parse(const uint8_t *bytes, size_t len, struct ph_result *res)
{
	if (bytes == NULL && len > 0)
		return PH_EINVAL;
	if (len > PH_RESULT_MAX)
		return PH_ETOOBIG;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	uint8_t outcome = ph__rd_u8(&r);
	uint8_t reason = ph__rd_u8(&r);
	uint32_t failed = ph__rd_u32(&r);
	uint64_t token = ph__rd_u64(&r);
	uint8_t n = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (ver != RESULT_VERSION)
		return PH_EVERSION;
	if (outcome != PH_OUT_COMMITTED && outcome != PH_OUT_IGNORED)
		return PH_EUNKNOWN;
	if (reason > PH_R_JURY_LEARNER)
		return PH_EUNKNOWN;
	if ((outcome == PH_OUT_COMMITTED) != (reason == PH_R_NONE))
		return PH_EMALFORMED;
	if (n > PH_TXN_ITEMS_MAX)
		return PH_ETOOBIG;
	if (res != NULL) {
		res->outcome = outcome;
		res->reason = reason;
		res->failed = failed;
		res->token = token;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t klen = ph__rd_u8(&r);
		if (r.err)
			return r.err;
		if (klen == 0)
			return PH_EMALFORMED;
		if (klen > PH_KEY_MAX)
			return PH_ETOOBIG;
		const uint8_t *key = ph__rd_bytes(&r, klen);
		uint8_t present = ph__rd_u8(&r);
		if (r.err)
			return r.err;
		if (present > 1)
			return PH_EMALFORMED;
		struct ph_item *it = res ? &res->reads[i] : NULL;
		if (it != NULL) {
			int err = 0;
			it->klen = klen;
			it->sub = present;
			it->key = ph__memdup(&res->a, key, klen, &err);
			if (err != 0)
				return err;
			res->n_reads = (uint8_t)(i + 1);
		}
		if (present) {
			int err = ph__val_decode(&r, res ? &res->a : NULL, it ? &it->v : NULL);
			if (err != 0)
				return err;
		}
	}
	return ph__rd_end(&r);
}

int ph__result_check(const uint8_t *bytes, size_t len)
{
	return result_parse(bytes, len, NULL);
}

int ph_result_decode(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		     struct ph_result **out)
{
	if (out == NULL)
		return PH_EINVAL;
	struct ph_allocator a;
	ph__allocator_init(&a, alloc);
	struct ph_result *res = ph__alloc(&a, sizeof *res);
	if (res == NULL)
		return PH_ENOMEM;
	memset(res, 0, sizeof *res);
	res->a = a;
	int err = result_parse(bytes, len, res);
	if (err != 0) {
		ph_result_free(res);
		return err;
	}
	*out = res;
	return 0;
}

void ph_result_free(struct ph_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_reads; i++)
		item_free(&r->a, &r->reads[i]);
	ph__free(&r->a, r);
}

int ph_result_outcome(const struct ph_result *r)
{
	return r->outcome;
}

int ph_result_reason(const struct ph_result *r)
{
	return r->reason;
}

uint32_t ph_result_failed_index(const struct ph_result *r)
{
	return r->failed;
}

uint64_t ph_result_token(const struct ph_result *r)
{
	return r->token;
}

size_t ph_result_n_reads(const struct ph_result *r)
{
	return r->n_reads;
}

int ph_result_read(const struct ph_result *r, size_t i, const uint8_t **key, size_t *klen,
		   bool *present, struct ph_value *v)
{
	if (r == NULL || i >= r->n_reads)
		return PH_EINVAL;
	const struct ph_item *it = &r->reads[i];
	if (key)
		*key = it->key;
	if (klen)
		*klen = it->klen;
	if (present)
		*present = it->sub != 0;
	if (v) {
		memset(v, 0, sizeof *v);
		if (it->sub)
			ph__val_view(&it->v, v);
	}
	return 0;
}

/* ---- batches ------------------------------------------------------------------ */

int ph__batch_walk(const uint8_t *bytes, size_t len,
		   int (*fn)(void *ud, size_t i, const struct ph_bentry *e), void *ud)
{
	if (len > PH_BATCH_BYTES_MAX)
		return PH_ETOOBIG;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	uint8_t n = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (ver != BATCH_VERSION)
		return PH_EVERSION;
	if (n > PH_BATCH_MAX)
		return PH_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		struct ph_bentry e;
		e.kind = ph__rd_u8(&r);
		e.client = ph__rd_u64(&r);
		e.seq = ph__rd_u64(&r);
		e.len = ph__rd_u16(&r);
		if (r.err)
			return r.err;
		if (e.kind != PH_ENTRY_TXN && e.kind != PH_ENTRY_JURY)
			return PH_EUNKNOWN;
		if (e.kind == PH_ENTRY_JURY && e.len != PH_JURY_CHANGE_LEN)
			return PH_EMALFORMED;
		if (e.client == 0 || e.seq == 0)
			return PH_EMALFORMED;
		if (e.len > PH_TXN_MAX)
			return PH_ETOOBIG;
		e.txn = ph__rd_bytes(&r, e.len);
		if (r.err)
			return r.err;
		if (fn != NULL) {
			int err = fn(ud, i, &e);
			if (err != 0)
				return err;
		}
	}
	return ph__rd_end(&r);
}

int ph__batch_count(const uint8_t *bytes, size_t len, size_t *n)
{
	int err = ph__batch_walk(bytes, len, NULL, NULL);
	if (err == 0)
		*n = bytes[1];
	return err;
}
