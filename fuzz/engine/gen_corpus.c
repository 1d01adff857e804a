/* fuzz/engine/gen_corpus.c: writes the seed corpora of the engine's fuzz
 * targets (valid encodings taken from real replicas, plus truncated and
 * corrupted ones). Usage: ph_engine_gen_corpus DIR (creates DIR/<target>/).
 * The committed corpus was made by this program; rerun it after a format
 * change. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"

#define MS 1000000ull

static const char *dir;
static int counter;

static void put(const char *target, const char *name, const uint8_t *b, size_t n)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, target);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/%s/%03d-%s", dir, target, counter++, name);
	FILE *f = fopen(p, "wb");
	if (f == NULL || (n > 0 && fwrite(b, 1, n, f) != n)) {
		perror(p);
		exit(1);
	}
	fclose(f);
}

/* valid, truncated by one, version byte flipped, one trailing byte */
static void put_variants(const char *target, const char *name, const uint8_t *b, size_t n,
			 size_t version_at)
{
	static uint8_t tmp[PH_MSG_MAX + 1];
	char nm[128];
	put(target, name, b, n);
	if (n == 0)
		return;
	snprintf(nm, sizeof nm, "%s-truncated", name);
	put(target, nm, b, n - 1);
	memcpy(tmp, b, n);
	tmp[version_at] ^= 0x40;
	snprintf(nm, sizeof nm, "%s-version", name);
	put(target, nm, tmp, n);
	memcpy(tmp, b, n);
	tmp[n] = 0;
	snprintf(nm, sizeof nm, "%s-trailing", name);
	put(target, nm, tmp, n + 1);
}

/* step corpus: everything a replica received, as (from, u16 len, bytes) */
static uint8_t stepbuf[1 << 20];
static size_t steplen;
static uint8_t recbuf[1 << 20];
static size_t reclen;
static int seen_type[PH_MSG_TYPE_MAX + 1];

static void step_add(ph_node_id from, const uint8_t *b, size_t n)
{
	if (steplen + 3 + n > sizeof stepbuf)
		return;
	stepbuf[steplen++] = (uint8_t)from;
	stepbuf[steplen++] = (uint8_t)(n >> 8);
	stepbuf[steplen++] = (uint8_t)n;
	memcpy(stepbuf + steplen, b, n);
	steplen += n;
}

static void collect(const struct ph_update *u)
{
	for (size_t i = 0; i < u->n_messages; i++) {
		const struct ph_message *m = &u->messages[i];
		if (seen_type[m->type]++ < 2)
			put_variants("msg", ph_msg_type_name(m->type), m->bytes, m->len, 2);
	}
	for (size_t i = 0; i < u->n_records; i++) {
		const struct ph_record *r = &u->records[i];
		if (reclen + 2 + r->len <= sizeof recbuf) {
			recbuf[reclen++] = (uint8_t)(r->len >> 8);
			recbuf[reclen++] = (uint8_t)r->len;
			memcpy(recbuf + reclen, r->bytes, r->len);
			reclen += r->len;
		}
	}
	for (size_t i = 0; i < u->n_replies; i++)
		if (u->replies[i].result_len)
			put_variants("result", "reply", u->replies[i].result, u->replies[i].result_len, 0);
}

static struct ph_cell *make(ph_node_id self)
{
	static const uint8_t pkey[] = "vol-7";
	struct ph_cell_config cfg;
	ph_cell_config_init(&cfg);
	cfg.pkey = pkey;
	cfg.pkey_len = 5;
	cfg.self = self;
	cfg.jury_n = 3;
	cfg.jury[0] = 1;
	cfg.jury[1] = 2;
	cfg.jury[2] = 3;
	struct ph_cell *c;
	if (ph_cell_new(&cfg, NULL, &c) != 0)
		exit(1);
	return c;
}

static ph_time now = 1000 * MS;

static void deliver(struct ph_cell *c, ph_node_id from, struct ph_msg *m)
{
	static uint8_t b[PH_MSG_MAX];
	m->pkey = (const uint8_t *)"vol-7";
	m->pkey_len = 5;
	size_t n;
	if (ph_msg_encode(m, b, sizeof b, &n) != 0)
		exit(1);
	step_add(from, b, n);
	struct ph_event ev = {.type = PH_EV_RECEIVE, .now = now};
	ev.receive.from = from;
	ev.receive.bytes = b;
	ev.receive.len = n;
	struct ph_update u;
	if (ph_cell_step(c, &ev, &u) != 0)
		exit(1);
	collect(&u);
}

static size_t txn_bytes(uint8_t *out, int variant)
{
	struct ph_txn *t;
	ph_txn_new(NULL, &t);
	mpz_t z;
	mpz_init_set_si(z, variant % 2 ? -987654321 : 42);
	struct ph_value s = {.type = PH_T_BYTES, .bytes = (const uint8_t *)"value", .len = 5};
	struct ph_value b = {.type = PH_T_BOOL, .boolean = true};
	struct ph_value i = {.type = PH_T_INT, .integer = z};
	switch (variant) {
	case 0: break; /* empty */
	case 1: ph_txn_read(t, "a", 1); ph_txn_put(t, "a", 1, &s); break;
	case 2: ph_txn_cond_exists(t, "a", 1); ph_txn_cond_absent(t, "b", 1);
		ph_txn_delete(t, "c", 1); break;
	case 3: ph_txn_cond_equals(t, "a", 1, &s); ph_txn_cond_type_is(t, "a", 1, PH_T_BYTES);
		ph_txn_increment(t, "n", 1, z); break;
	case 4: ph_txn_cond_int_cmp(t, "n", 1, PH_CMP_GE, z); ph_txn_put(t, "i", 1, &i);
		ph_txn_put(t, "f", 1, &b); ph_txn_read(t, "n", 1); break;
	}
	size_t n;
	ph_txn_encode(t, out, PH_TXN_MAX, &n);
	ph_txn_free(t);
	mpz_clear(z);
	return n;
}

static size_t batch(uint8_t *buf, uint64_t client, uint64_t seq, int variant)
{
	uint8_t tb[PH_TXN_MAX];
	size_t tl = txn_bytes(tb, variant);
	size_t n = 0;
	buf[n++] = 1;
	buf[n++] = 1;
	buf[n++] = 1;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(client >> (8 * i));
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(seq >> (8 * i));
	buf[n++] = (uint8_t)(tl >> 8);
	buf[n++] = (uint8_t)tl;
	memcpy(buf + n, tb, tl);
	return n + tl;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	uint8_t tb[PH_TXN_MAX];
	for (int v = 0; v < 5; v++) {
		size_t n = txn_bytes(tb, v);
		put_variants("txn", "txn", tb, n, 0);
	}

	/* acceptor and learner */
	struct ph_cell *a = make(1);
	struct ph_msg m;
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_PREPARE;
	m.ballot = (struct ph_ballot){5, 2};
	deliver(a, 2, &m);
	uint8_t b[PH_BATCH_BYTES_MAX];
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_ACCEPT;
	m.ballot = (struct ph_ballot){5, 2};
	m.value_len = batch(b, 9, 1, 1);
	m.value = b;
	deliver(a, 2, &m);
	m.slot = 5; /* beyond the window: a catch-up request */
	m.chosen = 5;
	deliver(a, 2, &m);
	for (ph_slot s = 0; s < 20; s++) {
		memset(&m, 0, sizeof m);
		m.type = PH_MSG_CHOSEN;
		m.slot = s;
		m.value_len = batch(b, 9, s + 1, (int)(s % 5));
		m.value = b;
		deliver(a, 3, &m);
	}
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_CATCHUP;
	m.slot = 17;
	deliver(a, 3, &m);
	m.slot = 1;
	deliver(a, 3, &m);
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_PREPARE;
	m.ballot = (struct ph_ballot){1, 3};
	deliver(a, 3, &m);
	static uint8_t snap[PH_MSG_MAX];
	size_t sl;
	if (ph_cell_snapshot_encode(a, snap, sizeof snap, &sl) != 0)
		return 1;
	put_variants("snapshot", "snapshot", snap, sl, 0);
	put("records", "acceptor-records", recbuf, reclen);
	put("records", "acceptor-records-truncated", recbuf, reclen - 1);
	ph_cell_free(a);

	/* proposer */
	reclen = 0;
	struct ph_cell *p = make(1);
	struct ph_update u;
	struct ph_event ev = {.type = PH_EV_TICK, .now = now};
	ph_cell_step(p, &ev, &u);
	for (int i = 0; i < 100; i++) {
		struct ph_cell_status st;
		ph_cell_status(p, &st);
		if (st.role == PH_ROLE_CANDIDATE)
			break;
		now += 10 * MS;
		ev.now = now;
		ph_cell_step(p, &ev, &u);
		collect(&u);
	}
	struct ph_cell_status st;
	ph_cell_status(p, &st);
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_PROMISE;
	m.ballot = st.ballot;
	deliver(p, 2, &m);
	size_t tl = txn_bytes(tb, 4);
	ev.type = PH_EV_REQUEST;
	ev.request.client = 5;
	ev.request.seq = 1;
	ev.request.txn = tb;
	ev.request.len = tl;
	ph_cell_step(p, &ev, &u);
	collect(&u);
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_ACCEPTED;
	m.ballot = st.ballot;
	deliver(p, 3, &m);
	now += 100 * MS;
	ev.type = PH_EV_TICK;
	ev.now = now;
	ph_cell_step(p, &ev, &u);
	collect(&u);
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_REJECT;
	m.ballot = (struct ph_ballot){st.ballot.round + 1, 2};
	deliver(p, 2, &m);
	memset(&m, 0, sizeof m);
	m.type = PH_MSG_HEARTBEAT;
	m.ballot = (struct ph_ballot){st.ballot.round + 1, 2};
	m.chosen = 1;
	deliver(p, 2, &m);
	put("records", "proposer-records", recbuf, reclen);
	ph_cell_free(p);
	put("step", "session", stepbuf, steplen);
	put("step", "session-truncated", stepbuf, steplen / 2);
	uint8_t junk[] = {2, 0, 4, 'P', 'H', 1, 99};
	put("step", "junk", junk, sizeof junk);
	uint8_t bad[] = {'P', 'H', 1, 42, 1, 'x'};
	put("msg", "unknown-type", bad, sizeof bad);
	printf("corpus written to %s (%d files)\n", dir, counter);
	return 0;
}
