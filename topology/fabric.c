/* topology/fabric.c: a rack model made real on this machine.
 *
 * One network namespace per host, one per rack (its top-of-rack router),
 * one per row (its spine) and, with more than one row, a core. Layout and
 * addressing are in topology.h and docs/topology.md. Build order:
 *   1. one worker thread creates every namespace in turn (unshare + bind
 *      mount, as iproute2 does), writes its sysctls under /proc/sys while it
 *      is inside, and opens a netlink socket and an ioctl socket there:
 *      sockets stay bound to the namespace they were made in;
 *   2. veth pairs are created inside the router's namespace with the peer
 *      end sent straight into the other namespace (IFLA_NET_NS_FD), so no
 *      link ever exists in the root namespace;
 *   3. addresses, routes, loopback and offloads through those sockets.
 * Any failure removes every namespace this call made (and only those). */
#include <net/if.h>

#include "topology/topology.h"
#include "topology/fabric_internal.h"
#include "topology/model_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Built-in fault injection (STYLE.md 6): when topo__fabric_fault_at is N > 0,
 * the N-th step of the next topo_fabric_up fails as if the kernel had
 * refused it. Tests sweep N to prove a failure anywhere leaves nothing. */
int topo__fabric_fault_at;
static int fault_step;

static int injected(const char *what)
{
	if (topo__fabric_fault_at <= 0 || ++fault_step != topo__fabric_fault_at)
		return 0;
	return topo__ferr(TOPO_ENETLINK, "injected fault at step %d (%s)", fault_step, what);
}

enum ns_kind { NS_HOST, NS_TOR, NS_SPINE, NS_CORE };

struct nsrec {
	char name[TOPO_NSNAME_MAX];
	enum ns_kind kind;
	uint32_t index;          /* host, rack or row index */
	struct nl_sock *sk;      /* NETLINK_ROUTE, bound to this namespace */
	int ioctl_fd;            /* AF_INET datagram socket, in this namespace */
	int fd;                  /* the namespace itself (for IFLA_NET_NS_FD) */
};

struct build {
	const struct topo_model *m;
	const char *run;
	struct nsrec *ns;
	size_t n, made;
	size_t host0, tor0, spine0, core; /* first index of each kind in ns[] */
	struct topo_fabric_stats st;
	int rc;
	char err[TOPO_DIAG_MSG_MAX];
};

/* ---- step 1: namespaces ------------------------------------------------------ */

static int write_sysctl(const char *ns, const char *key, const char *value, bool optional)
{
	char path[160];
	snprintf(path, sizeof path, "/proc/sys/net/%s", key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (optional && errno == ENOENT)
			return 0; /* e.g. no IPv6 in this kernel: nothing to turn off */
		return topo__ferr(topo__errno_code(errno, TOPO_EIO), "%s: open %s: %s", ns, path,
				  strerror(errno));
	}
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int err = errno;
	close(fd);
	if (w != (ssize_t)len)
		return topo__ferr(topo__errno_code(err, TOPO_EIO), "%s: write %s: %s", ns, path,
				  strerror(err));
	return 0;
}

/* Inside the new namespace (the worker thread is there). */
static int configure_here(struct nsrec *r)
{
	bool router = r->kind != NS_HOST;
	int rc;
	/* no IPv6 (no router solicitations or DAD in the captures); IPv4
	 * forwarding only in routers; no reverse-path filter, whatever the
	 * root namespace's defaults that IPv4 inherits */
	if ((rc = write_sysctl(r->name, "ipv6/conf/all/disable_ipv6", "1", true)) != 0 ||
	    (rc = write_sysctl(r->name, "ipv6/conf/default/disable_ipv6", "1", true)) != 0 ||
	    (rc = write_sysctl(r->name, "ipv4/conf/all/rp_filter", "0", false)) != 0 ||
	    (rc = write_sysctl(r->name, "ipv4/conf/default/rp_filter", "0", false)) != 0 ||
	    (rc = write_sysctl(r->name, "ipv4/ip_forward", router ? "1" : "0", false)) != 0)
		return rc;
	r->sk = nl_socket_alloc();
	if (r->sk == NULL)
		return topo__ferr(TOPO_ENOMEM, "%s: nl_socket_alloc", r->name);
	int e = nl_connect(r->sk, NETLINK_ROUTE);
	if (e < 0)
		return topo__ferr(TOPO_ENETLINK, "%s: nl_connect: %s", r->name, nl_geterror(e));
	r->ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->ioctl_fd < 0)
		return topo__ferr(topo__errno_code(errno, TOPO_ENETNS), "%s: socket: %s", r->name,
				  strerror(errno));
	return 0;
}

static void *create_worker(void *arg)
{
	struct build *b = arg;
	topo__ferr_clear();
	for (size_t i = 0; i < b->n; i++) {
		if ((b->rc = injected("create namespace")) != 0)
			break;
		b->rc = topo__ns_create_here(b->ns[i].name);
		if (b->rc != 0)
			break;
		b->made++;
		if ((b->rc = injected("configure namespace")) != 0)
			break;
		b->rc = configure_here(&b->ns[i]);
		if (b->rc != 0)
			break;
	}
	topo__ferr_copy(b->err, sizeof b->err);
	return NULL;
}

/* ---- step 2 and 3: links, addresses, routes --------------------------------- */

static int nl_fail(int e, const char *what, const struct nsrec *r, const char *obj)
{
	return topo__ferr(e == -NLE_PERM ? TOPO_EPERM : TOPO_ENETLINK, "%s %s in %s: %s", what,
			  obj, r->name, nl_geterror(e));
}

/* Creates veth name in r with its peer peer_name directly in namespace
 * peer. */
static int veth(struct build *b, struct nsrec *r, const char *name, struct nsrec *peer,
		const char *peer_name)
{
	int inj = injected("veth");
	if (inj != 0)
		return inj;
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (l == NULL)
		return topo__ferr(TOPO_ENOMEM, "rtnl_link_veth_alloc");
	struct rtnl_link *p = rtnl_link_veth_get_peer(l);
	/* both come up later (link_up): asking for IFF_UP here makes the
	 * kernel open the peer before the pair is joined (veth_open: ENOTCONN) */
	rtnl_link_set_name(l, name);
	rtnl_link_set_name(p, peer_name);
	rtnl_link_set_ns_fd(p, peer->fd);
	int e = rtnl_link_add(r->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(p);
	rtnl_link_veth_release(l);
	if (e < 0)
		return nl_fail(e, "create veth", r, name);
	b->st.links += 2;
	return 0;
}

/* The index of link name in r, brought up if it is not. */
static int link_up(struct nsrec *r, const char *name, int ifindex_hint, int *ifindex)
{
	int inj = injected("link up");
	if (inj != 0)
		return inj;
	struct rtnl_link *l = NULL;
	int e = rtnl_link_get_kernel(r->sk, ifindex_hint, ifindex_hint ? NULL : name, &l);
	if (e < 0)
		return nl_fail(e, "find link", r, name);
	if (!(rtnl_link_get_flags(l) & IFF_UP)) {
		struct rtnl_link *ch = rtnl_link_alloc();
		if (ch == NULL) {
			rtnl_link_put(l);
			return TOPO_ENOMEM;
		}
		rtnl_link_set_flags(ch, IFF_UP);
		e = rtnl_link_change(r->sk, l, ch, 0);
		rtnl_link_put(ch);
		if (e < 0) {
			rtnl_link_put(l);
			return nl_fail(e, "bring up", r, name);
		}
	}
	if (ifindex != NULL)
		*ifindex = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return 0;
}

static struct nl_addr *ip4(uint32_t a, unsigned plen)
{
	uint32_t be = htonl(a);
	struct nl_addr *x = nl_addr_build(AF_INET, &be, 4);
	if (x != NULL)
		nl_addr_set_prefixlen(x, (int)plen);
	return x;
}

static int addr(struct build *b, struct nsrec *r, int ifindex, uint32_t a, const char *ifname)
{
	int inj = injected("address");
	if (inj != 0)
		return inj;
	struct rtnl_addr *ad = rtnl_addr_alloc();
	struct nl_addr *local = ip4(a, 31);
	int rc = 0;
	if (ad == NULL || local == NULL) {
		rc = TOPO_ENOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(ad, ifindex);
	rtnl_addr_set_family(ad, AF_INET);
	rtnl_addr_set_local(ad, local);
	int e = rtnl_addr_add(r->sk, ad, NLM_F_CREATE | NLM_F_EXCL);
	if (e < 0)
		rc = nl_fail(e, "add address on", r, ifname);
	else
		b->st.addresses++;
out:
	if (local)
		nl_addr_put(local);
	if (ad)
		rtnl_addr_put(ad);
	return rc;
}

/* dst/plen via gw on ifindex; or unreachable when ifindex is 0. */
static int route(struct build *b, struct nsrec *r, uint32_t dst, unsigned plen, uint32_t gw,
		 int ifindex)
{
	int inj = injected("route");
	if (inj != 0)
		return inj;
	struct rtnl_route *rt = rtnl_route_alloc();
	struct nl_addr *d = ip4(dst, plen), *g = NULL;
	int rc = 0;
	if (rt == NULL || d == NULL) {
		rc = TOPO_ENOMEM;
		goto out;
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_dst(rt, d);
	if (ifindex == 0) {
		rtnl_route_set_type(rt, RTN_UNREACHABLE);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
	} else {
		rtnl_route_set_type(rt, RTN_UNICAST);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
		g = ip4(gw, 32);
		if (nh == NULL || g == NULL) {
			if (nh)
				rtnl_route_nh_free(nh);
			rc = TOPO_ENOMEM;
			goto out;
		}
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
	}
	int e = rtnl_route_add(r->sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	if (e < 0) {
		char what[48];
		snprintf(what, sizeof what, "%u.%u.%u.%u/%u", dst >> 24, (dst >> 16) & 255,
			 (dst >> 8) & 255, dst & 255, plen);
		rc = nl_fail(e, "add route", r, what);
	} else {
		b->st.routes++;
	}
out:
	if (g)
		nl_addr_put(g);
	if (d)
		nl_addr_put(d);
	if (rt)
		rtnl_route_put(rt);
	return rc;
}

/* Segmentation and checksum offloads make a veth hand netfilter, NFQUEUE
 * and pcap super-packets and unfinished checksums; packet-level faults must
 * see the packets as a wire would, so they go off (ethtool ioctls; an
 * offload the driver does not have is fine). */
static int offloads_off(struct nsrec *r, const char *ifname)
{
	int inj = injected("offloads");
	if (inj != 0)
		return inj;
	static const uint32_t cmds[] = { ETHTOOL_SGRO, ETHTOOL_SGSO, ETHTOOL_STSO,
					 ETHTOOL_STXCSUM, ETHTOOL_SRXCSUM, ETHTOOL_SSG };
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		struct ethtool_value ev = { .cmd = cmds[i], .data = 0 };
		struct ifreq ifr;
		memset(&ifr, 0, sizeof ifr);
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
		ifr.ifr_data = (void *)&ev;
		if (ioctl(r->ioctl_fd, SIOCETHTOOL, &ifr) != 0 && errno != EOPNOTSUPP)
			return topo__ferr(topo__errno_code(errno, TOPO_ENETLINK),
					  "offloads off on %s in %s (ethtool cmd %u): %s", ifname,
					  r->name, cmds[i], strerror(errno));
	}
	return 0;
}

/* One end of a link: name, its ifindex, the address on it. */
static int end_up(struct build *b, struct nsrec *r, const char *ifname, uint32_t a, int *ifindex)
{
	int rc = link_up(r, ifname, 0, ifindex);
	if (rc == 0)
		rc = addr(b, r, *ifindex, a, ifname);
	if (rc == 0)
		rc = offloads_off(r, ifname);
	return rc;
}

static uint32_t core_subnet(const struct topo_model *m)
{
	return m->range_base + topo__range_racks(m) * 256u;
}

static int wire(struct build *b)
{
	const struct topo_model *m = b->m;
	int rc;
	for (size_t i = 0; i < b->n; i++)
		if ((rc = link_up(&b->ns[i], "lo", 1, NULL)) != 0)
			return rc;
	/* hosts <-> ToRs */
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		const struct topo_host *ho = &m->hosts[h];
		struct nsrec *hn = &b->ns[b->host0 + h], *tor = &b->ns[b->tor0 + ho->rack];
		char tname[IFNAMSIZ];
		snprintf(tname, sizeof tname, "h%u", ho->slot);
		uint32_t sub = m->racks[ho->rack].subnet;
		int tidx, hidx;
		if ((rc = veth(b, tor, tname, hn, "eth0")) != 0 ||
		    (rc = end_up(b, tor, tname, sub + 2 * ho->slot, &tidx)) != 0 ||
		    (rc = end_up(b, hn, "eth0", sub + 2 * ho->slot + 1, &hidx)) != 0 ||
		    (rc = route(b, hn, m->range_base, m->range_prefix, sub + 2 * ho->slot, hidx)) != 0)
			return rc;
	}
	/* ToRs <-> spines */
	for (uint32_t k = 0; k < m->n_racks; k++) {
		const struct topo_rack *rk = &m->racks[k];
		struct nsrec *tor = &b->ns[b->tor0 + k], *sp = &b->ns[b->spine0 + rk->row];
		char sname[IFNAMSIZ];
		snprintf(sname, sizeof sname, "r%u", k);
		int sidx, tidx;
		if ((rc = veth(b, sp, sname, tor, "up")) != 0 ||
		    (rc = end_up(b, sp, sname, rk->subnet + 254, &sidx)) != 0 ||
		    (rc = end_up(b, tor, "up", rk->subnet + 255, &tidx)) != 0 ||
		    (rc = route(b, tor, m->range_base, m->range_prefix, rk->subnet + 254, tidx)) != 0 ||
		    (rc = route(b, tor, rk->subnet, 24, 0, 0)) != 0 ||
		    (rc = route(b, sp, rk->subnet, 24, rk->subnet + 255, sidx)) != 0)
			return rc;
	}
	/* spines <-> core */
	if (m->n_rows > 1) {
		struct nsrec *core = &b->ns[b->core];
		uint32_t cs = core_subnet(m);
		for (uint32_t r = 0; r < m->n_rows; r++) {
			struct nsrec *sp = &b->ns[b->spine0 + r];
			char cname[IFNAMSIZ];
			snprintf(cname, sizeof cname, "s%u", r);
			int cidx, sidx;
			if ((rc = veth(b, core, cname, sp, "up")) != 0 ||
			    (rc = end_up(b, core, cname, cs + 2 * r, &cidx)) != 0 ||
			    (rc = end_up(b, sp, "up", cs + 2 * r + 1, &sidx)) != 0 ||
			    (rc = route(b, sp, m->range_base, m->range_prefix, cs + 2 * r, sidx)) != 0)
				return rc;
			const struct topo_row *row = &m->rows[r];
			for (uint32_t k = row->first_rack; k < row->first_rack + row->n_racks; k++)
				if ((rc = route(b, core, m->racks[k].subnet, 24, cs + 2 * r + 1, cidx)) != 0)
					return rc;
		}
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int plan(struct build *b)
{
	const struct topo_model *m = b->m;
	b->n = m->n_hosts + m->n_racks + m->n_rows + (m->n_rows > 1);
	b->ns = calloc(b->n, sizeof *b->ns);
	if (b->ns == NULL)
		return TOPO_ENOMEM;
	size_t i = 0;
	b->host0 = i;
	for (uint32_t h = 0; h < m->n_hosts; h++, i++)
		b->ns[i] = (struct nsrec){ .kind = NS_HOST, .index = h };
	b->tor0 = i;
	for (uint32_t k = 0; k < m->n_racks; k++, i++)
		b->ns[i] = (struct nsrec){ .kind = NS_TOR, .index = k };
	b->spine0 = i;
	for (uint32_t r = 0; r < m->n_rows; r++, i++)
		b->ns[i] = (struct nsrec){ .kind = NS_SPINE, .index = r };
	b->core = i;
	if (m->n_rows > 1)
		b->ns[i++] = (struct nsrec){ .kind = NS_CORE };
	for (i = 0; i < b->n; i++) {
		struct nsrec *r = &b->ns[i];
		const char *ent = r->kind == NS_HOST ? m->hosts[r->index].name :
				  r->kind == NS_TOR ? m->racks[r->index].name :
				  r->kind == NS_SPINE ? m->rows[r->index].name : "core";
		r->ioctl_fd = -1;
		r->fd = -1;
		if (topo_ns_name(r->name, sizeof r->name, b->run, ent) != 0)
			return topo__ferr(TOPO_EINVAL, "namespace name for '%s' too long", ent);
	}
	return 0;
}

static void release(struct build *b)
{
	for (size_t i = 0; b->ns != NULL && i < b->n; i++) {
		if (b->ns[i].sk)
			nl_socket_free(b->ns[i].sk);
		if (b->ns[i].ioctl_fd >= 0)
			close(b->ns[i].ioctl_fd);
		if (b->ns[i].fd >= 0)
			close(b->ns[i].fd);
	}
	free(b->ns);
	b->ns = NULL;
}

int topo_fabric_up(const struct topo_model *m, const char *run, struct topo_fabric_stats *st)
{
	topo__ferr_clear();
	if (m == NULL)
		return topo__ferr(TOPO_EINVAL, "no rack model");
	if (topo_run_valid(run) != 0)
		return topo__ferr(TOPO_EINVAL, "bad run prefix '%s' (1-%d letters or digits)",
				  run ? run : "(null)", TOPO_RUN_MAX - 1);
	int rc = topo_model_validate(m, m->jury_size, NULL);
	if (rc != 0)
		return topo__ferr(rc, "the rack model does not validate");
	double t0 = now_s();
	fault_step = 0;
	char (*names)[TOPO_NSNAME_MAX] = NULL;
	size_t n_existing = 0;
	rc = topo__ns_list(run, &names, &n_existing);
	free(names);
	if (rc != 0)
		return rc;
	if (n_existing > 0)
		return topo__ferr(TOPO_EEXIST, "run '%s' already has %zu namespaces (down it first)",
				  run, n_existing);
	rc = topo__netns_dir_ready();
	if (rc != 0)
		return rc;
	struct build b = { .m = m, .run = run };
	rc = plan(&b);
	if (rc != 0)
		goto err_release;
	pthread_t t;
	int e = pthread_create(&t, NULL, create_worker, &b);
	if (e != 0) {
		rc = topo__ferr(TOPO_ENOMEM, "pthread_create: %s", strerror(e));
		goto err_release;
	}
	pthread_join(t, NULL);
	if (b.rc != 0) {
		rc = topo__ferr(b.rc, "%s", b.err);
		goto err_down;
	}
	b.st.namespaces = (uint32_t)b.made;
	for (size_t i = 0; i < b.n; i++) {
		char path[TOPO__PATH_LEN];
		snprintf(path, sizeof path, "%s/%s", TOPO__NETNS_DIR, b.ns[i].name);
		b.ns[i].fd = open(path, O_RDONLY | O_CLOEXEC);
		if (b.ns[i].fd < 0) {
			rc = topo__ferr(TOPO_ENETNS, "open %s: %s", path, strerror(errno));
			goto err_down;
		}
	}
	rc = wire(&b);
	if (rc != 0)
		goto err_down;
	release(&b);
	b.st.seconds = now_s() - t0;
	if (st != NULL)
		*st = b.st;
	return 0;

err_down: {
	/* remove exactly what this call made (a concurrent up of the same run
	 * that won the race keeps its namespaces), and keep the first
	 * failure's message, not the cleanup's */
	char msg[TOPO_DIAG_MSG_MAX];
	topo__ferr_copy(msg, sizeof msg);
	char (*made)[TOPO_NSNAME_MAX] = calloc(b.made + 1, sizeof *made);
	if (made != NULL) {
		for (size_t i = 0; i < b.made; i++)
			memcpy(made[i], b.ns[i].name, sizeof made[i]);
	}
	size_t n_made = b.made;
	release(&b);
	if (made != NULL)
		topo__ns_remove((const char (*)[TOPO_NSNAME_MAX])made, n_made, NULL);
	else
		topo_fabric_down(run, NULL);
	free(made);
	topo__ferr(rc, "%s", msg);
	return rc;
}
err_release:
	release(&b);
	return rc;
}
