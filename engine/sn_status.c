#include "sn_status.h"

const char *sn_status_str(sn_status status)
{
    switch (status) {
    case SN_OK: return "ok";
    case SN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case SN_ERR_SHAPE: return "incompatible tensor shapes";
    case SN_ERR_FORMAT: return "malformed input";
    case SN_ERR_TRUNCATED: return "truncated input";
    case SN_ERR_CHECKSUM: return "checksum mismatch";
    case SN_ERR_VERSION: return "unsupported version";
    case SN_ERR_UNSUPPORTED: return "not supported";
    case SN_ERR_NO_MEMORY: return "buffer too small";
    case SN_ERR_IO: return "i/o error";
    case SN_ERR_NO_DEVICE: return "no such device";
    case SN_STATUS_COUNT: break;
    }
    return "unknown status";
}
