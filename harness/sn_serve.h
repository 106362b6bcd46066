/* supernav harness: serving a query trace with SubNets and a resident SubGraph (SUSHI).
 *
 * The serving set is the model's Pareto SubNets (the kind=subnet rows of the accuracy
 * table embedded in the image), each planned once; with opt.arac (replay --arac) also the
 * table's ARAC configs no other row dominates, whose latency depends on the image: the
 * profile records every entry's p95 beside its p50, and the choice charges an ARAC config its
 * p50 times the spread of its p95/p50 beyond the SubNets' (sn_serve_lat_us). A SubGraph is the weight set of one
 * SubNet (its leading channel slices and kernel crops of the shared tensors); making it
 * resident moves those weights into the platform's near memory (on the CPU platform: resident
 * boxes of the weights packed once, never flushed from the caches, see platforms/cpu/sn_cpu.h;
 * on the OpenCL platform: a device buffer of that budget, see platforms/opencl/sn_opencl.h;
 * on the MCU platform: the board's SRAM weight cache, see platforms/mcu/host/sn_mcu_host.h),
 * as far as the budget holds. A query served by SubNet S while SubGraph G is resident reads
 * the weights G covers from near memory and moves the rest from far memory (CPU: reads them
 * cold from DRAM, flushed from the caches before each query; OpenCL: packs them from the
 * model image and writes them to the device for that call): S's latency depends on G, which
 * is what the scheduler exploits.
 *
 * Slices (SUSHI's SubGraph as the paper means it; harness/sn_slices.h): on a platform with
 * slice residency (the SUT's resident_slices: the FPGA model, the CPU, the MCU and OpenCL) a SubGraph is any set of
 * leading boxes of the shared tensors within the budget -- a SubNet's weight set is one such
 * set, and a policy may make others resident (sushi: the knapsack for its window's demand;
 * lru: what was used last). A leading slice serves its part of a wider layer, a switch moves
 * only the difference, and the latencies of a SubGraph that was never profiled are predicted
 * by a per-tensor cost model fitted to the profile (policy.json slice_cost_model says how
 * well it fits). On the other platforms SubGraphs are SubNets' weight sets, whole layers near
 * or far, and a switch reloads the whole set.
 *
 * Profile (sn_serve_profile): for every SubGraph G (and none) the p50 latency of every
 * SubNet S with G resident, the near/far weight bytes of one inference, and the time and
 * bytes of making G resident (the switching cost). Cached per platform, ISA (OpenCL: the
 * device), near budget and model (SHA-256) under build/profile/; a cache written by another
 * git revision of supernav is measured again, emulated (mcu) ones too: the firmware changes
 * with it (sn_serve_profile_load takes any).
 *
 * The SubNet choice (sn_serve_choose; every policy that chooses uses it):
 *   - a query with an accuracy floor is served at the floor's level. The level is the
 *     table top-1 of the SubNet R that the reference residency (static-subgraph's
 *     SubGraph) would serve it with: the fastest SubNet there whose top-1 meets the floor,
 *     predicted latencies within 5 % of the fastest counting as ties won by the most
 *     accurate (test top-1 along the front is not monotone, and 5 % is within the
 *     profile's noise). The query then gets the SubNet with the lowest predicted latency
 *     under the policy's own residency among those whose top-1 reaches that level; here
 *     only exact latency ties go to the most accurate (under the reference residency that
 *     is R itself). No SubNet meets the floor: the most accurate SubNet (the query misses
 *     its SLO; with a ceiling and --late fastest, the fastest). So a SubGraph changes
 *     how fast a floor is served, never how accurately below the reference: every choosing
 *     policy serves each floor query at least as accurately as static-subgraph would (the ties: tests/test_sushi_guards.c; the level on
 *     whole replays: tests/test_replay.sh) -- except a floor query with a ceiling that no
 *     SubNet at or above its floor can still meet: it is late whatever it gets and gets the
 *     fastest SubNet (enum sn_serve_late below; replay --late level: its level all the same);
 *   - a query with only a latency ceiling gets the most accurate SubNet whose predicted
 *     latency fits what is left of the ceiling after its queueing delay; none fits: the
 *     fastest;
 *   - a query with neither gets the most accurate SubNet.
 * A query meets its SLO when the served SubNet's table top-1 meets its floor and its
 * latency (end - scheduled arrival, queueing included) is within its ceiling.
 *
 * Policies (harness/sn_policy.h; one file each under harness/policies/, where each is
 * described): sushi, nocache, static-subgraph, static-subnet:CFG, largest, smallest,
 * oracle, static-hindsight, lru, slackfit. A policy chooses the SubNet and may change the resident SubGraph before a query;
 * a switch is paid by that query in time and far bytes, unless the policy asks for a free
 * one (oracle: outside the timed region).
 *
 * Replay (like MLPerf LoadGen): samples are loaded before the timed region; one server
 * serves queries in arrival order; latency counts from the scheduled arrival, so queueing
 * counts. Real time: the server waits (sleeps, then spins) for each arrival when idle;
 * --speed X compresses arrivals X times. Virtual time: no waiting; a virtual clock
 * advances by each query's measured service time (for long traces and simulated
 * platforms). Modelled (--modelled): virtual time whose service and switching times are the
 * profile's, so a run depends only on the trace, the profile and the policy (for policy
 * comparisons free of a shared machine's noise; labelled model). Closed traces
 * (single-stream) issue a query when the previous one ends (its arrival in the records is
 * that end). The null platform runs no inference: its runs measure the harness's own
 * overhead; with its option null_service_us (replay --null-service-us N) each inference
 * busy-waits N us, a known service time against which tests/test_replay_realtime.sh checks a
 * real-time replay's latencies, queueing and SLOs (open loop: the Lindley recursion of the
 * arrivals and N) and a closed loop's issue times, and -- against the SUT's own timing of
 * each wait (policy.json null_service) -- the harness's own time within each query. SUSHI's switching rule is tested guard by
 * guard in tests/test_sushi_guards.c (planted serving sets) and on whole replays in
 * tests/test_sushi_rule.sh.
 * Host-only. */
#ifndef SN_SERVE_H
#define SN_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "sn_config.h"
#include "sn_engine.h"
#include "sn_idx.h"
#include "sn_policy.h"
#include "sn_slices.h"
#include "sn_sut.h"
#include "sn_trace.h"

#define SN_SERVE_MAX_SUBNETS 48
/* sn_serve_options.arac_quantile: an ARAC config charged its spread beyond the SubNets' */
#define SN_ARAC_EXCESS 0
/* SubGraph indices: g < n the SubGraph of SubNet g (its weights, as far as the budget
 * holds), g == n none, n < g <= n + SN_SERVE_DYN slice SubGraphs a policy set at run time
 * (sn_serve_subgraph_set; platforms with slice residency only). */
#define SN_SERVE_DYN 4
#define SN_SERVE_MAX_SUBGRAPHS (SN_SERVE_MAX_SUBNETS + 1 + SN_SERVE_DYN)

typedef struct sn_serve_subnet {
    char config[SN_CONFIG_TEXT_MAX];
    double top1;                 /* table top-1, a fraction */
    int64_t macs;                /* an ARAC config's: the table's mean over the test split */
    int arac;                    /* an ARAC config: its latency depends on the image */
    sn_plan *plan;
    void *arena;
} sn_serve_subnet;

typedef struct sn_serve_options {
    const char *model_path;      /* default build/supernet.snm */
    const char *data_prefix;     /* default: the test split of the image's task,
                                    data/canvas/<task>-test (sn_canvas_test_prefix) */
    const char *platform;        /* a SUT of the registry (harness/sn_sut.h); NULL: "cpu" */
    sn_sut_options sut;          /* its options; sut.near_budget_bytes: the near memory holding
                                    a SubGraph (cpu, opencl: packed weights; fpga: the
                                    persistent SubGraph buffer, SIZE_MAX: the board's; mcu:
                                    the SRAM weight cache, SubNets whose arena does not fit
                                    the SRAM it leaves are not served) */
    int arac;                    /* 1: the table's ARAC configs that no other row dominates
                                    (table MACs no more and top-1 no less, one strictly) join
                                    the SubNets: "SubNet" below means either, and the choice
                                    predicts an ARAC config's latency by its quantile
                                    (arac_quantile) */
    int arac_controller;         /* 1: the level controller (replay: a query short of its ARAC
                                    config's p95 gets a MAC budget; sn_engine.h mac_budget) */
    int arac_quantile;           /* how PRED reads an ARAC config, whose latency depends on the
                                    image (the gate's tiles); SubNets' PRED stays the p50.
                                    SN_ARAC_EXCESS (0, the default): its p50 times its p95/p50
                                    beyond the SubNets' (sn_serve_lat_us); 50, 95: that
                                    quantile of the profile */
} sn_serve_options;

typedef struct sn_serve {
    sn_serve_options opt;
    void *image;
    size_t image_bytes;
    sn_model model;
    uint32_t n;                  /* SubNets, ascending MACs */
    sn_serve_subnet s[SN_SERVE_MAX_SUBNETS];
    sn_sut *sut;                 /* the platform */
    sn_sut_desc desc;            /* what it is */
    size_t near_budget_bytes;    /* the budget it has (desc.near_budget_bytes) */
    sn_idx images, labels;
    char images_path[1024];      /* the IDX file of the canvases (a board reads it itself) */
    char model_sha[65];
    /* the profile: index G == n is "no SubGraph" */
    int profiled;
    double lat_us[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    /* the p95 over the same inferences (distinct canvases; a profile without it: the p50) */
    double lat_p95_us[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    uint64_t near_bytes[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    uint64_t far_bytes[SN_SERVE_MAX_SUBNETS][SN_SERVE_MAX_SUBGRAPHS];
    double switch_us[SN_SERVE_MAX_SUBGRAPHS];     /* from none (the profile; slice SubGraphs:
                                                     predicted) */
    uint32_t g_ref_of[SN_SERVE_MAX_SUBNETS]; /* replay: the static-subgraph SubGraph, per SubNet */
    uint64_t switch_bytes[SN_SERVE_MAX_SUBGRAPHS];
    /* the SUT's re-plan before SubNet i when another was served last (the profile: the
     * largest sn_sut_result.plan_us seen; mcu, whose firmware holds one plan), us; 0 elsewhere */
    double replan_us[SN_SERVE_MAX_SUBNETS];
    uint32_t last_subnet;         /* the SubNet sn_serve_infer ran last (UINT32_MAX: none) */
    /* slice residency (SUTs with resident_slices): the serving set's tensors and boxes, the
     * cost model fitted to the profile, and every SubGraph as slices; NULL: SubGraphs are
     * SubNets' weight sets only */
    sn_slices *slices;
    sn_subgraph *sg;                         /* [SN_SERVE_MAX_SUBGRAPHS] */
    char dyn_name[SN_SERVE_DYN][48];
    uint32_t g_resident;                     /* what sn_serve_resident made resident last */
    int slices_exact;                        /* 1: a slice SubGraph's latencies are the platform
                                                model's own (SUT estimate), not predicted */
    /* the null platform simulating a profile whose platform keeps slices (its "slices":
     * precision and quantum): the same tensors and boxes, priced by the cost model fitted to
     * that profile; whatever is asked is placed (no SUT places it). 0: none */
    int32_t sim_slice_quantum;
    int sim_slice_precision;
    char profile_path[1024];     /* the file the profile came from or went to ("" if none) */
    int profile_poolable;        /* measured ("measured:") on weights packed once
                                    (near_packed_once): sn_serve_pool_near applies */
    uint32_t pooled_rows;        /* rows sn_serve_pool_near set to their placement's median */
    int choice;                  /* enum sn_serve_choice: the rule sn_serve_choose applies */
    int late;                    /* enum sn_serve_late: floor-level mode's certain-late queries */
} sn_serve;

/* The SubNet choice's mode (replay --choice): FLOOR_LEVEL the rule above; ACCURACY serves a
 * query with a latency ceiling, among the SubNets at or above its floor whose predicted
 * latency L fits what is left of its ceiling and leaves every query already waiting behind it
 * room to meet its own ceiling at its floor (sn_serve_queue_cap: a server knows its queue),
 * the one of highest expected effective accuracy for itself and the next query to come:
 *     top-1 - (1 - exp(-rate * L)) * P(ceiling < B + L + F) * A
 * -- the next arrival comes during the service with probability 1 - exp(-rate * L) (Poisson
 * at the recent rate), then waits for the queue's service B and this one before its own
 * fastest service F, and is late when its ceiling (drawn from the recent queries') is
 * shorter, losing A (the fastest SubNet's top-1: the least it would have had); ties to the
 * faster. None fits: a query that no SubNet at or above its floor can serve within what is
 * left of its ceiling misses its SLO whatever it gets, so it gets the fastest SubNet (the
 * queue behind loses the least); otherwise the floor-level rule. So saved latency becomes served accuracy
 * without starving the queries behind; each query greedy for its own ceiling instead pushes
 * them past theirs (measured: bench/sweep/fpga-serve.md). */
enum sn_serve_choice { SN_CHOICE_FLOOR_LEVEL = 0, SN_CHOICE_ACCURACY = 1 };

/* Floor-level mode's certain-late query (replay --late): one with a latency ceiling that no
 * SubNet at or above its floor can serve within what is left of it (the prediction of the
 * policy's residency, after its queueing delay; or whose floor no SubNet meets) misses its SLO
 * whatever it is served with. (One that some SubNet at or above its floor could still serve
 * in time, but not its level's, keeps its level: served no less accurately than
 * static-subgraph would, late as predicted.)
 * LATE_FASTEST (the default) serves it the fastest SubNet, as accuracy mode does, so the
 * queue behind it loses the least; LATE_LEVEL serves it at its floor's level all the same
 * (the rule before 2026-12-07: bursts then drain at the floors' speed). Accuracy mode
 * always serves such a query the fastest SubNet. */
enum sn_serve_late { SN_LATE_FASTEST = 0, SN_LATE_LEVEL = 1 };

/* Progress of a long replay, for the CLI to show (the harness prints nothing). */
typedef void (*sn_progress_fn)(void *user, size_t done, size_t total);

typedef struct sn_replay_options {
    const sn_policy_ops *policy; /* sn_serve_parse_policy fills these two */
    uint32_t policy_arg;         /* what the policy's parse kept (static-subnet: its index) */
    const char *trace_path;
    size_t limit;                /* 0: every query */
    double speed;                /* arrival compression, > 0 */
    int virtual_time;
    int modelled;                /* virtual time with service times from the profile (the
                                    p50 of the SubNet with the resident SubGraph) and
                                    switching times from the profile: a deterministic model
                                    of the queue, labelled so; inference still runs for the
                                    predictions and the bytes */
    uint32_t window, period;     /* sushi: W and Q */
    int choice;                  /* enum sn_serve_choice */
    int late;                    /* enum sn_serve_late */
    const char *out_dir;
    const char *policy_text;     /* as given, for the record */
    const char *counters;        /* event list; NULL: the default */
    sn_progress_fn progress;     /* NULL: none; else called every 1000 queries and at the end */
    void *progress_user;
} sn_replay_options;

/* Loads the model, plans its Pareto SubNets, loads the canvases and opens the platform
 * through the SUT registry. Returns 0, or -1 with one line in ERR. */
int sn_serve_open(sn_serve *sv, const sn_serve_options *opt, char *err, size_t err_bytes);
void sn_serve_close(sn_serve *sv);

/* Measures the profile (REPS timed inferences per pair), or loads it from CACHE_PATH when
 * that file matches (FORCE: always measure). Writes the cache atomically. Returns 0 or -1. */
int sn_serve_profile(sn_serve *sv, const char *cache_path, int force, int reps, char *err,
                     size_t err_bytes);

/* Loads the profile from PATH and never measures: a pinned profile, so that every machine
 * predicts the same latencies and the policies choose the same SubNets (the CI gate). The
 * file must be a profile of this platform, model (SHA-256) and serving set; otherwise -1
 * with one line in ERR. */
int sn_serve_profile_load(sn_serve *sv, const char *path, char *err, size_t err_bytes);

/* A measured profile (latency_source "measured:") times each SubNet once per SubGraph; on a
 * platform that packs every weight once (near_packed_once: the cpu), where several SubGraphs
 * hold all of a SubNet's weights near (far bytes 0), those rows measure the same bytes in the
 * same place again and differ only by the machine's noise (0.90-1.16x on a loaded 2-core VM),
 * which would let a policy win by a SubGraph whose rows happen to be low. Each such set of
 * rows (p50 and p95 apart) becomes its median; the profile file keeps the rows as measured.
 * Called after every load or measurement; modelled and emulated profiles (exact), opencl's
 * (each SubGraph packs its own near copy) and ARAC configs' rows (their far bytes are one
 * canvas's) are left alone. Sets pooled_rows. */
void sn_serve_pool_near(sn_serve *sv);

/* The default cache path for this serving set:
 * build/profile/v2-<platform>-<variant>-<budget>-<sha>.json */
void sn_serve_profile_path(const sn_serve *sv, char *buf, size_t buf_bytes);

/* Parses "sushi", "static-subnet:CFG", ... (the registry of harness/sn_policy.h) into OPT
 * (policy, policy_arg). Returns 0, or -1 with one line in ERR. */
int sn_serve_parse_policy(const sn_serve *sv, const char *text, sn_replay_options *opt, char *err,
                          size_t err_bytes);

/* Whether a SubNet of table top-1 TOP1 (a fraction) meets the accuracy floor FLOOR (NaN:
 * none). Floors are stored as floats (24-bit mantissa: up to ~6e-8 off near 0.9), the table
 * in two decimals of a percentage (1e-4 apart), so a floor equal to a SubNet's own top-1 must
 * count as met: the comparison allows SN_FLOOR_EPS, far below the table's resolution. */
#define SN_FLOOR_EPS 1e-6
static inline int sn_meets_floor(double top1, float floor)
{
    return floor != floor || top1 + SN_FLOOR_EPS >= (double)floor;
}

/* What a server knows around the query it chooses for (accuracy mode's look-ahead): the
 * queries already waiting behind it, and the recent past -- the arrival rate and the
 * ceilings of the last queries -- from which it expects the next arrival. */
#define SN_SERVE_LOOKAHEAD 64    /* queued queries looked at (64 even of the fastest SubNet
                                    outlast every ceiling of the standard traces) */
#define SN_SERVE_RECENT 64       /* past queries the rate and the ceilings come from */
typedef struct sn_queued {
    float floor;                 /* NaN: none */
    double due_us;               /* the end of its ceiling, us after the chosen-for query's
                                    start (arrival + ceiling - start); INFINITY: no ceiling */
} sn_queued;
typedef struct sn_lookahead {
    uint32_t n_queued;
    sn_queued queued[SN_SERVE_LOOKAHEAD];  /* in arrival order */
    double rate_per_us;          /* arrivals per us over the recent past; 0: unknown */
    uint32_t n_ceilings;
    double ceilings_us[SN_SERVE_RECENT];   /* the recent queries' ceilings, ascending */
} sn_lookahead;

/* What policies share (harness/policies/). The SubNet choice rule above: PRED(i) =
 * lat_us[i][g_of[i]] (an ARAC config: lat_p95_us[i][g_of[i]] unless opt.arac_quantile is 50),
 * plus replan_us[i] when i is not the SubNet served last (a platform that
 * holds one plan pays a re-plan to change SubNet: the choice charges it); FLOOR NaN: none; CEILING_US <= 0: none; WAITED_US the queueing delay
 * already spent; LA what the server knows around it (accuracy mode only; NULL: nothing). */
uint32_t sn_serve_choose(const sn_serve *sv, const uint32_t *g_of, float floor, int64_t ceiling_us,
                         double waited_us, const sn_lookahead *la);
/* Accuracy mode's look-ahead over LA's queue: the longest predicted service a query can take
 * so that each queued query (served after it in order, each by its fastest SubNet meeting its
 * floor, PRED as above) still meets its ceiling; queued queries that miss it even after a
 * zero-time service do not bound it. INFINITY: no bound. *BEHIND_US: the queue's service. */
double sn_serve_queue_cap(const sn_serve *sv, const uint32_t *g_of, const sn_lookahead *la,
                          double *behind_us);
/* Fills LA for query Q of TR (replayed SPEED times faster, the first COUNT queries) starting
 * at START_US (us since the origin): the queries after Q that an open trace has delivered by
 * then (none for a closed trace: it issues a query when the previous one ends), and Q's
 * SN_SERVE_RECENT predecessors' arrival rate (Q's own arrival included) and ceilings. */
void sn_serve_lookahead_from_trace(const sn_trace *tr, size_t q, size_t count, double speed,
                                   double start_us, sn_lookahead *la);
/* Appends to LA's queue a query arrived at ARRIVAL_US (FLOOR, CEILING_US <= 0: none) if it
 * has arrived by START_US, the chosen-for query's start, and the queue has room; returns 1
 * if appended, 0 if not (the builders stop there: queries come in arrival order). */
int sn_serve_lookahead_queue(sn_lookahead *la, double arrival_us, float floor, int64_t ceiling_us,
                             double start_us);
/* The recent-past half of LA from N past queries (arrival order, the last being the query
 * chosen for; at most SN_SERVE_RECENT used, the latest): their arrivals and ceilings (<= 0:
 * none). */
void sn_serve_lookahead_recent(sn_lookahead *la, const double *arrival_us, const int64_t *ceiling_us,
                               uint32_t n);
/* The latency the choice predicts for entry I under SubGraph G: the profile's p50 for a SubNet.
 * For an ARAC config by opt.arac_quantile: 50 or 95 that quantile; SN_ARAC_EXCESS (the
 * default) its p50 times max(1, r_i / r_ref), r_i its p95/p50 and r_ref the median p95/p50 of
 * the SubNets (not ARAC) profiled under G (1 if none): a SubNet is charged its p50, noise of
 * the machine and all, so an ARAC config is charged only the spread its image dependence adds
 * beyond theirs (charging it its whole p95 excluded every config on a machine where SubNets
 * and ARAC configs vary alike: bench/serve/README.md). */
double sn_serve_lat_us(const sn_serve *sv, uint32_t i, uint32_t g);
/* r_ref above: the median p95/p50 of the SubNets (not ARAC configs) profiled under G. */
double sn_serve_subnet_spread(const sn_serve *sv, uint32_t g);
/* The choice for query Q with SubGraph G resident for every SubNet (G == n: none). */
uint32_t sn_serve_choose_under(const sn_serve *sv, uint32_t g, const sn_policy_query *q);
uint32_t sn_serve_most_accurate(const sn_serve *sv);
uint32_t sn_serve_least_accurate(const sn_serve *sv);
/* The SubGraph with the lowest mean predicted latency over every SubNet (static-subgraph's,
 * and the floors' reference residency). */
uint32_t sn_serve_best_static_subgraph(const sn_serve *sv);

/* The serving set on its SUT: 1 when the platform computes (not the null SUT); make
 * SubGraph G resident (G == n: none; CHARGE: a switch a query pays, in the platform's own
 * account); one inference of SubNet S on canvas SAMPLE. Return 0, or -1 with one line in ERR. */
int sn_serve_computes(const sn_serve *sv);
int sn_serve_resident(sn_serve *sv, uint32_t g, int charge, sn_sut_moved *moved, char *err,
                      size_t err_bytes);
int sn_serve_infer(sn_serve *sv, uint32_t s, uint32_t sample, sn_sut_result *result, char *err,
                   size_t err_bytes);
/* Slice SubGraphs (sv->slices != NULL): sets slot SLOT (0..SN_SERVE_DYN-1) to R, named
 * NAME in the records, with its latencies and bytes per SubNet -- predicted by the cost model,
 * or with EXACT on a platform that is a deterministic model (sv->slices_exact), its own
 * (31 estimates: for a scheduler's decisions, not per query); returns its index. */
uint32_t sn_serve_subgraph_set(sn_serve *sv, uint32_t slot, const sn_subgraph *r, const char *name, int exact);
/* The knapsack SubGraph (sn_slices_knapsack) for MIX (a weight per SubNet: how often it is
 * served), set in slice slot SLOT as NAME with exact pricing (sn_serve_subgraph_set); returns
 * its index, or FALLBACK when out of memory. */
uint32_t sn_serve_subgraph_knapsack(sn_serve *sv, const double *mix, uint32_t slot, const char *name,
                                    uint32_t fallback);
/* 1 when a policy may set slice SubGraphs and trust their predicted latencies: SV has slices,
 * and a platform model prices them itself (sv->slices_exact) or the slice cost model explains
 * at least SN_SERVE_SLICES_MIN_FIT_R2 of the profile's variance (one that does not would make
 * a policy bet on its errors: on the CI gate's pinned CPU profile the fit's R^2 is 0.58). */
#define SN_SERVE_SLICES_MIN_FIT_R2 0.8
int sn_serve_slices_priced(const sn_serve *sv);
/* The predicted time and bytes of switching from SubGraph FROM to TO: with slices only the
 * difference moves (cost model); otherwise the profile's switch to TO. */
double sn_serve_switch_us(const sn_serve *sv, uint32_t from, uint32_t to);
uint64_t sn_serve_switch_bytes(const sn_serve *sv, uint32_t from, uint32_t to);
/* SubGraph G's name in the records ("" none). */
const char *sn_serve_subgraph_name(const sn_serve *sv, uint32_t g);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t sn_serve_now_ns(void);
/* printf into ERR (one line, no newline); returns -1. The serving code's error return. */
int sn_serve_fail(char *err, size_t err_bytes, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Replays a trace under a policy and writes the run directory (harness/sn_replay.c).
 * Returns 0 or -1. */
int sn_serve_replay(sn_serve *sv, const sn_replay_options *opt, char *err, size_t err_bytes);

#endif
