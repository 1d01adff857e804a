/* physalia-report: writes a run database's HTML report and prints its
 * summary (the same code as `physalia-chaos report RUN.db`). Exit 0 when
 * the report was written, 2 on error. */
#include "reports.h"

int main(int argc, char **argv)
{
	return rep_cli_report(argc, argv);
}
