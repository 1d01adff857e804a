/* Network namespaces: create, remove (with every process inside), run and
 * spawn programs inside one. Namespaces are named files under /run/netns,
 * the convention of ip-netns(8), so `ip netns exec` and ours agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "internal.h"

/* In a forked child: enter netns (NULL or "" = stay). */
static int enter_netns(const char *netns)
{
	if (netns == NULL || netns[0] == '\0')
		return 0;
	char path[256];
	snprintf(path, sizeof path, "/run/netns/%s", netns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

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
		if (enter_netns(netns) != 0)
			_exit(126);
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

int chaos_netns_spawn(const char *netns, const char *const *argv, const char *log_path,
		      int die_with_parent, pid_t *pid_out, int *stdin_fd, int *stdout_fd)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	if (stdin_fd != NULL && pipe2(in, O_CLOEXEC) != 0)
		return CHAOS_ESYS;
	if (stdout_fd != NULL && pipe2(out, O_CLOEXEC) != 0)
		goto err_after_in;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		goto err_after_out;
	if (pid == 0) {
		if (die_with_parent) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(125);
		}
		if (enter_netns(netns) != 0)
			_exit(126);
		int devnull = open("/dev/null", O_RDWR);
		int logfd = log_path != NULL ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644) : devnull;
		if (logfd < 0)
			logfd = devnull;
		dup2(stdin_fd != NULL ? in[0] : devnull, 0);
		dup2(stdout_fd != NULL ? out[1] : logfd, 1);
		dup2(logfd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (stdin_fd != NULL) {
		close(in[0]);
		*stdin_fd = in[1];
	}
	if (stdout_fd != NULL) {
		close(out[1]);
		*stdout_fd = out[0];
	}
	*pid_out = pid;
	return 0;

err_after_out:
	if (stdout_fd != NULL) {
		close(out[0]);
		close(out[1]);
	}
err_after_in:
	if (stdin_fd != NULL) {
		close(in[0]);
		close(in[1]);
	}
	return CHAOS_ESYS;
}

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

