/* physalia-node-planted: physalia-node built from node/'s own sources against
 * ph_engine_planted (the engine with its planted bugs compiled in), for the
 * appliance's end-to-end proof that it catches real protocol bugs.
 *
 * node/daemon.c is compiled for this binary with ph_cell_config_init renamed
 * to the function below (a compile definition in chaos/CMakeLists.txt), which
 * fills the defaults and then sets planted_bug from PHYSALIA_PLANTED_BUG (a
 * number, enum ph_bug). Nothing of this reaches the production physalia-node,
 * which links ph_engine (no planted code at all). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "engine/engine.h"

void chaos_planted_cell_config_init(struct ph_cell_config *cfg);

void chaos_planted_cell_config_init(struct ph_cell_config *cfg)
{
	ph_cell_config_init(cfg);
	const char *bug = getenv("PHYSALIA_PLANTED_BUG");
	if (bug != NULL)
		cfg->planted_bug = atoi(bug);
}
