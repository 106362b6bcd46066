# workloads/supernet/ — included by the top-level Makefile.
#
#   make model   retrain the CF-64 SuperNet end to end (about 1.5 h on 2 cores): installs
#                Debian's PyTorch, fetches the datasets, trains (resumable: rerun after an
#                interruption and it continues from workloads/supernet/checkpoints/last.pt),
#                then searches the Pareto set and writes the committed outputs
#                (supernet.safetensors, accuracy.csv, golden.safetensors, train.log).
#                MODEL_ARGS passes extra flags to train.py (e.g. --epochs 1 for a smoke run).
#   make model-clean   remove the checkpoints, so the next `make model` starts afresh.

SUPERNET_DIR := workloads/supernet
PYTHON_TORCH := /usr/bin/python3

.PHONY: model model-clean
model: datasets
	@sh ci/deps.sh ci/packages-model.txt
	$(PYTHON_TORCH) $(SUPERNET_DIR)/train.py --supernav $(SUPERNAV) $(MODEL_ARGS)
	$(PYTHON_TORCH) $(SUPERNET_DIR)/export.py --supernav $(SUPERNAV)

model-clean:
	rm -rf $(SUPERNET_DIR)/checkpoints
