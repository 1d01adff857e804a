/* Reading a generated Vagrantfile's MACHINES table, and forwarding through
 * it the way the guests' kernels would with provision.sh's routes: longest
 * prefix wins; a route equal to a NIC's own subnet replaces the connected
 * route (provision.sh deletes it); otherwise connected subnets deliver
 * directly. */
#define _POSIX_C_SOURCE 200809L
#include "vfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t vf_ip(const char *s)
{
	unsigned a, b, c, d;
	char tail;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return 0;
	return a << 24 | b << 16 | c << 8 | d;
}

static int field(const char *line, const char *key, char *out)
{
	const char *p = strstr(line, key);
	if (p == NULL || p[strlen(key)] != '"')
		return -1;
	p += strlen(key) + 1;
	const char *q = strchr(p, '"');
	if (q == NULL || q - p >= VF_TOK)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

/* key: [[tok, tok, ...], ...]: each token a "string" or an integer. */
static int list(const char *line, const char *key, struct vf_entry *e, size_t max, size_t *n)
{
	const char *p = strstr(line, key);
	if (p == NULL)
		return -1;
	p += strlen(key);
	if (*p++ != '[')
		return -1;
	*n = 0;
	while (*p == ' ' || *p == ',')
		p++;
	while (*p == '[') {
		if (*n == max)
			return -1;
		struct vf_entry *x = &e[(*n)++];
		x->ntok = 0;
		p++;
		while (*p != ']') {
			while (*p == ' ' || *p == ',')
				p++;
			if (x->ntok == 3)
				return -1;
			char *t = x->tok[x->ntok++];
			size_t k = 0;
			if (*p == '"') {
				p++;
				while (*p && *p != '"' && k + 1 < VF_TOK)
					t[k++] = *p++;
				if (*p++ != '"')
					return -1;
			} else {
				while (*p >= '0' && *p <= '9' && k + 1 < VF_TOK)
					t[k++] = *p++;
				if (k == 0)
					return -1;
			}
			t[k] = '\0';
			while (*p == ' ')
				p++;
			if (*p != ',' && *p != ']')
				return -1;
		}
		p++;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return *p == ']' ? 0 : -1;
}

int vf_load(const char *path, struct vf *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	struct vf v = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, in_table = 0, rc = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (strncmp(line, "MACHINES = [", 12) == 0) {
			in_table = 1;
			continue;
		}
		if (!in_table)
			continue;
		if (strncmp(line, "].freeze", 8) == 0)
			break;
		struct vf_machine *m = realloc(v.m, (v.n + 1) * sizeof(*m));
		if (m == NULL) {
			rc = -1;
			break;
		}
		v.m = m;
		m = &v.m[v.n++];
		memset(m, 0, sizeof(*m));
		if (field(line, "name: ", m->name) || field(line, "kind: ", m->kind) ||
		    field(line, "rack: ", m->rack) || field(line, "roles: ", m->roles) ||
		    list(line, "hosts: ", m->hosts, VF_MAX, &m->nhosts) ||
		    list(line, "nics: ", m->nics, sizeof(m->nics) / sizeof(m->nics[0]), &m->nnics) ||
		    list(line, "routes: ", m->routes, VF_MAX, &m->nroutes)) {
			snprintf(err, errlen, "%s:%d: not a machine line", path, lineno);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	if (rc == 0 && v.n == 0) {
		snprintf(err, errlen, "%s: no MACHINES table", path);
		rc = -1;
	}
	if (rc != 0) {
		vf_free(&v);
		return -1;
	}
	*out = v;
	return 0;
}

void vf_free(struct vf *v)
{
	free(v->m);
	v->m = NULL;
	v->n = 0;
}

int vf_owner(const struct vf *v, uint32_t a)
{
	for (size_t i = 0; i < v->n; i++) {
		for (size_t j = 0; j < v->m[i].nnics; j++)
			if (vf_ip(v->m[i].nics[j].tok[1]) == a)
				return (int)i;
		for (size_t j = 0; j < v->m[i].nhosts; j++)
			if (vf_ip(v->m[i].hosts[j].tok[1]) == a)
				return (int)i;
	}
	return -1;
}

static uint32_t mask(int len) { return len == 0 ? 0 : 0xFFFFFFFFu << (32 - len); }

/* The NIC of machine m whose subnet holds a, or -1. */
static int nic_on(const struct vf_machine *m, uint32_t a)
{
	for (size_t j = 0; j < m->nnics; j++) {
		int len = atoi(m->nics[j].tok[2]);
		if ((vf_ip(m->nics[j].tok[1]) & mask(len)) == (a & mask(len)))
			return (int)j;
	}
	return -1;
}

int vf_forward(const struct vf *v, int from, uint32_t dst, int *path, int pathmax,
	       char *err, size_t errlen)
{
	int cur = from, hops = 0;
	int owner = vf_owner(v, dst);
	for (int ttl = 0; ttl < 16; ttl++) {
		if (cur == owner)
			return hops;
		const struct vf_machine *m = &v->m[cur];
		/* Longest matching explicit route. */
		int best = -1, bestlen = -1;
		for (size_t j = 0; j < m->nroutes; j++) {
			char net[VF_TOK];
			snprintf(net, sizeof(net), "%s", m->routes[j].tok[0]);
			char *slash = strchr(net, '/');
			if (slash == NULL)
				continue;
			*slash = '\0';
			int len = atoi(slash + 1);
			if ((vf_ip(net) & mask(len)) == (dst & mask(len)) && len > bestlen) {
				best = (int)j;
				bestlen = len;
			}
		}
		/* A connected subnet, unless an explicit route is at least as long. */
		int nic = nic_on(m, dst);
		int nextm;
		if (nic >= 0 && atoi(m->nics[nic].tok[2]) > bestlen) {
			nextm = owner;
			if (nextm < 0 || nic_on(&v->m[nextm], dst) < 0) {
				snprintf(err, errlen, "%s: %s is on its segment %s but no machine has it",
					 m->name, "destination", m->nics[nic].tok[0]);
				return -1;
			}
		} else if (best >= 0) {
			uint32_t via = vf_ip(m->routes[best].tok[1]);
			nextm = vf_owner(v, via);
			int mine = nic_on(m, via);
			if (nextm < 0 || mine < 0) {
				snprintf(err, errlen, "%s: next hop %s is not on any of its segments",
					 m->name, m->routes[best].tok[1]);
				return -1;
			}
			/* The next hop must be on the same network (same name). */
			int shared = 0;
			for (size_t j = 0; j < v->m[nextm].nnics; j++)
				if (strcmp(v->m[nextm].nics[j].tok[0], m->nics[mine].tok[0]) == 0 &&
				    vf_ip(v->m[nextm].nics[j].tok[1]) == via)
					shared = 1;
			if (!shared) {
				snprintf(err, errlen, "%s: next hop %s is not on network %s", m->name,
					 m->routes[best].tok[1], m->nics[mine].tok[0]);
				return -1;
			}
		} else {
			snprintf(err, errlen, "%s: no route to the destination", m->name);
			return -1;
		}
		if (hops < pathmax)
			path[hops] = nextm;
		hops++;
		cur = nextm;
	}
	snprintf(err, errlen, "routing loop from %s", v->m[from].name);
	return -1;
}
