# uvframe_target_defaults(target): warnings (errors on our own code only),
# sanitizers, and platform libraries. Third-party targets never see -Werror.

function(uvframe_target_defaults target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /utf-8)
    if(UVFRAME_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow
                                             -Wnon-virtual-dtor -Wpedantic)
    if(UVFRAME_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12 reports impossible overlaps inside std::string at -O3
      # (GCC bug 105329); the warning is noise there.
      target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
  endif()
  if(UVFRAME_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${UVFRAME_SANITIZE}
                                             -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${UVFRAME_SANITIZE})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Sanitizer instrumentation makes GCC's flow analysis see uninitialised
      # reads inside libstdc++ (std::regex, std::function) that are not there.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
  endif()
endfunction()
