/* physalia's vagrant/ module: reproducing runs across virtual machines.
 *
 * Four parts, one header:
 *  - rack models read from topology/, a campaign's, or a run database's
 *    hosts (vag_model_*), and hosts.tsv (vag_hosts_tsv_parse);
 *  - the machine layout: a rack model turned into virtual machines (one per
 *    host, or one per rack's hosts when the model is large), private
 *    networks per rack and per rack uplink so that top-of-rack switches and
 *    the spine are real L3 hops, with the addresses and routes of each
 *    machine (vag_layout_*);
 *  - the generator: that layout written as a vagrant/ directory (Vagrantfile,
 *    provision.sh, the project's source at one commit, node configs,
 *    hosts.tsv, README.md) (vag_generate);
 *  - the ssh host backend: run commands, start and signal processes, apply
 *    and remove faults, fetch files on machines reached over ssh
 *    (vag_ssh_*), and chaos/'s struct chaos_backend built on it
 *    (vag_backend_*).
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
	uint32_t node_id; /* the run's node id, or 0: node hosts numbered 1.. in order */
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

/* The hosts a run database recorded (docs/run-database.md, schema 1):
 * names, racks, rows, power domains, roles and fabric addresses, in the
 * run's order; version (versionlen bytes) gets the run's `run.version`.
 * Returns 0, VAG_ENOTFOUND (cannot open), VAG_EINVAL (not a run database,
 * another schema version, a malformed hosts row: err says which),
 * VAG_ENOMEM. On failure *out is untouched. */
int vag_model_from_rundb(const char *path, struct vag_model **out, char *version,
			 size_t versionlen, char *err, size_t errlen);

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
	const char *run_version;   /* the run's recorded version, for the README */
};

/* Whether commit names a commit of the git work tree source_dir. */
int vag_commit_exists(const char *source_dir, const char *commit);

/* Writes the vagrant directory for layout l of model m: Vagrantfile,
 * provision.sh, physalia-src.tar.gz (git archive of the commit), COMMIT,
 * hosts.tsv (host, rack, row, power, roles, address, machine, ToR),
 * README.md, and nodes/HOST.yaml, a physalia-node config per node host
 * (ports 7000 peers, 7100 clients, 7200 metrics on the host's address, as
 * chaos's runner uses; one colony key drawn from /dev/urandom).
 * Returns 0, VAG_EINVAL, VAG_ESYS, VAG_ETOOL (git), VAG_ENOTFOUND (commit).
 * On failure the files written so far are removed. */
int vag_generate(const struct vag_model *m, const struct vag_layout *l,
		 const struct vag_gen_opts *o, char *err, size_t errlen);

/* Writes only the Vagrantfile text into path (used by the generator and
 * the tests). Returns 0 or VAG_ESYS. */
int vag_write_vagrantfile(const struct vag_model *m, const struct vag_layout *l,
			  const struct vag_gen_opts *o, const char *commit,
			  const char *path, char *err, size_t errlen);

/* ------------------------------------------------------- the ssh backend */

/* Machines reached over ssh: the VMs of a generated vagrant/ directory
 * (`vagrant ssh-config` names them), or any hosts with sshd. Every remote
 * command runs through one multiplexed connection per machine (ssh
 * ControlMaster), non-interactively (BatchMode), as root (sudo -n when the
 * login user is not root, as with Vagrant's `vagrant` user).
 *
 * Processes started on a machine are named; their pid file and log live in
 * remote_dir/NAME.pid and remote_dir/NAME.log there. */
struct vag_ssh_opts {
	const char *ssh_config;   /* ssh -F file, or NULL */
	const char *identity;     /* ssh -i key, or NULL */
	const char *known_hosts;  /* UserKnownHostsFile (checked strictly), or NULL */
	const char *control_dir;  /* where ControlMaster sockets live (short path) */
	const char *remote_dir;   /* NULL: /var/lib/physalia-chaos */
	const char *impair_cmd;   /* NULL: "physalia-chaos" (runs `... impair`) */
	int connect_timeout_s;    /* 0: 10 */
	int sudo;                 /* run remote commands with sudo -n */
};

struct vag_ssh;

/* Opens a backend (no connection yet: each machine is reached on first
 * use). Options are copied. Returns 0, VAG_EINVAL, VAG_ENOMEM. */
int vag_ssh_open(const struct vag_ssh_opts *o, struct vag_ssh **out);

/* Stops every impairment engine it started, closes the ssh connections,
 * frees b. Processes started with vag_ssh_start keep running (stop them
 * first). NULL is a no-op. */
void vag_ssh_close(struct vag_ssh *b);

/* Runs argv on machine dest (an ssh destination: a Host of ssh_config or
 * user@address), each argument quoted for the remote shell, stdin from
 * in/inlen (may be NULL). *out (may be NULL) gets stdout (malloc'ed, caller
 * frees); *status the remote exit code. Returns 0 (whatever the exit
 * code), VAG_ESSH (ssh itself failed: exit 255, err has its message),
 * VAG_ESYS, VAG_ENOMEM, VAG_EINVAL. */
int vag_ssh_exec(struct vag_ssh *b, const char *dest, const char *const *argv,
		 const char *in, size_t inlen, char **out, int *status, char *err,
		 size_t errlen);

/* Starts argv in the background on dest as process `name` ([A-Za-z0-9_.-]),
 * detached from the ssh session (setsid), stdout and stderr appended to
 * its log; *pid (may be NULL) gets its remote pid. Refuses (VAG_EINVAL) when
 * a process of that name is alive there. Returns 0, VAG_EINVAL, VAG_ESSH,
 * VAG_ETOOL (it did not start), VAG_ESYS, VAG_ENOMEM. */
int vag_ssh_start(struct vag_ssh *b, const char *dest, const char *name,
		  const char *const *argv, long *pid, char *err, size_t errlen);

/* Sends signal sig (a number) to process `name` on dest. *alive (may be
 * NULL) says whether it was running. Returns 0, VAG_ENOTFOUND (never
 * started or already gone: no signal sent), VAG_ESSH, VAG_ESYS. */
int vag_ssh_signal(struct vag_ssh *b, const char *dest, const char *name, int sig,
		   char *err, size_t errlen);

/* Whether process `name` is running on dest. Returns 0 and *alive, or
 * VAG_ESSH, VAG_ESYS. */
int vag_ssh_alive(struct vag_ssh *b, const char *dest, const char *name, int *alive,
		  char *err, size_t errlen);

/* Copies remote_path on dest into local_path (created or truncated), and
 * local_path to remote_path (vag_ssh_put, mode 0644, parent made). Returns
 * 0, VAG_ENOTFOUND (no such remote file), VAG_ESSH, VAG_ESYS, VAG_ENOMEM. */
int vag_ssh_fetch(struct vag_ssh *b, const char *dest, const char *remote_path,
		  const char *local_path, char *err, size_t errlen);
int vag_ssh_put(struct vag_ssh *b, const char *dest, const char *local_path,
		const char *remote_path, char *err, size_t errlen);

/* Partitions on a router machine: DROP forwarded packets from src/srclen
 * to dst/dstlen (never on a sender's OUTPUT), tagged so that
 * vag_ssh_partition_heal removes exactly the rules of that tag. Returns 0,
 * VAG_EINVAL, VAG_ETOOL (iptables failed, err says why), VAG_ESSH. */
int vag_ssh_partition(struct vag_ssh *b, const char *router, uint32_t src, int srclen,
		      uint32_t dst, int dstlen, const char *tag, char *err, size_t errlen);
int vag_ssh_partition_heal(struct vag_ssh *b, const char *router, const char *tag,
			   char *err, size_t errlen);
/* Packets the rules of tag dropped on router so far (the run's evidence). */
int vag_ssh_partition_count(struct vag_ssh *b, const char *router, const char *tag,
			    uint64_t *packets, char *err, size_t errlen);

/* Packet faults on a router: the machine's impairment engine, one per
 * router, started on first use: chaos/'s NFQUEUE engine (`physalia-chaos
 * impair`) steered over the ssh session's stdin, with every forwarded
 * packet queued to it (netem is not used: docs/vagrant.md says why).
 * *engine (may be NULL) gets "nfqueue". policy is chaos's "key=value ..."
 * text (loss burst delay jitter reorder gap dup corrupt). Returns 0,
 * VAG_EINVAL, VAG_ETOOL, VAG_ESSH, VAG_ENOMEM. */
int vag_ssh_impair(struct vag_ssh *b, const char *router, uint32_t src, int srclen,
		   uint32_t dst, int dstlen, const char *policy, const char **engine,
		   char *err, size_t errlen);
/* Removes every packet fault on router (the engine keeps running). */
int vag_ssh_impair_clear(struct vag_ssh *b, const char *router, char *err, size_t errlen);
/* The engine's "stats k=v ..." line (NFQUEUE) into buf. */
int vag_ssh_impair_stats(struct vag_ssh *b, const char *router, char *buf, size_t len,
			 char *err, size_t errlen);

/* The engine of router, explicitly: every forwarded packet to dst/dstlen
 * (0: every forwarded packet) is queued to it, so that with dst = the
 * router's rack segment each packet meets exactly one engine, at its
 * destination's ToR. VAG_EINVAL when one runs there already. */
int vag_ssh_engine_open(struct vag_ssh *b, const char *router, uint32_t dst, int dstlen,
			char *err, size_t errlen);
/* One control line to router's engine and its one reply line. */
int vag_ssh_engine_line(struct vag_ssh *b, const char *router, const char *line, char *reply,
			size_t len, char *err, size_t errlen);

/* Starts argv on dest as a child ssh process of the caller, stdin from
 * /dev/null, stdout and stderr into out_fd; *pid is the local ssh (wait
 * for it; it ends when the remote command does, with its exit code).
 * Returns 0, VAG_EINVAL, VAG_ENOMEM, VAG_ESYS. */
int vag_ssh_spawn(struct vag_ssh *b, const char *dest, const char *const *argv, int out_fd,
		  pid_t *pid);

/* ------------------------------------------------ chaos's backend over ssh */

/* One line of a generated directory's hosts.tsv. */
struct vag_hosts_row {
	char host[VAG_NAME_MAX], rack[VAG_NAME_MAX], row[VAG_NAME_MAX], power[VAG_NAME_MAX];
	char roles[VAG_NAME_MAX], machine[VAG_NAME_MAX], tor[VAG_NAME_MAX];
	uint32_t addr; /* IPv4, host order */
};

/* Parses hosts.tsv text (len bytes; name is used in messages): the exact
 * header, then lines of eight tab-separated printable fields, an IPv4
 * address, roles node|client|node+client, no host twice. On success *rows
 * (malloc'ed, caller frees) and *nrows. On failure VAG_EINVAL with err
 * "name:line:column: what" (or VAG_ENOMEM); outputs untouched. */
int vag_hosts_tsv_parse(const char *name, const char *text, size_t len,
			struct vag_hosts_row **rows, size_t *nrows, char *err, size_t errlen);

struct chaos_world;
struct chaos_host;
struct chaos_backend;

/* Fills *out with chaos/'s host backend (chaos/runner.h) for the world w
 * on the machines of vagrant_dir (its hosts.tsv maps each host to its
 * machine and ToR; every host of w must be there with the same address),
 * reached with ssh_config (`vagrant ssh-config` output). Starts one
 * impairment engine per ToR machine (impair_cmd: "physalia-chaos" there).
 * sudo: the login user is not root. Returns 0 or a CHAOS_E* code with err
 * set. Close with vag_backend_close. */
int vag_backend_open(struct chaos_world *w, const char *vagrant_dir, const char *ssh_config,
		     const char *control_dir, const char *impair_cmd, int sudo,
		     struct chaos_backend *out, char *err, size_t errlen);
void vag_backend_close(struct chaos_backend *b);

/* Files between the controller and the machine of world host h (configs
 * out; histories, logs, pcaps back), any size. Return 0, CHAOS_EINVAL (h
 * not of this world), CHAOS_ENOTFOUND (no such file), CHAOS_ETOOL. */
int vag_backend_put(struct chaos_backend *b, const struct chaos_host *h, const char *local,
		    const char *remote);
int vag_backend_fetch(struct chaos_backend *b, const struct chaos_host *h, const char *remote,
		      const char *local);

/* ---------------------------------------------------------------- the CLI */

/* Parses a --shape "ROWSxRACKSxNODES+CLIENTS" (e.g. "2x10x8+2") into out.
 * Returns 0, VAG_EINVAL or VAG_ELIMIT with err saying what and where; out
 * untouched on failure. */
int vag_shape_parse(const char *text, unsigned out[4], char *err, size_t errlen);

/* `physalia-chaos vagrant ...` (see docs/vagrant.md). Returns an exit code:
 * 0 done, 2 error. */
int vag_cli_vagrant(int argc, char **argv);

#endif
