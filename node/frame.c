/* Client protocol frames: strict decoder (every byte accounted for) and
 * encoder. */
#include "frame.h"

#include <string.h>

#include "wire.h"

static int is_known(uint8_t type)
{
	uint8_t base = type & 0x7f;
	return base >= NODE_REQ_TXN && base <= NODE_REQ_NODES;
}

static int decode_body(struct node_rd *r, struct node_frame *f)
{
	uint8_t base = f->type & 0x7f;
	int reply = (f->type & NODE_REPLY) != 0;
	if (reply) {
		f->status = (uint8_t)node_rd_uint(r, 1);
		if (f->status > NODE_ST_MAX)
			return NODE_EMALFORMED;
		if (f->status != NODE_ST_OK) {
			/* every refusal: u32 hint, u32 text length, text */
			f->hint = (uint32_t)node_rd_uint(r, 4);
			f->data_len = (uint32_t)node_rd_uint(r, 4);
			f->data = node_rd_bytes(r, f->data_len);
			return 0;
		}
	}
	switch (base) {
	case NODE_REQ_TXN:
		if (reply) {
			f->outcome = (uint8_t)node_rd_uint(r, 1);
			f->reason = (uint8_t)node_rd_uint(r, 1);
			f->token = node_rd_uint(r, 8);
			f->hint = (uint32_t)node_rd_uint(r, 4);
		} else {
			f->client_id = node_rd_uint(r, 8);
			f->seq = node_rd_uint(r, 8);
			f->consistency = (uint8_t)node_rd_uint(r, 1);
			f->token = node_rd_uint(r, 8);
			if (f->consistency > NODE_EVENTUAL)
				return NODE_EMALFORMED;
			f->pkey_len = (uint8_t)node_rd_uint(r, 1);
			f->pkey = node_rd_bytes(r, f->pkey_len);
			if (!r->bad && f->pkey_len == 0)
				return NODE_EMALFORMED;
		}
		f->data_len = (uint32_t)node_rd_uint(r, 4);
		f->data = node_rd_bytes(r, f->data_len);
		break;
	case NODE_REQ_CREATE:
	case NODE_REQ_DISCOVER:
	case NODE_REQ_CELL_STATUS:
		if (reply && base == NODE_REQ_CELL_STATUS) {
			f->data_len = (uint32_t)node_rd_uint(r, 4);
			f->data = node_rd_bytes(r, f->data_len);
			break;
		}
		if (reply && base == NODE_REQ_CREATE)
			break;
		if (reply) /* DISCOVER */
			f->disc_kind = (uint8_t)node_rd_uint(r, 1);
		if (!reply) {
			f->pkey_len = (uint8_t)node_rd_uint(r, 1);
			f->pkey = node_rd_bytes(r, f->pkey_len);
			if (!r->bad && f->pkey_len == 0)
				return NODE_EMALFORMED;
		}
		if (base == NODE_REQ_CREATE || (reply && base == NODE_REQ_DISCOVER)) {
			f->n_ids = (uint8_t)node_rd_uint(r, 1);
			if (f->n_ids > NODE_JURY_MAX)
				return NODE_EMALFORMED;
			for (unsigned i = 0; i < f->n_ids; i++) {
				f->ids[i] = (uint32_t)node_rd_uint(r, 4);
				if (!r->bad && f->ids[i] == 0)
					return NODE_EMALFORMED;
			}
			if (reply && f->disc_kind > NODE_DISC_CACHE)
				return NODE_EMALFORMED;
		}
		break;
	case NODE_REQ_NODE_STATUS:
		if (reply) {
			f->data_len = (uint32_t)node_rd_uint(r, 4);
			f->data = node_rd_bytes(r, f->data_len);
		}
		break;
	case NODE_REQ_NODES:
		if (reply) {
			f->data_len = (uint32_t)node_rd_uint(r, 4);
			f->data = node_rd_bytes(r, f->data_len);
			if (r->bad)
				break;
			/* validate entries */
			struct node_rd e;
			node_rd_init(&e, f->data, f->data_len);
			while (e.left > 0 && !e.bad) {
				uint32_t id = (uint32_t)node_rd_uint(&e, 4);
				uint8_t al = (uint8_t)node_rd_uint(&e, 1);
				const uint8_t *a = node_rd_bytes(&e, al);
				if (e.bad || id == 0 || memchr(a, 0, al) != NULL)
					return NODE_EMALFORMED;
			}
		}
		break;
	}
	return 0;
}

int node_frame_decode(const uint8_t *buf, size_t len, uint32_t max_frame,
		      struct node_frame *f, size_t *used)
{
	if (len < 4)
		return NODE_ETRUNCATED;
	uint32_t flen = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
			(uint32_t)buf[2] << 8 | buf[3];
	if (flen > max_frame) {
		*used = (size_t)flen + 4;
		return NODE_ETOOBIG;
	}
	if (flen < NODE_FRAME_HEADER - 4)
		return NODE_EMALFORMED;
	if (len - 4 < flen)
		return NODE_ETRUNCATED;
	struct node_rd r;
	node_rd_init(&r, buf + 4, flen);
	struct node_frame ff;
	memset(&ff, 0, sizeof ff);
	uint8_t version = (uint8_t)node_rd_uint(&r, 1);
	ff.type = (uint8_t)node_rd_uint(&r, 1);
	ff.corr = node_rd_uint(&r, 8);
	if (version != NODE_FRAME_VERSION)
		return NODE_EVERSION;
	if (!is_known(ff.type))
		return NODE_EMALFORMED;
	int rc = decode_body(&r, &ff);
	if (rc != 0)
		return rc;
	if (r.bad || r.left != 0)
		return NODE_EMALFORMED;
	*f = ff;
	*used = (size_t)flen + 4;
	return 0;
}

/* Encode body into w; mirrors decode_body. */
static int encode_body(struct node_wr *w, const struct node_frame *f)
{
	uint8_t base = f->type & 0x7f;
	int reply = (f->type & NODE_REPLY) != 0;
	if (reply) {
		if (f->status > NODE_ST_MAX)
			return NODE_EINVAL;
		node_wr_uint(w, f->status, 1);
		if (f->status != NODE_ST_OK) {
			node_wr_uint(w, f->hint, 4);
			node_wr_uint(w, f->data_len, 4);
			node_wr_bytes(w, f->data, f->data_len);
			return 0;
		}
	}
	switch (base) {
	case NODE_REQ_TXN:
		if (reply) {
			node_wr_uint(w, f->outcome, 1);
			node_wr_uint(w, f->reason, 1);
			node_wr_uint(w, f->token, 8);
			node_wr_uint(w, f->hint, 4);
		} else {
			node_wr_uint(w, f->client_id, 8);
			node_wr_uint(w, f->seq, 8);
			if (f->pkey_len == 0 || f->consistency > NODE_EVENTUAL)
				return NODE_EINVAL;
			node_wr_uint(w, f->consistency, 1);
			node_wr_uint(w, f->token, 8);
			node_wr_uint(w, f->pkey_len, 1);
			node_wr_bytes(w, f->pkey, f->pkey_len);
		}
		node_wr_uint(w, f->data_len, 4);
		node_wr_bytes(w, f->data, f->data_len);
		break;
	case NODE_REQ_CREATE:
	case NODE_REQ_DISCOVER:
	case NODE_REQ_CELL_STATUS:
		if (reply && base == NODE_REQ_CELL_STATUS) {
			node_wr_uint(w, f->data_len, 4);
			node_wr_bytes(w, f->data, f->data_len);
			break;
		}
		if (reply && base == NODE_REQ_CREATE)
			break;
		if (reply)
			node_wr_uint(w, f->disc_kind, 1);
		else {
			if (f->pkey_len == 0)
				return NODE_EINVAL;
			node_wr_uint(w, f->pkey_len, 1);
			node_wr_bytes(w, f->pkey, f->pkey_len);
		}
		if (base == NODE_REQ_CREATE || (reply && base == NODE_REQ_DISCOVER)) {
			if (f->n_ids > NODE_JURY_MAX)
				return NODE_EINVAL;
			node_wr_uint(w, f->n_ids, 1);
			for (unsigned i = 0; i < f->n_ids; i++)
				node_wr_uint(w, f->ids[i], 4);
		}
		break;
	case NODE_REQ_NODE_STATUS:
	case NODE_REQ_NODES:
		if (reply) {
			node_wr_uint(w, f->data_len, 4);
			node_wr_bytes(w, f->data, f->data_len);
		}
		break;
	default:
		return NODE_EINVAL;
	}
	return 0;
}

int node_frame_encode(const struct node_frame *f, uint8_t *buf, size_t cap,
		      size_t *len)
{
	if (!is_known(f->type))
		return NODE_EINVAL;
	struct node_wr w;
	node_wr_init(&w, buf, cap);
	node_wr_uint(&w, 0, 4); /* length, patched below */
	node_wr_uint(&w, NODE_FRAME_VERSION, 1);
	node_wr_uint(&w, f->type, 1);
	node_wr_uint(&w, f->corr, 8);
	int rc = encode_body(&w, f);
	if (rc != 0)
		return rc;
	if (w.full || w.len - 4 > UINT32_MAX)
		return NODE_ETOOBIG;
	uint32_t flen = (uint32_t)(w.len - 4);
	buf[0] = (uint8_t)(flen >> 24);
	buf[1] = (uint8_t)(flen >> 16);
	buf[2] = (uint8_t)(flen >> 8);
	buf[3] = (uint8_t)flen;
	*len = w.len;
	return 0;
}

size_t node_frame_size(const struct node_frame *f)
{
	/* generous upper bound without encoding: header + fixed fields + data */
	return NODE_FRAME_HEADER + 64 + f->pkey_len + 4u * NODE_JURY_MAX + f->data_len;
}

int node_frame_nodes_next(const struct node_frame *f, size_t *off, uint32_t *id,
			  char *addr, size_t addrsz)
{
	if (*off >= f->data_len)
		return 0;
	struct node_rd r;
	node_rd_init(&r, f->data + *off, f->data_len - *off);
	*id = (uint32_t)node_rd_uint(&r, 4);
	uint8_t al = (uint8_t)node_rd_uint(&r, 1);
	const uint8_t *a = node_rd_bytes(&r, al);
	if (r.bad)
		return 0;
	size_t n = al < addrsz - 1 ? al : addrsz - 1;
	memcpy(addr, a, n);
	addr[n] = 0;
	*off = f->data_len - r.left;
	return 1;
}

int node_status_to_error(uint8_t status)
{
	switch (status) {
	case NODE_ST_OK: return 0;
	case NODE_ST_NOCELL: return NODE_ENOCELL;
	case NODE_ST_BUSY: return NODE_EBUSY;
	case NODE_ST_NOTLEADER: return NODE_ENOTLEADER;
	case NODE_ST_OVERLOAD: return NODE_EOVERLOAD;
	case NODE_ST_TOOBIG: return NODE_ETOOBIG;
	case NODE_ST_MALFORMED: return NODE_EMALFORMED;
	case NODE_ST_EXISTS: return NODE_EEXIST;
	case NODE_ST_ERROR: return NODE_ECELL;
	case NODE_ST_STOPPING: return NODE_ESTOPPED;
	case NODE_ST_BEHIND: return NODE_EBEHIND;
	}
	return NODE_EMALFORMED;
}
