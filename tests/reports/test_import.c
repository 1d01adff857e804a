/* The importers: what they accept, and that bad input gets an error naming
 * the line, column and what was expected, with the output left untouched
 * (no verdict is ever given for a history that did not parse completely). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"

static int import(const char *text, enum rep_format fmt, struct rep_history *h,
		  struct rep_error *err)
{
	return rep_import_buffer(text, strlen(text), fmt, "t.log", h, err);
}

START_TEST(log_lines_pair_into_ops)
{
	const char *text = "INFO  jepsen.util - 0\t:invoke\t:write\t4\n"
			   "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
			   "INFO  jepsen.util - 0\t:ok\t:write\t4\n"
			   "INFO  jepsen.util - 2\t:invoke\t:cas\t[4 1]\n"
			   "INFO  jepsen.util - 1\t:ok\t:read\t4\n"
			   "INFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n"
			   "INFO  jepsen.util - 3\t:invoke\t:cas\t[0 -7]\n"
			   "INFO  jepsen.util - 3\t:fail\t:cas\t[0 -7]\n"
			   "INFO  jepsen.util - 4\t:invoke\t:write\t2\n"
			   "INFO  jepsen.util - 5\t:invoke\t:read\tnil\n"
			   "INFO  jepsen.util - 5\t:fail\t:read\t:timed-out\n";
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	ck_assert_int_eq(import(text, REP_FMT_AUTO, &h, &err), 0);
	ck_assert_uint_eq(h.n, 6);
	ck_assert_int_eq(h.ops[5].outcome, REP_OUT_FAIL);
	ck_assert_int_eq(h.ops[0].fn, REP_FN_WRITE);
	ck_assert_int_eq(h.ops[0].outcome, REP_OUT_OK);
	ck_assert_str_eq((const char *)h.ops[0].arg.bytes, "4");
	ck_assert_int_eq(h.ops[1].outcome, REP_OUT_OK);
	ck_assert_str_eq((const char *)h.ops[1].result.bytes, "4");
	ck_assert_int_eq(h.ops[2].outcome, REP_OUT_INFO);
	ck_assert_int_eq(h.ops[2].fn, REP_FN_CAS);
	ck_assert_int_eq(h.ops[3].outcome, REP_OUT_FAIL);
	ck_assert_str_eq((const char *)h.ops[3].arg2.bytes, "-7");
	ck_assert_int_eq(h.ops[4].outcome, REP_OUT_PENDING);
	ck_assert_int_lt(h.ops[0].invoke_ns, h.ops[1].invoke_ns);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(r.verdict, REP_LINEARIZABLE);
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

struct bad {
	const char *text;
	enum rep_format fmt;
	unsigned line, column;
	const char *msg; /* a substring of the message */
};

static const struct bad bads[] = {
	{"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nhello\n", REP_FMT_LOG, 2, 1,
	 "expected a Jepsen log line"},
	{"INFO  jepsen.util - x\t:invoke\t:read\tnil\n", REP_FMT_LOG, 1, 21, "process id"},
	{"INFO  jepsen.util - 0\t:begin\t:read\tnil\n", REP_FMT_LOG, 1, 23, "the event type"},
	{"INFO  jepsen.util - 0\t:invoke\t:frob\tnil\n", REP_FMT_LOG, 1, 31, "the function"},
	{"INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2\n", REP_FMT_LOG, 1, 40, "']'"},
	{"INFO  jepsen.util - 0\t:invoke\t:write\t12x\n", REP_FMT_LOG, 1, 38, "an integer"},
	{"INFO  jepsen.util - 0\t:ok\t:read\t1\n", REP_FMT_LOG, 1, 1, "no pending invoke"},
	{"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n",
	 REP_FMT_LOG, 2, 1, "pending"},
	{"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:write\t1\n",
	 REP_FMT_LOG, 2, 1, "its invoke has :f :read"},
	{"\n\n", REP_FMT_LOG, 2, 1, "at least one client operation"},
	{"{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0 :type}\n",
	 REP_FMT_EDN, 2, 18, "a value for the last key"},
	{"{:process 0, :type :invoke, :f :get, :key \"1\", :value nil\n", REP_FMT_EDN, 1, 58,
	 "'}'"},
	{"{:process 0, :type :invoke, :f :get, :key \"1, :value nil}\n", REP_FMT_EDN, 1, 58,
	 "closing the string"},
	{"{:process 0, :type :invoke, :key \"1\", :value nil}\n", REP_FMT_EDN, 1, 1, "missing :f"},
	{"{:process 0, :type :maybe, :f :get, :key \"1\", :value nil}\n", REP_FMT_EDN, 1, 20,
	 ":type"},
	{"{:process 0, :type :invoke, :f :cas, :key \"1\", :value 3}\n", REP_FMT_EDN, 1, 55,
	 "[from to]"},
	{"{:process 0, :type :invoke, :f :get, :key \"1\", :value nil} x\n", REP_FMT_EDN, 1, 60,
	 "end of line"},
	{"{:process 0, :type :invoke, :f :txn, :value [[:r \"a\" nil] [:zap \"b\"]]}\n",
	 REP_FMT_EDN, 1, 59, "micro-op keyword"},
	{"{:process 0, :type :invoke, :f :txn, :value [[:incr \"a\" \"x\"]]}\n", REP_FMT_EDN, 1,
	 57, "integer increment"},
	{"{:process 0, :type :invoke, :f :get, :key \"1\", :value @}\n", REP_FMT_EDN, 1, 55,
	 "expected an EDN value"},
	{"INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\0\n", REP_FMT_LOG, 2, 1, "NUL"},
	{"{:process 0, :type :invoke, :f :get, :type :ok, :key \"1\", :value nil}\n", REP_FMT_EDN, 1,
	 38, "duplicate key"},
	{"{:process 0, :type :invoke, :f :get, :key \"1\", :time 9}\n{:process 1, :type :invoke, "
	 ":f :get, :key \"1\", :time 8}\n",
	 REP_FMT_EDN, 2, 1, "goes back"},
	{"INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n", REP_FMT_LOG, 1, 1,
	 "at least one client operation"},
};

START_TEST(bad_input_names_line_column_and_expectation)
{
	const struct bad *b = &bads[_i];
	struct rep_history h;
	rep_history_init(&h);
	/* a history already there stays as it was */
	struct rep_error err;
	ck_assert_int_eq(import("INFO  jepsen.util - 9\t:invoke\t:write\t1\n", REP_FMT_LOG, &h,
				&err),
			 0);
	ck_assert_uint_eq(h.n, 1);
	size_t len = strlen(b->text);
	if (strstr(b->msg, "NUL") != NULL)
		len = strlen(b->text) + 2;
	memset(&err, 0, sizeof err);
	int rc = rep_import_buffer(b->text, len, b->fmt, "t.log", &h, &err);
	ck_assert_int_eq(rc, REP_EPARSE);
	ck_assert_str_eq(err.file, "t.log");
	ck_assert_msg(err.line == b->line && err.column == b->column,
		      "case %d: at %u:%u, expected %u:%u (%s)", _i, err.line, err.column, b->line,
		      b->column, err.msg);
	ck_assert_msg(strstr(err.msg, b->msg) != NULL, "case %d: message '%s' lacks '%s'", _i,
		      err.msg, b->msg);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_int_eq(h.ops[0].process, 9);
	rep_history_free(&h);
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	ck_assert_int_eq(rep_import_file("/nonexistent/x.log", REP_FMT_AUTO, &h, &err), REP_EIO);
	ck_assert_str_eq(err.file, "/nonexistent/x.log");
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	ck_assert_uint_eq(h.n, 0);
}
END_TEST

/* The cell model's transactions through EDN: import, check, export,
 * import again. A stale read after a committed increment is caught. */
START_TEST(txn_edn_round_trip_and_check)
{
	const char *ok = "{:process 0, :type :invoke, :f :txn, :cell \"c1\", :value [[:incr \"n\" 5] [:r \"n\" nil]], :time 10}\n"
			 "{:process 0, :type :ok, :f :txn, :cell \"c1\", :value [[:incr \"n\" 5] [:r \"n\" nil]], :committed true, :time 20}\n"
			 "{:process 1, :type :invoke, :f :txn, :cell \"c1\", :conds [[:>= \"n\" 5]], :value [[:w \"m\" \"hi\"]], :time 30}\n"
			 "{:process 1, :type :ok, :f :txn, :cell \"c1\", :value [[:w \"m\" \"hi\"]], :committed true, :time 40}\n"
			 "{:process 2, :type :invoke, :f :txn, :cell \"c1\", :conds [[:absent \"m\"]], :value [[:d \"n\"]], :time 50}\n"
			 "{:process 2, :type :ok, :f :txn, :cell \"c1\", :value [[:d \"n\"]], :committed false, :time 60}\n"
			 "{:process 3, :type :invoke, :f :txn, :cell \"c1\", :value [[:r \"m\" nil] [:r \"n\" nil]], :time 70}\n"
			 "{:process 3, :type :ok, :f :txn, :cell \"c1\", :value [[:r \"m\" \"hi\"] [:r \"n\" 5]], :time 80}\n"
			 "{:process :nemesis, :type :info, :f :start, :value nil}\n";
	struct rep_history h, h2;
	rep_history_init(&h);
	rep_history_init(&h2);
	struct rep_error err;
	int rc = import(ok, REP_FMT_AUTO, &h, &err);
	ck_assert_msg(rc == 0, "%u:%u: %s", err.line, err.column, err.msg);
	ck_assert_uint_eq(h.n, 4);
	ck_assert_int_eq(h.ops[0].invoke_ns, 10);
	ck_assert_int_eq(h.ops[0].complete_ns, 20);
	ck_assert(h.ops[2].txn->committed == false);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(r.verdict, REP_LINEARIZABLE);
	rep_check_result_free(&r);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ck_assert_int_eq(rep_export_edn(&h, m), 0);
	fclose(m);
	rc = rep_import_buffer(buf, len, REP_FMT_EDN, "export", &h2, &err);
	ck_assert_msg(rc == 0, "%u:%u: %s\n%s", err.line, err.column, err.msg, buf);
	ck_assert_uint_eq(h2.n, 4);
	ck_assert_uint_eq(h2.ops[1].txn->nconds, 1);
	ck_assert_int_eq(h2.ops[1].txn->conds[0].kind, REP_COND_INT_GE);
	free(buf);
	rep_history_free(&h2);
	/* now make the last read stale: n read as 0 after the increment */
	const char *bad = "{:process 0, :type :invoke, :f :txn, :cell \"c1\", :value [[:incr \"n\" 5]], :time 10}\n"
			  "{:process 0, :type :ok, :f :txn, :cell \"c1\", :value [[:incr \"n\" 5]], :time 20}\n"
			  "{:process 3, :type :invoke, :f :txn, :cell \"c1\", :value [[:r \"n\" nil]], :time 70}\n"
			  "{:process 3, :type :ok, :f :txn, :cell \"c1\", :value [[:r \"n\" 0]], :time 80}\n";
	rc = import(bad, REP_FMT_AUTO, &h, &err);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(r.verdict, REP_NOT_LINEARIZABLE);
	ck_assert_ptr_nonnull(r.explanation);
	ck_assert_uint_eq(r.explanation->failing_op, 1);
	/* the stale read alone fails from every state the search met */
	ck_assert_uint_ge(r.explanation->nwindow, 1);
	ck_assert_uint_eq(r.explanation->window[r.explanation->nwindow - 1], 1);
	ck_assert_str_eq(r.explanation->states[0], "{\"n\" 5}");
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

/* jepsen.independent histories: [key value] tuples split by key. */
START_TEST(independent_tuples)
{
	const char *t = "{:type :invoke, :f :write, :value [1 3], :process 0, :time 1, :index 0}\n"
			"{:type :ok, :f :write, :value [1 3], :process 0, :time 2, :index 1}\n"
			"{:type :invoke, :f :cas, :value [2 [nil 4]], :process 1, :time 3}\n"
			"{:type :info, :f :cas, :value [2 :timed-out], :process 1, :time 4}\n"
			"{:type :invoke, :f :read, :value [1 nil], :process 2, :time 5}\n"
			"{:type :ok, :f :read, :value [1 3], :process 2, :time 6}\n"
			"{:type :invoke, :f :read, :value [2 nil], :process 3, :time 7}\n"
			"{:type :ok, :f :read, :value [2 3], :process 3, :time 8}\n";
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	int rc = import(t, REP_FMT_EDN, &h, &err);
	ck_assert_msg(rc == 0, "%u:%u: %s", err.line, err.column, err.msg);
	ck_assert_uint_eq(h.n, 4);
	ck_assert_str_eq((const char *)h.ops[1].key.bytes, "2");
	ck_assert_int_eq(h.ops[1].arg.kind, REP_V_NIL);
	ck_assert_str_eq((const char *)h.ops[1].arg2.bytes, "4");
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	/* key 2 never held 3 */
	ck_assert_int_eq(r.verdict, REP_NOT_LINEARIZABLE);
	ck_assert_uint_eq(r.nparts, 2);
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

/* Big integers in increments (beyond 64 bits) are exact. */
START_TEST(bigint_increments)
{
	const char *t = "{:process 0, :type :invoke, :f :txn, :value [[:incr \"n\" 18446744073709551615]], :time 1}\n"
			"{:process 0, :type :ok, :f :txn, :value [[:incr \"n\" 18446744073709551615]], :time 2}\n"
			"{:process 0, :type :invoke, :f :txn, :value [[:incr \"n\" 2] [:r \"n\" nil]], :time 3}\n"
			"{:process 0, :type :ok, :f :txn, :value [[:incr \"n\" 2] [:r \"n\" 18446744073709551615]], :time 4}\n"
			"{:process 0, :type :invoke, :f :txn, :conds [[:== \"n\" 18446744073709551617]], :value [[:r \"n\" nil]], :time 5}\n"
			"{:process 0, :type :ok, :f :txn, :value [[:r \"n\" 18446744073709551617]], :time 6}\n";
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	ck_assert_int_eq(import(t, REP_FMT_EDN, &h, &err), 0);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(r.verdict, REP_LINEARIZABLE);
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

/* An op its model cannot check gives an error, never a verdict. */
START_TEST(unknown_op_for_model_is_an_error)
{
	struct rep_history h;
	rep_history_init(&h);
	struct rep_txn txn = {0};
	struct rep_txop op1 = {.kind = REP_TX_INCR, .key = rep_value_str(NULL, "k"),
			       .value = rep_value_str(NULL, "not a number")};
	txn.ops = &op1;
	txn.nops = 1;
	struct rep_op op = {.fn = REP_FN_TXN, .outcome = REP_OUT_INFO, .invoke_ns = 1,
			    .complete_ns = 2, .txn = &txn};
	ck_assert_int_eq(rep_history_add(&h, &op, NULL), 0);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), REP_EMODEL);
	ck_assert_int_eq(r.verdict, REP_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(r.error, "cell model"));
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

START_TEST(values_are_canonical)
{
	struct rep_value a, b;
	ck_assert_int_eq(rep_value_int_text(NULL, "+007", 4, &a), 0);
	ck_assert_uint_eq(a.len, 1);
	ck_assert_int_eq(a.bytes[0], '7');
	ck_assert_int_eq(rep_value_int_text(NULL, "-0", 2, &b), 0);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_int_eq(rep_value_int_text(NULL, "1a", 2, &b), REP_EPARSE);
	char buf[16];
	struct rep_value s = rep_value_str(NULL, "a\"b\n");
	ck_assert_str_eq(rep_value_format(&s, buf, sizeof buf), "\"a\\\"b\\n\"");
	struct rep_value longv = rep_value_str(NULL, "0123456789012345678901234567890");
	ck_assert_str_eq(rep_value_format(&longv, buf, sizeof buf), "\"01234567890...");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("import");
	tcase_add_test(tc, log_lines_pair_into_ops);
	tcase_add_loop_test(tc, bad_input_names_line_column_and_expectation, 0,
			    (int)(sizeof bads / sizeof bads[0]));
	tcase_add_test(tc, missing_file_is_an_io_error);
	tcase_add_test(tc, txn_edn_round_trip_and_check);
	tcase_add_test(tc, bigint_increments);
	tcase_add_test(tc, independent_tuples);
	tcase_add_test(tc, unknown_op_for_model_is_an_error);
	tcase_add_test(tc, values_are_canonical);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
