#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::frontend {

// The longest excerpt of file-supplied text an error message shows.
inline constexpr size_t kQuotedTextLimit = 64;

// `text` as an error message shows a name or string read from a file: in
// single quotes, with control bytes, quotes, backslashes and bytes that are
// not printable ASCII C-escaped (\n, \x01, \xff), and cut after `limit`
// bytes of the original with "... (N bytes)" giving its length. A corrupt
// length field can make a "name" megabytes of binary; this keeps every
// message one short, printable line.
std::string quoted_text(std::string_view text, size_t limit = kQuotedTextLimit);

}  // namespace kiln::frontend
