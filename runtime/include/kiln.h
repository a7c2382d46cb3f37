/*
 * kiln.h: the C interface of the kiln runtime (libkiln_runtime.so) and the kiln artifact ABI.
 *
 * Two parts:
 *   1. The artifact ABI (what a compiled model.so exports): `kiln_artifact`, returned by the one
 *      exported symbol `kiln_artifact_v1`. Layout version KILN_ABI_VERSION; a runtime refuses any
 *      artifact whose `abi_version` differs (any incompatible change bumps the version and the
 *      symbol suffix). Descriptive data (signature, target, buffers, schedule) is JSON; see
 *      docs/abi.md for the schema and the dispatch model.
 *   2. The runtime API: load a model.so, query its signature, run it.
 *
 * Dependencies: stdint.h and stddef.h only. Every function is thread-safe; kiln_model_run may be
 * called from several threads at once on one model. Errors: functions return NULL / -1 / 0 and
 * set a thread-local message read with kiln_last_error().
 */
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- artifact ABI (version 1) */

#define KILN_ABI_VERSION 1u
/* "KILN" read as a little-endian uint32. */
#define KILN_ARTIFACT_MAGIC 0x4e4c494bu
/* Every buffer (constants, arena slots, caller buffers) is aligned to this many bytes. */
#define KILN_BUFFER_ALIGN 64
#define KILN_ENTRY_SYMBOL "kiln_artifact_v1"

/* A kernel runs workgroup `workgroup_id` of `workgroup_count` (0 <= id < count); `buffers` holds
 * the step's buffer pointers in the order the schedule lists them. */
typedef void (*kiln_kernel_fn)(void *const *buffers, int64_t workgroup_id, int64_t workgroup_count);

typedef struct kiln_artifact {
    uint32_t magic;               /* KILN_ARTIFACT_MAGIC */
    uint32_t abi_version;         /* KILN_ABI_VERSION */
    const uint8_t *metadata_json; /* UTF-8 JSON, not NUL-terminated */
    uint64_t metadata_len;
    uint64_t num_kernels;
    const kiln_kernel_fn *kernels;
    uint64_t num_constants;
    const uint8_t *const *constants; /* each KILN_BUFFER_ALIGN-aligned, row-major little-endian */
} kiln_artifact;

/* A model.so defines: const kiln_artifact *kiln_artifact_v1(void); */
typedef const kiln_artifact *(*kiln_artifact_entry_fn)(void);

/* ---------------------------------------------------------------- runtime API */

typedef enum kiln_dtype {
    KILN_F32 = 0,
    KILN_F64 = 1,
    KILN_I32 = 2,
    KILN_I64 = 3,
    KILN_BOOL = 4, /* one byte per element, 0 or 1 */
    KILN_F16 = 5,  /* IEEE binary16 */
    KILN_BF16 = 6, /* bfloat16: the upper 16 bits of an f32 */
    KILN_I8 = 7,
    KILN_I16 = 8,
    KILN_U8 = 9,
    KILN_U16 = 10,
    KILN_U32 = 11,
    KILN_U64 = 12
} kiln_dtype;

typedef struct kiln_model kiln_model;

/* "kiln-runtime X.Y.Z (abi N)"; static storage. */
const char *kiln_version(void);
/* The artifact ABI version this runtime reads (KILN_ABI_VERSION of the runtime's build). */
uint32_t kiln_abi_version(void);
/* The message of the last failed call on this thread, "" if none; valid until this thread's next
 * kiln call. One line, e.g. "m.so: was built for ABI version 7, this runtime reads 1". */
const char *kiln_last_error(void);

/* Load a model.so; threads = 0 uses one thread per CPU, 1 runs on the calling thread only.
 * Checks the file, descriptor, ABI version, metadata, CPU features and schedule.
 * Returns NULL on error. */
kiln_model *kiln_model_load(const char *path, int threads);
/* Free a model; NULL is a no-op. The model must not be in use. */
void kiln_model_free(kiln_model *model);

/* Signature. Names and shapes are owned by the model and live until kiln_model_free.
 * Out-of-range indices give NULL / -1 / 0 and set the error message. */
size_t kiln_model_num_inputs(const kiln_model *model);
size_t kiln_model_num_outputs(const kiln_model *model);
const char *kiln_model_input_name(const kiln_model *model, size_t i);
const char *kiln_model_output_name(const kiln_model *model, size_t i);
int kiln_model_input_dtype(const kiln_model *model, size_t i);  /* a kiln_dtype, or -1 */
int kiln_model_output_dtype(const kiln_model *model, size_t i); /* a kiln_dtype, or -1 */
size_t kiln_model_input_rank(const kiln_model *model, size_t i);
size_t kiln_model_output_rank(const kiln_model *model, size_t i);
const int64_t *kiln_model_input_shape(const kiln_model *model, size_t i);  /* rank dims */
const int64_t *kiln_model_output_shape(const kiln_model *model, size_t i); /* rank dims */

/* Run the model. inputs[i] / outputs[i] point at dense row-major little-endian buffers of
 * product(shape) * dtype size bytes, owned by the caller (any alignment; 64-byte aligned ones
 * avoid a copy). Outputs must not overlap each other or the inputs.
 * Returns 0 on success, -1 on error. */
int kiln_model_run(const kiln_model *model, const void *const *inputs, void *const *outputs);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
