# Finds the third-party libraries and exposes each as one imported target:
#   uvframe::uv, fmt::fmt, spdlog::spdlog, CLI11::CLI11, Iconv::Iconv,
#   GTest::gtest_main, benchmark::benchmark, OpenSSL::SSL, prometheus-cpp::core (the metrics'
#   data model and text serializer only; its civetweb Exposer is not used),
#   PkgConfig::LIBSYSTEMD when found (sd_notify).
# libuv ships a CMake config with vcpkg; Debian's libuv1-dev only has pkg-config.
# The Windows cross build (UVFRAME_CROSS_DEPS, scripts/build-windows.sh) takes
# its own: cmake/CrossDependencies.cmake.

if(UVFRAME_CROSS_DEPS)
  include(${CMAKE_CURRENT_LIST_DIR}/CrossDependencies.cmake)
  return()
endif()

find_package(libuv CONFIG QUIET)
if(TARGET libuv::uv)
  add_library(uvframe::uv ALIAS libuv::uv)
elseif(TARGET uv)
  add_library(uvframe::uv ALIAS uv)
elseif(TARGET uv_a)
  add_library(uvframe::uv ALIAS uv_a)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv>=1.44)
  add_library(uvframe::uv ALIAS PkgConfig::LIBUV)
endif()

find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(NOT UVFRAME_WINDOWS_CODE_PAGES)
  find_package(Iconv REQUIRED)
endif()
find_package(Threads REQUIRED)
if(UVFRAME_WITH_TLS)
  find_package(OpenSSL 3 REQUIRED)
endif()
if(UVFRAME_WITH_METRICS)
  find_package(prometheus-cpp CONFIG REQUIRED)
endif()

# libsystemd (sd_notify) where it exists; elsewhere (Windows, other systems)
# the server builds without it and tells no service manager anything.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBSYSTEMD QUIET IMPORTED_TARGET libsystemd)
endif()

if(UVFRAME_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(UVFRAME_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
