# Runs one consumer check from a fresh folder; called by ctest as `cmake -D... -P`.
#
#   ACTION=install        BUILD_TREE, PREFIX: installs BUILD_TREE into an emptied PREFIX.
#   ACTION=build_and_run  SOURCE_DIR, BINARY_DIR: configures, builds and runs `consumer`.
#   ACTION=configure      SOURCE_DIR, BINARY_DIR: configures only. With EXPECT_FAILURE=ON
#                         the check passes only when the configuration fails.
#
# GENERATOR, CXX_COMPILER, BUILD_TYPE, CONFIG, PREFIX_PATH, DEEPRNN_SOURCE_DIR and
# DEEPRNN_REQUESTED_VERSION are forwarded to the consumer project when set. Failures print
# "consumer check failed:" so that ctest can match it.

cmake_minimum_required(VERSION 3.20)

function(fail message)
  message("consumer check failed: ${message}")
  message(FATAL_ERROR "${message}")
endfunction()

function(run_step description)
  message(STATUS "${description}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    fail("${description} exited with ${result}")
  endif()
endfunction()

if(ACTION STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  set(install_command "${CMAKE_COMMAND}" --install "${BUILD_TREE}" --prefix "${PREFIX}")
  if(CONFIG)
    list(APPEND install_command --config "${CONFIG}")
  endif()
  run_step("install" ${install_command})
  if(NOT EXISTS "${PREFIX}/include/deeprnn/deeprnn.hpp")
    fail("the install put no include/deeprnn/deeprnn.hpp under ${PREFIX}")
  endif()
  return()
endif()

if(NOT ACTION MATCHES "^(build_and_run|configure)$")
  fail("ACTION is '${ACTION}', expected install, build_and_run or configure")
endif()

set(configure_command "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}")
if(GENERATOR)
  list(APPEND configure_command -G "${GENERATOR}")
endif()
foreach(forwarded CXX_COMPILER BUILD_TYPE PREFIX_PATH)
  if(${forwarded})
    list(APPEND configure_command "-DCMAKE_${forwarded}=${${forwarded}}")
  endif()
endforeach()
foreach(forwarded DEEPRNN_SOURCE_DIR DEEPRNN_REQUESTED_VERSION)
  if(DEFINED ${forwarded})
    list(APPEND configure_command "-D${forwarded}=${${forwarded}}")
  endif()
endforeach()

file(REMOVE_RECURSE "${BINARY_DIR}")

if(ACTION STREQUAL "configure" AND EXPECT_FAILURE)
  message(STATUS "configure, expected to fail: ${configure_command}")
  execute_process(COMMAND ${configure_command} RESULT_VARIABLE result)
  if(result EQUAL 0)
    fail("the configuration succeeded, expected it to fail")
  endif()
  message(STATUS "the configuration failed as expected")
  return()
endif()

run_step("configure" ${configure_command})
if(ACTION STREQUAL "configure")
  return()
endif()

set(build_command "${CMAKE_COMMAND}" --build "${BINARY_DIR}")
if(CONFIG)
  list(APPEND build_command --config "${CONFIG}")
endif()
run_step("build" ${build_command})

# Single-config generators put the program in BINARY_DIR, multi-config ones in a subfolder.
find_program(consumer_program consumer PATHS "${BINARY_DIR}" "${BINARY_DIR}/${CONFIG}"
             NO_DEFAULT_PATH)
if(NOT consumer_program)
  fail("the build produced no program named consumer in ${BINARY_DIR}")
endif()
run_step("run" "${consumer_program}")
