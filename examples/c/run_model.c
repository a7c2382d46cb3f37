/*
 * run_model: run a kiln model.so through the C API of libkiln_runtime.so.
 *
 *   run_model MODEL.so OUT_DIR [INPUT.raw ...] [--threads N]
 *
 * Prints the model's signature, fills the inputs, runs once, and writes every output as raw
 * little-endian bytes (row-major, bool = one byte) to OUT_DIR/<name>.raw, where <name> is the
 * output's name with every character outside [A-Za-z0-9_.-] replaced by '_'.
 *
 * Inputs: either one .raw file per input, in declaration order, each exactly
 * product(shape) * dtype size bytes; or none, and then input k element i (row-major) is
 *     v = (i * 7 + k * 3) % 17 - 8
 * as floats: v * 0.125; as signed ints: v; as unsigned: v + 8; as bool: (i + k) % 2.
 *
 * Build: cc -I runtime/include examples/c/run_model.c -L target/debug -lkiln_runtime \
 *           -Wl,-rpath,$PWD/target/debug -o run_model
 * Exit status: 0 on success, 1 on any error (with a one-line message on stderr).
 */
#include <kiln.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_name(int d) {
    switch (d) {
    case KILN_F32: return "f32";
    case KILN_F64: return "f64";
    case KILN_I32: return "i32";
    case KILN_I64: return "i64";
    case KILN_BOOL: return "bool";
    case KILN_F16: return "f16";
    case KILN_BF16: return "bf16";
    case KILN_I8: return "i8";
    case KILN_I16: return "i16";
    case KILN_U8: return "u8";
    case KILN_U16: return "u16";
    case KILN_U32: return "u32";
    case KILN_U64: return "u64";
    default: return "?";
    }
}

static size_t dtype_size(int d) {
    switch (d) {
    case KILN_F32: case KILN_I32: case KILN_U32: return 4;
    case KILN_F64: case KILN_I64: case KILN_U64: return 8;
    case KILN_F16: case KILN_BF16: case KILN_I16: case KILN_U16: return 2;
    case KILN_BOOL: case KILN_I8: case KILN_U8: return 1;
    default: return 0;
    }
}

static size_t num_elements(const int64_t *shape, size_t rank) {
    size_t n = 1;
    for (size_t i = 0; i < rank; i++) n *= (size_t)shape[i];
    return n;
}

static void print_sig(const char *what, size_t i, const char *name, int dtype, const int64_t *shape,
                      size_t rank) {
    printf("%s %zu '%s': %s[", what, i, name, dtype_name(dtype));
    for (size_t d = 0; d < rank; d++) printf(d ? ",%lld" : "%lld", (long long)shape[d]);
    printf("]\n");
}

/* 64-byte aligned zeroed buffer (the runtime copies misaligned buffers; aligned ones run in place). */
static void *alloc_buffer(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p) memset(p, 0, rounded ? rounded : 64);
    return p;
}

static void fill_pattern(void *buf, int dtype, size_t n, size_t k) {
    for (size_t i = 0; i < n; i++) {
        int64_t v = (int64_t)((i * 7 + k * 3) % 17) - 8;
        switch (dtype) {
        case KILN_F32: ((float *)buf)[i] = (float)v * 0.125f; break;
        case KILN_F64: ((double *)buf)[i] = (double)v * 0.125; break;
        case KILN_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
        case KILN_I64: ((int64_t *)buf)[i] = v; break;
        case KILN_BOOL: ((uint8_t *)buf)[i] = (uint8_t)((i + k) % 2); break;
        case KILN_I8: ((int8_t *)buf)[i] = (int8_t)v; break;
        case KILN_I16: ((int16_t *)buf)[i] = (int16_t)v; break;
        case KILN_U8: ((uint8_t *)buf)[i] = (uint8_t)(v + 8); break;
        case KILN_U16: ((uint16_t *)buf)[i] = (uint16_t)(v + 8); break;
        case KILN_U32: ((uint32_t *)buf)[i] = (uint32_t)(v + 8); break;
        case KILN_U64: ((uint64_t *)buf)[i] = (uint64_t)(v + 8); break;
        case KILN_BF16: { /* v * 0.125 is exact: the top half of the f32 */
            float f = (float)v * 0.125f;
            uint32_t b;
            memcpy(&b, &f, 4);
            ((uint16_t *)buf)[i] = (uint16_t)(b >> 16);
            break;
        }
        case KILN_F16: { /* v * 0.125 is a normal f16 (or zero): rebias the exponent */
            float f = (float)v * 0.125f;
            uint32_t b;
            memcpy(&b, &f, 4);
            uint16_t h = (uint16_t)((b >> 16) & 0x8000);
            if (b & 0x7FFFFFFF) h |= (uint16_t)(((((b >> 23) & 0xFF) - 112) << 10) | ((b >> 13) & 0x3FF));
            ((uint16_t *)buf)[i] = h;
            break;
        }
        }
    }
}

static int read_raw(const char *path, void *buf, size_t bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "run_model: cannot open %s\n", path);
        return -1;
    }
    size_t got = fread(buf, 1, bytes, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != bytes || extra) {
        fprintf(stderr, "run_model: %s: expected exactly %zu bytes\n", path, bytes);
        return -1;
    }
    return 0;
}

static int write_raw(const char *dir, const char *name, const void *buf, size_t bytes, char *path,
                     size_t path_cap) {
    int len = snprintf(path, path_cap, "%s/", dir);
    for (const char *c = name; *c && len + 6 < (int)path_cap; c++) {
        int ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                 *c == '_' || *c == '.' || *c == '-';
        path[len++] = ok ? *c : '_';
    }
    snprintf(path + len, path_cap - (size_t)len, ".raw");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, bytes, f) != bytes) {
        fprintf(stderr, "run_model: cannot write %s\n", path);
        if (f) fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *raw[256];
    size_t num_raw = 0;
    int threads = 0;
    const char *model_path = NULL, *out_dir = NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            threads = atoi(argv[++a]);
        } else if (!model_path) {
            model_path = argv[a];
        } else if (!out_dir) {
            out_dir = argv[a];
        } else if (num_raw < 256) {
            raw[num_raw++] = argv[a];
        }
    }
    if (!model_path || !out_dir) {
        fprintf(stderr, "usage: run_model MODEL.so OUT_DIR [INPUT.raw ...] [--threads N]\n");
        return 1;
    }

    printf("%s\n", kiln_version());
    kiln_model *model = kiln_model_load(model_path, threads);
    if (!model) {
        fprintf(stderr, "run_model: %s\n", kiln_last_error());
        return 1;
    }
    size_t ni = kiln_model_num_inputs(model), no = kiln_model_num_outputs(model);
    if (num_raw != 0 && num_raw != ni) {
        fprintf(stderr, "run_model: the model has %zu inputs, %zu .raw files given\n", ni, num_raw);
        kiln_model_free(model);
        return 1;
    }

    int status = 0;
    void **in = calloc(ni ? ni : 1, sizeof(void *));
    void **out = calloc(no ? no : 1, sizeof(void *));
    for (size_t i = 0; i < ni && status == 0; i++) {
        int dt = kiln_model_input_dtype(model, i);
        size_t rank = kiln_model_input_rank(model, i);
        const int64_t *shape = kiln_model_input_shape(model, i);
        print_sig("input", i, kiln_model_input_name(model, i), dt, shape, rank);
        size_t n = num_elements(shape, rank), bytes = n * dtype_size(dt);
        in[i] = alloc_buffer(bytes);
        if (!in[i]) status = 1;
        else if (num_raw) status = read_raw(raw[i], in[i], bytes) ? 1 : 0;
        else fill_pattern(in[i], dt, n, i);
    }
    for (size_t i = 0; i < no && status == 0; i++) {
        int dt = kiln_model_output_dtype(model, i);
        size_t rank = kiln_model_output_rank(model, i);
        const int64_t *shape = kiln_model_output_shape(model, i);
        print_sig("output", i, kiln_model_output_name(model, i), dt, shape, rank);
        out[i] = alloc_buffer(num_elements(shape, rank) * dtype_size(dt));
        if (!out[i]) status = 1;
    }
    if (status == 0 && kiln_model_run(model, (const void *const *)in, out) != 0) {
        fprintf(stderr, "run_model: %s\n", kiln_last_error());
        status = 1;
    }
    for (size_t i = 0; i < no && status == 0; i++) {
        char path[4096];
        size_t bytes = num_elements(kiln_model_output_shape(model, i), kiln_model_output_rank(model, i)) *
                       dtype_size(kiln_model_output_dtype(model, i));
        if (write_raw(out_dir, kiln_model_output_name(model, i), out[i], bytes, path, sizeof path)) status = 1;
        else printf("wrote %s (%zu bytes)\n", path, bytes);
    }
    for (size_t i = 0; i < ni; i++) free(in[i]);
    for (size_t i = 0; i < no; i++) free(out[i]);
    free(in);
    free(out);
    kiln_model_free(model);
    return status;
}
