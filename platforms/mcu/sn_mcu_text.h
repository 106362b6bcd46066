/* supernav MCU firmware: the text helpers the check program and the serving firmware share
 * (their command lines and protocol are space-separated words; canvases travel as hex).
 * Freestanding C99, header only. */
#ifndef SN_MCU_TEXT_H
#define SN_MCU_TEXT_H

/* The value of a lower-case hex digit, or -1. */
static inline int sn_mcu_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The next space-separated token of *P (NUL-terminated in place), or NULL. */
static inline char *sn_mcu_token(char **p)
{
    char *start = *p;
    while (*start == ' ')
        ++start;
    if (!*start)
        return NULL;
    *p = start;
    while (**p && **p != ' ')
        ++*p;
    if (**p)
        *(*p)++ = 0;
    return start;
}

#endif
