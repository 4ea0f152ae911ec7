# Builds one compile-check target; called by ctest as `cmake -D... -P`.
#   BUILD_TREE, TARGET, CONFIG: the build tree and the target to build.
#   EXPECT=error: the check fails when the build succeeds.
#   EXPECT=success: the check fails when the build fails.
# The compiler output goes to ctest unchanged, which matches the expected error message in it.
# A failed check prints "compile check failed:" for ctest's FAIL_REGULAR_EXPRESSION.

cmake_minimum_required(VERSION 3.20)

set(build_command "${CMAKE_COMMAND}" --build "${BUILD_TREE}" --target "${TARGET}")
if(CONFIG)
  list(APPEND build_command --config "${CONFIG}")
endif()
execute_process(COMMAND ${build_command} RESULT_VARIABLE result)

if(EXPECT STREQUAL "error" AND result EQUAL 0)
  message("compile check failed: ${TARGET} compiled, expected a compile error")
  message(FATAL_ERROR "${TARGET} compiled")
elseif(EXPECT STREQUAL "success" AND NOT result EQUAL 0)
  message("compile check failed: ${TARGET} did not compile (exit code ${result})")
  message(FATAL_ERROR "${TARGET} did not compile")
elseif(NOT EXPECT MATCHES "^(error|success)$")
  message("compile check failed: EXPECT is '${EXPECT}', expected error or success")
  message(FATAL_ERROR "invalid EXPECT")
endif()
message(STATUS "${TARGET}: build exit code ${result}, as expected (${EXPECT})")
