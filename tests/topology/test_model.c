/* tests/topology/test_model.c: the rack model loader, the default and
 * generated models, and every validation error with its position. */
#define _POSIX_C_SOURCE 200809L
#include "topology/topology.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char good[] =
	"datacenter: east1\n"                     /* 1 */
	"jury: 3\n"                               /* 2 */
	"addresses: 198.19.0.0/16\n"              /* 3 */
	"power_domains: [A, B, C]\n"              /* 4 */
	"rows:\n"                                 /* 5 */
	"  - name: row1\n"                        /* 6 */
	"    racks:\n"                            /* 7 */
	"      - name: ra\n"                      /* 8 */
	"        power: A\n"                      /* 9 */
	"        hosts:\n"                        /* 10 */
	"          - {name: a1, role: node, color: red}\n"   /* 11 */
	"          - {name: a2, role: both, color: red}\n"   /* 12 */
	"          - a3\n"                                  /* 13 */
	"          - {name: ac, role: client}\n"
	"      - name: rb\n"
	"        power: B\n"
	"        hosts: [{name: b1, color: red}, b2, {name: bc, role: client}]\n"
	"  - name: row2\n"
	"    racks:\n"
	"      - name: rc\n"
	"        power: C\n"
	"        hosts:\n"
	"          - c1\n"
	"          - name: c2\n"
	"            color: red\n"
	"          - c3\n";

static struct topo_model *load(const char *text, struct topo_diag *d, int *rc)
{
	struct topo_model *m = NULL;
	*rc = topo_model_load_mem(text, strlen(text), "t.yaml", &m, d);
	return m;
}

START_TEST(loads_a_full_model)
{
	struct topo_diag d;
	int rc;
	struct topo_model *m = load(good, &d, &rc);
	ck_assert_msg(rc == 0, "%s:%u:%u %s", d.file, d.line, d.column, d.msg);
	ck_assert_str_eq(m->datacenter, "east1");
	ck_assert_uint_eq(m->jury_size, 3);
	ck_assert_uint_eq(m->range_base, 0xC6130000u);
	ck_assert_uint_eq(m->range_prefix, 16);
	ck_assert_uint_eq(m->n_rows, 2);
	ck_assert_uint_eq(m->n_racks, 3);
	ck_assert_uint_eq(m->n_hosts, 10);
	ck_assert_uint_eq(m->n_powers, 3);
	ck_assert_uint_eq(m->n_colors, 2);
	ck_assert_str_eq(m->colors[1].name, "red");
	int a2 = topo_model_find_host(m, "a2");
	ck_assert_int_eq(a2, 1);
	ck_assert_int_eq(m->hosts[a2].role, TOPO_ROLE_BOTH);
	ck_assert_uint_eq(m->hosts[a2].color, 1);
	ck_assert_uint_eq(m->hosts[a2].pos.line, 12);
	ck_assert_uint_eq(m->hosts[a2].pos.column, 13);
	ck_assert_uint_eq(m->hosts[a2].addr, 0xC6130000u + 3);
	int c2 = topo_model_find_host(m, "c2");
	ck_assert_uint_eq(m->hosts[c2].rack, 2);
	ck_assert_uint_eq(m->hosts[c2].row, 1);
	ck_assert_uint_eq(m->hosts[c2].power, 2);
	ck_assert_uint_eq(m->hosts[c2].slot, 1);
	ck_assert_uint_eq(m->hosts[c2].addr, 0xC6130000u + 2 * 256 + 3);
	ck_assert_int_eq(m->hosts[topo_model_find_host(m, "b1")].role, TOPO_ROLE_NODE);
	ck_assert_int_eq(m->hosts[topo_model_find_host(m, "bc")].role, TOPO_ROLE_CLIENT);
	ck_assert_int_eq(topo_model_find_rack(m, "rc"), 2);
	ck_assert_int_eq(topo_model_find_row(m, "row2"), 1);
	ck_assert_int_eq(topo_model_find_host(m, "nope"), TOPO_ENOTFOUND);
	ck_assert_uint_eq(topo_hops(m, 0, 0), 0);
	ck_assert_uint_eq(topo_hops(m, 0, 1), 1);
	ck_assert_uint_eq(topo_hops(m, 0, 4), 3);
	ck_assert_uint_eq(topo_hops(m, 0, (uint32_t)c2), 5);
	topo_model_free(m);
}
END_TEST

START_TEST(default_model_is_the_documented_one)
{
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	ck_assert_uint_eq(m->n_rows, 1);
	ck_assert_uint_eq(m->n_racks, 5);
	ck_assert_uint_eq(m->n_powers, 3);
	ck_assert_uint_eq(m->n_hosts, 20);
	ck_assert_uint_eq(m->jury_size, 7);
	size_t nodes = 0, clients = 0;
	for (size_t i = 0; i < m->n_hosts; i++) {
		nodes += m->hosts[i].role == TOPO_ROLE_NODE;
		clients += m->hosts[i].role == TOPO_ROLE_CLIENT;
	}
	ck_assert_uint_eq(nodes, 15);
	ck_assert_uint_eq(clients, 5);
	for (size_t k = 0; k < m->n_racks; k++) {
		ck_assert_uint_eq(m->racks[k].n_hosts, 4);
		ck_assert_uint_eq(m->racks[k].power, k % 3);
		ck_assert_uint_eq(m->racks[k].subnet, TOPO_RANGE_BASE + k * 256);
	}
	ck_assert_str_eq(m->hosts[0].name, "r1-n1");
	ck_assert_str_eq(m->hosts[3].name, "r1-c1");
	ck_assert_str_eq(m->powers[2].name, "pC");
	topo_model_free(m);
}
END_TEST

START_TEST(write_then_load_gives_the_same_model)
{
	struct topo_diag d;
	int rc;
	struct topo_model *m = load(good, &d, &rc);
	ck_assert_int_eq(rc, 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(topo_model_write(m, f), 0);
	fclose(f);
	struct topo_model *m2 = NULL;
	rc = topo_model_load_mem(buf, len, "written", &m2, &d);
	ck_assert_msg(rc == 0, "%s:%u:%u %s\n%s", d.file, d.line, d.column, d.msg, buf);
	ck_assert_uint_eq(m2->n_hosts, m->n_hosts);
	ck_assert_uint_eq(m2->jury_size, m->jury_size);
	ck_assert_uint_eq(m2->range_base, m->range_base);
	for (size_t i = 0; i < m->n_hosts; i++) {
		ck_assert_str_eq(m2->hosts[i].name, m->hosts[i].name);
		ck_assert_int_eq(m2->hosts[i].role, m->hosts[i].role);
		ck_assert_str_eq(m2->colors[m2->hosts[i].color].name, m->colors[m->hosts[i].color].name);
		ck_assert_uint_eq(m2->hosts[i].addr, m->hosts[i].addr);
		ck_assert_uint_eq(m2->hosts[i].power, m->hosts[i].power);
	}
	free(buf);
	topo_model_free(m);
	topo_model_free(m2);
}
END_TEST

START_TEST(generated_models_validate)
{
	struct topo_gen g = { .rows = 3, .racks_per_row = 4, .powers = 3, .nodes = 3,
			      .clients = 1, .colors = 2, .jury_size = 5 };
	struct topo_model *m = NULL;
	struct topo_diag d;
	ck_assert_int_eq(topo_model_generate(&g, &m, &d), 0);
	ck_assert_uint_eq(m->n_hosts, 48);
	ck_assert_uint_eq(m->n_colors, 3);
	ck_assert_str_eq(m->hosts[4].name, "r2-n1");
	topo_model_free(m);
	g.powers = 2;
	ck_assert_int_eq(topo_model_generate(&g, &m, &d), TOPO_EDIVERSITY);
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
	struct topo_diag d;
	struct topo_model *m = (struct topo_model *)0x1;
	ck_assert_int_eq(topo_model_load_file("/nonexistent/rack.yaml", &m, &d), TOPO_EIO);
	ck_assert_ptr_eq(m, (struct topo_model *)0x1);
	char buf[512];
	topo_diag_format(&d, buf, sizeof buf);
	ck_assert_msg(strncmp(buf, "/nonexistent/rack.yaml: cannot open", 35) == 0, "%s", buf);
}
END_TEST

START_TEST(loads_from_a_file_and_names_it)
{
	char path[] = "/tmp/topo-model-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	const char *bad = "rows:\n  - name: r\n    racks:\n      - name: k\n        hosts: [x]\n";
	ck_assert_int_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	struct topo_diag d;
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_load_file(path, &m, &d), TOPO_ENOPOWER);
	char buf[600], want[600];
	topo_diag_format(&d, buf, sizeof buf);
	snprintf(want, sizeof want, "%s:4:9: rack 'k' has no power domain ('power:')", path);
	ck_assert_str_eq(buf, want);
	unlink(path);
}
END_TEST

/* Every validation error, with the position it must point at. */
struct bad_case {
	const char *yaml;
	int code;
	uint32_t line, column;
	const char *msg_part;
};

#define RACK3(pa, pb, pc)                                                  \
	"rows:\n"                                                          \
	"  - name: row1\n"                                                 \
	"    racks:\n"                                                     \
	"      - {name: r1, power: " pa ", hosts: [h1, h2, h3]}\n"         \
	"      - {name: r2, power: " pb ", hosts: [h4, h5, h6]}\n"         \
	"      - {name: r3, power: " pc ", hosts: [h7, h8, h9]}\n"

static const struct bad_case bad[] = {
	/* YAML syntax */
	{ "rows: [a, b\n", TOPO_ESYNTAX, 2, 1, "YAML syntax error" },
	{ "a: b\n c: d: e\n", TOPO_ESYNTAX, 1, 4, "YAML syntax error" },
	{ "rows: []\n%d\xfe\n", TOPO_ESYNTAX, 2, 3, "byte 0xFE is not valid UTF-8" },
	{ "rows: [\x03]\n", TOPO_ESYNTAX, 1, 8, "character U+0003 is not allowed" },
	{ "rows: [\xc3\xa9]\n", TOPO_ESCHEMA, 1, 8, "a row must be a mapping" },
	{ "rows:\n  - name: 'a''''''''''''b'\n", TOPO_ESCHEMA, 2, 12, "''''''b' is not a valid name" },
	{ "rows: []\n? s:\t:\n", TOPO_ESYNTAX, 2, 5, "tab character" },
	/* shape */
	{ "", TOPO_ESCHEMA, 0, 0, "empty" },
	{ "- a\n- b\n", TOPO_ESCHEMA, 1, 1, "the rack model must be a mapping" },
	{ "jury: 7\n", TOPO_ESCHEMA, 1, 1, "has no 'rows'" },
	{ "rows: 3\n", TOPO_ESCHEMA, 1, 7, "rows must be a sequence" },
	{ "rows: []\n", TOPO_ESCHEMA, 1, 7, "rows is empty" },
	{ "rack: x\nrows: []\n", TOPO_ESCHEMA, 1, 1, "unknown key 'rack'" },
	{ "rows: []\nrows: []\n", TOPO_ESCHEMA, 2, 1, "appears twice" },
	{ "rows:\n  - racks: []\n", TOPO_ESCHEMA, 2, 5, "row has no 'name'" },
	{ "rows:\n  - name: r\n", TOPO_ESCHEMA, 2, 5, "row 'r' has no 'racks'" },
	{ "rows:\n  - name: r\n    racks:\n      - {name: k, power: p}\n", TOPO_ESCHEMA, 4, 9,
	  "rack 'k' has no 'hosts'" },
	{ "rows:\n  - name: r\n    racks:\n      - {name: k, power: p, hosts: [{role: node}]}\n",
	  TOPO_ESCHEMA, 4, 37, "host has no 'name'" },
	{ "rows:\n  - name: r\n    racks:\n      - {name: k, power: p, hosts: [{name: h, role: leader}]}\n",
	  TOPO_ESCHEMA, 4, 53, "role must be node, client or both" },
	{ "rows:\n  - name: r\n    racks:\n      - {name: k, power: p, hosts: [{name: h, size: 2}]}\n",
	  TOPO_ESCHEMA, 4, 47, "unknown key 'size' in a host" },
	{ "rows:\n  - name: \"bad name\"\n", TOPO_ESCHEMA, 2, 12, "row name 'bad name' is not a valid name" },
	{ "rows:\n  - name: core\n    racks: []\n", TOPO_ESCHEMA, 2, 5, "reserved" },
	{ "jury: 11\nrows: []\n", TOPO_ESCHEMA, 1, 7, "jury must be a whole number from 3 to 9" },
	{ "jury: seven\nrows: []\n", TOPO_ESCHEMA, 1, 7, "jury must be a whole number" },
	{ "base: &b {a: 1}\nrows: *b\n", TOPO_ESCHEMA, 2, 8, "aliases" },
	{ "rows: []\n---\nrows: []\n", TOPO_ESCHEMA, 2, 1, "more than one YAML document" },
	/* duplicates */
	{ RACK3("A", "B", "C") "      - {name: r4, power: A, hosts: [h10, h2]}\n", TOPO_EDUPLICATE,
	  7, 43, "host 'h2' was already used by the host at line 4, column 42" },
	{ RACK3("A", "B", "C") "      - {name: r2, power: A, hosts: [h10]}\n", TOPO_EDUPLICATE,
	  7, 9, "rack 'r2' was already used by the rack at line 5, column 9" },
	{ RACK3("A", "B", "C") "  - name: h5\n    racks: []\n", TOPO_EDUPLICATE,
	  7, 5, "row 'h5' was already used by the host at line 5" },
	{ "power_domains: [A, B, A]\nrows: []\n", TOPO_EDUPLICATE, 1, 23,
	  "power domain 'A' declared twice" },
	/* power domains */
	{ "rows:\n  - name: r\n    racks:\n      - name: k\n        hosts: [x]\n", TOPO_ENOPOWER,
	  4, 9, "rack 'k' has no power domain" },
	{ "power_domains: [A, B]\n" RACK3("A", "B", "C"), TOPO_ENOPOWER, 7, 27,
	  "names power domain 'C', which is not in power_domains" },
	/* diversity */
	{ RACK3("A", "B", "A"), TOPO_EDIVERSITY, 1, 1,
	  "fewer than 3 power domains: the uncolored node hosts are in 2 power domains; a 7-node jury" },
	{ "jury: 5\n" RACK3("A", "B", "A"), TOPO_EDIVERSITY, 1, 7,
	  "fewer than 3 power domains" },
	{ "rows:\n  - name: row1\n    racks:\n"
	  "      - {name: r1, power: A, hosts: [h1, h2, h3, h4]}\n"
	  "      - {name: r2, power: B, hosts: [h5, h6, h7, h8]}\n"
	  "      - {name: r3, power: C, hosts: [{name: h9, role: client}]}\n",
	  TOPO_EDIVERSITY, 1, 1, "fewer than 3 power domains" },
	{ "jury: 3\n" RACK3("A", "B", "C"), 0, 0, 0, "" },
	{ RACK3("A", "B", "C"), 0, 0, 0, "" },
	{ "jury: 9\n" RACK3("A", "B", "C"), 0, 0, 0, "" },
	{ "rows:\n  - name: row1\n    racks:\n"
	  "      - {name: r1, power: A, hosts: [h1, h2, h3]}\n"
	  "      - {name: r2, power: B, hosts: [h4, h5, h6]}\n"
	  "      - {name: r3, power: C, hosts: [h7, {name: h8, color: blue}, h9]}\n",
	  TOPO_EDIVERSITY, 6, 42, "fewer than 3 power domains: the nodes of color 'blue' are in 1" },
	{ "rows:\n  - name: row1\n    racks:\n"
	  "      - {name: r1, power: A, hosts: [h1, h2]}\n"
	  "      - {name: r2, power: B, hosts: [h4, h5]}\n"
	  "      - {name: r3, power: C, hosts: [h7, h8]}\n",
	  TOPO_EDIVERSITY, 1, 1, "(6) can seat at most 6 members of a 7-node jury" },
	{ "rows:\n  - name: row1\n    racks:\n"
	  "      - {name: r1, power: A, hosts: [{name: c, role: client}]}\n",
	  TOPO_EDIVERSITY, 1, 1, "no node hosts" },
	/* addresses */
	{ "addresses: 10.0.0.0/8\nrows: []\n", TOPO_EADDRESS, 1, 12, "must lie inside 198.18.0.0/15" },
	{ "addresses: 198.18.0.1/16\nrows: []\n", TOPO_EADDRESS, 1, 12, "host bits" },
	{ "addresses: 198.18.0.0/24\nrows: []\n", TOPO_EADDRESS, 1, 12, "smaller than a /23" },
	{ "addresses: lots\nrows: []\n", TOPO_EADDRESS, 1, 12, "must be an IPv4 prefix" },
	{ "addresses: 198.18.0.0/+15\nrows: []\n", TOPO_EADDRESS, 1, 12, "must be an IPv4 prefix" },
	{ "addresses: 198.18.0.0/15/1\nrows: []\n", TOPO_EADDRESS, 1, 12, "must be an IPv4 prefix" },
	{ "addresses: 198.18.0/15\nrows: []\n", TOPO_EADDRESS, 1, 12, "must be an IPv4 prefix" },
	{ "addresses: 198.18.0.256/15\nrows: []\n", TOPO_EADDRESS, 1, 12, "must be an IPv4 prefix" },
	{ "addresses: 198.18.0.0/22\njury: 3\n" RACK3("A", "B", "C")
	  "      - {name: r4, power: A, hosts: [h10]}\n", TOPO_EADDRESS, 9, 9,
	  "address range exhausted: rack 'r4' is rack 4 but 198.18.0.0/22 holds 3 rack /24s" },
};

START_TEST(each_validation_error_names_its_place)
{
	const struct bad_case *c = &bad[_i];
	struct topo_diag d;
	memset(&d, 0, sizeof d);
	struct topo_model *m = NULL;
	int rc = topo_model_load_mem(c->yaml, strlen(c->yaml), "bad.yaml", &m, &d);
	ck_assert_msg(rc == c->code, "case %d: got %d (%s: %u:%u %s), want %d", _i, rc,
		      topo_strerror(rc), d.line, d.column, d.msg, c->code);
	if (c->code == 0) {
		topo_model_free(m);
		return;
	}
	ck_assert_ptr_null(m);
	ck_assert_int_eq(d.code, c->code);
	ck_assert_str_eq(d.file, "bad.yaml");
	ck_assert_msg(d.line == c->line && d.column == c->column,
		      "case %d: at %u:%u, want %u:%u (%s)", _i, d.line, d.column, c->line,
		      c->column, d.msg);
	ck_assert_msg(strstr(d.msg, c->msg_part) != NULL, "case %d: '%s' lacks '%s'", _i,
		      d.msg, c->msg_part);
}
END_TEST

START_TEST(too_many_hosts_in_a_rack_exhaust_its_slash_24)
{
	size_t cap = 64 * 1024, len = 0;
	char *y = malloc(cap);
	len += (size_t)snprintf(y + len, cap - len,
				"jury: 3\nrows:\n  - name: row\n    racks:\n"
				"      - {name: a, power: A, hosts: [a1]}\n"
				"      - {name: b, power: B, hosts: [b1]}\n"
				"      - name: c\n        power: C\n        hosts:\n");
	for (int i = 0; i < 128; i++)
		len += (size_t)snprintf(y + len, cap - len, "          - c%d\n", i);
	struct topo_diag d;
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_load_mem(y, len, "big.yaml", &m, &d), TOPO_EADDRESS);
	ck_assert_uint_eq(d.line, 10 + 127);
	ck_assert_uint_eq(d.column, 13);
	ck_assert_ptr_nonnull(strstr(d.msg, "rack 'c' has more than 127 hosts"));
	free(y);
}
END_TEST

START_TEST(validate_catches_hand_made_models)
{
	struct topo_model *m = NULL;
	ck_assert_int_eq(topo_model_default(&m), 0);
	struct topo_diag d;
	ck_assert_int_eq(topo_model_validate(m, 7, &d), 0);
	ck_assert_int_eq(topo_model_validate(m, 2, &d), TOPO_ESCHEMA);
	m->racks[1].power = 99;
	ck_assert_int_eq(topo_model_validate(m, 7, &d), TOPO_ENOPOWER);
	m->racks[1].power = 1;
	strcpy(m->hosts[5].name, "r1-n1");
	ck_assert_int_eq(topo_model_validate(m, 7, &d), TOPO_EDUPLICATE);
	ck_assert_str_eq(d.file, "<default>");
	strcpy(m->hosts[5].name, "r2-n2");
	m->hosts[5].addr++;
	ck_assert_int_eq(topo_model_validate(m, 7, &d), TOPO_EINVAL);
	m->hosts[5].addr--;
	ck_assert_int_eq(topo_model_validate(m, 9, &d), 0);
	for (int h = 8; h < 11; h++)
		m->hosts[h].role = TOPO_ROLE_CLIENT; /* rack3, the only rack of pC */
	ck_assert_int_eq(topo_model_validate(m, 7, &d), TOPO_EDIVERSITY);
	ck_assert_ptr_nonnull(strstr(d.msg, "fewer than 3 power domains"));
	topo_model_free(m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("topology model");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, loads_a_full_model);
	tcase_add_test(tc, default_model_is_the_documented_one);
	tcase_add_test(tc, write_then_load_gives_the_same_model);
	tcase_add_test(tc, generated_models_validate);
	tcase_add_test(tc, missing_file_is_an_io_error);
	tcase_add_test(tc, loads_from_a_file_and_names_it);
	tcase_add_loop_test(tc, each_validation_error_names_its_place, 0,
			    (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, too_many_hosts_in_a_rack_exhaust_its_slash_24);
	tcase_add_test(tc, validate_catches_hand_made_models);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
