/* supernav's MCU platform, host side (sn_mcu_host.h). POSIX. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "sn_mcu_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sn_file.h"
#include "sn_image.h"
#include "sn_pack.h"
#include "sn_windex.h"

/* Cycle-model constants are assumptions, labelled wherever an estimate is printed:
 * - cpi 1.0: one cycle per executed instruction (a Cortex-M7 dual-issues some pairs and
 *   stalls on loads and multiplies; 1.0 is neither a measurement nor a bound);
 * - flash reads: l4r5: 64-bit (8-byte) flash reads, 5 wait states at 120 MHz (RM0432,
 *   range 1 boost) = 6 cycles per read; f746 and h743: the flash word is 256 bits (32 bytes); f746: 7 wait states
 *   at 216 MHz (RM0385, 2.7-3.6 V) = 8 cycles per read; h743: flash on the 240 MHz AXI bus
 *   with 4 wait states at VOS0 (RM0433) = 5 bus cycles = 10 core cycles at 480 MHz;
 * - m55 (an Alif Ensemble E3-class HP core on QEMU's mps3-an547; ASSUMPTIONS, not datasheet
 *   figures): the part's 400 MHz core clock (not the AN547 FPGA image's 32 MHz, which only
 *   sets the emulated clock's tick), 16-byte (128-bit) MRAM reads at 8 cycles each;
 * - no data cache and no ART accelerator hits: every weight byte a kernel reads from flash
 *   is streamed (one read per flash word), an upper bound on the flash cost. */
static const sn_mcu_board boards[] = {
    {"l4r5", "STM32L4R5-class part (Cortex-M4F, 120 MHz, 2 MB flash, 640 KB SRAM)", "mps2-an386",
     "cortex-m4", 2048u * 1024u, 640u * 1024u, 120e6, 1.0, 8u, 6u},
    {"f746", "STM32F746-class part (Cortex-M7, 216 MHz, 1 MB flash, 320 KB SRAM)", "mps2-an500",
     "cortex-m7", 1024u * 1024u, 320u * 1024u, 216e6, 1.0, 32u, 8u},
    {"h743", "STM32H743-class part (Cortex-M7, 480 MHz, 2 MB flash, 1 MB SRAM)", "mps2-an500",
     "cortex-m7", 2048u * 1024u, 1024u * 1024u, 480e6, 1.0, 32u, 10u},
    {"m55", "Alif Ensemble E3-class HP core (Cortex-M55, 400 MHz, 4 MB MRAM, 1 MB SRAM; assumed)",
     "mps3-an547", "cortex-m55", 4096u * 1024u, 1024u * 1024u, 400e6, 1.0, 16u, 8u},
};

const sn_mcu_board *sn_mcu_board_find(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof boards / sizeof boards[0]; ++i)
        if (!strcmp(boards[i].name, name))
            return &boards[i];
    return NULL;
}

const char *sn_mcu_board_names(void)
{
    return "l4r5, f746, h743, m55";
}

double sn_mcu_cycles(const sn_mcu_board *b, uint64_t instructions, uint64_t far_read_bytes)
{
    uint64_t lines = (far_read_bytes + b->flash_line_bytes - 1) / b->flash_line_bytes;
    return (double)instructions * b->cpi + (double)lines * b->flash_line_cycles;
}

void sn_mcu_model_text(const sn_mcu_board *b, char *buf, size_t n)
{
    snprintf(buf, n,
             "model:mcu-%s cycles = instructions x %.2f (CPI, assumption) + flash reads x %u "
             "(cycles per %u-byte flash word; no data cache); ms at %.0f MHz",
             b->name, b->cpi, b->flash_line_cycles, b->flash_line_bytes, b->clock_hz / 1e6);
}

static int errorf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errorf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- model files ----------------------------------------------------------------------- */
int sn_mcu_read_model(const char *path, void **bytes, sn_model *model, char *err, size_t n)
{
    size_t size;
    sn_model_error e;
    sn_status st;
    if (sn_read_file(path, bytes, &size) != 0)
        return errorf(err, n, "cannot read %s", path);
    st = sn_model_load(model, *bytes, size, &e);
    if (st != SN_OK) {
        free(*bytes);
        return errorf(err, n, "%s: %s (%s)", path, sn_status_str(st), e.what);
    }
    return 0;
}

/* ---- the int8-only image ------------------------------------------------------------ */


/* A per-config tensor (calib.{id}.*, q8.act.{id} or q8.req.{id}): its config id and where
 * the id ends. */
static int config_tensor(const char *name, uint32_t *id, const char **after, const char **prefix_end)
{
    const char *p;
    char *end;
    if (!strncmp(name, "calib.", 6))
        p = name + 6;
    else if (!strncmp(name, "q8.act.", 7) || !strncmp(name, "q8.req.", 7))
        p = name + 7;
    else
        return 0;
    *prefix_end = p;
    *id = (uint32_t)strtoul(p, &end, 10);
    if (end == p)
        return 0;
    *after = end;
    return 1;
}

/* One tensor of an image being written: its name there, its entry (data: its values). */
typedef struct strip_entry {
    char name[SN_IMAGE_NAME_BYTES];
    sn_tensor t;
} strip_entry;

static const strip_entry *sort_entries;

static int by_name(const void *a, const void *b)
{
    return strncmp(sort_entries[*(const uint32_t *)a].name, sort_entries[*(const uint32_t *)b].name,
                   SN_IMAGE_NAME_BYTES);
}

/* An image of M's architecture and table, the N tensors E and the KEPT configs of M that
 * NEW_ID numbers. The directory is in name order, so that the engine finds a tensor by
 * halving it (sn_model.names_sorted) instead of scanning it; the tensors' data keep E's
 * order. */
static int write_image(const sn_model *m, const strip_entry *e, uint32_t n, const uint32_t *new_id,
                       uint32_t kept, unsigned char **out, size_t *out_bytes, char *err, size_t err_bytes)
{
    const uint32_t kinds[5] = SN_IMAGE_SECTION_KINDS;
    uint32_t nsec = m->table ? 5u : 4u, w[SN_IMAGE_ARCH_WORDS], i, j, k;
    uint64_t *toff = malloc(((size_t)n + 1) * sizeof *toff), data_bytes = 0, off[5], bytes[5], total;
    uint32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    unsigned char *img = NULL;
    if (!toff || !order) {
        free(toff);
        free(order);
        return errorf(err, err_bytes, "out of memory");
    }
    for (i = 0; i < n; ++i) {
        order[i] = i;
        toff[i] = data_bytes;
        data_bytes = sn_image_align(data_bytes + e[i].t.bytes);
    }
    sort_entries = e;
    qsort(order, n, sizeof *order, by_name);
    total = sn_image_layout(m->version, nsec, n, kept, data_bytes, m->table_bytes, off, bytes);
    if (!(img = calloc(1, (size_t)total))) {
        free(toff);
        free(order);
        return errorf(err, err_bytes, "out of memory");
    }
    memcpy(w, &m->arch, sizeof w);
    for (i = 0; i < SN_IMAGE_ARCH_BYTES(m->version) / 4u; ++i)
        sn_image_wr32(img + off[0] + 4 * i, w[i]);
    for (k = 0; k < n; ++k) {
        unsigned char *d = img + off[1] + (size_t)k * SN_IMAGE_TENSOR_BYTES;
        const sn_tensor *t = &e[order[k]].t;
        i = order[k];
        memcpy(d, e[i].name, strlen(e[i].name));
        sn_image_wr32(d + 56, t->dtype);
        sn_image_wr32(d + 60, t->ndim);
        for (j = 0; j < 4; ++j)
            sn_image_wr32(d + 64 + 4 * j, t->dims[j]);
        sn_image_wr64(d + 80, t->dtype == SN_DTYPE_F32_ELIDED ? 0 : toff[i]);
        sn_image_wr64(d + 88, t->bytes);
        if (t->bytes)
            memcpy(img + off[3] + toff[i], t->data, (size_t)t->bytes);
    }
    for (i = 0; i < m->config_count; ++i) {
        uint32_t kind;
        const char *text;
        unsigned char *d;
        if (new_id[i] == UINT32_MAX)
            continue;
        sn_model_config(m, i, &kind, &text);
        d = img + off[2] + (size_t)new_id[i] * SN_IMAGE_CONFIG_BYTES;
        sn_image_wr32(d, kind);
        sn_image_wr32(d + 4, new_id[i]);
        memcpy(d + 8, text, strlen(text));
    }
    if (m->table)
        memcpy(img + off[4], m->table, m->table_bytes);
    sn_image_finish(img, m->version, total, nsec, kinds, off, bytes);
    free(toff);
    free(order);
    *out = img;
    *out_bytes = (size_t)total;
    return 0;
}

/* Config K's int8 vectors as q8.req.{K} holds them (sn_engine.h), planned on the image M;
 * NULL when the config has no int8 plan there (e.g. no int8 calibration). */
static int32_t *req_vectors(const sn_model *m, uint32_t k, size_t *words)
{
    uint32_t kind;
    const char *text;
    sn_config cfg;
    size_t need;
    sn_plan *plan = malloc(sizeof *plan);
    void *arena = NULL;
    int32_t *v = NULL;
    *words = 0;
    sn_model_config(m, k, &kind, &text);
    if (plan && sn_config_parse(text, &cfg) == SN_OK &&
        sn_plan_arena_bytes_p(m, &cfg, SN_INT8, &need) == SN_OK &&
        (arena = aligned_alloc(64, (need + 63) / 64 * 64)) != NULL &&
        sn_plan_prepare_p(plan, m, &cfg, SN_INT8, arena, need, NULL) == SN_OK &&
        sn_plan_q8_export(plan, NULL, words) == SN_OK && (v = malloc(*words * sizeof *v + 4)) != NULL &&
        sn_plan_q8_export(plan, v, words) != SN_OK) {
        free(v);
        v = NULL;
    }
    if (!v)
        *words = 0;
    free(arena);
    free(plan);
    return v;
}

int sn_mcu_image_strip(const sn_model *m, const char *const *configs, uint32_t count,
                       unsigned char **out, size_t *out_bytes, char *err, size_t err_bytes)
{
    uint32_t *new_id = NULL, kept = 0, i, k, nt = 0, n2 = 0;
    strip_entry *ents = NULL, *ents2 = NULL;
    int32_t **req = NULL;
    size_t *req_words = NULL, first_bytes = 0;
    unsigned char *first = NULL;
    sn_model fm;
    int rc = -1;
    *out = NULL;
    new_id = malloc((m->config_count + 1) * sizeof *new_id);
    ents = calloc(m->tensor_count + 1, sizeof *ents);
    if (!new_id || !ents) {
        errorf(err, err_bytes, "out of memory");
        goto done;
    }
    for (i = 0; i < m->config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(m, i, &kind, &text);
        new_id[i] = UINT32_MAX;
        if (count == 0)
            new_id[i] = kept++;
        for (k = 0; k < count && new_id[i] == UINT32_MAX; ++k)
            if (!strcmp(configs[k], text))
                new_id[i] = kept++;
    }
    for (k = 0; k < count; ++k) {
        for (i = 0; i < m->config_count; ++i) {
            uint32_t kind;
            const char *text;
            sn_model_config(m, i, &kind, &text);
            if (!strcmp(configs[k], text))
                break;
        }
        if (i == m->config_count) {
            errorf(err, err_bytes, "config '%s' is not calibrated in the model", configs[k]);
            goto done;
        }
    }
    for (i = 0; i < m->tensor_count; ++i) {
        sn_tensor t, twin;
        uint32_t id;
        const char *after, *prefix_end;
        char q8name[SN_IMAGE_NAME_BYTES + 4];
        sn_model_tensor(m, i, &t);
        if (config_tensor(t.name, &id, &after, &prefix_end)) {
            if (id >= m->config_count || new_id[id] == UINT32_MAX)
                continue;
            if (snprintf(ents[nt].name, SN_IMAGE_NAME_BYTES, "%.*s%u%s", (int)(prefix_end - t.name),
                         t.name, new_id[id], after) >= (int)SN_IMAGE_NAME_BYTES) {
                errorf(err, err_bytes, "tensor name too long after renumbering");
                goto done;
            }
        } else {
            snprintf(ents[nt].name, SN_IMAGE_NAME_BYTES, "%s", t.name);
        }
        snprintf(q8name, sizeof q8name, "q8.%s", t.name);
        if (t.dtype == SN_DTYPE_F32 && strcmp(t.name, "fc.weight") != 0 &&
            sn_model_find(m, q8name, &twin) == SN_OK && twin.dtype == SN_DTYPE_S8) {
            t.dtype = SN_DTYPE_F32_ELIDED;
            t.bytes = 0;
        }
        ents[nt++].t = t;
    }
    if (write_image(m, ents, nt, new_id, kept, &first, &first_bytes, err, err_bytes) != 0)
        goto done;
    /* Each kept config's int8 vectors, computed here once (q8.req.{id}): a prepare on the
     * part copies them. They replace the config's BN statistics (calib.{id}.*.mean/var),
     * which only they were computed from in an int8 plan. */
    if (sn_model_load(&fm, first, first_bytes, NULL) != SN_OK) {
        errorf(err, err_bytes, "the int8-only image does not load");
        goto done;
    }
    req = calloc(kept + 1, sizeof *req);
    req_words = calloc(kept + 1, sizeof *req_words);
    ents2 = calloc(nt + kept + 1, sizeof *ents2);
    if (!req || !req_words || !ents2) {
        errorf(err, err_bytes, "out of memory");
        goto done;
    }
    for (k = 0; k < kept; ++k)
        req[k] = req_vectors(&fm, k, &req_words[k]);
    for (i = 0; i < nt; ++i) {
        uint32_t id;
        const char *after, *prefix_end;
        size_t len = strlen(ents[i].name);
        if (config_tensor(ents[i].name, &id, &after, &prefix_end) && id < kept && req[id] &&
            (!strncmp(ents[i].name, "q8.req.", 7) ||
             (!strncmp(ents[i].name, "calib.", 6) &&
              ((len > 5 && !strcmp(ents[i].name + len - 5, ".mean")) ||
               (len > 4 && !strcmp(ents[i].name + len - 4, ".var"))))))
            continue;
        ents2[n2++] = ents[i];
    }
    for (k = 0; k < kept; ++k) {
        strip_entry *e = &ents2[n2];
        if (!req[k])
            continue;
        snprintf(e->name, SN_IMAGE_NAME_BYTES, "q8.req.%u", k);
        e->t.dtype = SN_DTYPE_S32;
        e->t.ndim = 1;
        e->t.dims[0] = (uint32_t)req_words[k];
        e->t.dims[1] = e->t.dims[2] = e->t.dims[3] = 1;
        e->t.bytes = (uint64_t)req_words[k] * 4u;
        e->t.data = req[k];
        ++n2;
    }
    if (write_image(m, ents2, n2, new_id, kept, out, out_bytes, err, err_bytes) != 0)
        goto done;
    rc = 0;
done:
    free(first);
    for (k = 0; req && k < kept; ++k)
        free(req[k]);
    free(req);
    free(req_words);
    free(new_id);
    free(ents);
    free(ents2);
    return rc;
}

/* ---- the link ------------------------------------------------------------------------ */

struct sn_mcu_link {
    int in_fd, out_fd;          /* read replies from in_fd, write commands to out_fd */
    pid_t pid;                  /* QEMU, or 0 for a serial port */
    char log_path[64];          /* QEMU's stderr */
    char buf[16384];
    size_t have;
    int timeout_ms;
    uint64_t prepare_clock;     /* the last prepare's emulated instructions (its clock= field) */
    uint64_t prepare_flash;     /* and the bytes it copied from flash (flash_bytes=: the
                                   image's precomputed int8 vectors) */
};

/* One line (without its end) into LINE; 0, or -1 with ERR. */
static int read_line(sn_mcu_link *l, char *line, size_t n, char *err, size_t err_bytes)
{
    for (;;) {
        char *nl = memchr(l->buf, '\n', l->have);
        struct pollfd pfd;
        ssize_t got;
        int r;
        if (nl) {
            size_t len = (size_t)(nl - l->buf);
            if (len && l->buf[len - 1] == '\r')
                --len;
            if (len >= n)
                len = n - 1;
            memcpy(line, l->buf, len);
            line[len] = 0;
            l->have -= (size_t)(nl + 1 - l->buf);
            memmove(l->buf, nl + 1, l->have);
            return 0;
        }
        if (l->have == sizeof l->buf)
            return errorf(err, err_bytes, "the device sent a line longer than %zu bytes", sizeof l->buf);
        pfd.fd = l->in_fd;
        pfd.events = POLLIN;
        r = poll(&pfd, 1, l->timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return errorf(err, err_bytes, "the device did not answer within %d s", l->timeout_ms / 1000);
        got = read(l->in_fd, l->buf + l->have, sizeof l->buf - l->have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            char tail[200] = "";
            FILE *f = l->log_path[0] ? fopen(l->log_path, "r") : NULL;
            if (f) {
                size_t k = fread(tail, 1, sizeof tail - 1, f);
                tail[k] = 0;
                fclose(f);
                for (k = 0; tail[k]; ++k)
                    if (tail[k] == '\n')
                        tail[k] = ' ';
            }
            return errorf(err, err_bytes, "the device closed the link%s%s", tail[0] ? ": " : "", tail);
        }
        l->have += (size_t)got;
    }
}

static int read_reply(sn_mcu_link *l, char *reply, size_t reply_bytes, char *err, size_t err_bytes)
{
    char line[16384];
    size_t used = 0;
    int failed = 0;
    if (reply_bytes)
        reply[0] = 0;
    for (;;) {
        if (read_line(l, line, sizeof line, err, err_bytes) != 0)
            return -1;
        if (!strcmp(line, "m-ready"))
            return failed ? -1 : 0;
        if (!strncmp(line, "e-error ", 8)) {
            if (!failed)
                snprintf(err, err_bytes, "device: %s", line + 8);
            failed = 1;
        } else if (!strncmp(line, "m-", 2)) {
            size_t len = strlen(line);
            if (reply && used + len + 2 < reply_bytes) {
                memcpy(reply + used, line, len);
                used += len;
                reply[used++] = '\n';
                reply[used] = 0;
            }
        } else if (line[0]) {
            /* not the protocol: a fault report or a board's boot noise */
            if (!failed)
                snprintf(err, err_bytes, "device: unexpected output: %.200s", line);
            failed = 1;
        }
    }
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int sn_mcu_command(sn_mcu_link *l, const char *command, char *reply, size_t reply_bytes,
                   char *err, size_t err_bytes)
{
    if (write_all(l->out_fd, command, strlen(command)) != 0 || write_all(l->out_fd, "\n", 1) != 0)
        return errorf(err, err_bytes, "cannot write to the device: %s", strerror(errno));
    return read_reply(l, reply, reply_bytes, err, err_bytes);
}

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *c = strchr(path, ':');
        size_t len = c ? (size_t)(c - path) : strlen(path);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog);
        if (access(buf, X_OK) == 0)
            return 1;
        path = c ? c + 1 : NULL;
    }
    return 0;
}

int sn_mcu_open_qemu(sn_mcu_link **out, const sn_mcu_board *b, const char *elf,
                     const char *image, char *err, size_t err_bytes)
{
    int to_dev[2], from_dev[2], log_fd;
    sn_mcu_link *l;
    char semi[1200];
    const char *s;
    *out = NULL;
    if (!on_path("qemu-system-arm"))
        return errorf(err, err_bytes, "qemu-system-arm is not installed (make deps installs Debian's qemu-system-arm)");
    if (access(elf, R_OK) != 0)
        return errorf(err, err_bytes, "%s: no firmware for board %s (make mcu-boards)", elf, b->name);
    if (access(image, R_OK) != 0)
        return errorf(err, err_bytes, "%s: cannot read the model image", image);
    for (s = image; *s; ++s)
        if (*s == ' ' || *s == ',')
            return errorf(err, err_bytes, "%s: the image path must not contain spaces or commas", image);
    snprintf(semi, sizeof semi, "enable=on,target=native,arg=supernav-mcu,arg=%s", image);
    if (!(l = calloc(1, sizeof *l)))
        return errorf(err, err_bytes, "out of memory");
    snprintf(l->log_path, sizeof l->log_path, "/tmp/sn-mcu-qemu.XXXXXX");
    log_fd = mkstemp(l->log_path);
    if (log_fd < 0 || pipe(to_dev) != 0 || pipe(from_dev) != 0) {
        free(l);
        return errorf(err, err_bytes, "cannot create pipes: %s", strerror(errno));
    }
    l->timeout_ms = 300000;
    l->pid = fork();
    if (l->pid < 0) {
        free(l);
        return errorf(err, err_bytes, "fork: %s", strerror(errno));
    }
    if (l->pid == 0) {
        dup2(to_dev[0], 0);
        dup2(from_dev[1], 1);
        dup2(log_fd, 2);
        close(to_dev[1]);
        close(from_dev[0]);
        execlp("qemu-system-arm", "qemu-system-arm", "-M", b->qemu_machine, "-cpu", b->qemu_cpu,
               "-icount", "shift=0", "-display", "none", "-monitor", "none", "-serial", "stdio",
               "-nic", "user,model=lan9118,restrict=on", "-semihosting-config", semi, "-kernel",
               elf, (char *)NULL);
        _exit(127);
    }
    close(to_dev[0]);
    close(from_dev[1]);
    close(log_fd);
    l->out_fd = to_dev[1];
    l->in_fd = from_dev[0];
    signal(SIGPIPE, SIG_IGN);
    l->timeout_ms = 120000;
    if (read_reply(l, NULL, 0, err, err_bytes) != 0) {
        sn_mcu_close(l);
        return -1;
    }
    l->timeout_ms = 300000;
    *out = l;
    return 0;
}

int sn_mcu_open_port(sn_mcu_link **out, const char *port, char *err, size_t err_bytes)
{
    struct termios tio;
    sn_mcu_link *l;
    char reply[512];
    int fd = open(port, O_RDWR | O_NOCTTY);
    *out = NULL;
    if (fd < 0)
        return errorf(err, err_bytes, "%s: %s", port, strerror(errno));
    if (tcgetattr(fd, &tio) != 0) {
        close(fd);
        return errorf(err, err_bytes, "%s: not a serial port: %s", port, strerror(errno));
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(tcflag_t)CSTOPB;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        close(fd);
        return errorf(err, err_bytes, "%s: cannot set 115200 8N1: %s", port, strerror(errno));
    }
    tcflush(fd, TCIOFLUSH);
    if (!(l = calloc(1, sizeof *l))) {
        close(fd);
        return errorf(err, err_bytes, "out of memory");
    }
    l->in_fd = l->out_fd = fd;
    l->timeout_ms = 10000;
    if (sn_mcu_command(l, "name", reply, sizeof reply, err, err_bytes) != 0) {
        sn_mcu_close(l);
        return -1;
    }
    l->timeout_ms = 300000;
    *out = l;
    return 0;
}

int sn_mcu_open_fds(sn_mcu_link **out, int in_fd, int out_fd, int timeout_ms, char *err,
                    size_t err_bytes)
{
    sn_mcu_link *l;
    *out = NULL;
    if (!(l = calloc(1, sizeof *l)))
        return errorf(err, err_bytes, "out of memory");
    l->in_fd = in_fd;
    l->out_fd = out_fd;
    l->timeout_ms = timeout_ms;
    *out = l;
    return 0;
}

void sn_mcu_close(sn_mcu_link *l)
{
    if (!l)
        return;
    if (l->pid > 0) {
        int status, i;
        (void)!write(l->out_fd, "quit\n", 5);
        close(l->out_fd);
        close(l->in_fd);
        for (i = 0; i < 200; ++i) { /* up to 2 s, then QEMU is stopped */
            if (waitpid(l->pid, &status, WNOHANG) == l->pid)
                break;
            usleep(10000);
        }
        if (i == 200) {
            kill(l->pid, SIGKILL);
            waitpid(l->pid, &status, 0);
        }
    } else {
        close(l->in_fd);
        if (l->out_fd != l->in_fd)
            close(l->out_fd);
    }
    if (l->log_path[0])
        unlink(l->log_path);
    free(l);
}

int sn_mcu_field_text(const char *reply, const char *key, char *buf, size_t n)
{
    size_t k = strlen(key);
    const char *p = reply;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == reply || p[-1] == ' ' || p[-1] == '\n') && p[k] == '=') {
            const char *v = p + k + 1;
            size_t len = strcspn(v, " \n");
            if (len >= n)
                len = n - 1;
            memcpy(buf, v, len);
            buf[len] = 0;
            return 0;
        }
        p += k;
    }
    return -1;
}

int sn_mcu_field_u64(const char *reply, const char *key, uint64_t *value)
{
    char buf[32], *end;
    if (sn_mcu_field_text(reply, key, buf, sizeof buf) != 0)
        return -1;
    *value = strtoull(buf, &end, 10);
    return *end ? -1 : 0;
}

int sn_mcu_prepare(sn_mcu_link *l, const char *config, uint64_t *arena_bytes, char *err,
                   size_t err_bytes)
{
    char cmd[512], reply[1024], fits[8] = "";
    int rc;
    *arena_bytes = 0;
    snprintf(cmd, sizeof cmd, "prepare %s", config);
    rc = sn_mcu_command(l, cmd, reply, sizeof reply, err, err_bytes);
    sn_mcu_field_u64(reply, "arena_bytes", arena_bytes);
    l->prepare_clock = l->prepare_flash = 0;
    sn_mcu_field_u64(reply, "clock", &l->prepare_clock);
    sn_mcu_field_u64(reply, "flash_bytes", &l->prepare_flash);
    if (sn_mcu_field_text(reply, "fits", fits, sizeof fits) == 0 && !strcmp(fits, "no"))
        return 1;
    return rc;
}

int sn_mcu_load(sn_mcu_link *l, const uint8_t *canvas, uint32_t side, const char *file,
                uint64_t offset, char *err, size_t err_bytes)
{
    static const char hex[] = "0123456789abcdef";
    char *cmd, reply[256];
    uint32_t i;
    int rc;
    if (file && l->pid > 0) {
        char small[1200];
        snprintf(small, sizeof small, "loadfile %s %llu", file, (unsigned long long)offset);
        return sn_mcu_command(l, small, reply, sizeof reply, err, err_bytes);
    }
    if (!(cmd = malloc(2u * side * side + 8)))
        return errorf(err, err_bytes, "out of memory");
    memcpy(cmd, "load ", 5);
    for (i = 0; i < side * side; ++i) {
        cmd[5 + 2 * i] = hex[canvas[i] >> 4];
        cmd[6 + 2 * i] = hex[canvas[i] & 15];
    }
    cmd[5 + 2 * side * side] = 0;
    rc = sn_mcu_command(l, cmd, reply, sizeof reply, err, err_bytes);
    free(cmd);
    return rc;
}

int sn_mcu_infer(sn_mcu_link *l, uint32_t n, uint32_t w, sn_mcu_infer_result *r, char *err,
                 size_t err_bytes)
{
    char reply[2048], logits[256], *p;
    uint64_t n_done = 0;
    memset(r, 0, sizeof *r);
    snprintf(reply, sizeof reply, "infer %u %u", n, w);
    if (sn_mcu_command(l, reply, reply, sizeof reply, err, err_bytes) != 0)
        return -1;
    if (sn_mcu_field_text(reply, "logits", logits, sizeof logits) != 0 ||
        sn_mcu_field_u64(reply, "n", &n_done) != 0 || n_done != n ||
        sn_mcu_field_u64(reply, "clock_min", &r->instructions) != 0 ||
        sn_mcu_field_u64(reply, "clock_max", &r->instructions_max) != 0 ||
        sn_mcu_field_u64(reply, "macs", &r->macs) != 0 ||
        sn_mcu_field_u64(reply, "near_bytes", &r->near_bytes) != 0 ||
        sn_mcu_field_u64(reply, "far_bytes", &r->far_bytes) != 0 ||
        sn_mcu_field_u64(reply, "near_read_bytes", &r->near_read_bytes) != 0 ||
        sn_mcu_field_u64(reply, "far_read_bytes", &r->far_read_bytes) != 0 ||
        sn_mcu_field_u64(reply, "stack_peak", &r->stack_peak) != 0 ||
        sn_mcu_field_u64(reply, "arena_bytes", &r->arena_bytes) != 0 ||
        sn_mcu_field_u64(reply, "static_bytes", &r->static_bytes) != 0 ||
        sn_mcu_field_u64(reply, "heap_used", &r->heap_used) != 0)
        return errorf(err, err_bytes, "the device's infer reply lacks a field: %.300s", reply);
    for (p = logits; *p && r->classes < 16;) {
        uint32_t bits = (uint32_t)strtoul(p, &p, 16);
        memcpy(&r->logits[r->classes++], &bits, sizeof bits);
        if (*p == ',')
            ++p;
        else
            break;
    }
    return 0;
}

uint64_t sn_mcu_sram_peak(const sn_mcu_infer_result *r, uint64_t cache_used)
{
    return r->static_bytes + r->heap_used + r->arena_bytes + cache_used + r->stack_peak;
}

typedef struct range_walk {
    const uint8_t *image;
    uint64_t (*ranges)[2];
    uint32_t count, max;
} range_walk;

static int add_range(void *user, const void *w, int dw, int s8, const sn_conv2d_params *p)
{
    range_walk *rw = user;
    uint64_t off, extent;
    uint32_t i;
    if (!s8 || (const uint8_t *)w < rw->image)
        return 0;
    off = (uint64_t)((const uint8_t *)w - rw->image);
    extent = dw ? (uint64_t)(p->kernel_h - 1) * p->w_stride_kh + (uint64_t)(p->kernel_w - 1) * p->w_stride_kw +
                      (uint64_t)p->out_c
                : (uint64_t)(p->out_c - 1) * p->w_stride_out + (uint64_t)(p->kernel_h - 1) * p->w_stride_kh +
                      (uint64_t)(p->kernel_w - 1) * p->w_stride_kw + (uint64_t)p->in_c;
    for (i = 0; i < rw->count; ++i) {
        uint64_t *r = rw->ranges[i];
        if (off >= r[0] && off + extent <= r[0] + r[1])
            return 1;                     /* inside one we have */
        if (r[0] >= off && r[0] + r[1] <= off + extent) {
            r[0] = off;                   /* one we have is inside this one */
            r[1] = extent;
            return 1;
        }
    }
    if (rw->count == rw->max)
        return 0;
    rw->ranges[rw->count][0] = off;
    rw->ranges[rw->count][1] = extent;
    ++rw->count;
    return 1;
}

uint32_t sn_mcu_subgraph_ranges(const sn_plan *plan, const void *image, uint64_t ranges[][2],
                                uint32_t max)
{
    range_walk rw;
    rw.image = image;
    rw.ranges = ranges;
    rw.count = 0;
    rw.max = max;
    sn_windex_place_plan(plan, add_range, &rw);
    return rw.count;
}

int sn_mcu_make_resident(sn_mcu_link *l, const uint64_t ranges[][2], uint32_t count,
                         uint64_t *near_bytes, char *err, size_t err_bytes)
{
    char cmd[96], reply[256];
    uint32_t i;
    *near_bytes = 0;
    if (sn_mcu_command(l, "resident clear", reply, sizeof reply, err, err_bytes) != 0)
        return -1;
    for (i = 0; i < count; ++i) {
        snprintf(cmd, sizeof cmd, "resident %llu %llu", (unsigned long long)ranges[i][0],
                 (unsigned long long)ranges[i][1]);
        if (sn_mcu_command(l, cmd, reply, sizeof reply, err, err_bytes) != 0)
            return -1;
        if (strstr(reply, "refused"))
            continue;                     /* the cache is full for this one: it stays far */
        *near_bytes += ranges[i][1];
    }
    return 0;
}

/* ---- serving session ------------------------------------------------------------------- */

#define SESSION_MAX 64

struct sn_mcu_session {
    const sn_mcu_board *board;
    sn_mcu_link *link;
    unsigned char *image;
    size_t image_bytes;
    char image_path[1024];
    sn_model model;                       /* the stripped image, as the device holds it */
    char configs[SESSION_MAX][SN_CONFIG_TEXT_MAX];
    uint32_t count;                       /* kept configs */
    int prepared;                         /* config on the device, or -1 */
    uint64_t cache_bytes;
    uint64_t code_bytes;                  /* the firmware's code in flash (info) */
    uint64_t slice_quantum;               /* output channels per near/far unit (info) */
    double plan_us;                       /* the last session_infer's re-plan (0: none) */
};

static int session_boot(sn_mcu_session *s, const char *port, const char *build, char *err, size_t n)
{
    char elf[1200], why[512];
    if (port) {
        if (sn_mcu_open_port(&s->link, port, why, sizeof why) != 0)
            return errorf(err, n, "board %s on %s: %s", s->board->name, port, why);
        return 0;
    }
    snprintf(elf, sizeof elf, "%s/mcu/supernav-mcu-%s.elf", build, s->board->name);
    return sn_mcu_open_qemu(&s->link, s->board, elf, s->image_path, err, n);
}

int sn_mcu_session_open(sn_mcu_session **out, const char *board, const char *port,
                        const char *build, const sn_model *m, const char *const *configs,
                        uint32_t count, size_t cache_bytes, uint8_t *keep, char *err, size_t n)
{
    sn_mcu_session *s;
    const char *kept[SESSION_MAX];
    uint64_t region = 0, capacity = 0;
    size_t room, largest = 0, smallest = SIZE_MAX;
    char reply[1024], cmd[64];
    uint32_t i, k;
    *out = NULL;
    if (n)
        err[0] = 0;
    if (!build)
        build = "build";
    if (count > SESSION_MAX)
        return errorf(err, n, "more than %d configs", SESSION_MAX);
    if (!(s = calloc(1, sizeof *s)))
        return errorf(err, n, "out of memory");
    s->prepared = -1;
    if (!(s->board = sn_mcu_board_find(board))) {
        free(s);
        return board ? errorf(err, n, "unknown board '%s' (boards: %s)", board, sn_mcu_board_names())
                     : errorf(err, n, "platform mcu needs --board (boards: %s)", sn_mcu_board_names());
    }
    if (!port && !on_path("qemu-system-arm")) { /* say what is missing before anything else */
        free(s);
        return errorf(err, n, "qemu-system-arm is not installed (make deps installs Debian's qemu-system-arm)");
    }
    snprintf(s->image_path, sizeof s->image_path, "%s/mcu/serve-%s-%ld.snm", build, s->board->name,
             (long)getpid());
    /* 1: the smallest config alone, to learn the board's SRAM and flash */
    kept[0] = configs[0];
    if (sn_mcu_image_strip(m, kept, 1, &s->image, &s->image_bytes, err, n) != 0 ||
        (sn_write_file_atomic(s->image_path, s->image, s->image_bytes) != 0 &&
         errorf(err, n, "board %s: cannot write %s: %s (make mcu-boards makes %s/mcu/)", s->board->name,
                s->image_path, strerror(errno), build) != 0) ||
        session_boot(s, port, build, err, n) != 0 ||
        sn_mcu_command(s->link, "info", reply, sizeof reply, err, n) != 0 ||
        sn_mcu_field_u64(reply, "arena_region_bytes", &region) != 0 ||
        sn_mcu_field_u64(reply, "image_capacity", &capacity) != 0 ||
        sn_mcu_field_u64(reply, "code_bytes", &s->code_bytes) != 0 ||
        (sn_mcu_field_u64(reply, "slice_quantum", &s->slice_quantum) != 0 &&
         errorf(err, n, "board %s: the firmware does not say its slice_quantum (make mcu-boards)", s->board->name) != 0)) {
        if (!err[0])
            errorf(err, n, "board %s: cannot start", s->board->name);
        sn_mcu_session_close(s);
        return -1;
    }
    if (cache_bytes != SIZE_MAX && (cache_bytes % 64 || cache_bytes >= region)) {
        sn_mcu_session_close(s);
        return errorf(err, n, "board %s: a %zu-byte weight cache leaves no SRAM for an arena (%llu B for both)",
                      board, cache_bytes, (unsigned long long)region);
    }
    /* 2: the configs that fit the SRAM left (SIZE_MAX: the whole arena region), then as many
     * as the flash holds */
    room = cache_bytes == SIZE_MAX ? (size_t)region : (size_t)region - cache_bytes;
    for (i = 0, k = 0; i < count; ++i) {
        sn_config cfg;
        size_t need;
        keep[i] = sn_config_parse(configs[i], &cfg) == SN_OK &&
                  sn_plan_arena_bytes_p(m, &cfg, SN_INT8, &need) == SN_OK;
        if (keep[i] && need < smallest)
            smallest = need;
        keep[i] = keep[i] && need <= room;
        if (keep[i])
            kept[k++] = configs[i];
    }
    if (k == 0) {
        sn_mcu_session_close(s);
        if (smallest == SIZE_MAX)
            return errorf(err, n, "board %s: no config to serve", board);
        return cache_bytes == SIZE_MAX
                   ? errorf(err, n, "board %s: no SubNet fits: %s needs %zu arena bytes; the board leaves %llu "
                            "for an arena and a weight cache", board, count == 1 ? configs[0] : "the smallest",
                            smallest, (unsigned long long)region)
                   : errorf(err, n, "board %s: no SubNet fits: %s needs %zu arena bytes; the board leaves %llu "
                            "beside a %zu-byte weight cache", board, count == 1 ? configs[0] : "the smallest",
                            smallest, (unsigned long long)room, cache_bytes);
    }
    /* 3: the image of the configs kept, booted; the first one when it is just that (one
     * config, the smallest) */
    if (k > 1 || kept[0] != configs[0] || s->image_bytes > capacity) {
        for (;;) {
            free(s->image);
            s->image = NULL;
            if (sn_mcu_image_strip(m, kept, k, &s->image, &s->image_bytes, err, n) != 0) {
                sn_mcu_session_close(s);
                return -1;
            }
            if (s->image_bytes <= capacity)
                break;
            if (--k == 0) {
                sn_mcu_session_close(s);
                return errorf(err, n, "board %s: no image fits the flash", board);
            }
        }
        for (i = count; i-- > 0;) /* drop from keep[] what the flash could not hold */
            if (keep[i]) {
                uint32_t j, found = 0;
                for (j = 0; j < k; ++j)
                    found |= kept[j] == configs[i];
                keep[i] = (uint8_t)found;
            }
        sn_mcu_close(s->link);
        s->link = NULL;
        if ((sn_write_file_atomic(s->image_path, s->image, s->image_bytes) != 0 &&
             errorf(err, n, "cannot write %s", s->image_path) != 0) ||
            session_boot(s, port, build, err, n) != 0) {
            sn_mcu_session_close(s);
            return -1;
        }
    }
    if (sn_model_load(&s->model, s->image, s->image_bytes, NULL) != SN_OK) {
        sn_mcu_session_close(s);
        return errorf(err, n, "board %s: the stripped image does not load", board);
    }
    for (i = 0; i < k; ++i)
        snprintf(s->configs[i], SN_CONFIG_TEXT_MAX, "%s", kept[i]);
    s->count = k;
    if (cache_bytes == SIZE_MAX) { /* what the largest arena kept leaves, in 64-byte lines */
        for (i = 0; i < k; ++i) {
            sn_config cfg;
            size_t need = 0;
            if (sn_config_parse(kept[i], &cfg) == SN_OK && sn_plan_arena_bytes_p(m, &cfg, SN_INT8, &need) == SN_OK &&
                need > largest)
                largest = need;
        }
        cache_bytes = ((size_t)region - largest) / 64 * 64;
    }
    snprintf(cmd, sizeof cmd, "cache %zu", cache_bytes);
    if (sn_mcu_command(s->link, cmd, reply, sizeof reply, err, n) != 0) {
        sn_mcu_session_close(s);
        return -1;
    }
    s->cache_bytes = cache_bytes;
    *out = s;
    return 0;
}

void sn_mcu_session_close(sn_mcu_session *s)
{
    if (!s)
        return;
    sn_mcu_close(s->link);
    if (s->image_path[0])
        unlink(s->image_path);
    free(s->image);
    free(s);
}

const sn_mcu_board *sn_mcu_session_board(const sn_mcu_session *s)
{
    return s->board;
}

void sn_mcu_session_memory(const sn_mcu_session *s, uint64_t *code_bytes, uint64_t *image_bytes,
                           uint64_t *cache_bytes)
{
    *code_bytes = s->code_bytes;
    *image_bytes = s->image_bytes;
    *cache_bytes = s->cache_bytes;
}

static int session_prepare(sn_mcu_session *s, uint32_t i, char *err, size_t n)
{
    uint64_t arena;
    int rc;
    s->plan_us = 0.0;
    if (s->prepared == (int)i)
        return 0;
    s->prepared = -1;
    rc = sn_mcu_prepare(s->link, s->configs[i], &arena, err, n);
    if (rc != 0)
        return rc < 0 ? -1 : errorf(err, n, "%s: does not fit the SRAM left", s->configs[i]);
    s->prepared = (int)i;
    /* planning reads the image's tables in flash: the precomputed int8 vectors it copies are
     * charged per flash word as weights are (the directory's few entries are not) */
    s->plan_us = sn_mcu_cycles(s->board, s->link->prepare_clock, s->link->prepare_flash) /
                 s->board->clock_hz * 1e6;
    return 0;
}

int sn_mcu_session_subgraph(sn_mcu_session *s, int i, uint64_t *bytes, double *model_us,
                            char *err, size_t n)
{
    static uint64_t ranges[256][2];
    char reply[256], cmd[96];
    uint32_t nr = 0, k;
    uint64_t clock = 0;
    *bytes = 0;
    *model_us = 0.0;
    if (sn_mcu_command(s->link, "resident clear", reply, sizeof reply, err, n) != 0)
        return -1;
    if (i < 0 || s->cache_bytes == 0) /* no cache: nothing would be taken */
        return 0;
    {
        sn_config cfg;
        size_t need;
        sn_plan *plan = malloc(sizeof *plan);
        void *arena = NULL;
        if (plan && sn_config_parse(s->configs[i], &cfg) == SN_OK &&
            sn_plan_arena_bytes_p(&s->model, &cfg, SN_INT8, &need) == SN_OK &&
            (arena = aligned_alloc(64, (need + 63) / 64 * 64)) != NULL &&
            sn_plan_prepare_p(plan, &s->model, &cfg, SN_INT8, arena, need, NULL) == SN_OK)
            nr = sn_mcu_subgraph_ranges(plan, s->image, ranges, 256);
        free(arena);
        free(plan);
    }
    for (k = 0; k < nr; ++k) {
        uint64_t c = 0;
        snprintf(cmd, sizeof cmd, "resident %llu %llu", (unsigned long long)ranges[k][0],
                 (unsigned long long)ranges[k][1]);
        if (sn_mcu_command(s->link, cmd, reply, sizeof reply, err, n) != 0)
            return -1;
        if (strstr(reply, "refused"))
            continue;
        *bytes += ranges[k][1];
        if (sn_mcu_field_u64(reply, "clock", &c) == 0)
            clock += c;
    }
    /* the copy reads every byte from flash */
    *model_us = sn_mcu_cycles(s->board, clock, *bytes) / s->board->clock_hz * 1e6;
    return 0;
}

int sn_mcu_session_tensor(const sn_mcu_session *s, const char *name, uint64_t *offset, sn_tensor *t)
{
    if (sn_model_find(&s->model, name, t) != SN_OK)
        return -1;
    *offset = (uint64_t)((const unsigned char *)t->data - s->image);
    return 0;
}

uint32_t sn_mcu_session_slice_quantum(const sn_mcu_session *s)
{
    return (uint32_t)s->slice_quantum;
}

int sn_mcu_session_slices(sn_mcu_session *s, const sn_mcu_box *boxes, uint32_t count, uint64_t *flash_bytes,
                          uint64_t *cache_used, double *model_us, char *err, size_t n)
{
    char reply[512], *cmd;
    size_t cap = 16 + (size_t)count * 48, len;
    uint32_t k;
    uint64_t clock = 0;
    *flash_bytes = *cache_used = 0;
    *model_us = 0.0;
    if (!(cmd = malloc(cap)))
        return errorf(err, n, "out of memory");
    len = (size_t)snprintf(cmd, cap, "slices");
    for (k = 0; k < count; ++k)
        len += (size_t)snprintf(cmd + len, cap - len, " %llu:%d:%d:%d", (unsigned long long)boxes[k].offset,
                                (int)boxes[k].o, (int)boxes[k].i, (int)boxes[k].k);
    if (len + 1 > 8192) { /* the firmware's line buffer (LINE_BYTES) */
        free(cmd);
        return errorf(err, n, "board %s: %u slices make a command line of %zu bytes", s->board->name, count, len);
    }
    if (sn_mcu_command(s->link, cmd, reply, sizeof reply, err, n) != 0) {
        free(cmd);
        return -1;
    }
    free(cmd);
    if (sn_mcu_field_u64(reply, "flash_bytes", flash_bytes) != 0 || sn_mcu_field_u64(reply, "bytes", cache_used) != 0 ||
        sn_mcu_field_u64(reply, "clock", &clock) != 0)
        return errorf(err, n, "board %s: unexpected reply to slices: %.200s", s->board->name, reply);
    /* the copy: its instructions (the moves within SRAM among them), every byte read from flash */
    *model_us = sn_mcu_cycles(s->board, clock, *flash_bytes) / s->board->clock_hz * 1e6;
    return 0;
}

double sn_mcu_session_plan_us(const sn_mcu_session *s) { return s->plan_us; }

int sn_mcu_session_infer(sn_mcu_session *s, uint32_t i, const uint8_t *canvas, const char *file,
                         uint64_t offset, sn_mcu_infer_result *r, double *model_us, char *err,
                         size_t n)
{
    if (i >= s->count)
        return errorf(err, n, "no config %u on the board", i);
    if (session_prepare(s, i, err, n) != 0 ||
        sn_mcu_load(s->link, canvas, s->model.arch.canvas, file, offset, err, n) != 0 ||
        sn_mcu_infer(s->link, 1, 0, r, err, n) != 0)
        return -1;
    *model_us = sn_mcu_cycles(s->board, r->instructions, r->far_read_bytes) / s->board->clock_hz * 1e6;
    return 0;
}
