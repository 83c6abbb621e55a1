#include "runtime/stop_strings.h"

#include "gtest/gtest.h"

namespace kiln::runtime {
namespace {

TEST(StopStringsTest, PassesTextThroughWithoutStops) {
  StopStrings stops({});
  EXPECT_EQ(stops.push("Hello"), "Hello");
  EXPECT_EQ(stops.push(", world"), ", world");
  EXPECT_EQ(stops.finish(), "");
  EXPECT_FALSE(stops.stopped());
}

TEST(StopStringsTest, HoldsBackAPossibleStartAndReleasesItWhenSettled) {
  StopStrings stops({"\n\n"});
  EXPECT_EQ(stops.push("line one\n"), "line one");
  EXPECT_EQ(stops.push("line two"), "\nline two");
  EXPECT_FALSE(stops.stopped());
}

TEST(StopStringsTest, StopsAcrossPiecesAndDropsTheStopString) {
  StopStrings stops({"END"});
  EXPECT_EQ(stops.push("abc E"), "abc ");
  EXPECT_EQ(stops.push("N"), "");
  EXPECT_EQ(stops.push("D and more"), "");
  EXPECT_TRUE(stops.stopped());
  EXPECT_EQ(stops.finish(), "");
  EXPECT_EQ(stops.push("later"), "");
}

TEST(StopStringsTest, TheEarliestOfSeveralStopsWins) {
  StopStrings stops({"world", "o, w"});
  EXPECT_EQ(stops.push("Hello, world"), "Hell");
  EXPECT_TRUE(stops.stopped());
}

TEST(StopStringsTest, FinishReleasesHeldText) {
  StopStrings stops({"STOP"});
  EXPECT_EQ(stops.push("ends with ST"), "ends with ");
  EXPECT_EQ(stops.finish(), "ST");
}

}  // namespace
}  // namespace kiln::runtime
