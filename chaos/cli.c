/* The physalia-chaos command line: subcommands, their --help, argument
 * errors, and dispatch to topology's and reports' command-line functions.
 *
 * Exit codes (every subcommand): 0 success (for run: linearizable and valid),
 * 1 violation found, 2 run invalid or error (bad arguments included). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

#ifdef CHAOS_HAVE_TOPOLOGY
#include "topology/topology.h"
#endif
#ifdef CHAOS_HAVE_REPORTS
#include "reports/reports.h"
#endif

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_ERROR 2

struct subcommand {
	const char *name;
	const char *summary;
	const char *usage; /* full --help text after the first line */
	int (*fn)(int argc, char **argv);
	const char *module; /* another module's CLI this dispatches to, or NULL */
};

static const struct subcommand *subcommands(void);

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "physalia-chaos %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see physalia-chaos %s --help)\n", cmd);
	return EXIT_ERROR;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int print_help(const struct subcommand *s)
{
	printf("usage: physalia-chaos %s\n%s", s->summary, s->usage);
	return EXIT_OK;
}

/* Parses an unsigned 64-bit decimal; 0 on success. */
int chaos_parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return CHAOS_EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return CHAOS_EINVAL;
	*out = v;
	return 0;
}

int chaos_parse_double(const char *s, double *out)
{
	if (s == NULL || *s == '\0')
		return CHAOS_EINVAL;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || v != v)
		return CHAOS_EINVAL;
	*out = v;
	return 0;
}

/* A seed when none was given: time and pid, printed so it can be reused. */
static uint64_t fresh_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t s = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^
		     ((uint64_t)getpid() << 32);
	return s % 1000000000000ULL;
}

/* ------------------------------------------------------------------- run */

static int cmd_run(int argc, char **argv)
{
	struct chaos_run_options o;
	chaos_run_options_defaults(&o);
	const char *file = NULL, *planted_name = NULL;
	int dflt = 0, have_seed = 0;
	uint64_t seed = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--default") == 0) {
			dflt = 1;
		} else if (strcmp(a, "--seed") == 0) {
			if (++i >= argc || chaos_parse_u64(argv[i], &seed) != 0)
				return usage_error("run", "--seed needs a non-negative integer%s", "");
			have_seed = 1;
		} else if (strcmp(a, "--duration") == 0) {
			if (++i >= argc || chaos_parse_double(argv[i], &o.duration_s) != 0 ||
			    o.duration_s <= 0 || o.duration_s > 86400)
				return usage_error("run", "--duration needs seconds in (0, 86400]%s", "");
		} else if (strcmp(a, "--out") == 0) {
			if (++i >= argc)
				return usage_error("run", "--out needs a directory%s", "");
			o.out_dir = argv[i];
		} else if (strcmp(a, "--rack-model") == 0) {
			if (++i >= argc)
				return usage_error("run", "--rack-model needs a file%s", "");
			o.rack_model = argv[i];
		} else if (strcmp(a, "--node-bin") == 0) {
			if (++i >= argc)
				return usage_error("run", "--node-bin needs a path%s", "");
			o.node_bin = argv[i];
		} else if (strcmp(a, "--planted") == 0) {
			static const char *const bugs[] = { "accept-lower-ballot", "reply-before-durable",
							     "choose-without-majority",
							     "forget-promise-on-restart",
							     "apply-retry-twice", NULL };
			if (++i >= argc)
				return usage_error("run", "--planted needs a bug name%s", "");
			o.planted = 0;
			for (int b = 0; bugs[b] != NULL; b++)
				if (strcmp(argv[i], bugs[b]) == 0)
					o.planted = b + 1;
			if (o.planted == 0)
				return usage_error("run", "unknown planted bug '%s'", argv[i]);
			planted_name = argv[i];
		} else if (strcmp(a, "--keep") == 0) {
			o.keep = 1;
		} else if (strcmp(a, "--quiet") == 0) {
			o.quiet = 1;
		} else if (strcmp(a, "--dry-run") == 0) {
			o.dry_run = 1;
		} else if (a[0] == '-') {
			return usage_error("run", "unknown option '%s'", a);
		} else if (file == NULL) {
			file = a;
		} else {
			return usage_error("run", "more than one campaign file given ('%s')", a);
		}
	}
	int sources = dflt + (file != NULL);
	if (sources > 1)
		return usage_error("run", "give either --default or a campaign file, not both%s", "");
	if (sources == 0 && !have_seed)
		return usage_error("run", "say what to run: --default, CAMPAIGN.yaml or --seed S%s", "");

	struct chaos_campaign *c = NULL;
	char err[512] = "";
	int rc;
	if (file != NULL) {
		rc = chaos_campaign_load(file, &c, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "physalia-chaos run: %s\n", err);
			return EXIT_ERROR;
		}
		if (have_seed)
			c->seed = seed;
	} else {
		if (!have_seed)
			seed = fresh_seed();
		rc = chaos_campaign_generate(seed, o.duration_s > 0 ? o.duration_s : 0, &c);
		if (rc != 0) {
			fprintf(stderr, "physalia-chaos run: %s\n", chaos_strerror(rc));
			return EXIT_ERROR;
		}
		if (dflt)
			snprintf(c->name, sizeof c->name, "default");
	}
	if (o.duration_s > 0 && file != NULL)
		chaos_campaign_scale(c, o.duration_s);
	if (chaos_campaign_validate(c, err, sizeof err) != 0) {
		fprintf(stderr, "physalia-chaos run: %s\n", err);
		chaos_campaign_free(c);
		return EXIT_ERROR;
	}

	/* The seed and the command that reproduces this run, always first. */
	printf("seed: %" PRIu64 "\n", c->seed);
	printf("reproduce: physalia-chaos run ");
	if (file != NULL)
		printf("%s --seed %" PRIu64, file, c->seed);
	else
		printf("%s--seed %" PRIu64, dflt ? "--default " : "", c->seed);
	if (o.duration_s > 0)
		printf(" --duration %g", o.duration_s);
	if (o.rack_model != NULL)
		printf(" --rack-model %s", o.rack_model);
	if (o.planted)
		printf(" --planted %s", planted_name);
	printf("\n");
	fflush(stdout);

	int code = chaos_run(c, &o);
	chaos_campaign_free(c);
	return code;
}

static const char run_usage[] =
	"Runs a campaign: brings the fabric up, starts physalia-node on every node\n"
	"host, creates the cells, drives the workload from the client hosts, applies\n"
	"the fault schedule, collects history, packets, logs and metrics, checks the\n"
	"history and writes the run database and report. Cleans up after itself.\n"
	"\n"
	"  --default            the built-in default rack model and a campaign\n"
	"                       generated from a fresh seed (printed)\n"
	"  CAMPAIGN.yaml        a campaign file (docs/campaign.md)\n"
	"  --seed S             a campaign generated from seed S (with a file: the\n"
	"                       seed of its random choices)\n"
	"  --duration SECONDS   workload time (default 60; a file's schedule is scaled)\n"
	"  --rack-model FILE    a rack model instead of the campaign's\n"
	"  --out DIR            where run.db, report.html, pcaps and logs go\n"
	"                       (default runs/<name>-<seed>)\n"
	"  --node-bin PATH      the physalia-node to run (default: beside this binary)\n"
	"  --keep               leave the fabric up after the run (down --all removes it)\n"
	"  --planted BUG        run physalia-node-planted with one of the engine's planted\n"
	"                       bugs: accept-lower-ballot, reply-before-durable,\n"
	"                       choose-without-majority, forget-promise-on-restart,\n"
	"                       apply-retry-twice (the run must then find a violation)\n"
	"  --dry-run            print the resolved campaign and exit\n"
	"  --quiet              no progress line\n"
	"\n"
	"Every run prints its seed and the command that reproduces it.\n"
	"Exit: 0 linearizable and valid, 1 violation found, 2 run invalid or error.\n";

/* -------------------------------------------------------------- campaign */

static int cmd_campaign(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("campaign", "say what to do: check FILE or generate --seed S%s", "");
	if (strcmp(argv[1], "check") == 0) {
		if (argc != 3)
			return usage_error("campaign", "check takes one campaign file%s", "");
		struct chaos_campaign *c = NULL;
		char err[512];
		if (chaos_campaign_load(argv[2], &c, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return EXIT_ERROR;
		}
		int rc = chaos_campaign_validate(c, err, sizeof err);
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", argv[2], err);
		else
			printf("%s: ok (%zu faults, %g s, %u cells)\n", argv[2], c->nfaults,
			       c->duration_s, c->cells);
		chaos_campaign_free(c);
		return rc == 0 ? EXIT_OK : EXIT_ERROR;
	}
	if (strcmp(argv[1], "generate") == 0) {
		uint64_t seed = 0;
		double duration = 0;
		int have = 0;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc &&
			    chaos_parse_u64(argv[i + 1], &seed) == 0) {
				have = 1;
				i++;
			} else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc &&
				   chaos_parse_double(argv[i + 1], &duration) == 0 && duration > 0) {
				i++;
			} else {
				return usage_error("campaign", "generate: bad argument '%s'", argv[i]);
			}
		}
		if (!have)
			return usage_error("campaign", "generate needs --seed S%s", "");
		struct chaos_campaign *c = NULL;
		int rc = chaos_campaign_generate(seed, duration, &c);
		if (rc != 0) {
			fprintf(stderr, "physalia-chaos campaign: %s\n", chaos_strerror(rc));
			return EXIT_ERROR;
		}
		rc = chaos_campaign_write(c, stdout);
		chaos_campaign_free(c);
		return rc == 0 ? EXIT_OK : EXIT_ERROR;
	}
	return usage_error("campaign", "unknown action '%s' (check or generate)", argv[1]);
}

static const char campaign_usage[] =
	"  check FILE                 parse and validate a campaign file\n"
	"  generate --seed S [--duration SECONDS]\n"
	"                             print the campaign `run --seed S` would run\n";

/* ---------------------------------------------------------------- impair */

static const char impair_usage[] =
	"Runs the impairment engine on NFQUEUE queue N in the current network\n"
	"namespace (run it inside a router namespace: ip netns exec R ...). Every\n"
	"queued packet gets a seeded verdict: deliver, drop, delay, reorder,\n"
	"duplicate, corrupt. Policies come from the options and from lines on\n"
	"stdin (one per line, applied in order):\n"
	"  set SRC/LEN DST/LEN loss=P burst=N delay=US jitter=US reorder=P gap=US dup=P corrupt=P\n"
	"  clear\n"
	"  stats        (prints one 'stats ...' line to stdout)\n"
	"Stops on SIGTERM/SIGINT or end of stdin, then prints its stats.\n"
	"\n"
	"  --queue N            queue number (required)\n"
	"  --seed S             decision seed (default 1)\n"
	"  --records FILE       per-second link counts are appended here\n"
	"  --policy 'SRC/LEN DST/LEN k=v...'   an initial policy (repeatable)\n"
	"  --ready FILE         created once the queue is bound\n"
	"Exit: 0 clean, 2 error or the engine fell behind (queue drops).\n";

/* Whether the module a pass-through command needs is linked in. */
static int module_built(const char *module)
{
	if (module == NULL)
		return 0;
#ifdef CHAOS_HAVE_TOPOLOGY
	if (strcmp(module, "topology") == 0)
		return 1;
#endif
#ifdef CHAOS_HAVE_REPORTS
	if (strcmp(module, "reports") == 0)
		return 1;
#endif
	return 0;
}

#if !defined(CHAOS_HAVE_TOPOLOGY) || !defined(CHAOS_HAVE_REPORTS) || !defined(CHAOS_HAVE_RUNNER)
static int not_built(const char *cmd, const char *module)
{
	fprintf(stderr,
		"physalia-chaos %s: not built yet: this needs the %s module, which is not\n"
		"on main in the commit this binary was built from\n",
		cmd, module);
	return EXIT_ERROR;
}
#endif

/* --------------------------------------------- topology and reports CLIs */

static int cmd_place(int argc, char **argv)
{
#ifdef CHAOS_HAVE_TOPOLOGY
	return topo_cli_place(argc, argv);
#else
	(void)argc, (void)argv;
	return not_built("place", "topology");
#endif
}

static int cmd_fabric(int argc, char **argv)
{
#ifdef CHAOS_HAVE_TOPOLOGY
	return topo_cli_fabric(argc, argv);
#else
	(void)argc;
	return not_built(argv[0], "topology");
#endif
}

static int cmd_down(int argc, char **argv)
{
	/* down --all also removes what a crashed run of ours left (netns named
	 * chaos-*, rules, processes) before the fabric's own teardown. */
	int all = 0;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--all") == 0)
			all = 1;
	int rc = EXIT_OK;
	if (all)
		rc = chaos_cleanup_all(0) == 0 ? EXIT_OK : EXIT_ERROR;
#ifdef CHAOS_HAVE_TOPOLOGY
	int trc = topo_cli_fabric(argc, argv);
	return trc != 0 ? trc : rc;
#else
	if (!all)
		return not_built("down", "topology");
	return rc;
#endif
}

static int cmd_report(int argc, char **argv)
{
#ifdef CHAOS_HAVE_REPORTS
	return rep_cli_report(argc, argv);
#else
	(void)argc, (void)argv;
	return not_built("report", "reports");
#endif
}

static int cmd_check(int argc, char **argv)
{
#ifdef CHAOS_HAVE_REPORTS
	return rep_cli_check(argc, argv);
#else
	(void)argc, (void)argv;
	return not_built("check", "reports");
#endif
}

static int cmd_nightly(int argc, char **argv)
{
#ifdef CHAOS_HAVE_RUNNER
	return chaos_nightly_cli(argc, argv);
#else
	(void)argc;
	return not_built(argv[0], "runner's (topology fabric, node, engine, run database)");
#endif
}

static const char nightly_usage[] =
	"Runs many seeded campaigns within a time budget, one run database each,\n"
	"and a summary database with a trend across nights; failing seeds are kept\n"
	"as reproducible campaign files.\n"
	"\n"
	"  --budget SECONDS     total time (default 3600)\n"
	"  --duration SECONDS   per campaign (default 60)\n"
	"  --seed S             first seed (default: from the date)\n"
	"  --out DIR            default nightly; this night goes to DIR/<date>/\n"
	"  --summary FILE       the summary database (default DIR/summary.db), kept\n"
	"                       across nights: tables nights, runs, availability, view trend\n"
	"Exit: 0 every run linearizable and valid, 1 a violation, 2 invalid runs only.\n";

static const char shrink_usage[] =
	"Shrinks a failing campaign: runs it, then removes faults one at a time and\n"
	"halves the duration, keeping each change while the run still fails (exit 1),\n"
	"and writes the smallest failing campaign to DIR/min.yaml. Runs are real, so\n"
	"\"still fails\" means it failed once more.\n"
	"  --out DIR            default shrink/\n"
	"  --budget SECONDS     default 1800\n"
	"  --planted BUG        run physalia-node-planted (see run --help)\n";

static const char capture_usage[] =
	"Captures packets on one interface (run it inside a host's namespace) into a\n"
	"pcap file, bounded in size: at the bound it stops writing and counts what it\n"
	"did not keep. Ends on SIGTERM/SIGINT and prints one stats line.\n"
	"  --out FILE   the pcap (required)\n"
	"  --iface IF   default eth0\n"
	"  --max-mb N   default 16\n"
	"  --ready FILE created once capturing\n";

#ifdef CHAOS_HAVE_RUNNER
static const char client_usage[] =
	"One workload client (the runner starts them inside client hosts): drives\n"
	"transactions against its cells through the node client library and appends\n"
	"one history line per operation to --out (docs/chaos.md).\n"
	"  --nodes A:P,...  --cells C,...  --out FILE  --process P  --keys K\n"
	"  --mix R,P,C,I,X (read, put, cas, increment, compound weights)\n"
	"  --rate OPS/S (0 = closed loop)  --duration S  --timeout-ms MS  --seed S\n"
	"  --dist uniform|zipf  --zipf-s S  --client-id ID\n";
#endif

static const char down_usage[] =
	"Takes a fabric down. --all removes everything physalia-chaos or the\n"
	"topology fabric may have left behind (namespaces chaos-*, processes\n"
	"started by a run that was killed), whatever state it is in.\n";

static const char passthrough_usage[] =
	"Options are those of the underlying module's command (try it with\n"
	"--help once that module is built into this binary).\n";

static int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("physalia-chaos %s (topology: %s, reports: %s, node: %s)\n", CHAOS_VERSION,
#ifdef CHAOS_HAVE_TOPOLOGY
	       "built",
#else
	       "not built",
#endif
#ifdef CHAOS_HAVE_REPORTS
	       "built",
#else
	       "not built",
#endif
#ifdef CHAOS_HAVE_NODE
	       "built"
#else
	       "not built"
#endif
	);
	return EXIT_OK;
}

static const struct subcommand table[] = {
	{ "run", "run [--default | CAMPAIGN.yaml | --seed S] [options]", run_usage, cmd_run,
	  NULL },
	{ "campaign", "campaign check FILE | generate --seed S", campaign_usage, cmd_campaign,
	  NULL },
	{ "nightly", "nightly [--budget S] [--duration S] [--seed S] [--out DIR] [--summary F]",
	  nightly_usage,
	  cmd_nightly, NULL },
	{ "shrink", "shrink FAILING.yaml [--out DIR] [--budget S]", shrink_usage, chaos_shrink_cli,
	  NULL },
	{ "place", "place [RACK-MODEL] [options]  (topology: placement of cells)",
	  passthrough_usage, cmd_place, "topology" },
	{ "up", "up [RACK-MODEL] [options]  (topology: bring the fabric up)", passthrough_usage,
	  cmd_fabric, "topology" },
	{ "down", "down [--all]  (take the fabric down)", down_usage, cmd_down, NULL },
	{ "status", "status  (topology: what is up)", passthrough_usage, cmd_fabric, "topology" },
	{ "exec", "exec HOST -- COMMAND...  (topology: run a command in a host)",
	  passthrough_usage, cmd_fabric, "topology" },
	{ "report", "report RUN.db [options]  (reports: the HTML report)", passthrough_usage,
	  cmd_report, "reports" },
	{ "check", "check HISTORY [options]  (reports: the checker on a Jepsen history)",
	  passthrough_usage, cmd_check, "reports" },
	{ "impair", "impair --queue N [options]  (the impairment engine, one namespace)",
	  impair_usage, chaos_impair_cli, NULL },
	{ "capture", "capture --out FILE [--iface eth0] [--max-mb N]  (bounded pcap of one host)",
	  capture_usage, chaos_capture_cli, NULL },
#ifdef CHAOS_HAVE_RUNNER
	{ "client", "client --nodes A:P,.. --cells C,.. --out FILE [options]  (one workload client)",
	  client_usage, chaos_client_cli, NULL },
#endif
	{ "version", "version", "", cmd_version, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const struct subcommand *subcommands(void)
{
	return table;
}

static void print_overview(FILE *f)
{
	fprintf(f, "usage: physalia-chaos COMMAND [options]   (COMMAND --help for more)\n\n");
	for (const struct subcommand *s = subcommands(); s->name != NULL; s++)
		fprintf(f, "  %s\n", s->summary);
#ifdef CHAOS_HAVE_VAGRANT
	fprintf(f, "  vagrant ...  (vagrant/: the same campaigns across virtual machines; docs/vagrant.md)\n");
#endif
	fprintf(f, "\nThe main job: physalia-chaos run --default\n"
		   "Exit: 0 linearizable and valid, 1 violation found, 2 run invalid or error.\n");
}

int chaos_cli(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_overview(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (const struct subcommand *s = subcommands(); s->name != NULL; s++) {
		if (strcmp(argv[1], s->name) != 0)
			continue;
		/* Pass-through commands get their own module's --help when built. */
		if (wants_help(argc - 1, argv + 1) && !module_built(s->module))
			return print_help(s);
		return s->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "physalia-chaos: unknown command '%s'\n\n", argv[1]);
	print_overview(stderr);
	return EXIT_ERROR;
}
