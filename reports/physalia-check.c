/* physalia-check: checks a Jepsen history file for linearizability (the same
 * code as `physalia-chaos check FILE`). Exit 0 linearizable, 1 NOT
 * linearizable, 2 unknown or error. */
#include "reports.h"

int main(int argc, char **argv)
{
	return rep_cli_check(argc, argv);
}
