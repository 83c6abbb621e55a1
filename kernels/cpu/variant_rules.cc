// The cpu backend's kernel-variant table (passes/variant_rules.h). It is
// compiled into the compiler (kiln_passes), which reads it to fill each
// dispatch's variant; the cpu plugin runs the kernel its own kernel table
// (kernel_table.cc) registers for that (op, variant).

#include "passes/variant_rules.h"

namespace kiln::passes {

// Every op and fused op has one plain reference kernel. A faster cpu kernel
// becomes a row above the catch-all, keyed on the node's shape and dtype.
VariantTable cpu_variant_table() {
  return {"cpu",
          {
              {.name = "cpu.reference", .pattern = "y:*", .when = {}, .variant = "reference",
               .why = "the cpu plugin runs one plain reference kernel per op"},
          }};
}

}  // namespace kiln::passes
