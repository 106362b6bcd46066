# bench/arac/ — included by the top-level Makefile.
#
#   make bench-arac    the NeuLens experiment: ARAC configs (gate) vs the untiled Pareto SubNets
#                      vs the ARAC base SubNets on uniformly downsampled inputs; top-1 on the
#                      MODEL's test split (MODEL=cf64|cf128s, the Makefile's) and measured CPU
#                      latency (p50 of the same run), one Pareto plot, the latency reduction at
#                      equal accuracy and the accuracy gain at equal latency beside NeuLens's
#                      claims; writes results/arac/arac-<UTC>/ (arac-<model>-<UTC>/ for a model
#                      other than cf64; see bench/arac/README.md). Installs what is missing
#                      (ci/packages-arac.txt).
#     ARAC_LIMIT       canvases per point (default empty: the whole 10,000-canvas test split)
#     ARAC_WARMUP      untimed inferences before each point (default 10)
#     ARAC_PLATFORM    supernav eval platform: cpu (default) or reference

ARAC_LIMIT ?=
ARAC_WARMUP ?= 10
ARAC_PLATFORM ?= cpu

.PHONY: bench-arac
bench-arac: deps
	@$(MAKE) --no-print-directory -q $(SUPERNAV) $(MODEL_IMAGE) || \
	  $(MAKE) --no-print-directory $(SUPERNAV) $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) $(MODEL_ENV) ARAC_PLATFORM=$(ARAC_PLATFORM) \
	  ARAC_LIMIT=$(ARAC_LIMIT) ARAC_WARMUP=$(ARAC_WARMUP) ARAC_BUILD=$(BUILD)/arac RESULTS=$(RESULTS) \
	  sh bench/arac/run.sh

# make bench-arac-threads: every ARAC config with 1 thread and with THREADS (default: the
# core count) threads, interleaved in one command; speedups (bench/arac/threads.sh).
.PHONY: bench-arac-threads
bench-arac-threads: $(SUPERNAV) $(MODEL_IMAGE)
	@SUPERNAV=$(SUPERNAV) RESULTS=$(RESULTS) $(MODEL_ENV) sh bench/arac/threads.sh
