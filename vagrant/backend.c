/* chaos/'s host backend (struct chaos_backend, chaos/runner.h) over ssh, for
 * the machines of a generated vagrant/ directory.
 *
 * A host of the campaign's world is found by name in the directory's
 * hosts.tsv: its machine (what ssh reaches) and its rack's ToR machine.
 *
 *  start   one local ssh child per process: the remote wrapper records the
 *          process's pid, runs it, and exits with its status (128+N when
 *          signal N ended it, as sh says); output streams into the log on
 *          the controller. The pid the runner gets is the ssh child's.
 *  signal  kill -N of the remote pid (not of the local ssh).
 *  wait    waitpid on the ssh child; an exit of 128+N (N a signal) is
 *          reported as "killed by N".
 *  block   iptables DROP on the destination's ToR machine, forward path.
 *  impair  one NFQUEUE engine per ToR machine, fed packets bound for its
 *          rack, steered over its ssh session.
 *  rate    not done by this backend (an error, never silently ignored).
 *  run     a command on the host's machine; its exit status. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "runner.h"
#include "vagrant.h"

#define PROCS_MAX 4096

struct proc {
	pid_t pid;          /* the local ssh child */
	size_t host;        /* world index */
	char name[32];      /* remote process name: pid file remote_dir/NAME.pid */
};

struct machine_of {
	char host[64], machine[64], tor[64];
	uint32_t addr;
};

struct vb_impl {
	struct vag_ssh *ssh;
	struct vag_ssh_opts opts;
	char ssh_config[512], control_dir[256], remote_dir[256], impair_cmd[256];
	struct machine_of *map; /* per world host */
	char (*tors)[64];       /* distinct ToR machines */
	uint32_t *tor_net;      /* their rack segment (/24) */
	size_t ntors;
	struct proc procs[PROCS_MAX];
	size_t nprocs;
	unsigned seq;
};

static struct vb_impl *impl(struct chaos_backend *b) { return b->impl; }

static int world_index(const struct chaos_world *w, const struct chaos_host *h)
{
	if (h < w->hosts || h >= w->hosts + w->nhosts)
		return -1;
	return (int)(h - w->hosts);
}


static int vb_start(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv,
		    const char *const *env, const char *log, pid_t *pid)
{
	struct vb_impl *im = impl(b);
	int hi = world_index(b->world, h);
	if (hi < 0 || im->nprocs == PROCS_MAX)
		return CHAOS_EINVAL;
	struct proc *p = &im->procs[im->nprocs];
	snprintf(p->name, sizeof(p->name), "p%u", im->seq++);
	p->host = (size_t)hi;
	/* The wrapper: pid file, the command (with env), its status. */
	const char *wrapper =
		"d=$1; n=$2; shift 2; mkdir -p \"$d\" || exit 125; "
		"\"$@\" </dev/null & c=$!; echo \"$c\" >\"$d/$n.pid\"; "
		"trap 'kill -TERM \"$c\" 2>/dev/null' HUP; wait \"$c\"; exit $?";
	const char *full[96];
	size_t n = 0;
	full[n++] = "sh";
	full[n++] = "-c";
	full[n++] = wrapper;
	full[n++] = "sh";
	full[n++] = im->remote_dir;
	full[n++] = p->name;
	if (env != NULL && env[0] != NULL) {
		full[n++] = "env";
		for (size_t i = 0; env[i] != NULL && n < 60; i++)
			full[n++] = env[i];
	}
	for (size_t i = 0; argv[i] != NULL && n < 94; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return CHAOS_ESYS;
	pid_t child;
	int rc = vag_ssh_spawn(im->ssh, im->map[hi].machine, full, fd, &child);
	close(fd);
	if (rc != VAG_OK)
		return rc == VAG_ENOMEM ? CHAOS_ENOMEM : CHAOS_ESYS;
	p->pid = child;
	im->nprocs++;
	*pid = child;
	return 0;
}

static struct proc *proc_of(struct vb_impl *im, pid_t pid)
{
	for (size_t i = 0; i < im->nprocs; i++)
		if (im->procs[i].pid == pid)
			return &im->procs[i];
	return NULL;
}

static int vb_signal(struct chaos_backend *b, const struct chaos_host *h, pid_t pid, int sig)
{
	struct vb_impl *im = impl(b);
	struct proc *p = proc_of(im, pid);
	if (p == NULL)
		return CHAOS_EINVAL;
	(void)h;
	char err[256];
	/* The wrapper writes the pid file right after the fork: poll for it. */
	for (int i = 0; i < 100; i++) {
		int rc = vag_ssh_signal(im->ssh, im->map[p->host].machine, p->name, sig, err,
					sizeof(err));
		if (rc == VAG_OK)
			return 0;
		if (rc != VAG_ENOTFOUND)
			return CHAOS_ETOOL;
		int st;
		if (waitpid(pid, &st, WNOHANG) != 0)
			return CHAOS_ENOTFOUND; /* ended (and now reaped: wait says so) */
		poll(NULL, 0, 20);
	}
	return CHAOS_ENOTFOUND;
}

/* The wrapper's exit 128+N means signal N ended the remote process. */
static int remote_status(int ws)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) > 128 && WEXITSTATUS(ws) < 128 + 32 &&
	    WEXITSTATUS(ws) != 255)
		return WEXITSTATUS(ws) - 128; /* Linux encoding of "killed by N" */
	return ws;
}

static int vb_wait(struct chaos_backend *b, pid_t pid, int timeout_ms, int *status)
{
	(void)b;
	for (int waited = 0;; waited += 10) {
		int ws;
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			*status = remote_status(ws);
			return 1;
		}
		if (r < 0)
			return errno == ECHILD ? 1 : CHAOS_ESYS;
		if (waited >= timeout_ms)
			return 0;
		poll(NULL, 0, 10);
	}
}

static int vb_block(struct chaos_backend *b, const struct chaos_host *dst,
		    const struct chaos_host *src, const char *tag, int add)
{
	struct vb_impl *im = impl(b);
	int di = world_index(b->world, dst);
	if (di < 0)
		return CHAOS_EINVAL;
	char comment[128];
	snprintf(comment, sizeof comment, "%s %s", CHAOS_RULE_TAG, tag);
	const char *argv[] = { "iptables", "-w", add ? "-I" : "-D", "FORWARD", "-s", src->addr_text,
			       "-d", dst->addr_text, "-m", "comment", "--comment", comment, "-j",
			       "DROP", NULL };
	int status;
	char err[256];
	int rc = vag_ssh_exec(im->ssh, im->map[di].tor, argv, NULL, 0, NULL, &status, err,
			      sizeof(err));
	if (rc != VAG_OK || status != 0) {
		fprintf(stderr, "physalia-chaos: %s: iptables: %s\n", im->map[di].tor, err);
		return CHAOS_ETOOL;
	}
	return 0;
}

/* The ToR machine a world router name means: the name itself when it is a
 * ToR machine, else the ToR of a host whose router it is. */
static const char *tor_machine(struct chaos_backend *b, const char *router)
{
	struct vb_impl *im = impl(b);
	for (size_t i = 0; i < im->ntors; i++)
		if (strcmp(im->tors[i], router) == 0)
			return im->tors[i];
	for (size_t i = 0; i < b->world->nhosts; i++)
		if (strcmp(b->world->hosts[i].router, router) == 0)
			return im->map[i].tor;
	return NULL;
}

static int vb_block_counts(struct chaos_backend *b, const char *router, const char *tag,
			   chaos_count_fn fn, void *ud)
{
	struct vb_impl *im = impl(b);
	const char *tor = tor_machine(b, router);
	if (tor == NULL)
		return CHAOS_ENOTFOUND;
	const char *argv[] = { "iptables", "-w", "-L", "FORWARD", "-n", "-v", "-x", NULL };
	char *out = NULL, err[256];
	int status;
	int rc = vag_ssh_exec(im->ssh, tor, argv, NULL, 0, &out, &status, err, sizeof(err));
	if (rc != VAG_OK || status != 0) {
		free(out);
		return CHAOS_ETOOL;
	}
	char needle[160];
	snprintf(needle, sizeof needle, "/* %s %s */", CHAOS_RULE_TAG, tag);
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, needle) == NULL)
			continue;
		unsigned long long pk, by;
		char target[32], prot[16], opt[16], in[32], outif[32], src[64], dst[64];
		if (sscanf(line, "%llu %llu %31s %15s %15s %31s %31s %63s %63s", &pk, &by, target,
			   prot, opt, in, outif, src, dst) != 9)
			continue;
		struct in_addr a, d;
		if (inet_pton(AF_INET, src, &a) != 1 || inet_pton(AF_INET, dst, &d) != 1)
			continue;
		/* The runner knows a destination by its iface: give the world's. */
		const char *iface = outif;
		for (size_t i = 0; i < b->world->nhosts; i++)
			if (b->world->hosts[i].addr == ntohl(d.s_addr))
				iface = b->world->hosts[i].iface;
		fn(ud, ntohl(a.s_addr), iface, pk);
	}
	free(out);
	return 0;
}

static int vb_impair(struct chaos_backend *b, const char *line)
{
	struct vb_impl *im = impl(b);
	int rc = 0;
	for (size_t i = 0; i < im->ntors; i++) {
		char reply[512], err[256];
		if (vag_ssh_engine_line(im->ssh, im->tors[i], line, reply, sizeof(reply), err,
					sizeof(err)) != VAG_OK ||
		    (strncmp(reply, "ok", 2) != 0 && strncmp(reply, "stats", 5) != 0)) {
			fprintf(stderr, "physalia-chaos: %s: impairment engine: %s\n", im->tors[i],
				err[0] ? err : reply);
			rc = CHAOS_ETOOL;
		}
	}
	return rc;
}

static int vb_rate(struct chaos_backend *b, const struct chaos_host *dst, uint32_t kbit)
{
	(void)b, (void)dst, (void)kbit;
	fprintf(stderr, "physalia-chaos: bandwidth limits are not implemented by the vagrant "
			"backend (docs/vagrant.md)\n");
	return CHAOS_ENOTBUILT;
}

static int vb_run(struct chaos_backend *b, const struct chaos_host *h, const char *const *argv)
{
	struct vb_impl *im = impl(b);
	int hi = world_index(b->world, h);
	if (hi < 0)
		return CHAOS_EINVAL;
	int status;
	char err[256];
	int rc = vag_ssh_exec(im->ssh, im->map[hi].machine, argv, NULL, 0, NULL, &status, err,
			      sizeof(err));
	return rc == VAG_OK ? status : CHAOS_ETOOL;
}

static const struct chaos_backend_ops vb_ops = {
	"vagrant (ssh)", vb_start, vb_signal, vb_wait, vb_block, vb_block_counts,
	vb_impair, vb_rate, vb_run,
};

/* Reads hosts.tsv: host -> machine, ToR; every world host must be there
 * with the run's address. */
static int read_hosts(struct vb_impl *im, const struct chaos_world *w, const char *path,
		      char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CHAOS_ENOTFOUND;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	char chunk[8192];
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			char *t = realloc(text, cap);
			if (t == NULL) {
				free(text);
				fclose(f);
				return CHAOS_ENOMEM;
			}
			text = t;
		}
		memcpy(text + len, chunk, got);
		len += got;
	}
	fclose(f);
	struct vag_hosts_row *rows = NULL;
	size_t n = 0;
	int vrc = vag_hosts_tsv_parse(path, text ? text : "", len, &rows, &n, err, errlen);
	free(text);
	if (vrc != VAG_OK)
		return vrc == VAG_ENOMEM ? CHAOS_ENOMEM : CHAOS_ESYNTAX;
	int rc = 0;
	for (size_t i = 0; i < w->nhosts && rc == 0; i++) {
		size_t j = 0;
		while (j < n && strcmp(rows[j].host, w->hosts[i].name) != 0)
			j++;
		if (j == n) {
			snprintf(err, errlen, "%s: no machine for host %s", path, w->hosts[i].name);
			rc = CHAOS_ENOTFOUND;
		} else if (rows[j].addr != w->hosts[i].addr) {
			char a[16];
			snprintf(err, errlen, "%s: host %s has address %s on the machines, %s in the run",
				 path, rows[j].host, vag_ip(rows[j].addr, a), w->hosts[i].addr_text);
			rc = CHAOS_EINVAL;
		} else {
			snprintf(im->map[i].host, sizeof(im->map[i].host), "%s", rows[j].host);
			snprintf(im->map[i].machine, sizeof(im->map[i].machine), "%s", rows[j].machine);
			snprintf(im->map[i].tor, sizeof(im->map[i].tor), "%s", rows[j].tor);
			im->map[i].addr = rows[j].addr;
		}
	}
	free(rows);
	return rc;
}

int vag_backend_open(struct chaos_world *w, const char *vagrant_dir, const char *ssh_config,
		     const char *control_dir, const char *impair_cmd, int sudo,
		     struct chaos_backend *out, char *err, size_t errlen)
{
	struct vb_impl *im = calloc(1, sizeof(*im));
	if (im == NULL)
		return CHAOS_ENOMEM;
	int rc = CHAOS_ENOMEM;
	im->map = calloc(w->nhosts ? w->nhosts : 1, sizeof(*im->map));
	im->tors = calloc(w->nhosts ? w->nhosts : 1, sizeof(*im->tors));
	im->tor_net = calloc(w->nhosts ? w->nhosts : 1, sizeof(*im->tor_net));
	if (im->map == NULL || im->tors == NULL || im->tor_net == NULL)
		goto err_free;
	char path[1024];
	snprintf(path, sizeof(path), "%s/hosts.tsv", vagrant_dir);
	if ((rc = read_hosts(im, w, path, err, errlen)) != 0)
		goto err_free;
	for (size_t i = 0; i < w->nhosts; i++) {
		size_t t = 0;
		while (t < im->ntors && strcmp(im->tors[t], im->map[i].tor) != 0)
			t++;
		if (t == im->ntors) {
			snprintf(im->tors[t], sizeof(im->tors[t]), "%s", im->map[i].tor);
			im->tor_net[t] = im->map[i].addr & 0xFFFFFF00u;
			im->ntors++;
		}
	}
	snprintf(im->ssh_config, sizeof(im->ssh_config), "%s", ssh_config);
	snprintf(im->control_dir, sizeof(im->control_dir), "%s", control_dir);
	snprintf(im->remote_dir, sizeof(im->remote_dir), "/var/lib/physalia-chaos");
	struct vag_ssh_opts o = { .ssh_config = im->ssh_config, .control_dir = im->control_dir,
				  .remote_dir = im->remote_dir, .impair_cmd = impair_cmd,
				  .sudo = sudo };
	if (vag_ssh_open(&o, &im->ssh) != VAG_OK) {
		snprintf(err, errlen, "bad ssh options");
		rc = CHAOS_EINVAL;
		goto err_free;
	}
	/* One engine per ToR, for packets bound to its rack. */
	for (size_t t = 0; t < im->ntors; t++)
		if (vag_ssh_engine_open(im->ssh, im->tors[t], im->tor_net[t], 24, err, errlen) !=
		    VAG_OK) {
			rc = CHAOS_ETOOL;
			goto err_close_ssh;
		}
	out->ops = &vb_ops;
	out->world = w;
	out->impl = im;
	return 0;

err_close_ssh:
	vag_ssh_close(im->ssh);
err_free:
	free(im->map);
	free(im->tors);
	free(im->tor_net);
	free(im);
	return rc;
}

int vag_backend_put(struct chaos_backend *b, const struct chaos_host *h, const char *local,
		    const char *remote)
{
	struct vb_impl *im = impl(b);
	int hi = world_index(b->world, h);
	if (hi < 0)
		return CHAOS_EINVAL;
	char err[256];
	int rc = vag_ssh_put(im->ssh, im->map[hi].machine, local, remote, err, sizeof(err));
	if (rc == VAG_OK)
		return 0;
	fprintf(stderr, "physalia-chaos: %s\n", err);
	return rc == VAG_ENOTFOUND ? CHAOS_ENOTFOUND : CHAOS_ETOOL;
}

int vag_backend_fetch(struct chaos_backend *b, const struct chaos_host *h, const char *remote,
		      const char *local)
{
	struct vb_impl *im = impl(b);
	int hi = world_index(b->world, h);
	if (hi < 0)
		return CHAOS_EINVAL;
	char err[256];
	int rc = vag_ssh_fetch(im->ssh, im->map[hi].machine, remote, local, err, sizeof(err));
	if (rc == VAG_OK)
		return 0;
	if (rc != VAG_ENOTFOUND)
		fprintf(stderr, "physalia-chaos: %s\n", err);
	return rc == VAG_ENOTFOUND ? CHAOS_ENOTFOUND : CHAOS_ETOOL;
}

void vag_backend_close(struct chaos_backend *b)
{
	struct vb_impl *im = impl(b);
	if (im == NULL)
		return;
	vag_ssh_close(im->ssh); /* stops the engines */
	free(im->map);
	free(im->tors);
	free(im->tor_net);
	free(im);
	b->impl = NULL;
}
