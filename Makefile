# mmdb: the one build entry. make | make test | make demo | make bench | make deps | make clean
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
CPPFLAGS += -D_GNU_SOURCE -Isrc -MMD -MP
CFLAGS  += $(CSTD) $(WARN) $(OPT) -pthread
CXXFLAGS += -std=c++17 $(OPT) -Wall -Wextra -Wno-unused-parameter -pthread \
	-D_GLIBCXX_USE_CXX11_ABI=$(TORCH_ABI) -Isrc \
	-isystem $(TORCH_DIR)/include -isystem $(TORCH_DIR)/include/torch/csrc/api/include

ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
CXXFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

# libtorch: CUDA libraries are linked when the libtorch has them.
TORCH_CUDA := $(wildcard $(TORCH_DIR)/lib/libtorch_cuda.so)
TORCH_LIBS = -L$(TORCH_DIR)/lib -Wl,-rpath,$(abspath $(TORCH_DIR)/lib) \
	-Wl,--no-as-needed $(if $(TORCH_CUDA),-ltorch_cuda -lc10_cuda) -ltorch -ltorch_cpu -lc10 -Wl,--as-needed
# Extra -I/-L for dependencies that live outside the system (GPU machine).
DEPS_PREFIX ?=
ifneq ($(DEPS_PREFIX),)
CPPFLAGS += -I$(DEPS_PREFIX)/include
LDFLAGS  += -L$(DEPS_PREFIX)/lib -Wl,-rpath,$(abspath $(DEPS_PREFIX)/lib)
endif
LIBS = -lsqlite3 -lcurl -larchive -lncursesw -lturbojpeg -lpng -lgif -lwebp -lutf8proc -lpthread -lm

ifeq ($(V),1)
Q =
else
Q = @
endif

# Sources: src/ and src/cmd/ are C11, src/torch/ the C++ wrapper, ui/ the dashboard.
C_SRCS   := $(sort $(wildcard src/*.c src/cmd/*.c ui/*.c)) src/migrations.c
CXX_SRCS := $(sort $(wildcard src/torch/*.cpp))
MAIN_OBJ := src/main.o
LIB_OBJS := $(filter-out $(MAIN_OBJ),$(C_SRCS:.c=.o)) $(CXX_SRCS:.cpp=.o)
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:.c=)

.PHONY: all test unit cli demo bench deps deps-apt deps-venv clean fuzz check-deps
all: mmdb

src/migrations.c: $(MIGRATIONS) src/genmig.sh
	@echo "  GEN     $@"
	$(Q)sh src/genmig.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

src/db.o: src/migrations.c

%.o: %.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

src/torch/%.o: src/torch/%.cpp check-torch
	@echo "  CXX     $@"
	$(Q)$(CXX) -MMD -MP $(CXXFLAGS) -c -o $@ $<

check-torch:
	@test -n "$(TORCH_DIR)" -a -d "$(TORCH_DIR)/include" || \
	  { echo "mmdb: no libtorch found: run 'make deps' (or pass TORCH_DIR=.../site-packages/torch)" >&2; exit 1; }
.PHONY: check-torch
# Torch objects depend on the headers only through -MMD; do not rebuild on every check.
.SECONDARY:

libmmdb.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

mmdb: $(MAIN_OBJ) libmmdb.a
	@echo "  LINK    $@"
	$(Q)$(CXX) -pthread $(LDFLAGS) -o $@ $(MAIN_OBJ) libmmdb.a $(TORCH_LIBS) $(LIBS)

tests/unit/test_%: tests/unit/test_%.c libmmdb.a
	@echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@.o -c $<
	$(Q)$(CXX) -pthread $(LDFLAGS) -o $@ $@.o libmmdb.a $(TORCH_LIBS) $(LIBS) -lcmocka

# Everything the build and the tests need: Debian packages and a project venv
# holding PyTorch's libtorch (CPU build) and the reference implementations.
APT_PKGS = build-essential pkg-config libsqlite3-dev sqlite3 libcurl4-openssl-dev libarchive-dev \
	libncurses-dev libcmocka-dev libturbojpeg0-dev libpng-dev libgif-dev libwebp-dev \
	libutf8proc-dev tmux python3-venv bzip2 xz-utils zstd zip unzip
PIP_PKGS = torch==2.13.0 numpy
deps: deps-apt deps-venv
deps-apt:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "  APT     $$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
deps-venv:
	@if [ ! -x $(VPY) ]; then echo "  VENV    $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	@$(VPY) -c 'import torch, numpy' 2>/dev/null || \
	  { echo "  PIP     $(PIP_PKGS)"; $(VPY) -m pip install -q $(PIP_PKGS); }

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(Q)sh tests/run.sh $(UNIT_BINS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh examples/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/bench/run.sh

clean:
	rm -f mmdb libmmdb.a src/migrations.c src/*.o src/*.d src/cmd/*.o src/cmd/*.d \
	  src/torch/*.o src/torch/*.d ui/*.o ui/*.d tests/unit/*.o tests/unit/*.d $(UNIT_BINS)

-include $(wildcard src/*.d src/cmd/*.d src/torch/*.d ui/*.d tests/unit/*.d)
