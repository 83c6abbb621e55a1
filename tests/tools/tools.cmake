# ---- The command line's own parts (tools/) ----------------------------------
# Included from tests/frontend/CMakeLists.txt, beside the tokenize command's
# test in tokenizer.cmake; the commands end to end are in tests/e2e.
kiln_test(tools_interrupt_test
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/tools/interrupt_test.cc
    ${PROJECT_SOURCE_DIR}/tools/interrupt.cc)
