/* physalia-node: flags, configuration, then the loop (daemon.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "node.h"

static const char usage[] =
	"usage: physalia-node --config FILE [options]\n"
	"\n"
	"Hosts physalia cell replicas: one libuv loop, group commit into one SQLite\n"
	"database (WAL, synchronous=FULL), UDP peer transport with HMAC, framed\n"
	"TCP client protocol, Prometheus metrics. See physalia-node(8) and docs/node.md.\n"
	"\n"
	"options (override the config file):\n"
	"  -c, --config FILE      configuration file (YAML), required\n"
	"      --data-dir DIR     directory of the node database\n"
	"      --log-level LEVEL  debug, info, warn or error\n"
	"      --check            parse the configuration, print a summary, exit\n"
	"  -h, --help             this text\n"
	"      --version          print the version\n"
	"\n"
	"signals: SIGTERM/SIGINT drain and exit 0; SIGHUP re-reads the keys.\n"
	"exit status: 0 stopped cleanly, 2 usage or configuration error,\n"
	"3 storage failure (write or fsync failed: stopped), 4 start-up failure.\n";

int main(int argc, char **argv)
{
	const char *config = NULL, *data_dir = NULL, *level = NULL;
	int check = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			puts("physalia-node 0.1.0");
			return 0;
		} else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && next) {
			config = next;
			i++;
		} else if (strcmp(a, "--data-dir") == 0 && next) {
			data_dir = next;
			i++;
		} else if (strcmp(a, "--log-level") == 0 && next) {
			level = next;
			i++;
		} else if (strcmp(a, "--check") == 0) {
			check = 1;
		} else {
			fprintf(stderr, "physalia-node: unknown or incomplete option '%s'\n%s", a, usage);
			return NODE_EXIT_USAGE;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "physalia-node: --config FILE is required\n%s", usage);
		return NODE_EXIT_USAGE;
	}
	struct node_config cfg;
	char err[512];
	if (node_config_load(config, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "physalia-node: %s\n", err);
		return NODE_EXIT_USAGE;
	}
	if (data_dir) {
		if (strlen(data_dir) >= sizeof cfg.data_dir) {
			fprintf(stderr, "physalia-node: --data-dir too long\n");
			node_config_free(&cfg);
			return NODE_EXIT_USAGE;
		}
		strcpy(cfg.data_dir, data_dir);
	}
	if (level) {
		static const char *names[] = { "debug", "info", "warn", "error" };
		int l = -1;
		for (int i = 0; i < 4; i++)
			if (strcmp(level, names[i]) == 0)
				l = i;
		if (l < 0) {
			fprintf(stderr, "physalia-node: --log-level: '%s' is not debug, info, warn or error\n",
				level);
			node_config_free(&cfg);
			return NODE_EXIT_USAGE;
		}
		cfg.log_level = l;
	}
	if (check) {
		printf("node_id %u\npeers %s\nclients %s\nmetrics %s\ndata_dir %s\nkeys %d\n"
		       "peer_count %zu\n",
		       cfg.node_id, cfg.peer_listen.text, cfg.client_listen.text,
		       cfg.has_metrics ? cfg.metrics_listen.text : "off", cfg.data_dir,
		       1 + cfg.has_prev_key, cfg.n_peers);
		node_config_free(&cfg);
		return 0;
	}
	return node_daemon_run(&cfg, config);
}
