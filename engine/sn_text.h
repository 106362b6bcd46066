/* Internal to engine/: the freestanding decimal writer shared by config formatting and
 * tensor-name building (no stdio on the inference path). */
#ifndef SN_TEXT_H
#define SN_TEXT_H

#include <stdint.h>

/* Writes V's decimal digits (most significant first, no terminator) into OUT and returns
 * how many (1..10). */
int sn_u32_digits(uint32_t v, char out[10]);

#endif
