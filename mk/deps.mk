# mk/deps.mk — dependency flags and targets; `include mk/deps.mk` from the top Makefile.
#
# Defines
#   MUSL_CC           compiler for the static runner (overridable)
#   DEPS_CFLAGS       include flags for <seccomp.h>, <sys/capability.h>, <linux/*.h>
#   DEPS_LDLIBS       the static archives to link into runner (link with -static)
#   DEPS_DIR          $(BUILD_DIR)/deps
#   DEPS_BUILD_STAMP  make objects/binaries that use DEPS_* depend on it
#                     (e.g. `$(OBJS): | $(DEPS_BUILD_STAMP)`) so the libs exist first
#   VM_KERNEL         Debian kernel image for the QEMU tests (after deps-vm)
#   VM_MODULES        vsock.ko vmw_vsock_virtio_transport_common.ko vsock_loopback.ko,
#                     uncompressed, in finit_module load order (after deps-vm)
# Targets
#   deps-build deps-test deps-docker deps-vm, and deps (all four): each runs
#   `tools/deps GROUP` when $(DEPS_DIR)/.done-GROUP is missing or older than tools/deps.
#
# Debian: tools/deps builds libseccomp and libcap with musl-gcc from Debian's source
#   packages into $(DEPS_DIR); kinc/ holds linux, asm, asm-generic symlinks because
#   musl-gcc uses -nostdinc. Debian's own libseccomp-dev/libcap-dev are glibc builds
#   and must not be linked into a musl binary.
# Alpine (the Dockerfile): gcc is musl-native and apk's linux-headers,
#   libseccomp-static, libcap-static are in system paths, so MUSL_CC = cc,
#   DEPS_CFLAGS is empty and DEPS_LDLIBS names /usr/lib/*.a.

BUILD_DIR ?= build
# Dependencies always live under build/, whatever BUILD_DIR a parallel
# build uses for its objects.
DEPS_ROOT ?= build
DEPS_DIR  := $(DEPS_ROOT)/deps

ifneq ($(wildcard /etc/alpine-release),)
MUSL_CC     ?= cc
DEPS_CFLAGS :=
DEPS_LDLIBS := /usr/lib/libseccomp.a /usr/lib/libcap.a
else
MUSL_CC     ?= musl-gcc
DEPS_CFLAGS := -isystem $(DEPS_DIR)/kinc -I$(DEPS_DIR)/include
DEPS_LDLIBS := $(DEPS_DIR)/lib/libseccomp.a $(DEPS_DIR)/lib/libcap.a
endif
DEPS_BUILD_STAMP := $(DEPS_DIR)/.done-build

VM_KERNEL  := $(DEPS_ROOT)/vm/vmlinuz
VM_MODULES := $(addprefix $(DEPS_ROOT)/vm/modules/,vsock.ko vmw_vsock_virtio_transport_common.ko vsock_loopback.ko)

DEPS_GROUPS := build test docker vm
$(DEPS_GROUPS:%=$(DEPS_DIR)/.done-%): $(DEPS_DIR)/.done-%: tools/deps
	BUILD_DIR=$(DEPS_ROOT) tools/deps $*
$(DEPS_GROUPS:%=deps-%): deps-%: $(DEPS_DIR)/.done-%
deps: $(DEPS_GROUPS:%=deps-%)
.PHONY: deps $(DEPS_GROUPS:%=deps-%)
