/* fuzz/topology/fuzz_model.c: any bytes into the rack model loader. A model
 * that loads must also validate again, write itself back, and load again to
 * the same hosts; a refused one must say where. */
#include "topology/topology.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topo_model *m = NULL;
	struct topo_diag d;
	int rc = topo_model_load_mem((const char *)data, size, "fuzz.yaml", &m, &d);
	if (rc != 0) {
		if (m != NULL || d.code != rc || strcmp(d.file, "fuzz.yaml") != 0 ||
		    d.msg[0] == '\0')
			abort();
		return 0;
	}
	if (topo_model_validate(m, m->jury_size, NULL) != 0)
		abort();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		abort();
	if (topo_model_write(m, f) != 0)
		abort();
	fclose(f);
	struct topo_model *m2 = NULL;
	if (topo_model_load_mem(buf, len, "again", &m2, &d) != 0)
		abort();
	if (m2->n_hosts != m->n_hosts || m2->n_racks != m->n_racks)
		abort();
	for (size_t i = 0; i < m->n_hosts; i++)
		if (strcmp(m->hosts[i].name, m2->hosts[i].name) != 0 ||
		    m->hosts[i].addr != m2->hosts[i].addr)
			abort();
	free(buf);
	topo_model_free(m2);
	topo_model_free(m);
	return 0;
}
