/* Fuzz the client frame decoder; a decoded frame must re-encode to the same
 * bytes. */
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 17];
	size_t off = 0;
	while (off < size) {
		struct node_frame f;
		size_t used;
		int rc = node_frame_decode(data + off, size - off, 1 << 16, &f, &used);
		if (rc != 0)
			break;
		size_t len;
		if (node_frame_encode(&f, out, sizeof out, &len) != 0 || len != used ||
		    memcmp(out, data + off, len) != 0)
			__builtin_trap();
		if (f.type == (NODE_REPLY | NODE_REQ_NODES) && f.status == NODE_ST_OK) {
			size_t o = 0;
			uint32_t id;
			char addr[64];
			while (node_frame_nodes_next(&f, &o, &id, addr, sizeof addr))
				;
		}
		off += used;
	}
	return 0;
}
