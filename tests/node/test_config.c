/* The node config parser: a full file, defaults, and errors naming
 * file:line:column. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "node.h"

static const char *const good =
	"node_id: 3\n"
	"listen:\n"
	"  peers: 127.0.0.1:7003\n"
	"  clients: 127.0.0.1:8003\n"
	"  metrics: '[::1]:9003'\n"
	"data_dir: /tmp/ph3\n"
	"keys:\n"
	"  current: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"  previous: FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n"
	"log_level: debug\n"
	"limits: {max_connections: 10, max_resident_cells: 1000}\n"
	"peers:\n"
	"  - {id: 7, peer: 127.0.0.1:7007, client: 127.0.0.1:8007}\n"
	"  - {id: 3, peer: 127.0.0.1:7003}\n";

START_TEST(parses_full_file)
{
	struct node_config c;
	char err[256];
	ck_assert_int_eq(node_config_parse(good, strlen(good), "n.yaml", &c, err, sizeof err), 0);
	ck_assert_uint_eq(c.node_id, 3);
	ck_assert_str_eq(c.peer_listen.text, "127.0.0.1:7003");
	ck_assert_int_eq(c.has_metrics, 1);
	ck_assert_int_eq(c.metrics_listen.sa.ss_family, AF_INET6);
	ck_assert_str_eq(c.data_dir, "/tmp/ph3");
	ck_assert_uint_eq(c.key[31], 0x1f);
	ck_assert_int_eq(c.has_prev_key, 1);
	ck_assert_uint_eq(c.prev_key[0], 0xff);
	ck_assert_int_eq(c.log_level, NODE_LOG_DEBUG);
	ck_assert_uint_eq(c.max_connections, 10);
	ck_assert_uint_eq(c.max_resident, 1000);
	ck_assert_uint_eq(c.max_frame, 65536); /* default kept */
	ck_assert_uint_eq(c.n_peers, 2);
	ck_assert_uint_eq(c.peers[0].id, 3); /* sorted */
	ck_assert_int_eq(c.peers[0].has_client, 0);
	const struct node_peer *p = node_config_peer(&c, 7);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->client.text, "127.0.0.1:8007");
	ck_assert_ptr_null(node_config_peer(&c, 5));
	node_config_free(&c);
}
END_TEST

/* Replace the first occurrence of `from` in good with `to`, parse, expect
 * failure with an error starting with `prefix`. */
static void expect_error(const char *from, const char *to, const char *prefix)
{
	char text[4096];
	const char *at = strstr(good, from);
	ck_assert_ptr_nonnull(at);
	size_t head = (size_t)(at - good);
	snprintf(text, sizeof text, "%.*s%s%s", (int)head, good, to, at + strlen(from));
	struct node_config c;
	memset(&c, 0x5a, sizeof c);
	struct node_config before = c;
	char err[256];
	ck_assert_int_eq(node_config_parse(text, strlen(text), "n.yaml", &c, err, sizeof err),
			 NODE_ECONFIG);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "got '%s', want '%s...'",
		      err, prefix);
	ck_assert(memcmp(&c, &before, sizeof c) == 0); /* untouched on failure */
}

START_TEST(errors_name_line_and_column)
{
	expect_error("node_id: 3", "node_id: x3", "n.yaml:1:10: node_id: expected an integer");
	expect_error("node_id: 3", "node_id: 0", "n.yaml:1:10: node_id: 0 is out of range");
	expect_error("  peers: 127.0.0.1:7003", "  peers: nohost", "n.yaml:3:10: listen.peers");
	expect_error("  peers: 127.0.0.1:7003", "  peers: 1.2.3.4:70000", "n.yaml:3:10:");
	expect_error("  current: 00", "  current: zz", "n.yaml:8:12: keys.current: expected 64 hex");
	expect_error("log_level: debug", "log_level: loud", "n.yaml:10:12: log_level");
	expect_error("log_level: debug", "colour: blue", "n.yaml:10:1: unknown field 'colour'");
	expect_error("max_connections: 10", "max_connections: 0", "n.yaml:11:27:");
	expect_error("{id: 3, peer: 127.0.0.1:7003}", "{id: 7, peer: 127.0.0.1:7003}",
		     "n.yaml:14:");
	expect_error("{id: 3, peer: 127.0.0.1:7003}", "{id: 3}", "n.yaml:14:");
	expect_error("node_id: 3\n", "", "n.yaml:1:1: missing 'node_id'");
	expect_error("keys:", "keys: [", "n.yaml:");
	expect_error("data_dir: /tmp/ph3", "data_dir: ''", "n.yaml:6:1");
}
END_TEST

START_TEST(syntax_error_has_position)
{
	const char *bad = "node_id: 1\nlisten: {peers: [\n";
	struct node_config c;
	char err[256];
	ck_assert_int_eq(node_config_parse(bad, strlen(bad), "s.yaml", &c, err, sizeof err),
			 NODE_ECONFIG);
	ck_assert_msg(strncmp(err, "s.yaml:", 7) == 0 && strstr(err, "YAML syntax"), "%s", err);
}
END_TEST

START_TEST(binary_bytes_refused_with_position)
{
	struct node_config c;
	char err[256];
	static const char hang[] = "%\xa6\0\0"; /* made libfyaml 0.7 loop forever */
	ck_assert_int_eq(node_config_parse(hang, 4, "b.yaml", &c, err, sizeof err), NODE_ECONFIG);
	ck_assert_str_eq(err, "b.yaml:1:2: not UTF-8 text (a NUL, control or invalid byte)");
	static const char nul[] = "node_id: 1\nx: \0";
	ck_assert_int_eq(node_config_parse(nul, sizeof nul - 1, "b.yaml", &c, err, sizeof err),
			 NODE_ECONFIG);
	ck_assert_str_eq(err, "b.yaml:2:4: not UTF-8 text (a NUL, control or invalid byte)");
	static const char utf8[] = "node_id: 1 # caf\xc3\xa9\n";
	ck_assert_int_eq(node_config_parse(utf8, sizeof utf8 - 1, "b.yaml", &c, err, sizeof err),
			 NODE_ECONFIG); /* valid text, but incomplete config */
	ck_assert_ptr_nonnull(strstr(err, "missing 'listen.peers'"));
}
END_TEST

START_TEST(load_missing_file)
{
	struct node_config c;
	char err[256];
	ck_assert_int_eq(node_config_load("/nonexistent/x.yaml", &c, err, sizeof err), NODE_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.yaml:0:0: cannot open"));
}
END_TEST

START_TEST(addresses)
{
	struct node_addr a;
	ck_assert_int_eq(node_addr_parse("10.0.0.1:0", &a), 0);
	ck_assert_int_eq(node_addr_parse("[fe80::1]:99", &a), 0);
	ck_assert_int_eq(node_addr_parse("10.0.0.1", &a), NODE_EINVAL);
	ck_assert_int_eq(node_addr_parse(":5", &a), NODE_EINVAL);
	ck_assert_int_eq(node_addr_parse("10.0.0.1:", &a), NODE_EINVAL);
	ck_assert_int_eq(node_addr_parse("10.0.0.1:-1", &a), NODE_EINVAL);
	ck_assert_int_eq(node_addr_parse("host.example:80", &a), NODE_EINVAL);
	ck_assert_int_eq(node_addr_parse("[::1:80", &a), NODE_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("node_config");
	TCase *tc = tcase_create("config");
	tcase_add_test(tc, parses_full_file);
	tcase_add_test(tc, errors_name_line_and_column);
	tcase_add_test(tc, syntax_error_has_position);
	tcase_add_test(tc, binary_bytes_refused_with_position);
	tcase_add_test(tc, load_missing_file);
	tcase_add_test(tc, addresses);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
