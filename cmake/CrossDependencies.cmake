# The dependencies of the Windows cross build (scripts/build-windows.sh), from
# UVFRAME_CROSS_DEPS instead of the system, all built inside this one build
# tree (one configure, one ninja run, so both CPUs stay busy from the first
# object to the last):
# - libuv: static (uv_a), from Debian's libuv1 source, through its own
#   CMakeLists (add_subdirectory), in UVFRAME_CROSS_DEPS/libuv-src;
# - fmt: a static library (not header-only) from Debian's fmtlib source,
#   UVFRAME_CROSS_DEPS/fmt-src (src/format.cc, src/os.cc);
# - spdlog: a static library (SPDLOG_COMPILED_LIB, SPDLOG_FMT_EXTERNAL against
#   that fmt) from Debian's spdlog source, UVFRAME_CROSS_DEPS/spdlog-src: the
#   translation units uvframe links (spdlog.cpp: registry, loggers, pattern
#   formatter, base_sink; stdout_sinks.cpp; color_sinks.cpp: the default
#   logger; async.cpp: the registry's thread pool and periodic flusher).
#   cfg.cpp and file_sinks.cpp are left out, uvframe uses neither (a program
#   that does fails to link, naming the symbol: add the file to
#   _spdlog_sources);
# - CLI11 and nlohmann-json: header-only, copies of /usr/include/{CLI,nlohmann}
#   in UVFRAME_CROSS_DEPS/include.
# The versions are those of the Linux -dev packages (the script fetches the
# source of the installed version). /usr/include itself is never on the include
# path: its glibc headers are not Windows'. Exposes the same targets as
# Dependencies.cmake. No OpenSSL, no prometheus-cpp, no iconv (Windows code
# pages instead), no libsystemd. Third-party code gets the build type's flags
# (Release: -O3) but not uvframe's warnings.
set(_deps "${UVFRAME_CROSS_DEPS}")
foreach(_src libuv-src/include/uv.h fmt-src/src/format.cc spdlog-src/src/spdlog.cpp
             include/CLI/CLI.hpp include/nlohmann/json.hpp)
  if(NOT EXISTS "${_deps}/${_src}")
    message(FATAL_ERROR "UVFRAME_CROSS_DEPS=${_deps} has no ${_src} "
                        "(run scripts/build-windows.sh)")
  endif()
endforeach()

# libuv: its tests and benchmarks are off (not the top project, BUILD_TESTING
# off); EXCLUDE_FROM_ALL: only uv_a is built, as a dependency of the programs.
set(BUILD_TESTING OFF CACHE BOOL "libuv's CTest (the cross build has no tests)")
set(LIBUV_BUILD_TESTS OFF CACHE BOOL "")
set(LIBUV_BUILD_BENCH OFF CACHE BOOL "")
add_subdirectory("${_deps}/libuv-src" "${CMAKE_BINARY_DIR}/third_party/libuv" EXCLUDE_FROM_ALL)
add_library(uvframe_cross_uv INTERFACE)
target_link_libraries(uvframe_cross_uv INTERFACE uv_a dbghelp ole32 shell32)
add_library(uvframe::uv ALIAS uvframe_cross_uv)

find_package(Threads REQUIRED)

set(_fmt "${_deps}/fmt-src")
add_library(uvframe_cross_fmt STATIC EXCLUDE_FROM_ALL "${_fmt}/src/format.cc" "${_fmt}/src/os.cc")
target_include_directories(uvframe_cross_fmt SYSTEM PUBLIC "${_fmt}/include")

set(_spdlog "${_deps}/spdlog-src")
set(_spdlog_sources spdlog.cpp stdout_sinks.cpp color_sinks.cpp async.cpp)
list(TRANSFORM _spdlog_sources PREPEND "${_spdlog}/src/")
add_library(uvframe_cross_spdlog STATIC EXCLUDE_FROM_ALL ${_spdlog_sources})
target_include_directories(uvframe_cross_spdlog SYSTEM PUBLIC "${_spdlog}/include")
target_compile_definitions(uvframe_cross_spdlog PUBLIC SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
target_link_libraries(uvframe_cross_spdlog PUBLIC uvframe_cross_fmt Threads::Threads)

foreach(_lib CLI11 nlohmann_json)
  add_library(uvframe_cross_${_lib} INTERFACE)
  target_include_directories(uvframe_cross_${_lib} SYSTEM INTERFACE "${_deps}/include")
endforeach()
add_library(fmt::fmt ALIAS uvframe_cross_fmt)
add_library(spdlog::spdlog ALIAS uvframe_cross_spdlog)
add_library(CLI11::CLI11 ALIAS uvframe_cross_CLI11)
add_library(nlohmann_json::nlohmann_json ALIAS uvframe_cross_nlohmann_json)
set(nlohmann_json_FOUND TRUE)
