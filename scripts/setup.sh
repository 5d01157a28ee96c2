#!/usr/bin/env bash
# Installs what uvframe needs to build, test and benchmark on Debian/Ubuntu,
# and only what is missing (apt-get needs root; sudo is used when not root).
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --bench  also plotting and profiling tools
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config git
  libuv1-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libssl-dev openssl   # TLS (OpenSSL 3)
  libsystemd-dev   # sd_notify: Type=notify readiness for the systemd unit
  googletest libgtest-dev libbenchmark-dev
  prometheus-cpp-dev prometheus   # metrics model + serializer; promtool and Prometheus for the tests
  clang libclang-rt-dev clang-format   # libFuzzer targets and formatting
  python3 python3-matplotlib procps iproute2   # scripts, latency and RSS plots
  haproxy   # a real load balancer in front of the server (PROXY protocol tests)
  rsyslog   # a real octet-counted sender (interop test) and the peer in scripts/bench.sh
  dpkg-dev logrotate systemd   # cpack -G DEB (dpkg-shlibdeps); the package test's logrotate -f and systemd-analyze
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(linux-perf valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ "$(id -u)" -ne 0 ]]; then
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
