/* Every history in ../shared/histories gets the verdict EXPECTED.tsv says,
 * through the importer and the checker, with 1 thread and with several; a
 * violation comes with an explanation whose failing op is in its window. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reports.h"

#define DIR PH_SHARED_DIR "/histories"

struct expected {
	char file[128];
	enum rep_verdict verdict;
};

static struct expected cases[64];
static size_t ncases;

static void load_expected(void)
{
	ncases = 0;
	FILE *f = fopen(DIR "/EXPECTED.tsv", "r");
	ck_assert_msg(f != NULL, "cannot open " DIR "/EXPECTED.tsv");
	char line[512];
	while (fgets(line, sizeof line, f) != NULL) {
		char *tab = strchr(line, '\t');
		if (tab == NULL || strncmp(line, "file\t", 5) == 0)
			continue;
		*tab = 0;
		char *v = tab + 1;
		ck_assert(ncases < 64);
		snprintf(cases[ncases].file, sizeof cases[ncases].file, "%.100s", line);
		if (strncmp(v, "linearizable", 12) == 0)
			cases[ncases].verdict = REP_LINEARIZABLE;
		else if (strncmp(v, "NOT-linearizable", 16) == 0)
			cases[ncases].verdict = REP_NOT_LINEARIZABLE;
		else
			ck_abort_msg("EXPECTED.tsv: unknown verdict '%s'", v);
		ncases++;
	}
	fclose(f);
	ck_assert_uint_ge(ncases, 22);
}

static void check_all(unsigned threads)
{
	load_expected();
	for (size_t i = 0; i < ncases; i++) {
		char path[1024];
		snprintf(path, sizeof path, DIR "/%.100s", cases[i].file);
		struct rep_history h;
		rep_history_init(&h);
		struct rep_error err;
		int rc = rep_import_file(path, REP_FMT_AUTO, &h, &err);
		ck_assert_msg(rc == 0, "%s: %s:%u:%u: %s", cases[i].file, err.file, err.line,
			      err.column, err.msg);
		struct rep_budget b = {.seconds = 60, .threads = threads};
		struct rep_check_result r;
		ck_assert_int_eq(rep_check(&h, &b, &r), 0);
		ck_assert_msg(r.verdict == cases[i].verdict, "%s: got %s, expected %s",
			      cases[i].file, rep_verdict_name(r.verdict),
			      rep_verdict_name(cases[i].verdict));
		if (r.verdict == REP_NOT_LINEARIZABLE) {
			const struct rep_explanation *ex = r.explanation;
			ck_assert_msg(ex != NULL, "%s: no explanation", cases[i].file);
			ck_assert_uint_gt(ex->nwindow, 0);
			bool in = false;
			for (size_t k = 0; k < ex->nwindow; k++)
				in |= ex->window[k] == ex->failing_op;
			ck_assert_msg(in, "%s: failing op not in its window", cases[i].file);
			ck_assert_uint_lt(ex->failing_op, h.n);
			ck_assert_uint_gt(ex->nstates, 0);
			/* the window alone (as a history) is not linearizable from
			 * the initial state either, or it is the whole prefix */
		} else {
			ck_assert_ptr_null(r.explanation);
		}
		rep_check_result_free(&r);
		rep_history_free(&h);
	}
}

START_TEST(expected_verdicts_one_thread)
{
	check_all(1);
}
END_TEST

START_TEST(expected_verdicts_threads)
{
	check_all(4);
}
END_TEST

/* The etcd histories are one register: exactly one part. The kv ones split
 * by key into several. */
START_TEST(parts_split_by_key)
{
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	ck_assert_int_eq(rep_import_file(DIR "/kv/c01-ok.txt", REP_FMT_AUTO, &h, &err), 0);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_uint_gt(r.nparts, 5);
	size_t total = 0;
	for (size_t i = 0; i < r.nparts; i++) {
		ck_assert(r.parts[i].model == REP_MODEL_KV);
		total += r.parts[i].nops;
	}
	ck_assert_uint_le(total, h.n);
	rep_check_result_free(&r);
	rep_history_free(&h);
	ck_assert_int_eq(rep_import_file(DIR "/jepsen-etcd/etcd_002.log", REP_FMT_AUTO, &h, &err), 0);
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_uint_eq(r.nparts, 1);
	ck_assert(r.parts[0].model == REP_MODEL_REGISTER);
	rep_check_result_free(&r);
	rep_history_free(&h);
}
END_TEST

/* Exporting to EDN and importing again keeps every verdict. */
START_TEST(edn_round_trip_keeps_verdicts)
{
	load_expected();
	for (size_t i = 0; i < ncases; i++) {
		char path[1024];
		snprintf(path, sizeof path, DIR "/%.100s", cases[i].file);
		struct rep_history h, h2;
		rep_history_init(&h);
		rep_history_init(&h2);
		struct rep_error err;
		ck_assert_int_eq(rep_import_file(path, REP_FMT_AUTO, &h, &err), 0);
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		ck_assert_int_eq(rep_export_edn(&h, m), 0);
		fclose(m);
		int rc = rep_import_buffer(buf, len, REP_FMT_EDN, "export", &h2, &err);
		ck_assert_msg(rc == 0, "%s: re-import: %u:%u: %s", cases[i].file, err.line,
			      err.column, err.msg);
		ck_assert_uint_eq(h.n, h2.n);
		for (size_t k = 0; k < h.n; k++) {
			ck_assert_int_eq(h.ops[k].outcome, h2.ops[k].outcome);
			ck_assert_int_eq(h.ops[k].invoke_ns, h2.ops[k].invoke_ns);
			ck_assert(rep_value_equal(&h.ops[k].result, &h2.ops[k].result));
		}
		struct rep_check_result r;
		ck_assert_int_eq(rep_check(&h2, NULL, &r), 0);
		ck_assert_int_eq(r.verdict, cases[i].verdict);
		rep_check_result_free(&r);
		free(buf);
		rep_history_free(&h);
		rep_history_free(&h2);
	}
}
END_TEST

int main(void)
{
	struct stat st;
	if (stat(DIR "/EXPECTED.tsv", &st) != 0) {
		printf("SKIP: %s is absent (../shared/histories is not beside the project)\n",
		       DIR "/EXPECTED.tsv");
		return 77;
	}
	Suite *s = suite_create("histories");
	TCase *tc = tcase_create("expected");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, expected_verdicts_one_thread);
	tcase_add_test(tc, expected_verdicts_threads);
	tcase_add_test(tc, parts_split_by_key);
	tcase_add_test(tc, edn_round_trip_keeps_verdicts);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
