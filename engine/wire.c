/* engine/wire.c: the peer message codec.
 *
 * Every message: 'P' 'H', version u8 (PH_WIRE_VERSION), type u8, partition key
 * (u8 length 1..PH_PKEY_MAX + bytes), then the body of its type, big-endian,
 * with no trailing bytes. A ballot is round u64 + node u32. Values are u32
 * length + bytes; batch values (ACCEPT, CHOSEN, PROMISE entries) are checked
 * by the batch codec, snapshot values by the snapshot codec, so the engine
 * never holds bytes it could not apply.
 *
 *   PREPARE    ballot, slot
 *   PROMISE    ballot, chosen u64, base u64, n u8, n x (slot u64, ballot, value)
 *   ACCEPT     ballot, slot, chosen u64, value
 *   ACCEPTED   ballot, slot
 *   REJECT     ballot, slot
 *   CHOSEN     slot, value
 *   HEARTBEAT  ballot, chosen u64, flags u8 (PH_HB_QUIET; other bits refused)
 *   CATCHUP    slot
 *   SNAPSHOT   slot, value */
#include "internal.h"

#define MAGIC0 'P'
#define MAGIC1 'H'

static bool has_ballot(int t)
{
	return t == PH_MSG_PREPARE || t == PH_MSG_PROMISE || t == PH_MSG_ACCEPT ||
	       t == PH_MSG_ACCEPTED || t == PH_MSG_REJECT || t == PH_MSG_HEARTBEAT;
}

static bool has_slot(int t)
{
	return t == PH_MSG_PREPARE || t == PH_MSG_ACCEPT || t == PH_MSG_ACCEPTED ||
	       t == PH_MSG_REJECT || t == PH_MSG_CHOSEN || t == PH_MSG_CATCHUP ||
	       t == PH_MSG_SNAPSHOT;
}

static bool has_value(int t)
{
	return t == PH_MSG_ACCEPT || t == PH_MSG_CHOSEN || t == PH_MSG_SNAPSHOT;
}

static int header(struct ph_rd *r, const uint8_t **pkey, size_t *plen)
{
	uint8_t m0 = ph__rd_u8(r), m1 = ph__rd_u8(r);
	uint8_t ver = ph__rd_u8(r);
	uint8_t type = ph__rd_u8(r);
	if (r->err)
		return r->err;
	if (m0 != MAGIC0 || m1 != MAGIC1)
		return PH_EMALFORMED;
	if (ver != PH_WIRE_VERSION)
		return PH_EVERSION;
	if (type < 1 || type > PH_MSG_TYPE_MAX)
		return PH_EUNKNOWN;
	uint8_t n = ph__rd_u8(r);
	if (r->err)
		return r->err;
	if (n == 0)
		return PH_EMALFORMED;
	if (n > PH_PKEY_MAX)
		return PH_ETOOBIG;
	const uint8_t *p = ph__rd_bytes(r, n);
	if (r->err)
		return r->err;
	if (pkey) {
		*pkey = p;
		*plen = n;
	}
	return type;
}

int ph_msg_peek_type(const uint8_t *bytes, size_t len)
{
	if (bytes == NULL)
		return PH_EINVAL;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	return header(&r, NULL, NULL);
}

int ph_msg_peek_pkey(const uint8_t *bytes, size_t len, const uint8_t **pkey, size_t *pkey_len)
{
	if (bytes == NULL || pkey == NULL || pkey_len == NULL)
		return PH_EINVAL;
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	const uint8_t *p;
	size_t n;
	int t = header(&r, &p, &n);
	if (t < 0)
		return t;
	*pkey = p;
	*pkey_len = n;
	return 0;
}

static int check_batch(const uint8_t *v, size_t n)
{
	return ph__batch_walk(v, n, NULL, NULL);
}

static const uint8_t *rd_value(struct ph_rd *r, size_t max, size_t *n)
{
	uint32_t len = ph__rd_u32(r);
	if (r->err)
		return NULL;
	if (len > max) {
		ph__rd_fail(r, PH_ETOOBIG);
		return NULL;
	}
	*n = len;
	return ph__rd_bytes(r, len);
}

static bool ballot_ok(struct ph_ballot b)
{
	return b.round > 0 && b.node != 0;
}

int ph_msg_decode(const uint8_t *bytes, size_t len, struct ph_msg *out)
{
	if (bytes == NULL || out == NULL)
		return PH_EINVAL;
	if (len > PH_MSG_MAX)
		return PH_ETOOBIG;
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	struct ph_rd r;
	ph__rd_init(&r, bytes, len);
	int t = header(&r, &m.pkey, &m.pkey_len);
	if (t < 0)
		return t;
	m.type = t;
	if (has_ballot(t))
		m.ballot = ph__rd_ballot(&r);
	if (t == PH_MSG_PROMISE) {
		m.chosen = ph__rd_u64(&r);
		m.base = ph__rd_u64(&r);
		m.n_entries = ph__rd_u8(&r);
		if (r.err)
			return r.err;
		if (m.n_entries > PH_ALPHA_MAX)
			return PH_ETOOBIG;
		if (m.base > m.chosen)
			return PH_EMALFORMED;
		for (size_t i = 0; i < m.n_entries; i++) {
			struct ph_msg_entry *e = &m.entries[i];
			e->slot = ph__rd_u64(&r);
			e->ballot = ph__rd_ballot(&r);
			e->value = rd_value(&r, PH_BATCH_BYTES_MAX, &e->len);
			if (r.err)
				return r.err;
			/* entries strictly increasing, at or above the sender's chosen
			 * prefix, within its acceptance window, at a ballot no higher
			 * than the promise */
			if ((i > 0 && e->slot <= m.entries[i - 1].slot) || e->slot < m.chosen ||
			    e->slot - m.chosen >= PH_ALPHA_MAX || !ballot_ok(e->ballot) ||
			    ph_ballot_cmp(e->ballot, m.ballot) > 0)
				return PH_EMALFORMED;
			int err = check_batch(e->value, e->len);
			if (err != 0)
				return err;
		}
	} else if (t == PH_MSG_HEARTBEAT) {
		m.chosen = ph__rd_u64(&r);
		m.flags = ph__rd_u8(&r);
		if (r.err == 0 && (m.flags & ~PH_HB_QUIET) != 0)
			return PH_EUNKNOWN;
	} else if (has_slot(t)) {
		m.slot = ph__rd_u64(&r);
		if (t == PH_MSG_ACCEPT)
			m.chosen = ph__rd_u64(&r);
		if (has_value(t)) {
			m.value = rd_value(&r, t == PH_MSG_SNAPSHOT ? PH_MSG_MAX : PH_BATCH_BYTES_MAX,
					   &m.value_len);
		}
	}
	int err = ph__rd_end(&r);
	if (err != 0)
		return err;
	if (has_ballot(t) && !ballot_ok(m.ballot))
		return PH_EMALFORMED;
	if (t == PH_MSG_ACCEPT && m.slot >= m.chosen + PH_ALPHA_MAX)
		return PH_EMALFORMED; /* beyond any pipeline */
	if (t == PH_MSG_ACCEPT || t == PH_MSG_CHOSEN) {
		if ((err = check_batch(m.value, m.value_len)) != 0)
			return err;
	}
	if (t == PH_MSG_SNAPSHOT) {
		ph_slot at;
		if ((err = ph_snapshot_check(m.value, m.value_len, NULL, &at)) != 0)
			return err;
		if (at != m.slot)
			return PH_EMALFORMED;
	}
	*out = m;
	return 0;
}

static void wr_value(struct ph_wr *w, const uint8_t *v, size_t n)
{
	ph__wr_u32(w, (uint32_t)n);
	ph__wr_bytes(w, v, n);
}

static void encode(struct ph_wr *w, const struct ph_msg *m)
{
	ph__wr_u8(w, MAGIC0);
	ph__wr_u8(w, MAGIC1);
	ph__wr_u8(w, PH_WIRE_VERSION);
	ph__wr_u8(w, (uint8_t)m->type);
	ph__wr_u8(w, (uint8_t)m->pkey_len);
	ph__wr_bytes(w, m->pkey, m->pkey_len);
	if (has_ballot(m->type))
		ph__wr_ballot(w, m->ballot);
	if (m->type == PH_MSG_PROMISE) {
		ph__wr_u64(w, m->chosen);
		ph__wr_u64(w, m->base);
		ph__wr_u8(w, (uint8_t)m->n_entries);
		for (size_t i = 0; i < m->n_entries; i++) {
			ph__wr_u64(w, m->entries[i].slot);
			ph__wr_ballot(w, m->entries[i].ballot);
			wr_value(w, m->entries[i].value, m->entries[i].len);
		}
	} else if (m->type == PH_MSG_HEARTBEAT) {
		ph__wr_u64(w, m->chosen);
		ph__wr_u8(w, m->flags);
	} else if (has_slot(m->type)) {
		ph__wr_u64(w, m->slot);
		if (m->type == PH_MSG_ACCEPT)
			ph__wr_u64(w, m->chosen);
		if (has_value(m->type))
			wr_value(w, m->value, m->value_len);
	}
}

size_t ph__msg_size(const struct ph_msg *m)
{
	struct ph_wr w;
	ph__wr_init(&w, NULL, 0);
	encode(&w, m);
	return w.len;
}

int ph_msg_encode(const struct ph_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	if (m == NULL || len == NULL)
		return PH_EINVAL;
	if (m->type < 1 || m->type > PH_MSG_TYPE_MAX || m->pkey_len == 0 ||
	    m->pkey_len > PH_PKEY_MAX || m->n_entries > PH_ALPHA_MAX || m->pkey == NULL)
		return PH_EINVAL;
	if ((m->type == PH_MSG_ACCEPT || m->type == PH_MSG_CHOSEN) &&
	    m->value_len > PH_BATCH_BYTES_MAX)
		return PH_EINVAL;
	for (size_t i = 0; m->type == PH_MSG_PROMISE && i < m->n_entries; i++)
		if (m->entries[i].len > PH_BATCH_BYTES_MAX)
			return PH_EINVAL;
	struct ph_wr w;
	ph__wr_init(&w, buf, cap);
	encode(&w, m);
	if (w.len > PH_MSG_MAX)
		return PH_ETOOBIG;
	return ph__wr_done(&w, len);
}
