/* A timing wrapper around a platform's kernel slots (host only): each call of a slot the
 * inner platform has runs through it, timed with CLOCK_MONOTONIC, and its time and MACs are
 * added to its layer kind. So the share of an inference's time each kind of layer takes, and
 * its FLOP rate against the FMA peak, can be reported (`supernav eval --layer-times`).
 *
 *   sn_timed t;  sn_platform p;
 *   sn_timed_wrap(&t, &inner, &p);    ... sn_plan_invoke(plan, &p, ...) ...
 *   t.kind[SN_TIMED_DEPTHWISE].ns, .macs, .calls
 *
 * Outputs are the inner platform's, bit for bit: every call is forwarded unchanged; a slot the
 * inner platform lacks stays NULL (the engine's reference kernel runs, untimed: it shows up in
 * the invoke's time beyond the kinds). ARAC micro-flows are not forwarded (arac_micro_flows
 * NULL): the engine then runs the regions through the timed slots, one after another. The
 * timer costs two clock reads per layer. */
#ifndef SN_TIMED_H
#define SN_TIMED_H

#include <stdint.h>

#include "sn_platform.h"

enum sn_timed_kind {
    SN_TIMED_STEM = 0,        /* dense k x k (k > 1): the stem */
    SN_TIMED_POINTWISE,       /* dense 1 x 1 */
    SN_TIMED_DEPTHWISE,       /* depthwise k x k */
    SN_TIMED_CLASSIFIER,      /* fully connected */
    SN_TIMED_OTHER,           /* adds, pools, the canvas resize (no MACs counted) */
    SN_TIMED_KINDS
};

typedef struct sn_timed_stat {
    double ns;                /* summed wall time in the slot */
    double macs;              /* multiply-accumulates of the calls */
    uint64_t calls;
} sn_timed_stat;

typedef struct sn_timed {
    const sn_platform *inner;
    sn_platform_ops ops;
    sn_timed_stat kind[SN_TIMED_KINDS];
} sn_timed;

/* Wraps INNER (which must outlive T) into OUT; the counters start at zero. */
void sn_timed_wrap(sn_timed *t, const sn_platform *inner, sn_platform *out);
void sn_timed_reset(sn_timed *t);
/* "stem", "pointwise", "depthwise", "classifier", "other". */
const char *sn_timed_kind_name(int kind);

#endif
