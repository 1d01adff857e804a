/* engine/record.c: the durable records of a replica, and restart from them.
 *
 * Record: version u8 (PH_RECORD_VERSION), kind u8, slot u64, then
 *   PROMISE   ballot
 *   ACCEPT    ballot, u32 len + batch
 *   CHOSEN    u32 len + batch
 *   SNAPSHOT  snapshot bytes (the rest; kv.c)
 *   TRUNCATE  nothing
 * The kind and slot inside must equal the ones the store keyed it by. */
#include "internal.h"

static void fill_head(struct ph_wr *w, int kind, ph_slot slot)
{
	ph__wr_u8(w, PH_RECORD_VERSION);
	ph__wr_u8(w, (uint8_t)kind);
	ph__wr_u64(w, slot);
}

static void fill_promise(struct ph_wr *w, const void *ud)
{
	const struct ph_cell *c = ud;
	fill_head(w, PH_REC_PROMISE, 0);
	ph__wr_ballot(w, c->promised);
}

struct entry_ud {
	const struct ph_entry *e;
	ph_slot slot;
};

static void fill_accept(struct ph_wr *w, const void *ud)
{
	const struct entry_ud *u = ud;
	fill_head(w, PH_REC_ACCEPT, u->slot);
	ph__wr_ballot(w, u->e->accepted);
	ph__wr_u32(w, u->e->len);
	ph__wr_bytes(w, u->e->value, u->e->len);
}

static void fill_chosen(struct ph_wr *w, const void *ud)
{
	const struct entry_ud *u = ud;
	fill_head(w, PH_REC_CHOSEN, u->slot);
	ph__wr_u32(w, u->e->len);
	ph__wr_bytes(w, u->e->value, u->e->len);
}

static void fill_snapshot(struct ph_wr *w, const void *ud)
{
	const struct ph_cell *c = ud;
	fill_head(w, PH_REC_SNAPSHOT, 0);
	ph__snapshot_encode(c, w);
}

static void fill_truncate(struct ph_wr *w, const void *ud)
{
	const struct ph_cell *c = ud;
	fill_head(w, PH_REC_TRUNCATE, c->base);
}

/* Order matters: the store keeps a prefix of the record stream across a
 * crash, so the snapshot (and the chosen values) come before the accepted
 * values they justify: an acceptor restarts knowing at least the chosen prefix
 * it had when it accepted anything it still remembers. */
int ph__records_emit(struct ph_cell *c)
{
	int err = 0;
	if (c->promise_dirty)
		err = ph__out_record(c, PH_REC_PROMISE, 0, 10 + 12, fill_promise, c);
	if (err == 0 && c->snapshot_dirty) {
		struct ph_wr w;
		ph__wr_init(&w, NULL, 0);
		ph__snapshot_encode(c, &w);
		err = ph__out_record(c, PH_REC_SNAPSHOT, 0, 10 + w.len, fill_snapshot, c);
		if (err == 0)
			err = ph__out_record(c, PH_REC_TRUNCATE, c->base, 10, fill_truncate, c);
	}
	for (size_t i = 0; i < c->log_n && err == 0; i++) {
		struct entry_ud u = {&c->log[i], c->base + i};
		if (u.e->value == NULL)
			continue;
		if ((u.e->dirty & PH_DIRTY_CHOSEN) && u.e->chosen)
			err = ph__out_record(c, PH_REC_CHOSEN, u.slot, 10 + 4 + u.e->len,
					     fill_chosen, &u);
		if (err == 0 && (u.e->dirty & PH_DIRTY_ACCEPT) && u.e->accepted.round > 0)
			err = ph__out_record(c, PH_REC_ACCEPT, u.slot, 10 + 12 + 4 + u.e->len,
					     fill_accept, &u);
	}
	if (err != 0)
		return err;
	c->promise_dirty = 0;
	c->snapshot_dirty = 0;
	for (size_t i = 0; i < c->log_n; i++)
		c->log[i].dirty = 0;
	return 0;
}

/* ---- validation and load -------------------------------------------------------- */

struct parsed {
	int kind;
	ph_slot slot;
	struct ph_ballot ballot;
	const uint8_t *value;
	size_t len;
};

static int record_parse(const struct ph_record *rec, struct parsed *p)
{
	if (rec == NULL || (rec->bytes == NULL && rec->len > 0))
		return PH_EINVAL;
	struct ph_rd r;
	ph__rd_init(&r, rec->bytes, rec->len);
	uint8_t ver = ph__rd_u8(&r);
	uint8_t kind = ph__rd_u8(&r);
	p->slot = ph__rd_u64(&r);
	if (r.err)
		return r.err;
	if (ver != PH_RECORD_VERSION)
		return PH_EVERSION;
	if (kind < PH_REC_PROMISE || kind > PH_REC_TRUNCATE)
		return PH_EUNKNOWN;
	p->kind = kind;
	if (kind != rec->kind || p->slot != rec->slot)
		return PH_ECORRUPT;
	if ((kind == PH_REC_PROMISE || kind == PH_REC_SNAPSHOT) && p->slot != 0)
		return PH_EMALFORMED;
	p->value = NULL;
	p->len = 0;
	p->ballot = (struct ph_ballot){0, 0};
	int err = 0;
	switch (kind) {
	case PH_REC_PROMISE:
		p->ballot = ph__rd_ballot(&r);
		break;
	case PH_REC_ACCEPT:
		p->ballot = ph__rd_ballot(&r);
		/* fall through */
	case PH_REC_CHOSEN: {
		uint32_t n = ph__rd_u32(&r);
		if (r.err)
			return r.err;
		if (n > PH_BATCH_BYTES_MAX)
			return PH_ETOOBIG;
		p->value = ph__rd_bytes(&r, n);
		p->len = n;
		if (r.err)
			return r.err;
		if ((err = ph__batch_walk(p->value, n, NULL, NULL)) != 0)
			return err;
		break;
	}
	case PH_REC_SNAPSHOT:
		p->value = r.p + r.off;
		p->len = ph__rd_left(&r);
		r.off = r.len;
		if ((err = ph_snapshot_check(p->value, p->len, NULL, NULL)) != 0)
			return err;
		break;
	}
	if ((err = ph__rd_end(&r)) != 0)
		return err;
	if (kind == PH_REC_ACCEPT && (p->ballot.round == 0 || p->ballot.node == 0))
		return PH_EMALFORMED;
	return 0;
}

int ph_record_check(const struct ph_record *rec, const struct ph_allocator *alloc)
{
	(void)alloc;
	struct parsed p;
	return record_parse(rec, &p);
}

/* Back to a fresh replica after a failed load. */
static void reset_fresh(struct ph_cell *c)
{
	for (size_t i = 0; i < c->log_n; i++)
		ph__free(&c->a, c->log[i].value);
	c->log_n = 0;
	ph__kv_clear(c);
	ph__sessions_clear(c);
	c->base = c->chosen = c->applied = 0;
	c->apply_index = 0;
	c->promised = (struct ph_ballot){0, 0};
	c->seen_round = 0;
	c->promise_dirty = c->snapshot_dirty = 0;
	c->feature_level = PH_FEATURE_LEVEL;
	c->out.n_recs = c->out.n_msgs = c->out.n_reps = c->out.n_trans = 0;
	c->out.arena_len = 0;
}

static int load(struct ph_cell *c, const struct ph_record *records, size_t n)
{
	const struct parsed *snap = NULL;
	struct parsed ps[1];
	int err;
	bool forget = false;
#ifdef PH_PLANTED_BUGS
	forget = PH_BUG(c, PH_BUG_FORGET_PROMISE_ON_RESTART);
#endif
	/* pass 1: validate everything, find the snapshot and the promise */
	for (size_t i = 0; i < n; i++) {
		struct parsed p;
		if ((err = record_parse(&records[i], &p)) != 0)
			return err;
		if (p.kind == PH_REC_SNAPSHOT) {
			if (snap != NULL)
				return PH_ECORRUPT;
			ps[0] = p;
			snap = &ps[0];
		} else if (p.kind == PH_REC_PROMISE) {
			if (!forget && ph_ballot_cmp(p.ballot, c->promised) > 0)
				c->promised = p.ballot;
		}
	}
	if (snap != NULL) {
		ph_slot s;
		if ((err = ph__snapshot_decode(c, snap->value, snap->len, &s)) != 0)
			return err;
		c->base = c->chosen = c->applied = s;
	}
	/* pass 2: the log above the snapshot */
	for (size_t i = 0; i < n; i++) {
		struct parsed p;
		record_parse(&records[i], &p);
		if ((p.kind != PH_REC_ACCEPT && p.kind != PH_REC_CHOSEN) || p.slot < c->base)
			continue;
		if (p.slot - c->base > 4096)
			return PH_ECORRUPT; /* the log never runs this far past a snapshot */
		struct ph_entry *e;
		if ((err = ph__log_at(c, p.slot, &e)) != 0)
			return err;
		if (p.kind == PH_REC_ACCEPT) {
			e->accepted = p.ballot;
			if (!e->chosen && (err = ph__entry_set(c, e, p.value, p.len)) != 0)
				return err;
			if (forget)
				continue;
			if (ph_ballot_cmp(p.ballot, c->promised) > 0)
				c->promised = p.ballot;
		} else {
			if ((err = ph__entry_set(c, e, p.value, p.len)) != 0)
				return err;
			e->chosen = 1;
		}
		if (p.ballot.round > c->seen_round)
			c->seen_round = p.ballot.round;
	}
	if (c->promised.round > c->seen_round)
		c->seen_round = c->promised.round;
	/* replay what is chosen (transitions of a replay are not reported) */
	if ((err = ph__advance(c)) != 0)
		return err;
	for (size_t i = 0; i < c->log_n; i++)
		c->log[i].dirty = 0;
	c->promise_dirty = 0;
	c->out.n_recs = c->out.n_msgs = c->out.n_reps = c->out.n_trans = 0;
	c->out.arena_len = 0;
	return 0;
}

int ph_cell_load(struct ph_cell *c, const struct ph_record *records, size_t n)
{
	if (c == NULL || (records == NULL && n > 0))
		return PH_EINVAL;
	if (c->started || c->loaded)
		return PH_ESTATE;
	int err = load(c, records, n);
	if (err != 0) {
		reset_fresh(c);
		return err;
	}
	c->loaded = 1;
	return 0;
}
