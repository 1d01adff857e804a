/* Fuzz the datagram decoder. The first byte picks a mode: 0 = raw bytes
 * (almost always fail the HMAC), otherwise the input body is sealed with the
 * test key first so the structural decoder behind the HMAC is reached. */
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "dgram.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t keys[2][NODE_KEY_BYTES];
	static uint8_t buf[NODE_DGRAM_MAX + NODE_DGRAM_MAC];
	memset(keys[0], 0x11, NODE_KEY_BYTES);
	memset(keys[1], 0x22, NODE_KEY_BYTES);
	if (size < 1 || size > NODE_DGRAM_MAX)
		return 0;
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	if (data[0] != 0) {
		memcpy(buf, in, len);
		crypto_auth(buf + len, buf, len, keys[data[0] & 1]);
		in = buf;
		len += NODE_DGRAM_MAC;
	}
	struct node_dgram_hdr h;
	size_t k;
	if (node_dgram_open(in, len, (const uint8_t (*)[NODE_KEY_BYTES])keys, 2, &h, &k) == 0) {
		size_t off = 0, n = 0;
		struct node_item it;
		while (node_dgram_items(in, len, &off, &it))
			n++;
		if (n != h.count)
			__builtin_trap();
		struct node_replay w;
		node_replay_init(&w);
		if (node_replay_check(&w, h.incarnation, h.seq) != 0 ||
		    node_replay_check(&w, h.incarnation, h.seq) != NODE_EREPLAY)
			__builtin_trap();
	}
	return 0;
}
