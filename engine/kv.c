/* engine/kv.c: the cell's state machine: the typed key-value data, the
 * exactly-once session table, applying a logged transaction (PHYSALIA.md 2:
 * optimistic commit: committed or ignored, with the reason, identically on
 * every replica), eventually consistent reads, and the snapshot codec.
 *
 * Applying is atomic: everything a transaction needs (values, key copies,
 * array room, output room) is allocated first; only then is the state
 * changed, by code that cannot fail. */
#include "internal.h"

#define SNAP_VERSION 2 /* 2: jury epoch and eras (issue 5) */
#define RESULT_VERSION 1

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

struct ph_kv *ph__kv_find(const struct ph_cell *c, const uint8_t *key, size_t klen, size_t *pos)
{
	size_t lo = 0, hi = c->kv_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_cmp(c->kv[mid].key, c->kv[mid].klen, key, klen);
		if (r == 0) {
			if (pos)
				*pos = mid;
			return &c->kv[mid];
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static size_t kv_bytes(size_t klen, const struct ph_val *v)
{
	return klen + ph__val_encoded_size(v);
}

void ph__kv_clear(struct ph_cell *c)
{
	for (size_t i = 0; i < c->kv_n; i++) {
		ph__free(&c->a, c->kv[i].key);
		ph__val_free(&c->a, &c->kv[i].v);
	}
	ph__free(&c->a, c->kv);
	c->kv = NULL;
	c->kv_n = c->kv_cap = 0;
	c->data_bytes = 0;
}

void ph__sessions_clear(struct ph_cell *c)
{
	for (size_t i = 0; i < c->ses_n; i++)
		ph__free(&c->a, c->ses[i].result);
	ph__free(&c->a, c->ses);
	c->ses = NULL;
	c->ses_n = c->ses_cap = 0;
}

struct ph_session *ph__session_find(struct ph_cell *c, uint64_t client)
{
	for (size_t i = 0; i < c->ses_n; i++)
		if (c->ses[i].client == client)
			return &c->ses[i];
	return NULL;
}

/* ---- evaluation ----------------------------------------------------------- */

static bool cond_holds(const struct ph_cell *c, const struct ph_item *it)
{
	const struct ph_kv *kv = ph__kv_find(c, it->key, it->klen, NULL);
	switch (it->kind) {
	case PH_COND_EXISTS:
		return kv != NULL;
	case PH_COND_ABSENT:
		return kv == NULL;
	case PH_COND_EQUALS:
		return kv != NULL && ph__val_equal(&kv->v, &it->v);
	case PH_COND_TYPE_IS:
		return kv != NULL && kv->v.type == it->sub;
	case PH_COND_INT_CMP: {
		if (kv == NULL || kv->v.type != PH_T_INT)
			return false;
		int r = mpz_cmp(kv->v.z, it->v.z);
		switch (it->sub) {
		case PH_CMP_LT: return r < 0;
		case PH_CMP_LE: return r <= 0;
		case PH_CMP_EQ: return r == 0;
		case PH_CMP_NE: return r != 0;
		case PH_CMP_GE: return r >= 0;
		case PH_CMP_GT: return r > 0;
		}
		return false;
	}
	}
	return false;
}

/* The result bytes: header then reads (when with_reads). */
static void result_write(struct ph_wr *w, const struct ph_cell *c, const struct ph_txn *t,
			 uint8_t outcome, uint8_t reason, uint32_t failed, uint64_t token,
			 bool with_reads)
{
	ph__wr_u8(w, RESULT_VERSION);
	ph__wr_u8(w, outcome);
	ph__wr_u8(w, reason);
	ph__wr_u32(w, failed);
	ph__wr_u64(w, token);
	size_t n = 0;
	if (with_reads && t != NULL)
		for (size_t i = 0; i < t->n_ops; i++)
			n += t->ops[i].kind == PH_OP_READ;
	ph__wr_u8(w, (uint8_t)n);
	if (n == 0)
		return;
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct ph_item *o = &t->ops[i];
		if (o->kind != PH_OP_READ)
			continue;
		const struct ph_kv *kv = ph__kv_find(c, o->key, o->klen, NULL);
		ph__wr_u8(w, o->klen);
		ph__wr_bytes(w, o->key, o->klen);
		ph__wr_u8(w, kv != NULL);
		if (kv != NULL)
			ph__val_encode(w, &kv->v);
	}
}

/* Outcome of a transaction against the current state; *res filled with the
 * encoded result (buf PH_RESULT_MAX). Writes are planned, not applied. */
struct plan {
	uint8_t outcome, reason;
	uint32_t failed;
	size_t res_len;
	uint8_t res[PH_RESULT_MAX];
	/* per op: the new value (PUT/INCREMENT), owned until committed */
	struct ph_val nv[PH_TXN_ITEMS_MAX];
	bool has_nv[PH_TXN_ITEMS_MAX];
	uint8_t *nkey[PH_TXN_ITEMS_MAX]; /* key copies for inserts */
	size_t inserts;
};

static void plan_free(struct ph_cell *c, struct plan *p)
{
	for (size_t i = 0; i < PH_TXN_ITEMS_MAX; i++) {
		if (p->has_nv[i])
			ph__val_free(&c->a, &p->nv[i]);
		p->has_nv[i] = false;
		ph__free(&c->a, p->nkey[i]);
		p->nkey[i] = NULL;
	}
}

static void plan_result(struct plan *p, const struct ph_cell *c, const struct ph_txn *t,
			uint64_t token, bool with_reads)
{
	struct ph_wr w;
	ph__wr_init(&w, p->res, sizeof p->res);
	result_write(&w, c, t, p->outcome, p->reason, p->failed, token, with_reads);
	p->res_len = w.len; /* fits: checked before */
}

/* Evaluate t; with writes (not an eventual read), allocate the new values.
 * PH_ENOMEM frees what it allocated. */
static int evaluate(struct ph_cell *c, const struct ph_txn *t, uint64_t token, bool writes,
		    struct plan *p)
{
	memset(p->has_nv, 0, sizeof p->has_nv);
	memset(p->nkey, 0, sizeof p->nkey);
	p->inserts = 0;
	p->outcome = PH_OUT_COMMITTED;
	p->reason = PH_R_NONE;
	p->failed = 0;

	/* 1. the result must fit (reads are returned with either outcome) */
	struct ph_wr w;
	ph__wr_init(&w, NULL, 0);
	result_write(&w, c, t, 0, 0, 0, 0, true);
	if (w.len > PH_RESULT_MAX) {
		p->outcome = PH_OUT_IGNORED;
		p->reason = PH_R_RESULT_TOO_BIG;
		plan_result(p, c, t, token, false);
		return 0;
	}
	/* 2. conditions, in order */
	for (size_t i = 0; i < t->n_conds; i++) {
		if (!cond_holds(c, &t->conds[i])) {
			p->outcome = PH_OUT_IGNORED;
			p->reason = PH_R_CONDITION;
			p->failed = (uint32_t)i;
			plan_result(p, c, t, token, true);
			return 0;
		}
	}
	/* 3. writes: each key is written at most once, so each sees the state
	 * before the transaction */
	size_t keys = c->kv_n, data = c->data_bytes;
	for (size_t i = 0; writes && i < t->n_ops && p->outcome == PH_OUT_COMMITTED; i++) {
		const struct ph_item *o = &t->ops[i];
		if (o->kind == PH_OP_READ)
			continue;
		const struct ph_kv *kv = ph__kv_find(c, o->key, o->klen, NULL);
		if (kv != NULL) {
			data -= kv_bytes(kv->klen, &kv->v);
			keys--;
		}
		int err = 0;
		if (o->kind == PH_OP_PUT) {
			err = ph__val_copy(&c->a, &o->v, &p->nv[i]);
		} else if (o->kind == PH_OP_INCREMENT) {
			if (kv != NULL && kv->v.type != PH_T_INT) {
				p->outcome = PH_OUT_IGNORED;
				p->reason = PH_R_TYPE;
				p->failed = (uint32_t)i;
				break;
			}
			if (kv != NULL)
				err = ph__int_add(&c->a, &kv->v, &o->v, &p->nv[i]);
			else
				err = ph__val_copy(&c->a, &o->v, &p->nv[i]);
			if (err == PH_ETOOBIG) {
				p->outcome = PH_OUT_IGNORED;
				p->reason = PH_R_INT_TOO_BIG;
				p->failed = (uint32_t)i;
				break;
			}
		}
		if (err != 0) {
			plan_free(c, p);
			return err;
		}
		if (o->kind != PH_OP_DELETE) {
			p->has_nv[i] = true;
			data += kv_bytes(o->klen, &p->nv[i]);
			keys++;
			if (kv == NULL) {
				p->nkey[i] = ph__memdup(&c->a, o->key, o->klen, &err);
				if (err != 0) {
					plan_free(c, p);
					return err;
				}
				p->inserts++;
			}
		}
	}
	if (p->outcome == PH_OUT_COMMITTED && (keys > PH_CELL_KEYS_MAX || data > PH_CELL_DATA_MAX)) {
		p->outcome = PH_OUT_IGNORED;
		p->reason = PH_R_CELL_FULL;
		p->failed = t->n_ops;
	}
	if (p->outcome != PH_OUT_COMMITTED)
		plan_free(c, p);
	plan_result(p, c, t, token, true);
	return 0;
}

/* Apply a planned, committed transaction: cannot fail (room reserved). */
static void commit(struct ph_cell *c, const struct ph_txn *t, struct plan *p)
{
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct ph_item *o = &t->ops[i];
		if (o->kind == PH_OP_READ)
			continue;
		size_t pos;
		struct ph_kv *kv = ph__kv_find(c, o->key, o->klen, &pos);
		if (kv != NULL) {
			c->data_bytes -= kv_bytes(kv->klen, &kv->v);
			ph__val_free(&c->a, &kv->v);
			if (o->kind == PH_OP_DELETE) {
				ph__free(&c->a, kv->key);
				memmove(&c->kv[pos], &c->kv[pos + 1], (c->kv_n - pos - 1) * sizeof *kv);
				c->kv_n--;
				continue;
			}
			kv->v = p->nv[i];
		} else {
			if (o->kind == PH_OP_DELETE)
				continue;
			memmove(&c->kv[pos + 1], &c->kv[pos], (c->kv_n - pos) * sizeof *kv);
			kv = &c->kv[pos];
			kv->key = p->nkey[i];
			kv->klen = o->klen;
			kv->v = p->nv[i];
			p->nkey[i] = NULL;
			c->kv_n++;
		}
		p->has_nv[i] = false;
		c->data_bytes += kv_bytes(kv->klen, &kv->v);
	}
}

/* Find (and with remove, drop) a pending request this replica answers. */
static bool pending_take(struct ph_cell *c, uint64_t client, uint64_t seq)
{
	for (size_t i = 0; i < c->pend_n; i++) {
		if (c->pend[i].client == client && c->pend[i].seq == seq) {
			c->pend[i] = c->pend[--c->pend_n];
			return true;
		}
	}
	return false;
}

static bool pending_has(const struct ph_cell *c, uint64_t client, uint64_t seq)
{
	for (size_t i = 0; i < c->pend_n; i++)
		if (c->pend[i].client == client && c->pend[i].seq == seq)
			return true;
	return false;
}

/* Emit the transition and (if pending here) the reply. */
static int emit(struct ph_cell *c, ph_slot slot, uint32_t index, const struct ph_bentry *e,
		int outcome, int reason, int status, const uint8_t *res, size_t res_len)
{
	struct ph_transition tr = {.slot = slot, .index = index, .client = e->client,
				   .seq = e->seq, .outcome = outcome, .reason = reason};
	int err = ph__out_transition(c, &tr);
	if (err != 0)
		return err;
	if (pending_has(c, e->client, e->seq)) {
		struct ph_reply r = {.client = e->client, .seq = e->seq, .status = status,
				     .reason = reason, .token = slot + 1, .result = res,
				     .result_len = res_len, .leader_hint = c->leader_hint};
		if (ph__out_reply(c, &r) == 0)
			pending_take(c, e->client, e->seq);
		/* a reply lost to PH_ENOMEM is like a lost packet: the client
		 * retries and the session table answers */
	}
	return 0;
}

/* Ignored without evaluating (session rules, feature level, malformed). */
static int apply_refused(struct ph_cell *c, ph_slot slot, uint32_t index,
			 const struct ph_bentry *e, uint8_t reason)
{
	uint8_t res[32];
	struct ph_wr w;
	ph__wr_init(&w, res, sizeof res);
	result_write(&w, c, NULL, PH_OUT_IGNORED, reason, 0, slot + 1, false);
	return emit(c, slot, index, e, PH_OUT_IGNORED, reason, PH_ST_IGNORED, res, w.len);
}

/* A jury change (jury.c decides; no session: the epoch it names makes a
 * retry or a duplicate refused, never applied twice). */
static int apply_jury(struct ph_cell *c, ph_slot slot, uint32_t index, const struct ph_bentry *e)
{
	int reason = ph__jury_check_change(c, slot, e->txn, e->len);
	if (reason != PH_R_NONE)
		return apply_refused(c, slot, index, e, (uint8_t)reason);
	uint8_t res[32];
	struct ph_wr w;
	ph__wr_init(&w, res, sizeof res);
	result_write(&w, c, NULL, PH_OUT_COMMITTED, PH_R_NONE, 0, slot + 1, false);
	int err = emit(c, slot, index, e, PH_OUT_COMMITTED, PH_R_NONE, PH_ST_COMMITTED, res, w.len);
	if (err == 0)
		ph__jury_commit_change(c, slot, e->txn, e->len);
	return err;
}

int ph__apply_entry(struct ph_cell *c, ph_slot slot, uint32_t index, const struct ph_bentry *e)
{
	if (e->kind == PH_ENTRY_JURY)
		return apply_jury(c, slot, index, e);
	struct ph_session *s = ph__session_find(c, e->client);
	bool check = true;
#ifdef PH_PLANTED_BUGS
	check = !PH_BUG(c, PH_BUG_APPLY_RETRY_TWICE);
#endif
	if (s != NULL && e->seq <= s->seq && check) {
		if (e->seq < s->seq)
			return apply_refused(c, slot, index, e, PH_R_STALE_SEQ);
		/* a retry: the original answer, no change */
		int st = s->outcome == PH_OUT_COMMITTED ? PH_ST_COMMITTED : PH_ST_IGNORED;
		return emit(c, slot, index, e, PH_OUT_DUPLICATE, s->reason, st, s->result, s->rlen);
	}
	if (s == NULL && e->seq != 1)
		return apply_refused(c, slot, index, e, PH_R_SESSION_EXPIRED);

	uint16_t level = 0;
	int err = ph__txn_peek_level(e->txn, e->len, &level);
	if (err == 0 && level > c->feature_level)
		return apply_refused(c, slot, index, e, PH_R_FEATURE);
	struct ph_txn *t = NULL;
	if (err == 0)
		err = ph_txn_decode(e->txn, e->len, &c->a, &t);
	if (err == PH_ENOMEM)
		return err;
	if (err != 0)
		return apply_refused(c, slot, index, e, PH_R_MALFORMED);

	struct plan *p = ph__alloc(&c->a, sizeof *p);
	if (p == NULL) {
		ph_txn_free(t);
		return PH_ENOMEM;
	}
	err = evaluate(c, t, slot + 1, true, p);
	if (err != 0)
		goto err_after_plan;
	/* room for everything the commit does */
	err = ph__reserve(&c->a, (void **)&c->kv, &c->kv_cap, c->kv_n + p->inserts, sizeof *c->kv);
	if (err == 0 && s == NULL && c->ses_n < PH_DEDUP_MAX)
		err = ph__reserve(&c->a, (void **)&c->ses, &c->ses_cap, c->ses_n + 1,
				  sizeof *c->ses);
	uint8_t *saved = NULL;
	if (err == 0)
		saved = ph__memdup(&c->a, p->res, p->res_len, &err);
	if (err != 0)
		goto err_after_eval;
	struct ph_transition tr = {.slot = slot, .index = index, .client = e->client,
				   .seq = e->seq, .outcome = p->outcome, .reason = p->reason};
	err = ph__out_transition(c, &tr);
	if (err != 0) {
		ph__free(&c->a, saved);
		goto err_after_eval;
	}
	/* commit: nothing below fails */
	if (p->outcome == PH_OUT_COMMITTED)
		commit(c, t, p);
	if (s == NULL) {
		if (c->ses_n == PH_DEDUP_MAX) {
			/* evict the session applied longest ago */
			size_t old = 0;
			for (size_t i = 1; i < c->ses_n; i++)
				if (c->ses[i].slot < c->ses[old].slot ||
				    (c->ses[i].slot == c->ses[old].slot &&
				     c->ses[i].index < c->ses[old].index))
					old = i;
			ph__free(&c->a, c->ses[old].result);
			s = &c->ses[old];
		} else {
			s = &c->ses[c->ses_n++];
		}
		s->client = e->client;
	} else {
		ph__free(&c->a, s->result);
	}
	s->seq = e->seq;
	s->slot = slot;
	s->index = index;
	s->outcome = p->outcome;
	s->reason = p->reason;
	s->rlen = (uint16_t)p->res_len;
	s->result = saved;
	if (pending_has(c, e->client, e->seq)) {
		struct ph_reply r = {.client = e->client, .seq = e->seq,
				     .status = p->outcome == PH_OUT_COMMITTED ? PH_ST_COMMITTED
									      : PH_ST_IGNORED,
				     .reason = p->reason, .token = slot + 1, .result = s->result,
				     .result_len = s->rlen, .leader_hint = c->leader_hint};
		if (ph__out_reply(c, &r) == 0)
			pending_take(c, e->client, e->seq);
	}
	plan_free(c, p);
	ph__free(&c->a, p);
	ph_txn_free(t);
	return 0;

err_after_eval:
	plan_free(c, p);
err_after_plan:
	ph__free(&c->a, p);
	ph_txn_free(t);
	return err;
}

int ph__eventual_read(struct ph_cell *c, const struct ph_txn *t, uint64_t client, uint64_t seq)
{
	struct plan *p = ph__alloc(&c->a, sizeof *p);
	if (p == NULL)
		return PH_ENOMEM;
	int err = evaluate(c, t, c->applied, false, p);
	if (err == 0) {
		struct ph_reply r = {.client = client, .seq = seq,
				     .status = p->outcome == PH_OUT_COMMITTED ? PH_ST_COMMITTED
									      : PH_ST_IGNORED,
				     .reason = p->reason, .token = c->applied, .result = p->res,
				     .result_len = p->res_len, .leader_hint = c->leader_hint};
		err = ph__out_reply(c, &r);
	}
	plan_free(c, p);
	ph__free(&c->a, p);
	return err;
}

int ph__reply_simple(struct ph_cell *c, uint64_t client, uint64_t seq, int status, int reason,
		     int error)
{
	uint8_t res[32];
	size_t rlen = 0;
	if (status == PH_ST_IGNORED) {
		struct ph_wr w;
		ph__wr_init(&w, res, sizeof res);
		result_write(&w, c, NULL, PH_OUT_IGNORED, (uint8_t)reason, 0, c->applied, false);
		rlen = w.len;
	}
	struct ph_reply r = {.client = client, .seq = seq, .status = status, .reason = reason,
			     .error = error, .leader_hint = c->leader_hint, .token = c->applied,
			     .result = rlen ? res : NULL, .result_len = rlen};
	return ph__out_reply(c, &r);
}

/* ---- snapshot codec ---------------------------------------------------------
 * version u8, applied slot u64, feature level u16, jury (n u8, ids u32),
 * jury from u64, jury epoch u32, joiner u32, joiner from u64, eras (n u8; from u64, jury (n u8, ids u32); from increasing),
 * sessions (n u8; client u64, seq u64, slot u64, index u32, outcome u8,
 * reason u8, result u16 len + bytes; clients strictly increasing),
 * keys (n u16; key u8 len + bytes, value; strictly increasing). */

int ph__snapshot_encode(const struct ph_cell *c, struct ph_wr *w)
{
	ph__wr_u8(w, SNAP_VERSION);
	ph__wr_u64(w, c->applied);
	ph__wr_u16(w, c->feature_level);
	ph__wr_u8(w, c->jury.n);
	for (size_t i = 0; i < c->jury.n; i++)
		ph__wr_u32(w, c->jury.ids[i]);
	ph__wr_u64(w, c->jury_from);
	ph__wr_u32(w, c->jury_epoch);
	ph__wr_u32(w, c->joiner);
	ph__wr_u64(w, c->joiner_from);
	ph__wr_u8(w, c->eras_n);
	for (size_t k = 0; k < c->eras_n; k++) {
		ph__wr_u64(w, c->eras[k].from);
		ph__wr_u8(w, c->eras[k].jury.n);
		for (size_t i = 0; i < c->eras[k].jury.n; i++)
			ph__wr_u32(w, c->eras[k].jury.ids[i]);
	}
	ph__wr_u8(w, (uint8_t)c->ses_n);
	/* sessions in client order (the table itself is unordered) */
	uint64_t last = 0;
	for (size_t k = 0; k < c->ses_n; k++) {
		const struct ph_session *best = NULL;
		for (size_t i = 0; i < c->ses_n; i++)
			if (c->ses[i].client > last && (best == NULL || c->ses[i].client < best->client))
				best = &c->ses[i];
		last = best->client;
		ph__wr_u64(w, best->client);
		ph__wr_u64(w, best->seq);
		ph__wr_u64(w, best->slot);
		ph__wr_u32(w, best->index);
		ph__wr_u8(w, best->outcome);
		ph__wr_u8(w, best->reason);
		ph__wr_u16(w, best->rlen);
		ph__wr_bytes(w, best->result, best->rlen);
	}
	ph__wr_u16(w, (uint16_t)c->kv_n);
	for (size_t i = 0; i < c->kv_n; i++) {
		ph__wr_u8(w, c->kv[i].klen);
		ph__wr_bytes(w, c->kv[i].key, c->kv[i].klen);
		ph__val_encode(w, &c->kv[i].v);
	}
	return 0;
}

int ph_cell_snapshot_encode(const struct ph_cell *c, uint8_t *buf, size_t cap, size_t *len)
{
	if (c == NULL || len == NULL)
		return PH_EINVAL;
	struct ph_wr w;
	ph__wr_init(&w, buf, cap);
	ph__snapshot_encode(c, &w);
	return ph__wr_done(&w, len);
}

/* Parsed snapshot, owned (when a is non-NULL). */
struct snap {
	ph_slot slot;
	uint16_t level;
	struct ph_jury jury;
	ph_slot jury_from;
	uint32_t epoch;
	ph_node_id joiner;
	ph_slot joiner_from;
	struct ph_era eras[PH_ERAS_MAX];
	uint8_t eras_n;
	struct ph_session *ses;
	size_t ses_n;
	struct ph_kv *kv;
	size_t kv_n;
	size_t data;
};

static void snap_free(const struct ph_allocator *a, struct snap *s)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < s->ses_n; i++)
		ph__free(a, s->ses[i].result);
	for (size_t i = 0; i < s->kv_n; i++) {
		ph__free(a, s->kv[i].key);
		ph__val_free(a, &s->kv[i].v);
	}
	ph__free(a, s->ses);
	ph__free(a, s->kv);
}

static int snap_parse(const uint8_t *bytes, size_t len, const struct ph_allocator *a,
		      struct snap *s)
{
	memset(s, 0, sizeof *s);
	if (bytes == NULL && len > 0)
		return PH_EINVAL;
	if (len > PH_MSG_MAX)
		return PH_ETOOBIG;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	s->slot = ph__rd_u64(&r);
	s->level = ph__rd_u16(&r);
	s->jury.n = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (ver != SNAP_VERSION || s->level > PH_FEATURE_LEVEL)
		return PH_EVERSION;
	if (s->level == 0)
		return PH_EMALFORMED;
	if (s->jury.n < PH_JURY_MIN || s->jury.n > PH_JURY_MAX)
		return PH_EMALFORMED;
	for (size_t i = 0; i < s->jury.n; i++)
		s->jury.ids[i] = ph__rd_u32(&r);
	if (r.err)
		return r.err;
	if (ph__jury_check(s->jury.ids, s->jury.n) != 0)
		return PH_EMALFORMED;
	s->jury_from = ph__rd_u64(&r);
	s->epoch = ph__rd_u32(&r);
	s->joiner = ph__rd_u32(&r);
	s->joiner_from = ph__rd_u64(&r);
	s->eras_n = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (s->eras_n > PH_ERAS_MAX || s->eras_n > s->epoch)
		return PH_EMALFORMED;
	for (size_t k = 0; k < s->eras_n; k++) {
		struct ph_era *e = &s->eras[k];
		e->from = ph__rd_u64(&r);
		e->jury.n = ph__rd_u8(&r);
		if (r.err)
			return r.err;
		if (e->jury.n < PH_JURY_MIN || e->jury.n > PH_JURY_MAX ||
		    e->from <= (k > 0 ? s->eras[k - 1].from : s->jury_from))
			return PH_EMALFORMED;
		for (size_t i = 0; i < e->jury.n; i++)
			e->jury.ids[i] = ph__rd_u32(&r);
		if (r.err)
			return r.err;
		if (ph__jury_check(e->jury.ids, e->jury.n) != 0)
			return PH_EMALFORMED;
	}
	size_t nses = ph__rd_u8(&r);
	if (r.err)
		return r.err;
	if (nses > PH_DEDUP_MAX)
		return PH_ETOOBIG;
	int err = 0;
	if (a != NULL && nses > 0) {
		s->ses = ph__alloc(a, nses * sizeof *s->ses);
		if (s->ses == NULL)
			return PH_ENOMEM;
	}
	uint64_t last = 0;
	for (size_t i = 0; i < nses; i++) {
		struct ph_session x;
		memset(&x, 0, sizeof x);
		x.client = ph__rd_u64(&r);
		x.seq = ph__rd_u64(&r);
		x.slot = ph__rd_u64(&r);
		x.index = ph__rd_u32(&r);
		x.outcome = ph__rd_u8(&r);
		x.reason = ph__rd_u8(&r);
		x.rlen = ph__rd_u16(&r);
		const uint8_t *res = ph__rd_bytes(&r, x.rlen);
		if (r.err)
			return r.err;
		if (x.client <= last || x.seq == 0 || x.slot >= s->slot)
			return PH_EMALFORMED;
		if (x.outcome != PH_OUT_COMMITTED && x.outcome != PH_OUT_IGNORED)
			return PH_EMALFORMED;
		if ((err = ph__result_check(res, x.rlen)) != 0)
			return err;
		last = x.client;
		if (a != NULL) {
			x.result = ph__memdup(a, res, x.rlen, &err);
			if (err != 0)
				return err;
			s->ses[s->ses_n++] = x;
		}
	}
	size_t nkv = ph__rd_u16(&r);
	if (r.err)
		return r.err;
	if (nkv > PH_CELL_KEYS_MAX)
		return PH_ETOOBIG;
	if (a != NULL && nkv > 0) {
		s->kv = ph__alloc(a, nkv * sizeof *s->kv);
		if (s->kv == NULL)
			return PH_ENOMEM;
	}
	const uint8_t *lk = NULL;
	size_t lkn = 0;
	for (size_t i = 0; i < nkv; i++) {
		uint8_t klen = ph__rd_u8(&r);
		if (r.err)
			return r.err;
		if (klen == 0)
			return PH_EMALFORMED;
		if (klen > PH_KEY_MAX)
			return PH_ETOOBIG;
		const uint8_t *key = ph__rd_bytes(&r, klen);
		if (r.err)
			return r.err;
		if (lk != NULL && key_cmp(lk, lkn, key, klen) >= 0)
			return PH_EMALFORMED;
		lk = key;
		lkn = klen;
		size_t at = r.off;
		struct ph_kv kv;
		memset(&kv, 0, sizeof kv);
		if ((err = ph__val_decode(&r, a, a ? &kv.v : NULL)) != 0)
			return err;
		s->data += klen + (r.off - at);
		if (a != NULL) {
			kv.klen = klen;
			kv.key = ph__memdup(a, key, klen, &err);
			if (err != 0) {
				ph__val_free(a, &kv.v);
				return err;
			}
			s->kv[s->kv_n++] = kv;
		}
	}
	if (s->data > PH_CELL_DATA_MAX)
		return PH_ETOOBIG;
	return ph__rd_end(&r);
}

int ph_snapshot_check(const uint8_t *bytes, size_t len, const struct ph_allocator *alloc,
		      ph_slot *applied)
{
	(void)alloc;
	struct snap s;
	int err = snap_parse(bytes, len, NULL, &s);
	if (err == 0 && applied != NULL)
		*applied = s.slot;
	return err;
}

int ph__snapshot_decode(struct ph_cell *c, const uint8_t *bytes, size_t len, ph_slot *slot)
{
	struct snap s;
	int err = snap_parse(bytes, len, c ? &c->a : NULL, &s);
	if (err != 0 || c == NULL) {
		if (c != NULL)
			snap_free(&c->a, &s);
		if (err == 0 && slot)
			*slot = s.slot;
		return err;
	}
	ph__kv_clear(c);
	ph__sessions_clear(c);
	c->kv = s.kv;
	c->kv_n = c->kv_cap = s.kv_n;
	c->data_bytes = s.data;
	c->ses = s.ses;
	c->ses_n = c->ses_cap = s.ses_n;
	c->jury = s.jury;
	c->jury_epoch = s.epoch;
	c->jury_from = s.jury_from;
	if (c->joiner != s.joiner || c->joiner_from != s.joiner_from)
		c->joiner_acked = 0;
	c->joiner = s.joiner;
	c->joiner_from = s.joiner_from;
	c->eras_n = s.eras_n;
	memcpy(c->eras, s.eras, sizeof c->eras);
	c->feature_level = s.level;
	if (slot)
		*slot = s.slot;
	return 0;
}
