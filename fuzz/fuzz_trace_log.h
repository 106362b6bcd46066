/* The csv and jsonl importer targets' shared body (fuzz_trace_csv.c, fuzz_trace_jsonl.c).
 *
 * The first two bytes of an input choose the parameters, the rest is the request log:
 *   byte 0: bits 0-2 the time unit ((b & 7) % 5: s, ms, us, ns, datetime), bit 3
 *           relative timestamps (not with datetime), bit 4 refuse unsorted rows, bit 5
 *           rate scaling to 100 queries/s
 *   byte 1: bits 0-1 the floor field "f" (0 none, 1 quantile, 2 hash, 3 level), bits 2-3
 *           the ceiling field "c" (the same), bit 4 constraint either (with both fields),
 *           bit 5 three levels instead of five
 * The time field is "t". An imported trace is checked against the trace contract, and a
 * refusal must be one line naming the source. */
#ifndef FUZZ_TRACE_LOG_H
#define FUZZ_TRACE_LOG_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sn_trace.h"

static inline void sn_fuzz_trace_log(sn_trace_format format, const uint8_t *data, size_t size)
{
    static const sn_trace_field_map maps[4] = {(sn_trace_field_map)0,
                                               SN_TRACE_FIELD_MAP_QUANTILE,
                                               SN_TRACE_FIELD_MAP_HASH, SN_TRACE_FIELD_MAP_LEVEL};
    sn_trace_import_params p;
    sn_trace t;
    char err[512];
    size_t i, j;
    uint8_t b0, b1;
    if (size < 2)
        return;
    b0 = data[0];
    b1 = data[1];
    data += 2;
    size -= 2;
    sn_trace_import_params_default(&p, format);
    p.max_count = 100000; /* as the Azure targets: the importer's bound, kept fast */
    p.time_field = "t";
    p.time_unit = (sn_trace_time_unit)((b0 & 7) % 5 + 1);
    p.time_relative = (b0 >> 3 & 1) && p.time_unit != SN_TRACE_TIME_UNIT_DATETIME;
    p.refuse_unsorted = b0 >> 4 & 1;
    p.rate_mqps = b0 >> 5 & 1 ? 100000 : 0;
    if (b1 & 3) {
        p.floor_field = "f";
        p.floor_map = maps[b1 & 3];
    }
    if (b1 >> 2 & 3) {
        p.ceiling_field = "c";
        p.ceiling_map = maps[b1 >> 2 & 3];
    }
    p.constraints.attach = p.floor_field && p.ceiling_field
                               ? (b1 >> 4 & 1 ? SN_TRACE_ATTACH_EITHER : SN_TRACE_ATTACH_BOTH)
                           : p.floor_field   ? SN_TRACE_ATTACH_FLOOR
                           : p.ceiling_field ? SN_TRACE_ATTACH_CEILING
                                             : SN_TRACE_ATTACH_NONE;
    if (b1 >> 5 & 1)
        p.constraints.levels = 3;
    if (sn_trace_import_buffer(&p, "fuzz.log", data, size, &t, err, sizeof err) != SN_TRACE_OK) {
        if (strncmp(err, "fuzz.log", 8) != 0)
            abort(); /* a refusal of the source names it */
        for (i = 0; err[i]; ++i)
            if ((unsigned char)err[i] < 0x20)
                abort(); /* one line */
        return;
    }
    if (!t.count || t.count > p.max_count || !t.metadata)
        abort();
    for (i = 0; i < t.count; ++i) {
        int floor_ok = !sn_trace_has_floor(&t, i), ceiling_ok = !sn_trace_has_ceiling(&t, i);
        for (j = 0; j < p.constraints.levels; ++j) {
            floor_ok |= t.acc_floor[i] == (float)p.constraints.floor_bp[j] / 10000.0f;
            ceiling_ok |= t.lat_ceiling_us[i] == (p.constraints.ceiling_base_us *
                                                          p.constraints.ceiling_permille[j] +
                                                      500) / 1000;
        }
        if (t.arrival_us[i] < 0 || t.arrival_us[i] > (INT64_C(1) << 60) ||
            (i && t.arrival_us[i] < t.arrival_us[i - 1]) || t.sample[i] >= p.sample_count ||
            t.lat_ceiling_us[i] < 0 || !floor_ok || !ceiling_ok ||
            (!p.floor_field && sn_trace_has_floor(&t, i)) ||
            (!p.ceiling_field && sn_trace_has_ceiling(&t, i)))
            abort(); /* the importer made a trace that breaks the documented contract */
    }
    if (!p.time_relative && t.arrival_us[0] != 0)
        abort(); /* absolute: the first arrival is 0 */
    sn_trace_free(&t);
}

#endif
