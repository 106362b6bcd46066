/* Fuzz target: the MCU platform's host side of the serial protocol (platforms/mcu/host/
 * sn_mcu_host.c): the input is what the device sends back, through a pipe; the host runs
 * the command sequence of a serving session -- name, info, cache, prepare, load, infer,
 * the SubGraph made resident, infer again -- and parses each reply (lines, m-/e- frames,
 * key=value fields, logits as IEEE-754 bits) as it does from QEMU or a board's UART.
 * Entries: sn_mcu_command, sn_mcu_prepare, sn_mcu_load, sn_mcu_infer, sn_mcu_make_resident
 * and sn_mcu_field_*, over a link from sn_mcu_open_fds. Seeds: the replies of the real
 * firmware (the mcu_serve target's host build, SN_FUZZ_ECHO=1) to the same commands. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_fuzz.h"
#include "sn_mcu_host.h"

static int null_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t ranges[2][2] = {{4096, 512}, {1024, 2048}};
    int fds[2];
    sn_mcu_link *l;
    sn_mcu_infer_result r;
    char reply[2048], err[512], text[64];
    uint8_t canvas[16 * 16];
    uint64_t v, arena = 0, near = 0;
    size_t i;
    if (size > 60000) /* the pipe holds 64 KiB: the host's side must not block writing */
        return 0;
    if (null_fd < 0 && (null_fd = open("/dev/null", O_WRONLY)) < 0)
        abort();
    if (pipe(fds) != 0)
        abort();
    if (size && write(fds[1], data, size) != (ssize_t)size)
        abort();
    close(fds[1]); /* the device stops talking at the input's end: a closed link */
    if (sn_mcu_open_fds(&l, fds[0], dup(null_fd), 1000, err, sizeof err) != 0)
        abort();
    for (i = 0; i < sizeof canvas; ++i)
        canvas[i] = (uint8_t)(i * 7u);
    (void)sn_mcu_command(l, "name", reply, sizeof reply, err, sizeof err);
    (void)sn_mcu_field_text(reply, "board", text, sizeof text);
    if (sn_mcu_command(l, "info", reply, sizeof reply, err, sizeof err) == 0) {
        (void)sn_mcu_field_u64(reply, "arena_region_bytes", &v);
        (void)sn_mcu_field_u64(reply, "image_capacity", &v);
    }
    (void)sn_mcu_command(l, "cache 4096", reply, sizeof reply, err, sizeof err);
    (void)sn_mcu_prepare(l, "r16-d1.1-e2.2-k3.5", &arena, err, sizeof err);
    (void)sn_mcu_load(l, canvas, 16, NULL, 0, err, sizeof err);
    (void)sn_mcu_infer(l, 2, 1, &r, err, sizeof err);
    (void)sn_mcu_make_resident(l, ranges, 2, &near, err, sizeof err);
    if (sn_mcu_infer(l, 1, 0, &r, err, sizeof err) == 0)
        (void)sn_mcu_sram_peak(&r, near);
    sn_mcu_close(l);
    return 0;
}
