/* engine/paxos.c: multi-decree Paxos with a distinguished proposer
 * ("Paxos Made Simple"; PHYSALIA.md 3). One replica plays every role:
 *
 *   acceptor   answers PREPARE with PROMISE (or REJECT), ACCEPT with
 *              ACCEPTED (or REJECT); its promise and accepted values are
 *              records, and every answer is flagged after_durable while they
 *              are not on disk (cell.c);
 *   proposer   a jury member whose election timer fires runs phase 1 with a
 *              ballot above any it has seen (candidate); with a majority of
 *              promises it re-proposes the highest-ballot value reported for
 *              each open slot (no-op for holes) and becomes the distinguished
 *              proposer (leader); preempted, it backs off a seeded random time;
 *   leader     batches client requests into slots, at most alpha slots beyond
 *              what is chosen (jury.c), refuses with busy beyond one open
 *              batch, heartbeats, retransmits, announces CHOSEN;
 *   learner    learns CHOSEN values, catches up by CATCHUP (chosen values or a
 *              SNAPSHOT when it is behind the sender's truncated log).
 * Leadership is only for liveness; safety rests on ballots and quorums. */
#include <assert.h>

#include "internal.h"

#define CHOSEN_AHEAD_MAX 64 /* learn CHOSEN values at most this far ahead */
#define CATCHUP_BURST 8     /* CHOSEN values sent per CATCHUP */

/* In the jury of some open slot (the window and later eras; jury.c). */
static bool is_member(const struct ph_cell *c)
{
	return ph__member_from(c, c->chosen);
}

/* Vote masks are over the roster (every jury of the open eras; jury.c). */
static uint16_t bit_of(const struct ph_cell *c, ph_node_id id)
{
	return ph__roster_bit(c, id);
}

static size_t quorum(const struct ph_cell *c, ph_slot s)
{
	size_t q = ph__jury_quorum(ph__jury_for(c, s));
#ifdef PH_PLANTED_BUGS
	if (PH_BUG(c, PH_BUG_CHOOSE_WITHOUT_MAJORITY))
		q--;
#endif
	return q;
}

static void see(struct ph_cell *c, struct ph_ballot b)
{
	if (b.round > c->seen_round)
		c->seen_round = b.round;
}

void ph__reset_election(struct ph_cell *c)
{
	c->election_at = c->now + c->election_timeout + ph__rand(c) % c->election_timeout;
}

static void backoff(struct ph_cell *c)
{
	/* contenders settle: a wider random spread than a plain timeout */
	c->election_at = c->now + c->election_timeout + ph__rand(c) % (2 * c->election_timeout);
}

static void msg_init(const struct ph_cell *c, struct ph_msg *m, int type)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->pkey = c->pkey;
	m->pkey_len = c->pkey_len;
}

static int send_reject(struct ph_cell *c, ph_node_id to)
{
	struct ph_msg m;
	msg_init(c, &m, PH_MSG_REJECT);
	m.ballot = c->promised;
	m.slot = c->chosen;
	return ph__out_msg(c, to, &m);
}

static int maybe_catchup(struct ph_cell *c, ph_node_id to)
{
	if (c->now < c->catchup_at)
		return 0;
	c->catchup_at = c->now + c->heartbeat_interval;
	struct ph_msg m;
	msg_init(c, &m, PH_MSG_CATCHUP);
	m.slot = c->chosen;
	return ph__out_msg(c, to, &m);
}

static void p1_drop(struct ph_cell *c)
{
	for (size_t i = 0; i < c->p1_n; i++)
		ph__free(&c->a, c->p1[i].value);
	c->p1_n = 0;
}

/* Keep the highest-ballot value reported for a slot. */
static int p1_merge(struct ph_cell *c, const struct ph_msg_entry *e)
{
	for (size_t i = 0; i < c->p1_n; i++) {
		struct ph_p1 *p = &c->p1[i];
		if (p->slot != e->slot)
			continue;
		if (ph_ballot_cmp(e->ballot, p->ballot) <= 0)
			return 0;
		int err = 0;
		uint8_t *v = ph__memdup(&c->a, e->value, e->len, &err);
		if (err != 0)
			return err;
		ph__free(&c->a, p->value);
		p->value = v;
		p->len = (uint32_t)e->len;
		p->ballot = e->ballot;
		return 0;
	}
	int err = ph__reserve(&c->a, (void **)&c->p1, &c->p1_cap, c->p1_n + 1, sizeof *c->p1);
	if (err != 0)
		return err;
	uint8_t *v = ph__memdup(&c->a, e->value, e->len, &err);
	if (err != 0)
		return err;
	c->p1[c->p1_n++] = (struct ph_p1){e->slot, e->ballot, v, (uint32_t)e->len};
	return 0;
}

void ph__step_down(struct ph_cell *c)
{
	if (c->role == PH_ROLE_FOLLOWER)
		return;
	c->role = PH_ROLE_FOLLOWER;
	c->quiet = 0;
	p1_drop(c);
	c->p1_mask = 0;
	c->p1_hi = 0;
	/* Requests waiting here are answered "not leader": the client retries
	 * with the same seq elsewhere, and the session table makes that safe
	 * whether or not the original is chosen later. */
	for (size_t i = 0; i < c->pend_n; i++)
		ph__reply_simple(c, c->pend[i].client, c->pend[i].seq, PH_ST_NOT_LEADER, 0, 0);
	c->pend_n = 0;
	c->batch_len = 0;
	c->batch_n = 0;
	backoff(c);
}

/* Phase 1a: a ballot above anything seen, promised to ourselves first. */
static int start_phase1(struct ph_cell *c)
{
	if (!is_member(c))
		return 0;
	ph__step_down(c);
	uint64_t round = c->seen_round > c->promised.round ? c->seen_round : c->promised.round;
	c->ballot = (struct ph_ballot){round + 1, c->self};
	see(c, c->ballot);
	c->role = PH_ROLE_CANDIDATE;
	c->quiet = 0;
	c->promised = c->ballot;
	c->promise_dirty = 1;
	p1_drop(c);
	c->p1_mask = bit_of(c, c->self);
	c->p1_chosen = c->chosen;
	c->p1_ahead = c->self;
	c->leader_hint = 0;
	c->heartbeat_at = c->now + c->heartbeat_interval;
	backoff(c);
	struct ph_msg m;
	msg_init(c, &m, PH_MSG_PREPARE);
	m.ballot = c->ballot;
	m.slot = c->chosen;
	return ph__out_broadcast(c, &m);
}

/* Phase 2a for slot s: accept it ourselves, ask the jury. 0, 1 when the
 * slot turned out decided already (v unused), or PH_ENOMEM. */
static int propose(struct ph_cell *c, ph_slot s, const uint8_t *v, size_t len)
{
	/* a leader steps down on any higher ballot, so it still holds its own */
	assert(ph_ballot_cmp(c->promised, c->ballot) == 0);
	assert(s >= c->chosen && ph__window_open(c, s));
	struct ph_entry *e;
	int err = ph__log_at(c, s, &e);
	if (err != 0)
		return err;
	if (e->chosen)
		return 1; /* already decided: nothing to ask, the value stays unused */
	if ((err = ph__entry_set(c, e, v, len)) != 0)
		return err;
	e->accepted = c->ballot;
	e->dirty |= PH_DIRTY_ACCEPT;
	e->votes = ph__may_vote(c, s) ? bit_of(c, c->self) : 0;
	struct ph_msg m;
	msg_init(c, &m, PH_MSG_ACCEPT);
	m.ballot = c->ballot;
	m.slot = s;
	m.chosen = c->chosen;
	m.value = e->value;
	m.value_len = e->len;
	err = ph__out_broadcast(c, &m);
	if (err == 0 && ph__votes_at(c, s, e->votes) >= quorum(c, s)) {
		e->chosen = 1;
		e->dirty |= PH_DIRTY_CHOSEN;
	}
	return err;
}

/* Phase 1 done with a majority: lead, once we know every chosen value the
 * promisers know (so the reported entries cover every open slot). */
static int try_lead(struct ph_cell *c)
{
	/* a majority of every jury voting in the window (several when a jury
	 * change takes effect inside it) */
	if (!ph__quorum_window(c, c->chosen, c->p1_mask))
		return 0;
	if (c->chosen < c->p1_chosen)
		return maybe_catchup(c, c->p1_ahead);
	ph_slot hi = c->chosen;
	for (size_t i = 0; i < c->p1_n; i++)
		if (c->p1[i].slot >= hi)
			hi = c->p1[i].slot + 1;
	for (ph_slot s = c->chosen; s < c->base + c->log_n; s++) {
		const struct ph_entry *e = ph__log_get(c, s);
		if (e->value != NULL && (e->accepted.round > 0 || e->chosen) && s + 1 > hi)
			hi = s + 1;
	}
	c->role = PH_ROLE_LEADER;
	c->quiet = 0;
	c->idle_beats = 0;
	c->leader_hint = c->self;
	c->next = c->chosen;
	c->p1_hi = hi;
	c->heartbeat_at = c->now + c->heartbeat_interval;
	return 0;
}

/* The value to re-propose at slot s < p1_hi: chosen here, else the
 * highest-ballot accepted value among the promises and our own log, else a
 * no-op (empty batch). */
static void recovered(struct ph_cell *c, ph_slot s, const uint8_t **v, size_t *len)
{
	static const uint8_t noop[2] = {1, 0};
	struct ph_ballot best = {0, 0};
	*v = noop;
	*len = sizeof noop;
	const struct ph_entry *e = ph__log_get(c, s);
	if (e != NULL && e->value != NULL && (e->chosen || e->accepted.round > 0)) {
		*v = e->value;
		*len = e->len;
		if (e->chosen)
			return;
		best = e->accepted;
	}
	for (size_t i = 0; i < c->p1_n; i++) {
		if (c->p1[i].slot == s && ph_ballot_cmp(c->p1[i].ballot, best) > 0) {
			best = c->p1[i].ballot;
			*v = c->p1[i].value;
			*len = c->p1[i].len;
		}
	}
}

int ph__propose(struct ph_cell *c)
{
	/* a replica that learns it was deposed stops leading (and voting) */
	bool keep = false;
#ifdef PH_PLANTED_BUGS
	keep = PH_BUG(c, PH_BUG_DEPOSED_VOTES);
#endif
	if (c->role != PH_ROLE_FOLLOWER && ph__deposed(c) && !keep)
		ph__step_down(c);
	if (c->role != PH_ROLE_LEADER)
		return 0;
	uint8_t buf[PH_BATCH_BYTES_MAX];
	while (ph__window_open(c, c->next)) {
		/* The window reached a slot whose jury (a change took effect) holds
		 * no majority of our promises: phase 1 again, with the new jury
		 * (model: PREPARE for a slot goes to that slot's jury). */
		if (!ph__quorum_at(c, c->next, c->p1_mask)) {
			if (is_member(c))
				return start_phase1(c);
			ph__step_down(c);
			return 0;
		}
		const uint8_t *v;
		size_t len;
		bool from_batch = false;
		if (c->next < c->p1_hi) {
			recovered(c, c->next, &v, &len);
		} else if (c->batch_n > 0) {
			buf[0] = 1;
			buf[1] = (uint8_t)c->batch_n;
			memcpy(buf + 2, c->batch, c->batch_len);
			v = buf;
			len = 2 + c->batch_len;
			from_batch = true;
		} else {
			break;
		}
		int err = propose(c, c->next, v, len);
		if (err < 0)
			return err;
		c->next++;
		if (from_batch && err == 0)
			c->batch_len = c->batch_n = 0;
	}
	if (c->p1_n > 0 && c->next >= c->p1_hi)
		p1_drop(c);
	return 0;
}

/* ---- messages ------------------------------------------------------------------ */

static int on_prepare(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	/* a deposed replica stops answering (it may not even be asked) */
	if (!ph__member_from(c, m->slot > c->chosen ? m->slot : c->chosen))
		return 0;
	int cmp = ph_ballot_cmp(m->ballot, c->promised);
	if (cmp < 0)
		return send_reject(c, from);
	if (cmp > 0) {
		if (c->role != PH_ROLE_FOLLOWER)
			ph__step_down(c);
		c->promised = m->ballot;
		c->promise_dirty = 1;
	}
	ph__reset_election(c);
	struct ph_msg r;
	msg_init(c, &r, PH_MSG_PROMISE);
	r.ballot = m->ballot;
	r.chosen = c->chosen;
	r.base = c->base;
	ph_slot from_slot = m->slot > c->chosen ? m->slot : c->chosen;
	for (ph_slot s = from_slot; s < c->chosen + c->alpha; s++) {
		const struct ph_entry *e = ph__log_get(c, s);
		if (e == NULL || e->value == NULL || e->accepted.round == 0)
			continue;
		struct ph_msg_entry *x = &r.entries[r.n_entries++];
		x->slot = s;
		x->ballot = e->accepted;
		x->value = e->value;
		x->len = e->len;
	}
	return ph__out_msg(c, from, &r);
}

static int on_promise(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	uint16_t bit = bit_of(c, from);
	if (c->role != PH_ROLE_CANDIDATE || ph_ballot_cmp(m->ballot, c->ballot) != 0 || bit == 0 ||
	    (c->p1_mask & bit))
		return 0;
	for (size_t i = 0; i < m->n_entries; i++) {
		if (m->entries[i].slot < c->chosen)
			continue;
		int err = p1_merge(c, &m->entries[i]);
		if (err != 0)
			return err; /* the promise is counted when it comes again */
	}
	c->p1_mask |= bit;
	if (m->chosen > c->p1_chosen) {
		c->p1_chosen = m->chosen;
		c->p1_ahead = from;
	}
	return try_lead(c);
}

static int on_accept(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	/* only the slot's jury votes on it (model: NO STALE VOTE); a replica
	 * behind computes that jury correctly whenever it may accept the slot,
	 * since it then has every slot up to slot - alpha applied */
	if (m->slot < c->chosen + c->alpha && !ph__may_vote(c, m->slot))
		return 0;
	int cmp = ph_ballot_cmp(m->ballot, c->promised);
	bool lower_ok = false;
#ifdef PH_PLANTED_BUGS
	lower_ok = PH_BUG(c, PH_BUG_ACCEPT_LOWER_BALLOT);
#endif
	if (cmp < 0 && !lower_ok)
		return send_reject(c, from);
	if (c->role != PH_ROLE_FOLLOWER && ph_ballot_cmp(m->ballot, c->ballot) != 0)
		ph__step_down(c);
	if (cmp > 0) {
		c->promised = m->ballot;
		c->promise_dirty = 1;
	}
	c->leader_hint = m->ballot.node;
	ph__reset_election(c);
	/* A slot already decided here gets no vote unless the proposal carries
	 * the chosen value: a stale proposer (below the ballot that chose) may
	 * propose another, and a vote not backed by an accepted record could
	 * make it believe that one chosen. Instead it learns what is chosen. */
	if (m->slot < c->base)
		return send_reject(c, from); /* carries our chosen prefix: catch up */
	struct ph_entry *e = ph__log_get(c, m->slot);
	if (e != NULL && e->chosen) {
		if (e->len != m->value_len || memcmp(e->value, m->value, e->len) != 0) {
			struct ph_msg r;
			msg_init(c, &r, PH_MSG_CHOSEN);
			r.slot = m->slot;
			r.value = e->value;
			r.value_len = e->len;
			return ph__out_msg(c, from, &r);
		}
	} else {
		if (!ph__accept_window(c, m->slot))
			return maybe_catchup(c, from);
		int err = ph__log_at(c, m->slot, &e);
		if (err == 0)
			err = ph__entry_set(c, e, m->value, m->value_len);
		if (err != 0)
			return err;
		e->accepted = m->ballot;
		e->dirty |= PH_DIRTY_ACCEPT;
	}
	struct ph_msg r;
	msg_init(c, &r, PH_MSG_ACCEPTED);
	r.ballot = m->ballot;
	r.slot = m->slot;
	int err = ph__out_msg(c, from, &r);
	if (err == 0 && m->chosen > c->chosen)
		err = maybe_catchup(c, from);
	return err;
}

static int on_accepted(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	if (c->role != PH_ROLE_LEADER || ph_ballot_cmp(m->ballot, c->ballot) != 0)
		return 0;
	struct ph_entry *e = ph__log_get(c, m->slot);
	if (e == NULL || e->chosen || ph_ballot_cmp(e->accepted, c->ballot) != 0)
		return 0;
	e->votes |= bit_of(c, from);
	if (from == c->joiner && m->slot >= c->joiner_from)
		c->joiner_acked = 1; /* the last node added votes: it caught up */
	if (ph__votes_at(c, m->slot, e->votes) < quorum(c, m->slot))
		return 0;
	e->chosen = 1;
	e->dirty |= PH_DIRTY_CHOSEN;
	struct ph_msg r;
	msg_init(c, &r, PH_MSG_CHOSEN);
	r.slot = m->slot;
	r.value = e->value;
	r.value_len = e->len;
	return ph__out_broadcast(c, &r);
}

static int on_reject(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	see(c, m->ballot);
	if (c->role != PH_ROLE_FOLLOWER && ph_ballot_cmp(m->ballot, c->ballot) > 0)
		ph__step_down(c);
	if (m->slot > c->chosen)
		return maybe_catchup(c, from);
	return 0;
}

static int on_chosen(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	if (m->slot < c->chosen)
		return 0;
	if (m->slot - c->chosen >= CHOSEN_AHEAD_MAX)
		return maybe_catchup(c, from);
	struct ph_entry *e;
	int err = ph__log_get(c, m->slot) ? 0 : ph__log_at(c, m->slot, &e);
	if (err != 0)
		return err;
	e = ph__log_get(c, m->slot);
	if (e->chosen)
		return 0;
	if ((err = ph__entry_set(c, e, m->value, m->value_len)) != 0)
		return err;
	e->chosen = 1;
	e->dirty |= PH_DIRTY_CHOSEN;
	return 0;
}

static void idle_truncate(struct ph_cell *c);

static int on_heartbeat(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	if (ph_ballot_cmp(m->ballot, c->promised) < 0)
		return send_reject(c, from);
	if (c->role != PH_ROLE_FOLLOWER && ph_ballot_cmp(m->ballot, c->ballot) != 0)
		ph__step_down(c);
	c->leader_hint = m->ballot.node;
	ph__reset_election(c);
	if (m->chosen > c->chosen)
		return maybe_catchup(c, from);
	idle_truncate(c); /* a follower's timer rarely fires while a leader lives */
	c->quiet = (m->flags & PH_HB_QUIET) && c->role == PH_ROLE_FOLLOWER;
	return 0;
}

static int on_catchup(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	if (m->slot >= c->chosen)
		return 0;
	if (m->slot < c->base) {
		/* behind our truncated log: the whole state */
		struct ph_wr w;
		ph__wr_init(&w, NULL, 0);
		ph__snapshot_encode(c, &w);
		uint8_t *buf = ph__alloc(&c->a, w.len);
		if (buf == NULL)
			return PH_ENOMEM;
		ph__wr_init(&w, buf, w.len);
		ph__snapshot_encode(c, &w);
		struct ph_msg r;
		msg_init(c, &r, PH_MSG_SNAPSHOT);
		r.slot = c->applied;
		r.value = buf;
		r.value_len = w.len;
		int err = ph__out_msg(c, from, &r);
		ph__free(&c->a, buf);
		return err;
	}
	for (ph_slot s = m->slot; s < c->chosen && s < m->slot + CATCHUP_BURST; s++) {
		const struct ph_entry *e = ph__log_get(c, s);
		struct ph_msg r;
		msg_init(c, &r, PH_MSG_CHOSEN);
		r.slot = s;
		r.value = e->value;
		r.value_len = e->len;
		int err = ph__out_msg(c, from, &r);
		if (err != 0)
			return err;
	}
	return 0;
}

static int on_snapshot(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	(void)from;
	if (m->slot <= c->applied)
		return 0;
	ph__step_down(c); /* a proposer this far behind should not lead */
	ph_slot s;
	int err = ph__snapshot_decode(c, m->value, m->value_len, &s);
	if (err != 0)
		return err == PH_ENOMEM ? err : 0;
	c->applied = s;
	c->apply_index = 0;
	if (c->chosen < s)
		c->chosen = s;
	ph__truncate(c, s);
	return 0;
}

/* Any message but a heartbeat ends quiet: timers run again from now. */
void ph__unquiet(struct ph_cell *c)
{
	c->idle_beats = 0;
	if (!c->quiet)
		return;
	c->quiet = 0;
	if (c->role == PH_ROLE_LEADER)
		c->heartbeat_at = c->now + c->heartbeat_interval;
	else
		ph__reset_election(c);
}

int ph__on_message(struct ph_cell *c, ph_node_id from, const struct ph_msg *m)
{
	if (m->type != PH_MSG_HEARTBEAT)
		ph__unquiet(c);
	if (m->type != PH_MSG_CHOSEN && m->type != PH_MSG_CATCHUP && m->type != PH_MSG_SNAPSHOT)
		see(c, m->ballot);
	switch (m->type) {
	case PH_MSG_PREPARE: return on_prepare(c, from, m);
	case PH_MSG_PROMISE: return on_promise(c, from, m);
	case PH_MSG_ACCEPT: return on_accept(c, from, m);
	case PH_MSG_ACCEPTED: return on_accepted(c, from, m);
	case PH_MSG_REJECT: return on_reject(c, from, m);
	case PH_MSG_CHOSEN: return on_chosen(c, from, m);
	case PH_MSG_HEARTBEAT: return on_heartbeat(c, from, m);
	case PH_MSG_CATCHUP: return on_catchup(c, from, m);
	case PH_MSG_SNAPSHOT: return on_snapshot(c, from, m);
	}
	return 0;
}

/* ---- time ------------------------------------------------------------------------- */

/* The leader is idle when nothing is in flight, waiting or applied since
 * the previous heartbeat; after a few idle heartbeats it goes quiet. */
#define QUIET_AFTER 4

static int retransmit(struct ph_cell *c)
{
	bool idle = c->next == c->chosen && c->batch_n == 0 && c->pend_n == 0 &&
		    c->applied == c->beat_applied && c->applied == c->chosen;
	c->beat_applied = c->applied;
	c->idle_beats = idle ? (uint8_t)(c->idle_beats < QUIET_AFTER ? c->idle_beats + 1 : QUIET_AFTER)
			     : 0;
	struct ph_msg m;
	msg_init(c, &m, PH_MSG_HEARTBEAT);
	m.ballot = c->ballot;
	m.chosen = c->chosen;
	if (c->idle_beats >= QUIET_AFTER) {
		m.flags = PH_HB_QUIET;
		c->quiet = 1;
	}
	int err = ph__out_broadcast(c, &m);
	for (ph_slot s = c->chosen; s < c->next && err == 0; s++) {
		const struct ph_entry *e = ph__log_get(c, s);
		if (e == NULL || e->chosen || ph_ballot_cmp(e->accepted, c->ballot) != 0)
			continue;
		msg_init(c, &m, PH_MSG_ACCEPT);
		m.ballot = c->ballot;
		m.slot = s;
		m.chosen = c->chosen;
		m.value = e->value;
		m.value_len = e->len;
		const struct ph_jury *j = ph__jury_for(c, s);
		for (size_t i = 0; i < j->n && err == 0; i++) {
			ph_node_id id = j->ids[i];
			if (id != c->self && !(e->votes & bit_of(c, id)))
				err = ph__out_msg(c, id, &m);
		}
	}
	return err;
}

/* A cell that saw no progress at two ticks (or, for a follower, heartbeats)
 * in a row truncates its log behind a snapshot, so a cold replica holds its
 * state and little else. */
static void idle_truncate(struct ph_cell *c)
{
	bool quiet = c->applied == c->idle_applied && c->log_n == c->applied - c->base &&
		     (c->role != PH_ROLE_LEADER || c->next == c->chosen);
	c->idle_applied = c->applied;
	if (!quiet) {
		c->idle_ticks = 0;
		return;
	}
	if (c->idle_ticks < 2)
		c->idle_ticks++;
	else if (c->applied > c->base)
		ph__truncate(c, c->applied);
}

int ph__on_tick(struct ph_cell *c)
{
	idle_truncate(c);
	switch (c->role) {
	case PH_ROLE_LEADER:
		if (c->now >= c->heartbeat_at) {
			c->heartbeat_at = c->now + c->heartbeat_interval;
			return retransmit(c);
		}
		return 0;
	case PH_ROLE_CANDIDATE:
		if (c->now >= c->election_at)
			return start_phase1(c);
		if (c->now >= c->heartbeat_at) {
			c->heartbeat_at = c->now + c->heartbeat_interval;
			if (ph__quorum_window(c, c->chosen, c->p1_mask))
				return try_lead(c);
			struct ph_msg m;
			msg_init(c, &m, PH_MSG_PREPARE);
			m.ballot = c->ballot;
			m.slot = c->chosen;
			ph_node_id ids[PH_ROSTER_MAX];
			size_t n = ph__roster(c, ids);
			for (size_t i = 0; i < n; i++) {
				ph_node_id id = ids[i];
				if (id == c->self || (c->p1_mask & (1u << i)))
					continue;
				int err = ph__out_msg(c, id, &m);
				if (err != 0)
					return err;
			}
		}
		return 0;
	default:
		if (is_member(c) && c->now >= c->election_at)
			return start_phase1(c);
		return 0;
	}
}

ph_time ph__wake(const struct ph_cell *c)
{
	if (c->quiet)
		return 0;
	switch (c->role) {
	case PH_ROLE_LEADER:
		return c->heartbeat_at;
	case PH_ROLE_CANDIDATE:
		return c->heartbeat_at < c->election_at ? c->heartbeat_at : c->election_at;
	default:
		return is_member(c) ? c->election_at : 0;
	}
}

/* ---- client requests ---------------------------------------------------------------- */

static bool pending_has(const struct ph_cell *c, uint64_t client, uint64_t seq)
{
	for (size_t i = 0; i < c->pend_n; i++)
		if (c->pend[i].client == client && c->pend[i].seq == seq)
			return true;
	return false;
}

/* Add an entry to the open batch (answered when applied), or busy. */
static int enqueue(struct ph_cell *c, uint8_t kind, uint64_t client, uint64_t seq,
		   const uint8_t *bytes, size_t len)
{
	int err;
	size_t need = 1 + 8 + 8 + 2 + len;
	size_t pend_max = ((size_t)c->alpha + 1) * c->max_batch;
	if (c->batch_n >= c->max_batch || 2 + c->batch_len + need > PH_BATCH_BYTES_MAX ||
	    c->pend_n >= pend_max)
		return ph__reply_simple(c, client, seq, PH_ST_BUSY, 0, 0);
	if ((err = ph__reserve(&c->a, (void **)&c->batch, &c->batch_cap, c->batch_len + need, 1)) != 0 ||
	    (err = ph__reserve(&c->a, (void **)&c->pend, &c->pend_cap, c->pend_n + 1, sizeof *c->pend)) != 0)
		return err;
	struct ph_wr w;
	ph__wr_init(&w, c->batch + c->batch_len, need);
	ph__wr_u8(&w, kind);
	ph__wr_u64(&w, client);
	ph__wr_u64(&w, seq);
	ph__wr_u16(&w, (uint16_t)len);
	ph__wr_bytes(&w, bytes, len);
	c->batch_len += need;
	c->batch_n++;
	c->pend[c->pend_n++] = (struct ph_pending){client, seq};
	return 0;
}

/* A deposed replica answers every client with PH_EDEPOSED (its status keeps
 * the newest jury as the forwarding pointer). */
static bool deposed(const struct ph_cell *c)
{
	return ph__deposed(c);
}

int ph__on_reconfigure(struct ph_cell *c, const struct ph_event *ev)
{
	ph__unquiet(c);
	uint64_t client = ev->reconfigure.client, seq = ev->reconfigure.seq;
	if (client == 0 || seq == 0)
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EINVAL);
	if (deposed(c))
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EDEPOSED);
	if (c->role != PH_ROLE_LEADER)
		return ph__reply_simple(c, client, seq, PH_ST_NOT_LEADER, 0, 0);
	uint8_t ch[PH_JURY_CHANGE_LEN];
	ph__jury_change_encode(&ev->reconfigure.change, ch);
	/* refuse early what the log would refuse now (the log decides) */
	int reason = ph__jury_check_change(c, c->applied, ch, sizeof ch);
	if (reason == PH_R_MALFORMED)
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EINVAL);
	if (reason != PH_R_NONE)
		return ph__reply_simple(c, client, seq, PH_ST_IGNORED, reason, 0);
	/* one node at a time, and wait until it has caught up (PHYSALIA.md 4):
	 * the node the last change added must have voted in its own jury */
	if (!c->skip_learner_wait && c->joiner != 0 && c->joiner != c->self && !c->joiner_acked &&
	    ph__jury_member(ph__jury_newest(c, NULL), c->joiner))
		return ph__reply_simple(c, client, seq, PH_ST_IGNORED, PH_R_JURY_LEARNER, 0);
	if (pending_has(c, client, seq))
		return 0;
	return enqueue(c, PH_ENTRY_JURY, client, seq, ch, sizeof ch);
}

int ph__on_request(struct ph_cell *c, const struct ph_event *ev)
{
	/* A consistent request needs a live leader: it ends quiet (at a
	 * follower this arms the election timer, in case the leader is gone).
	 * Eventual reads are answered locally and leave a quiet cell quiet. */
	if (ev->request.consistency != PH_EVENTUAL)
		ph__unquiet(c);
	if (deposed(c))
		return ph__reply_simple(c, ev->request.client, ev->request.seq, PH_ST_ERROR, 0,
					PH_EDEPOSED);
	uint64_t client = ev->request.client, seq = ev->request.seq;
	const uint8_t *bytes = ev->request.txn;
	size_t len = ev->request.len;
	if (client == 0 || seq == 0 || (bytes == NULL && len > 0) ||
	    (ev->request.consistency != PH_CONSISTENT && ev->request.consistency != PH_EVENTUAL))
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EINVAL);
	if (len > PH_TXN_MAX)
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_ETOOBIG);
	if (ev->request.consistency == PH_CONSISTENT && c->role != PH_ROLE_LEADER)
		return ph__reply_simple(c, client, seq, PH_ST_NOT_LEADER, 0, 0);

	struct ph_txn *t;
	int err = ph_txn_decode(bytes, len, &c->a, &t);
	if (err == PH_ENOMEM)
		return err;
	if (err != 0)
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, err);
	if (ph_txn_feature_level(t) > c->feature_level) {
		ph_txn_free(t);
		return ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EVERSION);
	}
	if (ev->request.consistency == PH_EVENTUAL) {
		if (!ph_txn_read_only(t))
			err = ph__reply_simple(c, client, seq, PH_ST_ERROR, 0, PH_EINVAL);
		else if (c->applied < ev->request.token)
			err = ph__reply_simple(c, client, seq, PH_ST_BEHIND, 0, 0);
		else
			err = ph__eventual_read(c, t, client, seq);
		ph_txn_free(t);
		return err;
	}
	ph_txn_free(t);

	/* exactly once: a retry of what is applied gets the original answer */
	const struct ph_session *s = ph__session_find(c, client);
	if (s != NULL && seq == s->seq) {
		struct ph_reply r = {.client = client, .seq = seq,
				     .status = s->outcome == PH_OUT_COMMITTED ? PH_ST_COMMITTED
									      : PH_ST_IGNORED,
				     .reason = s->reason, .token = s->slot + 1, .result = s->result,
				     .result_len = s->rlen, .leader_hint = c->leader_hint};
		return ph__out_reply(c, &r);
	}
	if (s != NULL && seq < s->seq)
		return ph__reply_simple(c, client, seq, PH_ST_IGNORED, PH_R_STALE_SEQ, 0);
	if (pending_has(c, client, seq))
		return 0; /* in flight: answered when applied */

	return enqueue(c, PH_ENTRY_TXN, client, seq, bytes, len);
}
