/* Atomic result files: complete or absent, never half-written, earlier file untouched. */
#include "sn_test.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sn_file.h"

static char dir[] = "/tmp/sn_test_atomic_XXXXXX";

static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            ++n;
    closedir(d);
    return n;
}

static void path_in_dir(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void test_commit_writes_whole_file(void **state)
{
    char path[256];
    void *data;
    size_t size;
    (void)state;
    path_in_dir(path, sizeof path, "a.txt");
    assert_int_equal(sn_write_file_atomic(path, "hello", 5), 0);
    assert_int_equal(sn_read_file(path, &data, &size), 0);
    assert_int_equal(size, 5);
    assert_memory_equal(data, "hello", 5);
    free(data);
    assert_int_equal(count_entries(), 1);
}

static void test_abort_keeps_earlier_file(void **state)
{
    char path[256];
    sn_atomic_file f;
    void *data;
    size_t size;
    (void)state;
    path_in_dir(path, sizeof path, "b.txt");
    assert_int_equal(sn_write_file_atomic(path, "old", 3), 0);
    assert_int_equal(sn_atomic_open(&f, path), 0);
    fputs("new but interrupted", f.fp);
    fflush(f.fp);
    sn_atomic_abort(&f);
    assert_int_equal(sn_read_file(path, &data, &size), 0);
    assert_int_equal(size, 3);
    assert_memory_equal(data, "old", 3);
    free(data);
    assert_int_equal(count_entries(), 2); /* a.txt and b.txt, no temporary left */
}

static void test_open_fails_cleanly(void **state)
{
    sn_atomic_file f;
    void *data;
    size_t size;
    (void)state;
    assert_int_equal(sn_atomic_open(&f, "/nonexistent-dir/x/y.txt"), -1);
    assert_int_equal(errno, ENOENT);
    sn_atomic_abort(&f); /* safe after a failed open */
    assert_int_equal(sn_read_file("/nonexistent-dir/x", &data, &size), -1);
}

static void test_mkdir_p(void **state)
{
    char path[256];
    (void)state;
    path_in_dir(path, sizeof path, "x/y/z");
    assert_int_equal(sn_mkdir_p(path), 0);
    assert_int_equal(sn_mkdir_p(path), 0); /* idempotent */
    assert_int_equal(access(path, W_OK), 0);
    rmdir(path);
    path_in_dir(path, sizeof path, "x/y");
    rmdir(path);
    path_in_dir(path, sizeof path, "x");
    rmdir(path);
}

static void test_remove_tree(void **state)
{
    char path[256], file[300];
    (void)state;
    path_in_dir(path, sizeof path, "tree/a/b");
    assert_int_equal(sn_mkdir_p(path), 0);
    snprintf(file, sizeof file, "%s/f.txt", path);
    assert_int_equal(sn_write_file_atomic(file, "x", 1), 0);
    path_in_dir(file, sizeof file, "tree/top.txt");
    assert_int_equal(sn_write_file_atomic(file, "y", 1), 0);
    path_in_dir(path, sizeof path, "tree");
    assert_int_equal(sn_remove_tree(path), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(sn_remove_tree(path), 0); /* already gone: fine */
}

static int cleanup(void)
{
    char path[256];
    path_in_dir(path, sizeof path, "a.txt");
    unlink(path);
    path_in_dir(path, sizeof path, "b.txt");
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_writes_whole_file),
        cmocka_unit_test(test_abort_keeps_earlier_file),
        cmocka_unit_test(test_open_fails_cleanly),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_remove_tree),
    };
    int failed;
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    failed = sn_test_run("atomic_file", tests);
    cleanup();
    return failed;
}
