# Helpers that give every kiln target the same warnings, include root and
# sanitizer flags, so no folder repeats them.

set(KILN_WARNINGS -Wall -Wextra)
set(KILN_SANITIZER_FLAGS)
if(KILN_SANITIZE)
  set(KILN_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
  add_compile_options(${KILN_SANITIZER_FLAGS})
  add_link_options(${KILN_SANITIZER_FLAGS})
endif()

# The interpreter that has NumPy: the reference scripts under tests/ need it,
# and a pyenv python3 earlier on PATH usually lacks it.
find_program(KILN_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT KILN_PYTHON)
  find_program(KILN_PYTHON NAMES python3)
endif()

# kiln_library(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
function(kiln_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(kiln::${name} ALIAS ${name})
  target_compile_options(${name} PRIVATE ${KILN_WARNINGS})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/kiln>)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# kiln_test(NAME SOURCES ... [DEPS ...]) adds a gtest binary run by ctest.
function(kiln_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${KILN_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    KILN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    KILN_BINARY_DIR="${PROJECT_BINARY_DIR}"
    KILN_PYTHON="${KILN_PYTHON}")
  # End-to-end suites (tests/e2e) are labelled e2e, the rest unit: the
  # sanitizer job runs the unit label only.
  set(label unit)
  if(CMAKE_CURRENT_SOURCE_DIR MATCHES "/tests/e2e$")
    set(label e2e)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "KILN_PLUGIN_PATH=${PROJECT_BINARY_DIR}/backends" LABELS ${label})
endfunction()
