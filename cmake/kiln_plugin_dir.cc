// Compiled into every program that links the installed kiln::kiln (the
// package config adds it to the target's interface sources): tells the
// plugin registry (backends/registry.cc) the package's plugin folder,
// KILN_PACKAGE_PLUGIN_DIR, which kilnConfig.cmake computes from its own
// location, so that a moved install prefix still works.

extern "C" const char* kiln_package_plugin_dir() { return KILN_PACKAGE_PLUGIN_DIR; }
