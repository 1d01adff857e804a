/* node/config.h (internal): the physalia-node configuration file.
 *
 * YAML (libfyaml). Every error names file:line:column. See docs/node.md for
 * the fields; node_config_parse is the one decoder and is fuzzed.
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NODE_KEY_BYTES 32 /* crypto_auth_KEYBYTES */
#define NODE_PEERS_MAX 4096

enum node_log_level { NODE_LOG_DEBUG, NODE_LOG_INFO, NODE_LOG_WARN, NODE_LOG_ERROR };

struct node_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[64]; /* as written, for logs */
};

struct node_peer {
	uint32_t id;
	struct node_addr peer;   /* UDP */
	struct node_addr client; /* TCP, for discovery answers (may be unset) */
	int has_client;
};

struct node_config {
	uint32_t node_id;
	struct node_addr peer_listen;
	struct node_addr client_listen;
	struct node_addr metrics_listen;
	int has_metrics;
	char data_dir[512];
	uint8_t key[NODE_KEY_BYTES];
	uint8_t prev_key[NODE_KEY_BYTES];
	int has_prev_key;
	struct node_peer *peers; /* malloc'ed, n_peers entries, sorted by id */
	size_t n_peers;
	int log_level;
	uint32_t max_connections;  /* default 1024 */
	uint32_t max_frame;        /* client frame bound, default 65536 */
	uint32_t max_datagram;     /* peer datagram batching bound, default 1400 */
	uint64_t max_resident;     /* cells kept in memory, default 100000 */
	uint32_t max_pending;      /* client requests queued per cell, default 64 */
	uint64_t election_timeout_ms; /* 0 = engine default */
	uint64_t heartbeat_ms;        /* 0 = engine default */
};

/* Parse YAML text (name is used in messages). On success fills *out (free
 * with node_config_free) and returns 0. On failure returns NODE_ECONFIG (or
 * NODE_ENOMEM) and writes "name:line:column: what" into err (size errlen);
 * *out untouched. */
int node_config_parse(const char *text, size_t len, const char *name,
		      struct node_config *out, char *err, size_t errlen);
/* Read and parse a file. Same contract; NODE_ECONFIG if unreadable. */
int node_config_load(const char *path, struct node_config *out, char *err,
		     size_t errlen);
void node_config_free(struct node_config *c);

/* "host:port" (IPv4 a.b.c.d:p or IPv6 [addr]:p) -> address. 0 or NODE_EINVAL. */
int node_addr_parse(const char *text, struct node_addr *out);
/* Hex string of exactly 2*NODE_KEY_BYTES digits -> key. 0 or NODE_EINVAL. */
int node_key_parse(const char *hex, size_t len, uint8_t key[NODE_KEY_BYTES]);

const struct node_peer *node_config_peer(const struct node_config *c, uint32_t id);

#endif
