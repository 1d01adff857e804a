/* The machine layout: a rack model turned into virtual machines and the
 * private networks between them, so that every packet between two hosts
 * crosses at least one router, as in topology's namespace fabric:
 *
 *   host --[rack segment phrK]-- ToR K --[uplink phuK]-- spine of the row
 *                                          spines --[phcore]-- spines
 *
 * Hosts route even their own rack's /24 through the ToR (provision.sh
 * removes the connected route), so intra-rack packets are forwarded by the
 * ToR too; the address plan is in vagrant.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vagrant.h"

#define NET_HOSTS 0xC6120000u /* 198.18.0.0/16: rack segments by default */
#define NET_UPLINKS 0xC613C000u /* 198.19.192.0/18: rack uplinks and core */
#define NET_CORE 0xC613FF00u /* 198.19.255.0/24: between spines */
#define NET_FABRIC 0xC6120000u /* 198.18.0.0/15: the default range */
#define TOR_LAST 254 /* the ToR's address on its rack segment: .254 */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

char *vag_ip(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static uint32_t rack_net(const struct vag_model *m, size_t k)
{
	return m->racks[k].subnet ? m->racks[k].subnet : NET_HOSTS | (uint32_t)k << 8;
}
/* No router address ends in .1: Vagrant warns about those (a host-only
 * network's host usually sits there), though our networks have no host. */
static uint32_t tor_addr(const struct vag_model *m, size_t k) { return rack_net(m, k) | TOR_LAST; }
static uint32_t uplink_net(size_t k)
{
	return NET_UPLINKS | (uint32_t)(k / 32) << 8 | (uint32_t)(8 * (k % 32));
}
#define UPLINK_SPINE 2
#define UPLINK_TOR 3
static uint32_t core_addr(size_t row) { return NET_CORE | (uint32_t)(row + 2); }

/* A Vagrant machine name and guest hostname: [a-z0-9-], not starting with
 * '-'. Returns 0, or VAG_EINVAL when nothing usable is left. */
static int sanitize(const char *in, const char *suffix, char *out, size_t outlen)
{
	char tmp[2 * VAG_NAME_MAX];
	snprintf(tmp, sizeof(tmp), "%s%s", in, suffix);
	size_t j = 0;
	for (size_t i = 0; tmp[i] != '\0' && j + 1 < outlen; i++) {
		char c = tmp[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && j == 0)
			continue;
		out[j++] = c;
	}
	out[j] = '\0';
	return j == 0 ? VAG_EINVAL : VAG_OK;
}

static int add_nic(struct vag_machine *m, const char *net, uint32_t addr, int prefix)
{
	struct vag_nic *n = realloc(m->nics, (m->nnics + 1) * sizeof(*n));
	if (n == NULL)
		return VAG_ENOMEM;
	m->nics = n;
	n = &m->nics[m->nnics++];
	memset(n, 0, sizeof(*n));
	snprintf(n->net, sizeof(n->net), "%s", net);
	n->addr = addr;
	n->prefix = prefix;
	return VAG_OK;
}

static int add_route(struct vag_machine *m, uint32_t dst, int prefix, uint32_t via)
{
	struct vag_route *r = realloc(m->routes, (m->nroutes + 1) * sizeof(*r));
	if (r == NULL)
		return VAG_ENOMEM;
	m->routes = r;
	m->routes[m->nroutes++] = (struct vag_route){ .dst = dst, .prefix = prefix, .via = via };
	return VAG_OK;
}

void vag_layout_free(struct vag_layout *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nmachines; i++) {
		free(l->machines[i].hosts);
		free(l->machines[i].nics);
		free(l->machines[i].routes);
	}
	free(l->machines);
	free(l->host_addr);
	free(l->host_machine);
	free(l->rows);
	free(l);
}

/* Assigns every host its address: the model's (its fabric address) when it
 * lies in its rack's /24 (.1 to .253), else the next free one from .10. */
static int assign_addresses(const struct vag_model *m, struct vag_layout *l, char *err,
			    size_t errlen)
{
	unsigned char (*used)[256] = calloc(m->nracks, sizeof(*used));
	if (used == NULL)
		return VAG_ENOMEM;
	int rc = VAG_OK;
	for (size_t i = 0; i < m->nhosts && rc == VAG_OK; i++) {
		const struct vag_host_in *h = &m->hosts[i];
		uint32_t a = h->addr;
		if (a == 0)
			continue;
		uint32_t last = a & 255;
		char seg[16];
		if ((a & 0xFFFFFF00u) != rack_net(m, h->rack) || last < 1 || last >= TOR_LAST)
			rc = fail(err, errlen, VAG_ELIMIT,
				  "host %s: address %u.%u.%u.%u is not in its rack's segment (%s/24, .1-.253)",
				  h->name, a >> 24, (a >> 16) & 255, (a >> 8) & 255, last,
				  vag_ip(rack_net(m, h->rack), seg));
		else if (used[h->rack][last])
			rc = fail(err, errlen, VAG_EINVAL, "host %s: address already used by another host",
				  h->name);
		else {
			used[h->rack][last] = 1;
			l->host_addr[i] = a;
		}
	}
	for (size_t i = 0; i < m->nhosts && rc == VAG_OK; i++) {
		const struct vag_host_in *h = &m->hosts[i];
		if (h->addr != 0)
			continue;
		unsigned last = 10;
		while (last < TOR_LAST && used[h->rack][last])
			last++;
		if (last == TOR_LAST) {
			rc = fail(err, errlen, VAG_ELIMIT, "rack %s: more hosts than addresses in its /24",
				  m->racks[h->rack].name);
			break;
		}
		used[h->rack][last] = 1;
		l->host_addr[i] = rack_net(m, h->rack) | last;
	}
	free(used);
	return rc;
}

static size_t row_of(const struct vag_layout *l, const char *row)
{
	for (size_t r = 0; r < l->nrows; r++)
		if (strcmp(l->rows[r], row) == 0)
			return r;
	return l->nrows;
}

static int check_model(const struct vag_model *m, char *err, size_t errlen)
{
	if (m->nracks == 0 || m->nhosts == 0)
		return fail(err, errlen, VAG_EINVAL, "the rack model has no %s",
			    m->nracks == 0 ? "racks" : "hosts");
	if (m->nracks > VAG_RACKS_MAX)
		return fail(err, errlen, VAG_ELIMIT, "%zu racks: the address plan holds %d",
			    m->nracks, VAG_RACKS_MAX);
	for (size_t k = 0; k < m->nracks; k++) {
		uint32_t net = rack_net(m, k);
		char a[16];
		if ((net & 0xFF) != 0 || (net & 0xFFFFC000u) == NET_UPLINKS)
			return fail(err, errlen, VAG_ELIMIT,
				    "rack %s: segment %s/24 is not a /24 outside 198.19.192.0/18 "
				    "(the VMs' uplinks and core)",
				    m->racks[k].name, vag_ip(net, a));
		for (size_t j = 0; j < k; j++)
			if (rack_net(m, j) == net)
				return fail(err, errlen, VAG_EINVAL, "racks %s and %s share %s/24",
					    m->racks[j].name, m->racks[k].name, vag_ip(net, a));
	}
	size_t *count = calloc(m->nracks, sizeof(*count));
	if (count == NULL)
		return VAG_ENOMEM;
	int rc = VAG_OK;
	for (size_t i = 0; i < m->nhosts && rc == VAG_OK; i++) {
		if (m->hosts[i].rack >= m->nracks)
			rc = fail(err, errlen, VAG_EINVAL, "host %s: no such rack", m->hosts[i].name);
		else if (++count[m->hosts[i].rack] > VAG_HOSTS_PER_RACK_MAX)
			rc = fail(err, errlen, VAG_ELIMIT, "rack %s: more than %d hosts",
				  m->racks[m->hosts[i].rack].name, VAG_HOSTS_PER_RACK_MAX);
		else if (m->hosts[i].roles == 0)
			rc = fail(err, errlen, VAG_EINVAL, "host %s: neither node nor client",
				  m->hosts[i].name);
	}
	free(count);
	return rc;
}

static int make_machines(const struct vag_model *m, struct vag_layout *l, char *err,
			 size_t errlen)
{
	/* At most: a machine per host, a ToR per rack, a spine per row. */
	size_t cap = (l->grouped ? m->nracks : m->nhosts) + m->nracks + l->nrows;
	l->machines = calloc(cap, sizeof(*l->machines));
	if (l->machines == NULL)
		return VAG_ENOMEM;
	char net[VAG_NAME_MAX];
	int rc;
	/* Hosts and ToRs send the fabric's whole range up; every rack
	 * segment lies inside it. */
	uint32_t range = m->range_base ? m->range_base : NET_FABRIC;
	int range_len = m->range_base ? m->range_prefix : 15;
	for (size_t k = 0; k < m->nracks; k++)
		if (range_len < 8 || range_len > 24 ||
		    (rack_net(m, k) & (0xFFFFFFFFu << (32 - range_len))) != range)
			return fail(err, errlen, VAG_ELIMIT, "rack %s: segment outside the fabric's range",
				    m->racks[k].name);

	/* Host machines, in model order (grouped: in rack order). */
	for (size_t k = 0; k < m->nracks; k++) {
		struct vag_machine *g = NULL;
		for (size_t i = 0; i < m->nhosts; i++) {
			const struct vag_host_in *h = &m->hosts[i];
			if (h->rack != k)
				continue;
			struct vag_machine *x = g;
			if (x == NULL) {
				x = &l->machines[l->nmachines++];
				x->kind = VAG_M_HOST;
				x->rack = k;
				rc = l->grouped ? sanitize(m->racks[k].name, "-hosts", x->name, sizeof(x->name))
						: sanitize(h->name, "", x->name, sizeof(x->name));
				if (rc != VAG_OK)
					return fail(err, errlen, rc, "host %s: no usable machine name", h->name);
				snprintf(net, sizeof(net), "phr%zu", k);
				if ((rc = add_nic(x, net, l->host_addr[i], 24)) != VAG_OK ||
				    (rc = add_route(x, rack_net(m, k), 24, tor_addr(m, k))) != VAG_OK ||
				    (rc = add_route(x, range, range_len, tor_addr(m, k))) != VAG_OK)
					return rc;
				if (l->grouped)
					g = x;
			}
			size_t *hs = realloc(x->hosts, (x->nhosts + 1) * sizeof(*hs));
			if (hs == NULL)
				return VAG_ENOMEM;
			x->hosts = hs;
			x->hosts[x->nhosts++] = i;
			x->roles |= h->roles;
			l->host_machine[i] = (size_t)(x - l->machines);
		}
	}
	/* ToRs. */
	for (size_t k = 0; k < m->nracks; k++) {
		struct vag_machine *x = &l->machines[l->nmachines++];
		x->kind = VAG_M_TOR;
		x->rack = k;
		if (sanitize(m->racks[k].name, "", x->name + 4, sizeof(x->name) - 4) != VAG_OK)
			return fail(err, errlen, VAG_EINVAL, "rack %zu: no usable machine name", k + 1);
		memcpy(x->name, "tor-", 4);
		uint32_t up = uplink_net(k);
		snprintf(net, sizeof(net), "phr%zu", k);
		if ((rc = add_nic(x, net, tor_addr(m, k), 24)) != VAG_OK)
			return rc;
		snprintf(net, sizeof(net), "phu%zu", k);
		if ((rc = add_nic(x, net, up | UPLINK_TOR, 29)) != VAG_OK ||
		    (rc = add_route(x, range, range_len, up | UPLINK_SPINE)) != VAG_OK)
			return rc;
	}
	/* Spines. */
	for (size_t r = 0; r < l->nrows; r++) {
		struct vag_machine *x = &l->machines[l->nmachines++];
		x->kind = VAG_M_SPINE;
		x->row = r;
		if (sanitize(l->rows[r], "", x->name + 6, sizeof(x->name) - 6) != VAG_OK)
			return fail(err, errlen, VAG_EINVAL, "row %zu: no usable machine name", r + 1);
		memcpy(x->name, "spine-", 6);
		for (size_t k = 0; k < m->nracks; k++) {
			size_t kr = row_of(l, m->racks[k].row);
			if (kr == r) {
				snprintf(net, sizeof(net), "phu%zu", k);
				if ((rc = add_nic(x, net, uplink_net(k) | UPLINK_SPINE, 29)) != VAG_OK ||
				    (rc = add_route(x, rack_net(m, k), 24, uplink_net(k) | UPLINK_TOR)) != VAG_OK)
					return rc;
			} else if ((rc = add_route(x, rack_net(m, k), 24, core_addr(kr))) != VAG_OK)
				return rc;
		}
		if (l->nrows > 1 && (rc = add_nic(x, "phcore", core_addr(r), 24)) != VAG_OK)
			return rc;
	}
	/* Machine names must be unique: hosts, ToRs and spines share one space. */
	for (size_t i = 0; i < l->nmachines; i++)
		for (size_t j = i + 1; j < l->nmachines; j++)
			if (strcmp(l->machines[i].name, l->machines[j].name) == 0)
				return fail(err, errlen, VAG_EINVAL,
					    "two machines would be named %s (rename a host, rack or row)",
					    l->machines[i].name);
	return VAG_OK;
}

int vag_layout_make(const struct vag_model *m, size_t max_host_vms,
		    struct vag_layout **out, char *err, size_t errlen)
{
	int rc = check_model(m, err, errlen);
	if (rc != VAG_OK)
		return rc;
	struct vag_layout *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return VAG_ENOMEM;
	l->nhosts = m->nhosts;
	l->host_addr = calloc(m->nhosts, sizeof(*l->host_addr));
	l->host_machine = calloc(m->nhosts, sizeof(*l->host_machine));
	l->rows = calloc(m->nracks, sizeof(*l->rows));
	if (l->host_addr == NULL || l->host_machine == NULL || l->rows == NULL) {
		rc = VAG_ENOMEM;
		goto err_after_alloc;
	}
	for (size_t k = 0; k < m->nracks; k++)
		if (row_of(l, m->racks[k].row) == l->nrows)
			snprintf(l->rows[l->nrows++], VAG_NAME_MAX, "%s", m->racks[k].row);
	if (l->nrows > VAG_ROWS_MAX) {
		rc = fail(err, errlen, VAG_ELIMIT, "%zu rows: the core segment holds %d", l->nrows,
			  VAG_ROWS_MAX);
		goto err_after_alloc;
	}
	l->grouped = m->nhosts > max_host_vms;
	if ((rc = assign_addresses(m, l, err, errlen)) != VAG_OK ||
	    (rc = make_machines(m, l, err, errlen)) != VAG_OK)
		goto err_after_alloc;
	*out = l;
	return VAG_OK;

err_after_alloc:
	if (rc == VAG_ENOMEM)
		fail(err, errlen, rc, "out of memory");
	vag_layout_free(l);
	return rc;
}
