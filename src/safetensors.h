/*
 * safetensors: reads and writes the safetensors weight format (an 8-byte
 * little-endian header length, a JSON header mapping tensor names to dtype,
 * shape and data_offsets, an optional "__metadata__" object of strings, then
 * the raw little-endian data). Reading validates everything a hostile file
 * could lie about (lengths, offsets, overlaps, shape products, dtypes, JSON
 * depth and size) before any data is touched. Plain C, no torch.
 *
 * Functions returning int give 0 or -1. On failure the message goes into
 * err (err_n bytes) when err is not NULL, else it is printed via error().
 */
#ifndef MMDB_SAFETENSORS_H
#define MMDB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum st_dtype {
	ST_F64, ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
	ST_NDTYPES
};

#define ST_MAX_DIMS 8
/* The largest header accepted (safetensors' own reader uses 100 MB). */
#define ST_MAX_HEADER (100u * 1024 * 1024)

struct st_tensor {
	char *name;
	int dtype;                   /* enum st_dtype */
	int ndim;
	int64_t shape[ST_MAX_DIMS];
	uint64_t offset;             /* into the data section */
	uint64_t nbytes;
};

struct st_file {
	uint8_t *buf;        /* the whole file (owned: a copy, or a mapping) */
	size_t len;
	const uint8_t *data; /* start of the data section inside buf */
	size_t data_len;
	size_t header_len;
	size_t n;            /* tensors, in file order */
	struct st_tensor *t;
	size_t n_meta;       /* __metadata__ entries */
	char **meta_key, **meta_val;
	int mapped;          /* buf is a read-only mmap of the file */
};

/* Bytes per element of a dtype; its name ("F32"...); the dtype of a name or -1. */
size_t st_dtype_size(int dtype);
const char *st_dtype_name(int dtype);
int st_dtype_from_name(const char *name);

/*
 * Maps (never reads into memory) and validates a whole file: what the header
 * claims is checked against the file's size before any data is touched, so
 * a huge or lying file costs no memory. *out is freed with st_close().
 */
int st_open(const char *path, struct st_file **out, char *err, size_t err_n);
/* The same on a buffer (copied). */
int st_parse(const void *buf, size_t len, struct st_file **out, char *err, size_t err_n);
void st_close(struct st_file *f);

/* The tensor of that name, or NULL. */
const struct st_tensor *st_find(const struct st_file *f, const char *name);
/* Its raw bytes inside f (not aligned to anything: copy before casting). */
const void *st_data(const struct st_file *f, const struct st_tensor *t);
/* Number of elements (the shape product). */
uint64_t st_numel(const struct st_tensor *t);

/* One tensor to write: data holds numel * dtype size little-endian bytes. */
struct st_out {
	const char *name;
	int dtype;
	int ndim;
	const int64_t *shape;
	const void *data;
};

/*
 * Writes n tensors (in the given order) and n_meta metadata strings
 * (meta_kv = key0, val0, key1, val1, ...) to path via a temporary file that
 * is renamed into place.
 */
int st_write(const char *path, const struct st_out *t, size_t n,
	     const char *const *meta_kv, size_t n_meta, char *err, size_t err_n);

#endif
