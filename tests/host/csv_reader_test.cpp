// The CSV reader: the bundled data read correctly, and every kind of bad input named precisely.
#include <gtest/gtest.h>

#include <string>

#include "host/csv_reader.h"

namespace {

using edgelstm::host::ColumnRequest;
using edgelstm::host::InputError;
using edgelstm::host::parse_table;

// The error message parse_table gives for `content`, or "" if it parses.
std::string error_for(const std::string& content, bool regular = true) {
  try {
    (void)parse_table(content, "meter.csv", "timestamp", {ColumnRequest{"demand_mw", true}}, regular);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(CsvReader, ReadsTheBundledTaylorSeries) {
  const auto table = edgelstm::host::read_table(EDGELSTM_SOURCE_DIR "/data/taylor_england_wales_halfhourly_demand_2000.csv",
                                               "timestamp", {ColumnRequest{"demand_mw", true}}, true);
  ASSERT_EQ(table.rows(), 4032u);
  EXPECT_EQ(table.numbers[0][0], 22262.0);
  EXPECT_EQ(table.numbers[0][1], 21756.0);
  EXPECT_EQ(table.times[1] - table.times[0], 1800);
  std::int64_t first = 0;
  ASSERT_TRUE(edgelstm::host::parse_timestamp("2000-06-05T00:00:00", &first));
  EXPECT_EQ(table.times[0], first);
  EXPECT_EQ(table.lines.back(), 4033);
}

TEST(CsvReader, ReadsTheBundledSeattleSeriesWithTextLabels) {
  const auto table = edgelstm::host::read_table(EDGELSTM_SOURCE_DIR "/data/seattle_weather_daily_2012_2015.csv", "date",
                                               {ColumnRequest{"temp_max", true}, ColumnRequest{"weather", false}}, true);
  ASSERT_EQ(table.rows(), 1461u);
  EXPECT_EQ(table.text[1][0], "drizzle");
  EXPECT_EQ(table.times[1] - table.times[0], 86400);
}

TEST(CsvReader, AcceptsCrLfAndTrailingNewlines) {
  EXPECT_EQ(error_for("timestamp,demand_mw\r\n2000-01-01T00:00,1\r\n2000-01-01T00:30,2\r\n\n"), "");
}

TEST(CsvReader, NamesFileLineColumnAndWhatWasExpected) {
  const std::string header = "timestamp,demand_mw\n";
  EXPECT_EQ(error_for(""), "meter.csv:1: the file is empty; expected a header line");
  EXPECT_EQ(error_for(header), "meter.csv:2: no data rows after the header");
  EXPECT_EQ(error_for("time,demand_mw\n2000-01-01T00:00,1\n"),
            "meter.csv:1: column 'timestamp': missing from the header (columns: time, demand_mw)");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,abc\n"),
            "meter.csv:3: column 'demand_mw': expected a number, found 'abc'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,\n"),
            "meter.csv:3: column 'demand_mw': expected a number, found ''");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,nan\n"),
            "meter.csv:2: column 'demand_mw': expected a finite number, found 'nan'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1e999\n"),
            "meter.csv:2: column 'demand_mw': expected a number, found '1e999'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,inf\n"),
            "meter.csv:2: column 'demand_mw': expected a finite number, found 'inf'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1,7\n"),
            "meter.csv:2: expected 2 comma-separated cells as in the header, found 3");
  EXPECT_EQ(error_for(header + "2000-13-01T00:00,1\n"),
            "meter.csv:2: column 'timestamp': expected a timestamp YYYY-MM-DD[THH:MM[:SS]] or YYYY/MM/DD, found '2000-13-01T00:00'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:30,1\n2000-01-01T00:00,2\n"),
            "meter.csv:3: column 'timestamp': timestamps must increase; '2000-01-01T00:00' comes before the previous row's");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:00,2\n"),
            "meter.csv:3: column 'timestamp': duplicate timestamp '2000-01-01T00:00'");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,2\n2000-01-01T01:30,3\n"),
            "meter.csv:4: column 'timestamp': gap in a regular series: expected a step of 1800 s, found 3600 s (at '2000-01-01T01:30')");
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n\n2000-01-01T00:30,2\n"), "meter.csv:3: empty line inside the data");
  // Without the regularity requirement the gap is accepted.
  EXPECT_EQ(error_for(header + "2000-01-01T00:00,1\n2000-01-01T00:30,2\n2000-01-01T01:30,3\n", false), "");
}

TEST(CsvReader, MissingFileIsNamed) {
  try {
    (void)edgelstm::host::read_table("no/such/file.csv", "timestamp", {}, true);
    FAIL() << "no error";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(), "no/such/file.csv: cannot open the file");
  }
}

TEST(CsvReader, TimestampsFollowTheGregorianCalendar) {
  std::int64_t t = 0;
  ASSERT_TRUE(edgelstm::host::parse_timestamp("1970-01-01", &t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(edgelstm::host::parse_timestamp("2000-02-29T12:00:01", &t));
  EXPECT_EQ(t, 951825601);
  EXPECT_FALSE(edgelstm::host::parse_timestamp("1900-02-29", &t));
  EXPECT_FALSE(edgelstm::host::parse_timestamp("2000-01-01T24:00", &t));
  EXPECT_FALSE(edgelstm::host::parse_timestamp("2000-01-01T00:00:00Z", &t));
}

}  // namespace
