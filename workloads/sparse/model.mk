# workloads/sparse/ — the CF-128S SuperNet (issue 20). Included by the top-level Makefile:
#   include workloads/sparse/model.mk
#
#   make model-sparse      train the CF-128S SuperNet in the foreground (about 1,000 steps,
#                          ~20 CPU-seconds each on the 2 cores: ~5.5 core-hours); resumes from
#                          $(SPARSE_CKPT)/last.pt when there is one. Refuses while a
#                          background run is alive. SPARSE_ARGS passes train.py flags
#                          (e.g. --max-steps 2 for a smoke run).
#   make model-sparse-bg   the same, detached in the background at nice 19 (what the
#                          long run uses): PID in /work/ckpt/train.pid, output in
#                          $(SPARSE_CKPT)/train.out; rerun after an interruption to resume.
#   make model-sparse-status   the PID's state and the last lines of the log.
# Checkpoints live outside the work tree ($(SPARSE_CKPT), default /work/ckpt/sparse).

SPARSE_DIR := workloads/sparse
SPARSE_CKPT ?= /work/ckpt/sparse
SPARSE_PIDFILE ?= /work/ckpt/train.pid
PYTHON_TORCH ?= /usr/bin/python3

.PHONY: model-sparse model-sparse-bg model-sparse-status
model-sparse: datasets
	@sh ci/deps.sh ci/packages-model.txt
	@if [ -f $(SPARSE_PIDFILE) ] && kill -0 $$(cat $(SPARSE_PIDFILE)) 2>/dev/null && \
	    grep -q workloads/sparse/train.py /proc/$$(cat $(SPARSE_PIDFILE))/cmdline 2>/dev/null; then \
	    echo "model-sparse: a background run is alive (PID $$(cat $(SPARSE_PIDFILE)))" >&2; exit 1; fi
	$(PYTHON_TORCH) $(SPARSE_DIR)/train.py --supernav $(SUPERNAV) --work $(SPARSE_CKPT) \
	    $(if $(wildcard $(SPARSE_CKPT)/last.pt),--resume) $(SPARSE_ARGS)

model-sparse-bg: datasets
	@sh ci/deps.sh ci/packages-model.txt
	@CKPT=$(SPARSE_CKPT) PIDFILE=$(SPARSE_PIDFILE) SUPERNAV=$(SUPERNAV) sh $(SPARSE_DIR)/train-bg.sh $(SPARSE_ARGS)

model-sparse-status:
	@if [ -f $(SPARSE_PIDFILE) ]; then ps -o pid,ni,stat,etime,time -p $$(cat $(SPARSE_PIDFILE)) || echo "not running"; fi
	@tail -n 3 $(SPARSE_CKPT)/train.out 2>/dev/null || echo "no $(SPARSE_CKPT)/train.out"
