/* physalia's vagrant/ module: reproducing runs across virtual machines.
 *
 * Three parts, one header:
 *  - the machine layout: a rack model turned into virtual machines (one per
 *    host, or one per rack's hosts when the model is large), private
 *    networks per rack and per rack uplink so that top-of-rack switches and
 *    the spine are real L3 hops, with the addresses and routes of each
 *    machine (vag_layout_*);
 *  - the generator: that layout written as a vagrant/ directory (Vagrantfile,
 *    provision.sh, the project's source at one commit, README.md)
 *    (vag_generate);
 *  - the ssh host backend: run commands, start and signal processes, apply
 *    and remove faults, fetch files on machines reached over ssh
 *    (vag_ssh_*).
 *
 * Errors: 0 or a negative VAG_E* code, vag_strerror() names it; functions
 * that can say more take an err buffer. Nothing here keeps global state.
 */
#ifndef PHYSALIA_VAGRANT_H
#define PHYSALIA_VAGRANT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- errors */

enum {
	VAG_OK = 0,
	VAG_ENOMEM = -1,    /* out of memory */
	VAG_EINVAL = -2,    /* bad argument or rack model (err says what) */
	VAG_ESYS = -3,      /* a system call failed (err carries errno's text) */
	VAG_ELIMIT = -4,    /* the rack model does not fit the address plan */
	VAG_ENOTFOUND = -5, /* a named host, file or commit does not exist */
	VAG_ETOOL = -6,     /* an external tool (git, ssh, scp, tc) failed */
	VAG_ESSH = -7,      /* ssh could not reach the machine (exit 255) */
	VAG_ENOTSUP = -8,   /* the machine's kernel lacks the feature (netem) */
};

/* The message for a VAG_E* code; never NULL, static storage. */
const char *vag_strerror(int code);

/* ------------------------------------------------------------ rack model */

#define VAG_NAME_MAX 64

enum vag_role {
	VAG_ROLE_NODE = 1,   /* runs physalia-node */
	VAG_ROLE_CLIENT = 2, /* runs workload clients */
};

/* The part of a rack model the layout needs: rows > racks > hosts. */
struct vag_rack_in {
	char name[VAG_NAME_MAX];
	char row[VAG_NAME_MAX];
	char power[VAG_NAME_MAX];
	uint32_t subnet; /* the rack's /24 (host order), or 0: 198.18.k.0 */
};

struct vag_host_in {
	char name[VAG_NAME_MAX];
	size_t rack;  /* index into racks */
	int roles;    /* VAG_ROLE_* bits */
	uint32_t addr; /* IPv4 host order, or 0: the layout assigns one */
};

struct vag_model {
	struct vag_rack_in *racks; /* owned */
	size_t nracks;
	struct vag_host_in *hosts; /* owned */
	size_t nhosts;
	uint32_t range_base;  /* the fabric's range; 0: 198.18.0.0/15 */
	int range_prefix;
};

struct topo_model;

/* The rack model of topology/ (its racks, rows, power domains, hosts with
 * their roles and fabric addresses). Returns 0, VAG_EINVAL (empty model),
 * VAG_ENOMEM. On failure *out is untouched. Free with vag_model_free. */
int vag_model_from_topo(const struct topo_model *t, struct vag_model **out);

void vag_model_free(struct vag_model *m);

/* ---------------------------------------------------------------- layout */

/* The address plan (docs/vagrant.md):
 *   rack k (0-based, across rows):  the rack's /24 from the model (topology
 *                                   gives 198.18.k.0/24 by default), ToR .254;
 *                                   hosts keep their fabric addresses (odd,
 *                                   from .1); hosts without one get the next
 *                                   free address from .10;
 *   uplink of rack k:               198.19.(192+k/32).(8*(k%32))/29,
 *                                   spine +2, ToR +3;
 *   core between spines (>1 row):   198.19.255.0/24, spine of row r .(2+r).
 * Rack segments must not overlap 198.19.192.0/18 (VAG_ELIMIT). */
#define VAG_RACKS_MAX 256
#define VAG_HOSTS_PER_RACK_MAX 240
#define VAG_ROWS_MAX 250

enum vag_machine_kind {
	VAG_M_HOST = 1,  /* one or more hosts of one rack */
	VAG_M_TOR,       /* a rack's top-of-rack router */
	VAG_M_SPINE,     /* a row's spine router */
};

struct vag_nic {
	char net[VAG_NAME_MAX]; /* private network name, unique per segment */
	uint32_t addr;          /* IPv4, host order */
	int prefix;             /* 24 (rack segment, core) or 29 (uplink) */
};

struct vag_route {
	uint32_t dst; int prefix; /* destination prefix */
	uint32_t via;             /* next hop, on one of the machine's segments */
};

#define VAG_NICS_MAX (VAG_RACKS_MAX + 2)

struct vag_machine {
	char name[VAG_NAME_MAX];    /* Vagrant machine name and guest hostname */
	enum vag_machine_kind kind;
	size_t rack;                /* HOST, TOR: index of its rack */
	size_t row;                 /* SPINE: index of its row */
	size_t *hosts;              /* HOST: model host indices (owned) */
	size_t nhosts;
	struct vag_nic *nics;       /* owned; NIC 0 is the fabric segment */
	size_t nnics;
	struct vag_route *routes;   /* owned */
	size_t nroutes;
	int roles;                  /* HOST: union of its hosts' roles */
};

struct vag_layout {
	struct vag_machine *machines; /* owned: hosts, then ToRs, then spines */
	size_t nmachines;
	uint32_t *host_addr;          /* owned: per model host, its address */
	size_t *host_machine;         /* owned: per model host, its machine */
	size_t nhosts;
	char (*rows)[VAG_NAME_MAX];   /* owned: row names in order of appearance */
	size_t nrows;
	int grouped;                  /* one machine per rack's hosts */
};

/* Lays out m: one machine per host, or, when the model has more than
 * max_host_vms hosts, one per rack holding all of that rack's hosts (their
 * addresses share the machine's fabric NIC); plus one ToR per rack and one
 * spine per row. Returns 0, VAG_EINVAL, VAG_ELIMIT (err says which limit),
 * VAG_ENOMEM. On failure *out is untouched. Free with vag_layout_free. */
int vag_layout_make(const struct vag_model *m, size_t max_host_vms,
		    struct vag_layout **out, char *err, size_t errlen);

void vag_layout_free(struct vag_layout *l);

/* "a.b.c.d" of addr into buf (at least 16 bytes); returns buf. */
char *vag_ip(uint32_t addr, char *buf);

/* ------------------------------------------------------------- generator */

struct vag_gen_opts {
	const char *outdir;     /* the directory written (created; must be empty or absent) */
	const char *source_dir; /* a git work tree of physalia */
	const char *commit;     /* commit to ship ("HEAD" when NULL) */
	const char *box;        /* NULL: "debian/bookworm64" */
	unsigned host_memory_mb, router_memory_mb, cpus; /* 0: defaults */
	const char *origin;     /* what the layout came from, for the README */
	const char *campaign_path; /* copied into outdir when not NULL */
	const char *run_db;        /* recorded in the README when not NULL */
};

/* Writes the vagrant directory for layout l of model m: Vagrantfile,
 * provision.sh, physalia-src.tar.gz (git archive of the commit), COMMIT,
 * hosts.tsv (host, rack, roles, address, machine) and README.md.
 * Returns 0, VAG_EINVAL, VAG_ESYS, VAG_ETOOL (git), VAG_ENOTFOUND (commit).
 * On failure the files written so far are removed. */
int vag_generate(const struct vag_model *m, const struct vag_layout *l,
		 const struct vag_gen_opts *o, char *err, size_t errlen);

/* Writes only the Vagrantfile text into path (used by the generator and
 * the tests). Returns 0 or VAG_ESYS. */
int vag_write_vagrantfile(const struct vag_model *m, const struct vag_layout *l,
			  const struct vag_gen_opts *o, const char *commit,
			  const char *path, char *err, size_t errlen);

/* ---------------------------------------------------------------- the CLI */

/* Parses a --shape "ROWSxRACKSxNODES+CLIENTS" (e.g. "2x10x8+2") into out.
 * Returns 0, VAG_EINVAL or VAG_ELIMIT with err saying what and where; out
 * untouched on failure. */
int vag_shape_parse(const char *text, unsigned out[4], char *err, size_t errlen);

/* `physalia-chaos vagrant ...` (see docs/vagrant.md). Returns an exit code:
 * 0 done, 2 error. */
int vag_cli_vagrant(int argc, char **argv);

#endif
