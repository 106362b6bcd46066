/* supernav reports: the experiment validity rule (sn_validity.h). */
#include "sn_validity.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sn_validity_judge(const double *slo_pct, size_t n, char *why, size_t why_bytes)
{
    double lo = INFINITY, hi = -INFINITY;
    size_t i, k = 0;
    if (why_bytes)
        why[0] = '\0';
    for (i = 0; i < n; ++i) {
        if (isnan(slo_pct[i]))
            continue;
        ++k;
        lo = slo_pct[i] < lo ? slo_pct[i] : lo;
        hi = slo_pct[i] > hi ? slo_pct[i] : hi;
    }
    if (k == 0)
        return 0;
    if (hi < SN_VALIDITY_LOW_PCT)
        snprintf(why, why_bytes, "every policy meets under %.0f %% of SLOs", SN_VALIDITY_LOW_PCT);
    else if (lo > SN_VALIDITY_HIGH_PCT)
        snprintf(why, why_bytes, "every policy meets over %.0f %% of SLOs", SN_VALIDITY_HIGH_PCT);
    else if (k > 1 && hi - lo < SN_VALIDITY_NOISE_POINTS)
        snprintf(why, why_bytes, "all %zu policies within %.1f point(s) of each other", k,
                 SN_VALIDITY_NOISE_POINTS);
    else
        return 0;
    return 1;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static void add(char *buf, size_t n, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (*used >= n)
        return;
    if (*used) {
        k = snprintf(buf + *used, n - *used, "; ");
        *used += k > 0 ? (size_t)k : 0;
        if (*used >= n)
            return;
    }
    va_start(ap, fmt);
    k = vsnprintf(buf + *used, n - *used, fmt, ap);
    va_end(ap);
    *used += k > 0 ? (size_t)k : 0;
}

void sn_validity_reasons(const cJSON *f, char *buf, size_t n)
{
    size_t used = 0;
    double load = num(f, "offered_load_at_fastest");
    if (!n)
        return;
    buf[0] = '\0';
    if (!cJSON_IsObject(f)) {
        add(buf, n, &used, "no feasibility record in policy.json (a run of an older supernav)");
        return;
    }
    if (num(f, "floor_unreachable") > 0)
        add(buf, n, &used, "floors unreachable: %.0f of %.0f queries ask more than the best SubNet's %.2f %%",
            num(f, "floor_unreachable"), num(f, "with_floor"), 100.0 * num(f, "best_top1"));
    if (num(f, "ceiling_below_fastest") > 0)
        add(buf, n, &used, "ceilings below the fastest SubNet: %.0f of %.0f queries allow less than %.1f us",
            num(f, "ceiling_below_fastest"), num(f, "with_ceiling"), num(f, "fastest_us"));
    if (num(f, "slower_than_profile") > 0)
        add(buf, n, &used, "service slower than profiled: %.0f of %.0f queries took over 1.5x their profiled time "
            "(a machine busier than when it was profiled)", num(f, "slower_than_profile"), num(f, "queries"));
    if (!isnan(load) && load > 1.0)
        add(buf, n, &used, "overload: arrivals offer %.2fx what the fastest SubNet can serve", load);
    else if (!isnan(load))
        add(buf, n, &used, "offered load %.2f of the fastest SubNet's capacity", load);
}
