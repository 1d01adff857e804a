/* The report, checked in a real browser: a run database with clients in two
 * racks, a partition, a crash and one stale read is turned into HTML; headless
 * Chromium loads it (a copy with a probe script appended, the report itself
 * has no script) and the test asserts on what the page shows: the verdict,
 * the number of operations, one SVG rect per operation on the timeline, the
 * fault band, the violation's own timeline, the latency lines, the
 * availability rows, and that nothing was fetched. Also the text and JSON
 * outputs and both command-line entry points. Skips (77) without Chromium. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports.h"

#define CHROMIUM "/usr/bin/chromium"

static char dir[256];
static char dbpath[300];

enum { NOPS = 300 };

/* 300 ops, 1 ms apart, each done before the next starts (so the history is
 * sequential), 3 clients in 2 racks; during the partition (100..200 ms) the
 * client of rack 2 times out; op 250 is a read of a stale value. */
static void make_run(void)
{
	snprintf(dir, sizeof dir, "/tmp/rep_report_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/run.db", dir);
	struct rep_db *db;
	ck_assert_int_eq(rep_db_create(dbpath, &db), 0);
	struct rep_run_info run = {.campaign = "browser-test", .seed = 7, .version = "test",
				   .start_unix_ns = 1700000000000000000LL,
				   .op_timeout_ns = 2000000};
	ck_assert_int_eq(rep_db_run_begin(db, &run), 0);
	const char *clients[] = {"client-1", "client-2", "client-3"};
	const char *racks[] = {"rack-a", "rack-a", "rack-b"};
	for (int c = 0; c < 3; c++) {
		struct rep_host h = {.name = clients[c], .kind = REP_HOST_CLIENT, .rack = racks[c]};
		ck_assert_int_eq(rep_db_add_host(db, &h), 0);
	}
	struct rep_history h;
	rep_history_init(&h);
	int last[2] = {-1, -1}, before[2] = {-1, -1};
	int stale = -1;
	for (int i = 0; i < NOPS; i++) {
		int c = i % 3;
		int k = (i / 3) % 2;
		char key[4] = {'k', (char)('0' + k), 0};
		int64_t t = (int64_t)i * 1000000;
		bool partitioned = c == 2 && t >= 100000000 && t < 200000000;
		struct rep_op op = {.process = c, .client = clients[c], .invoke_ns = t,
				    .complete_ns = t + 200000 + (i % 7) * 50000,
				    .key = rep_value_str(NULL, key), .outcome = REP_OUT_OK};
		if (i % 2 == 0) {
			op.fn = REP_FN_WRITE;
			op.arg = rep_value_int(&h, i);
		} else {
			op.fn = REP_FN_READ;
			op.result = last[k] < 0 ? rep_value_nil() : rep_value_int(&h, last[k]);
		}
		if (partitioned) {
			op.outcome = i % 2 ? REP_OUT_FAIL : REP_OUT_INFO;
			op.process = 1000 + i; /* a new process after each info */
		}
		if (i == 251) { /* the stale read */
			stale = before[k];
			ck_assert_int_ge(stale, 0);
			op.result = rep_value_int(&h, stale);
		}
		if (op.fn == REP_FN_WRITE && op.outcome == REP_OUT_OK) {
			before[k] = last[k];
			last[k] = i;
		}
		ck_assert_int_eq(rep_db_add_op(db, &op), 0);
		ck_assert_int_eq(rep_history_add(&h, &op, NULL), 0);
	}
	struct rep_fault f = {.nemesis = "partition", .targets = "rack-b | rack-a",
			      .params = "{\"kind\":\"racks\"}", .start_ns = 100000000, .end_ns = -1};
	int64_t fid;
	ck_assert_int_eq(rep_db_fault_start(db, &f, &fid), 0);
	ck_assert_int_eq(rep_db_fault_stop(db, fid, 200000000), 0);
	struct rep_node_event ev = {.t_ns = 150000000, .node = "node-3", .kind = REP_NODE_CRASH};
	ck_assert_int_eq(rep_db_add_node_event(db, &ev), 0);
	struct rep_packet p = {.t_ns = 120000000, .bucket_ns = 1000000000, .src = "node-1",
			       .dst = "node-3", .decision = REP_PKT_DROP, .count = 42, .bytes = 4200};
	ck_assert_int_eq(rep_db_add_packet(db, &p), 0);
	struct rep_check_result r;
	ck_assert_int_eq(rep_check(&h, NULL, &r), 0);
	ck_assert_int_eq(r.verdict, REP_NOT_LINEARIZABLE);
	ck_assert_int_eq(rep_db_add_check(db, "linearizability", &h, &r), 0);
	ck_assert_int_eq(rep_db_run_end(db, 1700000001000000000LL, rep_verdict_name(r.verdict)), 0);
	rep_check_result_free(&r);
	ck_assert_int_eq(rep_db_close(db), 0);
	rep_history_free(&h);
}

static void remove_run(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#ifdef REP_BROWSER
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Runs a command with stdout to a file; returns its exit status. */
static int run_to_file(char *const argv[], const char *out)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_WRONLY);
		if (fd < 0 || nul < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(nul, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char probe[] =
	"<script>(function(){"
	"var q=function(s){return document.querySelectorAll(s).length};"
	"var tl=document.getElementById('timeline').getBoundingClientRect();"
	"var pr=document.createElement('pre');pr.id='probe';"
	"pr.textContent=['verdict='+document.getElementById('verdict').textContent,"
	"'ops='+document.getElementById('op-count').textContent,"
	"'op_rects='+q('#timeline rect.op'),"
	"'ok_rects='+q('#timeline rect.op.ok'),"
	"'fault_bands='+q('#timeline rect.fault'),"
	"'node_events='+q('#timeline line.node-event'),"
	"'violation_rects='+q('#violation-timeline rect.op'),"
	"'p99_lines='+q('#latency polyline.p99'),"
	"'avail_rows='+q('#availability tr'),"
	"'timeline_width='+Math.round(tl.width),"
	"'timeline_height='+Math.round(tl.height),"
	"'fetched='+performance.getEntriesByType('resource').length].join('\\n');"
	"document.body.appendChild(pr);})();</script>";

static long probe_value(const char *dom, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "%s=", key);
	const char *pre = strstr(dom, "<pre id=\"probe\">");
	ck_assert_msg(pre != NULL, "the probe did not run");
	const char *p = strstr(pre, k);
	ck_assert_msg(p != NULL, "probe has no %s", key);
	return strtol(p + strlen(k), NULL, 10);
}

START_TEST(report_renders_in_chromium)
{
	make_run();
	char html[320], probed[320], domfile[320], profile[320];
	snprintf(html, sizeof html, "%s/run.html", dir);
	snprintf(probed, sizeof probed, "%s/probed.html", dir);
	snprintf(domfile, sizeof domfile, "%s/dom.txt", dir);
	snprintf(profile, sizeof profile, "%s/profile", dir);
	struct rep_db *db;
	ck_assert_int_eq(rep_db_open(dbpath, true, &db), 0);
	FILE *f = fopen(html, "w");
	struct rep_error err;
	ck_assert_int_eq(rep_report_html(db, f, &err), 0);
	fclose(f);
	rep_db_close(db);
	char *page = slurp(html);
	/* self-contained: no script, no external reference */
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_null(strstr(page, "src="));
	ck_assert_ptr_null(strstr(page, "<link"));
	f = fopen(probed, "w");
	fputs(page, f);
	fputs(probe, f);
	fclose(f);
	free(page);
	char url[400];
	snprintf(url, sizeof url, "file://%s", probed);
	char udd[400];
	snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
	char *argv[] = {"/usr/bin/timeout", "120", CHROMIUM, "--headless", "--no-sandbox",
			"--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", udd,
			"--dump-dom", url, NULL};
	ck_assert_int_eq(run_to_file(argv, domfile), 0);
	char *dom = slurp(domfile);
	ck_assert_msg(strstr(dom, "\nverdict=Verdict: NOT linearizable") != NULL ||
		      strstr(dom, ">verdict=Verdict: NOT linearizable") != NULL, "no verdict in:\n%.2000s", dom);
	ck_assert_int_eq(probe_value(dom, "ops"), NOPS);
	ck_assert_int_eq(probe_value(dom, "op_rects"), NOPS);
	ck_assert_int_gt(probe_value(dom, "ok_rects"), NOPS / 2);
	ck_assert_int_lt(probe_value(dom, "ok_rects"), NOPS);
	ck_assert_int_eq(probe_value(dom, "fault_bands"), 1);
	ck_assert_int_eq(probe_value(dom, "node_events"), 1);
	ck_assert_int_ge(probe_value(dom, "violation_rects"), 2);
	ck_assert_int_eq(probe_value(dom, "p99_lines"), 1);
	/* header + (3 clients x (partition + no fault)) */
	ck_assert_int_eq(probe_value(dom, "avail_rows"), 1 + 6);
	ck_assert_int_gt(probe_value(dom, "timeline_width"), 500);
	ck_assert_int_gt(probe_value(dom, "timeline_height"), 40);
	ck_assert_int_eq(probe_value(dom, "fetched"), 0);
	free(dom);
	remove_run();
}
END_TEST

#else
START_TEST(text_json_and_commands)
{
	make_run();
	struct rep_db *db;
	ck_assert_int_eq(rep_db_open(dbpath, true, &db), 0);
	char *txt = NULL, *json = NULL;
	size_t len;
	FILE *m = open_memstream(&txt, &len);
	struct rep_error err;
	ck_assert_int_eq(rep_report_text(db, m, &err), 0);
	fclose(m);
	m = open_memstream(&json, &len);
	ck_assert_int_eq(rep_report_json(db, m, &err), 0);
	fclose(m);
	rep_db_close(db);
	/* verdict first */
	ck_assert_msg(strncmp(txt, "verdict: NOT linearizable\n", 26) == 0, "%s", txt);
	ck_assert_ptr_nonnull(strstr(txt, "operations: 300"));
	ck_assert_ptr_nonnull(strstr(txt, "client-3         partition"));
	ck_assert_ptr_nonnull(strstr(txt, "rack rack-b"));
	ck_assert_ptr_nonnull(strstr(txt, "violation: op 251"));
	ck_assert_ptr_nonnull(strstr(json, "\"verdict\":\"NOT linearizable\""));
	ck_assert_ptr_nonnull(strstr(json, "\"total\":300"));
	ck_assert_ptr_nonnull(strstr(json, "\"rack\":\"rack-b\",\"window\":\"partition\""));
	/* client-3 during the partition: nothing ok */
	ck_assert_ptr_nonnull(strstr(json, "\"client\":\"client-3\",\"rack\":\"rack-b\",\"window\":"
					   "\"partition\",\"fault_id\":1,\"ops\":33,\"ok_in_time\":0"));
	free(txt);
	free(json);
	/* report command: HTML next to the database, summary on stdout */
	char outfile[320];
	snprintf(outfile, sizeof outfile, "%s/cli.html", dir);
	char *argv[] = {"report", dbpath, "-o", outfile, NULL};
	fflush(stdout);
	int saved = dup(1);
	int nul = open("/dev/null", O_WRONLY);
	dup2(nul, 1);
	int rc = rep_cli_report(4, argv);
	char *argv2[] = {"report", dbpath, "--json", NULL};
	int rc2 = rep_cli_report(3, argv2);
	char *argv3[] = {"report", "/nonexistent.db", NULL};
	int rc3 = rep_cli_report(2, argv3);
	fflush(stdout);
	dup2(saved, 1);
	close(nul);
	close(saved);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(rc2, 0);
	ck_assert_int_eq(rc3, 2);
	struct stat st;
	ck_assert_int_eq(stat(outfile, &st), 0);
	ck_assert_int_gt(st.st_size, 10000);
	char defhtml[320];
	snprintf(defhtml, sizeof defhtml, "%s/run.html", dir);
	ck_assert_int_eq(stat(defhtml, &st), 0);
	remove_run();
}
END_TEST

START_TEST(check_command_exit_codes)
{
	char d[] = "/tmp/rep_checkcmd_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(d));
	char good[300], bad[300], broken[300];
	snprintf(good, sizeof good, "%s/good.log", d);
	snprintf(bad, sizeof bad, "%s/bad.edn", d);
	snprintf(broken, sizeof broken, "%s/broken.log", d);
	FILE *f = fopen(good, "w");
	fputs("INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n"
	      "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t1\n",
	      f);
	fclose(f);
	f = fopen(bad, "w");
	fputs("{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, "
	      ":value 1}\n{:process 1, :type :invoke, :f :read, :value nil}\n{:process 1, :type "
	      ":ok, :f :read, :value 2}\n",
	      f);
	fclose(f);
	f = fopen(broken, "w");
	fputs("INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\n", f);
	fclose(f);
	fflush(stdout);
	int saved = dup(1), saved2 = dup(2);
	int nul = open("/dev/null", O_WRONLY);
	dup2(nul, 1);
	dup2(nul, 2);
	char *a1[] = {"check", good, NULL};
	char *a2[] = {"check", bad, "--json", NULL};
	char *a3[] = {"check", broken, NULL};
	char *a4[] = {"check", NULL};
	int r1 = rep_cli_check(2, a1), r2 = rep_cli_check(3, a2), r3 = rep_cli_check(2, a3),
	    r4 = rep_cli_check(1, a4);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved2, 2);
	close(nul);
	close(saved);
	close(saved2);
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, 1);
	ck_assert_int_eq(r3, 2);
	ck_assert_int_eq(r4, 2);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Built twice: rep_report_browser (REP_BROWSER: the Chromium test, skipped
 * with 77 when Chromium is absent) and rep_report (the rest). */
#endif

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_set_timeout(tc, 200);
#ifdef REP_BROWSER
	if (access(CHROMIUM, X_OK) != 0) {
		printf("SKIP: %s is not installed\n", CHROMIUM);
		return 77;
	}
	tcase_add_test(tc, report_renders_in_chromium);
#else
	tcase_add_test(tc, text_json_and_commands);
	tcase_add_test(tc, check_command_exit_codes);
#endif
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
