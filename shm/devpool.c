/* devpool.c: a GPU edge's device buffers over CUDA IPC (design and record layout in
 * devpool.h). Plain C on the CUDA runtime API; built when the build has CUDA. */
#include "devpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cuda_runtime_api.h>

/* The record in a GPU edge's ring slot (devpool.h draws it). */
struct devslot_record {
	uint32_t magic;
	uint32_t pid;
	uint64_t bytes;
	cudaIpcMemHandle_t mem;
	cudaIpcEventHandle_t filled;
	cudaIpcEventHandle_t drained;
	uint8_t zero[48];
};
_Static_assert(sizeof(struct devslot_record) == VHS_DEVSLOT_SIZE, "a device slot record is 256 bytes");

/* A slot's buffer as this process has it. */
struct slot_state {
	int open;                 /* exported (exporter) or opened (importer) */
	uint32_t pid;             /* the exporter it came from */
	void *ptr;
	size_t bytes;
	cudaEvent_t filled, drained;
};

struct vhs_devpool {
	struct vhs_ring *ring;
	int exporter;
	size_t buf_bytes;         /* every buffer's size, a multiple of VHS_DEVPOOL_ALIGN */
	struct slot_state *slots; /* [ring->slot_count] */
	size_t total;             /* device bytes exported or opened */
	cudaStream_t stream;      /* downloads; made on first use */
	char err[256];
};

static int s_ck(struct vhs_devpool *p, cudaError_t e, const char *call)
{
	if (e == cudaSuccess)
		return 0;
	snprintf(p->err, sizeof(p->err), "%s: %s", call, cudaGetErrorString(e));
	cudaGetLastError(); /* not sticky: the next call may succeed */
	return -EIO;
}

int vhs_devpool_available(char *why, size_t len)
{
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);

	if (e != cudaSuccess || n < 1) {
		snprintf(why, len, "no CUDA device: %s", e != cudaSuccess ? cudaGetErrorString(e)
								 : "none found");
		return 0;
	}
	return 1;
}

int vhs_devpool_open(struct vhs_devpool **out, struct vhs_ring *r, int exporter, size_t buf_bytes,
		     char *err, size_t errlen)
{
	struct vhs_devpool *p;

	*out = NULL;
	if (!(r->flags & VHS_RING_DEVICE) || r->slot_size < VHS_DEVSLOT_SIZE || !buf_bytes) {
		snprintf(err, errlen, "ring %s is not a GPU edge", r->name);
		return -EINVAL;
	}
	if (!vhs_devpool_available(err, errlen))
		return -ENODEV;
	p = calloc(1, sizeof(*p));
	if (p)
		p->slots = calloc(r->slot_count, sizeof(*p->slots));
	if (!p || !p->slots) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->ring = r;
	p->exporter = exporter;
	p->buf_bytes = (buf_bytes + VHS_DEVPOOL_ALIGN - 1) / VHS_DEVPOOL_ALIGN * VHS_DEVPOOL_ALIGN;
	*out = p;
	return 0;
}

static struct devslot_record *s_record(struct vhs_devpool *p, uint32_t slot)
{
	return (struct devslot_record *)vhs_ring_slot(p->ring, slot);
}

/* One cudaMalloc and two interprocess events, their handles into rec; all or nothing. */
static int s_export_buffer(struct vhs_devpool *p, struct slot_state *s, struct devslot_record *out)
{
	const unsigned flags = cudaEventInterprocess | cudaEventDisableTiming;
	struct devslot_record rec = { .pid = (uint32_t)getpid(), .bytes = p->buf_bytes };
	int ret;

	ret = s_ck(p, cudaMalloc(&s->ptr, p->buf_bytes), "cudaMalloc");
	if (!ret)
		ret = s_ck(p, cudaEventCreateWithFlags(&s->filled, flags), "cudaEventCreate");
	if (!ret)
		ret = s_ck(p, cudaEventCreateWithFlags(&s->drained, flags), "cudaEventCreate");
	if (!ret)
		ret = s_ck(p, cudaIpcGetMemHandle(&rec.mem, s->ptr), "cudaIpcGetMemHandle");
	if (!ret)
		ret = s_ck(p, cudaIpcGetEventHandle(&rec.filled, s->filled), "cudaIpcGetEventHandle");
	if (!ret)
		ret = s_ck(p, cudaIpcGetEventHandle(&rec.drained, s->drained), "cudaIpcGetEventHandle");
	if (ret) {
		if (s->ptr)
			cudaFree(s->ptr);
		if (s->filled)
			cudaEventDestroy(s->filled);
		if (s->drained)
			cudaEventDestroy(s->drained);
		memset(s, 0, sizeof(*s));
		return ret;
	}
	rec.magic = VHS_DEVSLOT_MAGIC;
	*out = rec;
	return 0;
}

/* Exporter: slot's buffer made and exported, its record written into the ring. */
static int s_export(struct vhs_devpool *p, uint32_t slot, struct slot_state *s)
{
	struct devslot_record rec;
	int ret = s_export_buffer(p, s, &rec);

	if (ret)
		return ret;
	memcpy(s_record(p, slot), &rec, sizeof(rec));
	s->pid = rec.pid;
	s->bytes = p->buf_bytes;
	return 0;
}

int vhs_devpool_can_export(char *why, size_t len)
{
	struct vhs_devpool probe = { .buf_bytes = VHS_DEVPOOL_ALIGN };
	struct devslot_record rec;
	struct slot_state st = { 0 };
	int ok;

	if (!vhs_devpool_available(why, len))
		return 0;
	ok = !s_export_buffer(&probe, &st, &rec);
	if (ok) {
		cudaFree(st.ptr);
		cudaEventDestroy(st.filled);
		cudaEventDestroy(st.drained);
	} else {
		snprintf(why, len, "CUDA IPC unavailable: %s", probe.err);
	}
	return ok;
}

/* Importer: the record is another process's writing: copied out, then checked. */
static int s_import(struct vhs_devpool *p, uint32_t slot, struct slot_state *s)
{
	struct devslot_record rec;
	int ret;

	memcpy(&rec, s_record(p, slot), sizeof(rec));
	if (rec.magic != VHS_DEVSLOT_MAGIC || rec.bytes < p->buf_bytes) {
		snprintf(p->err, sizeof(p->err), "slot %u of %s names no exported buffer of %zu bytes",
			 slot, p->ring->name, p->buf_bytes);
		return -EPROTO;
	}
	ret = s_ck(p, cudaIpcOpenMemHandle(&s->ptr, rec.mem, cudaIpcMemLazyEnablePeerAccess),
		   "cudaIpcOpenMemHandle");
	if (!ret)
		ret = s_ck(p, cudaIpcOpenEventHandle(&s->filled, rec.filled), "cudaIpcOpenEventHandle");
	if (!ret)
		ret = s_ck(p, cudaIpcOpenEventHandle(&s->drained, rec.drained), "cudaIpcOpenEventHandle");
	if (ret) {
		if (s->ptr)
			cudaIpcCloseMemHandle(s->ptr);
		if (s->filled)
			cudaEventDestroy(s->filled);
		memset(s, 0, sizeof(*s));
		return ret;
	}
	s->pid = rec.pid;
	s->bytes = p->buf_bytes;
	return 0;
}

int vhs_devpool_buffer(struct vhs_devpool *p, uint32_t slot, struct vhs_devbuf *b)
{
	struct slot_state *s;
	int ret;

	if (slot >= p->ring->slot_count) {
		snprintf(p->err, sizeof(p->err), "slot %u outside %s", slot, p->ring->name);
		return -EINVAL;
	}
	s = &p->slots[slot];
	if (s->open && !p->exporter && s_record(p, slot)->pid != s->pid) {
		snprintf(p->err, sizeof(p->err), "slot %u of %s was exported again by another process",
			 slot, p->ring->name);
		return -EPROTO;
	}
	if (!s->open) {
		ret = p->exporter ? s_export(p, slot, s) : s_import(p, slot, s);
		if (ret)
			return ret;
		s->open = 1;
		p->total += s->bytes;
	}
	b->ptr = s->ptr;
	b->bytes = s->bytes;
	b->filled = s->filled;
	b->drained = s->drained;
	return 0;
}

static struct slot_state *s_open_slot(struct vhs_devpool *p, uint32_t slot)
{
	if (slot < p->ring->slot_count && p->slots[slot].open)
		return &p->slots[slot];
	snprintf(p->err, sizeof(p->err), "slot %u of %s is not open here", slot, p->ring->name);
	return NULL;
}

static int s_wait(struct vhs_devpool *p, uint32_t slot, void *stream, int for_filled)
{
	struct slot_state *s = s_open_slot(p, slot);

	if (!s)
		return -EINVAL;
	return s_ck(p, cudaStreamWaitEvent((cudaStream_t)stream, for_filled ? s->filled : s->drained, 0),
		    "cudaStreamWaitEvent");
}

static int s_record_event(struct vhs_devpool *p, uint32_t slot, void *stream, int filled)
{
	struct slot_state *s = s_open_slot(p, slot);

	if (!s)
		return -EINVAL;
	return s_ck(p, cudaEventRecord(filled ? s->filled : s->drained, (cudaStream_t)stream),
		    "cudaEventRecord");
}

int vhs_devpool_begin_write(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return s_wait(p, slot, stream, 0);
}

int vhs_devpool_end_write(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return s_record_event(p, slot, stream, 1);
}

int vhs_devpool_begin_read(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return s_wait(p, slot, stream, 1);
}

int vhs_devpool_end_read(struct vhs_devpool *p, uint32_t slot, void *stream)
{
	return s_record_event(p, slot, stream, 0);
}

/* A consumer's read of slot, planes by planes (copy), between begin_read and end_read on
 * the pool's own stream, waited for. */
struct plane_copy {
	int n;
	size_t src_off[4], src_pitch[4], dst_pitch[4], row[4];
	int rows[4];
	void *dst[4];
	enum cudaMemcpyKind kind;
};

static int s_read(struct vhs_devpool *p, uint32_t slot, const struct plane_copy *c)
{
	struct vhs_devbuf b;
	int ret = vhs_devpool_buffer(p, slot, &b);

	for (int i = 0; !ret && i < c->n; i++) {
		size_t end = c->rows[i] < 1 ? 0 : c->src_pitch[i] * (size_t)(c->rows[i] - 1) + c->row[i];

		if (c->rows[i] < 0 || c->src_off[i] > b.bytes || end > b.bytes - c->src_off[i]) {
			snprintf(p->err, sizeof(p->err), "plane %d reaches past the %zu-byte buffer", i, b.bytes);
			ret = -EINVAL;
		}
	}
	if (!ret && !p->stream)
		ret = s_ck(p, cudaStreamCreateWithFlags(&p->stream, cudaStreamNonBlocking),
			   "cudaStreamCreate");
	if (!ret)
		ret = vhs_devpool_begin_read(p, slot, p->stream);
	for (int i = 0; !ret && i < c->n; i++)
		ret = s_ck(p, cudaMemcpy2DAsync(c->dst[i], c->dst_pitch[i], (uint8_t *)b.ptr + c->src_off[i],
						c->src_pitch[i], c->row[i], (size_t)c->rows[i], c->kind,
						p->stream), "cudaMemcpy2DAsync");
	if (!ret)
		ret = vhs_devpool_end_read(p, slot, p->stream);
	if (!ret)
		ret = s_ck(p, cudaStreamSynchronize(p->stream), "cudaStreamSynchronize");
	return ret;
}

int vhs_devpool_download(struct vhs_devpool *p, uint32_t slot, void *dst, size_t bytes)
{
	struct plane_copy c = { .n = 1, .src_pitch = { bytes }, .dst_pitch = { bytes }, .row = { bytes },
				.rows = { 1 }, .dst = { dst }, .kind = cudaMemcpyDeviceToHost };

	return s_read(p, slot, &c);
}

int vhs_devpool_copy_planes(struct vhs_devpool *p, uint32_t slot, int planes, const uint32_t *src_off,
			    const int32_t *src_ls, uint8_t *const *dst, const int *dst_ls,
			    const size_t *row_bytes, const int *rows)
{
	struct plane_copy c = { .n = planes, .kind = cudaMemcpyDeviceToDevice };

	if (planes < 0 || planes > 4) {
		snprintf(p->err, sizeof(p->err), "%d planes", planes);
		return -EINVAL;
	}
	for (int i = 0; i < planes; i++) {
		if (src_ls[i] < 0 || dst_ls[i] < 0) {
			snprintf(p->err, sizeof(p->err), "negative line size in plane %d", i);
			return -EINVAL;
		}
		c.src_off[i] = src_off[i];
		c.src_pitch[i] = (size_t)src_ls[i];
		c.dst_pitch[i] = (size_t)dst_ls[i];
		c.row[i] = row_bytes[i];
		c.rows[i] = rows[i];
		c.dst[i] = dst[i];
	}
	return s_read(p, slot, &c);
}

void *vhs_devpool_host_alloc(size_t bytes)
{
	void *ptr = NULL;

	if (cudaHostAlloc(&ptr, bytes, cudaHostAllocDefault) != cudaSuccess) {
		cudaGetLastError();
		return NULL;
	}
	return ptr;
}

void vhs_devpool_host_free(void *ptr)
{
	if (ptr)
		cudaFreeHost(ptr);
}

size_t vhs_devpool_bytes(const struct vhs_devpool *p)
{
	return p ? p->total : 0;
}

const char *vhs_devpool_error(const struct vhs_devpool *p)
{
	return p->err;
}

void vhs_devpool_close(struct vhs_devpool **pp)
{
	struct vhs_devpool *p = *pp;

	if (!p)
		return;
	if (p->stream) {
		cudaStreamSynchronize(p->stream);
		cudaStreamDestroy(p->stream);
	}
	for (uint32_t i = 0; i < p->ring->slot_count; i++) {
		struct slot_state *s = &p->slots[i];

		if (!s->open)
			continue;
		if (p->exporter) {
			cudaEventSynchronize(s->filled); /* its own last writes */
			cudaFree(s->ptr);
		} else {
			cudaIpcCloseMemHandle(s->ptr);
		}
		cudaEventDestroy(s->filled);
		cudaEventDestroy(s->drained);
	}
	cudaGetLastError();
	free(p->slots);
	free(p);
	*pp = NULL;
}
