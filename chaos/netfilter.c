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

/* Runs argv (argv[0] is the program, PATH searched) in netns (named, under
 * /run/netns; "" or NULL = ours). Standard output goes to out (up to cap-1
 * bytes, NUL-terminated) when out is given, else to /dev/null; standard error
 * to /dev/null unless verbose. Returns the exit status, or -1. */
int chaos_netns_run(const char *netns, const char *const *argv, char *out, size_t cap)
{
	int pipefd[2] = { -1, -1 };
	if (out != NULL && pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		if (out != NULL) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return -1;
	}
	if (pid == 0) {
		if (netns != NULL && netns[0] != '\0') {
			char path[256];
			snprintf(path, sizeof path, "/run/netns/%s", netns);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
				_exit(126);
		}
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(out != NULL ? pipefd[1] : devnull, 1);
			if (getenv("PHYSALIA_CHAOS_DEBUG") == NULL)
				dup2(devnull, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	size_t used = 0;
	if (out != NULL) {
		close(pipefd[1]);
		for (;;) {
			char sink[4096];
			char *dst = used + 1 < cap ? out + used : sink;
			size_t room = used + 1 < cap ? cap - 1 - used : sizeof sink;
			ssize_t n = read(pipefd[0], dst, room);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (dst != sink)
				used += (size_t)n;
		}
		close(pipefd[0]);
		out[used] = '\0';
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

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
