/* bench_checker: our linearizability checker against Porcupine (Go, MIT) on
 * the same Jepsen histories, side by side in one run, per history and in
 * total, with the ratio.
 *
 * usage: bench_checker [--porcupine DIR] [--min-seconds S] [FILE...]
 *   FILE...      histories (default: every file of ../shared/histories/EXPECTED.tsv)
 *   --porcupine  a Go module holding Porcupine's checker and a main that
 *                prints "FILE<TAB>Ok|Illegal|Unknown<TAB>SECONDS<TAB>REPS" per
 *                file (docs/checker.md says how to set one up; Porcupine's
 *                source is not part of this project). DIR/porcupine-bench is
 *                used if present, else built with `go build` offline.
 * Each checker runs each history repeatedly for at least --min-seconds
 * (default 0.3) and 3 times; the figure is the mean time of one check, the
 * history already parsed (as Porcupine's own benchmarks do). Our figure is
 * without the explanation of a violation (Porcupine stops at the first
 * failing partition too); the time with the explanation is shown beside it. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reports.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct row {
	char path[1024];
	const char *name;
	enum rep_verdict ours;
	double ours_s, ours_explain_s;
	int reps;
	char theirs[16];
	double theirs_s;
	bool has_theirs;
};

static int time_ours(struct row *r, double min_s)
{
	struct rep_history h;
	rep_history_init(&h);
	struct rep_error err;
	int rc = rep_import_file(r->path, REP_FMT_AUTO, &h, &err);
	if (rc != 0) {
		fprintf(stderr, "%s:%u:%u: %s\n", err.file, err.line, err.column, err.msg);
		return rc;
	}
	struct rep_budget b = {.seconds = 120, .no_explain = true};
	struct rep_check_result res;
	/* warm up once */
	if ((rc = rep_check(&h, &b, &res)) != 0)
		return rc;
	r->ours = res.verdict;
	rep_check_result_free(&res);
	int reps = 0;
	double t0 = now();
	do {
		if ((rc = rep_check(&h, &b, &res)) != 0)
			return rc;
		rep_check_result_free(&res);
		reps++;
	} while (reps < 3 || now() - t0 < min_s);
	r->ours_s = (now() - t0) / reps;
	r->reps = reps;
	b.no_explain = false;
	int reps2 = 0;
	t0 = now();
	do {
		if ((rc = rep_check(&h, &b, &res)) != 0)
			return rc;
		rep_check_result_free(&res);
		reps2++;
	} while (reps2 < 3 || now() - t0 < min_s / 3);
	r->ours_explain_s = (now() - t0) / reps2;
	rep_history_free(&h);
	return 0;
}

static size_t default_files(struct row *rows, size_t max)
{
	const char *dir = PH_SHARED_DIR "/histories";
	char path[1024];
	snprintf(path, sizeof path, "%s/EXPECTED.tsv", dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof line, f) != NULL && n < max) {
		char *tab = strchr(line, '\t');
		if (tab == NULL || strncmp(line, "file\t", 5) == 0)
			continue;
		*tab = 0;
		snprintf(rows[n].path, sizeof rows[n].path, "%s/%.400s", dir, line);
		n++;
	}
	fclose(f);
	return n;
}

/* Runs Porcupine's bench over all files; fills the rows it reports. */
static int run_porcupine(const char *dir, struct row *rows, size_t n, double min_s)
{
	char bin[1200];
	snprintf(bin, sizeof bin, "%s/porcupine-bench", dir);
	struct stat st;
	if (stat(bin, &st) != 0) {
		char gomod[1200];
		snprintf(gomod, sizeof gomod, "%s/go.mod", dir);
		if (stat(gomod, &st) != 0)
			return -1;
		char cmd[4096];
		snprintf(cmd, sizeof cmd,
			 "cd '%s' && GOFLAGS=-mod=mod GOPROXY=off GOCACHE='%s/.gocache' go build -o "
			 "porcupine-bench . >&2",
			 dir, dir);
		fprintf(stderr, "building Porcupine's bench: %s\n", cmd);
		if (system(cmd) != 0)
			return -2;
	}
	(void)min_s;
	size_t len = strlen(bin) + 16;
	for (size_t i = 0; i < n; i++)
		len += strlen(rows[i].path) + 3;
	char *cmd = malloc(len);
	if (cmd == NULL)
		return -3;
	snprintf(cmd, len, "'%s'", bin);
	for (size_t i = 0; i < n; i++) {
		strcat(cmd, " '");
		strcat(cmd, rows[i].path);
		strcat(cmd, "'");
	}
	FILE *p = popen(cmd, "r");
	free(cmd);
	if (p == NULL)
		return -3;
	char line[2048];
	while (fgets(line, sizeof line, p) != NULL) {
		char *f1 = strtok(line, "\t\n");
		char *f2 = strtok(NULL, "\t\n");
		char *f3 = strtok(NULL, "\t\n");
		if (f1 == NULL || f2 == NULL || f3 == NULL)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(rows[i].path, f1) == 0) {
				snprintf(rows[i].theirs, sizeof rows[i].theirs, "%s", f2);
				rows[i].theirs_s = strtod(f3, NULL);
				rows[i].has_theirs = true;
			}
		}
	}
	return pclose(p) == 0 ? 0 : -4;
}

static const char *short_verdict(enum rep_verdict v)
{
	return v == REP_LINEARIZABLE ? "Ok" : v == REP_NOT_LINEARIZABLE ? "Illegal" : "Unknown";
}

int main(int argc, char **argv)
{
	static struct row rows[256];
	size_t n = 0;
	const char *pdir = NULL;
	double min_s = 0.3;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--porcupine") == 0 && i + 1 < argc) {
			pdir = argv[++i];
		} else if (strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) {
			min_s = strtod(argv[++i], NULL);
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: bench_checker [--porcupine DIR] [--min-seconds S] "
					"[FILE...]\n");
			return 2;
		} else if (n < 256) {
			snprintf(rows[n++].path, sizeof rows[0].path, "%s", argv[i]);
		}
	}
	if (n == 0)
		n = default_files(rows, 256);
	if (n == 0) {
		fprintf(stderr, "bench_checker: no histories given and %s/histories/EXPECTED.tsv "
				"is absent\n",
			PH_SHARED_DIR);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = strrchr(rows[i].path, '/');
		rows[i].name = s ? s + 1 : rows[i].path;
		if (time_ours(&rows[i], min_s) != 0)
			return 1;
	}
	bool theirs = false;
	if (pdir == NULL) {
		printf("Porcupine: not given (--porcupine DIR); printing our figures only.\n");
	} else {
		int rc = run_porcupine(pdir, rows, n, min_s);
		if (rc == -1)
			printf("Porcupine: %s has no porcupine-bench and no go.mod: absent; printing "
			       "our figures only.\n",
			       pdir);
		else if (rc != 0)
			printf("Porcupine: running or building it in %s failed (%d); printing our "
			       "figures only.\n",
			       pdir, rc);
		else
			theirs = true;
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("checker bench: %zu histories, %ld CPUs, mean time of one check (history parsed)\n",
	       n, cpus);
	printf("%-16s %-8s %12s %12s", "history", "ours", "ours us", "+explain us");
	if (theirs)
		printf(" %-8s %14s %9s", "porcup.", "porcupine us", "speedup");
	printf("\n");
	double tot_ours = 0, tot_theirs = 0, worst = 1e300;
	const char *worst_name = "";
	int disagree = 0;
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		printf("%-16s %-8s %12.1f %12.1f", r->name, short_verdict(r->ours), r->ours_s * 1e6,
		       r->ours_explain_s * 1e6);
		tot_ours += r->ours_s;
		if (theirs && r->has_theirs) {
			double ratio = r->theirs_s / r->ours_s;
			printf(" %-8s %14.1f %8.1fx", r->theirs, r->theirs_s * 1e6, ratio);
			tot_theirs += r->theirs_s;
			if (ratio < worst) {
				worst = ratio;
				worst_name = r->name;
			}
			if (strcmp(r->theirs, short_verdict(r->ours)) != 0) {
				printf("  VERDICTS DIFFER");
				disagree++;
			}
		}
		printf("\n");
	}
	printf("%-16s %-8s %12.1f", "total", "", tot_ours * 1e6);
	if (theirs)
		printf(" %12s %-8s %14.1f %8.1fx", "", "", tot_theirs * 1e6, tot_theirs / tot_ours);
	printf("\n");
	if (theirs) {
		printf("overall: ours is %.1fx faster than Porcupine; slowest ratio %.1fx (%s); "
		       "%s; verdicts %s\n",
		       tot_theirs / tot_ours, worst, worst_name,
		       worst >= 1.0 ? "no history slower than Porcupine"
				    : "SOME HISTORY IS SLOWER THAN PORCUPINE",
		       disagree ? "DIFFER" : "agree on every history");
	}
	return 0;
}
