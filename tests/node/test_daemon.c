/* physalia-node as a process: cells survive SIGKILL of every node, bad
 * datagrams are dropped and counted, client refusals are distinct, SIGTERM
 * drains and exits 0, a failed fsync (libfiu) stops the node. Real
 * processes on 127.0.0.1. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <check.h>
#include <engine.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "colony.h"
#include "dgram.h"
#include "frame.h"
#include "node.h"

static struct colony col;

static struct node_client *client_for(struct colony *c)
{
	char a[3][64];
	const char *seeds[3];
	for (uint32_t i = 0; i < 3; i++) {
		colony_client_addr(c, i + 1, a[i], sizeof a[i]);
		seeds[i] = a[i];
	}
	struct node_client *cl;
	ck_assert_int_eq(node_client_new(seeds, 3, 0, &cl), 0);
	node_client_set_retry(cl, 15000, 2, 100);
	return cl;
}

static size_t enc_put(const char *k, const char *v, uint8_t *buf, size_t cap)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	struct ph_value val = { .type = PH_T_BYTES, .bytes = (const uint8_t *)v, .len = strlen(v) };
	ck_assert_int_eq(ph_txn_put(t, k, strlen(k), &val), 0);
	size_t len;
	ck_assert_int_eq(ph_txn_encode(t, buf, cap, &len), 0);
	ph_txn_free(t);
	return len;
}

static size_t enc_read(const char *k, uint8_t *buf, size_t cap)
{
	struct ph_txn *t;
	ck_assert_int_eq(ph_txn_new(NULL, &t), 0);
	ck_assert_int_eq(ph_txn_read(t, k, strlen(k)), 0);
	size_t len;
	ck_assert_int_eq(ph_txn_encode(t, buf, cap, &len), 0);
	ph_txn_free(t);
	return len;
}

/* Read key k of cell pk; returns malloc'ed value text or NULL if absent. */
static char *read_key(struct node_client *cl, const char *pk, const char *k)
{
	uint8_t buf[512];
	size_t len = enc_read(k, buf, sizeof buf);
	struct node_result r;
	int rc = node_client_txn(cl, pk, strlen(pk), buf, len, NODE_CONSISTENT, &r);
	ck_assert_msg(rc == 0, "read: %s", node_strerror(rc));
	struct ph_result *res;
	ck_assert_int_eq(ph_result_decode(r.bytes, r.len, NULL, &res), 0);
	ck_assert_int_eq(ph_result_outcome(res), PH_OUT_COMMITTED);
	const uint8_t *key;
	size_t kl;
	bool present;
	struct ph_value v;
	ck_assert_int_eq(ph_result_read(res, 0, &key, &kl, &present, &v), 0);
	char *out = NULL;
	if (present) {
		out = malloc(v.len + 1);
		memcpy(out, v.bytes, v.len);
		out[v.len] = 0;
	}
	ph_result_free(res);
	node_result_free(&r);
	return out;
}

static void put_key(struct node_client *cl, const char *pk, const char *k, const char *v)
{
	uint8_t buf[512];
	size_t len = enc_put(k, v, buf, sizeof buf);
	struct node_result r;
	int rc = node_client_txn(cl, pk, strlen(pk), buf, len, NODE_CONSISTENT, &r);
	ck_assert_msg(rc == 0, "put: %s", node_strerror(rc));
	ck_assert_int_eq(r.outcome, PH_ST_COMMITTED);
	node_result_free(&r);
}

static void teardown(void)
{
	colony_destroy(&col);
}

START_TEST(cells_survive_sigkill_of_every_node)
{
	ck_assert_int_eq(colony_start(&col, 3, NULL), 0);
	struct node_client *cl = client_for(&col);
	uint32_t jury[] = { 1, 2, 3 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-1", 5, jury, 3), 0);
	ck_assert_int_eq(node_client_cell_create(cl, "vol-1", 5, jury, 3), 0); /* idempotent */
	uint32_t other[] = { 3, 2, 1 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-1", 5, other, 3), NODE_EEXIST);
	uint32_t got[NODE_JURY_MAX];
	size_t n;
	ck_assert_int_eq(node_client_discover(cl, "vol-1", 5, got, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(node_client_discover(cl, "nope", 4, got, &n), NODE_ENOCELL);
	for (int i = 0; i < 20; i++) {
		char k[16], v[16];
		snprintf(k, sizeof k, "k%d", i);
		snprintf(v, sizeof v, "v%d", i);
		put_key(cl, "vol-1", k, v);
	}
	node_client_free(cl);
	for (uint32_t id = 1; id <= 3; id++) {
		int st = colony_node_signal(&col, id, SIGKILL);
		ck_assert(WIFSIGNALED(st));
	}
	for (uint32_t id = 1; id <= 3; id++)
		ck_assert_int_eq(colony_node_start(&col, id), 0);
	cl = client_for(&col);
	for (int i = 0; i < 20; i++) {
		char k[16], v[16];
		snprintf(k, sizeof k, "k%d", i);
		snprintf(v, sizeof v, "v%d", i);
		char *got_v = read_key(cl, "vol-1", k);
		ck_assert_ptr_nonnull(got_v);
		ck_assert_str_eq(got_v, v);
		free(got_v);
	}
	char *st;
	ck_assert_int_eq(node_client_cell_status(cl, "vol-1", 5, 2, &st), 0);
	ck_assert_ptr_nonnull(strstr(st, "jury 1,2,3"));
	free(st);
	ck_assert_int_eq(node_client_node_status(cl, 1, &st), 0);
	ck_assert_ptr_nonnull(strstr(st, "incarnation 2"));
	ck_assert_ptr_nonnull(strstr(st, "cells_hosted 1"));
	free(st);
	node_client_free(cl);
}
END_TEST

static void send_udp(int port, const void *b, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(fd, b, len, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)len);
	close(fd);
}

/* Poll node 1's metric until it reaches at least want (bounded). */
static void await_metric(const char *name, double want)
{
	double v = -1;
	for (int i = 0; i < 500; i++) {
		char *page = colony_metrics(&col, 1);
		v = page ? colony_metric(page, name) : -1;
		free(page);
		if (v >= want)
			return;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_abort_msg("%s = %g, expected >= %g", name, v, want);
}

START_TEST(bad_datagrams_are_dropped_and_counted)
{
	ck_assert_int_eq(colony_start(&col, 3, NULL), 0);
	int port = colony_port(&col, 1, 0);
	uint8_t key[NODE_KEY_BYTES], wrong[NODE_KEY_BYTES];
	ck_assert_int_eq(node_key_parse(COLONY_KEY, 64, key), 0);
	memset(wrong, 7, sizeof wrong);
	uint8_t buf[512];
	struct node_dgram_hdr h = { .from = 2, .to = 1, .incarnation = 1u << 30, .seq = 1 };
	struct node_dgram_builder b;
	/* garbage */
	send_udp(port, "hello world, not a datagram at all, not at all......", 52);
	await_metric("physalia_dropped_packets_total{reason=\"malformed\"}", 1);
	/* wrong key */
	node_dgram_begin(&b, buf, sizeof buf, &h);
	node_dgram_add(&b, NODE_ITEM_CELL, "vol-9", 5, "x", 1);
	size_t len = node_dgram_seal(&b, wrong);
	send_udp(port, buf, len);
	await_metric("physalia_dropped_packets_total{reason=\"hmac\"}", 1);
	/* right key, unknown cell; then the same datagram again: replay */
	node_dgram_begin(&b, buf, sizeof buf, &h);
	node_dgram_add(&b, NODE_ITEM_CELL, "vol-9", 5, "x", 1);
	len = node_dgram_seal(&b, key);
	send_udp(port, buf, len);
	await_metric("physalia_dropped_packets_total{reason=\"unknown_cell\"}", 1);
	send_udp(port, buf, len);
	await_metric("physalia_dropped_packets_total{reason=\"replay\"}", 1);
	/* unknown sender and misdirected */
	h.from = 77;
	h.seq = 2;
	node_dgram_begin(&b, buf, sizeof buf, &h);
	send_udp(port, buf, node_dgram_seal(&b, key));
	await_metric("physalia_dropped_packets_total{reason=\"unknown_peer\"}", 1);
	h.from = 2;
	h.to = 3;
	node_dgram_begin(&b, buf, sizeof buf, &h);
	send_udp(port, buf, node_dgram_seal(&b, key));
	await_metric("physalia_dropped_packets_total{reason=\"misdirected\"}", 1);
	/* the node still serves */
	struct node_client *cl = client_for(&col);
	uint32_t jury[] = { 1, 2, 3 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-2", 5, jury, 3), 0);
	put_key(cl, "vol-2", "a", "b");
	node_client_free(cl);
	char *page = colony_metrics(&col, 1);
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "physalia_fsync_seconds_bucket"));
	ck_assert(colony_metric(page, "physalia_cells_hosted") == 1);
	free(page);
}
END_TEST

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* Read one reply frame from fd into f (buf must outlive f). */
static int read_reply(int fd, uint8_t *buf, size_t cap, struct node_frame *f)
{
	size_t len = 0, used;
	for (;;) {
		int rc = node_frame_decode(buf, len, 1 << 20, f, &used);
		if (rc != NODE_ETRUNCATED)
			return rc;
		ssize_t r = read(fd, buf + len, cap - len);
		if (r <= 0)
			return NODE_ECONN;
		len += (size_t)r;
	}
}

START_TEST(client_refusals_are_distinct)
{
	ck_assert_int_eq(colony_start(&col, 3, "limits: {max_connections: 3, max_frame: 2048}\n"), 0);
	int port = colony_port(&col, 1, 1);
	uint8_t buf[8192], rbuf[8192];
	struct node_frame f, r;
	size_t len;
	/* unknown cell */
	int fd = tcp_connect(port);
	memset(&f, 0, sizeof f);
	f.type = NODE_REQ_TXN;
	f.corr = 41;
	f.client_id = 1;
	f.seq = 1;
	f.pkey = (const uint8_t *)"absent";
	f.pkey_len = 6;
	ck_assert_int_eq(node_frame_encode(&f, buf, sizeof buf, &len), 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(read_reply(fd, rbuf, sizeof rbuf, &r), 0);
	ck_assert_uint_eq(r.corr, 41);
	ck_assert_uint_eq(r.status, NODE_ST_NOCELL);
	/* oversized frame */
	static uint8_t big[4096];
	f.corr = 42;
	f.data = big;
	f.data_len = sizeof big;
	ck_assert_int_eq(node_frame_encode(&f, buf, sizeof buf, &len), 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(read_reply(fd, rbuf, sizeof rbuf, &r), 0);
	ck_assert_uint_eq(r.corr, 42);
	ck_assert_uint_eq(r.status, NODE_ST_TOOBIG);
	close(fd);
	/* too many connections: 3 allowed, the 4th is refused */
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = tcp_connect(port);
	/* make sure the node accepted the three (a status round trip each) */
	for (int i = 0; i < 3; i++) {
		memset(&f, 0, sizeof f);
		f.type = NODE_REQ_NODE_STATUS;
		f.corr = 100 + (uint64_t)i;
		node_frame_encode(&f, buf, sizeof buf, &len);
		ck_assert_int_eq(write(fds[i], buf, len), (ssize_t)len);
		ck_assert_int_eq(read_reply(fds[i], rbuf, sizeof rbuf, &r), 0);
		ck_assert_uint_eq(r.status, NODE_ST_OK);
	}
	int extra = tcp_connect(port);
	ck_assert_int_eq(read_reply(extra, rbuf, sizeof rbuf, &r), 0);
	ck_assert_uint_eq(r.status, NODE_ST_OVERLOAD);
	close(extra);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	/* garbage: MALFORMED then close (once the node has seen the closes
	 * above, it accepts again) */
	for (int i = 0;; i++) {
		ck_assert_int_lt(i, 500);
		fd = tcp_connect(port);
		ck_assert_int_eq(write(fd, "\0\0\0\x0a\x01\x55zzzzzzzz", 14), 14);
		ck_assert_int_eq(read_reply(fd, rbuf, sizeof rbuf, &r), 0);
		close(fd);
		if (r.status != NODE_ST_OVERLOAD)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert_uint_eq(r.status, NODE_ST_MALFORMED);
}
END_TEST

static uint64_t rot_seq = 1;

static void send_sealed(int port, const uint8_t *key)
{
	uint8_t buf[256];
	struct node_dgram_hdr h = { .from = 3, .to = 1, .incarnation = 1u << 30, .seq = rot_seq++ };
	struct node_dgram_builder b;
	node_dgram_begin(&b, buf, sizeof buf, &h);
	node_dgram_add(&b, NODE_ITEM_CELL, "nocell", 6, "x", 1);
	send_udp(port, buf, node_dgram_seal(&b, key));
}

static double metric1(const char *name)
{
	char *page = colony_metrics(&col, 1);
	double v = page ? colony_metric(page, name) : -1;
	free(page);
	return v;
}

START_TEST(sighup_rotates_keys)
{
	ck_assert_int_eq(colony_start(&col, 3, NULL), 0);
	static const char new_hex[] = "1111111111111111111111111111111111111111111111111111111111111111";
	uint8_t oldk[NODE_KEY_BYTES], newk[NODE_KEY_BYTES];
	node_key_parse(COLONY_KEY, 64, oldk);
	node_key_parse(new_hex, 64, newk);
	int port = colony_port(&col, 1, 0);
	const char *hmac = "physalia_dropped_packets_total{reason=\"hmac\"}";
	const char *unknown = "physalia_dropped_packets_total{reason=\"unknown_cell\"}";
	send_sealed(port, newk);
	await_metric(hmac, 1);
	/* rotate every node: new key current, old key previous */
	char keys[200];
	snprintf(keys, sizeof keys, "{current: %s, previous: %s}", new_hex, COLONY_KEY);
	for (uint32_t id = 1; id <= 3; id++) {
		ck_assert_int_eq(colony_rewrite_config(&col, id, keys), 0);
		ck_assert_int_eq(colony_node_signal(&col, id, SIGHUP), 0);
	}
	/* node 1 takes the new key once it has handled SIGHUP */
	double before = metric1(unknown);
	for (int i = 0; i < 500 && metric1(unknown) <= before; i++) {
		send_sealed(port, newk);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert(metric1(unknown) > before);
	/* the previous key is still accepted */
	before = metric1(unknown);
	send_sealed(port, oldk);
	await_metric(unknown, before + 1);
	/* and the colony works under the new key (every node has reloaded by
	 * now or the client retries until it has) */
	struct node_client *cl = client_for(&col);
	uint32_t jury[] = { 1, 2, 3 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-5", 5, jury, 3), 0);
	put_key(cl, "vol-5", "a", "1");
	node_client_free(cl);
	/* a config that does not parse keeps the keys */
	ck_assert_int_eq(colony_rewrite_config(&col, 1, "{current: nothex}"), 0);
	ck_assert_int_eq(colony_node_signal(&col, 1, SIGHUP), 0);
	before = metric1(unknown);
	for (int i = 0; i < 500 && metric1(unknown) <= before; i++) {
		send_sealed(port, newk);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	ck_assert(metric1(unknown) > before);
}
END_TEST

START_TEST(sigterm_drains_and_exits_zero)
{
	ck_assert_int_eq(colony_start(&col, 3, NULL), 0);
	struct node_client *cl = client_for(&col);
	uint32_t jury[] = { 1, 2, 3 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-3", 5, jury, 3), 0);
	put_key(cl, "vol-3", "a", "1");
	node_client_free(cl);
	for (uint32_t id = 1; id <= 3; id++) {
		int st = colony_node_signal(&col, id, SIGTERM);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %u status %d", id, st);
	}
	char path[400], line[1024];
	colony_log_path(&col, 1, path, sizeof path);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	int stopped = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "event=stopped"))
			stopped = 1;
	fclose(f);
	ck_assert(stopped);
}
END_TEST

START_TEST(failed_fsync_stops_the_node)
{
#if defined(__SANITIZE_ADDRESS__)
	/* fiu-run preloads libraries before the ASan runtime, which ASan refuses */
	fprintf(stderr, "skip: libfiu preload does not run under AddressSanitizer\n");
	return;
#endif
	if (access("/usr/bin/fiu-run", X_OK) != 0 || access("/usr/bin/fiu-ctrl", X_OK) != 0) {
		fprintf(stderr, "skip: fiu-run/fiu-ctrl not installed\n");
		return;
	}
	col.wrapper = "fiu-run -x";
	ck_assert_int_eq(colony_start(&col, 3, NULL), 0);
	struct node_client *cl = client_for(&col);
	uint32_t jury[] = { 1, 2, 3 };
	ck_assert_int_eq(node_client_cell_create(cl, "vol-4", 5, jury, 3), 0);
	put_key(cl, "vol-4", "a", "1");
	/* every fsync/fdatasync of node 1 fails from now on */
	char cmd[256];
	snprintf(cmd, sizeof cmd,
		 "fiu-ctrl -c 'enable name=posix/io/sync/fdatasync' -c 'enable name=posix/io/sync/fsync' %d",
		 (int)col.pid[1]);
	ck_assert_int_eq(system(cmd), 0);
	/* writes go on (nodes 2 and 3 are a majority) and node 1 stops */
	for (int i = 0; i < 5; i++) {
		char v[8];
		snprintf(v, sizeof v, "%d", i);
		put_key(cl, "vol-4", "a", v);
	}
	node_client_free(cl);
	int st = colony_node_wait(&col, 1, 10000);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 3, "node 1 status %d", st);
	char path[400], line[1024];
	colony_log_path(&col, 1, path, sizeof path);
	FILE *f = fopen(path, "r");
	int fatal = 0;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "level=error") && strstr(line, "event=fatal"))
			fatal = 1;
	if (f)
		fclose(f);
	ck_assert(fatal);
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("node_daemon");
	TCase *tc = tcase_create("daemon");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, cells_survive_sigkill_of_every_node);
	tcase_add_test(tc, bad_datagrams_are_dropped_and_counted);
	tcase_add_test(tc, client_refusals_are_distinct);
	tcase_add_test(tc, sighup_rotates_keys);
	tcase_add_test(tc, sigterm_drains_and_exits_zero);
	tcase_add_test(tc, failed_fsync_stops_the_node);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
