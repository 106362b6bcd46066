#include "sn_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int sn_atomic_open(sn_atomic_file *f, const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t n = strlen(path);
    int fd;
    memset(f, 0, sizeof *f);
    f->path = dup_string(path);
    f->tmp_path = malloc(n + sizeof suffix);
    if (!f->path || !f->tmp_path) {
        sn_atomic_abort(f);
        errno = ENOMEM;
        return -1;
    }
    memcpy(f->tmp_path, path, n);
    memcpy(f->tmp_path + n, suffix, sizeof suffix);
    fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(f->tmp_path);
        f->tmp_path = NULL;
        sn_atomic_abort(f);
        errno = e;
        return -1;
    }
    /* mkstemp creates 0600; results are ordinary files. */
    (void)fchmod(fd, 0644);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        int e = errno;
        close(fd);
        sn_atomic_abort(f);
        errno = e;
        return -1;
    }
    return 0;
}

void sn_atomic_abort(sn_atomic_file *f)
{
    if (f->fp)
        fclose(f->fp);
    if (f->tmp_path)
        unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int sn_atomic_commit(sn_atomic_file *f)
{
    int e;
    if (fflush(f->fp) != 0 || ferror(f->fp) || fsync(fileno(f->fp)) != 0)
        goto fail;
    e = fclose(f->fp);
    f->fp = NULL;
    if (e != 0 || rename(f->tmp_path, f->path) != 0)
        goto fail;
    free(f->tmp_path);
    free(f->path);
    memset(f, 0, sizeof *f);
    return 0;
fail:
    e = errno;
    sn_atomic_abort(f);
    errno = e;
    return -1;
}

int sn_write_file_atomic(const char *path, const void *data, size_t size)
{
    sn_atomic_file f;
    if (sn_atomic_open(&f, path) != 0)
        return -1;
    if (size && fwrite(data, 1, size, f.fp) != size) {
        int e = errno ? errno : EIO;
        sn_atomic_abort(&f);
        errno = e;
        return -1;
    }
    return sn_atomic_commit(&f);
}

int sn_read_file(const char *path, void **data, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, len = 0;
    if (!fp)
        return -1;
    for (;;) {
        size_t got;
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                errno = ENOMEM;
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        int e = errno ? errno : EIO;
        free(buf);
        fclose(fp);
        errno = e;
        return -1;
    }
    fclose(fp);
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return 0;
}

int sn_mkdir_p(const char *path)
{
    char *p = dup_string(path), *s;
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    for (s = p + 1; *s; ++s) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        int e = errno;
        free(p);
        errno = e;
        return -1;
    }
    free(p);
    return 0;
}

int sn_remove_tree(const char *path)
{
    struct stat st;
    struct dirent *e;
    DIR *d;
    int rc = 0, saved = 0;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t n;
        char *child;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n = strlen(path) + strlen(e->d_name) + 2;
        child = malloc(n);
        if (!child) {
            rc = -1, saved = ENOMEM;
            break;
        }
        snprintf(child, n, "%s/%s", path, e->d_name);
        if (sn_remove_tree(child) != 0 && rc == 0)
            rc = -1, saved = errno;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0 && rc == 0)
        rc = -1, saved = errno;
    if (rc != 0)
        errno = saved;
    return rc;
}
