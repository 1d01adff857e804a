/* node/log.h (internal): structured log lines to stderr, one per event:
 *   ts=2026-01-01T00:00:00.123Z level=info node=3 event=start k=v ...
 * Values with spaces are quoted by the caller's format. */
#ifndef NODE_LOG_H
#define NODE_LOG_H

#include <stdint.h>

void node_log_setup(int level, uint32_t node_id);
/* level: NODE_LOG_*; event: a short word; fmt: "k=v k=v" pairs. */
void node_log(int level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
