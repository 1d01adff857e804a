/* `physalia-chaos nightly`: many seeded campaigns within a time budget. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "chaos.h"
#include "internal.h"

int chaos_nightly_cli(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "physalia-chaos nightly: not built yet: it needs `run`, which needs the "
			"topology, node and reports modules\n");
	return 2;
}
