/* The proof (label netns): physalia-chaos runs the proof campaign
 * (tests/chaos/data/proof.yaml: a 7-node colony, 24 cells, about a minute,
 * with a majority/minority partition, loss, reordering and a kill) and
 *  - the run is valid and its verdict linearizable (exit 0);
 *  - every nemesis left its mark in the run database: partition drops
 *    counted by netfilter, seeded losses and reorders by the engine, the
 *    killed node's crash and restart;
 *  - a node's pcap decodes with tshark and the Lua dissector into Paxos
 *    messages;
 *  - nothing is left behind (namespaces, processes);
 * and with physalia-node-planted (the engine's planted bugs) the same
 * campaign reports the violation (exit 1) for choose-without-majority
 * (within two runs: see the test). */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHAOS PH_BINARY_DIR "/chaos/physalia-chaos"
#define DATA PH_SOURCE_DIR "/tests/chaos/data"

static char out_root[256];

/* Runs a campaign into dir; returns the exit code, *fabric gets the run id. */
static int run_campaign(const char *dir, const char *planted, char *fabric, size_t cap)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "%s run %s/proof.yaml --rack-model %s/colony7.yaml --out %s --quiet %s%s 2>&1", CHAOS,
		 DATA, DATA, dir, planted ? "--planted " : "", planted ? planted : "");
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	char line[1024];
	fabric[0] = '\0';
	while (fgets(line, sizeof line, p) != NULL) {
		fputs(line, stdout);
		const char *f = strstr(line, "(fabric ");
		if (f != NULL)
			sscanf(f + 8, "%15[A-Za-z0-9]", fabric);
	}
	int st = pclose(p);
	ck_assert_msg(fabric[0] != '\0', "the run did not say which fabric it made");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static sqlite3 *open_db(const char *dir)
{
	char path[512];
	snprintf(path, sizeof path, "%s/run.db", dir);
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	return db;
}

static double q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	double v = -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void qtext(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
	sqlite3_stmt *s;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	buf[0] = '\0';
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* Nothing of the run remains: no namespace of its fabric, no process of
 * ours started from its folder. */
static void nothing_left(const char *fabric, const char *dir)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "ph-%s-", fabric);
	DIR *d = opendir("/run/netns");
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			ck_assert_msg(strncmp(e->d_name, prefix, strlen(prefix)) != 0,
				      "namespace %s left behind", e->d_name);
		closedir(d);
	}
	d = opendir("/proc");
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], cmd[4096];
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(cmd, 1, sizeof cmd - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
		ck_assert_msg(strstr(cmd, dir) == NULL, "process %s left behind: %s", e->d_name, cmd);
	}
	closedir(d);
}

START_TEST(proof_campaign_is_valid_linearizable_and_leaves_marks)
{
	char dir[300], fabric[32];
	snprintf(dir, sizeof dir, "%s/proof", out_root);
	int code = run_campaign(dir, NULL, fabric, sizeof fabric);
	ck_assert_msg(code == 0, "physalia-chaos run exited %d (0 = linearizable and valid)", code);
	sqlite3 *db = open_db(dir);
	char verdict[64];
	qtext(db, "SELECT verdict FROM run", verdict, sizeof verdict);
	ck_assert_str_eq(verdict, "linearizable");
	ck_assert(q(db, "SELECT count(*) FROM ops WHERE outcome = 'ok'") > 100);
	ck_assert(q(db, "SELECT count(*) FROM faults WHERE end_ns > start_ns") == 4);

	/* partition: netfilter counted drops between the two sides, during it */
	ck_assert_msg(q(db, "SELECT sum(p.count) FROM packets p, faults f WHERE f.nemesis = 'majority'"
			    " AND p.decision = 'drop' AND p.bucket_ns > 1000000000"
			    " AND p.t_ns >= f.start_ns") > 0,
		      "the partition dropped nothing");
	/* loss: the engine's seeded drops, within the loss window */
	ck_assert_msg(q(db, "SELECT sum(p.count) FROM packets p, faults f WHERE f.nemesis = 'loss'"
			    " AND p.decision = 'drop' AND p.bucket_ns = 1000000000"
			    " AND p.t_ns >= f.start_ns - 1000000000 AND p.t_ns <= f.end_ns") > 0,
		      "loss dropped nothing");
	/* reorder: packets held back by the engine */
	ck_assert_msg(q(db, "SELECT sum(count) FROM packets WHERE proto = 'reorder'") > 0,
		      "nothing was reordered");
	/* kill: the proposer really died and came back */
	ck_assert(q(db, "SELECT count(*) FROM node_events WHERE kind = 'crash'") >= 1);
	ck_assert(q(db, "SELECT count(*) FROM node_events WHERE kind = 'restart'") >= 1);
	/* the impairment engine kept up */
	ck_assert(q(db, "SELECT value FROM metrics WHERE source = 'impair' AND name = 'queue_dropped'") == 0);

	/* a node's pcap decodes into Paxos messages */
	char pcap[512];
	qtext(db, "SELECT path FROM artifacts WHERE kind = 'pcap' AND path LIKE '%/n1.pcap'", pcap,
	      sizeof pcap);
	ck_assert_msg(pcap[0] != '\0', "no pcap of n1 listed");
	sqlite3_close(db);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "tshark -X lua_script:%s/chaos/wireshark/physalia.lua -r %s -Y physalia.msg.type "
		 "-T fields -e physalia.msg.type 2>/dev/null | tr ',' '\\n' | sort | uniq -c",
		 PH_SOURCE_DIR, pcap);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	char line[256];
	int types = 0, accepts = 0;
	while (fgets(line, sizeof line, p) != NULL) {
		int n, t;
		if (sscanf(line, "%d %d", &n, &t) == 2 && n > 0) {
			types++;
			if (t == 3)
				accepts = n;
		}
	}
	pclose(p);
	printf("pcap %s: %d Paxos message types, %d accepts\n", pcap, types, accepts);
	ck_assert_msg(accepts > 0, "no Paxos accept decoded from %s", pcap);
	ck_assert_int_ge(types, 2);
	nothing_left(fabric, dir);
}
END_TEST

/* Finding a bug is a matter of chance (a leader must be on the minority
 * side and get a write while cut off): the campaign is built so that it
 * almost always happens (measured: 4 of 4 runs; 7 of 8 with a 6 s partition
 * instead of 10 s), and the test allows a
 * second run before calling the bug missed. */
START_TEST(planted_choose_without_majority_is_caught)
{
	int caught = 0;
	for (int attempt = 1; attempt <= 2 && !caught; attempt++) {
		char dir[300], fabric[32];
		snprintf(dir, sizeof dir, "%s/planted-choose-%d", out_root, attempt);
		int code = run_campaign(dir, "choose-without-majority", fabric, sizeof fabric);
		ck_assert_msg(code == 0 || code == 1, "physalia-chaos run exited %d", code);
		sqlite3 *db = open_db(dir);
		char verdict[64];
		qtext(db, "SELECT verdict FROM run", verdict, sizeof verdict);
		sqlite3_close(db);
		nothing_left(fabric, dir);
		if (code == 1) {
			ck_assert_str_eq(verdict, "NOT linearizable");
			caught = attempt;
		} else {
			printf("attempt %d: the planted bug left no violation (%s)\n", attempt, verdict);
		}
	}
	ck_assert_msg(caught, "choose-without-majority was not caught in 2 runs");
	printf("choose-without-majority caught on run %d\n", caught);
}
END_TEST

/* SIGKILL of the controller mid-run: its watchdog takes the fabric down
 * and every process of the run dies with it (PR_SET_PDEATHSIG, namespaces). */
START_TEST(sigkill_of_the_controller_leaves_nothing)
{
	char dir[300];
	snprintf(dir, sizeof dir, "%s/killed", out_root);
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(CHAOS, CHAOS, "run", DATA "/proof.yaml", "--rack-model", DATA "/colony7.yaml",
		      "--out", dir, "--quiet", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	char line[1024], fabric[32] = "";
	int workload = 0;
	/* Bounded by the campaign itself: the colony line comes within seconds. */
	while (!workload && fgets(line, sizeof line, f) != NULL) {
		const char *x = strstr(line, "(fabric ");
		if (x != NULL)
			sscanf(x + 8, "%15[A-Za-z0-9]", fabric);
		if (strncmp(line, "colony:", 7) == 0)
			workload = 1;
	}
	ck_assert_msg(workload && fabric[0], "the run did not reach its workload");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	int st;
	waitpid(pid, &st, 0);
	fclose(f);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "ph-%s-", fabric);
	int left = 1;
	for (int i = 0; i < 300 && left; i++) {
		left = 0;
		DIR *d = opendir("/run/netns");
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL)
			left += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
		if (d != NULL)
			closedir(d);
		if (left)
			usleep(100000);
	}
	nothing_left(fabric, dir);
}
END_TEST

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (geteuid() != 0) {
		printf("skipped: the proof campaign needs root for network namespaces\n");
		return 77;
	}
	if (access(PH_BINARY_DIR "/chaos/physalia-node-planted", X_OK) != 0 ||
	    access(PH_BINARY_DIR "/node/physalia-node", X_OK) != 0) {
		printf("skipped: physalia-node or physalia-node-planted is not built\n");
		return 77;
	}
	snprintf(out_root, sizeof out_root, "/tmp/chaos-proof-%d", (int)getpid());
	if (mkdir(out_root, 0755) != 0) {
		perror(out_root);
		return 1;
	}
	Suite *s = suite_create("proof");
	TCase *tc = tcase_create("proof");
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, proof_campaign_is_valid_linearizable_and_leaves_marks);
	tcase_add_test(tc, planted_choose_without_majority_is_caught);
	tcase_add_test(tc, sigkill_of_the_controller_leaves_nothing);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed == 0) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", out_root);
		if (system(cmd) != 0)
			printf("could not remove %s\n", out_root);
	} else {
		printf("evidence kept in %s\n", out_root);
	}
	return failed == 0 ? 0 : 1;
}
