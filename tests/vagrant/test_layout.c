/* The machine layout and the Vagrantfile it becomes: written, read back from
 * the file, and every host pair forwarded hop by hop through the routes the
 * machines would really have, for the default rack model and a large one. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "reports.h"
#include "topology/topology.h"
#include "vagrant.h"
#include "vfile.h"

/* topology's generated model: rows x racks, nodes + clients per rack. */
static struct vag_model *shape(uint32_t rows, uint32_t racks, uint32_t nodes, uint32_t clients)
{
	struct topo_gen g = { .rows = rows, .racks_per_row = racks, .powers = 3, .nodes = nodes,
			      .clients = clients, .jury_size = 3 };
	struct topo_model *t;
	struct topo_diag d;
	ck_assert_int_eq(topo_model_generate(&g, &t, &d), TOPO_OK);
	struct vag_model *m;
	ck_assert_int_eq(vag_model_from_topo(t, &m), VAG_OK);
	topo_model_free(t);
	return m;
}

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ph-vagrant-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/Vagrantfile", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Writes m's Vagrantfile and reads it back. */
static void write_and_load(const struct vag_model *m, size_t max_vms, struct vag_layout **l,
			   struct vf *v)
{
	char err[512] = "", path[128];
	ck_assert_int_eq(vag_layout_make(m, max_vms, l, err, sizeof(err)), VAG_OK);
	struct vag_gen_opts o = { .outdir = tmpdir, .origin = "a test" };
	snprintf(path, sizeof(path), "%s/Vagrantfile", tmpdir);
	ck_assert_int_eq(vag_write_vagrantfile(m, *l, &o, "0123456789abcdef0123456789abcdef01234567",
					       path, err, sizeof(err)),
			 VAG_OK);
	int rc = vf_load(path, v, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
}

static int machine_named(const struct vf *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->m[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Every host reaches every other host, through exactly the routers the rack
 * model says: its ToR within a rack; ToR, spine, ToR within a row; ToR,
 * spine, spine, ToR across rows. Packets between hosts sharing a machine
 * (grouped) stay on it. */
static void check_paths(const struct vag_model *m, const struct vag_layout *l, const struct vf *v)
{
	char err[256], tor_a[80], tor_b[80], spine_a[80], spine_b[80];
	int path[16];
	/* Every model host appears once, on the machine the layout says. */
	for (size_t i = 0; i < m->nhosts; i++) {
		int owner = vf_owner(v, l->host_addr[i]);
		ck_assert_int_ge(owner, 0);
		ck_assert_str_eq(v->m[owner].name, l->machines[l->host_machine[i]].name);
		ck_assert_str_eq(v->m[owner].kind, "host");
		ck_assert_uint_eq(l->host_addr[i] >> 17, 0xC612u >> 1); /* 198.18.0.0/15 */
	}
	for (size_t a = 0; a < m->nhosts; a++) {
		int from = vf_owner(v, l->host_addr[a]);
		const struct vag_rack_in *ra = &m->racks[m->hosts[a].rack];
		snprintf(tor_a, sizeof(tor_a), "tor-%s", ra->name);
		snprintf(spine_a, sizeof(spine_a), "spine-%s", ra->row);
		for (size_t b = 0; b < m->nhosts; b++) {
			if (a == b)
				continue;
			/* Large models: every host to the first host of every
			 * machine, to every host of its own rack, and to a
			 * 31st of the others (all pairs take minutes). */
			if (m->nhosts > 100 && l->machines[l->host_machine[b]].hosts[0] != b &&
			    m->hosts[a].rack != m->hosts[b].rack && (a + b) % 31 != 0)
				continue;
			const struct vag_rack_in *rb = &m->racks[m->hosts[b].rack];
			snprintf(tor_b, sizeof(tor_b), "tor-%s", rb->name);
			snprintf(spine_b, sizeof(spine_b), "spine-%s", rb->row);
			int to = vf_owner(v, l->host_addr[b]);
			int n = vf_forward(v, from, l->host_addr[b], path, 16, err, sizeof(err));
			ck_assert_msg(n >= 0, "%s -> %s: %s", m->hosts[a].name, m->hosts[b].name, err);
			if (from == to) {
				ck_assert_int_eq(n, 0);
				ck_assert(l->grouped);
				continue;
			}
			const char *want[4];
			int nwant;
			if (m->hosts[a].rack == m->hosts[b].rack) {
				want[0] = tor_a;
				nwant = 1;
			} else if (strcmp(ra->row, rb->row) == 0) {
				want[0] = tor_a, want[1] = spine_a, want[2] = tor_b;
				nwant = 3;
			} else {
				want[0] = tor_a, want[1] = spine_a, want[2] = spine_b, want[3] = tor_b;
				nwant = 4;
			}
			ck_assert_msg(n == nwant + 1, "%s -> %s: %d hops, want %d", m->hosts[a].name,
				      m->hosts[b].name, n, nwant + 1);
			for (int k = 0; k < nwant; k++)
				ck_assert_str_eq(v->m[path[k]].name, want[k]);
			ck_assert_int_eq(path[nwant], to);
		}
	}
}

/* Each rack segment holds exactly its rack's host machines and one ToR;
 * each uplink exactly one ToR and one spine. */
static void check_segments(const struct vag_model *m, const struct vf *v)
{
	for (size_t k = 0; k < m->nracks; k++) {
		char seg[32], up[32];
		snprintf(seg, sizeof(seg), "phr%zu", k);
		snprintf(up, sizeof(up), "phu%zu", k);
		int tors = 0, spines = 0, up_tors = 0, hosts = 0;
		for (size_t i = 0; i < v->n; i++)
			for (size_t j = 0; j < v->m[i].nnics; j++) {
				const char *net = v->m[i].nics[j].tok[0];
				if (strcmp(net, seg) == 0) {
					if (strcmp(v->m[i].kind, "tor") == 0)
						tors++;
					else {
						ck_assert_str_eq(v->m[i].kind, "host");
						ck_assert_str_eq(v->m[i].rack, m->racks[k].name);
						hosts++;
					}
				}
				if (strcmp(net, up) == 0) {
					if (strcmp(v->m[i].kind, "tor") == 0)
						up_tors++;
					else
						spines += strcmp(v->m[i].kind, "spine") == 0;
				}
			}
		ck_assert_int_eq(tors, 1);
		ck_assert_int_ge(hosts, 1);
		ck_assert_int_eq(up_tors, 1);
		ck_assert_int_eq(spines, 1);
	}
}

START_TEST(default_model_one_vm_per_host)
{
	struct topo_model *t;
	ck_assert_int_eq(topo_model_default(&t), TOPO_OK);
	struct vag_model *m;
	ck_assert_int_eq(vag_model_from_topo(t, &m), VAG_OK);
	topo_model_free(t);
	ck_assert_uint_eq(m->nracks, 5);
	ck_assert_uint_eq(m->nhosts, 20);
	struct vag_layout *l;
	struct vf v;
	write_and_load(m, 40, &l, &v);
	ck_assert(!l->grouped);
	ck_assert_uint_eq(v.n, 20 + 5 + 1);
	ck_assert_int_ge(machine_named(&v, "spine-row1"), 0);
	ck_assert_int_ge(machine_named(&v, "tor-rack3"), 0);
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.m[i].kind, "host") == 0)
			ck_assert_uint_eq(v.m[i].nhosts, 1);
	check_segments(m, &v);
	check_paths(m, l, &v);
	vf_free(&v);
	vag_layout_free(l);
	vag_model_free(m);
}
END_TEST

START_TEST(large_model_grouped_per_rack)
{
	struct vag_model *m = shape(3, 12, 8, 2);
	struct vag_layout *l;
	struct vf v;
	write_and_load(m, 40, &l, &v);
	ck_assert(l->grouped);
	ck_assert_uint_eq(v.n, 36 + 36 + 3);
	int rack7 = machine_named(&v, "rack7-hosts");
	ck_assert_int_ge(rack7, 0);
	ck_assert_uint_eq(v.m[rack7].nhosts, 10);
	ck_assert_str_eq(v.m[rack7].roles, "node+client");
	/* Spines meet on the core segment when there are several rows. */
	int spine = machine_named(&v, "spine-row2");
	ck_assert_int_ge(spine, 0);
	ck_assert_str_eq(v.m[spine].nics[v.m[spine].nnics - 1].tok[0], "phcore");
	check_segments(m, &v);
	check_paths(m, l, &v);
	vf_free(&v);
	vag_layout_free(l);
	vag_model_free(m);
}
END_TEST

START_TEST(large_model_ungrouped_when_allowed)
{
	/* 2 rows x 4 racks x (5+1): 48 hosts, one VM each when allowed. */
	struct vag_model *m = shape(2, 4, 5, 1);
	struct vag_layout *l;
	struct vf v;
	write_and_load(m, 48, &l, &v);
	ck_assert(!l->grouped);
	ck_assert_uint_eq(v.n, 48 + 8 + 2);
	check_segments(m, &v);
	check_paths(m, l, &v);
	vf_free(&v);
	vag_layout_free(l);
	vag_model_free(m);
}
END_TEST

START_TEST(model_addresses_kept_or_refused)
{
	/* topology gives every host its fabric address: the VMs keep them. */
	struct vag_model *m = shape(1, 3, 2, 0);
	struct vag_layout *l = NULL;
	char err[256] = "";
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_OK);
	for (size_t i = 0; i < m->nhosts; i++)
		ck_assert_uint_eq(l->host_addr[i], m->hosts[i].addr);
	vag_layout_free(l);

	/* A host without an address gets the next free one from .10. */
	m->hosts[1].addr = 0;
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_OK);
	ck_assert_uint_eq(l->host_addr[1], m->racks[0].subnet | 10);
	vag_layout_free(l);

	m->hosts[2].addr = m->racks[0].subnet | 21; /* rack2's host in rack1's segment */
	l = (struct vag_layout *)&err;              /* must stay untouched */
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_ELIMIT);
	ck_assert_ptr_eq(l, (struct vag_layout *)&err);
	ck_assert_ptr_nonnull(strstr(err, m->hosts[2].name));

	m->hosts[2].addr = m->racks[1].subnet | 254; /* the ToR's address */
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_ELIMIT);

	m->hosts[2].addr = m->hosts[3].addr; /* the same address twice */
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "already used"));
	vag_model_free(m);
}
END_TEST

START_TEST(name_collisions_and_limits_refused)
{
	struct vag_model *m = shape(1, 3, 2, 0);
	char err[256] = "";
	struct vag_layout *l = NULL;
	char first[VAG_NAME_MAX];
	snprintf(first, sizeof(first), "%s", m->hosts[0].name);
	for (char *p = m->hosts[1].name; (*p = first[p - m->hosts[1].name]) != 0; p++)
		if (*p == '-')
			*p = '_'; /* "r1_n1" sanitizes to "r1-n1" */
	m->hosts[1].name[0] = 'R';
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, first));
	snprintf(m->hosts[1].name, VAG_NAME_MAX, "tor-%.32s", m->racks[1].name);
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_EINVAL);
	m->hosts[1].roles = 0;
	snprintf(m->hosts[1].name, VAG_NAME_MAX, "x");
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "neither node nor client"));
	m->hosts[1].roles = VAG_ROLE_NODE;
	/* Rack segments in the VMs' uplink block, or shared. */
	m->racks[1].subnet = 0xC613C100u; /* 198.19.193.0 */
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_ELIMIT);
	ck_assert_ptr_nonnull(strstr(err, "198.19.192.0/18"));
	m->racks[1].subnet = m->racks[0].subnet;
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_EINVAL);
	ck_assert_ptr_null(l);
	vag_model_free(m);

	/* More racks than the plan holds. */
	m = shape(1, 3, 1, 0);
	struct vag_rack_in *racks = calloc(VAG_RACKS_MAX + 1, sizeof(*racks));
	ck_assert_ptr_nonnull(racks);
	free(m->racks);
	m->racks = racks;
	m->nracks = VAG_RACKS_MAX + 1;
	ck_assert_int_eq(vag_layout_make(m, 40, &l, err, sizeof(err)), VAG_ELIMIT);
	ck_assert_ptr_null(l);
	vag_model_free(m);
}
END_TEST

/* A run database written by reports/ gives back the run's hosts, and the
 * layout made from it equals the one made from the rack model itself. */
START_TEST(run_database_as_input)
{
	struct topo_model *t;
	ck_assert_int_eq(topo_model_default(&t), TOPO_OK);
	char path[128];
	snprintf(path, sizeof(path), "%s/run.db", tmpdir);
	struct rep_db *db;
	ck_assert_int_eq(rep_db_create(path, &db), 0);
	struct rep_run_info ri = { "proof", 42, "0.1.0", 1, 1, NULL, 1000000 };
	ck_assert_int_eq(rep_db_run_begin(db, &ri), 0);
	for (size_t i = 0; i < t->n_hosts; i++) {
		const struct topo_host *h = &t->hosts[i];
		char a[16];
		struct rep_host rh = { h->name, h->role & TOPO_ROLE_NODE ? REP_HOST_NODE : REP_HOST_CLIENT,
				       (uint32_t)i + 1, "dc1", t->rows[h->row].name,
				       t->racks[h->rack].name, t->powers[h->power].name,
				       vag_ip(h->addr, a) };
		ck_assert_int_eq(rep_db_add_host(db, &rh), 0);
	}
	struct rep_host router = { "tor1", REP_HOST_ROUTER, 0, "dc1", "", "rack1", "", "" };
	ck_assert_int_eq(rep_db_add_host(db, &router), 0);
	ck_assert_int_eq(rep_db_close(db), 0);

	struct vag_model *from_db, *from_model;
	char version[64], err[256];
	ck_assert_int_eq(vag_model_from_rundb(path, &from_db, version, sizeof(version), err,
					      sizeof(err)),
			 VAG_OK);
	ck_assert_str_eq(version, "0.1.0");
	ck_assert_int_eq(vag_model_from_topo(t, &from_model), VAG_OK);
	ck_assert_uint_eq(from_db->nhosts, from_model->nhosts);
	ck_assert_uint_eq(from_db->nracks, from_model->nracks);
	for (size_t i = 0; i < from_db->nhosts; i++) {
		ck_assert_str_eq(from_db->hosts[i].name, from_model->hosts[i].name);
		ck_assert_uint_eq(from_db->hosts[i].addr, from_model->hosts[i].addr);
		ck_assert_int_eq(from_db->hosts[i].roles, from_model->hosts[i].roles);
		ck_assert_str_eq(from_db->racks[from_db->hosts[i].rack].name,
				 from_model->racks[from_model->hosts[i].rack].name);
	}
	for (size_t k = 0; k < from_db->nracks; k++) {
		ck_assert_str_eq(from_db->racks[k].row, from_model->racks[k].row);
		ck_assert_str_eq(from_db->racks[k].power, from_model->racks[k].power);
		ck_assert_uint_eq(from_db->racks[k].subnet, from_model->racks[k].subnet);
	}
	struct vag_layout *l1, *l2;
	ck_assert_int_eq(vag_layout_make(from_db, 40, &l1, err, sizeof(err)), VAG_OK);
	ck_assert_int_eq(vag_layout_make(from_model, 40, &l2, err, sizeof(err)), VAG_OK);
	ck_assert_uint_eq(l1->nmachines, l2->nmachines);
	for (size_t i = 0; i < l1->nmachines; i++) {
		ck_assert_str_eq(l1->machines[i].name, l2->machines[i].name);
		ck_assert_uint_eq(l1->machines[i].nroutes, l2->machines[i].nroutes);
		for (size_t j = 0; j < l1->machines[i].nroutes; j++)
			ck_assert_uint_eq(l1->machines[i].routes[j].via, l2->machines[i].routes[j].via);
	}
	vag_layout_free(l1);
	vag_layout_free(l2);
	vag_model_free(from_db);
	vag_model_free(from_model);
	topo_model_free(t);

	/* Refusals: missing file, not a run database, another schema. */
	struct vag_model *none = NULL;
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none.db", tmpdir);
	ck_assert_int_eq(vag_model_from_rundb(missing, &none, version, sizeof(version), err,
					      sizeof(err)),
			 VAG_ENOTFOUND);
	sqlite3 *raw;
	ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "DROP TABLE ops", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	ck_assert_int_eq(vag_model_from_rundb(path, &none, version, sizeof(version), err,
					      sizeof(err)),
			 VAG_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "schema version 2"));
	ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(raw, "DROP TABLE meta", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	ck_assert_int_eq(vag_model_from_rundb(path, &none, version, sizeof(version), err,
					      sizeof(err)),
			 VAG_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a run database"));
	ck_assert_ptr_null(none);
	unlink(path);
	char side[200];
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}
END_TEST

START_TEST(shape_parse)
{
	unsigned s[4] = { 9, 9, 9, 9 };
	char err[256];
	ck_assert_int_eq(vag_shape_parse("2x10x8+2", s, err, sizeof(err)), VAG_OK);
	ck_assert_uint_eq(s[0], 2);
	ck_assert_uint_eq(s[1], 10);
	ck_assert_uint_eq(s[2], 8);
	ck_assert_uint_eq(s[3], 2);
	const char *bad[] = { "", "2x10x8", "2x10x8+", "2x10x8+2x", "x10x8+2", "2*10x8+2",
			      "0x1x1+0", "1x1x0+0", "1x300x1+0", "1x1x200+100", "1234567x1x1+1",
			      "-1x1x1+1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned t[4] = { 7, 7, 7, 7 };
		ck_assert_int_ne(vag_shape_parse(bad[i], t, err, sizeof(err)), VAG_OK);
		ck_assert_uint_eq(t[0], 7); /* untouched */
		ck_assert_ptr_nonnull(strstr(err, "--shape"));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vagrant layout");
	TCase *tc = tcase_create("layout");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, default_model_one_vm_per_host);
	tcase_add_test(tc, large_model_grouped_per_rack);
	tcase_add_test(tc, large_model_ungrouped_when_allowed);
	tcase_add_test(tc, model_addresses_kept_or_refused);
	tcase_add_test(tc, name_collisions_and_limits_refused);
	tcase_add_test(tc, shape_parse);
	tcase_add_test(tc, run_database_as_input);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
