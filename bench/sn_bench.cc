// The C++ side of sn_bench.h: adapts C benchmark cases to Google Benchmark.
#include "sn_bench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

extern "C" int sn_bench_register(const sn_bench_case *c)
{
    if (!c || !c->name || !c->run)
        return -1;
    sn_bench_case copy = *c;
    auto *b = benchmark::RegisterBenchmark(std::string(c->name).c_str(),
                                           [copy](benchmark::State &state) {
        if (copy.setup && copy.setup(copy.context) != 0) {
            state.SkipWithError("setup failed");
            return;
        }
        for (auto _ : state) {
            double seconds = copy.run(copy.context);
            if (copy.manual_time)
                state.SetIterationTime(seconds);
        }
        if (copy.items_per_iteration > 0)
            state.SetItemsProcessed(state.iterations() * copy.items_per_iteration);
        if (copy.bytes_per_iteration > 0)
            state.SetBytesProcessed(state.iterations() * copy.bytes_per_iteration);
        if (copy.teardown)
            copy.teardown(copy.context);
    });
    if (copy.manual_time)
        b->UseManualTime();
    return 0;
}

extern "C" int sn_bench_main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
