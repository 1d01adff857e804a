/* Fuzz target: the campaign parser (YAML from a user's file). Any input must
 * either parse into a campaign that validates or fails cleanly, and a parsed
 * campaign must survive being written and read back. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chaos_campaign *c = NULL;
	char err[512];
	if (chaos_campaign_parse("fuzz.yaml", (const char *)data, size, &c, err, sizeof err) != 0)
		return 0;
	chaos_campaign_validate(c, err, sizeof err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f != NULL) {
		chaos_campaign_write(c, f);
		fclose(f);
		struct chaos_campaign *d = NULL;
		if (chaos_campaign_parse("rewritten.yaml", buf, len, &d, err, sizeof err) != 0)
			abort(); /* what we write, we must read */
		chaos_campaign_free(d);
		free(buf);
	}
	chaos_campaign_free(c);
	return 0;
}
