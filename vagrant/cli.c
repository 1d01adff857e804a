/* `physalia-chaos vagrant`: writes a vagrant/ directory for a rack model. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos/chaos.h"
#include "topology/topology.h"
#include "vagrant.h"

#ifndef VAG_SOURCE_DIR
#define VAG_SOURCE_DIR "."
#endif

#define DEFAULT_MAX_VMS 40

static void usage(FILE *f)
{
	fprintf(f,
		"usage: physalia-chaos vagrant [options] [RUN.db|CAMPAIGN|RACKMODEL]\n"
		"Writes a directory with a Vagrantfile (one VM per host, ToR and spine\n"
		"routers), provision.sh, the source of the commit, hosts.tsv, README.md.\n"
		"  -o, --out DIR        directory to write (default: vagrant)\n"
		"  --default            the built-in default rack model (the default)\n"
		"  --shape RxKxN+C      topology's generated model: R rows of K racks, N node\n"
		"                       and C client hosts per rack, 3 power domains\n"
		"  --max-vms N          group a rack's hosts on one VM above N hosts (default %d)\n"
		"  --source DIR         physalia git work tree (default: %s)\n"
		"  --commit C           commit to ship (default: HEAD of --source)\n"
		"  --box NAME           Vagrant box (default: debian/bookworm64)\n"
		"  --host-memory MB, --router-memory MB, --cpus N\n",
		DEFAULT_MAX_VMS, VAG_SOURCE_DIR);
}

/* A decimal in [lo, hi], the whole string. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return VAG_EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return VAG_EINVAL;
	*out = v;
	return VAG_OK;
}

/* The rack model an input names: a run database (reports/), a campaign
 * (chaos/: its rack_model, relative to the campaign file, or the default),
 * or a rack model file (topology/). *camp is set for campaigns. */
static int load_input(const char *input, struct topo_model **t, struct chaos_campaign **camp,
		      struct vag_model **vm, char *version, size_t versionlen, char *origin,
		      size_t originlen, char *err, size_t errlen)
{
	FILE *f = fopen(input, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", input, strerror(errno));
		return -1;
	}
	char head[16] = "";
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n == 16 && memcmp(head, "SQLite format 3", 16) == 0) {
		if (vag_model_from_rundb(input, vm, version, versionlen, err, errlen) != VAG_OK)
			return -1;
		snprintf(origin, originlen, "the hosts of run database %.300s", input);
		return 0;
	}
	/* A campaign names its rack model; a rack model does not parse as one. */
	char cerr[512] = "";
	struct chaos_campaign *c = NULL;
	if (chaos_campaign_load(input, &c, cerr, sizeof(cerr)) == CHAOS_OK) {
		char path[CHAOS_PATH_MAX * 2];
		struct topo_diag d = { 0 };
		char dbuf[600];
		int rc;
		if (c->rack_model[0] == '\0' || strcmp(c->rack_model, "default") == 0) {
			rc = topo_model_default(t);
			snprintf(origin, originlen, "campaign %.200s (the default rack model)", input);
		} else {
			const char *slash = strrchr(input, '/');
			if (c->rack_model[0] == '/' || slash == NULL)
				snprintf(path, sizeof(path), "%s", c->rack_model);
			else
				snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - input), input,
					 c->rack_model);
			rc = topo_model_load_file(path, t, &d);
			snprintf(origin, originlen, "campaign %.200s (rack model %.300s)", input, path);
		}
		if (rc != TOPO_OK) {
			snprintf(err, errlen, "%s", topo_diag_format(&d, dbuf, sizeof(dbuf)));
			chaos_campaign_free(c);
			return -1;
		}
		*camp = c;
		return 0;
	}
	struct topo_diag d = { 0 };
	if (topo_model_load_file(input, t, &d) != TOPO_OK) {
		char dbuf[600];
		snprintf(err, errlen, "%s is neither a campaign (%s) nor a rack model (%s)", input, cerr,
			 topo_diag_format(&d, dbuf, sizeof(dbuf)));
		return -1;
	}
	snprintf(origin, originlen, "rack model %.300s", input);
	return 0;
}

int vag_cli_vagrant(int argc, char **argv)
{
	struct vag_gen_opts o = { .outdir = "vagrant", .source_dir = VAG_SOURCE_DIR };
	const char *shape = NULL, *input = NULL;
	unsigned long max_vms = DEFAULT_MAX_VMS, n;
	char err[512] = "";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--default") == 0) {
			takes = 0;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
			o.outdir = v;
		} else if (strcmp(a, "--shape") == 0) {
			shape = v;
		} else if (strcmp(a, "--source") == 0) {
			o.source_dir = v;
		} else if (strcmp(a, "--commit") == 0) {
			o.commit = v;
		} else if (strcmp(a, "--box") == 0) {
			o.box = v;
		} else if (strcmp(a, "--max-vms") == 0) {
			if (parse_uint(v, 1, 100000, &max_vms) != VAG_OK) {
				fprintf(stderr, "physalia-chaos vagrant: --max-vms: a number from 1, not '%s'\n",
					v ? v : "");
				return 2;
			}
		} else if (strcmp(a, "--host-memory") == 0 || strcmp(a, "--router-memory") == 0 ||
			   strcmp(a, "--cpus") == 0) {
			int cpus = strcmp(a, "--cpus") == 0;
			if (parse_uint(v, cpus ? 1 : 256, cpus ? 64 : 1048576, &n) != VAG_OK) {
				fprintf(stderr, "physalia-chaos vagrant: %s: %s, not '%s'\n", a,
					cpus ? "1 to 64" : "256 to 1048576 MiB", v ? v : "");
				return 2;
			}
			if (cpus)
				o.cpus = (unsigned)n;
			else if (a[2] == 'h')
				o.host_memory_mb = (unsigned)n;
			else
				o.router_memory_mb = (unsigned)n;
		} else if (a[0] == '-') {
			fprintf(stderr, "physalia-chaos vagrant: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (input == NULL) {
			input = a;
			takes = 0;
		} else {
			fprintf(stderr, "physalia-chaos vagrant: one input only ('%s' and '%s')\n", input, a);
			return 2;
		}
		if (takes) {
			if (v == NULL) {
				fprintf(stderr, "physalia-chaos vagrant: %s needs a value\n", a);
				return 2;
			}
			i++;
		}
	}

	struct topo_model *t = NULL;
	struct topo_diag diag = { 0 };
	struct chaos_campaign *camp = NULL;
	struct vag_model *m = NULL;
	char origin[600], dbuf[600], version[128] = "";
	int rc;
	if (input != NULL) {
		rc = load_input(input, &t, &camp, &m, version, sizeof(version), origin,
				sizeof(origin), err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "physalia-chaos vagrant: %s\n", err);
			return 2;
		}
		if (camp != NULL)
			o.campaign_path = input;
		if (m != NULL) {
			o.run_db = input;
			o.run_version = version;
			/* The run's version is shipped when it names a commit. */
			if (o.commit == NULL && vag_commit_exists(o.source_dir, version))
				o.commit = version;
			else if (o.commit == NULL)
				fprintf(stderr,
					"physalia-chaos vagrant: the run recorded version '%s', not a "
					"commit of %s: shipping HEAD (give --commit to choose)\n",
					version, o.source_dir);
		}
	} else if (shape != NULL) {
		unsigned s[4];
		if ((rc = vag_shape_parse(shape, s, err, sizeof(err))) != VAG_OK) {
			fprintf(stderr, "physalia-chaos vagrant: %s\n", err);
			return 2;
		}
		struct topo_gen g = { .rows = s[0], .racks_per_row = s[1], .powers = 3,
				      .nodes = s[2], .clients = s[3], .jury_size = 3 };
		if (topo_model_generate(&g, &t, &diag) != TOPO_OK) {
			fprintf(stderr, "physalia-chaos vagrant: --shape %s: %s\n", shape,
				topo_diag_format(&diag, dbuf, sizeof(dbuf)));
			return 2;
		}
		snprintf(origin, sizeof(origin), "the generated rack model %s", shape);
	} else {
		if (topo_model_default(&t) != TOPO_OK) {
			fprintf(stderr, "physalia-chaos vagrant: the default rack model: out of memory\n");
			return 2;
		}
		snprintf(origin, sizeof(origin), "the default rack model");
	}
	rc = m != NULL ? VAG_OK : vag_model_from_topo(t, &m);
	topo_model_free(t);
	if (rc != VAG_OK) {
		fprintf(stderr, "physalia-chaos vagrant: %s\n", vag_strerror(rc));
		chaos_campaign_free(camp);
		return 2;
	}
	o.origin = origin;
	struct vag_layout *l = NULL;
	rc = vag_layout_make(m, max_vms, &l, err, sizeof(err));
	if (rc == VAG_OK)
		rc = vag_generate(m, l, &o, err, sizeof(err));
	if (rc != VAG_OK) {
		fprintf(stderr, "physalia-chaos vagrant: %s\n", err[0] ? err : vag_strerror(rc));
		vag_layout_free(l);
		vag_model_free(m);
		chaos_campaign_free(camp);
		return 2;
	}
	size_t hostvms = 0;
	for (size_t i = 0; i < l->nmachines; i++)
		hostvms += l->machines[i].kind == VAG_M_HOST;
	printf("%s: %zu machines (%zu for %zu hosts%s, %zu routers) from %s\n", o.outdir,
	       l->nmachines, hostvms, l->nhosts, l->grouped ? ", grouped per rack" : "",
	       l->nmachines - hostvms, origin);
	vag_layout_free(l);
	vag_model_free(m);
	chaos_campaign_free(camp);
	return 0;
}
