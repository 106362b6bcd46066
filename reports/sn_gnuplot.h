/* supernav reports: gnuplot as a subprocess, and its SVG inlined into HTML.
 *
 * Library code: nothing is printed; gnuplot's own messages go to a log file whose last
 * line becomes the error. Host C11 (POSIX). */
#ifndef SN_GNUPLOT_H
#define SN_GNUPLOT_H

#include <stddef.h>

/* A growable text buffer. */
typedef struct sn_text {
    char *s;
    size_t len, cap;
    int failed;   /* an allocation failed: the text is incomplete */
} sn_text;

void sn_text_printf(sn_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sn_text_append(sn_text *t, const char *s, size_t n);
void sn_text_free(sn_text *t);

/* Appends SCRIPT's output line for the plot SVG_PATH: `gnuplot SCRIPT` run by hand writes
 * SVG_PATH; run by sn_gnuplot_plot, the SVG goes to standard output. */
void sn_gnuplot_output(sn_text *script, const char *svg_path);

/* Draws one plot: runs `GNUPLOT -e "sn_stdout = 1" SCRIPT` (GNUPLOT NULL: $SN_GNUPLOT, else
 * "gnuplot" on PATH; SCRIPT's output line from sn_gnuplot_output) with its messages appended
 * to LOG_PATH, reads the SVG from its standard output and writes it to SVG_PATH atomically
 * (sn_file.h): a plot is whole or absent, whatever happens to gnuplot or the disk. Returns 0,
 * or -1 with one line in ERR (gnuplot missing, its last message, no complete SVG, or why
 * SVG_PATH could not be written). */
int sn_gnuplot_plot(const char *gnuplot, const char *script, const char *svg_path, const char *log_path,
                    char *err, size_t err_bytes);

/* Appends the SVG document SVG (as gnuplot writes it: XML declaration, <svg ...>) to OUT
 * as an inline <svg> element: the prolog is dropped, every id and reference to one is
 * prefixed with PREFIX (several plots share gnuplot's ids on one page), and the root gets
 * class="plot" and data-plot="NAME". Returns 0, or -1 when SVG holds no <svg element. */
int sn_svg_inline(sn_text *out, const char *svg, const char *prefix, const char *name);

#endif
