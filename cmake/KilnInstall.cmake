# Installs the `kiln` binary, the plugins (by their own CMakeLists), the
# public headers and a CMake package, so that another project can
# `find_package(kiln)` and link `kiln::kiln`.

include(CMakePackageConfigHelpers)

set(KILN_PUBLIC_LIBRARIES
  kiln_ir kiln_program kiln_passes kiln_pass_test kiln_backends
  kiln_frontend_formats kiln_tokenizer kiln_graph_json kiln_model kiln_runtime)
set(KILN_INSTALLED_LIBRARIES)
foreach(lib IN LISTS KILN_PUBLIC_LIBRARIES)
  if(TARGET ${lib})
    list(APPEND KILN_INSTALLED_LIBRARIES ${lib})
  endif()
endforeach()

# kiln::kiln: everything a user program needs, as one target.
# (The target is kiln_package: `kiln` is the executable's name.)
add_library(kiln_package INTERFACE)
set_target_properties(kiln_package PROPERTIES EXPORT_NAME kiln)
target_link_libraries(kiln_package INTERFACE ${KILN_INSTALLED_LIBRARIES})

install(TARGETS kiln_package ${KILN_INSTALLED_LIBRARIES}
  EXPORT kilnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln)

foreach(dir ir program passes backends frontend runtime)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/${dir}
    FILES_MATCHING PATTERN "*.h"
    PATTERN "cpu" EXCLUDE PATTERN "vulkan" EXCLUDE PATTERN "opencl" EXCLUDE)
endforeach()

install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/kilnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/kiln_plugin_dir.cc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)
