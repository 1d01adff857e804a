/* tests/vagrant/vfile.h: reads back the MACHINES table of a generated
 * Vagrantfile (one machine per line) and forwards packets through it hop by
 * hop, so that tests check the network the VMs would really have. */
#ifndef TESTS_VAGRANT_VFILE_H
#define TESTS_VAGRANT_VFILE_H

#include <stddef.h>
#include <stdint.h>

#define VF_TOK 64
#define VF_MAX 512

struct vf_entry { char tok[3][VF_TOK]; int ntok; };

struct vf_machine {
	char name[VF_TOK], kind[VF_TOK], rack[VF_TOK], roles[VF_TOK];
	struct vf_entry hosts[VF_MAX]; size_t nhosts;  /* name, address, roles */
	struct vf_entry nics[8 + 256]; size_t nnics;   /* net, address, prefix */
	struct vf_entry routes[VF_MAX]; size_t nroutes; /* dst/len, via */
};

struct vf {
	struct vf_machine *m; /* malloc'ed */
	size_t n;
};

/* Parses path; 0 or -1 with a message in err. */
int vf_load(const char *path, struct vf *out, char *err, size_t errlen);
void vf_free(struct vf *v);

uint32_t vf_ip(const char *s); /* 0 when malformed */

/* The machine owning address a (a NIC or one of its hosts), or -1. */
int vf_owner(const struct vf *v, uint32_t a);

/* Forwards a packet from machine `from` to address dst. Writes the machines
 * crossed (routers and the destination, not the source) into path, returns
 * their number, or -1 with err saying why (no route, next hop not on a
 * shared segment, loop). */
int vf_forward(const struct vf *v, int from, uint32_t dst, int *path, int pathmax,
	       char *err, size_t errlen);

#endif
