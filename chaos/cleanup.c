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

/* Sends sig to every process whose network namespace is ino/dev. Returns how
 * many were signalled. */
static int signal_netns(dev_t dev, ino_t ino, int sig)
{
	DIR *d = opendir("/proc");
	if (d == NULL)
		return 0;
	int n = 0;
	struct dirent *e;
	pid_t self = getpid();
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == self)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
		struct stat st;
		if (stat(path, &st) != 0 || st.st_ino != ino || st.st_dev != dev)
			continue;
		if (kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int chaos_netns_add(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "/run/netns/%s", name);
	const char *argv[] = { "ip", "netns", "add", name, NULL };
	if (access(path, F_OK) == 0)
		return CHAOS_EINVAL;
	int st = chaos_netns_run(NULL, argv, NULL, 0);
	if (st != 0)
		return geteuid() != 0 ? CHAOS_EPERM : CHAOS_ETOOL;
	return 0;
}

int chaos_netns_del(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "/run/netns/%s", name);
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : CHAOS_ESYS;
	/* Kill until none is left (bounded: processes may fork while we look). */
	for (int round = 0; round < 50; round++) {
		if (signal_netns(st.st_dev, st.st_ino, SIGKILL) == 0)
			break;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
		return CHAOS_ESYS;
	if (unlink(path) != 0 && errno != ENOENT)
		return CHAOS_ESYS;
	return 0;
}

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
