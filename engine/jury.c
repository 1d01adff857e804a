/* engine/jury.c: the cell's jury (its voting membership), majority quorums,
 * and the alpha window that bounds the pipeline (PHYSALIA.md 3-4).
 *
 * The window is the one place that decides how far the log may run ahead of
 * what is chosen: a proposer opens slot s only while s < chosen + alpha, and
 * an acceptor accepts slot s only while s < its own chosen + alpha. The second
 * rule bounds what an acceptor can report in a promise to alpha entries, and
 * it is what lets a membership change logged at i take effect at i + alpha:
 * every slot below i + alpha is voted on with the jury in force before it.
 * Reconfiguration (issue 5) is below: eras, the roster, the change rules. */
#include <assert.h>
#include <string.h>

#include "internal.h"

int ph__jury_check(const ph_node_id *ids, size_t n)
{
	if (n < PH_JURY_MIN || n > PH_JURY_MAX)
		return PH_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0)
			return PH_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (ids[i] == ids[j])
				return PH_EINVAL;
	}
	return 0;
}

int ph__jury_index(const struct ph_jury *j, ph_node_id id)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->ids[i] == id)
			return (int)i;
	return -1;
}

bool ph__jury_member(const struct ph_jury *j, ph_node_id id)
{
	return ph__jury_index(j, id) >= 0;
}

size_t ph__jury_quorum(const struct ph_jury *j)
{
	return (size_t)j->n / 2 + 1;
}

bool ph__window_open(const struct ph_cell *c, ph_slot s)
{
	return s < c->chosen + c->alpha;
}

bool ph__accept_window(const struct ph_cell *c, ph_slot s)
{
	return s < c->chosen + c->alpha;
}

/* ---- reconfiguration (issue 5; docs/protocol.md; tests/spec/cell.pml) -------
 *
 * The jury is cell state, changed only by a change transition in the log
 * (PH_ENTRY_JURY). A change chosen at slot i takes effect at i + alpha: it
 * opens an era {from = i + alpha, jury}. c->jury votes on slots below the
 * first era. This is the model's juryFor(): since a proposer opens and an
 * acceptor accepts slot s only while s < chosen + alpha, whoever acts on s
 * has applied every slot up to s - alpha, so it sees every era that covers s
 * and every replica computes the same jury for s.
 *
 * Eras no open slot can see are folded into c->jury. The fold point depends
 * on the applied prefix only (so snapshots are equal on every replica): once
 * `applied` slots are applied, the next change to apply (at slot `applied`)
 * looks at juries from applied - alpha + 1 on (the return rule below), and
 * votes are counted only on slots >= chosen >= applied. */

const struct ph_jury *ph__jury_newest(const struct ph_cell *c, ph_slot *from)
{
	if (c->eras_n == 0) {
		if (from)
			*from = c->jury_from;
		return &c->jury;
	}
	if (from)
		*from = c->eras[c->eras_n - 1].from;
	return &c->eras[c->eras_n - 1].jury;
}

static const struct ph_jury *jury_at(const struct ph_cell *c, ph_slot s)
{
	const struct ph_jury *j = &c->jury;
	for (size_t k = 0; k < c->eras_n && c->eras[k].from <= s; k++)
		j = &c->eras[k].jury;
	return j;
}

const struct ph_jury *ph__jury_for(const struct ph_cell *c, ph_slot s)
{
	const struct ph_jury *j = jury_at(c, s);
#ifdef PH_PLANTED_BUGS
	/* the planted bug: a deposed replica keeps the last jury it was in */
	if (PH_BUG(c, PH_BUG_DEPOSED_VOTES) && !ph__jury_member(j, c->self)) {
		const struct ph_jury *mine = ph__jury_member(&c->jury, c->self) ? &c->jury
					   : c->bug_mine.n ? &c->bug_mine : NULL;
		for (size_t k = 0; k < c->eras_n && c->eras[k].from <= s; k++)
			if (ph__jury_member(&c->eras[k].jury, c->self))
				mine = &c->eras[k].jury;
		if (mine != NULL)
			j = mine;
	}
#endif
	return j;
}

size_t ph__roster(const struct ph_cell *c, ph_node_id *ids)
{
	size_t n = 0;
	for (size_t i = 0; i < c->jury.n; i++)
		ids[n++] = c->jury.ids[i];
	for (size_t k = 0; k < c->eras_n; k++) {
		const struct ph_jury *j = &c->eras[k].jury;
		for (size_t i = 0; i < j->n; i++) {
			size_t x = 0;
			while (x < n && ids[x] != j->ids[i])
				x++;
			if (x == n && n < PH_ROSTER_MAX)
				ids[n++] = j->ids[i];
		}
	}
#ifdef PH_PLANTED_BUGS
	if (PH_BUG(c, PH_BUG_DEPOSED_VOTES)) /* the old jury stays in the roster */
		for (size_t i = 0; i < c->bug_mine.n; i++) {
			size_t x = 0;
			while (x < n && ids[x] != c->bug_mine.ids[i])
				x++;
			if (x == n && n < PH_ROSTER_MAX)
				ids[n++] = c->bug_mine.ids[i];
		}
#endif
	return n;
}

uint16_t ph__roster_bit(const struct ph_cell *c, ph_node_id id)
{
	ph_node_id ids[PH_ROSTER_MAX];
	size_t n = ph__roster(c, ids);
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return (uint16_t)(1u << i);
	return 0;
}

size_t ph__votes_at(const struct ph_cell *c, ph_slot s, uint16_t mask)
{
	const struct ph_jury *j = ph__jury_for(c, s);
	size_t n = 0;
	for (size_t i = 0; i < j->n; i++)
		if (mask & ph__roster_bit(c, j->ids[i]))
			n++;
	return n;
}

bool ph__quorum_at(const struct ph_cell *c, ph_slot s, uint16_t mask)
{
	return ph__votes_at(c, s, mask) >= ph__jury_quorum(ph__jury_for(c, s));
}

bool ph__quorum_window(const struct ph_cell *c, ph_slot from, uint16_t mask)
{
	for (ph_slot s = from; s < from + c->alpha; s++)
		if (!ph__quorum_at(c, s, mask))
			return false;
	return true;
}

bool ph__member_from(const struct ph_cell *c, ph_slot from)
{
	if (ph__jury_member(ph__jury_for(c, from), c->self))
		return true;
	for (size_t k = 0; k < c->eras_n; k++)
		if (c->eras[k].from > from && ph__jury_member(&c->eras[k].jury, c->self))
			return true;
	return false;
}

bool ph__deposed(const struct ph_cell *c)
{
	return c->member_seen && !ph__member_from(c, c->chosen);
}

bool ph__may_vote(const struct ph_cell *c, ph_slot s)
{
	return ph__jury_member(ph__jury_for(c, s), c->self);
}

void ph__jury_change_encode(const struct ph_jury_change *ch, uint8_t *buf)
{
	struct ph_wr w;
	ph__wr_init(&w, buf, PH_JURY_CHANGE_LEN);
	ph__wr_u8(&w, 1);
	ph__wr_u8(&w, (uint8_t)ch->op);
	ph__wr_u32(&w, ch->out);
	ph__wr_u32(&w, ch->in);
	ph__wr_u32(&w, ch->epoch);
}

static bool change_decode(const uint8_t *bytes, size_t len, struct ph_jury_change *ch)
{
	if (len != PH_JURY_CHANGE_LEN)
		return false;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	uint8_t ver = ph__rd_u8(&r);
	ch->op = ph__rd_u8(&r);
	ch->out = ph__rd_u32(&r);
	ch->in = ph__rd_u32(&r);
	ch->epoch = ph__rd_u32(&r);
	return r.err == 0 && ver == 1;
}

/* The jury after ch, into next; false when ch does not fit the newest jury. */
static bool change_result(const struct ph_jury *cur, const struct ph_jury_change *ch,
			  struct ph_jury *next)
{
	*next = *cur;
	bool out_ok = ch->out != 0 && ph__jury_member(cur, ch->out);
	bool in_ok = ch->in != 0 && !ph__jury_member(cur, ch->in);
	switch (ch->op) {
	case PH_JURY_REPLACE:
		if (!out_ok || !in_ok)
			return false;
		next->ids[ph__jury_index(cur, ch->out)] = ch->in;
		return true;
	case PH_JURY_ADD:
		if (!in_ok || cur->n >= PH_JURY_MAX || ch->out != 0)
			return false;
		next->ids[next->n++] = ch->in;
		return true;
	case PH_JURY_REMOVE: {
		if (!out_ok || cur->n <= PH_JURY_MIN || ch->in != 0)
			return false;
		size_t x = (size_t)ph__jury_index(cur, ch->out);
		memmove(&next->ids[x], &next->ids[x + 1], (next->n - x - 1) * sizeof next->ids[0]);
		next->n--;
		return true;
	}
	default:
		return false;
	}
}

static ph_slot effect_slot(const struct ph_cell *c, ph_slot slot)
{
#ifdef PH_PLANTED_BUGS
	if (PH_BUG(c, PH_BUG_JURY_EFFECT_AT_I))
		return slot + 1; /* the planted bug: effect at once, the window ignored */
#endif
	return slot + c->alpha;
}

int ph__jury_check_change(const struct ph_cell *c, ph_slot slot, const uint8_t *bytes, size_t len)
{
	struct ph_jury_change ch = {0};
	if (!change_decode(bytes, len, &ch))
		return PH_R_MALFORMED;
	if (ch.epoch != c->jury_epoch)
		return PH_R_JURY_EPOCH;
	struct ph_jury next;
	if (!change_result(ph__jury_newest(c, NULL), &ch, &next))
		return PH_R_JURY_INVALID;
	/* one change at a time unless configured: the previous one in effect */
	if (c->eras_n == PH_ERAS_MAX ||
	    (!c->jury_window_changes && c->eras_n > 0 && c->eras[c->eras_n - 1].from > slot))
		return PH_R_JURY_PENDING;
	ph_node_id ids[PH_ROSTER_MAX];
	if (ch.in != 0) {
		size_t n = ph__roster(c, ids), x = 0;
		while (x < n && ids[x] != ch.in)
			x++;
		if (x == n && n == PH_ROSTER_MAX)
			return PH_R_JURY_PENDING;
		/* ABA: a node may come back only once no slot of its earlier term
		 * can still be open, so its new replica, with none of the old
		 * one's promises, is never counted for those slots */
		ph_slot lo = slot + 1 > c->alpha ? slot + 1 - c->alpha : 0;
		for (ph_slot s = lo; s < slot + c->alpha; s++)
			if (ph__jury_member(jury_at(c, s), ch.in))
				return PH_R_JURY_RETURN;
	}
	return PH_R_NONE;
}

void ph__jury_commit_change(struct ph_cell *c, ph_slot slot, const uint8_t *bytes, size_t len)
{
	struct ph_jury_change ch = {0};
	bool ok = change_decode(bytes, len, &ch);
	assert(ok && c->eras_n < PH_ERAS_MAX);
	(void)ok;
	struct ph_era *e = &c->eras[c->eras_n];
	ok = change_result(ph__jury_newest(c, NULL), &ch, &e->jury);
	assert(ok);
	e->from = effect_slot(c, slot);
	c->eras_n++;
	c->joiner = ch.in;
	c->joiner_from = e->from;
	c->joiner_acked = 0;
	c->jury_epoch++;
}

void ph__jury_fold(struct ph_cell *c)
{
	ph_slot f = c->applied + 1 > c->alpha ? c->applied + 1 - c->alpha : 0;
	if (c->eras_n == 0 || c->eras[0].from > f)
		return;
	ph_node_id old[PH_ROSTER_MAX], now[PH_ROSTER_MAX];
	size_t n_old = ph__roster(c, old);
	size_t k = 0;
	while (k < c->eras_n && c->eras[k].from <= f)
		k++;
#ifdef PH_PLANTED_BUGS
	for (size_t x = 0; x < k; x++) /* the bug remembers the last jury self was in */
		if (ph__jury_member(&c->eras[x].jury, c->self))
			c->bug_mine = c->eras[x].jury;
#endif
	c->jury = c->eras[k - 1].jury;
	c->jury_from = c->eras[k - 1].from;
	memmove(c->eras, c->eras + k, (c->eras_n - k) * sizeof c->eras[0]);
	c->eras_n = (uint8_t)(c->eras_n - k);
	size_t n_now = ph__roster(c, now);
	uint16_t map[PH_ROSTER_MAX]; /* old bit i -> new bit (0: gone) */
	for (size_t i = 0; i < n_old; i++) {
		map[i] = 0;
		for (size_t x = 0; x < n_now; x++)
			if (now[x] == old[i])
				map[i] = (uint16_t)(1u << x);
	}
	for (size_t e = 0; e < c->log_n; e++) {
		uint16_t v = c->log[e].votes, r = 0;
		for (size_t i = 0; i < n_old; i++)
			if (v & (1u << i))
				r |= map[i];
		c->log[e].votes = r;
	}
	uint16_t r = 0;
	for (size_t i = 0; i < n_old; i++)
		if (c->p1_mask & (1u << i))
			r |= map[i];
	c->p1_mask = r;
}
