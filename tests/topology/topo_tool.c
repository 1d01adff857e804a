/* tests/topology/topo_tool.c: a minimal driver for the topology CLI entry
 * points (the real front end is physalia-chaos), used by the tests. */
#include "topology/topology.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: topo_tool place|up|down|status|exec ...\n");
		return 2;
	}
	if (strcmp(argv[1], "place") == 0)
		return topo_cli_place(argc - 1, argv + 1);
	return topo_cli_fabric(argc - 1, argv + 1);
}
