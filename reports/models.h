/* reports/models.h: the sequential specifications (internal). */
#ifndef PH_REPORTS_MODELS_H
#define PH_REPORTS_MODELS_H

#include "internal.h"

/* States are byte strings. step() appends the state after op to out and
 * returns 1, returns 0 if op is illegal in state s, or a negative REP_E*
 * code. validate() returns REP_EMODEL for an op the model cannot check. */
struct rep__model {
	int (*init)(struct rep_buf *out);
	int (*step)(const uint8_t *s, size_t n, const struct rep_op *op, struct rep_buf *out);
	int (*format)(const uint8_t *s, size_t n, struct rep_buf *out);
	int (*validate)(const struct rep_op *op);
};

extern const struct rep__model rep__models[3];

#endif
