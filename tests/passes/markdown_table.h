#pragma once

// Reading a table out of a Markdown document, for tests that check what a
// doc quotes (docs/fusion.md's dispatch counts) against what the program
// does, and print the corrected rows when they differ.

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::testing {

// A pipe table: its header cells and its rows' cells, trimmed (the
// `|---|` line is neither). Cells holding a `|` are not supported.
struct MarkdownTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

inline std::string read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

inline std::string_view trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") + 1 - begin);
}

// The cells of one `| a | b |` line.
inline std::vector<std::string> markdown_cells(std::string_view line) {
  line = trimmed(line);
  if (line.starts_with('|')) line.remove_prefix(1);
  if (line.ends_with('|')) line.remove_suffix(1);
  std::vector<std::string> cells;
  for (size_t begin = 0;;) {
    const size_t end = line.find('|', begin);
    cells.emplace_back(trimmed(line.substr(begin, end == std::string_view::npos ? end : end - begin)));
    if (end == std::string_view::npos) return cells;
    begin = end + 1;
  }
}

// One row as a Markdown line, ready to paste into the doc.
inline std::string markdown_row(const std::vector<std::string>& cells) {
  std::string row = "|";
  for (const std::string& cell : cells) row += " " + cell + " |";
  return row;
}

// The first table in `markdown` whose header starts with the cells
// `header_prefix`, or nullopt: tables are found by their columns, not by
// the prose around them, so a doc may reword its sentences freely.
inline std::optional<MarkdownTable> find_markdown_table(std::string_view markdown,
                                                        const std::vector<std::string>& header_prefix) {
  std::vector<std::string_view> lines;
  for (size_t begin = 0; begin <= markdown.size();) {
    const size_t end = std::min(markdown.find('\n', begin), markdown.size());
    lines.push_back(markdown.substr(begin, end - begin));
    begin = end + 1;
  }
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (!trimmed(lines[i]).starts_with('|')) continue;
    std::vector<std::string> header = markdown_cells(lines[i]);
    if (header.size() < header_prefix.size() ||
        !std::equal(header_prefix.begin(), header_prefix.end(), header.begin())) {
      continue;
    }
    MarkdownTable table{.header = std::move(header), .rows = {}};
    for (size_t row = i + 2; row < lines.size(); ++row) {  // i + 1 is |---|
      if (!trimmed(lines[row]).starts_with('|')) break;
      table.rows.push_back(markdown_cells(lines[row]));
    }
    return table;
  }
  return std::nullopt;
}

}  // namespace kiln::testing
