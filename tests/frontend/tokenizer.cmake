# Tokenizer tests: included from tests/frontend/CMakeLists.txt. The expected
# ids under data/ come from sentencepiece and HF tokenizers (see the scripts
# there); the tests themselves need neither.
kiln_test(frontend_tokenizer_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_fixtures.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_errors_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_hf_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_parts_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_speed_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_spm_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/tokenizer_stream_test.cc
  DEPS
    kiln::kiln_tokenizer
    nlohmann_json::nlohmann_json)

# `kiln tokenize`: the command's source is built into its test, as the kiln
# binary is an executable rather than a library.
kiln_test(tools_tokenize_command_test
  SOURCES
    ${PROJECT_SOURCE_DIR}/tests/tools/tokenize_command_test.cc
    ${PROJECT_SOURCE_DIR}/tools/arg_parser.cc
    ${PROJECT_SOURCE_DIR}/tools/model_argument.cc
    ${PROJECT_SOURCE_DIR}/tools/standard_output.cc
    ${PROJECT_SOURCE_DIR}/tools/text_input.cc
    ${PROJECT_SOURCE_DIR}/tools/tokenize_command.cc
  DEPS
    kiln::kiln_tokenizer)
