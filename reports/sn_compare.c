/* supernav reports: run A against run B (see sn_compare.h). */
#include "sn_compare.h"

#include <math.h>
#include <string.h>

#include "sn_stats.h"

static const char *by_direction(sn_figure_better better, int b_larger)
{
    if (better == SN_BETTER_HIGHER)
        return b_larger ? "better" : "worse";
    if (better == SN_BETTER_LOWER)
        return b_larger ? "worse" : "better";
    return "changed";
}

size_t sn_compare_figures(const sn_figure_set *a, const sn_figure_set *b, double alpha,
                          sn_compare_row *rows)
{
    size_t i, n = 0;
    for (i = 0; i < a->count; ++i) {
        const sn_figure *fa = &a->f[i], *fb = sn_figures_find(b, fa->name);
        sn_compare_row *r = &rows[n++];
        r->a = fa;
        r->b = fb;
        r->delta = r->rel = r->p = (double)NAN;
        r->verdict = "n/a";
        if (!fb)
            continue;
        if (fa->text[0] || fb->text[0]) {
            r->verdict = strcmp(fa->text, fb->text) ? "changed" : "same";
            continue;
        }
        if (isnan(fa->value) || isnan(fb->value))
            continue;
        r->delta = fb->value - fa->value;
        if (fa->value != 0.0)
            r->rel = r->delta / fabs(fa->value);
        if (fa->sample && fb->sample && fa->n > 0 && fb->n > 0) {
            sn_mwu u;
            if (sn_stats_mann_whitney(fa->sample, fa->n, fb->sample, fb->n, &u) == 0) {
                r->p = u.p;
                /* significance from the test, direction from the figure shown (a mean can
                 * move one way while the rank test's shift goes the other) */
                r->verdict = u.p >= alpha ? (r->delta == 0.0 ? "same" : "no significant change")
                                          : by_direction(fa->better, r->delta != 0.0 ? r->delta > 0
                                                                                     : u.u_b > u.u_a);
                continue;
            }
        }
        if (r->delta == 0.0)
            r->verdict = "same";
        else
            r->verdict = by_direction(fa->better, r->delta > 0);
    }
    return n;
}
