/* topology/cli.c: `physalia-chaos place|up|down|status|exec` (the chaos
 * binary dispatches here; argv[0] is the subcommand). */
#include "topology/topology.h"
#include "topology/model_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_USAGE = 2 };

static int usage(const char *problem)
{
	fprintf(stderr, "%s\n", problem);
	fprintf(stderr,
		"usage: physalia-chaos place [RACKMODEL] [--jury N] [--cells N] [--seed S] [--swaps N] [--sim] [--same-row PERMILLE]\n"
		"       physalia-chaos up [RACKMODEL] [--run PREFIX]\n"
		"       physalia-chaos down [--run PREFIX | --all]\n"
		"       physalia-chaos status [--run PREFIX | --all]\n"
		"       physalia-chaos exec [--run PREFIX] HOST -- cmd [args...]\n"
		"RACKMODEL defaults to the built-in model, PREFIX to $PHYSALIA_RUN, else \"main\"\n");
	return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (s == NULL || *s == '\0')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int load_model(const char *path, struct topo_model **m)
{
	struct topo_diag d;
	int rc = path ? topo_model_load_file(path, m, &d) : topo_model_default(m);
	if (rc != 0) {
		char buf[TOPO_PATH_MAX + TOPO_DIAG_MSG_MAX + 32];
		if (path)
			fprintf(stderr, "%s\n", topo_diag_format(&d, buf, sizeof buf));
		else
			fprintf(stderr, "default model: %s\n", topo_strerror(rc));
	}
	return rc;
}

static const char *default_run(void)
{
	const char *r = getenv("PHYSALIA_RUN");
	return r && *r ? r : "main";
}

static void print_model(const struct topo_model *m, FILE *f)
{
	size_t nodes = 0, clients = 0;
	for (size_t i = 0; i < m->n_hosts; i++) {
		nodes += topo__is_node(&m->hosts[i]);
		clients += m->hosts[i].role != TOPO_ROLE_NODE;
	}
	fprintf(f, "rack model %s (%s): %zu rows, %zu racks, %zu power domains, %zu hosts "
		   "(%zu node, %zu client), %zu colors\n",
		m->datacenter, m->source, m->n_rows, m->n_racks, m->n_powers, m->n_hosts, nodes,
		clients, m->n_colors - 1);
}

/* ---- place ------------------------------------------------------------------ */

/* The clients of cell i: a client host taken round-robin, then up to two more
 * client hosts of its row on other racks (the paper's client, primary and
 * replica, section 3.2). */
static size_t cell_clients(const struct topo_model *m, const uint32_t *cl, size_t ncl,
			   uint32_t i, uint32_t out[3])
{
	size_t n = 0;
	out[n++] = cl[i % ncl];
	for (size_t k = 1; k < ncl && n < 3; k++) {
		uint32_t h = cl[(i + k) % ncl];
		bool ok = m->hosts[h].row == m->hosts[out[0]].row;
		for (size_t j = 0; j < n; j++)
			ok = ok && m->hosts[h].rack != m->hosts[out[j]].rack;
		if (ok)
			out[n++] = h;
	}
	return n;
}

static const char *dom_name(const struct topo_model *m, const struct topo_blast *b)
{
	switch (b->kind) {
	case TOPO_DOM_RACK: return m->racks[b->index].name;
	case TOPO_DOM_POWER: return m->powers[b->index].name;
	case TOPO_DOM_ROW: return m->rows[b->index].name;
	}
	return "?";
}

int topo_cli_place(int argc, char **argv)
{
	const char *path = NULL;
	uint64_t jury = 0, cells = 10, seed = 1, swaps = 20, same_row = 1000;
	bool sim = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--jury") == 0 && i + 1 < argc) {
			if (!parse_u64(argv[++i], TOPO_JURY_MIN, TOPO_JURY_MAX, &jury))
				return usage("place: --jury takes 3..9");
		} else if (strcmp(a, "--cells") == 0 && i + 1 < argc) {
			if (!parse_u64(argv[++i], 1, 1000000, &cells))
				return usage("place: --cells takes 1..1000000");
		} else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
			if (!parse_u64(argv[++i], 0, UINT64_MAX, &seed))
				return usage("place: --seed takes a number");
		} else if (strcmp(a, "--swaps") == 0 && i + 1 < argc) {
			if (!parse_u64(argv[++i], 1, 10000, &swaps))
				return usage("place: --swaps takes 1..10000");
		} else if (strcmp(a, "--sim") == 0) {
			sim = true;
		} else if (strcmp(a, "--same-row") == 0 && i + 1 < argc) {
			if (!parse_u64(argv[++i], 0, 1000, &same_row))
				return usage("place: --same-row takes 0..1000 (per mille)");
			sim = true;
		} else if (a[0] != '-' && path == NULL) {
			path = a;
		} else {
			return usage("place: unknown argument");
		}
	}
	struct topo_model *m = NULL;
	if (load_model(path, &m) != 0)
		return 1;
	int status = 1;
	struct topo_colony c;
	memset(&c, 0, sizeof c);
	struct topo_blast *bl = NULL;
	uint32_t *cl = malloc((m->n_hosts + 1) * sizeof *cl);
	if (cl == NULL)
		goto out;
	if (jury != 0) {
		struct topo_diag d;
		int rc = topo_model_validate(m, (uint32_t)jury, &d);
		if (rc != 0) {
			char buf[TOPO_PATH_MAX + TOPO_DIAG_MSG_MAX + 32];
			fprintf(stderr, "%s\n", topo_diag_format(&d, buf, sizeof buf));
			goto out;
		}
	}
	size_t ncl = 0;
	for (uint32_t h = 0; h < m->n_hosts; h++)
		if (m->hosts[h].role != TOPO_ROLE_NODE)
			cl[ncl++] = h;
	if (ncl == 0) {
		fprintf(stderr, "place: the rack model has no client hosts to place cells near\n");
		goto out;
	}
	struct topo_place_params pp = { .jury_size = (uint32_t)jury,
					.swap_candidates = (uint32_t)swaps, .seed = seed };
	int rc = topo_colony_init(&c, m, &pp);
	if (rc != 0) {
		fprintf(stderr, "place: %s\n", topo_strerror(rc));
		goto out;
	}
	print_model(m, stdout);
	printf("placing %" PRIu64 " cells, jury %u, %u swap candidates per cell, seed %" PRIu64 "\n",
	       cells, c.params.jury_size, c.params.swap_candidates, seed);
	for (uint32_t i = 0; i < cells; i++) {
		uint32_t who[3];
		size_t n = cell_clients(m, cl, ncl, i, who);
		const char *color = m->hosts[who[0]].color ? m->colors[m->hosts[who[0]].color].name : NULL;
		rc = topo_colony_add_cell(&c, who, n, color, NULL);
		if (rc != 0) {
			fprintf(stderr, "place: cell %u near %s: %s\n", i, m->hosts[who[0]].name,
				topo_strerror(rc));
			goto out;
		}
	}
	struct topo_improve_stats is;
	topo_colony_improve(&c, &is);
	printf("random-swap improvement: %" PRIu64 " tried, %" PRIu64 " accepted, locality cost %"
	       PRIu64 " -> %" PRIu64 " (hops, summed over members and clients)\n",
	       is.tried, is.accepted, is.cost_before, is.cost_after);
	size_t show = c.n_cells < 20 ? c.n_cells : 20;
	printf("\n%-5s %-28s %5s %6s %6s  %s\n", "cell", "clients", "cost", "racks", "powers", "jury");
	for (size_t i = 0; i < show; i++) {
		const struct topo_cell *x = &c.cells[i];
		char clients[64] = "";
		for (uint32_t k = 0; k < x->n_clients; k++)
			snprintf(clients + strlen(clients), sizeof clients - strlen(clients), "%s%s",
				 k ? "," : "", m->hosts[x->clients[k]].name);
		uint32_t racks = 0, powers = 0;
		for (uint32_t k = 0; k < x->n_jury; k++) {
			bool nr = true, np = true;
			for (uint32_t j = 0; j < k; j++) {
				nr = nr && m->hosts[x->jury[j]].rack != m->hosts[x->jury[k]].rack;
				np = np && m->hosts[x->jury[j]].power != m->hosts[x->jury[k]].power;
			}
			racks += nr;
			powers += np;
		}
		printf("%-5u %-28s %5" PRIu64 " %6u %6u  ", x->id, clients,
		       topo_jury_cost(m, x, x->jury, x->n_jury), racks, powers);
		for (uint32_t k = 0; k < x->n_jury; k++)
			printf("%s%s", k ? " " : "", m->hosts[x->jury[k]].name);
		enum topo_violation v = topo_jury_check(m, &c, x->color, x->jury, x->n_jury);
		printf("%s\n", v == TOPO_V_NONE ? "" : topo_violation_name(v));
	}
	if (show < c.n_cells)
		printf("... %zu more cells\n", c.n_cells - show);
	uint32_t lo = UINT32_MAX, hi = 0;
	for (uint32_t h = 0; h < m->n_hosts; h++) {
		if (!topo__is_node(&m->hosts[h]))
			continue;
		lo = c.load[h] < lo ? c.load[h] : lo;
		hi = c.load[h] > hi ? c.load[h] : hi;
	}
	printf("\ncells per node: min %u, max %u, cap %u (share ceil(cells*jury/nodes)+1)\n", lo, hi,
	       topo_colony_cap(&c, 0));
	size_t nb;
	if (topo_blast_radius(&c, &bl, &nb) == 0) {
		printf("\nblast radius (one domain failing):\n%-6s %-16s %6s %11s %12s %13s %13s\n",
		       "kind", "name", "hosts", "cells lost", "cells touched", "clients down",
		       "clients lost");
		for (size_t i = 0; i < nb; i++)
			printf("%-6s %-16s %6u %11u %12u %13u %13u\n",
			       bl[i].kind == TOPO_DOM_RACK ? "rack" :
			       bl[i].kind == TOPO_DOM_POWER ? "power" : "row",
			       dom_name(m, &bl[i]), bl[i].hosts_down, bl[i].cells_lost,
			       bl[i].cells_touched, bl[i].clients_down, bl[i].clients_lost);
	}
	if (ncl > 1 && c.n_cells > 0) {
		/* a move plan: cell 0 follows its client to the farthest client host */
		uint32_t to = cl[ncl - 1];
		struct topo_move *steps = NULL;
		size_t n = 0;
		rc = topo_move_plan(&c, 0, &to, 1, &steps, &n);
		printf("\nmove plan: cell 0 toward %s: ", m->hosts[to].name);
		if (rc != 0) {
			printf("%s\n", topo_strerror(rc));
		} else {
			printf("%zu step%s\n", n, n == 1 ? "" : "s");
			for (size_t i = 0; i < n; i++)
				printf("  %zu. %s -> %s (cost %" PRIu64 ")\n", i + 1,
				       m->hosts[steps[i].out].name, m->hosts[steps[i].in].name,
				       steps[i].cost_after);
		}
		free(steps);
	}
	if (sim) {
		struct topo_avail_params ap = { .same_row_permille = (uint32_t)same_row, .seed = seed };
		struct topo_avail_result ar;
		rc = topo_avail_sim(&ap, &ar);
		if (rc != 0) {
			fprintf(stderr, "place: availability simulation: %s\n", topo_strerror(rc));
			goto out;
		}
		printf("\nvolumes: client, primary and replica on 3 racks; primary and replica in "
		       "the client's row with probability %.1f%%\n", same_row / 10.0);
		topo_avail_print(&ar, stdout);
		ap.tor_failures = 1;
		rc = topo_avail_sim(&ap, &ar);
		if (rc != 0) {
			fprintf(stderr, "place: availability simulation: %s\n", topo_strerror(rc));
			goto out;
		}
		printf("\n");
		topo_avail_print(&ar, stdout);
	}
	status = 0;
out:
	free(bl);
	free(cl);
	topo_colony_close(&c);
	topo_model_free(m);
	return status;
}

/* ---- up / down / status / exec ------------------------------------------------ */

static int cli_up(int argc, char **argv)
{
	const char *path = NULL, *run = default_run();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			run = argv[++i];
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			return usage("up: unknown argument");
	}
	if (topo_run_valid(run) != 0)
		return usage("up: PREFIX is 1-15 letters or digits");
	struct topo_model *m = NULL;
	if (load_model(path, &m) != 0)
		return 1;
	struct topo_fabric_stats st;
	int rc = topo_fabric_up(m, run, &st);
	if (rc != 0) {
		fprintf(stderr, "up: %s: %s\n", topo_strerror(rc), topo_fabric_error());
		topo_model_free(m);
		return 1;
	}
	printf("fabric up: run %s, %u namespaces, %u links, %u addresses, %u routes in %.3f s\n",
	       run, st.namespaces, st.links, st.addresses, st.routes, st.seconds);
	for (size_t i = 0; i < m->n_hosts; i++) {
		const struct topo_host *h = &m->hosts[i];
		char ns[TOPO_NSNAME_MAX];
		topo_ns_name(ns, sizeof ns, run, h->name);
		printf("  %-20s %-7s %-12s %-12s %u.%u.%u.%u\n", ns,
		       h->role == TOPO_ROLE_NODE ? "node" : h->role == TOPO_ROLE_CLIENT ? "client" : "both",
		       m->racks[h->rack].name, m->powers[h->power].name, h->addr >> 24,
		       (h->addr >> 16) & 255, (h->addr >> 8) & 255, h->addr & 255);
	}
	topo_model_free(m);
	return 0;
}

static int run_or_all(int argc, char **argv, const char **run, const char *cmd)
{
	*run = default_run();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			*run = argv[++i];
		else if (strcmp(argv[i], "--all") == 0)
			*run = NULL;
		else
			return usage(cmd);
	}
	if (*run != NULL && topo_run_valid(*run) != 0)
		return usage(cmd);
	return 0;
}

static int cli_down(int argc, char **argv)
{
	const char *run;
	int u = run_or_all(argc, argv, &run, "down: unknown argument");
	if (u != 0)
		return u;
	uint32_t removed = 0;
	int rc = topo_fabric_down(run, &removed);
	if (rc != 0) {
		fprintf(stderr, "down: %s: %s\n", topo_strerror(rc), topo_fabric_error());
		return 1;
	}
	printf("fabric down: %s: %u namespaces removed\n", run ? run : "all runs", removed);
	return 0;
}

static int cli_status(int argc, char **argv)
{
	const char *run;
	int u = run_or_all(argc, argv, &run, "status: unknown argument");
	if (u != 0)
		return u;
	struct topo_ns_status *st = NULL;
	size_t n = 0;
	int rc = topo_fabric_status(run, &st, &n);
	if (rc != 0) {
		fprintf(stderr, "status: %s: %s\n", topo_strerror(rc), topo_fabric_error());
		return 1;
	}
	printf("%zu namespaces (%s)\n", n, run ? run : "all runs");
	if (n > 0)
		printf("%-28s %-16s %-20s %6s %6s %6s %6s\n", "namespace", "run", "entity", "procs",
		       "links", "up", "addrs");
	for (size_t i = 0; i < n; i++)
		printf("%-28s %-16s %-20s %6u %6u %6u %6u\n", st[i].name, st[i].run, st[i].entity,
		       st[i].processes, st[i].links, st[i].links_up, st[i].addresses);
	free(st);
	return 0;
}

static int cli_exec(int argc, char **argv)
{
	const char *run = default_run(), *host = NULL;
	int i = 1;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			run = argv[++i];
		else if (strcmp(argv[i], "--") == 0)
			break;
		else if (argv[i][0] != '-' && host == NULL)
			host = argv[i];
		else
			return usage("exec: unknown argument");
	}
	if (host == NULL || i >= argc - 1 || topo_run_valid(run) != 0)
		return usage("exec: needs HOST -- cmd");
	pid_t pid;
	int rc = topo_fabric_spawn(run, host, &argv[i + 1], &pid);
	if (rc != 0) {
		fprintf(stderr, "exec: %s: %s\n", topo_strerror(rc), topo_fabric_error());
		return rc == TOPO_ECHILD ? 127 : 1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "exec: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int topo_cli_fabric(int argc, char **argv)
{
	if (argc < 1 || argv[0] == NULL)
		return usage("fabric: no subcommand");
	if (strcmp(argv[0], "up") == 0)
		return cli_up(argc, argv);
	if (strcmp(argv[0], "down") == 0)
		return cli_down(argc, argv);
	if (strcmp(argv[0], "status") == 0)
		return cli_status(argc, argv);
	if (strcmp(argv[0], "exec") == 0)
		return cli_exec(argc, argv);
	return usage("unknown subcommand");
}
