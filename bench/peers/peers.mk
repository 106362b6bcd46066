# bench/peers/ — included by the top-level Makefile.
#
#   make bench-peers   batch-1, single-thread latency of every Pareto SubNet on supernav vs
#                      ONNX Runtime 1.30 (onnxruntime-node) vs PyTorch 1.13 (Debian), same fp32
#                      model, and supernav int8 vs ONNX Runtime int8 (the SubNets as QDQ ONNX
#                      with supernav's own scales), in one run; writes results/peers/peers-<UTC>/ (see
#                      bench/peers/README.md). Installs what is missing (ci/packages-peers.txt,
#                      npm ci of bench/peers/package-lock.json into build/peers/).
#     PEERS_PLATFORM   supernav platform (default cpu; reference is measured instead, and the
#                      report says so, while the build has no such platform)
#     PEERS_K          timed runs per SubNet and runtime (default 300)
#     PEERS_WARMUP     warm-up runs before them (default 30)
#     PEERS_ROUNDS     rounds of supernav then ONNX Runtime, median per SubNet (default 5)
#     PEERS_INT8       1 (default): the int8 columns; 0: fp32 only (a shorter run)
#     PEERS_INT8_WEIGHTS auto (default): the QDQ models' weights int8 on x86 with VNNI, else uint8
#                      (ONNX Runtime's int8-weight kernels saturate without VNNI); int8 | uint8
#     PEERS_ORT_TIMING binding (default): ONNX Runtime's wall time minus the binding overhead;
#                      profiler: ORT's model_run profiler events
#   make peak-fma      the measured single-core fp32 FMA peak alone
#   make peers-ort     ONNX Runtime alone (npm ci into build/peers/), and Debian's python3-onnx
#                      and python3-numpy: what tests/test_int8_ort.sh needs (no PyTorch)

PEERS_PLATFORM ?= cpu
PEERS_K ?= 300
PEERS_WARMUP ?= 30
PEERS_ROUNDS ?= 5
PEERS_ORT_TIMING ?= binding
PEERS_INT8 ?= 1
PEERS_INT8_WEIGHTS ?= auto
PEAK_FMA := $(BUILD)/bench/peak_fma

$(PEAK_FMA): $(BUILD)/obj/bench/peak_fma.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) $^ -o $@

.PHONY: bench-peers peak-fma peers-ort
peak-fma: $(PEAK_FMA)
	@$(PEAK_FMA)

peers-ort:
	@sh ci/deps.sh ci/packages-ort.txt
	@sh bench/peers/install_ort.sh build/peers

bench-peers: deps
	@$(MAKE) --no-print-directory -q $(SUPERNAV) $(MODEL_IMAGE) $(PEAK_FMA) || \
	  $(MAKE) --no-print-directory $(SUPERNAV) $(MODEL_IMAGE) $(PEAK_FMA)
	@SUPERNAV=$(SUPERNAV) $(MODEL_ENV) PEAK_FMA=$(PEAK_FMA) \
	  PEERS_PLATFORM=$(PEERS_PLATFORM) PEERS_K=$(PEERS_K) PEERS_WARMUP=$(PEERS_WARMUP) PEERS_ROUNDS=$(PEERS_ROUNDS) \
	  PEERS_ORT_TIMING=$(PEERS_ORT_TIMING) PEERS_INT8=$(PEERS_INT8) PEERS_INT8_WEIGHTS=$(PEERS_INT8_WEIGHTS) PEERS_BUILD=$(BUILD)/peers RESULTS=$(RESULTS) \
	  sh bench/peers/run.sh
