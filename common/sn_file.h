/* supernav host utilities: files that are never left half-written.
 *
 * Results, caches and converted data are written to a temporary file beside the
 * destination and renamed into place only when complete, so an interrupted run leaves
 * no partial file and never damages an earlier one. Host-only (POSIX); not for engine/. */
#ifndef SN_FILE_H
#define SN_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct sn_atomic_file {
    FILE *fp;          /* write through this between open and commit/abort */
    char *path;        /* final destination (owned) */
    char *tmp_path;    /* temporary file in the same directory (owned) */
} sn_atomic_file;

/* Creates PATH.tmp.XXXXXX beside PATH. Returns 0, or -1 with errno set. */
int sn_atomic_open(sn_atomic_file *file, const char *path);

/* Flushes, fsyncs, closes and renames into place; frees the names. Returns 0, or -1 with
 * errno set, in which case the temporary file is removed and PATH is untouched. */
int sn_atomic_commit(sn_atomic_file *file);

/* Closes and removes the temporary file; PATH is untouched. Safe after a failed open. */
void sn_atomic_abort(sn_atomic_file *file);

/* Writes SIZE bytes to PATH atomically. Returns 0, or -1 with errno set. */
int sn_write_file_atomic(const char *path, const void *data, size_t size);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated for convenience; the
 * terminator is not counted in *size). Returns 0, or -1 with errno set. */
int sn_read_file(const char *path, void **data, size_t *size);

/* Creates a directory and its parents (mkdir -p). Returns 0, or -1 with errno set. */
int sn_mkdir_p(const char *path);

/* Removes PATH and, if it is a directory, everything under it (rm -rf; symbolic links are
 * removed, never followed). A missing PATH is not an error. Returns 0, or -1 with errno
 * set (what could be removed is gone). */
int sn_remove_tree(const char *path);

#endif
