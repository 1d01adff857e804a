/* The run: fabric up, nodes, cells, workload, faults on schedule, evidence,
 * checker, report, cleanup. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "chaos.h"
#include "internal.h"

void chaos_run_options_defaults(struct chaos_run_options *o)
{
	memset(o, 0, sizeof *o);
}

int chaos_run(const struct chaos_campaign *c, const struct chaos_run_options *o)
{
	if (o->dry_run) {
		chaos_campaign_write(c, stdout);
		return 0;
	}
#ifdef CHAOS_HAVE_RUNNER
	return chaos_runner(c, o);
#else
	const char *missing[4];
	int n = 0;
#ifndef CHAOS_HAVE_FABRIC
	missing[n++] = "topology's fabric";
#endif
#ifndef CHAOS_HAVE_NODE
	missing[n++] = "node (physalia-node and its client library)";
#endif
#ifndef CHAOS_HAVE_ENGINE
	missing[n++] = "engine (transactions)";
#endif
#ifndef CHAOS_HAVE_RUNDB
	missing[n++] = "reports' run database";
#endif
	{
		fprintf(stderr, "physalia-chaos run: not built yet: this binary lacks");
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%s %s", i ? "," : "", missing[i]);
		fprintf(stderr, ".\nThe campaign was parsed and validated; nothing was started.\n");
		return 2;
	}
	return 2;
#endif
}
