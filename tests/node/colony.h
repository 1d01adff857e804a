/* tests/node/colony.h: start a colony of real physalia-node processes on
 * loopback (127.0.0.1, distinct ports per test process) in a temp dir,
 * kill and restart them, and clean up. Test-only. */
#ifndef TEST_COLONY_H
#define TEST_COLONY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define COLONY_MAX 9

struct colony {
	size_t n;
	char dir[256];
	int base_port;
	pid_t pid[COLONY_MAX + 1];     /* by node id (1..n); 0 = not running */
	char extra[512];               /* appended to every config (YAML) */
	const char *wrapper;           /* optional: argv[0] prefix like "fiu-run -x" */
	char keys[200];                /* YAML "keys:" block override, "" = default */
};

#define COLONY_KEY "8f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100"

/* Rewrite node id's config file with this keys block (e.g. "{current: X,
 * previous: Y}"); takes effect on restart or SIGHUP. */
int colony_rewrite_config(struct colony *c, uint32_t id, const char *keys_yaml);

/* Write configs for nodes 1..n and start them; 0 on success (all client
 * ports accept), -1 on failure (message on stderr). The binary is
 * PH_BINARY_DIR/node/physalia-node. */
int colony_start(struct colony *c, size_t n, const char *extra_yaml);
/* Start (or restart) node id; waits until its client port accepts. */
int colony_node_start(struct colony *c, uint32_t id);
/* Send sig to node id; for SIGKILL/SIGTERM wait for exit and return its
 * raw wait status (or -1). */
int colony_node_signal(struct colony *c, uint32_t id, int sig);
/* Wait (bounded, ms) for node id to exit by itself; wait status or -1. */
int colony_node_wait(struct colony *c, uint32_t id, int ms);
/* "127.0.0.1:port" of node id's client / peer / metrics port. */
void colony_client_addr(const struct colony *c, uint32_t id, char *buf, size_t n);
int colony_port(const struct colony *c, uint32_t id, int which); /* 0 peer 1 client 2 metrics */
/* SIGKILL everything still running and remove the directory. */
void colony_destroy(struct colony *c);
/* GET the metrics page of node id into a malloc'ed string (NULL on failure). */
char *colony_metrics(const struct colony *c, uint32_t id);
/* Value of the metric line starting with `name` ("x{a=\"b\"}"), or -1. */
double colony_metric(const char *page, const char *name);
/* Path of node id's log file. */
void colony_log_path(const struct colony *c, uint32_t id, char *buf, size_t n);

#endif
