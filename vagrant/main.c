/* physalia-vagrant: the vagrant commands on their own, the same functions
 * `physalia-chaos vagrant` and `physalia-chaos reproduce` call. */
#include <stdio.h>
#include <string.h>

#include "vagrant.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "vagrant") == 0)
		return vag_cli_vagrant(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: physalia-vagrant vagrant [options] [RUN.db|CAMPAIGN|RACKMODEL]\n"
		       "       (physalia-vagrant vagrant --help for the options)\n");
		return 0;
	}
	/* Without a subcommand: the arguments are vagrant's. */
	return vag_cli_vagrant(argc, argv);
}
