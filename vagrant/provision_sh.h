/* vagrant/provision_sh.h (internal): provision.sh, embedded at build time
 * (embed.cmake) so that the generator needs no source tree to write it. */
#ifndef VAGRANT_PROVISION_SH_H
#define VAGRANT_PROVISION_SH_H

#include <stddef.h>

extern const unsigned char vag_provision_sh[];
extern const size_t vag_provision_sh_len;

#endif
