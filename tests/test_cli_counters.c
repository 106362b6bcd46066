/* `supernav counters` end to end: the JSON lists every default event, available with a
 * value or unavailable with a reason; the table names each event; a malformed list is one
 * error line and exit status 1. Runs the binary named by $SUPERNAV (the Makefile sets it). */
#include "sn_test.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "sn_counters.h"
#include "sn_file.h"

static char dir[] = "/tmp/sn_test_cli_counters_XXXXXX";
static const char *supernav;

/* Runs "supernav counters ARGS"; stdout in *OUT (malloc'ed), returns the exit status. */
static int run_counters(const char *args, char **out, char **err)
{
    char cmd[2048], out_path[512], err_path[512];
    size_t size;
    int status;
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    snprintf(cmd, sizeof cmd, "%s counters %s >%s 2>%s", supernav, args, out_path, err_path);
    status = system(cmd);
    assert_true(status != -1 && WIFEXITED(status));
    assert_int_equal(sn_read_file(out_path, (void **)out, &size), 0);
    assert_int_equal(sn_read_file(err_path, (void **)err, &size), 0);
    return WEXITSTATUS(status);
}

static void test_json(void **state)
{
    char *out, *err;
    cJSON *root;
    const cJSON *events, *e;
    int seen_task_clock = 0, n = 0, opened = 0;
    (void)state;
    assert_int_equal(run_counters("--json --iterations 200000", &out, &err), 0);
    assert_string_equal(err, "");
    root = cJSON_Parse(out);
    assert_non_null(root);
    events = cJSON_GetObjectItemCaseSensitive(root, "events");
    assert_true(cJSON_IsArray(events));
    cJSON_ArrayForEach(e, events) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *available = cJSON_GetObjectItemCaseSensitive(e, "available");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");
        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(e, "reason");
        assert_true(cJSON_IsString(name) && cJSON_IsBool(available));
        ++n;
        if (cJSON_IsTrue(available)) {
            assert_true(cJSON_IsNull(reason));
            assert_true(cJSON_IsNumber(value)); /* every event that opened is read */
            ++opened;
        } else { /* never a silent 0 */
            assert_true(cJSON_IsNull(value));
            assert_true(cJSON_IsString(reason) && strlen(reason->valuestring) > 0);
        }
        if (!strcmp(name->valuestring, "perf:task-clock")) {
            seen_task_clock = 1; /* test_counters checks that it is available here */
            if (cJSON_IsTrue(available))
                assert_true(cJSON_IsNumber(value) && value->valuedouble > 0);
        }
    }
    assert_int_equal(n, 8);
    assert_true(seen_task_clock);
    /* what this machine let the command read (the rest is unavailable with a reason) */
    print_message("# %d of the 8 default events opened and were read here\n", opened);
    e = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "energy"),
                                         "source");
    assert_true(cJSON_IsString(e));
    assert_true(!strncmp(e->valuestring, "measured:", 9) || !strncmp(e->valuestring, "model:", 6));
    cJSON_Delete(root);
    free(out);
    free(err);
}

static void test_table(void **state)
{
    char *out, *err, list[] = SN_COUNTERS_DEFAULT_LIST, *name, *save = NULL;
    (void)state;
    assert_int_equal(run_counters("--iterations 1000", &out, &err), 0);
    for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
        assert_non_null(strstr(out, name));
    assert_non_null(strstr(out, "energy: "));
    free(out);
    free(err);
}

static void test_bad_list(void **state)
{
    char *out, *err;
    (void)state;
    assert_int_equal(run_counters("--events 'perf:task-clock,,perf:cpu-clock'", &out, &err), 1);
    assert_string_equal(out, "");
    assert_true(!strncmp(err, "supernav counters: error: ", 26));
    assert_non_null(strstr(err, "empty event name"));
    assert_true(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
    free(out);
    free(err);
    assert_int_equal(run_counters("--iterations x", &out, &err), 2);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_bad_list),
    };
    int failed;
    supernav = getenv("SUPERNAV");
    if (!supernav)
        return sn_test_skip_all("SUPERNAV is not set (run through make test)");
    if (!mkdtemp(dir))
        return sn_test_skip_all("cannot create a temporary directory");
    failed = sn_test_run("cli_counters", tests);
    sn_remove_tree(dir);
    return failed;
}
