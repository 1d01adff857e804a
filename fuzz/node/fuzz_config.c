/* Fuzz the node config parser: any bytes parse or fail with a message. */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_config c;
	char err[512];
	int rc = node_config_parse((const char *)data, size, "fuzz.yaml", &c, err, sizeof err);
	if (rc == 0) {
		for (size_t i = 0; i < c.n_peers; i++)
			(void)node_config_peer(&c, c.peers[i].id);
		node_config_free(&c);
	} else if (rc == NODE_ECONFIG && strncmp(err, "fuzz.yaml:", 10) != 0) {
		__builtin_trap(); /* every error names the file */
	}
	return 0;
}
