/* `physalia-chaos client`: one workload client, run inside a client host.
 * It drives physalia transactions against its cells through the node client
 * library and writes one history line per operation, after it completes
 * (docs/chaos.md, "History lines"):
 *
 *   P INVOKE_NS COMPLETE_NS ok|fail|info CELL KIND K1 K2 A B COMMITTED READ
 *
 * KIND read|put|cas|incr|rw; unused fields are "-"; values are decimal
 * integers or "nil". Times are CLOCK_MONOTONIC (shared by every namespace on
 * the machine, so histories of all clients merge on one clock).
 *
 * Outcomes: a reply is ok (committed or not, with its reads). Without one, a
 * read-only transaction failed (it changed nothing); a write is info (it may
 * have applied: every retry carried the same request id), and the process
 * continues under a new id, as Jepsen's model requires. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <gmp.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "internal.h"
#include "node/node.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

struct client {
	struct node_client *nc;
	uint64_t rng;
	uint32_t keys;
	int zipf;
	double zipf_s;
	double *zipf_cdf;
	uint32_t mix[5];
	int64_t process;
	int64_t next_value;
	FILE *out;
	char **cells;
	size_t ncells;
	uint64_t ok, fail, info;
};

static uint32_t pick_key(struct client *c)
{
	if (!c->zipf)
		return (uint32_t)(rng_next(&c->rng) % c->keys);
	double u = rng_unit(&c->rng);
	for (uint32_t i = 0; i < c->keys; i++)
		if (u <= c->zipf_cdf[i])
			return i;
	return c->keys - 1;
}

static int set_int(struct ph_value *v, mpz_t z, int64_t x)
{
	mpz_set_si(z, x);
	memset(v, 0, sizeof *v);
	v->type = PH_T_INT;
	v->integer = z;
	return 0;
}

/* Formats a read result: the integer, "nil" when absent, "?" for a value
 * that is not an integer (the workload only writes integers). */
static void fmt_read(const struct ph_result *r, size_t i, char *buf, size_t cap)
{
	const uint8_t *key;
	size_t klen;
	bool present;
	struct ph_value v;
	if (ph_result_read(r, i, &key, &klen, &present, &v) != 0) {
		snprintf(buf, cap, "?");
		return;
	}
	if (!present) {
		snprintf(buf, cap, "nil");
		return;
	}
	if (v.type != PH_T_INT || mpz_sizeinbase(v.integer, 10) + 2 > cap) {
		snprintf(buf, cap, "?");
		return;
	}
	mpz_get_str(buf, 10, v.integer);
}

static int one_op(struct client *c)
{
	static const char *const kinds[5] = { "read", "put", "cas", "incr", "rw" };
	uint32_t total = c->mix[0] + c->mix[1] + c->mix[2] + c->mix[3] + c->mix[4];
	uint32_t roll = (uint32_t)(rng_next(&c->rng) % total), kind = 0;
	while (roll >= c->mix[kind]) {
		roll -= c->mix[kind];
		kind++;
	}
	const char *cell = c->cells[rng_next(&c->rng) % c->ncells];
	char k1[16], k2[16] = "-", a[32] = "-", b[32] = "-";
	snprintf(k1, sizeof k1, "k%u", pick_key(c));
	struct ph_txn *t = NULL;
	if (ph_txn_new(NULL, &t) != 0)
		return CHAOS_ENOMEM;
	mpz_t z1, z2;
	mpz_init(z1);
	mpz_init(z2);
	struct ph_value v1, v2;
	int rc = 0;
	int64_t val = c->next_value++;
	switch (kind) {
	case 0:
		rc = ph_txn_read(t, k1, strlen(k1));
		break;
	case 1:
		set_int(&v1, z1, val);
		snprintf(a, sizeof a, "%" PRId64, val);
		rc = ph_txn_put(t, k1, strlen(k1), &v1);
		break;
	case 2: {
		/* compare-and-set from a recent value (a small range, so both
		 * outcomes happen) to a fresh unique one */
		int64_t from = c->next_value - 1 - (int64_t)(rng_next(&c->rng) % 4);
		set_int(&v1, z1, from);
		set_int(&v2, z2, val);
		snprintf(a, sizeof a, "%" PRId64, from);
		snprintf(b, sizeof b, "%" PRId64, val);
		rc = ph_txn_cond_equals(t, k1, strlen(k1), &v1);
		if (rc == 0)
			rc = ph_txn_put(t, k1, strlen(k1), &v2);
		break;
	}
	case 3: {
		int64_t d = 1 + (int64_t)(rng_next(&c->rng) % 5);
		mpz_set_si(z1, d);
		snprintf(a, sizeof a, "%" PRId64, d);
		rc = ph_txn_increment(t, k1, strlen(k1), z1);
		break;
	}
	default: {
		snprintf(k2, sizeof k2, "k%u", pick_key(c));
		if (strcmp(k1, k2) == 0)
			snprintf(k2, sizeof k2, "k%u", (pick_key(c) + 1) % (c->keys > 1 ? c->keys : 2));
		set_int(&v1, z1, val);
		snprintf(a, sizeof a, "%" PRId64, val);
		rc = ph_txn_read(t, k1, strlen(k1));
		if (rc == 0)
			rc = ph_txn_put(t, k2, strlen(k2), &v1);
		break;
	}
	}
	uint8_t buf[PH_TXN_MAX];
	size_t len = 0;
	if (rc == 0)
		rc = ph_txn_encode(t, buf, sizeof buf, &len);
	bool read_only = ph_txn_read_only(t);
	ph_txn_free(t);
	mpz_clear(z1);
	mpz_clear(z2);
	if (rc != 0)
		return CHAOS_EINVAL;

	int64_t invoke = mono_ns();
	struct node_result res;
	memset(&res, 0, sizeof res);
	int err = node_client_txn(c->nc, cell, strlen(cell), buf, len, NODE_CONSISTENT, &res);
	int64_t complete = mono_ns();
	const char *outcome;
	char committed[4] = "-", readv[64] = "-";
	if (err == 0) {
		struct ph_result *r = NULL;
		if (ph_result_decode(res.bytes, res.len, NULL, &r) == 0) {
			outcome = "ok";
			snprintf(committed, sizeof committed, "%d",
				 ph_result_outcome(r) == PH_OUT_COMMITTED);
			if (kind == 0 || kind == 4)
				fmt_read(r, 0, readv, sizeof readv);
			ph_result_free(r);
		} else {
			/* A reply we cannot read: the op may have applied. */
			outcome = read_only ? "fail" : "info";
		}
		node_result_free(&res);
	} else if (err == NODE_ECELL || err == NODE_EMALFORMED) {
		outcome = "fail"; /* refused: never applied */
	} else {
		outcome = read_only ? "fail" : "info";
	}
	fprintf(c->out, "%" PRId64 " %" PRId64 " %" PRId64 " %s %s %s %s %s %s %s %s %s\n",
		c->process, invoke, complete, outcome, cell, kinds[kind], k1, k2, a, b, committed,
		readv);
	fflush(c->out);
	if (outcome[0] == 'o')
		c->ok++;
	else if (outcome[0] == 'f')
		c->fail++;
	else {
		c->info++;
		c->process += 1000000; /* Jepsen: an indeterminate op ends the process */
	}
	return 0;
}

static void sleep_until(int64_t t)
{
	for (;;) {
		int64_t now = mono_ns();
		if (now >= t || stop_requested)
			return;
		int64_t d = t - now;
		if (d > 100000000)
			d = 100000000;
		struct timespec ts = { (time_t)(d / 1000000000), (long)(d % 1000000000) };
		nanosleep(&ts, NULL);
	}
}

static size_t split(char *s, char **out, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(s, ",", &save); p != NULL && n < max; p = strtok_r(NULL, ",", &save))
		out[n++] = p;
	return n;
}

int chaos_client_cli(int argc, char **argv)
{
	char *nodes = NULL, *cells = NULL, *mix = NULL, *dist = NULL;
	const char *outp = NULL;
	uint64_t process = 0, keys = 8, seed = 1, timeout_ms = 2000, client_id = 0;
	double rate = 0, duration = 10, zipf_s = 1.1;
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = v == NULL;
		if (bad)
			;
		else if (strcmp(k, "--nodes") == 0)
			nodes = argv[i + 1];
		else if (strcmp(k, "--cells") == 0)
			cells = argv[i + 1];
		else if (strcmp(k, "--mix") == 0)
			mix = argv[i + 1];
		else if (strcmp(k, "--dist") == 0)
			dist = argv[i + 1];
		else if (strcmp(k, "--out") == 0)
			outp = v;
		else if (strcmp(k, "--process") == 0)
			bad = chaos_parse_u64(v, &process) != 0;
		else if (strcmp(k, "--client-id") == 0)
			bad = chaos_parse_u64(v, &client_id) != 0;
		else if (strcmp(k, "--keys") == 0)
			bad = chaos_parse_u64(v, &keys) != 0 || keys == 0 || keys > 1000000;
		else if (strcmp(k, "--seed") == 0)
			bad = chaos_parse_u64(v, &seed) != 0;
		else if (strcmp(k, "--timeout-ms") == 0)
			bad = chaos_parse_u64(v, &timeout_ms) != 0 || timeout_ms == 0;
		else if (strcmp(k, "--rate") == 0)
			bad = chaos_parse_double(v, &rate) != 0 || rate < 0;
		else if (strcmp(k, "--duration") == 0)
			bad = chaos_parse_double(v, &duration) != 0 || duration <= 0;
		else if (strcmp(k, "--zipf-s") == 0)
			bad = chaos_parse_double(v, &zipf_s) != 0 || zipf_s <= 0;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "physalia-chaos client: bad argument '%s'\n", k);
			return 2;
		}
	}
	if (nodes == NULL || cells == NULL || outp == NULL) {
		fprintf(stderr, "physalia-chaos client: --nodes, --cells and --out are required\n");
		return 2;
	}
	struct client c;
	memset(&c, 0, sizeof c);
	c.rng = seed;
	c.keys = (uint32_t)keys;
	c.process = (int64_t)process;
	c.next_value = (int64_t)process * 1000000 + 1;
	c.mix[0] = 40, c.mix[1] = 30, c.mix[2] = 10, c.mix[3] = 15, c.mix[4] = 5;
	if (mix != NULL) {
		char *parts[5];
		if (split(mix, parts, 5) != 5) {
			fprintf(stderr, "physalia-chaos client: --mix needs 5 weights\n");
			return 2;
		}
		uint32_t sum = 0;
		for (int i = 0; i < 5; i++) {
			uint64_t w;
			if (chaos_parse_u64(parts[i], &w) != 0 || w > 1000000) {
				fprintf(stderr, "physalia-chaos client: bad --mix weight\n");
				return 2;
			}
			c.mix[i] = (uint32_t)w;
			sum += (uint32_t)w;
		}
		if (sum == 0) {
			fprintf(stderr, "physalia-chaos client: --mix sums to 0\n");
			return 2;
		}
	}
	if (dist != NULL && strcmp(dist, "zipf") == 0) {
		c.zipf = 1;
		c.zipf_cdf = malloc(keys * sizeof *c.zipf_cdf);
		if (c.zipf_cdf == NULL)
			return 2;
		double sum = 0;
		for (uint64_t i = 0; i < keys; i++)
			sum += 1.0 / pow((double)(i + 1), zipf_s);
		double acc = 0;
		for (uint64_t i = 0; i < keys; i++) {
			acc += 1.0 / pow((double)(i + 1), zipf_s) / sum;
			c.zipf_cdf[i] = acc;
		}
	}
	char *node_list[256], *cell_list[4096];
	size_t nn = split(nodes, node_list, 256);
	c.ncells = split(cells, cell_list, 4096);
	c.cells = cell_list;
	if (nn == 0 || c.ncells == 0) {
		fprintf(stderr, "physalia-chaos client: empty --nodes or --cells\n");
		free(c.zipf_cdf);
		return 2;
	}
	c.out = fopen(outp, "a");
	if (c.out == NULL) {
		fprintf(stderr, "physalia-chaos client: %s: %s\n", outp, strerror(errno));
		free(c.zipf_cdf);
		return 2;
	}
	if (node_client_new((const char *const *)node_list, nn, client_id ? client_id : process + 1,
			    &c.nc) != 0) {
		fprintf(stderr, "physalia-chaos client: bad --nodes\n");
		fclose(c.out);
		free(c.zipf_cdf);
		return 2;
	}
	node_client_set_retry(c.nc, timeout_ms, 2, 200);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int64_t start = mono_ns(), end = start + (int64_t)(duration * 1e9);
	int64_t next = start;
	int status = 0;
	while (!stop_requested && mono_ns() < end) {
		if (rate > 0) {
			sleep_until(next);
			next += (int64_t)(1e9 / rate);
			if (stop_requested)
				break;
		}
		if (one_op(&c) != 0) {
			status = 2;
			break;
		}
	}
	fprintf(stderr, "client %" PRIu64 ": ok=%" PRIu64 " fail=%" PRIu64 " info=%" PRIu64 "\n",
		process, c.ok, c.fail, c.info);
	node_client_free(c.nc);
	fclose(c.out);
	free(c.zipf_cdf);
	return status;
}
