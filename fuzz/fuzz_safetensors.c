/* Fuzz target: the safetensors reader (common/sn_safetensors.c) and the packer that reads
 * the SuperNet's interchange file through it (workloads/sn_pack.c: the spec in the
 * metadata, every tensor re-laid out, int8 weights, int8 calibration on two 16 x 16
 * canvases); a packed image must load. Entries: sn_safetensors_parse(buf, size, ...) and
 * sn_pack_buffer(in, size, table, ...), as sn_pack_file calls them for `supernav pack`. */
#include <stdlib.h>
#include <string.h>

#include "sn_fuzz.h"
#include "sn_model.h"
#include "sn_pack.h"
#include "sn_safetensors.h"

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char table[] = "kind,config,macs,top1\nsubnet,r16-d1.1-e2.2-k3.5,1000,40.00\n";
    uint8_t *in = sn_fuzz_copy_aligned(data, size), canvases[2 * 16 * 16];
    sn_safetensors st;
    sn_pack_calib calib;
    unsigned char *img = NULL;
    size_t img_bytes = 0, i;
    char err[512];
    if (sn_safetensors_parse(in, size, &st, err, sizeof err) == 0) {
        for (i = 0; i < st.count; ++i)
            if (st.tensors[i].bytes) {
                sink ^= st.tensors[i].data[0];
                sink ^= st.tensors[i].data[st.tensors[i].bytes - 1];
            }
        (void)sn_safetensors_metadata(&st, "supernav_spec");
        if (st.count)
            (void)sn_safetensors_find(&st, st.tensors[0].name);
        sn_safetensors_free(&st);
    }
    for (i = 0; i < sizeof canvases; ++i)
        canvases[i] = (uint8_t)(i * 37u);
    calib.canvases = canvases;
    calib.side = 16;
    calib.count = 2;
    if (sn_pack_buffer(in, size, table, sizeof table - 1, &calib, &img, &img_bytes, err, sizeof err) == 0) {
        sn_model m;
        sn_model_error e;
        uint8_t *copy = sn_fuzz_copy_aligned(img, img_bytes);
        if (sn_model_load(&m, copy, img_bytes, &e) != SN_OK)
            abort(); /* the packer wrote an image its own loader refuses */
        free(copy);
    }
    free(img);
    free(in);
    return 0;
}
