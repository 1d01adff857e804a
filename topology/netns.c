/* topology/netns.c: named network namespaces the way iproute2 makes them
 * (a bind mount of a namespace under /run/netns, the directory a shared
 * mount point), finding and killing what runs inside them, tearing them
 * down, status, entering, and starting processes inside.
 *
 * Only names matching "ph-RUN-NAME" are ever listed, entered or removed, so
 * nothing of anyone else's is touched. */
#include "topology/topology.h"
#include "topology/fabric_internal.h"
#include "topology/model_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

/* ---- the thread's last failure ------------------------------------------ */

static _Thread_local char fabric_err[TOPO_DIAG_MSG_MAX];

const char *topo_fabric_error(void)
{
	return fabric_err;
}

int topo__ferr(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fabric_err, sizeof fabric_err, fmt, ap);
	va_end(ap);
	return code;
}

void topo__ferr_clear(void)
{
	fabric_err[0] = '\0';
}

void topo__ferr_copy(char *dst, size_t len)
{
	snprintf(dst, len, "%s", fabric_err);
}

int topo__errno_code(int err, int fallback)
{
	return err == EPERM || err == EACCES ? TOPO_EPERM : err == ENOMEM ? TOPO_ENOMEM : fallback;
}

/* ---- names ---------------------------------------------------------------- */

int topo_run_valid(const char *run)
{
	if (run == NULL)
		return TOPO_EINVAL;
	size_t n = strnlen(run, TOPO_RUN_MAX);
	if (n == 0 || n >= TOPO_RUN_MAX)
		return TOPO_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = run[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return TOPO_EINVAL;
	}
	return 0;
}

int topo_ns_name(char *buf, size_t len, const char *run, const char *name)
{
	if (buf == NULL || topo_run_valid(run) != 0 || name == NULL ||
	    topo__name_valid(name, strnlen(name, TOPO_NAME_MAX)) != 0)
		return TOPO_EINVAL;
	int n = snprintf(buf, len, "ph-%s-%s", run, name);
	if (n < 0 || (size_t)n >= len)
		return TOPO_EINVAL;
	return 0;
}

/* Splits "ph-RUN-NAME"; 0 if it is one of ours. */
int topo__ns_parse(const char *ns, char run[TOPO_RUN_MAX], char entity[TOPO_NAME_MAX])
{
	if (strncmp(ns, "ph-", 3) != 0)
		return TOPO_EINVAL;
	const char *r = ns + 3, *dash = strchr(r, '-');
	if (dash == NULL || dash == r || (size_t)(dash - r) >= TOPO_RUN_MAX)
		return TOPO_EINVAL;
	char rb[TOPO_RUN_MAX];
	memcpy(rb, r, (size_t)(dash - r));
	rb[dash - r] = '\0';
	if (topo_run_valid(rb) != 0)
		return TOPO_EINVAL;
	const char *e = dash + 1;
	if (topo__name_valid(e, strnlen(e, TOPO_NAME_MAX)) != 0)
		return TOPO_EINVAL;
	if (run != NULL)
		memcpy(run, rb, sizeof rb);
	if (entity != NULL)
		snprintf(entity, TOPO_NAME_MAX, "%s", e);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int topo__ns_list(const char *run, char (**out)[TOPO_NSNAME_MAX], size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(TOPO__NETNS_DIR);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "cannot list %s: %s",
				  TOPO__NETNS_DIR, strerror(errno));
	}
	char (*v)[TOPO_NSNAME_MAX] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		char r[TOPO_RUN_MAX];
		if (strlen(e->d_name) >= TOPO_NSNAME_MAX || topo__ns_parse(e->d_name, r, NULL) != 0)
			continue;
		if (run != NULL && strcmp(r, run) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			void *nv = realloc(v, cap * sizeof *v);
			if (nv == NULL) {
				rc = TOPO_ENOMEM;
				break;
			}
			v = nv;
		}
		memcpy(v[n++], e->d_name, strlen(e->d_name) + 1); /* < TOPO_NSNAME_MAX, checked */
	}
	closedir(d);
	if (rc != 0) {
		free(v);
		return rc;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_names);
	*out = v;
	*n_out = n;
	return 0;
}

/* iproute2's netns_add: /run/netns exists and is a shared mount point, so
 * that namespaces mounted under it show in every mount namespace. */
int topo__netns_dir_ready(void)
{
	if (mkdir(TOPO__NETNS_DIR, 0755) != 0 && errno != EEXIST)
		return topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "mkdir %s: %s",
				  TOPO__NETNS_DIR, strerror(errno));
	bool bound = false;
	while (mount("", TOPO__NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) != 0) {
		if (errno != EINVAL || bound)
			return topo__ferr(topo__errno_code(errno, TOPO_ENETNS),
					  "make %s a shared mount: %s", TOPO__NETNS_DIR,
					  strerror(errno));
		if (mount(TOPO__NETNS_DIR, TOPO__NETNS_DIR, "none", MS_BIND | MS_REC, NULL) != 0)
			return topo__ferr(topo__errno_code(errno, TOPO_ENETNS),
					  "bind-mount %s on itself: %s", TOPO__NETNS_DIR,
					  strerror(errno));
		bound = true;
	}
	return 0;
}

/* Called on a thread of its own (it stays in the new namespace): makes a new
 * network namespace and mounts it at /run/netns/NAME. */
int topo__ns_create_here(const char *nsname)
{
	char path[TOPO__PATH_LEN];
	snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, nsname);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return topo__ferr(errno == EEXIST ? TOPO_EEXIST : topo__errno_code(errno, TOPO_ENETNS),
				  "create %s: %s", path, strerror(errno));
	close(fd);
	if (unshare(CLONE_NEWNET) != 0) {
		int err = errno;
		unlink(path);
		return topo__ferr(topo__errno_code(err, TOPO_ENETNS),
				  "unshare(CLONE_NEWNET) for %s: %s", nsname, strerror(err));
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) != 0) {
		int err = errno;
		unlink(path);
		return topo__ferr(topo__errno_code(err, TOPO_ENETNS), "bind-mount %s: %s", path,
				  strerror(err));
	}
	return 0;
}

/* ---- running something inside a namespace, on a thread of its own --------- */

struct in_ns_job {
	int fd;
	int (*fn)(void *);
	void *arg;
	int rc;
	char err[TOPO_DIAG_MSG_MAX];
};

static void *in_ns_main(void *p)
{
	struct in_ns_job *job = p;
	topo__ferr_clear();
	if (setns(job->fd, CLONE_NEWNET) != 0)
		job->rc = topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "setns: %s",
				     strerror(errno));
	else
		job->rc = job->fn(job->arg);
	topo__ferr_copy(job->err, sizeof job->err);
	return NULL;
}

int topo__in_ns(int fd, int (*fn)(void *), void *arg)
{
	struct in_ns_job job = { .fd = fd, .fn = fn, .arg = arg };
	pthread_t t;
	int e = pthread_create(&t, NULL, in_ns_main, &job);
	if (e != 0)
		return topo__ferr(TOPO_ENOMEM, "pthread_create: %s", strerror(e));
	pthread_join(t, NULL);
	if (job.rc != 0)
		topo__ferr(job.rc, "%s", job.err);
	return job.rc;
}

int topo_ns_open(const char *run, const char *name, int *fd)
{
	char ns[TOPO_NSNAME_MAX], path[TOPO__PATH_LEN];
	if (fd == NULL || topo_ns_name(ns, sizeof ns, run, name) != 0)
		return topo__ferr(TOPO_EINVAL, "bad run '%s' or name '%s'", run ? run : "(null)",
				  name ? name : "(null)");
	snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, ns);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return topo__ferr(errno == ENOENT ? TOPO_ENOTFOUND : topo__errno_code(errno, TOPO_ENETNS),
				  "open %s: %s", path, strerror(errno));
	*fd = f;
	return 0;
}

int topo_ns_enter(const char *run, const char *name, int *saved)
{
	if (saved == NULL)
		return TOPO_EINVAL;
	int fd, rc = topo_ns_open(run, name, &fd);
	if (rc != 0)
		return rc;
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		close(fd);
		return topo__ferr(TOPO_ENETNS, "open /proc/thread-self/ns/net: %s", strerror(errno));
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		int err = errno;
		close(fd);
		close(self);
		return topo__ferr(topo__errno_code(err, TOPO_ENETNS), "setns into %s: %s", name,
				  strerror(err));
	}
	close(fd);
	*saved = self;
	return 0;
}

int topo_ns_leave(int saved)
{
	if (saved < 0)
		return TOPO_EINVAL;
	int rc = 0;
	if (setns(saved, CLONE_NEWNET) != 0)
		rc = topo__ferr(TOPO_ENETNS, "setns back: %s", strerror(errno));
	close(saved);
	return rc;
}

/* ---- processes inside namespaces --------------------------------------------- */

struct ns_id {
	dev_t dev;
	ino_t ino;
};

static bool id_match(const struct ns_id *ids, size_t n, const struct stat *st)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i].dev == st->st_dev && ids[i].ino == st->st_ino)
			return true;
	return false;
}

/* For every task (thread) whose network namespace is one of ids: count it
 * per namespace (counts may be NULL) and, when kill_them, SIGKILL its
 * process. Returns the number of such processes. */
static uint32_t scan_tasks(const struct ns_id *ids, size_t n, uint32_t *counts, bool kill_them)
{
	DIR *proc = opendir("/proc");
	if (proc == NULL)
		return 0;
	uint32_t found = 0;
	pid_t self = getpid();
	struct dirent *e;
	while ((e = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%ld/task", pid);
		DIR *tasks = opendir(path);
		if (tasks == NULL)
			continue;
		struct dirent *t;
		bool hit = false;
		while ((t = readdir(tasks)) != NULL && !hit) {
			if (t->d_name[0] == '.')
				continue;
			char np[96];
			struct stat st;
			snprintf(np, sizeof np, "/proc/%ld/task/%.20s/ns/net", pid, t->d_name);
			if (stat(np, &st) != 0 || !id_match(ids, n, &st))
				continue;
			hit = true;
			if (counts != NULL)
				for (size_t i = 0; i < n; i++)
					if (ids[i].dev == st.st_dev && ids[i].ino == st.st_ino)
						counts[i]++;
		}
		closedir(tasks);
		if (!hit)
			continue;
		if (kill_them && pid == self)
			continue; /* a thread of ours inside: it goes with the unmount */
		found++;
		if (kill_them)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(proc);
	return found;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- teardown ------------------------------------------------------------ */

#define KILL_WAIT_S 10.0

int topo_fabric_down(const char *run, uint32_t *removed)
{
	topo__ferr_clear();
	if (run != NULL && topo_run_valid(run) != 0)
		return topo__ferr(TOPO_EINVAL, "bad run prefix '%s'", run);
	char (*names)[TOPO_NSNAME_MAX] = NULL;
	size_t n = 0;
	int rc = topo__ns_list(run, &names, &n);
	if (rc != 0)
		return rc;
	rc = topo__ns_remove((const char (*)[TOPO_NSNAME_MAX])names, n, removed);
	free(names);
	return rc;
}

int topo__ns_remove(const char (*names)[TOPO_NSNAME_MAX], size_t n, uint32_t *removed)
{
	int rc = 0;
	struct ns_id *ids = calloc(n + 1, sizeof *ids);
	if (ids == NULL)
		return TOPO_ENOMEM;
	size_t nid = 0;
	for (size_t i = 0; i < n; i++) {
		char path[TOPO__PATH_LEN];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, names[i]);
		/* a file left before its mount (a run killed mid-create) has no
		 * namespace behind it; st_dev tells them apart only once mounted,
		 * and an empty regular file matches no task anyway */
		if (stat(path, &st) == 0)
			ids[nid++] = (struct ns_id){ st.st_dev, st.st_ino };
	}
	/* 1. everything running inside goes */
	double deadline = now_s() + KILL_WAIT_S;
	while (nid > 0 && scan_tasks(ids, nid, NULL, true) > 0) {
		if (now_s() > deadline) {
			rc = topo__ferr(TOPO_ETIMEDOUT,
					"processes inside the namespaces did not die within %.0f s",
					KILL_WAIT_S);
			goto out_free;
		}
		pause_ms(5);
	}
	/* 2. the mounts go, and with the last reference the namespaces, their
	 * links, addresses, routes and netfilter rules */
	uint32_t gone = 0;
	for (size_t i = 0; i < n; i++) {
		char path[TOPO__PATH_LEN];
		snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, names[i]);
		if (umount2(path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
			rc = topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "umount %s: %s", path,
					strerror(errno));
			goto out_free;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "unlink %s: %s", path,
					strerror(errno));
			goto out_free;
		}
		gone++;
	}
	if (removed != NULL)
		*removed = gone;
out_free:
	free(ids);
	return rc;
}

/* ---- status ------------------------------------------------------------ */

static int count_links(void *arg)
{
	struct topo_ns_status *s = arg;
	struct nl_sock *sk = nl_socket_alloc();
	if (sk == NULL)
		return TOPO_ENOMEM;
	int rc = 0, e;
	struct nl_cache *links = NULL, *addrs = NULL;
	if ((e = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (e = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0 ||
	    (e = rtnl_addr_alloc_cache(sk, &addrs)) < 0) {
		rc = topo__ferr(TOPO_ENETLINK, "netlink in %s: %s", s->name, nl_geterror(e));
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		if (rtnl_link_get_flags(l) & IFF_LOOPBACK)
			continue;
		s->links++;
		if (rtnl_link_get_flags(l) & IFF_UP)
			s->links_up++;
	}
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) == 1)
			continue;
		s->addresses++;
	}
out:
	if (addrs)
		nl_cache_free(addrs);
	if (links)
		nl_cache_free(links);
	nl_socket_free(sk);
	return rc;
}

int topo_fabric_status(const char *run, struct topo_ns_status **out, size_t *n_out)
{
	topo__ferr_clear();
	if (out == NULL || n_out == NULL || (run != NULL && topo_run_valid(run) != 0))
		return TOPO_EINVAL;
	char (*names)[TOPO_NSNAME_MAX] = NULL;
	size_t n = 0;
	int rc = topo__ns_list(run, &names, &n);
	if (rc != 0)
		return rc;
	struct topo_ns_status *st = calloc(n + 1, sizeof *st);
	struct ns_id *ids = calloc(n + 1, sizeof *ids);
	uint32_t *counts = calloc(n + 1, sizeof *counts);
	if (st == NULL || ids == NULL || counts == NULL) {
		rc = TOPO_ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		char path[TOPO__PATH_LEN];
		struct stat sb;
		snprintf(st[i].name, sizeof st[i].name, "%s", names[i]);
		topo__ns_parse(names[i], st[i].run, st[i].entity);
		snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, names[i]);
		if (stat(path, &sb) == 0)
			ids[i] = (struct ns_id){ sb.st_dev, sb.st_ino };
	}
	scan_tasks(ids, n, counts, false);
	for (size_t i = 0; i < n; i++) {
		st[i].processes = counts[i];
		int fd;
		if (topo_ns_open(st[i].run, st[i].entity, &fd) != 0)
			continue; /* gone meanwhile, or a stale file: nothing inside */
		topo__in_ns(fd, count_links, &st[i]);
		close(fd);
	}
	topo__ferr_clear();
	*out = st;
	*n_out = n;
	st = NULL;
out_free:
	free(st);
	free(ids);
	free(counts);
	free(names);
	return rc;
}

/* ---- exec ------------------------------------------------------------------ */

struct spawn_fail {
	int step;  /* which step failed, 0 none */
	int err;   /* its errno */
};

int topo_fabric_spawn(const char *run, const char *name, char *const argv[], pid_t *pid)
{
	topo__ferr_clear();
	if (argv == NULL || argv[0] == NULL || pid == NULL)
		return topo__ferr(TOPO_EINVAL, "no command");
	int fd, rc = topo_ns_open(run, name, &fd);
	if (rc != 0)
		return rc;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		close(fd);
		return topo__ferr(TOPO_ECHILD, "pipe: %s", strerror(errno));
	}
	char sysname[TOPO_NSNAME_MAX];
	topo_ns_name(sysname, sizeof sysname, run, name);
	pid_t child = fork();
	if (child < 0) {
		int err = errno;
		close(fd);
		close(pipefd[0]);
		close(pipefd[1]);
		return topo__ferr(TOPO_ECHILD, "fork: %s", strerror(err));
	}
	if (child == 0) {
		/* like `ip netns exec`: join the namespace, and see its own /sys */
		struct spawn_fail fail = { 0, 0 };
		close(pipefd[0]);
		if (setns(fd, CLONE_NEWNET) != 0)
			fail = (struct spawn_fail){ 1, errno };
		else if (unshare(CLONE_NEWNS) != 0)
			fail = (struct spawn_fail){ 2, errno };
		else if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0)
			fail = (struct spawn_fail){ 3, errno };
		else if (umount2("/sys", MNT_DETACH) != 0 && errno != EINVAL)
			fail = (struct spawn_fail){ 4, errno };
		else if (mount(sysname, "/sys", "sysfs", 0, NULL) != 0)
			fail = (struct spawn_fail){ 5, errno };
		if (fail.step == 0) {
			close(fd);
			execvp(argv[0], argv);
			fail = (struct spawn_fail){ 6, errno };
		}
		ssize_t w = write(pipefd[1], &fail, sizeof fail);
		(void)w;
		_exit(127);
	}
	close(fd);
	close(pipefd[1]);
	struct spawn_fail fail = { 0, 0 };
	ssize_t r;
	do
		r = read(pipefd[0], &fail, sizeof fail);
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	if (r == (ssize_t)sizeof fail) {
		static const char *const steps[] = { "", "setns", "unshare(CLONE_NEWNS)",
						     "make / a slave mount", "unmount /sys",
						     "mount sysfs", "exec" };
		int status;
		waitpid(child, &status, 0);
		return topo__ferr(TOPO_ECHILD, "%s in %s: %s: %s", argv[0], name,
				  steps[fail.step < 7 ? fail.step : 0], strerror(fail.err));
	}
	*pid = child;
	return 0;
}
