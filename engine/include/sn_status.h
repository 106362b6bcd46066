/* supernav engine: status codes.
 *
 * Everything a user can cause (a bad file, a bad config, a missing device) is reported
 * as an sn_status with a readable sn_status_str(); programmer errors are asserts.
 * Portable C99, freestanding-safe: no stdio, no malloc. */
#ifndef SN_STATUS_H
#define SN_STATUS_H

typedef enum sn_status {
    SN_OK = 0,
    SN_ERR_INVALID_ARGUMENT,  /* a parameter outside its documented range */
    SN_ERR_SHAPE,             /* tensor shapes that do not fit together */
    SN_ERR_FORMAT,            /* a file or string that does not parse */
    SN_ERR_TRUNCATED,         /* a file shorter than its own header says */
    SN_ERR_CHECKSUM,          /* a checksum that does not match */
    SN_ERR_VERSION,           /* a file version this build cannot read */
    SN_ERR_UNSUPPORTED,       /* valid, but not served by this model or platform */
    SN_ERR_NO_MEMORY,         /* an arena or buffer too small for the request */
    SN_ERR_IO,                /* an operating-system I/O failure (host only) */
    SN_ERR_NO_DEVICE,         /* the requested device does not exist */
    SN_STATUS_COUNT
} sn_status;

/* A short, static, lower-case description; never NULL (unknown codes included). */
const char *sn_status_str(sn_status status);

#endif
