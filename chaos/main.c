/* physalia-chaos: entry point; everything lives in chaos_cli (cli.c), except
 * `vagrant`, which vagrant/ implements (it links chaos/, so only this
 * executable links it back). */
#include <string.h>

#include "chaos.h"

#ifdef CHAOS_HAVE_VAGRANT
#include "vagrant/vagrant.h"
#endif

int main(int argc, char **argv)
{
#ifdef CHAOS_HAVE_VAGRANT
	if (argc >= 2 && strcmp(argv[1], "vagrant") == 0)
		return vag_cli_vagrant(argc - 1, argv + 1);
#endif
	return chaos_cli(argc, argv);
}
