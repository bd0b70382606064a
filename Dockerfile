# Sandbox image with runner as PID 1 (see README, "Hosts").
#
#   docker build -t runner .
#   docker run -d --network none --name sb runner
#   runnerctl --connect docker:sb exec -- 'uname -a'
#
# Stage 1 builds the static runner with Alpine's musl-native gcc and apk's
# static libseccomp/libcap: mk/deps.mk's Alpine branch (MUSL_CC=cc, the
# libraries from /usr/lib/*.a), and tools/deps only checks the packages.
# Stage 2 is plain Alpine with the tools an agent expects.

FROM alpine:3.21 AS build
RUN apk add --no-cache build-base linux-headers \
        libseccomp-dev libseccomp-static libcap-dev libcap-static
WORKDIR /src
COPY . .
# RUNNER_MAKEFLAGS: an escape hatch for a compiler newer than the one the
# project is -Werror clean on, e.g. --build-arg RUNNER_MAKEFLAGS='WARN=-Wall'.
ARG RUNNER_MAKEFLAGS=
RUN make -j"$(nproc)" MUSL_CC=cc BUILD_DIR=build $RUNNER_MAKEFLAGS \
        build/runner build/runnerctl-static \
 && if readelf -l build/runner | grep -q INTERP; then \
        echo "build/runner is not static" >&2; exit 1; fi \
 && build/runner --version

FROM alpine:3.21
RUN apk add --no-cache bash git coreutils findutils grep diffutils curl jq \
 && addgroup -g 1000 sandbox \
 && adduser -D -u 1000 -G sandbox -h /home/sandbox -s /bin/bash sandbox \
 && mkdir -p /workspace \
 && chown sandbox:sandbox /workspace
COPY --from=build /src/build/runner /sbin/runner
COPY --from=build /src/build/runnerctl-static /usr/local/bin/runnerctl
WORKDIR /workspace
# No USER: the runner starts as root only to bind its socket and drop the
# capability bounding set, then switches to `sandbox` (its default user)
# before it serves anything.  Started with --user 1000 it runs unprivileged
# from the first instruction and listens on /tmp/runner.sock when /run is
# not writable.
ENTRYPOINT ["/sbin/runner"]
