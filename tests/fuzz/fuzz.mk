# Fuzz targets (included by the top Makefile).
#
#   make fuzz FUZZ_SECONDS=N   builds the libFuzzer targets with clang
#                              (-fsanitize=fuzzer,address,undefined) in
#                              tests/fuzz/build/ and runs each for N seconds
#                              (FUZZ_TARGETS="tsv image" picks some).
#   make fuzz-replay           builds the gcc replay of every target
#                              (address and undefined sanitizers) that
#                              make test runs on tests/fuzz/regress/ and
#                              tests/fuzz/corpus/.
#
# Each target links only the C modules it needs (never libtorch), compiled
# apart from the normal objects in src/.

FUZZ_SECONDS ?= 60
FUZZ_CLANG   ?= clang
FUZZ_TARGETS ?= tsv safetensors image archive tokenizer tokenize_json
FUZZ_ALL     := tsv safetensors image archive tokenizer tokenize_json
FUZZ_DIR     := tests/fuzz
FUZZ_BUILD   := $(FUZZ_DIR)/build
REPLAY_BUILD := $(FUZZ_DIR)/build-replay

# The modules each target links, and their libraries.
FUZZ_MODS_tsv           := tsv fakeddit util
FUZZ_MODS_safetensors   := safetensors util
FUZZ_MODS_image         := image image_resize util
FUZZ_MODS_archive       := archive bz2par entry_name util
FUZZ_MODS_tokenizer     := tokenizer tsv util
FUZZ_MODS_tokenize_json := jsonstr tokenizer tsv util
FUZZ_LIBS_image         := -lturbojpeg -lpng -lgif -lwebp
FUZZ_LIBS_archive       := -larchive -lbz2
FUZZ_LIBS_tokenizer     := -lutf8proc
FUZZ_LIBS_tokenize_json := -lutf8proc
FUZZ_SYSLIBS            := -lpthread -lm

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g -pthread -D_GNU_SOURCE -iquote src -iquote $(FUZZ_DIR) -MMD -MP

FUZZ_BINS   := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_ALL))
REPLAY_BINS := $(addprefix $(REPLAY_BUILD)/replay_,$(FUZZ_ALL))

.PHONY: fuzz fuzz-build fuzz-replay fuzz-deps fuzz-clean
fuzz: fuzz-deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) sh $(FUZZ_DIR)/run.sh $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)
fuzz-replay: $(REPLAY_BINS)

# clang and its libFuzzer runtime, from Debian, as deps-apt installs the rest.
FUZZ_APT_PKGS = clang libclang-rt-14-dev
fuzz-deps:
	@missing=$$(for p in $(FUZZ_APT_PKGS) $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "  APT     $$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(FUZZ_CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%.o: $(FUZZ_DIR)/fuzz_%.c
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)$(FUZZ_CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c -o $@ $<

$(REPLAY_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<

$(REPLAY_BUILD)/%.o: $(FUZZ_DIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<

# The link rules, one per target (the module list differs).
define FUZZ_TARGET_RULES
$(FUZZ_BUILD)/fuzz_$(1): $(FUZZ_BUILD)/fuzz_$(1).o $(addprefix $(FUZZ_BUILD)/src/,$(addsuffix .o,$(FUZZ_MODS_$(1))))
	@echo "  LINK    $$@"
	$(Q)$(FUZZ_CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $(FUZZ_LIBS_$(1)) $(FUZZ_SYSLIBS)

$(REPLAY_BUILD)/replay_$(1): $(REPLAY_BUILD)/fuzz_$(1).o $(REPLAY_BUILD)/replay.o $(addprefix $(REPLAY_BUILD)/src/,$(addsuffix .o,$(FUZZ_MODS_$(1))))
	@echo "  LINK    $$@"
	$(Q)$(CC) $(FUZZ_SAN) -o $$@ $$^ $(FUZZ_LIBS_$(1)) $(FUZZ_SYSLIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_TARGET_RULES,$(t))))

fuzz-clean:
	rm -rf $(FUZZ_BUILD) $(REPLAY_BUILD)

-include $(wildcard $(FUZZ_BUILD)/*.d $(FUZZ_BUILD)/src/*.d $(REPLAY_BUILD)/*.d $(REPLAY_BUILD)/src/*.d)
