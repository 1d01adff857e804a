/* `physalia-chaos vagrant`: writes a vagrant/ directory for a rack model. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		"  --shape RxKxN+C      R rows of K racks, N node and C client hosts per rack\n"
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

int vag_shape_parse(const char *text, unsigned out[4], char *err, size_t errlen)
{
	/* RxKxN+C: four decimals, separators exactly 'x', 'x', '+'. */
	const char seps[3] = { 'x', 'x', '+' };
	unsigned v[4];
	const char *p = text;
	for (int i = 0; i < 4; i++) {
		unsigned long n = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 6) {
			n = n * 10 + (unsigned long)(*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || (*p >= '0' && *p <= '9'))
			goto bad;
		v[i] = (unsigned)n;
		if (i < 3) {
			if (*p != seps[i])
				goto bad;
			p++;
		}
	}
	if (*p != '\0')
		goto bad;
	if (v[0] == 0 || v[1] == 0 || v[2] + v[3] == 0) {
		snprintf(err, errlen, "--shape %s: rows, racks and hosts per rack must be > 0", text);
		return VAG_EINVAL;
	}
	if ((unsigned long)v[0] * v[1] > VAG_RACKS_MAX || v[2] + v[3] > VAG_HOSTS_PER_RACK_MAX) {
		snprintf(err, errlen, "--shape %s: at most %d racks and %d hosts per rack", text,
			 VAG_RACKS_MAX, VAG_HOSTS_PER_RACK_MAX);
		return VAG_ELIMIT;
	}
	memcpy(out, v, sizeof(v));
	return VAG_OK;
bad:
	snprintf(err, errlen, "--shape %s: expected ROWSxRACKSxNODES+CLIENTS, e.g. 2x10x8+2 (column %d)",
		 text, (int)(p - text) + 1);
	return VAG_EINVAL;
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

	struct vag_model *m = NULL;
	char origin[600];
	int rc;
	if (input != NULL) {
		/* Rack model files, campaigns and run databases are read through
		 * topology/, chaos/ and reports/; see docs/vagrant.md for what is
		 * wired today. */
		fprintf(stderr,
			"physalia-chaos vagrant: %s: reading rack model files, campaigns and run "
			"databases is not wired in this build yet (use --default or --shape)\n",
			input);
		return 2;
	} else if (shape != NULL) {
		unsigned s[4];
		if ((rc = vag_shape_parse(shape, s, err, sizeof(err))) != VAG_OK) {
			fprintf(stderr, "physalia-chaos vagrant: %s\n", err);
			return 2;
		}
		rc = vag_model_shape(s[0], s[1], s[2], s[3], 3, &m);
		snprintf(origin, sizeof(origin), "the rack model of shape %s", shape);
	} else {
		rc = vag_model_default(&m);
		snprintf(origin, sizeof(origin), "the default rack model");
	}
	if (rc != VAG_OK) {
		fprintf(stderr, "physalia-chaos vagrant: %s\n", vag_strerror(rc));
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
	return 0;
}
