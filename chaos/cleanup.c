/* Removing what a run created, even after the controller was killed.
 *
 * Everything a run creates is findable without its memory: namespaces are
 * named chaos-* under /run/netns, processes live inside them (so the
 * namespace's inode finds them in /proc/PID/ns/net), netfilter rules live in
 * those namespaces and die with them. `down --all` and the watchdog call
 * chaos_cleanup_all(). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

int chaos_cleanup_all(int verbose)
{
	DIR *d = opendir("/run/netns");
	if (d == NULL)
		return errno == ENOENT ? 0 : CHAOS_ESYS;
	char names[512][128];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 512) {
		if (strncmp(e->d_name, CHAOS_NS_PREFIX, strlen(CHAOS_NS_PREFIX)) != 0)
			continue;
		if (strlen(e->d_name) >= sizeof names[0])
			continue;
		memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
	}
	closedir(d);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		int r = chaos_netns_del(names[i]);
		if (r != 0) {
			fprintf(stderr, "physalia-chaos: cannot remove namespace %s: %s\n", names[i],
				chaos_strerror(r));
			rc = r;
		} else if (verbose) {
			printf("removed namespace %s\n", names[i]);
		}
	}
	if (verbose || n > 0)
		printf("physalia-chaos: removed %d namespace(s) named %s*\n", n, CHAOS_NS_PREFIX);
	return rc;
}
