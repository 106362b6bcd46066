# datasets/ — included by the top-level Makefile (which compiles datasets/*.c into the
# host library).

CPPFLAGS_ALL += -Idatasets
LIBS += -lcjson
