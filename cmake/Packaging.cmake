# Install rules and the Debian package (cpack -G DEB).
# With the prefix /usr (what the package uses):
#   /usr/bin/uvframe-server, uvframe-client, uvframe-loadgen
#   /usr/lib/systemd/system/uvframe-server.service
#   /etc/uvframe/server.toml               (example config; conffile)
#   /etc/logrotate.d/uvframe-server        (conffile)
#   /usr/share/doc/uvframe/README.Debian
# Tests, benchmarks and the reference programs are not installed.
include(GNUInstallDirs)

set(UVFRAME_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd unit goes, relative to the prefix")
set(UVFRAME_PACKAGE_MAINTAINER "uvframe maintainers <uvframe@localhost>" CACHE STRING
    "Maintainer field of the Debian package")

# The example config is written separately; package it once it exists
# (re-run cmake after adding it).
set(UVFRAME_EXAMPLE_CONFIG ${PROJECT_SOURCE_DIR}/etc/uvframe/server.toml)
if(EXISTS ${UVFRAME_EXAMPLE_CONFIG})
  set(UVFRAME_PACKAGE_HAS_CONFIG ON)
else()
  set(UVFRAME_PACKAGE_HAS_CONFIG OFF)
endif()

install(TARGETS uvframe-server uvframe-client uvframe-loadgen
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES packaging/uvframe-server.service DESTINATION ${UVFRAME_SYSTEMD_UNITDIR})
install(FILES packaging/README.Debian DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Files for /etc. GNUInstallDirs maps the prefix /usr to /etc, but it decides
# when cmake configures; this decides when installing, so
# `cmake --install build --prefix /usr` and cpack (which installs with /usr)
# put them in /etc whatever prefix the tree was configured with.
# file(INSTALL) honours DESTDIR and the install manifest like install(FILES).
set(etc_files "")
if(UVFRAME_PACKAGE_HAS_CONFIG)
  string(APPEND etc_files "
    file(INSTALL DESTINATION \"\${etc}/uvframe\" TYPE FILE
         FILES \"${UVFRAME_EXAMPLE_CONFIG}\")")
endif()
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(etc \"/etc\")
  else()
    set(etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
  endif()${etc_files}
  file(INSTALL DESTINATION \"\${etc}/logrotate.d\" TYPE FILE
       FILES \"${PROJECT_SOURCE_DIR}/packaging/uvframe-server.logrotate\"
       RENAME uvframe-server)
")

# dpkg keeps an administrator's edits of these over upgrades.
set(conffiles "/etc/logrotate.d/uvframe-server\n")
if(UVFRAME_PACKAGE_HAS_CONFIG)
  string(APPEND conffiles "/etc/uvframe/server.toml\n")
endif()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${conffiles}")

# The package: uvframe_<version>_<arch>.deb, its Depends computed from the
# programs' shared libraries (dpkg-shlibdeps, from dpkg-dev).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME uvframe)
set(CPACK_PACKAGE_VENDOR "uvframe")
set(CPACK_PACKAGE_CONTACT "${UVFRAME_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "framed-TCP logging server, client and load generator (libuv)")
set(CPACK_PACKAGE_DESCRIPTION
    "uvframe-server accepts many TCP clients, reassembles length-prefixed frames
(a 4-byte length, then the payload) and logs every message with the peer's
address, exactly once and in order per connection. It runs one libuv event
loop per CPU, bounds the memory held for peers, drains on SIGTERM and reopens
its log on SIGHUP; TLS, the PROXY protocol and Prometheus metrics are options.
This package also holds uvframe-client, which sends frames, and
uvframe-loadgen, which measures throughput and latency, plus a sandboxed
systemd unit (Type=notify), an example configuration and a logrotate snippet.")
# Stage with DESTDIR and the prefix /usr, so the /etc rule above applies.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${UVFRAME_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS logrotate)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm
    ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
