/* `physalia-chaos nightly` and `physalia-chaos shrink`.
 *
 * nightly: seeded campaigns one after another (each a child
 * `physalia-chaos run --seed S --out DIR/seed-S`, so one crashing run never
 * takes the night down) until the time budget would be exceeded; a row per
 * run and per night in the summary database (kept across nights: the trend);
 * every failing seed's campaign kept as DIR/failing/seed-S.yaml, and shrunk
 * when budget remains.
 *
 * shrink: remove faults one at a time, then halve the duration, keeping each
 * change while the run still fails (exit 1). A run on real processes and a
 * real network is not deterministic: "still fails" means it failed once
 * more; the result is the smallest campaign seen failing. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

static const char summary_schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
	"INSERT OR IGNORE INTO meta VALUES ('schema', '1');"
	"CREATE TABLE IF NOT EXISTS nights (id INTEGER PRIMARY KEY, start_unix_ns INTEGER,"
	" end_unix_ns INTEGER, version TEXT, budget_s REAL, first_seed INTEGER, runs INTEGER,"
	" violations INTEGER, invalid INTEGER, folder TEXT);"
	"CREATE TABLE IF NOT EXISTS runs (night INTEGER NOT NULL, seed INTEGER NOT NULL,"
	" exit INTEGER, verdict TEXT, seconds REAL, run_db TEXT, campaign TEXT,"
	" ops_ok INTEGER, ops_fail INTEGER, ops_info INTEGER, latency_p50_ms REAL,"
	" latency_p99_ms REAL, faults TEXT, shrunk TEXT);"
	"CREATE TABLE IF NOT EXISTS availability (night INTEGER, seed INTEGER, nemesis TEXT,"
	" ops INTEGER, ok INTEGER);"
	"CREATE VIEW IF NOT EXISTS trend AS SELECT n.id AS night, n.start_unix_ns, n.runs,"
	" n.violations, n.invalid, (SELECT avg(latency_p99_ms) FROM runs r WHERE r.night = n.id)"
	" AS latency_p99_ms, (SELECT 1.0 * sum(ok) / max(sum(ops), 1) FROM availability a"
	" WHERE a.night = n.id AND a.nemesis != 'none') AS availability_under_faults"
	" FROM nights n ORDER BY n.id;";

static int64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void self_exe(char *buf, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Runs `physalia-chaos run CAMPAIGN --out DIR --quiet` as a child, its output
 * appended to DIR.log; returns its exit code (or 2). */
static const char *planted_bug; /* shrink --planted: passed to every run */

static int run_child(const char *campaign, const char *dir, double duration)
{
	char exe[PATH_MAX], log[PATH_MAX + 8], dur[32];
	self_exe(exe, sizeof exe);
	snprintf(log, sizeof log, "%s.log", dir);
	snprintf(dur, sizeof dur, "%g", duration);
	fflush(stdout); /* the child must not write our buffered lines again */
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);
		if (f == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(2);
		const char *argv[12];
		size_t n = 0;
		argv[n++] = exe;
		argv[n++] = "run";
		argv[n++] = campaign;
		argv[n++] = "--out";
		argv[n++] = dir;
		argv[n++] = "--quiet";
		if (duration > 0) {
			argv[n++] = "--duration";
			argv[n++] = dur;
		}
		if (planted_bug != NULL) {
			argv[n++] = "--planted";
			argv[n++] = planted_bug;
		}
		argv[n] = NULL;
		execv(exe, (char *const *)argv);
		_exit(2);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

static int write_campaign(const struct chaos_campaign *c, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return CHAOS_ESYS;
	int rc = chaos_campaign_write(c, f);
	if (fclose(f) != 0)
		rc = CHAOS_ESYS;
	return rc;
}

static struct chaos_campaign *copy_campaign(const struct chaos_campaign *c)
{
	struct chaos_campaign *d = malloc(sizeof *d);
	if (d == NULL)
		return NULL;
	*d = *c;
	d->faults = malloc((c->nfaults ? c->nfaults : 1) * sizeof *d->faults);
	if (d->faults == NULL) {
		free(d);
		return NULL;
	}
	memcpy(d->faults, c->faults, c->nfaults * sizeof *d->faults);
	return d;
}

/* Shrinks failing campaign c (modified in place); attempts go to
 * dir/shrink-N. Stops when deadline (monotonic seconds) passes. Returns the
 * number of runs made. */
static int shrink(struct chaos_campaign *c, const char *dir, double deadline, FILE *log)
{
	int attempts = 0;
	char path[PATH_MAX], out[PATH_MAX];
	for (size_t i = 0; i < c->nfaults && mono_s() < deadline;) {
		struct chaos_campaign *t = copy_campaign(c);
		if (t == NULL)
			break;
		memmove(&t->faults[i], &t->faults[i + 1], (t->nfaults - i - 1) * sizeof *t->faults);
		t->nfaults--;
		snprintf(path, sizeof path, "%s/shrink-%d.yaml", dir, attempts);
		snprintf(out, sizeof out, "%s/shrink-%d", dir, attempts);
		attempts++;
		int code = write_campaign(t, path) == 0 ? run_child(path, out, 0) : 2;
		fprintf(log, "shrink: without fault %zu (%s): exit %d\n", i + 1,
			chaos_nemesis_name(c->faults[i].nemesis), code);
		if (code == 1) {
			free(c->faults);
			*c = *t;
			free(t);
		} else {
			chaos_campaign_free(t);
			i++;
		}
	}
	while (c->duration_s >= 20 && mono_s() < deadline) {
		struct chaos_campaign *t = copy_campaign(c);
		if (t == NULL)
			break;
		chaos_campaign_scale(t, c->duration_s / 2);
		snprintf(path, sizeof path, "%s/shrink-%d.yaml", dir, attempts);
		snprintf(out, sizeof out, "%s/shrink-%d", dir, attempts);
		attempts++;
		int code = write_campaign(t, path) == 0 ? run_child(path, out, 0) : 2;
		fprintf(log, "shrink: duration %g s: exit %d\n", t->duration_s, code);
		if (code != 1) {
			chaos_campaign_free(t);
			break;
		}
		free(c->faults);
		*c = *t;
		free(t);
	}
	return attempts;
}

/* Reads a run database's summary: ops per outcome, latency percentiles of
 * ok ops, the verdict, and availability per nemesis into the summary db. */
static void summarize(sqlite3 *sum, int64_t night, uint64_t seed, const char *rundb,
		      int64_t *ok, int64_t *fail, int64_t *info, double *p50, double *p99,
		      char *verdict, size_t vcap, char *faults, size_t fcap)
{
	*ok = *fail = *info = 0;
	*p50 = *p99 = 0;
	snprintf(verdict, vcap, "none");
	faults[0] = '\0';
	sqlite3 *db;
	if (sqlite3_open_v2(rundb, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return;
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT outcome, count(*) FROM ops GROUP BY outcome", -1, &s,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *o = (const char *)sqlite3_column_text(s, 0);
			int64_t n = sqlite3_column_int64(s, 1);
			if (o && strcmp(o, "ok") == 0)
				*ok = n;
			else if (o && strcmp(o, "fail") == 0)
				*fail = n;
			else if (o)
				*info += n;
		}
		sqlite3_finalize(s);
	}
	/* Percentiles by rank over ok ops' latency. */
	const char *pq = "SELECT (complete_ns - invoke_ns) / 1e6 FROM ops WHERE outcome = 'ok'"
			 " ORDER BY 1 LIMIT 1 OFFSET ?";
	for (int k = 0; k < 2 && *ok > 0; k++) {
		if (sqlite3_prepare_v2(db, pq, -1, &s, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_int64(s, 1, (*ok - 1) * (k == 0 ? 50 : 99) / 100);
		if (sqlite3_step(s) == SQLITE_ROW)
			*(k == 0 ? p50 : p99) = sqlite3_column_double(s, 0);
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT verdict FROM run", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(verdict, vcap, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	/* Availability per nemesis: ops invoked inside its windows, and how
	 * many of them completed ok; "none" = outside every fault. */
	const char *aq =
		"SELECT f.nemesis, count(o.id), sum(o.outcome = 'ok') FROM faults f JOIN ops o"
		" ON o.invoke_ns >= f.start_ns AND o.invoke_ns < f.end_ns GROUP BY f.nemesis"
		" UNION ALL SELECT 'none', count(*), sum(outcome = 'ok') FROM ops o WHERE NOT EXISTS"
		" (SELECT 1 FROM faults f WHERE o.invoke_ns >= f.start_ns AND o.invoke_ns < f.end_ns)";
	if (sqlite3_prepare_v2(db, aq, -1, &s, NULL) == SQLITE_OK) {
		size_t used = 0;
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *nem = (const char *)sqlite3_column_text(s, 0);
			sqlite3_stmt *ins;
			if (sqlite3_prepare_v2(sum, "INSERT INTO availability VALUES (?,?,?,?,?)", -1,
					       &ins, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(ins, 1, night);
				sqlite3_bind_int64(ins, 2, (sqlite3_int64)seed);
				sqlite3_bind_text(ins, 3, nem ? nem : "?", -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(ins, 4, sqlite3_column_int64(s, 1));
				sqlite3_bind_int64(ins, 5, sqlite3_column_int64(s, 2));
				sqlite3_step(ins);
				sqlite3_finalize(ins);
			}
			if (nem && strcmp(nem, "none") != 0 && used + 1 < fcap) {
				int k = snprintf(faults + used, fcap - used, "%s%s", used ? "," : "", nem);
				if (k > 0)
					used += (size_t)k;
			}
		}
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
}

static int mkdir_p(const char *p)
{
	char buf[PATH_MAX];
	size_t n = strlen(p);
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, p, n + 1);
	for (char *q = buf + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		mkdir(buf, 0755);
		*q = '/';
	}
	return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int chaos_nightly_cli(int argc, char **argv)
{
	double budget = 3600, duration = 60;
	uint64_t seed = 0;
	int have_seed = 0;
	const char *out = NULL, *summary_path = NULL;
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = v == NULL;
		if (bad)
			;
		else if (strcmp(k, "--budget") == 0)
			bad = chaos_parse_double(v, &budget) != 0 || budget <= 0;
		else if (strcmp(k, "--duration") == 0)
			bad = chaos_parse_double(v, &duration) != 0 || duration < 5;
		else if (strcmp(k, "--seed") == 0)
			{
			bad = chaos_parse_u64(v, &seed) != 0;
			have_seed = 1;
		}
		else if (strcmp(k, "--out") == 0)
			out = v;
		else if (strcmp(k, "--summary") == 0)
			summary_path = v;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "physalia-chaos nightly: bad argument '%s' (see --help)\n", k);
			return 2;
		}
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char date[32], dir[1024], sumdef[PATH_MAX];
	if (out != NULL && strlen(out) >= sizeof dir) {
		fprintf(stderr, "physalia-chaos nightly: --out is too long\n");
		return 2;
	}
	strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
	if (!have_seed)
		seed = (uint64_t)(tm.tm_year + 1900) * 10000000000ULL +
		       (uint64_t)(tm.tm_mon + 1) * 100000000ULL + (uint64_t)tm.tm_mday * 1000000ULL;
	snprintf(dir, sizeof dir, "%s", out ? out : "nightly");
	snprintf(sumdef, sizeof sumdef, "%s/summary.db", dir);
	char night_dir[1100];
	snprintf(night_dir, sizeof night_dir, "%s/%s", dir, date);
	char failing[1200];
	snprintf(failing, sizeof failing, "%s/failing", night_dir);
	if (mkdir_p(night_dir) != 0 || mkdir_p(failing) != 0) {
		fprintf(stderr, "physalia-chaos nightly: cannot create %s: %s\n", night_dir,
			strerror(errno));
		return 2;
	}
	sqlite3 *sum;
	if (sqlite3_open(summary_path ? summary_path : sumdef, &sum) != SQLITE_OK ||
	    sqlite3_exec(sum, summary_schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "physalia-chaos nightly: summary database: %s\n", sqlite3_errmsg(sum));
		sqlite3_close(sum);
		return 2;
	}
	sqlite3_stmt *s;
	sqlite3_prepare_v2(sum,
			   "INSERT INTO nights (start_unix_ns, version, budget_s, first_seed, runs,"
			   " violations, invalid, folder) VALUES (?, ?, ?, ?, 0, 0, 0, ?)",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, unix_ns());
	sqlite3_bind_text(s, 2, CHAOS_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, budget);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)seed);
	sqlite3_bind_text(s, 5, night_dir, -1, SQLITE_TRANSIENT);
	sqlite3_step(s);
	sqlite3_finalize(s);
	int64_t night = sqlite3_last_insert_rowid(sum);
	printf("nightly %" PRId64 ": budget %g s, campaigns of %g s from seed %" PRIu64 ", in %s\n",
	       night, budget, duration, seed, night_dir);

	double start = mono_s(), deadline = start + budget;
	/* A run takes its duration plus set-up, collection and checking. */
	double per_run = duration * 1.5 + 30;
	int runs = 0, violations = 0, invalid = 0;
	for (uint64_t sd = seed; mono_s() + per_run <= deadline; sd++) {
		struct chaos_campaign *c = NULL;
		if (chaos_campaign_generate(sd, duration, &c) != 0)
			break;
		char cpath[PATH_MAX + 200], rdir[PATH_MAX + 200], rdb[PATH_MAX + 220];
		snprintf(cpath, sizeof cpath, "%s/seed-%" PRIu64 ".yaml", night_dir, sd);
		snprintf(rdir, sizeof rdir, "%s/seed-%" PRIu64, night_dir, sd);
		snprintf(rdb, sizeof rdb, "%s/run.db", rdir);
		write_campaign(c, cpath);
		double t0 = mono_s();
		int code = run_child(cpath, rdir, 0);
		double secs = mono_s() - t0;
		runs++;
		int64_t ok, fail, info;
		double p50, p99;
		char verdict[64], faults[512], shrunk[PATH_MAX + 300] = "";
		summarize(sum, night, sd, rdb, &ok, &fail, &info, &p50, &p99, verdict, sizeof verdict,
			  faults, sizeof faults);
		if (code == 1) {
			violations++;
			/* Keep the failing campaign; shrink it if the budget allows. */
			char keep[PATH_MAX + 300];
			snprintf(keep, sizeof keep, "%s/seed-%" PRIu64 ".yaml", failing, sd);
			write_campaign(c, keep);
			if (mono_s() + 2 * per_run <= deadline) {
				char sdir[PATH_MAX + 300];
				snprintf(sdir, sizeof sdir, "%s/seed-%" PRIu64 "-shrink", failing, sd);
				mkdir_p(sdir);
				FILE *lg = stdout;
				shrink(c, sdir, deadline - per_run, lg);
				snprintf(shrunk, sizeof shrunk, "%s/seed-%" PRIu64 ".min.yaml", failing, sd);
				write_campaign(c, shrunk);
			}
		} else if (code != 0) {
			invalid++;
		}
		printf("seed %" PRIu64 ": exit %d, %s, ok %" PRId64 " fail %" PRId64 " info %" PRId64
		       ", p99 %.1f ms, %.0f s%s%s\n",
		       sd, code, verdict, ok, fail, info, p99, secs, shrunk[0] ? ", shrunk to " : "",
		       shrunk);
		fflush(stdout);
		sqlite3_prepare_v2(sum, "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &s,
				   NULL);
		sqlite3_bind_int64(s, 1, night);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)sd);
		sqlite3_bind_int(s, 3, code);
		sqlite3_bind_text(s, 4, verdict, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(s, 5, secs);
		sqlite3_bind_text(s, 6, rdb, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(s, 7, cpath, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 8, ok);
		sqlite3_bind_int64(s, 9, fail);
		sqlite3_bind_int64(s, 10, info);
		sqlite3_bind_double(s, 11, p50);
		sqlite3_bind_double(s, 12, p99);
		sqlite3_bind_text(s, 13, faults, -1, SQLITE_TRANSIENT);
		if (shrunk[0])
			sqlite3_bind_text(s, 14, shrunk, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 14);
		sqlite3_step(s);
		sqlite3_finalize(s);
		chaos_campaign_free(c);
	}
	sqlite3_prepare_v2(sum,
			   "UPDATE nights SET end_unix_ns = ?, runs = ?, violations = ?, invalid = ?"
			   " WHERE id = ?",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, unix_ns());
	sqlite3_bind_int(s, 2, runs);
	sqlite3_bind_int(s, 3, violations);
	sqlite3_bind_int(s, 4, invalid);
	sqlite3_bind_int64(s, 5, night);
	sqlite3_step(s);
	sqlite3_finalize(s);
	sqlite3_close(sum);
	printf("nightly %" PRId64 ": %d runs, %d violations, %d invalid; summary %s\n", night, runs,
	       violations, invalid, summary_path ? summary_path : sumdef);
	if (runs == 0) {
		fprintf(stderr, "physalia-chaos nightly: the budget allows no campaign of %g s "
				"(each needs about %g s)\n",
			duration, per_run);
		return 2;
	}
	return violations > 0 ? 1 : invalid > 0 ? 2 : 0;
}

int chaos_shrink_cli(int argc, char **argv)
{
	double budget = 1800;
	const char *file = NULL, *out = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc &&
		    chaos_parse_double(argv[i + 1], &budget) == 0 && budget > 0)
			i++;
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--planted") == 0 && i + 1 < argc)
			planted_bug = argv[++i];
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else {
			fprintf(stderr, "physalia-chaos shrink: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "physalia-chaos shrink: give a failing campaign file\n");
		return 2;
	}
	struct chaos_campaign *c;
	char err[512];
	if (chaos_campaign_load(file, &c, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", out ? out : "shrink");
	if (mkdir_p(dir) != 0) {
		fprintf(stderr, "physalia-chaos shrink: cannot create %s\n", dir);
		chaos_campaign_free(c);
		return 2;
	}
	size_t before = c->nfaults;
	double dur = c->duration_s;
	char first[PATH_MAX + 16];
	snprintf(first, sizeof first, "%s/original", dir);
	int code = run_child(file, first, 0);
	printf("shrink: the campaign as given: exit %d\n", code);
	if (code != 1) {
		fprintf(stderr, "physalia-chaos shrink: %s did not fail (exit %d); nothing to shrink\n",
			file, code);
		chaos_campaign_free(c);
		return 2;
	}
	int n = shrink(c, dir, mono_s() + budget, stdout);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/min.yaml", dir);
	write_campaign(c, path);
	printf("shrink: %d runs; %zu -> %zu faults, %g -> %g s; smallest failing campaign: %s\n", n,
	       before, c->nfaults, dur, c->duration_s, path);
	chaos_campaign_free(c);
	return 0;
}
