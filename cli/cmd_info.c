/* supernav info [[--model] MODEL]: what a deployment image holds, after full validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_canvas.h"
#include "sn_cli.h"
#include "sn_file.h"
#include "sn_model.h"

static void print_list(const char *label, const uint32_t *v, uint32_t n)
{
    uint32_t i;
    printf("%-14s", label);
    for (i = 0; i < n; ++i)
        printf("%s%u", i ? ", " : "", v[i]);
    printf("\n");
}

int sn_cmd_info(int argc, char **argv)
{
    const char *path;
    void *image;
    size_t size;
    sn_model m;
    uint32_t i, subnets = 0, aracs = 0;
    int rc = sn_cli_model_arg(argc, argv, &path);
    if (rc != 0) {
        fprintf(rc == 1 ? stdout : stderr, "usage: supernav info [[--model] MODEL]   (default build/supernet.snm)\n");
        return rc == 1 ? 0 : 2;
    }
    if (sn_cli_load_model(path, &image, &m) != 0)
        return 1;
    size = m.image_bytes;
    for (i = 0; i < m.config_count; ++i) {
        uint32_t kind;
        const char *text;
        sn_model_config(&m, i, &kind, &text);
        if (kind)
            ++aracs;
        else
            ++subnets;
    }
    printf("model         %s (%zu bytes, format version %u, checksums ok)\n", path, size, m.version);
    printf("canvas        %ux%u, %u classes\n", m.arch.canvas, m.arch.canvas, m.arch.num_classes);
    if (!sn_canvas_test_prefix(m.arch.task))
        printf("task          %u, unknown to this build (no default canvases)\n", m.arch.task);
    else
        printf("task          %s (default canvases %s)\n",
               m.arch.task ? sn_canvas_task_name((sn_canvas_task)m.arch.task) : "none named",
               sn_canvas_test_prefix(m.arch.task));
    printf("stem          %u channels; head %u channels; depthwise kernels stored %ux%u\n",
           m.arch.stem_c, m.arch.head_c, m.arch.k_max, m.arch.k_max);
    for (i = 0; i < m.arch.num_stages; ++i)
        printf("stage %u       out %u, depth %u-%u, stride %u\n", i, m.arch.stage_out_c[i],
               m.arch.stage_min_depth[i], m.arch.stage_max_depth[i], m.arch.stage_stride[i]);
    print_list("resolutions", m.arch.resolutions, m.arch.num_resolutions);
    print_list("expands", m.arch.expands, m.arch.num_expands);
    print_list("kernels", m.arch.kernels, m.arch.num_kernels);
    print_list("arac grids", m.arch.grids, m.arch.num_grids);
    print_list("arac levels %", m.arch.levels_pct, m.arch.num_levels);
    if (m.arch.num_splits == 0) {
        printf("arac prefix   %u stage(s) after the stem; gate %u channels, pool %u\n",
               m.arch.arac_prefix_stages, m.arch.gate_c, m.arch.gate_pool);
    } else {
        print_list("arac splits", m.arch.splits, m.arch.num_splits);
        printf("arac modes    %s%s%s; gate %u channels, pool %u, %u logit(s) per tile (%s)\n",
               m.arch.region_modes & SN_REGION_MODE_HALO ? "h (halo)" : "",
               m.arch.region_modes == (SN_REGION_MODE_HALO | SN_REGION_MODE_TILE) ? ", " : "",
               m.arch.region_modes & SN_REGION_MODE_TILE ? "z (tile-local)" : "", m.arch.gate_c,
               m.arch.gate_pool, m.arch.gate_out, m.arch.gate_out == 1 ? "sigmoid" : "softmax over the levels");
    }
    printf("tensors       %u (fp32 %llu bytes, int8 %llu bytes, int32 %llu bytes)\n",
           m.tensor_count, (unsigned long long)sn_model_dtype_bytes(&m, SN_DTYPE_F32),
           (unsigned long long)sn_model_dtype_bytes(&m, SN_DTYPE_S8),
           (unsigned long long)sn_model_dtype_bytes(&m, SN_DTYPE_S32));
    printf("calibrated    %u SubNets, %u ARAC configs\n", subnets, aracs);
    free(image);
    return 0;
}
