# The dependencies of the Windows cross build (scripts/build-windows.sh), from
# UVFRAME_CROSS_DEPS instead of the system: a static libuv built from Debian's
# libuv1 source with the MinGW toolchain, and the header-only libraries
# (spdlog, fmt, CLI11, nlohmann-json) copied from /usr/include into
# UVFRAME_CROSS_DEPS/include. /usr/include itself is never on the include
# path: its glibc headers are not Windows'. Exposes the same targets as
# Dependencies.cmake. No OpenSSL, no prometheus-cpp, no iconv (Windows code
# pages instead), no libsystemd.
set(_deps "${UVFRAME_CROSS_DEPS}")
file(GLOB _uv_lib "${_deps}/libuv-build/libuv_a.a" "${_deps}/libuv-build/libuv.a")
if(NOT _uv_lib OR NOT EXISTS "${_deps}/libuv-src/include/uv.h")
  message(FATAL_ERROR "UVFRAME_CROSS_DEPS=${_deps} holds no static libuv "
                      "(run scripts/build-windows.sh)")
endif()
list(GET _uv_lib 0 _uv_lib)
add_library(uvframe_cross_uv STATIC IMPORTED GLOBAL)
set_target_properties(uvframe_cross_uv PROPERTIES
  IMPORTED_LOCATION "${_uv_lib}"
  INTERFACE_INCLUDE_DIRECTORIES "${_deps}/libuv-src/include"
  INTERFACE_LINK_LIBRARIES "psapi;user32;advapi32;iphlpapi;userenv;ws2_32;dbghelp;ole32;shell32")
add_library(uvframe::uv ALIAS uvframe_cross_uv)

foreach(_lib fmt spdlog CLI11 nlohmann_json)
  add_library(uvframe_cross_${_lib} INTERFACE)
  target_include_directories(uvframe_cross_${_lib} SYSTEM INTERFACE "${_deps}/include")
endforeach()
target_compile_definitions(uvframe_cross_fmt INTERFACE FMT_HEADER_ONLY=1)
target_compile_definitions(uvframe_cross_spdlog INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL)
target_link_libraries(uvframe_cross_spdlog INTERFACE uvframe_cross_fmt)
add_library(fmt::fmt ALIAS uvframe_cross_fmt)
add_library(spdlog::spdlog ALIAS uvframe_cross_spdlog)
add_library(CLI11::CLI11 ALIAS uvframe_cross_CLI11)
add_library(nlohmann_json::nlohmann_json ALIAS uvframe_cross_nlohmann_json)
set(nlohmann_json_FOUND TRUE)

find_package(Threads REQUIRED)
