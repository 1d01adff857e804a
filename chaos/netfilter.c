/* Netfilter rules for partitions, and running tools inside a namespace.
 *
 * Partitions are DROP rules on the forward path of a router namespace or the
 * INPUT chain of the receiving host, never on a sender's OUTPUT (which hands
 * the sender an EPERM no real network would). Every rule we add carries the
 * comment "physalia-chaos" plus a tag, so that its packet counter can be read
 * back as the partition's exact drop count and `down --all` can find it.
 * iptables-legacy is used: this kernel has the legacy tables and xt_statistic,
 * xt_NFQUEUE, xt_comment. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

#define IPTABLES "iptables-legacy"

int chaos_nf_iptables(const char *netns, const char *const *argv)
{
	const char *full[48];
	size_t n = 0;
	full[n++] = IPTABLES;
	full[n++] = "-w";
	for (size_t i = 1; argv[i] != NULL; i++) {
		if (n == sizeof full / sizeof full[0] - 1)
			return CHAOS_EINVAL;
		full[n++] = argv[i];
	}
	full[n] = NULL;
	return chaos_netns_run(netns, full, NULL, 0) == 0 ? 0 : CHAOS_ETOOL;
}

int chaos_nf_count(const char *netns, const char *chain, const char *tag, uint64_t *packets)
{
	const char *argv[] = { IPTABLES, "-w", "-t", "filter", "-L", chain, "-n", "-v", "-x", NULL };
	size_t cap = 1 << 20;
	char *out = malloc(cap);
	if (out == NULL)
		return CHAOS_ENOMEM;
	if (chaos_netns_run(netns, argv, out, cap) != 0) {
		free(out);
		return CHAOS_ETOOL;
	}
	/* Lines: "pkts bytes target prot opt in out source destination [extra]";
	 * the comment shows between slash-star markers. Match the whole comment. */
	uint64_t sum = 0;
	char needle[160];
	snprintf(needle, sizeof needle, "/* %s */", tag);
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strstr(line, needle) == NULL)
			continue;
		uint64_t pk;
		if (sscanf(line, "%" SCNu64, &pk) == 1)
			sum += pk;
	}
	free(out);
	*packets = sum;
	return 0;
}
