/* bench_checker: our linearizability checker against Porcupine (Go, MIT) on
 * the same Jepsen histories, side by side in one run, per history and in
 * total, with the ratio.
 *
 * usage: bench_checker [--porcupine DIR] [--min-seconds S] [FILE...]
 *   FILE...      histories (default: every file of ../shared/histories/EXPECTED.tsv)
 *   --porcupine  a Go module holding Porcupine's checker and a main that
 *                takes "-min S FILE" and prints
 *                "FILE<TAB>Ok|Illegal|Unknown<TAB>MIN_S<TAB>MEAN_S<TAB>REPS"
 *                (docs/checker.md says how to set one up; Porcupine's source is
 *                not part of this project). DIR/porcupine-bench is used if
 *                present, else built with `go build` offline.
 * For each history, our checker and then Porcupine's (right after, so both
 * see the same machine load) check the parsed history repeatedly for at
 * least --min-seconds (default 0.3) and 5 times, each check timed on its
 * own. The figure compared is the fastest check (the one least disturbed by
 * other processes on a shared machine); the mean is printed too. Ours is
 * without the explanation of a violation (Porcupine stops at the first
 * failing partition too); the fastest check with the explanation is shown
 * beside it. */
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
	double ours_s, ours_mean, ours_explain_s;
	char theirs[16];
	double theirs_s, theirs_mean;
	bool has_theirs;
};

/* Times rep_check on the parsed history: fastest and mean of >= 5 checks
 * over >= min_s seconds. */
static int time_check(const struct rep_history *h, bool explain, double min_s, double *best,
		      double *mean)
{
	struct rep_budget b = {.seconds = 120, .no_explain = !explain};
	struct rep_check_result res;
	int reps = 0, rc;
	double t0 = now();
	*best = 1e300;
	do {
		double t = now();
		if ((rc = rep_check(h, &b, &res)) != 0)
			return rc;
		t = now() - t;
		if (t < *best)
			*best = t;
		rep_check_result_free(&res);
		reps++;
	} while (reps < 5 || now() - t0 < min_s);
	*mean = (now() - t0) / reps;
	return 0;
}

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
	if ((rc = rep_check(&h, &b, &res)) != 0) /* warm up, and the verdict */
		return rc;
	r->ours = res.verdict;
	rep_check_result_free(&res);
	double unused;
	if ((rc = time_check(&h, false, min_s, &r->ours_s, &r->ours_mean)) != 0 ||
	    (rc = time_check(&h, true, min_s / 3, &r->ours_explain_s, &unused)) != 0)
		return rc;
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

/* Finds (or builds) Porcupine's bench in dir: 0, -1 absent, -2 build failed. */
static int porcupine_ready(const char *dir, char *bin, size_t size)
{
	snprintf(bin, size, "%s/porcupine-bench", dir);
	struct stat st;
	if (stat(bin, &st) == 0)
		return 0;
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
	return system(cmd) == 0 ? 0 : -2;
}

/* Times Porcupine on one history. */
static int run_porcupine(const char *bin, struct row *r, double min_s)
{
	char cmd[3000];
	snprintf(cmd, sizeof cmd, "'%.1100s' -min %.3f '%.1100s'", bin, min_s, r->path);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return -3;
	char line[2048];
	while (fgets(line, sizeof line, p) != NULL) {
		char *f1 = strtok(line, "\t\n");
		char *f2 = strtok(NULL, "\t\n");
		char *f3 = strtok(NULL, "\t\n");
		char *f4 = strtok(NULL, "\t\n");
		if (f1 == NULL || f2 == NULL || f3 == NULL || f4 == NULL || strcmp(f1, r->path) != 0)
			continue;
		snprintf(r->theirs, sizeof r->theirs, "%s", f2);
		r->theirs_s = strtod(f3, NULL);
		r->theirs_mean = strtod(f4, NULL);
		r->has_theirs = true;
	}
	return pclose(p) == 0 && r->has_theirs ? 0 : -4;
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
	bool theirs = false;
	char bin[1200];
	if (pdir == NULL) {
		printf("Porcupine: not given (--porcupine DIR); printing our figures only.\n");
	} else {
		int rc = porcupine_ready(pdir, bin, sizeof bin);
		if (rc == -1)
			printf("Porcupine: %s has no porcupine-bench and no go.mod: absent; printing "
			       "our figures only.\n",
			       pdir);
		else if (rc != 0)
			printf("Porcupine: building it in %s failed; printing our figures only.\n",
			       pdir);
		else
			theirs = true;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = strrchr(rows[i].path, '/');
		rows[i].name = s ? s + 1 : rows[i].path;
		if (time_ours(&rows[i], min_s) != 0)
			return 1;
		if (theirs && run_porcupine(bin, &rows[i], min_s) != 0) {
			printf("Porcupine: running it on %s failed; printing our figures only.\n",
			       rows[i].path);
			theirs = false;
		}
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	printf("checker bench: %zu histories, %ld CPUs; time of one check of the parsed history:\n"
	       "fastest of >= 5 checks over >= %.2f s (mean in brackets)\n",
	       n, cpus, min_s);
	printf("%-14s %-8s %10s %10s %10s", "history", "ours", "ours us", "(mean)", "+explain");
	if (theirs)
		printf(" %-8s %12s %12s %8s", "porcup.", "porcupine us", "(mean)", "speedup");
	printf("\n");
	double tot_ours = 0, tot_theirs = 0, mean_ours = 0, mean_theirs = 0, worst = 1e300;
	const char *worst_name = "";
	int disagree = 0;
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		printf("%-14s %-8s %10.1f %10.1f %10.1f", r->name, short_verdict(r->ours),
		       r->ours_s * 1e6, r->ours_mean * 1e6, r->ours_explain_s * 1e6);
		tot_ours += r->ours_s;
		mean_ours += r->ours_mean;
		if (theirs && r->has_theirs) {
			double ratio = r->theirs_s / r->ours_s;
			printf(" %-8s %12.1f %12.1f %7.1fx", r->theirs, r->theirs_s * 1e6,
			       r->theirs_mean * 1e6, ratio);
			tot_theirs += r->theirs_s;
			mean_theirs += r->theirs_mean;
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
	printf("%-14s %-8s %10.1f %10.1f %10s", "total", "", tot_ours * 1e6, mean_ours * 1e6, "");
	if (theirs)
		printf(" %-8s %12.1f %12.1f %7.1fx", "", tot_theirs * 1e6, mean_theirs * 1e6,
		       tot_theirs / tot_ours);
	printf("\n");
	if (theirs)
		printf("overall: ours is %.1fx faster than Porcupine (fastest checks; %.1fx on "
		       "means); slowest ratio %.1fx (%s): %s; verdicts %s\n",
		       tot_theirs / tot_ours, mean_theirs / mean_ours, worst, worst_name,
		       worst >= 1.0 ? "no history slower than Porcupine"
				    : "SOME HISTORY IS SLOWER THAN PORCUPINE",
		       disagree ? "DIFFER" : "agree on every history");
	return 0;
}
