/* Counters: every event is available with a value or unavailable with a reason, never a
 * silent 0; perf software events count real work; malformed lists are refused; the
 * unprivileged path (perf_event_paranoid) degrades to user space or "unavailable". */
#define _DEFAULT_SOURCE /* syscall(), MAP_ANONYMOUS */
#include "sn_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include "sn_counters.h"

static volatile uint64_t sink;

static void busy(unsigned iterations)
{
    uint64_t x = 88172645463325252u;
    unsigned i;
    for (i = 0; i < iterations; ++i) { /* xorshift64: nothing to optimise away */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    sink = x;
}

static const sn_counter_info *find(const sn_counters *set, const char *name, size_t *index)
{
    size_t i;
    for (i = 0; i < sn_counters_count(set); ++i)
        if (!strcmp(sn_counters_info(set, i)->name, name)) {
            if (index)
                *index = i;
            return sn_counters_info(set, i);
        }
    return NULL;
}

/* available <=> no reason; unavailable => a non-empty reason and an invalid reading */
static void check_contract(const sn_counters *set, const sn_counter_value *values)
{
    size_t i;
    for (i = 0; i < sn_counters_count(set); ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        assert_non_null(info->unit);
        if (info->available) {
            assert_string_equal(info->reason, "");
        } else {
            assert_true(strlen(info->reason) > 0);
            if (values) {
                assert_false(values[i].valid);
                assert_true(values[i].value == 0);
            }
        }
    }
}

static void test_default_list(void **state)
{
    static const char *expected[] = {"PAPI_TOT_INS", "PAPI_TOT_CYC", "PAPI_L1_DCM",
                                     "pfm:cycles", "pfm:instructions", "perf:task-clock",
                                     "perf:page-faults", "perf:context-switches"};
    sn_counter_value values[SN_COUNTERS_MAX];
    sn_counters *set;
    char err[256];
    size_t i;
    (void)state;
    assert_int_equal(sn_counters_open(NULL, &set, err, sizeof err), SN_COUNTERS_OK);
    assert_int_equal(sn_counters_count(set), 8);
    for (i = 0; i < 8; ++i)
        assert_string_equal(sn_counters_info(set, i)->name, expected[i]);
    check_contract(set, NULL);
    /* before the first start every reading is invalid */
    assert_int_equal(sn_counters_read(set, values), SN_COUNTERS_OK);
    for (i = 0; i < 8; ++i)
        assert_false(values[i].valid);
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    busy(1000000);
    assert_int_equal(sn_counters_stop(set, values), SN_COUNTERS_OK);
    check_contract(set, values);
    for (i = 0; i < 8; ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        if (info->available && info->source == SN_COUNTER_SOURCE_PERF)
            assert_true(values[i].valid);
        if (values[i].valid)
            assert_true(values[i].value >= 0);
    }
    assert_int_equal(sn_counters_info(set, 0)->source, SN_COUNTER_SOURCE_PAPI);
    assert_int_equal(sn_counters_info(set, 3)->source, SN_COUNTER_SOURCE_PFM);
    assert_int_equal(sn_counters_info(set, 5)->source, SN_COUNTER_SOURCE_PERF);
    assert_string_equal(sn_counters_info(set, 5)->unit, "ns");
    assert_string_equal(sn_counters_info(set, 6)->unit, "count");
    sn_counters_close(set);
}

static void test_task_clock_increases(void **state)
{
    sn_counter_value first[1], second[1], stopped[1], again[1];
    sn_counters *set;
    (void)state;
    assert_int_equal(sn_counters_open("perf:task-clock", &set, NULL, 0), SN_COUNTERS_OK);
    assert_true(sn_counters_info(set, 0)->available);
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    busy(2000000);
    assert_int_equal(sn_counters_read(set, first), SN_COUNTERS_OK); /* while running */
    busy(2000000);
    assert_int_equal(sn_counters_read(set, second), SN_COUNTERS_OK);
    assert_int_equal(sn_counters_stop(set, stopped), SN_COUNTERS_OK);
    assert_true(first[0].valid && second[0].valid && stopped[0].valid);
    assert_true(first[0].value > 0);
    assert_true(second[0].value > first[0].value);
    assert_true(stopped[0].value >= second[0].value);
    /* after stop, read returns the stopped value */
    assert_int_equal(sn_counters_read(set, again), SN_COUNTERS_OK);
    assert_true(again[0].valid && again[0].value == stopped[0].value);
    /* a new start counts from zero */
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    assert_int_equal(sn_counters_stop(set, again), SN_COUNTERS_OK);
    assert_true(again[0].valid && again[0].value < stopped[0].value);
    sn_counters_close(set);
}

static void test_page_faults_count_fresh_memory(void **state)
{
    const size_t bytes = 4u << 20;
    sn_counter_value values[1];
    sn_counters *set;
    unsigned char *p;
    size_t i;
    (void)state;
    assert_int_equal(sn_counters_open("perf:page-faults", &set, NULL, 0), SN_COUNTERS_OK);
    assert_true(sn_counters_info(set, 0)->available);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    for (i = 0; i < bytes; i += 4096)
        p[i] = 1;
    assert_int_equal(sn_counters_stop(set, values), SN_COUNTERS_OK);
    munmap(p, bytes);
    assert_true(values[0].valid && values[0].value > 0);
    sn_counters_close(set);
}

static void test_unknown_events_are_unavailable(void **state)
{
    sn_counter_value values[5];
    sn_counters *set;
    size_t i;
    (void)state;
    assert_int_equal(sn_counters_open(" perf:no-such-event ,pfm:no_such_event_x,"
                                      "PAPI_NO_SUCH_EVENT, nosuchpmu::EVENT ,perf:task-clock",
                                      &set, NULL, 0),
                     SN_COUNTERS_OK);
    assert_int_equal(sn_counters_count(set), 5);
    assert_non_null(find(set, "perf:no-such-event", NULL)); /* spaces trimmed */
    assert_non_null(find(set, "nosuchpmu::EVENT", NULL));
    for (i = 0; i < 4; ++i)
        assert_false(sn_counters_info(set, i)->available);
    assert_non_null(strstr(sn_counters_info(set, 0)->reason, "unknown perf software event"));
    assert_non_null(strstr(sn_counters_info(set, 1)->reason, "libpfm4"));
    assert_non_null(strstr(sn_counters_info(set, 2)->reason, "PAPI"));
    assert_int_equal(sn_counters_info(set, 3)->source, SN_COUNTER_SOURCE_PAPI);
    assert_true(sn_counters_info(set, 4)->available);
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    busy(100000);
    assert_int_equal(sn_counters_stop(set, values), SN_COUNTERS_OK);
    check_contract(set, values);
    assert_true(values[4].valid);
    sn_counters_close(set);
}

static void test_sources_by_prefix(void **state)
{
    sn_counters *set;
    (void)state;
    assert_int_equal(sn_counters_open("perf::TASK-CLOCK,perf:cpu-clock,pfm:perf::CPU-CLOCK",
                                      &set, NULL, 0),
                     SN_COUNTERS_OK);
    assert_int_equal(sn_counters_info(set, 0)->source, SN_COUNTER_SOURCE_PAPI);
    assert_int_equal(sn_counters_info(set, 1)->source, SN_COUNTER_SOURCE_PERF);
    assert_int_equal(sn_counters_info(set, 2)->source, SN_COUNTER_SOURCE_PFM);
    assert_string_equal(sn_counters_info(set, 0)->unit, "ns");
    assert_string_equal(sn_counters_info(set, 1)->unit, "ns");
    /* libpfm4 encodes its perf software events; they open wherever perf:cpu-clock does */
    assert_int_equal(sn_counters_info(set, 2)->available, sn_counters_info(set, 1)->available);
    assert_string_equal(sn_counters_info(set, 2)->unit, "ns");
    check_contract(set, NULL);
    sn_counters_close(set);
}

/* Every source's reading path, through the software clocks each can open without a PMU:
 * PAPI's perf_event component (perf::TASK-CLOCK) and libpfm4's encoding of it
 * (pfm:perf::TASK-CLOCK) count real work in ns, like the direct perf:task-clock. Where one
 * is unavailable (PAPI without its perf_event component) the output says which reading
 * path went untested, and why. Hardware events are read the same way; whether any opened
 * here is printed too. */
static void test_reading_paths_with_software_clocks(void **state)
{
    static const char *const list = "perf::TASK-CLOCK,pfm:perf::TASK-CLOCK,perf:task-clock";
    sn_counter_value values[3];
    sn_counters *set, *hw;
    size_t i, read = 0;
    (void)state;
    assert_int_equal(sn_counters_open(list, &set, NULL, 0), SN_COUNTERS_OK);
    assert_int_equal(sn_counters_start(set), SN_COUNTERS_OK);
    busy(3000000);
    assert_int_equal(sn_counters_stop(set, values), SN_COUNTERS_OK);
    check_contract(set, values);
    for (i = 0; i < 3; ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        assert_string_equal(info->unit, "ns");
        if (!info->available) {
            print_message("# %s reading path untested here: %s unavailable (%s)\n",
                          sn_counter_source_str(info->source), info->name, info->reason);
            continue;
        }
        assert_true(values[i].valid);
        assert_true(values[i].value > 0);
        ++read;
    }
    /* the direct perf path opens wherever this binary runs (main skips otherwise) */
    assert_true(sn_counters_info(set, 2)->available);
    print_message("# %zu of 3 reading paths (papi, pfm, perf) exercised with a software clock\n", read);
    sn_counters_close(set);
    assert_int_equal(sn_counters_open("PAPI_TOT_INS,pfm:instructions", &hw, NULL, 0), SN_COUNTERS_OK);
    if (!sn_counters_info(hw, 0)->available && !sn_counters_info(hw, 1)->available)
        print_message("# no hardware event opens here (PAPI_TOT_INS: %s): hardware readings are "
                      "untested on this machine\n", sn_counters_info(hw, 0)->reason);
    sn_counters_close(hw);
}

/* The unit follows from the name, not from whether the event opened: a clock PAPI or
 * libpfm4 cannot open (an unknown modifier here; on some machines PAPI does not know
 * perf::TASK-CLOCK at all) is still in nanoseconds, an unknown event is a count. */
static void test_unit_from_name_when_unavailable(void **state)
{
    sn_counters *set;
    (void)state;
    assert_int_equal(sn_counters_open("perf::TASK-CLOCK:no_such_modifier,"
                                      "pfm:perf::CPU-CLOCK:no_such_modifier,"
                                      "perf::cpu-clock:zz,perf:no-such-event,PAPI_NO_SUCH",
                                      &set, NULL, 0),
                     SN_COUNTERS_OK);
    assert_false(sn_counters_info(set, 0)->available);
    assert_false(sn_counters_info(set, 1)->available);
    assert_false(sn_counters_info(set, 2)->available);
    assert_string_equal(sn_counters_info(set, 0)->unit, "ns");
    assert_string_equal(sn_counters_info(set, 1)->unit, "ns");
    assert_string_equal(sn_counters_info(set, 2)->unit, "ns");
    assert_string_equal(sn_counters_info(set, 3)->unit, "count");
    assert_string_equal(sn_counters_info(set, 4)->unit, "count");
    check_contract(set, NULL);
    sn_counters_close(set);
}

static void test_malformed_lists(void **state)
{
    static const char *bad[] = {"", " ", "perf:task-clock,", ",perf:task-clock",
                                "perf:task-clock,,perf:cpu-clock",
                                "perf:task-clock, perf:task-clock"};
    char err[256], longname[300], many[40 * 20];
    sn_counters *set = (sn_counters *)&err; /* must be reset to NULL */
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        err[0] = '\0';
        assert_int_equal(sn_counters_open(bad[i], &set, err, sizeof err), SN_COUNTERS_BAD_LIST);
        assert_null(set);
        assert_true(strlen(err) > 0);
    }
    assert_non_null(strstr(err, "listed twice"));
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(sn_counters_open(longname, &set, err, sizeof err), SN_COUNTERS_BAD_LIST);
    assert_non_null(strstr(err, "longer than"));
    many[0] = '\0';
    for (i = 0; i <= SN_COUNTERS_MAX; ++i) {
        char one[24];
        snprintf(one, sizeof one, "%sperf:x%zu", i ? "," : "", i);
        strcat(many, one);
    }
    assert_int_equal(sn_counters_open(many, &set, err, sizeof err), SN_COUNTERS_BAD_LIST);
    assert_non_null(strstr(err, "more than"));
    assert_string_equal(sn_counters_status_str(SN_COUNTERS_BAD_LIST), "malformed event list");
    assert_string_equal(sn_counter_source_str(SN_COUNTER_SOURCE_PFM), "pfm");
}

/* The checks an unprivileged process must pass: it never crashes, every event is counted
 * or says why not, and at paranoid >= 2 kernel-only events name the setting. Returns 0 on
 * success, the number of the failed check otherwise. */
static int unprivileged_checks(void)
{
    sn_counter_value values[4];
    sn_counters *set;
    int paranoid = -1;
    size_t i;
    (void)sn_counters_perf_event_paranoid(&paranoid);
    if (sn_counters_open("perf:task-clock,perf:context-switches,pfm:cycles,PAPI_TOT_INS", &set,
                         NULL, 0) != SN_COUNTERS_OK)
        return 1;
    if (sn_counters_start(set) != SN_COUNTERS_OK)
        return 2;
    busy(100000);
    if (sn_counters_stop(set, values) != SN_COUNTERS_OK)
        return 3;
    for (i = 0; i < 4; ++i) {
        const sn_counter_info *info = sn_counters_info(set, i);
        if (info->available == (info->reason[0] != '\0'))
            return 4;
        if (!info->available && values[i].valid)
            return 5;
    }
    if (paranoid >= 2 && !sn_counters_info(set, 1)->available &&
        !strstr(sn_counters_info(set, 1)->reason, "perf_event_paranoid"))
        return 6;
    if (paranoid == 2 && (!sn_counters_info(set, 0)->available ||
                          !strstr(sn_counters_info(set, 0)->note, "user space only")))
        return 7;
    sn_counters_close(set);
    return 0;
}

static void test_unprivileged(void **state)
{
    pid_t pid;
    int status;
    (void)state;
    if (geteuid() != 0) { /* already unprivileged */
        assert_int_equal(unprivileged_checks(), 0);
        return;
    }
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* as nobody; _exit: no sanitizer leak pass in a setuid child */
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(100);
        _exit(unprivileged_checks());
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* perf_event_open of a user-space task clock: refused only where perf events are off. */
static int perf_events_forbidden(int *err)
{
    struct perf_event_attr attr;
    long fd;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL);
    if (fd >= 0) {
        close((int)fd);
        return 0;
    }
    *err = errno;
    return 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_list),
        cmocka_unit_test(test_task_clock_increases),
        cmocka_unit_test(test_page_faults_count_fresh_memory),
        cmocka_unit_test(test_unknown_events_are_unavailable),
        cmocka_unit_test(test_sources_by_prefix),
        cmocka_unit_test(test_unit_from_name_when_unavailable),
        cmocka_unit_test(test_reading_paths_with_software_clocks),
        cmocka_unit_test(test_malformed_lists),
        cmocka_unit_test(test_unprivileged),
    };
    int err = 0, paranoid = -1;
    if (perf_events_forbidden(&err)) {
        char reason[160];
        (void)sn_counters_perf_event_paranoid(&paranoid);
        snprintf(reason, sizeof reason, "perf_event_open is forbidden here (%s, "
                 "perf_event_paranoid=%d)", strerror(err), paranoid);
        return sn_test_skip_all(reason);
    }
    return sn_test_run("counters", tests);
}
