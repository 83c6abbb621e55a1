# ---- JSON graph format (kiln_graph_json) -------------------------------------
# Included from this folder's CMakeLists.txt; reads examples/ at the source
# root through KILN_SOURCE_DIR.
kiln_test(graph_json_test
  SOURCES graph_json_test.cc
  DEPS kiln::kiln_graph_json kiln::kiln_frontend_formats kiln::kiln_ir)
