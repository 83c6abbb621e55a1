#include "frontend/npy.h"

#include <array>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/atomic_write.h"
#include "frontend/byte_reader.h"
#include "frontend/byte_writer.h"

namespace kiln::frontend {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// The magic, two version bytes and version 1.0's u16 header length.
constexpr size_t kPreambleBytes = kMagic.size() + 2 + 2;
// numpy pads the header so that the data starts on a multiple of this.
constexpr size_t kHeaderAlignment = 64;
// numpy's own limit (NPY_MAXDIMS); it also keeps the header within the u16
// length of version 1.0.
constexpr size_t kMaxRank = 64;

struct NpyDescr {
  std::string_view descr;
  ir::DType dtype;
};

constexpr auto kDescrs = std::to_array<NpyDescr>({
    {"<f4", ir::DType::f32},
    {"<f2", ir::DType::f16},
    {"<i4", ir::DType::i32},
});

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal, as numpy's format module writes it:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// with exactly these three keys.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, std::string_view text) : path_(path), text_(text) {}

  absl::StatusOr<NpyHeader> parse();

 private:
  absl::Status error(std::string_view expected) const;
  void skip_spaces();
  // Skips spaces, then consumes `c` if it comes next.
  bool consume(char c);
  absl::Status parse_entry(NpyHeader& header, std::set<std::string>& seen);
  absl::StatusOr<std::string> parse_string();
  absl::StatusOr<bool> parse_bool();
  absl::StatusOr<std::vector<int64_t>> parse_shape();
  absl::StatusOr<int64_t> parse_dim();

  const std::string& path_;
  std::string_view text_;
  size_t pos_ = 0;
};

absl::Status HeaderParser::error(std::string_view expected) const {
  const std::string found =
      pos_ < text_.size() ? absl::StrCat("'", absl::CHexEscape(std::string(1, text_[pos_])), "'")
                          : "the end";
  return absl::InvalidArgumentError(absl::StrCat(path_, ": malformed header: expected ",
                                                 std::string(expected), " at character ", pos_,
                                                 ", found ", found));
}

void HeaderParser::skip_spaces() {
  while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
}

bool HeaderParser::consume(char c) {
  skip_spaces();
  if (pos_ == text_.size() || text_[pos_] != c) return false;
  ++pos_;
  return true;
}

absl::StatusOr<NpyHeader> HeaderParser::parse() {
  if (!consume('{')) return error("'{'");
  NpyHeader header;
  std::set<std::string> seen;
  while (!consume('}')) {
    if (absl::Status entry = parse_entry(header, seen); !entry.ok()) return entry;
    if (consume(',')) continue;
    if (consume('}')) break;
    return error("',' or '}'");
  }
  skip_spaces();  // the padding
  if (pos_ != text_.size()) return error("the end of the header");
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (!seen.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(path_, ": header has no '", key, "'"));
    }
  }
  return header;
}

absl::Status HeaderParser::parse_entry(NpyHeader& header, std::set<std::string>& seen) {
  absl::StatusOr<std::string> key = parse_string();
  if (!key.ok()) return key.status();
  if (!consume(':')) return error("':'");
  if (!seen.insert(*key).second) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": header repeats '", *key, "'"));
  }
  if (*key == "descr") {
    absl::StatusOr<std::string> descr = parse_string();
    if (!descr.ok()) return descr.status();
    header.descr = *std::move(descr);
  } else if (*key == "fortran_order") {
    absl::StatusOr<bool> fortran_order = parse_bool();
    if (!fortran_order.ok()) return fortran_order.status();
    header.fortran_order = *fortran_order;
  } else if (*key == "shape") {
    absl::StatusOr<std::vector<int64_t>> shape = parse_shape();
    if (!shape.ok()) return shape.status();
    header.shape = *std::move(shape);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        path_, ": header has key '", *key, "', expected only 'descr', 'fortran_order', 'shape'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HeaderParser::parse_string() {
  skip_spaces();
  const char quote = pos_ < text_.size() ? text_[pos_] : '\0';
  if (quote != '\'' && quote != '"') return error("a quoted string");
  const size_t end = text_.find(quote, ++pos_);
  if (end == std::string_view::npos) return error("a closing quote");
  std::string value(text_.substr(pos_, end - pos_));
  pos_ = end + 1;
  return value;
}

absl::StatusOr<bool> HeaderParser::parse_bool() {
  skip_spaces();
  for (const bool value : {false, true}) {
    const std::string_view word = value ? "True" : "False";
    if (text_.substr(pos_).starts_with(word)) {
      pos_ += word.size();
      return value;
    }
  }
  return error("True or False");
}

absl::StatusOr<std::vector<int64_t>> HeaderParser::parse_shape() {
  if (!consume('(')) return error("'(' starting the shape");
  std::vector<int64_t> shape;
  while (!consume(')')) {
    absl::StatusOr<int64_t> dim = parse_dim();
    if (!dim.ok()) return dim.status();
    shape.push_back(*dim);
    if (consume(',')) continue;
    if (consume(')')) break;
    return error("',' or ')' in the shape");
  }
  return shape;
}

absl::StatusOr<int64_t> HeaderParser::parse_dim() {
  skip_spaces();
  const size_t start = pos_;
  int64_t value = 0;
  for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
    const int digit = text_[pos_] - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      pos_ = start;
      return error("a dimension below 2^63");
    }
    value = value * 10 + digit;
  }
  if (pos_ == start) return error("a dimension");
  if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 wrote longs as 3L
  return value;
}

std::optional<ir::DType> dtype_of_descr(std::string_view descr) {
  for (const NpyDescr& entry : kDescrs) {
    if (entry.descr == descr) return entry.dtype;
  }
  return std::nullopt;
}

std::optional<std::string_view> descr_of_dtype(ir::DType dtype) {
  for (const NpyDescr& entry : kDescrs) {
    if (entry.dtype == dtype) return entry.descr;
  }
  return std::nullopt;
}

// Reads the magic, version and header, leaving `reader` at the data.
absl::StatusOr<NpyHeader> read_header(const std::string& path, ByteReader& reader) {
  const absl::StatusOr<std::string_view> magic = reader.read_text(kMagic.size(), "the magic");
  if (!magic.ok()) return magic.status();
  if (*magic != kMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a .npy file: the magic is not \"\\x93NUMPY\""));
  }
  const absl::StatusOr<std::span<const uint8_t>> version = reader.read_bytes(2, "the version");
  if (!version.ok()) return version.status();
  const int major = (*version)[0];
  const int minor = (*version)[1];
  if (major < 1 || major > 3 || minor != 0) {
    return absl::UnimplementedError(absl::StrCat(path, ": .npy format version ", major, ".", minor,
                                                 ", expected 1.0, 2.0 or 3.0"));
  }
  // Version 1.0 has a u16 header length; 2.0 and 3.0 a u32.
  absl::StatusOr<uint32_t> header_bytes;
  if (major == 1) {
    header_bytes = reader.read<uint16_t>("the header length");
  } else {
    header_bytes = reader.read<uint32_t>("the header length");
  }
  if (!header_bytes.ok()) return header_bytes.status();
  const absl::StatusOr<std::string_view> text = reader.read_text(*header_bytes, "the header");
  if (!text.ok()) return text.status();
  return HeaderParser(path, *text).parse();
}

}  // namespace

absl::StatusOr<TensorData> read_npy(const std::string& path) {
  absl::StatusOr<std::shared_ptr<const MappedFile>> file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  return read_npy(*std::move(file));
}

absl::StatusOr<TensorData> read_npy(std::shared_ptr<const MappedFile> file) {
  const std::string& path = file->path();
  ByteReader reader(path, file->bytes());
  absl::StatusOr<NpyHeader> header = read_header(path, reader);
  if (!header.ok()) return header.status();
  const std::optional<ir::DType> dtype = dtype_of_descr(header->descr);
  if (!dtype) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": dtype '", header->descr,
                     "' is not supported: kiln reads '<f4' (f32), '<f2' (f16) and '<i4' (i32)"));
  }
  if (header->fortran_order) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": the array is stored in Fortran order; kiln reads C order only (save "
              "np.ascontiguousarray(a) instead)"));
  }
  std::string name = std::filesystem::path(path).stem().string();
  return map_tensor(std::move(file), std::move(name), *dtype, std::move(header->shape),
                    reader.offset());
}

absl::Status write_npy(const std::string& path, ir::DType dtype, const std::vector<int64_t>& shape,
                       const void* data) {
  const std::optional<std::string_view> descr = descr_of_dtype(dtype);
  if (!descr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": npy has no ", std::string(ir::dtype_name(dtype)), " type; write f32 instead"));
  }
  const std::optional<uint64_t> bytes = tensor_bytes(dtype, shape);
  if (!bytes || shape.size() > kMaxRank) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot write shape ", shape_string(shape), " to .npy"));
  }
  // Python spells a 1-tuple (3,).
  const std::string dims =
      shape.size() == 1 ? absl::StrCat(shape[0], ",") : absl::StrJoin(shape, ", ");
  std::string dict = absl::StrCat("{'descr': '", std::string(*descr),
                                  "', 'fortran_order': False, 'shape': (", dims, "), }");
  // Spaces, then a newline, pad the header to the alignment.
  const size_t unpadded = kPreambleBytes + dict.size() + 1;
  dict.append((kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment, ' ');
  dict.push_back('\n');

  ByteWriter header;
  header.put_bytes(kMagic);
  header.put<uint8_t>(1);
  header.put<uint8_t>(0);
  header.put<uint16_t>(static_cast<uint16_t>(dict.size()));
  header.put_bytes(dict);
  return write_file_atomically(
      path, {header.bytes(), {static_cast<const uint8_t*>(data), static_cast<size_t>(*bytes)}});
}

}  // namespace kiln::frontend
