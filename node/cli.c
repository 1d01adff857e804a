/* physalia: the command-line client. Human output by default, --json for
 * machines. Builds transactions with the engine's ph_txn_* builder and
 * sends them through the client library (node.h). */
#define _POSIX_C_SOURCE 200809L
#include <engine.h>
#include <errno.h>
#include <gmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static const char usage[] =
	"usage: physalia [options] COMMAND ...\n"
	"\n"
	"commands:\n"
	"  get PKEY KEY...                 read keys (consistent unless --eventual)\n"
	"  put PKEY KEY VALUE              write VALUE (bytes; --int or --bool to type it)\n"
	"  delete PKEY KEY                 delete a key\n"
	"  increment PKEY KEY [DELTA]      add DELTA (default 1) to an integer key\n"
	"  cas PKEY KEY EXPECTED NEW       put NEW if KEY equals EXPECTED (- = absent)\n"
	"  txn PKEY [FILE|-]               a transaction, one line per item:\n"
	"                                    read K | put K V | put-int K N | put-bool K true|false\n"
	"                                    delete K | increment K N | if-exists K | if-absent K\n"
	"                                    if-equals K V | if-int K lt|le|eq|ne|ge|gt N\n"
	"  cell create PKEY ID,ID,ID...    create the cell of PKEY on that jury (3..9 node ids)\n"
	"  cell status PKEY                jury, proposer, slots and lag of each member\n"
	"  node status [ID]                a node's counters (any node if no ID)\n"
	"\n"
	"options:\n"
	"  --nodes H:P,H:P   nodes' client addresses (default $PHYSALIA_NODES)\n"
	"  --json            machine-readable output\n"
	"  --eventual        eventually consistent read (get, txn without writes)\n"
	"  --int, --bool     type of VALUE for put and cas\n"
	"  --client-id N     client id for exactly-once retries (default random)\n"
	"  --timeout MS      give up after MS milliseconds (default 10000)\n"
	"  -h, --help        this text\n"
	"\n"
	"exit status: 0 committed, 1 ignored (a condition was false), 2 usage,\n"
	"3 error (unreachable, refused, timed out).\n";

static int json;
/* increment: reads return the state before the transaction; show after */
static mpz_ptr incr_delta;

static void die_usage(const char *msg)
{
	fprintf(stderr, "physalia: %s\n%s", msg, usage);
	exit(2);
}

static void json_str(FILE *f, const uint8_t *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void print_value(const struct ph_value *v)
{
	if (v->type == PH_T_INT) {
		char *s = mpz_get_str(NULL, 10, v->integer);
		if (json)
			fprintf(stdout, "{\"type\":\"int\",\"value\":\"%s\"}", s);
		else
			fputs(s, stdout);
		free(s);
	} else if (v->type == PH_T_BOOL) {
		if (json)
			fprintf(stdout, "{\"type\":\"bool\",\"value\":%s}", v->boolean ? "true" : "false");
		else
			fputs(v->boolean ? "true" : "false", stdout);
	} else {
		if (json) {
			fputs("{\"type\":\"bytes\",\"value\":", stdout);
			json_str(stdout, v->bytes, v->len);
			fputc('}', stdout);
		} else {
			fwrite(v->bytes, 1, v->len, stdout);
		}
	}
}

static int value_parse(const char *text, int as_int, int as_bool, struct ph_value *v, mpz_t z)
{
	memset(v, 0, sizeof *v);
	if (as_int) {
		if (mpz_set_str(z, text, 10) != 0)
			return -1;
		v->type = PH_T_INT;
		v->integer = z;
	} else if (as_bool) {
		v->type = PH_T_BOOL;
		if (strcmp(text, "true") == 0)
			v->boolean = true;
		else if (strcmp(text, "false") == 0)
			v->boolean = false;
		else
			return -1;
	} else {
		v->type = PH_T_BYTES;
		v->bytes = (const uint8_t *)text;
		v->len = strlen(text);
	}
	return 0;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "physalia: %s: %s\n", what, ph_strerror(rc));
		exit(2);
	}
}

static int parse_cmp(const char *s, enum ph_cmp *c)
{
	static const char *names[] = { "lt", "le", "eq", "ne", "ge", "gt" };
	for (int i = 0; i < 6; i++)
		if (strcmp(s, names[i]) == 0) {
			*c = (enum ph_cmp)(i + 1);
			return 0;
		}
	return -1;
}

static void die_txn(int lineno, const char *what)
{
	fprintf(stderr, "physalia: txn line %d: %s (items: read K, put K V, put-int K N, "
		"put-bool K true|false, delete K, increment K N, if-exists K, if-absent K, "
		"if-equals K V, if-int K lt|le|eq|ne|ge|gt N)\n", lineno, what);
	exit(2);
}

/* One line of the txn file format into the builder. */
static void txn_line(struct ph_txn *t, char *line, int lineno)
{
	char *words[4] = { 0 };
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t\r\n", &save); w && n < 4; w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	if (n == 0 || words[0][0] == '#')
		return;
	char err[128];
	snprintf(err, sizeof err, "txn line %d", lineno);
	const char *op = words[0], *k = words[1];
	if (k == NULL)
		die_txn(lineno, "missing key");
	size_t kl = strlen(k);
	struct ph_value v;
	mpz_t z;
	mpz_init(z);
	if (strcmp(op, "read") == 0) {
		check(ph_txn_read(t, k, kl), err);
	} else if (strcmp(op, "delete") == 0) {
		check(ph_txn_delete(t, k, kl), err);
	} else if (strcmp(op, "if-exists") == 0) {
		check(ph_txn_cond_exists(t, k, kl), err);
	} else if (strcmp(op, "if-absent") == 0) {
		check(ph_txn_cond_absent(t, k, kl), err);
	} else if ((strcmp(op, "put") == 0 || strcmp(op, "put-int") == 0 ||
		    strcmp(op, "put-bool") == 0 || strcmp(op, "if-equals") == 0) && n >= 3) {
		if (value_parse(words[2], strcmp(op, "put-int") == 0, strcmp(op, "put-bool") == 0, &v, z))
			die_txn(lineno, "bad value");
		if (strcmp(op, "if-equals") == 0)
			check(ph_txn_cond_equals(t, k, kl, &v), err);
		else
			check(ph_txn_put(t, k, kl, &v), err);
	} else if (strcmp(op, "increment") == 0 && n >= 3) {
		if (mpz_set_str(z, words[2], 10) != 0)
			die_txn(lineno, "bad integer");
		check(ph_txn_increment(t, k, kl, z), err);
	} else if (strcmp(op, "if-int") == 0 && n == 4) {
		enum ph_cmp c;
		if (parse_cmp(words[2], &c) != 0 || mpz_set_str(z, words[3], 10) != 0)
			die_txn(lineno, "bad comparison or integer");
		check(ph_txn_cond_int_cmp(t, k, kl, c, z), err);
	} else {
		die_txn(lineno, "unknown item or missing operand");
	}
	mpz_clear(z);
}

static int show_result(const struct node_result *r)
{
	struct ph_result *res;
	int rc = ph_result_decode(r->bytes, r->len, NULL, &res);
	if (rc != 0) {
		fprintf(stderr, "physalia: result does not decode: %s\n", ph_strerror(rc));
		return 3;
	}
	int committed = ph_result_outcome(res) == PH_OUT_COMMITTED;
	size_t nr = ph_result_n_reads(res);
	if (json) {
		printf("{\"outcome\":\"%s\",\"reason\":\"%s\",\"failed_index\":%u,\"token\":%" PRIu64
		       ",\"served_by\":%u,\"reads\":[",
		       committed ? "committed" : "ignored",
		       ph_reason_name(ph_result_reason(res)), ph_result_failed_index(res),
		       ph_result_token(res), r->served_by);
	}
	for (size_t i = 0; i < nr; i++) {
		const uint8_t *k;
		size_t kl;
		bool present;
		struct ph_value v;
		if (ph_result_read(res, i, &k, &kl, &present, &v) != 0)
			continue;
		mpz_t sum;
		mpz_init(sum);
		if (incr_delta && committed && (!present || v.type == PH_T_INT)) {
			if (present)
				mpz_add(sum, v.integer, incr_delta);
			else
				mpz_set(sum, incr_delta);
			v.type = PH_T_INT;
			v.integer = sum;
			present = true;
		}
		if (json) {
			printf("%s{\"key\":", i ? "," : "");
			json_str(stdout, k, kl);
			printf(",\"present\":%s", present ? "true" : "false");
			if (present) {
				fputs(",\"value\":", stdout);
				print_value(&v);
			}
			fputc('}', stdout);
		} else {
			fwrite(k, 1, kl, stdout);
			fputs(" = ", stdout);
			if (present)
				print_value(&v);
			else
				fputs("(absent)", stdout);
			fputc('\n', stdout);
		}
		mpz_clear(sum);
	}
	if (json)
		printf("]}\n");
	else if (!committed)
		printf("ignored: %s (item %u)\n", ph_reason_name(ph_result_reason(res)),
		       ph_result_failed_index(res));
	else if (nr == 0)
		printf("committed\n");
	ph_result_free(res);
	return committed ? 0 : 1;
}

static int run_txn(struct node_client *c, const char *pkey, struct ph_txn *t, int eventual)
{
	uint8_t buf[PH_TXN_MAX];
	size_t len;
	check(ph_txn_encode(t, buf, sizeof buf, &len), "encode");
	struct node_result r;
	int rc = node_client_txn(c, pkey, strlen(pkey), buf, len,
				 eventual ? NODE_EVENTUAL : NODE_CONSISTENT, &r);
	ph_txn_free(t);
	if (rc != 0) {
		if (json)
			printf("{\"error\":\"%s\"}\n", node_strerror(rc));
		fprintf(stderr, "physalia: %s\n", node_strerror(rc));
		return 3;
	}
	int st = show_result(&r);
	node_result_free(&r);
	return st;
}

/* "key value" lines -> value of key (static copy), or NULL. */
static const char *field(const char *text, const char *key, char *out, size_t outsz)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (ll > kl && strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			size_t vl = ll - kl - 1 < outsz - 1 ? ll - kl - 1 : outsz - 1;
			memcpy(out, p + kl + 1, vl);
			out[vl] = 0;
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static void print_text_json(const char *text)
{
	fputc('{', stdout);
	int first = 1;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		const char *sp = memchr(p, ' ', ll);
		if (sp) {
			printf("%s", first ? "" : ",");
			json_str(stdout, (const uint8_t *)p, (size_t)(sp - p));
			fputc(':', stdout);
			json_str(stdout, (const uint8_t *)sp + 1, ll - (size_t)(sp - p) - 1);
			first = 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	fputc('}', stdout);
}

static int cell_status(struct node_client *c, const char *pkey)
{
	uint32_t jury[NODE_JURY_MAX];
	size_t n;
	int rc = node_client_discover(c, pkey, strlen(pkey), jury, &n);
	if (rc != 0) {
		fprintf(stderr, "physalia: discover: %s\n", node_strerror(rc));
		return 3;
	}
	char *texts[NODE_JURY_MAX] = { 0 };
	uint64_t applied[NODE_JURY_MAX] = { 0 }, maxa = 0;
	for (size_t i = 0; i < n; i++) {
		node_client_set_retry(c, 1500, 2, 50);
		if (node_client_cell_status(c, pkey, strlen(pkey), jury[i], &texts[i]) == 0) {
			char v[64];
			if (field(texts[i], "applied", v, sizeof v))
				applied[i] = strtoull(v, NULL, 10);
			if (applied[i] > maxa)
				maxa = applied[i];
		}
	}
	if (json)
		printf("{\"pkey\":\"%s\",\"members\":[", pkey);
	else
		printf("cell %s jury", pkey);
	for (size_t i = 0; i < n && !json; i++)
		printf("%s%u", i ? "," : " ", jury[i]);
	if (!json)
		printf("\n%-6s %-10s %-7s %-10s %-10s %-6s\n", "node", "role", "leader", "chosen",
		       "applied", "lag");
	for (size_t i = 0; i < n; i++) {
		if (json) {
			printf("%s{\"node\":%u,\"reachable\":%s,\"lag\":%" PRIu64 ",\"status\":", i ? "," : "",
			       jury[i], texts[i] ? "true" : "false", texts[i] ? maxa - applied[i] : 0);
			if (texts[i])
				print_text_json(texts[i]);
			else
				fputs("null", stdout);
			fputc('}', stdout);
		} else if (texts[i]) {
			char role[32] = "?", leader[32] = "?", chosen[32] = "?";
			field(texts[i], "role", role, sizeof role);
			field(texts[i], "leader", leader, sizeof leader);
			field(texts[i], "chosen", chosen, sizeof chosen);
			printf("%-6u %-10s %-7s %-10s %-10" PRIu64 " %-6" PRIu64 "\n", jury[i], role, leader,
			       chosen, applied[i], maxa - applied[i]);
		} else {
			printf("%-6u unreachable\n", jury[i]);
		}
		free(texts[i]);
	}
	if (json)
		printf("]}\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *nodes = getenv("PHYSALIA_NODES");
	int eventual = 0, as_int = 0, as_bool = 0;
	uint64_t client_id = 0, timeout = 10000;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--eventual") == 0) {
			eventual = 1;
		} else if (strcmp(a, "--int") == 0) {
			as_int = 1;
		} else if (strcmp(a, "--bool") == 0) {
			as_bool = 1;
		} else if (strcmp(a, "--nodes") == 0 && i + 1 < argc) {
			nodes = argv[++i];
		} else if (strcmp(a, "--client-id") == 0 && i + 1 < argc) {
			client_id = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
			timeout = strtoull(argv[++i], NULL, 10);
		} else {
			die_usage("unknown option");
		}
	}
	if (i >= argc)
		die_usage("no command");
	if (nodes == NULL || *nodes == 0)
		die_usage("no nodes: give --nodes H:P,... or set PHYSALIA_NODES");
	char *list = strdup(nodes);
	const char *seeds[64];
	size_t ns = 0;
	char *save = NULL;
	for (char *s = strtok_r(list, ",", &save); s && ns < 64; s = strtok_r(NULL, ",", &save))
		seeds[ns++] = s;
	struct node_client *c;
	if (node_client_new(seeds, ns, client_id, &c) != 0)
		die_usage("bad --nodes address (host:port,...)");
	free(list);
	node_client_set_retry(c, timeout, 2, 200);
	const char *cmd = argv[i++];
	int nargs = argc - i;
	char **args = argv + i;
	int status = 0;
	struct ph_txn *t = NULL;
	mpz_t z;
	mpz_init(z);
	struct ph_value v;
	if (strcmp(cmd, "get") == 0 && nargs >= 2) {
		check(ph_txn_new(NULL, &t), "txn");
		for (int k = 1; k < nargs; k++)
			check(ph_txn_read(t, args[k], strlen(args[k])), "read");
		status = run_txn(c, args[0], t, eventual);
	} else if (strcmp(cmd, "put") == 0 && nargs == 3) {
		if (value_parse(args[2], as_int, as_bool, &v, z))
			die_usage("bad value");
		check(ph_txn_new(NULL, &t), "txn");
		check(ph_txn_put(t, args[1], strlen(args[1]), &v), "put");
		status = run_txn(c, args[0], t, 0);
	} else if (strcmp(cmd, "delete") == 0 && nargs == 2) {
		check(ph_txn_new(NULL, &t), "txn");
		check(ph_txn_delete(t, args[1], strlen(args[1])), "delete");
		status = run_txn(c, args[0], t, 0);
	} else if (strcmp(cmd, "increment") == 0 && (nargs == 2 || nargs == 3)) {
		if (mpz_set_str(z, nargs == 3 ? args[2] : "1", 10) != 0)
			die_usage("bad delta");
		check(ph_txn_new(NULL, &t), "txn");
		check(ph_txn_increment(t, args[1], strlen(args[1]), z), "increment");
		check(ph_txn_read(t, args[1], strlen(args[1])), "read");
		incr_delta = z;
		status = run_txn(c, args[0], t, 0);
		incr_delta = NULL;
	} else if (strcmp(cmd, "cas") == 0 && nargs == 4) {
		check(ph_txn_new(NULL, &t), "txn");
		mpz_t z2;
		mpz_init(z2);
		struct ph_value nv;
		if (strcmp(args[2], "-") == 0) {
			check(ph_txn_cond_absent(t, args[1], strlen(args[1])), "cas");
		} else {
			if (value_parse(args[2], as_int, as_bool, &v, z))
				die_usage("bad expected value");
			check(ph_txn_cond_equals(t, args[1], strlen(args[1]), &v), "cas");
		}
		if (value_parse(args[3], as_int, as_bool, &nv, z2))
			die_usage("bad new value");
		check(ph_txn_put(t, args[1], strlen(args[1]), &nv), "cas");
		status = run_txn(c, args[0], t, 0);
		mpz_clear(z2);
	} else if (strcmp(cmd, "txn") == 0 && (nargs == 1 || nargs == 2)) {
		FILE *f = stdin;
		if (nargs == 2 && strcmp(args[1], "-") != 0) {
			f = fopen(args[1], "r");
			if (f == NULL) {
				fprintf(stderr, "physalia: %s: %s\n", args[1], strerror(errno));
				return 2;
			}
		}
		check(ph_txn_new(NULL, &t), "txn");
		char line[2048];
		int ln = 0;
		while (fgets(line, sizeof line, f))
			txn_line(t, line, ++ln);
		if (f != stdin)
			fclose(f);
		status = run_txn(c, args[0], t, eventual && ph_txn_read_only(t));
	} else if (strcmp(cmd, "cell") == 0 && nargs == 3 && strcmp(args[0], "create") == 0) {
		uint32_t jury[NODE_JURY_MAX];
		size_t n = 0;
		char *js = strdup(args[2]), *sv = NULL;
		for (char *s = strtok_r(js, ",", &sv); s; s = strtok_r(NULL, ",", &sv)) {
			if (n == NODE_JURY_MAX)
				die_usage("at most 9 jury members");
			jury[n++] = (uint32_t)strtoul(s, NULL, 10);
		}
		free(js);
		int rc = node_client_cell_create(c, args[1], strlen(args[1]), jury, n);
		if (json)
			printf("{\"created\":%s,\"error\":\"%s\"}\n", rc ? "false" : "true",
			       rc ? node_strerror(rc) : "");
		else if (rc == 0)
			printf("created %s\n", args[1]);
		if (rc != 0) {
			fprintf(stderr, "physalia: cell create: %s\n", node_strerror(rc));
			status = 3;
		}
	} else if (strcmp(cmd, "cell") == 0 && nargs == 2 && strcmp(args[0], "status") == 0) {
		status = cell_status(c, args[1]);
	} else if (strcmp(cmd, "node") == 0 && (nargs == 1 || nargs == 2) &&
		   strcmp(args[0], "status") == 0) {
		char *text;
		int rc = node_client_node_status(c, nargs == 2 ? (uint32_t)strtoul(args[1], NULL, 10) : 0,
						 &text);
		if (rc != 0) {
			fprintf(stderr, "physalia: node status: %s\n", node_strerror(rc));
			status = 3;
		} else {
			if (json) {
				print_text_json(text);
				fputc('\n', stdout);
			} else {
				fputs(text, stdout);
			}
			free(text);
		}
	} else {
		die_usage("unknown command or wrong arguments");
	}
	mpz_clear(z);
	node_client_free(c);
	return status;
}
