# Compiler flags for the targets that deeprnn builds itself (tests, examples, benchmarks).
# They are directory-scoped, so they reach every target defined in this directory or below
# after this file is included, and never the INTERFACE target deeprnn::deeprnn that
# consumers link to.

option(DEEPRNN_WARNINGS_AS_ERRORS
       "Compile the deeprnn tests, examples and benchmarks with -Wall -Wextra -Wpedantic -Werror"
       OFF)
set(DEEPRNN_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers for the deeprnn tests, examples and benchmarks, passed to \
-fsanitize= (for example address,undefined); empty for none")

if(DEEPRNN_WARNINGS_AS_ERRORS)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    add_compile_options(-Wall -Wextra -Wpedantic -Werror)
    # GCC 12 reports a false -Wrestrict inside libstdc++ when it inlines `"[" + std::string`
    # at -O2 and above (GCC bug 105329), so the check is off for that compiler only.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
       AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      add_compile_options(-Wno-restrict)
    endif()
  else()
    message(WARNING "DEEPRNN_WARNINGS_AS_ERRORS: no warning flags known for the compiler "
                    "${CMAKE_CXX_COMPILER_ID}; building without them")
  endif()
endif()

if(DEEPRNN_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "DEEPRNN_SANITIZE is '${DEEPRNN_SANITIZE}' but the compiler "
                        "${CMAKE_CXX_COMPILER_ID} does not take -fsanitize=; use GCC or Clang, "
                        "or set DEEPRNN_SANITIZE to an empty string")
  endif()
  # NOTE: GCC 12 with sanitizers also reports a false -Wmaybe-uninitialized inside
  # libstdc++'s <regex>, which Catch2 includes, so DEEPRNN_WARNINGS_AS_ERRORS=ON together
  # with DEEPRNN_SANITIZE fails to build the tests with that compiler.
  # -fno-sanitize-recover makes every report fatal, so a test cannot pass after one.
  set(deeprnn_sanitize_flags -fsanitize=${DEEPRNN_SANITIZE} -fno-sanitize-recover=all
      -fno-omit-frame-pointer)
  add_compile_options(${deeprnn_sanitize_flags})
  add_link_options(${deeprnn_sanitize_flags})
endif()
