/* physalia-chaos: entry point; everything lives in chaos_cli (cli.c). */
#include "chaos.h"

int main(int argc, char **argv)
{
	return chaos_cli(argc, argv);
}
