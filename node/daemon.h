/* node/daemon.h (internal): the physalia-node event loop.
 *
 * One libuv loop hosts every cell replica of the node. One loop turn: read
 * everything ready (UDP datagrams, client frames, expired cell timers), step
 * the cells concerned, write every record they produced into one SQLite
 * transaction, commit it (one fsync for all cells), then release the
 * messages and replies that waited for durability and tell the cells
 * (PH_EV_DURABLE). A failed commit stops the node (exit status 3).
 */
#ifndef NODE_DAEMON_H
#define NODE_DAEMON_H

#include "config.h"

/* Exit statuses of physalia-node. */
enum {
	NODE_EXIT_OK = 0,      /* clean stop (SIGTERM/SIGINT drained) */
	NODE_EXIT_USAGE = 2,   /* bad flags or configuration */
	NODE_EXIT_STORAGE = 3, /* a write or fsync failed: stopped, never retried */
	NODE_EXIT_STARTUP = 4, /* could not bind, open the store, ... */
};

/* Run the node until stopped. cfg is taken over (freed on return).
 * config_path is re-read on SIGHUP for key rotation. Returns an exit
 * status above. */
int node_daemon_run(struct node_config *cfg, const char *config_path);

#endif
