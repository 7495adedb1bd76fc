# duet - build with `make`; `make check` runs every test suite.
CC      ?= cc
PKGS    := libuv jansson libsodium libcrypto sqlite3 hiredis
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lwslay -lm

# `make SAN=1` builds into build-asan with ASan and UBSan.
ifeq ($(SAN),1)
BUILD   ?= build-asan
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

SRCS      := $(wildcard src/base/*.c src/net/*.c src/store/*.c src/app/*.c)
OBJS      := $(SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/src/main.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(BUILD)/unit-tests

.PHONY: all clean unit check format
all: $(BUILD)/duetd

$(BUILD)/duetd: $(OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(UNIT_BIN): $(OBJS) $(UNIT_SRCS:%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

unit: $(UNIT_BIN)
	$(UNIT_BIN)

format:
	clang-format -i $(SRCS) src/main.c $(UNIT_SRCS) $(wildcard src/*/*.h)

clean:
	rm -rf build build-asan

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
