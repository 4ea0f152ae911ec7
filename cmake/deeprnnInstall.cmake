# Install rules: the headers, the exported target deeprnn::deeprnn and the package
# configuration that find_package(deeprnn CONFIG) reads.
include(CMakePackageConfigHelpers)

set(DEEPRNN_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/deeprnn" CACHE STRING
    "Folder, relative to the install prefix, of deeprnnConfig.cmake and its companions")

install(TARGETS deeprnn EXPORT deeprnnTargets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/deeprnn"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT deeprnnTargets
        NAMESPACE deeprnn::
        DESTINATION "${DEEPRNN_INSTALL_CMAKEDIR}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/deeprnnConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/deeprnnConfig.cmake"
  INSTALL_DESTINATION "${DEEPRNN_INSTALL_CMAKEDIR}")
# Header-only, so one installed copy serves 32-bit and 64-bit consumers alike.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/deeprnnConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/deeprnnConfig.cmake"
              "${PROJECT_BINARY_DIR}/deeprnnConfigVersion.cmake"
        DESTINATION "${DEEPRNN_INSTALL_CMAKEDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/deeprnn")
