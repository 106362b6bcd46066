/* Fuzz target: SubNet and ARAC config strings (engine/sn_config.c), as the CLI takes them
 * (`supernav eval --config`, `replay --policy static-subnet:CONFIG`, accuracy tables):
 * parse; a parsed config formats back to text that parses to the same config and formats
 * to the same text; then it is checked against the tiny SuperNet's elastic space and, when
 * inside it, sized and planned (fp32 and int8). Entry: sn_config_parse(text, &config). */
#include <stdlib.h>
#include <string.h>

#include "sn_config.h"
#include "sn_engine.h"
#include "sn_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = sn_fuzz_strndup(data, size), canon[SN_CONFIG_TEXT_MAX], again[SN_CONFIG_TEXT_MAX];
    const sn_model *m = sn_fuzz_tiny_model();
    sn_config c, c2;
    const char *why = NULL;
    int precision;
    if (sn_config_parse(text, &c) != SN_OK) {
        free(text);
        return 0;
    }
    if (sn_config_format(&c, canon, sizeof canon) == SN_OK) {
        if (sn_config_parse(canon, &c2) != SN_OK || sn_config_format(&c2, again, sizeof again) != SN_OK ||
            strcmp(canon, again) != 0 || memcmp(&c, &c2, sizeof c) != 0)
            abort(); /* parse -> format is not the identity on canonical text */
    }
    if (sn_config_check(m, &c, &why) == SN_OK)
        for (precision = SN_FP32; precision <= SN_INT8; ++precision) {
            size_t need = 0;
            void *arena = NULL;
            sn_plan *plan = malloc(sizeof *plan);
            if (plan && sn_plan_arena_bytes_p(m, &c, precision, &need) == SN_OK &&
                posix_memalign(&arena, 64, need) == 0)
                (void)sn_plan_prepare_p(plan, m, &c, precision, arena, need, &why);
            free(arena);
            free(plan);
        }
    free(text);
    return 0;
}
