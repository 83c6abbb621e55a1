#include "frontend/byte_reader.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "frontend/byte_writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/frontend/status_matchers.h"

namespace kiln::frontend {
namespace {

using ::kiln::testing::IsOk;
using ::kiln::testing::StatusIs;
using ::testing::ElementsAre;

TEST(ByteReaderTest, ReadsLittleEndianValuesInOrder) {
  const std::vector<uint8_t> bytes = {0x01, 0x34, 0x12, 0xfe, 0xff, 0xff, 0xff,
                                      0x00, 0x00, 0xc0, 0x3f, 'a',  'b'};
  ByteReader reader("test.bin", bytes);
  EXPECT_EQ(*reader.read<uint8_t>("a"), 0x01);
  EXPECT_EQ(*reader.read<uint16_t>("b"), 0x1234);
  EXPECT_EQ(*reader.read<int32_t>("c"), -2);
  EXPECT_EQ(*reader.read<float>("d"), 1.5f);
  EXPECT_EQ(*reader.read_text(2, "e"), "ab");
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ByteReaderTest, TruncatedReadNamesFileFieldAndOffsetAndKeepsCursor) {
  const std::vector<uint8_t> bytes = {1, 2, 3, 4, 5};
  ByteReader reader("model.gguf", bytes);
  ASSERT_THAT(reader.read<uint32_t>("the version"), IsOk());
  EXPECT_THAT(reader.read<uint64_t>("the tensor count"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "model.gguf: truncated reading the tensor count at offset 4: needs 8 "
                       "bytes, 1 remain"));
  EXPECT_EQ(reader.offset(), 4u);
  EXPECT_EQ(*reader.read<uint8_t>("the last byte"), 5);
}

TEST(ByteReaderTest, HugeCountFailsWithoutOverflow) {
  const std::vector<uint8_t> bytes = {1, 2, 3};
  ByteReader reader("x.bin", bytes);
  ASSERT_THAT(reader.read<uint8_t>("a byte"), IsOk());
  EXPECT_THAT(reader.read_bytes(std::numeric_limits<uint64_t>::max(), "a string"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("needs 18446744073709551615 bytes, 2 remain")));
}

TEST(ByteWriterTest, WritesLittleEndianAndPads) {
  ByteWriter writer;
  writer.put<uint16_t>(0x1234);
  writer.put<int8_t>(-1);
  writer.put_bytes("ok");
  writer.pad_to(8);
  EXPECT_THAT(writer.bytes(), ElementsAre(0x34, 0x12, 0xff, 'o', 'k', 0, 0, 0));
  writer.pad_to(8);
  EXPECT_EQ(writer.size(), 8u);
}

}  // namespace
}  // namespace kiln::frontend
