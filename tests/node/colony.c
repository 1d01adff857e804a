/* Real node processes on loopback for integration tests. */
#define _POSIX_C_SOURCE 200809L
#include "colony.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

int colony_port(const struct colony *c, uint32_t id, int which)
{
	return c->base_port + which * 10 + (int)id;
}

void colony_client_addr(const struct colony *c, uint32_t id, char *buf, size_t n)
{
	snprintf(buf, n, "127.0.0.1:%d", colony_port(c, id, 1));
}

void colony_log_path(const struct colony *c, uint32_t id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/node%u.log", c->dir, id);
}

static int write_config(struct colony *c, uint32_t id)
{
	char path[400];
	snprintf(path, sizeof path, "%s/node%u.yaml", c->dir, id);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
		"node_id: %u\nlisten:\n  peers: 127.0.0.1:%d\n  clients: 127.0.0.1:%d\n"
		"  metrics: 127.0.0.1:%d\ndata_dir: %s/data%u\nkeys: %s\n",
		id, colony_port(c, id, 0), colony_port(c, id, 1), colony_port(c, id, 2), c->dir, id,
		c->keys[0] ? c->keys : "{current: " COLONY_KEY "}");
	if (strstr(c->extra, "log_level") == NULL)
		fputs("log_level: info\n", f);
	fputs(c->extra, f);
	fprintf(f, "peers:\n");
	for (uint32_t j = 1; j <= c->n; j++)
		fprintf(f, "  - {id: %u, peer: 127.0.0.1:%d, client: 127.0.0.1:%d}\n", j,
			colony_port(c, j, 0), colony_port(c, j, 1));
	return fclose(f);
}

static int accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

int colony_rewrite_config(struct colony *c, uint32_t id, const char *keys_yaml)
{
	snprintf(c->keys, sizeof c->keys, "%s", keys_yaml);
	int rc = write_config(c, id);
	c->keys[0] = 0;
	return rc;
}

int colony_node_start(struct colony *c, uint32_t id)
{
	char cfg[400], log[400], bin[400];
	snprintf(cfg, sizeof cfg, "%s/node%u.yaml", c->dir, id);
	colony_log_path(c, id, log, sizeof log);
	snprintf(bin, sizeof bin, "%s/node/physalia-node", PH_BINARY_DIR);
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		if (c->wrapper) {
			char wbuf[256];
			snprintf(wbuf, sizeof wbuf, "%s", c->wrapper);
			char *argv[16];
			int k = 0;
			char *save = NULL;
			for (char *w = strtok_r(wbuf, " ", &save); w && k < 10; w = strtok_r(NULL, " ", &save))
				argv[k++] = w;
			argv[k++] = bin;
			argv[k++] = "--config";
			argv[k++] = cfg;
			argv[k] = NULL;
			execvp(argv[0], argv);
		} else {
			execl(bin, bin, "--config", cfg, (char *)NULL);
		}
		_exit(127);
	}
	c->pid[id] = p;
	for (int i = 0; i < 1000; i++) {
		if (accepts(colony_port(c, id, 1)))
			return 0;
		int st;
		if (waitpid(p, &st, WNOHANG) == p) {
			c->pid[id] = 0;
			fprintf(stderr, "colony: node %u exited at start (status %d), see %s\n", id, st, log);
			return -1;
		}
		nap_ms(10);
	}
	fprintf(stderr, "colony: node %u did not open its client port\n", id);
	return -1;
}

int colony_start(struct colony *c, size_t n, const char *extra_yaml)
{
	const char *w = c->wrapper;
	memset(c, 0, sizeof *c);
	c->wrapper = w;
	c->n = n;
	snprintf(c->extra, sizeof c->extra, "%s", extra_yaml ? extra_yaml : "");
	snprintf(c->dir, sizeof c->dir, "/tmp/ph-colony-XXXXXX");
	if (mkdtemp(c->dir) == NULL)
		return -1;
	/* below the kernel's ephemeral range (32768-60999): no clash with
	 * the source ports of outgoing connections */
	c->base_port = 20000 + (int)(getpid() % 300) * 40;
	for (uint32_t id = 1; id <= n; id++)
		if (write_config(c, id) != 0)
			return -1;
	for (uint32_t id = 1; id <= n; id++)
		if (colony_node_start(c, id) != 0)
			return -1;
	return 0;
}

int colony_node_wait(struct colony *c, uint32_t id, int ms)
{
	if (c->pid[id] == 0)
		return -1;
	for (int i = 0; i <= ms; i += 5) {
		int st;
		if (waitpid(c->pid[id], &st, WNOHANG) == c->pid[id]) {
			c->pid[id] = 0;
			return st;
		}
		nap_ms(5);
	}
	return -1;
}

int colony_node_signal(struct colony *c, uint32_t id, int sig)
{
	if (c->pid[id] == 0)
		return -1;
	kill(c->pid[id], sig);
	if (sig != SIGKILL && sig != SIGTERM && sig != SIGINT)
		return 0;
	return colony_node_wait(c, id, 10000);
}

static void rm_rf(const char *dir)
{
	char cmd[400];
	if (strncmp(dir, "/tmp/ph-colony-", 15) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "colony: could not remove %s\n", dir);
}

void colony_destroy(struct colony *c)
{
	for (uint32_t id = 1; id <= c->n; id++) {
		if (c->pid[id]) {
			kill(c->pid[id], SIGKILL);
			waitpid(c->pid[id], NULL, 0);
			c->pid[id] = 0;
		}
	}
	if (getenv("PH_KEEP_COLONY") == NULL)
		rm_rf(c->dir);
	else
		fprintf(stderr, "colony: kept %s\n", c->dir);
}

char *colony_metrics(const struct colony *c, uint32_t id)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)colony_port(c, id, 2)) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return NULL;
	}
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1) {
		close(fd);
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

double colony_metric(const char *page, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = page; p && *p;) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
			return strtod(p + nl + 1, NULL);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}
