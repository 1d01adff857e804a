/* The run database: schema, round trip of every table the writers fill,
 * version checks, availability, and the promise that a writer killed with
 * SIGKILL at any moment leaves a valid database holding at least every batch
 * it had committed (a forked writer killed at random points). */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports.h"

static char dir[256];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/rep_rundb_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void path_in(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void add_ops(struct rep_history *h, int n)
{
	for (int i = 0; i < n; i++) {
		struct rep_op op = {
			.process = i % 3,
			.client = i % 3 == 2 ? "client-b" : "client-a",
			.fn = i % 2 ? REP_FN_READ : REP_FN_WRITE,
			.outcome = i % 7 == 6 ? REP_OUT_INFO : REP_OUT_OK,
			.invoke_ns = 1000 * i,
			.complete_ns = 1000 * i + 500,
			.key = rep_value_str(NULL, "k"),
			.arg = rep_value_int(h, i / 2 * 2),
			.result = rep_value_int(h, i / 2 * 2),
		};
		ck_assert_int_eq(rep_history_add(h, &op, NULL), 0);
	}
}

START_TEST(round_trip_of_every_table)
{
	make_dir();
	char path[300];
	path_in(path, sizeof path, "run.db");
	struct rep_db *db;
	ck_assert_int_eq(rep_db_create(path, &db), 0);
	struct rep_db *again;
	ck_assert_int_eq(rep_db_create(path, &again), REP_EIO);
	struct rep_run_info run = {.campaign = "unit", .seed = 42, .version = "0.1.0",
				   .start_unix_ns = 1700000000000000000LL, .mono_origin_ns = 0,
				   .op_timeout_ns = 800};
	ck_assert_int_eq(rep_db_run_begin(db, &run), 0);
	struct rep_host host = {.name = "n1", .kind = REP_HOST_NODE, .node_id = 1,
				.datacenter = "dc1", .row = "r1", .rack = "rack1",
				.power_domain = "p1", .address = "198.18.0.2"};
	ck_assert_int_eq(rep_db_add_host(db, &host), 0);
	struct rep_host client = {.name = "client-a", .kind = REP_HOST_CLIENT, .rack = "rack1"};
	ck_assert_int_eq(rep_db_add_host(db, &client), 0);
	uint32_t jury[] = {1, 2, 3};
	struct rep_value cell = rep_value_str(NULL, "cell-7");
	ck_assert_int_eq(rep_db_add_jury(db, &cell, 0, jury, 3), 0);
	struct rep_history h;
	rep_history_init(&h);
	add_ops(&h, 50);
	/* a transaction and a pending op too */
	struct rep_txop tops[2] = {
		{.kind = REP_TX_INCR, .key = rep_value_str(NULL, "n"), .value = rep_value_int(&h, 3)},
		{.kind = REP_TX_READ, .key = rep_value_str(NULL, "n")},
	};
	struct rep_value reads[2] = {rep_value_nil(), rep_value_nil()}; /* reads see the state before */
	struct rep_txn txn = {.ops = tops, .nops = 2, .committed = true, .reads = reads};
	struct rep_op top = {.process = 9, .fn = REP_FN_TXN, .outcome = REP_OUT_OK,
			     .invoke_ns = 60000, .complete_ns = 60100, .cell = cell, .txn = &txn};
	ck_assert_int_eq(rep_history_add(&h, &top, NULL), 0);
	struct rep_op pend = {.process = 10, .fn = REP_FN_WRITE, .outcome = REP_OUT_PENDING,
			      .invoke_ns = 61000, .arg = rep_value_int(&h, 5)};
	ck_assert_int_eq(rep_history_add(&h, &pend, NULL), 0);
	ck_assert_int_eq(rep_db_add_history(db, &h), 0);
	/* the same op again, now complete, replaces its row */
	pend.outcome = REP_OUT_OK;
	pend.complete_ns = 61500;
	ck_assert_int_eq(rep_db_add_op(db, &pend), 0);
	struct rep_fault f = {.nemesis = "partition", .params = "{\"halves\":2}",
			      .targets = "rack1|rack2", .start_ns = 10000, .end_ns = -1};
	int64_t fid;
	ck_assert_int_eq(rep_db_fault_start(db, &f, &fid), 0);
	ck_assert_int_eq(rep_db_fault_stop(db, fid, 20000), 0);
	ck_assert_int_eq(rep_db_fault_stop(db, fid + 100, 20000), REP_ENOTFOUND);
	struct rep_packet p = {.t_ns = 100, .src = "n1", .dst = "n2", .proto = "udp",
			       .decision = REP_PKT_DROP, .count = 3, .bytes = 900};
	ck_assert_int_eq(rep_db_add_packet(db, &p), 0);
	struct rep_node_event ne = {.t_ns = 15000, .node = "n1", .kind = REP_NODE_CRASH,
				    .detail = "SIGKILL"};
	ck_assert_int_eq(rep_db_add_node_event(db, &ne), 0);
	ck_assert_int_eq(rep_db_add_metric(db, 100, "n1", "cells", 1000), 0);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(rep_db_add_check(db, "linearizability", &h, &r), 0);
	rep_check_result_free(&r);
	ck_assert_int_eq(rep_db_add_artifact(db, "pcap", "/tmp/x.pcap", 1234), 0);
	ck_assert_int_eq(rep_db_run_end(db, 1700000001000000000LL, "linearizable"), 0);
	ck_assert_int_eq(rep_db_close(db), 0);

	ck_assert_int_eq(rep_db_open(path, true, &db), 0);
	struct rep_history back;
	rep_history_init(&back);
	struct rep_error err;
	int rc = rep_db_load_history(db, &back, &err);
	ck_assert_msg(rc == 0, "%s:%u: %s", err.file, err.line, err.msg);
	ck_assert_uint_eq(back.n, h.n);
	for (size_t i = 0; i < h.n; i++) {
		ck_assert_int_eq(back.ops[i].process, h.ops[i].process);
		ck_assert_int_eq(back.ops[i].fn, h.ops[i].fn);
		ck_assert_int_eq(back.ops[i].invoke_ns, h.ops[i].invoke_ns);
		if (h.ops[i].fn != REP_FN_READ)
			ck_assert(rep_value_equal(&back.ops[i].arg, &h.ops[i].arg));
		if (h.ops[i].outcome == REP_OUT_OK && h.ops[i].fn == REP_FN_READ)
			ck_assert(rep_value_equal(&back.ops[i].result, &h.ops[i].result));
		if (h.ops[i].client != NULL)
			ck_assert_str_eq(back.ops[i].client, h.ops[i].client);
	}
	ck_assert_int_eq(back.ops[back.n - 1].outcome, REP_OUT_OK); /* replaced row */
	ck_assert_int_eq(back.ops[back.n - 2].fn, REP_FN_TXN);
	ck_assert(back.ops[back.n - 2].txn->committed);
	ck_assert_ptr_nonnull(back.ops[back.n - 2].txn->reads);
	ck_assert_int_eq(back.ops[back.n - 2].txn->reads[1].kind, REP_V_NIL);
	ck_assert_str_eq((const char *)back.ops[back.n - 2].txn->ops[0].value.bytes, "3");
	struct rep_fault *fs;
	size_t nf;
	ck_assert_int_eq(rep_db_load_faults(db, &fs, &nf), 0);
	ck_assert_uint_eq(nf, 1);
	ck_assert_str_eq(fs[0].nemesis, "partition");
	ck_assert_str_eq(fs[0].targets, "rack1|rack2");
	ck_assert_int_eq(fs[0].end_ns, 20000);
	rep_faults_free(fs, nf);
	ck_assert_int_eq(rep_db_add_metric(db, 1, "x", "y", 1), REP_EINVAL); /* read-only */
	rep_db_close(db);
	rep_history_free(&back);
	rep_history_free(&h);
	remove_dir();
}
END_TEST

START_TEST(open_checks_what_the_file_is)
{
	make_dir();
	char path[300];
	path_in(path, sizeof path, "not-a-db");
	FILE *f = fopen(path, "w");
	fputs("hello, this is not SQLite\n", f);
	fclose(f);
	struct rep_db *db;
	ck_assert_int_eq(rep_db_open(path, true, &db), REP_EDB);
	path_in(path, sizeof path, "missing.db");
	ck_assert_int_eq(rep_db_open(path, true, &db), REP_ENOTFOUND);
	/* a newer schema than this build knows */
	path_in(path, sizeof path, "future.db");
	ck_assert_int_eq(rep_db_create(path, &db), 0);
	rep_db_close(db);
	sqlite3 *s;
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(s, "UPDATE meta SET value = '99' WHERE key = "
					 "'schema_version'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(s);
	ck_assert_int_eq(rep_db_open(path, true, &db), REP_EVERSION);
	remove_dir();
}
END_TEST

/* A writer in a child process reports each committed batch (the number of
 * ops durable so far) on a pipe; the parent picks a random batch, kills the
 * child with SIGKILL as soon as it is reported (the child is then somewhere
 * in its next batch: a random point), and checks the database. */
static void writer_child(const char *path, int fd)
{
	/* never outlive the test, whatever happens to it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct rep_db *db;
	if (rep_db_create(path, &db) != 0)
		_exit(3);
	struct rep_run_info run = {.campaign = "kill", .seed = 1};
	if (rep_db_run_begin(db, &run) != 0)
		_exit(4);
	uint64_t committed = 0;
	if (write(fd, &committed, sizeof committed) != sizeof committed)
		_exit(5);
	struct rep_history h;
	rep_history_init(&h);
	for (int64_t i = 0; i < 5000000; i++) {
		char val[24];
		snprintf(val, sizeof val, "%lld", (long long)i);
		struct rep_op op = {.process = i % 7, .client = "c", .fn = REP_FN_WRITE,
				    .outcome = REP_OUT_OK, .invoke_ns = i, .complete_ns = i,
				    .arg = rep_value_str(NULL, val)};
		op.arg.kind = REP_V_INT;
		struct rep_packet p = {.t_ns = i, .src = "a", .dst = "b", .decision = REP_PKT_DELAY,
				       .delay_ns = i};
		if (rep_db_add_op(db, &op) != 0 || rep_db_add_packet(db, &p) != 0 ||
		    rep_db_add_metric(db, i, "c", "latency", (double)i) != 0)
			_exit(6);
		/* rows that commit at once, between batched ones */
		if (i % 53 == 0) {
			struct rep_fault f = {.nemesis = "partition", .start_ns = i, .end_ns = -1};
			int64_t fid;
			struct rep_node_event ne = {.t_ns = i, .node = "n1", .kind = REP_NODE_CRASH};
			if (rep_db_fault_start(db, &f, &fid) != 0 ||
			    rep_db_fault_stop(db, fid, i + 1) != 0 ||
			    rep_db_add_node_event(db, &ne) != 0)
				_exit(10);
		}
		if (i % 37 == 36) {
			if (rep_db_flush(db) != 0)
				_exit(7);
			committed = (uint64_t)i + 1;
			if (write(fd, &committed, sizeof committed) != sizeof committed)
				_exit(8);
		}
	}
	_exit(9);
}

START_TEST(sigkill_at_random_points_leaves_a_valid_database)
{
	make_dir();
	srand(4242);
	for (int round = 0; round < 24; round++) {
		char path[300];
		snprintf(path, sizeof path, "%s/kill-%d.db", dir, round);
		int fds[2];
		ck_assert_int_eq(pipe(fds), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			writer_child(path, fds[1]);
		}
		close(fds[1]);
		int target = rand() % 60;
		uint64_t committed = 0, got;
		for (int k = 0; k <= target; k++) {
			ssize_t n = read(fds[0], &got, sizeof got);
			ck_assert_int_eq(n, (ssize_t)sizeof got);
			committed = got;
		}
		/* a little more random work in the child before the kill */
		for (volatile int spin = rand() % 200000; spin > 0; spin--)
			;
		kill(pid, SIGKILL);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		close(fds[0]);

		sqlite3 *s;
		ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
		/* what is there is a prefix: ops 0..n-1, n >= committed, and the
		 * packets and metrics of the same batches */
		ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT count(*), coalesce(max(invoke_ns), -1), "
						       "(SELECT count(*) FROM packets), (SELECT "
						       "count(*) FROM metrics) FROM ops",
						    -1, &st, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		int64_t n = sqlite3_column_int64(st, 0);
		ck_assert_int_ge(n, (int64_t)committed);
		ck_assert_int_eq(sqlite3_column_int64(st, 1), n - 1);
		ck_assert_int_eq(sqlite3_column_int64(st, 2), n);
		ck_assert_int_eq(sqlite3_column_int64(st, 3), n);
		sqlite3_finalize(st);
		/* every fault of a committed batch is there, and stopped faults
		 * have their end */
		ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT count(*), count(end_ns) FROM faults "
						       "WHERE start_ns < ?",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_int64(st, 1, (int64_t)committed);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int64(st, 0), ((int64_t)committed + 52) / 53);
		ck_assert_int_eq(sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
		sqlite3_close(s);
		/* and the reader takes it */
		struct rep_db *db;
		ck_assert_int_eq(rep_db_open(path, false, &db), 0);
		struct rep_history h;
		rep_history_init(&h);
		struct rep_error err;
		if (n > 0) {
			ck_assert_int_eq(rep_db_load_history(db, &h, &err), 0);
			ck_assert_uint_eq(h.n, (size_t)n);
		}
		rep_history_free(&h);
		rep_db_close(db);
	}
	remove_dir();
}
END_TEST

START_TEST(availability_per_client_and_window)
{
	struct rep_history h;
	rep_history_init(&h);
	/* client a: 4 ops before the fault (all ok), 4 during (1 ok in time,
	 * 1 ok but slow, 1 info, 1 fail); client b: 2 during, both ok */
	struct {
		const char *c;
		int64_t t, d;
		enum rep_outcome o;
	} spec[] = {
		{"a", 0, 10, REP_OUT_OK},    {"a", 20, 10, REP_OUT_OK},	 {"a", 40, 10, REP_OUT_OK},
		{"a", 60, 10, REP_OUT_OK},   {"a", 100, 10, REP_OUT_OK}, {"a", 120, 500, REP_OUT_OK},
		{"a", 130, 90, REP_OUT_INFO}, {"a", 140, 5, REP_OUT_FAIL}, {"b", 110, 5, REP_OUT_OK},
		{"b", 150, 5, REP_OUT_OK},
	};
	for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
		struct rep_op op = {.process = (int64_t)i, .client = spec[i].c, .fn = REP_FN_WRITE,
				    .outcome = spec[i].o, .invoke_ns = spec[i].t,
				    .complete_ns = spec[i].t + spec[i].d,
				    .arg = rep_value_int(&h, 1)};
		ck_assert_int_eq(rep_history_add(&h, &op, NULL), 0);
	}
	struct rep_fault f = {.id = 7, .nemesis = "partition", .start_ns = 100, .end_ns = 200};
	struct rep_avail *a;
	size_t n;
	ck_assert_int_eq(rep_availability(&h, &f, 1, 100, &a, &n), 0);
	ck_assert_uint_eq(n, 4);
	/* a/partition, a/no fault, b/partition, b/no fault */
	ck_assert_str_eq(a[0].client, "a");
	ck_assert_int_eq(a[0].fault_id, 7);
	ck_assert_str_eq(a[0].window, "partition");
	ck_assert_uint_eq(a[0].ops, 4);
	ck_assert_uint_eq(a[0].ok_in_time, 1);
	ck_assert_double_eq_tol(a[0].share, 0.25, 1e-9);
	ck_assert_str_eq(a[1].window, "no fault");
	ck_assert_uint_eq(a[1].ops, 4);
	ck_assert_double_eq_tol(a[1].share, 1.0, 1e-9);
	ck_assert_str_eq(a[2].client, "b");
	ck_assert_uint_eq(a[2].ops, 2);
	ck_assert_double_eq_tol(a[2].share, 1.0, 1e-9);
	ck_assert_uint_eq(a[3].ops, 0);
	ck_assert_double_eq_tol(a[3].share, 1.0, 1e-9);
	rep_avail_free(a, n);
	rep_history_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rundb");
	TCase *tc = tcase_create("rundb");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip_of_every_table);
	tcase_add_test(tc, open_checks_what_the_file_is);
	tcase_add_test(tc, sigkill_at_random_points_leaves_a_valid_database);
	tcase_add_test(tc, availability_per_client_and_window);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
